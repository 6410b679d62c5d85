/* The ledger's LMDB layout: the named databases of one environment, their
 * key encodings, and reading one entry back from its leaf and payload.
 * Shared by the store (writes, queries, proofs) and the offline verifier,
 * so both read exactly the same bytes the same way.
 *
 *   entries      BE u64 index -> the entry record (below): the tree hashes
 *                that end at the entry, its leaf and its payload
 *   checkpoints  BE u64 tree size -> signed checkpoint note
 *   vkeys        vkey text -> BE u64 size of the first checkpoint it signed
 *   entry_keys   BE u64 index -> idempotency key of that entry (the store
 *                keeps key -> index in memory, keymap.h, rebuilt from here)
 *   lookup       kind byte || string -> BE u64 index (sorted duplicates: log
 *                order); kinds: release, actor, topic, environment
 *   heads        'c' || change -> BE u64 index of the change's newest entry;
 *                the older ones follow from the leaves' `prev` chain
 *   times        BE u64 Unix ms -> BE u64 index (sorted duplicates)
 *   holds        "change:<id>" / "release:<id>" -> BE u64 index of the hold entry
 *   purged       BE u64 index -> BE u64 index of the purge entry that deleted
 *                its payload
 *   meta         "size" -> BE u64 entry count, "origin" -> log origin,
 *                "layout" -> BE u64 version of this layout
 *
 * An entry record is
 *
 *   u8 h || BE u32 leaf length || h 32-byte hashes || leaf || payload
 *
 * where the hashes are those of every perfect subtree whose last leaf is the
 * entry, level 0 (the leaf hash) to h - 1: h is 1 + the number of trailing
 * one bits of the index, so the hash of any perfect subtree (level, i) is in
 * the record of entry ((i + 1) << level) - 1. The leaf is the cairn/bundle.h
 * leaf text; the payload is the packed cairn.v1.Record, and is cut off the
 * record by a purge (the record then ends with the leaf, and `purged` names
 * the purge).
 *
 * One put per entry, at the end of `entries`, holds everything an append
 * must keep but its key and index rows. Every entry's rows but `heads` grow
 * at the end of their database (or of a string's duplicates), and `heads`
 * holds one small row per change, so a batch dirties few pages: the write
 * cost of a durable commit is mostly pages written.
 *
 * Strings longer than LMDB's key limit are keyed by a digest instead:
 * 0x00 || SHA-256(string) in holds, kind || 0x00 || SHA-256 in lookup. */
#ifndef CAIRN_LEDGER_LAYOUT_H
#define CAIRN_LEDGER_LAYOUT_H

#include <lmdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/merkle.h"
#include "cairn/v1/ledger.pb-c.h"

#define CAIRN_LEDGER_MAX_DBS 20
#define CAIRN_LEDGER_DIGEST_KEY_BYTES (1 + CAIRN_HASH_BYTES)
/* Room for any lookup key: LMDB's default key limit (511) and one byte. */
#define CAIRN_LEDGER_LOOKUP_KEY_BYTES 512
#define CAIRN_LEDGER_META_SIZE "size"
#define CAIRN_LEDGER_META_ORIGIN "origin"
#define CAIRN_LEDGER_META_LAYOUT "layout"
/* Version of this layout, in meta "layout". Version 1 (payloads keyed by
 * their SHA-256, one database per string index) had no "layout" row and is
 * refused. Versions 2 to 5 are migrated in place
 * (cairn_ledger_layout_migrate): version 2 kept tree hashes in `nodes` keyed
 * level || index and every entry of a change in `lookup`; version 3 added a
 * `keys` database (idempotency key -> index); version 4 kept leaves,
 * payloads and tree hashes in three databases (`leaves`, `payloads`, and
 * `tree` keyed by the subtree's last leaf || level); version 5 had no
 * environment rows in `lookup`. */
#define CAIRN_LEDGER_LAYOUT_VERSION 6

