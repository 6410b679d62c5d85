/* Gate evaluation (see evaluate.h). A gate is decided once (s_gate with
 * render false) and, when its verdict is asked for, checked again with
 * sentences (render true): the checks are a pure function of the change,
 * the policy and the time, so the second pass finds exactly what the first
 * did and only adds the words. */
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
#include "policy_codec.h"
#include "predicates.h"
#include "review.h"
#include "sod.h"
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

/* One gate's evaluation. */
typedef struct {
    bool decided;                 /* checked at least once */
    bool rendered;                /* findings carry sentences */
    bool busy;                    /* being checked (the loader rejects cycles) */
    Cairn__V1__Decision decision; /* the worst result */
    cairn_expiry_t expiry;        /* the first thing it relies on that expires */
    cairn_findings_t findings;    /* what the checks found */
    Cairn__V1__Verdict *verdict;  /* written on request */
} s_gate_t;

struct cairn_eval_t {
    const cairn_policy_t *p;     /* the policy (borrowed) */
    const cairn_change_t *c;     /* the change (borrowed; NULL: no events) */
    const char *change_id;       /* the id asked for (borrowed) */
    cairn_eval_opts_t o;         /* time, environment, trigger */
    cairn_arena_t *arena;        /* owns everything the evaluation builds */
    cairn_facts_t facts;         /* what the predicates read */
    cairn_classification_t risk; /* step 1 */
    bool have_risk;
    cairn_change_kind_t kind; /* step 2 */
    cairn_evidence_index_t evidence; /* what each evidence type reads */
    cairn_review_t review;
    cairn_approvals_t approvals;
    bool have_approvals;
    Cairn__V1__Approval **approval_msgs; /* the approvals as verdicts list them */
    size_t n_approval_msgs;
    bool have_approval_msgs;
    int64_t valid_until; /* see cairn_eval_valid_until */
    s_gate_t *gates;     /* per gate, in policy order */
};

static int s_gate(cairn_eval_t *e, size_t gi, bool render);

static int s_after(cairn_eval_t *e, size_t gi, cairn_findings_t *out, Cairn__V1__Decision *decision,
                   cairn_expiry_t *expiry)
{
    int rc = 0;
    const cairn_gate_t *g = &e->p->gates[gi];
    const char *id = e->c->id;
    for (size_t i = 0; i < g->after.count && rc == 0; i++) {
        const char *dep = g->after.items[i];
        int di = g->after_index[i];
        const char *rule = cairn_arena_concat(e->arena, "after:", dep);
        if (!rule)
            return -ENOMEM;
        if (di < 0 || e->gates[di].busy) {
            *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_DENY);
            rc = cairn_findings_reason(out, rule, CAIRN_RESULT_FAIL, "gate %s cannot be evaluated",
                                       dep);
            continue;
        }
        if ((rc = s_gate(e, (size_t)di, false)) < 0)
            break;
        cairn_expiry_lower(expiry, &e->gates[di].expiry);
        Cairn__V1__Decision d = e->gates[di].decision;
        switch (d) {
        case CAIRN__V1__DECISION__DECISION_ALLOW:
            rc = cairn_findings_reason(out, rule, CAIRN_RESULT_PASS, "gate %s allows %s", dep, id);
            break;
        case CAIRN__V1__DECISION__DECISION_DENY:
            *decision = cairn_decision_worst(*decision, d);
            rc = cairn_findings_reason(out, rule, CAIRN_RESULT_FAIL, "gate %s denies %s", dep, id);
            break;
        default:
            *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_PENDING);
            rc = cairn_findings_reason(out, rule, CAIRN_RESULT_MISSING, "gate %s is %s for %s", dep,
                                       cairn_decision_name(d), id);
            if (rc == 0)
                rc = cairn_findings_open(out, "gate", rule, NULL, 0, "gate %s must allow %s first",
                                         dep, id);
            break;
        }
    }
    return rc;
}

static int s_approvals(cairn_eval_t *e, cairn_findings_t *out, Cairn__V1__Decision *decision,
                       cairn_expiry_t *expiry)
{
    int rc = 0;
    if (!e->have_approvals) {
        if ((rc = cairn_approvals_evaluate(e->p, &e->facts, e->arena, &e->approvals)) < 0)
            return rc;
        e->have_approvals = true;
    }
    if ((rc = cairn_approvals_explain(&e->approvals, e->p, &e->facts, out, decision)) < 0)
        return rc;
    const cairn_approval_view_t *first = e->approvals.expires_first;
    if (first) {
        cairn_expiry_t at = {.at_ms = e->approvals.expires_at_ms,
                             .user = first->src->user,
                             .index = first->src->index};
        cairn_expiry_lower(expiry, &at);
    }
    return 0;
}

