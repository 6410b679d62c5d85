/* The ZeroMQ bus: socket setup, topic framing, and request/reply plumbing.
 *
 * Published messages are two frames: [topic][protobuf bytes]. Subscribers
 * filter by topic prefix ("verdict.", "alert.", "dev.cdevents.").
 * Requests are [empty][protobuf bytes] from a DEALER client to a ROUTER
 * server, which answers [identity][empty][protobuf bytes]; REQ clients are
 * compatible. */
#ifndef CAIRN_BUS_H
#define CAIRN_BUS_H

#include <czmq.h>
#include <stddef.h>
#include <stdint.h>

/* Creates a socket of a ZMQ type (ZMQ_PUB, ZMQ_ROUTER, ...) bound to endpoint.
 * For ipc:// endpoints the parent directory is created with mode 0700 and a
 * stale socket file left by a crashed process is removed. */
int cairn_bus_bind(int type, const char *endpoint, zsock_t **out);

/* Creates a socket of a ZMQ type connected to endpoint. For ZMQ_SUB,
 * subscribes to topic_prefix ("" = everything); ignored for other types. */
int cairn_bus_connect(int type, const char *endpoint, const char *topic_prefix, zsock_t **out);

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
