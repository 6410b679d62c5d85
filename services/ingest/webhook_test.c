/* Tests for native webhooks, end to end through the handler and a stand-in
 * ledger: every fixture under testdata/<source>/ (trimmed payloads in each
 * source's documented format) is posted with a correct signature and must
 * be accepted with the expected canonical fields; then redeliveries, wrong
 * and missing signatures, unknown events, truncated and oversized bodies,
 * Standard Webhooks timestamps, unsigned sources, the /v1/events token, and
 * Tekton CloudEvents. Expected fields are written as "path=value" and read
 * back from the recorded protobuf by reflection. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "auth.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "cloudevent.h"
#include "fake_ledger.h"
#include "handler.h"
#include "webhook.h"

#define S_MAX_BODY (256 * 1024)

static const char s_github_secret[] = "gh-secret";
static const char s_gitlab_token[] = "gl-token";
static const char s_signing_secret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
static const char s_pagerduty_secret[] = "pd-secret";
static const char s_jira_secret[] = "jira-secret";
static const char s_jenkins_token[] = "jenkins-token";
static const char s_servicenow_token[] = "snow-token";
static const char s_events_token[] = "ev-token";

typedef struct {
    char dir[64];                    /* temporary directory */
    fake_ledger_t *ledger;           /* acknowledges appends */
    cairn_ingest_auth_t *auth;       /* every secret configured */
    cairn_ingest_handler_t *handler; /* under test */
    cairn_ingest_response_t r;       /* last answer */
} s_fixture_t;

/* Request headers under construction. */
typedef struct {
    cairn_ingest_header_t h[16]; /* what the handler sees */
    char value[16][512];         /* storage for the values */
    size_t n;                    /* how many */
} s_headers_t;

static void s_add(s_headers_t *hs, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_add(s_headers_t *hs, const char *name, const char *fmt, ...)
{
    assert_true(hs->n < 16);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(hs->value[hs->n], sizeof hs->value[hs->n], fmt, ap);
    va_end(ap);
    hs->h[hs->n].name = name;
    hs->h[hs->n].value = hs->value[hs->n];
    hs->n++;
}

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static cairn_ingest_handler_t *s_handler(s_fixture_t *f, const cairn_ingest_auth_t *auth)
{
    char endpoint[128], reject_dir[128];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/ledger.sock", f->dir);
    snprintf(reject_dir, sizeof reject_dir, "%s/rejected", f->dir);
    cairn_ingest_handler_settings_t s = {.ledger_endpoint = endpoint,
                                         .ledger_timeout_ms = 2000,
                                         .max_body = S_MAX_BODY,
                                         .reject_dir = reject_dir,
                                         .auth = auth};
    return cairn_ingest_handler_new(&s);
}

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    char endpoint[128], err[256];
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-webhook-test-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(endpoint, sizeof endpoint, "ipc://%s/ledger.sock", f->dir);
    f->ledger = fake_ledger_start(endpoint);
    cairn_ingest_auth_settings_t as = {
        .events_token = s_events_token,
        .github_secret = s_github_secret,
        .gitlab_token = s_gitlab_token,
        .gitlab_signing_secret = s_signing_secret,
        .pagerduty_secret = s_pagerduty_secret,
        .jira_secret = s_jira_secret,
        .jenkins_token = s_jenkins_token,
        .servicenow_token = s_servicenow_token,
    };
    if (cairn_ingest_auth_new(&as, &f->auth, err, sizeof err) < 0)
        return -1;
    f->handler = s_handler(f, f->auth);
    *state = f;
    return f->ledger && f->handler ? 0 : -1;
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_ingest_response_clear(&f->r);
    cairn_ingest_handler_destroy(&f->handler);
    cairn_ingest_auth_destroy(&f->auth);
    fake_ledger_stop(&f->ledger);
    nftw(f->dir, s_rm, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static char *s_fixture(const char *source, const char *file, size_t *len)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    char path[1024];
    char *text = NULL;
    snprintf(path, sizeof path, "%s/services/ingest/testdata/%s/%s", src ? src : ".", source, file);
    if (cairn_read_file(path, 1 << 20, &text, len) < 0)
        fail_msg("cannot read fixture %s", path);
    return text;
}

static void s_hmac_hex(const char *key, const void *body, size_t len, char hex[65])
{
    uint8_t mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const uint8_t *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, body, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(hex, 65, mac, sizeof mac);
}

/* The headers a correctly configured sender of source would send. */
static void s_sign(const char *source, const char *event, const char *delivery, const void *body,
                   size_t len, s_headers_t *hs)
{
    char hex[65];
    s_add(hs, "Content-Type", "application/json");
    if (strcmp(source, "github") == 0) {
        s_hmac_hex(s_github_secret, body, len, hex);
        s_add(hs, "X-GitHub-Event", "%s", event);
        s_add(hs, "X-GitHub-Delivery", "%s", delivery);
        s_add(hs, "X-GitHub-Hook-ID", "423885699");
        s_add(hs, "X-Hub-Signature-256", "sha256=%s", hex);
        s_add(hs, "User-Agent", "GitHub-Hookshot/2b3c4d5");
    } else if (strcmp(source, "gitlab") == 0) {
        s_add(hs, "X-Gitlab-Event", "%s", event);
        s_add(hs, "X-Gitlab-Token", "%s", s_gitlab_token);
        s_add(hs, "Idempotency-Key", "%s", delivery);
        s_add(hs, "X-Gitlab-Event-UUID", "ev-%s", delivery);
        s_add(hs, "X-Gitlab-Instance", "https://gitlab.acme.example");
    } else if (strcmp(source, "jira") == 0) {
        s_hmac_hex(s_jira_secret, body, len, hex);
        s_add(hs, "X-Hub-Signature", "sha256=%s", hex);
        s_add(hs, "X-Atlassian-Webhook-Identifier", "%s", delivery);
        s_add(hs, "X-Atlassian-Webhook-Flow", "Primary");
    } else if (strcmp(source, "pagerduty") == 0) {
        char old[65];
        s_hmac_hex("the previous secret", body, len, old);
        s_hmac_hex(s_pagerduty_secret, body, len, hex);
        s_add(hs, "X-PagerDuty-Signature", "v1=%s,v1=%s", old, hex);
        s_add(hs, "X-Webhook-Id", "%s", delivery);
        s_add(hs, "X-Webhook-Subscription", "PY1OQNN");
    } else if (strcmp(source, "jenkins") == 0) {
        s_add(hs, "Authorization", "Bearer %s", s_jenkins_token);
    } else if (strcmp(source, "servicenow") == 0) {
        s_add(hs, "Authorization", "Bearer %s", s_servicenow_token);
    }
}

static void s_post(s_fixture_t *f, const char *path, const s_headers_t *hs, const void *body,
                   size_t len)
{
    cairn_ingest_response_clear(&f->r);
    cairn_ingest_handler_handle(f->handler, path, NULL, hs->h, hs->n, body, len, &f->r);
    assert_non_null(f->r.body);
}

static void s_post_webhook(s_fixture_t *f, const char *source, const char *event,
                           const char *delivery, const void *body, size_t len)
{
    s_headers_t hs = {0};
    char path[64];
    s_sign(source, event, delivery, body, len, &hs);
    snprintf(path, sizeof path, "/v1/webhooks/%s", source);
    s_post(f, path, &hs, body, len);
}

/* --- reading fields back by name ---------------------------------------- */

/* The text of the field at a dotted path: strings as they are, repeated
 * strings joined by ",", numbers in decimal, map entries as "map.key". */
static void s_field(const ProtobufCMessage *msg, const char *path, char *out, size_t outlen)
{
    char seg[64];
    size_t n = strcspn(path, ".");
    snprintf(seg, sizeof seg, "%.*s", (int)n, path);
    const char *rest = path[n] ? path + n + 1 : NULL;
    const ProtobufCFieldDescriptor *fd =
        protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, seg);
    if (!fd)
        fail_msg("no field '%s' in %s", seg, msg->descriptor->name);
    const char *base = (const char *)msg + fd->offset;
    out[0] = '\0';
    if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t count = *(const size_t *)((const char *)msg + fd->quantifier_offset);
        if (fd->type == PROTOBUF_C_TYPE_STRING) {
            char *const *items = *(char *const *const *)base;
            for (size_t i = 0; i < count; i++)
                snprintf(out + strlen(out), outlen - strlen(out), "%s%s", i ? "," : "", items[i]);
            return;
        }
        /* a map<string,string>: entries with key and value */
        ProtobufCMessage *const *entries = *(ProtobufCMessage *const *const *)base;
        for (size_t i = 0; rest && i < count; i++) {
            char key[256];
            s_field(entries[i], "key", key, sizeof key);
            if (strcmp(key, rest) == 0) {
                s_field(entries[i], "value", out, outlen);
                return;
            }
        }
        return;
    }
    switch (fd->type) {
    case PROTOBUF_C_TYPE_STRING: snprintf(out, outlen, "%s", *(char *const *)base); break;
    case PROTOBUF_C_TYPE_UINT32: snprintf(out, outlen, "%u", *(const uint32_t *)base); break;
    case PROTOBUF_C_TYPE_INT64:
        snprintf(out, outlen, "%lld", (long long)*(const int64_t *)base);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        snprintf(out, outlen, "%s", *(const protobuf_c_boolean *)base ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)base;
        if (!sub)
            fail_msg("message field '%s' is not set", seg);
        s_field(sub, rest ? rest : "", out, outlen);
        break;
    }
    default: fail_msg("field '%s' has a type this test does not read", seg);
    }
}

