/* The spool (see spool.h): an LMDB environment with four databases.
 *   items  BE u64 seq -> [BE u64 queued_ms][BE u16 key length][key][request]
 *   keys   SHA-256(key) -> BE u64 seq   (LMDB keys are short; idempotency
 *                                        keys need not be)
 *   dead   BE u64 seq -> [BE u64 dead_ms][BE u16 reason length][reason][item]
 *   meta   "next_seq" -> BE u64
 * Counts are kept in memory (computed once at open) and changed under the
 * LMDB write lock, so the limit check and the put see the same state. */
#include "spool.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/util.h"

/* Bytes before the key in an item value. */
#define S_HEAD 10
/* Room the LMDB map keeps beyond max_bytes for pages, keys and dead items. */
#define S_MAP_SLACK (64u * 1024u * 1024u)

struct cairn_ingest_spool_t {
    MDB_env *env;         /* the LMDB environment */
    MDB_dbi items;        /* seq -> item */
    MDB_dbi keys;         /* SHA-256(key) -> seq */
    MDB_dbi dead;         /* seq -> refused item */
    MDB_dbi meta;         /* next_seq */
    pthread_mutex_t lock; /* guards the counts below */
    uint64_t depth;       /* items waiting */
    uint64_t bytes;       /* request bytes waiting */
    uint64_t n_dead;      /* items in dead */
    uint64_t next_seq;    /* next sequence number */
    int64_t oldest_ms;    /* queued time of the oldest item, 0 when empty */
    uint64_t max_items;   /* limit on depth */
    uint64_t max_bytes;   /* limit on bytes */
};

static void s_put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static size_t s_get16(const uint8_t *p)
{
    return (size_t)p[0] << 8 | p[1];
}

/* Splits an item value; CAIRN_EINTEGRITY when it is too short. */
static int s_split(const MDB_val *v, int64_t *queued_ms, const uint8_t **key, size_t *key_len,
                   const uint8_t **request, size_t *len)
{
    const uint8_t *p = v->mv_data;
    if (v->mv_size < S_HEAD)
        return CAIRN_EINTEGRITY;
    size_t kl = s_get16(p + 8);
    if (v->mv_size < S_HEAD + kl)
        return CAIRN_EINTEGRITY;
    *queued_ms = (int64_t)cairn_key_to_u64(p);
    *key = p + S_HEAD;
    *key_len = kl;
    *request = p + S_HEAD + kl;
    *len = v->mv_size - S_HEAD - kl;
    return 0;
}

/* Counts what is waiting (once, at open). */
static int s_scan(cairn_ingest_spool_t *self, MDB_txn *txn)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    MDB_stat st;
    int rc = mdb_cursor_open(txn, self->items, &cur);
    if (rc != 0)
        return cairn_lmdb_code(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        int64_t queued = 0;
        const uint8_t *key, *req;
        size_t kl, len;
        if (s_split(&v, &queued, &key, &kl, &req, &len) < 0)
            continue;
        if (self->depth++ == 0)
            self->oldest_ms = queued;
        self->bytes += len;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return cairn_lmdb_code(rc);
    if ((rc = mdb_stat(txn, self->dead, &st)) != 0)
        return cairn_lmdb_code(rc);
    self->n_dead = st.ms_entries;
    return 0;
}

