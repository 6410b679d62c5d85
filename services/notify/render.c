/* Rendering shared by every receiver (see render.h): titles, the facts of
 * an alert, the plain-text body, escaping, quoted-printable, inbox items. */
#include "render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/util.h"
#include "render_internal.h"
#include "strbuf.h"

const char *cairn_render_str(const json_t *obj, const char *key)
{
    const char *v = json_string_value(json_object_get(obj, key));
    return v ? v : "";
}

void cairn_render_title(const cairn_notification_t *n, char *buf, size_t len)
{
    size_t firing = 0;
    for (size_t i = 0; i < n->n_alerts; i++)
        firing += n->alerts[i].firing;
    const char *first = n->n_alerts ? cairn_render_str(n->alerts[0].body, "title") : "";
    char status[32];
    if (firing)
        snprintf(status, sizeof status, firing > 1 ? "FIRING:%zu" : "FIRING", firing);
    else
        snprintf(status, sizeof status, "RESOLVED");
    char more[32] = "";
    if (n->n_alerts > 1)
        snprintf(more, sizeof more, " (+%zu more)", n->n_alerts - 1);
    snprintf(buf, len, "%s[%s] %s%s", n->repeat ? "Reminder: " : "", status, first, more);
}

size_t cairn_render_fields(const cairn_note_alert_t *a, cairn_render_field_t *f, size_t max)
{
    size_t n = 0;
    const cairn_labels_t *l = a->labels;
    const json_t *line = json_object_get(a->body, "line");
#define S_FIELD(NAME, ...)                                                                         \
    do {                                                                                           \
        if (n < max) {                                                                             \
            f[n].name = NAME;                                                                      \
            snprintf(f[n].value, sizeof f[n].value, __VA_ARGS__);                                  \
            n++;                                                                                   \
        }                                                                                          \
    } while (0)
    char facts[512] = "";
    size_t used = 0;
    static const char *const keys[] = {"risk",    "service", "env",     "team",
                                       "release", "gate",    "decision"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const char *v = cairn_labels_get(l, keys[i]);
        if (*v && used < sizeof facts)
            used += (size_t)snprintf(facts + used, sizeof facts - used, "%s%s %s",
                                     used ? " \xc2\xb7 " : "", keys[i], v);
    }
    if (*facts)
        S_FIELD("Facts", "%s", facts);
    const json_t *required = json_object_get(a->body, "required");
    for (size_t i = 0; i < json_array_size(required); i++)
        S_FIELD("Still required", "%s", json_string_value(json_array_get(required, i)));
    if (*cairn_render_str(a->body, "who"))
        S_FIELD("Who may approve", "%s", cairn_render_str(a->body, "who"));
    if (*cairn_render_str(a->body, "how") && a->firing)
        S_FIELD("How to approve", "%s", cairn_render_str(a->body, "how"));
    const json_t *reasons = json_object_get(line, "reasons");
    for (size_t i = 0; i < json_array_size(reasons); i++) {
        const json_t *r = json_array_get(reasons, i);
        const char *result = cairn_render_str(r, "result");
        if (strcmp(result, "fail") != 0 && strcmp(result, "void") != 0)
            continue;
        S_FIELD("Why", "%s (%s): %s", cairn_render_str(r, "rule_id"), result,
                cairn_render_str(r, "message"));
    }
    if (!json_array_size(reasons) && json_is_string(json_object_get(line, "summary")) &&
        !json_array_size(required))
        S_FIELD("Summary", "%s", cairn_render_str(line, "summary"));
    if (a->acked_by)
        S_FIELD("Acknowledged by", "%s", a->acked_by);
    char since[32];
    cairn_format_time(a->starts_ms, since);
    S_FIELD("Ledger", "index %" PRIu64 ", since %s", a->index, since);
#undef S_FIELD
    return n;
}

char *cairn_render_text(const cairn_notification_t *n)
{
    cairn_strbuf_t b = {0};
    char title[1200];
    cairn_render_title(n, title, sizeof title);
    cairn_strbuf_appendf(&b, "%s\n", title);
    for (size_t i = 0; i < n->n_alerts; i++) {
        const cairn_note_alert_t *a = &n->alerts[i];
        cairn_render_field_t f[CAIRN_RENDER_MAX_FIELDS];
        size_t nf = cairn_render_fields(a, f, CAIRN_RENDER_MAX_FIELDS);
        cairn_strbuf_appendf(&b, "\n%s  %s\n", a->firing ? "FIRING  " : "RESOLVED",
                             cairn_render_str(a->body, "title"));
        for (size_t k = 0; k < nf; k++)
            cairn_strbuf_appendf(&b, "          %s: %s\n", f[k].name, f[k].value);
    }
    cairn_strbuf_appendf(&b, "\ngroup %s, notification %" PRIu64 " (%s)\n", n->group_key,
                         n->sequence, n->message_id);
    return cairn_strbuf_take(&b);
}

