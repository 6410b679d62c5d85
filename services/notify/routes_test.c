/* Tests for the routes file: Alertmanager's tree walk (first match, continue,
 * the root as the fallback), inheritance, time intervals on routes, the
 * receivers and their secrets, and errors that point at file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "cairn/yaml.h"
#include "routes.h"

static const char s_yaml[] = "global:\n"
                             "  smtp_smarthost: 127.0.0.1:2525\n"
                             "  smtp_from: cairn@example.org\n"
                             "  retry: {initial: 1s, max: 1m, max_attempts: 5, max_age: 1h}\n"
                             "time_intervals:\n"
                             "  - name: weekends\n"
                             "    time_intervals: [{weekdays: ['saturday', 'sunday']}]\n"
                             "route:\n"
                             "  receiver: default\n"
                             "  group_by: [change]\n"
                             "  group_wait: 10s\n"
                             "  routes:\n"
                             "    - matchers: ['env=\"prod\"']\n" /* line 13 */
                             "      receiver: prod\n"
                             "      group_interval: 1m\n"
                             "      routes:\n"
                             "        - matchers: ['kind=\"approval_requested\"']\n"
                             "          receiver: approvers\n"
                             "          group_by: ['...']\n"
                             "          mute_time_intervals: [weekends]\n"
                             "    - match: {team: payments}\n"
                             "      receiver: payments\n"
                             "      continue: true\n"
                             "    - match_re: {team: 'pay.*'}\n"
                             "      receiver: catchall\n"
                             "receivers:\n"
                             "  - name: default\n"
                             "    file_configs: [{}]\n"
                             "  - name: prod\n"
                             "    email_configs: [{to: ops@example.org}]\n"
                             "  - name: approvers\n"
                             "    slack_configs: [{api_url: 'https://hooks.slack.example/T/B/x'}]\n"
                             "    webhook_configs:\n"
                             "      - url: http://127.0.0.1:1/a\n"
                             "      - url: http://127.0.0.1:1/b\n"
                             "        retry: {max_attempts: 2}\n"
                             "  - name: payments\n"
                             "    feed_configs: [{}]\n"
                             "  - name: catchall\n"
                             "    alertmanager_configs: [{url: http://127.0.0.1:9093}]\n"
                             "inhibit_rules:\n"
                             "  - source_matchers: ['kind=\"gate_denied\"']\n"
                             "    target_matchers: ['kind=\"approval_requested\"']\n"
                             "    equal: [change]\n"
                             "escalations:\n"
                             "  - name: overdue\n"
                             "    matchers: ['kind=\"approval_requested\"']\n"
                             "    after: 4h\n"
                             "    set_labels: {severity: critical}\n"
                             "service_teams: {payments: team-payments}\n";

static cairn_routes_t *s_load(const char *yaml, char *err, size_t errlen)
{
    cairn_routes_t *r = NULL;
    int rc = cairn_routes_parse(yaml, strlen(yaml), "routes.yaml", "/tmp/n.jsonl", &r, err, errlen);
    return rc == 0 ? r : NULL;
}

static cairn_labels_t *s_labels(const char *a, const char *b)
{
    cairn_labels_t *l = cairn_labels_new();
    const char *kv[] = {a, b};
    for (int i = 0; i < 2; i++) {
        if (!kv[i])
            continue;
        const char *eq = strchr(kv[i], '=');
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(eq - kv[i]), kv[i]);
        cairn_labels_set(l, name, eq + 1);
    }
    return l;
}

/* The receiver names the labels reach, comma-separated. */
static void s_route(const cairn_routes_t *r, const char *a, const char *b, char *out, size_t len)
{
    const cairn_route_t *hit[16];
    cairn_labels_t *l = s_labels(a, b);
    size_t n = cairn_routes_match(r, l, hit, 16);
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && i < 16; i++)
        used +=
            (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", hit[i]->receiver->name);
    cairn_labels_destroy(&l);
}

