/* Correlation keys: the names other than its id that a change can be found
 * by (`cairn status KEY`, `cairn trail KEY`, and any query's change_id).
 *
 * Every event that names a change records its keys in the policy's state,
 * pointing at that change; a later event carrying the same key points it
 * at its own change (the latest wins):
 *
 *   sha:<commit>            correlation.commit_sha, and governance.merge_sha
 *                           (full SHAs, lower case)
 *   pr:<repository>#<n>     correlation.repository with pr_number
 *   cr:<number>             the change id of an event from an ITSM source
 *                           (ServiceNow, Jira), where it is the change
 *                           request's number
 *   incident:<id>           correlation.incident_id
 *   release:<id>            correlation.release_id
 *   artifact:<digest>       correlation.artifact_digest
 *
 * A query key is tried as a change id first. Otherwise a key with one of
 * the prefixes above is looked up as it is; a bare key by its shape: 40 or
 * 64 hex digits as sha:, "<repository>#<n>" as pr:, anything else as
 * incident:, then release:, then cr:. */
#ifndef CAIRN_POLICY_KEYS_H
#define CAIRN_POLICY_KEYS_H

#include <stddef.h>

#include "cairn/v1/event.pb-c.h"

/* Longest key kept (the state store's keys are bounded). */
#define CAIRN_KEY_MAX 480

/* Most keys one event yields. */
#define CAIRN_KEYS_MAX 8

typedef struct {
    char *items[CAIRN_KEYS_MAX]; /* malloc'd keys */
    size_t n;                    /* how many */
} cairn_keys_t;

/* The keys of an event (none for an event that names no change); keys
 * longer than CAIRN_KEY_MAX are left out. 0 or -ENOMEM. */
int cairn_keys_of_event(const Cairn__V1__Event *ev, cairn_keys_t *out);
void cairn_keys_clear(cairn_keys_t *self);

/* The index keys a query key stands for, in the order they are tried
 * (malloc'd, up to CAIRN_KEYS_MAX). 0 or -ENOMEM. */
int cairn_keys_candidates(const char *key, cairn_keys_t *out);

#endif
