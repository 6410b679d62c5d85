/* GitHub webhooks -> canonical events. The event name is the X-GitHub-Event
 * header, the delivery id X-GitHub-Delivery; the idempotency key pairs it
 * with X-GitHub-Hook-ID because GitHub reuses one delivery GUID for every
 * hook and app that receives the same event. Types are CDEvents types where
 * one means the same thing (pull requests are dev.cdevents.change.*, runs
 * are pipelinerun/taskrun, a successful deployment is service.deployed),
 * otherwise com.github.<event>.<action>. docs/events.md has the tables. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "normalize_fields.h"
#include "normalize_sources.h"

/* Changed paths kept from one push. */
#define S_PATHS_MAX 1000

static const char s_supported[] =
    "workflow_run, workflow_job, check_suite, check_run, deployment, deployment_status, "
    "deployment_review, deployment_protection_rule, pull_request, pull_request_review, push, "
    "code_scanning_alert, release (and ping)";

typedef int (*s_event_fn)(const cJSON *b, const char *action, Cairn__V1__Event *ev, char *err,
                          size_t errlen);

/* --- shared pieces ------------------------------------------------------ */

/* A `Cairn-Change:` trailer in text names the change (inferred from text). */
static int s_change_from_text(Cairn__V1__Event *ev, const char *text)
{
    char change[160];
    if (!text || (ev->correlation->change_id && *ev->correlation->change_id) ||
        !cairn_nf_trailer(text, "Cairn-Change", change, sizeof change))
        return 0;
    int rc = cairn_nf_set(&ev->correlation->change_id, change);
    return rc < 0 ? rc : cairn_nf_infer(ev, "change_id");
}

/* A deployment's payload may state the change (and service): it is an
 * object, or a string holding JSON. */
static int s_deployment_payload(Cairn__V1__Event *ev, const cJSON *deployment)
{
    const cJSON *payload = cairn_nf_at(deployment, "payload");
    cJSON *decoded = NULL;
    if (cJSON_IsString(payload)) {
        const char *text = cairn_json_str(payload);
        char ignored[8];
        if (cairn_ingest_json_parse(text, strlen(text), "the payload", &decoded, ignored,
                                    sizeof ignored) < 0)
            decoded = NULL;
        payload = decoded;
    }
    int rc = 0;
    if (cJSON_IsObject(payload)) {
        static const char *const keys[] = {"change_id", "change", "cairn_change"};
        for (size_t i = 0; rc == 0 && i < 3; i++) {
            char buf[32];
            rc = cairn_nf_default(&ev->correlation->change_id,
                                  cairn_nf_text_at(payload, keys[i], buf));
        }
        if (rc == 0)
            rc = cairn_nf_default(&ev->correlation->service, cairn_nf_str(payload, "service"));
    }
    cJSON_Delete(decoded);
    return rc;
}

static int s_labels(Cairn__V1__Event *ev, const cJSON *labels)
{
    const cJSON *label;
    int rc = 0;
    Cairn__V1__Governance *g = ev->governance;
    if (!cJSON_IsArray(labels))
        return 0;
    cairn_json_foreach(label, labels)
    {
        if (rc == 0)
            rc = cairn_nf_add(&g->labels, &g->n_labels, cairn_nf_str(label, "name"));
    }
    return rc;
}

static int s_outcome(Cairn__V1__Event *ev, const char *kind, const char *result, const char *uri)
{
    char buf[64];
    Cairn__V1__Evidence *e = ev->evidence;
    int rc = cairn_nf_set(&e->kind, kind);
    if (rc == 0)
        rc = cairn_nf_set(&e->outcome, cairn_nf_outcome(result, buf, sizeof buf));
    if (rc == 0)
        rc = cairn_nf_set(&e->uri, uri);
    return rc;
}

