/* Tests for the ingest handler against a stand-in ledger on an ipc://
 * endpoint in a temporary directory: every status of DESIGN §5, the exact
 * answer bodies, idempotency, the ledger not answering, and /metrics. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "fake_ledger.h"
#include "handler.h"

static const char s_event[] =
    "{\"specversion\":\"1.0\",\"id\":\"chg-1-created\",\"source\":\"/ci/acme/payments\","
    "\"type\":\"dev.cdevents.change.created.0.4.0\",\"time\":\"2026-11-25T10:00:00Z\","
    "\"datacontenttype\":\"application/json\","
    "\"data\":{\"context\":{\"specversion\":\"0.5.0\",\"id\":\"chg-1-created\","
    "\"source\":\"/ci/acme/payments\",\"type\":\"dev.cdevents.change.created.0.4.0\","
    "\"timestamp\":\"2026-11-25T10:00:00Z\"},"
    "\"subject\":{\"id\":\"CHG-1\",\"content\":{\"repository\":{\"id\":\"acme/payments\"}}},"
    "\"customData\":{\"author\":\"dana\",\"environment\":\"prod\"}}}";

static const char s_ce_json[] = "application/cloudevents+json";

typedef struct {
    char dir[64];                    /* temporary directory */
    char endpoint[128];              /* the fake ledger's endpoint */
    fake_ledger_t *ledger;           /* acknowledges appends */
    cairn_ingest_handler_t *handler; /* under test */
    cairn_ingest_response_t r;       /* last answer */
} s_fixture_t;

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static cairn_ingest_handler_t *s_handler(s_fixture_t *f, const char *endpoint, int timeout_ms)
{
    char reject_dir[128];
    snprintf(reject_dir, sizeof reject_dir, "%s/rejected", f->dir);
    cairn_ingest_handler_settings_t s = {
        .ledger_endpoint = endpoint,
        .ledger_timeout_ms = timeout_ms,
        .max_body = 4096,
        .reject_dir = reject_dir,
    };
    return cairn_ingest_handler_new(&s);
}

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-ingest-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->endpoint, sizeof f->endpoint, "ipc://%s/ledger.sock", f->dir);
    f->ledger = fake_ledger_start(f->endpoint);
    f->handler = s_handler(f, f->endpoint, 2000);
    *state = f;
    return f->ledger && f->handler ? 0 : -1;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_ingest_response_clear(&f->r);
    cairn_ingest_handler_destroy(&f->handler);
    fake_ledger_stop(&f->ledger);
    nftw(f->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void s_post(s_fixture_t *f, const char *content_type, const char *body)
{
    cairn_ingest_response_clear(&f->r);
    cairn_ingest_handler_handle(f->handler, "/v1/events", content_type, NULL, 0, body, strlen(body),
                                &f->r);
    assert_non_null(f->r.body);
}

static void an_event_is_answered_202_with_its_ledger_index_after_the_append(void **state)
{
    s_fixture_t *f = *state;
    s_post(f, s_ce_json, s_event);
    assert_int_equal(f->r.status, 202);
    assert_string_equal(f->r.body, "{\"accepted\":[{\"id\":\"chg-1-created\",\"index\":0}]}");
    assert_int_equal(f->r.retry_after, 0);

    char *key = NULL;
    Cairn__V1__Record *rec = NULL;
    assert_int_equal(fake_ledger_entry(f->ledger, 0, &key, &rec), 0);
    assert_string_equal(key, "ce:/ci/acme/payments\nchg-1-created");
    assert_int_equal(rec->body_case, CAIRN__V1__RECORD__BODY_EVENT);
    Cairn__V1__Event *ev = rec->event;
    assert_string_equal(ev->id, "chg-1-created");
    assert_string_equal(ev->correlation->change_id, "CHG-1");
    assert_string_equal(ev->correlation->environment, "prod");
    assert_string_equal(ev->governance->author, "dana");
    assert_true(ev->received_at_ms > 1700000000000LL);
    uint8_t sha[32];
    char hex[65];
    cairn_sha256(s_event, strlen(s_event), sha);
    cairn_hex(sha, sizeof sha, hex);
    assert_string_equal(ev->body_sha256, hex);
    free(key);
    CAIRN_CODEC_FREE(&rec);
}

/* The answer is JSON for any id: quotes, backslashes, control and
 * non-ASCII characters are escaped as jansson escapes them. */
static void an_id_that_needs_escaping_is_escaped_in_the_answer(void **state)
{
    s_fixture_t *f = *state;
    static const char *const ids[] = {"a\\\"b", "tab\\there", "caf\\u00e9", "back\\\\slash"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char body[512], want_id[64];
        snprintf(body, sizeof body,
                 "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/ci/acme/payments\","
                 "\"type\":\"dev.cdevents.testsuiterun.finished.0.3.0\"}",
                 ids[i]);
        s_post(f, s_ce_json, body);
        assert_int_equal(f->r.status, 202);
        json_t *sent = json_loads(body, 0, NULL), *answer = json_loads(f->r.body, 0, NULL);
        assert_non_null(sent);
        assert_non_null(answer);
        snprintf(want_id, sizeof want_id, "%s", json_string_value(json_object_get(sent, "id")));
        json_t *item = json_array_get(json_object_get(answer, "accepted"), 0);
        assert_string_equal(json_string_value(json_object_get(item, "id")), want_id);
        assert_int_equal(json_integer_value(json_object_get(item, "index")), (json_int_t)i);
        char *again = json_dumps(answer, JSON_COMPACT);
        assert_string_equal(again, f->r.body);
        free(again);
        json_decref(sent);
        json_decref(answer);
    }
}

static void a_redelivery_is_answered_200_duplicate_with_the_original_index(void **state)
{
    s_fixture_t *f = *state;
    s_post(f, s_ce_json, s_event);
    assert_int_equal(f->r.status, 202);
    s_post(f, "application/json",
           "{\"specversion\":\"1.0\",\"id\":\"other\",\"source\":\"/s\","
           "\"type\":\"t\"}");
    assert_int_equal(f->r.status, 202);
    assert_string_equal(f->r.body, "{\"accepted\":[{\"id\":\"other\",\"index\":1}]}");
    s_post(f, s_ce_json, s_event);
    assert_int_equal(f->r.status, 200);
    assert_string_equal(f->r.body, "{\"duplicate\":true,\"id\":\"chg-1-created\",\"index\":0}");
    assert_int_equal(fake_ledger_size(f->ledger), 2);
}

static void a_batch_is_accepted_and_a_redelivered_batch_is_a_duplicate(void **state)
{
    s_fixture_t *f = *state;
    const char *batch = "[{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/s\",\"type\":\"t\"},"
                        "{\"specversion\":\"1.0\",\"id\":\"b\",\"source\":\"/s\",\"type\":\"t\"}]";
    s_post(f, "application/cloudevents-batch+json; charset=utf-8", batch);
    assert_int_equal(f->r.status, 202);
    assert_string_equal(f->r.body,
                        "{\"accepted\":[{\"id\":\"a\",\"index\":0},{\"id\":\"b\",\"index\":1}]}");
    s_post(f, "application/cloudevents-batch+json", batch);
    assert_int_equal(f->r.status, 200);
    assert_string_equal(f->r.body, "{\"accepted\":[{\"id\":\"a\",\"index\":0,\"duplicate\":true},"
                                   "{\"id\":\"b\",\"index\":1,\"duplicate\":true}],"
                                   "\"duplicate\":true}");
    const char *mixed = "[{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/s\",\"type\":\"t\"},"
                        "{\"specversion\":\"1.0\",\"id\":\"c\",\"source\":\"/s\",\"type\":\"t\"}]";
    s_post(f, "application/cloudevents-batch+json", mixed);
    assert_int_equal(f->r.status, 202);
    assert_string_equal(f->r.body, "{\"accepted\":[{\"id\":\"a\",\"index\":0,\"duplicate\":true},"
                                   "{\"id\":\"c\",\"index\":2}]}");
}

static void a_binary_mode_event_is_accepted(void **state)
{
    s_fixture_t *f = *state;
    const cairn_ingest_header_t headers[] = {
        {"Content-Type", "application/json"},
        {"Ce-Specversion", "1.0"},
        {"Ce-Id", "bin-1"},
        {"Ce-Source", "/tekton"},
        {"Ce-Type", "dev.tekton.event.pipelinerun.successful.v1"},
    };
    const char *body = "{\"pipelineRun\":{}}";
    cairn_ingest_handler_handle(f->handler, "/v1/events", NULL, headers, 5, body, strlen(body),
                                &f->r);
    assert_int_equal(f->r.status, 202);
    assert_string_equal(f->r.body, "{\"accepted\":[{\"id\":\"bin-1\",\"index\":0}]}");
}

static void nothing_listening_is_503_with_retry_after(void **state)
{
    s_fixture_t *f = *state;
    char nowhere[128];
    snprintf(nowhere, sizeof nowhere, "ipc://%s/nobody.sock", f->dir);
    cairn_ingest_handler_t *h = s_handler(f, nowhere, 200);
    assert_non_null(h);
    cairn_ingest_handler_handle(h, "/v1/events", s_ce_json, NULL, 0, s_event, strlen(s_event),
                                &f->r);
    assert_int_equal(f->r.status, 503);
    assert_true(f->r.retry_after > 0);
    assert_non_null(strstr(f->r.body, "{\"error\":\"cannot reach the ledger"));
    assert_non_null(strstr(f->r.body, "retry later"));
    cairn_ingest_handler_destroy(&h);
}

static void a_ledger_that_does_not_answer_in_time_is_503(void **state)
{
    s_fixture_t *f = *state;
    cairn_ingest_handler_t *h = s_handler(f, f->endpoint, 150);
    fake_ledger_set_silent(f->ledger, true);
    int64_t start = cairn_mono_ms();
    cairn_ingest_handler_handle(h, "/v1/events", s_ce_json, NULL, 0, s_event, strlen(s_event),
                                &f->r);
    assert_true(cairn_mono_ms() - start >= 140);
    assert_int_equal(f->r.status, 503);
    assert_true(f->r.retry_after > 0);
    assert_non_null(strstr(f->r.body, "did not acknowledge the event within 150 ms"));
    assert_int_equal(fake_ledger_size(f->ledger), 0);

    /* once the ledger answers again, so does ingest */
    fake_ledger_set_silent(f->ledger, false);
    cairn_ingest_response_clear(&f->r);
    cairn_ingest_handler_handle(h, "/v1/events", s_ce_json, NULL, 0, s_event, strlen(s_event),
                                &f->r);
    assert_int_equal(f->r.status, 202);
    cairn_ingest_handler_destroy(&h);
}

static void an_unsupported_content_type_is_415(void **state)
{
    s_fixture_t *f = *state;
    s_post(f, "text/plain", s_event);
    assert_int_equal(f->r.status, 415);
    assert_non_null(strstr(f->r.body, "Content-Type 'text/plain' is not supported"));
    assert_non_null(strstr(f->r.body, "application/cloudevents+json"));
    s_post(f, NULL, s_event);
    assert_int_equal(f->r.status, 415);
    assert_non_null(strstr(f->r.body, "the request has no Content-Type"));
    s_post(f, "application/cloudevents+xml", s_event);
    assert_int_equal(f->r.status, 415);
    s_post(f, "application/cloudevents+json; charset=latin1", s_event);
    assert_int_equal(f->r.status, 415);
    assert_int_equal(fake_ledger_size(f->ledger), 0);
}

static void a_body_over_the_limit_is_413(void **state)
{
    s_fixture_t *f = *state;
    char *big = malloc(5000);
    memset(big, ' ', 4999);
    big[4999] = '\0';
    s_post(f, s_ce_json, big);
    assert_int_equal(f->r.status, 413);
    assert_string_equal(f->r.body, "{\"error\":\"the request body is 4999 bytes, over the limit "
                                   "of 4096 bytes (ingest.max_body); send fewer events per "
                                   "request\"}");
    free(big);
}

static void valid_json_that_is_not_a_cloudevent_is_422_and_kept(void **state)
{
    s_fixture_t *f = *state;
    const char *body = "{\"specversion\":\"1.0\",\"id\":\"x\",\"type\":\"t\"}";
    s_post(f, s_ce_json, body);
    assert_int_equal(f->r.status, 422);
    assert_string_equal(f->r.body, "{\"error\":\"missing required attribute 'source'\"}");

    char dir[128];
    snprintf(dir, sizeof dir, "%s/rejected", f->dir);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int kept = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "index.jsonl") == 0)
            continue;
        assert_non_null(strstr(e->d_name, "-422-"));
        char path[512], *text = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_int_equal(cairn_read_file(path, 1 << 20, &text, &len), 0);
        assert_string_equal(text, body);
        free(text);
        kept++;
    }
    closedir(d);
    assert_int_equal(kept, 1);

    /* and the rejection has its line in the index */
    char path[512], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/index.jsonl", dir);
    assert_int_equal(cairn_read_file(path, 1 << 20, &text, &len), 0);
    assert_non_null(strstr(text, "\"status\":422,\"source\":\"cloudevents\","
                                 "\"path\":\"/v1/events\","
                                 "\"reason\":\"missing required attribute 'source'\""));
    assert_non_null(strstr(text, "-422-"));
    assert_int_equal(text[len - 1], '\n');
    free(text);
}

