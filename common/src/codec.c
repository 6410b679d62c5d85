/* Protobuf codecs: packing, validated unpacking, and record naming. */
#include "cairn/codec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

int cairn_codec_pack(const ProtobufCMessage *msg, uint8_t **buf_out, size_t *len_out)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return -ENOMEM;
    size_t packed = protobuf_c_message_pack(msg, buf);
    if (packed != len) {
        free(buf);
        return CAIRN_EINTERNAL;
    }
    *buf_out = buf;
    *len_out = len;
    return 0;
}

int cairn_codec_pack_with(ProtobufCAllocator *allocator, const ProtobufCMessage *msg,
                          uint8_t **buf_out, size_t *len_out)
{
    size_t len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = allocator->alloc(allocator->allocator_data, len ? len : 1);
    if (!buf)
        return -ENOMEM;
    if (protobuf_c_message_pack(msg, buf) != len) {
        allocator->free(allocator->allocator_data, buf);
        return CAIRN_EINTERNAL;
    }
    *buf_out = buf;
    *len_out = len;
    return 0;
}

/* protobuf-c keeps an unknown field numbered 0 when its tag is written in an
 * overlong form, but refuses the canonical form it packs it to: a message
 * carrying one would re-encode (as the ledger stores payloads) into bytes
 * nobody can decode. Field 0 is never valid; such a message is refused. */
static bool s_has_field_zero(const ProtobufCMessage *m)
{
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0)
            return true;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *base = (const char *)m;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                if (items[k] && s_has_field_zero(items[k]))
                    return true;
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + f->offset);
        if (sub && s_has_field_zero(sub))
            return true;
    }
    return false;
}

static int s_unpack_with(ProtobufCAllocator *allocator, const ProtobufCMessageDescriptor *desc,
                         const uint8_t *buf, size_t len, ProtobufCMessage **out)
{
    if (len > CAIRN_CODEC_MAX_BYTES || (!buf && len))
        return CAIRN_EPROTO;
    ProtobufCMessage *m =
        protobuf_c_message_unpack(desc, allocator, len, buf ? buf : (const uint8_t *)"");
    if (!m)
        return CAIRN_EPROTO;
    if (s_has_field_zero(m)) {
        protobuf_c_message_free_unpacked(m, allocator);
        return CAIRN_EPROTO;
    }
    *out = m;
    return 0;
}

static int s_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *buf, size_t len,
                    ProtobufCMessage **out)
{
    return s_unpack_with(NULL, desc, buf, len, out);
}

void cairn_codec_free_with(ProtobufCAllocator *allocator, ProtobufCMessage **msg_p)
{
    if (!msg_p || !*msg_p)
        return;
    protobuf_c_message_free_unpacked(*msg_p, allocator);
    *msg_p = NULL;
}

void cairn_codec_free(ProtobufCMessage **msg_p)
{
    if (!msg_p || !*msg_p)
        return;
    protobuf_c_message_free_unpacked(*msg_p, NULL);
    *msg_p = NULL;
}

#define S_UNPACKER(fn, type, desc)                                            \
    int fn(const uint8_t *buf, size_t len, type **out)                        \
    {                                                                         \
        ProtobufCMessage *m = NULL;                                           \
        int rc = s_unpack(&(desc), buf, len, &m);                             \
        if (rc == 0)                                                          \
            *out = (type *)m;                                                 \
        return rc;                                                            \
    }

/* The same, every part of the message taken from allocator. */
#define S_UNPACKER_WITH(fn, type, desc)                                                            \
    int fn(ProtobufCAllocator *allocator, const uint8_t *buf, size_t len, type **out)              \
    {                                                                                              \
        ProtobufCMessage *m = NULL;                                                                \
        int rc = s_unpack_with(allocator, &(desc), buf, len, &m);                                  \
        if (rc == 0)                                                                               \
            *out = (type *)m;                                                                      \
        return rc;                                                                                 \
    }

S_UNPACKER_WITH(cairn_codec_ledger_request_view_unpack_with, Cairn__V1__LedgerRequestView,
                cairn__v1__ledger_request_view__descriptor)
S_UNPACKER_WITH(cairn_codec_record_unpack_with, Cairn__V1__Record, cairn__v1__record__descriptor)
S_UNPACKER(cairn_codec_ledger_request_unpack, Cairn__V1__LedgerRequest,
           cairn__v1__ledger_request__descriptor)
S_UNPACKER(cairn_codec_ledger_reply_unpack, Cairn__V1__LedgerReply,
           cairn__v1__ledger_reply__descriptor)
