/* GitHub deployment protection rules (see protection.h): the worker that
 * asks the policy, waits for verdicts, answers GitHub and records the
 * answer.
 *
 * A request moves through three stages, each saved before the next begins:
 *   waiting    the policy has not allowed or denied yet
 *   answering  decided ("state" and "comment" set); the POST to GitHub is
 *              being tried (retried on network errors, 5xx and 429)
 *   answered   GitHub took it (or the last attempt failed for good); the
 *              answer event is being recorded
 * and is then moved to the store's "done" list. The stored document is
 *   {id, event_id, change, environment, commit, repository, pr, callback,
 *    received_ms, deadline_ms, stage, decision, state, comment, attempts,
 *    http_status, error, answered_ms} */
#include "protection.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/partition.h"
#include "cairn/util.h"
#include "cloudevent.h"
#include "github_api.h"
#include "normalize_fields.h"
#include "protection_store.h"

/* Upper bound on one wait of the worker, so a stop is noticed promptly. */
#define S_POLL_MS 200
/* While the policy says pending, ask again this often anyway (a verdict
 * may have been missed while the stream reconnected). */
#define S_REQUERY_MS 5000
/* After a verdict for the change: ask at once, then a few times this soon
 * (the policy records a verdict just before it commits its own state). */
#define S_BURST_MS 300
#define S_BURST 3
/* The policy did not answer: ask again after this. */
#define S_POLICY_RETRY_MS 1000
/* Attempts at the POST to GitHub before giving up, and their spacing. */
#define S_POST_ATTEMPTS 8
#define S_POST_TIMEOUT_MS 10000
#define S_POST_BACKOFF_MAX_MS 60000
/* Recording the answer failed (spool full): try again after this. */
#define S_RECORD_RETRY_MS 5000
/* GitHub shows the comment with the review; it is kept short. */
#define S_COMMENT_MAX 1000

/* One request the worker holds. */
typedef struct {
    json_t *doc;     /* the stored document (see the top of this file) */
    int64_t next_ms; /* when to work on it next (Unix ms) */
    int burst;       /* quick re-asks left after a verdict */
    bool finished;   /* moved to done: drop it */
} s_item_t;

struct cairn_ingest_protection_t {
    cairn_protection_store_t *store;   /* pending and done requests */
    char *policy_endpoint;             /* bus.policy_query */
    char *policy_partitions;           /* policy.partition_endpoints */
    char *ledger_stream;               /* bus.ledger_stream */
    char *gate;                        /* the gate asked about */
    char *topic;                       /* "verdict.<gate>" */
    char *api_url;                     /* GitHub API base */
    char *token_spec;                  /* ingest.github_token as configured */
    int request_timeout_ms;            /* one policy query */
    int64_t timeout_ms;                /* how long a request may stay pending */
    cairn_ingest_recorder_t *recorder; /* records the answers (borrowed) */
    pthread_t thread;                  /* the worker */
    bool started;                      /* thread needs joining */
    atomic_bool stop;                  /* asks the worker to end */
    pthread_mutex_t lock;              /* guards inbox */
    json_t *inbox;                     /* submitted documents the worker has not taken */
    s_item_t *items;                   /* worker only: requests being worked on */
    size_t n_items;                    /* worker only: how many */
    cairn_client_t *policy;            /* worker only: policy query client */
    char policy_at[512];               /* worker only: the endpoint it is connected to */
    zsock_t *sub;                      /* worker only: verdicts of the gate */
    _Atomic uint64_t received;         /* requests taken */
    _Atomic uint64_t approved;         /* "approved" answers GitHub took */
    _Atomic uint64_t rejected;         /* "rejected" answers GitHub took */
    _Atomic uint64_t failed;           /* answers GitHub never took */
    _Atomic uint64_t pending;          /* requests not answered yet */
};

/* --- small helpers ------------------------------------------------------- */

static const char *s_str(const json_t *doc, const char *key)
{
    const char *v = json_string_value(json_object_get(doc, key));
    return v ? v : "";
}

static int64_t s_int(const json_t *doc, const char *key)
{
    return (int64_t)json_integer_value(json_object_get(doc, key));
}

