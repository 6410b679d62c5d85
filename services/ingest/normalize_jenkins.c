/* Jenkins Notification plugin (JSON format) -> canonical events. The event
 * is the build phase (QUEUED, STARTED, COMPLETED, FINALIZED); the plugin has
 * no delivery id, so the idempotency key is the job's address, the build
 * number and the phase. A completed build is "build" evidence, or
 * "test_report" evidence when the payload carries a test summary. Build
 * parameters may name the change (CAIRN_CHANGE), the environment and the
 * service; docs/events.md lists them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "normalize_fields.h"
#include "normalize_sources.h"

/* Changed paths kept from one build. */
#define S_PATHS_MAX 1000

static const char s_supported[] = "the build phases QUEUED, STARTED, COMPLETED and FINALIZED "
                                  "(Notification plugin, JSON format)";

/* A build parameter by any of names (case-insensitive). */
static const char *s_param(const cJSON *params, const char *const *names)
{
    const char *key;
    const cJSON *v;
    if (cJSON_IsObject(params)) {
        for (const char *const *n = names; *n; n++)
            cairn_json_foreach(v, params)
            {
                key = v->string;
                if (strcasecmp(key, *n) == 0 && cJSON_IsString(v) && *v->valuestring)
                    return cairn_json_str(v);
            }
    }
    return NULL;
}

/* Counts from test_summary: a count that is not a count is refused, so a
 * broken report can never read as "0 failed". */
static int s_count(const cJSON *summary, const char *name, uint32_t *out, char *err, size_t errlen)
{
    const cJSON *v = cairn_nf_at(summary, name);
    if (!v)
        return 0;
    if (!cairn_json_is_integer(v) || cairn_json_integer(v) < 0 ||
        cairn_json_integer(v) > UINT32_MAX)
        return cairn_nf_fail(err, errlen, "build.test_summary.%s must be a non-negative integer",
                             name);
    *out = (uint32_t)cairn_json_integer(v);
    return 0;
}

static int s_strings(char ***items, size_t *n, const cJSON *list, size_t max)
{
    const cJSON *item;
    int rc = 0;
    if (!cJSON_IsArray(list))
        return 0;
    cairn_json_foreach(item, list)
    {
        const char *text = cJSON_IsString(item) ? cairn_json_str(item) : cairn_nf_str(item, "id");
        if (rc == 0 && *n < max)
            rc = cairn_nf_add(items, n, text);
    }
    return rc;
}

/* "ci.example.com/job/payments" from build.full_url
 * "https://ci.example.com/job/payments/42/", else "jenkins/<job url>". */
static void s_job_address(const cJSON *b, char *out, size_t outlen)
{
    const char *full = cairn_nf_str(b, "build.full_url");
    const char *rel = cairn_nf_str(b, "url");
    const char *name = cairn_nf_str(b, "name");
    if (full && strstr(full, "://")) {
        const char *p = strstr(full, "://") + 3;
        size_t n = strcspn(p, "?#");
        while (n > 0 && p[n - 1] == '/')
            n--;
        size_t last = n;
        while (last > 0 && p[last - 1] != '/')
            last--;
        if (last > 0 && strspn(p + last, "0123456789") == n - last)
            n = last - 1; /* drop the build number */
        while (n > 0 && p[n - 1] == '/')
            n--;
        if (n > 0) {
            snprintf(out, outlen, "%.*s", (int)n, p);
            return;
        }
    }
    if (rel) {
        size_t n = strlen(rel);
        while (n > 0 && rel[n - 1] == '/')
            n--;
        if (n > 0) {
            snprintf(out, outlen, "jenkins/%.*s", (int)n, rel);
            return;
        }
    }
    snprintf(out, outlen, "jenkins/%s", name ? name : "unknown");
}

