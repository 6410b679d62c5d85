/* Tests for the notify engine (built-in routes: everything to the file,
 * grouped by change) against a small in-test ledger: a thread that
 * binds the ledger's ROUTER and PUB sockets on ipc:// endpoints in a temporary
 * directory, answers replay and append like the real ledger (idempotent on
 * key, ack after append, then publish), and can be told to stop answering
 * appends to play an unreachable ledger. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <czmq.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"
#include "engine.h"

/* Replay pages are kept small so the engine has to page through them. */
#define S_PAGE 2
#define S_MAX_ENTRIES 256

/* ---- the ledger stand-in ------------------------------------------------ */

/* cmocka's asserts must not run on the stand-in's thread. */
#define S_CHECK(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: test ledger: check failed: %s\n", __FILE__, __LINE__, #cond);  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef struct {
    char *topic;     /* as the ledger computes it */
    char *change;    /* change the record names */
    char *key;       /* idempotency key */
    uint8_t *record; /* packed Record */
    size_t len;      /* its length */
} s_entry_t;

typedef struct {
    zsock_t *router;                  /* answers LedgerRequest */
    zsock_t *pub;                     /* publishes [topic][Entry] */
    s_entry_t entries[S_MAX_ENTRIES]; /* the log */
    size_t size;                      /* entries in the log */
    bool mute_appends;                /* swallow appends without answering */
    int append_requests;              /* append requests received, answered or not */
} s_ledger_t;

static void s_entry_fill(const s_ledger_t *lg, size_t i, Cairn__V1__Entry *e)
{
    cairn__v1__entry__init(e);
    e->index = i;
    e->topic = lg->entries[i].topic;
    e->change_id = lg->entries[i].change;
    e->key = lg->entries[i].key;
    e->appended_at_ms = 1795600800000 + (int64_t)i;
    e->record.data = lg->entries[i].record;
    e->record.len = lg->entries[i].len;
}

static void s_publish(s_ledger_t *lg, size_t i)
{
    Cairn__V1__Entry e;
    uint8_t *buf = NULL;
    size_t len = 0;
    s_entry_fill(lg, i, &e);
    S_CHECK(cairn_codec_pack(&e.base, &buf, &len) == 0);
    S_CHECK(cairn_bus_publish(lg->pub, e.topic, buf, len) == 0);
    free(buf);
}

/* Appends (topic, record) under key; returns the index, or the original one
 * for a key already seen (*duplicate set). */
static uint64_t s_append(s_ledger_t *lg, const char *key, const char *topic, const char *change,
                         const uint8_t *record, size_t len, bool *duplicate)
{
    *duplicate = false;
    for (size_t i = 0; key && *key && i < lg->size; i++)
        if (strcmp(lg->entries[i].key, key) == 0) {
            *duplicate = true;
            return i;
        }
    S_CHECK(lg->size < S_MAX_ENTRIES);
    s_entry_t *e = &lg->entries[lg->size];
    e->topic = strdup(topic);
    e->change = strdup(change ? change : "");
    e->key = strdup(key ? key : "");
    e->record = malloc(len ? len : 1);
    memcpy(e->record, record, len);
    e->len = len;
    return lg->size++;
}

static uint64_t s_append_record(s_ledger_t *lg, const char *key, const Cairn__V1__Record *rec,
                                bool *duplicate)
{
    char topic[256];
    uint8_t *buf = NULL;
    size_t len = 0;
    S_CHECK(cairn_codec_record_topic(rec, topic, sizeof(topic)) == 0);
    S_CHECK(cairn_codec_pack(&rec->base, &buf, &len) == 0);
    uint64_t i = s_append(lg, key, topic, cairn_codec_record_change(rec), buf, len, duplicate);
    free(buf);
    return i;
}

