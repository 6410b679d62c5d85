/* Raising alerts on verdict transitions (see alerts.h). */
#include "alerts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/util.h"
#include "verdict.h"

static bool s_pending_on_approval(const Cairn__V1__Verdict *v)
{
    return v->decision == CAIRN__V1__DECISION__DECISION_PENDING && cairn_verdict_awaits_approval(v);
}

/* Appends text to a comma list unless already there. */
static void s_list_add(char *buf, size_t len, const char *text)
{
    size_t tl = strlen(text);
    for (const char *p = buf; (p = strstr(p, text)) != NULL; p += tl)
        if ((p == buf || p[-1] == ',') && (p[tl] == ',' || p[tl] == '\0'))
            return;
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%s%s", used ? "," : "", text);
}

static int s_label(Cairn__V1__Alert *a, const char *key, const char *value)
{
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

static int s_new(const char *kind, const char *severity, const cairn_change_t *c, uint64_t trigger,
                 int64_t at_ms, const char *summary, cairn_alert_out_t *out)
{
    char key[512];
    snprintf(key, sizeof key, "alert:%s:%s:%" PRIu64, kind, c->id, trigger);
    Cairn__V1__Alert *a = malloc(sizeof *a);
    char *k = strdup(key);
    if (!a || !k) {
        free(a);
        free(k);
        return -ENOMEM;
    }
    cairn__v1__alert__init(a);
    a->trigger_index = trigger;
    a->created_at_ms = at_ms;
    out->alert = a;
    out->key = k;
    if (cairn_msg_set_str(&a->id, key) < 0 || cairn_msg_set_str(&a->kind, kind) < 0 ||
        cairn_msg_set_str(&a->severity, severity) < 0 ||
        cairn_msg_set_str(&a->change_id, c->id) < 0 ||
        cairn_msg_set_str(&a->summary, summary) < 0 || s_label(a, "change", c->id) < 0)
        return -ENOMEM;
    if (*c->environment && s_label(a, "environment", c->environment) < 0)
        return -ENOMEM;
    return 0;
}

static int s_approval_requested(const cairn_change_t *c, const Cairn__V1__Verdict *v,
                                uint64_t trigger, int64_t at_ms, cairn_alert_out_t *out)
{
    char roles[512] = "", need[768] = "", summary[1024];
    for (size_t i = 0; i < v->n_obligations; i++) {
        const Cairn__V1__Obligation *o = v->obligations[i];
        if (strcmp(o->kind, "approval") != 0)
            continue;
        for (size_t r = 0; r < o->n_roles; r++)
            s_list_add(roles, sizeof roles, o->roles[r]);
        size_t used = strlen(need);
        snprintf(need + used, sizeof need - used, "%s%s", used ? "; " : "", o->message);
    }
    uint32_t missing = 0;
    for (size_t i = 0; i < v->n_obligations; i++)
        if (strcmp(v->obligations[i]->kind, "approval") == 0)
            missing += v->obligations[i]->missing;
    char count[16];
    snprintf(count, sizeof count, "%u", missing);
    snprintf(summary, sizeof summary, "%s needs approval before %s: %s", c->id, v->gate, need);
    int rc = s_new("approval_requested", "info", c, trigger, at_ms, summary, out);
    if (rc == 0)
        rc = s_label(out->alert, "gate", v->gate);
    if (rc == 0)
        rc = s_label(out->alert, "roles", roles);
    if (rc == 0)
        rc = s_label(out->alert, "missing", count);
    return rc;
}

static int s_gate_denied(const cairn_change_t *c, const Cairn__V1__Verdict *v, const char *gates,
                         uint64_t trigger, int64_t at_ms, cairn_alert_out_t *out)
{
    char why[1536] = "", ids[512] = "";
    for (size_t i = 0; i < v->n_reasons; i++) {
        if (strcmp(v->reasons[i]->result, "fail") != 0)
            continue;
        size_t used = strlen(why);
        snprintf(why + used, sizeof why - used, "%s%s", used ? "; " : "", v->reasons[i]->message);
        s_list_add(ids, sizeof ids, v->reasons[i]->rule_id);
    }
    char summary[2048];
    snprintf(summary, sizeof summary, "%s is denied at gate %s%s%s", c->id, v->gate,
             *why ? ": " : "", why);
    int rc = s_new("gate_denied", "warning", c, trigger, at_ms, summary, out);
    if (rc == 0)
        rc = s_label(out->alert, "gate", v->gate);
    if (rc == 0)
        rc = s_label(out->alert, "gates", gates);
    if (rc == 0)
        rc = s_label(out->alert, "reasons", ids);
    return rc;
}

int cairn_alerts_raise(const cairn_change_t *c, Cairn__V1__Verdict *const *vs, size_t n,
                       uint64_t trigger_index, int64_t at_ms, cairn_alert_out_t out[2],
                       size_t *n_out)
{
    const Cairn__V1__Verdict *asked = NULL, *denied = NULL;
    char denied_gates[512] = "";
    for (size_t i = 0; i < n; i++) {
        const Cairn__V1__Verdict *v = vs[i];
        const cairn_change_gate_t *before = cairn_change_gate(c, v->gate);
        if (s_pending_on_approval(v) &&
            !(before && before->decision == CAIRN__V1__DECISION__DECISION_PENDING &&
              before->awaiting_approval) &&
            !asked)
            asked = v;
        if (v->decision == CAIRN__V1__DECISION__DECISION_DENY &&
            !(before && before->decision == CAIRN__V1__DECISION__DECISION_DENY)) {
            if (!denied)
                denied = v;
            s_list_add(denied_gates, sizeof denied_gates, v->gate);
        }
    }
    size_t k = 0;
    int rc = 0;
    memset(out, 0, 2 * sizeof *out);
    if (asked)
        rc = s_approval_requested(c, asked, trigger_index, at_ms, &out[k++]);
    if (rc == 0 && denied)
        rc = s_gate_denied(c, denied, denied_gates, trigger_index, at_ms, &out[k++]);
    if (rc < 0) {
        cairn_alerts_clear(out, k);
        return rc;
    }
    *n_out = k;
    return 0;
}

void cairn_alerts_clear(cairn_alert_out_t *alerts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        CAIRN_CODEC_FREE(&alerts[i].alert);
        free(alerts[i].key);
        alerts[i].key = NULL;
    }
}

