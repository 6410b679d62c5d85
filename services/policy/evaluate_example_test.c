/* Tests for evaluation with the example policy of POLICY-FORMAT.md
 * (testdata/example.yaml, time zone Europe/Berlin): every rule of it is
 * exercised, and the combinations that bite — approvals before a new
 * commit, an approver who committed, an emergency during a freeze, a
 * delegate for an absent lead, expired approvals, stale scans, regulated
 * data, a standard change over its risk, freezes across daylight saving,
 * and replay determinism. Events are folded in exactly as the daemon does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/util.h"
#include "change.h"
#include "evaluate.h"
#include "policy_load.h"
#include "windows.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

#define ALLOW CAIRN__V1__DECISION__DECISION_ALLOW
#define DENY CAIRN__V1__DECISION__DECISION_DENY
#define PENDING CAIRN__V1__DECISION__DECISION_PENDING
#define MANUAL CAIRN__V1__DECISION__DECISION_MANUAL

#define HOUR 3600000LL
#define DAY (24 * HOUR)
#define WED 1795600800000LL      /* Wed 2026-11-25 10:00Z (11:00 in Berlin) */
#define FRI_EVE 1795802400000LL  /* Fri 2026-11-27 18:00Z (19:00 in Berlin) */
#define YEAR_END 1797760800000LL /* Sun 2026-12-20 10:00Z */

typedef struct {
    cairn_policy_t *policy;
    cairn_change_t *change;
    uint64_t next; /* ledger index of the next event */
    int64_t now;   /* received time of the next event */
    cairn_evaluation_t ev;
} s_fixture_t;

/* An event under construction. */
typedef struct {
    Cairn__V1__Event ev;
    Cairn__V1__Correlation corr;
    Cairn__V1__Governance gov;
    Cairn__V1__Evidence evd;
} s_event_t;

static void s_init(s_fixture_t *f, s_event_t *e, const char *type)
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
    e->ev.received_at_ms = f->now;
}

static void s_apply(s_fixture_t *f, s_event_t *e)
{
    assert_int_equal(cairn_change_apply_event(f->change, &e->ev, f->next++), 0);
    f->now += 60000; /* a minute between events */
}

static char *s_dana[] = {"dana"};

/* A change by dana (who alone committed), for env, at commit SHA_A. */
static void s_created(s_fixture_t *f, const char *env)
{
    s_event_t e;
    s_init(f, &e, "dev.cdevents.change.created.0.4.0");
    e.corr.commit_sha = SHA_A;
    e.corr.environment = (char *)env;
    e.corr.service = "payments";
    e.gov.author = "dana";
    e.gov.committers = s_dana;
    e.gov.n_committers = 1;
    s_apply(f, &e);
}

/* An update stating one governance fact. */
static void s_fact(s_fixture_t *f, const char *key, const char *value)
{
    s_event_t e;
    char *list[] = {(char *)value};
    s_init(f, &e, "dev.cdevents.change.updated.0.4.0");
    if (strcmp(key, "commit") == 0)
        e.corr.commit_sha = (char *)value;
    else if (strcmp(key, "incident") == 0)
        e.corr.incident_id = (char *)value;
    else if (strcmp(key, "change_type") == 0)
        e.gov.change_type = (char *)value;
    else if (strcmp(key, "risk") == 0)
        e.gov.risk = (char *)value;
    else if (strcmp(key, "lines") == 0)
        e.gov.lines_changed = (uint32_t)atoi(value);
    else if (strcmp(key, "path") == 0) {
        e.gov.paths = list;
        e.gov.n_paths = 1;
    } else if (strcmp(key, "label") == 0) {
        e.gov.labels = list;
        e.gov.n_labels = 1;
    } else if (strcmp(key, "committer") == 0) {
        e.gov.committers = list;
        e.gov.n_committers = 1;
    } else
        fail_msg("unknown fact %s", key);
    s_apply(f, &e);
}

