/* `when:` predicates: does a rule apply to this change in this environment?
 * Shared by classification, approval rules and the evaluation context. */
#ifndef CAIRN_POLICY_PREDICATES_H
#define CAIRN_POLICY_PREDICATES_H

#include <stdbool.h>

#include "change.h"
#include "policy_model.h"

/* What an evaluation knows about its subject beyond the change itself. */
typedef struct {
    const cairn_change_t *change; /* the change (never NULL) */
    const char *environment;      /* target environment ("" if unknown) */
    cairn_risk_t risk;            /* classified risk */
    const char *change_type;      /* standard / normal / emergency */
    const cairn_strv_t *tags;     /* tags set by classification (may be NULL) */
    char *const *data_classes;    /* data classes: stated and from paths (NULL: the change's) */
    size_t n_data_classes;
    int64_t now_ms; /* evaluation time (approval expiry, delegations) */
    int64_t *valid_until_ms; /* lowered to the first time after now_ms at which a time-dependent
                                result may change (NULL: not tracked) */
} cairn_facts_t;

/* Notes that a result read at f->now_ms holds until t (exclusive): lowers
 * *f->valid_until_ms to t when t is later than now. */
void cairn_facts_until(const cairn_facts_t *f, int64_t t);

typedef enum {
    CAIRN_WHEN_NO = 0,      /* a stated fact rules it out */
    CAIRN_WHEN_YES = 1,     /* every predicate holds */
    CAIRN_WHEN_UNKNOWN = 2, /* nothing rules it out, but a fact it needs is unknown */
} cairn_when_result_t;

/* Environment and service are facts every change should state: when they
 * are unknown the answer is UNKNOWN, and callers that must fail closed treat
 * that as a match. Paths, data classes and line counts are stated only when
 * present, so their absence is simply "none". */
cairn_when_result_t cairn_when_match(const cairn_when_t *w, const cairn_facts_t *f);

/* Whether w has no predicates at all. */
bool cairn_when_empty(const cairn_when_t *w);

#endif
