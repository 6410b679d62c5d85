/* Tests for evaluation: events are folded into a change exactly as the
 * daemon does, then every gate of the built-in policy (or a small policy
 * written here) is evaluated and its decision and reasons checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "change.h"
#include "evaluate.h"
#include "policy_load.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_MERGE "cccccccccccccccccccccccccccccccccccccccc"

#define ALLOW CAIRN__V1__DECISION__DECISION_ALLOW
#define DENY CAIRN__V1__DECISION__DECISION_DENY
#define PENDING CAIRN__V1__DECISION__DECISION_PENDING
#define MANUAL CAIRN__V1__DECISION__DECISION_MANUAL

/* An event with its parts, built on the stack. */
typedef struct {
    Cairn__V1__Event ev;
    Cairn__V1__Correlation corr;
    Cairn__V1__Governance gov;
    Cairn__V1__Evidence evd;
    char *committers[4];
} s_event_t;

static void s_init(s_event_t *e, const char *type)
{
    memset(e, 0, sizeof *e);
    cairn__v1__event__init(&e->ev);
    cairn__v1__correlation__init(&e->corr);
    cairn__v1__governance__init(&e->gov);
    cairn__v1__evidence__init(&e->evd);
    e->ev.type = (char *)type;
    e->ev.correlation = &e->corr;
    e->ev.governance = &e->gov;
    e->corr.change_id = "CHG-1";
    e->ev.received_at_ms = 1795600800000LL;
}

typedef struct {
    cairn_policy_t *policy;
    cairn_change_t *change;
    uint64_t next;                 /* ledger index of the next event */
    Cairn__V1__Verdict **verdicts; /* latest evaluation, per gate */
    size_t n;
} s_fixture_t;

static void s_apply(s_fixture_t *f, s_event_t *e)
{
    assert_int_equal(cairn_change_apply_event(f->change, &e->ev, f->next++), 0);
}

static void s_created(s_fixture_t *f, const char *author, const char *sha)
{
    s_event_t e;
    s_init(&e, "dev.cdevents.change.created.0.4.0");
    e.corr.commit_sha = (char *)sha;
    e.corr.environment = "prod";
    e.corr.service = "payments";
    e.gov.author = (char *)author;
    e.committers[0] = (char *)author;
    e.gov.committers = e.committers;
    e.gov.n_committers = 1;
    s_apply(f, &e);
}

static void s_updated(s_fixture_t *f, const char *sha)
{
    s_event_t e;
    s_init(&e, "dev.cdevents.change.updated.0.4.0");
    e.corr.commit_sha = (char *)sha;
    s_apply(f, &e);
}

static void s_tests(s_fixture_t *f, uint32_t passed, uint32_t failed)
{
    s_event_t e;
    s_init(&e, "dev.cdevents.testsuiterun.finished.0.3.0");
    e.ev.evidence = &e.evd;
    e.evd.kind = "test_report";
    e.evd.outcome = failed ? "failure" : "success";
    e.evd.tests_passed = passed;
    e.evd.tests_failed = failed;
    s_apply(f, &e);
}

/* Test evidence about commit sha (NULL: none stated). */
static void s_tests_at(s_fixture_t *f, const char *sha)
{
    s_event_t e;
    s_init(&e, "dev.cdevents.testsuiterun.finished.0.3.0");
    e.ev.evidence = &e.evd;
    e.evd.kind = "test_report";
    e.evd.outcome = "success";
    e.evd.tests_passed = 7;
    if (sha)
        e.corr.commit_sha = (char *)sha;
    s_apply(f, &e);
}

/* The change merged: head still sha, merge commit merge. */
static void s_merged(s_fixture_t *f, const char *sha, const char *merge)
{
    s_event_t e;
    s_init(&e, "dev.cdevents.change.merged.0.3.0");
    e.corr.commit_sha = (char *)sha;
    e.gov.merge_sha = (char *)merge;
    s_apply(f, &e);
}

static void s_approve(s_fixture_t *f, const char *who, const char *sha, const char *decision)
{
    s_event_t e;
    s_init(&e, "dev.cdeventsx.cairn-approval.granted.0.1.0");
    e.gov.approver = (char *)who;
    e.gov.approval_decision = (char *)decision;
    if (sha)
        e.corr.commit_sha = (char *)sha;
    s_apply(f, &e);
}

static void s_evaluate(s_fixture_t *f)
{
    cairn_verdicts_free(&f->verdicts, f->n);
    cairn_eval_opts_t o = {.now_ms = 1795600800000LL, .trigger_index = f->next - 1};
    assert_int_equal(cairn_evaluate_all(f->policy, "CHG-1", f->change, &o, &f->verdicts, &f->n), 0);
    assert_int_equal(f->n, f->policy->n_gates);
}

