/* Tests for the protobuf codecs: round trips, topics, and hostile bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"
#include "cairn/error.h"

static void records_round_trip_and_name_their_topic(void **state)
{
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    ev.id = "e1";
    ev.source = "/ci";
    ev.type = "dev.cdevents.change.created.0.4.0";
    corr.change_id = "CHG-1";
    ev.correlation = &corr;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(cairn_codec_pack(&rec.base, &buf, &len), 0);
    Cairn__V1__Record *back = NULL;
    assert_int_equal(cairn_codec_record_unpack(buf, len, &back), 0);
    assert_string_equal(back->event->id, "e1");
    char topic[128];
    assert_int_equal(cairn_codec_record_topic(back, topic, sizeof topic), 0);
    assert_string_equal(topic, "dev.cdevents.change.created.0.4.0");
    assert_string_equal(cairn_codec_record_change(back), "CHG-1");
    CAIRN_CODEC_FREE(&back);
    assert_null(back);
    free(buf);

    Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
    v.gate = "deployment";
    v.change_id = "CHG-2";
    rec.body_case = CAIRN__V1__RECORD__BODY_VERDICT;
    rec.verdict = &v;
    assert_int_equal(cairn_codec_record_topic(&rec, topic, sizeof topic), 0);
    assert_string_equal(topic, "verdict.deployment");
    assert_string_equal(cairn_codec_record_change(&rec), "CHG-2");
    assert_int_equal(cairn_codec_record_topic(&rec, topic, 5), CAIRN_ETOOLARGE);
    rec.body_case = CAIRN__V1__RECORD__BODY__NOT_SET;
    assert_int_equal(cairn_codec_record_topic(&rec, topic, sizeof topic), CAIRN_EINVALID);
}

static void records_name_their_environment(void **state)
{
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    assert_string_equal(cairn_codec_record_environment(&rec), "");
    ev.correlation = &corr;
    corr.environment = "prod";
    assert_string_equal(cairn_codec_record_environment(&rec), "prod");

    Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
    v.environment = "staging";
    rec.body_case = CAIRN__V1__RECORD__BODY_VERDICT;
    rec.verdict = &v;
    assert_string_equal(cairn_codec_record_environment(&rec), "staging");

    Cairn__V1__Alert a = CAIRN__V1__ALERT__INIT;
    Cairn__V1__Alert__LabelsEntry l1 = CAIRN__V1__ALERT__LABELS_ENTRY__INIT;
    Cairn__V1__Alert__LabelsEntry l2 = CAIRN__V1__ALERT__LABELS_ENTRY__INIT;
    Cairn__V1__Alert__LabelsEntry *labels[] = {&l1, &l2};
    l1.key = "change";
    l1.value = "CHG-1";
    l2.key = "environment";
    l2.value = "dev";
    rec.body_case = CAIRN__V1__RECORD__BODY_ALERT;
    rec.alert = &a;
    assert_string_equal(cairn_codec_record_environment(&rec), "");
    a.labels = labels;
    a.n_labels = 2;
    assert_string_equal(cairn_codec_record_environment(&rec), "dev");

    rec.body_case = CAIRN__V1__RECORD__BODY__NOT_SET;
    assert_string_equal(cairn_codec_record_environment(&rec), "");
}

static void garbage_bytes_are_a_protocol_error(void **state)
{
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a, 0x80};
    Cairn__V1__LedgerRequest *req = NULL;
    assert_int_equal(cairn_codec_ledger_request_unpack(junk, sizeof junk, &req), CAIRN_EPROTO);
    assert_null(req);
    /* A length prefix that promises more than is there. */
    const uint8_t truncated[] = {0x0a, 0x7f, 0x01};
    assert_int_equal(cairn_codec_ledger_request_unpack(truncated, sizeof truncated, &req),
                     CAIRN_EPROTO);
    assert_int_equal(cairn_decision_name(CAIRN__V1__DECISION__DECISION_DENY)[0], 'd');
}

