/* Pending ledger appends (see ledger_out.h). */
#include "ledger_out.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/log.h"
#include "cairn/util.h"

/* Appends sent together. */
#define S_PIPELINE 128
/* Pause after the ledger failed. */
#define S_PAUSE_MS 1000

struct cairn_ledger_out_t {
    cairn_notify_store_t *store; /* the queue lives here (not owned) */
    char *endpoint;              /* bus.ledger_api */
    zsock_t *dealer;             /* rebuilt after a timeout */
    int timeout_ms;              /* bus.request_timeout */
    size_t pending;              /* records waiting */
    int64_t hold_until_ms;       /* monotonic: no try before */
    int failing;                 /* the last try failed */
    bool waiting;                /* a batch is out, answers are due */
    int64_t deadline_ms;         /* monotonic: when the batch times out */
    uint8_t keys[S_PIPELINE][8]; /* queue keys of the batch */
    uint8_t *reqs[S_PIPELINE];   /* its packed requests */
    size_t lens[S_PIPELINE];
    size_t n;        /* requests in the batch */
    size_t answered; /* answers received */
    bool all_ok;     /* every answer was an ack */
    char why[256];   /* the first refusal */
};

static void s_drop_batch(cairn_ledger_out_t *self);

static int s_count(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    (*(size_t *)arg)++;
    return 0;
}

int cairn_ledger_out_new(cairn_notify_store_t *store, const char *endpoint, int timeout_ms,
                         cairn_ledger_out_t **out)
{
    cairn_ledger_out_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->store = store;
    self->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    self->endpoint = strdup(endpoint);
    int rc = self->endpoint ? 0 : -ENOMEM;
    if (rc == 0)
        rc = cairn_notify_store_each(store, CAIRN_DB_LEDGER_OUT, NULL, s_count, &self->pending);
    if (rc < 0) {
        cairn_ledger_out_destroy(&self);
        return rc;
    }
    *out = self;
    return 0;
}

void cairn_ledger_out_destroy(cairn_ledger_out_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ledger_out_t *self = *self_p;
    s_drop_batch(self);
    zsock_destroy(&self->dealer);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

int cairn_ledger_out_add(cairn_ledger_out_t *self, const char *key, const Cairn__V1__Record *rec)
{
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__AppendRequest append = CAIRN__V1__APPEND_REQUEST__INIT;
    uint8_t *buf = NULL, k[8];
    size_t len = 0;
    uint64_t seq = 0;
    append.key = (char *)key;
    append.record = (Cairn__V1__Record *)rec;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = &append;
    int rc = cairn_notify_store_get_u64(self->store, "ledger_out_seq", &seq);
    if (rc < 0 && rc != CAIRN_ENOTFOUND)
        return rc;
    seq++;
    if ((rc = cairn_codec_pack(&req.base, &buf, &len)) < 0)
        return rc;
    cairn_u64_to_key(seq, k);
    rc = cairn_notify_store_put(self->store, CAIRN_DB_LEDGER_OUT, k, 8, buf, len);
    free(buf);
    if (rc == 0)
        rc = cairn_notify_store_put_u64(self->store, "ledger_out_seq", seq);
    if (rc == 0)
        self->pending++;
    return rc;
}

static int s_collect(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    cairn_ledger_out_t *self = arg;
    if (klen != 8)
        return 0;
    uint8_t *copy = malloc(vlen ? vlen : 1);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, val, vlen);
    memcpy(self->keys[self->n], key, 8);
    self->reqs[self->n] = copy;
    self->lens[self->n] = vlen;
    self->n++;
    return self->n >= S_PIPELINE ? 1 : 0;
}

static void s_drop_batch(cairn_ledger_out_t *self)
{
    for (size_t i = 0; i < self->n; i++)
        free(self->reqs[i]);
    self->n = 0;
    self->answered = 0;
    self->all_ok = true;
    self->why[0] = '\0';
    self->waiting = false;
}

static void s_fail(cairn_ledger_out_t *self, const char *why)
{
    if (!self->failing)
        CAIRN_WARN("cannot append to the ledger; will retry", "pending=%zu error=%s", self->pending,
                   cairn_log_quote(why));
    self->failing = 1;
    self->hold_until_ms = cairn_mono_ms() + S_PAUSE_MS;
    /* A late answer must not be read as the answer to the next batch. */
    zsock_destroy(&self->dealer);
    s_drop_batch(self);
}

