/* Tests for durable acceptance against the real cairn-ledger (started as a
 * child process in a temporary directory): with the ledger down, stalled or
 * restarting, events are answered 202 "spooled"; once it answers again they
 * are in the ledger exactly once and in the order ingest accepted them; a
 * redelivery is recognized while spooled and after; a full spool is 503
 * with Retry-After; the spool survives a restart of ingest; many events in
 * flight at once while the ledger is stopped (SIGSTOP) are all answered 202
 * and all end up in the ledger, once each and in order; appends waiting for
 * the sender and a spool draining go as append_batch requests, still once
 * each and in order, a duplicate among them answered as such; appends
 * handed over while one is in flight wait for its answer and go together
 * in one batch; and a batch made of packed appends is the same bytes as one
 * packed from scratch. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "cairn/ledger_batch.h"
#include "cairn/util.h"
#include "daemon_proc.h"
#include "handler.h"
#include "recorder.h"

static const char s_ce_json[] = "application/cloudevents+json";

typedef struct {
    char dir[64];                    /* data directory of the ledger (and the spool) */
    char endpoint[128];              /* bus.ledger_api */
    char spool[128];                 /* the spool's directory */
    pid_t ledger;                    /* the real ledger, or -1 */
    cairn_ingest_handler_t *handler; /* under test */
    cairn_ingest_response_t r;       /* last answer */
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

static cairn_ingest_handler_t *s_handler(s_fixture_t *f, uint64_t spool_max, int timeout_ms)
{
    cairn_ingest_handler_settings_t s = {
        .ledger_endpoint = f->endpoint,
        .ledger_timeout_ms = timeout_ms,
        .max_body = 65536,
        .spool_dir = f->spool,
        .spool_max = spool_max,
        .spool_max_bytes = 64 * 1024 * 1024,
    };
    return cairn_ingest_handler_new(&s);
}

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    *state = f;
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-recorder-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->endpoint, sizeof f->endpoint, "ipc://%s/run/ledger-api.sock", f->dir);
    snprintf(f->spool, sizeof f->spool, "%s/ingest/spool", f->dir);
    f->ledger = -1;
    f->handler = s_handler(f, 1000, 400);
    return f->handler ? 0 : -1;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_ingest_response_clear(&f->r);
    cairn_ingest_handler_destroy(&f->handler);
    if (f->ledger > 0) {
        kill(f->ledger, SIGCONT); /* in case a test stopped it and failed */
        daemon_stop(f->ledger);
    }
    nftw(f->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static void s_ledger_up(s_fixture_t *f)
{
    f->ledger = daemon_start("cairn-ledger", f->dir, f->endpoint, NULL);
    assert_true(f->ledger > 0);
}

static void s_ledger_down(s_fixture_t *f)
{
    assert_int_equal(daemon_stop(f->ledger), 0);
    f->ledger = -1;
}

/* Posts event id n; returns the parsed answer (and the status in f->r). */
static json_t *s_post(s_fixture_t *f, cairn_ingest_handler_t *h, int n)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"specversion\":\"1.0\",\"id\":\"ev-%d\",\"source\":\"/ci/acme/payments\","
             "\"type\":\"dev.cdevents.testsuiterun.finished.0.3.0\","
             "\"data\":{\"change\":\"CHG-%d\",\"tests_passed\":%d}}",
             n, n % 3, n);
    cairn_ingest_response_clear(&f->r);
    cairn_ingest_handler_handle(h, "/v1/events", s_ce_json, NULL, 0, body, strlen(body), &f->r);
    json_t *root = json_loads(f->r.body, 0, NULL);
    assert_non_null(root);
    return root;
}

/* The first accepted item of an answer. */
static const json_t *s_item(const json_t *root)
{
    const json_t *list = json_object_get(root, "accepted");
    return list ? json_array_get(list, 0) : root;
}

static void s_wait_drained(cairn_ingest_handler_t *h)
{
    for (int i = 0; i < 500 && cairn_ingest_recorder_backlog(cairn_ingest_handler_recorder(h)); i++)
        s_sleep_ms(20);
    assert_false(cairn_ingest_recorder_backlog(cairn_ingest_handler_recorder(h)));
}

