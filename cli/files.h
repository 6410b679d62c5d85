/* Paths of the files the CLI writes for people to keep: keys, vkeys,
 * evidence bundles (written with cairn_write_file, cairn/util.h). */
#ifndef CAIRN_CLI_FILES_H
#define CAIRN_CLI_FILES_H

#include <stdbool.h>
#include <stddef.h>

/* Creates the directory that holds path, and any missing parents, with
 * mode (existing ones are kept). Returns 0 or -errno. */
int cli_make_parent(const char *path, unsigned mode);

/* True when something exists at path (a dangling symlink counts). */
bool cli_path_exists(const char *path);

#endif
