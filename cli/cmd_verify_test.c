/* Tests for `cairn verify`: bundles built with the library verify, and each
 * kind of tampering is reported with a precise line and exit code 1; usage
 * mistakes (unreadable file, bad vkey) exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"
#include "ledger_client.h"
#include "testbundle.h"

static cairn_note_signer_t *s_signer;
static cairn_note_verifier_t *s_verifier;
static char *s_vkey;
static char s_tmp[64];

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_tmp, sizeof s_tmp, "/tmp/cairn-verify-test-XXXXXX");
    if (!mkdtemp(s_tmp) || cairn_note_signer_generate(CLI_TEST_ORIGIN, &s_signer) < 0 ||
        cairn_note_signer_vkey(s_signer, &s_vkey) < 0 ||
        cairn_note_verifier_parse(s_vkey, &s_verifier) < 0)
        return -1;
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    cairn_note_signer_destroy(&s_signer);
    cairn_note_verifier_destroy(&s_verifier);
    free(s_vkey);
    return system(cmd) == 0 ? 0 : -1;
}

typedef struct {
    int code;   /* exit code */
    char *text; /* what was written to out */
} s_result_t;

static s_result_t s_verify(const char *json, const cairn_note_verifier_t *v, bool as_json)
{
    s_result_t r = {0, NULL};
    size_t len = 0;
    FILE *out = open_memstream(&r.text, &len);
    r.code = cli_verify_bundle(out, stderr, json, strlen(json), v, as_json);
    fclose(out);
    return r;
}

/* The bundle as JSON to tamper with. */
static json_t *s_bundle_json(void)
{
    char *text = cli_test_bundle(s_signer);
    assert_non_null(text);
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    free(text);
    return j;
}

static json_t *s_entry(json_t *bundle, uint64_t index)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(bundle, "entries"), i, e)
    {
        if ((uint64_t)json_integer_value(json_object_get(e, "index")) == index)
            return e;
    }
    fail_msg("no entry %llu in the bundle", (unsigned long long)index);
    return NULL;
}

static s_result_t s_verify_json(json_t *bundle)
{
    char *text = json_dumps(bundle, JSON_COMPACT);
    s_result_t r = s_verify(text, s_verifier, false);
    free(text);
    return r;
}

static char *s_hex_sha256(const uint8_t *data, size_t len)
{
    uint8_t d[32];
    static char hex[65];
    cairn_sha256(data, len, d);
    cairn_hex(d, 32, hex);
    return hex;
}

static void a_bundle_from_the_library_verifies(void **state)
{
    (void)state;
    char *json = cli_test_bundle(s_signer);
    s_result_t r = s_verify(json, s_verifier, false);
    assert_int_equal(r.code, 0);
    char want[256];
    snprintf(want, sizeof want, "checkpoint " CLI_TEST_ORIGIN " size 7 root ");
    assert_true(strncmp(r.text, want, strlen(want)) == 0);
    snprintf(want, sizeof want, ": signature verified with " CLI_TEST_ORIGIN "+%08x\n",
             cairn_note_verifier_keyid(s_verifier));
    assert_non_null(strstr(r.text, want));
    assert_non_null(strstr(r.text, "\nOK: all 4 entries verified: checkpoint signature, inclusion "
                                   "proofs, payload digests, prev chains\n"));
    free(r.text);

    r = s_verify(json, s_verifier, true);
    assert_int_equal(r.code, 0);
    json_t *obj = json_loads(r.text, 0, NULL);
    assert_true(json_is_true(json_object_get(obj, "ok")));
    assert_int_equal(json_integer_value(json_object_get(obj, "entries")), 4);
    assert_int_equal(json_integer_value(json_object_get(obj, "entries_ok")), 4);
    assert_int_equal(json_array_size(json_object_get(obj, "findings")), 0);
    json_t *cp = json_object_get(obj, "checkpoint");
    assert_string_equal(json_string_value(json_object_get(cp, "origin")), CLI_TEST_ORIGIN);
    assert_int_equal(json_integer_value(json_object_get(cp, "size")), 7);
    json_decref(obj);
    free(r.text);
    free(json);
}

