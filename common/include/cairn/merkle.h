/* RFC 9162 (RFC 6962) Merkle tree: hashing, proof verification, and proof
 * generation over stored perfect-subtree hashes.
 *
 * The library holds no tree. A tree is stored by its caller as the hashes of
 * its perfect subtrees: (level L, index i) names the subtree covering leaves
 * [i * 2^L, (i + 1) * 2^L), whose hash never changes once the tree has
 * (i + 1) * 2^L leaves. cairn_merkle_append() writes exactly those hashes as
 * leaves arrive; every other hash (the "ephemeral" nodes on the right edge of
 * a tree of any size) is folded on demand from at most 64 stored ones.
 *
 * Proofs are flat arrays of CAIRN_HASH_BYTES-byte hashes in RFC 6962 wire
 * order (nearest the leaf first); a proof of `count` hashes occupies
 * count * CAIRN_HASH_BYTES bytes. Functions return 0 or a negative code
 * (cairn/error.h); a proof that does not verify is CAIRN_EINTEGRITY. */
#ifndef CAIRN_MERKLE_H
#define CAIRN_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define CAIRN_HASH_BYTES 32

/* Enough room for any inclusion or consistency proof of a tree with fewer
 * than 2^63 leaves (larger trees are refused). */
#define CAIRN_MERKLE_MAX_PROOF 64

/* Largest tree size the library accepts: 2^63 - 1. */
#define CAIRN_MERKLE_MAX_SIZE ((uint64_t)INT64_MAX)

/* Reads the stored hash of perfect subtree (level, index) into out. Returns 0,
 * CAIRN_ENOTFOUND if it is not stored, or any other negative code, which the
 * calling function passes back unchanged. */
typedef int (*cairn_merkle_get_fn)(void *arg, unsigned level, uint64_t index,
                                   uint8_t out[CAIRN_HASH_BYTES]);

/* Stores the hash of perfect subtree (level, index). Returns 0 or a negative
 * code, which cairn_merkle_append() passes back unchanged. */
typedef int (*cairn_merkle_put_fn)(void *arg, unsigned level, uint64_t index,
                                   const uint8_t hash[CAIRN_HASH_BYTES]);

/* ---- hash primitives ------------------------------------------------- */

/* Leaf hash: SHA-256(0x00 || leaf). */
void cairn_merkle_leaf_hash(const void *leaf, size_t len, uint8_t out[CAIRN_HASH_BYTES]);

/* Interior node hash: SHA-256(0x01 || left || right). out may alias either input. */
void cairn_merkle_node_hash(const uint8_t left[CAIRN_HASH_BYTES],
                            const uint8_t right[CAIRN_HASH_BYTES], uint8_t out[CAIRN_HASH_BYTES]);

/* Root of the empty tree: SHA-256("") (not the hash of an empty leaf). */
void cairn_merkle_empty_root(uint8_t out[CAIRN_HASH_BYTES]);

/* ---- verification (RFC 9162 2.1.3.2 and 2.1.4.2) -------------------- */

/* Number of hashes in the inclusion proof of leaf `index` in a tree of `size`
 * leaves (0 when index >= size). Useful as a length pre-check. */
size_t cairn_merkle_inclusion_proof_count(uint64_t index, uint64_t size);

/* Computes the root that the inclusion proof implies for leaf `index` of a
 * tree of `size` leaves. CAIRN_EINTEGRITY if index >= size or the proof has
 * the wrong number of hashes for (index, size). */
int cairn_merkle_root_from_inclusion(uint64_t index, uint64_t size,
                                     const uint8_t leaf_hash[CAIRN_HASH_BYTES],
                                     const uint8_t *proof, size_t proof_count,
                                     uint8_t root_out[CAIRN_HASH_BYTES]);

/* 0 if the proof shows leaf `index` with `leaf_hash` is in the tree of `size`
 * leaves with `root` (compared in constant time), else CAIRN_EINTEGRITY. */
int cairn_merkle_verify_inclusion(uint64_t index, uint64_t size,
                                  const uint8_t leaf_hash[CAIRN_HASH_BYTES], const uint8_t *proof,
                                  size_t proof_count, const uint8_t root[CAIRN_HASH_BYTES]);

/* 0 if the proof shows the tree of size2 leaves with root2 extends the tree
 * of size1 leaves with root1, else CAIRN_EINTEGRITY. size1 == 0 is always
 * rejected (nothing to prove from an empty tree; protocols that accept it,
 * like the witness "old 0", special-case it themselves). size1 == size2
 * requires an empty proof and root1 == root2. */
int cairn_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                    const uint8_t root1[CAIRN_HASH_BYTES],
                                    const uint8_t root2[CAIRN_HASH_BYTES], const uint8_t *proof,
                                    size_t proof_count);

/* ---- generation from stored perfect-subtree hashes ------------------- */

/* MTH(D[begin:end)), 0 <= begin < end. For ranges that are nodes of some
 * RFC 6962 tree (begin a multiple of the smallest power of two >= end-begin;
 * every range a proof needs is one) this costs at most 64 get calls. Other
 * ranges are computed correctly but may need up to end-begin reads.
 * CAIRN_EINVALID if begin >= end or end > CAIRN_MERKLE_MAX_SIZE. */
int cairn_merkle_subtree_hash(cairn_merkle_get_fn get, void *arg, uint64_t begin, uint64_t end,
                              uint8_t out[CAIRN_HASH_BYTES]);

/* Root of the tree of the first `size` leaves (the empty root for 0). */
int cairn_merkle_root(cairn_merkle_get_fn get, void *arg, uint64_t size,
                      uint8_t out[CAIRN_HASH_BYTES]);

/* RFC 6962 PATH(index, D[0:size]) into proof_out (room for max_count hashes),
 * count in *count_out. CAIRN_EINVALID if index >= size or size is too
 * large; CAIRN_ETOOLARGE if max_count is too small (never with
 * CAIRN_MERKLE_MAX_PROOF). O(log^2 size) get calls at worst. */
int cairn_merkle_inclusion_proof(cairn_merkle_get_fn get, void *arg, uint64_t index, uint64_t size,
                                 uint8_t *proof_out, size_t max_count, size_t *count_out);

/* RFC 6962 PROOF(size1, D[0:size2]) into proof_out, as above. Requires
 * 0 < size1 <= size2 (size1 == size2 gives an empty proof), else
 * CAIRN_EINVALID. */
int cairn_merkle_consistency_proof(cairn_merkle_get_fn get, void *arg, uint64_t size1,
                                   uint64_t size2, uint8_t *proof_out, size_t max_count,
                                   size_t *count_out);

/* Records leaf number `index` (0-based; the tree had `index` leaves before)
 * with hash `leaf_hash`: calls put(0, index, leaf_hash), then for every
 * perfect subtree the new leaf completes reads its left sibling with get and
 * calls put(level, index >> level, hash). At most 64 gets and 65 puts;
 * stops at the first failing callback and returns its code. */
int cairn_merkle_append(cairn_merkle_get_fn get, cairn_merkle_put_fn put, void *arg, uint64_t index,
                        const uint8_t leaf_hash[CAIRN_HASH_BYTES]);

#endif
