/* The ingest request handler (see handler.h): routing between CloudEvents
 * and webhooks, authentication, content negotiation, parsing, appending to
 * the ledger, the answer, the counters behind /metrics, and recording
 * rejected input. */
#include "handler.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"
#include "json_arena.h"
#include "latch.h"
#include "normalize_fields.h"
#include "recorder.h"
#include "rejected.h"
#include "webhook.h"

/* Room for a ledger idempotency key. */
#define S_KEYLEN 640
/* Seconds a sender should wait after a 503. */
#define S_RETRY_AFTER 5
/* Room for one error sentence. */
#define S_ERRLEN 512

/* Status codes with their own counter; anything else counts as "other". */
static const unsigned s_codes[] = {200, 202, 400, 401, 404, 405, 413, 415, 422, 500, 501, 503};
#define S_N_CODES (sizeof s_codes / sizeof s_codes[0])

/* Sources with their own counter of recorded events. */
static const char *const s_sources[] = {"cloudevents", "github", "gitlab",   "jenkins",
                                        "servicenow",  "jira",   "pagerduty"};
#define S_N_SOURCES (sizeof s_sources / sizeof s_sources[0])

struct cairn_ingest_handler_t {
    size_t max_body;                           /* largest body accepted, in bytes */
    const cairn_ingest_auth_t *auth;           /* credentials per source (borrowed) */
    cairn_ingest_rejected_t *rejected;         /* rejected input kept here, or NULL */
    cairn_ingest_recorder_t *recorder;         /* makes accepted events durable */
    cairn_ingest_protection_t *protection;     /* answers GitHub protection rules, or NULL */
    _Atomic uint64_t by_code[S_N_CODES + 1];   /* answers by status; last slot: other */
    _Atomic uint64_t accepted;                 /* events the ledger appended */
    _Atomic uint64_t duplicate;                /* events the ledger already held */
    _Atomic uint64_t by_source[S_N_SOURCES];   /* events appended, by source */
    _Atomic uint64_t auth_failed[S_N_SOURCES]; /* 401s, by source */
    uint64_t max_inflight;                     /* ingest.max_inflight; 0 = no bound */
    _Atomic uint64_t inflight;                 /* events handed to the recorder, not answered */
    _Atomic uint64_t overloaded;               /* submissions refused: max_inflight reached */
};

typedef enum { S_STRUCTURED, S_BATCH, S_BINARY } s_mode_t;

/* How a submission arrived: HTTP, or the access-controlled submit socket. */
typedef enum { S_VIA_HTTP, S_VIA_BUS } s_via_t;

/* One submission, as the handler's steps pass it along. */
typedef struct {
    const char *path;                     /* request path */
    const char *content_type;             /* Content-Type (may be NULL) */
    const cairn_ingest_header_t *headers; /* request headers */
    size_t n_headers;                     /* how many */
    const void *body;                     /* raw body (never NULL) */
    size_t len;                           /* bytes in body */
    s_via_t via;                          /* transport */
    int64_t now_ms;                       /* when it arrived */
    char sha_hex[65];                     /* hex SHA-256 of body */
    const char *source;                   /* "cloudevents" or the webhook source */
} s_request_t;

/* One recorded (or duplicate) event in an answer. */
typedef struct {
    const char *id;              /* the event's id (borrowed from the event) */
    cairn_ingest_recorded_t rec; /* its ledger index, or its spool sequence */
} s_ack_t;

cairn_ingest_handler_t *cairn_ingest_handler_new(const cairn_ingest_handler_settings_t *settings)
{
    cairn_ingest_handler_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    cairn_ingest_json_arena_install(); /* before any worker thread parses */
    self->max_body = settings->max_body;
    self->auth = settings->auth;
    self->max_inflight = settings->max_inflight;
    cairn_ingest_recorder_settings_t rs = {
        .ledger_endpoint = settings->ledger_endpoint,
        .timeout_ms = settings->ledger_timeout_ms,
        .spool_dir = settings->spool_dir,
        .spool_max = settings->spool_max,
        .spool_max_bytes = settings->spool_max_bytes,
    };
    if (cairn_ingest_recorder_new(&rs, &self->recorder) < 0)
        goto fail;
    if (settings->reject_dir && *settings->reject_dir &&
        !(self->rejected = cairn_ingest_rejected_new(settings->reject_dir)))
        goto fail;
    return self;
fail:
    cairn_ingest_handler_destroy(&self);
    return NULL;
}

void cairn_ingest_handler_destroy(cairn_ingest_handler_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ingest_handler_t *self = *self_p;
    cairn_ingest_recorder_destroy(&self->recorder);
    cairn_ingest_rejected_destroy(&self->rejected);
    free(self);
    *self_p = NULL;
}

cairn_ingest_recorder_t *cairn_ingest_handler_recorder(cairn_ingest_handler_t *self)
{
    return self->recorder;
}

