/* Authentication of ingest requests (see auth.h). Every comparison runs in
 * constant time with sodium_memcmp: HMACs are compared as 32 raw bytes after
 * decoding the sender's hex or base64, and tokens are compared through their
 * SHA-256 digests so that not even their length leaks. */
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/error.h"
#include "digest.h"
#include "secret.h"

#define S_MAC_BYTES crypto_auth_hmacsha256_BYTES

/* The credentials of one source. */
typedef struct {
    const char *name;        /* "github", ...; "events" for /v1/events */
    cairn_secret_t *secret;  /* HMAC key or token; NULL when not configured */
    cairn_secret_t *signing; /* gitlab only: Standard Webhooks key (decoded) */
    bool allow_unsigned;     /* accept without a configured credential */
    cairn_ingest_hmac_key_t *secret_mac;  /* secret keyed once for HMACs, or NULL */
    cairn_ingest_hmac_key_t *signing_mac; /* signing keyed once for HMACs, or NULL */
} s_source_t;

enum { S_EVENTS, S_GITHUB, S_GITLAB, S_PAGERDUTY, S_JIRA, S_JENKINS, S_SERVICENOW, S_NSOURCES };

struct cairn_ingest_auth_t {
    s_source_t sources[S_NSOURCES]; /* indexed by the enum above */
};

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int s_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return CAIRN_EINVALID;
}

static void s_how(char *how, size_t howlen, const char *text)
{
    if (how && howlen)
        snprintf(how, howlen, "%s", text);
}

/* Standard Webhooks keys are "whsec_" + base64; a bare base64 string is
 * taken the same way, and anything else is used as raw bytes. */
static int s_signing_key(const cairn_secret_t *secret, cairn_secret_t **out, char *err,
                         size_t errlen)
{
    const char *text = (const char *)cairn_secret_data(secret);
    size_t len = cairn_secret_len(secret);
    bool prefixed = len > 6 && strncmp(text, "whsec_", 6) == 0;
    if (prefixed) {
        text += 6;
        len -= 6;
    }
    uint8_t *bin = sodium_malloc(len + 1);
    if (!bin)
        return -ENOMEM;
    size_t bin_len = 0;
    const char *end = NULL;
    int ok = sodium_base642bin(bin, len + 1, text, len, NULL, &bin_len, &end,
                               sodium_base64_VARIANT_ORIGINAL);
    int rc;
    if (ok == 0 && end == text + len && bin_len > 0)
        rc = cairn_secret_from_bytes(bin, bin_len, out);
    else if (prefixed)
        rc = s_fail(err, errlen,
                    "ingest.gitlab_signing_secret starts with 'whsec_' but the rest is not "
                    "base64; copy the signing token exactly as GitLab shows it");
    else
        rc = cairn_secret_from_bytes(cairn_secret_data(secret), cairn_secret_len(secret), out);
    sodium_free(bin);
    return rc == CAIRN_EINVALID ? CAIRN_ECONFIG : rc;
}

