/* The durable outbox (see outbox.h): messages in the store, and in memory
 * one queue per (target, group) holding the sequence numbers still to go. */
#include "outbox.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

typedef struct {
    char *qkey;     /* "<target>:<group id>" */
    char *target;   /* its target */
    uint64_t *seqs; /* waiting sequence numbers, ascending */
    size_t n;
    size_t cap;
    int64_t next_ms; /* when the head is due */
    bool inflight;   /* the head is being attempted */
    uint32_t gen;    /* bumps when next_ms changes (heap entries) */
} s_queue_t;

typedef struct {
    int64_t at;   /* when the queue's head is due */
    char *qkey;   /* which queue */
    uint32_t gen; /* the queue's gen when pushed: stale entries are skipped */
} s_due_t;

/* Per target: the queues with a head to send, earliest first, so taking
 * work costs the number of targets plus what is taken, not the backlog. */
typedef struct {
    char *name;    /* the target */
    s_due_t *heap; /* min-heap on at */
    size_t n;
    size_t cap;
    size_t inflight; /* attempts under way */
} s_target_t;

struct cairn_outbox_t {
    cairn_notify_store_t *store; /* (not owned) */
    zhashx_t *queues;            /* qkey -> s_queue_t */
    zhashx_t *targets;           /* target -> s_target_t */
    size_t pending;              /* messages waiting (heads and the rest) */
    size_t n_inflight;           /* attempts under way */
};

static void s_target_free(void **item)
{
    s_target_t *t = *item;
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->heap[i].qkey);
    free(t->heap);
    free(t->name);
    free(t);
    *item = NULL;
}

static s_target_t *s_target(cairn_outbox_t *self, const char *name)
{
    s_target_t *t = zhashx_lookup(self->targets, name);
    if (t)
        return t;
    t = calloc(1, sizeof *t);
    if (!t || !(t->name = strdup(name))) {
        free(t);
        return NULL;
    }
    zhashx_insert(self->targets, name, t);
    return t;
}

static void s_swap(s_due_t *a, s_due_t *b)
{
    s_due_t x = *a;
    *a = *b;
    *b = x;
}

static int s_heap_push(s_target_t *t, const s_queue_t *q)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        s_due_t *grown = realloc(t->heap, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        t->heap = grown;
        t->cap = cap;
    }
    char *k = strdup(q->qkey);
    if (!k)
        return -ENOMEM;
    size_t i = t->n++;
    t->heap[i] = (s_due_t){q->next_ms, k, q->gen};
    while (i > 0 && t->heap[(i - 1) / 2].at > t->heap[i].at) {
        s_swap(&t->heap[(i - 1) / 2], &t->heap[i]);
        i = (i - 1) / 2;
    }
    return 0;
}

static void s_heap_pop(s_target_t *t)
{
    free(t->heap[0].qkey);
    t->heap[0] = t->heap[--t->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && t->heap[l].at < t->heap[m].at)
            m = l;
        if (r < t->n && t->heap[r].at < t->heap[m].at)
            m = r;
        if (m == i)
            break;
        s_swap(&t->heap[i], &t->heap[m]);
        i = m;
    }
}

/* The queue a heap entry stands for, or NULL when the entry is stale. */
static s_queue_t *s_live(cairn_outbox_t *self, const s_due_t *d)
{
    s_queue_t *q = zhashx_lookup(self->queues, d->qkey);
    if (!q || q->gen != d->gen || q->inflight || q->n == 0 || q->next_ms != d->at)
        return NULL;
    return q;
}

/* The queue's head is due at next_ms: a new heap entry. */
static int s_due(cairn_outbox_t *self, s_queue_t *q, int64_t next_ms)
{
    q->next_ms = next_ms;
    q->gen++;
    s_target_t *t = s_target(self, q->target);
    return t ? s_heap_push(t, q) : -ENOMEM;
}

