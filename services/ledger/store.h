/* The ledger's storage: an RFC 9162 Merkle log in LMDB with signed
 * checkpoints (layout.h lists the databases).
 *
 * Each entry is a leaf (cairn/bundle.h: origin, index, topic, key digest,
 * payload digest, change, release, prev index of the change, time) whose
 * hash is a leaf of the tree; its payload (the packed Record) is stored
 * beside it under its SHA-256. Every perfect-subtree hash is stored, so any
 * root or proof needs O(log n) reads.
 *
 * Writes are batched: begin, append one or more records, commit once. The
 * commit checks that the stored tree still has the root of the last
 * checkpoint at that checkpoint's size, signs a checkpoint for the new size,
 * and stores it in the same LMDB transaction that advances the tree.
 * Nothing appended is visible to readers, or may be acknowledged, until
 * commit returned 0. Appends read the tree's right edge from memory
 * (frontier.h), and receipts for the last batch's entries need no LMDB read.
 * A store is used from one thread at a time. */
#ifndef CAIRN_LEDGER_STORE_H
#define CAIRN_LEDGER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/merkle.h"
#include "cairn/note.h"
#include "layout.h"

#define CAIRN_LEDGER_HASH_BYTES CAIRN_HASH_BYTES

typedef struct cairn_ledger_store_t cairn_ledger_store_t;

/* One record to append and what the ledger knows about it. */
typedef struct {
    const char *key;         /* idempotency key; NULL or "" appends unconditionally */
    const char *topic;       /* topic the entry is published under */
    const char *change_id;   /* change the record names; NULL or "" for none */
    const char *release_id;  /* release the record names; NULL or "" for none */
    const char *actors[2];   /* people or accounts indexed for the entry; NULL or "" skipped */
    const char *environment; /* environment the record names; NULL or "" for none */
    int64_t appended_at_ms;  /* wall-clock time of the append (Unix ms) */
    const uint8_t *record;   /* the packed cairn.v1.Record: the payload, stored as is */
    size_t record_len;       /* length of record */
    /* SHA-256 of record and of key when the caller has them (NULL: the store
     * computes them), so that work can be done before the batch. */
    const uint8_t *record_sha256;
    const uint8_t *key_sha256;
} cairn_ledger_record_t;

/* Where an appended record landed. */
typedef struct {
    uint64_t index;                        /* position in the log (a duplicate's original) */
    bool duplicate;                        /* the key was seen before; nothing was appended */
    uint8_t hash[CAIRN_LEDGER_HASH_BYTES]; /* leaf hash of the entry at index */
    char *leaf;                            /* the new entry's leaf (caller frees); NULL if dup */
    size_t leaf_len;                       /* length of leaf */
    uint64_t time_ms;                      /* the time the leaf records */
} cairn_ledger_append_t;

/* The parts of the Entry every read serves for a new entry, from the record
 * appended and what the append returned (pointers into both): packed with
 * cairn_ledger_entry_pack, it is the entry as replay and queries serve it.
 * Packing is left to the caller so that it can happen off the thread that
 * writes the batch. */
void cairn_ledger_append_parts(const cairn_ledger_record_t *rec, const cairn_ledger_append_t *res,
                               cairn_ledger_entry_parts_t *out);

/* The latest signed checkpoint. */
typedef struct {
    uint64_t size;                  /* tree size it commits to */
    uint8_t root[CAIRN_HASH_BYTES]; /* its root */
    const char *note;               /* the signed note (owned by the store; valid until the
                                       next commit) */
    size_t note_len;                /* bytes in note */
} cairn_ledger_head_t;

/* Called once per entry read, in log order, with the packed Entry. The bytes
 * are valid only during the call. Return 0 to go on, > 0 to stop early, or a
 * negative code to stop and return it. */
typedef int (*cairn_ledger_entry_fn)(void *arg, uint64_t index, const uint8_t *entry, size_t len);

