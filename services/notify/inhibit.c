/* Inhibition (see inhibit.h): counts of firing sources per rule and per
 * combination of `equal` values, in czmq hash tables. */
#include "inhibit.h"

#include <czmq.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const cairn_inhibit_rule_t *rule; /* from the routes file */
    zhashx_t *sources;                /* equal-values key -> count (intptr) */
    zhashx_t *both;                   /* same, for sources that also match the target side */
} s_rule_t;

struct cairn_inhibitor_t {
    s_rule_t *rules; /* one per inhibit rule */
    size_t n;
};

int cairn_inhibitor_new(const cairn_routes_t *routes, cairn_inhibitor_t **out)
{
    cairn_inhibitor_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->rules = calloc(routes->n_inhibit + 1, sizeof *self->rules);
    if (!self->rules) {
        free(self);
        return -ENOMEM;
    }
    for (size_t i = 0; i < routes->n_inhibit; i++) {
        s_rule_t *r = &self->rules[self->n++];
        r->rule = routes->inhibit[i];
        r->sources = zhashx_new();
        r->both = zhashx_new();
        if (!r->sources || !r->both) {
            cairn_inhibitor_destroy(&self);
            return -ENOMEM;
        }
    }
    *out = self;
    return 0;
}

void cairn_inhibitor_destroy(cairn_inhibitor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_inhibitor_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        zhashx_destroy(&self->rules[i].sources);
        zhashx_destroy(&self->rules[i].both);
    }
    free(self->rules);
    free(self);
    *self_p = NULL;
}

/* "v1\x1fv2\x1f..." for the rule's equal labels. */
static char *s_key(const cairn_inhibit_rule_t *rule, const cairn_labels_t *labels)
{
    size_t len = 1;
    for (size_t i = 0; i < rule->n_equal; i++)
        len += strlen(cairn_labels_get(labels, rule->equal[i])) + 1;
    char *key = malloc(len);
    if (!key)
        return NULL;
    size_t pos = 0;
    for (size_t i = 0; i < rule->n_equal; i++) {
        const char *v = cairn_labels_get(labels, rule->equal[i]);
        size_t n = strlen(v);
        memcpy(key + pos, v, n);
        pos += n;
        key[pos++] = '\x1f';
    }
    key[pos] = '\0';
    return key;
}

static intptr_t s_count(zhashx_t *h, const char *key)
{
    return (intptr_t)zhashx_lookup(h, key);
}

static int s_bump(zhashx_t *h, const char *key, intptr_t delta)
{
    intptr_t n = s_count(h, key) + delta;
    if (n <= 0) {
        zhashx_delete(h, key);
        return 0;
    }
    /* Counts live in the value pointer itself; the table never frees them. */
    if (zhashx_lookup(h, key))
        zhashx_update(h, key, (void *)n);
    else if (zhashx_insert(h, key, (void *)n) != 0)
        return -ENOMEM;
    return 0;
}

int cairn_inhibitor_track(cairn_inhibitor_t *self, const cairn_labels_t *labels, bool firing)
{
    for (size_t i = 0; i < self->n; i++) {
        s_rule_t *r = &self->rules[i];
        if (!cairn_matchers_match(r->rule->source, labels))
            continue;
        char *key = s_key(r->rule, labels);
        if (!key)
            return -ENOMEM;
        int rc = s_bump(r->sources, key, firing ? 1 : -1);
        if (rc == 0 && cairn_matchers_match(r->rule->target, labels))
            rc = s_bump(r->both, key, firing ? 1 : -1);
        free(key);
        if (rc < 0)
            return rc;
    }
    return 0;
}

bool cairn_inhibitor_inhibited(const cairn_inhibitor_t *self, const cairn_labels_t *labels)
{
    for (size_t i = 0; i < self->n; i++) {
        const s_rule_t *r = &self->rules[i];
        if (!cairn_matchers_match(r->rule->target, labels))
            continue;
        char *key = s_key(r->rule, labels);
        if (!key)
            return false;
        intptr_t n = s_count(r->sources, key);
        if (cairn_matchers_match(r->rule->source, labels))
            n -= s_count(r->both, key);
        free(key);
        if (n > 0)
            return true;
    }
    return false;
}
