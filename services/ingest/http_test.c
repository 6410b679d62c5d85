/* Tests for the ingest HTTP server: a real libmicrohttpd server on a free
 * loopback port, driven with libcurl, in front of a stand-in ledger. Checks
 * routing, status codes and headers, the early 413, the header size and
 * request time limits, that the server keeps serving after bad input, that
 * requests waiting for the ledger hold no worker thread, and that every
 * header and every body byte reaches the handler (many headers; bodies of
 * any size up to the limit, with or without a Content-Length). */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/util.h"
#include "fake_ledger.h"
#include "http.h"

#define S_MAX_BODY (64 * 1024)
#define S_MAX_HEADER (16 * 1024)

static const char s_event[] =
    "{\"specversion\":\"1.0\",\"id\":\"h-1\",\"source\":\"/ci/acme\",\"type\":\"com.example.t\"}";

typedef struct {
    char dir[64];                    /* temporary directory */
    fake_ledger_t *ledger;           /* acknowledges appends */
    cairn_ingest_handler_t *handler; /* answers submissions */
    cairn_ingest_http_t *http;       /* under test */
    char base[64];                   /* "http://127.0.0.1:<port>" */
} s_fixture_t;

/* What came back from one request. */
typedef struct {
    long status;        /* HTTP status */
    char *body;         /* response body, NUL-terminated */
    size_t len;         /* bytes in body */
    char headers[4096]; /* response headers as received */
    CURLcode rc;        /* curl's result */
} s_reply_t;

/* A request body fed to curl in pieces (chunked upload). */
typedef struct {
    size_t left; /* bytes still to send */
} s_upload_t;

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    char ledger[128];
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-http-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(ledger, sizeof ledger, "ipc://%s/ledger.sock", f->dir);
    f->ledger = fake_ledger_start(ledger);
    cairn_ingest_handler_settings_t hs = {
        .ledger_endpoint = ledger, .ledger_timeout_ms = 500, .max_body = S_MAX_BODY};
    f->handler = cairn_ingest_handler_new(&hs);
    cairn_ingest_http_settings_t ws = {.address = "127.0.0.1",
                                       .port = 0,
                                       .threads = 2,
                                       .request_timeout_ms = 5000,
                                       .max_header = S_MAX_HEADER,
                                       .max_request_time_ms = 600};
    *state = f;
    if (!f->ledger || !f->handler || cairn_ingest_http_new(&ws, f->handler, &f->http) < 0)
        return -1;
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u",
             (unsigned)cairn_ingest_http_port(f->http));
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_ingest_http_destroy(&f->http);
    cairn_ingest_handler_destroy(&f->handler);
    fake_ledger_stop(&f->ledger);
    nftw(f->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static size_t s_on_body(char *data, size_t size, size_t n, void *arg)
{
    s_reply_t *r = arg;
    char *grown = realloc(r->body, r->len + size * n + 1);
    if (!grown)
        return 0;
    r->body = grown;
    memcpy(r->body + r->len, data, size * n);
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static size_t s_on_header(char *data, size_t size, size_t n, void *arg)
{
    s_reply_t *r = arg;
    size_t used = strlen(r->headers);
    size_t take = size * n < sizeof r->headers - used - 1 ? size * n : sizeof r->headers - used - 1;
    memcpy(r->headers + used, data, take);
    r->headers[used + take] = '\0';
    return size * n;
}

static size_t s_on_read(char *buf, size_t size, size_t n, void *arg)
{
    s_upload_t *u = arg;
    size_t give = size * n < u->left ? size * n : u->left;
    memset(buf, ' ', give);
    u->left -= give;
    return give;
}

/* One request. body NULL = no body; chunked_len > 0 streams that many bytes
 * without a Content-Length. expect is the Expect header ("" sends none, like
 * most webhook senders). headers: more request headers (taken; NULL for none). */
static s_reply_t s_request_with(s_fixture_t *f, const char *method, const char *path,
                                const char *content_type, const char *body, size_t chunked_len,
                                const char *expect, struct curl_slist *headers)
{
    s_reply_t r = {0};
    char url[256], ct[256];
    s_upload_t upload = {chunked_len};
    snprintf(url, sizeof url, "%s%s", f->base, path);
    CURL *c = curl_easy_init();
    assert_non_null(c);
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        headers = curl_slist_append(headers, ct);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (chunked_len) {
        headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, s_on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &upload);
    }
    char expect_header[64];
    snprintf(expect_header, sizeof expect_header, "Expect: %s", expect);
    headers = curl_slist_append(headers, expect_header);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    r.rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    if (!r.body)
        r.body = calloc(1, 1);
    return r;
}

static s_reply_t s_request_expect(s_fixture_t *f, const char *method, const char *path,
                                  const char *content_type, const char *body, size_t chunked_len,
                                  const char *expect)
{
    return s_request_with(f, method, path, content_type, body, chunked_len, expect, NULL);
}

static s_reply_t s_request(s_fixture_t *f, const char *method, const char *path,
                           const char *content_type, const char *body, size_t chunked_len)
{
    return s_request_expect(f, method, path, content_type, body, chunked_len, "");
}

static void s_healthy(s_fixture_t *f)
{
    s_reply_t r = s_request(f, "GET", "/healthz", NULL, NULL, 0);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"status\":\"ok\"}");
    assert_non_null(strstr(r.headers, "Content-Type: application/json"));
    free(r.body);
}

