/* Replaying a candidate policy over the ledger (see replay.h). */
#include "replay.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "change.h"
#include "evaluate.h"

/* The candidate's verdict, kept until the recorded one turns up. */
typedef struct {
    size_t gate;                  /* gate index in the candidate */
    Cairn__V1__Decision decision; /* the candidate's decision */
    cairn_replay_rule_t *rules;   /* rules that decide it */
    size_t n_rules;
} s_pending_t;

/* The latest comparison for one (change, gate). */
typedef struct {
    char *change;                 /* change id */
    Cairn__V1__Decision old, now; /* recorded and candidate decisions */
} s_latest_t;

struct cairn_replay_t {
    cairn_policy_t *p;          /* the candidate (one reference) */
    int64_t since_ms;           /* compare events appended at or after this (0: all) */
    bool since_reached;         /* an entry at or after since_ms was seen */
    uint64_t since_index;       /* first such entry */
    bool started;               /* an entry was fed */
    zhashx_t *changes;          /* change id -> cairn_change_t */
    zhashx_t *pending;          /* "<trigger>:<gate>:<change>" -> s_pending_t */
    cairn_replay_diff_t *diffs; /* verdicts that would change, in recorded order */
    size_t n_diffs, cap_diffs;
    uint64_t *unrecorded;    /* per candidate gate: verdicts never recorded */
    zhashx_t *latest_by_key; /* "<gate>:<change>" -> s_latest_t (not owning) */
    s_latest_t **latest;     /* the same, in first-compared order (owning) */
    size_t n_latest, cap_latest;
    cairn_replay_stats_t stats;
    int64_t ledger_size; /* size read up to by cairn_replay_run (-1: not run) */
};

static void s_rules_free(cairn_replay_rule_t *rules, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(rules[i].rule);
        free(rules[i].result);
        free(rules[i].message);
    }
    free(rules);
}

static void s_pending_free(void **item)
{
    s_pending_t *pd = *item;
    if (pd) {
        s_rules_free(pd->rules, pd->n_rules);
        free(pd);
    }
    *item = NULL;
}

static void s_change_free(void **item)
{
    cairn_change_destroy((cairn_change_t **)item);
}

cairn_replay_t *cairn_replay_new(cairn_policy_t *candidate, int64_t since_ms)
{
    cairn_replay_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->since_ms = since_ms;
    self->ledger_size = -1;
    self->changes = zhashx_new();
    self->pending = zhashx_new();
    self->latest_by_key = zhashx_new();
    self->unrecorded = calloc(candidate->n_gates ? candidate->n_gates : 1, sizeof(uint64_t));
    if (!self->changes || !self->pending || !self->unrecorded || !self->latest_by_key) {
        cairn_replay_destroy(&self);
        return NULL;
    }
    zhashx_set_destructor(self->changes, s_change_free);
    zhashx_set_destructor(self->pending, s_pending_free);
    self->p = cairn_policy_ref(candidate);
    return self;
}

static void s_diff_free(cairn_replay_diff_t *d)
{
    free(d->change);
    free(d->gate);
    free(d->old_policy);
    free(d->old_digest);
    s_rules_free(d->old_rules, d->n_old_rules);
    s_rules_free(d->new_rules, d->n_new_rules);
}

void cairn_replay_destroy(cairn_replay_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_replay_t *self = *self_p;
    zhashx_destroy(&self->changes);
    zhashx_destroy(&self->pending);
    zhashx_destroy(&self->latest_by_key);
    for (size_t i = 0; i < self->n_latest; i++) {
        free(self->latest[i]->change);
        free(self->latest[i]);
    }
    free(self->latest);
    for (size_t i = 0; i < self->n_diffs; i++)
        s_diff_free(&self->diffs[i]);
    free(self->diffs);
    free(self->unrecorded);
    cairn_policy_unref(&self->p);
    free(self);
    *self_p = NULL;
}

