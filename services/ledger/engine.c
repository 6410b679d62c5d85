/* The ledger engine: drains LedgerRequests from the ROUTER socket in batches,
 * writes the batch's appends, holds and purges in one durable commit with a
 * new signed checkpoint, answers every request (appends with a receipt),
 * then publishes each new entry on the PUB socket in log order. A writer
 * thread commits one batch while the loop thread answers the one before
 * and receives the one after (s_pipeline). */
#include "engine.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "arena.h"
#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/ledger_batch.h"
#include "cairn/log.h"
#include "cairn/note.h"
#include "cairn/signals.h"
#include "cairn/util.h"
#include "cpfile.h"
#include "export.h"
#include "keyfile.h"
#include "query.h"
#include "receipt.h"
#include "retention.h"
#include "store.h"

#define S_TOPIC_MAX 1024
#define S_ERROR_MAX 256
/* Entry bytes per replay reply; a page always carries at least one entry. */
#define S_REPLAY_BUDGET (16u * 1024u * 1024u)
/* Entry bytes per query or export reply, leaving room under the codec's limit. */
#define S_QUERY_BUDGET (CAIRN_CODEC_MAX_BYTES - 1024u * 1024u)
#define S_STATS_EVERY_MS 60000
/* Bytes of a rejected request shown in the log for inspection. */
#define S_LOG_HEAD_BYTES 32
/* Payloads one purge request deletes (and its entry lists) at most. */
#define S_PURGE_MAX 1000
/* Event types of the entries the ledger writes itself. */
#define S_TYPE_HOLD "dev.cdeventsx.cairn-ledger.hold.0.1.0"
#define S_TYPE_UNHOLD "dev.cdeventsx.cairn-ledger.unhold.0.1.0"
#define S_TYPE_PURGE "dev.cdeventsx.cairn-ledger.purge.0.1.0"

/* Most appends in one append_batch request (all committed in one batch). */
#define S_APPEND_BATCH_MAX CAIRN_LEDGER_APPEND_BATCH_MAX

/* One request of the current batch, from receipt to reply; also one append
 * of an append_batch request (then without peer and req). */
typedef struct s_request {
    cairn_bus_peer_t peer;                      /* who asked; consumed by the reply */
    Cairn__V1__LedgerRequestView *req;          /* the decoded request; NULL when malformed */
    const Cairn__V1__AppendRequestView *append; /* append: the request's, or one of a batch's */
    const Cairn__V1__Record *rec;               /* append: its record, decoded */
    struct s_request *items;                    /* append_batch: one per append, in order */
    size_t n_items;                             /* how many */
    int status;                                 /* 0, or the code the request is answered with */
    char error[S_ERROR_MAX];                    /* what went wrong, for people, when status != 0 */
    char topic[S_TOPIC_MAX];                    /* the topic of the entry it appends */
    bool appended;                              /* a write that produced result (ack it) */
    cairn_ledger_record_t in;                   /* append: what it appends (s_check_append) */
    cairn_ledger_append_t result;               /* where its entry landed */
    uint8_t *own_record;   /* the record of an entry the ledger writes itself */
    uint64_t purged;       /* purge: payloads deleted */
    uint64_t held;         /* purge: payloads kept by a hold */
    bool more;             /* purge: more are due */
    const uint8_t *record; /* append: the record's bytes as they came (the payload), in the arena */
    size_t record_len;     /* its bytes */
    uint8_t record_sha256[CAIRN_HASH_BYTES]; /* append: SHA-256 of record */
    uint8_t key_sha256[CAIRN_HASH_BYTES];    /* append: SHA-256 of its key, when it has one */
    uint8_t *proof;                          /* inclusion proof of result.index, in the arena */
    size_t proof_count;                      /* hashes in proof */
} s_request_t;

/* Batches the loop hands the writer at most, one after another, before it
 * returns to its caller (which checks for a stop request). */
#define S_PIPELINE_ROUNDS 64

/* Requests the loop reads into a batch between two offers of it to the writer. */
#define S_OFFER_EVERY 32

/* One batch of requests, and what their answers need from the store, taken
 * while the store was the batch's: the writer goes on with the next batch
 * while this one is answered. */
typedef struct {
    s_request_t reqs[CAIRN_LEDGER_BATCH_MAX]; /* the requests, in arrival order */
    size_t n;                                 /* how many */
    size_t writes;                            /* appends among them (s_write_count) */
    uint64_t size;                            /* entries after the batch's commit */
    char *note;                               /* signed checkpoint the receipts are against */
    size_t note_len;                          /* its bytes */
    uint64_t note_size;                       /* its tree size */
    bool written;                             /* the writer is done with it (guarded by the lock) */
    bool committed;                           /* its writes were committed */
    bool unsynced;                            /* committed, not yet known durable (s_sync_batch) */
    int sync_rc;                              /* the writer's flush of it failed with this */
    bool taken;                 /* the writer took it when offered (guarded by the lock) */
    cairn_ledger_arena_t arena; /* the requests' decoded messages, records and replies */
} s_batch_t;

struct cairn_ledger_t {
    cairn_ledger_store_t *store;      /* the log */
    cairn_note_signer_t *signer;      /* signs checkpoints */
    zsock_t *api;                     /* ROUTER: LedgerRequest in, LedgerReply out */
    zsock_t *stream;                  /* PUB: [topic][Entry] per appended entry */
    uint64_t replay_page;             /* most entries per replay reply */
    int64_t retention_ms;             /* payloads younger than this are never purged */
    size_t batch_max;                 /* most requests per batch */
    int64_t batch_delay_ms;           /* how long a batch gathers writes */
    bool log_appends;                 /* log.level is debug: one line per append */
    cairn_ledger_stats_t stats;       /* counters since start */
    cairn_ledger_stats_t logged;      /* counters when last logged */
    int64_t next_log_ms;              /* monotonic time of the next counter line */
    cairn_ledger_stats_t wstats;      /* counters of whichever thread writes a batch */
    cairn_ledger_stats_t wdone;       /* the writer's counters after each job (guarded) */
    cairn_ledger_receipt_cache_t b64; /* base64 of recent proof hashes, for receipts */
    s_batch_t slots[3];               /* being written, gathered, waiting for its flush */
    pthread_t writer;                 /* writes and commits the batches handed to it */
    bool writer_started;              /* writer runs */
    pthread_mutex_t lock;             /* guards job, sealed, quit, wdone, batches' written */
    pthread_cond_t wake;              /* tells the writer about a job or quit */
    s_batch_t *job;                   /* the batch the writer writes; NULL when idle */
    s_batch_t *sealed;                /* batch the writer takes itself after job (s_offer) */
    bool quit;                        /* the writer must exit */
    int done_fd;                      /* eventfd the writer signals after each job */
    uint64_t durable_size;            /* entries known to be on disk (answered) */
    cairn_ledger_cpfile_t *cpfile;    /* the latest answered checkpoint, outside the store */
};

static void s_log_stats(cairn_ledger_t *self)
{
    const cairn_ledger_stats_t *s = &self->stats;
    CAIRN_INFO("ledger counters",
               "size=%" PRIu64 " appends=%" PRIu64 " duplicates=%" PRIu64 " bad_requests=%" PRIu64
               " store_errors=%" PRIu64 " replays=%" PRIu64 " queries=%" PRIu64 " batches=%" PRIu64
               " proofs=%" PRIu64 " exports=%" PRIu64 " purged=%" PRIu64 " chained=%" PRIu64,
               cairn_ledger_store_size(self->store), s->appends, s->duplicates, s->bad_requests,
               s->store_errors, s->replays, s->queries, s->batches, s->proofs, s->exports,
               s->purged, s->chained);
    self->logged = self->stats;
}

static int s_open_key(cairn_ledger_t *self, const char *path, const char *origin)
{
    bool created = false;
    int rc = cairn_ledger_keyfile_open(path, origin, &self->signer, &created);
    if (rc == -EPERM) {
        CAIRN_ERROR("refusing a ledger signing key others can read", "path=%s hint=%s",
                    cairn_log_quote(path),
                    cairn_log_quote("the key must be readable by its owner only: chmod 600 it"));
        return rc;
    }
    if (rc == CAIRN_ECONFIG) {
        CAIRN_ERROR("ledger signing key is for another origin", "path=%s origin=%s hint=%s",
                    cairn_log_quote(path), cairn_log_quote(origin),
                    cairn_log_quote("a checkpoint key is named after ledger.origin; use the key "
                                    "of this log or set ledger.origin to the key's name"));
        return rc;
    }
    if (rc < 0) {
        CAIRN_ERROR("cannot load ledger signing key", "path=%s error=%s", cairn_log_quote(path),
                    cairn_log_quote(cairn_strerror(rc)));
        return rc;
    }
    char *vkey = NULL;
    if (created && cairn_note_signer_vkey(self->signer, &vkey) == 0)
        CAIRN_INFO("created ledger signing key", "path=%s vkey=%s hint=%s", cairn_log_quote(path),
                   cairn_log_quote(vkey),
                   cairn_log_quote("back the key up; auditors verify checkpoints with the vkey"));
    free(vkey);
    return 0;
}

