/* Known-answer tests for signed notes, keys, checkpoints and tlog-proofs:
 * Go sumdb/note (V4.1), the C2SP examples (V4.2, V4.3) and Cairn's derived
 * Ed25519 vectors (V6.1-V6.5) from reference/ledger-vectors.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/merkle.h"
#include "cairn/note.h"

#define EM "\xe2\x80\x94"

static const char PETER_SKEY[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char PETER_VKEY[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char ENOCH_VKEY[] = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
static const char PETER_TEXT[] = "If you think cryptography is the answer to your problem,\n"
                                 "then you don't know what your problem is.\n";
static const char PETER_SIG[] =
    EM " PeterNeumann "
       "x08go/ZJkuBS9UG/"
       "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
static const char ENOCH_SIG[] = EM " EnochRoot "
                                   "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/"
                                   "5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

static const char LOG_NAME[] = "example.com/cairn-test-log";
static const char LOG_SEED_HEX[] =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char LOG_VKEY[] =
    "example.com/cairn-test-log+667acdee+AddamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea";
static const char ROOT8_B64[] = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
static const char CHECKPOINT8[] =
    "example.com/cairn-test-log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n" EM
    " example.com/cairn-test-log "
    "ZnrN7kGKw4iqy6Dmb6mpAucesa+JCvyrfl+Ti5uUmToL5rE9LldvhQYciis0RuxtjiZJ0rsPy0qHu8euL/4/"
    "AOjb2wE=\n";
static const char CHECKPOINT0[] =
    "example.com/cairn-test-log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n" EM
    " example.com/cairn-test-log "
    "ZnrN7mzdiVilw67fWwjB5fN6nzWFH7URT7nDnhBNKC1uiIgpxHyhnS3tb18zrv5pve/r8UhVq+cwMCx8q+UZ0l/"
    "UKQM=\n";
static const char WITNESS_SIG[] = EM
    " example.com/cairn-test-witness "
    "kZgCcAAAAABlU/EAXl72IUmMxXhIbL+5ARWxyrfMEzlsSbyswLnXvbyd1OzaEquWdUYqcyYn3m8xj49X464fw92YkUM/"
    "Y9u13YfjBw==\n";

static void unhex(const char *hex, uint8_t *out, size_t len)
{
    size_t n = 0;
    assert_int_equal(sodium_hex2bin(out, len, hex, strlen(hex), NULL, &n, NULL), 0);
    assert_int_equal(n, len);
}

static void unb64(const char *b64, uint8_t *out, size_t len)
{
    size_t n = 0;
    assert_int_equal(sodium_base642bin(out, len, b64, strlen(b64), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(n, len);
}

static char *cat(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = c ? strlen(c) : 0;
    char *s = malloc(la + lb + lc + 1);
    assert_non_null(s);
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    if (c)
        memcpy(s + la + lb, c, lc);
    s[la + lb + lc] = '\0';
    return s;
}

static cairn_note_verifier_t *verifier(const char *vkey)
{
    cairn_note_verifier_t *v = NULL;
    assert_int_equal(cairn_note_verifier_parse(vkey, &v), 0);
    return v;
}

static int verify_str(const char *note, const cairn_note_verifier_t *v)
{
    size_t text_len = 0;
    return cairn_note_verify(note, strlen(note), v, &text_len);
}

/* ---- V4.1 Go sumdb/note -------------------------------------------- */

static void go_signer_key_parses_and_signs_byte_for_byte(void **state)
{
    cairn_note_signer_t *s = NULL;
    assert_int_equal(cairn_note_signer_parse(PETER_SKEY, &s), 0);
    assert_string_equal(cairn_note_signer_name(s), "PeterNeumann");
    assert_int_equal(cairn_note_signer_keyid(s), 0xc74f20a3);
    uint8_t pk[32], want[32];
    cairn_note_signer_public_key(s, pk);
    unhex("1a5cd907143c384c41e830c5bce12aa8817ec5649aaabf2c31388b35b2d744d6", want, 32);
    assert_memory_equal(pk, want, 32);
    char *vkey = NULL;
    assert_int_equal(cairn_note_signer_vkey(s, &vkey), 0);
    assert_string_equal(vkey, PETER_VKEY);
    free(vkey);
    char skey[256];
    assert_int_equal(cairn_note_signer_format(s, skey, sizeof skey), 0);
    assert_string_equal(skey, PETER_SKEY);
    assert_int_equal(cairn_note_signer_format(s, skey, 20), CAIRN_ETOOLARGE);

    char *note = NULL;
    size_t len = 0;
    assert_int_equal(cairn_note_sign(PETER_TEXT, strlen(PETER_TEXT), s, &note, &len), 0);
    char *want_note = cat(PETER_TEXT, "\n", PETER_SIG);
    assert_string_equal(note, want_note);
    assert_int_equal(len, strlen(want_note));
    free(note);
    free(want_note);
    cairn_note_signer_destroy(&s);
    assert_null(s);
    cairn_note_signer_destroy(&s);
}

