/* The policy's durable state: every change's facts, approvals, evidence and
 * last decisions, plus the next ledger index to apply, in LMDB at
 * policy.state_path. A change and the next index are always written in the
 * same transaction, so after a crash the daemon resumes exactly where its
 * state ends (DESIGN §3: exactly-once in effect).
 *
 * Layout (values are protobuf, through the codecs):
 *   meta    "next_index"           -> u64 (8 bytes, big-endian)
 *   changes "c" 0 <id>             -> ChangeStatus: author, committers, commit,
 *                                     environment, approvals (void = rejection),
 *                                     gates (last decision; an approval
 *                                     obligation marks "awaiting approval"),
 *                                     input indexes
 *   changes "x" 0 <id>             -> Record{Event}: the facts ChangeStatus has no
 *                                     field for (service, deployer, verifier,
 *                                     change type, paths, data classes, lines
 *                                     changed, latest received time)
 *   changes "e" 0 <id> 0 <kind>    -> Entry{index, Record{Event{evidence, commit,
 *                                     received time}}}: latest evidence per kind
 * Change ids cannot hold NUL, so the separators keep prefixes unambiguous. */
#ifndef CAIRN_POLICY_STATE_H
#define CAIRN_POLICY_STATE_H

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

#endif
