/* Webhook sources and the build of a canonical event from one delivery (see
 * webhook.h). The per-source normalizers fill the meaning; this file fills
 * everything the request itself says: the CloudEvents envelope, the raw body
 * as data, the headers kept as evidence, and the fallbacks for deliveries
 * that carry no id. */
#include "webhook.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cloudevent.h"
#include "json_arena.h"
#include "json_body.h"
#include "normalize_fields.h"
#include "normalize_sources.h"

static const struct {
    const char *name;
    cairn_webhook_normalize_fn fn;
} s_sources[] = {
    {"github", cairn_normalize_github},   {"gitlab", cairn_normalize_gitlab},
    {"jenkins", cairn_normalize_jenkins}, {"servicenow", cairn_normalize_servicenow},
    {"jira", cairn_normalize_jira},       {"pagerduty", cairn_normalize_pagerduty},
};

const char *const cairn_webhook_source_list =
    "github, gitlab, jenkins, servicenow, jira, pagerduty";

static cairn_webhook_normalize_fn s_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof s_sources / sizeof s_sources[0]; i++)
        if (strcmp(name, s_sources[i].name) == 0)
            return s_sources[i].fn;
    return NULL;
}

bool cairn_webhook_known(const char *name)
{
    return s_find(name) != NULL;
}

static int s_parts(Cairn__V1__Event *ev)
{
    ev->correlation = malloc(sizeof *ev->correlation);
    ev->governance = malloc(sizeof *ev->governance);
    ev->evidence = malloc(sizeof *ev->evidence);
    if (ev->correlation)
        cairn__v1__correlation__init(ev->correlation);
    if (ev->governance)
        cairn__v1__governance__init(ev->governance);
    if (ev->evidence)
        cairn__v1__evidence__init(ev->evidence);
    return ev->correlation && ev->governance && ev->evidence ? 0 : -ENOMEM;
}

int cairn_webhook_build(const char *source, const cairn_ingest_header_t *headers, size_t n,
                        const char *content_type, const void *body, size_t len, const char *sha_hex,
                        Cairn__V1__Event **out, char *key, size_t keylen, char *err, size_t errlen)
{
    cairn_webhook_normalize_fn fn = s_find(source);
    Cairn__V1__Event *ev = NULL;
    cJSON *root = NULL;
    int rc = 0;
    key[0] = '\0';
    if (!fn) {
        snprintf(err, errlen, "no webhook source '%.64s'; sources: %s", source ? source : "",
                 cairn_webhook_source_list);
        return CAIRN_EINVALID;
    }
    if (len == 0) {
        snprintf(err, errlen, "the request body is empty; a %s webhook sends a JSON body", source);
        return CAIRN_EPARSE;
    }
    /* The tree lives only in this call (the normalizers copy what they
     * keep), so it comes from this thread's arena (json_arena.h). */
    cairn_ingest_json_arena_begin();
    if ((rc = cairn_ingest_json_parse(body, len, "the body", &root, err, errlen)) < 0) {
        cairn_ingest_json_arena_end();
        return rc;
    }
    if (!cJSON_IsObject(root)) {
        snprintf(err, errlen, "a %s webhook body must be a JSON object", source);
        rc = CAIRN_EINVALID;
        goto out;
    }
    ev = malloc(sizeof *ev);
    if (!ev) {
        rc = -ENOMEM;
        goto out;
    }
    cairn__v1__event__init(ev);
    if ((rc = s_parts(ev)) < 0)
        goto out;

    cairn_webhook_input_t in = {.headers = headers, .n_headers = n, .body = root};
    if ((rc = fn(&in, ev, key, keylen, err, errlen)) < 0)
        goto out;
    if (!*ev->type) {
        snprintf(err, errlen, "the %s normalizer left the event without a type", source);
        rc = CAIRN_EINTERNAL;
        goto out;
    }
    /* A payload whose addresses are all empty still has a source. */
    if ((rc = cairn_nf_default(&ev->source, source)) < 0)
        goto out;
    if (!key[0])
        snprintf(key, keylen, "%s:sha256:%s", source, sha_hex);
    rc = cairn_nf_default(&ev->id, sha_hex);
    if (rc == 0)
        rc = cairn_nf_set(&ev->spec_version, "1.0");
    if (rc == 0)
        rc = cairn_nf_set(&ev->ingest_source, source);
    if (rc == 0)
        rc = cairn_nf_set(&ev->data_content_type,
                          content_type && *content_type ? content_type : "application/json");
    if (rc == 0)
        rc = cairn_ingest_headers_keep(ev, headers, n);
    if (rc == 0) {
        ev->data.data = malloc(len);
        if (!ev->data.data) {
            rc = -ENOMEM;
        } else {
            memcpy(ev->data.data, body, len);
            ev->data.len = len;
        }
    }
out:
    if (rc == -ENOMEM)
        snprintf(err, errlen, "ingest ran out of memory while reading the %s webhook", source);
    cJSON_Delete(root);
    cairn_ingest_json_arena_end();
    if (rc < 0) {
        cairn_cloudevent_free(&ev);
        return rc;
    }
    *out = ev;
    return 0;
}
