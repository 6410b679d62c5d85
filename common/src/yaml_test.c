/* Tests for the misread-scalar check: the single-quoted shapes libfyaml gets
 * wrong are found, as values and as keys, at their position, and nothing
 * else is (every other scalar style, escapes, folding, anchors and aliases).
 * Under AddressSanitizer the check itself must not leak where reading the
 * scalar's text would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libfyaml.h>

#include "cairn/yaml.h"

/* Parses text and runs the check; returns its result, position in *line and
 * *column (-1 when none is found). */
static int s_check(const char *text, int *line, int *column)
{
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
    struct fy_document *doc = fy_document_build_from_string(&cfg, text, strlen(text));
    assert_non_null(doc);
    *line = *column = -1;
    int rc = cairn_yaml_find_misread(doc, line, column);
    fy_document_destroy(doc);
    return rc;
}

static void consecutive_quote_escapes_are_found(void **state)
{
    (void)state;
    int line, col;
    assert_int_equal(s_check("'a''''b'\n", &line, &col), 1);
    assert_int_equal(line, 0);
    assert_int_equal(col, 1); /* where the text starts, inside the quote */
    assert_int_equal(s_check("gates:\n  - name: ok\n    message: 'it''''s'\n", &line, &col), 1);
    assert_int_equal(line, 2);
    assert_int_equal(col, 14);
    /* Long enough that libfyaml's chunk array grows (where it leaks). */
    char text[128] = "x: 'a";
    for (int i = 0; i < 40; i++)
        strcat(text, "''");
    strcat(text, "'\n");
    assert_int_equal(s_check(text, &line, &col), 1);
    assert_int_equal(line, 0);
    assert_int_equal(col, 4);
}

static void keys_are_checked_too(void **state)
{
    (void)state;
    int line, col;
    assert_int_equal(s_check("outer:\n  'k''''ey': 1\n", &line, &col), 1);
    assert_int_equal(line, 1);
    assert_int_equal(col, 3);
    assert_int_equal(s_check("[1, {'a''''b': 2}]\n", &line, &col), 1);
    assert_int_equal(line, 0);
    assert_int_equal(col, 6);
}

static void what_libfyaml_reads_right_passes(void **state)
{
    (void)state;
    int line, col;
    static const char *const ok[] = {
        "plain\n",
        "'it''s'\n",
        "'a''b''c''d''e''f''g''h''i''j'\n",
        "'''quoted'''\n",
        "''\n",
        "\"a\\\"\\\"\\\"\\\"b\\n\\t\\u00e9\"\n",
        "'folded\n  across\n\n  lines'\n",
        "text: >\n  one\n  two\n\n  three\n",
        "text: |\n  one\n   two\n",
        "a: &x 'v''w'\nb: *x\n",
        "{k: [1, 2, {n: null}], 'q''': \"r\"}\n",
        "plain scalar\n  continued\n",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        if (s_check(ok[i], &line, &col) != 0)
            fail_msg("flagged: %s", ok[i]);
        assert_int_equal(line, -1);
    }
}

static void the_texts_it_passes_read_as_written(void **state)
{
    (void)state;
    /* What the check passes is what the loaders then read. */
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET};
    static const char text[] = "a: 'it''s'\nb: '''q'''\nc: \"x''''y\"\n";
    struct fy_document *doc = fy_document_build_from_string(&cfg, text, strlen(text));
    assert_non_null(doc);
    int line, col;
    assert_int_equal(cairn_yaml_find_misread(doc, &line, &col), 0);
    struct fy_node *root = fy_document_root(doc);
    assert_string_equal(fy_node_get_scalar0(fy_node_mapping_lookup_by_string(root, "a", 1)),
                        "it's");
    assert_string_equal(fy_node_get_scalar0(fy_node_mapping_lookup_by_string(root, "b", 1)), "'q'");
    assert_string_equal(fy_node_get_scalar0(fy_node_mapping_lookup_by_string(root, "c", 1)),
                        "x''''y");
    fy_document_destroy(doc);
}

static void no_document_has_nothing_to_misread(void **state)
{
    (void)state;
    int line = -1, col = -1;
    assert_int_equal(cairn_yaml_find_misread(NULL, &line, &col), 0);
    assert_int_equal(line, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(consecutive_quote_escapes_are_found),
        cmocka_unit_test(keys_are_checked_too),
        cmocka_unit_test(what_libfyaml_reads_right_passes),
        cmocka_unit_test(the_texts_it_passes_read_as_written),
        cmocka_unit_test(no_document_has_nothing_to_misread),
    };
    return cmocka_run_group_tests_name("yaml", tests, NULL, NULL);
}
