/* Human-readable rendering of policy results shared by `cairn status` and
 * `cairn gate`: decisions, reasons, open obligations and approvals. */
#ifndef CAIRN_CLI_RENDER_H
#define CAIRN_CLI_RENDER_H

#include <stddef.h>
#include <stdio.h>

#include "cairn/codec.h"

/* The exit code for a decision: allow 0, deny 1, anything else 3. */
int cli_decision_exit(Cairn__V1__Decision decision);

/* One sentence for an open obligation, e.g.
 * "needs 1 more approval from dev or tech_lead (rule peer)". */
void cli_obligation_text(const Cairn__V1__Obligation *ob, char *buf, size_t buflen);

/* "fail    SOD1: dana is the author of CHG-1 and cannot approve it" (the
 * result padded to the longest, "missing"). */
void cli_reason_text(const Cairn__V1__Reason *reason, char *buf, size_t buflen);

/* "lee as tech_lead, index 5, commit 0123456789ab" with ", VOID by SOD1: ..."
 * for an approval a rule voided. */
void cli_approval_text(const Cairn__V1__Approval *ap, char *buf, size_t buflen);

/* Writes each reason ("fail    SOD1: ...") and then each open obligation
 * ("open    needs 1 more approval ..."), one per line, prefixed by indent. */
void cli_render_verdict_body(FILE *out, const Cairn__V1__Verdict *v, const char *indent);

#endif
