/* Policy partitions (see partition.h): "i/N", which changes an instance
 * owns, and the query hook that points a client at the partition holding a
 * change. */
#include "partition.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"
#include "cairn/error.h"

bool cairn_partition_owns(const cairn_partition_t *p, const char *change_id)
{
    return !p || p->count <= 1 || cairn_partition_of(change_id, p->count) == p->index;
}

/* A decimal number without sign, blanks or leading '+'. */
static int s_number(const char *s, size_t len, uint32_t *out)
{
    uint64_t v = 0;
    if (!len || len > 9)
        return CAIRN_ECONFIG;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return CAIRN_ECONFIG;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = (uint32_t)v;
    return 0;
}

int cairn_partition_parse(const char *text, cairn_partition_t *out)
{
    const char *slash = text ? strchr(text, '/') : NULL;
    uint32_t index = 0, count = 0;
    if (!slash || s_number(text, (size_t)(slash - text), &index) < 0 ||
        s_number(slash + 1, strlen(slash + 1), &count) < 0 || count < 1 ||
        count > CAIRN_PARTITION_MAX || index >= count)
        return CAIRN_ECONFIG;
    out->index = index;
    out->count = count;
    return 0;
}

int cairn_partition_redirect(const cairn_partition_t *p, const char *endpoints,
                             cairn_state_t *state, const uint8_t *req, size_t len,
                             uint8_t **reply_out, size_t *reply_len)
{
    if (!p || p->count <= 1)
        return 0;
    Cairn__V1__PolicyRequest *rq = NULL;
    cairn_state_found_t found;
    memset(&found, 0, sizeof found);
    int rc = 0;
    if (cairn_codec_policy_request_unpack(req, len, &rq) < 0)
        return 0;
    const char *key = NULL;
    if (rq->body_case == CAIRN__V1__POLICY_REQUEST__BODY_GATE)
        key = rq->gate->change_id;
    else if (rq->body_case == CAIRN__V1__POLICY_REQUEST__BODY_STATUS)
        key = rq->status->change_id;
    if (!key || !*key || cairn_partition_owns(p, key))
        goto out;
    if ((rc = cairn_state_find(state, key, &found)) < 0 || found.id)
        goto out; /* a read failure is the normal answer's to report */
    uint32_t home = cairn_partition_of(key, p->count);
    char endpoint[512] = "", error[1024];
    if (cairn_partition_endpoint(endpoints, home, endpoint, sizeof endpoint) < 0)
        endpoint[0] = '\0';
    snprintf(error, sizeof error,
             "no change '%s' in policy partition %" PRIu32 "/%" PRIu32
             "; a change of that id belongs to partition %" PRIu32 "/%" PRIu32 "%s%s",
             key, p->index, p->count, home, p->count, *endpoint ? " at " : "", endpoint);
    Cairn__V1__PolicyReply reply = CAIRN__V1__POLICY_REPLY__INIT;
    reply.status = CAIRN_EPARTITION;
    reply.error = error;
    reply.applied_index = found.next;
    rc = cairn_codec_pack(&reply.base, reply_out, reply_len);
    if (rc == 0)
        rc = 1;
out:
    cairn_state_found_clear(&found);
    CAIRN_CODEC_FREE(&rq);
    return rc < 0 ? 0 : rc;
}
