/* Tests for the policy loader: the format's example parses into the model,
 * the built-in policy parses, and every problem in a bad file is reported
 * with file:line:col and a suggestion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "cairn/yaml.h"
#include "policy_load.h"

static void s_example_path(char *buf, size_t len)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    snprintf(buf, len, "%s/services/policy/testdata/example.yaml", src ? src : ".");
}

static cairn_policy_t *s_load(const char *yaml, cairn_errlist_t *errs)
{
    cairn_policy_t *p = NULL;
    int rc = cairn_policy_load_string("p.yaml", yaml, strlen(yaml), errs, &p);
    if (rc == 0)
        assert_non_null(p);
    else
        assert_null(p);
    return p;
}

static int s_has_error(const cairn_errlist_t *errs, const char *text)
{
    for (size_t i = 0; i < errs->count; i++)
        if (strcmp(errs->items[i], text) == 0)
            return 1;
    return 0;
}

static void s_print(const cairn_errlist_t *errs)
{
    for (size_t i = 0; i < errs->count; i++)
        print_message("  %s\n", errs->items[i]);
}

static void the_format_example_parses_into_the_model(void **state)
{
    char path[1024];
    s_example_path(path, sizeof path);
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = NULL;
    int rc = cairn_policy_load_file(path, &errs, &p);
    s_print(&errs);
    assert_int_equal(rc, 0);
    assert_int_equal(errs.count, 0);

    assert_string_equal(p->name, "payments");
    assert_string_equal(p->revision, "2026-11-25.1");
    assert_string_equal(p->timezone, "Europe/Berlin");

    /* The digest is over the exact file bytes. */
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(cairn_read_file(path, 1 << 20, &text, &len), 0);
    uint8_t d[32];
    char hex[65], want[80];
    cairn_sha256(text, len, d);
    cairn_hex(d, 32, hex);
    snprintf(want, sizeof want, "sha256:%s", hex);
    assert_string_equal(p->digest, want);
    free(text);

    assert_int_equal(p->n_roles, 7);
    assert_true(cairn_policy_user_in_role(p, "lee", "tech_lead"));
    assert_true(cairn_policy_user_is_service_account(p, "ci-bot"));
    assert_false(cairn_policy_user_is_service_account(p, "dana"));

    assert_int_equal(p->classify_default, CAIRN_RISK_LOW);
    assert_int_equal(p->n_classify, 3);
    assert_string_equal(p->classify[1].id, "R2-regulated");
    assert_int_equal(p->classify[1].risk, CAIRN_RISK_HIGH);

    assert_int_equal(p->n_change_types, 2);
    assert_true(p->distinct_persons);
    assert_true(p->invalidate_on_new_commit);
    assert_int_equal(p->expiry_ms[CAIRN_RISK_HIGH], 24 * 3600 * 1000LL);

    assert_int_equal(p->n_approval_rules, 5);
    assert_string_equal(p->approval_rules[0].id, "peer");
    assert_int_equal(p->approval_rules[0].when.env.count, 2);
    assert_int_equal(p->approval_rules[1].when.risk_min, CAIRN_RISK_MEDIUM);
    assert_int_equal(p->approval_rules[2].slots[0].count, 2);
    assert_int_equal(p->approval_rules[3].n_slots, 2);
    assert_false(p->approval_rules[0].change_type_only);
    assert_true(p->approval_rules[4].change_type_only); /* emergency-oncall */

    assert_int_equal(p->n_sod, 3);
    assert_string_equal(p->sod[2].id, "SOD3");
    assert_int_equal(p->sod[2].not_kinds.count, 1);

    assert_int_equal(p->n_gates, 4);
    assert_string_equal(p->gates[0].name, "build");
    assert_string_equal(p->gates[3].name, "verification");
    const cairn_gate_t *build = cairn_policy_gate(p, "build");
    assert_int_equal(build->n_evidence, 2);
    assert_string_equal(build->evidence[0].type, "test_report");
    assert_int_equal(build->evidence[0].n_reqs, 2);
    assert_int_equal(build->evidence[1].max_age_ms, 7 * 24 * 3600 * 1000LL);
    const cairn_gate_t *integ = cairn_policy_gate(p, "integration");
    assert_true(integ->evidence[1].on_fail_manual);
    const cairn_gate_t *dep = cairn_policy_gate(p, "deployment");
    assert_true(dep->approvals_satisfied);
    assert_string_equal(dep->after.items[0], "integration");

    assert_int_equal(p->n_windows, 2);
    assert_int_equal(p->windows[0].duration_ms, 62 * 3600 * 1000LL);
    assert_int_equal(p->n_tests, 1);
    assert_string_equal(p->tests[0].decision, "deny");

    cairn_policy_unref(&p);
    assert_null(p);
    cairn_errlist_clear(&errs);
}