int cairn_ingest_spool_open(const char *dir, uint64_t max_items, uint64_t max_bytes,
                            cairn_ingest_spool_t **out)
{
    MDB_txn *txn = NULL;
    int rc;
    cairn_ingest_spool_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    pthread_mutex_init(&self->lock, NULL);
    self->max_items = max_items;
    self->max_bytes = max_bytes;
    size_t map = (size_t)(max_bytes + max_bytes / 2) + S_MAP_SLACK;
    if ((rc = cairn_lmdb_open(dir, map, 4, &self->env)) < 0)
        goto fail;
    if ((rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn))) < 0)
        goto fail;
    if ((rc = cairn_lmdb_code(mdb_dbi_open(txn, "items", MDB_CREATE, &self->items))) < 0 ||
        (rc = cairn_lmdb_code(mdb_dbi_open(txn, "keys", MDB_CREATE, &self->keys))) < 0 ||
        (rc = cairn_lmdb_code(mdb_dbi_open(txn, "dead", MDB_CREATE, &self->dead))) < 0 ||
        (rc = cairn_lmdb_code(mdb_dbi_open(txn, "meta", MDB_CREATE, &self->meta))) < 0)
        goto fail;
    rc = cairn_lmdb_get_u64(txn, self->meta, "next_seq", &self->next_seq);
    if (rc == CAIRN_ENOTFOUND)
        rc = 0;
    if (rc < 0 || (rc = s_scan(self, txn)) < 0)
        goto fail;
    rc = cairn_lmdb_code(mdb_txn_commit(txn));
    txn = NULL;
    if (rc < 0)
        goto fail;
    *out = self;
    return 0;
fail:
    if (txn)
        mdb_txn_abort(txn);
    cairn_ingest_spool_destroy(&self);
    return rc;
}

void cairn_ingest_spool_destroy(cairn_ingest_spool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ingest_spool_t *self = *self_p;
    if (self->env)
        mdb_env_close(self->env);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

void cairn_ingest_spooled_clear(cairn_ingest_spooled_t *item)
{
    free(item->request);
    item->request = NULL;
    item->len = 0;
}

static void s_key_hash(const char *key, uint8_t out[32])
{
    cairn_sha256(key, strlen(key), out);
}

int cairn_ingest_spool_put(cairn_ingest_spool_t *self, const char *key, const uint8_t *request,
                           size_t len, int64_t now_ms, uint64_t *seq_out, bool *duplicate_out)
{
    MDB_txn *txn = NULL;
    uint8_t hash[32], seq_key[8], *value = NULL;
    size_t kl = key ? strlen(key) : 0;
    uint64_t seq = 0;
    int rc;
    bool counted = false;
    if (kl > 0xffff)
        return CAIRN_EINVALID;
    if ((rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn))) < 0)
        return rc;
    /* From here on this thread holds the LMDB write lock: the counts cannot
     * change under the checks below. */
    if (kl > 0) {
        s_key_hash(key, hash);
        MDB_val hk = {sizeof hash, hash}, hv;
        rc = mdb_get(txn, self->keys, &hk, &hv);
        if (rc == 0 && hv.mv_size == 8) {
            *seq_out = cairn_key_to_u64(hv.mv_data);
            *duplicate_out = true;
            rc = 0;
            goto out;
        }
        if (rc != 0 && rc != MDB_NOTFOUND) {
            rc = cairn_lmdb_code(rc);
            goto out;
        }
    }
    pthread_mutex_lock(&self->lock);
    bool full = self->depth >= self->max_items || self->bytes + len > self->max_bytes;
    seq = self->next_seq;
    pthread_mutex_unlock(&self->lock);
    if (full) {
        rc = CAIRN_EBUSY;
        goto out;
    }
    value = malloc(S_HEAD + kl + len);
    if (!value) {
        rc = -ENOMEM;
        goto out;
    }
    cairn_u64_to_key((uint64_t)now_ms, value);
    s_put16(value + 8, kl);
    memcpy(value + S_HEAD, key ? key : "", kl);
    memcpy(value + S_HEAD + kl, request, len);
    cairn_u64_to_key(seq, seq_key);
    MDB_val k = {8, seq_key}, v = {S_HEAD + kl + len, value};
    if ((rc = cairn_lmdb_code(mdb_put(txn, self->items, &k, &v, MDB_APPEND))) < 0)
        goto out;
    if (kl > 0) {
        MDB_val hk = {sizeof hash, hash}, hv = {8, seq_key};
        if ((rc = cairn_lmdb_code(mdb_put(txn, self->keys, &hk, &hv, 0))) < 0)
            goto out;
    }
    if ((rc = cairn_lmdb_put_u64(txn, self->meta, "next_seq", seq + 1)) < 0)
        goto out;
    pthread_mutex_lock(&self->lock);
    if (self->depth++ == 0)
        self->oldest_ms = now_ms;
    self->bytes += len;
    self->next_seq = seq + 1;
    pthread_mutex_unlock(&self->lock);
    counted = true;
    rc = cairn_lmdb_code(mdb_txn_commit(txn));
    txn = NULL;
    if (rc == 0) {
        *seq_out = seq;
        *duplicate_out = false;
    }