static void s_serve(s_ledger_t *lg)
{
    zframe_t *peer = NULL;
    uint8_t *buf = NULL, *out = NULL;
    size_t len = 0, out_len = 0;
    Cairn__V1__LedgerRequest *req = NULL;
    Cairn__V1__LedgerReply reply = CAIRN__V1__LEDGER_REPLY__INIT;
    Cairn__V1__AppendAck ack = CAIRN__V1__APPEND_ACK__INIT;
    Cairn__V1__Entry page[S_PAGE], *pagep[S_PAGE];
    bool duplicate = false;
    int64_t appended = -1;

    if (cairn_bus_server_recv(lg->router, &peer, &buf, &len) < 0)
        return;
    if (cairn_codec_ledger_request_unpack(buf, len, &req) < 0) {
        reply.status = CAIRN_EPROTO;
    } else if (req->body_case == CAIRN__V1__LEDGER_REQUEST__BODY_APPEND) {
        lg->append_requests++;
        if (lg->mute_appends)
            goto out; /* no answer: the client times out */
        uint64_t i = s_append_record(lg, req->append->key, req->append->record, &duplicate);
        ack.index = i;
        ack.duplicate = duplicate;
        reply.ack = &ack;
        if (!duplicate)
            appended = (int64_t)i;
    } else if (req->body_case == CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY) {
        uint64_t from = req->replay->from_index;
        size_t limit =
            req->replay->limit && req->replay->limit < S_PAGE ? req->replay->limit : S_PAGE;
        for (uint64_t i = from; i < lg->size && reply.n_entries < limit; i++) {
            s_entry_fill(lg, i, &page[reply.n_entries]);
            pagep[reply.n_entries] = &page[reply.n_entries];
            reply.n_entries++;
        }
        reply.entries = pagep;
    } else {
        reply.status = CAIRN_EINVALID;
        reply.error = "not served by the test ledger";
    }
    reply.size = lg->size;
    S_CHECK(cairn_codec_pack(&reply.base, &out, &out_len) == 0);
    cairn_bus_server_reply(lg->router, &peer, out, out_len);
    /* Like the ledger: ack first, then publish. */
    if (appended >= 0)
        s_publish(lg, (size_t)appended);
out:
    zframe_destroy(&peer);
    CAIRN_CODEC_FREE(&req);
    free(buf);
    free(out);
}

/* Commands on the actor pipe (each answered, so the test knows it is done):
 *   APPEND key record-bytes  -> index     append a record and publish it
 *   RAW topic record-bytes   -> index     append raw bytes under a topic and publish
 *   GARBAGE topic            -> "ok"      publish a message that is not an Entry
 *   MUTE 0|1                 -> "ok"      stop / resume answering appends
 *   STATS                    -> size, append requests
 *   KEY index                -> key of that entry ("" past the end) */
static void s_command(s_ledger_t *lg, zsock_t *pipe, zmsg_t *msg, bool *stop)
{
    char *cmd = zmsg_popstr(msg);
    bool duplicate = false;
    if (!cmd)
        return;
    if (streq(cmd, "$TERM")) {
        *stop = true;
    } else if (streq(cmd, "APPEND")) {
        char *key = zmsg_popstr(msg);
        zframe_t *bytes = zmsg_pop(msg);
        Cairn__V1__Record *rec = NULL;
        S_CHECK(cairn_codec_record_unpack(zframe_data(bytes), zframe_size(bytes), &rec) == 0);
        uint64_t i = s_append_record(lg, key, rec, &duplicate);
        if (!duplicate)
            s_publish(lg, i);
        zstr_sendf(pipe, "%" PRIu64, i);
        CAIRN_CODEC_FREE(&rec);
        zframe_destroy(&bytes);
        free(key);
    } else if (streq(cmd, "RAW")) {
        char *topic = zmsg_popstr(msg);
        zframe_t *bytes = zmsg_pop(msg);
        uint64_t i =
            s_append(lg, "", topic, "", zframe_data(bytes), zframe_size(bytes), &duplicate);
        s_publish(lg, i);
        zstr_sendf(pipe, "%" PRIu64, i);
        zframe_destroy(&bytes);
        free(topic);
    } else if (streq(cmd, "GARBAGE")) {
        char *topic = zmsg_popstr(msg);
        cairn_bus_publish(lg->pub, topic, "\xff\xff\xff", 3);
        zstr_send(pipe, "ok");
        free(topic);
    } else if (streq(cmd, "MUTE")) {
        char *on = zmsg_popstr(msg);
        lg->mute_appends = on && streq(on, "1");
        zstr_send(pipe, "ok");
        free(on);
    } else if (streq(cmd, "STATS")) {
        zstr_sendfm(pipe, "%zu", lg->size);
        zstr_sendf(pipe, "%d", lg->append_requests);
    } else if (streq(cmd, "KEY")) {
        char *idx = zmsg_popstr(msg);
        size_t i = (size_t)strtoull(idx, NULL, 10);
        zstr_send(pipe, i < lg->size ? lg->entries[i].key : "");
        free(idx);
    }
    free(cmd);
}

