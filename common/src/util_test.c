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

static void utf8_checks_name_the_first_bad_byte(void **state)
{
    (void)state;
    static const char good[] = "caf\xc3\xa9 \xf0\x9f\x9a\x80 ok";
    assert_true(cairn_utf8_valid(good, sizeof good - 1));
    assert_int_equal(cairn_utf8_invalid_at(good, sizeof good - 1), sizeof good - 1);
    assert_true(cairn_utf8_valid("", 0));
    static const struct {
        const char *text;
        size_t len, bad;
    } cases[] = {
        {"ab\xc0\xaf" "cd", 6, 2},     /* overlong '/' */
        {"x\xed\xa0\x80", 4, 1},       /* UTF-16 surrogate */
        {"\xf4\x90\x80\x80", 4, 0},   /* above U+10FFFF */
        {"abc\xe2\x82", 5, 3},          /* cut off */
        {"a\x80", 2, 1},                /* lone continuation byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_false(cairn_utf8_valid(cases[i].text, cases[i].len));
        assert_int_equal(cairn_utf8_invalid_at(cases[i].text, cases[i].len), cases[i].bad);
    }
}

static void fnv1a64_has_the_published_values(void **state)
{
    (void)state;
    /* Test vectors of the FNV reference (draft-eastlake-fnv). */
    assert_true(cairn_fnv1a64(CAIRN_FNV1A64_OFFSET, "", 0) == 0xcbf29ce484222325ULL);
    assert_true(cairn_fnv1a64(CAIRN_FNV1A64_OFFSET, "a", 1) == 0xaf63dc4c8601ec8cULL);
    assert_true(cairn_fnv1a64(CAIRN_FNV1A64_OFFSET, "foobar", 6) == 0x85944171f73967e8ULL);
    /* Continuing a hash is hashing the concatenation. */
    assert_true(cairn_fnv1a64(cairn_fnv1a64(CAIRN_FNV1A64_OFFSET, "foo", 3), "bar", 3) ==
                0x85944171f73967e8ULL);
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
        cmocka_unit_test(utf8_checks_name_the_first_bad_byte),
        cmocka_unit_test(fnv1a64_has_the_published_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
