/* Tests for the ledger engine over real ipc:// sockets in a temporary
 * directory: requests through cairn_client_t, entries through a SUB socket;
 * receipts, proofs and bundles are checked with the verification libraries. */
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

#include <sys/stat.h>

#include "cairn/bundle.h"
#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/ledger_batch.h"
#include "cairn/lmdbx.h"
#include "cairn/log.h"
#include "cairn/merkle.h"
#include "cairn/note.h"
#include "cairn/util.h"
#include "engine.h"
#include "keyfile.h"
#include "layout.h"
#include "store.h"
#include "testutil.h"
#include "verify.h"

#define S_TIMEOUT_MS 5000
/* Frees a reply and a request buffer after checking the reply's status. */
#define CAIRN_CODEC_FREE_AND(rep_expr, buf)                                                        \
    do {                                                                                           \
        Cairn__V1__LedgerReply *r_ = (rep_expr);                                                   \
        assert_int_equal(r_->status, 0);                                                           \
        CAIRN_CODEC_FREE(&r_);                                                                     \
        free(buf);                                                                                 \
    } while (0)

/* Per-test state: a data directory, the engine, and the thread running it. */
typedef struct {
    char dir[64];           /* mkdtemp data directory */
    cairn_config_t *config; /* endpoints and paths under dir */
    cairn_ledger_t *ledger; /* the engine under test */
    lt_served_t served;     /* runs the engine on a thread */
    cairn_client_t *client; /* DEALER client to bus.ledger_api */
    zsock_t *sub;           /* SUB on bus.ledger_stream, all topics */
} s_fixture_t;

static int s_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void s_start(s_fixture_t *f)
{
    lt_serve(&f->served, f->ledger);
}

