/* Tests for signed approvals in the policy: approver keys in the role
 * directory, signatures verified when a change is evaluated (valid, a
 * tampered field, another person's key), approvals.require_signed by risk,
 * and how an approval arrived. Events are folded into a change as the
 * daemon folds them; keys are the fixed test keys of common/src/approval_test.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/approval.h"
#include "cairn/error.h"
#include "change.h"
#include "evaluate.h"
#include "policy_load.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define NOW_MS 1795600800000LL /* 2026-11-25T10:00:00Z */

#define ALLOW CAIRN__V1__DECISION__DECISION_ALLOW
#define DENY CAIRN__V1__DECISION__DECISION_DENY
#define PENDING CAIRN__V1__DECISION__DECISION_PENDING

static const char ERIN_SKEY[] =
    "PRIVATE+KEY+erin+e66fe3bd+AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB";
static const char FRANK_SKEY[] =
    "PRIVATE+KEY+frank+f208daa9+AQICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC";

static const char POLICY[] =
    "apiVersion: cairn/v1\n"
    "kind: ReleasePolicy\n"
    "metadata: { name: signed, revision: \"1\" }\n"
    "roles:\n"
    "  dev:\n"
    "    users:\n"
    "      - dana\n"
    "      - { name: erin, key: \"erin+e66fe3bd+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c\" }\n"
    "      - { name: frank, key: [\"ed25519:gTl3Dqh9F19Wo1Rmw0x+zMuNipG07jeiXfYPW4/Js5Q=\"] }\n"
    "      - gina\n"
    "classify:\n"
    "  default: low\n"
    "  rules:\n"
    "    - { id: R1-db, when: { paths_any: [\"db/**\"] }, risk: high }\n"
    "approvals:\n"
    "  distinct_persons: true\n"
    "  invalidate_on: [new_commit]\n"
    "  require_signed: { risk_min: high }\n"
    "  rules:\n"
    "    - { id: peer, from: [dev], count: 1 }\n"
    "separation_of_duties:\n"
    "  - { id: SOD1, role: approver, not: [author, committers] }\n"
    "gates:\n"
    "  deployment:\n"
    "    require: { approvals_satisfied: true }\n";

/* The same directory without keys or require_signed: the behaviour of a
 * policy that predates signed approvals. */
static const char POLICY_NO_KEYS[] = "apiVersion: cairn/v1\n"
                                     "kind: ReleasePolicy\n"
                                     "metadata: { name: plain }\n"
                                     "roles:\n"
                                     "  dev: { users: [dana, erin, frank] }\n"
                                     "approvals:\n"
                                     "  rules:\n"
                                     "    - { id: peer, from: [dev], count: 1 }\n"
                                     "gates:\n"
                                     "  deployment:\n"
                                     "    require: { approvals_satisfied: true }\n";

typedef struct {
    cairn_policy_t *policy;
    cairn_change_t *change;
    uint64_t next;
    Cairn__V1__Verdict **verdicts;
    size_t n;
} s_fixture_t;

/* An approval event as ingest normalizes it, optionally signed. */
typedef struct {
    Cairn__V1__Event ev;
    Cairn__V1__Correlation corr;
    Cairn__V1__Governance gov;
    char *sig, *key;
} s_approval_t;

static void s_event(s_fixture_t *f, const char *author, const char *path)
{
    Cairn__V1__Event ev;
    Cairn__V1__Correlation corr;
    Cairn__V1__Governance gov;
    char *paths[1] = {(char *)path};
    cairn__v1__event__init(&ev);
    cairn__v1__correlation__init(&corr);
    cairn__v1__governance__init(&gov);
    ev.type = "dev.cdevents.change.created.0.4.0";
    ev.correlation = &corr;
    ev.governance = &gov;
    ev.received_at_ms = NOW_MS - 3600000;
    corr.change_id = "CHG-1";
    corr.commit_sha = SHA_A;
    corr.environment = "prod";
    corr.service = "payments";
    gov.author = (char *)author;
    if (path) {
        gov.paths = paths;
        gov.n_paths = 1;
    }
    assert_int_equal(cairn_change_apply_event(f->change, &ev, f->next++), 0);
}

#define APPROVAL_GRANTED "dev.cdeventsx.cairn-approval.granted.0.1.0"

/* An unsigned approval by who of type in CHG-1, received a minute ago. */
static void s_approval_init(s_approval_t *a, const char *type, const char *who)
{
    memset(a, 0, sizeof *a);
    cairn__v1__event__init(&a->ev);
    cairn__v1__correlation__init(&a->corr);
    cairn__v1__governance__init(&a->gov);
    a->ev.type = (char *)type;
    a->ev.correlation = &a->corr;
    a->ev.governance = &a->gov;
    a->ev.received_at_ms = NOW_MS - 60000;
    a->corr.change_id = "CHG-1";
    a->gov.approver = (char *)who;
    a->gov.approval_decision = "granted";
}

