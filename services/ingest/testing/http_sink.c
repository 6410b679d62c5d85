/* The loopback HTTP sink for ingest's tests (see http_sink.h). */
#include "http_sink.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "cairn/util.h"

struct http_sink_t {
    struct MHD_Daemon *daemon;               /* the server */
    char url[64];                            /* its base URL */
    pthread_mutex_t lock;                    /* guards the rest */
    http_sink_request_t seen[HTTP_SINK_MAX]; /* requests received */
    size_t n_seen;                           /* how many */
    unsigned statuses[HTTP_SINK_MAX];        /* status per request; 0 = 204 */
};

/* A body being received. */
typedef struct {
    char *data; /* bytes so far */
    size_t len; /* how many */
} s_upload_t;

static enum MHD_Result s_access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
    http_sink_t *self = cls;
    s_upload_t *up = *con_cls;
    if (!up) {
        *con_cls = calloc(1, sizeof *up);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        char *grown = realloc(up->data, up->len + *upload_size + 1);
        if (!grown)
            return MHD_NO;
        up->data = grown;
        memcpy(up->data + up->len, upload, *upload_size);
        up->len += *upload_size;
        up->data[up->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    unsigned status = 204;
    pthread_mutex_lock(&self->lock);
    if (self->n_seen < HTTP_SINK_MAX) {
        http_sink_request_t *r = &self->seen[self->n_seen];
        const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
        snprintf(r->url, sizeof r->url, "%s %s", method, url);
        snprintf(r->auth, sizeof r->auth, "%s", auth ? auth : "");
        snprintf(r->accept, sizeof r->accept, "%s", accept ? accept : "");
        r->body = up->data ? up->data : calloc(1, 1);
        up->data = NULL;
        r->at_ms = cairn_mono_ms();
        if (self->statuses[self->n_seen])
            status = self->statuses[self->n_seen];
        self->n_seen++;
    }
    pthread_mutex_unlock(&self->lock);
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void s_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                   enum MHD_RequestTerminationCode toe)
{
    s_upload_t *up = *con_cls;
    if (up) {
        free(up->data);
        free(up);
        *con_cls = NULL;
    }
}

http_sink_t *http_sink_start(void)
{
    http_sink_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    self->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
                                    s_access, self, MHD_OPTION_SOCK_ADDR, &addr,
                                    MHD_OPTION_NOTIFY_COMPLETED, s_done, self, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        self->daemon ? MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info || !info->port) {
        http_sink_stop(&self);
        return NULL;
    }
    snprintf(self->url, sizeof self->url, "http://127.0.0.1:%u", (unsigned)info->port);
    return self;
}

void http_sink_stop(http_sink_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    http_sink_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon(self->daemon);
    for (size_t i = 0; i < self->n_seen; i++)
        free(self->seen[i].body);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

const char *http_sink_url(const http_sink_t *self)
{
    return self->url;
}

void http_sink_answer(http_sink_t *self, size_t i, unsigned status)
{
    pthread_mutex_lock(&self->lock);
    if (i < HTTP_SINK_MAX)
        self->statuses[i] = status;
    pthread_mutex_unlock(&self->lock);
}

size_t http_sink_count(http_sink_t *self)
{
    pthread_mutex_lock(&self->lock);
    size_t n = self->n_seen;
    pthread_mutex_unlock(&self->lock);
    return n;
}

size_t http_sink_wait(http_sink_t *self, size_t n, int ms)
{
    int64_t deadline = cairn_mono_ms() + ms;
    while (http_sink_count(self) < n && cairn_mono_ms() < deadline) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return http_sink_count(self);
}

const http_sink_request_t *http_sink_request(http_sink_t *self, size_t i)
{
    pthread_mutex_lock(&self->lock);
    const http_sink_request_t *r = i < self->n_seen ? &self->seen[i] : NULL;
    pthread_mutex_unlock(&self->lock);
    return r;
}