/* The reasons that decide a verdict: everything that failed or is missing. */
static int s_deciding(const Cairn__V1__Verdict *v, cairn_replay_rule_t **out, size_t *n_out)
{
    size_t n = 0;
    for (size_t i = 0; i < v->n_reasons; i++)
        if (strcmp(v->reasons[i]->result, "fail") == 0 ||
            strcmp(v->reasons[i]->result, "missing") == 0)
            n++;
    *out = NULL;
    *n_out = 0;
    if (!n)
        return 0;
    cairn_replay_rule_t *rules = calloc(n, sizeof *rules);
    if (!rules)
        return -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < v->n_reasons; i++) {
        const Cairn__V1__Reason *r = v->reasons[i];
        if (strcmp(r->result, "fail") != 0 && strcmp(r->result, "missing") != 0)
            continue;
        rules[k].rule = strdup(r->rule_id);
        rules[k].result = strdup(r->result);
        rules[k].message = strdup(r->message);
        if (!rules[k].rule || !rules[k].result || !rules[k].message) {
            s_rules_free(rules, k + 1);
            return -ENOMEM;
        }
        k++;
    }
    *out = rules;
    *n_out = k;
    return 0;
}

static void s_key(char *buf, size_t len, uint64_t trigger, const char *gate, const char *change)
{
    snprintf(buf, len, "%" PRIu64 ":%s:%s", trigger, gate, change);
}

static bool s_comparing(const cairn_replay_t *self, uint64_t index)
{
    return self->since_reached && index >= self->since_index;
}

static int s_event(cairn_replay_t *self, const Cairn__V1__Entry *entry, const Cairn__V1__Event *ev,
                   const char *id)
{
    cairn_change_t *c = zhashx_lookup(self->changes, id);
    if (!c) {
        if (!(c = cairn_change_new(id)) || zhashx_insert(self->changes, id, c) != 0) {
            cairn_change_destroy(&c);
            return -ENOMEM;
        }
        self->stats.changes++;
    }
    int rc = cairn_change_apply_event(c, ev, entry->index);
    if (rc < 0)
        return rc;
    self->stats.events++;
    if (!s_comparing(self, entry->index))
        return 0;
    /* Exactly what the daemon does: the trigger's own time, the change's environment. */
    int64_t at = ev->received_at_ms ? ev->received_at_ms : entry->appended_at_ms;
    cairn_eval_opts_t o = {.environment = NULL, .now_ms = at, .trigger_index = entry->index};
    cairn_evaluation_t e;
    if ((rc = cairn_evaluate_change(self->p, id, c, &o, &e)) < 0)
        return rc;
    Cairn__V1__Verdict **vs = e.verdicts;
    size_t n = e.n;
    self->stats.evaluated++;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char key[CAIRN_CHANGE_ID_MAX + 256];
        s_pending_t *pd = calloc(1, sizeof *pd);
        if (!pd) {
            rc = -ENOMEM;
            break;
        }
        pd->gate = i;
        pd->decision = vs[i]->decision;
        if ((rc = s_deciding(vs[i], &pd->rules, &pd->n_rules)) < 0) {
            free(pd);
            break;
        }
        s_key(key, sizeof key, entry->index, vs[i]->gate, id);
        /* A repeated trigger cannot happen in a ledger; keep the first. */
        if (zhashx_insert(self->pending, key, pd) != 0) {
            void *item = pd;
            s_pending_free(&item);
        }
    }
    cairn_evaluation_clear(&e);
    return rc;
}

/* Remembers the latest comparison of (change, gate). */
static int s_note_latest(cairn_replay_t *self, const Cairn__V1__Verdict *v, Cairn__V1__Decision now)
{
    char key[CAIRN_CHANGE_ID_MAX + 256];
    snprintf(key, sizeof key, "%s:%s", v->gate, v->change_id);
    s_latest_t *l = zhashx_lookup(self->latest_by_key, key);
    if (!l) {
        if (self->n_latest == self->cap_latest) {
            size_t cap = self->cap_latest ? self->cap_latest * 2 : 64;
            s_latest_t **grown = realloc(self->latest, cap * sizeof *grown);
            if (!grown)
                return -ENOMEM;
            self->latest = grown;
            self->cap_latest = cap;
        }
        if (!(l = calloc(1, sizeof *l)) || !(l->change = strdup(v->change_id)) ||
            zhashx_insert(self->latest_by_key, key, l) != 0) {
            if (l)
                free(l->change);
            free(l);
            return -ENOMEM;
        }
        self->latest[self->n_latest++] = l;
    }
    l->old = v->decision;
    l->now = now;
    return 0;
}

