/* Tests for the body digests: SHA-256 and HMAC-SHA256 known answers (FIPS
 * 180-2 and RFC 4231), an HMAC over several parts equal to the HMAC of
 * their concatenation, and agreement with libsodium's implementation on
 * every key length around the block size (an empty key, a key longer than
 * a block) and on body lengths around the block boundaries. A key made
 * once answers the same as a fresh HMAC every time, also when several
 * threads use it at once and when several keys are used in turn. */
#include <pthread.h>
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

static void a_reused_key_answers_like_a_fresh_hmac_every_time(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    uint8_t key[160], body[300];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 11 + 3);
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 17 + 9);
    /* RFC 4231 test case 2, three times over one key. */
    cairn_ingest_hmac_key_t *jefe = NULL;
    assert_int_equal(cairn_ingest_hmac_key_new("Jefe", 4, &jefe), 0);
    for (int round = 0; round < 3; round++) {
        uint8_t d[CAIRN_INGEST_DIGEST_BYTES];
        char hex[65];
        cairn_ingest_span_t parts[] = {{"what do ya", 10}, {" want for nothing?", 18}};
        assert_int_equal(cairn_ingest_hmac_key_sha256(jefe, parts, 2, d), 0);
        s_hex(d, hex);
        assert_string_equal(hex,
                            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
    cairn_ingest_hmac_key_destroy(&jefe);
    assert_null(jefe);
    cairn_ingest_hmac_key_destroy(&jefe);
    /* Every key length around the block size, each key used for several
     * bodies in turn with another key in between. */
    cairn_ingest_hmac_key_t *other = NULL;
    assert_int_equal(cairn_ingest_hmac_key_new("other", 5, &other), 0);
    for (size_t kl = 0; kl <= sizeof key; kl += 3) {
        cairn_ingest_hmac_key_t *k = NULL;
        assert_int_equal(cairn_ingest_hmac_key_new(key, kl, &k), 0);
        for (size_t bl = kl % 7; bl <= sizeof body; bl += 97) {
            uint8_t want[32], got[32], junk[32];
            crypto_auth_hmacsha256_state st;
            crypto_auth_hmacsha256_init(&st, key, kl);
            crypto_auth_hmacsha256_update(&st, body, bl);
            crypto_auth_hmacsha256_final(&st, want);
            cairn_ingest_span_t part = {body, bl};
            assert_int_equal(cairn_ingest_hmac_key_sha256(k, &part, 1, got), 0);
            assert_memory_equal(want, got, sizeof want);
            assert_int_equal(cairn_ingest_hmac_key_sha256(other, &part, 1, junk), 0);
            assert_memory_not_equal(want, junk, sizeof want);
        }
        cairn_ingest_hmac_key_destroy(&k);
    }
    cairn_ingest_hmac_key_destroy(&other);
}

/* Threads sharing one key: each checks its own messages. */
#define S_THREADS 8
#define S_ROUNDS 300

typedef struct {
    cairn_ingest_hmac_key_t *key; /* shared */
    const uint8_t *raw;           /* its bytes */
    size_t raw_len;               /* how many */
    unsigned seed;                /* this thread's messages */
    int mismatches;               /* answers that differed from libsodium's */
} s_worker_t;

static void *s_worker(void *arg)
{
    s_worker_t *w = arg;
    uint8_t msg[200];
    for (int r = 0; r < S_ROUNDS; r++) {
        size_t len = (w->seed * 31u + (unsigned)r * 7u) % sizeof msg;
        for (size_t i = 0; i < len; i++)
            msg[i] = (uint8_t)(w->seed + (unsigned)r + i);
        uint8_t want[32], got[32];
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, w->raw, w->raw_len);
        crypto_auth_hmacsha256_update(&st, msg, len);
        crypto_auth_hmacsha256_final(&st, want);
        cairn_ingest_span_t part = {msg, len};
        if (cairn_ingest_hmac_key_sha256(w->key, &part, 1, got) != 0 ||
            memcmp(want, got, sizeof want) != 0)
            w->mismatches++;
    }
    return NULL;
}

static void a_key_is_shared_by_threads_at_once(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    static const uint8_t raw[] = "a webhook secret shared by all threads";
    cairn_ingest_hmac_key_t *key = NULL;
    assert_int_equal(cairn_ingest_hmac_key_new(raw, sizeof raw - 1, &key), 0);
    pthread_t threads[S_THREADS];
    s_worker_t workers[S_THREADS];
    for (unsigned i = 0; i < S_THREADS; i++) {
        workers[i] = (s_worker_t){.key = key, .raw = raw, .raw_len = sizeof raw - 1, .seed = i};
        assert_int_equal(pthread_create(&threads[i], NULL, s_worker, &workers[i]), 0);
    }
    for (unsigned i = 0; i < S_THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(workers[i].mismatches, 0);
    }
    cairn_ingest_hmac_key_destroy(&key);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_answers),
        cmocka_unit_test(agrees_with_libsodium_on_every_key_and_body_length),
        cmocka_unit_test(a_reused_key_answers_like_a_fresh_hmac_every_time),
        cmocka_unit_test(a_key_is_shared_by_threads_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
