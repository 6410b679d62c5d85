/* The ledger engine: drains LedgerRequests from the ROUTER socket in batches,
 * appends the batch's records in one durable commit, answers every request,
 * then publishes each new entry on the PUB socket in log order. */
#include "engine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/signals.h"
#include "cairn/util.h"
#include "store.h"

#define S_TOPIC_MAX 1024
#define S_ERROR_MAX 256
/* Entry bytes per replay reply; a page always carries at least one entry. */
#define S_REPLAY_BUDGET (16u * 1024u * 1024u)
/* Entry bytes per query reply, leaving room under the codec's limit. */
#define S_QUERY_BUDGET (CAIRN_CODEC_MAX_BYTES - 1024u * 1024u)
#define S_STATS_EVERY_MS 60000
/* Bytes of a rejected request shown in the log for inspection. */
#define S_LOG_HEAD_BYTES 32

/* One request of the current batch, from receipt to reply. */
typedef struct {
    zframe_t *peer;                /* who asked; consumed by the reply */
    Cairn__V1__LedgerRequest *req; /* the decoded request; NULL when malformed */
    int status;                    /* 0, or the code the request is answered with */
    char error[S_ERROR_MAX];       /* what went wrong, for people, when status != 0 */
    char topic[S_TOPIC_MAX];       /* an append's topic */
    cairn_ledger_append_t result;  /* where an append landed */
} s_request_t;

struct cairn_ledger_t {
    cairn_ledger_store_t *store;               /* the log */
    zsock_t *api;                              /* ROUTER: LedgerRequest in, LedgerReply out */
    zsock_t *stream;                           /* PUB: [topic][Entry] per appended entry */
    uint64_t replay_page;                      /* most entries per replay reply */
    cairn_ledger_stats_t stats;                /* counters since start */
    cairn_ledger_stats_t logged;               /* counters when last logged */
    int64_t next_log_ms;                       /* monotonic time of the next counter line */
    s_request_t batch[CAIRN_LEDGER_BATCH_MAX]; /* the requests being handled */
};

static void s_log_stats(cairn_ledger_t *self)
{
    const cairn_ledger_stats_t *s = &self->stats;
    CAIRN_INFO("ledger counters",
               "size=%" PRIu64 " appends=%" PRIu64 " duplicates=%" PRIu64 " bad_requests=%" PRIu64
               " store_errors=%" PRIu64 " replays=%" PRIu64 " queries=%" PRIu64 " batches=%" PRIu64,
               cairn_ledger_store_size(self->store), s->appends, s->duplicates, s->bad_requests,
               s->store_errors, s->replays, s->queries, s->batches);
    self->logged = self->stats;
}