static const Cairn__V1__Verdict *s_gate(s_fixture_t *f, const char *gate)
{
    int i = cairn_policy_gate_index(f->policy, gate);
    assert_true(i >= 0);
    return f->verdicts[i];
}

static const Cairn__V1__Reason *s_reason(const Cairn__V1__Verdict *v, const char *rule)
{
    for (size_t i = 0; i < v->n_reasons; i++)
        if (strcmp(v->reasons[i]->rule_id, rule) == 0)
            return v->reasons[i];
    return NULL;
}

static void s_dump(const Cairn__V1__Verdict *v)
{
    print_message("  %s: %s\n", v->gate, cairn_decision_name(v->decision));
    for (size_t i = 0; i < v->n_reasons; i++)
        print_message("    %s %s: %s\n", v->reasons[i]->rule_id, v->reasons[i]->result,
                      v->reasons[i]->message);
}

static int s_setup_yaml(void **state, const char *yaml)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    int rc = yaml ? cairn_policy_load_string("t.yaml", yaml, strlen(yaml), &errs, &f->policy)
                  : cairn_policy_load_default(&errs, &f->policy);
    for (size_t i = 0; i < errs.count; i++)
        print_message("%s\n", errs.items[i]);
    cairn_errlist_clear(&errs);
    if (rc < 0)
        return -1;
    f->change = cairn_change_new("CHG-1");
    *state = f;
    return 0;
}

static int s_setup(void **state)
{
    return s_setup_yaml(state, NULL);
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_verdicts_free(&f->verdicts, f->n);
    cairn_change_destroy(&f->change);
    cairn_policy_unref(&f->policy);
    free(f);
    return 0;
}

static void without_approvals_the_deployment_gate_is_pending(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "dana", SHA_A);
    s_tests(f, 12, 0);
    s_evaluate(f);
    const Cairn__V1__Verdict *build = s_gate(f, "build"), *dep = s_gate(f, "deployment");
    s_dump(build);
    s_dump(dep);
    assert_int_equal(build->decision, ALLOW);
    assert_string_equal(s_reason(build, "unit-tests")->result, "pass");
    assert_int_equal(dep->decision, PENDING);
    assert_string_equal(s_reason(dep, "after:build")->result, "pass");
    assert_string_equal(s_reason(dep, "peer")->result, "missing");
    assert_string_equal(s_reason(dep, "SOD1")->result, "pass");
    assert_int_equal(dep->n_obligations, 1);
    assert_string_equal(dep->obligations[0]->kind, "approval");
    assert_int_equal(dep->obligations[0]->missing, 1);
    assert_int_equal(dep->obligations[0]->n_roles, 2);
    assert_string_equal(dep->obligations[0]->roles[0], "dev");
    /* The verdict names its subject, policy and inputs. */
    assert_string_equal(dep->change_id, "CHG-1");
    assert_string_equal(dep->environment, "prod");
    assert_string_equal(dep->commit_sha, SHA_A);
    assert_string_equal(dep->policy_name, "default");
    assert_int_equal(strncmp(dep->policy_digest, "sha256:", 7), 0);
    assert_string_equal(dep->risk, "low");
    assert_string_equal(dep->change_type, "normal");
    assert_int_equal(dep->n_input_indexes, 2);
    assert_int_equal(dep->trigger_index, 1);
    assert_int_equal(dep->evaluated_at_ms, 1795600800000LL);
}

static void a_self_approval_denies_until_a_peer_approves(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "dana", SHA_A);
    s_tests(f, 12, 0);
    s_approve(f, "dana", NULL, "granted");
    s_evaluate(f);
    const Cairn__V1__Verdict *dep = s_gate(f, "deployment");
    s_dump(dep);
    assert_int_equal(dep->decision, DENY);
    const Cairn__V1__Reason *sod = s_reason(dep, "SOD1");
    assert_non_null(sod);
    assert_string_equal(sod->result, "fail");
    assert_string_equal(sod->message, "dana is the author of CHG-1 and cannot approve it");
    assert_int_equal(dep->n_approvals, 1);
    assert_true(dep->approvals[0]->void_);
    assert_string_equal(dep->approvals[0]->void_rule, "SOD1");

    s_approve(f, "erin", NULL, "granted");
    s_evaluate(f);
    dep = s_gate(f, "deployment");
    s_dump(dep);
    assert_int_equal(dep->decision, ALLOW);
    assert_string_equal(s_reason(dep, "peer")->result, "pass");
    /* The void approval is still listed, as ignored. */
    assert_string_equal(s_reason(dep, "SOD1")->result, "void");
    assert_int_equal(dep->n_approvals, 2);
    assert_false(dep->approvals[1]->void_);
    assert_string_equal(dep->approvals[1]->role, "dev");
    assert_int_equal(dep->n_obligations, 0);
}

