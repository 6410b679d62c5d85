/* The process's ZAP handler (ZeroMQ RFC 27) for CURVE server sockets on the
 * bus: one actor thread bound to inproc://zeromq.zap.01 that answers libzmq's
 * authentication requests. The ZAP domain of a server socket names it
 * ("ledger_api"); the check callback decides per domain whether a client's
 * public key is allowed. The actor also watches each server socket's
 * handshake failures (clients without CURVE, or with the wrong server key),
 * and reports every refusal through the refused callback. Callbacks run on
 * the actor's thread. */
#ifndef CAIRN_ZAP_H
#define CAIRN_ZAP_H

#include <czmq.h>
#include <stdbool.h>
#include <stdint.h>

#include "cairn/curve.h"

/* Is key allowed on the server socket named domain? */
typedef bool(cairn_zap_check_fn)(const char *domain, const uint8_t key[CAIRN_CURVE_KEY_BYTES],
                                 void *arg);

/* A connection refused on domain: key_z85 is the client's public key, or ""
 * when the handshake failed before a key was known; address is the peer's,
 * when known; reason says why. */
typedef void(cairn_zap_refused_fn)(const char *domain, const char *key_z85, const char *address,
                                   const char *reason, void *arg);

typedef struct cairn_zap_t cairn_zap_t;

/* Starts the handler. Returns NULL when it cannot bind (another handler
 * already serves this process's ZeroMQ context). */
cairn_zap_t *cairn_zap_new(cairn_zap_check_fn *check, cairn_zap_refused_fn *refused, void *arg);

/* Stops the handler. NULL-safe. */
void cairn_zap_destroy(cairn_zap_t **self_p);

/* Watches server (a CURVE server socket) for handshake failures, reported
 * as refusals on domain. Call from the thread that owns server, before it
 * is used. */
int cairn_zap_watch(cairn_zap_t *self, zsock_t *server, const char *domain);

#endif
