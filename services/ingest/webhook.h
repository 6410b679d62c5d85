/* Native webhooks on POST /v1/webhooks/<source>: the table of sources and
 * the build of one canonical event from an authenticated delivery. The
 * handler authenticates first (auth.h), then calls cairn_webhook_build,
 * then appends the event under the idempotency key it returns.
 *
 * Sources: github, gitlab, jenkins, servicenow, jira, pagerduty. Each one's
 * mapping lives in normalize_<source>.c; docs/events.md documents them. */
#ifndef CAIRN_INGEST_WEBHOOK_H
#define CAIRN_INGEST_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn/v1/event.pb-c.h"
#include "headers.h"

/* The sources, as a sentence fragment: "github, gitlab, ...". */
extern const char *const cairn_webhook_source_list;

/* True when name is a webhook source. */
bool cairn_webhook_known(const char *name);

/* Builds the event for one delivery of source. The body must be JSON: an
 * empty or malformed body is CAIRN_EPARSE (answer 400, the error says where
 * the JSON breaks); JSON that is not an event the source sends is
 * CAIRN_EINVALID (answer 422). On success *out holds the event (free with
 * cairn_cloudevent_free) with its data (the raw body), raw headers, type,
 * source, id and normalized parts, and key the ledger idempotency key:
 * the source's delivery id, or "<source>:sha256:<hex of the body>" when the
 * delivery carries none. sha_hex is the body's hex SHA-256. */
int cairn_webhook_build(const char *source, const cairn_ingest_header_t *headers, size_t n,
                        const char *content_type, const void *body, size_t len, const char *sha_hex,
                        Cairn__V1__Event **out, char *key, size_t keylen, char *err, size_t errlen);

#endif
