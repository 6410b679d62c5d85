/* libcurl multi driven by zmq_poll (see transport.h): curl's socket and
 * timer callbacks keep a list of descriptors and a deadline; perform()
 * hands readiness back with curl_multi_socket_action. */
#include "transport.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/error.h"
#include "cairn/util.h"

#define S_MAX_SOCKETS 1024
#define S_MAX_DONE 4096

typedef struct {
    curl_socket_t fd; /* a socket curl uses */
    int what;         /* CURL_POLL_IN / OUT / INOUT */
} s_sock_t;

typedef struct s_xfer_t s_xfer_t;
struct s_xfer_t {
    s_xfer_t *next, *prev; /* in the transport's list of transfers */
    CURL *easy;            /* the transfer */
    uint64_t tag;          /* the caller's id */
    char *body;            /* our copy of the request body */
    size_t len;
    size_t sent;                  /* SMTP upload position */
    struct curl_slist *headers;   /* HTTP headers */
    struct curl_slist *rcpt;      /* SMTP recipients */
    int64_t started_ms;           /* monotonic */
    int64_t retry_after_ms;       /* parsed from the response, or -1 */
    char errbuf[CURL_ERROR_SIZE]; /* curl's message */
    char resp[256];               /* start of the response body */
    size_t resp_len;
};

struct cairn_transport_t {
    CURLM *multi;                  /* all transfers */
    s_sock_t socks[S_MAX_SOCKETS]; /* what curl waits on */
    size_t n_socks;
    int64_t deadline_ms;    /* monotonic time of curl's timer, -1: none */
    size_t active;          /* transfers in flight */
    s_xfer_t *xfers;        /* the transfers in flight */
    cairn_response_t *done; /* finished, not yet popped (ring) */
    size_t done_head, done_count;
};

static int s_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    cairn_transport_t *self = userp;
    for (size_t i = 0; i < self->n_socks; i++)
        if (self->socks[i].fd == fd) {
            if (what == CURL_POLL_REMOVE)
                self->socks[i] = self->socks[--self->n_socks];
            else
                self->socks[i].what = what;
            return 0;
        }
    if (what != CURL_POLL_REMOVE && self->n_socks < S_MAX_SOCKETS) {
        self->socks[self->n_socks].fd = fd;
        self->socks[self->n_socks].what = what;
        self->n_socks++;
    }
    return 0;
}

static int s_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    cairn_transport_t *self = userp;
    self->deadline_ms = timeout_ms < 0 ? -1 : cairn_mono_ms() + timeout_ms;
    return 0;
}

int cairn_transport_new(cairn_transport_t **out)
{
    static int initialized = 0;
    if (!initialized) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return CAIRN_EINTERNAL;
        initialized = 1;
    }
    cairn_transport_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->deadline_ms = -1;
    self->done = calloc(S_MAX_DONE, sizeof *self->done);
    self->multi = curl_multi_init();
    if (!self->multi || !self->done) {
        cairn_transport_destroy(&self);
        return -ENOMEM;
    }
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETFUNCTION, s_socket_cb);
    curl_multi_setopt(self->multi, CURLMOPT_SOCKETDATA, self);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERFUNCTION, s_timer_cb);
    curl_multi_setopt(self->multi, CURLMOPT_TIMERDATA, self);
    *out = self;
    return 0;
}

static void s_xfer_free(s_xfer_t *x)
{
    if (!x)
        return;
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    curl_slist_free_all(x->rcpt);
    free(x->body);
    free(x);
}

void cairn_transport_destroy(cairn_transport_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_transport_t *self = *self_p;
    if (self->multi) {
        while (self->xfers) {
            s_xfer_t *x = self->xfers;
            self->xfers = x->next;
            curl_multi_remove_handle(self->multi, x->easy);
            s_xfer_free(x);
        }
        curl_multi_cleanup(self->multi);
    }
    free(self->done);
    free(self);
    *self_p = NULL;
}

static size_t s_write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    s_xfer_t *x = userdata;
    size_t n = size * nmemb;
    size_t room = sizeof x->resp - 1 - x->resp_len;
    size_t take = n < room ? n : room;
    memcpy(x->resp + x->resp_len, ptr, take);
    x->resp_len += take;
    x->resp[x->resp_len] = '\0';
    return n;
}

static size_t s_header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    s_xfer_t *x = userdata;
    size_t n = size * nitems;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && strncasecmp(buf, name, sizeof name - 1) == 0) {
        char value[128];
        size_t vlen = n - (sizeof name - 1);
        if (vlen >= sizeof value)
            vlen = sizeof value - 1;
        memcpy(value, buf + sizeof name - 1, vlen);
        value[vlen] = '\0';
        char *v = value;
        while (*v == ' ' || *v == '\t')
            v++;
        v[strcspn(v, "\r\n")] = '\0';
        char *end = NULL;
        long secs = strtol(v, &end, 10);
        if (end != v && *end == '\0' && secs >= 0) {
            x->retry_after_ms = (int64_t)secs * 1000;
        } else {
            time_t when = curl_getdate(v, NULL);
            if (when > 0) {
                int64_t delta = (int64_t)when * 1000 - cairn_now_ms();
                x->retry_after_ms = delta > 0 ? delta : 0;
            }
        }
    }
    return n;
}

static size_t s_read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    s_xfer_t *x = userdata;
    size_t room = size * nitems;
    size_t left = x->len - x->sent;
    size_t take = left < room ? left : room;
    memcpy(buf, x->body + x->sent, take);
    x->sent += take;
    return take;
}

