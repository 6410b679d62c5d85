/* Paths the CLI writes its output files to. */
#include "files.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cairn/util.h"

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
