/* Standard Webhooks signing (see sign.h) with libsodium. */
#include "sign.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cairn/error.h"

int cairn_webhook_sign(const char *id, int64_t timestamp, const char *body, size_t len,
                       const uint8_t *hmac_key, size_t hmac_len, const uint8_t *ed25519_sk,
                       char out[CAIRN_SIGNATURE_MAX])
{
    char prefix[160];
    int plen = snprintf(prefix, sizeof prefix, "%s.%" PRId64 ".", id, timestamp);
    size_t pos = 0;
    out[0] = '\0';
    if (plen < 0 || (size_t)plen >= sizeof prefix || sodium_init() < 0)
        return CAIRN_EINVALID;
    if (hmac_key) {
        crypto_auth_hmacsha256_state st;
        uint8_t mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_init(&st, hmac_key, hmac_len);
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)prefix, (size_t)plen);
        crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, len);
        crypto_auth_hmacsha256_final(&st, mac);
        sodium_memzero(&st, sizeof st);
        memcpy(out, "v1,", 3);
        pos = 3;
        sodium_bin2base64(out + pos, CAIRN_SIGNATURE_MAX - pos, mac, sizeof mac,
                          sodium_base64_VARIANT_ORIGINAL);
        pos += strlen(out + pos);
    }
    if (ed25519_sk) {
        uint8_t sig[crypto_sign_BYTES];
        /* Ed25519 signs the message itself, so sign prefix||body in one buffer. */
        uint8_t *msg = sodium_malloc((size_t)plen + len + 1);
        if (!msg)
            return CAIRN_ECRYPTO;
        memcpy(msg, prefix, (size_t)plen);
        memcpy(msg + plen, body, len);
        int rc = crypto_sign_detached(sig, NULL, msg, (size_t)plen + len, ed25519_sk);
        sodium_free(msg);
        if (rc != 0)
            return CAIRN_ECRYPTO;
        if (pos)
            out[pos++] = ' ';
        memcpy(out + pos, "v1a,", 4);
        pos += 4;
        sodium_bin2base64(out + pos, CAIRN_SIGNATURE_MAX - pos, sig, sizeof sig,
                          sodium_base64_VARIANT_ORIGINAL);
    }
    return 0;
}
