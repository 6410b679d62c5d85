/* The ledger's LMDB storage: entries, idempotency keys, the change index and
 * the chain tip, written in batches that become visible only on commit. */
#include "store.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/util.h"

#define S_META_SIZE "size"
#define S_META_LAST_HASH "last_hash"
#define S_DIGEST_KEY_BYTES (1 + CAIRN_LEDGER_HASH_BYTES)

struct cairn_ledger_store_t {
    MDB_env *env;                                  /* the environment in the ledger directory */
    MDB_dbi entries;                               /* BE u64 index -> packed Entry */
    MDB_dbi keys;                                  /* idempotency key -> BE u64 index */
    MDB_dbi changes;                               /* change id -> BE u64 index (sorted dups) */
    MDB_dbi meta;                                  /* "size", "last_hash" */
    size_t max_key;                                /* longest key LMDB accepts */
    MDB_txn *wtxn;                                 /* the open batch, or NULL */
    bool failed;                                   /* the batch was abandoned after an error */
    uint64_t size;                                 /* committed entry count */
    uint8_t last_hash[CAIRN_LEDGER_HASH_BYTES];    /* committed tip hash */
    uint64_t pending_size;                         /* entry count including the batch */
    uint8_t pending_hash[CAIRN_LEDGER_HASH_BYTES]; /* tip hash including the batch */
    int last_mdb_rc;                               /* LMDB code of the last failed write */
};

static const uint8_t s_zero_hash[CAIRN_LEDGER_HASH_BYTES];

/* Maps an LMDB code of a write, remembering a failure's own description. */
static int s_mdb(cairn_ledger_store_t *self, int mdb_rc)
{
    if (mdb_rc != 0)
        self->last_mdb_rc = mdb_rc;
    return cairn_lmdb_code(mdb_rc);
}

/* hash = SHA-256(prev_hash || record) */
static void s_chain_hash(const uint8_t prev[CAIRN_LEDGER_HASH_BYTES], const uint8_t *record,
                         size_t len, uint8_t out[CAIRN_LEDGER_HASH_BYTES])
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, prev, CAIRN_LEDGER_HASH_BYTES);
    crypto_hash_sha256_update(&st, record, len);
    crypto_hash_sha256_final(&st, out);
}

/* LMDB keys are at most max_key bytes; a longer string is indexed under
 * 0x00 || SHA-256(string). Strings read from protobuf-c end at their first
 * NUL, so a digest key never equals a literal one. */
static MDB_val s_index_key(const cairn_ledger_store_t *self, const char *text,
                           uint8_t buf[S_DIGEST_KEY_BYTES])
{
    size_t len = strlen(text);
    if (len <= self->max_key)
        return (MDB_val){len, (void *)text};
    buf[0] = 0;
    cairn_sha256(text, len, buf + 1);
    return (MDB_val){S_DIGEST_KEY_BYTES, buf};
}

static int s_get_entry(MDB_txn *txn, MDB_dbi dbi, uint64_t index, Cairn__V1__Entry **out)
{
    uint8_t kb[8];
    cairn_u64_to_key(index, kb);
    MDB_val k = {8, kb}, v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? CAIRN_EINTEGRITY : cairn_lmdb_code(rc);
    if (cairn_codec_entry_unpack(v.mv_data, v.mv_size, out) < 0)
        return CAIRN_EINTEGRITY;
    return 0;
}

/* An entry is well-formed when it sits at its own index, carries 32-byte
 * hashes, and its hash is SHA-256(prev_hash || record). */
static int s_check_entry(const Cairn__V1__Entry *e, uint64_t index)
{
    uint8_t h[CAIRN_LEDGER_HASH_BYTES];
    if (e->index != index || e->hash.len != CAIRN_LEDGER_HASH_BYTES ||
        e->prev_hash.len != CAIRN_LEDGER_HASH_BYTES)
        return CAIRN_EINTEGRITY;
    s_chain_hash(e->prev_hash.data, e->record.data, e->record.len, h);
    return memcmp(h, e->hash.data, sizeof h) == 0 ? 0 : CAIRN_EINTEGRITY;
}

