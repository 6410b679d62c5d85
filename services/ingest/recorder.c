/* The recorder (see recorder.h): the sender thread that pipelines appends
 * to the ledger and matches their acks, the spool fallback, and the drainer
 * thread that empties the spool into the ledger in order. */
#include "recorder.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/ledger_batch.h"
#include "cairn/log.h"
#include "cairn/util.h"
#include "latch.h"
#include "spool.h"

/* Appends in flight on the pipeline at most. Below libzmq's default high-water
 * mark (1000), so a send never blocks; more wait in the queue. */
#define S_INFLIGHT_MAX 768
/* Appends the sender puts in one append_batch request at most. */
#define S_BATCH_MAX 64
/* Bytes of appends in one append_batch request at most (a larger append
 * goes alone). */
#define S_BATCH_BYTES (4u << 20)
/* Spooled items the drainer reads at a time (sent as one append_batch,
 * removed in one commit). */
#define S_DRAIN_BATCH 64
/* Upper bound on one wait of the drainer and the sender, so a stop is noticed promptly. */
#define S_POLL_MS 200
/* Longest pause between two drain attempts while the ledger is away. */
#define S_BACKOFF_MAX_MS 2000
/* Longest time waiting jobs are held back for the answer in flight (see
 * s_holding) before they go anyway, unless the settings say otherwise. */
#define S_HOLD_MS 2
/* Requests at the ledger before new appends are held for the next batch:
 * the ledger decodes and answers one batch while it commits the other, so
 * two keep it busy without a gap between commits. */
#define S_HOLD_BEHIND 2
/* Finished jobs' memory kept for the next ones at most, and the largest
 * block kept: a job and its packed append are one block, reused rather
 * than allocated on a request thread and freed on the sender's. */
#define S_SPARE_JOBS 256
#define S_SPARE_BLOCK_MAX (64u << 10)

/* One event on its way to durability. A job is one block of memory: the
 * struct, its key and its packed append (s_job_take). */
typedef struct s_job {
    struct s_job *next;          /* next in its list (queue, waiting, in flight or spare) */
    size_t block;                /* bytes in the block, this struct included */
    uint8_t *req;                /* packed LedgerRequest (an append), in the block */
    size_t len;                  /* bytes in req */
    char *key;                   /* its idempotency key (for the spool), in the block */
    int64_t deadline_ms;         /* monotonic: no ack by then means unanswered */
    size_t batch;                /* in flight: jobs in the request this one opens, else 0 */
    cairn_ingest_record_fn done; /* told the outcome, once */
    void *arg;                   /* for done */
} s_job_t;

/* A first-in first-out list of jobs. */
typedef struct {
    s_job_t *head; /* oldest */
    s_job_t *tail; /* newest */
    size_t n;      /* how many */
} s_list_t;

struct cairn_ingest_recorder_t {
    char *ledger_endpoint;              /* where appends go (bus.ledger_api) */
    int timeout_ms;                     /* how long to wait for an ack */
    int hold_ms;                        /* how long waiting jobs may be held (s_holding) */
    cairn_ingest_spool_t *spool;        /* the spool, or NULL when not configured */
    pthread_mutex_t queue_lock;         /* guards queue and sender_stop */
    s_list_t queue;                     /* jobs handed over, not yet taken by the sender */
    bool sender_stop;                   /* asks the sender to end once it has nothing left */
    bool sender_idle;                   /* the sender is (about to be) asleep in its poll and
                                           nobody has woken it yet (guarded by queue_lock) */
    int wake_fd;                        /* eventfd: a new job or a stop wakes the sender */
    pthread_mutex_t spare_lock;         /* guards spare */
    s_list_t spare;                     /* finished jobs' blocks, for new jobs */
    pthread_t sender;                   /* pipelines appends to the ledger */
    bool sender_started;                /* sender needs joining */
    zsock_t *dealer;                    /* the sender's connection to the ledger, or NULL */
    bool batching;                      /* several appends may share one append_batch */
    s_list_t waiting;                   /* sender only: taken from the queue, not yet sent */
    int64_t waiting_since_ms;           /* sender only: monotonic time the oldest waiting job
                                           was taken; 0 when none waits */
    s_list_t inflight;                  /* sender only: sent, oldest first, awaiting acks */
    size_t requests;                    /* sender only: requests (appends or batches) in flight */
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
    _Atomic uint64_t batches;           /* append_batch requests sent (sender and drainer) */
    _Atomic uint64_t batched;           /* appends sent in them */
};

/* --- the ledger's answer ------------------------------------------------- */

/* What one append came to. */
typedef enum {
    S_ACKED,      /* the ledger acknowledged it */
    S_UNANSWERED, /* no answer in time, or nobody listening: the ledger may come back */
    S_REFUSED,    /* the ledger answered with an error */
    S_FAILED,     /* ingest itself failed (memory) */
} s_outcome_t;

/* What the ledger said of one append: its status, error and ack (of a
 * single append's reply, or of one result of an append_batch). */
