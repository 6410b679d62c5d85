/* Tests for `cairn up`'s restart schedule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "commands.h"

static void restarts_back_off_from_200ms_doubling_to_10s(void **state)
{
    (void)state;
    const int64_t want[] = {200, 400, 800, 1600, 3200, 6400, 10000, 10000};
    int64_t delay = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        delay = cli_up_backoff_ms(delay, 50);
        assert_int_equal(delay, want[i]);
    }
}

static void a_child_that_stayed_up_30s_starts_over_at_200ms(void **state)
{
    (void)state;
    assert_int_equal(cli_up_backoff_ms(10000, 30000), 200);
    assert_int_equal(cli_up_backoff_ms(6400, 29999), 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(restarts_back_off_from_200ms_doubling_to_10s),
        cmocka_unit_test(a_child_that_stayed_up_30s_starts_over_at_200ms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
