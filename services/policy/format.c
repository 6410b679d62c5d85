/* Sentence formatting (see format.h). */
#include "format.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Appends n bytes at *pos, keeping the part that fits. */
static void s_put(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
    if (*pos < len) {
        size_t room = len - *pos;
        memcpy(buf + *pos, s, n < room ? n : room);
    }
    *pos += n;
}

static void s_unsigned(char *buf, size_t len, size_t *pos, unsigned long long v, bool negative)
{
    char digits[24];
    size_t n = sizeof digits;
    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (negative)
        digits[--n] = '-';
    s_put(buf, len, pos, digits + n, sizeof digits - n);
}

static void s_signed(char *buf, size_t len, size_t *pos, long long v)
{
    unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    s_unsigned(buf, len, pos, mag, v < 0);
}

int cairn_vformat(char *buf, size_t len, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    size_t pos = 0;
    const char *p = fmt;
    int rc = 0;
    for (;;) {
        char ch = *p++;
        if (ch == '\0')
            break;
        if (ch != '%') {
            if (pos < len)
                buf[pos] = ch;
            pos++;
            continue;
        }
        if (*p == '%') {
            s_put(buf, len, &pos, "%", 1);
            p++;
        } else if (*p == 's') {
            const char *s = va_arg(ap, const char *);
            s = s ? s : "(null)";
            s_put(buf, len, &pos, s, strlen(s));
            p++;
        } else if (*p == '.' && p[1] >= '0' && p[1] <= '9') {
            const char *q = p + 1;
            size_t prec = 0;
            for (; *q >= '0' && *q <= '9'; q++)
                prec = prec * 10 + (size_t)(*q - '0');
            if (*q != 's')
                goto library;
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = prec >= 6 ? "(null)" : "";
            s_put(buf, len, &pos, s, strnlen(s, prec));
            p = q + 1;
        } else if (*p == 'd') {
            s_signed(buf, len, &pos, va_arg(ap, int));
            p++;
        } else if (*p == 'u') {
            s_unsigned(buf, len, &pos, va_arg(ap, unsigned), false);
            p++;
        } else if (*p == 'z' && p[1] == 'u') {
            s_unsigned(buf, len, &pos, va_arg(ap, size_t), false);
            p += 2;
        } else if (p[0] == 'l' && p[1] == 'l' && (p[2] == 'd' || p[2] == 'u')) {
            if (p[2] == 'd')
                s_signed(buf, len, &pos, va_arg(ap, long long));
            else
                s_unsigned(buf, len, &pos, va_arg(ap, unsigned long long), false);
            p += 3;
        } else if (p[0] == 'l' && (p[1] == 'd' || p[1] == 'u')) {
            if (p[1] == 'd')
                s_signed(buf, len, &pos, va_arg(ap, long));
            else
                s_unsigned(buf, len, &pos, va_arg(ap, unsigned long), false);
            p += 2;
        } else {
            goto library;
        }
    }
    if (len)
        buf[pos < len ? pos : len - 1] = '\0';
    rc = pos > INT32_MAX ? -1 : (int)pos;
    va_end(again);
    return rc;
library:
    /* A conversion written here only by the C library: start over with it. */
    rc = vsnprintf(buf, len, fmt, again);
    va_end(again);
    return rc;
}

int cairn_format(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = cairn_vformat(buf, len, fmt, ap);
    va_end(ap);
    return n;
}

int cairn_format_g(char *buf, size_t len, double v)
{
    if (v == trunc(v) && fabs(v) < 1e6 && !(v == 0 && signbit(v)))
        return cairn_format(buf, len, "%lld", (long long)v);
    return snprintf(buf, len, "%g", v);
}
