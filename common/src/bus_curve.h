/* Internal to the bus: how cairn_bus_bind/cairn_bus_connect apply the
 * process's CURVE settings (cairn_bus_secure) to a socket. */
#ifndef CAIRN_BUS_CURVE_H
#define CAIRN_BUS_CURVE_H

#include <czmq.h>
#include <stdbool.h>

/* For a tcp:// endpoint: makes sock a CURVE server (bind) or client
 * (connect) with the keys configured for that endpoint, and has the ZAP
 * handler watch a server. Other transports: nothing to do (0). A tcp://
 * endpoint this process has no keys for is CAIRN_ECONFIG: the bus never
 * speaks plaintext over the network. */
int cairn_bus_curve_prepare(zsock_t *sock, const char *endpoint, bool server);

#endif