static void s_evidence(s_fixture_t *f, const char *kind, const char *outcome, uint32_t a,
                       uint32_t b, double coverage)
{
    s_event_t e;
    s_init(f, &e, "dev.cdevents.testsuiterun.finished.0.3.0");
    e.ev.evidence = &e.evd;
    e.evd.kind = (char *)kind;
    e.evd.outcome = (char *)outcome;
    if (strcmp(kind, "test_report") == 0) {
        e.evd.tests_passed = a;
        e.evd.tests_failed = b;
        e.evd.coverage_line_pct = coverage;
        e.evd.has_coverage = coverage > 0;
    } else if (strcmp(kind, "scan") == 0) {
        e.evd.findings_critical = a;
        e.evd.findings_high = b;
    }
    s_apply(f, &e);
}

/* Green build and integration evidence: tests, coverage 85%, a clean scan. */
static void s_green(s_fixture_t *f)
{
    s_evidence(f, "test_report", "success", 120, 0, 85.0);
    s_evidence(f, "scan", "success", 0, 0, 0);
}

static void s_deployed(s_fixture_t *f, const char *deployer)
{
    s_event_t e;
    s_init(f, &e, "dev.cdevents.service.deployed.0.3.0");
    e.ev.evidence = &e.evd;
    e.evd.kind = "deployment";
    e.evd.outcome = "success";
    e.gov.deployer = (char *)deployer;
    s_apply(f, &e);
}

static void s_verified(s_fixture_t *f, const char *verifier, const char *outcome)
{
    s_event_t e;
    s_init(f, &e, "dev.cdeventsx.cairn-verification.finished.0.1.0");
    e.ev.evidence = &e.evd;
    e.evd.kind = "verification";
    e.evd.outcome = (char *)outcome;
    e.gov.verifier = (char *)verifier;
    s_apply(f, &e);
}

static void s_approve(s_fixture_t *f, const char *who)
{
    s_event_t e;
    s_init(f, &e, "dev.cdeventsx.cairn-approval.granted.0.1.0");
    e.gov.approver = (char *)who;
    e.gov.approval_decision = "granted";
    s_apply(f, &e);
}

static void s_evaluate_at(s_fixture_t *f, int64_t at)
{
    cairn_evaluation_clear(&f->ev);
    cairn_eval_opts_t o = {.now_ms = at, .trigger_index = f->next - 1};
    assert_int_equal(cairn_evaluate_change(f->policy, "CHG-1", f->change, &o, &f->ev), 0);
    assert_int_equal(f->ev.n, f->policy->n_gates);
}

static void s_evaluate(s_fixture_t *f)
{
    s_evaluate_at(f, f->now);
}

static const Cairn__V1__Verdict *s_gate(s_fixture_t *f, const char *gate)
{
    int i = cairn_policy_gate_index(f->policy, gate);
    assert_true(i >= 0);
    return f->ev.verdicts[i];
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
    print_message("  %s: %s (risk %s, %s)\n", v->gate, cairn_decision_name(v->decision), v->risk,
                  v->change_type);
    for (size_t i = 0; i < v->n_reasons; i++)
        print_message("    %s %s: %s\n", v->reasons[i]->rule_id, v->reasons[i]->result,
                      v->reasons[i]->message);
    for (size_t i = 0; i < v->n_obligations; i++)
        print_message("    obligation %s %s: %s\n", v->obligations[i]->kind,
                      v->obligations[i]->rule_id, v->obligations[i]->message);
}

/* The reason for rule in gate has this result (printing the verdict if not). */
static void s_expect(s_fixture_t *f, const char *gate, const char *rule, const char *result)
{
    const Cairn__V1__Verdict *v = s_gate(f, gate);
    const Cairn__V1__Reason *r = s_reason(v, rule);
    if (!r || strcmp(r->result, result) != 0) {
        s_dump(v);
        fail_msg("%s: expected %s to be %s, got %s", gate, rule, result, r ? r->result : "none");
    }
}

static void s_decision(s_fixture_t *f, const char *gate, Cairn__V1__Decision d)
{
    const Cairn__V1__Verdict *v = s_gate(f, gate);
    if (v->decision != d) {
        s_dump(v);
        fail_msg("%s: expected %s, got %s", gate, cairn_decision_name(d),
                 cairn_decision_name(v->decision));
    }
}

