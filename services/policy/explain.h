/* Verdicts in words: for each gate, the decision and why, every rule that
 * was evaluated and what it found, what is still open, and the approvals
 * as the policy counted them. Used by `cairn policy explain` (verdicts from
 * the policy daemon) and `cairn policy test` (verdicts of a failing case).
 *
 *   gate deployment: DENY, because SOD1 failed
 *     after:build   passed        gate build allows CHG-1
 *     SOD1          FAILED        dana is the author of CHG-1 and cannot approve it
 *     peer          missing       peer needs 1 more approval from dev or tech_lead (0 of 1 given)
 *     still open:   1 more approval from dev or tech_lead (rule peer)
 *     approval:     dana as dev (ledger index 3, commit 4f2a9c0d8e7b): void by SOD1
 */
#ifndef CAIRN_POLICY_EXPLAIN_H
#define CAIRN_POLICY_EXPLAIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "cairn/codec.h"

/* What a reason's result means: "passed", "FAILED", "missing", "void
 * (ignored)", "does not apply"; an unknown result is returned as it is. */
const char *cairn_explain_result(const char *result);

/* Why the verdict has its decision, as a clause: "every rule passed",
 * "because SOD1 failed", "because peer and unit-tests are missing",
 * "because coverage failed and a person must decide". */
void cairn_explain_because(const Cairn__V1__Verdict *v, char *buf, size_t len);

/* One sentence for an open obligation. */
void cairn_explain_obligation(const Cairn__V1__Obligation *ob, char *buf, size_t len);

/* Writes the verdict as in the file comment, each line prefixed by indent. */
void cairn_explain_verdict(FILE *out, const Cairn__V1__Verdict *v, const char *indent);

/* The subject line for a set of verdicts of one change: change, environment,
 * commit, policy name, revision and digest, and the inputs they rest on. */
void cairn_explain_subject(FILE *out, const Cairn__V1__Verdict *v);

/* {"gate", "decision", "because", "rules": [{"rule", "result", "meaning",
 * "message"}], "open": [sentences], "approvals": [sentences]}. */
json_t *cairn_explain_json(const Cairn__V1__Verdict *v);

#endif
