/* End to end: the four real daemons under `cairn up` in a temporary
 * directory, driven over HTTP and through the cairn CLI as a user would.
 * One change goes from creation through evidence, a self-approval that
 * separation of duties denies, a peer approval that opens the gate, and a
 * deployment; then daemons are killed to show nothing acknowledged is lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static e2e_stack_t s_stack;

static int s_setup(void **state)
{
    if (stack_start(&s_stack) != 0) {
        char *log = slurp(s_stack.log);
        fprintf(stderr, "stack did not start; log:\n%s\n", log ? log : "(none)");
        free(log);
        stack_stop(&s_stack);
        stack_cleanup(&s_stack);
        return -1;
    }
    return 0;
}

static int s_teardown(void **state)
{
    int rc = stack_stop(&s_stack);
    if (rc != 0) {
        char *log = slurp(s_stack.log);
        fprintf(stderr, "cairn up exited with %d; log:\n%s\n", rc, log ? log : "(none)");
        free(log);
    }
    /* No daemon of this stack may outlive the supervisor. */
    const char *names[] = {"cairn-ledger", "cairn-ingest", "cairn-policy", "cairn-notify"};
    int orphans = 0;
    for (int i = 0; i < 4; i++)
        orphans += stack_daemon_pid(&s_stack, names[i]) != 0;
    stack_cleanup(&s_stack);
    return rc == 0 && orphans == 0 ? 0 : -1;
}

/* Index from a 202 body {"accepted":[{"id":..,"index":N}]}, or -1. */
static long long s_accepted_index(const char *body)
{
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    json_t *first = json_array_get(json_object_get(j, "accepted"), 0);
    json_t *idx = json_object_get(first, "index");
    long long v = json_is_integer(idx) ? json_integer_value(idx) : -1;
    json_decref(j);
    return v;
}

static int s_has_reason(json_t *verdict, const char *rule)
{
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(verdict, "reasons"), i, r)
    {
        const char *id = json_string_value(json_object_get(r, "rule_id"));
        if (id && strcmp(id, rule) == 0)
            return 1;
    }
    return 0;
}

/* Waits until `cairn status CHANGE` lists an approval by user; 1 if it did. */
static int s_wait_for_approval(const char *change, const char *user, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 200) {
        json_t *st = NULL;
        stack_cli_json(&s_stack, &st, "status %s", change);
        size_t i;
        json_t *a;
        int found = 0;
        json_array_foreach(json_object_get(st, "approvals"), i, a)
        {
            const char *u = json_string_value(json_object_get(a, "user"));
            found |= u && strcmp(u, user) == 0;
        }
        json_decref(st);
        if (found)
            return 1;
        sleep_ms(200);
    }
    return 0;
}

static void a_cloudevent_is_accepted_with_its_ledger_index(void **state)
{
    char *resp = NULL;
    assert_int_equal(stack_post_fixture(&s_stack, "chg1-created.json", &resp), 202);
    assert_true(s_accepted_index(resp) >= 0);
    free(resp);
    /* The same delivery again is a duplicate with the same index. */
    assert_int_equal(stack_post_fixture(&s_stack, "chg1-created.json", &resp), 200);
    assert_non_null(strstr(resp, "\"duplicate\":true"));
    free(resp);
}

static void a_self_approval_is_denied_by_separation_of_duties(void **state)
{
    char *resp = NULL, *out = NULL;
    assert_int_equal(stack_post_fixture(&s_stack, "chg1-build.json", &resp), 202);
    free(resp);
    assert_int_equal(stack_post_fixture(&s_stack, "chg1-tests.json", &resp), 202);
    free(resp);

    /* Before any approval the deployment gate waits for one. */
    json_t *v = NULL;
    int rc = stack_cli_json(&s_stack, &v, "gate CHG-1 --gate deployment");
    assert_int_equal(rc, 3);
    json_decref(v);

    assert_int_equal(stack_cli(&s_stack, &out, "approve CHG-1 --as dana --role dev"), 0);
    free(out);
    rc = stack_cli_json(&s_stack, &v, "gate CHG-1 --gate deployment --wait 20");
    assert_int_equal(rc, 1);
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "decision")), "deny");
    assert_true(s_has_reason(v, "SOD1"));
    json_decref(v);
}

