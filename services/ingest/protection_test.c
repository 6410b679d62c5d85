/* Tests for GitHub deployment protection rules through the handler: a
 * `deployment_protection_rule` webhook is recorded, the policy is asked (a
 * stand-in ROUTER answering GateQuery, so every decision can be staged),
 * GitHub's callback is answered on a loopback HTTP sink (testing/http_sink.h)
 * with the configured token, a pending decision waits for the gate's
 * verdict on the ledger stream (a PUB socket the test publishes on) or
 * times out as "rejected", and each answer is recorded in the ledger (the
 * stand-in ledger of fake_ledger.h). Also: the callback path check,
 * retries of a failed POST, a redelivery answered once, and a pending
 * request resumed after a restart. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "cairn/bus.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "fake_ledger.h"
#include "github_api.h"
#include "handler.h"
#include "http_sink.h"
#include "protection.h"

/* --- the stand-in policy ------------------------------------------------- */

typedef struct {
    zsock_t *router;      /* bound on the policy endpoint */
    pthread_t thread;     /* answers queries */
    atomic_bool stop;     /* ends the thread */
    pthread_mutex_t lock; /* guards the rest */
    char changes[8][32];  /* changes with a decision */
    Cairn__V1__Decision decisions[8];
    size_t n;           /* how many */
    size_t queries;     /* gate queries answered */
    char last_gate[64]; /* the gate of the last query */
    char last_env[64];  /* its environment */
} s_policy_t;

static void s_policy_set(s_policy_t *p, const char *change, Cairn__V1__Decision d)
{
    pthread_mutex_lock(&p->lock);
    size_t i = 0;
    while (i < p->n && strcmp(p->changes[i], change) != 0)
        i++;
    if (i == p->n && p->n < 8)
        snprintf(p->changes[p->n++], sizeof p->changes[0], "%s", change);
    if (i < 8)
        p->decisions[i] = d;
    pthread_mutex_unlock(&p->lock);
}

static void s_policy_answer(s_policy_t *p, zframe_t **peer, const uint8_t *payload, size_t len)
{
    Cairn__V1__PolicyRequest *req = NULL;
    Cairn__V1__PolicyReply reply = CAIRN__V1__POLICY_REPLY__INIT;
    Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
    Cairn__V1__Reason reason = CAIRN__V1__REASON__INIT;
    Cairn__V1__Reason *reasons[] = {&reason};
    if (cairn_codec_policy_request_unpack(payload, len, &req) < 0 ||
        req->body_case != CAIRN__V1__POLICY_REQUEST__BODY_GATE) {
        CAIRN_CODEC_FREE(&req);
        return;
    }
    Cairn__V1__Decision d = CAIRN__V1__DECISION__DECISION_PENDING;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->changes[i], req->gate->change_id) == 0)
            d = p->decisions[i];
    p->queries++;
    snprintf(p->last_gate, sizeof p->last_gate, "%s", req->gate->gate);
    snprintf(p->last_env, sizeof p->last_env, "%s", req->gate->environment);
    pthread_mutex_unlock(&p->lock);
    v.change_id = req->gate->change_id;
    v.gate = req->gate->gate;
    v.decision = d;
    v.policy_name = "test-policy";
    v.policy_revision = "7";
    reason.rule_id = d == CAIRN__V1__DECISION__DECISION_DENY ? "SOD1" : "peer";
    reason.result = d == CAIRN__V1__DECISION__DECISION_DENY    ? "fail"
                    : d == CAIRN__V1__DECISION__DECISION_ALLOW ? "pass"
                                                               : "missing";
    reason.message = d == CAIRN__V1__DECISION__DECISION_DENY
                         ? "dana is the author of the change and cannot approve it"
                         : "one approval from dev or tech_lead";
    v.reasons = reasons;
    v.n_reasons = 1;
    reply.verdict = &v;
    uint8_t *buf = NULL;
    size_t buf_len = 0;
    if (cairn_codec_pack(&reply.base, &buf, &buf_len) == 0)
        cairn_bus_server_reply(p->router, peer, buf, buf_len);
    free(buf);
    CAIRN_CODEC_FREE(&req);
}

