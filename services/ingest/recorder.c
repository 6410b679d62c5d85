/* The recorder (see recorder.h): the ledger append with its ack, the spool
 * fallback, and the drainer thread that empties the spool into the ledger
 * in order. */
#include "recorder.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"
#include "spool.h"

/* Ledger clients kept for reuse; more are made on demand under load. */
#define S_POOL_MAX 32
/* Spooled items the drainer reads at a time (removed in one commit). */
#define S_DRAIN_BATCH 64
/* Upper bound on one wait of the drainer, so a stop is noticed promptly. */
#define S_POLL_MS 200
/* Longest pause between two drain attempts while the ledger is away. */
#define S_BACKOFF_MAX_MS 2000

struct cairn_ingest_recorder_t {
    char *ledger_endpoint;              /* where appends go (bus.ledger_api) */
    int timeout_ms;                     /* how long to wait for an ack */
    cairn_ingest_spool_t *spool;        /* the spool, or NULL when not configured */
    pthread_mutex_t pool_lock;          /* guards pool and pool_n */
    cairn_client_t *pool[S_POOL_MAX];   /* idle ledger clients */
    size_t pool_n;                      /* how many are idle */
    pthread_t drainer;                  /* moves the spool into the ledger */
    bool drainer_started;               /* drainer needs joining */
    pthread_mutex_t wake_lock;          /* guards stop, with wake */
    pthread_cond_t wake;                /* a put or a stop wakes the drainer */
    bool stop;                          /* asks the drainer to end */
    cairn_client_t *drain_client;       /* the drainer's own ledger client */
    _Atomic uint64_t spooled;           /* events committed to the spool */
    _Atomic uint64_t drained;           /* spooled events the ledger acknowledged */
    _Atomic uint64_t spool_full;        /* events refused because the spool was full */
    _Atomic uint64_t ledger_unanswered; /* appends the ledger did not answer in time */
};

/* --- the ledger call ----------------------------------------------------- */

static cairn_client_t *s_client_take(cairn_ingest_recorder_t *self)
{
    cairn_client_t *client = NULL;
    pthread_mutex_lock(&self->pool_lock);
    if (self->pool_n > 0)
        client = self->pool[--self->pool_n];
    pthread_mutex_unlock(&self->pool_lock);
    return client ? client : cairn_client_new(self->ledger_endpoint);
}

static void s_client_give(cairn_ingest_recorder_t *self, cairn_client_t *client)
{
    pthread_mutex_lock(&self->pool_lock);
    if (self->pool_n < S_POOL_MAX) {
        self->pool[self->pool_n++] = client;
        client = NULL;
    }
    pthread_mutex_unlock(&self->pool_lock);
    cairn_client_destroy(&client);
}

/* What one append came to. */
typedef enum {
    S_ACKED,      /* the ledger acknowledged it */
    S_UNANSWERED, /* no answer in time, or nobody listening: the ledger may come back */
    S_REFUSED,    /* the ledger answered with an error */
    S_FAILED,     /* ingest itself failed (memory) */
} s_outcome_t;

/* Sends one packed LedgerRequest and reads the ack. *status_out gets the
 * ledger's error status when it refused. */
static s_outcome_t s_call(cairn_ingest_recorder_t *self, cairn_client_t *client, const uint8_t *req,
                          size_t len, cairn_ingest_recorded_t *out, int *status_out, char *err,
                          size_t errlen)
{
    uint8_t *buf = NULL;
    size_t buf_len = 0;
    Cairn__V1__LedgerReply *reply = NULL;
    s_outcome_t outcome = S_ACKED;
    int rc = cairn_client_call(client, req, len, self->timeout_ms, &buf, &buf_len);
    if (rc == CAIRN_ETIMEOUT || rc == CAIRN_EUNREACHABLE) {
        if (rc == CAIRN_ETIMEOUT)
            snprintf(err, errlen, "the ledger did not acknowledge the event within %d ms",
                     self->timeout_ms);
        else
            snprintf(err, errlen, "cannot reach the ledger (nothing listens on %s)",
                     self->ledger_endpoint);
        outcome = S_UNANSWERED;
        goto out;
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot reach the ledger (%s)", cairn_strerror(rc));
        outcome = rc == -ENOMEM ? S_FAILED : S_UNANSWERED;
        goto out;
    }
    if (cairn_codec_ledger_reply_unpack(buf, buf_len, &reply) < 0) {
        snprintf(err, errlen, "the ledger sent an unreadable reply");
        *status_out = CAIRN_EPROTO;
        outcome = S_REFUSED;
        goto out;
    }
    if (reply->status != 0 || !reply->ack) {
        *status_out = reply->status != 0 ? reply->status : CAIRN_EPROTO;
        snprintf(err, errlen, "the ledger could not record the event (%s)",
                 reply->error && *reply->error ? reply->error : cairn_strerror(*status_out));
        outcome = S_REFUSED;
        goto out;
    }
    out->index = reply->ack->index;
    out->duplicate = reply->ack->duplicate;
    out->spooled = false;
out:
    CAIRN_CODEC_FREE(&reply);
    free(buf);
    return outcome;
}

