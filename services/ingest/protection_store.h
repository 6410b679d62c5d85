/* Where ingest keeps the GitHub deployment protection rule requests it has
 * not answered yet, so that a restart of ingest neither forgets one nor
 * answers one twice: an LMDB environment ({cairn.data_dir}/ingest/protection)
 * holding one JSON document per request (protection.c defines its fields),
 * "pending" until answered, then "done".
 *
 * Documents are keyed by their "id" field (the request event's idempotency
 * key). Thread-safe: every call runs its own LMDB transaction. */
#ifndef CAIRN_INGEST_PROTECTION_STORE_H
#define CAIRN_INGEST_PROTECTION_STORE_H

#include <jansson.h>

typedef struct cairn_protection_store_t cairn_protection_store_t;

/* Opens (creating, mode 0700) the store in dir. */
int cairn_protection_store_open(const char *dir, cairn_protection_store_t **out);

/* Closes (NULL-safe, sets *self_p to NULL). */
void cairn_protection_store_destroy(cairn_protection_store_t **self_p);

/* Adds a new pending request. Returns 0, or 1 when a request with the same
 * id is already pending or done (nothing is written). */
int cairn_protection_store_add(cairn_protection_store_t *self, const json_t *doc);

/* Replaces a pending request's document (its progress). */
int cairn_protection_store_save(cairn_protection_store_t *self, const json_t *doc);

/* Moves a request from pending to done, keeping doc as its record. */
int cairn_protection_store_finish(cairn_protection_store_t *self, const json_t *doc);

/* Every pending document, as a new JSON array in *out. */
int cairn_protection_store_pending(cairn_protection_store_t *self, json_t **out);

#endif
