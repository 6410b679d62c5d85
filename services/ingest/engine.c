/* The ingest engine: wires configuration to the handler, the HTTP server and
 * the submit socket, and runs the submit loop. */
#include "engine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/signals.h"
#include "handler.h"
#include "http.h"
#include "protection.h"
#include "secret.h"
#include "submit.h"

/* Upper bound on one wait, so SIGTERM is noticed promptly. */
#define S_POLL_MS 200

struct cairn_ingest_t {
    cairn_ingest_auth_t *auth;       /* webhook secrets and tokens */
    cairn_ingest_handler_t *handler; /* shared by HTTP and submit */
    cairn_ingest_protection_t *protection; /* answers GitHub protection rules, or NULL */
    cairn_ingest_http_t *http;       /* HTTP server (own threads) */
    cairn_ingest_submit_t *submit;   /* ZeroMQ submit socket (run thread) */
};

static cairn_ingest_auth_settings_t s_auth_settings(const cairn_config_t *config)
{
    cairn_ingest_auth_settings_t as = {
        .events_token = cairn_config_str(config, "ingest.events_token"),
        .github_secret = cairn_config_str(config, "ingest.github_secret"),
        .gitlab_token = cairn_config_str(config, "ingest.gitlab_token"),
        .gitlab_signing_secret = cairn_config_str(config, "ingest.gitlab_signing_secret"),
        .pagerduty_secret = cairn_config_str(config, "ingest.pagerduty_secret"),
        .jira_secret = cairn_config_str(config, "ingest.jira_secret"),
        .jenkins_token = cairn_config_str(config, "ingest.jenkins_token"),
        .servicenow_token = cairn_config_str(config, "ingest.servicenow_token"),
        .allow_unsigned_github = cairn_config_bool(config, "ingest.allow_unsigned_github"),
        .allow_unsigned_gitlab = cairn_config_bool(config, "ingest.allow_unsigned_gitlab"),
        .allow_unsigned_pagerduty = cairn_config_bool(config, "ingest.allow_unsigned_pagerduty"),
        .allow_unsigned_jira = cairn_config_bool(config, "ingest.allow_unsigned_jira"),
        .allow_unsigned_jenkins = cairn_config_bool(config, "ingest.allow_unsigned_jenkins"),
        .allow_unsigned_servicenow = cairn_config_bool(config, "ingest.allow_unsigned_servicenow"),
    };
    return as;
}

int cairn_ingest_check_config(const cairn_config_t *config, char *err, size_t errlen)
{
    cairn_ingest_auth_settings_t as = s_auth_settings(config);
    cairn_ingest_auth_t *auth = NULL;
    cairn_secret_t *token = NULL;
    int rc = cairn_ingest_auth_new(&as, &auth, err, errlen);
    cairn_ingest_auth_destroy(&auth);
    if (rc == 0)
        rc = cairn_secret_load("ingest.github_token", cairn_config_str(config, "ingest.github_token"),
                               &token, err, errlen);
    cairn_secret_destroy(&token);
    const char *api = cairn_config_str(config, "ingest.github_api_url");
    if (rc == 0 && strncmp(api, "https://", 8) != 0 && strncmp(api, "http://", 7) != 0) {
        snprintf(err, errlen, "ingest.github_api_url must be an http:// or https:// URL, got '%s'",
                 api);
        rc = CAIRN_ECONFIG;
    }
    const char *gate = cairn_config_str(config, "ingest.github_gate");
    if (rc == 0 && !*gate) {
        snprintf(err, errlen, "ingest.github_gate is empty; name the policy gate GitHub "
                              "deployments must pass (e.g. deployment)");
        rc = CAIRN_ECONFIG;
    }
    return rc;
}

