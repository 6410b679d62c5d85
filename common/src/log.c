/* logfmt logging for daemons: one line per event on stderr. */
#include "cairn/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cairn/util.h"

static char s_service[32] = "cairn";
static cairn_log_level_t s_min_level = CAIRN_LOG_INFO;

static const char *s_level_names[] = {"debug", "info", "warn", "error"};

void cairn_log_init(const char *service, const char *level)
{
    snprintf(s_service, sizeof s_service, "%s", service ? service : "cairn");
    s_min_level = CAIRN_LOG_INFO;
    for (int i = 0; level && i < 4; i++)
        if (strcmp(level, s_level_names[i]) == 0)
            s_min_level = (cairn_log_level_t)i;
}

static int s_needs_quote(const char *v)
{
    if (*v == '\0')
        return 1;
    for (; *v; v++)
        if (*v <= ' ' || *v == '"' || *v == '=' || *v == '\\' || (unsigned char)*v == 0x7f)
            return 1;
    return 0;
}

const char *cairn_log_quote(const char *value)
{
    static _Thread_local char bufs[8][512];
    static _Thread_local unsigned next;
    char *out = bufs[next++ % 8];
    size_t o = 0, cap = sizeof bufs[0];
    if (!value)
        value = "";
    if (!s_needs_quote(value)) {
        snprintf(out, cap, "%s", value);
        return out;
    }
    out[o++] = '"';
    for (const char *p = value; *p && o + 6 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        } else {
            out[o++] = (char)c;
        }
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

void cairn_log(cairn_log_level_t level, const char *msg, const char *fields, ...)
{
    if (level < s_min_level || level > CAIRN_LOG_ERROR)
        return;
    char ts[32];
    cairn_format_time(cairn_now_ms(), ts);
    char line[2048];
    int n = snprintf(line, sizeof line, "ts=%s level=%s service=%s msg=%s", ts,
                     s_level_names[level], s_service, cairn_log_quote(msg));
    if (n < 0)
        return;
    size_t used = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (fields && *fields && used + 2 < sizeof line) {
        line[used++] = ' ';
        va_list ap;
        va_start(ap, fields);
        int m = vsnprintf(line + used, sizeof line - used, fields, ap);
        va_end(ap);
        if (m > 0)
            used += (size_t)m < sizeof line - used ? (size_t)m : sizeof line - used - 1;
    }
    line[used] = '\0';
    fprintf(stderr, "%s\n", line);
}
