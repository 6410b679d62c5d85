/* Answering GitHub: the one outbound call ingest makes, the review of a
 * custom deployment protection rule
 *   POST {ingest.github_api_url}/repos/{owner}/{repo}/actions/runs/{run}/deployment_protection_rule
 *   {"environment_name": ..., "state": "approved"|"rejected", "comment": ...}
 * with libcurl, authenticated by ingest.github_token (a GitHub App
 * installation token: literal, file:/path or env:NAME, read again for every
 * call so a token refreshed on disk is picked up).
 *
 * The request goes to the configured API base, never to a host named in a
 * payload: only the /repos/... path is taken from the event's
 * deployment_callback_url, and only when it has exactly that shape, so the
 * token cannot be sent anywhere else. */
#ifndef CAIRN_INGEST_GITHUB_API_H
#define CAIRN_INGEST_GITHUB_API_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* The "/repos/<owner>/<repo>/actions/runs/<id>/deployment_protection_rule"
 * part of a deployment_callback_url. CAIRN_EINVALID (with a sentence in
 * err) for a URL without it or with anything else in its path. */
int cairn_github_callback_path(const char *callback_url, char *out, size_t outlen, char *err,
                               size_t errlen);

/* The JSON body of a review: {"environment_name","state","comment"}
 * (malloc'd; NULL when out of memory). */
char *cairn_github_review_body(const char *environment, bool approved, const char *comment);

/* POSTs body (JSON) to api_url + path with the token of token_spec for
 * config key token_key. Returns 0 and the HTTP status in *status_out when
 * GitHub answered (any status), or a negative code with a sentence in err:
 * CAIRN_ECONFIG (the token cannot be read), CAIRN_EUNREACHABLE (no
 * connection, timeout, or *stop became true). Never writes the token to err. */
int cairn_github_post(const char *api_url, const char *path, const char *token_key,
                      const char *token_spec, const char *body, long timeout_ms,
                      const atomic_bool *stop, long *status_out, char *err, size_t errlen);

#endif
