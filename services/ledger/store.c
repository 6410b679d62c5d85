/* The ledger's LMDB storage: leaves, payloads and perfect-subtree hashes of
 * an RFC 9162 Merkle log, the indexes beside them, and a signed checkpoint
 * written in the same transaction as every batch that advances the tree. */
#include "store.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/bundle.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/util.h"
#include "frontier.h"
#include "keymap.h"
#include "receipt.h"
#include "rows.h"

struct cairn_ledger_store_t {
    MDB_env *env;                        /* the environment in the ledger directory */
    int fd;                              /* its data file, flushed by cairn_ledger_store_sync */
    atomic_int sync_rc;                  /* the error of a failed flush, for good (0: none) */
    cairn_ledger_dbs_t db;               /* its named databases */
    size_t max_key;                      /* longest key LMDB accepts */
    char *origin;                        /* log origin, in leaves and checkpoints */
    const cairn_note_signer_t *signer;   /* signs checkpoints (borrowed) */
    char *vkey;                          /* the signer's vkey */
    MDB_txn *wtxn;                       /* the open batch, or NULL */
    bool failed;                         /* the batch was abandoned after an error */
    uint64_t size;                       /* committed entry count */
    uint64_t pending_size;               /* entry count including the batch */
    uint64_t head_size;                  /* size of the latest checkpoint (== size) */
    uint8_t head_root[CAIRN_HASH_BYTES]; /* its root */
    char *head_note;                     /* its signed note */
    size_t head_note_len;                /* bytes in head_note */
    int last_mdb_rc;                     /* LMDB code of the last failed write */
    cairn_ledger_frontier_t tree;        /* right edge of the tree, and the batch's hashes */
    cairn_ledger_rows_t *rows;           /* the batch's heads, lookup and times rows */
    cairn_ledger_keymap_t *keys;         /* idempotency key hash -> index, every keyed entry */
    struct {
        uint64_t hash, index;
    } * added; /* what the open batch added to keys */
    size_t n_added, cap_added;
    cairn_ledger_receipt_cache_t b64; /* base64 of the proof hashes receipts used last */
    bool migrated;                    /* open rewrote a store of an older layout */
};

/* Maps an LMDB code of a write, remembering a failure's own description. */
static int s_mdb(cairn_ledger_store_t *self, int mdb_rc)
{
    if (mdb_rc != 0)
        self->last_mdb_rc = mdb_rc;
    return cairn_lmdb_code(mdb_rc);
}

static cairn_ledger_view_t s_view(const cairn_ledger_store_t *self, MDB_txn *txn)
{
    return (cairn_ledger_view_t){.txn = txn, .db = &self->db, .max_key = self->max_key};
}

/* Verifies a signed checkpoint note with the vkeys the store recorded (or,
 * before any is recorded, the store's own signer) and parses it. */
static int s_open_checkpoint(cairn_ledger_store_t *self, MDB_txn *txn, const char *note, size_t len,
                             cairn_checkpoint_t *cp)
{
    int rc = CAIRN_EINTEGRITY;
    MDB_cursor *cur = NULL;
    if ((rc = cairn_lmdb_code(mdb_cursor_open(txn, self->db.vkeys, &cur))) < 0)
        return rc;
    MDB_val k, v;
    rc = CAIRN_EINTEGRITY;
    for (int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char *text = strndup(k.mv_data, k.mv_size);
        cairn_note_verifier_t *verifier = NULL;
        if (!text) {
            rc = -ENOMEM;
            break;
        }
        int prc = cairn_note_verifier_parse(text, &verifier);
        free(text);
        if (prc < 0)
            continue;
        int vrc = cairn_checkpoint_open(note, len, verifier, self->origin, cp);
        cairn_note_verifier_destroy(&verifier);
        if (vrc == 0) {
            rc = 0;
            break;
        }
        if (vrc != CAIRN_ENOTFOUND) /* a known key's signature fails: reject the note */
            break;
    }
    mdb_cursor_close(cur);
    return rc;
}

/* Signs a checkpoint for the tree of `size` leaves with `root` and stores it,
 * with the signer's vkey, in txn. *note_out is malloc'd. */
static int s_sign_checkpoint(cairn_ledger_store_t *self, MDB_txn *txn, uint64_t size,
                             const uint8_t root[CAIRN_HASH_BYTES], char **note_out, size_t *len_out)
{
    char *text = NULL, *note = NULL;
    size_t text_len = 0, note_len = 0;
    uint8_t kb[8];
    int rc = cairn_checkpoint_format(self->origin, size, root, NULL, &text, &text_len);
    if (rc == 0)
        rc = cairn_note_sign(text, text_len, self->signer, &note, &note_len);
    free(text);
    if (rc < 0)
        return rc;
    cairn_u64_to_key(size, kb);
    MDB_val k = {8, kb}, v = {note_len, note};
    MDB_val vk = {strlen(self->vkey), self->vkey}, vv = {8, kb};
    if ((rc = s_mdb(self, mdb_put(txn, self->db.checkpoints, &k, &v, MDB_NOOVERWRITE))) < 0)
        goto fail;
    int mrc = mdb_put(txn, self->db.vkeys, &vk, &vv, MDB_NOOVERWRITE);
    if (mrc != 0 && mrc != MDB_KEYEXIST && (rc = s_mdb(self, mrc)) < 0)
        goto fail;
    *note_out = note;
    *len_out = note_len;
    return 0;
fail:
    free(note);
    return rc;
}

static void s_set_head(cairn_ledger_store_t *self, uint64_t size,
                       const uint8_t root[CAIRN_HASH_BYTES], char *note, size_t len)
{
    free(self->head_note);
    self->head_note = note;
    self->head_note_len = len;
    self->head_size = size;
    memcpy(self->head_root, root, CAIRN_HASH_BYTES);
}

