/* Findings: what the checks of one gate found, before it becomes a Verdict
 * message. Each check records the rule it evaluated and the result (pass,
 * fail, missing, void, skip), and what is still open (an approval, a piece
 * of evidence, an earlier gate); that is all a decision needs. The sentence
 * a person reads is written only when the findings render: the evaluator
 * decides without writing any, and writes them once, for the gates whose
 * verdicts are appended to the ledger or asked for.
 *
 * Everything lives in the evaluation's arena. Rule ids and strings given to
 * the adders are borrowed, so they must outlive the findings (the policy,
 * the change, literals, or the arena). */
#ifndef CAIRN_POLICY_FINDINGS_H
#define CAIRN_POLICY_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "policy_model.h"

/* The result of one rule. */
typedef enum {
    CAIRN_RESULT_PASS,
    CAIRN_RESULT_FAIL,
    CAIRN_RESULT_MISSING,
    CAIRN_RESULT_VOID,
    CAIRN_RESULT_SKIP,
} cairn_result_t;

/* "pass", "fail", "missing", "void", "skip". */
const char *cairn_result_name(cairn_result_t result);

/* One rule evaluated. */
typedef struct {
    const char *rule_id;   /* e.g. "SOD1", "after:build" */
    cairn_result_t result; /* what it found */
    const char *message;   /* the sentence (NULL unless rendering) */
} cairn_finding_t;

/* Something still open. */
typedef struct {
    const char *kind;          /* "approval", "evidence", "gate", "post_review" */
    const char *rule_id;       /* the rule */
    const cairn_strv_t *roles; /* roles that may fill an approval slot (NULL: none) */
    uint32_t missing;          /* approvals still needed */
    const char *message;       /* the sentence (NULL unless rendering) */
} cairn_open_t;

/* The first thing a verdict relies on that expires: a passing piece of
 * evidence reaching its max_age, or a counted approval. */
typedef struct {
    int64_t at_ms;    /* when (0: nothing expires) */
    const char *user; /* approval: the approver (NULL for evidence) */
    const char *type; /* evidence: its type */
    const char *id;   /* evidence: the criterion */
    uint64_t index;   /* ledger index of the approval or evidence */
} cairn_expiry_t;

/* Keeps the earlier of *self and other (the first one on a tie; 0 is none). */
void cairn_expiry_lower(cairn_expiry_t *self, const cairn_expiry_t *other);

/* What expires, for people: "the approval by lee (ledger index 4)", "scan
 * evidence sast (ledger index 3) reaches its max_age"; "" for none. */
void cairn_expiry_text(const cairn_expiry_t *self, char *buf, size_t len);

typedef struct {
    cairn_arena_t *arena;     /* owner of everything below (not owned) */
    bool render;              /* write sentences */
    cairn_finding_t *reasons; /* in evaluation order */
    size_t n_reasons, cap_reasons;
    cairn_open_t *obligations; /* in evaluation order */
    size_t n_obligations, cap_obligations;
} cairn_findings_t;

/* Empty findings in arena; render says whether sentences are written. */
void cairn_findings_init(cairn_findings_t *self, cairn_arena_t *arena, bool render);

/* Records a rule's result; the sentence is formatted only when rendering.
 * 0 or -ENOMEM. */
int cairn_findings_reason(cairn_findings_t *self, const char *rule_id, cairn_result_t result,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Records something still open. 0 or -ENOMEM. */
int cairn_findings_open(cairn_findings_t *self, const char *kind, const char *rule_id,
                        const cairn_strv_t *roles, uint32_t missing, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Whether an approval is among what is open. */
bool cairn_findings_awaits_approval(const cairn_findings_t *self);

#endif
