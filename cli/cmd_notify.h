/* `cairn notify` and `cairn inbox`: the notification side from the command
 * line.
 *   notify routes test LABEL=VALUE...  which receivers an alert reaches
 *                                      (offline, from the routes file)
 *   notify routes check                validate the routes file
 *   notify silence MATCHER...          hold notifications back (recorded in the ledger)
 *   notify silences                    the silences in force
 *   notify ack CHANGE                  take ownership of a change's alerts
 *   notify dead                        dead-lettered notifications
 *   inbox [--role R]                   recent items of the in-platform feed
 * and the pieces of them the unit tests drive directly. */
#ifndef CAIRN_CLI_CMD_NOTIFY_H
#define CAIRN_CLI_CMD_NOTIFY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cairn/codec.h"
#include "labels.h"
#include "options.h"
#include "routes.h"

extern const cli_command_t cli_cmd_notify;
extern const cli_command_t cli_cmd_inbox;

/* Parses LABEL=VALUE arguments into a label set. CAIRN_EINVALID with a
 * message for anything else. */
int cli_notify_labels(const char *const *args, size_t n, cairn_labels_t **out, char *err,
                      size_t errlen);

/* The receivers an alert with labels reaches at at_ms:
 * {labels, receivers: [{receiver, route, line, group_by, group_key, group_wait,
 *  group_interval, repeat_interval, active, integrations}]}. */
json_t *cli_notify_routes_test(const cairn_routes_t *routes, const cairn_labels_t *labels,
                               int64_t at_ms);

/* Writes the result of cli_notify_routes_test for people: the receiver
 * names on the first line, then one line per route. */
void cli_notify_routes_render(FILE *out, const json_t *result);

/* Parses an end time: a duration from now ("2h", "30m") or an RFC 3339 time. */
int cli_notify_parse_until(const char *text, int64_t now_ms, int64_t *out);

/* Builds the matchers of a silence or acknowledgement from matcher texts
 * (`env="prod"`, `kind=~"approval.*"`); each is parsed and checked. The
 * arrays are malloc'd (free with cli_notify_matchers_free). */
int cli_notify_matchers(const char *const *texts, size_t n, Cairn__V1__Matcher ***out,
                        size_t *n_out, char *err, size_t errlen);
void cli_notify_matchers_free(Cairn__V1__Matcher **m, size_t n);

#endif