static int s_verdict(cairn_replay_t *self, const Cairn__V1__Entry *entry,
                     const Cairn__V1__Verdict *v)
{
    if (!s_comparing(self, v->trigger_index))
        return 0;
    char key[CAIRN_CHANGE_ID_MAX + 256];
    if (strlen(v->change_id) > CAIRN_CHANGE_ID_MAX)
        return 0;
    s_key(key, sizeof key, v->trigger_index, v->gate, v->change_id);
    s_pending_t *pd = zhashx_lookup(self->pending, key);
    if (!pd) {
        self->stats.unmatched++;
        return 0;
    }
    self->stats.compared++;
    int rc = s_note_latest(self, v, pd->decision);
    if (rc < 0)
        return rc;
    if (pd->decision != v->decision) {
        if (self->n_diffs == self->cap_diffs) {
            size_t cap = self->cap_diffs ? self->cap_diffs * 2 : 16;
            cairn_replay_diff_t *grown = realloc(self->diffs, cap * sizeof *grown);
            if (!grown)
                return -ENOMEM;
            self->diffs = grown;
            self->cap_diffs = cap;
        }
        cairn_replay_diff_t *d = &self->diffs[self->n_diffs];
        memset(d, 0, sizeof *d);
        char policy[512];
        snprintf(policy, sizeof policy, "%s %s", v->policy_name, v->policy_revision);
        d->change = strdup(v->change_id);
        d->gate = strdup(v->gate);
        d->old_policy = strdup(policy);
        d->old_digest = strdup(v->policy_digest);
        d->trigger_index = v->trigger_index;
        d->recorded_index = entry->index;
        d->old_decision = v->decision;
        d->new_decision = pd->decision;
        /* The candidate's rules move into the diff. */
        d->new_rules = pd->rules;
        d->n_new_rules = pd->n_rules;
        pd->rules = NULL;
        pd->n_rules = 0;
        rc = s_deciding(v, &d->old_rules, &d->n_old_rules);
        if (rc < 0 || !d->change || !d->gate || !d->old_policy || !d->old_digest) {
            s_diff_free(d);
            return -ENOMEM;
        }
        self->n_diffs++;
        self->stats.changed++;
    }
    zhashx_delete(self->pending, key);
    return rc;
}

int cairn_replay_feed(cairn_replay_t *self, const Cairn__V1__Entry *entry)
{
    if (!self->started) {
        self->started = true;
        self->stats.first_index = entry->index;
    }
    self->stats.entries++;
    if (!self->since_reached && entry->appended_at_ms >= self->since_ms) {
        self->since_reached = true;
        self->since_index = entry->index;
    }
    Cairn__V1__Record *rec = NULL;
    if (entry->record.len == 0 ||
        cairn_codec_record_unpack(entry->record.data, entry->record.len, &rec) < 0) {
        self->stats.undecodable++;
        return 0;
    }
    int rc = 0;
    const char *id = cairn_codec_record_change(rec);
    /* The same choice as the daemon's: events that name a storable change. */
    if (rec->body_case == CAIRN__V1__RECORD__BODY_EVENT && *id && strlen(id) <= CAIRN_CHANGE_ID_MAX)
        rc = s_event(self, entry, rec->event, id);
    else if (rec->body_case == CAIRN__V1__RECORD__BODY_VERDICT)
        rc = s_verdict(self, entry, rec->verdict);
    CAIRN_CODEC_FREE(&rec);
    return rc;
}

void cairn_replay_finish(cairn_replay_t *self)
{
    for (s_pending_t *pd = zhashx_first(self->pending); pd; pd = zhashx_next(self->pending)) {
        self->stats.unrecorded++;
        if (pd->gate < self->p->n_gates)
            self->unrecorded[pd->gate]++;
    }
    zhashx_purge(self->pending);
}

