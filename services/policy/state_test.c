/* Tests for the policy state store: a change and the next ledger index are
 * written together and read back intact, also after reopening the store. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/codec.h"
#include "cairn/lmdbx.h"
#include "change.h"
#include "state.h"

typedef struct {
    char dir[256];
    cairn_state_t *state;
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-policy-state-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    if (cairn_state_open(f->dir, &f->state) < 0)
        return -1;
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_state_destroy(&f->state);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* A change with every kind of fact set. */
static cairn_change_t *s_sample(const char *id)
{
    cairn_change_t *c = cairn_change_new(id);
    assert_non_null(c);
    assert_int_equal(cairn_change_set(&c->author, "dana"), 0);
    assert_int_equal(cairn_change_add_str(&c->committers, &c->n_committers, "dana"), 0);
    assert_int_equal(cairn_change_add_str(&c->committers, &c->n_committers, "frank"), 0);
    assert_int_equal(cairn_change_set(&c->commit_sha, "abc123"), 0);
    assert_int_equal(cairn_change_set(&c->environment, "prod"), 0);
    assert_int_equal(cairn_change_set(&c->service, "payments"), 0);
    assert_int_equal(cairn_change_set(&c->deployer, "riley"), 0);
    assert_int_equal(cairn_change_add_str(&c->paths, &c->n_paths, "db/migrations/1.sql"), 0);
    assert_int_equal(cairn_change_add_str(&c->data_classes, &c->n_data_classes, "PII"), 0);
    c->lines_changed = 812;
    c->last_received_ms = 1795600800123LL;
    assert_int_equal(cairn_change_set(&c->change_type, "emergency"), 0);
    assert_int_equal(cairn_change_set(&c->risk, "high"), 0);
    assert_int_equal(cairn_change_set(&c->cab, "CAB-12"), 0);
    assert_int_equal(cairn_change_set(&c->incident_id, "INC-7"), 0);
    assert_int_equal(cairn_change_add_str(&c->labels, &c->n_labels, "data:pii"), 0);
    c->deployed_at_ms = 1795600900000LL;
    c->review_due_ms = 1795860100000LL;
    c->expiry_warned_ms = 1795687200000LL;
    cairn_change_approval_t a1 = {"erin", "dev", "abc123", 7, false, 1795600700000LL, NULL, NULL, NULL, NULL};
    cairn_change_approval_t a2 = {"lee", "", "abc123", 9, true, 1795600750000LL, NULL, NULL, NULL, NULL};
    assert_int_equal(cairn_change_add_approval(c, &a1), 0);
    assert_int_equal(cairn_change_add_approval(c, &a2), 0);
    cairn_change_evidence_t t = {.kind = "test_report",
                                 .index = 5,
                                 .received_at_ms = 17,
                                 .commit_sha = "abc123",
                                 .outcome = "success",
                                 .passed = 12,
                                 .failed = 1,
                                 .skipped = 2};
    cairn_change_evidence_t s = {.kind = "scan",
                                 .index = 6,
                                 .commit_sha = "",
                                 .outcome = "",
                                 .critical = 1,
                                 .high = 2,
                                 .coverage_line_pct = 81.5,
                                 .has_coverage = true};
    assert_int_equal(cairn_change_put_evidence(c, &t), 0);
    assert_int_equal(cairn_change_put_evidence(c, &s), 0);
    assert_int_equal(cairn_change_set_gate(c, "build", CAIRN__V1__DECISION__DECISION_ALLOW, false),
                     0);
    assert_int_equal(
        cairn_change_set_gate(c, "deployment", CAIRN__V1__DECISION__DECISION_PENDING, true), 0);
    for (uint64_t i = 3; i < 10; i++)
        assert_int_equal(cairn_change_add_input(c, i), 0);
    return c;
}