S_UNPACKER(cairn_codec_entry_unpack, Cairn__V1__Entry, cairn__v1__entry__descriptor)
S_UNPACKER(cairn_codec_record_unpack, Cairn__V1__Record, cairn__v1__record__descriptor)
S_UNPACKER(cairn_codec_policy_request_unpack, Cairn__V1__PolicyRequest,
           cairn__v1__policy_request__descriptor)
S_UNPACKER(cairn_codec_policy_reply_unpack, Cairn__V1__PolicyReply,
           cairn__v1__policy_reply__descriptor)
S_UNPACKER(cairn_codec_submit_request_unpack, Cairn__V1__SubmitRequest,
           cairn__v1__submit_request__descriptor)
S_UNPACKER(cairn_codec_submit_reply_unpack, Cairn__V1__SubmitReply,
           cairn__v1__submit_reply__descriptor)

static int s_fmt(char *buf, size_t buflen, const char *prefix, const char *name)
{
    if (!name || !*name)
        name = "unknown";
    int n = snprintf(buf, buflen, "%s%s", prefix, name);
    return (n < 0 || (size_t)n >= buflen) ? CAIRN_ETOOLARGE : 0;
}

int cairn_codec_record_topic(const Cairn__V1__Record *rec, char *buf, size_t buflen)
{
    switch (rec->body_case) {
    case CAIRN__V1__RECORD__BODY_EVENT:
        if (!rec->event->type || !*rec->event->type)
            return CAIRN_EINVALID;
        return s_fmt(buf, buflen, "", rec->event->type);
    case CAIRN__V1__RECORD__BODY_VERDICT:
        return s_fmt(buf, buflen, "verdict.", rec->verdict->gate);
    case CAIRN__V1__RECORD__BODY_ALERT:
        return s_fmt(buf, buflen, "alert.", rec->alert->kind);
    case CAIRN__V1__RECORD__BODY_RECEIPT:
        return s_fmt(buf, buflen, "receipt.", rec->receipt->receiver);
    case CAIRN__V1__RECORD__BODY_ACTIVATION:
        return s_fmt(buf, buflen, "policy.", "activated");
    case CAIRN__V1__RECORD__BODY_SILENCE:
        return s_fmt(buf, buflen, "notify.", "silence");
    case CAIRN__V1__RECORD__BODY_ACK:
        return s_fmt(buf, buflen, "notify.", "ack");
    default:
        return CAIRN_EINVALID;
    }
}

const char *cairn_codec_record_change(const Cairn__V1__Record *rec)
{
    const char *c = NULL;
    switch (rec->body_case) {
    case CAIRN__V1__RECORD__BODY_EVENT:
        c = rec->event->correlation ? rec->event->correlation->change_id : NULL;
        break;
    case CAIRN__V1__RECORD__BODY_VERDICT:
        c = rec->verdict->change_id;
        break;
    case CAIRN__V1__RECORD__BODY_ALERT:
        c = rec->alert->change_id;
        break;
    case CAIRN__V1__RECORD__BODY_RECEIPT:
        c = rec->receipt->change_id;
        break;
    case CAIRN__V1__RECORD__BODY_ACK:
        c = rec->ack->change_id;
        break;
    default:
        break;
    }
    return c ? c : "";
}

const char *cairn_codec_record_environment(const Cairn__V1__Record *rec)
{
    const char *e = NULL;
    switch (rec->body_case) {
    case CAIRN__V1__RECORD__BODY_EVENT:
        e = rec->event->correlation ? rec->event->correlation->environment : NULL;
        break;
    case CAIRN__V1__RECORD__BODY_VERDICT:
        e = rec->verdict->environment;
        break;
    case CAIRN__V1__RECORD__BODY_ALERT:
        for (size_t i = 0; i < rec->alert->n_labels && !e; i++) {
            const Cairn__V1__Alert__LabelsEntry *l = rec->alert->labels[i];
            if (l->key && strcmp(l->key, "environment") == 0)
                e = l->value;
        }
        break;
    default:
        break;
    }
    return e ? e : "";
}

const char *cairn_decision_name(Cairn__V1__Decision d)
{
    switch (d) {
    case CAIRN__V1__DECISION__DECISION_ALLOW: return "allow";
    case CAIRN__V1__DECISION__DECISION_DENY: return "deny";
    case CAIRN__V1__DECISION__DECISION_PENDING: return "pending";
    case CAIRN__V1__DECISION__DECISION_MANUAL: return "manual";
    default: return "unspecified";
    }
}