/* The start check: O(log n) reads, so a large log opens fast. The full walk
 * is cairn_ledger_verify() (verify.h). */
static int s_check_head(cairn_ledger_store_t *self, MDB_txn *txn)
{
    int rc = 0;
    MDB_cursor *cur = NULL;
    cairn_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    cairn_ledger_view_t view = s_view(self, txn);
    uint8_t root[CAIRN_HASH_BYTES], lh[CAIRN_HASH_BYTES];
    char *note = NULL;
    MDB_val k, v;

    if ((rc = cairn_lmdb_code(mdb_cursor_open(txn, self->db.checkpoints, &cur))) < 0)
        return rc;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (mrc == MDB_NOTFOUND) {
        mdb_cursor_close(cur);
        cur = NULL;
        MDB_val any;
        /* A new store: sign the empty tree so a checkpoint always exists. */
        if (self->size != 0 || mdb_cursor_open(txn, self->db.entries, &cur) != 0 ||
            mdb_cursor_get(cur, &k, &any, MDB_FIRST) != MDB_NOTFOUND) {
            rc = CAIRN_EINTEGRITY;
            goto out;
        }
        size_t len = 0;
        cairn_merkle_empty_root(root);
        if ((rc = cairn_ledger_frontier_load(&self->tree, cairn_ledger_node_get, &view, 0)) < 0 ||
            (rc = s_sign_checkpoint(self, txn, 0, root, &note, &len)) < 0)
            goto out;
        s_set_head(self, 0, root, note, len);
        note = NULL;
        goto out;
    }
    if (mrc != 0) {
        rc = cairn_lmdb_code(mrc);
        goto out;
    }
    rc = CAIRN_EINTEGRITY;
    if (k.mv_size != 8 || cairn_key_to_u64(k.mv_data) != self->size)
        goto out;
    if (!(note = strndup(v.mv_data, v.mv_size))) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = s_open_checkpoint(self, txn, note, v.mv_size, &cp)) < 0)
        goto out;
    rc = CAIRN_EINTEGRITY;
    if (cp.size != self->size)
        goto out;
    /* The edge kept in memory from here on is checked against the signed root. */
    if ((rc = cairn_ledger_frontier_load(&self->tree, cairn_ledger_node_get, &view, cp.size)) < 0) {
        rc = rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
        goto out;
    }
    cairn_ledger_frontier_root(&self->tree, root);
    rc = CAIRN_EINTEGRITY;
    if (sodium_memcmp(root, cp.root, CAIRN_HASH_BYTES) != 0)
        goto out;
    mdb_cursor_close(cur);
    cur = NULL;
    if ((rc = cairn_lmdb_code(mdb_cursor_open(txn, self->db.entries, &cur))) < 0)
        goto out;
    mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    rc = CAIRN_EINTEGRITY;
    cairn_ledger_record_parts_t last;
    if (self->size == 0) {
        rc = mrc == MDB_NOTFOUND ? 0 : CAIRN_EINTEGRITY;
    } else if (mrc == 0 && k.mv_size == 8 && cairn_key_to_u64(k.mv_data) == self->size - 1 &&
               cairn_ledger_record_parse(self->size - 1, &v, &last) == 0) {
        cairn_leaf_t leaf;
        memset(&leaf, 0, sizeof leaf);
        cairn_merkle_leaf_hash(last.leaf, last.leaf_len, lh);
        if (sodium_memcmp(lh, last.hashes, CAIRN_HASH_BYTES) == 0 &&
            cairn_leaf_parse(last.leaf, last.leaf_len, &leaf) == 0 &&
            leaf.index == self->size - 1 && strcmp(leaf.origin, self->origin) == 0)
            rc = 0;
        cairn_leaf_clear(&leaf);
    }
    if (rc == 0) {
        s_set_head(self, cp.size, cp.root, note, strlen(note));
        note = NULL;
    }
out:
    free(note);
    cairn_checkpoint_clear(&cp);
    mdb_cursor_close(cur);
    return rc;
}

/* Records the layout version of a new store, or checks it: a store written
 * in another layout is refused (CAIRN_ECONFIG), never misread. */
static int s_check_layout(cairn_ledger_store_t *self, MDB_txn *txn)
{
    bool missing = false;
    int rc = cairn_ledger_layout_migrate(txn, &self->db, &self->migrated);
    if (rc == 0)
        rc = cairn_ledger_layout_check(txn, &self->db, &missing);
    if (rc < 0 || !missing)
        return rc;
    return cairn_lmdb_put_u64(txn, self->db.meta, CAIRN_LEDGER_META_LAYOUT,
                              CAIRN_LEDGER_LAYOUT_VERSION);
}

/* Fills the in-memory idempotency index from `entry_keys`: every keyed
 * entry below the store's size. */
static int s_load_keys(cairn_ledger_store_t *self, MDB_txn *txn)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = cairn_lmdb_code(mdb_cursor_open(txn, self->db.entry_keys, &cur));
    if (rc < 0)
        return rc;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    for (; mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8 || cairn_key_to_u64(k.mv_data) >= self->size) {
            rc = CAIRN_EINTEGRITY;
            break;
        }
        uint64_t hash = cairn_ledger_keymap_hash(self->keys, v.mv_data, v.mv_size);
        if ((rc = cairn_ledger_keymap_add(self->keys, hash, cairn_key_to_u64(k.mv_data))) < 0)
            break;
    }
    if (rc == 0 && mrc != MDB_NOTFOUND)
        rc = cairn_lmdb_code(mrc);
    mdb_cursor_close(cur);
    return rc;
}

