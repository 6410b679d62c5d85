/* The policy model: what policy_load.c builds from the YAML document
 * (POLICY-FORMAT.md) and what the evaluators read. A loaded policy is
 * immutable and reference-counted, so the query thread can keep evaluating
 * with it while a SIGHUP reload swaps in its successor.
 *
 * The model mirrors the format section by section, with times already
 * resolved: cron schedules parsed, fixed times converted to Unix ms in the
 * policy's time zone. All memory is owned by the policy's arena, except the
 * time zone, which the policy frees with itself. */
#ifndef CAIRN_POLICY_MODEL_H
#define CAIRN_POLICY_MODEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "cron.h"
#include "tz.h"

/* A list of strings. */
typedef struct {
    const char **items; /* the strings */
    size_t count;       /* how many */
} cairn_strv_t;

bool cairn_strv_contains(const cairn_strv_t *v, const char *s);

/* Risk levels in increasing order. */
typedef enum {
    CAIRN_RISK_UNSET = -1,
    CAIRN_RISK_LOW = 0,
    CAIRN_RISK_MEDIUM = 1,
    CAIRN_RISK_HIGH = 2,
    CAIRN_RISK_CRITICAL = 3,
} cairn_risk_t;

#define CAIRN_RISK_LEVELS 4

/* "low", "medium", ... ; parse returns CAIRN_RISK_UNSET for anything else. */
const char *cairn_risk_name(cairn_risk_t risk);
cairn_risk_t cairn_risk_parse(const char *name);

/* A `when:` predicate: every field that is set must hold. */
typedef struct {
    cairn_strv_t env;            /* target environment is one of these */
    cairn_strv_t service;        /* service is one of these */
    cairn_strv_t paths_any;      /* some changed path matches one of these globs */
    cairn_strv_t data_class_any; /* the change touches one of these data classes */
    cairn_strv_t tags_any;       /* classification set one of these tags */
    cairn_strv_t change_type;    /* change type is one of these */
    cairn_risk_t risk_min;       /* risk at least this (UNSET: no bound) */
    cairn_risk_t risk_max;       /* risk at most this (UNSET: no bound) */
    bool has_lines_changed_gt;   /* lines_changed_gt was given */
    int64_t lines_changed_gt;    /* more lines changed than this */
} cairn_when_t;

/* roles.<name>.delegate: while `from` is away, `to` may approve in the role. */
typedef struct {
    const char *from;  /* member who delegates */
    const char *to;    /* person who stands in */
    int64_t until_ms;  /* approvals given before this time count (Unix ms) */
    const char *until; /* the time as written */
} cairn_delegation_t;

/* A role: named people, or service accounts. */
typedef struct {
    const char *name;                /* role name, e.g. "tech_lead" */
    cairn_strv_t users;              /* members */
    bool service_account;            /* kind: service_account */
    cairn_delegation_t *delegations; /* delegate: entries */
    size_t n_delegations;
} cairn_role_t;

/* roles.<r>.users[] {name, key} (extension): an approver's Ed25519 public
 * key; signed approvals by that person are checked against it. */
typedef struct {
    const char *user;                      /* the member it belongs to */
    const char *text;                      /* the key as written in the policy */
    struct cairn_note_verifier *verifier;  /* parsed, named after user (owned by the policy) */
} cairn_approver_key_t;

/* data_classes.<name> (extension): paths that put a change in the class. */
typedef struct {
    const char *name;   /* e.g. "PII" */
    cairn_strv_t paths; /* globs */
} cairn_data_class_t;

/* classify.rules[] */
typedef struct {
    const char *id;    /* rule id */
    cairn_when_t when; /* when it matches */
    cairn_risk_t risk; /* risk it sets */
    cairn_strv_t tags; /* tags it adds */
} cairn_classify_rule_t;

/* One slot group of an approval rule: `count` people from any of `from`. */
typedef struct {
    cairn_strv_t from; /* roles that may fill it */
    uint32_t count;    /* how many distinct people */
} cairn_approval_slot_t;

/* approvals.rules[]: either {from, count} (one slot) or all_of (several). */
typedef struct {
    const char *id;               /* rule id, e.g. "peer" */
    cairn_when_t when;            /* when the rule applies (empty: always) */
    cairn_approval_slot_t *slots; /* what it needs */
    size_t n_slots;               /* how many slot groups */
    bool change_type_only; /* named by a change type's `approvals:`, so it applies only there */
} cairn_approval_rule_t;