/* --- the spool path ------------------------------------------------------ */

static void s_wake(cairn_ingest_recorder_t *self)
{
    pthread_mutex_lock(&self->wake_lock);
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->wake_lock);
}

/* Commits the append to the spool. why says why it is not in the ledger
 * (logged when the spool starts filling). */
static int s_spool(cairn_ingest_recorder_t *self, const char *key, const uint8_t *req, size_t len,
                   const char *why, cairn_ingest_recorded_t *out, char *err, size_t errlen)
{
    bool was_empty = cairn_ingest_spool_empty(self->spool);
    bool duplicate = false;
    uint64_t seq = 0;
    int rc = cairn_ingest_spool_put(self->spool, key, req, len, cairn_now_ms(), &seq, &duplicate);
    if (rc == CAIRN_EBUSY) {
        cairn_ingest_spool_stats_t st;
        cairn_ingest_spool_stats(self->spool, &st);
        atomic_fetch_add(&self->spool_full, 1);
        snprintf(err, errlen,
                 "the ledger is not acknowledging events and ingest's spool is full (%" PRIu64
                 " events, %" PRIu64 " bytes waiting; limits ingest.spool_max and "
                 "ingest.spool_max_size), so the event is not recorded; retry later (the same "
                 "id is never recorded twice)",
                 st.depth, st.bytes);
        return rc;
    }
    if (rc < 0) {
        CAIRN_ERROR("cannot write to the spool", "error=%s", cairn_log_quote(cairn_strerror(rc)));
        snprintf(err, errlen,
                 "the ledger did not acknowledge the event and ingest cannot write its spool "
                 "(%s), so the event is not recorded; retry later",
                 cairn_strerror(rc));
        return rc;
    }
    if (!duplicate) {
        atomic_fetch_add(&self->spooled, 1);
        if (was_empty && why)
            CAIRN_WARN("spooling events until the ledger answers", "seq=%" PRIu64 " reason=%s", seq,
                       cairn_log_quote(why));
    }
    out->spooled = true;
    out->spool_seq = seq;
    out->duplicate = duplicate;
    out->index = 0;
    s_wake(self);
    return 0;
}