static void a_peer_approval_opens_the_gate(void **state)
{
    char *out = NULL;
    assert_int_equal(stack_cli(&s_stack, &out, "approve CHG-1 --as erin --role dev"), 0);
    free(out);
    assert_true(s_wait_for_approval("CHG-1", "erin", 20000));
    json_t *v = NULL;
    int rc = stack_cli_json(&s_stack, &v, "gate CHG-1 --gate deployment --wait 20");
    assert_int_equal(rc, 0);
    assert_string_equal(json_string_value(json_object_get(v, "decision")), "allow");
    json_decref(v);
    /* Human output names the decision too. */
    assert_int_equal(stack_cli(&s_stack, &out, "gate CHG-1 --gate deployment"), 0);
    assert_non_null(strstr(out, "allow"));
    free(out);
}

/* Position in the trail of the first entry after `from` whose topic starts
 * with prefix and whose JSON text contains needle (NULL: any); -1 if none. */
static int s_find(json_t *trail, int from, const char *prefix, const char *needle)
{
    for (size_t i = (size_t)from; i < json_array_size(trail); i++) {
        json_t *e = json_array_get(trail, i);
        const char *topic = json_string_value(json_object_get(e, "topic"));
        if (!topic || strncmp(topic, prefix, strlen(prefix)) != 0)
            continue;
        char *text = json_dumps(e, JSON_COMPACT);
        int hit = !needle || (text && strstr(text, needle));
        free(text);
        if (hit)
            return (int)i;
    }
    return -1;
}

static void the_trail_lists_the_whole_change_in_order(void **state)
{
    char *resp = NULL;
    assert_int_equal(stack_post_fixture(&s_stack, "chg1-deployed.json", &resp), 202);
    free(resp);

    json_t *trail = NULL;
    int ok = 0;
    for (int i = 0; i < 100 && !ok; i++) {
        json_decref(trail);
        trail = NULL;
        assert_int_equal(stack_cli_json(&s_stack, &trail, "trail CHG-1"), 0);
        ok = s_find(trail, 0, "dev.cdevents.service.deployed", NULL) >= 0 &&
             s_find(trail, 0, "receipt.", NULL) >= 0;
        if (!ok)
            sleep_ms(200);
    }
    assert_true(ok);
    /* Log order: indexes strictly increase. */
    long long prev = -1;
    size_t i;
    json_t *e;
    json_array_foreach(trail, i, e)
    {
        long long idx = json_integer_value(json_object_get(e, "index"));
        assert_true(idx > prev);
        prev = idx;
    }
    int created = s_find(trail, 0, "dev.cdevents.change.created", NULL);
    int build = s_find(trail, created, "dev.cdevents.build.finished", NULL);
    int tests = s_find(trail, build, "dev.cdevents.testsuiterun.finished", NULL);
    int self = s_find(trail, tests, "dev.cdeventsx.cairn-approval.granted", "dana");
    int denied = s_find(trail, self, "verdict.deployment", "SOD1");
    int peer = s_find(trail, denied, "dev.cdeventsx.cairn-approval.granted", "erin");
    int allowed = s_find(trail, peer, "verdict.deployment", "allow");
    int deployed = s_find(trail, allowed, "dev.cdevents.service.deployed", NULL);
    assert_true(created == 0);
    assert_true(build > created && tests > build && self > tests);
    assert_true(denied > self && peer > denied && allowed > peer && deployed > allowed);
    json_decref(trail);

    /* notify wrote the verdicts to its file receiver. */
    char path[256];
    snprintf(path, sizeof path, "%s/notifications.jsonl", s_stack.dir);
    char *notes = slurp(path);
    assert_non_null(notes);
    assert_non_null(strstr(notes, "SOD1"));
    free(notes);
}

/* Ingest's normalized environment reaches the ledger's index: every
 * deployment to prod, and the CI test run, are found by environment. */
