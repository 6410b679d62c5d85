/* LMDB helpers shared by the daemons that keep state: open an environment
 * (creating its directory), encode big-endian u64 keys so cursor order is
 * numeric order, and map LMDB codes to Cairn codes. */
#ifndef CAIRN_LMDBX_H
#define CAIRN_LMDBX_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

/* Opens (creating if needed, mode 0700) an LMDB environment in directory dir. */
int cairn_lmdb_open(const char *dir, size_t map_size, unsigned max_dbs, MDB_env **env_out);

/* Maps an LMDB return code to 0 or a Cairn code (MDB_NOTFOUND -> CAIRN_ENOTFOUND,
 * MDB_MAP_FULL and friends -> CAIRN_ESTORE, errno values -> -errno). */
int cairn_lmdb_code(int mdb_rc);

/* Big-endian u64 key encoding. */
void cairn_u64_to_key(uint64_t v, uint8_t out[8]);
uint64_t cairn_key_to_u64(const uint8_t in[8]);

/* Reads / writes a u64 value stored under a string key in dbi (8 bytes BE). */
int cairn_lmdb_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t *out);
int cairn_lmdb_put_u64(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t value);

#endif