/* Checks every "path=value" against the event. */
static void s_expect(const Cairn__V1__Event *ev, const char *const *expect, const char *what)
{
    for (; *expect; expect++) {
        const char *eq = strchr(*expect, '=');
        char path[128], got[2048];
        assert_non_null(eq);
        snprintf(path, sizeof path, "%.*s", (int)(eq - *expect), *expect);
        s_field(&ev->base, path, got, sizeof got);
        if (strcmp(got, eq + 1) != 0)
            fail_msg("%s: %s is '%s', expected '%s'", what, path, got, eq + 1);
    }
}

/* The record at index in the fake ledger, and its key. */
static Cairn__V1__Record *s_entry(s_fixture_t *f, size_t index, char **key)
{
    Cairn__V1__Record *rec = NULL;
    assert_int_equal(fake_ledger_entry(f->ledger, index, key, &rec), 0);
    assert_int_equal(rec->body_case, CAIRN__V1__RECORD__BODY_EVENT);
    return rec;
}

/* --- the fixtures ------------------------------------------------------- */

#define SHA "9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070"
#define MERGE "e5bd3914e2e596debea16f433f57875b5b90bcd6"
#define GLSHA "bcbb5ec396a2c0f828686f14fac9b80b780504f2"

typedef struct {
    const char *source;           /* webhook path segment */
    const char *file;             /* testdata/<source>/<file> */
    const char *event;            /* the source's event header, or NULL */
    const char *const expect[32]; /* "field.path=value", NULL-terminated */
} s_case_t;

