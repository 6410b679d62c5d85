/* Known-answer tests for DSSE (V5 PAE, V6.7 Ed25519 envelope over an
 * in-toto Statement, reference/ledger-vectors.md) and in-toto checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/dsse.h"
#include "cairn/error.h"
#include "cairn/note.h"
#include "cairn/util.h"

static const char STATEMENT[] =
    "{\"_type\":\"https://in-toto.io/Statement/"
    "v1\",\"subject\":[{\"name\":\"cairn-demo-1.0.0.tar.gz\","
    "\"digest\":{\"sha256\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}]"
    ","
    "\"predicateType\":\"https://in-toto.io/attestation/test-result/"
    "v0.1\",\"predicate\":{\"result\":"
    "\"PASSED\",\"configuration\":[{\"uri\":\"https://ci.example.com/cairn/config.yml\",\"digest\":"
    "{\"sha256\":\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}}],"
    "\"passedTests\":"
    "[\"unit\",\"integration\"]}}";

static const char ENVELOPE[] =
    "{\"payload\":"
    "\"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJzdWJqZWN0IjpbeyJuYW1lIjoiY2Fpcm4t"
    "ZGVtby0xLjAuMC50YXIuZ3oiLCJkaWdlc3QiOnsic2hhMjU2IjoiYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYW"
    "FhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYSJ9fV0sInByZWRpY2F0ZVR5cGUiOiJodHRwczovL2luLXRvdG8u"
    "aW8vYXR0ZXN0YXRpb24vdGVzdC1yZXN1bHQvdjAuMSIsInByZWRpY2F0ZSI6eyJyZXN1bHQiOiJQQVNTRUQiLCJjb25maW"
    "d1cmF0aW9uIjpbeyJ1cmkiOiJodHRwczovL2NpLmV4YW1wbGUuY29tL2NhaXJuL2NvbmZpZy55bWwiLCJkaWdlc3QiOnsi"
    "c2hhMjU2IjoiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYmJiYm"
    "JiYiJ9fV0sInBhc3NlZFRlc3RzIjpbInVuaXQiLCJpbnRlZ3JhdGlvbiJdfX0=\","
    "\"payloadType\":\"application/vnd.in-toto+json\",\"signatures\":[{\"keyid\":\"\",\"sig\":"
    "\"r0Bi+VJN9MK3p8om9STVDghHzLw+9weEgeqCzp4WwJCN8UA05XK9a/"
    "tXfXwXZkK00K4XUV2lIsZA+X2MzD1nCg==\"}]}";

static void assert_sha256_hex(const void *data, size_t len, const char *hex)
{
    uint8_t d[32];
    char got[65];
    cairn_sha256(data, len, d);
    cairn_hex(d, 32, got);
    assert_string_equal(got, hex);
}

static cairn_note_signer_t *test1_signer(void)
{
    uint8_t seed[32];
    size_t n = 0;
    assert_int_equal(
        sodium_hex2bin(seed, 32, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
                       64, NULL, &n, NULL),
        0);
    cairn_note_signer_t *s = NULL;
    assert_int_equal(cairn_note_signer_from_seed("dsse-test", seed, &s), 0);
    return s;
}

static cairn_note_verifier_t *verifier_of(const cairn_note_signer_t *s)
{
    char *vkey = NULL;
    cairn_note_verifier_t *v = NULL;
    assert_int_equal(cairn_note_signer_vkey(s, &vkey), 0);
    assert_int_equal(cairn_note_verifier_parse(vkey, &v), 0);
    free(vkey);
    return v;
}

static void pae_matches_the_dsse_vector(void **state)
{
    uint8_t *pae = NULL;
    size_t len = 0;
    assert_int_equal(cairn_dsse_pae("http://example.com/HelloWorld", "hello world", 11, &pae, &len),
                     0);
    const char *want = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(pae, want, len);
    free(pae);
    assert_int_equal(cairn_dsse_pae("", NULL, 0, &pae, &len), 0);
    assert_int_equal(len, strlen("DSSEv1 0  0 "));
    assert_memory_equal(pae, "DSSEv1 0  0 ", len);
    free(pae);
}

static void ed25519_envelope_over_a_statement_is_byte_exact(void **state)
{
    size_t plen = strlen(STATEMENT);
    assert_int_equal(plen, 467);
    assert_sha256_hex(STATEMENT, plen,
                      "22e8de17af6360c1682127c9f34c5169dead3c49d8520765731d9d4145bc0e23");
    uint8_t *pae = NULL;
    size_t pae_len = 0;
    assert_int_equal(cairn_dsse_pae(CAIRN_DSSE_INTOTO_TYPE, STATEMENT, plen, &pae, &pae_len), 0);
    assert_int_equal(pae_len, 510);
    assert_sha256_hex(pae, pae_len,
                      "cb6d3c0cec7c58f62de5220430573017d96d5437f05216474bd5fb206b8b06ea");
    free(pae);

    cairn_note_signer_t *s = test1_signer();
    char *env = NULL;
    size_t len = 0;
    assert_int_equal(cairn_dsse_sign(s, NULL, CAIRN_DSSE_INTOTO_TYPE, STATEMENT, plen, &env, &len),
                     0);
    assert_string_equal(env, ENVELOPE);
    assert_int_equal(len, strlen(ENVELOPE));
    free(env);
    /* The leaf hash of those exact envelope bytes (V6.7). */
    uint8_t lh[32];
    char hex[65];
    cairn_merkle_leaf_hash(ENVELOPE, strlen(ENVELOPE), lh);
    cairn_hex(lh, 32, hex);
    assert_string_equal(hex, "af670d7cb2344cb427775f8d2e257d78d631f3a7f4e365020e092c15c00975e5");
    cairn_note_signer_destroy(&s);
}

