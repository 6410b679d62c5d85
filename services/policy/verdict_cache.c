/* The verdict cache (see verdict_cache.h).
 *
 * A verdict is kept packed without its evaluated_at_ms (field 16), split
 * where the fields after 16 begin. A reply is then written directly in the
 * wire format: PolicyReply field 3 (the verdict: the bytes before the
 * split, field 16 with the query's time, the bytes after it) and field 5
 * (applied_index). protobuf-c writes fields in field-number order and
 * leaves out proto3 defaults, so these are the exact bytes it would write
 * for the same reply (verdict_cache_test checks that). */
#include "verdict_cache.h"

#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

typedef struct s_entry_t {
    char *change_id;         /* the change */
    cairn_policy_t *policy;  /* the policy it was computed with (one reference) */
    uint8_t *state;          /* the change's stored bytes it was computed from */
    size_t state_len;        /* bytes in state */
    char *environment;       /* the environment evaluated for */
    int64_t at_ms;           /* evaluation time */
    int64_t until_ms;        /* holds until (exclusive) */
    size_t n_gates;          /* gates of the policy */
    uint8_t **verdict;       /* per gate: packed verdict without field 16 (NULL: none) */
    size_t *len;             /* per gate: bytes in verdict */
    size_t *split;           /* per gate: where the fields after 16 begin */
    size_t bytes;            /* memory accounted to the entry */
    struct s_entry_t *newer; /* LRU neighbours */
    struct s_entry_t *older;
} s_entry_t;

struct cairn_verdict_cache_t {
    pthread_mutex_t lock; /* guards everything below */
    zhashx_t *by_change;  /* change id -> entry (the list owns the entries) */
    s_entry_t *newest;    /* most recently used */
    s_entry_t *oldest;    /* evicted first */
    size_t bytes;         /* accounted to all entries */
    size_t budget;        /* most bytes held */
    uint64_t hits, misses;
};

static void s_entry_free(s_entry_t *e)
{
    if (!e)
        return;
    for (size_t i = 0; e->verdict && i < e->n_gates; i++)
        free(e->verdict[i]);
    free(e->verdict);
    free(e->len);
    free(e->split);
    free(e->change_id);
    free(e->state);
    free(e->environment);
    cairn_policy_unref(&e->policy);
    free(e);
}

cairn_verdict_cache_t *cairn_verdict_cache_new(size_t budget_bytes)
{
    cairn_verdict_cache_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    if (!(self->by_change = zhashx_new())) {
        free(self);
        return NULL;
    }
    pthread_mutex_init(&self->lock, NULL);
    self->budget = budget_bytes;
    return self;
}

