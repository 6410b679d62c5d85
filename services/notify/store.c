/* The notify state store (see store.h): LMDB with one database per kind,
 * one write transaction per engine turn. */
#include "store.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/lmdbx.h"

#define S_MAP_SIZE ((size_t)4 * 1024 * 1024 * 1024)

static const char *const s_names[CAIRN_DB_COUNT] = {
    "meta",     "alerts", "groups",  "members", "nflog", "outbox",  "ledger_out",
    "silences", "acks",   "changes", "targets", "inbox", "attempts"};

struct cairn_notify_store_t {
    MDB_env *env;                /* at notify.state_path */
    MDB_dbi dbi[CAIRN_DB_COUNT]; /* one per kind */
    MDB_txn *txn;                /* the open write transaction, or NULL */
};

int cairn_notify_store_open(const char *dir, cairn_notify_store_t **out)
{
    cairn_notify_store_t *self = calloc(1, sizeof *self);
    MDB_txn *txn = NULL;
    int rc;
    if (!self)
        return -ENOMEM;
    if ((rc = cairn_lmdb_open(dir, S_MAP_SIZE, CAIRN_DB_COUNT + 2, &self->env)) < 0)
        goto out;
    if ((rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn))) < 0)
        goto out;
    for (int i = 0; i < CAIRN_DB_COUNT; i++)
        if ((rc = cairn_lmdb_code(mdb_dbi_open(txn, s_names[i], MDB_CREATE, &self->dbi[i]))) < 0)
            goto out;
    rc = cairn_lmdb_code(mdb_txn_commit(txn));
    txn = NULL;
    if (rc < 0)
        goto out;
    *out = self;
    self = NULL;
out:
    if (txn)
        mdb_txn_abort(txn);
    cairn_notify_store_destroy(&self);
    return rc;
}

void cairn_notify_store_destroy(cairn_notify_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_notify_store_t *self = *self_p;
    if (self->txn)
        mdb_txn_abort(self->txn);
    if (self->env)
        mdb_env_close(self->env);
    free(self);
    *self_p = NULL;
}

static int s_begin(cairn_notify_store_t *self)
{
    if (self->txn)
        return 0;
    return cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &self->txn));
}

int cairn_notify_store_commit(cairn_notify_store_t *self)
{
    if (!self->txn)
        return 0;
    int rc = cairn_lmdb_code(mdb_txn_commit(self->txn));
    self->txn = NULL;
    return rc;
}

void cairn_notify_store_abort(cairn_notify_store_t *self)
{
    if (self->txn)
        mdb_txn_abort(self->txn);
    self->txn = NULL;
}

bool cairn_notify_store_dirty(const cairn_notify_store_t *self)
{
    return self->txn != NULL;
}

int cairn_notify_store_put(cairn_notify_store_t *self, cairn_store_db_t db, const void *key,
                           size_t klen, const void *val, size_t vlen)
{
    int rc = s_begin(self);
    if (rc < 0)
        return rc;
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    return cairn_lmdb_code(mdb_put(self->txn, self->dbi[db], &k, &v, 0));
}

int cairn_notify_store_put_json(cairn_notify_store_t *self, cairn_store_db_t db, const char *key,
                                const json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT);
    if (!text)
        return -ENOMEM;
    int rc = cairn_notify_store_put(self, db, key, strlen(key), text, strlen(text));
    free(text);
    return rc;
}