static void s_stop(s_fixture_t *f)
{
    lt_serve_stop(&f->served);
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

/* Packs a request carrying an event append (release, actor and env may be NULL). */
static void s_event_request_env(const char *key, const char *type, const char *change,
                                const char *release, const char *actor, const char *env,
                                uint8_t **buf, size_t *len)
{
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Governance gov = CAIRN__V1__GOVERNANCE__INIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    corr.change_id = (char *)change;
    corr.release_id = (char *)(release ? release : "");
    corr.environment = (char *)(env ? env : "");
    gov.actor = (char *)(actor ? actor : "");
    ev.id = (char *)key;
    ev.source = "/test";
    ev.spec_version = "1.0";
    ev.type = (char *)type;
    ev.correlation = &corr;
    ev.governance = &gov;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    lt_append_request(key, &rec, buf, len);
}

/* Packs a request carrying an event append (release and actor may be NULL). */
static void s_event_request(const char *key, const char *type, const char *change,
                            const char *release, const char *actor, uint8_t **buf, size_t *len)
{
    s_event_request_env(key, type, change, release, actor, NULL, buf, len);
}

/* Packs a request carrying an event append for change with idempotency key. */
static void s_append_request(const char *key, const char *type, const char *change, uint8_t **buf,
                             size_t *len)
{
    s_event_request(key, type, change, NULL, NULL, buf, len);
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

/* The log's size, asked with a head request (asserts it is answered). */
static uint64_t s_head_size(s_fixture_t *f)
{
    Cairn__V1__HeadRequest head = CAIRN__V1__HEAD_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_HEAD;
    req.head = &head;
    Cairn__V1__LedgerReply *rep = s_call(f, &req);
    assert_int_equal(rep->status, 0);
    uint64_t size = rep->size;
    CAIRN_CODEC_FREE(&rep);
    return size;
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
    assert_int_equal(rep->ack->checkpoint_size, 1);

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

/* Messages without the [empty][request] framing have nobody to answer:
 * dropped and counted, and the connection's next good request is served. */
static void test_badly_framed_messages_are_dropped_and_the_next_is_served(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    zsock_t *dealer = NULL;
    assert_int_equal(
        cairn_bus_connect(ZMQ_DEALER, cairn_config_str(f->config, "bus.ledger_api"), NULL, &dealer),
        0);
    void *sock = zsock_resolve(dealer);
    uint8_t *buf = NULL;
    size_t len = 0;
    s_append_request("k-framed", "dev.cdevents.change.created.0.4.0", "CHG-F", &buf, &len);
    /* no delimiter; a delimiter that is not empty; one frame too many */
    assert_true(zmq_send(sock, buf, len, 0) >= 0);
    assert_true(zmq_send(sock, "x", 1, ZMQ_SNDMORE) >= 0 && zmq_send(sock, buf, len, 0) >= 0);
    assert_true(zmq_send(sock, "", 0, ZMQ_SNDMORE) >= 0 &&
                zmq_send(sock, buf, len, ZMQ_SNDMORE) >= 0 && zmq_send(sock, "y", 1, 0) >= 0);
    /* then the same append, framed */
    assert_true(zmq_send(sock, "", 0, ZMQ_SNDMORE) >= 0 && zmq_send(sock, buf, len, 0) >= 0);
    free(buf);
    zsock_set_rcvtimeo(dealer, S_TIMEOUT_MS);
    zmsg_t *msg = zmsg_recv(dealer);
    assert_non_null(msg);
    assert_int_equal(zmsg_size(msg), 2);
    assert_int_equal(zframe_size(zmsg_first(msg)), 0);
    zframe_t *body = zmsg_next(msg);
    Cairn__V1__LedgerReply *rep = NULL;
    assert_int_equal(cairn_codec_ledger_reply_unpack(zframe_data(body), zframe_size(body), &rep),
                     0);
    zmsg_destroy(&msg);
    assert_int_equal(rep->status, 0);
    assert_non_null(rep->ack);
    assert_int_equal(rep->ack->index, 0);
    assert_false(rep->ack->duplicate);
    assert_non_null(strstr(rep->ack->tlog_proof, "c2sp.org/tlog-proof@v1\nindex 0\n"));
    CAIRN_CODEC_FREE(&rep);
    /* exactly one answer, and the entry is published */
    zsock_set_rcvtimeo(dealer, 200);
    assert_null(zmsg_recv(dealer));
    char *topic = NULL;
    Cairn__V1__Entry *e = s_receive_entry(f, &topic);
    assert_int_equal(e->index, 0);
    assert_string_equal(topic, "dev.cdevents.change.created.0.4.0");
    free(topic);
    CAIRN_CODEC_FREE(&e);
    s_stop(f);
    cairn_ledger_stats_t st;
    cairn_ledger_stats(f->ledger, &st);
    assert_int_equal(st.appends, 1);
    assert_int_equal(st.bad_requests, 3);
    zsock_destroy(&dealer);
}

/* out = [tag of field, length-delimited][varint len][bytes]; returns its length. */
static size_t s_wrap(uint8_t field, const uint8_t *bytes, size_t len, uint8_t *out)
{
    size_t n = 0;
    out[n++] = (uint8_t)(field << 3 | 2);
    for (size_t v = len;; v >>= 7) {
        out[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        if (v <= 0x7f)
            break;
    }
    memcpy(out + n, bytes, len);
    return n + len;
}

/* A LedgerRequest appending under key the record bytes given, as they are. */
static size_t s_append_bytes(const char *key, const uint8_t *record, size_t len, uint8_t *out)
{
    uint8_t app[1024];
    size_t n = s_wrap(1, (const uint8_t *)key, strlen(key), app);
    n += s_wrap(2, record, len, app + n);
    return s_wrap(1, app, n, out);
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

    /* An append whose record field occurs twice; one whose record is not a
     * Record; one whose record holds a field numbered 0 (an overlong tag). */
    static const uint8_t body[] = {0x0a, 0x00}; /* event {} */
    static const uint8_t cut[] = {0x0a, 0x7f, 0x01};
    static const uint8_t field_zero[] = {0x0a, 0x0a, 0x81, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t raw[256], app2[64];
    size_t n = s_wrap(1, (const uint8_t *)"k-twice", 7, app2);
    n += s_wrap(2, body, sizeof body, app2 + n);
    n += s_wrap(2, body, sizeof body, app2 + n);
    rep = s_call_raw(f, raw, s_wrap(1, app2, n, raw));
    assert_int_equal(rep->status, CAIRN_EINVALID);
    assert_non_null(strstr(rep->error, "2 records"));
    CAIRN_CODEC_FREE(&rep);
    rep = s_call_raw(f, raw, s_append_bytes("k-cut", cut, sizeof cut, raw));
    assert_int_equal(rep->status, CAIRN_EPROTO);
    assert_non_null(strstr(rep->error, "not a cairn.v1.Record"));
    CAIRN_CODEC_FREE(&rep);
    rep = s_call_raw(f, raw, s_append_bytes("k-zero", field_zero, sizeof field_zero, raw));
    assert_int_equal(rep->status, CAIRN_EPROTO);
    CAIRN_CODEC_FREE(&rep);

    /* A request naming no operation. */
    Cairn__V1__LedgerRequest empty = CAIRN__V1__LEDGER_REQUEST__INIT;
    rep = s_call(f, &empty);
    assert_int_equal(rep->status, CAIRN_EINVALID);
    assert_int_equal(rep->size, 0);
    CAIRN_CODEC_FREE(&rep);

    /* The engine is still there and the log is still empty. */
    assert_int_equal(s_head_size(f), 0);

    s_stop(f);
    cairn_ledger_stats_t st;
    cairn_ledger_stats(f->ledger, &st);
    assert_int_equal(st.bad_requests, 8);
    assert_int_equal(st.appends, 0);
}

/* The payload is the record's bytes as the client sent them, not the
 * ledger's re-encoding: here an event written in two parts, its id last,
 * which a decoder merges and would encode again with the id first. */
static void test_a_record_is_stored_as_the_bytes_it_came_in(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT, id_only = CAIRN__V1__EVENT__INIT;
    corr.change_id = "CHG-9";
    ev.type = "dev.cdevents.change.merged.0.2.0";
    ev.correlation = &corr;
    id_only.id = "merged-later";
    uint8_t *first = NULL, *second = NULL, *again = NULL;
    size_t first_len = 0, second_len = 0, again_len = 0;
    assert_int_equal(cairn_codec_pack(&ev.base, &first, &first_len), 0);
    assert_int_equal(cairn_codec_pack(&id_only.base, &second, &second_len), 0);
    uint8_t event[512], sent[512], raw[1024];
    memcpy(event, first, first_len);
    memcpy(event + first_len, second, second_len);
    size_t sent_len = s_wrap(1, event, first_len + second_len, sent); /* Record.event */
    Cairn__V1__Record *merged = NULL;
    assert_int_equal(cairn_codec_record_unpack(sent, sent_len, &merged), 0);
    assert_string_equal(merged->event->id, "merged-later");
    assert_string_equal(merged->event->type, "dev.cdevents.change.merged.0.2.0");
    assert_int_equal(cairn_codec_pack(&merged->base, &again, &again_len), 0);
    assert_int_equal(again_len, sent_len);
    assert_memory_not_equal(again, sent, sent_len);

    Cairn__V1__LedgerReply *rep =
        s_call_raw(f, raw, s_append_bytes("k-as-sent", sent, sent_len, raw));
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->ack->index, 0);
    CAIRN_CODEC_FREE(&rep);
    char *topic = NULL;
    Cairn__V1__Entry *e = s_receive_entry(f, &topic);
    assert_string_equal(topic, "dev.cdevents.change.merged.0.2.0");
    assert_string_equal(e->change_id, "CHG-9");
    assert_int_equal(e->record.len, sent_len);
    assert_memory_equal(e->record.data, sent, sent_len);
    uint8_t digest[CAIRN_HASH_BYTES];
    char line[16 + 2 * CAIRN_HASH_BYTES + 1] = "payload sha256:";
    cairn_sha256(sent, sent_len, digest);
    cairn_hex(digest, sizeof digest, line + strlen(line));
    char leaf[1024] = "";
    assert_true(e->leaf.len < sizeof leaf);
    memcpy(leaf, e->leaf.data, e->leaf.len);
    assert_non_null(strstr(leaf, line));
    CAIRN_CODEC_FREE(&e);
    free(topic);

    /* and so it is served */
    Cairn__V1__ReplayRequest replay = CAIRN__V1__REPLAY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY;
    req.replay = &replay;
    rep = s_call(f, &req);
    assert_int_equal(rep->n_entries, 1);
    assert_int_equal(rep->entries[0]->record.len, sent_len);
    assert_memory_equal(rep->entries[0]->record.data, sent, sent_len);
    CAIRN_CODEC_FREE(&rep);
    CAIRN_CODEC_FREE(&merged);
    free(first);
    free(second);
    free(again);
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

/* Sends a request with one body set through a setter and returns the reply. */
static Cairn__V1__LedgerReply *s_checkpoint(s_fixture_t *f)
{
    Cairn__V1__CheckpointRequest c = CAIRN__V1__CHECKPOINT_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_CHECKPOINT;
    req.checkpoint = &c;
    return s_call(f, &req);
}

static Cairn__V1__LedgerReply *s_prove(s_fixture_t *f, uint64_t index, uint64_t size)
{
    Cairn__V1__ProveRequest p = CAIRN__V1__PROVE_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    p.index = index;
    p.size = size;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_PROVE;
    req.prove = &p;
    return s_call(f, &req);
}

static Cairn__V1__LedgerReply *s_consistency(s_fixture_t *f, uint64_t old_size, uint64_t new_size)
{
    Cairn__V1__ConsistencyRequest c = CAIRN__V1__CONSISTENCY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    c.old_size = old_size;
    c.new_size = new_size;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_CONSISTENCY;
    req.consistency = &c;
    return s_call(f, &req);
}

static Cairn__V1__LedgerReply *s_export(s_fixture_t *f, const char *change, const char *release)
{
    Cairn__V1__ExportRequest e = CAIRN__V1__EXPORT_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    e.change_id = (char *)(change ? change : "");
    e.release_id = (char *)(release ? release : "");
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_EXPORT;
    req.export = &e;
    return s_call(f, &req);
}

static Cairn__V1__LedgerReply *s_hold(s_fixture_t *f, const char *change, const char *release,
                                      bool on)
{
    Cairn__V1__LegalHoldRequest h = CAIRN__V1__LEGAL_HOLD_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    h.change_id = (char *)(change ? change : "");
    h.release_id = (char *)(release ? release : "");
    h.reason = "litigation 42";
    h.actor = "counsel";
    req.body_case =
        on ? CAIRN__V1__LEDGER_REQUEST__BODY_HOLD : CAIRN__V1__LEDGER_REQUEST__BODY_UNHOLD;
    if (on)
        req.hold = &h;
    else
        req.unhold = &h;
    return s_call(f, &req);
}

static Cairn__V1__LedgerReply *s_purge(s_fixture_t *f)
{
    Cairn__V1__PurgeRequest p = CAIRN__V1__PURGE_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    p.actor = "retention-job";
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_PURGE;
    req.purge = &p;
    return s_call(f, &req);
}

static Cairn__V1__LedgerReply *s_replay(s_fixture_t *f, uint64_t from, uint32_t limit)
{
    Cairn__V1__ReplayRequest r = CAIRN__V1__REPLAY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    r.from_index = from;
    r.limit = limit;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY;
    req.replay = &r;
    return s_call(f, &req);
}

static void s_proof_hashes(const Cairn__V1__Proof *p, uint8_t *out, size_t *count)
{
    assert_true(p->n_hashes <= CAIRN_MERKLE_MAX_PROOF);
    for (size_t i = 0; i < p->n_hashes; i++) {
        assert_int_equal(p->hashes[i].len, 32);
        memcpy(out + 32 * i, p->hashes[i].data, 32);
    }
    *count = p->n_hashes;
}

/* The verifier of the key the ledger signs with, as the checkpoint reply names it. */
static cairn_note_verifier_t *s_verifier(s_fixture_t *f)
{
    Cairn__V1__LedgerReply *rep = s_checkpoint(f);
    assert_int_equal(rep->status, 0);
    assert_non_null(rep->checkpoint);
    cairn_note_verifier_t *v = NULL;
    assert_int_equal(cairn_note_verifier_parse(rep->checkpoint->vkey, &v), 0);
    CAIRN_CODEC_FREE(&rep);
    return v;
}

/* Checks a receipt (tlog-proof text) for the entry at index. */
static void s_check_receipt(s_fixture_t *f, const char *receipt, uint64_t index, uint64_t size)
{
    Cairn__V1__LedgerReply *rep = s_replay(f, index, 1);
    assert_int_equal(rep->n_entries, 1);
    cairn_note_verifier_t *v = s_verifier(f);
    cairn_tlog_proof_t proof;
    cairn_checkpoint_t cp;
    memset(&proof, 0, sizeof proof);
    memset(&cp, 0, sizeof cp);
    assert_int_equal(cairn_tlog_proof_parse(receipt, strlen(receipt), &proof), 0);
    assert_int_equal(proof.index, index);
    assert_int_equal(cairn_tlog_proof_verify(&proof, rep->entries[0]->leaf.data,
                                             rep->entries[0]->leaf.len, v, NULL, &cp),
                     0);
    assert_int_equal(cp.size, size);
    cairn_checkpoint_clear(&cp);
    cairn_tlog_proof_clear(&proof);
    cairn_note_verifier_destroy(&v);
    CAIRN_CODEC_FREE(&rep);
}

/* Stops and destroys the engine and its clients. */
static void s_shutdown(s_fixture_t *f)
{
    s_stop(f);
    cairn_client_destroy(&f->client);
    zsock_destroy(&f->sub);
    cairn_ledger_destroy(&f->ledger);
}

/* Starts a new engine on the same directory. */
static void s_restart(s_fixture_t *f)
{
    f->ledger = cairn_ledger_new(f->config);
    assert_non_null(f->ledger);
    f->client = cairn_client_new(cairn_config_str(f->config, "bus.ledger_api"));
    assert_non_null(f->client);
    s_start(f);
}

static void test_a_pipelining_client_that_reads_late_gets_every_ack(void **state)
{
    /* More acks than libzmq queues per peer by default (1000 at each end),
     * all sent before the client reads one. */
    enum { N = 3000 };
    s_fixture_t *f = *state;
    zsock_t *dealer = NULL;
    char key[32];
    assert_int_equal(
        cairn_bus_connect(ZMQ_DEALER, cairn_config_str(f->config, "bus.ledger_api"), NULL, &dealer),
        0);
    zsock_set_rcvtimeo(dealer, S_TIMEOUT_MS);
    s_start(f);
    for (int i = 0; i < N; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        snprintf(key, sizeof key, "late-%d", i);
        s_append_request(key, "dev.cdevents.build.finished.0.2.0", "CHG-9", &buf, &len);
        s_dealer_send(dealer, buf, len);
        free(buf);
    }
    for (int tries = 0; cairn_ledger_size(f->ledger) < N && tries < 600; tries++)
        zclock_sleep(50);
    assert_int_equal(cairn_ledger_size(f->ledger), N);
    zclock_sleep(200); /* the last replies reach the client's queue */

    /* One connection is answered in order: every ack, first in, first out. */
    for (uint64_t i = 0; i < N; i++) {
        Cairn__V1__LedgerReply *rep = s_dealer_recv(dealer);
        assert_int_equal(rep->status, 0);
        assert_false(rep->ack->duplicate);
        assert_int_equal(rep->ack->index, i);
        CAIRN_CODEC_FREE(&rep);
    }
    zsock_destroy(&dealer);

    /* Everything was waiting, so while the writer wrote one batch the loop
     * filled and offered the next: the writer went on with it at once. */
    s_stop(f);
    cairn_ledger_stats_t st;
    cairn_ledger_stats(f->ledger, &st);
    assert_int_equal(st.appends, N);
    assert_true(st.batches >= N / CAIRN_LEDGER_BATCH_MAX);
    assert_true(st.chained > 0);
    assert_true(st.chained < st.batches);
}

static void test_a_restarted_ledger_continues_the_log(void **state)
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
    replay.from_index = 0;
    Cairn__V1__LedgerReply *rep = s_call(f, &req);
    assert_int_equal(rep->n_entries, 2);
    assert_memory_equal(rep->entries[0]->hash.data, first->ack->hash.data, 32);
    /* The new checkpoint extends the one signed before the restart. */
    uint8_t proof[CAIRN_MERKLE_MAX_PROOF * 32], root1[32], root2[32];
    size_t count = 0;
    memcpy(root1, first->ack->hash.data, 32); /* a tree of one leaf has its hash as root */
    Cairn__V1__LedgerReply *cons = s_consistency(f, 1, 0);
    assert_int_equal(cons->status, 0);
    assert_int_equal(cons->proof->size, 2);
    s_proof_hashes(cons->proof, proof, &count);
    cairn_merkle_node_hash(rep->entries[0]->hash.data, rep->entries[1]->hash.data, root2);
    assert_memory_equal(cons->checkpoint->root.data, root2, 32);
    assert_int_equal(cairn_merkle_verify_consistency(1, 2, root1, root2, proof, count), 0);
    CAIRN_CODEC_FREE(&cons);
    CAIRN_CODEC_FREE(&rep);
    CAIRN_CODEC_FREE(&first);
    CAIRN_CODEC_FREE(&again);
    CAIRN_CODEC_FREE(&next);
}

static void test_an_ack_carries_a_receipt_that_verifies_offline(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    Cairn__V1__LedgerReply *a = s_append(f, "k1", "CHG-1");
    Cairn__V1__LedgerReply *b = s_append(f, "k2", "CHG-1");
    assert_int_equal(b->status, 0);
    assert_int_equal(b->ack->index, 1);
    assert_int_equal(b->ack->checkpoint_size, 2);
    assert_non_null(strstr(b->ack->tlog_proof, "c2sp.org/tlog-proof@v1\nindex 1\n"));
    s_check_receipt(f, a->ack->tlog_proof, 0, 1);
    s_check_receipt(f, b->ack->tlog_proof, 1, 2);
    CAIRN_CODEC_FREE(&a);
    CAIRN_CODEC_FREE(&b);

    /* The key file was created for the default origin, readable by its owner only. */
    struct stat st;
    assert_int_equal(stat(cairn_config_str(f->config, "ledger.key_file"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_a_duplicate_gets_the_original_index_and_a_fresh_receipt(void **state)
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
    /* Proven against the current checkpoint, not the one of the first append. */
    assert_int_equal(again->ack->checkpoint_size, 2);
    s_check_receipt(f, again->ack->tlog_proof, 0, 2);
    CAIRN_CODEC_FREE(&first);
    CAIRN_CODEC_FREE(&second);
    CAIRN_CODEC_FREE(&again);
}

static void test_checkpoint_prove_and_consistency_answer_verifiably(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    Cairn__V1__LedgerReply *none = s_prove(f, 0, 0);
    assert_int_equal(none->status, CAIRN_EINVALID);
    assert_string_equal(none->error, "prove: the log is empty");
    CAIRN_CODEC_FREE(&none);
    none = s_consistency(f, 1, 0);
    assert_int_equal(none->status, CAIRN_EINVALID);
    assert_string_equal(none->error, "consistency: the log is empty");
    CAIRN_CODEC_FREE(&none);
    char key[16];
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "k%d", i);
        Cairn__V1__LedgerReply *rep = s_append(f, key, i % 2 ? "CHG-1" : "CHG-2");
        CAIRN_CODEC_FREE(&rep);
    }
    cairn_note_verifier_t *v = s_verifier(f);
    Cairn__V1__LedgerReply *cp = s_checkpoint(f);
    assert_int_equal(cp->checkpoint->size, 5);
    cairn_checkpoint_t opened;
    memset(&opened, 0, sizeof opened);
    assert_int_equal(cairn_checkpoint_open(cp->checkpoint->note, strlen(cp->checkpoint->note), v,
                                           "cairn.local/ledger", &opened),
                     0);
    assert_int_equal(opened.size, 5);
    assert_memory_equal(opened.root, cp->checkpoint->root.data, 32);

    /* An inclusion proof against the latest checkpoint and against an older one. */
    uint8_t proof[CAIRN_MERKLE_MAX_PROOF * 32];
    size_t count = 0;
    Cairn__V1__LedgerReply *p = s_prove(f, 2, 0);
    assert_int_equal(p->status, 0);
    assert_int_equal(p->proof->size, 5);
    s_proof_hashes(p->proof, proof, &count);
    assert_int_equal(
        cairn_merkle_verify_inclusion(2, 5, p->proof->leaf_hash.data, proof, count, opened.root),
        0);
    s_check_receipt(f, p->proof->tlog_proof, 2, 5);
    CAIRN_CODEC_FREE(&p);
    p = s_prove(f, 2, 3);
    assert_int_equal(p->status, 0);
    assert_int_equal(p->checkpoint->size, 3);
    s_proof_hashes(p->proof, proof, &count);
    assert_int_equal(cairn_merkle_verify_inclusion(2, 3, p->proof->leaf_hash.data, proof, count,
                                                   p->checkpoint->root.data),
                     0);
    uint8_t root3[32];
    memcpy(root3, p->checkpoint->root.data, 32);
    CAIRN_CODEC_FREE(&p);

    Cairn__V1__LedgerReply *c = s_consistency(f, 3, 0);
    assert_int_equal(c->status, 0);
    assert_int_equal(c->proof->old_size, 3);
    assert_int_equal(c->proof->size, 5);
    s_proof_hashes(c->proof, proof, &count);
    assert_int_equal(cairn_merkle_verify_consistency(3, 5, root3, opened.root, proof, count), 0);
    CAIRN_CODEC_FREE(&c);

    /* Out of range. */
    p = s_prove(f, 5, 0);
    assert_int_equal(p->status, CAIRN_EINVALID);
    assert_null(p->proof);
    assert_string_equal(p->error,
                        "prove: index 5 is not in a tree of size 5; indexes run from 0 to 4");
    CAIRN_CODEC_FREE(&p);
    p = s_prove(f, 1, 6);
    assert_int_equal(p->status, CAIRN_EINVALID);
    assert_string_equal(p->error, "prove: size 6 is beyond the log's size 5");
    CAIRN_CODEC_FREE(&p);
    c = s_consistency(f, 0, 5);
    assert_int_equal(c->status, CAIRN_EINVALID);
    assert_string_equal(c->error, "consistency: the old size must be at least 1");
    CAIRN_CODEC_FREE(&c);
    c = s_consistency(f, 4, 3);
    assert_int_equal(c->status, CAIRN_EINVALID);
    assert_string_equal(c->error, "consistency: the old size 4 is larger than the new size 3");
    CAIRN_CODEC_FREE(&c);
    c = s_consistency(f, 3, 9);
    assert_int_equal(c->status, CAIRN_EINVALID);
    assert_string_equal(c->error, "consistency: size 9 is beyond the log's size 5");
    CAIRN_CODEC_FREE(&c);

    cairn_checkpoint_clear(&opened);
    cairn_note_verifier_destroy(&v);
    CAIRN_CODEC_FREE(&cp);
}

static void test_an_exported_change_verifies_with_the_bundle_library(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    const char *changes[] = {"CHG-1", "CHG-2", "CHG-1", "CHG-1"};
    char key[16];
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "k%d", i);
        Cairn__V1__LedgerReply *rep = s_append(f, key, changes[i]);
        CAIRN_CODEC_FREE(&rep);
    }
    Cairn__V1__LedgerReply *rep = s_export(f, "CHG-1", NULL);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->checkpoint->size, 4);
    cairn_note_verifier_t *v = s_verifier(f);
    cairn_bundle_report_t *report = NULL;
    assert_int_equal(
        cairn_bundle_verify((const char *)rep->bundle.data, rep->bundle.len, v, &report), 0);
    assert_true(report->checkpoint_ok);
    assert_int_equal(report->entry_count, 3);
    assert_int_equal(report->entries_ok, 3);
    assert_int_equal(report->finding_count, 0);
    cairn_bundle_report_destroy(&report);
    cairn_note_verifier_destroy(&v);
    CAIRN_CODEC_FREE(&rep);

    rep = s_export(f, "CHG-404", NULL);
    assert_int_equal(rep->status, CAIRN_ENOTFOUND);
    assert_string_equal(rep->error, "export: no entry of the log names change 'CHG-404'");
    CAIRN_CODEC_FREE(&rep);
    rep = s_export(f, NULL, "REL-404");
    assert_int_equal(rep->status, CAIRN_ENOTFOUND);
    assert_string_equal(rep->error, "export: no entry of the log names release 'REL-404'");
    CAIRN_CODEC_FREE(&rep);
    rep = s_export(f, "CHG-1", "REL-1");
    assert_int_equal(rep->status, CAIRN_EINVALID);
    assert_string_equal(
        rep->error, "export: name exactly one of a change (change_id) or a release (release_id)");
    CAIRN_CODEC_FREE(&rep);
}

static void test_queries_by_release_actor_and_topic_over_the_socket(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    uint8_t *buf = NULL;
    size_t len = 0;
    s_event_request("k0", "dev.cdevents.build.finished.0.2.0", "CHG-1", "REL-1", "ci-bot", &buf,
                    &len);
    CAIRN_CODEC_FREE_AND(s_call_raw(f, buf, len), buf);
    s_event_request("k1", "dev.cdevents.change.created.0.4.0", "CHG-2", NULL, "dana", &buf, &len);
    CAIRN_CODEC_FREE_AND(s_call_raw(f, buf, len), buf);
    s_event_request("k2", "dev.cdevents.service.deployed.0.2.0", "CHG-2", "REL-1", "ci-bot", &buf,
                    &len);
    CAIRN_CODEC_FREE_AND(s_call_raw(f, buf, len), buf);

    Cairn__V1__QueryRequest q = CAIRN__V1__QUERY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_QUERY;
    req.query = &q;
    q.release_id = "REL-1";
    Cairn__V1__LedgerReply *rep = s_call(f, &req);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->n_entries, 2);
    assert_int_equal(rep->entries[0]->index, 0);
    assert_int_equal(rep->entries[1]->index, 2);
    CAIRN_CODEC_FREE(&rep);
    q.release_id = "";
    q.actor = "dana";
    rep = s_call(f, &req);
    assert_int_equal(rep->n_entries, 1);
    assert_int_equal(rep->entries[0]->index, 1);
    CAIRN_CODEC_FREE(&rep);
    q.actor = "";
    q.topic_prefix = "dev.cdevents.service.";
    rep = s_call(f, &req);
    assert_int_equal(rep->n_entries, 1);
    assert_int_equal(rep->entries[0]->index, 2);
    CAIRN_CODEC_FREE(&rep);
    q.from_ms = 1;
    rep = s_call(f, &req);
    assert_int_equal(rep->n_entries, 1);
    CAIRN_CODEC_FREE(&rep);
    /* The prefix narrows an actor's entries to its topics. */
    q.actor = "ci-bot";
    rep = s_call(f, &req);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->n_entries, 1);
    assert_int_equal(rep->entries[0]->index, 2);
    CAIRN_CODEC_FREE(&rep);
    q.release_id = "REL-1";
    rep = s_call(f, &req);
    assert_int_equal(rep->status, CAIRN_EINVALID);
    assert_string_equal(rep->error, "a query sets at most one of change_id, release_id, actor, "
                                    "environment (topic_prefix, from_ms and to_ms narrow it, or "
                                    "select alone)");
    CAIRN_CODEC_FREE(&rep);
}

