/* The spool: a local, durable first-in first-out queue of ledger appends
 * ({cairn.data_dir}/ingest/spool, LMDB). When the ledger does not
 * acknowledge an event in time, ingest commits the append request here and
 * answers 202 with the spool sequence; the recorder (recorder.h) drains the
 * spool into the ledger in sequence order and removes each item only after
 * the ledger acknowledged it.
 *
 * Each item is one packed cairn.v1.LedgerRequest (an append) under its
 * sequence number, with its idempotency key indexed (by SHA-256) so that a
 * redelivery of an event still in the spool is recognized. Sequence numbers
 * only grow, across restarts too. Items the ledger refuses outright are
 * moved aside ("dead") instead of blocking the queue; they stay in the
 * store for an operator.
 *
 * Thread-safe: every call runs its own LMDB transaction. */
#ifndef CAIRN_INGEST_SPOOL_H
#define CAIRN_INGEST_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cairn_ingest_spool_t cairn_ingest_spool_t;

/* One spooled item, as spool_peek returns it. */
typedef struct {
    uint64_t seq;      /* spool sequence number */
    int64_t queued_ms; /* when it was committed to the spool (Unix ms) */
    uint8_t *request;  /* packed LedgerRequest (malloc'd) */
    size_t len;        /* bytes in request */
} cairn_ingest_spooled_t;

/* Counts for /metrics and `cairn ingest spool`. */
typedef struct {
    uint64_t depth;     /* items waiting */
    uint64_t bytes;     /* bytes of their requests */
    uint64_t dead;      /* items the ledger refused, kept aside */
    uint64_t next_seq;  /* the sequence the next item gets */
    int64_t oldest_ms;  /* when the oldest waiting item was queued; 0 when empty */
    uint64_t max_depth; /* the limit on depth (ingest.spool_max) */
    uint64_t max_bytes; /* the limit on bytes (ingest.spool_max_size) */
} cairn_ingest_spool_stats_t;

/* Opens (creating, mode 0700) the spool in dir. It holds at most max_items
 * items and max_bytes bytes of requests; the LMDB map is sized from
 * max_bytes. Returns 0 or a negative code (CAIRN_ESTORE, -errno). */
int cairn_ingest_spool_open(const char *dir, uint64_t max_items, uint64_t max_bytes,
                            cairn_ingest_spool_t **out);

/* Closes (NULL-safe, sets *self_p to NULL). */
void cairn_ingest_spool_destroy(cairn_ingest_spool_t **self_p);

/* Commits one append request (durably, before returning) under the next
 * sequence number, written to *seq_out. When an item with the same
 * idempotency key is still waiting, nothing is added, *duplicate_out is set
 * and *seq_out is that item's sequence. CAIRN_EBUSY when the spool is full. */
int cairn_ingest_spool_put(cairn_ingest_spool_t *self, const char *key, const uint8_t *request,
                           size_t len, int64_t now_ms, uint64_t *seq_out, bool *duplicate_out);

/* Copies up to max of the oldest waiting items into items (release each with
 * cairn_ingest_spooled_clear) and their number into *n_out (0 when empty). */
int cairn_ingest_spool_peek(cairn_ingest_spool_t *self, cairn_ingest_spooled_t *items, size_t max,
                            size_t *n_out);

/* Removes the items with these sequence numbers (and their keys), in one
 * durable commit. Unknown sequences are ignored. */
int cairn_ingest_spool_remove(cairn_ingest_spool_t *self, const uint64_t *seqs, size_t n);

/* Moves an item out of the queue into the dead store, with the reason. */
int cairn_ingest_spool_bury(cairn_ingest_spool_t *self, uint64_t seq, const char *reason);

/* True when no item is waiting. */
bool cairn_ingest_spool_empty(cairn_ingest_spool_t *self);

/* The current counts. */
void cairn_ingest_spool_stats(cairn_ingest_spool_t *self, cairn_ingest_spool_stats_t *out);

/* Frees an item's request. */
void cairn_ingest_spooled_clear(cairn_ingest_spooled_t *item);

#endif
