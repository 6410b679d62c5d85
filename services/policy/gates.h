/* Gate evidence criteria: does the latest evidence of the required type meet
 * the gate's `require:`? Missing and stale (max_age old, or about another
 * commit) evidence is "missing" (pending); evidence that fails is "fail"
 * (deny, or manual with on_fail: manual); evidence that cannot be read (a
 * coverage report without a figure) is "fail" and denies. */
#ifndef CAIRN_POLICY_GATES_H
#define CAIRN_POLICY_GATES_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "change.h"
#include "policy_model.h"

/* Evaluates every evidence criterion of gate g for change c at time now_ms,
 * adding one reason per criterion (and obligations for what is open) to v
 * and raising *decision. */
int cairn_gate_check_evidence(const cairn_gate_t *g, const cairn_change_t *c, int64_t now_ms,
                              Cairn__V1__Verdict *v, Cairn__V1__Decision *decision);

/* The same, also lowering *expires_ms (0: none yet) to the time the first
 * passing criterion with a max_age goes stale, and naming it in what. */
int cairn_gate_check_evidence_exp(const cairn_gate_t *g, const cairn_change_t *c, int64_t now_ms,
                                  Cairn__V1__Verdict *v, Cairn__V1__Decision *decision,
                                  int64_t *expires_ms, char *what, size_t what_len);

#endif
