/* Follows the ledger's stream and fills gaps by replay (see follower.h). */
#include "follower.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"

/* Replay when nothing arrived for this long, and pause this long after a failure. */
#define S_IDLE_REPLAY_MS 1000
#define S_RETRY_PAUSE_MS 1000
/* A catch-up stops after this long so the daemon's loop stays responsive. */
#define S_CATCH_UP_BUDGET_MS 200
/* Longest wait for one replay answer. */
#define S_REPLAY_TIMEOUT_MS 1000
/* Streamed messages handled per poll before looking at timers again. */
#define S_STREAM_BATCH 1000

struct cairn_notify_follower_t {
    zsock_t *sub;                         /* SUB on bus.ledger_stream */
    cairn_client_t *client;               /* replay requests to bus.ledger_api */
    char **prefixes;                      /* wanted topic prefixes */
    size_t n_prefixes;                    /* how many */
    int timeout_ms;                       /* per replay call */
    cairn_notify_follower_apply_fn apply; /* applies wanted entries */
    void *arg;                            /* for apply */
    uint64_t next;                        /* next index to apply */
    bool replay_due;                      /* a gap, a start or a failure asks for replay */
    int64_t hold_until_ms;                /* no apply before this (after a failure) */
    int64_t idle_replay_ms;               /* replay at this time if nothing happened */
    bool ledger_down;                     /* the last replay call failed (to log changes only) */
    uint64_t skipped;                     /* entries with no wanted topic */
    uint64_t bad;                         /* streamed messages that did not decode */
};

int cairn_notify_follower_new(const cairn_notify_follower_config_t *config,
                              cairn_notify_follower_t **out)
{
    cairn_notify_follower_t *self = NULL;
    int rc = 0;

    if (!config->stream_endpoint || !config->api_endpoint || !config->apply)
        return CAIRN_EINVALID;
    self = calloc(1, sizeof(*self));
    if (!self)
        return -ENOMEM;
    self->apply = config->apply;
    self->arg = config->arg;
    /* A replay is answered in milliseconds; waiting longer for a ledger that is
     * away would only keep the loop from its deliveries and from SIGTERM. */
    self->timeout_ms = config->request_timeout_ms > 0 ? config->request_timeout_ms : 5000;
    if (self->timeout_ms > S_REPLAY_TIMEOUT_MS)
        self->timeout_ms = S_REPLAY_TIMEOUT_MS;
    self->replay_due = true;
    if (config->n_prefixes) {
        self->prefixes = calloc(config->n_prefixes, sizeof(char *));
        if (!self->prefixes) {
            rc = -ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < config->n_prefixes; i++) {
            self->prefixes[i] = strdup(config->prefixes[i]);
            if (!self->prefixes[i]) {
                rc = -ENOMEM;
                goto out;
            }
            self->n_prefixes++;
        }
    }
    rc = cairn_bus_connect(ZMQ_SUB, config->stream_endpoint,
                           self->n_prefixes ? self->prefixes[0] : "", &self->sub);
    if (rc < 0)
        goto out;
    for (size_t i = 1; i < self->n_prefixes; i++)
        zsock_set_subscribe(self->sub, self->prefixes[i]);
    self->client = cairn_client_new(config->api_endpoint);
    if (!self->client) {
        rc = -ENOMEM;
        goto out;
    }
    self->next = config->next;
    *out = self;
    self = NULL;
out:
    cairn_notify_follower_destroy(&self);
    return rc;
}

void cairn_notify_follower_destroy(cairn_notify_follower_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_notify_follower_t *self = *self_p;
    zsock_destroy(&self->sub);
    cairn_client_destroy(&self->client);
    for (size_t i = 0; i < self->n_prefixes; i++)
        free(self->prefixes[i]);
    free(self->prefixes);
    free(self);
    *self_p = NULL;
}

uint64_t cairn_notify_follower_next(const cairn_notify_follower_t *self)
{
    return self->next;
}