static void s_queue_free(void **item)
{
    s_queue_t *q = *item;
    if (!q)
        return;
    free(q->qkey);
    free(q->target);
    free(q->seqs);
    free(q);
    *item = NULL;
}

static void s_key(char out[CAIRN_OUTBOX_KEY_MAX], const char *qkey, uint64_t seq)
{
    snprintf(out, CAIRN_OUTBOX_KEY_MAX, "%.280s:%012" PRIu64, qkey, seq);
}

/* Splits "<target>:<gid>:<seq>" (target may not contain ':'). */
static int s_split(const char *key, char *qkey, size_t qlen, char *target, size_t tlen,
                   uint64_t *seq)
{
    const char *last = strrchr(key, ':');
    const char *first = strchr(key, ':');
    if (!last || !first || first == last || (size_t)(last - key) >= qlen ||
        (size_t)(first - key) >= tlen)
        return CAIRN_EINVALID;
    memcpy(qkey, key, (size_t)(last - key));
    qkey[last - key] = '\0';
    memcpy(target, key, (size_t)(first - key));
    target[first - key] = '\0';
    *seq = strtoull(last + 1, NULL, 10);
    return 0;
}

static s_queue_t *s_queue(cairn_outbox_t *self, const char *qkey, const char *target)
{
    s_queue_t *q = zhashx_lookup(self->queues, qkey);
    if (q)
        return q;
    q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    q->qkey = strdup(qkey);
    q->target = strdup(target);
    if (!q->qkey || !q->target) {
        void *p = q;
        s_queue_free(&p);
        return NULL;
    }
    zhashx_insert(self->queues, qkey, q);
    return q;
}

static int s_queue_add(s_queue_t *q, uint64_t seq)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 4;
        uint64_t *grown = realloc(q->seqs, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        q->seqs = grown;
        q->cap = cap;
    }
    size_t i = q->n;
    while (i > 0 && q->seqs[i - 1] > seq) {
        q->seqs[i] = q->seqs[i - 1];
        i--;
    }
    q->seqs[i] = seq;
    q->n++;
    return i == 0 ? 1 : 0; /* 1: a new head */
}

static void s_inflight(cairn_outbox_t *self, const char *target, intptr_t delta)
{
    s_target_t *t = s_target(self, target);
    if (t)
        t->inflight = (size_t)((intptr_t)t->inflight + delta);
    self->n_inflight = (size_t)((intptr_t)self->n_inflight + delta);
}

/* A stored message is its JSON without "parts", a NUL, then the parts'
 * bytes one after another ("part_lens" in the JSON gives their lengths).
 * The rendered bodies are then copied, not escaped and unescaped, each time
 * the message is written or read. A value without a NUL is a message kept
 * whole as JSON (what older versions wrote; still read). */
static int s_encode(json_t *msg, char **out, size_t *len_out)
{
    json_t *parts = json_incref(json_object_get(msg, "parts"));
    json_t *lens = json_array();
    size_t total = 0, i;
    json_t *p;
    char *meta = NULL, *buf = NULL;
    int rc = -ENOMEM;
    if (!lens)
        goto out;
    json_array_foreach(parts, i, p)
    {
        if (!json_is_string(p)) {
            /* Not a list of texts: kept whole. */
            json_decref(lens);
            lens = NULL;
            break;
        }
        total += json_string_length(p);
        if (json_array_append_new(lens, json_integer((json_int_t)json_string_length(p))) < 0)
            goto out;
    }
    if (lens && parts) {
        json_object_del(msg, "parts");
        json_object_set(msg, "part_lens", lens);
    }
    meta = json_dumps(msg, JSON_COMPACT);
    if (lens && parts) {
        json_object_del(msg, "part_lens");
        json_object_set(msg, "parts", parts);
    }
    if (!meta)
        goto out;
    size_t mlen = strlen(meta);
    if (!lens || !parts) {
        *out = meta;
        *len_out = mlen;
        meta = NULL;
        rc = 0;
        goto out;
    }
    if (!(buf = malloc(mlen + 1 + total)))
        goto out;
    memcpy(buf, meta, mlen + 1);
    size_t at = mlen + 1;
    json_array_foreach(parts, i, p)
    {
        memcpy(buf + at, json_string_value(p), json_string_length(p));
        at += json_string_length(p);
    }
    *out = buf;
    *len_out = at;
    buf = NULL;
    rc = 0;
out:
    json_decref(parts);
    json_decref(lens);
    free(meta);
    free(buf);
    return rc;
}