static int s_read_meta(cairn_ledger_store_t *self, MDB_txn *txn, bool *present_out)
{
    int rc = cairn_lmdb_get_u64(txn, self->meta, S_META_SIZE, &self->size);
    if (rc == CAIRN_ENOTFOUND) {
        self->size = 0;
        memset(self->last_hash, 0, sizeof self->last_hash);
        *present_out = false;
        return 0;
    }
    if (rc < 0)
        return rc;
    MDB_val k = {strlen(S_META_LAST_HASH), S_META_LAST_HASH}, v;
    rc = mdb_get(txn, self->meta, &k, &v);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? CAIRN_EINTEGRITY : cairn_lmdb_code(rc);
    if (v.mv_size != CAIRN_LEDGER_HASH_BYTES)
        return CAIRN_EINTEGRITY;
    memcpy(self->last_hash, v.mv_data, CAIRN_LEDGER_HASH_BYTES);
    *present_out = true;
    return 0;
}

/* The tip check run on open: O(1), so a large log starts fast. */
static int s_check_tip(cairn_ledger_store_t *self, MDB_txn *txn)
{
    int rc = 0;
    MDB_cursor *cur = NULL;
    Cairn__V1__Entry *last = NULL, *before = NULL;
    bool meta_present = false;
    if ((rc = s_read_meta(self, txn, &meta_present)) < 0)
        return rc;
    if ((rc = cairn_lmdb_code(mdb_cursor_open(txn, self->entries, &cur))) < 0)
        return rc;
    MDB_val k, v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (mrc == MDB_NOTFOUND) {
        rc = self->size == 0 && memcmp(self->last_hash, s_zero_hash, sizeof s_zero_hash) == 0
                 ? 0
                 : CAIRN_EINTEGRITY;
        goto out;
    }
    if (mrc != 0) {
        rc = cairn_lmdb_code(mrc);
        goto out;
    }
    rc = CAIRN_EINTEGRITY;
    if (!meta_present || k.mv_size != 8)
        goto out;
    uint64_t index = cairn_key_to_u64(k.mv_data);
    if (index + 1 != self->size)
        goto out;
    if (cairn_codec_entry_unpack(v.mv_data, v.mv_size, &last) < 0 || s_check_entry(last, index) < 0)
        goto out;
    if (memcmp(last->hash.data, self->last_hash, CAIRN_LEDGER_HASH_BYTES) != 0)
        goto out;
    if (index == 0) {
        if (memcmp(last->prev_hash.data, s_zero_hash, CAIRN_LEDGER_HASH_BYTES) != 0)
            goto out;
    } else {
        if ((rc = s_get_entry(txn, self->entries, index - 1, &before)) < 0)
            goto out;
        rc = CAIRN_EINTEGRITY;
        if (before->hash.len != CAIRN_LEDGER_HASH_BYTES ||
            memcmp(before->hash.data, last->prev_hash.data, CAIRN_LEDGER_HASH_BYTES) != 0)
            goto out;
    }
    rc = 0;
out:
    CAIRN_CODEC_FREE(&last);
    CAIRN_CODEC_FREE(&before);
    mdb_cursor_close(cur);
    return rc;
}

int cairn_ledger_store_open(const char *dir, size_t map_size, cairn_ledger_store_t **out)
{
    int rc = 0;
    MDB_txn *txn = NULL;
    cairn_ledger_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    if (sodium_init() < 0) {
        rc = CAIRN_ECRYPTO;
        goto fail;
    }
    if ((rc = cairn_lmdb_open(dir, map_size, 4, &self->env)) < 0)
        goto fail;
    self->max_key = (size_t)mdb_env_get_maxkeysize(self->env);
    if ((rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn))) < 0)
        goto fail;
    if ((rc = cairn_lmdb_code(mdb_dbi_open(txn, "entries", MDB_CREATE, &self->entries))) < 0 ||
        (rc = cairn_lmdb_code(mdb_dbi_open(txn, "keys", MDB_CREATE, &self->keys))) < 0 ||
        (rc = cairn_lmdb_code(mdb_dbi_open(txn, "changes", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED,
                                           &self->changes))) < 0 ||
        (rc = cairn_lmdb_code(mdb_dbi_open(txn, "meta", MDB_CREATE, &self->meta))) < 0)
        goto fail;
    if ((rc = s_check_tip(self, txn)) < 0)
        goto fail;
    rc = cairn_lmdb_code(mdb_txn_commit(txn));
    txn = NULL;
    if (rc < 0)
        goto fail;
    self->pending_size = self->size;
    memcpy(self->pending_hash, self->last_hash, CAIRN_LEDGER_HASH_BYTES);
    *out = self;
    return 0;
