/* Small shared helpers: clocks, RFC 3339 times, hex, SHA-256, UTF-8 checks
 * (libunistring), FNV-1a, files, mkdir -p. */
#include "cairn/util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <unistr.h>

#include "cairn/error.h"

int64_t cairn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cairn_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cairn_format_time(int64_t unix_ms, char out[32])
{
    time_t secs = (time_t)(unix_ms / 1000);
    int ms = (int)(unix_ms % 1000);
    if (ms < 0) {
        ms += 1000;
        secs -= 1;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* Formatted with room for any int, so -O2's truncation check is satisfied;
     * real timestamps are 24 characters. */
    char buf[96];
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    snprintf(out, 32, "%.31s", buf);
}

static int s_digits(const char *p, int n, int *out)
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

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t s_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int cairn_parse_time(const char *text, int64_t *unix_ms_out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, s;
    if (!text || strlen(text) < 20)
        return CAIRN_EPARSE;
    const char *p = text;
    if (s_digits(p, 4, &y) || p[4] != '-' || s_digits(p + 5, 2, &mo) || p[7] != '-' ||
        s_digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
        s_digits(p + 11, 2, &h) || p[13] != ':' || s_digits(p + 14, 2, &mi) || p[16] != ':' ||
        s_digits(p + 17, 2, &s))
        return CAIRN_EPARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60)
        return CAIRN_EPARSE;
    p += 19;
    int ms = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (*p >= '0' && *p <= '9') {
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (digits == 0)
            return CAIRN_EPARSE;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    int64_t offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (s_digits(p + 1, 2, &oh) || p[3] != ':' || s_digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return CAIRN_EPARSE;
        offset_min = (oh * 60 + om) * (*p == '+' ? 1 : -1);
        p += 6;
    } else {
        return CAIRN_EPARSE;
    }
    if (*p != '\0')
        return CAIRN_EPARSE;
    int64_t secs = s_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (s > 59 ? 59 : s);
    secs -= offset_min * 60;
    *unix_ms_out = secs * 1000 + ms;
    return 0;
}

void cairn_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
    out[2 * len] = '\0';
}

size_t cairn_utf8_invalid_at(const void *text, size_t len)
{
    const uint8_t *bad = u8_check(text, len);
    return bad ? (size_t)(bad - (const uint8_t *)text) : len;
}

bool cairn_utf8_valid(const void *text, size_t len)
{
    return u8_check(text, len) == NULL;
}

uint64_t cairn_fnv1a64(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static int s_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Syncs the directory holding path, so the new name survives a crash. */
static void s_sync_parent(const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(copy);
}

int cairn_write_file(const char *path, const void *data, size_t len, unsigned mode, bool replace)
{
    int rc = 0;
    int fd = -1;
    size_t cap = strlen(path) + 16;
    char *tmp = malloc(cap);
    if (!tmp)
        return -ENOMEM;
    snprintf(tmp, cap, "%s.tmp-XXXXXX", path);
    /* mkstemp creates the file 0600: nobody else can read it before the
     * final mode is set. */
    if ((fd = mkstemp(tmp)) < 0) {
        rc = -errno;
        goto out;
    }
    if (fchmod(fd, (mode_t)mode) < 0 || (rc = s_write_all(fd, data, len)) < 0 || fsync(fd) < 0)
        rc = rc < 0 ? rc : -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc < 0)
        goto out;
    /* link() refuses to replace an existing name, atomically. */
    if (replace ? rename(tmp, path) < 0 : link(tmp, path) < 0) {
        rc = -errno;
        goto out;
    }
    s_sync_parent(path);
out:
    if (fd >= 0 && (rc < 0 || !replace))
        unlink(tmp);
    free(tmp);
    return rc;
}

int cairn_mkdir_parent(const char *path, unsigned mode)
{
    char *dir = strdup(path);
    if (!dir)
        return -ENOMEM;
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        rc = cairn_mkdir_p(dir, mode);
    }
    free(dir);
    return rc;
}

int cairn_read_file(const char *path, size_t max, char **buf_out, size_t *len_out)
{
    int rc = 0;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return -errno;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, ncap);
            if (!nb) {
                rc = -ENOMEM;
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (len > max) {
            rc = CAIRN_ETOOLARGE;
            goto out;
        }
        if (n == 0) {
            if (ferror(f)) {
                rc = -EIO;
                goto out;
            }
            break;
        }
    }
    buf[len] = '\0';
    *buf_out = buf;
    buf = NULL;
    if (len_out)
        *len_out = len;
out:
    free(buf);
    if (f != stdin)
        fclose(f);
    return rc;
}

int cairn_mkdir_p(const char *path, unsigned mode)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}
