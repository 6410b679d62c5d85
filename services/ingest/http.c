/* The ingest HTTP server: routing, body buffering with an early size limit,
 * and turning handler answers into HTTP responses. All event semantics live
 * in the handler; this file only speaks HTTP.
 *
 * A submission whose answer waits for the ledger suspends its connection
 * (libmicrohttpd's suspend/resume) instead of holding a worker thread: the
 * handler's callback stores the answer and resumes it, and libmicrohttpd
 * then calls the access handler again, which sends it. So the pool's
 * threads only ever do CPU work, and any number of requests can wait for
 * their acks at once. */
#include "http.h"

#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"

/* Pending connections the kernel queues for us. */
#define S_BACKLOG 256
/* Defaults when the settings leave a limit at 0. */
#define S_MAX_HEADER (64u * 1024u)
#define S_MAX_CONNECTIONS 1024u
/* A body whose Content-Length is at most this gets its whole buffer at
 * once (no regrowing and copying); a larger one grows as it arrives, so a
 * sender that only announces a large body holds little memory. */
#define S_PREALLOC_MAX (64u * 1024u)
/* Request headers kept in place before the list is allocated. */
#define S_HEADERS_INLINE 32

struct cairn_ingest_http_t {
    struct MHD_Daemon *daemon;       /* the libmicrohttpd server */
    cairn_ingest_handler_t *handler; /* answers submissions (not owned) */
    size_t max_body;                 /* body limit, from the handler */
    int64_t max_request_ms;          /* headers to complete body; 0 = no limit */
    uint16_t port;                   /* port actually bound */
    pthread_mutex_t lock;            /* guards waiting and closing */
    pthread_cond_t idle;             /* signalled when waiting drops to 0 */
    size_t waiting;                  /* submissions handed to the handler, not yet answered */
    bool closing;                    /* stopping: no new submission is handed over */
};

typedef enum {
    S_ROUTE_SUBMIT, /* POST to /v1/events or a webhook: read the body, ask the handler */
    S_ROUTE_WAIT,   /* handed to the handler: the answer comes later */
    S_ROUTE_DONE,   /* answered */
} s_route_t;

/* Per-request state, kept in MHD's con_cls between calls. */
typedef struct {
    s_route_t route; /* what to do when the body is complete */
    char *body;      /* buffered body */
    size_t len;      /* bytes in body */
    size_t cap;      /* bytes allocated */
    bool too_large;  /* the body is over max_body: discard the rest, answer 413 */
    size_t received; /* body bytes received so far, kept or not */
    size_t declared; /* Content-Length when it was over the limit, else 0 */
    size_t expected; /* Content-Length when it is within the limit, else 0 */
    int64_t begun_ms; /* monotonic time the headers were complete */
    cairn_ingest_http_t *http;      /* the server (for the answer callback) */
    struct MHD_Connection *conn;    /* the connection (for the answer callback) */
    pthread_mutex_t lock;           /* guards answered, suspended and answer */
    bool lock_ready;                /* lock is initialized */
    bool answered;                  /* the handler's answer is in answer */
    bool suspended;                 /* the connection was suspended to wait for it */
    cairn_ingest_response_t answer; /* the handler's answer */
} s_request_t;

/* Collected request headers for the handler. */
typedef struct {
    cairn_ingest_header_t *items; /* name/value pairs owned by libmicrohttpd: in_place or
                                     allocated */
    size_t n;                     /* pairs in use */
    size_t cap;                   /* pairs room in items */
    cairn_ingest_header_t in_place[S_HEADERS_INLINE]; /* the first pairs, without allocating */
} s_headers_t;

static void s_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void s_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    CAIRN_WARN("http server", "detail=%s", cairn_log_quote(line));
}