static void s_set_str(json_t *doc, const char *key, const char *value)
{
    json_t *v = json_string(value ? value : "");
    if (!v) {
        /* Not UTF-8 (a cut message): keep it readable. */
        char *copy = strdup(value);
        for (char *p = copy; p && *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
        v = json_string(copy ? copy : "");
        free(copy);
    }
    json_object_set_new(doc, key, v);
}

static void s_set_int(json_t *doc, const char *key, int64_t value)
{
    json_object_set_new(doc, key, json_integer((json_int_t)value));
}

/* "1h", "30m", "45s", "250ms" for a log line or a comment. */
static void s_duration(int64_t ms, char *buf, size_t len)
{
    if (ms % 3600000 == 0)
        snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
    else if (ms % 60000 == 0)
        snprintf(buf, len, "%" PRId64 "m", ms / 60000);
    else if (ms % 1000 == 0)
        snprintf(buf, len, "%" PRId64 "s", ms / 1000);
    else
        snprintf(buf, len, "%" PRId64 "ms", ms);
}

/* Appends text to a comment buffer, stopping (at a UTF-8 boundary, with an
 * ellipsis) when it would pass S_COMMENT_MAX. False once full. */
static bool s_append(char *buf, size_t *used, const char *text)
{
    size_t len = strlen(text);
    if (*used + len <= S_COMMENT_MAX) {
        memcpy(buf + *used, text, len);
        *used += len;
        buf[*used] = '\0';
        return true;
    }
    size_t room = S_COMMENT_MAX - *used;
    room = room > 3 ? room - 3 : 0;
    while (room > 0 && ((unsigned char)text[room] & 0xC0) == 0x80)
        room--;
    memcpy(buf + *used, text, room);
    *used += room;
    memcpy(buf + *used, "\xe2\x80\xa6", 3); /* U+2026 */
    *used += 3;
    buf[*used] = '\0';
    return false;
}

/* Where a reason goes in the comment: what blocks first. */
static int s_rank(const char *result)
{
    static const char *const order[] = {"fail", "missing", "void"};
    for (int i = 0; i < 3; i++)
        if (strcmp(result, order[i]) == 0)
            return i;
    return 3;
}

/* The reasons of a verdict, the ones that decide first, then what is open. */
static void s_verdict_text(const Cairn__V1__Verdict *v, char *buf, size_t *used)
{
    char line[1200];
    for (int rank = 0; rank <= 3; rank++) {
        for (size_t i = 0; i < v->n_reasons; i++) {
            const Cairn__V1__Reason *r = v->reasons[i];
            if (s_rank(r->result) != rank)
                continue;
            snprintf(line, sizeof line, "\n- %s %s: %s", r->result, r->rule_id, r->message);
            if (!s_append(buf, used, line))
                return;
        }
    }
    for (size_t i = 0; i < v->n_obligations; i++) {
        snprintf(line, sizeof line, "\n- open: %s", v->obligations[i]->message);
        if (!s_append(buf, used, line))
            return;
    }
}

/* The comment GitHub shows: a headline, then the verdict's reasons. */
static void s_comment(char *buf, const char *headline, const Cairn__V1__Verdict *v)
{
    size_t used = 0;
    buf[0] = '\0';
    if (s_append(buf, &used, headline) && v)
        s_verdict_text(v, buf, &used);
}

/* --- submit -------------------------------------------------------------- */

static const char *s_ext(const Cairn__V1__Event *ev, const char *name)
{
    for (size_t i = 0; i < ev->n_extensions; i++)
        if (strcmp(ev->extensions[i]->key, name) == 0)
            return ev->extensions[i]->value;
    return NULL;
}

int cairn_ingest_protection_submit(cairn_ingest_protection_t *self, const Cairn__V1__Event *ev)
{
    char path[512], err[512];
    if (!self || !ev->type || strcmp(ev->type, CAIRN_PROTECTION_REQUEST_TYPE) != 0)
        return 0;
    const char *id = ev->idempotency_key && *ev->idempotency_key ? ev->idempotency_key : ev->id;
    if (cairn_github_callback_path(s_ext(ev, "callbackurl"), path, sizeof path, err, sizeof err) <
        0) {
        CAIRN_WARN("cannot answer a deployment protection rule", "id=%s error=%s",
                   cairn_log_quote(id), cairn_log_quote(err));
        return CAIRN_EINVALID;
    }
    const Cairn__V1__Correlation *c = ev->correlation;
    int64_t now = cairn_now_ms();
    json_t *doc = json_object();
    if (!doc)
        return -ENOMEM;
    s_set_str(doc, "id", id);
    s_set_str(doc, "event_id", ev->id);
    s_set_str(doc, "change", c ? c->change_id : "");
    s_set_str(doc, "environment", c ? c->environment : "");
    s_set_str(doc, "commit", c ? c->commit_sha : "");
    s_set_str(doc, "repository", c ? c->repository : "");
    s_set_str(doc, "pr", c ? c->pr_number : "");
    s_set_str(doc, "callback", path);
    s_set_int(doc, "received_ms", now);
    s_set_int(doc, "deadline_ms", now + self->timeout_ms);
    s_set_str(doc, "stage", "waiting");
    s_set_int(doc, "attempts", 0);
    int rc = cairn_protection_store_add(self->store, doc);
    if (rc == 1) {
        CAIRN_INFO("deployment protection rule already taken", "id=%s", cairn_log_quote(id));
        json_decref(doc);
        return 0;
    }
    if (rc < 0) {
        CAIRN_ERROR("cannot keep a deployment protection rule", "id=%s error=%s",
                    cairn_log_quote(id), cairn_log_quote(cairn_strerror(rc)));
        json_decref(doc);
        return rc;
    }
    atomic_fetch_add(&self->received, 1);
    atomic_fetch_add(&self->pending, 1);
    CAIRN_INFO("deployment protection rule received", "id=%s change=%s environment=%s gate=%s",
               cairn_log_quote(id), cairn_log_quote(s_str(doc, "change")),
               cairn_log_quote(s_str(doc, "environment")), cairn_log_quote(self->gate));
    pthread_mutex_lock(&self->lock);
    json_array_append_new(self->inbox, doc);
    pthread_mutex_unlock(&self->lock);
    return 0;
}

/* --- the worker's steps -------------------------------------------------- */

static void s_save(cairn_ingest_protection_t *self, s_item_t *it)
{
    int rc = cairn_protection_store_save(self->store, it->doc);
    if (rc < 0)
        CAIRN_ERROR("cannot save a deployment protection rule's progress", "id=%s error=%s",
                    cairn_log_quote(s_str(it->doc, "id")), cairn_log_quote(cairn_strerror(rc)));
}

/* Fixes the answer: approved or not, the policy's word, the comment. */
static void s_decide(cairn_ingest_protection_t *self, s_item_t *it, bool approved,
                     const char *decision, const char *comment)
{
    s_set_str(it->doc, "stage", "answering");
    s_set_str(it->doc, "state", approved ? "approved" : "rejected");
    s_set_str(it->doc, "decision", decision);
    s_set_str(it->doc, "comment", comment);
    s_save(self, it);
    it->next_ms = 0;
    CAIRN_INFO("deployment protection rule decided", "id=%s change=%s state=%s decision=%s",
               cairn_log_quote(s_str(it->doc, "id")), cairn_log_quote(s_str(it->doc, "change")),
               approved ? "approved" : "rejected", decision);
}

/* Asks the policy; 0 with *reply_out, or a negative code (no answer). */
static int s_query(cairn_ingest_protection_t *self, const json_t *doc,
                   Cairn__V1__PolicyReply **reply_out)
{
    uint8_t *req = NULL, *buf = NULL;
    size_t req_len = 0, buf_len = 0;
    Cairn__V1__GateQuery q = CAIRN__V1__GATE_QUERY__INIT;
    Cairn__V1__PolicyRequest r = CAIRN__V1__POLICY_REQUEST__INIT;
    q.change_id = (char *)s_str(doc, "change");
    q.gate = self->gate;
    q.environment = (char *)s_str(doc, "environment");
    r.body_case = CAIRN__V1__POLICY_REQUEST__BODY_GATE;
    r.gate = &q;
    /* Partitioned policy instances: the one holding the change. */
    char endpoint[sizeof self->policy_at];
    size_t n = cairn_partition_endpoint_count(self->policy_partitions);
    if (n < 2 || cairn_partition_endpoint(self->policy_partitions,
                                          cairn_partition_of(q.change_id, (uint32_t)n), endpoint,
                                          sizeof endpoint) < 0)
        snprintf(endpoint, sizeof endpoint, "%s", self->policy_endpoint);
    if (self->policy && strcmp(endpoint, self->policy_at) != 0)
        cairn_client_destroy(&self->policy);
    if (!self->policy && !(self->policy = cairn_client_new(endpoint)))
        return -ENOMEM;
    snprintf(self->policy_at, sizeof self->policy_at, "%s", endpoint);
    int rc = cairn_codec_pack(&r.base, &req, &req_len);
    if (rc == 0)
        rc =
            cairn_client_call(self->policy, req, req_len, self->request_timeout_ms, &buf, &buf_len);
    if (rc == 0)
        rc = cairn_codec_policy_reply_unpack(buf, buf_len, reply_out);
    free(req);
    free(buf);
    return rc;
}

/* Stage "waiting": asks the policy, and decides when it allows or denies,
 * when it cannot decide, or when the request has waited too long. */
static void s_step_waiting(cairn_ingest_protection_t *self, s_item_t *it, int64_t now)
{
    char comment[S_COMMENT_MAX + 8], head[512], dur[32];
    const json_t *doc = it->doc;
    const char *change = s_str(doc, "change"), *env = s_str(doc, "environment");
    bool expired = now >= s_int(doc, "deadline_ms");
    Cairn__V1__PolicyReply *reply = NULL;
    s_duration(self->timeout_ms, dur, sizeof dur);
    if (!*change) {
        s_comment(comment,
                  "Cairn rejected this deployment: it cannot tell which change the deployment "
                  "belongs to. Name it in the deployment payload (\"change_id\") or with a "
                  "\"Cairn-Change:\" trailer in the commit message.",
                  NULL);
        s_decide(self, it, false, "none", comment);
        return;
    }
    int rc = s_query(self, doc, &reply);
    if (rc < 0) {
        if (expired) {
            snprintf(head, sizeof head,
                     "Cairn rejected this deployment: the policy (cairn-policy) could not be "
                     "asked about %s at gate %s within %s (%s).",
                     change, self->gate, dur, cairn_strerror(rc));
            s_comment(comment, head, NULL);
            s_decide(self, it, false, "unreachable", comment);
        } else {
            it->next_ms = now + S_POLICY_RETRY_MS;
            s_set_str(it->doc, "error", cairn_strerror(rc));
        }
        return;
    }
    const Cairn__V1__Verdict *v = reply->verdict;
    if (reply->status != 0 || !v) {
        snprintf(head, sizeof head,
                 "Cairn rejected this deployment: the policy could not decide gate %s for %s "
                 "(%s).",
                 self->gate, change,
                 reply->error && *reply->error ? reply->error : cairn_strerror(reply->status));
        s_comment(comment, head, NULL);
        s_decide(self, it, false, "error", comment);
        goto out;
    }
    const char *decision = cairn_decision_name(v->decision);
    char policy[300];
    snprintf(policy, sizeof policy, "policy %s%s%s", *v->policy_name ? v->policy_name : "?",
             *v->policy_revision ? " revision " : "", v->policy_revision);
    if (v->decision == CAIRN__V1__DECISION__DECISION_ALLOW ||
        v->decision == CAIRN__V1__DECISION__DECISION_DENY) {
        bool allow = v->decision == CAIRN__V1__DECISION__DECISION_ALLOW;
        snprintf(head, sizeof head, "Cairn %s %s at gate %s for %s (%s).",
                 allow ? "allows" : "denies", change, self->gate, *env ? env : "its environment",
                 policy);
        s_comment(comment, head, v);
        s_decide(self, it, allow, decision, comment);
        goto out;
    }
    s_set_str(it->doc, "decision", decision);
    if (expired) {
        snprintf(head, sizeof head,
                 "Cairn rejected this deployment: gate %s for %s (%s) was still %s after %s "
                 "(ingest.github_protection_timeout; %s).",
                 self->gate, change, *env ? env : "its environment", decision, dur, policy);
        s_comment(comment, head, v);
        s_decide(self, it, false, "timeout", comment);
        goto out;
    }
    if (it->burst > 0) {
        it->burst--;
        it->next_ms = now + S_BURST_MS;
    } else {
        it->next_ms = now + S_REQUERY_MS;
    }
    int64_t deadline = s_int(doc, "deadline_ms");
    if (it->next_ms > deadline)
        it->next_ms = deadline;
out:
    CAIRN_CODEC_FREE(&reply);
}

/* Stage "answering": POSTs the review to GitHub. */
static void s_step_answering(cairn_ingest_protection_t *self, s_item_t *it, int64_t now)
{
    char err[512] = "";
    long status = 0;
    char *body = cairn_github_review_body(s_str(it->doc, "environment"),
                                          strcmp(s_str(it->doc, "state"), "approved") == 0,
                                          s_str(it->doc, "comment"));
    if (!body) {
        it->next_ms = now + S_POLICY_RETRY_MS;
        return;
    }
    int rc = cairn_github_post(self->api_url, s_str(it->doc, "callback"), "ingest.github_token",
                               self->token_spec, body, S_POST_TIMEOUT_MS, &self->stop, &status, err,
                               sizeof err);
    free(body);
    if (atomic_load(&self->stop))
        return; /* tried again after the restart */
    int64_t attempts = s_int(it->doc, "attempts") + 1;
    s_set_int(it->doc, "attempts", attempts);
    bool taken = rc == 0 && status >= 200 && status < 300;
    bool retry = rc < 0 || status >= 500 || status == 429 || status == 408;
    if (rc == 0) {
        s_set_int(it->doc, "http_status", status);
        if (!taken)
            snprintf(err, sizeof err, "GitHub answered HTTP %ld", status);
    }
    s_set_str(it->doc, "error", taken ? "" : err);
    if (!taken && retry && attempts < S_POST_ATTEMPTS) {
        int64_t backoff = 1000LL << (attempts < 16 ? attempts - 1 : 15);
        it->next_ms = now + (backoff < S_POST_BACKOFF_MAX_MS ? backoff : S_POST_BACKOFF_MAX_MS);
        CAIRN_WARN("cannot answer a deployment protection rule yet",
                   "id=%s attempt=%" PRId64 " error=%s", cairn_log_quote(s_str(it->doc, "id")),
                   attempts, cairn_log_quote(err));
        s_save(self, it);
        return;
    }
    bool approved = strcmp(s_str(it->doc, "state"), "approved") == 0;
    if (taken) {
        atomic_fetch_add(approved ? &self->approved : &self->rejected, 1);
        CAIRN_INFO("answered a deployment protection rule", "id=%s change=%s state=%s status=%ld",
                   cairn_log_quote(s_str(it->doc, "id")), cairn_log_quote(s_str(it->doc, "change")),
                   s_str(it->doc, "state"), status);
    } else {
        atomic_fetch_add(&self->failed, 1);
        CAIRN_ERROR("GitHub did not take the answer to a deployment protection rule",
                    "id=%s state=%s attempts=%" PRId64 " error=%s hint=%s",
                    cairn_log_quote(s_str(it->doc, "id")), s_str(it->doc, "state"), attempts,
                    cairn_log_quote(err),
                    cairn_log_quote("check ingest.github_token (a GitHub App installation "
                                    "token with deployments:write) and ingest.github_api_url"));
    }
    s_set_str(it->doc, "stage", "answered");
    s_set_int(it->doc, "answered_ms", cairn_now_ms());
    s_save(self, it);
    it->next_ms = 0;
}

/* The event that records an answer (free with cairn_cloudevent_free). */
static int s_answer_event(cairn_ingest_protection_t *self, const json_t *doc,
                          Cairn__V1__Event **out)
{
    char id[600], time_text[32], key[700], status[24];
    int rc = -ENOMEM;
    json_t *data = NULL;
    char *data_text = NULL;
    Cairn__V1__Event *ev = calloc(1, sizeof *ev);
    if (!ev)
        return -ENOMEM;
    cairn__v1__event__init(ev);
    ev->correlation = calloc(1, sizeof *ev->correlation);
    ev->governance = calloc(1, sizeof *ev->governance);
    ev->evidence = calloc(1, sizeof *ev->evidence);
    if (!ev->correlation || !ev->governance || !ev->evidence)
        goto out;
    cairn__v1__correlation__init(ev->correlation);
    cairn__v1__governance__init(ev->governance);
    cairn__v1__evidence__init(ev->evidence);
    int64_t answered = s_int(doc, "answered_ms");
    cairn_format_time(answered ? answered : cairn_now_ms(), time_text);
    snprintf(id, sizeof id, "%s/answer", s_str(doc, "event_id"));
    snprintf(key, sizeof key, "github-protection-answer:%s", s_str(doc, "id"));
    snprintf(status, sizeof status, "%" PRId64, s_int(doc, "http_status"));
    data =
        json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s}", "request_id",
                  s_str(doc, "id"), "request_event_id", s_str(doc, "event_id"), "gate", self->gate,
                  "change", s_str(doc, "change"), "environment_name", s_str(doc, "environment"),
                  "decision", s_str(doc, "decision"), "state", s_str(doc, "state"), "comment",
                  s_str(doc, "comment"), "github_status", (json_int_t)s_int(doc, "http_status"),
                  "attempts", (json_int_t)s_int(doc, "attempts"), "error", s_str(doc, "error"),
                  "callback", s_str(doc, "callback"));
    if (!data || !(data_text = json_dumps(data, JSON_COMPACT)))
        goto out;
    Cairn__V1__Correlation *c = ev->correlation;
    if ((rc = cairn_nf_set(&ev->id, id)) < 0 ||
        (rc = cairn_nf_set(&ev->source, "/cairn/ingest/github-protection")) < 0 ||
        (rc = cairn_nf_set(&ev->spec_version, "1.0")) < 0 ||
        (rc = cairn_nf_set(&ev->type, CAIRN_PROTECTION_ANSWER_TYPE)) < 0 ||
        (rc = cairn_nf_set(&ev->subject, s_str(doc, "event_id"))) < 0 ||
        (rc = cairn_nf_set(&ev->time, time_text)) < 0 ||
        (rc = cairn_nf_set(&ev->data_content_type, "application/json")) < 0 ||
        (rc = cairn_nf_set(&c->change_id, s_str(doc, "change"))) < 0 ||
        (rc = cairn_nf_set(&c->environment, s_str(doc, "environment"))) < 0 ||
        (rc = cairn_nf_set(&c->commit_sha, s_str(doc, "commit"))) < 0 ||
        (rc = cairn_nf_set(&c->repository, s_str(doc, "repository"))) < 0 ||
        (rc = cairn_nf_set(&c->pr_number, s_str(doc, "pr"))) < 0 ||
        (rc = cairn_nf_set(&ev->governance->actor, "cairn-ingest")) < 0 ||
        (rc = cairn_nf_ext(ev, "state", s_str(doc, "state"))) < 0 ||
        (rc = cairn_nf_ext(ev, "decision", s_str(doc, "decision"))) < 0 ||
        (rc = cairn_nf_ext(ev, "gate", self->gate)) < 0 ||
        (rc = cairn_nf_ext(ev, "githubstatus", status)) < 0 ||
        (rc = cairn_nf_set(&ev->ingest_source, "github")) < 0 ||
        (rc = cairn_nf_set(&ev->idempotency_key, key)) < 0 ||
        (rc = cairn_nf_set(&ev->authenticated_by, "cairn-ingest")) < 0)
        goto out;
    ev->received_at_ms = cairn_now_ms();
    size_t len = strlen(data_text);
    ev->data.data = (uint8_t *)data_text;
    ev->data.len = len;
    data_text = NULL;
    uint8_t sha[32];
    char sha_hex[65];
    cairn_sha256(ev->data.data, len, sha);
    cairn_hex(sha, sizeof sha, sha_hex);
    rc = cairn_nf_set(&ev->body_sha256, sha_hex);
