/* The right edge of the ledger's Merkle tree kept in memory, with the tree
 * hashes the current write batch added.
 *
 * The edge of a tree of n leaves is its largest perfect subtrees, one per
 * bit L set in n: (L, (n >> L) - 1). While a batch appends leaves n0..n1-1,
 * every perfect subtree it completes at level L has an index in
 * [n0 >> L, n1 >> L) and is kept here, in order. Those and the edge of n0
 * are every stored hash that appending the batch's leaves, the roots of the
 * trees of n0 and n1 leaves, and the inclusion proof of any of the batch's
 * leaves in the tree of n1 leaves ever read, so none of those needs LMDB.
 *
 * Every node of the tree of n leaves that is not a perfect subtree lies on
 * its right edge and covers [start, n) for a bit L of n, start being n with
 * bits 0..L cleared; the frontier keeps those hashes too (the partial folds
 * of the edge), so an inclusion proof in the committed tree hashes nothing.
 *
 * The store loads the edge once when it opens (and checks its root against
 * the last signed checkpoint), and keeps the last batch's hashes until the
 * next batch begins, for the receipts it answers after the commit. */
#ifndef CAIRN_LEDGER_FRONTIER_H
#define CAIRN_LEDGER_FRONTIER_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/merkle.h"

#define CAIRN_LEDGER_FRONTIER_LEVELS 64

/* Hashes of one level, for consecutive indexes from `first`. */
typedef struct {
    uint64_t first;                      /* index of hashes[0] */
    uint8_t (*hashes)[CAIRN_HASH_BYTES]; /* the hashes */
    size_t n, cap;                       /* used and allocated */
} cairn_ledger_level_t;

typedef struct {
    uint64_t size;       /* leaves of the committed tree */
    uint64_t base_size;  /* leaves of the tree the batch started from */
    uint64_t batch_size; /* leaves including the batch */
    uint8_t edge[CAIRN_LEDGER_FRONTIER_LEVELS][CAIRN_HASH_BYTES];      /* of size, per bit L */
    uint8_t base_edge[CAIRN_LEDGER_FRONTIER_LEVELS][CAIRN_HASH_BYTES]; /* of base_size */
    /* Per bit L of size: MTH of [size with bits 0..L cleared, size). */
    uint8_t right[CAIRN_LEDGER_FRONTIER_LEVELS][CAIRN_HASH_BYTES];
    cairn_ledger_level_t levels[CAIRN_LEDGER_FRONTIER_LEVELS]; /* hashes the batch completed */
} cairn_ledger_frontier_t;

/* Reads the edge of the tree of `size` leaves with get (at most 64 calls).
 * The batch is empty. */
int cairn_ledger_frontier_load(cairn_ledger_frontier_t *f, cairn_merkle_get_fn get, void *arg,
                               uint64_t size);

/* Root of the committed tree (the empty root for size 0). */
void cairn_ledger_frontier_root(const cairn_ledger_frontier_t *f, uint8_t out[CAIRN_HASH_BYTES]);

/* RFC 9162 inclusion proof of leaf index in the committed tree (of f->size
 * leaves), leaf-first, into proof_out (room for CAIRN_MERKLE_MAX_PROOF
 * hashes). Perfect subtrees come from get (arg); the right edge's other
 * nodes from the frontier. CAIRN_EINVALID when index >= size; get's codes. */
int cairn_ledger_frontier_prove(const cairn_ledger_frontier_t *f, cairn_merkle_get_fn get,
                                void *arg, uint64_t index, uint8_t *proof_out, size_t *count_out);

/* Forgets the last batch's hashes and starts a batch on the committed tree. */
void cairn_ledger_frontier_begin(cairn_ledger_frontier_t *f);

/* Records a perfect subtree the batch completed (as cairn_merkle_append
 * calls its put: leaves in order, each followed by what it completes).
 * CAIRN_EINTERNAL for a hash out of that order; -ENOMEM. */
int cairn_ledger_frontier_put(cairn_ledger_frontier_t *f, unsigned level, uint64_t index,
                              const uint8_t hash[CAIRN_HASH_BYTES]);

/* A cairn_merkle_get_fn over the batch's hashes and the edges of the trees
 * before and after it: 0, or CAIRN_ENOTFOUND when (level, index) is none of
 * them. arg is the frontier. */
int cairn_ledger_frontier_get(void *arg, unsigned level, uint64_t index,
                              uint8_t out[CAIRN_HASH_BYTES]);

/* The batch was committed: its tree becomes the committed one. Its hashes
 * stay readable until the next begin. */
void cairn_ledger_frontier_commit(cairn_ledger_frontier_t *f);

/* The batch was dropped: the committed tree is unchanged. */
void cairn_ledger_frontier_abort(cairn_ledger_frontier_t *f);

/* Frees the batch storage (the struct itself is the caller's). */
void cairn_ledger_frontier_clear(cairn_ledger_frontier_t *f);

#endif