static void healthz_answers_200_ok(void **state)
{
    s_healthy(*state);
}

static void a_posted_event_is_answered_202_with_its_index(void **state)
{
    s_fixture_t *f = *state;
    s_reply_t r = s_request(f, "POST", "/v1/events", "application/cloudevents+json", s_event, 0);
    assert_int_equal(r.status, 202);
    assert_string_equal(r.body, "{\"accepted\":[{\"id\":\"h-1\",\"index\":0}]}");
    assert_non_null(strstr(r.headers, "Content-Type: application/json"));
    free(r.body);
    r = s_request(f, "POST", "/v1/events", "application/cloudevents+json", s_event, 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"duplicate\":true,\"id\":\"h-1\",\"index\":0}");
    free(r.body);
}

static void garbage_is_400_and_the_server_keeps_serving(void **state)
{
    s_fixture_t *f = *state;
    for (int i = 0; i < 3; i++) {
        s_reply_t r = s_request(f, "POST", "/v1/events", "application/cloudevents+json",
                                "\x01\x02garbage{{{", 0);
        assert_int_equal(r.status, 400);
        assert_non_null(strstr(r.body, "{\"error\":\"the body is not valid JSON: line 1, column"));
        free(r.body);
    }
    s_healthy(f);
    s_reply_t r = s_request(f, "POST", "/v1/events", "application/json", s_event, 0);
    assert_int_equal(r.status, 202);
    free(r.body);
}

static void a_wrong_content_type_is_415(void **state)
{
    s_fixture_t *f = *state;
    s_reply_t r = s_request(f, "POST", "/v1/events", "text/plain", s_event, 0);
    assert_int_equal(r.status, 415);
    assert_non_null(strstr(r.body, "Content-Type 'text/plain' is not supported"));
    free(r.body);
    s_healthy(f);
}

static void valid_json_that_is_not_a_cloudevent_is_422(void **state)
{
    s_fixture_t *f = *state;
    s_reply_t r = s_request(f, "POST", "/v1/events", "application/cloudevents+json",
                            "{\"hello\":\"world\"}", 0);
    assert_int_equal(r.status, 422);
    assert_string_equal(r.body, "{\"error\":\"missing required attribute 'specversion'\"}");
    free(r.body);
}

static void a_wrong_method_is_405_with_allow(void **state)
{
    s_fixture_t *f = *state;
    s_reply_t r = s_request(f, "GET", "/v1/events", NULL, NULL, 0);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.headers, "Allow: POST"));
    assert_non_null(strstr(r.body, "method GET is not allowed on /v1/events; use POST"));
    free(r.body);
    r = s_request(f, "DELETE", "/healthz", NULL, NULL, 0);
    assert_int_equal(r.status, 405);
    assert_non_null(strstr(r.headers, "Allow: GET, HEAD"));
    free(r.body);
}

static void an_unknown_path_is_a_json_404(void **state)
{
    s_fixture_t *f = *state;
    s_reply_t r = s_request(f, "GET", "/nope", NULL, NULL, 0);
    assert_int_equal(r.status, 404);
    assert_non_null(strstr(r.body, "{\"error\":\"no such endpoint '/nope'"));
    free(r.body);
}