static void test_queries_by_environment_over_the_socket(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    uint8_t *buf = NULL;
    size_t len = 0;
    s_event_request_env("k0", "dev.cdevents.service.deployed.0.2.0", "CHG-1", NULL, "ci-bot",
                        "prod", &buf, &len);
    CAIRN_CODEC_FREE_AND(s_call_raw(f, buf, len), buf);
    s_event_request("k1", "dev.cdevents.change.created.0.4.0", "CHG-2", NULL, "dana", &buf, &len);
    CAIRN_CODEC_FREE_AND(s_call_raw(f, buf, len), buf);
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
    v.change_id = "CHG-2";
    v.gate = "deploy";
    v.environment = "prod";
    rec.body_case = CAIRN__V1__RECORD__BODY_VERDICT;
    rec.verdict = &v;
    lt_append_request("k2", &rec, &buf, &len);
    CAIRN_CODEC_FREE_AND(s_call_raw(f, buf, len), buf);
    Cairn__V1__Alert a = CAIRN__V1__ALERT__INIT;
    Cairn__V1__Alert__LabelsEntry label = CAIRN__V1__ALERT__LABELS_ENTRY__INIT;
    Cairn__V1__Alert__LabelsEntry *labels[] = {&label};
    label.key = "environment";
    label.value = "staging";
    a.id = "a1";
    a.kind = "gate_denied";
    a.change_id = "CHG-2";
    a.labels = labels;
    a.n_labels = 1;
    rec.body_case = CAIRN__V1__RECORD__BODY_ALERT;
    rec.alert = &a;
    lt_append_request("k3", &rec, &buf, &len);
    CAIRN_CODEC_FREE_AND(s_call_raw(f, buf, len), buf);

    Cairn__V1__QueryRequest q = CAIRN__V1__QUERY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_QUERY;
    req.query = &q;
    q.environment = "prod";
    Cairn__V1__LedgerReply *rep = s_call(f, &req);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->n_entries, 2);
    assert_int_equal(rep->entries[0]->index, 0);
    assert_int_equal(rep->entries[1]->index, 2);
    assert_string_equal(rep->entries[1]->topic, "verdict.deploy");
    CAIRN_CODEC_FREE(&rep);
    q.environment = "staging";
    rep = s_call(f, &req);
    assert_int_equal(rep->n_entries, 1);
    assert_int_equal(rep->entries[0]->index, 3);
    CAIRN_CODEC_FREE(&rep);
    q.actor = "dana";
    rep = s_call(f, &req);
    assert_int_equal(rep->status, CAIRN_EINVALID);
    assert_non_null(strstr(rep->error, "environment"));
    CAIRN_CODEC_FREE(&rep);
}

