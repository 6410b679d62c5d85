/* Approval signature checks against the policy's approver keys (see
 * signature.h). */
#include "signature.h"

#include <string.h>

#include "cairn/approval.h"
#include "cairn/error.h"
#include "format.h"

/* The person a "<name>+<hex8>" key label names, into buf. */
static void s_key_owner(const char *key, char *buf, size_t len)
{
    const char *plus = strrchr(key, '+');
    size_t n = plus ? (size_t)(plus - key) : strlen(key);
    if (n >= len)
        n = len - 1;
    memcpy(buf, key, n);
    buf[n] = '\0';
}

cairn_sig_status_t cairn_signature_check(const cairn_policy_t *p, const cairn_change_t *c,
                                         const cairn_change_approval_t *a, char *why, size_t len)
{
    if (why && len)
        why[0] = '\0';
    if (!a->signature || !*a->signature)
        return CAIRN_SIG_NONE;
    if (!cairn_policy_user_has_key(p, a->user)) {
        if (why)
            cairn_format(why, len,
                         "%s's approval carries a signature (key %s), but policy %s holds no key "
                         "for %s, so it counts as unsigned",
                         a->user, *a->key ? a->key : "unnamed", p->name, a->user);
        return CAIRN_SIG_NO_KEY;
    }
    cairn_approval_stmt_t st = {
        .change = c->id,
        .commit = a->commit_sha,
        .role = a->role,
        .decision = a->rejected ? "rejected" : "granted",
        .approver = a->user,
        .signed_at = a->signed_at,
    };
    int worst = CAIRN_ENOTFOUND;
    const cairn_approver_key_t *tried = NULL;
    for (size_t i = 0; i < p->n_approver_keys; i++) {
        const cairn_approver_key_t *k = &p->approver_keys[i];
        if (strcmp(k->user, a->user) != 0)
            continue;
        int rc = cairn_approval_verify(&st, a->signature, k->verifier);
        if (rc == 0)
            return CAIRN_SIG_VALID;
        if (rc != CAIRN_ENOTFOUND || !tried) {
            worst = rc;
            tried = k;
        }
    }
    if (!why)
        return CAIRN_SIG_INVALID;
    char owner[128];
    uint32_t keyid = 0;
    s_key_owner(a->key ? a->key : "", owner, sizeof owner);
    if (worst == CAIRN_ENOTFOUND && *owner && strcmp(owner, a->user) != 0)
        cairn_format(why, len,
                     "%s's approval is signed with %s's key (%s), not with a key of %s's in policy "
                     "%s; the approval is void",
                     a->user, owner, a->key, a->user, p->name);
    else if (worst == CAIRN_ENOTFOUND &&
             cairn_approval_signature_keyid(a->signature, &keyid) == 0)
        cairn_format(why, len,
                     "%s's approval is signed with key id %08x, which is not a key of %s's in "
                     "policy %s (%s); the approval is void",
                     a->user, keyid, a->user, p->name, tried ? tried->text : "");
    else if (worst == CAIRN_EINTEGRITY)
        cairn_format(why, len,
                     "%s's approval signature does not verify with %s's key %s: the approval as "
                     "recorded (change %s, commit %.12s, %s) is not what was signed; the approval "
                     "is void",
                     a->user, a->user, tried ? tried->text : "", c->id, a->commit_sha,
                     st.decision);
    else if (worst == CAIRN_EINVALID)
        cairn_format(why, len,
                     "%s's signed approval cannot be checked: it names no commit, or its signed "
                     "time '%s' is not an RFC 3339 time; the approval is void",
                     a->user, a->signed_at);
    else
        cairn_format(why, len,
                     "%s's approval signature is malformed (expected base64 of a 4-byte key id "
                     "and a 64-byte Ed25519 signature); the approval is void",
                     a->user);
    return CAIRN_SIG_INVALID;
}
