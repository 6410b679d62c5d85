/* The dispatcher (see dispatch.h): alerts, aggregation groups, their timers
 * in a min-heap, and the notification log, all mirrored in the store. */
#include "dispatch.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"

/* Routes one alert can reach at most (deeper fan-out is cut, not failed). */
#define S_MAX_ROUTES 64
/* A group of a route with group_interval 0 is looked at again this often
 * (mute windows, reminders) even when nothing changes. */
#define S_RECHECK_MS 60000

typedef struct s_group s_group_t;

typedef struct {
    uint64_t fp;            /* identity */
    char key[17];           /* fp in hex: the alerts-table key */
    cairn_labels_t *labels; /* routing labels of the latest record */
    json_t *body;           /* content of the latest record */
    uint64_t index;         /* ledger index of the latest record */
    bool firing;            /* false once resolved */
    int64_t starts_ms;      /* when it (last) started firing */
    int64_t updated_ms;     /* when its latest record was made */
    int64_t ends_ms;        /* when it resolved (0 while firing) */
    s_group_t **groups;     /* groups it is a member of */
    size_t n_groups;
    size_t cap_groups;
    json_t *escalated; /* names of escalations raised for it (array) */
    bool dirty;        /* in dirty_alerts, to be persisted */
} s_alert_t;

typedef struct {
    s_alert_t *alert;   /* the member */
    bool resolved_here; /* it left this group's route by changing its labels */
} s_member_t;

struct s_group {
    char id[17];                /* hex hash of route and group labels */
    const cairn_route_t *route; /* where its timers and receiver come from */
    cairn_labels_t *labels;     /* the group_by labels */
    char *key;                  /* Alertmanager group key: route key ":" labels */
    zhashx_t *members;          /* alert key -> s_member_t */
    int64_t created_ms;
    int64_t next_ms; /* next flush (INT64_MAX: none) */
    bool flushed;    /* flushed at least once */
    uint64_t seq;    /* notifications made so far */
    uint32_t gen;    /* bumps whenever next_ms changes (heap entries) */
    bool dirty;      /* in dirty_groups, to be persisted */
};

typedef struct {
    int64_t at;   /* when the group is due */
    char id[17];  /* which group */
    uint32_t gen; /* the group's gen when pushed; stale entries are skipped */
} s_due_t;

struct cairn_dispatch_t {
    const cairn_routes_t *routes;     /* the tree (not owned) */
    cairn_notify_store_t *store;      /* persistence (not owned) */
    const cairn_silences_t *silences; /* (not owned) */
    cairn_inhibitor_t *inhibitor;     /* firing sources per inhibit rule */
    zhashx_t *alerts;                 /* key -> s_alert_t */
    zhashx_t *groups;                 /* id -> s_group_t */
    s_due_t *heap;                    /* group timers, earliest first */
    size_t n_heap;
    size_t cap_heap;
    zlistx_t *dirty_alerts; /* keys of alerts to persist */
    zlistx_t *dirty_groups; /* ids of groups to persist */
    zhashx_t *failing;      /* targets with firing delivery_failed alerts */
    cairn_dispatch_stats_t stats;
};

/* Remembers that a delivery_failed alert about its receiver fires. */
static void s_note_failing(cairn_dispatch_t *self, const s_alert_t *a)
{
    if (a->firing && strcmp(cairn_labels_get(a->labels, "kind"), "delivery_failed") == 0) {
        const char *target = cairn_labels_get(a->labels, "receiver");
        if (*target && !zhashx_lookup(self->failing, target))
            zhashx_insert(self->failing, target, (void *)1);
    }
}

/* ---- small helpers ------------------------------------------------------ */

static void s_hex(uint64_t v, char out[17])
{
    snprintf(out, 17, "%016" PRIx64, v);
}

static void s_alert_free(s_alert_t **a_p)
{
    if (!a_p || !*a_p)
        return;
    s_alert_t *a = *a_p;
    cairn_labels_destroy(&a->labels);
    json_decref(a->body);
    json_decref(a->escalated);
    free(a->groups);
    free(a);
    *a_p = NULL;
}

static void s_alert_destructor(void **item)
{
    s_alert_free((s_alert_t **)item);
}

static void s_group_free(s_group_t **g_p)
{
    if (!g_p || !*g_p)
        return;
    s_group_t *g = *g_p;
    zhashx_destroy(&g->members);
    cairn_labels_destroy(&g->labels);
    free(g->key);
    free(g);
    *g_p = NULL;
}

static void s_group_destructor(void **item)
{
    s_group_free((s_group_t **)item);
}

static void s_member_destructor(void **item)
{
    free(*item);
    *item = NULL;
}

/* Each object is written once per commit, however often it changed. */
static void s_mark_alert(cairn_dispatch_t *self, s_alert_t *a)
{
    if (!a->dirty && zlistx_add_end(self->dirty_alerts, a->key))
        a->dirty = true;
}

static void s_mark_group(cairn_dispatch_t *self, s_group_t *g)
{
    if (!g->dirty && zlistx_add_end(self->dirty_groups, g->id))
        g->dirty = true;
}

/* ---- the timer heap ----------------------------------------------------- */

static void s_heap_swap(s_due_t *a, s_due_t *b)
{
    s_due_t t = *a;
    *a = *b;
    *b = t;
}