/* Records the origin of a new store, or checks the configured one. */
static int s_check_origin(cairn_ledger_store_t *self, MDB_txn *txn)
{
    MDB_val k = {strlen(CAIRN_LEDGER_META_ORIGIN), CAIRN_LEDGER_META_ORIGIN}, v;
    int mrc = mdb_get(txn, self->db.meta, &k, &v);
    if (mrc == MDB_NOTFOUND) {
        if (self->size != 0)
            return CAIRN_EINTEGRITY;
        v = (MDB_val){strlen(self->origin), self->origin};
        return cairn_lmdb_code(mdb_put(txn, self->db.meta, &k, &v, 0));
    }
    if (mrc != 0)
        return cairn_lmdb_code(mrc);
    if (v.mv_size != strlen(self->origin) || memcmp(v.mv_data, self->origin, v.mv_size) != 0)
        return CAIRN_ECONFIG;
    return 0;
}

int cairn_ledger_store_open(const char *dir, size_t map_size, const char *origin,
                            const cairn_note_signer_t *signer, cairn_ledger_store_t **out)
{
    int rc = 0;
    MDB_txn *txn = NULL;
    if (!origin || !cairn_note_key_name_valid(origin) || !signer ||
        strcmp(cairn_note_signer_name(signer), origin) != 0)
        return CAIRN_ECONFIG;
    cairn_ledger_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->signer = signer;
    self->fd = -1;
    atomic_init(&self->sync_rc, 0);
    if (sodium_init() < 0) {
        rc = CAIRN_ECRYPTO;
        goto fail;
    }
    if (!(self->origin = strdup(origin)) || !(self->rows = cairn_ledger_rows_new()) ||
        !(self->keys = cairn_ledger_keymap_new())) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = cairn_note_signer_vkey(signer, &self->vkey)) < 0)
        goto fail;
    if ((rc = cairn_lmdb_open(dir, map_size, CAIRN_LEDGER_MAX_DBS, &self->env)) < 0)
        goto fail;
    /* A commit flushes the batch's pages, then writes the meta page that
     * points at them without flushing it; the next flush of the file (the
     * next commit's, or cairn_ledger_store_sync) makes that page durable
     * (see cairn_ledger_store_commit_deferred). */
    if ((rc = cairn_lmdb_code(mdb_env_set_flags(self->env, MDB_NOMETASYNC, 1))) < 0 ||
        (rc = cairn_lmdb_code(mdb_env_get_fd(self->env, &self->fd))) < 0)
        goto fail;
    self->max_key = (size_t)mdb_env_get_maxkeysize(self->env);
    if ((rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, 0, &txn))) < 0)
        goto fail;
    if ((rc = cairn_ledger_layout_open(txn, true, &self->db)) < 0)
        goto fail;
    rc = cairn_lmdb_get_u64(txn, self->db.meta, CAIRN_LEDGER_META_SIZE, &self->size);
    if (rc == CAIRN_ENOTFOUND)
        self->size = 0;
    else if (rc < 0)
        goto fail;
    if ((rc = s_check_layout(self, txn)) < 0 || (rc = s_check_origin(self, txn)) < 0 ||
        (rc = s_check_head(self, txn)) < 0 || (rc = s_load_keys(self, txn)) < 0)
        goto fail;
    /* A full map here is a migration that needed more room (layout.h). */
    rc = cairn_ledger_migration_code(mdb_txn_commit(txn));
    txn = NULL;
    if (rc < 0 || (rc = cairn_ledger_store_sync(self)) < 0)
        goto fail;
    self->pending_size = self->size;
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
    if (self->env) {
        (void)cairn_ledger_store_sync(self); /* a deferred commit nobody synced */
        mdb_env_close(self->env);
    }
    free(self->origin);
    free(self->vkey);
    free(self->head_note);
    cairn_ledger_frontier_clear(&self->tree);
    cairn_ledger_rows_destroy(&self->rows);
    cairn_ledger_keymap_destroy(&self->keys);
    free(self->added);
    free(self);
    *self_p = NULL;
}

uint64_t cairn_ledger_store_size(const cairn_ledger_store_t *self)
{
    return self->size;
}

void cairn_ledger_store_head(const cairn_ledger_store_t *self, cairn_ledger_head_t *out)
{
    out->size = self->head_size;
    memcpy(out->root, self->head_root, CAIRN_HASH_BYTES);
    out->note = self->head_note;
    out->note_len = self->head_note_len;
}

int cairn_ledger_store_check_note(cairn_ledger_store_t *self, const char *note, size_t len,
                                  uint64_t *size_out)
{
    MDB_txn *txn = NULL;
    cairn_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    uint8_t root[CAIRN_HASH_BYTES];
    int rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc < 0)
        return rc;
    if ((rc = s_open_checkpoint(self, txn, note, len, &cp)) < 0) {
        rc = rc == CAIRN_EINTEGRITY ? CAIRN_EPARSE : rc; /* no checkpoint of this log */
        goto out;
    }
    *size_out = cp.size;
    rc = CAIRN_EINTEGRITY;
    if (cp.size > self->size)
        goto out;
    cairn_ledger_view_t v = s_view(self, txn);
    int mrc = cairn_merkle_root(cairn_ledger_node_get, &v, cp.size, root);
    if (mrc < 0 && mrc != CAIRN_ENOTFOUND)
        rc = mrc;
    else if (mrc == 0 && sodium_memcmp(root, cp.root, CAIRN_HASH_BYTES) == 0)
        rc = 0;
out:
    cairn_checkpoint_clear(&cp);
    mdb_txn_abort(txn);
    return rc;
}

