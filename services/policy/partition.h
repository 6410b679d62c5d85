/* Policy partitions: several cairn-policy instances share the changes, each
 * evaluating only its own part (policy.partition = "i/N").
 *
 * A change belongs to partition cairn_partition_of(change id, N)
 * (cairn/partition.h: 64-bit FNV-1a mod N, no change: 0). The daemon, the
 * CLI and cairn-ingest use this one function, so `cairn gate` asks the
 * instance that holds the change.
 *
 * An instance follows the whole ledger stream but folds in, evaluates and
 * appends verdicts, alerts and drift findings only for its partition's
 * changes; overdue post-implementation reviews of its own changes are still
 * checked at every event's time, so the partitions together append exactly
 * what one instance would. A gate or status query for a key that names no
 * change this instance holds, and whose home partition is another, is
 * answered with status CAIRN_EPARTITION and a sentence naming that
 * partition (and its endpoint, from policy.partition_endpoints). */
#ifndef CAIRN_POLICY_PARTITION_H
#define CAIRN_POLICY_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/partition.h"
#include "state.h"

typedef struct {
    uint32_t index; /* this instance's partition, 0 <= index < count */
    uint32_t count; /* how many partitions share the changes (1: no partitioning) */
} cairn_partition_t;

/* Parses "i/N" (0 <= i < N <= CAIRN_PARTITION_MAX). 0 or CAIRN_ECONFIG. */
int cairn_partition_parse(const char *text, cairn_partition_t *out);

/* Whether change_id belongs to partition p (always, when p is NULL or
 * p->count <= 1). */
bool cairn_partition_owns(const cairn_partition_t *p, const char *change_id);

/* The query server's hook: when p is partitioned and the encoded
 * PolicyRequest names a key that finds no change in state and whose home
 * partition is another, writes the CAIRN_EPARTITION reply (malloc'd) and
 * returns 1; returns 0 when the query is this instance's to answer (also
 * for a request that does not decode: the normal answer explains it).
 * endpoints: policy.partition_endpoints (may be ""). Negative on failure. */
int cairn_partition_redirect(const cairn_partition_t *p, const char *endpoints,
                             cairn_state_t *state, const uint8_t *req, size_t len,
                             uint8_t **reply_out, size_t *reply_len);

#endif
