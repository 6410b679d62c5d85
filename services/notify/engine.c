/* The notify engine (see engine.h): the loop that ties the follower, the
 * dispatcher, the outbox, the transports and the ledger queue together. */
#include "engine.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"
#include "derive.h"
#include "dispatch.h"
#include "feed.h"
#include "file_receiver.h"
#include "follower.h"
#include "ledger_out.h"
#include "notify_codec.h"
#include "outbox.h"
#include "render.h"
#include "retry.h"
#include "routes.h"
#include "sign.h"
#include "silences.h"
#include "store.h"
#include "transport.h"

/* Attempts under way at once, in all and per integration. */
#define S_MAX_INFLIGHT 256
#define S_MAX_PER_TARGET 32
/* Sweeps (resolve timeouts, escalations) run this often. */
#define S_SWEEP_MS 1000
/* Expired silences and acknowledgements are kept this long, then forgotten. */
#define S_SILENCE_KEEP_MS (7 * 24 * 3600000LL)
#define S_MAX_POLL 1100

typedef struct {
    char key[CAIRN_OUTBOX_KEY_MAX]; /* outbox key */
    json_t *msg;                    /* the message */
    const cairn_integration_t *in;  /* how it goes out */
} s_job_t;

struct cairn_notify_engine_t {
    cairn_notify_store_t *store;       /* all durable state */
    cairn_routes_t *routes;            /* the routes file */
    cairn_silences_t *silences;        /* silences and acknowledgements */
    cairn_dispatch_t *dispatch;        /* alerts and groups */
    cairn_outbox_t *outbox;            /* messages to deliver */
    cairn_ledger_out_t *ledger_out;    /* receipts and alerts for the ledger */
    cairn_feed_t *feed;                /* in-platform inbox and feed */
    cairn_transport_t *transport;      /* HTTP and SMTP */
    cairn_notify_follower_t *follower; /* the ledger's entries, in order */
    zsock_t *api;                      /* bus.notify_api ROUTER */
    zhashx_t *targets;                 /* target -> cairn_integration_t (borrowed) */
    zhashx_t *files;                   /* path -> cairn_file_receiver_t */
    zhashx_t *jobs;                    /* tag -> s_job_t (attempts under way) */
    uint64_t next_tag;                 /* for transport requests */
    int64_t next_sweep_ms;             /* wall clock */
    int64_t silence_change_ms;         /* wall clock: a silence starts or ends */
    bool apply_failed;                 /* the last apply could not store its effects */
    bool broken;                       /* a turn failed: the open batch is not to be kept */
    cairn_notify_stats_t stats;
};

/* A string member of a JSON object, or "". */
static const char *s_js(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : "";
}

/* ---- receipts and records for the ledger -------------------------------- */

typedef struct {
    const char *outcome; /* delivered, retry, dead, disabled, interrupted */
    const char *detail;  /* what happened, for people */
    long status;         /* HTTP / SMTP code */
    int64_t latency_ms;
    int64_t next_ms; /* retry: when */
} s_result_t;

static int s_receipt(cairn_notify_engine_t *self, const char *key, json_t *msg, const s_result_t *r)
{
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__DeliveryReceipt d = CAIRN__V1__DELIVERY_RECEIPT__INIT;
    const char *target = json_string_value(json_object_get(msg, "target"));
    const char *gid = json_string_value(json_object_get(msg, "group_id"));
    uint64_t seq = (uint64_t)json_integer_value(json_object_get(msg, "seq"));
    uint32_t attempt = (uint32_t)json_integer_value(json_object_get(msg, "attempt"));
    json_t *subjects = json_object_get(msg, "subjects");
    size_t n = json_array_size(subjects);
    uint64_t *idx = calloc(n + 1, sizeof *idx);
    char rkey[512];
    if (!idx)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        idx[i] = (uint64_t)json_integer_value(json_array_get(subjects, i));
    snprintf(rkey, sizeof rkey, "receipt:%s:%s/%" PRIu64 ":%" PRIu32, target ? target : "?",
             gid ? gid : "?", seq, attempt);
    d.receiver = (char *)(target ? target : "");
    d.subject_index = n ? idx[0] : 0;
    d.outcome = (char *)r->outcome;
    d.detail = (char *)(r->detail ? r->detail : "");
    d.delivered_at_ms = cairn_now_ms();
    d.attempt = attempt;
    d.change_id = (char *)s_js(msg, "change");
    d.group_key = (char *)s_js(msg, "group_key");
    d.group_id = (char *)(gid ? gid : "");
    d.sequence = seq;
    d.integration = (char *)s_js(msg, "type");
    d.status_code = (int32_t)r->status;
    d.latency_ms = r->latency_ms;
    d.next_attempt_at_ms = r->next_ms;
    d.subject_indexes = idx;
    d.n_subject_indexes = n;
    d.message_id = (char *)s_js(msg, "message_id");
    rec.body_case = CAIRN__V1__RECORD__BODY_RECEIPT;
    rec.receipt = &d;
    int rc = cairn_ledger_out_add(self->ledger_out, rkey, &rec);
    free(idx);
    return rc;
}

/* Appends an alert the notify daemon raises itself. */
static int s_raise(cairn_notify_engine_t *self, const char *key, const char *kind,
                   const char *severity, const char *change, const char *summary,
                   const cairn_labels_t *labels, uint64_t trigger)
{
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__Alert a = CAIRN__V1__ALERT__INIT;
    size_t n = cairn_labels_count(labels);
    Cairn__V1__Alert__LabelsEntry *entries = calloc(n + 1, sizeof *entries);
    Cairn__V1__Alert__LabelsEntry **ptrs = calloc(n + 1, sizeof *ptrs);
    int rc = -ENOMEM;
    if (!entries || !ptrs)
        goto out;
    for (size_t i = 0; i < n; i++) {
        cairn__v1__alert__labels_entry__init(&entries[i]);
        entries[i].key = (char *)cairn_labels_name(labels, i);
        entries[i].value = (char *)cairn_labels_value(labels, i);
        ptrs[i] = &entries[i];
    }
    a.id = (char *)key;
    a.kind = (char *)kind;
    a.severity = (char *)severity;
    a.change_id = (char *)(change ? change : "");
    a.summary = (char *)summary;
    a.labels = ptrs;
    a.n_labels = n;
    a.trigger_index = trigger;
    a.created_at_ms = cairn_now_ms();
    rec.body_case = CAIRN__V1__RECORD__BODY_ALERT;
    rec.alert = &a;
    rc = cairn_ledger_out_add(self->ledger_out, key, &rec);
out:
    free(entries);
    free(ptrs);
    return rc;
}

