/* Paths the CLI writes its output files to. */
#include "files.h"

#include <sys/stat.h>

bool cli_path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}
