/* Tests for the region allocator: memory is zeroed, aligned and kept apart,
 * the latest allocation grows in place, formatted strings of any size are
 * whole, and a reset arena is reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdalign.h>
#include <string.h>

#include "arena.h"

static void allocations_are_zeroed_aligned_and_apart(void **state)
{
    (void)state;
    cairn_arena_t *a = cairn_arena_new();
    char *prev = NULL;
    for (size_t size = 1; size < 70000; size = size * 3 + 1) {
        char *p = cairn_arena_alloc(a, size);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
        for (size_t i = 0; i < size; i++)
            assert_int_equal(p[i], 0);
        memset(p, 0xab, size);
        if (prev)
            assert_int_equal((unsigned char)prev[0], 0xab);
        prev = p;
    }
    cairn_arena_destroy(&a);
    assert_null(a);
    cairn_arena_destroy(&a);
}

static void the_latest_allocation_grows_in_place(void **state)
{
    (void)state;
    cairn_arena_t *a = cairn_arena_new();
    int *v = cairn_arena_grow(a, NULL, 0, 4 * sizeof *v);
    v[3] = 7;
    int *w = cairn_arena_grow(a, v, 4 * sizeof *v, 8 * sizeof *v);
    assert_ptr_equal(v, w);
    assert_int_equal(w[3], 7);
    assert_int_equal(w[7], 0);
    char *s = cairn_arena_strdup(a, "between");
    int *x = cairn_arena_grow(a, w, 8 * sizeof *w, 16 * sizeof *w);
    assert_ptr_not_equal(x, w);
    assert_int_equal(x[3], 7);
    assert_int_equal(x[15], 0);
    assert_string_equal(s, "between");
    cairn_arena_destroy(&a);
}

static void strings_of_any_size_are_whole(void **state)
{
    (void)state;
    cairn_arena_t *a = cairn_arena_new();
    char big[20000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int round = 0; round < 3; round++) {
        char *s = cairn_arena_printf(a, "%s needs %u more", "peer", 2u);
        assert_string_equal(s, "peer needs 2 more");
        char *t = cairn_arena_printf(a, "<%s>", big);
        assert_int_equal(strlen(t), sizeof big + 1);
        assert_int_equal(t[0], '<');
        assert_int_equal(t[sizeof big], '>');
        assert_string_equal(cairn_arena_concat(a, "after:", "build"), "after:build");
        assert_string_equal(cairn_arena_strndup(a, "abcdef", 3), "abc");
        assert_string_equal(s, "peer needs 2 more");
        cairn_arena_reset(a);
    }
    cairn_arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allocations_are_zeroed_aligned_and_apart),
        cmocka_unit_test(the_latest_allocation_grows_in_place),
        cmocka_unit_test(strings_of_any_size_are_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
