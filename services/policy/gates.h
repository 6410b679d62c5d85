/* Gate evidence criteria: does the latest evidence of the required type meet
 * the gate's `require:`? Missing and stale (max_age old, or about another
 * commit) evidence is "missing" (pending); evidence that fails is "fail"
 * (deny, or manual with on_fail: manual); evidence that cannot be read (a
 * coverage report without a figure) is "fail" and denies. */
#ifndef CAIRN_POLICY_GATES_H
#define CAIRN_POLICY_GATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "change.h"
#include "findings.h"
#include "policy_model.h"
#include "predicates.h"

/* The evidence each type of the vocabulary reads for one change, looked
 * up once per evaluation: the latest of the type (for coverage, else the
 * latest evidence that states a coverage figure), whether it is about
 * another commit than the change's (or its merge commit), and whether its
 * outcome is "success". */
typedef struct {
    const cairn_change_evidence_t *latest[CAIRN_EVIDENCE_TYPES];
    bool other_commit[CAIRN_EVIDENCE_TYPES];
    bool success[CAIRN_EVIDENCE_TYPES];
    int coverage; /* the index of type "coverage" */
} cairn_evidence_index_t;

void cairn_evidence_index(const cairn_change_t *c, cairn_evidence_index_t *out);

/* Evaluates every evidence criterion of gate g for the change of f at
 * f->now_ms, adding one finding per criterion (and what is open) to out,
 * raising *decision, and lowering *expiry to the time the first passing
 * criterion with a max_age goes stale. Evidence about the change's commit
 * or its recorded merge commit counts; other commits' does not. */
int cairn_gate_check_evidence(const cairn_gate_t *g, const cairn_facts_t *f,
                              const cairn_evidence_index_t *ix, cairn_findings_t *out,
                              Cairn__V1__Decision *decision, cairn_expiry_t *expiry);

#endif
