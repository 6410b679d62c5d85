/* Tests for verdicts in words: a real verdict of the built-in policy is
 * rendered with every rule, its meaning, what is open and the approvals;
 * each decision gets the clause that says why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "change.h"
#include "evaluate.h"
#include "explain.h"
#include "policy_load.h"
#include "verdict.h"

/* CHG-1 by dana, tests passed, self-approved: the built-in policy denies deployment. */
static Cairn__V1__Verdict *s_deployment_verdict(void)
{
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = NULL;
    assert_int_equal(cairn_policy_load_default(&errs, &p), 0);
    cairn_change_t *c = cairn_change_new("CHG-1");
    cairn_change_set(&c->author, "dana");
    cairn_change_set(&c->commit_sha, "4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39");
    cairn_change_set(&c->environment, "prod");
    cairn_change_evidence_t t = {
        .kind = "test_report", .index = 1, .commit_sha = "", .outcome = "success", .passed = 12};
    cairn_change_put_evidence(c, &t);
    cairn_change_approval_t a = {.user = "dana",
                                 .role = "dev",
                                 .commit_sha = "4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
                                 .index = 3,
                                 .rejected = false};
    cairn_change_add_approval(c, &a);
    cairn_change_add_input(c, 0);
    cairn_change_add_input(c, 1);
    cairn_change_add_input(c, 3);
    cairn_eval_opts_t o = {.environment = NULL, .now_ms = 1795600800000LL, .trigger_index = 3};
    Cairn__V1__Verdict *v = NULL;
    assert_int_equal(cairn_evaluate_gate(p, "CHG-1", c, "deployment", &o, &v), 0);
    cairn_change_destroy(&c);
    cairn_policy_unref(&p);
    cairn_errlist_clear(&errs);
    return v;
}

static char *s_render(const Cairn__V1__Verdict *v, bool subject)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    if (subject)
        cairn_explain_subject(f, v);
    cairn_explain_verdict(f, v, "");
    fclose(f);
    return text;
}

static void a_denied_gate_is_explained_rule_by_rule(void **state)
{
    Cairn__V1__Verdict *v = s_deployment_verdict();
    char *text = s_render(v, true);
    print_message("%s", text);
    assert_non_null(strstr(text, "change CHG-1 in prod at commit 4f2a9c0d8e7b\n"));
    assert_non_null(strstr(text, "policy default revision builtin-1 (sha256:"));
    assert_non_null(strstr(text, "decided from 3 recorded facts (ledger indexes 0, 1, 3)"));
    assert_non_null(strstr(text, "gate deployment: DENY, because SOD1 failed\n"));
    /* Every rule evaluated, with its result in words. */
    assert_non_null(strstr(text, "after:build"));
    const char *sod1 = strstr(text, "  SOD1 ");
    assert_non_null(sod1);
    assert_non_null(strstr(sod1, "FAILED"));
    assert_non_null(strstr(sod1, "dana is the author of CHG-1 and cannot approve it"));
    const char *sod3 = strstr(text, "  SOD3 ");
    assert_non_null(sod3);
    assert_true(strncmp(strstr(sod3, "passed"), "passed", 6) == 0);
    assert_non_null(strstr(text, "missing         peer needs 1 more approval"));
    assert_non_null(strstr(text, "still open: 1 more approval from dev or tech_lead (rule peer)"));
    assert_non_null(strstr(text, "approval:   dana as dev (ledger index 3, commit 4f2a9c0d8e7b): "
                                 "void by SOD1 (dana is the author of CHG-1"));
    /* One line per reason, nothing skipped. */
    for (size_t i = 0; i < v->n_reasons; i++)
        assert_non_null(strstr(text, v->reasons[i]->message));
    free(text);
    CAIRN_CODEC_FREE(&v);
}

static void each_decision_says_why(void **state)
{
    char buf[256];
    Cairn__V1__Verdict *v = cairn_verdict_new();
    cairn_msg_set_str(&v->gate, "build");
    v->decision = CAIRN__V1__DECISION__DECISION_ALLOW;
    cairn_verdict_add_reason(v, "unit-tests", "pass", "12 passed");
    cairn_explain_because(v, buf, sizeof buf);
    assert_string_equal(buf, "every rule passed");

    v->decision = CAIRN__V1__DECISION__DECISION_PENDING;
    cairn_verdict_add_reason(v, "sast", "missing", "no scan");
    cairn_verdict_add_reason(v, "peer", "missing", "needs one");
    cairn_explain_because(v, buf, sizeof buf);
    assert_string_equal(buf, "because sast and peer are missing");

    v->decision = CAIRN__V1__DECISION__DECISION_MANUAL;
    cairn_verdict_add_reason(v, "coverage", "fail", "71 below 80");
    cairn_explain_because(v, buf, sizeof buf);
    assert_string_equal(buf, "because coverage failed and a person must decide");

    v->decision = CAIRN__V1__DECISION__DECISION_DENY;
    cairn_verdict_add_reason(v, "SOD1", "fail", "self-approval");
    cairn_verdict_add_reason(v, "rejection", "fail", "lee rejected");
    cairn_explain_because(v, buf, sizeof buf);
    assert_string_equal(buf, "because coverage, SOD1 and rejection failed");
    CAIRN_CODEC_FREE(&v);

    assert_string_equal(cairn_explain_result("pass"), "passed");
    assert_string_equal(cairn_explain_result("fail"), "FAILED");
    assert_string_equal(cairn_explain_result("void"), "void (ignored)");
    assert_string_equal(cairn_explain_result("skip"), "does not apply");
    assert_string_equal(cairn_explain_result("odd"), "odd");
}

static void the_json_form_carries_every_rule(void **state)
{
    Cairn__V1__Verdict *v = s_deployment_verdict();
    json_t *j = cairn_explain_json(v);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "decision")), "deny");
    assert_string_equal(json_string_value(json_object_get(j, "because")), "because SOD1 failed");
    json_t *rules = json_object_get(j, "rules");
    assert_int_equal(json_array_size(rules), v->n_reasons);
    bool sod1 = false;
    for (size_t i = 0; i < json_array_size(rules); i++) {
        json_t *r = json_array_get(rules, i);
        if (strcmp(json_string_value(json_object_get(r, "rule")), "SOD1") == 0) {
            sod1 = true;
            assert_string_equal(json_string_value(json_object_get(r, "meaning")), "FAILED");
        }
    }
    assert_true(sod1);
    assert_int_equal(json_array_size(json_object_get(j, "open")), 1);
    assert_int_equal(json_array_size(json_object_get(j, "approvals")), 1);
    json_decref(j);
    CAIRN_CODEC_FREE(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_denied_gate_is_explained_rule_by_rule),
        cmocka_unit_test(each_decision_says_why),
        cmocka_unit_test(the_json_form_carries_every_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
