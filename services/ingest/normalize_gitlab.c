/* GitLab webhooks -> canonical events. The event is the X-Gitlab-Event
 * header ("Pipeline Hook", ...; the body's object_kind when the header is
 * absent). The delivery id is Idempotency-Key (stable across GitLab's
 * retries), else X-Gitlab-Event-UUID (with the hook's X-Gitlab-Webhook-UUID),
 * else the Standard Webhooks webhook-id. Deployment hooks carry only a short
 * SHA; the full one is read from commit_url and marked inferred. Types
 * follow the same rule as GitHub's: CDEvents where one fits, otherwise
 * com.gitlab.<object>.<status or action>. docs/events.md has the tables. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "normalize_fields.h"
#include "normalize_sources.h"

/* Changed paths kept from one push. */
#define S_PATHS_MAX 1000

static const char s_supported[] = "Pipeline Hook, Job Hook, Deployment Hook, Merge Request Hook "
                                  "(including approvals), Push Hook";

typedef int (*s_event_fn)(const cJSON *b, Cairn__V1__Event *ev, char *err, size_t errlen);

static bool s_in(const char *word, const char *const *set)
{
    for (; word && *set; set++)
        if (strcmp(word, *set) == 0)
            return true;
    return false;
}

static int s_change_from_text(Cairn__V1__Event *ev, const char *text)
{
    char change[160];
    if (!text || (ev->correlation->change_id && *ev->correlation->change_id) ||
        !cairn_nf_trailer(text, "Cairn-Change", change, sizeof change))
        return 0;
    int rc = cairn_nf_set(&ev->correlation->change_id, change);
    return rc < 0 ? rc : cairn_nf_infer(ev, "change_id");
}

static int s_outcome(Cairn__V1__Event *ev, const char *kind, const char *status, const char *uri)
{
    char buf[64];
    int rc = cairn_nf_set(&ev->evidence->kind, kind);
    if (rc == 0)
        rc = cairn_nf_set(&ev->evidence->outcome, cairn_nf_outcome(status, buf, sizeof buf));
    if (rc == 0)
        rc = cairn_nf_set(&ev->evidence->uri, uri);
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
            rc = cairn_nf_add(&g->labels, &g->n_labels,
                              cJSON_IsString(label) ? cairn_json_str(label)
                                                    : cairn_nf_str(label, "title"));
    }
    return rc;
}

static int s_require(const cJSON *b, const char *name, const cJSON **out, char *err, size_t errlen)
{
    *out = cairn_nf_at(b, name);
    if (cJSON_IsObject(*out))
        return 0;
    return cairn_nf_fail(err, errlen,
                         "this GitLab event has no '%s' object; it does not look like a GitLab "
                         "webhook payload",
                         name);
}

static const char *const s_finished[] = {"success", "failed", "canceled", "skipped", NULL};
static const char *const s_queued[] = {
    "created", "waiting_for_resource", "preparing", "pending", "scheduled", NULL};

static int s_pipeline(const cJSON *b, Cairn__V1__Event *ev, char *err, size_t errlen)
{
    const cJSON *oa;
    int rc = s_require(b, "object_attributes", &oa, err, errlen);
    if (rc < 0)
        return rc;
    const char *status = cairn_nf_str(oa, "status");
    if (s_in(status, s_finished))
        rc = cairn_nf_type(ev, "dev.cdevents.pipelinerun.finished.0.3.0");
    else if (status && strcmp(status, "running") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.pipelinerun.started.0.3.0");
    else if (s_in(status, s_queued))
        rc = cairn_nf_type(ev, "dev.cdevents.pipelinerun.queued.0.3.0");
    else
        rc = cairn_nf_type(ev, "com.gitlab.pipeline.%s", status ? status : "");
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, oa, "id");
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->commit_sha, cairn_nf_str(oa, "sha"));
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->correlation->pr_number, b, "merge_request.iid");
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(b, "commit.message"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "ref", cairn_nf_str(oa, "ref"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookaction", status);
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(oa, "finished_at"));
    if (rc == 0 && s_in(status, s_finished))
        rc = s_outcome(ev, "build", status, cairn_nf_str(oa, "url"));
    return rc;
}

