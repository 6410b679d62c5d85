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

/* The time of the entries lt_append_batch writes. */
#define S_T0 1764107400000

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

/* The same store and a batch of four keyed appends of change CHG-3 and
 * release REL-1, one millisecond apart (entries 20..23). */
static int s_setup_rich(void **state)
{
    s_setup(state);
    s_fixture_t *f = *state;
    cairn_ledger_store_t *store = NULL;
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, f->signer, &store), 0);
    assert_int_equal(cairn_ledger_store_begin(store), 0);
    for (int i = 0; i < 4; i++) {
        char key[16], id[16];
        snprintf(key, sizeof key, "k-%d", 20 + i);
        snprintf(id, sizeof id, "r%d", 20 + i);
        cairn_ledger_append_t r = lt_append_in(store, key, "CHG-3", "REL-1", id, S_T0 + i);
        free(r.leaf);
    }
    assert_int_equal(cairn_ledger_store_commit(store), 0);
    cairn_ledger_store_destroy(&store);
    return 0;
}

/* A row keyed or valued by an index or a time. */
static const uint8_t *s_be(uint64_t v, uint8_t buf[8])
{
    cairn_u64_to_key(v, buf);
    return buf;
}

/* Verification fails, naming index (or no entry when index < 0) and saying what. */
static void s_refused(const s_fixture_t *f, long index, const char *what)
{
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_EINTEGRITY);
    if (!strstr(rep.reason, what))
        fail_msg("expected \"%s\" in \"%s\"", what, rep.reason);
    assert_int_equal(rep.has_bad_index, index >= 0);
    if (index >= 0)
        assert_int_equal(rep.bad_index, (uint64_t)index);
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

static void test_a_store_with_keys_and_releases_verifies(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), 0);
    assert_int_equal(rep.size, 24);
}

static void test_a_changed_or_stray_idempotency_key_is_named_by_its_entry(void **state)
{
    s_fixture_t *f = *state;
    uint8_t b[8];
    lt_flip(f->dir, "entry_keys", s_be(21, b), 8, 0);
    s_refused(f, 21, "entry 21: its idempotency key in entry_keys does not hash to the key digest");
    lt_flip(f->dir, "entry_keys", s_be(21, b), 8, 0);
    lt_row(f->dir, "entry_keys", false, s_be(3, b), 8, "k-x", 3);
    s_refused(f, 3, "entry 3: entry_keys holds an idempotency key for it, but its leaf names none");
    lt_row(f->dir, "entry_keys", true, s_be(3, b), 8, NULL, 0);
    lt_row(f->dir, "entry_keys", true, s_be(22, b), 8, NULL, 0);
    s_refused(f, 22, "entry 22: its idempotency key is missing from entry_keys");
}

static void test_a_missing_or_extra_time_row_is_named_by_its_entry(void **state)
{
    s_fixture_t *f = *state;
    uint8_t t[8], b[8];
    lt_row(f->dir, "times", true, s_be(S_T0, t), 8, s_be(5, b), 8);
    s_refused(f, 5, "entry 5: times holds no row for its time 1764107400000");
    lt_row(f->dir, "times", false, s_be(S_T0, t), 8, s_be(5, b), 8);
    lt_row(f->dir, "times", false, s_be(S_T0 + 99, t), 8, s_be(22, b), 8);
    s_refused(f, 22,
              "entry 22: times holds a row for it under time 1764107400099, but its leaf "
              "says 1764107400002");
}

static void test_a_missing_or_stray_lookup_row_is_named_by_its_entry(void **state)
{
    s_fixture_t *f = *state;
    uint8_t b[8], k[64];
    size_t n = (size_t)snprintf((char *)k, sizeof k, "rREL-1");
    lt_row(f->dir, "lookup", true, k, n, s_be(23, b), 8);
    s_refused(f, 23, "entry 23: lookup holds no row for its release");
    lt_row(f->dir, "lookup", false, k, n, s_be(23, b), 8);
    lt_row(f->dir, "lookup", false, k, n, s_be(4, b), 8);
    s_refused(f, 4, "entry 4: lookup holds a release row for it that its leaf does not name");
    lt_row(f->dir, "lookup", true, k, n, s_be(4, b), 8);
    n = (size_t)snprintf((char *)k, sizeof k, "tdev.cdevents.change.created.0.4.0");
    lt_row(f->dir, "lookup", true, k, n, s_be(7, b), 8);
    s_refused(f, 7, "entry 7: lookup holds no row for its topic");
    lt_row(f->dir, "lookup", false, k, n, s_be(7, b), 8);
    /* Actor and environment rows come from payloads; one pointing past the
     * log is still found. */
    n = (size_t)snprintf((char *)k, sizeof k, "adana");
    lt_row(f->dir, "lookup", false, k, n, s_be(30, b), 8);
    s_refused(f, 24, "lookup holds a row for entry 30, beyond the log's 24 entries");
    lt_row(f->dir, "lookup", true, k, n, s_be(30, b), 8);
    n = (size_t)snprintf((char *)k, sizeof k, "eprod");
    lt_row(f->dir, "lookup", false, k, n, s_be(3, b), 8);
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), 0);
    lt_row(f->dir, "lookup", false, k, n, s_be(31, b), 8);
    s_refused(f, 24, "lookup holds a row for entry 31, beyond the log's 24 entries");
    /* A row of a kind the ledger never writes. */
    lt_row(f->dir, "lookup", true, k, n, s_be(31, b), 8);
    k[0] = 'x';
    lt_row(f->dir, "lookup", false, k, n, s_be(5, b), 8);
    s_refused(f, 5, "entry 5: lookup holds a row for it of no known kind");
}

