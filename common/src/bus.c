/* The ZeroMQ bus: socket setup, [topic][payload] framing, and a
 * request/reply client that survives timeouts. CURVE for tcp:// endpoints
 * is applied in bus_curve.c. */
#include "cairn/bus.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus_curve.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/util.h"

#define S_IPC_PREFIX "ipc://"

/* For ipc:// endpoints: the socket file path, or NULL. */
static const char *s_ipc_path(const char *endpoint)
{
    if (strncmp(endpoint, S_IPC_PREFIX, strlen(S_IPC_PREFIX)) != 0)
        return NULL;
    return endpoint + strlen(S_IPC_PREFIX);
}

static int s_prepare_ipc_dir(const char *endpoint)
{
    const char *path = s_ipc_path(endpoint);
    if (!path)
        return 0;
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir)
        return -ENAMETOOLONG;
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    int rc = cairn_mkdir_p(dir, 0700);
    if (rc < 0)
        return rc;
    return chmod(dir, 0700) == 0 ? 0 : -errno;
}

/* High-water mark of the queues that can grow with a slow peer (PUB and
 * ROUTER send, SUB receive), in messages: bus.high_water_mark. */
static int s_hwm = 100000;

void cairn_bus_set_high_water_mark(int messages)
{
    s_hwm = messages > 0 ? messages : 100000;
}

/* How long a closing PUB or ROUTER socket keeps sending what it queued.
 * libzmq 4.3 aborts the whole process (session_base_t::clean_pipes, "Resource
 * temporarily unavailable") when a peer disconnects while a socket closed
 * with no linger is half-way through sending it a multipart message, as a
 * daemon's stream is at stop when its subscribers stop with it
 * (zeromq/libzmq#3442). With a linger the closing session goes on reading
 * the queue, and a peer that drops meanwhile is cleaned up normally. Clients
 * (DEALER, SUB) keep none, so a command never waits on a daemon that is
 * down. */
#define S_SERVER_LINGER_MS 100

static zsock_t *s_new_socket(int type)
{
    zsock_t *sock = zsock_new(type);
    if (!sock)
        return NULL;
    zsock_set_linger(sock, type == ZMQ_PUB || type == ZMQ_ROUTER ? S_SERVER_LINGER_MS : 0);
    /* Every payload is a protobuf the codec refuses above this size; without
     * a cap libzmq allocates whatever length a peer's frame header claims,
     * before any authentication. */
    zsock_set_maxmsgsize(sock, (int)CAIRN_CODEC_MAX_BYTES + 4096);
    /* PUB drops, and ROUTER drops replies, for a peer whose queue is full;
     * libzmq's default of 1000 is too few for a pipelining peer. Set before
     * bind: the listener copies the options its connections get. */
    if (type == ZMQ_PUB || type == ZMQ_ROUTER)
        zsock_set_sndhwm(sock, s_hwm);
    if (type == ZMQ_SUB)
        zsock_set_rcvhwm(sock, s_hwm);
    return sock;
}

int cairn_bus_bind(int type, const char *endpoint, zsock_t **out)
{
    int rc = s_prepare_ipc_dir(endpoint);
    if (rc < 0)
        return rc;
    zsock_t *sock = s_new_socket(type);
    if (!sock)
        return -ENOMEM;
    if ((rc = cairn_bus_curve_prepare(sock, endpoint, true)) < 0) {
        zsock_destroy(&sock);
        return rc;
    }
    if (zsock_bind(sock, "%s", endpoint) < 0) {
        rc = zmq_errno() ? -zmq_errno() : CAIRN_EUNREACHABLE;
        zsock_destroy(&sock);
        return rc;
    }
    *out = sock;
    return 0;
}

static int s_connect(int type, const char *endpoint, const char *topic_prefix, bool once,
                     zsock_t **out);

int cairn_bus_connect(int type, const char *endpoint, const char *topic_prefix, zsock_t **out)
{
    return s_connect(type, endpoint, topic_prefix, false, out);
}

int cairn_bus_connect_once(int type, const char *endpoint, zsock_t **out)
{
    return s_connect(type, endpoint, NULL, true, out);
}

static int s_connect(int type, const char *endpoint, const char *topic_prefix, bool once,
                     zsock_t **out)
{
    zsock_t *sock = s_new_socket(type);
    if (!sock)
        return -ENOMEM;
    /* Before connect: the connection copies the option when it is made. */
    if (once)
        zsock_set_reconnect_ivl(sock, -1);
    if (type == ZMQ_SUB)
        zsock_set_subscribe(sock, topic_prefix ? topic_prefix : "");
    int rc = cairn_bus_curve_prepare(sock, endpoint, false);
    if (rc < 0) {
        zsock_destroy(&sock);
        return rc;
    }
    if (zsock_connect(sock, "%s", endpoint) < 0) {
        rc = zmq_errno() ? -zmq_errno() : CAIRN_EUNREACHABLE;
        zsock_destroy(&sock);
        return rc;
    }
    *out = sock;
    return 0;
}

