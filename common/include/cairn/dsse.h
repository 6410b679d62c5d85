/* DSSE v1.0.2 envelopes with Ed25519 signatures, and in-toto Statement v1
 * checks: the shape in which signed evidence reaches the ledger.
 *
 *   PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
 *   envelope        = {"payload":"<base64>","payloadType":"<type>",
 *                      "signatures":[{"keyid":"<hint>","sig":"<base64>"}, ...]}
 *
 * The signature is Ed25519 over the PAE. After verification, use the payload
 * bytes this module hands back; never re-parse the envelope. */
#ifndef CAIRN_DSSE_H
#define CAIRN_DSSE_H

#include <stddef.h>
#include <stdint.h>

#include "cairn/note.h"

#define CAIRN_DSSE_INTOTO_TYPE "application/vnd.in-toto+json"
#define CAIRN_INTOTO_STATEMENT_V1 "https://in-toto.io/Statement/v1"

/* PAE encoding of (payload_type, payload), malloc'd. */
int cairn_dsse_pae(const char *payload_type, const void *payload, size_t len, uint8_t **pae_out,
                   size_t *len_out);

/* A compact JSON envelope with one Ed25519 signature over the PAE, malloc'd
 * and NUL-terminated. keyid is an unauthenticated hint (NULL = ""). */
int cairn_dsse_sign(const cairn_note_signer_t *signer, const char *keyid, const char *payload_type,
                    const void *payload, size_t len, char **envelope_out, size_t *len_out);

/* Verifies an envelope with one Ed25519 key: 0 if at least one signature
 * verifies over the PAE (standard or URL-safe base64, padded or not, are
 * accepted). On success returns the payload type and the exact payload
 * bytes (both malloc'd; the payload is also NUL-terminated for convenience).
 * CAIRN_EPARSE malformed envelope; CAIRN_EINTEGRITY no signature verifies. */
int cairn_dsse_verify(const char *envelope, size_t len, const cairn_note_verifier_t *verifier,
                      char **payload_type_out, uint8_t **payload_out, size_t *payload_len_out);

/* Checks that payload is an in-toto Statement v1: "_type" is
 * CAIRN_INTOTO_STATEMENT_V1, "subject" is a non-empty list whose every entry
 * has a non-empty "digest" object of lower-case hex strings (a "sha256" must
 * be 64 of them), and "predicateType" is a non-empty string, returned
 * malloc'd. Unknown fields are ignored. CAIRN_EPARSE not JSON;
 * CAIRN_EINVALID not a valid Statement. */
int cairn_intoto_check(const void *payload, size_t len, char **predicate_type_out);

#endif
