/* Builds test bundles with cairn/merkle.h, cairn/note.h and cairn/bundle.h. */
#include "testbundle.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/util.h"

/* Perfect-subtree hashes of a small in-memory tree, by (level, index). */
typedef struct {
    uint8_t hash[8][CLI_TEST_LOG_SIZE][CAIRN_HASH_BYTES]; /* the hashes */
    bool set[8][CLI_TEST_LOG_SIZE];                       /* which are stored */
} s_tree_t;

static int s_get(void *arg, unsigned level, uint64_t index, uint8_t out[CAIRN_HASH_BYTES])
{
    s_tree_t *t = arg;
    if (level >= 8 || index >= CLI_TEST_LOG_SIZE || !t->set[level][index])
        return CAIRN_ENOTFOUND;
    memcpy(out, t->hash[level][index], CAIRN_HASH_BYTES);
    return 0;
}

static int s_put(void *arg, unsigned level, uint64_t index, const uint8_t hash[CAIRN_HASH_BYTES])
{
    s_tree_t *t = arg;
    if (level >= 8 || index >= CLI_TEST_LOG_SIZE)
        return CAIRN_EINVALID;
    memcpy(t->hash[level][index], hash, CAIRN_HASH_BYTES);
    t->set[level][index] = true;
    return 0;
}

static bool s_in_chg1(uint64_t i)
{
    return i == 1 || i == 3 || i == 4 || i == 6;
}

uint8_t *cli_test_payload(uint64_t index, size_t *len_out)
{
    char id[32];
    snprintf(id, sizeof id, "ev-%llu", (unsigned long long)index);
    Cairn__V1__Correlation c = CAIRN__V1__CORRELATION__INIT;
    c.change_id = s_in_chg1(index) ? "CHG-1" : "CHG-2";
    c.repository = "acme/payments";
    c.commit_sha = CLI_TEST_COMMIT;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    ev.id = id;
    ev.type = "dev.cdevents.change.created.0.4.0";
    ev.correlation = &c;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    uint8_t *buf = NULL;
    if (cairn_codec_pack(&rec.base, &buf, len_out) < 0)
        return NULL;
    return buf;
}

/* The leaf text of entry i. */
static char *s_leaf(uint64_t i, size_t *len_out)
{
    static const uint64_t prev_chg1[CLI_TEST_LOG_SIZE] = {0, 0, 0, 1, 3, 0, 4};
    static const uint64_t prev_chg2[CLI_TEST_LOG_SIZE] = {0, 0, 0, 0, 0, 2, 0};
    size_t plen = 0;
    uint8_t *payload = cli_test_payload(i, &plen);
    cairn_leaf_t leaf;
    memset(&leaf, 0, sizeof leaf);
    leaf.origin = CLI_TEST_ORIGIN;
    leaf.index = i;
    leaf.topic = "dev.cdevents.change.created.0.4.0";
    cairn_sha256(payload, plen, leaf.payload_sha256);
    leaf.change = s_in_chg1(i) ? "CHG-1" : "CHG-2";
    leaf.has_prev = s_in_chg1(i) ? i != 1 : (i == 2 || i == 5);
    leaf.prev = s_in_chg1(i) ? prev_chg1[i] : prev_chg2[i];
    leaf.time_ms = 1795600800000 + i;
    free(payload);
    char *text = NULL;
    if (cairn_leaf_format(&leaf, &text, len_out) < 0)
        return NULL;
    return text;
}

char *cli_test_bundle(const cairn_note_signer_t *signer)
{
    s_tree_t *tree = calloc(1, sizeof *tree);
    char *leaves[CLI_TEST_LOG_SIZE] = {0};
    size_t lens[CLI_TEST_LOG_SIZE] = {0};
    uint8_t root[CAIRN_HASH_BYTES], leaf_hash[CAIRN_HASH_BYTES];
    char *cp_text = NULL, *note = NULL, *json = NULL;
    size_t cp_len = 0, note_len = 0, json_len = 0;
    cairn_bundle_t *bundle = NULL;
    bool ok = tree != NULL;

    for (uint64_t i = 0; ok && i < CLI_TEST_LOG_SIZE; i++) {
        if (!(ok = (leaves[i] = s_leaf(i, &lens[i])) != NULL))
            break;
        cairn_merkle_leaf_hash(leaves[i], lens[i], leaf_hash);
        ok = cairn_merkle_append(s_get, s_put, tree, i, leaf_hash) == 0;
    }
    ok = ok && cairn_merkle_root(s_get, tree, CLI_TEST_LOG_SIZE, root) == 0 &&
         cairn_checkpoint_format(CLI_TEST_ORIGIN, CLI_TEST_LOG_SIZE, root, NULL, &cp_text,
                                 &cp_len) == 0 &&
         cairn_note_sign(cp_text, cp_len, signer, &note, &note_len) == 0 &&
         cairn_bundle_new(note, note_len, &bundle) == 0;
    for (uint64_t i = 0; ok && i < CLI_TEST_LOG_SIZE; i++) {
        if (!s_in_chg1(i))
            continue;
        uint8_t proof[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES];
        size_t count = 0, plen = 0;
        uint8_t *payload = cli_test_payload(i, &plen);
        ok = payload &&
             cairn_merkle_inclusion_proof(s_get, tree, i, CLI_TEST_LOG_SIZE, proof,
                                          CAIRN_MERKLE_MAX_PROOF, &count) == 0 &&
             cairn_bundle_add(bundle, i, leaves[i], lens[i], proof, count, payload, plen) == 0;
        free(payload);
    }
    if (ok && cairn_bundle_encode(bundle, &json, &json_len) < 0)
        json = NULL;
    for (size_t i = 0; i < CLI_TEST_LOG_SIZE; i++)
        free(leaves[i]);
    free(tree);
    free(cp_text);
    free(note);
    cairn_bundle_destroy(&bundle);
    return json;
}
