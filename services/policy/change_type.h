/* The change type: standard, normal or emergency, as the change's events
 * state it (governance.change_type, latest ITSM value; none stated is
 * normal), and the hard requirements each type's `require:` sets.
 *
 * A stated type the policy does not define is evaluated as normal (the
 * stricter path: no pre-approval, no freeze exemption), with a reason that
 * says so; a stated value that is no change type at all cannot be evaluated
 * and denies. `require: { risk_max }` fails when the classified risk is
 * higher, `require: { incident_ref: true }` when no event named an incident;
 * either denies. A standard change without its own `approvals:` is
 * pre-approved: no approval rule is in force for it. */
#ifndef CAIRN_POLICY_CHANGE_TYPE_H
#define CAIRN_POLICY_CHANGE_TYPE_H

#include <stdbool.h>

#include "cairn/codec.h"
#include "change.h"
#include "classify.h"
#include "findings.h"
#include "policy_model.h"

typedef struct {
    const char *name;               /* "standard", "normal" or "emergency" */
    const cairn_change_type_t *def; /* the policy's definition (NULL: none) */
    bool unreadable;                /* the stated value is no change type */
    bool downgraded;                /* stated a type the policy does not define */
} cairn_change_kind_t;

void cairn_change_type_pick(const cairn_policy_t *p, const cairn_change_t *c,
                            cairn_change_kind_t *out);

/* Adds the change type's reasons to v and raises *decision to deny when a
 * requirement fails or the type cannot be read. */
int cairn_change_type_explain(const cairn_change_kind_t *k, const cairn_classification_t *risk,
                              const cairn_change_t *c, cairn_findings_t *out,
                              Cairn__V1__Decision *decision);

/* Whether the change type is exempt from a window group ("freeze"). */
bool cairn_change_type_exempt(const cairn_change_kind_t *k, const char *group);

#endif