/* Appends old entries straight into the store, as if written long ago. */
static void s_append_old(s_fixture_t *f, const char *changes[], const char *releases[], size_t n)
{
    cairn_note_signer_t *signer = NULL;
    cairn_ledger_store_t *store = NULL;
    bool created = false;
    assert_int_equal(cairn_ledger_keyfile_open(cairn_config_str(f->config, "ledger.key_file"),
                                               "cairn.local/ledger", &signer, &created),
                     0);
    assert_int_equal(cairn_ledger_store_open(cairn_config_str(f->config, "ledger.path"), 64u << 20,
                                             "cairn.local/ledger", signer, &store),
                     0);
    char id[32];
    assert_int_equal(cairn_ledger_store_begin(store), 0);
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "old%zu", i);
        cairn_ledger_append_t r =
            lt_append_in(store, NULL, changes[i], releases[i], id, 1000000000000); /* 2001 */
        free(r.leaf);
    }
    assert_int_equal(cairn_ledger_store_commit(store), 0);
    cairn_ledger_store_destroy(&store);
    cairn_note_signer_destroy(&signer);
}

/* The entry at index, read back through replay. */
static Cairn__V1__LedgerReply *s_entry(s_fixture_t *f, uint64_t index)
{
    Cairn__V1__LedgerReply *rep = s_replay(f, index, 1);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->n_entries, 1);
    return rep;
}

