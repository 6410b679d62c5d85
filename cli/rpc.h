/* Talking to the daemons from the CLI: one request, one reply, over the bus
 * endpoint named in the configuration, with bus.request_timeout. Failures
 * become a message for people and an exit code (4 when nobody answers). */
#ifndef CAIRN_CLI_RPC_H
#define CAIRN_CLI_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "cairn/config.h"

/* Sends req to the endpoint in config key endpoint_key (e.g. "bus.policy_query")
 * and returns the reply bytes (malloc'd). Returns 0 or a negative code:
 * CAIRN_EUNREACHABLE / CAIRN_ETIMEOUT when the daemon does not answer. */
int cli_rpc_call(const cairn_config_t *cfg, const char *endpoint_key, const ProtobufCMessage *req,
                 uint8_t **reply_out, size_t *len_out);

/* The same, to the given endpoint of the daemon behind endpoint_key (e.g.
 * one policy partition of policy.partition_endpoints). cli_rpc_call on
 * bus.policy_query routes by partition when policy.partition_endpoints
 * lists several instances (policy_route.h). */
int cli_rpc_call_endpoint(const cairn_config_t *cfg, const char *endpoint_key, const char *endpoint,
                          const ProtobufCMessage *req, uint8_t **reply_out, size_t *len_out);

/* Prints why a call failed (naming the daemon and endpoint, and telling the
 * user to run `cairn up` when it is unreachable) on stderr, and returns the
 * exit code for it. */
int cli_rpc_failed(const cairn_config_t *cfg, const char *endpoint_key, int rc);

/* False when endpoint is an ipc:// socket nobody accepts connections on (no
 * file, or a stale file left by a stopped daemon); true otherwise, as other
 * transports cannot be checked without a request. */
bool cli_endpoint_listening(const char *endpoint);

/* The daemon that serves an endpoint key: "cairn-policy" for "bus.policy_query". */
const char *cli_rpc_daemon(const char *endpoint_key);

/* The exit code for a negative status a daemon put in its reply. */
int cli_status_exit(int status);

#endif