int cairn_notify_store_del(cairn_notify_store_t *self, cairn_store_db_t db, const void *key,
                           size_t klen)
{
    int rc = s_begin(self);
    if (rc < 0)
        return rc;
    MDB_val k = {klen, (void *)key};
    rc = mdb_del(self->txn, self->dbi[db], &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : cairn_lmdb_code(rc);
}

int cairn_notify_store_put_u64(cairn_notify_store_t *self, const char *key, uint64_t value)
{
    uint8_t be[8];
    cairn_u64_to_key(value, be);
    return cairn_notify_store_put(self, CAIRN_DB_META, key, strlen(key), be, 8);
}

/* The open write transaction, or a new read-only one (*own set). */
static int s_read_txn(cairn_notify_store_t *self, MDB_txn **txn, bool *own)
{
    *own = false;
    if (self->txn) {
        *txn = self->txn;
        return 0;
    }
    *own = true;
    return cairn_lmdb_code(mdb_txn_begin(self->env, NULL, MDB_RDONLY, txn));
}

int cairn_notify_store_get(cairn_notify_store_t *self, cairn_store_db_t db, const void *key,
                           size_t klen, void **val_out, size_t *vlen_out)
{
    MDB_txn *txn = NULL;
    bool own = false;
    int rc = s_read_txn(self, &txn, &own);
    if (rc < 0)
        return rc;
    MDB_val k = {klen, (void *)key}, v;
    rc = cairn_lmdb_code(mdb_get(txn, self->dbi[db], &k, &v));
    if (rc == 0) {
        void *copy = malloc(v.mv_size + 1);
        if (!copy) {
            rc = -ENOMEM;
        } else {
            memcpy(copy, v.mv_data, v.mv_size);
            ((char *)copy)[v.mv_size] = '\0';
            *val_out = copy;
            *vlen_out = v.mv_size;
        }
    }
    if (own)
        mdb_txn_abort(txn);
    return rc;
}

int cairn_notify_store_get_json(cairn_notify_store_t *self, cairn_store_db_t db, const char *key,
                                json_t **out)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cairn_notify_store_get(self, db, key, strlen(key), &val, &len);
    if (rc < 0)
        return rc;
    json_t *j = json_loadb(val, len, 0, NULL);
    free(val);
    if (!j)
        return CAIRN_EINTEGRITY;
    *out = j;
    return 0;
}

int cairn_notify_store_get_u64(cairn_notify_store_t *self, const char *key, uint64_t *out)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cairn_notify_store_get(self, CAIRN_DB_META, key, strlen(key), &val, &len);
    if (rc < 0)
        return rc;
    if (len != 8)
        rc = CAIRN_EINTEGRITY;
    else
        *out = cairn_key_to_u64(val);
    free(val);
    return rc;
}

static int s_each(cairn_notify_store_t *self, cairn_store_db_t db, const char *prefix, bool reverse,
                  cairn_store_each_fn fn, void *arg)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    bool own = false;
    size_t plen = prefix ? strlen(prefix) : 0;
    int rc = s_read_txn(self, &txn, &own);
    if (rc < 0)
        return rc;
    if ((rc = cairn_lmdb_code(mdb_cursor_open(txn, self->dbi[db], &cur))) < 0)
        goto out;
    MDB_val k = {plen, (void *)prefix}, v;
    int op;
    if (reverse)
        op = MDB_LAST;
    else
        op = plen ? MDB_SET_RANGE : MDB_FIRST;
    for (int mrc = mdb_cursor_get(cur, &k, &v, op); mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, reverse ? MDB_PREV : MDB_NEXT)) {
        if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)) {
            if (reverse)
                continue;
            break;
        }
        rc = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
        if (rc != 0)
            break;
    }
    if (rc > 0)
        rc = 0;
out:
    if (cur)
        mdb_cursor_close(cur);
    if (own)
        mdb_txn_abort(txn);
    return rc;
}

int cairn_notify_store_each(cairn_notify_store_t *self, cairn_store_db_t db, const char *prefix,
                            cairn_store_each_fn fn, void *arg)
{
    return s_each(self, db, prefix, false, fn, arg);
}

int cairn_notify_store_each_reverse(cairn_notify_store_t *self, cairn_store_db_t db,
                                    cairn_store_each_fn fn, void *arg)
{
    return s_each(self, db, NULL, true, fn, arg);
}

int cairn_notify_store_count(cairn_notify_store_t *self, cairn_store_db_t db, size_t *out)
{
    MDB_txn *txn = NULL;
    bool own = false;
    MDB_stat st;
    int rc = s_read_txn(self, &txn, &own);
    if (rc < 0)
        return rc;
    rc = cairn_lmdb_code(mdb_stat(txn, self->dbi[db], &st));
    if (rc == 0)
        *out = st.ms_entries;
    if (own)
        mdb_txn_abort(txn);
    return rc;
}