static void s_ledger_actor(zsock_t *pipe, void *args)
{
    const cairn_config_t *cfg = args;
    s_ledger_t *lg = calloc(1, sizeof(*lg));
    S_CHECK(lg);
    S_CHECK(cairn_bus_bind(ZMQ_ROUTER, cairn_config_str(cfg, "bus.ledger_api"), &lg->router) == 0);
    S_CHECK(cairn_bus_bind(ZMQ_PUB, cairn_config_str(cfg, "bus.ledger_stream"), &lg->pub) == 0);
    zsock_signal(pipe, 0);

    zpoller_t *poller = zpoller_new(pipe, lg->router, NULL);
    bool stop = false;
    while (!stop) {
        void *which = zpoller_wait(poller, 100);
        if (which == pipe) {
            zmsg_t *msg = zmsg_recv(pipe);
            if (!msg)
                break;
            s_command(lg, pipe, msg, &stop);
            zmsg_destroy(&msg);
        } else if (which == lg->router) {
            s_serve(lg);
        } else if (zpoller_terminated(poller)) {
            break;
        }
    }
    zpoller_destroy(&poller);
    for (size_t i = 0; i < lg->size; i++) {
        free(lg->entries[i].topic);
        free(lg->entries[i].change);
        free(lg->entries[i].key);
        free(lg->entries[i].record);
    }
    zsock_destroy(&lg->router);
    zsock_destroy(&lg->pub);
    free(lg);
}

/* ---- fixture ------------------------------------------------------------ */

