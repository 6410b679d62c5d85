/* The ZeroMQ bus: socket setup, topic framing, and request/reply plumbing.
 *
 * Published messages are two frames: [topic][protobuf bytes]. Subscribers
 * filter by topic prefix ("verdict.", "alert.", "dev.cdevents.").
 * Requests are [empty][protobuf bytes] from a DEALER client to a ROUTER
 * server, which answers [identity][empty][protobuf bytes]; REQ clients are
 * compatible.
 *
 * Security: ipc:// sockets live in a directory only their owner can enter
 * (0700). Every tcp:// socket uses CURVE (encryption and authentication)
 * with the keys cairn_bus_secure() loaded from the configuration: a server
 * socket accepts only the client public keys on its allow-list (checked by
 * the process's ZAP handler), a client checks the server's public key. A
 * tcp:// endpoint without keys is refused (CAIRN_ECONFIG), never served in
 * plaintext. */
#ifndef CAIRN_BUS_H
#define CAIRN_BUS_H

#include <czmq.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/config.h"

/* Loads this process's bus security from config: the key pair in
 * bus.curve_secret_key ("{service}" in its path replaced by service:
 * "ledger", "ingest", "policy", "notify", "cli"), the servers' public keys
 * (bus.*_public_key) and, for the endpoints service serves, the allow-lists
 * (bus.*_allow). Needed only when some bus.* endpoint is tcp://. Replaces
 * any earlier settings. Returns 0, or CAIRN_ECONFIG with one sentence in err
 * (a tcp:// endpoint without keys, a key file group/other can read, a bad
 * allow-list). Key material stays in guarded memory, wiped at exit. */
int cairn_bus_secure(const cairn_config_t *config, const char *service, char *err, size_t errlen);

/* Forgets the keys (wiped) and stops the ZAP handler. Runs at exit. */
void cairn_bus_secure_reset(void);

/* A refused connection on a CURVE server socket: socket is its name
 * ("ledger_api"), key_z85 the client's public key ("" when the client showed
 * none: no CURVE, or the wrong server key), address the peer's when known.
 * Reports of the same socket, key and reason are merged for a few seconds;
 * repeats counts those not reported, total all refusals so far. Called on
 * the ZAP handler's thread. */
typedef void(cairn_bus_refusal_fn)(const char *socket, const char *key_z85, const char *address,
                                   const char *reason, uint64_t repeats, uint64_t total, void *arg);

/* Sets the refusal report (a daemon logs it). */
void cairn_bus_on_refusal(cairn_bus_refusal_fn *fn, void *arg);

/* Connections refused so far on this process's CURVE server sockets. */
uint64_t cairn_bus_refusals(void);

/* Sets the high-water mark (messages) of the sockets made from now on: what
 * a PUB or ROUTER queues for one slow peer and a SUB queues unread
 * (bus.high_water_mark; default 100000). Past it, PUB drops (subscribers see
 * the gap and replay from the ledger) and ROUTER drops replies. */
void cairn_bus_set_high_water_mark(int messages);

/* Creates a socket of a ZMQ type (ZMQ_PUB, ZMQ_ROUTER, ...) bound to endpoint.
 * For ipc:// endpoints the parent directory is created with mode 0700 (an
 * existing one is set to 0700; one that cannot be is refused) and a stale
 * socket file left by a crashed process is removed. A tcp:// endpoint is a
 * CURVE server (see cairn_bus_secure). */
int cairn_bus_bind(int type, const char *endpoint, zsock_t **out);

/* Creates a socket of a ZMQ type connected to endpoint. For ZMQ_SUB,
 * subscribes to topic_prefix ("" = everything); ignored for other types.
 * A tcp:// endpoint is a CURVE client (see cairn_bus_secure). */
int cairn_bus_connect(int type, const char *endpoint, const char *topic_prefix, zsock_t **out);

