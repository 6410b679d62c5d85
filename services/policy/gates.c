/* Evidence criteria of a gate (see gates.h), read through the closed
 * vocabulary in evidence_vocab.c. */
#include "gates.h"

#include <stdio.h>
#include <string.h>

#include "evaluate.h"
#include "verdict.h"

/* The evidence a criterion reads: the latest of its type; for coverage,
 * also any evidence that stated a coverage figure (test reports often do). */
static const cairn_change_evidence_t *s_find(const cairn_change_t *c, const char *type)
{
    const cairn_change_evidence_t *e = cairn_change_evidence(c, type);
    if (e || strcmp(type, "coverage") != 0)
        return e;
    for (size_t i = 0; i < c->n_evidence; i++)
        if (c->evidence[i].has_coverage && (!e || c->evidence[i].index > e->index))
            e = &c->evidence[i];
    return e;
}

static double s_value(const cairn_change_evidence_t *e, cairn_ev_field_t field)
{
    switch (field) {
    case CAIRN_EV_PASSED: return e->passed;
    case CAIRN_EV_FAILED: return e->failed;
    case CAIRN_EV_SKIPPED: return e->skipped;
    case CAIRN_EV_CRITICAL: return e->critical;
    case CAIRN_EV_HIGH: return e->high;
    case CAIRN_EV_MEDIUM: return e->medium;
    case CAIRN_EV_LOW: return e->low;
    case CAIRN_EV_COVERAGE: return e->coverage_line_pct;
    case CAIRN_EV_SUCCESS: return strcmp(e->outcome, "success") == 0;
    }
    return 0;
}

