/* The policy engine (see engine.h). */
#include "engine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "alerts.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "change.h"
#include "drift.h"
#include "evaluate.h"
#include "follower.h"
#include "keys.h"
#include "ledger_link.h"
#include "partition.h"
#include "policy_load.h"
#include "policy_slot.h"
#include "query.h"
#include "state.h"
#include "verdict.h"
#include "verdict_cache.h"

/* Skipped entries advance the next index in memory; it is written at least
 * this often (and whenever the loop is idle). Re-reading skipped entries
 * after a crash is harmless. */
#define S_PERSIST_EVERY 256

struct cairn_policy_engine_t {
    char *policy_file;                               /* policy.file ("" = built-in) */
    char *query_endpoint;                            /* bus.policy_query */
    char *partition_endpoints;                       /* policy.partition_endpoints */
    cairn_partition_t partition;                     /* the changes this instance evaluates */
    cairn_policy_slot_t *slot;                       /* the policy in force */
    cairn_state_t *state;                            /* change state + next index */
    cairn_ledger_link_t *link;                       /* appends and replays */
    cairn_follower_t *follower;                      /* the ledger stream */
    cairn_query_t *query;                            /* the query thread */
    cairn_verdict_cache_t *cache;                    /* verdicts the query thread may reuse */
    cairn_activation_t *activation;                  /* file watch + activation records */
    cairn_drift_t *drift;                            /* unauthorized production deployments */
    uint64_t applied_next;                           /* next index after the last entry handled */
    uint64_t persisted_next;                         /* next index as last written to the state */
    bool append_failing;                             /* the last append failed (logged once) */
    uint64_t events, verdicts, alerts, skipped, bad; /* counters, logged at stop */
};

/* ---- policy loading ------------------------------------------------------ */

static int s_load_policy(const char *file, cairn_policy_t **out)
{
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    int rc =
        *file ? cairn_policy_load_file(file, &errs, out) : cairn_policy_load_default(&errs, out);
    for (size_t i = 0; i < errs.count; i++)
        CAIRN_ERROR("invalid policy", "error=%s", cairn_log_quote(errs.items[i]));
    if (rc < 0 && !errs.count)
        CAIRN_ERROR("cannot load the policy", "file=%s error=%s", cairn_log_quote(file),
                    cairn_log_quote(cairn_strerror(rc)));
    cairn_errlist_clear(&errs);
    return rc < 0 ? CAIRN_EPOLICY : 0;
}

static void s_log_policy(const char *msg, const cairn_policy_t *p)
{
    CAIRN_INFO(msg,
               "policy=%s revision=%s digest=%s source=%s gates=%zu timezone=%s "
               "classify_rules=%zu approval_rules=%zu windows=%zu",
               cairn_log_quote(p->name), cairn_log_quote(p->revision), p->digest,
               cairn_log_quote(p->source), p->n_gates, cairn_log_quote(p->timezone), p->n_classify,
               p->n_approval_rules, p->n_windows);
}

int cairn_policy_engine_reload(cairn_policy_engine_t *self)
{
    cairn_policy_t *next = NULL;
    cairn_policy_t *cur = cairn_policy_slot_get(self->slot);
    int rc = s_load_policy(self->policy_file, &next);
    if (rc < 0) {
        CAIRN_ERROR("policy reload failed; keeping the running policy",
                    "file=%s policy=%s revision=%s digest=%s", cairn_log_quote(self->policy_file),
                    cairn_log_quote(cur->name), cairn_log_quote(cur->revision), cur->digest);
    } else {
        s_log_policy("policy reloaded", next);
        cairn_policy_slot_set(self->slot, next);
        cairn_verdict_cache_clear(self->cache);
    }
    cairn_policy_unref(&cur);
    return rc;
}

/* ---- applying entries ----------------------------------------------------- */

static int s_persist(cairn_policy_engine_t *self)
{
    int rc = cairn_state_commit(self->state, NULL, self->applied_next);
    if (rc < 0) {
        CAIRN_ERROR("cannot store the policy's ledger position", "next=%" PRIu64 " error=%s",
                    self->applied_next, cairn_log_quote(cairn_strerror(rc)));
        return rc;
    }
    self->persisted_next = self->applied_next;
    return 0;
}

/* An entry that changes no state. */
static int s_skip(cairn_policy_engine_t *self, uint64_t index)
{
    self->skipped++;
    self->applied_next = index + 1;
    if (self->applied_next - self->persisted_next >= S_PERSIST_EVERY)
        return s_persist(self);
    return 0;
}

