/* Tests for the ledger store on a real LMDB environment in a temporary
 * directory: appends and idempotency, the Merkle tree against a from-scratch
 * computation, proofs, signed checkpoints, receipts, reopen and tamper. */
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
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/lmdbx.h"
#include "cairn/merkle.h"
#include "cairn/note.h"
#include "cairn/util.h"
#include "layout.h"
#include "query.h"
#include "retention.h"
#include "store.h"
#include "testutil.h"
#include "verify.h"

/* Per-test state: a fresh directory, a signer, and the store opened in it. */
typedef struct {
    char dir[64];                /* mkdtemp directory */
    cairn_note_signer_t *signer; /* checkpoint key */
    cairn_note_verifier_t *vkey; /* its verifier */
    cairn_ledger_store_t *store; /* open store */
} s_fixture_t;

/* Entries read back by s_collect. */
typedef struct {
    Cairn__V1__Entry *items[160]; /* unpacked entries */
    size_t n;                     /* how many */
    size_t stop_after;            /* ask the store to stop after this many (0: never) */
} s_entries_t;

static void s_open(s_fixture_t *f)
{
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, f->signer, &f->store),
                     0);
}

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    assert_non_null(f);
    lt_mkdtemp(f->dir, "cairn-ledger-store");
    f->signer = lt_signer(LT_ORIGIN, 7);
    char *vkey = NULL;
    assert_int_equal(cairn_note_signer_vkey(f->signer, &vkey), 0);
    assert_int_equal(cairn_note_verifier_parse(vkey, &f->vkey), 0);
    free(vkey);
    s_open(f);
    *state = f;
    return 0;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_store_destroy(&f->store);
    cairn_note_signer_destroy(&f->signer);
    cairn_note_verifier_destroy(&f->vkey);
    lt_rmtree(f->dir);
    free(f);
    return 0;
}

static cairn_ledger_append_t s_append(s_fixture_t *f, const char *key, const char *change,
                                      const char *id)
{
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    cairn_ledger_append_t out = lt_append_in(f->store, key, change, NULL, id, 1764107400000);
    assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    return out;
}

static int s_collect(void *arg, uint64_t index, const uint8_t *entry, size_t len)
{
    s_entries_t *es = arg;
    assert_true(es->n < 160);
    assert_int_equal(cairn_codec_entry_unpack(entry, len, &es->items[es->n]), 0);
    assert_int_equal(es->items[es->n]->index, index);
    es->n++;
    return es->stop_after && es->n >= es->stop_after ? 1 : 0;
}

static void s_entries_free(s_entries_t *es)
{
    for (size_t i = 0; i < es->n; i++)
        CAIRN_CODEC_FREE(&es->items[i]);
    es->n = 0;
}

/* Opens the latest (size 0) or a given checkpoint with the fixture's key. */
static void s_checkpoint(s_fixture_t *f, uint64_t size, cairn_checkpoint_t *cp)
{
    char *note = NULL;
    size_t len = 0;
    uint64_t at = 0;
    assert_int_equal(cairn_ledger_store_checkpoint(f->store, size, &note, &len, &at), 0);
    memset(cp, 0, sizeof *cp);
    assert_int_equal(cairn_checkpoint_open(note, len, f->vkey, LT_ORIGIN, cp), 0);
    assert_int_equal(cp->size, at);
    free(note);
}

static void test_an_appended_record_reads_back_as_leaf_and_payload(void **state)
{
    s_fixture_t *f = *state;
    uint8_t *record = NULL, digest[32], lh[32];
    size_t len = 0;
    lt_event_record("dev.cdevents.change.created.0.4.0", "CHG-1", NULL, NULL, "e1", &record, &len);

    cairn_ledger_append_t r = s_append(f, "ce:/test\ne1", "CHG-1", "e1");
    assert_int_equal(r.index, 0);
    assert_false(r.duplicate);
    assert_non_null(r.leaf);
    assert_int_equal(r.time_ms, 1764107400000);
    assert_int_equal(cairn_ledger_store_size(f->store), 1);

    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_store_read(f->store, 0, 10, s_collect, &es), 0);
    assert_int_equal(es.n, 1);
    Cairn__V1__Entry *e = es.items[0];
    assert_string_equal(e->topic, "dev.cdevents.change.created.0.4.0");
    assert_string_equal(e->change_id, "CHG-1");
    assert_string_equal(e->key, "ce:/test\ne1");
    assert_int_equal(e->appended_at_ms, 1764107400000);
    assert_int_equal(e->record.len, len);
    assert_memory_equal(e->record.data, record, len);
    assert_int_equal(e->prev_hash.len, 0);
    cairn_merkle_leaf_hash(e->leaf.data, e->leaf.len, lh);
    assert_memory_equal(e->hash.data, lh, 32);
    assert_memory_equal(r.hash, lh, 32);

    /* The leaf commits to the payload, the key, the change and the time. */
    cairn_leaf_t leaf;
    memset(&leaf, 0, sizeof leaf);
    assert_int_equal(cairn_leaf_parse(e->leaf.data, e->leaf.len, &leaf), 0);
    assert_string_equal(leaf.origin, LT_ORIGIN);
    assert_int_equal(leaf.index, 0);
    cairn_sha256(record, len, digest);
    assert_memory_equal(leaf.payload_sha256, digest, 32);
    assert_true(leaf.has_key);
    cairn_sha256("ce:/test\ne1", strlen("ce:/test\ne1"), digest);
    assert_memory_equal(leaf.key_sha256, digest, 32);
    assert_string_equal(leaf.change, "CHG-1");
    assert_false(leaf.has_prev);
    assert_int_equal(leaf.time_ms, 1764107400000);
    cairn_leaf_clear(&leaf);

    /* The entry published from the append's result is, byte for byte, the
     * entry every read serves. */
    cairn_ledger_record_t rec = {.key = "ce:/test\ne1",
                                 .topic = "dev.cdevents.change.created.0.4.0",
                                 .change_id = "CHG-1",
                                 .record = record,
                                 .record_len = len};
    cairn_ledger_entry_parts_t parts;
    uint8_t *pub = NULL, *served = NULL;
    size_t pub_len = 0, served_len = 0;
    assert_int_equal(r.leaf_len, e->leaf.len);
    assert_memory_equal(r.leaf, e->leaf.data, r.leaf_len);
    cairn_ledger_append_parts(&rec, &r, &parts);
    assert_int_equal(cairn_ledger_entry_pack(&parts, &pub, &pub_len), 0);
    assert_int_equal(cairn_codec_pack(&e->base, &served, &served_len), 0);
    assert_int_equal(pub_len, served_len);
    assert_memory_equal(pub, served, pub_len);
    free(pub);
    free(served);

    /* One signed checkpoint of size 1 whose root is the leaf hash. */
    cairn_checkpoint_t cp;
    s_checkpoint(f, 0, &cp);
    assert_int_equal(cp.size, 1);
    assert_memory_equal(cp.root, lh, 32);
    cairn_checkpoint_clear(&cp);

    s_entries_free(&es);
    free(r.leaf);
    free(record);
}