static void go_note_verifies_and_ignores_unknown_keys(void **state)
{
    cairn_note_verifier_t *peter = verifier(PETER_VKEY), *enoch = verifier(ENOCH_VKEY);
    cairn_note_verifier_t *other = verifier(LOG_VKEY);
    assert_int_equal(cairn_note_verifier_keyid(enoch), 0xaf0cfe78);
    char *both = cat(PETER_TEXT, "\n", PETER_SIG);
    char *tmp = cat(both, ENOCH_SIG, NULL);
    free(both);
    both = tmp;

    size_t text_len = 0;
    assert_int_equal(cairn_note_verify(both, strlen(both), peter, &text_len), 0);
    assert_int_equal(text_len, 99);
    assert_memory_equal(both, PETER_TEXT, text_len);
    assert_int_equal(verify_str(both, enoch), 0);
    assert_int_equal(verify_str(both, other), CAIRN_ENOTFOUND); /* no verifiable signatures */

    /* Same name, different key id: someone else's key, ignored. */
    uint8_t pk[32] = {1};
    cairn_note_verifier_t *impostor = NULL;
    assert_int_equal(cairn_note_verifier_new("PeterNeumann", pk, &impostor), 0);
    assert_int_equal(verify_str(both, impostor), CAIRN_ENOTFOUND);
    cairn_note_verifier_destroy(&impostor);

    /* 100 signature lines are accepted, 101 are malformed. */
    size_t cap = strlen(PETER_TEXT) + 1 + 101 * strlen(PETER_SIG) + 1;
    char *many = malloc(cap);
    assert_non_null(many);
    strcpy(many, PETER_TEXT);
    strcat(many, "\n");
    for (int i = 0; i < 100; i++)
        strcat(many, PETER_SIG);
    assert_int_equal(verify_str(many, peter), 0);
    strcat(many, PETER_SIG);
    assert_int_equal(verify_str(many, peter), CAIRN_EPARSE);
    free(many);

    /* "ABCD" spliced into Peter's line at offset 60: a known key whose
     * signature fails rejects the whole note. */
    char bad[256];
    snprintf(bad, sizeof bad, "%.60sABCD%s", PETER_SIG, PETER_SIG + 60);
    char *badnote = cat(PETER_TEXT, "\n", bad);
    assert_int_equal(verify_str(badnote, peter), CAIRN_EINTEGRITY);
    free(badnote);
    /* A flipped text byte fails too. */
    char *flipped = cat(PETER_TEXT, "\n", PETER_SIG);
    flipped[3] ^= 0x20;
    assert_int_equal(verify_str(flipped, peter), CAIRN_EINTEGRITY);
    free(flipped);

    free(both);
    cairn_note_verifier_destroy(&peter);
    cairn_note_verifier_destroy(&enoch);
    cairn_note_verifier_destroy(&other);
}