const char *cairn_ledger_store_vkey(const cairn_ledger_store_t *self)
{
    return self->vkey;
}

const char *cairn_ledger_store_origin(const cairn_ledger_store_t *self)
{
    return self->origin;
}

const char *cairn_ledger_store_last_error(const cairn_ledger_store_t *self)
{
    return self->last_mdb_rc ? mdb_strerror(self->last_mdb_rc) : "no error";
}

bool cairn_ledger_store_migrated(const cairn_ledger_store_t *self)
{
    return self->migrated;
}

bool cairn_ledger_store_full(const cairn_ledger_store_t *self)
{
    return self->last_mdb_rc == MDB_MAP_FULL;
}

int cairn_ledger_store_begin(cairn_ledger_store_t *self)
{
    assert(!self->wtxn && "a batch is already open");
    int rc = atomic_load(&self->sync_rc);
    if (rc < 0)
        return rc;
    self->failed = false;
    self->last_mdb_rc = 0;
    self->pending_size = self->size;
    cairn_ledger_frontier_begin(&self->tree);
    return s_mdb(self, mdb_txn_begin(self->env, NULL, 0, &self->wtxn));
}

void cairn_ledger_store_abort(cairn_ledger_store_t *self)
{
    if (self->wtxn)
        mdb_txn_abort(self->wtxn);
    self->wtxn = NULL;
    self->pending_size = self->size;
    cairn_ledger_frontier_abort(&self->tree);
    if (self->rows)
        cairn_ledger_rows_clear(self->rows);
    for (size_t i = 0; i < self->n_added; i++)
        cairn_ledger_keymap_remove(self->keys, self->added[i].hash, self->added[i].index);
    self->n_added = 0;
}

/* After a failed write LMDB's transaction is unusable: drop it, remember why. */
int cairn_ledger_store_fail(cairn_ledger_store_t *self, int rc)
{
    cairn_ledger_store_abort(self);
    self->failed = true;
    return rc < 0 ? rc : CAIRN_ESTORE;
}

/* Puts the batch's gathered index rows in its transaction. */
static int s_flush_rows(cairn_ledger_store_t *self)
{
    int rc = s_mdb(self, cairn_ledger_rows_write(self->rows, self->wtxn));
    return rc < 0 ? cairn_ledger_store_fail(self, rc) : 0;
}

int cairn_ledger_store_batch_view(cairn_ledger_store_t *self, cairn_ledger_view_t *out)
{
    if (!self->wtxn)
        return self->failed ? CAIRN_ESTORE : CAIRN_EINTERNAL;
    /* Whoever reads or writes the batch directly sees every row of it. */
    int rc = s_flush_rows(self);
    if (rc < 0)
        return rc;
    *out = s_view(self, self->wtxn);
    return 0;
}

uint64_t cairn_ledger_store_pending_size(const cairn_ledger_store_t *self)
{
    return self->pending_size;
}

/* Leaf hash of a stored entry (in the batch or committed). */
static int s_leaf_hash(const cairn_ledger_view_t *v, uint64_t index, uint8_t out[CAIRN_HASH_BYTES])
{
    MDB_val leaf;
    int rc = cairn_ledger_leaf_get(v, index, &leaf);
    if (rc < 0)
        return rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
    cairn_merkle_leaf_hash(leaf.mv_data, leaf.mv_size, out);
    return 0;
}

/* A hash match in the key map, confirmed against the stored key. */
typedef struct {
    MDB_txn *txn;
    MDB_dbi entry_keys;
    uint64_t committed; /* entries a read transaction sees */
    const char *key;
    size_t len;
    uint64_t index; /* the match */
} s_key_match_t;

static int s_key_matches(void *arg, uint64_t index)
{
    s_key_match_t *m = arg;
    uint8_t kb[8];
    cairn_u64_to_key(index, kb);
    MDB_val k = {8, kb}, v;
    int mrc = mdb_get(m->txn, m->entry_keys, &k, &v);
    if (mrc == MDB_NOTFOUND) /* an entry of the open batch, unseen by a reader */
        return index >= m->committed ? 0 : CAIRN_EINTEGRITY;
    if (mrc != 0)
        return cairn_lmdb_code(mrc);
    if (v.mv_size != m->len || memcmp(v.mv_data, m->key, m->len) != 0)
        return 0;
    m->index = index;
    return 1;
}

/* Index of the entry appended under key (hash: its map hash), read through
 * txn; CAIRN_ENOTFOUND when unseen. */
static int s_find_key(cairn_ledger_store_t *self, MDB_txn *txn, const char *key, uint64_t hash,
                      uint64_t *index_out)
{
    s_key_match_t m = {txn, self->db.entry_keys, self->size, key, strlen(key), 0};
    int rc = cairn_ledger_keymap_find(self->keys, hash, s_key_matches, &m);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return CAIRN_ENOTFOUND;
    *index_out = m.index;
    return 0;
}

/* Adds a new entry's key to the map, remembering it until the batch ends. */
static int s_keep_key(cairn_ledger_store_t *self, uint64_t hash, uint64_t index)
{
    if (self->n_added == self->cap_added) {
        size_t cap = self->cap_added ? 2 * self->cap_added : 256;
        void *p = realloc(self->added, cap * sizeof *self->added);
        if (!p)
            return -ENOMEM;
        self->added = p;
        self->cap_added = cap;
    }
    int rc = cairn_ledger_keymap_add(self->keys, hash, index);
    if (rc == 0) {
        self->added[self->n_added].hash = hash;
        self->added[self->n_added++].index = index;
    }
    return rc;
}