static int s_append(cairn_policy_engine_t *self, const char *key, const Cairn__V1__Record *rec)
{
    char error[512] = "";
    uint64_t index = 0;
    bool duplicate = false;
    int rc =
        cairn_ledger_link_append(self->link, key, rec, &index, &duplicate, error, sizeof error);
    if (rc < 0) {
        cairn_log_level_t level = self->append_failing ? CAIRN_LOG_DEBUG : CAIRN_LOG_WARN;
        cairn_log(level, "cannot append to the ledger; will retry", "key=%s error=%s detail=%s",
                  cairn_log_quote(key), cairn_log_quote(cairn_strerror(rc)),
                  cairn_log_quote(error));
        self->append_failing = true;
        return rc;
    }
    if (self->append_failing)
        CAIRN_INFO("ledger accepts appends again", "key=%s", cairn_log_quote(key));
    self->append_failing = false;
    CAIRN_DEBUG("appended", "key=%s index=%" PRIu64 " duplicate=%s", cairn_log_quote(key), index,
                duplicate ? "true" : "false");
    return 0;
}

static int s_append_verdicts(cairn_policy_engine_t *self, const char *change, uint64_t trigger,
                             Cairn__V1__Verdict **vs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char key[768];
        snprintf(key, sizeof key, "verdict:%s:%s:%" PRIu64, change, vs[i]->gate, trigger);
        Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
        rec.body_case = CAIRN__V1__RECORD__BODY_VERDICT;
        rec.verdict = vs[i];
        int rc = s_append(self, key, &rec);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int s_append_alerts(cairn_policy_engine_t *self, const cairn_alert_out_t *alerts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
        rec.body_case = CAIRN__V1__RECORD__BODY_ALERT;
        rec.alert = alerts[i].alert;
        int rc = s_append(self, alerts[i].key, &rec);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* "build=allow deployment=pending" */
static void s_decisions(Cairn__V1__Verdict **vs, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%s=%s", i ? "," : "", vs[i]->gate,
                         cairn_decision_name(vs[i]->decision));
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

static int s_append_list(cairn_policy_engine_t *self, const cairn_alert_list_t *alerts)
{
    return s_append_alerts(self, alerts->items, alerts->n);
}

/* Post-implementation reviews of other changes that became overdue by the
 * time of this event: each gets its alert now (there is no timer). Their
 * state is committed without moving the ledger position, so a retry of
 * this entry does not raise them again. */
static int s_due_reviews(cairn_policy_engine_t *self, const cairn_policy_t *p,
                         const Cairn__V1__Entry *entry, const Cairn__V1__Event *ev,
                         const char *skip_id)
{
    char **ids = NULL;
    size_t n_ids = 0;
    int64_t at = ev->received_at_ms;
    if (at <= 0)
        return 0;
    int rc = cairn_state_due_reviews(self->state, at, &ids, &n_ids);
    for (size_t i = 0; i < n_ids && rc == 0; i++) {
        if (strcmp(ids[i], skip_id) == 0)
            continue; /* its own event evaluates it */
        cairn_change_t *c = NULL;
        cairn_evaluation_t e;
        cairn_alert_list_t alerts;
        memset(&e, 0, sizeof e);
        memset(&alerts, 0, sizeof alerts);
        cairn_eval_opts_t o = {.environment = NULL, .now_ms = at, .trigger_index = entry->index};
        if ((rc = cairn_state_read(self->state, ids[i], &c, NULL)) < 0 || !c ||
            (rc = cairn_evaluate_change(p, ids[i], c, &o, &e)) < 0 ||
            (rc = cairn_alerts_overdue_review(p, c, &e, entry->index, at, &alerts)) < 0)
            goto next;
        if (!alerts.n)
            c->review_due_ms = e.review_open ? e.review_due_ms : 0;
        if ((rc = s_append_list(self, &alerts)) < 0)
            goto next;
        if (alerts.n)
            c->review_overdue_alerted = true;
        if ((rc = cairn_state_commit(self->state, c, self->applied_next)) < 0)
            goto next;
        self->alerts += alerts.n;
        if (alerts.n)
            CAIRN_INFO("post-implementation review overdue", "change=%s index=%" PRIu64,
                       cairn_log_quote(ids[i]), entry->index);
    next:
        cairn_alert_list_clear(&alerts);
        cairn_evaluation_clear(&e);
        cairn_change_destroy(&c);
    }
    cairn_state_ids_free(&ids, n_ids);
    if (rc < 0)
        CAIRN_ERROR("cannot check overdue reviews; will retry", "index=%" PRIu64 " error=%s",
                    entry->index, cairn_log_quote(cairn_strerror(rc)));
    return rc;
}

/* Offers the verdicts just appended to the query thread: they answer gate
 * queries until the change's state or the policy changes, or time moves
 * past what they hold for. */
static void s_cache(cairn_policy_engine_t *self, cairn_policy_t *p, const cairn_change_t *c,
                    const cairn_evaluation_t *e, int64_t at)
{
    uint8_t *state = NULL;
    size_t len = 0;
    if (e->valid_until_ms <= at || cairn_state_pack(c, &state, &len) < 0)
        return;
    cairn_cache_basis_t basis = {.policy = p,
                                 .change_id = c->id,
                                 .state = state,
                                 .state_len = len,
                                 .environment = c->environment,
                                 .at_ms = at,
                                 .valid_until_ms = e->valid_until_ms};
    for (size_t i = 0; i < e->n; i++)
        if (cairn_verdict_cache_put(self->cache, &basis, i, e->verdicts[i]) < 0)
            break;
    free(state);
}

static int s_process(cairn_policy_engine_t *self, cairn_policy_t *p, const Cairn__V1__Entry *entry,
                     const Cairn__V1__Event *ev, const char *id)
{
    cairn_change_t *c = NULL;
    cairn_evaluation_t e;
    cairn_alert_list_t alerts;
    cairn_keys_t keys = {0};
    memset(&e, 0, sizeof e);
    memset(&alerts, 0, sizeof alerts);
    int rc = cairn_state_read(self->state, id, &c, NULL);
    if (rc < 0) {
        CAIRN_ERROR("cannot read change state", "change=%s error=%s", cairn_log_quote(id),
                    cairn_log_quote(cairn_strerror(rc)));
        goto out;
    }
    if (!c && !(c = cairn_change_new(id))) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = cairn_change_apply_event(c, ev, entry->index)) < 0)
        goto out;
    /* The trigger's own time, never the clock: replays decide the same. */
    int64_t at = ev->received_at_ms ? ev->received_at_ms : entry->appended_at_ms;
    cairn_eval_opts_t o = {.environment = NULL, .now_ms = at, .trigger_index = entry->index};
    if ((rc = cairn_evaluate_change(p, id, c, &o, &e)) < 0)
        goto out;
    if ((rc = cairn_alerts_collect(p, c, &e, entry->index, at, &alerts)) < 0)
        goto out;
    if ((rc = s_append_verdicts(self, id, entry->index, e.verdicts, e.n)) < 0 ||
        (rc = s_append_list(self, &alerts)) < 0)
        goto out;
    if ((rc = cairn_alerts_note(c, &e, &alerts)) < 0 || (rc = cairn_keys_of_event(ev, &keys)) < 0)
        goto out;
    if ((rc = cairn_state_commit_keys(self->state, c, keys.items, keys.n, entry->index + 1)) < 0) {
        CAIRN_ERROR("cannot store change state; will retry", "change=%s index=%" PRIu64 " error=%s",
                    cairn_log_quote(id), entry->index, cairn_log_quote(cairn_strerror(rc)));
        goto out;
    }
    self->applied_next = self->persisted_next = entry->index + 1;
    s_cache(self, p, c, &e, at);
    self->events++;
    self->verdicts += e.n;
    self->alerts += alerts.n;
    char decisions[512];
    s_decisions(e.verdicts, e.n, decisions, sizeof decisions);
    CAIRN_INFO("evaluated change",
               "change=%s index=%" PRIu64 " type=%s risk=%s change_type=%s decisions=%s alerts=%zu",
               cairn_log_quote(id), entry->index, cairn_log_quote(ev->type),
               e.n ? e.verdicts[0]->risk : "", e.n ? e.verdicts[0]->change_type : "",
               cairn_log_quote(decisions), alerts.n);
out:
    cairn_keys_clear(&keys);
    cairn_alert_list_clear(&alerts);
    cairn_evaluation_clear(&e);
    cairn_change_destroy(&c);
    return rc;
}

