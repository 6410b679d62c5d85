/* Files the CLI writes for people to keep: keys, vkeys, evidence bundles.
 * Each is written to a temporary file beside its destination, synced, and
 * then moved into place, so a reader never sees half a file and a crash
 * never leaves one behind. */
#ifndef CAIRN_CLI_FILES_H
#define CAIRN_CLI_FILES_H

#include <stdbool.h>
#include <stddef.h>

/* Writes len bytes of data to path with exactly mode (umask does not
 * apply). Without replace an existing path is kept and -EEXIST returned;
 * with it the file is replaced atomically. The directory must exist.
 * Returns 0 or -errno. */
int cli_write_file(const char *path, const void *data, size_t len, unsigned mode, bool replace);

/* Creates the directory that holds path, and any missing parents, with
 * mode (existing ones are kept). Returns 0 or -errno. */
int cli_make_parent(const char *path, unsigned mode);

/* True when something exists at path (a dangling symlink counts). */
bool cli_path_exists(const char *path);

#endif