static void *s_policy_run(void *arg)
{
    s_policy_t *p = arg;
    while (!atomic_load(&p->stop)) {
        zmq_pollitem_t item = {zsock_resolve(p->router), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 20) <= 0)
            continue;
        zframe_t *peer = NULL;
        uint8_t *payload = NULL;
        size_t len = 0;
        if (cairn_bus_server_recv(p->router, &peer, &payload, &len) == 0)
            s_policy_answer(p, &peer, payload, len);
        zframe_destroy(&peer);
        free(payload);
    }
    return NULL;
}

static size_t s_policy_queries(s_policy_t *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->queries;
    pthread_mutex_unlock(&p->lock);
    return n;
}

/* --- the fixture --------------------------------------------------------- */

typedef struct {
    char dir[64];                          /* temporary directory */
    char ledger_ep[128];                   /* fake ledger (records answers) */
    char policy_ep[128];                   /* stand-in policy */
    char query_ep[128];                    /* bus.policy_query when not policy_ep */
    char partitions[300];                  /* policy.partition_endpoints */
    char stream_ep[128];                   /* the "ledger stream" the test publishes on */
    char token_spec[160];                  /* file:<dir>/token */
    char api_url[80];                      /* http://127.0.0.1:<sink port>/ */
    fake_ledger_t *ledger;                 /* records the events and answers */
    s_policy_t policy;                     /* answers gate queries */
    zsock_t *stream;                       /* PUB: verdicts */
    http_sink_t *sink;                     /* GitHub */
    cairn_ingest_auth_t *auth;             /* GitHub webhooks accepted unsigned */
    cairn_ingest_handler_t *handler;       /* takes the webhooks */
    cairn_ingest_protection_t *protection; /* under test */
    int64_t timeout_ms;                    /* ingest.github_protection_timeout */
} s_fixture_t;

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int s_protection_start(s_fixture_t *f)
{
    char state[128];
    snprintf(state, sizeof state, "%s/ingest/protection", f->dir);
    cairn_ingest_protection_settings_t ps = {
        .state_dir = state,
        .policy_endpoint = *f->query_ep ? f->query_ep : f->policy_ep,
        .policy_partitions = f->partitions,
        .ledger_stream = f->stream_ep,
        .request_timeout_ms = 1000,
        .gate = "deployment",
        .timeout_ms = f->timeout_ms,
        .api_url = f->api_url,
        .token_spec = f->token_spec,
        .recorder = cairn_ingest_handler_recorder(f->handler),
    };
    int rc = cairn_ingest_protection_new(&ps, &f->protection);
    if (rc == 0)
        cairn_ingest_handler_set_protection(f->handler, f->protection);
    /* let the worker's SUB connect before anything is published */
    s_sleep_ms(150);
    return rc;
}

static void s_protection_stop(s_fixture_t *f)
{
    cairn_ingest_handler_set_protection(f->handler, NULL);
    cairn_ingest_protection_destroy(&f->protection);
}

