/* Tests for alerts: they are raised on transitions only, once per kind per
 * triggering event, with the labels and keys notify relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "change.h"
#include "evaluate.h"
#include "policy_load.h"
#include "verdict.h"

typedef struct {
    cairn_policy_t *policy;
    cairn_change_t *change;
    uint64_t next;
    cairn_alert_out_t alerts[2];
    size_t n_alerts;
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    int rc = cairn_policy_load_default(&errs, &f->policy);
    cairn_errlist_clear(&errs);
    f->change = cairn_change_new("CHG-1");
    *state = f;
    return rc;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_alerts_clear(f->alerts, f->n_alerts);
    cairn_change_destroy(&f->change);
    cairn_policy_unref(&f->policy);
    free(f);
    return 0;
}

/* Folds an event in, evaluates, raises alerts and records the decisions,
 * as the engine does. */
static void s_event(s_fixture_t *f, const char *type, const char *approver, uint32_t failed)
{
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Governance gov = CAIRN__V1__GOVERNANCE__INIT;
    Cairn__V1__Evidence evd = CAIRN__V1__EVIDENCE__INIT;
    char *committers[] = {"dana"};
    ev.type = (char *)type;
    ev.received_at_ms = 1000 + (int64_t)f->next;
    ev.correlation = &corr;
    ev.governance = &gov;
    corr.change_id = "CHG-1";
    if (strstr(type, ".change.")) {
        corr.commit_sha = "abc";
        corr.environment = "prod";
        gov.author = "dana";
        gov.committers = committers;
        gov.n_committers = 1;
    } else if (approver) {
        gov.approver = (char *)approver;
        gov.approval_decision = "granted";
    } else {
        ev.evidence = &evd;
        evd.kind = "test_report";
        evd.tests_passed = 5;
        evd.tests_failed = failed;
    }
    uint64_t index = f->next++;
    assert_int_equal(cairn_change_apply_event(f->change, &ev, index), 0);
    Cairn__V1__Verdict **vs = NULL;
    size_t n = 0;
    cairn_eval_opts_t o = {.now_ms = ev.received_at_ms, .trigger_index = index};
    assert_int_equal(cairn_evaluate_all(f->policy, "CHG-1", f->change, &o, &vs, &n), 0);
    cairn_alerts_clear(f->alerts, f->n_alerts);
    assert_int_equal(cairn_alerts_raise(f->change, vs, n, index, o.now_ms, f->alerts, &f->n_alerts),
                     0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(cairn_change_set_gate(f->change, vs[i]->gate, vs[i]->decision,
                                               cairn_verdict_awaits_approval(vs[i])),
                         0);
    cairn_verdicts_free(&vs, n);
}

static const char *s_label(const Cairn__V1__Alert *a, const char *key)
{
    for (size_t i = 0; i < a->n_labels; i++)
        if (strcmp(a->labels[i]->key, key) == 0)
            return a->labels[i]->value;
    return NULL;
}

static void approval_is_requested_once_when_the_gate_starts_waiting_for_it(void **state)
{
    s_fixture_t *f = *state;
    s_event(f, "dev.cdevents.change.created.0.4.0", NULL, 0);
    assert_int_equal(f->n_alerts, 1);
    const Cairn__V1__Alert *a = f->alerts[0].alert;
    assert_string_equal(f->alerts[0].key, "alert:approval_requested:CHG-1:0");
    assert_string_equal(a->kind, "approval_requested");
    assert_string_equal(a->change_id, "CHG-1");
    assert_string_equal(s_label(a, "change"), "CHG-1");
    assert_string_equal(s_label(a, "gate"), "deployment");
    assert_string_equal(s_label(a, "roles"), "dev,tech_lead");
    assert_int_equal(a->trigger_index, 0);
    assert_int_equal(a->created_at_ms, 1000);

    /* Still waiting after the next event: no new alert. */
    s_event(f, "dev.cdevents.testsuiterun.finished.0.3.0", NULL, 0);
    assert_int_equal(f->n_alerts, 0);
    s_event(f, "dev.cdeventsx.cairn-approval.granted.0.1.0", "erin", 0);
    assert_int_equal(f->n_alerts, 0);
}

static void a_denial_alerts_on_the_transition_only(void **state)
{
    s_fixture_t *f = *state;
    s_event(f, "dev.cdevents.change.created.0.4.0", NULL, 0);
    s_event(f, "dev.cdevents.testsuiterun.finished.0.3.0", NULL, 2);
    assert_int_equal(f->n_alerts, 1);
    const Cairn__V1__Alert *a = f->alerts[0].alert;
    assert_string_equal(f->alerts[0].key, "alert:gate_denied:CHG-1:1");
    assert_string_equal(s_label(a, "gate"), "build");
    assert_string_equal(s_label(a, "gates"), "build,deployment");
    assert_non_null(strstr(a->summary, "2 failed tests"));
    assert_string_equal(s_label(a, "reasons"), "unit-tests");

    s_event(f, "dev.cdevents.testsuiterun.finished.0.3.0", NULL, 3);
    assert_int_equal(f->n_alerts, 0);
    /* Passing tests, then failing again: a new transition. */
    s_event(f, "dev.cdevents.testsuiterun.finished.0.3.0", NULL, 0);
    s_event(f, "dev.cdevents.testsuiterun.finished.0.3.0", NULL, 1);
    assert_int_equal(f->n_alerts, 1);
    assert_string_equal(f->alerts[0].key, "alert:gate_denied:CHG-1:4");
}

/* ---- expiry and post-implementation review, as the engine drives them ---- */

static const char *s_emergency_policy =
    "apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: t }\n"
    "defaults: { timezone: UTC, expiry_warning: 2h }\n"
    "roles:\n"
    "  dev: { users: [dana, erin] }\n"
    "  tech_lead: { users: [lee] }\n"
    "  sre: { users: [riley] }\n"
    "change_types:\n"
    "  emergency:\n"
    "    require: { incident_ref: true }\n"
    "    approvals: [oncall]\n"
    "    post_review: { within: 72h, from: [tech_lead], count: 1 }\n"
    "approvals:\n"
    "  expiry: { low: 24h }\n"
    "  rules:\n"
    "    - { id: peer, from: [dev], count: 1 }\n"
    "    - { id: oncall, from: [sre], count: 1 }\n"
    "gates:\n"
    "  deployment: { require: { approvals_satisfied: true } }\n";

typedef struct {
    cairn_policy_t *policy;
    cairn_change_t *change;
    uint64_t next;
    cairn_alert_list_t alerts;
} s_flow_t;

static int s_setup_flow(void **state)
{
    s_flow_t *f = calloc(1, sizeof *f);
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    int rc = cairn_policy_load_string("t.yaml", s_emergency_policy, strlen(s_emergency_policy),
                                      &errs, &f->policy);
    for (size_t i = 0; i < errs.count; i++)
        print_message("%s\n", errs.items[i]);
    cairn_errlist_clear(&errs);
    f->change = cairn_change_new("CHG-9");
    *state = f;
    return rc;
}

static int s_teardown_flow(void **state)
{
    s_flow_t *f = *state;
    cairn_alert_list_clear(&f->alerts);
    cairn_change_destroy(&f->change);
    cairn_policy_unref(&f->policy);
    free(f);
    return 0;
}

/* One event at time at: fold, evaluate, collect, note — as the engine does. */
static void s_flow(s_flow_t *f, int64_t at, const char *kind, const char *who)
{
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Governance gov = CAIRN__V1__GOVERNANCE__INIT;
    Cairn__V1__Evidence evd = CAIRN__V1__EVIDENCE__INIT;
    ev.correlation = &corr;
    ev.governance = &gov;
    ev.received_at_ms = at;
    corr.change_id = "CHG-9";
    ev.type = "dev.cdevents.change.updated.0.4.0";
    if (strcmp(kind, "created") == 0) {
        ev.type = "dev.cdevents.change.created.0.4.0";
        corr.commit_sha = "abc";
        corr.environment = "prod";
        gov.author = "dana";
        gov.change_type = (char *)who;
        corr.incident_id = "INC-1";
    } else if (strcmp(kind, "approve") == 0) {
        ev.type = "dev.cdeventsx.cairn-approval.granted.0.1.0";
        gov.approver = (char *)who;
        gov.approval_decision = "granted";
    } else if (strcmp(kind, "deployed") == 0) {
        ev.type = "dev.cdevents.service.deployed.0.3.0";
        ev.evidence = &evd;
        evd.kind = "deployment";
        evd.outcome = "success";
    }
    uint64_t index = f->next++;
    assert_int_equal(cairn_change_apply_event(f->change, &ev, index), 0);
    cairn_evaluation_t e;
    cairn_eval_opts_t o = {.now_ms = at, .trigger_index = index};
    assert_int_equal(cairn_evaluate_change(f->policy, "CHG-9", f->change, &o, &e), 0);
    cairn_alert_list_clear(&f->alerts);
    assert_int_equal(cairn_alerts_collect(f->policy, f->change, &e, index, at, &f->alerts), 0);
    assert_int_equal(cairn_alerts_note(f->change, &e, &f->alerts), 0);
    cairn_evaluation_clear(&e);
}

static const Cairn__V1__Alert *s_find(const s_flow_t *f, const char *kind)
{
    for (size_t i = 0; i < f->alerts.n; i++)
        if (strcmp(f->alerts.items[i].alert->kind, kind) == 0)
            return f->alerts.items[i].alert;
    return NULL;
}

#define H 3600000LL

static void an_approval_about_to_expire_is_warned_about_once(void **state)
{
    s_flow_t *f = *state;
    s_flow(f, 0, "created", "normal");
    assert_non_null(s_find(f, "approval_requested"));
    assert_string_equal(s_label(s_find(f, "approval_requested"), "missing"), "1");
    s_flow(f, 1 * H, "approve", "erin"); /* expires at 25h */
    assert_null(s_find(f, "approval_expiring"));
    s_flow(f, 22 * H, "update", NULL); /* 3h left: not yet */
    assert_null(s_find(f, "approval_expiring"));
    s_flow(f, 23 * H + 1, "update", NULL); /* under 2h left */
    const Cairn__V1__Alert *a = s_find(f, "approval_expiring");
    assert_non_null(a);
    assert_string_equal(s_label(a, "expires_at"), "1970-01-02T01:00:00+00:00");
    assert_string_equal(s_label(a, "gate"), "deployment");
    assert_non_null(strstr(a->summary, "the approval by erin"));
    assert_string_equal(f->alerts.items[0].key, "alert:approval_expiring:CHG-9:3");
    s_flow(f, 24 * H, "update", NULL);
    assert_null(s_find(f, "approval_expiring"));
    /* Expired: the gate waits for approval again. */
    s_flow(f, 25 * H, "update", NULL);
    assert_non_null(s_find(f, "approval_requested"));
}

static void an_overdue_post_implementation_review_alerts_on_the_next_event(void **state)
{
    s_flow_t *f = *state;
    s_flow(f, 0, "created", "emergency");
    s_flow(f, 1 * H, "approve", "riley");
    s_flow(f, 2 * H, "deployed", NULL);
    assert_int_equal(f->change->review_due_ms, 74 * H);
    s_flow(f, 73 * H, "update", NULL);
    assert_null(s_find(f, "post_review_overdue"));
    s_flow(f, 75 * H, "update", NULL);
    const Cairn__V1__Alert *a = s_find(f, "post_review_overdue");
    assert_non_null(a);
    assert_string_equal(s_label(a, "roles"), "tech_lead");
    assert_string_equal(s_label(a, "due_at"), "1970-01-04T02:00:00+00:00");
    assert_true(f->change->review_overdue_alerted);
    s_flow(f, 76 * H, "update", NULL);
    assert_null(s_find(f, "post_review_overdue"));
    /* The review closes the obligation. */
    s_flow(f, 77 * H, "approve", "lee");
    assert_int_equal(f->change->review_due_ms, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            approval_is_requested_once_when_the_gate_starts_waiting_for_it, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_denial_alerts_on_the_transition_only, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(an_approval_about_to_expire_is_warned_about_once,
                                        s_setup_flow, s_teardown_flow),
        cmocka_unit_test_setup_teardown(
            an_overdue_post_implementation_review_alerts_on_the_next_event, s_setup_flow,
            s_teardown_flow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