/* Reads the answers that are there; settles the batch when complete. */
static int s_receive(cairn_ledger_out_t *self, size_t *acked)
{
    while (self->waiting && self->answered < self->n && (zsock_events(self->dealer) & ZMQ_POLLIN)) {
        zmsg_t *msg = zmsg_recv(self->dealer);
        zframe_t *body = msg && zmsg_size(msg) == 2 ? zmsg_last(msg) : NULL;
        Cairn__V1__LedgerReply *reply = NULL;
        if (!body ||
            cairn_codec_ledger_reply_unpack(zframe_data(body), zframe_size(body), &reply) < 0 ||
            reply->status != 0 || !reply->ack) {
            self->all_ok = false;
            if (!self->why[0])
                snprintf(self->why, sizeof self->why, "%s",
                         reply && reply->error && *reply->error ? reply->error
                                                                : "bad or refused append");
        }
        CAIRN_CODEC_FREE(&reply);
        zmsg_destroy(&msg);
        self->answered++;
    }
    if (!self->waiting || self->answered < self->n)
        return 0;
    if (!self->all_ok) {
        char why[256];
        snprintf(why, sizeof why, "%s", self->why);
        s_fail(self, why);
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; i < self->n && rc == 0; i++)
        rc = cairn_notify_store_del(self->store, CAIRN_DB_LEDGER_OUT, self->keys[i], 8);
    if (rc < 0)
        return rc;
    if (self->failing)
        CAIRN_INFO("ledger takes appends again", "pending=%zu", self->pending - self->n);
    self->failing = 0;
    self->pending -= self->n;
    *acked += self->n;
    s_drop_batch(self);
    return 0;
}

int cairn_ledger_out_flush(cairn_ledger_out_t *self, size_t *acked)
{
    int rc;
    *acked = 0;
    if (self->waiting) {
        if ((rc = s_receive(self, acked)) < 0)
            return rc;
        if (self->waiting && cairn_mono_ms() >= self->deadline_ms)
            s_fail(self, cairn_strerror(CAIRN_ETIMEOUT));
        if (self->waiting)
            return 0;
    }
    if (self->pending == 0 || cairn_mono_ms() < self->hold_until_ms)
        return 0;
    if ((rc = cairn_notify_store_each(self->store, CAIRN_DB_LEDGER_OUT, NULL, s_collect, self)) <
        0) {
        s_drop_batch(self);
        return rc;
    }
    if (self->n == 0) {
        self->pending = 0;
        return 0;
    }
    if (!self->dealer && cairn_bus_connect(ZMQ_DEALER, self->endpoint, NULL, &self->dealer) < 0) {
        s_fail(self, "cannot connect");
        return 0;
    }
    for (size_t i = 0; i < self->n; i++) {
        zmsg_t *msg = zmsg_new();
        zmsg_addmem(msg, NULL, 0);
        zmsg_addmem(msg, self->reqs[i], self->lens[i]);
        if (zmsg_send(&msg, self->dealer) != 0) {
            zmsg_destroy(&msg);
            s_fail(self, "cannot send");
            return 0;
        }
    }
    self->waiting = true;
    self->answered = 0;
    self->all_ok = true;
    self->why[0] = '\0';
    self->deadline_ms = cairn_mono_ms() + self->timeout_ms;
    return 0;
}

void *cairn_ledger_out_socket(cairn_ledger_out_t *self)
{
    return self->waiting && self->dealer ? zsock_resolve(self->dealer) : NULL;
}

int64_t cairn_ledger_out_due_ms(const cairn_ledger_out_t *self)
{
    if (self->waiting)
        return self->deadline_ms;
    if (self->pending)
        return self->hold_until_ms;
    return INT64_MAX;
}

size_t cairn_ledger_out_pending(const cairn_ledger_out_t *self)
{
    return self->pending;
}

int cairn_ledger_out_failing(const cairn_ledger_out_t *self)
{
    return self->failing;
}
