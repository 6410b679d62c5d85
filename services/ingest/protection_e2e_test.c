/* GitHub deployment protection rules against the real stack: cairn-ledger
 * and cairn-policy (built-in default policy) run as child processes in a
 * temporary directory, the handler and the protection worker of ingest
 * in-process, GitHub is the loopback sink. A change with evidence waits for
 * an approval: the protection rule stays unanswered until the peer approval
 * is recorded, and is then approved because the policy's verdict arrived on
 * the ledger stream. A change its author approved is rejected with the
 * separation-of-duties reason. Every answer is in the ledger. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "cairn/util.h"
#include "daemon_proc.h"
#include "handler.h"
#include "http_sink.h"
#include "protection.h"

typedef struct {
    char dir[64];                          /* data directory of the stack */
    char ledger_api[128];                  /* bus.ledger_api */
    char ledger_stream[128];               /* bus.ledger_stream */
    char policy[128];                      /* bus.policy_query */
    pid_t ledger, policy_pid;              /* the daemons */
    http_sink_t *sink;                     /* GitHub */
    cairn_ingest_auth_t *auth;             /* unsigned GitHub webhooks allowed */
    cairn_ingest_handler_t *handler;       /* ingest's handler */
    cairn_ingest_protection_t *protection; /* under test */
} s_fixture_t;

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int s_setup(void **state)
{
    char err[256], spool[128], protection[128];
    s_fixture_t *f = calloc(1, sizeof *f);
    *state = f;
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-protection-e2e-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->ledger_api, sizeof f->ledger_api, "ipc://%s/run/ledger-api.sock", f->dir);
    snprintf(f->ledger_stream, sizeof f->ledger_stream, "ipc://%s/run/ledger-stream.sock", f->dir);
    snprintf(f->policy, sizeof f->policy, "ipc://%s/run/policy-query.sock", f->dir);
    snprintf(spool, sizeof spool, "%s/ingest/spool", f->dir);
    snprintf(protection, sizeof protection, "%s/ingest/protection", f->dir);
    if ((f->ledger = daemon_start("cairn-ledger", f->dir, f->ledger_api, NULL)) < 0)
        return -1;
    if ((f->policy_pid = daemon_start("cairn-policy", f->dir, f->policy, NULL)) < 0)
        return -1;
    if (!(f->sink = http_sink_start()))
        return -1;
    cairn_ingest_auth_settings_t as = {.allow_unsigned_github = true};
    if (cairn_ingest_auth_new(&as, &f->auth, err, sizeof err) < 0)
        return -1;
    cairn_ingest_handler_settings_t hs = {
        .ledger_endpoint = f->ledger_api,
        .ledger_timeout_ms = 5000,
        .max_body = 1024 * 1024,
        .spool_dir = spool,
        .spool_max = 1000,
        .spool_max_bytes = 64 * 1024 * 1024,
        .auth = f->auth,
    };
    if (!(f->handler = cairn_ingest_handler_new(&hs)))
        return -1;
    cairn_ingest_protection_settings_t ps = {
        .state_dir = protection,
        .policy_endpoint = f->policy,
        .ledger_stream = f->ledger_stream,
        .request_timeout_ms = 5000,
        .gate = "deployment",
        .timeout_ms = 60000,
        .api_url = http_sink_url(f->sink),
        .token_spec = "ghs_e2e_token",
        .recorder = cairn_ingest_handler_recorder(f->handler),
    };
    if (cairn_ingest_protection_new(&ps, &f->protection) < 0)
        return -1;
    cairn_ingest_handler_set_protection(f->handler, f->protection);
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_ingest_handler_set_protection(f->handler, NULL);
    cairn_ingest_protection_destroy(&f->protection);
    cairn_ingest_handler_destroy(&f->handler);
    cairn_ingest_auth_destroy(&f->auth);
    http_sink_stop(&f->sink);
    if (f->policy_pid > 0)
        daemon_stop(f->policy_pid);
    if (f->ledger > 0)
        daemon_stop(f->ledger);
    nftw(f->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Posts a CloudEvent; it must be accepted. */
static void s_event(s_fixture_t *f, json_t *event)
{
    char *body = json_dumps(event, JSON_COMPACT);
    json_decref(event);
    cairn_ingest_response_t r = {0};
    cairn_ingest_handler_handle(f->handler, "/v1/events", "application/cloudevents+json", NULL, 0,
                                body, strlen(body), &r);
    assert_int_equal(r.status, 202);
    cairn_ingest_response_clear(&r);
    free(body);
}

/* A change by author dana with passing build and test evidence. */
static void s_change_ready(s_fixture_t *f, const char *change)
{
    char id[64];
    snprintf(id, sizeof id, "%s-created", change);
    s_event(f, json_pack("{s:s,s:s,s:s,s:s,s:{s:{s:s,s:s,s:s,s:s,s:s},s:{s:s,s:{s:{s:s}}},"
                         "s:{s:s,s:[s],s:s,s:s,s:s}}}",
                         "specversion", "1.0", "id", id, "source", "/ci/acme/payments", "type",
                         "dev.cdevents.change.created.0.4.0", "data", "context", "specversion",
                         "0.5.0", "id", id, "source", "/ci/acme/payments", "type",
                         "dev.cdevents.change.created.0.4.0", "timestamp", "2026-11-25T10:00:00Z",
                         "subject", "id", change, "content", "repository", "id", "acme/payments",
                         "customData", "author", "dana", "committers", "dana", "commit",
                         "4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39", "environment", "prod",
                         "service", "payments"));
    snprintf(id, sizeof id, "%s-tests", change);
    s_event(f, json_pack("{s:s,s:s,s:s,s:s,s:{s:{s:s,s:s,s:s,s:s,s:s},s:{s:s,s:{s:s}},"
                         "s:{s:s,s:i,s:i}}}",
                         "specversion", "1.0", "id", id, "source", "/ci/acme/payments", "type",
                         "dev.cdevents.testsuiterun.finished.0.3.0", "data", "context",
                         "specversion", "0.5.0", "id", id, "source", "/ci/acme/payments", "type",
                         "dev.cdevents.testsuiterun.finished.0.3.0", "timestamp",
                         "2026-11-25T10:05:00Z", "subject", "id", "unit", "content", "outcome",
                         "success", "customData", "change", change, "tests_passed", 128,
                         "tests_failed", 0));
}

static void s_approve(s_fixture_t *f, const char *change, const char *who)
{
    char id[64];
    snprintf(id, sizeof id, "%s-approved-by-%s", change, who);
    s_event(f,
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s}}", "specversion", "1.0", "id", id,
                      "source", "/cairn/cli", "type", "dev.cdeventsx.cairn-approval.granted.0.1.0",
                      "subject", change, "data", "change", change, "approver", who, "role", "dev"));
}

