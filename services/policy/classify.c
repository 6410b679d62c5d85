/* Risk classification (see classify.h). */
#include "classify.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "evaluate.h"
#include "format.h"
#include "glob.h"

/* Appends s to v unless it is there; v's array lives in arena. */
static int s_push_str(cairn_arena_t *arena, cairn_strv_t *v, const char *s)
{
    if (cairn_strv_contains(v, s))
        return 0;
    const char **grown = cairn_arena_grow(arena, (void *)v->items, v->count * sizeof *grown,
                                          (v->count + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    grown[v->count++] = s;
    v->items = grown;
    return 0;
}

static int s_add_class(cairn_arena_t *arena, cairn_classification_t *k, const char *name,
                       const char *path, const char *glob)
{
    for (size_t i = 0; i < k->n_data_classes; i++)
        if (strcmp(k->data_classes[i], name) == 0)
            return 0;
    size_t n = k->n_data_classes;
    char **a = cairn_arena_grow(arena, k->data_classes, n * sizeof *a, (n + 1) * sizeof *a);
    if (!a)
        return -ENOMEM;
    k->data_classes = a;
    cairn_class_source_t *b =
        cairn_arena_grow(arena, k->class_sources, n * sizeof *b, (n + 1) * sizeof *b);
    if (!b)
        return -ENOMEM;
    k->class_sources = b;
    a[n] = (char *)name;
    b[n] = (cairn_class_source_t){path, glob};
    k->n_data_classes++;
    return 0;
}

static int s_data_classes(const cairn_policy_t *p, const cairn_change_t *c, cairn_arena_t *arena,
                          cairn_classification_t *k)
{
    int rc = 0;
    for (size_t i = 0; i < c->n_data_classes && rc == 0; i++)
        rc = s_add_class(arena, k, c->data_classes[i], NULL, NULL);
    for (size_t d = 0; d < p->n_data_classes && rc == 0; d++) {
        const cairn_data_class_t *dc = &p->data_classes[d];
        for (size_t g = 0; g < dc->paths.count; g++) {
            const char *hit = NULL;
            for (size_t i = 0; i < c->n_paths && !hit; i++)
                if (cairn_glob_match(dc->paths.items[g], c->paths[i]))
                    hit = c->paths[i];
            if (hit) {
                rc = s_add_class(arena, k, dc->name, hit, dc->paths.items[g]);
                break;
            }
        }
    }
    return rc;
}

int cairn_classify(const cairn_policy_t *p, const cairn_change_t *c, const char *env,
                   const char *change_type, cairn_arena_t *arena, cairn_classification_t *out)
{
    cairn_classification_t k;
    memset(&k, 0, sizeof k);
    k.stated = CAIRN_RISK_UNSET;
    int rc = -ENOMEM;
    if (!(k.matched =
              cairn_arena_alloc(arena, (p->n_classify ? p->n_classify : 1) * sizeof *k.matched)))
        return rc;
    if ((rc = s_data_classes(p, c, arena, &k)) < 0)
        return rc;
    if (*c->risk) {
        k.stated = cairn_risk_parse(c->risk);
        k.stated_bad = k.stated == CAIRN_RISK_UNSET;
    }
    cairn_risk_t max = CAIRN_RISK_UNSET;
    for (size_t i = 0; i < p->n_classify; i++) {
        const cairn_classify_rule_t *r = &p->classify[i];
        cairn_risk_t so_far = max > k.stated ? max : k.stated;
        cairn_facts_t f = {
            .change = c,
            .environment = env,
            .risk = so_far != CAIRN_RISK_UNSET ? so_far : p->classify_default,
            .change_type = change_type,
            .tags = &k.tags,
            .data_classes = k.data_classes,
            .n_data_classes = k.n_data_classes,
        };
        k.matched[i] = cairn_when_match(&r->when, &f);
        if (k.matched[i] == CAIRN_WHEN_NO)
            continue;
        if (r->risk > max)
            max = r->risk;
        for (size_t t = 0; t < r->tags.count; t++)
            if ((rc = s_push_str(arena, &k.tags, r->tags.items[t])) < 0)
                return rc;
    }
    cairn_risk_t classified = max != CAIRN_RISK_UNSET ? max : p->classify_default;
    k.risk = classified > k.stated ? classified : k.stated;
    rc = 0;
    if (max == CAIRN_RISK_UNSET && classified == k.risk)
        rc = s_push_str(arena, &k.risk_rules, "classify.default");
    for (size_t i = 0; i < p->n_classify && rc == 0; i++)
        if (k.matched[i] != CAIRN_WHEN_NO && p->classify[i].risk == k.risk)
            rc = s_push_str(arena, &k.risk_rules, p->classify[i].id);
    if (rc == 0 && k.stated == k.risk)
        rc = s_push_str(arena, &k.risk_rules, "risk:stated");
    if (rc < 0)
        return rc;
    *out = k;
    return 0;
}

static void s_join(const cairn_strv_t *v, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < v->count && used < len; i++) {
        const char *sep = i == 0 ? "" : (i + 1 == v->count ? " and " : ", ");
        int n = cairn_format(buf + used, len - used, "%s%s", sep, v->items[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int cairn_classify_explain(const cairn_classification_t *k, const cairn_policy_t *p,
                           const cairn_change_t *c, cairn_findings_t *out,
                           Cairn__V1__Decision *decision)
{
    int rc = 0;
    for (size_t i = 0; i < k->n_data_classes && rc == 0; i++) {
        const cairn_class_source_t *src = &k->class_sources[i];
        char matched[512];
        const char *from = "stated by the change's events";
        if (out->render && src->path) {
            cairn_format(matched, sizeof matched, "%s matches data_classes.%s (%s)", src->path,
                         k->data_classes[i], src->glob);
            from = matched;
        }
        rc = cairn_findings_reason(out, "data_classes", CAIRN_RESULT_PASS, "%s touches %s data: %s",
                                   c->id, k->data_classes[i], from);
    }
    for (size_t i = 0; i < p->n_classify && rc == 0; i++) {
        const cairn_classify_rule_t *r = &p->classify[i];
        if (k->matched[i] == CAIRN_WHEN_NO) {
            rc = cairn_findings_reason(out, r->id, CAIRN_RESULT_SKIP, "%s does not match %s", r->id,
                                       c->id);
            continue;
        }
        char tags[256];
        tags[0] = '\0';
        if (out->render && r->tags.count) {
            char list[200];
            s_join(&r->tags, list, sizeof list);
            cairn_format(tags, sizeof tags, ", tags %s", list);
        }
        rc = cairn_findings_reason(
            out, r->id, CAIRN_RESULT_PASS, "%s matches %s: risk %s%s%s", r->id, c->id,
            cairn_risk_name(r->risk), tags,
            k->matched[i] == CAIRN_WHEN_UNKNOWN
                ? " (assumed: the change does not state its environment or service)"
                : "");
    }
    if (rc < 0)
        return rc;
    if (k->stated_bad) {
        *decision = cairn_decision_worst(*decision, CAIRN__V1__DECISION__DECISION_DENY);
        return cairn_findings_reason(
            out, "risk", CAIRN_RESULT_FAIL,
            "%s states risk '%s', which is not one of low, medium, high, critical; the change "
            "cannot be classified",
            c->id, c->risk);
    }
    char rules[512];
    rules[0] = '\0';
    if (out->render)
        s_join(&k->risk_rules, rules, sizeof rules);
    return cairn_findings_reason(out, "risk", CAIRN_RESULT_PASS, "%s is %s risk (set by %s)", c->id,
                                 cairn_risk_name(k->risk), rules);
}