static void an_approval_for_an_old_commit_does_not_count_after_a_new_commit(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "dana", SHA_A);
    s_tests(f, 12, 0);
    s_approve(f, "erin", NULL, "granted");
    s_evaluate(f);
    assert_int_equal(s_gate(f, "deployment")->decision, ALLOW);
    assert_string_equal(f->change->approvals[0].commit_sha, SHA_A);

    s_updated(f, SHA_B);
    s_tests(f, 12, 0);
    s_evaluate(f);
    const Cairn__V1__Verdict *dep = s_gate(f, "deployment");
    s_dump(dep);
    assert_int_equal(dep->decision, PENDING);
    assert_string_equal(s_reason(dep, "new_commit")->result, "void");
    assert_true(dep->approvals[0]->void_);
    assert_string_equal(dep->approvals[0]->void_rule, "new_commit");

    s_approve(f, "erin", SHA_B, "granted");
    s_evaluate(f);
    assert_int_equal(s_gate(f, "deployment")->decision, ALLOW);
}

static void a_service_account_approval_is_void_by_sod3(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "dana", SHA_A);
    s_tests(f, 12, 0);
    s_approve(f, "ci-bot", NULL, "granted");
    s_evaluate(f);
    const Cairn__V1__Verdict *dep = s_gate(f, "deployment");
    s_dump(dep);
    assert_int_equal(dep->decision, DENY);
    assert_string_equal(s_reason(dep, "SOD3")->result, "fail");
    assert_string_equal(s_reason(dep, "SOD3")->message,
                        "ci-bot is a service account and cannot approve CHG-1");
    assert_string_equal(s_reason(dep, "SOD1")->result, "pass");
    assert_string_equal(dep->approvals[0]->void_rule, "SOD3");
}

static void failing_tests_deny_the_build_and_the_gates_after_it(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "dana", SHA_A);
    s_evaluate(f);
    /* No test report yet: build pending, deployment waits on it. */
    assert_int_equal(s_gate(f, "build")->decision, PENDING);
    assert_string_equal(s_reason(s_gate(f, "build"), "unit-tests")->result, "missing");
    assert_int_equal(s_gate(f, "deployment")->decision, PENDING);
    assert_string_equal(s_reason(s_gate(f, "deployment"), "after:build")->result, "missing");

    s_tests(f, 10, 3);
    s_approve(f, "erin", NULL, "granted");
    s_evaluate(f);
    const Cairn__V1__Verdict *build = s_gate(f, "build"), *dep = s_gate(f, "deployment");
    s_dump(build);
    s_dump(dep);
    assert_int_equal(build->decision, DENY);
    assert_string_equal(s_reason(build, "unit-tests")->result, "fail");
    assert_non_null(
        strstr(s_reason(build, "unit-tests")->message, "3 failed tests (at most 0 allowed)"));
    assert_int_equal(dep->decision, DENY);
    assert_string_equal(s_reason(dep, "after:build")->result, "fail");

    /* A passing run afterwards clears both. */
    s_tests(f, 13, 0);
    s_evaluate(f);
    assert_int_equal(s_gate(f, "build")->decision, ALLOW);
    assert_int_equal(s_gate(f, "deployment")->decision, ALLOW);
}

static void a_rejection_denies(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "dana", SHA_A);
    s_tests(f, 1, 0);
    s_approve(f, "erin", NULL, "rejected");
    s_evaluate(f);
    const Cairn__V1__Verdict *dep = s_gate(f, "deployment");
    s_dump(dep);
    assert_int_equal(dep->decision, DENY);
    assert_string_equal(s_reason(dep, "rejection")->result, "fail");
    /* The same person changing their mind replaces the rejection. */
    s_approve(f, "erin", NULL, "granted");
    s_evaluate(f);
    assert_int_equal(s_gate(f, "deployment")->decision, ALLOW);
}

