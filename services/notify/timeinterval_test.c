/* Tests for time intervals: times, weekdays, days of the month counted from
 * either end, months, years, and clocks read in an IANA zone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "timeinterval.h"

static int64_t s_t(const char *rfc3339)
{
    int64_t ms = 0;
    assert_int_equal(cairn_parse_time(rfc3339, &ms), 0);
    return ms;
}

static void office_hours_on_weekdays_are_start_inclusive_and_end_exclusive(void **state)
{
    char err[256];
    cairn_time_interval_t *ti = cairn_time_interval_new("office");
    cairn_time_spec_t *sp = NULL;
    assert_int_equal(cairn_time_interval_add_spec(ti, &sp), 0);
    assert_int_equal(cairn_time_spec_add_times(sp, "09:00", "17:00", err, sizeof err), 0);
    assert_int_equal(cairn_time_spec_add_weekdays(sp, "monday:friday", err, sizeof err), 0);
    /* 2026-11-25 is a Wednesday, 2026-11-28 a Saturday. */
    assert_true(cairn_time_interval_contains(ti, s_t("2026-11-25T09:00:00Z")));
    assert_true(cairn_time_interval_contains(ti, s_t("2026-11-25T16:59:59Z")));
    assert_false(cairn_time_interval_contains(ti, s_t("2026-11-25T17:00:00Z")));
    assert_false(cairn_time_interval_contains(ti, s_t("2026-11-25T08:59:59Z")));
    assert_false(cairn_time_interval_contains(ti, s_t("2026-11-28T12:00:00Z")));
    cairn_time_interval_destroy(&ti);
}

static void the_clock_is_read_in_the_location_of_the_spec(void **state)
{
    char err[256];
    cairn_time_interval_t *ti = cairn_time_interval_new("berlin");
    cairn_time_spec_t *sp = NULL;
    assert_int_equal(cairn_time_interval_add_spec(ti, &sp), 0);
    assert_int_equal(cairn_time_spec_add_times(sp, "09:00", "10:00", err, sizeof err), 0);
    assert_int_equal(cairn_time_spec_set_location(sp, "Europe/Berlin", err, sizeof err), 0);
    /* Winter: UTC+1; summer: UTC+2. */
    assert_true(cairn_time_interval_contains(ti, s_t("2026-01-15T08:30:00Z")));
    assert_false(cairn_time_interval_contains(ti, s_t("2026-01-15T09:30:00Z")));
    assert_true(cairn_time_interval_contains(ti, s_t("2026-07-15T07:30:00Z")));
    assert_false(cairn_time_interval_contains(ti, s_t("2026-07-15T08:30:00Z")));
    assert_int_equal(cairn_time_spec_set_location(sp, "Mars/Olympus", err, sizeof err),
                     CAIRN_EPARSE);
    assert_non_null(strstr(err, "unknown time zone"));
    cairn_time_interval_destroy(&ti);
}

static void days_of_month_count_from_the_end_and_specs_or_together(void **state)
{
    char err[256];
    cairn_time_interval_t *ti = cairn_time_interval_new("month-end-or-q1");
    cairn_time_spec_t *a = NULL, *b = NULL;
    assert_int_equal(cairn_time_interval_add_spec(ti, &a), 0);
    assert_int_equal(cairn_time_spec_add_days_of_month(a, "-3:-1", err, sizeof err), 0);
    assert_int_equal(cairn_time_interval_add_spec(ti, &b), 0);
    assert_int_equal(cairn_time_spec_add_months(b, "january:march", err, sizeof err), 0);
    assert_int_equal(cairn_time_spec_add_years(b, "2027", err, sizeof err), 0);
    assert_true(cairn_time_interval_contains(ti, s_t("2026-02-26T12:00:00Z"))); /* 28 days */
    assert_false(cairn_time_interval_contains(ti, s_t("2026-02-25T12:00:00Z")));
    assert_true(cairn_time_interval_contains(ti, s_t("2026-11-30T23:59:00Z")));
    assert_true(cairn_time_interval_contains(ti, s_t("2027-02-10T00:00:00Z")));
    assert_false(cairn_time_interval_contains(ti, s_t("2026-02-10T00:00:00Z")));
    cairn_time_interval_destroy(&ti);
}

static void malformed_fields_are_refused(void **state)
{
    char err[256];
    cairn_time_interval_t *ti = cairn_time_interval_new("bad");
    cairn_time_spec_t *sp = NULL;
    assert_int_equal(cairn_time_interval_add_spec(ti, &sp), 0);
    assert_int_equal(cairn_time_spec_add_times(sp, "17:00", "09:00", err, sizeof err),
                     CAIRN_EPARSE);
    assert_int_equal(cairn_time_spec_add_times(sp, "9:00", "10:00", err, sizeof err), CAIRN_EPARSE);
    assert_int_equal(cairn_time_spec_add_times(sp, "00:00", "24:00", err, sizeof err), 0);
    assert_int_equal(cairn_time_spec_add_weekdays(sp, "funday", err, sizeof err), CAIRN_EPARSE);
    assert_int_equal(cairn_time_spec_add_weekdays(sp, "friday:monday", err, sizeof err),
                     CAIRN_EPARSE);
    assert_int_equal(cairn_time_spec_add_days_of_month(sp, "0", err, sizeof err), CAIRN_EPARSE);
    assert_int_equal(cairn_time_spec_add_months(sp, "13", err, sizeof err), CAIRN_EPARSE);
    cairn_time_interval_destroy(&ti);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(office_hours_on_weekdays_are_start_inclusive_and_end_exclusive),
        cmocka_unit_test(the_clock_is_read_in_the_location_of_the_spec),
        cmocka_unit_test(days_of_month_count_from_the_end_and_specs_or_together),
        cmocka_unit_test(malformed_fields_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
