/* Tests for the ledger engine over real ipc:// sockets in a temporary
 * directory: requests through cairn_client_t, entries through a SUB socket. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "engine.h"

#define S_TIMEOUT_MS 5000

/* Per-test state: a data directory, the engine, and the thread running it. */
typedef struct {
    char dir[64];           /* mkdtemp data directory */
    cairn_config_t *config; /* endpoints and paths under dir */
    cairn_ledger_t *ledger; /* the engine under test */
    pthread_t thread;       /* runs the engine while running is set */
    atomic_bool running;    /* cleared to stop the thread */
    bool started;           /* thread was started */
    cairn_client_t *client; /* DEALER client to bus.ledger_api */
    zsock_t *sub;           /* SUB on bus.ledger_stream, all topics */
} s_fixture_t;

static int s_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void *s_run(void *arg)
{
    s_fixture_t *f = arg;
    while (atomic_load(&f->running))
        if (cairn_ledger_run_once(f->ledger, 20) < 0)
            break;
    return NULL;
}

static void s_start(s_fixture_t *f)
{
    atomic_store(&f->running, true);
    assert_int_equal(pthread_create(&f->thread, NULL, s_run, f), 0);
    f->started = true;
}

static void s_stop(s_fixture_t *f)
{
    if (!f->started)
        return;
    atomic_store(&f->running, false);
    pthread_join(f->thread, NULL);
    f->started = false;
}

static int s_setup(void **state)
{
    char err[256];
    s_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/cairn-ledger-eng-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->config = cairn_config_new();
    assert_non_null(f->config);
    assert_int_equal(cairn_config_set(f->config, "cairn.data_dir", f->dir, err, sizeof err), 0);
    assert_int_equal(cairn_config_set(f->config, "ledger.map_size", "64M", err, sizeof err), 0);
    assert_int_equal(cairn_config_set(f->config, "ledger.replay_page", "4", err, sizeof err), 0);
    assert_int_equal(cairn_config_finalize(f->config, err, sizeof err), 0);
    f->ledger = cairn_ledger_new(f->config);
    assert_non_null(f->ledger);
    f->client = cairn_client_new(cairn_config_str(f->config, "bus.ledger_api"));
    assert_non_null(f->client);
    assert_int_equal(
        cairn_bus_connect(ZMQ_SUB, cairn_config_str(f->config, "bus.ledger_stream"), "", &f->sub),
        0);
    zsock_set_rcvtimeo(f->sub, S_TIMEOUT_MS);
    /* Let the subscription reach the publisher before anything is published. */
    zclock_sleep(200);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    s_stop(f);
    zsock_destroy(&f->sub);
    cairn_client_destroy(&f->client);
    cairn_ledger_destroy(&f->ledger);
    cairn_config_destroy(&f->config);
    nftw(f->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Packs a request carrying an event append for change with idempotency key. */
static void s_append_request(const char *key, const char *type, const char *change, uint8_t **buf,
                             size_t *len)
{
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__AppendRequest app = CAIRN__V1__APPEND_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    corr.change_id = (char *)change;
    ev.id = (char *)key;
    ev.source = "/test";
    ev.spec_version = "1.0";
    ev.type = (char *)type;
    ev.correlation = &corr;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    app.key = (char *)key;
    app.record = &rec;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = &app;
    assert_int_equal(cairn_codec_pack(&req.base, buf, len), 0);
}

/* Sends packed bytes and returns the decoded reply. */
static Cairn__V1__LedgerReply *s_call_raw(s_fixture_t *f, const uint8_t *buf, size_t len)
{
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    Cairn__V1__LedgerReply *rep = NULL;
    assert_int_equal(cairn_client_call(f->client, buf, len, S_TIMEOUT_MS, &reply, &reply_len), 0);
    assert_int_equal(cairn_codec_ledger_reply_unpack(reply, reply_len, &rep), 0);
    free(reply);
    return rep;
}

static Cairn__V1__LedgerReply *s_call(s_fixture_t *f, const Cairn__V1__LedgerRequest *req)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(cairn_codec_pack(&req->base, &buf, &len), 0);
    Cairn__V1__LedgerReply *rep = s_call_raw(f, buf, len);
    free(buf);
    return rep;
}

static Cairn__V1__LedgerReply *s_append(s_fixture_t *f, const char *key, const char *change)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    s_append_request(key, "dev.cdevents.change.created.0.4.0", change, &buf, &len);
    Cairn__V1__LedgerReply *rep = s_call_raw(f, buf, len);
    free(buf);
    return rep;
}

