/* Cron schedules (see cron.h): parsing into bit sets and finding
 * occurrences by walking local days, so daylight-saving changes are
 * handled by the time zone, not here. */
#include "cron.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cairn/error.h"

static const char *const s_months[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                       "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
static const char *const s_days[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

typedef struct {
    const char *name; /* for messages */
    int lo, hi;       /* allowed values */
    const char *const *names;
    int name_base; /* value of names[0] */
    int n_names;
} s_field_t;

static const s_field_t s_fields[5] = {
    {"minute", 0, 59, NULL, 0, 0},       {"hour", 0, 23, NULL, 0, 0},
    {"day of month", 1, 31, NULL, 0, 0}, {"month", 1, 12, s_months, 1, 12},
    {"day of week", 0, 7, s_days, 0, 7},
};

/* A number or a name; advances *p. */
static int s_value(const s_field_t *f, const char **p, int *out)
{
    const char *s = *p;
    if (*s >= '0' && *s <= '9') {
        int v = 0, n = 0;
        while (*s >= '0' && *s <= '9' && n < 4) {
            v = v * 10 + (*s++ - '0');
            n++;
        }
        *out = v;
        *p = s;
        return 0;
    }
    for (int i = 0; i < f->n_names; i++)
        if (strncasecmp(s, f->names[i], 3) == 0) {
            *out = f->name_base + i;
            *p = s + 3;
            return 0;
        }
    return -1;
}

/* One field ("*", "1-5", "*\/15", "MON,FRI") into bits. */
static int s_field(const s_field_t *f, const char *text, uint64_t *bits, bool *any, char *err,
                   size_t errlen)
{
    *bits = 0;
    *any = strcmp(text, "*") == 0;
    const char *p = text;
    for (;;) {
        int lo, hi, step = 1;
        if (*p == '*') {
            lo = f->lo;
            hi = f->hi;
            p++;
        } else {
            if (s_value(f, &p, &lo) < 0)
                goto bad;
            hi = lo;
            if (*p == '-') {
                p++;
                if (s_value(f, &p, &hi) < 0)
                    goto bad;
            }
        }
        if (*p == '/') {
            p++;
            step = 0;
            if (*p < '0' || *p > '9')
                goto bad;
            while (*p >= '0' && *p <= '9' && step < 1000)
                step = step * 10 + (*p++ - '0');
            if (step < 1)
                goto bad;
            if (hi == lo && text[0] != '*')
                hi = f->hi; /* "5/15": from 5 to the end */
        }
        if (lo < f->lo || hi > f->hi || lo > hi) {
            snprintf(err, errlen, "%s '%s' is out of range (%d-%d)", f->name, text, f->lo, f->hi);
            return CAIRN_EPARSE;
        }
        for (int v = lo; v <= hi; v += step)
            *bits |= (uint64_t)1 << v;
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p == '\0')
            return 0;
        goto bad;
    }
bad:
    snprintf(err, errlen, "cannot read the %s field '%s'", f->name, text);
    return CAIRN_EPARSE;
}

int cairn_cron_parse(const char *text, cairn_cron_t *out, char *err, size_t errlen)
{
    char buf[256], *fields[6];
    int n = 0;
    if (strlen(text) >= sizeof buf) {
        snprintf(err, errlen, "the cron expression is too long");
        return CAIRN_EPARSE;
    }
    strcpy(buf, text);
    for (char *save = NULL, *tok = strtok_r(buf, " \t", &save); tok;
         tok = strtok_r(NULL, " \t", &save)) {
        if (n == 5) {
            n++;
            break;
        }
        fields[n++] = tok;
    }
    if (n != 5) {
        snprintf(err, errlen, "a cron expression has five fields (minute hour day month weekday)");
        return CAIRN_EPARSE;
    }
    cairn_cron_t c = {0};
    uint64_t bits[5];
    bool any[5];
    for (int i = 0; i < 5; i++)
        if (s_field(&s_fields[i], fields[i], &bits[i], &any[i], err, errlen) < 0)
            return CAIRN_EPARSE;
    c.minutes = bits[0];
    c.hours = (uint32_t)bits[1];
    c.mdays = (uint32_t)bits[2];
    c.months = (uint16_t)bits[3];
    c.wdays = (uint8_t)((bits[4] | (bits[4] >> 7)) & 0x7f); /* 7 is Sunday too */
    c.mday_any = any[2];
    c.wday_any = any[4];
    *out = c;
    return 0;
}

bool cairn_cron_day_matches(const cairn_cron_t *c, unsigned month, unsigned mday, unsigned wday)
{
    if (!(c->months & (1u << month)))
        return false;
    bool md = (c->mdays >> mday) & 1u, wd = (c->wdays >> wday) & 1u;
    if (c->mday_any && c->wday_any)
        return true;
    if (c->mday_any)
        return wd;
    if (c->wday_any)
        return md;
    return md || wd;
}

static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static bool s_day(const cairn_cron_t *c, int64_t day)
{
    int64_t y;
    unsigned m, d;
    cairn_civil_from_days(day, &y, &m, &d);
    return cairn_cron_day_matches(c, m, d, cairn_weekday_from_days(day));
}

bool cairn_cron_last(const cairn_cron_t *c, const cairn_tz_t *tz, int64_t t_ms, int64_t lookback_ms,
                     int64_t *start_ms)
{
    int64_t t = s_floor_div(t_ms, 1000);
    int64_t today = s_floor_div(t + cairn_tz_offset(tz, t), 86400);
    int64_t oldest = today - lookback_ms / 86400000 - 2;
    for (int64_t day = today + 1; day >= oldest; day--) {
        if (!s_day(c, day))
            continue;
        for (int h = 23; h >= 0; h--) {
            if (!((c->hours >> h) & 1u))
                continue;
            for (int m = 59; m >= 0; m--) {
                if (!((c->minutes >> m) & 1u))
                    continue;
                int64_t u = cairn_tz_local_to_utc(tz, day * 86400 + h * 3600 + m * 60);
                if (u <= t) {
                    if ((t - u) * 1000 > lookback_ms)
                        return false;
                    *start_ms = u * 1000;
                    return true;
                }
            }
        }
    }
    return false;
}

bool cairn_cron_next(const cairn_cron_t *c, const cairn_tz_t *tz, int64_t t_ms, int horizon_days,
                     int64_t *start_ms)
{
    int64_t t = s_floor_div(t_ms, 1000);
    int64_t today = s_floor_div(t + cairn_tz_offset(tz, t), 86400);
    for (int64_t day = today - 1; day <= today + horizon_days; day++) {
        if (!s_day(c, day))
            continue;
        for (int h = 0; h < 24; h++) {
            if (!((c->hours >> h) & 1u))
                continue;
            for (int m = 0; m < 60; m++) {
                if (!((c->minutes >> m) & 1u))
                    continue;
                int64_t u = cairn_tz_local_to_utc(tz, day * 86400 + h * 3600 + m * 60);
                if (u > t) {
                    *start_ms = u * 1000;
                    return true;
                }
            }
        }
    }
    return false;
}