static int s_job(const cJSON *b, Cairn__V1__Event *ev, char *err, size_t errlen)
{
    const char *status = cairn_nf_str(b, "build_status");
    if (!status)
        return cairn_nf_fail(err, errlen,
                             "this GitLab job event has no 'build_status'; it does not look like "
                             "a GitLab webhook payload");
    int rc;
    if (s_in(status, s_finished))
        rc = cairn_nf_type(ev, "dev.cdevents.taskrun.finished.0.3.0");
    else if (strcmp(status, "running") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.taskrun.started.0.3.0");
    else
        rc = cairn_nf_type(ev, "com.gitlab.job.%s", status);
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, b, "build_id");
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->commit_sha, cairn_nf_str(b, "sha"));
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->environment, cairn_nf_str(b, "environment.name"));
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(b, "commit.message"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "ref", cairn_nf_str(b, "ref"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "stage", cairn_nf_str(b, "build_stage"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "jobname", cairn_nf_str(b, "build_name"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookaction", status);
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(b, "build_finished_at"));
    if (rc == 0 && s_in(status, s_finished))
        rc = s_outcome(ev, "job", status, NULL);
    return rc;
}

/* The full SHA of a deployment: the last segment of commit_url when it is
 * a full SHA that starts with short_sha. Otherwise the short SHA as sent,
 * which never equals a full SHA (so it is never taken as evidence for some
 * other commit). */
static int s_deployment_commit(Cairn__V1__Event *ev, const cJSON *b)
{
    const char *short_sha = cairn_nf_str(b, "short_sha");
    const char *url = cairn_nf_str(b, "commit_url");
    char full[72] = "";
    if (url) {
        size_t n = strcspn(url, "?#");
        while (n > 0 && url[n - 1] == '/')
            n--;
        size_t start = n;
        while (start > 0 && url[start - 1] != '/')
            start--;
        if (n - start < sizeof full) {
            memcpy(full, url + start, n - start);
            full[n - start] = '\0';
        }
    }
    if (cairn_nf_is_sha(full) &&
        (!short_sha || strncasecmp(full, short_sha, strlen(short_sha)) == 0)) {
        int rc = cairn_nf_set(&ev->correlation->commit_sha, full);
        return rc < 0 ? rc : cairn_nf_infer(ev, "commit_sha");
    }
    return cairn_nf_set(&ev->correlation->commit_sha, short_sha);
}

static int s_deployment(const cJSON *b, Cairn__V1__Event *ev, char *err, size_t errlen)
{
    const char *status = cairn_nf_str(b, "status");
    if (!status)
        return cairn_nf_fail(err, errlen,
                             "this GitLab deployment event has no 'status'; it does not look "
                             "like a GitLab webhook payload");
    int rc;
    if (strcmp(status, "success") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.service.deployed.0.3.0");
    else
        rc = cairn_nf_type(ev, "com.gitlab.deployment.%s", status);
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, b, "deployment_id");
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->environment, cairn_nf_str(b, "environment"));
    if (rc == 0)
        rc = s_deployment_commit(ev, b);
    if (rc == 0)
        rc = cairn_nf_set(&ev->governance->deployer, cairn_nf_str(b, "user.username"));
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(b, "commit_title"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "ref", cairn_nf_str(b, "ref"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "environmenttier", cairn_nf_str(b, "environment_tier"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookaction", status);
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(b, "status_changed_at"));
    if (rc == 0 && (strcmp(status, "success") == 0 || strcmp(status, "failed") == 0 ||
                    strcmp(status, "canceled") == 0))
        rc = s_outcome(ev, "deployment", status, cairn_nf_str(b, "deployable_url"));
    return rc;
}

static int s_merge_request(const cJSON *b, Cairn__V1__Event *ev, char *err, size_t errlen)
{
    const cJSON *oa;
    int rc = s_require(b, "object_attributes", &oa, err, errlen);
    if (rc < 0)
        return rc;
    static const char *const granted[] = {"approved", "approval", NULL};
    static const char *const revoked[] = {"unapproved", "unapproval", NULL};
    static const char *const updated[] = {"update", "reopen", NULL};
    Cairn__V1__Governance *g = ev->governance;
    const char *action = cairn_nf_str(oa, "action");
    const char *user = cairn_nf_str(b, "user.username");
    if (!action)
        action = cairn_nf_str(oa, "state");
    if (action && strcmp(action, "open") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.change.created.0.4.0");
    else if (s_in(action, updated))
        rc = cairn_nf_type(ev, "dev.cdevents.change.updated.0.3.0");
    else if (action && strcmp(action, "merge") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.change.merged.0.3.0");
    else if (action && strcmp(action, "close") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.change.abandoned.0.3.0");
    else if (s_in(action, granted) || s_in(action, revoked))
        rc = cairn_nf_type(ev, "dev.cdevents.change.reviewed.0.3.0");
    else
        rc = cairn_nf_type(ev, "com.gitlab.merge_request.%s", action ? action : "");
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->subject, oa, "iid");
    if (rc == 0)
        rc = cairn_nf_set_at(&ev->correlation->pr_number, oa, "iid");
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->commit_sha, cairn_nf_str(oa, "last_commit.id"));
    if (rc == 0)
        rc = s_labels(ev, cairn_nf_at(b, "labels"));
    if (rc == 0 && g->n_labels == 0)
        rc = s_labels(ev, cairn_nf_at(oa, "labels"));
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(oa, "description"));
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(oa, "updated_at"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookaction", action);
    /* The hook names no author; the one who opens a merge request is it. */
    if (rc == 0 && action && strcmp(action, "open") == 0)
        rc = cairn_nf_set(&g->author, user);
    if (rc == 0 && action && strcmp(action, "merge") == 0)
        rc = cairn_nf_set(&g->merge_sha, cairn_nf_str(oa, "merge_commit_sha"));
    /* An approval is counted by the policy; withdrawing it is "revoked". */
    if (rc == 0 && user && (s_in(action, granted) || s_in(action, revoked))) {
        bool grant = s_in(action, granted);
        rc = cairn_nf_set(&g->approver, user);
        if (rc == 0)
            rc = cairn_nf_set(&g->reviewer, user);
        if (rc == 0)
            rc = cairn_nf_set(&g->review_verdict, grant ? "approved" : "unapproved");
        if (rc == 0)
            rc = cairn_nf_set(&g->approval_decision, grant ? "granted" : "revoked");
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

static int s_push(const cJSON *b, Cairn__V1__Event *ev, char *err, size_t errlen)
{
    Cairn__V1__Governance *g = ev->governance;
    const char *ref = cairn_nf_str(b, "ref");
    const char *after = cairn_nf_str(b, "checkout_sha");
    if (!ref)
        return cairn_nf_fail(err, errlen,
                             "this GitLab push event has no 'ref'; it does not look like a "
                             "GitLab webhook payload");
    if (!after)
        after = cairn_nf_str(b, "after");
    bool deleted = after && strspn(after, "0") == strlen(after);
    int rc = cairn_nf_type(ev, "com.gitlab.push");
    if (rc == 0)
        rc = cairn_nf_set(&ev->subject, ref);
    if (rc == 0 && !deleted)
        rc = cairn_nf_set(&ev->correlation->commit_sha, after);
    if (rc == 0 && deleted)
        rc = cairn_nf_ext(ev, "deleted", "true");
    if (rc == 0)
        rc = cairn_nf_set(&g->actor, cairn_nf_str(b, "user_username"));
    const cJSON *commits = cairn_nf_at(b, "commits");
    /* newest first: a list's first item links back to its last */
    const cJSON *first = cJSON_IsArray(commits) ? commits->child : NULL;
    for (const cJSON *commit = first ? first->prev : NULL; rc == 0 && commit;
         commit = commit == first ? NULL : commit->prev) {
        rc = s_change_from_text(ev, cairn_nf_str(commit, "message"));
        if (rc == 0)
            rc = s_add_paths(g, cairn_nf_at(commit, "added"));
        if (rc == 0)
            rc = s_add_paths(g, cairn_nf_at(commit, "modified"));
        if (rc == 0)
            rc = s_add_paths(g, cairn_nf_at(commit, "removed"));
    }
    return rc;
}

static const struct {
    const char *header; /* X-Gitlab-Event */
    const char *kind;   /* object_kind */
    s_event_fn fn;
} s_events[] = {
    {"Pipeline Hook", "pipeline", s_pipeline},
    {"Job Hook", "build", s_job},
    {"Deployment Hook", "deployment", s_deployment},
    {"Merge Request Hook", "merge_request", s_merge_request},
    {"Push Hook", "push", s_push},
};

/* repository, source ("<host>/<group>/<project>"), actor. Job hooks of
 * older GitLab versions have no project object: the repository's homepage
 * names the project then (marked inferred). */
static int s_common(const cJSON *b, Cairn__V1__Event *ev)
{
    char host[256] = "gitlab.com", path[512] = "";
    const char *full = cairn_nf_str(b, "project.path_with_namespace");
    const char *web = cairn_nf_str(b, "project.web_url");
    bool inferred = false;
    if (!web)
        web = cairn_nf_str(b, "repository.homepage");
    cairn_nf_host(web, host, sizeof host);
    if (full)
        snprintf(path, sizeof path, "%s", full);
    else
        inferred =
            cairn_nf_repo_from_url(cairn_nf_str(b, "repository.homepage"), path, sizeof path);
    char source[800];
    snprintf(source, sizeof source, "%s%s%s", host, *path ? "/" : "", path);
    int rc = cairn_nf_set(&ev->source, source);
    if (rc == 0)
        rc = cairn_nf_set(&ev->correlation->repository, path);
    if (rc == 0 && inferred)
        rc = cairn_nf_infer(ev, "repository");
    if (rc == 0)
        rc = cairn_nf_set(&ev->governance->actor, cairn_nf_str(b, "user.username"));
    return rc;
}

/* Id and idempotency key from the delivery headers, best first. */
static int s_delivery(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                      size_t keylen)
{
    const char *idem = cairn_ingest_header(in->headers, in->n_headers, "idempotency-key");
    const char *event = cairn_ingest_header(in->headers, in->n_headers, "x-gitlab-event-uuid");
    const char *hook = cairn_ingest_header(in->headers, in->n_headers, "x-gitlab-webhook-uuid");
    const char *whid = cairn_ingest_header(in->headers, in->n_headers, "webhook-id");
    if (idem && *idem) {
        char *material = malloc(strlen(idem) + 6);
        if (!material)
            return -ENOMEM;
        sprintf(material, "idem:%s", idem);
        cairn_nf_key(key, keylen, "gitlab", material);
        free(material);
        return cairn_nf_set(&ev->id, idem);
    }
    if (event && *event) {
        size_t len = strlen(event) + (hook ? strlen(hook) : 0) + 10;
        char *material = malloc(len);
        if (!material)
            return -ENOMEM;
        snprintf(material, len, "event:%s:%s", hook && *hook ? hook : "-", event);
        cairn_nf_key(key, keylen, "gitlab", material);
        free(material);
        return cairn_nf_set(&ev->id, event);
    }
    if (whid && *whid) {
        char *material = malloc(strlen(whid) + 12);
        if (!material)
            return -ENOMEM;
        sprintf(material, "webhook-id:%s", whid);
        cairn_nf_key(key, keylen, "gitlab", material);
        free(material);
        return cairn_nf_set(&ev->id, whid);
    }
    return 0;
}

int cairn_normalize_gitlab(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                           size_t keylen, char *err, size_t errlen)
{
    const char *header = cairn_ingest_header(in->headers, in->n_headers, "x-gitlab-event");
    const char *kind = cairn_nf_str(in->body, "object_kind");
    /* Instance-wide system hooks name the event only in the body. */
    if (header && strcasecmp(header, "System Hook") == 0)
        header = NULL;
    if (!cJSON_IsObject(in->body))
        return cairn_nf_fail(err, errlen, "a GitLab webhook body must be a JSON object");
    int which = -1;
    for (int i = 0; i < (int)(sizeof s_events / sizeof s_events[0]); i++)
        if ((header && *header) ? strcasecmp(header, s_events[i].header) == 0
                                : (kind && strcmp(kind, s_events[i].kind) == 0))
            which = i;
    if (which < 0 && (!header || !*header) && !kind)
        return cairn_nf_fail(err, errlen,
                             "missing X-Gitlab-Event header (and no object_kind in the body); "
                             "supported events: %s",
                             s_supported);
    if (which < 0)
        return cairn_nf_fail(err, errlen,
                             "GitLab event '%.64s' is not supported; supported events: %s. "
                             "Turn it off in the webhook's triggers",
                             header && *header ? header : kind, s_supported);
    int rc = s_common(in->body, ev);
    if (rc == 0)
        rc = s_events[which].fn(in->body, ev, err, errlen);
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookevent", s_events[which].header);
    if (rc == 0)
        rc = s_delivery(in, ev, key, keylen);
    return rc;
}