out:
    if (txn)
        mdb_txn_abort(txn);
    if (rc < 0 && counted) {
        pthread_mutex_lock(&self->lock);
        self->depth--;
        self->bytes -= len;
        self->next_seq = seq;
        pthread_mutex_unlock(&self->lock);
    }
    free(value);
    /* A full map is a full spool too. */
    return rc == CAIRN_ESTORE ? CAIRN_EBUSY : rc;
}

int cairn_ingest_spool_peek(cairn_ingest_spool_t *self, cairn_ingest_spooled_t *items, size_t max,
                            size_t *n_out)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    size_t n = 0;
    int rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc < 0)
        return rc;
    if ((rc = cairn_lmdb_code(mdb_cursor_open(txn, self->items, &cur))) < 0)
        goto out;
    int mrc;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && n < max;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        int64_t queued = 0;
        const uint8_t *key, *req;
        size_t kl, len;
        if (k.mv_size != 8 || s_split(&v, &queued, &key, &kl, &req, &len) < 0)
            continue;
        cairn_ingest_spooled_t *it = &items[n];
        it->request = malloc(len ? len : 1);
        if (!it->request) {
            rc = -ENOMEM;
            goto out;
        }
        memcpy(it->request, req, len);
        it->len = len;
        it->seq = cairn_key_to_u64(k.mv_data);
        it->queued_ms = queued;
        n++;
    }
    if (mrc != 0 && mrc != MDB_NOTFOUND)
        rc = cairn_lmdb_code(mrc);
out:
    if (cur)
        mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            cairn_ingest_spooled_clear(&items[i]);
        return rc;
    }
    *n_out = n;
    return 0;
}

/* Deletes one item and its key inside txn (copying its value into *copy
 * when copy is not NULL). Returns 1 and its request size in *len_out, 0
 * when the item is not there, or a negative code. */
static int s_delete(cairn_ingest_spool_t *self, MDB_txn *txn, uint64_t seq, MDB_val *copy,
                    size_t *len_out)
{
    uint8_t seq_key[8];
    cairn_u64_to_key(seq, seq_key);
    MDB_val k = {8, seq_key}, v;
    *len_out = 0;
    int rc = mdb_get(txn, self->items, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return cairn_lmdb_code(rc);
    int64_t queued = 0;
    const uint8_t *key = NULL, *req = NULL;
    size_t kl = 0, len = 0;
    if (s_split(&v, &queued, &key, &kl, &req, &len) == 0 && kl > 0) {
        char *text = malloc(kl + 1);
        if (!text)
            return -ENOMEM;
        memcpy(text, key, kl);
        text[kl] = '\0';
        uint8_t hash[32];
        s_key_hash(text, hash);
        free(text);
        MDB_val hk = {sizeof hash, hash};
        rc = mdb_del(txn, self->keys, &hk, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND)
            return cairn_lmdb_code(rc);
    }
    if (copy) {
        copy->mv_data = malloc(v.mv_size);
        if (!copy->mv_data)
            return -ENOMEM;
        memcpy(copy->mv_data, v.mv_data, v.mv_size);
        copy->mv_size = v.mv_size;
    }
    if ((rc = mdb_del(txn, self->items, &k, NULL)) != 0)
        return cairn_lmdb_code(rc);
    *len_out = len;
    return 1;
}

/* The queued time of the oldest item still waiting, 0 when none. */
static int64_t s_oldest(cairn_ingest_spool_t *self, MDB_txn *txn)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int64_t oldest = 0;
    if (mdb_cursor_open(txn, self->items, &cur) != 0)
        return 0;
    if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && v.mv_size >= 8)
        oldest = (int64_t)cairn_key_to_u64(v.mv_data);
    mdb_cursor_close(cur);
    return oldest;
}