static void the_ledger_finds_entries_by_environment(void **state)
{
    json_t *found = NULL;
    assert_int_equal(
        stack_cli_json(&s_stack, &found, "log query --env prod --type dev.cdevents.service."), 0);
    assert_int_equal(json_array_size(found), 1);
    assert_true(s_find(found, 0, "dev.cdevents.service.deployed", "chg-1-deployed") == 0);
    json_decref(found);

    /* Everything of CHG-1 in prod: its events and verdicts, nothing from CI. */
    assert_int_equal(stack_cli_json(&s_stack, &found, "log query --env prod"), 0);
    assert_true(s_find(found, 0, "dev.cdevents.change.created", "chg-1-created") >= 0);
    assert_true(s_find(found, 0, "verdict.deployment", "allow") >= 0);
    assert_true(s_find(found, 0, "dev.cdevents.testsuiterun.finished", NULL) < 0);
    json_decref(found);
    assert_int_equal(stack_cli_json(&s_stack, &found, "log query --env ci"), 0);
    assert_true(s_find(found, 0, "dev.cdevents.testsuiterun.finished", "chg-1-unit-tests") >= 0);
    json_decref(found);
}

static void bad_input_gets_a_clear_4xx_and_ingest_keeps_serving(void **state)
{
    char *resp = NULL;
    const char *garbage = "\x01\x02 this is not json";
    assert_int_equal(stack_http(&s_stack, "POST", "/v1/events", "application/cloudevents+json",
                                garbage, strlen(garbage), &resp),
                     400);
    assert_non_null(strstr(resp, "\"error\""));
    free(resp);

    const char *truncated = "{\"specversion\":\"1.0\",\"id\":\"x\",\"source\":\"/s\",\"type\":";
    assert_int_equal(stack_http(&s_stack, "POST", "/v1/events", "application/cloudevents+json",
                                truncated, strlen(truncated), &resp),
                     400);
    assert_non_null(strstr(resp, "\"error\""));
    free(resp);

    const char *ce = "{\"specversion\":\"1.0\",\"id\":\"ct\",\"source\":\"/s\",\"type\":\"t\"}";
    assert_int_equal(stack_http(&s_stack, "POST", "/v1/events", "text/plain", ce, strlen(ce),
                                &resp),
                     415);
    assert_non_null(strstr(resp, "\"error\""));
    free(resp);

    const char *not_event = "{\"hello\":\"world\"}";
    assert_int_equal(stack_http(&s_stack, "POST", "/v1/events", "application/cloudevents+json",
                                not_event, strlen(not_event), &resp),
                     422);
    assert_non_null(strstr(resp, "\"error\""));
    free(resp);

    /* 10 MB of something that is not an event, then more than the 25 MiB limit. */
    size_t big = 10u * 1000u * 1000u;
    char *body = malloc(27u * 1024u * 1024u);
    memset(body, 'a', 27u * 1024u * 1024u);
    body[0] = '{';
    long st = stack_http(&s_stack, "POST", "/v1/events", "application/cloudevents+json", body,
                         big, &resp);
    assert_true(st >= 400 && st < 500);
    assert_non_null(strstr(resp, "\"error\""));
    free(resp);
    st = stack_http(&s_stack, "POST", "/v1/events", "application/cloudevents+json", body,
                    27u * 1024u * 1024u, &resp);
    assert_int_equal(st, 413);
    free(resp);
    free(body);

    assert_int_equal(stack_http(&s_stack, "GET", "/healthz", NULL, NULL, 0, &resp), 200);
    free(resp);
    assert_int_equal(stack_http(&s_stack, "POST", "/v1/events", "application/cloudevents+json",
                                ce, strlen(ce), &resp),
                     202);
    free(resp);
}