cairn_ledger_t *cairn_ledger_new(const cairn_config_t *config)
{
    int rc = 0;
    char hex[2 * CAIRN_LEDGER_HASH_BYTES + 1];
    uint8_t tip[CAIRN_LEDGER_HASH_BYTES];
    const char *path = cairn_config_str(config, "ledger.path");
    const char *api = cairn_config_str(config, "bus.ledger_api");
    const char *stream = cairn_config_str(config, "bus.ledger_stream");
    cairn_ledger_t *self = calloc(1, sizeof *self);
    if (!self) {
        CAIRN_ERROR("cannot start ledger", "error=%s", cairn_log_quote(cairn_strerror(-ENOMEM)));
        return NULL;
    }
    self->replay_page = (uint64_t)cairn_config_int(config, "ledger.replay_page");
    size_t map_size = (size_t)cairn_config_int(config, "ledger.map_size");
    if ((rc = cairn_ledger_store_open(path, map_size, &self->store)) < 0) {
        CAIRN_ERROR("cannot open ledger store", "path=%s error=%s%s", cairn_log_quote(path),
                    cairn_log_quote(cairn_strerror(rc)),
                    rc == CAIRN_EINTEGRITY ? " hint=\"the chain tip does not verify; restore the "
                                             "ledger directory from a backup\""
                                           : "");
        goto fail;
    }
    cairn_ledger_store_last_hash(self->store, tip);
    cairn_hex(tip, sizeof tip, hex);
    CAIRN_INFO("opened ledger", "path=%s size=%" PRIu64 " last_hash=%s", cairn_log_quote(path),
               cairn_ledger_store_size(self->store), hex);

    if ((rc = cairn_bus_bind(ZMQ_PUB, stream, &self->stream)) < 0) {
        CAIRN_ERROR("cannot bind ledger stream", "endpoint=%s error=%s", cairn_log_quote(stream),
                    cairn_log_quote(cairn_strerror(rc)));
        goto fail;
    }
    if ((rc = cairn_bus_bind(ZMQ_ROUTER, api, &self->api)) < 0) {
        CAIRN_ERROR("cannot bind ledger api", "endpoint=%s error=%s", cairn_log_quote(api),
                    cairn_log_quote(cairn_strerror(rc)));
        goto fail;
    }
    /* Receives never block: the loop polls, then drains what is waiting. */
    zsock_set_rcvtimeo(self->api, 0);
    CAIRN_INFO("ledger listening", "api=%s stream=%s replay_page=%" PRIu64, cairn_log_quote(api),
               cairn_log_quote(stream), self->replay_page);
    self->next_log_ms = cairn_mono_ms() + S_STATS_EVERY_MS;
    return self;
fail:
    zsock_destroy(&self->api);
    zsock_destroy(&self->stream);
    cairn_ledger_store_destroy(&self->store);
    free(self);
    return NULL;
}

void cairn_ledger_destroy(cairn_ledger_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ledger_t *self = *self_p;
    s_log_stats(self);
    zsock_destroy(&self->api);
    zsock_destroy(&self->stream);
    cairn_ledger_store_destroy(&self->store);
    free(self);
    *self_p = NULL;
}

void cairn_ledger_stats(const cairn_ledger_t *self, cairn_ledger_stats_t *out)
{
    *out = self->stats;
}

uint64_t cairn_ledger_size(const cairn_ledger_t *self)
{
    return cairn_ledger_store_size(self->store);
}