static int s_setup_with_timeout(void **state, int64_t timeout_ms)
{
    char err[256], token_path[128];
    s_fixture_t *f = calloc(1, sizeof *f);
    *state = f;
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-protection-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    f->timeout_ms = timeout_ms;
    snprintf(f->ledger_ep, sizeof f->ledger_ep, "ipc://%s/ledger.sock", f->dir);
    snprintf(f->policy_ep, sizeof f->policy_ep, "ipc://%s/policy.sock", f->dir);
    snprintf(f->stream_ep, sizeof f->stream_ep, "ipc://%s/stream.sock", f->dir);
    snprintf(token_path, sizeof token_path, "%s/token", f->dir);
    FILE *t = fopen(token_path, "w");
    if (!t)
        return -1;
    fputs("ghs_test_token_123\n", t);
    fclose(t);
    if (chmod(token_path, 0600) != 0) /* secret files must be owner-only */
        return -1;
    snprintf(f->token_spec, sizeof f->token_spec, "file:%s", token_path);
    if (!(f->ledger = fake_ledger_start(f->ledger_ep)))
        return -1;
    pthread_mutex_init(&f->policy.lock, NULL);
    if (cairn_bus_bind(ZMQ_ROUTER, f->policy_ep, &f->policy.router) < 0 ||
        pthread_create(&f->policy.thread, NULL, s_policy_run, &f->policy) != 0)
        return -1;
    if (cairn_bus_bind(ZMQ_PUB, f->stream_ep, &f->stream) < 0)
        return -1;
    if (!(f->sink = http_sink_start()))
        return -1;
    /* (a trailing slash, as people write it; the path is appended without doubling it) */
    snprintf(f->api_url, sizeof f->api_url, "%s/", http_sink_url(f->sink));
    cairn_ingest_auth_settings_t as = {.allow_unsigned_github = true};
    if (cairn_ingest_auth_new(&as, &f->auth, err, sizeof err) < 0)
        return -1;
    cairn_ingest_handler_settings_t hs = {
        .ledger_endpoint = f->ledger_ep,
        .ledger_timeout_ms = 2000,
        .max_body = 1024 * 1024,
        .auth = f->auth,
    };
    if (!(f->handler = cairn_ingest_handler_new(&hs)))
        return -1;
    return s_protection_start(f);
}

static int s_setup(void **state)
{
    return s_setup_with_timeout(state, 60000);
}