static void test_a_repeated_key_returns_the_original_index(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_append_t first = s_append(f, "k1", "CHG-1", "e1");
    cairn_ledger_append_t second = s_append(f, "k2", "CHG-1", "e2");
    cairn_ledger_append_t again = s_append(f, "k1", "CHG-1", "e1-redelivered");
    assert_int_equal(second.index, 1);
    assert_true(again.duplicate);
    assert_int_equal(again.index, 0);
    assert_null(again.leaf);
    assert_memory_equal(again.hash, first.hash, 32);
    assert_int_equal(cairn_ledger_store_size(f->store), 2);

    /* A key repeated within one batch is a duplicate of the batch's own entry. */
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    cairn_ledger_append_t a = lt_append_in(f->store, "k3", "CHG-2", NULL, "e3", 1);
    cairn_ledger_append_t b = lt_append_in(f->store, "k3", "CHG-2", NULL, "e3", 1);
    cairn_ledger_append_t c = lt_append_in(f->store, "", "CHG-2", NULL, "e4", 1);
    cairn_ledger_append_t d = lt_append_in(f->store, NULL, "CHG-2", NULL, "e4", 1);
    assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    assert_int_equal(a.index, 2);
    assert_true(b.duplicate);
    assert_int_equal(b.index, 2);
    /* No key: appended every time, even with the same payload. */
    assert_int_equal(c.index, 3);
    assert_int_equal(d.index, 4);
    assert_int_equal(cairn_ledger_store_size(f->store), 5);

    uint64_t index = 99;
    assert_int_equal(cairn_ledger_store_find_key(f->store, "k3", &index), 0);
    assert_int_equal(index, 2);
    assert_int_equal(cairn_ledger_store_find_key(f->store, "nope", &index), CAIRN_ENOTFOUND);

    free(first.leaf), free(second.leaf), free(a.leaf), free(c.leaf), free(d.leaf);
}

static void test_tree_roots_match_a_from_scratch_computation_for_sizes_1_to_300(void **state)
{
    s_fixture_t *f = *state;
    enum { N = 300 };
    /* Batches of 1, 2, 3, ... entries: a checkpoint lands at every triangular size. */
    uint64_t sizes[32], nsizes = 0;
    for (size_t b = 1; cairn_ledger_store_size(f->store) < N; b++) {
        size_t left = N - cairn_ledger_store_size(f->store);
        lt_append_batch(f->store, b < left ? b : left, b % 3 ? "CHG-A" : NULL);
        sizes[nsizes++] = cairn_ledger_store_size(f->store);
    }
    uint8_t(*hashes)[32] = lt_leaf_hashes(f->store, N);

    cairn_ledger_view_t v;
    assert_int_equal(cairn_ledger_store_begin_read(f->store, &v), 0);
    for (uint64_t n = 0; n <= N; n++) {
        uint8_t expect[32], got[32];
        lt_mth(hashes, n, expect);
        assert_int_equal(cairn_merkle_root(cairn_ledger_node_get, &v, n, got), 0);
        assert_memory_equal(got, expect, 32);
    }
    cairn_ledger_store_end_read(&v);

    /* Every batch signed a checkpoint with exactly that root. */
    for (uint64_t i = 0; i < nsizes; i++) {
        uint8_t expect[32];
        cairn_checkpoint_t cp;
        s_checkpoint(f, sizes[i], &cp);
        lt_mth(hashes, sizes[i], expect);
        assert_int_equal(cp.size, sizes[i]);
        assert_memory_equal(cp.root, expect, 32);
        cairn_checkpoint_clear(&cp);
    }
    free(hashes);
}

static void test_inclusion_and_consistency_proofs_verify_for_many_sizes(void **state)
{
    s_fixture_t *f = *state;
    enum { N = 130 };
    for (int i = 0; i < 13; i++)
        lt_append_batch(f->store, 10, "CHG-P");
    uint8_t(*hashes)[32] = lt_leaf_hashes(f->store, N);
    uint8_t proof[CAIRN_MERKLE_MAX_PROOF * 32], root_n[32], root_m[32], lh[32];
    size_t count = 0;
    for (uint64_t n = 1; n <= N; n += (n < 20 ? 1 : 7)) {
        lt_mth(hashes, n, root_n);
        for (uint64_t m = 0; m < n; m += (n < 20 ? 1 : 3)) {
            assert_int_equal(cairn_ledger_store_prove(f->store, m, n, lh, proof, &count), 0);
            assert_memory_equal(lh, hashes[m], 32);
            assert_int_equal(cairn_merkle_verify_inclusion(m, n, lh, proof, count, root_n), 0);
            /* A wrong leaf does not verify. */
            assert_int_equal(
                cairn_merkle_verify_inclusion(m, n, hashes[(m + 1) % n], proof, count, root_n),
                n > 1 ? CAIRN_EINTEGRITY : 0);
        }
        for (uint64_t m = 1; m <= n; m += (n < 20 ? 1 : 5)) {
            lt_mth(hashes, m, root_m);
            assert_int_equal(cairn_ledger_store_consistency(f->store, m, n, proof, &count), 0);
            assert_int_equal(cairn_merkle_verify_consistency(m, n, root_m, root_n, proof, count),
                             0);
        }
    }
    assert_int_equal(cairn_ledger_store_prove(f->store, N, N, lh, proof, &count), CAIRN_EINVALID);
    assert_int_equal(cairn_ledger_store_prove(f->store, 0, N + 1, lh, proof, &count),
                     CAIRN_EINVALID);
    assert_int_equal(cairn_ledger_store_consistency(f->store, 0, N, proof, &count), CAIRN_EINVALID);
    assert_int_equal(cairn_ledger_store_consistency(f->store, 5, 4, proof, &count), CAIRN_EINVALID);
    free(hashes);
}

static void test_a_receipt_is_a_tlog_proof_that_verifies_with_the_vkey(void **state)
{
    s_fixture_t *f = *state;
    lt_append_batch(f->store, 5, "CHG-R");
    cairn_ledger_append_t r = s_append(f, "kr", "CHG-R", "er");
    lt_append_batch(f->store, 3, "CHG-R");

    char *text = NULL;
    size_t len = 0;
    uint64_t size = 0;
    assert_int_equal(cairn_ledger_store_receipt(f->store, r.index, &text, &len, &size), 0);
    assert_int_equal(size, 9);
    assert_non_null(strstr(text, "c2sp.org/tlog-proof@v1\n"));

    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_store_read(f->store, r.index, 1, s_collect, &es), 0);
    cairn_tlog_proof_t proof;
    memset(&proof, 0, sizeof proof);
    cairn_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    assert_int_equal(cairn_tlog_proof_parse(text, len, &proof), 0);
    assert_int_equal(proof.index, r.index);
    assert_int_equal(cairn_tlog_proof_verify(&proof, es.items[0]->leaf.data, es.items[0]->leaf.len,
                                             f->vkey, LT_ORIGIN, &cp),
                     0);
    assert_int_equal(cp.size, 9);
    /* Another entry's leaf does not verify against this receipt. */
    s_entries_t other = {.n = 0};
    assert_int_equal(cairn_ledger_store_read(f->store, 0, 1, s_collect, &other), 0);
    assert_int_equal(cairn_tlog_proof_verify(&proof, other.items[0]->leaf.data,
                                             other.items[0]->leaf.len, f->vkey, LT_ORIGIN, NULL),
                     CAIRN_EINTEGRITY);
    cairn_checkpoint_clear(&cp);
    cairn_tlog_proof_clear(&proof);
    s_entries_free(&es);
    s_entries_free(&other);
    free(text);
    free(r.leaf);
}

