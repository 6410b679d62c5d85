/* The in-memory idempotency index: every index under its hash, removals,
 * colliding hashes, growth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keymap.h"

typedef struct {
    uint64_t seen[8];
    size_t n;
    uint64_t stop_at; /* return 1 when this index is seen (UINT64_MAX: never) */
} s_found_t;

static int s_collect(void *arg, uint64_t index)
{
    s_found_t *f = arg;
    assert_true(f->n < 8);
    f->seen[f->n++] = index;
    return index == f->stop_at ? 1 : 0;
}

static bool s_has(const s_found_t *f, uint64_t index)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->seen[i] == index)
            return true;
    return false;
}

/* Looks for one index under a hash, counting what it passes. */
typedef struct {
    uint64_t want;
    size_t seen;
} s_look_t;

static int s_look(void *arg, uint64_t index)
{
    s_look_t *l = arg;
    l->seen++;
    return index == l->want ? 1 : 0;
}

static void test_every_index_is_found_under_its_hash_after_growing(void **state)
{
    (void)state;
    cairn_ledger_keymap_t *m = cairn_ledger_keymap_new();
    enum { N = 100000 };
    char key[32];
    assert_non_null(m);
    for (uint64_t i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%llu", (unsigned long long)i);
        assert_int_equal(
            cairn_ledger_keymap_add(m, cairn_ledger_keymap_hash(m, key, strlen(key)), i), 0);
        /* While a full table is emptied into a larger one, older keys are
         * found in either. */
        if (i % 7 == 0) {
            s_look_t l = {.want = i / 2};
            snprintf(key, sizeof key, "key-%llu", (unsigned long long)(i / 2));
            assert_int_equal(cairn_ledger_keymap_find(
                                 m, cairn_ledger_keymap_hash(m, key, strlen(key)), s_look, &l),
                             1);
            assert_int_equal(cairn_ledger_keymap_count(m), i + 1);
        }
    }
    assert_int_equal(cairn_ledger_keymap_count(m), N);
    /* At most 70 % full, 16 bytes a slot. */
    assert_true(cairn_ledger_keymap_bytes(m) * 7 >= (size_t)N * 16 * 10);
    for (uint64_t i = 0; i < N; i += 997) {
        s_found_t f = {.stop_at = UINT64_MAX};
        snprintf(key, sizeof key, "key-%llu", (unsigned long long)i);
        assert_int_equal(cairn_ledger_keymap_find(m, cairn_ledger_keymap_hash(m, key, strlen(key)),
                                                  s_collect, &f),
                         0);
        assert_true(s_has(&f, i));
    }
    s_found_t none = {.stop_at = UINT64_MAX};
    assert_int_equal(
        cairn_ledger_keymap_find(m, cairn_ledger_keymap_hash(m, "unseen", 6), s_collect, &none), 0);
    assert_int_equal(none.n, 0);
    cairn_ledger_keymap_destroy(&m);
    assert_null(m);
}

static void test_colliding_hashes_keep_every_index_and_find_stops_when_asked(void **state)
{
    (void)state;
    cairn_ledger_keymap_t *m = cairn_ledger_keymap_new();
    /* One hash for three entries, as two keys that collide would have. */
    assert_int_equal(cairn_ledger_keymap_add(m, 42, 7), 0);
    assert_int_equal(cairn_ledger_keymap_add(m, 43, 8), 0);
    assert_int_equal(cairn_ledger_keymap_add(m, 42, 9), 0);
    assert_int_equal(cairn_ledger_keymap_add(m, 42, 0), 0);
    s_found_t f = {.stop_at = UINT64_MAX};
    assert_int_equal(cairn_ledger_keymap_find(m, 42, s_collect, &f), 0);
    assert_int_equal(f.n, 3);
    assert_true(s_has(&f, 7) && s_has(&f, 9) && s_has(&f, 0));
    s_found_t g = {.stop_at = 9};
    assert_int_equal(cairn_ledger_keymap_find(m, 42, s_collect, &g), 1);
    assert_true(g.n <= 3);
    cairn_ledger_keymap_destroy(&m);
}

static void test_removed_indexes_are_gone_and_the_rest_stay(void **state)
{
    (void)state;
    cairn_ledger_keymap_t *m = cairn_ledger_keymap_new();
    for (uint64_t i = 0; i < 5000; i++)
        assert_int_equal(cairn_ledger_keymap_add(m, i % 50, i), 0);
    /* An abandoned batch: its last 1000 indexes go. */
    for (uint64_t i = 4000; i < 5000; i++)
        cairn_ledger_keymap_remove(m, i % 50, i);
    cairn_ledger_keymap_remove(m, 12345, 1); /* absent: nothing happens */
    assert_int_equal(cairn_ledger_keymap_count(m), 4000);
    for (uint64_t i = 0; i < 5000; i++) {
        s_look_t l = {.want = i};
        assert_int_equal(cairn_ledger_keymap_find(m, i % 50, s_look, &l), i < 4000 ? 1 : 0);
    }
    /* Every hash still holds exactly its 80 kept indexes. */
    s_look_t all = {.want = UINT64_MAX};
    assert_int_equal(cairn_ledger_keymap_find(m, 7, s_look, &all), 0);
    assert_int_equal(all.seen, 80);
    /* Adding after removals (tombstones) and growing keeps everything. */
    for (uint64_t i = 5000; i < 40000; i++)
        assert_int_equal(cairn_ledger_keymap_add(m, i, i), 0);
    assert_int_equal(cairn_ledger_keymap_count(m), 39000);
    s_look_t again = {.want = 3999};
    assert_int_equal(cairn_ledger_keymap_find(m, 3999 % 50, s_look, &again), 1);
    cairn_ledger_keymap_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_index_is_found_under_its_hash_after_growing),
        cmocka_unit_test(test_colliding_hashes_keep_every_index_and_find_stops_when_asked),
        cmocka_unit_test(test_removed_indexes_are_gone_and_the_rest_stay),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
