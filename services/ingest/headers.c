/* Request headers: lookup, and which ones an event keeps as evidence (see
 * headers.h). An allow-list of prefixes decides what "matters" (the sources'
 * delivery, event and signature headers, the content type, the client); a
 * deny-list on top makes sure no credential is ever recorded. */
#include "headers.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* At most this many headers are kept, each value at most this long. */
#define S_KEEP_MAX 64
#define S_VALUE_MAX 2048

const char *cairn_ingest_header(const cairn_ingest_header_t *headers, size_t n, const char *name)
{
    for (size_t i = 0; headers && i < n; i++)
        if (headers[i].name && strcasecmp(headers[i].name, name) == 0)
            return headers[i].value ? headers[i].value : "";
    return NULL;
}

static bool s_prefix(const char *name, const char *prefix)
{
    return strncasecmp(name, prefix, strlen(prefix)) == 0;
}

static bool s_contains(const char *name, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = name; *p; p++)
        if (strncasecmp(p, word, n) == 0)
            return true;
    return false;
}

int cairn_ingest_header_keepable(const char *name)
{
    static const char *const allowed[] = {
        "content-type",    "user-agent", "x-github-",    "x-hub-signature", "x-gitlab-",
        "idempotency-key", "webhook-",   "x-pagerduty-", "x-webhook-",      "x-atlassian-",
        "x-servicenow-",   "ce-",        "x-request-id", "x-forwarded-for",
    };
    static const char *const credentials[] = {"token", "secret", "password", "passwd",
                                              "key",   "cookie", "auth",     "session"};
    if (!name || !*name)
        return 0;
    /* The usual, short name is lower-cased once and searched with
     * strncmp/strstr; a very long one case-insensitively in place. */
    char lower[128];
    size_t len = strnlen(name, sizeof lower);
    bool short_name = len < sizeof lower;
    if (short_name) {
        for (size_t i = 0; i < len; i++)
            lower[i] = (char)tolower((unsigned char)name[i]);
        lower[len] = '\0';
    }
    bool ok = false;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0] && !ok; i++)
        ok = short_name ? lower[0] == allowed[i][0] &&
                              strncmp(lower, allowed[i], strlen(allowed[i])) == 0
                        : s_prefix(name, allowed[i]);
    if (!ok)
        return 0;
    /* Idempotency-Key names a delivery, not a credential. */
    if (short_name ? strcmp(lower, "idempotency-key") == 0
                   : strcasecmp(name, "idempotency-key") == 0)
        return 1;
    for (size_t i = 0; i < sizeof credentials / sizeof credentials[0]; i++)
        if (short_name ? strstr(lower, credentials[i]) != NULL : s_contains(name, credentials[i]))
            return 0;
    return 1;
}

static char *s_lower(const char *s)
{
    char *copy = strdup(s);
    for (char *p = copy; p && *p; p++)
        *p = (char)tolower((unsigned char)*p);
    return copy;
}

int cairn_ingest_headers_keep(Cairn__V1__Event *ev, const cairn_ingest_header_t *headers, size_t n)
{
    /* The list is sized once for the usual case (nothing kept yet), not
     * regrown per header. */
    size_t room = 0;
    if (!ev->raw_headers && ev->n_raw_headers == 0 && headers && n > 0) {
        room = n < S_KEEP_MAX ? n : S_KEEP_MAX;
        if (!(ev->raw_headers = malloc(room * sizeof *ev->raw_headers)))
            return -ENOMEM;
    }
    for (size_t i = 0; headers && i < n && ev->n_raw_headers < S_KEEP_MAX; i++) {
        if (!cairn_ingest_header_keepable(headers[i].name))
            continue;
        const char *value = headers[i].value ? headers[i].value : "";
        size_t len = strnlen(value, S_VALUE_MAX);
        Cairn__V1__Event__RawHeadersEntry *entry = malloc(sizeof *entry);
        if (!entry)
            return -ENOMEM;
        cairn__v1__event__raw_headers_entry__init(entry);
        entry->key = s_lower(headers[i].name);
        entry->value = strndup(value, len);
        Cairn__V1__Event__RawHeadersEntry **grown =
            ev->n_raw_headers < room
                ? ev->raw_headers
                : realloc(ev->raw_headers, (ev->n_raw_headers + 1) * sizeof *grown);
        if (!entry->key || !entry->value || !grown) {
            free(entry->key);
            free(entry->value);
            free(entry);
            if (grown)
                ev->raw_headers = grown;
            return -ENOMEM;
        }
        ev->raw_headers = grown;
        grown[ev->n_raw_headers++] = entry;
    }
    if (room && ev->n_raw_headers == 0) { /* nothing kept: no empty list */
        free(ev->raw_headers);
        ev->raw_headers = NULL;
    }
    return 0;
}