static int s_open_store(cairn_ledger_t *self, const cairn_config_t *config, const char *origin)
{
    const char *path = cairn_config_str(config, "ledger.path");
    size_t map_size = (size_t)cairn_config_int(config, "ledger.map_size");
    int rc = cairn_ledger_store_open(path, map_size, origin, self->signer, &self->store);
    if (rc == CAIRN_EINTEGRITY) {
        CAIRN_ERROR("cannot open ledger store", "path=%s error=%s hint=%s", cairn_log_quote(path),
                    cairn_log_quote(cairn_strerror(rc)),
                    cairn_log_quote("the stored tree does not match its last signed checkpoint; "
                                    "run `cairn log verify` to find the first bad entry, then "
                                    "restore the ledger directory from a backup"));
        return rc;
    }
    if (rc == CAIRN_ETOOLARGE) {
        CAIRN_ERROR("cannot open ledger store", "path=%s map_size=%zu hint=%s",
                    cairn_log_quote(path), map_size,
                    cairn_log_quote("the store was written in an older storage layout, and "
                                    "rewriting it in this one needs room for a copy of the log "
                                    "beside the original: raise ledger.map_size (about twice "
                                    "the size of data.mdb) and start again; the store is "
                                    "unchanged"));
        return rc;
    }
    if (rc == CAIRN_ECONFIG) {
        CAIRN_ERROR("cannot open ledger store", "path=%s origin=%s hint=%s", cairn_log_quote(path),
                    cairn_log_quote(origin),
                    cairn_log_quote("the store was created for another ledger.origin (a log "
                                    "keeps its origin for life), or by a ledger version with "
                                    "another storage layout (see docs/ledger.md)"));
        return rc;
    }
    if (rc < 0) {
        CAIRN_ERROR("cannot open ledger store", "path=%s error=%s", cairn_log_quote(path),
                    cairn_log_quote(cairn_strerror(rc)));
        return rc;
    }
    if (cairn_ledger_store_migrated(self->store))
        CAIRN_INFO("migrated ledger store", "path=%s layout=%d", cairn_log_quote(path),
                   CAIRN_LEDGER_LAYOUT_VERSION);
    cairn_ledger_head_t head;
    char hex[2 * CAIRN_HASH_BYTES + 1];
    cairn_ledger_store_head(self->store, &head);
    cairn_hex(head.root, sizeof head.root, hex);
    CAIRN_INFO("opened ledger",
               "path=%s origin=%s size=%" PRIu64 " checkpoint_size=%" PRIu64
               " root=%s vkey=%s keys=%zu key_index_bytes=%zu",
               cairn_log_quote(path), cairn_log_quote(origin), cairn_ledger_store_size(self->store),
               head.size, hex, cairn_log_quote(cairn_ledger_store_vkey(self->store)),
               cairn_ledger_store_key_count(self->store),
               cairn_ledger_store_key_bytes(self->store));
    return 0;
}

static void *s_writer_run(void *arg);

