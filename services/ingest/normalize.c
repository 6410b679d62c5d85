/* Normalization of CloudEvents/CDEvents data into the canonical Correlation,
 * Governance and Evidence messages. Every value policy relies on is checked
 * for its shape: a count that is not a count is an error, not a zero, so a
 * malformed test report can never read as "0 failed". */
#include "normalize.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "normalize_sources.h"

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return CAIRN_EINVALID;
}

static const char *s_kind(const cJSON *v)
{
    return cairn_json_kind(v);
}

/* Replaces a protobuf-c string field with a malloc'd copy of value. */
static int s_set(char **field, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    if (*field && *field != protobuf_c_empty_string)
        free(*field);
    *field = copy;
    return 0;
}

static bool s_empty(const char *s)
{
    return !s || !*s;
}

bool cairn_normalize_is_cdevent(const cJSON *data)
{
    return cJSON_IsObject(data) && cJSON_IsObject(cairn_json_get(data, "context")) &&
           cJSON_IsObject(cairn_json_get(data, "subject"));
}

static const cJSON *s_present(const cJSON *v)
{
    return (v && !cJSON_IsNull(v)) ? v : NULL;
}

const cJSON *cairn_normalize_lookup(const cJSON *data, const char *key)
{
    if (!cJSON_IsObject(data))
        return NULL;
    if (!cairn_normalize_is_cdevent(data))
        return s_present(cairn_json_get(data, key));

    const cJSON *custom = cairn_json_get(data, "customData");
    const cJSON *v = cJSON_IsObject(custom) ? s_present(cairn_json_get(custom, key)) : NULL;
    if (v)
        return v;
    const cJSON *content = cairn_json_get(cairn_json_get(data, "subject"), "content");
    return cJSON_IsObject(content) ? s_present(cairn_json_get(content, key)) : NULL;
}

/* True when type contains the dotted segment sequence seg ("build.finished"),
 * bounded by dots or the ends of the type. */
static bool s_type_has(const char *type, const char *seg)
{
    size_t n = strlen(seg);
    for (const char *p = strstr(type, seg); p; p = strstr(p + 1, seg)) {
        bool start_ok = p == type || p[-1] == '.';
        bool end_ok = p[n] == '\0' || p[n] == '.';
        if (start_ok && end_ok)
            return true;
    }
    return false;
}

static bool s_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

const char *cairn_normalize_evidence_kind(const char *type)
{
    if (!type)
        return "";
    if (s_prefix(type, "dev.cdeventsx.cairn-scan."))
        return "scan";
    if (s_prefix(type, "dev.cdeventsx.cairn-verification."))
        return "verification";
    if (s_type_has(type, "testsuiterun.finished") || s_type_has(type, "testcaserun.finished"))
        return "test_report";
    if (s_type_has(type, "build.finished") || s_type_has(type, "pipelinerun.finished"))
        return "build";
    if (s_type_has(type, "service.deployed") || s_type_has(type, "service.upgraded") ||
        s_type_has(type, "service.rolledback"))
        return "deployment";
    return "";
}

/* A scalar identifier: a string, an integer (PR numbers), or an object with a
 * string "id" (CDEvents references such as {"id":"acme/payments"}). */
static int s_ident(const cJSON *v, const char *key, char *buf, size_t buflen, char *err,
                   size_t errlen)
{
    if (cJSON_IsObject(v) && cJSON_IsString(cairn_json_get(v, "id")))
        v = cairn_json_get(v, "id");
    if (cJSON_IsString(v)) {
        snprintf(buf, buflen, "%s", cairn_json_str(v));
        return 0;
    }
    if (cairn_json_is_integer(v)) {
        snprintf(buf, buflen, "%" PRId64, cairn_json_integer(v));
        return 0;
    }
    return s_fail(err, errlen, "data field '%s' must be a string, got %s", key, s_kind(v));
}

/* Sets *field from lookup(key) unless the value is absent or empty. The
 * value may be long (a purl, a URI): it is copied through a heap buffer. */
static int s_str(const cJSON *data, const char *key, char **field, char *err, size_t errlen)
{
    const cJSON *v = cairn_normalize_lookup(data, key);
    if (!v)
        return 0;
    if (cJSON_IsObject(v) && cJSON_IsString(cairn_json_get(v, "id")))
        v = cairn_json_get(v, "id");
    if (cJSON_IsString(v))
        return *v->valuestring ? s_set(field, cairn_json_str(v)) : 0;
    char small[32];
    int rc = s_ident(v, key, small, sizeof small, err, errlen);
    return rc < 0 ? rc : s_set(field, small);
}