static int s_heap_push(cairn_dispatch_t *self, const s_group_t *g)
{
    if (g->next_ms == INT64_MAX)
        return 0;
    if (self->n_heap == self->cap_heap) {
        size_t cap = self->cap_heap ? self->cap_heap * 2 : 256;
        s_due_t *grown = realloc(self->heap, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        self->heap = grown;
        self->cap_heap = cap;
    }
    size_t i = self->n_heap++;
    self->heap[i].at = g->next_ms;
    memcpy(self->heap[i].id, g->id, 17);
    self->heap[i].gen = g->gen;
    while (i > 0 && self->heap[(i - 1) / 2].at > self->heap[i].at) {
        s_heap_swap(&self->heap[(i - 1) / 2], &self->heap[i]);
        i = (i - 1) / 2;
    }
    return 0;
}

static void s_heap_pop(cairn_dispatch_t *self)
{
    self->heap[0] = self->heap[--self->n_heap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < self->n_heap && self->heap[l].at < self->heap[m].at)
            m = l;
        if (r < self->n_heap && self->heap[r].at < self->heap[m].at)
            m = r;
        if (m == i)
            break;
        s_heap_swap(&self->heap[i], &self->heap[m]);
        i = m;
    }
}

/* Sets when g is next due. */
static int s_schedule(cairn_dispatch_t *self, s_group_t *g, int64_t at)
{
    if (g->next_ms == at)
        return 0;
    g->next_ms = at;
    g->gen++;
    s_mark_group(self, g);
    return s_heap_push(self, g);
}

/* ---- persistence -------------------------------------------------------- */

static json_t *s_alert_json(const s_alert_t *a)
{
    return json_pack("{s:o, s:O, s:I, s:b, s:I, s:I, s:I, s:O}", "labels",
                     cairn_labels_to_json(a->labels), "body", a->body, "index",
                     (json_int_t)a->index, "firing", a->firing, "starts", (json_int_t)a->starts_ms,
                     "updated", (json_int_t)a->updated_ms, "ends", (json_int_t)a->ends_ms,
                     "escalated", a->escalated);
}

static json_t *s_group_json(const s_group_t *g)
{
    return json_pack("{s:I, s:s, s:o, s:s, s:I, s:I, s:b, s:I}", "route_id",
                     (json_int_t)g->route->id, "route_key", g->route->key, "labels",
                     cairn_labels_to_json(g->labels), "key", g->key, "created",
                     (json_int_t)g->created_ms, "next",
                     (json_int_t)(g->next_ms == INT64_MAX ? -1 : g->next_ms), "flushed", g->flushed,
                     "seq", (json_int_t)g->seq);
}

static int s_member_put(cairn_dispatch_t *self, const s_group_t *g, const s_member_t *m)
{
    char key[40], val[32];
    snprintf(key, sizeof key, "%s:%s", g->id, m->alert->key);
    snprintf(val, sizeof val, "{\"resolved\":%s}", m->resolved_here ? "true" : "false");
    return cairn_notify_store_put(self->store, CAIRN_DB_MEMBERS, key, strlen(key), val,
                                  strlen(val));
}

static int s_member_del(cairn_dispatch_t *self, const s_group_t *g, const s_alert_t *a)
{
    char key[40];
    snprintf(key, sizeof key, "%s:%s", g->id, a->key);
    return cairn_notify_store_del(self->store, CAIRN_DB_MEMBERS, key, strlen(key));
}

int cairn_dispatch_persist(cairn_dispatch_t *self)
{
    int rc = 0;
    for (const char *k = zlistx_first(self->dirty_alerts); k; k = zlistx_next(self->dirty_alerts)) {
        s_alert_t *a = zhashx_lookup(self->alerts, k);
        if (!a || !a->dirty)
            continue; /* deleted since (its record is gone already) or written */
        a->dirty = false;
        if (rc < 0)
            continue;
        json_t *j = s_alert_json(a);
        rc = j ? cairn_notify_store_put_json(self->store, CAIRN_DB_ALERTS, a->key, j) : -ENOMEM;
        json_decref(j);
    }
    for (const char *k = zlistx_first(self->dirty_groups); k; k = zlistx_next(self->dirty_groups)) {
        s_group_t *g = zhashx_lookup(self->groups, k);
        if (!g || !g->dirty)
            continue;
        g->dirty = false;
        if (rc < 0)
            continue;
        json_t *j = s_group_json(g);
        rc = j ? cairn_notify_store_put_json(self->store, CAIRN_DB_GROUPS, g->id, j) : -ENOMEM;
        json_decref(j);
    }
    zlistx_purge(self->dirty_alerts);
    zlistx_purge(self->dirty_groups);
    return rc;
}

/* ---- membership --------------------------------------------------------- */

