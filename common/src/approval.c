/* Signed approvals: the approval statement, its signature as a signed-note
 * signature, and approver keys (see cairn/approval.h). The note code does
 * the cryptography; this file only fixes the bytes that are signed. */
#include "cairn/approval.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"

#define S_SIG_BYTES (CAIRN_NOTE_KEYID_BYTES + crypto_sign_BYTES)
#define S_DASH "\xe2\x80\x94 " /* "— ": a signed-note signature line starts so */

/* A value of the statement: non-empty, no white space or control bytes. */
static bool s_value_ok(const char *v)
{
    if (!v || !*v)
        return false;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

int cairn_approval_statement(const cairn_approval_stmt_t *stmt, char **text_out, size_t *len_out)
{
    int64_t ms = 0;
    bool has_role = stmt->role && *stmt->role;
    if (!s_value_ok(stmt->change) || !s_value_ok(stmt->commit) ||
        (has_role && !s_value_ok(stmt->role)) || !s_value_ok(stmt->approver) ||
        !s_value_ok(stmt->signed_at) || cairn_parse_time(stmt->signed_at, &ms) < 0 ||
        !stmt->decision ||
        (strcmp(stmt->decision, "granted") != 0 && strcmp(stmt->decision, "rejected") != 0))
        return CAIRN_EINVALID;
    char role[512] = "";
    if (has_role && (size_t)snprintf(role, sizeof role, "role %s\n", stmt->role) >= sizeof role)
        return CAIRN_EINVALID;
#define S_STMT_FMT CAIRN_APPROVAL_MAGIC "\nchange %s\ncommit %s\n%sdecision %s\napprover %s\ntime %s\n"
    int n = snprintf(NULL, 0, S_STMT_FMT, stmt->change, stmt->commit, role, stmt->decision,
                     stmt->approver, stmt->signed_at);
    if (n < 0)
        return CAIRN_EINVALID;
    char *text = malloc((size_t)n + 1);
    if (!text)
        return -ENOMEM;
    snprintf(text, (size_t)n + 1, S_STMT_FMT, stmt->change, stmt->commit, role, stmt->decision,
             stmt->approver, stmt->signed_at);
#undef S_STMT_FMT
    if (!cairn_note_text_valid(text, (size_t)n)) {
        free(text);
        return CAIRN_EINVALID;
    }
    *text_out = text;
    *len_out = (size_t)n;
    return 0;
}

int cairn_approval_sign(const cairn_approval_stmt_t *stmt, const cairn_note_signer_t *signer,
                        char **sig_out, char **key_out)
{
    int rc;
    char *text = NULL, *note = NULL, *sig = NULL, *key = NULL;
    size_t len = 0, note_len = 0;
    const char *name = cairn_note_signer_name(signer);
    if (!stmt->approver || strcmp(name, stmt->approver) != 0)
        return CAIRN_EINVALID;
    if ((rc = cairn_approval_statement(stmt, &text, &len)) < 0 ||
        (rc = cairn_note_sign(text, len, signer, &note, &note_len)) < 0)
        goto out;
    /* The note is text "\n" "— <name> <sig>\n": keep <sig>. */
    size_t at = len + 1 + strlen(S_DASH) + strlen(name) + 1;
    if (note_len <= at + 1 || note[note_len - 1] != '\n') {
        rc = CAIRN_EINTERNAL;
        goto out;
    }
    size_t sig_len = note_len - 1 - at;
    key = malloc(strlen(name) + 10);
    if (!(sig = malloc(sig_len + 1)) || !key) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(sig, note + at, sig_len);
    sig[sig_len] = '\0';
    snprintf(key, strlen(name) + 10, "%s+%08x", name, cairn_note_signer_keyid(signer));
    *sig_out = sig;
    *key_out = key;
    sig = key = NULL;
out:
    free(text);
    free(note);
    free(sig);
    free(key);
    return rc;
}

int cairn_approval_signature_keyid(const char *sig, uint32_t *keyid_out)
{
    uint8_t raw[S_SIG_BYTES + 1];
    size_t n = 0;
    if (!sig || sodium_base642bin(raw, sizeof raw, sig, strlen(sig), NULL, &n, NULL,
                                  sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != S_SIG_BYTES)
        return CAIRN_EPARSE;
    *keyid_out = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 | (uint32_t)raw[2] << 8 | raw[3];
    return 0;
}

int cairn_approval_verify(const cairn_approval_stmt_t *stmt, const char *sig,
                          const cairn_note_verifier_t *verifier)
{
    int rc;
    uint32_t keyid;
    char *text = NULL, *note = NULL;
    size_t len = 0, text_len = 0;
    if ((rc = cairn_approval_signature_keyid(sig, &keyid)) < 0)
        return rc;
    if ((rc = cairn_approval_statement(stmt, &text, &len)) < 0)
        return rc;
    const char *name = cairn_note_verifier_name(verifier);
    size_t cap = len + 1 + strlen(S_DASH) + strlen(name) + 1 + strlen(sig) + 2;
    if (!(note = malloc(cap))) {
        rc = -ENOMEM;
        goto out;
    }
    int n = snprintf(note, cap, "%s\n" S_DASH "%s %s\n", text, name, sig);
    if (n < 0 || (size_t)n >= cap) {
        rc = CAIRN_EINTERNAL;
        goto out;
    }
    rc = cairn_note_verify(note, (size_t)n, verifier, &text_len);
    if (rc == 0 && text_len != len)
        rc = CAIRN_EINTEGRITY;
out:
    free(text);
    free(note);
    return rc;
}

int cairn_approval_key_parse(const char *user, const char *text,
                             cairn_note_verifier_t **verifier_out, char *err, size_t errlen)
{
    int rc;
    cairn_note_verifier_t *v = NULL;
    size_t plen = strlen(CAIRN_APPROVAL_KEY_PREFIX);
    if (strncmp(text, CAIRN_APPROVAL_KEY_PREFIX, plen) == 0) {
        uint8_t pub[CAIRN_NOTE_PUBKEY_BYTES + 1];
        size_t n = 0;
        const char *b64 = text + plen;
        if (sodium_base642bin(pub, sizeof pub, b64, strlen(b64), NULL, &n, NULL,
                              sodium_base64_VARIANT_ORIGINAL) != 0 ||
            n != CAIRN_NOTE_PUBKEY_BYTES) {
            snprintf(err, errlen,
                     "'%s' is not an Ed25519 public key: after 'ed25519:' comes the base64 of "
                     "32 bytes",
                     text);
            return CAIRN_EPARSE;
        }
        if ((rc = cairn_note_verifier_new(user, pub, &v)) < 0) {
            snprintf(err, errlen, "'%s' cannot name a key: %s", user, cairn_strerror(rc));
            return rc;
        }
        *verifier_out = v;
        return 0;
    }
    if (cairn_note_verifier_parse(text, &v) < 0) {
        snprintf(err, errlen,
                 "'%s' is not an approver key: write the vkey `cairn keygen --approver` printed "
                 "(<name>+<key id>+<base64 key>) or ed25519:<base64 public key>",
                 text);
        return CAIRN_EPARSE;
    }
    if (strcmp(cairn_note_verifier_name(v), user) != 0) {
        snprintf(err, errlen, "the key is %s's (it is named '%s'), not %s's",
                 cairn_note_verifier_name(v), cairn_note_verifier_name(v), user);
        cairn_note_verifier_destroy(&v);
        return CAIRN_EINVALID;
    }
    *verifier_out = v;
    return 0;
}

void cairn_approval_via(const char *ingest_source, const char *authenticated_by, char *buf,
                        size_t len)
{
    if (!len)
        return;
    buf[0] = '\0';
    if (!ingest_source || !*ingest_source)
        return;
    bool authenticated = authenticated_by && *authenticated_by &&
                         strcmp(authenticated_by, "none") != 0 &&
                         strncmp(authenticated_by, "unsigned", 8) != 0;
    if (authenticated)
        snprintf(buf, len, "%s (authenticated by %s)", ingest_source, authenticated_by);
    else
        snprintf(buf, len, "%s (unauthenticated)", ingest_source);
}

bool cairn_approval_via_itsm_authenticated(const char *via)
{
    static const char *const itsm[] = {"servicenow", "jira", "pagerduty", NULL};
    if (!via || !strstr(via, " (authenticated by "))
        return false;
    for (size_t i = 0; itsm[i]; i++) {
        size_t n = strlen(itsm[i]);
        if (strncmp(via, itsm[i], n) == 0 && via[n] == ' ')
            return true;
    }
    return false;
}
