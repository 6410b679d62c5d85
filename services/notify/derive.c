/* Labels, identity and content of an alert (see derive.h). */
#include "derive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "file_receiver.h"

static const char *const s_identity[] = {"kind",       "change",   "gate", "env",
                                         "escalation", "receiver", "group"};

uint64_t cairn_derive_identity(const cairn_labels_t *labels)
{
    cairn_labels_t *id = cairn_labels_new();
    uint64_t fp = 0;
    if (!id)
        return 0;
    for (size_t i = 0; i < sizeof s_identity / sizeof s_identity[0]; i++)
        if (cairn_labels_set(id, s_identity[i], cairn_labels_get(labels, s_identity[i])) < 0)
            goto out;
    fp = cairn_labels_fingerprint(id);
out:
    cairn_labels_destroy(&id);
    return fp;
}

static const char *s_fact(const json_t *facts, const char *key)
{
    const char *v = json_string_value(json_object_get(facts, key));
    return v ? v : "";
}

static const char *s_or(const char *a, const char *b)
{
    return a && *a ? a : (b ? b : "");
}

/* Adds the roles in csv to a sorted, de-duplicated comma list held in buf. */
static void s_role_add(char *buf, size_t len, const char *csv)
{
    char items[32][64];
    size_t n = 0;
    char copy[1024];
    snprintf(copy, sizeof copy, "%s,%s", buf, csv ? csv : "");
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < 32;
         t = strtok_r(NULL, ",", &save)) {
        bool seen = false;
        for (size_t i = 0; i < n; i++)
            seen |= strcmp(items[i], t) == 0;
        if (!seen)
            snprintf(items[n++], sizeof items[0], "%s", t);
    }
    /* Insertion sort: a handful of roles. */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(items[j - 1], items[j]) > 0; j--) {
            char tmp[64];
            memcpy(tmp, items[j], sizeof tmp);
            memcpy(items[j], items[j - 1], sizeof tmp);
            memcpy(items[j - 1], tmp, sizeof tmp);
        }
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && pos < len; i++)
        pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", i ? "," : "", items[i]);
}

static int s_set(cairn_labels_t *l, const char *name, const char *value)
{
    return cairn_labels_set(l, name, value);
}

/* "a, b or c" for a comma list. */
static void s_or_list(const char *csv, char *out, size_t len)
{
    char copy[512];
    char *items[32];
    size_t n = 0;
    snprintf(copy, sizeof copy, "%s", csv);
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < 32;
         t = strtok_r(NULL, ",", &save))
        items[n++] = t;
    size_t pos = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && pos < len; i++)
        pos += (size_t)snprintf(out + pos, len - pos, "%s%s",
                                i == 0 ? "" : (i + 1 == n ? " or " : ", "), items[i]);
}

static int s_push_str(json_t *arr, const char *text)
{
    json_t *s = cairn_notify_json_string(text);
    return s && json_array_append_new(arr, s) == 0 ? 0 : -ENOMEM;
}

/* title, text, roles, required, who, how for people. */
static int s_content(const Cairn__V1__Record *rec, const cairn_labels_t *labels,
                     const json_t *facts, json_t *body)
{
    char title[1024], who[768] = "", how[512] = "", roles_text[512];
    const char *change = cairn_labels_get(labels, "change");
    const char *gate = cairn_labels_get(labels, "gate");
    const char *role = cairn_labels_get(labels, "role");
    const char *author = s_fact(facts, "author");
    json_t *required = json_array(), *roles = json_array();
    int rc = -ENOMEM;
    if (!required || !roles)
        goto out;

    if (rec->body_case == CAIRN__V1__RECORD__BODY_VERDICT) {
        const Cairn__V1__Verdict *v = rec->verdict;
        const char *d = cairn_decision_name(v->decision);
        const char *word = strcmp(d, "allow") == 0    ? "allowed"
                           : strcmp(d, "deny") == 0   ? "denied"
                           : strcmp(d, "manual") == 0 ? "needs a manual decision"
                                                      : "pending";
        snprintf(title, sizeof title, "%s%s%s: %s", change, *change ? " " : "", s_or(gate, "gate"),
                 word);
        for (size_t i = 0; i < v->n_obligations; i++)
            if (s_push_str(required, v->obligations[i]->message) < 0)
                goto out;
    } else {
        const Cairn__V1__Alert *a = rec->alert;
        const char *kind = s_or(a->kind, "alert");
        if (strcmp(kind, "approval_requested") == 0)
            snprintf(title, sizeof title, "%s needs approval before %s", change,
                     s_or(gate, "its gate"));
        else
            snprintf(title, sizeof title, "%s", s_or(a->summary, kind));
        if (*cairn_labels_get(labels, "escalation")) {
            char tmp[sizeof title];
            memcpy(tmp, title, sizeof tmp);
            snprintf(title, sizeof title, "Escalated: %.1000s", tmp);
        }
        const char *need = a->summary ? strstr(a->summary, ": ") : NULL;
        if (strcmp(kind, "approval_requested") == 0 && need && s_push_str(required, need + 2) < 0)
            goto out;
    }
    if (*role) {
        char copy[512];
        snprintf(copy, sizeof copy, "%s", role);
        for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
            if (s_push_str(roles, t) < 0)
                goto out;
        s_or_list(role, roles_text, sizeof roles_text);
        if (*author)
            snprintf(who, sizeof who, "anyone with role %s except %s (the author)", roles_text,
                     author);
        else
            snprintf(who, sizeof who, "anyone with role %s", roles_text);
        char first[64];
        snprintf(first, sizeof first, "%s", role);
        char *comma = strchr(first, ',');
        if (comma)
            *comma = '\0';
        snprintf(how, sizeof how, "cairn approve %s --as <your user name> --role %s", change,
                 first);
    }
    if (json_object_set_new(body, "title", cairn_notify_json_string(title)) < 0 ||
        json_object_set_new(body, "roles", roles) < 0)
        goto out;
    roles = NULL;
    if (json_object_set_new(body, "required", required) < 0)
        goto out;
    required = NULL;
    if (json_object_set_new(body, "who", cairn_notify_json_string(who)) < 0 ||
        json_object_set_new(body, "how", cairn_notify_json_string(how)) < 0)
        goto out;
    rc = 0;
out:
    json_decref(required);
    json_decref(roles);
    return rc;
}