/* Asserts the ledger holds exactly events ev-first .. ev-(first+n-1) in
 * that order, each once. */
static void s_assert_ledger(s_fixture_t *f, int n)
{
    Cairn__V1__Entry **entries = NULL;
    size_t count = 0;
    assert_int_equal(ledger_read_all(f->endpoint, &entries, &count), 0);
    assert_int_equal(count, (size_t)n);
    for (size_t i = 0; i < count; i++) {
        char want[32], key[64];
        snprintf(want, sizeof want, "ev-%zu", i);
        snprintf(key, sizeof key, "ce:/ci/acme/payments\n%s", want);
        Cairn__V1__Record *rec = ledger_entry_record(entries[i]);
        assert_non_null(rec);
        assert_string_equal(rec->event->id, want);
        assert_string_equal(entries[i]->key, key);
        CAIRN_CODEC_FREE(&rec);
    }
    ledger_entries_free(entries, count);
}

static void with_the_ledger_down_events_are_spooled_then_recorded_in_order_once(void **state)
{
    s_fixture_t *f = *state;
    /* Nobody listens: each event goes to the spool at once. */
    for (int i = 0; i < 20; i++) {
        json_t *a = s_post(f, f->handler, i);
        assert_int_equal(f->r.status, 202);
        assert_true(json_is_true(json_object_get(a, "spooled")));
        assert_true(json_is_true(json_object_get(s_item(a), "spooled")));
        assert_int_equal(json_integer_value(json_object_get(s_item(a), "spool_seq")), i);
        assert_null(json_object_get(s_item(a), "index"));
        json_decref(a);
    }
    /* A redelivery while it waits: 200 duplicate, same spool sequence. */
    json_t *a = s_post(f, f->handler, 5);
    assert_int_equal(f->r.status, 200);
    assert_true(json_is_true(json_object_get(a, "duplicate")));
    assert_int_equal(json_integer_value(json_object_get(a, "spool_seq")), 5);
    json_decref(a);
    char *metrics = cairn_ingest_handler_metrics(f->handler);
    assert_non_null(strstr(metrics, "cairn_ingest_spool_depth 20\n"));
    assert_non_null(strstr(metrics, "cairn_ingest_spooled_total 20\n"));
    assert_non_null(strstr(metrics, "cairn_ingest_spool_limit_events 1000\n"));
    free(metrics);

    s_ledger_up(f);
    s_wait_drained(f->handler);
    /* Now the ledger answers directly again. */
    a = s_post(f, f->handler, 20);
    assert_int_equal(f->r.status, 202);
    assert_null(json_object_get(a, "spooled"));
    assert_int_equal(json_integer_value(json_object_get(s_item(a), "index")), 20);
    json_decref(a);
    /* A resend of a drained event is a duplicate the ledger names. */
    a = s_post(f, f->handler, 3);
    assert_int_equal(f->r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(a, "index")), 3);
    json_decref(a);
    s_assert_ledger(f, 21);
    metrics = cairn_ingest_handler_metrics(f->handler);
    assert_non_null(strstr(metrics, "cairn_ingest_spool_depth 0\n"));
    assert_non_null(strstr(metrics, "cairn_ingest_spool_drained_total 20\n"));
    free(metrics);
}

static void events_accepted_while_the_spool_drains_queue_behind_it(void **state)
{
    s_fixture_t *f = *state;
    s_ledger_up(f);
    for (int i = 0; i < 3; i++) {
        json_t *a = s_post(f, f->handler, i);
        assert_int_equal(f->r.status, 202);
        assert_int_equal(json_integer_value(json_object_get(s_item(a), "index")), i);
        json_decref(a);
    }
    /* A stalled ledger: the append times out (400 ms), the event is
     * spooled; the ledger may still record the first attempt later. */
    daemon_pause(f->ledger);
    json_t *a = s_post(f, f->handler, 3);
    assert_int_equal(f->r.status, 202);
    assert_true(json_is_true(json_object_get(s_item(a), "spooled")));
    json_decref(a);
    /* While anything waits, new events queue behind it without trying the ledger. */
    int64_t start = cairn_mono_ms();
    for (int i = 4; i < 10; i++) {
        a = s_post(f, f->handler, i);
        assert_int_equal(f->r.status, 202);
        assert_true(json_is_true(json_object_get(s_item(a), "spooled")));
        json_decref(a);
    }
    assert_true(cairn_mono_ms() - start < 2000);
    /* Restart instead of resuming: stop it for good, start a new one. */
    s_ledger_down(f);
    for (int i = 10; i < 12; i++)
        json_decref(s_post(f, f->handler, i));
    s_ledger_up(f);
    /* Posted while the drainer works: they still come after the spooled ones. */
    for (int i = 12; i < 30; i++) {
        a = s_post(f, f->handler, i);
        assert_int_equal(f->r.status, 202);
        json_decref(a);
    }
    s_wait_drained(f->handler);
    s_assert_ledger(f, 30);
}

