/* The recorder: makes an accepted event durable, which is what ingest's 202
 * promises (DESIGN §5). It appends the event to the ledger under its
 * idempotency key and waits for the ack (bus.request_timeout). When the
 * ledger does not answer in time (down, restarting, stalled) the append is
 * committed to the local spool instead (spool.h) and the event counts as
 * accepted with a spool sequence rather than a ledger index.
 *
 * A drainer thread moves spooled appends into the ledger in spool order and
 * deletes each only after the ledger acknowledged it; a resend after a crash
 * is harmless because the ledger deduplicates by idempotency key. While the
 * spool holds anything, new events go through it too, so the ledger keeps
 * the order in which ingest accepted them. A full spool (ingest.spool_max,
 * ingest.spool_max_size) refuses new events with CAIRN_EBUSY (503).
 *
 * One sender thread owns the connection to the ledger and keeps many
 * appends in flight on it (the ledger answers a connection's requests in
 * order, so each ack belongs to the oldest append in flight), so the ledger
 * can commit many of them at once and no caller's thread waits on the
 * network: record_async() hands the event over and returns; the outcome
 * comes back through a callback. When the oldest append in flight is not
 * acknowledged within the timeout, it and every append behind it go to the
 * spool, in order.
 *
 * Appends that are waiting when the sender gets to them go in one
 * append_batch request (up to 64, or 4 MiB), each with its own result, so
 * under load the ledger decodes, commits and answers them together; the
 * drainer empties the spool in batches the same way. While a request is in
 * flight, new appends wait for its answer (at most one round trip) unless
 * they fill a batch, so each request carries what came meanwhile; and a
 * request thread wakes the sender only when it sleeps with nothing to
 * wait for.
 *
 * Thread-safe: any number of threads may call record() and record_async()
 * at once. */
#ifndef CAIRN_INGEST_RECORDER_H
#define CAIRN_INGEST_RECORDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cairn/v1/event.pb-c.h"

typedef struct {
    const char *ledger_endpoint; /* bus.ledger_api */
    int timeout_ms;              /* bus.request_timeout: how long to wait for an ack */
    const char *spool_dir;       /* {data_dir}/ingest/spool; NULL or "": no spool, a ledger
                                    that does not answer is an error */
    uint64_t spool_max;          /* ingest.spool_max: most events waiting */
    uint64_t spool_max_bytes;    /* ingest.spool_max_size: most bytes waiting */
    int hold_ms;                 /* longest an append waits for the answer in flight to go
                                    with the next batch; 0: 2 ms */
} cairn_ingest_recorder_settings_t;

/* Where an event went. */
typedef struct {
    uint64_t index;     /* its ledger index (when not spooled) */
    bool duplicate;     /* the ledger (or the spool) already held this idempotency key */
    bool spooled;       /* in the spool, not yet in the ledger */
    uint64_t spool_seq; /* its spool sequence (when spooled) */
} cairn_ingest_recorded_t;

typedef struct cairn_ingest_recorder_t cairn_ingest_recorder_t;

/* Opens the spool (when configured) and starts the drainer. Returns 0 or a
 * negative code (the spool cannot be opened). */
int cairn_ingest_recorder_new(const cairn_ingest_recorder_settings_t *settings,
                              cairn_ingest_recorder_t **out);

/* Stops the drainer (waiting for an append in flight), closes the spool,
 * frees (NULL-safe, sets *self_p to NULL). Spooled events stay on disk. */
void cairn_ingest_recorder_destroy(cairn_ingest_recorder_t **self_p);

/* Told how recording one event ended: rc 0 with where it went in *rec, or
 * a negative code as record() returns it, with a sentence for the sender in
 * err. Called exactly once per record_async(), on the recorder's sender
 * thread (or on the caller's, before record_async returns, when the event
 * could not even be handed over). It must not block for long: every other
 * event waits behind it. */
typedef void (*cairn_ingest_record_fn)(void *arg, int rc, const cairn_ingest_recorded_t *rec,
                                       const char *err);

/* Hands ev (packed at once; ev may be freed when this returns) to the
 * sender; done(arg, ...) gets the outcome. */
void cairn_ingest_recorder_record_async(cairn_ingest_recorder_t *self, const Cairn__V1__Event *ev,
                                        cairn_ingest_record_fn done, void *arg);

/* Records ev under ev->idempotency_key and waits for the outcome. Returns 0 and fills *out, or:
 * CAIRN_EBUSY when the ledger did not answer and the spool is full, another
 * negative code when the event could not be made durable (the ledger refused
 * it, or did not answer and there is no spool). err gets a sentence for the
 * sender in every failure. */
int cairn_ingest_recorder_record(cairn_ingest_recorder_t *self, const Cairn__V1__Event *ev,
                                 cairn_ingest_recorded_t *out, char *err, size_t errlen);

/* True while the spool holds events the ledger has not acknowledged. */
bool cairn_ingest_recorder_backlog(cairn_ingest_recorder_t *self);

/* Writes the spool's gauges and counters in Prometheus text format. */
void cairn_ingest_recorder_metrics(cairn_ingest_recorder_t *self, FILE *out);

/* Makes one LedgerRequest.append_batch of reqs[0..n), each a packed
 * LedgerRequest.append (as the recorder and the spool keep them), without
 * unpacking them: the result equals cairn_ledger_batch_pack of their
 * appends. Returns 0 with a malloc'd *out, CAIRN_EINVALID when n is 0 or
 * over CAIRN_LEDGER_APPEND_BATCH_MAX or a request is not an append, or
 * -ENOMEM. */
int cairn_ingest_recorder_batch_pack(const uint8_t *const *reqs, const size_t *lens, size_t n,
                                     uint8_t **out, size_t *out_len);

#endif
