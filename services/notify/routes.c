/* Loading the routes file (see routes.h) with libfyaml: every key is
 * checked, errors name file:line:col, secrets are resolved, and children
 * inherit from their parents as in Alertmanager. */
#include "routes.h"

#include <errno.h>
#include <libfyaml.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "cairn/yaml.h"
#include "secret.h"

#define S_MAX_FILE (4 * 1024 * 1024)

/* Alertmanager's defaults for routes that do not say. */
#define S_GROUP_WAIT_MS 30000
#define S_GROUP_INTERVAL_MS 300000
#define S_REPEAT_INTERVAL_MS (4 * 3600000LL)

static const char s_default_yaml[] = "route:\n"
                                     "  receiver: default\n"
                                     "  group_by: [change]\n"
                                     "  group_wait: 0s\n"
                                     "  group_interval: 0s\n"
                                     "  repeat_interval: 0s\n"
                                     "receivers:\n"
                                     "  - name: default\n"
                                     "    file_configs: [{}]\n";

typedef struct {
    const char *name;      /* file name for messages */
    const char *file_path; /* notify.file */
    char *err;             /* message buffer */
    size_t errlen;
    cairn_routes_t *routes; /* being built */
    /* global defaults */
    int64_t http_timeout_ms;
    cairn_retry_policy_t retry;
    char *smtp_smarthost, *smtp_from, *smtp_hello, *smtp_user, *smtp_pass, *slack_url;
    char *tls_ca_file;
    bool smtp_require_tls;
} s_ctx_t;

/* Where a node starts: its own token for a scalar, else the first scalar
 * inside it (libfyaml keeps marks on tokens only). */
static const struct fy_mark *s_mark(struct fy_node *n)
{
    for (int depth = 0; n && depth < 16; depth++) {
        if (fy_node_is_scalar(n)) {
            struct fy_token *tok = fy_node_get_scalar_token(n);
            return tok ? fy_token_start_mark(tok) : NULL;
        }
        void *it = NULL;
        if (fy_node_is_mapping(n)) {
            struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
            n = p ? fy_node_pair_key(p) : NULL;
        } else if (fy_node_is_sequence(n)) {
            n = fy_node_sequence_iterate(n, &it);
        } else {
            return NULL;
        }
    }
    return NULL;
}

static int s_fail(s_ctx_t *c, struct fy_node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int s_fail(s_ctx_t *c, struct fy_node *at, const char *fmt, ...)
{
    int line = 0, col = 0;
    const struct fy_mark *m = s_mark(at);
    if (m) {
        line = m->line + 1;
        col = m->column + 1;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s:%d:%d: %s", c->name, line, col, msg);
    return CAIRN_ECONFIG;
}

static int s_line(struct fy_node *n)
{
    const struct fy_mark *m = s_mark(n);
    return m ? m->line + 1 : 0;
}

static const char *s_scalar(struct fy_node *n)
{
    return n && fy_node_is_scalar(n) ? fy_node_get_scalar0(n) : NULL;
}

/* A node that is a mapping, with every key among known (NULL-terminated). */
static int s_check_keys(s_ctx_t *c, struct fy_node *map, const char *what, const char *const *known)
{
    if (!map || !fy_node_is_mapping(map))
        return s_fail(c, map, "%s must be a mapping", what);
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
        struct fy_node *k = fy_node_pair_key(p);
        const char *name = s_scalar(k);
        bool ok = false;
        for (size_t i = 0; name && known[i]; i++)
            ok |= strcmp(name, known[i]) == 0;
        if (!ok) {
            char list[512] = "";
            size_t used = 0;
            for (size_t i = 0; known[i] && used < sizeof list; i++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                         known[i]);
            return s_fail(c, k, "unknown key '%s' in %s (known: %s)", name ? name : "?", what,
                          list);
        }
    }
    return 0;
}

static struct fy_node *s_get(struct fy_node *map, const char *key)
{
    return map && fy_node_is_mapping(map) ? fy_node_mapping_lookup_by_string(map, key, FY_NT)
                                          : NULL;
}

static int s_str(s_ctx_t *c, struct fy_node *map, const char *key, char **out)
{
    struct fy_node *n = s_get(map, key);
    if (!n)
        return 0;
    const char *v = s_scalar(n);
    if (!v)
        return s_fail(c, n, "'%s' must be a single value", key);
    char *copy = strdup(v);
    if (!copy)
        return -ENOMEM;
    free(*out);
    *out = copy;
    return 0;
}

/* A secret: literal, file:/path or env:NAME. */
static int s_secret(s_ctx_t *c, struct fy_node *map, const char *key, char **out)
{
    struct fy_node *n = s_get(map, key);
    if (!n)
        return 0;
    const char *v = s_scalar(n);
    if (!v)
        return s_fail(c, n, "'%s' must be a single value", key);
    char why[256], *value = NULL;
    if (cairn_secret_resolve(v, &value, why, sizeof why) < 0)
        return s_fail(c, n, "%s: %s", key, why);
    free(*out);
    *out = value;
    return 0;
}

static int s_duration(s_ctx_t *c, struct fy_node *map, const char *key, int64_t *out, bool *set)
{
    struct fy_node *n = s_get(map, key);
    if (!n)
        return 0;
    const char *v = s_scalar(n);
    int64_t ms = 0;
    if (!v || cairn_parse_duration_ms(v, &ms) < 0 || ms < 0)
        return s_fail(c, n, "'%s' must be a duration like 30s, 5m or 4h, got '%s'", key,
                      v ? v : "?");
    *out = ms;
    if (set)
        *set = true;
    return 0;
}

static int s_bool(s_ctx_t *c, struct fy_node *map, const char *key, bool *out)
{
    struct fy_node *n = s_get(map, key);
    if (!n)
        return 0;
    const char *v = s_scalar(n);
    if (v && (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0))
        *out = true;
    else if (v && (strcmp(v, "false") == 0 || strcmp(v, "no") == 0))
        *out = false;
    else
        return s_fail(c, n, "'%s' must be true or false", key);
    return 0;
}

static int s_uint(s_ctx_t *c, struct fy_node *map, const char *key, uint64_t max, uint64_t *out)
{
    struct fy_node *n = s_get(map, key);
    if (!n)
        return 0;
    const char *v = s_scalar(n);
    char *end = NULL;
    unsigned long long x = v ? strtoull(v, &end, 10) : 0;
    if (!v || !*v || *end || *v == '-' || x > max)
        return s_fail(c, n, "'%s' must be a whole number from 0 to %llu", key,
                      (unsigned long long)max);
    *out = x;
    return 0;
}

/* A list of strings (a single scalar counts as a list of one). */
static int s_strings(s_ctx_t *c, struct fy_node *n, const char *key, char ***out, size_t *n_out)
{
    char **list = NULL;
    size_t count = 0;
    if (!n)
        return 0;
    if (fy_node_is_scalar(n)) {
        list = calloc(1, sizeof *list);
        if (!list || !(list[0] = strdup(fy_node_get_scalar0(n)))) {
            free(list);
            return -ENOMEM;
        }
        *out = list;
        *n_out = 1;
        return 0;
    }
    if (!fy_node_is_sequence(n))
        return s_fail(c, n, "'%s' must be a list", key);
    list = calloc((size_t)fy_node_sequence_item_count(n) + 1, sizeof *list);
    if (!list)
        return -ENOMEM;
    void *it = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
        const char *v = s_scalar(item);
        if (!v) {
            for (size_t i = 0; i < count; i++)
                free(list[i]);
            free(list);
            return s_fail(c, item, "every item of '%s' must be a single value", key);
        }
        if (!(list[count] = strdup(v))) {
            for (size_t i = 0; i < count; i++)
                free(list[i]);
            free(list);
            return -ENOMEM;
        }
        count++;
    }
    *out = list;
    *n_out = count;
    return 0;
}