/* Starts the thread that writes and commits batches (see s_pipeline). */
static int s_writer_open(cairn_ledger_t *self)
{
    sigset_t all, old;
    int err = 0;
    if ((self->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
        return -errno;
    if ((err = pthread_mutex_init(&self->lock, NULL)) != 0)
        return -err;
    if ((err = pthread_cond_init(&self->wake, NULL)) != 0)
        goto fail_lock;
    /* Signals (SIGTERM, SIGINT) go to the loop thread, which checks for a stop. */
    sigfillset(&all);
    if ((err = pthread_sigmask(SIG_BLOCK, &all, &old)) != 0)
        goto fail_cond;
    err = pthread_create(&self->writer, NULL, s_writer_run, self);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0)
        goto fail_cond;
    self->writer_started = true;
    return 0;
fail_cond:
    pthread_cond_destroy(&self->wake);
fail_lock:
    pthread_mutex_destroy(&self->lock);
    return -err;
}

/* Stops the writer (idle: the loop never returns with a batch in flight). */
static void s_writer_close(cairn_ledger_t *self)
{
    if (self->writer_started) {
        pthread_mutex_lock(&self->lock);
        self->quit = true;
        pthread_cond_signal(&self->wake);
        pthread_mutex_unlock(&self->lock);
        pthread_join(self->writer, NULL);
        pthread_cond_destroy(&self->wake);
        pthread_mutex_destroy(&self->lock);
        self->writer_started = false;
    }
    if (self->done_fd >= 0)
        close(self->done_fd);
    self->done_fd = -1;
}

cairn_ledger_t *cairn_ledger_new(const cairn_config_t *config)
{
    int rc = 0;
    const char *api = cairn_config_str(config, "bus.ledger_api");
    const char *stream = cairn_config_str(config, "bus.ledger_stream");
    const char *origin = cairn_config_str(config, "ledger.origin");
    cairn_ledger_t *self = calloc(1, sizeof *self);
    if (!self) {
        CAIRN_ERROR("cannot start ledger", "error=%s", cairn_log_quote(cairn_strerror(-ENOMEM)));
        return NULL;
    }
    self->done_fd = -1;
    self->replay_page = (uint64_t)cairn_config_int(config, "ledger.replay_page");
    self->retention_ms = cairn_config_int(config, "ledger.retention");
    self->batch_max = (size_t)cairn_config_int(config, "ledger.batch_max");
    if (self->batch_max == 0 || self->batch_max > CAIRN_LEDGER_BATCH_MAX)
        self->batch_max = CAIRN_LEDGER_BATCH_MAX;
    self->batch_delay_ms = cairn_config_int(config, "ledger.batch_delay");
    self->log_appends = strcmp(cairn_config_str(config, "log.level"), "debug") == 0;
    if (!cairn_note_key_name_valid(origin)) {
        CAIRN_ERROR("invalid ledger.origin", "origin=%s hint=%s", cairn_log_quote(origin),
                    cairn_log_quote("use a name like example.com/ledger: no spaces or '+'"));
        goto fail;
    }
    if (s_open_key(self, cairn_config_str(config, "ledger.key_file"), origin) < 0 ||
        s_open_store(self, config, origin) < 0)
        goto fail;
    self->durable_size = cairn_ledger_store_size(self->store); /* flushed when it opened */
    if (!(self->cpfile =
              cairn_ledger_cpfile_new(cairn_config_str(config, "ledger.checkpoint_file")))) {
        CAIRN_ERROR("cannot start ledger", "error=%s", cairn_log_quote(cairn_strerror(-ENOMEM)));
        goto fail;
    }
    if (cairn_ledger_cpfile_check(self->cpfile, self->store) < 0)
        goto fail;

    if ((rc = cairn_bus_bind(ZMQ_PUB, stream, &self->stream)) < 0) {
        CAIRN_ERROR("cannot bind ledger stream", "endpoint=%s error=%s", cairn_log_quote(stream),
                    cairn_log_quote(cairn_strerror(rc)));
        goto fail;
    }
    if ((rc = cairn_bus_bind(ZMQ_ROUTER, api, &self->api)) < 0) {
        CAIRN_ERROR("cannot bind ledger api", "endpoint=%s error=%s", cairn_log_quote(api),
                    cairn_log_quote(cairn_strerror(rc)));
        goto fail;
    }
    /* Receives never block: the loop polls, then drains what is waiting. */
    zsock_set_rcvtimeo(self->api, 0);
    if ((rc = s_writer_open(self)) < 0) {
        CAIRN_ERROR("cannot start the ledger's writer thread", "error=%s",
                    cairn_log_quote(cairn_strerror(rc)));
        goto fail;
    }
    CAIRN_INFO("ledger listening", "api=%s stream=%s replay_page=%" PRIu64, cairn_log_quote(api),
               cairn_log_quote(stream), self->replay_page);
    self->next_log_ms = cairn_mono_ms() + S_STATS_EVERY_MS;
    return self;
fail:
    zsock_destroy(&self->api);
    zsock_destroy(&self->stream);
    cairn_ledger_cpfile_destroy(&self->cpfile);
    cairn_ledger_store_destroy(&self->store);
    cairn_note_signer_destroy(&self->signer);
    if (self->done_fd >= 0)
        close(self->done_fd);
    free(self);
    return NULL;
}

void cairn_ledger_destroy(cairn_ledger_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ledger_t *self = *self_p;
    s_writer_close(self);
    s_log_stats(self);
    zsock_destroy(&self->api);
    zsock_destroy(&self->stream);
    cairn_ledger_cpfile_destroy(&self->cpfile); /* writes the latest answered checkpoint */
    cairn_ledger_store_destroy(&self->store);
    cairn_note_signer_destroy(&self->signer);
    for (size_t i = 0; i < sizeof self->slots / sizeof self->slots[0]; i++)
        cairn_ledger_arena_free_all(&self->slots[i].arena);
    free(self);
    *self_p = NULL;
}

void cairn_ledger_stats(const cairn_ledger_t *self, cairn_ledger_stats_t *out)
{
    *out = self->stats;
}

uint64_t cairn_ledger_size(const cairn_ledger_t *self)
{
    return cairn_ledger_store_size(self->store);
}

static void s_reject(cairn_ledger_t *self, s_request_t *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_reject(cairn_ledger_t *self, s_request_t *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
    r->status = status;
    self->stats.bad_requests++;
}

/* Checks an append: one record, well-formed, with exactly one body that
 * yields a topic. The record's bytes as they came are the payload: stored,
 * digested into the leaf, served; digested here, before the batch, off the
 * writer's path. */
static void s_check_append(cairn_ledger_t *self, cairn_ledger_arena_t *arena, s_request_t *r)
{
    const Cairn__V1__AppendRequestView *a = r->append;
    const char *key = a && a->key ? a->key : "";
    Cairn__V1__Record *rec = NULL;
    if (!a) {
        s_reject(self, r, CAIRN_EINVALID, "append carries no request");
    } else if (a->n_record == 0) {
        s_reject(self, r, CAIRN_EINVALID, "append carries no record");
    } else if (a->n_record > 1) {
        s_reject(self, r, CAIRN_EINVALID, "append carries %zu records; send exactly one",
                 a->n_record);
    } else if (cairn_codec_record_unpack_with(cairn_ledger_arena_allocator(arena),
                                              a->record[0].data, a->record[0].len, &rec) < 0) {
        s_reject(self, r, CAIRN_EPROTO, "append's record is not a cairn.v1.Record (%zu bytes)",
                 a->record[0].len);
    } else if (rec->body_case == CAIRN__V1__RECORD__BODY__NOT_SET) {
        s_reject(self, r, CAIRN_EINVALID,
                 "record has no body: set exactly one of event, verdict, alert, receipt");
    } else {
        int rc = cairn_codec_record_topic(rec, r->topic, sizeof r->topic);
        if (rc == CAIRN_ETOOLARGE)
            s_reject(self, r, CAIRN_EINVALID, "record topic is longer than %d bytes",
                     S_TOPIC_MAX - 1);
        else if (rc < 0 && rec->body_case == CAIRN__V1__RECORD__BODY_EVENT)
            s_reject(self, r, CAIRN_EINVALID, "event record has no type");
        else if (rc < 0)
            s_reject(self, r, CAIRN_EINVALID, "record has no topic: %s", cairn_strerror(rc));
    }
    if (r->status != 0) {
        CAIRN_WARN("rejected append", "key=%s reason=%s", cairn_log_quote(key),
                   cairn_log_quote(r->error));
        return;
    }
    r->rec = rec;
    r->record = a->record[0].data;
    r->record_len = a->record[0].len;
    cairn_sha256(r->record, r->record_len, r->record_sha256);
    if (*key)
        cairn_sha256(key, strlen(key), r->key_sha256);
    /* What the store indexes, read from the record here rather than on the
     * writer, which would only have to fetch the record into its cache. */
    r->in = (cairn_ledger_record_t){
        .key = a->key,
        .topic = r->topic,
        .change_id = cairn_codec_record_change(rec),
        .environment = cairn_codec_record_environment(rec),
        .record = r->record,
        .record_len = r->record_len,
        .record_sha256 = r->record_sha256,
        .key_sha256 = r->key_sha256,
    };
    if (rec->body_case == CAIRN__V1__RECORD__BODY_EVENT) {
        const Cairn__V1__Event *ev = rec->event;
        if (ev->correlation)
            r->in.release_id = ev->correlation->release_id;
        if (ev->governance) {
            r->in.actors[0] = ev->governance->actor;
            r->in.actors[1] = ev->governance->approver;
        }
    }
}

static bool s_nonempty(const char *s)
{
    return s && *s;
}

/* Checks an append_batch and each of its appends: a bad append is answered
 * in its own result, the others go on. */
static void s_check_batch(cairn_ledger_t *self, cairn_ledger_arena_t *arena, s_request_t *r)
{
    const Cairn__V1__AppendBatchRequestView *b = r->req->append_batch;
    size_t n = b ? b->n_appends : 0;
    if (n == 0 || n > S_APPEND_BATCH_MAX) {
        s_reject(self, r, CAIRN_EINVALID, "append_batch carries %zu appends; send 1 to %d", n,
                 S_APPEND_BATCH_MAX);
        CAIRN_WARN("rejected request", "reason=%s", cairn_log_quote(r->error));
        return;
    }
    if (!(r->items = cairn_ledger_arena_calloc(arena, n, sizeof *r->items))) {
        r->status = -ENOMEM;
        snprintf(r->error, sizeof r->error, "the ledger is out of memory; retry later");
        return;
    }
    r->n_items = n;
    for (size_t i = 0; i < n; i++) {
        r->items[i].append = b->appends[i];
        s_check_append(self, arena, &r->items[i]);
    }
}

static void s_check_hold(cairn_ledger_t *self, s_request_t *r, const Cairn__V1__LegalHoldRequest *h)
{
    if (!h || s_nonempty(h->change_id) == s_nonempty(h->release_id)) {
        s_reject(self, r, CAIRN_EINVALID,
                 "a legal hold names exactly one of change_id, release_id");
        CAIRN_WARN("rejected request", "reason=%s", cairn_log_quote(r->error));
    }
}

/* Decodes one request into the batch's arena and checks what can be
 * checked before the store. */
static void s_decode(cairn_ledger_t *self, cairn_ledger_arena_t *arena, s_request_t *r,
                     const uint8_t *payload, size_t len)
{
    if (cairn_codec_ledger_request_view_unpack_with(cairn_ledger_arena_allocator(arena), payload,
                                                    len, &r->req) < 0) {
        char head[2 * S_LOG_HEAD_BYTES + 1];
        cairn_hex(payload, len < S_LOG_HEAD_BYTES ? len : S_LOG_HEAD_BYTES, head);
        s_reject(self, r, CAIRN_EPROTO, "request is not a cairn.v1.LedgerRequest (%zu bytes)", len);
        CAIRN_WARN("rejected malformed request", "bytes=%zu head=%s", len, head);
        return;
    }
    switch (r->req->body_case) {
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND:
        r->append = r->req->append;
        s_check_append(self, arena, r);
        break;
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND_BATCH: s_check_batch(self, arena, r); break;
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_HOLD: s_check_hold(self, r, r->req->hold); break;
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_UNHOLD: s_check_hold(self, r, r->req->unhold); break;
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_REPLAY:
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_QUERY:
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_HEAD:
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_CHECKPOINT:
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_PROVE:
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_CONSISTENCY:
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_EXPORT:
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_PURGE: break;
    default:
        s_reject(self, r, CAIRN_EINVALID,
                 "request names no operation: set one of append, append_batch, replay, query, "
                 "head, checkpoint, prove, consistency, export, purge, hold, unhold");
        CAIRN_WARN("rejected request", "reason=%s", cairn_log_quote(r->error));
        break;
    }
}

/* True for a checked request that writes to the log. */
static bool s_is_write(const s_request_t *r)
{
    if (r->status != 0 || !r->req)
        return false;
    switch (r->req->body_case) {
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND:
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND_BATCH:
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_HOLD:
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_UNHOLD:
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_PURGE: return true;
    default: return false;
    }
}

/* Appends a checked write adds to the batch (an upper bound). */
static size_t s_write_count(const s_request_t *r)
{
    if (!s_is_write(r))
        return 0;
    return r->req->body_case == CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND_BATCH ? r->n_items : 1;
}

/* Appends packed record bytes in the open batch. A value the leaf format
 * refuses rejects this request only; any other failure ends the batch. */
static int s_store_append(cairn_ledger_t *self, s_request_t *r, const cairn_ledger_record_t *in)
{
    r->in = *in;
    int rc = cairn_ledger_store_append(self->store, in, &r->result);
    if (rc == CAIRN_EINVALID) {
        r->status = CAIRN_EINVALID;
        snprintf(r->error, sizeof r->error,
                 "the record's topic, change or release holds a control character or invalid "
                 "UTF-8");
        self->wstats.bad_requests++;
        CAIRN_WARN("rejected append", "key=%s reason=%s", cairn_log_quote(in->key),
                   cairn_log_quote(r->error));
        return 0;
    }
    if (rc == 0)
        r->appended = true;
    return rc;
}

/* Appends one checked record inside the open batch (r->in is filled by
 * s_check_append). */
static int s_append_one(cairn_ledger_t *self, s_request_t *r, int64_t now_ms)
{
    cairn_ledger_record_t in = r->in;
    in.appended_at_ms = now_ms;
    return s_store_append(self, r, &in);
}

/* Appends an event the ledger writes itself (hold, unhold, purge) with data. */
static int s_append_own(cairn_ledger_t *self, s_request_t *r, const char *type, const char *actor,
                        json_t *data, int64_t now_ms)
{
    char id[64];
    uint8_t *record = NULL;
    size_t record_len = 0;
    char *json = json_dumps(data, JSON_COMPACT);
    if (!json)
        return -ENOMEM;
    snprintf(id, sizeof id, "ledger-%" PRIu64, cairn_ledger_store_pending_size(self->store));
    Cairn__V1__Governance gov = CAIRN__V1__GOVERNANCE__INIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    gov.actor = (char *)(actor ? actor : "");
    ev.id = id;
    ev.source = "cairn-ledger";
    ev.spec_version = "1.0";
    ev.type = (char *)type;
    ev.data_content_type = "application/json";
    ev.data.data = (uint8_t *)json;
    ev.data.len = strlen(json);
    ev.governance = &gov;
    ev.ingest_source = "cairn-ledger";
    ev.received_at_ms = now_ms;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    int rc = cairn_codec_pack(&rec.base, &record, &record_len);
    free(json);
    if (rc < 0)
        return rc;
    snprintf(r->topic, sizeof r->topic, "%s", type);
    cairn_ledger_record_t in = {
        .topic = r->topic,
        .actors = {actor, NULL},
        .appended_at_ms = now_ms,
        .record = record,
        .record_len = record_len,
    };
    rc = s_store_append(self, r, &in);
    r->own_record = record; /* the published entry carries it */
    return rc;
}

/* Places or lifts a legal hold, recorded as an entry. */
static int s_hold_one(cairn_ledger_t *self, s_request_t *r, bool on, int64_t now_ms)
{
    const Cairn__V1__LegalHoldRequest *h = on ? r->req->hold : r->req->unhold;
    const char *change = s_nonempty(h->change_id) ? h->change_id : NULL;
    const char *release = change ? NULL : h->release_id;
    uint64_t at = 0;
    int rc = cairn_ledger_hold_find(self->store, change, release, &at);
    if (rc < 0 && rc != CAIRN_ENOTFOUND)
        return cairn_ledger_store_fail(self->store, rc);
    if (!on && rc == CAIRN_ENOTFOUND) {
        r->status = CAIRN_ENOTFOUND;
        snprintf(r->error, sizeof r->error, "no legal hold on %s %s", change ? "change" : "release",
                 change ? change : release);
        return 0;
    }
    json_t *data =
        json_pack("{s:s, s:s, s:s}", change ? "change" : "release", change ? change : release,
                  "reason", h->reason ? h->reason : "", "actor", h->actor ? h->actor : "");
    if (!data)
        return -ENOMEM;
    rc = s_append_own(self, r, on ? S_TYPE_HOLD : S_TYPE_UNHOLD, h->actor, data, now_ms);
    json_decref(data);
    if (rc == 0 && r->appended)
        rc = cairn_ledger_hold_set(self->store, change, release, on, r->result.index);
    if (rc == 0 && r->appended)
        CAIRN_INFO(on ? "placed legal hold" : "lifted legal hold", "%s=%s index=%" PRIu64,
                   change ? "change" : "release", cairn_log_quote(change ? change : release),
                   r->result.index);
    return rc;
}

/* Deletes due payloads and appends the entry that lists them. */
static int s_purge_one(cairn_ledger_t *self, s_request_t *r, int64_t now_ms)
{
    const Cairn__V1__PurgeRequest *p = r->req->purge;
    int64_t cutoff = now_ms - self->retention_ms;
    if (p->before_ms > 0 && p->before_ms < cutoff)
        cutoff = p->before_ms;
    cairn_ledger_purge_t plan = {0};
    int rc = cairn_ledger_purge_plan(self->store, cutoff, S_PURGE_MAX, &plan);
    if (rc < 0)
        return cairn_ledger_store_fail(self->store, rc);
    r->held = plan.held;
    r->more = plan.more;
    if (plan.n == 0)
        goto out;
    json_t *list = json_array();
    json_t *data = json_pack("{s:I, s:o, s:I}", "before_ms", (json_int_t)cutoff, "purged", list,
                             "held", (json_int_t)plan.held);
    if (!list || !data) {
        json_decref(data);
        rc = -ENOMEM;
        goto out;
    }
    char hex[2 * CAIRN_HASH_BYTES + 1], item[sizeof hex + 8];
    for (size_t i = 0; i < plan.n && rc == 0; i++) {
        cairn_hex(plan.digests[i], CAIRN_HASH_BYTES, hex);
        snprintf(item, sizeof item, "sha256:%s", hex);
        rc = json_array_append_new(list, json_string(item)) == 0 ? 0 : -ENOMEM;
    }
    if (rc == 0)
        rc = s_append_own(self, r, S_TYPE_PURGE, p->actor, data, now_ms);
    json_decref(data);
    if (rc == 0 && r->appended)
        rc = cairn_ledger_purge_apply(self->store, &plan, r->result.index);
    if (rc == 0 && r->appended)
        r->purged = plan.n;
out:
    cairn_ledger_purge_clear(&plan);
    return rc;
}

/* Appends every checked append of an append_batch, in order. */
static int s_append_items(cairn_ledger_t *self, s_request_t *r, int64_t now_ms)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->n_items; i++)
        if (r->items[i].status == 0)
            rc = s_append_one(self, &r->items[i], now_ms);
    return rc;
}

