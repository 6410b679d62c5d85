/* The policy's durable state: every change's facts, approvals, evidence and
 * last decisions, plus the next ledger index to apply, in LMDB at
 * policy.state_path. A change and the next index are always written in the
 * same transaction, so after a crash the daemon resumes exactly where its
 * state ends (DESIGN §3: exactly-once in effect).
 *
 * Layout (values are protobuf, through the codecs):
 *   meta    "next_index"   -> u64 (8 bytes, big-endian)
 *   meta    "layout"       -> u64: 4. A store without it (or another value)
 *                             was written by an older daemon: it is emptied
 *                             when opened and re-derived from the ledger.
 *   changes "s" 0 <id>     -> PolicyStateChange (proto/cairn/v1/policy_state.proto):
 *                             every fact, approval, evidence and last decision
 *   changes "r" 0 <id>     -> u64: due time of an open post-implementation
 *                             review not yet alerted as overdue (an index, so
 *                             any event can find the overdue ones)
 *   changes "k" 0 <key>    -> change id: the latest change an event carrying
 *                             that correlation key named (keys.h)
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

/* The same, also pointing each of keys[0..n_keys) at change (which must
 * not be NULL then). */
int cairn_state_commit_keys(cairn_state_t *self, const cairn_change_t *change, char *const *keys,
                            size_t n_keys, uint64_t next_index);

/* The bytes a change is stored as (malloc'd). */
int cairn_state_pack(const cairn_change_t *change, uint8_t **out, size_t *len_out);

/* A change as cairn_state_find found it. */
typedef struct {
    char *id;       /* the change (malloc'd; NULL when nothing was found) */
    uint8_t *bytes; /* its stored state, as cairn_state_pack writes it (malloc'd) */
    size_t len;     /* bytes in it */
    bool by_key;    /* found through the correlation key index */
    uint64_t next;  /* the next ledger index to apply */
} cairn_state_found_t;

/* Finds the change named key: a change with that id, else the one its
 * correlation key names (keys.h), from one consistent snapshot. Nothing
 * found is not an error (out->id NULL). */
int cairn_state_find(cairn_state_t *self, const char *key, cairn_state_found_t *out);
void cairn_state_found_clear(cairn_state_found_t *self);

/* The change stored as bytes (from cairn_state_find). */
int cairn_state_decode(const char *id, const uint8_t *bytes, size_t len, cairn_change_t **out);

/* Whether opening found a store of an older layout and emptied it. */
bool cairn_state_was_reset(const cairn_state_t *self);

/* Ids of the changes whose open review was due at or before at_ms and is
 * not yet alerted (malloc'd array of malloc'd strings, ordered by id). */
int cairn_state_due_reviews(cairn_state_t *self, int64_t at_ms, char ***ids_out, size_t *n_out);
void cairn_state_ids_free(char ***ids_p, size_t n);

#endif