fail:
    if (txn)
        mdb_txn_abort(txn);
    cairn_ledger_store_destroy(&self);
    return rc;
}

void cairn_ledger_store_destroy(cairn_ledger_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ledger_store_t *self = *self_p;
    cairn_ledger_store_abort(self);
    if (self->env)
        mdb_env_close(self->env);
    free(self);
    *self_p = NULL;
}

uint64_t cairn_ledger_store_size(const cairn_ledger_store_t *self)
{
    return self->size;
}

void cairn_ledger_store_last_hash(const cairn_ledger_store_t *self,
                                  uint8_t out[CAIRN_LEDGER_HASH_BYTES])
{
    memcpy(out, self->last_hash, CAIRN_LEDGER_HASH_BYTES);
}

const char *cairn_ledger_store_last_error(const cairn_ledger_store_t *self)
{
    return self->last_mdb_rc ? mdb_strerror(self->last_mdb_rc) : "no error";
}

bool cairn_ledger_store_full(const cairn_ledger_store_t *self)
{
    return self->last_mdb_rc == MDB_MAP_FULL;
}

int cairn_ledger_store_begin(cairn_ledger_store_t *self)
{
    assert(!self->wtxn && "a batch is already open");
    self->failed = false;
    self->last_mdb_rc = 0;
    self->pending_size = self->size;
    memcpy(self->pending_hash, self->last_hash, CAIRN_LEDGER_HASH_BYTES);
    return s_mdb(self, mdb_txn_begin(self->env, NULL, 0, &self->wtxn));
}

void cairn_ledger_store_abort(cairn_ledger_store_t *self)
{
    if (self->wtxn)
        mdb_txn_abort(self->wtxn);
    self->wtxn = NULL;
    self->pending_size = self->size;
    memcpy(self->pending_hash, self->last_hash, CAIRN_LEDGER_HASH_BYTES);
}

/* After a failed write LMDB's transaction is unusable: drop it, remember why. */
static int s_fail_batch(cairn_ledger_store_t *self, int rc)
{
    cairn_ledger_store_abort(self);
    self->failed = true;
    return rc < 0 ? rc : CAIRN_ESTORE;
}

static int s_duplicate(cairn_ledger_store_t *self, const MDB_val *found, cairn_ledger_append_t *out)
{
    Cairn__V1__Entry *orig = NULL;
    if (found->mv_size != 8)
        return CAIRN_EINTEGRITY;
    uint64_t index = cairn_key_to_u64(found->mv_data);
    int rc = s_get_entry(self->wtxn, self->entries, index, &orig);
    if (rc < 0)
        return rc;
    if (orig->hash.len != CAIRN_LEDGER_HASH_BYTES) {
        CAIRN_CODEC_FREE(&orig);
        return CAIRN_EINTEGRITY;
    }
    memset(out, 0, sizeof *out);
    out->index = index;
    out->duplicate = true;
    memcpy(out->hash, orig->hash.data, CAIRN_LEDGER_HASH_BYTES);
    CAIRN_CODEC_FREE(&orig);
    return 0;
}