/* Receives one published entry; asserts it arrives in time. */
static Cairn__V1__Entry *s_receive_entry(s_fixture_t *f, char **topic_out)
{
    char *topic = NULL;
    uint8_t *payload = NULL;
    size_t len = 0;
    Cairn__V1__Entry *e = NULL;
    assert_int_equal(cairn_bus_receive(f->sub, &topic, &payload, &len), 0);
    assert_int_equal(cairn_codec_entry_unpack(payload, len, &e), 0);
    free(payload);
    *topic_out = topic;
    return e;
}

static void test_an_append_is_acked_then_published(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    Cairn__V1__LedgerReply *rep = s_append(f, "ce:/test\nchg-1-created", "CHG-1");
    assert_int_equal(rep->status, 0);
    assert_non_null(rep->ack);
    assert_int_equal(rep->ack->index, 0);
    assert_false(rep->ack->duplicate);
    assert_int_equal(rep->ack->hash.len, 32);
    assert_int_equal(rep->size, 1);

    char *topic = NULL;
    Cairn__V1__Entry *e = s_receive_entry(f, &topic);
    assert_string_equal(topic, "dev.cdevents.change.created.0.4.0");
    assert_int_equal(e->index, 0);
    assert_string_equal(e->topic, topic);
    assert_string_equal(e->change_id, "CHG-1");
    assert_string_equal(e->key, "ce:/test\nchg-1-created");
    assert_memory_equal(e->hash.data, rep->ack->hash.data, 32);
    Cairn__V1__Record *rec = NULL;
    assert_int_equal(cairn_codec_record_unpack(e->record.data, e->record.len, &rec), 0);
    assert_int_equal(rec->body_case, CAIRN__V1__RECORD__BODY_EVENT);
    assert_string_equal(rec->event->type, "dev.cdevents.change.created.0.4.0");
    CAIRN_CODEC_FREE(&rec);
    CAIRN_CODEC_FREE(&e);
    CAIRN_CODEC_FREE(&rep);
    free(topic);
}

static void test_a_repeated_key_is_acked_with_the_original_index_and_not_published(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    Cairn__V1__LedgerReply *first = s_append(f, "k1", "CHG-1");
    Cairn__V1__LedgerReply *second = s_append(f, "k2", "CHG-1");
    Cairn__V1__LedgerReply *again = s_append(f, "k1", "CHG-1");
    assert_int_equal(again->status, 0);
    assert_true(again->ack->duplicate);
    assert_int_equal(again->ack->index, 0);
    assert_memory_equal(again->ack->hash.data, first->ack->hash.data, 32);
    assert_int_equal(again->size, 2);

    /* Exactly two entries are published; the third receive times out. */
    char *topic = NULL;
    for (uint64_t i = 0; i < 2; i++) {
        Cairn__V1__Entry *e = s_receive_entry(f, &topic);
        assert_int_equal(e->index, i);
        CAIRN_CODEC_FREE(&e);
        free(topic);
    }
    zsock_set_rcvtimeo(f->sub, 300);
    uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(cairn_bus_receive(f->sub, &topic, &payload, &len), CAIRN_ETIMEOUT);

    s_stop(f);
    cairn_ledger_stats_t st;
    cairn_ledger_stats(f->ledger, &st);
    assert_int_equal(st.appends, 2);
    assert_int_equal(st.duplicates, 1);
    CAIRN_CODEC_FREE(&first);
    CAIRN_CODEC_FREE(&second);
    CAIRN_CODEC_FREE(&again);
}

