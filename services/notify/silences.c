/* Silences and acknowledgements (see silences.h): kept in memory for
 * matching and in the store as JSON, so a restart needs no replay. */
#include "silences.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "matcher.h"

/* Bounds so a flood of records cannot exhaust memory. */
#define S_MAX_SILENCES 10000
#define S_MAX_ACKS 100000

typedef struct {
    char *id;                   /* silence or ack id */
    cairn_matchers_t *matchers; /* what it applies to */
    char *change;               /* acks: the change (matchers narrow it) */
    char *who;                  /* created_by / acknowledged_by */
    int64_t starts_ms;          /* silences: start */
    int64_t ends_ms;            /* silences: end; acks: expiry (INT64_MAX: none) */
    int64_t created_ms;         /* acks: when */
} s_item_t;

typedef struct {
    s_item_t *items; /* unordered */
    size_t n;
    size_t cap;
} s_list_t;

struct cairn_silences_t {
    cairn_notify_store_t *store; /* persistence (not owned) */
    s_list_t silences;           /* by id */
    s_list_t acks;
};

static void s_item_free(s_item_t *it)
{
    free(it->id);
    free(it->change);
    free(it->who);
    cairn_matchers_destroy(&it->matchers);
    memset(it, 0, sizeof *it);
}

static void s_list_free(s_list_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        s_item_free(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* Replaces the item with the same id or appends. Takes ownership of *it. */
static int s_list_put(s_list_t *l, s_item_t *it, size_t max)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].id, it->id) == 0) {
            s_item_free(&l->items[i]);
            l->items[i] = *it;
            return 0;
        }
    if (l->n >= max)
        return CAIRN_ETOOLARGE;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        s_item_t *grown = realloc(l->items, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->n++] = *it;
    return 0;
}

static json_t *s_item_json(const s_item_t *it, const Cairn__V1__Matcher *const *m, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s}", "name", m[i]->name ? m[i]->name : "", "op",
                           m[i]->op ? m[i]->op : "", "value", m[i]->value ? m[i]->value : ""));
    if (!arr)
        return NULL;
    return json_pack("{s:s, s:o, s:s, s:s, s:I, s:I, s:I}", "id", it->id, "matchers", arr, "change",
                     it->change ? it->change : "", "who", it->who ? it->who : "", "starts",
                     (json_int_t)it->starts_ms, "ends", (json_int_t)it->ends_ms, "created",
                     (json_int_t)it->created_ms);
}

/* Builds the matchers of an item from (name, op, value) triples. */
static int s_matchers(s_item_t *it, const char *const *names, const char *const *ops,
                      const char *const *values, size_t n)
{
    it->matchers = cairn_matchers_new();
    if (!it->matchers)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        cairn_match_op_t op;
        if (cairn_match_op_parse(ops[i] ? ops[i] : "", &op) < 0)
            return CAIRN_EINVALID;
        int rc = cairn_matchers_add(it->matchers, names[i] ? names[i] : "", op,
                                    values[i] ? values[i] : "", NULL, 0);
        if (rc < 0)
            return rc == -ENOMEM ? rc : CAIRN_EINVALID;
    }
    return 0;
}

static int s_from_json(const json_t *j, s_item_t *it)
{
    memset(it, 0, sizeof *it);
    json_t *m = json_object_get(j, "matchers");
    size_t n = json_array_size(m);
    const char **names = calloc(n + 1, sizeof *names), **ops = calloc(n + 1, sizeof *ops),
               **values = calloc(n + 1, sizeof *values);
    int rc = -ENOMEM;
    if (!names || !ops || !values)
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(m, i);
        names[i] = json_string_value(json_object_get(e, "name"));
        ops[i] = json_string_value(json_object_get(e, "op"));
        values[i] = json_string_value(json_object_get(e, "value"));
    }
    const char *id = json_string_value(json_object_get(j, "id"));
    it->id = strdup(id ? id : "");
    const char *change = json_string_value(json_object_get(j, "change"));
    const char *who = json_string_value(json_object_get(j, "who"));
    it->change = strdup(change ? change : "");
    it->who = strdup(who ? who : "");
    it->starts_ms = json_integer_value(json_object_get(j, "starts"));
    it->ends_ms = json_integer_value(json_object_get(j, "ends"));
    it->created_ms = json_integer_value(json_object_get(j, "created"));
    if (!it->id || !it->change || !it->who)
        goto out;
    rc = s_matchers(it, names, ops, values, n);
out:
    free(names);
    free(ops);
    free(values);
    if (rc < 0)
        s_item_free(it);
    return rc;
}

typedef struct {
    cairn_silences_t *self; /* being loaded */
    bool acks;              /* which list */
} s_load_t;

static int s_load_one(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    s_load_t *l = arg;
    json_t *j = json_loadb(val, vlen, 0, NULL);
    s_item_t it;
    int rc = 0;
    if (j && s_from_json(j, &it) == 0) {
        rc = s_list_put(l->acks ? &l->self->acks : &l->self->silences, &it,
                        l->acks ? S_MAX_ACKS : S_MAX_SILENCES);
        if (rc < 0)
            s_item_free(&it);
        if (rc == CAIRN_ETOOLARGE)
            rc = 0;
    }
    json_decref(j);
    return rc;
}

int cairn_silences_new(cairn_notify_store_t *store, cairn_silences_t **out)
{
    cairn_silences_t *self = calloc(1, sizeof *self);
    int rc;
    if (!self)
        return -ENOMEM;
    self->store = store;
    s_load_t l = {self, false};
    if ((rc = cairn_notify_store_each(store, CAIRN_DB_SILENCES, NULL, s_load_one, &l)) < 0)
        goto out;
    l.acks = true;
    if ((rc = cairn_notify_store_each(store, CAIRN_DB_ACKS, NULL, s_load_one, &l)) < 0)
        goto out;
    *out = self;
    self = NULL;
out:
    cairn_silences_destroy(&self);
    return rc;
}

