/* HMAC-SHA256 of request bodies with libcrypto (see digest.h). */
#include "digest.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static EVP_MAC *s_mac; /* HMAC, fetched once */

static void s_fetch(void)
{
    s_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/* Feeds the parts to a keyed context and takes the MAC. */
static int s_mac_parts(EVP_MAC_CTX *ctx, const cairn_ingest_span_t *parts, size_t n,
                       uint8_t out[CAIRN_INGEST_DIGEST_BYTES])
{
    size_t out_len = 0;
    for (size_t i = 0; i < n; i++)
        if (parts[i].len && !EVP_MAC_update(ctx, parts[i].data, parts[i].len))
            return -ENOMEM;
    if (!EVP_MAC_final(ctx, out, &out_len, CAIRN_INGEST_DIGEST_BYTES) ||
        out_len != CAIRN_INGEST_DIGEST_BYTES)
        return -ENOMEM;
    return 0;
}

int cairn_ingest_hmac_sha256(const void *key, size_t key_len, const cairn_ingest_span_t *parts,
                             size_t n, uint8_t out[CAIRN_INGEST_DIGEST_BYTES])
{
    pthread_once(&s_once, s_fetch);
    if (!s_mac)
        return -ENOMEM;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(s_mac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    /* An empty key is still a key (HMAC pads it with zeros). */
    static const unsigned char none[1] = {0};
    int rc = ctx && EVP_MAC_init(ctx, key_len ? key : none, key_len, params) ? 0 : -ENOMEM;
    if (rc == 0)
        rc = s_mac_parts(ctx, parts, n, out);
    EVP_MAC_CTX_free(ctx);
    return rc;
}

/* Keyed contexts kept for reuse at most (more are freed after use): enough
 * for every thread that hashes at once. */
#define S_SPARE_MAX 32

struct cairn_ingest_hmac_key_t {
    pthread_mutex_t lock;             /* guards keyed and spare */
    EVP_MAC_CTX *keyed;               /* keyed, never updated: copied when no spare is left */
    EVP_MAC_CTX *spare[S_SPARE_MAX];  /* keyed contexts free for the next message */
    size_t n_spare;                   /* how many */
};

int cairn_ingest_hmac_key_new(const void *key, size_t key_len, cairn_ingest_hmac_key_t **out)
{
    pthread_once(&s_once, s_fetch);
    if (!s_mac)
        return -ENOMEM;
    cairn_ingest_hmac_key_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    pthread_mutex_init(&self->lock, NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    static const unsigned char none[1] = {0};
    self->keyed = EVP_MAC_CTX_new(s_mac);
    if (!self->keyed || !EVP_MAC_init(self->keyed, key_len ? key : none, key_len, params)) {
        cairn_ingest_hmac_key_destroy(&self);
        return -ENOMEM;
    }
    *out = self;
    return 0;
}

void cairn_ingest_hmac_key_destroy(cairn_ingest_hmac_key_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ingest_hmac_key_t *self = *self_p;
    for (size_t i = 0; i < self->n_spare; i++)
        EVP_MAC_CTX_free(self->spare[i]);
    EVP_MAC_CTX_free(self->keyed);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

int cairn_ingest_hmac_key_sha256(cairn_ingest_hmac_key_t *self, const cairn_ingest_span_t *parts,
                                 size_t n, uint8_t out[CAIRN_INGEST_DIGEST_BYTES])
{
    /* A spare context is in the keyed state again after EVP_MAC_init
     * without a key (OpenSSL restores the inner and outer pads). A new one
     * is a copy of the keyed context. */
    pthread_mutex_lock(&self->lock);
    EVP_MAC_CTX *ctx = self->n_spare ? self->spare[--self->n_spare] : NULL;
    bool fresh = !ctx;
    if (fresh)
        ctx = EVP_MAC_CTX_dup(self->keyed);
    pthread_mutex_unlock(&self->lock);
    int rc = ctx && (fresh || EVP_MAC_init(ctx, NULL, 0, NULL)) ? 0 : -ENOMEM;
    if (rc == 0)
        rc = s_mac_parts(ctx, parts, n, out);
    if (!ctx)
        return rc;
    pthread_mutex_lock(&self->lock);
    bool keep = rc == 0 && self->n_spare < S_SPARE_MAX;
    if (keep)
        self->spare[self->n_spare++] = ctx;
    pthread_mutex_unlock(&self->lock);
    if (!keep)
        EVP_MAC_CTX_free(ctx);
    return rc;
}