void cairn_alert_list_clear(cairn_alert_list_t *self)
{
    cairn_alerts_clear(self->items, self->n);
    self->n = 0;
}

static void s_time(const cairn_policy_t *p, int64_t ms, char out[40])
{
    if (p->tz)
        cairn_tz_format(p->tz, ms, out);
    else
        cairn_format_time(ms, out);
}

int cairn_alerts_overdue_review(const cairn_policy_t *p, const cairn_change_t *c,
                                const cairn_evaluation_t *e, uint64_t trigger_index, int64_t at_ms,
                                cairn_alert_list_t *out)
{
    if (!e->review_open || c->review_overdue_alerted || !e->review_due_ms ||
        at_ms < e->review_due_ms || out->n >= 4)
        return 0;
    char due[40], roles[512] = "", summary[1024];
    s_time(p, e->review_due_ms, due);
    for (size_t i = 0; i < e->n; i++)
        for (size_t j = 0; j < e->verdicts[i]->n_obligations; j++) {
            const Cairn__V1__Obligation *o = e->verdicts[i]->obligations[j];
            if (strcmp(o->kind, "post_review") == 0)
                for (size_t r = 0; r < o->n_roles; r++)
                    s_list_add(roles, sizeof roles, o->roles[r]);
        }
    snprintf(summary, sizeof summary,
             "the post-implementation review of %s was due by %s and is overdue (reviewers: %s)",
             c->id, due, roles);
    cairn_alert_out_t *a = &out->items[out->n];
    int rc = s_new("post_review_overdue", "warning", c, trigger_index, at_ms, summary, a);
    out->n++;
    if (rc == 0)
        rc = s_label(a->alert, "due_at", due);
    if (rc == 0)
        rc = s_label(a->alert, "roles", roles);
    return rc;
}

static int s_expiring(const cairn_policy_t *p, const cairn_change_t *c, const cairn_evaluation_t *e,
                      uint64_t trigger_index, int64_t at_ms, cairn_alert_list_t *out)
{
    if (!e->expires_at_ms || e->expires_at_ms <= at_ms ||
        e->expires_at_ms - at_ms > p->expiry_warning_ms || c->expiry_warned_ms == e->expires_at_ms)
        return 0;
    char when[40], summary[1024];
    s_time(p, e->expires_at_ms, when);
    snprintf(summary, sizeof summary, "the verdicts for %s expire at %s, when %s expires", c->id,
             when, *e->expires_what ? e->expires_what : "what they rely on");
    cairn_alert_out_t *a = &out->items[out->n];
    int rc = s_new("approval_expiring", "warning", c, trigger_index, at_ms, summary, a);
    out->n++;
    if (rc == 0)
        rc = s_label(a->alert, "expires_at", when);
    if (rc == 0 && e->expires_gate)
        rc = s_label(a->alert, "gate", e->expires_gate);
    return rc;
}

int cairn_alerts_collect(const cairn_policy_t *p, const cairn_change_t *c,
                         const cairn_evaluation_t *e, uint64_t trigger_index, int64_t at_ms,
                         cairn_alert_list_t *out)
{
    cairn_alert_out_t two[2];
    size_t n = 0;
    memset(out, 0, sizeof *out);
    int rc = cairn_alerts_raise(c, e->verdicts, e->n, trigger_index, at_ms, two, &n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n; i++)
        out->items[out->n++] = two[i];
    if ((rc = s_expiring(p, c, e, trigger_index, at_ms, out)) == 0)
        rc = cairn_alerts_overdue_review(p, c, e, trigger_index, at_ms, out);
    if (rc < 0)
        cairn_alert_list_clear(out);
    return rc;
}

int cairn_alerts_note(cairn_change_t *c, const cairn_evaluation_t *e,
                      const cairn_alert_list_t *raised)
{
    for (size_t i = 0; i < e->n; i++) {
        int rc = cairn_change_set_gate(c, e->verdicts[i]->gate, e->verdicts[i]->decision,
                                       cairn_verdict_awaits_approval(e->verdicts[i]));
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < raised->n; i++) {
        const char *kind = raised->items[i].alert->kind;
        if (strcmp(kind, "approval_expiring") == 0)
            c->expiry_warned_ms = e->expires_at_ms;
        else if (strcmp(kind, "post_review_overdue") == 0)
            c->review_overdue_alerted = true;
    }
    c->review_due_ms = e->review_open ? e->review_due_ms : 0;
    return 0;
}
