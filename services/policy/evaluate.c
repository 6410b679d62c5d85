/* Gate evaluation (see evaluate.h). */
#include "evaluate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approvals.h"
#include "cairn/error.h"
#include "gates.h"
#include "predicates.h"
#include "sod.h"
#include "verdict.h"

#define S_RISK "low"
#define S_CHANGE_TYPE "normal"

static int s_rank(Cairn__V1__Decision d)
{
    switch (d) {
    case CAIRN__V1__DECISION__DECISION_ALLOW: return 0;
    case CAIRN__V1__DECISION__DECISION_MANUAL: return 1;
    case CAIRN__V1__DECISION__DECISION_PENDING: return 2;
    default: return 3; /* deny, and anything unknown fails closed */
    }
}

Cairn__V1__Decision cairn_decision_worst(Cairn__V1__Decision a, Cairn__V1__Decision b)
{
    return s_rank(a) >= s_rank(b) ? a : b;
}

void cairn_verdicts_free(Cairn__V1__Verdict ***vs_p, size_t n)
{
    if (!vs_p || !*vs_p)
        return;
    for (size_t i = 0; i < n; i++)
        CAIRN_CODEC_FREE(&(*vs_p)[i]);
    free(*vs_p);
    *vs_p = NULL;
}

typedef struct {
    const cairn_policy_t *p;
    const cairn_change_t *c;
    const cairn_eval_opts_t *o;
    cairn_facts_t facts;
    cairn_approvals_t approvals;
    bool have_approvals;
    Cairn__V1__Verdict **out; /* per gate, in policy order; NULL until evaluated */
    unsigned char *busy;      /* recursion guard (the loader rejects cycles) */
} s_eval_t;

/* The fields every verdict carries. */
static int s_header(const s_eval_t *e, const char *change_id, const char *gate,
                    Cairn__V1__Verdict *v)
{
    const cairn_policy_t *p = e->p;
    v->evaluated_at_ms = e->o->now_ms;
    v->trigger_index = e->o->trigger_index;
    const char *env = e->facts.environment ? e->facts.environment : "";
    if (cairn_msg_set_str(&v->change_id, change_id) < 0 || cairn_msg_set_str(&v->gate, gate) < 0 ||
        cairn_msg_set_str(&v->environment, env) < 0 ||
        cairn_msg_set_str(&v->commit_sha, e->c ? e->c->commit_sha : "") < 0 ||
        cairn_msg_set_str(&v->risk, S_RISK) < 0 ||
        cairn_msg_set_str(&v->change_type, S_CHANGE_TYPE) < 0 ||
        cairn_msg_set_str(&v->policy_name, p->name) < 0 ||
        cairn_msg_set_str(&v->policy_revision, p->revision) < 0 ||
        cairn_msg_set_str(&v->policy_digest, p->digest) < 0)
        return -ENOMEM;
    for (size_t i = 0; e->c && i < e->c->n_inputs; i++)
        if (cairn_verdict_add_input(v, e->c->inputs[i]) < 0)
            return -ENOMEM;
    return 0;
}

static bool s_reads_verification(const cairn_gate_t *g)
{
    for (size_t i = 0; i < g->n_evidence; i++)
        if (strcmp(g->evidence[i].type, "verification") == 0)
            return true;
    return false;
}

static int s_gate(s_eval_t *e, size_t gi);

static int s_after(s_eval_t *e, const cairn_gate_t *g, Cairn__V1__Verdict *v,
                   Cairn__V1__Decision *decision)
{
    int rc = 0;
    for (size_t i = 0; i < g->after.count && rc == 0; i++) {
        const char *dep = g->after.items[i];
        int di = cairn_policy_gate_index(e->p, dep);
        char rule[160];
        snprintf(rule, sizeof rule, "after:%s", dep);
        if (di < 0 || e->busy[di]) {
            *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_DENY);
            rc = cairn_verdict_add_reason(v, rule, "fail", "gate %s cannot be evaluated", dep);
            continue;
        }
        if ((rc = s_gate(e, (size_t)di)) < 0)
            break;
        Cairn__V1__Decision d = e->out[di]->decision;
        switch (d) {
        case CAIRN__V1__DECISION__DECISION_ALLOW:
            rc = cairn_verdict_add_reason(v, rule, "pass", "gate %s allows %s", dep, e->c->id);
            break;
        case CAIRN__V1__DECISION__DECISION_DENY:
            *decision = cairn_decision_worst(*decision, d);
            rc = cairn_verdict_add_reason(v, rule, "fail", "gate %s denies %s", dep, e->c->id);
            break;
        default:
            *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_PENDING);
            rc = cairn_verdict_add_reason(v, rule, "missing", "gate %s is %s for %s", dep,
                                          cairn_decision_name(d), e->c->id);
            if (rc == 0)
                rc = cairn_verdict_add_obligation(v, "gate", rule, NULL, 0,
                                                  "gate %s must allow %s first", dep, e->c->id);
            break;
        }
    }
    return rc;
}

