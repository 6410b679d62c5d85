/* Time intervals (see timeinterval.h). Zones are applied with TZ and
 * localtime_r; the last zone is remembered so tzset runs only on a change. */
#include "timeinterval.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cairn/error.h"

#define S_MAX_RANGES 32

typedef struct {
    int begin; /* inclusive */
    int end;   /* inclusive (minutes: exclusive) */
} s_range_t;

struct cairn_time_spec_t {
    s_range_t times[S_MAX_RANGES]; /* minutes of the day [begin, end) */
    size_t n_times;
    s_range_t wdays[S_MAX_RANGES]; /* 0 = sunday */
    size_t n_wdays;
    s_range_t mdays[S_MAX_RANGES]; /* 1..31 or -31..-1 */
    size_t n_mdays;
    s_range_t months[S_MAX_RANGES]; /* 1..12 */
    size_t n_months;
    s_range_t years[S_MAX_RANGES];
    size_t n_years;
    char *location; /* NULL: UTC */
};

struct cairn_time_interval_t {
    char *name;                /* referenced by routes */
    cairn_time_spec_t **specs; /* OR-ed */
    size_t n_specs;
};

static void s_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

cairn_time_interval_t *cairn_time_interval_new(const char *name)
{
    cairn_time_interval_t *self = calloc(1, sizeof *self);
    if (self && !(self->name = strdup(name ? name : "")))
        cairn_time_interval_destroy(&self);
    return self;
}

void cairn_time_interval_destroy(cairn_time_interval_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_time_interval_t *self = *self_p;
    for (size_t i = 0; i < self->n_specs; i++) {
        free(self->specs[i]->location);
        free(self->specs[i]);
    }
    free(self->specs);
    free(self->name);
    free(self);
    *self_p = NULL;
}

const char *cairn_time_interval_name(const cairn_time_interval_t *self)
{
    return self->name;
}

int cairn_time_interval_add_spec(cairn_time_interval_t *self, cairn_time_spec_t **out)
{
    cairn_time_spec_t *spec = calloc(1, sizeof *spec);
    cairn_time_spec_t **grown = realloc(self->specs, (self->n_specs + 1) * sizeof *grown);
    if (!spec || !grown) {
        free(spec);
        if (grown)
            self->specs = grown;
        return -ENOMEM;
    }
    self->specs = grown;
    self->specs[self->n_specs++] = spec;
    *out = spec;
    return 0;
}

static int s_push(s_range_t *arr, size_t *n, int begin, int end, char *err, size_t errlen)
{
    if (*n >= S_MAX_RANGES) {
        s_err(err, errlen, "too many ranges (at most %d per field)", S_MAX_RANGES);
        return CAIRN_EPARSE;
    }
    arr[*n].begin = begin;
    arr[*n].end = end;
    (*n)++;
    return 0;
}

/* "HH:MM" as minutes; 24:00 allowed only when end is true. */
static int s_clock(const char *text, bool end, int *out)
{
    int h = 0, m = 0;
    char extra;
    if (!text || sscanf(text, "%d:%d%c", &h, &m, &extra) != 2 || strlen(text) != 5)
        return CAIRN_EPARSE;
    if (m < 0 || m > 59 || h < 0 || h > 24 || (h == 24 && (m != 0 || !end)))
        return CAIRN_EPARSE;
    *out = h * 60 + m;
    return 0;
}

int cairn_time_spec_add_times(cairn_time_spec_t *spec, const char *start, const char *end,
                              char *err, size_t errlen)
{
    int b, e;
    if (s_clock(start, false, &b) < 0 || s_clock(end, true, &e) < 0) {
        s_err(err, errlen,
              "times need start_time and end_time as HH:MM (00:00 to 24:00), got "
              "'%s' to '%s'",
              start ? start : "", end ? end : "");
        return CAIRN_EPARSE;
    }
    if (e <= b) {
        s_err(err, errlen, "end_time %s is not after start_time %s", end, start);
        return CAIRN_EPARSE;
    }
    return s_push(spec->times, &spec->n_times, b, e, err, errlen);
}

/* Splits "a:b" (or "a") into two trimmed words. */
static int s_split(const char *range, char *a, char *b, size_t len)
{
    const char *colon = strchr(range, ':');
    size_t la = colon ? (size_t)(colon - range) : strlen(range);
    if (la + 1 > len || (colon && strlen(colon + 1) + 1 > len))
        return CAIRN_EPARSE;
    memcpy(a, range, la);
    a[la] = '\0';
    snprintf(b, len, "%s", colon ? colon + 1 : a);
    return 0;
}

/* A name from names[] (case-insensitive, full) or a number in [lo, hi]. */
static int s_word(const char *w, const char *const *names, int base, int lo, int hi, int *out)
{
    for (int i = 0; names && names[i]; i++)
        if (strcasecmp(w, names[i]) == 0) {
            *out = i + base;
            return 0;
        }
    char *end = NULL;
    long v = strtol(w, &end, 10);
    if (!*w || *end || v < lo || v > hi)
        return CAIRN_EPARSE;
    *out = (int)v;
    return 0;
}

int cairn_time_spec_add_weekdays(cairn_time_spec_t *spec, const char *range, char *err,
                                 size_t errlen)
{
    static const char *const days[] = {"sunday",   "monday", "tuesday",  "wednesday",
                                       "thursday", "friday", "saturday", NULL};
    char a[32], b[32];
    int x, y;
    if (s_split(range, a, b, sizeof a) < 0 || s_word(a, days, 0, 1, 0, &x) < 0 ||
        s_word(b, days, 0, 1, 0, &y) < 0 || y < x) {
        s_err(err, errlen, "'%s' is not a weekday or range of weekdays (e.g. monday:friday)",
              range);
        return CAIRN_EPARSE;
    }
    return s_push(spec->wdays, &spec->n_wdays, x, y, err, errlen);
}

