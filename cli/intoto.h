/* The entries of an evidence bundle as in-toto Statements (v1), each in a
 * DSSE envelope signed with the log's key: the `.intoto.jsonl` form that
 * in-toto, cosign and slsa-verifier tooling reads (`cairn export --intoto`).
 *
 * One Statement per bundle entry:
 *   subject        the leaf bytes ("<origin>/entry/<index>", sha256 of the
 *                  leaf, so an envelope is matched to its leaf by digest),
 *                  the commit (gitCommit) and artifact (sha256) the entry's
 *                  event names, when it names them
 *   predicateType  CLI_INTOTO_PREDICATE_TYPE
 *   predicate      {log {origin, index, leaf_hash, checkpoint_size}, topic,
 *                  change, release, prev, time, payload_sha256, record}
 * The envelopes add no trust the bundle lacks: they restate, signed, what
 * the bundle proves, in a shape other tools consume. */
#ifndef CAIRN_CLI_INTOTO_H
#define CAIRN_CLI_INTOTO_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/bundle.h"
#include "cairn/note.h"

#define CLI_INTOTO_PREDICATE_TYPE "https://cairn.dev/attestation/ledger-entry/v1"

/* The Statement of one entry: its leaf bytes (parsed as leaf), its payload
 * (may be empty once purged), in a bundle proven at checkpoint_size. */
json_t *cli_intoto_statement(const uint8_t *leaf_bytes, size_t leaf_len, const cairn_leaf_t *leaf,
                             const uint8_t *payload, size_t payload_len, uint64_t checkpoint_size);

/* Every entry of a cairn.bundle/v1 document as one DSSE envelope per line
 * ("\n"-terminated), signed by signer; *out is malloc'd and NUL-terminated.
 * CAIRN_EPARSE for a bundle that is not well-formed; -ENOMEM. */
int cli_intoto_jsonl(const char *bundle, size_t len, const cairn_note_signer_t *signer, char **out,
                     size_t *len_out, size_t *count_out);

#endif
