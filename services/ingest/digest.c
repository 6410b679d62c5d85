/* HMAC-SHA256 of request bodies with libcrypto (see digest.h). */
#include "digest.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <pthread.h>

static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static EVP_MAC *s_mac; /* HMAC, fetched once */

static void s_fetch(void)
{
    s_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
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
    size_t out_len = 0;
    int rc = ctx && EVP_MAC_init(ctx, key_len ? key : none, key_len, params) ? 0 : -ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (parts[i].len && !EVP_MAC_update(ctx, parts[i].data, parts[i].len))
            rc = -ENOMEM;
    if (rc == 0 && (!EVP_MAC_final(ctx, out, &out_len, CAIRN_INGEST_DIGEST_BYTES) ||
                    out_len != CAIRN_INGEST_DIGEST_BYTES))
        rc = -ENOMEM;
    EVP_MAC_CTX_free(ctx);
    return rc;
}
