/* The ledger's LMDB databases, their key encodings, and how one entry is
 * packed, from what the append path knows or rebuilt from its leaf and payload. */
#include "layout.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bundle.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/util.h"

int cairn_ledger_layout_open(MDB_txn *txn, bool create, cairn_ledger_dbs_t *out)
{
    const unsigned c = create ? MDB_CREATE : 0;
    const unsigned dup = MDB_DUPSORT | MDB_DUPFIXED;
    const struct {
        const char *name;
        unsigned flags;
        MDB_dbi *dbi;
    } dbs[] = {
        {"entries", 0, &out->entries}, {"checkpoints", 0, &out->checkpoints},
        {"vkeys", 0, &out->vkeys},     {"entry_keys", 0, &out->entry_keys},
        {"lookup", dup, &out->lookup}, {"heads", 0, &out->heads},
        {"times", dup, &out->times},   {"holds", 0, &out->holds},
        {"purged", 0, &out->purged},   {"meta", 0, &out->meta},
    };
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        int rc = cairn_lmdb_code(mdb_dbi_open(txn, dbs[i].name, c | dbs[i].flags, dbs[i].dbi));
        if (rc < 0)
            return rc;
    }
    return 0;
}

int cairn_ledger_layout_check(MDB_txn *txn, const cairn_ledger_dbs_t *db, bool *missing_out)
{
    uint64_t version = 0;
    *missing_out = false;
    int rc = cairn_lmdb_get_u64(txn, db->meta, CAIRN_LEDGER_META_LAYOUT, &version);
    if (rc == CAIRN_ENOTFOUND) {
        /* No row: a new store, unless entries exist (then it is layout 1). */
        uint64_t size = 0;
        rc = cairn_lmdb_get_u64(txn, db->meta, CAIRN_LEDGER_META_SIZE, &size);
        if (rc < 0 && rc != CAIRN_ENOTFOUND)
            return rc;
        *missing_out = true;
        return size == 0 ? 0 : CAIRN_ECONFIG;
    }
    if (rc < 0)
        return rc;
    return version == CAIRN_LEDGER_LAYOUT_VERSION ? 0 : CAIRN_ECONFIG;
}

/* Key of a tree hash in layouts 2 to 4's `tree`: the index of the
 * subtree's last leaf, then its level. */
#define S_OLD_NODE_KEY_BYTES 9
static void s_old_node_key(unsigned level, uint64_t last, uint8_t out[S_OLD_NODE_KEY_BYTES])
{
    cairn_u64_to_key(last, out);
    out[8] = (uint8_t)level;
}

int cairn_ledger_migration_code(int mdb_rc)
{
    return mdb_rc == MDB_MAP_FULL ? CAIRN_ETOOLARGE : cairn_lmdb_code(mdb_rc);
}

/* Opens an old layout's database: its absence is CAIRN_EINTEGRITY. */
static int s_open_old(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *out)
{
    int rc = cairn_lmdb_code(mdb_dbi_open(txn, name, flags, out));
    return rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
}

/* Layout 2's `nodes` (u8 level || BE u64 index) rewritten into `tree`. */
static int s_migrate_nodes(MDB_txn *txn)
{
    MDB_dbi nodes, tree;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = s_open_old(txn, "nodes", 0, &nodes);
    if (rc < 0 || (rc = s_open_old(txn, "tree", MDB_CREATE, &tree)) < 0)
        return rc;
    if ((rc = cairn_lmdb_code(mdb_cursor_open(txn, nodes, &cur))) < 0)
        return rc;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    for (; mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *kb = k.mv_data;
        if (k.mv_size != S_OLD_NODE_KEY_BYTES || v.mv_size != CAIRN_HASH_BYTES || kb[0] >= 64) {
            rc = CAIRN_EINTEGRITY;
            break;
        }
        uint8_t nk[S_OLD_NODE_KEY_BYTES], hash[CAIRN_HASH_BYTES];
        memcpy(hash, v.mv_data, sizeof hash);
        s_old_node_key(kb[0], cairn_ledger_node_entry(kb[0], cairn_key_to_u64(kb + 1)), nk);
        MDB_val nkv = {sizeof nk, nk}, hv = {sizeof hash, hash};
        if ((rc = cairn_ledger_migration_code(mdb_put(txn, tree, &nkv, &hv, MDB_NOOVERWRITE))) < 0)
            break;
    }
    if (rc == 0 && mrc != MDB_NOTFOUND)
        rc = cairn_lmdb_code(mrc);
    mdb_cursor_close(cur);
    return rc < 0 ? rc : cairn_lmdb_code(mdb_drop(txn, nodes, 1));
}