int cairn_replay_run(cairn_replay_t *self, cairn_ledger_link_t *link)
{
    uint64_t from = 0, end = 0;
    bool first = true;
    for (;;) {
        Cairn__V1__LedgerReply *reply = NULL;
        int rc = cairn_ledger_link_replay(link, from, &reply);
        if (rc < 0)
            return rc;
        if (first) {
            end = reply->size; /* later appends are not part of this replay */
            first = false;
        }
        size_t used = 0;
        for (size_t i = 0; i < reply->n_entries && rc == 0; i++) {
            const Cairn__V1__Entry *e = reply->entries[i];
            if (e->index < from || e->index >= end)
                continue;
            if (e->index > from) {
                rc = CAIRN_EINTEGRITY; /* the ledger skipped entries */
                break;
            }
            rc = cairn_replay_feed(self, e);
            from = e->index + 1;
            used++;
        }
        CAIRN_CODEC_FREE(&reply);
        if (rc < 0)
            return rc;
        if (from >= end || used == 0)
            break;
    }
    self->ledger_size = (int64_t)end;
    cairn_replay_finish(self);
    return from >= end ? 0 : CAIRN_EINTEGRITY;
}

const cairn_replay_diff_t *cairn_replay_diffs(const cairn_replay_t *self, size_t *n)
{
    *n = self->n_diffs;
    return self->diffs;
}

const cairn_replay_stats_t *cairn_replay_stats(const cairn_replay_t *self)
{
    return &self->stats;
}

size_t cairn_replay_changes(const cairn_replay_t *self, bool blocked, const char ***out)
{
    const char **list = calloc(self->n_latest ? self->n_latest : 1, sizeof *list);
    size_t n = 0;
    *out = list;
    if (!list)
        return 0;
    for (size_t i = 0; i < self->n_latest; i++) {
        const s_latest_t *l = self->latest[i];
        bool was = l->old == CAIRN__V1__DECISION__DECISION_ALLOW;
        bool now = l->now == CAIRN__V1__DECISION__DECISION_ALLOW;
        if (blocked ? !(was && !now) : !(!was && now))
            continue;
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(list[k], l->change) == 0;
        if (!seen)
            list[n++] = l->change;
    }
    return n;
}

/* ---- the report ------------------------------------------------------------- */

static void s_rules_text(FILE *out, const char *label, const cairn_replay_rule_t *rules, size_t n,
                         Cairn__V1__Decision d)
{
    if (!n) {
        fprintf(out, "      %s %s: %s\n", label, cairn_decision_name(d),
                d == CAIRN__V1__DECISION__DECISION_ALLOW ? "every rule passed"
                                                         : "no rule failed or is missing");
        return;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(out, "      %s %-7s %s: %s\n", i ? "   " : label, rules[i].result, rules[i].rule,
                rules[i].message);
}

static void s_list_text(FILE *out, const char *label, const char **list, size_t n)
{
    fprintf(out, "%s", label);
    if (!n)
        fprintf(out, " none");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s %s", i ? "," : "", list[i]);
    fprintf(out, "\n");
}

void cairn_replay_render(const cairn_replay_t *self, FILE *out)
{
    const cairn_replay_stats_t *st = &self->stats;
    const cairn_policy_t *p = self->p;
    fprintf(out, "policy %s revision %s (%s)\n", p->name, *p->revision ? p->revision : "-",
            p->digest);
    if (st->entries)
        fprintf(out,
                "replayed ledger entries %" PRIu64 "..%" PRIu64 ": %" PRIu64 " events of %" PRIu64
                " changes",
                st->first_index, st->first_index + st->entries - 1, st->events, st->changes);
    else
        fprintf(out, "the ledger is empty");
    if (self->since_ms) {
        char when[32];
        cairn_format_time(self->since_ms, when);
        fprintf(out, "; comparing events appended since %s", when);
    }
    fprintf(out, "\n");
    fprintf(out, "%" PRIu64 " of %" PRIu64 " recorded verdicts would change\n", st->changed,
            st->compared);
    for (size_t i = 0; i < self->n_diffs; i++) {
        const cairn_replay_diff_t *d = &self->diffs[i];
        fprintf(out, "  %s gate %s (event %" PRIu64 ", verdict %" PRIu64 "): %s -> %s\n", d->change,
                d->gate, d->trigger_index, d->recorded_index, cairn_decision_name(d->old_decision),
                cairn_decision_name(d->new_decision));
        s_rules_text(out, "now", d->new_rules, d->n_new_rules, d->new_decision);
        s_rules_text(out, "was", d->old_rules, d->n_old_rules, d->old_decision);
    }
    const char **list = NULL;
    size_t n = cairn_replay_changes(self, true, &list);
    s_list_text(out, "changes it would block:", list, n);
    free(list);
    n = cairn_replay_changes(self, false, &list);
    s_list_text(out, "changes it would allow:", list, n);
    free(list);
    for (size_t g = 0; g < p->n_gates; g++)
        if (self->unrecorded[g])
            fprintf(out,
                    "gate %s: %" PRIu64 " verdicts the ledger has no record of (a gate the "
                    "recording policy did not have)\n",
                    p->gates[g].name, self->unrecorded[g]);
    if (st->unmatched)
        fprintf(out,
                "%" PRIu64 " recorded verdicts have no counterpart (gates this policy does not "
                "have, or events that no longer decode)\n",
                st->unmatched);
    if (st->undecodable)
        fprintf(out, "%" PRIu64 " entries could not be read (purged or damaged payloads)\n",
                st->undecodable);
}

static json_t *s_rules_json(const cairn_replay_rule_t *rules, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "rule", rules[i].rule, "result",
                                             rules[i].result, "message", rules[i].message));
    return arr;
}