/* The GitHub sample protection rule, for change, as delivery. */
static void s_rule(s_fixture_t *f, const char *change, const char *delivery)
{
    char path[1024];
    const char *src = getenv("CAIRN_SOURCE_DIR");
    snprintf(path, sizeof path,
             "%s/services/ingest/testdata/github/deployment_protection_rule.requested.json",
             src ? src : ".");
    json_t *root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    json_object_set_new(json_object_get(json_object_get(root, "deployment"), "payload"),
                        "change_id", json_string(change));
    char *body = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    cairn_ingest_header_t headers[] = {
        {"Content-Type", "application/json"},
        {"X-GitHub-Event", "deployment_protection_rule"},
        {"X-GitHub-Delivery", delivery},
        {"X-GitHub-Hook-ID", "77"},
    };
    cairn_ingest_response_t r = {0};
    cairn_ingest_handler_handle(f->handler, "/v1/webhooks/github", NULL, headers, 4, body,
                                strlen(body), &r);
    assert_int_equal(r.status, 202);
    cairn_ingest_response_clear(&r);
    free(body);
}

static json_t *s_review(s_fixture_t *f, size_t i)
{
    const http_sink_request_t *r = http_sink_request(f->sink, i);
    assert_non_null(r);
    assert_string_equal(r->auth, "Bearer ghs_e2e_token");
    json_t *review = json_loads(r->body, 0, NULL);
    assert_non_null(review);
    return review;
}

