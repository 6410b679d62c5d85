/* Tests for the strict decoding of untrusted JSON: every rule cJSON alone
 * would not enforce (duplicate keys, UTF-8, \u0000, control characters,
 * depth, trailing text), the error positions, and exact integers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "json_body.h"
#include "normalize_fields.h"

static char s_err[512];

/* Parses text (of len bytes, or strlen when len is 0) and expects success. */
static cJSON *s_ok(const char *text, size_t len)
{
    cJSON *root = NULL;
    s_err[0] = '\0';
    int rc = cairn_ingest_json_parse(text, len ? len : strlen(text), "the body", &root, s_err,
                                     sizeof s_err);
    if (rc != 0)
        fail_msg("refused %s: %s", text, s_err);
    assert_non_null(root);
    return root;
}

/* Parses text and expects CAIRN_EPARSE; returns the sentence. */
static const char *s_refused(const char *text, size_t len)
{
    cJSON *root = NULL;
    s_err[0] = '\0';
    int rc = cairn_ingest_json_parse(text, len ? len : strlen(text), "the body", &root, s_err,
                                     sizeof s_err);
    if (rc != CAIRN_EPARSE)
        fail_msg("accepted %s (rc %d)", text, rc);
    assert_null(root);
    return s_err;
}

static void duplicate_keys_are_refused_at_any_depth_and_size(void **state)
{
    (void)state;
    assert_non_null(strstr(s_refused("{\"a\":1,\"b\":2,\"a\":3}", 0), "the key 'a' twice"));
    assert_non_null(strstr(s_refused("[{\"x\":{\"k\":1,\"k\":1}}]", 0), "the key 'k' twice"));
    /* Same prefix, different keys: not duplicates. */
    cJSON_Delete(s_ok("{\"id\":1,\"id2\":2,\"i\":3}", 0));

    /* Objects above the pairwise size (hash on the stack) and above the
     * stack table (hash on the heap), with the repeat last. */
    static const size_t sizes[] = {9, 100, 1000};
    for (size_t s = 0; s < 3; s++) {
        size_t n = sizes[s];
        char *text = malloc(n * 24 + 64);
        assert_non_null(text);
        size_t at = 0;
        text[at++] = '{';
        for (size_t i = 0; i < n; i++)
            at += (size_t)sprintf(text + at, "\"key%zu\":%zu,", i, i);
        strcpy(text + at, "\"last\":true}");
        cJSON *root = s_ok(text, 0);
        assert_int_equal(cJSON_GetArraySize(root), (int)n + 1);
        cJSON_Delete(root);
        sprintf(text + at, "\"key%zu\":true}", n / 2);
        char want[64];
        snprintf(want, sizeof want, "the key 'key%zu' twice", n / 2);
        assert_non_null(strstr(s_refused(text, 0), want));
        free(text);
    }
}

