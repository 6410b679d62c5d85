/* A loopback HTTP server for ingest's tests, standing in for GitHub's API:
 * it records every request (method and path, Authorization and Accept
 * headers, body, arrival time) and answers each with a status the test
 * chose beforehand (204 by default). Built on libmicrohttpd. */
#ifndef CAIRN_INGEST_HTTP_SINK_H
#define CAIRN_INGEST_HTTP_SINK_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_SINK_MAX 16

/* One request the sink received. */
typedef struct {
    char url[512];    /* "POST /repos/..." */
    char auth[256];   /* Authorization header */
    char accept[128]; /* Accept header */
    char *body;       /* request body (NUL-terminated) */
    int64_t at_ms;    /* when it arrived (monotonic ms) */
} http_sink_request_t;

typedef struct http_sink_t http_sink_t;

/* Starts on a free loopback port. NULL on failure. */
http_sink_t *http_sink_start(void);

/* Stops and frees (NULL-safe). */
void http_sink_stop(http_sink_t **self_p);

/* "http://127.0.0.1:<port>". */
const char *http_sink_url(const http_sink_t *self);

/* Answers request number i (from 0) with status instead of 204. */
void http_sink_answer(http_sink_t *self, size_t i, unsigned status);

/* Requests received so far. */
size_t http_sink_count(http_sink_t *self);

/* Waits up to ms until n requests arrived; returns how many there are. */
size_t http_sink_wait(http_sink_t *self, size_t n, int ms);

/* Request i (valid until the sink stops). */
const http_sink_request_t *http_sink_request(http_sink_t *self, size_t i);

#endif
