/* The policy's durable state: every change's facts, approvals, evidence and
 * last decisions, plus the next ledger index to apply, in LMDB at
 * policy.state_path. A change and the next index are always written in the
 * same transaction, so after a crash the daemon resumes exactly where its
 * state ends (DESIGN §3: exactly-once in effect).
 *
 * Layout (values are protobuf, through the codecs):
 *   meta    "next_index"   -> u64 (8 bytes, big-endian)
 *   meta    "layout"       -> u64: 2. A store without it (or another value)
 *                             was written by an older daemon: it is emptied
 *                             when opened and re-derived from the ledger.
 *   changes "s" 0 <id>     -> PolicyStateChange (proto/cairn/v1/policy_state.proto):
 *                             every fact, approval, evidence and last decision
 *   changes "r" 0 <id>     -> u64: due time of an open post-implementation
 *                             review not yet alerted as overdue (an index, so
 *                             any event can find the overdue ones)
 * Change ids cannot hold NUL, so the separators keep prefixes unambiguous. */
#ifndef CAIRN_POLICY_STATE_H
#define CAIRN_POLICY_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "change.h"

typedef struct cairn_state_t cairn_state_t;

/* Opens (creating) the store in directory dir. */
int cairn_state_open(const char *dir, cairn_state_t **out);
void cairn_state_destroy(cairn_state_t **self_p);

/* Reads one change (*change_out = NULL when it has no state) and the next
 * index, from one consistent snapshot. Either out-pointer may be NULL. */
int cairn_state_read(cairn_state_t *self, const char *change_id, cairn_change_t **change_out,
                     uint64_t *next_out);

/* Writes change (NULL: none) and the next index in one durable transaction. */
int cairn_state_commit(cairn_state_t *self, const cairn_change_t *change, uint64_t next_index);

/* Whether opening found a store of an older layout and emptied it. */
bool cairn_state_was_reset(const cairn_state_t *self);

/* Ids of the changes whose open review was due at or before at_ms and is
 * not yet alerted (malloc'd array of malloc'd strings, ordered by id). */
int cairn_state_due_reviews(cairn_state_t *self, int64_t at_ms, char ***ids_out, size_t *n_out);
void cairn_state_ids_free(char ***ids_p, size_t n);

#endif