static s_outcome_t s_result(int status, const char *error, const Cairn__V1__AppendAck *ack,
                            cairn_ingest_recorded_t *out, int *status_out, char *err, size_t errlen)
{
    if (status != 0 || !ack) {
        *status_out = status != 0 ? status : CAIRN_EPROTO;
        snprintf(err, errlen, "the ledger could not record the event (%s)",
                 error && *error ? error : cairn_strerror(*status_out));
        return S_REFUSED;
    }
    out->index = ack->index;
    out->duplicate = ack->duplicate;
    out->spooled = false;
    return S_ACKED;
}

/* Reads one LedgerReply to an append. *status_out gets the ledger's error
 * status when it refused. */
static s_outcome_t s_read_reply(const uint8_t *buf, size_t buf_len, cairn_ingest_recorded_t *out,
                                int *status_out, char *err, size_t errlen)
{
    Cairn__V1__LedgerReply *reply = NULL;
    if (cairn_codec_ledger_reply_unpack(buf, buf_len, &reply) < 0) {
        snprintf(err, errlen, "the ledger sent an unreadable reply");
        *status_out = CAIRN_EPROTO;
        return S_REFUSED;
    }
    s_outcome_t outcome =
        s_result(reply->status, reply->error, reply->ack, out, status_out, err, errlen);
    CAIRN_CODEC_FREE(&reply);
    return outcome;
}

/* Reads the reply to an append_batch of n appends. S_ACKED means
 * (*reply_out)->results answer the appends one by one (see
 * cairn_ledger_batch_reply_unpack); otherwise the whole request failed. */
static s_outcome_t s_read_batch_reply(const uint8_t *buf, size_t buf_len, size_t n,
                                      Cairn__V1__LedgerReply **reply_out, int *status_out,
                                      char *err, size_t errlen)
{
    if (cairn_ledger_batch_reply_unpack(buf, buf_len, n, reply_out) < 0) {
        snprintf(err, errlen, "the ledger sent an unreadable reply");
        *status_out = CAIRN_EPROTO;
        return S_REFUSED;
    }
    Cairn__V1__LedgerReply *reply = *reply_out;
    if (reply->status != 0) {
        *status_out = reply->status;
        snprintf(err, errlen, "the ledger could not record the events (%s)",
                 reply->error && *reply->error ? reply->error : cairn_strerror(reply->status));
        CAIRN_CODEC_FREE(reply_out);
        return S_REFUSED;
    }
    return S_ACKED;
}

/* --- batches --------------------------------------------------------------- */

/* An append travels as a packed LedgerRequest whose only field is append
 * (field 1). The appends of an AppendBatchRequest are field 1 as well, so
 * those same bytes are an AppendBatchRequest of that one append, and the
 * packed requests of k appends one after another are the AppendBatchRequest
 * of all k. A batch is therefore their concatenation behind the key and
 * length of LedgerRequest.append_batch (field 12): nothing is packed twice,
 * and the same bytes go to the spool when the ledger does not answer.
 * s_batch_framing checks these field numbers against the generated
 * descriptors; when they ever differ, appends go one per request. */
#define S_FIELD_APPEND 1u
#define S_FIELD_APPEND_BATCH 12u
#define S_FIELD_APPENDS 1u
#define S_WIRE_LEN 2u /* protobuf wire type: length-delimited */

static bool s_field_is(const ProtobufCMessageDescriptor *desc, const char *name, unsigned id,
                       ProtobufCLabel label)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(desc, name);
    return f && f->id == id && f->type == PROTOBUF_C_TYPE_MESSAGE && f->label == label;
}

static bool s_batch_framing(void)
{
    return s_field_is(&cairn__v1__ledger_request__descriptor, "append", S_FIELD_APPEND,
                      PROTOBUF_C_LABEL_NONE) &&
           s_field_is(&cairn__v1__ledger_request__descriptor, "append_batch", S_FIELD_APPEND_BATCH,
                      PROTOBUF_C_LABEL_NONE) &&
           s_field_is(&cairn__v1__append_batch_request__descriptor, "appends", S_FIELD_APPENDS,
                      PROTOBUF_C_LABEL_REPEATED);
}

/* Writes v as a protobuf varint; returns the bytes written (at most 10). */
static size_t s_varint(uint64_t v, uint8_t *out)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/* True when req is a packed LedgerRequest with (only) append set. */
static bool s_is_append(const uint8_t *req, size_t len)
{
    return len >= 2 && req[0] == ((S_FIELD_APPEND << 3) | S_WIRE_LEN);
}

int cairn_ingest_recorder_batch_pack(const uint8_t *const *reqs, const size_t *lens, size_t n,
                                     uint8_t **out, size_t *out_len)
{
    if (n == 0 || n > CAIRN_LEDGER_APPEND_BATCH_MAX)
        return CAIRN_EINVALID;
    size_t body = 0;
    for (size_t i = 0; i < n; i++) {
        if (!s_is_append(reqs[i], lens[i]))
            return CAIRN_EINVALID;
        body += lens[i];
    }
    uint8_t head[11];
    head[0] = (S_FIELD_APPEND_BATCH << 3) | S_WIRE_LEN;
    size_t head_len = 1 + s_varint(body, head + 1);
    uint8_t *buf = malloc(head_len + body);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, head, head_len);
    size_t at = head_len;
    for (size_t i = 0; i < n; i++) {
        memcpy(buf + at, reqs[i], lens[i]);
        at += lens[i];
    }
    *out = buf;
    *out_len = at;
    return 0;
}