static void the_built_in_policy_parses(void **state)
{
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = NULL;
    assert_int_equal(cairn_policy_load_default(&errs, &p), 0);
    assert_string_equal(p->name, "default");
    assert_string_equal(p->source, "<built-in>");
    assert_int_equal(strncmp(p->digest, "sha256:", 7), 0);
    assert_int_equal(p->n_gates, 2);
    assert_true(cairn_policy_gate(p, "deployment")->approvals_satisfied);
    assert_int_equal(p->n_sod, 2);
    assert_true(cairn_policy_user_is_service_account(p, "ci-bot"));
    cairn_policy_unref(&p);
    cairn_errlist_clear(&errs);
}

static void an_unknown_key_is_reported_with_its_position_and_a_suggestion(void **state)
{
    const char *yaml = "apiVersion: cairn/v1\n"
                       "kind: ReleasePolicy\n"
                       "metadata: { name: t }\n"
                       "gates:\n"
                       "  build:\n"
                       "    requre: { approvals_satisfied: true }\n";
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    assert_null(s_load(yaml, &errs));
    s_print(&errs);
    assert_int_equal(errs.count, 1);
    assert_string_equal(
        errs.items[0], "p.yaml:6:5: unknown key 'requre' in gates.build — did you mean 'require'?");
    cairn_errlist_clear(&errs);
}

static void every_error_is_collected_not_just_the_first(void **state)
{
    const char *yaml = "apiVersion: cairn/v2\n"                                        /* 1 */
                       "kind: ReleasePolicy\n"                                         /* 2 */
                       "metadata: { name: t, revison: x }\n"                           /* 3 */
                       "roles:\n"                                                      /* 4 */
                       "  dev: { users: [dana] }\n"                                    /* 5 */
                       "approvals:\n"                                                  /* 6 */
                       "  rules:\n"                                                    /* 7 */
                       "    - { id: peer, from: [devs], count: 0 }\n"                  /* 8 */
                       "separation_of_duties:\n"                                       /* 9 */
                       "  - { id: SOD1, role: approver, not: [authr] }\n"              /* 10 */
                       "gates:\n"                                                      /* 11 */
                       "  build:\n"                                                    /* 12 */
                       "    evidence:\n"                                               /* 13 */
                       "      - { id: t, type: test_report, require: { faild: 0 } }\n" /* 14 */
                       "  deployment:\n"                                               /* 15 */
                       "    after: [bild]\n";                                          /* 16 */
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    assert_null(s_load(yaml, &errs));
    s_print(&errs);
    assert_int_equal(errs.count, 7);
    assert_true(s_has_error(
        &errs, "p.yaml:1:13: apiVersion 'cairn/v2' is not supported (expected 'cairn/v1')"));
    assert_true(s_has_error(
        &errs, "p.yaml:3:22: unknown key 'revison' in metadata — did you mean 'revision'?"));
    assert_true(s_has_error(
        &errs, "p.yaml:8:26: approvals.rules[0].from: unknown role 'devs' — did you mean 'dev'?"));
    assert_true(s_has_error(
        &errs, "p.yaml:8:40: approvals.rules[0].count must be a whole number of at least 1"));
    assert_true(s_has_error(&errs, "p.yaml:10:39: separation_of_duties[0].not[0]: unknown value "
                                   "'authr' — did you mean 'author'?"));
    assert_true(s_has_error(&errs, "p.yaml:14:48: unknown key 'faild' in "
                                   "gates.build.evidence[0].require — did you mean 'failed'?"));
    assert_true(s_has_error(
        &errs,
        "p.yaml:16:13: gates.deployment.after: unknown gate 'bild' — did you mean 'build'?"));
    /* Sorted by position. */
    assert_int_equal(strncmp(errs.items[0], "p.yaml:1:", 9), 0);
    assert_int_equal(strncmp(errs.items[6], "p.yaml:16:", 10), 0);
    cairn_errlist_clear(&errs);
}

