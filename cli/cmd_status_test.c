/* Tests for `cairn status` output on constructed policy answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "commands.h"

#define S_SHA "0123456789abcdef0123456789abcdef01234567"

static char *s_render(const Cairn__V1__ChangeStatus *st)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cli_status_render(out, st);
    fclose(out);
    return text;
}

static void a_change_shows_people_approvals_and_what_each_gate_needs(void **state)
{
    (void)state;
    char *committers[] = {"dana"};
    char *roles[] = {"dev", "tech_lead"};

    Cairn__V1__Approval self = CAIRN__V1__APPROVAL__INIT;
    self.user = "dana";
    self.role = "dev";
    self.index = 2;
    self.void_ = 1;
    self.void_rule = "SOD1";
    self.void_reason = "dana is the author of CHG-1 and cannot approve it";
    Cairn__V1__Approval *approvals[] = {&self};

    Cairn__V1__Reason tests_pass = CAIRN__V1__REASON__INIT;
    tests_pass.rule_id = "unit-tests";
    tests_pass.result = "pass";
    tests_pass.message = "12 passed, 0 failed";
    Cairn__V1__Reason *build_reasons[] = {&tests_pass};
    Cairn__V1__Verdict build = CAIRN__V1__VERDICT__INIT;
    build.gate = "build";
    build.decision = CAIRN__V1__DECISION__DECISION_ALLOW;
    build.reasons = build_reasons;
    build.n_reasons = 1;

    Cairn__V1__Reason sod = CAIRN__V1__REASON__INIT;
    sod.rule_id = "SOD1";
    sod.result = "fail";
    sod.message = "dana is the author of CHG-1 and cannot approve it";
    Cairn__V1__Reason *deploy_reasons[] = {&sod};
    Cairn__V1__Obligation peer = CAIRN__V1__OBLIGATION__INIT;
    peer.kind = "approval";
    peer.rule_id = "peer";
    peer.roles = roles;
    peer.n_roles = 2;
    peer.missing = 1;
    Cairn__V1__Obligation *obligations[] = {&peer};
    Cairn__V1__Verdict deploy = CAIRN__V1__VERDICT__INIT;
    deploy.gate = "deployment";
    deploy.decision = CAIRN__V1__DECISION__DECISION_DENY;
    deploy.reasons = deploy_reasons;
    deploy.n_reasons = 1;
    deploy.obligations = obligations;
    deploy.n_obligations = 1;
    Cairn__V1__Verdict *gates[] = {&build, &deploy};

    Cairn__V1__ChangeStatus st = CAIRN__V1__CHANGE_STATUS__INIT;
    st.change_id = "CHG-1";
    st.author = "dana";
    st.committers = committers;
    st.n_committers = 1;
    st.commit_sha = S_SHA;
    st.environment = "prod";
    st.approvals = approvals;
    st.n_approvals = 1;
    st.gates = gates;
    st.n_gates = 2;

    char *text = s_render(&st);
    assert_string_equal(text,
                        "change CHG-1\n"
                        "  author:      dana\n"
                        "  committers:  dana\n"
                        "  commit:      " S_SHA "\n"
                        "  environment: prod\n"
                        "approvals:\n"
                        "  dana as dev, index 2, VOID by SOD1: dana is the author of CHG-1 and "
                        "cannot approve it\n"
                        "gates:\n"
                        "  build: allow\n"
                        "    pass    unit-tests: 12 passed, 0 failed\n"
                        "  deployment: deny\n"
                        "    fail    SOD1: dana is the author of CHG-1 and cannot approve it\n"
                        "    open    needs 1 more approval from dev or tech_lead (rule peer)\n");
    free(text);
    assert_false(cli_status_is_empty(&st));
}

static void missing_facts_are_marked_unknown(void **state)
{
    (void)state;
    uint64_t inputs[] = {0};
    Cairn__V1__ChangeStatus st = CAIRN__V1__CHANGE_STATUS__INIT;
    st.change_id = "CHG-9";
    st.input_indexes = inputs;
    st.n_input_indexes = 1;
    char *text = s_render(&st);
    assert_non_null(strstr(text, "author:      (unknown)"));
    assert_non_null(strstr(text, "approvals: none"));
    assert_non_null(strstr(text, "gates: none evaluated yet"));
    assert_null(strstr(text, "committers"));
    free(text);
}

static void a_change_without_facts_counts_as_no_events(void **state)
{
    (void)state;
    Cairn__V1__ChangeStatus st = CAIRN__V1__CHANGE_STATUS__INIT;
    st.change_id = "CHG-404";
    assert_true(cli_status_is_empty(&st));
    assert_true(cli_status_is_empty(NULL));
    st.author = "dana";
    assert_false(cli_status_is_empty(&st));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_change_shows_people_approvals_and_what_each_gate_needs),
        cmocka_unit_test(missing_facts_are_marked_unknown),
        cmocka_unit_test(a_change_without_facts_counts_as_no_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
