/* Decoding of the policy's stored messages (see policy_codec.h). */
#include "policy_codec.h"

#include <stdlib.h>

#include "cairn/error.h"

int cairn_policy_codec_change_status_unpack(const uint8_t *buf, size_t len,
                                            Cairn__V1__ChangeStatus **out)
{
    if (len > CAIRN_CODEC_MAX_BYTES || (!buf && len))
        return CAIRN_EPROTO;
    Cairn__V1__ChangeStatus *m =
        cairn__v1__change_status__unpack(NULL, len, buf ? buf : (const uint8_t *)"");
    if (!m)
        return CAIRN_EPROTO;
    *out = m;
    return 0;
}

int cairn_policy_codec_state_change_unpack(const uint8_t *buf, size_t len,
                                           Cairn__V1__PolicyStateChange **out)
{
    if (len > CAIRN_CODEC_MAX_BYTES || (!buf && len))
        return CAIRN_EPROTO;
    Cairn__V1__PolicyStateChange *m =
        cairn__v1__policy_state_change__unpack(NULL, len, buf ? buf : (const uint8_t *)"");
    if (!m)
        return CAIRN_EPROTO;
    *out = m;
    return 0;
}

int cairn_policy_codec_verdict_unpack(const uint8_t *buf, size_t len, Cairn__V1__Verdict **out)
{
    if (len > CAIRN_CODEC_MAX_BYTES || (!buf && len))
        return CAIRN_EPROTO;
    Cairn__V1__Verdict *m = cairn__v1__verdict__unpack(NULL, len, buf ? buf : (const uint8_t *)"");
    if (!m)
        return CAIRN_EPROTO;
    *out = m;
    return 0;
}

int cairn_policy_codec_verdict_copy(const Cairn__V1__Verdict *v, Cairn__V1__Verdict **out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = cairn_codec_pack(&v->base, &buf, &len);
    if (rc == 0)
        rc = cairn_policy_codec_verdict_unpack(buf, len, out);
    free(buf);
    return rc;
}