/* How many answer events for change are in the ledger, and their states. */
static size_t s_answers(s_fixture_t *f, const char *change, char *states, size_t len)
{
    Cairn__V1__Entry **entries = NULL;
    size_t n = 0, found = 0;
    states[0] = '\0';
    assert_int_equal(ledger_read_all(f->ledger_api, &entries, &n), 0);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(entries[i]->topic, CAIRN_PROTECTION_ANSWER_TYPE) != 0 ||
            strcmp(entries[i]->change_id, change) != 0)
            continue;
        Cairn__V1__Record *rec = ledger_entry_record(entries[i]);
        assert_non_null(rec);
        for (size_t k = 0; k < rec->event->n_extensions; k++)
            if (strcmp(rec->event->extensions[k]->key, "state") == 0)
                snprintf(states + strlen(states), len - strlen(states), "%s%s", found ? "," : "",
                         rec->event->extensions[k]->value);
        CAIRN_CODEC_FREE(&rec);
        found++;
    }
    ledger_entries_free(entries, n);
    return found;
}

static void s_wait_answers(s_fixture_t *f, const char *change, size_t n, char *states, size_t len)
{
    for (int i = 0; i < 250 && s_answers(f, change, states, len) < n; i++)
        s_sleep_ms(20);
    assert_int_equal(s_answers(f, change, states, len), n);
}

static void a_deployment_waits_for_the_approval_and_is_then_approved(void **state)
{
    s_fixture_t *f = *state;
    char states[64];
    s_change_ready(f, "CHG-1");
    s_rule(f, "CHG-1", "e2e-1");
    /* The deployment gate needs one approval: no answer yet. */
    s_sleep_ms(1500);
    assert_int_equal(http_sink_count(f->sink), 0);

    s_approve(f, "CHG-1", "erin");
    assert_int_equal(http_sink_wait(f->sink, 1, 10000), 1);
    json_t *review = s_review(f, 0);
    assert_string_equal(json_string_value(json_object_get(review, "state")), "approved");
    assert_string_equal(json_string_value(json_object_get(review, "environment_name")),
                        "production");
    assert_non_null(strstr(json_string_value(json_object_get(review, "comment")),
                           "Cairn allows CHG-1 at gate deployment"));
    json_decref(review);
    s_wait_answers(f, "CHG-1", 1, states, sizeof states);
    assert_string_equal(states, "approved");
}

static void a_self_approved_change_is_rejected_for_separation_of_duties(void **state)
{
    s_fixture_t *f = *state;
    char states[64];
    s_change_ready(f, "CHG-2");
    s_approve(f, "CHG-2", "dana");
    /* Let the policy fold the approval before GitHub asks. */
    s_sleep_ms(500);
    s_rule(f, "CHG-2", "e2e-2");
    assert_int_equal(http_sink_wait(f->sink, 1, 10000), 1);
    json_t *review = s_review(f, 0);
    assert_string_equal(json_string_value(json_object_get(review, "state")), "rejected");
    const char *comment = json_string_value(json_object_get(review, "comment"));
    assert_non_null(strstr(comment, "Cairn denies CHG-2"));
    assert_non_null(strstr(comment, "SOD1"));
    json_decref(review);
    s_wait_answers(f, "CHG-2", 1, states, sizeof states);
    assert_string_equal(states, "rejected");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(a_deployment_waits_for_the_approval_and_is_then_approved),
        T(a_self_approved_change_is_rejected_for_separation_of_duties),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
