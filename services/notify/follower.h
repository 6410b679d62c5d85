/* Follows the ledger: applies every entry in log order, exactly once in
 * effect, across restarts of notify and of the ledger.
 *
 * It subscribes to bus.ledger_stream for the wanted topic prefixes and keeps
 * the next index to apply (the engine persists it with its state). At start, when a streamed
 * entry's index is ahead of the next one (a gap: skipped topics, a lost
 * message, a restart), every ~1s while idle, and after a failed apply, it asks
 * the ledger (bus.ledger_api) to replay from the next index until caught up.
 * Entries with index < next are ignored. Entries whose topic matches no prefix
 * are skipped but still advance the index. */
#ifndef CAIRN_NOTIFY_FOLLOWER_H
#define CAIRN_NOTIFY_FOLLOWER_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"

/* Applies one wanted entry whose index is the next one. On success (0) the
 * entry's effects are in the engine's batch, which is committed together
 * with next = entry->index + 1. A negative code leaves the entry pending:
 * it is offered again after a pause. */
typedef int (*cairn_notify_follower_apply_fn)(void *arg, const Cairn__V1__Entry *entry);

typedef struct cairn_notify_follower_t cairn_notify_follower_t;

typedef struct {
    const char *stream_endpoint;          /* bus.ledger_stream */
    const char *api_endpoint;             /* bus.ledger_api */
    const char *const *prefixes;          /* wanted topic prefixes, e.g. "verdict.", "alert." */
    size_t n_prefixes;                    /* how many prefixes */
    int request_timeout_ms;               /* bus.request_timeout for replay calls (capped at 1 s) */
    uint64_t next;                        /* the first index to apply */
    cairn_notify_follower_apply_fn apply; /* called for each wanted entry, in order */
    void *arg;                            /* passed to apply */
} cairn_notify_follower_config_t;

/* Connects the subscriber. Nothing is fetched until the first
 * cairn_notify_follower_poll. */
int cairn_notify_follower_new(const cairn_notify_follower_config_t *config,
                              cairn_notify_follower_t **out);
void cairn_notify_follower_destroy(cairn_notify_follower_t **self_p);

/* One turn of the loop: catch up by replay when due, then wait up to
 * timeout_ms for a streamed entry and apply what is in order. Returns 0 (bus
 * trouble is retried, not returned). */
int cairn_notify_follower_poll(cairn_notify_follower_t *self, int timeout_ms);

/* Like poll, but only applies what is already there: replay when due and
 * streamed entries waiting on the socket; never waits. */
int cairn_notify_follower_drain(cairn_notify_follower_t *self);

/* The stream socket, for the engine's own poll loop. */
void *cairn_notify_follower_socket(cairn_notify_follower_t *self);

/* When the follower next wants to replay (monotonic ms). */
int64_t cairn_notify_follower_due_ms(const cairn_notify_follower_t *self);

/* The next ledger index to apply. */
uint64_t cairn_notify_follower_next(const cairn_notify_follower_t *self);

/* Entries skipped because no prefix matched; streamed messages that did not decode. */
uint64_t cairn_notify_follower_skipped(const cairn_notify_follower_t *self);
uint64_t cairn_notify_follower_bad(const cairn_notify_follower_t *self);

#endif
