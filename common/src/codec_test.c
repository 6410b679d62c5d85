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
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(records_round_trip_and_name_their_topic),
        cmocka_unit_test(garbage_bytes_are_a_protocol_error),
        cmocka_unit_test(a_field_numbered_zero_is_a_protocol_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