static void test_a_purge_deletes_old_payloads_keeps_proofs_and_honours_holds(void **state)
{
    s_fixture_t *f = *state;
    s_shutdown(f);
    const char *changes[] = {"CHG-OLD", "CHG-HELD", "CHG-OLD"};
    const char *releases[] = {NULL, NULL, "REL-H"};
    s_append_old(f, changes, releases, 3);
    s_restart(f);

    Cairn__V1__LedgerReply *fresh = s_append(f, "k-new", "CHG-NEW"); /* index 3, too young */
    Cairn__V1__LedgerReply *e0 = s_entry(f, 0);
    uint8_t digest0[32];
    char hex[65], listed[80];
    cairn_sha256(e0->entries[0]->record.data, e0->entries[0]->record.len, digest0);
    cairn_hex(digest0, 32, hex);
    snprintf(listed, sizeof listed, "\"sha256:%s\"", hex);

    Cairn__V1__LedgerReply *h1 = s_hold(f, "CHG-HELD", NULL, true);
    Cairn__V1__LedgerReply *h2 = s_hold(f, NULL, "REL-H", true);
    assert_int_equal(h1->status, 0);
    assert_int_equal(h1->ack->index, 4);
    assert_int_equal(h2->ack->index, 5);
    s_check_receipt(f, h2->ack->tlog_proof, 5, 6);

    Cairn__V1__LedgerReply *p = s_purge(f);
    assert_int_equal(p->status, 0);
    assert_int_equal(p->purge->purged, 1);
    assert_int_equal(p->purge->held, 2);
    assert_false(p->purge->more);
    assert_int_equal(p->purge->entry_index, 6);
    s_check_receipt(f, p->ack->tlog_proof, 6, 7);

    /* Entry 0 lost its payload but keeps its leaf, and its proof still verifies. */
    Cairn__V1__LedgerReply *after = s_entry(f, 0);
    assert_int_equal(after->entries[0]->record.len, 0);
    assert_memory_equal(after->entries[0]->leaf.data, e0->entries[0]->leaf.data,
                        e0->entries[0]->leaf.len);
    Cairn__V1__LedgerReply *proof = s_prove(f, 0, 0);
    assert_int_equal(proof->status, 0);
    s_check_receipt(f, proof->proof->tlog_proof, 0, 7);
    /* Held and young entries keep theirs. */
    for (uint64_t i = 1; i <= 3; i++) {
        Cairn__V1__LedgerReply *kept = s_entry(f, i);
        assert_true(kept->entries[0]->record.len > 0);
        CAIRN_CODEC_FREE(&kept);
    }
    /* The purge entry lists the digest it deleted. */
    Cairn__V1__LedgerReply *pe = s_entry(f, 6);
    Cairn__V1__Record *rec = NULL;
    assert_int_equal(
        cairn_codec_record_unpack(pe->entries[0]->record.data, pe->entries[0]->record.len, &rec),
        0);
    assert_string_equal(rec->event->type, "dev.cdeventsx.cairn-ledger.purge.0.1.0");
    assert_non_null(strstr((const char *)rec->event->data.data, listed));
    CAIRN_CODEC_FREE(&rec);

    /* Lifting the change's hold lets the next purge take its payload. */
    Cairn__V1__LedgerReply *u = s_hold(f, "CHG-HELD", NULL, false);
    assert_int_equal(u->status, 0);
    Cairn__V1__LedgerReply *p2 = s_purge(f);
    assert_int_equal(p2->purge->purged, 1);
    assert_int_equal(p2->purge->held, 1);
    Cairn__V1__LedgerReply *none = s_hold(f, "CHG-HELD", NULL, false);
    assert_int_equal(none->status, CAIRN_ENOTFOUND);
    Cairn__V1__LedgerReply *bad = s_hold(f, "CHG-1", "REL-1", true);
    assert_int_equal(bad->status, CAIRN_EINVALID);

    /* At rest, the log still verifies; purged payloads are accounted for. */
    s_shutdown(f);
    cairn_ledger_verify_report_t report;
    assert_int_equal(cairn_ledger_verify(cairn_config_str(f->config, "ledger.path"), NULL, &report),
                     0);
    assert_int_equal(report.purged, 2);
    assert_int_equal(report.size, 9);

    CAIRN_CODEC_FREE(&fresh), CAIRN_CODEC_FREE(&e0), CAIRN_CODEC_FREE(&h1);
    CAIRN_CODEC_FREE(&h2), CAIRN_CODEC_FREE(&p), CAIRN_CODEC_FREE(&after);
    CAIRN_CODEC_FREE(&proof), CAIRN_CODEC_FREE(&pe), CAIRN_CODEC_FREE(&u);
    CAIRN_CODEC_FREE(&p2), CAIRN_CODEC_FREE(&none), CAIRN_CODEC_FREE(&bad);
}