typedef struct {
    char dir[64];        /* temporary data directory */
    char file[128];      /* notify.file */
    cairn_config_t *cfg; /* finalized configuration */
    zactor_t *ledger;    /* the stand-in */
    cairn_notify_engine_t *engine;
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *fx = calloc(1, sizeof(*fx));
    char err[256];
    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/cairn-notify-engine-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->file, sizeof(fx->file), "%s/notifications.jsonl", fx->dir);
    fx->cfg = cairn_config_new();
    assert_non_null(fx->cfg);
    assert_int_equal(cairn_config_set(fx->cfg, "cairn.data_dir", fx->dir, err, sizeof(err)), 0);
    assert_int_equal(cairn_config_set(fx->cfg, "bus.request_timeout", "1s", err, sizeof(err)), 0);
    assert_int_equal(cairn_config_finalize(fx->cfg, err, sizeof(err)), 0);
    assert_string_equal(cairn_config_str(fx->cfg, "notify.file"), fx->file);
    fx->ledger = zactor_new(s_ledger_actor, fx->cfg);
    assert_non_null(fx->ledger);
    *state = fx;
    return 0;
}

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int s_teardown(void **state)
{
    s_fixture_t *fx = *state;
    cairn_notify_engine_destroy(&fx->engine);
    zactor_destroy(&fx->ledger);
    cairn_config_destroy(&fx->cfg);
    nftw(fx->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static void s_start_engine(s_fixture_t *fx)
{
    assert_null(fx->engine);
    char err[512];
    assert_int_equal(cairn_notify_engine_new(fx->cfg, &fx->engine, err, sizeof err), 0);
}

static void s_stop_engine(s_fixture_t *fx)
{
    cairn_notify_engine_destroy(&fx->engine);
    assert_null(fx->engine);
}

static uint64_t s_ledger_append(s_fixture_t *fx, const char *key, const Cairn__V1__Record *rec)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(cairn_codec_pack(&rec->base, &buf, &len), 0);
    zmsg_t *msg = zmsg_new();
    zmsg_addstr(msg, "APPEND");
    zmsg_addstr(msg, key);
    zmsg_addmem(msg, buf, len);
    zmsg_send(&msg, fx->ledger);
    free(buf);
    char *idx = zstr_recv(fx->ledger);
    assert_non_null(idx);
    uint64_t i = strtoull(idx, NULL, 10);
    free(idx);
    return i;
}

static uint64_t s_ledger_raw(s_fixture_t *fx, const char *topic, const void *bytes, size_t len)
{
    zmsg_t *msg = zmsg_new();
    zmsg_addstr(msg, "RAW");
    zmsg_addstr(msg, topic);
    zmsg_addmem(msg, bytes, len);
    zmsg_send(&msg, fx->ledger);
    char *idx = zstr_recv(fx->ledger);
    assert_non_null(idx);
    uint64_t i = strtoull(idx, NULL, 10);
    free(idx);
    return i;
}

static void s_ledger_cmd(s_fixture_t *fx, const char *cmd, const char *arg)
{
    zstr_sendx(fx->ledger, cmd, arg, NULL);
    char *ok = zstr_recv(fx->ledger);
    assert_non_null(ok);
    free(ok);
}

static void s_ledger_stats(s_fixture_t *fx, uint64_t *size, int *appends)
{
    char *a = NULL, *b = NULL;
    zstr_send(fx->ledger, "STATS");
    assert_int_equal(zstr_recvx(fx->ledger, &a, &b, NULL), 2);
    *size = strtoull(a, NULL, 10);
    *appends = atoi(b);
    free(a);
    free(b);
}

/* The notification file's lines, parsed. */
static json_t *s_lines(s_fixture_t *fx)
{
    json_t *arr = json_array();
    FILE *f = fopen(fx->file, "r");
    char line[8192];
    while (f && fgets(line, sizeof(line), f)) {
        size_t n = strlen(line);
        assert_true(n > 0 && line[n - 1] == '\n');
        json_error_t err;
        json_t *obj = json_loads(line, 0, &err);
        if (!obj)
            fail_msg("not a JSON line: %s", line);
        json_array_append_new(arr, obj);
    }
    if (f)
        fclose(f);
    return arr;
}

static size_t s_line_count(s_fixture_t *fx)
{
    json_t *arr = s_lines(fx);
    size_t n = json_array_size(arr);
    json_decref(arr);
    return n;
}

/* Runs the engine until the file has `lines` lines and the engine has applied
 * the whole ledger (so its own receipts too), or fails after max_ms. */
static void s_run_until_settled(s_fixture_t *fx, size_t lines, int max_ms)
{
    int64_t deadline = cairn_mono_ms() + max_ms;
    for (;;) {
        assert_int_equal(cairn_notify_engine_run_once(fx->engine, 50), 0);
        cairn_notify_stats_t st;
        uint64_t size = 0;
        int appends = 0;
        cairn_notify_engine_stats(fx->engine, &st);
        s_ledger_stats(fx, &size, &appends);
        if (s_line_count(fx) == lines && st.next == size)
            return;
        if (cairn_mono_ms() > deadline)
            fail_msg("not settled: lines=%zu want=%zu next=%" PRIu64 " size=%" PRIu64,
                     s_line_count(fx), lines, st.next, size);
    }
}

/* Runs the engine for ms, whatever happens. */
static void s_run_for(s_fixture_t *fx, int ms)
{
    int64_t deadline = cairn_mono_ms() + ms;
    while (cairn_mono_ms() < deadline)
        assert_int_equal(cairn_notify_engine_run_once(fx->engine, 50), 0);
}

/* ---- records ------------------------------------------------------------ */

static uint64_t s_add_event(s_fixture_t *fx, const char *id)
{
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    corr.change_id = "CHG-1";
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    ev.id = (char *)id;
    ev.source = "/ci/acme/payments";
    ev.spec_version = "1.0";
    ev.type = "dev.cdevents.change.created.0.4.0";
    ev.correlation = &corr;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    char key[128];
    snprintf(key, sizeof(key), "ce:/ci/acme/payments\n%s", id);
    return s_ledger_append(fx, key, &rec);
}

static uint64_t s_add_verdict(s_fixture_t *fx, const char *gate, Cairn__V1__Decision decision,
                              uint64_t trigger)
{
    Cairn__V1__Reason sod = CAIRN__V1__REASON__INIT;
    sod.rule_id = "SOD1";
    sod.result = "fail";
    sod.message = "dana is the author of CHG-1 and cannot approve it";
    Cairn__V1__Reason *reasons[] = {&sod};
    Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
    v.change_id = "CHG-1";
    v.gate = (char *)gate;
    v.decision = decision;
    v.reasons = reasons;
    v.n_reasons = 1;
    v.trigger_index = trigger;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_VERDICT;
    rec.verdict = &v;
    char key[128];
    snprintf(key, sizeof(key), "verdict:CHG-1:%s:%" PRIu64, gate, trigger);
    return s_ledger_append(fx, key, &rec);
}

static uint64_t s_add_alert(s_fixture_t *fx, const char *kind, uint64_t trigger)
{
    Cairn__V1__Alert a = CAIRN__V1__ALERT__INIT;
    a.kind = (char *)kind;
    a.severity = "high";
    a.change_id = "CHG-1";
    a.summary = "deployment of CHG-1 was denied";
    a.trigger_index = trigger;
    Cairn__V1__Alert__LabelsEntry gate = CAIRN__V1__ALERT__LABELS_ENTRY__INIT;
    gate.key = "gate";
    gate.value = "deployment";
    Cairn__V1__Alert__LabelsEntry *labels[] = {&gate};
    a.labels = labels;
    a.n_labels = 1;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_ALERT;
    rec.alert = &a;
    char key[128];
    snprintf(key, sizeof(key), "alert:%s:CHG-1:%" PRIu64, kind, trigger);
    return s_ledger_append(fx, key, &rec);
}

/* Entries of the ledger whose key starts with prefix. */
static int s_ledger_prefix_count(s_fixture_t *fx, const char *prefix)
{
    uint64_t size = 0;
    int appends = 0, n = 0;
    s_ledger_stats(fx, &size, &appends);
    for (uint64_t i = 0; i < size; i++) {
        char idx[32];
        snprintf(idx, sizeof(idx), "%" PRIu64, i);
        zstr_sendx(fx->ledger, "KEY", idx, NULL);
        char *k = zstr_recv(fx->ledger);
        assert_non_null(k);
        if (strncmp(k, prefix, strlen(prefix)) == 0)
            n++;
        free(k);
    }
    return n;
}

#define S_RECEIPTS "receipt:default/file:"

static uint64_t s_line_index(json_t *lines, size_t i)
{
    return (uint64_t)json_integer_value(json_object_get(json_array_get(lines, i), "index"));
}

static uint64_t s_add_silence(s_fixture_t *fx, const char *id, const char *change, int64_t ends)
{
    Cairn__V1__Matcher m = CAIRN__V1__MATCHER__INIT;
    m.name = "change";
    m.op = "=";
    m.value = (char *)change;
    Cairn__V1__Matcher *ms[] = {&m};
    Cairn__V1__Silence si = CAIRN__V1__SILENCE__INIT;
    si.id = (char *)id;
    si.matchers = ms;
    si.n_matchers = 1;
    si.created_by = "erin";
    si.comment = "maintenance";
    si.starts_at_ms = 0;
    si.ends_at_ms = ends;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_SILENCE;
    rec.silence = &si;
    char key[128];
    snprintf(key, sizeof(key), "silence:%s:%" PRId64, id, ends);
    return s_ledger_append(fx, key, &rec);
}

/* ---- tests -------------------------------------------------------------- */

static void verdicts_and_alerts_reach_the_file_grouped_once_with_a_receipt(void **state)
{
    s_fixture_t *fx = *state;
    uint64_t e0 = s_add_event(fx, "chg-1-created");
    uint64_t v1 = s_add_verdict(fx, "deployment", CAIRN__V1__DECISION__DECISION_DENY, e0);
    uint64_t e2 = s_add_event(fx, "chg-1-tests");
    uint64_t a3 = s_add_alert(fx, "gate_denied", e2);
    /* An allow nobody heard a deny for is no news. */
    s_add_verdict(fx, "build", CAIRN__V1__DECISION__DECISION_ALLOW, e2);

    /* Everything before the start arrives by replay, in one group (change). */
    s_start_engine(fx);
    s_run_until_settled(fx, 2, 10000);
    json_t *lines = s_lines(fx);
    assert_int_equal(s_line_index(lines, 0), v1);
    assert_int_equal(s_line_index(lines, 1), a3);
    json_t *first = json_array_get(lines, 0);
    assert_string_equal(json_string_value(json_object_get(first, "kind")), "verdict");
    assert_string_equal(json_string_value(json_object_get(first, "decision")), "deny");
    assert_string_equal(json_string_value(json_object_get(first, "status")), "firing");
    assert_string_equal(json_string_value(json_object_get(first, "group")),
                        "{}:{change=\"CHG-1\"}");
    assert_string_equal(json_string_value(json_object_get(first, "summary")),
                        "CHG-1 deployment: deny \xe2\x80\x94 SOD1: dana is the author of CHG-1 "
                        "and cannot approve it");
    assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 1), "severity")),
                        "high");
    json_decref(lines);
    s_run_for(fx, 300);
    /* One notification, one attempt, one receipt. */
    assert_int_equal(s_ledger_prefix_count(fx, S_RECEIPTS), 1);
    cairn_notify_stats_t st;
    cairn_notify_engine_stats(fx->engine, &st);
    assert_int_equal(st.delivered, 1);
    assert_int_equal(st.pending, 0);

    /* The deployment is allowed: the deny and the gate_denied alert resolve;
     * the file gets the allowing verdict, once. */
    uint64_t v9 = s_add_verdict(fx, "deployment", CAIRN__V1__DECISION__DECISION_ALLOW, a3);
    s_run_until_settled(fx, 3, 10000);
    s_run_for(fx, 300);
    lines = s_lines(fx);
    assert_int_equal(s_line_index(lines, 2), v9);
    assert_string_equal(json_string_value(json_object_get(json_array_get(lines, 2), "status")),
                        "resolved");
    json_decref(lines);
    assert_int_equal(s_ledger_prefix_count(fx, S_RECEIPTS), 2);
    cairn_notify_engine_stats(fx->engine, &st);
    /* Every alert resolved and was told: nothing is held any more. */
    assert_int_equal(st.alerts, 0);
    assert_int_equal(st.groups, 0);
}