/* The message stored as val; with_parts false leaves the bodies out. */
static json_t *s_decode(const void *val, size_t vlen, bool with_parts)
{
    const char *v = val, *nul = memchr(v, '\0', vlen);
    if (!nul)
        return json_loadb(v, vlen, 0, NULL);
    json_t *msg = json_loadb(v, (size_t)(nul - v), 0, NULL);
    json_t *lens = json_incref(json_object_get(msg, "part_lens"));
    json_object_del(msg, "part_lens");
    json_t *parts = with_parts && msg ? json_array() : NULL;
    size_t at = (size_t)(nul - v) + 1, i;
    json_t *l;
    json_array_foreach(lens, i, l)
    {
        json_int_t n = json_integer_value(l);
        if (!parts)
            break;
        if (n < 0 || (size_t)n > vlen - at ||
            json_array_append_new(parts, json_stringn_nocheck(v + at, (size_t)n)) < 0) {
            json_decref(parts);
            json_decref(msg);
            msg = parts = NULL; /* damaged: not a message */
            break;
        }
        at += (size_t)n;
    }
    if (parts)
        json_object_set_new(msg, "parts", parts);
    json_decref(lens);
    return msg;
}

static int s_put(cairn_outbox_t *self, const char *key, json_t *msg)
{
    char *val = NULL;
    size_t len = 0;
    int rc = s_encode(msg, &val, &len);
    if (rc == 0)
        rc = cairn_notify_store_put(self->store, CAIRN_DB_OUTBOX, key, strlen(key), val, len);
    free(val);
    return rc;
}

static int s_get_msg(cairn_notify_store_t *store, const char *key, json_t **out)
{
    void *val = NULL;
    size_t len = 0;
    int rc = cairn_notify_store_get(store, CAIRN_DB_OUTBOX, key, strlen(key), &val, &len);
    if (rc < 0)
        return rc;
    json_t *msg = s_decode(val, len, true);
    free(val);
    if (!msg)
        return CAIRN_EINVALID;
    *out = msg;
    return 0;
}

/* Marks the attempt at key as under way: a small record beside the
 * message, so taking does not write the (large) message again. */
static int s_attempt_put(cairn_outbox_t *self, const char *key, json_int_t attempt,
                         int64_t started_ms)
{
    char val[64];
    int len =
        snprintf(val, sizeof val, "{\"attempt\":%" JSON_INTEGER_FORMAT ",\"started\":%" PRId64 "}",
                 attempt, started_ms);
    return cairn_notify_store_put(self->store, CAIRN_DB_ATTEMPTS, key, strlen(key), val,
                                  (size_t)len);
}

/* The attempt at key settled: its outcome is in the message (or the
 * message is gone). */
static int s_attempt_del(cairn_outbox_t *self, const char *key)
{
    return cairn_notify_store_del(self->store, CAIRN_DB_ATTEMPTS, key, strlen(key));
}

/* The message at key with an attempt under way folded in (state
 * "inflight", its number and start), as the loop holds it. */
static int s_get(cairn_notify_store_t *store, const char *key, json_t **out)
{
    json_t *msg = NULL, *at = NULL;
    int rc = s_get_msg(store, key, &msg);
    if (rc < 0)
        return rc;
    rc = cairn_notify_store_get_json(store, CAIRN_DB_ATTEMPTS, key, &at);
    if (rc == 0) {
        json_object_set(msg, "attempt", json_object_get(at, "attempt"));
        json_object_set(msg, "started", json_object_get(at, "started"));
        json_object_set_new(msg, "state", json_string("inflight"));
    }
    json_decref(at);
    *out = msg;
    return rc == 0 || rc == CAIRN_ENOTFOUND ? 0 : rc;
}

