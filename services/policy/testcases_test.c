/* Tests for the policy's own test cases: the example policies' cases pass
 * through the real normalizer and evaluator, a wrong expectation fails
 * with a message that says what was found, and a case whose input cannot
 * be used says why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "policy_load.h"
#include "testcases.h"

static void s_src(char *buf, size_t len, const char *rel)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    snprintf(buf, len, "%s/services/policy/testdata/%s", src ? src : ".", rel);
}

static cairn_policy_t *s_load_file(const char *path)
{
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = NULL;
    int rc = cairn_policy_load_file(path, &errs, &p);
    for (size_t i = 0; i < errs.count; i++)
        print_message("  %s\n", errs.items[i]);
    cairn_errlist_clear(&errs);
    assert_int_equal(rc, 0);
    return p;
}

/* The lifecycle example's rules with the given tests section; inputs are
 * absolute paths into testdata. Written to a temporary file. */
static cairn_policy_t *s_policy_with_tests(const char *tests, char *path, size_t len)
{
    char base[1024], *text = NULL;
    size_t n = 0;
    s_src(base, sizeof base, "lifecycle.yaml");
    assert_int_equal(cairn_read_file(base, 1 << 20, &text, &n), 0);
    char *cut = strstr(text, "\ntests:");
    assert_non_null(cut);
    cut[1] = '\0';
    snprintf(path, len, "/tmp/cairn-testcases-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    char dir[1024];
    s_src(dir, sizeof dir, "tests");
    fprintf(f, "%s", text);
    /* "@" stands for the testdata/tests directory. */
    fprintf(f, "tests:\n");
    for (const char *p = tests; *p; p++) {
        if (*p == '@')
            fprintf(f, "%s", dir);
        else
            fputc(*p, f);
    }
    fclose(f);
    free(text);
    return s_load_file(path);
}

static void the_lifecycle_examples_pass(void **state)
{
    char path[1024];
    s_src(path, sizeof path, "lifecycle.yaml");
    cairn_policy_t *p = s_load_file(path);
    assert_int_equal(p->n_tests, 4);
    cairn_testcase_result_t *rs = NULL;
    assert_int_equal(cairn_testcases_run_all(p, path, &rs), 0);
    const char *decisions[] = {"deny", "allow", "pending", "deny"};
    for (size_t i = 0; i < p->n_tests; i++) {
        if (!rs[i].passed)
            print_message("%s: %s\n", rs[i].name, rs[i].message);
        assert_true(rs[i].passed);
        assert_false(rs[i].broken);
        assert_string_equal(rs[i].message, "");
        assert_string_equal(cairn_decision_name(rs[i].decision), decisions[i]);
    }
    /* self-approved names gate deployment; failing-tests names gate build. */
    assert_int_equal(rs[0].n_verdicts, 1);
    assert_string_equal(rs[0].verdicts[0]->gate, "deployment");
    assert_string_equal(rs[0].change, "CHG-1");
    assert_int_equal(rs[1].n_verdicts, 2);
    assert_string_equal(rs[3].verdicts[0]->gate, "build");
    /* The events were normalized by ingest: the approval is dana's, voided by SOD1. */
    assert_int_equal(rs[0].verdicts[0]->n_approvals, 1);
    assert_string_equal(rs[0].verdicts[0]->approvals[0]->user, "dana");
    assert_string_equal(rs[0].verdicts[0]->approvals[0]->void_rule, "SOD1");
    cairn_testcase_results_free(&rs, p->n_tests);
    cairn_policy_unref(&p);
}

static void the_format_example_test_passes(void **state)
{
    char path[1024];
    s_src(path, sizeof path, "example.yaml");
    cairn_policy_t *p = s_load_file(path);
    assert_true(p->n_tests >= 1);
    cairn_testcase_result_t *rs = NULL;
    assert_int_equal(cairn_testcases_run_all(p, path, &rs), 0);
    for (size_t i = 0; i < p->n_tests; i++) {
        if (!rs[i].passed)
            print_message("%s: %s\n", rs[i].name, rs[i].message);
        assert_true(rs[i].passed);
    }
    cairn_testcase_results_free(&rs, p->n_tests);
    cairn_policy_unref(&p);
}

/* Signed approvals end to end through ingest's normalizer: the signature
 * fields of the approval events' data reach the policy, which checks them
 * against the role directory's keys. */
static void the_signed_approval_examples_pass(void **state)
{
    (void)state;
    char path[1024];
    s_src(path, sizeof path, "signed.yaml");
    cairn_policy_t *p = s_load_file(path);
    assert_int_equal(p->n_tests, 5);
    cairn_testcase_result_t *rs = NULL;
    assert_int_equal(cairn_testcases_run_all(p, path, &rs), 0);
    for (size_t i = 0; i < p->n_tests; i++) {
        if (!rs[i].passed)
            print_message("%s: %s\n", rs[i].name, rs[i].message);
        assert_true(rs[i].passed);
    }
    const Cairn__V1__Approval *signed_ok = rs[0].verdicts[0]->approvals[0];
    assert_true(signed_ok->signature_verified);
    assert_string_equal(signed_ok->key, "erin+e66fe3bd");
    assert_string_equal(signed_ok->via, "cloudevents (unauthenticated)");
    const Cairn__V1__Approval *forged = rs[1].verdicts[0]->approvals[0];
    assert_false(forged->signature_verified);
    assert_string_equal(forged->void_rule, "signature");
    assert_non_null(strstr(forged->void_reason, "signed with frank's key (frank+f208daa9)"));
    cairn_testcase_results_free(&rs, p->n_tests);
    cairn_policy_unref(&p);
}

static void a_wrong_expectation_fails_and_says_what_was_found(void **state)
{
    char path[64];
    cairn_policy_t *p = s_policy_with_tests(
        "  - { name: wrong-decision, input: @/self-approved.json, expect: { decision: allow } }\n"
        "  - { name: wrong-rule, input: @/self-approved.json, expect: { reasons_include: [SOD3] } "
        "}\n"
        "  - { name: passing-rule-is-not-deciding, input: @/peer-approved.json,\n"
        "      expect: { decision: allow, reasons_include: [SOD1] } }\n",
        path, sizeof path);
    cairn_testcase_result_t *rs = NULL;
    assert_int_equal(cairn_testcases_run_all(p, path, &rs), 0);
    assert_int_equal(p->n_tests, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_false(rs[i].passed);
        assert_false(rs[i].broken);
    }
    assert_string_equal(rs[0].message, "expected allow, got deny");
    assert_non_null(strstr(rs[1].message, "expected SOD3 among the deciding rules"));
    assert_non_null(strstr(rs[1].message, "SOD1 (fail in deployment)"));
    /* SOD1 passed for peer-approved: passing is not deciding. */
    assert_non_null(
        strstr(rs[2].message, "expected SOD1 among the deciding rules, which are: none"));
    assert_string_equal(cairn_decision_name(rs[2].decision), "allow");
    cairn_testcase_results_free(&rs, p->n_tests);
    cairn_policy_unref(&p);
    unlink(path);
}

static void a_case_that_expects_nothing_fails(void **state)
{
    char path[64];
    cairn_policy_t *p = s_policy_with_tests(
        "  - { name: vacuous, input: @/peer-approved.json, expect: {} }\n", path, sizeof path);
    cairn_testcase_result_t *rs = NULL;
    assert_int_equal(cairn_testcases_run_all(p, path, &rs), 0);
    assert_false(rs[0].passed);
    assert_non_null(strstr(rs[0].message, "cannot fail"));
    cairn_testcase_results_free(&rs, p->n_tests);
    cairn_policy_unref(&p);
    unlink(path);
}

static void unusable_inputs_are_reported_as_broken(void **state)
{
    char path[64], input[64], input2[64];
    /* Two changes and no "change"; and an unknown gate. */
    snprintf(input, sizeof input, "/tmp/cairn-testcase-in-XXXXXX");
    int fd = mkstemp(input);
    assert_true(fd >= 0);
    const char *two = "[{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/t\",\"type\":\"x.y\","
                      "\"data\":{\"change\":\"CHG-A\"}},"
                      "{\"specversion\":\"1.0\",\"id\":\"b\",\"source\":\"/t\",\"type\":\"x.y\","
                      "\"data\":{\"change\":\"CHG-B\"}}]";
    assert_int_equal(write(fd, two, strlen(two)), (ssize_t)strlen(two));
    close(fd);
    snprintf(input2, sizeof input2, "/tmp/cairn-testcase-in-XXXXXX");
    fd = mkstemp(input2);
    const char *gate = "{\"gate\":\"deploy\",\"events\":[]}";
    assert_int_equal(write(fd, gate, strlen(gate)), (ssize_t)strlen(gate));
    close(fd);

    char tests[1024];
    snprintf(tests, sizeof tests,
             "  - { name: missing-file, input: @/no-such-file.json, expect: { decision: deny } }\n"
             "  - { name: two-changes, input: %s, expect: { decision: deny } }\n"
             "  - { name: bad-gate, input: %s, expect: { decision: deny } }\n",
             input, input2);
    cairn_policy_t *p = s_policy_with_tests(tests, path, sizeof path);
    cairn_testcase_result_t *rs = NULL;
    assert_int_equal(cairn_testcases_run_all(p, path, &rs), 0);
    for (size_t i = 0; i < 3; i++) {
        print_message("%s: %s\n", rs[i].name, rs[i].message);
        assert_true(rs[i].broken);
        assert_false(rs[i].passed);
    }
    assert_non_null(strstr(rs[0].message, "no-such-file.json"));
    assert_non_null(strstr(rs[1].message, "several changes (CHG-A, CHG-B"));
    assert_non_null(strstr(rs[2].message, "unknown gate 'deploy'"));
    cairn_testcase_results_free(&rs, p->n_tests);
    cairn_policy_unref(&p);
    unlink(path);
    unlink(input);
    unlink(input2);
}

static void a_change_without_events_is_pending(void **state)
{
    char path[64], input[64];
    snprintf(input, sizeof input, "/tmp/cairn-testcase-in-XXXXXX");
    int fd = mkstemp(input);
    const char *doc = "{\"change\":\"CHG-404\",\"events\":[]}";
    assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
    close(fd);
    char tests[512];
    snprintf(tests, sizeof tests,
             "  - { name: unknown, input: %s, expect: { decision: pending, reasons_include: "
             "[events] } }\n",
             input);
    cairn_policy_t *p = s_policy_with_tests(tests, path, sizeof path);
    cairn_testcase_result_t *rs = NULL;
    assert_int_equal(cairn_testcases_run_all(p, path, &rs), 0);
    if (!rs[0].passed)
        print_message("%s\n", rs[0].message);
    assert_true(rs[0].passed);
    cairn_testcase_results_free(&rs, p->n_tests);
    cairn_policy_unref(&p);
    unlink(path);
    unlink(input);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_lifecycle_examples_pass),
        cmocka_unit_test(the_signed_approval_examples_pass),
        cmocka_unit_test(the_format_example_test_passes),
        cmocka_unit_test(a_wrong_expectation_fails_and_says_what_was_found),
        cmocka_unit_test(a_case_that_expects_nothing_fails),
        cmocka_unit_test(unusable_inputs_are_reported_as_broken),
        cmocka_unit_test(a_change_without_events_is_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
