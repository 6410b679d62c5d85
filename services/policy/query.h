/* Gate and status queries on bus.policy_query (ROUTER, PolicyRequest ->
 * PolicyReply), answered on their own thread so a slow ledger never delays
 * a `cairn gate`.
 *
 * - GateQuery{change, gate, environment}: the verdict for that gate, now,
 *   from the stored state with the policy in force: from the verdict cache
 *   (verdict_cache.h) when it holds one computed on the same policy and
 *   state that is still valid now, else evaluated (only that gate and the
 *   gates it waits on are written). A change with no events is pending
 *   ("no events recorded for change X"); an unknown gate is status
 *   CAIRN_ENOTFOUND with a sentence listing the gates.
 * - StatusQuery{change}: ChangeStatus with one verdict per gate, in policy
 *   order (pending verdicts for a change with no events).
 * The change may be named by its id or by a correlation key (keys.h:
 * "sha:<commit>", "pr:<repo>#<n>", ...); the reply names the change found
 * (Verdict.change_id, ChangeStatus.change_id). Every reply carries
 * applied_index, the next ledger index the policy will apply, so a client
 * can tell whether its event has been seen.
 * An instance that holds one partition of the changes (partition.h) answers
 * a key that names none of its changes and belongs to another partition
 * with status CAIRN_EPARTITION. */
#ifndef CAIRN_POLICY_QUERY_H
#define CAIRN_POLICY_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "partition.h"
#include "policy_slot.h"
#include "state.h"
#include "verdict_cache.h"

typedef struct cairn_query_t cairn_query_t;

/* Binds endpoint and starts the query thread. state, slot and cache (may
 * be NULL: no cache) are not owned and must outlive the query server.
 * partition (copied; NULL: all changes) and endpoints
 * (policy.partition_endpoints, not owned; may be NULL) select the changes
 * this instance answers for. */
int cairn_query_new(const char *endpoint, cairn_state_t *state, cairn_policy_slot_t *slot,
                    cairn_verdict_cache_t *cache, const cairn_partition_t *partition,
                    const char *endpoints, cairn_query_t **out);
void cairn_query_destroy(cairn_query_t **self_p);

/* Answers one encoded PolicyRequest at now_ms (the thread's work, exposed
 * for tests and the benchmark). cache may be NULL. *reply_out is a
 * malloc'd encoded PolicyReply. */
int cairn_query_answer(cairn_state_t *state, cairn_policy_slot_t *slot,
                       cairn_verdict_cache_t *cache, const uint8_t *req, size_t len, int64_t now_ms,
                       uint8_t **reply_out, size_t *reply_len);

#endif