static int s_write_one(cairn_ledger_t *self, s_request_t *r, int64_t now_ms)
{
    switch (r->req->body_case) {
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND: return s_append_one(self, r, now_ms);
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND_BATCH: return s_append_items(self, r, now_ms);
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_HOLD: return s_hold_one(self, r, true, now_ms);
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_UNHOLD: return s_hold_one(self, r, false, now_ms);
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_PURGE: return s_purge_one(self, r, now_ms);
    default: return 0;
    }
}

/* Answers a write of a batch that failed to commit with the error. */
static void s_fail_write(cairn_ledger_t *self, s_request_t *r, int rc)
{
    free(r->result.leaf);
    memset(&r->result, 0, sizeof r->result);
    r->appended = false;
    r->purged = 0;
    r->status = rc < 0 ? rc : CAIRN_ESTORE;
    snprintf(r->error, sizeof r->error,
             "the ledger could not store the entry (%s); nothing was appended, retry with "
             "the same key",
             cairn_strerror(r->status));
    self->wstats.store_errors += r->n_items == 0;
}

/* Answers every write of a batch, and every append of an append_batch
 * not refused on its own, with rc through fail. */
static void s_fail_writes(cairn_ledger_t *self, s_request_t *batch, size_t n, int rc,
                          void (*fail)(cairn_ledger_t *, s_request_t *, int))
{
    for (size_t i = 0; i < n; i++) {
        s_request_t *r = &batch[i];
        if (!s_is_write(r))
            continue;
        for (size_t j = 0; j < r->n_items; j++)
            if (r->items[j].status == 0)
                fail(self, &r->items[j], rc);
        fail(self, r, rc);
    }
}

/* Writes every checked write of the batch in one transaction. On failure no
 * write of the batch is kept, and each is answered with the error. True
 * when it committed: the commit is durable only after a flush (s_sync_batch,
 * or the next batch's commit). */
static bool s_write_batch(cairn_ledger_t *self, s_request_t *batch, size_t n)
{
    size_t writes = 0;
    for (size_t i = 0; i < n; i++)
        writes += s_write_count(&batch[i]);
    if (writes == 0)
        return false;
    int64_t now_ms = cairn_now_ms();
    int rc = cairn_ledger_store_begin(self->store);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (s_is_write(&batch[i]))
            rc = s_write_one(self, &batch[i], now_ms);
    if (rc == 0)
        rc = cairn_ledger_store_commit_deferred(self->store);
    else
        cairn_ledger_store_abort(self->store);
    if (rc == 0) {
        self->wstats.batches++;
        return true;
    }
    CAIRN_ERROR("append batch failed", "writes=%zu error=%s lmdb=%s%s", writes,
                cairn_log_quote(cairn_strerror(rc)),
                cairn_log_quote(cairn_ledger_store_last_error(self->store)),
                cairn_ledger_store_full(self->store)
                    ? " hint=\"the store reached ledger.map_size; raise it and restart\""
                : rc == CAIRN_EINTEGRITY ? " hint=\"the stored tree no longer matches the last "
                                           "checkpoint; nothing was signed; stop the ledger "
                                           "and run `cairn log verify`\""
                                         : "");
    s_fail_writes(self, batch, n, rc, s_fail_write);
    return false;
}

/* Entries gathered for a replay or query reply. */
typedef struct {
    Cairn__V1__Entry **items; /* unpacked entries, in log order */
    size_t n, cap;            /* used and allocated slots */
    size_t bytes;             /* packed bytes gathered so far */
    size_t budget;            /* stop (replay) or fail (query) beyond this */
    bool over;                /* the budget was exceeded */
} s_gather_t;

static int s_gather_one(void *arg, uint64_t index, const uint8_t *entry, size_t len)
{
    s_gather_t *g = arg;
    if (g->n > 0 && g->bytes + len > g->budget) {
        g->over = true;
        return 1;
    }
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 16;
        Cairn__V1__Entry **items = realloc(g->items, cap * sizeof *items);
        if (!items)
            return -ENOMEM;
        g->items = items;
        g->cap = cap;
    }
    if (cairn_codec_entry_unpack(entry, len, &g->items[g->n]) < 0)
        return CAIRN_EINTEGRITY;
    g->n++;
    g->bytes += len;
    return 0;
}

static void s_gather_free(s_gather_t *g)
{
    for (size_t i = 0; i < g->n; i++)
        CAIRN_CODEC_FREE(&g->items[i]);
    free(g->items);
    memset(g, 0, sizeof *g);
}

