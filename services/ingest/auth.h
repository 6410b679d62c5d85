/* Authentication of ingest requests, one scheme per source, always over the
 * raw body bytes as received and always compared in constant time:
 *
 *   github      X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>
 *   gitlab      X-Gitlab-Token: <token>, and/or Standard Webhooks
 *               (webhook-id, webhook-timestamp within 5 minutes,
 *               webhook-signature: v1,<base64 HMAC-SHA256(key, id.ts.body)>)
 *   pagerduty   X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...] (any may match)
 *   jira        X-Hub-Signature: sha256=<hex>
 *   jenkins, servicenow, events
 *               Authorization: Bearer <token> (or Basic with the token as
 *               the password, for senders that can only put user:password
 *               in a URL)
 *
 * A webhook source with no credential configured is refused unless its
 * allow_unsigned flag is set; /v1/events ("events") is open unless
 * ingest.events_token is set. Refusals carry a sentence saying what to fix,
 * naming configuration keys and headers, never secret values. */
#ifndef CAIRN_INGEST_AUTH_H
#define CAIRN_INGEST_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "headers.h"

/* Allowed distance between webhook-timestamp and this server's clock. */
#define CAIRN_INGEST_AUTH_TOLERANCE_S 300

/* Secret specs as configured ("" = none; else literal, file:/path, env:NAME). */
typedef struct {
    const char *events_token;          /* ingest.events_token */
    const char *github_secret;         /* ingest.github_secret */
    const char *gitlab_token;          /* ingest.gitlab_token */
    const char *gitlab_signing_secret; /* ingest.gitlab_signing_secret */
    const char *pagerduty_secret;      /* ingest.pagerduty_secret */
    const char *jira_secret;           /* ingest.jira_secret */
    const char *jenkins_token;         /* ingest.jenkins_token */
    const char *servicenow_token;      /* ingest.servicenow_token */
    bool allow_unsigned_github;        /* ingest.allow_unsigned_github */
    bool allow_unsigned_gitlab;        /* ingest.allow_unsigned_gitlab */
    bool allow_unsigned_pagerduty;     /* ingest.allow_unsigned_pagerduty */
    bool allow_unsigned_jira;          /* ingest.allow_unsigned_jira */
    bool allow_unsigned_jenkins;       /* ingest.allow_unsigned_jenkins */
    bool allow_unsigned_servicenow;    /* ingest.allow_unsigned_servicenow */
} cairn_ingest_auth_settings_t;

typedef struct cairn_ingest_auth_t cairn_ingest_auth_t;

/* Resolves every secret. A secret that cannot be resolved (unreadable file,
 * unset variable, a signing secret that is not base64) is CAIRN_ECONFIG
 * with a sentence in err naming the key. */
int cairn_ingest_auth_new(const cairn_ingest_auth_settings_t *settings, cairn_ingest_auth_t **out,
                          char *err, size_t errlen);

/* Wipes the secrets and frees (NULL-safe, sets *self_p to NULL). */
void cairn_ingest_auth_destroy(cairn_ingest_auth_t **self_p);

/* Authenticates one request for source ("github", "gitlab", "pagerduty",
 * "jira", "jenkins", "servicenow" or "events"). now_ms is the server's clock
 * (Unix ms). On success returns 0 and writes how the request was
 * authenticated into how (e.g. "x-hub-signature-256", "none"); otherwise
 * CAIRN_EINVALID (answer 401) with the reason in err, or -ENOMEM when a
 * signature could not be computed. self may be NULL:
 * nothing is configured then. */
int cairn_ingest_auth_check(const cairn_ingest_auth_t *self, const char *source,
                            const cairn_ingest_header_t *headers, size_t n, const void *body,
                            size_t len, int64_t now_ms, char *how, size_t howlen, char *err,
                            size_t errlen);

#endif