static char *s_example_text(void)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    char path[512], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/services/policy/testdata/example.yaml", src ? src : ".");
    assert_int_equal(cairn_read_file(path, 1 << 20, &text, &len), 0);
    return text;
}

/* The example with `from` replaced by `to` (once), plus extra appended. */
static int s_setup_text(void **state, const char *from, const char *to, const char *extra)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    char *text = s_example_text();
    size_t cap = strlen(text) + 4096;
    char *yaml = calloc(1, cap);
    const char *at = from ? strstr(text, from) : NULL;
    if (from && !at)
        return -1;
    if (at)
        snprintf(yaml, cap, "%.*s%s%s%s", (int)(at - text), text, to, at + strlen(from),
                 extra ? extra : "");
    else
        snprintf(yaml, cap, "%s%s", text, extra ? extra : "");
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    int rc = cairn_policy_load_string("example.yaml", yaml, strlen(yaml), &errs, &f->policy);
    for (size_t i = 0; i < errs.count; i++)
        print_message("%s\n", errs.items[i]);
    cairn_errlist_clear(&errs);
    free(text);
    free(yaml);
    if (rc < 0)
        return -1;
    f->change = cairn_change_new("CHG-1");
    f->now = WED;
    *state = f;
    return 0;
}

static int s_setup(void **state)
{
    return s_setup_text(state, NULL, NULL, NULL);
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_evaluation_clear(&f->ev);
    cairn_change_destroy(&f->change);
    cairn_policy_unref(&f->policy);
    free(f);
    return 0;
}

/* ---- the happy path ------------------------------------------------------ */

static void a_low_risk_prod_change_passes_every_gate_with_one_peer(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_green(f);
    s_evaluate(f);
    s_decision(f, "build", ALLOW);
    s_decision(f, "integration", ALLOW);
    s_decision(f, "deployment", PENDING);
    s_decision(f, "verification", PENDING);
    const Cairn__V1__Verdict *dep = s_gate(f, "deployment");
    assert_string_equal(dep->risk, "low");
    assert_int_equal(dep->n_risk_rules, 1);
    assert_string_equal(dep->risk_rules[0], "classify.default");
    assert_string_equal(dep->change_type, "normal");
    s_expect(f, "deployment", "R1-prod-db", "skip");
    s_expect(f, "deployment", "R2-regulated", "skip");
    s_expect(f, "deployment", "R3-large", "skip");
    s_expect(f, "deployment", "peer", "missing");
    s_expect(f, "deployment", "lead", "skip");
    s_expect(f, "deployment", "cab", "skip");
    s_expect(f, "deployment", "regulated", "skip");
    s_expect(f, "deployment", "F1-weekend", "pass");
    s_expect(f, "deployment", "F2-year-end", "pass");
    /* emergency-oncall is only for emergency changes. */
    assert_null(s_reason(dep, "emergency-oncall"));

    s_approve(f, "erin");
    s_deployed(f, "riley");
    s_verified(f, "sam", "success");
    s_evaluate(f);
    s_decision(f, "deployment", ALLOW);
    s_decision(f, "verification", ALLOW);
    s_expect(f, "build", "unit-tests", "pass");
    s_expect(f, "build", "sast", "pass");
    s_expect(f, "integration", "it-tests", "pass");
    s_expect(f, "integration", "coverage", "pass");
    s_expect(f, "deployment", "SOD1", "pass");
    s_expect(f, "deployment", "SOD3", "pass");
    s_expect(f, "verification", "SOD2", "pass");
    s_expect(f, "verification", "smoke", "pass");
    /* It expires with the scan (7d max_age, given first) before the approval (7d for low risk). */
    int64_t scan_at = WED + 2 * 60000;
    assert_int_equal(s_gate(f, "build")->expires_at_ms, scan_at + 7 * DAY);
    assert_int_equal(s_gate(f, "deployment")->expires_at_ms, scan_at + 7 * DAY);
    assert_int_equal(f->ev.expires_at_ms, scan_at + 7 * DAY);
    assert_non_null(strstr(f->ev.expires_what, "sast"));
}

/* ---- evidence ------------------------------------------------------------- */

