/* `cairn ingest`: ingest's local state from the command line, read straight
 * from the data directory (no daemon needed).
 *   ingest rejected [--limit N]   the latest rejected requests, from
 *                                 {data_dir}/ingest/rejected/index.jsonl
 * and the pieces of it the unit tests drive directly. */
#ifndef CAIRN_CLI_CMD_INGEST_H
#define CAIRN_CLI_CMD_INGEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "options.h"

extern const cli_command_t cli_cmd_ingest;

/* Reads the rejected index at path: the last limit lines (all when limit is
 * 0), oldest first, as {index, total, shown, skipped, rejected: [...]} where
 * each item is the index line's object plus "file_path" (the kept body's
 * path, or null). Lines that are not JSON objects are counted in skipped.
 * A missing index is {.., total: 0, rejected: []}. Returns 0, or -errno
 * when the file exists but cannot be read. */
int cli_ingest_rejected_read(const char *path, size_t limit, json_t **out);

/* Writes the result of cli_ingest_rejected_read for people: a header, one
 * line per rejection (time, status, source, kept file, reason), a summary. */
void cli_ingest_rejected_render(FILE *out, const json_t *result);

#endif