/* Fills the reply's entries for a replay or query; returns the status. */
static int s_read_entries(cairn_ledger_t *self, s_request_t *r, s_gather_t *g)
{
    int rc = 0;
    if (r->req->body_case == CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_REPLAY) {
        const Cairn__V1__ReplayRequest *q = r->req->replay;
        uint64_t limit =
            q->limit == 0 || q->limit > self->replay_page ? self->replay_page : q->limit;
        g->budget = S_REPLAY_BUDGET;
        rc = cairn_ledger_store_read(self->store, q->from_index, limit, s_gather_one, g);
        self->stats.replays++;
    } else {
        const Cairn__V1__QueryRequest *q = r->req->query;
        cairn_ledger_query_t query = {
            .change_id = q->change_id,
            .release_id = q->release_id,
            .actor = q->actor,
            .topic_prefix = q->topic_prefix,
            .environment = q->environment,
            .from_ms = q->from_ms,
            .to_ms = q->to_ms,
            .from_index = q->from_index,
            .limit = q->limit,
        };
        g->budget = S_QUERY_BUDGET;
        bool any = s_nonempty(q->change_id) || s_nonempty(q->release_id) || s_nonempty(q->actor) ||
                   s_nonempty(q->topic_prefix) || s_nonempty(q->environment) || q->from_ms > 0 ||
                   q->to_ms > 0;
        /* An empty query is an unknown change: no entries, as it always was. */
        rc = any ? cairn_ledger_query(self->store, &query, s_gather_one, g) : 0;
        if (rc == 0 && g->over)
            rc = CAIRN_ETOOLARGE;
        self->stats.queries++;
    }
    if (rc == CAIRN_ETOOLARGE)
        snprintf(r->error, sizeof r->error,
                 "the matching entries exceed one reply; page with from_index and limit, or "
                 "read them with replay");
    else if (rc == CAIRN_EINVALID)
        snprintf(r->error, sizeof r->error,
                 "a query sets at most one of change_id, release_id, actor, environment "
                 "(topic_prefix, from_ms and to_ms narrow it, or select alone)");
    else if (rc < 0)
        snprintf(r->error, sizeof r->error, "cannot read the ledger: %s", cairn_strerror(rc));
    if (rc < 0 && rc != CAIRN_ETOOLARGE && rc != CAIRN_EINVALID)
        CAIRN_ERROR("ledger read failed", "error=%s", cairn_log_quote(cairn_strerror(rc)));
    return rc;
}

/* Storage a reply points into until it is packed. */
typedef struct {
    Cairn__V1__AppendAck ack;         /* append, hold, unhold, purge */
    Cairn__V1__Checkpoint checkpoint; /* checkpoint, prove, consistency, export */
    Cairn__V1__Proof proof;           /* prove, consistency */
    Cairn__V1__PurgeResult purge;     /* purge */
    char *note;                       /* checkpoint.note */
    cairn_checkpoint_t parsed;        /* the note's size and root */
    char *tlog_proof;                 /* proof.tlog_proof */
    char *bundle;                     /* export JSON */
    size_t bundle_len;                /* its length */
    /* From here on, written before use: left uninitialised (S_REPLY_INIT_BYTES). */
    uint8_t hashes[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES]; /* proof hashes */
    ProtobufCBinaryData hash_items[CAIRN_MERKLE_MAX_PROOF];    /* proof.hashes items */
    uint8_t leaf_hash[CAIRN_HASH_BYTES];                       /* proof.leaf_hash */
} s_reply_t;

/* The part of an s_reply_t zeroed for every request (the proof buffers
 * after it are 3 KB an append does not use). */
#define S_REPLY_INIT_BYTES offsetof(s_reply_t, hashes)

static void s_reply_clear(s_reply_t *x)
{
    free(x->note);
    free(x->tlog_proof);
    free(x->bundle);
    cairn_checkpoint_clear(&x->parsed);
}

/* Sets rep.checkpoint to the signed checkpoint of size (0 = latest). */
static int s_fill_checkpoint(cairn_ledger_t *self, uint64_t size, s_reply_t *x,
                             Cairn__V1__LedgerReply *rep)
{
    size_t len = 0;
    uint64_t at = 0;
    int rc = cairn_ledger_store_checkpoint(self->store, size, &x->note, &len, &at);
    if (rc < 0)
        return rc;
    size_t text_len = len;
    const char *sep = strstr(x->note, "\n\n");
    if (sep)
        text_len = (size_t)(sep - x->note) + 1;
    if ((rc = cairn_checkpoint_parse(x->note, text_len, &x->parsed)) < 0)
        return CAIRN_EINTEGRITY;
    cairn__v1__checkpoint__init(&x->checkpoint);
    x->checkpoint.note = x->note;
    x->checkpoint.vkey = (char *)cairn_ledger_store_vkey(self->store);
    x->checkpoint.size = at;
    x->checkpoint.root.data = x->parsed.root;
    x->checkpoint.root.len = CAIRN_HASH_BYTES;
    rep->checkpoint = &x->checkpoint;
    return 0;
}

static void s_fill_hashes(s_reply_t *x, size_t count)
{
    for (size_t i = 0; i < count; i++)
        x->hash_items[i] =
            (ProtobufCBinaryData){CAIRN_HASH_BYTES, x->hashes + i * CAIRN_HASH_BYTES};
    x->proof.hashes = x->hash_items;
    x->proof.n_hashes = count;
}

/* Says why a proof's sizes are refused (log: the log's size). */
static void s_range_error(s_request_t *r, const char *what, uint64_t old_size, uint64_t size,
                          uint64_t log)
{
    if (log == 0)
        snprintf(r->error, sizeof r->error, "%s: the log is empty", what);
    else if (size > log)
        snprintf(r->error, sizeof r->error,
                 "%s: size %" PRIu64 " is beyond the log's size %" PRIu64, what, size, log);
    else if (old_size == 0)
        snprintf(r->error, sizeof r->error, "%s: the old size must be at least 1", what);
    else
        snprintf(r->error, sizeof r->error,
                 "%s: the old size %" PRIu64 " is larger than the new size %" PRIu64, what,
                 old_size, size);
}

static int s_prove(cairn_ledger_t *self, s_request_t *r, s_reply_t *x, Cairn__V1__LedgerReply *rep)
{
    const Cairn__V1__ProveRequest *p = r->req->prove;
    size_t count = 0;
    uint64_t log = cairn_ledger_store_size(self->store);
    uint64_t size = p->size ? p->size : log;
    int rc = cairn_ledger_store_prove(self->store, p->index, size, x->leaf_hash, x->hashes, &count);
    if (rc == CAIRN_EINVALID && size > 0 && size <= log)
        snprintf(r->error, sizeof r->error,
                 "prove: index %" PRIu64 " is not in a tree of size %" PRIu64
                 "; indexes run from 0 to %" PRIu64,
                 p->index, size, size - 1);
    else if (rc == CAIRN_EINVALID)
        s_range_error(r, "prove", 1, size, log);
    if (rc < 0)
        return rc;
    cairn__v1__proof__init(&x->proof);
    x->proof.index = p->index;
    x->proof.size = size;
    x->proof.leaf_hash.data = x->leaf_hash;
    x->proof.leaf_hash.len = CAIRN_HASH_BYTES;
    s_fill_hashes(x, count);
    rep->proof = &x->proof;
    /* Every batch signs its size, so a checkpoint exists unless size falls
     * inside a batch; then the proof is against an unsigned root. */
    rc = s_fill_checkpoint(self, size, x, rep);
    if (rc == 0) {
        size_t len = 0;
        rc = cairn_tlog_proof_format(NULL, 0, p->index, x->hashes, count, x->note, strlen(x->note),
                                     &x->tlog_proof, &len);
        x->proof.tlog_proof = x->tlog_proof;
    }
    return rc == CAIRN_ENOTFOUND ? 0 : rc;
}

static int s_consistency(cairn_ledger_t *self, s_request_t *r, s_reply_t *x,
                         Cairn__V1__LedgerReply *rep)
{
    const Cairn__V1__ConsistencyRequest *c = r->req->consistency;
    size_t count = 0;
    uint64_t log = cairn_ledger_store_size(self->store);
    uint64_t size = c->new_size ? c->new_size : log;
    int rc = cairn_ledger_store_consistency(self->store, c->old_size, size, x->hashes, &count);
    if (rc == CAIRN_EINVALID)
        s_range_error(r, "consistency", c->old_size, size, log);
    if (rc < 0)
        return rc;
    cairn__v1__proof__init(&x->proof);
    x->proof.old_size = c->old_size;
    x->proof.size = size;
    s_fill_hashes(x, count);
    rep->proof = &x->proof;
    rc = s_fill_checkpoint(self, size, x, rep);
    return rc == CAIRN_ENOTFOUND ? 0 : rc;
}

static int s_export(cairn_ledger_t *self, s_request_t *r, s_reply_t *x, Cairn__V1__LedgerReply *rep)
{
    const Cairn__V1__ExportRequest *e = r->req->export;
    uint64_t size = 0;
    size_t entries = 0;
    int rc = cairn_ledger_export(self->store, e->change_id, e->release_id, &x->bundle,
                                 &x->bundle_len, &size, &entries);
    bool change = e->change_id && *e->change_id;
    if (rc == CAIRN_EINVALID)
        snprintf(r->error, sizeof r->error,
                 "export: name exactly one of a change (change_id) or a release (release_id)");
    else if (rc == CAIRN_ENOTFOUND)
        snprintf(r->error, sizeof r->error, "export: no entry of the log names %s '%.*s'",
                 change ? "change" : "release", S_ERROR_MAX / 2,
                 change ? e->change_id : e->release_id);
    if (rc < 0)
        return rc;
    if (x->bundle_len > S_QUERY_BUDGET)
        return CAIRN_ETOOLARGE;
    rep->bundle.data = (uint8_t *)x->bundle;
    rep->bundle.len = x->bundle_len;
    self->stats.exports++;
    CAIRN_INFO("exported bundle",
               "change=%s release=%s entries=%zu checkpoint_size=%" PRIu64 " bytes=%zu",
               cairn_log_quote(e->change_id), cairn_log_quote(e->release_id), entries, size,
               x->bundle_len);
    return s_fill_checkpoint(self, size, x, rep);
}

