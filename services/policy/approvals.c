/* Approval counting and explanation (see approvals.h). */
#include "approvals.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cairn/approval.h"
#include "evaluate.h"
#include "format.h"
#include "signature.h"
#include "sod.h"

/* One open slot of a rule: filled by at most one person. */
typedef struct {
    size_t rule; /* index into standing rules */
    size_t slot; /* slot group within the rule */
    long owner;  /* index of the view filling it, or -1 */
} s_unit_t;

typedef struct {
    const cairn_policy_t *p;
    cairn_approvals_t *a;
    s_unit_t *units;
    size_t n_units;
    unsigned char *visited;
} s_match_t;

const char *cairn_approvals_role_held(const cairn_policy_t *p, const cairn_strv_t *from,
                                      const char *user, int64_t at_ms,
                                      bool (*delegator_approved)(const char *who, void *arg),
                                      void *arg, const cairn_delegation_t **delegation)
{
    if (delegation)
        *delegation = NULL;
    for (size_t i = 0; i < from->count; i++)
        if (cairn_policy_user_in_role(p, user, from->items[i]))
            return from->items[i];
    for (size_t i = 0; i < from->count; i++) {
        const cairn_role_t *r = cairn_policy_role(p, from->items[i]);
        for (size_t d = 0; r && d < r->n_delegations; d++) {
            const cairn_delegation_t *dl = &r->delegations[d];
            if (strcmp(dl->to, user) != 0 || at_ms >= dl->until_ms)
                continue;
            if (delegator_approved && delegator_approved(dl->from, arg))
                continue;
            if (delegation)
                *delegation = dl;
            return from->items[i];
        }
    }
    return NULL;
}

/* Whether a valid approval by who counts on its own (a delegate does not
 * stand in for someone who approved). */
static bool s_has_valid(const char *who, void *arg)
{
    const cairn_approvals_t *a = arg;
    for (size_t i = 0; i < a->n_views; i++)
        if (!a->views[i].void_rule && !a->views[i].src->rejected &&
            strcmp(a->views[i].src->user, who) == 0)
            return true;
    return false;
}

static const char *s_role_held(const cairn_policy_t *p, const cairn_approval_slot_t *slot,
                               const cairn_approvals_t *a, const cairn_approval_view_t *v,
                               const cairn_delegation_t **delegation)
{
    return cairn_approvals_role_held(p, &slot->from, v->src->user, v->src->at_ms, s_has_valid,
                                     (void *)a, delegation);
}

static bool s_eligible(const s_match_t *m, size_t view, const s_unit_t *u)
{
    const cairn_rule_standing_t *st = &m->a->rules[u->rule];
    return s_role_held(m->p, &st->rule->slots[u->slot], m->a, &m->a->views[view], NULL) != NULL;
}

/* Kuhn's augmenting path: tries to give view a unit among [lo, hi). */
static bool s_augment(s_match_t *m, size_t view, size_t lo, size_t hi)
{
    for (size_t u = lo; u < hi; u++) {
        if (m->visited[u] || !s_eligible(m, view, &m->units[u]))
            continue;
        m->visited[u] = 1;
        if (m->units[u].owner < 0 || s_augment(m, (size_t)m->units[u].owner, lo, hi)) {
            m->units[u].owner = (long)view;
            return true;
        }
    }
    return false;
}

/* Whether a view is a valid grant that may fill slots. */
static bool s_counts(const cairn_approval_view_t *v)
{
    return !v->void_rule && !v->src->rejected;
}

static void s_match(s_match_t *m, size_t lo, size_t hi)
{
    for (size_t v = 0; v < m->a->n_views; v++) {
        if (!s_counts(&m->a->views[v]))
            continue;
        memset(m->visited + lo, 0, hi - lo);
        s_augment(m, v, lo, hi);
    }
}

static void s_stale_text(const cairn_change_t *c, const cairn_approval_view_t *v, char *buf,
                         size_t len)
{
    const cairn_change_approval_t *a = v->src;
    if (*a->commit_sha)
        cairn_format(buf, len, "%s approved commit %.12s, but %s is now at commit %.12s", a->user,
                     a->commit_sha, c->id, c->commit_sha);
    else
        cairn_format(buf, len,
                     "%s approved before any commit was known, and %s is now at commit %.12s",
                     a->user, c->id, c->commit_sha);
}