static void a_field_numbered_zero_is_a_protocol_error(void **state)
{
    /* Tag 0x81 0x00 is field 0 (wire type 1) written in two bytes; protobuf-c
     * would keep it and re-encode it as bytes it cannot decode. Nested in an
     * append's record, too. */
    const uint8_t top[] = {0x81, 0x00, 1, 2, 3, 4, 5, 6, 7, 8};
    const uint8_t nested[] = {0x0a, 0x0e, 0x12, 0x0c, 0x0a, 0x0a, 0x81, 0x00,
                              1,    2,    3,    4,    5,    6,    7,    8};
    Cairn__V1__Record *rec = NULL;
    Cairn__V1__LedgerRequest *req = NULL;
    assert_int_equal(cairn_codec_record_unpack(top, sizeof top, &rec), CAIRN_EPROTO);
    assert_null(rec);
    assert_int_equal(cairn_codec_ledger_request_unpack(nested, sizeof nested, &req), CAIRN_EPROTO);
    assert_null(req);
    /* The same bytes without the bad field decode. */
    const uint8_t fine[] = {0x0a, 0x04, 0x12, 0x02, 0x0a, 0x00};
    assert_int_equal(cairn_codec_ledger_request_unpack(fine, sizeof fine, &req), 0);
    assert_int_equal(req->body_case, CAIRN__V1__LEDGER_REQUEST__BODY_APPEND);
    CAIRN_CODEC_FREE(&req);
    /* The ledger's view of the request keeps the record as bytes: the check
     * applies when the record itself is decoded. */
    Cairn__V1__LedgerRequestView *view = NULL;
    assert_int_equal(
        cairn_codec_ledger_request_view_unpack_with(NULL, nested, sizeof nested, &view), 0);
    assert_int_equal(view->append->n_record, 1);
    assert_int_equal(cairn_codec_record_unpack_with(NULL, view->append->record[0].data,
                                                    view->append->record[0].len, &rec),
                     CAIRN_EPROTO);
    assert_null(rec);
    cairn_codec_free_with(NULL, (ProtobufCMessage **)&view);
}

/* view has real's fields (names, numbers, oneof, types), except the
 * ledger_view.proto messages in place of the append requests and the
 * record as bytes. */
