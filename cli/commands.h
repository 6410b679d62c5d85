/* The `cairn` commands, one per cmd_*.c file, and the pieces of them that
 * the unit tests drive directly (building requests, formatting output). */
#ifndef CAIRN_CLI_COMMANDS_H
#define CAIRN_CLI_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cairn/bundle.h"
#include "cairn/codec.h"
#include "cairn/note.h"
#include "options.h"
#include "verify.h" /* services/ledger: the offline store check behind `log verify` */

extern const cli_command_t cli_cmd_up;
extern const cli_command_t cli_cmd_submit;
extern const cli_command_t cli_cmd_approve;
extern const cli_command_t cli_cmd_status;
extern const cli_command_t cli_cmd_gate;
extern const cli_command_t cli_cmd_trail;
extern const cli_command_t cli_cmd_log;
extern const cli_command_t cli_cmd_export;
extern const cli_command_t cli_cmd_verify;
extern const cli_command_t cli_cmd_keygen;

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

/* Signs the approval event (approver_key.c): adds data.signature,
 * data.key and data.signed_at (the event's time) for the approval
 * statement of cairn/approval.h. The signer must be named after the
 * approver and the approval must name its commit (CAIRN_EINVALID). */
int cli_approval_sign(json_t *event, const cli_approval_t *ap, const cairn_note_signer_t *signer,
                      char *err, size_t errlen);

/* Reads an approver signing key file (refused unless mode 0600 or
 * stricter); err says what to do. */
int cli_approver_key_load(const char *path, const char *approver, cairn_note_signer_t **out,
                          char *err, size_t errlen);

/* `cairn keygen --approver --name USER -o FILE`: returns the exit code. */
int cli_approver_keygen(const cli_args_t *args);

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

/* --- keygen --- */

/* Where keygen writes: key_file itself, or the same file name in out_dir
 * when given; the vkey is the key's path + ".vkey". Both malloc'd. */
int cli_keygen_paths(const char *key_file, const char *out_dir, char **key_out, char **vkey_out);

/* Creates a new Ed25519 signer key named name and writes it to key_path
 * (mode 0600, directory created 0700) and its vkey to vkey_path (0644), each
 * with a trailing newline; *vkey_out gets the vkey text (malloc'd). Without
 * force nothing is written when either file exists (-EEXIST).
 * CAIRN_EINVALID for a bad name. err says what went wrong. */
int cli_keygen_write(const char *name, const char *key_path, const char *vkey_path, bool force,
                     char **vkey_out, char *err, size_t errlen);

/* cli_keygen_write for `cairn keygen` (--force from args), with its errors
 * reported on stderr: returns CLI_EXIT_OK, CLI_EXIT_USAGE (a bad name, a
 * file that exists without --force) or CLI_EXIT_DENIED. *replaced_out: a
 * file was there and --force replaces it. */
int cli_keygen_run_write(const cli_args_t *args, const char *name, const char *key_path,
                         const char *vkey_path, char **vkey_out, bool *replaced_out);

/* path + ".pub", malloc'd (NULL when out of memory). */
char *cli_keygen_pub_path(const char *path);

/* --- log --- */

/* {vkey, name, key_id} for a vkey text (name and key_id null when it does not parse). */
json_t *cli_log_vkey_json(const char *vkey);

/* Verifies the checkpoint note of a reply with the reply's own vkey and
 * parses it into *out (clear with cairn_checkpoint_clear). */
int cli_log_checkpoint_check(const Cairn__V1__Checkpoint *cp, cairn_checkpoint_t *out, char *err,
                             size_t errlen);

/* {origin, size, root, note, vkey}. */
json_t *cli_log_checkpoint_json(const Cairn__V1__Checkpoint *cp, const cairn_checkpoint_t *parsed);

/* The tlog-proof text of a prove reply on out; when no checkpoint was signed
 * at the proof's size, a note on err and the base64 hashes on out. */
void cli_log_proof_render(FILE *out, FILE *err, const Cairn__V1__LedgerReply *reply);

/* {index, size, leaf_hash, hashes, checkpoint, tlog_proof} of a prove reply. */
json_t *cli_log_proof_json(const Cairn__V1__LedgerReply *reply);

/* {old_size, size, hashes, checkpoint} of a consistency reply. */
json_t *cli_log_consistency_json(const Cairn__V1__LedgerReply *reply);

/* Exit code for what cairn_ledger_verify() returned: 0 verified, 1 it did
 * not (or could not be read), 2 no ledger at that path. */
int cli_log_verify_exit(int rc);

/* "OK: ledger PATH verified: ..." or "FAILED: ledger PATH: why" and the
 * first entry that does not verify. */
void cli_log_verify_render(FILE *out, const char *path, int rc,
                           const cairn_ledger_verify_report_t *r);