/* Sends one packed LedgerRequest with a synchronous client; *buf gets the
 * reply (the drainer's call). S_ACKED means a reply came. */
static s_outcome_t s_call_raw(cairn_ingest_recorder_t *self, cairn_client_t *client,
                              const uint8_t *req, size_t len, uint8_t **buf, size_t *buf_len,
                              char *err, size_t errlen)
{
    int rc = cairn_client_call(client, req, len, self->timeout_ms, buf, buf_len);
    if (rc == CAIRN_ETIMEOUT || rc == CAIRN_EUNREACHABLE) {
        if (rc == CAIRN_ETIMEOUT)
            snprintf(err, errlen, "the ledger did not acknowledge the event within %d ms",
                     self->timeout_ms);
        else
            snprintf(err, errlen, "cannot reach the ledger (nothing listens on %s)",
                     self->ledger_endpoint);
        return S_UNANSWERED;
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot reach the ledger (%s)", cairn_strerror(rc));
        return rc == -ENOMEM ? S_FAILED : S_UNANSWERED;
    }
    return S_ACKED;
}

/* Sends one packed append and reads the ack (the drainer's call). */
static s_outcome_t s_call(cairn_ingest_recorder_t *self, cairn_client_t *client, const uint8_t *req,
                          size_t len, cairn_ingest_recorded_t *out, int *status_out, char *err,
                          size_t errlen)
{
    uint8_t *buf = NULL;
    size_t buf_len = 0;
    s_outcome_t outcome = s_call_raw(self, client, req, len, &buf, &buf_len, err, errlen);
    if (outcome == S_ACKED)
        outcome = s_read_reply(buf, buf_len, out, status_out, err, errlen);
    free(buf);
    return outcome;
}

/* Sends the packed appends of items[0..n) as one append_batch and reads the
 * reply (the drainer's call): S_ACKED with *reply_out answering each, or
 * what became of the whole request. */
