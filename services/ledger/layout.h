/* The ledger's LMDB layout: the named databases of one environment, their
 * key encodings, and reading one entry back from its leaf and payload.
 * Shared by the store (writes, queries, proofs) and the offline verifier,
 * so both read exactly the same bytes the same way.
 *
 *   leaves       BE u64 index -> leaf bytes (cairn/bundle.h leaf text)
 *   payloads     SHA-256 -> payload bytes (the packed cairn.v1.Record)
 *   nodes        u8 level || BE u64 index -> 32-byte perfect-subtree hash
 *   checkpoints  BE u64 tree size -> signed checkpoint note
 *   vkeys        vkey text -> BE u64 size of the first checkpoint it signed
 *   keys         idempotency key -> BE u64 index
 *   entry_keys   BE u64 index -> idempotency key of that entry
 *   changes, releases, actors, topics
 *                string -> BE u64 index (sorted duplicates: log order)
 *   times        BE u64 Unix ms -> BE u64 index (sorted duplicates)
 *   holds        "change:<id>" / "release:<id>" -> BE u64 index of the hold entry
 *   purged       SHA-256 -> BE u64 index of the purge entry that deleted it
 *   payload_refs SHA-256 -> BE u64 index (sorted duplicates), for payloads
 *                that more than one entry names
 *   meta         "size" -> BE u64 entry count, "origin" -> log origin
 *
 * Strings longer than LMDB's key limit are keyed by 0x00 || SHA-256(string). */
#ifndef CAIRN_LEDGER_LAYOUT_H
#define CAIRN_LEDGER_LAYOUT_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/merkle.h"

#define CAIRN_LEDGER_MAX_DBS 20
#define CAIRN_LEDGER_NODE_KEY_BYTES 9
#define CAIRN_LEDGER_DIGEST_KEY_BYTES (1 + CAIRN_HASH_BYTES)
#define CAIRN_LEDGER_META_SIZE "size"
#define CAIRN_LEDGER_META_ORIGIN "origin"

/* Handles of every named database. */
typedef struct {
    MDB_dbi leaves;       /* BE u64 index -> leaf bytes */
    MDB_dbi payloads;     /* SHA-256 -> payload bytes */
    MDB_dbi nodes;        /* level || BE u64 index -> perfect-subtree hash */
    MDB_dbi checkpoints;  /* BE u64 size -> signed note */
    MDB_dbi vkeys;        /* vkey text -> BE u64 first size */
    MDB_dbi keys;         /* idempotency key -> BE u64 index */
    MDB_dbi entry_keys;   /* BE u64 index -> idempotency key */
    MDB_dbi changes;      /* change id -> index (dupsort) */
    MDB_dbi releases;     /* release id -> index (dupsort) */
    MDB_dbi actors;       /* actor -> index (dupsort) */
    MDB_dbi topics;       /* topic -> index (dupsort) */
    MDB_dbi times;        /* BE u64 ms -> index (dupsort) */
    MDB_dbi holds;        /* hold key -> BE u64 index of the hold entry */
    MDB_dbi purged;       /* payload digest -> BE u64 index of the purge entry */
    MDB_dbi payload_refs; /* payload digest -> index (dupsort), shared payloads only */
    MDB_dbi meta;         /* "size", "origin" */
} cairn_ledger_dbs_t;

/* A read or write transaction with the databases it may use. */
typedef struct {
    MDB_txn *txn;                 /* open transaction */
    const cairn_ledger_dbs_t *db; /* databases of the environment */
    size_t max_key;               /* longest key LMDB accepts */
} cairn_ledger_view_t;

/* Opens every database in txn, creating them when create is set (write txn).
 * Without create, a database that does not exist is CAIRN_ENOTFOUND. */
int cairn_ledger_layout_open(MDB_txn *txn, bool create, cairn_ledger_dbs_t *out);

/* Key of a string index row: the string, or 0x00 || SHA-256 when too long. */
MDB_val cairn_ledger_index_key(size_t max_key, const char *text,
                               uint8_t buf[CAIRN_LEDGER_DIGEST_KEY_BYTES]);

/* Key of perfect subtree (level, index) in nodes. */
void cairn_ledger_node_key(unsigned level, uint64_t index,
                           uint8_t out[CAIRN_LEDGER_NODE_KEY_BYTES]);

/* cairn_merkle_get_fn over nodes; arg is a cairn_ledger_view_t. A stored
 * value that is not 32 bytes is CAIRN_EINTEGRITY. */
int cairn_ledger_node_get(void *arg, unsigned level, uint64_t index, uint8_t out[CAIRN_HASH_BYTES]);

/* Reads the leaf bytes of index (valid until the txn ends). CAIRN_ENOTFOUND
 * when there is no such leaf. */
int cairn_ledger_leaf_get(const cairn_ledger_view_t *v, uint64_t index, MDB_val *leaf_out);

/* Reads an 8-byte BE u64 value; CAIRN_EINTEGRITY when it is not 8 bytes. */
int cairn_ledger_get_u64(MDB_txn *txn, MDB_dbi dbi, const MDB_val *key, uint64_t *out);

/* A growable list of entry indexes. */
typedef struct {
    uint64_t *items; /* the indexes */
    size_t n, cap;   /* used and allocated slots */
} cairn_ledger_indexes_t;

int cairn_ledger_indexes_push(cairn_ledger_indexes_t *list, uint64_t index);

/* Sorts and drops repeats. */
void cairn_ledger_indexes_sort(cairn_ledger_indexes_t *list);

void cairn_ledger_indexes_free(cairn_ledger_indexes_t *list);

/* Appends every index at or above `from` stored under text in the sorted
 * duplicate index dbi (changes, releases, actors, topics). */
int cairn_ledger_indexes_collect(const cairn_ledger_view_t *v, MDB_dbi dbi, const char *text,
                                 uint64_t from, cairn_ledger_indexes_t *out);

/* Builds the packed cairn.v1.Entry of index from its leaf, payload and key:
 * hash is the leaf hash, record the payload (empty once purged), prev_hash
 * unset. The leaf must name index and its payload, when present, must hash
 * to the leaf's digest, else CAIRN_EINTEGRITY. *entry_out is malloc'd. */
int cairn_ledger_entry_build(const cairn_ledger_view_t *v, uint64_t index, uint8_t **entry_out,
                             size_t *len_out);

#endif
