/* Time zones from the system's TZif files (see tz.h).
 *
 * A TZif file holds the zone's transitions (Unix time -> local time type)
 * and, in version 2+, a footer with the POSIX TZ rule for times after the
 * last transition (e.g. "CET-1CEST,M3.5.0,M10.5.0/3"). Debian installs
 * "fat" and "slim" files alike; slim ones stop listing transitions once the
 * footer rule takes over, so both parts are needed. Only the 64-bit data
 * block is read; leap-second records ("right/" zones) are ignored, as POSIX
 * time ignores them. */
#include "tz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cairn/error.h"
#include "cairn/util.h"

#define S_MAX_FILE (512u * 1024u)

/* One side of a POSIX rule: when the change happens in a year. */
typedef struct {
    char kind;      /* 'J' (1..365, no Feb 29), 'D' (0..365), 'M' (month.week.day) */
    int day;        /* J/D: day number; M: weekday 0..6 */
    int week;       /* M: 1..5 (5 = last) */
    int month;      /* M: 1..12 */
    int32_t time_s; /* local time of day of the change (may be negative or > 24h) */
} s_rule_date_t;

typedef struct {
    bool present;    /* the file had a usable footer */
    int32_t std_off; /* standard offset, seconds east */
    bool has_dst;    /* a DST part exists */
    int32_t dst_off; /* DST offset, seconds east */
    s_rule_date_t start, end;
} s_rule_t;

struct cairn_tz_t {
    char *name;          /* zone name */
    int64_t *trans;      /* transition times (Unix s), ascending */
    uint8_t *trans_type; /* type index per transition */
    size_t n_trans;
    int32_t *type_off; /* offset per local time type */
    size_t n_types;
    s_rule_t rule; /* footer rule */
};

/* ---- calendar ------------------------------------------------------------ */

int64_t cairn_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void cairn_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

unsigned cairn_weekday_from_days(int64_t z)
{
    return (unsigned)(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

static int64_t s_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static bool s_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ---- POSIX TZ rule (footer) ----------------------------------------------- */

static const char *s_skip_name(const char *p)
{
    if (*p == '<') {
        const char *end = strchr(p, '>');
        return end ? end + 1 : NULL;
    }
    const char *start = p;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - start >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] -> seconds; hours up to 167 (RFC 8536 extension). */
static const char *s_parse_hms(const char *p, int32_t *out)
{
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    int part[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (*p != ':')
                break;
            p++;
        }
        if (*p < '0' || *p > '9')
            return NULL;
        int v = 0, digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 3) {
            v = v * 10 + (*p++ - '0');
            digits++;
        }
        part[i] = v;
    }
    if (part[0] > 167 || part[1] > 59 || part[2] > 59)
        return NULL;
    *out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return p;
}

static const char *s_parse_int(const char *p, int *out)
{
    if (*p < '0' || *p > '9')
        return NULL;
    int v = 0;
    while (*p >= '0' && *p <= '9' && v < 100000)
        v = v * 10 + (*p++ - '0');
    *out = v;
    return p;
}

static const char *s_parse_date(const char *p, s_rule_date_t *r)
{
    r->time_s = 7200;
    if (*p == 'J') {
        r->kind = 'J';
        if (!(p = s_parse_int(p + 1, &r->day)) || r->day < 1 || r->day > 365)
            return NULL;
    } else if (*p == 'M') {
        r->kind = 'M';
        if (!(p = s_parse_int(p + 1, &r->month)) || *p != '.' ||
            !(p = s_parse_int(p + 1, &r->week)) || *p != '.' || !(p = s_parse_int(p + 1, &r->day)))
            return NULL;
        if (r->month < 1 || r->month > 12 || r->week < 1 || r->week > 5 || r->day > 6)
            return NULL;
    } else {
        r->kind = 'D';
        if (!(p = s_parse_int(p, &r->day)) || r->day > 365)
            return NULL;
    }
    if (*p == '/' && !(p = s_parse_hms(p + 1, &r->time_s)))
        return NULL;
    return p;
}