static void s_assert_sample(const cairn_change_t *c, const char *id)
{
    assert_string_equal(c->id, id);
    assert_string_equal(c->author, "dana");
    assert_int_equal(c->n_committers, 2);
    assert_string_equal(c->committers[1], "frank");
    assert_string_equal(c->commit_sha, "abc123");
    assert_string_equal(c->environment, "prod");
    assert_string_equal(c->service, "payments");
    assert_string_equal(c->deployer, "riley");
    assert_string_equal(c->verifier, "");
    assert_int_equal(c->n_paths, 1);
    assert_string_equal(c->data_classes[0], "PII");
    assert_int_equal(c->lines_changed, 812);
    assert_int_equal(c->last_received_ms, 1795600800123LL);
    assert_string_equal(c->change_type, "emergency");
    assert_string_equal(c->risk, "high");
    assert_string_equal(c->cab, "CAB-12");
    assert_string_equal(c->incident_id, "INC-7");
    assert_int_equal(c->n_labels, 1);
    assert_string_equal(c->labels[0], "data:pii");
    assert_int_equal(c->deployed_at_ms, 1795600900000LL);
    assert_int_equal(c->review_due_ms, 1795860100000LL);
    assert_false(c->review_overdue_alerted);
    assert_int_equal(c->expiry_warned_ms, 1795687200000LL);
    assert_int_equal(c->approvals[0].at_ms, 1795600700000LL);
    assert_int_equal(c->n_approvals, 2);
    assert_string_equal(c->approvals[0].user, "erin");
    assert_string_equal(c->approvals[0].role, "dev");
    assert_int_equal(c->approvals[0].index, 7);
    assert_false(c->approvals[0].rejected);
    assert_true(c->approvals[1].rejected);
    const cairn_change_evidence_t *t = cairn_change_evidence(c, "test_report");
    assert_non_null(t);
    assert_int_equal(t->index, 5);
    assert_int_equal(t->received_at_ms, 17);
    assert_int_equal(t->passed, 12);
    assert_int_equal(t->failed, 1);
    assert_int_equal(t->skipped, 2);
    assert_string_equal(t->outcome, "success");
    assert_string_equal(t->commit_sha, "abc123");
    const cairn_change_evidence_t *s = cairn_change_evidence(c, "scan");
    assert_non_null(s);
    assert_int_equal(s->high, 2);
    assert_true(s->has_coverage);
    assert_true(s->coverage_line_pct > 81.4 && s->coverage_line_pct < 81.6);
    assert_int_equal(c->n_gates, 2);
    assert_int_equal(cairn_change_gate(c, "build")->decision, CAIRN__V1__DECISION__DECISION_ALLOW);
    assert_true(cairn_change_gate(c, "deployment")->awaiting_approval);
    assert_false(cairn_change_gate(c, "build")->awaiting_approval);
    assert_int_equal(c->n_inputs, 7);
    assert_int_equal(c->inputs[6], 9);
}

static void a_change_and_the_next_index_round_trip(void **state)
{
    s_fixture_t *f = *state;
    cairn_change_t *c = s_sample("CHG-1"), *back = NULL;
    uint64_t next = 99;

    /* A fresh store starts at index 0 and knows no change. */
    assert_int_equal(cairn_state_read(f->state, "CHG-1", &back, &next), 0);
    assert_null(back);
    assert_int_equal(next, 0);

    assert_int_equal(cairn_state_commit(f->state, c, 42), 0);
    assert_int_equal(cairn_state_read(f->state, "CHG-1", &back, &next), 0);
    assert_non_null(back);
    assert_int_equal(next, 42);
    s_assert_sample(back, "CHG-1");
    cairn_change_destroy(&back);

    /* Progress without a change (an entry that touched none). */
    assert_int_equal(cairn_state_commit(f->state, NULL, 43), 0);
    assert_int_equal(cairn_state_read(f->state, "CHG-1", NULL, &next), 0);
    assert_int_equal(next, 43);

    /* Survives closing and reopening the store. */
    cairn_state_destroy(&f->state);
    assert_int_equal(cairn_state_open(f->dir, &f->state), 0);
    assert_int_equal(cairn_state_read(f->state, "CHG-1", &back, &next), 0);
    assert_int_equal(next, 43);
    s_assert_sample(back, "CHG-1");
    cairn_change_destroy(&back);
    cairn_change_destroy(&c);
}

static void changes_whose_ids_share_a_prefix_stay_apart(void **state)
{
    s_fixture_t *f = *state;
    cairn_change_t *a = s_sample("A"), *ax = cairn_change_new("A/x"), *back = NULL;
    cairn_change_evidence_t b = {
        .kind = "build", .index = 11, .commit_sha = "", .outcome = "failure"};
    assert_int_equal(cairn_change_put_evidence(ax, &b), 0);
    assert_int_equal(cairn_state_commit(f->state, a, 1), 0);
    assert_int_equal(cairn_state_commit(f->state, ax, 2), 0);

    assert_int_equal(cairn_state_read(f->state, "A", &back, NULL), 0);
    assert_int_equal(back->n_evidence, 2);
    assert_null(cairn_change_evidence(back, "build"));
    cairn_change_destroy(&back);
    assert_int_equal(cairn_state_read(f->state, "A/x", &back, NULL), 0);
    assert_int_equal(back->n_evidence, 1);
    assert_string_equal(back->evidence[0].outcome, "failure");
    cairn_change_destroy(&back);
    cairn_change_destroy(&a);
    cairn_change_destroy(&ax);
}

