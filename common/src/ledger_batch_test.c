/* Tests for packing an append_batch request and checking its reply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "cairn/ledger_batch.h"

/* Packs a reply with n results, result `bad` (if < n) without an ack. */
static void s_reply(int status, size_t n, size_t bad, uint8_t **buf, size_t *len)
{
    Cairn__V1__AppendAck ack = CAIRN__V1__APPEND_ACK__INIT;
    Cairn__V1__AppendResult res[4];
    Cairn__V1__AppendResult *ptrs[4];
    Cairn__V1__LedgerReply rep = CAIRN__V1__LEDGER_REPLY__INIT;
    for (size_t i = 0; i < n; i++) {
        cairn__v1__append_result__init(&res[i]);
        res[i].ack = i == bad ? NULL : &ack;
        ptrs[i] = &res[i];
    }
    rep.status = status;
    rep.error = status ? "refused" : "";
    rep.results = ptrs;
    rep.n_results = n;
    assert_int_equal(cairn_codec_pack(&rep.base, buf, len), 0);
}

static void test_a_batch_packs_its_appends_in_order(void **state)
{
    (void)state;
    Cairn__V1__AppendRequest a = CAIRN__V1__APPEND_REQUEST__INIT, b = a;
    a.key = "first";
    b.key = "second";
    const Cairn__V1__AppendRequest *appends[] = {&a, &b};
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(cairn_ledger_batch_pack(appends, 2, &buf, &len), 0);
    Cairn__V1__LedgerRequest *req = NULL;
    assert_int_equal(cairn_codec_ledger_request_unpack(buf, len, &req), 0);
    assert_int_equal(req->body_case, CAIRN__V1__LEDGER_REQUEST__BODY_APPEND_BATCH);
    assert_int_equal(req->append_batch->n_appends, 2);
    assert_string_equal(req->append_batch->appends[0]->key, "first");
    assert_string_equal(req->append_batch->appends[1]->key, "second");
    CAIRN_CODEC_FREE(&req);
    free(buf);
    assert_int_equal(cairn_ledger_batch_pack(appends, 0, &buf, &len), CAIRN_EINVALID);
}

static void test_a_reply_must_answer_every_append(void **state)
{
    (void)state;
    uint8_t *buf = NULL;
    size_t len = 0;
    Cairn__V1__LedgerReply *rep = NULL;
    s_reply(0, 3, 3, &buf, &len);
    assert_int_equal(cairn_ledger_batch_reply_unpack(buf, len, 3, &rep), 0);
    assert_int_equal(rep->n_results, 3);
    CAIRN_CODEC_FREE(&rep);
    /* One result short, or a successful result without an ack, is not a reply. */
    assert_int_equal(cairn_ledger_batch_reply_unpack(buf, len, 4, &rep), CAIRN_EPROTO);
    assert_null(rep);
    free(buf);
    s_reply(0, 3, 1, &buf, &len);
    assert_int_equal(cairn_ledger_batch_reply_unpack(buf, len, 3, &rep), CAIRN_EPROTO);
    free(buf);
    /* A refused request comes back with its status and no results. */
    s_reply(CAIRN_EINVALID, 0, 0, &buf, &len);
    assert_int_equal(cairn_ledger_batch_reply_unpack(buf, len, 3, &rep), 0);
    assert_int_equal(rep->status, CAIRN_EINVALID);
    CAIRN_CODEC_FREE(&rep);
    free(buf);
    static const uint8_t garbage[] = {0xff, 0xff, 0xff};
    assert_int_equal(cairn_ledger_batch_reply_unpack(garbage, sizeof garbage, 1, &rep),
                     CAIRN_EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_batch_packs_its_appends_in_order),
        cmocka_unit_test(test_a_reply_must_answer_every_append),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