static void test_a_ledger_with_a_tampered_tree_refuses_to_start(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    char key[16];
    for (int i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "k%d", i);
        Cairn__V1__LedgerReply *rep = s_append(f, key, "CHG-1");
        CAIRN_CODEC_FREE(&rep);
    }
    s_shutdown(f);
    const char *path = cairn_config_str(f->config, "ledger.path");
    lt_flip_record(path, 2, LT_PART_LEAF, -4);
    assert_null(cairn_ledger_new(f->config));
    cairn_ledger_verify_report_t report;
    assert_int_equal(cairn_ledger_verify(path, NULL, &report), CAIRN_EINTEGRITY);
    assert_true(report.has_bad_index);
    assert_int_equal(report.bad_index, 2);
    lt_flip_record(path, 2, LT_PART_LEAF, -4);
    f->ledger = cairn_ledger_new(f->config);
    assert_non_null(f->ledger);
    assert_int_equal(cairn_ledger_size(f->ledger), 3);
}

static void test_a_signing_key_others_can_read_refuses_to_start(void **state)
{
    s_fixture_t *f = *state;
    s_shutdown(f);
    assert_int_equal(chmod(cairn_config_str(f->config, "ledger.key_file"), 0644), 0);
    assert_null(cairn_ledger_new(f->config));
    assert_int_equal(chmod(cairn_config_str(f->config, "ledger.key_file"), 0600), 0);
    f->ledger = cairn_ledger_new(f->config);
    assert_non_null(f->ledger);
}

/* ---- append_batch ------------------------------------------------------- */

/* One append of a batch: an event (type "" = none) for change under key,
 * or, with body_case NOT_SET, a record without a body; no_record leaves the
 * record out. The strings are borrowed. */
typedef struct {
    const char *key;
    const char *type;
    const char *change;
    bool no_body;
    bool no_record;
} s_item_t;

/* Sends an append_batch of items and returns the checked reply. */
static Cairn__V1__LedgerReply *s_append_batch(s_fixture_t *f, const s_item_t *items, size_t n)
{
    Cairn__V1__Correlation corr[8];
    Cairn__V1__Event ev[8];
    Cairn__V1__Record rec[8];
    Cairn__V1__AppendRequest app[8];
    const Cairn__V1__AppendRequest *ptrs[8];
    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++) {
        cairn__v1__correlation__init(&corr[i]);
        cairn__v1__event__init(&ev[i]);
        cairn__v1__record__init(&rec[i]);
        cairn__v1__append_request__init(&app[i]);
        corr[i].change_id = (char *)items[i].change;
        ev[i].id = (char *)items[i].key;
        ev[i].source = "/test";
        ev[i].spec_version = "1.0";
        ev[i].type = (char *)items[i].type;
        ev[i].correlation = &corr[i];
        if (!items[i].no_body) {
            rec[i].body_case = CAIRN__V1__RECORD__BODY_EVENT;
            rec[i].event = &ev[i];
        }
        app[i].key = (char *)items[i].key;
        app[i].record = items[i].no_record ? NULL : &rec[i];
        ptrs[i] = &app[i];
    }
    uint8_t *buf = NULL, *reply = NULL;
    size_t len = 0, reply_len = 0;
    Cairn__V1__LedgerReply *rep = NULL;
    assert_int_equal(cairn_ledger_batch_pack(ptrs, n, &buf, &len), 0);
    assert_int_equal(cairn_client_call(f->client, buf, len, S_TIMEOUT_MS, &reply, &reply_len), 0);
    assert_int_equal(cairn_ledger_batch_reply_unpack(reply, reply_len, n, &rep), 0);
    free(buf);
    free(reply);
    return rep;
}