void cairn_verdict_cache_destroy(cairn_verdict_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_verdict_cache_t *self = *self_p;
    s_entry_t *e = self->newest;
    while (e) {
        s_entry_t *next = e->older;
        s_entry_free(e);
        e = next;
    }
    zhashx_destroy(&self->by_change);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

static void s_unlink(cairn_verdict_cache_t *self, s_entry_t *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        self->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        self->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void s_push_front(cairn_verdict_cache_t *self, s_entry_t *e)
{
    e->older = self->newest;
    e->newer = NULL;
    if (self->newest)
        self->newest->newer = e;
    self->newest = e;
    if (!self->oldest)
        self->oldest = e;
}

static void s_remove(cairn_verdict_cache_t *self, s_entry_t *e)
{
    s_unlink(self, e);
    zhashx_delete(self->by_change, e->change_id);
    self->bytes -= e->bytes;
    s_entry_free(e);
}

/* Reads a varint at *pos; false when malformed. */
static bool s_varint(const uint8_t *b, size_t len, size_t *pos, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (*pos >= len)
            return false;
        uint8_t byte = b[(*pos)++];
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

/* Where the first field numbered above 16 begins (len when none). */
static int s_split(const uint8_t *b, size_t len, size_t *out)
{
    size_t pos = 0;
    while (pos < len) {
        size_t start = pos;
        uint64_t tag, n;
        if (!s_varint(b, len, &pos, &tag))
            return CAIRN_EPROTO;
        if ((tag >> 3) > 16) {
            *out = start;
            return 0;
        }
        switch (tag & 7) {
        case 0:
            if (!s_varint(b, len, &pos, &n))
                return CAIRN_EPROTO;
            break;
        case 1: pos += 8; break;
        case 2:
            if (!s_varint(b, len, &pos, &n) || n > len - pos)
                return CAIRN_EPROTO;
            pos += (size_t)n;
            break;
        case 5: pos += 4; break;
        default: return CAIRN_EPROTO;
        }
        if (pos > len)
            return CAIRN_EPROTO;
    }
    *out = len;
    return 0;
}

static size_t s_put_varint(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

static bool s_same_env(const char *entry, const char *asked)
{
    return !asked || !*asked || strcmp(entry, asked) == 0;
}

static bool s_same_basis(const s_entry_t *e, const cairn_policy_t *policy, const uint8_t *state,
                         size_t state_len)
{
    return e->policy == policy && e->state_len == state_len &&
           memcmp(e->state, state, state_len) == 0;
}

static s_entry_t *s_entry_new(const cairn_cache_basis_t *b)
{
    s_entry_t *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    size_t n = b->policy->n_gates ? b->policy->n_gates : 1;
    e->n_gates = b->policy->n_gates;
    e->change_id = strdup(b->change_id);
    e->environment = strdup(b->environment ? b->environment : "");
    e->state = malloc(b->state_len ? b->state_len : 1);
    e->verdict = calloc(n, sizeof *e->verdict);
    e->len = calloc(n, sizeof *e->len);
    e->split = calloc(n, sizeof *e->split);
    if (!e->change_id || !e->environment || !e->state || !e->verdict || !e->len || !e->split) {
        s_entry_free(e);
        return NULL;
    }
    memcpy(e->state, b->state, b->state_len);
    e->state_len = b->state_len;
    e->policy = cairn_policy_ref(b->policy);
    e->at_ms = b->at_ms;
    e->until_ms = b->valid_until_ms;
    e->bytes = sizeof *e + strlen(e->change_id) + strlen(e->environment) + b->state_len +
               n * (sizeof *e->verdict + sizeof *e->len + sizeof *e->split) + 64;
    return e;
}

int cairn_verdict_cache_put(cairn_verdict_cache_t *self, const cairn_cache_basis_t *basis,
                            size_t gi, const Cairn__V1__Verdict *v)
{
    if (gi >= basis->policy->n_gates || basis->valid_until_ms <= basis->at_ms)
        return 0;
    /* The verdict without its time: the time is the query's. */
    Cairn__V1__Verdict timeless = *v;
    timeless.evaluated_at_ms = 0;
    uint8_t *buf = NULL;
    size_t len = 0, split = 0;
    int rc = cairn_codec_pack(&timeless.base, &buf, &len);
    if (rc == 0)
        rc = s_split(buf, len, &split);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    const char *env = basis->environment ? basis->environment : "";
    pthread_mutex_lock(&self->lock);
    s_entry_t *e = zhashx_lookup(self->by_change, basis->change_id);
    /* Same inputs at a time the entry still holds: the same evaluation. */
    if (e && !(s_same_basis(e, basis->policy, basis->state, basis->state_len) &&
               strcmp(e->environment, env) == 0 && basis->at_ms >= e->at_ms &&
               basis->at_ms < e->until_ms)) {
        s_remove(self, e);
        e = NULL;
    }
    if (!e) {
        if (!(e = s_entry_new(basis)) || zhashx_insert(self->by_change, e->change_id, e) != 0) {
            s_entry_free(e);
            rc = -ENOMEM;
            goto out;
        }
        s_push_front(self, e);
        self->bytes += e->bytes;
    } else {
        s_unlink(self, e);
        s_push_front(self, e);
    }
    if (e->verdict[gi]) {
        e->bytes -= e->len[gi];
        self->bytes -= e->len[gi];
        free(e->verdict[gi]);
    }
    e->verdict[gi] = buf;
    e->len[gi] = len;
    e->split[gi] = split;
    e->bytes += len;
    self->bytes += len;
    buf = NULL;
    while (self->bytes > self->budget && self->oldest && self->oldest != e)
        s_remove(self, self->oldest);
out:
    pthread_mutex_unlock(&self->lock);
    free(buf);
    return rc;
}

int cairn_verdict_cache_reply(cairn_verdict_cache_t *self, const cairn_policy_t *policy,
                              const char *change_id, const uint8_t *state, size_t state_len,
                              const char *environment, size_t gi, int64_t now_ms,
                              uint64_t applied_index, uint8_t **reply_out, size_t *reply_len)
{
    int rc = CAIRN_ENOTFOUND;
    pthread_mutex_lock(&self->lock);
    s_entry_t *e = zhashx_lookup(self->by_change, change_id);
    if (!e || gi >= e->n_gates || !e->verdict[gi] || !s_same_basis(e, policy, state, state_len) ||
        !s_same_env(e->environment, environment) || now_ms < e->at_ms || now_ms >= e->until_ms) {
        self->misses++;
        goto out;
    }
    uint8_t f16[12], vhead[11], tail[11];
    size_t n16 = 0, nv, nt = 0;
    if (now_ms != 0) {
        f16[0] = 0x80; /* field 16, varint */
        f16[1] = 0x01;
        n16 = 2 + s_put_varint(f16 + 2, (uint64_t)now_ms);
    }
    size_t vlen = e->len[gi] + n16;
    vhead[0] = 0x1a; /* PolicyReply.verdict: field 3, length-delimited */
    nv = 1 + s_put_varint(vhead + 1, vlen);
    if (applied_index) {
        tail[0] = 0x28; /* PolicyReply.applied_index: field 5, varint */
        nt = 1 + s_put_varint(tail + 1, applied_index);
    }
    uint8_t *out = malloc(nv + vlen + nt);
    if (!out) {
        rc = -ENOMEM;
        goto out;
    }
    size_t pos = 0, split = e->split[gi];
    memcpy(out + pos, vhead, nv);
    pos += nv;
    memcpy(out + pos, e->verdict[gi], split);
    pos += split;
    memcpy(out + pos, f16, n16);
    pos += n16;
    memcpy(out + pos, e->verdict[gi] + split, e->len[gi] - split);
    pos += e->len[gi] - split;
    memcpy(out + pos, tail, nt);
    pos += nt;
    s_unlink(self, e);
    s_push_front(self, e);
    self->hits++;
    *reply_out = out;
    *reply_len = pos;
    rc = 0;
out:
    pthread_mutex_unlock(&self->lock);
    return rc;
}

void cairn_verdict_cache_clear(cairn_verdict_cache_t *self)
{
    if (!self)
        return;
    pthread_mutex_lock(&self->lock);
    while (self->oldest)
        s_remove(self, self->oldest);
    pthread_mutex_unlock(&self->lock);
}

void cairn_verdict_cache_stats(cairn_verdict_cache_t *self, cairn_verdict_cache_stats_t *out)
{
    pthread_mutex_lock(&self->lock);
    out->hits = self->hits;
    out->misses = self->misses;
    out->entries = zhashx_size(self->by_change);
    out->bytes = self->bytes;
    pthread_mutex_unlock(&self->lock);
}