static void test_leaves_chain_each_change_to_its_previous_entry(void **state)
{
    s_fixture_t *f = *state;
    char long_change[700];
    memset(long_change, 'x', sizeof long_change - 1);
    long_change[sizeof long_change - 1] = '\0';
    const char *changes[] = {"CHG-1", "CHG-2", "CHG-1", NULL, "CHG-1", long_change, "CHG-2"};
    char id[16];
    /* More than 256 entries so index order and byte order must agree past one byte. */
    for (int round = 0; round < 40; round++) {
        assert_int_equal(cairn_ledger_store_begin(f->store), 0);
        for (size_t i = 0; i < 7; i++) {
            snprintf(id, sizeof id, "e%d-%zu", round, i);
            cairn_ledger_append_t r = lt_append_in(f->store, NULL, changes[i], NULL, id, 1);
            free(r.leaf);
        }
        assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    }
    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_store_by_change(f->store, "CHG-1", s_collect, &es), 0);
    assert_int_equal(es.n, 120);
    uint64_t last = 0;
    for (size_t i = 0; i < es.n; i++) {
        cairn_leaf_t leaf;
        memset(&leaf, 0, sizeof leaf);
        assert_string_equal(es.items[i]->change_id, "CHG-1");
        assert_int_equal(cairn_leaf_parse(es.items[i]->leaf.data, es.items[i]->leaf.len, &leaf), 0);
        assert_int_equal(leaf.has_prev, i > 0);
        if (i > 0) {
            assert_int_equal(leaf.prev, last);
            assert_true(es.items[i]->index > last);
        }
        cairn_leaf_clear(&leaf);
        last = es.items[i]->index;
    }
    assert_true(last > 256);
    s_entries_free(&es);

    es.stop_after = 5;
    assert_int_equal(cairn_ledger_store_by_change(f->store, "CHG-2", s_collect, &es), 0);
    assert_int_equal(es.n, 5);
    s_entries_free(&es);

    es.stop_after = 0;
    assert_int_equal(cairn_ledger_store_by_change(f->store, long_change, s_collect, &es), 0);
    assert_int_equal(es.n, 40);
    assert_int_equal(es.items[0]->index, 5);
    assert_string_equal(es.items[0]->change_id, long_change);
    s_entries_free(&es);

    assert_int_equal(cairn_ledger_store_by_change(f->store, "CHG-9", s_collect, &es), 0);
    assert_int_equal(es.n, 0);
    assert_int_equal(cairn_ledger_store_by_change(f->store, "", s_collect, &es), 0);
    assert_int_equal(es.n, 0);
}

static void test_replay_reads_the_asked_page(void **state)
{
    s_fixture_t *f = *state;
    lt_append_batch(f->store, 10, "CHG-1");
    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_store_read(f->store, 3, 4, s_collect, &es), 0);
    assert_int_equal(es.n, 4);
    assert_int_equal(es.items[0]->index, 3);
    assert_int_equal(es.items[3]->index, 6);
    s_entries_free(&es);

    assert_int_equal(cairn_ledger_store_read(f->store, 8, 10, s_collect, &es), 0);
    assert_int_equal(es.n, 2);
    assert_int_equal(es.items[1]->index, 9);
    s_entries_free(&es);

    assert_int_equal(cairn_ledger_store_read(f->store, 10, 5, s_collect, &es), 0);
    assert_int_equal(es.n, 0);
    assert_int_equal(cairn_ledger_store_read(f->store, UINT64_MAX, 5, s_collect, &es), 0);
    assert_int_equal(es.n, 0);

    es.stop_after = 2;
    assert_int_equal(cairn_ledger_store_read(f->store, 0, 10, s_collect, &es), 0);
    assert_int_equal(es.n, 2);
    s_entries_free(&es);
}

static void test_reopening_keeps_entries_keys_and_checkpoints(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_append_t r;
    for (int i = 0; i < 3; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", i);
        r = s_append(f, key, "CHG-1", key);
        free(r.leaf);
    }
    cairn_ledger_head_t head;
    cairn_ledger_store_head(f->store, &head);
    uint8_t root[32];
    memcpy(root, head.root, 32);
    cairn_ledger_store_destroy(&f->store);
    assert_null(f->store);

    s_open(f);
    assert_int_equal(cairn_ledger_store_size(f->store), 3);
    cairn_ledger_store_head(f->store, &head);
    assert_int_equal(head.size, 3);
    assert_memory_equal(head.root, root, 32);
    for (uint64_t size = 0; size <= 3; size++) {
        cairn_checkpoint_t cp;
        s_checkpoint(f, size, &cp);
        cairn_checkpoint_clear(&cp);
    }

    r = s_append(f, "k1", "CHG-1", "k1");
    assert_true(r.duplicate);
    assert_int_equal(r.index, 1);

    r = s_append(f, "k3", "CHG-1", "k3");
    assert_int_equal(r.index, 3);
    free(r.leaf);
    uint8_t proof[CAIRN_MERKLE_MAX_PROOF * 32];
    size_t count = 0;
    cairn_ledger_store_head(f->store, &head);
    assert_int_equal(cairn_ledger_store_consistency(f->store, 3, 4, proof, &count), 0);
    assert_int_equal(cairn_merkle_verify_consistency(3, 4, root, head.root, proof, count), 0);

    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_store_by_change(f->store, "CHG-1", s_collect, &es), 0);
    assert_int_equal(es.n, 4);
    s_entries_free(&es);
}

static void test_an_aborted_batch_leaves_no_trace(void **state)
{
    s_fixture_t *f = *state;
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    cairn_ledger_append_t r = lt_append_in(f->store, "k1", "CHG-1", NULL, "e1", 1);
    free(r.leaf);
    assert_int_equal(cairn_ledger_store_key_count(f->store), 1);
    cairn_ledger_store_abort(f->store);
    assert_int_equal(cairn_ledger_store_key_count(f->store), 0);
    assert_int_equal(cairn_ledger_store_size(f->store), 0);
    uint64_t index;
    assert_int_equal(cairn_ledger_store_find_key(f->store, "k1", &index), CAIRN_ENOTFOUND);
    cairn_ledger_head_t head;
    cairn_ledger_store_head(f->store, &head);
    assert_int_equal(head.size, 0);

    r = s_append(f, "k1", "CHG-1", "e1");
    assert_false(r.duplicate);
    assert_int_equal(r.index, 0);
    free(r.leaf);
}

/* The store's latest checkpoint note (malloc'd). */
static char *s_head_note(s_fixture_t *f, size_t *len)
{
    cairn_ledger_head_t head;
    cairn_ledger_store_head(f->store, &head);
    char *note = strndup(head.note, head.note_len);
    assert_non_null(note);
    *len = head.note_len;
    return note;
}

/* A checkpoint kept outside the store (ledger.checkpoint_file) agrees with
 * the store that signed it, and with any later state of that store; not
 * with a copy rolled back behind it, nor with another tree of its size; and
 * a note of another log is told apart from both. */
