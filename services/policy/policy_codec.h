/* Codec additions the policy daemon needs beyond common/codec.h: decoding
 * the messages it stores in its own LMDB (ChangeStatus, and its private
 * PolicyStateChange), and copying a Verdict out of an evaluation's arena. Same rules as the common
 * codecs: bounded size, validated, CAIRN_EPROTO on bad bytes. */
#ifndef CAIRN_POLICY_CODEC_H
#define CAIRN_POLICY_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "cairn/v1/policy_state.pb-c.h"

int cairn_policy_codec_change_status_unpack(const uint8_t *buf, size_t len,
                                            Cairn__V1__ChangeStatus **out);

int cairn_policy_codec_state_change_unpack(const uint8_t *buf, size_t len,
                                           Cairn__V1__PolicyStateChange **out);

int cairn_policy_codec_verdict_unpack(const uint8_t *buf, size_t len, Cairn__V1__Verdict **out);

/* A separately allocated copy of v (free with CAIRN_CODEC_FREE). */
int cairn_policy_codec_verdict_copy(const Cairn__V1__Verdict *v, Cairn__V1__Verdict **out);

#endif
