/* The ledger follower (see follower.h). */
#include "follower.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "cairn/bus.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"

#define S_IDLE_MS 1000      /* replay probe while the stream is quiet */
#define S_RETRY_MS 1000     /* pause after a failed apply or replay */
#define S_PAGES_PER_STEP 16 /* replay pages per turn, so stops stay prompt */
#define S_DRAIN_MAX 1024    /* streamed messages handled per turn */

struct cairn_follower_t {
    zsock_t *sub;                  /* SUB on bus.ledger_stream, every topic */
    cairn_ledger_link_t *link;     /* replay requests (not owned) */
    cairn_follower_apply_fn apply; /* what to do with each entry */
    void *arg;                     /* passed to apply */
    uint64_t next;                 /* next index to apply */
    bool catchup_due;              /* a gap or failure wants a replay */
    int64_t retry_at;              /* monotonic ms before which not to retry */
    int64_t last_activity;         /* monotonic ms of the last entry or replay */
    bool unreachable;              /* the last replay failed (logged once) */
    uint64_t bad;                  /* undecodable streamed messages */
};

int cairn_follower_new(const char *stream_endpoint, cairn_ledger_link_t *link, uint64_t next,
                       cairn_follower_apply_fn apply, void *arg, cairn_follower_t **out)
{
    cairn_follower_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    int rc = cairn_bus_connect(ZMQ_SUB, stream_endpoint, "", &self->sub);
    if (rc < 0) {
        free(self);
        return rc;
    }
    self->link = link;
    self->apply = apply;
    self->arg = arg;
    self->next = next;
    self->catchup_due = true; /* whatever was appended while we were away */
    *out = self;
    return 0;
}

void cairn_follower_destroy(cairn_follower_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zsock_destroy(&(*self_p)->sub);
    free(*self_p);
    *self_p = NULL;
}

uint64_t cairn_follower_next(const cairn_follower_t *self)
{
    return self->next;
}

uint64_t cairn_follower_bad(const cairn_follower_t *self)
{
    return self->bad;
}

static void s_retry_later(cairn_follower_t *self)
{
    self->catchup_due = true;
    self->retry_at = cairn_mono_ms() + S_RETRY_MS;
}

/* Applies the entry at next; false when it must be retried. */
static bool s_apply(cairn_follower_t *self, const Cairn__V1__Entry *entry)
{
    if (self->apply(self->arg, entry) < 0) {
        s_retry_later(self);
        return false;
    }
    self->next = entry->index + 1;
    return true;
}

static void s_catch_up(cairn_follower_t *self)
{
    self->last_activity = cairn_mono_ms();
    for (int page = 0; page < S_PAGES_PER_STEP; page++) {
        Cairn__V1__LedgerReply *reply = NULL;
        int rc = cairn_ledger_link_replay(self->link, self->next, &reply);
        if (rc < 0) {
            if (!self->unreachable)
                CAIRN_WARN("cannot replay from the ledger; retrying every second",
                           "next=%" PRIu64 " error=%s", self->next,
                           cairn_log_quote(cairn_strerror(rc)));
            self->unreachable = true;
            s_retry_later(self);
            return;
        }
        if (self->unreachable)
            CAIRN_INFO("ledger reachable again", "next=%" PRIu64, self->next);
        self->unreachable = false;
        bool done = reply->n_entries == 0;
        for (size_t i = 0; i < reply->n_entries && !done; i++) {
            const Cairn__V1__Entry *e = reply->entries[i];
            if (e->index < self->next)
                continue;
            if (e->index > self->next) {
                CAIRN_WARN("ledger replay skipped entries; retrying",
                           "next=%" PRIu64 " got=%" PRIu64, self->next, e->index);
                s_retry_later(self);
                CAIRN_CODEC_FREE(&reply);
                return;
            }
            if (!s_apply(self, e)) {
                CAIRN_CODEC_FREE(&reply);
                return;
            }
        }
        done = done || self->next >= reply->size;
        CAIRN_CODEC_FREE(&reply);
        if (done) {
            self->catchup_due = false;
            return;
        }
    }
    /* More to replay: continue on the next turn without waiting. */
    self->catchup_due = true;
    self->retry_at = 0;
}

static void s_on_stream(cairn_follower_t *self, const uint8_t *payload, size_t len)
{
    Cairn__V1__Entry *entry = NULL;
    if (cairn_codec_entry_unpack(payload, len, &entry) < 0) {
        self->bad++;
        CAIRN_WARN("dropped an undecodable stream message", "bytes=%zu bad=%" PRIu64, len,
                   self->bad);
        return;
    }
    self->last_activity = cairn_mono_ms();
    if (entry->index < self->next || self->catchup_due) {
        /* Already applied, or the replay under way will bring it in order. */
    } else if (entry->index > self->next) {
        CAIRN_DEBUG("gap in the ledger stream; replaying", "next=%" PRIu64 " got=%" PRIu64,
                    self->next, entry->index);
        self->catchup_due = true;
        self->retry_at = 0;
    } else {
        s_apply(self, entry);
    }
    CAIRN_CODEC_FREE(&entry);
}

void cairn_follower_step(cairn_follower_t *self, int timeout_ms)
{
    int64_t now = cairn_mono_ms();
    if ((self->catchup_due && now >= self->retry_at) ||
        (!self->catchup_due && now - self->last_activity >= S_IDLE_MS))
        s_catch_up(self);
    if (self->catchup_due && self->retry_at == 0)
        timeout_ms = 0; /* more to replay right away */

    zmq_pollitem_t item = {zsock_resolve(self->sub), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, timeout_ms) <= 0)
        return;
    for (int i = 0; i < S_DRAIN_MAX && (zsock_events(self->sub) & ZMQ_POLLIN); i++) {
        char *topic = NULL;
        uint8_t *payload = NULL;
        size_t len = 0;
        int rc = cairn_bus_receive(self->sub, &topic, &payload, &len);
        if (rc == 0)
            s_on_stream(self, payload, len);
        else if (rc == CAIRN_EPROTO)
            self->bad++;
        free(topic);
        free(payload);
        if (rc < 0 && rc != CAIRN_EPROTO)
            break;
    }
}
