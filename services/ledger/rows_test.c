/* The batch's grouped index rows: what they store equals one put per row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "rows.h"
#include "testutil.h"

typedef struct {
    char dir[64];
    MDB_env *env;
    MDB_dbi dups, plain;         /* written through rows */
    MDB_dbi ref_dups, ref_plain; /* the same rows, one put each */
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    MDB_txn *txn = NULL;
    lt_mkdtemp(f->dir, "cairn-rows");
    assert_int_equal(mdb_env_create(&f->env), 0);
    assert_int_equal(mdb_env_set_maxdbs(f->env, 4), 0);
    assert_int_equal(mdb_env_set_mapsize(f->env, LT_MAP_SIZE), 0);
    assert_int_equal(mdb_env_open(f->env, f->dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(f->env, NULL, 0, &txn), 0);
    const unsigned dup = MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED;
    assert_int_equal(mdb_dbi_open(txn, "dups", dup, &f->dups), 0);
    assert_int_equal(mdb_dbi_open(txn, "ref_dups", dup, &f->ref_dups), 0);
    assert_int_equal(mdb_dbi_open(txn, "plain", MDB_CREATE, &f->plain), 0);
    assert_int_equal(mdb_dbi_open(txn, "ref_plain", MDB_CREATE, &f->ref_plain), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    mdb_env_close(f->env);
    lt_rmtree(f->dir);
    free(f);
    return 0;
}

/* Asserts that two databases hold exactly the same keys and values. */
static void s_assert_same(MDB_txn *txn, MDB_dbi a, MDB_dbi b, size_t expect_rows)
{
    MDB_cursor *ca = NULL, *cb = NULL;
    MDB_val ka, va, kb, vb;
    size_t rows = 0;
    assert_int_equal(mdb_cursor_open(txn, a, &ca), 0);
    assert_int_equal(mdb_cursor_open(txn, b, &cb), 0);
    int ra = mdb_cursor_get(ca, &ka, &va, MDB_FIRST), rb = mdb_cursor_get(cb, &kb, &vb, MDB_FIRST);
    while (ra == 0 && rb == 0) {
        assert_int_equal(ka.mv_size, kb.mv_size);
        assert_memory_equal(ka.mv_data, kb.mv_data, ka.mv_size);
        assert_int_equal(va.mv_size, vb.mv_size);
        assert_memory_equal(va.mv_data, vb.mv_data, va.mv_size);
        rows++;
        ra = mdb_cursor_get(ca, &ka, &va, MDB_NEXT);
        rb = mdb_cursor_get(cb, &kb, &vb, MDB_NEXT);
    }
    assert_int_equal(ra, MDB_NOTFOUND);
    assert_int_equal(rb, MDB_NOTFOUND);
    assert_int_equal(rows, expect_rows);
    mdb_cursor_close(ca);
    mdb_cursor_close(cb);
}

/* Adds index under key both through rows and directly. */
static void s_add(s_fixture_t *f, cairn_ledger_rows_t *rows, MDB_txn *txn, bool dups,
                  const char *key, uint64_t index)
{
    uint8_t vb[8];
    MDB_val k = {strlen(key), (void *)key}, v = {8, vb};
    cairn_u64_to_key(index, vb);
    assert_int_equal(cairn_ledger_rows_add(rows, dups ? f->dups : f->plain,
                                           dups ? CAIRN_LEDGER_ROWS_DUPS : CAIRN_LEDGER_ROWS_LAST,
                                           &k, index),
                     0);
    assert_int_equal(mdb_put(txn, dups ? f->ref_dups : f->ref_plain, &k, &v, 0), 0);
}

static void test_grouped_rows_store_what_one_put_each_stores(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_rows_t *rows = cairn_ledger_rows_new();
    char key[32];
    uint64_t index = 0;
    size_t dup_rows = 0;
    assert_non_null(rows);
    /* Three batches over the same keys, so later batches append to stored
     * duplicates; enough distinct keys that the table grows. */
    for (int batch = 0; batch < 3; batch++) {
        MDB_txn *txn = NULL;
        assert_int_equal(mdb_txn_begin(f->env, NULL, 0, &txn), 0);
        for (int i = 0; i < 700; i++, index++) {
            snprintf(key, sizeof key, "a%d", i % 300);
            s_add(f, rows, txn, true, key, index);
            s_add(f, rows, txn, true, i % 2 ? "topic-odd" : "topic-even", index);
            snprintf(key, sizeof key, "c%d", i % 97);
            s_add(f, rows, txn, false, key, index);
            dup_rows += 2;
        }
        assert_int_equal(cairn_ledger_rows_count(rows), 700 * 3);
        assert_int_equal(cairn_ledger_rows_write(rows, txn), 0);
        assert_int_equal(cairn_ledger_rows_count(rows), 0);
        assert_int_equal(mdb_txn_commit(txn), 0);
    }
    MDB_txn *txn = NULL;
    assert_int_equal(mdb_txn_begin(f->env, NULL, MDB_RDONLY, &txn), 0);
    s_assert_same(txn, f->dups, f->ref_dups, dup_rows);
    s_assert_same(txn, f->plain, f->ref_plain, 97);
    mdb_txn_abort(txn);
    cairn_ledger_rows_destroy(&rows);
    assert_null(rows);
}

static void test_last_gives_the_newest_index_of_a_key_until_written(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_rows_t *rows = cairn_ledger_rows_new();
    MDB_val a = {5, "CHG-1"}, b = {5, "CHG-2"}, other = {5, "CHG-3"};
    uint64_t index = 0;
    assert_false(cairn_ledger_rows_last(rows, f->plain, &a, &index));
    assert_int_equal(cairn_ledger_rows_add(rows, f->plain, CAIRN_LEDGER_ROWS_LAST, &a, 4), 0);
    assert_int_equal(cairn_ledger_rows_add(rows, f->plain, CAIRN_LEDGER_ROWS_LAST, &b, 5), 0);
    assert_int_equal(cairn_ledger_rows_add(rows, f->plain, CAIRN_LEDGER_ROWS_LAST, &a, 9), 0);
    assert_true(cairn_ledger_rows_last(rows, f->plain, &a, &index));
    assert_int_equal(index, 9);
    assert_true(cairn_ledger_rows_last(rows, f->plain, &b, &index));
    assert_int_equal(index, 5);
    assert_false(cairn_ledger_rows_last(rows, f->plain, &other, &index));
    /* The same key in another database is another row. */
    assert_false(cairn_ledger_rows_last(rows, f->dups, &a, &index));
    /* Indexes of a key only grow. */
    assert_int_equal(cairn_ledger_rows_add(rows, f->plain, CAIRN_LEDGER_ROWS_LAST, &a, 9),
                     CAIRN_EINTERNAL);
    cairn_ledger_rows_clear(rows);
    assert_int_equal(cairn_ledger_rows_count(rows), 0);
    assert_false(cairn_ledger_rows_last(rows, f->plain, &a, &index));
    cairn_ledger_rows_destroy(&rows);
}

static void test_a_row_below_the_stored_duplicates_fails_the_write(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_rows_t *rows = cairn_ledger_rows_new();
    MDB_txn *txn = NULL;
    MDB_val k = {1, "t"};
    assert_int_equal(mdb_txn_begin(f->env, NULL, 0, &txn), 0);
    assert_int_equal(cairn_ledger_rows_add(rows, f->dups, CAIRN_LEDGER_ROWS_DUPS, &k, 10), 0);
    assert_int_equal(cairn_ledger_rows_write(rows, txn), 0);
    /* A later batch that claims an older index is refused, not sorted in. */
    assert_int_equal(cairn_ledger_rows_add(rows, f->dups, CAIRN_LEDGER_ROWS_DUPS, &k, 3), 0);
    assert_int_equal(cairn_ledger_rows_write(rows, txn), MDB_KEYEXIST);
    mdb_txn_abort(txn);
    cairn_ledger_rows_destroy(&rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_grouped_rows_store_what_one_put_each_stores, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_last_gives_the_newest_index_of_a_key_until_written,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_row_below_the_stored_duplicates_fails_the_write,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