static enum MHD_Result s_queue(struct MHD_Connection *conn, unsigned status, char *body,
                               const char *content_type, const char *allow, unsigned retry_after)
{
    static const char fallback[] = "{\"error\":\"ingest ran out of memory; retry later\"}";
    struct MHD_Response *resp;
    if (body) {
        resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    } else {
        status = 500;
        resp = MHD_create_response_from_buffer(sizeof fallback - 1, (void *)fallback,
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (retry_after) {
        char value[16];
        snprintf(value, sizeof value, "%u", retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, value);
    }
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result s_queue_json(struct MHD_Connection *conn, cairn_ingest_response_t *r,
                                    const char *allow)
{
    char *body = r->body;
    r->body = NULL;
    return s_queue(conn, r->status, body, "application/json", allow, r->retry_after);
}

static enum MHD_Result s_reject(cairn_ingest_http_t *self, struct MHD_Connection *conn,
                                const char *url, unsigned status, const char *message,
                                const char *allow)
{
    cairn_ingest_response_t r = {0};
    cairn_ingest_handler_reject(self->handler, url, status, message, &r);
    return s_queue_json(conn, &r, allow);
}

static enum MHD_Result s_collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    s_headers_t *h = cls;
    if (!h->items) {
        h->items = h->in_place;
        h->cap = S_HEADERS_INLINE;
    }
    if (h->n == h->cap) {
        size_t cap = h->cap * 2;
        cairn_ingest_header_t *grown =
            realloc(h->items == h->in_place ? NULL : h->items, cap * sizeof *grown);
        if (!grown)
            return MHD_NO;
        if (h->items == h->in_place)
            memcpy(grown, h->in_place, sizeof h->in_place);
        h->items = grown;
        h->cap = cap;
    }
    h->items[h->n].name = key;
    h->items[h->n].value = value;
    h->n++;
    return MHD_YES;
}

/* Most body bytes read (and dropped) before a 413 instead of cutting the
 * connection: twice the limit. */
static size_t s_drain_limit(const cairn_ingest_http_t *self)
{
    return 2 * self->max_body;
}

static const char *s_too_large(const cairn_ingest_http_t *self, unsigned long long declared,
                               char *msg, size_t len)
{
    if (declared)
        snprintf(msg, len,
                 "the request body is %llu bytes, over the limit of %zu bytes (ingest.max_body); "
                 "send fewer events per request",
                 declared, self->max_body);
    else
        snprintf(msg, len,
                 "the request body is over the limit of %zu bytes (ingest.max_body); send fewer "
                 "events per request",
                 self->max_body);
    return msg;
}

static bool s_is_submit_path(const char *url)
{
    return strcmp(url, "/v1/events") == 0 || strncmp(url, "/v1/webhooks/", 13) == 0;
}

static bool s_is_get(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

/* First call for a request: everything that can be answered from the
 * request line and headers is answered here, before any body is read. */
static enum MHD_Result s_begin(cairn_ingest_http_t *self, struct MHD_Connection *conn,
                               const char *url, const char *method, s_request_t *req)
{
    char msg[512];
    req->route = S_ROUTE_DONE;
    bool health = strcmp(url, "/healthz") == 0, metrics = strcmp(url, "/metrics") == 0;
    if ((health || metrics) && s_is_get(method)) {
        if (health)
            return s_queue(conn, 200, strdup("{\"status\":\"ok\"}"), "application/json", NULL, 0);
        return s_queue(conn, 200, cairn_ingest_handler_metrics(self->handler),
                       "text/plain; version=0.0.4; charset=utf-8", NULL, 0);
    }
    if (health || metrics) {
        snprintf(msg, sizeof msg, "method %.16s is not allowed on %s; use GET", method, url);
        return s_reject(self, conn, url, 405, msg, "GET, HEAD");
    }
    if (!s_is_submit_path(url)) {
        snprintf(msg, sizeof msg,
                 "no such endpoint '%.200s'; events go to POST /v1/events, webhooks to "
                 "POST /v1/webhooks/<source>, health to GET /healthz, metrics to GET /metrics",
                 url);
        return s_reject(self, conn, url, 404, msg, NULL);
    }
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
        snprintf(msg, sizeof msg, "method %.16s is not allowed on %s; use POST", method, url);
        return s_reject(self, conn, url, 405, msg, "POST");
    }
    req->route = S_ROUTE_SUBMIT;
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return MHD_YES;
    char *end = NULL;
    errno = 0;
    unsigned long long declared = strtoull(cl, &end, 10);
    if (errno != 0 || end == cl)
        return MHD_YES;
    if (declared <= self->max_body) {
        req->expected = (size_t)declared;
        return MHD_YES;
    }
    /* Over the limit. A sender waiting for "100 Continue", or one whose body
     * is beyond what we are willing to drain, is answered now. Any other
     * sender is already pushing its body: answering and closing under it
     * makes the kernel reset the connection, and the sender may never read
     * the 413, so that body is read and dropped first (like nginx's
     * lingering close). */
    const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    if ((expect && strncasecmp(expect, "100-continue", 12) == 0) ||
        declared > s_drain_limit(self)) {
        req->route = S_ROUTE_DONE;
        return s_reject(self, conn, url, 413, s_too_large(self, declared, msg, sizeof msg), NULL);
    }
    req->too_large = true;
    req->declared = (size_t)declared;
    return MHD_YES;
}

/* Buffers a piece of the body, or drops it once the body is over the limit.
 * A sender that keeps sending past the drain limit is cut off. */
static enum MHD_Result s_body(cairn_ingest_http_t *self, s_request_t *req, const char *data,
                              size_t size)
{
    req->received += size;
    if (!req->too_large && size > self->max_body - req->len) {
        req->too_large = true;
        free(req->body);
        req->body = NULL;
        req->len = req->cap = 0;
    }
    if (req->too_large)
        return req->received > s_drain_limit(self) ? MHD_NO : MHD_YES;
    if (req->len + size > req->cap) {
        size_t cap = req->cap ? req->cap : 4096;
        if (!req->cap && req->expected <= S_PREALLOC_MAX && req->expected > cap)
            cap = req->expected;
        while (cap < req->len + size)
            cap *= 2;
        if (cap > self->max_body)
            cap = self->max_body;
        char *grown = realloc(req->body, cap);
        if (!grown)
            return MHD_NO;
        req->body = grown;
        req->cap = cap;
    }
    memcpy(req->body + req->len, data, size);
    req->len += size;
    return MHD_YES;
}

/* The handler's answer to a submission (on whichever thread it came). The
 * connection is resumed only if it was suspended; otherwise s_finish is
 * still running and sends the answer itself. */
static void s_answered(void *arg, cairn_ingest_response_t *response)
{
    s_request_t *req = arg;
    cairn_ingest_http_t *self = req->http;
    pthread_mutex_lock(&req->lock);
    req->answer = *response;
    req->answered = true;
    if (req->suspended)
        MHD_resume_connection(req->conn);
    pthread_mutex_unlock(&req->lock);
    /* req may be gone from here on: libmicrohttpd frees it once resumed. */
    pthread_mutex_lock(&self->lock);
    if (--self->waiting == 0)
        pthread_cond_broadcast(&self->idle);
    pthread_mutex_unlock(&self->lock);
}

/* Sends the stored answer (after resume, or when it came at once). */
static enum MHD_Result s_send_answer(struct MHD_Connection *conn, s_request_t *req)
{
    req->route = S_ROUTE_DONE;
    return s_queue_json(conn, &req->answer, NULL);
}

static enum MHD_Result s_finish(cairn_ingest_http_t *self, struct MHD_Connection *conn,
                                const char *url, s_request_t *req)
{
    req->route = S_ROUTE_DONE;
    if (req->too_large) {
        char msg[256];
        return s_reject(self, conn, url, 413, s_too_large(self, req->declared, msg, sizeof msg),
                        NULL);
    }
    pthread_mutex_lock(&self->lock);
    bool closing = self->closing;
    if (!closing)
        self->waiting++;
    pthread_mutex_unlock(&self->lock);
    if (closing)
        return s_reject(self, conn, url, 503, "ingest is shutting down; retry later", NULL);
    s_headers_t headers;
    headers.items = NULL;
    headers.n = headers.cap = 0;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, s_collect_header, &headers);
    const char *content_type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    req->http = self;
    req->conn = conn;
    pthread_mutex_init(&req->lock, NULL);
    req->lock_ready = true;
    req->route = S_ROUTE_WAIT;
    cairn_ingest_handler_submit(self->handler, url, content_type ? content_type : "", headers.items,
                                headers.n, req->body, req->len, s_answered, req);
    if (headers.items != headers.in_place)
        free(headers.items);
    pthread_mutex_lock(&req->lock);
    bool answered = req->answered;
    if (!answered) {
        req->suspended = true;
        MHD_suspend_connection(conn);
    }
    pthread_mutex_unlock(&req->lock);
    return answered ? s_send_answer(conn, req) : MHD_YES;
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls)
{
    cairn_ingest_http_t *self = cls;
    s_request_t *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        req->begun_ms = cairn_mono_ms();
        return s_begin(self, conn, url, method, req);
    }
    if (req->route == S_ROUTE_WAIT) {
        /* Resumed: the answer is in. */
        pthread_mutex_lock(&req->lock);
        bool answered = req->answered;
        pthread_mutex_unlock(&req->lock);
        *upload_data_size = 0;
        return answered ? s_send_answer(conn, req) : MHD_YES;
    }
    if (req->route != S_ROUTE_SUBMIT) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (self->max_request_ms > 0 && cairn_mono_ms() - req->begun_ms > self->max_request_ms) {
            CAIRN_INFO("cut off a slow request", "path=%s received=%zu max_request_time_ms=%" PRId64,
                       cairn_log_quote(url), req->received, self->max_request_ms);
            return MHD_NO;
        }
        enum MHD_Result ret = s_body(self, req, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return ret;
    }
    return s_finish(self, conn, url, req);
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    s_request_t *req = *con_cls;
    if (!req)
        return;
    if (req->lock_ready)
        pthread_mutex_destroy(&req->lock);
    cairn_ingest_response_clear(&req->answer);
    free(req->body);
    free(req);
    *con_cls = NULL;
}

