/* The policy daemon's engine: loads the policy, follows the ledger, keeps
 * each change's state, evaluates every gate when an event touches a change,
 * appends one verdict per gate (and alerts on transitions) to the ledger,
 * and serves gate/status queries.
 *
 * For each ledger entry, in log order: an Event that names a change is
 * folded into that change's state, every gate is evaluated in policy order,
 * the verdicts ("verdict:<change>:<gate>:<index>") and alerts
 * ("alert:<kind>:<change>:<index>") are appended and acknowledged, and only
 * then are the state, the event's correlation keys (keys.h) and the next
 * index committed together; the verdicts then go to the verdict cache
 * (verdict_cache.h), from which the query thread answers gate queries while
 * they hold. If the ledger does not acknowledge, nothing is committed and the
 * entry is retried; the idempotency keys make the retry safe. Verdicts,
 * alerts and receipts on the stream are skipped (they never trigger
 * evaluation). With policy.partition = "i/N" the engine handles only its
 * partition's changes (partition.h) and skips the others' entries. */
#ifndef CAIRN_POLICY_ENGINE_H
#define CAIRN_POLICY_ENGINE_H

#include <stdint.h>

#include "cairn/config.h"

typedef struct cairn_policy_engine_t cairn_policy_engine_t;

/* Loads the policy (policy.file, or the built-in one), opens the state at
 * policy.state_path, connects to the ledger and binds bus.policy_query.
 * Returns CAIRN_EPOLICY (every problem logged) for an invalid policy. */
int cairn_policy_engine_new(const cairn_config_t *config, cairn_policy_engine_t **out);
void cairn_policy_engine_destroy(cairn_policy_engine_t **self_p);

/* One turn of the loop, waiting at most timeout_ms for ledger entries. */
void cairn_policy_engine_run_once(cairn_policy_engine_t *self, int timeout_ms);

/* Reloads the policy file; an invalid one is logged and the running policy kept. */
int cairn_policy_engine_reload(cairn_policy_engine_t *self);

/* The next ledger index to apply. */
uint64_t cairn_policy_engine_next(const cairn_policy_engine_t *self);

#endif
