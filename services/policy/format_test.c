/* Tests for sentence formatting: every conversion the direct path writes
 * gives exactly what vsnprintf gives, truncated or not, and anything else is
 * left to vsnprintf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

/* Formats with both and compares text and return value, at every size. */
#define S_SAME(...)                                                                                \
    do {                                                                                           \
        char want[256], got[256];                                                                  \
        int wn = snprintf(want, sizeof want, __VA_ARGS__);                                         \
        int gn = cairn_format(got, sizeof got, __VA_ARGS__);                                       \
        assert_int_equal(gn, wn);                                                                  \
        assert_string_equal(got, want);                                                            \
        for (size_t len = 0; len < (size_t)wn + 2; len++) {                                        \
            char a[256], b[256];                                                                   \
            memset(a, 'x', sizeof a);                                                              \
            memset(b, 'x', sizeof b);                                                              \
            assert_int_equal(cairn_format(b, len, __VA_ARGS__), snprintf(a, len, __VA_ARGS__));    \
            assert_memory_equal(a, b, sizeof a);                                                   \
        }                                                                                          \
    } while (0)

static void the_direct_conversions_write_what_vsnprintf_writes(void **state)
{
    (void)state;
    S_SAME("plain text");
    S_SAME("%s", "");
    S_SAME("%s needs %u more approval%s from %s (%u of %u given)%s", "peer", 1u, "", "dev", 0u, 1u,
           "");
    S_SAME("%s approved commit %.12s, but %s is now at commit %.12s", "erin",
           "4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39", "CHG-1", "abc");
    S_SAME("%.12s|%.0s|%.3s", "short", "gone", "ab");
    S_SAME("%d %d %d", 0, -1, INT_MIN);
    S_SAME("%u %u", 0u, UINT_MAX);
    S_SAME("%ld %lu", LONG_MIN, ULONG_MAX);
    S_SAME("%lld %llu %lldh", LLONG_MIN, ULLONG_MAX, 72LL);
    S_SAME("%zu items, 100%%", (size_t)12345);
    S_SAME("ledger index %llu: %s%s", 18446744073709551615ull, "failed", " — a person must decide");
}

static void other_conversions_are_left_to_vsnprintf(void **state)
{
    (void)state;
    S_SAME("%g %s (at most %g allowed)", 0.5, "x", 1e6);
    S_SAME("%5s|%-4d|%x|%c", "ab", 7, 255u, 'q');
    S_SAME("%s %.2f", "coverage", 81.456);
}

static void a_double_prints_as_g_does(void **state)
{
    (void)state;
    const double values[] = {0,       -0.0, 1,      -1,   100,        999999, 1000000,
                             1e6 + 1, 0.5,  81.456, 1e-7, 12345678.0, -42.0,  3.0000001};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char want[64], got[64];
        int wn = snprintf(want, sizeof want, "%g", values[i]);
        assert_int_equal(cairn_format_g(got, sizeof got, values[i]), wn);
        assert_string_equal(got, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_direct_conversions_write_what_vsnprintf_writes),
        cmocka_unit_test(other_conversions_are_left_to_vsnprintf),
        cmocka_unit_test(a_double_prints_as_g_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