static bool s_parse_rule(const char *text, s_rule_t *r)
{
    int32_t off;
    const char *p = s_skip_name(text);
    if (!p || !(p = s_parse_hms(p, &off)))
        return false;
    memset(r, 0, sizeof *r);
    r->std_off = -off; /* POSIX offsets are west of Greenwich */
    if (*p == '\0') {
        r->present = true;
        return true;
    }
    if (!(p = s_skip_name(p)))
        return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if (!(p = s_parse_hms(p, &off)))
            return false;
        r->dst_off = -off;
    }
    if (*p == '\0') {
        /* No dates: POSIX leaves them to the implementation; use the US
         * rules as glibc does. */
        r->start = (s_rule_date_t){'M', 0, 2, 3, 7200};
        r->end = (s_rule_date_t){'M', 0, 1, 11, 7200};
        r->present = true;
        return true;
    }
    if (*p != ',' || !(p = s_parse_date(p + 1, &r->start)) || *p != ',' ||
        !(p = s_parse_date(p + 1, &r->end)) || *p != '\0')
        return false;
    r->present = true;
    return true;
}

/* Local seconds (since 1970 local) at which the change happens in year y. */
static int64_t s_rule_local(const s_rule_date_t *r, int64_t y)
{
    int64_t day;
    if (r->kind == 'J') {
        day = cairn_days_from_civil(y, 1, 1) + r->day - 1;
        if (s_leap(y) && r->day >= 60)
            day++;
    } else if (r->kind == 'D') {
        day = cairn_days_from_civil(y, 1, 1) + r->day;
    } else {
        int64_t first = cairn_days_from_civil(y, (unsigned)r->month, 1);
        unsigned wd = cairn_weekday_from_days(first);
        int64_t d = first + ((r->day - (int)wd + 7) % 7) + 7 * (r->week - 1);
        static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        unsigned len = mdays[r->month - 1] + (r->month == 2 && s_leap(y));
        while (d >= first + len)
            d -= 7;
        day = d;
    }
    return day * 86400 + r->time_s;
}

static int32_t s_rule_offset(const s_rule_t *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t y;
    unsigned m, d;
    cairn_civil_from_days(s_floor_div(t + r->std_off, 86400), &y, &m, &d);
    /* Check the neighbouring years too: a rule date near New Year. */
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        int64_t start = s_rule_local(&r->start, yy) - r->std_off;
        int64_t end = s_rule_local(&r->end, yy) - r->dst_off;
        if (start < end) {
            if (t >= start && t < end)
                return r->dst_off;
        } else if (yy == y && (t >= start || t < end)) {
            return r->dst_off;
        }
    }
    return r->std_off;
}

/* ---- TZif ------------------------------------------------------------------- */

static uint32_t s_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t s_be64(const uint8_t *p)
{
    return (int64_t)((uint64_t)s_be32(p) << 32 | s_be32(p + 4));
}

typedef struct {
    uint32_t isut, isstd, leap, time, type, chars;
} s_counts_t;

static int s_header(const uint8_t *p, size_t len, s_counts_t *c, char *version)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0)
        return CAIRN_EINVALID;
    *version = (char)p[4];
    c->isut = s_be32(p + 20);
    c->isstd = s_be32(p + 24);
    c->leap = s_be32(p + 28);
    c->time = s_be32(p + 32);
    c->type = s_be32(p + 36);
    c->chars = s_be32(p + 40);
    if (c->type == 0 || c->type > 255 || c->time > 100000 || c->leap > 100000 ||
        c->chars > 100000 || c->isut > 255 || c->isstd > 255)
        return CAIRN_EINVALID;
    return 0;
}

static size_t s_block_len(const s_counts_t *c, size_t tsize)
{
    return c->time * tsize + c->time + c->type * 6 + c->chars + c->leap * (tsize + 4) + c->isstd +
           c->isut;
}