static void s_free_strings(char **list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        free(list[i]);
    free(list);
}

/* matchers: [..] plus the deprecated match: {} and match_re: {}. */
static int s_matchers(s_ctx_t *c, struct fy_node *map, const char *key, cairn_matchers_t **out)
{
    cairn_matchers_t *m = cairn_matchers_new();
    char why[512];
    int rc = 0;
    if (!m)
        return -ENOMEM;
    struct fy_node *n = s_get(map, key);
    if (n) {
        if (fy_node_is_scalar(n)) {
            if (cairn_matchers_parse(m, fy_node_get_scalar0(n), why, sizeof why) < 0) {
                rc = s_fail(c, n, "%s", why);
                goto out;
            }
        } else if (fy_node_is_sequence(n)) {
            void *it = NULL;
            struct fy_node *item;
            while ((item = fy_node_sequence_iterate(n, &it)) != NULL) {
                const char *v = s_scalar(item);
                if (!v) {
                    rc = s_fail(c, item, "each matcher must be a string like 'env=\"prod\"'");
                    goto out;
                }
                if (cairn_matchers_parse(m, v, why, sizeof why) < 0) {
                    rc = s_fail(c, item, "%s", why);
                    goto out;
                }
            }
        } else {
            rc = s_fail(c, n, "'%s' must be a list of matchers", key);
            goto out;
        }
    }
    /* Only routes take the deprecated forms. */
    static const char *const legacy[] = {"match", "match_re"};
    for (size_t l = 0; strcmp(key, "matchers") == 0 && l < 2; l++) {
        struct fy_node *lm = s_get(map, legacy[l]);
        if (!lm)
            continue;
        if (!fy_node_is_mapping(lm)) {
            rc = s_fail(c, lm, "'%s' must be a mapping of label: value", legacy[l]);
            goto out;
        }
        void *it = NULL;
        struct fy_node_pair *p;
        while ((p = fy_node_mapping_iterate(lm, &it)) != NULL) {
            const char *k = s_scalar(fy_node_pair_key(p));
            const char *v = s_scalar(fy_node_pair_value(p));
            if (!k || !v) {
                rc = s_fail(c, fy_node_pair_key(p), "'%s' entries must be label: value", legacy[l]);
                goto out;
            }
            if (cairn_matchers_add(m, k, l ? CAIRN_MATCH_RE : CAIRN_MATCH_EQ, v, why, sizeof why) <
                0) {
                rc = s_fail(c, fy_node_pair_key(p), "%s", why);
                goto out;
            }
        }
    }
    *out = m;
    m = NULL;
out:
    cairn_matchers_destroy(&m);
    return rc;
}

static int s_retry(s_ctx_t *c, struct fy_node *map, cairn_retry_policy_t *r)
{
    static const char *const keys[] = {"initial", "max", "max_attempts", "max_age", NULL};
    struct fy_node *n = s_get(map, "retry");
    uint64_t attempts = r->max_attempts;
    int rc;
    if (!n)
        return 0;
    if ((rc = s_check_keys(c, n, "retry", keys)) < 0 ||
        (rc = s_duration(c, n, "initial", &r->initial_ms, NULL)) < 0 ||
        (rc = s_duration(c, n, "max", &r->max_ms, NULL)) < 0 ||
        (rc = s_duration(c, n, "max_age", &r->max_age_ms, NULL)) < 0 ||
        (rc = s_uint(c, n, "max_attempts", 1000, &attempts)) < 0)
        return rc;
    if (attempts < 1)
        return s_fail(c, n, "retry.max_attempts must be at least 1");
    r->max_attempts = (uint32_t)attempts;
    if (r->max_ms < r->initial_ms)
        r->max_ms = r->initial_ms;
    return 0;
}

static int s_global(s_ctx_t *c, struct fy_node *g)
{
    static const char *const keys[] = {"resolve_timeout",
                                       "http_timeout",
                                       "smtp_smarthost",
                                       "smtp_from",
                                       "smtp_hello",
                                       "smtp_auth_username",
                                       "smtp_auth_password",
                                       "smtp_require_tls",
                                       "slack_api_url",
                                       "external_url",
                                       "retry",
                                       "tls_ca_file",
                                       NULL};
    int rc;
    if (!g)
        return 0;
    if ((rc = s_check_keys(c, g, "global", keys)) < 0 ||
        (rc = s_duration(c, g, "resolve_timeout", &c->routes->resolve_timeout_ms, NULL)) < 0 ||
        (rc = s_duration(c, g, "http_timeout", &c->http_timeout_ms, NULL)) < 0 ||
        (rc = s_str(c, g, "smtp_smarthost", &c->smtp_smarthost)) < 0 ||
        (rc = s_str(c, g, "smtp_from", &c->smtp_from)) < 0 ||
        (rc = s_str(c, g, "smtp_hello", &c->smtp_hello)) < 0 ||
        (rc = s_str(c, g, "smtp_auth_username", &c->smtp_user)) < 0 ||
        (rc = s_secret(c, g, "smtp_auth_password", &c->smtp_pass)) < 0 ||
        (rc = s_bool(c, g, "smtp_require_tls", &c->smtp_require_tls)) < 0 ||
        (rc = s_secret(c, g, "slack_api_url", &c->slack_url)) < 0 ||
        (rc = s_str(c, g, "external_url", &c->routes->external_url)) < 0 ||
        (rc = s_str(c, g, "tls_ca_file", &c->tls_ca_file)) < 0 ||
        (rc = s_retry(c, g, &c->retry)) < 0)
        return rc;
    return 0;
}

