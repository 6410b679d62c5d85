/* A change as the policy sees it: the facts gathered from every event that
 * named the change (who wrote it, which commit, where it goes), the
 * approvals given for it, the latest evidence of each kind, the last
 * decision published per gate, and the ledger indexes of those inputs.
 *
 * change.c folds one canonical event into this state; state.c stores it in
 * LMDB; the evaluators read it. Every string is owned by the change. */
#ifndef CAIRN_POLICY_CHANGE_H
#define CAIRN_POLICY_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/v1/event.pb-c.h"

/* Longest change id the policy keeps state for (LMDB keys are bounded). */
#define CAIRN_CHANGE_ID_MAX 256
/* Longest evidence kind kept (kinds are a short fixed vocabulary). */
#define CAIRN_EVIDENCE_KIND_MAX 64

typedef struct {
    char *user;       /* approver */
    char *role;       /* role the approver claimed ("" if none) */
    char *commit_sha; /* commit the approval was given for ("" if unknown) */
    uint64_t index;   /* ledger index of the approval event */
    bool rejected;    /* a rejection rather than a grant */
    int64_t at_ms;    /* when it was given: the received time, or the earlier signed time */
    char *signature;  /* base64(key id || signature) of the approval statement ("" unsigned) */
    char *key;        /* "<name>+<hex8 key id>" the approval says it was signed with ("") */
    char *signed_at;  /* the signed time, RFC 3339 as signed ("") */
    char *via;        /* how it arrived: "servicenow (authenticated by ...)" ("" unknown) */
} cairn_change_approval_t;

typedef struct {
    char *kind;             /* test_report, scan, coverage, verification, build, deployment */
    uint64_t index;         /* ledger index of the event that carried it */
    int64_t received_at_ms; /* when ingest received that event */
    char *commit_sha;       /* commit the evidence is about ("" if not stated) */
    char *outcome;          /* success / failure / error / cancel ("" if not stated) */
    uint32_t passed, failed, skipped;     /* test counts */
    uint32_t critical, high, medium, low; /* scan findings */
    double coverage_line_pct;             /* line coverage */
    bool has_coverage;                    /* coverage_line_pct was stated */
} cairn_change_evidence_t;

typedef struct {
    char *gate;             /* gate name */
    int decision;           /* Cairn__V1__Decision last published */
    bool awaiting_approval; /* that verdict was pending on approvals */
} cairn_change_gate_t;

typedef struct {
    char *id;          /* change id */
    char *author;      /* author of the change ("" if unknown) */
    char **committers; /* everyone who committed to it */
    size_t n_committers;
    char *commit_sha;  /* current commit ("" if unknown) */
    char *merge_sha;   /* the commit it was merged as ("" until merged) */
    char *environment; /* target environment ("" if unknown) */
    char *service;     /* service ("" if unknown) */
    char *deployer;    /* who deployed it ("" if unknown) */
    char *verifier;    /* who verified it ("" if unknown) */
    char *change_type; /* change type stated by the source ("" if none) */
    char *risk; /* risk stated by the source (ITSM field or risk:<level> label; "" if none) */
    char *cab;  /* CAB reference stated by the ITSM ("" if none) */
    char *incident_id; /* incident the change answers ("" if none) */
    char **paths;      /* changed paths */
    size_t n_paths;
    char **data_classes; /* data classes stated (field, or data:<class> label) */
    size_t n_data_classes;
    char **labels; /* labels on the PR/MR or ticket */
    size_t n_labels;
    uint32_t lines_changed;
    int64_t deployed_at_ms; /* first deployment evidence (0: not deployed) */

    cairn_change_approval_t *approvals; /* in ledger order, one per (user, commit) */
    size_t n_approvals;
    cairn_change_evidence_t *evidence; /* latest per kind */
    size_t n_evidence;
    cairn_change_gate_t *gates; /* last published decision per gate */
    size_t n_gates;
    uint64_t *inputs; /* ledger indexes of every event applied, ascending */
    size_t n_inputs;
    int64_t last_received_ms; /* received time of the latest event applied */

    /* Bookkeeping of the obligations and alerts (written by the engine). */
    int64_t review_due_ms;       /* post-implementation review due (0: none open) */
    bool review_overdue_alerted; /* the overdue alert was raised */
    int64_t expiry_warned_ms;    /* verdict expiry already warned about (0: none) */
} cairn_change_t;

cairn_change_t *cairn_change_new(const char *id);
void cairn_change_destroy(cairn_change_t **self_p);

/* Folds one event (at ledger index `index`) into the change. */
int cairn_change_apply_event(cairn_change_t *self, const Cairn__V1__Event *ev, uint64_t index);

/* Setters used by state.c when it rebuilds a stored change. */
int cairn_change_set(char **field, const char *value);
int cairn_change_add_str(char ***items, size_t *count, const char *value);
int cairn_change_add_approval(cairn_change_t *self, const cairn_change_approval_t *a);
int cairn_change_put_evidence(cairn_change_t *self, const cairn_change_evidence_t *e);
int cairn_change_add_input(cairn_change_t *self, uint64_t index);
/* Records the decision last published for a gate. */
int cairn_change_set_gate(cairn_change_t *self, const char *gate, int decision,
                          bool awaiting_approval);

/* Lookups. */
const cairn_change_evidence_t *cairn_change_evidence(const cairn_change_t *self, const char *kind);
const cairn_change_gate_t *cairn_change_gate(const cairn_change_t *self, const char *gate);
bool cairn_change_is_committer(const cairn_change_t *self, const char *user);
/* Whether sha names the change's current commit, or the merge commit it
 * became (builds and deployments after a merge carry the merge SHA). */
bool cairn_change_is_commit(const cairn_change_t *self, const char *sha);

#endif