static int s_push(char ***arr, size_t *n, const char *value)
{
    char **grown = realloc(*arr, (*n + 1) * sizeof **arr);
    if (!grown)
        return -ENOMEM;
    *arr = grown;
    grown[*n] = strdup(value);
    if (!grown[*n])
        return -ENOMEM;
    (*n)++;
    return 0;
}

static void s_clear_list(char ***arr, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free((*arr)[i]);
    free(*arr);
    *arr = NULL;
    *n = 0;
}

/* A list of strings: a JSON list of strings (or integers), a single string,
 * or for labels a {"name":"value"} map, kept as "name=value". */
static int s_list(const cJSON *data, const char *key, char ***arr, size_t *n, char *err,
                  size_t errlen)
{
    const cJSON *v = cairn_normalize_lookup(data, key);
    if (!v)
        return 0;
    s_clear_list(arr, n);
    if (cJSON_IsString(v))
        return s_push(arr, n, cairn_json_str(v));
    if (cJSON_IsObject(v) && strcmp(key, "labels") == 0) {
        const char *name;
        const cJSON *item;
        cairn_json_foreach(item, v)
        {
            name = item->string;
            if (!cJSON_IsString(item))
                return s_fail(err, errlen,
                              "data field 'labels' entry '%s' must be a string, got %s", name,
                              s_kind(item));
            size_t len = strlen(name) + strlen(item->valuestring) + 2;
            char *pair = malloc(len);
            if (!pair)
                return -ENOMEM;
            snprintf(pair, len, "%s=%s", name, cairn_json_str(item));
            int rc = s_push(arr, n, pair);
            free(pair);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    if (!cJSON_IsArray(v))
        return s_fail(err, errlen, "data field '%s' must be a list of strings, got %s", key,
                      s_kind(v));
    size_t i = 0;
    const cJSON *item;
    cairn_json_foreach(item, v)
    {
        char small[32];
        const char *text;
        if (cJSON_IsString(item)) {
            text = cairn_json_str(item);
        } else if (cairn_json_is_integer(item)) {
            snprintf(small, sizeof small, "%" PRId64, cairn_json_integer(item));
            text = small;
        } else {
            return s_fail(err, errlen, "data field '%s' item %zu must be a string, got %s", key, i,
                          s_kind(item));
        }
        int rc = s_push(arr, n, text);
        if (rc < 0)
            return rc;
        i++;
    }
    return 0;
}

/* A count: a non-negative JSON integer or a string of digits (ITSM tools send
 * every value as a string) that fits in 32 bits. */
static int s_count_value(const cJSON *v, const char *name, uint32_t *out, char *err, size_t errlen)
{
    long long value = -1;
    if (cairn_json_is_integer(v)) {
        value = cairn_json_integer(v);
    } else if (cJSON_IsString(v)) {
        const char *s = cairn_json_str(v);
        char *end = NULL;
        errno = 0;
        if (*s >= '0' && *s <= '9') {
            value = strtoll(s, &end, 10);
            if (errno || *end)
                value = -1;
        }
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d >= 0 && d <= UINT32_MAX && floor(d) == d)
            value = (long long)d;
    }
    if (value < 0 || value > (long long)UINT32_MAX)
        return s_fail(err, errlen, "data field '%s' must be a non-negative integer, got %s", name,
                      cJSON_IsString(v) ? "a string that is not one" : s_kind(v));
    *out = (uint32_t)value;
    return 0;
}

static int s_count(const cJSON *data, const char *key, uint32_t *out, bool *seen, char *err,
                   size_t errlen)
{
    const cJSON *v = cairn_normalize_lookup(data, key);
    if (!v)
        return 0;
    *seen = true;
    return s_count_value(v, key, out, err, errlen);
}

static int s_findings(const cJSON *data, Cairn__V1__Evidence *e, bool *seen, char *err,
                      size_t errlen)
{
    const cJSON *v = cairn_normalize_lookup(data, "findings");
    if (!v)
        return 0;
    if (!cJSON_IsObject(v))
        return s_fail(err, errlen,
                      "data field 'findings' must be an object like {\"critical\":0,\"high\":1}, "
                      "got %s",
                      s_kind(v));
    static const char *const names[] = {"critical", "high", "medium", "low"};
    uint32_t *slots[] = {&e->findings_critical, &e->findings_high, &e->findings_medium,
                         &e->findings_low};
    *seen = true;
    for (size_t i = 0; i < 4; i++) {
        const cJSON *item = s_present(cairn_json_get(v, names[i]));
        if (!item)
            continue;
        char name[32];
        snprintf(name, sizeof name, "findings.%s", names[i]);
        int rc = s_count_value(item, name, slots[i], err, errlen);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int s_coverage(const cJSON *data, Cairn__V1__Evidence *e, char *err, size_t errlen)
{
    const cJSON *v = cairn_normalize_lookup(data, "coverage_line_pct");
    if (!v)
        return 0;
    double pct = -1;
    if (cJSON_IsNumber(v)) {
        pct = v->valuedouble;
    } else if (cJSON_IsString(v)) {
        char *end = NULL;
        pct = strtod(cairn_json_str(v), &end);
        if (end == cairn_json_str(v) || *end)
            pct = -1;
    }
    if (!(pct >= 0 && pct <= 100))
        return s_fail(err, errlen, "data field 'coverage_line_pct' must be a number from 0 to 100");
    e->coverage_line_pct = pct;
    e->has_coverage = true;
    return 0;
}

/* CDEvents v0.4 used "pass"/"fail" where v0.5 says "success"/"failure". */
static int s_outcome(const cJSON *data, Cairn__V1__Evidence *e, char *err, size_t errlen)
{
    int rc = s_str(data, "outcome", &e->outcome, err, errlen);
    if (rc < 0)
        return rc;
    if (strcmp(e->outcome, "pass") == 0)
        return s_set(&e->outcome, "success");
    if (strcmp(e->outcome, "fail") == 0)
        return s_set(&e->outcome, "failure");
    return 0;
}

/* The CDEvent subject id, or the CloudEvents subject when data is not a CDEvent. */
static const char *s_subject_id(const Cairn__V1__Event *ev, const cJSON *data)
{
    if (cairn_normalize_is_cdevent(data)) {
        const cJSON *id = cairn_json_get(cairn_json_get(data, "subject"), "id");
        return cJSON_IsString(id) ? cairn_json_str(id) : "";
    }
    return ev->subject ? ev->subject : "";
}

static int s_default(char **field, const char *value)
{
    return (s_empty(*field) && !s_empty(value)) ? s_set(field, value) : 0;
}

static int s_correlation(Cairn__V1__Event *ev, const cJSON *data, char *err, size_t errlen)
{
    Cairn__V1__Correlation *c = ev->correlation;
    const struct {
        const char *key;
        char **field;
    } keys[] = {
        {"change", &c->change_id},
        {"repository", &c->repository},
        {"commit", &c->commit_sha},
        {"pr", &c->pr_number},
        {"release", &c->release_id},
        {"artifact", &c->artifact_digest},
        {"artifactId", &c->artifact_digest},
        {"environment", &c->environment},
        {"service", &c->service},
        {"incident", &c->incident_id},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!s_empty(*keys[i].field))
            continue; /* "artifact" wins over CDEvents' "artifactId" */
        int rc = s_str(data, keys[i].key, keys[i].field, err, errlen);
        if (rc < 0)
            return rc;
    }

    const char *type = ev->type ? ev->type : "";
    const char *subject_id = s_subject_id(ev, data);
    int rc = 0;
    if (s_prefix(type, "dev.cdevents.change."))
        rc = s_default(&c->change_id, subject_id);
    else if (s_prefix(type, "dev.cdevents.artifact."))
        rc = s_default(&c->artifact_digest, subject_id);
    else if (s_prefix(type, "dev.cdevents.service."))
        rc = s_default(&c->service, subject_id);
    else if (s_prefix(type, "dev.cdevents.incident."))
        rc = s_default(&c->incident_id, subject_id);
    return rc;
}

static int s_decision(const char *text, char *err, size_t errlen, const char **out)
{
    if (strcmp(text, "granted") == 0 || strcmp(text, "approved") == 0)
        *out = "granted";
    else if (strcmp(text, "rejected") == 0 || strcmp(text, "denied") == 0)
        *out = "rejected";
    else
        return s_fail(err, errlen, "data field 'decision' is '%s'; use \"granted\" or \"rejected\"",
                      text);
    return 0;
}

static int s_governance(Cairn__V1__Event *ev, const cJSON *data, char *err, size_t errlen)
{
    Cairn__V1__Governance *g = ev->governance;
    const struct {
        const char *key;
        char **field;
    } keys[] = {
        {"author", &g->author},           {"actor", &g->actor},
        {"approver", &g->approver},       {"role", &g->approver_role},
        {"change_type", &g->change_type}, {"risk", &g->risk},
        {"deployer", &g->deployer},       {"verifier", &g->verifier},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0] && rc == 0; i++)
        rc = s_str(data, keys[i].key, keys[i].field, err, errlen);
    if (rc == 0)
        rc = s_list(data, "committers", &g->committers, &g->n_committers, err, errlen);
    if (rc == 0)
        rc = s_list(data, "data_classes", &g->data_classes, &g->n_data_classes, err, errlen);
    if (rc == 0)
        rc = s_list(data, "paths", &g->paths, &g->n_paths, err, errlen);
    if (rc == 0)
        rc = s_list(data, "labels", &g->labels, &g->n_labels, err, errlen);
    bool seen = false;
    if (rc == 0)
        rc = s_count(data, "lines_changed", &g->lines_changed, &seen, err, errlen);
    if (rc < 0)
        return rc;

    const char *stated = NULL;
    const cJSON *d = cairn_normalize_lookup(data, "decision");
    if (d) {
        if (!cJSON_IsString(d))
            return s_fail(err, errlen, "data field 'decision' must be a string, got %s", s_kind(d));
        if ((rc = s_decision(cairn_json_str(d), err, errlen, &stated)) < 0)
            return rc;
    }

    /* dev.cdeventsx.cairn-approval.<granted|rejected>.<version>: the type
     * states the decision, and an approval must say who approved what. */
    const char *type = ev->type ? ev->type : "";
    const char *approval = "dev.cdeventsx.cairn-approval.";
    const char *by_type = NULL;
    if (s_prefix(type, approval)) {
        const char *predicate = type + strlen(approval);
        if (s_prefix(predicate, "granted.") || strcmp(predicate, "granted") == 0)
            by_type = "granted";
        else if (s_prefix(predicate, "rejected.") || strcmp(predicate, "rejected") == 0)
            by_type = "rejected";
    }
    if (by_type) {
        if (stated && strcmp(stated, by_type) != 0)
            return s_fail(err, errlen,
                          "data field 'decision' says '%s' but the event type says '%s'; send "
                          "one or the other",
                          stated, by_type);
        if (s_empty(g->approver))
            return s_fail(err, errlen,
                          "approval event is missing data field 'approver' (who approves)");
        if (s_empty(ev->correlation->change_id))
            return s_fail(err, errlen,
                          "approval event is missing data field 'change' (the change approved)");
        /* A signed approval carries what the policy needs to check it. */
        if ((rc = s_str(data, "signature", &g->approval_signature, err, errlen)) < 0 ||
            (rc = s_str(data, "key", &g->approval_key, err, errlen)) < 0 ||
            (rc = s_str(data, "signed_at", &g->approval_signed_at, err, errlen)) < 0)
            return rc;
        if (!s_empty(g->approval_signature) &&
            (s_empty(g->approval_signed_at) || s_empty(g->approval_key) ||
             s_empty(ev->correlation->commit_sha)))
            return s_fail(err, errlen,
                          "signed approval event needs data fields 'key', 'signed_at' and "
                          "'commit' beside 'signature' (see `cairn approve --key`)");
        stated = by_type;
    }
    return stated ? s_set(&g->approval_decision, stated) : 0;
}

static int s_evidence(Cairn__V1__Event *ev, const cJSON *data, char *err, size_t errlen)
{
    Cairn__V1__Evidence *e = ev->evidence;
    int rc = s_set(&e->kind, cairn_normalize_evidence_kind(ev->type));
    bool seen = false;
    if (rc == 0)
        rc = s_outcome(data, e, err, errlen);
    if (rc == 0)
        rc = s_count(data, "tests_passed", &e->tests_passed, &seen, err, errlen);
    if (rc == 0)
        rc = s_count(data, "tests_failed", &e->tests_failed, &seen, err, errlen);
    if (rc == 0)
        rc = s_count(data, "tests_skipped", &e->tests_skipped, &seen, err, errlen);
    if (rc == 0)
        rc = s_findings(data, e, &seen, err, errlen);
    if (rc == 0)
        rc = s_coverage(data, e, err, errlen);
    return rc;
}

static int s_alloc_parts(Cairn__V1__Event *ev)
{
    if (!ev->correlation) {
        ev->correlation = malloc(sizeof *ev->correlation);
        if (!ev->correlation)
            return -ENOMEM;
        cairn__v1__correlation__init(ev->correlation);
    }
    if (!ev->governance) {
        ev->governance = malloc(sizeof *ev->governance);
        if (!ev->governance)
            return -ENOMEM;
        cairn__v1__governance__init(ev->governance);
    }
    if (!ev->evidence) {
        ev->evidence = malloc(sizeof *ev->evidence);
        if (!ev->evidence)
            return -ENOMEM;
        cairn__v1__evidence__init(ev->evidence);
    }
    return 0;
}

int cairn_normalize_event(Cairn__V1__Event *ev, const cJSON *data, char *err, size_t errlen)
{
    int rc = s_alloc_parts(ev);
    if (rc == 0)
        rc = s_correlation(ev, data, err, errlen);
    if (rc == 0)
        rc = s_governance(ev, data, err, errlen);
    if (rc == 0)
        rc = s_evidence(ev, data, err, errlen);
    if (rc == 0)
        rc = cairn_normalize_tekton(ev, data, err, errlen);
    if (rc == -ENOMEM && err && errlen)
        snprintf(err, errlen, "out of memory while normalizing the event");
    return rc;
}
