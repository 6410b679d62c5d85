/* Folding canonical events into a change's state (see change.h).
 *
 * Which event may set which fact:
 * - commit, author, environment, service, lines changed: events that
 *   describe the change itself (CDEvents `change.*` types), or any event
 *   while the fact is still unknown. A late test report for an old commit must
 *   not move the change back to that commit.
 * - committers, paths, data classes, labels: the union over all non-approval
 *   events (separation of duties must see everyone who ever committed). A
 *   label `data:<class>` adds the data class <CLASS> (upper-cased), a label
 *   `risk:<level>` states the risk.
 * - change type, risk, CAB, incident: the latest non-approval event that
 *   states them (ITSM updates move them).
 * - deployer, verifier: the latest event that names them; the first
 *   deployment evidence that did not fail marks the change deployed.
 * - approvals: events with governance.approver and approval_decision; bound
 *   to the commit they name, else to the change's commit at that moment.
 *   A person's newer decision on the same commit replaces the older one.
 *   A signed approval keeps its signature, key and signed time (checked by
 *   signature.c when evaluated) and counts from the earlier of its signed
 *   and received times; every approval notes how it arrived (via).
 * - evidence: the latest event per Evidence.kind (kinds longer than
 *   CAIRN_EVIDENCE_KIND_MAX are not evidence any gate can ask for). */
#include "change.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/approval.h"
#include "cairn/util.h"

int cairn_change_set(char **field, const char *value)
{
    char *copy = strdup(value ? value : "");
    if (!copy)
        return -ENOMEM;
    free(*field);
    *field = copy;
    return 0;
}

static bool s_contains(char *const *items, size_t count, const char *value)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(items[i], value) == 0)
            return true;
    return false;
}