/* The operator alert for a dead letter, unless the message was itself about
 * failing deliveries (no loops). */
static int s_raise_dead(cairn_notify_engine_t *self, const char *key, json_t *msg,
                        const char *reason)
{
    if (json_is_true(json_object_get(msg, "about_failures")))
        return 0;
    const char *target = s_js(msg, "target");
    const char *gid = s_js(msg, "group_id");
    const char *change = s_js(msg, "change");
    uint64_t seq = (uint64_t)json_integer_value(json_object_get(msg, "seq"));
    json_int_t attempts = json_integer_value(json_object_get(msg, "attempt"));
    char akey[512], summary[1024], group[64];
    snprintf(akey, sizeof akey, "alert:delivery_failed:%s:%s/%" PRIu64, target, gid, seq);
    snprintf(summary, sizeof summary,
             "notification %s to %s was dead-lettered after %lld attempt%s: %s",
             *s_js(msg, "message_id") ? s_js(msg, "message_id") : key, target, (long long)attempts,
             attempts == 1 ? "" : "s", reason);
    snprintf(group, sizeof group, "%s", gid);
    cairn_labels_t *l = cairn_labels_new();
    if (!l)
        return -ENOMEM;
    int rc = 0;
    if ((rc = cairn_labels_set(l, "receiver", target)) < 0 ||
        (rc = cairn_labels_set(l, "group", group)) < 0 ||
        (rc = cairn_labels_set(l, "integration", json_string_value(json_object_get(msg, "type")))) <
            0 ||
        (rc = cairn_labels_set(l, "change", change)) < 0)
        goto out;
    json_t *subjects = json_object_get(msg, "subjects");
    rc = s_raise(self, akey, "delivery_failed", "critical", change, summary, l,
                 (uint64_t)json_integer_value(json_array_get(subjects, 0)));
    CAIRN_WARN("dead-lettered a notification", "target=%s group=%s seq=%" PRIu64 " reason=%s",
               cairn_log_quote(target), gid, seq, cairn_log_quote(reason));
out:
    cairn_labels_destroy(&l);
    return rc;
}

/* ---- rendering into the outbox ------------------------------------------ */

static bool s_target_disabled(cairn_notify_engine_t *self, const char *target, char *reason,
                              size_t len)
{
    json_t *t = NULL;
    if (cairn_notify_store_get_json(self->store, CAIRN_DB_TARGETS, target, &t) < 0)
        return false;
    snprintf(reason, len, "%s", *s_js(t, "reason") ? s_js(t, "reason") : "disabled");
    json_decref(t);
    return true;
}

static int s_cmp_index(const void *x, const void *y)
{
    const cairn_note_alert_t *a = *(const cairn_note_alert_t *const *)x;
    const cairn_note_alert_t *b = *(const cairn_note_alert_t *const *)y;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* The file receiver writes each verdict or alert once: the ones new to it,
 * in ledger order. */
static char *s_file_lines(const cairn_notification_t *n)
{
    size_t cap = 1;
    char **lines = calloc(n->n_alerts + 1, sizeof *lines);
    const cairn_note_alert_t **order = calloc(n->n_alerts + 1, sizeof *order);
    if (!lines || !order) {
        free(lines);
        free(order);
        return NULL;
    }
    for (size_t i = 0; i < n->n_alerts; i++)
        order[i] = &n->alerts[i];
    qsort(order, n->n_alerts, sizeof *order, s_cmp_index);
    for (size_t i = 0; i < n->n_alerts; i++) {
        const cairn_note_alert_t *a = order[i];
        if (!a->fresh)
            continue;
        json_t *line = json_deep_copy(json_object_get(a->body, "line"));
        if (!line)
            continue;
        json_object_set_new(line, "status", json_string(a->firing ? "firing" : "resolved"));
        json_object_set_new(line, "receiver", json_string(n->receiver));
        json_object_set_new(line, "group", cairn_notify_json_string(n->group_key));
        lines[i] = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(line);
        if (lines[i])
            cap += strlen(lines[i]) + 1;
    }
    char *out = cap > 1 ? malloc(cap) : NULL;
    size_t pos = 0;
    for (size_t i = 0; i < n->n_alerts; i++) {
        if (out && lines[i]) {
            if (pos)
                out[pos++] = '\n';
            memcpy(out + pos, lines[i], strlen(lines[i]));
            pos += strlen(lines[i]);
        }
        free(lines[i]);
    }
    free(lines);
    free(order);
    if (out)
        out[pos] = '\0';
    return out;
}

static int s_emit(void *arg, const cairn_integration_t *in, const cairn_notification_t *n)
{
    cairn_notify_engine_t *self = arg;
    json_t *parts = json_array(), *subjects = json_array(), *msg = NULL;
    char *body = NULL;
    int rc = 0;
    if (!parts || !subjects) {
        rc = -ENOMEM;
        goto out;
    }
    bool about_failures = false;
    for (size_t i = 0; i < n->n_alerts; i++) {
        json_array_append_new(subjects, json_integer((json_int_t)n->alerts[i].index));
        about_failures |=
            strcmp(cairn_labels_get(n->alerts[i].labels, "kind"), "delivery_failed") == 0;
    }
    switch (in->type) {
    case CAIRN_INTEGRATION_FILE:
        body = s_file_lines(n);
        if (!body)
            goto out; /* nothing new for the file */
        break;
    case CAIRN_INTEGRATION_SLACK: {
        json_t *msgs = NULL;
        if ((rc = cairn_render_slack(n, in, &msgs)) < 0)
            goto out;
        json_decref(parts);
        parts = msgs;
        break;
    }
    case CAIRN_INTEGRATION_WEBHOOK: rc = cairn_render_cloudevent(n, in, &body); break;
    case CAIRN_INTEGRATION_EMAIL: rc = cairn_render_email(n, in, &body); break;
    case CAIRN_INTEGRATION_ALERTMANAGER: rc = cairn_render_alertmanager(n, &body); break;
    case CAIRN_INTEGRATION_FEED: {
        Cairn__V1__InboxItem *item = NULL;
        uint8_t *buf = NULL;
        size_t len = 0;
        if ((rc = cairn_render_inbox(n, &item)) < 0)
            goto out;
        rc = cairn_codec_pack(&item->base, &buf, &len);
        cairn_render_inbox_free(&item);
        if (rc < 0)
            goto out;
        size_t cap = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
        body = malloc(cap);
        if (body)
            sodium_bin2base64(body, cap, buf, len, sodium_base64_VARIANT_ORIGINAL);
        else
            rc = -ENOMEM;
        free(buf);
        break;
    }
    }
    if (rc < 0)
        goto out;
    if (body && json_array_append_new(parts, json_string(body)) < 0) {
        rc = -ENOMEM;
        goto out;
    }
    char title[1200];
    cairn_render_title(n, title, sizeof title);
    msg = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:i, s:b, s:o}", "type",
                    cairn_integration_type_name(in->type), "receiver", n->receiver, "group_key",
                    n->group_key, "message_id", n->message_id, "subjects", subjects, "parts", parts,
                    "part", 0, "about_failures", about_failures, "title",
                    cairn_notify_json_string(title));
    if (!msg) {
        rc = -ENOMEM;
        goto out;
    }
    json_object_set_new(msg, "change",
                        cairn_notify_json_string(cairn_labels_get(n->common_labels, "change")));
    char reason[256];
    bool disabled = s_target_disabled(self, in->target, reason, sizeof reason);
    int64_t now = cairn_now_ms();
    json_incref(msg);
    if ((rc = cairn_outbox_enqueue(self->outbox, in->target, n->group_id, n->sequence, msg, now)) <
        0)
        goto out;
    if (disabled) {
        /* Nothing goes to a disabled endpoint: straight to the dead letters. */
        char key[CAIRN_OUTBOX_KEY_MAX];
        snprintf(key, sizeof key, "%s:%s:%012" PRIu64, in->target, n->group_id, n->sequence);
        json_object_set_new(msg, "last_error", json_string(reason));
        s_result_t r = {.outcome = "dead", .detail = reason};
        if ((rc = s_receipt(self, key, msg, &r)) == 0)
            rc = cairn_outbox_dead(self->outbox, key, msg, now);
        self->stats.dead++;
    }