static int s_alert_link(s_alert_t *a, s_group_t *g)
{
    if (a->n_groups == a->cap_groups) {
        size_t cap = a->cap_groups ? a->cap_groups * 2 : 4;
        s_group_t **grown = realloc(a->groups, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        a->groups = grown;
        a->cap_groups = cap;
    }
    a->groups[a->n_groups++] = g;
    return 0;
}

static void s_alert_unlink(s_alert_t *a, const s_group_t *g)
{
    for (size_t i = 0; i < a->n_groups; i++)
        if (a->groups[i] == g) {
            a->groups[i] = a->groups[--a->n_groups];
            return;
        }
}

/* Deletes an alert that no group holds and that no longer fires. */
static int s_alert_drop(cairn_dispatch_t *self, s_alert_t *a)
{
    if (a->firing) {
        int rc = cairn_inhibitor_track(self->inhibitor, a->labels, false);
        if (rc < 0)
            return rc;
    }
    int rc = cairn_notify_store_del(self->store, CAIRN_DB_ALERTS, a->key, strlen(a->key));
    zhashx_delete(self->alerts, a->key);
    return rc;
}

/* The group's content changed: a group on a route without group_interval
 * is due right away once it has flushed; others keep their timers. */
static int s_group_changed(cairn_dispatch_t *self, s_group_t *g, int64_t now_ms)
{
    if (g->flushed && g->route->group_interval_ms == 0)
        return s_schedule(self, g, now_ms);
    return 0;
}

static int s_group_new(cairn_dispatch_t *self, const cairn_route_t *route,
                       cairn_labels_t **labels_p, const char *id, int64_t now_ms, s_group_t **out)
{
    s_group_t *g = calloc(1, sizeof *g);
    if (!g)
        return -ENOMEM;
    memcpy(g->id, id, 17);
    g->route = route;
    g->labels = *labels_p;
    *labels_p = NULL;
    g->created_ms = now_ms;
    g->next_ms = INT64_MAX;
    g->members = zhashx_new();
    char *lf = cairn_labels_format(g->labels);
    if (lf) {
        size_t len = strlen(route->key) + strlen(lf) + 2;
        g->key = malloc(len);
        if (g->key)
            snprintf(g->key, len, "%s:%s", route->key, lf);
    }
    free(lf);
    if (!g->members || !g->key) {
        s_group_free(&g);
        return -ENOMEM;
    }
    zhashx_set_destructor(g->members, s_member_destructor);
    zhashx_insert(self->groups, g->id, g);
    self->stats.groups++;
    *out = g;
    return 0;
}

static void s_group_id(const cairn_route_t *route, const cairn_labels_t *labels, char id[17])
{
    uint64_t h = cairn_labels_fingerprint(labels);
    char seed[64];
    snprintf(seed, sizeof seed, "%zu:%016" PRIx64 ":", route->id, h);
    uint64_t x = cairn_fnv1a64(CAIRN_FNV1A64_OFFSET, seed, strlen(seed));
    x = cairn_fnv1a64(x, route->key, strlen(route->key));
    s_hex(x, id);
}

/* Puts a into the group of route for its labels (creating it). */
static int s_join(cairn_dispatch_t *self, s_alert_t *a, const cairn_route_t *route, int64_t now_ms,
                  s_group_t **joined)
{
    cairn_labels_t *gl = NULL;
    char id[17];
    int rc = cairn_route_group_labels(route, a->labels, &gl);
    if (rc < 0)
        return rc;
    s_group_id(route, gl, id);
    s_group_t *g = zhashx_lookup(self->groups, id);
    if (!g) {
        if ((rc = s_group_new(self, route, &gl, id, now_ms, &g)) < 0) {
            cairn_labels_destroy(&gl);
            return rc;
        }
        s_mark_group(self, g);
        if ((rc = s_schedule(self, g, now_ms + route->group_wait_ms)) < 0)
            return rc;
    }
    cairn_labels_destroy(&gl);
    s_member_t *m = zhashx_lookup(g->members, a->key);
    if (!m) {
        m = calloc(1, sizeof *m);
        if (!m)
            return -ENOMEM;
        m->alert = a;
        zhashx_insert(g->members, a->key, m);
        if ((rc = s_alert_link(a, g)) < 0)
            return rc;
        rc = s_member_put(self, g, m);
    } else if (m->resolved_here) {
        m->resolved_here = false;
        rc = s_member_put(self, g, m);
    }
    if (rc == 0)
        rc = s_group_changed(self, g, now_ms);
    *joined = g;
    return rc;
}

/* Routes a firing alert: it joins the groups of the routes it matches and
 * leaves (as resolved there) the groups of routes it no longer matches. */
static int s_route_alert(cairn_dispatch_t *self, s_alert_t *a, int64_t now_ms)
{
    const cairn_route_t *routes[S_MAX_ROUTES];
    s_group_t *now_in[S_MAX_ROUTES];
    size_t n = cairn_routes_match(self->routes, a->labels, routes, S_MAX_ROUTES);
    if (n > S_MAX_ROUTES)
        n = S_MAX_ROUTES;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = s_join(self, a, routes[i], now_ms, &now_in[i]);
    for (size_t k = 0; k < a->n_groups && rc == 0; k++) {
        s_group_t *g = a->groups[k];
        bool kept = false;
        for (size_t i = 0; i < n; i++)
            kept |= now_in[i] == g;
        if (kept)
            continue;
        s_member_t *m = zhashx_lookup(g->members, a->key);
        if (m && !m->resolved_here) {
            m->resolved_here = true;
            if ((rc = s_member_put(self, g, m)) == 0)
                rc = s_group_changed(self, g, now_ms);
        }
    }
    return rc;
}

/* Marks a firing alert resolved at at_ms. */
static int s_resolve(cairn_dispatch_t *self, s_alert_t *a, int64_t at_ms, int64_t now_ms)
{
    if (!a->firing)
        return 0;
    int rc = cairn_inhibitor_track(self->inhibitor, a->labels, false);
    if (rc < 0)
        return rc;
    a->firing = false;
    a->ends_ms = at_ms;
    s_mark_alert(self, a);
    for (size_t i = 0; i < a->n_groups && rc == 0; i++)
        rc = s_group_changed(self, a->groups[i], now_ms);
    /* Escalations of this alert end with it. */
    for (size_t e = 0; e < self->routes->n_escalations && rc == 0; e++) {
        cairn_labels_t *child = cairn_labels_dup(a->labels);
        if (!child || cairn_labels_set(child, "kind", "escalation") < 0 ||
            cairn_labels_set(child, "escalation", self->routes->escalations[e]->name) < 0) {
            cairn_labels_destroy(&child);
            return -ENOMEM;
        }
        char key[17];
        s_hex(cairn_derive_identity(child), key);
        cairn_labels_destroy(&child);
        s_alert_t *c = zhashx_lookup(self->alerts, key);
        if (c && c != a)
            rc = s_resolve(self, c, at_ms, now_ms);
    }
    return rc;
}

static s_alert_t *s_find(cairn_dispatch_t *self, uint64_t fp)
{
    char key[17];
    s_hex(fp, key);
    return zhashx_lookup(self->alerts, key);
}

/* For an escalation alert: is the alert it escalates still firing? */
static bool s_parent_firing(cairn_dispatch_t *self, const cairn_labels_t *labels)
{
    cairn_labels_t *p = cairn_labels_dup(labels);
    bool firing = false;
    if (p && cairn_labels_set(p, "kind", cairn_labels_get(labels, "escalated_kind")) == 0 &&
        cairn_labels_set(p, "escalation", "") == 0) {
        s_alert_t *parent = s_find(self, cairn_derive_identity(p));
        firing = parent && parent->firing;
    }
    cairn_labels_destroy(&p);
    return firing;
}

int cairn_dispatch_ingest(cairn_dispatch_t *self, const cairn_derived_t *d, uint64_t index,
                          int64_t at_ms, int64_t now_ms)
{
    int rc = 0;
    for (size_t i = 0; i < d->n_resolves && rc == 0; i++) {
        s_alert_t *other = s_find(self, d->resolves[i]);
        if (other)
            rc = s_resolve(self, other, at_ms, now_ms);
    }
    if (rc < 0)
        return rc;
    bool firing = !d->resolved;
    if (firing && strcmp(cairn_labels_get(d->labels, "kind"), "escalation") == 0 &&
        !s_parent_firing(self, d->labels))
        firing = false;

    s_alert_t *a = s_find(self, d->fingerprint);
    if (a && index <= a->index)
        return 0; /* already applied */
    if (!a && !firing)
        return 0; /* resolved before anyone heard of it: nothing to say */
    if (!a) {
        a = calloc(1, sizeof *a);
        if (!a)
            return -ENOMEM;
        a->fp = d->fingerprint;
        s_hex(a->fp, a->key);
        a->escalated = json_array();
        zhashx_insert(self->alerts, a->key, a);
        if (!a->escalated)
            return -ENOMEM;
    } else if (a->firing && (rc = cairn_inhibitor_track(self->inhibitor, a->labels, false)) < 0) {
        return rc;
    }
    bool was_firing = a->firing && a->labels;
    cairn_labels_t *labels = cairn_labels_dup(d->labels);
    if (!labels)
        return -ENOMEM;
    cairn_labels_destroy(&a->labels);
    a->labels = labels;
    json_decref(a->body);
    a->body = json_incref(d->body);
    a->index = index;
    a->updated_ms = at_ms;
    s_mark_alert(self, a);
    if (firing) {
        if (!was_firing) {
            a->starts_ms = at_ms;
            a->ends_ms = 0;
            json_array_clear(a->escalated);
        }
        a->firing = true;
        if ((rc = cairn_inhibitor_track(self->inhibitor, a->labels, true)) < 0)
            return rc;
        s_note_failing(self, a);
        return s_route_alert(self, a, now_ms);
    }
    /* A resolution: the groups that hold it will tell the news. */
    a->firing = true; /* so s_resolve does its bookkeeping once */
    rc = cairn_inhibitor_track(self->inhibitor, a->labels, true);
    if (rc == 0)
        rc = s_resolve(self, a, at_ms, now_ms);
    if (rc == 0 && a->n_groups == 0)
        rc = s_alert_drop(self, a);
    return rc;
}

/* ---- flushing ----------------------------------------------------------- */

typedef struct {
    s_alert_t *alert;
    bool firing;  /* effective in this group */
    char ref[40]; /* "<fp>:<index>" as the notification log keeps it */
} s_view_t;

static bool s_in(const json_t *arr, const char *ref)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strcmp(s, ref) == 0)
            return true;
    }
    return false;
}

