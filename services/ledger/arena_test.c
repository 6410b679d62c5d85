/* Tests for the request arena: aligned, zeroed and lasting memory, growth
 * past a block, what a reset keeps, and protobuf-c decoding and packing on
 * the arena giving the same message and bytes as plain malloc. */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "cairn/codec.h"
#include "cairn/error.h"

static void test_memory_is_aligned_distinct_and_lasts(void **state)
{
    (void)state;
    cairn_ledger_arena_t a = {0};
    unsigned char *ptrs[1000];
    for (size_t i = 0; i < 1000; i++) {
        size_t size = 1 + i % 97;
        ptrs[i] = cairn_ledger_arena_alloc(&a, size);
        assert_non_null(ptrs[i]);
        assert_int_equal((uintptr_t)ptrs[i] % alignof(max_align_t), 0);
        memset(ptrs[i], (int)(i & 0xff), size);
    }
    /* a big one goes past the first block; the small ones are untouched */
    unsigned char *big = cairn_ledger_arena_alloc(&a, 3 * CAIRN_LEDGER_ARENA_BLOCK_BYTES);
    assert_non_null(big);
    memset(big, 0xee, 3 * CAIRN_LEDGER_ARENA_BLOCK_BYTES);
    for (size_t i = 0; i < 1000; i++)
        for (size_t k = 0; k < 1 + i % 97; k++)
            assert_int_equal(ptrs[i][k], i & 0xff);
    unsigned char *z = cairn_ledger_arena_calloc(&a, 100, 7);
    assert_non_null(z);
    for (size_t k = 0; k < 700; k++)
        assert_int_equal(z[k], 0);
    assert_null(cairn_ledger_arena_calloc(&a, SIZE_MAX / 2, 4));
    assert_null(cairn_ledger_arena_alloc(&a, SIZE_MAX));
    cairn_ledger_arena_free_all(&a);
    assert_null(a.blocks);
}

static void test_a_reset_keeps_one_block_sized_for_the_batch(void **state)
{
    (void)state;
    cairn_ledger_arena_t a = {0};
    for (int i = 0; i < 300; i++)
        assert_non_null(cairn_ledger_arena_alloc(&a, 1000));
    assert_non_null(a.blocks);
    cairn_ledger_arena_reset(&a);
    /* one block big enough for all 300 KB: the next batch allocates nothing */
    assert_non_null(a.blocks);
    void *first = a.blocks;
    for (int i = 0; i < 300; i++)
        assert_non_null(cairn_ledger_arena_alloc(&a, 1000));
    assert_ptr_equal(a.blocks, first);
    cairn_ledger_arena_reset(&a);
    assert_ptr_equal(a.blocks, first);
    assert_int_equal(a.used, 0);
    /* a huge batch is not kept whole */
    assert_non_null(cairn_ledger_arena_alloc(&a, 2 * CAIRN_LEDGER_ARENA_KEEP_BYTES));
    cairn_ledger_arena_reset(&a);
    assert_non_null(a.blocks);
    assert_true(a.blocks != first || a.used == 0);
    assert_non_null(cairn_ledger_arena_alloc(&a, CAIRN_LEDGER_ARENA_KEEP_BYTES));
    void *kept = a.blocks;
    cairn_ledger_arena_reset(&a);
    assert_ptr_equal(a.blocks, kept);
    cairn_ledger_arena_free_all(&a);
    cairn_ledger_arena_reset(&a); /* an empty arena */
    assert_null(a.blocks);
}