static void text_that_is_not_utf8_is_refused_with_its_position(void **state)
{
    (void)state;
    cJSON *root = s_ok("{\"name\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80\"}", 0);
    assert_string_equal(cairn_json_str(cairn_json_get(root, "name")),
                        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80");
    cJSON_Delete(root);
    static const char *const bad[] = {
        "{\"a\":\"\xc0\xa0\"}",         /* overlong */
        "{\"a\":\"\x80\"}",             /* a lone continuation byte */
        "{\"a\":\"\xed\xa0\x80\"}",     /* a UTF-16 surrogate */
        "{\"a\":\"\xf4\x90\x80\x80\"}", /* above U+10FFFF */
        "{\"a\":\"\xe2\x82\"}",         /* a sequence cut short */
        "{\"a\":\"\xff\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *msg = s_refused(bad[i], 0);
        if (!strstr(msg, "line 1, column 7 (byte 6): invalid UTF-8"))
            fail_msg("case %zu: %s", i, msg);
    }
}

static void nul_bad_escapes_and_raw_control_characters_are_refused(void **state)
{
    (void)state;
    assert_non_null(strstr(s_refused("{\"id\":\"a\\u0000b\"}", 0), "\\u0000"));
    assert_non_null(strstr(s_refused("{\"id\":\"a\\u12G4\"}", 0), "four hex digits"));
    assert_non_null(strstr(s_refused("{\"id\":\"a\\u12\"}", 0), "four hex digits"));
    /* An escaped backslash before "u0000" is text, not an escape. */
    cJSON *root = s_ok("{\"id\":\"a\\\\u0000\"}", 0);
    assert_string_equal(cairn_json_str(cairn_json_get(root, "id")), "a\\u0000");
    cJSON_Delete(root);
    root = s_ok("{\"t\":\"\\u00e9\\ud83d\\ude80\\t\"}", 0);
    assert_string_equal(cairn_json_str(cairn_json_get(root, "t")), "\xc3\xa9\xf0\x9f\x9a\x80\t");
    cJSON_Delete(root);

    assert_non_null(strstr(s_refused("{\"a\":\"x\ty\"}", 0), "raw control character (0x09)"));
    assert_non_null(strstr(s_refused("{\"a\":1,\x01\"b\":2}", 0), "control character (0x01)"));
    assert_non_null(strstr(s_refused("{\"a\":1}\0", 8), "control character (0x00)"));
    assert_non_null(strstr(s_refused("\xef\xbb\xbf{}", 0), "byte order mark"));
    cJSON_Delete(s_ok(" \t\r\n{ \"a\" :\n[ 1 , 2 ] }\r\n", 0));
}

static void malformed_text_names_line_column_and_byte(void **state)
{
    (void)state;
    const char *msg = s_refused("{\n  \"a\": tru\n}", 0);
    assert_non_null(strstr(msg, "the body is not valid JSON: line 2, column 8 (byte 9): "));
    msg = s_refused("{\"a\":[1,2", 0);
    assert_non_null(strstr(msg, "ends before the JSON value does"));
    msg = s_refused("{\"a\":\"open", 0);
    assert_non_null(strstr(msg, "ends before the JSON value does"));
    msg = s_refused("{\"a\":1} {\"b\":2}", 0);
    assert_non_null(strstr(msg, "line 1, column 9 (byte 8): text after the JSON value"));
    msg = s_refused("  ", 0);
    assert_non_null(strstr(msg, "ends before"));
}

static void any_value_decodes_and_depth_is_bounded(void **state)
{
    (void)state;
    cJSON *root = s_ok("\"just a string\"", 0);
    assert_true(cJSON_IsString(root));
    cJSON_Delete(root);
    root = s_ok("[]", 0);
    assert_true(cJSON_IsArray(root));
    cJSON_Delete(root);

    size_t depth = CAIRN_JSON_MAX_DEPTH;
    char *text = malloc(2 * depth + 3);
    assert_non_null(text);
    memset(text, '[', depth);
    memset(text + depth, ']', depth);
    text[2 * depth] = '\0';
    cJSON_Delete(s_ok(text, 0));
    memset(text, '[', depth + 1);
    memset(text + depth + 1, ']', depth + 1);
    text[2 * depth + 2] = '\0';
    assert_non_null(strstr(s_refused(text, 0), "nest deeper than 1000 levels"));
    free(text);
}

static void integers_print_exactly_up_to_two_to_the_53(void **state)
{
    (void)state;
    cJSON *root = s_ok("{\"small\":42,\"neg\":-7,\"id\":123456789012,\"max\":9007199254740992,"
                       "\"nmax\":-9007199254740992,\"whole\":42.0,\"exp\":1e3,"
                       "\"over\":18014398509481984,\"frac\":1.5,\"huge\":1e300}",
                       0);
    char buf[32];
    assert_string_equal(cairn_nf_text_at(root, "small", buf), "42");
    assert_string_equal(cairn_nf_text_at(root, "neg", buf), "-7");
    assert_string_equal(cairn_nf_text_at(root, "id", buf), "123456789012");
    assert_string_equal(cairn_nf_text_at(root, "max", buf), "9007199254740992");
    assert_string_equal(cairn_nf_text_at(root, "nmax", buf), "-9007199254740992");
    assert_string_equal(cairn_nf_text_at(root, "whole", buf), "42");
    assert_string_equal(cairn_nf_text_at(root, "exp", buf), "1000");
    /* Beyond 2^53 a number is no longer an exact integer: not an id. */
    assert_null(cairn_nf_text_at(root, "over", buf));
    assert_null(cairn_nf_text_at(root, "frac", buf));
    assert_null(cairn_nf_text_at(root, "huge", buf));
    assert_true(cairn_json_is_integer(cairn_json_get(root, "max")));
    assert_false(cairn_json_is_integer(cairn_json_get(root, "over")));
    assert_int_equal(cairn_json_integer(cairn_json_get(root, "id")), 123456789012LL);
    assert_string_equal(cairn_json_kind(cairn_json_get(root, "small")), "an integer");
    assert_string_equal(cairn_json_kind(cairn_json_get(root, "frac")), "a number");
    cJSON_Delete(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(duplicate_keys_are_refused_at_any_depth_and_size),
        cmocka_unit_test(text_that_is_not_utf8_is_refused_with_its_position),
        cmocka_unit_test(nul_bad_escapes_and_raw_control_characters_are_refused),
        cmocka_unit_test(malformed_text_names_line_column_and_byte),
        cmocka_unit_test(any_value_decodes_and_depth_is_bounded),
        cmocka_unit_test(integers_print_exactly_up_to_two_to_the_53),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