/* Answers checkpoint, prove, consistency and export. */
static int s_answer_proof(cairn_ledger_t *self, s_request_t *r, s_reply_t *x,
                          Cairn__V1__LedgerReply *rep)
{
    int rc = 0;
    const char *what = "checkpoint";
    switch (r->req->body_case) {
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_CHECKPOINT:
        rc = s_fill_checkpoint(self, 0, x, rep);
        break;
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_PROVE:
        what = "prove";
        rc = s_prove(self, r, x, rep);
        break;
    case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_CONSISTENCY:
        what = "consistency";
        rc = s_consistency(self, r, x, rep);
        break;
    default:
        what = "export";
        rc = s_export(self, r, x, rep);
        break;
    }
    if (r->req->body_case != CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_EXPORT)
        self->stats.proofs++;
    /* A refused argument was said above, with the request's numbers or names. */
    bool refused = (rc == CAIRN_EINVALID || rc == CAIRN_ENOTFOUND) && r->error[0];
    if (rc == CAIRN_ETOOLARGE)
        snprintf(r->error, sizeof r->error, "%s: the bundle exceeds one reply", what);
    else if (rc < 0 && !refused)
        snprintf(r->error, sizeof r->error, "%s failed: %s", what, cairn_strerror(rc));
    if (rc < 0 && !refused && rc != CAIRN_ETOOLARGE)
        CAIRN_ERROR("ledger proof failed", "request=%s error=%s", what,
                    cairn_log_quote(cairn_strerror(rc)));
    return rc;
}

static void s_log_write(cairn_ledger_t *self, s_request_t *r)
{
    if (!r->appended)
        return;
    if (r->result.duplicate) {
        self->stats.duplicates++;
        CAIRN_INFO("duplicate append", "index=%" PRIu64 " key=%s", r->result.index,
                   cairn_log_quote(r->append ? r->append->key : ""));
        return;
    }
    self->stats.appends++;
    /* One line per append only at debug: at info the counters line sums them up. */
    if (!self->log_appends)
        return;
    if (r->append) {
        CAIRN_DEBUG("appended entry", "index=%" PRIu64 " topic=%s change=%s key=%s",
                    r->result.index, cairn_log_quote(r->topic),
                    cairn_log_quote(cairn_codec_record_change(r->rec)),
                    cairn_log_quote(r->append->key));
    } else {
        CAIRN_DEBUG("appended entry", "index=%" PRIu64 " topic=%s", r->result.index,
                    cairn_log_quote(r->topic));
    }
}

/* Fills the ack of a write: index, leaf hash and a receipt against the
 * batch's checkpoint (a duplicate's receipt is fresh, too), from the proof
 * s_prepare() took. The receipt's text is in the batch's arena. */
static void s_make_ack(cairn_ledger_t *self, s_batch_t *b, s_request_t *r,
                       Cairn__V1__AppendAck *ack)
{
    size_t len = 0, cap = 0;
    char *receipt = NULL;
    cairn__v1__append_ack__init(ack);
    ack->index = r->result.index;
    ack->duplicate = r->result.duplicate;
    ack->hash.data = r->result.hash;
    ack->hash.len = sizeof r->result.hash;
    int rc = r->proof && b->note ? 0 : CAIRN_ENOTFOUND;
    if (rc == 0) {
        cap = cairn_ledger_receipt_cap(r->proof_count, b->note_len);
        rc = (receipt = cairn_ledger_arena_alloc(&b->arena, cap)) ? 0 : -ENOMEM;
    }
    if (rc == 0)
        rc = cairn_ledger_receipt_write(&self->b64, r->result.index, r->proof, r->proof_count,
                                        b->note, b->note_len, receipt, cap, &len);
    if (rc == 0) {
        ack->tlog_proof = receipt;
        ack->checkpoint_size = b->note_size;
    } else {
        CAIRN_WARN("cannot build receipt", "index=%" PRIu64 " error=%s", r->result.index,
                   cairn_log_quote(cairn_strerror(rc)));
    }
}

static void s_fill_ack(cairn_ledger_t *self, s_batch_t *b, s_request_t *r, s_reply_t *x,
                       Cairn__V1__LedgerReply *rep)
{
    s_make_ack(self, b, r, &x->ack);
    rep->ack = &x->ack;
}

/* The results of an append_batch reply, one per append. */
typedef struct {
    Cairn__V1__AppendResult result; /* status, error, ack */
    Cairn__V1__AppendAck ack;       /* when the append was written or found */
} s_result_t;

/* Sets rep.results from the items of an append_batch; *out holds what they
 * point into (in the batch's arena, receipts included). */
static int s_fill_results(cairn_ledger_t *self, s_batch_t *b, s_request_t *r, s_result_t **out,
                          Cairn__V1__LedgerReply *rep)
{
    s_result_t *res = cairn_ledger_arena_calloc(&b->arena, r->n_items, sizeof *res);
    Cairn__V1__AppendResult **ptrs = cairn_ledger_arena_calloc(&b->arena, r->n_items, sizeof *ptrs);
    if (!res || !ptrs)
        return -ENOMEM;
    for (size_t i = 0; i < r->n_items; i++) {
        s_request_t *item = &r->items[i];
        cairn__v1__append_result__init(&res[i].result);
        res[i].result.status = item->status;
        res[i].result.error = item->status != 0 ? item->error : (char *)"";
        if (item->status == 0 && item->appended) {
            s_make_ack(self, b, item, &res[i].ack);
            res[i].result.ack = &res[i].ack;
        }
        ptrs[i] = &res[i].result;
    }
    rep->results = ptrs;
    rep->n_results = r->n_items;
    *out = res;
    return 0;
}

/* Releases a published entry (libzmq calls it, on any of its threads). */
/* Logs, counts and publishes the entry a write appended. */
static void s_publish(cairn_ledger_t *self, s_request_t *r)
{
    if (r->status != 0)
        return;
    s_log_write(self, r);
    if (!r->appended || r->result.duplicate)
        return;
    /* The entry is packed here, off the writer, straight into the message
     * libzmq sends. */
    cairn_ledger_entry_parts_t parts;
    Cairn__V1__Entry e;
    cairn_ledger_append_parts(&r->in, &r->result, &parts);
    cairn_ledger_entry_init(&parts, &e);
    size_t len = protobuf_c_message_get_packed_size(&e.base);
    zmq_msg_t msg;
    int rc = -ENOMEM;
    if (zmq_msg_init_size(&msg, len) == 0) {
        if (protobuf_c_message_pack(&e.base, zmq_msg_data(&msg)) == len) {
            rc = cairn_bus_publish_msg(self->stream, r->topic, &msg);
        } else {
            zmq_msg_close(&msg);
            rc = CAIRN_EINTERNAL;
        }
    }
    if (rc < 0) /* subscribers find the gap and replay */
        CAIRN_WARN("cannot publish entry", "index=%" PRIu64 " error=%s", r->result.index,
                   cairn_log_quote(cairn_strerror(rc)));
}

/* Packs the reply straight into the message that carries it and sends it
 * to the request's client (no copy of the packed bytes). */
static int s_reply(cairn_ledger_t *self, s_request_t *r, const ProtobufCMessage *reply)
{
    zmq_msg_t msg;
    size_t len = protobuf_c_message_get_packed_size(reply);
    if (zmq_msg_init_size(&msg, len) != 0)
        return -ENOMEM;
    if (protobuf_c_message_pack(reply, zmq_msg_data(&msg)) != len) {
        zmq_msg_close(&msg);
        return CAIRN_EINTERNAL;
    }
    return cairn_bus_server_reply_msg(self->api, &r->peer, &msg);
}

/* Answers a read after the disk failed a flush: what the store holds past
 * durable_size may not be on disk, and a checkpoint over it that a client
 * kept could not be honoured after a restart (the log would look forked). */
static void s_refuse_read(cairn_ledger_t *self, s_request_t *r, int rc)
{
    r->status = rc;
    snprintf(r->error, sizeof r->error,
             "the ledger's disk failed a flush (%s): what it would serve may not be on disk, so "
             "it answers no request until it is restarted; run `cairn log verify` first",
             cairn_strerror(rc));
    self->stats.store_errors++;
}

/* Answers one request, then publishes the entries it appended. Only reads
 * (replay, query, head, checkpoint, prove, consistency, export) use the
 * store here, and the loop answers a batch holding reads while the writer
 * is idle; everything else comes from r and b. */
