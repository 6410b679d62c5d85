/* `cairn approve CHANGE --as USER`: records an approval (or a rejection) of
 * a change as a CloudEvent of type dev.cdeventsx.cairn-approval.*, submitted
 * through cairn-ingest like any other event; with --key FILE, signed by the
 * approver (approver_key.c). */
#include <ctype.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"

#define S_TYPE_GRANTED "dev.cdeventsx.cairn-approval.granted.0.1.0"
#define S_TYPE_REJECTED "dev.cdeventsx.cairn-approval.rejected.0.1.0"
#define S_SOURCE "/cairn/cli"
#define S_ID_BYTES 16

static const cli_opt_t s_opts[] = {
    {"as", "USER", true, "who approves (the approver's user name)", 0},
    {"role", "ROLE", false, "the role the approval is given in (e.g. tech_lead)", 0},
    {"commit", "SHA", false, "bind the approval to this full commit SHA", 0},
    {"reject", NULL, false, "record a rejection instead of an approval", 0},
    {"key", "FILE", false, "sign the approval with this approver key (needs --commit)", 0},
    {NULL, NULL, false, NULL, 0},
};

static void s_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void s_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Names are printable and free of spaces so they read back unambiguously. */
static bool s_is_name(const char *s)
{
    if (!s || !*s)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

static bool s_is_full_sha(const char *s)
{
    size_t n = strlen(s);
    if (n != 40 && n != 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

int cli_approval_check(const cli_approval_t *ap, char *err, size_t errlen)
{
    if (!s_is_name(ap->change)) {
        s_err(err, errlen, "CHANGE must be a non-empty id without spaces");
        return CAIRN_EINVALID;
    }
    if (!s_is_name(ap->approver)) {
        s_err(err, errlen, "--as needs a user name without spaces");
        return CAIRN_EINVALID;
    }
    if (ap->role && !s_is_name(ap->role)) {
        s_err(err, errlen, "--role needs a role name without spaces");
        return CAIRN_EINVALID;
    }
    if (ap->commit && !s_is_full_sha(ap->commit)) {
        s_err(err, errlen,
              "--commit needs a full commit SHA (40 or 64 hex digits), got '%s'; "
              "an abbreviated SHA would never match the change's commit",
              ap->commit);
        return CAIRN_EINVALID;
    }
    return 0;
}

json_t *cli_approval_event(const cli_approval_t *ap, const char *id, int64_t now_ms)
{
    char time[32];
    cairn_format_time(now_ms, time);
    json_t *data = json_pack("{s:s, s:s}", "change", ap->change, "approver", ap->approver);
    if (!data)
        return NULL;
    if (ap->role)
        json_object_set_new(data, "role", json_string(ap->role));
    if (ap->commit)
        json_object_set_new(data, "commit", json_string(ap->commit));
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "specversion", "1.0", "id", id,
                     "source", S_SOURCE, "type", ap->reject ? S_TYPE_REJECTED : S_TYPE_GRANTED,
                     "subject", ap->change, "time", time, "datacontenttype", "application/json",
                     "data", data);
}

static int s_run(const cli_args_t *args)
{
    int code;
    char err[512];
    char *body = NULL;
    json_t *event = NULL;
    cli_approval_t ap = {
        .change = args->pos[0],
        .approver = cli_opt(args, "as"),
        .role = cli_opt(args, "role"),
        .commit = cli_opt(args, "commit"),
        .reject = cli_flag(args, "reject"),
    };
    cairn_note_signer_t *signer = NULL;
    const char *key_file = cli_opt(args, "key");
    if (cli_approval_check(&ap, err, sizeof err) < 0)
        return cli_usage_error(args->cmd, "%s", err);
    if (key_file && !ap.commit)
        return cli_usage_error(args->cmd, "--key needs --commit: a signed approval names the "
                                          "full commit SHA it approves");
    if (sodium_init() < 0) {
        fprintf(stderr, "cairn approve: libsodium failed to initialize\n");
        return CLI_EXIT_DENIED;
    }
    uint8_t raw[S_ID_BYTES];
    char id[2 * S_ID_BYTES + 1];
    randombytes_buf(raw, sizeof raw);
    cairn_hex(raw, sizeof raw, id);

    event = cli_approval_event(&ap, id, cairn_now_ms());
    if (event && key_file) {
        if (cli_approver_key_load(key_file, ap.approver, &signer, err, sizeof err) < 0 ||
            cli_approval_sign(event, &ap, signer, err, sizeof err) < 0) {
            code = cli_usage_error(args->cmd, "%s", err);
            goto out;
        }
    }
    body = event ? json_dumps(event, JSON_COMPACT) : NULL;
    if (!body) {
        fprintf(stderr, "cairn approve: out of memory\n");
        code = CLI_EXIT_DENIED;
        goto out;
    }
    code = cli_submit_body(args, "application/cloudevents+json", body, strlen(body), ap.change);
out:
    cairn_note_signer_destroy(&signer);
    free(body);
    json_decref(event);
    return code;
}

const cli_command_t cli_cmd_approve = {
    .name = "approve",
    .positional = "CHANGE",
    .summary = "Approve (or with --reject, reject) a change as USER.",
    .details = "Sends a CloudEvent of type " S_TYPE_GRANTED "\n"
               "(or " S_TYPE_REJECTED ") with a random id, source " S_SOURCE ",\n"
               "and data {change, approver, role, commit} to cairn-ingest. Whether the approval\n"
               "counts is the policy's decision: see `cairn status CHANGE`.\n"
               "With --key FILE (an approver key from `cairn keygen --approver`, named after\n"
               "USER) the approval is signed: the data also carries {signature, key,\n"
               "signed_at}, the signed-note signature of the statement cairn-approval/v1\n"
               "(change, commit, role, decision, approver, time; docs/formats.md). The policy\n"
               "checks it against USER's key in its role directory.\n"
               "Output: \"accepted <CHANGE> index <N> (event <id>)\", N being the ledger index.\n"
               "With --json: the ingest reply body with \"http_status\" added.\n\n"
               "Exit codes: 0 recorded, 1 rejected by ingest, 2 usage error, 3 ingest could not\n"
               "make it durable (try again), 4 cairn-ingest cannot be reached (run `cairn up`).\n",
    .opts = s_opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run,
};