static int s_apply(void *arg, const Cairn__V1__Entry *entry)
{
    cairn_policy_engine_t *self = arg;
    Cairn__V1__Record *rec = NULL;
    if (cairn_codec_record_unpack(entry->record.data, entry->record.len, &rec) < 0) {
        self->bad++;
        CAIRN_WARN("skipping an undecodable ledger entry", "index=%" PRIu64, entry->index);
        return s_skip(self, entry->index);
    }
    const char *id = cairn_codec_record_change(rec);
    bool mine = cairn_partition_owns(&self->partition, id);
    int rc = mine ? cairn_drift_check(self->drift, entry, rec) : 0;
    if (rc < 0) {
        /* the drift alert was not appended: the entry is offered again */
    } else if (!mine) {
        /* Another partition's change (partition.h): only the overdue
         * reviews of this instance's own changes fall due at its time. */
        if (rec->body_case == CAIRN__V1__RECORD__BODY_EVENT) {
            cairn_policy_t *p = cairn_policy_slot_get(self->slot);
            rc = s_due_reviews(self, p, entry, rec->event, id);
            cairn_policy_unref(&p);
        }
        if (rc == 0)
            rc = s_skip(self, entry->index);
    } else if (rec->body_case != CAIRN__V1__RECORD__BODY_EVENT || !*id) {
        if (rec->body_case == CAIRN__V1__RECORD__BODY_EVENT) {
            cairn_policy_t *p = cairn_policy_slot_get(self->slot);
            rc = s_due_reviews(self, p, entry, rec->event, "");
            cairn_policy_unref(&p);
        }
        if (rc == 0)
            rc = s_skip(self, entry->index);
    } else if (strlen(id) > CAIRN_CHANGE_ID_MAX) {
        self->bad++;
        CAIRN_WARN("ignoring an event whose change id is too long",
                   "index=%" PRIu64 " length=%zu max=%d", entry->index, strlen(id),
                   CAIRN_CHANGE_ID_MAX);
        rc = s_skip(self, entry->index);
    } else {
        cairn_policy_t *p = cairn_policy_slot_get(self->slot);
        rc = s_due_reviews(self, p, entry, rec->event, id);
        if (rc == 0)
            rc = s_process(self, p, entry, rec->event, id);
        cairn_policy_unref(&p);
    }
    CAIRN_CODEC_FREE(&rec);
    return rc;
}

