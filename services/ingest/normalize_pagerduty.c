/* PagerDuty v3 webhooks -> canonical events. Each delivery holds exactly one
 * event ({"event": {id, event_type, resource_type, occurred_at, agent,
 * data}}); the delivery id is X-Webhook-Id (repeated on PagerDuty's retries),
 * else the event's own id. Incidents are CDEvents incidents where the
 * meaning matches (triggered -> incident.reported, resolved ->
 * incident.resolved), otherwise com.pagerduty.<event_type>. The service is
 * PagerDuty's service name; a Cairn-Change trailer in the incident's title
 * or body names the change. docs/events.md has the tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "normalize_fields.h"
#include "normalize_sources.h"

static const char *const s_incident_events[] = {"incident.triggered",
                                                "incident.acknowledged",
                                                "incident.unacknowledged",
                                                "incident.escalated",
                                                "incident.reassigned",
                                                "incident.delegated",
                                                "incident.priority_updated",
                                                "incident.reopened",
                                                "incident.resolved",
                                                "incident.annotated",
                                                "incident.responder.added",
                                                "incident.responder.replied",
                                                "incident.status_update_published",
                                                NULL};

static const char s_supported[] =
    "incident.triggered, incident.acknowledged, incident.unacknowledged, incident.escalated, "
    "incident.reassigned, incident.delegated, incident.priority_updated, incident.reopened, "
    "incident.resolved, incident.annotated, incident.responder.added, "
    "incident.responder.replied, incident.status_update_published (and pagey.ping)";

static int s_change_from_text(Cairn__V1__Event *ev, const char *text)
{
    char change[160];
    if (!text || (ev->correlation->change_id && *ev->correlation->change_id) ||
        !cairn_nf_trailer(text, "Cairn-Change", change, sizeof change))
        return 0;
    int rc = cairn_nf_set(&ev->correlation->change_id, change);
    return rc < 0 ? rc : cairn_nf_infer(ev, "change_id");
}

int cairn_normalize_pagerduty(const cairn_webhook_input_t *in, Cairn__V1__Event *ev, char *key,
                              size_t keylen, char *err, size_t errlen)
{
    const cJSON *event = cairn_nf_at(in->body, "event");
    const char *type = cairn_nf_str(event, "event_type");
    if (!cJSON_IsObject(event) || !type)
        return cairn_nf_fail(err, errlen,
                             "the body has no event.event_type; Cairn accepts PagerDuty v3 "
                             "webhooks (%s)",
                             s_supported);
    bool ping = strcmp(type, "pagey.ping") == 0;
    bool known = ping;
    for (const char *const *p = s_incident_events; *p && !known; p++)
        known = strcmp(type, *p) == 0;
    if (!known)
        return cairn_nf_fail(err, errlen,
                             "PagerDuty event '%.64s' is not supported; supported events: %s. "
                             "Remove it from the webhook subscription's events",
                             type, s_supported);

    Cairn__V1__Correlation *c = ev->correlation;
    Cairn__V1__Governance *g = ev->governance;
    const cJSON *data = cairn_nf_at(event, "data");
    /* Notes and responder events carry a reference to their incident. */
    const cJSON *incident =
        cJSON_IsObject(cairn_nf_at(data, "incident")) ? cairn_nf_at(data, "incident") : data;
    const char *service_id = cairn_nf_str(incident, "service.id");
    const char *url = cairn_nf_str(incident, "html_url");
    char host[256] = "pagerduty.com", source[512];
    cairn_nf_host(url, host, sizeof host);
    if (service_id)
        snprintf(source, sizeof source, "%s/services/%s", host, service_id);
    else
        snprintf(source, sizeof source, "%s", host);

    int rc;
    if (strcmp(type, "incident.triggered") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.incident.reported.0.3.0");
    else if (strcmp(type, "incident.resolved") == 0)
        rc = cairn_nf_type(ev, "dev.cdevents.incident.resolved.0.3.0");
    else
        rc = cairn_nf_type(ev, "com.pagerduty.%s", type);
    if (rc == 0)
        rc = cairn_nf_set(&ev->source, source);
    if (rc == 0 && !ping)
        rc = cairn_nf_set(&c->incident_id, cairn_nf_str(incident, "id"));
    if (rc == 0 && !ping)
        rc = cairn_nf_set_at(&ev->subject, incident, "number");
    if (rc == 0)
        rc = cairn_nf_set(&c->service, cairn_nf_str(incident, "service.summary"));
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(incident, "title"));
    if (rc == 0)
        rc = s_change_from_text(ev, cairn_nf_str(incident, "body.details"));
    if (rc == 0) {
        const char *prio = cairn_nf_str(incident, "priority.summary");
        rc = cairn_nf_set(&g->incident_severity, prio ? prio : cairn_nf_str(incident, "urgency"));
    }
    if (rc == 0)
        rc = cairn_nf_set(&g->actor, cairn_nf_str(event, "agent.summary"));
    if (rc == 0)
        rc = cairn_nf_time(ev, cairn_nf_str(event, "occurred_at"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "webhookevent", type);
    if (rc == 0)
        rc = cairn_nf_ext(ev, "status", cairn_nf_str(incident, "status"));
    if (rc == 0)
        rc = cairn_nf_ext(ev, "urgency", cairn_nf_str(incident, "urgency"));
    if (rc == 0 && !c->incident_id[0] && !ping)
        rc = cairn_nf_fail(err, errlen, "the %s event names no incident (event.data.id)", type);
    if (rc < 0)
        return rc;

    const char *delivery = cairn_ingest_header(in->headers, in->n_headers, "x-webhook-id");
    if (!delivery || !*delivery)
        delivery = cairn_nf_str(event, "id");
    if (delivery && *delivery) {
        cairn_nf_key(key, keylen, "pagerduty", delivery);
        rc = cairn_nf_set(&ev->id, delivery);
    }
    return rc;
}