int cairn_ingest_auth_new(const cairn_ingest_auth_settings_t *s, cairn_ingest_auth_t **out,
                          char *err, size_t errlen)
{
    const struct {
        const char *name, *key, *spec;
        bool allow;
    } table[S_NSOURCES] = {
        [S_EVENTS] = {"events", "ingest.events_token", s->events_token, true},
        [S_GITHUB] = {"github", "ingest.github_secret", s->github_secret, s->allow_unsigned_github},
        [S_GITLAB] = {"gitlab", "ingest.gitlab_token", s->gitlab_token, s->allow_unsigned_gitlab},
        [S_PAGERDUTY] = {"pagerduty", "ingest.pagerduty_secret", s->pagerduty_secret,
                         s->allow_unsigned_pagerduty},
        [S_JIRA] = {"jira", "ingest.jira_secret", s->jira_secret, s->allow_unsigned_jira},
        [S_JENKINS] = {"jenkins", "ingest.jenkins_token", s->jenkins_token,
                       s->allow_unsigned_jenkins},
        [S_SERVICENOW] = {"servicenow", "ingest.servicenow_token", s->servicenow_token,
                          s->allow_unsigned_servicenow},
    };
    cairn_secret_t *raw_signing = NULL;
    int rc = sodium_init() < 0 ? CAIRN_ECRYPTO : 0;
    cairn_ingest_auth_t *self = rc == 0 ? calloc(1, sizeof *self) : NULL;
    if (rc == 0 && !self)
        rc = -ENOMEM;
    for (size_t i = 0; rc == 0 && i < S_NSOURCES; i++) {
        self->sources[i].name = table[i].name;
        self->sources[i].allow_unsigned = table[i].allow;
        rc = cairn_secret_load(table[i].key, table[i].spec, &self->sources[i].secret, err, errlen);
    }
    if (rc == 0)
        rc = cairn_secret_load("ingest.gitlab_signing_secret", s->gitlab_signing_secret,
                               &raw_signing, err, errlen);
    if (rc == 0 && raw_signing)
        rc = s_signing_key(raw_signing, &self->sources[S_GITLAB].signing, err, errlen);
    cairn_secret_destroy(&raw_signing);
    /* Secrets that sign bodies are keyed once, not per request. */
    for (size_t i = 0; rc == 0 && i < S_NSOURCES; i++) {
        s_source_t *src = &self->sources[i];
        if (src->secret && (i == S_GITHUB || i == S_PAGERDUTY || i == S_JIRA))
            rc = cairn_ingest_hmac_key_new(cairn_secret_data(src->secret),
                                           cairn_secret_len(src->secret), &src->secret_mac);
        if (rc == 0 && src->signing)
            rc = cairn_ingest_hmac_key_new(cairn_secret_data(src->signing),
                                           cairn_secret_len(src->signing), &src->signing_mac);
    }
    if (rc < 0) {
        if (rc == -ENOMEM)
            s_fail(err, errlen, "out of memory while loading webhook secrets");
        cairn_ingest_auth_destroy(&self);
        return rc;
    }
    *out = self;
    return 0;
}

void cairn_ingest_auth_destroy(cairn_ingest_auth_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_ingest_auth_t *self = *self_p;
    for (size_t i = 0; i < S_NSOURCES; i++) {
        cairn_secret_destroy(&self->sources[i].secret);
        cairn_secret_destroy(&self->sources[i].signing);
        cairn_ingest_hmac_key_destroy(&self->sources[i].secret_mac);
        cairn_ingest_hmac_key_destroy(&self->sources[i].signing_mac);
    }
    free(self);
    *self_p = NULL;
}

/* --- primitives --------------------------------------------------------- */

/* HMAC-SHA256 of parts[0..n) under a secret, with its keyed HMAC when
 * there is one (digest.h); 0 or -ENOMEM. */
static int s_hmac_parts(const cairn_secret_t *key, cairn_ingest_hmac_key_t *keyed,
                        const cairn_ingest_span_t *parts, size_t n, uint8_t mac[S_MAC_BYTES])
{
    if (keyed)
        return cairn_ingest_hmac_key_sha256(keyed, parts, n, mac);
    return cairn_ingest_hmac_sha256(cairn_secret_data(key), cairn_secret_len(key), parts, n, mac);
}

/* HMAC-SHA256 of the body under the source's secret; 0 or -ENOMEM. */
static int s_hmac(const s_source_t *src, const void *body, size_t len, uint8_t mac[S_MAC_BYTES])
{
    cairn_ingest_span_t part = {body, len};
    return s_hmac_parts(src->secret, src->secret_mac, &part, 1, mac);
}

/* Decodes exactly 64 hex digits (either case) of hex[0..len) into mac. */
static bool s_hex_mac(const char *hex, size_t len, uint8_t mac[S_MAC_BYTES])
{
    size_t bin_len = 0;
    const char *end = NULL;
    if (len != 2 * S_MAC_BYTES)
        return false;
    return sodium_hex2bin(mac, S_MAC_BYTES, hex, len, NULL, &bin_len, &end) == 0 &&
           bin_len == S_MAC_BYTES && end == hex + len;
}

/* "sha256=<hex>" as GitHub and Jira send it. */
static int s_check_sha256_header(const s_source_t *src, const char *header, const char *value,
                                 const char *where, const void *body, size_t len, char *err,
                                 size_t errlen)
{
    uint8_t want[S_MAC_BYTES], got[S_MAC_BYTES];
    if (!value || !*value)
        return s_fail(err, errlen,
                      "missing %s header; set the webhook's secret in %s to the value of "
                      "ingest.%s_secret",
                      header, where, src->name);
    if (strncasecmp(value, "sha256=", 7) != 0 || !s_hex_mac(value + 7, strlen(value + 7), got))
        return s_fail(err, errlen, "%s must be 'sha256=' followed by 64 hex digits", header);
    int rc = s_hmac(src, body, len, want);
    if (rc < 0)
        return rc;
    if (sodium_memcmp(want, got, S_MAC_BYTES) != 0)
        return s_fail(err, errlen,
                      "%s does not match the body; check that the webhook's secret in %s "
                      "equals ingest.%s_secret and that nothing between them rewrites the body",
                      header, where, src->name);
    return 0;
}

