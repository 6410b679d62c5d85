/* Field helpers for the per-source normalizers (see normalize_fields.h). */
#include "normalize_fields.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cairn/error.h"
#include "cairn/util.h"

const cJSON *cairn_nf_at(const cJSON *root, const char *path)
{
    const cJSON *v = root;
    const char *p = path;
    while (v && *p) {
        size_t n = strcspn(p, ".");
        char seg[128];
        if (n >= sizeof seg)
            return NULL;
        memcpy(seg, p, n);
        seg[n] = '\0';
        if (cJSON_IsObject(v)) {
            v = cairn_json_get(v, seg);
        } else if (cJSON_IsArray(v) && n > 0 && n < 10 && strspn(seg, "0123456789") == n) {
            v = cJSON_GetArrayItem(v, (int)strtol(seg, NULL, 10));
        } else {
            return NULL;
        }
        p += n;
        if (*p == '.')
            p++;
    }
    return v && !cJSON_IsNull(v) ? v : NULL;
}

const char *cairn_nf_str(const cJSON *root, const char *path)
{
    const char *s = cairn_json_str(cairn_nf_at(root, path));
    return s && *s ? s : NULL;
}

const char *cairn_nf_text(const cJSON *v, char buf[32])
{
    if (cJSON_IsString(v))
        return *v->valuestring ? v->valuestring : NULL;
    if (cairn_json_is_integer(v)) {
        snprintf(buf, 32, "%" PRId64, cairn_json_integer(v));
        return buf;
    }
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    return NULL;
}

const char *cairn_nf_text_at(const cJSON *root, const char *path, char buf[32])
{
    return cairn_nf_text(cairn_nf_at(root, path), buf);
}

int cairn_nf_set(char **field, const char *value)
{
    if (!value || !*value)
        return 0;
    char *copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    if (*field && *field != protobuf_c_empty_string)
        free(*field);
    *field = copy;
    return 0;
}

int cairn_nf_set_at(char **field, const cJSON *root, const char *path)
{
    char buf[32];
    return cairn_nf_set(field, cairn_nf_text_at(root, path, buf));
}

int cairn_nf_default(char **field, const char *value)
{
    return (*field && **field) ? 0 : cairn_nf_set(field, value);
}

