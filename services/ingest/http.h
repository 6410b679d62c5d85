/* The ingest HTTP server (libmicrohttpd, epoll and a thread pool):
 *   POST /v1/events, POST /v1/webhooks/<source>  -> the handler
 *   GET  /healthz                                 -> 200 {"status":"ok"}
 *   GET  /metrics                                 -> Prometheus text format
 * Anything else is a JSON 404, a wrong method a JSON 405 with Allow. Bodies
 * over the handler's limit are never buffered and are answered 413: at once
 * when Content-Length says so and the sender waits for "100 Continue";
 * otherwise after the rest of the body was read and dropped (libmicrohttpd
 * cannot answer mid-upload, and closing under a sender that is still
 * uploading resets the connection before it reads the answer). Past twice
 * the limit nothing more is read: a declared length that large is answered
 * at once, a streamed body that large is cut off.
 *
 * Other limits: the request line and headers must fit in max_header bytes
 * (libmicrohttpd's per-connection memory; a larger head is answered by
 * libmicrohttpd itself with 431), at most max_connections connections are
 * open at once (more wait in the kernel's backlog), a connection idle for
 * request_timeout_ms is closed, and a request whose body has not fully
 * arrived max_request_time_ms after its headers is cut off. */
#ifndef CAIRN_INGEST_HTTP_H
#define CAIRN_INGEST_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "handler.h"

typedef struct {
    const char *address;    /* ingest.http_address: numeric IPv4/IPv6 or a host name */
    int port;               /* ingest.http_port; 0 picks a free port */
    unsigned threads;       /* ingest.threads: size of the thread pool */
    int request_timeout_ms; /* ingest.request_timeout: idle connections are closed after it */
    size_t max_header;      /* ingest.max_header: request line + headers; 0 = 64 KiB */
    unsigned max_connections; /* ingest.max_connections; 0 = 1024 */
    int64_t max_request_time_ms; /* ingest.max_request_time: headers to complete body; 0 = none */
} cairn_ingest_http_settings_t;

typedef struct cairn_ingest_http_t cairn_ingest_http_t;

/* Binds and starts serving in background threads. handler must outlive the
 * server. Returns -errno when the address cannot be bound (e.g. -EADDRINUSE),
 * CAIRN_ECONFIG for an address that does not resolve. */
int cairn_ingest_http_new(const cairn_ingest_http_settings_t *settings,
                          cairn_ingest_handler_t *handler, cairn_ingest_http_t **out);

/* Stops serving (waits for requests in flight) and frees (NULL-safe). */
void cairn_ingest_http_destroy(cairn_ingest_http_t **self_p);

/* The port actually bound (useful with port 0). */
uint16_t cairn_ingest_http_port(const cairn_ingest_http_t *self);

#endif
