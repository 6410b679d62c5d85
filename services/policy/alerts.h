/* Alerts the policy raises about a change:
 *   approval_requested   a gate that requires approvals became pending on
 *                        them (labels: change, gate, roles, missing)
 *   gate_denied          a gate's decision became deny (labels: change, gate,
 *                        gates = every gate denied by this event, reasons =
 *                        the failing rule ids; the summary gives the reasons)
 *   approval_expiring    the change's verdicts expire (an approval or a piece
 *                        of evidence they rely on) within
 *                        defaults.expiry_warning of the triggering event
 *                        (labels: change, gate, expires_at); once per expiry
 *   post_review_overdue  an open post-implementation review was due at or
 *                        before the triggering event (labels: change,
 *                        due_at, roles); once per change
 * All carry the label `environment` when the change states one. They are
 * raised by events only (there is no timer): an expiry or a due time passes
 * unnoticed until the next event. The first two are raised on transitions,
 * compared with the decisions last published for the change. At most one
 * alert of each kind per triggering event, matching the idempotency key
 * "alert:<kind>:<change>:<trigger index>". */
#ifndef CAIRN_POLICY_ALERTS_H
#define CAIRN_POLICY_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "change.h"
#include "evaluate.h"
#include "policy_model.h"

/* An alert with the key it is appended under. */
typedef struct {
    Cairn__V1__Alert *alert; /* built message (free with CAIRN_CODEC_FREE) */
    char *key;               /* idempotency key (malloc'd) */
} cairn_alert_out_t;

/* The alerts raised by moving change c (whose gates still hold the previous
 * decisions) to verdicts vs. *out holds up to 2 alerts; *n_out how many. */
int cairn_alerts_raise(const cairn_change_t *c, Cairn__V1__Verdict *const *vs, size_t n,
                       uint64_t trigger_index, int64_t at_ms, cairn_alert_out_t out[2],
                       size_t *n_out);

void cairn_alerts_clear(cairn_alert_out_t *alerts, size_t n);

/* A growing list of alerts. */
typedef struct {
    cairn_alert_out_t items[4]; /* at most one per kind */
    size_t n;
} cairn_alert_list_t;

/* Every alert raised by moving change c (its gates still hold the previous
 * decisions, its bookkeeping the previous warnings) to evaluation e at the
 * event trigger_index received at at_ms. */
int cairn_alerts_collect(const cairn_policy_t *p, const cairn_change_t *c,
                         const cairn_evaluation_t *e, uint64_t trigger_index, int64_t at_ms,
                         cairn_alert_list_t *out);

/* Only the post_review_overdue alert (for a change another event woke). */
int cairn_alerts_overdue_review(const cairn_policy_t *p, const cairn_change_t *c,
                                const cairn_evaluation_t *e, uint64_t trigger_index, int64_t at_ms,
                                cairn_alert_list_t *out);

/* Records in c the decisions of e and what the raised alerts were about, so
 * they are not raised again. */
int cairn_alerts_note(cairn_change_t *c, const cairn_evaluation_t *e,
                      const cairn_alert_list_t *raised);

void cairn_alert_list_clear(cairn_alert_list_t *self);

#endif
