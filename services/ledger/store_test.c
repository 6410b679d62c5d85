/* Tests for the ledger store on a real LMDB environment in a temporary
 * directory: appends, idempotency, the hash chain, indexes, reopen, tamper. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/util.h"
#include "store.h"

#define S_MAP_SIZE (64u * 1024u * 1024u)

/* Per-test state: a fresh directory and the store opened in it. */
typedef struct {
    char dir[64];                /* mkdtemp directory */
    cairn_ledger_store_t *store; /* open store */
} s_fixture_t;

/* Entries read back by s_collect. */
typedef struct {
    Cairn__V1__Entry *items[160]; /* unpacked entries */
    size_t n;                     /* how many */
    size_t stop_after;            /* ask the store to stop after this many (0: never) */
} s_entries_t;

static int s_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/cairn-ledger-store-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(cairn_ledger_store_open(f->dir, S_MAP_SIZE, &f->store), 0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_store_destroy(&f->store);
    nftw(f->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* A packed Record holding an event of type `type` for change `change`. */
static void s_event_record(const char *type, const char *change, const char *id, uint8_t **buf,
                           size_t *len)
{
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    corr.change_id = (char *)change;
    ev.id = (char *)id;
    ev.source = "/test";
    ev.spec_version = "1.0";
    ev.type = (char *)type;
    ev.correlation = &corr;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    assert_int_equal(cairn_codec_pack(&rec.base, buf, len), 0);
}

/* Appends one event inside the open batch and returns where it landed. */
static cairn_ledger_append_t s_append_in(cairn_ledger_store_t *store, const char *key,
                                         const char *change, const char *id)
{
    uint8_t *record = NULL;
    size_t len = 0;
    s_event_record("dev.cdevents.change.created.0.4.0", change, id, &record, &len);
    cairn_ledger_record_t in = {
        .key = key,
        .topic = "dev.cdevents.change.created.0.4.0",
        .change_id = change,
        .appended_at_ms = 1764107400000,
        .record = record,
        .record_len = len,
    };
    cairn_ledger_append_t out;
    assert_int_equal(cairn_ledger_store_append(store, &in, &out), 0);
    free(record);
    return out;
}

/* Appends one event in a batch of its own. */
static cairn_ledger_append_t s_append(cairn_ledger_store_t *store, const char *key,
                                      const char *change, const char *id)
{
    assert_int_equal(cairn_ledger_store_begin(store), 0);
    cairn_ledger_append_t out = s_append_in(store, key, change, id);
    assert_int_equal(cairn_ledger_store_commit(store), 0);
    return out;
}

static int s_collect(void *arg, uint64_t index, const uint8_t *entry, size_t len)
{
    s_entries_t *es = arg;
    assert_true(es->n < 160);
    assert_int_equal(cairn_codec_entry_unpack(entry, len, &es->items[es->n]), 0);
    assert_int_equal(es->items[es->n]->index, index);
    es->n++;
    return es->stop_after && es->n >= es->stop_after ? 1 : 0;
}

static void s_entries_free(s_entries_t *es)
{
    for (size_t i = 0; i < es->n; i++)
        CAIRN_CODEC_FREE(&es->items[i]);
    es->n = 0;
}

static void s_expected_hash(const uint8_t prev[32], const uint8_t *record, size_t len,
                            uint8_t out[32])
{
    uint8_t *buf = malloc(32 + len);
    assert_non_null(buf);
    memcpy(buf, prev, 32);
    memcpy(buf + 32, record, len);
    cairn_sha256(buf, 32 + len, out);
    free(buf);
}

static void test_an_appended_record_reads_back_byte_for_byte(void **state)
{
    s_fixture_t *f = *state;
    static const uint8_t zero[32];
    uint8_t *record = NULL, expect[32];
    size_t len = 0;
    s_event_record("dev.cdevents.change.created.0.4.0", "CHG-1", "e1", &record, &len);

    cairn_ledger_append_t r = s_append(f->store, "ce:/test\ne1", "CHG-1", "e1");
    assert_int_equal(r.index, 0);
    assert_false(r.duplicate);
    assert_non_null(r.entry);
    assert_int_equal(cairn_ledger_store_size(f->store), 1);

    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_store_read(f->store, 0, 10, s_collect, &es), 0);
    assert_int_equal(es.n, 1);
    Cairn__V1__Entry *e = es.items[0];
    assert_string_equal(e->topic, "dev.cdevents.change.created.0.4.0");
    assert_string_equal(e->change_id, "CHG-1");
    assert_string_equal(e->key, "ce:/test\ne1");
    assert_int_equal(e->appended_at_ms, 1764107400000);
    assert_int_equal(e->record.len, len);
    assert_memory_equal(e->record.data, record, len);
    assert_int_equal(e->prev_hash.len, 32);
    assert_memory_equal(e->prev_hash.data, zero, 32);
    s_expected_hash(zero, record, len, expect);
    assert_memory_equal(e->hash.data, expect, 32);
    assert_memory_equal(r.hash, expect, 32);

    /* The entry handed back for publishing is the stored entry. */
    Cairn__V1__Entry *pub = NULL;
    assert_int_equal(cairn_codec_entry_unpack(r.entry, r.entry_len, &pub), 0);
    assert_int_equal(pub->index, 0);
    assert_memory_equal(pub->hash.data, expect, 32);
    CAIRN_CODEC_FREE(&pub);

    s_entries_free(&es);
    free(r.entry);
    free(record);
}

static void test_a_repeated_key_returns_the_original_index(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_append_t first = s_append(f->store, "k1", "CHG-1", "e1");
    cairn_ledger_append_t second = s_append(f->store, "k2", "CHG-1", "e2");
    cairn_ledger_append_t again = s_append(f->store, "k1", "CHG-1", "e1-redelivered");
    assert_int_equal(second.index, 1);
    assert_true(again.duplicate);
    assert_int_equal(again.index, 0);
    assert_null(again.entry);
    assert_memory_equal(again.hash, first.hash, 32);
    assert_int_equal(cairn_ledger_store_size(f->store), 2);

    /* A key repeated within one batch is a duplicate of the batch's own entry. */
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    cairn_ledger_append_t a = s_append_in(f->store, "k3", "CHG-2", "e3");
    cairn_ledger_append_t b = s_append_in(f->store, "k3", "CHG-2", "e3");
    cairn_ledger_append_t c = s_append_in(f->store, "", "CHG-2", "e4");
    cairn_ledger_append_t d = s_append_in(f->store, NULL, "CHG-2", "e4");
    assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    assert_int_equal(a.index, 2);
    assert_true(b.duplicate);
    assert_int_equal(b.index, 2);
    /* No key: appended every time. */
    assert_int_equal(c.index, 3);
    assert_int_equal(d.index, 4);
    assert_int_equal(cairn_ledger_store_size(f->store), 5);

    uint64_t index = 99;
    assert_int_equal(cairn_ledger_store_find_key(f->store, "k3", &index), 0);
    assert_int_equal(index, 2);
    assert_int_equal(cairn_ledger_store_find_key(f->store, "nope", &index), CAIRN_ENOTFOUND);

    free(first.entry), free(second.entry), free(a.entry), free(c.entry), free(d.entry);
}

static void test_each_hash_chains_from_the_previous_entry(void **state)
{
    s_fixture_t *f = *state;
    char key[16], id[16];
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "k%d", i);
        snprintf(id, sizeof id, "e%d", i);
        cairn_ledger_append_t r = s_append(f->store, key, "CHG-1", id);
        free(r.entry);
    }
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    for (int i = 3; i < 6; i++) {
        snprintf(key, sizeof key, "k%d", i);
        snprintf(id, sizeof id, "e%d", i);
        cairn_ledger_append_t r = s_append_in(f->store, key, "CHG-1", id);
        free(r.entry);
    }
    assert_int_equal(cairn_ledger_store_commit(f->store), 0);

    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_store_read(f->store, 0, 100, s_collect, &es), 0);
    assert_int_equal(es.n, 6);
    uint8_t prev[32] = {0}, expect[32];
    for (size_t i = 0; i < es.n; i++) {
        Cairn__V1__Entry *e = es.items[i];
        assert_memory_equal(e->prev_hash.data, prev, 32);
        s_expected_hash(prev, e->record.data, e->record.len, expect);
        assert_memory_equal(e->hash.data, expect, 32);
        memcpy(prev, e->hash.data, 32);
    }
    uint8_t tip[32];
    cairn_ledger_store_last_hash(f->store, tip);
    assert_memory_equal(tip, prev, 32);
    assert_int_equal(cairn_ledger_store_verify(f->store), 0);
    s_entries_free(&es);
}

