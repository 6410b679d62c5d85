/* Tests for ledger leaves and export bundles: leaf text round trips and is
 * parsed strictly; a bundle built from a real Merkle log verifies offline,
 * and each kind of tampering is reported against the right entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bundle.h"
#include "cairn/error.h"
#include "cairn/merkle.h"
#include "cairn/note.h"
#include "cairn/util.h"

#define ORIGIN "example.com/cairn-test-log"
#define SEED_HEX "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"

/* ---- leaves ---------------------------------------------------------- */

static const char LEAF_FULL[] =
    "cairn.ledger/entry/v1\n"
    "origin " ORIGIN "\n"
    "index 12\n"
    "topic evidence.test_report\n"
    "key sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\n"
    "payload sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9\n"
    "change CHG-1\n"
    "release R-2026.11\n"
    "prev 7\n"
    "time 1795600800500\n";

static void leaves_round_trip_through_format_and_parse(void **state)
{
    cairn_leaf_t leaf = {0};
    assert_int_equal(cairn_leaf_parse(LEAF_FULL, strlen(LEAF_FULL), &leaf), 0);
    assert_string_equal(leaf.origin, ORIGIN);
    assert_int_equal(leaf.index, 12);
    assert_string_equal(leaf.topic, "evidence.test_report");
    assert_true(leaf.has_key);
    uint8_t foo[32];
    cairn_sha256("foo", 3, foo);
    assert_memory_equal(leaf.key_sha256, foo, 32);
    assert_string_equal(leaf.change, "CHG-1");
    assert_string_equal(leaf.release, "R-2026.11");
    assert_true(leaf.has_prev);
    assert_int_equal(leaf.prev, 7);
    assert_int_equal(leaf.time_ms, 1795600800500ULL);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(cairn_leaf_format(&leaf, &text, &len), 0);
    assert_string_equal(text, LEAF_FULL);
    assert_int_equal(len, strlen(LEAF_FULL));
    free(text);
    cairn_leaf_clear(&leaf);
    cairn_leaf_clear(&leaf);

    /* The minimal leaf: no key, no change (so no prev), no release. */
    cairn_leaf_t min = {.origin = ORIGIN, .index = 0, .topic = "system", .time_ms = 0};
    assert_int_equal(cairn_leaf_format(&min, &text, &len), 0);
    assert_string_equal(
        text, "cairn.ledger/entry/v1\norigin " ORIGIN "\nindex 0\ntopic system\n"
              "payload sha256:0000000000000000000000000000000000000000000000000000000000000000\n"
              "time 0\n");
    assert_int_equal(cairn_leaf_parse(text, len, &leaf), 0);
    assert_false(leaf.has_key);
    assert_null(leaf.change);
    assert_null(leaf.release);
    cairn_leaf_clear(&leaf);
    free(text);

    /* The first entry of a change says "prev none". */
    cairn_leaf_t first = {.origin = ORIGIN, .index = 3, .topic = "change", .change = "CHG-9"};
    assert_int_equal(cairn_leaf_format(&first, &text, &len), 0);
    assert_non_null(strstr(text, "\nchange CHG-9\nprev none\ntime 0\n"));
    assert_int_equal(cairn_leaf_parse(text, len, &leaf), 0);
    assert_false(leaf.has_prev);
    cairn_leaf_clear(&leaf);
    free(text);
}

/* The leaf text as written with snprintf (the format of docs/formats.md,
 * spelled out independently of the library's writers). */