static void malformed_notes_are_rejected(void **state)
{
    cairn_note_verifier_t *peter = verifier(PETER_VKEY);
    char sig_no_nl[256];
    snprintf(sig_no_nl, sizeof sig_no_nl, "%.*s", (int)strlen(PETER_SIG) - 1, PETER_SIG);
    char *cases[] = {
        cat(PETER_TEXT, "", NULL),
        cat("\n", "", NULL),
        cat(PETER_TEXT, "\n", sig_no_nl),
        cat("\x01", PETER_TEXT, "\n"),
        cat("\xff", PETER_TEXT, "\n"),
        cat(PETER_TEXT,
            "\n" EM " Bad Name "
                    "x08go/ZJkuBS9UG/"
                    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
            NULL),
        cat(PETER_TEXT, "\n", PETER_SIG),
        cat(PETER_TEXT, "\n", ""),
        cat(PETER_TEXT,
            "\n- PeterNeumann "
            "x08go/ZJkuBS9UG/"
            "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
            NULL),
        cat(PETER_TEXT, "\n" EM " PeterNeumann not*base64\n", NULL),
        cat(PETER_TEXT, "\r\n", PETER_SIG),
    };
    /* Finish the composite cases: leading 0x01/0xff with Peter's line, and an
     * unexpected line after the signatures. */
    char *t;
    t = cat(cases[3], PETER_SIG, NULL), free(cases[3]), cases[3] = t;
    t = cat(cases[4], PETER_SIG, NULL), free(cases[4]), cases[4] = t;
    t = cat(cases[6], "Unexpected line.\n", NULL), free(cases[6]), cases[6] = t;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (verify_str(cases[i], peter) != CAIRN_EPARSE)
            fail_msg("case %zu not rejected as malformed", i);
        free(cases[i]);
    }
    cairn_note_verifier_destroy(&peter);
}

