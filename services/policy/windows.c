/* Freeze and maintenance windows (see windows.h). */
#include "windows.h"

#include <stdio.h>
#include <string.h>

#include "evaluate.h"
#include "format.h"

bool cairn_window_active(const cairn_policy_t *p, const cairn_window_t *w, int64_t now_ms,
                         int64_t *start_ms, int64_t *end_ms)
{
    *start_ms = *end_ms = 0;
    if (!w->cron) {
        if (now_ms < w->to_ms) {
            *start_ms = w->from_ms;
            *end_ms = w->to_ms;
        }
        return now_ms >= w->from_ms && now_ms < w->to_ms;
    }
    int64_t start;
    if (cairn_cron_last(&w->schedule, p->tz, now_ms, w->duration_ms, &start) &&
        now_ms < start + w->duration_ms) {
        *start_ms = start;
        *end_ms = start + w->duration_ms;
        return true;
    }
    if (cairn_cron_next(&w->schedule, p->tz, now_ms, 366, &start)) {
        *start_ms = start;
        *end_ms = start + w->duration_ms;
    }
    return false;
}

/* Notes when what a window check found may change: at a one-off window's
 * start and end; for a recurring one at its next occurrence and, while it
 * is in force, at its end. */
static void s_until(const cairn_policy_t *p, const cairn_window_t *w, const cairn_facts_t *f,
                    bool active, int64_t end)
{
    if (!f->valid_until_ms)
        return;
    if (!w->cron) {
        cairn_facts_until(f, w->from_ms);
        cairn_facts_until(f, w->to_ms);
        return;
    }
    int64_t next;
    if (active)
        cairn_facts_until(f, end);
    if (cairn_cron_next(&w->schedule, p->tz, f->now_ms, 366, &next))
        cairn_facts_until(f, next);
    else
        cairn_facts_until(f, f->now_ms + 86400000LL); /* the search horizon moves */
}

/* Whether w covers the subject at this gate; *assumed when only because a
 * fact is unknown. */
static bool s_covers(const cairn_window_t *w, const cairn_facts_t *f, const char *gate,
                     bool *assumed)
{
    *assumed = false;
    if (w->gates.count && !cairn_strv_contains(&w->gates, gate))
        return false;
    const char *facts[2] = {f->environment, f->change->service};
    const cairn_strv_t *lists[2] = {&w->env, &w->service};
    for (int i = 0; i < 2; i++) {
        if (!lists[i]->count)
            continue;
        if (!facts[i] || !*facts[i])
            *assumed = true;
        else if (!cairn_strv_contains(lists[i], facts[i]))
            return false;
    }
    return true;
}

static void s_scope(const cairn_window_t *w, const cairn_facts_t *f, char *buf, size_t len)
{
    if (f->environment && *f->environment)
        cairn_format(buf, len, " to %s", f->environment);
    else if (w->env.count)
        cairn_format(buf, len, " (its environment is not stated, so %s applies)", w->id);
    else
        buf[0] = '\0';
}

int cairn_windows_check(const cairn_policy_t *p, const cairn_facts_t *f, const char *gate,
                        const cairn_change_kind_t *kind, cairn_findings_t *out,
                        Cairn__V1__Decision *decision)
{
    int rc = 0;
    const char *id = f->change->id;
    bool any_maint = false, in_maint = false;
    char maint_list[512];
    maint_list[0] = '\0';
    for (size_t i = 0; i < p->n_windows && rc == 0; i++) {
        const cairn_window_t *w = &p->windows[i];
        bool assumed;
        if (!s_covers(w, f, gate, &assumed)) {
            rc = cairn_findings_reason(out, w->id, CAIRN_RESULT_SKIP,
                                       "%s window %s does not cover %s%s%s", w->group, w->id, id,
                                       *f->environment ? " in " : "", f->environment);
            continue;
        }
        int64_t start, end;
        bool active = cairn_window_active(p, w, f->now_ms, &start, &end);
        s_until(p, w, f, active, end);
        char from[40], to[40], scope[200];
        from[0] = '\0';
        to[0] = '\0';
        scope[0] = '\0';
        if (out->render) {
            if (start) {
                cairn_tz_format(p->tz, start, from);
                cairn_tz_format(p->tz, end, to);
            }
            s_scope(w, f, scope, sizeof scope);
        }
        bool exempt = cairn_change_type_exempt(kind, w->group);
        if (strcmp(w->group, "freeze") == 0) {
            if (active && exempt)
                rc = cairn_findings_reason(out, w->id, CAIRN_RESULT_SKIP,
                                           "freeze %s is in force (%s to %s), but %s changes "
                                           "are exempt from freeze windows",
                                           w->id, from, to, kind->name);
            else if (active) {
                *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_DENY);
                rc = cairn_findings_reason(out, w->id, CAIRN_RESULT_FAIL,
                                           "%s cannot pass%s during freeze %s (%s to %s)", id,
                                           scope, w->id, from, to);
            } else if (start)
                rc = cairn_findings_reason(out, w->id, CAIRN_RESULT_PASS,
                                           "freeze %s is not in force (next %s to %s)", w->id, from,
                                           to);
            else
                rc = cairn_findings_reason(out, w->id, CAIRN_RESULT_PASS,
                                           "freeze %s is not in force", w->id);
            continue;
        }
        /* maintenance */
        if (exempt) {
            rc =
                cairn_findings_reason(out, w->id, CAIRN_RESULT_SKIP,
                                      "%s changes are exempt from maintenance windows", kind->name);
            continue;
        }
        any_maint = true;
        size_t used = strlen(maint_list);
        cairn_format(maint_list + used, sizeof maint_list - used, "%s%s", used ? ", " : "", w->id);
        if (active) {
            in_maint = true;
            rc = cairn_findings_reason(out, w->id, CAIRN_RESULT_PASS,
                                       "maintenance window %s is open (%s to %s)", w->id, from, to);
        }
    }
    if (rc == 0 && any_maint && !in_maint) {
        *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_DENY);
        rc = cairn_findings_reason(out, "maintenance", CAIRN_RESULT_FAIL,
                                   "%s may pass only inside a maintenance window (%s), and none "
                                   "is open",
                                   id, maint_list);
    }
    return rc;
}
