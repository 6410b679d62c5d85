/* Rejected input, kept for inspection under one directory
 * ({cairn.data_dir}/ingest/rejected):
 *   <unix ms>-<status>-<sha256 prefix>.body   the raw body of a 400, 401,
 *                                              415 or 422 (at most 1000 per
 *                                              run of the daemon)
 *   index.jsonl                                one JSON line per rejection:
 *     {"time":"2026-11-25T10:00:00.000Z","time_ms":...,"status":401,
 *      "source":"github","path":"/v1/webhooks/github","reason":"...",
 *      "bytes":123,"sha256":"<hex>","file":"<name>.body" or null}
 * docs/events.md describes the format; `cairn ingest rejected` reads it.
 * Thread-safe: lines are written whole, under a lock, with O_APPEND. */
#ifndef CAIRN_INGEST_REJECTED_H
#define CAIRN_INGEST_REJECTED_H

#include <stddef.h>
#include <stdint.h>

/* The index file's name inside the directory. */
#define CAIRN_INGEST_REJECTED_INDEX "index.jsonl"

typedef struct cairn_ingest_rejected_t cairn_ingest_rejected_t;

/* One rejection. */
typedef struct {
    unsigned status;     /* HTTP status answered */
    const char *source;  /* "github", ..., "cloudevents", or "" when unknown */
    const char *path;    /* request path, or "" */
    const char *reason;  /* the error sentence answered */
    const void *body;    /* raw body (may be NULL) */
    size_t len;          /* bytes in body */
    const char *sha_hex; /* hex SHA-256 of the body, or NULL to compute it */
    int64_t now_ms;      /* when it was received */
} cairn_ingest_rejection_t;

/* Creates dir (mode 0700) if needed. NULL when it cannot be created. */
cairn_ingest_rejected_t *cairn_ingest_rejected_new(const char *dir);
void cairn_ingest_rejected_destroy(cairn_ingest_rejected_t **self_p);

/* Keeps the body (for 400, 401, 415 and 422, while under the limit) and
 * appends an index line. Writes the kept file's name into kept ("" when
 * the body was not kept). Returns 0, or a negative code when the index line
 * could not be written (the caller logs; the answer is unchanged). */
int cairn_ingest_rejected_add(cairn_ingest_rejected_t *self, const cairn_ingest_rejection_t *r,
                              char *kept, size_t kept_len);

/* Bodies written so far. */
uint64_t cairn_ingest_rejected_kept(const cairn_ingest_rejected_t *self);

#endif