out:
    free(data_text);
    json_decref(data);
    if (rc < 0) {
        cairn_cloudevent_free(&ev);
        return rc;
    }
    *out = ev;
    return 0;
}

/* Stage "answered": records the answer in the ledger, then the request is done. */
static void s_step_answered(cairn_ingest_protection_t *self, s_item_t *it, int64_t now)
{
    Cairn__V1__Event *ev = NULL;
    char err[512] = "";
    cairn_ingest_recorded_t rec = {0};
    int rc = s_answer_event(self, it->doc, &ev);
    if (rc == 0)
        rc = cairn_ingest_recorder_record(self->recorder, ev, &rec, err, sizeof err);
    cairn_cloudevent_free(&ev);
    if (rc < 0) {
        CAIRN_WARN("cannot record a deployment protection rule answer yet", "id=%s error=%s",
                   cairn_log_quote(s_str(it->doc, "id")),
                   cairn_log_quote(*err ? err : cairn_strerror(rc)));
        it->next_ms = now + S_RECORD_RETRY_MS;
        return;
    }
    if (rec.spooled)
        s_set_int(it->doc, "spool_seq", (int64_t)rec.spool_seq);
    else
        s_set_int(it->doc, "ledger_index", (int64_t)rec.index);
    rc = cairn_protection_store_finish(self->store, it->doc);
    if (rc < 0) {
        /* Recorded already: a second try is a duplicate the ledger ignores. */
        CAIRN_ERROR("cannot close a deployment protection rule", "id=%s error=%s",
                    cairn_log_quote(s_str(it->doc, "id")), cairn_log_quote(cairn_strerror(rc)));
        it->next_ms = now + S_RECORD_RETRY_MS;
        return;
    }
    it->finished = true;
    atomic_fetch_sub(&self->pending, 1);
}