static void low_coverage_needs_a_person_and_high_findings_deny(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_evidence(f, "test_report", "success", 120, 0, 61.5);
    s_evidence(f, "scan", "success", 0, 0, 0);
    s_evaluate(f);
    s_decision(f, "build", ALLOW);
    s_decision(f, "integration", MANUAL);
    s_expect(f, "integration", "coverage", "fail");
    s_expect(f, "deployment", "after:integration", "missing");

    s_evidence(f, "scan", "success", 0, 2, 0);
    s_evaluate(f);
    s_decision(f, "build", DENY);
    s_expect(f, "build", "sast", "fail");
    s_decision(f, "integration", DENY);
}

static void a_coverage_report_without_a_figure_cannot_be_evaluated_and_denies(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_green(f);
    s_evidence(f, "coverage", "success", 0, 0, 0);
    s_evaluate(f);
    s_decision(f, "build", ALLOW);
    s_decision(f, "integration", DENY);
    s_expect(f, "integration", "coverage", "fail");
}

static void a_scan_older_than_its_max_age_counts_as_missing(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_green(f);
    s_evaluate_at(f, f->now + 7 * DAY + HOUR);
    s_decision(f, "build", PENDING);
    s_expect(f, "build", "sast", "missing");
    s_expect(f, "build", "unit-tests", "pass");
    assert_non_null(strstr(s_reason(s_gate(f, "build"), "sast")->message, "max_age of 7d"));
}

/* ---- classification and approvals ------------------------------------------ */

static void prod_migrations_are_high_risk_and_need_lead_and_two_cab_members(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_fact(f, "path", "db/migrations/2026/001_refunds.sql");
    s_green(f);
    s_approve(f, "erin");
    s_approve(f, "lee");
    s_approve(f, "carol");
    s_evaluate(f);
    const Cairn__V1__Verdict *dep = s_gate(f, "deployment");
    assert_string_equal(dep->risk, "high");
    assert_string_equal(dep->risk_rules[0], "R1-prod-db");
    s_expect(f, "deployment", "R1-prod-db", "pass");
    s_expect(f, "deployment", "peer", "pass");
    s_expect(f, "deployment", "lead", "pass");
    s_expect(f, "deployment", "cab", "missing");
    s_decision(f, "deployment", PENDING);
    assert_int_equal(dep->obligations[0]->missing, 1);
    assert_string_equal(dep->obligations[0]->roles[0], "cab");

    s_approve(f, "chris");
    s_evaluate(f);
    s_decision(f, "deployment", ALLOW);
    /* High risk: approvals last 24h, counted from the first one. */
    assert_int_equal(s_gate(f, "deployment")->expires_at_ms, WED + 4 * 60000 + DAY);
}

static void the_same_migration_to_staging_is_low_risk(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "staging");
    s_fact(f, "path", "db/migrations/001.sql");
    s_green(f);
    s_approve(f, "erin");
    s_evaluate(f);
    s_decision(f, "deployment", ALLOW);
    s_expect(f, "deployment", "R1-prod-db", "skip");
    s_expect(f, "deployment", "F1-weekend", "skip");
    assert_string_equal(s_gate(f, "deployment")->risk, "low");
}

static void a_large_change_is_medium_risk_and_needs_the_lead(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_fact(f, "lines", "950");
    s_green(f);
    s_approve(f, "erin");
    s_evaluate(f);
    assert_string_equal(s_gate(f, "deployment")->risk, "medium");
    s_expect(f, "deployment", "R3-large", "pass");
    s_expect(f, "deployment", "lead", "missing");
    s_decision(f, "deployment", PENDING);
    s_approve(f, "lee");
    s_evaluate(f);
    s_decision(f, "deployment", ALLOW);
}

static void regulated_data_needs_privacy_and_security_on_top(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_fact(f, "label", "data:pii");
    s_green(f);
    s_approve(f, "erin");
    s_approve(f, "lee");
    s_approve(f, "carol");
    s_approve(f, "chris");
    s_evaluate(f);
    s_expect(f, "deployment", "data_classes", "pass");
    s_expect(f, "deployment", "R2-regulated", "pass");
    s_expect(f, "deployment", "regulated", "missing");
    s_decision(f, "deployment", PENDING);
    assert_string_equal(s_gate(f, "deployment")->risk, "high");
    s_approve(f, "pat");
    s_evaluate(f);
    s_decision(f, "deployment", PENDING);
    s_approve(f, "sam");
    s_evaluate(f);
    s_decision(f, "deployment", ALLOW);
}