/* Evaluates gate gi (and, through `after`, the gates it waits on) once. */
static int s_gate(s_eval_t *e, size_t gi)
{
    if (e->out[gi])
        return 0;
    const cairn_gate_t *g = &e->p->gates[gi];
    Cairn__V1__Decision decision = CAIRN__V1__DECISION__DECISION_ALLOW;
    Cairn__V1__Verdict *v = cairn_verdict_new();
    int rc = v ? s_header(e, e->c->id, g->name, v) : -ENOMEM;
    e->busy[gi] = 1;
    if (rc == 0)
        rc = s_after(e, g, v, &decision);
    if (rc == 0)
        rc = cairn_gate_check_evidence(g, e->c, e->o->now_ms, v, &decision);
    if (rc == 0 && s_reads_verification(g))
        rc = cairn_sod_check_verifier(e->p, e->c, v, &decision);
    if (rc == 0 && g->approvals_satisfied) {
        if (!e->have_approvals) {
            rc = cairn_approvals_evaluate(e->p, &e->facts, &e->approvals);
            e->have_approvals = rc == 0;
        }
        if (rc == 0)
            rc = cairn_approvals_explain(&e->approvals, e->p, &e->facts, v, &decision);
    }
    e->busy[gi] = 0;
    if (rc < 0) {
        CAIRN_CODEC_FREE(&v);
        return rc;
    }
    v->decision = decision;
    e->out[gi] = v;
    return 0;
}

/* Every gate pending: nothing is known about the change. */
static int s_unknown(s_eval_t *e, const char *change_id)
{
    for (size_t gi = 0; gi < e->p->n_gates; gi++) {
        Cairn__V1__Verdict *v = cairn_verdict_new();
        if (!v)
            return -ENOMEM;
        e->out[gi] = v;
        v->decision = CAIRN__V1__DECISION__DECISION_PENDING;
        if (s_header(e, change_id, e->p->gates[gi].name, v) < 0 ||
            cairn_verdict_add_reason(v, "events", "missing", "no events recorded for change %s",
                                     change_id) < 0)
            return -ENOMEM;
    }
    return 0;
}

int cairn_evaluate_all(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                       const cairn_eval_opts_t *o, Cairn__V1__Verdict ***out, size_t *n_out)
{
    int rc = -ENOMEM;
    s_eval_t e = {.p = p, .c = c, .o = o};
    e.facts = (cairn_facts_t){
        .change = c,
        .environment =
            o->environment && *o->environment ? o->environment : (c ? c->environment : ""),
        .risk = CAIRN_RISK_LOW,
        .change_type = S_CHANGE_TYPE,
        .tags = NULL,
    };
    e.out = calloc(p->n_gates ? p->n_gates : 1, sizeof *e.out);
    e.busy = calloc(p->n_gates ? p->n_gates : 1, 1);
    if (!e.out || !e.busy)
        goto out;
    if (!c) {
        rc = s_unknown(&e, change_id);
    } else {
        rc = 0;
        for (size_t gi = 0; gi < p->n_gates && rc == 0; gi++)
            rc = s_gate(&e, gi);
    }
    if (rc < 0)
        goto out;
    *out = e.out;
    *n_out = p->n_gates;
    e.out = NULL;
out:
    cairn_verdicts_free(&e.out, p->n_gates);
    free(e.busy);
    if (e.have_approvals)
        cairn_approvals_clear(&e.approvals);
    return rc;
}

int cairn_evaluate_gate(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                        const char *gate, const cairn_eval_opts_t *o, Cairn__V1__Verdict **out)
{
    int gi = cairn_policy_gate_index(p, gate);
    if (gi < 0)
        return CAIRN_ENOTFOUND;
    Cairn__V1__Verdict **all = NULL;
    size_t n = 0;
    int rc = cairn_evaluate_all(p, change_id, c, o, &all, &n);
    if (rc < 0)
        return rc;
    *out = all[gi];
    all[gi] = NULL;
    cairn_verdicts_free(&all, n);
    return 0;
}
