/* An ownership list for the policy model: every string and array the loader
 * builds is allocated here and released at once when the policy goes away,
 * so the model needs no per-field free code. */
#ifndef CAIRN_POLICY_ARENA_H
#define CAIRN_POLICY_ARENA_H

#include <stddef.h>

typedef struct cairn_arena_t cairn_arena_t;

cairn_arena_t *cairn_arena_new(void);
void cairn_arena_destroy(cairn_arena_t **self_p);

/* Zeroed memory owned by the arena, or NULL when out of memory. */
void *cairn_arena_alloc(cairn_arena_t *self, size_t size);

/* Copies len bytes of s and adds a NUL. */
char *cairn_arena_strndup(cairn_arena_t *self, const char *s, size_t len);
char *cairn_arena_strdup(cairn_arena_t *self, const char *s);

#endif