static void malformed_json_is_400_and_says_where(void **state)
{
    s_fixture_t *f = *state;
    s_post(f, s_ce_json, "{\"specversion\":\"1.0\",\n\"id\": }");
    assert_int_equal(f->r.status, 400);
    assert_non_null(strstr(f->r.body, "{\"error\":\"the body is not valid JSON: line 2, column"));
    s_post(f, s_ce_json, "");
    assert_int_equal(f->r.status, 400);
    assert_string_equal(f->r.body,
                        "{\"error\":\"the request body is empty; send a CloudEvent as JSON\"}");
}

static void unknown_paths_and_sources_are_404_and_an_unconfigured_source_401(void **state)
{
    s_fixture_t *f = *state;
    cairn_ingest_handler_handle(f->handler, "/v2/events", s_ce_json, NULL, 0, s_event,
                                strlen(s_event), &f->r);
    assert_int_equal(f->r.status, 404);
    assert_non_null(strstr(f->r.body, "no such endpoint '/v2/events'"));
    cairn_ingest_response_clear(&f->r);
    cairn_ingest_handler_handle(f->handler, "/v1/webhooks/bitbucket", "application/json", NULL, 0,
                                "{}", 2, &f->r);
    assert_int_equal(f->r.status, 404);
    assert_non_null(strstr(f->r.body, "no webhook source 'bitbucket'; POST webhooks to "
                                      "/v1/webhooks/<source> with one of: github, gitlab"));
    cairn_ingest_response_clear(&f->r);
    cairn_ingest_handler_handle(f->handler, "/v1/webhooks/github", "application/json", NULL, 0,
                                "{}", 2, &f->r);
    assert_int_equal(f->r.status, 401);
    assert_string_equal(f->r.body,
                        "{\"error\":\"webhooks from github are refused: no secret is configured; "
                        "configure ingest.github_secret or set ingest.allow_unsigned_github: "
                        "true\"}");

    /* a path that is not UTF-8 still gets a JSON answer */
    cairn_ingest_response_clear(&f->r);
    cairn_ingest_handler_handle(f->handler, "/\xff\xfe", s_ce_json, NULL, 0, "{}", 2, &f->r);
    assert_int_equal(f->r.status, 404);
    assert_non_null(strstr(f->r.body, "no such endpoint '/?" "?'"));
}