/* Checks gate gi (and, through `after`, the gates it waits on): once to
 * decide, and once more with sentences when render asks for them. */
static int s_gate(cairn_eval_t *e, size_t gi, bool render)
{
    s_gate_t *sg = &e->gates[gi];
    if (sg->decided && (sg->rendered || !render))
        return 0;
    const cairn_gate_t *g = &e->p->gates[gi];
    Cairn__V1__Decision decision = CAIRN__V1__DECISION__DECISION_ALLOW;
    cairn_expiry_t expiry = {0};
    cairn_findings_t f;
    cairn_findings_init(&f, e->arena, render);
    int rc = 0;
    sg->busy = true;
    if (!e->c) {
        decision = CAIRN__V1__DECISION__DECISION_PENDING;
        rc = cairn_findings_reason(&f, "events", CAIRN_RESULT_MISSING,
                                   "no events recorded for change %s", e->change_id);
        goto done;
    }
    /* 1-3: classification, change type and the hard constraints. */
    rc = cairn_classify_explain(&e->risk, e->p, e->c, &f, &decision);
    if (rc == 0)
        rc = cairn_change_type_explain(&e->kind, &e->risk, e->c, &f, &decision);
    if (rc == 0)
        rc = cairn_windows_check(e->p, &e->facts, g->name, &e->kind, &f, &decision);
    if (rc == 0 && g->reads_verification)
        rc = cairn_sod_check_verifier(e->p, e->c, &f, &decision);
    /* 4: the gates before this one, then this gate's evidence. */
    if (rc == 0)
        rc = s_after(e, gi, &f, &decision, &expiry);
    if (rc == 0)
        rc = cairn_gate_check_evidence(g, &e->facts, &e->evidence, &f, &decision, &expiry);
    /* 5: approvals. */
    if (rc == 0 && g->approvals_satisfied)
        rc = s_approvals(e, &f, &decision, &expiry);
    if (rc == 0)
        rc = cairn_review_explain(&e->review, e->p, &e->facts, &f);
done:
    sg->busy = false;
    if (rc < 0)
        return rc;
    /* Writing the sentences must not change what was decided. */
    if (sg->decided && (decision != sg->decision || f.n_reasons != sg->findings.n_reasons ||
                        expiry.at_ms != sg->expiry.at_ms))
        return CAIRN_EINTEGRITY;
    sg->decision = decision;
    sg->expiry = expiry;
    sg->findings = f;
    sg->decided = true;
    sg->rendered = render;
    return 0;
}

/* Steps 1 and 2, shared by every gate. */
static int s_subject(cairn_eval_t *e)
{
    const cairn_change_t *c = e->c;
    cairn_change_type_pick(e->p, c, &e->kind);
    int rc = cairn_classify(e->p, c, e->facts.environment, e->kind.name, e->arena, &e->risk);
    if (rc < 0)
        return rc;
    e->have_risk = true;
    e->facts.risk = e->risk.risk;
    e->facts.tags = &e->risk.tags;
    e->facts.change_type = e->kind.name;
    e->facts.data_classes = e->risk.data_classes;
    e->facts.n_data_classes = e->risk.n_data_classes;
    cairn_review_evaluate(e->p, c, &e->kind, &e->review);
    cairn_evidence_index(c, &e->evidence);
    return 0;
}

int cairn_eval_new(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                   const cairn_eval_opts_t *o, bool render_all, cairn_eval_t **out)
{
    int rc = -ENOMEM;
    cairn_eval_t *e = calloc(1, sizeof *e);
    if (!e)
        return rc;
    e->p = p;
    e->c = c;
    e->change_id = change_id;
    e->o = *o;
    e->valid_until = INT64_MAX;
    e->facts = (cairn_facts_t){
        .change = c,
        .environment =
            o->environment && *o->environment ? o->environment : (c ? c->environment : ""),
        .risk = p->classify_default,
        .change_type = "normal",
        .now_ms = o->now_ms,
        .valid_until_ms = &e->valid_until,
    };
    if (!(e->arena = cairn_arena_new()) ||
        !(e->gates = cairn_arena_alloc(e->arena, (p->n_gates ? p->n_gates : 1) * sizeof *e->gates)))
        goto fail;
    if (c && (rc = s_subject(e)) < 0)
        goto fail;
    rc = 0;
    for (size_t gi = 0; gi < p->n_gates && rc == 0; gi++)
        rc = s_gate(e, gi, render_all);
    if (rc < 0)
        goto fail;
    *out = e;
    return 0;
fail:
    cairn_eval_destroy(&e);
    return rc;
}

