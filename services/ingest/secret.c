/* Secrets from configuration (see secret.h): resolved once at start, kept in
 * guarded memory, compared by the verifiers in auth.c. */
#include "secret.h"

#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/secret_file.h"
#include "cairn/util.h"

/* Largest secret file read. */
#define S_FILE_MAX 65536

struct cairn_secret_t {
    uint8_t *data; /* sodium_malloc'd bytes */
    size_t len;    /* how many */
};

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return CAIRN_ECONFIG;
}

int cairn_secret_from_bytes(const void *bytes, size_t len, cairn_secret_t **out)
{
    if (sodium_init() < 0)
        return CAIRN_ECRYPTO;
    cairn_secret_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->data = sodium_malloc(len ? len : 1);
    if (!self->data) {
        free(self);
        return -ENOMEM;
    }
    if (len)
        memcpy(self->data, bytes, len);
    self->len = len;
    *out = self;
    return 0;
}

void cairn_secret_destroy(cairn_secret_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_secret_t *self = *self_p;
    sodium_free(self->data); /* sodium_free wipes before freeing */
    free(self);
    *self_p = NULL;
}

const uint8_t *cairn_secret_data(const cairn_secret_t *self)
{
    return self->data;
}

size_t cairn_secret_len(const cairn_secret_t *self)
{
    return self->len;
}

int cairn_secret_load(const char *key, const char *spec, cairn_secret_t **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    if (!spec || !*spec)
        return 0;
    if (strncmp(spec, "env:", 4) == 0) {
        const char *name = spec + 4;
        const char *value = *name ? getenv(name) : NULL;
        if (!*name)
            return s_fail(err, errlen, "%s is 'env:' without a variable name; write env:NAME", key);
        if (!value || !*value)
            return s_fail(err, errlen,
                          "%s reads the environment variable %s, which is not set or empty; "
                          "set it or change %s",
                          key, name, key);
        return cairn_secret_from_bytes(value, strlen(value), out);
    }
    if (strncmp(spec, "file:", 5) == 0) {
        const char *path = spec + 5;
        char *text = NULL, why[512];
        size_t len = 0;
        /* Owner-only, read straight into guarded memory. */
        int rc = cairn_secret_file_read(path, S_FILE_MAX, &text, &len, why, sizeof why);
        if (rc == CAIRN_EINVALID || rc == CAIRN_ETOOLARGE)
            return s_fail(err, errlen, "%s reads the file %s, which is refused: %s", key, path,
                          why);
        if (rc < 0)
            return s_fail(err, errlen, "%s reads the file %s, which cannot be read (%s)", key, path,
                          cairn_strerror(rc));
        if (len > 0 && text[len - 1] == '\n')
            len--;
        if (len > 0 && text[len - 1] == '\r')
            len--;
        if (len == 0) {
            cairn_secret_file_free(&text);
            return s_fail(err, errlen, "%s reads the file %s, which is empty", key, path);
        }
        rc = cairn_secret_from_bytes(text, len, out);
        cairn_secret_file_free(&text);
        return rc;
    }
    return cairn_secret_from_bytes(spec, strlen(spec), out);
}