out:
    json_decref(msg);
    json_decref(parts);
    json_decref(subjects);
    free(body);
    return rc;
}

/* ---- applying ledger entries ------------------------------------------- */

static int s_facts_get(cairn_notify_engine_t *self, const char *change, json_t **out)
{
    int rc = cairn_notify_store_get_json(self->store, CAIRN_DB_CHANGES, change, out);
    if (rc == CAIRN_ENOTFOUND) {
        *out = json_object();
        return *out ? 0 : -ENOMEM;
    }
    return rc;
}

static int s_apply_alert(cairn_notify_engine_t *self, const Cairn__V1__Entry *entry,
                         const Cairn__V1__Record *rec, int64_t now)
{
    const char *change = cairn_codec_record_change(rec);
    json_t *facts = NULL;
    cairn_derived_t d;
    int rc = 0;
    if (*change && (rc = s_facts_get(self, change, &facts)) < 0)
        return rc;
    if (facts && rec->body_case == CAIRN__V1__RECORD__BODY_VERDICT &&
        (rc = cairn_derive_facts_from_verdict(rec->verdict, facts)) > 0)
        rc = cairn_notify_store_put_json(self->store, CAIRN_DB_CHANGES, change, facts);
    if (rc < 0)
        goto out;
    rc = cairn_derive(entry, rec, facts, self->routes->service_teams, &d);
    if (rc == -ENOMEM)
        goto out;
    if (rc < 0) {
        self->stats.bad++;
        rc = 0;
        goto out;
    }
    int64_t at = rec->body_case == CAIRN__V1__RECORD__BODY_VERDICT ? rec->verdict->evaluated_at_ms
                                                                   : rec->alert->created_at_ms;
    if (at <= 0)
        at = entry->appended_at_ms > 0 ? entry->appended_at_ms : now;
    /* Too old to be news: a replay of history after the state was reset. */
    if (self->routes->resolve_timeout_ms > 0 && at < now - self->routes->resolve_timeout_ms) {
        cairn_derived_clear(&d);
        goto out;
    }
    rc = cairn_dispatch_ingest(self->dispatch, &d, entry->index, at, now);
    cairn_derived_clear(&d);
out:
    json_decref(facts);
    return rc;
}

static int s_apply(void *arg, const Cairn__V1__Entry *entry)
{
    cairn_notify_engine_t *self = arg;
    Cairn__V1__Record *rec = NULL;
    int64_t now = cairn_now_ms();
    int rc = 0;
    if (cairn_codec_record_unpack(entry->record.data, entry->record.len, &rec) < 0) {
        if (entry->record.len > 0) {
            self->stats.bad++;
            CAIRN_WARN("skipping a ledger entry that does not decode", "index=%" PRIu64 " topic=%s",
                       entry->index, cairn_log_quote(entry->topic));
        }
        goto out; /* a purged payload has nothing to deliver either */
    }
    switch (rec->body_case) {
    case CAIRN__V1__RECORD__BODY_EVENT: {
        const char *change = cairn_codec_record_change(rec);
        json_t *facts = NULL;
        if (!*change || strlen(change) > 256)
            break;
        if ((rc = s_facts_get(self, change, &facts)) < 0)
            break;
        rc = cairn_derive_facts_from_event(rec->event, facts);
        if (rc > 0)
            rc = cairn_notify_store_put_json(self->store, CAIRN_DB_CHANGES, change, facts);
        json_decref(facts);
        break;
    }
    case CAIRN__V1__RECORD__BODY_VERDICT:
    case CAIRN__V1__RECORD__BODY_ALERT: rc = s_apply_alert(self, entry, rec, now); break;
    case CAIRN__V1__RECORD__BODY_SILENCE:
        rc = cairn_silences_apply_silence(self->silences, rec->silence, now);
        if (rc == CAIRN_EINVALID || rc == CAIRN_ETOOLARGE) {
            self->stats.bad++;
            CAIRN_WARN("ignoring a silence that cannot be used", "index=%" PRIu64 " id=%s error=%s",
                       entry->index, cairn_log_quote(rec->silence->id),
                       cairn_log_quote(cairn_strerror(rc)));
            rc = 0;
            break;
        }
        if (rc == 0) {
            CAIRN_INFO("silence recorded", "id=%s by=%s until_ms=%" PRId64,
                       cairn_log_quote(rec->silence->id), cairn_log_quote(rec->silence->created_by),
                       rec->silence->ends_at_ms);
            cairn_dispatch_touch_all(self->dispatch, now);
            self->silence_change_ms = 0;
        }
        break;
    case CAIRN__V1__RECORD__BODY_ACK:
        rc = cairn_silences_apply_ack(self->silences, rec->ack, now);
        if (rc == CAIRN_EINVALID || rc == CAIRN_ETOOLARGE) {
            self->stats.bad++;
            rc = 0;
            break;
        }
        if (rc == 0)
            CAIRN_INFO("acknowledgement recorded", "change=%s by=%s",
                       cairn_log_quote(rec->ack->change_id),
                       cairn_log_quote(rec->ack->acknowledged_by));
        break;
    default: self->stats.skipped++; break;
    }
out:
    CAIRN_CODEC_FREE(&rec);
    if (rc < 0) {
        if (!self->apply_failed)
            CAIRN_ERROR("cannot apply ledger entry; will retry", "index=%" PRIu64 " error=%s",
                        entry->index, cairn_log_quote(cairn_strerror(rc)));
        self->apply_failed = true;
        return rc;
    }
    self->apply_failed = false;
    return 0;
}