/* The pull request object as every pull_request* event carries it. */
static int s_pull_request(Cairn__V1__Event *ev, const cJSON *pr)
{
    Cairn__V1__Correlation *c = ev->correlation;
    Cairn__V1__Governance *g = ev->governance;
    int rc = cairn_nf_set_at(&c->pr_number, pr, "number");
    if (rc == 0)
        rc = cairn_nf_default(&c->commit_sha, cairn_nf_str(pr, "head.sha"));
    if (rc == 0)
        rc = cairn_nf_set(&g->author, cairn_nf_str(pr, "user.login"));
    if (rc == 0)
        rc = s_labels(ev, cairn_nf_at(pr, "labels"));
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(pr, "body"));
    const cJSON *add = cairn_nf_at(pr, "additions"), *del = cairn_nf_at(pr, "deletions");
    if (cairn_json_is_integer(add) && cairn_json_is_integer(del) && cairn_json_integer(add) >= 0 &&
        cairn_json_integer(del) >= 0 &&
        cairn_json_integer(add) + cairn_json_integer(del) < UINT32_MAX)
        g->lines_changed = (uint32_t)(cairn_json_integer(add) + cairn_json_integer(del));
    return rc;
}

static int s_require(const cJSON *b, const char *name, const cJSON **out, char *err, size_t errlen)
{
    *out = cairn_nf_at(b, name);
    if (cJSON_IsObject(*out))
        return 0;
    return cairn_nf_fail(err, errlen,
                         "this GitHub event has no '%s' object; it does not look like a GitHub "
                         "webhook payload",
                         name);
}

/* --- events ------------------------------------------------------------- */

static int s_workflow_run(const cJSON *b, const char *action, Cairn__V1__Event *ev, char *err,
                          size_t errlen)
{
    const cJSON *wr;
    int rc = s_require(b, "workflow_run", &wr, err, errlen);
    if (rc < 0)
        return rc;
    if (strcmp(action, "completed") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.pipelinerun.finished.0.3.0");
    else if (strcmp(action, "requested") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.pipelinerun.queued.0.3.0");
    else if (strcmp(action, "in_progress") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.pipelinerun.started.0.3.0");
    else
        rc = cairn_nf_type(ev, "com.github.workflow_run.%s", action);
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, wr, "id");
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->commit_sha, cairn_nf_str(wr, "head_sha"));
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->correlation->pr_number, wr, "pull_requests.0.number");
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(wr, "head_commit.message"));
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(wr, "updated_at"));
    if (rc == 0 && strcmp(action, "completed") == 0)
        rc = s_outcome(ev, "build", cairn_nf_str(wr, "conclusion"), cairn_nf_str(wr, "html_url"));
    return rc;
}

static int s_workflow_job(const cJSON *b, const char *action, Cairn__V1__Event *ev, char *err,
                          size_t errlen)
{
    const cJSON *wj;
    int rc = s_require(b, "workflow_job", &wj, err, errlen);
    if (rc < 0)
        return rc;
    if (strcmp(action, "completed") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.taskrun.finished.0.3.0");
    else if (strcmp(action, "in_progress") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.taskrun.started.0.3.0");
    else
        rc = cairn_nf_type(ev, "com.github.workflow_job.%s", action);
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, wj, "id");
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->commit_sha, cairn_nf_str(wj, "head_sha"));
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(wj, "completed_at"));
    if (rc == 0 && !*ev->time)
        rc = cairn_nf_time(ev, cairn_nf_str(wj, "started_at"));
    if (rc == 0 && strcmp(action, "completed") == 0)
        rc = s_outcome(ev, "job", cairn_nf_str(wj, "conclusion"), cairn_nf_str(wj, "html_url"));
    return rc;
}

static int s_check_suite(const cJSON *b, const char *action, Cairn__V1__Event *ev, char *err,
                         size_t errlen)
{
    const cJSON *cs;
    int rc = s_require(b, "check_suite", &cs, err, errlen);
    if (rc == 0)
        rc = cairn_nf_type(ev, "com.github.check_suite.%s", action);
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, cs, "id");
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->commit_sha, cairn_nf_str(cs, "head_sha"));
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->correlation->pr_number, cs, "pull_requests.0.number");
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(cs, "head_commit.message"));
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(cs, "updated_at"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "checkapp", cairn_nf_str(cs, "app.slug"));
    if (rc == 0 && strcmp(action, "completed") == 0)
        rc = s_outcome(ev, "build", cairn_nf_str(cs, "conclusion"), NULL);
    return rc;
}