/* Opens (creating if needed) the store in directory dir for log origin,
 * signing checkpoints with signer (borrowed: it must outlive the store).
 * A new store records origin and layout version and signs the empty tree.
 * An existing store must have the same origin and this layout version
 * (CAIRN_ECONFIG otherwise) and pass the start check, else
 * CAIRN_EINTEGRITY: the last checkpoint is signed by a recorded key,
 * commits to the stored size, its root equals the root of the tree's right
 * edge as stored (which the store keeps in memory from then on), and the
 * last leaf's hash is the stored leaf hash. A store of an older layout is
 * migrated first (layout.h): CAIRN_ETOOLARGE when map_size leaves no room
 * for that, and the store is left as it was. */
int cairn_ledger_store_open(const char *dir, size_t map_size, const char *origin,
                            const cairn_note_signer_t *signer, cairn_ledger_store_t **out);

/* Aborts an open batch, closes the environment (NULL-safe, sets *self_p to NULL). */
void cairn_ledger_store_destroy(cairn_ledger_store_t **self_p);

/* Number of committed entries. */
uint64_t cairn_ledger_store_size(const cairn_ledger_store_t *self);

/* The latest signed checkpoint. */
void cairn_ledger_store_head(const cairn_ledger_store_t *self, cairn_ledger_head_t *out);

/* Checks a signed checkpoint of this log that was kept outside the store
 * (ledger.checkpoint_file) against it: 0 when the store holds at least its
 * size entries and its tree of that size has the checkpoint's root.
 * CAIRN_EINTEGRITY when the note verifies but the store holds fewer
 * entries (*size_out above cairn_ledger_store_size: the store was rolled
 * back) or another tree; CAIRN_EPARSE when the note is no checkpoint of this
 * log (another origin, no signature by a key the store recorded). *size_out
 * is the note's size when it verified. */
int cairn_ledger_store_check_note(cairn_ledger_store_t *self, const char *note, size_t len,
                                  uint64_t *size_out);

/* The vkey of the signer (owned by the store). */
const char *cairn_ledger_store_vkey(const cairn_ledger_store_t *self);

/* The log origin. */
const char *cairn_ledger_store_origin(const cairn_ledger_store_t *self);

/* Starts a batch (one LMDB write transaction). */
int cairn_ledger_store_begin(cairn_ledger_store_t *self);

/* Appends one record inside the batch. A key already used (committed, or
 * earlier in this batch) yields duplicate=true and the original index. When
 * the store fails, the whole batch is abandoned: this and later appends and
 * the commit return an error, and nothing of the batch is kept. *out is
 * written only on success. */
int cairn_ledger_store_append(cairn_ledger_store_t *self, const cairn_ledger_record_t *rec,
                              cairn_ledger_append_t *out);

/* Makes the batch durable with a new signed checkpoint (a commit, then
 * cairn_ledger_store_sync). Only after 0 here may appends be acknowledged.
 * On failure nothing of the batch is kept, except when the flush after the
 * commit failed (an errno code; see cairn_ledger_store_sync);
 * CAIRN_EINTEGRITY when the stored tree no longer matches the last
 * checkpoint (nothing is signed then). */
int cairn_ledger_store_commit(cairn_ledger_store_t *self);

/* cairn_ledger_store_commit, except that it returns once the batch's pages
 * are on disk, before the meta page that points at them is (LMDB's
 * MDB_NOMETASYNC): the commit is durable only once cairn_ledger_store_sync,
 * or the next successful commit, returned 0 (every commit flushes the data
 * file, which makes the meta pages written before durable). Until then a
 * crash of the machine, not of the process, may undo this one commit; the
 * store it leaves is the one before, consistent. Readers see the batch at
 * once, so nothing of it may be acknowledged or served before then. A
 * commit that fails to write or flush leaves the commit before it in doubt:
 * like a failed sync, that is final (see cairn_ledger_store_sync). */
int cairn_ledger_store_commit_deferred(cairn_ledger_store_t *self);

/* Makes every commit so far durable (fdatasync of the data file). May be
 * called from another thread while a batch is being written or committed.
 * A failed flush is final: this and cairn_ledger_store_begin return its
 * error until the store is reopened, since what the disk holds is unknown. */
