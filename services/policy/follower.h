/* Follows the ledger in log order, exactly once in effect.
 *
 * It subscribes to every entry on bus.ledger_stream and keeps the next index
 * to apply. At start, when a streamed entry is ahead of the next index (a
 * gap: a lost message, a restart of either side), after an apply failed (the
 * ledger did not take a verdict; retried after a pause) and every second
 * while the stream is quiet, it asks the ledger to replay from the next
 * index until caught up. Entries below the next index are ignored. */
#ifndef CAIRN_POLICY_FOLLOWER_H
#define CAIRN_POLICY_FOLLOWER_H

#include <stdint.h>

#include "cairn/codec.h"
#include "ledger_link.h"

/* Applies the entry at the next index. 0: done, the follower moves on (the
 * callback has made that durable as it sees fit); negative: not applied, the
 * entry is offered again after a pause. */
typedef int (*cairn_follower_apply_fn)(void *arg, const Cairn__V1__Entry *entry);

typedef struct cairn_follower_t cairn_follower_t;

/* Subscribes to stream_endpoint; replays through link (not owned). */
int cairn_follower_new(const char *stream_endpoint, cairn_ledger_link_t *link, uint64_t next,
                       cairn_follower_apply_fn apply, void *arg, cairn_follower_t **out);
void cairn_follower_destroy(cairn_follower_t **self_p);

/* One turn: catch up by replay when due, then wait up to timeout_ms for
 * streamed entries and apply those in order. */
void cairn_follower_step(cairn_follower_t *self, int timeout_ms);

/* The next ledger index to apply. */
uint64_t cairn_follower_next(const cairn_follower_t *self);

/* Streamed messages that could not be decoded. */
uint64_t cairn_follower_bad(const cairn_follower_t *self);

#endif