/* "v1=<hex>,v1=<hex>": any v1 value may match (PagerDuty rotates secrets). */
static int s_check_pagerduty(const s_source_t *src, const char *value, const void *body, size_t len,
                             char *err, size_t errlen)
{
    if (!value || !*value)
        return s_fail(err, errlen,
                      "missing X-PagerDuty-Signature header; give the webhook subscription a "
                      "secret and set ingest.pagerduty_secret to it");
    uint8_t want[S_MAC_BYTES], got[S_MAC_BYTES];
    int rc = s_hmac(src, body, len, want);
    if (rc < 0)
        return rc;
    bool seen_v1 = false, match = false;
    for (const char *p = value; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        if (t > 3 && strncmp(p, "v1=", 3) == 0) {
            seen_v1 = true;
            if (s_hex_mac(p + 3, t - 3, got))
                match |= sodium_memcmp(want, got, S_MAC_BYTES) == 0;
        }
        p += n;
    }
    if (!seen_v1)
        return s_fail(err, errlen,
                      "X-PagerDuty-Signature holds no 'v1=<hex>' signature; Cairn verifies "
                      "PagerDuty v3 webhook signatures");
    if (!match)
        return s_fail(err, errlen,
                      "no v1 signature in X-PagerDuty-Signature matches the body; check that "
                      "the subscription's secret equals ingest.pagerduty_secret");
    return 0;
}

