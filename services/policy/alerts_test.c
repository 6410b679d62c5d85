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

    s_event(f, "dev.cdevents.testsuiterun.finished.0.3.0", NULL, 3);
    assert_int_equal(f->n_alerts, 0);
    /* Passing tests, then failing again: a new transition. */
    s_event(f, "dev.cdevents.testsuiterun.finished.0.3.0", NULL, 0);
    s_event(f, "dev.cdevents.testsuiterun.finished.0.3.0", NULL, 1);
    assert_int_equal(f->n_alerts, 1);
    assert_string_equal(f->alerts[0].key, "alert:gate_denied:CHG-1:4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            approval_is_requested_once_when_the_gate_starts_waiting_for_it, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_denial_alerts_on_the_transition_only, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