static int s_setup_data_classes(void **state)
{
    return s_setup_text(state, NULL, NULL,
                        "data_classes:\n  PII: { paths: [\"db/customers/**\"] }\n");
}

static void a_path_mapped_to_a_data_class_makes_the_change_regulated(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "staging");
    s_fact(f, "path", "db/customers/addresses.sql");
    s_green(f);
    s_approve(f, "erin");
    s_evaluate(f);
    const Cairn__V1__Reason *r = s_reason(s_gate(f, "deployment"), "data_classes");
    assert_non_null(r);
    assert_non_null(strstr(r->message, "data_classes.PII"));
    s_expect(f, "deployment", "R2-regulated", "pass");
    s_expect(f, "deployment", "regulated", "missing");
    s_approve(f, "pat");
    s_approve(f, "sam");
    s_evaluate(f);
    s_decision(f, "deployment", ALLOW);
}

/* ---- separation of duties ----------------------------------------------------- */

static void an_approver_who_also_committed_is_void_by_sod1(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_fact(f, "committer", "frank");
    s_green(f);
    s_approve(f, "frank");
    s_evaluate(f);
    s_decision(f, "deployment", DENY);
    const Cairn__V1__Reason *r = s_reason(s_gate(f, "deployment"), "SOD1");
    assert_string_equal(r->result, "fail");
    assert_string_equal(r->message, "frank committed to CHG-1 and cannot approve it");
    s_approve(f, "erin");
    s_evaluate(f);
    s_decision(f, "deployment", ALLOW);
    s_expect(f, "deployment", "SOD1", "void");
}

static void a_service_account_cannot_approve(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_green(f);
    s_approve(f, "ci-bot");
    s_evaluate(f);
    s_decision(f, "deployment", DENY);
    s_expect(f, "deployment", "SOD3", "fail");
}

static void the_deployer_cannot_verify_by_sod2(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_green(f);
    s_approve(f, "erin");
    s_deployed(f, "riley");
    s_verified(f, "riley", "success");
    s_evaluate(f);
    s_decision(f, "verification", DENY);
    const Cairn__V1__Reason *r = s_reason(s_gate(f, "verification"), "SOD2");
    assert_string_equal(r->message, "riley deployed CHG-1 and cannot verify it");
}

/* ---- commits, expiry, delegation --------------------------------------------- */

static void an_approval_before_a_new_commit_no_longer_counts(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_green(f);
    s_approve(f, "erin");
    s_evaluate(f);
    s_decision(f, "deployment", ALLOW);
    s_fact(f, "commit", SHA_B);
    s_green(f);
    s_evaluate(f);
    s_decision(f, "deployment", PENDING);
    s_expect(f, "deployment", "new_commit", "void");
    /* Evidence about the old commit no longer counts either. */
    s_approve(f, "erin");
    s_evaluate(f);
    s_decision(f, "deployment", ALLOW);
}

static void an_expired_approval_no_longer_counts(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_approve(f, "erin");
    int64_t given = f->now - 60000;
    s_green(f); /* after the approval, so the scan outlives it */
    s_evaluate_at(f, given + 7 * DAY - 1);
    s_decision(f, "deployment", ALLOW);
    s_evaluate_at(f, given + 7 * DAY);
    s_decision(f, "deployment", PENDING);
    const Cairn__V1__Reason *r = s_reason(s_gate(f, "deployment"), "expiry");
    assert_non_null(r);
    assert_string_equal(r->result, "void");
    assert_non_null(strstr(r->message, "low-risk changes last 168h"));
    assert_true(s_gate(f, "deployment")->approvals[0]->void_);
}

static int s_setup_delegate(void **state)
{
    return s_setup_text(state, "tech_lead:  { users: [lee] }",
                        "tech_lead:  { users: [lee], delegate: { from: lee, to: frank, until: "
                        "\"2026-11-26T00:00\" } }",
                        NULL);
}