static void s_assert_same_fields(const ProtobufCMessageDescriptor *real,
                                 const ProtobufCMessageDescriptor *view)
{
    assert_int_equal(real->n_fields, view->n_fields);
    for (unsigned i = 0; i < real->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &real->fields[i], *g = &view->fields[i];
        assert_string_equal(f->name, g->name);
        assert_int_equal(f->id, g->id);
        assert_int_equal(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF,
                         g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
        if (f->descriptor == &cairn__v1__append_request__descriptor) {
            assert_ptr_equal(g->descriptor, &cairn__v1__append_request_view__descriptor);
            s_assert_same_fields(f->descriptor, g->descriptor);
        } else if (f->descriptor == &cairn__v1__append_batch_request__descriptor) {
            assert_ptr_equal(g->descriptor, &cairn__v1__append_batch_request_view__descriptor);
            s_assert_same_fields(f->descriptor, g->descriptor);
        } else if (f->descriptor == &cairn__v1__record__descriptor) {
            /* the record as bytes: the same wire type (length-delimited) */
            assert_int_equal(g->type, PROTOBUF_C_TYPE_BYTES);
            assert_int_equal(g->label, PROTOBUF_C_LABEL_REPEATED);
        } else {
            assert_int_equal(f->label, g->label);
            assert_int_equal(f->type, g->type);
            assert_ptr_equal(f->descriptor, g->descriptor);
        }
    }
}

static void the_ledgers_view_of_a_request_matches_the_protocol(void **state)
{
    s_assert_same_fields(&cairn__v1__ledger_request__descriptor,
                         &cairn__v1__ledger_request_view__descriptor);
}

static void a_view_keeps_each_record_as_it_came(void **state)
{
    Cairn__V1__Event ev[2] = {CAIRN__V1__EVENT__INIT, CAIRN__V1__EVENT__INIT};
    Cairn__V1__Record rec[2] = {CAIRN__V1__RECORD__INIT, CAIRN__V1__RECORD__INIT};
    Cairn__V1__AppendRequest app[2] = {CAIRN__V1__APPEND_REQUEST__INIT,
                                       CAIRN__V1__APPEND_REQUEST__INIT};
    Cairn__V1__AppendRequest *apps[2] = {&app[0], &app[1]};
    char *keys[2] = {"k0", "k1"}, *types[2] = {"dev.cdevents.build.started.0.2.0", "t"};
    for (int i = 0; i < 2; i++) {
        ev[i].type = types[i];
        rec[i].body_case = CAIRN__V1__RECORD__BODY_EVENT;
        rec[i].event = &ev[i];
        app[i].key = keys[i];
        app[i].record = &rec[i];
    }
    Cairn__V1__AppendBatchRequest batch = CAIRN__V1__APPEND_BATCH_REQUEST__INIT;
    batch.n_appends = 2;
    batch.appends = apps;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND_BATCH;
    req.append_batch = &batch;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(cairn_codec_pack(&req.base, &buf, &len), 0);
    Cairn__V1__LedgerRequestView *view = NULL;
    assert_int_equal(cairn_codec_ledger_request_view_unpack_with(NULL, buf, len, &view), 0);
    assert_int_equal(view->body_case, CAIRN__V1__LEDGER_REQUEST_VIEW__BODY_APPEND_BATCH);
    assert_int_equal(view->append_batch->n_appends, 2);
    for (int i = 0; i < 2; i++) {
        const Cairn__V1__AppendRequestView *a = view->append_batch->appends[i];
        uint8_t *packed = NULL;
        size_t packed_len = 0;
        assert_int_equal(cairn_codec_pack(&rec[i].base, &packed, &packed_len), 0);
        assert_string_equal(a->key, keys[i]);
        assert_int_equal(a->n_record, 1);
        assert_int_equal(a->record[0].len, packed_len);
        assert_memory_equal(a->record[0].data, packed, packed_len);
        Cairn__V1__Record *back = NULL;
        assert_int_equal(
            cairn_codec_record_unpack_with(NULL, a->record[0].data, a->record[0].len, &back), 0);
        assert_string_equal(back->event->type, types[i]);
        cairn_codec_free_with(NULL, (ProtobufCMessage **)&back);
        free(packed);
    }
    cairn_codec_free_with(NULL, (ProtobufCMessage **)&view);
    assert_null(view);
    free(buf);

    /* An append whose record field occurs twice (a decoder of AppendRequest
     * would merge them) shows both; no append: none. */
    const uint8_t twice[] = {0x0a, 0x08, 0x12, 0x02, 0x0a, 0x00, 0x12, 0x02, 0x0a, 0x00};
    assert_int_equal(cairn_codec_ledger_request_view_unpack_with(NULL, twice, sizeof twice, &view),
                     0);
    assert_int_equal(view->append->n_record, 2);
    cairn_codec_free_with(NULL, (ProtobufCMessage **)&view);
    const uint8_t empty[] = {0x0a, 0x00};
    assert_int_equal(cairn_codec_ledger_request_view_unpack_with(NULL, empty, sizeof empty, &view),
                     0);
    assert_int_equal(view->append->n_record, 0);
    cairn_codec_free_with(NULL, (ProtobufCMessage **)&view);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(records_round_trip_and_name_their_topic),
        cmocka_unit_test(records_name_their_environment),
        cmocka_unit_test(garbage_bytes_are_a_protocol_error),
        cmocka_unit_test(a_field_numbered_zero_is_a_protocol_error),
        cmocka_unit_test(the_ledgers_view_of_a_request_matches_the_protocol),
        cmocka_unit_test(a_view_keeps_each_record_as_it_came),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