static void test_a_kept_checkpoint_is_checked_against_the_store(void **state)
{
    s_fixture_t *f = *state;
    char backup[80], other[64];
    size_t len3 = 0, len5 = 0, len_other = 0;
    uint64_t size = 0;
    snprintf(backup, sizeof backup, "%s-backup", f->dir);
    lt_append_batch(f->store, 3, "CHG-1");
    char *at3 = s_head_note(f, &len3);
    assert_int_equal(cairn_ledger_store_check_note(f->store, at3, len3, &size), 0);
    assert_int_equal(size, 3);
    lt_copy_store(f->dir, backup); /* taken at 3 entries */
    lt_append_batch(f->store, 2, "CHG-1");
    char *at5 = s_head_note(f, &len5);
    assert_int_equal(cairn_ledger_store_check_note(f->store, at3, len3, &size), 0);
    assert_int_equal(cairn_ledger_store_check_note(f->store, at5, len5, &size), 0);
    assert_int_equal(size, 5);

    /* The backup holds 3 entries: behind the checkpoint of 5. */
    cairn_ledger_store_destroy(&f->store);
    assert_int_equal(cairn_ledger_store_open(backup, LT_MAP_SIZE, LT_ORIGIN, f->signer, &f->store),
                     0);
    assert_int_equal(cairn_ledger_store_check_note(f->store, at3, len3, &size), 0);
    size = 0;
    assert_int_equal(cairn_ledger_store_check_note(f->store, at5, len5, &size), CAIRN_EINTEGRITY);
    assert_int_equal(size, 5);

    /* The backup, grown to 5 entries of its own: another tree of size 5. */
    lt_append_batch(f->store, 2, "CHG-2");
    assert_int_equal(cairn_ledger_store_check_note(f->store, at5, len5, &size), CAIRN_EINTEGRITY);
    assert_int_equal(size, 5);
    cairn_ledger_store_destroy(&f->store);

    /* A log with another key under the same origin: its note is not this
     * log's, and neither is text that is no note at all. */
    lt_mkdtemp(other, "cairn-ledger-other");
    cairn_note_signer_t *signer = lt_signer(LT_ORIGIN, 9);
    assert_int_equal(cairn_ledger_store_open(other, LT_MAP_SIZE, LT_ORIGIN, signer, &f->store), 0);
    lt_append_batch(f->store, 5, "CHG-1");
    char *foreign = s_head_note(f, &len_other);
    cairn_ledger_store_destroy(&f->store);
    s_open(f);
    assert_int_equal(cairn_ledger_store_check_note(f->store, foreign, len_other, &size),
                     CAIRN_EPARSE);
    assert_int_equal(cairn_ledger_store_check_note(f->store, "size 5\n", 7, &size), CAIRN_EPARSE);
    at5[len5 - 10] ^= 1; /* in the signature */
    assert_int_equal(cairn_ledger_store_check_note(f->store, at5, len5, &size), CAIRN_EPARSE);

    cairn_note_signer_destroy(&signer);
    lt_rmtree(other);
    lt_rmtree(backup);
    free(foreign);
    free(at3);
    free(at5);
}

static void test_a_flipped_last_leaf_or_root_node_refuses_to_open(void **state)
{
    s_fixture_t *f = *state;
    lt_append_batch(f->store, 8, "CHG-1");
    lt_append_batch(f->store, 3, "CHG-1");
    cairn_ledger_store_destroy(&f->store);

    /* The last leaf no longer hashes to the stored leaf hash. */
    uint8_t key[8];
    lt_flip_record(f->dir, 10, LT_PART_LEAF, -3);
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, f->signer, &f->store),
                     CAIRN_EINTEGRITY);
    assert_null(f->store);
    lt_flip_record(f->dir, 10, LT_PART_LEAF, -3);
    s_open(f);
    cairn_ledger_store_destroy(&f->store);

    /* The perfect subtree of leaves 0..7 (level 3, in entry 7's record)
     * feeds the root of size 11. */
    lt_flip_record(f->dir, 7, LT_PART_HASHES, 3 * 32);
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, f->signer, &f->store),
                     CAIRN_EINTEGRITY);
    lt_flip_record(f->dir, 7, LT_PART_HASHES, 3 * 32);

    /* A checkpoint whose signature no longer verifies. */
    cairn_u64_to_key(11, key);
    lt_flip(f->dir, "checkpoints", key, 8, -5);
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, f->signer, &f->store),
                     CAIRN_EINTEGRITY);
    lt_flip(f->dir, "checkpoints", key, 8, -5);

    /* A size that the last checkpoint does not cover. */
    lt_flip(f->dir, "meta", "size", 4, -1); /* 11 -> 10 */
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, f->signer, &f->store),
                     CAIRN_EINTEGRITY);
    lt_flip(f->dir, "meta", "size", 4, -1);
    s_open(f);
    assert_int_equal(cairn_ledger_store_size(f->store), 11);
}

static void test_a_tree_that_no_longer_matches_the_checkpoint_is_never_signed(void **state)
{
    s_fixture_t *f = *state;
    lt_append_batch(f->store, 4, "CHG-1");
    /* Rewrite a stored node (leaves 0..3, in entry 3's record) behind the
     * open store's back. */
    lt_flip_record(f->dir, 3, LT_PART_HASHES, 2 * 32);
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    cairn_ledger_append_t r = lt_append_in(f->store, NULL, "CHG-1", NULL, "late", 1);
    free(r.leaf);
    assert_int_equal(cairn_ledger_store_commit(f->store), CAIRN_EINTEGRITY);
    assert_int_equal(cairn_ledger_store_size(f->store), 4);
    char *note = NULL;
    size_t len = 0;
    uint64_t at = 0;
    assert_int_equal(cairn_ledger_store_checkpoint(f->store, 5, &note, &len, &at), CAIRN_ENOTFOUND);
}

static void test_an_origin_or_key_for_another_log_is_refused(void **state)
{
    s_fixture_t *f = *state;
    lt_append_batch(f->store, 2, "CHG-1");
    cairn_ledger_store_destroy(&f->store);
    cairn_note_signer_t *other = lt_signer("other.example/log", 9);
    /* A key whose name is not the origin. */
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, other, &f->store),
                     CAIRN_ECONFIG);
    /* A store created for another origin. */
    assert_int_equal(
        cairn_ledger_store_open(f->dir, LT_MAP_SIZE, "other.example/log", other, &f->store),
        CAIRN_ECONFIG);
    cairn_note_signer_destroy(&other);

    /* A rotated key of the same origin opens, and signs from the next batch on. */
    cairn_note_signer_t *rotated = lt_signer(LT_ORIGIN, 8);
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, rotated, &f->store),
                     0);
    lt_append_batch(f->store, 1, "CHG-1");
    cairn_checkpoint_t cp;
    s_checkpoint(f, 2, &cp); /* the old key's checkpoint still opens */
    cairn_checkpoint_clear(&cp);
    char *note = NULL;
    size_t len = 0;
    uint64_t at = 0;
    assert_int_equal(cairn_ledger_store_checkpoint(f->store, 3, &note, &len, &at), 0);
    assert_int_equal(cairn_checkpoint_open(note, len, f->vkey, LT_ORIGIN, &cp), CAIRN_ENOTFOUND);
    free(note);
    cairn_ledger_store_destroy(&f->store);
    /* Reopening after rotation checks the last checkpoint with the new key. */
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, rotated, &f->store),
                     0);
    cairn_ledger_store_destroy(&f->store);
    cairn_note_signer_destroy(&rotated);
    s_open(f);
}

