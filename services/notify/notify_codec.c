/* cairn-notify's protobuf messages (see notify_codec.h). */
#include "notify_codec.h"

#include "cairn/error.h"

static int s_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                    ProtobufCMessage **out)
{
    if (!buf && len)
        return CAIRN_EPROTO;
    if (len > CAIRN_CODEC_MAX_BYTES)
        return CAIRN_ETOOLARGE;
    ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, len, buf);
    if (!m)
        return CAIRN_EPROTO;
    if (!protobuf_c_message_check(m)) {
        protobuf_c_message_free_unpacked(m, NULL);
        return CAIRN_EPROTO;
    }
    *out = m;
    return 0;
}

int cairn_notify_codec_request_unpack(const uint8_t *buf, size_t len,
                                      Cairn__V1__NotifyRequest **out)
{
    return s_unpack(&cairn__v1__notify_request__descriptor, buf, len, (ProtobufCMessage **)out);
}

int cairn_notify_codec_reply_unpack(const uint8_t *buf, size_t len, Cairn__V1__NotifyReply **out)
{
    return s_unpack(&cairn__v1__notify_reply__descriptor, buf, len, (ProtobufCMessage **)out);
}

int cairn_notify_codec_item_unpack(const uint8_t *buf, size_t len, Cairn__V1__InboxItem **out)
{
    return s_unpack(&cairn__v1__inbox_item__descriptor, buf, len, (ProtobufCMessage **)out);
}