/* ---- lifetime --------------------------------------------------------------- */

/* policy.partition, checked against policy.partition_endpoints. */
static int s_partition(const cairn_config_t *config, const char *endpoints, cairn_partition_t *out)
{
    const char *text = cairn_config_str(config, "policy.partition");
    if (cairn_partition_parse(text, out) < 0) {
        CAIRN_ERROR("invalid policy.partition: write i/N with 0 <= i < N (e.g. 0/2)",
                    "value=%s max=%d", cairn_log_quote(text), CAIRN_PARTITION_MAX);
        return CAIRN_ECONFIG;
    }
    size_t n = cairn_partition_endpoint_count(endpoints);
    if (n && n != out->count) {
        CAIRN_ERROR("policy.partition_endpoints must list one query endpoint per partition",
                    "partitions=%" PRIu32 " endpoints=%zu", out->count, n);
        return CAIRN_ECONFIG;
    }
    return 0;
}

int cairn_policy_engine_new(const cairn_config_t *config, cairn_policy_engine_t **out)
{
    cairn_policy_t *policy = NULL;
    cairn_policy_engine_t *self = calloc(1, sizeof *self);
    int rc = -ENOMEM;
    if (!self)
        return rc;
    const char *state_path = cairn_config_str(config, "policy.state_path");
    self->policy_file = strdup(cairn_config_str(config, "policy.file"));
    self->query_endpoint = strdup(cairn_config_str(config, "bus.policy_query"));
    self->partition_endpoints = strdup(cairn_config_str(config, "policy.partition_endpoints"));
    if (!self->policy_file || !self->query_endpoint || !self->partition_endpoints)
        goto fail;
    if ((rc = s_partition(config, self->partition_endpoints, &self->partition)) < 0)
        goto fail;
    if ((rc = s_load_policy(self->policy_file, &policy)) < 0)
        goto fail;
    s_log_policy("policy loaded", policy);
    if (!(self->slot = cairn_policy_slot_new(policy))) {
        cairn_policy_unref(&policy);
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = cairn_state_open(state_path, &self->state)) < 0) {
        CAIRN_ERROR("cannot open the policy state", "path=%s error=%s", cairn_log_quote(state_path),
                    cairn_log_quote(cairn_strerror(rc)));
        goto fail;
    }
    if (cairn_state_was_reset(self->state))
        CAIRN_WARN("the policy state was written by an older version; re-deriving it from the "
                   "ledger",
                   "path=%s", cairn_log_quote(state_path));
    if ((rc = cairn_state_read(self->state, NULL, NULL, &self->applied_next)) < 0)
        goto fail;
    self->persisted_next = self->applied_next;
    int timeout = (int)cairn_config_int(config, "bus.request_timeout");
    if (!(self->link =
              cairn_ledger_link_new(cairn_config_str(config, "bus.ledger_api"), timeout))) {
        rc = -ENOMEM;
        goto fail;
    }
    if (!(self->drift = cairn_drift_new(self->state, self->slot, self->link)) ||
        (rc = cairn_activation_new(config, self->slot, self, &self->activation)) < 0) {
        rc = self->drift ? rc : -ENOMEM;
        goto fail;
    }
    const char *stream = cairn_config_str(config, "bus.ledger_stream");
    if ((rc = cairn_follower_new(stream, self->link, self->applied_next, s_apply, self,
                                 &self->follower)) < 0) {
        CAIRN_ERROR("cannot subscribe to the ledger stream", "endpoint=%s error=%s",
                    cairn_log_quote(stream), cairn_log_quote(cairn_strerror(rc)));
        goto fail;
    }
    if (!(self->cache = cairn_verdict_cache_new(CAIRN_VERDICT_CACHE_BYTES))) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = cairn_query_new(self->query_endpoint, self->state, self->slot, self->cache,
                              &self->partition, self->partition_endpoints, &self->query)) < 0) {
        CAIRN_ERROR("cannot bind the policy query socket", "endpoint=%s error=%s",
                    cairn_log_quote(self->query_endpoint), cairn_log_quote(cairn_strerror(rc)));
        goto fail;
    }
    CAIRN_INFO(
        "policy listening",
        "query=%s stream=%s ledger=%s state=%s next=%" PRIu64 " partition=%" PRIu32 "/%" PRIu32,
        cairn_log_quote(self->query_endpoint), cairn_log_quote(stream),
        cairn_log_quote(cairn_config_str(config, "bus.ledger_api")), cairn_log_quote(state_path),
        self->applied_next, self->partition.index, self->partition.count);
    *out = self;
    return 0;