/* True when the log's list holds any entry for this alert (any index). */
static bool s_in_fp(const json_t *arr, const char *fp)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *s = json_string_value(v);
        if (s && strncmp(s, fp, 16) == 0)
            return true;
    }
    return false;
}

static cairn_labels_t *s_common(const s_view_t *v, const size_t *pick, size_t n)
{
    cairn_labels_t *c = n ? cairn_labels_dup(v[pick[0]].alert->labels) : cairn_labels_new();
    for (size_t i = 1; c && i < n; i++) {
        const cairn_labels_t *l = v[pick[i]].alert->labels;
        for (size_t k = 0; k < cairn_labels_count(c);) {
            const char *name = cairn_labels_name(c, k);
            if (strcmp(cairn_labels_get(l, name), cairn_labels_value(c, k)) != 0) {
                cairn_labels_set(c, name, NULL);
                continue;
            }
            k++;
        }
    }
    return c;
}

/* What people should read first: escalations and approval requests, then
 * denials, then the rest. */
static int s_rank(const s_alert_t *a)
{
    const char *kind = cairn_labels_get(a->labels, "kind");
    if (strcmp(kind, "escalation") == 0)
        return 0;
    if (strcmp(kind, "approval_requested") == 0)
        return 1;
    if (strcmp(kind, "gate_denied") == 0 || strcmp(kind, "delivery_failed") == 0 ||
        strcmp(cairn_labels_get(a->labels, "decision"), "deny") == 0)
        return 2;
    return 3;
}

