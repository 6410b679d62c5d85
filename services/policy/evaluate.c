/* Gate evaluation (see evaluate.h). */
#include "evaluate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approvals.h"
#include "cairn/error.h"
#include "change_type.h"
#include "classify.h"
#include "gates.h"
#include "predicates.h"
#include "review.h"
#include "sod.h"
#include "verdict.h"
#include "windows.h"

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
    cairn_classification_t risk; /* step 1 */
    bool have_risk;
    cairn_change_kind_t kind; /* step 2 */
    cairn_review_t review;
    cairn_approvals_t approvals;
    bool have_approvals;
    Cairn__V1__Verdict **out;  /* per gate, in policy order; NULL until evaluated */
    int64_t *expires;          /* per gate: earliest expiry (0: none) */
    char (*expires_what)[256]; /* per gate: what expires then */
    unsigned char *busy;       /* recursion guard (the loader rejects cycles) */
} s_eval_t;

/* The fields every verdict carries. */
static int s_header(const s_eval_t *e, const char *change_id, const char *gate,
                    Cairn__V1__Verdict *v)
{
    const cairn_policy_t *p = e->p;
    v->evaluated_at_ms = e->o->now_ms;
    v->trigger_index = e->o->trigger_index;
    const char *env = e->facts.environment ? e->facts.environment : "";
    const char *risk = e->have_risk ? cairn_risk_name(e->risk.risk) : "";
    const char *type = e->c ? e->kind.name : "";
    if (cairn_msg_set_str(&v->change_id, change_id) < 0 || cairn_msg_set_str(&v->gate, gate) < 0 ||
        cairn_msg_set_str(&v->environment, env) < 0 ||
        cairn_msg_set_str(&v->commit_sha, e->c ? e->c->commit_sha : "") < 0 ||
        cairn_msg_set_str(&v->risk, risk) < 0 || cairn_msg_set_str(&v->change_type, type) < 0 ||
        cairn_msg_set_str(&v->policy_name, p->name) < 0 ||
        cairn_msg_set_str(&v->policy_revision, p->revision) < 0 ||
        cairn_msg_set_str(&v->policy_digest, p->digest) < 0)
        return -ENOMEM;
    if (e->have_risk) {
        if (!(v->risk_rules = calloc(e->risk.risk_rules.count + 1, sizeof *v->risk_rules)))
            return -ENOMEM;
        for (size_t i = 0; i < e->risk.risk_rules.count; i++) {
            if (!(v->risk_rules[i] = strdup(e->risk.risk_rules.items[i])))
                return -ENOMEM;
            v->n_risk_rules++;
        }
    }
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

/* Lowers gate gi's expiry to at (0 ignored). */
static void s_expiry(s_eval_t *e, size_t gi, int64_t at, const char *what)
{
    if (at <= 0 || (e->expires[gi] && e->expires[gi] <= at))
        return;
    e->expires[gi] = at;
    size_t n = strnlen(what, sizeof e->expires_what[gi] - 1);
    memmove(e->expires_what[gi], what, n);
    e->expires_what[gi][n] = '\0';
}

static int s_gate(s_eval_t *e, size_t gi);

static int s_after(s_eval_t *e, size_t gi, Cairn__V1__Verdict *v, Cairn__V1__Decision *decision)
{
    int rc = 0;
    const cairn_gate_t *g = &e->p->gates[gi];
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
        s_expiry(e, gi, e->expires[di], e->expires_what[di]);
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

static int s_approvals(s_eval_t *e, size_t gi, Cairn__V1__Verdict *v, Cairn__V1__Decision *decision)
{
    int rc = 0;
    if (!e->have_approvals) {
        if ((rc = cairn_approvals_evaluate(e->p, &e->facts, &e->approvals)) < 0)
            return rc;
        e->have_approvals = true;
    }
    if ((rc = cairn_approvals_explain(&e->approvals, e->p, &e->facts, v, decision)) < 0)
        return rc;
    const cairn_approval_view_t *first = e->approvals.expires_first;
    if (first) {
        char what[256];
        snprintf(what, sizeof what, "the approval by %s (ledger index %llu)", first->src->user,
                 (unsigned long long)first->src->index);
        s_expiry(e, gi, e->approvals.expires_at_ms, what);
    }
    return 0;
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
    char what[256] = "";
    int64_t ev_expiry = 0;
    e->busy[gi] = 1;
    /* 1-3: classification, change type and the hard constraints. */
    if (rc == 0)
        rc = cairn_classify_explain(&e->risk, e->p, e->c, v, &decision);
    if (rc == 0)
        rc = cairn_change_type_explain(&e->kind, &e->risk, e->c, v, &decision);
    if (rc == 0)
        rc = cairn_windows_check(e->p, &e->facts, g->name, &e->kind, v, &decision);
    if (rc == 0 && s_reads_verification(g))
        rc = cairn_sod_check_verifier(e->p, e->c, v, &decision);
    /* 4: the gates before this one, then this gate's evidence. */
    if (rc == 0)
        rc = s_after(e, gi, v, &decision);
    if (rc == 0)
        rc = cairn_gate_check_evidence_exp(g, e->c, e->o->now_ms, v, &decision, &ev_expiry, what,
                                           sizeof what);
    if (rc == 0)
        s_expiry(e, gi, ev_expiry, what);
    /* 5: approvals. */
    if (rc == 0 && g->approvals_satisfied)
        rc = s_approvals(e, gi, v, &decision);
    if (rc == 0)
        rc = cairn_review_explain(&e->review, e->p, e->c, e->o->now_ms, v);
    e->busy[gi] = 0;
    if (rc < 0) {
        CAIRN_CODEC_FREE(&v);
        return rc;
    }
    v->decision = decision;
    v->expires_at_ms = e->expires[gi];
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

/* Steps 1 and 2, shared by every gate. */
static int s_subject(s_eval_t *e)
{
    const cairn_change_t *c = e->c;
    cairn_change_type_pick(e->p, c, &e->kind);
    int rc = cairn_classify(e->p, c, e->facts.environment, e->kind.name, &e->risk);
    if (rc < 0)
        return rc;
    e->have_risk = true;
    e->facts.risk = e->risk.risk;
    e->facts.tags = &e->risk.tags;
    e->facts.change_type = e->kind.name;
    e->facts.data_classes = e->risk.data_classes;
    e->facts.n_data_classes = e->risk.n_data_classes;
    cairn_review_evaluate(e->p, c, &e->kind, &e->review);
    return 0;
}

int cairn_evaluate_change(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                          const cairn_eval_opts_t *o, cairn_evaluation_t *out)
{
    int rc = -ENOMEM;
    size_t n = p->n_gates ? p->n_gates : 1;
    s_eval_t e = {.p = p, .c = c, .o = o};
    e.facts = (cairn_facts_t){
        .change = c,
        .environment =
            o->environment && *o->environment ? o->environment : (c ? c->environment : ""),
        .risk = p->classify_default,
        .change_type = "normal",
        .now_ms = o->now_ms,
    };
    e.out = calloc(n, sizeof *e.out);
    e.busy = calloc(n, 1);
    e.expires = calloc(n, sizeof *e.expires);
    e.expires_what = calloc(n, sizeof *e.expires_what);
    if (!e.out || !e.busy || !e.expires || !e.expires_what)
        goto out;
    if (!c) {
        rc = s_unknown(&e, change_id);
    } else {
        rc = s_subject(&e);
        for (size_t gi = 0; gi < p->n_gates && rc == 0; gi++)
            rc = s_gate(&e, gi);
    }
    if (rc < 0)
        goto out;
    memset(out, 0, sizeof *out);
    for (size_t gi = 0; gi < p->n_gates; gi++)
        if (e.expires[gi] && (!out->expires_at_ms || e.expires[gi] < out->expires_at_ms)) {
            out->expires_at_ms = e.expires[gi];
            snprintf(out->expires_what, sizeof out->expires_what, "%s", e.expires_what[gi]);
            out->expires_gate = e.out[gi]->gate;
        }
    out->review_required = e.review.def != NULL;
    out->review_open = cairn_review_open(&e.review);
    out->review_due_ms = e.review.due_ms;
    out->verdicts = e.out;
    out->n = p->n_gates;
    e.out = NULL;
out:
    cairn_verdicts_free(&e.out, p->n_gates);
    free(e.busy);
    free(e.expires);
    free(e.expires_what);
    if (e.have_approvals)
        cairn_approvals_clear(&e.approvals);
    if (e.have_risk)
        cairn_classification_clear(&e.risk);
    return rc;
}

void cairn_evaluation_clear(cairn_evaluation_t *self)
{
    cairn_verdicts_free(&self->verdicts, self->n);
    memset(self, 0, sizeof *self);
}

int cairn_evaluate_all(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                       const cairn_eval_opts_t *o, Cairn__V1__Verdict ***out, size_t *n_out)
{
    cairn_evaluation_t ev;
    int rc = cairn_evaluate_change(p, change_id, c, o, &ev);
    if (rc < 0)
        return rc;
    *out = ev.verdicts;
    *n_out = ev.n;
    return 0;
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
