/* The notify engine: follows verdicts and alerts on the ledger, delivers each
 * one to the receivers exactly once in effect, and records every delivery in
 * the ledger as a DeliveryReceipt.
 *
 * Per receiver and subject index the order is: check the outbox ("sent"?) ->
 * deliver (file line written and fsync'd) -> mark "written" -> append the
 * receipt under key "receipt:<receiver>:<index>" and wait for the ack ->
 * commit "sent" with the next index. When the ledger cannot take the receipt,
 * the entry stays pending and is retried without delivering again. */
#ifndef CAIRN_NOTIFY_ENGINE_H
#define CAIRN_NOTIFY_ENGINE_H

#include <stdint.h>

#include "cairn/config.h"

typedef struct cairn_notify_engine_t cairn_notify_engine_t;

/* Counters for logs and tests. */
typedef struct {
    uint64_t next;      /* next ledger index to apply */
    uint64_t delivered; /* notifications delivered and receipted by this process */
    uint64_t skipped;   /* entries passed over (other topics) */
    uint64_t bad;       /* malformed stream messages and records */
    uint64_t retries;   /* deliveries left pending for a later attempt */
} cairn_notify_stats_t;

/* Opens the outbox (notify.state_path) and the notifications file
 * (notify.file) and connects to the ledger (bus.ledger_stream, bus.ledger_api).
 * The configuration must be finalized. */
int cairn_notify_engine_new(const cairn_config_t *config, cairn_notify_engine_t **out);
void cairn_notify_engine_destroy(cairn_notify_engine_t **self_p);

/* One turn: catch up, then wait up to timeout_ms for new entries. Returns 0,
 * or a negative code when the local state failed. */
int cairn_notify_engine_run_once(cairn_notify_engine_t *self, int timeout_ms);

void cairn_notify_engine_stats(const cairn_notify_engine_t *self, cairn_notify_stats_t *out);

#endif
