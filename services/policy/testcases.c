/* Running a policy's test cases (see testcases.h). */
#include "testcases.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "change.h"
#include "cloudevent.h"
#include "evaluate.h"

#define S_ERR 8192

/* A case's input, parsed. */
typedef struct {
    Cairn__V1__Event **events; /* in ledger order */
    size_t n_events;
    const char *change; /* "change" (borrowed from root), or NULL */
    const char *gate;   /* "gate", or NULL */
    const char *env;    /* "env", or NULL */
    int64_t at_ms;      /* "at" */
    bool has_at;        /* "at" was given */
    json_t *root;       /* the document */
} s_input_t;

static void s_input_clear(s_input_t *in)
{
    cairn_cloudevent_free_all(&in->events, in->n_events);
    in->n_events = 0;
    json_decref(in->root);
    in->root = NULL;
}

__attribute__((format(printf, 3, 4))) static int s_fail(char *err, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, len, fmt, ap);
    va_end(ap);
    return CAIRN_EINVALID;
}

/* An optional string member. */
static int s_member(const char *path, json_t *obj, const char *key, const char **out, char *err,
                    size_t len)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || !*json_string_value(v))
        return s_fail(err, len, "%s: \"%s\" must be a non-empty string", path, key);
    *out = json_string_value(v);
    return 0;
}

static int s_load(const char *path, s_input_t *in, char *err, size_t len)
{
    static const char *const keys[] = {"description", "events", "change", "gate",
                                       "env",         "at",     NULL};
    json_error_t je;
    memset(in, 0, sizeof *in);
    if (!(in->root = json_load_file(path, JSON_REJECT_DUPLICATES, &je))) {
        if (je.line > 0)
            return s_fail(err, len, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return s_fail(err, len, "%s: %s", path, je.text);
    }
    json_t *events = in->root;
    if (json_is_object(in->root)) {
        const char *key;
        json_t *value;
        json_object_foreach(in->root, key, value)
        {
            bool known = false;
            for (size_t i = 0; keys[i] && !known; i++)
                known = strcmp(keys[i], key) == 0;
            if (!known)
                return s_fail(err, len,
                              "%s: unknown key \"%s\" (allowed: description, events, change, "
                              "gate, env, at)",
                              path, key);
        }
        events = json_object_get(in->root, "events");
        const char *at = NULL;
        int rc;
        if ((rc = s_member(path, in->root, "change", &in->change, err, len)) < 0 ||
            (rc = s_member(path, in->root, "gate", &in->gate, err, len)) < 0 ||
            (rc = s_member(path, in->root, "env", &in->env, err, len)) < 0 ||
            (rc = s_member(path, in->root, "at", &at, err, len)) < 0)
            return rc;
        if (at && cairn_parse_time(at, &in->at_ms) < 0)
            return s_fail(err, len, "%s: \"at\" must be an RFC 3339 time, got \"%s\"", path, at);
        in->has_at = at != NULL;
    }
    if (!json_is_array(events))
        return s_fail(err, len,
                      "%s: expected a list of CloudEvents, or an object whose \"events\" is one",
                      path);
    size_t n = json_array_size(events);
    if (n && !(in->events = calloc(n, sizeof *in->events)))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char why[512];
        Cairn__V1__Event *ev = NULL;
        int rc = cairn_cloudevent_from_json(json_array_get(events, i), &ev, why, sizeof why);
        if (rc == -ENOMEM)
            return rc;
        if (rc < 0)
            return s_fail(err, len, "%s: event %zu: %s", path, i, why);
        in->events[in->n_events++] = ev;
        int64_t t = in->has_at ? in->at_ms : 0;
        if (ev->time && *ev->time && cairn_parse_time(ev->time, &t) < 0)
            return s_fail(err, len, "%s: event %zu: time '%s' is not RFC 3339", path, i, ev->time);
        ev->received_at_ms = t;
    }
    return 0;
}

static const char *s_event_change(const Cairn__V1__Event *ev)
{
    return ev->correlation && ev->correlation->change_id ? ev->correlation->change_id : "";
}