static void test_a_change_reads_back_in_log_order(void **state)
{
    s_fixture_t *f = *state;
    char long_change[700];
    memset(long_change, 'x', sizeof long_change - 1);
    long_change[sizeof long_change - 1] = '\0';
    const char *changes[] = {"CHG-1", "CHG-2", "CHG-1", "", "CHG-1", long_change, "CHG-2"};
    char id[16];
    /* More than 256 entries so index order and byte order must agree past one byte. */
    for (int round = 0; round < 40; round++) {
        assert_int_equal(cairn_ledger_store_begin(f->store), 0);
        for (size_t i = 0; i < 7; i++) {
            snprintf(id, sizeof id, "e%d-%zu", round, i);
            cairn_ledger_append_t r = s_append_in(f->store, NULL, changes[i], id);
            free(r.entry);
        }
        assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    }
    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_store_by_change(f->store, "CHG-1", s_collect, &es), 0);
    assert_int_equal(es.n, 120);
    uint64_t last = 0;
    for (size_t i = 0; i < es.n; i++) {
        assert_string_equal(es.items[i]->change_id, "CHG-1");
        assert_true(i == 0 || es.items[i]->index > last);
        uint64_t pos = es.items[i]->index % 7;
        assert_true(pos == 0 || pos == 2 || pos == 4);
        last = es.items[i]->index;
    }
    assert_true(last > 256);
    s_entries_free(&es);

    es.stop_after = 5;
    assert_int_equal(cairn_ledger_store_by_change(f->store, "CHG-2", s_collect, &es), 0);
    assert_int_equal(es.n, 5);
    s_entries_free(&es);

    es.stop_after = 0;
    assert_int_equal(cairn_ledger_store_by_change(f->store, long_change, s_collect, &es), 0);
    assert_int_equal(es.n, 40);
    assert_int_equal(es.items[0]->index, 5);
    assert_string_equal(es.items[0]->change_id, long_change);
    s_entries_free(&es);

    assert_int_equal(cairn_ledger_store_by_change(f->store, "CHG-9", s_collect, &es), 0);
    assert_int_equal(es.n, 0);
    assert_int_equal(cairn_ledger_store_by_change(f->store, "", s_collect, &es), 0);
    assert_int_equal(es.n, 0);
}

