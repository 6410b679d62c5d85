/* The policy's own tests (`tests:` in the policy file, run by `cairn policy
 * test`): each case feeds a recorded history of CloudEvents through the
 * real ingest normalizer and the real evaluator, and compares the decision
 * and the deciding rules with what the case expects.
 *
 * A case's `input` is a path relative to the policy file, naming a JSON
 * file that is either a list of CloudEvents (structured mode, exactly what
 * POST /v1/events accepts), or an object:
 *   {
 *     "description": "...",            optional, for people
 *     "events": [ CloudEvent, ... ],    in the order the ledger would hold them
 *     "change": "CHG-1",                optional: default the one change the events name
 *     "gate": "deployment",             optional: default every gate
 *     "env": "prod",                    optional: evaluate for this environment
 *     "at": "2026-11-25T12:00:00Z"      optional: evaluation time
 *   }
 * Event i is recorded at ledger index i, received at its CloudEvents `time`
 * (else `at`, else 0); the evaluation time defaults to the latest received
 * time. Events of other changes, and events that name none, are ignored.
 *
 * The decision of a case is that of its gate, or without `gate` the worst
 * over every gate (deny > pending > manual > allow). `expect.decision` must
 * equal it; every id in `expect.reasons_include` must be a rule that
 * decides it: a reason with result fail or missing in an evaluated gate
 * (or a rule among the verdict's risk_rules). A case that expects nothing
 * fails, since it could never fail otherwise. */
#ifndef CAIRN_POLICY_TESTCASES_H
#define CAIRN_POLICY_TESTCASES_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn/codec.h"
#include "policy_model.h"

/* The outcome of one case. */
typedef struct {
    const char *name;              /* the case's name (owned by the policy) */
    bool passed;                   /* every expectation held */
    bool broken;                   /* the input could not be used (see message) */
    char *message;                 /* why it failed or broke ("" when it passed) */
    char *change;                  /* the change evaluated ("" when broken early) */
    Cairn__V1__Decision decision;  /* the decision found */
    Cairn__V1__Verdict **verdicts; /* the gates evaluated, in policy order */
    size_t n_verdicts;
} cairn_testcase_result_t;

/* Runs case t of policy p; input paths are relative to base_dir. Returns
 * 0 with *out filled (passed or not), or -ENOMEM. */
int cairn_testcase_run(const cairn_policy_t *p, const cairn_policy_test_t *t, const char *base_dir,
                       cairn_testcase_result_t *out);

/* Runs every case of p, whose file is policy_path. *out holds p->n_tests results. */
int cairn_testcases_run_all(const cairn_policy_t *p, const char *policy_path,
                            cairn_testcase_result_t **out);

void cairn_testcase_result_clear(cairn_testcase_result_t *r);
void cairn_testcase_results_free(cairn_testcase_result_t **rs_p, size_t n);

#endif
