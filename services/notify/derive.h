/* How a ledger record becomes an alert that can be routed: its labels, its
 * identity, whether it fires or resolves, and the content people read.
 *
 * Labels of a verdict:
 *   kind=verdict, change, gate, decision (allow/deny/pending/manual),
 *   env (verdict environment, else the change's), risk and change_type (the
 *   verdict's, else the change's), severity (deny/manual: warning, else info),
 *   role (the roles that may fill an open approval, comma-separated, sorted).
 * Labels of an alert:
 *   every label the alert carries (environment is renamed env, roles role),
 *   kind (the alert kind), severity, change, and decision pending for
 *   approval_requested, deny for gate_denied.
 * Both get the change's facts learned from its events: service, release,
 * team (the events' `team`, else service_teams[service] from the routes
 * file), and risk, change_type, env when the record does not state them.
 *
 * Identity (the fingerprint an alert is updated and resolved by): the labels
 * kind, change, gate, env, escalation, receiver, group. A newer record with
 * the same identity replaces the older one. A verdict that allows resolves
 * its own identity; any verdict resolves approval_requested at its change,
 * gate and env unless it is pending, and gate_denied unless it denies. */
#ifndef CAIRN_NOTIFY_DERIVE_H
#define CAIRN_NOTIFY_DERIVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "labels.h"

#define CAIRN_DERIVE_MAX_RESOLVES 2

typedef struct {
    cairn_labels_t *labels; /* routing labels */
    uint64_t fingerprint;   /* identity */
    bool resolved;          /* this record resolves its identity */
    json_t *body;           /* {line, title, text, roles[], required[], who, how} */
    uint64_t resolves[CAIRN_DERIVE_MAX_RESOLVES]; /* identities this record resolves */
    size_t n_resolves;
} cairn_derived_t;

/* Derives the alert for a verdict or alert entry. facts is the change's
 * facts object (or NULL); service_teams maps service to team (or NULL).
 * CAIRN_EINVALID for other records. Clear *out with cairn_derived_clear. */
int cairn_derive(const Cairn__V1__Entry *entry, const Cairn__V1__Record *rec, const json_t *facts,
                 const cairn_labels_t *service_teams, cairn_derived_t *out);

void cairn_derived_clear(cairn_derived_t *d);

/* The identity fingerprint of a label set. */
uint64_t cairn_derive_identity(const cairn_labels_t *labels);

/* Updates a change's facts object from one of its events (service, env,
 * release, team, author, risk, change_type, repository). Returns 1 when
 * something changed, 0 when not, or a negative code. */
int cairn_derive_facts_from_event(const Cairn__V1__Event *ev, json_t *facts);

/* Updates facts from a verdict (risk, change_type, env). Same returns. */
int cairn_derive_facts_from_verdict(const Cairn__V1__Verdict *v, json_t *facts);

#endif