static void a_full_spool_is_503_with_retry_after(void **state)
{
    s_fixture_t *f = *state;
    cairn_ingest_handler_t *h = s_handler(f, 3, 200);
    assert_non_null(h);
    cairn_ingest_handler_destroy(&f->handler);
    f->handler = h;
    for (int i = 0; i < 3; i++) {
        json_t *a = s_post(f, h, i);
        assert_int_equal(f->r.status, 202);
        json_decref(a);
    }
    json_t *a = s_post(f, h, 3);
    assert_int_equal(f->r.status, 503);
    assert_true(f->r.retry_after > 0);
    assert_non_null(strstr(json_string_value(json_object_get(a, "error")), "spool is full"));
    json_decref(a);
    char *metrics = cairn_ingest_handler_metrics(h);
    assert_non_null(strstr(metrics, "cairn_ingest_spool_full_total 1\n"));
    assert_non_null(strstr(metrics, "cairn_ingest_spool_depth 3\n"));
    free(metrics);
    /* Once the ledger is back and the spool drained, the sender's retry works. */
    s_ledger_up(f);
    s_wait_drained(h);
    a = s_post(f, h, 3);
    assert_int_equal(f->r.status, 202);
    json_decref(a);
    s_assert_ledger(f, 4);
}

static void spooled_events_survive_a_restart_of_ingest(void **state)
{
    s_fixture_t *f = *state;
    for (int i = 0; i < 5; i++)
        json_decref(s_post(f, f->handler, i));
    cairn_ingest_handler_destroy(&f->handler);
    s_ledger_up(f);
    f->handler = s_handler(f, 1000, 400);
    assert_non_null(f->handler);
    s_wait_drained(f->handler);
    json_t *a = s_post(f, f->handler, 5);
    assert_int_equal(json_integer_value(json_object_get(s_item(a), "index")), 5);
    json_decref(a);
    s_assert_ledger(f, 6);
}

/* Answers collected from the asynchronous submit. */
typedef struct {
    pthread_mutex_t lock; /* guards the rest */
    int answered;         /* how many answers came */
    int accepted;         /* how many were 202 */
    int spooled;          /* how many of those said "spooled" */
} s_answers_t;

static void s_count_answer(void *arg, cairn_ingest_response_t *r)
{
    s_answers_t *a = arg;
    pthread_mutex_lock(&a->lock);
    a->answered++;
    if (r->status == 202)
        a->accepted++;
    if (r->body && strstr(r->body, "\"spooled\":true"))
        a->spooled++;
    pthread_mutex_unlock(&a->lock);
    cairn_ingest_response_clear(r);
}

static void s_submit_async(cairn_ingest_handler_t *h, int n, s_answers_t *a)
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"specversion\":\"1.0\",\"id\":\"ev-%d\",\"source\":\"/ci/acme/payments\","
             "\"type\":\"dev.cdevents.testsuiterun.finished.0.3.0\","
             "\"data\":{\"change\":\"CHG-%d\",\"tests_passed\":%d}}",
             n, n % 3, n);
    cairn_ingest_handler_submit(h, "/v1/events", s_ce_json, NULL, 0, body, strlen(body),
                                s_count_answer, a);
}

static int s_answered_count(s_answers_t *a)
{
    pthread_mutex_lock(&a->lock);
    int n = a->answered;
    pthread_mutex_unlock(&a->lock);
    return n;
}

