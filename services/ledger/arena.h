/* Request arena: the memory of one batch of requests on the loop thread
 * (their decoded messages, packed records, append_batch items and reply
 * buffers), taken by bumping a pointer and given back all at once when the
 * batch has been answered. Decoding an append otherwise costs a malloc and
 * a free per message, string and byte field.
 *
 * After a reset the arena keeps one block big enough for what the batch
 * used (up to CAIRN_LEDGER_ARENA_KEEP_BYTES), so a steady load allocates
 * nothing. A zeroed cairn_ledger_arena_t is an empty arena. Not thread-safe:
 * one thread allocates and resets; others may read what it handed out. */
#ifndef CAIRN_LEDGER_ARENA_H
#define CAIRN_LEDGER_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/* Smallest block, and the most a reset keeps. */
#define CAIRN_LEDGER_ARENA_BLOCK_BYTES (64u * 1024u)
#define CAIRN_LEDGER_ARENA_KEEP_BYTES (4u * 1024u * 1024u)

typedef struct cairn_ledger_arena_block cairn_ledger_arena_block_t;

typedef struct {
    cairn_ledger_arena_block_t *blocks; /* newest first; the head is the one in use */
    size_t used;                        /* bytes handed out since the last reset */
    ProtobufCAllocator pb;              /* protobuf-c's view of this arena */
} cairn_ledger_arena_t;

/* Returns size bytes aligned for any type, NULL when out of memory. The
 * memory stays valid until the next reset or free_all. */
void *cairn_ledger_arena_alloc(cairn_ledger_arena_t *self, size_t size);

/* Like cairn_ledger_arena_alloc, zero-filled. */
void *cairn_ledger_arena_calloc(cairn_ledger_arena_t *self, size_t n, size_t size);

/* A protobuf-c allocator drawing on the arena; its free does nothing. */
ProtobufCAllocator *cairn_ledger_arena_allocator(cairn_ledger_arena_t *self);

/* Gives back everything handed out; keeps one block sized for the next batch. */
void cairn_ledger_arena_reset(cairn_ledger_arena_t *self);

/* Frees every block; the arena is empty (and usable) again. */
void cairn_ledger_arena_free_all(cairn_ledger_arena_t *self);

#endif
