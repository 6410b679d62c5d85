/* Tests for label sets and matchers: Alertmanager's operators, anchored
 * regular expressions, missing labels, and the brace-list syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "labels.h"
#include "matcher.h"

static cairn_labels_t *s_labels(const char *env, const char *kind)
{
    cairn_labels_t *l = cairn_labels_new();
    assert_int_equal(cairn_labels_set(l, "env", env), 0);
    assert_int_equal(cairn_labels_set(l, "kind", kind), 0);
    return l;
}

static bool s_match(const char *matcher, const cairn_labels_t *l)
{
    char err[256];
    cairn_matchers_t *m = cairn_matchers_new();
    assert_int_equal(cairn_matchers_parse(m, matcher, err, sizeof err), 0);
    bool ok = cairn_matchers_match(m, l);
    cairn_matchers_destroy(&m);
    return ok;
}

static void label_sets_stay_sorted_and_empty_values_are_no_labels(void **state)
{
    cairn_labels_t *l = cairn_labels_new();
    assert_int_equal(cairn_labels_set(l, "service", "payments"), 0);
    assert_int_equal(cairn_labels_set(l, "change", "CHG-1"), 0);
    assert_int_equal(cairn_labels_set(l, "risk", ""), 0);
    assert_int_equal(cairn_labels_count(l), 2);
    assert_string_equal(cairn_labels_name(l, 0), "change");
    assert_string_equal(cairn_labels_get(l, "missing"), "");
    char *text = cairn_labels_format(l);
    assert_string_equal(text, "{change=\"CHG-1\", service=\"payments\"}");
    free(text);
    cairn_labels_t *copy = cairn_labels_dup(l);
    assert_int_equal(cairn_labels_fingerprint(copy), cairn_labels_fingerprint(l));
    cairn_labels_set(copy, "service", "ledger");
    assert_int_not_equal(cairn_labels_fingerprint(copy), cairn_labels_fingerprint(l));
    cairn_labels_set(copy, "service", NULL);
    assert_int_equal(cairn_labels_count(copy), 1);
    cairn_labels_destroy(&copy);
    cairn_labels_destroy(&l);
    assert_null(l);
}

static void the_four_operators_match_like_alertmanager(void **state)
{
    cairn_labels_t *l = s_labels("prod", "approval_requested");
    assert_true(s_match("env=\"prod\"", l));
    assert_true(s_match("env=prod", l));
    assert_false(s_match("env!=prod", l));
    assert_true(s_match("kind=~\"approval_.*\"", l));
    assert_false(s_match("kind!~\"approval_.*\"", l));
    /* Anchored at both ends: a regular expression must match the whole value. */
    assert_false(s_match("env=~\"pro\"", l));
    assert_false(s_match("kind=~\"approval\"", l));
    cairn_labels_t *pre = s_labels("preprod", "x");
    assert_false(s_match("env=~\"prod|staging\"", pre));
    assert_true(s_match("env=~\"prod|staging\"", l));
    cairn_labels_destroy(&pre);
    /* A missing label is the empty string. */
    assert_true(s_match("team=\"\"", l));
    assert_true(s_match("team!=\"payments\"", l));
    assert_true(s_match("team=~\".*\"", l));
    assert_false(s_match("team=~\".+\"", l));
    cairn_labels_destroy(&l);
}

static void a_brace_list_needs_every_matcher_and_quotes_may_hold_commas(void **state)
{
    cairn_labels_t *l = s_labels("prod", "gate_denied");
    cairn_labels_set(l, "team", "a,b");
    assert_true(s_match("{env=\"prod\", kind=~\"gate_.*\"}", l));
    assert_false(s_match("{env=\"prod\", kind=\"verdict\"}", l));
    assert_true(s_match("{team=\"a,b\"}", l));
    assert_true(s_match("{}", l));
    cairn_matchers_t *m = cairn_matchers_new();
    char err[256];
    assert_int_equal(
        cairn_matchers_parse(m, "{ env = \"prod\" , kind!~\"x\\\"y\" }", err, sizeof err), 0);
    char *text = cairn_matchers_format(m);
    assert_string_equal(text, "{env=\"prod\", kind!~\"x\\\"y\"}");
    free(text);
    cairn_matchers_destroy(&m);
    cairn_labels_destroy(&l);
}

static void broken_matchers_are_refused_with_a_reason(void **state)
{
    char err[256];
    cairn_matchers_t *m = cairn_matchers_new();
    assert_int_equal(cairn_matchers_parse(m, "env", err, sizeof err), CAIRN_EPARSE);
    assert_non_null(strstr(err, "not a matcher"));
    assert_int_equal(cairn_matchers_parse(m, "kind=~\"(\"", err, sizeof err), CAIRN_EPARSE);
    assert_non_null(strstr(err, "regular expression"));
    assert_int_equal(cairn_matchers_parse(m, "1abc=x", err, sizeof err), CAIRN_EPARSE);
    assert_int_equal(cairn_matchers_parse(m, "{env=\"prod\"", err, sizeof err), CAIRN_EPARSE);
    assert_int_equal(cairn_matchers_parse(m, "env=\"prod", err, sizeof err), CAIRN_EPARSE);
    assert_int_equal(cairn_matchers_count(m), 0);
    cairn_matchers_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(label_sets_stay_sorted_and_empty_values_are_no_labels),
        cmocka_unit_test(the_four_operators_match_like_alertmanager),
        cmocka_unit_test(a_brace_list_needs_every_matcher_and_quotes_may_hold_commas),
        cmocka_unit_test(broken_matchers_are_refused_with_a_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