void cairn_silences_destroy(cairn_silences_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_list_free(&(*self_p)->silences);
    s_list_free(&(*self_p)->acks);
    free(*self_p);
    *self_p = NULL;
}

static int s_apply(cairn_silences_t *self, bool ack, s_item_t *it, Cairn__V1__Matcher *const *m,
                   size_t n)
{
    const char **names = calloc(n + 1, sizeof *names), **ops = calloc(n + 1, sizeof *ops),
               **values = calloc(n + 1, sizeof *values);
    json_t *j = NULL;
    int rc = -ENOMEM;
    if (!names || !ops || !values || !it->id || !it->change || !it->who)
        goto out;
    for (size_t i = 0; i < n; i++) {
        names[i] = m[i]->name;
        ops[i] = m[i]->op;
        values[i] = m[i]->value;
    }
    if ((rc = s_matchers(it, names, ops, values, n)) < 0)
        goto out;
    if (!(j = s_item_json(it, (const Cairn__V1__Matcher *const *)m, n))) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = cairn_notify_store_put_json(self->store, ack ? CAIRN_DB_ACKS : CAIRN_DB_SILENCES,
                                          it->id, j)) < 0)
        goto out;
    rc = s_list_put(ack ? &self->acks : &self->silences, it, ack ? S_MAX_ACKS : S_MAX_SILENCES);
out:
    json_decref(j);
    free(names);
    free(ops);
    free(values);
    if (rc < 0)
        s_item_free(it);
    return rc;
}

int cairn_silences_apply_silence(cairn_silences_t *self, const Cairn__V1__Silence *s,
                                 int64_t now_ms)
{
    (void)now_ms;
    if (!s->id || !*s->id || s->n_matchers == 0 || s->ends_at_ms <= 0)
        return CAIRN_EINVALID;
    s_item_t it = {.id = strdup(s->id),
                   .change = strdup(""),
                   .who = strdup(s->created_by ? s->created_by : ""),
                   .starts_ms = s->starts_at_ms,
                   .ends_ms = s->ends_at_ms,
                   .created_ms = s->created_at_ms};
    return s_apply(self, false, &it, s->matchers, s->n_matchers);
}

int cairn_silences_apply_ack(cairn_silences_t *self, const Cairn__V1__Acknowledgement *a,
                             int64_t now_ms)
{
    if (!a->id || !*a->id || !a->change_id || !*a->change_id)
        return CAIRN_EINVALID;
    s_item_t it = {.id = strdup(a->id),
                   .change = strdup(a->change_id),
                   .who = strdup(a->acknowledged_by ? a->acknowledged_by : ""),
                   .starts_ms = 0,
                   .ends_ms = a->expires_at_ms > 0 ? a->expires_at_ms : INT64_MAX,
                   .created_ms = a->created_at_ms > 0 ? a->created_at_ms : now_ms};
    return s_apply(self, true, &it, a->matchers, a->n_matchers);
}

const char *cairn_silences_silenced(const cairn_silences_t *self, const cairn_labels_t *labels,
                                    int64_t now_ms)
{
    for (size_t i = 0; i < self->silences.n; i++) {
        const s_item_t *s = &self->silences.items[i];
        if (now_ms >= s->starts_ms && now_ms < s->ends_ms &&
            cairn_matchers_match(s->matchers, labels))
            return s->id;
    }
    return NULL;
}

const char *cairn_silences_acked(const cairn_silences_t *self, const cairn_labels_t *labels,
                                 int64_t updated_ms, int64_t now_ms)
{
    const char *change = cairn_labels_get(labels, "change");
    if (!*change)
        return NULL;
    for (size_t i = 0; i < self->acks.n; i++) {
        const s_item_t *a = &self->acks.items[i];
        if (strcmp(a->change, change) == 0 && updated_ms <= a->created_ms && now_ms < a->ends_ms &&
            cairn_matchers_match(a->matchers, labels))
            return a->who;
    }
    return NULL;
}

int64_t cairn_silences_next_change(const cairn_silences_t *self, int64_t now_ms)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < self->silences.n; i++) {
        const s_item_t *s = &self->silences.items[i];
        if (s->starts_ms > now_ms && s->starts_ms < next)
            next = s->starts_ms;
        if (s->ends_ms > now_ms && s->ends_ms < next)
            next = s->ends_ms;
    }
    return next;
}

static int s_prune(cairn_silences_t *self, s_list_t *l, cairn_store_db_t db, int64_t before)
{
    for (size_t i = 0; i < l->n;) {
        if (l->items[i].ends_ms < before) {
            int rc =
                cairn_notify_store_del(self->store, db, l->items[i].id, strlen(l->items[i].id));
            if (rc < 0)
                return rc;
            s_item_free(&l->items[i]);
            l->items[i] = l->items[--l->n];
            continue;
        }
        i++;
    }
    return 0;
}

int cairn_silences_prune(cairn_silences_t *self, int64_t now_ms, int64_t keep_ms)
{
    int rc = s_prune(self, &self->silences, CAIRN_DB_SILENCES, now_ms - keep_ms);
    if (rc == 0)
        rc = s_prune(self, &self->acks, CAIRN_DB_ACKS, now_ms - keep_ms);
    return rc;
}

size_t cairn_silences_count(const cairn_silences_t *self)
{
    return self->silences.n;
}

size_t cairn_silences_ack_count(const cairn_silences_t *self)
{
    return self->acks.n;
}