static char *s_dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void s_integration_free(cairn_integration_t *in)
{
    if (!in)
        return;
    free(in->target);
    free(in->url);
    cairn_secret_free(&in->hmac_key, in->hmac_key_len);
    cairn_secret_free(&in->ed25519_sk, 64);
    free(in->channel);
    free(in->username);
    free(in->path);
    free(in->to);
    free(in->from);
    free(in->smarthost);
    free(in->hello);
    if (in->auth_password)
        memset(in->auth_password, 0, strlen(in->auth_password));
    free(in->auth_username);
    free(in->auth_password);
    free(in->tls_ca_file);
    free(in);
}

/* Reads a whsec_/whsk_ key from a secret field. */
static int s_key(s_ctx_t *c, struct fy_node *map, const char *field, const char *prefix,
                 uint8_t **out, size_t *len)
{
    char *text = NULL;
    int rc = s_secret(c, map, field, &text);
    if (rc < 0 || !text)
        return rc;
    uint8_t *key = NULL;
    size_t klen = 0;
    rc = cairn_secret_decode_key(text, prefix, &key, &klen);
    memset(text, 0, strlen(text));
    free(text);
    if (rc < 0)
        return s_fail(c, s_get(map, field), "%s must be a Standard Webhooks key '%s<base64>'",
                      field, prefix);
    if (strcmp(prefix, "whsk_") == 0 && klen == 32) {
        /* A seed: expand it to the secret key libsodium signs with. */
        uint8_t pk[32];
        uint8_t *sk = sodium_malloc(64);
        if (!sk) {
            cairn_secret_free(&key, klen);
            return -ENOMEM;
        }
        crypto_sign_seed_keypair(pk, sk, key);
        cairn_secret_free(&key, klen);
        key = sk;
        klen = 64;
    }
    *out = key;
    *len = klen;
    return 0;
}

static int s_integration(s_ctx_t *c, struct fy_node *n, cairn_receiver_t *rcv,
                         cairn_integration_type_t type, size_t index)
{
    static const char *const common[] = {"send_resolved", "timeout", "retry", NULL};
    static const char *const file_keys[] = {"send_resolved", "timeout", "retry", "path", NULL};
    static const char *const slack_keys[] = {"send_resolved", "timeout",  "retry",       "api_url",
                                             "channel",       "username", "tls_ca_file", NULL};
    static const char *const webhook_keys[] = {"send_resolved", "timeout",     "retry",
                                               "url",           "hmac_secret", "signing_key",
                                               "max_alerts",    "tls_ca_file", NULL};
    static const char *const email_keys[] = {
        "send_resolved", "timeout",     "retry",       "to",
        "from",          "smarthost",   "hello",       "auth_username",
        "auth_password", "require_tls", "tls_ca_file", NULL};
    static const char *const am_keys[] = {"send_resolved", "timeout",     "retry",
                                          "url",           "tls_ca_file", NULL};
    const char *const *keys = common;
    const char *tname = cairn_integration_type_name(type);
    char what[128];
    int rc;
    switch (type) {
    case CAIRN_INTEGRATION_FILE: keys = file_keys; break;
    case CAIRN_INTEGRATION_SLACK: keys = slack_keys; break;
    case CAIRN_INTEGRATION_WEBHOOK: keys = webhook_keys; break;
    case CAIRN_INTEGRATION_EMAIL: keys = email_keys; break;
    case CAIRN_INTEGRATION_ALERTMANAGER: keys = am_keys; break;
    case CAIRN_INTEGRATION_FEED: keys = common; break;
    }
    snprintf(what, sizeof what, "%s_configs of receiver '%s'", tname, rcv->name);
    if ((rc = s_check_keys(c, n, what, keys)) < 0)
        return rc;

    cairn_integration_t *in = calloc(1, sizeof *in);
    if (!in)
        return -ENOMEM;
    char target[256];
    if (index == 0)
        snprintf(target, sizeof target, "%s/%s", rcv->name, tname);
    else
        snprintf(target, sizeof target, "%s/%s%zu", rcv->name, tname, index);
    in->type = type;
    in->target = strdup(target);
    in->receiver = rcv->name;
    /* Alertmanager's defaults: chat and mail only say when something fires. */
    in->send_resolved = type != CAIRN_INTEGRATION_SLACK && type != CAIRN_INTEGRATION_EMAIL;
    in->timeout_ms = c->http_timeout_ms;
    in->retry = c->retry;
    if (!in->target) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = s_bool(c, n, "send_resolved", &in->send_resolved)) < 0 ||
        (rc = s_duration(c, n, "timeout", &in->timeout_ms, NULL)) < 0 ||
        (rc = s_retry(c, n, &in->retry)) < 0)
        goto fail;
    in->tls_ca_file = s_dup_or_null(c->tls_ca_file);
    if ((rc = s_str(c, n, "tls_ca_file", &in->tls_ca_file)) < 0)
        goto fail;
    if (in->timeout_ms <= 0)
        in->timeout_ms = 15000;

    switch (type) {
    case CAIRN_INTEGRATION_FILE:
        in->path = s_dup_or_null(c->file_path);
        if ((rc = s_str(c, n, "path", &in->path)) < 0)
            goto fail;
        if (!in->path || !*in->path) {
            rc = s_fail(c, n, "file receiver needs a path");
            goto fail;
        }
        break;
    case CAIRN_INTEGRATION_SLACK:
        in->url = s_dup_or_null(c->slack_url);
        if ((rc = s_secret(c, n, "api_url", &in->url)) < 0 ||
            (rc = s_str(c, n, "channel", &in->channel)) < 0 ||
            (rc = s_str(c, n, "username", &in->username)) < 0)
            goto fail;
        if (!in->url || !*in->url) {
            rc = s_fail(c, n, "slack_configs needs api_url (or global.slack_api_url)");
            goto fail;
        }
        break;
    case CAIRN_INTEGRATION_WEBHOOK: {
        uint64_t max_alerts = 0;
        if ((rc = s_str(c, n, "url", &in->url)) < 0 ||
            (rc = s_key(c, n, "hmac_secret", "whsec_", &in->hmac_key, &in->hmac_key_len)) < 0 ||
            (rc = s_uint(c, n, "max_alerts", 100000, &max_alerts)) < 0)
            goto fail;
        size_t sklen = 0;
        if ((rc = s_key(c, n, "signing_key", "whsk_", &in->ed25519_sk, &sklen)) < 0)
            goto fail;
        in->max_alerts = (size_t)max_alerts;
        if (!in->url || !*in->url) {
            rc = s_fail(c, n, "webhook_configs needs url");
            goto fail;
        }
        break;
    }
    case CAIRN_INTEGRATION_EMAIL:
        in->from = s_dup_or_null(c->smtp_from);
        in->smarthost = s_dup_or_null(c->smtp_smarthost);
        in->hello = s_dup_or_null(c->smtp_hello);
        in->auth_username = s_dup_or_null(c->smtp_user);
        in->auth_password = s_dup_or_null(c->smtp_pass);
        in->require_tls = c->smtp_require_tls;
        if ((rc = s_str(c, n, "to", &in->to)) < 0 || (rc = s_str(c, n, "from", &in->from)) < 0 ||
            (rc = s_str(c, n, "smarthost", &in->smarthost)) < 0 ||
            (rc = s_str(c, n, "hello", &in->hello)) < 0 ||
            (rc = s_str(c, n, "auth_username", &in->auth_username)) < 0 ||
            (rc = s_secret(c, n, "auth_password", &in->auth_password)) < 0 ||
            (rc = s_bool(c, n, "require_tls", &in->require_tls)) < 0)
            goto fail;
        if (!in->to || !*in->to || !in->from || !*in->from || !in->smarthost ||
            !strchr(in->smarthost, ':')) {
            rc = s_fail(c, n,
                        "email_configs needs to, from (or global.smtp_from) and smarthost "
                        "as host:port (or global.smtp_smarthost)");
            goto fail;
        }
        break;
    case CAIRN_INTEGRATION_ALERTMANAGER:
        if ((rc = s_str(c, n, "url", &in->url)) < 0)
            goto fail;
        if (!in->url || !*in->url) {
            rc = s_fail(c, n, "alertmanager_configs needs url (e.g. http://127.0.0.1:9093)");
            goto fail;
        }
        break;
    case CAIRN_INTEGRATION_FEED: break;
    }
    cairn_integration_t **grown =
        realloc(rcv->integrations, (rcv->n_integrations + 1) * sizeof *grown);
    if (!grown) {
        rc = -ENOMEM;
        goto fail;
    }
    rcv->integrations = grown;
    rcv->integrations[rcv->n_integrations++] = in;
    return 0;