static int s_cmp_starts(const void *x, const void *y)
{
    const s_view_t *a = x, *b = y;
    if (a->firing != b->firing)
        return a->firing ? -1 : 1;
    int ra = s_rank(a->alert), rb = s_rank(b->alert);
    if (ra != rb)
        return ra < rb ? -1 : 1;
    if (a->alert->starts_ms != b->alert->starts_ms)
        return a->alert->starts_ms < b->alert->starts_ms ? -1 : 1;
    return strcmp(a->alert->key, b->alert->key);
}

/* One integration's part of a flush. */
static int s_flush_target(cairn_dispatch_t *self, s_group_t *g, const cairn_integration_t *in,
                          s_view_t *v, size_t nv, int64_t now_ms, bool *seq_taken,
                          cairn_dispatch_emit_fn emit, void *arg)
{
    char nkey[300];
    json_t *prev = NULL, *fire_refs = NULL, *res_refs = NULL, *log = NULL;
    size_t *pick = NULL;
    cairn_note_alert_t *notes = NULL;
    cairn_labels_t *common = NULL;
    int rc;

    snprintf(nkey, sizeof nkey, "%s:%s", g->id, in->target);
    rc = cairn_notify_store_get_json(self->store, CAIRN_DB_NFLOG, nkey, &prev);
    if (rc == CAIRN_ENOTFOUND)
        rc = 0, prev = NULL;
    if (rc < 0)
        return rc;
    json_t *prev_f = json_object_get(prev, "firing");
    json_t *prev_r = json_object_get(prev, "resolved");

    fire_refs = json_array();
    res_refs = json_array();
    pick = calloc(nv + 1, sizeof *pick);
    if (!fire_refs || !res_refs || !pick) {
        rc = -ENOMEM;
        goto out;
    }
    size_t n_fire = 0, n_res = 0, n_pick = 0;
    bool firing_new = false, resolved_new = false, all_acked = true;
    for (size_t i = 0; i < nv; i++) {
        if (v[i].firing) {
            json_array_append_new(fire_refs, json_string(v[i].ref));
            firing_new |= !s_in(prev_f, v[i].ref);
            all_acked &= cairn_silences_acked(self->silences, v[i].alert->labels,
                                              v[i].alert->updated_ms, now_ms) != NULL;
            pick[n_pick++] = i;
            n_fire++;
        } else if (s_in_fp(prev_f, v[i].alert->key)) {
            /* Only alerts the receiver was told about are worth a "resolved". */
            json_array_append_new(res_refs, json_string(v[i].ref));
            resolved_new |= !s_in(prev_r, v[i].ref);
            if (in->send_resolved)
                pick[n_pick++] = i;
            n_res++;
        }
    }
    bool update, repeat = false;
    if (!prev)
        update = n_fire > 0;
    else if (firing_new)
        update = true;
    else if (n_fire == 0)
        update = json_array_size(prev_f) > 0;
    else if (in->send_resolved && resolved_new)
        update = true;
    else {
        int64_t sent = json_integer_value(json_object_get(prev, "sent"));
        repeat = g->route->repeat_interval_ms > 0 &&
                 now_ms >= sent + g->route->repeat_interval_ms && !all_acked;
        update = repeat;
    }
    if (!update)
        goto out;

    if (n_pick > 0) {
        if (!*seq_taken) {
            g->seq++;
            *seq_taken = true;
            s_mark_group(self, g);
        }
        notes = calloc(n_pick, sizeof *notes);
        common = s_common(v, pick, n_pick);
        if (!notes || !common) {
            rc = -ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < n_pick; k++) {
            const s_view_t *x = &v[pick[k]];
            notes[k] = (cairn_note_alert_t){
                .labels = x->alert->labels,
                .body = x->alert->body,
                .firing = x->firing,
                .starts_ms = x->alert->starts_ms,
                .ends_ms = x->alert->ends_ms,
                .fingerprint = x->alert->fp,
                .index = x->alert->index,
                .acked_by = cairn_silences_acked(self->silences, x->alert->labels,
                                                 x->alert->updated_ms, now_ms),
                .fresh = !s_in(prev_f, x->ref) && !s_in(prev_r, x->ref),
            };
        }
        char mid[64];
        snprintf(mid, sizeof mid, "msg_%s_%" PRIu64, g->id, g->seq);
        cairn_notification_t n = {
            .receiver = g->route->receiver->name,
            .group_key = g->key,
            .group_id = g->id,
            .sequence = g->seq,
            .message_id = mid,
            .group_labels = g->labels,
            .common_labels = common,
            .alerts = notes,
            .n_alerts = n_pick,
            .repeat = repeat,
            .time_ms = now_ms,
            .external_url = self->routes->external_url ? self->routes->external_url : "",
        };
        if ((rc = emit(arg, in, &n)) < 0)
            goto out;
        self->stats.notifications++;
    }
    log = json_pack("{s:I, s:O, s:O}", "sent", (json_int_t)now_ms, "firing", fire_refs, "resolved",
                    res_refs);
    rc = log ? cairn_notify_store_put_json(self->store, CAIRN_DB_NFLOG, nkey, log) : -ENOMEM;
out:
    json_decref(prev);
    json_decref(fire_refs);
    json_decref(res_refs);
    json_decref(log);
    cairn_labels_destroy(&common);
    free(notes);
    free(pick);
    return rc;
}