static void s_reject(cairn_ledger_t *self, s_request_t *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_reject(cairn_ledger_t *self, s_request_t *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    r->status = status;
    self->stats.bad_requests++;
}

/* Checks an append: a record with exactly one body that yields a topic. */
static void s_check_append(cairn_ledger_t *self, s_request_t *r)
{
    const Cairn__V1__AppendRequest *a = r->req->append;
    const char *key = a->key ? a->key : "";
    if (!a->record) {
        s_reject(self, r, CAIRN_EINVALID, "append carries no record");
    } else if (a->record->body_case == CAIRN__V1__RECORD__BODY__NOT_SET) {
        s_reject(self, r, CAIRN_EINVALID,
                 "record has no body: set exactly one of event, verdict, alert, receipt");
    } else {
        int rc = cairn_codec_record_topic(a->record, r->topic, sizeof r->topic);
        if (rc == CAIRN_ETOOLARGE)
            s_reject(self, r, CAIRN_EINVALID, "record topic is longer than %d bytes",
                     S_TOPIC_MAX - 1);
        else if (rc < 0 && a->record->body_case == CAIRN__V1__RECORD__BODY_EVENT)
            s_reject(self, r, CAIRN_EINVALID, "event record has no type");
        else if (rc < 0)
            s_reject(self, r, CAIRN_EINVALID, "record has no topic: %s", cairn_strerror(rc));
    }
    if (r->status != 0)
        CAIRN_WARN("rejected append", "key=%s reason=%s", cairn_log_quote(key),
                   cairn_log_quote(r->error));
}

/* Decodes one request and checks what can be checked before the store. */
static void s_decode(cairn_ledger_t *self, s_request_t *r, const uint8_t *payload, size_t len)
{
    if (cairn_codec_ledger_request_unpack(payload, len, &r->req) < 0) {
        char head[2 * S_LOG_HEAD_BYTES + 1];
        cairn_hex(payload, len < S_LOG_HEAD_BYTES ? len : S_LOG_HEAD_BYTES, head);
        s_reject(self, r, CAIRN_EPROTO, "request is not a cairn.v1.LedgerRequest (%zu bytes)", len);
        CAIRN_WARN("rejected malformed request", "bytes=%zu head=%s", len, head);
        return;
    }
    switch (r->req->body_case) {
    case CAIRN__V1__LEDGER_REQUEST__BODY_APPEND: s_check_append(self, r); break;
    case CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY:
    case CAIRN__V1__LEDGER_REQUEST__BODY_QUERY:
    case CAIRN__V1__LEDGER_REQUEST__BODY_HEAD: break;
    default:
        s_reject(self, r, CAIRN_EINVALID,
                 "request names no operation: set one of append, replay, query, head");
        CAIRN_WARN("rejected request", "reason=%s", cairn_log_quote(r->error));
        break;
    }
}

static bool s_is_append(const s_request_t *r)
{
    return r->status == 0 && r->req && r->req->body_case == CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
}

/* Appends one checked record inside the open batch. */
static int s_append_one(cairn_ledger_t *self, s_request_t *r, int64_t now_ms)
{
    const Cairn__V1__AppendRequest *a = r->req->append;
    uint8_t *record = NULL;
    size_t record_len = 0;
    /* These exact bytes are stored, hashed and served. */
    int rc = cairn_codec_pack(&a->record->base, &record, &record_len);
    if (rc < 0) {
        r->status = rc;
        snprintf(r->error, sizeof r->error, "cannot encode the record: %s", cairn_strerror(rc));
        return 0; /* the batch is untouched */
    }
    cairn_ledger_record_t in = {
        .key = a->key,
        .topic = r->topic,
        .change_id = cairn_codec_record_change(a->record),
        .appended_at_ms = now_ms,
        .record = record,
        .record_len = record_len,
    };
    rc = cairn_ledger_store_append(self->store, &in, &r->result);
    free(record);
    return rc;
}

/* Writes every checked append of the batch in one transaction. On failure no
 * append of the batch is kept, and each is answered with the error. */
static void s_write_batch(cairn_ledger_t *self, s_request_t *batch, size_t n)
{
    size_t appends = 0;
    for (size_t i = 0; i < n; i++)
        appends += s_is_append(&batch[i]);
    if (appends == 0)
        return;
    int64_t now_ms = cairn_now_ms();
    int rc = cairn_ledger_store_begin(self->store);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (s_is_append(&batch[i]))
            rc = s_append_one(self, &batch[i], now_ms);
    if (rc == 0)
        rc = cairn_ledger_store_commit(self->store);
    else
        cairn_ledger_store_abort(self->store);
    if (rc == 0) {
        self->stats.batches++;
        return;
    }
    CAIRN_ERROR("append batch failed", "appends=%zu error=%s lmdb=%s%s", appends,
                cairn_log_quote(cairn_strerror(rc)),
                cairn_log_quote(cairn_ledger_store_last_error(self->store)),
                cairn_ledger_store_full(self->store)
                    ? " hint=\"the store reached ledger.map_size; raise it and restart\""
                    : "");
    for (size_t i = 0; i < n; i++) {
        s_request_t *r = &batch[i];
        if (!s_is_append(r))
            continue;
        free(r->result.entry);
        memset(&r->result, 0, sizeof r->result);
        r->status = rc < 0 ? rc : CAIRN_ESTORE;
        snprintf(r->error, sizeof r->error,
                 "the ledger could not store the entry (%s); nothing was appended, retry with "
                 "the same key",
                 cairn_strerror(r->status));
        self->stats.store_errors++;
    }
}

/* Entries gathered for a replay or query reply. */
typedef struct {
    Cairn__V1__Entry **items; /* unpacked entries, in log order */
    size_t n, cap;            /* used and allocated slots */
    size_t bytes;             /* packed bytes gathered so far */
    size_t budget;            /* stop (replay) or fail (query) beyond this */
    bool over;                /* the budget was exceeded */
} s_gather_t;

static int s_gather_one(void *arg, uint64_t index, const uint8_t *entry, size_t len)
{
    s_gather_t *g = arg;
    if (g->n > 0 && g->bytes + len > g->budget) {
        g->over = true;
        return 1;
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        Cairn__V1__Entry **items = realloc(g->items, cap * sizeof *items);
        if (!items)
            return -ENOMEM;
        g->items = items;
        g->cap = cap;
    }
    if (cairn_codec_entry_unpack(entry, len, &g->items[g->n]) < 0)
        return CAIRN_EINTEGRITY;
    g->n++;
    g->bytes += len;
    return 0;
}

static void s_gather_free(s_gather_t *g)
{
    for (size_t i = 0; i < g->n; i++)
        CAIRN_CODEC_FREE(&g->items[i]);
    free(g->items);
    memset(g, 0, sizeof *g);
}

/* Fills the reply's entries for a replay or query; returns the status. */
static int s_read_entries(cairn_ledger_t *self, s_request_t *r, s_gather_t *g)
{
    int rc = 0;
    if (r->req->body_case == CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY) {
        const Cairn__V1__ReplayRequest *q = r->req->replay;
        uint64_t limit =
            q->limit == 0 || q->limit > self->replay_page ? self->replay_page : q->limit;
        g->budget = S_REPLAY_BUDGET;
        rc = cairn_ledger_store_read(self->store, q->from_index, limit, s_gather_one, g);
        self->stats.replays++;
    } else {
        const char *change = r->req->query->change_id ? r->req->query->change_id : "";
        g->budget = S_QUERY_BUDGET;
        rc = cairn_ledger_store_by_change(self->store, change, s_gather_one, g);
        if (rc == 0 && g->over)
            rc = CAIRN_ETOOLARGE;
        self->stats.queries++;
    }
    if (rc == CAIRN_ETOOLARGE)
        snprintf(r->error, sizeof r->error,
                 "the entries of this change exceed one reply; read them with replay");
    else if (rc < 0)
        snprintf(r->error, sizeof r->error, "cannot read the ledger: %s", cairn_strerror(rc));
    if (rc < 0 && rc != CAIRN_ETOOLARGE)
        CAIRN_ERROR("ledger read failed", "error=%s", cairn_log_quote(cairn_strerror(rc)));
    return rc;
}

/* Answers one request, then publishes the entry it appended. */
static void s_answer(cairn_ledger_t *self, s_request_t *r)
{
    Cairn__V1__LedgerReply rep = CAIRN__V1__LEDGER_REPLY__INIT;
    Cairn__V1__AppendAck ack = CAIRN__V1__APPEND_ACK__INIT;
    s_gather_t g = {0};
    uint8_t *buf = NULL;
    size_t len = 0;
    bool appended = false;

    if (r->status == 0) {
        switch (r->req->body_case) {
        case CAIRN__V1__LEDGER_REQUEST__BODY_APPEND:
            ack.index = r->result.index;
            ack.duplicate = r->result.duplicate;
            ack.hash.data = r->result.hash;
            ack.hash.len = sizeof r->result.hash;
            rep.ack = &ack;
            appended = !r->result.duplicate;
            break;
        case CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY:
        case CAIRN__V1__LEDGER_REQUEST__BODY_QUERY:
            r->status = s_read_entries(self, r, &g);
            if (r->status == 0) {
                rep.entries = g.items;
                rep.n_entries = g.n;
            }
            break;
        default: /* head */ self->stats.queries++; break;
        }
    }
    rep.status = r->status;
    rep.error = r->status != 0 ? r->error : (char *)"";
    rep.size = cairn_ledger_store_size(self->store);

    int rc = cairn_codec_pack(&rep.base, &buf, &len);
    if (rc == 0)
        rc = cairn_bus_server_reply(self->api, &r->peer, buf, len);
    if (rc < 0)
        CAIRN_WARN("cannot answer request", "error=%s", cairn_log_quote(cairn_strerror(rc)));

    if (appended) {
        const Cairn__V1__AppendRequest *a = r->req->append;
        self->stats.appends++;
        CAIRN_INFO("appended entry", "index=%" PRIu64 " topic=%s change=%s key=%s", r->result.index,
                   cairn_log_quote(r->topic), cairn_log_quote(cairn_codec_record_change(a->record)),
                   cairn_log_quote(a->key));
        rc = cairn_bus_publish(self->stream, r->topic, r->result.entry, r->result.entry_len);
        if (rc < 0) /* subscribers find the gap and replay */
            CAIRN_WARN("cannot publish entry", "index=%" PRIu64 " error=%s", r->result.index,
                       cairn_log_quote(cairn_strerror(rc)));
    } else if (r->status == 0 && rep.ack) {
        self->stats.duplicates++;
        CAIRN_INFO("duplicate append", "index=%" PRIu64 " key=%s", r->result.index,
                   cairn_log_quote(r->req->append->key));
    }
    free(buf);
    s_gather_free(&g);
}

static void s_request_clear(s_request_t *r)
{
    zframe_destroy(&r->peer);
    CAIRN_CODEC_FREE(&r->req);
    free(r->result.entry);
    memset(r, 0, sizeof *r);
}

/* Receives every request that is waiting, up to the batch size. */
static size_t s_drain(cairn_ledger_t *self)
{
    size_t n = 0;
    /* Bounded in messages too, so a flood of unanswerable ones cannot stall the loop. */
    for (size_t tries = 0; n < CAIRN_LEDGER_BATCH_MAX && tries < 2 * CAIRN_LEDGER_BATCH_MAX;
         tries++) {
        s_request_t *r = &self->batch[n];
        uint8_t *payload = NULL;
        size_t len = 0;
        int rc = cairn_bus_server_recv(self->api, &r->peer, &payload, &len);
        if (rc == CAIRN_EPROTO) {
            /* Bad framing: there is nobody to answer, so count and drop it. */
            self->stats.bad_requests++;
            CAIRN_WARN("dropped request", "reason=%s",
                       cairn_log_quote("bad framing: expected [empty][LedgerRequest] from a "
                                       "DEALER or REQ client"));
            continue;
        }
        if (rc < 0)
            break; /* nothing more waiting */
        s_decode(self, r, payload, len);
        free(payload);
        n++;
    }
    return n;
}

int cairn_ledger_run_once(cairn_ledger_t *self, int timeout_ms)
{
    zmq_pollitem_t item = {zsock_resolve(self->api), 0, ZMQ_POLLIN, 0};
    int ready = zmq_poll(&item, 1, timeout_ms);
    if (ready < 0) {
        int err = zmq_errno();
        if (err == EINTR)
            return 0;
        CAIRN_ERROR("cannot poll ledger api", "error=%s", cairn_log_quote(zmq_strerror(err)));
        return -err;
    }
    if (ready > 0) {
        size_t n = s_drain(self);
        s_write_batch(self, self->batch, n);
        for (size_t i = 0; i < n; i++) {
            s_answer(self, &self->batch[i]);
            s_request_clear(&self->batch[i]);
        }
    }
    return 0;
}

int cairn_ledger_run(cairn_ledger_t *self)
{
    int rc = 0;
    while (!cairn_signals_stop_requested()) {
        if ((rc = cairn_ledger_run_once(self, 200)) < 0)
            break;
        int64_t now = cairn_mono_ms();
        if (now >= self->next_log_ms) {
            if (memcmp(&self->stats, &self->logged, sizeof self->stats) != 0)
                s_log_stats(self);
            self->next_log_ms = now + S_STATS_EVERY_MS;
        }
    }
    return rc;
}