int cairn_ledger_store_append(cairn_ledger_store_t *self, const cairn_ledger_record_t *rec,
                              cairn_ledger_append_t *out)
{
    int rc = 0;
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    uint8_t keybuf[S_DIGEST_KEY_BYTES], changebuf[S_DIGEST_KEY_BYTES], index_be[8];
    uint8_t hash[CAIRN_LEDGER_HASH_BYTES];
    const char *key = rec->key ? rec->key : "";
    const char *change = rec->change_id ? rec->change_id : "";
    if (!self->wtxn)
        return self->failed ? CAIRN_ESTORE : CAIRN_EINTERNAL;

    MDB_val kkey = {0, NULL};
    if (*key) {
        kkey = s_index_key(self, key, keybuf);
        MDB_val found;
        int mrc = mdb_get(self->wtxn, self->keys, &kkey, &found);
        if (mrc == 0) {
            if ((rc = s_duplicate(self, &found, out)) < 0)
                return s_fail_batch(self, rc);
            return 0;
        }
        if (mrc != MDB_NOTFOUND)
            return s_fail_batch(self, s_mdb(self, mrc));
    }

    uint64_t index = self->pending_size;
    s_chain_hash(self->pending_hash, rec->record, rec->record_len, hash);
    Cairn__V1__Entry e = CAIRN__V1__ENTRY__INIT;
    e.index = index;
    e.topic = (char *)(rec->topic ? rec->topic : "");
    e.change_id = (char *)change;
    e.key = (char *)key;
    e.appended_at_ms = rec->appended_at_ms;
    e.record.data = (uint8_t *)rec->record;
    e.record.len = rec->record_len;
    e.hash.data = hash;
    e.hash.len = sizeof hash;
    e.prev_hash.data = self->pending_hash;
    e.prev_hash.len = CAIRN_LEDGER_HASH_BYTES;
    if ((rc = cairn_codec_pack(&e.base, &packed, &packed_len)) < 0)
        return rc; /* nothing written yet: the batch stays usable */

    cairn_u64_to_key(index, index_be);
    MDB_val kidx = {8, index_be}, vent = {packed_len, packed}, vidx = {8, index_be};
    /* MDB_APPEND also asserts that indexes only grow. */
    if ((rc = s_mdb(self, mdb_put(self->wtxn, self->entries, &kidx, &vent, MDB_APPEND))) < 0)
        goto fail;
    if (*key &&
        (rc = s_mdb(self, mdb_put(self->wtxn, self->keys, &kkey, &vidx, MDB_NOOVERWRITE))) < 0)
        goto fail;
    if (*change) {
        MDB_val kchg = s_index_key(self, change, changebuf);
        if ((rc = s_mdb(self, mdb_put(self->wtxn, self->changes, &kchg, &vidx, 0))) < 0)
            goto fail;
    }
    self->pending_size = index + 1;
    memcpy(self->pending_hash, hash, sizeof hash);
    memset(out, 0, sizeof *out);
    out->index = index;
    memcpy(out->hash, hash, sizeof hash);
    out->entry = packed;
    out->entry_len = packed_len;
    return 0;
fail:
    free(packed);
    return s_fail_batch(self, rc);
}

int cairn_ledger_store_commit(cairn_ledger_store_t *self)
{
    int rc = 0;
    if (!self->wtxn)
        return self->failed ? CAIRN_ESTORE : CAIRN_EINTERNAL;
    if (self->pending_size != self->size) {
        uint8_t size_be[8];
        cairn_u64_to_key(self->pending_size, size_be);
        MDB_val ks = {strlen(S_META_SIZE), S_META_SIZE}, vs = {8, size_be};
        MDB_val kh = {strlen(S_META_LAST_HASH), S_META_LAST_HASH};
        MDB_val vh = {CAIRN_LEDGER_HASH_BYTES, self->pending_hash};
        if ((rc = s_mdb(self, mdb_put(self->wtxn, self->meta, &ks, &vs, 0))) < 0 ||
            (rc = s_mdb(self, mdb_put(self->wtxn, self->meta, &kh, &vh, 0))) < 0)
            return s_fail_batch(self, rc);
    }
    /* The environment is opened without MDB_NOSYNC: this returns after fsync. */
    rc = s_mdb(self, mdb_txn_commit(self->wtxn));
    self->wtxn = NULL;
    if (rc < 0)
        return s_fail_batch(self, rc);
    self->size = self->pending_size;
    memcpy(self->last_hash, self->pending_hash, CAIRN_LEDGER_HASH_BYTES);
    return 0;
}

static int s_read_txn(cairn_ledger_store_t *self, MDB_txn **txn_out)
{
    assert(!self->wtxn && "reads see committed entries only");
    return cairn_lmdb_code(mdb_txn_begin(self->env, NULL, MDB_RDONLY, txn_out));
}