static int s_frame_dup(zframe_t *frame, uint8_t **out, size_t *len_out, int nul)
{
    size_t len = zframe_size(frame);
    uint8_t *buf = malloc(len + 1);
    if (!buf)
        return -ENOMEM;
    if (len)
        memcpy(buf, zframe_data(frame), len);
    if (nul)
        buf[len] = '\0';
    *out = buf;
    if (len_out)
        *len_out = len;
    return 0;
}

int cairn_bus_receive(zsock_t *sock, char **topic_out, uint8_t **payload_out, size_t *len_out)
{
    int rc = 0;
    uint8_t *topic = NULL;
    zmsg_t *msg = zmsg_recv(sock);
    if (!msg)
        return errno == EAGAIN ? CAIRN_ETIMEOUT : CAIRN_EUNREACHABLE;
    if (zmsg_size(msg) != 2) {
        rc = CAIRN_EPROTO;
        goto out;
    }
    if ((rc = s_frame_dup(zmsg_first(msg), &topic, NULL, 1)) < 0)
        goto out;
    if ((rc = s_frame_dup(zmsg_next(msg), payload_out, len_out, 0)) < 0)
        goto out;
    *topic_out = (char *)topic;
    topic = NULL;
out:
    free(topic);
    zmsg_destroy(&msg);
    return rc;
}

void cairn_bus_peer_close(cairn_bus_peer_t *peer)
{
    if (peer && peer->live) {
        zmq_msg_close(&peer->id);
        peer->live = false;
    }
}

/* Receives one frame into msg (initialised here); *more tells whether
 * another frame of the same message follows. A frame after the first is
 * already there: a signal interrupting its receive is retried. */
static int s_recv_frame(void *sock, zmq_msg_t *msg, bool *more, bool first)
{
    zmq_msg_init(msg);
    int rc;
    while ((rc = zmq_msg_recv(msg, sock, 0)) < 0 && !first && zmq_errno() == EINTR)
        ;
    if (rc < 0) {
        int err = zmq_errno();
        zmq_msg_close(msg);
        return err == EAGAIN ? CAIRN_ETIMEOUT : CAIRN_EUNREACHABLE;
    }
    *more = zmq_msg_more(msg) != 0;
    return 0;
}

/* Reads and drops the rest of a message whose first frames were taken. */
static void s_drop_rest(void *sock, bool more)
{
    while (more) {
        zmq_msg_t rest;
        if (s_recv_frame(sock, &rest, &more, false) < 0)
            return;
        zmq_msg_close(&rest);
    }
}

int cairn_bus_server_recv_msg(zsock_t *router, cairn_bus_peer_t *peer, zmq_msg_t *body)
{
    void *sock = zsock_resolve(router);
    zmq_msg_t id, empty;
    bool more = false;
    peer->live = false;
    int rc = s_recv_frame(sock, &id, &more, true);
    if (rc < 0)
        return rc;
    /* [identity][empty][payload]; the rest of a message is always there
     * once its first frame is. */
    if (!more) {
        zmq_msg_close(&id);
        return CAIRN_EPROTO;
    }
    if ((rc = s_recv_frame(sock, &empty, &more, false)) < 0) {
        zmq_msg_close(&id);
        return rc;
    }
    bool delimited = zmq_msg_size(&empty) == 0 && more;
    zmq_msg_close(&empty);
    if (!delimited) {
        zmq_msg_close(&id);
        s_drop_rest(sock, more);
        return CAIRN_EPROTO;
    }
    if ((rc = s_recv_frame(sock, body, &more, false)) < 0) {
        zmq_msg_close(&id);
        return rc;
    }
    if (more) {
        zmq_msg_close(&id);
        zmq_msg_close(body);
        s_drop_rest(sock, more);
        return CAIRN_EPROTO;
    }
    peer->id = id;
    peer->live = true;
    return 0;
}

int cairn_bus_server_reply_msg(zsock_t *router, cairn_bus_peer_t *peer, zmq_msg_t *body)
{
    void *sock = zsock_resolve(router);
    int rc = 0;
    if (!peer->live) {
        zmq_msg_close(body);
        return CAIRN_EINVALID;
    }
    /* A sent message is released by libzmq; a refused one stays ours. */
    if (zmq_msg_send(&peer->id, sock, ZMQ_SNDMORE) < 0) {
        rc = CAIRN_EUNREACHABLE;
        zmq_msg_close(&peer->id);
    } else if (zmq_send(sock, "", 0, ZMQ_SNDMORE) < 0) {
        rc = CAIRN_EUNREACHABLE;
    }
    peer->live = false;
    if (rc == 0 && zmq_msg_send(body, sock, 0) >= 0)
        return 0;
    zmq_msg_close(body);
    return CAIRN_EUNREACHABLE;
}

int cairn_bus_publish_msg(zsock_t *sock, const char *topic, zmq_msg_t *payload)
{
    void *s = zsock_resolve(sock);
    if (zmq_send(s, topic, strlen(topic), ZMQ_SNDMORE) >= 0 && zmq_msg_send(payload, s, 0) >= 0)
        return 0;
    zmq_msg_close(payload);
    return CAIRN_EUNREACHABLE;
}

