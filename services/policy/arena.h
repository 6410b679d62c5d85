/* A region allocator. Everything allocated from an arena is released at once
 * when the arena is destroyed (or reset), so the structures built in it need
 * no per-field free code. The policy loader builds the policy model in one;
 * each evaluation builds its findings and verdicts in one, which turns the
 * thousands of small allocations of an evaluation into a handful.
 *
 * Memory comes in chunks; an allocation is a pointer bump inside the
 * current chunk. Not thread-safe: an arena belongs to one owner. */
#ifndef CAIRN_POLICY_ARENA_H
#define CAIRN_POLICY_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct cairn_arena_t cairn_arena_t;

cairn_arena_t *cairn_arena_new(void);
void cairn_arena_destroy(cairn_arena_t **self_p);

/* Releases everything allocated so far but keeps the first chunk, so an
 * arena reused for one evaluation after another stops calling malloc. */
void cairn_arena_reset(cairn_arena_t *self);

/* Zeroed memory owned by the arena, or NULL when out of memory. */
void *cairn_arena_alloc(cairn_arena_t *self, size_t size);

/* Makes room for new_size bytes where old (old_size bytes, from this
 * arena, or NULL) was: in place when old is the latest allocation,
 * otherwise a copy. The bytes past old_size are zeroed. NULL when out of
 * memory (old is left as it was). */
void *cairn_arena_grow(cairn_arena_t *self, void *old, size_t old_size, size_t new_size);

/* Copies len bytes of s and adds a NUL. */
char *cairn_arena_strndup(cairn_arena_t *self, const char *s, size_t len);
char *cairn_arena_strdup(cairn_arena_t *self, const char *s);

/* a followed by b. */
char *cairn_arena_concat(cairn_arena_t *self, const char *a, const char *b);

/* A formatted string, written once into the arena when it fits the current
 * chunk (the common case), else measured and written into a new one. */
char *cairn_arena_printf(cairn_arena_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *cairn_arena_vprintf(cairn_arena_t *self, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#endif