void cairn_eval_destroy(cairn_eval_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_arena_destroy(&(*self_p)->arena);
    free(*self_p);
    *self_p = NULL;
}

Cairn__V1__Decision cairn_eval_decision(const cairn_eval_t *self, size_t gi)
{
    return self->gates[gi].decision;
}

const cairn_findings_t *cairn_eval_findings(const cairn_eval_t *self, size_t gi)
{
    return &self->gates[gi].findings;
}

int64_t cairn_eval_valid_until(const cairn_eval_t *self)
{
    return self->valid_until;
}

/* The fields every verdict carries, borrowed from the change and policy. */
static void s_header(const cairn_eval_t *e, const cairn_gate_t *g, Cairn__V1__Verdict *v)
{
    const cairn_policy_t *p = e->p;
    const cairn_change_t *c = e->c;
    v->change_id = c ? c->id : (char *)e->change_id;
    v->gate = (char *)g->name;
    v->environment = (char *)(e->facts.environment ? e->facts.environment : "");
    v->commit_sha = c ? c->commit_sha : (char *)"";
    v->risk = (char *)(e->have_risk ? cairn_risk_name(e->risk.risk) : "");
    v->change_type = (char *)(c ? e->kind.name : "");
    v->policy_name = (char *)p->name;
    v->policy_revision = (char *)p->revision;
    v->policy_digest = (char *)p->digest;
    if (e->have_risk) {
        v->risk_rules = (char **)e->risk.risk_rules.items;
        v->n_risk_rules = e->risk.risk_rules.count;
    }
    if (c) {
        v->input_indexes = c->inputs;
        v->n_input_indexes = c->n_inputs;
    }
    v->evaluated_at_ms = e->o.now_ms;
    v->trigger_index = e->o.trigger_index;
}

static int s_write(cairn_eval_t *e, size_t gi, Cairn__V1__Verdict **out)
{
    s_gate_t *sg = &e->gates[gi];
    const cairn_gate_t *g = &e->p->gates[gi];
    const cairn_findings_t *f = &sg->findings;
    cairn_arena_t *a = e->arena;
    Cairn__V1__Verdict *v = cairn_arena_alloc(a, sizeof *v);
    if (!v)
        return -ENOMEM;
    cairn__v1__verdict__init(v);
    s_header(e, g, v);
    v->decision = sg->decision;
    v->expires_at_ms = sg->expiry.at_ms;
    Cairn__V1__Reason *rs = cairn_arena_alloc(a, (f->n_reasons + 1) * sizeof *rs);
    Cairn__V1__Reason **rp = cairn_arena_alloc(a, (f->n_reasons + 1) * sizeof *rp);
    Cairn__V1__Obligation *os = cairn_arena_alloc(a, (f->n_obligations + 1) * sizeof *os);
    Cairn__V1__Obligation **op = cairn_arena_alloc(a, (f->n_obligations + 1) * sizeof *op);
    if (!rs || !rp || !os || !op)
        return -ENOMEM;
    for (size_t i = 0; i < f->n_reasons; i++) {
        const cairn_finding_t *r = &f->reasons[i];
        cairn__v1__reason__init(&rs[i]);
        rs[i].rule_id = (char *)r->rule_id;
        rs[i].result = (char *)cairn_result_name(r->result);
        rs[i].message = (char *)r->message;
        rp[i] = &rs[i];
    }
    v->reasons = rp;
    v->n_reasons = f->n_reasons;
    for (size_t i = 0; i < f->n_obligations; i++) {
        const cairn_open_t *o = &f->obligations[i];
        cairn__v1__obligation__init(&os[i]);
        os[i].kind = (char *)o->kind;
        os[i].rule_id = (char *)o->rule_id;
        if (o->roles && o->roles->count) {
            os[i].roles = (char **)o->roles->items;
            os[i].n_roles = o->roles->count;
        }
        os[i].missing = o->missing;
        os[i].message = (char *)o->message;
        op[i] = &os[i];
    }
    v->obligations = op;
    v->n_obligations = f->n_obligations;
    if (g->approvals_satisfied && e->c) {
        if (!e->have_approval_msgs) {
            int rc = cairn_approvals_messages(&e->approvals, e->p, &e->facts, a, &e->approval_msgs,
                                              &e->n_approval_msgs);
            if (rc < 0)
                return rc;
            e->have_approval_msgs = true;
        }
        v->approvals = e->approval_msgs;
        v->n_approvals = e->n_approval_msgs;
    }
    *out = v;
    return 0;
}