static const s_case_t s_cases[] = {
    {"github",
     "pull_request.opened.json",
     "pull_request",
     {"type=dev.cdevents.change.created.0.4.0",
      "source=github.com/acme/payments",
      "subject=42",
      "spec_version=1.0",
      "ingest_source=github",
      "data_content_type=application/json",
      "time=2026-11-25T10:00:00Z",
      "correlation.repository=acme/payments",
      "correlation.commit_sha=" SHA,
      "correlation.pr_number=42",
      "correlation.change_id=CHG-1",
      "correlation.inferred=change_id",
      "governance.author=dana",
      "governance.actor=dana",
      "governance.labels=payments,pci",
      "governance.lines_changed=134",
      "governance.approver=",
      "extensions.webhookevent=pull_request",
      "extensions.webhookaction=opened",
      "authenticated_by=x-hub-signature-256",
      "raw_headers.x-github-event=pull_request",
      "raw_headers.x-github-hook-id=423885699",
      "evidence.kind=",
      NULL}},
    {"github",
     "pull_request.closed.json",
     "pull_request",
     {"type=dev.cdevents.change.merged.0.3.0", "governance.merge_sha=" MERGE,
      "governance.actor=lee", "governance.author=dana", "correlation.change_id=CHG-1",
      "correlation.commit_sha=" SHA, NULL}},
    {"github",
     "pull_request_review.submitted.json",
     "pull_request_review",
     {"type=dev.cdevents.change.reviewed.0.3.0", "governance.approver=erin",
      "governance.approval_decision=granted", "governance.reviewer=erin",
      "governance.review_verdict=approved", "correlation.commit_sha=" SHA,
      "correlation.change_id=CHG-1", "correlation.pr_number=42", "governance.author=dana",
      "time=2026-11-25T10:30:00Z", NULL}},
    {"github",
     "pull_request_review.changes_requested.json",
     "pull_request_review",
     {"type=dev.cdevents.change.reviewed.0.3.0", "governance.approver=lee",
      "governance.approval_decision=rejected", "governance.review_verdict=changes_requested",
      NULL}},
    {"github",
     "pull_request_review.commented.json",
     "pull_request_review",
     {"type=dev.cdevents.change.reviewed.0.3.0", "governance.reviewer=frank",
      "governance.review_verdict=commented", "governance.approver=",
      "governance.approval_decision=", "correlation.commit_sha=" SHA, NULL}},
    {"github",
     "workflow_run.completed.json",
     "workflow_run",
     {"type=dev.cdevents.pipelinerun.finished.0.3.0", "subject=30433642",
      "correlation.commit_sha=" SHA, "correlation.pr_number=42", "correlation.change_id=CHG-1",
      "evidence.kind=build", "evidence.outcome=success",
      "evidence.uri=https://github.com/acme/payments/actions/runs/30433642",
      "time=2026-11-25T10:09:00Z", NULL}},
    {"github",
     "workflow_job.completed.json",
     "workflow_job",
     {"type=dev.cdevents.taskrun.finished.0.3.0", "subject=29679449", "evidence.kind=job",
      "evidence.outcome=failure", "correlation.commit_sha=" SHA, "time=2026-11-25T10:05:00Z",
      NULL}},
    {"github",
     "check_suite.completed.json",
     "check_suite",
     {"type=com.github.check_suite.completed", "evidence.kind=build", "evidence.outcome=success",
      "correlation.pr_number=42", "correlation.change_id=CHG-1", "extensions.checkapp=octoci",
      "governance.actor=github-actions[bot]", NULL}},
    {"github",
     "check_run.completed.json",
     "check_run",
     {"type=com.github.check_run.completed", "evidence.kind=job", "evidence.outcome=neutral",
      "extensions.checkname=lint", "correlation.pr_number=42", NULL}},
    {"github",
     "deployment.created.json",
     "deployment",
     {"type=com.github.deployment.created", "subject=145988746", "correlation.commit_sha=" MERGE,
      "correlation.environment=production", "correlation.change_id=CHG-1", "correlation.inferred=",
      "correlation.service=payments", "governance.deployer=ci-bot", "extensions.ref=main", NULL}},
    {"github",
     "deployment_status.success.json",
     "deployment_status",
     {"type=dev.cdevents.service.deployed.0.3.0", "correlation.environment=production",
      "correlation.commit_sha=" MERGE, "correlation.change_id=CHG-1", "evidence.kind=deployment",
      "evidence.outcome=success", "evidence.uri=https://ci.acme.example/deploys/881",
      "governance.deployer=ci-bot", NULL}},
    {"github",
     "deployment_review.approved.json",
     "deployment_review",
     {"type=com.github.deployment_review.approved", "correlation.environment=production",
      "correlation.commit_sha=" MERGE, "correlation.change_id=CHG-1", "governance.reviewer=lee",
      "governance.review_verdict=approved",
      "governance.approver=", "governance.approval_decision=", NULL}},
    {"github",
     "deployment_protection_rule.requested.json",
     "deployment_protection_rule",
     {"type=com.github.deployment_protection_rule.requested", "correlation.environment=production",
      "correlation.commit_sha=" MERGE, "correlation.pr_number=42", "correlation.change_id=CHG-1",
      "extensions.callbackurl=https://api.github.com/repos/acme/payments/actions/runs/30433700/"
      "deployment_protection_rule",
      NULL}},
    {"github",
     "push.json",
     "push",
     {"type=com.github.push", "subject=refs/heads/refunds", "correlation.commit_sha=" SHA,
      "correlation.change_id=CHG-1", "correlation.inferred=change_id", "governance.author=dana",
      "governance.actor=dana", "governance.committers=dana,frank",
      "governance.paths=docs/refunds.md,src/refunds/api.c,src/refunds/old.c,src/refunds/math.c",
      "time=2026-11-25T09:57:00Z", NULL}},
    {"github",
     "code_scanning_alert.created.json",
     "code_scanning_alert",
     {"type=com.github.code_scanning_alert.created", "subject=7", "correlation.commit_sha=" SHA,
      "evidence.kind=scan_alert", "evidence.findings_critical=1", "evidence.findings_high=0",
      "evidence.outcome=open", "extensions.ruleid=cpp/sql-injection", "extensions.tool=CodeQL",
      NULL}},
    {"github",
     "release.published.json",
     "release",
     {"type=com.github.release.published", "correlation.release_id=v2.4.0",
      "correlation.commit_sha=" MERGE, "correlation.change_id=CHG-1", "governance.author=lee",
      "time=2026-11-25T12:31:00Z", NULL}},
    {"github",
     "ping.json",
     "ping",
     {"type=com.github.ping", "subject=423885699", "source=github.com/acme/payments", NULL}},

    {"gitlab",
     "pipeline.success.json",
     "Pipeline Hook",
     {"type=dev.cdevents.pipelinerun.finished.0.3.0", "source=gitlab.acme.example/acme/payments",
      "ingest_source=gitlab", "subject=31", "correlation.repository=acme/payments",
      "correlation.commit_sha=" GLSHA, "correlation.pr_number=12", "correlation.change_id=CHG-7",
      "correlation.inferred=change_id", "evidence.kind=build", "evidence.outcome=success",
      "evidence.uri=https://gitlab.acme.example/acme/payments/-/pipelines/31",
      "governance.actor=dana", "extensions.webhookevent=Pipeline Hook",
      "extensions.webhookaction=success", "authenticated_by=x-gitlab-token",
      "raw_headers.x-gitlab-token=", "raw_headers.x-gitlab-event=Pipeline Hook", NULL}},
    {"gitlab",
     "job.failed.json",
     "Job Hook",
     {"type=dev.cdevents.taskrun.finished.0.3.0", "source=gitlab.acme.example/acme/payments",
      "subject=1977", "correlation.repository=acme/payments", "correlation.environment=staging",
      "correlation.inferred=repository,change_id", "evidence.kind=job", "evidence.outcome=failure",
      "extensions.stage=deploy", "extensions.jobname=deploy-staging", NULL}},
    {"gitlab",
     "deployment.success.json",
     "Deployment Hook",
     {"type=dev.cdevents.service.deployed.0.3.0", "subject=15",
      "correlation.environment=production", "correlation.commit_sha=" GLSHA,
      "correlation.inferred=commit_sha", "governance.deployer=dana", "evidence.kind=deployment",
      "evidence.outcome=success",
      "evidence.uri=https://gitlab.acme.example/acme/payments/-/jobs/796",
      "extensions.environmenttier=production", NULL}},
    {"gitlab",
     "merge_request.open.json",
     "Merge Request Hook",
     {"type=dev.cdevents.change.created.0.4.0", "subject=12", "correlation.pr_number=12",
      "correlation.commit_sha=" GLSHA, "correlation.change_id=CHG-7",
      "governance.labels=payments,pci", "governance.author=dana", "extensions.webhookaction=open",
      NULL}},
    {"gitlab",
     "merge_request.approved.json",
     "Merge Request Hook",
     {"type=dev.cdevents.change.reviewed.0.3.0", "governance.approver=erin",
      "governance.approval_decision=granted", "governance.reviewer=erin",
      "governance.review_verdict=approved", "governance.actor=erin",
      "correlation.commit_sha=" GLSHA, "correlation.change_id=CHG-7", NULL}},
    {"gitlab",
     "merge_request.unapproved.json",
     "Merge Request Hook",
     {"type=dev.cdevents.change.reviewed.0.3.0", "governance.approver=erin",
      "governance.approval_decision=revoked", "governance.review_verdict=unapproved", NULL}},
    {"gitlab",
     "merge_request.merge.json",
     "Merge Request Hook",
     {"type=dev.cdevents.change.merged.0.3.0",
      "governance.merge_sha=74d2df7e0e3b8f4e3c2a1b0f9e8d7c6b5a493827", "governance.actor=lee",
      "governance.author=", NULL}},
    {"gitlab",
     "push.json",
     "Push Hook",
     {"type=com.gitlab.push", "subject=refs/heads/refunds", "correlation.commit_sha=" GLSHA,
      "correlation.change_id=CHG-7", "governance.actor=dana",
      "governance.paths=src/refunds/math.c,src/refunds/api.c", NULL}},

    {"jenkins",
     "completed.json",
     NULL,
     {"type=dev.cdevents.pipelinerun.finished.0.3.0",
      "source=ci.acme.example/job/payments",
      "subject=payments#42",
      "id=payments#42:COMPLETED",
      "ingest_source=jenkins",
      "correlation.commit_sha=" SHA,
      "correlation.repository=acme/payments",
      "correlation.change_id=CHG-1",
      "correlation.environment=staging",
      "correlation.inferred=repository,environment",
      "governance.committers=dana,frank",
      "governance.paths=src/refunds/api.c,src/refunds/math.c",
      "evidence.kind=test_report",
      "evidence.outcome=failure",
      "evidence.tests_passed=115",
      "evidence.tests_failed=2",
      "evidence.tests_skipped=3",
      "evidence.uri=https://ci.acme.example/job/payments/42/",
      "time=2026-11-25T09:46:40.000Z",
      "authenticated_by=authorization-bearer",
      "raw_headers.authorization=",
      "extensions.webhookaction=COMPLETED",
      NULL}},
    {"jenkins",
     "started.json",
     NULL,
     {"type=dev.cdevents.pipelinerun.started.0.3.0", "correlation.repository=acme/payments",
      "correlation.change_id=CHG-1", "evidence.kind=", "id=payments#42:STARTED", NULL}},
    {"jenkins",
     "finalized.json",
     NULL,
     {"type=com.jenkins.build.finalized", "source=ci.acme.example/job/payments-deploy",
      "evidence.kind=build", "evidence.outcome=success", "correlation.environment=production",
      "correlation.service=payments", "correlation.inferred=repository,environment,service", NULL}},

    {"servicenow",
     "change_request.json",
     NULL,
     {"type=com.servicenow.change.updated", "source=acme.service-now.com/change_request",
      "id=c83c5e5347c12200e0ef563dbb9a7190:4", "subject=CHG0030001",
      "correlation.change_id=CHG0030001", "correlation.environment=production",
      "correlation.service=Payments", "correlation.repository=acme/payments",
      "correlation.commit_sha=" MERGE, "governance.change_type=normal", "governance.risk=high",
      "governance.cab=required", "governance.actor=cab.manager", "extensions.state=scheduled",
      "extensions.approval=approved", "extensions.onhold=false",
      "extensions.webhookevent=change_request", NULL}},
    {"servicenow",
     "incident.json",
     NULL,
     {"type=dev.cdevents.incident.reported.0.3.0", "source=acme.service-now.com/incident",
      "correlation.incident_id=INC0010023", "correlation.change_id=CHG0030001",
      "governance.caused_by_change=CHG0030001", "governance.incident_severity=critical",
      "correlation.service=Payments", "correlation.environment=production", "extensions.state=new",
      NULL}},

    {"jira",
     "issue_created.json",
     NULL,
     {"type=dev.cdevents.ticket.created.0.2.0", "source=acme.atlassian.net/CM", "subject=CM-12",
      "correlation.change_id=CM-12", "correlation.inferred=",
      "governance.actor=5b10a2844c20165700ede21g", "governance.labels=payments,pci",
      "extensions.issuetype=Change", "extensions.status=Waiting for approval",
      "authenticated_by=x-hub-signature", "time=2026-11-25T09:46:40.000Z", NULL}},
    {"jira",
     "issue_updated.json",
     NULL,
     {"type=dev.cdevents.ticket.closed.0.2.0", "source=acme.atlassian.net/OPS", "subject=OPS-88",
      "correlation.change_id=CHG-1", "correlation.inferred=change_id", "extensions.status=Done",
      NULL}},

    {"pagerduty",
     "incident.triggered.json",
     NULL,
     {"type=dev.cdevents.incident.reported.0.3.0", "source=acme.pagerduty.com/services/PF9KMXH",
      "subject=2412", "correlation.incident_id=Q1P3AHC2ABCDEF", "correlation.service=Payments API",
      "governance.incident_severity=P1", "governance.actor=Payments API",
      "time=2026-11-26T09:30:05.218Z", "extensions.status=triggered", "extensions.urgency=high",
      "authenticated_by=x-pagerduty-signature", NULL}},
    {"pagerduty",
     "incident.resolved.json",
     NULL,
     {"type=dev.cdevents.incident.resolved.0.3.0", "correlation.incident_id=Q1P3AHC2ABCDEF",
      "governance.actor=Erin", NULL}},
    {"pagerduty",
     "incident.annotated.json",
     NULL,
     {"type=com.pagerduty.incident.annotated", "correlation.incident_id=Q1P3AHC2ABCDEF",
      "source=acme.pagerduty.com", NULL}},
    {"pagerduty", "pagey.ping.json", NULL, {"type=com.pagerduty.pagey.ping", NULL}},
};