/* Like cairn_bus_connect, but the socket never reconnects: once the peer is
 * gone (a restarted server is a new peer), sends fail or wait and no answer
 * arrives. For a client that keeps several requests in flight and matches
 * answers to requests by their order: across a reconnect the requests the
 * old peer had taken are lost, and the next answer would belong to a later
 * request. Make a new socket instead (and resend what is unanswered). */
int cairn_bus_connect_once(int type, const char *endpoint, zsock_t **out);

/* Sends [topic][payload] on a PUB socket. */
int cairn_bus_publish(zsock_t *sock, const char *topic, const void *payload, size_t len);

/* Receives [topic][payload] from a SUB socket. *topic_out and *payload_out are
 * malloc'd; the caller frees them. Returns CAIRN_EPROTO for a malformed
 * message (which is consumed and dropped). */
int cairn_bus_receive(zsock_t *sock, char **topic_out, uint8_t **payload_out, size_t *len_out);

/* ROUTER side: receives one request. *peer_out identifies the client for the
 * reply (free with zframe_destroy). */
int cairn_bus_server_recv(zsock_t *router, zframe_t **peer_out, uint8_t **payload_out,
                          size_t *len_out);

/* ROUTER side: sends a reply to peer (takes ownership of *peer_p). */
int cairn_bus_server_reply(zsock_t *router, zframe_t **peer_p, const void *payload, size_t len);

/* The zero-copy path of a ROUTER server and a publisher, for a daemon whose
 * loop handles many small messages (the ledger): libzmq messages straight
 * from and to the socket, no czmq message or frame objects, no copy of a
 * request's body on receive and none of a reply or entry the caller built in
 * a zmq_msg_t. Same framing and results as cairn_bus_server_recv,
 * cairn_bus_server_reply and cairn_bus_publish, on sockets made by
 * cairn_bus_bind (CURVE and ZAP apply to them unchanged). */

/* The client a request came from: its routing id. A zeroed peer holds none. */
typedef struct {
    zmq_msg_t id; /* the routing id frame, when live */
    bool live;    /* id holds a message (release with cairn_bus_peer_close) */
} cairn_bus_peer_t;

/* Releases peer's routing id (nothing when it holds none). */
void cairn_bus_peer_close(cairn_bus_peer_t *peer);

/* ROUTER side: receives one request [identity][empty][body] into a peer
 * that holds nothing (zeroed or closed). On success *peer holds the client
 * and *body the request's bytes (zmq_msg_data, zmq_msg_size; the caller
 * closes it with zmq_msg_close). Returns CAIRN_ETIMEOUT when nothing is
 * waiting within the socket's receive timeout, CAIRN_EPROTO for a malformed
 * message (consumed and dropped; peer and body then hold nothing),
 * CAIRN_EUNREACHABLE for any other failure. */
int cairn_bus_server_recv_msg(zsock_t *router, cairn_bus_peer_t *peer, zmq_msg_t *body);

/* ROUTER side: sends body to peer as [identity][empty][body]. Takes both:
 * the peer's id and body are released whether or not it was sent. Returns
 * 0, or CAIRN_EUNREACHABLE (CAIRN_EINVALID for a peer holding no id). */
int cairn_bus_server_reply_msg(zsock_t *router, cairn_bus_peer_t *peer, zmq_msg_t *body);

/* Sends [topic][payload] on a PUB socket; takes payload (released whether or
 * not it was sent), so a zmq_msg_init_data buffer is never copied. */
int cairn_bus_publish_msg(zsock_t *sock, const char *topic, zmq_msg_t *payload);

/* A request/reply client with timeouts. It owns a DEALER socket that is
 * rebuilt after a timeout so a late answer is never read as the next reply. */
typedef struct cairn_client_t cairn_client_t;

cairn_client_t *cairn_client_new(const char *endpoint);
void cairn_client_destroy(cairn_client_t **self_p);

/* Sends one request and waits up to timeout_ms for the reply (malloc'd into
 * *reply_out). Returns CAIRN_ETIMEOUT when no reply came. */
int cairn_client_call(cairn_client_t *self, const void *req, size_t req_len, int timeout_ms,
                      uint8_t **reply_out, size_t *reply_len_out);

#endif