/* What a lookup row indexes an entry by: the kind byte of its key. */
typedef enum {
    CAIRN_LEDGER_BY_CHANGE = 'c',  /* the change the entry belongs to (heads) */
    CAIRN_LEDGER_BY_RELEASE = 'r', /* the release it names */
    CAIRN_LEDGER_BY_ACTOR = 'a',   /* actor or approver of its event */
    CAIRN_LEDGER_BY_TOPIC = 't',   /* its topic */
    CAIRN_LEDGER_BY_ENV = 'e',     /* the environment its event, verdict or alert names */
} cairn_ledger_by_t;

/* Handles of every named database. */
typedef struct {
    MDB_dbi entries;     /* BE u64 index -> entry record */
    MDB_dbi checkpoints; /* BE u64 size -> signed note */
    MDB_dbi vkeys;       /* vkey text -> BE u64 first size */
    MDB_dbi entry_keys;  /* BE u64 index -> idempotency key */
    MDB_dbi lookup;      /* kind || string -> index (dupsort) */
    MDB_dbi heads;       /* 'c' || change -> index of its newest entry */
    MDB_dbi times;       /* BE u64 ms -> index (dupsort) */
    MDB_dbi holds;       /* hold key -> BE u64 index of the hold entry */
    MDB_dbi purged;      /* BE u64 index -> BE u64 index of the purge entry */
    MDB_dbi meta;        /* "size", "origin", "layout" */
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

/* Checks meta "layout": 0 for this layout, CAIRN_ECONFIG for a store written
 * in an older one (a store without the row that holds entries). *missing_out
 * tells that the row is absent (a new store; the writer then records it). */
int cairn_ledger_layout_check(MDB_txn *txn, const cairn_ledger_dbs_t *db, bool *missing_out);

/* Rewrites a store of layout 2 to 5 as this layout inside txn (a write
 * transaction whose databases db opened with create). From layout 2: tree
 * hashes move from `nodes` (level || index) to their last leaf's key, and
 * each change keeps only its newest index, in `heads`. From 2 and 3: the
 * `keys` database is deleted (the idempotency index is rebuilt in memory from
 * `entry_keys`). From all three: every entry's leaf, payload and tree hashes
 * become its record in `entries`, and `leaves`, `payloads` and `tree` are
 * deleted. From all four: every entry whose payload names an environment
 * gets its environment row in `lookup` (cairn_codec_record_environment; an
 * entry whose payload was purged gets none). Anything else is left alone.
 * *migrated_out tells whether it did.
 * One transaction: an interrupted migration leaves the old layout. The
 * rewrite needs room in the map beside the old layout until it commits:
 * CAIRN_ETOOLARGE when the map is full. */
int cairn_ledger_layout_migrate(MDB_txn *txn, const cairn_ledger_dbs_t *db, bool *migrated_out);

/* Code of an LMDB write (or commit) of a migration: a full map is
 * CAIRN_ETOOLARGE, anything else as cairn_lmdb_code. */
int cairn_ledger_migration_code(int mdb_rc);

/* The newest entry of change (heads): *has_out false when it has none. */
int cairn_ledger_change_head(const cairn_ledger_view_t *v, const char *change, bool *has_out,
                             uint64_t *index_out);

/* Key of a holds row: the string, or 0x00 || SHA-256 when too long. */
MDB_val cairn_ledger_index_key(size_t max_key, const char *text,
                               uint8_t buf[CAIRN_LEDGER_DIGEST_KEY_BYTES]);

/* Key of a lookup row: kind || string, or kind || 0x00 || SHA-256 when too
 * long. The key points into buf. */
MDB_val cairn_ledger_lookup_key(size_t max_key, cairn_ledger_by_t kind, const char *text,
                                uint8_t buf[CAIRN_LEDGER_LOOKUP_KEY_BYTES]);

/* Index of the last leaf of perfect subtree (level, index): the entry
 * whose record holds its hash. */
uint64_t cairn_ledger_node_entry(unsigned level, uint64_t index);

/* How many tree hashes the record of entry index holds: 1 + the number of
 * trailing one bits of index. */
unsigned cairn_ledger_entry_hashes(uint64_t index);

/* The parts of an entry record (pointing into the bytes read). */
typedef struct {
    const uint8_t *hashes; /* n_hashes 32-byte hashes, level 0 first */
    unsigned n_hashes;     /* how many */
    const void *leaf;      /* the leaf bytes */
    size_t leaf_len;       /* their length */
    const void *payload;   /* the payload; NULL once purged */
    size_t payload_len;    /* its length (0 once purged) */
} cairn_ledger_record_parts_t;

/* Bytes of a record with n_hashes hashes, a leaf and a payload. */
size_t cairn_ledger_record_size(unsigned n_hashes, size_t leaf_len, size_t payload_len);

/* Writes a record into buf (cairn_ledger_record_size bytes); parts->payload
 * may be NULL for none. */
void cairn_ledger_record_write(const cairn_ledger_record_parts_t *parts, uint8_t *buf);

/* Splits the stored record of entry index: CAIRN_EINTEGRITY when its
 * header does not fit its bytes or names another number of hashes than the
 * index has. */
int cairn_ledger_record_parse(uint64_t index, const MDB_val *val, cairn_ledger_record_parts_t *out);

/* Reads and splits the record of entry index (valid until the txn ends):
 * CAIRN_ENOTFOUND when there is no such entry, CAIRN_EINTEGRITY when the
 * record is malformed. */
int cairn_ledger_record_get(const cairn_ledger_view_t *v, uint64_t index,
                            cairn_ledger_record_parts_t *out);

/* cairn_merkle_get_fn over the records' hashes; arg is a
 * cairn_ledger_view_t. CAIRN_ENOTFOUND when the subtree is not complete. */
int cairn_ledger_node_get(void *arg, unsigned level, uint64_t index, uint8_t out[CAIRN_HASH_BYTES]);

/* Reads the leaf bytes of index (valid until the txn ends). CAIRN_ENOTFOUND
 * when there is no such leaf. */
int cairn_ledger_leaf_get(const cairn_ledger_view_t *v, uint64_t index, MDB_val *leaf_out);

/* Reads the payload of index (valid until the txn ends). CAIRN_ENOTFOUND
 * when there is none (purged). */
int cairn_ledger_payload_get(const cairn_ledger_view_t *v, uint64_t index, MDB_val *payload_out);

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

/* Appends every index at or above `from` that lookup holds under kind and
 * text (NULL or "" adds nothing), in no particular order. A change's are its
 * head and the `prev` chain of its leaves below it (a leaf of another change,
 * or a prev not below its entry, is CAIRN_EINTEGRITY). */
int cairn_ledger_indexes_collect(const cairn_ledger_view_t *v, cairn_ledger_by_t kind,
                                 const char *text, uint64_t from, cairn_ledger_indexes_t *out);

/* What a served cairn.v1.Entry holds. */
typedef struct {
    uint64_t index;           /* position in the log */
    const char *topic;        /* from the leaf */
    const char *change;       /* from the leaf; NULL or "" for none */
    const char *key;          /* idempotency key; NULL or "" for none */
    uint64_t time_ms;         /* ledger time, from the leaf */
    const void *record;       /* the payload; NULL once purged */
    size_t record_len;        /* its bytes */
    const void *leaf;         /* the leaf bytes */
    size_t leaf_len;          /* their length */
    const uint8_t *leaf_hash; /* SHA-256(0x00 || leaf) */
} cairn_ledger_entry_parts_t;

/* Fills the cairn.v1.Entry the ledger serves and publishes (pointing into
 * parts): hash is the leaf hash, record the payload (empty once purged),
 * prev_hash unset. The append path and every read build entries with it,
 * so an entry has one encoding. */
void cairn_ledger_entry_init(const cairn_ledger_entry_parts_t *parts, Cairn__V1__Entry *out);

/* Packs that Entry; *entry_out is malloc'd. */
int cairn_ledger_entry_pack(const cairn_ledger_entry_parts_t *parts, uint8_t **entry_out,
                            size_t *len_out);

/* Builds the packed cairn.v1.Entry of index from its leaf, payload and key.
 * The leaf must name index and its payload, when present, must hash to the
 * leaf's digest, else CAIRN_EINTEGRITY. *entry_out is malloc'd. */
int cairn_ledger_entry_build(const cairn_ledger_view_t *v, uint64_t index, uint8_t **entry_out,
                             size_t *len_out);

#endif
