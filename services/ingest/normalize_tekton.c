/* Tekton Pipelines CloudEvents -> canonical fields. Tekton sends binary-mode
 * CloudEvents of type dev.tekton.event.<kind>.<state>.v1 (kind pipelinerun,
 * taskrun, run or customrun; state started, running, unknown, successful or
 * failed) whose body is {"pipelineRun"|"taskRun"|"run"|"customRun": {...}}.
 * A finished pipeline run is "build" evidence, a finished task run "job"
 * evidence. Correlation comes from the run's labels and annotations
 * (cairn.dev/change, cairn.dev/environment, cairn.dev/service: stated), then
 * from its params and results by conventional names (revision, repo-url,
 * environment, ...: marked inferred). Only empty fields are filled, so a
 * value the generic CloudEvents lookup found wins. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "normalize_fields.h"
#include "normalize_sources.h"

/* A value from the run's labels or annotations. */
static const char *s_meta(const cJSON *run, const char *name)
{
    const cJSON *labels = cairn_nf_at(run, "metadata.labels");
    const cJSON *annotations = cairn_nf_at(run, "metadata.annotations");
    const cJSON *v = cJSON_IsObject(labels) ? cairn_json_get(labels, name) : NULL;
    if (!cJSON_IsString(v) && cJSON_IsObject(annotations))
        v = cairn_json_get(annotations, name);
    return cJSON_IsString(v) && *v->valuestring ? cairn_json_str(v) : NULL;
}

/* A string value from a list of {name, value} pairs by any of names. */
static const char *s_named(const cJSON *list, const char *const *names)
{
    const cJSON *item;
    if (!cJSON_IsArray(list))
        return NULL;
    for (const char *const *n = names; *n; n++)
        cairn_json_foreach(item, list)
        {
            const char *name = cairn_nf_str(item, "name");
            const char *value = cairn_nf_str(item, "value");
            if (name && value && strcasecmp(name, *n) == 0)
                return value;
        }
    return NULL;
}

/* A param or result value by any of names: spec params first, then results
 * (v1 status.results, older status.pipelineResults / status.taskResults). */
static const char *s_param(const cJSON *run, const char *const *names)
{
    static const char *const lists[] = {"spec.params", "status.results", "status.pipelineResults",
                                        "status.taskResults"};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        const char *v = s_named(cairn_nf_at(run, lists[i]), names);
        if (v)
            return v;
    }
    return NULL;
}

static int s_fill(Cairn__V1__Event *ev, char **field, const char *stated, const char *guessed,
                  const char *key)
{
    if (*field && **field)
        return 0;
    if (stated)
        return cairn_nf_set(field, stated);
    if (!guessed)
        return 0;
    int rc = cairn_nf_set(field, guessed);
    return rc < 0 ? rc : cairn_nf_infer(ev, key);
}

int cairn_normalize_tekton(Cairn__V1__Event *ev, const cJSON *data, char *err, size_t errlen)
{
    static const char *const commit_names[] = {
        "revision",   "git-revision", "gitrevision", "commit",
        "commit-sha", "git-commit",   "sha",         NULL};
    static const char *const repo_names[] = {"repo-url", "git-url", "repository",
                                             "url",      "repo",    NULL};
    static const char *const change_names[] = {"cairn-change", "change", "change-id", NULL};
    static const char *const env_names[] = {"environment", "env", "target-environment", NULL};
    static const char *const service_names[] = {"service", "service-name", NULL};
    static const char *const pr_names[] = {"pr", "pr-number", "pull-request", NULL};
    const char *prefix = "dev.tekton.event.";
    const char *type = ev->type ? ev->type : "";
    (void)err, (void)errlen;
    if (strncmp(type, prefix, strlen(prefix)) != 0)
        return 0;
    const char *rest = type + strlen(prefix);
    bool pipeline = strncmp(rest, "pipelinerun.", 12) == 0;
    const char *state = strchr(rest, '.');
    state = state ? state + 1 : "";
    bool ok = strncmp(state, "successful.", 11) == 0 || strcmp(state, "successful") == 0;
    bool failed = strncmp(state, "failed.", 7) == 0 || strcmp(state, "failed") == 0;

    const cJSON *run = NULL;
    static const char *const bodies[] = {"pipelineRun", "taskRun", "run", "customRun"};
    for (size_t i = 0; i < 4 && !run; i++)
        if (cJSON_IsObject(cairn_nf_at(data, bodies[i])))
            run = cairn_nf_at(data, bodies[i]);

    Cairn__V1__Correlation *c = ev->correlation;
    Cairn__V1__Evidence *e = ev->evidence;
    int rc = 0;
    if ((ok || failed) && !*e->kind) {
        rc = cairn_nf_set(&e->kind, pipeline ? "build" : "job");
        if (rc == 0)
            rc = cairn_nf_default(&e->outcome, ok ? "success" : "failure");
    }
    if (rc < 0 || !run)
        return rc;

    char repo[512];
    const char *repo_url = s_param(run, repo_names);
    const char *repo_guess = cairn_nf_repo_from_url(repo_url, repo, sizeof repo) ? repo : NULL;
    rc = s_fill(ev, &c->change_id, s_meta(run, "cairn.dev/change"), NULL, "change_id");
    if (rc == 0 && !*c->change_id)
        rc = cairn_nf_set(&c->change_id, s_param(run, change_names));
    if (rc == 0)
        rc = s_fill(ev, &c->commit_sha, s_meta(run, "cairn.dev/commit"), s_param(run, commit_names),
                    "commit_sha");
    if (rc == 0)
        rc = s_fill(ev, &c->repository, s_meta(run, "cairn.dev/repository"), repo_guess,
                    "repository");
    if (rc == 0)
        rc = s_fill(ev, &c->environment, s_meta(run, "cairn.dev/environment"),
                    s_param(run, env_names), "environment");
    if (rc == 0)
        rc = s_fill(ev, &c->service, s_meta(run, "cairn.dev/service"), s_param(run, service_names),
                    "service");
    if (rc == 0)
        rc = s_fill(ev, &c->pr_number, s_meta(run, "cairn.dev/pr"), s_param(run, pr_names),
                    "pr_number");
    if (rc == 0)
        rc = cairn_nf_default(&ev->subject, cairn_nf_str(run, "metadata.name"));
    return rc;
}
