/* Signed notes (C2SP signed-note), log checkpoints (C2SP tlog-checkpoint)
 * and offline inclusion proofs (C2SP tlog-proof), with Ed25519 keys in the
 * text formats of Go's golang.org/x/mod/sumdb/note:
 *
 *   signer key  PRIVATE+KEY+<name>+<hex8 key id>+<base64(0x01 || 32-byte seed)>
 *   vkey        <name>+<hex8 key id>+<base64(0x01 || 32-byte public key)>
 *   key id      first 4 bytes of SHA-256(name || "\n" || 0x01 || public key)
 *
 * A signed note is its text (one or more lines, each ending in "\n"), one
 * blank line, then signature lines "— <name> <base64(key id || sig)>\n".
 * A checkpoint is a note whose text is "<origin>\n<size>\n<base64 root>\n"
 * plus optional extension lines. Cairn's log signs with a key whose name is
 * the log origin; cairn_checkpoint_open() checks that.
 *
 * Errors: CAIRN_EPARSE malformed text or key; CAIRN_EINVALID a value that
 * parses but is not acceptable (bad key name, origin mismatch);
 * CAIRN_ENOTFOUND no signature by the given key; CAIRN_EINTEGRITY a signature
 * by the given key that does not verify, or a proof that does not; -ENOMEM.
 * Secrets live in sodium_malloc'd memory and are wiped on destroy. */
#ifndef CAIRN_NOTE_H
#define CAIRN_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/merkle.h"

#define CAIRN_NOTE_ALG_ED25519 0x01 /* signature type byte of Ed25519 keys */
#define CAIRN_NOTE_KEYID_BYTES 4
#define CAIRN_NOTE_PUBKEY_BYTES 32
#define CAIRN_NOTE_SEED_BYTES 32
#define CAIRN_NOTE_MAX_SIGNATURES 100 /* more signature lines = malformed (as Go) */
#define CAIRN_NOTE_KEY_FILE_MAX 4096  /* largest key file cairn_note_signer_load reads */

typedef struct cairn_note_signer cairn_note_signer_t;
typedef struct cairn_note_verifier cairn_note_verifier_t;

/* ---- keys ------------------------------------------------------------ */

/* True if text is valid UTF-8 without control characters (bytes below 0x20
 * and 0x7f) other than "\n": the C2SP rule for note text. */
bool cairn_note_text_valid(const void *text, size_t len);

/* True if name is a valid key name: non-empty UTF-8 without "+", control
 * characters or Unicode white space. */
bool cairn_note_key_name_valid(const char *name);

/* New signer with a fresh random Ed25519 key. CAIRN_EINVALID for a bad name. */
int cairn_note_signer_generate(const char *name, cairn_note_signer_t **signer_out);

/* Signer from a 32-byte Ed25519 seed (RFC 8032 secret key). */
int cairn_note_signer_from_seed(const char *name, const uint8_t seed[CAIRN_NOTE_SEED_BYTES],
                                cairn_note_signer_t **signer_out);

/* Parses a signer key text (a trailing "\n" is tolerated); the key id in the
 * text must match the key. CAIRN_EPARSE otherwise. */
int cairn_note_signer_parse(const char *skey, cairn_note_signer_t **signer_out);

/* Reads a signer key file. Refuses with -EPERM (before reading) a file that
 * group or others may read or write (mode & 077), so keys are never taken
 * from a world-readable file; CAIRN_EPARSE for bad content; -errno for I/O. */
int cairn_note_signer_load(const char *path, cairn_note_signer_t **signer_out);

/* Writes the signer key text (NUL-terminated, no newline) into out, which
 * has room for out_size bytes; CAIRN_ETOOLARGE if too small (name + 80 bytes
 * always suffice). The caller should sodium_memzero() out after use. */
int cairn_note_signer_format(const cairn_note_signer_t *self, char *out, size_t out_size);

/* Key name, key id and public key of the signer. */
const char *cairn_note_signer_name(const cairn_note_signer_t *self);
uint32_t cairn_note_signer_keyid(const cairn_note_signer_t *self);
void cairn_note_signer_public_key(const cairn_note_signer_t *self,
                                  uint8_t out[CAIRN_NOTE_PUBKEY_BYTES]);

/* Ed25519 signature of arbitrary bytes, for protocols that carry their own
 * domain separation (DSSE signs its PAE encoding). Use a key for one purpose:
 * never the log's checkpoint key. */
int cairn_note_signer_sign_raw(const cairn_note_signer_t *self, const void *msg, size_t len,
                               uint8_t sig_out[64]);

/* The matching vkey text (malloc'd, NUL-terminated, no newline). */
int cairn_note_signer_vkey(const cairn_note_signer_t *self, char **vkey_out);

/* Wipes and frees the signer; NULL-safe; sets *self_p to NULL. */
void cairn_note_signer_destroy(cairn_note_signer_t **self_p);

/* Parses a vkey text (a trailing "\n" is tolerated). Rejects with
 * CAIRN_EPARSE a bad name, a key id that does not match name and key, an
 * algorithm other than Ed25519, or a key of the wrong length. */
int cairn_note_verifier_parse(const char *vkey, cairn_note_verifier_t **verifier_out);

/* Verifier from name and raw Ed25519 public key. */
int cairn_note_verifier_new(const char *name, const uint8_t pubkey[CAIRN_NOTE_PUBKEY_BYTES],
                            cairn_note_verifier_t **verifier_out);

/* The vkey text (malloc'd, NUL-terminated). */
int cairn_note_verifier_format(const cairn_note_verifier_t *self, char **vkey_out);