static void another_key_finds_no_signature(void **state)
{
    (void)state;
    cairn_note_signer_t *other = NULL;
    cairn_note_verifier_t *v = NULL;
    char *vkey = NULL;
    assert_int_equal(cairn_note_signer_generate(CLI_TEST_ORIGIN, &other), 0);
    assert_int_equal(cairn_note_signer_vkey(other, &vkey), 0);
    assert_int_equal(cairn_note_verifier_parse(vkey, &v), 0);
    char *json = cli_test_bundle(s_signer);
    s_result_t r = s_verify(json, v, false);
    assert_int_equal(r.code, 1);
    char want[256];
    snprintf(want, sizeof want, "checkpoint carries no signature by key " CLI_TEST_ORIGIN "+%08x\n",
             cairn_note_verifier_keyid(v));
    assert_non_null(strstr(r.text, want));
    /* Nothing is shown as verified without a trusted checkpoint. */
    assert_null(strstr(r.text, "signature verified"));
    assert_non_null(strstr(r.text, "FAILED: 1 problem; 0 of 4 entries verified\n"));
    free(r.text);
    free(json);
    free(vkey);
    cairn_note_verifier_destroy(&v);
    cairn_note_signer_destroy(&other);
}

static void a_forged_checkpoint_signature_fails(void **state)
{
    (void)state;
    json_t *b = s_bundle_json();
    /* Change the size the note claims: the signature no longer covers it. */
    char *note = strdup(json_string_value(json_object_get(b, "checkpoint")));
    char *size = strchr(note, '\n') + 1;
    assert_int_equal(*size, '7');
    *size = '8';
    json_object_set_new(b, "checkpoint", json_string(note));
    s_result_t r = s_verify_json(b);
    assert_int_equal(r.code, 1);
    char want[256];
    snprintf(want, sizeof want,
             "checkpoint signature by key " CLI_TEST_ORIGIN "+%08x does not "
             "verify\n",
             cairn_note_verifier_keyid(s_verifier));
    assert_non_null(strstr(r.text, want));
    free(r.text);
    free(note);
    json_decref(b);
}

static void a_swapped_payload_names_both_digests(void **state)
{
    (void)state;
    json_t *b = s_bundle_json();
    size_t len0 = 0, len3 = 0;
    uint8_t *p0 = cli_test_payload(0, &len0);
    uint8_t *p3 = cli_test_payload(3, &len3);
    char *b64 = cli_base64(p0, len0);
    json_object_set_new(s_entry(b, 3), "payload", json_string(b64));
    s_result_t r = s_verify_json(b);
    assert_int_equal(r.code, 1);
    char want[512];
    char got_hex[65];
    snprintf(got_hex, sizeof got_hex, "%s", s_hex_sha256(p0, len0));
    snprintf(want, sizeof want, "entry 3: payload SHA-256 is %s but the leaf records %s\n", got_hex,
             s_hex_sha256(p3, len3));
    assert_non_null(strstr(r.text, want));
    assert_non_null(strstr(r.text, "FAILED: 1 problem; 3 of 4 entries verified\n"));
    free(r.text);

    /* --json names the kind and the entry. */
    char *text = json_dumps(b, JSON_COMPACT);
    r = s_verify(text, s_verifier, true);
    assert_int_equal(r.code, 1);
    json_t *obj = json_loads(r.text, 0, NULL);
    assert_true(json_is_false(json_object_get(obj, "ok")));
    json_t *f = json_array_get(json_object_get(obj, "findings"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "kind")), "payload");
    assert_int_equal(json_integer_value(json_object_get(f, "index")), 3);
    assert_non_null(strstr(json_string_value(json_object_get(f, "message")), "entry 3: payload"));
    json_decref(obj);
    free(r.text);
    free(text);
    free(b64);
    free(p0);
    free(p3);
    json_decref(b);
}