typedef struct {
    cairn_outbox_t *self;
    int64_t now_ms;
    zlistx_t *interrupted; /* keys */
    zhashx_t *attempts;    /* keys with an attempt under way */
} s_load_t;

/* Attempts under way when notify stopped (keys). */
static int s_load_attempt(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    (void)val;
    (void)vlen;
    char k[CAIRN_OUTBOX_KEY_MAX];
    if (klen >= sizeof k)
        return 0;
    memcpy(k, key, klen);
    k[klen] = '\0';
    return zlistx_add_end(arg, k) ? 0 : -ENOMEM;
}

static int s_load(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    s_load_t *l = arg;
    char k[CAIRN_OUTBOX_KEY_MAX], qkey[CAIRN_OUTBOX_KEY_MAX], target[CAIRN_OUTBOX_KEY_MAX];
    uint64_t seq;
    if (klen >= sizeof k)
        return 0;
    memcpy(k, key, klen);
    k[klen] = '\0';
    if (s_split(k, qkey, sizeof qkey, target, sizeof target, &seq) < 0)
        return 0;
    json_t *msg = s_decode(val, vlen, false);
    const char *state = json_string_value(json_object_get(msg, "state"));
    int rc = 0;
    if (!state || strcmp(state, "dead") == 0)
        goto out;
    if (zhashx_lookup(l->attempts, k))
        state = "inflight";
    if (strcmp(state, "inflight") == 0)
        zlistx_add_end(l->interrupted, k);
    s_queue_t *q = s_queue(l->self, qkey, target);
    if (!q) {
        rc = -ENOMEM;
        goto out;
    }
    int64_t next = json_integer_value(json_object_get(msg, "next"));
    if (strcmp(state, "inflight") == 0)
        next = l->now_ms;
    rc = s_queue_add(q, seq);
    if (rc >= 0) {
        l->self->pending++;
        /* Loading goes in key order, so the first of a queue is its head. */
        rc = rc == 1 ? s_due(l->self, q, next) : 0;
    }
out:
    json_decref(msg);
    return rc;
}

int cairn_outbox_open(cairn_notify_store_t *store, int64_t now_ms, cairn_outbox_interrupted_fn fn,
                      void *arg, cairn_outbox_t **out)
{
    cairn_outbox_t *self = calloc(1, sizeof *self);
    s_load_t l = {self, now_ms, zlistx_new(), zhashx_new()};
    zlistx_t *attempts = zlistx_new();
    int rc = -ENOMEM;
    if (!self || !l.interrupted || !l.attempts || !attempts)
        goto out;
    self->store = store;
    self->queues = zhashx_new();
    self->targets = zhashx_new();
    if (!self->queues || !self->targets)
        goto out;
    zhashx_set_destructor(self->queues, s_queue_free);
    zhashx_set_destructor(self->targets, s_target_free);
    zlistx_set_duplicator(l.interrupted, (czmq_duplicator *)strdup);
    zlistx_set_destructor(l.interrupted, (czmq_destructor *)zstr_free);
    zlistx_set_duplicator(attempts, (czmq_duplicator *)strdup);
    zlistx_set_destructor(attempts, (czmq_destructor *)zstr_free);
    if ((rc = cairn_notify_store_each(store, CAIRN_DB_ATTEMPTS, NULL, s_load_attempt, attempts)) <
        0)
        goto out;
    for (const char *k = zlistx_first(attempts); k; k = zlistx_next(attempts))
        zhashx_insert(l.attempts, k, (void *)k);
    if ((rc = cairn_notify_store_each(store, CAIRN_DB_OUTBOX, NULL, s_load, &l)) < 0)
        goto out;
    for (const char *k = zlistx_first(l.interrupted); k && rc == 0;
         k = zlistx_next(l.interrupted)) {
        json_t *msg = NULL;
        if ((rc = s_get(store, k, &msg)) < 0)
            break;
        if (fn)
            rc = fn(arg, k, msg);
        json_object_set_new(msg, "state", json_string("pending"));
        json_object_set_new(msg, "next", json_integer(now_ms));
        if (rc == 0)
            rc = s_put(self, k, msg);
        json_decref(msg);
    }
    /* Records of attempts whose message is gone (or never was) go too. */
    for (const char *k = zlistx_first(attempts); k && rc == 0; k = zlistx_next(attempts))
        rc = s_attempt_del(self, k);
    if (rc < 0)
        goto out;
    *out = self;
    self = NULL;
out:
    zhashx_destroy(&l.attempts);
    zlistx_destroy(&attempts);
    zlistx_destroy(&l.interrupted);
    cairn_outbox_destroy(&self);
    return rc;
}