/* ---- outcomes of attempts ----------------------------------------------- */

static void s_job_free(void **item)
{
    s_job_t *j = *item;
    if (!j)
        return;
    json_decref(j->msg);
    free(j);
    *item = NULL;
}

static int s_disable(cairn_notify_engine_t *self, const cairn_integration_t *in, const char *reason,
                     int64_t now);

/* Records what one attempt of job came to. */
static int s_outcome(cairn_notify_engine_t *self, s_job_t *job, cairn_outcome_t outcome,
                     const char *error, long status, int64_t retry_after_ms, int64_t latency_ms)
{
    json_t *msg = job->msg;
    int64_t now = cairn_now_ms();
    uint32_t attempt = (uint32_t)json_integer_value(json_object_get(msg, "attempt"));
    size_t part = (size_t)json_integer_value(json_object_get(msg, "part"));
    size_t n_parts = json_array_size(json_object_get(msg, "parts"));
    const char *target =
        job->in ? job->in->target : json_string_value(json_object_get(msg, "target"));
    char detail[512];
    s_result_t r = {.status = status, .latency_ms = latency_ms};
    int rc = 0;

    if (outcome == CAIRN_OUTCOME_DELIVERED) {
        if (n_parts > 1)
            snprintf(detail, sizeof detail, "part %zu of %zu", part + 1, n_parts);
        else
            snprintf(detail, sizeof detail, "%s", "");
        r.outcome = "delivered";
        r.detail = detail;
        if ((rc = s_receipt(self, job->key, msg, &r)) < 0)
            return rc;
        if (part + 1 < n_parts) {
            json_object_set_new(msg, "part", json_integer((json_int_t)(part + 1)));
            return cairn_outbox_reschedule(self->outbox, job->key, msg, now);
        }
        self->stats.delivered++;
        CAIRN_DEBUG("delivered notification", "target=%s key=%s attempt=%" PRIu32,
                    cairn_log_quote(target), cairn_log_quote(job->key), attempt);
        if ((rc = cairn_outbox_delivered(self->outbox, job->key)) < 0)
            return rc;
        return cairn_dispatch_resolve_target(self->dispatch, target ? target : "", now);
    }

    const cairn_retry_policy_t *policy = job->in ? &job->in->retry : NULL;
    if (outcome == CAIRN_OUTCOME_RETRY && policy) {
        uint32_t rnd = randombytes_random();
        int64_t next = now + cairn_retry_delay(policy, attempt, retry_after_ms, rnd);
        int64_t created = json_integer_value(json_object_get(msg, "created"));
        if (!cairn_retry_exhausted(policy, attempt, created, next)) {
            snprintf(detail, sizeof detail, "%s", error);
            r.outcome = "retry";
            r.detail = detail;
            r.next_ms = next;
            json_object_set_new(msg, "last_error", cairn_notify_json_string(error));
            json_object_set_new(msg, "status", json_integer(status));
            self->stats.retries++;
            if ((rc = s_receipt(self, job->key, msg, &r)) < 0)
                return rc;
            return cairn_outbox_reschedule(self->outbox, job->key, msg, next);
        }
        snprintf(detail, sizeof detail, "gave up after %" PRIu32 " attempt%s: %s", attempt,
                 attempt == 1 ? "" : "s", error);
    } else if (outcome == CAIRN_OUTCOME_GONE) {
        snprintf(detail, sizeof detail, "endpoint answered 410 Gone and is disabled");
    } else {
        snprintf(detail, sizeof detail, "%s", error);
    }
    r.outcome = outcome == CAIRN_OUTCOME_GONE ? "disabled" : "dead";
    r.detail = detail;
    json_object_set_new(msg, "last_error", cairn_notify_json_string(detail));
    json_object_set_new(msg, "status", json_integer(status));
    self->stats.dead++;
    if ((rc = s_receipt(self, job->key, msg, &r)) < 0 ||
        (rc = cairn_outbox_dead(self->outbox, job->key, msg, now)) < 0 ||
        (rc = s_raise_dead(self, job->key, msg, detail)) < 0)
        return rc;
    if (outcome == CAIRN_OUTCOME_GONE && job->in)
        rc = s_disable(self, job->in, detail, now);
    return rc;
}

typedef struct {
    cairn_notify_engine_t *self;
    const char *reason;
} s_kill_t;

static int s_killed(void *arg, const char *key, json_t *msg)
{
    s_kill_t *k = arg;
    s_result_t r = {.outcome = "dead", .detail = k->reason};
    k->self->stats.dead++;
    return s_receipt(k->self, key, msg, &r);
}

/* HTTP 410: the endpoint is disabled until its URL changes in the routes
 * file; what still waits for it is dead-lettered. */
static int s_disable(cairn_notify_engine_t *self, const cairn_integration_t *in, const char *reason,
                     int64_t now)
{
    uint8_t h[32];
    char hex[65];
    cairn_sha256(in->url ? in->url : "", in->url ? strlen(in->url) : 0, h);
    cairn_hex(h, sizeof h, hex);
    json_t *t = json_pack("{s:I, s:s, s:s}", "disabled_at", (json_int_t)now, "reason", reason,
                          "url_sha256", hex);
    if (!t)
        return -ENOMEM;
    int rc = cairn_notify_store_put_json(self->store, CAIRN_DB_TARGETS, in->target, t);
    json_decref(t);
    if (rc < 0)
        return rc;
    CAIRN_WARN("disabled a receiver endpoint", "target=%s reason=%s", cairn_log_quote(in->target),
               cairn_log_quote(reason));
    s_kill_t k = {self, reason};
    return cairn_outbox_kill_target(self->outbox, in->target, reason, now, s_killed, &k);
}

/* At start: a message an earlier process left in flight. */
static int s_interrupted(void *arg, const char *key, json_t *msg)
{
    cairn_notify_engine_t *self = arg;
    s_result_t r = {.outcome = "interrupted",
                    .detail = "notify stopped during the attempt; it is made again"};
    CAIRN_INFO("resuming an interrupted delivery", "key=%s", cairn_log_quote(key));
    return s_receipt(self, key, msg, &r);
}