/* A message holding a copy of len bytes at data. */
static int s_msg_copy(zmq_msg_t *msg, const void *data, size_t len)
{
    if (zmq_msg_init_size(msg, len) != 0)
        return -ENOMEM;
    if (len)
        memcpy(zmq_msg_data(msg), data, len);
    return 0;
}

/* The copying forms below are the zero-copy ones with a copy on the side of
 * the caller's buffers, so the framing rules live in one place. */

int cairn_bus_publish(zsock_t *sock, const char *topic, const void *payload, size_t len)
{
    zmq_msg_t msg;
    int rc = s_msg_copy(&msg, payload, len);
    return rc < 0 ? rc : cairn_bus_publish_msg(sock, topic, &msg);
}

int cairn_bus_server_recv(zsock_t *router, zframe_t **peer_out, uint8_t **payload_out,
                          size_t *len_out)
{
    cairn_bus_peer_t peer;
    zmq_msg_t body;
    int rc = cairn_bus_server_recv_msg(router, &peer, &body);
    if (rc < 0)
        return rc;
    size_t len = zmq_msg_size(&body);
    uint8_t *buf = malloc(len + 1);
    zframe_t *frame = zframe_new(zmq_msg_data(&peer.id), zmq_msg_size(&peer.id));
    if (buf && frame) {
        if (len)
            memcpy(buf, zmq_msg_data(&body), len);
        *payload_out = buf;
        *len_out = len;
        *peer_out = frame;
    } else {
        free(buf);
        zframe_destroy(&frame);
        rc = -ENOMEM;
    }
    zmq_msg_close(&body);
    cairn_bus_peer_close(&peer);
    return rc;
}

int cairn_bus_server_reply(zsock_t *router, zframe_t **peer_p, const void *payload, size_t len)
{
    cairn_bus_peer_t peer = {.live = true};
    zmq_msg_t body;
    int rc = s_msg_copy(&peer.id, zframe_data(*peer_p), zframe_size(*peer_p));
    zframe_destroy(peer_p);
    if (rc < 0)
        return rc;
    if ((rc = s_msg_copy(&body, payload, len)) < 0) {
        cairn_bus_peer_close(&peer);
        return rc;
    }
    return cairn_bus_server_reply_msg(router, &peer, &body);
}

struct cairn_client_t {
    char *endpoint;  /* where requests go */
    zsock_t *dealer; /* current socket; rebuilt after a timeout */
};

cairn_client_t *cairn_client_new(const char *endpoint)
{
    cairn_client_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->endpoint = strdup(endpoint);
    if (!self->endpoint) {
        free(self);
        return NULL;
    }
    return self;
}

void cairn_client_destroy(cairn_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_client_t *self = *self_p;
    zsock_destroy(&self->dealer);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

int cairn_client_call(cairn_client_t *self, const void *req, size_t req_len, int timeout_ms,
                      uint8_t **reply_out, size_t *reply_len_out)
{
    int rc = 0;
    zmsg_t *reply = NULL;
    const char *ipc = s_ipc_path(self->endpoint);
    struct stat st;
    if (ipc && stat(ipc, &st) != 0)
        return CAIRN_EUNREACHABLE; /* nobody has bound it */
    if (!self->dealer &&
        (rc = cairn_bus_connect(ZMQ_DEALER, self->endpoint, NULL, &self->dealer)) < 0)
        return rc;
    zmsg_t *msg = zmsg_new();
    if (!msg)
        return -ENOMEM;
    zmsg_addmem(msg, NULL, 0);
    zmsg_addmem(msg, req, req_len);
    zsock_set_sndtimeo(self->dealer, timeout_ms);
    if (zmsg_send(&msg, self->dealer) != 0) {
        zmsg_destroy(&msg);
        rc = CAIRN_ETIMEOUT;
        goto fail;
    }
    int64_t deadline = cairn_mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - cairn_mono_ms();
        if (left <= 0) {
            rc = CAIRN_ETIMEOUT;
            goto fail;
        }
        zmq_pollitem_t item = {zsock_resolve(self->dealer), 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&item, 1, (long)left);
        if (n < 0 && zmq_errno() == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? CAIRN_EUNREACHABLE : CAIRN_ETIMEOUT;
            goto fail;
        }
        break;
    }
    reply = zmsg_recv(self->dealer);
    if (!reply || zmsg_size(reply) != 2 || zframe_size(zmsg_first(reply)) != 0) {
        rc = CAIRN_EPROTO;
        goto fail;
    }
    rc = s_frame_dup(zmsg_next(reply), reply_out, reply_len_out, 0);
    zmsg_destroy(&reply);
    return rc;
fail:
    zmsg_destroy(&reply);
    /* A late answer must never be read as the reply to the next request. */
    zsock_destroy(&self->dealer);
    return rc;
}
