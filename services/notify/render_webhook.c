/* Machine-readable bodies (see render.h): the CloudEvent a signed webhook
 * carries, with Alertmanager's webhook payload (version 4) as its data, and
 * the body of Alertmanager's POST /api/v2/alerts. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/util.h"
#include "file_receiver.h"
#include "render.h"
#include "render_internal.h"

#define S_CE_TYPE "dev.cdeventsx.cairn-notification.0.1.0"

static json_t *s_time(int64_t ms)
{
    char t[32];
    if (ms <= 0)
        return json_string("0001-01-01T00:00:00Z");
    cairn_format_time(ms, t);
    return json_string(t);
}

/* Annotations: what people read about an alert. */
static json_t *s_annotations(const cairn_note_alert_t *a)
{
    json_t *ann = json_object();
    if (!ann)
        return NULL;
    static const char *const keys[] = {"title", "who", "how"};
    for (size_t i = 0; i < 3; i++) {
        const char *v = cairn_render_str(a->body, keys[i]);
        if (*v)
            json_object_set_new(ann, keys[i], cairn_notify_json_string(v));
    }
    const json_t *line = json_object_get(a->body, "line");
    const char *summary = cairn_render_str(line, "summary");
    if (*summary)
        json_object_set_new(ann, "summary", cairn_notify_json_string(summary));
    const json_t *req = json_object_get(a->body, "required");
    if (json_array_size(req)) {
        char buf[2048] = "";
        size_t used = 0;
        for (size_t i = 0; i < json_array_size(req) && used < sizeof buf; i++)
            used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", i ? "; " : "",
                                     json_string_value(json_array_get(req, i)));
        json_object_set_new(ann, "required", cairn_notify_json_string(buf));
    }
    if (a->acked_by)
        json_object_set_new(ann, "acknowledged_by", cairn_notify_json_string(a->acked_by));
    return ann;
}

static json_t *s_labels_json(const cairn_labels_t *l)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < cairn_labels_count(l); i++)
        json_object_set_new(o, cairn_labels_name(l, i),
                            cairn_notify_json_string(cairn_labels_value(l, i)));
    return o;
}

static json_t *s_am_payload(const cairn_notification_t *n, const cairn_integration_t *in)
{
    size_t max = in && in->max_alerts ? in->max_alerts : n->n_alerts;
    size_t shown = n->n_alerts < max ? n->n_alerts : max;
    bool firing = false;
    for (size_t i = 0; i < n->n_alerts; i++)
        firing |= n->alerts[i].firing;
    json_t *alerts = json_array(), *subjects = json_array();
    if (!alerts || !subjects)
        goto oom;
    for (size_t i = 0; i < n->n_alerts; i++) {
        const cairn_note_alert_t *a = &n->alerts[i];
        json_array_append_new(subjects, json_integer((json_int_t)a->index));
        if (i >= shown)
            continue;
        char fp[17];
        snprintf(fp, sizeof fp, "%016" PRIx64, a->fingerprint);
        json_t *obj = json_pack(
            "{s:s, s:o, s:o, s:o, s:o, s:s, s:s, s:I}", "status", a->firing ? "firing" : "resolved",
            "labels", s_labels_json(a->labels), "annotations", s_annotations(a), "startsAt",
            s_time(a->starts_ms), "endsAt", s_time(a->firing ? 0 : a->ends_ms), "generatorURL",
            n->external_url ? n->external_url : "", "fingerprint", fp, "ledgerIndex",
            (json_int_t)a->index);
        if (!obj || json_array_append_new(alerts, obj) < 0)
            goto oom;
    }
    json_t *p = json_pack(
        "{s:s, s:s, s:I, s:s, s:s, s:o, s:o, s:{}, s:s, s:o, s:{s:s, s:I, s:o, s:b}}", "version",
        "4", "groupKey", n->group_key, "truncatedAlerts", (json_int_t)(n->n_alerts - shown),
        "status", firing ? "firing" : "resolved", "receiver", n->receiver, "groupLabels",
        s_labels_json(n->group_labels), "commonLabels", s_labels_json(n->common_labels),
        "commonAnnotations", "externalURL", n->external_url ? n->external_url : "", "alerts",
        alerts, "cairn", "groupId", n->group_id, "sequence", (json_int_t)n->sequence,
        "ledgerIndexes", subjects, "reminder", n->repeat);
    return p;
oom:
    json_decref(alerts);
    json_decref(subjects);
    return NULL;
}

int cairn_render_cloudevent(const cairn_notification_t *n, const cairn_integration_t *in,
                            char **body_out)
{
    json_t *data = s_am_payload(n, in);
    if (!data)
        return -ENOMEM;
    const char *change = cairn_labels_get(n->common_labels, "change");
    char source[512];
    snprintf(source, sizeof source, "%s/notify/%s",
             n->external_url && *n->external_url ? n->external_url : "/cairn", n->receiver);
    json_t *ce = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:o}", "specversion", "1.0", "id",
                           n->message_id, "source", source, "type", S_CE_TYPE, "subject",
                           *change ? change : n->group_key, "time", s_time(n->time_ms),
                           "datacontenttype", "application/json", "data", data);
    if (!ce)
        return -ENOMEM;
    char *text = json_dumps(ce, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ce);
    if (!text)
        return -ENOMEM;
    *body_out = text;
    return 0;
}

int cairn_render_alertmanager(const cairn_notification_t *n, char **body_out)
{
    json_t *arr = json_array();
    if (!arr)
        return -ENOMEM;
    for (size_t i = 0; i < n->n_alerts; i++) {
        const cairn_note_alert_t *a = &n->alerts[i];
        json_t *labels = s_labels_json(a->labels);
        /* Alertmanager names alerts by alertname. */
        if (labels)
            json_object_set_new(labels, "alertname",
                                json_string(*cairn_labels_get(a->labels, "kind")
                                                ? cairn_labels_get(a->labels, "kind")
                                                : "cairn"));
        json_t *obj = json_pack("{s:o, s:o, s:o, s:s}", "labels", labels, "annotations",
                                s_annotations(a), "startsAt", s_time(a->starts_ms), "generatorURL",
                                n->external_url ? n->external_url : "");
        if (obj && !a->firing)
            json_object_set_new(obj, "endsAt", s_time(a->ends_ms));
        if (!obj || json_array_append_new(arr, obj) < 0) {
            json_decref(arr);
            return -ENOMEM;
        }
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!text)
        return -ENOMEM;
    *body_out = text;
    return 0;
}