static int s_duplicate(cairn_ledger_store_t *self, uint64_t index, cairn_ledger_append_t *out)
{
    cairn_ledger_view_t v = s_view(self, self->wtxn);
    uint8_t hash[CAIRN_HASH_BYTES];
    int rc = s_leaf_hash(&v, index, hash);
    if (rc < 0)
        return rc;
    memset(out, 0, sizeof *out);
    out->index = index;
    out->duplicate = true;
    memcpy(out->hash, hash, sizeof hash);
    return 0;
}

/* Reads a tree hash from the frontier, else from the view's transaction. */
typedef struct {
    cairn_ledger_store_t *store; /* whose frontier */
    cairn_ledger_view_t *view;   /* the batch's or a read transaction (begun on demand) */
} s_tree_read_t;

/* The tree of an append: reads as above, and the hashes it completes,
 * level 0 first, which go in the new entry's record. */
typedef struct {
    s_tree_read_t read; /* first: s_tree_get reads through it */
    uint8_t hashes[64][CAIRN_HASH_BYTES];
    unsigned n_hashes;
} s_tree_append_t;

/* cairn_merkle_put_fn of an append (arg is an s_tree_append_t): the hashes
 * of the perfect subtrees ending at the new leaf, in level order, kept for
 * its record and in the frontier. */
static int s_node_put(void *arg, unsigned level, uint64_t index,
                      const uint8_t hash[CAIRN_HASH_BYTES])
{
    s_tree_append_t *t = arg;
    if (level != t->n_hashes || level >= 64)
        return CAIRN_EINTERNAL;
    memcpy(t->hashes[t->n_hashes++], hash, CAIRN_HASH_BYTES);
    return cairn_ledger_frontier_put(&t->read.store->tree, level, index, hash);
}

static int s_tree_get(void *arg, unsigned level, uint64_t index, uint8_t out[CAIRN_HASH_BYTES])
{
    s_tree_read_t *t = arg;
    int rc = cairn_ledger_frontier_get(&t->store->tree, level, index, out);
    if (rc != CAIRN_ENOTFOUND)
        return rc;
    if (!t->view->txn && (rc = cairn_ledger_store_begin_read(t->store, t->view)) < 0)
        return rc;
    return cairn_ledger_node_get(t->view, level, index, out);
}

/* Index of the last entry of change (in the batch or committed). */
static int s_last_of_change(cairn_ledger_store_t *self, const char *change, bool *has_out,
                            uint64_t *index_out)
{
    uint8_t buf[CAIRN_LEDGER_LOOKUP_KEY_BYTES];
    MDB_val k = cairn_ledger_lookup_key(self->max_key, CAIRN_LEDGER_BY_CHANGE, change, buf);
    if ((*has_out = cairn_ledger_rows_last(self->rows, self->db.heads, &k, index_out)))
        return 0;
    cairn_ledger_view_t v = s_view(self, self->wtxn);
    return cairn_ledger_change_head(&v, change, has_out, index_out);
}

/* Makes index the newest entry of change (in heads at the batch's end). */
static int s_head_put(cairn_ledger_store_t *self, const char *change, uint64_t index)
{
    if (!change || !*change)
        return 0;
    uint8_t buf[CAIRN_LEDGER_LOOKUP_KEY_BYTES];
    MDB_val k = cairn_ledger_lookup_key(self->max_key, CAIRN_LEDGER_BY_CHANGE, change, buf);
    return cairn_ledger_rows_add(self->rows, self->db.heads, CAIRN_LEDGER_ROWS_LAST, &k, index);
}

/* Adds index under kind and text in lookup (skips NULL or ""), at the
 * batch's end: the newest entry goes at the end of the string's sorted
 * duplicates. */
static int s_lookup_put(cairn_ledger_store_t *self, cairn_ledger_by_t kind, const char *text,
                        uint64_t index)
{
    if (!text || !*text)
        return 0;
    uint8_t buf[CAIRN_LEDGER_LOOKUP_KEY_BYTES];
    MDB_val k = cairn_ledger_lookup_key(self->max_key, kind, text, buf);
    return cairn_ledger_rows_add(self->rows, self->db.lookup, CAIRN_LEDGER_ROWS_DUPS, &k, index);
}

/* Writes the leaf, payload, tree hashes and index rows of a new entry whose
 * leaf hash is lh. */