static s_outcome_t s_call_batch(cairn_ingest_recorder_t *self, cairn_client_t *client,
                                const cairn_ingest_spooled_t *items, size_t n,
                                Cairn__V1__LedgerReply **reply_out, int *status_out, char *err,
                                size_t errlen)
{
    const uint8_t *reqs[S_DRAIN_BATCH];
    size_t lens[S_DRAIN_BATCH];
    uint8_t *req = NULL, *buf = NULL;
    size_t len = 0, buf_len = 0;
    for (size_t i = 0; i < n; i++) {
        reqs[i] = items[i].request;
        lens[i] = items[i].len;
    }
    int rc = cairn_ingest_recorder_batch_pack(reqs, lens, n, &req, &len);
    if (rc < 0) {
        snprintf(err, errlen, "cannot make a batch of the spooled events (%s)", cairn_strerror(rc));
        *status_out = rc;
        return S_FAILED;
    }
    atomic_fetch_add(&self->batches, 1);
    atomic_fetch_add(&self->batched, n);
    s_outcome_t outcome = s_call_raw(self, client, req, len, &buf, &buf_len, err, errlen);
    if (outcome == S_ACKED)
        outcome = s_read_batch_reply(buf, buf_len, n, reply_out, status_out, err, errlen);
    free(req);
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

/* --- the sender: one thread, many appends in flight ----------------------- */

static void s_list_push(s_list_t *list, s_job_t *job)
{
    job->next = NULL;
    if (list->tail)
        list->tail->next = job;
    else
        list->head = job;
    list->tail = job;
    list->n++;
}

static s_job_t *s_list_pop(s_list_t *list)
{
    s_job_t *job = list->head;
    if (job) {
        list->head = job->next;
        if (!list->head)
            list->tail = NULL;
        list->n--;
        job->next = NULL;
    }
    return job;
}

/* Appends all of from to the end of to, leaving from empty. */
static void s_list_move(s_list_t *to, s_list_t *from)
{
    if (!from->head)
        return;
    if (to->tail)
        to->tail->next = from->head;
    else
        to->head = from->head;
    to->tail = from->tail;
    to->n += from->n;
    *from = (s_list_t){0};
}

/* A block of at least need bytes for a job: a spare one, or a new one. */
static s_job_t *s_job_take(cairn_ingest_recorder_t *self, size_t need)
{
    pthread_mutex_lock(&self->spare_lock);
    s_job_t *job = self->spare.head && self->spare.head->block >= need ? s_list_pop(&self->spare)
                                                                        : NULL;
    pthread_mutex_unlock(&self->spare_lock);
    if (!job) {
        job = malloc(need);
        if (job)
            job->block = need;
    }
    return job;
}

/* Gives a job's block back for a later job (or frees it). */
static void s_job_release(cairn_ingest_recorder_t *self, s_job_t *job)
{
    bool keep = job->block <= S_SPARE_BLOCK_MAX;
    if (keep) {
        pthread_mutex_lock(&self->spare_lock);
        keep = self->spare.n < S_SPARE_JOBS;
        if (keep)
            s_list_push(&self->spare, job);
        pthread_mutex_unlock(&self->spare_lock);
    }
    if (!keep)
        free(job);
}

/* Tells the job's owner how it ended and releases the job. */
static void s_finish(cairn_ingest_recorder_t *self, s_job_t *job, int rc,
                     const cairn_ingest_recorded_t *rec, const char *err)
{
    cairn_ingest_recorded_t none = {0};
    job->done(job->arg, rc, rc == 0 ? rec : &none, rc == 0 ? "" : err);
    s_job_release(self, job);
}

/* The ledger did not take the job (why): it goes to the spool, or fails
 * when there is none. */
static void s_unanswered(cairn_ingest_recorder_t *self, s_job_t *job, const char *why)
{
    char err[512] = "";
    cairn_ingest_recorded_t rec = {0};
    atomic_fetch_add(&self->ledger_unanswered, 1);
    if (!self->spool) {
        snprintf(err, sizeof err,
                 "%s, so it is not recorded; retry later (the same id is never recorded twice)",
                 why);
        s_finish(self, job, CAIRN_EUNREACHABLE, NULL, err);
        return;
    }
    int rc = s_spool(self, job->key, job->req, job->len, why, &rec, err, sizeof err);
    s_finish(self, job, rc, &rec, err);
}

/* The ledger answered the job (its oldest append in flight). */
static void s_answered(cairn_ingest_recorder_t *self, s_job_t *job, const uint8_t *reply,
                       size_t len)
{
    char why[256] = "", err[512] = "";
    cairn_ingest_recorded_t rec = {0};
    int status = 0;
    s_outcome_t outcome = s_read_reply(reply, len, &rec, &status, why, sizeof why);
    if (outcome == S_ACKED) {
        s_finish(self, job, 0, &rec, "");
        return;
    }
    snprintf(err, sizeof err, "%s; retry later", why);
    s_finish(self, job, status < 0 ? status : CAIRN_EPROTO, NULL, err);
}

/* The ledger answered the append_batch of jobs[0..n) (the oldest in
 * flight): each job gets its own result, in order. */
static void s_answered_batch(cairn_ingest_recorder_t *self, s_job_t **jobs, size_t n,
                             const uint8_t *reply, size_t len)
{
    char why[256] = "", err[512] = "";
    Cairn__V1__LedgerReply *rep = NULL;
    int status = 0;
    s_outcome_t whole = s_read_batch_reply(reply, len, n, &rep, &status, why, sizeof why);
    for (size_t i = 0; i < n; i++) {
        cairn_ingest_recorded_t rec = {0};
        if (whole == S_ACKED) {
            const Cairn__V1__AppendResult *r = rep->results[i];
            if (s_result(r->status, r->error, r->ack, &rec, &status, why, sizeof why) == S_ACKED) {
                s_finish(self, jobs[i], 0, &rec, "");
                continue;
            }
        }
        snprintf(err, sizeof err, "%s; retry later", why);
        s_finish(self, jobs[i], status < 0 ? status : CAIRN_EPROTO, NULL, err);
    }
    CAIRN_CODEC_FREE(&rep);
}

/* True when nothing can listen on the ledger's endpoint: an ipc:// path
 * nobody has bound. (Then waiting for an answer is pointless.) */
static bool s_nobody_listens(const char *endpoint)
{
    static const char ipc[] = "ipc://";
    struct stat st;
    return strncmp(endpoint, ipc, sizeof ipc - 1) == 0 && stat(endpoint + sizeof ipc - 1, &st) != 0;
}

/* Drops the connection to the ledger. Every append still in flight on it
 * goes to the spool (in order): its answer can no longer arrive, and an
 * answer on the next connection belongs to an append sent there. A resend
 * of one the ledger did append is harmless: the ledger deduplicates by
 * idempotency key. */
static void s_drop_connection(cairn_ingest_recorder_t *self, const char *why)
{
    zsock_destroy(&self->dealer);
    self->requests = 0;
    s_job_t *job;
    while ((job = s_list_pop(&self->inflight)))
        s_unanswered(self, job, why);
}

/* The first n waiting jobs did not get onto the pipeline (why). */
static void s_unsent(cairn_ingest_recorder_t *self, size_t n, const char *why)
{
    for (size_t i = 0; i < n; i++)
        s_unanswered(self, s_list_pop(&self->waiting), why);
}

/* Sends the first n waiting jobs on the pipeline, as one append (n = 1) or
 * one append_batch. Those it could not send are answered as unanswered. */
static void s_send(cairn_ingest_recorder_t *self, size_t n)
{
    char why[256];
    if (!self->dealer) {
        if (s_nobody_listens(self->ledger_endpoint)) {
            snprintf(why, sizeof why, "cannot reach the ledger (nothing listens on %s)",
                     self->ledger_endpoint);
            s_unsent(self, n, why);
            return;
        }
        /* Answers are matched to appends by their order, which holds only
         * on one connection: a restarted ledger never saw the appends the
         * old one took, so the next answer would belong to a later append.
         * The socket does not reconnect; unanswered appends expire into the
         * spool and a new socket is made. */
        int rc = cairn_bus_connect_once(ZMQ_DEALER, self->ledger_endpoint, &self->dealer);
        if (rc < 0) {
            snprintf(why, sizeof why, "cannot reach the ledger (%s)", cairn_strerror(rc));
            s_unsent(self, n, why);
            return;
        }
    }
    const uint8_t *data = self->waiting.head->req;
    size_t len = self->waiting.head->len;
    uint8_t *batch = NULL;
    if (n > 1) {
        const uint8_t *reqs[S_BATCH_MAX];
        size_t lens[S_BATCH_MAX];
        s_job_t *job = self->waiting.head;
        for (size_t i = 0; i < n; i++, job = job->next) {
            reqs[i] = job->req;
            lens[i] = job->len;
        }
        if (cairn_ingest_recorder_batch_pack(reqs, lens, n, &batch, &len) == 0)
            data = batch;
        else
            n = 1; /* (out of memory) the first alone, the others next time */
    }
    void *sock = zsock_resolve(self->dealer);
    int sent = zmq_send(sock, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
                   ? -1
                   : zmq_send(sock, data, len, ZMQ_DONTWAIT);
    free(batch);
    if (sent < 0) {
        /* A half-sent message would garble the stream: start a new one. */
        snprintf(why, sizeof why, "cannot send to the ledger (%s)", zmq_strerror(zmq_errno()));
        s_drop_connection(self, why);
        s_unsent(self, n, why);
        return;
    }
    if (n > 1) {
        atomic_fetch_add(&self->batches, 1);
        atomic_fetch_add(&self->batched, n);
    }
    self->requests++;
    int64_t deadline = cairn_mono_ms() + self->timeout_ms;
    for (size_t i = 0; i < n; i++) {
        s_job_t *job = s_list_pop(&self->waiting);
        job->deadline_ms = deadline;
        job->batch = i == 0 ? n : 0;
        s_list_push(&self->inflight, job);
    }
}

/* How many of the waiting jobs go in the next request: all that are
 * waiting, up to S_BATCH_MAX, S_BATCH_BYTES and the room on the pipeline.
 * (Nothing waits for a batch to fill: under load, the jobs that arrived
 * while the sender was busy make the batch.) */
static size_t s_batch_size(const cairn_ingest_recorder_t *self)
{
    size_t room = S_INFLIGHT_MAX - self->inflight.n, max = self->batching ? S_BATCH_MAX : 1;
    size_t n = 0, bytes = 0;
    for (const s_job_t *job = self->waiting.head; job && n < max && n < room; job = job->next) {
        if (n > 0 && bytes + job->len > S_BATCH_BYTES)
            break;
        bytes += job->len;
        n++;
    }
    return n;
}

/* True when waiting jobs are better held back than sent now: S_HOLD_BEHIND
 * requests are in flight, they do not make a full batch yet, and they have
 * waited less than hold_ms. Its answer usually brings the sender back sooner, and
 * they then go together, so under load each append_batch carries every
 * event that came meanwhile, and the ledger and ingest's threads wake once
 * per batch rather than per event. (The bound keeps a stalled or vanished
 * ledger from holding them until the timeout: they are sent, and a send
 * that fails spools them at once.) */
static bool s_holding(const cairn_ingest_recorder_t *self, int64_t now_ms)
{
    return self->batching && self->requests >= S_HOLD_BEHIND && self->waiting.head &&
           self->waiting.n < S_BATCH_MAX && now_ms - self->waiting_since_ms < self->hold_ms;
}

/* Moves waiting jobs on: to the spool while it holds older events (so the
 * ledger keeps the order of acceptance), else onto the pipeline while it
 * has room (unless held: s_holding). */
static void s_dispatch(cairn_ingest_recorder_t *self)
{
    int64_t now = cairn_mono_ms();
    while (self->waiting.head) {
        if (self->spool && !cairn_ingest_spool_empty(self->spool)) {
            char err[512] = "";
            cairn_ingest_recorded_t rec = {0};
            s_job_t *job = s_list_pop(&self->waiting);
            int rc = s_spool(self, job->key, job->req, job->len, NULL, &rec, err, sizeof err);
            s_finish(self, job, rc, &rec, err);
            continue;
        }
        if (self->inflight.n >= S_INFLIGHT_MAX || s_holding(self, now))
            return;
        s_send(self, s_batch_size(self));
    }
}

/* Reads every reply that has arrived. The ledger answers a connection's
 * requests in the order it received them, so each reply belongs to the
 * oldest request in flight: an append, or the append_batch of the jobs
 * from the oldest on (its first job counts them). */
static void s_receive(cairn_ingest_recorder_t *self)
{
    while (self->dealer && self->inflight.head) {
        void *sock = zsock_resolve(self->dealer);
        zmq_msg_t delim, body;
        zmq_msg_init(&delim);
        if (zmq_msg_recv(&delim, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&delim);
            return;
        }
        bool framed = zmq_msg_size(&delim) == 0 && zmq_msg_more(&delim);
        bool more = zmq_msg_more(&delim);
        zmq_msg_close(&delim);
        zmq_msg_init(&body);
        if (more && zmq_msg_recv(&body, sock, 0) >= 0) {
            framed = framed && !zmq_msg_more(&body);
            while (zmq_msg_more(&body)) { /* drop any extra frames */
                zmq_msg_close(&body);
                zmq_msg_init(&body);
                if (zmq_msg_recv(&body, sock, 0) < 0)
                    break;
                framed = false;
            }
        } else {
            framed = false;
        }
        const uint8_t *reply = framed ? zmq_msg_data(&body) : (const uint8_t *)"";
        size_t reply_len = framed ? zmq_msg_size(&body) : 0; /* unreadable: refused */
        size_t n = self->inflight.head->batch;
        self->requests--;
        if (n <= 1) {
            s_answered(self, s_list_pop(&self->inflight), reply, reply_len);
        } else {
            s_job_t *jobs[S_BATCH_MAX];
            for (size_t i = 0; i < n; i++)
                jobs[i] = s_list_pop(&self->inflight);
            s_answered_batch(self, jobs, n, reply, reply_len);
        }
        zmq_msg_close(&body);
    }
}

/* When the oldest append in flight is past its deadline, the ledger is not
 * keeping up or is gone: the connection is dropped (its appends in flight
 * go to the spool) so a late answer is never taken for another append's. */
static void s_expire(cairn_ingest_recorder_t *self)
{
    if (!self->inflight.head || cairn_mono_ms() < self->inflight.head->deadline_ms)
        return;
    char why[256];
    snprintf(why, sizeof why, "the ledger did not acknowledge the event within %d ms",
             self->timeout_ms);
    CAIRN_WARN("the ledger is not acknowledging appends", "in_flight=%zu timeout_ms=%d",
               self->inflight.n, self->timeout_ms);
    s_drop_connection(self, why);
}

/* Before the sender sleeps: true (and marked idle, so the next job wakes
 * it) when nothing new was handed over meanwhile; false when there is work
 * to take first. A job handed over while the sender is awake costs no
 * wake-up: the sender takes it before it sleeps. While it waits for
 * answers anyway (the pipeline full, or jobs held for the next batch) it
 * sleeps until they come, and new jobs need not wake it. */
static bool s_sender_may_sleep(cairn_ingest_recorder_t *self)
{
    bool answers_first = self->inflight.n >= S_INFLIGHT_MAX ||
                         (self->batching && self->requests >= S_HOLD_BEHIND && self->waiting.head);
    pthread_mutex_lock(&self->queue_lock);
    bool empty = !self->queue.head;
    self->sender_idle = empty && !answers_first;
    pthread_mutex_unlock(&self->queue_lock);
    return empty || answers_first;
}

static void *s_sender(void *arg)
{
    cairn_ingest_recorder_t *self = arg;
    for (;;) {
        pthread_mutex_lock(&self->queue_lock);
        bool taken = self->queue.head != NULL;
        s_list_move(&self->waiting, &self->queue);
        bool stop = self->sender_stop;
        self->sender_idle = false;
        pthread_mutex_unlock(&self->queue_lock);
        if (taken && !self->waiting_since_ms)
            self->waiting_since_ms = cairn_mono_ms();
        s_dispatch(self);
        if (!self->waiting.head)
            self->waiting_since_ms = 0;
        if (stop && !self->waiting.head && !self->inflight.head)
            break;
        long timeout = S_POLL_MS;
        int64_t now = cairn_mono_ms();
        if (self->inflight.head) {
            int64_t left = self->inflight.head->deadline_ms - now;
            timeout = left < 0 ? 0 : left < S_POLL_MS ? (long)left : S_POLL_MS;
        }
        if (self->waiting.head && self->requests >= S_HOLD_BEHIND &&
            self->inflight.n < S_INFLIGHT_MAX) {
            /* held (s_holding): for hold_ms at most */
            int64_t left = self->waiting_since_ms + self->hold_ms - now;
            if (left < timeout)
                timeout = left < 0 ? 0 : (long)left;
        }
        /* Jobs that came while the sender was busy: only read the answers
         * that are in (without sleeping), then take them. */
        if (!s_sender_may_sleep(self)) {
            s_receive(self);
            s_expire(self);
            continue;
        }
        zmq_pollitem_t items[2] = {
            {NULL, self->wake_fd, ZMQ_POLLIN, 0},
            {self->dealer ? zsock_resolve(self->dealer) : NULL, 0, ZMQ_POLLIN, 0}};
        int n = zmq_poll(items, self->dealer ? 2 : 1, timeout);
        if (n > 0 && (items[0].revents & ZMQ_POLLIN)) {
            uint64_t count;
            if (read(self->wake_fd, &count, sizeof count) < 0 && errno != EAGAIN)
                CAIRN_WARN("cannot read the sender's wake-up", "error=%s",
                           cairn_log_quote(strerror(errno)));
        }
        s_receive(self);
        s_expire(self);
    }
    zsock_destroy(&self->dealer);
    return NULL;
}

/* Where s_pack puts a job: the block holds the job, then its key, then the
 * packed append (the codec asks for the append's room). */
typedef struct {
    cairn_ingest_recorder_t *self; /* whose spare blocks to use */
    size_t key_len;                /* bytes in the key */
    s_job_t *job;                  /* the block, once taken */
} s_job_room_t;

static void *s_job_room_alloc(void *data, size_t len)
{
    s_job_room_t *room = data;
    room->job = s_job_take(room->self, sizeof *room->job + room->key_len + 1 + len);
    return room->job ? (uint8_t *)(room->job + 1) + room->key_len + 1 : NULL;
}

static void s_job_room_free(void *data, void *ptr)
{
    s_job_room_t *room = data;
    (void)ptr;
    if (room->job)
        s_job_release(room->self, room->job);
    room->job = NULL;
}

/* Packs the append of ev under its idempotency key into a new job. */
static s_job_t *s_pack(cairn_ingest_recorder_t *self, const Cairn__V1__Event *ev)
{
    Cairn__V1__Record record = CAIRN__V1__RECORD__INIT;
    record.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    record.event = (Cairn__V1__Event *)ev;
    Cairn__V1__AppendRequest append = CAIRN__V1__APPEND_REQUEST__INIT;
    append.key = ev->idempotency_key ? ev->idempotency_key : (char *)"";
    append.record = &record;
    Cairn__V1__LedgerRequest request = CAIRN__V1__LEDGER_REQUEST__INIT;
    request.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    request.append = &append;
    s_job_room_t room = {.self = self, .key_len = strlen(append.key)};
    ProtobufCAllocator allocator = {s_job_room_alloc, s_job_room_free, &room};
    uint8_t *req = NULL;
    size_t len = 0;
    if (cairn_codec_pack_with(&allocator, &request.base, &req, &len) < 0)
        return NULL;
    s_job_t *job = room.job;
    size_t block = job->block;
    memset(job, 0, sizeof *job);
    job->block = block;
    job->key = (char *)(job + 1);
    memcpy(job->key, append.key, room.key_len + 1);
    job->req = req;
    job->len = len;
    return job;
}

void cairn_ingest_recorder_record_async(cairn_ingest_recorder_t *self, const Cairn__V1__Event *ev,
                                        cairn_ingest_record_fn done, void *arg)
{
    cairn_ingest_recorded_t none = {0};
    s_job_t *job = s_pack(self, ev);
    if (!job) {
        done(arg, -ENOMEM, &none, "ingest ran out of memory; retry later");
        return;
    }
    job->done = done;
    job->arg = arg;
    pthread_mutex_lock(&self->queue_lock);
    s_list_push(&self->queue, job);
    /* Only a sleeping sender needs waking, once: an awake one takes the
     * queue before it sleeps again (s_sender_may_sleep). */
    bool wake = self->sender_idle;
    self->sender_idle = false;
    pthread_mutex_unlock(&self->queue_lock);
    if (wake) {
        uint64_t one = 1;
        if (write(self->wake_fd, &one, sizeof one) < 0)
            CAIRN_WARN("cannot wake the sender", "error=%s", cairn_log_quote(strerror(errno)));
    }
}

/* A synchronous caller waiting for its event. */
typedef struct {
    cairn_ingest_latch_t latch;  /* opened when done */
    int rc;                      /* 0 or the failure */
    cairn_ingest_recorded_t rec; /* where it went */
    char err[512];               /* the failure's sentence */
} s_waiter_t;

static void s_waiter_done(void *arg, int rc, const cairn_ingest_recorded_t *rec, const char *err)
{
    s_waiter_t *w = arg;
    w->rc = rc;
    w->rec = *rec;
    snprintf(w->err, sizeof w->err, "%s", err ? err : "");
    cairn_ingest_latch_open(&w->latch);
}

int cairn_ingest_recorder_record(cairn_ingest_recorder_t *self, const Cairn__V1__Event *ev,
                                 cairn_ingest_recorded_t *out, char *err, size_t errlen)
{
    s_waiter_t w = {.rc = 0};
    cairn_ingest_latch_init(&w.latch);
    cairn_ingest_recorder_record_async(self, ev, s_waiter_done, &w);
    cairn_ingest_latch_wait(&w.latch);
    if (w.rc < 0) {
        snprintf(err, errlen, "%s", w.err);
        return w.rc;
    }
    *out = w.rec;
    return 0;
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

/* One pass: sends up to a batch of the oldest items in order (as one
 * append_batch, when there are several), removes the acknowledged ones.
 * Returns the number acknowledged, or -1 when the ledger did not take the
 * first one it was offered (the caller backs off). The ledger refuses an
 * append of a batch on its own only for what no retry changes (a bad
 * record): anything passing fails the whole batch, so a pause never leaves
 * a later item appended before an earlier one. */
static int s_drain_batch(cairn_ingest_recorder_t *self)
{
    cairn_ingest_spooled_t items[S_DRAIN_BATCH];
    uint64_t done[S_DRAIN_BATCH];
    size_t n = 0, n_done = 0;
    int result = 0;
    Cairn__V1__LedgerReply *batch = NULL;
    if (cairn_ingest_spool_peek(self->spool, items, S_DRAIN_BATCH, &n) < 0)
        return -1;
    if (!self->drain_client && !(self->drain_client = cairn_client_new(self->ledger_endpoint))) {
        result = -1;
        goto out;
    }
    bool batchable = n > 1 && self->batching;
    for (size_t i = 0; batchable && i < n; i++)
        batchable = s_is_append(items[i].request, items[i].len);
    if (batchable) {
        int status = 0;
        char why[256] = "";
        if (s_call_batch(self, self->drain_client, items, n, &batch, &status, why, sizeof why) !=
            S_ACKED) {
            CAIRN_DEBUG("spool drain paused", "seq=%" PRIu64 " events=%zu reason=%s", items[0].seq,
                        n, cairn_log_quote(why));
            result = -1;
            goto out;
        }
    }
    for (size_t i = 0; i < n && !s_stopping(self); i++) {
        cairn_ingest_recorded_t rec = {0};
        int status = 0;
        char why[256] = "";
        s_outcome_t outcome;
        if (batch)
            outcome = s_result(batch->results[i]->status, batch->results[i]->error,
                               batch->results[i]->ack, &rec, &status, why, sizeof why);
        else
            outcome = s_call(self, self->drain_client, items[i].request, items[i].len, &rec,
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
    CAIRN_CODEC_FREE(&batch);
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
    self->wake_fd = -1;
    self->batching = s_batch_framing();
    pthread_mutex_init(&self->queue_lock, NULL);
    pthread_mutex_init(&self->spare_lock, NULL);
    pthread_mutex_init(&self->wake_lock, NULL);
    pthread_cond_init(&self->wake, NULL);
    self->timeout_ms = settings->timeout_ms > 0 ? settings->timeout_ms : 1;
    self->hold_ms = settings->hold_ms > 0 ? settings->hold_ms : S_HOLD_MS;
    self->ledger_endpoint = strdup(settings->ledger_endpoint ? settings->ledger_endpoint : "");
    if (!self->ledger_endpoint) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((self->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        rc = -errno;
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
    if (pthread_create(&self->sender, NULL, s_sender, self) != 0) {
        rc = -EAGAIN;
        goto fail;
    }
    self->sender_started = true;
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
    /* The sender first: it finishes every event handed to it (into the
     * ledger or the spool) before it ends. */
    if (self->sender_started) {
        pthread_mutex_lock(&self->queue_lock);
        self->sender_stop = true;
        pthread_mutex_unlock(&self->queue_lock);
        uint64_t one = 1;
        if (write(self->wake_fd, &one, sizeof one) < 0)
            CAIRN_WARN("cannot wake the sender", "error=%s", cairn_log_quote(strerror(errno)));
        pthread_join(self->sender, NULL);
    }
    if (self->drainer_started) {
        pthread_mutex_lock(&self->wake_lock);
        self->stop = true;
        pthread_cond_signal(&self->wake);
        pthread_mutex_unlock(&self->wake_lock);
        pthread_join(self->drainer, NULL);
    }
    cairn_client_destroy(&self->drain_client);
    cairn_ingest_spool_destroy(&self->spool);
    if (self->wake_fd >= 0)
        close(self->wake_fd);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->wake_lock);
    pthread_mutex_destroy(&self->queue_lock);
    s_job_t *job;
    while ((job = s_list_pop(&self->spare)))
        free(job);
    pthread_mutex_destroy(&self->spare_lock);
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
            "cairn_ingest_ledger_unanswered_total %" PRIu64 "\n"
            "# HELP cairn_ingest_ledger_batches_total append_batch requests sent to the ledger "
            "(several appends in one request).\n"
            "# TYPE cairn_ingest_ledger_batches_total counter\n"
            "cairn_ingest_ledger_batches_total %" PRIu64 "\n"
            "# HELP cairn_ingest_ledger_batched_appends_total Appends sent in append_batch "
            "requests.\n"
            "# TYPE cairn_ingest_ledger_batched_appends_total counter\n"
            "cairn_ingest_ledger_batched_appends_total %" PRIu64 "\n",
            st.depth, st.bytes, st.max_depth, st.max_bytes, age, st.dead,
            atomic_load(&self->spooled), atomic_load(&self->drained),
            atomic_load(&self->spool_full), atomic_load(&self->ledger_unanswered),
            atomic_load(&self->batches), atomic_load(&self->batched));
}
