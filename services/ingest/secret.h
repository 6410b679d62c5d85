/* A secret from configuration: the value itself, "file:/path" (the file's
 * contents, one trailing newline dropped) or "env:NAME" (an environment
 * variable). The bytes live in sodium_malloc'd memory, are wiped when
 * destroyed, and are never written to a log or an error message: errors
 * name the configuration key and the file or variable, never the value. */
#ifndef CAIRN_INGEST_SECRET_H
#define CAIRN_INGEST_SECRET_H

#include <stddef.h>
#include <stdint.h>

typedef struct cairn_secret_t cairn_secret_t;

/* Resolves spec for the configuration key named key. An empty spec gives
 * *out = NULL and 0 (nothing configured). A file that cannot be read, an
 * unset variable or a secret that resolves to nothing is CAIRN_ECONFIG with
 * a sentence in err. */
int cairn_secret_load(const char *key, const char *spec, cairn_secret_t **out, char *err,
                      size_t errlen);

/* A secret holding exactly these bytes (tests, and derived keys). */
int cairn_secret_from_bytes(const void *bytes, size_t len, cairn_secret_t **out);

/* Wipes and frees (NULL-safe, sets *self_p to NULL). */
void cairn_secret_destroy(cairn_secret_t **self_p);

const uint8_t *cairn_secret_data(const cairn_secret_t *self);
size_t cairn_secret_len(const cairn_secret_t *self);

#endif
