/* Secret values and Standard Webhooks keys (see secret.h). */
#include "secret.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/secret_file.h"
#include "cairn/util.h"

static void s_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int cairn_secret_resolve(const char *spec, char **out, char *err, size_t errlen)
{
    char *value = NULL;
    if (!spec)
        spec = "";
    if (strncmp(spec, "file:", 5) == 0) {
        size_t len = 0;
        char why[512];
        if (cairn_secret_file_check(spec + 5, why, sizeof why) < 0) {
            s_err(err, errlen, "secret file: %s", why);
            return CAIRN_ECONFIG;
        }
        int rc = cairn_read_file(spec + 5, 1024 * 1024, &value, &len);
        if (rc < 0) {
            s_err(err, errlen, "cannot read secret file %s: %s", spec + 5, cairn_strerror(rc));
            return CAIRN_ECONFIG;
        }
        if (len > 0 && value[len - 1] == '\n')
            value[--len] = '\0';
        if (len > 0 && value[len - 1] == '\r')
            value[--len] = '\0';
    } else if (strncmp(spec, "env:", 4) == 0) {
        const char *v = getenv(spec + 4);
        if (!v) {
            s_err(err, errlen, "environment variable %s is not set", spec + 4);
            return CAIRN_ECONFIG;
        }
        value = strdup(v);
    } else {
        value = strdup(spec);
    }
    if (!value)
        return -ENOMEM;
    *out = value;
    return 0;
}

int cairn_secret_decode_key(const char *text, const char *prefix, uint8_t **out, size_t *len_out)
{
    size_t plen = strlen(prefix);
    if (sodium_init() < 0 || !text || strncmp(text, prefix, plen) != 0)
        return CAIRN_ECONFIG;
    const char *b64 = text + plen;
    size_t cap = strlen(b64);
    uint8_t *key = sodium_malloc(cap ? cap : 1);
    size_t len = 0;
    if (!key)
        return -ENOMEM;
    if (sodium_base642bin(key, cap, b64, strlen(b64), NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        sodium_free(key);
        return CAIRN_ECONFIG;
    }
    bool ok = false;
    if (strcmp(prefix, "whsec_") == 0)
        ok = len >= 24 && len <= 64;
    else if (strcmp(prefix, "whsk_") == 0)
        ok = len == crypto_sign_SEEDBYTES || len == crypto_sign_SECRETKEYBYTES;
    else if (strcmp(prefix, "whpk_") == 0)
        ok = len == crypto_sign_PUBLICKEYBYTES;
    if (!ok) {
        sodium_free(key);
        return CAIRN_ECONFIG;
    }
    *out = key;
    *len_out = len;
    return 0;
}

void cairn_secret_free(uint8_t **key_p, size_t len)
{
    (void)len; /* sodium_free wipes the whole allocation */
    if (!key_p || !*key_p)
        return;
    sodium_free(*key_p);
    *key_p = NULL;
}
