/* Separation-of-duties checks (see sod.h). */
#include "sod.h"

#include <stdio.h>
#include <string.h>

#include "evaluate.h"
#include "format.h"

static const char *s_verb(const cairn_sod_rule_t *rule)
{
    return strcmp(rule->role, "verifier") == 0 ? "verify" : "approve";
}

bool cairn_sod_violated(const cairn_policy_t *p, const cairn_sod_rule_t *rule,
                        const cairn_change_t *c, const char *user, char *reason, size_t len)
{
    const char *verb = s_verb(rule);
    if (!user || !*user)
        return false;
    for (size_t i = 0; i < rule->not_facts.count; i++) {
        const char *fact = rule->not_facts.items[i];
        const char *what = NULL;
        if (strcmp(fact, "author") == 0 && strcmp(c->author, user) == 0)
            what = "is the author of";
        else if (strcmp(fact, "committers") == 0 && cairn_change_is_committer(c, user))
            what = "committed to";
        else if (strcmp(fact, "deployer") == 0 && strcmp(c->deployer, user) == 0)
            what = "deployed";
        else if (strcmp(fact, "verifier") == 0 && strcmp(c->verifier, user) == 0)
            what = "verified";
        if (what) {
            if (reason)
                cairn_format(reason, len, "%s %s %s and cannot %s it", user, what, c->id, verb);
            return true;
        }
    }
    for (size_t i = 0; i < rule->not_kinds.count; i++)
        if (strcmp(rule->not_kinds.items[i], "service_account") == 0 &&
            cairn_policy_user_is_service_account(p, user)) {
            if (reason)
                cairn_format(reason, len, "%s is a service account and cannot %s %s", user, verb,
                             c->id);
            return true;
        }
    return false;
}

int cairn_sod_check_verifier(const cairn_policy_t *p, const cairn_change_t *c,
                             cairn_findings_t *out, Cairn__V1__Decision *decision)
{
    int rc = 0;
    for (size_t i = 0; i < p->n_sod; i++) {
        const cairn_sod_rule_t *rule = &p->sod[i];
        if (strcmp(rule->role, "verifier") != 0)
            continue;
        char reason[512];
        if (!*c->verifier)
            rc = cairn_findings_reason(out, rule->id, CAIRN_RESULT_PASS,
                                       "no verifier recorded for %s yet", c->id);
        else if (cairn_sod_violated(p, rule, c, c->verifier, out->render ? reason : NULL,
                                    sizeof reason)) {
            rc = cairn_findings_reason(out, rule->id, CAIRN_RESULT_FAIL, "%s",
                                       out->render ? reason : "");
            *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_DENY);
        } else
            rc = cairn_findings_reason(out, rule->id, CAIRN_RESULT_PASS, "%s may verify %s",
                                       c->verifier, c->id);
        if (rc < 0)
            return rc;
    }
    return 0;
}
