/* Time windows: freeze windows (no change may pass while one is in force)
 * and maintenance windows (where any apply, changes pass only inside one).
 *
 * A recurring window starts at each occurrence of its cron schedule, read in
 * the policy's time zone (defaults.timezone), and lasts its duration of
 * elapsed time: "0 18 * * FRI" with 62h is Friday 18:00 local to Monday
 * 08:00 local, or 07:00 / 09:00 when the clocks change in between. A one-off
 * window is [from, to). A window covers the environments, services and
 * gates it lists (all when it lists none); an environment or service the
 * change does not state counts as covered (fail closed). A change type with
 * `exempt: [freeze]` passes freeze windows. A window that blocks denies. */
#ifndef CAIRN_POLICY_WINDOWS_H
#define CAIRN_POLICY_WINDOWS_H

#include <stdint.h>

#include "cairn/codec.h"
#include "change_type.h"
#include "findings.h"
#include "policy_model.h"
#include "predicates.h"

/* Whether window w is in force at now_ms; *start_ms / *end_ms get the
 * occurrence in force (or, when not in force, the next start within a
 * year and its end, 0 when none). */
bool cairn_window_active(const cairn_policy_t *p, const cairn_window_t *w, int64_t now_ms,
                         int64_t *start_ms, int64_t *end_ms);

/* Checks every window for gate at now_ms, adding a reason per window. */
int cairn_windows_check(const cairn_policy_t *p, const cairn_facts_t *f, const char *gate,
                        const cairn_change_kind_t *kind, cairn_findings_t *out,
                        Cairn__V1__Decision *decision);

#endif
