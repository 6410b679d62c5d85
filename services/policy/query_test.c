/* Tests for gate and status queries, answered from a real state store with
 * the built-in policy (the socket thread only moves these bytes), and for
 * finding a change by its correlation keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"
#include "cairn/error.h"
#include "change.h"
#include "keys.h"
#include "policy_load.h"
#include "policy_slot.h"
#include "query.h"
#include "state.h"

typedef struct {
    char dir[256];
    cairn_state_t *state;
    cairn_policy_slot_t *slot;
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-policy-query-XXXXXX");
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = NULL;
    if (!mkdtemp(f->dir) || cairn_state_open(f->dir, &f->state) < 0 ||
        cairn_policy_load_default(&errs, &p) < 0)
        return -1;
    f->slot = cairn_policy_slot_new(p);
    cairn_errlist_clear(&errs);

    /* CHG-1 by dana, tests passed, self-approved: deployment denied. */
    cairn_change_t *c = cairn_change_new("CHG-1");
    cairn_change_set(&c->author, "dana");
    cairn_change_set(&c->commit_sha, "abc");
    cairn_change_set(&c->environment, "prod");
    cairn_change_evidence_t t = {
        .kind = "test_report", .index = 1, .commit_sha = "", .outcome = "success", .passed = 3};
    cairn_change_put_evidence(c, &t);
    cairn_change_approval_t a = {"dana", "", "abc", 2, false, 0, NULL, NULL, NULL, NULL};
    cairn_change_add_approval(c, &a);
    cairn_change_add_input(c, 0);
    cairn_change_add_input(c, 1);
    cairn_change_add_input(c, 2);
    int rc = cairn_state_commit(f->state, c, 5);
    cairn_change_destroy(&c);
    *state = f;
    return rc;
}

#define S_HEAD "9F2C1E4B7A6D5C3B2A1908F7E6D5C4B3A2918070"
#define S_MERGE "74d2df7e0e3b8f4e3c2a1b0f9e8d7c6b5a493827"

/* Folds an event into change id (read from and committed to the store
 * with the event's keys), as the engine does. */
static void s_fold(s_fixture_t *f, const char *id, Cairn__V1__Event *ev, uint64_t index)
{
    cairn_change_t *c = NULL;
    cairn_keys_t keys;
    assert_int_equal(cairn_state_read(f->state, id, &c, NULL), 0);
    if (!c)
        c = cairn_change_new(id);
    assert_int_equal(cairn_change_apply_event(c, ev, index), 0);
    assert_int_equal(cairn_keys_of_event(ev, &keys), 0);
    assert_int_equal(cairn_state_commit_keys(f->state, c, keys.items, keys.n, index + 1), 0);
    cairn_keys_clear(&keys);
    cairn_change_destroy(&c);
}

/* A pull request's change: opened, then merged; then a second change
 * that reuses the pull request's number and an incident. */
