/* The verdict cache: gate queries answered from verdicts already computed.
 *
 * A verdict is a pure function of the policy, the change's stored state,
 * the environment and the time, and an evaluation knows until when its
 * time-dependent results hold (evaluate.h, valid_until). So a verdict
 * computed at time `at` for a state answers a gate query at any time in
 * [at, valid_until) while the policy in force and the change's stored
 * bytes are still the same: the answer is what evaluating again would give,
 * byte for byte, with evaluated_at_ms set to the query's time.
 *
 * The engine puts the verdicts it has just appended for a change (computed
 * at the change's last event); the query thread puts the verdicts it
 * computes on a miss. An entry is checked on every use against the policy
 * (the cache holds a reference, so a reload never matches an old entry)
 * and the stored bytes of the change read in the same snapshot as the
 * reply's applied_index, so an entry can never answer for a state it was
 * not computed from: anything that does not match is a miss and the gate is
 * evaluated live. Entries are evicted least recently used first beyond the
 * byte budget. Thread-safe. */
#ifndef CAIRN_POLICY_VERDICT_CACHE_H
#define CAIRN_POLICY_VERDICT_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "policy_model.h"

/* Default byte budget: about 10,000 changes' worth of a large verdict. */
#define CAIRN_VERDICT_CACHE_BYTES ((size_t)128 << 20)

typedef struct cairn_verdict_cache_t cairn_verdict_cache_t;

cairn_verdict_cache_t *cairn_verdict_cache_new(size_t budget_bytes);
void cairn_verdict_cache_destroy(cairn_verdict_cache_t **self_p);

/* What an evaluation was computed from. */
typedef struct {
    cairn_policy_t *policy;  /* the policy (a reference is taken when stored) */
    const char *change_id;   /* the change */
    const uint8_t *state;    /* its stored bytes (state.c) */
    size_t state_len;        /* bytes in state */
    const char *environment; /* the environment evaluated for (the change's own) */
    int64_t at_ms;           /* the evaluation's time */
    int64_t valid_until_ms;  /* until when it holds (exclusive) */
} cairn_cache_basis_t;

/* Stores the verdict of gate gi (of the policy's n_gates) computed on basis. */
int cairn_verdict_cache_put(cairn_verdict_cache_t *self, const cairn_cache_basis_t *basis,
                            size_t gi, const Cairn__V1__Verdict *v);

/* The encoded PolicyReply {verdict of gate gi at now_ms, applied_index}
 * when an entry computed on the same policy, change bytes and environment
 * (environment "" or NULL: the change's own) holds at now_ms. 0 with a
 * malloc'd *reply_out; CAIRN_ENOTFOUND on a miss. */
int cairn_verdict_cache_reply(cairn_verdict_cache_t *self, const cairn_policy_t *policy,
                              const char *change_id, const uint8_t *state, size_t state_len,
                              const char *environment, size_t gi, int64_t now_ms,
                              uint64_t applied_index, uint8_t **reply_out, size_t *reply_len);

/* Drops every entry (a new policy is in force: none would match). */
void cairn_verdict_cache_clear(cairn_verdict_cache_t *self);

/* Counters: answers given, misses, entries and bytes held. */
typedef struct {
    uint64_t hits;
    uint64_t misses;
    size_t entries;
    size_t bytes;
} cairn_verdict_cache_stats_t;

void cairn_verdict_cache_stats(cairn_verdict_cache_t *self, cairn_verdict_cache_stats_t *out);

#endif