/* Creates the listening socket ourselves so a bind failure comes back as a
 * precise errno, and port 0 works. */
static int s_listen(const char *address, int port, int *fd_out, uint16_t *port_out)
{
    struct addrinfo hints = {0}, *res = NULL;
    char service[16];
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(service, sizeof service, "%d", port);
    if (getaddrinfo(address && *address ? address : NULL, service, &hints, &res) != 0 || !res)
        return CAIRN_ECONFIG;

    int rc = 0;
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, S_BACKLOG) < 0) {
        rc = -errno;
        goto out;
    }
    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    if (getsockname(fd, (struct sockaddr *)&bound, &bound_len) < 0) {
        rc = -errno;
        goto out;
    }
    if (bound.ss_family == AF_INET6)
        *port_out = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
    else
        *port_out = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    *fd_out = fd;
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return rc;
}

int cairn_ingest_http_new(const cairn_ingest_http_settings_t *settings,
                          cairn_ingest_handler_t *handler, cairn_ingest_http_t **out)
{
    cairn_ingest_http_t *self = calloc(1, sizeof *self);
    int fd = -1;
    int rc;
    if (!self)
        return -ENOMEM;
    self->handler = handler;
    self->max_body = cairn_ingest_handler_max_body(handler);
    pthread_mutex_init(&self->lock, NULL);
    pthread_cond_init(&self->idle, NULL);
    if ((rc = s_listen(settings->address, settings->port, &fd, &self->port)) < 0)
        goto out;

    unsigned timeout_s = settings->request_timeout_ms > 0
                             ? (unsigned)((settings->request_timeout_ms + 999) / 1000)
                             : 10;
    unsigned threads = settings->threads > 0 ? settings->threads : 1;
    size_t max_header = settings->max_header ? settings->max_header : S_MAX_HEADER;
    unsigned max_connections =
        settings->max_connections ? settings->max_connections : S_MAX_CONNECTIONS;
    self->max_request_ms = settings->max_request_time_ms;
    self->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
            MHD_ALLOW_SUSPEND_RESUME,
        0, NULL, NULL,
        s_access, self, MHD_OPTION_EXTERNAL_LOGGER, s_mhd_log, self, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0, MHD_OPTION_CONNECTION_TIMEOUT,
        timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, max_header, MHD_OPTION_CONNECTION_LIMIT,
        max_connections, MHD_OPTION_NOTIFY_COMPLETED, s_completed, self, MHD_OPTION_END);
    if (!self->daemon) {
        rc = CAIRN_EINTERNAL;
        goto out;
    }
    fd = -1; /* the daemon owns it now */
    *out = self;
    self = NULL;
out:
    if (fd >= 0)
        close(fd);
    cairn_ingest_http_destroy(&self);
    return rc;
}

void cairn_ingest_http_destroy(cairn_ingest_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ingest_http_t *self = *self_p;
    /* No connection may stay suspended when the daemon stops, and no answer
     * may come for a connection it has freed: hand nothing more to the
     * handler, and wait for every answer still to come (the recorder
     * answers each one within its timeout). */
    pthread_mutex_lock(&self->lock);
    self->closing = true;
    while (self->waiting > 0)
        pthread_cond_wait(&self->idle, &self->lock);
    pthread_mutex_unlock(&self->lock);
    if (self->daemon)
        MHD_stop_daemon(self->daemon);
    pthread_cond_destroy(&self->idle);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

uint16_t cairn_ingest_http_port(const cairn_ingest_http_t *self)
{
    return self->port;
}
