/* Growable strings (see strbuf.h). */
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool s_reserve(cairn_strbuf_t *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return true;
}

void cairn_strbuf_appendn(cairn_strbuf_t *b, const char *text, size_t n)
{
    if (!s_reserve(b, n))
        return;
    memcpy(b->data + b->len, text, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void cairn_strbuf_append(cairn_strbuf_t *b, const char *text)
{
    cairn_strbuf_appendn(b, text ? text : "", text ? strlen(text) : 0);
}

void cairn_strbuf_appendf(cairn_strbuf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !s_reserve(b, (size_t)n)) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *cairn_strbuf_take(cairn_strbuf_t *b)
{
    char *out = NULL;
    if (!b->failed)
        out = b->data ? b->data : strdup("");
    else
        free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
    return out;
}

void cairn_strbuf_reset(cairn_strbuf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}
