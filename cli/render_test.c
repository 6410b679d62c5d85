/* Tests for the sentences `cairn status` and `cairn gate` print. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"
#include "render.h"

static void an_approval_obligation_names_the_roles_that_can_fill_it(void **state)
{
    (void)state;
    char buf[256];
    char *roles[] = {"dev", "tech_lead"};
    Cairn__V1__Obligation ob = CAIRN__V1__OBLIGATION__INIT;
    ob.kind = "approval";
    ob.rule_id = "peer";
    ob.roles = roles;
    ob.n_roles = 2;
    ob.missing = 1;
    cli_obligation_text(&ob, buf, sizeof buf);
    assert_string_equal(buf, "needs 1 more approval from dev or tech_lead (rule peer)");
}

static void several_missing_approvals_and_roles_read_naturally(void **state)
{
    (void)state;
    char buf[256];
    char *roles[] = {"cab", "sre", "tech_lead"};
    Cairn__V1__Obligation ob = CAIRN__V1__OBLIGATION__INIT;
    ob.kind = "approval";
    ob.roles = roles;
    ob.n_roles = 3;
    ob.missing = 2;
    cli_obligation_text(&ob, buf, sizeof buf);
    assert_string_equal(buf, "needs 2 more approvals from cab, sre or tech_lead");
}

static void an_evidence_obligation_uses_the_policy_message(void **state)
{
    (void)state;
    char buf[256];
    Cairn__V1__Obligation ob = CAIRN__V1__OBLIGATION__INIT;
    ob.kind = "evidence";
    ob.rule_id = "unit-tests";
    ob.message = "no test_report recorded yet";
    cli_obligation_text(&ob, buf, sizeof buf);
    assert_string_equal(buf, "no test_report recorded yet (rule unit-tests)");
    ob.message = "";
    cli_obligation_text(&ob, buf, sizeof buf);
    assert_string_equal(buf, "needs evidence unit-tests");
}

static void a_short_buffer_truncates_without_overflow(void **state)
{
    (void)state;
    char buf[12];
    char *roles[] = {"dev", "tech_lead"};
    Cairn__V1__Obligation ob = CAIRN__V1__OBLIGATION__INIT;
    ob.kind = "approval";
    ob.roles = roles;
    ob.n_roles = 2;
    ob.missing = 1;
    cli_obligation_text(&ob, buf, sizeof buf);
    assert_int_equal(strlen(buf), sizeof buf - 1);
}

static void a_reason_shows_result_rule_and_message(void **state)
{
    (void)state;
    char buf[256];
    Cairn__V1__Reason r = CAIRN__V1__REASON__INIT;
    r.rule_id = "SOD1";
    r.result = "fail";
    r.message = "dana is the author of CHG-1 and cannot approve it";
    cli_reason_text(&r, buf, sizeof buf);
    assert_string_equal(buf, "fail    SOD1: dana is the author of CHG-1 and cannot approve it");
}

static void a_void_approval_says_which_rule_voided_it_and_why(void **state)
{
    (void)state;
    char buf[256];
    Cairn__V1__Approval ap = CAIRN__V1__APPROVAL__INIT;
    ap.user = "dana";
    ap.role = "dev";
    ap.index = 4;
    ap.commit_sha = "0123456789abcdef0123456789abcdef01234567";
    ap.void_ = 1;
    ap.void_rule = "SOD1";
    ap.void_reason = "dana is the author of CHG-1 and cannot approve it";
    cli_approval_text(&ap, buf, sizeof buf);
    assert_string_equal(buf, "dana as dev, index 4, commit 0123456789ab, VOID by SOD1: dana is "
                             "the author of CHG-1 and cannot approve it");
    ap.void_ = 0;
    ap.commit_sha = "";
    cli_approval_text(&ap, buf, sizeof buf);
    assert_string_equal(buf, "dana as dev, index 4");
}

static void decisions_map_to_exit_codes(void **state)
{
    (void)state;
    assert_int_equal(cli_decision_exit(CAIRN__V1__DECISION__DECISION_ALLOW), 0);
    assert_int_equal(cli_decision_exit(CAIRN__V1__DECISION__DECISION_DENY), 1);
    assert_int_equal(cli_decision_exit(CAIRN__V1__DECISION__DECISION_PENDING), 3);
    assert_int_equal(cli_decision_exit(CAIRN__V1__DECISION__DECISION_MANUAL), 3);
    /* Fail closed: a decision the CLI does not know is never "allowed". */
    assert_int_equal(cli_decision_exit(CAIRN__V1__DECISION__DECISION_UNSPECIFIED), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_approval_obligation_names_the_roles_that_can_fill_it),
        cmocka_unit_test(several_missing_approvals_and_roles_read_naturally),
        cmocka_unit_test(an_evidence_obligation_uses_the_policy_message),
        cmocka_unit_test(a_short_buffer_truncates_without_overflow),
        cmocka_unit_test(a_reason_shows_result_rule_and_message),
        cmocka_unit_test(a_void_approval_says_which_rule_voided_it_and_why),
        cmocka_unit_test(decisions_map_to_exit_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
