/* The ledger daemon's engine: answers LedgerRequests on the ROUTER socket
 * (append, replay, query, head, checkpoint, prove, consistency, export,
 * purge, hold, unhold) and publishes every appended entry on the PUB socket
 * as [topic][Entry], in log order, after it is durable.
 *
 * Writes waiting on the socket together (up to ledger.batch_max, gathered for
 * at most ledger.batch_delay) are one batch: one LMDB transaction holding the
 * entries and the new signed checkpoint, one synchronous commit, then one ack
 * with a receipt (C2SP tlog-proof) and one publish per entry.
 * All of the engine's calls come from one thread, the loop's. Inside, a
 * writer thread writes and commits one batch while the loop answers the
 * batch before it and receives the one after it; a batch that reads the
 * store (replay, query, proofs, export) is handled by the loop alone once
 * the writer is idle, and the loop never returns with a batch in flight. */
#ifndef CAIRN_LEDGER_ENGINE_H
#define CAIRN_LEDGER_ENGINE_H

#include <stdint.h>

#include "cairn/config.h"

/* Most requests handled in one batch. */
#define CAIRN_LEDGER_BATCH_MAX 256

typedef struct cairn_ledger_t cairn_ledger_t;

/* What the engine has done since it started. */
typedef struct {
    uint64_t appends;      /* entries appended (committed and acknowledged) */
    uint64_t duplicates;   /* appends answered with an existing entry */
    uint64_t bad_requests; /* requests answered CAIRN_EPROTO or CAIRN_EINVALID, or dropped */
    uint64_t store_errors; /* appends (and reads after a failed flush) answered with a
                              storage error */
    uint64_t replays;      /* replay requests answered */
    uint64_t queries;      /* query and head requests answered */
    uint64_t batches;      /* write transactions committed (one checkpoint each) */
    uint64_t proofs;       /* checkpoint, prove and consistency requests answered */
    uint64_t exports;      /* export bundles built */
    uint64_t purged;       /* payloads deleted by retention */
    uint64_t chained;      /* batches the writer went on with at once, offered while it
                              wrote the one before (no hand-over by the loop) */
} cairn_ledger_stats_t;

/* Loads (or creates) the signing key ledger.key_file, opens the store at
 * ledger.path (checking its last checkpoint against the stored tree) and
 * binds bus.ledger_api and bus.ledger_stream. Logs the reason and returns
 * NULL on failure. */
cairn_ledger_t *cairn_ledger_new(const cairn_config_t *config);

/* Logs the counters, closes sockets and store (NULL-safe, sets *self_p to NULL). */
void cairn_ledger_destroy(cairn_ledger_t **self_p);

/* Waits up to timeout_ms for requests and handles every one that is waiting
 * (at most ledger.batch_max). Returns 0, or a negative code when the
 * sockets failed and the engine cannot go on. */
int cairn_ledger_run_once(cairn_ledger_t *self, int timeout_ms);

/* Runs until cairn_signals_stop_requested(); logs counters once a minute
 * while they change. Returns 0 on a clean stop. */
int cairn_ledger_run(cairn_ledger_t *self);

/* Current counters. */
void cairn_ledger_stats(const cairn_ledger_t *self, cairn_ledger_stats_t *out);

/* Number of committed entries. */
uint64_t cairn_ledger_size(const cairn_ledger_t *self);

#endif