static void test_a_full_store_fails_the_whole_batch_and_stays_usable(void **state)
{
    s_fixture_t *f = *state;
    cairn_ledger_store_destroy(&f->store);
    assert_int_equal(cairn_ledger_store_open(f->dir, 1024 * 1024, LT_ORIGIN, f->signer, &f->store),
                     0);

    enum { BIG = 64 * 1024 };
    uint8_t *big = calloc(1, BIG);
    assert_non_null(big);
    cairn_ledger_record_t in = {.topic = "dev.big", .record = big, .record_len = BIG};
    cairn_ledger_append_t r;
    /* Fill the map one committed entry at a time until LMDB refuses. */
    int rc = 0;
    uint64_t committed = 0;
    while (rc == 0 && committed < 64) {
        big[0] = (uint8_t)committed; /* distinct payloads */
        big[1] = (uint8_t)(committed >> 8);
        assert_int_equal(cairn_ledger_store_begin(f->store), 0);
        rc = cairn_ledger_store_append(f->store, &in, &r);
        if (rc == 0) {
            free(r.leaf);
            rc = cairn_ledger_store_commit(f->store);
        }
        if (rc == 0)
            committed++;
    }
    assert_int_equal(rc, CAIRN_ESTORE);
    assert_true(cairn_ledger_store_full(f->store));
    assert_true(committed > 0);
    assert_int_equal(cairn_ledger_store_size(f->store), committed);

    /* A batch with a small entry before the one that does not fit keeps nothing. */
    cairn_ledger_store_abort(f->store);
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    r = lt_append_in(f->store, "small", "CHG-1", NULL, "e", 1);
    free(r.leaf);
    big[2] = 0xff;
    rc = cairn_ledger_store_append(f->store, &in, &r);
    if (rc == 0) {
        free(r.leaf);
        rc = cairn_ledger_store_commit(f->store);
    } else {
        assert_int_equal(cairn_ledger_store_commit(f->store), CAIRN_ESTORE);
    }
    assert_int_equal(rc, CAIRN_ESTORE);
    assert_int_equal(cairn_ledger_store_size(f->store), committed);
    uint64_t index;
    assert_int_equal(cairn_ledger_store_find_key(f->store, "small", &index), CAIRN_ENOTFOUND);
    free(big);

    /* Reopened, everything committed is intact and checkpointed. */
    cairn_ledger_store_destroy(&f->store);
    s_open(f);
    assert_int_equal(cairn_ledger_store_size(f->store), committed);
    cairn_checkpoint_t cp;
    s_checkpoint(f, 0, &cp);
    assert_int_equal(cp.size, committed);
    cairn_checkpoint_clear(&cp);
}

/* Sets meta "layout" to version, or deletes the row when version is 0. */
static void s_set_layout(const char *dir, uint64_t version)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi meta;
    assert_int_equal(cairn_lmdb_open(dir, LT_MAP_SIZE, CAIRN_LEDGER_MAX_DBS, &env), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    MDB_val k = {strlen(CAIRN_LEDGER_META_LAYOUT), CAIRN_LEDGER_META_LAYOUT};
    if (version)
        assert_int_equal(cairn_lmdb_put_u64(txn, meta, CAIRN_LEDGER_META_LAYOUT, version), 0);
    else
        assert_int_equal(mdb_del(txn, meta, &k, NULL), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void test_a_store_in_another_layout_is_refused_not_misread(void **state)
{
    s_fixture_t *f = *state;
    lt_append_batch(f->store, 3, "CHG-1");
    cairn_ledger_store_destroy(&f->store);

    /* Entries without a layout row: written by the first layout. */
    s_set_layout(f->dir, 0);
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, f->signer, &f->store),
                     CAIRN_ECONFIG);
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_ECONFIG);
    assert_non_null(strstr(rep.reason, "layout"));
    /* A layout this version does not know. */
    s_set_layout(f->dir, CAIRN_LEDGER_LAYOUT_VERSION + 1);
    assert_int_equal(cairn_ledger_store_open(f->dir, LT_MAP_SIZE, LT_ORIGIN, f->signer, &f->store),
                     CAIRN_ECONFIG);
    /* Its own layout opens again, with every entry. */
    s_set_layout(f->dir, CAIRN_LEDGER_LAYOUT_VERSION);
    s_open(f);
    assert_int_equal(cairn_ledger_store_size(f->store), 3);
}

/* Indexes by_change serves for change, in the order it serves them. */
static size_t s_change_indexes(s_fixture_t *f, const char *change, uint64_t *out, size_t max)
{
    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_store_by_change(f->store, change, s_collect, &es), 0);
    assert_true(es.n <= max);
    for (size_t i = 0; i < es.n; i++) {
        out[i] = es.items[i]->index;
        assert_string_equal(es.items[i]->change_id, change);
    }
    size_t n = es.n;
    s_entries_free(&es);
    return n;
}

/* Asserts that the store in dir has no database called name. */
static void s_assert_no_db(const char *dir, const char *name)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    assert_int_equal(cairn_lmdb_open(dir, LT_MAP_SIZE, CAIRN_LEDGER_MAX_DBS, &env), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), MDB_NOTFOUND);
    mdb_txn_abort(txn);
    mdb_env_close(env);
}

/* Rewrites this layout's store as layout 4 wrote it: each entry's leaf in
 * `leaves`, its payload in `payloads` (none once purged), its tree hashes
 * in `tree` keyed by last leaf || level; no `entries`. */