static int s_write_entry(cairn_ledger_store_t *self, const cairn_ledger_record_t *rec,
                         const cairn_leaf_t *leaf, const char *text, size_t text_len,
                         const uint8_t lh[CAIRN_HASH_BYTES])
{
    int rc = 0;
    uint8_t index_be[8], time_be[8];
    const char *key = rec->key ? rec->key : "";
    cairn_u64_to_key(leaf->index, index_be);
    cairn_u64_to_key(leaf->time_ms, time_be);
    MDB_val kidx = {8, index_be};
    MDB_val ktime = {8, time_be};

    cairn_ledger_view_t view = s_view(self, self->wtxn);
    s_tree_append_t t; /* hashes filled by s_node_put: not cleared */
    t.read = (s_tree_read_t){self, &view};
    t.n_hashes = 0;
    if ((rc = cairn_merkle_append(s_tree_get, s_node_put, &t, leaf->index, lh)) < 0)
        return rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
    cairn_ledger_record_parts_t parts = {
        .hashes = t.hashes[0],
        .n_hashes = t.n_hashes,
        .leaf = text,
        .leaf_len = text_len,
        .payload = rec->record,
        .payload_len = rec->record_len,
    };
    /* One record per entry, reserved and filled in place; MDB_APPEND also
     * asserts that indexes only grow. */
    MDB_val vrec = {cairn_ledger_record_size(t.n_hashes, text_len, rec->record_len), NULL};
    if ((rc = s_mdb(self, mdb_put(self->wtxn, self->db.entries, &kidx, &vrec,
                                  MDB_APPEND | MDB_RESERVE))) < 0)
        return rc;
    cairn_ledger_record_write(&parts, vrec.mv_data);
    if (*key) { /* the key, for Entry.key and the idempotency map (keymap.h) */
        MDB_val vkey = {strlen(key), (void *)key};
        if ((rc = s_mdb(self, mdb_put(self->wtxn, self->db.entry_keys, &kidx, &vkey, MDB_APPEND))) <
            0)
            return rc;
    }
    uint64_t index = leaf->index;
    if ((rc = s_head_put(self, rec->change_id, index)) < 0 ||
        (rc = s_lookup_put(self, CAIRN_LEDGER_BY_RELEASE, rec->release_id, index)) < 0 ||
        (rc = s_lookup_put(self, CAIRN_LEDGER_BY_TOPIC, rec->topic, index)) < 0 ||
        (rc = s_lookup_put(self, CAIRN_LEDGER_BY_ENV, rec->environment, index)) < 0 ||
        (rc = s_lookup_put(self, CAIRN_LEDGER_BY_ACTOR, rec->actors[0], index)) < 0)
        return rc;
    if (!(rec->actors[0] && rec->actors[1] && strcmp(rec->actors[0], rec->actors[1]) == 0) &&
        (rc = s_lookup_put(self, CAIRN_LEDGER_BY_ACTOR, rec->actors[1], index)) < 0)
        return rc;
    return cairn_ledger_rows_add(self->rows, self->db.times, CAIRN_LEDGER_ROWS_DUPS, &ktime, index);
}

int cairn_ledger_store_append(cairn_ledger_store_t *self, const cairn_ledger_record_t *rec,
                              cairn_ledger_append_t *out)
{
    int rc = 0;
    char *text = NULL;
    size_t text_len = 0;
    uint8_t lh[CAIRN_HASH_BYTES];
    const char *key = rec->key ? rec->key : "";
    const char *change = rec->change_id ? rec->change_id : "";
    const char *release = rec->release_id ? rec->release_id : "";
    uint64_t khash = 0, found = 0;
    if (!self->wtxn)
        return self->failed ? CAIRN_ESTORE : CAIRN_EINTERNAL;
    if (*key)
        khash = cairn_ledger_keymap_hash(self->keys, key, strlen(key));

    cairn_leaf_t leaf;
    memset(&leaf, 0, sizeof leaf);
    leaf.origin = self->origin;
    leaf.index = self->pending_size;
    leaf.topic = (char *)(rec->topic ? rec->topic : "");
    if (*key) {
        leaf.has_key = true;
        if (rec->key_sha256)
            memcpy(leaf.key_sha256, rec->key_sha256, CAIRN_HASH_BYTES);
        else
            cairn_sha256(key, strlen(key), leaf.key_sha256);
    }
    if (rec->record_sha256)
        memcpy(leaf.payload_sha256, rec->record_sha256, CAIRN_HASH_BYTES);
    else
        cairn_sha256(rec->record, rec->record_len, leaf.payload_sha256);
    leaf.change = *change ? (char *)change : NULL;
    leaf.release = *release ? (char *)release : NULL;
    leaf.time_ms = rec->appended_at_ms > 0 ? (uint64_t)rec->appended_at_ms : 0;
    /* A key already in the log (or earlier in this batch) gets its entry
     * back and nothing is written. A value the leaf format refuses (a
     * control character, invalid UTF-8) is the request's fault: nothing is
     * written, the batch stays usable. */
    int frc = *key ? s_find_key(self, self->wtxn, key, khash, &found) : CAIRN_ENOTFOUND;
    if (frc < 0 && frc != CAIRN_ENOTFOUND)
        return cairn_ledger_store_fail(self, frc);
    if (frc == 0) {
        if ((rc = s_duplicate(self, found, out)) < 0)
            return cairn_ledger_store_fail(self, rc);
        return 0;
    }
    if (*change && (rc = s_last_of_change(self, change, &leaf.has_prev, &leaf.prev)) < 0)
        return cairn_ledger_store_fail(self, rc);
    if ((rc = cairn_leaf_format(&leaf, &text, &text_len)) < 0)
        return rc;
    cairn_merkle_leaf_hash(text, text_len, lh);
    if ((rc = s_write_entry(self, rec, &leaf, text, text_len, lh)) < 0 ||
        (*key && (rc = s_keep_key(self, khash, leaf.index)) < 0))
        goto fail;
    self->pending_size = leaf.index + 1;
    memset(out, 0, sizeof *out);
    out->index = leaf.index;
    memcpy(out->hash, lh, sizeof lh);
    out->leaf = text;
    out->leaf_len = text_len;
    out->time_ms = leaf.time_ms;
    return 0;
fail:
    free(text);
    return cairn_ledger_store_fail(self, rc);
}

void cairn_ledger_append_parts(const cairn_ledger_record_t *rec, const cairn_ledger_append_t *res,
                               cairn_ledger_entry_parts_t *out)
{
    const char *change = rec->change_id && *rec->change_id ? rec->change_id : NULL;
    *out = (cairn_ledger_entry_parts_t){
        .index = res->index,
        .topic = rec->topic ? rec->topic : "",
        .change = change,
        .key = rec->key ? rec->key : "",
        .time_ms = res->time_ms,
        .record = rec->record,
        .record_len = rec->record_len,
        .leaf = res->leaf,
        .leaf_len = res->leaf_len,
        .leaf_hash = res->hash,
    };
}