/* ---- starting attempts -------------------------------------------------- */

/* "Name <a@b>" -> "<a@b>"; "a@b" -> "<a@b>". */
static void s_addr(const char *text, char *out, size_t len)
{
    const char *lt = strchr(text, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    if (lt && gt) {
        snprintf(out, len, "%.*s", (int)(gt - lt + 1), lt);
        return;
    }
    while (*text == ' ')
        text++;
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == ' ')
        n--;
    snprintf(out, len, "<%.*s>", (int)n, text);
}

static int s_start_http(cairn_notify_engine_t *self, s_job_t *job, uint64_t tag, const char *body)
{
    const cairn_integration_t *in = job->in;
    char url[2048], h_id[300], h_ts[64], h_sig[CAIRN_SIGNATURE_MAX + 32], sig[CAIRN_SIGNATURE_MAX];
    const char *headers[8];
    size_t nh = 0;
    const char *mid = s_js(job->msg, "message_id");
    snprintf(url, sizeof url, "%s", in->url);
    headers[nh++] = "User-Agent: cairn-notify/0.1";
    if (in->type == CAIRN_INTEGRATION_ALERTMANAGER) {
        size_t ul = strlen(url);
        while (ul > 0 && url[ul - 1] == '/')
            url[--ul] = '\0';
        snprintf(url + ul, sizeof url - ul, "/api/v2/alerts");
        headers[nh++] = "Content-Type: application/json";
    } else if (in->type == CAIRN_INTEGRATION_SLACK) {
        headers[nh++] = "Content-Type: application/json; charset=utf-8";
    } else {
        int64_t ts = cairn_now_ms() / 1000;
        headers[nh++] = "Content-Type: application/cloudevents+json; charset=utf-8";
        snprintf(h_id, sizeof h_id, "webhook-id: %s", mid);
        snprintf(h_ts, sizeof h_ts, "webhook-timestamp: %" PRId64, ts);
        headers[nh++] = h_id;
        headers[nh++] = h_ts;
        if (in->hmac_key || in->ed25519_sk) {
            int rc = cairn_webhook_sign(mid, ts, body, strlen(body), in->hmac_key, in->hmac_key_len,
                                        in->ed25519_sk, sig);
            if (rc < 0)
                return rc;
            snprintf(h_sig, sizeof h_sig, "webhook-signature: %s", sig);
            headers[nh++] = h_sig;
        }
    }
    cairn_request_t req = {
        .tag = tag,
        .kind = CAIRN_REQUEST_HTTP,
        .url = url,
        .headers = headers,
        .n_headers = nh,
        .body = body,
        .len = strlen(body),
        .timeout_ms = in->timeout_ms,
        .ca_file = in->tls_ca_file,
    };
    return cairn_transport_start(self->transport, &req);
}

static int s_start_smtp(cairn_notify_engine_t *self, s_job_t *job, uint64_t tag, const char *body)
{
    const cairn_integration_t *in = job->in;
    char url[600], from[300];
    char *rcpt_text = strdup(in->to);
    const char *rcpt[32];
    char rcpt_buf[32][300];
    size_t nr = 0;
    if (!rcpt_text)
        return -ENOMEM;
    for (char *save = NULL, *t = strtok_r(rcpt_text, ",", &save); t && nr < 32;
         t = strtok_r(NULL, ",", &save)) {
        s_addr(t, rcpt_buf[nr], sizeof rcpt_buf[nr]);
        rcpt[nr] = rcpt_buf[nr];
        nr++;
    }
    free(rcpt_text);
    s_addr(in->from, from, sizeof from);
    snprintf(url, sizeof url, "smtp://%s/%s", in->smarthost, in->hello ? in->hello : "cairn");
    cairn_request_t req = {
        .tag = tag,
        .kind = CAIRN_REQUEST_SMTP,
        .url = url,
        .body = body,
        .len = strlen(body),
        .timeout_ms = in->timeout_ms,
        .ca_file = in->tls_ca_file,
        .mail_from = from,
        .rcpt = rcpt,
        .n_rcpt = nr,
        .require_tls = in->require_tls,
        .username = in->auth_username,
        .password = in->auth_password,
    };
    return cairn_transport_start(self->transport, &req);
}

static cairn_file_receiver_t *s_file(cairn_notify_engine_t *self, const char *path)
{
    cairn_file_receiver_t *f = zhashx_lookup(self->files, path);
    if (f)
        return f;
    if (cairn_file_receiver_open(path, &f) < 0)
        return NULL;
    zhashx_insert(self->files, path, f);
    return f;
}

/* Delivers locally (file, feed) or starts a request; local outcomes are
 * recorded at once. Takes ownership of job. */
static int s_start(cairn_notify_engine_t *self, s_job_t *job)
{
    json_t *parts = json_object_get(job->msg, "parts");
    size_t part = (size_t)json_integer_value(json_object_get(job->msg, "part"));
    const char *body = json_string_value(json_array_get(parts, part));
    int rc = 0;
    if (!job->in || !body) {
        rc = s_outcome(self, job, CAIRN_OUTCOME_PERMANENT,
                       job->in ? "message has no body" : "receiver is no longer configured", 0, -1,
                       0);
        void *p = job;
        s_job_free(&p);
        return rc;
    }
    int64_t t0 = cairn_mono_ms();
    switch (job->in->type) {
    case CAIRN_INTEGRATION_FILE: {
        cairn_file_receiver_t *f = s_file(self, job->in->path);
        int wrc = f ? cairn_file_receiver_write(f, body) : -EIO;
        rc = s_outcome(self, job, wrc == 0 ? CAIRN_OUTCOME_DELIVERED : CAIRN_OUTCOME_RETRY,
                       wrc == 0 ? "" : cairn_strerror(wrc), 0, -1, cairn_mono_ms() - t0);
        break;
    }
    case CAIRN_INTEGRATION_FEED: {
        uint8_t *buf = malloc(strlen(body) + 1);
        size_t len = 0;
        Cairn__V1__InboxItem *item = NULL;
        int frc = -ENOMEM;
        if (buf &&
            sodium_base642bin(buf, strlen(body) + 1, body, strlen(body), NULL, &len, NULL,
                              sodium_base64_VARIANT_ORIGINAL) == 0 &&
            (frc = cairn_notify_codec_item_unpack(buf, len, &item)) == 0)
            frc = cairn_feed_add(self->feed, item);
        CAIRN_CODEC_FREE(&item);
        free(buf);
        if (frc == -ENOMEM || frc == CAIRN_ESTORE) {
            void *p = job;
            s_job_free(&p);
            return frc;
        }
        rc = s_outcome(self, job, frc == 0 ? CAIRN_OUTCOME_DELIVERED : CAIRN_OUTCOME_PERMANENT,
                       frc == 0 ? "" : cairn_strerror(frc), 0, -1, cairn_mono_ms() - t0);
        break;
    }
    default: {
        uint64_t tag = ++self->next_tag;
        int src = job->in->type == CAIRN_INTEGRATION_EMAIL ? s_start_smtp(self, job, tag, body)
                                                           : s_start_http(self, job, tag, body);
        if (src < 0) {
            rc = s_outcome(self, job, CAIRN_OUTCOME_RETRY, cairn_strerror(src), 0, -1, 0);
            break;
        }
        char t[32];
        snprintf(t, sizeof t, "%" PRIu64, tag);
        zhashx_insert(self->jobs, t, job);
        return 0;
    }
    }
    void *p = job;
    s_job_free(&p);
    return rc;
}