static void a_restarted_engine_delivers_nothing_twice(void **state)
{
    s_fixture_t *fx = *state;
    uint64_t e0 = s_add_event(fx, "chg-1-created");
    s_add_verdict(fx, "deployment", CAIRN__V1__DECISION__DECISION_DENY, e0);
    s_add_alert(fx, "gate_denied", e0);

    s_start_engine(fx);
    s_run_until_settled(fx, 2, 10000);
    s_run_for(fx, 300);
    uint64_t size_before = 0;
    int appends_before = 0;
    s_ledger_stats(fx, &size_before, &appends_before);
    assert_int_equal(s_ledger_prefix_count(fx, S_RECEIPTS), 1);
    s_stop_engine(fx);

    /* A new process starts from the persisted state: no line, no receipt
     * again, even after an idle replay. */
    s_start_engine(fx);
    s_run_for(fx, 1500);
    assert_int_equal(s_line_count(fx), 2);
    uint64_t size = 0;
    int appends = 0;
    s_ledger_stats(fx, &size, &appends);
    assert_int_equal(appends, appends_before);
    assert_int_equal(size, size_before);
    cairn_notify_stats_t st;
    cairn_notify_engine_stats(fx->engine, &st);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.next, size);
    /* The group and its alerts survived the restart. */
    assert_int_equal(st.alerts, 2);
    assert_int_equal(st.groups, 1);

    /* And it still delivers what comes next, into the same group. */
    uint64_t v = s_add_verdict(fx, "build", CAIRN__V1__DECISION__DECISION_PENDING, e0 + 1);
    s_run_until_settled(fx, 3, 10000);
    json_t *lines = s_lines(fx);
    assert_int_equal(s_line_index(lines, 2), v);
    json_decref(lines);
    s_run_for(fx, 300);
    assert_int_equal(s_ledger_prefix_count(fx, S_RECEIPTS), 2);
}