fail:
    s_integration_free(in);
    return rc;
}

static void s_receiver_free(cairn_receiver_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_integrations; i++)
        s_integration_free(r->integrations[i]);
    free(r->integrations);
    free(r->name);
    free(r);
}

static int s_receivers(s_ctx_t *c, struct fy_node *list)
{
    static const char *const keys[] = {
        "name",          "file_configs",         "slack_configs", "webhook_configs",
        "email_configs", "alertmanager_configs", "feed_configs",  NULL};
    static const struct {
        const char *key;
        cairn_integration_type_t type;
    } kinds[] = {{"file_configs", CAIRN_INTEGRATION_FILE},
                 {"slack_configs", CAIRN_INTEGRATION_SLACK},
                 {"webhook_configs", CAIRN_INTEGRATION_WEBHOOK},
                 {"email_configs", CAIRN_INTEGRATION_EMAIL},
                 {"alertmanager_configs", CAIRN_INTEGRATION_ALERTMANAGER},
                 {"feed_configs", CAIRN_INTEGRATION_FEED}};
    cairn_routes_t *r = c->routes;
    int rc;
    if (!list)
        return s_fail(c, NULL, "the routes file needs receivers");
    if (!fy_node_is_sequence(list))
        return s_fail(c, list, "receivers must be a list");
    void *it = NULL;
    struct fy_node *n;
    while ((n = fy_node_sequence_iterate(list, &it)) != NULL) {
        if ((rc = s_check_keys(c, n, "a receiver", keys)) < 0)
            return rc;
        const char *name = s_scalar(s_get(n, "name"));
        if (!name || !*name)
            return s_fail(c, n, "every receiver needs a name");
        if (strchr(name, '/') || strchr(name, ':') || strchr(name, ' '))
            return s_fail(c, s_get(n, "name"),
                          "receiver name '%s' may not contain '/', ':' or "
                          "spaces",
                          name);
        for (size_t i = 0; i < r->n_receivers; i++)
            if (strcmp(r->receivers[i]->name, name) == 0)
                return s_fail(c, s_get(n, "name"), "receiver '%s' is defined twice", name);
        cairn_receiver_t *rcv = calloc(1, sizeof *rcv);
        cairn_receiver_t **grown = realloc(r->receivers, (r->n_receivers + 1) * sizeof *grown);
        if (grown)
            r->receivers = grown;
        if (!rcv || !grown || !(rcv->name = strdup(name))) {
            free(rcv);
            return -ENOMEM;
        }
        r->receivers[r->n_receivers++] = rcv;
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            struct fy_node *cfgs = s_get(n, kinds[k].key);
            if (!cfgs)
                continue;
            if (!fy_node_is_sequence(cfgs))
                return s_fail(c, cfgs, "%s must be a list", kinds[k].key);
            void *it2 = NULL;
            struct fy_node *cfg;
            size_t index = 0;
            while ((cfg = fy_node_sequence_iterate(cfgs, &it2)) != NULL)
                if ((rc = s_integration(c, cfg, rcv, kinds[k].type, index++)) < 0)
                    return rc;
        }
    }
    return 0;
}