static void test_an_append_batch_appends_in_order_with_a_receipt_each(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    const char *type = "dev.cdevents.change.created.0.4.0";
    const s_item_t items[] = {
        {"b0", type, "CHG-1", false, false}, {"b1", type, "CHG-2", false, false},
        {"b2", type, "CHG-1", false, false}, {"b3", type, "CHG-3", false, false},
        {"b4", type, "CHG-1", false, false},
    };
    Cairn__V1__LedgerReply *rep = s_append_batch(f, items, 5);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->size, 5);
    assert_int_equal(rep->n_results, 5);
    for (size_t i = 0; i < 5; i++) {
        const Cairn__V1__AppendResult *r = rep->results[i];
        assert_int_equal(r->status, 0);
        assert_non_null(r->ack);
        assert_int_equal(r->ack->index, i);
        assert_false(r->ack->duplicate);
        assert_int_equal(r->ack->checkpoint_size, 5);
        s_check_receipt(f, r->ack->tlog_proof, i, 5);
    }
    /* Published in log order, each under its own key and change. */
    for (size_t i = 0; i < 5; i++) {
        char *topic = NULL;
        Cairn__V1__Entry *e = s_receive_entry(f, &topic);
        assert_int_equal(e->index, i);
        assert_string_equal(e->key, items[i].key);
        assert_string_equal(e->change_id, items[i].change);
        assert_memory_equal(e->hash.data, rep->results[i]->ack->hash.data, 32);
        CAIRN_CODEC_FREE(&e);
        free(topic);
    }
    CAIRN_CODEC_FREE(&rep);
    /* The chain of a change links through the batch: b4's prev is b2. */
    Cairn__V1__LedgerReply *r4 = s_replay(f, 4, 1);
    assert_int_equal(r4->n_entries, 1);
    assert_non_null(strstr((const char *)r4->entries[0]->leaf.data, "prev 2\n"));
    CAIRN_CODEC_FREE(&r4);
}

static void test_duplicates_in_and_across_batches_get_the_original_index(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    const char *type = "dev.cdevents.change.created.0.4.0";
    const s_item_t first[] = {
        {"k1", type, "CHG-1", false, false},
        {"k2", type, "CHG-1", false, false},
        {"k1", type, "CHG-1", false, false},
    };
    Cairn__V1__LedgerReply *rep = s_append_batch(f, first, 3);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->size, 2);
    assert_int_equal(rep->results[0]->ack->index, 0);
    assert_false(rep->results[0]->ack->duplicate);
    assert_int_equal(rep->results[1]->ack->index, 1);
    assert_int_equal(rep->results[2]->ack->index, 0);
    assert_true(rep->results[2]->ack->duplicate);
    assert_memory_equal(rep->results[2]->ack->hash.data, rep->results[0]->ack->hash.data, 32);
    s_check_receipt(f, rep->results[2]->ack->tlog_proof, 0, 2);
    CAIRN_CODEC_FREE(&rep);

    const s_item_t second[] = {
        {"k2", type, "CHG-1", false, false},
        {"k3", type, "CHG-2", false, false},
    };
    rep = s_append_batch(f, second, 2);
    assert_int_equal(rep->results[0]->ack->index, 1);
    assert_true(rep->results[0]->ack->duplicate);
    assert_int_equal(rep->results[1]->ack->index, 2);
    assert_false(rep->results[1]->ack->duplicate);
    s_check_receipt(f, rep->results[0]->ack->tlog_proof, 1, 3);
    CAIRN_CODEC_FREE(&rep);

    /* A single append sees the batch's keys, and a batch the single's. */
    rep = s_append(f, "k3", "CHG-2");
    assert_int_equal(rep->ack->index, 2);
    assert_true(rep->ack->duplicate);
    CAIRN_CODEC_FREE(&rep);
    rep = s_append(f, "k4", "CHG-2");
    assert_int_equal(rep->ack->index, 3);
    CAIRN_CODEC_FREE(&rep);
    const s_item_t third[] = {{"k4", type, "CHG-2", false, false}};
    rep = s_append_batch(f, third, 1);
    assert_int_equal(rep->results[0]->ack->index, 3);
    assert_true(rep->results[0]->ack->duplicate);
    assert_int_equal(rep->size, 4);
    CAIRN_CODEC_FREE(&rep);

    /* Only the four new entries were published. */
    for (uint64_t i = 0; i < 4; i++) {
        char *topic = NULL;
        Cairn__V1__Entry *e = s_receive_entry(f, &topic);
        assert_int_equal(e->index, i);
        CAIRN_CODEC_FREE(&e);
        free(topic);
    }
    zsock_set_rcvtimeo(f->sub, 200);
    char *topic = NULL;
    uint8_t *payload = NULL;
    size_t len = 0;
    assert_true(cairn_bus_receive(f->sub, &topic, &payload, &len) < 0);
    s_stop(f);
    cairn_ledger_stats_t st;
    cairn_ledger_stats(f->ledger, &st);
    assert_int_equal(st.appends, 4);
    assert_int_equal(st.duplicates, 4);
}

static void test_bad_appends_in_a_batch_are_refused_one_by_one(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    const char *type = "dev.cdevents.change.created.0.4.0";
    const s_item_t items[] = {
        {"ok-0", type, "CHG-1", false, false},   {"no-record", type, "CHG-1", false, true},
        {"no-body", type, "CHG-1", true, false}, {"ok-1", type, "CHG-1", false, false},
        {"untyped", "", "CHG-1", false, false},  {"control", type, "CHG\x01", false, false},
        {"ok-2", type, "CHG-2", false, false},
    };
    Cairn__V1__LedgerReply *rep = s_append_batch(f, items, 7);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->size, 3);
    const int want[] = {0, CAIRN_EINVALID, CAIRN_EINVALID, 0, CAIRN_EINVALID, CAIRN_EINVALID, 0};
    const uint64_t index[] = {0, 0, 0, 1, 0, 0, 2};
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(rep->results[i]->status, want[i]);
        if (want[i] == 0) {
            assert_int_equal(rep->results[i]->ack->index, index[i]);
            s_check_receipt(f, rep->results[i]->ack->tlog_proof, index[i], 3);
        } else {
            assert_null(rep->results[i]->ack);
            assert_true(strlen(rep->results[i]->error) > 0);
        }
    }
    assert_non_null(strstr(rep->results[2]->error, "exactly one"));
    assert_non_null(strstr(rep->results[4]->error, "type"));
    assert_non_null(strstr(rep->results[5]->error, "control character"));
    CAIRN_CODEC_FREE(&rep);
    /* The refused keys were not taken: they append once fixed. */
    const s_item_t fixed[] = {{"untyped", type, "CHG-1", false, false}};
    rep = s_append_batch(f, fixed, 1);
    assert_int_equal(rep->results[0]->status, 0);
    assert_int_equal(rep->results[0]->ack->index, 3);
    assert_false(rep->results[0]->ack->duplicate);
    CAIRN_CODEC_FREE(&rep);
}