void cairn_ingest_handler_set_protection(cairn_ingest_handler_t *self,
                                         cairn_ingest_protection_t *protection)
{
    self->protection = protection;
}

size_t cairn_ingest_handler_max_body(const cairn_ingest_handler_t *self)
{
    return self->max_body;
}

void cairn_ingest_response_clear(cairn_ingest_response_t *response)
{
    free(response->body);
    response->body = NULL;
    response->status = 0;
    response->retry_after = 0;
}

static void s_count(cairn_ingest_handler_t *self, unsigned status)
{
    size_t slot = S_N_CODES;
    for (size_t i = 0; i < S_N_CODES; i++)
        if (s_codes[i] == status)
            slot = i;
    atomic_fetch_add(&self->by_code[slot], 1);
}

/* Serializes a JSON value into the response (steals the reference). */
static void s_answer(cairn_ingest_response_t *out, unsigned status, json_t *value)
{
    out->status = status;
    out->body = value ? json_dumps(value, JSON_COMPACT) : NULL;
    json_decref(value);
}

/* {"error": message}. Messages quote sender input that may have been cut
 * mid-character; if jansson refuses the text as UTF-8, non-ASCII bytes are
 * replaced so the sender still gets a readable answer. Client errors are
 * logged here, one line each; kept names the file holding the body, if any. */
static void s_error_kept(cairn_ingest_handler_t *self, unsigned status, const char *message,
                         const char *kept, cairn_ingest_response_t *out)
{
    if (status >= 400 && status < 500)
        CAIRN_INFO("rejected submission", "status=%u kept=%s error=%s", status,
                   kept && *kept ? kept : "no", cairn_log_quote(message));
    json_t *text = json_string(message);
    if (!text) {
        char *ascii = strdup(message);
        if (ascii) {
            for (char *p = ascii; *p; p++)
                if ((unsigned char)*p >= 0x80)
                    *p = '?';
            text = json_string(ascii);
            free(ascii);
        }
    }
    s_answer(out, status, text ? json_pack("{s:o}", "error", text) : NULL);
    if (status == 503)
        out->retry_after = S_RETRY_AFTER;
    s_count(self, status);
}

static void s_error(cairn_ingest_handler_t *self, unsigned status, const char *message,
                    cairn_ingest_response_t *out)
{
    s_error_kept(self, status, message, NULL, out);
}

/* Answers a rejected submission, keeps its body (400, 401, 415, 422) and
 * writes its line in the rejected index. */
static void s_reject(cairn_ingest_handler_t *self, const s_request_t *req, unsigned status,
                     const char *message, cairn_ingest_response_t *out)
{
    char kept[128] = "";
    cairn_ingest_rejection_t r = {
        .status = status,
        .source = req->source ? req->source : "",
        .path = req->path ? req->path : "",
        .reason = message,
        .body = req->body,
        .len = req->len,
        .sha_hex = req->sha_hex[0] ? req->sha_hex : NULL,
        .now_ms = req->now_ms,
    };
    int rc = cairn_ingest_rejected_add(self->rejected, &r, kept, sizeof kept);
    if (rc < 0)
        CAIRN_WARN("cannot record a rejection", "error=%s", cairn_log_quote(cairn_strerror(rc)));
    s_error_kept(self, status, message, kept, out);
}

void cairn_ingest_handler_reject(cairn_ingest_handler_t *self, const char *path, unsigned status,
                                 const char *message, cairn_ingest_response_t *out)
{
    if (status != 413 || !path) {
        s_error(self, status, message, out);
        return;
    }
    const char *hook = "/v1/webhooks/";
    s_request_t req = {.path = path, .body = "", .now_ms = cairn_now_ms()};
    req.source = strncmp(path, hook, strlen(hook)) == 0 ? path + strlen(hook) : "cloudevents";
    s_reject(self, &req, status, message, out);
}

/* --- content negotiation ------------------------------------------------ */

/* Copies the media type of a Content-Type (lower-case, no parameters) into
 * media and the charset parameter, if any, into charset. */
static void s_media_type(const char *content_type, char *media, size_t media_len, char *charset,
                         size_t charset_len)
{
    media[0] = charset[0] = '\0';
    if (!content_type)
        return;
    const char *p = content_type;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = 0;
    for (; *p && *p != ';' && *p != ' ' && *p != '\t' && n + 1 < media_len; p++)
        media[n++] = (char)tolower((unsigned char)*p);
    media[n] = '\0';
    char lower[256];
    for (n = 0; content_type[n] && n + 1 < sizeof lower; n++)
        lower[n] = (char)tolower((unsigned char)content_type[n]);
    lower[n] = '\0';
    const char *cs = strstr(lower, "charset=");
    if (cs) {
        cs += 8;
        if (*cs == '"')
            cs++;
        n = 0;
        for (; *cs && *cs != ';' && *cs != '"' && *cs != ' ' && n + 1 < charset_len; cs++)
            charset[n++] = (char)tolower((unsigned char)*cs);
        charset[n] = '\0';
    }
}

