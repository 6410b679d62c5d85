/* Fixed Ed25519 keys for the fuzz targets of signed formats (notes,
 * checkpoints, tlog-proofs, bundles, DSSE envelopes). The seeds are public
 * and constant so the committed corpora hold inputs that verify, and the
 * fuzzer starts from signatures that check out rather than only from
 * rejections. Never use these keys for anything else. */
#ifndef CAIRN_FUZZ_KEYS_H
#define CAIRN_FUZZ_KEYS_H

#include <stdint.h>
#include <stdlib.h>

#include "cairn/note.h"

/* The log key (its name is the log origin) and a second, unrelated key. */
#define CAIRN_FUZZ_LOG_ORIGIN "fuzz.cairn.example/log"
#define CAIRN_FUZZ_OTHER_NAME "fuzz.cairn.example/other"

/* The verifier for seed byte `fill` (0x01 = the log key) under name; made
 * once and kept for the life of the process. Aborts if it cannot be made. */
static inline const cairn_note_verifier_t *cairn_fuzz_verifier(const char *name, uint8_t fill)
{
    uint8_t seed[CAIRN_NOTE_SEED_BYTES];
    for (size_t i = 0; i < sizeof seed; i++)
        seed[i] = fill;
    cairn_note_signer_t *signer = NULL;
    cairn_note_verifier_t *verifier = NULL;
    uint8_t pub[CAIRN_NOTE_PUBKEY_BYTES];
    if (cairn_note_signer_from_seed(name, seed, &signer) != 0)
        abort();
    cairn_note_signer_public_key(signer, pub);
    cairn_note_signer_destroy(&signer);
    if (cairn_note_verifier_new(name, pub, &verifier) != 0)
        abort();
    return verifier;
}

static inline const cairn_note_verifier_t *cairn_fuzz_log_verifier(void)
{
    static const cairn_note_verifier_t *v;
    if (!v)
        v = cairn_fuzz_verifier(CAIRN_FUZZ_LOG_ORIGIN, 0x01);
    return v;
}

static inline const cairn_note_verifier_t *cairn_fuzz_other_verifier(void)
{
    static const cairn_note_verifier_t *v;
    if (!v)
        v = cairn_fuzz_verifier(CAIRN_FUZZ_OTHER_NAME, 0x02);
    return v;
}

#endif
