/* Open addressing with linear probing over 16-byte slots (hash, index + 1);
 * a removed slot becomes a tombstone until the table next grows. */
#include "keymap.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define S_EMPTY 0
#define S_TOMBSTONE UINT64_MAX
/* Grow when used + tombstones would pass 7/10 of the slots. */
#define S_LOAD_NUM 7
#define S_LOAD_DEN 10

typedef struct {
    uint64_t hash;  /* the key's hash */
    uint64_t entry; /* index + 1; S_EMPTY or S_TOMBSTONE */
} s_slot_t;

struct cairn_ledger_keymap_t {
    uint8_t key[crypto_shorthash_KEYBYTES]; /* SipHash key, random per map */
    s_slot_t *slots;                        /* cap of them */
    size_t cap;                             /* a power of two */
    size_t used;                            /* slots holding an index */
    size_t dead;                            /* tombstones */
};

cairn_ledger_keymap_t *cairn_ledger_keymap_new(void)
{
    if (sodium_init() < 0)
        return NULL;
    cairn_ledger_keymap_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    crypto_shorthash_keygen(self->key);
    return self;
}

void cairn_ledger_keymap_destroy(cairn_ledger_keymap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->slots);
    sodium_memzero((*self_p)->key, sizeof(*self_p)->key);
    free(*self_p);
    *self_p = NULL;
}

uint64_t cairn_ledger_keymap_hash(const cairn_ledger_keymap_t *self, const void *key, size_t len)
{
    uint8_t out[crypto_shorthash_BYTES];
    uint64_t h = 0;
    crypto_shorthash(out, key, len, self->key);
    memcpy(&h, out, sizeof h);
    return h;
}

/* Places index + 1 under hash in slots (no tombstones there, room left). */
static void s_place(s_slot_t *slots, size_t cap, uint64_t hash, uint64_t entry)
{
    size_t i = (size_t)hash & (cap - 1);
    while (slots[i].entry != S_EMPTY)
        i = (i + 1) & (cap - 1);
    slots[i] = (s_slot_t){hash, entry};
}

/* Doubles the table, or rebuilds it at its size when tombstones are what
 * fills it. */
static int s_grow(cairn_ledger_keymap_t *self)
{
    size_t cap = self->cap ? self->cap : 1024;
    if ((self->used + 1) * S_LOAD_DEN > cap * S_LOAD_NUM / 2)
        cap *= 2;
    s_slot_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < self->cap; i++)
        if (self->slots[i].entry != S_EMPTY && self->slots[i].entry != S_TOMBSTONE)
            s_place(slots, cap, self->slots[i].hash, self->slots[i].entry);
    free(self->slots);
    self->slots = slots;
    self->cap = cap;
    self->dead = 0;
    return 0;
}

int cairn_ledger_keymap_add(cairn_ledger_keymap_t *self, uint64_t hash, uint64_t index)
{
    if (index >= S_TOMBSTONE - 1)
        return -EINVAL;
    if ((self->used + self->dead + 1) * S_LOAD_DEN > self->cap * S_LOAD_NUM) {
        int rc = s_grow(self);
        if (rc < 0)
            return rc;
    }
    s_place(self->slots, self->cap, hash, index + 1);
    self->used++;
    return 0;
}

void cairn_ledger_keymap_remove(cairn_ledger_keymap_t *self, uint64_t hash, uint64_t index)
{
    if (self->cap == 0)
        return;
    for (size_t i = (size_t)hash & (self->cap - 1); self->slots[i].entry != S_EMPTY;
         i = (i + 1) & (self->cap - 1)) {
        if (self->slots[i].hash == hash && self->slots[i].entry == index + 1) {
            self->slots[i].entry = S_TOMBSTONE;
            self->used--;
            self->dead++;
            return;
        }
    }
}

int cairn_ledger_keymap_find(const cairn_ledger_keymap_t *self, uint64_t hash,
                             cairn_ledger_keymap_fn fn, void *arg)
{
    if (self->cap == 0)
        return 0;
    for (size_t i = (size_t)hash & (self->cap - 1); self->slots[i].entry != S_EMPTY;
         i = (i + 1) & (self->cap - 1)) {
        const s_slot_t *s = &self->slots[i];
        if (s->entry == S_TOMBSTONE || s->hash != hash)
            continue;
        int rc = fn(arg, s->entry - 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

size_t cairn_ledger_keymap_count(const cairn_ledger_keymap_t *self)
{
    return self->used;
}

size_t cairn_ledger_keymap_bytes(const cairn_ledger_keymap_t *self)
{
    return self->cap * sizeof(s_slot_t);
}
