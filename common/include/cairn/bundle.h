/* Ledger leaves and export bundles.
 *
 * A leaf is the exact byte string hashed into the Merkle log for one ledger
 * entry: a small, deterministic, line-oriented text record (docs/formats.md):
 *
 *   cairn.ledger/entry/v1\n
 *   origin <log origin>\n
 *   index <n>\n
 *   topic <topic>\n
 *   key sha256:<64 hex>\n          only if the append had an idempotency key
 *   payload sha256:<64 hex>\n      SHA-256 of the stored payload (Record) bytes
 *   change <change id>\n           only if the entry belongs to a change
 *   release <release id>\n         only if the entry names a release
 *   prev <index>|none\n            only with change: previous entry of that change
 *   time <unix ms>\n
 *
 * Values are non-empty, valid UTF-8 without control characters; numbers are
 * decimal without leading zeros; hex is lower case. There is exactly one
 * byte encoding of a leaf: cairn_leaf_parse() accepts only what
 * cairn_leaf_format() would write.
 *
 * An export bundle is JSON that a verifier checks offline with only the
 * log's vkey:
 *
 *   {"format":"cairn.bundle/v1","checkpoint":"<signed checkpoint note>",
 *    "entries":[{"index":N,"leaf":"<base64 leaf>","inclusion":["<base64 hash>",...],
 *                "payload":"<base64 payload>"}, ...]}
 */
#ifndef CAIRN_BUNDLE_H
#define CAIRN_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/merkle.h"
#include "cairn/note.h"

#define CAIRN_LEAF_MAGIC "cairn.ledger/entry/v1"
#define CAIRN_BUNDLE_FORMAT "cairn.bundle/v1"
#define CAIRN_LEAF_MAX 16384 /* longest leaf cairn_leaf_parse accepts */

/* ---- leaves ---------------------------------------------------------- */

typedef struct cairn_leaf {
    char *origin;                             /* log origin (same as the checkpoint's) */
    uint64_t index;                           /* 0-based index of this entry in the log */
    char *topic;                              /* bus topic of the record */
    bool has_key;                             /* the append carried an idempotency key */
    uint8_t key_sha256[CAIRN_HASH_BYTES];     /* SHA-256 of the idempotency key, if has_key */
    uint8_t payload_sha256[CAIRN_HASH_BYTES]; /* SHA-256 of the payload bytes */
    char *change;                             /* change id, NULL if none */
    char *release;                            /* release id, NULL if none */
    bool has_prev;                            /* with change: a previous entry exists */
    uint64_t prev;                            /* with has_prev: index of that entry */
    uint64_t time_ms;                         /* ledger time, Unix milliseconds */
} cairn_leaf_t;

/* Writes the leaf text (malloc'd, NUL-terminated; *len_out excludes the NUL).
 * CAIRN_EINVALID if a required string is missing, a value is empty or holds
 * a control character or invalid UTF-8, or has_prev is set without change. */
int cairn_leaf_format(const cairn_leaf_t *leaf, char **text_out, size_t *len_out);

/* Parses leaf bytes strictly (see above) into *out; CAIRN_EPARSE otherwise.
 * Clear with cairn_leaf_clear(). */
int cairn_leaf_parse(const void *text, size_t len, cairn_leaf_t *out);

/* Frees the strings of a parsed leaf and zeroes it; NULL-safe, idempotent. */
void cairn_leaf_clear(cairn_leaf_t *leaf);

/* ---- building a bundle ---------------------------------------------- */

typedef struct cairn_bundle cairn_bundle_t;

/* New bundle for a signed checkpoint note (copied). */
int cairn_bundle_new(const char *checkpoint_note, size_t note_len, cairn_bundle_t **bundle_out);

/* Adds one entry: its leaf bytes, inclusion proof against the checkpoint
 * (proof_count hashes) and payload bytes (payload may be NULL only when
 * payload_len is 0). Entries are written in the order added. */
int cairn_bundle_add(cairn_bundle_t *self, uint64_t index, const void *leaf, size_t leaf_len,
                     const uint8_t *proof, size_t proof_count, const void *payload,
                     size_t payload_len);

/* The bundle as compact JSON (malloc'd, NUL-terminated). */
int cairn_bundle_encode(const cairn_bundle_t *self, char **json_out, size_t *len_out);

/* NULL-safe; sets *self_p to NULL. */
void cairn_bundle_destroy(cairn_bundle_t **self_p);

/* ---- verifying a bundle --------------------------------------------- */

typedef enum {
    CAIRN_FINDING_FORMAT,    /* the bundle or an entry is not well-formed JSON of this format */
    CAIRN_FINDING_SIGNATURE, /* the checkpoint is malformed or its signature is missing/bad */
    CAIRN_FINDING_LEAF,      /* the leaf does not parse or disagrees with entry/checkpoint */
    CAIRN_FINDING_INCLUSION, /* the inclusion proof does not lead to the checkpoint root */
    CAIRN_FINDING_PAYLOAD,   /* the payload is missing or its SHA-256 differs from the leaf's */
    CAIRN_FINDING_DUPLICATE, /* two entries have the same index */
    CAIRN_FINDING_CHAIN,     /* a change's prev chain is broken, forked, or has no/several starts */
} cairn_finding_kind_t;

typedef struct cairn_finding {
    cairn_finding_kind_t kind; /* what class of check failed */
    bool has_index;            /* the finding is about one entry */
    uint64_t index;            /* with has_index: that entry's log index */
    char *change;              /* change id for chain findings, malloc'd; else NULL */
    char *reason;              /* one sentence saying exactly what failed, malloc'd */
} cairn_finding_t;

typedef struct cairn_bundle_report {
    bool checkpoint_ok;            /* the checkpoint verified with the key */
    cairn_checkpoint_t checkpoint; /* the parsed checkpoint, if checkpoint_ok */
    size_t entry_count;            /* entries in the bundle */
    size_t entries_ok;             /* entries whose leaf, proof and payload all verified */
    cairn_finding_t *findings;     /* every problem found, in bundle order */
    size_t finding_count;          /* 0 means the bundle verified completely */
} cairn_bundle_report_t;

/* Short name of a finding kind ("signature", "inclusion", ...). */
const char *cairn_finding_kind_name(cairn_finding_kind_t kind);

/* Verifies a bundle offline with the log's key:
 * - the checkpoint's signature, and that its origin is the key name;
 * - per entry: the leaf parses and names the entry's index and the
 *   checkpoint's origin; the inclusion proof binds SHA-256(0x00 || leaf) to
 *   the checkpoint root; SHA-256(payload) equals the leaf's payload line;
 * - per change: each `prev <i>` names an earlier entry of the same change
 *   present in the bundle, no two entries name the same prev, and exactly
 *   one entry has `prev none`.
 *
 * Returns 0 when verification ran: the report says what, if anything,
 * failed (finding_count == 0 means fully verified). Returns a negative code
 * (-ENOMEM, CAIRN_EINVALID for NULL arguments) only when it could not run;
 * then *report_out is untouched. Free with cairn_bundle_report_destroy(). */
int cairn_bundle_verify(const char *json, size_t len, const cairn_note_verifier_t *verifier,
                        cairn_bundle_report_t **report_out);

/* NULL-safe; sets *self_p to NULL. */
void cairn_bundle_report_destroy(cairn_bundle_report_t **self_p);

#endif