int cairn_ingest_recorder_record(cairn_ingest_recorder_t *self, const Cairn__V1__Event *ev,
                                 cairn_ingest_recorded_t *out, char *err, size_t errlen)
{
    uint8_t *req = NULL;
    size_t len = 0;
    int status = 0;
    cairn_ingest_recorded_t rec = {0};
    const char *key = ev->idempotency_key ? ev->idempotency_key : "";

    Cairn__V1__Record record = CAIRN__V1__RECORD__INIT;
    record.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    record.event = (Cairn__V1__Event *)ev;
    Cairn__V1__AppendRequest append = CAIRN__V1__APPEND_REQUEST__INIT;
    append.key = (char *)key;
    append.record = &record;
    Cairn__V1__LedgerRequest request = CAIRN__V1__LEDGER_REQUEST__INIT;
    request.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    request.append = &append;
    int rc = cairn_codec_pack(&request.base, &req, &len);
    if (rc < 0) {
        snprintf(err, errlen, "ingest ran out of memory; retry later");
        return rc;
    }

    /* Events accepted while older ones wait in the spool queue behind them. */
    if (self->spool && !cairn_ingest_spool_empty(self->spool)) {
        rc = s_spool(self, key, req, len, NULL, &rec, err, errlen);
        goto out;
    }
    cairn_client_t *client = s_client_take(self);
    if (!client) {
        snprintf(err, errlen, "ingest ran out of memory; retry later");
        rc = -ENOMEM;
        goto out;
    }
    char why[256] = "";
    s_outcome_t outcome = s_call(self, client, req, len, &rec, &status, why, sizeof why);
    s_client_give(self, client);
    if (outcome == S_ACKED) {
        rc = 0;
    } else if (outcome == S_UNANSWERED) {
        atomic_fetch_add(&self->ledger_unanswered, 1);
        if (self->spool) {
            rc = s_spool(self, key, req, len, why, &rec, err, errlen);
        } else {
            snprintf(err, errlen,
                     "%s, so it is not recorded; retry later (the same id is never recorded "
                     "twice)",
                     why);
            rc = CAIRN_EUNREACHABLE;
        }
    } else if (outcome == S_REFUSED) {
        snprintf(err, errlen, "%s; retry later", why);
        rc = status < 0 ? status : CAIRN_EPROTO;
    } else {
        snprintf(err, errlen, "ingest ran out of memory; retry later");
        rc = -ENOMEM;
    }
out:
    free(req);
    if (rc == 0)
        *out = rec;
    return rc;
}

bool cairn_ingest_recorder_backlog(cairn_ingest_recorder_t *self)
{
    return self->spool && !cairn_ingest_spool_empty(self->spool);
}

/* --- the drainer --------------------------------------------------------- */

/* Waits up to ms, or until woken; true when asked to stop. */
static bool s_wait(cairn_ingest_recorder_t *self, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&self->wake_lock);
    if (!self->stop)
        pthread_cond_timedwait(&self->wake, &self->wake_lock, &until);
    bool stop = self->stop;
    pthread_mutex_unlock(&self->wake_lock);
    return stop;
}

static bool s_stopping(cairn_ingest_recorder_t *self)
{
    pthread_mutex_lock(&self->wake_lock);
    bool stop = self->stop;
    pthread_mutex_unlock(&self->wake_lock);
    return stop;
}

/* Refusals that no retry can change: the drainer moves such an event aside
 * rather than let it block every event behind it. */
static bool s_permanent(int status)
{
    return status == CAIRN_EINVALID || status == CAIRN_EPROTO || status == CAIRN_ETOOLARGE ||
           status == CAIRN_EPARSE;
}

/* One pass: sends up to a batch of the oldest items in order, removes the
 * acknowledged ones. Returns the number acknowledged, or -1 when the ledger
 * did not take the first one it was offered (the caller backs off). */
