/* Drift detection: production deployments the policy did not allow (see drift.h). */
#include "drift.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/error.h"
#include "cairn/log.h"
#include "verdict.h"

#define S_KIND "drift"
#define S_SEVERITY "high"
#define S_GATE "deployment"

struct cairn_drift_t {
    cairn_state_t *state;      /* change state (not owned) */
    cairn_policy_slot_t *slot; /* the policy in force (not owned) */
    cairn_ledger_link_t *link; /* alert appends (not owned) */
    uint64_t raised;           /* alerts appended */
};

static bool s_set(const char *s)
{
    return s && *s;
}

bool cairn_drift_is_prod_deployment(const Cairn__V1__Event *ev)
{
    const char *env = ev->correlation ? ev->correlation->environment : NULL;
    if (!s_set(env) || (strcasecmp(env, "prod") != 0 && strcasecmp(env, "production") != 0))
        return false;
    if (ev->evidence && s_set(ev->evidence->kind))
        return strcmp(ev->evidence->kind, "deployment") == 0;
    const char *t = ev->type ? ev->type : "";
    return strstr(t, ".service.deployed.") || strstr(t, ".service.upgraded.") ||
           strstr(t, ".service.rolledback.");
}

static int s_label(Cairn__V1__Alert *a, const char *key, const char *value)
{
    if (!s_set(value))
        return 0;
    Cairn__V1__Alert__LabelsEntry *e = malloc(sizeof *e);
    if (!e)
        return -ENOMEM;
    cairn__v1__alert__labels_entry__init(e);
    Cairn__V1__Alert__LabelsEntry **grown = realloc(a->labels, (a->n_labels + 1) * sizeof *grown);
    if (!grown) {
        free(e);
        return -ENOMEM;
    }
    a->labels = grown;
    a->labels[a->n_labels++] = e;
    if (cairn_msg_set_str(&e->key, key) < 0 || cairn_msg_set_str(&e->value, value) < 0)
        return -ENOMEM;
    return 0;
}

/* Why the deployment was not authorized, or false when it was. gate and
 * decision name what was found (for labels). */
static bool s_unauthorized(const cairn_policy_t *p, const cairn_change_t *c,
                           const Cairn__V1__Event *ev, const char *change, char *why, size_t len,
                           const char **gate, const char **decision)
{
    const char *env = ev->correlation->environment;
    const char *commit = ev->correlation->commit_sha;
    *gate = cairn_policy_gate(p, S_GATE) ? S_GATE : "";
    *decision = "";
    if (!*change) {
        snprintf(why, len, "a deployment to %s names no change (event %s from %s)", env,
                 s_set(ev->id) ? ev->id : "?", s_set(ev->source) ? ev->source : "?");
        return true;
    }
    if (!c) {
        snprintf(why, len, "%s was deployed to %s, but the policy has no events for it", change,
                 env);
        return true;
    }
    if (**gate) {
        const cairn_change_gate_t *g = cairn_change_gate(c, S_GATE);
        if (!g || g->decision != CAIRN__V1__DECISION__DECISION_ALLOW) {
            *decision = g ? cairn_decision_name((Cairn__V1__Decision)g->decision) : "none";
            snprintf(why, len, "%s was deployed to %s without an allow at gate %s (%s)", change,
                     env, S_GATE, g ? *decision : "no decision published");
            return true;
        }
    } else {
        for (size_t i = 0; i < p->n_gates; i++) {
            const cairn_change_gate_t *g = cairn_change_gate(c, p->gates[i].name);
            if (!g || g->decision != CAIRN__V1__DECISION__DECISION_ALLOW) {
                *gate = p->gates[i].name;
                *decision = g ? cairn_decision_name((Cairn__V1__Decision)g->decision) : "none";
                snprintf(why, len, "%s was deployed to %s without an allow at gate %s (%s)", change,
                         env, *gate, g ? *decision : "no decision published");
                return true;
            }
        }
    }
    if (s_set(commit) && s_set(c->commit_sha) && !cairn_change_is_commit(c, commit)) {
        *decision = "allow";
        snprintf(why, len,
                 "%s was deployed to %s at commit %.12s, but the policy allowed commit %.12s",
                 change, env, commit, c->commit_sha);
        return true;
    }
    return false;
}

