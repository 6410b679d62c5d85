/* Raising alerts on verdict transitions (see alerts.h). */
#include "alerts.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    snprintf(summary, sizeof summary, "%s needs approval before %s: %s", c->id, v->gate, need);
    int rc = s_new("approval_requested", "info", c, trigger, at_ms, summary, out);
    if (rc == 0)
        rc = s_label(out->alert, "gate", v->gate);
    if (rc == 0)
        rc = s_label(out->alert, "roles", roles);
    return rc;
}

static int s_gate_denied(const cairn_change_t *c, const Cairn__V1__Verdict *v, const char *gates,
                         uint64_t trigger, int64_t at_ms, cairn_alert_out_t *out)
{
    const char *why = "";
    for (size_t i = 0; i < v->n_reasons && !*why; i++)
        if (strcmp(v->reasons[i]->result, "fail") == 0)
            why = v->reasons[i]->message;
    char summary[1024];
    snprintf(summary, sizeof summary, "%s is denied at gate %s%s%s", c->id, v->gate,
             *why ? ": " : "", why);
    int rc = s_new("gate_denied", "warning", c, trigger, at_ms, summary, out);
    if (rc == 0)
        rc = s_label(out->alert, "gate", v->gate);
    if (rc == 0)
        rc = s_label(out->alert, "gates", gates);
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
