/* Follows the ledger: applies every entry in log order, exactly once in
 * effect, across restarts of notify and of the ledger.
 *
 * It subscribes to bus.ledger_stream for the wanted topic prefixes and keeps
 * the next index to apply (persisted in the outbox). At start, when a streamed
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
#include "outbox.h"

/* Applies one wanted entry whose index is the next one. On success (0) the
 * callback has persisted next = entry->index + 1 in the same transaction as
 * its own state (cairn_notify_outbox_commit_sent or _set_next). A negative
 * code leaves the entry pending: it is offered again after a pause. */
typedef int (*cairn_notify_follower_apply_fn)(void *arg, const Cairn__V1__Entry *entry);

typedef struct cairn_notify_follower_t cairn_notify_follower_t;

typedef struct {
    const char *stream_endpoint;          /* bus.ledger_stream */
    const char *api_endpoint;             /* bus.ledger_api */
    const char *const *prefixes;          /* wanted topic prefixes, e.g. "verdict.", "alert." */
    size_t n_prefixes;                    /* how many prefixes */
    int request_timeout_ms;               /* bus.request_timeout for replay calls */
    cairn_notify_outbox_t *outbox;        /* where next is read and persisted (not owned) */
    cairn_notify_follower_apply_fn apply; /* called for each wanted entry, in order */
    void *arg;                            /* passed to apply */
} cairn_notify_follower_config_t;

/* Connects the subscriber and reads next from the outbox. Nothing is fetched
 * until the first cairn_notify_follower_poll. */
int cairn_notify_follower_new(const cairn_notify_follower_config_t *config,
                              cairn_notify_follower_t **out);
void cairn_notify_follower_destroy(cairn_notify_follower_t **self_p);

/* One turn of the loop: catch up by replay when due, then wait up to
 * timeout_ms for a streamed entry and apply what is in order. Returns 0, or a
 * negative code when the outbox failed (bus trouble is retried, not returned). */
int cairn_notify_follower_poll(cairn_notify_follower_t *self, int timeout_ms);

/* The next ledger index to apply. */
uint64_t cairn_notify_follower_next(const cairn_notify_follower_t *self);

/* Entries skipped because no prefix matched; streamed messages that did not decode. */
uint64_t cairn_notify_follower_skipped(const cairn_notify_follower_t *self);
uint64_t cairn_notify_follower_bad(const cairn_notify_follower_t *self);

#endif