static void a_declared_length_over_the_limit_is_413_before_the_body(void **state)
{
    s_fixture_t *f = *state;
    size_t len = S_MAX_BODY + 1;
    char *big = malloc(len + 1);
    memset(big, ' ', len);
    big[len] = '\0';
    s_reply_t r = s_request_expect(f, "POST", "/v1/events", "application/cloudevents+json", big, 0,
                                   "100-continue");
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "is 65537 bytes, over the limit of 65536 bytes "
                                   "(ingest.max_body)"));
    free(r.body);
    free(big);
    s_healthy(f);
}

static void a_sender_already_pushing_a_big_body_still_reads_its_413(void **state)
{
    s_fixture_t *f = *state;
    size_t len = S_MAX_BODY + S_MAX_BODY / 2;
    char *big = malloc(len + 1);
    memset(big, 'a', len);
    big[0] = '{';
    big[len] = '\0';
    for (int i = 0; i < 5; i++) {
        s_reply_t r = s_request(f, "POST", "/v1/events", "application/cloudevents+json", big, 0);
        assert_int_equal(r.rc, CURLE_OK);
        assert_int_equal(r.status, 413);
        assert_non_null(strstr(r.body, "is 98304 bytes, over the limit of 65536 bytes"));
        free(r.body);
    }
    free(big);
    s_healthy(f);
}

static void a_streamed_body_over_the_limit_is_413(void **state)
{
    s_fixture_t *f = *state;
    s_reply_t r = s_request(f, "POST", "/v1/events", "application/cloudevents+json", NULL,
                            S_MAX_BODY + S_MAX_BODY / 2);
    assert_int_equal(r.status, 413);
    assert_non_null(strstr(r.body, "over the limit of 65536 bytes"));
    free(r.body);
    s_healthy(f);
}

static void an_unacknowledged_event_is_503_with_retry_after(void **state)
{
    s_fixture_t *f = *state;
    fake_ledger_stop(&f->ledger);
    s_reply_t r = s_request(f, "POST", "/v1/events", "application/cloudevents+json", s_event, 0);
    assert_int_equal(r.status, 503);
    assert_non_null(strstr(r.headers, "Retry-After: 5"));
    assert_non_null(strstr(r.body, "retry later"));
    free(r.body);
}

/* One of several senders posting distinct events at the same time. */
typedef struct {
    s_fixture_t *f; /* the server */
    int sender;     /* number, part of every event id */
    int accepted;   /* how many got 202 */
} s_sender_t;

#define S_SENDERS 6
#define S_EVENTS_EACH 8

static void *s_send_many(void *arg)
{
    s_sender_t *s = arg;
    for (int i = 0; i < S_EVENTS_EACH; i++) {
        char body[256];
        snprintf(body, sizeof body,
                 "{\"specversion\":\"1.0\",\"id\":\"c-%d-%d\",\"source\":\"/load\","
                 "\"type\":\"t\"}",
                 s->sender, i);
        s_reply_t r =
            s_request(s->f, "POST", "/v1/events", "application/cloudevents+json", body, 0);
        s->accepted += r.status == 202;
        free(r.body);
    }
    return NULL;
}

static void concurrent_senders_are_all_recorded_once(void **state)
{
    s_fixture_t *f = *state;
    pthread_t threads[S_SENDERS];
    s_sender_t senders[S_SENDERS];
    for (int i = 0; i < S_SENDERS; i++) {
        senders[i] = (s_sender_t){f, i, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, s_send_many, &senders[i]), 0);
    }
    int accepted = 0;
    for (int i = 0; i < S_SENDERS; i++) {
        pthread_join(threads[i], NULL);
        accepted += senders[i].accepted;
    }
    assert_int_equal(accepted, S_SENDERS * S_EVENTS_EACH);
    assert_int_equal(fake_ledger_size(f->ledger), S_SENDERS * S_EVENTS_EACH);
}

/* One request waiting for a silent ledger. */
typedef struct {
    s_fixture_t *f;        /* the server */
    int n;                 /* part of the event id */
    long status;           /* the answer's status */
    _Atomic int *answered; /* counts answers */
} s_waiter_t;

static void *s_post_and_wait(void *arg)
{
    s_waiter_t *w = arg;
    char body[256];
    snprintf(body, sizeof body,
             "{\"specversion\":\"1.0\",\"id\":\"w-%d\",\"source\":\"/wait\",\"type\":\"t\"}", w->n);
    s_reply_t r = s_request(w->f, "POST", "/v1/events", "application/cloudevents+json", body, 0);
    w->status = r.status;
    atomic_fetch_add(w->answered, 1);
    free(r.body);
    return NULL;
}

