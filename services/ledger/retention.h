/* Retention and legal holds. A purge deletes the payloads of entries older
 * than a cutoff unless their change or release is under legal hold; leaves
 * and tree hashes stay, so every proof remains valid, and each entry whose
 * payload went is recorded in `purged` with the index of the purge entry
 * that lists it. All functions work inside the store's open batch. */
#ifndef CAIRN_LEDGER_RETENTION_H
#define CAIRN_LEDGER_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Payloads a purge will delete. */
typedef struct {
    uint64_t *indexes;                    /* entry of each payload */
    uint8_t (*digests)[CAIRN_HASH_BYTES]; /* SHA-256 of each payload */
    size_t n;                             /* how many */
    uint64_t held;                        /* payloads kept because of a legal hold */
    bool more;                            /* stopped at the limit; more are due */
} cairn_ledger_purge_t;

/* Index of the entry that placed the hold on change or release (exactly
 * one set); CAIRN_ENOTFOUND when there is none. */
int cairn_ledger_hold_find(cairn_ledger_store_t *store, const char *change, const char *release,
                           uint64_t *index_out);

/* Places (on) or lifts a hold, recorded by entry `index`. */
int cairn_ledger_hold_set(cairn_ledger_store_t *store, const char *change, const char *release,
                          bool on, uint64_t index);

/* Finds up to max payloads of entries older than cutoff_ms that may go. */
int cairn_ledger_purge_plan(cairn_ledger_store_t *store, int64_t cutoff_ms, size_t max,
                            cairn_ledger_purge_t *out);

/* Deletes the planned payloads, recording purge entry `index` for each. */
int cairn_ledger_purge_apply(cairn_ledger_store_t *store, const cairn_ledger_purge_t *plan,
                             uint64_t index);

void cairn_ledger_purge_clear(cairn_ledger_purge_t *plan);

#endif