static const char *const s_accepted_types =
    "send application/cloudevents+json (one event), application/cloudevents-batch+json "
    "(a list of events), or binary mode (ce-specversion, ce-id, ce-source and ce-type headers)";

/* Chooses the CloudEvents mode from the Content-Type and the ce-* headers.
 * application/json is a structured event unless ce-specversion is present,
 * in which case it is the binary mode's data. */
static int s_mode(const char *content_type, const cairn_ingest_header_t *headers, size_t n,
                  s_mode_t *mode, char *err, size_t errlen)
{
    char media[128], charset[32];
    s_media_type(content_type, media, sizeof media, charset, sizeof charset);
    bool has_ce = cairn_ingest_header(headers, n, "ce-specversion") != NULL;

    if (charset[0] && strcmp(charset, "utf-8") != 0 && strcmp(charset, "utf8") != 0) {
        snprintf(err, errlen, "charset '%s' is not supported; send UTF-8", charset);
        return CAIRN_EINVALID;
    }
    if (strcmp(media, "application/cloudevents-batch+json") == 0) {
        *mode = S_BATCH;
    } else if (strcmp(media, "application/cloudevents+json") == 0) {
        *mode = S_STRUCTURED;
    } else if (strncmp(media, "application/cloudevents", 23) == 0) {
        snprintf(err, errlen, "event format '%s' is not supported; %s", media, s_accepted_types);
        return CAIRN_EINVALID;
    } else if (has_ce) {
        *mode = S_BINARY;
    } else if (strcmp(media, "application/json") == 0) {
        *mode = S_STRUCTURED;
    } else if (!media[0]) {
        snprintf(err, errlen, "the request has no Content-Type; %s", s_accepted_types);
        return CAIRN_EINVALID;
    } else {
        snprintf(err, errlen, "Content-Type '%s' is not supported on /v1/events; %s", media,
                 s_accepted_types);
        return CAIRN_EINVALID;
    }
    return 0;
}

/* --- the ledger --------------------------------------------------------- */

/* --- answers ------------------------------------------------------------ */

static json_t *s_ack_json(const s_ack_t *ack, bool with_duplicate)
{
    json_t *item;
    if (ack->rec.spooled)
        item = json_pack("{s:s,s:b,s:I}", "id", ack->id, "spooled", 1, "spool_seq",
                         (json_int_t)ack->rec.spool_seq);
    else
        item = json_pack("{s:s,s:I}", "id", ack->id, "index", (json_int_t)ack->rec.index);
    if (item && with_duplicate && ack->rec.duplicate)
        json_object_set_new(item, "duplicate", json_true());
    return item;
}

/* The answer to the common case, one event newly recorded, written
 * directly: the same bytes jansson would write, when the id needs no
 * escaping. NULL when that does not apply (or out of memory). */
static char *s_plain_accepted(const s_ack_t *ack)
{
    if (ack->rec.duplicate || ack->rec.spooled)
        return NULL;
    for (const char *p = ack->id; *p; p++)
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
            return NULL;
    static const char head[] = "{\"accepted\":[{\"id\":\"", mid[] = "\",\"index\":",
                      tail[] = "}]}";
    char digits[24];
    size_t nd = 0;
    uint64_t v = ack->rec.index;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t id_len = strlen(ack->id);
    char *text = malloc(sizeof head - 1 + id_len + sizeof mid - 1 + nd + sizeof tail);
    if (!text)
        return NULL;
    char *p = text;
    memcpy(p, head, sizeof head - 1);
    p += sizeof head - 1;
    memcpy(p, ack->id, id_len);
    p += id_len;
    memcpy(p, mid, sizeof mid - 1);
    p += sizeof mid - 1;
    while (nd)
        *p++ = digits[--nd];
    memcpy(p, tail, sizeof tail); /* with the terminating NUL */
    return text;
}

/* One event: 202 {"accepted":[{id,index}]}, or 200 {"duplicate":true,id,index}.
 * A batch: 202 {"accepted":[...]} with "duplicate":true on redelivered
 * items, or 200 {"duplicate":true,"accepted":[...]} when all were. An event
 * held in the spool shows "spooled":true and "spool_seq" instead of
 * "index", and the answer then also carries "spooled":true. */