/* separation_of_duties[] */
typedef struct {
    const char *id;         /* e.g. "SOD1" */
    const char *role;       /* duty constrained: "approver" or "verifier" */
    cairn_strv_t not_facts; /* the person may not be one of these facts: author, committers,
                               deployer, verifier */
    cairn_strv_t not_kinds; /* the person may not be of these kinds: service_account */
} cairn_sod_rule_t;

/* How a requirement compares an evidence value. */
typedef enum {
    CAIRN_REQ_MAX,  /* observed <= value */
    CAIRN_REQ_MIN,  /* observed >= value */
    CAIRN_REQ_TRUE, /* observed condition holds (when flag is true) */
} cairn_req_kind_t;

/* Evidence values a requirement can read. */
typedef enum {
    CAIRN_EV_PASSED,
    CAIRN_EV_FAILED,
    CAIRN_EV_SKIPPED,
    CAIRN_EV_CRITICAL,
    CAIRN_EV_HIGH,
    CAIRN_EV_MEDIUM,
    CAIRN_EV_LOW,
    CAIRN_EV_COVERAGE,
    CAIRN_EV_SUCCESS, /* outcome is "success" */
} cairn_ev_field_t;

/* One entry of the closed evidence vocabulary: type + require key. */
typedef struct {
    const char *type;       /* evidence type, e.g. "test_report" */
    const char *key;        /* require key, e.g. "passed_min" */
    cairn_req_kind_t kind;  /* comparison */
    cairn_ev_field_t field; /* value compared */
    const char *what;       /* noun for sentences, e.g. "passed tests" */
} cairn_req_def_t;

/* Evidence types of the closed vocabulary, in a fixed order. */
#define CAIRN_EVIDENCE_TYPES 6
/* The index of a known evidence type (0 .. CAIRN_EVIDENCE_TYPES-1), or -1. */
int cairn_evidence_type_index(const char *type);
/* The type at an index. */
const char *cairn_evidence_type_name(int index);

/* The definition for (type, key), or NULL. */
const cairn_req_def_t *cairn_req_def_find(const char *type, const char *key);
/* Whether type is a known evidence type. */
bool cairn_evidence_type_known(const char *type);
/* Known types / keys of a type, comma-separated, for error messages. */
void cairn_evidence_types_list(char *buf, size_t len);
void cairn_evidence_keys_list(const char *type, char *buf, size_t len);
/* The best close match among keys of a type (for "did you mean"), or NULL. */
const char *cairn_evidence_key_suggest(const char *type, const char *key);

/* A requirement of an evidence criterion. */
typedef struct {
    const cairn_req_def_t *def; /* what it compares */
    double value;               /* bound for MIN/MAX */
    bool flag;                  /* expected truth for TRUE */
} cairn_requirement_t;

/* gates.<name>.evidence[] */
typedef struct {
    const char *id;            /* criterion id, e.g. "unit-tests" */
    const char *type;          /* evidence type */
    cairn_requirement_t *reqs; /* require: */
    size_t n_reqs;
    int64_t max_age_ms;  /* 0 = no limit */
    bool on_fail_manual; /* on_fail: manual */
    int type_index;      /* type's index in the vocabulary (set by cairn_policy_prepare) */
} cairn_evidence_rule_t;

/* gates.<name> */
typedef struct {
    const char *name;                /* gate name */
    cairn_strv_t after;              /* gates that must pass first */
    bool approvals_satisfied;        /* require: {approvals_satisfied: true} */
    cairn_evidence_rule_t *evidence; /* evidence criteria */
    size_t n_evidence;
    int *after_index;        /* index of each `after` gate, -1 if none (cairn_policy_prepare) */
    bool reads_verification; /* a criterion reads verification evidence (cairn_policy_prepare) */
} cairn_gate_t;

/* change_types.<name> */
typedef struct {
    const char *name;       /* standard, normal, emergency */
    cairn_risk_t risk_max;  /* require.risk_max (UNSET: none) */
    bool incident_ref;      /* require.incident_ref */
    cairn_strv_t approvals; /* approval rule ids that replace the normal rules */
    bool has_approvals;     /* approvals: was given (may be empty) */
    cairn_strv_t exempt;    /* window groups it is exempt from */
    bool has_post_review;   /* post_review: was given */
    int64_t post_review_within_ms;
    cairn_strv_t post_review_from;
    uint32_t post_review_count;
} cairn_change_type_t;

/* windows.<group>[] */
typedef struct {
    const char *group;     /* e.g. "freeze" */
    const char *id;        /* e.g. "F1-weekend" */
    const char *cron;      /* recurring start (cron syntax), or NULL */
    int64_t duration_ms;   /* length of a recurring window */
    const char *from;      /* one-off start, or NULL */
    const char *to;        /* one-off end, or NULL */
    cairn_strv_t env;      /* environments it covers (empty: all) */
    cairn_strv_t service;  /* services it covers (empty: all) */
    cairn_strv_t gates;    /* gates it covers (extension; empty: all) */
    cairn_cron_t schedule; /* parsed cron (when cron is set) */
    int64_t from_ms;       /* one-off start (Unix ms, when from is set) */
    int64_t to_ms;         /* one-off end, exclusive */
} cairn_window_t;

