/* The ledger's idempotency index, in memory: a keyed 64-bit hash of each
 * idempotency key and the index of the entry appended under it. The keys
 * themselves stay in the store (`entry_keys`, index -> key), so a hash that
 * matches is confirmed by reading the stored key; two keys with the same hash
 * are both kept. The map is rebuilt from `entry_keys` when the store opens.
 *
 * A B-tree keyed by idempotency key would take one random leaf page per
 * append (keys such as UUIDs come in no order), copied and written at every
 * commit; this map costs 16 bytes per slot instead, 35 to 70 % full (23 to
 * 46 bytes per key). */
#ifndef CAIRN_LEDGER_KEYMAP_H
#define CAIRN_LEDGER_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct cairn_ledger_keymap_t cairn_ledger_keymap_t;

/* A new, empty map with a random hash key (NULL when out of memory). */
cairn_ledger_keymap_t *cairn_ledger_keymap_new(void);
void cairn_ledger_keymap_destroy(cairn_ledger_keymap_t **self_p);

/* The map's hash of key (SipHash-2-4 under the map's own random key, so
 * nobody outside can choose keys that collide). */
uint64_t cairn_ledger_keymap_hash(const cairn_ledger_keymap_t *self, const void *key, size_t len);

/* Records index under hash. */
int cairn_ledger_keymap_add(cairn_ledger_keymap_t *self, uint64_t hash, uint64_t index);

/* Forgets index under hash (an abandoned batch); no-op when absent. */
void cairn_ledger_keymap_remove(cairn_ledger_keymap_t *self, uint64_t hash, uint64_t index);

/* Called for each index recorded under a hash, in no particular order;
 * returns 0 to go on, anything else to stop with it. */
typedef int (*cairn_ledger_keymap_fn)(void *arg, uint64_t index);

/* Calls fn for every index recorded under hash; returns fn's first nonzero
 * result, or 0. */
int cairn_ledger_keymap_find(const cairn_ledger_keymap_t *self, uint64_t hash,
                             cairn_ledger_keymap_fn fn, void *arg);

/* Indexes recorded. */
size_t cairn_ledger_keymap_count(const cairn_ledger_keymap_t *self);

/* Bytes the map's table takes. */
size_t cairn_ledger_keymap_bytes(const cairn_ledger_keymap_t *self);

#endif
