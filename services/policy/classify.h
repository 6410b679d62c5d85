/* Risk classification: the first step of every evaluation.
 *
 * The change's data classes are those it states (governance.data_classes,
 * `data:<class>` labels) plus every class of the policy's `data_classes`
 * section whose paths match a changed path. Then the `classify.rules` are
 * tried in file order; the risk is the maximum over the matching rules, or
 * `classify.default` when none matches, and the tags are the union of the
 * matching rules' tags. A rule's `risk_min` / `risk_max` / `tags_any` test
 * what the rules before it (and a stated risk) have established, so a later
 * rule can build on an earlier one. A fact a rule needs that the change does
 * not state (environment, service) counts as matching: classification fails
 * towards the higher risk. A risk stated by the source (ITSM `risk`, or a
 * `risk:<level>` label) is a floor: the higher of the two wins. A stated
 * risk that is not a level cannot be evaluated, which denies. */
#ifndef CAIRN_POLICY_CLASSIFY_H
#define CAIRN_POLICY_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "cairn/codec.h"
#include "change.h"
#include "findings.h"
#include "policy_model.h"
#include "predicates.h"

/* Where a data class of the change comes from. */
typedef struct {
    const char *path; /* the changed path that matched (NULL: stated by the change's events) */
    const char *glob; /* the data_classes glob it matched */
} cairn_class_source_t;

typedef struct {
    cairn_risk_t risk;       /* the classified risk */
    cairn_strv_t tags;       /* tags from the matching rules (items borrowed from the policy) */
    cairn_strv_t risk_rules; /* ids that set the risk ("classify.default", "risk:stated") */
    char **data_classes;     /* stated and derived data classes (borrowed names) */
    size_t n_data_classes;
    cairn_class_source_t *class_sources; /* per data class: where it came from */
    cairn_when_result_t *matched;        /* per classify rule */
    cairn_risk_t stated;                 /* stated risk (UNSET when none or unreadable) */
    bool stated_bad;                     /* a risk was stated that is not a level */
} cairn_classification_t;

/* Classifies change c for environment env (may be "") and change type;
 * every array is allocated in arena. */
int cairn_classify(const cairn_policy_t *p, const cairn_change_t *c, const char *env,
                   const char *change_type, cairn_arena_t *arena, cairn_classification_t *out);

/* Adds a reason per data class, per classify rule and for the risk to out,
 * and raises *decision (a stated risk that is no level denies). */
int cairn_classify_explain(const cairn_classification_t *self, const cairn_policy_t *p,
                           const cairn_change_t *c, cairn_findings_t *out,
                           Cairn__V1__Decision *decision);

#endif
