/* Atomic, mode-exact file writes for the CLI's output files. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairn/util.h"

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

int cli_write_file(const char *path, const void *data, size_t len, unsigned mode, bool replace)
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

int cli_make_parent(const char *path, unsigned mode)
{
    char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    char *slash = strrchr(copy, '/');
    int rc = 0;
    if (slash && slash != copy) {
        *slash = '\0';
        rc = cairn_mkdir_p(copy, mode);
    }
    free(copy);
    return rc;
}

bool cli_path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}