static void alerts_descend_into_the_first_matching_child_unless_it_continues(void **state)
{
    char err[512], got[256];
    cairn_routes_t *r = s_load(s_yaml, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    s_route(r, "env=prod", "kind=approval_requested", got, sizeof got);
    assert_string_equal(got, "approvers");
    s_route(r, "env=prod", "kind=verdict", got, sizeof got);
    assert_string_equal(got, "prod"); /* no child matched: the node itself */
    s_route(r, "team=payments", NULL, got, sizeof got);
    assert_string_equal(got, "payments,catchall"); /* continue: true */
    s_route(r, "env=prod", "team=payments", got, sizeof got);
    assert_string_equal(got, "prod"); /* the first match stops the walk */
    s_route(r, "env=dev", NULL, got, sizeof got);
    assert_string_equal(got, "default");
    cairn_routes_destroy(&r);
}

static void children_inherit_timers_and_grouping_but_not_time_intervals(void **state)
{
    char err[512];
    cairn_routes_t *r = s_load(s_yaml, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->n_routes, 5);
    const cairn_route_t *root = r->root, *prod = root->routes[0], *appr = prod->routes[0];
    assert_int_equal(root->group_wait_ms, 10000);
    assert_int_equal(root->group_interval_ms, 300000); /* Alertmanager's default */
    assert_int_equal(root->repeat_interval_ms, 4 * 3600000);
    assert_int_equal(prod->group_wait_ms, 10000);
    assert_int_equal(prod->group_interval_ms, 60000);
    assert_int_equal(appr->group_interval_ms, 60000);
    assert_string_equal(prod->group_by[0], "change");
    assert_true(appr->group_by_all);
    assert_int_equal(appr->n_mute, 1);
    assert_int_equal(prod->n_mute, 0);
    assert_int_equal(prod->line, 13);
    assert_string_equal(appr->key, "{}/{env=\"prod\"}/{kind=\"approval_requested\"}");
    int64_t saturday = 0, monday = 0;
    cairn_parse_time("2026-11-28T12:00:00Z", &saturday);
    cairn_parse_time("2026-11-30T12:00:00Z", &monday);
    assert_false(cairn_route_active_at(appr, saturday));
    assert_true(cairn_route_active_at(appr, monday));
    assert_true(cairn_route_active_at(prod, saturday));
    cairn_labels_t *l = s_labels("change=CHG-1", "env=prod"), *g = NULL;
    assert_int_equal(cairn_route_group_labels(prod, l, &g), 0);
    assert_int_equal(cairn_labels_count(g), 1);
    cairn_labels_destroy(&g);
    assert_int_equal(cairn_route_group_labels(appr, l, &g), 0);
    assert_int_equal(cairn_labels_count(g), 2);
    cairn_labels_destroy(&g);
    cairn_labels_destroy(&l);
    cairn_routes_destroy(&r);
}

static void receivers_name_their_integrations_and_take_global_defaults(void **state)
{
    char err[512];
    cairn_routes_t *r = s_load(s_yaml, err, sizeof err);
    assert_non_null(r);
    const cairn_receiver_t *appr = r->root->routes[0]->routes[0]->receiver;
    assert_int_equal(appr->n_integrations, 3);
    assert_string_equal(appr->integrations[0]->target, "approvers/slack");
    assert_false(appr->integrations[0]->send_resolved); /* Slack: like Alertmanager */
    assert_string_equal(appr->integrations[1]->target, "approvers/webhook");
    assert_string_equal(appr->integrations[2]->target, "approvers/webhook1");
    assert_true(appr->integrations[1]->send_resolved);
    assert_int_equal(appr->integrations[1]->retry.max_attempts, 5);
    assert_int_equal(appr->integrations[2]->retry.max_attempts, 2);
    assert_int_equal(appr->integrations[2]->retry.initial_ms, 1000);
    const cairn_receiver_t *prod = r->root->routes[0]->receiver;
    assert_string_equal(prod->integrations[0]->smarthost, "127.0.0.1:2525");
    assert_string_equal(prod->integrations[0]->from, "cairn@example.org");
    assert_string_equal(r->receivers[0]->integrations[0]->path, "/tmp/n.jsonl");
    assert_int_equal(r->n_inhibit, 1);
    assert_int_equal(r->n_escalations, 1);
    assert_int_equal(r->escalations[0]->after_ms, 4 * 3600000);
    assert_string_equal(cairn_labels_get(r->escalations[0]->set_labels, "severity"), "critical");
    assert_string_equal(cairn_labels_get(r->service_teams, "payments"), "team-payments");
    cairn_routes_destroy(&r);
}

static void signing_keys_come_from_files_or_the_environment(void **state)
{
    char err[512], path[] = "/tmp/cairn-routes-key-XXXXXX";
    /* RFC 8032 test 1: the seed and its public key. */
    static const char seed_b64[] = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
    static const char pk_hex[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "whsk_%s\n", seed_b64);
    fclose(f);
    setenv("CAIRN_ROUTES_TEST_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 1);
    char yaml[1024];
    snprintf(yaml, sizeof yaml,
             "route: {receiver: hook}\n"
             "receivers:\n"
             "  - name: hook\n"
             "    webhook_configs:\n"
             "      - url: http://127.0.0.1:1/\n"
             "        hmac_secret: env:CAIRN_ROUTES_TEST_SECRET\n"
             "        signing_key: file:%s\n",
             path);
    cairn_routes_t *r = s_load(yaml, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    const cairn_integration_t *in = r->receivers[0]->integrations[0];
    assert_int_equal(in->hmac_key_len, 24);
    assert_non_null(in->ed25519_sk);
    char hex[65];
    cairn_hex(in->ed25519_sk + 32, 32, hex); /* libsodium keeps the public key last */
    assert_string_equal(hex, pk_hex);
    cairn_routes_destroy(&r);

    setenv("CAIRN_ROUTES_TEST_SECRET", "not-a-key", 1);
    assert_null(s_load(yaml, err, sizeof err));
    assert_non_null(strstr(err, "hmac_secret must be a Standard Webhooks key"));
    assert_null(strstr(err, "not-a-key")); /* secrets are never echoed */
    unsetenv("CAIRN_ROUTES_TEST_SECRET");
    assert_null(s_load(yaml, err, sizeof err));
    assert_non_null(strstr(err, "CAIRN_ROUTES_TEST_SECRET is not set"));
    unlink(path);
}

static void mistakes_are_reported_at_their_line_and_column(void **state)
{
    char err[512];
    assert_null(s_load("route: {receiver: x}\nreceivers: [{name: x, file_configs: [{}]}]\n"
                       "inhibit_rulez: []\n",
                       err, sizeof err));
    assert_non_null(strstr(err, "routes.yaml:3:1: unknown key 'inhibit_rulez'"));
    assert_null(s_load("route:\n  receiver: nobody\nreceivers: [{name: x}]\n", err, sizeof err));
    assert_non_null(strstr(err, "routes.yaml:2:13: receiver 'nobody' is not defined"));
    assert_null(s_load("route:\n  receiver: x\n  matchers: ['a=b']\nreceivers: [{name: x}]\n", err,
                       sizeof err));
    assert_non_null(strstr(err, "root route must match everything"));
    assert_null(s_load("route:\n  receiver: x\n  routes:\n    - matchers: ['kind=~\"(\"']\n"
                       "receivers: [{name: x}]\n",
                       err, sizeof err));
    if (!strstr(err, "routes.yaml:4:19: regular expression"))
        fail_msg("%s", err);
    assert_null(s_load("route:\n  receiver: x\n  group_wait: soon\nreceivers: [{name: x}]\n", err,
                       sizeof err));
    assert_non_null(strstr(err, "group_wait"));
    assert_null(s_load("route:\n  receiver: x\n  routes: [{mute_time_intervals: [never]}]\n"
                       "receivers: [{name: x}]\n",
                       err, sizeof err));
    assert_non_null(strstr(err, "'never', which is not in time_intervals"));
    assert_null(s_load("route: {receiver: x}\nreceivers: [{name: x, email_configs: [{to: a}]}]\n",
                       err, sizeof err));
    assert_non_null(strstr(err, "smarthost"));
    assert_null(s_load("route: [\n", err, sizeof err));
    assert_non_null(strstr(err, "routes.yaml:"));
    /* A syntax error where libfyaml puts it (its lines count from 1). */
    assert_null(s_load("route:\n  receiver: \"x\n", err, sizeof err));
    if (!strstr(err, "routes.yaml:2:14: double-quoted scalar without closing quote"))
        fail_msg("%s", err);
    /* Text the YAML library would misread ('x''''y' reads as x''' there). */
    assert_null(s_load("route: {receiver: x}\nreceivers: [{name: 'x''''y'}]\n", err, sizeof err));
    if (!strstr(err, "routes.yaml:2:21: " CAIRN_YAML_MISREAD_HINT))
        fail_msg("%s", err);
}

static void no_routes_file_means_everything_goes_to_the_file(void **state)
{
    char err[512], got[64];
    cairn_routes_t *r = NULL;
    assert_int_equal(cairn_routes_load("", "/tmp/n.jsonl", &r, err, sizeof err), 0);
    s_route(r, "kind=verdict", "change=CHG-1", got, sizeof got);
    assert_string_equal(got, "default");
    assert_int_equal(r->root->group_wait_ms, 0);
    assert_int_equal(r->root->repeat_interval_ms, 0);
    assert_string_equal(r->receivers[0]->integrations[0]->target, "default/file");
    cairn_routes_destroy(&r);
    assert_int_equal(cairn_routes_load("/nonexistent/routes.yaml", "", &r, err, sizeof err),
                     CAIRN_ECONFIG);
    assert_non_null(strstr(err, "/nonexistent/routes.yaml: cannot read"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alerts_descend_into_the_first_matching_child_unless_it_continues),
        cmocka_unit_test(children_inherit_timers_and_grouping_but_not_time_intervals),
        cmocka_unit_test(receivers_name_their_integrations_and_take_global_defaults),
        cmocka_unit_test(signing_keys_come_from_files_or_the_environment),
        cmocka_unit_test(mistakes_are_reported_at_their_line_and_column),
        cmocka_unit_test(no_routes_file_means_everything_goes_to_the_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
