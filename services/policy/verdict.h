/* Building Verdict messages. Every part is malloc'd separately, in the same
 * layout protobuf-c gives unpacked messages, so CAIRN_CODEC_FREE releases a
 * built verdict exactly like a decoded one. Adders return 0 or -ENOMEM. */
#ifndef CAIRN_POLICY_VERDICT_H
#define CAIRN_POLICY_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "policy_model.h"

Cairn__V1__Verdict *cairn_verdict_new(void);

/* Replaces a string field of any built message with a copy of value. */
int cairn_msg_set_str(char **field, const char *value);

int cairn_verdict_add_reason(Cairn__V1__Verdict *v, const char *rule_id, const char *result,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

int cairn_verdict_add_obligation(Cairn__V1__Verdict *v, const char *kind, const char *rule_id,
                                 const cairn_strv_t *roles, uint32_t missing, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* A new Approval message (for verdicts and change status). */
Cairn__V1__Approval *cairn_approval_msg_new(const char *user, const char *role,
                                            const char *commit_sha, uint64_t index, bool is_void,
                                            const char *void_rule, const char *void_reason);

int cairn_verdict_add_approval(Cairn__V1__Verdict *v, Cairn__V1__Approval *a);

int cairn_verdict_add_input(Cairn__V1__Verdict *v, uint64_t index);

/* Whether the verdict has an open approval obligation. */
bool cairn_verdict_awaits_approval(const Cairn__V1__Verdict *v);

#endif