static int s_drain_batch(cairn_ingest_recorder_t *self)
{
    cairn_ingest_spooled_t items[S_DRAIN_BATCH];
    uint64_t done[S_DRAIN_BATCH];
    size_t n = 0, n_done = 0;
    int result = 0;
    if (cairn_ingest_spool_peek(self->spool, items, S_DRAIN_BATCH, &n) < 0)
        return -1;
    if (!self->drain_client && !(self->drain_client = cairn_client_new(self->ledger_endpoint))) {
        result = -1;
        goto out;
    }
    for (size_t i = 0; i < n && !s_stopping(self); i++) {
        cairn_ingest_recorded_t rec = {0};
        int status = 0;
        char why[256] = "";
        s_outcome_t outcome = s_call(self, self->drain_client, items[i].request, items[i].len, &rec,
                                     &status, why, sizeof why);
        if (outcome == S_ACKED) {
            done[n_done++] = items[i].seq;
            CAIRN_DEBUG("spooled event recorded", "seq=%" PRIu64 " index=%" PRIu64 " duplicate=%s",
                        items[i].seq, rec.index, rec.duplicate ? "true" : "false");
            continue;
        }
        if (outcome == S_REFUSED && s_permanent(status)) {
            /* Everything before it is removed first, so order holds. */
            if (n_done && cairn_ingest_spool_remove(self->spool, done, n_done) == 0) {
                atomic_fetch_add(&self->drained, n_done);
                result += (int)n_done;
            }
            n_done = 0;
            CAIRN_ERROR("the ledger refused a spooled event; kept aside in the spool",
                        "seq=%" PRIu64 " error=%s", items[i].seq, cairn_log_quote(why));
            int rc = cairn_ingest_spool_bury(self->spool, items[i].seq, why);
            if (rc < 0) {
                CAIRN_ERROR("cannot move a refused event aside", "seq=%" PRIu64 " error=%s",
                            items[i].seq, cairn_log_quote(cairn_strerror(rc)));
                result = result ? result : -1;
                break;
            }
            continue;
        }
        if (n_done == 0 && result == 0)
            result = -1;
        CAIRN_DEBUG("spool drain paused", "seq=%" PRIu64 " reason=%s", items[i].seq,
                    cairn_log_quote(why));
        break;
    }
    if (n_done) {
        int rc = cairn_ingest_spool_remove(self->spool, done, n_done);
        if (rc < 0) {
            /* They will be sent again; the ledger answers duplicate. */
            CAIRN_ERROR("cannot remove drained events from the spool", "error=%s",
                        cairn_log_quote(cairn_strerror(rc)));
            result = -1;
        } else {
            atomic_fetch_add(&self->drained, n_done);
            result += (int)n_done;
        }
    }
out:
    for (size_t i = 0; i < n; i++)
        cairn_ingest_spooled_clear(&items[i]);
    return result;
}