static void a_yaml_syntax_error_names_its_line(void **state)
{
    const char *yaml = "apiVersion: cairn/v1\nkind: [ReleasePolicy\nmetadata: {name: x}\n";
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    assert_null(s_load(yaml, &errs));
    s_print(&errs);
    assert_true(errs.count >= 1);
    assert_int_equal(strncmp(errs.items[0], "p.yaml:", 7), 0);
    cairn_errlist_clear(&errs);
}

static void text_the_yaml_library_misreads_is_refused(void **state)
{
    /* libfyaml 0.7.12 reads 'o''''b' as o''' (and leaks): a gate that named
     * a role so would silently ask for another one. */
    const char *yaml = "apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: t }\n"
                       "gates:\n"
                       "  deploy:\n"
                       "    approvals: [{ role: 'o''''b', min: 1 }]\n";
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    assert_null(s_load(yaml, &errs));
    s_print(&errs);
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.items[0], "p.yaml:6:26: " CAIRN_YAML_MISREAD_HINT);
    cairn_errlist_clear(&errs);
}

static void gates_that_wait_on_each_other_are_a_cycle(void **state)
{
    const char *yaml = "apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: t }\n"
                       "gates:\n"
                       "  a: { after: [b] }\n"
                       "  b: { after: [a] }\n";
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    assert_null(s_load(yaml, &errs));
    s_print(&errs);
    assert_int_equal(errs.count, 1);
    assert_non_null(strstr(errs.items[0], "forms a cycle"));
    cairn_errlist_clear(&errs);
}

static void windows_reject_unknown_keys(void **state)
{
    const char *yaml = "apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: t }\n"
                       "windows:\n"
                       "  freeze:\n"
                       "    - { id: F1, cron: \"0 18 * * FRI\", duraton: 62h }\n"
                       "gates: { build: {} }\n";
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    assert_null(s_load(yaml, &errs));
    s_print(&errs);
    assert_int_equal(errs.count, 2);
    assert_true(s_has_error(
        &errs,
        "p.yaml:6:39: unknown key 'duraton' in windows.freeze[0] — did you mean 'duration'?"));
    cairn_errlist_clear(&errs);
}

static void a_broken_list_item_does_not_spill_into_the_next(void **state)
{
    const char *yaml =
        "apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: t }\n"
        "roles: { dev: { users: [dana] } }\n"
        "approvals:\n"
        "  rules:\n"
        "    - { all_of: [ { from: [dev] }, { from: [dev] }, { from: [dev] } ] }\n"
        "    - { id: one, all_of: [ { from: [dev] } ] }\n"
        "gates:\n"
        "  build:\n"
        "    evidence:\n"
        "      - { type: test_report, require: { failed: 0, passed_min: 1, skipped_max: 3 } }\n"
        "      - { id: b, type: scan, require: { critical: 0 } }\n";
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    assert_null(s_load(yaml, &errs));
    s_print(&errs);
    assert_int_equal(errs.count, 2);
    assert_true(s_has_error(&errs, "p.yaml:7:9: missing key 'id' in approvals.rules[0]"));
    assert_true(s_has_error(&errs, "p.yaml:12:11: missing key 'id' in gates.build.evidence[0]"));
    cairn_errlist_clear(&errs);
}