static void s_success(cairn_ingest_handler_t *self, const s_ack_t *acks, size_t n, bool batch,
                      cairn_ingest_response_t *out)
{
    if (n == 1 && !batch && (out->body = s_plain_accepted(&acks[0]))) {
        out->status = 202;
        s_count(self, 202);
        return;
    }
    size_t dups = 0, spooled = 0;
    for (size_t i = 0; i < n; i++) {
        dups += acks[i].rec.duplicate;
        spooled += acks[i].rec.spooled;
    }
    unsigned status = dups == n ? 200 : 202;
    json_t *root;
    if (!batch && dups == 1) {
        json_t *item = s_ack_json(&acks[0], false);
        root = json_pack("{s:b}", "duplicate", 1);
        if (root && json_object_update(root, item) < 0) {
            json_decref(root);
            root = NULL;
        }
        json_decref(item);
    } else {
        json_t *list = json_array();
        for (size_t i = 0; list && i < n; i++)
            json_array_append_new(list, s_ack_json(&acks[i], batch));
        root = list ? json_pack("{s:o}", "accepted", list) : NULL;
        if (root && status == 200)
            json_object_set_new(root, "duplicate", json_true());
        if (root && spooled)
            json_object_set_new(root, "spooled", json_true());
    }
    s_answer(out, status, root);
    s_count(self, status);
}

static int s_parse(s_mode_t mode, const char *content_type, const cairn_ingest_header_t *headers,
                   size_t n_headers, const void *body, size_t len, Cairn__V1__Event ***events,
                   size_t *n, char *err, size_t errlen)
{
    if (mode != S_BINARY && len == 0) {
        snprintf(err, errlen, "the request body is empty; send a CloudEvent as JSON");
        return CAIRN_EPARSE;
    }
    if (mode == S_BATCH)
        return cairn_cloudevent_parse_batch(body, len, events, n, err, errlen);
    *events = calloc(1, sizeof **events);
    if (!*events)
        return -ENOMEM;
    *n = 1;
    if (mode == S_STRUCTURED)
        return cairn_cloudevent_parse(body, len, &(*events)[0], err, errlen);
    return cairn_cloudevent_parse_binary(headers, n_headers, content_type, body, len, &(*events)[0],
                                         err, errlen);
}

static size_t s_source_slot(const char *source)
{
    for (size_t i = 0; source && i < S_N_SOURCES; i++)
        if (strcmp(source, s_sources[i]) == 0)
            return i;
    return S_N_SOURCES;
}

static void s_auth_failed(cairn_ingest_handler_t *self, const char *source)
{
    size_t slot = s_source_slot(source);
    if (slot < S_N_SOURCES)
        atomic_fetch_add(&self->auth_failed[slot], 1);
}

/* An answer that comes later: the events handed to the recorder, and how
 * far they got. */
typedef struct s_pending s_pending_t;

/* One event of a pending answer, as the recorder's callback sees it. */
typedef struct {
    s_pending_t *pending; /* the answer it belongs to */
    size_t i;             /* its position in the request */
} s_slot_t;

struct s_pending {
    cairn_ingest_handler_t *self;  /* the handler */
    Cairn__V1__Event **events;     /* the request's events (owned) */
    size_t n;                      /* how many */
    bool batch;                    /* a CloudEvents batch (the answer's shape) */
    size_t source_slot;            /* the source's counter */
    s_ack_t *acks;                 /* one per event */
    s_slot_t *slots;               /* one per event */
    _Atomic size_t left;           /* events not yet recorded or failed */
    pthread_mutex_t lock;          /* guards failed and err */
    size_t failed;                 /* the first event that failed; n when none */
    char err[S_ERRLEN];            /* its reason */
    cairn_ingest_answer_fn answer; /* gets the response */
    void *arg;                     /* for answer */
};

/* A pending answer with room for n events' acks and slots, in one
 * allocation (they live exactly as long as it). */
static s_pending_t *s_pending_alloc(size_t n)
{
    size_t m = n ? n : 1;
    s_pending_t *p = calloc(1, sizeof *p + m * (sizeof *p->acks + sizeof *p->slots));
    if (p) {
        p->acks = (s_ack_t *)(p + 1);
        p->slots = (s_slot_t *)(p->acks + m);
    }
    return p;
}