static size_t s_reference_leaf(const cairn_leaf_t *l, char *out, size_t cap)
{
    char key_hex[65], payload_hex[65];
    cairn_hex(l->key_sha256, 32, key_hex);
    cairn_hex(l->payload_sha256, 32, payload_hex);
    size_t n = (size_t)snprintf(out, cap,
                                "cairn.ledger/entry/v1\norigin %s\nindex %" PRIu64 "\ntopic %s\n",
                                l->origin, l->index, l->topic);
    if (l->has_key)
        n += (size_t)snprintf(out + n, cap - n, "key sha256:%s\n", key_hex);
    n += (size_t)snprintf(out + n, cap - n, "payload sha256:%s\n", payload_hex);
    if (l->change)
        n += (size_t)snprintf(out + n, cap - n, "change %s\n", l->change);
    if (l->release)
        n += (size_t)snprintf(out + n, cap - n, "release %s\n", l->release);
    if (l->change && l->has_prev)
        n += (size_t)snprintf(out + n, cap - n, "prev %" PRIu64 "\n", l->prev);
    else if (l->change)
        n += (size_t)snprintf(out + n, cap - n, "prev none\n");
    n += (size_t)snprintf(out + n, cap - n, "time %" PRIu64 "\n", l->time_ms);
    return n;
}

static void leaf_text_matches_the_reference_for_every_shape(void **state)
{
    (void)state;
    const uint64_t numbers[] = {
        0, 1, 9, 10, 99, 1000, 1795600800500ull, UINT64_MAX - 1, UINT64_MAX,
    };
    const char *changes[] = {NULL, "CHG-1", "\xc3\xa9t\xc3\xa9 change"};
    const char *releases[] = {NULL, "R-2026.11"};
    char want[2048];
    size_t shapes = 0;
    for (size_t c = 0; c < 3; c++)
        for (size_t r = 0; r < 2; r++)
            for (size_t k = 0; k < 2; k++)
                for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
                    cairn_leaf_t l;
                    memset(&l, 0, sizeof l);
                    l.origin = ORIGIN;
                    l.topic = "dev.cdevents.change.merged.0.2.0";
                    l.index = numbers[i];
                    l.time_ms = numbers[(i + 3) % 9];
                    l.change = (char *)changes[c];
                    l.release = (char *)releases[r];
                    l.has_key = k == 1;
                    l.has_prev = l.change && i % 2 == 0;
                    l.prev = numbers[(i + 5) % 9];
                    randombytes_buf(l.key_sha256, sizeof l.key_sha256);
                    randombytes_buf(l.payload_sha256, sizeof l.payload_sha256);
                    char *text = NULL;
                    size_t len = 0;
                    assert_int_equal(cairn_leaf_format(&l, &text, &len), 0);
                    size_t want_len = s_reference_leaf(&l, want, sizeof want);
                    assert_int_equal(len, want_len);
                    assert_int_equal(strlen(text), len);
                    assert_memory_equal(text, want, want_len);
                    free(text);
                    shapes++;
                }
    assert_int_equal(shapes, 3 * 2 * 2 * 9);
}

static void leaf_format_refuses_values_it_could_not_parse_back(void **state)
{
    char *text = NULL;
    size_t len;
    cairn_leaf_t l = {.origin = ORIGIN, .topic = "t"};
    l.topic = "";
    assert_int_equal(cairn_leaf_format(&l, &text, &len), CAIRN_EINVALID);
    l.topic = "two\nlines";
    assert_int_equal(cairn_leaf_format(&l, &text, &len), CAIRN_EINVALID);
    l.topic = "tab\there";
    assert_int_equal(cairn_leaf_format(&l, &text, &len), CAIRN_EINVALID);
    l.topic = "t";
    l.has_prev = true; /* prev without change */
    assert_int_equal(cairn_leaf_format(&l, &text, &len), CAIRN_EINVALID);
    l.has_prev = false;
    l.origin = NULL;
    assert_int_equal(cairn_leaf_format(&l, &text, &len), CAIRN_EINVALID);
    assert_null(text);
}

/* Replaces the first occurrence of `from` in LEAF_FULL by `to`. */
static int parse_variant(const char *from, const char *to)
{
    char buf[1024];
    const char *at = strstr(LEAF_FULL, from);
    assert_non_null(at);
    snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - LEAF_FULL), LEAF_FULL, to, at + strlen(from));
    cairn_leaf_t leaf = {0};
    int rc = cairn_leaf_parse(buf, strlen(buf), &leaf);
    cairn_leaf_clear(&leaf);
    return rc;
}

