/* Secret files: the owner-only permission check every key file passes at
 * start, and reading a secret into sodium_malloc'd memory with read(2), so
 * no stdio buffer keeps a copy. */
#include "cairn/secret_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/error.h"

/* "cannot read PATH: reason" */
static void s_err_read(char *err, size_t errlen, const char *path, int code)
{
    if (err && errlen)
        snprintf(err, errlen, "cannot read %s: %s", path, cairn_strerror(code));
}

static void s_err_large(char *err, size_t errlen, const char *path)
{
    if (err && errlen)
        snprintf(err, errlen, "%s is too large for a key file", path);
}

/* The checks on an open file's status; 0 or CAIRN_EINVALID with err. */
static int s_check_stat(const char *path, const struct stat *st, char *err, size_t errlen)
{
    if (!S_ISREG(st->st_mode)) {
        if (err && errlen)
            snprintf(err, errlen, "%s is not a regular file", path);
        return CAIRN_EINVALID;
    }
    if (st->st_uid != geteuid() && st->st_uid != 0) {
        if (err && errlen)
            snprintf(err, errlen,
                     "%s belongs to another user (uid %u): a key file must belong to the user "
                     "that runs Cairn",
                     path, (unsigned)st->st_uid);
        return CAIRN_EINVALID;
    }
    if (st->st_mode & (S_IRWXG | S_IRWXO)) {
        if (err && errlen)
            snprintf(err, errlen,
                     "%s has mode %04o: a key file must be readable by its owner only (run: "
                     "chmod 600 %s)",
                     path, (unsigned)(st->st_mode & 07777), path);
        return CAIRN_EINVALID;
    }
    return 0;
}

int cairn_secret_file_check(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        int rc = -errno;
        s_err_read(err, errlen, path, rc);
        return rc;
    }
    return s_check_stat(path, &st, err, errlen);
}

int cairn_secret_file_read(const char *path, size_t max, char **buf_out, size_t *len_out, char *err,
                           size_t errlen)
{
    int rc = 0;
    char *buf = NULL;
    size_t len = 0;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = -errno;
        s_err_read(err, errlen, path, rc);
        goto out;
    }
    if ((rc = s_check_stat(path, &st, err, errlen)) < 0)
        goto out;
    if (st.st_size < 0 || (size_t)st.st_size > max) {
        rc = CAIRN_ETOOLARGE;
        s_err_large(err, errlen, path);
        goto out;
    }
    if (sodium_init() < 0 || !(buf = sodium_malloc(max + 1))) {
        rc = -ENOMEM;
        s_err_read(err, errlen, path, rc);
        goto out;
    }
    for (;;) {
        if (len == max) {
            char probe;
            ssize_t extra = read(fd, &probe, 1);
            sodium_memzero(&probe, sizeof probe);
            if (extra > 0) {
                rc = CAIRN_ETOOLARGE;
                s_err_large(err, errlen, path);
                goto out;
            }
            break;
        }
        ssize_t n = read(fd, buf + len, max - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            s_err_read(err, errlen, path, rc);
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *buf_out = buf;
    buf = NULL;
    if (len_out)
        *len_out = len;
out:
    if (buf)
        sodium_free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

void cairn_secret_file_free(char **buf_p)
{
    if (!buf_p || !*buf_p)
        return;
    sodium_free(*buf_p); /* wipes before unmapping */
    *buf_p = NULL;
}
