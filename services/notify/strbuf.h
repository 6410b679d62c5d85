/* A growable string for building message bodies. Appends after an
 * allocation failure are ignored and remembered, so a body is built with
 * plain calls and checked once at the end. */
#ifndef CAIRN_NOTIFY_STRBUF_H
#define CAIRN_NOTIFY_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data;  /* NUL-terminated (NULL until the first append) */
    size_t len;  /* bytes used, without the NUL */
    size_t cap;  /* bytes allocated */
    bool failed; /* an allocation failed */
} cairn_strbuf_t;

void cairn_strbuf_append(cairn_strbuf_t *b, const char *text);
void cairn_strbuf_appendn(cairn_strbuf_t *b, const char *text, size_t n);
void cairn_strbuf_appendf(cairn_strbuf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The string (malloc'd, "" when empty), or NULL after a failure; b is reset. */
char *cairn_strbuf_take(cairn_strbuf_t *b);

void cairn_strbuf_reset(cairn_strbuf_t *b);

#endif