const char *cairn_note_verifier_name(const cairn_note_verifier_t *self);
uint32_t cairn_note_verifier_keyid(const cairn_note_verifier_t *self);
void cairn_note_verifier_public_key(const cairn_note_verifier_t *self,
                                    uint8_t out[CAIRN_NOTE_PUBKEY_BYTES]);

/* NULL-safe; sets *self_p to NULL. */
void cairn_note_verifier_destroy(cairn_note_verifier_t **self_p);

/* ---- signed notes ---------------------------------------------------- */

/* Signs text and returns the signed note text || "\n" || signature line,
 * malloc'd and NUL-terminated (*len_out excludes the NUL). The text (len
 * bytes) must be non-empty, end with "\n" but not "\n\n", and be valid UTF-8
 * without control characters other than "\n" (else CAIRN_EINVALID). */
int cairn_note_sign(const char *text, size_t len, const cairn_note_signer_t *signer,
                    char **note_out, size_t *len_out);

/* Verifies a signed note against one key, per C2SP signed-note: the note is
 * valid UTF-8 without control characters other than "\n"; its text ends at
 * the last "\n\n"; every line after it is a well-formed signature line (at
 * most CAIRN_NOTE_MAX_SIGNATURES). Signatures by other keys (name and key id
 * must both match) are ignored. On success *text_len_out is the length of
 * the signed text, which is note[0 .. *text_len_out) and ends with "\n".
 * CAIRN_EPARSE malformed; CAIRN_ENOTFOUND no signature by this key;
 * CAIRN_EINTEGRITY a signature by this key does not verify. */
int cairn_note_verify(const char *note, size_t len, const cairn_note_verifier_t *verifier,
                      size_t *text_len_out);

/* ---- checkpoints ----------------------------------------------------- */

typedef struct cairn_checkpoint {
    char *origin;                   /* first line, malloc'd */
    uint64_t size;                  /* tree size */
    uint8_t root[CAIRN_HASH_BYTES]; /* RFC 6962 root of the first size leaves */
    char *extensions; /* extension lines verbatim ("a\nb\n"), malloc'd; NULL if none */
} cairn_checkpoint_t;

/* Checkpoint text "<origin>\n<size>\n<base64 root>\n[extensions]", malloc'd
 * and NUL-terminated. extensions may be NULL; if given, each of its lines is
 * non-empty and ends with "\n". CAIRN_EINVALID for a bad origin/extension. */
int cairn_checkpoint_format(const char *origin, uint64_t size, const uint8_t root[CAIRN_HASH_BYTES],
                            const char *extensions, char **text_out, size_t *len_out);

/* Parses checkpoint text (the signed text of the note, not the whole note):
 * non-empty origin, decimal size without leading zeros, base64 of exactly 32
 * bytes, then any non-empty extension lines. CAIRN_EPARSE otherwise. Clear
 * *out with cairn_checkpoint_clear(). */
int cairn_checkpoint_parse(const char *text, size_t len, cairn_checkpoint_t *out);

/* Verifies a signed checkpoint note with verifier and parses its text. If
 * origin is NULL the checkpoint origin must equal the verifier's key name,
 * otherwise it must equal origin (CAIRN_EINVALID). */
int cairn_checkpoint_open(const char *note, size_t len, const cairn_note_verifier_t *verifier,
                          const char *origin, cairn_checkpoint_t *out);

/* Frees the fields and zeroes the struct; NULL-safe, idempotent. */
void cairn_checkpoint_clear(cairn_checkpoint_t *cp);

/* ---- offline proofs (c2sp.org/tlog-proof@v1) ------------------------- */

typedef struct cairn_tlog_proof {
    uint8_t *extra;   /* decoded "extra" bytes (unauthenticated), malloc'd; NULL if absent */
    size_t extra_len; /* bytes in extra */
    uint64_t index;   /* leaf index */
    uint8_t proof[CAIRN_MERKLE_MAX_PROOF * CAIRN_HASH_BYTES]; /* inclusion proof hashes */
    size_t proof_count;                                       /* hashes in proof */
    char *checkpoint;      /* the signed checkpoint note, malloc'd, NUL-terminated */
    size_t checkpoint_len; /* bytes in checkpoint */
} cairn_tlog_proof_t;

/* Formats a tlog-proof:
 *   c2sp.org/tlog-proof@v1\n[extra <base64>\n]index <n>\n<base64 hash>\n*\n<note>
 * extra may be NULL (no extra line). The note must be a signed note (it is
 * copied verbatim, not verified here). Result malloc'd, NUL-terminated. */
int cairn_tlog_proof_format(const uint8_t *extra, size_t extra_len, uint64_t index,
                            const uint8_t *proof, size_t proof_count, const char *checkpoint_note,
                            size_t note_len, char **text_out, size_t *len_out);

/* Parses a tlog-proof (structure only; nothing is verified). CAIRN_EPARSE for
 * a wrong header, bad numbers or base64, hashes that are not 32 bytes, more
 * than CAIRN_MERKLE_MAX_PROOF hashes. Clear with cairn_tlog_proof_clear(). */
int cairn_tlog_proof_parse(const char *text, size_t len, cairn_tlog_proof_t *out);

/* Verifies a parsed tlog-proof for the leaf bytes the caller holds: the
 * checkpoint signature (cairn_checkpoint_open with origin, NULL = key name)
 * and the inclusion of SHA-256(0x00 || leaf) at proof->index. If cp_out is
 * not NULL it receives the checkpoint on success. */
int cairn_tlog_proof_verify(const cairn_tlog_proof_t *proof, const void *leaf, size_t leaf_len,
                            const cairn_note_verifier_t *verifier, const char *origin,
                            cairn_checkpoint_t *cp_out);

/* Frees the fields and zeroes the struct; NULL-safe, idempotent. */
void cairn_tlog_proof_clear(cairn_tlog_proof_t *proof);

#endif