static int s_setup_short(void **state)
{
    return s_setup_with_timeout(state, 1500);
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    s_protection_stop(f);
    cairn_ingest_handler_destroy(&f->handler);
    cairn_ingest_auth_destroy(&f->auth);
    http_sink_stop(&f->sink);
    zsock_destroy(&f->stream);
    atomic_store(&f->policy.stop, true);
    pthread_join(f->policy.thread, NULL);
    zsock_destroy(&f->policy.router);
    pthread_mutex_destroy(&f->policy.lock);
    fake_ledger_stop(&f->ledger);
    nftw(f->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Posts the GitHub sample deployment_protection_rule for change (NULL: the
 * payload names none) with delivery id delivery. */
static void s_post_rule(s_fixture_t *f, const char *change, const char *delivery)
{
    char path[1024];
    const char *src = getenv("CAIRN_SOURCE_DIR");
    snprintf(path, sizeof path,
             "%s/services/ingest/testdata/github/deployment_protection_rule.requested.json",
             src ? src : ".");
    json_t *root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    json_t *payload = json_object_get(json_object_get(root, "deployment"), "payload");
    if (change)
        json_object_set_new(payload, "change_id", json_string(change));
    else
        json_object_del(payload, "change_id");
    char *body = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    cairn_ingest_header_t headers[] = {
        {"Content-Type", "application/json"},
        {"X-GitHub-Event", "deployment_protection_rule"},
        {"X-GitHub-Delivery", delivery},
        {"X-GitHub-Hook-ID", "4242"},
    };
    cairn_ingest_response_t r = {0};
    cairn_ingest_handler_handle(f->handler, "/v1/webhooks/github", NULL, headers, 4, body,
                                strlen(body), &r);
    assert_true(r.status == 202 || r.status == 200);
    cairn_ingest_response_clear(&r);
    free(body);
}

/* Waits until the sink has seen n requests (or fails after ms). */
static void s_wait_sink(s_fixture_t *f, size_t n, int ms)
{
    assert_int_equal(http_sink_wait(f->sink, n, ms), n);
}

/* The answer event recorded last in the ledger, once it is there. */
static Cairn__V1__Record *s_wait_answer(s_fixture_t *f, size_t want_entries)
{
    for (int i = 0; i < 200 && fake_ledger_size(f->ledger) < want_entries; i++)
        s_sleep_ms(20);
    assert_int_equal(fake_ledger_size(f->ledger), want_entries);
    char *key = NULL;
    Cairn__V1__Record *rec = NULL;
    assert_int_equal(fake_ledger_entry(f->ledger, want_entries - 1, &key, &rec), 0);
    assert_non_null(strstr(key, "github-protection-answer:"));
    free(key);
    assert_string_equal(rec->event->type, CAIRN_PROTECTION_ANSWER_TYPE);
    return rec;
}

static const char *s_ext(const Cairn__V1__Event *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_extensions; i++)
        if (strcmp(ev->extensions[i]->key, name) == 0)
            return ev->extensions[i]->value;
    return "";
}

/* The review GitHub received as request i. */
static json_t *s_review(s_fixture_t *f, size_t i)
{
    json_t *body = json_loads(http_sink_request(f->sink, i)->body, 0, NULL);
    assert_non_null(body);
    return body;
}

static const char *s_field(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

/* --- the tests ------------------------------------------------------------ */

static void an_allowed_change_is_approved_on_the_callback_with_the_token(void **state)
{
    s_fixture_t *f = *state;
    s_policy_set(&f->policy, "CHG-A", CAIRN__V1__DECISION__DECISION_ALLOW);
    s_post_rule(f, "CHG-A", "d-1");
    s_wait_sink(f, 1, 5000);
    const http_sink_request_t *s = http_sink_request(f->sink, 0);
    assert_string_equal(
        s->url, "POST /repos/acme/payments/actions/runs/30433700/deployment_protection_rule");
    assert_string_equal(s->auth, "Bearer ghs_test_token_123");
    assert_string_equal(s->accept, "application/vnd.github+json");
    json_t *review = s_review(f, 0);
    assert_string_equal(s_field(review, "environment_name"), "production");
    assert_string_equal(s_field(review, "state"), "approved");
    assert_non_null(strstr(s_field(review, "comment"), "Cairn allows CHG-A at gate deployment"));
    json_decref(review);
    pthread_mutex_lock(&f->policy.lock);
    assert_string_equal(f->policy.last_gate, "deployment");
    assert_string_equal(f->policy.last_env, "production");
    pthread_mutex_unlock(&f->policy.lock);

    /* entry 0: the request itself; entry 1: the answer */
    Cairn__V1__Record *rec = s_wait_answer(f, 2);
    assert_string_equal(rec->event->correlation->change_id, "CHG-A");
    assert_string_equal(rec->event->correlation->environment, "production");
    assert_string_equal(s_ext(rec->event, "state"), "approved");
    assert_string_equal(s_ext(rec->event, "decision"), "allow");
    assert_string_equal(s_ext(rec->event, "githubstatus"), "204");
    CAIRN_CODEC_FREE(&rec);
    /* The request is closed (and the gauge lowered) just after its answer
     * is recorded. */
    char *metrics = NULL;
    for (int i = 0; i < 100; i++) {
        free(metrics);
        metrics = cairn_ingest_handler_metrics(f->handler);
        if (strstr(metrics, "cairn_ingest_github_protection_pending 0\n"))
            break;
        s_sleep_ms(50);
    }
    assert_non_null(
        strstr(metrics, "cairn_ingest_github_protection_answers_total{state=\"approved\"} 1\n"));
    assert_non_null(strstr(metrics, "cairn_ingest_github_protection_pending 0\n"));
    free(metrics);
}

static void a_pending_change_is_answered_when_its_verdict_is_recorded(void **state)
{
    s_fixture_t *f = *state;
    s_post_rule(f, "CHG-B", "d-2");
    for (int i = 0; i < 100 && s_policy_queries(&f->policy) == 0; i++)
        s_sleep_ms(20);
    assert_true(s_policy_queries(&f->policy) >= 1);
    s_sleep_ms(600);
    assert_int_equal(http_sink_count(f->sink), 0); /* not answered while pending */

    /* The approval arrives: the policy now allows, and records a verdict. */
    s_policy_set(&f->policy, "CHG-B", CAIRN__V1__DECISION__DECISION_ALLOW);
    Cairn__V1__Entry entry = CAIRN__V1__ENTRY__INIT;
    entry.index = 9;
    entry.topic = "verdict.deployment";
    entry.change_id = "CHG-B";
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(cairn_codec_pack(&entry.base, &buf, &len), 0);
    int64_t published = cairn_mono_ms();
    assert_int_equal(cairn_bus_publish(f->stream, "verdict.deployment", buf, len), 0);
    free(buf);
    s_wait_sink(f, 1, 3000);
    /* sooner than the every-5-seconds re-ask: the verdict woke it */
    assert_true(http_sink_request(f->sink, 0)->at_ms - published < 2500);
    json_t *review = s_review(f, 0);
    assert_string_equal(s_field(review, "state"), "approved");
    json_decref(review);
    Cairn__V1__Record *rec = s_wait_answer(f, 2);
    CAIRN_CODEC_FREE(&rec);
}

static void a_denied_change_is_rejected_with_the_reasons(void **state)
{
    s_fixture_t *f = *state;
    s_policy_set(&f->policy, "CHG-C", CAIRN__V1__DECISION__DECISION_DENY);
    s_post_rule(f, "CHG-C", "d-3");
    s_wait_sink(f, 1, 5000);
    json_t *review = s_review(f, 0);
    assert_string_equal(s_field(review, "state"), "rejected");
    const char *comment = s_field(review, "comment");
    assert_non_null(strstr(comment, "Cairn denies CHG-C"));
    assert_non_null(
        strstr(comment, "- fail SOD1: dana is the author of the change and cannot approve it"));
    json_decref(review);
    Cairn__V1__Record *rec = s_wait_answer(f, 2);
    assert_string_equal(s_ext(rec->event, "state"), "rejected");
    assert_string_equal(s_ext(rec->event, "decision"), "deny");
    CAIRN_CODEC_FREE(&rec);
}

static void a_change_still_pending_after_the_timeout_is_rejected(void **state)
{
    s_fixture_t *f = *state;
    int64_t start = cairn_mono_ms();
    s_post_rule(f, "CHG-D", "d-4");
    s_wait_sink(f, 1, 5000);
    assert_true(cairn_mono_ms() - start >= 1400);
    json_t *review = s_review(f, 0);
    assert_string_equal(s_field(review, "state"), "rejected");
    assert_non_null(strstr(s_field(review, "comment"), "was still pending after 1500ms"));
    json_decref(review);
    Cairn__V1__Record *rec = s_wait_answer(f, 2);
    assert_string_equal(s_ext(rec->event, "decision"), "timeout");
    CAIRN_CODEC_FREE(&rec);
}

static void a_deployment_naming_no_change_is_rejected_without_asking(void **state)
{
    s_fixture_t *f = *state;
    s_post_rule(f, NULL, "d-5");
    s_wait_sink(f, 1, 5000);
    json_t *review = s_review(f, 0);
    assert_string_equal(s_field(review, "state"), "rejected");
    assert_non_null(strstr(s_field(review, "comment"), "cannot tell which change"));
    json_decref(review);
    assert_int_equal(s_policy_queries(&f->policy), 0);
    Cairn__V1__Record *rec = s_wait_answer(f, 2);
    CAIRN_CODEC_FREE(&rec);
}

static void a_failed_post_is_retried_and_a_redelivery_answered_once(void **state)
{
    s_fixture_t *f = *state;
    http_sink_answer(f->sink, 0, 502);
    s_policy_set(&f->policy, "CHG-E", CAIRN__V1__DECISION__DECISION_ALLOW);
    s_post_rule(f, "CHG-E", "d-6");
    s_post_rule(f, "CHG-E", "d-6"); /* GitHub redelivers */
    s_wait_sink(f, 2, 5000);
    Cairn__V1__Record *rec = s_wait_answer(f, 2);
    assert_string_equal(s_ext(rec->event, "githubstatus"), "204");
    json_t *data = json_loadb((const char *)rec->event->data.data, rec->event->data.len, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(data, "attempts")), 2);
    json_decref(data);
    CAIRN_CODEC_FREE(&rec);
    s_sleep_ms(500);
    assert_int_equal(http_sink_count(f->sink), 2);
}

static void a_pending_request_is_resumed_after_a_restart(void **state)
{
    s_fixture_t *f = *state;
    s_post_rule(f, "CHG-F", "d-7");
    for (int i = 0; i < 100 && s_policy_queries(&f->policy) == 0; i++)
        s_sleep_ms(20);
    s_protection_stop(f);
    s_policy_set(&f->policy, "CHG-F", CAIRN__V1__DECISION__DECISION_ALLOW);
    assert_int_equal(s_protection_start(f), 0);
    s_wait_sink(f, 1, 5000);
    json_t *review = s_review(f, 0);
    assert_string_equal(s_field(review, "state"), "approved");
    json_decref(review);
    Cairn__V1__Record *rec = s_wait_answer(f, 2);
    CAIRN_CODEC_FREE(&rec);
}

static void the_policy_partition_holding_the_change_is_asked(void **state)
{
    s_fixture_t *f = *state;
    s_protection_stop(f);
    /* bus.policy_query names partition 0, where nothing answers; CHG-1 is
     * partition 1's (cairn/partition.h), served by the stand-in. */
    snprintf(f->query_ep, sizeof f->query_ep, "ipc://%s/partition-0.sock", f->dir);
    snprintf(f->partitions, sizeof f->partitions, "%s, %s", f->query_ep, f->policy_ep);
    assert_int_equal(s_protection_start(f), 0);
    s_policy_set(&f->policy, "CHG-1", CAIRN__V1__DECISION__DECISION_ALLOW);
    s_post_rule(f, "CHG-1", "d-partition");
    s_wait_sink(f, 1, 5000);
    json_t *review = s_review(f, 0);
    assert_string_equal(s_field(review, "state"), "approved");
    json_decref(review);
}

static void only_a_protection_rule_callback_path_is_taken_from_the_payload(void **state)
{
    (void)state;
    char path[256], err[256];
    assert_int_equal(cairn_github_callback_path("https://api.github.com/repos/acme/payments/"
                                                "actions/runs/30433700/deployment_protection_rule",
                                                path, sizeof path, err, sizeof err),
                     0);
    assert_string_equal(path,
                        "/repos/acme/payments/actions/runs/30433700/deployment_protection_rule");
    /* GitHub Enterprise: the /api/v3 prefix belongs to ingest.github_api_url */
    assert_int_equal(cairn_github_callback_path("https://ghe.example/api/v3/repos/a/b.c/actions/"
                                                "runs/1/deployment_protection_rule",
                                                path, sizeof path, err, sizeof err),
                     0);
    assert_string_equal(path, "/repos/a/b.c/actions/runs/1/deployment_protection_rule");
    const char *bad[] = {
        "https://api.github.com/repos/acme/payments/actions/runs/1/deployment_protection_rule/x",
        "https://api.github.com/repos/acme/../actions/runs/1/deployment_protection_rule",
        "https://api.github.com/repos/acme/payments/actions/runs/1x/deployment_protection_rule",
        "https://api.github.com/repos/acme/payments/issues/1",
        "https://api.github.com/repos/acme/pay ments/actions/runs/1/deployment_protection_rule",
        "",
        NULL,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(cairn_github_callback_path(bad[i], path, sizeof path, err, sizeof err),
                         CAIRN_EINVALID);
        assert_non_null(strstr(err, "is not a GitHub deployment protection rule callback"));
    }
    char *body = cairn_github_review_body("production", false, "no \"way\"");
    assert_string_equal(body, "{\"environment_name\":\"production\",\"state\":\"rejected\","
                              "\"comment\":\"no \\\"way\\\"\"}");
    free(body);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(an_allowed_change_is_approved_on_the_callback_with_the_token),
        T(a_pending_change_is_answered_when_its_verdict_is_recorded),
        T(a_denied_change_is_rejected_with_the_reasons),
        cmocka_unit_test_setup_teardown(a_change_still_pending_after_the_timeout_is_rejected,
                                        s_setup_short, s_teardown),
        T(a_deployment_naming_no_change_is_rejected_without_asking),
        T(a_failed_post_is_retried_and_a_redelivery_answered_once),
        T(a_pending_request_is_resumed_after_a_restart),
        T(the_policy_partition_holding_the_change_is_asked),
        cmocka_unit_test(only_a_protection_rule_callback_path_is_taken_from_the_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