/* Compares a presented token with the configured one via their digests. */
static bool s_token_equal(const cairn_secret_t *secret, const char *token, size_t len)
{
    uint8_t a[crypto_hash_sha256_BYTES], b[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(a, cairn_secret_data(secret), cairn_secret_len(secret));
    crypto_hash_sha256(b, (const uint8_t *)token, len);
    bool equal = sodium_memcmp(a, b, sizeof a) == 0;
    sodium_memzero(a, sizeof a);
    sodium_memzero(b, sizeof b);
    return equal;
}

/* Authorization: Bearer <token>, or Basic base64(user:token). */
static int s_check_bearer(const s_source_t *src, const cairn_ingest_header_t *headers, size_t n,
                          char *how, size_t howlen, char *err, size_t errlen)
{
    const char *value = cairn_ingest_header(headers, n, "authorization");
    if (!value || !*value)
        return s_fail(err, errlen,
                      "missing Authorization header; send 'Authorization: Bearer <token>' with "
                      "the token configured as ingest.%s_token",
                      src->name);
    while (*value == ' ')
        value++;
    if (strncasecmp(value, "bearer ", 7) == 0) {
        const char *token = value + 7;
        while (*token == ' ')
            token++;
        size_t len = strlen(token);
        while (len > 0 && token[len - 1] == ' ')
            len--;
        if (!s_token_equal(src->secret, token, len))
            return s_fail(err, errlen,
                          "the bearer token does not match ingest.%s_token; send the token "
                          "configured there",
                          src->name);
        s_how(how, howlen, "authorization-bearer");
        return 0;
    }
    if (strncasecmp(value, "basic ", 6) == 0) {
        const char *b64 = value + 6;
        while (*b64 == ' ')
            b64++;
        size_t b64_len = strlen(b64), bin_len = 0;
        char *bin = sodium_malloc(b64_len + 1);
        if (!bin)
            return -ENOMEM;
        const char *end = NULL;
        int ok = sodium_base642bin((uint8_t *)bin, b64_len + 1, b64, b64_len, " ", &bin_len, &end,
                                   sodium_base64_VARIANT_ORIGINAL);
        char *colon = ok == 0 ? memchr(bin, ':', bin_len) : NULL;
        bool equal =
            colon && s_token_equal(src->secret, colon + 1, bin_len - (size_t)(colon + 1 - bin));
        sodium_free(bin);
        if (!colon)
            return s_fail(err, errlen,
                          "the Authorization header's Basic credentials are not base64 of "
                          "user:password");
        if (!equal)
            return s_fail(err, errlen,
                          "the password in the Basic credentials does not match "
                          "ingest.%s_token",
                          src->name);
        s_how(how, howlen, "authorization-basic");
        return 0;
    }
    return s_fail(err, errlen,
                  "the Authorization header must be 'Bearer <token>' (or Basic with the token "
                  "as the password), with the token configured as ingest.%s_token",
                  src->name);
}

/* Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature. */
static int s_check_standard(const s_source_t *src, const cairn_ingest_header_t *headers, size_t n,
                            const void *body, size_t len, int64_t now_ms, char *err, size_t errlen)
{
    const char *id = cairn_ingest_header(headers, n, "webhook-id");
    const char *ts = cairn_ingest_header(headers, n, "webhook-timestamp");
    const char *sig = cairn_ingest_header(headers, n, "webhook-signature");
    if (!id || !*id || !ts || !*ts)
        return s_fail(err, errlen,
                      "webhook-signature needs the webhook-id and webhook-timestamp headers "
                      "it signs; send all three");
    char *end = NULL;
    errno = 0;
    long long t = strtoll(ts, &end, 10);
    if (errno || end == ts || *end || t < 0)
        return s_fail(err, errlen, "webhook-timestamp must be Unix seconds, got '%.32s'", ts);
    long long skew = now_ms / 1000 - t;
    if (skew < 0)
        skew = -skew;
    if (skew > CAIRN_INGEST_AUTH_TOLERANCE_S)
        return s_fail(err, errlen,
                      "webhook-timestamp is %lld s away from this server's clock (at most %d s "
                      "allowed); check both clocks, or this is a replayed delivery",
                      skew, CAIRN_INGEST_AUTH_TOLERANCE_S);

    uint8_t want[S_MAC_BYTES], got[S_MAC_BYTES + 3];
    const cairn_ingest_span_t signed_parts[] = {
        {id, strlen(id)}, {".", 1}, {ts, strlen(ts)}, {".", 1}, {body, len},
    };
    int rc = s_hmac_parts(src->signing, src->signing_mac, signed_parts,
                          sizeof signed_parts / sizeof signed_parts[0], want);
    if (rc < 0)
        return rc;

    bool seen_v1 = false, match = false;
    for (const char *p = sig; *p;) {
        while (*p == ' ')
            p++;
        size_t tok = strcspn(p, " ");
        if (tok > 3 && strncmp(p, "v1,", 3) == 0) {
            size_t bin_len = 0;
            const char *b64_end = NULL;
            seen_v1 = true;
            if (sodium_base642bin(got, sizeof got, p + 3, tok - 3, NULL, &bin_len, &b64_end,
                                  sodium_base64_VARIANT_ORIGINAL) == 0 &&
                bin_len == S_MAC_BYTES && b64_end == p + tok)
                match |= sodium_memcmp(want, got, S_MAC_BYTES) == 0;
        }
        p += tok;
    }
    if (!seen_v1)
        return s_fail(err, errlen,
                      "webhook-signature holds no 'v1,<base64>' signature (Cairn verifies "
                      "symmetric Standard Webhooks signatures)");
    if (!match)
        return s_fail(err, errlen,
                      "no v1 signature in webhook-signature matches the body; check that the "
                      "GitLab signing token equals ingest.gitlab_signing_secret");
    return 0;
}

/* GitLab: each configured scheme whose header is present must verify, and
 * at least one must. */
static int s_check_gitlab(const s_source_t *src, const cairn_ingest_header_t *headers, size_t n,
                          const void *body, size_t len, int64_t now_ms, char *how, size_t howlen,
                          char *err, size_t errlen)
{
    const char *sig = cairn_ingest_header(headers, n, "webhook-signature");
    const char *token = cairn_ingest_header(headers, n, "x-gitlab-token");
    bool verified_sig = false, verified_token = false;
    int rc;
    if (src->signing && sig) {
        if ((rc = s_check_standard(src, headers, n, body, len, now_ms, err, errlen)) < 0)
            return rc;
        verified_sig = true;
    }
    if (src->secret && token) {
        if (!s_token_equal(src->secret, token, strlen(token)))
            return s_fail(err, errlen,
                          "X-Gitlab-Token does not match ingest.gitlab_token; set the "
                          "webhook's secret token in GitLab to it");
        verified_token = true;
    }
    if (verified_sig && verified_token)
        s_how(how, howlen, "webhook-signature+x-gitlab-token");
    else if (verified_sig)
        s_how(how, howlen, "webhook-signature");
    else if (verified_token)
        s_how(how, howlen, "x-gitlab-token");
    else if (src->signing && !src->secret)
        return s_fail(err, errlen,
                      "missing webhook-signature header; add a signing token to the GitLab "
                      "webhook and set ingest.gitlab_signing_secret to it");
    else if (src->secret && !src->signing)
        return s_fail(err, errlen,
                      "missing X-Gitlab-Token header; set the webhook's secret token in GitLab "
                      "to the value of ingest.gitlab_token");
    else
        return s_fail(err, errlen,
                      "missing X-Gitlab-Token and webhook-signature headers; set the GitLab "
                      "webhook's secret token to ingest.gitlab_token or its signing token to "
                      "ingest.gitlab_signing_secret");
    return 0;
}

int cairn_ingest_auth_check(const cairn_ingest_auth_t *self, const char *source,
                            const cairn_ingest_header_t *headers, size_t n, const void *body,
                            size_t len, int64_t now_ms, char *how, size_t howlen, char *err,
                            size_t errlen)
{
    static const s_source_t nothing[S_NSOURCES] = {
        [S_EVENTS] = {.name = "events", .allow_unsigned = true},
        [S_GITHUB] = {.name = "github", .allow_unsigned = false},
        [S_GITLAB] = {.name = "gitlab", .allow_unsigned = false},
        [S_PAGERDUTY] = {.name = "pagerduty", .allow_unsigned = false},
        [S_JIRA] = {.name = "jira", .allow_unsigned = false},
        [S_JENKINS] = {.name = "jenkins", .allow_unsigned = false},
        [S_SERVICENOW] = {.name = "servicenow", .allow_unsigned = false},
    };
    const s_source_t *sources = self ? self->sources : nothing;
    int which = -1;
    for (int i = 0; i < S_NSOURCES; i++)
        if (source && strcmp(source, sources[i].name) == 0)
            which = i;
    if (which < 0)
        return s_fail(err, errlen, "no authentication is defined for source '%.40s'",
                      source ? source : "");
    const s_source_t *src = &sources[which];
    if (!src->secret && !src->signing) {
        if (which == S_EVENTS) {
            s_how(how, howlen, "none");
            return 0;
        }
        if (src->allow_unsigned) {
            char text[96];
            snprintf(text, sizeof text, "unsigned (ingest.allow_unsigned_%s)", src->name);
            s_how(how, howlen, text);
            return 0;
        }
        if (which == S_GITLAB)
            return s_fail(err, errlen,
                          "webhooks from gitlab are refused: no secret is configured; configure "
                          "ingest.gitlab_token or ingest.gitlab_signing_secret, or set "
                          "ingest.allow_unsigned_gitlab: true");
        return s_fail(err, errlen,
                      "webhooks from %s are refused: no secret is configured; configure "
                      "ingest.%s_%s or set ingest.allow_unsigned_%s: true",
                      src->name, src->name,
                      which == S_JENKINS || which == S_SERVICENOW ? "token" : "secret", src->name);
    }
    int rc;
    switch (which) {
    case S_GITHUB:
        rc = s_check_sha256_header(src, "X-Hub-Signature-256",
                                   cairn_ingest_header(headers, n, "x-hub-signature-256"), "GitHub",
                                   body, len, err, errlen);
        if (rc == 0)
            s_how(how, howlen, "x-hub-signature-256");
        return rc;
    case S_JIRA:
        rc = s_check_sha256_header(src, "X-Hub-Signature",
                                   cairn_ingest_header(headers, n, "x-hub-signature"), "Jira", body,
                                   len, err, errlen);
        if (rc == 0)
            s_how(how, howlen, "x-hub-signature");
        return rc;
    case S_PAGERDUTY:
        rc = s_check_pagerduty(src, cairn_ingest_header(headers, n, "x-pagerduty-signature"), body,
                               len, err, errlen);
        if (rc == 0)
            s_how(how, howlen, "x-pagerduty-signature");
        return rc;
    case S_GITLAB:
        return s_check_gitlab(src, headers, n, body, len, now_ms, how, howlen, err, errlen);
    default: return s_check_bearer(src, headers, n, how, howlen, err, errlen);
    }
}