static void an_unknown_change_is_pending_with_no_events(void **state)
{
    s_fixture_t *f = *state;
    Cairn__V1__Verdict *v = NULL;
    cairn_eval_opts_t o = {0};
    assert_int_equal(cairn_evaluate_gate(f->policy, "CHG-404", NULL, "deployment", &o, &v), 0);
    assert_int_equal(v->decision, PENDING);
    assert_string_equal(v->reasons[0]->message, "no events recorded for change CHG-404");
    CAIRN_CODEC_FREE(&v);
    assert_int_equal(cairn_evaluate_gate(f->policy, "CHG-404", NULL, "nope", &o, &v),
                     CAIRN_ENOTFOUND);
}

static const char *s_all_of_policy =
    "apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: t }\n"
    "roles:\n"
    "  dev: { users: [dana, erin] }\n"
    "  privacy: { users: [pat, sam] }\n"
    "  security: { users: [sam] }\n"
    "approvals:\n"
    "  distinct_persons: true\n"
    "  rules:\n"
    "    - { id: peer, when: { env: [prod] }, from: [dev], count: 1 }\n"
    "    - { id: staging-only, when: { env: [staging] }, from: [dev], count: 2 }\n"
    "    - id: regulated\n"
    "      all_of: [ { from: [privacy], count: 1 }, { from: [security], count: 1 } ]\n"
    "gates:\n"
    "  deployment: { require: { approvals_satisfied: true } }\n";

static int s_setup_all_of(void **state)
{
    return s_setup_yaml(state, s_all_of_policy);
}

static void one_person_fills_one_slot_and_the_matching_finds_the_assignment(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "dana", SHA_A);
    /* sam could fill privacy or security; pat only privacy. Whatever the
     * order, both slots of `regulated` are filled once pat approves. */
    s_approve(f, "sam", NULL, "granted");
    s_approve(f, "erin", NULL, "granted");
    s_evaluate(f);
    const Cairn__V1__Verdict *dep = s_gate(f, "deployment");
    s_dump(dep);
    assert_int_equal(dep->decision, PENDING);
    assert_string_equal(s_reason(dep, "staging-only")->result, "skip");
    assert_string_equal(s_reason(dep, "regulated")->result, "missing");

    s_approve(f, "pat", NULL, "granted");
    s_evaluate(f);
    dep = s_gate(f, "deployment");
    s_dump(dep);
    assert_int_equal(dep->decision, ALLOW);
    assert_string_equal(dep->approvals[0]->role, "security");
    assert_string_equal(dep->approvals[2]->role, "privacy");
}

static void a_revoked_approval_withdraws_only_that_persons_decision(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "dana", SHA_A);
    s_tests(f, 1, 0);
    s_approve(f, "erin", SHA_A, "granted");
    s_approve(f, "lee", SHA_A, "granted");
    /* GitLab unapproval by erin: lee's approval still carries the gate. */
    s_approve(f, "erin", SHA_A, "revoked");
    s_evaluate(f);
    const Cairn__V1__Verdict *dep = s_gate(f, "deployment");
    s_dump(dep);
    assert_int_equal(dep->decision, ALLOW);
    assert_null(s_reason(dep, "rejection"));
    assert_int_equal(dep->n_approvals, 1);
    assert_string_equal(dep->approvals[0]->user, "lee");
    assert_int_equal(f->change->n_approvals, 1);

    /* lee's review dismissed: nobody approves now, which waits, never denies. */
    s_approve(f, "lee", SHA_A, "revoked");
    s_evaluate(f);
    dep = s_gate(f, "deployment");
    s_dump(dep);
    assert_int_equal(dep->decision, PENDING);
    assert_null(s_reason(dep, "rejection"));
    assert_int_equal(dep->n_approvals, 0);
    assert_string_equal(s_reason(dep, "peer")->result, "missing");
    /* The revocations are inputs of the verdict all the same. */
    assert_int_equal(dep->n_input_indexes, 6);

    /* Revoking what was never given changes nothing. */
    s_approve(f, "frank", NULL, "revoked");
    s_approve(f, "erin", SHA_A, "granted");
    s_evaluate(f);
    assert_int_equal(s_gate(f, "deployment")->decision, ALLOW);
}

static void a_revocation_on_a_newer_head_withdraws_the_older_approval(void **state)
{
    s_fixture_t *f = *state;
    /* erin approved commit A; a GitLab unapproval arrives naming the new
     * head B, on which erin never decided: her decision is withdrawn. */
    s_created(f, "dana", SHA_A);
    s_approve(f, "erin", SHA_A, "granted");
    s_approve(f, "lee", SHA_A, "rejected");
    s_approve(f, "erin", SHA_B, "revoked");
    assert_int_equal(f->change->n_approvals, 1);
    assert_string_equal(f->change->approvals[0].user, "lee");
    /* A revoked rejection is no rejection any more. */
    s_approve(f, "lee", SHA_A, "revoked");
    s_tests(f, 1, 0);
    s_evaluate(f);
    const Cairn__V1__Verdict *dep = s_gate(f, "deployment");
    assert_int_equal(dep->decision, PENDING);
    assert_null(s_reason(dep, "rejection"));
}