static void leaf_parse_accepts_only_the_canonical_encoding(void **state)
{
    assert_int_equal(parse_variant("index 12\n", "index 12\n"), 0);
    assert_int_equal(parse_variant("cairn.ledger/entry/v1\n", "cairn.ledger/entry/v2\n"),
                     CAIRN_EPARSE);
    assert_int_equal(parse_variant("index 12\n", "index 012\n"), CAIRN_EPARSE);
    assert_int_equal(parse_variant("index 12\n", "index +12\n"), CAIRN_EPARSE);
    assert_int_equal(parse_variant("index 12\n", "index  12\n"), CAIRN_EPARSE);
    assert_int_equal(parse_variant("sha256:fcde", "sha256:FCDE"), CAIRN_EPARSE);
    assert_int_equal(parse_variant("sha256:fcde", "sha256:fcd"), CAIRN_EPARSE);
    assert_int_equal(parse_variant("sha256:fcde", "sha512:fcde"), CAIRN_EPARSE);
    assert_int_equal(parse_variant("prev 7\n", ""), CAIRN_EPARSE);       /* change without prev */
    assert_int_equal(parse_variant("change CHG-1\n", ""), CAIRN_EPARSE); /* prev without change */
    assert_int_equal(parse_variant("prev 7\n", "prev -1\n"), CAIRN_EPARSE);
    assert_int_equal(parse_variant("prev 7\n", "prev None\n"), CAIRN_EPARSE);
    assert_int_equal(parse_variant("change CHG-1\n", "change \n"), CAIRN_EPARSE);
    assert_int_equal(
        parse_variant("change CHG-1\nrelease R-2026.11\n", "release R-2026.11\nchange CHG-1\n"),
        CAIRN_EPARSE); /* fixed order */
    assert_int_equal(parse_variant("time 1795600800500\n", "time 1795600800500"), CAIRN_EPARSE);
    assert_int_equal(parse_variant("time 1795600800500\n", "time 1795600800500\nextra x\n"),
                     CAIRN_EPARSE);
    assert_int_equal(parse_variant("time 1795600800500\n", "time 1795600800500\n\n"), CAIRN_EPARSE);
    assert_int_equal(parse_variant("topic evidence", "topic evi\x01"
                                                     "dence"),
                     CAIRN_EPARSE);
    assert_int_equal(parse_variant("\n", "\r\n"), CAIRN_EPARSE);
    assert_int_equal(
        parse_variant(
            "key sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\n", ""),
        0);
}

/* ---- a small real log ------------------------------------------------ */

#define LOG_N 8

typedef struct {
    uint8_t hash[5][LOG_N][CAIRN_HASH_BYTES]; /* perfect subtrees by (level, index) */
    char *leaf[LOG_N];                        /* leaf text of each entry */
    size_t leaf_len[LOG_N];                   /* its length */
    char payload[LOG_N][64];                  /* payload bytes (text for readability) */
    char *checkpoint;                         /* signed checkpoint note of the whole log */
    size_t checkpoint_len;                    /* its length */
    cairn_note_verifier_t *verifier;          /* the log's key */
} log_t;

static int log_get(void *arg, unsigned level, uint64_t index, uint8_t out[CAIRN_HASH_BYTES])
{
    log_t *l = arg;
    if (level >= 5 || index >= LOG_N)
        return CAIRN_ENOTFOUND;
    memcpy(out, l->hash[level][index], CAIRN_HASH_BYTES);
    return 0;
}

static int log_put(void *arg, unsigned level, uint64_t index, const uint8_t h[CAIRN_HASH_BYTES])
{
    log_t *l = arg;
    assert_true(level < 5 && index < LOG_N);
    memcpy(l->hash[level][index], h, CAIRN_HASH_BYTES);
    return 0;
}

/* Change A: entries 0, 2, 5, 7. Change B: 1, 4. Entry 3 and 6: no change. */
static const char *const CHANGE[LOG_N] = {"A", "B", "A", NULL, "B", "A", NULL, "A"};

