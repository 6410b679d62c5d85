/* Alertmanager's dispatcher over the ledger's verdicts and alerts: the
 * current alerts, the aggregation groups they are routed into, the group
 * timers, and the notification log that decides whether a flush notifies.
 *
 * An alert (derive.h) enters every route the tree matches and joins, on
 * each, the group of its group_by labels. A new group waits group_wait
 * before its first flush, then flushes every group_interval (0: as soon as
 * it changes). At a flush, for every integration of the route's receiver,
 * the alerts that are silenced or inhibited are left out, and a
 * notification is made when (Alertmanager's dedup rule, per integration):
 *   - a firing alert is new or changed since the last notification, or
 *   - every alert resolved and the last notification had firing ones, or
 *   - send_resolved is on and an alert it was told about resolved, or
 *   - nothing changed, repeat_interval passed since the last notification
 *     (0: never) and some firing alert is not acknowledged (a reminder).
 * Nothing is made while the route is muted by its time intervals. Resolved
 * alerts leave the group after the flush; an empty group is deleted.
 *
 * All state is in the store (alerts, groups, members, notification log), so
 * a restart carries on with the same groups, timers and sequence numbers. */
#ifndef CAIRN_NOTIFY_DISPATCH_H
#define CAIRN_NOTIFY_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "derive.h"
#include "inhibit.h"
#include "render.h"
#include "routes.h"
#include "silences.h"
#include "store.h"

typedef struct cairn_dispatch_t cairn_dispatch_t;

/* Called for each notification a flush makes; the engine renders it into
 * the outbox in the same batch. */
typedef int (*cairn_dispatch_emit_fn)(void *arg, const cairn_integration_t *in,
                                      const cairn_notification_t *n);

/* Called when a firing alert has waited longer than an escalation's
 * `after` without an acknowledgement: labels are the escalation alert's
 * (kind=escalation, escalation=<name>, escalated_kind=<the alert's kind>,
 * plus the alert's labels and set_labels). */
typedef int (*cairn_dispatch_escalate_fn)(void *arg, const cairn_escalation_t *e,
                                          const cairn_labels_t *labels, const json_t *body,
                                          uint64_t fingerprint, uint64_t index);

typedef struct {
    uint64_t alerts;        /* alerts held */
    uint64_t firing;        /* of which firing */
    uint64_t groups;        /* aggregation groups */
    uint64_t notifications; /* notifications made */
    uint64_t silenced;      /* alert mentions left out by a silence */
    uint64_t inhibited;     /* ... by an inhibit rule */
    uint64_t muted;         /* flushes held back by time intervals */
} cairn_dispatch_stats_t;

/* Loads the state from store. Groups whose route no longer exists have their
 * alerts routed again through the current tree. */
int cairn_dispatch_new(const cairn_routes_t *routes, cairn_notify_store_t *store,
                       const cairn_silences_t *silences, int64_t now_ms, cairn_dispatch_t **out);
void cairn_dispatch_destroy(cairn_dispatch_t **self_p);

/* Takes in a derived alert (a verdict or alert record at index, made at
 * at_ms: when it starts, changes or resolves). Timers run from now_ms. */
int cairn_dispatch_ingest(cairn_dispatch_t *self, const cairn_derived_t *d, uint64_t index,
                          int64_t at_ms, int64_t now_ms);

/* Flushes every group that is due at now_ms. */
int cairn_dispatch_flush(cairn_dispatch_t *self, int64_t now_ms, cairn_dispatch_emit_fn emit,
                         void *arg);

/* Resolves alerts that were not updated for resolve_timeout and raises due
 * escalations. */
int cairn_dispatch_sweep(cairn_dispatch_t *self, int64_t now_ms, cairn_dispatch_escalate_fn fn,
                         void *arg);

/* Resolves the delivery_failed alerts about target (it delivers again). */
int cairn_dispatch_resolve_target(cairn_dispatch_t *self, const char *target, int64_t now_ms);

/* Makes every group due (silences changed). */
void cairn_dispatch_touch_all(cairn_dispatch_t *self, int64_t now_ms);

/* The earliest time a group is due (INT64_MAX: none). */
int64_t cairn_dispatch_next_due(const cairn_dispatch_t *self);

/* Writes changed alerts and groups into the store's open batch. */
int cairn_dispatch_persist(cairn_dispatch_t *self);

void cairn_dispatch_stats(const cairn_dispatch_t *self, cairn_dispatch_stats_t *out);

#endif