static int s_parse_tzif(cairn_tz_t *tz, const uint8_t *buf, size_t len)
{
    s_counts_t c;
    char version;
    int rc = s_header(buf, len, &c, &version);
    if (rc < 0)
        return rc;
    size_t off = 44, tsize = 4;
    if (version >= '2') {
        /* Skip the 32-bit block; use the 64-bit one after the second header. */
        off += s_block_len(&c, 4);
        if (off > len || (rc = s_header(buf + off, len - off, &c, &version)) < 0)
            return CAIRN_EINVALID;
        off += 44;
        tsize = 8;
    }
    size_t need = s_block_len(&c, tsize);
    if (off + need > len)
        return CAIRN_EINVALID;
    const uint8_t *p = buf + off;
    tz->trans = calloc(c.time ? c.time : 1, sizeof *tz->trans);
    tz->trans_type = calloc(c.time ? c.time : 1, 1);
    tz->type_off = calloc(c.type, sizeof *tz->type_off);
    if (!tz->trans || !tz->trans_type || !tz->type_off)
        return -ENOMEM;
    for (uint32_t i = 0; i < c.time; i++) {
        tz->trans[i] = tsize == 8 ? s_be64(p + i * 8) : (int32_t)s_be32(p + i * 4);
        if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
            return CAIRN_EINVALID;
    }
    p += c.time * tsize;
    for (uint32_t i = 0; i < c.time; i++) {
        if (p[i] >= c.type)
            return CAIRN_EINVALID;
        tz->trans_type[i] = p[i];
    }
    p += c.time;
    for (uint32_t i = 0; i < c.type; i++) {
        int32_t o = (int32_t)s_be32(p + i * 6);
        if (o < -25 * 3600 || o > 26 * 3600)
            return CAIRN_EINVALID;
        tz->type_off[i] = o;
    }
    tz->n_trans = c.time;
    tz->n_types = c.type;
    off += need;
    /* Footer: "\n<rule>\n". */
    if (version >= '2' && off < len && buf[off] == '\n') {
        const uint8_t *nl = memchr(buf + off + 1, '\n', len - off - 1);
        if (nl) {
            size_t rl = (size_t)(nl - (buf + off + 1));
            char rule[128];
            if (rl > 0 && rl < sizeof rule) {
                memcpy(rule, buf + off + 1, rl);
                rule[rl] = '\0';
                if (!s_parse_rule(rule, &tz->rule))
                    tz->rule.present = false;
            }
        }
    }
    return 0;
}

static bool s_valid_name(const char *name)
{
    if (!*name || name[0] == '/' || strlen(name) > 200)
        return false;
    for (const char *p = name; *p; p++) {
        bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || *p == '/' || *p == '_' || *p == '-' || *p == '+';
        if (!ok)
            return false;
    }
    return strstr(name, "..") == NULL;
}

int cairn_tz_load(const char *name, cairn_tz_t **out)
{
    if (!name || !s_valid_name(name))
        return CAIRN_EINVALID;
    cairn_tz_t *tz = calloc(1, sizeof *tz);
    char *buf = NULL;
    size_t len = 0;
    int rc = -ENOMEM;
    if (!tz || !(tz->name = strdup(name)))
        goto fail;
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
        tz->type_off = calloc(1, sizeof *tz->type_off);
        if (!tz->type_off)
            goto fail;
        tz->n_types = 1;
        *out = tz;
        return 0;
    }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    struct stat st;
    if (stat(path, &st) < 0) {
        rc = errno == ENOENT || errno == ENOTDIR ? CAIRN_ENOTFOUND : CAIRN_EINVALID;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) { /* "Europe" is a directory, not a zone */
        rc = CAIRN_ENOTFOUND;
        goto fail;
    }
    rc = cairn_read_file(path, S_MAX_FILE, &buf, &len);
    if (rc < 0) {
        rc = rc == -ENOENT ? CAIRN_ENOTFOUND : CAIRN_EINVALID;
        goto fail;
    }
    if ((rc = s_parse_tzif(tz, (const uint8_t *)buf, len)) < 0)
        goto fail;
    free(buf);
    *out = tz;
    return 0;