static void s_downgrade_to_layout_4(const char *dir)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_dbi entries, leaves, payloads, tree, meta;
    MDB_val k, v;
    assert_int_equal(cairn_lmdb_open(dir, LT_MAP_SIZE, CAIRN_LEDGER_MAX_DBS, &env), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "entries", 0, &entries), 0);
    assert_int_equal(mdb_dbi_open(txn, "leaves", MDB_CREATE, &leaves), 0);
    assert_int_equal(mdb_dbi_open(txn, "payloads", MDB_CREATE, &payloads), 0);
    assert_int_equal(mdb_dbi_open(txn, "tree", MDB_CREATE, &tree), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    assert_int_equal(mdb_cursor_open(txn, entries, &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        cairn_ledger_record_parts_t r;
        uint64_t index = cairn_key_to_u64(k.mv_data);
        assert_int_equal(cairn_ledger_record_parse(index, &v, &r), 0);
        MDB_val lv = {r.leaf_len, (void *)r.leaf}, pv = {r.payload_len, (void *)r.payload};
        assert_int_equal(mdb_put(txn, leaves, &k, &lv, MDB_NOOVERWRITE), 0);
        if (r.payload)
            assert_int_equal(mdb_put(txn, payloads, &k, &pv, MDB_NOOVERWRITE), 0);
        for (unsigned level = 0; level < r.n_hashes; level++) {
            uint8_t nk[9];
            cairn_u64_to_key(index, nk);
            nk[8] = (uint8_t)level;
            MDB_val nkv = {sizeof nk, nk}, hv = {32, (void *)(r.hashes + 32 * level)};
            assert_int_equal(mdb_put(txn, tree, &nkv, &hv, MDB_NOOVERWRITE), 0);
        }
    }
    mdb_cursor_close(cur);
    assert_int_equal(mdb_drop(txn, entries, 1), 0);
    assert_int_equal(cairn_lmdb_put_u64(txn, meta, CAIRN_LEDGER_META_LAYOUT, 4), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

/* Rewrites this layout's store as layout 2 wrote it: layout 4's databases,
 * but tree hashes keyed level || index in `nodes`, and a `lookup` row per
 * entry of a change. */
static void s_downgrade_to_layout_2(const char *dir)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_dbi tree, nodes, heads, lookup, leaves, meta;
    MDB_val k, v;
    s_downgrade_to_layout_4(dir);
    assert_int_equal(cairn_lmdb_open(dir, LT_MAP_SIZE, CAIRN_LEDGER_MAX_DBS, &env), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "tree", 0, &tree), 0);
    assert_int_equal(mdb_dbi_open(txn, "nodes", MDB_CREATE, &nodes), 0);
    assert_int_equal(mdb_dbi_open(txn, "heads", 0, &heads), 0);
    assert_int_equal(mdb_dbi_open(txn, "lookup", 0, &lookup), 0);
    assert_int_equal(mdb_dbi_open(txn, "leaves", 0, &leaves), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    assert_int_equal(mdb_cursor_open(txn, tree, &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        assert_int_equal(k.mv_size, 9);
        const uint8_t *kb = k.mv_data;
        uint8_t old[9];
        old[0] = kb[8];
        cairn_u64_to_key(((cairn_key_to_u64(kb) + 1) >> kb[8]) - 1, old + 1);
        MDB_val ok = {sizeof old, old};
        assert_int_equal(mdb_put(txn, nodes, &ok, &v, MDB_NOOVERWRITE), 0);
    }
    mdb_cursor_close(cur);
    assert_int_equal(mdb_cursor_open(txn, leaves, &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        cairn_leaf_t leaf;
        memset(&leaf, 0, sizeof leaf);
        assert_int_equal(cairn_leaf_parse(v.mv_data, v.mv_size, &leaf), 0);
        if (leaf.change) {
            uint8_t buf[CAIRN_LEDGER_LOOKUP_KEY_BYTES];
            MDB_val lk = cairn_ledger_lookup_key((size_t)mdb_env_get_maxkeysize(env),
                                                 CAIRN_LEDGER_BY_CHANGE, leaf.change, buf);
            MDB_val lv = {8, k.mv_data};
            assert_int_equal(mdb_put(txn, lookup, &lk, &lv, 0), 0);
        }
        cairn_leaf_clear(&leaf);
    }
    mdb_cursor_close(cur);
    assert_int_equal(mdb_drop(txn, tree, 1), 0);
    assert_int_equal(mdb_drop(txn, heads, 1), 0);
    assert_int_equal(cairn_lmdb_put_u64(txn, meta, CAIRN_LEDGER_META_LAYOUT, 2), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void test_a_layout_2_store_is_migrated_with_every_entry_and_proof(void **state)
{
    s_fixture_t *f = *state;
    const char *changes[] = {"CHG-1", "CHG-2", "CHG-3"};
    uint64_t before[3][64], after[3][64];
    size_t n_before[3];
    char id[32], key[48];
    /* 37 entries over three changes, two batches, one with a key. */
    for (int b = 0; b < 2; b++) {
        assert_int_equal(cairn_ledger_store_begin(f->store), 0);
        for (int i = 0; i < 19 - b; i++) {
            snprintf(id, sizeof id, "m%d-%d", b, i);
            snprintf(key, sizeof key, "ce:/test\n%s", id);
            cairn_ledger_append_t r =
                lt_append_in(f->store, i == 3 ? key : NULL, changes[(i * 7 + b) % 3], NULL, id,
                             1764107400000 + i);
            free(r.leaf);
        }
        assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    }
    cairn_checkpoint_t cp_before, cp_after;
    s_checkpoint(f, 0, &cp_before);
    for (int c = 0; c < 3; c++)
        n_before[c] = s_change_indexes(f, changes[c], before[c], 64);
    assert_int_equal(n_before[0] + n_before[1] + n_before[2], 37);
    cairn_ledger_store_destroy(&f->store);

    s_downgrade_to_layout_2(f->dir);
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_ECONFIG);
    s_open(f);
    assert_true(cairn_ledger_store_migrated(f->store));
    assert_int_equal(cairn_ledger_store_size(f->store), 37);
    s_checkpoint(f, 0, &cp_after);
    assert_int_equal(cp_after.size, cp_before.size);
    assert_memory_equal(cp_after.root, cp_before.root, 32);
    for (int c = 0; c < 3; c++) {
        assert_int_equal(s_change_indexes(f, changes[c], after[c], 64), n_before[c]);
        assert_memory_equal(after[c], before[c], n_before[c] * sizeof after[c][0]);
    }
    /* The key still deduplicates; new entries chain onto each change. */
    snprintf(key, sizeof key, "ce:/test\n%s", "m0-3");
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    cairn_ledger_append_t dup = lt_append_in(f->store, key, "CHG-1", NULL, "m0-3", 1764107400000);
    assert_true(dup.duplicate);
    for (int c = 0; c < 3; c++) {
        snprintf(id, sizeof id, "new-%d", c);
        cairn_ledger_append_t r = lt_append_in(f->store, NULL, changes[c], NULL, id, 1764107400000);
        assert_int_equal(r.index, 37 + c);
        free(r.leaf);
    }
    assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    for (int c = 0; c < 3; c++) {
        size_t n = s_change_indexes(f, changes[c], after[c], 64);
        assert_int_equal(n, n_before[c] + 1);
        assert_int_equal(after[c][n - 1], 37 + (uint64_t)c);
    }
    /* The whole log, its proofs and checkpoints verify; no layout-2 database is left. */
    cairn_ledger_store_destroy(&f->store);
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), 0);
    assert_int_equal(rep.size, 40);
    s_assert_no_db(f->dir, "nodes");
    s_assert_no_db(f->dir, "keys");
    s_assert_no_db(f->dir, "tree");
    s_open(f);
    assert_false(cairn_ledger_store_migrated(f->store));
    cairn_checkpoint_clear(&cp_before);
    cairn_checkpoint_clear(&cp_after);
}

/* In a migrated store: the key of event id still returns entry dup_index,
 * and a new append gets next_index. Closes the store. */
static void s_assert_migrated_store_appends(s_fixture_t *f, const char *id, uint64_t dup_index,
                                            uint64_t next_index)
{
    char key[48];
    snprintf(key, sizeof key, "ce:/test\n%s", id);
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    cairn_ledger_append_t dup = lt_append_in(f->store, key, "CHG-1", NULL, id, 1764107400000);
    assert_true(dup.duplicate);
    assert_int_equal(dup.index, dup_index);
    cairn_ledger_append_t fresh = lt_append_in(f->store, NULL, "CHG-1", NULL, "new", 1764107400000);
    assert_int_equal(fresh.index, next_index);
    free(fresh.leaf);
    assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    cairn_ledger_store_destroy(&f->store);
}

/* Rewrites this layout's store as layout 3 wrote it: layout 4's databases
 * and a `keys` database, idempotency key -> index, beside `entry_keys`. */
static void s_downgrade_to_layout_3(const char *dir)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_cursor *cur = NULL;
    MDB_dbi keys, entry_keys, meta;
    MDB_val k, v;
    s_downgrade_to_layout_4(dir);
    assert_int_equal(cairn_lmdb_open(dir, LT_MAP_SIZE, CAIRN_LEDGER_MAX_DBS, &env), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "keys", MDB_CREATE, &keys), 0);
    assert_int_equal(mdb_dbi_open(txn, "entry_keys", 0, &entry_keys), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
    assert_int_equal(mdb_cursor_open(txn, entry_keys, &cur), 0);
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        assert_int_equal(mdb_put(txn, keys, &v, &k, MDB_NOOVERWRITE), 0);
    mdb_cursor_close(cur);
    assert_int_equal(cairn_lmdb_put_u64(txn, meta, CAIRN_LEDGER_META_LAYOUT, 3), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void test_a_layout_3_store_is_migrated_and_its_keys_still_deduplicate(void **state)
{
    s_fixture_t *f = *state;
    char id[32], key[48];
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof id, "k%d", i);
        snprintf(key, sizeof key, "ce:/test\n%s", id);
        cairn_ledger_append_t r =
            lt_append_in(f->store, i % 4 ? key : NULL, "CHG-1", NULL, id, 1764107400000);
        free(r.leaf);
    }
    assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    cairn_ledger_store_destroy(&f->store);

    s_downgrade_to_layout_3(f->dir);
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_ECONFIG);
    s_open(f);
    assert_true(cairn_ledger_store_migrated(f->store));
    /* Every keyed entry is found again from `entry_keys`; unkeyed ones have no key. */
    uint64_t index = 0;
    assert_int_equal(cairn_ledger_store_find_key(f->store, "ce:/test\nk5", &index), 0);
    assert_int_equal(index, 5);
    assert_int_equal(cairn_ledger_store_find_key(f->store, "ce:/test\nk4", &index),
                     CAIRN_ENOTFOUND);
    s_assert_migrated_store_appends(f, "k39", 39, 40);

    /* The log verifies, and `keys` is gone. */
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), 0);
    assert_int_equal(rep.size, 41);
    s_assert_no_db(f->dir, "keys");
    s_assert_no_db(f->dir, "leaves");
    s_open(f);
    assert_false(cairn_ledger_store_migrated(f->store));
}

