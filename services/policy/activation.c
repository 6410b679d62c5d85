/* Policy file watch and activation records (see activation.h). */
#include "activation.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"
#include "policy_load.h"

#define S_CHECK_EVERY_MS 1000 /* file checks and ledger retries */
#define S_CALL_MAX_MS 1000    /* a dead ledger must not stall the loop longer */
#define S_PAGE 64             /* activation entries asked for per query */
#define S_TOPIC "policy.activated"
#define S_DIGEST_MAX 80

/* What identifies a version of the file without reading it. */
typedef struct {
    bool exists;           /* stat() succeeded */
    dev_t dev;             /* device */
    ino_t ino;             /* inode (editors that rename in place change it) */
    off_t size;            /* size in bytes */
    struct timespec mtime; /* modification time */
} s_stamp_t;

struct cairn_activation_t {
    char *file;                    /* policy.file ("" = built-in, nothing to watch) */
    cairn_policy_slot_t *slot;     /* the policy in force (not owned) */
    cairn_policy_engine_t *engine; /* reloads go through it (not owned) */
    cairn_client_t *ledger;        /* DEALER to bus.ledger_api */
    int timeout_ms;                /* per ledger request */
    s_stamp_t stamp;               /* the file as last looked at */
    int64_t next_check;            /* monotonic ms of the next file check */
    int64_t next_try;              /* monotonic ms of the next ledger attempt */
    char seen[S_DIGEST_MAX];       /* digest in force at the last step */
    int64_t seen_since_ms;         /* wall clock when that digest was first seen */
    char recorded[S_DIGEST_MAX];   /* digest of the last activation in the ledger */
    bool failing;                  /* the last ledger attempt failed (logged once) */
};

static void s_stamp(const char *path, s_stamp_t *out)
{
    struct stat st;
    memset(out, 0, sizeof *out);
    if (stat(path, &st) != 0)
        return;
    out->exists = true;
    out->dev = st.st_dev;
    out->ino = st.st_ino;
    out->size = st.st_size;
    out->mtime = st.st_mtim;
}

