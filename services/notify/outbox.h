/* The durable outbox: every notification to every integration waits here,
 * in LMDB, from the moment a flush makes it until it is delivered or
 * dead-lettered. Messages are keyed by integration (target), group and
 * sequence ("<target>:<group id>:<sequence>"), and a group's messages go
 * out in sequence order, one at a time, so a receiver never sees them out
 * of order.
 *
 * A message is pending (due at `next`), in flight (an attempt started; the
 * attempt number is committed before the request leaves) or dead. Taking a
 * message writes only a small attempts record beside it (number, start),
 * not the message again: the rendered body is written once, when made. A
 * message found in flight at start was interrupted by a crash: it is
 * reported once and becomes due again, with the same ids, so a receiver
 * that deduplicates on webhook-id / Message-ID sees it once. */
#ifndef CAIRN_NOTIFY_OUTBOX_H
#define CAIRN_NOTIFY_OUTBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define CAIRN_OUTBOX_KEY_MAX 320

typedef struct cairn_outbox_t cairn_outbox_t;

/* A message taken for an attempt. */
typedef struct {
    char key[CAIRN_OUTBOX_KEY_MAX]; /* outbox key */
    json_t *msg;                    /* the message (the caller owns this reference) */
} cairn_outbox_job_t;

/* Called at open for each message an earlier process left in flight. */
typedef int (*cairn_outbox_interrupted_fn)(void *arg, const char *key, json_t *msg);

int cairn_outbox_open(cairn_notify_store_t *store, int64_t now_ms, cairn_outbox_interrupted_fn fn,
                      void *arg, cairn_outbox_t **out);
void cairn_outbox_destroy(cairn_outbox_t **self_p);

/* Adds a message (msg is stolen); it is due at now_ms. The message gets
 * target, group_id, seq, state, attempt, next and created set. */
int cairn_outbox_enqueue(cairn_outbox_t *self, const char *target, const char *group_id,
                         uint64_t seq, json_t *msg, int64_t now_ms);

/* Takes up to max due messages (at most max_per_target in flight per
 * target, one per group), marks each in flight with its attempt counted,
 * and returns how many were taken. */
size_t cairn_outbox_take(cairn_outbox_t *self, int64_t now_ms, size_t max_per_target,
                         cairn_outbox_job_t *jobs, size_t max);

/* The attempt delivered the whole message: it leaves the outbox. */
int cairn_outbox_delivered(cairn_outbox_t *self, const char *key);

/* The attempt must be repeated or continued (msg updated by the caller:
 * part, last_error, ...) at next_ms. */
int cairn_outbox_reschedule(cairn_outbox_t *self, const char *key, json_t *msg, int64_t next_ms);

/* The message is dead-lettered (msg updated by the caller: last_error). */
int cairn_outbox_dead(cairn_outbox_t *self, const char *key, json_t *msg, int64_t now_ms);

/* Dead-letters every message of target that is not in flight, calling fn
 * for each (e.g. to record a receipt). */
int cairn_outbox_kill_target(cairn_outbox_t *self, const char *target, const char *reason,
                             int64_t now_ms, cairn_outbox_interrupted_fn fn, void *arg);

/* When the next pending message is due (INT64_MAX: none), counting only
 * targets with fewer than max_per_target attempts under way. */
int64_t cairn_outbox_next_due(const cairn_outbox_t *self, size_t max_per_target);

size_t cairn_outbox_pending(const cairn_outbox_t *self);
size_t cairn_outbox_inflight(const cairn_outbox_t *self);

/* Dead letters in key order (receiver, group, sequence) as JSON objects (up to max). */
int cairn_outbox_dead_letters(cairn_outbox_t *self, size_t max, json_t **out);

#endif