/* Deletes entry index's payload as a layout-4 purge did, recording the
 * purge as entry by. */
static void s_purge_in_layout_4(const char *dir, uint64_t index, uint64_t by)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi payloads, purged;
    uint8_t kb[8], vb[8];
    cairn_u64_to_key(index, kb);
    cairn_u64_to_key(by, vb);
    MDB_val k = {8, kb}, v = {8, vb};
    assert_int_equal(cairn_lmdb_open(dir, LT_MAP_SIZE, CAIRN_LEDGER_MAX_DBS, &env), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "payloads", 0, &payloads), 0);
    assert_int_equal(mdb_dbi_open(txn, "purged", 0, &purged), 0);
    assert_int_equal(mdb_del(txn, payloads, &k, NULL), 0);
    assert_int_equal(mdb_put(txn, purged, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static void test_a_layout_4_store_becomes_one_record_per_entry(void **state)
{
    s_fixture_t *f = *state;
    char id[32], key[48];
    /* 75 entries in three batches: tree hashes up to level 6. */
    for (int b = 0; b < 3; b++) {
        assert_int_equal(cairn_ledger_store_begin(f->store), 0);
        for (int i = 0; i < 25; i++) {
            snprintf(id, sizeof id, "r%d-%d", b, i);
            snprintf(key, sizeof key, "ce:/test\n%s", id);
            cairn_ledger_append_t r =
                lt_append_in(f->store, i % 2 ? key : NULL, i % 3 ? "CHG-1" : "CHG-2", NULL, id,
                             1764107400000 + b);
            free(r.leaf);
        }
        assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    }
    s_entries_t before = {.n = 0}, after = {.n = 0};
    assert_int_equal(cairn_ledger_store_read(f->store, 0, 100, s_collect, &before), 0);
    assert_int_equal(before.n, 75);
    cairn_checkpoint_t cp_before, cp_after;
    s_checkpoint(f, 0, &cp_before);
    cairn_ledger_store_destroy(&f->store);

    s_downgrade_to_layout_4(f->dir);
    s_purge_in_layout_4(f->dir, 9, 74); /* as if entry 74 had purged it */
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_ECONFIG);
    s_open(f);
    assert_true(cairn_ledger_store_migrated(f->store));
    s_checkpoint(f, 0, &cp_after);
    assert_int_equal(cp_after.size, 75);
    assert_memory_equal(cp_after.root, cp_before.root, 32);

    /* Every entry reads back as before, entry 9 without its payload. */
    assert_int_equal(cairn_ledger_store_read(f->store, 0, 100, s_collect, &after), 0);
    assert_int_equal(after.n, 75);
    for (size_t i = 0; i < 75; i++) {
        Cairn__V1__Entry *x = before.items[i], *y = after.items[i];
        assert_int_equal(y->index, i);
        assert_string_equal(y->key, x->key);
        assert_int_equal(y->leaf.len, x->leaf.len);
        assert_memory_equal(y->leaf.data, x->leaf.data, x->leaf.len);
        assert_memory_equal(y->hash.data, x->hash.data, 32);
        assert_int_equal(y->record.len, i == 9 ? 0 : x->record.len);
        if (i != 9)
            assert_memory_equal(y->record.data, x->record.data, x->record.len);
    }
    /* Proofs from the records' hashes verify, at the latest size and at an
     * earlier checkpoint's (read from the store, not the edge in memory);
     * keys still deduplicate. */
    cairn_checkpoint_t cp_50;
    s_checkpoint(f, 50, &cp_50);
    assert_int_equal(cp_50.size, 50);
    for (uint64_t i = 0; i < 75; i += 7) {
        uint8_t lh[32], proof[CAIRN_MERKLE_MAX_PROOF * 32];
        size_t count = 0;
        assert_int_equal(cairn_ledger_store_prove(f->store, i, 75, lh, proof, &count), 0);
        assert_memory_equal(lh, after.items[i]->hash.data, 32);
        assert_int_equal(cairn_merkle_verify_inclusion(i, 75, lh, proof, count, cp_after.root), 0);
        if (i >= 50)
            continue;
        assert_int_equal(cairn_ledger_store_prove(f->store, i, 50, lh, proof, &count), 0);
        assert_int_equal(cairn_merkle_verify_inclusion(i, 50, lh, proof, count, cp_50.root), 0);
    }
    cairn_checkpoint_clear(&cp_50);
    s_assert_migrated_store_appends(f, "r2-3", 53, 75);

    /* The log verifies (one purged payload); the old databases are gone. */
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), 0);
    assert_int_equal(rep.size, 76);
    assert_int_equal(rep.purged, 1);
    s_assert_no_db(f->dir, "leaves");
    s_assert_no_db(f->dir, "payloads");
    s_assert_no_db(f->dir, "tree");
    s_open(f);
    assert_false(cairn_ledger_store_migrated(f->store));
    s_entries_free(&before);
    s_entries_free(&after);
    cairn_checkpoint_clear(&cp_before);
    cairn_checkpoint_clear(&cp_after);
}

/* Indexes a query serves, in the order it serves them. */
static int s_note_index(void *arg, uint64_t index, const uint8_t *entry, size_t len)
{
    (void)entry;
    (void)len;
    uint64_t *found = arg;
    assert_true(found[0] < 7);
    found[1 + found[0]++] = index;
    return 0;
}