static void a_bent_inclusion_proof_is_named(void **state)
{
    (void)state;
    json_t *b = s_bundle_json();
    json_t *inc = json_object_get(s_entry(b, 4), "inclusion");
    assert_true(json_array_size(inc) > 0);
    uint8_t zero[32] = {0};
    char *b64 = cli_base64(zero, sizeof zero);
    json_array_set_new(inc, 0, json_string(b64));
    s_result_t r = s_verify_json(b);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.text, "entry 4: inclusion proof does not lead from the leaf to the "
                                   "checkpoint root (size 7)\n"));
    free(r.text);
    free(b64);
    json_decref(b);
}

static void an_entry_under_another_index_is_named(void **state)
{
    (void)state;
    json_t *b = s_bundle_json();
    json_object_set_new(s_entry(b, 6), "index", json_integer(5));
    s_result_t r = s_verify_json(b);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.text, "entry 5: leaf says index 6\n"));
    free(r.text);
    json_decref(b);
}

static void a_missing_entry_breaks_the_chain(void **state)
{
    (void)state;
    json_t *b = s_bundle_json();
    json_t *entries = json_object_get(b, "entries");
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        if (json_integer_value(json_object_get(e, "index")) == 3)
            break;
    }
    json_array_remove(entries, i);
    s_result_t r = s_verify_json(b);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.text, "entry 4 of change CHG-1 names prev 3, which is not in the "
                                   "bundle\n"));
    free(r.text);
    json_decref(b);
}

static void a_repeated_entry_is_a_duplicate(void **state)
{
    (void)state;
    json_t *b = s_bundle_json();
    json_array_append(json_object_get(b, "entries"), s_entry(b, 4));
    s_result_t r = s_verify_json(b);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.text, "entry 4 appears more than once\n"));
    free(r.text);
    json_decref(b);
}

static void a_file_that_is_not_a_bundle_is_said_so(void **state)
{
    (void)state;
    s_result_t r = s_verify("{\"format\":", s_verifier, false);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.text, "bundle is not valid JSON"));
    assert_non_null(strstr(r.text, "FAILED: 1 problem; 0 of 0 entries verified\n"));
    free(r.text);
    r = s_verify("{\"format\":\"cairn.bundle/v0\"}", s_verifier, false);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.text, "bundle \"format\" is not \"cairn.bundle/v1\""));
    free(r.text);
}

static void a_finding_without_a_subject_gets_one(void **state)
{
    (void)state;
    char buf[256];
    cairn_finding_t f = {CAIRN_FINDING_PAYLOAD, true, 17, NULL, "payload is missing"};
    cli_verify_finding_text(&f, buf, sizeof buf);
    assert_string_equal(buf, "entry 17: payload is missing");
    cairn_finding_t g = {CAIRN_FINDING_CHAIN, false, 0, "CHG-9", "no first entry"};
    cli_verify_finding_text(&g, buf, sizeof buf);
    assert_string_equal(buf, "change CHG-9: no first entry");
    cairn_finding_t h = {CAIRN_FINDING_INCLUSION, true, 2, NULL, "entry 2: bad"};
    cli_verify_finding_text(&h, buf, sizeof buf);
    assert_string_equal(buf, "entry 2: bad");
}

static void the_vkey_is_text_or_a_file(void **state)
{
    (void)state;
    char err[512], path[128];
    char *text = NULL;
    cairn_note_verifier_t *v = NULL;
    assert_int_equal(cli_vkey_load(s_vkey, &text, &v, err, sizeof err), 0);
    assert_string_equal(text, s_vkey);
    free(text);
    cairn_note_verifier_destroy(&v);

    snprintf(path, sizeof path, "%s/log.vkey", s_tmp);
    FILE *f = fopen(path, "w");
    fprintf(f, "%s\n", s_vkey);
    fclose(f);
    assert_int_equal(cli_vkey_load(path, &text, &v, err, sizeof err), 0);
    assert_string_equal(text, s_vkey);
    assert_int_equal(cairn_note_verifier_keyid(v), cairn_note_verifier_keyid(s_verifier));
    free(text);
    cairn_note_verifier_destroy(&v);

    assert_true(cli_vkey_load("nobody+00000000+AAAA", NULL, &v, err, sizeof err) < 0);
    assert_null(v);
    assert_non_null(strstr(err, "is neither a verifier key"));

    f = fopen(path, "w");
    fprintf(f, "PRIVATE+KEY+oops\n");
    fclose(f);
    assert_int_equal(cli_vkey_load(path, NULL, &v, err, sizeof err), CAIRN_EPARSE);
    assert_non_null(strstr(err, "does not hold a verifier key"));
}

