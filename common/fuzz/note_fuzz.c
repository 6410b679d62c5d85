/* Fuzz target for signed notes and the formats built on them (cairn/note.h):
 * each input is read as a vkey, a signer key, a signed note (against the
 * fixed log key and an unrelated key), checkpoint text, a signed checkpoint
 * and a tlog-proof, verified for the leaf "fuzz". Whatever parses must
 * format back and parse again to the same values; a note that verifies must
 * hand back a text that ends with "\n" inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/note.h"
#include "fuzz_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input, for the APIs that take C strings. */
static char *s_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

static void s_keys(const char *text)
{
    cairn_note_verifier_t *v = NULL, *again = NULL;
    if (cairn_note_verifier_parse(text, &v) == 0) {
        char *out = NULL;
        if (cairn_note_verifier_format(v, &out) != 0 || cairn_note_verifier_parse(out, &again) != 0)
            abort();
        uint8_t a[CAIRN_NOTE_PUBKEY_BYTES], b[CAIRN_NOTE_PUBKEY_BYTES];
        cairn_note_verifier_public_key(v, a);
        cairn_note_verifier_public_key(again, b);
        if (strcmp(cairn_note_verifier_name(v), cairn_note_verifier_name(again)) != 0 ||
            cairn_note_verifier_keyid(v) != cairn_note_verifier_keyid(again) ||
            memcmp(a, b, sizeof a) != 0 || !cairn_note_key_name_valid(cairn_note_verifier_name(v)))
            abort();
        free(out);
    }
    cairn_note_verifier_destroy(&v);
    cairn_note_verifier_destroy(&again);

    cairn_note_signer_t *s = NULL;
    if (cairn_note_signer_parse(text, &s) == 0) {
        char out[512];
        cairn_note_signer_t *s2 = NULL;
        if (cairn_note_signer_format(s, out, sizeof out) != 0 ||
            cairn_note_signer_parse(out, &s2) != 0 ||
            cairn_note_signer_keyid(s) != cairn_note_signer_keyid(s2))
            abort();
        cairn_note_signer_destroy(&s2);
    }
    cairn_note_signer_destroy(&s);
}

static void s_note(const char *text, size_t size, const cairn_note_verifier_t *verifier)
{
    size_t text_len = 0;
    int rc = cairn_note_verify(text, size, verifier, &text_len);
    if (rc == 0 && (text_len == 0 || text_len > size || text[text_len - 1] != '\n'))
        abort();

    cairn_checkpoint_t cp = {0};
    if (cairn_checkpoint_open(text, size, verifier, NULL, &cp) == 0 &&
        (rc != 0 || strcmp(cp.origin, cairn_note_verifier_name(verifier)) != 0))
        abort(); /* an opened checkpoint is a verified note of that origin */
    cairn_checkpoint_clear(&cp);
}

static void s_checkpoint(const char *text, size_t size)
{
    cairn_checkpoint_t cp = {0}, again = {0};
    if (cairn_checkpoint_parse(text, size, &cp) != 0)
        return;
    char *out = NULL;
    size_t out_len = 0;
    if (cairn_checkpoint_format(cp.origin, cp.size, cp.root, cp.extensions, &out, &out_len) != 0 ||
        cairn_checkpoint_parse(out, out_len, &again) != 0 || again.size != cp.size ||
        strcmp(again.origin, cp.origin) != 0 || memcmp(again.root, cp.root, sizeof cp.root) != 0)
        abort();
    free(out);
    cairn_checkpoint_clear(&cp);
    cairn_checkpoint_clear(&again);
}

static void s_tlog_proof(const char *text, size_t size)
{
    cairn_tlog_proof_t *proof = calloc(2, sizeof *proof); /* large: keep them off the stack */
    if (!proof)
        abort();
    if (cairn_tlog_proof_parse(text, size, &proof[0]) == 0) {
        if (proof[0].proof_count > CAIRN_MERKLE_MAX_PROOF)
            abort();
        char *out = NULL;
        size_t out_len = 0;
        if (cairn_tlog_proof_format(proof[0].extra, proof[0].extra_len, proof[0].index,
                                    proof[0].proof, proof[0].proof_count, proof[0].checkpoint,
                                    proof[0].checkpoint_len, &out, &out_len) != 0 ||
            cairn_tlog_proof_parse(out, out_len, &proof[1]) != 0 ||
            proof[1].index != proof[0].index || proof[1].proof_count != proof[0].proof_count ||
            proof[1].checkpoint_len != proof[0].checkpoint_len)
            abort();
        free(out);
        cairn_checkpoint_t cp = {0};
        if (cairn_tlog_proof_verify(&proof[0], "fuzz", 4, cairn_fuzz_log_verifier(), NULL, &cp) ==
                0 &&
            (proof[0].index >= cp.size))
            abort(); /* a verified leaf lies inside the tree */
        cairn_checkpoint_clear(&cp);
    }
    cairn_tlog_proof_clear(&proof[0]);
    cairn_tlog_proof_clear(&proof[1]);
    free(proof);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = s_cstr(data, size);
    (void)cairn_note_text_valid(data, size);
    (void)cairn_note_key_name_valid(text);
    s_keys(text);
    s_note(text, size, cairn_fuzz_log_verifier());
    s_note(text, size, cairn_fuzz_other_verifier());
    s_checkpoint(text, size);
    s_tlog_proof(text, size);
    free(text);
    return 0;
}

const char cairn_fuzz_target_name[] = "signed note, key, checkpoint and tlog-proof parsers";
