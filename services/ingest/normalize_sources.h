/* The per-source normalizers: one file each (normalize_github.c,
 * normalize_gitlab.c, normalize_jenkins.c, normalize_servicenow.c,
 * normalize_jira.c, normalize_pagerduty.c), all with one signature, and the
 * Tekton pass that normalize.c runs for dev.tekton.event.* CloudEvents.
 *
 * A webhook normalizer receives the request headers and the decoded JSON
 * body of an authenticated delivery, and fills the canonical event:
 *   - type, source, id, subject, time (CloudEvents attributes it synthesizes;
 *     the id is the source's delivery id when it has one),
 *   - correlation, governance and evidence (allocated by the caller),
 *   - the extensions "webhookevent" and "webhookaction" (the source's own
 *     names), and
 *   - key: the ledger idempotency key for this delivery ("" lets the caller
 *     fall back to the SHA-256 of the body).
 * The caller (webhook.c) sets everything request-wide: specversion, data
 * (the raw body), datacontenttype, ingest_source, raw_headers, and fills an
 * empty id from the body digest.
 *
 * A delivery that is valid JSON but not an event the source is known to
 * send (an unknown event name, a payload without the object the event must
 * carry) is CAIRN_EINVALID (answer 422) with a sentence naming the supported
 * events. docs/events.md documents every mapping. */
#ifndef CAIRN_INGEST_NORMALIZE_SOURCES_H
#define CAIRN_INGEST_NORMALIZE_SOURCES_H

#include "json_body.h"
#include <stddef.h>

#include "cairn/v1/event.pb-c.h"
#include "headers.h"

/* One authenticated webhook delivery. */
typedef struct {
    const cairn_ingest_header_t *headers; /* request headers */
    size_t n_headers;                     /* how many */
    const cJSON *body;                    /* the decoded JSON body */
} cairn_webhook_input_t;

typedef int (*cairn_webhook_normalize_fn)(const cairn_webhook_input_t *in, Cairn__V1__Event *ev,
                                          char *key, size_t keylen, char *err, size_t errlen);

int cairn_normalize_github(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                           size_t keylen, char *err, size_t errlen);
int cairn_normalize_gitlab(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                           size_t keylen, char *err, size_t errlen);
int cairn_normalize_jenkins(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                            size_t keylen, char *err, size_t errlen);
int cairn_normalize_servicenow(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                               size_t keylen, char *err, size_t errlen);
int cairn_normalize_jira(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                         size_t keylen, char *err, size_t errlen);
int cairn_normalize_pagerduty(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                              size_t keylen, char *err, size_t errlen);

/* Tekton CloudEvents (dev.tekton.event.<kind>.<state>.v1, binary mode, the
 * body {"pipelineRun"|"taskRun"|"run"|"customRun": {...}}): evidence from the
 * run's outcome and correlation from its labels, annotations, params and
 * results. Fills only what is still empty. data may be NULL. */
int cairn_normalize_tekton(Cairn__V1__Event *ev, const cJSON *data, char *err, size_t errlen);

#endif