#define S_WAITERS 8

static void requests_waiting_for_the_ledger_hold_no_worker_thread(void **state)
{
    s_fixture_t *f = *state;
    /* A server with 2 threads and a long ledger timeout, in front of a
     * ledger that reads appends and never answers. */
    cairn_ingest_http_destroy(&f->http);
    cairn_ingest_handler_destroy(&f->handler);
    char ledger[128];
    snprintf(ledger, sizeof ledger, "ipc://%s/ledger.sock", f->dir);
    cairn_ingest_handler_settings_t hs = {
        .ledger_endpoint = ledger, .ledger_timeout_ms = 3000, .max_body = S_MAX_BODY};
    f->handler = cairn_ingest_handler_new(&hs);
    assert_non_null(f->handler);
    cairn_ingest_http_settings_t ws = {
        .address = "127.0.0.1", .port = 0, .threads = 2, .request_timeout_ms = 10000};
    assert_int_equal(cairn_ingest_http_new(&ws, f->handler, &f->http), 0);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%u",
             (unsigned)cairn_ingest_http_port(f->http));
    fake_ledger_set_silent(f->ledger, true);

    _Atomic int answered = 0;
    pthread_t threads[S_WAITERS];
    s_waiter_t waiters[S_WAITERS];
    for (int i = 0; i < S_WAITERS; i++) {
        waiters[i] = (s_waiter_t){f, i, 0, &answered};
        assert_int_equal(pthread_create(&threads[i], NULL, s_post_and_wait, &waiters[i]), 0);
    }
    struct timespec pause = {0, 200 * 1000000L};
    nanosleep(&pause, NULL);
    /* Four times more requests wait than there are threads, and the server
     * still answers: waiting holds no thread. */
    s_healthy(f);
    assert_int_equal(atomic_load(&answered), 0);
    for (int i = 0; i < S_WAITERS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(waiters[i].status, 503); /* no spool here */
    }
}

static void metrics_are_prometheus_text(void **state)
{
    s_fixture_t *f = *state;
    free(s_request(f, "POST", "/v1/events", "application/cloudevents+json", s_event, 0).body);
    free(s_request(f, "POST", "/v1/events", "text/plain", "x", 0).body);
    s_reply_t r = s_request(f, "GET", "/metrics", NULL, NULL, 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.headers, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(r.body, "cairn_ingest_requests_total{code=\"202\"} 1\n"));
    assert_non_null(strstr(r.body, "cairn_ingest_requests_total{code=\"415\"} 1\n"));
    assert_non_null(strstr(r.body, "cairn_ingest_events_accepted_total 1\n"));
    free(r.body);
}

static void request_headers_over_max_header_are_refused(void **state)
{
    s_fixture_t *f = *state;
    char *big = malloc(S_MAX_HEADER + 64);
    assert_non_null(big);
    strcpy(big, "X-Padding: ");
    memset(big + 11, 'p', S_MAX_HEADER);
    big[11 + S_MAX_HEADER] = '\0';
    s_reply_t r =
        s_request_with(f, "POST", "/v1/events", NULL, s_event, 0, "", curl_slist_append(NULL, big));
    free(big);
    free(r.body);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 431);
    assert_int_equal(fake_ledger_size(f->ledger), 0);
    s_healthy(f);
}

/* More request headers than fit in place (32) all reach the handler: a
 * binary-mode event whose ce-* headers come after 40 others is read whole. */
static void every_header_reaches_the_handler_however_many(void **state)
{
    s_fixture_t *f = *state;
    char names[40][48];
    struct curl_slist *headers = NULL;
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "X-Filler-%d: %d", i, i);
        headers = curl_slist_append(headers, names[i]);
    }
    headers = curl_slist_append(headers, "ce-specversion: 1.0");
    headers = curl_slist_append(headers, "ce-id: many-headers-1");
    headers = curl_slist_append(headers, "ce-source: /ci/acme");
    headers = curl_slist_append(headers, "ce-type: com.example.t");
    s_reply_t r = s_request_with(f, "POST", "/v1/events", "application/json", "{\"ok\":true}", 0,
                                 "", headers);
    assert_int_equal(r.rc, CURLE_OK);
    assert_int_equal(r.status, 202);
    assert_non_null(r.body);
    assert_non_null(strstr(r.body, "\"id\":\"many-headers-1\""));
    free(r.body);
    assert_int_equal(fake_ledger_size(f->ledger), 1);
}

