/* Evaluation: the decision for a change at each gate, with every reason.
 *
 * A pure function of (policy, change state, options): no clock, no I/O, so a
 * verdict can be recomputed from the ledger. Per gate, in this order:
 *   1. the gates named in `after` must allow (deny -> deny, else pending);
 *   2. evidence criteria (gates.c): missing -> pending, failing -> deny or manual;
 *   3. verifier separation of duties, when the gate reads verification evidence;
 *   4. approvals (approvals.c) when the gate requires approvals_satisfied.
 * The decision is the worst found: deny > pending > manual > allow.
 * Risk is "low" and the change type "normal" until classification lands. */
#ifndef CAIRN_POLICY_EVALUATE_H
#define CAIRN_POLICY_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "change.h"
#include "policy_model.h"

typedef struct {
    const char *environment; /* evaluate for this environment (NULL/"": the change's own) */
    int64_t now_ms;          /* evaluation time: the trigger event's received time */
    uint64_t trigger_index;  /* ledger index of the event that caused the evaluation */
} cairn_eval_opts_t;

/* The worse of two decisions (deny > pending > manual > allow). */
Cairn__V1__Decision cairn_decision_worst(Cairn__V1__Decision a, Cairn__V1__Decision b);

/* One verdict per gate, in policy order. change may be NULL (no events yet):
 * every gate is then pending with "no events recorded for change <id>". */
int cairn_evaluate_all(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                       const cairn_eval_opts_t *o, Cairn__V1__Verdict ***out, size_t *n_out);

/* The verdict for one gate; CAIRN_ENOTFOUND when the policy has no such gate. */
int cairn_evaluate_gate(const cairn_policy_t *p, const char *change_id, const cairn_change_t *c,
                        const char *gate, const cairn_eval_opts_t *o, Cairn__V1__Verdict **out);

/* Frees an array from cairn_evaluate_all (NULL-safe, sets *vs_p to NULL). */
void cairn_verdicts_free(Cairn__V1__Verdict ***vs_p, size_t n);

#endif
