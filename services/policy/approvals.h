/* Approvals: which approvals count, which rules they satisfy, and what is
 * still missing.
 *
 * An approval is void when it was given for an older commit (invalidate_on:
 * [new_commit]), is older than the same person's latest decision
 * (superseded), breaks a separation-of-duties rule, or has expired
 * (approvals.expiry for the change's risk, counted from when it was given),
 * carries a signature that does not verify with the approver's key in the
 * policy ("signature", signature.h), or is an unsigned grant where
 * approvals.require_signed applies ("unsigned");
 * void approvals are kept and shown, never counted. A person fills slots of
 * the roles they hold, and of a role delegated to them (roles.<r>.delegate)
 * when the approval was given before the delegation's `until` and the
 * delegating member has not approved themselves. The rest are matched to the open slots of
 * the rules that apply (a slot is one of `count` approvals a rule needs from
 * its roles) with a maximum bipartite matching, so the outcome does not
 * depend on the order approvals came in; with distinct_persons one person
 * fills at most one slot across all rules, otherwise one per rule. */
#ifndef CAIRN_POLICY_APPROVALS_H
#define CAIRN_POLICY_APPROVALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "cairn/codec.h"
#include "change.h"
#include "findings.h"
#include "policy_model.h"
#include "predicates.h"

/* One stored approval as the evaluation sees it. */
typedef struct {
    const cairn_change_approval_t *src;   /* the stored approval */
    const char *void_rule;                /* rule that voided it ("SOD1", "new_commit"), or NULL */
    const cairn_sod_rule_t *void_sod;     /* the separation rule that voided it, or NULL */
    uint64_t superseded_by;               /* "superseded": index of the person's later decision */
    int64_t expiry_ms;                    /* "expiry": the approval expiry that ended it */
    const char *counted_rule;             /* approval rule whose slot it fills, or NULL */
    const char *counted_role;             /* role it fills that slot as, or NULL */
    const cairn_delegation_t *delegation; /* the delegation it counted by, or NULL */
    int64_t expires_ms;                   /* when it expires (0: never) */
    int signature;                        /* cairn_sig_status_t of its signature */
} cairn_approval_view_t;

/* One approval rule's standing. */
typedef struct {
    const cairn_approval_rule_t *rule; /* the rule */
    cairn_when_result_t applies;       /* whether it applies (UNKNOWN counts as applying) */
    uint32_t *have;                    /* per slot group: how many slots are filled */
} cairn_rule_standing_t;

typedef struct {
    cairn_approval_view_t *views; /* one per stored approval, in ledger order */
    size_t n_views;
    cairn_rule_standing_t *rules; /* the rules in force for this change type */
    size_t n_rules;
    bool satisfied;        /* every applying rule has every slot filled */
    bool any_sod_void;     /* some approval was voided by separation of duties */
    bool any_forged;       /* some approval was voided by a signature that does not verify */
    bool signed_required;  /* approvals.require_signed applies to this change */
    bool any_rejected;     /* a valid person rejected the current commit */
    int64_t expires_at_ms; /* earliest expiry of a counted approval (0: none) */
    const cairn_approval_view_t *expires_first; /* that approval */
} cairn_approvals_t;

/* f->change_type selects the rules in force: the change type's own
 * `approvals:`, none for a standard change without them, else the normal
 * rules. f->now_ms is the time approvals expire against (noted in
 * f->valid_until_ms). Everything is allocated in arena. */
int cairn_approvals_evaluate(const cairn_policy_t *p, const cairn_facts_t *f, cairn_arena_t *arena,
                             cairn_approvals_t *out);

/* The role of `from` that user holds when approving at at_ms, directly or
 * by delegation (*delegation set then), or NULL. delegator_approved(who)
 * says whether a delegating member approved themselves (may be NULL). */
const char *cairn_approvals_role_held(const cairn_policy_t *p, const cairn_strv_t *from,
                                      const char *user, int64_t at_ms,
                                      bool (*delegator_approved)(const char *who, void *arg),
                                      void *arg, const cairn_delegation_t **delegation);

/* Why a view is void, as a sentence ("" when it is not). */
void cairn_approvals_void_reason(const cairn_policy_t *p, const cairn_facts_t *f,
                                 const cairn_approval_view_t *view, char *buf, size_t len);

/* Adds the reasons and obligations to out and raises *decision: a
 * rejection, or unsatisfied rules with an approval voided by separation of
 * duties or by a bad signature -> deny; otherwise unsatisfied -> pending. */
int cairn_approvals_explain(const cairn_approvals_t *self, const cairn_policy_t *p,
                            const cairn_facts_t *f, cairn_findings_t *out,
                            Cairn__V1__Decision *decision);

/* The approvals as a verdict lists them (one message per view, in arena). */
int cairn_approvals_messages(const cairn_approvals_t *self, const cairn_policy_t *p,
                             const cairn_facts_t *f, cairn_arena_t *arena,
                             Cairn__V1__Approval ***out, size_t *n_out);

#endif
