/* Separation of duties: who may not approve or verify a change.
 *
 * A rule names a duty (approver or verifier) and the facts or account kinds
 * the person performing it may not be: `not: [author, committers]`,
 * `not_kind: [service_account]`. Approvals that break a rule are void: kept
 * and shown, never counted. */
#ifndef CAIRN_POLICY_SOD_H
#define CAIRN_POLICY_SOD_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn/codec.h"
#include "change.h"
#include "findings.h"
#include "policy_model.h"

/* Whether user performing the rule's duty on change breaks it; if so and
 * reason is not NULL, a sentence ("dana is the author of CHG-1 and cannot
 * approve it") is written to it. */
bool cairn_sod_violated(const cairn_policy_t *p, const cairn_sod_rule_t *rule,
                        const cairn_change_t *change, const char *user, char *reason, size_t len);

/* Checks the change's verifier against every verifier rule, adding a reason
 * per rule to out and raising *decision to deny on a violation. */
int cairn_sod_check_verifier(const cairn_policy_t *p, const cairn_change_t *change,
                             cairn_findings_t *out, Cairn__V1__Decision *decision);

#endif