int cairn_normalize_jenkins(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                            size_t keylen, char *err, size_t errlen)
{
    static const char *const change_names[] = {"CAIRN_CHANGE", "CHANGE_ID", NULL};
    static const char *const env_names[] = {"ENVIRONMENT", "DEPLOY_ENV", "TARGET_ENV", "ENV", NULL};
    static const char *const service_names[] = {"SERVICE", "SERVICE_NAME", NULL};
    static const char *const commit_names[] = {"GIT_COMMIT", NULL};
    const cJSON *b = in->body;
    const cJSON *build = cairn_nf_at(b, "build");
    Cairn__V1__Correlation *c = ev->correlation;
    Cairn__V1__Governance *g = ev->governance;
    Cairn__V1__Evidence *e = ev->evidence;
    if (!cJSON_IsObject(b) || !cJSON_IsObject(build))
        return cairn_nf_fail(err, errlen,
                             "the body has no 'build' object; Cairn accepts Jenkins "
                             "Notification plugin payloads (JSON format): %s",
                             s_supported);
    const char *phase = cairn_nf_str(build, "phase");
    char number[32];
    const char *num = cairn_nf_text_at(build, "number", number);
    if (!phase)
        return cairn_nf_fail(err, errlen, "build.phase is missing; supported: %s", s_supported);
    if (!num)
        return cairn_nf_fail(err, errlen, "build.number is missing");
    const char *type = NULL;
    bool finished = false;
    if (strcasecmp(phase, "QUEUED") == 0)
        type = "dev.cdevents.pipelinerun.queued.0.3.0";
    else if (strcasecmp(phase, "STARTED") == 0)
        type = "dev.cdevents.pipelinerun.started.0.3.0";
    else if (strcasecmp(phase, "COMPLETED") == 0)
        type = "dev.cdevents.pipelinerun.finished.0.3.0", finished = true;
    else if (strcasecmp(phase, "FINALIZED") == 0)
        type = "com.jenkins.build.finalized", finished = true;
    else
        return cairn_nf_fail(err, errlen,
                             "Jenkins build phase '%.32s' is not supported; supported: %s", phase,
                             s_supported);

    const char *name = cairn_nf_str(b, "name");
    char job[512], subject[600];
    s_job_address(b, job, sizeof job);
    snprintf(subject, sizeof subject, "%s#%s", name ? name : job, num);
    const cJSON *params = cairn_nf_at(build, "parameters");
    char repo[512];

    int rc = cairn_nf_type(ev, "%s", type);
    if (rc == 0)
        rc = cairn_nf_set(&ev->source, job);
    if (rc == 0)
        rc = cairn_nf_set(&ev->subject, subject);
    if (rc == 0) {
        char id[700];
        snprintf(id, sizeof id, "%s:%s", subject, phase);
        rc = cairn_nf_set(&ev->id, id);
        char *material = malloc(strlen(job) + strlen(num) + strlen(phase) + 4);
        if (!material)
            return -ENOMEM;
        sprintf(material, "%s#%s:%s", job, num, phase);
        cairn_nf_key(key, keylen, "jenkins", material);
        free(material);
    }
    if (rc == 0)
        rc = cairn_nf_set(&c->commit_sha, cairn_nf_str(build, "scm.commit"));
    if (rc == 0)
        rc = cairn_nf_default(&c->commit_sha, s_param(params, commit_names));
    if (rc == 0 && cairn_nf_repo_from_url(cairn_nf_str(build, "scm.url"), repo, sizeof repo)) {
        rc = cairn_nf_set(&c->repository, repo);
        if (rc == 0)
            rc = cairn_nf_infer(ev, "repository");
    }
    if (rc == 0)
        rc = cairn_nf_set(&c->change_id, s_param(params, change_names));
    if (rc == 0 && s_param(params, env_names)) {
        rc = cairn_nf_set(&c->environment, s_param(params, env_names));
        if (rc == 0)
            rc = cairn_nf_infer(ev, "environment");
    }
    if (rc == 0 && s_param(params, service_names)) {
        rc = cairn_nf_set(&c->service, s_param(params, service_names));
        if (rc == 0)
            rc = cairn_nf_infer(ev, "service");
    }
    if (rc == 0)
        rc = s_strings(&g->committers, &g->n_committers, cairn_nf_at(build, "scm.culprits"), 100);
    if (rc == 0)
        rc = s_strings(&g->paths, &g->n_paths, cairn_nf_at(build, "scm.changes"), S_PATHS_MAX);
    if (rc == 0) {
        const cJSON *ts = cairn_nf_at(build, "timestamp");
        if (cairn_json_is_integer(ts))
            rc = cairn_nf_time_ms(ev, cairn_json_integer(ts));
    }
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookevent", "build");
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookaction", phase);
    if (rc == 0)
        rc = cairn_nf_ext(ev, "ref", cairn_nf_str(build, "scm.branch"));
    if (rc < 0 || !finished)
        return rc;

    const cJSON *summary = cairn_nf_at(build, "test_summary");
    char buf[64];
    rc =
        cairn_nf_set(&e->outcome, cairn_nf_outcome(cairn_nf_str(build, "status"), buf, sizeof buf));
    if (rc == 0)
        rc = cairn_nf_set(&e->uri, cairn_nf_str(build, "full_url"));
    if (rc == 0 && cJSON_IsObject(summary)) {
        rc = cairn_nf_set(&e->kind, "test_report");
        if (rc == 0)
            rc = s_count(summary, "passed", &e->tests_passed, err, errlen);
        if (rc == 0)
            rc = s_count(summary, "failed", &e->tests_failed, err, errlen);
        if (rc == 0)
            rc = s_count(summary, "skipped", &e->tests_skipped, err, errlen);
        /* Older plugin versions send total, failed and skipped only. */
        uint32_t total = 0;
        if (rc == 0 && !cairn_nf_at(summary, "passed") &&
            (rc = s_count(summary, "total", &total, err, errlen)) == 0 &&
            total >= (uint64_t)e->tests_failed + e->tests_skipped)
            e->tests_passed = total - e->tests_failed - e->tests_skipped;
    } else if (rc == 0) {
        rc = cairn_nf_set(&e->kind, "build");
    }
    return rc;
}
