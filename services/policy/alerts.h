/* Alerts the policy raises when a change's verdicts move:
 *   approval_requested  a gate that requires approvals became pending on them
 *                       (labels: change, gate, roles)
 *   gate_denied         a gate's decision became deny (labels: change, gate,
 *                       gates = every gate denied by this event)
 * Both carry the label `environment` when the change states one.
 * Only transitions raise alerts, compared with the decisions last published
 * for the change, and at most one alert of each kind per triggering event,
 * matching the idempotency key "alert:<kind>:<change>:<trigger index>". */
#ifndef CAIRN_POLICY_ALERTS_H
#define CAIRN_POLICY_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "change.h"

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

#endif
