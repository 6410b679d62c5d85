/* Gate evidence criteria: does the latest evidence of the required type meet
 * the gate's `require:`? Missing, stale (older than max_age, or about another
 * commit) and unreadable evidence is "missing" (pending); evidence that
 * fails is "fail" (deny, or manual with on_fail: manual). */
#ifndef CAIRN_POLICY_GATES_H
#define CAIRN_POLICY_GATES_H

#include <stdint.h>

#include "cairn/codec.h"
#include "change.h"
#include "policy_model.h"

/* Evaluates every evidence criterion of gate g for change c at time now_ms,
 * adding one reason per criterion (and obligations for what is open) to v
 * and raising *decision. */
int cairn_gate_check_evidence(const cairn_gate_t *g, const cairn_change_t *c, int64_t now_ms,
                              Cairn__V1__Verdict *v, Cairn__V1__Decision *decision);

#endif