static int s_check_run(const cJSON *b, const char *action, Cairn__V1__Event *ev, char *err,
                       size_t errlen)
{
    const cJSON *cr;
    int rc = s_require(b, "check_run", &cr, err, errlen);
    if (rc == 0)
        rc = cairn_nf_type(ev, "com.github.check_run.%s", action);
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, cr, "id");
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->commit_sha, cairn_nf_str(cr, "head_sha"));
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->correlation->pr_number, cr, "pull_requests.0.number");
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(cr, "completed_at"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "checkname", cairn_nf_str(cr, "name"));
    if (rc == 0 && strcmp(action, "completed") == 0)
        rc = s_outcome(ev, "job", cairn_nf_str(cr, "conclusion"), cairn_nf_str(cr, "html_url"));
    return rc;
}

/* What every deployment* event says about its deployment object. */
static int s_deployment_common(Cairn__V1__Event *ev, const cJSON *d)
{
    int rc = cairn_nf_set_at(&ev->subject, d, "id");
    if (rc == 0)
        rc = cairn_nf_default(&ev->correlation->commit_sha, cairn_nf_str(d, "sha"));
    if (rc == 0)
        rc = cairn_nf_default(&ev->correlation->environment, cairn_nf_str(d, "environment"));
    if (rc == 0)
        rc = cairn_nf_set(&ev->governance->deployer, cairn_nf_str(d, "creator.login"));
    if (rc == 0)
        rc = s_deployment_payload(ev, d);
    if (rc == 0)
        rc = cairn_nf_ext(ev, "ref", cairn_nf_str(d, "ref"));
    return rc;
}

static int s_deployment(const cJSON *b, const char *action, Cairn__V1__Event *ev, char *err,
                        size_t errlen)
{
    const cJSON *d;
    int rc = s_require(b, "deployment", &d, err, errlen);
    if (rc == 0)
        rc = cairn_nf_type(ev, "com.github.deployment.%s", action);
    if (rc == 0)
        rc = s_deployment_common(ev, d);
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(b, "workflow_run.head_commit.message"));
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(d, "created_at"));
    return rc;
}

static int s_deployment_status(const cJSON *b, const char *action, Cairn__V1__Event *ev, char *err,
                               size_t errlen)
{
    const cJSON *ds = NULL, *d = NULL;
    int rc = s_require(b, "deployment_status", &ds, err, errlen);
    if (rc == 0)
        rc = s_require(b, "deployment", &d, err, errlen);
    if (rc < 0)
        return rc;
    const char *state = cairn_nf_str(ds, "state");
    if (!state)
        return cairn_nf_fail(err, errlen, "deployment_status.state is missing");
    if (strcmp(state, "success") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.service.deployed.0.3.0");
    else
        rc = cairn_nf_type(ev, "com.github.deployment_status.%s", state);
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->environment, cairn_nf_str(ds, "environment"));
    if (rc == 0)
        rc = s_deployment_common(ev, d);
    if (rc == 0)
        rc = cairn_nf_set(&ev->governance->deployer, cairn_nf_str(ds, "creator.login"));
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(b, "workflow_run.head_commit.message"));
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(ds, "updated_at"));
    if (rc == 0 && (strcmp(state, "success") == 0 || strcmp(state, "failure") == 0 ||
                    strcmp(state, "error") == 0)) {
        const char *uri = cairn_nf_str(ds, "target_url");
        if (!uri)
            uri = cairn_nf_str(ds, "log_url");
        rc = s_outcome(ev, "deployment", state, uri);
    }
    return rc;
}

