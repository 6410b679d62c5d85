/* Protobuf codec for cairn-notify's own messages: its request/reply API
 * (bus.notify_api) and the inbox items it publishes on bus.notify_feed.
 * Unpacking bounds the size and validates like the common codecs; free
 * with CAIRN_CODEC_FREE. */
#ifndef CAIRN_NOTIFY_CODEC_H
#define CAIRN_NOTIFY_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"

int cairn_notify_codec_request_unpack(const uint8_t *buf, size_t len,
                                      Cairn__V1__NotifyRequest **out);
int cairn_notify_codec_reply_unpack(const uint8_t *buf, size_t len, Cairn__V1__NotifyReply **out);
int cairn_notify_codec_item_unpack(const uint8_t *buf, size_t len, Cairn__V1__InboxItem **out);

#endif
