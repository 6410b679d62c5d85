/* Signed approvals: the statement an approver signs, how it is signed and
 * verified, and the approver keys a policy's role directory holds.
 *
 * The statement is a C2SP signed-note text (docs/formats.md, "Signed
 * approvals"), one "key value" line per field, in this order:
 *
 *   cairn-approval/v1\n
 *   change <change id>\n
 *   commit <full commit SHA>\n
 *   role <role>\n                 only when the approver names a role
 *   decision granted|rejected\n
 *   approver <user>\n
 *   time <RFC 3339 time, as signed>\n
 *
 * Every value is non-empty and free of white space and control characters.
 * The signature is an ordinary signed-note signature by a key named after
 * the approver: the event carries its base64(key id || Ed25519 signature),
 * so "<statement>\n— <approver> <signature>\n" is a signed note that any
 * signed-note verifier checks with the approver's vkey.
 *
 * An approver key is written in a policy either as a vkey
 * (<name>+<hex8 key id>+<base64(0x01 || key)>, what `cairn keygen
 * --approver` writes) whose name is the approver, or as
 * "ed25519:<base64 of the 32-byte public key>".
 *
 * Errors: CAIRN_EINVALID a statement that cannot be written (empty value,
 * white space, bad time, a signer not named after the approver);
 * CAIRN_EPARSE a malformed signature or key; CAIRN_ENOTFOUND a signature
 * by another key; CAIRN_EINTEGRITY a signature by this key that does not
 * verify; -ENOMEM. */
#ifndef CAIRN_APPROVAL_H
#define CAIRN_APPROVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/note.h"

#define CAIRN_APPROVAL_MAGIC "cairn-approval/v1"
#define CAIRN_APPROVAL_KEY_PREFIX "ed25519:"

/* The fields an approver signs. */
typedef struct {
    const char *change;    /* change id */
    const char *commit;    /* full commit SHA the approval binds to */
    const char *role;      /* role claimed, or NULL / "" for none */
    const char *decision;  /* "granted" or "rejected" */
    const char *approver;  /* user name */
    const char *signed_at; /* RFC 3339 time, as signed */
} cairn_approval_stmt_t;

/* The statement text (malloc'd, NUL-terminated; *len_out excludes the NUL). */
int cairn_approval_statement(const cairn_approval_stmt_t *stmt, char **text_out, size_t *len_out);

/* Signs the statement with signer, whose key name must be stmt->approver.
 * *sig_out: base64(key id || signature); *key_out: "<name>+<hex8 key id>"
 * (both malloc'd). */
int cairn_approval_sign(const cairn_approval_stmt_t *stmt, const cairn_note_signer_t *signer,
                        char **sig_out, char **key_out);

/* Verifies sig (base64(key id || signature)) of the statement with the
 * approver's key (verifier, named after the approver). */
int cairn_approval_verify(const cairn_approval_stmt_t *stmt, const char *sig,
                          const cairn_note_verifier_t *verifier);

/* The key id a signature names (its first 4 bytes). CAIRN_EPARSE if sig is
 * not base64 of 4 + 64 bytes. */
int cairn_approval_signature_keyid(const char *sig, uint32_t *keyid_out);

/* An approver key as a policy writes it (see above), for user. A vkey
 * named after someone else is CAIRN_EINVALID; err says why. */
int cairn_approval_key_parse(const char *user, const char *text,
                             cairn_note_verifier_t **verifier_out, char *err, size_t errlen);

/* How an approval arrived, for people: "<source> (authenticated by <how>)"
 * or "<source> (unauthenticated)", from the event's ingest_source and
 * authenticated_by ("" when the source is unknown). */
void cairn_approval_via(const char *ingest_source, const char *authenticated_by, char *buf,
                        size_t len);

/* Whether via (as cairn_approval_via writes it) names an ITSM source
 * (ServiceNow, Jira, PagerDuty) that ingest authenticated. */
bool cairn_approval_via_itsm_authenticated(const char *via);

#endif