static int s_deployment_review(const cJSON *b, const char *action, Cairn__V1__Event *ev, char *err,
                               size_t errlen)
{
    const char *env = cairn_nf_str(b, "environment");
    if (!env)
        env = cairn_nf_str(b, "workflow_job_run.environment");
    if (!env)
        env = cairn_nf_str(b, "workflow_job_runs.0.environment");
    int rc = cairn_nf_type(ev, "com.github.deployment_review.%s", action);
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->environment, env);
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, b, "workflow_run.id");
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->commit_sha, cairn_nf_str(b, "workflow_run.head_sha"));
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(b, "workflow_run.head_commit.message"));
    /* An environment reviewer's decision gates a workflow's deployment; it
     * is recorded as a review, not counted as an approval of the change. */
    if (rc == 0 && (strcmp(action, "approved") == 0 || strcmp(action, "rejected") == 0)) {
        rc = cairn_nf_set(&ev->governance->reviewer, cairn_nf_str(b, "approver.login"));
        if (rc == 0)
            rc = cairn_nf_set(&ev->governance->review_verdict, action);
    }
    (void)err, (void)errlen;
    return rc;
}

static int s_deployment_protection_rule(const cJSON *b, const char *action, Cairn__V1__Event *ev,
                                        char *err, size_t errlen)
{
    const cJSON *d = cairn_nf_at(b, "deployment");
    int rc = cairn_nf_type(ev, "com.github.deployment_protection_rule.%s", action);
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->environment, cairn_nf_str(b, "environment"));
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->commit_sha, cairn_nf_str(b, "sha"));
    if (rc == 0 && cJSON_IsObject(d))
        rc = s_deployment_common(ev, d);
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->correlation->pr_number, b, "pull_requests.0.number");
    if (rc == 0)
        rc = cairn_nf_ext(ev, "callbackurl", cairn_nf_str(b, "deployment_callback_url"));
    if (rc == 0 && !*ev->correlation->environment)
        rc = cairn_nf_fail(err, errlen,
                           "deployment_protection_rule event without 'environment'; it does "
                           "not look like a GitHub webhook payload");
    return rc;
}

static int s_pull_request_event(const cJSON *b, const char *action, Cairn__V1__Event *ev, char *err,
                                size_t errlen)
{
    const cJSON *pr;
    int rc = s_require(b, "pull_request", &pr, err, errlen);
    if (rc < 0)
        return rc;
    static const char *const updates[] = {"reopened",         "synchronize",        "edited",
                                          "ready_for_review", "converted_to_draft", "labeled",
                                          "unlabeled"};
    bool merged = cJSON_IsTrue(cairn_nf_at(pr, "merged"));
    bool update = false;
    for (size_t i = 0; i < sizeof updates / sizeof updates[0]; i++)
        update = update || strcmp(action, updates[i]) == 0;
    if (strcmp(action, "opened") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.change.created.0.4.0");
    else if (update)
        rc = cairn_nf_type(ev, "dev.cdevents.change.updated.0.3.0");
    else if (strcmp(action, "closed") == 0)
        rc = cairn_nf_type(ev, merged ? "dev.cdevents.change.merged.0.3.0"
                                      : "dev.cdevents.change.abandoned.0.3.0");
    else
        rc = cairn_nf_type(ev, "com.github.pull_request.%s", action);
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, pr, "number");
    if (rc == 0)
        rc = s_pull_request(ev, pr);
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(pr, "updated_at"));
    if (rc == 0 && merged) {
        rc = cairn_nf_set(&ev->governance->merge_sha, cairn_nf_str(pr, "merge_commit_sha"));
        if (rc == 0)
            rc = cairn_nf_set(&ev->governance->actor, cairn_nf_str(pr, "merged_by.login"));
    }
    return rc;
}

