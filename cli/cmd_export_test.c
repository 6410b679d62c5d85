/* Tests for `cairn export`: its argument rules, and the in-toto statements
 * of --intoto, built from a library bundle and checked with the DSSE and
 * in-toto verifiers. (The round trip through a running ledger is in
 * cmd_log_test.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cairn/dsse.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"
#include "intoto.h"
#include "testbundle.h"

static void exactly_one_selector_and_at_least_one_file(void **state)
{
    (void)state;
    char err[256];
    assert_int_equal(cli_export_check("CHG-1", NULL, "b.json", NULL, err, sizeof err), 0);
    assert_int_equal(cli_export_check(NULL, "R-1", NULL, "s.jsonl", err, sizeof err), 0);
    assert_int_equal(cli_export_check("CHG-1", NULL, "b.json", "s.jsonl", err, sizeof err), 0);
    assert_int_equal(cli_export_check(NULL, NULL, "b.json", NULL, err, sizeof err), CAIRN_EINVALID);
    assert_string_equal(err, "give exactly one of --change C, --release R");
    assert_int_equal(cli_export_check("C", "R", "b.json", NULL, err, sizeof err), CAIRN_EINVALID);
    assert_int_equal(cli_export_check("C", NULL, NULL, NULL, err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "give -o FILE"));
    assert_int_equal(cli_export_check("C", NULL, "-", "-", err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "different files"));
}

/* Decodes standard base64. */
static uint8_t *s_unb64(const char *text, size_t *len_out)
{
    size_t cap = strlen(text);
    uint8_t *buf = malloc(cap + 1);
    assert_int_equal(sodium_base642bin(buf, cap + 1, text, strlen(text), NULL, len_out, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    return buf;
}

static void each_entry_becomes_a_signed_statement_about_its_leaf(void **state)
{
    (void)state;
    cairn_note_signer_t *signer = NULL;
    cairn_note_verifier_t *verifier = NULL;
    char *vkey = NULL;
    assert_int_equal(cairn_note_signer_generate(CLI_TEST_ORIGIN, &signer), 0);
    assert_int_equal(cairn_note_signer_vkey(signer, &vkey), 0);
    assert_int_equal(cairn_note_verifier_parse(vkey, &verifier), 0);
    char *bundle = cli_test_bundle(signer);
    json_t *bj = json_loads(bundle, 0, NULL);
    char *text = NULL;
    size_t len = 0, count = 0;
    assert_int_equal(cli_intoto_jsonl(bundle, strlen(bundle), signer, &text, &len, &count), 0);
    assert_int_equal(count, 4);
    assert_int_equal(strlen(text), len);

    size_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
        char *type = NULL, *pt = NULL;
        uint8_t *payload = NULL;
        size_t plen = 0;
        assert_int_equal(cairn_dsse_verify(line, strlen(line), verifier, &type, &payload, &plen),
                         0);
        assert_string_equal(type, CAIRN_DSSE_INTOTO_TYPE);
        assert_int_equal(cairn_intoto_check(payload, plen, &pt), 0);
        assert_string_equal(pt, CLI_INTOTO_PREDICATE_TYPE);

        /* The first subject is the leaf, by the SHA-256 of its bytes. */
        json_t *entry = json_array_get(json_object_get(bj, "entries"), n);
        size_t leaf_len = 0;
        uint8_t *leaf = s_unb64(json_string_value(json_object_get(entry, "leaf")), &leaf_len);
        uint8_t digest[32];
        char hex[65], name[128];
        cairn_sha256(leaf, leaf_len, digest);
        cairn_hex(digest, 32, hex);
        json_int_t index = json_integer_value(json_object_get(entry, "index"));
        snprintf(name, sizeof name, CLI_TEST_ORIGIN "/entry/%lld", (long long)index);
        json_t *st = json_loads((const char *)payload, 0, NULL);
        json_t *subjects = json_object_get(st, "subject");
        json_t *first = json_array_get(subjects, 0);
        assert_string_equal(json_string_value(json_object_get(first, "name")), name);
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(first, "digest"), "sha256")), hex);
        /* The event's commit is a subject too. */
        json_t *commit = json_array_get(subjects, 1);
        assert_string_equal(json_string_value(json_object_get(commit, "name")), "acme/payments");
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(commit, "digest"), "gitCommit")),
            CLI_TEST_COMMIT);

        json_t *pred = json_object_get(st, "predicate");
        json_t *log = json_object_get(pred, "log");
        assert_int_equal(json_integer_value(json_object_get(log, "index")), index);
        assert_int_equal(json_integer_value(json_object_get(log, "checkpoint_size")),
                         CLI_TEST_LOG_SIZE);
        assert_string_equal(json_string_value(json_object_get(pred, "change")), "CHG-1");
        json_t *prev = json_object_get(pred, "prev");
        if (index == 1)
            assert_true(json_is_null(prev));
        else
            assert_true(json_integer_value(prev) < index);
        char id[16];
        snprintf(id, sizeof id, "ev-%lld", (long long)index);
        json_t *ev = json_object_get(json_object_get(pred, "record"), "event");
        assert_string_equal(json_string_value(json_object_get(ev, "id")), id);

        json_decref(st);
        free(leaf);
        free(type);
        free(pt);
        free(payload);
    }
    assert_int_equal(n, 4);

    /* Statements signed by one key do not verify with another. */
    cairn_note_signer_t *other = NULL;
    char *other_vkey = NULL;
    cairn_note_verifier_t *other_v = NULL;
    assert_int_equal(cairn_note_signer_generate(CLI_TEST_ORIGIN, &other), 0);
    assert_int_equal(cairn_note_signer_vkey(other, &other_vkey), 0);
    assert_int_equal(cairn_note_verifier_parse(other_vkey, &other_v), 0);
    free(text);
    assert_int_equal(cli_intoto_jsonl(bundle, strlen(bundle), signer, &text, &len, &count), 0);
    char *nl = strchr(text, '\n');
    char *type = NULL;
    uint8_t *payload = NULL;
    size_t plen = 0;
    assert_int_equal(cairn_dsse_verify(text, (size_t)(nl - text), other_v, &type, &payload, &plen),
                     CAIRN_EINTEGRITY);

    assert_int_equal(cli_intoto_jsonl("[]", 2, signer, &text, &len, &count), CAIRN_EPARSE);

    free(text);
    free(other_vkey);
    cairn_note_verifier_destroy(&other_v);
    cairn_note_signer_destroy(&other);
    json_decref(bj);
    free(bundle);
    free(vkey);
    cairn_note_verifier_destroy(&verifier);
    cairn_note_signer_destroy(&signer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exactly_one_selector_and_at_least_one_file),
        cmocka_unit_test(each_entry_becomes_a_signed_statement_about_its_leaf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
