/* Records notify appends to the ledger (delivery receipts, escalations,
 * delivery_failed alerts) wait here, durably, until the ledger has
 * acknowledged them. Each has its idempotency key, so sending one again
 * after a crash or a timeout is answered as a duplicate and the ledger
 * keeps exactly one. Appends are pipelined: a batch of requests goes out on
 * one DEALER socket and the ledger commits them together. */
#ifndef CAIRN_NOTIFY_LEDGER_OUT_H
#define CAIRN_NOTIFY_LEDGER_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "store.h"

typedef struct cairn_ledger_out_t cairn_ledger_out_t;

int cairn_ledger_out_new(cairn_notify_store_t *store, const char *endpoint, int timeout_ms,
                         cairn_ledger_out_t **out);
void cairn_ledger_out_destroy(cairn_ledger_out_t **self_p);

/* Queues rec under key in the store's open batch. */
int cairn_ledger_out_add(cairn_ledger_out_t *self, const char *key, const Cairn__V1__Record *rec);

/* One non-blocking step (call after the batch holding new records is
 * committed): reads the answers that arrived, removes acknowledged records
 * in the store's open batch (*acked counts them), and sends the next batch
 * of up to 128 when none is out. Ledger trouble (a refusal, no answer
 * within the timeout) is logged once and retried after a pause, not
 * returned. */
int cairn_ledger_out_flush(cairn_ledger_out_t *self, size_t *acked);

/* The socket answers arrive on while a batch is out (for zmq_poll), or NULL. */
void *cairn_ledger_out_socket(cairn_ledger_out_t *self);

/* Monotonic time the next step is due without socket activity (INT64_MAX: none). */
int64_t cairn_ledger_out_due_ms(const cairn_ledger_out_t *self);

/* Records waiting; whether the ledger failed at the last try. */
size_t cairn_ledger_out_pending(const cairn_ledger_out_t *self);
int cairn_ledger_out_failing(const cairn_ledger_out_t *self);

#endif
