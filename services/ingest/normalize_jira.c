/* Jira (and Jira Service Management) issue webhooks -> canonical events.
 * The event is the body's webhookEvent (jira:issue_created, _updated,
 * _deleted); the delivery id is X-Atlassian-Webhook-Identifier, unchanged
 * across Jira's retries. Issues are CDEvents tickets. A Change issue (JSM
 * change management) is itself the change: its key is the change id; an
 * Incident issue's key is the incident id; any other issue may name its
 * change with a Cairn-Change trailer in its description. docs/events.md has
 * the tables. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "normalize_fields.h"
#include "normalize_sources.h"

/* Longest description text searched for a trailer. */
#define S_TEXT_MAX 65536

static const char s_supported[] = "jira:issue_created, jira:issue_updated, jira:issue_deleted";

static bool s_contains(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = text; p && *p; p++)
        if (strncasecmp(p, word, n) == 0)
            return true;
    return false;
}

/* The text of an Atlassian Document Format node (Jira Cloud API v3 sends
 * descriptions that way), one line per block. */
static void s_adf_text(const cJSON *node, char *out, size_t *len, size_t cap, int depth)
{
    if (depth > 32 || !cJSON_IsObject(node))
        return;
    const char *text = cairn_nf_str(node, "text");
    if (text) {
        size_t n = strlen(text);
        if (*len + n + 1 < cap) {
            memcpy(out + *len, text, n);
            *len += n;
        }
    }
    const cJSON *content = cairn_nf_at(node, "content");
    const cJSON *child;
    if (cJSON_IsArray(content))
        cairn_json_foreach(child, content)
        {
            s_adf_text(child, out, len, cap, depth + 1);
        }
    const char *type = cairn_nf_str(node, "type");
    if (type && strcmp(type, "text") != 0 && *len + 1 < cap)
        out[(*len)++] = '\n';
    out[*len] = '\0';
}

static int s_change_from_description(Cairn__V1__Event *ev, const cJSON *description)
{
    char change[160];
    char *text = NULL;
    bool found = false;
    if (cJSON_IsString(description)) {
        found =
            cairn_nf_trailer(cairn_json_str(description), "Cairn-Change", change, sizeof change);
    } else if (cJSON_IsObject(description)) {
        size_t len = 0;
        text = malloc(S_TEXT_MAX);
        if (!text)
            return -ENOMEM;
        text[0] = '\0';
        s_adf_text(description, text, &len, S_TEXT_MAX, 0);
        found = cairn_nf_trailer(text, "Cairn-Change", change, sizeof change);
        free(text);
    }
    if (!found)
        return 0;
    int rc = cairn_nf_set(&ev->correlation->change_id, change);
    return rc < 0 ? rc : cairn_nf_infer(ev, "change_id");
}

static int s_labels(Cairn__V1__Governance *g, const cJSON *labels)
{
    const cJSON *label;
    int rc = 0;
    if (!cJSON_IsArray(labels))
        return 0;
    cairn_json_foreach(label, labels)
    {
        if (rc == 0 && cJSON_IsString(label))
            rc = cairn_nf_add(&g->labels, &g->n_labels, cairn_json_str(label));
    }
    return rc;
}

/* True when the changelog moves the status and the issue is now done. */
static bool s_closed(const cJSON *b)
{
    const char *category = cairn_nf_str(b, "issue.fields.status.statusCategory.key");
    const cJSON *items = cairn_nf_at(b, "changelog.items");
    const cJSON *item;
    if (!category || strcmp(category, "done") != 0 || !cJSON_IsArray(items))
        return false;
    cairn_json_foreach(item, items)
    {
        const char *field = cairn_nf_str(item, "field");
        if (field && strcmp(field, "status") == 0)
            return true;
    }
    return false;
}

