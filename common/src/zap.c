/* The ZAP handler (ZeroMQ RFC 27) for the bus's CURVE server sockets. libzmq
 * asks inproc://zeromq.zap.01 about every CURVE handshake in the process; an
 * actor thread answers from the per-domain allow-lists the check callback
 * consults. The same thread reads each server socket's monitor for failed
 * handshakes (a client without CURVE, or with the wrong server key), so every
 * refused connection is reported, with the client's key when one was shown. */
#include "cairn/zap.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cairn/error.h"

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_MAX_WATCH 32
#define S_WATCH_EVENTS                                                                             \
    (ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                  \
     ZMQ_EVENT_MONITOR_STOPPED)

struct cairn_zap_t {
    zactor_t *actor;               /* the handler thread */
    pthread_mutex_t lock;          /* serializes commands on the actor's pipe */
    cairn_zap_check_fn *check;     /* allow-list lookup */
    cairn_zap_refused_fn *refused; /* refusal report */
    void *arg;                     /* for both callbacks */
    int bound;                     /* set by the actor: 1 bound, -1 could not bind */
    unsigned watches;              /* monitor endpoints handed out */
};

typedef struct {
    zsock_t *pair;   /* reads one server socket's monitor */
    char domain[64]; /* the server socket's ZAP domain */
} s_watch_t;

typedef struct {
    zsock_t *handler;             /* REP on inproc://zeromq.zap.01 */
    s_watch_t watch[S_MAX_WATCH]; /* server sockets watched */
    size_t nwatch;                /* entries used */
} s_state_t;

static char *s_frame_str(zframe_t *frame)
{
    return frame ? zframe_strdup(frame) : strdup("");
}

/* Answers one ZAP request. */
static void s_answer(cairn_zap_t *self, zsock_t *handler)
{
    zmsg_t *req = zmsg_recv(handler);
    if (!req)
        return;
    zframe_t *version = zmsg_pop(req);
    zframe_t *request_id = zmsg_pop(req);
    char *domain = s_frame_str(zmsg_first(req));
    char *address = s_frame_str(zmsg_next(req));
    zmsg_next(req); /* routing id */
    char *mechanism = s_frame_str(zmsg_next(req));
    zframe_t *cred = zmsg_next(req);
    const char *status = "400", *text = "not allowed";
    char user[CAIRN_CURVE_Z85_LEN + 1] = "";
    char reason[96] = "";

    if (!version || !zframe_streq(version, "1.0") || !domain || !address || !mechanism) {
        snprintf(reason, sizeof reason, "malformed ZAP request");
    } else if (strcmp(mechanism, "CURVE") == 0 && cred &&
               zframe_size(cred) == CAIRN_CURVE_KEY_BYTES) {
        cairn_curve_z85(zframe_data(cred), user);
        if (self->check(domain, zframe_data(cred), self->arg)) {
            status = "200";
            text = "OK";
        } else {
            snprintf(reason, sizeof reason, "public key not on the allow-list");
        }
    } else if (strcmp(mechanism, "NULL") == 0 && !*domain) {
        /* A socket that asked for no authentication (not a bus CURVE socket). */
        status = "200";
        text = "OK";
    } else {
        snprintf(reason, sizeof reason, "mechanism %s not accepted", mechanism);
    }

    zmsg_t *rep = zmsg_new();
    if (rep) {
        zmsg_addstr(rep, "1.0");
        if (request_id)
            zmsg_append(rep, &request_id);
        else
            zmsg_addmem(rep, NULL, 0);
        zmsg_addstr(rep, status);
        zmsg_addstr(rep, text);
        zmsg_addstr(rep, user);
        zmsg_addmem(rep, NULL, 0);
        if (zmsg_send(&rep, handler) != 0)
            zmsg_destroy(&rep);
    }
    if (*reason && self->refused)
        self->refused(domain ? domain : "", user, address ? address : "", reason, self->arg);
    zframe_destroy(&version);
    zframe_destroy(&request_id);
    zstr_free(&domain);
    zstr_free(&address);
    zstr_free(&mechanism);
    zmsg_destroy(&req);
}

static const char *s_protocol_reason(uint32_t value)
{
    switch (value) {
    case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: return "client does not use CURVE";
    case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
    case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
        return "CURVE handshake failed (client has the wrong server key?)";
    default: return "handshake failed (protocol error)";
    }
}

/* Reads one monitor event; returns 1 when the watch has ended. */
static int s_watch_event(cairn_zap_t *self, s_watch_t *w)
{
    zmsg_t *msg = zmsg_recv(w->pair);
    if (!msg)
        return 0;
    zframe_t *head = zmsg_first(msg);
    zframe_t *where = zmsg_next(msg);
    int ended = 0;
    if (head && zframe_size(head) == 6) {
        uint16_t event;
        uint32_t value;
        memcpy(&event, zframe_data(head), sizeof event);
        memcpy(&value, zframe_data(head) + 2, sizeof value);
        char *address = s_frame_str(where);
        if (event == ZMQ_EVENT_MONITOR_STOPPED) {
            ended = 1;
        } else if (self->refused) {
            /* A client without CURVE sees the mismatch too and may hang up
             * first, which leaves no detail. */
            const char *reason = event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                     ? s_protocol_reason(value)
                                     : "handshake failed before a key was shown (client without "
                                       "CURVE?)";
            self->refused(w->domain, "", address ? address : "", reason, self->arg);
        }
        zstr_free(&address);
    }
    zmsg_destroy(&msg);
    return ended;
}

