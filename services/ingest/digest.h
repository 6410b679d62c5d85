/* The digests ingest takes of every request body: its SHA-256 (the evidence
 * digest and the fallback id) and the HMAC-SHA256 that authenticates a
 * signed webhook. They run over every byte of every body, so they use
 * libcrypto's SHA-256, which uses the CPU's SHA instructions where there
 * are any (several times faster than a portable implementation). The MACs
 * are still compared in constant time by the caller (auth.c). */
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

/* SHA-256 of data[0..len). Returns 0, or -ENOMEM. */
int cairn_ingest_sha256(const void *data, size_t len, uint8_t out[CAIRN_INGEST_DIGEST_BYTES]);

/* HMAC-SHA256 under key of the concatenation of parts[0..n). Returns 0,
 * or -ENOMEM. */
int cairn_ingest_hmac_sha256(const void *key, size_t key_len, const cairn_ingest_span_t *parts,
                             size_t n, uint8_t out[CAIRN_INGEST_DIGEST_BYTES]);

#endif