/* Starts answering GitHub deployment protection rules when a token is set. */
static int s_start_protection(cairn_ingest_t *self, const cairn_config_t *config)
{
    char state_dir[4096];
    const char *token = cairn_config_str(config, "ingest.github_token");
    if (!*token) {
        CAIRN_INFO("github deployment protection rules are recorded, not answered",
                   "hint=%s", cairn_log_quote("set ingest.github_token to answer them"));
        return 0;
    }
    snprintf(state_dir, sizeof state_dir, "%s/ingest/protection",
             cairn_config_str(config, "cairn.data_dir"));
    cairn_ingest_protection_settings_t ps = {
        .state_dir = state_dir,
        .policy_endpoint = cairn_config_str(config, "bus.policy_query"),
        .policy_partitions = cairn_config_str(config, "policy.partition_endpoints"),
        .ledger_stream = cairn_config_str(config, "bus.ledger_stream"),
        .request_timeout_ms = (int)cairn_config_int(config, "bus.request_timeout"),
        .gate = cairn_config_str(config, "ingest.github_gate"),
        .timeout_ms = cairn_config_int(config, "ingest.github_protection_timeout"),
        .api_url = cairn_config_str(config, "ingest.github_api_url"),
        .token_spec = token,
        .recorder = cairn_ingest_handler_recorder(self->handler),
    };
    int rc = cairn_ingest_protection_new(&ps, &self->protection);
    if (rc < 0) {
        CAIRN_ERROR("cannot start answering github deployment protection rules",
                    "state_dir=%s error=%s", cairn_log_quote(state_dir),
                    cairn_log_quote(cairn_strerror(rc)));
        return rc;
    }
    cairn_ingest_handler_set_protection(self->handler, self->protection);
    CAIRN_INFO("answering github deployment protection rules", "gate=%s api=%s timeout_ms=%" PRId64,
               cairn_log_quote(ps.gate), cairn_log_quote(ps.api_url), ps.timeout_ms);
    return 0;
}

static const char *s_protection(const char *secret, const char *other, bool allow)
{
    return *secret || *other ? "secret" : allow ? "unsigned" : "refused";
}

/* Resolves the webhook secrets (ingest.*_secret, ingest.*_token) and the
 * allow_unsigned switches. Never logs a secret: only which sources are
 * protected. */
static int s_auth(const cairn_config_t *config, cairn_ingest_auth_t **out)
{
    char err[512] = "";
    cairn_ingest_auth_settings_t as = s_auth_settings(config);
    int rc = cairn_ingest_auth_new(&as, out, err, sizeof err);
    if (rc < 0) {
        CAIRN_ERROR("cannot load webhook secrets", "error=%s", cairn_log_quote(err));
        return rc;
    }
    CAIRN_INFO("webhook authentication",
               "events=%s github=%s gitlab=%s jenkins=%s servicenow=%s jira=%s pagerduty=%s",
               *as.events_token ? "token" : "open",
               s_protection(as.github_secret, "", as.allow_unsigned_github),
               s_protection(as.gitlab_token, as.gitlab_signing_secret, as.allow_unsigned_gitlab),
               s_protection(as.jenkins_token, "", as.allow_unsigned_jenkins),
               s_protection(as.servicenow_token, "", as.allow_unsigned_servicenow),
               s_protection(as.jira_secret, "", as.allow_unsigned_jira),
               s_protection(as.pagerduty_secret, "", as.allow_unsigned_pagerduty));
    return 0;
}