uint64_t cairn_notify_follower_skipped(const cairn_notify_follower_t *self)
{
    return self->skipped;
}

uint64_t cairn_notify_follower_bad(const cairn_notify_follower_t *self)
{
    return self->bad;
}

static bool s_wanted(const cairn_notify_follower_t *self, const char *topic)
{
    if (self->n_prefixes == 0)
        return true;
    if (!topic)
        return false;
    for (size_t i = 0; i < self->n_prefixes; i++)
        if (strncmp(topic, self->prefixes[i], strlen(self->prefixes[i])) == 0)
            return true;
    return false;
}

/* Pauses applying after a failure; the pending entry is fetched again by replay. */
static void s_hold(cairn_notify_follower_t *self)
{
    self->replay_due = true;
    self->hold_until_ms = cairn_mono_ms() + S_RETRY_PAUSE_MS;
}

/* Applies the entry at index next. Returns 0, or the apply callback's code
 * (the entry stays pending and the follower holds off). */
static int s_process(cairn_notify_follower_t *self, const Cairn__V1__Entry *entry)
{
    if (!s_wanted(self, entry->topic)) {
        /* Persisted with the next batch: replaying a skipped entry is harmless. */
        self->skipped++;
        self->next = entry->index + 1;
        return 0;
    }
    int rc = self->apply(self->arg, entry);
    if (rc < 0) {
        s_hold(self);
        return rc;
    }
    self->next = entry->index + 1;
    return 0;
}

static void s_ledger_failed(cairn_notify_follower_t *self, int rc, const char *detail)
{
    if (!self->ledger_down)
        CAIRN_WARN("cannot replay from ledger; retrying", "from=%" PRIu64 " error=%s", self->next,
                   cairn_log_quote(detail ? detail : cairn_strerror(rc)));
    self->ledger_down = true;
    s_hold(self);
}

/* One replay page from next. Sets *done when the follower is caught up. */
static int s_replay_page(cairn_notify_follower_t *self, bool *done)
{
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__ReplayRequest replay = CAIRN__V1__REPLAY_REQUEST__INIT;
    Cairn__V1__LedgerReply *reply = NULL;
    uint8_t *buf = NULL, *answer = NULL;
    size_t len = 0, answer_len = 0;
    int rc;

    *done = false;
    replay.from_index = self->next;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY;
    req.replay = &replay;
    if ((rc = cairn_codec_pack(&req.base, &buf, &len)) < 0)
        goto out;
    rc = cairn_client_call(self->client, buf, len, self->timeout_ms, &answer, &answer_len);
    if (rc < 0) {
        s_ledger_failed(self, rc, NULL);
        rc = 0;
        goto out;
    }
    if ((rc = cairn_codec_ledger_reply_unpack(answer, answer_len, &reply)) < 0 || reply->status) {
        s_ledger_failed(self, rc < 0 ? rc : reply->status, reply ? reply->error : NULL);
        rc = 0;
        goto out;
    }
    if (self->ledger_down)
        CAIRN_INFO("ledger reachable again", "from=%" PRIu64, self->next);
    self->ledger_down = false;

    for (size_t i = 0; i < reply->n_entries; i++) {
        const Cairn__V1__Entry *e = reply->entries[i];
        if (e->index < self->next)
            continue;
        if (e->index > self->next) {
            CAIRN_WARN("ledger replay skipped an index", "expected=%" PRIu64 " got=%" PRIu64,
                       self->next, e->index);
            s_hold(self);
            goto out;
        }
        if (s_process(self, e) < 0)
            goto out; /* held; retried after the pause */
    }
    if (reply->n_entries == 0 || self->next >= reply->size) {
        if (self->next > reply->size)
            CAIRN_WARN("ledger is shorter than the notify state", "next=%" PRIu64 " size=%" PRIu64,
                       self->next, reply->size);
        *done = true;
    }
out:
    CAIRN_CODEC_FREE(&reply);
    free(buf);
    free(answer);
    return rc;
}