/* Builds and signs a log of LOG_N entries. prevs[i] is the prev of entry i:
 * -1 for "none", or NULL to chain each change's entries in order. */
static log_t *build_log(const char *const changes[LOG_N], const int64_t *prevs)
{
    log_t *l = calloc(1, sizeof *l);
    assert_non_null(l);
    int64_t last[2] = {-1, -1}; /* last index of A, B */
    for (uint64_t i = 0; i < LOG_N; i++) {
        snprintf(l->payload[i], sizeof l->payload[i], "record %u for %s", (unsigned)i,
                 changes[i] ? changes[i] : "-");
        cairn_leaf_t leaf = {.origin = ORIGIN,
                             .index = i,
                             .topic = "evidence",
                             .change = (char *)changes[i],
                             .time_ms = 1795600800000ULL + i};
        cairn_sha256(l->payload[i], strlen(l->payload[i]), leaf.payload_sha256);
        if (changes[i]) {
            int c = changes[i][0] - 'A';
            int64_t prev = prevs ? prevs[i] : last[c];
            if (prev >= 0) {
                leaf.has_prev = true;
                leaf.prev = (uint64_t)prev;
            }
            last[c] = (int64_t)i;
        }
        assert_int_equal(cairn_leaf_format(&leaf, &l->leaf[i], &l->leaf_len[i]), 0);
        uint8_t h[CAIRN_HASH_BYTES];
        cairn_merkle_leaf_hash(l->leaf[i], l->leaf_len[i], h);
        assert_int_equal(cairn_merkle_append(log_get, log_put, l, i, h), 0);
    }
    uint8_t seed[32], root[CAIRN_HASH_BYTES];
    size_t n = 0;
    assert_int_equal(sodium_hex2bin(seed, 32, SEED_HEX, 64, NULL, &n, NULL), 0);
    cairn_note_signer_t *signer = NULL;
    assert_int_equal(cairn_note_signer_from_seed(ORIGIN, seed, &signer), 0);
    assert_int_equal(cairn_merkle_root(log_get, l, LOG_N, root), 0);
    char *text = NULL, *vkey = NULL;
    size_t len = 0;
    assert_int_equal(cairn_checkpoint_format(ORIGIN, LOG_N, root, NULL, &text, &len), 0);
    assert_int_equal(cairn_note_sign(text, len, signer, &l->checkpoint, &l->checkpoint_len), 0);
    assert_int_equal(cairn_note_signer_vkey(signer, &vkey), 0);
    assert_int_equal(cairn_note_verifier_parse(vkey, &l->verifier), 0);
    free(text);
    free(vkey);
    cairn_note_signer_destroy(&signer);
    return l;
}

static int setup_log(void **state)
{
    *state = build_log(CHANGE, NULL);
    return 0;
}

/* A log whose writer linked change A wrongly: 0 none; 1 prev 0; 2 prev 0 (a
 * fork); 3 none (a second start); 4 prev 6 (not earlier); 5 is change B's
 * start; 6 prev 5 (B's entry); 7 prev 3. */
static const char *const FORK_CHANGE[LOG_N] = {"A", "A", "A", "A", "A", "B", "A", "A"};
static const int64_t FORK_PREV[LOG_N] = {-1, 0, 0, -1, 6, -1, 5, 3};

static int setup_forked_log(void **state)
{
    *state = build_log(FORK_CHANGE, FORK_PREV);
    return 0;
}

static int teardown_log(void **state)
{
    log_t *l = *state;
    for (size_t i = 0; i < LOG_N; i++)
        free(l->leaf[i]);
    free(l->checkpoint);
    cairn_note_verifier_destroy(&l->verifier);
    free(l);
    return 0;
}