static void *s_drain(void *arg)
{
    cairn_ingest_recorder_t *self = arg;
    int backoff = 0;
    uint64_t drained_run = 0;
    while (!s_stopping(self)) {
        if (cairn_ingest_spool_empty(self->spool)) {
            if (drained_run) {
                CAIRN_INFO("spool drained into the ledger", "events=%" PRIu64, drained_run);
                drained_run = 0;
            }
            s_wait(self, S_POLL_MS);
            continue;
        }
        int n = s_drain_batch(self);
        if (n > 0) {
            drained_run += (uint64_t)n;
            backoff = 0;
            continue;
        }
        backoff = backoff ? backoff * 2 : S_POLL_MS;
        if (backoff > S_BACKOFF_MAX_MS)
            backoff = S_BACKOFF_MAX_MS;
        for (int waited = 0; waited < backoff && !s_stopping(self); waited += S_POLL_MS) {
            struct timespec ts = {0, S_POLL_MS * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* --- lifetime and metrics ------------------------------------------------ */

int cairn_ingest_recorder_new(const cairn_ingest_recorder_settings_t *settings,
                              cairn_ingest_recorder_t **out)
{
    int rc = 0;
    cairn_ingest_recorder_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    /* czmq's context is set up here, once, before worker threads race to
     * create the first ledger clients. */
    zsys_init();
    pthread_mutex_init(&self->pool_lock, NULL);
    pthread_mutex_init(&self->wake_lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    self->timeout_ms = settings->timeout_ms > 0 ? settings->timeout_ms : 1;
    self->ledger_endpoint = strdup(settings->ledger_endpoint ? settings->ledger_endpoint : "");
    if (!self->ledger_endpoint) {
        rc = -ENOMEM;
        goto fail;
    }
    if (settings->spool_dir && *settings->spool_dir) {
        uint64_t max = settings->spool_max ? settings->spool_max : 1;
        uint64_t max_bytes = settings->spool_max_bytes ? settings->spool_max_bytes : 1;
        if ((rc = cairn_ingest_spool_open(settings->spool_dir, max, max_bytes, &self->spool)) < 0)
            goto fail;
        if (pthread_create(&self->drainer, NULL, s_drain, self) != 0) {
            rc = -EAGAIN;
            goto fail;
        }
        self->drainer_started = true;
        cairn_ingest_spool_stats_t st;
        cairn_ingest_spool_stats(self->spool, &st);
        if (st.depth)
            CAIRN_INFO("spool holds events from before; draining them first",
                       "events=%" PRIu64 " bytes=%" PRIu64, st.depth, st.bytes);
    }
    *out = self;
    return 0;
fail:
    cairn_ingest_recorder_destroy(&self);
    return rc;
}

void cairn_ingest_recorder_destroy(cairn_ingest_recorder_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ingest_recorder_t *self = *self_p;
    if (self->drainer_started) {
        pthread_mutex_lock(&self->wake_lock);
        self->stop = true;
        pthread_cond_signal(&self->wake);
        pthread_mutex_unlock(&self->wake_lock);
        pthread_join(self->drainer, NULL);
    }
    cairn_client_destroy(&self->drain_client);
    for (size_t i = 0; i < self->pool_n; i++)
        cairn_client_destroy(&self->pool[i]);
    cairn_ingest_spool_destroy(&self->spool);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->wake_lock);
    pthread_mutex_destroy(&self->pool_lock);
    free(self->ledger_endpoint);
    free(self);
    *self_p = NULL;
}

void cairn_ingest_recorder_metrics(cairn_ingest_recorder_t *self, FILE *f)
{
    cairn_ingest_spool_stats_t st = {0};
    if (self->spool)
        cairn_ingest_spool_stats(self->spool, &st);
    double age = st.oldest_ms ? (double)(cairn_now_ms() - st.oldest_ms) / 1000.0 : 0.0;
    if (age < 0)
        age = 0;
    fprintf(f,
            "# HELP cairn_ingest_spool_depth Accepted events waiting in the spool for the "
            "ledger.\n"
            "# TYPE cairn_ingest_spool_depth gauge\n"
            "cairn_ingest_spool_depth %" PRIu64 "\n"
            "# HELP cairn_ingest_spool_bytes Bytes of the events waiting in the spool.\n"
            "# TYPE cairn_ingest_spool_bytes gauge\n"
            "cairn_ingest_spool_bytes %" PRIu64 "\n"
            "# HELP cairn_ingest_spool_limit_events The spool's limit in events "
            "(ingest.spool_max; 0: no spool).\n"
            "# TYPE cairn_ingest_spool_limit_events gauge\n"
            "cairn_ingest_spool_limit_events %" PRIu64 "\n"
            "# HELP cairn_ingest_spool_limit_bytes The spool's limit in bytes "
            "(ingest.spool_max_size; 0: no spool).\n"
            "# TYPE cairn_ingest_spool_limit_bytes gauge\n"
            "cairn_ingest_spool_limit_bytes %" PRIu64 "\n"
            "# HELP cairn_ingest_spool_oldest_age_seconds Age of the oldest event waiting in "
            "the spool (0 when empty).\n"
            "# TYPE cairn_ingest_spool_oldest_age_seconds gauge\n"
            "cairn_ingest_spool_oldest_age_seconds %.3f\n"
            "# HELP cairn_ingest_spool_dead Spooled events the ledger refused, kept aside.\n"
            "# TYPE cairn_ingest_spool_dead gauge\n"
            "cairn_ingest_spool_dead %" PRIu64 "\n"
            "# HELP cairn_ingest_spooled_total Events committed to the spool.\n"
            "# TYPE cairn_ingest_spooled_total counter\n"
            "cairn_ingest_spooled_total %" PRIu64 "\n"
            "# HELP cairn_ingest_spool_drained_total Spooled events the ledger acknowledged.\n"
            "# TYPE cairn_ingest_spool_drained_total counter\n"
            "cairn_ingest_spool_drained_total %" PRIu64 "\n"
            "# HELP cairn_ingest_spool_full_total Events refused (503) because the spool was "
            "full.\n"
            "# TYPE cairn_ingest_spool_full_total counter\n"
            "cairn_ingest_spool_full_total %" PRIu64 "\n"
            "# HELP cairn_ingest_ledger_unanswered_total Appends the ledger did not "
            "acknowledge within bus.request_timeout.\n"
            "# TYPE cairn_ingest_ledger_unanswered_total counter\n"
            "cairn_ingest_ledger_unanswered_total %" PRIu64 "\n",
            st.depth, st.bytes, st.max_depth, st.max_bytes, age, st.dead,
            atomic_load(&self->spooled), atomic_load(&self->drained),
            atomic_load(&self->spool_full), atomic_load(&self->ledger_unanswered));
}