void cairn_outbox_destroy(cairn_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_outbox_t *self = *self_p;
    zhashx_destroy(&self->queues);
    zhashx_destroy(&self->targets);
    free(self);
    *self_p = NULL;
}

int cairn_outbox_enqueue(cairn_outbox_t *self, const char *target, const char *group_id,
                         uint64_t seq, json_t *msg, int64_t now_ms)
{
    char qkey[CAIRN_OUTBOX_KEY_MAX], key[CAIRN_OUTBOX_KEY_MAX];
    int rc;
    snprintf(qkey, sizeof qkey, "%s:%s", target, group_id);
    s_key(key, qkey, seq);
    json_object_set_new(msg, "target", json_string(target));
    json_object_set_new(msg, "group_id", json_string(group_id));
    json_object_set_new(msg, "seq", json_integer((json_int_t)seq));
    json_object_set_new(msg, "state", json_string("pending"));
    json_object_set_new(msg, "attempt", json_integer(0));
    json_object_set_new(msg, "next", json_integer(now_ms));
    if (!json_object_get(msg, "created"))
        json_object_set_new(msg, "created", json_integer(now_ms));
    rc = s_put(self, key, msg);
    json_decref(msg);
    if (rc < 0)
        return rc;
    s_queue_t *q = s_queue(self, qkey, target);
    if (!q)
        return -ENOMEM;
    if ((rc = s_queue_add(q, seq)) < 0)
        return rc;
    self->pending++;
    return rc == 1 && !q->inflight ? s_due(self, q, now_ms) : 0;
}

size_t cairn_outbox_take(cairn_outbox_t *self, int64_t now_ms, size_t max_per_target,
                         cairn_outbox_job_t *jobs, size_t max)
{
    size_t n = 0;
    for (s_target_t *t = zhashx_first(self->targets); t && n < max;
         t = zhashx_next(self->targets)) {
        while (t->n > 0 && n < max && t->inflight < max_per_target) {
            s_queue_t *q = s_live(self, &t->heap[0]);
            if (q && q->next_ms > now_ms)
                break;
            s_heap_pop(t);
            if (!q)
                continue; /* stale */
            char key[CAIRN_OUTBOX_KEY_MAX];
            s_key(key, q->qkey, q->seqs[0]);
            json_t *msg = NULL;
            if (s_get_msg(self->store, key, &msg) < 0)
                continue;
            json_int_t attempt = json_integer_value(json_object_get(msg, "attempt")) + 1;
            json_object_set_new(msg, "attempt", json_integer(attempt));
            json_object_set_new(msg, "state", json_string("inflight"));
            json_object_set_new(msg, "started", json_integer(now_ms));
            if (s_attempt_put(self, key, attempt, now_ms) < 0) {
                json_decref(msg);
                s_due(self, q, now_ms);
                break;
            }
            q->inflight = true;
            s_inflight(self, q->target, 1);
            snprintf(jobs[n].key, sizeof jobs[n].key, "%s", key);
            jobs[n].msg = msg;
            n++;
        }
    }
    return n;
}