static int s_pull_request_review(const cJSON *b, const char *action, Cairn__V1__Event *ev,
                                 char *err, size_t errlen)
{
    const cJSON *review = NULL, *pr = NULL;
    int rc = s_require(b, "review", &review, err, errlen);
    if (rc == 0)
        rc = s_require(b, "pull_request", &pr, err, errlen);
    if (rc < 0)
        return rc;
    Cairn__V1__Governance *g = ev->governance;
    char verdict[64];
    const char *state = cairn_nf_str(review, "state");
    const char *reviewer = cairn_nf_str(review, "user.login");
    snprintf(verdict, sizeof verdict, "%s", state ? state : "");
    for (char *p = verdict; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);

    if (strcmp(action, "submitted") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.change.reviewed.0.3.0");
    else
        rc = cairn_nf_type(ev, "com.github.pull_request_review.%s", action);
    if (rc == 0)
        rc = s_pull_request(ev, pr);
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, pr, "number");
    if (rc == 0)
        rc = cairn_nf_set(&g->reviewer, reviewer);
    if (rc == 0)
        rc = cairn_nf_set(&g->review_verdict, verdict);
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(review, "submitted_at"));
    if (rc < 0)
        return rc;
    /* An approving review is an approval the policy counts; a request for
     * changes is a rejection; a dismissed review withdraws the reviewer's
     * decision. A comment decides nothing. */
    const char *decision = NULL;
    if (strcmp(action, "dismissed") == 0)
        decision = "revoked";
    else if (strcmp(verdict, "approved") == 0)
        decision = "granted";
    else if (strcmp(verdict, "changes_requested") == 0)
        decision = "rejected";
    if (decision && reviewer) {
        rc = cairn_nf_set(&g->approver, reviewer);
        if (rc == 0)
            rc = cairn_nf_set(&g->approval_decision, decision);
        /* A decision binds to the commit reviewed, which may be older than
         * the head; a review without one says nothing about commits, so it
         * keeps the head (the change's commit must not move back). */
        if (rc == 0)
            rc = cairn_nf_set(&ev->correlation->commit_sha, cairn_nf_str(review, "commit_id"));
    }
    return rc;
}

static int s_add_paths(Cairn__V1__Governance *g, const cJSON *list)
{
    const cJSON *path;
    int rc = 0;
    if (!cJSON_IsArray(list))
        return 0;
    cairn_json_foreach(path, list)
    {
        if (rc == 0 && g->n_paths < S_PATHS_MAX && cJSON_IsString(path))
            rc = cairn_nf_add(&g->paths, &g->n_paths, cairn_json_str(path));
    }
    return rc;
}

/* A commit's person: the GitHub login when GitHub knows it. The web-flow
 * account commits web merges on behalf of people; it is nobody. */
static int s_person(Cairn__V1__Governance *g, const cJSON *who)
{
    const char *login = cairn_nf_str(who, "username");
    if (!login || strcmp(login, "web-flow") == 0)
        return 0;
    return cairn_nf_add(&g->committers, &g->n_committers, login);
}

static int s_push(const cJSON *b, const char *action, Cairn__V1__Event *ev, char *err,
                  size_t errlen)
{
    Cairn__V1__Governance *g = ev->governance;
    const cJSON *commits = cairn_nf_at(b, "commits");
    const char *after = cairn_nf_str(b, "after");
    const char *ref = cairn_nf_str(b, "ref");
    if (!ref)
        return cairn_nf_fail(err, errlen,
                             "push event without 'ref'; it does not look like a GitHub webhook "
                             "payload");
    bool deleted =
        cJSON_IsTrue(cairn_nf_at(b, "deleted")) || (after && strspn(after, "0") == strlen(after));
    int rc = cairn_nf_type(ev, "com.github.push");
    if (rc == 0)
        rc = cairn_nf_set(&ev->subject, ref);
    if (rc == 0 && !deleted)
        rc = cairn_nf_set(&ev->correlation->commit_sha, after);
    if (rc == 0 && deleted)
        rc = cairn_nf_ext(ev, "deleted", "true");
    if (rc == 0 && cJSON_IsTrue(cairn_nf_at(b, "forced")))
        rc = cairn_nf_ext(ev, "forced", "true");
    if (rc == 0)
        rc = cairn_nf_default(&g->actor, cairn_nf_str(b, "pusher.name"));
    if (rc == 0)
        rc = cairn_nf_set(&g->author, cairn_nf_str(b, "head_commit.author.username"));
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(b, "head_commit.message"));
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(b, "head_commit.timestamp"));
    /* newest first: a list's first item links back to its last */
    const cJSON *first = cJSON_IsArray(commits) ? commits->child : NULL;
    for (const cJSON *commit = first ? first->prev : NULL; rc == 0 && commit;
         commit = commit == first ? NULL : commit->prev) {
        rc = s_change_from_text(ev, cairn_nf_str(commit, "message"));
        if (rc == 0)
            rc = s_person(g, cairn_nf_at(commit, "author"));
        if (rc == 0)
            rc = s_person(g, cairn_nf_at(commit, "committer"));
        if (rc == 0)
            rc = s_add_paths(g, cairn_nf_at(commit, "added"));
        if (rc == 0)
            rc = s_add_paths(g, cairn_nf_at(commit, "modified"));
        if (rc == 0)
            rc = s_add_paths(g, cairn_nf_at(commit, "removed"));
    }
    (void)action;
    return rc;
}