static char *s_escape(const char *text, bool html)
{
    cairn_strbuf_t b = {0};
    for (const char *p = text ? text : ""; *p; p++) {
        switch (*p) {
        case '&': cairn_strbuf_append(&b, "&amp;"); break;
        case '<': cairn_strbuf_append(&b, "&lt;"); break;
        case '>': cairn_strbuf_append(&b, "&gt;"); break;
        case '"':
            if (html) {
                cairn_strbuf_append(&b, "&quot;");
                break;
            }
            cairn_strbuf_appendn(&b, p, 1);
            break;
        case '\'':
            if (html) {
                cairn_strbuf_append(&b, "&#39;");
                break;
            }
            cairn_strbuf_appendn(&b, p, 1);
            break;
        default: cairn_strbuf_appendn(&b, p, 1);
        }
    }
    return cairn_strbuf_take(&b);
}

char *cairn_render_slack_escape(const char *text)
{
    return s_escape(text, false);
}

char *cairn_render_html_escape(const char *text)
{
    return s_escape(text, true);
}

char *cairn_render_qp(const char *text)
{
    cairn_strbuf_t b = {0};
    size_t col = 0;
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        if (*p == '\r')
            continue;
        if (*p == '\n') {
            cairn_strbuf_append(&b, "\r\n");
            col = 0;
            continue;
        }
        bool trailing_space = (*p == ' ' || *p == '\t') && (p[1] == '\n' || p[1] == '\0');
        bool plain = *p >= 33 && *p <= 126 && *p != '=';
        plain |= (*p == ' ' || *p == '\t') && !trailing_space;
        /* A leading dot is encoded so no line of the body starts with one. */
        plain &= !(col == 0 && *p == '.');
        size_t need = plain ? 1 : 3;
        if (col + need > 75) {
            cairn_strbuf_append(&b, "=\r\n");
            col = 0;
        }
        if (plain)
            cairn_strbuf_appendn(&b, (const char *)p, 1);
        else
            cairn_strbuf_appendf(&b, "=%02X", *p);
        col += need;
    }
    return cairn_strbuf_take(&b);
}

int cairn_render_inbox(const cairn_notification_t *n, Cairn__V1__InboxItem **out)
{
    Cairn__V1__InboxItem *item = calloc(1, sizeof *item);
    char title[1200];
    if (!item)
        return -ENOMEM;
    cairn__v1__inbox_item__init(item);
    cairn_render_title(n, title, sizeof title);
    item->time_ms = n->time_ms;
    item->receiver = strdup(n->receiver);
    item->group_key = strdup(n->group_key);
    item->change_id = strdup(cairn_labels_get(n->common_labels, "change"));
    bool firing = false;
    for (size_t i = 0; i < n->n_alerts; i++)
        firing |= n->alerts[i].firing;
    item->status = strdup(firing ? "firing" : "resolved");
    item->title = strdup(title);
    item->text = cairn_render_text(n);
    /* Roles from every alert, once each. */
    char roles[1024] = "";
    for (size_t i = 0; i < n->n_alerts; i++) {
        const json_t *r = json_object_get(n->alerts[i].body, "roles");
        for (size_t k = 0; k < json_array_size(r); k++) {
            const char *role = json_string_value(json_array_get(r, k));
            char probe[128];
            snprintf(probe, sizeof probe, ",%s,", role ? role : "");
            char have[1100];
            snprintf(have, sizeof have, ",%s,", roles);
            if (role && *role && !strstr(have, probe)) {
                size_t used = strlen(roles);
                snprintf(roles + used, sizeof roles - used, "%s%s", used ? "," : "", role);
            }
        }
    }
    if (*roles) {
        size_t count = 1;
        for (const char *p = roles; *p; p++)
            count += *p == ',';
        item->roles = calloc(count, sizeof(char *));
        if (item->roles) {
            for (char *save = NULL, *t = strtok_r(roles, ",", &save); t;
                 t = strtok_r(NULL, ",", &save))
                item->roles[item->n_roles++] = strdup(t);
        }
    }
    bool ok = item->receiver && item->group_key && item->change_id && item->status && item->title &&
              item->text && (!*roles || item->roles);
    for (size_t i = 0; ok && i < item->n_roles; i++)
        ok = item->roles[i] != NULL;
    if (!ok) {
        cairn_render_inbox_free(&item);
        return -ENOMEM;
    }
    *out = item;
    return 0;
}

void cairn_render_inbox_free(Cairn__V1__InboxItem **item_p)
{
    if (!item_p || !*item_p)
        return;
    Cairn__V1__InboxItem *item = *item_p;
    free(item->receiver);
    free(item->group_key);
    free(item->change_id);
    free(item->status);
    free(item->title);
    free(item->text);
    for (size_t i = 0; i < item->n_roles; i++)
        free(item->roles[i]);
    free(item->roles);
    free(item);
    *item_p = NULL;
}