/* Replays from next until caught up, a failure, or the time budget is spent. */
static int s_catch_up(cairn_notify_follower_t *self)
{
    int64_t deadline = cairn_mono_ms() + S_CATCH_UP_BUDGET_MS;
    bool done = false;
    int rc = 0;

    self->replay_due = false;
    while (!done) {
        rc = s_replay_page(self, &done);
        if (rc < 0 || self->replay_due)
            break; /* held after a failure: the pause decides when to try again */
        if (!done && cairn_mono_ms() >= deadline) {
            self->replay_due = true;
            break;
        }
    }
    self->idle_replay_ms = cairn_mono_ms() + S_IDLE_REPLAY_MS;
    return rc;
}

static void s_on_stream(cairn_notify_follower_t *self, const char *topic, const uint8_t *payload,
                        size_t len)
{
    Cairn__V1__Entry *entry = NULL;
    if (cairn_codec_entry_unpack(payload, len, &entry) < 0) {
        self->bad++;
        CAIRN_WARN("dropped malformed stream message", "topic=%s bytes=%zu bad=%" PRIu64,
                   cairn_log_quote(topic), len, self->bad);
        return;
    }
    if (entry->index < self->next)
        goto out; /* already applied */
    if (entry->index > self->next || self->replay_due) {
        self->replay_due = true; /* a gap, or replay owns the order until caught up */
        goto out;
    }
    s_process(self, entry);
    self->idle_replay_ms = cairn_mono_ms() + S_IDLE_REPLAY_MS;
out:
    CAIRN_CODEC_FREE(&entry);
}

/* Replays when due. */
static int s_maybe_catch_up(cairn_notify_follower_t *self)
{
    int64_t now = cairn_mono_ms();
    if ((self->replay_due && now >= self->hold_until_ms) ||
        (!self->replay_due && now >= self->idle_replay_ms))
        return s_catch_up(self);
    return 0;
}

/* Handles the streamed messages waiting on the socket. */
static int s_read_stream(cairn_notify_follower_t *self)
{
    for (int i = 0; i < S_STREAM_BATCH && (zsock_events(self->sub) & ZMQ_POLLIN); i++) {
        char *topic = NULL;
        uint8_t *payload = NULL;
        size_t len = 0;
        int rc = cairn_bus_receive(self->sub, &topic, &payload, &len);
        if (rc == 0)
            s_on_stream(self, topic, payload, len);
        else if (rc == CAIRN_EPROTO)
            self->bad++;
        free(topic);
        free(payload);
        if (rc < 0 && rc != CAIRN_EPROTO)
            break;
    }
    return 0;
}

int64_t cairn_notify_follower_due_ms(const cairn_notify_follower_t *self)
{
    return self->replay_due ? self->hold_until_ms : self->idle_replay_ms;
}

void *cairn_notify_follower_socket(cairn_notify_follower_t *self)
{
    return zsock_resolve(self->sub);
}

int cairn_notify_follower_drain(cairn_notify_follower_t *self)
{
    int rc = s_maybe_catch_up(self);
    if (rc < 0)
        return rc;
    return s_read_stream(self);
}

int cairn_notify_follower_poll(cairn_notify_follower_t *self, int timeout_ms)
{
    int rc = s_maybe_catch_up(self);
    if (rc < 0)
        return rc;
    /* Wake up in time for the next replay that falls due. */
    int64_t wait = cairn_notify_follower_due_ms(self) - cairn_mono_ms();
    if (wait > timeout_ms)
        wait = timeout_ms;
    if (wait < 0)
        wait = 0;
    zmq_pollitem_t item = {zsock_resolve(self->sub), 0, ZMQ_POLLIN, 0};
    int n = zmq_poll(&item, 1, (long)wait);
    if (n <= 0)
        return 0; /* timeout, or EINTR: the caller checks its stop flag */
    return s_read_stream(self);
}