static json_t *s_strings_json(const char **list, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++)
        json_array_append_new(arr, json_string(list[i]));
    free(list);
    return arr;
}

json_t *cairn_replay_json(const cairn_replay_t *self)
{
    const cairn_replay_stats_t *st = &self->stats;
    const cairn_policy_t *p = self->p;
    json_t *diffs = json_array();
    for (size_t i = 0; diffs && i < self->n_diffs; i++) {
        const cairn_replay_diff_t *d = &self->diffs[i];
        json_array_append_new(diffs,
                              json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:o, s:o, s:{s:s, s:s}}",
                                        "change", d->change, "gate", d->gate, "trigger_index",
                                        (json_int_t)d->trigger_index, "verdict_index",
                                        (json_int_t)d->recorded_index, "old",
                                        cairn_decision_name(d->old_decision), "new",
                                        cairn_decision_name(d->new_decision), "new_rules",
                                        s_rules_json(d->new_rules, d->n_new_rules), "old_rules",
                                        s_rules_json(d->old_rules, d->n_old_rules), "old_policy",
                                        "name", d->old_policy, "digest", d->old_digest));
    }
    json_t *unrecorded = json_object();
    for (size_t g = 0; unrecorded && g < p->n_gates; g++)
        if (self->unrecorded[g])
            json_object_set_new(unrecorded, p->gates[g].name,
                                json_integer((json_int_t)self->unrecorded[g]));
    const char **blocked = NULL, **allowed = NULL;
    size_t nb = cairn_replay_changes(self, true, &blocked);
    size_t na = cairn_replay_changes(self, false, &allowed);
    char since[32] = "";
    if (self->since_ms)
        cairn_format_time(self->since_ms, since);
    return json_pack("{s:{s:s, s:s, s:s, s:s}, s:s?, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
                     "s:I, s:I, s:o, s:o, s:o, s:o}",
                     "policy", "name", p->name, "revision", p->revision, "digest", p->digest,
                     "source", p->source, "since", self->since_ms ? since : NULL, "first_index",
                     (json_int_t)st->first_index, "entries", (json_int_t)st->entries, "events",
                     (json_int_t)st->events, "changes", (json_int_t)st->changes, "evaluated",
                     (json_int_t)st->evaluated, "compared", (json_int_t)st->compared, "changed",
                     (json_int_t)st->changed, "unmatched", (json_int_t)st->unmatched, "undecodable",
                     (json_int_t)st->undecodable, "unrecorded_total", (json_int_t)st->unrecorded,
                     "unrecorded", unrecorded, "diffs", diffs, "would_block",
                     s_strings_json(blocked, nb), "would_allow", s_strings_json(allowed, na));
}