static void test_replay_reads_the_asked_page(void **state)
{
    s_fixture_t *f = *state;
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    for (int i = 0; i < 10; i++) {
        cairn_ledger_append_t r = s_append_in(f->store, NULL, "CHG-1", "e");
        free(r.entry);
    }
    assert_int_equal(cairn_ledger_store_commit(f->store), 0);

    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_store_read(f->store, 3, 4, s_collect, &es), 0);
    assert_int_equal(es.n, 4);
    assert_int_equal(es.items[0]->index, 3);
    assert_int_equal(es.items[3]->index, 6);
    s_entries_free(&es);

    assert_int_equal(cairn_ledger_store_read(f->store, 8, 10, s_collect, &es), 0);
    assert_int_equal(es.n, 2);
    assert_int_equal(es.items[1]->index, 9);
    s_entries_free(&es);

    assert_int_equal(cairn_ledger_store_read(f->store, 10, 5, s_collect, &es), 0);
    assert_int_equal(es.n, 0);
    assert_int_equal(cairn_ledger_store_read(f->store, UINT64_MAX, 5, s_collect, &es), 0);
    assert_int_equal(es.n, 0);

    es.stop_after = 2;
    assert_int_equal(cairn_ledger_store_read(f->store, 0, 10, s_collect, &es), 0);
    assert_int_equal(es.n, 2);
    s_entries_free(&es);
}

