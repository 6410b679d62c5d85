/* Protobuf codecs: the only place that packs or unpacks protobuf-c messages.
 * Unpack validates (bounded size, well-formed, required parts present) and
 * returns CAIRN_EPROTO instead of trusting bytes from the bus. */
#ifndef CAIRN_CODEC_H
#define CAIRN_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/v1/alert.pb-c.h"
#include "cairn/v1/event.pb-c.h"
#include "cairn/v1/ingest.pb-c.h"
#include "cairn/v1/ledger.pb-c.h"
#include "cairn/v1/ledger_view.pb-c.h"
#include "cairn/v1/policy.pb-c.h"
#include "cairn/v1/verdict.pb-c.h"

/* Largest message accepted from the bus. */
#define CAIRN_CODEC_MAX_BYTES (64u * 1024u * 1024u)

/* Packs any message into a malloc'd buffer. */
int cairn_codec_pack(const ProtobufCMessage *msg, uint8_t **buf_out, size_t *len_out);

/* Packs into a buffer taken from allocator (freed with it, e.g. an arena's reset). */
int cairn_codec_pack_with(ProtobufCAllocator *allocator, const ProtobufCMessage *msg,
                          uint8_t **buf_out, size_t *len_out);

/* Ledger family. */
int cairn_codec_ledger_request_unpack(const uint8_t *buf, size_t len, Cairn__V1__LedgerRequest **out);
/* The ledger's own reading of a LedgerRequest (ledger_view.proto: each
 * append's record left as the bytes it came in), with the same checks and
 * every part of the message taken from allocator (e.g. an arena); free with
 * cairn_codec_free_with() and the same allocator. */
int cairn_codec_ledger_request_view_unpack_with(ProtobufCAllocator *allocator, const uint8_t *buf,
                                                size_t len, Cairn__V1__LedgerRequestView **out);
int cairn_codec_ledger_reply_unpack(const uint8_t *buf, size_t len, Cairn__V1__LedgerReply **out);
int cairn_codec_entry_unpack(const uint8_t *buf, size_t len, Cairn__V1__Entry **out);
int cairn_codec_record_unpack(const uint8_t *buf, size_t len, Cairn__V1__Record **out);
/* The same checks, the record's parts taken from allocator. */
int cairn_codec_record_unpack_with(ProtobufCAllocator *allocator, const uint8_t *buf, size_t len,
                                   Cairn__V1__Record **out);

/* Policy family. */
int cairn_codec_policy_request_unpack(const uint8_t *buf, size_t len, Cairn__V1__PolicyRequest **out);
int cairn_codec_policy_reply_unpack(const uint8_t *buf, size_t len, Cairn__V1__PolicyReply **out);

/* Ingest family. */
int cairn_codec_submit_request_unpack(const uint8_t *buf, size_t len, Cairn__V1__SubmitRequest **out);
int cairn_codec_submit_reply_unpack(const uint8_t *buf, size_t len, Cairn__V1__SubmitReply **out);

/* Frees anything unpacked above (NULL-safe, sets *msg_p to NULL). */
void cairn_codec_free(ProtobufCMessage **msg_p);
#define CAIRN_CODEC_FREE(pp) cairn_codec_free((ProtobufCMessage **)(pp))
/* Frees what an unpack _with allocator returned (NULL-safe, sets *msg_p to NULL). */
void cairn_codec_free_with(ProtobufCAllocator *allocator, ProtobufCMessage **msg_p);

/* The topic an entry for this record is published under:
 * the event type, "verdict.<gate>", "alert.<kind>", "receipt.<receiver>",
 * "policy.activated", "notify.silence", "notify.ack". */
int cairn_codec_record_topic(const Cairn__V1__Record *rec, char *buf, size_t buflen);

/* The change a record names ("" if none). */
const char *cairn_codec_record_change(const Cairn__V1__Record *rec);

/* The environment a record names ("" if none): an event's
 * correlation.environment, a verdict's environment, an alert's
 * "environment" label. */
const char *cairn_codec_record_environment(const Cairn__V1__Record *rec);

/* "allow", "deny", "pending", "manual", "unspecified". */
const char *cairn_decision_name(Cairn__V1__Decision d);

#endif
