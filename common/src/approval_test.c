/* Signed approvals: the statement bytes, a known-answer signature computed
 * independently (Python `cryptography`, Ed25519 seed 0x01 * 32 named
 * "erin", 0x02 * 32 named "frank"), and every way a signature must fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/approval.h"
#include "cairn/error.h"

static const char ERIN_SKEY[] =
    "PRIVATE+KEY+erin+e66fe3bd+AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB";
static const char ERIN_VKEY[] = "erin+e66fe3bd+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c";
static const char ERIN_RAW[] = "ed25519:iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w=";
static const char FRANK_SKEY[] =
    "PRIVATE+KEY+frank+f208daa9+AQICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIC";
static const char FRANK_VKEY[] = "frank+f208daa9+AYE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU";
static const char SHA[] = "9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070";
static const char STATEMENT[] = "cairn-approval/v1\n"
                                "change CHG-1\n"
                                "commit 9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070\n"
                                "role dev\n"
                                "decision granted\n"
                                "approver erin\n"
                                "time 2026-11-25T10:00:00Z\n";
static const char ERIN_SIG[] =
    "5m/jvUaHzOle/3lwOCUAzrTFsCS2qEf/BRmmammHFFE1MEr1HcsFIMSJpYQi0XA7VoHMJvlBtW883+92amIF1x76xw0=";
/* frank's key over the same statement (naming erin). */
static const char FRANK_SIG[] =
    "8gjaqQlYTOTcOQJKZdMk2UBvw+5Nkou1zHUg4zGFgsuZZQNr3xP9ZphdpBIBf+bxjEMbOiJYnRb1jtsBWi9r6zMsLA0=";

static cairn_approval_stmt_t s_stmt(void)
{
    return (cairn_approval_stmt_t){.change = "CHG-1",
                                   .commit = SHA,
                                   .role = "dev",
                                   .decision = "granted",
                                   .approver = "erin",
                                   .signed_at = "2026-11-25T10:00:00Z"};
}

static cairn_note_verifier_t *s_verifier(const char *user, const char *text)
{
    cairn_note_verifier_t *v = NULL;
    char err[256];
    assert_int_equal(cairn_approval_key_parse(user, text, &v, err, sizeof err), 0);
    return v;
}

static void statement_is_the_documented_text(void **state)
{
    (void)state;
    cairn_approval_stmt_t st = s_stmt();
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(cairn_approval_statement(&st, &text, &len), 0);
    assert_int_equal(len, strlen(STATEMENT));
    assert_string_equal(text, STATEMENT);
    free(text);

    st.role = NULL; /* no role: no role line */
    assert_int_equal(cairn_approval_statement(&st, &text, &len), 0);
    assert_null(strstr(text, "role"));
    assert_non_null(strstr(text, "commit " "9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070\ndecision"));
    free(text);
}

static void statement_refuses_values_that_would_be_ambiguous(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    cairn_approval_stmt_t st = s_stmt();
    st.change = "CHG-1\napprover mallory";
    assert_int_equal(cairn_approval_statement(&st, &text, &len), CAIRN_EINVALID);
    st = s_stmt();
    st.approver = "erin smith";
    assert_int_equal(cairn_approval_statement(&st, &text, &len), CAIRN_EINVALID);
    st = s_stmt();
    st.commit = "";
    assert_int_equal(cairn_approval_statement(&st, &text, &len), CAIRN_EINVALID);
    st = s_stmt();
    st.decision = "maybe";
    assert_int_equal(cairn_approval_statement(&st, &text, &len), CAIRN_EINVALID);
    st = s_stmt();
    st.signed_at = "yesterday";
    assert_int_equal(cairn_approval_statement(&st, &text, &len), CAIRN_EINVALID);
}

static void signing_gives_the_known_answer_and_verifies(void **state)
{
    (void)state;
    cairn_note_signer_t *signer = NULL;
    assert_int_equal(cairn_note_signer_parse(ERIN_SKEY, &signer), 0);
    cairn_approval_stmt_t st = s_stmt();
    char *sig = NULL, *key = NULL;
    assert_int_equal(cairn_approval_sign(&st, signer, &sig, &key), 0);
    assert_string_equal(sig, ERIN_SIG);
    assert_string_equal(key, "erin+e66fe3bd");
    uint32_t keyid = 0;
    assert_int_equal(cairn_approval_signature_keyid(sig, &keyid), 0);
    assert_int_equal(keyid, 0xe66fe3bd);

    /* Either way of writing erin's key verifies it. */
    cairn_note_verifier_t *vkey = s_verifier("erin", ERIN_VKEY);
    cairn_note_verifier_t *raw = s_verifier("erin", ERIN_RAW);
    assert_int_equal(cairn_approval_verify(&st, sig, vkey), 0);
    assert_int_equal(cairn_approval_verify(&st, sig, raw), 0);
    free(sig);
    free(key);
    cairn_note_verifier_destroy(&vkey);
    cairn_note_verifier_destroy(&raw);
    cairn_note_signer_destroy(&signer);
}