static void a_delegate_approves_for_an_absent_lead_until_the_delegation_ends(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_fact(f, "lines", "950"); /* medium: lead needed */
    s_green(f);
    s_approve(f, "erin");
    s_approve(f, "frank");
    s_evaluate(f);
    s_decision(f, "deployment", ALLOW);
    s_expect(f, "deployment", "lead", "pass");
    s_expect(f, "deployment", "delegation", "pass");
    const Cairn__V1__Verdict *dep = s_gate(f, "deployment");
    assert_string_equal(dep->approvals[1]->role, "tech_lead");

    /* After the delegation ended (midnight in Berlin, 23:00Z) frank's new
     * approval is that of a dev only. */
    f->now = 1795647600000LL + HOUR; /* 2026-11-26T00:00Z */
    s_fact(f, "commit", SHA_B);
    s_green(f);
    s_approve(f, "erin");
    s_approve(f, "frank");
    s_evaluate(f);
    s_decision(f, "deployment", PENDING);
    s_expect(f, "deployment", "lead", "missing");
}

static void a_delegate_does_not_stand_in_for_a_lead_who_approved(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_fact(f, "lines", "950");
    s_green(f);
    s_approve(f, "lee");
    s_approve(f, "frank");
    s_evaluate(f);
    /* lee fills lead, frank fills peer as a dev: no delegation needed. */
    s_decision(f, "deployment", ALLOW);
    assert_null(s_reason(s_gate(f, "deployment"), "delegation"));
}

/* ---- change types and windows --------------------------------------------------- */

static void a_standard_change_is_pre_approved_within_its_risk_max(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_fact(f, "change_type", "standard");
    s_green(f);
    s_evaluate(f);
    s_decision(f, "deployment", ALLOW);
    assert_string_equal(s_gate(f, "deployment")->change_type, "standard");
    s_expect(f, "deployment", "change_type:standard", "pass");

    s_fact(f, "lines", "950");
    s_evaluate(f);
    s_decision(f, "build", DENY);
    s_decision(f, "deployment", DENY);
    const Cairn__V1__Reason *r = s_reason(s_gate(f, "deployment"), "change_type:standard");
    assert_string_equal(r->result, "fail");
    assert_string_equal(r->message, "CHG-1 is a standard change but its risk is medium; standard "
                                    "changes allow at most low risk");
}

static void a_normal_change_is_denied_during_the_weekend_freeze(void **state)
{
    s_fixture_t *f = *state;
    f->now = FRI_EVE;
    s_created(f, "prod");
    s_green(f);
    s_approve(f, "erin");
    s_evaluate(f);
    s_decision(f, "deployment", DENY);
    s_decision(f, "build", DENY);
    const Cairn__V1__Reason *r = s_reason(s_gate(f, "deployment"), "F1-weekend");
    assert_string_equal(r->result, "fail");
    assert_non_null(strstr(r->message, "2026-11-27T18:00:00+01:00 to 2026-11-30T08:00:00+01:00"));
    /* Monday 08:00 in Berlin it is over. */
    s_evaluate_at(f, 1796022000000LL); /* 2026-11-30T07:00Z */
    s_decision(f, "deployment", ALLOW);
}

