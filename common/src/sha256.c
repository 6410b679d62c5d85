/* SHA-256 for every hash common computes (cairn_sha256, Merkle leaf and node
 * hashes): OpenSSL's implementation, which uses the CPU's SHA extensions
 * where it has them, through one EVP_MD fetched once and one reused context
 * per thread (a fresh context or a by-name lookup per call costs more than
 * hashing a Merkle node). If OpenSSL cannot provide SHA-256, libsodium's
 * portable code computes the same digest. */
#include <openssl/evp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>

#include "cairn/util.h"

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static EVP_MD *s_md;            /* SHA-256, fetched once; NULL: use libsodium */
static pthread_key_t s_ctx_key; /* this thread's EVP_MD_CTX, freed at thread exit */

static void s_free_ctx(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void s_init(void)
{
    if (pthread_key_create(&s_ctx_key, s_free_ctx) != 0)
        return;
    s_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

/* This thread's context, set up for a new SHA-256; NULL when OpenSSL is out. */
static EVP_MD_CTX *s_begin(void)
{
    pthread_once(&s_once, s_init);
    if (!s_md)
        return NULL;
    EVP_MD_CTX *ctx = pthread_getspecific(s_ctx_key);
    if (!ctx) {
        if (!(ctx = EVP_MD_CTX_new()))
            return NULL;
        if (pthread_setspecific(s_ctx_key, ctx) != 0) {
            EVP_MD_CTX_free(ctx);
            return NULL;
        }
    }
    return EVP_DigestInit_ex(ctx, s_md, NULL) == 1 ? ctx : NULL;
}

void cairn_sha256_2(const void *a, size_t a_len, const void *b, size_t b_len, uint8_t out[32])
{
    EVP_MD_CTX *ctx = s_begin();
    if (ctx && (a_len == 0 || EVP_DigestUpdate(ctx, a, a_len) == 1) &&
        (b_len == 0 || EVP_DigestUpdate(ctx, b, b_len) == 1) &&
        EVP_DigestFinal_ex(ctx, out, NULL) == 1)
        return;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    if (a_len > 0)
        crypto_hash_sha256_update(&st, a, a_len);
    if (b_len > 0)
        crypto_hash_sha256_update(&st, b, b_len);
    crypto_hash_sha256_final(&st, out);
}

void cairn_sha256(const void *data, size_t len, uint8_t out[32])
{
    cairn_sha256_2(data, len, NULL, 0, out);
}