/* The queue of key and the position of key's sequence in it. */
static s_queue_t *s_find(cairn_outbox_t *self, const char *key, uint64_t *seq)
{
    char qkey[CAIRN_OUTBOX_KEY_MAX], target[CAIRN_OUTBOX_KEY_MAX];
    if (s_split(key, qkey, sizeof qkey, target, sizeof target, seq) < 0)
        return NULL;
    return zhashx_lookup(self->queues, qkey);
}

/* Removes seq from q (the head, normally) and settles the in-flight count. */
static void s_remove(cairn_outbox_t *self, s_queue_t *q, uint64_t seq)
{
    for (size_t i = 0; i < q->n; i++)
        if (q->seqs[i] == seq) {
            memmove(&q->seqs[i], &q->seqs[i + 1], (q->n - i - 1) * sizeof *q->seqs);
            q->n--;
            self->pending--;
            break;
        }
    if (q->inflight) {
        q->inflight = false;
        s_inflight(self, q->target, -1);
    }
    if (q->n == 0)
        zhashx_delete(self->queues, q->qkey);
}

/* The head that follows is due at once: its own "next" was when it was made. */
static int s_next_head(cairn_outbox_t *self, const char *qkey, int64_t now_ms)
{
    s_queue_t *q = zhashx_lookup(self->queues, qkey);
    if (q && q->n && !q->inflight)
        return s_due(self, q, now_ms);
    return 0;
}

int cairn_outbox_delivered(cairn_outbox_t *self, const char *key)
{
    uint64_t seq;
    s_queue_t *q = s_find(self, key, &seq);
    int rc = cairn_notify_store_del(self->store, CAIRN_DB_OUTBOX, key, strlen(key));
    if (rc == 0)
        rc = s_attempt_del(self, key);
    if (q) {
        char qkey[CAIRN_OUTBOX_KEY_MAX];
        snprintf(qkey, sizeof qkey, "%s", q->qkey);
        s_remove(self, q, seq);
        s_next_head(self, qkey, 0);
    }
    return rc;
}

int cairn_outbox_reschedule(cairn_outbox_t *self, const char *key, json_t *msg, int64_t next_ms)
{
    uint64_t seq;
    s_queue_t *q = s_find(self, key, &seq);
    json_object_set_new(msg, "state", json_string("pending"));
    json_object_set_new(msg, "next", json_integer(next_ms));
    int rc = s_put(self, key, msg);
    if (rc == 0)
        rc = s_attempt_del(self, key);
    if (q) {
        if (q->inflight) {
            q->inflight = false;
            s_inflight(self, q->target, -1);
        }
        if (rc == 0)
            rc = s_due(self, q, next_ms);
    }
    return rc;
}

int cairn_outbox_dead(cairn_outbox_t *self, const char *key, json_t *msg, int64_t now_ms)
{
    uint64_t seq;
    s_queue_t *q = s_find(self, key, &seq);
    json_object_set_new(msg, "state", json_string("dead"));
    json_object_set_new(msg, "dead_at", json_integer(now_ms));
    int rc = s_put(self, key, msg);
    if (rc == 0)
        rc = s_attempt_del(self, key);
    if (q) {
        char qkey[CAIRN_OUTBOX_KEY_MAX];
        snprintf(qkey, sizeof qkey, "%s", q->qkey);
        s_remove(self, q, seq);
        s_next_head(self, qkey, now_ms);
    }
    return rc;
}