static void many_events_in_flight_while_the_ledger_is_stopped_are_all_durable_in_order(void **state)
{
    enum { STALLED = 400, AFTER = 200 };
    s_fixture_t *f = *state;
    s_answers_t a = {.answered = 0};
    pthread_mutex_init(&a.lock, NULL);
    s_ledger_up(f);
    json_t *root = s_post(f, f->handler, 0);
    assert_int_equal(f->r.status, 202);
    json_decref(root);

    /* Stopped, the ledger reads nothing: hundreds of appends wait in flight
     * on one connection until the oldest times out (400 ms), then all go to
     * the spool in order. */
    assert_int_equal(kill(f->ledger, SIGSTOP), 0);
    for (int i = 1; i <= STALLED; i++)
        s_submit_async(f->handler, i, &a);
    for (int i = 0; i < 500 && s_answered_count(&a) < STALLED; i++)
        s_sleep_ms(20);
    assert_int_equal(s_answered_count(&a), STALLED);
    assert_int_equal(a.accepted, STALLED);
    assert_true(a.spooled > 0);

    /* Resumed, it first finds the appends that waited in its socket; the
     * spool's copies are then duplicates. Events keep arriving meanwhile. */
    assert_int_equal(kill(f->ledger, SIGCONT), 0);
    for (int i = STALLED + 1; i <= STALLED + AFTER; i++)
        s_submit_async(f->handler, i, &a);
    for (int i = 0; i < 1500 && s_answered_count(&a) < STALLED + AFTER; i++)
        s_sleep_ms(20);
    assert_int_equal(s_answered_count(&a), STALLED + AFTER);
    assert_int_equal(a.accepted, STALLED + AFTER);
    s_wait_drained(f->handler);
    s_assert_ledger(f, STALLED + AFTER + 1);
    pthread_mutex_destroy(&a.lock);
}

/* A ledger killed with appends in flight on the connection never answers
 * them. When the next send then fails (the connection is gone), those
 * appends go to the spool before the new ones, and the next connection's
 * answers are never taken for theirs: every event ends up in the ledger,
 * in order, once. */
static void a_ledger_killed_with_appends_in_flight_loses_none_of_them(void **state)
{
    enum { IN_FLIGHT = 5, TOTAL = 9 };
    s_fixture_t *f = *state;
    cairn_ingest_handler_destroy(&f->handler);
    f->handler = s_handler(f, 1000, 3000); /* expiry must not be what saves them */
    assert_non_null(f->handler);
    s_answers_t a = {.answered = 0};
    pthread_mutex_init(&a.lock, NULL);
    s_ledger_up(f);
    json_t *root = s_post(f, f->handler, 0);
    assert_int_equal(f->r.status, 202);
    json_decref(root);

    assert_int_equal(kill(f->ledger, SIGSTOP), 0);
    for (int i = 1; i <= IN_FLIGHT; i++)
        s_submit_async(f->handler, i, &a);
    s_sleep_ms(200);
    assert_int_equal(kill(f->ledger, SIGKILL), 0);
    assert_int_equal(waitpid(f->ledger, NULL, 0), f->ledger);
    f->ledger = -1;
    s_ledger_up(f);
    s_sleep_ms(300);

    /* The old connection is gone: this send fails and the spool takes over
     * (at once: well before the appends in flight would expire). */
    int64_t sent_ms = cairn_mono_ms();
    s_submit_async(f->handler, IN_FLIGHT + 1, &a);
    for (int i = 0; i < 250 && s_answered_count(&a) < IN_FLIGHT + 1; i++)
        s_sleep_ms(20);
    assert_int_equal(s_answered_count(&a), IN_FLIGHT + 1);
    assert_true(cairn_mono_ms() - sent_ms < 1500);
    s_wait_drained(f->handler);
    /* A new connection: its answers belong to its own appends. */
    for (int i = IN_FLIGHT + 2; i < TOTAL; i++)
        s_submit_async(f->handler, i, &a);
    for (int i = 0; i < 100 && s_answered_count(&a) < TOTAL - 1; i++)
        s_sleep_ms(20);
    assert_int_equal(s_answered_count(&a), TOTAL - 1);
    assert_int_equal(a.accepted, TOTAL - 1);
    s_wait_drained(f->handler);
    s_assert_ledger(f, TOTAL);
    pthread_mutex_destroy(&a.lock);
}

