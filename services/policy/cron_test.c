/* Tests for cron schedules: parsing (names, ranges, steps, lists, the
 * day-of-month / day-of-week rule) and finding occurrences in a zone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "cron.h"

static void fields_parse_with_names_ranges_steps_and_lists(void **state)
{
    (void)state;
    cairn_cron_t c;
    char err[256];
    assert_int_equal(cairn_cron_parse("0 18 * * FRI", &c, err, sizeof err), 0);
    assert_true(c.minutes == 1);
    assert_true(c.hours == 1u << 18);
    assert_true(c.wdays == 1u << 5);
    assert_true(cairn_cron_day_matches(&c, 11, 27, 5));
    assert_false(cairn_cron_day_matches(&c, 11, 26, 4));
    assert_int_equal(cairn_cron_parse("*/15 9-17 1,15 JAN-MAR mon-fri", &c, err, sizeof err), 0);
    assert_true(c.minutes == ((1ull << 0) | (1ull << 15) | (1ull << 30) | (1ull << 45)));
    assert_true(c.months == ((1u << 1) | (1u << 2) | (1u << 3)));
    /* Both day fields restricted: either matches (a Sunday the 1st, a Monday the 2nd). */
    assert_true(cairn_cron_day_matches(&c, 2, 1, 0));
    assert_true(cairn_cron_day_matches(&c, 2, 2, 1));
    assert_false(cairn_cron_day_matches(&c, 2, 7, 6));
    assert_false(cairn_cron_day_matches(&c, 4, 1, 1));
    /* 7 is Sunday too. */
    assert_int_equal(cairn_cron_parse("0 0 * * 7", &c, err, sizeof err), 0);
    assert_true(c.wdays == 1u);
    assert_int_equal(cairn_cron_parse("0 18 * FRI", &c, err, sizeof err), CAIRN_EPARSE);
    assert_int_equal(cairn_cron_parse("60 18 * * FRI", &c, err, sizeof err), CAIRN_EPARSE);
    assert_int_equal(cairn_cron_parse("0 18 * * FUN", &c, err, sizeof err), CAIRN_EPARSE);
    assert_int_equal(cairn_cron_parse("*/0 * * * *", &c, err, sizeof err), CAIRN_EPARSE);
}

static void occurrences_are_local_times_in_the_zone(void **state)
{
    (void)state;
    cairn_tz_t *tz = NULL;
    cairn_cron_t c;
    char err[256];
    assert_int_equal(cairn_tz_load("Europe/Berlin", &tz), 0);
    assert_int_equal(cairn_cron_parse("0 18 * * FRI", &c, err, sizeof err), 0);
    int64_t start = 0;
    /* Wednesday 2026-11-25 10:00Z: the last one was Friday 20 Nov 17:00Z. */
    assert_true(cairn_cron_last(&c, tz, 1795600800000LL, 7 * 86400000LL, &start));
    assert_int_equal(start, 1795194000000LL);
    assert_false(cairn_cron_last(&c, tz, 1795600800000LL, 86400000LL, &start));
    assert_true(cairn_cron_next(&c, tz, 1795600800000LL, 30, &start));
    assert_int_equal(start, 1795798800000LL); /* Fri 27 Nov 17:00Z = 18:00 CET */
    /* In summer time 18:00 local is 16:00Z. */
    assert_true(cairn_cron_next(&c, tz, 1792454400000LL, 30, &start));
    assert_int_equal(start, 1792771200000LL); /* Fri 23 Oct 2026 16:00Z */
    cairn_tz_destroy(&tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_parse_with_names_ranges_steps_and_lists),
        cmocka_unit_test(occurrences_are_local_times_in_the_zone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
