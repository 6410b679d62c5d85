/* The C2SP tlog-proof text of a receipt, with each distinct proof hash of a
 * batch base64-encoded once (receipt.h). */
#include "receipt.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

#define S_HEADER "c2sp.org/tlog-proof@v1\n"
#define S_B64_LEN (CAIRN_LEDGER_B64_HASH_BYTES - 1)

/* Standard base64 (with padding) of one hash and its NUL: the bytes
 * sodium_bin2base64(..., sodium_base64_VARIANT_ORIGINAL) writes. The hashes
 * are public, so OpenSSL's table-driven encoder serves (libsodium's
 * constant-time one costs several times more per character). */
static void s_encode(char out[CAIRN_LEDGER_B64_HASH_BYTES], const uint8_t *hash)
{
    EVP_EncodeBlock((unsigned char *)out, hash, CAIRN_HASH_BYTES);
}

/* The base64 text of hash at proof position i, from the cache when it holds
 * that hash there. */
static const char *s_b64(cairn_ledger_receipt_cache_t *cache, size_t i, const uint8_t *hash,
                         char scratch[CAIRN_LEDGER_B64_HASH_BYTES])
{
    if (!cache) {
        s_encode(scratch, hash);
        return scratch;
    }
    if (!cache->valid[i] || memcmp(cache->hash[i], hash, CAIRN_HASH_BYTES) != 0) {
        s_encode(cache->b64[i], hash);
        memcpy(cache->hash[i], hash, CAIRN_HASH_BYTES);
        cache->valid[i] = true;
    }
    return cache->b64[i];
}

size_t cairn_ledger_receipt_cap(size_t count, size_t note_len)
{
    /* header, "index <20 digits>\n", the hashes' lines, the blank line, the note, NUL */
    return strlen(S_HEADER) + 27 + count * (S_B64_LEN + 1) + 1 + note_len + 1;
}

int cairn_ledger_receipt_write(cairn_ledger_receipt_cache_t *cache, uint64_t index,
                               const uint8_t *proof, size_t count, const char *note,
                               size_t note_len, char *buf, size_t cap, size_t *len_out)
{
    char digits[20], scratch[CAIRN_LEDGER_B64_HASH_BYTES];
    if ((count > 0 && !proof) || count > CAIRN_MERKLE_MAX_PROOF || !note || note_len == 0 ||
        cap < cairn_ledger_receipt_cap(count, note_len))
        return CAIRN_EINVALID;
    char *p = buf;
    memcpy(p, S_HEADER, strlen(S_HEADER));
    p += strlen(S_HEADER);
    /* "index <decimal>\n", as "%" PRIu64 writes the number */
    memcpy(p, "index ", 6);
    p += 6;
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + index % 10);
        index /= 10;
    } while (index);
    while (n)
        *p++ = digits[--n];
    *p++ = '\n';
    for (size_t i = 0; i < count; i++) {
        memcpy(p, s_b64(cache, i, proof + i * CAIRN_HASH_BYTES, scratch), S_B64_LEN);
        p += S_B64_LEN;
        *p++ = '\n';
    }
    *p++ = '\n';
    memcpy(p, note, note_len);
    p += note_len;
    *p = '\0';
    *len_out = (size_t)(p - buf);
    return 0;
}

int cairn_ledger_receipt_format(cairn_ledger_receipt_cache_t *cache, uint64_t index,
                                const uint8_t *proof, size_t count, const char *note,
                                size_t note_len, char **text_out, size_t *len_out)
{
    if ((count > 0 && !proof) || count > CAIRN_MERKLE_MAX_PROOF || !note || note_len == 0)
        return CAIRN_EINVALID;
    size_t cap = cairn_ledger_receipt_cap(count, note_len);
    char *text = malloc(cap);
    if (!text)
        return -ENOMEM;
    int rc =
        cairn_ledger_receipt_write(cache, index, proof, count, note, note_len, text, cap, len_out);
    if (rc < 0) {
        free(text);
        return rc;
    }
    *text_out = text;
    return 0;
}