int cairn_derive(const Cairn__V1__Entry *entry, const Cairn__V1__Record *rec, const json_t *facts,
                 const cairn_labels_t *service_teams, cairn_derived_t *out)
{
    cairn_labels_t *l = NULL;
    json_t *body = NULL, *line = NULL;
    char roles[512] = "";
    int rc;

    memset(out, 0, sizeof *out);
    if (rec->body_case != CAIRN__V1__RECORD__BODY_VERDICT &&
        rec->body_case != CAIRN__V1__RECORD__BODY_ALERT)
        return CAIRN_EINVALID;
    if (!(l = cairn_labels_new()) || !(body = json_object()))
        goto oom;

    if (rec->body_case == CAIRN__V1__RECORD__BODY_VERDICT) {
        const Cairn__V1__Verdict *v = rec->verdict;
        const char *d = cairn_decision_name(v->decision);
        for (size_t i = 0; i < v->n_obligations; i++)
            for (size_t r = 0; r < v->obligations[i]->n_roles; r++)
                s_role_add(roles, sizeof roles, v->obligations[i]->roles[r]);
        if (s_set(l, "kind", "verdict") < 0 || s_set(l, "change", v->change_id) < 0 ||
            s_set(l, "gate", v->gate) < 0 || s_set(l, "decision", d) < 0 ||
            s_set(l, "env", s_or(v->environment, s_fact(facts, "env"))) < 0 ||
            s_set(l, "risk", s_or(v->risk, s_fact(facts, "risk"))) < 0 ||
            s_set(l, "change_type", s_or(v->change_type, s_fact(facts, "change_type"))) < 0 ||
            s_set(l, "severity",
                  v->decision == CAIRN__V1__DECISION__DECISION_DENY ||
                          v->decision == CAIRN__V1__DECISION__DECISION_MANUAL
                      ? "warning"
                      : "info") < 0 ||
            s_set(l, "role", roles) < 0)
            goto oom;
        out->resolved = v->decision == CAIRN__V1__DECISION__DECISION_ALLOW;
    } else {
        const Cairn__V1__Alert *a = rec->alert;
        for (size_t i = 0; i < a->n_labels; i++) {
            const char *k = a->labels[i]->key ? a->labels[i]->key : "";
            const char *name = strcmp(k, "environment") == 0 ? "env"
                               : strcmp(k, "roles") == 0     ? "role"
                                                             : k;
            if (strcmp(name, "role") == 0) {
                s_role_add(roles, sizeof roles, s_or(a->labels[i]->value, ""));
                continue;
            }
            /* Names that are not label names are kept out of routing. */
            bool ok = *name && !(name[0] >= '0' && name[0] <= '9');
            for (const char *p = name; ok && *p; p++)
                ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '_';
            if (ok && s_set(l, name, a->labels[i]->value) < 0)
                goto oom;
        }
        const char *kind = s_or(a->kind, "alert");
        if (s_set(l, "kind", kind) < 0 || s_set(l, "severity", s_or(a->severity, "info")) < 0 ||
            s_set(l, "change", s_or(a->change_id, cairn_labels_get(l, "change"))) < 0 ||
            s_set(l, "role", roles) < 0)
            goto oom;
        if (!*cairn_labels_get(l, "decision")) {
            const char *d = strcmp(kind, "approval_requested") == 0 ? "pending"
                            : strcmp(kind, "gate_denied") == 0      ? "deny"
                                                                    : "";
            if (s_set(l, "decision", d) < 0)
                goto oom;
        }
        if ((!*cairn_labels_get(l, "env") && s_set(l, "env", s_fact(facts, "env")) < 0) ||
            (!*cairn_labels_get(l, "risk") && s_set(l, "risk", s_fact(facts, "risk")) < 0) ||
            (!*cairn_labels_get(l, "change_type") &&
             s_set(l, "change_type", s_fact(facts, "change_type")) < 0))
            goto oom;
    }
    const char *service = s_fact(facts, "service");
    if ((!*cairn_labels_get(l, "service") && s_set(l, "service", service) < 0) ||
        (!*cairn_labels_get(l, "release") && s_set(l, "release", s_fact(facts, "release")) < 0))
        goto oom;
    if (!*cairn_labels_get(l, "team")) {
        const char *team = s_fact(facts, "team");
        if (!*team && service_teams)
            team = cairn_labels_get(service_teams, cairn_labels_get(l, "service"));
        if (s_set(l, "team", team) < 0)
            goto oom;
    }

    if ((rc = cairn_file_receiver_object(entry, rec, &line)) < 0)
        goto fail;
    if (json_object_set_new(body, "line", line) < 0)
        goto oom;
    line = NULL;
    if ((rc = s_content(rec, l, facts, body)) < 0)
        goto fail;
    if (json_object_set_new(body, "author", cairn_notify_json_string(s_fact(facts, "author"))) < 0)
        goto oom;

    out->fingerprint = cairn_derive_identity(l);
    if (rec->body_case == CAIRN__V1__RECORD__BODY_VERDICT) {
        static const struct {
            const char *kind;
            Cairn__V1__Decision keeps;
        } links[] = {{"approval_requested", CAIRN__V1__DECISION__DECISION_PENDING},
                     {"gate_denied", CAIRN__V1__DECISION__DECISION_DENY}};
        for (size_t i = 0; i < 2; i++) {
            if (rec->verdict->decision == links[i].keeps)
                continue;
            cairn_labels_t *other = cairn_labels_dup(l);
            if (!other || cairn_labels_set(other, "kind", links[i].kind) < 0) {
                cairn_labels_destroy(&other);
                goto oom;
            }
            out->resolves[out->n_resolves++] = cairn_derive_identity(other);
            cairn_labels_destroy(&other);
        }
    }
    out->labels = l;
    out->body = body;
    return 0;
oom:
    rc = -ENOMEM;
fail:
    json_decref(line);
    json_decref(body);
    cairn_labels_destroy(&l);
    return rc;
}