int cairn_ledger_store_commit_deferred(cairn_ledger_store_t *self)
{
    int rc = 0;
    char *note = NULL;
    size_t note_len = 0;
    uint8_t root[CAIRN_HASH_BYTES];
    if (!self->wtxn)
        return self->failed ? CAIRN_ESTORE : CAIRN_EINTERNAL;
    if ((rc = s_flush_rows(self)) < 0)
        return rc;
    bool advanced = self->pending_size != self->size;
    if (advanced) {
        cairn_ledger_view_t v = s_view(self, self->wtxn);
        /* Never sign a tree that does not extend the last checkpoint. */
        if (self->head_size > 0) {
            rc = cairn_merkle_root(cairn_ledger_node_get, &v, self->head_size, root);
            if (rc == 0 && sodium_memcmp(root, self->head_root, CAIRN_HASH_BYTES) != 0)
                rc = CAIRN_EINTEGRITY;
            if (rc < 0)
                return cairn_ledger_store_fail(self, rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc);
        }
        /* The new root, from the edge and the hashes the batch wrote. */
        s_tree_read_t t = {self, &v};
        if ((rc = cairn_merkle_root(s_tree_get, &t, self->pending_size, root)) < 0)
            return cairn_ledger_store_fail(self, rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc);
        if ((rc = s_sign_checkpoint(self, self->wtxn, self->pending_size, root, &note, &note_len)) <
            0)
            return cairn_ledger_store_fail(self, rc);
    }
    /* Written even when it did not change, so that every commit writes and
     * flushes (LMDB skips both for a transaction that changed nothing): the
     * flush makes the commits before it durable too. */
    uint8_t size_be[8];
    cairn_u64_to_key(self->pending_size, size_be);
    MDB_val ks = {strlen(CAIRN_LEDGER_META_SIZE), CAIRN_LEDGER_META_SIZE}, vs = {8, size_be};
    if ((rc = s_mdb(self, mdb_put(self->wtxn, self->db.meta, &ks, &vs, 0))) < 0) {
        free(note);
        return cairn_ledger_store_fail(self, rc);
    }
    /* Returns after the batch's pages are flushed (MDB_NOMETASYNC: not the
     * meta page written after them). */
    rc = s_mdb(self, mdb_txn_commit(self->wtxn));
    self->wtxn = NULL;
    if (rc < 0) {
        /* A failed write or flush leaves the commits before this one, whose
         * meta page this flush was to make durable, in doubt as well. */
        if (rc > CAIRN_EBASE)
            atomic_store(&self->sync_rc, rc);
        free(note);
        return cairn_ledger_store_fail(self, rc);
    }
    if (advanced)
        s_set_head(self, self->pending_size, root, note, note_len);
    self->n_added = 0; /* the batch's keys are the log's now */
    self->size = self->pending_size;
    cairn_ledger_frontier_commit(&self->tree);
    return 0;
}

int cairn_ledger_store_sync(cairn_ledger_store_t *self)
{
    int rc = atomic_load(&self->sync_rc);
    if (rc < 0)
        return rc;
    if (self->fd < 0 || fdatasync(self->fd) == 0)
        return 0;
    /* After a failed flush Linux may drop the pages it could not write and
     * report success for the next one: nothing later can be trusted. */
    rc = -errno;
    atomic_store(&self->sync_rc, rc);
    return rc;
}

int cairn_ledger_store_sync_error(cairn_ledger_store_t *self)
{
    return atomic_load(&self->sync_rc);
}

int cairn_ledger_store_commit(cairn_ledger_store_t *self)
{
    int rc = cairn_ledger_store_commit_deferred(self);
    return rc < 0 ? rc : cairn_ledger_store_sync(self);
}

int cairn_ledger_store_begin_read(cairn_ledger_store_t *self, cairn_ledger_view_t *out)
{
    MDB_txn *txn = NULL;
    int rc = cairn_lmdb_code(mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn));
    if (rc < 0)
        return rc;
    *out = s_view(self, txn);
    return 0;
}

void cairn_ledger_store_end_read(cairn_ledger_view_t *view)
{
    if (view->txn)
        mdb_txn_abort(view->txn);
    view->txn = NULL;
}

/* Serves one entry to fn; the packed bytes are freed after the call. */
static int s_serve(const cairn_ledger_view_t *v, uint64_t index, cairn_ledger_entry_fn fn,
                   void *arg)
{
    uint8_t *entry = NULL;
    size_t len = 0;
    int rc = cairn_ledger_entry_build(v, index, &entry, &len);
    if (rc < 0)
        return rc;
    rc = fn(arg, index, entry, len);
    free(entry);
    return rc;
}

int cairn_ledger_store_read(cairn_ledger_store_t *self, uint64_t from, uint64_t limit,
                            cairn_ledger_entry_fn fn, void *arg)
{
    cairn_ledger_view_t v;
    if (limit == 0 || from >= self->size)
        return 0;
    int rc = cairn_ledger_store_begin_read(self, &v);
    if (rc < 0)
        return rc;
    /* Bounded by the committed size, so a missing leaf is a broken store. */
    for (uint64_t i = from; i < self->size && i - from < limit; i++)
        if ((rc = s_serve(&v, i, fn, arg)) != 0)
            break;
    cairn_ledger_store_end_read(&v);
    return rc < 0 ? rc : 0;
}

int cairn_ledger_store_by_change(cairn_ledger_store_t *self, const char *change_id,
                                 cairn_ledger_entry_fn fn, void *arg)
{
    int rc = 0;
    cairn_ledger_view_t v;
    cairn_ledger_indexes_t found = {0};
    if (!change_id || !*change_id)
        return 0;
    if ((rc = cairn_ledger_store_begin_read(self, &v)) < 0)
        return rc;
    if ((rc = cairn_ledger_indexes_collect(&v, CAIRN_LEDGER_BY_CHANGE, change_id, 0, &found)) < 0)
        goto out;
    cairn_ledger_indexes_sort(&found);
    for (size_t i = 0; i < found.n; i++)
        if ((rc = s_serve(&v, found.items[i], fn, arg)) != 0)
            break;
out:
    cairn_ledger_indexes_free(&found);
    cairn_ledger_store_end_read(&v);
    return rc < 0 ? rc : 0;
}

