/* The C2SP tlog-proof text of a receipt, with each distinct proof hash of a
 * batch base64-encoded once (receipt.h). */
#include "receipt.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

#define S_HEADER "c2sp.org/tlog-proof@v1\n"
#define S_B64_LEN (CAIRN_LEDGER_B64_HASH_BYTES - 1)

/* The base64 text of hash at proof position i, from the cache when it holds
 * that hash there. */
static const char *s_b64(cairn_ledger_receipt_cache_t *cache, size_t i, const uint8_t *hash,
                         char scratch[CAIRN_LEDGER_B64_HASH_BYTES])
{
    if (!cache) {
        sodium_bin2base64(scratch, CAIRN_LEDGER_B64_HASH_BYTES, hash, CAIRN_HASH_BYTES,
                          sodium_base64_VARIANT_ORIGINAL);
        return scratch;
    }
    if (!cache->valid[i] || memcmp(cache->hash[i], hash, CAIRN_HASH_BYTES) != 0) {
        sodium_bin2base64(cache->b64[i], CAIRN_LEDGER_B64_HASH_BYTES, hash, CAIRN_HASH_BYTES,
                          sodium_base64_VARIANT_ORIGINAL);
        memcpy(cache->hash[i], hash, CAIRN_HASH_BYTES);
        cache->valid[i] = true;
    }
    return cache->b64[i];
}

int cairn_ledger_receipt_format(cairn_ledger_receipt_cache_t *cache, uint64_t index,
                                const uint8_t *proof, size_t count, const char *note,
                                size_t note_len, char **text_out, size_t *len_out)
{
    char line[32], scratch[CAIRN_LEDGER_B64_HASH_BYTES];
    if ((count > 0 && !proof) || count > CAIRN_MERKLE_MAX_PROOF || !note || note_len == 0)
        return CAIRN_EINVALID;
    int line_len = snprintf(line, sizeof line, "index %" PRIu64 "\n", index);
    size_t cap = strlen(S_HEADER) + (size_t)line_len + count * (S_B64_LEN + 1) + 1 + note_len + 1;
    char *text = malloc(cap);
    if (!text)
        return -ENOMEM;
    char *p = text;
    memcpy(p, S_HEADER, strlen(S_HEADER));
    p += strlen(S_HEADER);
    memcpy(p, line, (size_t)line_len);
    p += line_len;
    for (size_t i = 0; i < count; i++) {
        memcpy(p, s_b64(cache, i, proof + i * CAIRN_HASH_BYTES, scratch), S_B64_LEN);
        p += S_B64_LEN;
        *p++ = '\n';
    }
    *p++ = '\n';
    memcpy(p, note, note_len);
    p += note_len;
    *p = '\0';
    *text_out = text;
    *len_out = (size_t)(p - text);
    return 0;
}
