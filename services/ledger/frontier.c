/* The tree's right edge in memory and the hashes of the current batch:
 * what the store reads instead of LMDB while appending, signing and
 * answering receipts for the entries it just wrote. */
#include "frontier.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

/* True when bit `level` of size is set: the edge holds (level, (size >> level) - 1). */
static bool s_on_edge(uint64_t size, unsigned level, uint64_t index)
{
    return ((size >> level) & 1) && index == (size >> level) - 1;
}

/* Folds the edge from its smallest subtree up: after bit L, the hash of the
 * right-edge node that starts at that subtree. */
static void s_fold_right(cairn_ledger_frontier_t *f)
{
    bool any = false;
    uint8_t acc[CAIRN_HASH_BYTES];
    for (unsigned level = 0; level < CAIRN_LEDGER_FRONTIER_LEVELS; level++) {
        if (!((f->size >> level) & 1))
            continue;
        if (any)
            cairn_merkle_node_hash(f->edge[level], acc, acc);
        else
            memcpy(acc, f->edge[level], CAIRN_HASH_BYTES);
        memcpy(f->right[level], acc, CAIRN_HASH_BYTES);
        any = true;
    }
}

int cairn_ledger_frontier_load(cairn_ledger_frontier_t *f, cairn_merkle_get_fn get, void *arg,
                               uint64_t size)
{
    f->size = 0;
    cairn_ledger_frontier_begin(f);
    for (unsigned level = 0; level < CAIRN_LEDGER_FRONTIER_LEVELS; level++) {
        if (!((size >> level) & 1))
            continue;
        int rc = get(arg, level, (size >> level) - 1, f->edge[level]);
        if (rc < 0)
            return rc;
    }
    f->size = size;
    s_fold_right(f);
    cairn_ledger_frontier_begin(f);
    return 0;
}

void cairn_ledger_frontier_root(const cairn_ledger_frontier_t *f, uint8_t out[CAIRN_HASH_BYTES])
{
    if (f->size == 0)
        cairn_merkle_empty_root(out);
    else
        memcpy(out, f->right[63 - __builtin_clzll(f->size)], CAIRN_HASH_BYTES);
}

int cairn_ledger_frontier_prove(const cairn_ledger_frontier_t *f, cairn_merkle_get_fn get,
                                void *arg, uint64_t index, uint8_t *proof_out, size_t *count_out)
{
    uint64_t lo = 0, hi = f->size;
    size_t count = 0;
    if (index >= hi)
        return CAIRN_EINVALID;
    /* RFC 9162 PATH from the root down (as cairn_merkle_inclusion_proof),
     * written leaf-first from the end of the proof. */
    uint8_t path[CAIRN_MERKLE_MAX_PROOF][CAIRN_HASH_BYTES];
    while (hi - lo > 1) {
        uint64_t n = hi - lo, k = (uint64_t)1 << (63 - __builtin_clzll(n - 1));
        uint64_t begin = lo, end = lo + k; /* the sibling: the left half... */
        if (index - lo < k) {
            begin = lo + k; /* ...or the right one */
            end = hi;
            hi = lo + k;
        } else {
            lo += k;
        }
        uint64_t width = end - begin;
        int rc = 0;
        if ((width & (width - 1)) == 0) {
            unsigned level = (unsigned)__builtin_ctzll(width);
            rc = get(arg, level, begin >> level, path[count]);
        } else {
            /* Not perfect: a right-edge node, [size with bits 0..L cleared, size). */
            unsigned level = 63u - (unsigned)__builtin_clzll(width);
            if (end != f->size || begin != (f->size & ~((2ull << level) - 1)))
                return CAIRN_EINTERNAL;
            memcpy(path[count], f->right[level], CAIRN_HASH_BYTES);
        }
        if (rc < 0)
            return rc;
        count++;
    }
    for (size_t i = 0; i < count; i++)
        memcpy(proof_out + i * CAIRN_HASH_BYTES, path[count - 1 - i], CAIRN_HASH_BYTES);
    *count_out = count;
    return 0;
}

void cairn_ledger_frontier_begin(cairn_ledger_frontier_t *f)
{
    f->base_size = f->batch_size = f->size;
    memcpy(f->base_edge, f->edge, sizeof f->edge);
    for (unsigned level = 0; level < CAIRN_LEDGER_FRONTIER_LEVELS; level++) {
        f->levels[level].first = f->size >> level;
        f->levels[level].n = 0;
    }
}

int cairn_ledger_frontier_put(cairn_ledger_frontier_t *f, unsigned level, uint64_t index,
                              const uint8_t hash[CAIRN_HASH_BYTES])
{
    if (level >= CAIRN_LEDGER_FRONTIER_LEVELS)
        return CAIRN_EINTERNAL;
    cairn_ledger_level_t *l = &f->levels[level];
    if (index != l->first + l->n)
        return CAIRN_EINTERNAL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        uint8_t(*grown)[CAIRN_HASH_BYTES] = realloc(l->hashes, cap * sizeof *grown);
        if (!grown)
            return -ENOMEM;
        l->hashes = grown;
        l->cap = cap;
    }
    memcpy(l->hashes[l->n++], hash, CAIRN_HASH_BYTES);
    if (level == 0)
        f->batch_size = index + 1;
    return 0;
}

int cairn_ledger_frontier_get(void *arg, unsigned level, uint64_t index,
                              uint8_t out[CAIRN_HASH_BYTES])
{
    const cairn_ledger_frontier_t *f = arg;
    if (level >= CAIRN_LEDGER_FRONTIER_LEVELS)
        return CAIRN_ENOTFOUND;
    const cairn_ledger_level_t *l = &f->levels[level];
    if (index >= l->first && index - l->first < l->n) {
        memcpy(out, l->hashes[index - l->first], CAIRN_HASH_BYTES);
        return 0;
    }
    if (s_on_edge(f->size, level, index)) {
        memcpy(out, f->edge[level], CAIRN_HASH_BYTES);
        return 0;
    }
    if (s_on_edge(f->base_size, level, index)) {
        memcpy(out, f->base_edge[level], CAIRN_HASH_BYTES);
        return 0;
    }
    return CAIRN_ENOTFOUND;
}

void cairn_ledger_frontier_commit(cairn_ledger_frontier_t *f)
{
    uint64_t size = f->batch_size;
    for (unsigned level = 0; level < CAIRN_LEDGER_FRONTIER_LEVELS; level++) {
        if (!((size >> level) & 1))
            continue;
        /* The new edge hash is the batch's, or still the old one. */
        const cairn_ledger_level_t *l = &f->levels[level];
        uint64_t index = (size >> level) - 1;
        if (index >= l->first && index - l->first < l->n)
            memcpy(f->edge[level], l->hashes[index - l->first], CAIRN_HASH_BYTES);
    }
    f->size = size;
    s_fold_right(f);
}

void cairn_ledger_frontier_abort(cairn_ledger_frontier_t *f)
{
    cairn_ledger_frontier_begin(f);
}

void cairn_ledger_frontier_clear(cairn_ledger_frontier_t *f)
{
    for (unsigned level = 0; level < CAIRN_LEDGER_FRONTIER_LEVELS; level++) {
        free(f->levels[level].hashes);
        f->levels[level] = (cairn_ledger_level_t){0};
    }
}