static void the_emergency_path_passes_the_freeze_with_the_on_call_and_owes_a_review(void **state)
{
    s_fixture_t *f = *state;
    f->now = FRI_EVE;
    s_created(f, "prod");
    s_fact(f, "change_type", "emergency");
    s_green(f);
    s_evaluate(f);
    /* No incident yet: the emergency path is closed. */
    s_decision(f, "deployment", DENY);
    s_expect(f, "deployment", "change_type:emergency", "fail");
    s_expect(f, "deployment", "F1-weekend", "skip");

    s_fact(f, "incident", "INC-7");
    s_approve(f, "erin"); /* a peer is not what an emergency needs */
    s_evaluate(f);
    s_decision(f, "deployment", PENDING);
    s_expect(f, "deployment", "emergency-oncall", "missing");
    assert_null(s_reason(s_gate(f, "deployment"), "peer"));
    s_expect(f, "deployment", "post_review", "skip");

    s_approve(f, "riley");
    s_evaluate(f);
    s_decision(f, "deployment", ALLOW);
    assert_string_equal(s_gate(f, "deployment")->change_type, "emergency");

    s_deployed(f, "riley");
    s_evaluate(f);
    assert_true(f->ev.review_open);
    int64_t deployed = f->change->deployed_at_ms;
    assert_int_equal(f->ev.review_due_ms, deployed + 72 * HOUR);
    const Cairn__V1__Verdict *dep = s_gate(f, "deployment");
    const Cairn__V1__Obligation *o = dep->obligations[dep->n_obligations - 1];
    assert_string_equal(o->kind, "post_review");
    assert_string_equal(o->roles[0], "tech_lead");
    assert_int_equal(o->missing, 1);
    s_decision(f, "deployment", ALLOW); /* the review never blocks */

    s_approve(f, "lee");
    s_evaluate(f);
    assert_false(f->ev.review_open);
    s_expect(f, "deployment", "post_review", "pass");
}

static void the_year_end_freeze_covers_prod_only(void **state)
{
    s_fixture_t *f = *state;
    f->now = YEAR_END;
    s_created(f, "prod");
    s_green(f);
    s_approve(f, "erin");
    s_evaluate(f);
    s_decision(f, "deployment", DENY);
    s_expect(f, "deployment", "F2-year-end", "fail");
    s_evaluate_at(f, 1797638400000LL - 3600001); /* 2026-12-18T22:59:59.999Z: before */
    s_expect(f, "deployment", "F2-year-end", "pass");
}

static void an_unstated_environment_is_covered_by_every_window(void **state)
{
    s_fixture_t *f = *state;
    f->now = FRI_EVE;
    s_created(f, "");
    s_green(f);
    s_approve(f, "erin");
    s_evaluate(f);
    s_decision(f, "deployment", DENY);
    s_expect(f, "deployment", "F1-weekend", "fail");
}

static void the_weekend_freeze_follows_berlin_across_daylight_saving(void **state)
{
    s_fixture_t *f = *state;
    const cairn_window_t *w = &f->policy->windows[0];
    assert_string_equal(w->id, "F1-weekend");
    int64_t s, e;
    /* Summer time: Friday 18:00 CEST is 16:00Z. */
    assert_false(cairn_window_active(f->policy, w, 1792771140000LL, &s, &e)); /* 15:59Z */
    assert_true(cairn_window_active(f->policy, w, 1792771200000LL, &s, &e));  /* 16:00Z */
    /* 62h of elapsed time across the change to winter time: Monday 07:00 CET. */
    assert_true(cairn_window_active(f->policy, w, 1792994340000LL, &s, &e));  /* Mon 05:59Z */
    assert_false(cairn_window_active(f->policy, w, 1792994400000LL, &s, &e)); /* Mon 06:00Z */
    /* Winter time: Friday 18:00 CET is 17:00Z; 16:30Z is 17:30 local. */
    assert_false(cairn_window_active(f->policy, w, 1795797000000LL, &s, &e));
    assert_true(cairn_window_active(f->policy, w, 1795798800000LL, &s, &e));
    /* Across the change to summer time: Fri 18:00 CET + 62h = Mon 09:00 CEST. */
    assert_true(cairn_window_active(f->policy, w, 1806303540000LL, &s, &e));  /* 06:59Z */
    assert_false(cairn_window_active(f->policy, w, 1806303600000LL, &s, &e)); /* 07:00Z */
}

/* ---- fail closed ----------------------------------------------------------------- */

static void an_unreadable_change_type_or_risk_denies(void **state)
{
    s_fixture_t *f = *state;
    s_created(f, "prod");
    s_green(f);
    s_approve(f, "erin");
    s_fact(f, "change_type", "expedited");
    s_evaluate(f);
    s_decision(f, "build", DENY);
    s_expect(f, "deployment", "change_type", "fail");
    s_fact(f, "change_type", "normal");
    s_fact(f, "risk", "severe");
    s_evaluate(f);
    s_decision(f, "deployment", DENY);
    s_expect(f, "deployment", "risk", "fail");
    /* A stated risk that is a level is a floor. */
    s_fact(f, "label", "risk:high");
    s_evaluate(f);
    assert_string_equal(s_gate(f, "deployment")->risk, "high");
    s_expect(f, "deployment", "cab", "missing");
}

