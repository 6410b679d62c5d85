/* The HMAC-SHA256 that authenticates a signed webhook. It runs over every
 * byte of every signed body, so it uses libcrypto, whose SHA-256 uses the
 * CPU's SHA instructions where there are any (several times faster than a
 * portable implementation). The MACs are still compared in constant time by
 * the caller (auth.c). The body's plain SHA-256 is cairn_sha256 (util.h),
 * which is built the same way. */
#ifndef CAIRN_INGEST_DIGEST_H
#define CAIRN_INGEST_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define CAIRN_INGEST_DIGEST_BYTES 32

/* One piece of the input of an HMAC. */
typedef struct {
    const void *data;
    size_t len;
} cairn_ingest_span_t;

/* HMAC-SHA256 under key of the concatenation of parts[0..n). Returns 0,
 * or -ENOMEM. */
int cairn_ingest_hmac_sha256(const void *key, size_t key_len, const cairn_ingest_span_t *parts,
                             size_t n, uint8_t out[CAIRN_INGEST_DIGEST_BYTES]);

/* One HMAC-SHA256 key for many messages. Keying an HMAC (fetching the
 * digest, hashing the padded key twice, allocating its contexts) costs
 * about as much as hashing a few KiB, so a source's secret is keyed once
 * and each request only restores the keyed state: the contexts a request
 * used are kept for the next one. Thread-safe. The keyed state is as
 * secret as the key: OpenSSL wipes it when the contexts are freed. */
typedef struct cairn_ingest_hmac_key_t cairn_ingest_hmac_key_t;

/* Keys an HMAC-SHA256 with key[0..key_len) (empty is a valid key). Returns
 * 0, or -ENOMEM. */
int cairn_ingest_hmac_key_new(const void *key, size_t key_len, cairn_ingest_hmac_key_t **out);

/* Frees and wipes (NULL-safe, sets *self_p to NULL). */
void cairn_ingest_hmac_key_destroy(cairn_ingest_hmac_key_t **self_p);

/* The same as cairn_ingest_hmac_sha256 under the key self was made with.
 * Returns 0, or -ENOMEM. */
int cairn_ingest_hmac_key_sha256(cairn_ingest_hmac_key_t *self, const cairn_ingest_span_t *parts,
                                 size_t n, uint8_t out[CAIRN_INGEST_DIGEST_BYTES]);

#endif
