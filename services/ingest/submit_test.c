/* Tests for the ZeroMQ submit socket: a SubmitRequest gets the answer HTTP
 * would give, a malformed message gets a 400, and an idle socket just waits. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "fake_ledger.h"
#include "submit.h"

typedef struct {
    char dir[64];                    /* temporary directory */
    fake_ledger_t *ledger;           /* acknowledges appends */
    cairn_ingest_handler_t *handler; /* shared with HTTP in the daemon */
    cairn_ingest_submit_t *submit;   /* under test */
    zsock_t *client;                 /* DEALER talking to the submit socket */
} s_fixture_t;

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    char ledger[128], submit[128];
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-submit-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(ledger, sizeof ledger, "ipc://%s/ledger.sock", f->dir);
    snprintf(submit, sizeof submit, "ipc://%s/submit.sock", f->dir);
    f->ledger = fake_ledger_start(ledger);
    cairn_ingest_handler_settings_t s = {
        .ledger_endpoint = ledger, .ledger_timeout_ms = 2000, .max_body = 1 << 20};
    f->handler = cairn_ingest_handler_new(&s);
    *state = f;
    if (!f->ledger || !f->handler || cairn_ingest_submit_new(submit, f->handler, &f->submit) < 0)
        return -1;
    return cairn_bus_connect(ZMQ_DEALER, submit, NULL, &f->client);
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    zsock_destroy(&f->client);
    cairn_ingest_submit_destroy(&f->submit);
    cairn_ingest_handler_destroy(&f->handler);
    fake_ledger_stop(&f->ledger);
    nftw(f->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Sends raw bytes as one request, lets the submit socket serve it, and
 * returns the decoded reply. */
static Cairn__V1__SubmitReply *s_roundtrip_raw(s_fixture_t *f, const void *payload, size_t len)
{
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, NULL, 0);
    zmsg_addmem(msg, payload, len);
    assert_int_equal(zmsg_send(&msg, f->client), 0);
    assert_int_equal(cairn_ingest_submit_serve_once(f->submit, 2000), 0);
    zsock_set_rcvtimeo(f->client, 2000);
    zmsg_t *reply = zmsg_recv(f->client);
    assert_non_null(reply);
    assert_int_equal(zmsg_size(reply), 2);
    zframe_t *body = zmsg_last(reply);
    Cairn__V1__SubmitReply *out = NULL;
    assert_int_equal(cairn_codec_submit_reply_unpack(zframe_data(body), zframe_size(body), &out),
                     0);
    zmsg_destroy(&reply);
    return out;
}

static Cairn__V1__SubmitReply *s_roundtrip(s_fixture_t *f, Cairn__V1__SubmitRequest *req)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(cairn_codec_pack(&req->base, &buf, &len), 0);
    Cairn__V1__SubmitReply *reply = s_roundtrip_raw(f, buf, len);
    free(buf);
    return reply;
}

static void a_submitted_event_gets_the_answer_http_would_give(void **state)
{
    s_fixture_t *f = *state;
    const char *body =
        "{\"specversion\":\"1.0\",\"id\":\"s-1\",\"source\":\"/cli\",\"type\":\"t\"}";
    Cairn__V1__SubmitRequest req = CAIRN__V1__SUBMIT_REQUEST__INIT;
    req.path = "/v1/events";
    req.content_type = "application/cloudevents+json";
    req.body.data = (uint8_t *)body;
    req.body.len = strlen(body);
    Cairn__V1__SubmitReply *reply = s_roundtrip(f, &req);
    assert_int_equal(reply->http_status, 202);
    assert_string_equal(reply->body, "{\"accepted\":[{\"id\":\"s-1\",\"index\":0}]}");
    CAIRN_CODEC_FREE(&reply);

    reply = s_roundtrip(f, &req);
    assert_int_equal(reply->http_status, 200);
    assert_string_equal(reply->body, "{\"duplicate\":true,\"id\":\"s-1\",\"index\":0}");
    CAIRN_CODEC_FREE(&reply);
}

static void headers_and_an_empty_path_are_honoured(void **state)
{
    s_fixture_t *f = *state;
    Cairn__V1__SubmitRequest__HeadersEntry h[4] = {
        CAIRN__V1__SUBMIT_REQUEST__HEADERS_ENTRY__INIT,
        CAIRN__V1__SUBMIT_REQUEST__HEADERS_ENTRY__INIT,
        CAIRN__V1__SUBMIT_REQUEST__HEADERS_ENTRY__INIT,
        CAIRN__V1__SUBMIT_REQUEST__HEADERS_ENTRY__INIT,
    };
    const char *names[4] = {"ce-specversion", "ce-id", "ce-source", "ce-type"};
    const char *values[4] = {"1.0", "bin-9", "/cli", "com.example.note"};
    Cairn__V1__SubmitRequest__HeadersEntry *list[4];
    for (int i = 0; i < 4; i++) {
        h[i].key = (char *)names[i];
        h[i].value = (char *)values[i];
        list[i] = &h[i];
    }
    Cairn__V1__SubmitRequest req = CAIRN__V1__SUBMIT_REQUEST__INIT;
    req.content_type = "text/plain";
    req.n_headers = 4;
    req.headers = list;
    req.body.data = (uint8_t *)"hello";
    req.body.len = 5;
    Cairn__V1__SubmitReply *reply = s_roundtrip(f, &req);
    assert_int_equal(reply->http_status, 202);
    assert_string_equal(reply->body, "{\"accepted\":[{\"id\":\"bin-9\",\"index\":0}]}");
    CAIRN_CODEC_FREE(&reply);
}

static void an_error_is_answered_with_its_status_and_sentence(void **state)
{
    s_fixture_t *f = *state;
    Cairn__V1__SubmitRequest req = CAIRN__V1__SUBMIT_REQUEST__INIT;
    req.path = "/v1/events";
    req.content_type = "application/cloudevents+json";
    req.body.data = (uint8_t *)"{\"id\":";
    req.body.len = 6;
    Cairn__V1__SubmitReply *reply = s_roundtrip(f, &req);
    assert_int_equal(reply->http_status, 400);
    assert_non_null(strstr(reply->body, "{\"error\":\"the body is not valid JSON: line 1"));
    CAIRN_CODEC_FREE(&reply);
}

static void a_message_that_is_not_a_submit_request_is_answered_400(void **state)
{
    s_fixture_t *f = *state;
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0x01, 0x02};
    Cairn__V1__SubmitReply *reply = s_roundtrip_raw(f, junk, sizeof junk);
    assert_int_equal(reply->http_status, 400);
    assert_non_null(strstr(reply->body, "not a valid cairn.v1.SubmitRequest"));
    CAIRN_CODEC_FREE(&reply);
    assert_int_equal(fake_ledger_size(f->ledger), 0);
}

static void an_idle_socket_returns_after_the_timeout(void **state)
{
    s_fixture_t *f = *state;
    int64_t start = cairn_mono_ms();
    assert_int_equal(cairn_ingest_submit_serve_once(f->submit, 50), 0);
    assert_true(cairn_mono_ms() - start >= 40);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(a_submitted_event_gets_the_answer_http_would_give),
        T(headers_and_an_empty_path_are_honoured),
        T(an_error_is_answered_with_its_status_and_sentence),
        T(a_message_that_is_not_a_submit_request_is_answered_400),
        T(an_idle_socket_returns_after_the_timeout),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