static void test_reopening_keeps_entries_keys_and_tip(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_append_t r;
    for (int i = 0; i < 3; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", i);
        r = s_append(f->store, key, "CHG-1", key);
        free(r.entry);
    }
    uint8_t tip[32], tip_after[32];
    cairn_ledger_store_last_hash(f->store, tip);
    cairn_ledger_store_destroy(&f->store);
    assert_null(f->store);

    assert_int_equal(cairn_ledger_store_open(f->dir, S_MAP_SIZE, &f->store), 0);
    assert_int_equal(cairn_ledger_store_size(f->store), 3);
    cairn_ledger_store_last_hash(f->store, tip_after);
    assert_memory_equal(tip, tip_after, 32);
    assert_int_equal(cairn_ledger_store_verify(f->store), 0);

    r = s_append(f->store, "k1", "CHG-1", "k1");
    assert_true(r.duplicate);
    assert_int_equal(r.index, 1);

    r = s_append(f->store, "k3", "CHG-1", "k3");
    assert_int_equal(r.index, 3);
    Cairn__V1__Entry *e = NULL;
    assert_int_equal(cairn_codec_entry_unpack(r.entry, r.entry_len, &e), 0);
    assert_memory_equal(e->prev_hash.data, tip, 32);
    CAIRN_CODEC_FREE(&e);
    free(r.entry);

    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_store_by_change(f->store, "CHG-1", s_collect, &es), 0);
    assert_int_equal(es.n, 4);
    s_entries_free(&es);
}

static void test_an_aborted_batch_leaves_no_trace(void **state)
{
    s_fixture_t *f = *state;
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    cairn_ledger_append_t r = s_append_in(f->store, "k1", "CHG-1", "e1");
    free(r.entry);
    cairn_ledger_store_abort(f->store);
    assert_int_equal(cairn_ledger_store_size(f->store), 0);
    uint64_t index;
    assert_int_equal(cairn_ledger_store_find_key(f->store, "k1", &index), CAIRN_ENOTFOUND);

    r = s_append(f->store, "k1", "CHG-1", "e1");
    assert_false(r.duplicate);
    assert_int_equal(r.index, 0);
    free(r.entry);
    assert_int_equal(cairn_ledger_store_verify(f->store), 0);
}

/* Rewrites one meta or entry value behind the store's back. */
static void s_tamper(const char *dir, const char *dbname, const void *key, size_t klen,
                     const void *val, size_t vlen)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    assert_int_equal(cairn_lmdb_open(dir, S_MAP_SIZE, 4, &env), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, dbname, 0, &dbi), 0);
    MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void test_a_tip_that_does_not_match_the_last_entry_is_refused(void **state)
{
    s_fixture_t *f = *state;
    for (int i = 0; i < 2; i++) {
        cairn_ledger_append_t r = s_append(f->store, NULL, "CHG-1", "e");
        free(r.entry);
    }
    uint8_t tip[32];
    cairn_ledger_store_last_hash(f->store, tip);
    cairn_ledger_store_destroy(&f->store);

    uint8_t bad[32];
    memcpy(bad, tip, 32);
    bad[0] ^= 1;
    s_tamper(f->dir, "meta", "last_hash", 9, bad, 32);
    assert_int_equal(cairn_ledger_store_open(f->dir, S_MAP_SIZE, &f->store), CAIRN_EINTEGRITY);
    assert_null(f->store);

    s_tamper(f->dir, "meta", "last_hash", 9, tip, 32);
    uint8_t size_be[8];
    cairn_u64_to_key(5, size_be);
    s_tamper(f->dir, "meta", "size", 4, size_be, 8);
    assert_int_equal(cairn_ledger_store_open(f->dir, S_MAP_SIZE, &f->store), CAIRN_EINTEGRITY);

    cairn_u64_to_key(2, size_be);
    s_tamper(f->dir, "meta", "size", 4, size_be, 8);
    assert_int_equal(cairn_ledger_store_open(f->dir, S_MAP_SIZE, &f->store), 0);
}