static void test_bad_requests_get_an_error_reply_and_append_nothing(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);

    /* Not a protobuf at all. */
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x12};
    Cairn__V1__LedgerReply *rep = s_call_raw(f, garbage, sizeof garbage);
    assert_int_equal(rep->status, CAIRN_EPROTO);
    assert_true(strlen(rep->error) > 0);
    CAIRN_CODEC_FREE(&rep);

    /* A record with no body. */
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__AppendRequest app = CAIRN__V1__APPEND_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    app.key = "k-empty";
    app.record = &rec;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = &app;
    rep = s_call(f, &req);
    assert_int_equal(rep->status, CAIRN_EINVALID);
    assert_non_null(strstr(rep->error, "exactly one"));
    assert_null(rep->ack);
    CAIRN_CODEC_FREE(&rep);

    /* An append without a record. */
    app.record = NULL;
    rep = s_call(f, &req);
    assert_int_equal(rep->status, CAIRN_EINVALID);
    CAIRN_CODEC_FREE(&rep);

    /* An event without a type. */
    uint8_t *buf = NULL;
    size_t len = 0;
    s_append_request("k-untyped", "", "CHG-1", &buf, &len);
    rep = s_call_raw(f, buf, len);
    free(buf);
    assert_int_equal(rep->status, CAIRN_EINVALID);
    assert_non_null(strstr(rep->error, "type"));
    CAIRN_CODEC_FREE(&rep);

    /* A request naming no operation. */
    Cairn__V1__LedgerRequest empty = CAIRN__V1__LEDGER_REQUEST__INIT;
    rep = s_call(f, &empty);
    assert_int_equal(rep->status, CAIRN_EINVALID);
    assert_int_equal(rep->size, 0);
    CAIRN_CODEC_FREE(&rep);

    /* The engine is still there and the log is still empty. */
    Cairn__V1__HeadRequest head = CAIRN__V1__HEAD_REQUEST__INIT;
    Cairn__V1__LedgerRequest hreq = CAIRN__V1__LEDGER_REQUEST__INIT;
    hreq.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_HEAD;
    hreq.head = &head;
    rep = s_call(f, &hreq);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->size, 0);
    CAIRN_CODEC_FREE(&rep);

    s_stop(f);
    cairn_ledger_stats_t st;
    cairn_ledger_stats(f->ledger, &st);
    assert_int_equal(st.bad_requests, 5);
    assert_int_equal(st.appends, 0);
}

static void test_replay_pages_and_query_by_change(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    const char *changes[] = {"CHG-1", "CHG-2", "CHG-1", "CHG-2", "CHG-1", "CHG-3"};
    char key[16];
    for (int i = 0; i < 6; i++) {
        snprintf(key, sizeof key, "k%d", i);
        Cairn__V1__LedgerReply *rep = s_append(f, key, changes[i]);
        assert_int_equal(rep->ack->index, (uint64_t)i);
        CAIRN_CODEC_FREE(&rep);
    }

    Cairn__V1__ReplayRequest replay = CAIRN__V1__REPLAY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY;
    req.replay = &replay;

    /* limit 0: the configured page (4). */
    replay.from_index = 1;
    Cairn__V1__LedgerReply *rep = s_call(f, &req);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->size, 6);
    assert_int_equal(rep->n_entries, 4);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(rep->entries[i]->index, 1 + i);
    CAIRN_CODEC_FREE(&rep);

    replay.from_index = 4;
    replay.limit = 1;
    rep = s_call(f, &req);
    assert_int_equal(rep->n_entries, 1);
    assert_int_equal(rep->entries[0]->index, 4);
    CAIRN_CODEC_FREE(&rep);

    replay.from_index = 5;
    replay.limit = 100;
    rep = s_call(f, &req);
    assert_int_equal(rep->n_entries, 1);
    assert_int_equal(rep->entries[0]->index, 5);
    CAIRN_CODEC_FREE(&rep);

    replay.from_index = 6;
    rep = s_call(f, &req);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->n_entries, 0);
    assert_int_equal(rep->size, 6);
    CAIRN_CODEC_FREE(&rep);

    Cairn__V1__QueryRequest query = CAIRN__V1__QUERY_REQUEST__INIT;
    Cairn__V1__LedgerRequest qreq = CAIRN__V1__LEDGER_REQUEST__INIT;
    qreq.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_QUERY;
    qreq.query = &query;
    query.change_id = "CHG-1";
    rep = s_call(f, &qreq);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->n_entries, 3);
    assert_int_equal(rep->entries[0]->index, 0);
    assert_int_equal(rep->entries[1]->index, 2);
    assert_int_equal(rep->entries[2]->index, 4);
    assert_string_equal(rep->entries[1]->key, "k2");
    CAIRN_CODEC_FREE(&rep);

    query.change_id = "CHG-404";
    rep = s_call(f, &qreq);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->n_entries, 0);
    CAIRN_CODEC_FREE(&rep);
}

/* Sends [empty][payload] on a raw DEALER, as cairn_client_t does. */
static void s_dealer_send(zsock_t *dealer, const uint8_t *buf, size_t len)
{
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, NULL, 0);
    zmsg_addmem(msg, buf, len);
    assert_int_equal(zmsg_send(&msg, dealer), 0);
}

static Cairn__V1__LedgerReply *s_dealer_recv(zsock_t *dealer)
{
    zmsg_t *msg = zmsg_recv(dealer);
    assert_non_null(msg);
    assert_int_equal(zmsg_size(msg), 2);
    zframe_t *body = zmsg_last(msg);
    Cairn__V1__LedgerReply *rep = NULL;
    assert_int_equal(cairn_codec_ledger_reply_unpack(zframe_data(body), zframe_size(body), &rep),
                     0);
    zmsg_destroy(&msg);
    return rep;
}