static void s_pending_free(s_pending_t *p)
{
    cairn_cloudevent_free_all(&p->events, p->n);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* Every event of p has an outcome: answer. */
static void s_pending_answer(s_pending_t *p)
{
    cairn_ingest_handler_t *self = p->self;
    cairn_ingest_response_t out = {0};
    if (p->failed < p->n) {
        char full[S_ERRLEN + 64];
        const Cairn__V1__Event *ev = p->events[p->failed];
        if (p->batch)
            snprintf(full, sizeof full, "event %zu in the batch: %s", p->failed, p->err);
        else
            snprintf(full, sizeof full, "%s", p->err);
        CAIRN_WARN("cannot record an event", "source=%s id=%s error=%s",
                   cairn_log_quote(ev->source), cairn_log_quote(ev->id), cairn_log_quote(full));
        s_error(self, 503, full, &out);
    } else {
        s_success(self, p->acks, p->n, p->batch, &out);
    }
    cairn_ingest_answer_fn answer = p->answer;
    void *arg = p->arg;
    atomic_fetch_sub(&self->inflight, p->n);
    s_pending_free(p);
    answer(arg, &out);
}

/* Admits n more events to wait for the recorder, unless ingest.max_inflight
 * would be passed (a request larger than the bound is still admitted when
 * nothing else waits, or it could never be). False: refused and counted. */
static bool s_admit(cairn_ingest_handler_t *self, size_t n)
{
    uint64_t before = atomic_fetch_add(&self->inflight, n);
    if (!self->max_inflight || before == 0 || before + n <= self->max_inflight)
        return true;
    atomic_fetch_sub(&self->inflight, n);
    atomic_fetch_add(&self->overloaded, 1);
    return false;
}

/* The recorder's callback for one event. */
static void s_recorded(void *arg, int rc, const cairn_ingest_recorded_t *r, const char *err)
{
    s_slot_t *slot = arg;
    s_pending_t *p = slot->pending;
    cairn_ingest_handler_t *self = p->self;
    Cairn__V1__Event *ev = p->events[slot->i];
    if (rc < 0) {
        pthread_mutex_lock(&p->lock);
        if (slot->i < p->failed) {
            p->failed = slot->i;
            snprintf(p->err, sizeof p->err, "%s", err);
        }
        pthread_mutex_unlock(&p->lock);
    } else {
        p->acks[slot->i].rec = *r;
        atomic_fetch_add(r->duplicate ? &self->duplicate : &self->accepted, 1);
        if (!r->duplicate && p->source_slot < S_N_SOURCES)
            atomic_fetch_add(&self->by_source[p->source_slot], 1);
        if (r->spooled)
            CAIRN_DEBUG("event spooled", "seq=%" PRIu64 " duplicate=%s type=%s id=%s",
                        r->spool_seq, r->duplicate ? "true" : "false", cairn_log_quote(ev->type),
                        cairn_log_quote(ev->id));
        else
            CAIRN_DEBUG("event recorded", "index=%" PRIu64 " duplicate=%s type=%s id=%s",
                        r->index, r->duplicate ? "true" : "false", cairn_log_quote(ev->type),
                        cairn_log_quote(ev->id));
        if (self->protection)
            cairn_ingest_protection_submit(self->protection, ev);
    }
    if (atomic_fetch_sub(&p->left, 1) == 1)
        s_pending_answer(p);
}

/* Hands each event (already normalized and keyed) to the recorder; the
 * answer comes once all of them are durable or one could not be made so.
 * Takes *events (sets it to NULL) when it returns true: the answer then
 * goes to answer(arg); false: *out holds the answer now. */
static bool s_record(cairn_ingest_handler_t *self, const s_request_t *req,
                     Cairn__V1__Event ***events, size_t n, bool batch, cairn_ingest_response_t *out,
                     cairn_ingest_answer_fn answer, void *arg)
{
    if (!s_admit(self, n)) {
        char err[S_ERRLEN];
        snprintf(err, sizeof err,
                 "ingest is overloaded: %" PRIu64 " events already wait to be made durable "
                 "(ingest.max_inflight); retry after %d seconds",
                 self->max_inflight, S_RETRY_AFTER);
        s_error(self, 503, err, out);
        return false;
    }
    s_pending_t *p = s_pending_alloc(n);
    if (!p)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        Cairn__V1__Event *ev = (*events)[i];
        ev->received_at_ms = req->now_ms;
        if (cairn_nf_set(&ev->body_sha256, req->sha_hex) < 0)
            goto nomem;
        p->acks[i].id = ev->id;
        p->slots[i] = (s_slot_t){.pending = p, .i = i};
    }
    pthread_mutex_init(&p->lock, NULL);
    p->self = self;
    p->events = *events;
    *events = NULL;
    p->n = n;
    p->batch = batch;
    p->source_slot = s_source_slot(req->source);
    p->failed = n;
    p->answer = answer;
    p->arg = arg;
    atomic_store(&p->left, n);
    if (n == 0) {
        s_pending_answer(p);
        return true;
    }
    /* The last callback may answer and free p before the loop ends: read
     * nothing from p after handing over the last event. */
    Cairn__V1__Event **evs = p->events;
    s_slot_t *slots = p->slots;
    for (size_t i = 0; i < n; i++)
        cairn_ingest_recorder_record_async(self->recorder, evs[i], s_recorded, &slots[i]);
    return true;
nomem:
    atomic_fetch_sub(&self->inflight, n);
    free(p);
    s_error(self, 500, "ingest ran out of memory; retry later", out);
    return false;
}