int cairn_time_spec_add_days_of_month(cairn_time_spec_t *spec, const char *range, char *err,
                                      size_t errlen)
{
    char a[32], b[32];
    int x, y;
    if (s_split(range, a, b, sizeof a) < 0 || s_word(a, NULL, 0, -31, 31, &x) < 0 ||
        s_word(b, NULL, 0, -31, 31, &y) < 0 || x == 0 || y == 0 || ((x > 0) == (y > 0) && y < x)) {
        s_err(err, errlen,
              "'%s' is not a day of the month or a range of them (1..31, or -31..-1 "
              "from the end, e.g. 1:5 or -3:-1)",
              range);
        return CAIRN_EPARSE;
    }
    return s_push(spec->mdays, &spec->n_mdays, x, y, err, errlen);
}

int cairn_time_spec_add_months(cairn_time_spec_t *spec, const char *range, char *err, size_t errlen)
{
    static const char *const months[] = {"january",  "february", "march",  "april",     "may",
                                         "june",     "july",     "august", "september", "october",
                                         "november", "december", NULL};
    char a[32], b[32];
    int x, y;
    if (s_split(range, a, b, sizeof a) < 0 || s_word(a, months, 1, 1, 12, &x) < 0 ||
        s_word(b, months, 1, 1, 12, &y) < 0 || y < x) {
        s_err(err, errlen, "'%s' is not a month or a range of months (e.g. january:march, 7)",
              range);
        return CAIRN_EPARSE;
    }
    return s_push(spec->months, &spec->n_months, x, y, err, errlen);
}

int cairn_time_spec_add_years(cairn_time_spec_t *spec, const char *range, char *err, size_t errlen)
{
    char a[32], b[32];
    int x, y;
    if (s_split(range, a, b, sizeof a) < 0 || s_word(a, NULL, 0, 1970, 9999, &x) < 0 ||
        s_word(b, NULL, 0, 1970, 9999, &y) < 0 || y < x) {
        s_err(err, errlen, "'%s' is not a year or a range of years (e.g. 2026:2027)", range);
        return CAIRN_EPARSE;
    }
    return s_push(spec->years, &spec->n_years, x, y, err, errlen);
}

int cairn_time_spec_set_location(cairn_time_spec_t *spec, const char *zone, char *err,
                                 size_t errlen)
{
    char path[512];
    const char *dir = getenv("TZDIR");
    if (!zone || !*zone || strstr(zone, "..") || zone[0] == '/') {
        s_err(err, errlen, "location '%s' is not a time zone name", zone ? zone : "");
        return CAIRN_EPARSE;
    }
    if (strcmp(zone, "UTC") != 0 && strcmp(zone, "Local") != 0) {
        snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", zone);
        if (access(path, R_OK) != 0) {
            s_err(err, errlen, "unknown time zone '%s' (no %s)", zone, path);
            return CAIRN_EPARSE;
        }
    }
    char *copy = strdup(zone);
    if (!copy)
        return -ENOMEM;
    free(spec->location);
    spec->location = copy;
    return 0;
}

/* The broken-down time of t in zone (NULL or "UTC": UTC). */
static void s_clock_in(const char *zone, time_t t, struct tm *out)
{
    static char current[256] = "";
    static int have = 0;
    if (!zone || strcmp(zone, "UTC") == 0) {
        gmtime_r(&t, out);
        return;
    }
    const char *want = strcmp(zone, "Local") == 0 ? "" : zone;
    if (!have || strcmp(current, want) != 0) {
        if (*want) {
            char tz[300];
            snprintf(tz, sizeof tz, ":%s", want);
            setenv("TZ", tz, 1);
        } else {
            unsetenv("TZ");
        }
        tzset();
        snprintf(current, sizeof current, "%s", want);
        have = 1;
    }
    localtime_r(&t, out);
}

static bool s_in(const s_range_t *arr, size_t n, int v)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (v >= arr[i].begin && v <= arr[i].end)
            return true;
    return false;
}

static int s_days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

static bool s_spec_contains(const cairn_time_spec_t *spec, int64_t unix_ms)
{
    struct tm tm;
    s_clock_in(spec->location, (time_t)(unix_ms / 1000), &tm);
    int minute = tm.tm_hour * 60 + tm.tm_min;
    bool in_times = spec->n_times == 0;
    for (size_t i = 0; i < spec->n_times; i++)
        if (minute >= spec->times[i].begin && minute < spec->times[i].end)
            in_times = true;
    if (!in_times || !s_in(spec->wdays, spec->n_wdays, tm.tm_wday) ||
        !s_in(spec->months, spec->n_months, tm.tm_mon + 1) ||
        !s_in(spec->years, spec->n_years, tm.tm_year + 1900))
        return false;
    if (spec->n_mdays == 0)
        return true;
    int dim = s_days_in_month(tm.tm_year + 1900, tm.tm_mon + 1);
    for (size_t i = 0; i < spec->n_mdays; i++) {
        int b = spec->mdays[i].begin < 0 ? dim + spec->mdays[i].begin + 1 : spec->mdays[i].begin;
        int e = spec->mdays[i].end < 0 ? dim + spec->mdays[i].end + 1 : spec->mdays[i].end;
        if (tm.tm_mday >= b && tm.tm_mday <= e)
            return true;
    }
    return false;
}

bool cairn_time_interval_contains(const cairn_time_interval_t *self, int64_t unix_ms)
{
    for (size_t i = 0; i < self->n_specs; i++)
        if (s_spec_contains(self->specs[i], unix_ms))
            return true;
    return false;
}
