/* Outbound HTTP and SMTP with libcurl's multi interface, driven from the
 * daemon's own zmq_poll loop so that slow receivers never block the stream,
 * the timers or a shutdown. Each request carries a tag the caller matches
 * its response with. */
#ifndef CAIRN_NOTIFY_TRANSPORT_H
#define CAIRN_NOTIFY_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef enum {
    CAIRN_REQUEST_HTTP, /* POST body to url */
    CAIRN_REQUEST_SMTP, /* send body (a whole message) over SMTP */
} cairn_request_kind_t;

typedef struct {
    uint64_t tag;               /* the caller's id for this request */
    cairn_request_kind_t kind;  /* HTTP or SMTP */
    const char *url;            /* http(s)://... or smtp(s)://host:port */
    const char *const *headers; /* HTTP: "Name: value" lines */
    size_t n_headers;
    const char *body; /* copied */
    size_t len;
    int64_t timeout_ms;      /* whole request */
    const char *ca_file;     /* CA bundle, or NULL for the system's */
    const char *mail_from;   /* SMTP: envelope sender */
    const char *const *rcpt; /* SMTP: envelope recipients */
    size_t n_rcpt;
    bool require_tls;     /* SMTP: STARTTLS or fail */
    const char *username; /* SMTP AUTH, or NULL */
    const char *password;
} cairn_request_t;

typedef struct {
    uint64_t tag;           /* of the request */
    int curl_code;          /* 0 when the exchange completed */
    long status;            /* HTTP status or last SMTP reply code (0: none) */
    int64_t retry_after_ms; /* Retry-After, or -1 */
    int64_t latency_ms;     /* how long it took */
    char error[256];        /* what went wrong, for people */
    char body[256];         /* the start of the response body */
} cairn_response_t;

typedef struct cairn_transport_t cairn_transport_t;

int cairn_transport_new(cairn_transport_t **out);
void cairn_transport_destroy(cairn_transport_t **self_p);

/* Starts a request. */
int cairn_transport_start(cairn_transport_t *self, const cairn_request_t *req);

/* Requests in flight. */
size_t cairn_transport_active(const cairn_transport_t *self);

/* Fills items with the sockets curl waits on; returns how many (<= max). */
size_t cairn_transport_pollitems(const cairn_transport_t *self, zmq_pollitem_t *items, size_t max);

/* Milliseconds until curl needs attention without socket activity (-1: none). */
long cairn_transport_timeout_ms(const cairn_transport_t *self);

/* Lets curl work on the sockets that zmq_poll reported (items as filled by
 * pollitems, with revents) and on expired timers. */
int cairn_transport_perform(cairn_transport_t *self, const zmq_pollitem_t *items, size_t n);

/* Pops one finished request; false when there is none. */
bool cairn_transport_done(cairn_transport_t *self, cairn_response_t *out);

#endif
