/* Correlation keys of events and of queries (see keys.h). */
#include "keys.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool s_set(const char *s)
{
    return s && *s;
}

static bool s_hex(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Adds prefix + a (+ "#" + b), lower-casing a full SHA. Keys too long to be
 * stored are skipped; so are repeats. */
static int s_add(cairn_keys_t *k, const char *prefix, const char *a, const char *b)
{
    if (k->n >= CAIRN_KEYS_MAX)
        return 0;
    size_t pl = strlen(prefix), al = strlen(a), bl = b ? strlen(b) + 1 : 0;
    if (pl + al + bl > CAIRN_KEY_MAX)
        return 0;
    char *key = malloc(pl + al + bl + 1);
    if (!key)
        return -ENOMEM;
    memcpy(key, prefix, pl);
    memcpy(key + pl, a, al);
    if (strcmp(prefix, "sha:") == 0)
        for (size_t i = pl; i < pl + al; i++)
            key[i] = (char)tolower((unsigned char)key[i]);
    if (b) {
        key[pl + al] = '#';
        memcpy(key + pl + al + 1, b, bl - 1);
    }
    key[pl + al + bl] = '\0';
    for (size_t i = 0; i < k->n; i++)
        if (strcmp(k->items[i], key) == 0) {
            free(key);
            return 0;
        }
    k->items[k->n++] = key;
    return 0;
}

void cairn_keys_clear(cairn_keys_t *self)
{
    for (size_t i = 0; i < self->n; i++)
        free(self->items[i]);
    memset(self, 0, sizeof *self);
}

int cairn_keys_of_event(const Cairn__V1__Event *ev, cairn_keys_t *out)
{
    memset(out, 0, sizeof *out);
    const Cairn__V1__Correlation *c = ev->correlation;
    const Cairn__V1__Governance *g = ev->governance;
    if (!c || !s_set(c->change_id))
        return 0;
    int rc = 0;
    if (s_set(c->commit_sha))
        rc = s_add(out, "sha:", c->commit_sha, NULL);
    if (rc == 0 && g && s_set(g->merge_sha))
        rc = s_add(out, "sha:", g->merge_sha, NULL);
    if (rc == 0 && s_set(c->repository) && s_set(c->pr_number))
        rc = s_add(out, "pr:", c->repository, c->pr_number);
    if (rc == 0 && s_set(ev->ingest_source) &&
        (strcmp(ev->ingest_source, "servicenow") == 0 || strcmp(ev->ingest_source, "jira") == 0))
        rc = s_add(out, "cr:", c->change_id, NULL);
    if (rc == 0 && s_set(c->incident_id))
        rc = s_add(out, "incident:", c->incident_id, NULL);
    if (rc == 0 && s_set(c->release_id))
        rc = s_add(out, "release:", c->release_id, NULL);
    if (rc == 0 && s_set(c->artifact_digest))
        rc = s_add(out, "artifact:", c->artifact_digest, NULL);
    if (rc < 0)
        cairn_keys_clear(out);
    return rc;
}

static const char *const s_prefixes[] = {
    "sha:", "pr:", "cr:", "incident:", "release:", "artifact:"};

int cairn_keys_candidates(const char *key, cairn_keys_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = 0;
    for (size_t i = 0; i < sizeof s_prefixes / sizeof s_prefixes[0]; i++) {
        size_t pl = strlen(s_prefixes[i]);
        if (strncmp(key, s_prefixes[i], pl) == 0 && key[pl]) {
            rc = s_add(out, s_prefixes[i], key + pl, NULL);
            goto out;
        }
    }
    size_t len = strlen(key);
    const char *hash = strrchr(key, '#');
    if ((len == 40 || len == 64) && s_hex(key, len)) {
        rc = s_add(out, "sha:", key, NULL);
    } else if (hash && hash != key && hash[1]) {
        rc = s_add(out, "pr:", key, NULL);
    } else if (len) {
        if ((rc = s_add(out, "incident:", key, NULL)) == 0 &&
            (rc = s_add(out, "release:", key, NULL)) == 0)
            rc = s_add(out, "cr:", key, NULL);
    }
out:
    if (rc < 0)
        cairn_keys_clear(out);
    return rc;
}