static bool s_stamp_equal(const s_stamp_t *a, const s_stamp_t *b)
{
    return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

int cairn_activation_new(const cairn_config_t *config, cairn_policy_slot_t *slot,
                         cairn_policy_engine_t *engine, cairn_activation_t **out)
{
    cairn_activation_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    int64_t timeout = cairn_config_int(config, "bus.request_timeout");
    self->timeout_ms = (int)(timeout < S_CALL_MAX_MS ? timeout : S_CALL_MAX_MS);
    self->slot = slot;
    self->engine = engine;
    self->file = strdup(cairn_config_str(config, "policy.file"));
    self->ledger = cairn_client_new(cairn_config_str(config, "bus.ledger_api"));
    if (!self->file || !self->ledger) {
        cairn_activation_destroy(&self);
        return -ENOMEM;
    }
    if (*self->file)
        s_stamp(self->file, &self->stamp);
    self->next_check = cairn_mono_ms() + S_CHECK_EVERY_MS;
    *out = self;
    return 0;
}

void cairn_activation_destroy(cairn_activation_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_activation_t *self = *self_p;
    cairn_client_destroy(&self->ledger);
    free(self->file);
    free(self);
    *self_p = NULL;
}

const char *cairn_activation_recorded(const cairn_activation_t *self)
{
    return self->recorded;
}

/* ---- the file watch --------------------------------------------------------- */

/* "sha256:<hex>" of the file's bytes, as the loader computes it. */
static int s_file_digest(const char *path, char out[S_DIGEST_MAX])
{
    char *text = NULL;
    size_t len = 0;
    int rc = cairn_read_file(path, CAIRN_POLICY_MAX_BYTES, &text, &len);
    if (rc < 0)
        return rc;
    uint8_t d[32];
    char hex[65];
    cairn_sha256(text, len, d);
    cairn_hex(d, sizeof d, hex);
    snprintf(out, S_DIGEST_MAX, "sha256:%s", hex);
    free(text);
    return 0;
}

static void s_check_file(cairn_activation_t *self)
{
    s_stamp_t now;
    s_stamp(self->file, &now);
    if (s_stamp_equal(&now, &self->stamp))
        return;
    self->stamp = now;
    if (!now.exists) {
        CAIRN_ERROR("the policy file is gone; keeping the running policy", "file=%s",
                    cairn_log_quote(self->file));
        return;
    }
    char digest[S_DIGEST_MAX];
    cairn_policy_t *cur = cairn_policy_slot_get(self->slot);
    bool same = s_file_digest(self->file, digest) == 0 && strcmp(digest, cur->digest) == 0;
    cairn_policy_unref(&cur);
    if (same)
        return; /* touched or rewritten with the same bytes */
    CAIRN_INFO("the policy file changed; reloading", "file=%s", cairn_log_quote(self->file));
    /* The engine logs every problem of an invalid file and keeps the running policy. */
    cairn_policy_engine_reload(self->engine);
}

/* ---- the activation record ---------------------------------------------------- */

static int s_call(cairn_activation_t *self, const Cairn__V1__LedgerRequest *req,
                  Cairn__V1__LedgerReply **reply_out, char *error, size_t error_len)
{
    uint8_t *buf = NULL, *answer = NULL;
    size_t len = 0, answer_len = 0;
    Cairn__V1__LedgerReply *reply = NULL;
    int rc = cairn_codec_pack(&req->base, &buf, &len);
    if (rc < 0)
        return rc;
    rc = cairn_client_call(self->ledger, buf, len, self->timeout_ms, &answer, &answer_len);
    free(buf);
    if (rc < 0)
        return rc;
    rc = cairn_codec_ledger_reply_unpack(answer, answer_len, &reply);
    free(answer);
    if (rc < 0)
        return rc;
    if (reply->status != 0) {
        rc = reply->status < 0 ? reply->status : CAIRN_EPROTO;
        snprintf(error, error_len, "%s", reply->error);
        CAIRN_CODEC_FREE(&reply);
        return rc;
    }
    *reply_out = reply;
    return 0;
}

/* The last activation in the ledger: *found false when there is none. */
static int s_last_recorded(cairn_activation_t *self, char digest[S_DIGEST_MAX], uint64_t *index,
                           bool *found, char *error, size_t error_len)
{
    uint64_t from = 0;
    *found = false;
    for (;;) {
        Cairn__V1__QueryRequest q = CAIRN__V1__QUERY_REQUEST__INIT;
        Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
        Cairn__V1__LedgerReply *reply = NULL;
        q.topic_prefix = S_TOPIC;
        q.from_index = from;
        q.limit = S_PAGE;
        req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_QUERY;
        req.query = &q;
        int rc = s_call(self, &req, &reply, error, error_len);
        if (rc < 0)
            return rc;
        size_t n = reply->n_entries;
        for (size_t i = 0; i < n; i++) {
            const Cairn__V1__Entry *e = reply->entries[i];
            Cairn__V1__Record *rec = NULL;
            from = e->index + 1;
            if (cairn_codec_record_unpack(e->record.data, e->record.len, &rec) < 0)
                continue; /* purged or damaged: its key still names it, keep looking */
            if (rec->body_case == CAIRN__V1__RECORD__BODY_ACTIVATION) {
                snprintf(digest, S_DIGEST_MAX, "%s", rec->activation->digest);
                *index = e->index;
                *found = true;
            }
            CAIRN_CODEC_FREE(&rec);
        }
        CAIRN_CODEC_FREE(&reply);
        if (n < S_PAGE)
            return 0;
    }
}

static int s_append(cairn_activation_t *self, const cairn_policy_t *p, const char *key,
                    uint64_t *index, bool *duplicate, char *error, size_t error_len)
{
    Cairn__V1__PolicyActivation act = CAIRN__V1__POLICY_ACTIVATION__INIT;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__AppendRequest append = CAIRN__V1__APPEND_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__LedgerReply *reply = NULL;
    act.name = (char *)p->name;
    act.revision = (char *)p->revision;
    act.digest = (char *)p->digest;
    act.activated_at_ms = self->seen_since_ms;
    act.source_path = (char *)p->source;
    rec.body_case = CAIRN__V1__RECORD__BODY_ACTIVATION;
    rec.activation = &act;
    append.key = (char *)key;
    append.record = &rec;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = &append;
    int rc = s_call(self, &req, &reply, error, error_len);
    if (rc < 0)
        return rc;
    if (!reply->ack) {
        CAIRN_CODEC_FREE(&reply);
        return CAIRN_EPROTO;
    }
    *index = reply->ack->index;
    *duplicate = reply->ack->duplicate;
    CAIRN_CODEC_FREE(&reply);
    return 0;
}

static void s_record(cairn_activation_t *self, const cairn_policy_t *p)
{
    char last[S_DIGEST_MAX] = "", error[512] = "", key[160];
    uint64_t last_index = 0, index = 0;
    bool found = false, duplicate = false;
    int rc = s_last_recorded(self, last, &last_index, &found, error, sizeof error);
    if (rc == 0 && found && strcmp(last, p->digest) == 0) {
        snprintf(self->recorded, sizeof self->recorded, "%s", last);
        CAIRN_INFO("policy activation already recorded", "policy=%s digest=%s index=%" PRIu64,
                   cairn_log_quote(p->name), p->digest, last_index);
        self->failing = false;
        return;
    }
    if (rc == 0) {
        if (found)
            snprintf(key, sizeof key, "policy:%s:%" PRIu64, p->digest, last_index);
        else
            snprintf(key, sizeof key, "policy:%s:first", p->digest);
        rc = s_append(self, p, key, &index, &duplicate, error, sizeof error);
    }
    if (rc < 0) {
        cairn_log_level_t level = self->failing ? CAIRN_LOG_DEBUG : CAIRN_LOG_WARN;
        cairn_log(level, "cannot record the policy activation in the ledger; will retry",
                  "policy=%s digest=%s error=%s detail=%s", cairn_log_quote(p->name), p->digest,
                  cairn_log_quote(cairn_strerror(rc)), cairn_log_quote(error));
        self->failing = true;
        self->next_try = cairn_mono_ms() + S_CHECK_EVERY_MS;
        return;
    }
    self->failing = false;
    snprintf(self->recorded, sizeof self->recorded, "%s", p->digest);
    CAIRN_INFO("policy activation recorded",
               "policy=%s revision=%s digest=%s index=%" PRIu64 " duplicate=%s",
               cairn_log_quote(p->name), cairn_log_quote(p->revision), p->digest, index,
               duplicate ? "true" : "false");
}

void cairn_activation_step(cairn_activation_t *self)
{
    int64_t now = cairn_mono_ms();
    if (*self->file && now >= self->next_check) {
        self->next_check = now + S_CHECK_EVERY_MS;
        s_check_file(self);
    }
    cairn_policy_t *p = cairn_policy_slot_get(self->slot);
    if (strcmp(p->digest, self->seen) != 0) {
        snprintf(self->seen, sizeof self->seen, "%s", p->digest);
        self->seen_since_ms = cairn_now_ms();
        self->next_try = 0;
    }
    if (strcmp(p->digest, self->recorded) != 0 && now >= self->next_try)
        s_record(self, p);
    cairn_policy_unref(&p);
}