/* A counter from metrics text (freed here). */
static uint64_t s_metric_in(char *text, const char *name)
{
    assert_non_null(text);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "\n%s ", name);
    const char *at = strstr(text, prefix);
    assert_non_null(at);
    uint64_t v = strtoull(at + strlen(prefix), NULL, 10);
    free(text);
    return v;
}

/* A counter from the handler's /metrics text. */
static uint64_t s_metric(cairn_ingest_handler_t *h, const char *name)
{
    return s_metric_in(cairn_ingest_handler_metrics(h), name);
}

static void spooled_events_drain_in_batches_in_order_once_with_a_duplicate_among_them(void **state)
{
    s_fixture_t *f = *state;
    s_ledger_up(f);
    json_t *a = s_post(f, f->handler, 0);
    assert_int_equal(f->r.status, 202);
    json_decref(a);
    uint64_t batches = s_metric(f->handler, "cairn_ingest_ledger_batches_total");
    s_ledger_down(f);
    /* ev-0 again (the ledger has it; the spool does not), then 1 to 29. */
    for (int i = 0; i < 30; i++) {
        a = s_post(f, f->handler, i);
        assert_int_equal(f->r.status, 202);
        assert_true(json_is_true(json_object_get(a, "spooled")));
        json_decref(a);
    }
    s_ledger_up(f);
    s_wait_drained(f->handler);
    s_assert_ledger(f, 30);
    assert_int_equal(s_metric(f->handler, "cairn_ingest_spool_drained_total"), 30);
    /* Drained in append_batch requests (attempts while it was down count too). */
    assert_true(s_metric(f->handler, "cairn_ingest_ledger_batches_total") > batches);
    /* The duplicate did not hide the ledger's answer to the others. */
    a = s_post(f, f->handler, 29);
    assert_int_equal(f->r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(a, "index")), 29);
    json_decref(a);
}

static void appends_waiting_for_the_sender_go_in_batches_in_order(void **state)
{
    enum { N = 300 };
    s_fixture_t *f = *state;
    s_answers_t a = {.answered = 0};
    pthread_mutex_init(&a.lock, NULL);
    s_ledger_up(f);
    json_t *root = s_post(f, f->handler, 0);
    assert_int_equal(f->r.status, 202);
    json_decref(root);
    /* Handed over faster than one round trip each: the sender finds
     * several waiting each time it comes back to the queue. */
    for (int i = 1; i < N; i++)
        s_submit_async(f->handler, i, &a);
    for (int i = 0; i < 1500 && s_answered_count(&a) < N - 1; i++)
        s_sleep_ms(20);
    assert_int_equal(s_answered_count(&a), N - 1);
    assert_int_equal(a.accepted, N - 1);
    assert_int_equal(a.spooled, 0);
    assert_true(s_metric(f->handler, "cairn_ingest_ledger_batches_total") > 0);
    s_assert_ledger(f, N);
    /* Redelivered while others go in batches: duplicates, with the first index. */
    json_t *dup = s_post(f, f->handler, 7);
    assert_int_equal(f->r.status, 200);
    assert_int_equal(json_integer_value(json_object_get(dup, "index")), 7);
    json_decref(dup);
    pthread_mutex_destroy(&a.lock);
}

/* The recorder's answers to record_async, counted. */
typedef struct {
    pthread_mutex_t lock; /* guards the rest */
    int answered;         /* how many outcomes came */
    int failed;           /* how many were errors */
    int spooled;          /* how many went to the spool */
} s_outcomes_t;

static void s_outcome(void *arg, int rc, const cairn_ingest_recorded_t *rec, const char *err)
{
    s_outcomes_t *o = arg;
    (void)err;
    pthread_mutex_lock(&o->lock);
    o->answered++;
    o->failed += rc < 0;
    o->spooled += rc == 0 && rec->spooled;
    pthread_mutex_unlock(&o->lock);
}

static int s_outcomes(s_outcomes_t *o)
{
    pthread_mutex_lock(&o->lock);
    int n = o->answered;
    pthread_mutex_unlock(&o->lock);
    return n;
}

