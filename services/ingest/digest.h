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

#endif
