/* Tests for receipt text: byte-for-byte the same as cairn_tlog_proof_format()
 * with and without the cache, however proofs follow one another. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cairn/error.h"
#include "cairn/merkle.h"
#include "cairn/note.h"
#include "receipt.h"

static const char s_note[] =
    "cairn.local/ledger\n42\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    "\n\xe2\x80\x94 cairn.local/ledger ZnrN7kGKw4iqy6Dmb6mpAucesa+JCvyrfl+"
    "Ti5uUmToL5rE9LldvhQYciis0RuxtjiZJ0rsPy0qHu8euL/4/AOjb2wE=\n";

/* Formats with both functions and checks the texts are the same bytes. */
static void s_assert_same(cairn_ledger_receipt_cache_t *cache, uint64_t index, const uint8_t *proof,
                          size_t count)
{
    char *want = NULL, *got = NULL;
    size_t want_len = 0, got_len = 0;
    assert_int_equal(cairn_tlog_proof_format(NULL, 0, index, proof, count, s_note, strlen(s_note),
                                             &want, &want_len),
                     0);
    assert_int_equal(cairn_ledger_receipt_format(cache, index, proof, count, s_note, strlen(s_note),
                                                 &got, &got_len),
                     0);
    assert_int_equal(got_len, want_len);
    assert_int_equal(strlen(got), got_len);
    assert_memory_equal(got, want, want_len);
    free(want);
    free(got);
}

static void test_receipt_text_matches_the_common_formatter(void **state)
{
    (void)state;
    uint8_t proof[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
    randombytes_buf(proof, sizeof proof);
    s_assert_same(NULL, 0, proof, 0);
    s_assert_same(NULL, 7, proof, 1);
    s_assert_same(NULL, UINT64_MAX - 1, proof, CAIRN_MERKLE_MAX_PROOF);
}

static void test_cached_receipts_follow_every_change_of_hash(void **state)
{
    (void)state;
    cairn_ledger_receipt_cache_t cache;
    memset(&cache, 0, sizeof cache);
    uint8_t proof[21 * CAIRN_HASH_BYTES];
    randombytes_buf(proof, sizeof proof);
    /* Neighbouring leaves: position i changes every 2^i receipts, as in a batch. */
    for (uint64_t index = 1000; index < 1300; index++) {
        for (size_t i = 0; i < 21; i++)
            if (index % (1u << (i < 16 ? i : 16)) == 0)
                randombytes_buf(proof + i * CAIRN_HASH_BYTES, CAIRN_HASH_BYTES);
        s_assert_same(&cache, index, proof, 21);
    }
    /* A change of one byte in a cached position is encoded anew. */
    proof[5 * CAIRN_HASH_BYTES + 31] ^= 1;
    s_assert_same(&cache, 1300, proof, 21);
    /* Shorter and longer proofs against the same cache. */
    s_assert_same(&cache, 3, proof, 2);
    s_assert_same(&cache, 4, proof + CAIRN_HASH_BYTES, 20);
}

static void test_receipt_written_into_a_buffer_is_the_same_text(void **state)
{
    (void)state;
    cairn_ledger_receipt_cache_t cache;
    memset(&cache, 0, sizeof cache);
    uint8_t proof[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
    randombytes_buf(proof, sizeof proof);
    const uint64_t indexes[] = {0, 9, UINT64_MAX};
    for (size_t k = 0; k < 3; k++) {
        for (size_t count = 0; count <= CAIRN_MERKLE_MAX_PROOF; count += 7) {
            size_t cap = cairn_ledger_receipt_cap(count, strlen(s_note)), want_len = 0, len = 0;
            char *want = NULL, *buf = malloc(cap);
            assert_non_null(buf);
            assert_int_equal(cairn_tlog_proof_format(NULL, 0, indexes[k], proof, count, s_note,
                                                     strlen(s_note), &want, &want_len),
                             0);
            assert_int_equal(cairn_ledger_receipt_write(&cache, indexes[k], proof, count, s_note,
                                                        strlen(s_note), buf, cap, &len),
                             0);
            assert_true(len < cap);
            assert_int_equal(len, want_len);
            assert_memory_equal(buf, want, want_len);
            /* One byte short of the bound is refused, nothing written past it. */
            assert_int_equal(cairn_ledger_receipt_write(&cache, indexes[k], proof, count, s_note,
                                                        strlen(s_note), buf, cap - 1, &len),
                             CAIRN_EINVALID);
            free(want);
            free(buf);
        }
    }
}

static void test_receipt_refuses_bad_arguments(void **state)
{
    (void)state;
    uint8_t proof[CAIRN_HASH_BYTES] = {0};
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(cairn_ledger_receipt_format(NULL, 0, proof, CAIRN_MERKLE_MAX_PROOF + 1, s_note,
                                                 strlen(s_note), &text, &len),
                     CAIRN_EINVALID);
    assert_int_equal(cairn_ledger_receipt_format(NULL, 0, proof, 1, s_note, 0, &text, &len),
                     CAIRN_EINVALID);
    assert_int_equal(
        cairn_ledger_receipt_format(NULL, 0, NULL, 1, s_note, strlen(s_note), &text, &len),
        CAIRN_EINVALID);
    assert_null(text);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_receipt_text_matches_the_common_formatter),
        cmocka_unit_test(test_cached_receipts_follow_every_change_of_hash),
        cmocka_unit_test(test_receipt_refuses_bad_arguments),
        cmocka_unit_test(test_receipt_written_into_a_buffer_is_the_same_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