/* The change the case is about. */
static int s_pick_change(const char *path, const s_input_t *in, const char **out, char *err,
                         size_t len)
{
    if (in->change) {
        *out = in->change;
        return 0;
    }
    const char *found = NULL;
    for (size_t i = 0; i < in->n_events; i++) {
        const char *id = s_event_change(in->events[i]);
        if (!*id)
            continue;
        if (found && strcmp(found, id) != 0)
            return s_fail(err, len,
                          "%s: the events name several changes (%s, %s, ...); say which one with "
                          "\"change\"",
                          path, found, id);
        found = id;
    }
    if (!found)
        return s_fail(err, len, "%s: the events name no change; say which one with \"change\"",
                      path);
    *out = found;
    return 0;
}

static char *s_dup(const char *s)
{
    return strdup(s ? s : "");
}

/* Whether id decides one of the verdicts (fail / missing, or a risk rule). */
static bool s_decided_by(Cairn__V1__Verdict *const *vs, size_t n, const char *id)
{
    for (size_t g = 0; g < n; g++) {
        const Cairn__V1__Verdict *v = vs[g];
        for (size_t i = 0; i < v->n_reasons; i++) {
            const Cairn__V1__Reason *r = v->reasons[i];
            if (strcmp(r->rule_id, id) == 0 &&
                (strcmp(r->result, "fail") == 0 || strcmp(r->result, "missing") == 0))
                return true;
        }
        for (size_t i = 0; i < v->n_risk_rules; i++)
            if (strcmp(v->risk_rules[i], id) == 0)
                return true;
    }
    return false;
}

/* "SOD1 (fail in deployment), peer (missing in deployment)" or "none". */
static void s_deciding_list(Cairn__V1__Verdict *const *vs, size_t n, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t g = 0; g < n; g++)
        for (size_t i = 0; i < vs[g]->n_reasons; i++) {
            const Cairn__V1__Reason *r = vs[g]->reasons[i];
            if (strcmp(r->result, "fail") != 0 && strcmp(r->result, "missing") != 0)
                continue;
            int k = snprintf(buf + pos, len - pos, "%s%s (%s in %s)", pos ? ", " : "", r->rule_id,
                             r->result, vs[g]->gate);
            if (k < 0 || (size_t)k >= len - pos)
                return;
            pos += (size_t)k;
        }
    if (!pos)
        snprintf(buf, len, "none");
}

/* Compares the outcome with the expectations; writes the failures to msg. */
static bool s_check(const cairn_policy_test_t *t, const cairn_testcase_result_t *r, char *msg,
                    size_t len)
{
    size_t pos = 0;
    bool ok = true;
    msg[0] = '\0';
    if (!t->decision && t->reasons_include.count == 0) {
        snprintf(msg, len,
                 "expect states neither decision nor reasons_include, so the case "
                 "cannot fail; say what it must find");
        return false;
    }
    if (t->decision && strcmp(t->decision, cairn_decision_name(r->decision)) != 0) {
        int k = snprintf(msg, len, "expected %s, got %s", t->decision,
                         cairn_decision_name(r->decision));
        pos = k > 0 ? (size_t)k : 0;
        ok = false;
    }
    for (size_t i = 0; i < t->reasons_include.count && pos < len; i++) {
        const char *id = t->reasons_include.items[i];
        if (s_decided_by(r->verdicts, r->n_verdicts, id))
            continue;
        char list[768];
        s_deciding_list(r->verdicts, r->n_verdicts, list, sizeof list);
        int k =
            snprintf(msg + pos, len - pos, "%sexpected %s among the deciding rules, which are: %s",
                     pos ? "; " : "", id, list);
        pos = k > 0 && (size_t)k < len - pos ? pos + (size_t)k : len;
        ok = false;
    }
    return ok;
}

/* A broken case: the message says what to fix. */
static int s_broken(cairn_testcase_result_t *out, const char *why)
{
    out->broken = true;
    out->passed = false;
    free(out->message);
    out->message = s_dup(why);
    return out->message ? 0 : -ENOMEM;
}

