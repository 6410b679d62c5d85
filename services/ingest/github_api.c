/* Answering GitHub's deployment protection rule callback (see
 * github_api.h): the path check, the body, and the libcurl POST. */
#include "github_api.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "secret.h"

#define S_PREFIX "/repos/"
#define S_SUFFIX "/deployment_protection_rule"

/* GitHub owner and repository names: letters, digits, '-', '_', '.'. */
static bool s_name(const char *p, size_t n)
{
    if (n == 0 || n > 100 || (n <= 2 && p[0] == '.'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static bool s_digits(const char *p, size_t n)
{
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

int cairn_github_callback_path(const char *callback_url, char *out, size_t outlen, char *err,
                               size_t errlen)
{
    const char *path = callback_url ? strstr(callback_url, S_PREFIX) : NULL;
    if (!path)
        goto bad;
    /* /repos/<owner>/<repo>/actions/runs/<id>/deployment_protection_rule */
    const char *owner = path + strlen(S_PREFIX);
    const char *slash = strchr(owner, '/');
    if (!slash || !s_name(owner, (size_t)(slash - owner)))
        goto bad;
    const char *repo = slash + 1;
    slash = strchr(repo, '/');
    if (!slash || !s_name(repo, (size_t)(slash - repo)))
        goto bad;
    const char *rest = slash;
    if (strncmp(rest, "/actions/runs/", 14) != 0)
        goto bad;
    const char *run = rest + 14;
    slash = strchr(run, '/');
    if (!slash || !s_digits(run, (size_t)(slash - run)) || strcmp(slash, S_SUFFIX) != 0)
        goto bad;
    if ((size_t)snprintf(out, outlen, "%s", path) >= outlen)
        goto bad;
    return 0;
bad:
    snprintf(err, errlen,
             "deployment_callback_url '%.200s' is not a GitHub deployment protection rule "
             "callback (.../repos/<owner>/<repo>/actions/runs/<id>/deployment_protection_rule)",
             callback_url ? callback_url : "");
    return CAIRN_EINVALID;
}

char *cairn_github_review_body(const char *environment, bool approved, const char *comment)
{
    json_t *body =
        json_pack("{s:s,s:s,s:s}", "environment_name", environment ? environment : "", "state",
                  approved ? "approved" : "rejected", "comment", comment ? comment : "");
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return text;
}

/* libcurl's progress callback: a nonzero answer aborts the transfer. */
static int s_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                      curl_off_t ulnow)
{
    const atomic_bool *stop = arg;
    return stop && atomic_load(stop) ? 1 : 0;
}

/* The response body is not needed; libcurl must not print it. */
static size_t s_discard(char *data, size_t size, size_t n, void *arg)
{
    return size * n;
}

int cairn_github_post(const char *api_url, const char *path, const char *token_key,
                      const char *token_spec, const char *body, long timeout_ms,
                      const atomic_bool *stop, long *status_out, char *err, size_t errlen)
{
    cairn_secret_t *token = NULL;
    CURL *curl = NULL;
    struct curl_slist *headers = NULL;
    char *auth = NULL, *url = NULL;
    size_t auth_len = 0;
    int rc = cairn_secret_load(token_key, token_spec, &token, err, errlen);
    if (rc < 0)
        return rc;
    if (!token) {
        snprintf(err, errlen, "%s is empty; set it to a GitHub App installation token", token_key);
        return CAIRN_ECONFIG;
    }
    size_t base_len = strlen(api_url);
    while (base_len > 0 && api_url[base_len - 1] == '/')
        base_len--;
    url = malloc(base_len + strlen(path) + 1);
    auth_len = sizeof "Authorization: Bearer " + cairn_secret_len(token);
    auth = malloc(auth_len);
    curl = curl_easy_init();
    if (!url || !auth || !curl) {
        snprintf(err, errlen, "ingest ran out of memory while answering GitHub");
        rc = -ENOMEM;
        goto out;
    }
    memcpy(url, api_url, base_len);
    strcpy(url + base_len, path);
    int n = snprintf(auth, auth_len, "Authorization: Bearer %.*s", (int)cairn_secret_len(token),
                     (const char *)cairn_secret_data(token));
    if (n < 0 || (size_t)n >= auth_len ||
        memchr(cairn_secret_data(token), '\n', cairn_secret_len(token))) {
        snprintf(err, errlen, "%s holds a line break; it must be the token alone", token_key);
        rc = CAIRN_ECONFIG;
        goto out;
    }
    struct curl_slist *h = headers;
    const char *fixed[] = {"Accept: application/vnd.github+json",
                           "X-GitHub-Api-Version: 2022-11-28", "Content-Type: application/json",
                           auth};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        h = curl_slist_append(headers, fixed[i]);
        if (!h) {
            rc = -ENOMEM;
            snprintf(err, errlen, "ingest ran out of memory while answering GitHub");
            goto out;
        }
        headers = h;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "cairn-ingest");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, s_discard);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, s_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)stop);
    CURLcode cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "cannot reach GitHub at %s (%s)", api_url,
                 cc == CURLE_ABORTED_BY_CALLBACK ? "ingest is stopping" : curl_easy_strerror(cc));
        rc = CAIRN_EUNREACHABLE;
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status_out);
    rc = 0;
out:
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (auth) {
        sodium_memzero(auth, auth_len);
        free(auth);
    }
    free(url);
    cairn_secret_destroy(&token);
    return rc;
}
