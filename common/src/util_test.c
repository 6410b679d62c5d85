/* Tests for time parsing/formatting, hex, SHA-256 and file helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/util.h"

static void rfc3339_times_parse_with_fractions_and_offsets(void **state)
{
    int64_t ms;
    assert_int_equal(cairn_parse_time("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(cairn_parse_time("2026-11-25T10:00:00.5Z", &ms), 0);
    assert_int_equal(ms, 1795600800500LL);
    assert_int_equal(cairn_parse_time("2026-11-25T11:00:00+01:00", &ms), 0);
    assert_int_equal(ms, 1795600800000LL);
    assert_int_equal(cairn_parse_time("2026-02-30T00:00:00Z", &ms), CAIRN_EPARSE);
    assert_int_equal(cairn_parse_time("2026-11-25 10:00", &ms), CAIRN_EPARSE);
    assert_int_equal(cairn_parse_time("2026-11-25T10:00:00", &ms), CAIRN_EPARSE);
    char out[32];
    cairn_format_time(1795600800500LL, out);
    assert_string_equal(out, "2026-11-25T10:00:00.500Z");
}

static void sha256_matches_the_published_vector(void **state)
{
    uint8_t d[32];
    char hex[65];
    cairn_sha256("abc", 3, d);
    cairn_hex(d, 32, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void u64_keys_sort_numerically(void **state)
{
    uint8_t a[8], b[8];
    cairn_u64_to_key(255, a);
    cairn_u64_to_key(256, b);
    assert_true(memcmp(a, b, 8) < 0);
    assert_int_equal(cairn_key_to_u64(b), 256);
}

static void read_file_enforces_its_limit(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    assert_true(cairn_read_file("/nonexistent/x", 10, &buf, &len) < 0);
    assert_int_equal(cairn_read_file("/etc/passwd", 4, &buf, &len), CAIRN_ETOOLARGE);
    assert_null(buf);
}

static void errors_have_sentences(void **state)
{
    assert_string_equal(cairn_strerror(CAIRN_ETIMEOUT), "timed out waiting for an answer");
    assert_string_equal(cairn_strerror(-2), "No such file or directory");
    assert_string_equal(cairn_strerror(12345), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc3339_times_parse_with_fractions_and_offsets),
        cmocka_unit_test(sha256_matches_the_published_vector),
        cmocka_unit_test(u64_keys_sort_numerically),
        cmocka_unit_test(read_file_enforces_its_limit),
        cmocka_unit_test(errors_have_sentences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
