/* The post-implementation review of a change type with `post_review:
 * { within, from, count }` (the emergency path).
 *
 * The obligation opens when the change is implemented: the first deployment
 * evidence that did not fail (Evidence.kind "deployment"). It is due
 * `within` after that. A review is an approval (`cairn approve`) given at or
 * after the deployment by someone holding a role in `from` (directly or by
 * delegation) who may approve the change under the separation-of-duties
 * rules for approvers; `count` distinct people close it. The review never
 * blocks the change's own gates: it is an obligation in every verdict until
 * closed, and an alert when overdue. */
#ifndef CAIRN_POLICY_REVIEW_H
#define CAIRN_POLICY_REVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "change.h"
#include "change_type.h"
#include "findings.h"
#include "policy_model.h"
#include "predicates.h"

typedef struct {
    const cairn_change_type_t *def; /* the change type asking for it (NULL: none) */
    bool deployed;                  /* the change was implemented */
    int64_t due_ms;                 /* when it is due (0 until deployed) */
    uint32_t have;                  /* reviews given */
    bool done;                      /* enough reviews */
} cairn_review_t;

void cairn_review_evaluate(const cairn_policy_t *p, const cairn_change_t *c,
                           const cairn_change_kind_t *kind, cairn_review_t *out);

/* Whether a review is open (deployed, not done). */
bool cairn_review_open(const cairn_review_t *r);

/* Adds the review's reason and, while open, its obligation to v. */
/* Adds the post_review reason (and obligation while open) to out; f gives
 * the change and the time, and notes when the review falls due. */
int cairn_review_explain(const cairn_review_t *r, const cairn_policy_t *p, const cairn_facts_t *f,
                         cairn_findings_t *out);

#endif