static void a_tampered_field_does_not_verify(void **state)
{
    (void)state;
    cairn_note_verifier_t *v = s_verifier("erin", ERIN_VKEY);
    const char *other_sha = "0000000000000000000000000000000000000000";
    cairn_approval_stmt_t base = s_stmt();
    assert_int_equal(cairn_approval_verify(&base, ERIN_SIG, v), 0);
    cairn_approval_stmt_t changed[6];
    for (int i = 0; i < 6; i++)
        changed[i] = base;
    changed[0].change = "CHG-2";
    changed[1].commit = other_sha;
    changed[2].role = "tech_lead";
    changed[3].decision = "rejected";
    changed[4].signed_at = "2026-11-25T10:00:01Z";
    changed[5].role = NULL;
    for (int i = 0; i < 6; i++)
        assert_int_equal(cairn_approval_verify(&changed[i], ERIN_SIG, v), CAIRN_EINTEGRITY);

    /* A flipped bit in the signature itself. */
    char sig[sizeof ERIN_SIG];
    memcpy(sig, ERIN_SIG, sizeof sig);
    sig[20] = sig[20] == 'A' ? 'B' : 'A';
    assert_int_equal(cairn_approval_verify(&base, sig, v), CAIRN_EINTEGRITY);
    assert_int_equal(cairn_approval_verify(&base, "not base64!", v), CAIRN_EPARSE);
    assert_int_equal(cairn_approval_verify(&base, "", v), CAIRN_EPARSE);
    cairn_note_verifier_destroy(&v);
}

static void another_persons_key_does_not_verify(void **state)
{
    (void)state;
    cairn_approval_stmt_t st = s_stmt();
    cairn_note_verifier_t *erin = s_verifier("erin", ERIN_VKEY);
    cairn_note_verifier_t *frank = s_verifier("frank", FRANK_VKEY);
    /* frank signed a statement naming erin: not erin's key. */
    assert_int_equal(cairn_approval_verify(&st, FRANK_SIG, erin), CAIRN_ENOTFOUND);
    uint32_t keyid = 0;
    assert_int_equal(cairn_approval_signature_keyid(FRANK_SIG, &keyid), 0);
    assert_int_equal(keyid, 0xf208daa9);
    /* erin's signature checked with frank's key. */
    assert_int_equal(cairn_approval_verify(&st, ERIN_SIG, frank), CAIRN_ENOTFOUND);

    /* The signer must be named after the approver. */
    cairn_note_signer_t *signer = NULL;
    char *sig = NULL, *key = NULL;
    assert_int_equal(cairn_note_signer_parse(FRANK_SKEY, &signer), 0);
    assert_int_equal(cairn_approval_sign(&st, signer, &sig, &key), CAIRN_EINVALID);
    cairn_note_signer_destroy(&signer);
    cairn_note_verifier_destroy(&erin);
    cairn_note_verifier_destroy(&frank);
}

static void keys_are_checked_against_their_owner(void **state)
{
    (void)state;
    cairn_note_verifier_t *v = NULL;
    char err[256];
    assert_int_equal(cairn_approval_key_parse("erin", FRANK_VKEY, &v, err, sizeof err),
                     CAIRN_EINVALID);
    assert_non_null(strstr(err, "frank's"));
    assert_int_equal(cairn_approval_key_parse("erin", "ed25519:AAAA", &v, err, sizeof err),
                     CAIRN_EPARSE);
    assert_int_equal(cairn_approval_key_parse("erin", "rsa:abc", &v, err, sizeof err),
                     CAIRN_EPARSE);
    assert_null(v);
}

static void via_names_the_source_and_its_authentication(void **state)
{
    (void)state;
    char buf[128];
    cairn_approval_via("servicenow", "webhook-signature", buf, sizeof buf);
    assert_string_equal(buf, "servicenow (authenticated by webhook-signature)");
    assert_true(cairn_approval_via_itsm_authenticated(buf));
    cairn_approval_via("jira", "unsigned (ingest.allow_unsigned_jira)", buf, sizeof buf);
    assert_string_equal(buf, "jira (unauthenticated)");
    assert_false(cairn_approval_via_itsm_authenticated(buf));
    cairn_approval_via("cloudevents", "none", buf, sizeof buf);
    assert_string_equal(buf, "cloudevents (unauthenticated)");
    cairn_approval_via("github", "x-hub-signature-256", buf, sizeof buf);
    assert_false(cairn_approval_via_itsm_authenticated(buf));
    cairn_approval_via("", "none", buf, sizeof buf);
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(statement_is_the_documented_text),
        cmocka_unit_test(statement_refuses_values_that_would_be_ambiguous),
        cmocka_unit_test(signing_gives_the_known_answer_and_verifies),
        cmocka_unit_test(a_tampered_field_does_not_verify),
        cmocka_unit_test(another_persons_key_does_not_verify),
        cmocka_unit_test(keys_are_checked_against_their_owner),
        cmocka_unit_test(via_names_the_source_and_its_authentication),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
