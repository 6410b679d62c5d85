/* Region allocator (see arena.h). Chunks are chained newest first; they
 * start at S_FIRST bytes and double up to S_MAX, and an allocation too big
 * for that gets a chunk of its own. Formatted strings go through format.c. */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

#define S_FIRST ((size_t)4096)
#define S_MAX ((size_t)65536)
#define S_ALIGN (alignof(max_align_t))

typedef struct s_chunk_t {
    struct s_chunk_t *prev; /* chunk allocated before this one */
    size_t size;            /* bytes in data */
    max_align_t data[];     /* the caller's bytes */
} s_chunk_t;

struct cairn_arena_t {
    s_chunk_t *cur;   /* chunk allocations are bumped from */
    s_chunk_t *older; /* every other chunk (filled ones and dedicated big ones) */
    size_t used;      /* bytes of cur in use */
    size_t next_size; /* size of the next chunk */
    void *last;       /* latest allocation from cur (grown in place) */
};

static size_t s_round(size_t n)
{
    return (n + S_ALIGN - 1) & ~(S_ALIGN - 1);
}

static s_chunk_t *s_chunk(size_t size)
{
    if (size > SIZE_MAX - sizeof(s_chunk_t))
        return NULL;
    s_chunk_t *c = malloc(sizeof(s_chunk_t) + size);
    if (c) {
        c->prev = NULL;
        c->size = size;
    }
    return c;
}

static void s_free_chain(s_chunk_t *c)
{
    while (c) {
        s_chunk_t *prev = c->prev;
        free(c);
        c = prev;
    }
}

cairn_arena_t *cairn_arena_new(void)
{
    cairn_arena_t *self = calloc(1, sizeof *self);
    if (self)
        self->next_size = S_FIRST;
    return self;
}

void cairn_arena_destroy(cairn_arena_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_free_chain((*self_p)->cur);
    s_free_chain((*self_p)->older);
    free(*self_p);
    *self_p = NULL;
}

void cairn_arena_reset(cairn_arena_t *self)
{
    /* cur is the largest chunk so far: keep it for the next round. */
    if (self->cur) {
        s_free_chain(self->cur->prev);
        self->cur->prev = NULL;
    }
    s_free_chain(self->older);
    self->older = NULL;
    self->used = 0;
    self->last = NULL;
}

/* Uninitialized room for size bytes (size already rounded). */
static void *s_take(cairn_arena_t *self, size_t size)
{
    if (self->cur && self->cur->size - self->used >= size) {
        void *p = (char *)self->cur->data + self->used;
        self->used += size;
        self->last = p;
        return p;
    }
    if (size > S_MAX / 4) {
        /* A chunk of its own, filed behind the current one. */
        s_chunk_t *big = s_chunk(size);
        if (!big)
            return NULL;
        big->prev = self->older;
        self->older = big;
        return big->data;
    }
    while (self->next_size < size)
        self->next_size *= 2;
    s_chunk_t *c = s_chunk(self->next_size);
    if (!c)
        return NULL;
    if (self->next_size < S_MAX)
        self->next_size *= 2;
    if (self->cur) {
        /* The filled chunk joins the older ones. */
        s_chunk_t *full = self->cur;
        full->prev = self->older;
        self->older = full;
    }
    self->cur = c;
    self->used = size;
    self->last = c->data;
    return c->data;
}

void *cairn_arena_alloc(cairn_arena_t *self, size_t size)
{
    size_t n = s_round(size ? size : 1);
    if (n < size)
        return NULL;
    void *p = s_take(self, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *cairn_arena_grow(cairn_arena_t *self, void *old, size_t old_size, size_t new_size)
{
    if (new_size <= old_size && old)
        return old;
    size_t n = s_round(new_size);
    if (n < new_size)
        return NULL;
    if (old && old == self->last && self->cur) {
        size_t start = (size_t)((char *)old - (char *)self->cur->data);
        if (self->cur->size - start >= n) {
            memset((char *)old + old_size, 0, n - old_size);
            self->used = start + n;
            return old;
        }
    }
    void *p = cairn_arena_alloc(self, new_size);
    if (p && old && old_size)
        memcpy(p, old, old_size);
    return p;
}

char *cairn_arena_strndup(cairn_arena_t *self, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *out = s_take(self, s_round(len + 1));
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

char *cairn_arena_concat(cairn_arena_t *self, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > SIZE_MAX / 2 || lb > SIZE_MAX / 2)
        return NULL;
    char *out = s_take(self, s_round(la + lb + 1));
    if (!out)
        return NULL;
    memcpy(out, a, la);
    memcpy(out + la, b, lb);
    out[la + lb] = '\0';
    return out;
}

char *cairn_arena_vprintf(cairn_arena_t *self, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    char *out = NULL;
    size_t room = self->cur ? self->cur->size - self->used : 0;
    char *at = self->cur ? (char *)self->cur->data + self->used : NULL;
    int n = cairn_vformat(at, room, fmt, ap);
    if (n >= 0 && (size_t)n < room) {
        /* Written in place: claim it. */
        self->used += s_round((size_t)n + 1); /* room is a multiple of S_ALIGN */
        self->last = at;
        out = at;
    } else if (n >= 0 && (out = s_take(self, s_round((size_t)n + 1))) != NULL) {
        cairn_vformat(out, (size_t)n + 1, fmt, again);
    }
    va_end(again);
    return out;
}

char *cairn_arena_printf(cairn_arena_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = cairn_arena_vprintf(self, fmt, ap);
    va_end(ap);
    return out;
}