static void evidence_for_the_merge_commit_counts_for_the_change(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "dana", SHA_A);
    s_approve(f, "erin", SHA_A, "granted"); /* bound to the PR head */
    s_merged(f, SHA_A, SHA_MERGE);
    assert_string_equal(f->change->commit_sha, SHA_A);
    assert_string_equal(f->change->merge_sha, SHA_MERGE);

    /* The build after the merge runs on the merge commit. */
    s_tests_at(f, SHA_MERGE);
    s_evaluate(f);
    const Cairn__V1__Verdict *build = s_gate(f, "build");
    s_dump(build);
    assert_int_equal(build->decision, ALLOW);
    const Cairn__V1__Verdict *dep = s_gate(f, "deployment");
    s_dump(dep);
    assert_int_equal(dep->decision, ALLOW); /* the head's approval stays valid */
    assert_string_equal(dep->commit_sha, SHA_A);

    /* An event describing the change at its merge commit does not move it
     * off the head its approvals were given for. */
    s_updated(f, SHA_MERGE);
    assert_string_equal(f->change->commit_sha, SHA_A);
    s_approve(f, "lee", SHA_MERGE, "granted");
    s_evaluate(f);
    dep = s_gate(f, "deployment");
    assert_int_equal(dep->decision, ALLOW);
    assert_null(s_reason(dep, "new_commit"));

    /* Evidence about any other commit is still not this change's. */
    s_tests_at(f, SHA_B);
    s_evaluate(f);
    build = s_gate(f, "build");
    assert_int_equal(build->decision, PENDING);
    assert_non_null(strstr(s_reason(build, "unit-tests")->message, "not the current commit"));
}

static void deciding_first_and_writing_later_give_the_same_verdict(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "dana", SHA_A);
    s_tests(f, 3, 0);
    s_approve(f, "dana", NULL, "granted");
    cairn_eval_opts_t o = {.now_ms = 1795600800000LL, .trigger_index = f->next - 1};
    cairn_evaluation_t all;
    cairn_eval_t *lazy = NULL;
    assert_int_equal(cairn_evaluate_change(f->policy, "CHG-1", f->change, &o, &all), 0);
    assert_int_equal(cairn_eval_new(f->policy, "CHG-1", f->change, &o, false, &lazy), 0);
    int gi = cairn_policy_gate_index(f->policy, "deployment");
    /* Decided without a sentence written. */
    const cairn_findings_t *found = cairn_eval_findings(lazy, (size_t)gi);
    assert_int_equal(cairn_eval_decision(lazy, (size_t)gi), DENY);
    assert_true(found->n_reasons > 0);
    for (size_t i = 0; i < found->n_reasons; i++)
        assert_null(found->reasons[i].message);
    /* Written on request: the same bytes as writing while deciding. */
    Cairn__V1__Verdict *v = NULL, *again = NULL;
    assert_int_equal(cairn_eval_verdict(lazy, (size_t)gi, &v), 0);
    assert_int_equal(cairn_eval_verdict(lazy, (size_t)gi, &again), 0);
    assert_ptr_equal(v, again);
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    assert_int_equal(cairn_codec_pack(&v->base, &a, &na), 0);
    assert_int_equal(cairn_codec_pack(&all.verdicts[gi]->base, &b, &nb), 0);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, na);
    free(a);
    free(b);
    /* Nothing here depends on the time. */
    assert_true(cairn_eval_valid_until(lazy) == INT64_MAX);
    cairn_eval_destroy(&lazy);
    cairn_evaluation_clear(&all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(without_approvals_the_deployment_gate_is_pending, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(a_self_approval_denies_until_a_peer_approves, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            an_approval_for_an_old_commit_does_not_count_after_a_new_commit, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_service_account_approval_is_void_by_sod3, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(failing_tests_deny_the_build_and_the_gates_after_it,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_rejection_denies, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(an_unknown_change_is_pending_with_no_events, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            one_person_fills_one_slot_and_the_matching_finds_the_assignment, s_setup_all_of,
            s_teardown),
        cmocka_unit_test_setup_teardown(a_revoked_approval_withdraws_only_that_persons_decision,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_revocation_on_a_newer_head_withdraws_the_older_approval,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(evidence_for_the_merge_commit_counts_for_the_change,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(deciding_first_and_writing_later_give_the_same_verdict,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