fail:
    cairn_policy_engine_destroy(&self);
    return rc;
}

void cairn_policy_engine_destroy(cairn_policy_engine_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_policy_engine_t *self = *self_p;
    /* The query thread reads state, policy and cache: stop it first. */
    cairn_query_destroy(&self->query);
    if (self->state && self->applied_next > self->persisted_next)
        s_persist(self);
    cairn_verdict_cache_stats_t cs = {0};
    if (self->cache)
        cairn_verdict_cache_stats(self->cache, &cs);
    if (self->follower)
        CAIRN_INFO("policy stopping",
                   "next=%" PRIu64 " events=%" PRIu64 " verdicts=%" PRIu64 " alerts=%" PRIu64
                   " skipped=%" PRIu64 " bad=%" PRIu64 " bad_stream=%" PRIu64 " cache_hits=%" PRIu64
                   " cache_misses=%" PRIu64,
                   self->applied_next, self->events, self->verdicts, self->alerts, self->skipped,
                   self->bad, cairn_follower_bad(self->follower), cs.hits, cs.misses);
    cairn_follower_destroy(&self->follower);
    cairn_verdict_cache_destroy(&self->cache);
    cairn_activation_destroy(&self->activation);
    cairn_drift_destroy(&self->drift);
    cairn_ledger_link_destroy(&self->link);
    cairn_state_destroy(&self->state);
    cairn_policy_slot_destroy(&self->slot);
    free(self->policy_file);
    free(self->query_endpoint);
    free(self->partition_endpoints);
    free(self);
    *self_p = NULL;
}

void cairn_policy_engine_run_once(cairn_policy_engine_t *self, int timeout_ms)
{
    cairn_activation_step(self->activation);
    cairn_follower_step(self->follower, timeout_ms);
    if (self->applied_next > self->persisted_next)
        s_persist(self);
}

uint64_t cairn_policy_engine_next(const cairn_policy_engine_t *self)
{
    return self->applied_next;
}