cairn_ingest_t *cairn_ingest_new(const cairn_config_t *config)
{
    char reject_dir[4096], spool_dir[4096];
    const char *address = cairn_config_str(config, "ingest.http_address");
    int port = (int)cairn_config_int(config, "ingest.http_port");
    const char *submit = cairn_config_str(config, "bus.ingest_submit");
    int rc;
    cairn_ingest_t *self = calloc(1, sizeof *self);
    if (!self) {
        CAIRN_ERROR("cannot start ingest", "error=%s", cairn_log_quote(cairn_strerror(-ENOMEM)));
        return NULL;
    }
    snprintf(reject_dir, sizeof reject_dir, "%s/ingest/rejected",
             cairn_config_str(config, "cairn.data_dir"));
    snprintf(spool_dir, sizeof spool_dir, "%s/ingest/spool",
             cairn_config_str(config, "cairn.data_dir"));
    if (s_auth(config, &self->auth) < 0)
        goto fail;
    cairn_ingest_handler_settings_t hs = {
        .ledger_endpoint = cairn_config_str(config, "bus.ledger_api"),
        .ledger_timeout_ms = (int)cairn_config_int(config, "bus.request_timeout"),
        .max_body = (size_t)cairn_config_int(config, "ingest.max_body"),
        .reject_dir = reject_dir,
        .spool_dir = spool_dir,
        .spool_max = (uint64_t)cairn_config_int(config, "ingest.spool_max"),
        .spool_max_bytes = (uint64_t)cairn_config_int(config, "ingest.spool_max_size"),
        .max_inflight = (uint64_t)cairn_config_int(config, "ingest.max_inflight"),
        .auth = self->auth,
    };
    if (!(self->handler = cairn_ingest_handler_new(&hs))) {
        CAIRN_ERROR("cannot start ingest", "reject_dir=%s spool_dir=%s error=%s",
                    cairn_log_quote(reject_dir), cairn_log_quote(spool_dir),
                    cairn_log_quote("cannot create the directory for rejected bodies or open "
                                    "the spool"));
        goto fail;
    }
    if (s_start_protection(self, config) < 0)
        goto fail;
    cairn_ingest_http_settings_t ws = {
        .address = address,
        .port = port,
        .threads = (unsigned)cairn_config_int(config, "ingest.threads"),
        .request_timeout_ms = (int)cairn_config_int(config, "ingest.request_timeout"),
        .max_header = (size_t)cairn_config_int(config, "ingest.max_header"),
        .max_connections = (unsigned)cairn_config_int(config, "ingest.max_connections"),
        .max_request_time_ms = cairn_config_int(config, "ingest.max_request_time"),
    };
    if ((rc = cairn_ingest_http_new(&ws, self->handler, &self->http)) < 0) {
        CAIRN_ERROR(
            "cannot start the HTTP server", "address=%s port=%d error=%s hint=%s",
            cairn_log_quote(address), port, cairn_log_quote(cairn_strerror(rc)),
            cairn_log_quote("set ingest.http_address / ingest.http_port to a free address"));
        goto fail;
    }
    if ((rc = cairn_ingest_submit_new(submit, self->handler, &self->submit)) < 0) {
        CAIRN_ERROR("cannot bind the submit socket", "endpoint=%s error=%s",
                    cairn_log_quote(submit), cairn_log_quote(cairn_strerror(rc)));
        goto fail;
    }
    CAIRN_INFO("ingest started", "http=%s:%u submit=%s ledger=%s max_body=%zu", address,
               (unsigned)cairn_ingest_http_port(self->http), cairn_log_quote(submit),
               cairn_log_quote(hs.ledger_endpoint), hs.max_body);
    return self;
fail:
    cairn_ingest_destroy(&self);
    return NULL;
}

void cairn_ingest_destroy(cairn_ingest_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ingest_t *self = *self_p;
    /* HTTP first: its threads use the handler until they are joined. */
    cairn_ingest_http_destroy(&self->http);
    cairn_ingest_submit_destroy(&self->submit);
    /* The protection worker records its answers through the handler's recorder. */
    cairn_ingest_protection_destroy(&self->protection);
    cairn_ingest_handler_destroy(&self->handler);
    cairn_ingest_auth_destroy(&self->auth);
    free(self);
    *self_p = NULL;
}

int cairn_ingest_run_once(cairn_ingest_t *self, int timeout_ms)
{
    return cairn_ingest_submit_serve_once(self->submit, timeout_ms);
}

int cairn_ingest_run(cairn_ingest_t *self)
{
    while (!cairn_signals_stop_requested()) {
        int rc = cairn_ingest_run_once(self, S_POLL_MS);
        if (rc < 0) {
            CAIRN_ERROR("submit socket failed", "error=%s", cairn_log_quote(cairn_strerror(rc)));
            return rc;
        }
    }
    return 0;
}

uint16_t cairn_ingest_port(const cairn_ingest_t *self)
{
    return cairn_ingest_http_port(self->http);
}