/* Takes the responses of finished requests. */
static int s_collect(cairn_notify_engine_t *self)
{
    cairn_response_t r;
    int rc = 0;
    while (rc == 0 && cairn_transport_done(self->transport, &r)) {
        char t[32];
        snprintf(t, sizeof t, "%" PRIu64, r.tag);
        s_job_t *job = zhashx_lookup(self->jobs, t);
        if (!job)
            continue;
        zhashx_delete(self->jobs, t); /* the table does not own its jobs */
        cairn_outcome_t o = cairn_retry_classify(job->in->type, &r);
        char error[600];
        if (r.curl_code)
            snprintf(error, sizeof error, "%s", r.error);
        else if (o == CAIRN_OUTCOME_DELIVERED)
            error[0] = '\0';
        else
            snprintf(error, sizeof error, "%s %ld%s%.200s",
                     job->in->type == CAIRN_INTEGRATION_EMAIL ? "SMTP" : "HTTP", r.status,
                     r.body[0] ? ": " : "", r.body);
        rc = s_outcome(self, job, o, error, r.status, r.retry_after_ms, r.latency_ms);
        void *p = job;
        s_job_free(&p);
    }
    return rc;
}

/* ---- the API ------------------------------------------------------------ */

static void s_serve(cairn_notify_engine_t *self)
{
    zframe_t *peer = NULL;
    uint8_t *buf = NULL, *out = NULL;
    size_t len = 0, out_len = 0;
    Cairn__V1__NotifyRequest *req = NULL;
    Cairn__V1__NotifyReply reply = CAIRN__V1__NOTIFY_REPLY__INIT;
    Cairn__V1__DeadLetter *dead = NULL, **deadp = NULL;
    json_t *letters = NULL;
    if (cairn_bus_server_recv(self->api, &peer, &buf, &len) < 0)
        return;
    if (cairn_notify_codec_request_unpack(buf, len, &req) < 0) {
        reply.status = CAIRN_EPROTO;
        reply.error = "not a NotifyRequest";
    } else if (req->body_case == CAIRN__V1__NOTIFY_REQUEST__BODY_INBOX) {
        int rc = cairn_feed_query(self->feed, req->inbox, &reply);
        if (rc < 0) {
            reply.status = rc;
            reply.error = (char *)cairn_strerror(rc);
        }
    } else if (req->body_case == CAIRN__V1__NOTIFY_REQUEST__BODY_DEAD) {
        int rc = cairn_outbox_dead_letters(self->outbox, req->dead->limit, &letters);
        size_t n = rc == 0 ? json_array_size(letters) : 0;
        dead = calloc(n + 1, sizeof *dead);
        deadp = calloc(n + 1, sizeof *deadp);
        if (rc < 0 || !dead || !deadp) {
            reply.status = rc < 0 ? rc : -ENOMEM;
            reply.error = (char *)cairn_strerror(reply.status);
        } else {
            for (size_t i = 0; i < n; i++) {
                json_t *m = json_array_get(letters, i);
                cairn__v1__dead_letter__init(&dead[i]);
                dead[i].receiver = (char *)s_js(m, "target");
                dead[i].group_id = (char *)s_js(m, "group_id");
                dead[i].sequence = (uint64_t)json_integer_value(json_object_get(m, "seq"));
                dead[i].attempts = (uint32_t)json_integer_value(json_object_get(m, "attempt"));
                dead[i].last_error = (char *)s_js(m, "last_error");
                dead[i].dead_at_ms = json_integer_value(json_object_get(m, "dead_at"));
                dead[i].group_key = (char *)s_js(m, "group_key");
                deadp[i] = &dead[i];
            }
            reply.dead = deadp;
            reply.n_dead = n;
        }
    } else {
        reply.status = CAIRN_EINVALID;
        reply.error = "unknown request";
    }
    if (cairn_codec_pack(&reply.base, &out, &out_len) == 0)
        cairn_bus_server_reply(self->api, &peer, out, out_len);
    zframe_destroy(&peer);
    cairn_feed_query_free(&reply);
    CAIRN_CODEC_FREE(&req);
    json_decref(letters);
    free(dead);
    free(deadp);
    free(buf);
    free(out);
}

/* ---- setup -------------------------------------------------------------- */

/* Re-enables targets whose URL changed since they were disabled. */
static int s_check_disabled(cairn_notify_engine_t *self)
{
    int rc = 0;
    for (cairn_integration_t *in = zhashx_first(self->targets); in && rc == 0;
         in = zhashx_next(self->targets)) {
        json_t *t = NULL;
        if (cairn_notify_store_get_json(self->store, CAIRN_DB_TARGETS, in->target, &t) < 0)
            continue;
        uint8_t h[32];
        char hex[65];
        cairn_sha256(in->url ? in->url : "", in->url ? strlen(in->url) : 0, h);
        cairn_hex(h, sizeof h, hex);
        const char *was = json_string_value(json_object_get(t, "url_sha256"));
        if (!was || strcmp(was, hex) != 0) {
            CAIRN_INFO("re-enabled a receiver endpoint: its URL changed", "target=%s",
                       cairn_log_quote(in->target));
            rc = cairn_notify_store_del(self->store, CAIRN_DB_TARGETS, in->target,
                                        strlen(in->target));
        }
        json_decref(t);
    }
    return rc;
}

static void s_file_free(void **item)
{
    cairn_file_receiver_destroy((cairn_file_receiver_t **)item);
}

