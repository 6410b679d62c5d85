/* Decoding bus payloads as every accepted message type; see codec_check.h. */
#include "codec_check.h"

#include <stdlib.h>
#include <string.h>

#include "cairn/bundle.h"
#include "cairn/codec.h"
#include "cairn/note.h"

/* pack(m) must unpack again, and pack to the same bytes a second time. */
static void s_roundtrip(const ProtobufCMessage *m)
{
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0;
    if (cairn_codec_pack(m, &a, &alen) != 0)
        abort();
    ProtobufCMessage *again = protobuf_c_message_unpack(m->descriptor, NULL, alen, a);
    if (!again || cairn_codec_pack(again, &b, &blen) != 0 || alen != blen ||
        memcmp(a, b, alen) != 0)
        abort();
    protobuf_c_message_free_unpacked(again, NULL);
    free(a);
    free(b);
}

static void s_record(const Cairn__V1__Record *rec)
{
    char topic[512];
    (void)cairn_codec_record_topic(rec, topic, sizeof topic);
    if (!cairn_codec_record_change(rec))
        abort();
}

static void s_record_bytes(const uint8_t *buf, size_t len)
{
    Cairn__V1__Record *rec = NULL;
    if (cairn_codec_record_unpack(buf, len, &rec) == 0)
        s_record(rec);
    CAIRN_CODEC_FREE(&rec);
}

static void s_leaf_bytes(const uint8_t *buf, size_t len)
{
    cairn_leaf_t leaf = {0};
    (void)cairn_leaf_parse(buf, len, &leaf);
    cairn_leaf_clear(&leaf);
}

static void s_entry(const Cairn__V1__Entry *e)
{
    s_record_bytes(e->record.data, e->record.len);
    s_leaf_bytes(e->leaf.data, e->leaf.len);
}

static void s_tlog_proof(const char *text)
{
    if (!text || !*text)
        return;
    cairn_tlog_proof_t *proof = calloc(1, sizeof *proof); /* large: keep it off the stack */
    if (!proof)
        abort();
    (void)cairn_tlog_proof_parse(text, strlen(text), proof);
    cairn_tlog_proof_clear(proof);
    free(proof);
}

static void s_ack(const Cairn__V1__AppendAck *ack)
{
    if (ack)
        s_tlog_proof(ack->tlog_proof);
}

static void s_ledger_request(const Cairn__V1__LedgerRequest *req)
{
    if (req->body_case == CAIRN__V1__LEDGER_REQUEST__BODY_APPEND && req->append->record)
        s_record(req->append->record);
    if (req->body_case == CAIRN__V1__LEDGER_REQUEST__BODY_APPEND_BATCH)
        for (size_t i = 0; i < req->append_batch->n_appends; i++)
            if (req->append_batch->appends[i]->record)
                s_record(req->append_batch->appends[i]->record);
}

/* pack(m) to a buffer the caller frees. */
static uint8_t *s_packed(const ProtobufCMessage *m, size_t *len)
{
    uint8_t *buf = NULL;
    if (cairn_codec_pack(m, &buf, len) != 0)
        abort();
    return buf;
}

/* One append as the ledger reads it (the record's bytes) against the same
 * append decoded whole: the same key, and the record decodes from those
 * bytes to what the whole decode holds. (A record field that occurs more
 * than once, which the whole decode merges, the ledger refuses.) */
static void s_same_append(const Cairn__V1__AppendRequestView *v, const Cairn__V1__AppendRequest *a)
{
    if (strcmp(v->key, a->key) != 0 || (v->n_record == 0) != !a->record)
        abort();
    if (v->n_record != 1)
        return;
    Cairn__V1__Record *rec = NULL;
    if (cairn_codec_record_unpack(v->record[0].data, v->record[0].len, &rec) != 0)
        abort();
    size_t la = 0, lb = 0;
    uint8_t *pa = s_packed(&a->record->base, &la), *pb = s_packed(&rec->base, &lb);
    if (la != lb || memcmp(pa, pb, la) != 0)
        abort();
    free(pa);
    free(pb);
    CAIRN_CODEC_FREE(&rec);
}

/* The ledger's view of a request (ledger_view.proto): each record it would
 * store decodes on its own as the ledger decodes it, and a request that
 * decodes whole reads the same through the view: the same operation, and
 * each append's key and record. (The view may accept a little more: the
 * bytes of a record a later field replaces are never decoded.) */