int cairn_normalize_jira(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                         size_t keylen, char *err, size_t errlen)
{
    const cJSON *b = in->body;
    const char *event = cairn_nf_str(b, "webhookEvent");
    if (!cJSON_IsObject(b) || !event)
        return cairn_nf_fail(err, errlen,
                             "the body has no 'webhookEvent'; Cairn accepts Jira issue webhooks "
                             "(%s)",
                             s_supported);
    bool created = strcmp(event, "jira:issue_created") == 0;
    bool updated = strcmp(event, "jira:issue_updated") == 0;
    bool deleted = strcmp(event, "jira:issue_deleted") == 0;
    if (!created && !updated && !deleted)
        return cairn_nf_fail(err, errlen,
                             "Jira event '%.64s' is not supported; supported events: %s. Remove "
                             "it from the webhook's events",
                             event, s_supported);
    const cJSON *issue = cairn_nf_at(b, "issue");
    const char *issue_key = cairn_nf_str(issue, "key");
    if (!cJSON_IsObject(issue) || !issue_key)
        return cairn_nf_fail(err, errlen, "the %s event has no issue key (issue.key)", event);

    Cairn__V1__Correlation *c = ev->correlation;
    Cairn__V1__Governance *g = ev->governance;
    const char *issuetype = cairn_nf_str(issue, "fields.issuetype.name");
    const char *project = cairn_nf_str(issue, "fields.project.key");
    char host[256] = "jira", source[400];
    cairn_nf_host(cairn_nf_str(issue, "self"), host, sizeof host);
    snprintf(source, sizeof source, "%s/%s", host, project ? project : issue_key);

    int rc;
    if (created)
        rc = cairn_nf_type(ev, "dev.cdevents.ticket.created.0.2.0");
    else if (updated)
        rc = cairn_nf_type(ev, s_closed(b) ? "dev.cdevents.ticket.closed.0.2.0"
                                           : "dev.cdevents.ticket.updated.0.2.0");
    else
        rc = cairn_nf_type(ev, "com.atlassian.jira.issue.deleted");
    if (rc == 0)
        rc = cairn_nf_set(&ev->source, source);
    if (rc == 0)
        rc = cairn_nf_set(&ev->subject, issue_key);
    if (rc == 0 && s_contains(issuetype, "change"))
        rc = cairn_nf_set(&c->change_id, issue_key);
    else if (rc == 0 && s_contains(issuetype, "incident")) {
        rc = cairn_nf_set(&c->incident_id, issue_key);
        if (rc == 0) {
            char sev[64] = "";
            const char *prio = cairn_nf_str(issue, "fields.priority.name");
            for (size_t i = 0; prio && prio[i] && i + 1 < sizeof sev; i++) {
                sev[i] = (char)tolower((unsigned char)prio[i]);
                sev[i + 1] = '\0';
            }
            rc = cairn_nf_set(&g->incident_severity, sev);
        }
    }
    if (rc == 0)
        rc = s_change_from_description(ev, cairn_nf_at(issue, "fields.description"));
    if (rc == 0) {
        const char *who = cairn_nf_str(b, "user.name");
        rc = cairn_nf_set(&g->actor, who ? who : cairn_nf_str(b, "user.accountId"));
    }
    if (rc == 0)
        rc = s_labels(g, cairn_nf_at(issue, "fields.labels"));
    if (rc == 0) {
        const cJSON *ts = cairn_nf_at(b, "timestamp");
        if (cairn_json_is_integer(ts))
            rc = cairn_nf_time_ms(ev, cairn_json_integer(ts));
    }
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookevent", event);
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookaction", cairn_nf_str(b, "issue_event_type_name"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "issuetype", issuetype);
    if (rc == 0)
        rc = cairn_nf_ext(ev, "status", cairn_nf_str(issue, "fields.status.name"));

    const char *id =
        cairn_ingest_header(in->headers, in->n_headers, "x-atlassian-webhook-identifier");
    if (rc == 0 && id && *id) {
        cairn_nf_key(key, keylen, "jira", id);
        rc = cairn_nf_set(&ev->id, id);
    }
    return rc;
}
