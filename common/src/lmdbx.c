/* LMDB helpers: environment setup, numeric keys, code mapping. */
#include "cairn/lmdbx.h"

#include <errno.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"

int cairn_lmdb_code(int mdb_rc)
{
    if (mdb_rc == MDB_SUCCESS)
        return 0;
    if (mdb_rc == MDB_NOTFOUND)
        return CAIRN_ENOTFOUND;
    if (mdb_rc > 0)
        return -mdb_rc; /* errno values */
    return CAIRN_ESTORE;
}

int cairn_lmdb_open(const char *dir, size_t map_size, unsigned max_dbs, MDB_env **env_out)
{
    MDB_env *env = NULL;
    int rc = cairn_mkdir_p(dir, 0700);
    if (rc < 0)
        return rc;
    rc = mdb_env_create(&env);
    if (rc != 0)
        return cairn_lmdb_code(rc);
    if ((rc = mdb_env_set_maxdbs(env, max_dbs)) != 0 ||
        (rc = mdb_env_set_mapsize(env, map_size)) != 0 ||
        (rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)) != 0) {
        mdb_env_close(env);
        return cairn_lmdb_code(rc);
    }
    *env_out = env;
    return 0;
}

void cairn_u64_to_key(uint64_t v, uint8_t out[8])
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

uint64_t cairn_key_to_u64(const uint8_t in[8])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | in[i];
    return v;
}

int cairn_lmdb_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0)
        return cairn_lmdb_code(rc);
    if (v.mv_size != 8)
        return CAIRN_EINTEGRITY;
    *out = cairn_key_to_u64(v.mv_data);
    return 0;
}

int cairn_lmdb_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t value)
{
    uint8_t buf[8];
    cairn_u64_to_key(value, buf);
    MDB_val k = {strlen(key), (void *)key}, v = {8, buf};
    return cairn_lmdb_code(mdb_put(txn, dbi, &k, &v, 0));
}