static void envelopes_verify_and_hand_back_the_exact_payload(void **state)
{
    cairn_note_signer_t *s = test1_signer();
    cairn_note_verifier_t *v = verifier_of(s);
    char *type = NULL;
    uint8_t *payload = NULL;
    size_t len = 0;
    assert_int_equal(cairn_dsse_verify(ENVELOPE, strlen(ENVELOPE), v, &type, &payload, &len), 0);
    assert_string_equal(type, CAIRN_DSSE_INTOTO_TYPE);
    assert_int_equal(len, strlen(STATEMENT));
    assert_memory_equal(payload, STATEMENT, len);
    free(type);
    free(payload);

    /* URL-safe base64 without padding is accepted too. */
    uint8_t sig[64];
    size_t n = 0;
    const char *sig64 =
        "r0Bi+VJN9MK3p8om9STVDghHzLw+9weEgeqCzp4WwJCN8UA05XK9a/tXfXwXZkK00K4XUV2lIsZA+X2MzD1nCg==";
    assert_int_equal(sodium_base642bin(sig, sizeof sig, sig64, strlen(sig64), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    char p64[1024], s64[128], url[2048];
    sodium_bin2base64(p64, sizeof p64, (const unsigned char *)STATEMENT, strlen(STATEMENT),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_bin2base64(s64, sizeof s64, sig, sizeof sig, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    assert_non_null(strpbrk(s64, "-_"));
    snprintf(url, sizeof url,
             "{\"payload\":\"%s\",\"payloadType\":\"%s\",\"signatures\":[{\"sig\":\"%s\"}]}", p64,
             CAIRN_DSSE_INTOTO_TYPE, s64);
    assert_int_equal(cairn_dsse_verify(url, strlen(url), v, &type, &payload, &len), 0);
    assert_memory_equal(payload, STATEMENT, len);
    free(type);
    free(payload);

    /* A changed payload type or payload fails. */
    char *bad = strdup(ENVELOPE);
    char *t = strstr(bad, "in-toto+json");
    t[0] = 'X';
    assert_int_equal(cairn_dsse_verify(bad, strlen(bad), v, &type, &payload, &len),
                     CAIRN_EINTEGRITY);
    free(bad);
    bad = strdup(ENVELOPE);
    bad[12] = bad[12] == 'A' ? 'B' : 'A';
    assert_int_equal(cairn_dsse_verify(bad, strlen(bad), v, &type, &payload, &len),
                     CAIRN_EINTEGRITY);
    free(bad);
    assert_int_equal(cairn_dsse_verify("{\"payload\":1}", 13, v, &type, &payload, &len),
                     CAIRN_EPARSE);
    assert_int_equal(cairn_dsse_verify("nope", 4, v, &type, &payload, &len), CAIRN_EPARSE);

    /* The DSSE spec's ECDSA P-256 vector parses but no Ed25519 key verifies it. */
    const char *ecdsa =
        "{\"payload\": \"aGVsbG8gd29ybGQ=\", \"payloadType\": \"http://example.com/HelloWorld\", "
        "\"signatures\": [{\"sig\": "
        "\"A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="
        "\"}]}";
    assert_int_equal(cairn_dsse_verify(ecdsa, strlen(ecdsa), v, &type, &payload, &len),
                     CAIRN_EINTEGRITY);
    cairn_note_verifier_destroy(&v);
    cairn_note_signer_destroy(&s);
}

static void intoto_statements_are_checked(void **state)
{
    char *pt = NULL;
    assert_int_equal(cairn_intoto_check(STATEMENT, strlen(STATEMENT), &pt), 0);
    assert_string_equal(pt, "https://in-toto.io/attestation/test-result/v0.1");
    free(pt);
    const char *bad[] = {
        "{\"_type\":\"https://in-toto.io/Statement/"
        "v0.1\",\"subject\":[{\"digest\":{\"sha256\":\"aa\"}}],\"predicateType\":\"x\"}",
        "{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[],\"predicateType\":\"x\"}",
        "{\"_type\":\"https://in-toto.io/Statement/"
        "v1\",\"subject\":[{\"name\":\"a\"}],\"predicateType\":\"x\"}",
        "{\"_type\":\"https://in-toto.io/Statement/"
        "v1\",\"subject\":[{\"digest\":{\"sha256\":\"AA\"}}],\"predicateType\":\"x\"}",
        "{\"_type\":\"https://in-toto.io/Statement/"
        "v1\",\"subject\":[{\"digest\":{\"sha256\":\"aa\"}}],\"predicateType\":\"x\"}",
        "{\"_type\":\"https://in-toto.io/Statement/"
        "v1\",\"subject\":[{\"digest\":{\"gitCommit\":\"abcd\"}}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cairn_intoto_check(bad[i], strlen(bad[i]), &pt) != CAIRN_EINVALID)
            fail_msg("statement %zu accepted", i);
    const char *git = "{\"_type\":\"https://in-toto.io/Statement/"
                      "v1\",\"subject\":[{\"digest\":{\"gitCommit\":\"abcd\"}}],\"predicateType\":"
                      "\"p\",\"extra\":1}";
    assert_int_equal(cairn_intoto_check(git, strlen(git), &pt), 0);
    free(pt);
    assert_int_equal(cairn_intoto_check("[", 1, &pt), CAIRN_EPARSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pae_matches_the_dsse_vector),
        cmocka_unit_test(ed25519_envelope_over_a_statement_is_byte_exact),
        cmocka_unit_test(envelopes_verify_and_hand_back_the_exact_payload),
        cmocka_unit_test(intoto_statements_are_checked),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
