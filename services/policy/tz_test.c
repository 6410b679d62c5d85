/* Tests for time zones: offsets and local-time conversions computed from
 * the TZif files agree with the C library's own reading of the same
 * database (setenv TZ + localtime_r, fine in a single-threaded test), over
 * the whole range the files list and past it, where the footer rule
 * applies; and the DST edge cases behave as documented. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn/error.h"
#include "tz.h"

static void s_agree_with_libc(const char *zone)
{
    cairn_tz_t *tz = NULL;
    assert_int_equal(cairn_tz_load(zone, &tz), 0);
    setenv("TZ", zone, 1);
    tzset();
    int checked = 0;
    /* Every ~5.3 days from 1901 to 2099, plus hours either side of each
     * sample, so transitions are crossed. */
    for (int64_t t = -2145916800LL; t < 4102444800LL; t += 460800 + 3607) {
        time_t tt = (time_t)t;
        struct tm lt;
        assert_non_null(localtime_r(&tt, &lt));
        if (cairn_tz_offset(tz, t) != lt.tm_gmtoff)
            fail_msg("%s at %lld: offset %d, libc %ld", zone, (long long)t, cairn_tz_offset(tz, t),
                     (long)lt.tm_gmtoff);
        checked++;
    }
    assert_true(checked > 10000);
    unsetenv("TZ");
    tzset();
    cairn_tz_destroy(&tz);
}

static void offsets_agree_with_the_c_library_in_several_zones(void **state)
{
    (void)state;
    s_agree_with_libc("Europe/Berlin");
    s_agree_with_libc("America/New_York");
    s_agree_with_libc("Australia/Sydney");
    s_agree_with_libc("Asia/Kolkata");
    s_agree_with_libc("America/Sao_Paulo");
}

static void local_times_convert_across_daylight_saving_changes(void **state)
{
    (void)state;
    cairn_tz_t *tz = NULL;
    assert_int_equal(cairn_tz_load("Europe/Berlin", &tz), 0);
    int64_t ms = 0;
    /* Summer: UTC+2; winter: UTC+1. */
    assert_int_equal(cairn_tz_parse_time(tz, "2026-07-01T12:00", &ms), 0);
    assert_int_equal(ms, 1782900000000LL); /* 10:00Z */
    assert_int_equal(cairn_tz_parse_time(tz, "2026-12-19T00:00", &ms), 0);
    assert_int_equal(ms, 1797634800000LL); /* 18 Dec 23:00Z */
    /* 02:30 on 2026-03-29 does not exist: read with the winter offset. */
    assert_int_equal(cairn_tz_parse_time(tz, "2026-03-29T02:30", &ms), 0);
    assert_int_equal(ms, 1774747800000LL); /* 01:30Z = 03:30 CEST */
    /* 02:30 on 2026-10-25 happens twice: the earlier instant. */
    assert_int_equal(cairn_tz_parse_time(tz, "2026-10-25T02:30", &ms), 0);
    assert_int_equal(ms, 1792888200000LL); /* 00:30Z (CEST) */
    /* An explicit offset wins over the zone. */
    assert_int_equal(cairn_tz_parse_time(tz, "2026-12-19T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 1797638400000LL);
    assert_int_equal(cairn_tz_parse_time(tz, "2026-12-19T00:00+05:30", &ms), 0);
    assert_int_equal(ms, 1797618600000LL);
    assert_int_equal(cairn_tz_parse_time(tz, "2026-02-30T00:00", &ms), CAIRN_EPARSE);
    assert_int_equal(cairn_tz_parse_time(tz, "soon", &ms), CAIRN_EPARSE);
    char text[40];
    cairn_tz_format(tz, 1797634800000LL, text);
    assert_string_equal(text, "2026-12-19T00:00:00+01:00");
    cairn_tz_destroy(&tz);
}

static void unknown_and_unsafe_zone_names_are_refused(void **state)
{
    (void)state;
    cairn_tz_t *tz = NULL;
    assert_int_equal(cairn_tz_load("Europe/Berln", &tz), CAIRN_ENOTFOUND);
    assert_int_equal(cairn_tz_load("../../etc/passwd", &tz), CAIRN_EINVALID);
    assert_int_equal(cairn_tz_load("/etc/localtime", &tz), CAIRN_EINVALID);
    assert_int_equal(cairn_tz_load("Europe", &tz), CAIRN_ENOTFOUND);
    assert_null(tz);
    /* UTC needs no database. */
    assert_int_equal(cairn_tz_load("UTC", &tz), 0);
    assert_int_equal(cairn_tz_offset(tz, 1795600800), 0);
    cairn_tz_destroy(&tz);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offsets_agree_with_the_c_library_in_several_zones),
        cmocka_unit_test(local_times_convert_across_daylight_saving_changes),
        cmocka_unit_test(unknown_and_unsafe_zone_names_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