int cairn_ledger_store_sync(cairn_ledger_store_t *self);

/* The error of a failed flush (or of a commit that failed to write or
 * flush), final until the store is reopened; 0 when there was none. Safe
 * from any thread. */
int cairn_ledger_store_sync_error(cairn_ledger_store_t *self);

/* Drops the batch (no-op without one). */
void cairn_ledger_store_abort(cairn_ledger_store_t *self);

/* The open batch's transaction (NULL without one), for the retention code
 * that writes inside a batch. */
int cairn_ledger_store_batch_view(cairn_ledger_store_t *self, cairn_ledger_view_t *out);

/* Index the next append of the open batch gets. */
uint64_t cairn_ledger_store_pending_size(const cairn_ledger_store_t *self);

/* Marks the open batch failed after a write of the caller failed. */
int cairn_ledger_store_fail(cairn_ledger_store_t *self, int rc);

/* Starts a read transaction on committed data; end it with
 * cairn_ledger_store_end_read(). */
int cairn_ledger_store_begin_read(cairn_ledger_store_t *self, cairn_ledger_view_t *out);
void cairn_ledger_store_end_read(cairn_ledger_view_t *view);

/* LMDB's description of the last failed write of the current or last batch
 * ("no error" when none), for the operator's log. */
const char *cairn_ledger_store_last_error(const cairn_ledger_store_t *self);

/* True when opening rewrote a store of the previous layout as this one. */
bool cairn_ledger_store_migrated(const cairn_ledger_store_t *self);

/* True when the last batch failed because the map is full (ledger.map_size). */
bool cairn_ledger_store_full(const cairn_ledger_store_t *self);

/* Reads up to limit committed entries starting at index from, in order. */
int cairn_ledger_store_read(cairn_ledger_store_t *self, uint64_t from, uint64_t limit,
                            cairn_ledger_entry_fn fn, void *arg);

/* Reads every committed entry that names change_id, in log order. */
int cairn_ledger_store_by_change(cairn_ledger_store_t *self, const char *change_id,
                                 cairn_ledger_entry_fn fn, void *arg);

/* Keyed entries in the in-memory idempotency index, and the bytes it takes
 * (keymap.h). */
size_t cairn_ledger_store_key_count(const cairn_ledger_store_t *self);
size_t cairn_ledger_store_key_bytes(const cairn_ledger_store_t *self);

/* Index of the entry appended under key; CAIRN_ENOTFOUND when unseen. */
int cairn_ledger_store_find_key(cairn_ledger_store_t *self, const char *key, uint64_t *index_out);

/* The signed checkpoint note of tree size `size` (0 = the latest), malloc'd.
 * CAIRN_ENOTFOUND when no checkpoint has that size. */
int cairn_ledger_store_checkpoint(cairn_ledger_store_t *self, uint64_t size, char **note_out,
                                  size_t *len_out, uint64_t *size_out);

/* Inclusion proof of index in the tree of `size` leaves (0 = the latest
 * checkpoint's size), with the leaf hash. proof_out has room for
 * CAIRN_MERKLE_MAX_PROOF hashes. CAIRN_EINVALID when index >= size or size
 * is beyond the log. */
int cairn_ledger_store_prove(cairn_ledger_store_t *self, uint64_t index, uint64_t size,
                             uint8_t leaf_hash_out[CAIRN_HASH_BYTES], uint8_t *proof_out,
                             size_t *count_out);

/* Consistency proof from old_size to new_size (0 = latest), 0 < old <= new. */
int cairn_ledger_store_consistency(cairn_ledger_store_t *self, uint64_t old_size, uint64_t new_size,
                                   uint8_t *proof_out, size_t *count_out);

/* A C2SP tlog-proof for index against the latest checkpoint (malloc'd
 * text), and that checkpoint's size. */
int cairn_ledger_store_receipt(cairn_ledger_store_t *self, uint64_t index, char **proof_out,
                               size_t *len_out, uint64_t *size_out);

#endif