int cairn_change_add_str(char ***items, size_t *count, const char *value)
{
    char **grown = realloc(*items, (*count + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    *items = grown;
    if (!(grown[*count] = strdup(value)))
        return -ENOMEM;
    (*count)++;
    return 0;
}

/* Adds value unless empty or already present. */
static int s_union(char ***items, size_t *count, const char *value)
{
    if (!value || !*value || s_contains(*items, *count, value))
        return 0;
    return cairn_change_add_str(items, count, value);
}

static void s_free_strv(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

cairn_change_t *cairn_change_new(const char *id)
{
    cairn_change_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    char **fields[] = {&self->id,          &self->author,  &self->commit_sha, &self->merge_sha,
                       &self->environment, &self->service, &self->deployer,   &self->verifier,
                       &self->change_type, &self->risk,    &self->cab,        &self->incident_id};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (cairn_change_set(fields[i], i == 0 ? id : "") < 0) {
            cairn_change_destroy(&self);
            return NULL;
        }
    return self;
}

static void s_approval_free(cairn_change_approval_t *a)
{
    free(a->user);
    free(a->role);
    free(a->commit_sha);
    free(a->signature);
    free(a->key);
    free(a->signed_at);
    free(a->via);
}

static void s_evidence_free(cairn_change_evidence_t *e)
{
    free(e->kind);
    free(e->commit_sha);
    free(e->outcome);
}

void cairn_change_destroy(cairn_change_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_change_t *self = *self_p;
    free(self->id);
    free(self->author);
    free(self->commit_sha);
    free(self->merge_sha);
    free(self->environment);
    free(self->service);
    free(self->deployer);
    free(self->verifier);
    free(self->change_type);
    free(self->risk);
    free(self->cab);
    free(self->incident_id);
    s_free_strv(self->labels, self->n_labels);
    s_free_strv(self->committers, self->n_committers);
    s_free_strv(self->paths, self->n_paths);
    s_free_strv(self->data_classes, self->n_data_classes);
    for (size_t i = 0; i < self->n_approvals; i++)
        s_approval_free(&self->approvals[i]);
    free(self->approvals);
    for (size_t i = 0; i < self->n_evidence; i++)
        s_evidence_free(&self->evidence[i]);
    free(self->evidence);
    for (size_t i = 0; i < self->n_gates; i++)
        free(self->gates[i].gate);
    free(self->gates);
    free(self->inputs);
    free(self);
    *self_p = NULL;
}

int cairn_change_add_approval(cairn_change_t *self, const cairn_change_approval_t *a)
{
    cairn_change_approval_t copy = {.index = a->index, .rejected = a->rejected, .at_ms = a->at_ms};
    if (!(copy.user = strdup(a->user ? a->user : "")) ||
        !(copy.role = strdup(a->role ? a->role : "")) ||
        !(copy.commit_sha = strdup(a->commit_sha ? a->commit_sha : "")) ||
        !(copy.signature = strdup(a->signature ? a->signature : "")) ||
        !(copy.key = strdup(a->key ? a->key : "")) ||
        !(copy.signed_at = strdup(a->signed_at ? a->signed_at : "")) ||
        !(copy.via = strdup(a->via ? a->via : ""))) {
        s_approval_free(&copy);
        return -ENOMEM;
    }
    /* A newer decision by the same person on the same commit replaces the older. */
    for (size_t i = 0; i < self->n_approvals; i++) {
        cairn_change_approval_t *old = &self->approvals[i];
        if (strcmp(old->user, copy.user) == 0 && strcmp(old->commit_sha, copy.commit_sha) == 0) {
            s_approval_free(old);
            memmove(old, old + 1, (self->n_approvals - i - 1) * sizeof *old);
            self->n_approvals--;
            break;
        }
    }
    cairn_change_approval_t *grown =
        realloc(self->approvals, (self->n_approvals + 1) * sizeof *grown);
    if (!grown) {
        s_approval_free(&copy);
        return -ENOMEM;
    }
    self->approvals = grown;
    grown[self->n_approvals++] = copy;
    return 0;
}

int cairn_change_put_evidence(cairn_change_t *self, const cairn_change_evidence_t *e)
{
    cairn_change_evidence_t copy = *e;
    copy.kind = strdup(e->kind ? e->kind : "");
    copy.commit_sha = strdup(e->commit_sha ? e->commit_sha : "");
    copy.outcome = strdup(e->outcome ? e->outcome : "");
    if (!copy.kind || !copy.commit_sha || !copy.outcome) {
        s_evidence_free(&copy);
        return -ENOMEM;
    }
    for (size_t i = 0; i < self->n_evidence; i++)
        if (strcmp(self->evidence[i].kind, copy.kind) == 0) {
            s_evidence_free(&self->evidence[i]);
            self->evidence[i] = copy;
            return 0;
        }
    cairn_change_evidence_t *grown =
        realloc(self->evidence, (self->n_evidence + 1) * sizeof *grown);
    if (!grown) {
        s_evidence_free(&copy);
        return -ENOMEM;
    }
    self->evidence = grown;
    grown[self->n_evidence++] = copy;
    return 0;
}

int cairn_change_add_input(cairn_change_t *self, uint64_t index)
{
    if (self->n_inputs && self->inputs[self->n_inputs - 1] >= index) {
        /* Keep the list ascending and free of repeats. */
        for (size_t i = 0; i < self->n_inputs; i++)
            if (self->inputs[i] == index)
                return 0;
    }
    uint64_t *grown = realloc(self->inputs, (self->n_inputs + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    self->inputs = grown;
    size_t at = self->n_inputs;
    while (at > 0 && grown[at - 1] > index) {
        grown[at] = grown[at - 1];
        at--;
    }
    grown[at] = index;
    self->n_inputs++;
    return 0;
}

int cairn_change_set_gate(cairn_change_t *self, const char *gate, int decision,
                          bool awaiting_approval)
{
    for (size_t i = 0; i < self->n_gates; i++)
        if (strcmp(self->gates[i].gate, gate) == 0) {
            self->gates[i].decision = decision;
            self->gates[i].awaiting_approval = awaiting_approval;
            return 0;
        }
    cairn_change_gate_t *grown = realloc(self->gates, (self->n_gates + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    self->gates = grown;
    char *name = strdup(gate);
    if (!name)
        return -ENOMEM;
    grown[self->n_gates++] = (cairn_change_gate_t){name, decision, awaiting_approval};
    return 0;
}

const cairn_change_evidence_t *cairn_change_evidence(const cairn_change_t *self, const char *kind)
{
    for (size_t i = 0; i < self->n_evidence; i++)
        if (strcmp(self->evidence[i].kind, kind) == 0)
            return &self->evidence[i];
    return NULL;
}

const cairn_change_gate_t *cairn_change_gate(const cairn_change_t *self, const char *gate)
{
    for (size_t i = 0; i < self->n_gates; i++)
        if (strcmp(self->gates[i].gate, gate) == 0)
            return &self->gates[i];
    return NULL;
}

bool cairn_change_is_committer(const cairn_change_t *self, const char *user)
{
    return s_contains(self->committers, self->n_committers, user);
}

bool cairn_change_is_commit(const cairn_change_t *self, const char *sha)
{
    return strcmp(sha, self->commit_sha) == 0 ||
           (*self->merge_sha && strcmp(sha, self->merge_sha) == 0);
}

/* Withdraws user's decision on commit; when there is none, every decision
 * of theirs (the commit moved on since they decided). */
static void s_revoke(cairn_change_t *self, const char *user, const char *commit)
{
    bool on_commit = false;
    for (size_t i = 0; i < self->n_approvals && !on_commit; i++)
        on_commit = strcmp(self->approvals[i].user, user) == 0 &&
                    strcmp(self->approvals[i].commit_sha, commit) == 0;
    size_t kept = 0;
    for (size_t i = 0; i < self->n_approvals; i++) {
        cairn_change_approval_t *a = &self->approvals[i];
        if (strcmp(a->user, user) == 0 && (!on_commit || strcmp(a->commit_sha, commit) == 0)) {
            s_approval_free(a);
            continue;
        }
        self->approvals[kept++] = *a;
    }
    self->n_approvals = kept;
}

static bool s_set(const char *v)
{
    return v && *v;
}

/* Sets a fact when the event may (see the file comment). */
static int s_fact(char **field, const char *value, bool describes)
{
    if (!s_set(value) || (!describes && **field))
        return 0;
    return cairn_change_set(field, value);
}

/* Labels, and the facts some of them state: data:<class>, risk:<level>. */
static int s_labels(cairn_change_t *self, const Cairn__V1__Governance *gov)
{
    int rc = 0;
    for (size_t i = 0; i < gov->n_labels && rc == 0; i++) {
        const char *l = gov->labels[i];
        if ((rc = s_union(&self->labels, &self->n_labels, l)) < 0)
            break;
        if (strncmp(l, "data:", 5) == 0 && l[5]) {
            char cls[128];
            size_t n = 0;
            for (const char *p = l + 5; *p && n + 1 < sizeof cls; p++)
                cls[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
            cls[n] = '\0';
            rc = s_union(&self->data_classes, &self->n_data_classes, cls);
        } else if (strncmp(l, "risk:", 5) == 0 && l[5]) {
            rc = cairn_change_set(&self->risk, l + 5);
        }
    }
    return rc;
}

int cairn_change_apply_event(cairn_change_t *self, const Cairn__V1__Event *ev, uint64_t index)
{
    int rc = 0;
    const Cairn__V1__Correlation *corr = ev->correlation;
    const Cairn__V1__Governance *gov = ev->governance;
    const Cairn__V1__Evidence *evd = ev->evidence;
    bool describes = ev->type && strstr(ev->type, ".change.") != NULL;
    bool approval = gov && s_set(gov->approver) && s_set(gov->approval_decision);

    if (approval && strcmp(gov->approval_decision, "revoked") == 0) {
        s_revoke(self, gov->approver,
                 corr && s_set(corr->commit_sha) ? corr->commit_sha : self->commit_sha);
    } else if (approval) {
        char via[160];
        cairn_approval_via(ev->ingest_source, ev->authenticated_by, via, sizeof via);
        cairn_change_approval_t a = {
            .user = gov->approver,
            .role = gov->approver_role,
            .commit_sha = corr && s_set(corr->commit_sha) ? corr->commit_sha : self->commit_sha,
            .index = index,
            .rejected = strcmp(gov->approval_decision, "granted") != 0,
            .at_ms = ev->received_at_ms,
            .signature = gov->approval_signature,
            .key = gov->approval_key,
            .signed_at = gov->approval_signed_at,
            .via = via,
        };
        /* A signed approval was given when it was signed, if that is
         * earlier: replaying it later never makes it younger. */
        int64_t signed_ms = 0;
        if (s_set(gov->approval_signature) && s_set(gov->approval_signed_at) &&
            cairn_parse_time(gov->approval_signed_at, &signed_ms) == 0 && signed_ms > 0 &&
            (a.at_ms <= 0 || signed_ms < a.at_ms))
            a.at_ms = signed_ms;
        if ((rc = cairn_change_add_approval(self, &a)) < 0)
            return rc;
    } else {
        /* The merge commit is the same change: it never replaces the head
         * its approvals were given for. */
        const char *commit = corr ? corr->commit_sha : NULL;
        if (s_set(commit) && *self->merge_sha && strcmp(commit, self->merge_sha) == 0)
            commit = NULL;
        if (gov && s_set(gov->merge_sha) &&
            (rc = cairn_change_set(&self->merge_sha, gov->merge_sha)) < 0)
            return rc;
        if (corr && ((rc = s_fact(&self->commit_sha, commit, describes)) < 0 ||
                     (rc = s_fact(&self->environment, corr->environment, describes)) < 0 ||
                     (rc = s_fact(&self->service, corr->service, describes)) < 0))
            return rc;
        if (corr && (rc = s_fact(&self->incident_id, corr->incident_id, true)) < 0)
            return rc;
        if (gov) {
            if ((rc = s_fact(&self->author, gov->author, describes)) < 0 ||
                (rc = s_fact(&self->change_type, gov->change_type, true)) < 0 ||
                (rc = s_fact(&self->risk, gov->risk, true)) < 0 ||
                (rc = s_fact(&self->cab, gov->cab, true)) < 0)
                return rc;
            if ((rc = s_labels(self, gov)) < 0)
                return rc;
            for (size_t i = 0; i < gov->n_committers; i++)
                if ((rc = s_union(&self->committers, &self->n_committers, gov->committers[i])) < 0)
                    return rc;
            for (size_t i = 0; i < gov->n_paths; i++)
                if ((rc = s_union(&self->paths, &self->n_paths, gov->paths[i])) < 0)
                    return rc;
            for (size_t i = 0; i < gov->n_data_classes; i++)
                if ((rc = s_union(&self->data_classes, &self->n_data_classes,
                                  gov->data_classes[i])) < 0)
                    return rc;
            if (gov->lines_changed && (describes || !self->lines_changed))
                self->lines_changed = gov->lines_changed;
            if ((s_set(gov->deployer) &&
                 (rc = cairn_change_set(&self->deployer, gov->deployer)) < 0) ||
                (s_set(gov->verifier) &&
                 (rc = cairn_change_set(&self->verifier, gov->verifier)) < 0))
                return rc;
        }
        if (evd && s_set(evd->kind) && strlen(evd->kind) <= CAIRN_EVIDENCE_KIND_MAX) {
            cairn_change_evidence_t e = {
                .kind = evd->kind,
                .index = index,
                .received_at_ms = ev->received_at_ms,
                .commit_sha = corr && s_set(corr->commit_sha) ? corr->commit_sha : "",
                .outcome = evd->outcome,
                .passed = evd->tests_passed,
                .failed = evd->tests_failed,
                .skipped = evd->tests_skipped,
                .critical = evd->findings_critical,
                .high = evd->findings_high,
                .medium = evd->findings_medium,
                .low = evd->findings_low,
                .coverage_line_pct = evd->coverage_line_pct,
                .has_coverage = evd->has_coverage,
            };
            if ((rc = cairn_change_put_evidence(self, &e)) < 0)
                return rc;
            bool failed = s_set(evd->outcome) && strcmp(evd->outcome, "success") != 0;
            if (strcmp(evd->kind, "deployment") == 0 && !failed && !self->deployed_at_ms)
                self->deployed_at_ms = ev->received_at_ms ? ev->received_at_ms : 1;
        }
    }
    if ((rc = cairn_change_add_input(self, index)) < 0)
        return rc;
    if (ev->received_at_ms > self->last_received_ms)
        self->last_received_ms = ev->received_at_ms;
    return 0;
}