/* Signs a statement that skey's owner granted commit in role dev at
 * signed_at, and carries the signature in the event. */
static void s_approval_sign(s_approval_t *a, const char *skey, const char *commit,
                            const char *signed_at)
{
    cairn_note_signer_t *signer = NULL;
    assert_int_equal(cairn_note_signer_parse(skey, &signer), 0);
    cairn_approval_stmt_t st = {.change = "CHG-1",
                                .commit = commit,
                                .role = "dev",
                                .decision = "granted",
                                .approver = cairn_note_signer_name(signer),
                                .signed_at = signed_at};
    assert_int_equal(cairn_approval_sign(&st, signer, &a->sig, &a->key), 0);
    cairn_note_signer_destroy(&signer);
    a->gov.approval_signature = a->sig;
    a->gov.approval_key = a->key;
    a->gov.approval_signed_at = (char *)signed_at;
}

/* Folds the approval into the change as the daemon does. */
static void s_approval_apply(s_fixture_t *f, s_approval_t *a)
{
    assert_int_equal(cairn_change_apply_event(f->change, &a->ev, f->next++), 0);
    free(a->sig);
    free(a->key);
}

/* who approves SHA_A in role dev; signed with skey (NULL: unsigned) at
 * signed_at. The statement signed may differ from the event (tamper). */
static void s_approve(s_fixture_t *f, const char *who, const char *skey, const char *signed_at,
                      const char *signed_commit)
{
    s_approval_t a;
    s_approval_init(&a, APPROVAL_GRANTED, who);
    a.ev.ingest_source = "cloudevents";
    a.ev.authenticated_by = "submit-socket";
    a.corr.commit_sha = SHA_A;
    a.gov.approver_role = "dev";
    if (skey)
        s_approval_sign(&a, skey, signed_commit ? signed_commit : SHA_A, signed_at);
    s_approval_apply(f, &a);
}

static const Cairn__V1__Verdict *s_evaluate(s_fixture_t *f)
{
    cairn_verdicts_free(&f->verdicts, f->n);
    cairn_eval_opts_t o = {.now_ms = NOW_MS, .trigger_index = f->next - 1};
    assert_int_equal(cairn_evaluate_all(f->policy, "CHG-1", f->change, &o, &f->verdicts, &f->n), 0);
    const Cairn__V1__Verdict *v = f->verdicts[0];
    print_message("  %s: %s\n", v->gate, cairn_decision_name(v->decision));
    for (size_t i = 0; i < v->n_reasons; i++)
        print_message("    %s %s: %s\n", v->reasons[i]->rule_id, v->reasons[i]->result,
                      v->reasons[i]->message);
    return v;
}

static const Cairn__V1__Reason *s_reason(const Cairn__V1__Verdict *v, const char *rule)
{
    for (size_t i = 0; i < v->n_reasons; i++)
        if (strcmp(v->reasons[i]->rule_id, rule) == 0)
            return v->reasons[i];
    return NULL;
}

static int s_setup_with(void **state, const char *yaml)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    int rc = cairn_policy_load_string("t.yaml", yaml, strlen(yaml), &errs, &f->policy);
    for (size_t i = 0; i < errs.count; i++)
        print_message("%s\n", errs.items[i]);
    cairn_errlist_clear(&errs);
    if (rc < 0) {
        free(f);
        return -1;
    }
    f->change = cairn_change_new("CHG-1");
    *state = f;
    return 0;
}

static int s_setup(void **state)
{
    return s_setup_with(state, POLICY);
}