/* {ok, path, size, checkpoints, payloads, purged, bad_index, reason}. */
json_t *cli_log_verify_json(const char *path, int rc, const cairn_ledger_verify_report_t *r);

/* --- log query --- */

/* `cairn log query` (cmd_log_query.c), a subcommand of cli_cmd_log. */
extern const cli_command_t cli_cmd_log_query;

/* Entries per request `cairn log query` and `cairn trail` ask cairn-ledger for. */
#define CLI_LOG_QUERY_PAGE 200

/* Parses a --since/--until TIME into Unix ms: RFC 3339 ("2026-11-26T10:00:00Z",
 * fractional seconds and numeric offsets allowed), a date ("2026-11-26",
 * midnight UTC) or a duration before now_ms ("30s", "90m", "24h", "7d").
 * CAIRN_EINVALID for anything else, or a time not after 1970. */
int cli_log_query_time(const char *text, int64_t now_ms, int64_t *ms_out);

/* Entries found by a query, in log order, and the replies that own them. */
typedef struct {
    Cairn__V1__Entry **entries;     /* every entry, in log order (owned by pages) */
    size_t n;                       /* how many entries */
    Cairn__V1__LedgerReply **pages; /* one reply per page asked */
    size_t n_pages;                 /* how many pages */
} cli_log_entries_t;

/* Frees the pages and empties *found. */
void cli_log_entries_clear(cli_log_entries_t *found);

/* Sends query to cairn-ledger page by page: at most page entries per
 * request from query->from_index on, the next from the last index + 1,
 * until a page comes back short or max entries (0 = no limit) are in
 * *found. A page too large for one reply is asked again at half the size.
 * Returns 0, or the exit code after printing why on stderr, after who (the
 * command, "cairn trail"), 4 when the ledger cannot be reached. *found holds
 * what came before a failure. */
int cli_log_query_fetch(const cairn_config_t *cfg, const char *who,
                        const Cairn__V1__QueryRequest *query, uint32_t page, uint64_t max,
                        cli_log_entries_t *found);

/* --- export --- */

/* Exactly one of change, release, and at least one of output, intoto (not
 * the same file); else CAIRN_EINVALID with a message. */
int cli_export_check(const char *change, const char *release, const char *output,
                     const char *intoto, char *err, size_t errlen);

/* --- verify --- */

/* A verifier from --vkey: the vkey text itself, or the path of a file
 * holding it (trailing white space ignored). *text_out (may be NULL) gets
 * the vkey text, malloc'd. On error a message for people in err:
 * CAIRN_EPARSE or -errno. */
int cli_vkey_load(const char *arg, char **text_out, cairn_note_verifier_t **verifier_out, char *err,
                  size_t errlen);

/* One line for a finding: the library's reason, which names its subject
 * ("entry 17: payload SHA-256 is ... but the leaf records ..."), else the
 * reason prefixed with "entry N: ", "change C: " or the finding kind. */
void cli_verify_finding_text(const cairn_finding_t *f, char *buf, size_t buflen);

/* 0 when the checkpoint verified and nothing was found, else 1. */
int cli_verify_exit(const cairn_bundle_report_t *r);

/* The checkpoint line, one line per finding, and the summary. */
void cli_verify_render(FILE *out, const cairn_bundle_report_t *r,
                       const cairn_note_verifier_t *verifier);

/* {ok, checkpoint, entries, entries_ok, findings: [{kind, index, change, reason, message}]}. */
json_t *cli_verify_json(const cairn_bundle_report_t *r);

/* Verifies a bundle (json, len bytes) with verifier and writes the result
 * to out (JSON when as_json); returns the exit code: 0 all verified, 1 not. */
int cli_verify_bundle(FILE *out, FILE *err, const char *json, size_t len,
                      const cairn_note_verifier_t *verifier, bool as_json);

/* Approver keys for `cairn verify --approvers` (verify_approvals.c): a
 * policy file's role directory keys, or a text file of vkeys one per line. */
typedef struct cli_approver_keys cli_approver_keys_t;
int cli_approver_keys_load(const char *path, cli_approver_keys_t **out, char *err, size_t errlen);
void cli_approver_keys_destroy(cli_approver_keys_t **self_p);

/* Checks every approval event in the bundle against keys: *findings_out a
 * JSON array of {index, approver, result (verified / failed / unsigned),
 * message}, with the counts. */
int cli_verify_approvals(const char *json, size_t len, const cli_approver_keys_t *keys,
                         json_t **findings_out, size_t *verified_out, size_t *failed_out,
                         size_t *unsigned_out);

/* cli_verify_bundle, then the approvals; exit 1 when either fails. */
int cli_verify_bundle_approvals(FILE *out, FILE *err, const char *json, size_t len,
                                const cairn_note_verifier_t *verifier,
                                const cli_approver_keys_t *keys, bool as_json);

#endif