static void an_approval_replaces_the_same_persons_earlier_decision(void **state)
{
    (void)state;
    cairn_change_t *c = cairn_change_new("CHG-2");
    cairn_change_approval_t no = {"erin", "", "abc", 3, true, 0, NULL, NULL, NULL, NULL};
    cairn_change_approval_t yes = {"erin", "", "abc", 4, false, 0, NULL, NULL, NULL, NULL};
    cairn_change_approval_t other = {"erin", "", "def", 5, false, 0, NULL, NULL, NULL, NULL};
    assert_int_equal(cairn_change_add_approval(c, &no), 0);
    assert_int_equal(cairn_change_add_approval(c, &yes), 0);
    assert_int_equal(c->n_approvals, 1);
    assert_false(c->approvals[0].rejected);
    assert_int_equal(cairn_change_add_approval(c, &other), 0);
    assert_int_equal(c->n_approvals, 2);
    cairn_change_destroy(&c);
}

static void open_reviews_are_found_by_their_due_time(void **state)
{
    s_fixture_t *f = *state;
    cairn_change_t *a = s_sample("A"), *b = s_sample("B"), *c = s_sample("C");
    a->review_due_ms = 100;
    b->review_due_ms = 300;
    c->review_due_ms = 100;
    c->review_overdue_alerted = true; /* already told */
    assert_int_equal(cairn_state_commit(f->state, a, 1), 0);
    assert_int_equal(cairn_state_commit(f->state, b, 2), 0);
    assert_int_equal(cairn_state_commit(f->state, c, 3), 0);
    char **ids = NULL;
    size_t n = 0;
    assert_int_equal(cairn_state_due_reviews(f->state, 200, &ids, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], "A");
    cairn_state_ids_free(&ids, n);
    assert_int_equal(cairn_state_due_reviews(f->state, 300, &ids, &n), 0);
    assert_int_equal(n, 2);
    cairn_state_ids_free(&ids, n);
    /* Closing A's review takes it out of the index. */
    a->review_due_ms = 0;
    assert_int_equal(cairn_state_commit(f->state, a, 4), 0);
    assert_int_equal(cairn_state_due_reviews(f->state, 300, &ids, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ids[0], "B");
    cairn_state_ids_free(&ids, n);
    cairn_change_destroy(&a);
    cairn_change_destroy(&b);
    cairn_change_destroy(&c);
}

static void a_store_of_an_older_layout_is_emptied_and_rederived(void **state)
{
    s_fixture_t *f = *state;
    cairn_change_t *c = s_sample("CHG-1"), *back = NULL;
    assert_int_equal(cairn_state_commit(f->state, c, 42), 0);
    assert_false(cairn_state_was_reset(f->state));
    cairn_state_destroy(&f->state);
    /* An older daemon's store: no layout stamp. */
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi meta;
    assert_int_equal(cairn_lmdb_open(f->dir, (size_t)1 << 30, 4, &env), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    MDB_val k = {6, "layout"};
    assert_int_equal(mdb_del(txn, meta, &k, NULL), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    uint64_t next = 0;
    assert_int_equal(cairn_state_open(f->dir, &f->state), 0);
    assert_true(cairn_state_was_reset(f->state));
    assert_int_equal(cairn_state_read(f->state, "CHG-1", &back, &next), 0);
    assert_null(back);
    assert_int_equal(next, 0);
    /* Once stamped it stays. */
    cairn_state_destroy(&f->state);
    assert_int_equal(cairn_state_open(f->dir, &f->state), 0);
    assert_false(cairn_state_was_reset(f->state));
    cairn_change_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_change_and_the_next_index_round_trip, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(changes_whose_ids_share_a_prefix_stay_apart, s_setup,
                                        s_teardown),
        cmocka_unit_test(an_approval_replaces_the_same_persons_earlier_decision),
        cmocka_unit_test_setup_teardown(open_reviews_are_found_by_their_due_time, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(a_store_of_an_older_layout_is_emptied_and_rederived,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