static void bad_verifier_keys_are_rejected(void **state)
{
    cairn_note_verifier_t *v = NULL;
    size_t len = strlen(PETER_VKEY);
    char buf[128];
    for (size_t a = 0; a < len; a++)
        for (size_t b = a; b <= len; b++) {
            if (a == 0 && b == len)
                continue;
            snprintf(buf, sizeof buf, "%.*s", (int)(b - a), PETER_VKEY + a);
            if (cairn_note_verifier_parse(buf, &v) == 0)
                fail_msg("substring [%zu,%zu) \"%s\" accepted", a, b, buf);
        }
    for (size_t i = 0; i < len; i++) {
        strcpy(buf, PETER_VKEY);
        buf[i]++;
        if (cairn_note_verifier_parse(buf, &v) == 0)
            fail_msg("byte %zu incremented accepted: %s", i, buf);
    }
    assert_int_equal(
        cairn_note_verifier_parse(
            "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", &v),
        CAIRN_EPARSE);
    assert_int_equal(cairn_note_verifier_parse(
                         "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &v),
                     CAIRN_EPARSE);
    /* Ed25519 cosignature keys (type 0x04) are not note-signing keys. */
    assert_int_equal(
        cairn_note_verifier_parse(
            "example.com/cairn-test-witness+91980270+BD1AF8PoQ4lakrcKp00bfrycmCzPLsSWjMDNVfEq9GYM",
            &v),
        CAIRN_EPARSE);
    assert_null(v);
    /* A trailing newline (as in a .vkey file) is fine; round trip. */
    snprintf(buf, sizeof buf, "%s\n", PETER_VKEY);
    assert_int_equal(cairn_note_verifier_parse(buf, &v), 0);
    char *text = NULL;
    assert_int_equal(cairn_note_verifier_format(v, &text), 0);
    assert_string_equal(text, PETER_VKEY);
    assert_string_equal(cairn_note_verifier_name(v), "PeterNeumann");
    free(text);
    cairn_note_verifier_destroy(&v);
    assert_null(v);
}

static void bad_signer_keys_are_rejected(void **state)
{
    cairn_note_signer_t *s = NULL;
    assert_int_equal(cairn_note_signer_parse(PETER_VKEY, &s), CAIRN_EPARSE);
    assert_int_equal(
        cairn_note_signer_parse(
            "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", &s),
        CAIRN_EPARSE);
    assert_int_equal(
        cairn_note_signer_parse(
            "PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", &s),
        CAIRN_EPARSE);
    assert_int_equal(
        cairn_note_signer_parse(
            "PRIVATE+KEY+Peter Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz", &s),
        CAIRN_EPARSE);
    assert_null(s);
    assert_int_equal(cairn_note_signer_generate("bad name", &s), CAIRN_EINVALID);
    assert_int_equal(cairn_note_signer_generate("a+b", &s), CAIRN_EINVALID);
    assert_int_equal(cairn_note_signer_generate("", &s), CAIRN_EINVALID);
    assert_int_equal(cairn_note_signer_generate("nbsp\xc2\xa0name", &s), CAIRN_EINVALID);
    assert_null(s);
    assert_true(cairn_note_key_name_valid("example.com/log-1"));
    assert_true(cairn_note_key_name_valid("caf\xc3\xa9"));
    assert_false(cairn_note_key_name_valid("caf\xc3"));
}

/* ---- V4.2, V4.3 C2SP examples -------------------------------------- */

static void c2sp_signed_note_example_verifies(void **state)
{
    cairn_note_verifier_t *v =
        verifier("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
    const char *note =
        "This is an example message.\n\n" EM " example.com/foo "
                                             "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Zt"
                                             "g1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
    size_t text_len = 0;
    assert_int_equal(cairn_note_verify(note, strlen(note), v, &text_len), 0);
    assert_int_equal(text_len, 28);
    cairn_note_verifier_destroy(&v);
}

static void c2sp_checkpoint_example_parses(void **state)
{
    const char *note =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n" EM
        " example.com/behind-the-sofa "
        "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
        "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
    /* Its key is not published: the signature is well-formed but by an unknown key. */
    cairn_note_verifier_t *v = verifier(LOG_VKEY);
    assert_int_equal(verify_str(note, v), CAIRN_ENOTFOUND);
    cairn_note_verifier_destroy(&v);
    const char *text_end = strstr(note, "\n\n");
    cairn_checkpoint_t cp = {0};
    assert_int_equal(cairn_checkpoint_parse(note, (size_t)(text_end - note) + 1, &cp), 0);
    assert_string_equal(cp.origin, "example.com/behind-the-sofa");
    assert_int_equal(cp.size, 20852163);
    uint8_t root[32];
    unb64("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", root, 32);
    assert_memory_equal(cp.root, root, 32);
    assert_null(cp.extensions);
    cairn_checkpoint_clear(&cp);
    cairn_checkpoint_clear(&cp);
}

/* ---- V6 Cairn vectors ----------------------------------------------- */

static cairn_note_signer_t *log_signer(void)
{
    uint8_t seed[32];
    unhex(LOG_SEED_HEX, seed, 32);
    cairn_note_signer_t *s = NULL;
    assert_int_equal(cairn_note_signer_from_seed(LOG_NAME, seed, &s), 0);
    return s;
}

static void log_checkpoints_are_signed_byte_for_byte(void **state)
{
    cairn_note_signer_t *s = log_signer();
    assert_int_equal(cairn_note_signer_keyid(s), 0x667acdee);
    char *vkey = NULL;
    assert_int_equal(cairn_note_signer_vkey(s, &vkey), 0);
    assert_string_equal(vkey, LOG_VKEY);
    free(vkey);

    uint8_t root[32];
    unb64(ROOT8_B64, root, 32);
    char *text = NULL, *note = NULL;
    size_t len = 0, note_len = 0;
    assert_int_equal(cairn_checkpoint_format(LOG_NAME, 8, root, NULL, &text, &len), 0);
    assert_int_equal(len, 74);
    assert_int_equal(cairn_note_sign(text, len, s, &note, &note_len), 0);
    assert_string_equal(note, CHECKPOINT8);
    free(text);
    free(note);

    cairn_merkle_empty_root(root);
    assert_int_equal(cairn_checkpoint_format(LOG_NAME, 0, root, NULL, &text, &len), 0);
    assert_int_equal(cairn_note_sign(text, len, s, &note, &note_len), 0);
    assert_string_equal(note, CHECKPOINT0);
    free(text);
    free(note);
    cairn_note_signer_destroy(&s);
}

static void checkpoints_open_with_the_log_key_and_ignore_cosignatures(void **state)
{
    cairn_note_verifier_t *v = verifier(LOG_VKEY);
    cairn_checkpoint_t cp = {0};
    assert_int_equal(cairn_checkpoint_open(CHECKPOINT8, strlen(CHECKPOINT8), v, NULL, &cp), 0);
    assert_string_equal(cp.origin, LOG_NAME);
    assert_int_equal(cp.size, 8);
    cairn_checkpoint_clear(&cp);

    char *cosigned = cat(CHECKPOINT8, WITNESS_SIG, NULL);
    assert_int_equal(cairn_checkpoint_open(cosigned, strlen(cosigned), v, LOG_NAME, &cp), 0);
    assert_int_equal(cp.size, 8);
    cairn_checkpoint_clear(&cp);
    /* Origin must be the expected one. */
    assert_int_equal(cairn_checkpoint_open(cosigned, strlen(cosigned), v, "example.com/other", &cp),
                     CAIRN_EINVALID);
    free(cosigned);

    assert_int_equal(cairn_checkpoint_open(CHECKPOINT0, strlen(CHECKPOINT0), v, NULL, &cp), 0);
    assert_int_equal(cp.size, 0);
    uint8_t empty[32];
    cairn_merkle_empty_root(empty);
    assert_memory_equal(cp.root, empty, 32);
    cairn_checkpoint_clear(&cp);

    /* Tampered size: signature no longer verifies. */
    char *bad = cat(CHECKPOINT8, "", NULL);
    bad[strlen(LOG_NAME) + 1] = '9';
    assert_int_equal(cairn_checkpoint_open(bad, strlen(bad), v, NULL, &cp), CAIRN_EINTEGRITY);
    free(bad);
    cairn_note_verifier_destroy(&v);
}

static int cp_parse(const char *text)
{
    cairn_checkpoint_t cp = {0};
    int rc = cairn_checkpoint_parse(text, strlen(text), &cp);
    cairn_checkpoint_clear(&cp);
    return rc;
}

static void checkpoint_text_is_parsed_strictly(void **state)
{
    assert_int_equal(cp_parse("o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"), 0);
    assert_int_equal(cp_parse("o\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"),
                     CAIRN_EPARSE);
    assert_int_equal(cp_parse("o\n-8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"),
                     CAIRN_EPARSE);
    assert_int_equal(
        cp_parse("o\n18446744073709551616\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"),
        CAIRN_EPARSE);
    assert_int_equal(cp_parse("\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"), CAIRN_EPARSE);
    assert_int_equal(cp_parse("o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQy=\n"), CAIRN_EPARSE);
    assert_int_equal(cp_parse("o\n8\nAAAA\n"), CAIRN_EPARSE);
    assert_int_equal(cp_parse("o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="), CAIRN_EPARSE);
    assert_int_equal(cp_parse("o\n8\n"), CAIRN_EPARSE);
    assert_int_equal(cp_parse("o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\nx\n"),
                     CAIRN_EPARSE);

    const char *ext = "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\nTimestamp: 1\nmore\n";
    cairn_checkpoint_t cp = {0};
    assert_int_equal(cairn_checkpoint_parse(ext, strlen(ext), &cp), 0);
    assert_string_equal(cp.extensions, "Timestamp: 1\nmore\n");
    char *text = NULL;
    size_t len;
    assert_int_equal(
        cairn_checkpoint_format(cp.origin, cp.size, cp.root, cp.extensions, &text, &len), 0);
    assert_string_equal(text, ext);
    free(text);
    assert_int_equal(cairn_checkpoint_format("o", 1, cp.root, "bad", &text, &len), CAIRN_EINVALID);
    assert_int_equal(cairn_checkpoint_format("o\nx", 1, cp.root, NULL, &text, &len),
                     CAIRN_EINVALID);
    cairn_checkpoint_clear(&cp);
}

static const char TLOG_PROOF[] = "c2sp.org/tlog-proof@v1\n"
                                 "index 5\n"
                                 "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=\n"
                                 "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=\n"
                                 "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=\n"
                                 "\n";

static void tlog_proof_vector_formats_parses_and_verifies(void **state)
{
    char *cosigned = cat(CHECKPOINT8, WITNESS_SIG, NULL);
    char *want = cat(TLOG_PROOF, cosigned, NULL);
    uint8_t proof[3 * 32];
    unb64("vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=", proof, 32);
    unb64("yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", proof + 32, 32);
    unb64("037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=", proof + 64, 32);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(
        cairn_tlog_proof_format(NULL, 0, 5, proof, 3, cosigned, strlen(cosigned), &text, &len), 0);
    assert_string_equal(text, want);
    assert_int_equal(len, strlen(want));
    free(text);

    cairn_tlog_proof_t p;
    assert_int_equal(cairn_tlog_proof_parse(want, strlen(want), &p), 0);
    assert_int_equal(p.index, 5);
    assert_int_equal(p.proof_count, 3);
    assert_memory_equal(p.proof, proof, sizeof proof);
    assert_null(p.extra);
    assert_string_equal(p.checkpoint, cosigned);

    cairn_note_verifier_t *v = verifier(LOG_VKEY);
    const uint8_t leaf[] = {0x40, 0x41, 0x42, 0x43}, wrong[] = {0x40, 0x41, 0x42};
    cairn_checkpoint_t cp = {0};
    assert_int_equal(cairn_tlog_proof_verify(&p, leaf, sizeof leaf, v, NULL, &cp), 0);
    assert_int_equal(cp.size, 8);
    cairn_checkpoint_clear(&cp);
    assert_int_equal(cairn_tlog_proof_verify(&p, wrong, sizeof wrong, v, NULL, NULL),
                     CAIRN_EINTEGRITY);
    p.index = 4;
    assert_int_equal(cairn_tlog_proof_verify(&p, leaf, sizeof leaf, v, NULL, NULL),
                     CAIRN_EINTEGRITY);
    cairn_tlog_proof_clear(&p);
    cairn_tlog_proof_clear(&p);

    /* extra round-trips (it is unauthenticated application data). */
    const uint8_t extra[] = "cairn";
    assert_int_equal(
        cairn_tlog_proof_format(extra, 5, 5, proof, 3, cosigned, strlen(cosigned), &text, &len), 0);
    assert_non_null(strstr(text, "\nextra Y2Fpcm4=\nindex 5\n"));
    assert_int_equal(cairn_tlog_proof_parse(text, len, &p), 0);
    assert_int_equal(p.extra_len, 5);
    assert_memory_equal(p.extra, "cairn", 5);
    assert_int_equal(cairn_tlog_proof_verify(&p, leaf, sizeof leaf, v, NULL, NULL), 0);
    cairn_tlog_proof_clear(&p);
    free(text);

    cairn_note_verifier_destroy(&v);
    free(cosigned);
    free(want);
}

static int tp_parse(const char *text)
{
    cairn_tlog_proof_t p;
    int rc = cairn_tlog_proof_parse(text, strlen(text), &p);
    if (rc == 0)
        cairn_tlog_proof_clear(&p);
    return rc;
}

static void malformed_tlog_proofs_are_rejected(void **state)
{
    const char *cp = CHECKPOINT8;
    char buf[4096];
    snprintf(buf, sizeof buf, "c2sp.org/tlog-proof@v2\nindex 5\n\n%s", cp);
    assert_int_equal(tp_parse(buf), CAIRN_EPARSE);
    snprintf(buf, sizeof buf, "c2sp.org/tlog-proof@v1\nindex 05\n\n%s", cp);
    assert_int_equal(tp_parse(buf), CAIRN_EPARSE);
    snprintf(buf, sizeof buf, "c2sp.org/tlog-proof@v1\nindex 5\nAAAA\n\n%s", cp);
    assert_int_equal(tp_parse(buf), CAIRN_EPARSE);
    snprintf(buf, sizeof buf, "c2sp.org/tlog-proof@v1\nindex 5\n\n");
    assert_int_equal(tp_parse(buf), CAIRN_EPARSE);
    snprintf(buf, sizeof buf, "c2sp.org/tlog-proof@v1\nextra !!\nindex 5\n\n%s", cp);
    assert_int_equal(tp_parse(buf), CAIRN_EPARSE);
    snprintf(buf, sizeof buf, "c2sp.org/tlog-proof@v1\nindex 5\n\n%s", cp);
    assert_int_equal(tp_parse(buf), 0);
    /* 65 hashes: more than any tree below 2^63 needs. */
    size_t n = (size_t)snprintf(buf, sizeof buf, "c2sp.org/tlog-proof@v1\nindex 5\n");
    for (int i = 0; i < 65; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\n", ROOT8_B64);
    snprintf(buf + n, sizeof buf - n, "\n%s", cp);
    assert_int_equal(tp_parse(buf), CAIRN_EPARSE);
}

static void witness_request_proof_is_the_6_to_8_consistency_proof(void **state)
{
    /* V6.5: the proof lines of the add-checkpoint body verify 6 -> 8. */
    uint8_t proof[3 * 32], r6[32], r8[32];
    unb64("DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=", proof, 32);
    unb64("yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=", proof + 32, 32);
    unb64("037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=", proof + 64, 32);
    unb64("duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", r6, 32);
    unb64(ROOT8_B64, r8, 32);
    assert_int_equal(cairn_merkle_verify_consistency(6, 8, r6, r8, proof, 3), 0);
}

/* ---- keys: generation, files ---------------------------------------- */

static void generated_keys_round_trip_and_sign(void **state)
{
    cairn_note_signer_t *s = NULL, *s2 = NULL;
    assert_int_equal(cairn_note_signer_generate("cairn.example/ledger", &s), 0);
    char skey[256];
    assert_int_equal(cairn_note_signer_format(s, skey, sizeof skey), 0);
    assert_int_equal(cairn_note_signer_parse(skey, &s2), 0);
    uint8_t a[32], b[32];
    cairn_note_signer_public_key(s, a);
    cairn_note_signer_public_key(s2, b);
    assert_memory_equal(a, b, 32);
    sodium_memzero(skey, sizeof skey);

    char *vkey = NULL, *note = NULL;
    size_t len = 0;
    assert_int_equal(cairn_note_signer_vkey(s2, &vkey), 0);
    cairn_note_verifier_t *v = verifier(vkey);
    const char *text = "line one\n\nline three\n";
    assert_int_equal(cairn_note_sign(text, strlen(text), s, &note, &len), 0);
    size_t text_len = 0;
    assert_int_equal(cairn_note_verify(note, len, v, &text_len), 0);
    assert_int_equal(text_len, strlen(text));
    free(note);
    /* Unsignable texts. */
    assert_int_equal(cairn_note_sign("no newline", 10, s, &note, &len), CAIRN_EINVALID);
    assert_int_equal(cairn_note_sign("ends blank\n\n", 12, s, &note, &len), CAIRN_EINVALID);
    assert_int_equal(cairn_note_sign("tab\there\n", 9, s, &note, &len), CAIRN_EINVALID);
    assert_int_equal(cairn_note_sign("", 0, s, &note, &len), CAIRN_EINVALID);
    free(vkey);
    cairn_note_verifier_destroy(&v);
    cairn_note_signer_destroy(&s);
    cairn_note_signer_destroy(&s2);
}

static void key_files_readable_by_others_are_refused(void **state)
{
    char path[] = "/tmp/cairn-note-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char line[256];
    snprintf(line, sizeof line, "%s\n", PETER_SKEY);
    assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
    close(fd);
    cairn_note_signer_t *s = NULL;
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(cairn_note_signer_load(path, &s), 0);
    assert_int_equal(cairn_note_signer_keyid(s), 0xc74f20a3);
    cairn_note_signer_destroy(&s);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(cairn_note_signer_load(path, &s), -EPERM);
    assert_int_equal(chmod(path, 0604), 0);
    assert_int_equal(cairn_note_signer_load(path, &s), -EPERM);
    assert_int_equal(chmod(path, 0400), 0);
    assert_int_equal(cairn_note_signer_load(path, &s), 0);
    cairn_note_signer_destroy(&s);
    unlink(path);
    assert_int_equal(cairn_note_signer_load(path, &s), -ENOENT);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(go_signer_key_parses_and_signs_byte_for_byte),
        cmocka_unit_test(go_note_verifies_and_ignores_unknown_keys),
        cmocka_unit_test(malformed_notes_are_rejected),
        cmocka_unit_test(bad_verifier_keys_are_rejected),
        cmocka_unit_test(bad_signer_keys_are_rejected),
        cmocka_unit_test(c2sp_signed_note_example_verifies),
        cmocka_unit_test(c2sp_checkpoint_example_parses),
        cmocka_unit_test(log_checkpoints_are_signed_byte_for_byte),
        cmocka_unit_test(checkpoints_open_with_the_log_key_and_ignore_cosignatures),
        cmocka_unit_test(checkpoint_text_is_parsed_strictly),
        cmocka_unit_test(tlog_proof_vector_formats_parses_and_verifies),
        cmocka_unit_test(malformed_tlog_proofs_are_rejected),
        cmocka_unit_test(witness_request_proof_is_the_6_to_8_consistency_proof),
        cmocka_unit_test(generated_keys_round_trip_and_sign),
        cmocka_unit_test(key_files_readable_by_others_are_refused),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
