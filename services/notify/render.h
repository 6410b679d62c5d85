/* What a notification says, rendered for each kind of receiver. A
 * notification is one group's state at a flush: its alerts (firing, then
 * resolved), the group and common labels, and the ids a receiver can
 * deduplicate on. Rendering happens once, when the notification enters the
 * outbox, so every retry sends the same bytes.
 *
 *   Slack   Block Kit message(s) with a plain-text fallback; split so that
 *           no section exceeds 3000 characters, no header 150 and no
 *           message 50 blocks; & < > escaped in everything from the ledger.
 *   e-mail  RFC 5322 message, multipart/alternative text + HTML, quoted-
 *           printable, stable Message-ID.
 *   webhook structured CloudEvent (application/cloudevents+json) whose data
 *           is Alertmanager's webhook payload (version 4) plus a "cairn"
 *           object; signed at send time (sign.h).
 *   alertmanager  the body of POST /api/v2/alerts.
 *   feed    an InboxItem.
 * Approval requests name the change, its risk, what is still required, who
 * may approve and the `cairn approve` command line. */
#ifndef CAIRN_NOTIFY_RENDER_H
#define CAIRN_NOTIFY_RENDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cairn/codec.h"
#include "labels.h"
#include "routes.h"

/* Slack's limits (docs.slack.dev). */
#define CAIRN_SLACK_HEADER_MAX 150
#define CAIRN_SLACK_SECTION_MAX 3000
#define CAIRN_SLACK_BLOCKS_MAX 50
#define CAIRN_SLACK_TEXT_MAX 3000

typedef struct {
    const cairn_labels_t *labels; /* routing labels */
    const json_t *body;   /* from derive: {line, title, roles, required, who, how, author} */
    bool firing;          /* false: resolved */
    int64_t starts_ms;    /* when it started firing */
    int64_t ends_ms;      /* when it resolved (0 while firing) */
    uint64_t fingerprint; /* identity */
    uint64_t index;       /* ledger index of its latest record */
    const char *acked_by; /* acknowledged by, or NULL */
    bool fresh;           /* not in the receiver's previous notification of the group */
} cairn_note_alert_t;

typedef struct {
    const char *receiver;   /* receiver name */
    const char *group_key;  /* {}/{...}:{change="CHG-1"} */
    const char *group_id;   /* 16 hex */
    uint64_t sequence;      /* from 1 within the group */
    const char *message_id; /* msg_<group id>_<sequence> */
    const cairn_labels_t *group_labels;
    const cairn_labels_t *common_labels;
    const cairn_note_alert_t *alerts; /* firing first, then resolved */
    size_t n_alerts;
    bool repeat;              /* a reminder: nothing changed since the last one */
    int64_t time_ms;          /* when it was made */
    const char *external_url; /* base URL for links, or "" */
} cairn_notification_t;

/* Slack: a JSON array of message payloads (strings), one per message. */
int cairn_render_slack(const cairn_notification_t *n, const cairn_integration_t *in,
                       json_t **messages_out);

/* E-mail: the whole message (headers and body, CRLF line ends), malloc'd. */
int cairn_render_email(const cairn_notification_t *n, const cairn_integration_t *in,
                       char **message_out);

/* Webhook: the CloudEvent JSON body, malloc'd. */
int cairn_render_cloudevent(const cairn_notification_t *n, const cairn_integration_t *in,
                            char **body_out);

/* Alertmanager: the JSON array for POST /api/v2/alerts, malloc'd. */
int cairn_render_alertmanager(const cairn_notification_t *n, char **body_out);

/* Feed: an InboxItem (free with CAIRN_CODEC_FREE-like cairn_render_inbox_free). */
int cairn_render_inbox(const cairn_notification_t *n, Cairn__V1__InboxItem **out);
void cairn_render_inbox_free(Cairn__V1__InboxItem **item_p);

/* The plain-text rendering of the whole notification (e-mail text part,
 * inbox text), malloc'd. */
char *cairn_render_text(const cairn_notification_t *n);

/* A one-line title for the notification. */
void cairn_render_title(const cairn_notification_t *n, char *buf, size_t len);

/* Escapes & < > for Slack mrkdwn (and plain_text). malloc'd. */
char *cairn_render_slack_escape(const char *text);

/* Escapes & < > " ' for HTML. malloc'd. */
char *cairn_render_html_escape(const char *text);

/* Quoted-printable (RFC 2045) with CRLF soft breaks, malloc'd. */
char *cairn_render_qp(const char *text);

#endif