static const cairn_receiver_t *s_find_receiver(const cairn_routes_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_receivers; i++)
        if (strcmp(r->receivers[i]->name, name) == 0)
            return r->receivers[i];
    return NULL;
}

static const cairn_time_interval_t *s_find_interval(const cairn_routes_t *r, const char *name)
{
    for (size_t i = 0; i < r->n_intervals; i++)
        if (strcmp(cairn_time_interval_name(r->intervals[i]), name) == 0)
            return r->intervals[i];
    return NULL;
}

static int s_spec(s_ctx_t *c, struct fy_node *n, cairn_time_interval_t *ti)
{
    static const char *const keys[] = {"times",    "weekdays", "days_of_month", "months", "years",
                                       "location", NULL};
    cairn_time_spec_t *spec = NULL;
    char why[256];
    int rc;
    if ((rc = s_check_keys(c, n, "a time interval", keys)) < 0)
        return rc;
    if ((rc = cairn_time_interval_add_spec(ti, &spec)) < 0)
        return rc;
    struct fy_node *times = s_get(n, "times");
    if (times) {
        if (!fy_node_is_sequence(times))
            return s_fail(c, times, "times must be a list of {start_time, end_time}");
        void *it = NULL;
        struct fy_node *t;
        static const char *const tkeys[] = {"start_time", "end_time", NULL};
        while ((t = fy_node_sequence_iterate(times, &it)) != NULL) {
            if ((rc = s_check_keys(c, t, "times", tkeys)) < 0)
                return rc;
            if (cairn_time_spec_add_times(spec, s_scalar(s_get(t, "start_time")),
                                          s_scalar(s_get(t, "end_time")), why, sizeof why) < 0)
                return s_fail(c, t, "%s", why);
        }
    }
    static const struct {
        const char *key;
        int (*add)(cairn_time_spec_t *, const char *, char *, size_t);
    } fields[] = {{"weekdays", cairn_time_spec_add_weekdays},
                  {"days_of_month", cairn_time_spec_add_days_of_month},
                  {"months", cairn_time_spec_add_months},
                  {"years", cairn_time_spec_add_years}};
    for (size_t f = 0; f < 4; f++) {
        struct fy_node *list = s_get(n, fields[f].key);
        char **items = NULL;
        size_t count = 0;
        if ((rc = s_strings(c, list, fields[f].key, &items, &count)) < 0)
            return rc;
        for (size_t i = 0; i < count && rc == 0; i++)
            if (fields[f].add(spec, items[i], why, sizeof why) < 0)
                rc = s_fail(c, list, "%s", why);
        s_free_strings(items, count);
        if (rc < 0)
            return rc;
    }
    const char *loc = s_scalar(s_get(n, "location"));
    if (loc && cairn_time_spec_set_location(spec, loc, why, sizeof why) < 0)
        return s_fail(c, s_get(n, "location"), "%s", why);
    return 0;
}

static int s_intervals(s_ctx_t *c, struct fy_node *list)
{
    static const char *const keys[] = {"name", "time_intervals", NULL};
    cairn_routes_t *r = c->routes;
    int rc;
    if (!list)
        return 0;
    if (!fy_node_is_sequence(list))
        return s_fail(c, list, "time_intervals must be a list");
    void *it = NULL;
    struct fy_node *n;
    while ((n = fy_node_sequence_iterate(list, &it)) != NULL) {
        if ((rc = s_check_keys(c, n, "a named time interval", keys)) < 0)
            return rc;
        const char *name = s_scalar(s_get(n, "name"));
        if (!name || !*name)
            return s_fail(c, n, "every time interval needs a name");
        if (s_find_interval(r, name))
            return s_fail(c, n, "time interval '%s' is defined twice", name);
        cairn_time_interval_t *ti = cairn_time_interval_new(name);
        cairn_time_interval_t **grown = realloc(r->intervals, (r->n_intervals + 1) * sizeof *grown);
        if (grown)
            r->intervals = grown;
        if (!ti || !grown) {
            cairn_time_interval_destroy(&ti);
            return -ENOMEM;
        }
        r->intervals[r->n_intervals++] = ti;
        struct fy_node *specs = s_get(n, "time_intervals");
        if (!specs || !fy_node_is_sequence(specs))
            return s_fail(c, n, "time interval '%s' needs time_intervals: a list", name);
        void *it2 = NULL;
        struct fy_node *s;
        while ((s = fy_node_sequence_iterate(specs, &it2)) != NULL)
            if ((rc = s_spec(c, s, ti)) < 0)
                return rc;
    }
    return 0;
}

static void s_route_free(cairn_route_t *rt)
{
    if (!rt)
        return;
    for (size_t i = 0; i < rt->n_routes; i++)
        s_route_free(rt->routes[i]);
    free(rt->routes);
    free(rt->key);
    cairn_matchers_destroy(&rt->matchers);
    s_free_strings(rt->group_by, rt->n_group_by);
    free(rt->mute);
    free(rt->active);
    free(rt);
}

static int s_interval_refs(s_ctx_t *c, struct fy_node *n, const char *key,
                           const cairn_time_interval_t ***out, size_t *n_out)
{
    char **names = NULL;
    size_t count = 0;
    int rc = s_strings(c, s_get(n, key), key, &names, &count);
    if (rc < 0 || count == 0)
        return rc;
    const cairn_time_interval_t **refs = calloc(count, sizeof *refs);
    if (!refs) {
        s_free_strings(names, count);
        return -ENOMEM;
    }
    for (size_t i = 0; i < count; i++) {
        refs[i] = s_find_interval(c->routes, names[i]);
        if (!refs[i]) {
            rc = s_fail(c, s_get(n, key), "%s names '%s', which is not in time_intervals", key,
                        names[i]);
            free(refs);
            s_free_strings(names, count);
            return rc;
        }
    }
    s_free_strings(names, count);
    *out = refs;
    *n_out = count;
    return 0;
}

