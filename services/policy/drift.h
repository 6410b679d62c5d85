/* Drift: a change that reached production without the policy's consent.
 *
 * A deployment event (Evidence.kind "deployment": CDEvents
 * service.deployed / upgraded / rolledback) whose own environment is
 * production ("prod" or "production", any case) is checked against what
 * the policy last published for its change at the deployment gate (the
 * gate named "deployment"; a policy without one: every gate). It is
 * unauthorized when
 *   - the event names no change, or a change the policy has no events for;
 *   - the last published decision at that gate is not allow;
 *   - the event states a commit other than the change's current one or the
 *     merge commit it became (the allow was given for another commit).
 * An unauthorized deployment raises one alert of kind `drift`, severity
 * `high`, appended under "alert:drift:<change>:<trigger index>"; that entry
 * is the finding. The check runs before the event is folded into the
 * change, so it sees the decisions in force when the deployment happened,
 * and it is a pure function of the stored state and the event: a replay
 * raises the same alerts under the same keys. */
#ifndef CAIRN_POLICY_DRIFT_H
#define CAIRN_POLICY_DRIFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts.h"
#include "cairn/codec.h"
#include "change.h"
#include "ledger_link.h"
#include "policy_model.h"
#include "policy_slot.h"
#include "state.h"

/* Whether an event reports a deployment to production. */
bool cairn_drift_is_prod_deployment(const Cairn__V1__Event *ev);

/* The drift alert for deployment event ev at ledger index `index` of change
 * c (NULL when the policy has no events for it), or out->alert NULL when
 * the deployment was authorized or is not a production deployment. */
int cairn_drift_evaluate(const cairn_policy_t *p, const cairn_change_t *c,
                         const Cairn__V1__Event *ev, uint64_t index, int64_t at_ms,
                         cairn_alert_out_t *out);

typedef struct cairn_drift_t cairn_drift_t;

/* Reads changes from state and appends alerts through link (neither owned). */
cairn_drift_t *cairn_drift_new(cairn_state_t *state, cairn_policy_slot_t *slot,
                               cairn_ledger_link_t *link);
void cairn_drift_destroy(cairn_drift_t **self_p);

/* The engine's hook for every ledger entry, before the entry is applied:
 * for a production deployment, evaluates drift and appends the alert.
 * Negative when the alert could not be appended (the entry must be retried). */
int cairn_drift_check(cairn_drift_t *self, const Cairn__V1__Entry *entry,
                      const Cairn__V1__Record *rec);

/* Drift alerts appended (or acknowledged as duplicates) so far. */
uint64_t cairn_drift_count(const cairn_drift_t *self);

#endif