#define S_NCASES (sizeof s_cases / sizeof s_cases[0])

static void every_fixture_is_accepted_with_its_canonical_fields(void **state)
{
    s_fixture_t *f = *state;
    for (size_t i = 0; i < S_NCASES; i++) {
        const s_case_t *c = &s_cases[i];
        char delivery[64], what[128], sha_hex[65];
        size_t len = 0;
        char *body = s_fixture(c->source, c->file, &len);
        snprintf(delivery, sizeof delivery, "delivery-%zu", i);
        snprintf(what, sizeof what, "%s/%s", c->source, c->file);
        s_post_webhook(f, c->source, c->event, delivery, body, len);
        if (f->r.status != 202)
            fail_msg("%s: status %u: %s", what, f->r.status, f->r.body);

        char *key = NULL;
        Cairn__V1__Record *rec = s_entry(f, fake_ledger_size(f->ledger) - 1, &key);
        Cairn__V1__Event *ev = rec->event;
        s_expect(ev, c->expect, what);
        /* the raw body is the data, byte for byte, with its digest */
        uint8_t sha[32];
        cairn_sha256(body, len, sha);
        cairn_hex(sha, sizeof sha, sha_hex);
        assert_int_equal(ev->data.len, len);
        assert_memory_equal(ev->data.data, body, len);
        assert_string_equal(ev->body_sha256, sha_hex);
        assert_int_equal(ev->raw_body.len, 0);
        assert_true(*ev->id && *ev->type && *ev->source);
        assert_string_equal(ev->idempotency_key, key);
        assert_true(strncmp(key, c->source, strlen(c->source)) == 0);
        /* no credential is ever kept */
        for (size_t h = 0; h < ev->n_raw_headers; h++) {
            assert_string_not_equal(ev->raw_headers[h]->key, "authorization");
            assert_string_not_equal(ev->raw_headers[h]->key, "x-gitlab-token");
        }
        free(key);
        CAIRN_CODEC_FREE(&rec);
        free(body);
    }
    assert_int_equal(fake_ledger_size(f->ledger), S_NCASES);
}

