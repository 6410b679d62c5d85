/* The notify engine: follows the ledger, routes every verdict and alert
 * through the routing tree into aggregation groups (dispatch.h), renders
 * each notification a flush makes into the durable outbox (outbox.h), and
 * delivers it with retries (transport.h, retry.h), recording every attempt
 * and its outcome in the ledger as a DeliveryReceipt under the key
 * "receipt:<receiver>/<integration>:<group id>/<sequence>:<attempt>".
 *
 * One turn of the loop: take the answers of finished deliveries, apply new
 * ledger entries (verdicts, alerts, silences, acknowledgements, and the
 * facts of changes from their events), run the sweeps (resolve timeouts,
 * escalations), flush the groups that are due, pick the messages due for
 * an attempt and count the attempt, and commit all of it with the next
 * ledger index in one LMDB transaction; only then do requests leave.
 * Receipts and other records for the ledger are queued in the same
 * transaction and appended with their idempotency keys afterwards. */
#ifndef CAIRN_NOTIFY_ENGINE_H
#define CAIRN_NOTIFY_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/config.h"

typedef struct cairn_notify_engine_t cairn_notify_engine_t;

/* Counters for logs, tests and benchmarks. */
typedef struct {
    uint64_t next;           /* next ledger index to apply */
    uint64_t delivered;      /* messages delivered by this process */
    uint64_t skipped;        /* entries passed over (other topics) */
    uint64_t bad;            /* malformed stream messages and records */
    uint64_t retries;        /* attempts that will be repeated */
    uint64_t dead;           /* messages dead-lettered by this process */
    uint64_t notifications;  /* notifications made by flushes */
    uint64_t alerts;         /* alerts held */
    uint64_t groups;         /* aggregation groups */
    uint64_t pending;        /* messages in the outbox */
    uint64_t inflight;       /* attempts under way */
    uint64_t ledger_pending; /* records waiting for the ledger */
} cairn_notify_stats_t;

/* Loads the routes file (notify.routes_file), opens the state
 * (notify.state_path), binds bus.notify_feed and bus.notify_api, and
 * connects to the ledger (bus.ledger_stream, bus.ledger_api). The
 * configuration must be finalized. CAIRN_ECONFIG with a message in err
 * for a bad routes file. */
int cairn_notify_engine_new(const cairn_config_t *config, cairn_notify_engine_t **out, char *err,
                            size_t errlen);
void cairn_notify_engine_destroy(cairn_notify_engine_t **self_p);

/* One turn: waits up to timeout_ms for something to do, does it. Returns
 * 0, or a negative code when the local state failed (the daemon stops). */
int cairn_notify_engine_run_once(cairn_notify_engine_t *self, int timeout_ms);

void cairn_notify_engine_stats(const cairn_notify_engine_t *self, cairn_notify_stats_t *out);

#endif
