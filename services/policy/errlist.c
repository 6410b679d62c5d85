/* Error sentence list for the policy loader (see errlist.h). */
#include "errlist.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cairn_errlist_init(cairn_errlist_t *self)
{
    memset(self, 0, sizeof *self);
}

void cairn_errlist_clear(cairn_errlist_t *self)
{
    for (size_t i = 0; i < self->count; i++)
        free(self->items[i]);
    free(self->items);
    cairn_errlist_init(self);
}

void cairn_errlist_add(cairn_errlist_t *self, const char *fmt, ...)
{
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        char **items = realloc(self->items, cap * sizeof *items);
        if (!items) {
            self->oom = 1;
            return;
        }
        self->items = items;
        self->cap = cap;
    }
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s)
        vsnprintf(s, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    if (!s) {
        self->oom = 1;
        return;
    }
    self->items[self->count++] = s;
}