/* Hands event ev-n to the recorder directly. */
static void s_record_async(cairn_ingest_recorder_t *rec, int n, s_outcomes_t *o)
{
    char id[32], key[64];
    snprintf(id, sizeof id, "ev-%d", n);
    snprintf(key, sizeof key, "ce:/ci/acme/payments\n%s", id);
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    ev.id = id;
    ev.source = (char *)"/ci/acme/payments";
    ev.type = (char *)"dev.cdevents.testsuiterun.finished.0.3.0";
    ev.idempotency_key = key;
    cairn_ingest_recorder_record_async(rec, &ev, s_outcome, o);
}

/* A counter from the recorder's metrics text. */
static uint64_t s_recorder_metric(cairn_ingest_recorder_t *rec, const char *name)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    cairn_ingest_recorder_metrics(rec, f);
    assert_int_equal(fclose(f), 0);
    return s_metric_in(text, name);
}

/* While two requests are in flight (the ledger stopped), the appends
 * handed over after them are held for an answer and then go together: one
 * append_batch of all of them, not one request each. */
static void appends_handed_over_while_two_are_in_flight_go_together_after_an_answer(void **state)
{
    enum { HELD = 10 };
    s_fixture_t *f = *state;
    cairn_ingest_handler_destroy(&f->handler); /* its recorder would share the spool */
    cairn_ingest_recorder_settings_t rs = {
        .ledger_endpoint = f->endpoint,
        .timeout_ms = 5000,
        .spool_dir = f->spool,
        .spool_max = 1000,
        .spool_max_bytes = 64 * 1024 * 1024,
        .hold_ms = 3000, /* longer than the test's pauses: only the answer releases them */
    };
    cairn_ingest_recorder_t *rec = NULL;
    assert_int_equal(cairn_ingest_recorder_new(&rs, &rec), 0);
    s_outcomes_t o = {.answered = 0};
    pthread_mutex_init(&o.lock, NULL);
    s_ledger_up(f);
    s_record_async(rec, 0, &o);
    for (int i = 0; i < 250 && s_outcomes(&o) < 1; i++)
        s_sleep_ms(20);
    assert_int_equal(s_outcomes(&o), 1);
    uint64_t batches = s_recorder_metric(rec, "cairn_ingest_ledger_batches_total");
    uint64_t batched = s_recorder_metric(rec, "cairn_ingest_ledger_batched_appends_total");

    assert_int_equal(kill(f->ledger, SIGSTOP), 0);
    s_record_async(rec, 1, &o); /* goes at once: nothing is in flight */
    s_sleep_ms(100);
    s_record_async(rec, 2, &o); /* goes at once too: one request is in flight */
    s_sleep_ms(100);
    for (int i = 3; i < 3 + HELD; i++) {
        s_record_async(rec, i, &o);
        s_sleep_ms(5); /* each comes on its own, as requests do */
    }
    s_sleep_ms(100);
    assert_int_equal(s_outcomes(&o), 1);
    assert_int_equal(kill(f->ledger, SIGCONT), 0);
    for (int i = 0; i < 250 && s_outcomes(&o) < 3 + HELD; i++)
        s_sleep_ms(20);
    assert_int_equal(s_outcomes(&o), 3 + HELD);
    assert_int_equal(o.failed, 0);
    assert_int_equal(o.spooled, 0);
    assert_int_equal(s_recorder_metric(rec, "cairn_ingest_ledger_batches_total"), batches + 1);
    assert_int_equal(s_recorder_metric(rec, "cairn_ingest_ledger_batched_appends_total"),
                     batched + HELD);
    cairn_ingest_recorder_destroy(&rec);
    assert_null(rec);
    s_assert_ledger(f, 3 + HELD);
    pthread_mutex_destroy(&o.lock);
}

/* Packs the append of event id under key as a LedgerRequest. */
static void s_pack_append(const char *id, char *key, uint8_t **buf, size_t *len,
                          Cairn__V1__AppendRequest *append, Cairn__V1__Record *record,
                          Cairn__V1__Event *ev)
{
    cairn__v1__event__init(ev);
    ev->id = (char *)id;
    ev->type = (char *)"dev.cdevents.testsuiterun.finished.0.3.0";
    ev->source = (char *)"/ci/acme/payments";
    cairn__v1__record__init(record);
    record->body_case = CAIRN__V1__RECORD__BODY_EVENT;
    record->event = ev;
    cairn__v1__append_request__init(append);
    append->key = key;
    append->record = record;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = append;
    assert_int_equal(cairn_codec_pack(&req.base, buf, len), 0);
}

