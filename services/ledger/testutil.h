/* Helpers shared by the ledger's unit tests (linked into test runners only):
 * temporary directories, deterministic keys, records, raw LMDB tampering
 * and a from-scratch RFC 9162 tree hash to compare the store against. */
#ifndef CAIRN_LEDGER_TESTUTIL_H
#define CAIRN_LEDGER_TESTUTIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "cairn/note.h"
#include "engine.h"
#include "store.h"

#define LT_ORIGIN "test.example/ledger"
#define LT_MAP_SIZE (64u * 1024u * 1024u)

/* mkdtemp under /tmp from a template prefix; dir has room for 64 bytes. */
void lt_mkdtemp(char dir[64], const char *prefix);

/* Removes a directory tree. */
void lt_rmtree(const char *dir);

/* Copies the LMDB data file of the store in dir to to_dir (created), as a
 * backup taken while no batch is open. */
void lt_copy_store(const char *dir, const char *to_dir);

/* A signer named origin from a seed of 32 copies of seed_byte. */
cairn_note_signer_t *lt_signer(const char *origin, uint8_t seed_byte);

/* A packed Record holding an event (type, change, release, actor may be
 * NULL), with a distinct id. */
void lt_event_record(const char *type, const char *change, const char *release, const char *actor,
                     const char *id, uint8_t **buf, size_t *len);

/* The same, naming an environment (correlation.environment; NULL for none). */
void lt_event_record_env(const char *type, const char *change, const char *release,
                         const char *actor, const char *env, const char *id, uint8_t **buf,
                         size_t *len);

/* Appends one event inside the open batch (asserts success). */
cairn_ledger_append_t lt_append_in(cairn_ledger_store_t *store, const char *key, const char *change,
                                   const char *release, const char *id, int64_t time_ms);

/* Appends n keyless events for change in one batch. */
void lt_append_batch(cairn_ledger_store_t *store, size_t n, const char *change);

/* Puts the row key -> val in dbname, or with del deletes it (the one
 * duplicate val of a sorted-duplicates database, or with val NULL the key). */
void lt_row(const char *dir, const char *dbname, bool del, const void *key, size_t klen,
            const void *val, size_t vlen);

/* XORs one byte (at offset, from the end when negative) of a stored value. */
void lt_flip(const char *dir, const char *dbname, const void *key, size_t klen, long offset);

/* A part of an entry record (layout.h). */
typedef enum {
    LT_PART_HASHES,  /* its tree hashes: level L's byte j is at L * 32 + j */
    LT_PART_LEAF,    /* its leaf */
    LT_PART_PAYLOAD, /* its payload */
} lt_part_t;

/* XORs one byte of part of entry index's record (at offset into the part,
 * from the part's end when negative). */
void lt_flip_record(const char *dir, uint64_t index, lt_part_t part, long offset);

/* Reads the raw value under key of dbname into a malloc'd buffer. */
void lt_get(const char *dir, const char *dbname, const void *key, size_t klen, uint8_t **val,
            size_t *len);

/* MTH of n leaf hashes, recursively (RFC 9162 2.1.1), as a reference. */
void lt_mth(const uint8_t (*leaf_hashes)[32], uint64_t n, uint8_t out[32]);

/* Leaf hashes of the first n entries, read back through replay. */
uint8_t (*lt_leaf_hashes(cairn_ledger_store_t *store, uint64_t n))[32];

/* Packs a LedgerRequest appending rec under idempotency key (asserts it packs). */
void lt_append_request(const char *key, Cairn__V1__Record *rec, uint8_t **buf, size_t *len);

/* An engine served on a thread of its own, as the daemon's main loop does. */
typedef struct {
    cairn_ledger_t *ledger; /* served (borrowed) */
    pthread_t thread;       /* calls cairn_ledger_run_once while running */
    atomic_bool running;    /* cleared to stop the thread */
    bool started;           /* thread was started */
} lt_served_t;

/* Starts serving ledger. */
void lt_serve(lt_served_t *s, cairn_ledger_t *ledger);

/* Stops serving and joins the thread (no-op when not started). */
void lt_serve_stop(lt_served_t *s);

#endif