int cairn_transport_start(cairn_transport_t *self, const cairn_request_t *req)
{
    s_xfer_t *x = calloc(1, sizeof *x);
    int rc = -ENOMEM;
    if (!x)
        return -ENOMEM;
    x->tag = req->tag;
    x->retry_after_ms = -1;
    x->started_ms = cairn_mono_ms();
    x->len = req->len;
    x->body = malloc(req->len + 1);
    x->easy = curl_easy_init();
    if (!x->body || !x->easy)
        goto fail;
    memcpy(x->body, req->body, req->len);
    x->body[req->len] = '\0';
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(req->timeout_ms > 0 ? req->timeout_ms : 15000));
    curl_easy_setopt(
        e, CURLOPT_CONNECTTIMEOUT_MS,
        (long)(req->timeout_ms > 0 && req->timeout_ms < 10000 ? req->timeout_ms : 10000));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, s_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    if (req->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
    if (req->kind == CAIRN_REQUEST_HTTP) {
        /* Redirects count as failures (Standard Webhooks). */
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, s_header_cb);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->len);
        for (size_t i = 0; i < req->n_headers; i++) {
            struct curl_slist *h = curl_slist_append(x->headers, req->headers[i]);
            if (!h)
                goto fail;
            x->headers = h;
        }
        struct curl_slist *h = curl_slist_append(x->headers, "Expect:");
        if (!h)
            goto fail;
        x->headers = h;
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    } else {
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
        curl_easy_setopt(e, CURLOPT_MAIL_FROM, req->mail_from);
        for (size_t i = 0; i < req->n_rcpt; i++) {
            struct curl_slist *r = curl_slist_append(x->rcpt, req->rcpt[i]);
            if (!r)
                goto fail;
            x->rcpt = r;
        }
        curl_easy_setopt(e, CURLOPT_MAIL_RCPT, x->rcpt);
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, s_read_cb);
        curl_easy_setopt(e, CURLOPT_READDATA, x);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->len);
        curl_easy_setopt(e, CURLOPT_USE_SSL,
                         (long)(req->require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
        if (req->username)
            curl_easy_setopt(e, CURLOPT_USERNAME, req->username);
        if (req->password)
            curl_easy_setopt(e, CURLOPT_PASSWORD, req->password);
    }
    if (curl_multi_add_handle(self->multi, e) != CURLM_OK) {
        rc = CAIRN_EINTERNAL;
        goto fail;
    }
    self->active++;
    x->next = self->xfers;
    if (self->xfers)
        self->xfers->prev = x;
    self->xfers = x;
    return 0;
fail:
    s_xfer_free(x);
    return rc;
}

size_t cairn_transport_active(const cairn_transport_t *self)
{
    return self->active;
}

size_t cairn_transport_pollitems(const cairn_transport_t *self, zmq_pollitem_t *items, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < self->n_socks && n < max; i++) {
        zmq_pollitem_t it = {NULL, self->socks[i].fd, 0, 0};
        if (self->socks[i].what == CURL_POLL_IN || self->socks[i].what == CURL_POLL_INOUT)
            it.events |= ZMQ_POLLIN;
        if (self->socks[i].what == CURL_POLL_OUT || self->socks[i].what == CURL_POLL_INOUT)
            it.events |= ZMQ_POLLOUT;
        items[n++] = it;
    }
    return n;
}

long cairn_transport_timeout_ms(const cairn_transport_t *self)
{
    if (self->deadline_ms < 0)
        return -1;
    int64_t left = self->deadline_ms - cairn_mono_ms();
    return left < 0 ? 0 : (long)left;
}

static void s_collect(cairn_transport_t *self)
{
    CURLMsg *m;
    int left = 0;
    while ((m = curl_multi_info_read(self->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        s_xfer_t *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        cairn_response_t r;
        memset(&r, 0, sizeof r);
        r.tag = x->tag;
        r.curl_code = (int)m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &r.status);
        r.retry_after_ms = x->retry_after_ms;
        r.latency_ms = cairn_mono_ms() - x->started_ms;
        if (r.curl_code != CURLE_OK)
            snprintf(r.error, sizeof r.error, "%s",
                     x->errbuf[0] ? x->errbuf : curl_easy_strerror(m->data.result));
        snprintf(r.body, sizeof r.body, "%s", x->resp);
        curl_multi_remove_handle(self->multi, m->easy_handle);
        if (x->prev)
            x->prev->next = x->next;
        else
            self->xfers = x->next;
        if (x->next)
            x->next->prev = x->prev;
        s_xfer_free(x);
        self->active--;
        if (self->done_count < S_MAX_DONE) {
            self->done[(self->done_head + self->done_count) % S_MAX_DONE] = r;
            self->done_count++;
        }
    }
}

int cairn_transport_perform(cairn_transport_t *self, const zmq_pollitem_t *items, size_t n)
{
    int running = 0;
    for (size_t i = 0; i < n; i++) {
        if (!items[i].revents)
            continue;
        int flags = 0;
        if (items[i].revents & ZMQ_POLLIN)
            flags |= CURL_CSELECT_IN;
        if (items[i].revents & ZMQ_POLLOUT)
            flags |= CURL_CSELECT_OUT;
        if (items[i].revents & ZMQ_POLLERR)
            flags |= CURL_CSELECT_ERR;
        curl_multi_socket_action(self->multi, items[i].fd, flags, &running);
    }
    if (self->deadline_ms >= 0 && cairn_mono_ms() >= self->deadline_ms) {
        self->deadline_ms = -1;
        curl_multi_socket_action(self->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    s_collect(self);
    return 0;
}

bool cairn_transport_done(cairn_transport_t *self, cairn_response_t *out)
{
    if (self->done_count == 0)
        return false;
    *out = self->done[self->done_head];
    self->done_head = (self->done_head + 1) % S_MAX_DONE;
    self->done_count--;
    return true;
}