static int s_route(s_ctx_t *c, struct fy_node *n, const cairn_route_t *parent, size_t index,
                   cairn_route_t **out)
{
    static const char *const keys[] = {"receiver",
                                       "group_by",
                                       "group_wait",
                                       "group_interval",
                                       "repeat_interval",
                                       "matchers",
                                       "match",
                                       "match_re",
                                       "continue",
                                       "mute_time_intervals",
                                       "active_time_intervals",
                                       "routes",
                                       NULL};
    int rc;
    if ((rc = s_check_keys(c, n, parent ? "a route" : "the root route", keys)) < 0)
        return rc;
    cairn_route_t *rt = calloc(1, sizeof *rt);
    if (!rt)
        return -ENOMEM;
    rt->line = s_line(n);
    rt->group_wait_ms = parent ? parent->group_wait_ms : S_GROUP_WAIT_MS;
    rt->group_interval_ms = parent ? parent->group_interval_ms : S_GROUP_INTERVAL_MS;
    rt->repeat_interval_ms = parent ? parent->repeat_interval_ms : S_REPEAT_INTERVAL_MS;
    rt->receiver = parent ? parent->receiver : NULL;
    rt->group_by_all = parent ? parent->group_by_all : false;
    if ((rc = s_matchers(c, n, "matchers", &rt->matchers)) < 0)
        goto fail;
    if (!parent && cairn_matchers_count(rt->matchers) > 0) {
        rc = s_fail(c, n, "the root route must match everything: remove its matchers");
        goto fail;
    }
    if ((rc = s_bool(c, n, "continue", &rt->cont)) < 0 ||
        (rc = s_duration(c, n, "group_wait", &rt->group_wait_ms, NULL)) < 0 ||
        (rc = s_duration(c, n, "group_interval", &rt->group_interval_ms, NULL)) < 0 ||
        (rc = s_duration(c, n, "repeat_interval", &rt->repeat_interval_ms, NULL)) < 0)
        goto fail;
    const char *rname = s_scalar(s_get(n, "receiver"));
    if (rname) {
        rt->receiver = s_find_receiver(c->routes, rname);
        if (!rt->receiver) {
            rc =
                s_fail(c, s_get(n, "receiver"), "receiver '%s' is not defined in receivers", rname);
            goto fail;
        }
    }
    if (!rt->receiver) {
        rc = s_fail(c, n, "the root route needs a receiver");
        goto fail;
    }
    struct fy_node *gb = s_get(n, "group_by");
    if (gb) {
        if ((rc = s_strings(c, gb, "group_by", &rt->group_by, &rt->n_group_by)) < 0)
            goto fail;
        rt->group_by_all = false;
        for (size_t i = 0; i < rt->n_group_by; i++)
            if (strcmp(rt->group_by[i], "...") == 0) {
                if (rt->n_group_by != 1) {
                    rc = s_fail(c, gb,
                                "group_by: ['...'] groups by every label; it cannot be "
                                "combined with other labels");
                    goto fail;
                }
                rt->group_by_all = true;
            }
    } else if (parent) {
        rt->group_by = calloc(parent->n_group_by + 1, sizeof(char *));
        if (!rt->group_by) {
            rc = -ENOMEM;
            goto fail;
        }
        for (size_t i = 0; i < parent->n_group_by; i++)
            if (!(rt->group_by[rt->n_group_by++] = strdup(parent->group_by[i]))) {
                rc = -ENOMEM;
                goto fail;
            }
    }
    if ((rc = s_interval_refs(c, n, "mute_time_intervals", &rt->mute, &rt->n_mute)) < 0 ||
        (rc = s_interval_refs(c, n, "active_time_intervals", &rt->active, &rt->n_active)) < 0)
        goto fail;
    if (!parent && (rt->n_mute || rt->n_active)) {
        rc = s_fail(c, n, "the root route cannot have mute or active time intervals");
        goto fail;
    }
    char *m = cairn_matchers_format(rt->matchers);
    if (!m) {
        rc = -ENOMEM;
        goto fail;
    }
    size_t klen = (parent ? strlen(parent->key) : 0) + strlen(m) + 2;
    rt->key = malloc(klen);
    if (rt->key)
        snprintf(rt->key, klen, "%s%s%s", parent ? parent->key : "", parent ? "/" : "", m);
    free(m);
    if (!rt->key) {
        rc = -ENOMEM;
        goto fail;
    }
    (void)index;
    /* Register before the children so ids are depth-first. */
    cairn_routes_t *r = c->routes;
    cairn_route_t **grown = realloc(r->by_id, (r->n_routes + 1) * sizeof *grown);
    if (!grown) {
        rc = -ENOMEM;
        goto fail;
    }
    r->by_id = grown;
    rt->id = r->n_routes;
    r->by_id[r->n_routes++] = rt;

    /* From here on the node belongs to the tree: errors hand it back too. */
    *out = rt;
    struct fy_node *kids = s_get(n, "routes");
    if (!kids)
        return 0;
    if (!fy_node_is_sequence(kids))
        return s_fail(c, kids, "routes must be a list of routes");
    rt->routes = calloc((size_t)fy_node_sequence_item_count(kids) + 1, sizeof *rt->routes);
    if (!rt->routes)
        return -ENOMEM;
    void *it = NULL;
    struct fy_node *kid;
    while ((kid = fy_node_sequence_iterate(kids, &it)) != NULL) {
        cairn_route_t *child = NULL;
        rc = s_route(c, kid, rt, rt->n_routes, &child);
        if (child)
            rt->routes[rt->n_routes++] = child;
        if (rc < 0)
            return rc;
    }
    return 0;
fail:
    s_route_free(rt);
    return rc;
}

static int s_inhibit(s_ctx_t *c, struct fy_node *list)
{
    static const char *const keys[] = {"source_matchers", "target_matchers", "equal", NULL};
    cairn_routes_t *r = c->routes;
    int rc;
    if (!list)
        return 0;
    if (!fy_node_is_sequence(list))
        return s_fail(c, list, "inhibit_rules must be a list");
    void *it = NULL;
    struct fy_node *n;
    while ((n = fy_node_sequence_iterate(list, &it)) != NULL) {
        if ((rc = s_check_keys(c, n, "an inhibit rule", keys)) < 0)
            return rc;
        cairn_inhibit_rule_t *ir = calloc(1, sizeof *ir);
        cairn_inhibit_rule_t **grown = realloc(r->inhibit, (r->n_inhibit + 1) * sizeof *grown);
        if (grown)
            r->inhibit = grown;
        if (!ir || !grown) {
            free(ir);
            return -ENOMEM;
        }
        r->inhibit[r->n_inhibit++] = ir;
        if ((rc = s_matchers(c, n, "source_matchers", &ir->source)) < 0 ||
            (rc = s_matchers(c, n, "target_matchers", &ir->target)) < 0 ||
            (rc = s_strings(c, s_get(n, "equal"), "equal", &ir->equal, &ir->n_equal)) < 0)
            return rc;
        if (cairn_matchers_count(ir->source) == 0 || cairn_matchers_count(ir->target) == 0)
            return s_fail(c, n, "an inhibit rule needs source_matchers and target_matchers");
    }
    return 0;
}

