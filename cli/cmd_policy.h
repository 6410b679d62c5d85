/* `cairn policy`: the policy lifecycle from the command line.
 *   check FILE            every problem with file:line:column, or the digest
 *   test FILE             the policy's own `tests:` cases
 *   explain CHANGE        every rule the running policy evaluated, in words
 *   replay FILE           what a candidate policy would have decided over
 *                         the ledger's history, against what was recorded
 * and the pieces of it the unit tests drive directly. */
#ifndef CAIRN_CLI_CMD_POLICY_H
#define CAIRN_CLI_CMD_POLICY_H

#include <jansson.h>
#include <stdint.h>

#include "options.h"

extern const cli_command_t cli_cmd_policy;

/* One loader problem ("FILE:LINE:COL: text" or "FILE: text") as
 * {file, line, column, message, key, suggestion}: key is the first quoted
 * name in the text, suggestion the one after "did you mean" (both null
 * when absent), line and column 0 when the problem has no position. */
json_t *cli_policy_problem_json(const char *file, const char *problem);

/* Parses --since: an RFC 3339 time, or a date (YYYY-MM-DD, midnight UTC). */
int cli_policy_parse_since(const char *text, int64_t *ms_out);

#endif