/* Removes items (into dead when reason is set) and updates the counts. */
static int s_remove(cairn_ingest_spool_t *self, const uint64_t *seqs, size_t n, const char *reason)
{
    MDB_txn *txn = NULL;
    uint64_t removed = 0, bytes = 0;
    MDB_val copy = {0, NULL};
    uint8_t *dead = NULL;
    int rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        rc = s_delete(self, txn, seqs[i], reason ? &copy : NULL, &len);
        if (rc < 0)
            goto out;
        if (rc == 0)
            continue;
        removed++;
        bytes += len;
        if (reason) {
            size_t rl = strlen(reason) > 0xffff ? 0xffff : strlen(reason);
            dead = malloc(S_HEAD + rl + copy.mv_size);
            if (!dead) {
                rc = -ENOMEM;
                goto out;
            }
            cairn_u64_to_key((uint64_t)cairn_now_ms(), dead);
            s_put16(dead + 8, rl);
            memcpy(dead + S_HEAD, reason, rl);
            memcpy(dead + S_HEAD + rl, copy.mv_data, copy.mv_size);
            uint8_t seq_key[8];
            cairn_u64_to_key(seqs[i], seq_key);
            MDB_val k = {8, seq_key}, v = {S_HEAD + rl + copy.mv_size, dead};
            if ((rc = cairn_lmdb_code(mdb_put(txn, self->dead, &k, &v, 0))) < 0)
                goto out;
            free(dead);
            dead = NULL;
            free(copy.mv_data);
            copy.mv_data = NULL;
        }
    }
    int64_t oldest = s_oldest(self, txn);
    rc = cairn_lmdb_code(mdb_txn_commit(txn));
    txn = NULL;
    if (rc == 0) {
        pthread_mutex_lock(&self->lock);
        self->depth -= removed <= self->depth ? removed : self->depth;
        self->bytes -= bytes <= self->bytes ? bytes : self->bytes;
        if (reason)
            self->n_dead += removed;
        self->oldest_ms = self->depth ? oldest : 0;
        pthread_mutex_unlock(&self->lock);
    }
out:
    if (txn)
        mdb_txn_abort(txn);
    free(dead);
    free(copy.mv_data);
    return rc < 0 ? rc : 0;
}

int cairn_ingest_spool_remove(cairn_ingest_spool_t *self, const uint64_t *seqs, size_t n)
{
    return s_remove(self, seqs, n, NULL);
}

int cairn_ingest_spool_bury(cairn_ingest_spool_t *self, uint64_t seq, const char *reason)
{
    return s_remove(self, &seq, 1, reason && *reason ? reason : "refused by the ledger");
}

bool cairn_ingest_spool_empty(cairn_ingest_spool_t *self)
{
    pthread_mutex_lock(&self->lock);
    bool empty = self->depth == 0;
    pthread_mutex_unlock(&self->lock);
    return empty;
}

void cairn_ingest_spool_stats(cairn_ingest_spool_t *self, cairn_ingest_spool_stats_t *out)
{
    pthread_mutex_lock(&self->lock);
    out->depth = self->depth;
    out->bytes = self->bytes;
    out->dead = self->n_dead;
    out->next_seq = self->next_seq;
    out->oldest_ms = self->oldest_ms;
    out->max_depth = self->max_items;
    out->max_bytes = self->max_bytes;
    pthread_mutex_unlock(&self->lock);
}
