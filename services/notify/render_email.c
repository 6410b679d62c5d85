/* E-mail messages (see render.h): RFC 5322 headers, a multipart/alternative
 * body with a plain-text and an HTML part, both quoted-printable. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render.h"
#include "render_internal.h"
#include "strbuf.h"

/* Header text: plain ASCII as is, else RFC 2047 encoded words (base64),
 * folded so no line grows past 78 characters. */
static void s_header_text(cairn_strbuf_t *b, const char *text)
{
    bool ascii = true;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p >= 0x80 || *p < 0x20)
            ascii = false;
    if (ascii && strlen(text) < 900) {
        cairn_strbuf_append(b, text);
        return;
    }
    size_t len = strlen(text), pos = 0;
    bool first = true;
    while (pos < len) {
        size_t take = len - pos > 45 ? 45 : len - pos;
        /* Never split a UTF-8 sequence between two words. */
        while (take > 1 && pos + take < len && ((unsigned char)text[pos + take] & 0xc0) == 0x80)
            take--;
        char enc[128];
        sodium_bin2base64(enc, sizeof enc, (const unsigned char *)text + pos, take,
                          sodium_base64_VARIANT_ORIGINAL);
        cairn_strbuf_appendf(b, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", enc);
        first = false;
        pos += take;
    }
}

/* A header value must not carry line breaks from the ledger. */
static void s_header_safe(char *s)
{
    for (; *s; s++)
        if (*s == '\r' || *s == '\n')
            *s = ' ';
}

static char *s_html(const cairn_notification_t *n, const char *title)
{
    cairn_strbuf_t b = {0};
    char *t = cairn_render_html_escape(title);
    cairn_strbuf_appendf(&b,
                         "<!DOCTYPE html>\n<html><body style=\"font-family:sans-serif\">\n"
                         "<h2>%s</h2>\n",
                         t ? t : "");
    free(t);
    for (size_t i = 0; i < n->n_alerts; i++) {
        const cairn_note_alert_t *a = &n->alerts[i];
        cairn_render_field_t f[CAIRN_RENDER_MAX_FIELDS];
        size_t nf = cairn_render_fields(a, f, CAIRN_RENDER_MAX_FIELDS);
        char *at = cairn_render_html_escape(cairn_render_str(a->body, "title"));
        cairn_strbuf_appendf(&b, "<h3><span style=\"color:%s\">%s</span> %s</h3>\n<ul>\n",
                             a->firing ? "#b00" : "#080", a->firing ? "FIRING" : "RESOLVED",
                             at ? at : "");
        free(at);
        for (size_t k = 0; k < nf; k++) {
            char *v = cairn_render_html_escape(f[k].value);
            bool code = strcmp(f[k].name, "How to approve") == 0;
            cairn_strbuf_appendf(&b, "<li><b>%s</b>: %s%s%s</li>\n", f[k].name,
                                 code ? "<code>" : "", v ? v : "", code ? "</code>" : "");
            free(v);
        }
        cairn_strbuf_append(&b, "</ul>\n");
    }
    char *gk = cairn_render_html_escape(n->group_key);
    cairn_strbuf_appendf(&b,
                         "<p style=\"color:#666;font-size:small\">group %s, notification "
                         "%" PRIu64 " (%s) &middot; cairn</p>\n</body></html>\n",
                         gk ? gk : "", n->sequence, n->message_id);
    free(gk);
    return cairn_strbuf_take(&b);
}

int cairn_render_email(const cairn_notification_t *n, const cairn_integration_t *in,
                       char **message_out)
{
    char title[1200], date[64], boundary[96];
    cairn_strbuf_t b = {0};
    char *text = NULL, *html = NULL, *qp_text = NULL, *qp_html = NULL;
    int rc = -ENOMEM;

    if (sodium_init() < 0)
        return -ENOMEM;
    cairn_render_title(n, title, sizeof title);
    s_header_safe(title);
    time_t t = (time_t)(n->time_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(date, sizeof date, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    snprintf(boundary, sizeof boundary, "=_cairn_%s_%" PRIu64, n->group_id, n->sequence);
    const char *at = strrchr(in->from ? in->from : "", '@');
    const char *domain = at && at[1] ? at + 1 : "cairn.local";
    size_t dlen = strcspn(domain, ">\r\n ");

    text = cairn_render_text(n);
    html = text ? s_html(n, title) : NULL;
    qp_text = html ? cairn_render_qp(text) : NULL;
    qp_html = qp_text ? cairn_render_qp(html) : NULL;
    if (!qp_html)
        goto out;

    char from[512], to[1024];
    snprintf(from, sizeof from, "%s", in->from ? in->from : "");
    snprintf(to, sizeof to, "%s", in->to ? in->to : "");
    s_header_safe(from);
    s_header_safe(to);
    cairn_strbuf_appendf(&b, "From: %s\r\nTo: %s\r\nSubject: ", from, to);
    s_header_text(&b, title);
    cairn_strbuf_appendf(&b,
                         "\r\nDate: %s\r\nMessage-ID: <%s@%.*s>\r\nMIME-Version: 1.0\r\n"
                         "X-Cairn-Group-Id: %s\r\nX-Cairn-Change: ",
                         date, n->message_id, (int)dlen, domain, n->group_id);
    char change[256];
    snprintf(change, sizeof change, "%s", cairn_labels_get(n->common_labels, "change"));
    s_header_safe(change);
    s_header_text(&b, change);
    cairn_strbuf_appendf(&b,
                         "\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n"
                         "This is a MIME message with a text and an HTML part.\r\n"
                         "--%s\r\nContent-Type: text/plain; charset=UTF-8\r\n"
                         "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n"
                         "--%s\r\nContent-Type: text/html; charset=UTF-8\r\n"
                         "Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n--%s--\r\n",
                         boundary, boundary, qp_text, boundary, qp_html, boundary);
    *message_out = cairn_strbuf_take(&b);
    rc = *message_out ? 0 : -ENOMEM;
out:
    cairn_strbuf_reset(&b);
    free(text);
    free(html);
    free(qp_text);
    free(qp_html);
    return rc;
}