size_t cairn_ledger_store_key_count(const cairn_ledger_store_t *self)
{
    return cairn_ledger_keymap_count(self->keys);
}

size_t cairn_ledger_store_key_bytes(const cairn_ledger_store_t *self)
{
    return cairn_ledger_keymap_bytes(self->keys);
}

int cairn_ledger_store_find_key(cairn_ledger_store_t *self, const char *key, uint64_t *index_out)
{
    cairn_ledger_view_t v;
    if (!key || !*key)
        return CAIRN_ENOTFOUND;
    int rc = cairn_ledger_store_begin_read(self, &v);
    if (rc < 0)
        return rc;
    rc = s_find_key(self, v.txn, key, cairn_ledger_keymap_hash(self->keys, key, strlen(key)),
                    index_out);
    cairn_ledger_store_end_read(&v);
    return rc;
}

int cairn_ledger_store_checkpoint(cairn_ledger_store_t *self, uint64_t size, char **note_out,
                                  size_t *len_out, uint64_t *size_out)
{
    cairn_ledger_view_t v;
    uint8_t kb[8];
    char *note = NULL;
    if (size == 0 || size == self->head_size) {
        if (!(note = strndup(self->head_note, self->head_note_len)))
            return -ENOMEM;
        *note_out = note;
        *len_out = self->head_note_len;
        *size_out = self->head_size;
        return 0;
    }
    int rc = cairn_ledger_store_begin_read(self, &v);
    if (rc < 0)
        return rc;
    cairn_u64_to_key(size, kb);
    MDB_val k = {8, kb}, val;
    if ((rc = cairn_lmdb_code(mdb_get(v.txn, self->db.checkpoints, &k, &val))) == 0) {
        if ((note = strndup(val.mv_data, val.mv_size))) {
            *note_out = note;
            *len_out = val.mv_size;
            *size_out = size;
        } else {
            rc = -ENOMEM;
        }
    }
    cairn_ledger_store_end_read(&v);
    return rc;
}

/* Leaf hash and inclusion proof of index in the tree of size leaves, read
 * from the frontier when they are there (the entries of the last batch, and
 * the right edge of the committed tree), else from a read transaction. */
static int s_prove(cairn_ledger_store_t *self, uint64_t index, uint64_t size,
                   uint8_t lh[CAIRN_HASH_BYTES], uint8_t *proof_out, size_t *count_out)
{
    cairn_ledger_view_t v = {0};
    s_tree_read_t t = {self, &v};
    int rc = s_tree_get(&t, 0, index, lh);
    /* In the committed tree, the right edge's hashes are at hand. */
    if (rc == 0 && size == self->tree.size)
        rc = cairn_ledger_frontier_prove(&self->tree, s_tree_get, &t, index, proof_out, count_out);
    else if (rc == 0)
        rc = cairn_merkle_inclusion_proof(s_tree_get, &t, index, size, proof_out,
                                          CAIRN_MERKLE_MAX_PROOF, count_out);
    cairn_ledger_store_end_read(&v);
    return rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
}

int cairn_ledger_store_prove(cairn_ledger_store_t *self, uint64_t index, uint64_t size,
                             uint8_t leaf_hash_out[CAIRN_HASH_BYTES], uint8_t *proof_out,
                             size_t *count_out)
{
    if (size == 0)
        size = self->head_size;
    if (index >= size || size > self->size)
        return CAIRN_EINVALID;
    uint8_t lh[CAIRN_HASH_BYTES];
    size_t count = 0;
    int rc = s_prove(self, index, size, lh, proof_out, &count);
    if (rc < 0)
        return rc;
    memcpy(leaf_hash_out, lh, sizeof lh);
    *count_out = count;
    return 0;
}

int cairn_ledger_store_consistency(cairn_ledger_store_t *self, uint64_t old_size, uint64_t new_size,
                                   uint8_t *proof_out, size_t *count_out)
{
    cairn_ledger_view_t v;
    if (new_size == 0)
        new_size = self->head_size;
    if (old_size == 0 || old_size > new_size || new_size > self->size)
        return CAIRN_EINVALID;
    int rc = cairn_ledger_store_begin_read(self, &v);
    if (rc < 0)
        return rc;
    size_t count = 0;
    rc = cairn_merkle_consistency_proof(cairn_ledger_node_get, &v, old_size, new_size, proof_out,
                                        CAIRN_MERKLE_MAX_PROOF, &count);
    cairn_ledger_store_end_read(&v);
    if (rc < 0)
        return rc == CAIRN_ENOTFOUND ? CAIRN_EINTEGRITY : rc;
    *count_out = count;
    return 0;
}

int cairn_ledger_store_receipt(cairn_ledger_store_t *self, uint64_t index, char **proof_out,
                               size_t *len_out, uint64_t *size_out)
{
    uint8_t lh[CAIRN_HASH_BYTES];
    uint8_t proof[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
    size_t count = 0;
    int rc = cairn_ledger_store_prove(self, index, self->head_size, lh, proof, &count);
    if (rc < 0)
        return rc;
    rc = cairn_ledger_receipt_format(&self->b64, index, proof, count, self->head_note,
                                     self->head_note_len, proof_out, len_out);
    if (rc == 0)
        *size_out = self->head_size;
    return rc;
}