/* The bundle of the given entries, in that order, as JSON (malloc'd). */
static char *export(log_t *l, const uint64_t *indexes, size_t n)
{
    cairn_bundle_t *b = NULL;
    assert_int_equal(cairn_bundle_new(l->checkpoint, l->checkpoint_len, &b), 0);
    for (size_t k = 0; k < n; k++) {
        uint64_t i = indexes[k];
        uint8_t proof[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
        size_t count = 0;
        assert_int_equal(cairn_merkle_inclusion_proof(log_get, l, i, LOG_N, proof,
                                                      CAIRN_MERKLE_MAX_PROOF, &count),
                         0);
        assert_int_equal(cairn_bundle_add(b, i, l->leaf[i], l->leaf_len[i], proof, count,
                                          l->payload[i], strlen(l->payload[i])),
                         0);
    }
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(cairn_bundle_encode(b, &json, &len), 0);
    cairn_bundle_destroy(&b);
    assert_null(b);
    return json;
}

static const uint64_t CHANGE_A[] = {0, 2, 5, 7};

static cairn_bundle_report_t *verify(log_t *l, const char *json)
{
    cairn_bundle_report_t *r = NULL;
    assert_int_equal(cairn_bundle_verify(json, strlen(json), l->verifier, &r), 0);
    assert_non_null(r);
    return r;
}

/* Asserts the report holds exactly one finding, of this kind, about this entry. */
static void assert_one_finding(cairn_bundle_report_t *r, cairn_finding_kind_t kind, bool has_index,
                               uint64_t index, const char *reason_part)
{
    if (r->finding_count != 1) {
        for (size_t i = 0; i < r->finding_count; i++)
            print_message("finding: %s %s\n", cairn_finding_kind_name(r->findings[i].kind),
                          r->findings[i].reason);
        fail_msg("expected one finding, got %zu", r->finding_count);
    }
    assert_int_equal(r->findings[0].kind, kind);
    assert_int_equal(r->findings[0].has_index, has_index);
    if (has_index)
        assert_int_equal(r->findings[0].index, index);
    if (!strstr(r->findings[0].reason, reason_part))
        fail_msg("reason \"%s\" does not mention \"%s\"", r->findings[0].reason, reason_part);
}

/* Applies fn to the decoded bundle and re-encodes it. */
static char *mutate(const char *json, void (*fn)(json_t *root))
{
    json_t *root = json_loads(json, 0, NULL);
    assert_non_null(root);
    fn(root);
    char *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    assert_non_null(out);
    return out;
}

/* Flips one bit of byte `at` of the base64 string member `key` of `obj`. */
static void flip_b64(json_t *obj, const char *key, size_t at)
{
    const char *s = json_string_value(json_object_get(obj, key));
    assert_non_null(s);
    uint8_t buf[4096];
    size_t n = 0;
    assert_int_equal(sodium_base642bin(buf, sizeof buf, s, strlen(s), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_true(at < n);
    buf[at] ^= 0x01;
    char b64[8192];
    sodium_bin2base64(b64, sizeof b64, buf, n, sodium_base64_VARIANT_ORIGINAL);
    json_object_set_new(obj, key, json_string(b64));
}

static json_t *entry(json_t *root, size_t k)
{
    return json_array_get(json_object_get(root, "entries"), k);
}

static void bundle_of_a_change_verifies_with_only_the_vkey(void **state)
{
    log_t *l = *state;
    char *json = export(l, CHANGE_A, 4);
    cairn_bundle_report_t *r = verify(l, json);
    for (size_t i = 0; i < r->finding_count; i++)
        print_message("unexpected finding: %s\n", r->findings[i].reason);
    assert_int_equal(r->finding_count, 0);
    assert_true(r->checkpoint_ok);
    assert_int_equal(r->checkpoint.size, LOG_N);
    assert_int_equal(r->entry_count, 4);
    assert_int_equal(r->entries_ok, 4);
    cairn_bundle_report_destroy(&r);
    assert_null(r);
    free(json);

    /* The whole log, in any order, verifies too. */
    const uint64_t all[] = {7, 6, 5, 4, 3, 2, 1, 0};
    json = export(l, all, LOG_N);
    r = verify(l, json);
    assert_int_equal(r->finding_count, 0);
    assert_int_equal(r->entries_ok, LOG_N);
    cairn_bundle_report_destroy(&r);
    free(json);
}

static void m_payload(json_t *root)
{
    flip_b64(entry(root, 2), "payload", 3);
}
static void m_leaf(json_t *root)
{
    flip_b64(entry(root, 1), "leaf", 72);
} /* inside the topic */
static void m_leaf_origin(json_t *root)
{
    flip_b64(entry(root, 1), "leaf", 40);
}
static void m_leaf_magic(json_t *root)
{
    flip_b64(entry(root, 1), "leaf", 0);
}

static void m_proof_hash(json_t *root)
{
    json_t *inc = json_object_get(entry(root, 3), "inclusion");
    json_t *wrap = json_object();
    json_object_set(wrap, "h", json_array_get(inc, 1));
    flip_b64(wrap, "h", 17);
    json_array_set(inc, 1, json_object_get(wrap, "h"));
    json_decref(wrap);
}

static void m_signature(json_t *root)
{
    const char *note = json_string_value(json_object_get(root, "checkpoint"));
    char *copy = strdup(note);
    size_t len = strlen(copy);
    /* A base64 character well inside the signature, away from key id and padding. */
    copy[len - 20] = copy[len - 20] == 'A' ? 'B' : 'A';
    json_object_set_new(root, "checkpoint", json_string(copy));
    free(copy);
}

static void m_drop_middle(json_t *root)
{
    json_array_remove(json_object_get(root, "entries"), 1);
}
static void m_drop_first(json_t *root)
{
    json_array_remove(json_object_get(root, "entries"), 0);
}
static void m_duplicate(json_t *root)
{
    json_t *entries = json_object_get(root, "entries");
    json_array_append_new(entries, json_deep_copy(json_array_get(entries, 2)));
}
static void m_no_payload(json_t *root)
{
    json_object_del(entry(root, 0), "payload");
}
static void m_bad_index(json_t *root)
{
    json_object_set_new(entry(root, 1), "index", json_integer(3));
}

static void a_changed_payload_is_reported_against_its_entry(void **state)
{
    log_t *l = *state;
    char *json = export(l, CHANGE_A, 4), *bad = mutate(json, m_payload);
    cairn_bundle_report_t *r = verify(l, bad);
    assert_one_finding(r, CAIRN_FINDING_PAYLOAD, true, 5, "payload SHA-256");
    assert_int_equal(r->entries_ok, 3);
    cairn_bundle_report_destroy(&r);
    free(bad);

    bad = mutate(json, m_no_payload);
    r = verify(l, bad);
    assert_one_finding(r, CAIRN_FINDING_PAYLOAD, true, 0, "missing");
    cairn_bundle_report_destroy(&r);
    free(bad);
    free(json);
}

static void a_changed_leaf_is_reported_against_its_entry(void **state)
{
    log_t *l = *state;
    char *json = export(l, CHANGE_A, 4), *bad = mutate(json, m_leaf);
    cairn_bundle_report_t *r = verify(l, bad);
    assert_one_finding(r, CAIRN_FINDING_INCLUSION, true, 2, "inclusion proof");
    cairn_bundle_report_destroy(&r);
    free(bad);

    /* A leaf of another log (origin changed): named as such, and its proof fails. */
    bad = mutate(json, m_leaf_origin);
    r = verify(l, bad);
    assert_int_equal(r->finding_count, 2);
    assert_int_equal(r->findings[0].kind, CAIRN_FINDING_LEAF);
    assert_non_null(strstr(r->findings[0].reason, "is not the log's"));
    assert_int_equal(r->findings[1].kind, CAIRN_FINDING_INCLUSION);
    cairn_bundle_report_destroy(&r);
    free(bad);

    /* A leaf that no longer parses: reported as such, and its proof fails. */
    bad = mutate(json, m_leaf_magic);
    r = verify(l, bad);
    assert_int_equal(r->finding_count, 2);
    assert_int_equal(r->findings[0].kind, CAIRN_FINDING_LEAF);
    assert_int_equal(r->findings[0].index, 2);
    assert_int_equal(r->findings[1].kind, CAIRN_FINDING_INCLUSION);
    assert_int_equal(r->findings[1].index, 2);
    cairn_bundle_report_destroy(&r);
    free(bad);

    /* The entry's index disagrees with its leaf (and its proof). */
    bad = mutate(json, m_bad_index);
    r = verify(l, bad);
    assert_true(r->finding_count >= 1);
    assert_int_equal(r->findings[0].kind, CAIRN_FINDING_LEAF);
    assert_int_equal(r->findings[0].index, 3);
    assert_non_null(strstr(r->findings[0].reason, "leaf says index 2"));
    cairn_bundle_report_destroy(&r);
    free(bad);
    free(json);
}

static void a_changed_proof_hash_is_reported_against_its_entry(void **state)
{
    log_t *l = *state;
    char *json = export(l, CHANGE_A, 4), *bad = mutate(json, m_proof_hash);
    cairn_bundle_report_t *r = verify(l, bad);
    assert_one_finding(r, CAIRN_FINDING_INCLUSION, true, 7, "checkpoint root (size 8)");
    assert_int_equal(r->entries_ok, 3);
    cairn_bundle_report_destroy(&r);
    free(bad);
    free(json);
}

static void a_changed_signature_fails_the_checkpoint(void **state)
{
    log_t *l = *state;
    char *json = export(l, CHANGE_A, 4), *bad = mutate(json, m_signature);
    cairn_bundle_report_t *r = verify(l, bad);
    assert_one_finding(r, CAIRN_FINDING_SIGNATURE, false, 0, "does not verify");
    assert_false(r->checkpoint_ok);
    assert_int_equal(r->entries_ok, 0); /* nothing is proven without the checkpoint */
    cairn_bundle_report_destroy(&r);
    free(bad);

    /* Another log's key: no signature by it. */
    cairn_note_verifier_t *other = NULL;
    assert_int_equal(
        cairn_note_verifier_parse(
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", &other),
        0);
    assert_int_equal(cairn_bundle_verify(json, strlen(json), other, &r), 0);
    assert_one_finding(r, CAIRN_FINDING_SIGNATURE, false, 0,
                       "no signature by key PeterNeumann+c74f20a3");
    cairn_bundle_report_destroy(&r);
    cairn_note_verifier_destroy(&other);
    free(json);
}

static void a_dropped_entry_breaks_the_prev_chain(void **state)
{
    log_t *l = *state;
    char *json = export(l, CHANGE_A, 4), *bad = mutate(json, m_drop_middle);
    cairn_bundle_report_t *r = verify(l, bad);
    assert_one_finding(r, CAIRN_FINDING_CHAIN, true, 5, "names prev 2, which is not in the bundle");
    assert_string_equal(r->findings[0].change, "A");
    assert_int_equal(r->entries_ok, 2);
    cairn_bundle_report_destroy(&r);
    free(bad);

    bad = mutate(json, m_drop_first);
    r = verify(l, bad);
    assert_int_equal(r->finding_count, 2);
    assert_int_equal(r->findings[0].kind, CAIRN_FINDING_CHAIN);
    assert_int_equal(r->findings[0].index, 2);
    assert_int_equal(r->findings[1].kind, CAIRN_FINDING_CHAIN);
    assert_false(r->findings[1].has_index);
    assert_non_null(strstr(r->findings[1].reason, "change A has no entry with prev none"));
    cairn_bundle_report_destroy(&r);
    free(bad);

    bad = mutate(json, m_duplicate);
    r = verify(l, bad);
    assert_true(r->finding_count >= 1);
    assert_int_equal(r->findings[0].kind, CAIRN_FINDING_DUPLICATE);
    assert_int_equal(r->findings[0].index, 5);
    cairn_bundle_report_destroy(&r);
    free(bad);
    free(json);
}

static void an_entry_without_its_own_chain_is_a_chain_finding(void **state)
{
    log_t *l = *state;
    /* B's entry 4 names prev 1; bundling 4 with A's chain leaves 1 out. */
    const uint64_t mixed[] = {0, 2, 4, 5, 7};
    char *json = export(l, mixed, 5);
    cairn_bundle_report_t *r = verify(l, json);
    assert_int_equal(r->finding_count, 2);
    assert_int_equal(r->findings[0].index, 4);
    assert_non_null(strstr(r->findings[0].reason, "names prev 1, which is not in the bundle"));
    assert_non_null(strstr(r->findings[1].reason, "change B has no entry with prev none"));
    cairn_bundle_report_destroy(&r);
    free(json);
}

static void forks_restarts_and_foreign_prevs_are_chain_findings(void **state)
{
    log_t *l = *state;
    const uint64_t all[] = {0, 1, 2, 3, 4, 5, 6, 7};
    char *json = export(l, all, LOG_N);
    cairn_bundle_report_t *r = verify(l, json);
    const char *want[] = {
        "entries 1 and 2 of change A both name prev 0 (the chain forks)",
        "entry 4 of change A names prev 6, which is not an earlier entry",
        "entry 6 of change A names prev 5, which belongs to change B",
        "change A has 2 entries with prev none (0, 3): its chain is split",
    };
    assert_int_equal(r->finding_count, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(r->findings[i].kind, CAIRN_FINDING_CHAIN);
        assert_string_equal(r->findings[i].reason, want[i]);
    }
    assert_int_equal(r->findings[0].index, 2);
    assert_false(r->findings[3].has_index);
    assert_string_equal(r->findings[3].change, "A");
    /* Inclusion and payloads all verified: the log faithfully holds bad links. */
    assert_int_equal(r->entries_ok, LOG_N - 3);
    cairn_bundle_report_destroy(&r);
    free(json);
}

static void malformed_bundles_are_format_findings(void **state)
{
    log_t *l = *state;
    cairn_bundle_report_t *r = verify(l, "{not json");
    assert_one_finding(r, CAIRN_FINDING_FORMAT, false, 0, "not valid JSON");
    cairn_bundle_report_destroy(&r);
    r = verify(l, "{\"format\":\"cairn.bundle/v0\",\"checkpoint\":\"\",\"entries\":[]}");
    assert_one_finding(r, CAIRN_FINDING_FORMAT, false, 0, "format");
    cairn_bundle_report_destroy(&r);
    r = verify(
        l, "{\"format\":\"cairn.bundle/v1\",\"checkpoint\":\"x\\n\",\"entries\":[{\"index\":-1}]}");
    assert_int_equal(r->finding_count, 2);
    assert_int_equal(r->findings[0].kind, CAIRN_FINDING_SIGNATURE);
    assert_int_equal(r->findings[1].kind, CAIRN_FINDING_FORMAT);
    assert_int_equal(r->entries_ok, 0);
    cairn_bundle_report_destroy(&r);
    assert_int_equal(cairn_bundle_verify("{}", 2, NULL, &r), CAIRN_EINVALID);
    assert_null(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(leaves_round_trip_through_format_and_parse),
        cmocka_unit_test(leaf_text_matches_the_reference_for_every_shape),
        cmocka_unit_test(leaf_format_refuses_values_it_could_not_parse_back),
        cmocka_unit_test(leaf_parse_accepts_only_the_canonical_encoding),
        cmocka_unit_test_setup_teardown(bundle_of_a_change_verifies_with_only_the_vkey, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(a_changed_payload_is_reported_against_its_entry, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(a_changed_leaf_is_reported_against_its_entry, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(a_changed_proof_hash_is_reported_against_its_entry,
                                        setup_log, teardown_log),
        cmocka_unit_test_setup_teardown(a_changed_signature_fails_the_checkpoint, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(a_dropped_entry_breaks_the_prev_chain, setup_log,
                                        teardown_log),
        cmocka_unit_test_setup_teardown(an_entry_without_its_own_chain_is_a_chain_finding,
                                        setup_log, teardown_log),
        cmocka_unit_test_setup_teardown(forks_restarts_and_foreign_prevs_are_chain_findings,
                                        setup_forked_log, teardown_log),
        cmocka_unit_test_setup_teardown(malformed_bundles_are_format_findings, setup_log,
                                        teardown_log),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
