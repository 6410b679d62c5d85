/* Codec additions the policy daemon needs beyond common/codec.h: decoding
 * the messages it stores in its own LMDB (ChangeStatus, and its private
 * PolicyStateChange). Same rules as the common codecs: bounded size,
 * validated, CAIRN_EPROTO on bad bytes. */
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

#endif
