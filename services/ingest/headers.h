/* Request headers as ingest sees them: a case-insensitive lookup, and the
 * choice of which headers are kept with an event as evidence of the request
 * (Event.raw_headers). Credentials are never kept: Authorization,
 * X-Gitlab-Token, cookies, and any header whose name says token, secret,
 * password or key. Signatures are kept (an HMAC does not reveal its key, and
 * it lets whoever holds the secret re-verify the recorded body later). */
#ifndef CAIRN_INGEST_HEADERS_H
#define CAIRN_INGEST_HEADERS_H

#include <stddef.h>

#include "cairn/v1/event.pb-c.h"

/* One request header; names compare case-insensitively. */
typedef struct {
    const char *name;
    const char *value;
} cairn_ingest_header_t;

/* The value of the first header called name (any case), or NULL. A header
 * without a value reads as "". */
const char *cairn_ingest_header(const cairn_ingest_header_t *headers, size_t n, const char *name);

/* True when a header of this name may be kept as evidence. */
int cairn_ingest_header_keepable(const char *name);

/* Copies the keepable headers into ev->raw_headers (names lower-cased, at
 * most 64 headers, values cut at 2048 bytes). Returns 0 or -ENOMEM. */
int cairn_ingest_headers_keep(Cairn__V1__Event *ev, const cairn_ingest_header_t *headers, size_t n);

#endif
