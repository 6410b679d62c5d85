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
    zsock_t *router;      /* used only by the thread once it runs */
    pthread_t thread;     /* answers requests */
    atomic_bool stop;     /* asks the thread to end */
    atomic_bool silent;   /* read requests but never answer */
    pthread_mutex_t lock; /* guards entries and n */
    s_entry_t *entries;   /* appended entries, in order */
    size_t n;             /* how many */
};

static void s_answer(fake_ledger_t *self, zframe_t **peer, const Cairn__V1__LedgerRequest *req)
{
    Cairn__V1__LedgerReply reply = CAIRN__V1__LEDGER_REPLY__INIT;
    Cairn__V1__AppendAck ack = CAIRN__V1__APPEND_ACK__INIT;
    if (req->body_case != CAIRN__V1__LEDGER_REQUEST__BODY_APPEND || !req->append->record) {
        reply.status = CAIRN_EINVALID;
        reply.error = "the fake ledger only appends";
    } else {
        pthread_mutex_lock(&self->lock);
        size_t index = self->n;
        bool duplicate = false;
        for (size_t i = 0; i < self->n; i++) {
            if (*req->append->key && strcmp(self->entries[i].key, req->append->key) == 0) {
                index = i;
                duplicate = true;
            }
        }
        if (!duplicate) {
            s_entry_t *grown = realloc(self->entries, (self->n + 1) * sizeof *grown);
            if (grown) {
                self->entries = grown;
                s_entry_t *e = &grown[self->n++];
                e->key = strdup(req->append->key);
                cairn_codec_pack(&req->append->record->base, &e->record, &e->len);
            }
        }
        reply.size = self->n;
        pthread_mutex_unlock(&self->lock);
        ack.index = index;
        ack.duplicate = duplicate;
        reply.ack = &ack;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    if (cairn_codec_pack(&reply.base, &buf, &len) == 0)
        cairn_bus_server_reply(self->router, peer, buf, len);
    zframe_destroy(peer);
    free(buf);
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