/* Authenticates a request for source; 0, or an answer was given. */
static int s_authenticate(cairn_ingest_handler_t *self, const s_request_t *req, const char *source,
                          char *how, size_t howlen, cairn_ingest_response_t *out)
{
    char err[S_ERRLEN] = "";
    int rc = cairn_ingest_auth_check(self->auth, source, req->headers, req->n_headers, req->body,
                                     req->len, req->now_ms, how, howlen, err, sizeof err);
    if (rc == CAIRN_EINVALID) {
        s_auth_failed(self, req->source);
        s_reject(self, req, 401, err, out);
    } else if (rc < 0) {
        s_error(self, 500, "ingest could not check the request's credentials; retry later", out);
    }
    return rc;
}

/* POST /v1/events: CloudEvents in any of the three modes. True when the
 * answer will go to answer(arg); false when it is in *out now. */
static bool s_cloudevents(cairn_ingest_handler_t *self, const s_request_t *req,
                          cairn_ingest_response_t *out, cairn_ingest_answer_fn answer, void *arg)
{
    char err[S_ERRLEN] = "", how[96] = "submit-socket";
    Cairn__V1__Event **events = NULL;
    size_t n = 0;
    s_mode_t mode = S_STRUCTURED;
    bool pending = false;
    if (req->via == S_VIA_HTTP && s_authenticate(self, req, "events", how, sizeof how, out) < 0)
        return false;
    if (s_mode(req->content_type, req->headers, req->n_headers, &mode, err, sizeof err) < 0) {
        s_reject(self, req, 415, err, out);
        return false;
    }
    int rc = s_parse(mode, req->content_type, req->headers, req->n_headers, req->body, req->len,
                     &events, &n, err, sizeof err);
    if (rc == CAIRN_EPARSE || rc == CAIRN_EINVALID) {
        s_reject(self, req, rc == CAIRN_EPARSE ? 400 : 422, err, out);
        goto out;
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        Cairn__V1__Event *ev = events[i];
        size_t key_len = strlen(ev->source) + strlen(ev->id) + 5;
        char *key = malloc(key_len);
        if (!key) {
            rc = -ENOMEM;
            break;
        }
        snprintf(key, key_len, "ce:%s\n%s", ev->source, ev->id);
        rc = cairn_nf_set(&ev->idempotency_key, key);
        free(key);
        if (rc == 0)
            rc = cairn_nf_set(&ev->authenticated_by, how);
        if (rc == 0)
            rc = cairn_ingest_headers_keep(ev, req->headers, req->n_headers);
        /* Structured data is re-serialized; the body as sent is kept too.
         * (Binary-mode data is the body; batch events share one body.) */
        if (rc == 0 && mode == S_STRUCTURED) {
            ev->raw_body.data = malloc(req->len ? req->len : 1);
            if (!ev->raw_body.data) {
                rc = -ENOMEM;
            } else {
                memcpy(ev->raw_body.data, req->body, req->len);
                ev->raw_body.len = req->len;
            }
        }
    }
    if (rc < 0) {
        s_error(self, 500, "ingest ran out of memory while parsing; retry later", out);
        goto out;
    }
    pending = s_record(self, req, &events, n, mode == S_BATCH, out, answer, arg);
out:
    cairn_cloudevent_free_all(&events, n);
    return pending;
}

/* POST /v1/webhooks/<source>. True when the answer will go to
 * answer(arg); false when it is in *out now. */
static bool s_webhook(cairn_ingest_handler_t *self, const s_request_t *req,
                      cairn_ingest_response_t *out, cairn_ingest_answer_fn answer, void *arg)
{
    char err[S_ERRLEN] = "", how[96] = "", key[S_KEYLEN] = "";
    Cairn__V1__Event *ev = NULL;
    bool pending = false;
    const char *name = req->source;
    if (!cairn_webhook_known(name)) {
        snprintf(err, sizeof err,
                 "no webhook source '%.64s'; POST webhooks to /v1/webhooks/<source> with one "
                 "of: %s (CloudEvents go to POST /v1/events)",
                 name, cairn_webhook_source_list);
        s_reject(self, req, 404, err, out);
        return false;
    }
    if (s_authenticate(self, req, name, how, sizeof how, out) < 0)
        return false;
    char media[128], charset[32];
    s_media_type(req->content_type, media, sizeof media, charset, sizeof charset);
    if ((media[0] && !cairn_cloudevent_is_json_type(media)) ||
        (charset[0] && strcmp(charset, "utf-8") != 0 && strcmp(charset, "utf8") != 0)) {
        snprintf(err, sizeof err,
                 "Content-Type '%.100s' is not supported on /v1/webhooks/%s; configure the "
                 "webhook to send application/json (UTF-8)",
                 req->content_type, name);
        s_reject(self, req, 415, err, out);
        return false;
    }
    int rc = cairn_webhook_build(name, req->headers, req->n_headers, req->content_type, req->body,
                                 req->len, req->sha_hex, &ev, key, sizeof key, err, sizeof err);
    if (rc == CAIRN_EPARSE || rc == CAIRN_EINVALID) {
        s_reject(self, req, rc == CAIRN_EPARSE ? 400 : 422, err, out);
        return false;
    }
    if (rc == 0)
        rc = cairn_nf_set(&ev->idempotency_key, key);
    if (rc == 0)
        rc = cairn_nf_set(&ev->authenticated_by, how);
    if (rc < 0) {
        CAIRN_ERROR("cannot build the webhook event", "source=%s error=%s", name,
                    cairn_log_quote(rc == -ENOMEM ? "out of memory" : err));
        s_error(self, 500, "ingest could not read the webhook; retry later", out);
    } else {
        Cairn__V1__Event **events = calloc(1, sizeof *events);
        if (!events) {
            s_error(self, 500, "ingest ran out of memory; retry later", out);
        } else {
            events[0] = ev;
            ev = NULL;
            pending = s_record(self, req, &events, 1, false, out, answer, arg);
            cairn_cloudevent_free_all(&events, 1);
        }
    }
    cairn_cloudevent_free(&ev);
    return pending;
}

