/* RFC 9162 Merkle tree hashing, proof verification, and proof generation
 * from stored perfect-subtree hashes (see cairn/merkle.h for the model).
 * Verification follows RFC 9162 2.1.3.2 / 2.1.4.2 literally; generation
 * follows RFC 6962 PATH / SUBPROOF, unrolled into loops. */
#include "cairn/merkle.h"

#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"

/* Bits needed to write x (0 for 0). */
static unsigned s_bitlen(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

static bool s_is_pow2(uint64_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* Largest power of two strictly below n (n > 1). */
static uint64_t s_split(uint64_t n)
{
    return (uint64_t)1 << (s_bitlen(n - 1) - 1);
}

void cairn_merkle_leaf_hash(const void *leaf, size_t len, uint8_t out[CAIRN_HASH_BYTES])
{
    const uint8_t prefix = 0x00;
    cairn_sha256_2(&prefix, 1, leaf, len, out);
}

void cairn_merkle_node_hash(const uint8_t left[CAIRN_HASH_BYTES],
                            const uint8_t right[CAIRN_HASH_BYTES], uint8_t out[CAIRN_HASH_BYTES])
{
    uint8_t buf[1 + 2 * CAIRN_HASH_BYTES];
    buf[0] = 0x01;
    memcpy(buf + 1, left, CAIRN_HASH_BYTES);
    memcpy(buf + 1 + CAIRN_HASH_BYTES, right, CAIRN_HASH_BYTES);
    cairn_sha256(buf, sizeof buf, out);
}

void cairn_merkle_empty_root(uint8_t out[CAIRN_HASH_BYTES])
{
    cairn_sha256("", 0, out);
}

/* ---- verification ---------------------------------------------------- */

size_t cairn_merkle_inclusion_proof_count(uint64_t index, uint64_t size)
{
    if (index >= size)
        return 0;
    unsigned inner = s_bitlen(index ^ (size - 1));
    uint64_t upper = inner >= 64 ? 0 : index >> inner;
    return inner + (unsigned)__builtin_popcountll(upper);
}

int cairn_merkle_root_from_inclusion(uint64_t index, uint64_t size,
                                     const uint8_t leaf_hash[CAIRN_HASH_BYTES],
                                     const uint8_t *proof, size_t proof_count,
                                     uint8_t root_out[CAIRN_HASH_BYTES])
{
    if (index >= size || proof_count > CAIRN_MERKLE_MAX_PROOF)
        return CAIRN_EINTEGRITY;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[CAIRN_HASH_BYTES];
    memcpy(r, leaf_hash, sizeof r);
    for (size_t i = 0; i < proof_count; i++) {
        const uint8_t *p = proof + i * CAIRN_HASH_BYTES;
        if (sn == 0)
            return CAIRN_EINTEGRITY; /* proof too long */
        if ((fn & 1) || fn == sn) {
            cairn_merkle_node_hash(p, r, r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            cairn_merkle_node_hash(r, p, r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return CAIRN_EINTEGRITY; /* proof too short */
    memcpy(root_out, r, sizeof r);
    return 0;
}

int cairn_merkle_verify_inclusion(uint64_t index, uint64_t size,
                                  const uint8_t leaf_hash[CAIRN_HASH_BYTES], const uint8_t *proof,
                                  size_t proof_count, const uint8_t root[CAIRN_HASH_BYTES])
{
    uint8_t r[CAIRN_HASH_BYTES];
    int rc = cairn_merkle_root_from_inclusion(index, size, leaf_hash, proof, proof_count, r);
    if (rc < 0)
        return rc;
    return sodium_memcmp(r, root, CAIRN_HASH_BYTES) == 0 ? 0 : CAIRN_EINTEGRITY;
}

int cairn_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                    const uint8_t root1[CAIRN_HASH_BYTES],
                                    const uint8_t root2[CAIRN_HASH_BYTES], const uint8_t *proof,
                                    size_t proof_count)
{
    if (size1 == 0 || size1 > size2)
        return CAIRN_EINTEGRITY;
    if (size1 == size2) {
        if (proof_count != 0)
            return CAIRN_EINTEGRITY;
        return sodium_memcmp(root1, root2, CAIRN_HASH_BYTES) == 0 ? 0 : CAIRN_EINTEGRITY;
    }
    if (proof_count == 0 || proof_count > CAIRN_MERKLE_MAX_PROOF + 1)
        return CAIRN_EINTEGRITY;

    /* When size1 is a power of two, root1 is itself the first element of the
     * path and is not sent: start from it instead of proof[0]. */
    size_t next = 0;
    const uint8_t *seed;
    if (s_is_pow2(size1)) {
        seed = root1;
    } else {
        seed = proof;
        next = 1;
    }
    uint64_t fn = size1 - 1, sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[CAIRN_HASH_BYTES], sr[CAIRN_HASH_BYTES];
    memcpy(fr, seed, sizeof fr);
    memcpy(sr, seed, sizeof sr);
    for (; next < proof_count; next++) {
        const uint8_t *c = proof + next * CAIRN_HASH_BYTES;
        if (sn == 0)
            return CAIRN_EINTEGRITY;
        if ((fn & 1) || fn == sn) {
            cairn_merkle_node_hash(c, fr, fr);
            cairn_merkle_node_hash(c, sr, sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            cairn_merkle_node_hash(sr, c, sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return CAIRN_EINTEGRITY;
    if (sodium_memcmp(fr, root1, CAIRN_HASH_BYTES) != 0 ||
        sodium_memcmp(sr, root2, CAIRN_HASH_BYTES) != 0)
        return CAIRN_EINTEGRITY;
    return 0;
}

/* ---- generation ------------------------------------------------------ */

/* MTH(D[begin:end)), begin < end: a stored hash when the range is a perfect
 * aligned subtree, else split at the largest power of two below its size.
 * Recursion depth is bounded by 64 since the size at least halves. */
static int s_mth(cairn_merkle_get_fn get, void *arg, uint64_t begin, uint64_t end,
                 uint8_t out[CAIRN_HASH_BYTES])
{
    uint64_t n = end - begin;
    if (s_is_pow2(n) && (begin & (n - 1)) == 0) {
        unsigned level = (unsigned)__builtin_ctzll(n);
        return get(arg, level, begin >> level, out);
    }
    uint64_t k = s_split(n);
    uint8_t left[CAIRN_HASH_BYTES], right[CAIRN_HASH_BYTES];
    int rc = s_mth(get, arg, begin, begin + k, left);
    if (rc < 0)
        return rc;
    rc = s_mth(get, arg, begin + k, end, right);
    if (rc < 0)
        return rc;
    cairn_merkle_node_hash(left, right, out);
    return 0;
}

int cairn_merkle_subtree_hash(cairn_merkle_get_fn get, void *arg, uint64_t begin, uint64_t end,
                              uint8_t out[CAIRN_HASH_BYTES])
{
    if (!get || begin >= end || end > CAIRN_MERKLE_MAX_SIZE)
        return CAIRN_EINVALID;
    return s_mth(get, arg, begin, end, out);
}

int cairn_merkle_root(cairn_merkle_get_fn get, void *arg, uint64_t size,
                      uint8_t out[CAIRN_HASH_BYTES])
{
    if (size == 0) {
        cairn_merkle_empty_root(out);
        return 0;
    }
    return cairn_merkle_subtree_hash(get, arg, 0, size, out);
}

/* Copies the root-first list `path` (count hashes) to out in leaf-first order. */
static int s_emit_reversed(const uint8_t *path, size_t count, uint8_t *out, size_t max_count,
                           size_t *count_out)
{
    if (count > max_count)
        return CAIRN_ETOOLARGE;
    for (size_t i = 0; i < count; i++)
        memcpy(out + i * CAIRN_HASH_BYTES, path + (count - 1 - i) * CAIRN_HASH_BYTES,
               CAIRN_HASH_BYTES);
    *count_out = count;
    return 0;
}

int cairn_merkle_inclusion_proof(cairn_merkle_get_fn get, void *arg, uint64_t index, uint64_t size,
                                 uint8_t *proof_out, size_t max_count, size_t *count_out)
{
    if (!get || index >= size || size > CAIRN_MERKLE_MAX_SIZE)
        return CAIRN_EINVALID;
    if (cairn_merkle_inclusion_proof_count(index, size) > max_count)
        return CAIRN_ETOOLARGE;

    /* Walk from the root down to the leaf, collecting the sibling of each
     * step (root-first), then emit leaf-first. */
    uint8_t path[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
    size_t count = 0;
    uint64_t lo = 0, hi = size;
    int rc = 0;
    while (hi - lo > 1) {
        uint64_t k = s_split(hi - lo);
        uint8_t *dst = path + count * CAIRN_HASH_BYTES;
        if (index - lo < k) {
            rc = s_mth(get, arg, lo + k, hi, dst);
            hi = lo + k;
        } else {
            rc = s_mth(get, arg, lo, lo + k, dst);
            lo += k;
        }
        if (rc < 0)
            return rc;
        count++;
    }
    return s_emit_reversed(path, count, proof_out, max_count, count_out);
}

int cairn_merkle_consistency_proof(cairn_merkle_get_fn get, void *arg, uint64_t size1,
                                   uint64_t size2, uint8_t *proof_out, size_t max_count,
                                   size_t *count_out)
{
    if (!get || size1 == 0 || size1 > size2 || size2 > CAIRN_MERKLE_MAX_SIZE)
        return CAIRN_EINVALID;

    /* SUBPROOF(m, D[lo:hi), complete), root-first. Each step halves the
     * range, so a tree below 2^63 leaves needs at most 63 steps + 1 seed. */
    uint8_t path[(CAIRN_MERKLE_MAX_PROOF + 1) * CAIRN_HASH_BYTES];
    size_t count = 0;
    uint64_t lo = 0, hi = size2, m = size1;
    bool complete = true;
    int rc;
    for (;;) {
        uint8_t *dst = path + count * CAIRN_HASH_BYTES;
        if (m == hi - lo) {
            if (!complete) {
                rc = s_mth(get, arg, lo, hi, dst);
                if (rc < 0)
                    return rc;
                count++;
            }
            break;
        }
        uint64_t k = s_split(hi - lo);
        if (m <= k) {
            rc = s_mth(get, arg, lo + k, hi, dst);
            hi = lo + k;
        } else {
            rc = s_mth(get, arg, lo, lo + k, dst);
            m -= k;
            lo += k;
            complete = false;
        }
        if (rc < 0)
            return rc;
        count++;
    }
    return s_emit_reversed(path, count, proof_out, max_count, count_out);
}

int cairn_merkle_append(cairn_merkle_get_fn get, cairn_merkle_put_fn put, void *arg, uint64_t index,
                        const uint8_t leaf_hash[CAIRN_HASH_BYTES])
{
    if (!get || !put || index >= CAIRN_MERKLE_MAX_SIZE)
        return CAIRN_EINVALID;
    int rc = put(arg, 0, index, leaf_hash);
    if (rc < 0)
        return rc;
    uint8_t h[CAIRN_HASH_BYTES], sibling[CAIRN_HASH_BYTES];
    memcpy(h, leaf_hash, sizeof h);
    unsigned level = 0;
    uint64_t i = index;
    /* A right child completes its parent: fold with the stored left sibling. */
    while (i & 1) {
        rc = get(arg, level, i - 1, sibling);
        if (rc < 0)
            return rc;
        cairn_merkle_node_hash(sibling, h, h);
        level++;
        i >>= 1;
        rc = put(arg, level, i, h);
        if (rc < 0)
            return rc;
    }
    return 0;
}