/* One entry of layout 4 (its leaf lv, payload in `payloads`, hashes in
 * `tree`) written as its record at the end of `entries`. */
static int s_migrate_entry(MDB_txn *txn, const cairn_ledger_dbs_t *db, MDB_dbi payloads,
                           MDB_dbi tree, uint64_t index, const MDB_val *lv)
{
    uint8_t hashes[64][CAIRN_HASH_BYTES], ib[8];
    unsigned h = cairn_ledger_entry_hashes(index);
    for (unsigned level = 0; level < h; level++) {
        uint8_t nk[S_OLD_NODE_KEY_BYTES];
        s_old_node_key(level, index, nk);
        MDB_val k = {sizeof nk, nk}, v;
        int rc = cairn_lmdb_code(mdb_get(txn, tree, &k, &v));
        if (rc < 0)
            return rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
        if (v.mv_size != CAIRN_HASH_BYTES)
            return CAIRN_EINTEGRITY;
        memcpy(hashes[level], v.mv_data, CAIRN_HASH_BYTES);
    }
    cairn_u64_to_key(index, ib);
    MDB_val k = {8, ib}, pv = {0, NULL};
    int rc = cairn_lmdb_code(mdb_get(txn, payloads, &k, &pv));
    if (rc < 0 && rc != CAIRN_ENOTFOUND)
        return rc;
    cairn_ledger_record_parts_t parts = {
        .hashes = hashes[0],
        .n_hashes = h,
        .leaf = lv->mv_data,
        .leaf_len = lv->mv_size,
        .payload = rc == 0 ? pv.mv_data : NULL,
        .payload_len = rc == 0 ? pv.mv_size : 0,
    };
    MDB_val rv = {cairn_ledger_record_size(h, lv->mv_size, parts.payload_len), NULL};
    if ((rc = cairn_ledger_migration_code(
             mdb_put(txn, db->entries, &k, &rv, MDB_APPEND | MDB_RESERVE))) < 0)
        return rc;
    cairn_ledger_record_write(&parts, rv.mv_data);
    return 0;
}