/* Answers now into *out (false), or hands the answer to answer(arg)
 * later (true). */
static bool s_handle(cairn_ingest_handler_t *self, s_via_t via, const char *path,
                     const char *content_type, const cairn_ingest_header_t *headers,
                     size_t n_headers, const void *body, size_t len, cairn_ingest_response_t *out,
                     cairn_ingest_answer_fn answer, void *arg)
{
    static const char hook[] = "/v1/webhooks/";
    char err[S_ERRLEN] = "", name[65] = "";
    out->body = NULL;
    out->retry_after = 0;
    s_request_t req = {
        .path = path,
        .content_type =
            content_type ? content_type : cairn_ingest_header(headers, n_headers, "content-type"),
        .headers = headers,
        .n_headers = n_headers,
        .body = body ? body : "",
        .len = len,
        .via = via,
        .now_ms = cairn_now_ms(),
    };
    bool events = path && strcmp(path, "/v1/events") == 0;
    bool webhook = path && strncmp(path, hook, sizeof hook - 1) == 0;
    if (!events && !webhook) {
        snprintf(err, sizeof err,
                 "no such endpoint '%.200s'; events go to POST /v1/events, webhooks to "
                 "POST /v1/webhooks/<source>",
                 path ? path : "");
        s_error(self, 404, err, out);
        return false;
    }
    if (webhook)
        snprintf(name, sizeof name, "%s", path + sizeof hook - 1);
    req.source = events ? "cloudevents" : name;
    if (len > self->max_body) {
        snprintf(err, sizeof err,
                 "the request body is %zu bytes, over the limit of %zu bytes (ingest.max_body); %s",
                 len, self->max_body,
                 events ? "send fewer events per request" : "raise ingest.max_body");
        req.len = 0; /* nothing over the limit is kept */
        s_reject(self, &req, 413, err, out);
        return false;
    }
    uint8_t sha[32];
    cairn_sha256(req.body, len, sha);
    cairn_hex(sha, sizeof sha, req.sha_hex);
    if (events)
        return s_cloudevents(self, &req, out, answer, arg);
    return s_webhook(self, &req, out, answer, arg);
}

static void s_submit(cairn_ingest_handler_t *self, s_via_t via, const char *path,
                     const char *content_type, const cairn_ingest_header_t *headers,
                     size_t n_headers, const void *body, size_t len,
                     cairn_ingest_answer_fn answer, void *arg)
{
    cairn_ingest_response_t out = {0};
    if (!s_handle(self, via, path, content_type, headers, n_headers, body, len, &out, answer, arg))
        answer(arg, &out);
}

void cairn_ingest_handler_submit(cairn_ingest_handler_t *self, const char *path,
                                 const char *content_type, const cairn_ingest_header_t *headers,
                                 size_t n_headers, const void *body, size_t len,
                                 cairn_ingest_answer_fn answer, void *arg)
{
    s_submit(self, S_VIA_HTTP, path, content_type, headers, n_headers, body, len, answer, arg);
}

/* A synchronous caller waiting for its answer. */
typedef struct {
    cairn_ingest_latch_t latch;   /* opened when answered */
    cairn_ingest_response_t *out; /* where the answer goes */
} s_waiter_t;

static void s_waiter_answer(void *arg, cairn_ingest_response_t *response)
{
    s_waiter_t *w = arg;
    *w->out = *response;
    cairn_ingest_latch_open(&w->latch);
}

static void s_handle_wait(cairn_ingest_handler_t *self, s_via_t via, const char *path,
                          const char *content_type, const cairn_ingest_header_t *headers,
                          size_t n_headers, const void *body, size_t len,
                          cairn_ingest_response_t *out)
{
    s_waiter_t w = {.out = out};
    cairn_ingest_latch_init(&w.latch);
    s_submit(self, via, path, content_type, headers, n_headers, body, len, s_waiter_answer, &w);
    cairn_ingest_latch_wait(&w.latch);
}