int cairn_nf_add(char ***items, size_t *n, const char *value)
{
    if (!value || !*value)
        return 0;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*items)[i], value) == 0)
            return 0;
    char **grown = realloc(*items, (*n + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    *items = grown;
    if (!(grown[*n] = strdup(value)))
        return -ENOMEM;
    (*n)++;
    return 0;
}

int cairn_nf_type(Cairn__V1__Event *ev, const char *fmt, ...)
{
    char type[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(type, sizeof type, fmt, ap);
    va_end(ap);
    /* Source words ("Merge Request", "in_progress") stay readable but are
     * kept to the characters CloudEvents types conventionally use. */
    for (char *p = type; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            *p = '_';
    /* "com.github.check_suite." when the payload had no action */
    size_t len = strlen(type);
    while (len > 0 && type[len - 1] == '.')
        type[--len] = '\0';
    return cairn_nf_set(&ev->type, type);
}

int cairn_nf_infer(Cairn__V1__Event *ev, const char *key)
{
    Cairn__V1__Correlation *c = ev->correlation;
    return cairn_nf_add(&c->inferred, &c->n_inferred, key);
}

int cairn_nf_ext(Cairn__V1__Event *ev, const char *name, const char *value)
{
    if (!value || !*value)
        return 0;
    for (size_t i = 0; i < ev->n_extensions; i++)
        if (strcmp(ev->extensions[i]->key, name) == 0)
            return cairn_nf_set(&ev->extensions[i]->value, value);
    Cairn__V1__Event__ExtensionsEntry **grown =
        realloc(ev->extensions, (ev->n_extensions + 1) * sizeof *grown);
    if (!grown)
        return -ENOMEM;
    ev->extensions = grown;
    Cairn__V1__Event__ExtensionsEntry *entry = malloc(sizeof *entry);
    if (!entry)
        return -ENOMEM;
    cairn__v1__event__extensions_entry__init(entry);
    grown[ev->n_extensions++] = entry;
    int rc = cairn_nf_set(&entry->key, name);
    return rc < 0 ? rc : cairn_nf_set(&entry->value, value);
}

int cairn_nf_time(Cairn__V1__Event *ev, const char *text)
{
    int64_t ms;
    if (!text || cairn_parse_time(text, &ms) < 0)
        return 0;
    return cairn_nf_set(&ev->time, text);
}

int cairn_nf_time_ms(Cairn__V1__Event *ev, int64_t unix_ms)
{
    char text[32];
    if (unix_ms <= 0)
        return 0;
    cairn_format_time(unix_ms, text);
    return cairn_nf_set(&ev->time, text);
}

bool cairn_nf_trailer(const char *text, const char *name, char *out, size_t outlen)
{
    size_t name_len = strlen(name);
    bool found = false;
    for (const char *line = text; line && *line;) {
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, name, name_len) == 0 && p[name_len] == ':') {
            p += name_len + 1;
            while (*p == ' ' || *p == '\t')
                p++;
            size_t n = 0;
            while (p[n] && !isspace((unsigned char)p[n]))
                n++;
            if (n > 0 && n < outlen) {
                memcpy(out, p, n);
                out[n] = '\0';
                found = true;
            }
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return found;
}

bool cairn_nf_host(const char *url, char *out, size_t outlen)
{
    if (!url)
        return false;
    const char *p = strstr(url, "://");
    if (!p)
        return false;
    p += 3;
    const char *at = NULL;
    size_t n = strcspn(p, "/?#");
    for (size_t i = 0; i < n; i++)
        if (p[i] == '@')
            at = p + i;
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t host = 0;
    while (host < n && p[host] != ':')
        host++;
    if (host == 0 || host >= outlen)
        return false;
    for (size_t i = 0; i < host; i++)
        out[i] = (char)tolower((unsigned char)p[i]);
    out[host] = '\0';
    return true;
}

bool cairn_nf_repo_from_url(const char *url, char *out, size_t outlen)
{
    if (!url || !*url)
        return false;
    const char *path;
    const char *scheme = strstr(url, "://");
    if (scheme) {
        path = strchr(scheme + 3, '/');
    } else {
        /* scp-like: [user@]host:owner/name.git */
        const char *colon = strchr(url, ':');
        path = colon ? colon + 1 : NULL;
    }
    if (!path)
        return false;
    while (*path == '/')
        path++;
    size_t n = strcspn(path, "?#");
    while (n > 0 && path[n - 1] == '/')
        n--;
    if (n > 4 && strncmp(path + n - 4, ".git", 4) == 0)
        n -= 4;
    if (n == 0 || n >= outlen || !memchr(path, '/', n))
        return false;
    memcpy(out, path, n);
    out[n] = '\0';
    return true;
}

bool cairn_nf_is_sha(const char *text)
{
    if (!text)
        return false;
    size_t n = strlen(text);
    if (n != 40 && n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)text[i]))
            return false;
    return true;
}

void cairn_nf_key(char *key, size_t keylen, const char *prefix, const char *material)
{
    int n = snprintf(key, keylen, "%s:%s", prefix, material);
    if (n >= 0 && (size_t)n < keylen)
        return;
    uint8_t sha[32];
    char hex[65];
    cairn_sha256(material, strlen(material), sha);
    cairn_hex(sha, sizeof sha, hex);
    snprintf(key, keylen, "%s:sha256:%s", prefix, hex);
}

int cairn_nf_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return CAIRN_EINVALID;
}

const char *cairn_nf_outcome(const char *result, char *buf, size_t buflen)
{
    static const struct {
        const char *word, *outcome;
    } map[] = {
        {"success", "success"},  {"successful", "success"},    {"succeeded", "success"},
        {"passed", "success"},   {"failure", "failure"},       {"failed", "failure"},
        {"unstable", "failure"}, {"timed_out", "failure"},     {"error", "error"},
        {"errored", "error"},    {"startup_failure", "error"}, {"stale", "error"},
        {"cancelled", "cancel"}, {"canceled", "cancel"},       {"aborted", "cancel"},
        {"cancel", "cancel"},    {"skipped", "skipped"},       {"not_built", "skipped"},
    };
    if (!result)
        return NULL;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(result, map[i].word) == 0)
            return map[i].outcome;
    size_t i = 0;
    for (; result[i] && i + 1 < buflen; i++)
        buf[i] = (char)tolower((unsigned char)result[i]);
    buf[i] = '\0';
    return buf;
}