/* Layout 4's `leaves`, `payloads` and `tree` rewritten as `entries`. */
static int s_migrate_entries(MDB_txn *txn, const cairn_ledger_dbs_t *db)
{
    MDB_dbi leaves, payloads, tree;
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = s_open_old(txn, "leaves", 0, &leaves);
    if (rc < 0 || (rc = s_open_old(txn, "payloads", 0, &payloads)) < 0 ||
        (rc = s_open_old(txn, "tree", 0, &tree)) < 0 ||
        (rc = cairn_lmdb_code(mdb_cursor_open(txn, leaves, &cur))) < 0)
        return rc;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    for (; mrc == 0 && rc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        rc = k.mv_size != 8
                 ? CAIRN_EINTEGRITY
                 : s_migrate_entry(txn, db, payloads, tree, cairn_key_to_u64(k.mv_data), &v);
    if (rc == 0 && mrc != MDB_NOTFOUND)
        rc = cairn_lmdb_code(mrc);
    mdb_cursor_close(cur);
    if (rc < 0 || (rc = cairn_lmdb_code(mdb_drop(txn, leaves, 1))) < 0 ||
        (rc = cairn_lmdb_code(mdb_drop(txn, payloads, 1))) < 0)
        return rc;
    return cairn_lmdb_code(mdb_drop(txn, tree, 1));
}

/* Layout 2's change rows in `lookup`: the newest of each goes to `heads`. */
static int s_migrate_changes(MDB_txn *txn, const cairn_ledger_dbs_t *db)
{
    MDB_cursor *cur = NULL;
    uint8_t kind = CAIRN_LEDGER_BY_CHANGE, kb[CAIRN_LEDGER_LOOKUP_KEY_BYTES], ib[8];
    int rc = cairn_lmdb_code(mdb_cursor_open(txn, db->lookup, &cur));
    if (rc < 0)
        return rc;
    for (;;) {
        MDB_val k = {1, &kind}, v;
        int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (mrc == MDB_NOTFOUND || (mrc == 0 && (k.mv_size == 0 || *(uint8_t *)k.mv_data != kind)))
            break;
        if (mrc == 0)
            mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST_DUP);
        if (mrc != 0) {
            rc = cairn_lmdb_code(mrc);
            break;
        }
        if (v.mv_size != 8 || k.mv_size > sizeof kb) {
            rc = CAIRN_EINTEGRITY;
            break;
        }
        memcpy(kb, k.mv_data, k.mv_size);
        memcpy(ib, v.mv_data, sizeof ib);
        MDB_val hk = {k.mv_size, kb}, hv = {sizeof ib, ib};
        if ((rc = cairn_ledger_migration_code(mdb_cursor_del(cur, MDB_NODUPDATA))) < 0 ||
            (rc = cairn_ledger_migration_code(mdb_put(txn, db->heads, &hk, &hv, 0))) < 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc;
}

/* Layouts 2 and 3's `keys` database, deleted. */
static int s_drop_keys(MDB_txn *txn)
{
    MDB_dbi keys;
    int rc = cairn_lmdb_code(mdb_dbi_open(txn, "keys", 0, &keys));
    if (rc == CAIRN_ENOTFOUND)
        return 0;
    return rc < 0 ? rc : cairn_lmdb_code(mdb_drop(txn, keys, 1));
}

/* The environment row of entry index, from its payload (none when the
 * payload names none or was purged). */
static int s_migrate_environment(MDB_txn *txn, const cairn_ledger_dbs_t *db, size_t max_key,
                                 uint64_t index, const MDB_val *val)
{
    cairn_ledger_record_parts_t parts;
    Cairn__V1__Record *rec = NULL;
    uint8_t kb[CAIRN_LEDGER_LOOKUP_KEY_BYTES], ib[8];
    int rc = cairn_ledger_record_parse(index, val, &parts);
    if (rc < 0 || parts.payload_len == 0)
        return rc;
    if (cairn_codec_record_unpack(parts.payload, parts.payload_len, &rec) < 0)
        return CAIRN_EINTEGRITY; /* the ledger only stores records it decoded */
    const char *env = cairn_codec_record_environment(rec);
    if (*env) {
        MDB_val k = cairn_ledger_lookup_key(max_key, CAIRN_LEDGER_BY_ENV, env, kb);
        cairn_u64_to_key(index, ib);
        MDB_val v = {sizeof ib, ib};
        rc = cairn_ledger_migration_code(mdb_put(txn, db->lookup, &k, &v, 0));
    }
    CAIRN_CODEC_FREE(&rec);
    return rc;
}

/* Layout 5 had no environment rows: one for each entry that names one. */
static int s_migrate_environments(MDB_txn *txn, const cairn_ledger_dbs_t *db)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    size_t max_key = (size_t)mdb_env_get_maxkeysize(mdb_txn_env(txn));
    int rc = cairn_lmdb_code(mdb_cursor_open(txn, db->entries, &cur));
    if (rc < 0)
        return rc;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    for (; mrc == 0 && rc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        rc = k.mv_size != 8
                 ? CAIRN_EINTEGRITY
                 : s_migrate_environment(txn, db, max_key, cairn_key_to_u64(k.mv_data), &v);
    if (rc == 0 && mrc != MDB_NOTFOUND)
        rc = cairn_lmdb_code(mrc);
    mdb_cursor_close(cur);
    return rc;
}

int cairn_ledger_layout_migrate(MDB_txn *txn, const cairn_ledger_dbs_t *db, bool *migrated_out)
{
    uint64_t version = 0;
    *migrated_out = false;
    int rc = cairn_lmdb_get_u64(txn, db->meta, CAIRN_LEDGER_META_LAYOUT, &version);
    if (rc == CAIRN_ENOTFOUND)
        return 0;
    if (rc < 0 || version < 2 || version >= CAIRN_LEDGER_LAYOUT_VERSION)
        return rc;
    if (version == 2 && ((rc = s_migrate_nodes(txn)) < 0 || (rc = s_migrate_changes(txn, db)) < 0))
        return rc;
    if (version < 5 && ((rc = s_drop_keys(txn)) < 0 || (rc = s_migrate_entries(txn, db)) < 0))
        return rc;
    if ((rc = s_migrate_environments(txn, db)) < 0 ||
        (rc = cairn_lmdb_put_u64(txn, db->meta, CAIRN_LEDGER_META_LAYOUT,
                                 CAIRN_LEDGER_LAYOUT_VERSION)) < 0)
        return rc;
    *migrated_out = true;
    return 0;
}

int cairn_ledger_change_head(const cairn_ledger_view_t *v, const char *change, bool *has_out,
                             uint64_t *index_out)
{
    uint8_t buf[CAIRN_LEDGER_LOOKUP_KEY_BYTES];
    MDB_val k = cairn_ledger_lookup_key(v->max_key, CAIRN_LEDGER_BY_CHANGE, change, buf);
    int rc = cairn_ledger_get_u64(v->txn, v->db->heads, &k, index_out);
    *has_out = rc == 0;
    return rc == CAIRN_ENOTFOUND ? 0 : rc;
}

/* Strings read from protobuf-c end at their first NUL, so a digest key
 * (starting with 0x00) never equals a literal one. */
MDB_val cairn_ledger_index_key(size_t max_key, const char *text,
                               uint8_t buf[CAIRN_LEDGER_DIGEST_KEY_BYTES])
{
    size_t len = strlen(text);
    if (len <= max_key)
        return (MDB_val){len, (void *)text};
    buf[0] = 0;
    cairn_sha256(text, len, buf + 1);
    return (MDB_val){CAIRN_LEDGER_DIGEST_KEY_BYTES, buf};
}

MDB_val cairn_ledger_lookup_key(size_t max_key, cairn_ledger_by_t kind, const char *text,
                                uint8_t buf[CAIRN_LEDGER_LOOKUP_KEY_BYTES])
{
    size_t len = strlen(text);
    if (max_key > CAIRN_LEDGER_LOOKUP_KEY_BYTES - 1)
        max_key = CAIRN_LEDGER_LOOKUP_KEY_BYTES - 1;
    buf[0] = (uint8_t)kind;
    if (1 + len <= max_key) {
        memcpy(buf + 1, text, len);
        return (MDB_val){1 + len, buf};
    }
    buf[1] = 0;
    cairn_sha256(text, len, buf + 2);
    return (MDB_val){2 + CAIRN_HASH_BYTES, buf};
}

uint64_t cairn_ledger_node_entry(unsigned level, uint64_t index)
{
    return ((index + 1) << level) - 1;
}

unsigned cairn_ledger_entry_hashes(uint64_t index)
{
    unsigned h = 1;
    for (; index & 1; index >>= 1)
        h++;
    return h;
}

/* Record header: u8 number of hashes, BE u32 leaf length. */
#define S_RECORD_HEADER 5

size_t cairn_ledger_record_size(unsigned n_hashes, size_t leaf_len, size_t payload_len)
{
    return S_RECORD_HEADER + (size_t)n_hashes * CAIRN_HASH_BYTES + leaf_len + payload_len;
}

void cairn_ledger_record_write(const cairn_ledger_record_parts_t *parts, uint8_t *buf)
{
    buf[0] = (uint8_t)parts->n_hashes;
    uint32_t len = (uint32_t)parts->leaf_len;
    for (int i = 4; i >= 1; i--, len >>= 8)
        buf[i] = (uint8_t)(len & 0xff);
    uint8_t *p = buf + S_RECORD_HEADER;
    memcpy(p, parts->hashes, (size_t)parts->n_hashes * CAIRN_HASH_BYTES);
    p += (size_t)parts->n_hashes * CAIRN_HASH_BYTES;
    memcpy(p, parts->leaf, parts->leaf_len);
    if (parts->payload_len)
        memcpy(p + parts->leaf_len, parts->payload, parts->payload_len);
}

int cairn_ledger_record_parse(uint64_t index, const MDB_val *val, cairn_ledger_record_parts_t *out)
{
    const uint8_t *b = val->mv_data;
    if (val->mv_size < S_RECORD_HEADER || b[0] != cairn_ledger_entry_hashes(index))
        return CAIRN_EINTEGRITY;
    size_t leaf_len = ((size_t)b[1] << 24) | ((size_t)b[2] << 16) | ((size_t)b[3] << 8) | b[4];
    size_t head = S_RECORD_HEADER + (size_t)b[0] * CAIRN_HASH_BYTES;
    if (val->mv_size < head || val->mv_size - head < leaf_len)
        return CAIRN_EINTEGRITY;
    size_t payload_len = val->mv_size - head - leaf_len;
    *out = (cairn_ledger_record_parts_t){
        .hashes = b + S_RECORD_HEADER,
        .n_hashes = b[0],
        .leaf = b + head,
        .leaf_len = leaf_len,
        .payload = payload_len ? b + head + leaf_len : NULL,
        .payload_len = payload_len,
    };
    return 0;
}

int cairn_ledger_record_get(const cairn_ledger_view_t *v, uint64_t index,
                            cairn_ledger_record_parts_t *out)
{
    uint8_t kb[8];
    cairn_u64_to_key(index, kb);
    MDB_val k = {8, kb}, val;
    int rc = cairn_lmdb_code(mdb_get(v->txn, v->db->entries, &k, &val));
    return rc < 0 ? rc : cairn_ledger_record_parse(index, &val, out);
}

int cairn_ledger_node_get(void *arg, unsigned level, uint64_t index, uint8_t out[CAIRN_HASH_BYTES])
{
    const cairn_ledger_view_t *v = arg;
    cairn_ledger_record_parts_t r;
    if (level >= 64 || (level > 0 && index >= (UINT64_MAX >> level)))
        return CAIRN_EINVALID;
    int rc = cairn_ledger_record_get(v, cairn_ledger_node_entry(level, index), &r);
    if (rc < 0)
        return rc;
    memcpy(out, r.hashes + (size_t)level * CAIRN_HASH_BYTES, CAIRN_HASH_BYTES);
    return 0;
}

int cairn_ledger_leaf_get(const cairn_ledger_view_t *v, uint64_t index, MDB_val *leaf_out)
{
    cairn_ledger_record_parts_t r;
    int rc = cairn_ledger_record_get(v, index, &r);
    if (rc < 0)
        return rc;
    *leaf_out = (MDB_val){r.leaf_len, (void *)r.leaf};
    return 0;
}

int cairn_ledger_payload_get(const cairn_ledger_view_t *v, uint64_t index, MDB_val *payload_out)
{
    cairn_ledger_record_parts_t r;
    int rc = cairn_ledger_record_get(v, index, &r);
    if (rc < 0)
        return rc;
    if (!r.payload)
        return CAIRN_ENOTFOUND;
    *payload_out = (MDB_val){r.payload_len, (void *)r.payload};
    return 0;
}

int cairn_ledger_get_u64(MDB_txn *txn, MDB_dbi dbi, const MDB_val *key, uint64_t *out)
{
    MDB_val k = *key, val;
    int rc = cairn_lmdb_code(mdb_get(txn, dbi, &k, &val));
    if (rc < 0)
        return rc;
    if (val.mv_size != 8)
        return CAIRN_EINTEGRITY;
    *out = cairn_key_to_u64(val.mv_data);
    return 0;
}

void cairn_ledger_entry_init(const cairn_ledger_entry_parts_t *parts, Cairn__V1__Entry *out)
{
    Cairn__V1__Entry e = CAIRN__V1__ENTRY__INIT;
    e.index = parts->index;
    e.topic = (char *)parts->topic;
    e.change_id = (char *)(parts->change ? parts->change : "");
    e.key = (char *)(parts->key ? parts->key : "");
    e.appended_at_ms = (int64_t)parts->time_ms;
    e.record.data = (uint8_t *)parts->record;
    e.record.len = parts->record ? parts->record_len : 0;
    e.hash.data = (uint8_t *)parts->leaf_hash;
    e.hash.len = CAIRN_HASH_BYTES;
    e.leaf.data = (uint8_t *)parts->leaf;
    e.leaf.len = parts->leaf_len;
    *out = e;
}

int cairn_ledger_entry_pack(const cairn_ledger_entry_parts_t *parts, uint8_t **entry_out,
                            size_t *len_out)
{
    Cairn__V1__Entry e;
    cairn_ledger_entry_init(parts, &e);
    return cairn_codec_pack(&e.base, entry_out, len_out);
}

int cairn_ledger_entry_build(const cairn_ledger_view_t *v, uint64_t index, uint8_t **entry_out,
                             size_t *len_out)
{
    int rc = 0;
    cairn_leaf_t leaf;
    memset(&leaf, 0, sizeof leaf);
    char *key = NULL;
    MDB_val lv, pv = {0, NULL}, kv;
    uint8_t leaf_hash[CAIRN_HASH_BYTES], digest[CAIRN_HASH_BYTES], kb[8];

    if ((rc = cairn_ledger_leaf_get(v, index, &lv)) < 0)
        return rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
    if (cairn_leaf_parse(lv.mv_data, lv.mv_size, &leaf) < 0 || leaf.index != index) {
        rc = CAIRN_EINTEGRITY;
        goto out;
    }
    cairn_merkle_leaf_hash(lv.mv_data, lv.mv_size, leaf_hash);

    rc = cairn_ledger_payload_get(v, index, &pv);
    if (rc == CAIRN_ENOTFOUND) {
        pv = (MDB_val){0, NULL}; /* purged by retention: served without a record */
    } else if (rc < 0) {
        goto out;
    } else {
        cairn_sha256(pv.mv_data, pv.mv_size, digest);
        if (sodium_memcmp(digest, leaf.payload_sha256, CAIRN_HASH_BYTES) != 0) {
            rc = CAIRN_EINTEGRITY;
            goto out;
        }
    }
    rc = 0;

    if (leaf.has_key) {
        cairn_u64_to_key(index, kb);
        MDB_val k = {8, kb};
        int mrc = mdb_get(v->txn, v->db->entry_keys, &k, &kv);
        if (mrc == 0) {
            cairn_sha256(kv.mv_data, kv.mv_size, digest);
            if (sodium_memcmp(digest, leaf.key_sha256, CAIRN_HASH_BYTES) != 0) {
                rc = CAIRN_EINTEGRITY;
                goto out;
            }
            if (!(key = strndup(kv.mv_data, kv.mv_size))) {
                rc = -ENOMEM;
                goto out;
            }
        } else if (mrc != MDB_NOTFOUND) {
            rc = cairn_lmdb_code(mrc);
            goto out;
        }
    }

    cairn_ledger_entry_parts_t parts = {
        .index = index,
        .topic = leaf.topic,
        .change = leaf.change,
        .key = key,
        .time_ms = leaf.time_ms,
        .record = pv.mv_data,
        .record_len = pv.mv_size,
        .leaf = lv.mv_data,
        .leaf_len = lv.mv_size,
        .leaf_hash = leaf_hash,
    };
    rc = cairn_ledger_entry_pack(&parts, entry_out, len_out);
out:
    free(key);
    cairn_leaf_clear(&leaf);
    return rc;
}

int cairn_ledger_indexes_push(cairn_ledger_indexes_t *list, uint64_t index)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 64;
        uint64_t *items = realloc(list->items, cap * sizeof *items);
        if (!items)
            return -ENOMEM;
        list->items = items;
        list->cap = cap;
    }
    list->items[list->n++] = index;
    return 0;
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void cairn_ledger_indexes_sort(cairn_ledger_indexes_t *list)
{
    if (list->n < 2)
        return;
    qsort(list->items, list->n, sizeof *list->items, s_cmp_u64);
    size_t w = 1;
    for (size_t r = 1; r < list->n; r++)
        if (list->items[r] != list->items[w - 1])
            list->items[w++] = list->items[r];
    list->n = w;
}

void cairn_ledger_indexes_free(cairn_ledger_indexes_t *list)
{
    free(list->items);
    memset(list, 0, sizeof *list);
}

/* A change's entries at or above from: its head, then down its prev chain. */
static int s_collect_change(const cairn_ledger_view_t *v, const char *change, uint64_t from,
                            cairn_ledger_indexes_t *out)
{
    bool has = false;
    uint64_t index = 0;
    int rc = cairn_ledger_change_head(v, change, &has, &index);
    while (rc == 0 && has && index >= from) {
        MDB_val lv;
        cairn_leaf_t leaf;
        memset(&leaf, 0, sizeof leaf);
        if ((rc = cairn_ledger_indexes_push(out, index)) < 0)
            break;
        if ((rc = cairn_ledger_leaf_get(v, index, &lv)) < 0) {
            rc = rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
            break;
        }
        if (cairn_leaf_parse(lv.mv_data, lv.mv_size, &leaf) < 0 || leaf.index != index ||
            !leaf.change || strcmp(leaf.change, change) != 0 ||
            (leaf.has_prev && leaf.prev >= index))
            rc = CAIRN_EINTEGRITY;
        has = leaf.has_prev;
        index = leaf.prev;
        cairn_leaf_clear(&leaf);
    }
    return rc;
}

int cairn_ledger_indexes_collect(const cairn_ledger_view_t *v, cairn_ledger_by_t kind,
                                 const char *text, uint64_t from, cairn_ledger_indexes_t *out)
{
    int rc = 0;
    MDB_cursor *cur = NULL;
    uint8_t buf[CAIRN_LEDGER_LOOKUP_KEY_BYTES], fb[8];
    if (!text || !*text)
        return 0;
    if (kind == CAIRN_LEDGER_BY_CHANGE)
        return s_collect_change(v, text, from, out);
    if ((rc = cairn_lmdb_code(mdb_cursor_open(v->txn, v->db->lookup, &cur))) < 0)
        return rc;
    cairn_u64_to_key(from, fb);
    MDB_val k = cairn_ledger_lookup_key(v->max_key, kind, text, buf), val = {8, fb};
    /* Sorted duplicates: jump straight to the first index >= from. */
    int mrc = mdb_cursor_get(cur, &k, &val, MDB_GET_BOTH_RANGE);
    while (mrc == 0) {
        if (val.mv_size != 8) {
            rc = CAIRN_EINTEGRITY;
            break;
        }
        if ((rc = cairn_ledger_indexes_push(out, cairn_key_to_u64(val.mv_data))) < 0)
            break;
        mrc = mdb_cursor_get(cur, &k, &val, MDB_NEXT_DUP);
    }
    if (rc == 0 && mrc != MDB_NOTFOUND)
        rc = cairn_lmdb_code(mrc);
    mdb_cursor_close(cur);
    return rc;
}
