/* Receipts: the C2SP tlog-proof text an append is acknowledged with (the
 * entry's index, its inclusion proof and the signed checkpoint), in exactly
 * the bytes cairn_tlog_proof_format() writes (cairn/note.h).
 *
 * The receipts of one batch prove neighbouring leaves against the same
 * checkpoint, so most of their proof hashes are the same nodes: the i-th
 * hash of a leaf's proof changes only every 2^i leaves. A cache keeps, per
 * proof position, the last hash and its base64 text, so each distinct node
 * is encoded once per batch instead of once per receipt. The cache is keyed
 * by the hash bytes themselves, so it can never serve a stale encoding. */
#ifndef CAIRN_LEDGER_RECEIPT_H
#define CAIRN_LEDGER_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/merkle.h"

/* Base64 text of one hash (44 characters) and its NUL. */
#define CAIRN_LEDGER_B64_HASH_BYTES 45

typedef struct {
    uint8_t hash[CAIRN_MERKLE_MAX_PROOF][CAIRN_HASH_BYTES];        /* last hash at each position */
    char b64[CAIRN_MERKLE_MAX_PROOF][CAIRN_LEDGER_B64_HASH_BYTES]; /* its base64 */
    bool valid[CAIRN_MERKLE_MAX_PROOF];                            /* the position holds one */
} cairn_ledger_receipt_cache_t;

/* Writes the tlog-proof of index with proof (count hashes, leaf first)
 * against the signed checkpoint note (note_len bytes, no extra data) into a
 * malloc'd NUL-terminated *text_out. cache may be NULL. CAIRN_EINVALID for
 * more than CAIRN_MERKLE_MAX_PROOF hashes or an empty note; -ENOMEM. */
int cairn_ledger_receipt_format(cairn_ledger_receipt_cache_t *cache, uint64_t index,
                                const uint8_t *proof, size_t count, const char *note,
                                size_t note_len, char **text_out, size_t *len_out);

/* Bytes cairn_ledger_receipt_write needs at most for count hashes and a
 * note of note_len bytes (NUL included). */
size_t cairn_ledger_receipt_cap(size_t count, size_t note_len);

/* Like cairn_ledger_receipt_format, into buf (cap bytes, at least
 * cairn_ledger_receipt_cap): for a caller with its own memory (an arena).
 * CAIRN_EINVALID also for a buffer that is too small. */
int cairn_ledger_receipt_write(cairn_ledger_receipt_cache_t *cache, uint64_t index,
                               const uint8_t *proof, size_t count, const char *note,
                               size_t note_len, char *buf, size_t cap, size_t *len_out);

#endif