/* tests[] (run by `cairn policy test`) */
typedef struct {
    const char *name;             /* test name */
    const char *input;            /* input fixture path */
    const char *decision;         /* expected decision */
    cairn_strv_t reasons_include; /* rule ids expected among the reasons */
} cairn_policy_test_t;

typedef struct cairn_policy_t {
    cairn_arena_t *arena; /* owns everything below */
    atomic_int refs;      /* reference count */

    const char *source;   /* file path, or "<built-in>" */
    const char *name;     /* metadata.name */
    const char *revision; /* metadata.revision ("" if absent) */
    const char *digest;   /* "sha256:<hex>" of the exact bytes */
    const char *timezone; /* defaults.timezone ("UTC" if absent) */
    cairn_tz_t *tz;       /* that zone's rules (owned; freed with the policy) */
    int64_t
        expiry_warning_ms; /* defaults.expiry_warning: warn this long before a verdict expires */

    cairn_role_t *roles;
    size_t n_roles;

    cairn_risk_t classify_default; /* classify.default (low if absent) */
    cairn_classify_rule_t *classify;
    size_t n_classify;

    cairn_data_class_t *data_classes; /* data_classes (extension) */
    size_t n_data_classes;

    cairn_change_type_t *change_types;
    size_t n_change_types;

    bool distinct_persons;                /* approvals.distinct_persons */
    bool invalidate_on_new_commit;        /* approvals.invalidate_on contains new_commit */
    int64_t expiry_ms[CAIRN_RISK_LEVELS]; /* approvals.expiry per risk (0 = none) */
    cairn_approval_rule_t *approval_rules;
    size_t n_approval_rules;
    bool require_signed;            /* approvals.require_signed (extension) is in force ... */
    cairn_when_t require_signed_when; /* ... for changes it matches (empty: all) */

    cairn_approver_key_t *approver_keys; /* every member's key, in file order (malloc'd) */
    size_t n_approver_keys;

    cairn_sod_rule_t *sod;
    size_t n_sod;

    cairn_gate_t *gates; /* in file order */
    size_t n_gates;

    cairn_window_t *windows;
    size_t n_windows;

    cairn_policy_test_t *tests;
    size_t n_tests;

    const char *
        *known_users; /* every member of a role and delegate, sorted (cairn_policy_prepare) */
    size_t n_known_users;
} cairn_policy_t;

/* A new, empty policy with one reference (used by the loader). */
cairn_policy_t *cairn_policy_new(void);

/* Takes another reference. */
cairn_policy_t *cairn_policy_ref(cairn_policy_t *self);

/* Drops a reference (NULL-safe, sets *self_p to NULL); the last one frees it. */
void cairn_policy_unref(cairn_policy_t **self_p);

/* Fills in what the evaluator looks up on every evaluation: each gate's
 * `after` gates by index, whether it reads verification evidence, and each
 * criterion's evidence type index. The loader calls it last. */
int cairn_policy_prepare(cairn_policy_t *self);

/* Lookups. */
const cairn_role_t *cairn_policy_role(const cairn_policy_t *self, const char *name);
const cairn_gate_t *cairn_policy_gate(const cairn_policy_t *self, const char *name);
int cairn_policy_gate_index(const cairn_policy_t *self, const char *name); /* -1 if none */
bool cairn_policy_user_in_role(const cairn_policy_t *self, const char *user, const char *role);
bool cairn_policy_user_is_service_account(const cairn_policy_t *self, const char *user);
/* Whether user holds any role, or stands in for someone by delegation. */
bool cairn_policy_user_known(const cairn_policy_t *self, const char *user);

/* The change type definition (NULL when the policy does not define it). */
const cairn_change_type_t *cairn_policy_change_type(const cairn_policy_t *self, const char *name);

/* The approval expiry for a risk level: its own entry, else the nearest
 * lower level's; 0 when none applies. */
int64_t cairn_policy_expiry_ms(const cairn_policy_t *self, cairn_risk_t risk);

/* Whether the policy holds at least one key for user. */
bool cairn_policy_user_has_key(const cairn_policy_t *self, const char *user);

/* Gate names joined by ", " into buf (for error sentences). */
void cairn_policy_gate_list(const cairn_policy_t *self, char *buf, size_t len);

#endif
