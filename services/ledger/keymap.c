/* Open addressing with linear probing over 16-byte slots (hash, index + 1);
 * a removed slot becomes a tombstone until the table is rebuilt. A table
 * that fills up is replaced by one twice its size without a pause: the old
 * one is kept and moved over a few slots at every add, and looked in until
 * it is empty (at 3 million keys a rebuild in one go took 0.2 s). */
#include "keymap.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define S_EMPTY 0
#define S_TOMBSTONE UINT64_MAX
/* A table is replaced when used + tombstones would pass 7/10 of its slots. */
#define S_LOAD_NUM 7
#define S_LOAD_DEN 10
/* Old slots moved to the new table per add while a replacement is under
 * way: the old table is empty long before the new one fills. */
#define S_MOVE_PER_ADD 64
#define S_FIRST_CAP 1024

typedef struct {
    uint64_t hash;  /* the key's hash */
    uint64_t entry; /* index + 1; S_EMPTY or S_TOMBSTONE */
} s_slot_t;

typedef struct {
    s_slot_t *slots; /* cap of them, NULL when none */
    size_t cap;      /* a power of two */
    size_t used;     /* slots holding an index */
    size_t dead;     /* tombstones */
} s_table_t;

struct cairn_ledger_keymap_t {
    uint8_t key[crypto_shorthash_KEYBYTES]; /* SipHash key, random per map */
    s_table_t cur;                          /* where adds go */
    s_table_t old;                          /* the table being emptied into cur, if any */
    size_t moved;                           /* old slots handled so far */
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
    free((*self_p)->cur.slots);
    free((*self_p)->old.slots);
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

static bool s_live(const s_slot_t *s)
{
    return s->entry != S_EMPTY && s->entry != S_TOMBSTONE;
}

/* Places index + 1 under hash in t (which has room). */
static void s_place(s_table_t *t, uint64_t hash, uint64_t entry)
{
    size_t i = (size_t)hash & (t->cap - 1);
    while (t->slots[i].entry != S_EMPTY)
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = (s_slot_t){hash, entry};
    t->used++;
}

/* Moves up to n old slots into cur; frees the old table once it is empty. */
static void s_move(cairn_ledger_keymap_t *self, size_t n)
{
    s_table_t *old = &self->old;
    for (; n > 0 && self->moved < old->cap; n--, self->moved++) {
        s_slot_t *s = &old->slots[self->moved];
        if (s_live(s)) {
            s_place(&self->cur, s->hash, s->entry);
            s->entry = S_TOMBSTONE; /* keeps old probe chains intact until it goes */
            old->used--;
            old->dead++;
        }
    }
    if (self->moved == old->cap) {
        free(old->slots);
        *old = (s_table_t){0};
        self->moved = 0;
    }
}

/* Replaces cur by a table twice its size (the same size when tombstones are
 * what fills it), which the old one empties into from now on. */
static int s_replace(cairn_ledger_keymap_t *self)
{
    if (self->old.slots) /* still emptying the previous one: finish it first */
        s_move(self, self->old.cap);
    size_t cap = self->cur.cap ? self->cur.cap : S_FIRST_CAP;
    if ((self->cur.used + 1) * S_LOAD_DEN > cap * S_LOAD_NUM / 2)
        cap *= 2;
    s_slot_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -ENOMEM;
    self->old = self->cur;
    self->cur = (s_table_t){.slots = slots, .cap = cap};
    self->moved = 0;
    if (!self->old.slots)
        self->old = (s_table_t){0};
    return 0;
}

int cairn_ledger_keymap_add(cairn_ledger_keymap_t *self, uint64_t hash, uint64_t index)
{
    if (index >= S_TOMBSTONE - 1)
        return -EINVAL;
    if ((self->cur.used + self->cur.dead + 1) * S_LOAD_DEN > self->cur.cap * S_LOAD_NUM) {
        int rc = s_replace(self);
        if (rc < 0)
            return rc;
    }
    s_place(&self->cur, hash, index + 1);
    if (self->old.slots)
        s_move(self, S_MOVE_PER_ADD);
    return 0;
}

/* Turns the slot holding index + 1 under hash into a tombstone. */
static bool s_remove_from(s_table_t *t, uint64_t hash, uint64_t index)
{
    if (!t->slots)
        return false;
    for (size_t i = (size_t)hash & (t->cap - 1); t->slots[i].entry != S_EMPTY;
         i = (i + 1) & (t->cap - 1)) {
        if (t->slots[i].hash == hash && t->slots[i].entry == index + 1) {
            t->slots[i].entry = S_TOMBSTONE;
            t->used--;
            t->dead++;
            return true;
        }
    }
    return false;
}

void cairn_ledger_keymap_remove(cairn_ledger_keymap_t *self, uint64_t hash, uint64_t index)
{
    if (!s_remove_from(&self->cur, hash, index))
        s_remove_from(&self->old, hash, index);
}

static int s_find_in(const s_table_t *t, uint64_t hash, cairn_ledger_keymap_fn fn, void *arg)
{
    if (!t->slots)
        return 0;
    for (size_t i = (size_t)hash & (t->cap - 1); t->slots[i].entry != S_EMPTY;
         i = (i + 1) & (t->cap - 1)) {
        const s_slot_t *s = &t->slots[i];
        if (s->entry == S_TOMBSTONE || s->hash != hash)
            continue;
        int rc = fn(arg, s->entry - 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int cairn_ledger_keymap_find(const cairn_ledger_keymap_t *self, uint64_t hash,
                             cairn_ledger_keymap_fn fn, void *arg)
{
    int rc = s_find_in(&self->cur, hash, fn, arg);
    return rc != 0 ? rc : s_find_in(&self->old, hash, fn, arg);
}

size_t cairn_ledger_keymap_count(const cairn_ledger_keymap_t *self)
{
    return self->cur.used + self->old.used;
}

size_t cairn_ledger_keymap_bytes(const cairn_ledger_keymap_t *self)
{
    return (self->cur.cap + self->old.cap) * sizeof(s_slot_t);
}