void cairn_derived_clear(cairn_derived_t *d)
{
    cairn_labels_destroy(&d->labels);
    json_decref(d->body);
    d->body = NULL;
}

/* Sets key to value when value is non-empty and different; counts changes. */
static int s_fact_set(json_t *facts, const char *key, const char *value, int *changed)
{
    if (!value || !*value)
        return 0;
    const char *cur = json_string_value(json_object_get(facts, key));
    if (cur && strcmp(cur, value) == 0)
        return 0;
    json_t *s = cairn_notify_json_string(value);
    if (!s || json_object_set_new(facts, key, s) < 0)
        return -ENOMEM;
    *changed = 1;
    return 0;
}

/* data.customData.K, data.subject.content.K, then data.K (the canonical
 * lookup for CloudEvents and CDEvents). */
static const char *s_data_field(const json_t *data, const char *key)
{
    const json_t *v = json_object_get(json_object_get(data, "customData"), key);
    if (!json_is_string(v))
        v = json_object_get(json_object_get(json_object_get(data, "subject"), "content"), key);
    if (!json_is_string(v))
        v = json_object_get(data, key);
    return json_string_value(v);
}

int cairn_derive_facts_from_event(const Cairn__V1__Event *ev, json_t *facts)
{
    int changed = 0;
    const Cairn__V1__Correlation *c = ev->correlation;
    const Cairn__V1__Governance *g = ev->governance;
    if (c && (s_fact_set(facts, "service", c->service, &changed) < 0 ||
              s_fact_set(facts, "env", c->environment, &changed) < 0 ||
              s_fact_set(facts, "release", c->release_id, &changed) < 0 ||
              s_fact_set(facts, "repository", c->repository, &changed) < 0))
        return -ENOMEM;
    if (g && (s_fact_set(facts, "author", g->author, &changed) < 0 ||
              s_fact_set(facts, "risk", g->risk, &changed) < 0 ||
              s_fact_set(facts, "change_type", g->change_type, &changed) < 0))
        return -ENOMEM;
    if (ev->data.len > 1 && ev->data.data[0] == '{') {
        json_t *data = json_loadb((const char *)ev->data.data, ev->data.len, 0, NULL);
        const char *team = data ? s_data_field(data, "team") : NULL;
        int rc = s_fact_set(facts, "team", team, &changed);
        json_decref(data);
        if (rc < 0)
            return rc;
    }
    return changed;
}

int cairn_derive_facts_from_verdict(const Cairn__V1__Verdict *v, json_t *facts)
{
    int changed = 0;
    if (s_fact_set(facts, "risk", v->risk, &changed) < 0 ||
        s_fact_set(facts, "change_type", v->change_type, &changed) < 0 ||
        s_fact_set(facts, "env", v->environment, &changed) < 0)
        return -ENOMEM;
    return changed;
}
