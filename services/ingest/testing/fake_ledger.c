/* A stand-in ledger for ingest's unit tests (see fake_ledger.h). */
#include "fake_ledger.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/error.h"

typedef struct {
    char *key;       /* idempotency key */
    uint8_t *record; /* packed Record */
    size_t len;      /* bytes in record */
} s_entry_t;

struct fake_ledger_t {
    zsock_t *router;       /* used only by the thread once it runs */
    pthread_t thread;      /* answers requests */
    atomic_bool stop;      /* asks the thread to end */
    atomic_bool silent;    /* read requests but never answer */
    atomic_size_t batches; /* append_batch requests answered */
    pthread_mutex_t lock;  /* guards entries and n */
    s_entry_t *entries;    /* appended entries, in order */
    size_t n;              /* how many */
};

/* Appends one record under its key (or finds the key); fills *ack. */
static void s_append(fake_ledger_t *self, const Cairn__V1__AppendRequest *append,
                     Cairn__V1__AppendAck *ack)
{
    pthread_mutex_lock(&self->lock);
    size_t index = self->n;
    bool duplicate = false;
    for (size_t i = 0; i < self->n; i++) {
        if (*append->key && strcmp(self->entries[i].key, append->key) == 0) {
            index = i;
            duplicate = true;
        }
    }
    if (!duplicate) {
        s_entry_t *grown = realloc(self->entries, (self->n + 1) * sizeof *grown);
        if (grown) {
            self->entries = grown;
            s_entry_t *e = &grown[self->n++];
            e->key = strdup(append->key);
            cairn_codec_pack(&append->record->base, &e->record, &e->len);
        }
    }
    pthread_mutex_unlock(&self->lock);
    ack->index = index;
    ack->duplicate = duplicate;
}

static bool s_appendable(const Cairn__V1__AppendRequest *append)
{
    return append && append->record;
}

static void s_answer(fake_ledger_t *self, zframe_t **peer, const Cairn__V1__LedgerRequest *req)
{
    Cairn__V1__LedgerReply reply = CAIRN__V1__LEDGER_REPLY__INIT;
    Cairn__V1__AppendAck ack = CAIRN__V1__APPEND_ACK__INIT;
    Cairn__V1__AppendAck *acks = NULL;
    Cairn__V1__AppendResult *results = NULL, **ptrs = NULL;
    if (req->body_case == CAIRN__V1__LEDGER_REQUEST__BODY_APPEND && s_appendable(req->append)) {
        s_append(self, req->append, &ack);
        reply.ack = &ack;
    } else if (req->body_case == CAIRN__V1__LEDGER_REQUEST__BODY_APPEND_BATCH &&
               req->append_batch->n_appends > 0) {
        size_t n = req->append_batch->n_appends;
        acks = calloc(n, sizeof *acks);
        results = calloc(n, sizeof *results);
        ptrs = calloc(n, sizeof *ptrs);
        if (!acks || !results || !ptrs) {
            reply.status = -ENOMEM;
            reply.error = "the fake ledger is out of memory";
        } else {
            for (size_t i = 0; i < n; i++) {
                const Cairn__V1__AppendRequest *a = req->append_batch->appends[i];
                cairn__v1__append_ack__init(&acks[i]);
                cairn__v1__append_result__init(&results[i]);
                if (s_appendable(a)) {
                    s_append(self, a, &acks[i]);
                    results[i].ack = &acks[i];
                } else {
                    results[i].status = CAIRN_EINVALID;
                    results[i].error = "an append carries no record";
                }
                ptrs[i] = &results[i];
            }
            reply.results = ptrs;
            reply.n_results = n;
            atomic_fetch_add(&self->batches, 1);
        }
    } else {
        reply.status = CAIRN_EINVALID;
        reply.error = "the fake ledger only appends";
    }
    reply.size = fake_ledger_size(self);
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cairn_codec_pack(&reply.base, &buf, &len) == 0)
        cairn_bus_server_reply(self->router, peer, buf, len);
    zframe_destroy(peer);
    free(buf);
    free(acks);
    free(results);
    free(ptrs);
}

static void *s_run(void *arg)
{
    fake_ledger_t *self = arg;
    while (!atomic_load(&self->stop)) {
        zmq_pollitem_t item = {zsock_resolve(self->router), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 20) <= 0)
            continue;
        zframe_t *peer = NULL;
        uint8_t *payload = NULL;
        size_t len = 0;
        if (cairn_bus_server_recv(self->router, &peer, &payload, &len) < 0)
            continue;
        Cairn__V1__LedgerRequest *req = NULL;
        if (!atomic_load(&self->silent) &&
            cairn_codec_ledger_request_unpack(payload, len, &req) == 0)
            s_answer(self, &peer, req);
        CAIRN_CODEC_FREE(&req);
        zframe_destroy(&peer);
        free(payload);
    }
    return NULL;
}

fake_ledger_t *fake_ledger_start(const char *endpoint)
{
    fake_ledger_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    if (cairn_bus_bind(ZMQ_ROUTER, endpoint, &self->router) < 0 ||
        pthread_create(&self->thread, NULL, s_run, self) != 0) {
        zsock_destroy(&self->router);
        pthread_mutex_destroy(&self->lock);
        free(self);
        return NULL;
    }
    return self;
}

void fake_ledger_stop(fake_ledger_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    fake_ledger_t *self = *self_p;
    atomic_store(&self->stop, true);
    pthread_join(self->thread, NULL);
    zsock_destroy(&self->router);
    for (size_t i = 0; i < self->n; i++) {
        free(self->entries[i].key);
        free(self->entries[i].record);
    }
    free(self->entries);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

void fake_ledger_set_silent(fake_ledger_t *self, bool silent)
{
    atomic_store(&self->silent, silent);
}

size_t fake_ledger_batches(fake_ledger_t *self)
{
    return atomic_load(&self->batches);
}

size_t fake_ledger_size(fake_ledger_t *self)
{
    pthread_mutex_lock(&self->lock);
    size_t n = self->n;
    pthread_mutex_unlock(&self->lock);
    return n;
}

int fake_ledger_entry(fake_ledger_t *self, size_t index, char **key_out,
                      Cairn__V1__Record **record_out)
{
    int rc = CAIRN_ENOTFOUND;
    pthread_mutex_lock(&self->lock);
    if (index < self->n) {
        rc = cairn_codec_record_unpack(self->entries[index].record, self->entries[index].len,
                                       record_out);
        if (rc == 0) {
            *key_out = strdup(self->entries[index].key);
            if (!*key_out) {
                CAIRN_CODEC_FREE(record_out);
                rc = -ENOMEM;
            }
        }
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}
