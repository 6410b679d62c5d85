/* Evidence criteria of a gate (see gates.h), read through the closed
 * vocabulary in evidence_vocab.c. */
#include "gates.h"

#include <stdio.h>
#include <string.h>

#include "evaluate.h"
#include "format.h"

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

void cairn_evidence_index(const cairn_change_t *c, cairn_evidence_index_t *out)
{
    memset(out, 0, sizeof *out);
    out->coverage = cairn_evidence_type_index("coverage");
    for (int t = 0; t < CAIRN_EVIDENCE_TYPES; t++) {
        const cairn_change_evidence_t *e = s_find(c, cairn_evidence_type_name(t));
        out->latest[t] = e;
        if (!e)
            continue;
        out->other_commit[t] =
            *e->commit_sha && *c->commit_sha && !cairn_change_is_commit(c, e->commit_sha);
        out->success[t] = strcmp(e->outcome, "success") == 0;
    }
}

static double s_value(const cairn_change_evidence_t *e, bool success, cairn_ev_field_t field)
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
    case CAIRN_EV_SUCCESS: return success;
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
            cairn_format(buf, len, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    cairn_format(buf, len, "%lldms", (long long)ms);
}

/* Appends "; " + text to buf. */
static void s_append(char *buf, size_t len, const char *text)
{
    size_t used = strlen(buf);
    cairn_format(buf + used, len - used, "%s%s", used ? "; " : "", text);
}

/* Checks the requirements; when failed and seen are not NULL, writes what
 * failed (or what was seen) into them. */
static bool s_meets(const cairn_evidence_rule_t *rule, const cairn_change_evidence_t *e,
                    bool success, char *failed, size_t flen, char *seen, size_t slen)
{
    bool ok = true;
    bool text = failed && seen;
    if (text)
        failed[0] = seen[0] = '\0';
    for (size_t i = 0; i < rule->n_reqs; i++) {
        const cairn_requirement_t *r = &rule->reqs[i];
        double got = s_value(e, success, r->def->field);
        char words[160], have[32], bound[32];
        bool pass;
        if (text && r->def->kind != CAIRN_REQ_TRUE) {
            cairn_format_g(have, sizeof have, got);
            cairn_format_g(bound, sizeof bound, r->value);
        }
        switch (r->def->kind) {
        case CAIRN_REQ_MAX:
            pass = got <= r->value;
            if (text)
                cairn_format(words, sizeof words, "%s %s (at most %s allowed)", have, r->def->what,
                             bound);
            break;
        case CAIRN_REQ_MIN:
            pass = got >= r->value;
            if (text)
                cairn_format(words, sizeof words, "%s %s (at least %s needed)", have, r->def->what,
                             bound);
            break;
        default:
            pass = (got != 0) == r->flag;
            if (text)
                cairn_format(words, sizeof words, "outcome %s (%s %s)",
                             *e->outcome ? e->outcome : "not stated",
                             r->flag ? "needs" : "must not be", r->def->what);
            break;
        }
        if (text)
            s_append(pass ? seen : failed, pass ? slen : flen, words);
        ok = ok && pass;
    }
    return ok;
}

static int s_missing(cairn_findings_t *out, const cairn_evidence_rule_t *rule,
                     Cairn__V1__Decision *decision, const char *why)
{
    *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_PENDING);
    int rc = cairn_findings_reason(out, rule->id, CAIRN_RESULT_MISSING, "%s", why);
    if (rc == 0)
        rc = cairn_findings_open(out, "evidence", rule->id, NULL, 0, "%s", why);
    return rc;
}

