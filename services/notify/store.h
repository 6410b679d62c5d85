/* The notify daemon's durable state: one LMDB environment at
 * notify.state_path with a database per kind of record (see docs/notify.md,
 * "State"). Everything the engine changes while it handles a batch goes into
 * one write transaction, committed (and synced) before any delivery that
 * depends on it starts, together with the next ledger index to apply. */
#ifndef CAIRN_NOTIFY_STORE_H
#define CAIRN_NOTIFY_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    CAIRN_DB_META,       /* "next", "inbox_seq", "ledger_out_seq" (big-endian u64) */
    CAIRN_DB_ALERTS,     /* fingerprint (16 hex) -> alert JSON */
    CAIRN_DB_GROUPS,     /* group id -> group JSON (route, labels, timers, sequence) */
    CAIRN_DB_MEMBERS,    /* "<group id>:<fingerprint>" -> membership JSON */
    CAIRN_DB_NFLOG,      /* "<group id>:<target>" -> what was last notified */
    CAIRN_DB_OUTBOX,     /* "<target>:<group id>:<sequence 12 digits>" -> JSON, NUL, bodies */
    CAIRN_DB_LEDGER_OUT, /* u64 -> {key, record (base64)}: appends waiting for the ledger */
    CAIRN_DB_SILENCES,   /* silence id -> silence JSON */
    CAIRN_DB_ACKS,       /* ack id -> acknowledgement JSON */
    CAIRN_DB_CHANGES,    /* change id -> facts JSON */
    CAIRN_DB_TARGETS,    /* target -> {disabled_at_ms, reason, url_sha256} */
    CAIRN_DB_INBOX,      /* u64 -> packed InboxItem */
    CAIRN_DB_ATTEMPTS,   /* outbox key -> {attempt, started}: an attempt under way */
    CAIRN_DB_COUNT
} cairn_store_db_t;

typedef struct cairn_notify_store_t cairn_notify_store_t;

int cairn_notify_store_open(const char *dir, cairn_notify_store_t **out);
void cairn_notify_store_destroy(cairn_notify_store_t **self_p);

/* Commits the open write transaction, if any. */
int cairn_notify_store_commit(cairn_notify_store_t *self);

/* Drops the open write transaction, if any. */
void cairn_notify_store_abort(cairn_notify_store_t *self);

/* True when a write transaction is open. */
bool cairn_notify_store_dirty(const cairn_notify_store_t *self);

/* Writes (opening the write transaction when needed). */
int cairn_notify_store_put(cairn_notify_store_t *self, cairn_store_db_t db, const void *key,
                           size_t klen, const void *val, size_t vlen);
int cairn_notify_store_put_json(cairn_notify_store_t *self, cairn_store_db_t db, const char *key,
                                const json_t *value);
int cairn_notify_store_del(cairn_notify_store_t *self, cairn_store_db_t db, const void *key,
                           size_t klen);
int cairn_notify_store_put_u64(cairn_notify_store_t *self, const char *key, uint64_t value);

/* Reads see the open write transaction. CAIRN_ENOTFOUND when absent.
 * *val_out from get is malloc'd. */
int cairn_notify_store_get(cairn_notify_store_t *self, cairn_store_db_t db, const void *key,
                           size_t klen, void **val_out, size_t *vlen_out);
int cairn_notify_store_get_json(cairn_notify_store_t *self, cairn_store_db_t db, const char *key,
                                json_t **out);
int cairn_notify_store_get_u64(cairn_notify_store_t *self, const char *key, uint64_t *out);

/* Calls fn for every record of db whose key starts with prefix (NULL: all),
 * in key order; fn returns 0 to go on, 1 to stop, or a negative code. The
 * callback must not write to the store. */
typedef int (*cairn_store_each_fn)(void *arg, const void *key, size_t klen, const void *val,
                                   size_t vlen);
int cairn_notify_store_each(cairn_notify_store_t *self, cairn_store_db_t db, const char *prefix,
                            cairn_store_each_fn fn, void *arg);

/* Like each, in reverse key order (the newest of u64-keyed databases first). */
int cairn_notify_store_each_reverse(cairn_notify_store_t *self, cairn_store_db_t db,
                                    cairn_store_each_fn fn, void *arg);

/* Number of records in db. */
int cairn_notify_store_count(cairn_notify_store_t *self, cairn_store_db_t db, size_t *out);

#endif