int cairn_outbox_kill_target(cairn_outbox_t *self, const char *target, const char *reason,
                             int64_t now_ms, cairn_outbox_interrupted_fn fn, void *arg)
{
    zlistx_t *keys = zlistx_new();
    int rc = 0;
    if (!keys)
        return -ENOMEM;
    zlistx_set_duplicator(keys, (czmq_duplicator *)strdup);
    zlistx_set_destructor(keys, (czmq_destructor *)zstr_free);
    size_t tlen = strlen(target);
    for (s_queue_t *q = zhashx_first(self->queues); q; q = zhashx_next(self->queues)) {
        if (strncmp(q->qkey, target, tlen) != 0 || q->qkey[tlen] != ':')
            continue;
        for (size_t i = q->inflight ? 1 : 0; i < q->n; i++) {
            char key[CAIRN_OUTBOX_KEY_MAX];
            s_key(key, q->qkey, q->seqs[i]);
            zlistx_add_end(keys, key);
        }
    }
    for (const char *k = zlistx_first(keys); k && rc == 0; k = zlistx_next(keys)) {
        json_t *msg = NULL;
        if ((rc = s_get_msg(self->store, k, &msg)) < 0)
            break;
        json_object_set_new(msg, "last_error", json_string(reason));
        if (fn)
            rc = fn(arg, k, msg);
        if (rc == 0) {
            uint64_t seq;
            s_queue_t *q = s_find(self, k, &seq);
            json_object_set_new(msg, "state", json_string("dead"));
            json_object_set_new(msg, "dead_at", json_integer(now_ms));
            rc = s_put(self, k, msg);
            if (q) {
                /* Only waiting messages: the in-flight head settles itself. */
                for (size_t i = 0; i < q->n; i++)
                    if (q->seqs[i] == seq) {
                        memmove(&q->seqs[i], &q->seqs[i + 1], (q->n - i - 1) * sizeof *q->seqs);
                        q->n--;
                        self->pending--;
                        break;
                    }
                if (q->n == 0 && !q->inflight)
                    zhashx_delete(self->queues, q->qkey);
                else if (!q->inflight && rc == 0)
                    rc = s_due(self, q, now_ms);
            }
        }
        json_decref(msg);
    }
    zlistx_destroy(&keys);
    return rc;
}

int64_t cairn_outbox_next_due(const cairn_outbox_t *self, size_t max_per_target)
{
    int64_t next = INT64_MAX;
    cairn_outbox_t *me = (cairn_outbox_t *)self; /* drops stale entries on the way */
    for (s_target_t *t = zhashx_first(me->targets); t; t = zhashx_next(me->targets)) {
        while (t->n > 0 && !s_live(me, &t->heap[0]))
            s_heap_pop(t);
        if (t->n > 0 && t->heap[0].at < next && t->inflight < max_per_target)
            next = t->heap[0].at;
    }
    return next;
}

size_t cairn_outbox_pending(const cairn_outbox_t *self)
{
    return self->pending;
}

size_t cairn_outbox_inflight(const cairn_outbox_t *self)
{
    return self->n_inflight;
}

typedef struct {
    json_t *arr; /* dead letters found */
    size_t max;
} s_dead_t;

static int s_dead_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    s_dead_t *d = arg;
    json_t *msg = s_decode(val, vlen, false);
    const char *state = json_string_value(json_object_get(msg, "state"));
    if (state && strcmp(state, "dead") == 0) {
        json_object_set_new(msg, "key", json_stringn(key, klen));
        json_object_del(msg, "parts");
        json_array_append_new(d->arr, msg);
        msg = NULL;
    }
    json_decref(msg);
    return json_array_size(d->arr) >= d->max ? 1 : 0;
}

int cairn_outbox_dead_letters(cairn_outbox_t *self, size_t max, json_t **out)
{
    s_dead_t d = {json_array(), max ? max : 100};
    if (!d.arr)
        return -ENOMEM;
    int rc = cairn_notify_store_each(self->store, CAIRN_DB_OUTBOX, NULL, s_dead_one, &d);
    if (rc < 0) {
        json_decref(d.arr);
        return rc;
    }
    *out = d.arr;
    return 0;
}