static void a_killed_policy_daemon_catches_up_from_the_ledger(void **state)
{
    pid_t policy = stack_daemon_pid(&s_stack, "cairn-policy");
    assert_true(policy > 0);
    assert_int_equal(kill(policy, SIGKILL), 0);

    /* While it is down: a new change and an approval for it. */
    char body[1024];
    snprintf(body, sizeof body,
             "{\"specversion\":\"1.0\",\"id\":\"chg-2-created\",\"source\":\"/ci/acme/ledger\","
             "\"type\":\"dev.cdevents.change.created.0.4.0\",\"data\":{\"context\":{},"
             "\"subject\":{\"id\":\"CHG-2\",\"content\":{}},\"customData\":{\"author\":\"frank\","
             "\"committers\":[\"frank\"],\"environment\":\"staging\"}}}");
    char *resp = NULL, *out = NULL;
    assert_int_equal(stack_http(&s_stack, "POST", "/v1/events", "application/cloudevents+json",
                                body, strlen(body), &resp),
                     202);
    free(resp);
    assert_int_equal(stack_cli(&s_stack, &out, "approve CHG-2 --as lee --role tech_lead"), 0);
    free(out);

    /* The supervisor restarts it; it replays what it missed. */
    assert_true(s_wait_for_approval("CHG-2", "lee", 30000));
    pid_t again = stack_daemon_pid(&s_stack, "cairn-policy");
    assert_true(again > 0 && again != policy);
    json_t *trail = NULL;
    int found = 0;
    for (int i = 0; i < 100 && !found; i++) {
        json_decref(trail);
        trail = NULL;
        stack_cli_json(&s_stack, &trail, "trail CHG-2");
        found = s_find(trail, 0, "verdict.deployment", "allow") >= 0;
        if (!found)
            sleep_ms(200);
    }
    json_decref(trail);
    assert_true(found);
    char *log = slurp(s_stack.log);
    assert_non_null(strstr(log, "restarting"));
    free(log);
}

static void a_killed_ledger_loses_no_acknowledged_event(void **state)
{
    pid_t ledger = stack_daemon_pid(&s_stack, "cairn-ledger");
    assert_true(ledger > 0);
    assert_int_equal(kill(ledger, SIGKILL), 0);

    enum { N = 30 };
    long long index[N];
    int acked = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"specversion\":\"1.0\",\"id\":\"chg-3-step-%d\",\"source\":\"/ci/acme/chaos\","
                 "\"type\":\"dev.cdevents.pipelinerun.started.0.3.0\",\"data\":{\"context\":{},"
                 "\"subject\":{\"id\":\"run-%d\",\"content\":{}},\"customData\":{\"change\":"
                 "\"CHG-3\"}}}",
                 i, i);
        char *resp = NULL;
        long st = stack_http(&s_stack, "POST", "/v1/events", "application/cloudevents+json", body,
                             strlen(body), &resp);
        index[i] = -1;
        if (st == 202) {
            index[i] = s_accepted_index(resp);
            acked++;
        } else {
            assert_int_equal(st, 503);
            refused++;
        }
        free(resp);
        sleep_ms(50);
    }
    assert_true(acked > 0);
    /* Every acknowledged step is in the ledger, at the index it was given. */
    json_t *trail = NULL;
    assert_int_equal(stack_cli_json(&s_stack, &trail, "trail CHG-3"), 0);
    for (int i = 0; i < N; i++) {
        if (index[i] < 0)
            continue;
        char id[64];
        snprintf(id, sizeof id, "chg-3-step-%d\"", i);
        int at = s_find(trail, 0, "dev.cdevents.pipelinerun.started", id);
        assert_true(at >= 0);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(trail, (size_t)at),
                                                            "index")),
                         index[i]);
    }
    json_decref(trail);
    fprintf(stderr, "ledger kill: %d acknowledged, %d refused with 503\n", acked, refused);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_cloudevent_is_accepted_with_its_ledger_index),
        cmocka_unit_test(a_self_approval_is_denied_by_separation_of_duties),
        cmocka_unit_test(a_peer_approval_opens_the_gate),
        cmocka_unit_test(the_trail_lists_the_whole_change_in_order),
        cmocka_unit_test(the_ledger_finds_entries_by_environment),
        cmocka_unit_test(bad_input_gets_a_clear_4xx_and_ingest_keeps_serving),
        cmocka_unit_test(a_killed_policy_daemon_catches_up_from_the_ledger),
        cmocka_unit_test(a_killed_ledger_loses_no_acknowledged_event),
    };
    return cmocka_run_group_tests_name("end_to_end", tests, s_setup, s_teardown);
}