/* Runs the cairn executable; returns its exit code and keeps its output. */
static int s_cairn(const char *args, char **out, char **err)
{
    const char *bin = getenv("CAIRN_BIN_DIR");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s/cairn' %s >'%s/out' 2>'%s/err' </dev/null", bin ? bin : ".",
             args, s_tmp, s_tmp);
    int status = system(cmd);
    char path[128];
    size_t len;
    snprintf(path, sizeof path, "%s/out", s_tmp);
    assert_int_equal(cairn_read_file(path, 1 << 20, out, &len), 0);
    snprintf(path, sizeof path, "%s/err", s_tmp);
    assert_int_equal(cairn_read_file(path, 1 << 20, err, &len), 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void the_command_exits_0_1_or_2(void **state)
{
    (void)state;
    char path[128], args[1024];
    char *out = NULL, *err = NULL;
    snprintf(path, sizeof path, "%s/bundle.json", s_tmp);
    char *json = cli_test_bundle(s_signer);
    FILE *f = fopen(path, "w");
    fputs(json, f);
    fclose(f);

    snprintf(args, sizeof args, "verify '%s' --vkey '%s'", path, s_vkey);
    assert_int_equal(s_cairn(args, &out, &err), 0);
    assert_non_null(strstr(out, "OK: all 4 entries verified"));
    assert_string_equal(err, "");
    free(out);
    free(err);

    /* Tampered: exit 1 with the finding on stdout. */
    char *payload = strstr(json, "\"payload\":\"") + 11;
    payload[0] = payload[0] == 'A' ? 'B' : 'A';
    f = fopen(path, "w");
    fputs(json, f);
    fclose(f);
    assert_int_equal(s_cairn(args, &out, &err), 1);
    assert_non_null(strstr(out, "FAILED: "));
    free(out);
    free(err);

    snprintf(args, sizeof args, "verify '%s/missing.json' --vkey '%s'", s_tmp, s_vkey);
    assert_int_equal(s_cairn(args, &out, &err), 2);
    assert_non_null(strstr(err, "cairn verify: cannot read"));
    assert_non_null(strstr(err, "--help"));
    assert_string_equal(out, "");
    free(out);
    free(err);

    snprintf(args, sizeof args, "verify '%s' --vkey not-a-key", path);
    assert_int_equal(s_cairn(args, &out, &err), 2);
    assert_non_null(strstr(err, "'not-a-key' is neither a verifier key"));
    free(out);
    free(err);

    snprintf(args, sizeof args, "verify '%s'", path);
    assert_int_equal(s_cairn(args, &out, &err), 2);
    assert_non_null(strstr(err, "missing required option --vkey VKEY"));
    free(out);
    free(err);
    free(json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_bundle_from_the_library_verifies),
        cmocka_unit_test(another_key_finds_no_signature),
        cmocka_unit_test(a_forged_checkpoint_signature_fails),
        cmocka_unit_test(a_swapped_payload_names_both_digests),
        cmocka_unit_test(a_bent_inclusion_proof_is_named),
        cmocka_unit_test(an_entry_under_another_index_is_named),
        cmocka_unit_test(a_missing_entry_breaks_the_chain),
        cmocka_unit_test(a_repeated_entry_is_a_duplicate),
        cmocka_unit_test(a_file_that_is_not_a_bundle_is_said_so),
        cmocka_unit_test(a_finding_without_a_subject_gets_one),
        cmocka_unit_test(the_vkey_is_text_or_a_file),
        cmocka_unit_test(the_command_exits_0_1_or_2),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