static void an_unreachable_ledger_delays_the_receipt_but_never_repeats_the_line(void **state)
{
    s_fixture_t *fx = *state;
    uint64_t e0 = s_add_event(fx, "chg-1-created");
    s_add_verdict(fx, "deployment", CAIRN__V1__DECISION__DECISION_DENY, e0);
    s_ledger_cmd(fx, "MUTE", "1");

    s_start_engine(fx);
    s_run_until_settled(fx, 1, 10000);
    s_run_for(fx, 1500);
    cairn_notify_stats_t st;
    cairn_notify_engine_stats(fx->engine, &st);
    /* Delivered once; the receipt waits, durably, for the ledger. */
    assert_int_equal(s_line_count(fx), 1);
    assert_int_equal(st.delivered, 1);
    assert_true(st.ledger_pending >= 1);
    uint64_t size = 0;
    int appends = 0;
    s_ledger_stats(fx, &size, &appends);
    assert_true(appends >= 1);
    assert_int_equal(s_ledger_prefix_count(fx, S_RECEIPTS), 0);

    /* A restart in between writes nothing again and forgets nothing. */
    s_stop_engine(fx);
    s_start_engine(fx);
    s_ledger_cmd(fx, "MUTE", "0");
    int64_t deadline = cairn_mono_ms() + 10000;
    while (s_ledger_prefix_count(fx, S_RECEIPTS) == 0) {
        assert_int_equal(cairn_notify_engine_run_once(fx->engine, 50), 0);
        assert_true(cairn_mono_ms() < deadline);
    }
    s_run_for(fx, 1500);
    assert_int_equal(s_line_count(fx), 1);
    assert_int_equal(s_ledger_prefix_count(fx, S_RECEIPTS), 1);
    cairn_notify_engine_stats(fx->engine, &st);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.ledger_pending, 0);
}