static int s_escalations(s_ctx_t *c, struct fy_node *list)
{
    static const char *const keys[] = {"name", "matchers", "after", "set_labels", NULL};
    cairn_routes_t *r = c->routes;
    int rc;
    if (!list)
        return 0;
    if (!fy_node_is_sequence(list))
        return s_fail(c, list, "escalations must be a list");
    void *it = NULL;
    struct fy_node *n;
    while ((n = fy_node_sequence_iterate(list, &it)) != NULL) {
        if ((rc = s_check_keys(c, n, "an escalation", keys)) < 0)
            return rc;
        cairn_escalation_t *e = calloc(1, sizeof *e);
        cairn_escalation_t **grown =
            realloc(r->escalations, (r->n_escalations + 1) * sizeof *grown);
        if (grown)
            r->escalations = grown;
        if (!e || !grown || !(e->set_labels = cairn_labels_new())) {
            free(e);
            return -ENOMEM;
        }
        r->escalations[r->n_escalations++] = e;
        if ((rc = s_str(c, n, "name", &e->name)) < 0 ||
            (rc = s_matchers(c, n, "matchers", &e->matchers)) < 0)
            return rc;
        if (!e->name || !*e->name)
            return s_fail(c, n, "every escalation needs a name");
        bool has_after = false;
        if ((rc = s_duration(c, n, "after", &e->after_ms, &has_after)) < 0)
            return rc;
        if (!has_after || e->after_ms <= 0)
            return s_fail(c, n, "escalation '%s' needs after: a duration like 4h", e->name);
        struct fy_node *set = s_get(n, "set_labels");
        if (set) {
            if (!fy_node_is_mapping(set))
                return s_fail(c, set, "set_labels must be a mapping of label: value");
            void *it2 = NULL;
            struct fy_node_pair *p;
            while ((p = fy_node_mapping_iterate(set, &it2)) != NULL) {
                const char *k = s_scalar(fy_node_pair_key(p));
                const char *v = s_scalar(fy_node_pair_value(p));
                if (!k || !v)
                    return s_fail(c, fy_node_pair_key(p), "set_labels entries are label: value");
                if ((rc = cairn_labels_set(e->set_labels, k, v)) < 0)
                    return rc;
            }
        }
    }
    return 0;
}

static int s_teams(s_ctx_t *c, struct fy_node *map)
{
    if (!map)
        return 0;
    if (!fy_node_is_mapping(map))
        return s_fail(c, map, "service_teams must be a mapping of service: team");
    void *it = NULL;
    struct fy_node_pair *p;
    while ((p = fy_node_mapping_iterate(map, &it)) != NULL) {
        const char *k = s_scalar(fy_node_pair_key(p));
        const char *v = s_scalar(fy_node_pair_value(p));
        if (!k || !v)
            return s_fail(c, fy_node_pair_key(p), "service_teams entries are service: team");
        int rc = cairn_labels_set(c->routes->service_teams, k, v);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int s_build(s_ctx_t *c, struct fy_node *root)
{
    static const char *const keys[] = {"global",        "route",          "receivers",
                                       "inhibit_rules", "time_intervals", "mute_time_intervals",
                                       "escalations",   "service_teams",  NULL};
    int rc;
    if (!root)
        return s_fail(c, NULL, "the routes file is empty: it needs route and receivers");
    if ((rc = s_check_keys(c, root, "the routes file", keys)) < 0 ||
        (rc = s_global(c, s_get(root, "global"))) < 0 ||
        (rc = s_intervals(c, s_get(root, "time_intervals"))) < 0 ||
        (rc = s_intervals(c, s_get(root, "mute_time_intervals"))) < 0 ||
        (rc = s_receivers(c, s_get(root, "receivers"))) < 0)
        return rc;
    struct fy_node *route = s_get(root, "route");
    if (!route)
        return s_fail(c, root, "the routes file needs a root route");
    if ((rc = s_route(c, route, NULL, 0, &c->routes->root)) < 0)
        return rc;
    if ((rc = s_inhibit(c, s_get(root, "inhibit_rules"))) < 0 ||
        (rc = s_escalations(c, s_get(root, "escalations"))) < 0 ||
        (rc = s_teams(c, s_get(root, "service_teams"))) < 0)
        return rc;
    return 0;
}

int cairn_routes_parse(const char *yaml, size_t len, const char *name, const char *file_path,
                       cairn_routes_t **out, char *err, size_t errlen)
{
    s_ctx_t c = {
        .name = name && *name ? name : "routes",
        .file_path = file_path,
        .err = err,
        .errlen = errlen,
        .http_timeout_ms = 15000,
        .retry = {.initial_ms = 5000,
                  .max_ms = 6 * 3600000LL,
                  .max_attempts = 15,
                  .max_age_ms = 72 * 3600000LL},
    };
    struct fy_diag *diag = NULL;
    struct fy_document *doc = NULL;
    int rc = 0;

    if (err && errlen)
        err[0] = '\0';
    if (sodium_init() < 0)
        return CAIRN_ECRYPTO;
    c.routes = calloc(1, sizeof *c.routes);
    if (!c.routes)
        return -ENOMEM;
    c.routes->resolve_timeout_ms = 7 * 24 * 3600000LL;
    c.routes->path = strdup(name && *name ? name : "");
    c.routes->service_teams = cairn_labels_new();
    if (!c.routes->path || !c.routes->service_teams) {
        rc = -ENOMEM;
        goto out;
    }

    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.colorize = false;
    diag = fy_diag_create(&dcfg);
    if (!diag) {
        rc = -ENOMEM;
        goto out;
    }
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2, .diag = diag};
    doc = fy_document_build_from_string(&pcfg, yaml, len);
    if (!doc) {
        void *it = NULL;
        struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
        if (e && err)
            snprintf(err, errlen, "%s:%d:%d: %s", c.name, e->line, e->column, e->msg);
        else if (err)
            snprintf(err, errlen, "%s: not valid YAML", c.name);
        rc = CAIRN_ECONFIG;
        goto out;
    }
    int line, col;
    if ((rc = cairn_yaml_find_misread(doc, &line, &col)) != 0) {
        if (rc > 0) {
            if (err)
                snprintf(err, errlen, "%s:%d:%d: %s", c.name, line + 1, col + 1,
                         CAIRN_YAML_MISREAD_HINT);
            rc = CAIRN_ECONFIG;
        }
        goto out;
    }
    if ((rc = s_build(&c, fy_document_root(doc))) < 0)
        goto out;
    *out = c.routes;
    c.routes = NULL;
out:
    free(c.smtp_smarthost);
    free(c.smtp_from);
    free(c.smtp_hello);
    free(c.smtp_user);
    if (c.smtp_pass)
        memset(c.smtp_pass, 0, strlen(c.smtp_pass));
    free(c.smtp_pass);
    free(c.slack_url);
    free(c.tls_ca_file);
    fy_document_destroy(doc);
    fy_diag_destroy(diag);
    cairn_routes_destroy(&c.routes);
    if (rc < 0 && rc != CAIRN_ECONFIG && err && errlen && !*err)
        snprintf(err, errlen, "%s: %s", c.name, cairn_strerror(rc));
    return rc;
}

int cairn_routes_load(const char *path, const char *file_path, cairn_routes_t **out, char *err,
                      size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!path || !*path)
        return cairn_routes_parse(s_default_yaml, strlen(s_default_yaml), "", file_path, out, err,
                                  errlen);
    char *text = NULL;
    size_t len = 0;
    int rc = cairn_read_file(path, S_MAX_FILE, &text, &len);
    if (rc < 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot read: %s", path, cairn_strerror(rc));
        return CAIRN_ECONFIG;
    }
    rc = cairn_routes_parse(text, len, path, file_path, out, err, errlen);
    free(text);
    return rc;
}