fail:
    free(buf);
    cairn_tz_destroy(&tz);
    return rc;
}

void cairn_tz_destroy(cairn_tz_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_tz_t *tz = *self_p;
    free(tz->name);
    free(tz->trans);
    free(tz->trans_type);
    free(tz->type_off);
    free(tz);
    *self_p = NULL;
}

const char *cairn_tz_name(const cairn_tz_t *self)
{
    return self->name;
}

int32_t cairn_tz_offset(const cairn_tz_t *self, int64_t t)
{
    if (self->n_trans == 0)
        return self->rule.present ? s_rule_offset(&self->rule, t) : self->type_off[0];
    if (t < self->trans[0])
        return self->type_off[0];
    if (t >= self->trans[self->n_trans - 1] && self->rule.present)
        return s_rule_offset(&self->rule, t);
    size_t lo = 0, hi = self->n_trans; /* largest i with trans[i] <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return self->type_off[self->trans_type[lo]];
}

int64_t cairn_tz_local_to_utc(const cairn_tz_t *self, int64_t local_s)
{
    /* Offsets in force within a day either side; transitions are further
     * apart than that. */
    int32_t cand[3] = {cairn_tz_offset(self, local_s - 86400), cairn_tz_offset(self, local_s),
                       cairn_tz_offset(self, local_s + 86400)};
    bool found = false;
    int64_t best = 0;
    for (int i = 0; i < 3; i++) {
        int64_t u = local_s - cand[i];
        if (cairn_tz_offset(self, u) == cand[i] && (!found || u < best)) {
            best = u;
            found = true;
        }
    }
    return found ? best : local_s - cand[0];
}

void cairn_tz_format(const cairn_tz_t *self, int64_t utc_ms, char out[40])
{
    int64_t t = s_floor_div(utc_ms, 1000);
    int32_t off = cairn_tz_offset(self, t);
    int64_t local = t + off, day = s_floor_div(local, 86400), sec = local - day * 86400;
    int64_t y;
    unsigned m, d;
    cairn_civil_from_days(day, &y, &m, &d);
    int32_t a = off < 0 ? -off : off;
    snprintf(out, 40, "%04lld-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", (long long)y, m, d,
             (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60), off < 0 ? '-' : '+',
             (int)(a / 3600), (int)(a / 60 % 60));
}

static int s_num(const char *p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

int cairn_tz_parse_time(const cairn_tz_t *self, const char *text, int64_t *utc_ms_out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h = 0, mi = 0, s = 0;
    const char *p = text;
    if (strlen(p) < 10 || s_num(p, 4, &y) || p[4] != '-' || s_num(p + 5, 2, &mo) || p[7] != '-' ||
        s_num(p + 8, 2, &d))
        return CAIRN_EPARSE;
    p += 10;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        if (s_num(p + 1, 2, &h) || p[3] != ':' || s_num(p + 4, 2, &mi))
            return CAIRN_EPARSE;
        p += 6;
        if (*p == ':') {
            if (s_num(p + 1, 2, &s))
                return CAIRN_EPARSE;
            p += 3;
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !s_leap(y)) ||
        h > 23 || mi > 59 || s > 59)
        return CAIRN_EPARSE;
    int64_t local =
        cairn_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
    int64_t utc;
    if (*p == '\0') {
        utc = cairn_tz_local_to_utc(self, local);
    } else if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        utc = local;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh, om;
        if (s_num(p + 1, 2, &oh) || s_num(p + 4, 2, &om) || oh > 23 || om > 59)
            return CAIRN_EPARSE;
        int64_t off = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
        utc = local - off;
    } else {
        return CAIRN_EPARSE;
    }
    *utc_ms_out = utc * 1000;
    return 0;
}
