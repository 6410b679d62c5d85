/* ServiceNow change requests and incidents -> canonical events. ServiceNow
 * has no native webhooks: a business rule or flow sends the record as JSON
 * (an Outbound REST Message), every value a string, reference and choice
 * fields either as plain strings or as {"value", "display_value", "link"}
 * objects; a Table API answer ({"result": {...}}) is accepted too. The table
 * is the record's sys_class_name (or the X-ServiceNow-Table header); the
 * idempotency key is sys_id + sys_mod_count, which changes with every update
 * of the record. Change requests describe the governed change (their number
 * is the change id); incidents carry the change that caused them.
 * docs/events.md has the tables. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "normalize_fields.h"
#include "normalize_sources.h"

static const char s_supported[] = "change_request and incident records";

/* A field's value: the raw value, or with display the display value (for
 * references, whose raw value is a sys_id). */
static const char *s_val(const cJSON *rec, const char *field, bool display)
{
    const cJSON *v = cairn_nf_at(rec, field);
    if (cJSON_IsString(v))
        return *v->valuestring ? cairn_json_str(v) : NULL;
    if (!cJSON_IsObject(v))
        return NULL;
    const char *first = cairn_nf_str(v, display ? "display_value" : "value");
    return first ? first : cairn_nf_str(v, display ? "value" : "display_value");
}