void cairn_routes_destroy(cairn_routes_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_routes_t *self = *self_p;
    s_route_free(self->root);
    free(self->by_id);
    for (size_t i = 0; i < self->n_receivers; i++)
        s_receiver_free(self->receivers[i]);
    free(self->receivers);
    for (size_t i = 0; i < self->n_inhibit; i++) {
        cairn_matchers_destroy(&self->inhibit[i]->source);
        cairn_matchers_destroy(&self->inhibit[i]->target);
        s_free_strings(self->inhibit[i]->equal, self->inhibit[i]->n_equal);
        free(self->inhibit[i]);
    }
    free(self->inhibit);
    for (size_t i = 0; i < self->n_intervals; i++)
        cairn_time_interval_destroy(&self->intervals[i]);
    free(self->intervals);
    for (size_t i = 0; i < self->n_escalations; i++) {
        free(self->escalations[i]->name);
        cairn_matchers_destroy(&self->escalations[i]->matchers);
        cairn_labels_destroy(&self->escalations[i]->set_labels);
        free(self->escalations[i]);
    }
    free(self->escalations);
    cairn_labels_destroy(&self->service_teams);
    free(self->external_url);
    free(self->path);
    free(self);
    *self_p = NULL;
}

static size_t s_match(const cairn_route_t *rt, const cairn_labels_t *labels,
                      const cairn_route_t **out, size_t max, size_t n)
{
    if (!cairn_matchers_match(rt->matchers, labels))
        return n;
    size_t before = n;
    for (size_t i = 0; i < rt->n_routes; i++) {
        size_t got = s_match(rt->routes[i], labels, out, max, n);
        bool matched = got > n; /* a matching child always yields at least itself */
        n = got;
        if (matched && !rt->routes[i]->cont)
            break;
    }
    if (n == before) {
        if (n < max)
            out[n] = rt;
        n++;
    }
    return n;
}

size_t cairn_routes_match(const cairn_routes_t *self, const cairn_labels_t *labels,
                          const cairn_route_t **out, size_t max)
{
    size_t n = s_match(self->root, labels, out, max, 0);
    return n;
}

int cairn_route_group_labels(const cairn_route_t *route, const cairn_labels_t *labels,
                             cairn_labels_t **out)
{
    cairn_labels_t *g = route->group_by_all ? cairn_labels_dup(labels) : cairn_labels_new();
    if (!g)
        return -ENOMEM;
    for (size_t i = 0; !route->group_by_all && i < route->n_group_by; i++) {
        int rc =
            cairn_labels_set(g, route->group_by[i], cairn_labels_get(labels, route->group_by[i]));
        if (rc < 0) {
            cairn_labels_destroy(&g);
            return rc;
        }
    }
    *out = g;
    return 0;
}

bool cairn_route_active_at(const cairn_route_t *route, int64_t unix_ms)
{
    for (size_t i = 0; i < route->n_mute; i++)
        if (cairn_time_interval_contains(route->mute[i], unix_ms))
            return false;
    if (route->n_active == 0)
        return true;
    for (size_t i = 0; i < route->n_active; i++)
        if (cairn_time_interval_contains(route->active[i], unix_ms))
            return true;
    return false;
}

const cairn_route_t *cairn_routes_find(const cairn_routes_t *self, const char *key)
{
    for (size_t i = 0; i < self->n_routes; i++)
        if (strcmp(self->by_id[i]->key, key) == 0)
            return self->by_id[i];
    return NULL;
}

const char *cairn_integration_type_name(cairn_integration_type_t type)
{
    switch (type) {
    case CAIRN_INTEGRATION_FILE: return "file";
    case CAIRN_INTEGRATION_SLACK: return "slack";
    case CAIRN_INTEGRATION_WEBHOOK: return "webhook";
    case CAIRN_INTEGRATION_EMAIL: return "email";
    case CAIRN_INTEGRATION_ALERTMANAGER: return "alertmanager";
    case CAIRN_INTEGRATION_FEED: return "feed";
    }
    return "unknown";
}