/* Bodies of every size up to the limit arrive whole, whether their buffer
 * is sized from Content-Length at once or grows as chunks come. */
static void bodies_of_any_size_within_the_limit_arrive_whole(void **state)
{
    s_fixture_t *f = *state;
    const size_t sizes[] = {100, 4095, 4097, 20000, S_MAX_BODY - 1};
    char *body = malloc(S_MAX_BODY + 1);
    assert_non_null(body);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        /* A CloudEvent padded to exactly sizes[k] bytes: any byte lost or
         * moved makes it unreadable (400) or another event. */
        int head = snprintf(body, S_MAX_BODY,
                            "{\"specversion\":\"1.0\",\"id\":\"size-%zu\",\"source\":\"/ci/acme\","
                            "\"type\":\"com.example.t\",\"data\":{\"pad\":\"",
                            sizes[k]);
        assert_true(head > 0 && (size_t)head + 4 < sizes[k]);
        size_t pad = sizes[k] - (size_t)head - 4;
        for (size_t i = 0; i < pad; i++)
            body[head + i] = (char)('a' + i % 26);
        memcpy(body + head + pad, "\"}}\n", 5); /* 4 bytes and the NUL */
        assert_int_equal(strlen(body), sizes[k]);
        s_reply_t r = s_request(f, "POST", "/v1/events", "application/cloudevents+json", body, 0);
        assert_int_equal(r.status, 202);
        char want[64];
        snprintf(want, sizeof want, "\"id\":\"size-%zu\"", sizes[k]);
        assert_non_null(strstr(r.body, want));
        free(r.body);
        /* The same size streamed without a Content-Length (spaces: 400). */
        r = s_request(f, "POST", "/v1/events", "application/cloudevents+json", NULL, sizes[k]);
        assert_int_equal(r.status, 400);
        free(r.body);
    }
    free(body);
    assert_int_equal(fake_ledger_size(f->ledger), sizeof sizes / sizeof sizes[0]);
}

static void a_body_trickling_past_max_request_time_is_cut_off(void **state)
{
    s_fixture_t *f = *state;
    struct sockaddr_in addr = {.sin_family = AF_INET};
    unsigned port = 0;
    sscanf(f->base, "http://127.0.0.1:%u", &port);
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    const char head[] = "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
                        "Content-Type: application/cloudevents+json\r\n"
                        "Content-Length: 100\r\n\r\n";
    assert_int_equal(send(fd, head, sizeof head - 1, MSG_NOSIGNAL), (ssize_t)(sizeof head - 1));
    /* One byte every 100 ms: never idle long, but 100 bytes would take 10 s. */
    int64_t start = cairn_mono_ms();
    bool closed = false;
    for (int i = 0; i < 100 && !closed; i++) {
        if (send(fd, "{", 1, MSG_NOSIGNAL) != 1) {
            closed = true;
            break;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        char buf[64];
        ssize_t got = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            closed = true;
    }
    close(fd);
    assert_true(closed);
    assert_true(cairn_mono_ms() - start < 3000);
    assert_int_equal(fake_ledger_size(f->ledger), 0);
    s_healthy(f);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
#define T(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(healthz_answers_200_ok),
        T(a_posted_event_is_answered_202_with_its_index),
        T(garbage_is_400_and_the_server_keeps_serving),
        T(a_wrong_content_type_is_415),
        T(valid_json_that_is_not_a_cloudevent_is_422),
        T(a_wrong_method_is_405_with_allow),
        T(an_unknown_path_is_a_json_404),
        T(a_declared_length_over_the_limit_is_413_before_the_body),
        T(a_sender_already_pushing_a_big_body_still_reads_its_413),
        T(a_streamed_body_over_the_limit_is_413),
        T(an_unacknowledged_event_is_503_with_retry_after),
        T(concurrent_senders_are_all_recorded_once),
        T(requests_waiting_for_the_ledger_hold_no_worker_thread),
        T(metrics_are_prometheus_text),
        T(request_headers_over_max_header_are_refused),
        T(every_header_reaches_the_handler_however_many),
        T(bodies_of_any_size_within_the_limit_arrive_whole),
        T(a_body_trickling_past_max_request_time_is_cut_off),
    };
#undef T
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