static int s_setup_no_keys(void **state)
{
    return s_setup_with(state, POLICY_NO_KEYS);
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

static void the_role_directory_holds_each_approvers_key(void **state)
{
    s_fixture_t *f = *state;
    assert_int_equal(f->policy->n_approver_keys, 2);
    assert_string_equal(f->policy->approver_keys[0].user, "erin");
    assert_string_equal(f->policy->approver_keys[1].user, "frank");
    assert_true(cairn_policy_user_in_role(f->policy, "erin", "dev"));
    assert_true(cairn_policy_user_in_role(f->policy, "gina", "dev"));
    assert_true(cairn_policy_user_has_key(f->policy, "frank"));
    assert_false(cairn_policy_user_has_key(f->policy, "dana"));
}

static void a_signed_approval_counts_and_is_marked_signed(void **state)
{
    s_fixture_t *f = *state;
    s_event(f, "dana", NULL);
    s_approve(f, "erin", ERIN_SKEY, "2026-11-25T09:58:00Z", NULL);
    const Cairn__V1__Verdict *v = s_evaluate(f);
    assert_int_equal(v->decision, ALLOW);
    assert_string_equal(s_reason(v, "signature")->result, "pass");
    assert_string_equal(s_reason(v, "signature")->message,
                        "erin's approval of CHG-1 is signed with erin's key erin+e66fe3bd");
    assert_non_null(strstr(s_reason(v, "peer")->message, "erin (dev, signed)"));
    assert_int_equal(v->n_approvals, 1);
    assert_true(v->approvals[0]->signature_verified);
    assert_string_equal(v->approvals[0]->key, "erin+e66fe3bd");
    assert_string_equal(v->approvals[0]->via, "cloudevents (authenticated by submit-socket)");
}

static void a_tampered_approval_is_void_and_denies(void **state)
{
    s_fixture_t *f = *state;
    s_event(f, "dana", NULL);
    /* erin signed an approval of SHA_B; the event claims SHA_A. */
    s_approve(f, "erin", ERIN_SKEY, "2026-11-25T09:58:00Z", SHA_B);
    const Cairn__V1__Verdict *v = s_evaluate(f);
    assert_int_equal(v->decision, DENY);
    const Cairn__V1__Reason *r = s_reason(v, "signature");
    assert_string_equal(r->result, "fail");
    assert_non_null(strstr(r->message, "does not verify with erin's key"));
    assert_true(v->approvals[0]->void_);
    assert_string_equal(v->approvals[0]->void_rule, "signature");
    assert_false(v->approvals[0]->signature_verified);
}

static void an_approval_signed_with_another_persons_key_is_void(void **state)
{
    s_fixture_t *f = *state;
    s_event(f, "dana", NULL);
    /* frank signs a statement naming erin as the approver. */
    s_approval_t a;
    s_approval_init(&a, APPROVAL_GRANTED, "erin");
    a.corr.commit_sha = SHA_A;
    a.gov.approver_role = "dev";
    s_approval_sign(&a, FRANK_SKEY, SHA_A, "2026-11-25T09:58:00Z");
    s_approval_apply(f, &a);

    const Cairn__V1__Verdict *v = s_evaluate(f);
    assert_int_equal(v->decision, DENY);
    const Cairn__V1__Reason *r = s_reason(v, "signature");
    assert_string_equal(r->result, "fail");
    assert_string_equal(r->message,
                        "erin's approval is signed with frank's key (frank+f208daa9), not with a "
                        "key of erin's in policy signed; the approval is void");
    assert_string_equal(v->approvals[0]->void_rule, "signature");

    /* A valid approval by someone else satisfies the rule; the forged one
     * stays listed as void. */
    s_approve(f, "frank", FRANK_SKEY, "2026-11-25T09:59:00Z", NULL);
    v = s_evaluate(f);
    assert_int_equal(v->decision, ALLOW);
    assert_string_equal(s_reason(v, "signature")->result, "void");
}

static void high_risk_needs_signed_approvals(void **state)
{
    s_fixture_t *f = *state;
    s_event(f, "dana", "db/migrations/001.sql");
    s_approve(f, "gina", NULL, NULL, NULL);
    const Cairn__V1__Verdict *v = s_evaluate(f);
    assert_string_equal(v->risk, "high");
    assert_int_equal(v->decision, PENDING);
    const Cairn__V1__Reason *r = s_reason(v, "unsigned");
    assert_string_equal(r->result, "missing");
    assert_non_null(strstr(r->message, "gina's approval of CHG-1 is not signed"));
    assert_string_equal(v->approvals[0]->void_rule, "unsigned");

    s_approve(f, "erin", ERIN_SKEY, "2026-11-25T09:59:00Z", NULL);
    v = s_evaluate(f);
    assert_int_equal(v->decision, ALLOW);
    assert_string_equal(s_reason(v, "unsigned")->result, "void");
}

static void an_unsigned_approval_at_low_risk_still_counts(void **state)
{
    s_fixture_t *f = *state;
    s_event(f, "dana", "src/main.c");
    s_approve(f, "gina", NULL, NULL, NULL);
    const Cairn__V1__Verdict *v = s_evaluate(f);
    assert_string_equal(v->risk, "low");
    assert_int_equal(v->decision, ALLOW);
    assert_null(s_reason(v, "unsigned"));
    assert_false(v->approvals[0]->signature_verified);
}

static void a_signed_approval_counts_from_when_it_was_signed(void **state)
{
    s_fixture_t *f = *state;
    s_event(f, "dana", NULL);
    /* Signed two hours before it was received (a replayed approval): it is
     * as old as its signature. */
    s_approve(f, "erin", ERIN_SKEY, "2026-11-25T08:00:00Z", NULL);
    assert_int_equal(f->change->approvals[0].at_ms, NOW_MS - 2 * 3600000LL);
    /* Signed "in the future": the received time stands. */
    s_approve(f, "frank", FRANK_SKEY, "2026-11-26T00:00:00Z", NULL);
    assert_int_equal(f->change->approvals[1].at_ms, NOW_MS - 60000);
}

static void without_keys_a_signature_changes_nothing(void **state)
{
    s_fixture_t *f = *state;
    s_event(f, "dana", NULL);
    s_approve(f, "erin", ERIN_SKEY, "2026-11-25T09:58:00Z", NULL);
    const Cairn__V1__Verdict *v = s_evaluate(f);
    assert_int_equal(v->decision, ALLOW);
    assert_string_equal(s_reason(v, "signature")->result, "skip");
    assert_non_null(strstr(s_reason(v, "signature")->message, "holds no key for erin"));
    assert_false(v->approvals[0]->signature_verified);
    assert_false(v->approvals[0]->void_);
}

static void an_approval_from_an_authenticated_itsm_source_says_so(void **state)
{
    s_fixture_t *f = *state;
    s_event(f, "dana", NULL);
    s_approval_t a;
    s_approval_init(&a, "com.servicenow.approval.approved", "gina");
    a.ev.ingest_source = "servicenow";
    a.ev.authenticated_by = "webhook-signature";
    s_approval_apply(f, &a);
    const Cairn__V1__Verdict *v = s_evaluate(f);
    assert_int_equal(v->decision, ALLOW);
    assert_string_equal(v->approvals[0]->via, "servicenow (authenticated by webhook-signature)");
    assert_non_null(strstr(s_reason(v, "peer")->message,
                           "gina (dev, via servicenow, authenticated by webhook-signature)"));
}

/* The loader's errors for keys, with positions. */
static void s_expect_error(const char *yaml, const char *needle)
{
    cairn_errlist_t errs;
    cairn_policy_t *p = NULL;
    cairn_errlist_init(&errs);
    assert_int_not_equal(cairn_policy_load_string("k.yaml", yaml, strlen(yaml), &errs, &p), 0);
    bool found = false;
    for (size_t i = 0; i < errs.count; i++) {
        print_message("%s\n", errs.items[i]);
        found = found || strstr(errs.items[i], needle) != NULL;
    }
    assert_true(found);
    assert_null(p);
    cairn_errlist_clear(&errs);
}

static void bad_keys_are_reported_with_their_position(void **state)
{
    (void)state;
    s_expect_error("apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: k }\n"
                   "roles:\n  dev:\n    users:\n"
                   "      - { name: erin, key: \"ed25519:AAAA\" }\n",
                   "k.yaml:7:29: roles.dev.users[0].key: 'ed25519:AAAA' is not an Ed25519 "
                   "public key");
    s_expect_error("apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: k }\n"
                   "roles:\n  dev:\n    users:\n"
                   "      - { name: erin, key: "
                   "\"frank+f208daa9+AYE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU\" }\n",
                   "the key is frank's (it is named 'frank'), not erin's");
    s_expect_error("apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: k }\n"
                   "roles:\n  dev:\n    users:\n      - { nme: erin }\n",
                   "unknown key 'nme' in roles.dev.users[0] — did you mean 'name'?");
    s_expect_error("apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: k }\n"
                   "approvals:\n  require_signed: sometimes\n",
                   "approvals.require_signed must be true or false");
    s_expect_error("apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: k }\n"
                   "approvals:\n  require_signed: { risk_min: huge }\n",
                   "approvals.require_signed.risk_min must be one of low, medium, high, critical");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_role_directory_holds_each_approvers_key, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(a_signed_approval_counts_and_is_marked_signed, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(a_tampered_approval_is_void_and_denies, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(an_approval_signed_with_another_persons_key_is_void,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(high_risk_needs_signed_approvals, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(an_unsigned_approval_at_low_risk_still_counts, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(a_signed_approval_counts_from_when_it_was_signed, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(without_keys_a_signature_changes_nothing, s_setup_no_keys,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(an_approval_from_an_authenticated_itsm_source_says_so,
                                        s_setup, s_teardown),
        cmocka_unit_test(bad_keys_are_reported_with_their_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