int cairn_notify_engine_new(const cairn_config_t *config, cairn_notify_engine_t **out, char *err,
                            size_t errlen)
{
    cairn_notify_engine_t *self = calloc(1, sizeof *self);
    int64_t now = cairn_now_ms();
    uint64_t next = 0;
    int rc = -ENOMEM;
    if (err && errlen)
        err[0] = '\0';
    if (!self)
        return -ENOMEM;
    if (sodium_init() < 0) {
        rc = CAIRN_ECRYPTO;
        goto out;
    }
    int timeout = (int)cairn_config_int(config, "bus.request_timeout");
    rc = cairn_routes_load(cairn_config_str(config, "notify.routes_file"),
                           cairn_config_str(config, "notify.file"), &self->routes, err, errlen);
    if (rc < 0)
        goto out;
    self->targets = zhashx_new();
    self->files = zhashx_new();
    self->jobs = zhashx_new();
    if (!self->targets || !self->files || !self->jobs) {
        rc = -ENOMEM;
        goto out;
    }
    zhashx_set_destructor(self->files, s_file_free);
    for (size_t r = 0; r < self->routes->n_receivers; r++)
        for (size_t i = 0; i < self->routes->receivers[r]->n_integrations; i++) {
            cairn_integration_t *in = self->routes->receivers[r]->integrations[i];
            zhashx_insert(self->targets, in->target, in);
        }
    if ((rc = cairn_notify_store_open(cairn_config_str(config, "notify.state_path"),
                                      &self->store)) < 0)
        goto out;
    if ((rc = cairn_silences_new(self->store, &self->silences)) < 0 ||
        (rc = cairn_dispatch_new(self->routes, self->store, self->silences, now, &self->dispatch)) <
            0 ||
        (rc = cairn_ledger_out_new(self->store, cairn_config_str(config, "bus.ledger_api"), timeout,
                                   &self->ledger_out)) < 0 ||
        (rc = cairn_outbox_open(self->store, now, s_interrupted, self, &self->outbox)) < 0 ||
        (rc = s_check_disabled(self)) < 0)
        goto out;
    size_t keep = (size_t)cairn_config_int(config, "notify.inbox_keep");
    if ((rc = cairn_feed_new(cairn_config_str(config, "bus.notify_feed"), self->store, keep,
                             &self->feed)) < 0) {
        if (err && errlen)
            snprintf(err, errlen, "cannot bind bus.notify_feed %s: %s",
                     cairn_config_str(config, "bus.notify_feed"), cairn_strerror(rc));
        goto out;
    }
    const char *api = cairn_config_str(config, "bus.notify_api");
    if (api && *api && (rc = cairn_bus_bind(ZMQ_ROUTER, api, &self->api)) < 0) {
        if (err && errlen)
            snprintf(err, errlen, "cannot bind bus.notify_api %s: %s", api, cairn_strerror(rc));
        goto out;
    }
    if ((rc = cairn_transport_new(&self->transport)) < 0)
        goto out;
    rc = cairn_notify_store_get_u64(self->store, "next", &next);
    if (rc < 0 && rc != CAIRN_ENOTFOUND)
        goto out;
    cairn_notify_follower_config_t fc = {
        .stream_endpoint = cairn_config_str(config, "bus.ledger_stream"),
        .api_endpoint = cairn_config_str(config, "bus.ledger_api"),
        .prefixes = NULL,
        .n_prefixes = 0,
        .request_timeout_ms = timeout,
        .next = next,
        .apply = s_apply,
        .arg = self,
    };
    if ((rc = cairn_notify_follower_new(&fc, &self->follower)) < 0)
        goto out;
    /* What loading changed (re-routed alerts, interrupted attempts) is kept. */
    if ((rc = cairn_dispatch_persist(self->dispatch)) < 0 ||
        (rc = cairn_notify_store_commit(self->store)) < 0)
        goto out;
    self->next_sweep_ms = now;
    *out = self;
    self = NULL;
    rc = 0;
out:
    cairn_notify_engine_destroy(&self);
    return rc;
}

void cairn_notify_engine_destroy(cairn_notify_engine_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_notify_engine_t *self = *self_p;
    /* Attempts under way stay "in flight" in the store: the next start
     * reports them as interrupted and makes them again. What the last turn
     * left in the batch (acknowledged ledger records) is kept unless the
     * turn failed. */
    if (self->store && self->dispatch && !self->broken &&
        (cairn_dispatch_persist(self->dispatch) < 0 || cairn_notify_store_commit(self->store) < 0))
        CAIRN_WARN("cannot keep the last batch of notify state", NULL);
    if (self->store)
        cairn_notify_store_abort(self->store);
    for (void *job = self->jobs ? zhashx_first(self->jobs) : NULL; job;
         job = zhashx_next(self->jobs))
        s_job_free(&job);
    zhashx_destroy(&self->jobs);
    cairn_transport_destroy(&self->transport);
    cairn_notify_follower_destroy(&self->follower);
    zsock_destroy(&self->api);
    cairn_feed_destroy(&self->feed);
    cairn_outbox_destroy(&self->outbox);
    cairn_ledger_out_destroy(&self->ledger_out);
    cairn_dispatch_destroy(&self->dispatch);
    cairn_silences_destroy(&self->silences);
    zhashx_destroy(&self->files);
    zhashx_destroy(&self->targets);
    cairn_notify_store_destroy(&self->store);
    cairn_routes_destroy(&self->routes);
    free(self);
    *self_p = NULL;
}

/* ---- the loop ----------------------------------------------------------- */

static int s_escalate(void *arg, const cairn_escalation_t *e, const cairn_labels_t *labels,
                      const json_t *body, uint64_t fingerprint, uint64_t index)
{
    cairn_notify_engine_t *self = arg;
    char key[512], summary[1200];
    snprintf(key, sizeof key, "alert:escalation:%s:%016" PRIx64 ":%" PRIu64, e->name, fingerprint,
             index);
    const char *title = json_string_value(json_object_get(body, "title"));
    int64_t mins = e->after_ms / 60000;
    if (mins > 0)
        snprintf(summary, sizeof summary,
                 "%s (waiting for more than %" PRId64 " min; escalation %s)",
                 title ? title : "alert", mins, e->name);
    else
        snprintf(summary, sizeof summary, "%s (waiting for more than %" PRId64 " s; escalation %s)",
                 title ? title : "alert", e->after_ms / 1000, e->name);
    const char *sev = cairn_labels_get(labels, "severity");
    CAIRN_INFO("escalating an alert", "escalation=%s change=%s", cairn_log_quote(e->name),
               cairn_log_quote(cairn_labels_get(labels, "change")));
    return s_raise(self, key, "escalation", *sev ? sev : "warning",
                   cairn_labels_get(labels, "change"), summary, labels, index);
}