/* A request with a batch of appends, packed with plain malloc. */
static void s_request(uint8_t **buf, size_t *len)
{
    Cairn__V1__Event ev[3];
    Cairn__V1__Record rec[3];
    Cairn__V1__AppendRequest app[3], *apps[3];
    char key[3][16];
    for (int i = 0; i < 3; i++) {
        cairn__v1__event__init(&ev[i]);
        ev[i].type = "dev.cdevents.change.merged.0.2.0";
        ev[i].id = key[i];
        cairn__v1__record__init(&rec[i]);
        rec[i].body_case = CAIRN__V1__RECORD__BODY_EVENT;
        rec[i].event = &ev[i];
        cairn__v1__append_request__init(&app[i]);
        snprintf(key[i], sizeof key[i], "key-%d", i);
        app[i].key = key[i];
        app[i].record = &rec[i];
        apps[i] = &app[i];
    }
    Cairn__V1__AppendBatchRequest batch = CAIRN__V1__APPEND_BATCH_REQUEST__INIT;
    batch.n_appends = 3;
    batch.appends = apps;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND_BATCH;
    req.append_batch = &batch;
    assert_int_equal(cairn_codec_pack(&req.base, buf, len), 0);
}

static void test_protobuf_on_the_arena_matches_malloc(void **state)
{
    (void)state;
    uint8_t *buf = NULL;
    size_t len = 0;
    s_request(&buf, &len);
    cairn_ledger_arena_t a = {0};
    for (int round = 0; round < 3; round++) {
        Cairn__V1__LedgerRequest *plain = NULL;
        Cairn__V1__LedgerRequestView *on = NULL;
        assert_int_equal(cairn_codec_ledger_request_unpack(buf, len, &plain), 0);
        assert_int_equal(cairn_codec_ledger_request_view_unpack_with(
                             cairn_ledger_arena_allocator(&a), buf, len, &on),
                         0);
        assert_int_equal(on->append_batch->n_appends, 3);
        for (size_t i = 0; i < 3; i++) {
            Cairn__V1__AppendRequest *p = plain->append_batch->appends[i];
            Cairn__V1__AppendRequestView *q = on->append_batch->appends[i];
            assert_string_equal(p->key, q->key);
            assert_int_equal(q->n_record, 1);
            /* the record's bytes as they came, and decoded on the arena */
            uint8_t *pb = NULL, *qb = NULL;
            size_t pl = 0, ql = 0;
            Cairn__V1__Record *rec = NULL;
            assert_int_equal(cairn_codec_pack(&p->record->base, &pb, &pl), 0);
            assert_int_equal(pl, q->record[0].len);
            assert_memory_equal(pb, q->record[0].data, pl);
            assert_int_equal(cairn_codec_record_unpack_with(cairn_ledger_arena_allocator(&a),
                                                            q->record[0].data, q->record[0].len,
                                                            &rec),
                             0);
            assert_int_equal(
                cairn_codec_pack_with(cairn_ledger_arena_allocator(&a), &rec->base, &qb, &ql), 0);
            assert_int_equal(pl, ql);
            assert_memory_equal(pb, qb, pl);
            free(pb);
        }
        /* the checks still apply: garbage and a field 0 (overlong tag) are refused */
        Cairn__V1__LedgerRequestView *bad = NULL;
        static const uint8_t garbage[] = {0x0a, 0x7f, 0x01};
        static const uint8_t field_zero[] = {0x80, 0x00, 0x01};
        assert_int_equal(cairn_codec_ledger_request_view_unpack_with(
                             cairn_ledger_arena_allocator(&a), garbage, sizeof garbage, &bad),
                         CAIRN_EPROTO);
        assert_int_equal(cairn_codec_ledger_request_view_unpack_with(
                             cairn_ledger_arena_allocator(&a), field_zero, sizeof field_zero, &bad),
                         CAIRN_EPROTO);
        assert_null(bad);
        cairn_codec_free_with(cairn_ledger_arena_allocator(&a), (ProtobufCMessage **)&on);
        assert_null(on);
        CAIRN_CODEC_FREE(&plain);
        cairn_ledger_arena_reset(&a);
    }
    cairn_ledger_arena_free_all(&a);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_is_aligned_distinct_and_lasts),
        cmocka_unit_test(test_a_reset_keeps_one_block_sized_for_the_batch),
        cmocka_unit_test(test_protobuf_on_the_arena_matches_malloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