int cairn_gate_check_evidence(const cairn_gate_t *g, const cairn_facts_t *f,
                              const cairn_evidence_index_t *ix, cairn_findings_t *out,
                              Cairn__V1__Decision *decision, cairn_expiry_t *expiry)
{
    int rc = 0;
    const cairn_change_t *c = f->change;
    bool render = out->render;
    for (size_t i = 0; i < g->n_evidence && rc == 0; i++) {
        const cairn_evidence_rule_t *rule = &g->evidence[i];
        int t = rule->type_index;
        const cairn_change_evidence_t *e = t >= 0 ? ix->latest[t] : s_find(c, rule->type);
        char why[512];
        why[0] = '\0';
        if (!e) {
            if (render)
                cairn_format(why, sizeof why, "%s: no %s recorded for %s", rule->id, rule->type,
                             c->id);
            rc = s_missing(out, rule, decision, why);
            continue;
        }
        if (t >= 0
                ? ix->other_commit[t]
                : *e->commit_sha && *c->commit_sha && !cairn_change_is_commit(c, e->commit_sha)) {
            if (render)
                cairn_format(why, sizeof why,
                             "%s: the latest %s (ledger index %llu) is for commit %.12s, not the "
                             "current commit %.12s",
                             rule->id, rule->type, (unsigned long long)e->index, e->commit_sha,
                             c->commit_sha);
            rc = s_missing(out, rule, decision, why);
            continue;
        }
        if (rule->max_age_ms > 0)
            cairn_facts_until(f, e->received_at_ms + rule->max_age_ms);
        if (rule->max_age_ms > 0 && f->now_ms - e->received_at_ms >= rule->max_age_ms) {
            if (render) {
                char age[32];
                s_duration_text(rule->max_age_ms, age, sizeof age);
                cairn_format(
                    why, sizeof why,
                    "%s: the latest %s (ledger index %llu) is older than its max_age of %s",
                    rule->id, rule->type, (unsigned long long)e->index, age);
            }
            rc = s_missing(out, rule, decision, why);
            continue;
        }
        bool coverage = t >= 0 ? t == ix->coverage : strcmp(rule->type, "coverage") == 0;
        if (coverage && !e->has_coverage) {
            /* Evidence that cannot be read fails closed: deny, never "0% is fine". */
            *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_DENY);
            rc = cairn_findings_reason(out, rule->id, CAIRN_RESULT_FAIL,
                                       "%s: the coverage evidence at ledger index %llu states no "
                                       "line coverage, so it cannot be evaluated",
                                       rule->id, (unsigned long long)e->index);
            if (rc == 0)
                rc = cairn_findings_open(out, "evidence", rule->id, NULL, 0,
                                         "%s: unreadable coverage evidence", rule->id);
            continue;
        }
        char failed[512], seen[512];
        bool success = t >= 0 ? ix->success[t] : strcmp(e->outcome, "success") == 0;
        if (s_meets(rule, e, success, render ? failed : NULL, sizeof failed, render ? seen : NULL,
                    sizeof seen)) {
            if (rule->max_age_ms > 0) {
                cairn_expiry_t stale = {.at_ms = e->received_at_ms + rule->max_age_ms,
                                        .type = rule->type,
                                        .id = rule->id,
                                        .index = e->index};
                cairn_expiry_lower(expiry, &stale);
            }
            rc = cairn_findings_reason(
                out, rule->id, CAIRN_RESULT_PASS, "%s at ledger index %llu: %s", rule->type,
                (unsigned long long)e->index, !render ? "" : (*seen ? seen : "present"));
            continue;
        }
        Cairn__V1__Decision d = rule->on_fail_manual ? CAIRN__V1__DECISION__DECISION_MANUAL
                                                     : CAIRN__V1__DECISION__DECISION_DENY;
        *decision = cairn_decision_worst(*decision, d);
        rc =
            cairn_findings_reason(out, rule->id, CAIRN_RESULT_FAIL, "%s at ledger index %llu: %s%s",
                                  rule->type, (unsigned long long)e->index, render ? failed : "",
                                  rule->on_fail_manual ? " — a person must decide" : "");
        if (rc == 0)
            rc = cairn_findings_open(out, "evidence", rule->id, NULL, 0, "%s: %s", rule->id,
                                     render ? failed : "");
    }
    return rc;
}