int cairn_drift_evaluate(const cairn_policy_t *p, const cairn_change_t *c,
                         const Cairn__V1__Event *ev, uint64_t index, int64_t at_ms,
                         cairn_alert_out_t *out)
{
    out->alert = NULL;
    out->key = NULL;
    if (!cairn_drift_is_prod_deployment(ev))
        return 0;
    const char *change = c ? c->id : ev->correlation->change_id;
    change = change ? change : "";
    char why[1024], key[512], idx[32];
    const char *gate = "", *decision = "";
    if (!s_unauthorized(p, c, ev, change, why, sizeof why, &gate, &decision))
        return 0;
    snprintf(key, sizeof key, "alert:%s:%s:%" PRIu64, S_KIND, change, index);
    snprintf(idx, sizeof idx, "%" PRIu64, index);
    Cairn__V1__Alert *a = malloc(sizeof *a);
    char *k = strdup(key);
    if (!a || !k) {
        free(a);
        free(k);
        return -ENOMEM;
    }
    cairn__v1__alert__init(a);
    a->trigger_index = index;
    a->created_at_ms = at_ms;
    out->alert = a;
    out->key = k;
    const Cairn__V1__Correlation *corr = ev->correlation;
    const Cairn__V1__Governance *gov = ev->governance;
    if (cairn_msg_set_str(&a->id, key) < 0 || cairn_msg_set_str(&a->kind, S_KIND) < 0 ||
        cairn_msg_set_str(&a->severity, S_SEVERITY) < 0 ||
        cairn_msg_set_str(&a->change_id, change) < 0 || cairn_msg_set_str(&a->summary, why) < 0 ||
        s_label(a, "change", change) < 0 || s_label(a, "environment", corr->environment) < 0 ||
        s_label(a, "service", corr->service) < 0 || s_label(a, "commit", corr->commit_sha) < 0 ||
        s_label(a, "event_type", ev->type) < 0 || s_label(a, "event_id", ev->id) < 0 ||
        s_label(a, "deployer", gov ? gov->deployer : NULL) < 0 || s_label(a, "gate", gate) < 0 ||
        s_label(a, "decision", decision) < 0 || s_label(a, "trigger_index", idx) < 0) {
        cairn_alerts_clear(out, 1);
        return -ENOMEM;
    }
    return 0;
}

cairn_drift_t *cairn_drift_new(cairn_state_t *state, cairn_policy_slot_t *slot,
                               cairn_ledger_link_t *link)
{
    cairn_drift_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->state = state;
    self->slot = slot;
    self->link = link;
    return self;
}

void cairn_drift_destroy(cairn_drift_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free(*self_p);
    *self_p = NULL;
}

uint64_t cairn_drift_count(const cairn_drift_t *self)
{
    return self->raised;
}

int cairn_drift_check(cairn_drift_t *self, const Cairn__V1__Entry *entry,
                      const Cairn__V1__Record *rec)
{
    if (rec->body_case != CAIRN__V1__RECORD__BODY_EVENT ||
        !cairn_drift_is_prod_deployment(rec->event))
        return 0;
    const Cairn__V1__Event *ev = rec->event;
    const char *id = cairn_codec_record_change(rec);
    cairn_change_t *c = NULL;
    cairn_policy_t *p = NULL;
    cairn_alert_out_t out = {NULL, NULL};
    int rc = 0;
    if (strlen(id) > CAIRN_CHANGE_ID_MAX)
        return 0; /* the engine ignores such events; so does drift */
    if (*id && (rc = cairn_state_read(self->state, id, &c, NULL)) < 0) {
        CAIRN_ERROR("cannot read change state for the drift check", "change=%s error=%s",
                    cairn_log_quote(id), cairn_log_quote(cairn_strerror(rc)));
        return rc;
    }
    p = cairn_policy_slot_get(self->slot);
    int64_t at = ev->received_at_ms ? ev->received_at_ms : entry->appended_at_ms;
    if ((rc = cairn_drift_evaluate(p, c, ev, entry->index, at, &out)) < 0 || !out.alert)
        goto out;
    Cairn__V1__Record alert = CAIRN__V1__RECORD__INIT;
    alert.body_case = CAIRN__V1__RECORD__BODY_ALERT;
    alert.alert = out.alert;
    char error[512] = "";
    uint64_t index = 0;
    bool duplicate = false;
    rc = cairn_ledger_link_append(self->link, out.key, &alert, &index, &duplicate, error,
                                  sizeof error);
    if (rc < 0) {
        CAIRN_WARN("cannot append a drift alert; will retry", "key=%s error=%s detail=%s",
                   cairn_log_quote(out.key), cairn_log_quote(cairn_strerror(rc)),
                   cairn_log_quote(error));
        goto out;
    }
    self->raised++;
    CAIRN_WARN("unauthorized production change",
               "change=%s index=%" PRIu64 " alert_index=%" PRIu64 " summary=%s",
               cairn_log_quote(id), entry->index, index, cairn_log_quote(out.alert->summary));
out:
    cairn_alerts_clear(&out, out.alert ? 1 : 0);
    cairn_policy_unref(&p);
    cairn_change_destroy(&c);
    return rc;
}