static void s_answer(cairn_ledger_t *self, s_batch_t *b, s_request_t *r)
{
    Cairn__V1__LedgerReply rep = CAIRN__V1__LEDGER_REPLY__INIT;
    s_reply_t x;
    memset(&x, 0, S_REPLY_INIT_BYTES);
    s_gather_t g = {0};
    s_result_t *results = NULL;

    /* After a failed flush nothing is served: it may not be on disk. */
    int disk_rc = cairn_ledger_store_sync_error(self->store);
    bool disk_failed = disk_rc < 0;
    if (disk_failed && r->status == 0 && r->req && !s_is_write(r))
        s_refuse_read(self, r, disk_rc);
    /* A batch is answered item by item, also when its commit failed. */
    if (r->n_items > 0 && s_fill_results(self, b, r, &results, &rep) < 0) {
        r->status = -ENOMEM;
        snprintf(r->error, sizeof r->error, "the ledger is out of memory; retry later");
    }
    if (r->status == 0) {
        switch (r->req->body_case) {
        case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND:
        case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_HOLD:
        case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_UNHOLD:
            if (r->appended)
                s_fill_ack(self, b, r, &x, &rep);
            break;
        case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_PURGE:
            cairn__v1__purge_result__init(&x.purge);
            x.purge.purged = r->purged;
            x.purge.held = r->held;
            x.purge.more = r->more;
            if (r->appended) {
                x.purge.entry_index = r->result.index;
                s_fill_ack(self, b, r, &x, &rep);
                self->stats.purged += r->purged;
                CAIRN_INFO("purged payloads",
                           "count=%" PRIu64 " held=%" PRIu64 " index=%" PRIu64 " more=%s",
                           r->purged, r->held, r->result.index, r->more ? "true" : "false");
            }
            rep.purge = &x.purge;
            break;
        case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_REPLAY:
        case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_QUERY:
            r->status = s_read_entries(self, r, &g);
            if (r->status == 0) {
                rep.entries = g.items;
                rep.n_entries = g.n;
            }
            break;
        case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_HEAD: self->stats.queries++; break;
        case CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND_BATCH: break;
        default:
            r->status = s_answer_proof(self, r, &x, &rep);
            if (r->status != 0) {
                rep.checkpoint = NULL;
                rep.proof = NULL;
                rep.bundle = (ProtobufCBinaryData){0, NULL};
            }
            break;
        }
    }
    rep.status = r->status;
    rep.error = r->status != 0 ? r->error : (char *)"";
    rep.size = disk_failed ? self->durable_size : b->size;

    int rc = s_reply(self, r, &rep.base);
    if (rc < 0)
        CAIRN_WARN("cannot answer request", "error=%s", cairn_log_quote(cairn_strerror(rc)));

    for (size_t i = 0; i < r->n_items; i++)
        s_publish(self, &r->items[i]);
    s_publish(self, r);
    s_reply_clear(&x);
    s_gather_free(&g);
}

/* Frees what the writer gave the request; its decoded message, records and
 * items go with the batch's arena. */
static void s_request_clear(s_request_t *r)
{
    for (size_t i = 0; i < r->n_items; i++)
        free(r->items[i].result.leaf);
    cairn_bus_peer_close(&r->peer);
    free(r->result.leaf);
    free(r->own_record);
    memset(r, 0, sizeof *r);
}

/* Receives the requests that are waiting, from slot n up to the batch size
 * (ledger.batch_max requests, or as many appends: an append_batch counts
 * each of its appends, and is never split) and at most `most` of them.
 * b->writes counts the appends. */
static void s_drain(cairn_ledger_t *self, s_batch_t *b, size_t most)
{
    size_t n = b->n, *writes = &b->writes, stop = b->n + most;
    /* Bounded in messages too, so a flood of unanswerable ones cannot stall the loop. */
    for (size_t tries = 0; n < self->batch_max && n < stop && *writes < self->batch_max &&
                           tries < 2 * CAIRN_LEDGER_BATCH_MAX;
         tries++) {
        s_request_t *r = &b->reqs[n];
        zmq_msg_t body;
        int rc = cairn_bus_server_recv_msg(self->api, &r->peer, &body);
        if (rc == CAIRN_EPROTO) {
            /* Bad framing: there is nobody to answer, so count and drop it. */
            self->stats.bad_requests++;
            CAIRN_WARN("dropped request", "reason=%s",
                       cairn_log_quote("bad framing: expected [empty][LedgerRequest] from a "
                                       "DEALER or REQ client"));
            continue;
        }
        if (rc < 0)
            break; /* nothing more waiting */
        /* Decoding copies what it keeps into the arena: the body goes at once. */
        s_decode(self, &b->arena, r, zmq_msg_data(&body), zmq_msg_size(&body));
        zmq_msg_close(&body);
        *writes += s_write_count(r);
        n++;
        b->n = n;
    }
}

/* Drains the socket, and while the batch holds writes and has room, keeps
 * gathering for up to ledger.batch_delay so one commit serves more appends. */
static void s_gather_batch(cairn_ledger_t *self, s_batch_t *b)
{
    s_drain(self, b, CAIRN_LEDGER_BATCH_MAX);
    if (b->writes == 0 || self->batch_delay_ms <= 0)
        return;
    int64_t deadline = cairn_mono_ms() + self->batch_delay_ms;
    while (b->n < self->batch_max && b->writes < self->batch_max) {
        int64_t left = deadline - cairn_mono_ms();
        if (left <= 0)
            break;
        zmq_pollitem_t item = {zsock_resolve(self->api), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)left) <= 0)
            break;
        s_drain(self, b, CAIRN_LEDGER_BATCH_MAX);
    }
}

/* Takes from the store what the answers of a written batch need: the
 * size, the signed checkpoint and each write's inclusion proof. Runs on the
 * thread that wrote the batch, before the store moves on. The proofs go in
 * the batch's arena: the loop thread leaves a batch's arena alone from the
 * moment it hands the batch over until the writer is done with it. */
static void s_prove_write(cairn_ledger_t *self, cairn_ledger_arena_t *arena, s_request_t *r)
{
    uint8_t lh[CAIRN_HASH_BYTES], proof[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
    size_t count = 0;
    if (r->status != 0 || !r->appended)
        return;
    int rc = cairn_ledger_store_prove(self->store, r->result.index, 0, lh, proof, &count);
    if (rc == 0 &&
        !(r->proof = cairn_ledger_arena_alloc(arena, count ? count * CAIRN_HASH_BYTES : 1)))
        rc = -ENOMEM;
    if (rc < 0) {
        CAIRN_WARN("cannot build receipt", "index=%" PRIu64 " error=%s", r->result.index,
                   cairn_log_quote(cairn_strerror(rc)));
        return;
    }
    memcpy(r->proof, proof, count * CAIRN_HASH_BYTES);
    r->proof_count = count;
}

static void s_prepare(cairn_ledger_t *self, s_batch_t *b)
{
    cairn_ledger_head_t head;
    cairn_ledger_store_head(self->store, &head);
    b->size = cairn_ledger_store_size(self->store);
    b->note_size = head.size;
    b->note_len = head.note_len;
    if (b->writes > 0 && !(b->note = strndup(head.note, head.note_len)))
        CAIRN_WARN("cannot build receipts", "error=%s", cairn_log_quote(cairn_strerror(-ENOMEM)));
    for (size_t i = 0; b->writes > 0 && i < b->n; i++) {
        s_request_t *r = &b->reqs[i];
        for (size_t j = 0; j < r->n_items; j++)
            s_prove_write(self, &b->arena, &r->items[j]);
        s_prove_write(self, &b->arena, r);
    }
}

/* Adds counts of a thread's writes to those of the writer's finished jobs. */
static void s_add_stats(cairn_ledger_stats_t *to, cairn_ledger_stats_t *from)
{
    to->batches += from->batches;
    to->store_errors += from->store_errors;
    to->bad_requests += from->bad_requests;
    to->chained += from->chained;
    memset(from, 0, sizeof *from);
}

/* Adds what the writer counted in the jobs it finished. */
static void s_merge_stats(cairn_ledger_t *self)
{
    pthread_mutex_lock(&self->lock);
    s_add_stats(&self->stats, &self->wdone);
    pthread_mutex_unlock(&self->lock);
}

/* Answers every request of a written batch in arrival order, then empties it. */
static void s_answer_batch(cairn_ledger_t *self, s_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        s_answer(self, b, &b->reqs[i]);
        s_request_clear(&b->reqs[i]);
    }
    cairn_ledger_arena_reset(&b->arena);
    free(b->note);
    b->note = NULL;
    b->n = b->writes = 0;
}

/* True when no request of the batch reads the store to be answered, so it
 * can be answered while the writer goes on with the next batch. */
static bool s_pipelinable(const s_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->reqs[i].status == 0 && b->reqs[i].req && !s_is_write(&b->reqs[i]))
            return false;
    return true;
}

/* Answers a write whose commit could not be flushed with the error. */
static void s_fail_unsynced(cairn_ledger_t *self, s_request_t *r, int rc)
{
    free(r->result.leaf);
    memset(&r->result, 0, sizeof r->result);
    r->appended = false;
    r->purged = 0;
    r->status = rc;
    snprintf(r->error, sizeof r->error,
             "the ledger could not flush the entry to disk (%s); it is not acknowledged and the "
             "ledger takes no writes until it is restarted; then retry with the same key",
             cairn_strerror(rc));
    self->stats.store_errors += r->n_items == 0;
}

/* Makes the batch's commit durable before it is answered. The commit
 * returned once the batch's pages were on disk, before the page that points
 * at them was (cairn_ledger_store_commit_deferred); the next commit's flush
 * covers that page too. So the writer flushes a batch itself only when no
 * batch waits to be written after it; otherwise the batch is answered once
 * the next one committed, and this only makes sure of it. If a flush failed,
 * no write of the batch is acknowledged, and the store refuses writes from
 * then on. */
