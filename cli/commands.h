/* The `cairn` commands, one per cmd_*.c file, and the pieces of them that
 * the unit tests drive directly (building requests, formatting output). */
#ifndef CAIRN_CLI_COMMANDS_H
#define CAIRN_CLI_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cairn/codec.h"
#include "options.h"

extern const cli_command_t cli_cmd_up;
extern const cli_command_t cli_cmd_submit;
extern const cli_command_t cli_cmd_approve;
extern const cli_command_t cli_cmd_status;
extern const cli_command_t cli_cmd_gate;
extern const cli_command_t cli_cmd_trail;

/* Every command, in the order `cairn --help` lists them; NULL-terminated. */
extern const cli_command_t *const cli_commands[];

/* --- up --- */

/* Restart delays: 200ms doubling to 10s, back to 200ms after a child stayed
 * up 30s. Returns the delay before the next restart given the previous one
 * (0 for the first) and how long the child ran. */
int64_t cli_up_backoff_ms(int64_t previous_ms, int64_t uptime_ms);

/* --- submit / approve --- */

/* Sends body to ingest like an HTTP POST to /v1/events and reports the
 * outcome on stdout/stderr; returns the exit code. change_hint (or NULL)
 * names the change in the report when the reply does not. */
int cli_submit_body(const cli_args_t *args, const char *content_type, const char *body, size_t len,
                    const char *change_hint);

/* Writes the outcome of a submission and returns the exit code: 0 for
 * 202/200, 3 for 503, 1 for any other status. */
int cli_submit_render(FILE *out, FILE *err, const Cairn__V1__SubmitReply *reply, bool json,
                      const char *change_hint);

/* What `cairn approve` records. */
typedef struct {
    const char *change;   /* change id */
    const char *approver; /* --as */
    const char *role;     /* --role, or NULL */
    const char *commit;   /* --commit, or NULL */
    bool reject;          /* --reject */
} cli_approval_t;

/* Checks the approval's arguments; on error returns CAIRN_EINVALID with a
 * message in err. */
int cli_approval_check(const cli_approval_t *ap, char *err, size_t errlen);

/* The approval CloudEvent (structured JSON) with event id `id` at now_ms. */
json_t *cli_approval_event(const cli_approval_t *ap, const char *id, int64_t now_ms);

/* --- status --- */

/* True when the policy has nothing recorded for the change. */
bool cli_status_is_empty(const Cairn__V1__ChangeStatus *st);

/* Writes the human status of a change. */
void cli_status_render(FILE *out, const Cairn__V1__ChangeStatus *st);

/* --- gate --- */

/* Writes the decision of one gate with its reasons and obligations. */
void cli_gate_render(FILE *out, const Cairn__V1__Verdict *v, const char *change, const char *gate);

/* --- trail --- */

/* One-line summary of a ledger record (rec may be NULL when it did not decode). */
void cli_trail_summary(const Cairn__V1__Entry *entry, const Cairn__V1__Record *rec, char *buf,
                       size_t buflen);

/* Writes one line per entry: index, time, topic, summary. */
void cli_trail_render(FILE *out, Cairn__V1__Entry *const *entries, size_t n);

/* A JSON array with every field of every entry and its decoded record. */
json_t *cli_trail_json(Cairn__V1__Entry *const *entries, size_t n);

#endif
