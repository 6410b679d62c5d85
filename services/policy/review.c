/* Post-implementation review (see review.h). */
#include "review.h"

#include <stdio.h>
#include <string.h>

#include "approvals.h"
#include "format.h"
#include "sod.h"

static bool s_may_approve(const cairn_policy_t *p, const cairn_change_t *c, const char *user)
{
    for (size_t r = 0; r < p->n_sod; r++)
        if (strcmp(p->sod[r].role, "approver") == 0 &&
            cairn_sod_violated(p, &p->sod[r], c, user, NULL, 0))
            return false;
    return true;
}

/* Counts the reviews of c (approvals after its deployment by distinct
 * people of t's roles who may approve it); names them in reviewers when
 * not NULL. */
static uint32_t s_reviews(const cairn_policy_t *p, const cairn_change_t *c,
                          const cairn_change_type_t *t, char *reviewers, size_t len)
{
    uint32_t have = 0;
    size_t used = 0;
    if (reviewers && len)
        reviewers[0] = '\0';
    for (size_t i = 0; i < c->n_approvals; i++) {
        const cairn_change_approval_t *a = &c->approvals[i];
        if (a->rejected || a->at_ms < c->deployed_at_ms || !s_may_approve(p, c, a->user) ||
            !cairn_approvals_role_held(p, &t->post_review_from, a->user, a->at_ms, NULL, NULL,
                                       NULL))
            continue;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(c->approvals[j].user, a->user) == 0 &&
                   c->approvals[j].at_ms >= c->deployed_at_ms && !c->approvals[j].rejected;
        if (seen)
            continue;
        have++;
        if (!reviewers)
            continue;
        int n = cairn_format(reviewers + used, len - used, "%s%s", used ? ", " : "", a->user);
        if (n > 0 && (size_t)n < len - used)
            used += (size_t)n;
    }
    return have;
}

void cairn_review_evaluate(const cairn_policy_t *p, const cairn_change_t *c,
                           const cairn_change_kind_t *kind, cairn_review_t *out)
{
    memset(out, 0, sizeof *out);
    if (!kind->def || !kind->def->has_post_review)
        return;
    const cairn_change_type_t *t = kind->def;
    out->def = t;
    if (!c->deployed_at_ms)
        return;
    out->deployed = true;
    out->due_ms = c->deployed_at_ms + t->post_review_within_ms;
    out->have = s_reviews(p, c, t, NULL, 0);
    out->done = out->have >= t->post_review_count;
}

bool cairn_review_open(const cairn_review_t *r)
{
    return r->def && r->deployed && !r->done;
}

/* "tech_lead or cab" */
static void s_roles(const cairn_strv_t *roles, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < roles->count && used < len; i++) {
        int n = cairn_format(buf + used, len - used, "%s%s", i ? " or " : "", roles->items[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int cairn_review_explain(const cairn_review_t *r, const cairn_policy_t *p, const cairn_facts_t *f,
                         cairn_findings_t *out)
{
    if (!r->def)
        return 0;
    const cairn_change_t *c = f->change;
    const cairn_change_type_t *t = r->def;
    char roles[256], due[40];
    roles[0] = '\0';
    due[0] = '\0';
    if (out->render)
        s_roles(&t->post_review_from, roles, sizeof roles);
    if (!r->deployed)
        return cairn_findings_reason(out, "post_review", CAIRN_RESULT_SKIP,
                                     "%s changes need a post-implementation review by %s "
                                     "within %lldh of deployment; %s is not deployed yet",
                                     t->name, roles,
                                     (long long)(t->post_review_within_ms / 3600000), c->id);
    if (out->render)
        cairn_tz_format(p->tz, r->due_ms, due);
    if (r->done) {
        char reviewers[256];
        reviewers[0] = '\0';
        if (out->render)
            s_reviews(p, c, t, reviewers, sizeof reviewers);
        return cairn_findings_reason(out, "post_review", CAIRN_RESULT_PASS,
                                     "post-implementation review of %s done by %s", c->id,
                                     reviewers);
    }
    uint32_t missing = t->post_review_count - r->have;
    bool overdue = f->now_ms >= r->due_ms;
    cairn_facts_until(f, r->due_ms);
    int rc = cairn_findings_reason(out, "post_review", CAIRN_RESULT_MISSING,
                                   "%s needs a post-implementation review by %s (%u more) %s %s%s",
                                   c->id, roles, missing, overdue ? "that was due" : "due by", due,
                                   overdue ? " and is overdue" : "");
    if (rc == 0)
        rc = cairn_findings_open(out, "post_review", "post_review", &t->post_review_from, missing,
                                 "post-implementation review of %s by %s due by %s", c->id, roles,
                                 due);
    return rc;
}
