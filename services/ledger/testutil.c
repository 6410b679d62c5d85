/* Helpers shared by the ledger's unit tests; see testutil.h. */
#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/codec.h"
#include "cairn/lmdbx.h"
#include "cairn/merkle.h"
#include "cairn/util.h"
#include "layout.h"

void lt_mkdtemp(char dir[64], const char *prefix)
{
    snprintf(dir, 64, "/tmp/%s-XXXXXX", prefix);
    assert_non_null(mkdtemp(dir));
}

static int s_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

void lt_rmtree(const char *dir)
{
    nftw(dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}

cairn_note_signer_t *lt_signer(const char *origin, uint8_t seed_byte)
{
    uint8_t seed[CAIRN_NOTE_SEED_BYTES];
    memset(seed, seed_byte, sizeof seed);
    cairn_note_signer_t *s = NULL;
    assert_int_equal(cairn_note_signer_from_seed(origin, seed, &s), 0);
    return s;
}

void lt_event_record(const char *type, const char *change, const char *release, const char *actor,
                     const char *id, uint8_t **buf, size_t *len)
{
    lt_event_record_env(type, change, release, actor, NULL, id, buf, len);
}

void lt_event_record_env(const char *type, const char *change, const char *release,
                         const char *actor, const char *env, const char *id, uint8_t **buf,
                         size_t *len)
{
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Governance gov = CAIRN__V1__GOVERNANCE__INIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    corr.change_id = (char *)(change ? change : "");
    corr.release_id = (char *)(release ? release : "");
    corr.environment = (char *)(env ? env : "");
    gov.actor = (char *)(actor ? actor : "");
    ev.id = (char *)id;
    ev.source = "/test";
    ev.spec_version = "1.0";
    ev.type = (char *)type;
    ev.correlation = &corr;
    ev.governance = &gov;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    assert_int_equal(cairn_codec_pack(&rec.base, buf, len), 0);
}

cairn_ledger_append_t lt_append_in(cairn_ledger_store_t *store, const char *key, const char *change,
                                   const char *release, const char *id, int64_t time_ms)
{
    uint8_t *record = NULL;
    size_t len = 0;
    lt_event_record("dev.cdevents.change.created.0.4.0", change, release, NULL, id, &record, &len);
    cairn_ledger_record_t in = {
        .key = key,
        .topic = "dev.cdevents.change.created.0.4.0",
        .change_id = change,
        .release_id = release,
        .appended_at_ms = time_ms,
        .record = record,
        .record_len = len,
    };
    cairn_ledger_append_t out;
    assert_int_equal(cairn_ledger_store_append(store, &in, &out), 0);
    free(record);
    return out;
}

void lt_copy_store(const char *dir, const char *to_dir)
{
    char from[128], to[128];
    char *data = NULL;
    size_t len = 0;
    snprintf(from, sizeof from, "%s/data.mdb", dir);
    snprintf(to, sizeof to, "%s/data.mdb", to_dir);
    assert_int_equal(cairn_mkdir_p(to_dir, 0700), 0);
    assert_int_equal(cairn_read_file(from, SIZE_MAX / 2, &data, &len), 0);
    assert_int_equal(cairn_write_file(to, data, len, 0600, true), 0);
    free(data);
}

void lt_append_batch(cairn_ledger_store_t *store, size_t n, const char *change)
{
    char id[32];
    assert_int_equal(cairn_ledger_store_begin(store), 0);
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "e%" PRIu64, cairn_ledger_store_pending_size(store));
        cairn_ledger_append_t r = lt_append_in(store, NULL, change, NULL, id, 1764107400000);
        free(r.leaf);
    }
    assert_int_equal(cairn_ledger_store_commit(store), 0);
}

/* A write transaction on dbname of the store in dir, behind its back. */
static void s_open_db(const char *dir, const char *dbname, MDB_env **env, MDB_txn **txn,
                      MDB_dbi *dbi)
{
    assert_int_equal(cairn_lmdb_open(dir, LT_MAP_SIZE, CAIRN_LEDGER_MAX_DBS, env), 0);
    assert_int_equal(mdb_txn_begin(*env, NULL, 0, txn), 0);
    assert_int_equal(mdb_dbi_open(*txn, dbname, 0, dbi), 0);
}

void lt_row(const char *dir, const char *dbname, bool del, const void *key, size_t klen,
            const void *val, size_t vlen)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    s_open_db(dir, dbname, &env, &txn, &dbi);
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    if (del)
        assert_int_equal(mdb_del(txn, dbi, &k, val ? &v : NULL), 0);
    else
        assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void s_raw(const char *dir, const char *dbname, const void *key, size_t klen, long offset,
                  uint8_t **copy, size_t *copy_len)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    s_open_db(dir, dbname, &env, &txn, &dbi);
    MDB_val k = {klen, (void *)key}, v;
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    uint8_t *buf = malloc(v.mv_size);
    assert_non_null(buf);
    memcpy(buf, v.mv_data, v.mv_size);
    if (copy) {
        *copy = buf;
        *copy_len = v.mv_size;
        mdb_txn_abort(txn);
    } else {
        size_t at = offset < 0 ? v.mv_size - (size_t)(-offset) : (size_t)offset;
        assert_true(at < v.mv_size);
        buf[at] ^= 0x01;
        MDB_val nv = {v.mv_size, buf};
        assert_int_equal(mdb_put(txn, dbi, &k, &nv, 0), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);
        free(buf);
    }
    mdb_env_close(env);
}

