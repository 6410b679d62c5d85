/* Ownership list for the policy model (see arena.h). Each allocation is its
 * own malloc block chained to the previous one; destroy walks the chain. */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct s_block_t {
    struct s_block_t *prev; /* block allocated before this one */
    max_align_t data[];     /* the caller's bytes */
} s_block_t;

struct cairn_arena_t {
    s_block_t *last; /* most recent block */
};

cairn_arena_t *cairn_arena_new(void)
{
    return calloc(1, sizeof(cairn_arena_t));
}

void cairn_arena_destroy(cairn_arena_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_block_t *b = (*self_p)->last;
    while (b) {
        s_block_t *prev = b->prev;
        free(b);
        b = prev;
    }
    free(*self_p);
    *self_p = NULL;
}

void *cairn_arena_alloc(cairn_arena_t *self, size_t size)
{
    if (size > SIZE_MAX - sizeof(s_block_t))
        return NULL;
    s_block_t *b = calloc(1, sizeof(s_block_t) + (size ? size : 1));
    if (!b)
        return NULL;
    b->prev = self->last;
    self->last = b;
    return b->data;
}

char *cairn_arena_strndup(cairn_arena_t *self, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *out = cairn_arena_alloc(self, len + 1);
    if (!out)
        return NULL;
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

char *cairn_arena_strdup(cairn_arena_t *self, const char *s)
{
    return cairn_arena_strndup(self, s, strlen(s));
}