static void s_ledger_request_view(const Cairn__V1__LedgerRequestView *view, const uint8_t *data,
                                  size_t size)
{
    const Cairn__V1__AppendRequestView *one = view->append, *const *list = &one;
    size_t n = 0;
    if (view->body_case == CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND) {
        n = 1;
    } else if (view->body_case == CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND_BATCH) {
        list = (const Cairn__V1__AppendRequestView *const *)view->append_batch->appends;
        n = view->append_batch->n_appends;
    }
    for (size_t i = 0; i < n; i++)
        if (list[i]->n_record == 1)
            s_record_bytes(list[i]->record[0].data, list[i]->record[0].len);

    Cairn__V1__LedgerRequest *whole = NULL;
    if (cairn_codec_ledger_request_unpack(data, size, &whole) != 0)
        return;
    if ((int)whole->body_case != (int)view->body_case)
        abort();
    if (view->body_case == CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND)
        s_same_append(view->append, whole->append);
    if (view->body_case == CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND_BATCH) {
        if (whole->append_batch->n_appends != n)
            abort();
        for (size_t i = 0; i < n; i++)
            s_same_append(list[i], whole->append_batch->appends[i]);
    }
    CAIRN_CODEC_FREE(&whole);
}

static void s_ledger_reply(const Cairn__V1__LedgerReply *rep)
{
    s_ack(rep->ack);
    for (size_t i = 0; i < rep->n_entries; i++)
        s_entry(rep->entries[i]);
    for (size_t i = 0; i < rep->n_results; i++)
        s_ack(rep->results[i]->ack);
    if (rep->checkpoint && rep->checkpoint->note) {
        cairn_checkpoint_t cp = {0};
        const char *note = rep->checkpoint->note;
        size_t len = strlen(note), blank = 0;
        for (size_t i = 1; i < len; i++)
            if (note[i - 1] == '\n' && note[i] == '\n')
                blank = i; /* the text ends at the last blank line */
        if (blank)
            (void)cairn_checkpoint_parse(note, blank, &cp);
        cairn_checkpoint_clear(&cp);
    }
    if (rep->checkpoint && rep->checkpoint->vkey) {
        cairn_note_verifier_t *v = NULL;
        (void)cairn_note_verifier_parse(rep->checkpoint->vkey, &v);
        cairn_note_verifier_destroy(&v);
    }
}

#define S_TRY(unpack, type, then)                                                                  \
    do {                                                                                           \
        type *m = NULL;                                                                            \
        if (unpack(data, size, &m) == 0) {                                                         \
            if (!m)                                                                                \
                abort();                                                                           \
            s_roundtrip(&m->base);                                                                 \
            then;                                                                                  \
        }                                                                                          \
        CAIRN_CODEC_FREE(&m);                                                                      \
    } while (0)

/* The bytes through the ledger's view; a request the view refuses must not
 * decode whole either. */
static void s_ledger_request_viewed(const uint8_t *data, size_t size)
{
    Cairn__V1__LedgerRequestView *view = NULL;
    if (cairn_codec_ledger_request_view_unpack_with(NULL, data, size, &view) == 0) {
        s_roundtrip(&view->base);
        s_ledger_request_view(view, data, size);
        cairn_codec_free_with(NULL, (ProtobufCMessage **)&view);
        return;
    }
    Cairn__V1__LedgerRequest *whole = NULL;
    if (cairn_codec_ledger_request_unpack(data, size, &whole) == 0)
        abort();
}

void cairn_fuzz_decode_all(const uint8_t *data, size_t size)
{
    s_ledger_request_viewed(data, size);
    S_TRY(cairn_codec_ledger_request_unpack, Cairn__V1__LedgerRequest, s_ledger_request(m));
    S_TRY(cairn_codec_ledger_reply_unpack, Cairn__V1__LedgerReply, s_ledger_reply(m));
    S_TRY(cairn_codec_entry_unpack, Cairn__V1__Entry, s_entry(m));
    S_TRY(cairn_codec_record_unpack, Cairn__V1__Record, s_record(m));
    S_TRY(cairn_codec_policy_request_unpack, Cairn__V1__PolicyRequest, (void)m);
    S_TRY(cairn_codec_policy_reply_unpack, Cairn__V1__PolicyReply, (void)m);
    S_TRY(cairn_codec_submit_request_unpack, Cairn__V1__SubmitRequest, (void)m);
    S_TRY(cairn_codec_submit_reply_unpack, Cairn__V1__SubmitReply, (void)m);
}