static void test_a_rewritten_old_record_fails_verification(void **state)
{
    s_fixture_t *f = *state;
    for (int i = 0; i < 3; i++) {
        cairn_ledger_append_t r = s_append(f->store, NULL, "CHG-1", "e");
        free(r.entry);
    }
    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_store_read(f->store, 0, 1, s_collect, &es), 0);
    cairn_ledger_store_destroy(&f->store);

    /* Entry 0 with a different record but its old hashes. */
    uint8_t *record = NULL, *packed = NULL;
    size_t rlen = 0, plen = 0;
    s_event_record("dev.cdevents.change.created.0.4.0", "CHG-1", "forged", &record, &rlen);
    ProtobufCBinaryData original = es.items[0]->record;
    es.items[0]->record.data = record;
    es.items[0]->record.len = rlen;
    assert_int_equal(cairn_codec_pack(&es.items[0]->base, &packed, &plen), 0);
    es.items[0]->record = original;
    uint8_t key[8];
    cairn_u64_to_key(0, key);
    s_tamper(f->dir, "entries", key, 8, packed, plen);

    /* The tip still verifies, so the store opens; the full walk does not. */
    assert_int_equal(cairn_ledger_store_open(f->dir, S_MAP_SIZE, &f->store), 0);
    assert_int_equal(cairn_ledger_store_verify(f->store), CAIRN_EINTEGRITY);
    free(record);
    free(packed);
    s_entries_free(&es);
}

static void test_a_full_store_fails_the_whole_batch_and_stays_usable(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_store_destroy(&f->store);
    assert_int_equal(cairn_ledger_store_open(f->dir, 1024 * 1024, &f->store), 0);

    enum { BIG = 64 * 1024 };
    uint8_t *big = calloc(1, BIG);
    assert_non_null(big);
    cairn_ledger_record_t in = {.topic = "dev.big", .record = big, .record_len = BIG};
    cairn_ledger_append_t r;
    /* Fill the map one committed entry at a time until LMDB refuses. */
    int rc = 0;
    uint64_t committed = 0;
    while (rc == 0 && committed < 64) {
        assert_int_equal(cairn_ledger_store_begin(f->store), 0);
        rc = cairn_ledger_store_append(f->store, &in, &r);
        if (rc == 0) {
            free(r.entry);
            rc = cairn_ledger_store_commit(f->store);
        }
        if (rc == 0)
            committed++;
    }
    assert_int_equal(rc, CAIRN_ESTORE);
    assert_true(cairn_ledger_store_full(f->store));
    assert_true(committed > 0);
    assert_int_equal(cairn_ledger_store_size(f->store), committed);

    /* A batch with a small entry before the one that does not fit keeps nothing. */
    cairn_ledger_store_abort(f->store);
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    r = s_append_in(f->store, "small", "CHG-1", "e");
    free(r.entry);
    rc = cairn_ledger_store_append(f->store, &in, &r);
    if (rc == 0) {
        free(r.entry);
        rc = cairn_ledger_store_commit(f->store);
    } else {
        assert_int_equal(cairn_ledger_store_commit(f->store), CAIRN_ESTORE);
    }
    assert_int_equal(rc, CAIRN_ESTORE);
    assert_int_equal(cairn_ledger_store_size(f->store), committed);
    uint64_t index;
    assert_int_equal(cairn_ledger_store_find_key(f->store, "small", &index), CAIRN_ENOTFOUND);
    assert_int_equal(cairn_ledger_store_verify(f->store), 0);
    free(big);

    /* Reopened, everything committed is intact. */
    cairn_ledger_store_destroy(&f->store);
    assert_int_equal(cairn_ledger_store_open(f->dir, S_MAP_SIZE, &f->store), 0);
    assert_int_equal(cairn_ledger_store_size(f->store), committed);
    assert_int_equal(cairn_ledger_store_verify(f->store), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_an_appended_record_reads_back_byte_for_byte, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_repeated_key_returns_the_original_index, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_each_hash_chains_from_the_previous_entry, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_change_reads_back_in_log_order, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_replay_reads_the_asked_page, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reopening_keeps_entries_keys_and_tip, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_an_aborted_batch_leaves_no_trace, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_tip_that_does_not_match_the_last_entry_is_refused,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_rewritten_old_record_fails_verification, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_full_store_fails_the_whole_batch_and_stays_usable,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
