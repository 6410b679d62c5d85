/* Matching `when:` predicates against a change's facts (see predicates.h). */
#include "predicates.h"

#include <string.h>

#include "glob.h"

void cairn_facts_until(const cairn_facts_t *f, int64_t t)
{
    if (f->valid_until_ms && t > f->now_ms && t < *f->valid_until_ms)
        *f->valid_until_ms = t;
}

bool cairn_when_empty(const cairn_when_t *w)
{
    return !w->env.count && !w->service.count && !w->paths_any.count && !w->data_class_any.count &&
           !w->tags_any.count && !w->change_type.count && w->risk_min == CAIRN_RISK_UNSET &&
           w->risk_max == CAIRN_RISK_UNSET && !w->has_lines_changed_gt;
}

/* A fact that must be one of list; "" is unknown. */
static cairn_when_result_t s_one_of(const cairn_strv_t *list, const char *fact)
{
    if (!list->count)
        return CAIRN_WHEN_YES;
    if (!fact || !*fact)
        return CAIRN_WHEN_UNKNOWN;
    return cairn_strv_contains(list, fact) ? CAIRN_WHEN_YES : CAIRN_WHEN_NO;
}

static bool s_any_of(const cairn_strv_t *list, char *const *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (cairn_strv_contains(list, items[i]))
            return true;
    return false;
}

static bool s_any_glob(const cairn_strv_t *globs, char *const *paths, size_t n)
{
    for (size_t g = 0; g < globs->count; g++)
        for (size_t i = 0; i < n; i++)
            if (cairn_glob_match(globs->items[g], paths[i]))
                return true;
    return false;
}

static cairn_when_result_t s_and(cairn_when_result_t a, cairn_when_result_t b)
{
    if (a == CAIRN_WHEN_NO || b == CAIRN_WHEN_NO)
        return CAIRN_WHEN_NO;
    if (a == CAIRN_WHEN_UNKNOWN || b == CAIRN_WHEN_UNKNOWN)
        return CAIRN_WHEN_UNKNOWN;
    return CAIRN_WHEN_YES;
}

cairn_when_result_t cairn_when_match(const cairn_when_t *w, const cairn_facts_t *f)
{
    const cairn_change_t *c = f->change;
    cairn_when_result_t r = CAIRN_WHEN_YES;
    r = s_and(r, s_one_of(&w->env, f->environment));
    r = s_and(r, s_one_of(&w->service, c->service));
    r = s_and(r, s_one_of(&w->change_type, f->change_type));
    if (w->paths_any.count && !s_any_glob(&w->paths_any, c->paths, c->n_paths))
        r = CAIRN_WHEN_NO;
    char *const *classes = f->data_classes ? f->data_classes : c->data_classes;
    size_t n_classes = f->data_classes ? f->n_data_classes : c->n_data_classes;
    if (w->data_class_any.count && !s_any_of(&w->data_class_any, classes, n_classes))
        r = CAIRN_WHEN_NO;
    if (w->tags_any.count) {
        bool hit = false;
        for (size_t i = 0; f->tags && i < f->tags->count && !hit; i++)
            hit = cairn_strv_contains(&w->tags_any, f->tags->items[i]);
        if (!hit)
            r = CAIRN_WHEN_NO;
    }
    if (w->risk_min != CAIRN_RISK_UNSET && f->risk < w->risk_min)
        r = CAIRN_WHEN_NO;
    if (w->risk_max != CAIRN_RISK_UNSET && f->risk > w->risk_max)
        r = CAIRN_WHEN_NO;
    if (w->has_lines_changed_gt && (int64_t)c->lines_changed <= w->lines_changed_gt)
        r = CAIRN_WHEN_NO;
    return r;
}
