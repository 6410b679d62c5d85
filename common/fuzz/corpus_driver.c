/* The corpus driver every fuzz target shares when it is not built with
 * libFuzzer (see fuzz.cmake): runs each file (or each file of each
 * directory) named on the command line through LLVMFuzzerTestOneInput once,
 * so every build and every ctest run exercises the committed corpora. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cairn/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the target parses, for the summary line (defined by each target). */
extern const char cairn_fuzz_target_name[];

static int s_run_file(const char *path, int *count)
{
    char *buf = NULL;
    size_t len = 0;
    if (cairn_read_file(path, 16u << 20, &buf, &len) < 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    free(buf);
    (*count)++;
    return 0;
}

static int s_run_path(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "no such file or directory: %s\n", path);
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return s_run_file(path, count);
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(dir));) {
        char child[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        if (stat(child, &st) == 0 && S_ISREG(st.st_mode))
            rc = s_run_file(child, count);
    }
    closedir(dir);
    return rc;
}

int main(int argc, char **argv)
{
    int count = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (s_run_path(argv[i], &count) < 0)
            return 1;
    printf("ran %d inputs through the %s\n", count, cairn_fuzz_target_name);
    return count > 0 ? 0 : 1;
}