static bool s_is_sys_id(const char *s)
{
    if (!s || strlen(s) != 32)
        return false;
    for (const char *p = s; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return false;
    return true;
}

/* The host of the first reference link in the record ("acme.service-now.com"). */
static bool s_instance(const cJSON *rec, char *out, size_t outlen)
{
    const cJSON *v;
    cairn_json_foreach(v, rec)
    {
        if (cJSON_IsObject(v) && cairn_nf_host(cairn_nf_str(v, "link"), out, outlen))
            return true;
    }
    return false;
}

static void s_lower(const char *in, char *out, size_t outlen)
{
    size_t i = 0;
    for (; in && in[i] && i + 1 < outlen; i++)
        out[i] = in[i] == ' ' ? '_' : (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

/* A choice value by its code, or the display text lower-cased. */
static const char *s_choice(const char *value, const char *const codes[][2], char *buf,
                            size_t buflen)
{
    if (!value)
        return NULL;
    for (size_t i = 0; codes[i][0]; i++)
        if (strcmp(value, codes[i][0]) == 0)
            return codes[i][1];
    s_lower(value, buf, buflen);
    for (size_t i = 0; codes[i][0]; i++)
        if (strcmp(buf, codes[i][1]) == 0)
            return codes[i][1];
    return buf;
}

/* ServiceNow's risk choice list (1 Very High .. 4 Low) on Cairn's scale. */
static const char *s_risk(const char *value, char *buf, size_t buflen)
{
    static const char *const codes[][2] = {
        {"1", "critical"}, {"2", "high"}, {"3", "medium"}, {"4", "low"}, {NULL, NULL}};
    const char *r = s_choice(value, codes, buf, buflen);
    if (r == buf && strcmp(buf, "very_high") == 0)
        return "critical";
    if (r == buf && strcmp(buf, "moderate") == 0)
        return "medium";
    return r;
}

/* Custom fields an instance may add to state the technical correlation. */
static int s_custom(Cairn__V1__Event *ev, const cJSON *rec)
{
    Cairn__V1__Correlation *c = ev->correlation;
    int rc = cairn_nf_set(&c->environment, s_val(rec, "u_environment", true));
    if (rc == 0)
        rc = cairn_nf_default(&c->environment, s_val(rec, "u_cairn_environment", true));
    if (rc == 0)
        rc = cairn_nf_set(&c->repository, s_val(rec, "u_repository", false));
    if (rc == 0)
        rc = cairn_nf_set(&c->commit_sha, s_val(rec, "u_commit_sha", false));
    if (rc == 0)
        rc = cairn_nf_default(&c->commit_sha, s_val(rec, "u_commit", false));
    if (rc == 0)
        rc = cairn_nf_set(&c->service, s_val(rec, "business_service", true));
    if (rc == 0)
        rc = cairn_nf_default(&c->service, s_val(rec, "cmdb_ci", true));
    return rc;
}

static int s_change_request(const cJSON *rec, Cairn__V1__Event *ev, const char *mod)
{
    static const char *const states[][2] = {
        {"-5", "new"},       {"-4", "assess"},    {"-3", "authorize"},
        {"-2", "scheduled"}, {"-1", "implement"}, {"0", "review"},
        {"3", "closed"},     {"4", "canceled"},   {NULL, NULL}};
    Cairn__V1__Governance *g = ev->governance;
    char buf[64], risk[64], type[64];
    const char *number = s_val(rec, "number", false);
    const char *cab = s_val(rec, "cab_required", false);
    int rc = cairn_nf_type(ev, "com.servicenow.change.%s",
                           mod && strcmp(mod, "0") == 0 ? "created" : "updated");
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->change_id, number);
    if (rc == 0)
        rc = s_custom(ev, rec);
    s_lower(s_val(rec, "type", false), type, sizeof type);
    if (rc == 0)
        rc = cairn_nf_set(&g->change_type, type);
    if (rc == 0)
        rc = cairn_nf_set(&g->risk, s_risk(s_val(rec, "risk", false), risk, sizeof risk));
    if (rc == 0 && cab)
        rc = cairn_nf_set(&g->cab, strcasecmp(cab, "true") == 0 ? "required" : "not_required");
    if (rc == 0)
        rc = cairn_nf_ext(ev, "state",
                          s_choice(s_val(rec, "state", false), states, buf, sizeof buf));
    if (rc == 0) {
        s_lower(s_val(rec, "approval", false), buf, sizeof buf);
        rc = cairn_nf_ext(ev, "approval", buf);
    }
    if (rc == 0)
        rc = cairn_nf_ext(ev, "onhold", s_val(rec, "on_hold", false));
    return rc;
}

/* A reference to a change (incident caused_by / rfc): its number when the
 * sender sent display values; a bare sys_id cannot name the change. */
static int s_incident_change(Cairn__V1__Event *ev, const cJSON *rec, const char *field)
{
    const char *ref = s_val(rec, field, true);
    if (!ref)
        return 0;
    int rc =
        strcmp(field, "caused_by") == 0 ? cairn_nf_set(&ev->governance->caused_by_change, ref) : 0;
    if (rc == 0 && !s_is_sys_id(ref))
        rc = cairn_nf_default(&ev->correlation->change_id, ref);
    return rc;
}

static int s_incident(const cJSON *rec, Cairn__V1__Event *ev, const char *mod)
{
    static const char *const states[][2] = {
        {"1", "new"},    {"2", "in_progress"}, {"3", "on_hold"}, {"6", "resolved"},
        {"7", "closed"}, {"8", "canceled"},    {NULL, NULL}};
    static const char *const priorities[] = {"critical", "high", "moderate", "low", "planning"};
    Cairn__V1__Governance *g = ev->governance;
    char buf[64];
    const char *state = s_choice(s_val(rec, "state", false), states, buf, sizeof buf);
    int rc;
    if (state && (strcmp(state, "resolved") == 0 || strcmp(state, "closed") == 0))
        rc = cairn_nf_type(ev, "dev.cdevents.incident.resolved.0.3.0");
    else if (mod && strcmp(mod, "0") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.incident.reported.0.3.0");
    else
        rc = cairn_nf_type(ev, "com.servicenow.incident.updated");
    if (rc == 0)
        rc = cairn_nf_ext(ev, "state", state);
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->incident_id, s_val(rec, "number", false));
    if (rc == 0)
        rc = s_custom(ev, rec);
    if (rc == 0)
        rc = s_incident_change(ev, rec, "caused_by");
    if (rc == 0)
        rc = s_incident_change(ev, rec, "rfc");
    /* "1" or "1 - Critical": the leading digit is the priority. */
    const char *prio = s_val(rec, "priority", false);
    if (rc == 0 && prio && prio[0] >= '1' && prio[0] <= '5')
        rc = cairn_nf_set(&g->incident_severity, priorities[prio[0] - '1']);
    return rc;
}

int cairn_normalize_servicenow(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                               size_t keylen, char *err, size_t errlen)
{
    const cJSON *rec = in->body;
    if (cJSON_IsObject(cairn_nf_at(rec, "result")))
        rec = cairn_nf_at(rec, "result");
    if (!cJSON_IsObject(rec))
        return cairn_nf_fail(err, errlen,
                             "a ServiceNow message must be a JSON object holding the record's "
                             "fields (%s)",
                             s_supported);
    const char *table = s_val(rec, "sys_class_name", false);
    if (!table)
        table = cairn_ingest_header(in->headers, in->n_headers, "x-servicenow-table");
    if (!table || !*table)
        return cairn_nf_fail(err, errlen,
                             "the record does not say its table; include sys_class_name or send "
                             "the X-ServiceNow-Table header (supported: %s)",
                             s_supported);
    bool change = strcmp(table, "change_request") == 0, incident = strcmp(table, "incident") == 0;
    if (!change && !incident)
        return cairn_nf_fail(err, errlen,
                             "ServiceNow table '%.64s' is not supported; supported: %s", table,
                             s_supported);
    const char *number = s_val(rec, "number", false);
    if (!number)
        return cairn_nf_fail(
            err, errlen, "the %s record has no 'number'; send it with the record's fields", table);
    const char *sys_id = s_val(rec, "sys_id", false);
    const char *mod = s_val(rec, "sys_mod_count", false);
    const char *version = mod ? mod : s_val(rec, "sys_updated_on", false);
    char instance[256] = "", source[400];
    const char *named = cairn_ingest_header(in->headers, in->n_headers, "x-servicenow-instance");
    if (named && *named)
        snprintf(instance, sizeof instance, "%s", named);
    else if (!s_instance(rec, instance, sizeof instance))
        snprintf(instance, sizeof instance, "servicenow");
    snprintf(source, sizeof source, "%s/%s", instance, table);

    int rc = change ? s_change_request(rec, ev, mod) : s_incident(rec, ev, mod);
    if (rc == 0)
        rc = cairn_nf_set(&ev->source, source);
    if (rc == 0)
        rc = cairn_nf_set(&ev->subject, number);
    if (rc == 0)
        rc = cairn_nf_set(&ev->governance->actor, s_val(rec, "sys_updated_by", false));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookevent", table);
    if (rc == 0)
        rc = cairn_nf_ext(ev, "sysid", sys_id);
    if (rc == 0 && sys_id && version) {
        size_t len = strlen(table) + strlen(sys_id) + strlen(version) + 3;
        char *material = malloc(len);
        if (!material)
            return -ENOMEM;
        snprintf(material, len, "%s:%s:%s", table, sys_id, version);
        cairn_nf_key(key, keylen, "servicenow", material);
        rc = cairn_nf_set(&ev->id, strchr(material, ':') + 1);
        free(material);
    }
    return rc;
}
