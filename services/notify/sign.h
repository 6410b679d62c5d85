/* Standard Webhooks signatures for outbound webhooks: the signed content is
 * "<webhook-id>.<webhook-timestamp>.<body>"; the webhook-signature header is
 * a space-separated list of "v1,<base64 HMAC-SHA256>" (whsec_ key) and
 * "v1a,<base64 Ed25519>" (whsk_ key), whichever keys are configured. */
#ifndef CAIRN_NOTIFY_SIGN_H
#define CAIRN_NOTIFY_SIGN_H

#include <stddef.h>
#include <stdint.h>

/* Room for both signatures and their separators. */
#define CAIRN_SIGNATURE_MAX 256

/* Writes the header value into out (CAIRN_SIGNATURE_MAX bytes); "" when no
 * key is given. ed25519_sk is the 64-byte libsodium secret key. */
int cairn_webhook_sign(const char *id, int64_t timestamp, const char *body, size_t len,
                       const uint8_t *hmac_key, size_t hmac_len, const uint8_t *ed25519_sk,
                       char out[CAIRN_SIGNATURE_MAX]);

#endif