static int s_group_delete(cairn_dispatch_t *self, s_group_t *g)
{
    int rc = cairn_notify_store_del(self->store, CAIRN_DB_GROUPS, g->id, strlen(g->id));
    const cairn_receiver_t *r = g->route->receiver;
    for (size_t i = 0; i < r->n_integrations && rc == 0; i++) {
        char nkey[300];
        snprintf(nkey, sizeof nkey, "%s:%s", g->id, r->integrations[i]->target);
        rc = cairn_notify_store_del(self->store, CAIRN_DB_NFLOG, nkey, strlen(nkey));
    }
    self->stats.groups--;
    zhashx_delete(self->groups, g->id);
    return rc;
}

static int s_flush_group(cairn_dispatch_t *self, s_group_t *g, int64_t now_ms,
                         cairn_dispatch_emit_fn emit, void *arg)
{
    size_t n = zhashx_size(g->members), nv = 0;
    s_view_t *v = calloc(n + 1, sizeof *v);
    int rc = 0;
    if (!v)
        return -ENOMEM;
    for (s_member_t *m = zhashx_first(g->members); m; m = zhashx_next(g->members)) {
        s_alert_t *a = m->alert;
        bool firing = a->firing && !m->resolved_here;
        if (cairn_silences_silenced(self->silences, a->labels, now_ms)) {
            self->stats.silenced++;
            if (firing)
                continue;
        } else if (firing && cairn_inhibitor_inhibited(self->inhibitor, a->labels)) {
            self->stats.inhibited++;
            continue;
        }
        v[nv].alert = a;
        v[nv].firing = firing;
        snprintf(v[nv].ref, sizeof v[nv].ref, "%s:%" PRIu64, a->key, a->index);
        nv++;
    }
    qsort(v, nv, sizeof *v, s_cmp_starts);

    if (cairn_route_active_at(g->route, now_ms)) {
        bool seq_taken = false;
        const cairn_receiver_t *r = g->route->receiver;
        for (size_t i = 0; i < r->n_integrations && rc == 0; i++)
            rc = s_flush_target(self, g, r->integrations[i], v, nv, now_ms, &seq_taken, emit, arg);
    } else {
        self->stats.muted++;
    }
    free(v);
    if (rc < 0)
        return rc;

    /* Resolved members have been told (or never will be): they leave. */
    zlistx_t *gone = zlistx_new();
    if (!gone)
        return -ENOMEM;
    for (s_member_t *m = zhashx_first(g->members); m; m = zhashx_next(g->members))
        if (!m->alert->firing || m->resolved_here)
            zlistx_add_end(gone, m->alert);
    for (s_alert_t *a = zlistx_first(gone); a && rc == 0; a = zlistx_next(gone)) {
        rc = s_member_del(self, g, a);
        zhashx_delete(g->members, a->key);
        s_alert_unlink(a, g);
        if (rc == 0 && a->n_groups == 0 && !a->firing)
            rc = s_alert_drop(self, a);
    }
    zlistx_destroy(&gone);
    if (rc < 0)
        return rc;
    if (zhashx_size(g->members) == 0)
        return s_group_delete(self, g);
    g->flushed = true;
    s_mark_group(self, g);
    int64_t gi = g->route->group_interval_ms > 0 ? g->route->group_interval_ms : S_RECHECK_MS;
    return s_schedule(self, g, now_ms + gi);
}

int cairn_dispatch_flush(cairn_dispatch_t *self, int64_t now_ms, cairn_dispatch_emit_fn emit,
                         void *arg)
{
    int rc = 0;
    while (rc == 0 && self->n_heap > 0 && self->heap[0].at <= now_ms) {
        s_due_t due = self->heap[0];
        s_heap_pop(self);
        s_group_t *g = zhashx_lookup(self->groups, due.id);
        if (!g || g->gen != due.gen || g->next_ms != due.at)
            continue; /* rescheduled or gone */
        g->next_ms = INT64_MAX;
        rc = s_flush_group(self, g, now_ms, emit, arg);
    }
    return rc;
}

int64_t cairn_dispatch_next_due(const cairn_dispatch_t *self)
{
    return self->n_heap ? self->heap[0].at : INT64_MAX;
}

void cairn_dispatch_touch_all(cairn_dispatch_t *self, int64_t now_ms)
{
    for (s_group_t *g = zhashx_first(self->groups); g; g = zhashx_next(self->groups))
        if (g->flushed && g->next_ms > now_ms)
            s_schedule(self, g, now_ms);
}

/* ---- sweeps ------------------------------------------------------------- */

static bool s_escalated(const s_alert_t *a, const char *name)
{
    size_t i;
    json_t *v;
    json_array_foreach(a->escalated, i, v)
    {
        if (strcmp(json_string_value(v) ? json_string_value(v) : "", name) == 0)
            return true;
    }
    return false;
}