/* Wall-clock and monotonic deadlines folded into one poll timeout. */
static long s_wait_ms(cairn_notify_engine_t *self, int timeout_ms)
{
    int64_t now = cairn_now_ms(), mono = cairn_mono_ms();
    int64_t wait = timeout_ms;
    int64_t due[] = {
        cairn_dispatch_next_due(self->dispatch) - now,
        cairn_outbox_inflight(self->outbox) < S_MAX_INFLIGHT
            ? cairn_outbox_next_due(self->outbox, S_MAX_PER_TARGET) - now
            : INT64_MAX,
        self->next_sweep_ms - now,
        cairn_notify_follower_due_ms(self->follower) - mono,
        cairn_ledger_out_due_ms(self->ledger_out) == INT64_MAX
            ? INT64_MAX
            : cairn_ledger_out_due_ms(self->ledger_out) - mono,
    };
    for (size_t i = 0; i < sizeof due / sizeof due[0]; i++)
        if (due[i] < wait)
            wait = due[i];
    long t = cairn_transport_timeout_ms(self->transport);
    if (t >= 0 && t < wait)
        wait = t;
    return wait < 0 ? 0 : (long)wait;
}

static int s_commit(cairn_notify_engine_t *self)
{
    int rc = cairn_dispatch_persist(self->dispatch);
    if (rc == 0 && cairn_notify_store_dirty(self->store))
        rc = cairn_notify_store_put_u64(self->store, "next",
                                        cairn_notify_follower_next(self->follower));
    if (rc == 0)
        rc = cairn_notify_store_commit(self->store);
    if (rc < 0) {
        cairn_notify_store_abort(self->store);
        CAIRN_ERROR("cannot commit notify state", "error=%s", cairn_log_quote(cairn_strerror(rc)));
        return rc;
    }
    cairn_feed_publish(self->feed);
    return 0;
}

static int s_run_once(cairn_notify_engine_t *self, int timeout_ms);

int cairn_notify_engine_run_once(cairn_notify_engine_t *self, int timeout_ms)
{
    int rc = s_run_once(self, timeout_ms);
    if (rc < 0)
        self->broken = true;
    return rc;
}

static int s_run_once(cairn_notify_engine_t *self, int timeout_ms)
{
    zmq_pollitem_t items[S_MAX_POLL];
    size_t n = 0;
    int rc;
    items[n++] = (zmq_pollitem_t){cairn_notify_follower_socket(self->follower), 0, ZMQ_POLLIN, 0};
    size_t api_at = n;
    if (self->api)
        items[n++] = (zmq_pollitem_t){zsock_resolve(self->api), 0, ZMQ_POLLIN, 0};
    void *lsock = cairn_ledger_out_socket(self->ledger_out);
    if (lsock)
        items[n++] = (zmq_pollitem_t){lsock, 0, ZMQ_POLLIN, 0};
    size_t curl_at = n;
    n += cairn_transport_pollitems(self->transport, items + n, S_MAX_POLL - n);
    if (zmq_poll(items, (int)n, s_wait_ms(self, timeout_ms)) < 0 && errno != EINTR)
        return 0;

    /* Answers of deliveries under way. */
    cairn_transport_perform(self->transport, items + curl_at, n - curl_at);
    if ((rc = s_collect(self)) < 0)
        return rc;
    if (self->api && (items[api_at].revents & ZMQ_POLLIN))
        for (int i = 0; i < 64 && (zsock_events(self->api) & ZMQ_POLLIN); i++)
            s_serve(self);

    /* New facts from the ledger. */
    if ((rc = cairn_notify_follower_drain(self->follower)) < 0)
        return rc;
    if (self->apply_failed) {
        /* Drop the partial batch; the follower offers the entry again. */
        cairn_notify_store_abort(self->store);
        return CAIRN_ESTORE;
    }

    /* Timers. */
    int64_t now = cairn_now_ms();
    if (now >= self->next_sweep_ms) {
        self->next_sweep_ms = now + S_SWEEP_MS;
        if ((rc = cairn_dispatch_sweep(self->dispatch, now, s_escalate, self)) < 0)
            return rc;
        if (self->silence_change_ms == 0 || now >= self->silence_change_ms) {
            if (self->silence_change_ms)
                cairn_dispatch_touch_all(self->dispatch, now);
            self->silence_change_ms = cairn_silences_next_change(self->silences, now);
            if ((rc = cairn_silences_prune(self->silences, now, S_SILENCE_KEEP_MS)) < 0)
                return rc;
        }
    }
    if ((rc = cairn_dispatch_flush(self->dispatch, now, s_emit, self)) < 0)
        return rc;

    /* Attempts: counted and committed before anything leaves. */
    cairn_outbox_job_t taken[S_MAX_INFLIGHT];
    size_t room = S_MAX_INFLIGHT - cairn_outbox_inflight(self->outbox);
    size_t k = cairn_outbox_take(self->outbox, now, S_MAX_PER_TARGET, taken, room);
    if ((rc = s_commit(self)) < 0) {
        for (size_t i = 0; i < k; i++)
            json_decref(taken[i].msg);
        return rc;
    }
    size_t started = 0;
    for (; started < k && rc == 0; started++) {
        size_t i = started;
        s_job_t *job = calloc(1, sizeof *job);
        if (!job) {
            rc = -ENOMEM;
            break;
        }
        memcpy(job->key, taken[i].key, sizeof job->key);
        job->msg = taken[i].msg;
        job->in = zhashx_lookup(self->targets, s_js(job->msg, "target"));
        rc = s_start(self, job);
    }
    for (size_t i = started; rc < 0 && i < k; i++)
        json_decref(taken[i].msg);
    if (rc < 0)
        return rc;

    /* Receipts and alerts for the ledger, once committed. Removing the
     * acknowledged ones rides along with the next commit: sending one again
     * after a crash is answered as a duplicate. */
    if ((rc = s_commit(self)) < 0)
        return rc;
    size_t acked = 0;
    return cairn_ledger_out_flush(self->ledger_out, &acked);
}

void cairn_notify_engine_stats(const cairn_notify_engine_t *self, cairn_notify_stats_t *out)
{
    cairn_dispatch_stats_t d;
    cairn_dispatch_stats(self->dispatch, &d);
    *out = self->stats;
    out->next = cairn_notify_follower_next(self->follower);
    out->skipped += cairn_notify_follower_skipped(self->follower);
    out->bad += cairn_notify_follower_bad(self->follower);
    out->notifications = d.notifications;
    out->alerts = d.alerts;
    out->groups = d.groups;
    out->pending = cairn_outbox_pending(self->outbox);
    out->inflight = cairn_outbox_inflight(self->outbox);
    out->ledger_pending = cairn_ledger_out_pending(self->ledger_out);
}
