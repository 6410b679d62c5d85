/* Secrets in the routes file (webhook signing keys, Slack URLs, SMTP
 * passwords) are written as the value itself, as `file:/path` (the file's
 * contents, one trailing newline dropped) or as `env:NAME` (the environment
 * variable), like the secrets in the main configuration. They are never
 * logged or echoed in error messages. */
#ifndef CAIRN_NOTIFY_SECRET_H
#define CAIRN_NOTIFY_SECRET_H

#include <stddef.h>
#include <stdint.h>

/* Resolves spec into a malloc'd string. CAIRN_ECONFIG with a message in
 * err (naming the file or variable, never the value) when it cannot. */
int cairn_secret_resolve(const char *spec, char **out, char *err, size_t errlen);

/* Decodes a Standard Webhooks key: "whsec_<base64>" (HMAC, 24..64 bytes),
 * "whsk_<base64>" (Ed25519 secret key: a 32-byte seed or the 64-byte
 * seed||public key) or "whpk_<base64>" (Ed25519 public key, 32 bytes).
 * prefix selects the kind. *out is sodium_malloc'd (free with
 * cairn_secret_free). CAIRN_ECONFIG when it is not such a key. */
int cairn_secret_decode_key(const char *text, const char *prefix, uint8_t **out, size_t *len_out);

/* Wipes and frees a key from cairn_secret_decode_key (NULL-safe). */
void cairn_secret_free(uint8_t **key_p, size_t len);

#endif
