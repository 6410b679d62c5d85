/* Tests for the frontier: the tree's right edge in memory and a batch's
 * hashes are every hash that appending the batch, the roots before and
 * after it, and the inclusion proofs of its leaves read, checked against a
 * complete map of the tree and a from-scratch root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "cairn/merkle.h"
#include "frontier.h"
#include "testutil.h"

#define S_LEAVES 700
#define S_LEVELS 11 /* 2^10 > S_LEAVES */

/* Every perfect subtree hash of the tree built so far, as the store keeps them in LMDB. */
typedef struct {
    uint8_t hash[S_LEVELS][S_LEAVES][CAIRN_HASH_BYTES]; /* (level, index) */
    bool set[S_LEVELS][S_LEAVES];                       /* written */
    uint8_t leaves[S_LEAVES][CAIRN_HASH_BYTES];         /* leaf hashes, for lt_mth */
    cairn_ledger_frontier_t frontier;                   /* under test */
    unsigned gets;                                      /* reads of the map */
} s_tree_t;

static int s_map_get(void *arg, unsigned level, uint64_t index, uint8_t out[CAIRN_HASH_BYTES])
{
    s_tree_t *t = arg;
    t->gets++;
    if (level >= S_LEVELS || index >= S_LEAVES || !t->set[level][index])
        return CAIRN_ENOTFOUND;
    memcpy(out, t->hash[level][index], CAIRN_HASH_BYTES);
    return 0;
}

/* Appending writes the map and the frontier, as the store writes LMDB and the frontier. */
static int s_put_both(void *arg, unsigned level, uint64_t index,
                      const uint8_t hash[CAIRN_HASH_BYTES])
{
    s_tree_t *t = arg;
    assert_true(level < S_LEVELS && index < S_LEAVES);
    assert_false(t->set[level][index]);
    memcpy(t->hash[level][index], hash, CAIRN_HASH_BYTES);
    t->set[level][index] = true;
    return cairn_ledger_frontier_put(&t->frontier, level, index, hash);
}

/* Reads only the frontier: a miss fails the caller. */
static int s_frontier_only(void *arg, unsigned level, uint64_t index, uint8_t out[CAIRN_HASH_BYTES])
{
    s_tree_t *t = arg;
    return cairn_ledger_frontier_get(&t->frontier, level, index, out);
}

static void s_leaf(uint64_t i, uint8_t out[CAIRN_HASH_BYTES])
{
    cairn_merkle_leaf_hash(&i, sizeof i, out);
}

/* Appends leaves n..n+count-1 reading only the frontier. */
static void s_append(s_tree_t *t, uint64_t n, uint64_t count)
{
    for (uint64_t i = n; i < n + count; i++) {
        s_leaf(i, t->leaves[i]);
        assert_int_equal(cairn_merkle_append(s_frontier_only, s_put_both, t, i, t->leaves[i]), 0);
    }
}

static void s_assert_root(s_tree_t *t, uint64_t size)
{
    uint8_t want[CAIRN_HASH_BYTES], got[CAIRN_HASH_BYTES];
    lt_mth((const uint8_t(*)[32])t->leaves, size, want);
    assert_int_equal(cairn_merkle_root(s_frontier_only, t, size, got), 0);
    assert_memory_equal(got, want, CAIRN_HASH_BYTES);
}

