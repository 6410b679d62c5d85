/* The ingest request handler: one transport-independent function that turns
 * (path, content type, headers, body) into (HTTP status, JSON body). HTTP
 * (http.c) and the ZeroMQ submit socket (submit.c) both call it, so both
 * answer identically.
 *
 * Paths: /v1/events (CloudEvents, cloudevent.c) and /v1/webhooks/<source>
 * (native webhooks, webhook.c). Every request is authenticated first
 * (auth.h): a webhook by its source's signature or token, /v1/events by a
 * bearer token when ingest.events_token is set.
 *
 * An event is answered 202 only once it is durable (recorder.h): after the
 * ledger acknowledged its append under its idempotency key
 * ("ce:<source>\n<id>" for CloudEvents, the source's delivery id for
 * webhooks), or, when the ledger did not answer in time, after it was
 * committed to the local spool (the answer then carries "spooled":true and
 * a spool sequence instead of a ledger index). A redelivery the ledger (or
 * the spool) already holds is 200 {"duplicate":true,...}. Error statuses
 * follow DESIGN §5: 400 malformed, 401 bad or missing signature or token,
 * 404 unknown path or webhook source, 413 too large, 415 unsupported media
 * type, 422 not a known event, 503 with Retry-After when the event could
 * not be made durable (the ledger did not acknowledge and the spool is
 * full or not configured, or the ledger refused it) or when ingest.max_inflight
 * events already wait to be made durable (then at once, touching neither the
 * ledger nor the spool).
 * Every error body is {"error":"<sentence>"}. Rejected input is kept with
 * an index line (rejected.h).
 *
 * submit() does the work that needs the request (authentication, parsing,
 * normalization) on the caller's thread and hands the events to the
 * recorder; the answer comes through a callback once they are durable, so
 * no thread waits for the ledger. handle() is the same for a caller that
 * waits.
 *
 * Thread-safe: any number of threads may call submit() and handle() at once. */
#ifndef CAIRN_INGEST_HANDLER_H
#define CAIRN_INGEST_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "cloudevent.h"
#include "protection.h"

typedef struct {
    const char *ledger_endpoint;     /* bus.ledger_api */
    int ledger_timeout_ms;           /* bus.request_timeout: wait for the ledger's ack */
    size_t max_body;                 /* ingest.max_body in bytes */
    const char *reject_dir;          /* rejected bodies are kept here; NULL = not kept */
    const char *spool_dir;           /* the spool ({data_dir}/ingest/spool); NULL = none: a
                                        ledger that does not answer is 503 */
    uint64_t spool_max;              /* ingest.spool_max: most events in the spool */
    uint64_t spool_max_bytes;        /* ingest.spool_max_size: most bytes in the spool */
    uint64_t max_inflight;           /* ingest.max_inflight: most events waiting to be made
                                        durable at once, then 503; 0 = no bound */
    const cairn_ingest_auth_t *auth; /* credentials per source (borrowed, must outlive the
                                        handler); NULL: none configured, so webhooks are
                                        refused and /v1/events is open */
} cairn_ingest_handler_settings_t;

typedef struct {
    unsigned status;      /* HTTP status code */
    char *body;           /* malloc'd JSON text (NUL-terminated); NULL only when out of memory */
    unsigned retry_after; /* seconds for a Retry-After header; 0 = none */
} cairn_ingest_response_t;

typedef struct cairn_ingest_handler_t cairn_ingest_handler_t;

/* NULL when out of memory, reject_dir cannot be created or the spool cannot
 * be opened. */
cairn_ingest_handler_t *cairn_ingest_handler_new(const cairn_ingest_handler_settings_t *settings);

/* The recorder the handler records events with (for the protection rule
 * worker, which records its answers the same way). */
cairn_ingest_recorder_t *cairn_ingest_handler_recorder(cairn_ingest_handler_t *self);

/* Sets (or clears) the protection rule worker accepted requests go to. Call
 * before requests arrive. */
void cairn_ingest_handler_set_protection(cairn_ingest_handler_t *self,
                                         cairn_ingest_protection_t *protection);
void cairn_ingest_handler_destroy(cairn_ingest_handler_t **self_p);

/* Gets the answer to a submission: the callee owns *response (release it
 * with cairn_ingest_response_clear). */
typedef void (*cairn_ingest_answer_fn)(void *arg, cairn_ingest_response_t *response);

/* Handles one HTTP submission and calls answer(arg, ...) exactly once:
 * before returning when the answer needs no ledger (every error, most of
 * them), else later from the recorder's thread. headers and body are only
 * read before submit returns. content_type may be NULL (then the
 * "content-type" header is used). */
void cairn_ingest_handler_submit(cairn_ingest_handler_t *self, const char *path,
                                 const char *content_type, const cairn_ingest_header_t *headers,
                                 size_t n_headers, const void *body, size_t len,
                                 cairn_ingest_answer_fn answer, void *arg);

/* Handles one HTTP submission and waits for its answer. content_type may be NULL (then the
 * "content-type" header is used). Always fills *out; release it with
 * cairn_ingest_response_clear. */
void cairn_ingest_handler_handle(cairn_ingest_handler_t *self, const char *path,
                                 const char *content_type, const cairn_ingest_header_t *headers,
                                 size_t n_headers, const void *body, size_t len,
                                 cairn_ingest_response_t *out);

/* The same for a submission over the ZeroMQ submit socket: /v1/events needs
 * no bearer token there (the bus endpoint is access-controlled itself);
 * webhooks are authenticated as over HTTP. */
void cairn_ingest_handler_handle_bus(cairn_ingest_handler_t *self, const char *path,
                                     const char *content_type, const cairn_ingest_header_t *headers,
                                     size_t n_headers, const void *body, size_t len,
                                     cairn_ingest_response_t *out);

/* Answers and counts a rejection a transport decided on its own (an unknown
 * path, a wrong method, a body over the limit seen while streaming); a 413
 * on path is also recorded in the rejected index. path may be NULL. */
void cairn_ingest_handler_reject(cairn_ingest_handler_t *self, const char *path, unsigned status,
                                 const char *message, cairn_ingest_response_t *out);

/* The configured body limit in bytes. */
size_t cairn_ingest_handler_max_body(const cairn_ingest_handler_t *self);

/* The counters in Prometheus text exposition format (malloc'd; NULL when out
 * of memory). */
char *cairn_ingest_handler_metrics(cairn_ingest_handler_t *self);

/* Frees the body and resets the response. */
void cairn_ingest_response_clear(cairn_ingest_response_t *response);

#endif