static void a_batch_of_packed_appends_is_the_packed_append_batch(void **state)
{
    (void)state;
    enum { N = 3 };
    static char keys[N][32] = {"ce:a\n1", "ce:a\n2", "ce:a\n3"};
    static const char *ids[N] = {"1", "2", "3"};
    Cairn__V1__Event evs[N];
    Cairn__V1__Record records[N];
    Cairn__V1__AppendRequest appends[N];
    const Cairn__V1__AppendRequest *aps[N];
    uint8_t *reqs[N];
    size_t lens[N];
    for (int i = 0; i < N; i++) {
        s_pack_append(ids[i], keys[i], &reqs[i], &lens[i], &appends[i], &records[i], &evs[i]);
        aps[i] = &appends[i];
    }
    uint8_t *want = NULL, *got = NULL;
    size_t want_len = 0, got_len = 0;
    assert_int_equal(cairn_ledger_batch_pack(aps, N, &want, &want_len), 0);
    assert_int_equal(
        cairn_ingest_recorder_batch_pack((const uint8_t *const *)reqs, lens, N, &got, &got_len), 0);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    Cairn__V1__LedgerRequest *back = NULL;
    assert_int_equal(cairn_codec_ledger_request_unpack(got, got_len, &back), 0);
    assert_int_equal(back->body_case, CAIRN__V1__LEDGER_REQUEST__BODY_APPEND_BATCH);
    assert_int_equal(back->append_batch->n_appends, N);
    assert_string_equal(back->append_batch->appends[2]->key, keys[2]);
    assert_string_equal(back->append_batch->appends[2]->record->event->id, "3");
    CAIRN_CODEC_FREE(&back);
    free(want);
    free(got);

    /* Not appends, or none, or too many: refused. */
    Cairn__V1__HeadRequest head = CAIRN__V1__HEAD_REQUEST__INIT;
    Cairn__V1__LedgerRequest other = CAIRN__V1__LEDGER_REQUEST__INIT;
    other.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_HEAD;
    other.head = &head;
    uint8_t *head_buf = NULL;
    size_t head_len = 0;
    assert_int_equal(cairn_codec_pack(&other.base, &head_buf, &head_len), 0);
    const uint8_t *mixed[2] = {reqs[0], head_buf};
    size_t mixed_lens[2] = {lens[0], head_len};
    assert_int_equal(cairn_ingest_recorder_batch_pack(mixed, mixed_lens, 2, &got, &got_len),
                     CAIRN_EINVALID);
    assert_int_equal(
        cairn_ingest_recorder_batch_pack((const uint8_t *const *)reqs, lens, 0, &got, &got_len),
        CAIRN_EINVALID);
    assert_int_equal(cairn_ingest_recorder_batch_pack((const uint8_t *const *)reqs, lens,
                                                      CAIRN_LEDGER_APPEND_BATCH_MAX + 1, &got,
                                                      &got_len),
                     CAIRN_EINVALID);
    free(head_buf);
    for (int i = 0; i < N; i++)
        free(reqs[i]);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(with_the_ledger_down_events_are_spooled_then_recorded_in_order_once),
        T(events_accepted_while_the_spool_drains_queue_behind_it),
        T(a_full_spool_is_503_with_retry_after),
        T(spooled_events_survive_a_restart_of_ingest),
        T(many_events_in_flight_while_the_ledger_is_stopped_are_all_durable_in_order),
        T(a_ledger_killed_with_appends_in_flight_loses_none_of_them),
        T(spooled_events_drain_in_batches_in_order_once_with_a_duplicate_among_them),
        T(appends_waiting_for_the_sender_go_in_batches_in_order),
        T(appends_handed_over_while_two_are_in_flight_go_together_after_an_answer),
        cmocka_unit_test(a_batch_of_packed_appends_is_the_packed_append_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
