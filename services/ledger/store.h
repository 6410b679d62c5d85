/* The ledger's storage: an append-only hash chain of entries in LMDB.
 *
 * Four named databases live in one environment:
 *   entries  BE u64 index -> packed cairn.v1.Entry (the bytes that are served and published)
 *   keys     idempotency key -> BE u64 index of the entry first appended under it
 *   changes  change id -> BE u64 index, sorted duplicates, so a change reads back in log order
 *   meta     "size" -> BE u64 entry count, "last_hash" -> hash of the last entry
 * Each entry's hash is SHA-256(prev_hash || record); entry 0 chains from 32 zero bytes.
 *
 * Writes are batched: begin, append one or more records, commit once. Nothing
 * appended is visible to readers, or may be acknowledged, until commit returned 0.
 * A store is used from one thread at a time. */
#ifndef CAIRN_LEDGER_STORE_H
#define CAIRN_LEDGER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAIRN_LEDGER_HASH_BYTES 32

typedef struct cairn_ledger_store_t cairn_ledger_store_t;

/* One record to append and what the ledger knows about it. */
typedef struct {
    const char *key;        /* idempotency key; NULL or "" appends unconditionally */
    const char *topic;      /* topic the entry is published under */
    const char *change_id;  /* change the record names; NULL or "" for none */
    int64_t appended_at_ms; /* wall-clock time of the append (Unix ms) */
    const uint8_t *record;  /* the packed cairn.v1.Record, hashed and stored as is */
    size_t record_len;      /* length of record */
} cairn_ledger_record_t;

/* Where an appended record landed. */
typedef struct {
    uint64_t index;                        /* position in the log (a duplicate's original) */
    bool duplicate;                        /* the key was seen before; nothing was appended */
    uint8_t hash[CAIRN_LEDGER_HASH_BYTES]; /* hash of the entry at index */
    uint8_t *entry;                        /* packed Entry as stored (caller frees); NULL if dup */
    size_t entry_len;                      /* length of entry */
} cairn_ledger_append_t;

/* Called once per entry read, in log order, with the packed Entry. The bytes
 * are valid only during the call. Return 0 to go on, > 0 to stop early, or a
 * negative code to stop and return it. */
typedef int (*cairn_ledger_entry_fn)(void *arg, uint64_t index, const uint8_t *entry, size_t len);

/* Opens (creating if needed) the store in directory dir and checks that the
 * chain tip is consistent: meta size matches the entries, meta last_hash is the
 * last entry's hash, and that hash is SHA-256(prev_hash || record) of an entry
 * whose prev_hash is its predecessor's hash. CAIRN_EINTEGRITY when not. */
int cairn_ledger_store_open(const char *dir, size_t map_size, cairn_ledger_store_t **out);

/* Aborts an open batch, closes the environment (NULL-safe, sets *self_p to NULL). */
void cairn_ledger_store_destroy(cairn_ledger_store_t **self_p);

/* Number of committed entries. */
uint64_t cairn_ledger_store_size(const cairn_ledger_store_t *self);

/* Hash of the last committed entry (32 zero bytes when the log is empty). */
void cairn_ledger_store_last_hash(const cairn_ledger_store_t *self,
                                  uint8_t out[CAIRN_LEDGER_HASH_BYTES]);

/* Starts a batch (one LMDB write transaction). */
int cairn_ledger_store_begin(cairn_ledger_store_t *self);

/* Appends one record inside the batch. A key already used (committed, or
 * earlier in this batch) yields duplicate=true and the original index. When
 * the store fails, the whole batch is abandoned: this and later appends and
 * the commit return an error, and nothing of the batch is kept. *out is
 * written only on success. */
int cairn_ledger_store_append(cairn_ledger_store_t *self, const cairn_ledger_record_t *rec,
                              cairn_ledger_append_t *out);

/* Makes the batch durable (synchronous LMDB commit). Only after 0 here may
 * appends be acknowledged. On failure nothing of the batch is kept. */
int cairn_ledger_store_commit(cairn_ledger_store_t *self);

/* Drops the batch (no-op without one). */
void cairn_ledger_store_abort(cairn_ledger_store_t *self);

/* LMDB's description of the last failed write of the current or last batch
 * ("no error" when none), for the operator's log. */
const char *cairn_ledger_store_last_error(const cairn_ledger_store_t *self);

/* True when the last batch failed because the map is full (ledger.map_size). */
bool cairn_ledger_store_full(const cairn_ledger_store_t *self);

/* Reads up to limit committed entries starting at index from, in order. */
int cairn_ledger_store_read(cairn_ledger_store_t *self, uint64_t from, uint64_t limit,
                            cairn_ledger_entry_fn fn, void *arg);

/* Reads every committed entry that names change_id, in log order. */
int cairn_ledger_store_by_change(cairn_ledger_store_t *self, const char *change_id,
                                 cairn_ledger_entry_fn fn, void *arg);

/* Index of the entry appended under key; CAIRN_ENOTFOUND when unseen. */
int cairn_ledger_store_find_key(cairn_ledger_store_t *self, const char *key, uint64_t *index_out);

/* Walks the whole log and checks every link of the hash chain, the index
 * sequence, and the meta tip. CAIRN_EINTEGRITY at the first break. */
int cairn_ledger_store_verify(cairn_ledger_store_t *self);

#endif