static void test_a_wrong_or_missing_head_is_named_by_its_entry(void **state)
{
    s_fixture_t *f = *state;
    uint8_t b[8];
    lt_row(f->dir, "heads", false, "cCHG-1", 6, s_be(17, b), 8);
    s_refused(f, 17,
              "entry 17: heads names it as the newest entry of a change, but a later "
              "entry names it as its prev");
    lt_row(f->dir, "heads", false, "cCHG-1", 6, s_be(14, b), 8);
    s_refused(f, 14, "entry 14: heads names it as the newest entry of another change");
    lt_row(f->dir, "heads", true, "cCHG-1", 6, NULL, 0);
    s_refused(f, 19, "entry 19: it is the newest entry of its change, but heads does not name it");
}

static void test_a_stray_vkey_meta_or_purged_row_is_found(void **state)
{
    s_fixture_t *f = *state;
    uint8_t b[8], i[8];
    cairn_note_signer_t *other = lt_signer(LT_ORIGIN, 4);
    char *vkey = s_vkey(other);
    lt_row(f->dir, "vkeys", false, vkey, strlen(vkey), s_be(10, b), 8);
    s_refused(
        f, -1,
        "vkeys holds a row that is not the key that signed the checkpoint it is recorded with");
    lt_row(f->dir, "vkeys", true, vkey, strlen(vkey), NULL, 0);
    free(vkey);
    cairn_note_signer_destroy(&other);

    /* The log's own key, written otherwise: its key id in upper case (which
     * parses as the same key), or with bytes after a NUL. */
    vkey = s_vkey(f->signer);
    uint8_t *first = NULL;
    size_t first_len = 0;
    lt_get(f->dir, "vkeys", vkey, strlen(vkey), &first, &first_len);
    lt_row(f->dir, "vkeys", true, vkey, strlen(vkey), NULL, 0);
    char *upper = strdup(vkey), *id = strchr(upper, '+') + 1;
    for (char *c = id; *c != '+'; c++)
        *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 'a' + 'A' : *c);
    assert_string_not_equal(upper, vkey);
    lt_row(f->dir, "vkeys", false, upper, strlen(upper), first, first_len);
    s_refused(f, -1, "vkeys holds a row that is not the key that signed");
    lt_row(f->dir, "vkeys", true, upper, strlen(upper), NULL, 0);
    char padded[256];
    size_t n = (size_t)snprintf(padded, sizeof padded, "%s", vkey);
    memcpy(padded + n, "\0x", 2);
    lt_row(f->dir, "vkeys", false, padded, n + 2, first, first_len);
    s_refused(f, -1, "vkeys holds a row that is not the key that signed");
    lt_row(f->dir, "vkeys", true, padded, n + 2, NULL, 0);
    lt_row(f->dir, "vkeys", false, vkey, strlen(vkey), first, first_len);
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), 0);
    free(upper);
    free(first);
    free(vkey);

    lt_row(f->dir, "meta", false, "size", 4, s_be(23, b), 8);
    s_refused(f, 23, "a checkpoint of size 24 is beyond the log's 23 entries");
    lt_row(f->dir, "meta", false, "size", 4, s_be(24, b), 8);
    lt_row(f->dir, "meta", false, "extra", 5, "x", 1);
    s_refused(f, -1, "meta holds a row that is not the log's size, origin or layout");
    lt_row(f->dir, "meta", true, "extra", 5, NULL, 0);

    lt_row(f->dir, "purged", false, s_be(3, i), 8, s_be(20, b), 8);
    s_refused(f, -1, "purged holds 1 rows where 0 entries have no payload");
}

static void test_entries_after_the_last_checkpoint_are_named(void **state)
{
    s_fixture_t *f = *state;
    uint8_t k[8];
    lt_row(f->dir, "checkpoints", true, s_be(20, k), 8, NULL, 0);
    s_refused(f, 15, "entries 15..19 are covered by no signed checkpoint");
}

static void test_a_missing_or_stray_entry_is_named_by_its_index(void **state)
{
    s_fixture_t *f = *state;
    uint8_t k[8], *rec = NULL;
    size_t len = 0;
    lt_get(f->dir, "entries", s_be(6, k), 8, &rec, &len);
    lt_row(f->dir, "entries", true, k, 8, NULL, 0);
    s_refused(f, 6, "entry 6: record is missing");
    lt_row(f->dir, "entries", false, k, 8, rec, len);
    lt_row(f->dir, "entries", false, s_be(40, k), 8, rec, len);
    s_refused(f, 20, "entries exist beyond the log's 20 entries");
    free(rec);
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
        cmocka_unit_test_setup_teardown(test_a_store_with_keys_and_releases_verifies, s_setup_rich,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_changed_or_stray_idempotency_key_is_named_by_its_entry, s_setup_rich,
            s_teardown),
        cmocka_unit_test_setup_teardown(test_a_missing_or_extra_time_row_is_named_by_its_entry,
                                        s_setup_rich, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_missing_or_stray_lookup_row_is_named_by_its_entry,
                                        s_setup_rich, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_wrong_or_missing_head_is_named_by_its_entry,
                                        s_setup_rich, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_stray_vkey_meta_or_purged_row_is_found, s_setup_rich,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_missing_or_stray_entry_is_named_by_its_index,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_entries_after_the_last_checkpoint_are_named, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
