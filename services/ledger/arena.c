/* Request arena: bump allocation for one batch of requests (see arena.h). */
#include "arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct cairn_ledger_arena_block {
    cairn_ledger_arena_block_t *next; /* older block */
    size_t size;                      /* bytes in data */
    size_t off;                       /* bytes of data handed out */
    alignas(max_align_t) unsigned char data[];
};

#define S_ALIGN (alignof(max_align_t))

static size_t s_round(size_t n)
{
    return (n + S_ALIGN - 1) & ~(S_ALIGN - 1);
}

static cairn_ledger_arena_block_t *s_block_new(size_t size)
{
    if (size > SIZE_MAX - sizeof(cairn_ledger_arena_block_t))
        return NULL;
    cairn_ledger_arena_block_t *b = malloc(sizeof *b + size);
    if (!b)
        return NULL;
    b->next = NULL;
    b->size = size;
    b->off = 0;
    return b;
}

void *cairn_ledger_arena_alloc(cairn_ledger_arena_t *self, size_t size)
{
    if (size > SIZE_MAX - S_ALIGN)
        return NULL;
    size_t need = s_round(size ? size : 1);
    cairn_ledger_arena_block_t *b = self->blocks;
    if (!b || b->size - b->off < need) {
        size_t want = CAIRN_LEDGER_ARENA_BLOCK_BYTES;
        if (b && b->size <= SIZE_MAX / 2 && 2 * b->size > want)
            want = 2 * b->size; /* grow geometrically: few blocks per batch */
        if (want < need)
            want = need;
        cairn_ledger_arena_block_t *nb = s_block_new(want);
        if (!nb)
            return NULL;
        nb->next = b;
        self->blocks = b = nb;
    }
    void *p = b->data + b->off;
    b->off += need;
    self->used += need;
    return p;
}

void *cairn_ledger_arena_calloc(cairn_ledger_arena_t *self, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = cairn_ledger_arena_alloc(self, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

static void *s_pb_alloc(void *data, size_t size)
{
    return cairn_ledger_arena_alloc(data, size);
}

static void s_pb_free(void *data, void *ptr)
{
    (void)data, (void)ptr; /* given back at the reset */
}

ProtobufCAllocator *cairn_ledger_arena_allocator(cairn_ledger_arena_t *self)
{
    self->pb.alloc = s_pb_alloc;
    self->pb.free = s_pb_free;
    self->pb.allocator_data = self;
    return &self->pb;
}

void cairn_ledger_arena_reset(cairn_ledger_arena_t *self)
{
    cairn_ledger_arena_block_t *b = self->blocks;
    if (!b)
        return;
    if (!b->next && b->size <= CAIRN_LEDGER_ARENA_KEEP_BYTES) { /* it held the batch: keep it */
        b->off = 0;
        self->used = 0;
        return;
    }
    /* Several blocks, or one too big to keep: one block that would have
     * held it all (up to the cap) replaces them. */
    size_t want = self->used < CAIRN_LEDGER_ARENA_KEEP_BYTES ? self->used
                                                             : CAIRN_LEDGER_ARENA_KEEP_BYTES;
    cairn_ledger_arena_free_all(self);
    if (want > CAIRN_LEDGER_ARENA_BLOCK_BYTES)
        self->blocks = s_block_new(want); /* NULL is fine: the next alloc retries */
}

void cairn_ledger_arena_free_all(cairn_ledger_arena_t *self)
{
    cairn_ledger_arena_block_t *b = self->blocks;
    while (b) {
        cairn_ledger_arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    self->blocks = NULL;
    self->used = 0;
}