void cairn_ingest_handler_handle(cairn_ingest_handler_t *self, const char *path,
                                 const char *content_type, const cairn_ingest_header_t *headers,
                                 size_t n_headers, const void *body, size_t len,
                                 cairn_ingest_response_t *out)
{
    s_handle_wait(self, S_VIA_HTTP, path, content_type, headers, n_headers, body, len, out);
}

void cairn_ingest_handler_handle_bus(cairn_ingest_handler_t *self, const char *path,
                                     const char *content_type, const cairn_ingest_header_t *headers,
                                     size_t n_headers, const void *body, size_t len,
                                     cairn_ingest_response_t *out)
{
    s_handle_wait(self, S_VIA_BUS, path, content_type, headers, n_headers, body, len, out);
}

/* --- metrics ------------------------------------------------------------ */

char *cairn_ingest_handler_metrics(cairn_ingest_handler_t *self)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (!f)
        return NULL;
    fprintf(f, "# HELP cairn_ingest_requests_total Event submissions answered, by HTTP status.\n"
               "# TYPE cairn_ingest_requests_total counter\n");
    for (size_t i = 0; i <= S_N_CODES; i++) {
        uint64_t v = atomic_load(&self->by_code[i]);
        if (i < S_N_CODES)
            fprintf(f, "cairn_ingest_requests_total{code=\"%u\"} %" PRIu64 "\n", s_codes[i], v);
        else
            fprintf(f, "cairn_ingest_requests_total{code=\"other\"} %" PRIu64 "\n", v);
    }
    fprintf(f, "# HELP cairn_ingest_rejected_total Submissions rejected, by HTTP status.\n"
               "# TYPE cairn_ingest_rejected_total counter\n");
    for (size_t i = 0; i < S_N_CODES; i++)
        if (s_codes[i] >= 400)
            fprintf(f, "cairn_ingest_rejected_total{code=\"%u\"} %" PRIu64 "\n", s_codes[i],
                    atomic_load(&self->by_code[i]));
    fprintf(f,
            "# HELP cairn_ingest_events_accepted_total Events accepted (recorded by the ledger, or "
            "spooled for it).\n"
            "# TYPE cairn_ingest_events_accepted_total counter\n"
            "cairn_ingest_events_accepted_total %" PRIu64 "\n"
            "# HELP cairn_ingest_events_duplicate_total Redelivered events the ledger already "
            "held.\n"
            "# TYPE cairn_ingest_events_duplicate_total counter\n"
            "cairn_ingest_events_duplicate_total %" PRIu64 "\n"
            "# HELP cairn_ingest_rejected_kept_total Rejected bodies kept for inspection.\n"
            "# TYPE cairn_ingest_rejected_kept_total counter\n"
            "cairn_ingest_rejected_kept_total %" PRIu64 "\n",
            atomic_load(&self->accepted), atomic_load(&self->duplicate),
            cairn_ingest_rejected_kept(self->rejected));
    fprintf(f, "# HELP cairn_ingest_source_events_total Events accepted, by source.\n"
               "# TYPE cairn_ingest_source_events_total counter\n");
    for (size_t i = 0; i < S_N_SOURCES; i++)
        fprintf(f, "cairn_ingest_source_events_total{source=\"%s\"} %" PRIu64 "\n", s_sources[i],
                atomic_load(&self->by_source[i]));
    fprintf(f, "# HELP cairn_ingest_auth_failures_total Requests refused (401) for a missing or "
               "wrong signature or token, by source.\n"
               "# TYPE cairn_ingest_auth_failures_total counter\n");
    for (size_t i = 0; i < S_N_SOURCES; i++)
        fprintf(f, "cairn_ingest_auth_failures_total{source=\"%s\"} %" PRIu64 "\n", s_sources[i],
                atomic_load(&self->auth_failed[i]));
    fprintf(f,
            "# HELP cairn_ingest_inflight_events Events waiting to be made durable "
            "(bounded by ingest.max_inflight).\n"
            "# TYPE cairn_ingest_inflight_events gauge\n"
            "cairn_ingest_inflight_events %" PRIu64 "\n"
            "# HELP cairn_ingest_overload_rejected_total Submissions answered 503 because "
            "ingest.max_inflight events were already waiting.\n"
            "# TYPE cairn_ingest_overload_rejected_total counter\n"
            "cairn_ingest_overload_rejected_total %" PRIu64 "\n",
            atomic_load(&self->inflight), atomic_load(&self->overloaded));
    cairn_ingest_recorder_metrics(self->recorder, f);
    cairn_ingest_protection_metrics(self->protection, f);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
