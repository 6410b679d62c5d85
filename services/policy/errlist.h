/* A list of error sentences, so the policy loader can report every problem
 * in a file at once instead of stopping at the first. */
#ifndef CAIRN_POLICY_ERRLIST_H
#define CAIRN_POLICY_ERRLIST_H

#include <stddef.h>

typedef struct {
    char **items; /* malloc'd sentences */
    size_t count; /* how many */
    size_t cap;   /* allocated slots */
    int oom;      /* set when a sentence could not be stored */
} cairn_errlist_t;

void cairn_errlist_init(cairn_errlist_t *self);
void cairn_errlist_clear(cairn_errlist_t *self);

/* Appends a formatted sentence (memory failures are remembered in oom). */
void cairn_errlist_add(cairn_errlist_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