static void the_idempotency_key_is_the_sources_delivery_id(void **state)
{
    s_fixture_t *f = *state;
    static const struct {
        const char *source, *file, *event, *key, *id;
    } keys[] = {
        {"github", "ping.json", "ping", "github:423885699:d-1", "d-1"},
        {"gitlab", "push.json", "Push Hook", "gitlab:idem:d-2", "d-2"},
        {"jira", "issue_created.json", NULL, "jira:d-3", "d-3"},
        {"pagerduty", "incident.triggered.json", NULL, "pagerduty:d-4", "d-4"},
        {"jenkins", "completed.json", NULL, "jenkins:ci.acme.example/job/payments#42:COMPLETED",
         "payments#42:COMPLETED"},
        {"servicenow", "incident.json", NULL,
         "servicenow:incident:9d385017c611228701d22104cc95c371:0",
         "9d385017c611228701d22104cc95c371:0"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        size_t len = 0;
        char *body = s_fixture(keys[i].source, keys[i].file, &len);
        char delivery[16];
        snprintf(delivery, sizeof delivery, "d-%zu", i + 1);
        s_post_webhook(f, keys[i].source, keys[i].event, delivery, body, len);
        assert_int_equal(f->r.status, 202);
        char *key = NULL;
        Cairn__V1__Record *rec = s_entry(f, i, &key);
        assert_string_equal(key, keys[i].key);
        assert_string_equal(rec->event->id, keys[i].id);
        free(key);
        CAIRN_CODEC_FREE(&rec);
        free(body);
    }
}

static void a_redelivery_is_200_duplicate_for_every_source(void **state)
{
    s_fixture_t *f = *state;
    static const struct {
        const char *source, *file, *event;
    } once[] = {
        {"github", "push.json", "push"},      {"gitlab", "pipeline.success.json", "Pipeline Hook"},
        {"jenkins", "completed.json", NULL},  {"servicenow", "change_request.json", NULL},
        {"jira", "issue_updated.json", NULL}, {"pagerduty", "incident.resolved.json", NULL},
    };
    for (size_t i = 0; i < sizeof once / sizeof once[0]; i++) {
        size_t len = 0;
        char *body = s_fixture(once[i].source, once[i].file, &len);
        char expected[256];
        s_post_webhook(f, once[i].source, once[i].event, "same-delivery", body, len);
        assert_int_equal(f->r.status, 202);
        s_post_webhook(f, once[i].source, once[i].event, "same-delivery", body, len);
        if (f->r.status != 200)
            fail_msg("%s: a redelivery answered %u: %s", once[i].source, f->r.status, f->r.body);
        assert_non_null(strstr(f->r.body, "{\"duplicate\":true,\"id\":"));
        snprintf(expected, sizeof expected, ",\"index\":%zu}", i);
        assert_non_null(strstr(f->r.body, expected));
        free(body);
    }
    assert_int_equal(fake_ledger_size(f->ledger), 6);

    /* GitHub reuses one delivery id for every hook: another hook's copy is new */
    size_t len = 0;
    char *body = s_fixture("github", "push.json", &len);
    s_headers_t hs = {0};
    s_sign("github", "push", "same-delivery", body, len, &hs);
    hs.value[3][0] = '7'; /* X-GitHub-Hook-ID */
    s_post(f, "/v1/webhooks/github", &hs, body, len);
    assert_int_equal(f->r.status, 202);
    free(body);
}

/* The credential header of each source, replaced by a wrong value. */
static void s_corrupt(const char *source, s_headers_t *hs)
{
    static const char *const names[] = {"X-Hub-Signature-256", "X-Gitlab-Token", "X-Hub-Signature",
                                        "X-PagerDuty-Signature", "Authorization"};
    for (size_t i = 0; i < hs->n; i++)
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
            if (strcmp(hs->h[i].name, names[k]) == 0) {
                char *v = hs->value[i];
                size_t n = strlen(v);
                v[n - 1] = v[n - 1] == '0' ? '1' : '0';
            }
    (void)source;
}

static void s_remove(s_headers_t *hs, const char *name)
{
    for (size_t i = 0; i < hs->n; i++)
        if (strcmp(hs->h[i].name, name) == 0)
            hs->h[i].name = "X-Removed";
}

static void a_wrong_or_missing_signature_is_401_for_every_source(void **state)
{
    s_fixture_t *f = *state;
    static const struct {
        const char *source, *file, *event, *header, *wrong, *missing;
    } cases[] = {
        {"github", "push.json", "push", "X-Hub-Signature-256",
         "X-Hub-Signature-256 does not match the body; check that the webhook's secret in GitHub "
         "equals ingest.github_secret",
         "missing X-Hub-Signature-256 header; set the webhook's secret in GitHub to the value of "
         "ingest.github_secret"},
        {"gitlab", "push.json", "Push Hook", "X-Gitlab-Token",
         "X-Gitlab-Token does not match ingest.gitlab_token",
         "missing X-Gitlab-Token and webhook-signature headers"},
        {"jira", "issue_created.json", NULL, "X-Hub-Signature",
         "X-Hub-Signature does not match the body",
         "missing X-Hub-Signature header; set the webhook's secret in Jira"},
        {"pagerduty", "incident.triggered.json", NULL, "X-PagerDuty-Signature",
         "no v1 signature in X-PagerDuty-Signature matches the body",
         "missing X-PagerDuty-Signature header"},
        {"jenkins", "completed.json", NULL, "Authorization",
         "the bearer token does not match ingest.jenkins_token",
         "missing Authorization header; send 'Authorization: Bearer <token>' with the token "
         "configured as ingest.jenkins_token"},
        {"servicenow", "incident.json", NULL, "Authorization",
         "the bearer token does not match ingest.servicenow_token", "missing Authorization header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 0;
        char *body = s_fixture(cases[i].source, cases[i].file, &len);
        char path[64];
        snprintf(path, sizeof path, "/v1/webhooks/%s", cases[i].source);

        s_headers_t hs = {0};
        s_sign(cases[i].source, cases[i].event, "d", body, len, &hs);
        s_corrupt(cases[i].source, &hs);
        s_post(f, path, &hs, body, len);
        if (f->r.status != 401 || !strstr(f->r.body, cases[i].wrong))
            fail_msg("%s, wrong credential: %u %s", cases[i].source, f->r.status, f->r.body);

        s_headers_t none = {0};
        s_sign(cases[i].source, cases[i].event, "d", body, len, &none);
        s_remove(&none, cases[i].header);
        s_post(f, path, &none, body, len);
        if (f->r.status != 401 || !strstr(f->r.body, cases[i].missing))
            fail_msg("%s, missing credential: %u %s", cases[i].source, f->r.status, f->r.body);
        free(body);
    }
    assert_int_equal(fake_ledger_size(f->ledger), 0);

    /* each 401 left its body and an index line naming source and reason */
    char path[128], *index = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/rejected/index.jsonl", f->dir);
    assert_int_equal(cairn_read_file(path, 1 << 20, &index, &len), 0);
    size_t lines = 0;
    for (const char *p = index; (p = strchr(p, '\n')); p++)
        lines++;
    assert_int_equal(lines, 12);
    assert_non_null(strstr(index, "\"status\":401,\"source\":\"pagerduty\","
                                  "\"path\":\"/v1/webhooks/pagerduty\","
                                  "\"reason\":\"missing X-PagerDuty-Signature header"));
    assert_non_null(strstr(index, "-401-"));
    free(index);
    char *metrics = cairn_ingest_handler_metrics(f->handler);
    assert_non_null(strstr(metrics, "cairn_ingest_auth_failures_total{source=\"jira\"} 2\n"));
    assert_non_null(strstr(metrics, "cairn_ingest_requests_total{code=\"401\"} 12\n"));
    free(metrics);
}

static void an_unknown_event_is_422_naming_the_supported_events(void **state)
{
    s_fixture_t *f = *state;
    static const struct {
        const char *source, *file, *event, *error;
    } cases[] = {
        {"github", "issues.opened.json", "issues",
         "GitHub event 'issues' is not supported; supported events: workflow_run, workflow_job, "
         "check_suite, check_run, deployment, deployment_status, deployment_review, "
         "deployment_protection_rule, pull_request, pull_request_review, push, "
         "code_scanning_alert, release (and ping)"},
        {"gitlab", "note.json", "Note Hook",
         "GitLab event 'Note Hook' is not supported; supported events: Pipeline Hook, Job Hook, "
         "Deployment Hook, Merge Request Hook (including approvals), Push Hook"},
        {"jenkins", "deleted.json", NULL,
         "Jenkins build phase 'DELETED' is not supported; supported: the build phases QUEUED, "
         "STARTED, COMPLETED and FINALIZED"},
        {"servicenow", "problem.json", NULL,
         "ServiceNow table 'problem' is not supported; supported: change_request and incident "
         "records"},
        {"jira", "comment_created.json", NULL,
         "Jira event 'comment_created' is not supported; supported events: jira:issue_created, "
         "jira:issue_updated, jira:issue_deleted"},
        {"pagerduty", "service.created.json", NULL,
         "PagerDuty event 'service.created' is not supported; supported events: "
         "incident.triggered"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 0;
        char *body = s_fixture(cases[i].source, cases[i].file, &len);
        s_post_webhook(f, cases[i].source, cases[i].event, "d", body, len);
        if (f->r.status != 422 || !strstr(f->r.body, cases[i].error))
            fail_msg("%s: %u %s", cases[i].source, f->r.status, f->r.body);
        free(body);
    }
    /* JSON that is no webhook at all, and a GitHub delivery without its event */
    const char *odd = "[1,2,3]";
    s_post_webhook(f, "jira", NULL, "d", odd, strlen(odd));
    assert_int_equal(f->r.status, 422);
    assert_string_equal(f->r.body, "{\"error\":\"a jira webhook body must be a JSON object\"}");
    s_headers_t hs = {0};
    s_sign("github", "push", "d", "{}", 2, &hs);
    s_remove(&hs, "X-GitHub-Event");
    s_post(f, "/v1/webhooks/github", &hs, "{}", 2);
    assert_int_equal(f->r.status, 422);
    assert_non_null(strstr(f->r.body, "missing X-GitHub-Event header"));
    assert_int_equal(fake_ledger_size(f->ledger), 0);
}

static void a_truncated_body_is_400_or_401_and_an_oversized_one_413(void **state)
{
    s_fixture_t *f = *state;
    size_t len = 0;
    char *body = s_fixture("github", "pull_request.opened.json", &len);

    /* signed as sent: the signature holds, the JSON does not */
    s_post_webhook(f, "github", "pull_request", "d", body, len / 2);
    assert_int_equal(f->r.status, 400);
    assert_non_null(strstr(f->r.body, "{\"error\":\"the body is not valid JSON: line "));

    /* signed whole, cut in transit: the signature does not hold */
    s_headers_t hs = {0};
    s_sign("github", "pull_request", "d", body, len, &hs);
    s_post(f, "/v1/webhooks/github", &hs, body, len / 2);
    assert_int_equal(f->r.status, 401);

    /* an empty body */
    s_post_webhook(f, "jenkins", NULL, "d", "", 0);
    assert_int_equal(f->r.status, 400);
    assert_string_equal(f->r.body, "{\"error\":\"the request body is empty; a jenkins webhook "
                                   "sends a JSON body\"}");

    /* over ingest.max_body: refused before anything is checked or kept */
    size_t big_len = S_MAX_BODY + 1;
    char *big = malloc(big_len);
    memset(big, ' ', big_len);
    s_post_webhook(f, "github", "push", "d", big, big_len);
    assert_int_equal(f->r.status, 413);
    assert_non_null(strstr(f->r.body, "over the limit of 262144 bytes (ingest.max_body); raise "
                                      "ingest.max_body"));
    free(big);
    free(body);

    /* a body that is not JSON by its media type */
    s_headers_t form = {0};
    const char *payload = "payload=%7B%7D";
    s_sign("github", "push", "d", payload, strlen(payload), &form);
    snprintf(form.value[0], sizeof form.value[0], "application/x-www-form-urlencoded");
    s_post(f, "/v1/webhooks/github", &form, payload, strlen(payload));
    assert_int_equal(f->r.status, 415);
    assert_non_null(strstr(f->r.body, "configure the webhook to send application/json"));
    assert_int_equal(fake_ledger_size(f->ledger), 0);
}

/* Standard Webhooks headers for body at timestamp ts, signed with the
 * configured signing secret (or a wrong one). */
static void s_standard(s_headers_t *hs, const char *body, long long ts, bool wrong)
{
    uint8_t key[64], mac[crypto_auth_hmacsha256_BYTES];
    size_t key_len = 0;
    char signed_text[4096], b64[64];
    assert_int_equal(sodium_base642bin(key, sizeof key, s_signing_secret + 6,
                                       strlen(s_signing_secret + 6), NULL, &key_len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    if (wrong)
        key[0] ^= 1;
    snprintf(signed_text, sizeof signed_text, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W.%lld.%s", ts, body);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)signed_text, strlen(signed_text));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2base64(b64, sizeof b64, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    s_add(hs, "Content-Type", "application/json");
    s_add(hs, "X-Gitlab-Event", "Push Hook");
    s_add(hs, "webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
    s_add(hs, "webhook-timestamp", "%lld", ts);
    s_add(hs, "webhook-signature", "v1a,bm90IGNoZWNrZWQ= v1,%s", b64);
}

static void gitlab_signing_tokens_are_checked_with_a_five_minute_window(void **state)
{
    s_fixture_t *f = *state;
    size_t len = 0;
    char *body = s_fixture("gitlab", "push.json", &len);
    long long now = (long long)(cairn_now_ms() / 1000);

    s_headers_t ok = {0};
    s_standard(&ok, body, now - 60, false);
    s_post(f, "/v1/webhooks/gitlab", &ok, body, len);
    assert_int_equal(f->r.status, 202);
    char *key = NULL;
    Cairn__V1__Record *rec = s_entry(f, 0, &key);
    assert_string_equal(key, "gitlab:webhook-id:msg_2KWPBgLlAfxdpx2AI54pPJ85f4W");
    assert_string_equal(rec->event->authenticated_by, "webhook-signature");
    free(key);
    CAIRN_CODEC_FREE(&rec);

    s_headers_t old = {0};
    s_standard(&old, body, now - 400, false);
    s_post(f, "/v1/webhooks/gitlab", &old, body, len);
    assert_int_equal(f->r.status, 401);
    assert_non_null(strstr(f->r.body, "webhook-timestamp is 400 s away from this server's clock "
                                      "(at most 300 s allowed)"));

    s_headers_t bad = {0};
    s_standard(&bad, body, now, true);
    s_post(f, "/v1/webhooks/gitlab", &bad, body, len);
    assert_int_equal(f->r.status, 401);
    assert_non_null(strstr(f->r.body, "no v1 signature in webhook-signature matches the body"));

    /* a valid signature with a wrong legacy token is still refused */
    s_headers_t both = {0};
    s_standard(&both, body, now, false);
    s_add(&both, "X-Gitlab-Token", "not-the-token");
    s_post(f, "/v1/webhooks/gitlab", &both, body, len);
    assert_int_equal(f->r.status, 401);
    free(body);
}

static void an_unconfigured_source_is_accepted_only_when_allowed_unsigned(void **state)
{
    s_fixture_t *f = *state;
    char err[256];
    size_t len = 0;
    char *body = s_fixture("jenkins", "started.json", &len);
    s_headers_t hs = {0};
    s_add(&hs, "Content-Type", "application/json");

    cairn_ingest_auth_settings_t none = {0};
    cairn_ingest_auth_t *auth = NULL;
    assert_int_equal(cairn_ingest_auth_new(&none, &auth, err, sizeof err), 0);
    cairn_ingest_handler_t *strict = s_handler(f, auth);
    cairn_ingest_response_clear(&f->r);
    cairn_ingest_handler_handle(strict, "/v1/webhooks/jenkins", NULL, hs.h, hs.n, body, len, &f->r);
    assert_int_equal(f->r.status, 401);
    assert_string_equal(f->r.body, "{\"error\":\"webhooks from jenkins are refused: no secret is "
                                   "configured; configure ingest.jenkins_token or set "
                                   "ingest.allow_unsigned_jenkins: true\"}");
    cairn_ingest_handler_destroy(&strict);
    cairn_ingest_auth_destroy(&auth);

    cairn_ingest_auth_settings_t open = {.allow_unsigned_jenkins = true};
    assert_int_equal(cairn_ingest_auth_new(&open, &auth, err, sizeof err), 0);
    cairn_ingest_handler_t *lax = s_handler(f, auth);
    cairn_ingest_response_clear(&f->r);
    cairn_ingest_handler_handle(lax, "/v1/webhooks/jenkins", NULL, hs.h, hs.n, body, len, &f->r);
    assert_int_equal(f->r.status, 202);
    char *key = NULL;
    Cairn__V1__Record *rec = s_entry(f, 0, &key);
    assert_string_equal(rec->event->authenticated_by, "unsigned (ingest.allow_unsigned_jenkins)");
    free(key);
    CAIRN_CODEC_FREE(&rec);
    cairn_ingest_handler_destroy(&lax);
    cairn_ingest_auth_destroy(&auth);
    free(body);
}

static const char s_event[] = "{\"specversion\":\"1.0\",\"id\":\"t-1\",\"source\":\"/ci\","
                              "\"type\":\"com.example.t\",\"data\":{\"change\":\"CHG-1\"}}";

static void the_events_token_guards_http_but_not_the_submit_socket(void **state)
{
    s_fixture_t *f = *state;
    s_headers_t none = {0}, wrong = {0}, right = {0};
    s_add(&none, "Content-Type", "application/cloudevents+json");
    s_post(f, "/v1/events", &none, s_event, strlen(s_event));
    assert_int_equal(f->r.status, 401);
    assert_non_null(strstr(f->r.body, "configured as ingest.events_token"));

    s_add(&wrong, "Content-Type", "application/cloudevents+json");
    s_add(&wrong, "Authorization", "Bearer nope");
    s_post(f, "/v1/events", &wrong, s_event, strlen(s_event));
    assert_int_equal(f->r.status, 401);

    s_add(&right, "Content-Type", "application/cloudevents+json");
    s_add(&right, "Authorization", "Bearer %s", s_events_token);
    s_post(f, "/v1/events", &right, s_event, strlen(s_event));
    assert_int_equal(f->r.status, 202);
    char *key = NULL;
    Cairn__V1__Record *rec = s_entry(f, 0, &key);
    Cairn__V1__Event *ev = rec->event;
    assert_string_equal(key, "ce:/ci\nt-1");
    assert_string_equal(ev->idempotency_key, key);
    assert_string_equal(ev->authenticated_by, "authorization-bearer");
    /* structured mode keeps the body as sent, and no Authorization header */
    assert_int_equal(ev->raw_body.len, strlen(s_event));
    assert_memory_equal(ev->raw_body.data, s_event, strlen(s_event));
    assert_int_equal(ev->n_raw_headers, 1);
    assert_string_equal(ev->raw_headers[0]->key, "content-type");
    free(key);
    CAIRN_CODEC_FREE(&rec);

    /* the submit socket is access-controlled itself */
    cairn_ingest_response_clear(&f->r);
    const char *other =
        "{\"specversion\":\"1.0\",\"id\":\"t-2\",\"source\":\"/ci\",\"type\":\"t\"}";
    cairn_ingest_handler_handle_bus(f->handler, "/v1/events", "application/cloudevents+json", NULL,
                                    0, other, strlen(other), &f->r);
    assert_int_equal(f->r.status, 202);
}

/* Tekton sends binary-mode CloudEvents to /v1/events. */
static void tekton_runs_become_build_and_job_evidence(void **state)
{
    s_fixture_t *f = *state;
    static const struct {
        const char *file, *type;
        const char *const expect[16];
    } cases[] = {
        {"pipelinerun.successful.json",
         "dev.tekton.event.pipelinerun.successful.v1",
         {"evidence.kind=build", "evidence.outcome=success", "correlation.change_id=CHG-1",
          "correlation.commit_sha=" SHA, "correlation.repository=acme/payments",
          "correlation.environment=staging", "correlation.service=payments",
          "correlation.inferred=commit_sha,repository,environment", "subject=payments-build-42",
          "ingest_source=cloudevents", NULL}},
        {"taskrun.failed.json",
         "dev.tekton.event.taskrun.failed.v1",
         {"evidence.kind=job", "evidence.outcome=failure", "correlation.commit_sha=" SHA,
          "correlation.inferred=commit_sha", "subject=payments-build-42-unit-tests", NULL}},
    };
    for (size_t i = 0; i < 2; i++) {
        size_t len = 0;
        char *body = s_fixture("tekton", cases[i].file, &len);
        s_headers_t hs = {0};
        s_add(&hs, "Content-Type", "application/json");
        s_add(&hs, "Authorization", "Bearer %s", s_events_token);
        s_add(&hs, "Ce-Specversion", "1.0");
        s_add(&hs, "Ce-Id", "tekton-%zu", i);
        s_add(&hs, "Ce-Source", "/apis///namespaces/ci//runs/payments-build-42");
        s_add(&hs, "Ce-Type", "%s", cases[i].type);
        s_post(f, "/v1/events", &hs, body, len);
        if (f->r.status != 202)
            fail_msg("%s: %u %s", cases[i].file, f->r.status, f->r.body);
        char *key = NULL;
        Cairn__V1__Record *rec = s_entry(f, i, &key);
        s_expect(rec->event, cases[i].expect, cases[i].file);
        assert_int_equal(rec->event->raw_body.len, 0); /* the data is the body */
        free(key);
        CAIRN_CODEC_FREE(&rec);
        free(body);
    }
}

/* The strict JSON rules hold for webhook bodies (json_body.h), and ids
 * that arrive as JSON integers keep every digit. */
static void webhook_bodies_are_read_strictly_and_ids_exactly(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *why; /* NULL: accepted */
        const char *subject;
    } cases[] = {
        {"{\"zen\":\"a\",\"hook_id\":1,\"zen\":\"b\"}", "the key 'zen' twice", NULL},
        {"{\"zen\":\"\xc0\xa0\",\"hook_id\":1}", "invalid UTF-8", NULL},
        {"{\"zen\":\"a\\u0000b\",\"hook_id\":1}", "\\u0000", NULL},
        {"{\"zen\":\"a\",\"hook_id\":9007199254740991}", NULL, "9007199254740991"},
        {"{\"zen\":\"a\",\"hook_id\":123456789012}", NULL, "123456789012"},
        {"{\"zen\":\"a\",\"hook_id\":\"77\"}", NULL, "77"},
    };
    const cairn_ingest_header_t headers[] = {{"X-GitHub-Event", "ping"},
                                             {"X-GitHub-Delivery", "d-1"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Cairn__V1__Event *ev = NULL;
        char key[256], err[512] = "";
        int rc =
            cairn_webhook_build("github", headers, 2, "application/json", cases[i].body,
                                strlen(cases[i].body), "00", &ev, key, sizeof key, err, sizeof err);
        if (cases[i].why) {
            assert_int_equal(rc, CAIRN_EPARSE);
            if (!strstr(err, cases[i].why) || !strstr(err, "the body is not valid JSON"))
                fail_msg("case %zu: %s", i, err);
            assert_null(ev);
            continue;
        }
        if (rc != 0)
            fail_msg("case %zu: %s", i, err);
        assert_string_equal(ev->type, "com.github.ping");
        assert_string_equal(ev->subject, cases[i].subject);
        cairn_cloudevent_free(&ev);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, s_setup, s_teardown)
    const struct CMUnitTest tests[] = {
        T(every_fixture_is_accepted_with_its_canonical_fields),
        T(the_idempotency_key_is_the_sources_delivery_id),
        T(a_redelivery_is_200_duplicate_for_every_source),
        T(a_wrong_or_missing_signature_is_401_for_every_source),
        T(an_unknown_event_is_422_naming_the_supported_events),
        T(a_truncated_body_is_400_or_401_and_an_oversized_one_413),
        T(gitlab_signing_tokens_are_checked_with_a_five_minute_window),
        T(an_unconfigured_source_is_accepted_only_when_allowed_unsigned),
        T(the_events_token_guards_http_but_not_the_submit_socket),
        T(tekton_runs_become_build_and_job_evidence),
        cmocka_unit_test(webhook_bodies_are_read_strictly_and_ids_exactly),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
