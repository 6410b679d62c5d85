/* A stand-in ledger for ingest's unit tests: a ROUTER thread on an ipc://
 * endpoint that acknowledges appends and append_batch requests like the
 * ledger does (index from 0, a repeated key answers the original index with
 * duplicate=true) and keeps the appended records for inspection. It can also stay silent, to test what
 * happens when the ledger does not answer. */
#ifndef CAIRN_INGEST_FAKE_LEDGER_H
#define CAIRN_INGEST_FAKE_LEDGER_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn/codec.h"

typedef struct fake_ledger_t fake_ledger_t;

/* Binds endpoint and starts answering. NULL when the endpoint cannot be bound. */
fake_ledger_t *fake_ledger_start(const char *endpoint);

/* Stops the thread and frees (NULL-safe). */
void fake_ledger_stop(fake_ledger_t **self_p);

/* While silent, requests are read and never answered. */
void fake_ledger_set_silent(fake_ledger_t *self, bool silent);

/* Number of entries appended (duplicates excluded). */
size_t fake_ledger_size(fake_ledger_t *self);

/* Number of append_batch requests answered. */
size_t fake_ledger_batches(fake_ledger_t *self);

/* The key and record appended at index (unpacked copy; free with
 * CAIRN_CODEC_FREE). Returns CAIRN_ENOTFOUND past the end. */
int fake_ledger_entry(fake_ledger_t *self, size_t index, char **key_out,
                      Cairn__V1__Record **record_out);

#endif