/* Code scanning reports one alert per event. Its severity is the security
 * severity when the rule has one, else the rule's level. */
static int s_code_scanning_alert(const cJSON *b, const char *action, Cairn__V1__Event *ev,
                                 char *err, size_t errlen)
{
    const cJSON *alert;
    int rc = s_require(b, "alert", &alert, err, errlen);
    if (rc < 0)
        return rc;
    Cairn__V1__Evidence *e = ev->evidence;
    const char *sev = cairn_nf_str(alert, "rule.security_severity_level");
    const char *level = cairn_nf_str(alert, "rule.severity");
    if (!sev && level)
        sev = strcasecmp(level, "error") == 0     ? "high"
              : strcasecmp(level, "warning") == 0 ? "medium"
                                                  : "low";
    if (!sev)
        sev = "low";
    if (strcasecmp(sev, "critical") == 0)
        e->findings_critical = 1;
    else if (strcasecmp(sev, "high") == 0)
        e->findings_high = 1;
    else if (strcasecmp(sev, "medium") == 0)
        e->findings_medium = 1;
    else
        e->findings_low = 1;
    const char *commit = cairn_nf_str(alert, "most_recent_instance.commit_sha");
    rc = cairn_nf_type(ev, "com.github.code_scanning_alert.%s", action);
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->commit_sha,
                          commit ? commit : cairn_nf_str(b, "commit_oid"));
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, alert, "number");
    if (rc == 0)
        rc = cairn_nf_set(&e->kind, "scan_alert");
    if (rc == 0)
        rc = cairn_nf_set(&e->outcome, cairn_nf_str(alert, "state"));
    if (rc == 0)
        rc = cairn_nf_set(&e->uri, cairn_nf_str(alert, "html_url"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "ruleid", cairn_nf_str(alert, "rule.id"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "tool", cairn_nf_str(alert, "tool.name"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "ref", cairn_nf_str(b, "ref"));
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(alert, "updated_at"));
    return rc;
}

static int s_release(const cJSON *b, const char *action, Cairn__V1__Event *ev, char *err,
                     size_t errlen)
{
    const cJSON *rel;
    int rc = s_require(b, "release", &rel, err, errlen);
    if (rc < 0)
        return rc;
    Cairn__V1__Governance *g = ev->governance;
    const char *target = cairn_nf_str(rel, "target_commitish");
    rc = cairn_nf_type(ev, "com.github.release.%s", action);
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->release_id, cairn_nf_str(rel, "tag_name"));
    if (rc == 0)
        rc = cairn_nf_set(&ev->subject, cairn_nf_str(rel, "tag_name"));
    if (rc == 0 && cairn_nf_is_sha(target))
        rc = cairn_nf_set(&ev->correlation->commit_sha, target);
    if (rc == 0)
        rc = cairn_nf_set(&g->author, cairn_nf_str(rel, "author.login"));
    if (rc == 0 && cJSON_IsTrue(cairn_nf_at(rel, "prerelease")))
        rc = cairn_nf_add(&g->labels, &g->n_labels, "prerelease");
    if (rc == 0 && cJSON_IsTrue(cairn_nf_at(rel, "draft")))
        rc = cairn_nf_add(&g->labels, &g->n_labels, "draft");
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(rel, "body"));
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(rel, "published_at"));
    if (rc == 0)
        rc = cairn_nf_set(&ev->evidence->uri, cairn_nf_str(rel, "html_url"));
    return rc;
}

