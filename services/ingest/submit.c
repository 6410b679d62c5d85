/* The ZeroMQ submit socket (see submit.h): SubmitRequest in, the handler's
 * answer out as a SubmitReply. */
#include "submit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/log.h"

struct cairn_ingest_submit_t {
    zsock_t *router;                 /* ROUTER bound on bus.ingest_submit */
    cairn_ingest_handler_t *handler; /* answers submissions (not owned) */
};

int cairn_ingest_submit_new(const char *endpoint, cairn_ingest_handler_t *handler,
                            cairn_ingest_submit_t **out)
{
    cairn_ingest_submit_t *self = calloc(1, sizeof *self);
    if (!self)
        return -ENOMEM;
    self->handler = handler;
    int rc = cairn_bus_bind(ZMQ_ROUTER, endpoint, &self->router);
    if (rc < 0) {
        free(self);
        return rc;
    }
    *out = self;
    return 0;
}

void cairn_ingest_submit_destroy(cairn_ingest_submit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zsock_destroy(&(*self_p)->router);
    free(*self_p);
    *self_p = NULL;
}

static int s_reply(cairn_ingest_submit_t *self, zframe_t **peer_p, cairn_ingest_response_t *r)
{
    static const char fallback[] = "{\"error\":\"ingest ran out of memory; retry later\"}";
    Cairn__V1__SubmitReply reply = CAIRN__V1__SUBMIT_REPLY__INIT;
    reply.http_status = r->body ? r->status : 500;
    reply.body = r->body ? r->body : (char *)fallback;
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = cairn_codec_pack(&reply.base, &buf, &len);
    if (rc < 0) {
        zframe_destroy(peer_p);
        return rc;
    }
    rc = cairn_bus_server_reply(self->router, peer_p, buf, len);
    free(buf);
    return rc;
}

/* Turns the request's header map into the handler's header list. */
static cairn_ingest_header_t *s_headers(const Cairn__V1__SubmitRequest *req)
{
    cairn_ingest_header_t *headers = calloc(req->n_headers + 1, sizeof *headers);
    for (size_t i = 0; headers && i < req->n_headers; i++) {
        headers[i].name = req->headers[i]->key;
        headers[i].value = req->headers[i]->value;
    }
    return headers;
}

static void s_handle(cairn_ingest_submit_t *self, const uint8_t *payload, size_t len,
                     cairn_ingest_response_t *r)
{
    Cairn__V1__SubmitRequest *req = NULL;
    cairn_ingest_header_t *headers = NULL;
    if (cairn_codec_submit_request_unpack(payload, len, &req) < 0) {
        cairn_ingest_handler_reject(self->handler, NULL, 400,
                                    "the submit request is not a valid cairn.v1.SubmitRequest "
                                    "message; use `cairn submit` or send that message",
                                    r);
        return;
    }
    headers = s_headers(req);
    if (!headers) {
        cairn_ingest_handler_reject(self->handler, NULL, 500,
                                    "ingest ran out of memory; retry later", r);
    } else {
        const char *path = req->path && *req->path ? req->path : "/v1/events";
        const char *content_type =
            req->content_type && *req->content_type ? req->content_type : NULL;
        cairn_ingest_handler_handle_bus(self->handler, path, content_type, headers, req->n_headers,
                                        req->body.data, req->body.len, r);
    }
    free(headers);
    CAIRN_CODEC_FREE(&req);
}

int cairn_ingest_submit_serve_once(cairn_ingest_submit_t *self, int timeout_ms)
{
    zmq_pollitem_t item = {zsock_resolve(self->router), 0, ZMQ_POLLIN, 0};
    int n = zmq_poll(&item, 1, timeout_ms);
    if (n < 0)
        return zmq_errno() == EINTR ? 0 : CAIRN_EUNREACHABLE;
    if (n == 0)
        return 0;

    zframe_t *peer = NULL;
    uint8_t *payload = NULL;
    size_t len = 0;
    int rc = cairn_bus_server_recv(self->router, &peer, &payload, &len);
    if (rc == CAIRN_EPROTO) {
        CAIRN_WARN("dropped malformed submit message", "reason=%s",
                   cairn_log_quote("not [identity][empty][payload]"));
        return 0;
    }
    if (rc < 0)
        return rc == CAIRN_ETIMEOUT ? 0 : rc;

    cairn_ingest_response_t r = {0};
    s_handle(self, payload, len, &r);
    free(payload);
    rc = s_reply(self, &peer, &r);
    cairn_ingest_response_clear(&r);
    if (rc < 0)
        CAIRN_WARN("could not answer a submit request", "error=%s",
                   cairn_log_quote(cairn_strerror(rc)));
    return 0;
}
