/* Routing policy queries to the partition holding the change (see
 * policy_route.h). */
#include "policy_route.h"

#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/partition.h"
#include "rpc.h"

bool cli_policy_routed(const cairn_config_t *cfg)
{
    return cairn_partition_endpoint_count(cairn_config_str(cfg, "policy.partition_endpoints")) > 1;
}

static const char *s_key(const ProtobufCMessage *req)
{
    if (req->descriptor != &cairn__v1__policy_request__descriptor)
        return "";
    const Cairn__V1__PolicyRequest *rq = (const Cairn__V1__PolicyRequest *)req;
    if (rq->body_case == CAIRN__V1__POLICY_REQUEST__BODY_GATE && rq->gate->change_id)
        return rq->gate->change_id;
    if (rq->body_case == CAIRN__V1__POLICY_REQUEST__BODY_STATUS && rq->status->change_id)
        return rq->status->change_id;
    return "";
}

/* Whether a reply is an answer about a change the instance holds. */
static bool s_found(const uint8_t *buf, size_t len)
{
    Cairn__V1__PolicyReply *r = NULL;
    if (cairn_codec_policy_reply_unpack(buf, len, &r) < 0)
        return false;
    bool found = r->status == 0 && ((r->verdict && r->verdict->n_input_indexes) ||
                                    (r->change && r->change->n_input_indexes));
    CAIRN_CODEC_FREE(&r);
    return found;
}

/* One query to partition i. On a tcp:// bus every partition holds the
 * policy's key pair (bus.policy_public_key), so the bus secures a connection
 * to any endpoint of policy.partition_endpoints like one to bus.policy_query. */
static int s_call(const cairn_config_t *cfg, const char *list, size_t i,
                  const ProtobufCMessage *req, uint8_t **reply_out, size_t *len_out)
{
    char endpoint[512];
    if (cairn_partition_endpoint(list, i, endpoint, sizeof endpoint) < 0)
        return CAIRN_ECONFIG;
    return cli_rpc_call_endpoint(cfg, "bus.policy_query", endpoint, req, reply_out, len_out);
}

int cli_policy_route_call(const cairn_config_t *cfg, const ProtobufCMessage *req,
                          uint8_t **reply_out, size_t *len_out)
{
    const char *list = cairn_config_str(cfg, "policy.partition_endpoints");
    size_t n = cairn_partition_endpoint_count(list);
    uint32_t home = cairn_partition_of(s_key(req), (uint32_t)n);
    uint8_t *best = NULL;
    size_t best_len = 0;
    int rc = s_call(cfg, list, home, req, &best, &best_len);
    if (rc < 0 || s_found(best, best_len))
        goto out;
    for (size_t i = 0; i < n; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        if (i == home)
            continue;
        int rc_i = s_call(cfg, list, i, req, &buf, &len);
        if (rc_i < 0) {
            /* The change may be there: no answer beats a wrong "no events". */
            free(best);
            best = NULL;
            rc = rc_i;
            goto out;
        }
        if (s_found(buf, len)) {
            free(best);
            best = buf;
            best_len = len;
            goto out;
        }
        free(buf);
    }
out:
    if (rc == 0) {
        *reply_out = best;
        *len_out = best_len;
    }
    return rc;
}