static void test_batches_read_no_hash_beyond_the_frontier(void **state)
{
    (void)state;
    static const uint64_t batches[] = {1, 1, 2, 3, 5, 8, 13, 1, 64, 7, 100, 255, 1, 31, 2, 128, 77};
    s_tree_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    uint64_t n = 0;
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        uint64_t n0 = n, n1 = n + batches[b];
        assert_true(n1 <= S_LEAVES);
        cairn_ledger_frontier_begin(&t->frontier);
        s_append(t, n0, batches[b]);
        /* Before the commit: the old root (the consistency check) and the new one. */
        if (n0 > 0)
            s_assert_root(t, n0);
        s_assert_root(t, n1);
        cairn_ledger_frontier_commit(&t->frontier);
        uint8_t root[CAIRN_HASH_BYTES], want[CAIRN_HASH_BYTES];
        cairn_ledger_frontier_root(&t->frontier, root);
        lt_mth((const uint8_t(*)[32])t->leaves, n1, want);
        assert_memory_equal(root, want, CAIRN_HASH_BYTES);
        /* After the commit: every receipt of the batch, equal to the one from the full map. */
        for (uint64_t i = n0; i < n1; i++) {
            uint8_t a[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
            uint8_t c[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES], lh[CAIRN_HASH_BYTES];
            size_t na = 0, nc = 0;
            assert_int_equal(s_frontier_only(t, 0, i, lh), 0);
            assert_memory_equal(lh, t->leaves[i], CAIRN_HASH_BYTES);
            assert_int_equal(cairn_merkle_inclusion_proof(s_frontier_only, t, i, n1, a,
                                                          CAIRN_MERKLE_MAX_PROOF, &na),
                             0);
            /* The frontier's own proof, its right edge folded once, is the same. */
            uint8_t e[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
            size_t ne = 0;
            assert_int_equal(
                cairn_ledger_frontier_prove(&t->frontier, s_frontier_only, t, i, e, &ne), 0);
            assert_int_equal(ne, na);
            assert_memory_equal(e, a, na * CAIRN_HASH_BYTES);
            assert_int_equal(
                cairn_merkle_inclusion_proof(s_map_get, t, i, n1, c, CAIRN_MERKLE_MAX_PROOF, &nc),
                0);
            assert_int_equal(na, nc);
            assert_memory_equal(a, c, na * CAIRN_HASH_BYTES);
            assert_int_equal(cairn_merkle_verify_inclusion(i, n1, lh, a, na, want), 0);
        }
        n = n1;
    }
    cairn_ledger_frontier_clear(&t->frontier);
    free(t);
}

static void test_loading_reads_one_hash_per_bit_of_the_size(void **state)
{
    (void)state;
    s_tree_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    cairn_ledger_frontier_begin(&t->frontier);
    s_append(t, 0, 613);
    cairn_ledger_frontier_commit(&t->frontier);

    cairn_ledger_frontier_t loaded;
    memset(&loaded, 0, sizeof loaded);
    t->gets = 0;
    assert_int_equal(cairn_ledger_frontier_load(&loaded, s_map_get, t, 613), 0);
    assert_int_equal(t->gets, __builtin_popcountll(613));
    uint8_t a[CAIRN_HASH_BYTES], b[CAIRN_HASH_BYTES];
    cairn_ledger_frontier_root(&loaded, a);
    lt_mth((const uint8_t(*)[32])t->leaves, 613, b);
    assert_memory_equal(a, b, CAIRN_HASH_BYTES);

    /* A hash the map lacks fails the load with the map's code. */
    t->set[0][612] = false;
    assert_int_equal(cairn_ledger_frontier_load(&loaded, s_map_get, t, 613), CAIRN_ENOTFOUND);
    cairn_ledger_frontier_clear(&loaded);
    cairn_ledger_frontier_clear(&t->frontier);
    free(t);
}

static void test_proofs_in_the_committed_tree_match_for_every_leaf(void **state)
{
    (void)state;
    s_tree_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    uint64_t n = 0;
    for (uint64_t size = 1; size <= 300; size += size < 40 ? 1 : 37) {
        cairn_ledger_frontier_begin(&t->frontier);
        s_append(t, n, size - n);
        cairn_ledger_frontier_commit(&t->frontier);
        n = size;
        for (uint64_t i = 0; i < size; i++) {
            uint8_t a[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
            uint8_t e[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
            size_t na = 0, ne = 0;
            assert_int_equal(
                cairn_merkle_inclusion_proof(s_map_get, t, i, size, a, CAIRN_MERKLE_MAX_PROOF, &na),
                0);
            assert_int_equal(cairn_ledger_frontier_prove(&t->frontier, s_map_get, t, i, e, &ne), 0);
            assert_int_equal(ne, na);
            assert_memory_equal(e, a, na * CAIRN_HASH_BYTES);
        }
        uint8_t scratch[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
        size_t ns = 0;
        assert_int_equal(
            cairn_ledger_frontier_prove(&t->frontier, s_map_get, t, size, scratch, &ns),
            CAIRN_EINVALID);
    }
    cairn_ledger_frontier_clear(&t->frontier);
    free(t);
}

static void test_an_aborted_batch_leaves_the_committed_edge(void **state)
{
    (void)state;
    s_tree_t *t = calloc(1, sizeof *t);
    assert_non_null(t);
    cairn_ledger_frontier_begin(&t->frontier);
    s_append(t, 0, 10);
    cairn_ledger_frontier_commit(&t->frontier);

    /* A batch that is dropped. Only the frontier is read from here on, and the
     * map may take the next batch's hashes at the same places. */
    cairn_ledger_frontier_begin(&t->frontier);
    s_append(t, 10, 6);
    cairn_ledger_frontier_abort(&t->frontier);
    memset(t->set, 0, sizeof t->set);
    uint8_t scratch[CAIRN_HASH_BYTES];
    assert_int_equal(cairn_ledger_frontier_get(&t->frontier, 0, 12, scratch), CAIRN_ENOTFOUND);

    /* The next batch appends different leaves at the same indexes. */
    static const char other[] = "other-x"; /* 5 to 7 of its bytes are hashed */
    cairn_ledger_frontier_begin(&t->frontier);
    for (uint64_t i = 10; i < 21; i++) {
        cairn_merkle_leaf_hash(other, 5 + (i % 3), t->leaves[i]);
        assert_int_equal(cairn_merkle_append(s_frontier_only, s_put_both, t, i, t->leaves[i]), 0);
    }
    s_assert_root(t, 21);
    cairn_ledger_frontier_commit(&t->frontier);
    uint8_t root[CAIRN_HASH_BYTES], want[CAIRN_HASH_BYTES];
    cairn_ledger_frontier_root(&t->frontier, root);
    lt_mth((const uint8_t(*)[32])t->leaves, 21, want);
    assert_memory_equal(root, want, CAIRN_HASH_BYTES);

    /* A hash out of append order is refused. */
    cairn_ledger_frontier_begin(&t->frontier);
    assert_int_equal(cairn_ledger_frontier_put(&t->frontier, 0, 30, want), CAIRN_EINTERNAL);
    cairn_ledger_frontier_clear(&t->frontier);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batches_read_no_hash_beyond_the_frontier),
        cmocka_unit_test(test_loading_reads_one_hash_per_bit_of_the_size),
        cmocka_unit_test(test_proofs_in_the_committed_tree_match_for_every_leaf),
        cmocka_unit_test(test_an_aborted_batch_leaves_the_committed_edge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