int cairn_testcase_run(const cairn_policy_t *p, const cairn_policy_test_t *t, const char *base_dir,
                       cairn_testcase_result_t *out)
{
    char path[4096], err[S_ERR] = "";
    s_input_t in;
    cairn_change_t *c = NULL;
    const char *change = NULL;
    int rc = 0;
    memset(out, 0, sizeof *out);
    memset(&in, 0, sizeof in);
    out->name = t->name;
    out->decision = CAIRN__V1__DECISION__DECISION_UNSPECIFIED;
    if (!(out->change = s_dup("")))
        return -ENOMEM;
    if (!t->input || !*t->input) {
        rc = s_broken(out, "the case names no input file");
        goto out;
    }
    if (t->input[0] == '/')
        snprintf(path, sizeof path, "%s", t->input);
    else
        snprintf(path, sizeof path, "%s/%s", base_dir && *base_dir ? base_dir : ".", t->input);
    if ((rc = s_load(path, &in, err, sizeof err)) < 0) {
        rc = rc == -ENOMEM ? rc : s_broken(out, err);
        goto out;
    }
    if (in.gate && cairn_policy_gate_index(p, in.gate) < 0) {
        char gates[512];
        cairn_policy_gate_list(p, gates, sizeof gates);
        snprintf(err, sizeof err, "%s: unknown gate '%s'; policy %s has gates: %s", path, in.gate,
                 p->name, gates);
        rc = s_broken(out, err);
        goto out;
    }
    if ((rc = s_pick_change(path, &in, &change, err, sizeof err)) < 0) {
        rc = s_broken(out, err);
        goto out;
    }
    free(out->change);
    if (!(out->change = s_dup(change))) {
        rc = -ENOMEM;
        goto out;
    }

    /* The ledger the case describes: event i at index i. */
    int64_t now = in.has_at ? in.at_ms : 0;
    uint64_t trigger = 0;
    for (size_t i = 0; i < in.n_events; i++) {
        const Cairn__V1__Event *ev = in.events[i];
        if (strcmp(s_event_change(ev), change) != 0)
            continue;
        if (!c && !(c = cairn_change_new(change))) {
            rc = -ENOMEM;
            goto out;
        }
        if ((rc = cairn_change_apply_event(c, ev, i)) < 0)
            goto out;
        trigger = i;
        if (!in.has_at && ev->received_at_ms > now)
            now = ev->received_at_ms;
    }
    cairn_eval_opts_t o = {.environment = in.env, .now_ms = now, .trigger_index = trigger};
    Cairn__V1__Verdict **all = NULL;
    size_t n = 0;
    if ((rc = cairn_evaluate_all(p, change, c, &o, &all, &n)) < 0)
        goto out;
    if (in.gate) {
        int gi = cairn_policy_gate_index(p, in.gate);
        if (!(out->verdicts = calloc(1, sizeof *out->verdicts))) {
            cairn_verdicts_free(&all, n);
            rc = -ENOMEM;
            goto out;
        }
        out->verdicts[0] = all[gi];
        out->n_verdicts = 1;
        all[gi] = NULL;
        cairn_verdicts_free(&all, n);
    } else {
        out->verdicts = all;
        out->n_verdicts = n;
    }
    out->decision = CAIRN__V1__DECISION__DECISION_ALLOW;
    for (size_t i = 0; i < out->n_verdicts; i++)
        out->decision = cairn_decision_worst(out->decision, out->verdicts[i]->decision);
    out->passed = s_check(t, out, err, sizeof err);
    free(out->message);
    if (!(out->message = s_dup(err)))
        rc = -ENOMEM;
out:
    cairn_change_destroy(&c);
    s_input_clear(&in);
    if (rc < 0)
        cairn_testcase_result_clear(out);
    return rc;
}

int cairn_testcases_run_all(const cairn_policy_t *p, const char *policy_path,
                            cairn_testcase_result_t **out)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", policy_path ? policy_path : "");
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    cairn_testcase_result_t *rs = calloc(p->n_tests ? p->n_tests : 1, sizeof *rs);
    if (!rs)
        return -ENOMEM;
    for (size_t i = 0; i < p->n_tests; i++) {
        int rc = cairn_testcase_run(p, &p->tests[i], dir, &rs[i]);
        if (rc < 0) {
            cairn_testcase_results_free(&rs, i);
            return rc;
        }
    }
    *out = rs;
    return 0;
}

void cairn_testcase_result_clear(cairn_testcase_result_t *r)
{
    free(r->message);
    free(r->change);
    cairn_verdicts_free(&r->verdicts, r->n_verdicts);
    memset(r, 0, sizeof *r);
}

void cairn_testcase_results_free(cairn_testcase_result_t **rs_p, size_t n)
{
    if (!rs_p || !*rs_p)
        return;
    for (size_t i = 0; i < n; i++)
        cairn_testcase_result_clear(&(*rs_p)[i]);
    free(*rs_p);
    *rs_p = NULL;
}
