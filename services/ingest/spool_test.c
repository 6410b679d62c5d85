/* Tests for the spool: first in, first out; a key waiting is recognized;
 * the limits; removal; refused items set aside; and everything (sequence
 * numbers included) survives closing and reopening. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "spool.h"

typedef struct {
    char dir[64];                /* the spool's directory */
    cairn_ingest_spool_t *spool; /* under test */
} s_fixture_t;

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-spool-test-XXXXXX");
    *state = f;
    if (!mkdtemp(f->dir))
        return -1;
    return cairn_ingest_spool_open(f->dir, 4, 1000, &f->spool);
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_ingest_spool_destroy(&f->spool);
    nftw(f->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static uint64_t s_put(s_fixture_t *f, const char *key, const char *req, bool *dup)
{
    uint64_t seq = 99;
    bool d = false;
    assert_int_equal(
        cairn_ingest_spool_put(f->spool, key, (const uint8_t *)req, strlen(req), 1000, &seq, &d),
        0);
    if (dup)
        *dup = d;
    return seq;
}

static void items_come_out_in_the_order_they_went_in(void **state)
{
    s_fixture_t *f = *state;
    assert_true(cairn_ingest_spool_empty(f->spool));
    assert_int_equal(s_put(f, "k1", "first", NULL), 0);
    assert_int_equal(s_put(f, "k2", "second", NULL), 1);
    assert_int_equal(s_put(f, "k3", "third", NULL), 2);
    assert_false(cairn_ingest_spool_empty(f->spool));
    cairn_ingest_spooled_t items[8];
    size_t n = 0;
    assert_int_equal(cairn_ingest_spool_peek(f->spool, items, 2, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(items[0].seq, 0);
    assert_int_equal(items[0].len, 5);
    assert_memory_equal(items[0].request, "first", 5);
    assert_int_equal(items[1].seq, 1);
    assert_int_equal(items[0].queued_ms, 1000);
    uint64_t done[] = {items[0].seq, items[1].seq};
    for (size_t i = 0; i < n; i++)
        cairn_ingest_spooled_clear(&items[i]);
    assert_int_equal(cairn_ingest_spool_remove(f->spool, done, 2), 0);
    assert_int_equal(cairn_ingest_spool_peek(f->spool, items, 8, &n), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(items[0].request, "third", 5);
    cairn_ingest_spooled_clear(&items[0]);
    cairn_ingest_spool_stats_t st;
    cairn_ingest_spool_stats(f->spool, &st);
    assert_int_equal(st.depth, 1);
    assert_int_equal(st.bytes, 5);
    assert_int_equal(st.next_seq, 3);
    assert_int_equal(st.oldest_ms, 1000);
}

static void a_key_still_waiting_is_a_duplicate_and_free_again_once_removed(void **state)
{
    s_fixture_t *f = *state;
    bool dup = false;
    assert_int_equal(s_put(f, "ce:/ci\nx", "a", &dup), 0);
    assert_false(dup);
    assert_int_equal(s_put(f, "ce:/ci\nx", "a again", &dup), 0);
    assert_true(dup);
    cairn_ingest_spool_stats_t st;
    cairn_ingest_spool_stats(f->spool, &st);
    assert_int_equal(st.depth, 1);
    uint64_t seq = 0;
    assert_int_equal(cairn_ingest_spool_remove(f->spool, &seq, 1), 0);
    assert_int_equal(s_put(f, "ce:/ci\nx", "a", &dup), 1);
    assert_false(dup);
}

static void a_full_spool_refuses_with_ebusy(void **state)
{
    s_fixture_t *f = *state;
    for (int i = 0; i < 4; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", i);
        s_put(f, key, "x", NULL);
    }
    uint64_t seq = 0;
    bool dup = false;
    assert_int_equal(cairn_ingest_spool_put(f->spool, "k9", (const uint8_t *)"x", 1, 1, &seq, &dup),
                     CAIRN_EBUSY);
    /* a redelivery of one already waiting is still recognized */
    assert_int_equal(cairn_ingest_spool_put(f->spool, "k2", (const uint8_t *)"x", 1, 1, &seq, &dup),
                     0);
    assert_true(dup);
    assert_int_equal(seq, 2);
    /* the byte limit (1000) counts too */
    uint64_t first = 0;
    assert_int_equal(cairn_ingest_spool_remove(f->spool, &first, 1), 0);
    char big[1001];
    memset(big, 'b', sizeof big);
    assert_int_equal(
        cairn_ingest_spool_put(f->spool, "big", (const uint8_t *)big, sizeof big, 1, &seq, &dup),
        CAIRN_EBUSY);
}

static void a_refused_item_is_set_aside_and_no_longer_waits(void **state)
{
    s_fixture_t *f = *state;
    s_put(f, "k1", "bad", NULL);
    s_put(f, "k2", "good", NULL);
    assert_int_equal(cairn_ingest_spool_bury(f->spool, 0, "the ledger said no"), 0);
    cairn_ingest_spooled_t items[4];
    size_t n = 0;
    assert_int_equal(cairn_ingest_spool_peek(f->spool, items, 4, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(items[0].seq, 1);
    cairn_ingest_spooled_clear(&items[0]);
    cairn_ingest_spool_stats_t st;
    cairn_ingest_spool_stats(f->spool, &st);
    assert_int_equal(st.depth, 1);
    assert_int_equal(st.dead, 1);
}

static void the_spool_survives_a_restart(void **state)
{
    s_fixture_t *f = *state;
    s_put(f, "k1", "one", NULL);
    s_put(f, "k2", "two", NULL);
    uint64_t seq = 0;
    assert_int_equal(cairn_ingest_spool_remove(f->spool, &seq, 1), 0);
    cairn_ingest_spool_destroy(&f->spool);
    assert_int_equal(cairn_ingest_spool_open(f->dir, 4, 1000, &f->spool), 0);
    cairn_ingest_spool_stats_t st;
    cairn_ingest_spool_stats(f->spool, &st);
    assert_int_equal(st.depth, 1);
    assert_int_equal(st.bytes, 3);
    assert_int_equal(st.next_seq, 2);
    bool dup = false;
    /* the waiting key is still known; sequence numbers go on from 2 */
    assert_int_equal(s_put(f, "k2", "two", &dup), 1);
    assert_true(dup);
    assert_int_equal(s_put(f, "k3", "three", &dup), 2);
    assert_false(dup);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(items_come_out_in_the_order_they_went_in),
        T(a_key_still_waiting_is_a_duplicate_and_free_again_once_removed),
        T(a_full_spool_refuses_with_ebusy),
        T(a_refused_item_is_set_aside_and_no_longer_waits),
        T(the_spool_survives_a_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