static int s_setup_keys(void **state)
{
    int rc = s_setup(state);
    s_fixture_t *f = *state;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Governance gov = CAIRN__V1__GOVERNANCE__INIT;
    ev.correlation = &corr;
    ev.governance = &gov;
    ev.type = "dev.cdevents.change.created.0.4.0";
    corr.change_id = "CHG-2";
    corr.repository = "acme/payments";
    corr.pr_number = "42";
    corr.commit_sha = S_HEAD;
    corr.environment = "prod";
    gov.author = "dana";
    s_fold(f, "CHG-2", &ev, 6);
    ev.type = "dev.cdevents.change.merged.0.3.0";
    gov.merge_sha = S_MERGE;
    corr.incident_id = "INC-9";
    s_fold(f, "CHG-2", &ev, 7);
    /* ServiceNow's record of the same work names its change request. */
    Cairn__V1__Event sn = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Correlation sn_corr = CAIRN__V1__CORRELATION__INIT;
    sn.correlation = &sn_corr;
    sn.type = "com.servicenow.change.created";
    sn.ingest_source = "servicenow";
    sn_corr.change_id = "CHG0030042";
    sn_corr.release_id = "v1.2.0";
    s_fold(f, "CHG0030042", &sn, 8);
    return rc;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_state_destroy(&f->state);
    cairn_policy_slot_destroy(&f->slot);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

static Cairn__V1__PolicyReply *s_ask(s_fixture_t *f, const Cairn__V1__PolicyRequest *req)
{
    uint8_t *buf = NULL, *out = NULL;
    size_t len = 0, out_len = 0;
    assert_int_equal(cairn_codec_pack(&req->base, &buf, &len), 0);
    assert_int_equal(
        cairn_query_answer(f->state, f->slot, NULL, buf, len, 1795600800000LL, &out, &out_len), 0);
    Cairn__V1__PolicyReply *reply = NULL;
    assert_int_equal(cairn_codec_policy_reply_unpack(out, out_len, &reply), 0);
    free(buf);
    free(out);
    return reply;
}

static Cairn__V1__PolicyReply *s_gate(s_fixture_t *f, const char *change, const char *gate)
{
    Cairn__V1__GateQuery g = CAIRN__V1__GATE_QUERY__INIT;
    Cairn__V1__PolicyRequest req = CAIRN__V1__POLICY_REQUEST__INIT;
    g.change_id = (char *)change;
    g.gate = (char *)gate;
    req.body_case = CAIRN__V1__POLICY_REQUEST__BODY_GATE;
    req.gate = &g;
    return s_ask(f, &req);
}

static void a_gate_query_evaluates_the_stored_state(void **state)
{
    s_fixture_t *f = *state;
    Cairn__V1__PolicyReply *r = s_gate(f, "CHG-1", "deployment");
    assert_int_equal(r->status, 0);
    assert_int_equal(r->applied_index, 5);
    assert_non_null(r->verdict);
    assert_int_equal(r->verdict->decision, CAIRN__V1__DECISION__DECISION_DENY);
    assert_int_equal(r->verdict->trigger_index, 2);
    assert_int_equal(r->verdict->evaluated_at_ms, 1795600800000LL);
    int sod1 = 0;
    for (size_t i = 0; i < r->verdict->n_reasons; i++)
        sod1 |= strcmp(r->verdict->reasons[i]->rule_id, "SOD1") == 0;
    assert_true(sod1);
    CAIRN_CODEC_FREE(&r);
}

static void an_unknown_change_is_pending_and_an_unknown_gate_is_not_found(void **state)
{
    s_fixture_t *f = *state;
    Cairn__V1__PolicyReply *r = s_gate(f, "CHG-404", "build");
    assert_int_equal(r->status, 0);
    assert_int_equal(r->verdict->decision, CAIRN__V1__DECISION__DECISION_PENDING);
    assert_string_equal(r->verdict->reasons[0]->message, "no events recorded for change CHG-404");
    CAIRN_CODEC_FREE(&r);

    r = s_gate(f, "CHG-1", "prod");
    assert_int_equal(r->status, CAIRN_ENOTFOUND);
    assert_null(r->verdict);
    assert_string_equal(r->error,
                        "unknown gate 'prod'; policy default has gates: build, deployment");
    CAIRN_CODEC_FREE(&r);
}

static void a_status_query_has_one_verdict_per_gate(void **state)
{
    s_fixture_t *f = *state;
    Cairn__V1__StatusQuery s = CAIRN__V1__STATUS_QUERY__INIT;
    Cairn__V1__PolicyRequest req = CAIRN__V1__POLICY_REQUEST__INIT;
    s.change_id = "CHG-1";
    req.body_case = CAIRN__V1__POLICY_REQUEST__BODY_STATUS;
    req.status = &s;
    Cairn__V1__PolicyReply *r = s_ask(f, &req);
    assert_int_equal(r->status, 0);
    assert_non_null(r->change);
    assert_string_equal(r->change->author, "dana");
    assert_int_equal(r->change->n_gates, 2);
    assert_string_equal(r->change->gates[0]->gate, "build");
    assert_int_equal(r->change->gates[0]->decision, CAIRN__V1__DECISION__DECISION_ALLOW);
    assert_string_equal(r->change->gates[1]->gate, "deployment");
    assert_int_equal(r->change->n_approvals, 1);
    assert_true(r->change->approvals[0]->void_);
    assert_string_equal(r->change->approvals[0]->void_rule, "SOD1");
    assert_int_equal(r->change->n_input_indexes, 3);
    CAIRN_CODEC_FREE(&r);
}

static Cairn__V1__PolicyReply *s_status(s_fixture_t *f, const char *key)
{
    Cairn__V1__StatusQuery q = CAIRN__V1__STATUS_QUERY__INIT;
    Cairn__V1__PolicyRequest req = CAIRN__V1__POLICY_REQUEST__INIT;
    q.change_id = (char *)key;
    req.body_case = CAIRN__V1__POLICY_REQUEST__BODY_STATUS;
    req.status = &q;
    return s_ask(f, &req);
}

static void s_expect_change(s_fixture_t *f, const char *key, const char *change)
{
    Cairn__V1__PolicyReply *r = s_status(f, key);
    assert_int_equal(r->status, 0);
    if (strcmp(r->change->change_id, change) != 0)
        fail_msg("%s names %s, expected %s", key, r->change->change_id, change);
    CAIRN_CODEC_FREE(&r);
}

static void a_query_may_name_the_change_by_any_of_its_keys(void **state)
{
    s_fixture_t *f = *state;
    /* The commit (any case, with or without "sha:"), the merge commit,
     * the pull request, the incident, the release, the change request. */
    s_expect_change(f, "sha:" S_HEAD, "CHG-2");
    s_expect_change(f, "9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070", "CHG-2");
    s_expect_change(f, S_MERGE, "CHG-2");
    s_expect_change(f, "pr:acme/payments#42", "CHG-2");
    s_expect_change(f, "acme/payments#42", "CHG-2");
    s_expect_change(f, "incident:INC-9", "CHG-2");
    s_expect_change(f, "INC-9", "CHG-2");
    s_expect_change(f, "release:v1.2.0", "CHG0030042");
    s_expect_change(f, "v1.2.0", "CHG0030042");
    s_expect_change(f, "cr:CHG0030042", "CHG0030042");
    /* A change id is itself first. */
    s_expect_change(f, "CHG-1", "CHG-1");

    /* Status and gate verdicts name the change found. */
    Cairn__V1__PolicyReply *r = s_status(f, "acme/payments#42");
    assert_string_equal(r->change->author, "dana");
    assert_string_equal(r->change->gates[0]->change_id, "CHG-2");
    assert_int_equal(r->change->n_input_indexes, 2);
    CAIRN_CODEC_FREE(&r);
    r = s_gate(f, "sha:" S_MERGE, "build");
    assert_int_equal(r->status, 0);
    assert_string_equal(r->verdict->change_id, "CHG-2");
    assert_int_equal(r->verdict->trigger_index, 7);
    CAIRN_CODEC_FREE(&r);

    /* A key nothing carries is a change with no events, named as asked. */
    r = s_gate(f, "pr:acme/payments#43", "build");
    assert_int_equal(r->verdict->decision, CAIRN__V1__DECISION__DECISION_PENDING);
    assert_string_equal(r->verdict->change_id, "pr:acme/payments#43");
    assert_string_equal(r->verdict->reasons[0]->message,
                        "no events recorded for change pr:acme/payments#43");
    CAIRN_CODEC_FREE(&r);
    r = s_status(f, "sha:0000000000000000000000000000000000000000");
    assert_string_equal(r->change->change_id, "sha:0000000000000000000000000000000000000000");
    assert_int_equal(r->change->n_input_indexes, 0);
    CAIRN_CODEC_FREE(&r);
}

static void the_latest_change_to_carry_a_key_owns_it(void **state)
{
    s_fixture_t *f = *state;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    ev.correlation = &corr;
    ev.type = "dev.cdevents.change.created.0.4.0";
    corr.change_id = "CHG-3";
    corr.repository = "acme/payments";
    corr.pr_number = "42";
    s_fold(f, "CHG-3", &ev, 9);
    s_expect_change(f, "acme/payments#42", "CHG-3");
    s_expect_change(f, S_MERGE, "CHG-2");
}

static void a_malformed_request_gets_an_error_reply(void **state)
{
    s_fixture_t *f = *state;
    uint8_t junk[] = {0xff, 0xff, 0xff};
    uint8_t *out = NULL;
    size_t out_len = 0;
    assert_int_equal(
        cairn_query_answer(f->state, f->slot, NULL, junk, sizeof junk, 0, &out, &out_len), 0);
    Cairn__V1__PolicyReply *r = NULL;
    assert_int_equal(cairn_codec_policy_reply_unpack(out, out_len, &r), 0);
    assert_int_equal(r->status, CAIRN_EPROTO);
    assert_int_equal(r->applied_index, 5);
    free(out);
    CAIRN_CODEC_FREE(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_gate_query_evaluates_the_stored_state, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            an_unknown_change_is_pending_and_an_unknown_gate_is_not_found, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_status_query_has_one_verdict_per_gate, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(a_malformed_request_gets_an_error_reply, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(a_query_may_name_the_change_by_any_of_its_keys,
                                        s_setup_keys, s_teardown),
        cmocka_unit_test_setup_teardown(the_latest_change_to_carry_a_key_owns_it, s_setup_keys,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