/* ---- determinism ------------------------------------------------------------------ */

/* Packs every verdict after each event of a fixed sequence. */
static void s_run_sequence(s_fixture_t *f, uint8_t **out, size_t *out_len)
{
    size_t len = 0;
    uint8_t *all = NULL;
    for (int step = 0; step < 9; step++) {
        switch (step) {
        case 0: s_created(f, "prod"); break;
        case 1: s_fact(f, "lines", "950"); break;
        case 2: s_green(f); break;
        case 3: s_approve(f, "dana"); break;
        case 4: s_approve(f, "erin"); break;
        case 5: s_approve(f, "lee"); break;
        case 6: s_fact(f, "commit", SHA_B); break;
        case 7: s_approve(f, "erin"); break;
        default: s_deployed(f, "riley"); break;
        }
        s_evaluate(f);
        for (size_t i = 0; i < f->ev.n; i++) {
            uint8_t *buf = NULL;
            size_t n = 0;
            assert_int_equal(cairn_codec_pack(&f->ev.verdicts[i]->base, &buf, &n), 0);
            all = realloc(all, len + n);
            memcpy(all + len, buf, n);
            len += n;
            free(buf);
        }
    }
    *out = all;
    *out_len = len;
}

static void the_same_events_evaluated_twice_give_byte_identical_verdicts(void **state)
{
    s_fixture_t *f = *state;
    uint8_t *first = NULL, *second = NULL;
    size_t n1 = 0, n2 = 0;
    s_run_sequence(f, &first, &n1);
    cairn_change_destroy(&f->change);
    f->change = cairn_change_new("CHG-1");
    f->next = 0;
    f->now = WED;
    s_run_sequence(f, &second, &n2);
    assert_true(n1 > 1000);
    assert_int_equal(n1, n2);
    assert_memory_equal(first, second, n1);
    free(first);
    free(second);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(a_low_risk_prod_change_passes_every_gate_with_one_peer),
        T(low_coverage_needs_a_person_and_high_findings_deny),
        T(a_coverage_report_without_a_figure_cannot_be_evaluated_and_denies),
        T(a_scan_older_than_its_max_age_counts_as_missing),
        T(prod_migrations_are_high_risk_and_need_lead_and_two_cab_members),
        T(the_same_migration_to_staging_is_low_risk),
        T(a_large_change_is_medium_risk_and_needs_the_lead),
        T(regulated_data_needs_privacy_and_security_on_top),
        cmocka_unit_test_setup_teardown(a_path_mapped_to_a_data_class_makes_the_change_regulated,
                                        s_setup_data_classes, s_teardown),
        T(an_approver_who_also_committed_is_void_by_sod1),
        T(a_service_account_cannot_approve),
        T(the_deployer_cannot_verify_by_sod2),
        T(an_approval_before_a_new_commit_no_longer_counts),
        T(an_expired_approval_no_longer_counts),
        cmocka_unit_test_setup_teardown(
            a_delegate_approves_for_an_absent_lead_until_the_delegation_ends, s_setup_delegate,
            s_teardown),
        cmocka_unit_test_setup_teardown(a_delegate_does_not_stand_in_for_a_lead_who_approved,
                                        s_setup_delegate, s_teardown),
        T(a_standard_change_is_pre_approved_within_its_risk_max),
        T(a_normal_change_is_denied_during_the_weekend_freeze),
        T(the_emergency_path_passes_the_freeze_with_the_on_call_and_owes_a_review),
        T(the_year_end_freeze_covers_prod_only),
        T(an_unstated_environment_is_covered_by_every_window),
        T(the_weekend_freeze_follows_berlin_across_daylight_saving),
        T(an_unreadable_change_type_or_risk_denies),
        T(the_same_events_evaluated_twice_give_byte_identical_verdicts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