static void s_step(cairn_ingest_protection_t *self, s_item_t *it, int64_t now)
{
    if (strcmp(s_str(it->doc, "stage"), "waiting") == 0)
        s_step_waiting(self, it, now);
    if (strcmp(s_str(it->doc, "stage"), "answering") == 0 && it->next_ms <= now)
        s_step_answering(self, it, now);
    if (strcmp(s_str(it->doc, "stage"), "answered") == 0 && it->next_ms <= now &&
        !atomic_load(&self->stop))
        s_step_answered(self, it, now);
}

/* --- the worker loop ----------------------------------------------------- */

static int s_take(cairn_ingest_protection_t *self, json_t *doc)
{
    s_item_t *grown = realloc(self->items, (self->n_items + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    self->items = grown;
    grown[self->n_items++] = (s_item_t){.doc = json_incref(doc), .next_ms = 0, .burst = 0};
    return 0;
}

static void s_take_inbox(cairn_ingest_protection_t *self)
{
    pthread_mutex_lock(&self->lock);
    json_t *docs = self->inbox;
    self->inbox = json_array();
    pthread_mutex_unlock(&self->lock);
    size_t i;
    json_t *doc;
    json_array_foreach(docs, i, doc)
    {
        if (s_take(self, doc) < 0)
            CAIRN_ERROR("cannot hold a deployment protection rule", "id=%s",
                        cairn_log_quote(s_str(doc, "id")));
    }
    json_decref(docs);
}

/* A verdict of the gate was recorded: its change's requests are asked again now. */
static void s_on_verdict(cairn_ingest_protection_t *self, const char *change)
{
    for (size_t i = 0; i < self->n_items; i++) {
        s_item_t *it = &self->items[i];
        if (strcmp(s_str(it->doc, "stage"), "waiting") == 0 &&
            strcmp(s_str(it->doc, "change"), change) == 0) {
            it->next_ms = 0;
            it->burst = S_BURST;
        }
    }
}

/* Waits up to ms for verdicts and handles every one that arrived. */
static void s_listen(cairn_ingest_protection_t *self, int ms)
{
    if (!self->sub) {
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        return;
    }
    zmq_pollitem_t item = {zsock_resolve(self->sub), 0, ZMQ_POLLIN, 0};
    for (int wait = ms;; wait = 0) {
        if (zmq_poll(&item, 1, wait) <= 0 || !(item.revents & ZMQ_POLLIN))
            return;
        char *topic = NULL;
        uint8_t *payload = NULL;
        size_t len = 0;
        Cairn__V1__Entry *entry = NULL;
        if (cairn_bus_receive(self->sub, &topic, &payload, &len) == 0 &&
            strcmp(topic, self->topic) == 0 && cairn_codec_entry_unpack(payload, len, &entry) == 0)
            s_on_verdict(self, entry->change_id ? entry->change_id : "");
        CAIRN_CODEC_FREE(&entry);
        free(topic);
        free(payload);
    }
}

static void *s_run(void *arg)
{
    cairn_ingest_protection_t *self = arg;
    json_t *pending = NULL;
    if (cairn_protection_store_pending(self->store, &pending) == 0) {
        size_t i;
        json_t *doc;
        json_array_foreach(pending, i, doc)
        {
            if (s_take(self, doc) == 0)
                atomic_fetch_add(&self->pending, 1);
        }
        if (json_array_size(pending))
            CAIRN_INFO("resuming deployment protection rules", "pending=%zu",
                       json_array_size(pending));
    }
    json_decref(pending);
    int rc = cairn_bus_connect(ZMQ_SUB, self->ledger_stream, self->topic, &self->sub);
    if (rc < 0)
        CAIRN_WARN("cannot follow verdicts; asking the policy every few seconds instead",
                   "endpoint=%s error=%s", cairn_log_quote(self->ledger_stream),
                   cairn_log_quote(cairn_strerror(rc)));
    while (!atomic_load(&self->stop)) {
        s_take_inbox(self);
        int64_t now = cairn_now_ms();
        int64_t wait = S_POLL_MS;
        for (size_t i = 0; i < self->n_items; i++)
            if (self->items[i].next_ms - now < wait)
                wait = self->items[i].next_ms - now;
        s_listen(self, wait > 0 ? (int)wait : 0);
        now = cairn_now_ms();
        for (size_t i = 0; i < self->n_items && !atomic_load(&self->stop); i++)
            if (self->items[i].next_ms <= now)
                s_step(self, &self->items[i], now);
        size_t kept = 0;
        for (size_t i = 0; i < self->n_items; i++) {
            if (self->items[i].finished)
                json_decref(self->items[i].doc);
            else
                self->items[kept++] = self->items[i];
        }
        self->n_items = kept;
    }
    zsock_destroy(&self->sub);
    cairn_client_destroy(&self->policy);
    return NULL;
}

/* --- lifetime and metrics ------------------------------------------------ */

int cairn_ingest_protection_new(const cairn_ingest_protection_settings_t *settings,
                                cairn_ingest_protection_t **out)
{
    int rc = -ENOMEM;
    cairn_ingest_protection_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    pthread_mutex_init(&self->lock, NULL);
    atomic_init(&self->stop, false);
    self->request_timeout_ms = settings->request_timeout_ms > 0 ? settings->request_timeout_ms : 1;
    self->timeout_ms = settings->timeout_ms > 0 ? settings->timeout_ms : 1;
    self->recorder = settings->recorder;
    self->policy_endpoint = strdup(settings->policy_endpoint ? settings->policy_endpoint : "");
    self->policy_partitions =
        strdup(settings->policy_partitions ? settings->policy_partitions : "");
    self->ledger_stream = strdup(settings->ledger_stream ? settings->ledger_stream : "");
    self->gate = strdup(settings->gate && *settings->gate ? settings->gate : "deployment");
    self->api_url = strdup(settings->api_url ? settings->api_url : "");
    self->token_spec = strdup(settings->token_spec ? settings->token_spec : "");
    self->inbox = json_array();
    if (!self->policy_endpoint || !self->policy_partitions || !self->ledger_stream || !self->gate ||
        !self->api_url || !self->token_spec || !self->inbox)
        goto fail;
    size_t topic_len = strlen(self->gate) + sizeof "verdict.";
    if (!(self->topic = malloc(topic_len)))
        goto fail;
    snprintf(self->topic, topic_len, "verdict.%s", self->gate);
    if ((rc = cairn_protection_store_open(settings->state_dir, &self->store)) < 0)
        goto fail;
    if (pthread_create(&self->thread, NULL, s_run, self) != 0) {
        rc = -EAGAIN;
        goto fail;
    }
    self->started = true;
    *out = self;
    return 0;
fail:
    cairn_ingest_protection_destroy(&self);
    return rc;
}

void cairn_ingest_protection_destroy(cairn_ingest_protection_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ingest_protection_t *self = *self_p;
    if (self->started) {
        atomic_store(&self->stop, true);
        pthread_join(self->thread, NULL);
    }
    for (size_t i = 0; i < self->n_items; i++)
        json_decref(self->items[i].doc);
    free(self->items);
    json_decref(self->inbox);
    cairn_protection_store_destroy(&self->store);
    pthread_mutex_destroy(&self->lock);
    free(self->policy_endpoint);
    free(self->policy_partitions);
    free(self->ledger_stream);
    free(self->gate);
    free(self->topic);
    free(self->api_url);
    free(self->token_spec);
    free(self);
    *self_p = NULL;
}

void cairn_ingest_protection_metrics(cairn_ingest_protection_t *self, FILE *f)
{
    fprintf(f,
            "# HELP cairn_ingest_github_protection_pending GitHub deployment protection rules "
            "not answered yet.\n"
            "# TYPE cairn_ingest_github_protection_pending gauge\n"
            "cairn_ingest_github_protection_pending %" PRIu64 "\n"
            "# HELP cairn_ingest_github_protection_requests_total GitHub deployment protection "
            "rules taken.\n"
            "# TYPE cairn_ingest_github_protection_requests_total counter\n"
            "cairn_ingest_github_protection_requests_total %" PRIu64 "\n"
            "# HELP cairn_ingest_github_protection_answers_total Answers GitHub took, by "
            "state.\n"
            "# TYPE cairn_ingest_github_protection_answers_total counter\n"
            "cairn_ingest_github_protection_answers_total{state=\"approved\"} %" PRIu64 "\n"
            "cairn_ingest_github_protection_answers_total{state=\"rejected\"} %" PRIu64 "\n"
            "# HELP cairn_ingest_github_protection_failed_total Answers GitHub did not take "
            "(after every attempt).\n"
            "# TYPE cairn_ingest_github_protection_failed_total counter\n"
            "cairn_ingest_github_protection_failed_total %" PRIu64 "\n",
            self ? atomic_load(&self->pending) : 0, self ? atomic_load(&self->received) : 0,
            self ? atomic_load(&self->approved) : 0, self ? atomic_load(&self->rejected) : 0,
            self ? atomic_load(&self->failed) : 0);
}