/* A pipe command: "WATCH" endpoint domain, or "$TERM". 1 means stop. */
static int s_command(zsock_t *pipe, s_state_t *st)
{
    char *cmd = NULL, *endpoint = NULL, *domain = NULL;
    if (zstr_recvx(pipe, &cmd, &endpoint, &domain, NULL) < 0)
        return 1;
    int stop = strcmp(cmd, "$TERM") == 0;
    if (!stop && strcmp(cmd, "WATCH") == 0) {
        int rc = -1;
        zsock_t *pair = NULL;
        if (endpoint && domain && st->nwatch < S_MAX_WATCH && (pair = zsock_new(ZMQ_PAIR))) {
            zsock_set_linger(pair, 0);
            if (zsock_connect(pair, "%s", endpoint) == 0) {
                s_watch_t *w = &st->watch[st->nwatch++];
                w->pair = pair;
                snprintf(w->domain, sizeof w->domain, "%s", domain);
                pair = NULL;
                rc = 0;
            }
        }
        zsock_destroy(&pair);
        zsock_signal(pipe, rc == 0 ? 0 : 1);
    }
    zstr_free(&cmd);
    zstr_free(&endpoint);
    zstr_free(&domain);
    return stop;
}

static void s_actor(zsock_t *pipe, void *args)
{
    cairn_zap_t *self = args;
    s_state_t st;
    memset(&st, 0, sizeof st);
    st.handler = zsock_new(ZMQ_REP);
    if (st.handler)
        zsock_set_linger(st.handler, 0);
    if (!st.handler || zsock_bind(st.handler, S_ZAP_ENDPOINT) != 0) {
        self->bound = -1;
        zsock_destroy(&st.handler);
        zsock_signal(pipe, 0);
        return;
    }
    self->bound = 1;
    zsock_signal(pipe, 0);
    for (int stop = 0; !stop;) {
        zmq_pollitem_t items[2 + S_MAX_WATCH];
        items[0] = (zmq_pollitem_t){zsock_resolve(pipe), 0, ZMQ_POLLIN, 0};
        items[1] = (zmq_pollitem_t){zsock_resolve(st.handler), 0, ZMQ_POLLIN, 0};
        for (size_t i = 0; i < st.nwatch; i++)
            items[2 + i] = (zmq_pollitem_t){zsock_resolve(st.watch[i].pair), 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(items, (int)(2 + st.nwatch), -1);
        if (n < 0) {
            if (zmq_errno() == EINTR)
                continue;
            break; /* the context is terminating */
        }
        if (items[1].revents & ZMQ_POLLIN)
            s_answer(self, st.handler);
        for (size_t i = st.nwatch; i-- > 0;) {
            if (!(items[2 + i].revents & ZMQ_POLLIN) || !s_watch_event(self, &st.watch[i]))
                continue;
            zsock_destroy(&st.watch[i].pair);
            st.watch[i] = st.watch[--st.nwatch];
        }
        if (items[0].revents & ZMQ_POLLIN)
            stop = s_command(pipe, &st);
    }
    for (size_t i = 0; i < st.nwatch; i++)
        zsock_destroy(&st.watch[i].pair);
    zsock_destroy(&st.handler);
}

cairn_zap_t *cairn_zap_new(cairn_zap_check_fn *check, cairn_zap_refused_fn *refused, void *arg)
{
    cairn_zap_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    pthread_mutex_init(&self->lock, NULL);
    self->check = check;
    self->refused = refused;
    self->arg = arg;
    self->actor = zactor_new(s_actor, self);
    if (!self->actor || self->bound != 1)
        cairn_zap_destroy(&self);
    return self;
}

void cairn_zap_destroy(cairn_zap_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_zap_t *self = *self_p;
    zactor_destroy(&self->actor);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

int cairn_zap_watch(cairn_zap_t *self, zsock_t *server, const char *domain)
{
    char endpoint[64];
    pthread_mutex_lock(&self->lock);
    snprintf(endpoint, sizeof endpoint, "inproc://cairn-zap-watch-%p-%u", (void *)self,
             self->watches++);
    int rc = zmq_socket_monitor(zsock_resolve(server), endpoint, S_WATCH_EVENTS);
    if (rc == 0) {
        zstr_sendx(self->actor, "WATCH", endpoint, domain, NULL);
        rc = zsock_wait(self->actor) == 0 ? 0 : CAIRN_EINTERNAL;
        if (rc < 0)
            zmq_socket_monitor(zsock_resolve(server), NULL, 0);
    } else {
        rc = -zmq_errno();
    }
    pthread_mutex_unlock(&self->lock);
    return rc;
}