/* GitHub sends a ping when a webhook is created; it is recorded, so the
 * trail shows when the hook started delivering. */
static int s_ping(const cJSON *b, const char *action, Cairn__V1__Event *ev, char *err,
                  size_t errlen)
{
    (void)action, (void)err, (void)errlen;
    int rc = cairn_nf_type(ev, "com.github.ping");
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, b, "hook_id");
    return rc;
}

static const struct {
    const char *name;
    s_event_fn fn;
} s_events[] = {
    {"workflow_run", s_workflow_run},
    {"workflow_job", s_workflow_job},
    {"check_suite", s_check_suite},
    {"check_run", s_check_run},
    {"deployment", s_deployment},
    {"deployment_status", s_deployment_status},
    {"deployment_review", s_deployment_review},
    {"deployment_protection_rule", s_deployment_protection_rule},
    {"pull_request", s_pull_request_event},
    {"pull_request_review", s_pull_request_review},
    {"push", s_push},
    {"code_scanning_alert", s_code_scanning_alert},
    {"release", s_release},
    {"ping", s_ping},
};

/* repository, source ("github.com/<owner>/<repo>" from the repository's web
 * address, so GitHub Enterprise hosts keep their name), actor. */
static int s_common(const cJSON *b, Cairn__V1__Event *ev)
{
    char host[256] = "github.com";
    const char *full = cairn_nf_str(b, "repository.full_name");
    const char *owner = cairn_nf_str(b, "organization.login");
    char source[512];
    cairn_nf_host(cairn_nf_str(b, "repository.html_url"), host, sizeof host);
    if (full)
        snprintf(source, sizeof source, "%s/%s", host, full);
    else if (owner)
        snprintf(source, sizeof source, "%s/%s", host, owner);
    else
        snprintf(source, sizeof source, "%s", host);
    int rc = cairn_nf_set(&ev->source, source);
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->repository, full);
    if (rc == 0)
        rc = cairn_nf_set(&ev->governance->actor, cairn_nf_str(b, "sender.login"));
    return rc;
}

int cairn_normalize_github(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                           size_t keylen, char *err, size_t errlen)
{
    const char *event = cairn_ingest_header(in->headers, in->n_headers, "x-github-event");
    const char *delivery = cairn_ingest_header(in->headers, in->n_headers, "x-github-delivery");
    const char *hook = cairn_ingest_header(in->headers, in->n_headers, "x-github-hook-id");
    if (!event || !*event)
        return cairn_nf_fail(err, errlen,
                             "missing X-GitHub-Event header; GitHub sends it with every delivery "
                             "(supported events: %s)",
                             s_supported);
    s_event_fn fn = NULL;
    for (size_t i = 0; i < sizeof s_events / sizeof s_events[0]; i++)
        if (strcmp(event, s_events[i].name) == 0)
            fn = s_events[i].fn;
    if (!fn)
        return cairn_nf_fail(err, errlen,
                             "GitHub event '%.64s' is not supported; supported events: %s. "
                             "Unselect it in the webhook's settings",
                             event, s_supported);
    if (!cJSON_IsObject(in->body))
        return cairn_nf_fail(err, errlen, "a GitHub webhook body must be a JSON object");
    const char *action = cairn_nf_str(in->body, "action");
    char none[] = "";
    int rc = s_common(in->body, ev);
    if (rc == 0)
        rc = fn(in->body, action ? action : none, ev, err, errlen);
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookevent", event);
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookaction", action);
    if (rc == 0)
        rc = cairn_nf_set(&ev->id, delivery);
    if (rc == 0 && delivery && *delivery) {
        size_t len = strlen(delivery) + (hook ? strlen(hook) : 0) + 3;
        char *material = malloc(len);
        if (!material)
            return -ENOMEM;
        snprintf(material, len, "%s:%s", hook && *hook ? hook : "-", delivery);
        cairn_nf_key(key, keylen, "github", material);
        free(material);
    }
    return rc;
}