static void test_an_empty_or_oversized_batch_is_refused_whole(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    Cairn__V1__AppendBatchRequest batch = CAIRN__V1__APPEND_BATCH_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND_BATCH;
    req.append_batch = &batch;
    Cairn__V1__LedgerReply *rep = s_call(f, &req);
    assert_int_equal(rep->status, CAIRN_EINVALID);
    assert_int_equal(rep->n_results, 0);
    CAIRN_CODEC_FREE(&rep);

    enum { N = CAIRN_LEDGER_APPEND_BATCH_MAX + 1 };
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    ev.type = "dev.cdevents.change.created.0.4.0";
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    Cairn__V1__AppendRequest *apps = calloc(N, sizeof *apps);
    Cairn__V1__AppendRequest **ptrs = calloc(N, sizeof *ptrs);
    char(*keys)[16] = calloc(N, sizeof *keys);
    assert_non_null(apps);
    assert_non_null(ptrs);
    assert_non_null(keys);
    for (size_t i = 0; i < N; i++) {
        cairn__v1__append_request__init(&apps[i]);
        snprintf(keys[i], sizeof keys[i], "big-%zu", i);
        apps[i].key = keys[i];
        apps[i].record = &rec;
        ptrs[i] = &apps[i];
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    /* The helper refuses it, and so does the ledger when sent anyway. */
    assert_int_equal(
        cairn_ledger_batch_pack((const Cairn__V1__AppendRequest *const *)ptrs, N, &buf, &len),
        CAIRN_EINVALID);
    batch.appends = ptrs;
    batch.n_appends = N;
    rep = s_call(f, &req);
    assert_int_equal(rep->status, CAIRN_EINVALID);
    assert_non_null(strstr(rep->error, "append_batch"));
    assert_int_equal(rep->size, 0);
    CAIRN_CODEC_FREE(&rep);
    /* At the limit it is one commit. */
    batch.n_appends = N - 1;
    rep = s_call(f, &req);
    assert_int_equal(rep->status, 0);
    assert_int_equal(rep->n_results, N - 1);
    assert_int_equal(rep->size, N - 1);
    assert_int_equal(rep->results[N - 2]->ack->checkpoint_size, N - 1);
    CAIRN_CODEC_FREE(&rep);
    free(apps);
    free(ptrs);
    free(keys);
    s_stop(f);
    cairn_ledger_stats_t st;
    cairn_ledger_stats(f->ledger, &st);
    assert_int_equal(st.batches, 1);
}

static void test_a_batch_survives_a_restart_and_is_not_appended_twice(void **state)
{
    s_fixture_t *f = *state;
    s_start(f);
    const char *type = "dev.cdevents.change.created.0.4.0";
    const s_item_t items[] = {
        {"r0", type, "CHG-1", false, false},
        {"r1", type, "CHG-1", false, false},
        {"r2", type, "CHG-1", false, false},
    };
    Cairn__V1__LedgerReply *rep = s_append_batch(f, items, 3);
    assert_int_equal(rep->size, 3);
    CAIRN_CODEC_FREE(&rep);
    s_shutdown(f);
    s_restart(f);
    /* A client that retries after a lost reply gets the same indexes. */
    rep = s_append_batch(f, items, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(rep->results[i]->ack->index, i);
        assert_true(rep->results[i]->ack->duplicate);
    }
    assert_int_equal(rep->size, 3);
    CAIRN_CODEC_FREE(&rep);
}

/* Tree size of the checkpoint note in path (its second line), or -1. */
static int64_t s_kept_size(const char *path)
{
    char *text = NULL;
    int64_t size = -1;
    if (cairn_read_file(path, 65536, &text, NULL) < 0)
        return -1;
    const char *nl = strchr(text, '\n');
    if (nl)
        size = (int64_t)strtoll(nl + 1, NULL, 10);
    free(text);
    return size;
}

/* The checkpoint file (ledger.checkpoint_file) follows the log while it
 * runs and at stop. A store rolled back behind it, an older backup put back,
 * does not start until the file is moved away. */
static void test_a_store_rolled_back_behind_its_checkpoint_file_does_not_start(void **state)
{
    s_fixture_t *f = *state;
    char path[128], moved[160], store[128], backup[128];
    snprintf(path, sizeof path, "%s/ledger.checkpoint", f->dir);
    snprintf(moved, sizeof moved, "%s.moved", path);
    snprintf(store, sizeof store, "%s/ledger", f->dir);
    snprintf(backup, sizeof backup, "%s/backup", f->dir);
    assert_string_equal(cairn_config_str(f->config, "ledger.checkpoint_file"), path);
    assert_int_equal(s_kept_size(path), 0); /* written when the ledger opened */
    s_start(f);
    Cairn__V1__LedgerReply *rep = s_append(f, "k1", "CHG-1");
    assert_int_equal(rep->status, 0);
    CAIRN_CODEC_FREE(&rep);
    s_shutdown(f);
    assert_int_equal(s_kept_size(path), 1); /* written at stop */
    lt_copy_store(store, backup);

    s_restart(f);
    rep = s_append(f, "k2", "CHG-1");
    CAIRN_CODEC_FREE(&rep);
    rep = s_append(f, "k3", "CHG-1");
    assert_int_equal(rep->ack->index, 2);
    CAIRN_CODEC_FREE(&rep);
    /* While the ledger runs, the file follows within about a second. */
    for (int i = 0; i < 50 && s_kept_size(path) != 3; i++)
        zclock_sleep(100);
    assert_int_equal(s_kept_size(path), 3);
    s_shutdown(f);

    /* The backup put back: acknowledged entries 1 and 2 are gone. */
    lt_copy_store(backup, store);
    assert_null(cairn_ledger_new(f->config));
    assert_int_equal(s_kept_size(path), 3); /* the refusal leaves the file as it was */

    /* With the file moved away the log goes on from the backup. */
    assert_int_equal(rename(path, moved), 0);
    s_restart(f);
    assert_int_equal(s_head_size(f), 1);
    assert_int_equal(s_kept_size(path), 1);
}

/* A checkpoint file in a directory that does not exist yet: the directory
 * is made (0700) and the file written when the ledger opens. */
static void test_the_checkpoint_file_directory_is_made(void **state)
{
    s_fixture_t *f = *state;
    char err[256], path[160], dir[128];
    snprintf(dir, sizeof dir, "%s/state/ledger", f->dir);
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    cairn_config_t *config = cairn_config_new();
    assert_non_null(config);
    assert_int_equal(cairn_config_set(config, "cairn.data_dir", f->dir, err, sizeof err), 0);
    assert_int_equal(cairn_config_set(config, "ledger.map_size", "64M", err, sizeof err), 0);
    assert_int_equal(cairn_config_set(config, "ledger.checkpoint_file", path, err, sizeof err), 0);
    assert_int_equal(cairn_config_finalize(config, err, sizeof err), 0);
    cairn_ledger_destroy(&f->ledger);
    f->ledger = cairn_ledger_new(config);
    assert_non_null(f->ledger);
    assert_int_equal(s_kept_size(path), 0);
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    cairn_config_destroy(&config);
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
        cmocka_unit_test_setup_teardown(test_a_record_is_stored_as_the_bytes_it_came_in, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests_get_an_error_reply_and_append_nothing,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_badly_framed_messages_are_dropped_and_the_next_is_served, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_replay_pages_and_query_by_change, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_waiting_appends_are_committed_as_one_batch, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_pipelining_client_that_reads_late_gets_every_ack,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_restarted_ledger_continues_the_log, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_an_ack_carries_a_receipt_that_verifies_offline,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_duplicate_gets_the_original_index_and_a_fresh_receipt, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint_prove_and_consistency_answer_verifiably,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_an_exported_change_verifies_with_the_bundle_library,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_queries_by_environment_over_the_socket, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_queries_by_release_actor_and_topic_over_the_socket,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_purge_deletes_old_payloads_keeps_proofs_and_honours_holds, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_ledger_with_a_tampered_tree_refuses_to_start,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_signing_key_others_can_read_refuses_to_start,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_an_append_batch_appends_in_order_with_a_receipt_each,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_duplicates_in_and_across_batches_get_the_original_index, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_bad_appends_in_a_batch_are_refused_one_by_one, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_an_empty_or_oversized_batch_is_refused_whole, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_batch_survives_a_restart_and_is_not_appended_twice,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_store_rolled_back_behind_its_checkpoint_file_does_not_start, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(test_the_checkpoint_file_directory_is_made, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
