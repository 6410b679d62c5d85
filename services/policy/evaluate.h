/* Evaluation: the decision for a change at each gate, with every reason.
 *
 * A pure function of (policy, change state, options): no clock, no I/O, so a
 * verdict can be recomputed from the ledger. The time is o->now_ms (the
 * triggering event's time, or a query's explicit time). In the order of
 * POLICY-FORMAT.md:
 *   1. classify the risk (classify.c), with the change's data classes;
 *   2. pick the change type (change_type.c);
 *   3. hard constraints: the change type's requirements, freeze and
 *      maintenance windows (windows.c), a stated risk that cannot be read,
 *      the verifier's separation of duties -> deny;
 *   4. per gate: the gates in `after` (deny -> deny, else pending), then the
 *      evidence criteria (gates.c): missing -> pending, failing -> deny, or
 *      manual with on_fail: manual;
 *   5. approvals (approvals.c) when the gate requires approvals_satisfied:
 *      missing -> pending (a rejection, or unmet rules with an approval
 *      voided by separation of duties -> deny).
 * The decision is the worst found: deny > pending > manual > allow. Every
 * rule evaluated leaves a reason. A verdict expires at the earliest expiry
 * of an approval it counts or of evidence it passed (max_age), through its
 * `after` gates too.
 *
 * Deciding and writing are separate: an evaluation first decides every gate
 * with the rule ids and results that decided it (findings.h), writing no
 * sentence; a gate's Verdict message, with its sentences, is written when
 * it is first asked for, once. Everything lives in the evaluation's arena.
 *
 * Every result that depends on the time (evidence max_age, approval expiry,
 * windows, a review falling due) notes when it can next change, so an
 * evaluation at now_ms also says until when it holds: the same evaluation at
 * any time in [now_ms, valid_until) gives the same verdicts, apart from
 * evaluated_at_ms. The gate query cache relies on that. */
#ifndef CAIRN_POLICY_EVALUATE_H
#define CAIRN_POLICY_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "change.h"
#include "findings.h"
#include "policy_model.h"

typedef struct {
    const char *environment; /* evaluate for this environment (NULL/"": the change's own) */
    int64_t now_ms;          /* evaluation time: the trigger event's received time */
    uint64_t trigger_index;  /* ledger index of the event that caused the evaluation */
} cairn_eval_opts_t;

/* The worse of two decisions (deny > pending > manual > allow). */
Cairn__V1__Decision cairn_decision_worst(Cairn__V1__Decision a, Cairn__V1__Decision b);

typedef struct cairn_eval_t cairn_eval_t;

/* Decides every gate of change c for change_id with policy p. c may be NULL
 * (no events yet): every gate is then pending with "no events recorded for
 * change <id>". With render_all the sentences of every gate are written
 * while deciding (what the engine appends); otherwise none until asked.
 * change_id, c, p and o->environment are borrowed: they must outlive the
 * evaluation and its verdicts. */
int cairn_eval_new(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                   const cairn_eval_opts_t *o, bool render_all, cairn_eval_t **out);
void cairn_eval_destroy(cairn_eval_t **self_p);

/* Gate gi's decision and findings (gi < p->n_gates). */
Cairn__V1__Decision cairn_eval_decision(const cairn_eval_t *self, size_t gi);
const cairn_findings_t *cairn_eval_findings(const cairn_eval_t *self, size_t gi);

/* The first time after now_ms at which a verdict may change (INT64_MAX:
 * none of it depends on the time). */
int64_t cairn_eval_valid_until(const cairn_eval_t *self);

/* Gate gi's verdict, written on the first call. It belongs to the
 * evaluation (never free it) and borrows from the change and the policy. */
int cairn_eval_verdict(cairn_eval_t *self, size_t gi, Cairn__V1__Verdict **out);

/* The verdicts and what the engine needs besides them. */
typedef struct {
    Cairn__V1__Verdict **verdicts; /* one per gate, in policy order (owned by eval) */
    size_t n;
    int64_t expires_at_ms;    /* earliest expiry over all gates (0: none) */
    char expires_what[256];   /* what expires then, for people */
    const char *expires_gate; /* first gate with that expiry */
    bool review_required;     /* the change type asks for a post-implementation review */
    bool review_open;         /* deployed and not yet reviewed */
    int64_t review_due_ms;    /* when it is due (0: not yet deployed) */
    int64_t valid_until_ms;   /* see cairn_eval_valid_until */
    cairn_eval_t *eval;       /* owns the verdicts */
} cairn_evaluation_t;

/* Every gate decided and written, with the change-level results. */
int cairn_evaluate_change(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                          const cairn_eval_opts_t *o, cairn_evaluation_t *out);
void cairn_evaluation_clear(cairn_evaluation_t *self);

/* One verdict per gate, in policy order, as separately allocated messages
 * the caller owns (free with cairn_verdicts_free). */
int cairn_evaluate_all(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                       const cairn_eval_opts_t *o, Cairn__V1__Verdict ***out, size_t *n_out);

/* The verdict for one gate, owned by the caller (CAIRN_CODEC_FREE);
 * CAIRN_ENOTFOUND when the policy has no such gate. */
int cairn_evaluate_gate(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                        const char *gate, const cairn_eval_opts_t *o, Cairn__V1__Verdict **out);

/* Frees an array from cairn_evaluate_all (NULL-safe, sets *vs_p to NULL). */
void cairn_verdicts_free(Cairn__V1__Verdict ***vs_p, size_t n);

#endif