/* 7d, 72h, 30m or 45s. */
static void s_duration_text(int64_t ms, char *buf, size_t len)
{
    static const struct {
        int64_t ms;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms % units[i].ms == 0) {
            snprintf(buf, len, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    snprintf(buf, len, "%lldms", (long long)ms);
}

/* Appends "; " + text to buf. */
static void s_append(char *buf, size_t len, const char *text)
{
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%s%s", used ? "; " : "", text);
}

/* Checks the requirements; writes what failed (or what was seen) into out. */
static bool s_meets(const cairn_evidence_rule_t *rule, const cairn_change_evidence_t *e,
                    char *failed, size_t flen, char *seen, size_t slen)
{
    bool ok = true;
    failed[0] = seen[0] = '\0';
    for (size_t i = 0; i < rule->n_reqs; i++) {
        const cairn_requirement_t *r = &rule->reqs[i];
        double got = s_value(e, r->def->field);
        char text[160];
        bool pass;
        switch (r->def->kind) {
        case CAIRN_REQ_MAX:
            pass = got <= r->value;
            snprintf(text, sizeof text, "%g %s (at most %g allowed)", got, r->def->what, r->value);
            break;
        case CAIRN_REQ_MIN:
            pass = got >= r->value;
            snprintf(text, sizeof text, "%g %s (at least %g needed)", got, r->def->what, r->value);
            break;
        default:
            pass = (got != 0) == r->flag;
            snprintf(text, sizeof text, "outcome %s (%s %s)",
                     *e->outcome ? e->outcome : "not stated", r->flag ? "needs" : "must not be",
                     r->def->what);
            break;
        }
        s_append(pass ? seen : failed, pass ? slen : flen, text);
        ok = ok && pass;
    }
    return ok;
}

static int s_missing(Cairn__V1__Verdict *v, const cairn_evidence_rule_t *rule,
                     Cairn__V1__Decision *decision, const char *why)
{
    *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_PENDING);
    int rc = cairn_verdict_add_reason(v, rule->id, "missing", "%s", why);
    if (rc == 0)
        rc = cairn_verdict_add_obligation(v, "evidence", rule->id, NULL, 0, "%s", why);
    return rc;
}

int cairn_gate_check_evidence(const cairn_gate_t *g, const cairn_change_t *c, int64_t now_ms,
                              Cairn__V1__Verdict *v, Cairn__V1__Decision *decision)
{
    int64_t expires = 0;
    return cairn_gate_check_evidence_exp(g, c, now_ms, v, decision, &expires, NULL, 0);
}

int cairn_gate_check_evidence_exp(const cairn_gate_t *g, const cairn_change_t *c, int64_t now_ms,
                                  Cairn__V1__Verdict *v, Cairn__V1__Decision *decision,
                                  int64_t *expires_ms, char *what, size_t what_len)
{
    int rc = 0;
    for (size_t i = 0; i < g->n_evidence && rc == 0; i++) {
        const cairn_evidence_rule_t *rule = &g->evidence[i];
        const cairn_change_evidence_t *e = s_find(c, rule->type);
        char why[512];
        if (!e) {
            snprintf(why, sizeof why, "%s: no %s recorded for %s", rule->id, rule->type, c->id);
            rc = s_missing(v, rule, decision, why);
            continue;
        }
        if (*e->commit_sha && *c->commit_sha && strcmp(e->commit_sha, c->commit_sha) != 0) {
            snprintf(why, sizeof why,
                     "%s: the latest %s (ledger index %llu) is for commit %.12s, not the current "
                     "commit %.12s",
                     rule->id, rule->type, (unsigned long long)e->index, e->commit_sha,
                     c->commit_sha);
            rc = s_missing(v, rule, decision, why);
            continue;
        }
        if (rule->max_age_ms > 0 && now_ms - e->received_at_ms >= rule->max_age_ms) {
            char age[32];
            s_duration_text(rule->max_age_ms, age, sizeof age);
            snprintf(why, sizeof why,
                     "%s: the latest %s (ledger index %llu) is older than its max_age of %s",
                     rule->id, rule->type, (unsigned long long)e->index, age);
            rc = s_missing(v, rule, decision, why);
            continue;
        }
        if (strcmp(rule->type, "coverage") == 0 && !e->has_coverage) {
            /* Evidence that cannot be read fails closed: deny, never "0% is fine". */
            *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_DENY);
            rc =
                cairn_verdict_add_reason(v, rule->id, "fail",
                                         "%s: the coverage evidence at ledger index %llu states no "
                                         "line coverage, so it cannot be evaluated",
                                         rule->id, (unsigned long long)e->index);
            if (rc == 0)
                rc = cairn_verdict_add_obligation(v, "evidence", rule->id, NULL, 0,
                                                  "%s: unreadable coverage evidence", rule->id);
            continue;
        }
        char failed[512], seen[512];
        if (s_meets(rule, e, failed, sizeof failed, seen, sizeof seen)) {
            int64_t stale = rule->max_age_ms > 0 ? e->received_at_ms + rule->max_age_ms : 0;
            if (stale && (!*expires_ms || stale < *expires_ms)) {
                *expires_ms = stale;
                if (what)
                    snprintf(what, what_len,
                             "%s evidence %s (ledger index %llu) reaches its max_age", rule->type,
                             rule->id, (unsigned long long)e->index);
            }
            rc = cairn_verdict_add_reason(v, rule->id, "pass", "%s at ledger index %llu: %s",
                                          rule->type, (unsigned long long)e->index,
                                          *seen ? seen : "present");
            continue;
        }
        Cairn__V1__Decision d = rule->on_fail_manual ? CAIRN__V1__DECISION__DECISION_MANUAL
                                                     : CAIRN__V1__DECISION__DECISION_DENY;
        *decision = cairn_decision_worst(*decision, d);
        rc = cairn_verdict_add_reason(v, rule->id, "fail", "%s at ledger index %llu: %s%s",
                                      rule->type, (unsigned long long)e->index, failed,
                                      rule->on_fail_manual ? " — a person must decide" : "");
        if (rc == 0)
            rc = cairn_verdict_add_obligation(v, "evidence", rule->id, NULL, 0, "%s: %s", rule->id,
                                              failed);
    }
    return rc;
}