int cairn_eval_verdict(cairn_eval_t *self, size_t gi, Cairn__V1__Verdict **out)
{
    if (gi >= self->p->n_gates)
        return CAIRN_ENOTFOUND;
    s_gate_t *sg = &self->gates[gi];
    if (!sg->verdict) {
        int rc = s_gate(self, gi, true);
        if (rc == 0)
            rc = s_write(self, gi, &sg->verdict);
        if (rc < 0)
            return rc;
    }
    *out = sg->verdict;
    return 0;
}

/* ---- the engine's view --------------------------------------------------- */

int cairn_evaluate_change(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                          const cairn_eval_opts_t *o, cairn_evaluation_t *out)
{
    cairn_eval_t *e = NULL;
    size_t n = p->n_gates;
    int rc = cairn_eval_new(p, change_id, c, o, true, &e);
    if (rc < 0)
        return rc;
    Cairn__V1__Verdict **vs = cairn_arena_alloc(e->arena, (n ? n : 1) * sizeof *vs);
    if (!vs)
        rc = -ENOMEM;
    for (size_t gi = 0; gi < n && rc == 0; gi++)
        rc = cairn_eval_verdict(e, gi, &vs[gi]);
    if (rc < 0) {
        cairn_eval_destroy(&e);
        return rc;
    }
    memset(out, 0, sizeof *out);
    cairn_expiry_t first = {0};
    for (size_t gi = 0; gi < n; gi++)
        if (e->gates[gi].expiry.at_ms &&
            (!first.at_ms || e->gates[gi].expiry.at_ms < first.at_ms)) {
            first = e->gates[gi].expiry;
            out->expires_gate = p->gates[gi].name;
        }
    out->expires_at_ms = first.at_ms;
    cairn_expiry_text(&first, out->expires_what, sizeof out->expires_what);
    out->review_required = e->review.def != NULL;
    out->review_open = cairn_review_open(&e->review);
    out->review_due_ms = e->review.due_ms;
    out->valid_until_ms = e->valid_until;
    out->verdicts = vs;
    out->n = n;
    out->eval = e;
    return 0;
}

void cairn_evaluation_clear(cairn_evaluation_t *self)
{
    cairn_eval_destroy(&self->eval);
    memset(self, 0, sizeof *self);
}

/* ---- separately allocated verdicts ------------------------------------------ */

void cairn_verdicts_free(Cairn__V1__Verdict ***vs_p, size_t n)
{
    if (!vs_p || !*vs_p)
        return;
    for (size_t i = 0; i < n; i++)
        CAIRN_CODEC_FREE(&(*vs_p)[i]);
    free(*vs_p);
    *vs_p = NULL;
}

int cairn_evaluate_all(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                       const cairn_eval_opts_t *o, Cairn__V1__Verdict ***out, size_t *n_out)
{
    cairn_evaluation_t ev;
    int rc = cairn_evaluate_change(p, change_id, c, o, &ev);
    if (rc < 0)
        return rc;
    Cairn__V1__Verdict **all = calloc(ev.n ? ev.n : 1, sizeof *all);
    if (!all)
        rc = -ENOMEM;
    for (size_t i = 0; i < ev.n && rc == 0; i++)
        rc = cairn_policy_codec_verdict_copy(ev.verdicts[i], &all[i]);
    cairn_evaluation_clear(&ev);
    if (rc < 0) {
        cairn_verdicts_free(&all, p->n_gates);
        return rc;
    }
    *out = all;
    *n_out = p->n_gates;
    return 0;
}

int cairn_evaluate_gate(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                        const char *gate, const cairn_eval_opts_t *o, Cairn__V1__Verdict **out)
{
    int gi = cairn_policy_gate_index(p, gate);
    if (gi < 0)
        return CAIRN_ENOTFOUND;
    cairn_eval_t *e = NULL;
    Cairn__V1__Verdict *v = NULL;
    int rc = cairn_eval_new(p, change_id, c, o, false, &e);
    if (rc == 0)
        rc = cairn_eval_verdict(e, (size_t)gi, &v);
    if (rc == 0)
        rc = cairn_policy_codec_verdict_copy(v, out);
    cairn_eval_destroy(&e);
    return rc;
}