int cairn_dispatch_sweep(cairn_dispatch_t *self, int64_t now_ms, cairn_dispatch_escalate_fn fn,
                         void *arg)
{
    int rc = 0;
    zlistx_t *expired = zlistx_new();
    if (!expired)
        return -ENOMEM;
    for (s_alert_t *a = zhashx_first(self->alerts); a && rc == 0; a = zhashx_next(self->alerts)) {
        if (!a->firing)
            continue;
        if (self->routes->resolve_timeout_ms > 0 &&
            now_ms - a->updated_ms > self->routes->resolve_timeout_ms) {
            zlistx_add_end(expired, a);
            continue;
        }
        if (*cairn_labels_get(a->labels, "escalation"))
            continue; /* escalations do not escalate further */
        for (size_t e = 0; e < self->routes->n_escalations && rc == 0; e++) {
            const cairn_escalation_t *esc = self->routes->escalations[e];
            if (s_escalated(a, esc->name) || now_ms - a->starts_ms < esc->after_ms ||
                !cairn_matchers_match(esc->matchers, a->labels) ||
                cairn_silences_acked(self->silences, a->labels, a->updated_ms, now_ms))
                continue;
            cairn_labels_t *l = cairn_labels_dup(a->labels);
            if (!l ||
                cairn_labels_set(l, "escalated_kind", cairn_labels_get(a->labels, "kind")) < 0 ||
                cairn_labels_set(l, "kind", "escalation") < 0 ||
                cairn_labels_set(l, "escalation", esc->name) < 0) {
                cairn_labels_destroy(&l);
                rc = -ENOMEM;
                break;
            }
            for (size_t k = 0; k < cairn_labels_count(esc->set_labels) && rc == 0; k++)
                rc = cairn_labels_set(l, cairn_labels_name(esc->set_labels, k),
                                      cairn_labels_value(esc->set_labels, k));
            if (rc == 0)
                rc = fn(arg, esc, l, a->body, a->fp, a->index);
            cairn_labels_destroy(&l);
            if (rc == 0) {
                json_array_append_new(a->escalated, json_string(esc->name));
                s_mark_alert(self, a);
            }
        }
    }
    for (s_alert_t *a = zlistx_first(expired); a && rc == 0; a = zlistx_next(expired))
        rc = s_resolve(self, a, now_ms, now_ms);
    zlistx_destroy(&expired);
    return rc;
}

int cairn_dispatch_resolve_target(cairn_dispatch_t *self, const char *target, int64_t now_ms)
{
    int rc = 0;
    if (!zhashx_lookup(self->failing, target))
        return 0; /* the common case: nothing to look for */
    zhashx_delete(self->failing, target);
    zlistx_t *hit = zlistx_new();
    if (!hit)
        return -ENOMEM;
    for (s_alert_t *a = zhashx_first(self->alerts); a; a = zhashx_next(self->alerts))
        if (a->firing && strcmp(cairn_labels_get(a->labels, "kind"), "delivery_failed") == 0 &&
            strcmp(cairn_labels_get(a->labels, "receiver"), target) == 0)
            zlistx_add_end(hit, a);
    for (s_alert_t *a = zlistx_first(hit); a && rc == 0; a = zlistx_next(hit))
        rc = s_resolve(self, a, now_ms, now_ms);
    zlistx_destroy(&hit);
    return rc;
}

/* ---- loading ------------------------------------------------------------ */

typedef struct {
    cairn_dispatch_t *self;
    zlistx_t *orphans; /* group ids whose route is gone */
    zlistx_t *stale;   /* member keys to delete */
    int rc;
} s_load_t;

static int s_load_alert(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    s_load_t *l = arg;
    json_t *j = json_loadb(val, vlen, 0, NULL);
    s_alert_t *a = calloc(1, sizeof *a);
    int rc = 0;
    if (!j || !a || klen != 16) {
        /* A record we cannot read is dropped rather than stopping the daemon. */
        goto out;
    }
    memcpy(a->key, key, 16);
    a->fp = strtoull(a->key, NULL, 16);
    if ((rc = cairn_labels_from_json(json_object_get(j, "labels"), &a->labels)) < 0)
        goto out;
    a->body = json_incref(json_object_get(j, "body"));
    a->escalated = json_incref(json_object_get(j, "escalated"));
    if (!a->escalated)
        a->escalated = json_array();
    a->index = (uint64_t)json_integer_value(json_object_get(j, "index"));
    a->firing = json_is_true(json_object_get(j, "firing"));
    a->starts_ms = json_integer_value(json_object_get(j, "starts"));
    a->updated_ms = json_integer_value(json_object_get(j, "updated"));
    a->ends_ms = json_integer_value(json_object_get(j, "ends"));
    if (!a->body || !a->escalated)
        goto out;
    if (a->firing && (rc = cairn_inhibitor_track(l->self->inhibitor, a->labels, true)) < 0)
        goto out;
    s_note_failing(l->self, a);
    zhashx_insert(l->self->alerts, a->key, a);
    a = NULL;
out:
    json_decref(j);
    s_alert_free(&a);
    return rc;
}

static int s_load_group(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    s_load_t *l = arg;
    cairn_dispatch_t *self = l->self;
    json_t *j = json_loadb(val, vlen, 0, NULL);
    cairn_labels_t *labels = NULL;
    char id[17];
    int rc = 0;
    if (klen != 16)
        goto out;
    memcpy(id, key, 16);
    id[16] = '\0';
    json_int_t rid = json_integer_value(json_object_get(j, "route_id"));
    const char *rkey = json_string_value(json_object_get(j, "route_key"));
    const cairn_route_t *route =
        rid >= 0 && (size_t)rid < self->routes->n_routes ? self->routes->by_id[rid] : NULL;
    if (!j || !route || !rkey || strcmp(route->key, rkey) != 0 ||
        cairn_labels_from_json(json_object_get(j, "labels"), &labels) < 0) {
        zlistx_add_end(l->orphans, id);
        goto out;
    }
    s_group_t *g = NULL;
    if ((rc = s_group_new(self, route, &labels, id, 0, &g)) < 0)
        goto out;
    g->created_ms = json_integer_value(json_object_get(j, "created"));
    json_int_t next = json_integer_value(json_object_get(j, "next"));
    g->next_ms = next < 0 ? INT64_MAX : next;
    g->flushed = json_is_true(json_object_get(j, "flushed"));
    g->seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
    rc = s_heap_push(self, g);
out:
    cairn_labels_destroy(&labels);
    json_decref(j);
    return rc;
}