/* Whether rule is in force for the change type: a change type with its own
 * `approvals:` replaces the normal rules; a standard change without them is
 * pre-approved. ct is the policy's definition of the type (or NULL). */
static bool s_in_force(const cairn_change_type_t *ct, bool standard,
                       const cairn_approval_rule_t *rule)
{
    if (ct && ct->has_approvals)
        return cairn_strv_contains(&ct->approvals, rule->id);
    if (standard)
        return false;
    return !rule->change_type_only;
}

static void s_expired_text(const cairn_policy_t *p, const cairn_facts_t *f,
                           const cairn_approval_view_t *v, char *buf, size_t len)
{
    char at[40], until[40];
    if (v->src->at_ms <= 0) {
        cairn_format(buf, len, "%s's approval carries no time, so its expiry cannot be checked",
                     v->src->user);
        return;
    }
    cairn_tz_format(p->tz, v->src->at_ms, at);
    cairn_tz_format(p->tz, v->src->at_ms + v->expiry_ms, until);
    cairn_format(
        buf, len,
        "%s's approval of %s given %s expired at %s (approvals of %s-risk changes last %lldh)",
        v->src->user, f->change->id, at, until, cairn_risk_name(f->risk),
        (long long)(v->expiry_ms / 3600000));
}

static void s_unsigned_text(const cairn_policy_t *p, const cairn_facts_t *f,
                            const cairn_approval_view_t *v, char *buf, size_t len)
{
    const char *why = v->signature == CAIRN_SIG_NO_KEY ? "cannot be checked (no key for them)"
                                                       : "is not signed";
    cairn_format(buf, len,
                 "%s's approval of %s %s, and policy %s requires signed approvals for this "
                 "%s-risk change (approvals.require_signed); approve with `cairn approve --key`",
                 v->src->user, f->change->id, why, p->name, cairn_risk_name(f->risk));
}

void cairn_approvals_void_reason(const cairn_policy_t *p, const cairn_facts_t *f,
                                 const cairn_approval_view_t *v, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    if (!v->void_rule)
        return;
    if (strcmp(v->void_rule, "new_commit") == 0)
        s_stale_text(f->change, v, buf, len);
    else if (strcmp(v->void_rule, "superseded") == 0)
        cairn_format(buf, len,
                     "%s decided again later (ledger index %llu); only the latest decision counts",
                     v->src->user, (unsigned long long)v->superseded_by);
    else if (strcmp(v->void_rule, "expiry") == 0)
        s_expired_text(p, f, v, buf, len);
    else if (strcmp(v->void_rule, "signature") == 0)
        cairn_signature_check(p, f->change, v->src, buf, len);
    else if (strcmp(v->void_rule, "unsigned") == 0)
        s_unsigned_text(p, f, v, buf, len);
    else if (v->void_sod)
        cairn_sod_violated(p, v->void_sod, f->change, v->src->user, buf, len);
}

/* Fills the open slots of the applying rules with the valid grants (a
 * maximum matching) and records who filled what. */