int cairn_ledger_store_read(cairn_ledger_store_t *self, uint64_t from, uint64_t limit,
                            cairn_ledger_entry_fn fn, void *arg)
{
    int rc = 0;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    if (limit == 0 || from >= self->size)
        return 0;
    if ((rc = s_read_txn(self, &txn)) < 0)
        return rc;
    if ((rc = cairn_lmdb_code(mdb_cursor_open(txn, self->entries, &cur))) < 0)
        goto out;
    uint8_t kb[8];
    cairn_u64_to_key(from, kb);
    MDB_val k = {8, kb}, v;
    uint64_t expect = from;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    /* Bounded by the committed size, so a gap in the keys is a broken store. */
    for (uint64_t n = 0; n < limit && expect < self->size; n++) {
        if (mrc != 0) {
            rc = mrc == MDB_NOTFOUND ? CAIRN_EINTEGRITY : cairn_lmdb_code(mrc);
            goto out;
        }
        if (k.mv_size != 8 || cairn_key_to_u64(k.mv_data) != expect) {
            rc = CAIRN_EINTEGRITY;
            goto out;
        }
        if ((rc = fn(arg, expect, v.mv_data, v.mv_size)) != 0)
            goto out;
        expect++;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
out:
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc < 0 ? rc : 0;
}

int cairn_ledger_store_by_change(cairn_ledger_store_t *self, const char *change_id,
                                 cairn_ledger_entry_fn fn, void *arg)
{
    int rc = 0;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    uint8_t buf[S_DIGEST_KEY_BYTES];
    if (!change_id || !*change_id)
        return 0;
    if ((rc = s_read_txn(self, &txn)) < 0)
        return rc;
    if ((rc = cairn_lmdb_code(mdb_cursor_open(txn, self->changes, &cur))) < 0)
        goto out;
    MDB_val k = s_index_key(self, change_id, buf), v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    while (mrc == 0) {
        if (v.mv_size != 8) {
            rc = CAIRN_EINTEGRITY;
            goto out;
        }
        uint64_t index = cairn_key_to_u64(v.mv_data);
        uint8_t kb[8];
        cairn_u64_to_key(index, kb);
        MDB_val ek = {8, kb}, ev;
        int grc = mdb_get(txn, self->entries, &ek, &ev);
        if (grc != 0) {
            rc = grc == MDB_NOTFOUND ? CAIRN_EINTEGRITY : cairn_lmdb_code(grc);
            goto out;
        }
        if ((rc = fn(arg, index, ev.mv_data, ev.mv_size)) != 0)
            goto out;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
    }
    if (mrc != MDB_NOTFOUND)
        rc = cairn_lmdb_code(mrc);
out:
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    return rc < 0 ? rc : 0;
}

int cairn_ledger_store_find_key(cairn_ledger_store_t *self, const char *key, uint64_t *index_out)
{
    MDB_txn *txn = NULL;
    uint8_t buf[S_DIGEST_KEY_BYTES];
    if (!key || !*key)
        return CAIRN_ENOTFOUND;
    int rc = s_read_txn(self, &txn);
    if (rc < 0)
        return rc;
    MDB_val k = s_index_key(self, key, buf), v;
    rc = cairn_lmdb_code(mdb_get(txn, self->keys, &k, &v));
    if (rc == 0) {
        if (v.mv_size == 8)
            *index_out = cairn_key_to_u64(v.mv_data);
        else
            rc = CAIRN_EINTEGRITY;
    }
    mdb_txn_abort(txn);
    return rc;
}

/* State carried along a full-chain walk. */
typedef struct {
    uint8_t prev[CAIRN_LEDGER_HASH_BYTES]; /* hash the next entry must chain from */
    uint64_t seen;                         /* entries checked so far */
} s_verify_t;

static int s_verify_one(void *arg, uint64_t index, const uint8_t *entry, size_t len)
{
    s_verify_t *st = arg;
    Cairn__V1__Entry *e = NULL;
    if (cairn_codec_entry_unpack(entry, len, &e) < 0)
        return CAIRN_EINTEGRITY;
    int rc = s_check_entry(e, index);
    if (rc == 0 && memcmp(e->prev_hash.data, st->prev, CAIRN_LEDGER_HASH_BYTES) != 0)
        rc = CAIRN_EINTEGRITY;
    if (rc == 0) {
        memcpy(st->prev, e->hash.data, CAIRN_LEDGER_HASH_BYTES);
        st->seen++;
    }
    CAIRN_CODEC_FREE(&e);
    return rc;
}

int cairn_ledger_store_verify(cairn_ledger_store_t *self)
{
    s_verify_t st = {.seen = 0};
    int rc = cairn_ledger_store_read(self, 0, self->size, s_verify_one, &st);
    if (rc < 0)
        return rc;
    if (st.seen != self->size || memcmp(st.prev, self->last_hash, CAIRN_LEDGER_HASH_BYTES) != 0)
        return CAIRN_EINTEGRITY;
    return 0;
}