static void test_waiting_appends_are_committed_as_one_batch(void **state)
{
    enum { N = 5 };
    s_fixture_t *f = *state;
    const char *api = cairn_config_str(f->config, "bus.ledger_api");
    zsock_t *dealers[N];
    char key[16];
    /* Everything is queued before the engine looks at its socket. */
    for (int i = 0; i < N; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(cairn_bus_connect(ZMQ_DEALER, api, NULL, &dealers[i]), 0);
        zsock_set_rcvtimeo(dealers[i], S_TIMEOUT_MS);
        snprintf(key, sizeof key, "batch-%d", i);
        /* The last request repeats the first key: a duplicate inside the batch. */
        s_append_request(i == N - 1 ? "batch-0" : key, "dev.cdevents.build.finished.0.2.0", "CHG-7",
                         &buf, &len);
        s_dealer_send(dealers[i], buf, len);
        free(buf);
    }
    zclock_sleep(300);
    assert_int_equal(cairn_ledger_run_once(f->ledger, 1000), 0);

    cairn_ledger_stats_t st;
    cairn_ledger_stats(f->ledger, &st);
    assert_int_equal(st.batches, 1);
    assert_int_equal(st.appends, N - 1);
    assert_int_equal(st.duplicates, 1);
    assert_int_equal(cairn_ledger_size(f->ledger), N - 1);

    /* The ROUTER fair-queues its peers, so either request with key batch-0 may
     * come first; the other is the duplicate, with the same index. */
    bool seen[N - 1] = {false};
    uint64_t index_of[N];
    int duplicates = 0;
    for (int i = 0; i < N; i++) {
        Cairn__V1__LedgerReply *rep = s_dealer_recv(dealers[i]);
        assert_int_equal(rep->status, 0);
        assert_int_equal(rep->size, N - 1);
        assert_true(rep->ack->index < N - 1);
        index_of[i] = rep->ack->index;
        if (rep->ack->duplicate)
            duplicates++;
        else
            seen[rep->ack->index] = true;
        CAIRN_CODEC_FREE(&rep);
        zsock_destroy(&dealers[i]);
    }
    assert_int_equal(duplicates, 1);
    assert_int_equal(index_of[0], index_of[N - 1]);
    for (int i = 0; i < N - 1; i++)
        assert_true(seen[i]);

    /* Published once each, in log order. */
    char *topic = NULL;
    for (uint64_t i = 0; i < N - 1; i++) {
        Cairn__V1__Entry *e = s_receive_entry(f, &topic);
        assert_int_equal(e->index, i);
        assert_string_equal(topic, "dev.cdevents.build.finished.0.2.0");
        CAIRN_CODEC_FREE(&e);
        free(topic);
    }
}

static void test_a_restarted_ledger_continues_the_chain(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    Cairn__V1__LedgerReply *first = s_append(f, "k1", "CHG-1");
    s_stop(f);
    cairn_client_destroy(&f->client);
    zsock_destroy(&f->sub);
    cairn_ledger_destroy(&f->ledger);

    f->ledger = cairn_ledger_new(f->config);
    assert_non_null(f->ledger);
    assert_int_equal(cairn_ledger_size(f->ledger), 1);
    f->client = cairn_client_new(cairn_config_str(f->config, "bus.ledger_api"));
    s_start(f);
    Cairn__V1__LedgerReply *again = s_append(f, "k1", "CHG-1");
    assert_true(again->ack->duplicate);
    assert_int_equal(again->ack->index, 0);
    Cairn__V1__LedgerReply *next = s_append(f, "k2", "CHG-1");
    assert_int_equal(next->ack->index, 1);

    Cairn__V1__ReplayRequest replay = CAIRN__V1__REPLAY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY;
    req.replay = &replay;
    replay.from_index = 1;
    Cairn__V1__LedgerReply *rep = s_call(f, &req);
    assert_int_equal(rep->n_entries, 1);
    assert_memory_equal(rep->entries[0]->prev_hash.data, first->ack->hash.data, 32);
    CAIRN_CODEC_FREE(&rep);
    CAIRN_CODEC_FREE(&first);
    CAIRN_CODEC_FREE(&again);
    CAIRN_CODEC_FREE(&next);
}

int main(void)
{
    cairn_log_init("ledger-test", getenv("CAIRN_TEST_LOG") ? "debug" : "error");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_an_append_is_acked_then_published, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_repeated_key_is_acked_with_the_original_index_and_not_published, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests_get_an_error_reply_and_append_nothing,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_replay_pages_and_query_by_change, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_waiting_appends_are_committed_as_one_batch, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_restarted_ledger_continues_the_chain, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