static void metrics_count_answers_by_status_and_events_by_outcome(void **state)
{
    s_fixture_t *f = *state;
    s_post(f, s_ce_json, s_event);
    s_post(f, s_ce_json, s_event);
    s_post(f, "text/plain", "x");
    s_post(f, s_ce_json, "nope");
    char *text = cairn_ingest_handler_metrics(f->handler);
    assert_non_null(text);
    assert_non_null(strstr(text, "# TYPE cairn_ingest_requests_total counter\n"));
    assert_non_null(strstr(text, "cairn_ingest_requests_total{code=\"202\"} 1\n"));
    assert_non_null(strstr(text, "cairn_ingest_requests_total{code=\"200\"} 1\n"));
    assert_non_null(strstr(text, "cairn_ingest_requests_total{code=\"415\"} 1\n"));
    assert_non_null(strstr(text, "cairn_ingest_requests_total{code=\"400\"} 1\n"));
    assert_non_null(strstr(text, "cairn_ingest_requests_total{code=\"503\"} 0\n"));
    assert_non_null(strstr(text, "cairn_ingest_rejected_total{code=\"415\"} 1\n"));
    assert_non_null(strstr(text, "cairn_ingest_events_accepted_total 1\n"));
    assert_non_null(strstr(text, "cairn_ingest_events_duplicate_total 1\n"));
    /* the 415's body and the 400's body */
    assert_non_null(strstr(text, "cairn_ingest_rejected_kept_total 2\n"));
    assert_non_null(strstr(text, "cairn_ingest_source_events_total{source=\"cloudevents\"} 1\n"));
    assert_non_null(strstr(text, "cairn_ingest_auth_failures_total{source=\"github\"} 0\n"));
    free(text);
}