static int s_load_member(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    s_load_t *l = arg;
    char k[40], gid[17], akey[17];
    if (klen != 33) {
        if (klen < sizeof k) {
            memcpy(k, key, klen);
            k[klen] = '\0';
            zlistx_add_end(l->stale, k);
        }
        return 0;
    }
    memcpy(k, key, 33);
    k[33] = '\0';
    memcpy(gid, k, 16);
    gid[16] = '\0';
    memcpy(akey, k + 17, 16);
    akey[16] = '\0';
    s_group_t *g = zhashx_lookup(l->self->groups, gid);
    s_alert_t *a = zhashx_lookup(l->self->alerts, akey);
    if (!g || !a) {
        zlistx_add_end(l->stale, k);
        return 0;
    }
    s_member_t *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->alert = a;
    json_t *j = json_loadb(val, vlen, 0, NULL);
    m->resolved_here = json_is_true(json_object_get(j, "resolved"));
    json_decref(j);
    zhashx_insert(g->members, a->key, m);
    return s_alert_link(a, g);
}

int cairn_dispatch_new(const cairn_routes_t *routes, cairn_notify_store_t *store,
                       const cairn_silences_t *silences, int64_t now_ms, cairn_dispatch_t **out)
{
    cairn_dispatch_t *self = calloc(1, sizeof *self);
    s_load_t l = {0};
    int rc = -ENOMEM;
    if (!self)
        return -ENOMEM;
    self->routes = routes;
    self->store = store;
    self->silences = silences;
    self->alerts = zhashx_new();
    self->groups = zhashx_new();
    self->dirty_alerts = zlistx_new();
    self->dirty_groups = zlistx_new();
    self->failing = zhashx_new();
    l.self = self;
    l.orphans = zlistx_new();
    l.stale = zlistx_new();
    if (!self->alerts || !self->groups || !self->dirty_alerts || !self->dirty_groups ||
        !self->failing || !l.orphans || !l.stale)
        goto out;
    zhashx_set_destructor(self->alerts, s_alert_destructor);
    zhashx_set_destructor(self->groups, s_group_destructor);
    zlistx_set_duplicator(self->dirty_alerts, (czmq_duplicator *)strdup);
    zlistx_set_destructor(self->dirty_alerts, (czmq_destructor *)zstr_free);
    zlistx_set_duplicator(self->dirty_groups, (czmq_duplicator *)strdup);
    zlistx_set_destructor(self->dirty_groups, (czmq_destructor *)zstr_free);
    zlistx_set_duplicator(l.orphans, (czmq_duplicator *)strdup);
    zlistx_set_destructor(l.orphans, (czmq_destructor *)zstr_free);
    zlistx_set_duplicator(l.stale, (czmq_duplicator *)strdup);
    zlistx_set_destructor(l.stale, (czmq_destructor *)zstr_free);
    if ((rc = cairn_inhibitor_new(routes, &self->inhibitor)) < 0)
        goto out;
    if ((rc = cairn_notify_store_each(store, CAIRN_DB_ALERTS, NULL, s_load_alert, &l)) < 0 ||
        (rc = cairn_notify_store_each(store, CAIRN_DB_GROUPS, NULL, s_load_group, &l)) < 0 ||
        (rc = cairn_notify_store_each(store, CAIRN_DB_MEMBERS, NULL, s_load_member, &l)) < 0)
        goto out;
    /* Groups of routes that are gone: drop them, with their logs. */
    for (const char *id = zlistx_first(l.orphans); id && rc == 0; id = zlistx_next(l.orphans))
        rc = cairn_notify_store_del(store, CAIRN_DB_GROUPS, id, strlen(id));
    for (const char *k = zlistx_first(l.stale); k && rc == 0; k = zlistx_next(l.stale))
        rc = cairn_notify_store_del(store, CAIRN_DB_MEMBERS, k, strlen(k));
    /* Alerts that lost every group: firing ones are routed again through the
     * current tree, the others are done. */
    zlistx_t *homeless = zlistx_new();
    if (!homeless) {
        rc = -ENOMEM;
        goto out;
    }
    for (s_alert_t *a = zhashx_first(self->alerts); a; a = zhashx_next(self->alerts))
        if (a->n_groups == 0)
            zlistx_add_end(homeless, a);
    for (s_alert_t *a = zlistx_first(homeless); a && rc == 0; a = zlistx_next(homeless))
        rc = a->firing ? s_route_alert(self, a, now_ms) : s_alert_drop(self, a);
    zlistx_destroy(&homeless);
    if (rc < 0)
        goto out;
    *out = self;
    self = NULL;
out:
    zlistx_destroy(&l.orphans);
    zlistx_destroy(&l.stale);
    cairn_dispatch_destroy(&self);
    return rc;
}

void cairn_dispatch_destroy(cairn_dispatch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_dispatch_t *self = *self_p;
    /* Groups first: their members point into the alerts. */
    zhashx_destroy(&self->groups);
    zhashx_destroy(&self->alerts);
    zlistx_destroy(&self->dirty_alerts);
    zlistx_destroy(&self->dirty_groups);
    zhashx_destroy(&self->failing);
    cairn_inhibitor_destroy(&self->inhibitor);
    free(self->heap);
    free(self);
    *self_p = NULL;
}

void cairn_dispatch_stats(const cairn_dispatch_t *self, cairn_dispatch_stats_t *out)
{
    *out = self->stats;
    out->alerts = zhashx_size(self->alerts);
    out->firing = 0;
    for (s_alert_t *a = zhashx_first(self->alerts); a; a = zhashx_next(self->alerts))
        out->firing += a->firing;
    out->groups = zhashx_size(self->groups);
}
