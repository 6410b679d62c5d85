/* Gate and status queries when the changes are partitioned between several
 * cairn-policy instances (policy.partition_endpoints): the query goes to the
 * instance whose partition holds the key (services/policy/partition.h), and,
 * when that one has no events for it (the key may be a correlation key of a
 * change another partition holds), to the others in turn. */
#ifndef CAIRN_CLI_POLICY_ROUTE_H
#define CAIRN_CLI_POLICY_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "cairn/config.h"

/* Whether bus.policy_query requests are routed by partition. */
bool cli_policy_routed(const cairn_config_t *cfg);

/* Sends the PolicyRequest req as described above and returns the chosen
 * reply's bytes (malloc'd): the first that found the change, else the home
 * partition's. Returns 0 or a negative code as cli_rpc_call. */
int cli_policy_route_call(const cairn_config_t *cfg, const ProtobufCMessage *req,
                          uint8_t **reply_out, size_t *len_out);

#endif
