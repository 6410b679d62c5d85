/* Change type selection and requirements (see change_type.h). */
#include "change_type.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "evaluate.h"

static const char *const s_types[] = {"standard", "normal", "emergency"};

void cairn_change_type_pick(const cairn_policy_t *p, const cairn_change_t *c,
                            cairn_change_kind_t *out)
{
    cairn_change_kind_t k = {.name = "normal"};
    if (*c->change_type) {
        const char *known = NULL;
        for (size_t i = 0; i < 3; i++)
            if (strcasecmp(c->change_type, s_types[i]) == 0)
                known = s_types[i];
        if (!known) {
            k.unreadable = true;
        } else if (strcmp(known, "normal") != 0 && !cairn_policy_change_type(p, known)) {
            k.downgraded = true;
        } else {
            k.name = known;
        }
    }
    k.def = cairn_policy_change_type(p, k.name);
    *out = k;
}

bool cairn_change_type_exempt(const cairn_change_kind_t *k, const char *group)
{
    return k->def && cairn_strv_contains(&k->def->exempt, group);
}

static void s_deny(Cairn__V1__Decision *d)
{
    *d = cairn_decision_worst(*d, CAIRN__V1__DECISION__DECISION_DENY);
}

int cairn_change_type_explain(const cairn_change_kind_t *k, const cairn_classification_t *risk,
                              const cairn_change_t *c, cairn_findings_t *out,
                              Cairn__V1__Decision *decision)
{
    int rc;
    if (k->unreadable) {
        s_deny(decision);
        return cairn_findings_reason(
            out, "change_type", CAIRN_RESULT_FAIL,
            "%s states change type '%s', which is not standard, normal or emergency", c->id,
            c->change_type);
    }
    if (k->downgraded)
        rc = cairn_findings_reason(out, "change_type", CAIRN_RESULT_PASS,
                                   "%s states change type %s, which this policy does not "
                                   "define; it is evaluated as a normal change",
                                   c->id, c->change_type);
    else
        rc = cairn_findings_reason(out, "change_type", CAIRN_RESULT_PASS, "%s is a%s %s change%s",
                                   c->id, strcmp(k->name, "emergency") == 0 ? "n" : "", k->name,
                                   *c->change_type ? "" : " (no change type stated)");
    if (rc < 0 || !k->def)
        return rc;
    const cairn_change_type_t *t = k->def;
    const char *rule = cairn_arena_concat(out->arena, "change_type:", k->name);
    if (!rule)
        return -ENOMEM;
    if (t->risk_max != CAIRN_RISK_UNSET) {
        if (risk->risk > t->risk_max) {
            s_deny(decision);
            rc = cairn_findings_reason(
                out, rule, CAIRN_RESULT_FAIL,
                "%s is a %s change but its risk is %s; %s changes allow at most %s risk", c->id,
                k->name, cairn_risk_name(risk->risk), k->name, cairn_risk_name(t->risk_max));
        } else {
            rc = cairn_findings_reason(
                out, rule, CAIRN_RESULT_PASS, "risk %s is within %s's risk_max %s",
                cairn_risk_name(risk->risk), k->name, cairn_risk_name(t->risk_max));
        }
        if (rc < 0)
            return rc;
    }
    if (t->incident_ref) {
        if (!*c->incident_id) {
            s_deny(decision);
            rc = cairn_findings_reason(
                out, rule, CAIRN_RESULT_FAIL,
                "%s is a%s %s change but names no incident (incident_ref required)", c->id,
                strcmp(k->name, "emergency") == 0 ? "n" : "", k->name);
        } else {
            rc = cairn_findings_reason(out, rule, CAIRN_RESULT_PASS, "%s answers incident %s",
                                       c->id, c->incident_id);
        }
    }
    return rc;
}
