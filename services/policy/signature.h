/* Signed approvals as the policy checks them: an approval that carries a
 * signature is verified against the keys the policy's role directory holds
 * for the approver (roles.<r>.users[] {name, key}), over the approval
 * statement rebuilt from what the policy recorded (cairn/approval.h): the
 * change, the commit the approval binds to, the role claimed, the decision,
 * the approver and the signed time. So a signature made by another person's
 * key, or over different facts, never verifies. */
#ifndef CAIRN_POLICY_SIGNATURE_H
#define CAIRN_POLICY_SIGNATURE_H

#include <stddef.h>

#include "change.h"
#include "policy_model.h"

typedef enum {
    CAIRN_SIG_NONE = 0,    /* the approval is not signed */
    CAIRN_SIG_VALID = 1,   /* it verifies with a key of the approver's */
    CAIRN_SIG_NO_KEY = 2,  /* it is signed, but the policy holds no key for the approver */
    CAIRN_SIG_INVALID = 3, /* it does not verify with any key of the approver's */
} cairn_sig_status_t;

/* Checks approval a of change c. When why is not NULL, a sentence saying
 * what was found is written to it ("" for an unsigned approval). */
cairn_sig_status_t cairn_signature_check(const cairn_policy_t *p, const cairn_change_t *c,
                                         const cairn_change_approval_t *a, char *why, size_t len);

#endif
