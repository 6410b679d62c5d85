/* The protection request store (see protection_store.h): two LMDB
 * databases, "pending" and "done", each SHA-256(id) -> compact JSON text.
 * (Ids are hashed because LMDB keys are short and ids need not be.) */
#include "protection_store.h"

#include <errno.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/util.h"

/* The store holds small documents; the map only needs room for many. */
#define S_MAP_SIZE (256u * 1024u * 1024u)

struct cairn_protection_store_t {
    MDB_env *env;    /* the LMDB environment */
    MDB_dbi pending; /* requests not answered yet */
    MDB_dbi done;    /* requests answered (or given up on) */
};

int cairn_protection_store_open(const char *dir, cairn_protection_store_t **out)
{
    MDB_txn *txn = NULL;
    cairn_protection_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    int rc = cairn_lmdb_open(dir, S_MAP_SIZE, 2, &self->env);
    if (rc == 0)
        rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn));
    if (rc == 0)
        rc = cairn_lmdb_code(mdb_dbi_open(txn, "pending", MDB_CREATE, &self->pending));
    if (rc == 0)
        rc = cairn_lmdb_code(mdb_dbi_open(txn, "done", MDB_CREATE, &self->done));
    if (rc == 0) {
        rc = cairn_lmdb_code(mdb_txn_commit(txn));
        txn = NULL;
    }
    if (txn)
        mdb_txn_abort(txn);
    if (rc < 0) {
        cairn_protection_store_destroy(&self);
        return rc;
    }
    *out = self;
    return 0;
}

void cairn_protection_store_destroy(cairn_protection_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->env)
        mdb_env_close((*self_p)->env);
    free(*self_p);
    *self_p = NULL;
}

/* The key of a document: SHA-256 of its "id". */
static int s_key(const json_t *doc, uint8_t hash[32])
{
    const char *id = json_string_value(json_object_get(doc, "id"));
    if (!id || !*id)
        return CAIRN_EINVALID;
    cairn_sha256(id, strlen(id), hash);
    return 0;
}

static int s_put(MDB_txn *txn, MDB_dbi dbi, uint8_t hash[32], const json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text)
        return -ENOMEM;
    MDB_val k = {32, hash}, v = {strlen(text), text};
    int rc = cairn_lmdb_code(mdb_put(txn, dbi, &k, &v, 0));
    free(text);
    return rc;
}

/* Runs one write transaction: adds (when add) or replaces in pending, or
 * moves to done (when finish). */
static int s_write(cairn_protection_store_t *self, const json_t *doc, int add, int finish)
{
    uint8_t hash[32];
    MDB_txn *txn = NULL;
    int rc = s_key(doc, hash);
    if (rc < 0)
        return rc;
    if ((rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn))) < 0)
        return rc;
    MDB_val k = {32, hash}, v;
    if (add) {
        if (mdb_get(txn, self->pending, &k, &v) == 0 || mdb_get(txn, self->done, &k, &v) == 0) {
            mdb_txn_abort(txn);
            return 1;
        }
    }
    if (finish) {
        int mrc = mdb_del(txn, self->pending, &k, NULL);
        rc = mrc == MDB_NOTFOUND ? 0 : cairn_lmdb_code(mrc);
        if (rc == 0)
            rc = s_put(txn, self->done, hash, doc);
    } else {
        rc = s_put(txn, self->pending, hash, doc);
    }
    if (rc < 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return cairn_lmdb_code(mdb_txn_commit(txn));
}

int cairn_protection_store_add(cairn_protection_store_t *self, const json_t *doc)
{
    return s_write(self, doc, 1, 0);
}

int cairn_protection_store_save(cairn_protection_store_t *self, const json_t *doc)
{
    return s_write(self, doc, 0, 0);
}

int cairn_protection_store_finish(cairn_protection_store_t *self, const json_t *doc)
{
    return s_write(self, doc, 0, 1);
}

int cairn_protection_store_pending(cairn_protection_store_t *self, json_t **out)
{
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    json_t *list = json_array();
    if (!list)
        return -ENOMEM;
    int rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc == 0)
        rc = cairn_lmdb_code(mdb_cursor_open(txn, self->pending, &cur));
    for (int mrc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : MDB_NOTFOUND; mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        json_t *doc = json_loadb(v.mv_data, v.mv_size, 0, NULL);
        if (json_is_object(doc))
            json_array_append(list, doc);
        json_decref(doc);
    }
    if (cur)
        mdb_cursor_close(cur);
    if (txn)
        mdb_txn_abort(txn);
    if (rc < 0) {
        json_decref(list);
        return rc;
    }
    *out = list;
    return 0;
}
