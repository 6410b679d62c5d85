/* Tests for the body digests: SHA-256 and HMAC-SHA256 known answers (FIPS
 * 180-2 and RFC 4231), an HMAC over several parts equal to the HMAC of
 * their concatenation, and agreement with libsodium's implementation on
 * every key length around the block size (an empty key, a key longer than
 * a block) and on body lengths around the block boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "cairn/util.h"
#include "digest.h"

static void s_hex(const uint8_t d[CAIRN_INGEST_DIGEST_BYTES], char out[65])
{
    cairn_hex(d, CAIRN_INGEST_DIGEST_BYTES, out);
}

static void known_answers(void **state)
{
    (void)state;
    uint8_t d[CAIRN_INGEST_DIGEST_BYTES];
    char hex[65];
    cairn_sha256("abc", 3, d);
    s_hex(d, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    cairn_sha256("", 0, d);
    s_hex(d, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* RFC 4231, test case 2. */
    cairn_ingest_span_t data = {"what do ya want for nothing?", 28};
    assert_int_equal(cairn_ingest_hmac_sha256("Jefe", 4, &data, 1, d), 0);
    s_hex(d, hex);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* The same input in pieces (some empty). */
    cairn_ingest_span_t parts[] = {{"what do", 7}, {"", 0}, {" ya want ", 9}, {"for nothing?", 12}};
    uint8_t d2[CAIRN_INGEST_DIGEST_BYTES];
    assert_int_equal(cairn_ingest_hmac_sha256("Jefe", 4, parts, 4, d2), 0);
    assert_memory_equal(d, d2, sizeof d);
}

static void agrees_with_libsodium_on_every_key_and_body_length(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    uint8_t key[160], body[300];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 13 + 5);
    for (size_t kl = 0; kl <= sizeof key; kl += 1) {
        size_t bl = (kl * 37) % sizeof body;
        uint8_t want[32], got[32];
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, key, kl);
        crypto_auth_hmacsha256_update(&st, body, bl);
        crypto_auth_hmacsha256_final(&st, want);
        cairn_ingest_span_t part = {body, bl};
        assert_int_equal(cairn_ingest_hmac_sha256(key, kl, &part, 1, got), 0);
        assert_memory_equal(want, got, sizeof want);
    }
    for (size_t bl = 0; bl <= sizeof body; bl++) {
        uint8_t want[32], got[32];
        crypto_hash_sha256(want, body, bl);
        cairn_sha256(body, bl, got);
        assert_memory_equal(want, got, sizeof want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_answers),
        cmocka_unit_test(agrees_with_libsodium_on_every_key_and_body_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
