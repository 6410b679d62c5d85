/* Paths of the files the CLI writes for people to keep: keys, vkeys,
 * evidence bundles (written with cairn_write_file, cairn/util.h). */
#ifndef CAIRN_CLI_FILES_H
#define CAIRN_CLI_FILES_H

#include <stdbool.h>
#include <stddef.h>

/* True when something exists at path (a dangling symlink counts). */
bool cli_path_exists(const char *path);

#endif