static void test_a_layout_5_store_gains_its_environment_rows(void **state)
{
    s_fixture_t *f = *state;
    const char *envs[] = {"prod", NULL, "staging", "prod", NULL, "prod"};
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    for (size_t i = 0; i < 6; i++) {
        uint8_t *record = NULL;
        size_t len = 0;
        char id[16];
        snprintf(id, sizeof id, "env-%zu", i);
        lt_event_record_env("dev.cdevents.service.deployed.0.2.0", "CHG-1", NULL, NULL, envs[i], id,
                            &record, &len);
        cairn_ledger_record_t in = {
            .topic = "dev.cdevents.service.deployed.0.2.0",
            .change_id = "CHG-1",
            .environment = envs[i],
            .appended_at_ms = 1000 + (int64_t)i,
            .record = record,
            .record_len = len,
        };
        cairn_ledger_append_t out;
        assert_int_equal(cairn_ledger_store_append(f->store, &in, &out), 0);
        free(out.leaf);
        free(record);
    }
    assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    /* Entry 0's payload is purged (by entry 6): it can give no row. */
    cairn_ledger_purge_t plan;
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    assert_int_equal(cairn_ledger_purge_plan(f->store, 1001, 10, &plan), 0);
    assert_int_equal(plan.n, 1);
    cairn_ledger_append_t by = lt_append_in(f->store, NULL, "CHG-9", NULL, "purge", 2000);
    free(by.leaf);
    assert_int_equal(cairn_ledger_purge_apply(f->store, &plan, by.index), 0);
    cairn_ledger_purge_clear(&plan);
    assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    cairn_ledger_store_destroy(&f->store);

    /* Layout 5 as it wrote this log: no environment rows. */
    for (uint64_t i = 0; i < 6; i++) {
        if (!envs[i])
            continue;
        char key[32];
        uint8_t ib[8];
        int klen = snprintf(key, sizeof key, "e%s", envs[i]);
        cairn_u64_to_key(i, ib);
        lt_row(f->dir, "lookup", true, key, (size_t)klen, ib, sizeof ib);
    }
    s_set_layout(f->dir, 5);
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_ECONFIG);

    s_open(f);
    assert_true(cairn_ledger_store_migrated(f->store));
    uint64_t found[8] = {0};
    assert_int_equal(cairn_ledger_query(f->store, &(cairn_ledger_query_t){.environment = "prod"},
                                        s_note_index, found),
                     0);
    assert_int_equal(found[0], 2);
    assert_int_equal(found[1], 3);
    assert_int_equal(found[2], 5);
    memset(found, 0, sizeof found);
    assert_int_equal(cairn_ledger_query(f->store, &(cairn_ledger_query_t){.environment = "staging"},
                                        s_note_index, found),
                     0);
    assert_int_equal(found[0], 1);
    assert_int_equal(found[1], 2);
    cairn_ledger_store_destroy(&f->store);
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), 0);
    assert_int_equal(rep.size, 7);
    assert_int_equal(rep.purged, 1);
    s_open(f);
    assert_false(cairn_ledger_store_migrated(f->store));
}

static void test_a_migration_without_room_in_the_map_leaves_the_store_as_it_was(void **state)
{
    s_fixture_t *f = *state;
    for (int b = 0; b < 10; b++)
        lt_append_batch(f->store, 100, b % 2 ? "CHG-1" : "CHG-2");
    cairn_checkpoint_t before, after;
    s_checkpoint(f, 0, &before);
    cairn_ledger_store_destroy(&f->store);
    s_downgrade_to_layout_4(f->dir);

    /* A map no larger than the data (LMDB's least): no room for the copy. */
    assert_int_equal(cairn_ledger_store_open(f->dir, 1u << 20, LT_ORIGIN, f->signer, &f->store),
                     CAIRN_ETOOLARGE);
    assert_null(f->store);
    cairn_ledger_verify_report_t rep;
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), CAIRN_ECONFIG); /* still layout 4 */
    s_assert_no_db(f->dir, "entries");

    /* With room, the same store migrates, whole. */
    s_open(f);
    assert_true(cairn_ledger_store_migrated(f->store));
    assert_int_equal(cairn_ledger_store_size(f->store), 1000);
    s_checkpoint(f, 0, &after);
    assert_memory_equal(after.root, before.root, 32);
    cairn_ledger_store_destroy(&f->store);
    assert_int_equal(cairn_ledger_verify(f->dir, NULL, &rep), 0);
    assert_int_equal(rep.size, 1000);
    s_open(f);
    cairn_checkpoint_clear(&before);
    cairn_checkpoint_clear(&after);
}

static void test_times_that_step_back_are_still_found_by_time(void **state)
{
    s_fixture_t *f = *state;
    const int64_t t[] = {5000, 7000, 7000, 3000, 9000, 3000, 8000};
    assert_int_equal(cairn_ledger_store_begin(f->store), 0);
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char id[16];
        snprintf(id, sizeof id, "t%zu", i);
        cairn_ledger_append_t r = lt_append_in(f->store, NULL, "CHG-1", NULL, id, t[i]);
        free(r.leaf);
    }
    assert_int_equal(cairn_ledger_store_commit(f->store), 0);
    cairn_ledger_query_t q = {.from_ms = 3000, .to_ms = 7001};
    s_entries_t es = {.n = 0};
    assert_int_equal(cairn_ledger_query(f->store, &q, s_collect, &es), 0);
    const uint64_t want[] = {0, 1, 2, 3, 5};
    assert_int_equal(es.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < es.n; i++)
        assert_int_equal(es.items[i]->index, want[i]);
    s_entries_free(&es);
    q = (cairn_ledger_query_t){.from_ms = 8000};
    assert_int_equal(cairn_ledger_query(f->store, &q, s_collect, &es), 0);
    assert_int_equal(es.n, 2);
    assert_int_equal(es.items[0]->index, 4);
    assert_int_equal(es.items[1]->index, 6);
    s_entries_free(&es);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_an_appended_record_reads_back_as_leaf_and_payload,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_repeated_key_returns_the_original_index, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_tree_roots_match_a_from_scratch_computation_for_sizes_1_to_300, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(test_inclusion_and_consistency_proofs_verify_for_many_sizes,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_receipt_is_a_tlog_proof_that_verifies_with_the_vkey,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_leaves_chain_each_change_to_its_previous_entry,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_replay_reads_the_asked_page, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_reopening_keeps_entries_keys_and_checkpoints, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_an_aborted_batch_leaves_no_trace, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_flipped_last_leaf_or_root_node_refuses_to_open,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_tree_that_no_longer_matches_the_checkpoint_is_never_signed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_an_origin_or_key_for_another_log_is_refused, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_full_store_fails_the_whole_batch_and_stays_usable,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_store_in_another_layout_is_refused_not_misread,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_layout_2_store_is_migrated_with_every_entry_and_proof, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_layout_3_store_is_migrated_and_its_keys_still_deduplicate, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_a_layout_4_store_becomes_one_record_per_entry, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(test_a_layout_5_store_gains_its_environment_rows, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(
            test_a_migration_without_room_in_the_map_leaves_the_store_as_it_was, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(test_a_kept_checkpoint_is_checked_against_the_store,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_times_that_step_back_are_still_found_by_time, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
