/* Replay: what a candidate policy would have decided over the ledger's
 * history, compared with the verdicts the ledger recorded.
 *
 * The ledger's entries are fed in log order. Every event that names a
 * change is folded into that change exactly as the policy daemon does
 * (change.c), and every gate is evaluated with the candidate at the
 * event's own received time, so the candidate's verdict for (change, gate,
 * trigger index) is what the daemon would have appended. Each recorded
 * Verdict entry names its trigger index; the two are compared, and every
 * verdict whose decision would change is reported with the rules that
 * decide it now and decided it then. Nothing is published: replay only
 * reads. The result depends on the ledger's entries alone (no clock), so
 * replaying the same ledger twice gives the same report.
 *
 * since_ms (0: none) limits the comparison to events appended at or after
 * that time; earlier events are still folded in, since they are the facts
 * later verdicts rest on. */
#ifndef CAIRN_POLICY_REPLAY_H
#define CAIRN_POLICY_REPLAY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cairn/codec.h"
#include "ledger_link.h"
#include "policy_model.h"

/* A rule as a verdict states it. */
typedef struct {
    char *rule;    /* rule id */
    char *result;  /* fail, missing, ... */
    char *message; /* the sentence */
} cairn_replay_rule_t;

/* One verdict that would change. */
typedef struct {
    char *change;                     /* change id */
    char *gate;                       /* gate */
    uint64_t trigger_index;           /* the event the verdict was computed for */
    uint64_t recorded_index;          /* ledger index of the recorded verdict */
    Cairn__V1__Decision old_decision; /* recorded */
    Cairn__V1__Decision new_decision; /* the candidate's */
    char *old_policy;                 /* "name revision" of the policy that recorded it */
    char *old_digest;                 /* its digest */
    cairn_replay_rule_t *old_rules;   /* rules that decided the recorded verdict (fail/missing) */
    size_t n_old_rules;
    cairn_replay_rule_t *new_rules; /* rules that decide the candidate's verdict */
    size_t n_new_rules;
} cairn_replay_diff_t;

typedef struct {
    uint64_t first_index; /* first entry fed */
    uint64_t entries;     /* entries fed */
    uint64_t undecodable; /* entries whose record did not decode (e.g. purged payloads) */
    uint64_t events;      /* events folded into a change */
    uint64_t changes;     /* distinct changes */
    uint64_t evaluated;   /* events the candidate evaluated (at or after since) */
    uint64_t compared;    /* recorded verdicts compared with the candidate's */
    uint64_t changed;     /* of those, the ones whose decision would change */
    uint64_t unrecorded;  /* candidate verdicts with no recorded verdict (new gates) */
    uint64_t unmatched;   /* recorded verdicts the candidate has no verdict for (removed gates) */
} cairn_replay_stats_t;

typedef struct cairn_replay_t cairn_replay_t;

/* A replay of candidate (a reference is taken). */
cairn_replay_t *cairn_replay_new(cairn_policy_t *candidate, int64_t since_ms);
void cairn_replay_destroy(cairn_replay_t **self_p);

/* Feeds the next entry, in log order. */
int cairn_replay_feed(cairn_replay_t *self, const Cairn__V1__Entry *entry);

/* Reads the whole ledger through link, page by page, up to the size it
 * had at the first page, feeding every entry; then finishes. */
int cairn_replay_run(cairn_replay_t *self, cairn_ledger_link_t *link);

/* Ends the replay: candidate verdicts never matched are counted. */
void cairn_replay_finish(cairn_replay_t *self);

/* The verdicts that would change, in the order the ledger recorded them. */
const cairn_replay_diff_t *cairn_replay_diffs(const cairn_replay_t *self, size_t *n);
const cairn_replay_stats_t *cairn_replay_stats(const cairn_replay_t *self);

/* Changes whose latest compared verdict at some gate was allow and would
 * not be ("would block"), or was not allow and would be ("would allow"),
 * in the order the ledger first names them. *out is a malloc'd array the
 * caller frees; the strings belong to the replay. */
size_t cairn_replay_changes(const cairn_replay_t *self, bool blocked, const char ***out);

/* The report: text for people, or one JSON object. */
void cairn_replay_render(const cairn_replay_t *self, FILE *out);
json_t *cairn_replay_json(const cairn_replay_t *self);

#endif