static void times_zones_crons_and_delegations_are_checked(void **state)
{
    (void)state;
    const char *yaml =
        "apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: t }\n"
        "defaults: { timezone: Europe/Berln }\n"
        "roles:\n"
        "  lead: { users: [lee], delegate: { from: erin, to: frank, until: tomorrow } }\n"
        "data_classes:\n"
        "  PII: { paths: [\"db/[x\"] }\n"
        "windows:\n"
        "  freeze:\n"
        "    - { id: F1, cron: \"0 25 * * FRI\", duration: 62h }\n"
        "    - { id: F2, from: \"2027-01-05T00:00\", to: \"2026-12-19T00:00\", gates: [biuld] }\n"
        "gates: { build: {} }\n";
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    assert_null(s_load(yaml, &errs));
    s_print(&errs);
    assert_true(s_has_error(&errs, "p.yaml:4:23: defaults.timezone: unknown time zone "
                                   "'Europe/Berln' (not in the system time zone database; use a "
                                   "name such as Europe/Berlin or UTC)"));
    assert_true(s_has_error(&errs, "p.yaml:6:43: roles.lead.delegate.from: 'erin' is not a "
                                   "member of role lead and cannot delegate it"));
    assert_true(s_has_error(&errs, "p.yaml:6:67: roles.lead.delegate.until: 'tomorrow' is not a "
                                   "time such as 2026-12-19T00:00 (in defaults.timezone) or "
                                   "2026-12-19T00:00:00Z"));
    assert_true(s_has_error(&errs, "p.yaml:8:19: data_classes.PII.paths: 'db/[x' is not a valid "
                                   "glob"));
    assert_true(s_has_error(&errs, "p.yaml:11:24: windows.freeze[0].cron: hour '25' is out of "
                                   "range (0-23)"));
    assert_true(s_has_error(&errs, "p.yaml:12:48: windows.freeze[1]: the window ends "
                                   "(2026-12-19T00:00) before it starts (2027-01-05T00:00)"));
    assert_true(s_has_error(&errs, "p.yaml:12:75: windows.freeze[1].gates: unknown gate 'biuld'"));
    assert_int_equal(errs.count, 7);
    cairn_errlist_clear(&errs);
}

static void delegations_windows_and_data_classes_load_resolved(void **state)
{
    (void)state;
    const char *yaml =
        "apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: t }\n"
        "defaults: { timezone: Europe/Berlin, expiry_warning: 2h }\n"
        "roles:\n"
        "  lead: { users: [lee], delegate: [ { from: lee, to: frank, until: \"2026-12-01\" } ] }\n"
        "data_classes:\n"
        "  PII: { paths: [\"db/customers/**\"] }\n"
        "windows:\n"
        "  freeze:\n"
        "    - { id: F2, from: \"2026-12-19T00:00\", to: \"2027-01-05T00:00Z\", gates: [deploy] }\n"
        "  maintenance:\n"
        "    - { id: M1, cron: \"0 9 * * MON-THU\", duration: 8h, env: [prod] }\n"
        "gates: { deploy: {} }\n";
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = s_load(yaml, &errs);
    s_print(&errs);
    assert_non_null(p);
    assert_int_equal(p->expiry_warning_ms, 2 * 3600 * 1000LL);
    assert_int_equal(p->roles[0].n_delegations, 1);
    assert_string_equal(p->roles[0].delegations[0].to, "frank");
    assert_int_equal(p->roles[0].delegations[0].until_ms, 1796079600000LL); /* 30 Nov 23:00Z */
    assert_int_equal(p->n_data_classes, 1);
    assert_string_equal(p->data_classes[0].paths.items[0], "db/customers/**");
    assert_int_equal(p->windows[0].from_ms, 1797634800000LL);
    assert_int_equal(p->windows[0].to_ms, 1799107200000LL);
    assert_string_equal(p->windows[0].gates.items[0], "deploy");
    assert_string_equal(p->windows[1].group, "maintenance");
    assert_true(p->windows[1].schedule.wdays == 0x1e);
    cairn_policy_unref(&p);
    cairn_errlist_clear(&errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_format_example_parses_into_the_model),
        cmocka_unit_test(the_built_in_policy_parses),
        cmocka_unit_test(an_unknown_key_is_reported_with_its_position_and_a_suggestion),
        cmocka_unit_test(every_error_is_collected_not_just_the_first),
        cmocka_unit_test(a_yaml_syntax_error_names_its_line),
        cmocka_unit_test(text_the_yaml_library_misreads_is_refused),
        cmocka_unit_test(gates_that_wait_on_each_other_are_a_cycle),
        cmocka_unit_test(windows_reject_unknown_keys),
        cmocka_unit_test(times_zones_crons_and_delegations_are_checked),
        cmocka_unit_test(delegations_windows_and_data_classes_load_resolved),
        cmocka_unit_test(a_broken_list_item_does_not_spill_into_the_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