void lt_flip(const char *dir, const char *dbname, const void *key, size_t klen, long offset)
{
    s_raw(dir, dbname, key, klen, offset, NULL, NULL);
}

void lt_flip_record(const char *dir, uint64_t index, lt_part_t part, long offset)
{
    uint8_t kb[8], *rec = NULL;
    size_t len = 0;
    cairn_ledger_record_parts_t r;
    cairn_u64_to_key(index, kb);
    lt_get(dir, "entries", kb, 8, &rec, &len);
    MDB_val v = {len, rec};
    assert_int_equal(cairn_ledger_record_parse(index, &v, &r), 0);
    const uint8_t *start = part == LT_PART_HASHES ? r.hashes
                           : part == LT_PART_LEAF ? (const uint8_t *)r.leaf
                                                  : (const uint8_t *)r.payload;
    size_t size = part == LT_PART_HASHES ? (size_t)r.n_hashes * 32
                  : part == LT_PART_LEAF ? r.leaf_len
                                         : r.payload_len;
    assert_non_null(start);
    size_t at = offset < 0 ? size - (size_t)(-offset) : (size_t)offset;
    assert_true(at < size);
    long abs = (long)((size_t)(start - rec) + at);
    free(rec);
    lt_flip(dir, "entries", kb, 8, abs);
}

void lt_get(const char *dir, const char *dbname, const void *key, size_t klen, uint8_t **val,
            size_t *len)
{
    s_raw(dir, dbname, key, klen, 0, val, len);
}

void lt_mth(const uint8_t (*h)[32], uint64_t n, uint8_t out[32])
{
    if (n == 0) {
        cairn_merkle_empty_root(out);
        return;
    }
    if (n == 1) {
        memcpy(out, h[0], 32);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    uint8_t left[32], right[32];
    lt_mth(h, k, left);
    lt_mth(h + k, n - k, right);
    cairn_merkle_node_hash(left, right, out);
}

/* Collects leaf hashes from served entries. */
typedef struct {
    uint8_t (*hashes)[32]; /* one per entry */
    uint64_t n;            /* filled */
} s_hashes_t;

static int s_collect_hash(void *arg, uint64_t index, const uint8_t *entry, size_t len)
{
    s_hashes_t *h = arg;
    Cairn__V1__Entry *e = NULL;
    assert_int_equal(cairn_codec_entry_unpack(entry, len, &e), 0);
    assert_int_equal(e->index, index);
    assert_int_equal(e->hash.len, 32);
    /* The served hash is the hash of the served leaf. */
    uint8_t lh[32];
    cairn_merkle_leaf_hash(e->leaf.data, e->leaf.len, lh);
    assert_memory_equal(lh, e->hash.data, 32);
    memcpy(h->hashes[h->n++], lh, 32);
    CAIRN_CODEC_FREE(&e);
    return 0;
}

uint8_t (*lt_leaf_hashes(cairn_ledger_store_t *store, uint64_t n))[32]
{
    s_hashes_t h = {calloc(n ? n : 1, 32), 0};
    assert_non_null(h.hashes);
    assert_int_equal(cairn_ledger_store_read(store, 0, n, s_collect_hash, &h), 0);
    assert_int_equal(h.n, n);
    return h.hashes;
}

void lt_append_request(const char *key, Cairn__V1__Record *rec, uint8_t **buf, size_t *len)
{
    Cairn__V1__AppendRequest app = CAIRN__V1__APPEND_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    app.key = (char *)key;
    app.record = rec;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = &app;
    assert_int_equal(cairn_codec_pack(&req.base, buf, len), 0);
}

static void *s_serve_run(void *arg)
{
    lt_served_t *s = arg;
    while (atomic_load(&s->running))
        if (cairn_ledger_run_once(s->ledger, 20) < 0)
            break;
    return NULL;
}

void lt_serve(lt_served_t *s, cairn_ledger_t *ledger)
{
    s->ledger = ledger;
    atomic_store(&s->running, true);
    assert_int_equal(pthread_create(&s->thread, NULL, s_serve_run, s), 0);
    s->started = true;
}

void lt_serve_stop(lt_served_t *s)
{
    if (!s->started)
        return;
    atomic_store(&s->running, false);
    pthread_join(s->thread, NULL);
    s->started = false;
}