static int s_fill_slots(const cairn_policy_t *p, cairn_arena_t *arena, cairn_approvals_t *a,
                        size_t persons)
{
    s_match_t m = {.p = p, .a = a};
    size_t *rule_start = NULL;

    /* Nobody can fill more slots than there are people, so larger counts
     * need not be materialized. */
    size_t total = 0;
    for (size_t r = 0; r < a->n_rules; r++)
        if (a->rules[r].applies != CAIRN_WHEN_NO)
            for (size_t s = 0; s < a->rules[r].rule->n_slots; s++)
                total += a->rules[r].rule->slots[s].count < persons
                             ? a->rules[r].rule->slots[s].count
                             : persons;
    m.units = cairn_arena_alloc(arena, (total ? total : 1) * sizeof *m.units);
    m.visited = cairn_arena_alloc(arena, total ? total : 1);
    rule_start = cairn_arena_alloc(arena, (a->n_rules + 1) * sizeof *rule_start);
    if (!m.units || !m.visited || !rule_start)
        return -ENOMEM;
    for (size_t r = 0; r < a->n_rules; r++) {
        rule_start[r] = m.n_units;
        if (a->rules[r].applies == CAIRN_WHEN_NO)
            continue;
        for (size_t s = 0; s < a->rules[r].rule->n_slots; s++) {
            uint32_t n = a->rules[r].rule->slots[s].count;
            for (uint32_t k = 0; k < n && k < persons; k++)
                m.units[m.n_units++] = (s_unit_t){r, s, -1};
        }
    }
    rule_start[a->n_rules] = m.n_units;

    if (p->distinct_persons) {
        s_match(&m, 0, m.n_units);
    } else {
        for (size_t r = 0; r < a->n_rules; r++)
            s_match(&m, rule_start[r], rule_start[r + 1]);
    }

    for (size_t u = 0; u < m.n_units; u++) {
        s_unit_t *unit = &m.units[u];
        if (unit->owner < 0)
            continue;
        cairn_rule_standing_t *st = &a->rules[unit->rule];
        st->have[unit->slot]++;
        cairn_approval_view_t *v = &a->views[unit->owner];
        if (!v->counted_rule) {
            v->counted_rule = st->rule->id;
            v->counted_role = s_role_held(p, &st->rule->slots[unit->slot], a, v, &v->delegation);
            if (v->expires_ms && (!a->expires_at_ms || v->expires_ms < a->expires_at_ms)) {
                a->expires_at_ms = v->expires_ms;
                a->expires_first = v;
            }
        }
    }
    return 0;
}

int cairn_approvals_evaluate(const cairn_policy_t *p, const cairn_facts_t *f, cairn_arena_t *arena,
                             cairn_approvals_t *out)
{
    int rc = -ENOMEM;
    const cairn_change_t *c = f->change;
    cairn_approvals_t a;
    memset(&a, 0, sizeof a);

    a.views = cairn_arena_alloc(arena, (c->n_approvals ? c->n_approvals : 1) * sizeof *a.views);
    a.rules =
        cairn_arena_alloc(arena, (p->n_approval_rules ? p->n_approval_rules : 1) * sizeof *a.rules);
    if (!a.views || !a.rules)
        return rc;

    size_t persons = 0;
    int64_t expiry = cairn_policy_expiry_ms(p, f->risk);
    a.signed_required =
        p->require_signed && (cairn_when_empty(&p->require_signed_when) ||
                              cairn_when_match(&p->require_signed_when, f) != CAIRN_WHEN_NO);
    for (size_t i = 0; i < c->n_approvals; i++) {
        cairn_approval_view_t *v = &a.views[a.n_views++];
        v->src = &c->approvals[i];
        v->signature = (int)cairn_signature_check(p, c, v->src, NULL, 0);
        if (p->invalidate_on_new_commit && *c->commit_sha &&
            !cairn_change_is_commit(c, v->src->commit_sha)) {
            v->void_rule = "new_commit";
            continue;
        }
        for (size_t j = i + 1; j < c->n_approvals && !v->void_rule; j++)
            if (strcmp(c->approvals[j].user, v->src->user) == 0) {
                v->void_rule = "superseded";
                v->superseded_by = c->approvals[j].index;
            }
        if (v->void_rule)
            continue;
        for (size_t r = 0; r < p->n_sod && !v->void_rule; r++) {
            const cairn_sod_rule_t *rule = &p->sod[r];
            if (strcmp(rule->role, "approver") == 0 &&
                cairn_sod_violated(p, rule, c, v->src->user, NULL, 0)) {
                v->void_rule = rule->id;
                v->void_sod = rule;
                a.any_sod_void = true;
            }
        }
        if (!v->void_rule && v->signature == CAIRN_SIG_INVALID) {
            v->void_rule = "signature";
            a.any_forged = true;
        }
        if (!v->void_rule && !v->src->rejected && a.signed_required &&
            v->signature != CAIRN_SIG_VALID)
            v->void_rule = "unsigned";
        if (!v->void_rule && !v->src->rejected && expiry > 0) {
            if (v->src->at_ms > 0)
                cairn_facts_until(f, v->src->at_ms + expiry);
            if (v->src->at_ms <= 0 || v->src->at_ms + expiry <= f->now_ms) {
                v->void_rule = "expiry";
                v->expiry_ms = expiry;
            } else {
                v->expires_ms = v->src->at_ms + expiry;
            }
        }
        if (!v->void_rule && v->src->rejected)
            a.any_rejected = true;
        if (s_counts(v))
            persons++;
    }

    const cairn_change_type_t *ct = cairn_policy_change_type(p, f->change_type);
    bool standard = f->change_type && strcmp(f->change_type, "standard") == 0;
    for (size_t i = 0; i < p->n_approval_rules; i++) {
        const cairn_approval_rule_t *rule = &p->approval_rules[i];
        if (!s_in_force(ct, standard, rule))
            continue;
        cairn_rule_standing_t *st = &a.rules[a.n_rules++];
        st->rule = rule;
        st->applies =
            cairn_when_empty(&rule->when) ? CAIRN_WHEN_YES : cairn_when_match(&rule->when, f);
        if (!(st->have =
                  cairn_arena_alloc(arena, (rule->n_slots ? rule->n_slots : 1) * sizeof *st->have)))
            return -ENOMEM;
    }

    if ((rc = s_fill_slots(p, arena, &a, persons)) < 0)
        return rc;
    a.satisfied = true;
    for (size_t r = 0; r < a.n_rules; r++)
        if (a.rules[r].applies != CAIRN_WHEN_NO)
            for (size_t s = 0; s < a.rules[r].rule->n_slots; s++)
                if (a.rules[r].have[s] < a.rules[r].rule->slots[s].count)
                    a.satisfied = false;

    *out = a;
    return 0;
}

