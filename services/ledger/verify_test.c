/* Tests for the offline verifier on real stores: a clean log verifies, and
 * each kind of rewrite at rest is found at the first entry it breaks. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/bundle.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "layout.h"
#include "store.h"
#include "testutil.h"
#include "verify.h"

/* Per-test state: a directory holding a closed store of 20 entries. */
typedef struct {
    char dir[64];                /* mkdtemp directory */
    cairn_note_signer_t *signer; /* the key that signed its checkpoints */
} s_fixture_t;

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    lt_mkdtemp(f->dir, "cairn-ledger-verify");
    f->signer = lt_signer(LT_ORIGIN, 3);
    cairn_ledger_store_t *store = NULL;
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, f->signer, &store), 0);
    for (int i = 0; i < 4; i++)
        lt_append_batch(store, 5, i % 2 ? "CHG-1" : "CHG-2");
    cairn_ledger_store_destroy(&store);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_note_signer_destroy(&f->signer);
    lt_rmtree(f->dir);
    free(f);
    return 0;
}

static char *s_vkey(const cairn_note_signer_t *signer)
{
    char *vkey = NULL;
    assert_int_equal(cairn_note_signer_vkey(signer, &vkey), 0);
    return vkey;
}

static void test_an_untouched_log_verifies_with_its_vkey(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_verify_report_t rep;
    char *vkey = s_vkey(f->signer);
    assert_int_equal(cairn_ledger_verify(f->dir, vkey, &rep), 0);
    assert_int_equal(rep.size, 20);
    assert_int_equal(rep.checkpoints, 5); /* the empty tree and one per batch */
    assert_int_equal(rep.payloads, 20);
    assert_false(rep.has_bad_index);
    assert_string_equal(rep.reason, "");
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), 0);

    /* Another key did not sign it. */
    cairn_note_signer_t *other = lt_signer(LT_ORIGIN, 4);
    char *other_vkey = s_vkey(other);
    assert_int_equal(cairn_ledger_verify(f->dir, other_vkey, &rep), CAIRN_EINTEGRITY);
    assert_non_null(strstr(rep.reason, "not signed by a known key"));
    free(other_vkey);
    cairn_note_signer_destroy(&other);
    free(vkey);
}

static void test_a_flipped_leaf_is_named_by_its_index(void **state)
{
    s_fixture_t *f = *state;
    lt_flip_record(f->dir, 7, LT_PART_LEAF, -2);
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_EINTEGRITY);
    assert_true(rep.has_bad_index);
    assert_int_equal(rep.bad_index, 7);
    assert_non_null(strstr(rep.reason, "entry 7"));
}

static void test_a_record_whose_header_lies_is_named_by_its_index(void **state)
{
    s_fixture_t *f = *state;
    uint8_t key[8];
    cairn_u64_to_key(5, key);
    lt_flip(f->dir, "entries", key, 8, 0); /* entry 5 holds 2 hashes; now it says 3 */
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_EINTEGRITY);
    assert_true(rep.has_bad_index);
    assert_int_equal(rep.bad_index, 5);
    assert_non_null(strstr(rep.reason, "entry 5: record header"));
    lt_flip(f->dir, "entries", key, 8, 0);
    lt_flip(f->dir, "entries", key, 8, 4); /* the leaf length, one byte longer */
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_EINTEGRITY);
    assert_int_equal(rep.bad_index, 5);
}

static void test_a_rewritten_payload_is_named_by_its_entry(void **state)
{
    s_fixture_t *f = *state;
    lt_flip_record(f->dir, 12, LT_PART_PAYLOAD, 3);

    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_EINTEGRITY);
    assert_true(rep.has_bad_index);
    assert_int_equal(rep.bad_index, 12);
    assert_non_null(strstr(rep.reason, "payload"));
}

static void test_a_flipped_tree_node_is_named_by_the_first_entry_it_covers(void **state)
{
    s_fixture_t *f = *state;
    /* Level 2 of entry 11's record: the subtree of entries 8..11. */
    lt_flip_record(f->dir, 11, LT_PART_HASHES, 2 * 32 + 31);
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_EINTEGRITY);
    assert_true(rep.has_bad_index);
    assert_int_equal(rep.bad_index, 8);
    assert_non_null(strstr(rep.reason, "8..11"));
}

static void test_a_forged_checkpoint_fails_verification(void **state)
{
    s_fixture_t *f = *state;
    uint8_t key[8];
    cairn_u64_to_key(10, key);
    lt_flip(f->dir, "checkpoints", key, 8, -4);
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_EINTEGRITY);
    assert_true(rep.has_bad_index);
    assert_int_equal(rep.bad_index, 9);
    assert_non_null(strstr(rep.reason, "checkpoint of size 10"));
}

static void test_checkpoints_of_a_rotated_key_stay_verifiable(void **state)
{
    s_fixture_t *f = *state;
    cairn_note_signer_t *rotated = lt_signer(LT_ORIGIN, 5);
    cairn_ledger_store_t *store = NULL;
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, rotated, &store), 0);
    lt_append_batch(store, 3, "CHG-1");
    cairn_ledger_store_destroy(&store);

    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), 0);
    assert_int_equal(rep.checkpoints, 6);
    /* Each key alone verifies only its own checkpoints. */
    char *old_vkey = s_vkey(f->signer), *new_vkey = s_vkey(rotated);
    assert_int_equal(cairn_ledger_verify(f->dir, old_vkey, &rep), CAIRN_EINTEGRITY);
    assert_non_null(strstr(rep.reason, "checkpoint of size 23"));
    assert_int_equal(cairn_ledger_verify(f->dir, new_vkey, &rep), CAIRN_EINTEGRITY);
    assert_non_null(strstr(rep.reason, "checkpoint of size 0"));
    free(old_vkey);
    free(new_vkey);
    cairn_note_signer_destroy(&rotated);
}

static void test_a_directory_that_is_no_ledger_cannot_be_verified(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_verify_report_t rep;
    char path[96];
    snprintf(path, sizeof path, "%s/missing", f->dir);
    int rc = cairn_ledger_verify(path, NULL, &rep);
    assert_true(rc < 0 && rc != CAIRN_EINTEGRITY);
    assert_true(strlen(rep.reason) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_an_untouched_log_verifies_with_its_vkey, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_flipped_leaf_is_named_by_its_index, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_record_whose_header_lies_is_named_by_its_index,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_rewritten_payload_is_named_by_its_entry, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_flipped_tree_node_is_named_by_the_first_entry_it_covers, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_forged_checkpoint_fails_verification, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_checkpoints_of_a_rotated_key_stay_verifiable, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_directory_that_is_no_ledger_cannot_be_verified,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
