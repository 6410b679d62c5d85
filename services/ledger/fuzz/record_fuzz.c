/* Fuzz target for the ledger's entry records (layout.h), the bytes
 * `cairn log verify` reads from a store it may have been handed: the first
 * 8 bytes of an input are the entry's index (big-endian), the rest the
 * stored record. A record that parses must have the number of hashes its
 * index has, parts that lie inside it and add up to it, and write back to
 * exactly the same bytes; its leaf is then parsed and hashed, and its
 * payload digested, as the verifier does. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bundle.h"
#include "cairn/lmdbx.h"
#include "cairn/merkle.h"
#include "cairn/util.h"
#include "layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char cairn_fuzz_target_name[] = "ledger entry record parser";

static int s_inside(const void *p, size_t len, const uint8_t *start, size_t size)
{
    const uint8_t *b = p;
    return b >= start && (size_t)(b - start) <= size && len <= size - (size_t)(b - start);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8)
        return 0;
    uint64_t index = cairn_key_to_u64(data);
    const uint8_t *rec = data + 8;
    size_t len = size - 8;
    MDB_val val = {len, (void *)rec};
    cairn_ledger_record_parts_t r;
    if (cairn_ledger_record_parse(index, &val, &r) != 0)
        return 0;
    size_t hashes_len = (size_t)r.n_hashes * CAIRN_HASH_BYTES;
    if (r.n_hashes != cairn_ledger_entry_hashes(index) ||
        !s_inside(r.hashes, hashes_len, rec, len) || !s_inside(r.leaf, r.leaf_len, rec, len) ||
        (r.payload && !s_inside(r.payload, r.payload_len, rec, len)) ||
        (!r.payload) != (r.payload_len == 0) ||
        cairn_ledger_record_size(r.n_hashes, r.leaf_len, r.payload_len) != len)
        abort();
    uint8_t *again = malloc(len ? len : 1);
    if (!again)
        abort();
    cairn_ledger_record_write(&r, again);
    if (memcmp(again, rec, len) != 0)
        abort();
    free(again);

    /* What the verifier does next with a record. */
    uint8_t lh[CAIRN_HASH_BYTES], digest[CAIRN_HASH_BYTES];
    cairn_merkle_leaf_hash(r.leaf, r.leaf_len, lh);
    cairn_leaf_t leaf;
    memset(&leaf, 0, sizeof leaf);
    if (cairn_leaf_parse(r.leaf, r.leaf_len, &leaf) == 0 && r.payload)
        cairn_sha256(r.payload, r.payload_len, digest);
    cairn_leaf_clear(&leaf);
    return 0;
}