/* Answers of asynchronous submissions, as they come. */
typedef struct {
    _Atomic int answered;       /* how many came */
    _Atomic unsigned status[4]; /* their statuses, in submission order */
} s_answers_t;

typedef struct {
    s_answers_t *all; /* where the answer goes */
    int slot;         /* which submission */
} s_answer_arg_t;

static void s_async_answer(void *arg, cairn_ingest_response_t *response)
{
    s_answer_arg_t *a = arg;
    atomic_store(&a->all->status[a->slot], response->status);
    cairn_ingest_response_clear(response);
    atomic_fetch_add(&a->all->answered, 1);
}

static void past_max_inflight_a_submission_is_503_at_once_without_the_ledger(void **state)
{
    s_fixture_t *f = *state;
    char reject_dir[128];
    snprintf(reject_dir, sizeof reject_dir, "%s/rejected", f->dir);
    cairn_ingest_handler_settings_t hs = {
        .ledger_endpoint = f->endpoint,
        .ledger_timeout_ms = 400,
        .max_body = 4096,
        .reject_dir = reject_dir,
        .max_inflight = 2,
    };
    cairn_ingest_handler_t *h = cairn_ingest_handler_new(&hs);
    assert_non_null(h);
    fake_ledger_set_silent(f->ledger, true);
    s_answers_t all = {0};
    s_answer_arg_t args[4];
    char body[4][sizeof s_event];
    for (int i = 0; i < 4; i++) {
        args[i] = (s_answer_arg_t){.all = &all, .slot = i};
        memcpy(body[i], s_event, sizeof s_event);
        strstr(body[i], "chg-1-created")[4] = (char)('5' + i); /* ids chg-5..8-created */
    }
    /* two wait for the silent ledger; the third is refused before it */
    for (int i = 0; i < 2; i++)
        cairn_ingest_handler_submit(h, "/v1/events", s_ce_json, NULL, 0, body[i], strlen(body[i]),
                                    s_async_answer, &args[i]);
    assert_int_equal(atomic_load(&all.answered), 0);
    cairn_ingest_response_t r = {0};
    cairn_ingest_handler_handle(h, "/v1/events", s_ce_json, NULL, 0, body[2], strlen(body[2]), &r);
    assert_int_equal(r.status, 503);
    assert_true(r.retry_after > 0);
    assert_non_null(strstr(r.body, "ingest.max_inflight"));
    cairn_ingest_response_clear(&r);
    assert_int_equal(atomic_load(&all.answered), 0);
    char *text = cairn_ingest_handler_metrics(h);
    assert_non_null(text);
    assert_non_null(strstr(text, "cairn_ingest_inflight_events 2\n"));
    assert_non_null(strstr(text, "cairn_ingest_overload_rejected_total 1\n"));
    free(text);

    /* the two waiting ones time out (no spool); then there is room again */
    for (int i = 0; i < 100 && atomic_load(&all.answered) < 2; i++)
        usleep(50 * 1000);
    assert_int_equal(atomic_load(&all.answered), 2);
    assert_int_equal(atomic_load(&all.status[0]), 503);
    fake_ledger_set_silent(f->ledger, false);
    cairn_ingest_handler_handle(h, "/v1/events", s_ce_json, NULL, 0, body[3], strlen(body[3]), &r);
    assert_int_equal(r.status, 202);
    cairn_ingest_response_clear(&r);
    text = cairn_ingest_handler_metrics(h);
    assert_non_null(strstr(text, "cairn_ingest_inflight_events 0\n"));
    free(text);
    cairn_ingest_handler_destroy(&h);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(an_event_is_answered_202_with_its_ledger_index_after_the_append),
        T(an_id_that_needs_escaping_is_escaped_in_the_answer),
        T(a_redelivery_is_answered_200_duplicate_with_the_original_index),
        T(a_batch_is_accepted_and_a_redelivered_batch_is_a_duplicate),
        T(a_binary_mode_event_is_accepted),
        T(nothing_listening_is_503_with_retry_after),
        T(a_ledger_that_does_not_answer_in_time_is_503),
        T(an_unsupported_content_type_is_415),
        T(a_body_over_the_limit_is_413),
        T(valid_json_that_is_not_a_cloudevent_is_422_and_kept),
        T(malformed_json_is_400_and_says_where),
        T(unknown_paths_and_sources_are_404_and_an_unconfigured_source_401),
        T(metrics_count_answers_by_status_and_events_by_outcome),
        T(past_max_inflight_a_submission_is_503_at_once_without_the_ledger),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
