/* Slack incoming-webhook messages (see render.h): Block Kit with a
 * plain-text fallback, split to stay inside Slack's limits. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "render_internal.h"
#include "strbuf.h"

/* Bytes of the longest prefix of s (at most max bytes) that ends on a UTF-8
 * character boundary and not inside an &...; entity. */
static size_t s_cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return len;
    size_t cut = max;
    while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
        cut--;
    for (size_t back = 1; back <= 6 && back <= cut; back++) {
        char c = s[cut - back];
        if (c == ';')
            break;
        if (c == '&') {
            cut -= back;
            break;
        }
    }
    return cut ? cut : max;
}

/* A copy of text cut to max bytes with "…" when it was longer. */
static char *s_truncate(const char *text, size_t max)
{
    size_t len = strlen(text);
    if (len <= max)
        return strdup(text);
    size_t cut = s_cut(text, len, max - 3);
    char *out = malloc(cut + 4);
    if (!out)
        return NULL;
    memcpy(out, text, cut);
    memcpy(out + cut, "\xe2\x80\xa6", 4);
    return out;
}

typedef struct {
    json_t *messages; /* the array being built */
    json_t *blocks;   /* blocks of the current message */
    const cairn_notification_t *n;
    const cairn_integration_t *in;
    char *fallback; /* escaped text fallback */
    char *header;   /* escaped header text */
    size_t part;    /* messages started */
} s_build_t;

static int s_add(s_build_t *b, json_t *block)
{
    if (!block || json_array_append_new(b->blocks, block) < 0)
        return -ENOMEM;
    return 0;
}

static int s_start(s_build_t *b)
{
    b->blocks = json_array();
    if (!b->blocks)
        return -ENOMEM;
    char head[CAIRN_SLACK_HEADER_MAX * 2];
    if (b->part == 0)
        snprintf(head, sizeof head, "%s", b->header);
    else
        snprintf(head, sizeof head, "(continued, part %zu) %s", b->part + 1, b->header);
    char *h = s_truncate(head, CAIRN_SLACK_HEADER_MAX);
    if (!h)
        return -ENOMEM;
    int rc = s_add(b, json_pack("{s:s, s:{s:s, s:s, s:b}}", "type", "header", "text", "type",
                                "plain_text", "text", h, "emoji", 0));
    free(h);
    b->part++;
    return rc;
}

/* Closes the current message: the context line, then the payload. */
static int s_finish(s_build_t *b)
{
    char ctx[512];
    snprintf(ctx, sizeof ctx, "%s \xc2\xb7 notification %" PRIu64 " \xc2\xb7 %s \xc2\xb7 cairn",
             b->n->receiver, b->n->sequence, b->n->message_id);
    char *e = cairn_render_slack_escape(ctx);
    int rc = e ? s_add(b, json_pack("{s:s, s:[{s:s, s:s}]}", "type", "context", "elements", "type",
                                    "mrkdwn", "text", e))
               : -ENOMEM;
    free(e);
    if (rc < 0)
        return rc;
    json_t *msg = json_pack("{s:s, s:o}", "text", b->fallback, "blocks", b->blocks);
    b->blocks = NULL;
    if (!msg)
        return -ENOMEM;
    if (b->in->channel)
        json_object_set_new(msg, "channel", json_string(b->in->channel));
    if (b->in->username)
        json_object_set_new(msg, "username", json_string(b->in->username));
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text || json_array_append_new(b->messages, json_string(text)) < 0) {
        free(text);
        return -ENOMEM;
    }
    free(text);
    return 0;
}

/* Adds one section, starting a new message when this one is full (two
 * blocks stay free: a divider and the context line). */
static int s_section(s_build_t *b, const char *mrkdwn)
{
    if (json_array_size(b->blocks) + 2 > CAIRN_SLACK_BLOCKS_MAX) {
        int rc = s_finish(b);
        if (rc < 0 || (rc = s_start(b)) < 0)
            return rc;
    }
    return s_add(b, json_pack("{s:s, s:{s:s, s:s}}", "type", "section", "text", "type", "mrkdwn",
                              "text", mrkdwn));
}

/* One alert as sections of at most CAIRN_SLACK_SECTION_MAX bytes each,
 * broken between lines where possible. */
static int s_alert(s_build_t *b, const cairn_note_alert_t *a)
{
    cairn_strbuf_t text = {0};
    cairn_render_field_t f[CAIRN_RENDER_MAX_FIELDS];
    size_t nf = cairn_render_fields(a, f, CAIRN_RENDER_MAX_FIELDS);
    char *title = cairn_render_slack_escape(cairn_render_str(a->body, "title"));
    cairn_strbuf_appendf(&text, "*%s* %s\n", a->firing ? "FIRING" : "RESOLVED", title ? title : "");
    free(title);
    for (size_t i = 0; i < nf; i++) {
        char *v = cairn_render_slack_escape(f[i].value);
        bool code = strcmp(f[i].name, "How to approve") == 0;
        cairn_strbuf_appendf(&text, "\xe2\x80\xa2 *%s*: %s%s%s\n", f[i].name, code ? "`" : "",
                             v ? v : "", code ? "`" : "");
        free(v);
    }
    char *all = cairn_strbuf_take(&text);
    if (!all)
        return -ENOMEM;
    int rc = 0;
    const char *p = all;
    size_t left = strlen(all);
    while (left > 0 && rc == 0) {
        size_t take = left;
        if (take > CAIRN_SLACK_SECTION_MAX) {
            /* The last line break inside the limit, else a hard cut. */
            take = 0;
            for (size_t i = CAIRN_SLACK_SECTION_MAX; i > 0; i--)
                if (p[i - 1] == '\n') {
                    take = i;
                    break;
                }
            if (take == 0)
                take = s_cut(p, left, CAIRN_SLACK_SECTION_MAX);
        }
        char *chunk = strndup(p, take);
        if (!chunk) {
            rc = -ENOMEM;
            break;
        }
        rc = s_section(b, chunk);
        free(chunk);
        p += take;
        left -= take;
    }
    free(all);
    return rc;
}

int cairn_render_slack(const cairn_notification_t *n, const cairn_integration_t *in,
                       json_t **messages_out)
{
    s_build_t b = {.n = n, .in = in};
    char title[1200];
    int rc = -ENOMEM;
    cairn_render_title(n, title, sizeof title);
    b.messages = json_array();
    b.header = cairn_render_slack_escape(title);
    char *fb = b.header ? s_truncate(b.header, CAIRN_SLACK_TEXT_MAX) : NULL;
    b.fallback = fb;
    if (!b.messages || !b.header || !b.fallback)
        goto out;
    if ((rc = s_start(&b)) < 0)
        goto out;
    for (size_t i = 0; i < n->n_alerts && rc == 0; i++) {
        if (i > 0 && json_array_size(b.blocks) + 3 <= CAIRN_SLACK_BLOCKS_MAX &&
            (rc = s_add(&b, json_pack("{s:s}", "type", "divider"))) < 0)
            break;
        rc = s_alert(&b, &n->alerts[i]);
    }
    if (rc == 0)
        rc = s_finish(&b);
    if (rc == 0) {
        *messages_out = b.messages;
        b.messages = NULL;
    }
out:
    json_decref(b.messages);
    json_decref(b.blocks);
    free(b.header);
    free(b.fallback);
    return rc;
}
