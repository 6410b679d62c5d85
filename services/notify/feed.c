/* The in-platform feed and inbox (see feed.h). */
#include "feed.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "notify_codec.h"

#define S_DEFAULT_LIMIT 20
#define S_MAX_LIMIT 1000

typedef struct {
    char *topic;    /* feed.<receiver> */
    uint8_t *bytes; /* packed InboxItem */
    size_t len;
} s_out_t;

struct cairn_feed_t {
    zsock_t *pub;                /* bus.notify_feed, or NULL */
    cairn_notify_store_t *store; /* the inbox lives here (not owned) */
    size_t keep;                 /* items kept */
    s_out_t *queue;              /* to publish after the commit */
    size_t n_queue;
    size_t cap_queue;
};

int cairn_feed_new(const char *endpoint, cairn_notify_store_t *store, size_t keep,
                   cairn_feed_t **out)
{
    cairn_feed_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->store = store;
    self->keep = keep ? keep : 1000;
    if (endpoint && *endpoint) {
        int rc = cairn_bus_bind(ZMQ_PUB, endpoint, &self->pub);
        if (rc < 0) {
            free(self);
            return rc;
        }
    }
    *out = self;
    return 0;
}

static void s_drop_queue(cairn_feed_t *self)
{
    for (size_t i = 0; i < self->n_queue; i++) {
        free(self->queue[i].topic);
        free(self->queue[i].bytes);
    }
    self->n_queue = 0;
}

void cairn_feed_destroy(cairn_feed_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_feed_t *self = *self_p;
    s_drop_queue(self);
    free(self->queue);
    zsock_destroy(&self->pub);
    free(self);
    *self_p = NULL;
}

typedef struct {
    uint64_t before; /* delete keys below this */
    uint64_t *keys;
    size_t n;
    size_t cap;
} s_old_t;

static int s_old_scan(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    s_old_t *o = arg;
    if (klen != 8)
        return 0;
    uint64_t k = cairn_key_to_u64(key);
    if (k >= o->before)
        return 1;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        uint64_t *grown = realloc(o->keys, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        o->keys = grown;
        o->cap = cap;
    }
    o->keys[o->n++] = k;
    return 0;
}

int cairn_feed_add(cairn_feed_t *self, Cairn__V1__InboxItem *item)
{
    uint64_t seq = 0;
    int rc = cairn_notify_store_get_u64(self->store, "inbox_seq", &seq);
    if (rc < 0 && rc != CAIRN_ENOTFOUND)
        return rc;
    item->seq = ++seq;
    uint8_t *buf = NULL, key[8];
    size_t len = 0;
    if ((rc = cairn_codec_pack(&item->base, &buf, &len)) < 0)
        return rc;
    cairn_u64_to_key(seq, key);
    if ((rc = cairn_notify_store_put(self->store, CAIRN_DB_INBOX, key, 8, buf, len)) < 0 ||
        (rc = cairn_notify_store_put_u64(self->store, "inbox_seq", seq)) < 0) {
        free(buf);
        return rc;
    }
    /* Keep the newest `keep` items. */
    if (seq > self->keep && seq % 64 == 0) {
        s_old_t o = {.before = seq - self->keep + 1};
        rc = cairn_notify_store_each(self->store, CAIRN_DB_INBOX, NULL, s_old_scan, &o);
        for (size_t i = 0; rc >= 0 && i < o.n; i++) {
            uint8_t k[8];
            cairn_u64_to_key(o.keys[i], k);
            rc = cairn_notify_store_del(self->store, CAIRN_DB_INBOX, k, 8);
        }
        free(o.keys);
        if (rc < 0) {
            free(buf);
            return rc;
        }
    }
    if (!self->pub) {
        free(buf);
        return 0;
    }
    if (self->n_queue == self->cap_queue) {
        size_t cap = self->cap_queue ? self->cap_queue * 2 : 16;
        s_out_t *grown = realloc(self->queue, cap * sizeof *grown);
        if (!grown) {
            free(buf);
            return -ENOMEM;
        }
        self->queue = grown;
        self->cap_queue = cap;
    }
    size_t tlen = strlen(item->receiver ? item->receiver : "") + 6;
    char *topic = malloc(tlen);
    if (!topic) {
        free(buf);
        return -ENOMEM;
    }
    snprintf(topic, tlen, "feed.%s", item->receiver ? item->receiver : "");
    self->queue[self->n_queue++] = (s_out_t){topic, buf, len};
    return 0;
}

void cairn_feed_publish(cairn_feed_t *self)
{
    for (size_t i = 0; i < self->n_queue; i++)
        cairn_bus_publish(self->pub, self->queue[i].topic, self->queue[i].bytes,
                          self->queue[i].len);
    s_drop_queue(self);
}

typedef struct {
    const Cairn__V1__InboxQuery *q;
    Cairn__V1__NotifyReply *reply;
    size_t limit;
    int rc;
} s_query_t;

static bool s_has_role(const Cairn__V1__InboxItem *it, const char *role)
{
    for (size_t i = 0; i < it->n_roles; i++)
        if (strcmp(it->roles[i], role) == 0)
            return true;
    return false;
}

static int s_query_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    s_query_t *s = arg;
    Cairn__V1__InboxItem *it = NULL;
    if (cairn_notify_codec_item_unpack(val, vlen, &it) < 0)
        return 0;
    bool keep = (!s->q->role || !*s->q->role || s_has_role(it, s->q->role)) &&
                (!s->q->change_id || !*s->q->change_id ||
                 (it->change_id && strcmp(it->change_id, s->q->change_id) == 0));
    if (!keep) {
        CAIRN_CODEC_FREE(&it);
        return 0;
    }
    Cairn__V1__InboxItem **grown =
        realloc(s->reply->items, (s->reply->n_items + 1) * sizeof *grown);
    if (!grown) {
        CAIRN_CODEC_FREE(&it);
        return -ENOMEM;
    }
    s->reply->items = grown;
    s->reply->items[s->reply->n_items++] = it;
    return s->reply->n_items >= s->limit ? 1 : 0;
}

int cairn_feed_query(cairn_feed_t *self, const Cairn__V1__InboxQuery *q,
                     Cairn__V1__NotifyReply *reply)
{
    s_query_t s = {q, reply, q->limit ? q->limit : S_DEFAULT_LIMIT, 0};
    if (s.limit > S_MAX_LIMIT)
        s.limit = S_MAX_LIMIT;
    return cairn_notify_store_each_reverse(self->store, CAIRN_DB_INBOX, s_query_one, &s);
}

void cairn_feed_query_free(Cairn__V1__NotifyReply *reply)
{
    for (size_t i = 0; i < reply->n_items; i++)
        CAIRN_CODEC_FREE(&reply->items[i]);
    free(reply->items);
    reply->items = NULL;
    reply->n_items = 0;
}