static void bad_stream_messages_and_records_are_counted_and_passed_over(void **state)
{
    s_fixture_t *fx = *state;
    s_start_engine(fx);
    s_run_for(fx, 200);
    s_ledger_cmd(fx, "GARBAGE", "verdict.deployment");
    uint64_t bad = s_ledger_raw(fx, "verdict.deployment", "\x0a\xff\x01", 3);
    uint64_t v = s_add_verdict(fx, "deployment", CAIRN__V1__DECISION__DECISION_PENDING, bad);
    s_run_until_settled(fx, 1, 10000);
    json_t *lines = s_lines(fx);
    assert_int_equal(s_line_index(lines, 0), v);
    json_decref(lines);
    cairn_notify_stats_t st;
    cairn_notify_engine_stats(fx->engine, &st);
    assert_true(st.bad >= 1);
}

static void a_silence_from_the_ledger_holds_back_until_it_is_expired(void **state)
{
    s_fixture_t *fx = *state;
    s_add_silence(fx, "sil-1", "CHG-1", cairn_now_ms() + 3600000);
    uint64_t e0 = s_add_event(fx, "chg-1-created");
    s_add_verdict(fx, "deployment", CAIRN__V1__DECISION__DECISION_DENY, e0);
    s_start_engine(fx);
    s_run_for(fx, 1500);
    assert_int_equal(s_line_count(fx), 0);
    /* The same id again, ending now: the held-back notification goes out. */
    s_add_silence(fx, "sil-1", "CHG-1", cairn_now_ms());
    s_run_until_settled(fx, 1, 10000);
}

int main(void)
{
    cairn_log_init("notify", "warn");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            verdicts_and_alerts_reach_the_file_grouped_once_with_a_receipt, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_restarted_engine_delivers_nothing_twice, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            an_unreachable_ledger_delays_the_receipt_but_never_repeats_the_line, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(bad_stream_messages_and_records_are_counted_and_passed_over,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_silence_from_the_ledger_holds_back_until_it_is_expired,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