/* "dev or tech_lead" */
static void s_roles_text(const cairn_strv_t *roles, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < roles->count && used < len; i++) {
        const char *sep = i == 0 ? "" : (i + 1 == roles->count ? " or " : ", ");
        int n = cairn_format(buf + used, len - used, "%s%s", sep, roles->items[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* "erin (dev, signed), sam (security, via servicenow, authenticated by
 * webhook-signature)" for the approvals that fill a rule. */
static void s_approvers_text(const cairn_approvals_t *a, const char *rule_id, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < a->n_views && used < len; i++) {
        const cairn_approval_view_t *v = &a->views[i];
        if (!v->counted_rule || strcmp(v->counted_rule, rule_id) != 0)
            continue;
        char via[200] = "";
        const char *how = v->src->via ? v->src->via : "";
        const char *paren = strstr(how, " (authenticated by ");
        if (paren && cairn_approval_via_itsm_authenticated(how))
            cairn_format(via, sizeof via, ", via %.*s, %.*s", (int)(paren - how), how,
                         (int)(strlen(paren) - 3), paren + 2);
        int n = cairn_format(buf + used, len - used, "%s%s (%s%s%s)", used ? ", " : "",
                             v->src->user, v->counted_role ? v->counted_role : "?",
                             v->signature == CAIRN_SIG_VALID ? ", signed" : "", via);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static int s_explain_sod(const cairn_approvals_t *a, const cairn_policy_t *p,
                         const cairn_facts_t *f, cairn_findings_t *out)
{
    int rc = 0;
    const cairn_change_t *c = f->change;
    for (size_t r = 0; r < p->n_sod && rc == 0; r++) {
        const cairn_sod_rule_t *rule = &p->sod[r];
        if (strcmp(rule->role, "approver") != 0)
            continue;
        bool hit = false;
        for (size_t i = 0; i < a->n_views && rc == 0; i++) {
            const cairn_approval_view_t *view = &a->views[i];
            if (!view->void_rule || strcmp(view->void_rule, rule->id) != 0)
                continue;
            hit = true;
            char why[256];
            why[0] = '\0';
            if (out->render)
                cairn_approvals_void_reason(p, f, view, why, sizeof why);
            /* Still blocking while the rules are unmet; ignored once they are. */
            rc = a->satisfied ? cairn_findings_reason(out, rule->id, CAIRN_RESULT_VOID,
                                                      "%s; the approval is ignored", why)
                              : cairn_findings_reason(out, rule->id, CAIRN_RESULT_FAIL, "%s", why);
        }
        if (!hit && rc == 0)
            rc = cairn_findings_reason(out, rule->id, CAIRN_RESULT_PASS,
                                       "no approval of %s breaks %s", c->id, rule->id);
    }
    return rc;
}

/* One reason per signed approval, and per approval voided for its
 * signature or for being unsigned where signatures are required. */
static int s_explain_signatures(const cairn_approvals_t *a, const cairn_policy_t *p,
                                const cairn_facts_t *f, cairn_findings_t *out)
{
    int rc = 0;
    for (size_t i = 0; i < a->n_views && rc == 0; i++) {
        const cairn_approval_view_t *v = &a->views[i];
        const char *vr = v->void_rule ? v->void_rule : "";
        bool bad = strcmp(vr, "signature") == 0, missing = strcmp(vr, "unsigned") == 0;
        char why[400];
        why[0] = '\0';
        if (bad || missing) {
            if (out->render)
                cairn_approvals_void_reason(p, f, v, why, sizeof why);
            cairn_result_t r = a->satisfied ? CAIRN_RESULT_VOID
                               : bad        ? CAIRN_RESULT_FAIL
                                            : CAIRN_RESULT_MISSING;
            rc = cairn_findings_reason(out, vr, r, "%s", why);
        } else if (v->signature == CAIRN_SIG_VALID) {
            rc = cairn_findings_reason(out, "signature", CAIRN_RESULT_PASS,
                                       "%s's %s of %s is signed with %s's key %s", v->src->user,
                                       v->src->rejected ? "rejection" : "approval", f->change->id,
                                       v->src->user, v->src->key);
        } else if (v->signature == CAIRN_SIG_NO_KEY) {
            if (out->render)
                cairn_signature_check(p, f->change, v->src, why, sizeof why);
            rc = cairn_findings_reason(out, "signature", CAIRN_RESULT_SKIP, "%s", why);
        }
    }
    return rc;
}

static int s_explain_rules(const cairn_approvals_t *a, const cairn_facts_t *f,
                           cairn_findings_t *out)
{
    int rc = 0;
    const cairn_change_t *c = f->change;
    bool render = out->render;
    if (a->n_rules == 0)
        return cairn_findings_reason(out, "approvals", CAIRN_RESULT_PASS,
                                     "no approval rule applies to %s", c->id);
    for (size_t r = 0; r < a->n_rules && rc == 0; r++) {
        const cairn_rule_standing_t *st = &a->rules[r];
        const char *id = st->rule->id;
        if (st->applies == CAIRN_WHEN_NO) {
            rc = cairn_findings_reason(out, id, CAIRN_RESULT_SKIP, "%s does not apply to %s%s%s",
                                       id, c->id, *f->environment ? " in " : "", f->environment);
            continue;
        }
        const char *assumed =
            st->applies == CAIRN_WHEN_UNKNOWN
                ? " (it applies because the change does not state its environment or service)"
                : "";
        bool met = true;
        for (size_t s = 0; s < st->rule->n_slots; s++)
            met = met && st->have[s] >= st->rule->slots[s].count;
        if (met) {
            char who[512];
            who[0] = '\0';
            if (render)
                s_approvers_text(a, id, who, sizeof who);
            rc = cairn_findings_reason(out, id, CAIRN_RESULT_PASS,
                                       "%s is satisfied: approved by %s%s", id, who, assumed);
            continue;
        }
        for (size_t s = 0; s < st->rule->n_slots && rc == 0; s++) {
            const cairn_approval_slot_t *slot = &st->rule->slots[s];
            if (st->have[s] >= slot->count)
                continue;
            uint32_t missing = slot->count - st->have[s];
            char roles[512];
            roles[0] = '\0';
            if (render)
                s_roles_text(&slot->from, roles, sizeof roles);
            rc = cairn_findings_reason(out, id, CAIRN_RESULT_MISSING,
                                       "%s needs %u more approval%s from %s (%u of %u given)%s", id,
                                       missing, missing == 1 ? "" : "s", roles, st->have[s],
                                       slot->count, assumed);
            if (rc == 0)
                rc = cairn_findings_open(out, "approval", id, &slot->from, missing,
                                         "%u more approval%s from %s for %s", missing,
                                         missing == 1 ? "" : "s", roles, c->id);
        }
    }
    return rc;
}

int cairn_approvals_explain(const cairn_approvals_t *a, const cairn_policy_t *p,
                            const cairn_facts_t *f, cairn_findings_t *out,
                            Cairn__V1__Decision *decision)
{
    int rc = 0;
    const cairn_change_t *c = f->change;
    if ((rc = s_explain_sod(a, p, f, out)) < 0 || (rc = s_explain_signatures(a, p, f, out)) < 0)
        return rc;
    for (size_t i = 0; i < a->n_views; i++) {
        const cairn_approval_view_t *view = &a->views[i];
        const cairn_change_approval_t *src = view->src;
        if (view->void_rule &&
            (strcmp(view->void_rule, "new_commit") == 0 || strcmp(view->void_rule, "expiry") == 0 ||
             strcmp(view->void_rule, "superseded") == 0)) {
            char why[256];
            why[0] = '\0';
            if (out->render)
                cairn_approvals_void_reason(p, f, view, why, sizeof why);
            rc = cairn_findings_reason(out, view->void_rule, CAIRN_RESULT_VOID, "%s", why);
        } else if (view->delegation && view->counted_rule) {
            char until[40];
            until[0] = '\0';
            if (out->render)
                cairn_tz_format(p->tz, view->delegation->until_ms, until);
            rc = cairn_findings_reason(out, "delegation", CAIRN_RESULT_PASS,
                                       "%s approved as %s for %s, who delegated the role to "
                                       "%s until %s",
                                       src->user, view->counted_role, view->delegation->from,
                                       src->user, until);
        } else if (!view->void_rule && src->rejected)
            rc = cairn_findings_reason(out, "rejection", CAIRN_RESULT_FAIL,
                                       "%s rejected %s at commit %.12s", src->user, c->id,
                                       src->commit_sha);
        else if (s_counts(view) && !cairn_policy_user_known(p, src->user))
            rc = cairn_findings_reason(
                out, "roles", CAIRN_RESULT_SKIP,
                "%s holds no role in policy %s, so the approval does not count", src->user,
                p->name);
        if (rc < 0)
            return rc;
    }
    if ((rc = s_explain_rules(a, f, out)) < 0)
        return rc;
    if (a->any_rejected || (!a->satisfied && (a->any_sod_void || a->any_forged)))
        *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_DENY);
    else if (!a->satisfied)
        *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_PENDING);
    return 0;
}

int cairn_approvals_messages(const cairn_approvals_t *a, const cairn_policy_t *p,
                             const cairn_facts_t *f, cairn_arena_t *arena,
                             Cairn__V1__Approval ***out, size_t *n_out)
{
    Cairn__V1__Approval **list =
        cairn_arena_alloc(arena, (a->n_views ? a->n_views : 1) * sizeof *list);
    if (!list)
        return -ENOMEM;
    for (size_t i = 0; i < a->n_views; i++) {
        const cairn_approval_view_t *view = &a->views[i];
        const cairn_change_approval_t *src = view->src;
        bool rejected = !view->void_rule && src->rejected;
        Cairn__V1__Approval *msg = cairn_arena_alloc(arena, sizeof *msg);
        if (!msg)
            return -ENOMEM;
        cairn__v1__approval__init(msg);
        msg->user = src->user;
        msg->role = (char *)(view->counted_role ? view->counted_role : src->role);
        msg->commit_sha = src->commit_sha;
        msg->index = src->index;
        msg->void_ = view->void_rule || rejected;
        msg->void_rule = (char *)(rejected ? "rejected" : (view->void_rule ? view->void_rule : ""));
        char why[512];
        why[0] = '\0';
        if (rejected)
            cairn_format(why, sizeof why, "%s rejected the change", src->user);
        else if (view->void_rule)
            cairn_approvals_void_reason(p, f, view, why, sizeof why);
        if (!(msg->void_reason = cairn_arena_strdup(arena, why)))
            return -ENOMEM;
        msg->signature_verified = view->signature == CAIRN_SIG_VALID;
        msg->key = src->key ? src->key : "";
        msg->via = src->via ? src->via : "";
        list[i] = msg;
    }
    *out = list;
    *n_out = a->n_views;
    return 0;
}