static void s_sync_batch(cairn_ledger_t *self, s_batch_t *b)
{
    int rc = b->sync_rc;
    if (rc == 0 && b->unsynced)
        rc = cairn_ledger_store_sync(self->store);
    b->unsynced = false;
    b->sync_rc = 0;
    if (rc == 0)
        return;
    CAIRN_ERROR("cannot flush ledger store", "error=%s size=%" PRIu64 " hint=%s",
                cairn_log_quote(cairn_strerror(rc)), b->size,
                cairn_log_quote("the disk failed a flush; requests are refused until the "
                                "ledger restarts; run `cairn log verify` before restarting it"));
    s_fail_writes(self, b->reqs, b->n, rc, s_fail_unsynced);
}

/* Answers a written batch once its commit is durable, and empties it. */
static void s_finish_batch(cairn_ledger_t *self, s_batch_t *b)
{
    s_sync_batch(self, b);
    if (b->committed && cairn_ledger_store_sync_error(self->store) == 0) {
        self->durable_size = b->size;
        cairn_ledger_cpfile_offer(self->cpfile, b->note, b->note_len, b->note_size);
    }
    s_answer_batch(self, b);
    b->committed = false;
}

/* A batch handled on this thread alone (the writer is idle). */
static void s_handle_sync(cairn_ledger_t *self, s_batch_t *b)
{
    b->committed = b->unsynced = s_write_batch(self, b->reqs, b->n);
    s_prepare(self, b);
    s_add_stats(&self->stats, &self->wstats);
    s_finish_batch(self, b);
}

/* Writes the batches handed to it. When it finishes one and the loop has
 * offered the next batch meanwhile (s_offer), it goes on with that batch at
 * once instead of waiting for the loop to notice and hand it over, and
 * leaves the flush of the one it finished to that batch's commit; with no
 * batch offered, it flushes the one it finished at once. */
static void *s_writer_run(void *arg)
{
    cairn_ledger_t *self = arg;
    uint64_t one = 1;
    prctl(PR_SET_NAME, "ledger-writer", 0, 0, 0); /* its own line in top and perf */
    pthread_mutex_lock(&self->lock);
    for (;;) {
        while (!self->quit && !self->job && !self->sealed)
            pthread_cond_wait(&self->wake, &self->lock);
        if (self->quit)
            break;
        if (!self->job) { /* offered while this thread was idle */
            self->job = self->sealed;
            self->sealed = NULL;
            self->job->taken = true;
            self->wdone.chained++;
        }
        s_batch_t *b = self->job;
        pthread_mutex_unlock(&self->lock);
        b->committed = b->unsynced = s_write_batch(self, b->reqs, b->n);
        s_prepare(self, b);
        pthread_mutex_lock(&self->lock);
        if (b->unsynced && !self->sealed) {
            pthread_mutex_unlock(&self->lock);
            b->sync_rc = cairn_ledger_store_sync(self->store);
            b->unsynced = false;
            pthread_mutex_lock(&self->lock);
        }
        s_add_stats(&self->wdone, &self->wstats);
        b->written = true;
        if ((self->job = self->sealed)) {
            self->job->taken = true;
            self->wdone.chained++;
        }
        self->sealed = NULL;
        if (write(self->done_fd, &one, sizeof one) < 0)
            CAIRN_WARN("cannot wake the ledger loop", "error=%s", cairn_log_quote(strerror(errno)));
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

/* Hands b to the writer, which is idle. */
static void s_writer_start(cairn_ledger_t *self, s_batch_t *b)
{
    pthread_mutex_lock(&self->lock);
    b->written = false;
    self->job = b;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
}

/* Offers b to the writer: when it is done with the batch it writes (or
 * now, if it is idle) it takes b itself instead of waiting for this thread
 * to hand it over. Until the offer is withdrawn (s_withdraw) this thread
 * leaves b alone. */
static void s_offer(cairn_ledger_t *self, s_batch_t *b)
{
    if (b->n == 0 || !s_pipelinable(b))
        return;
    pthread_mutex_lock(&self->lock);
    b->written = false;
    self->sealed = b;
    if (!self->job)
        pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
}

/* Takes back the offer of b, so that more requests can go in. False when the
 * writer already took it. */
static bool s_withdraw(cairn_ledger_t *self, const s_batch_t *b)
{
    pthread_mutex_lock(&self->lock);
    if (self->sealed == b)
        self->sealed = NULL;
    bool kept = !b->taken;
    pthread_mutex_unlock(&self->lock);
    return kept;
}

static bool s_is_written(cairn_ledger_t *self, const s_batch_t *b)
{
    pthread_mutex_lock(&self->lock);
    bool written = b->written;
    pthread_mutex_unlock(&self->lock);
    return written;
}

/* Waits for the writer to finish job; meanwhile receives and decodes the
 * requests that arrive into next (NULL: only waits), offering next to the
 * writer between reads so that it goes on without waiting for this thread. */
static void s_writer_wait(cairn_ledger_t *self, const s_batch_t *job, s_batch_t *next)
{
    bool taken = false;
    while (!s_is_written(self, job)) {
        zmq_pollitem_t items[2] = {{NULL, self->done_fd, ZMQ_POLLIN, 0},
                                   {zsock_resolve(self->api), 0, ZMQ_POLLIN, 0}};
        bool room = next && !taken && next->n < self->batch_max && next->writes < self->batch_max;
        if (zmq_poll(items, room ? 2 : 1, 100) <= 0)
            continue;
        uint64_t count = 0;
        if ((items[0].revents & ZMQ_POLLIN) && read(self->done_fd, &count, sizeof count) < 0 &&
            errno != EAGAIN)
            CAIRN_WARN("cannot read the writer's signal", "error=%s",
                       cairn_log_quote(strerror(errno)));
        if (!room || !(items[1].revents & ZMQ_POLLIN))
            continue;
        /* A few requests at a time, so that the offer is rarely withdrawn
         * just when the writer looks for it. */
        while (room && !(taken = !s_withdraw(self, next))) {
            size_t before = next->n;
            s_drain(self, next, S_OFFER_EVERY);
            s_offer(self, next);
            room = next->n > before && next->n < self->batch_max && next->writes < self->batch_max;
        }
    }
    s_merge_stats(self);
}

/* True when the writer took next itself (s_offer); else the writer is idle
 * and next is no longer offered. */
static bool s_writer_took(cairn_ledger_t *self, s_batch_t *next)
{
    pthread_mutex_lock(&self->lock);
    if (self->sealed == next)
        self->sealed = NULL;
    bool took = next->taken;
    next->taken = false;
    pthread_mutex_unlock(&self->lock);
    return took;
}

/* A slot that holds none of a, b (both may be NULL). */
static s_batch_t *s_free_slot(cairn_ledger_t *self, const s_batch_t *a, const s_batch_t *b)
{
    for (size_t i = 0;; i++)
        if (&self->slots[i] != a && &self->slots[i] != b)
            return &self->slots[i];
}

/* Handles the gathered batch cur and those that follow while the writer is
 * busy: the writer writes and commits batch k+1 while this thread answers
 * batch k and gathers batch k+2. Batch k is answered once its commit is
 * durable: when the writer flushed it (nothing waited after it), or when
 * batch k+1 committed (its flush covers k); until then it waits in pend.
 * A batch that holds reads waits until the writer is idle and everything
 * before it was answered, and is handled here. Returns with the writer idle
 * and every batch answered. */
static void s_pipeline(cairn_ledger_t *self, s_batch_t *cur)
{
    if (!s_pipelinable(cur)) {
        s_handle_sync(self, cur);
        return;
    }
    s_batch_t *pend = NULL;
    s_batch_t *next = s_free_slot(self, cur, NULL);
    s_writer_start(self, cur);
    for (int round = 1;; round++) {
        s_writer_wait(self, cur, round < S_PIPELINE_ROUNDS ? next : NULL);
        bool took = s_writer_took(self, next);
        bool go = took || (next->n > 0 && s_pipelinable(next));
        if (go && !took)
            s_writer_start(self, next);
        if (pend) {
            if (cur->committed)
                pend->unsynced = false; /* cur's commit flushed it */
            s_finish_batch(self, pend);
            pend = NULL;
        }
        if (go && cur->unsynced)
            pend = cur; /* answered once next committed */
        else
            s_finish_batch(self, cur);
        if (!go) {
            if (next->n > 0)
                s_handle_sync(self, next);
            return;
        }
        cur = next;
        next = s_free_slot(self, cur, pend);
    }
}

int cairn_ledger_run_once(cairn_ledger_t *self, int timeout_ms)
{
    zmq_pollitem_t item = {zsock_resolve(self->api), 0, ZMQ_POLLIN, 0};
    int ready = zmq_poll(&item, 1, timeout_ms);
    if (ready < 0) {
        int err = zmq_errno();
        if (err == EINTR)
            return 0;
        CAIRN_ERROR("cannot poll ledger api", "error=%s", cairn_log_quote(zmq_strerror(err)));
        return -err;
    }
    if (ready > 0) {
        s_gather_batch(self, &self->slots[0]);
        s_pipeline(self, &self->slots[0]);
    }
    return 0;
}

int cairn_ledger_run(cairn_ledger_t *self)
{
    int rc = 0;
    while (!cairn_signals_stop_requested()) {
        if ((rc = cairn_ledger_run_once(self, 200)) < 0)
            break;
        int64_t now = cairn_mono_ms();
        if (now >= self->next_log_ms) {
            if (memcmp(&self->stats, &self->logged, sizeof self->stats) != 0)
                s_log_stats(self);
            self->next_log_ms = now + S_STATS_EVERY_MS;
        }
    }
    return rc;
}
