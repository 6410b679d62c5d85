/* `cairn verify FILE --vkey VKEY`: checks an exported evidence bundle
 * offline — no daemon, no database, nothing but the file and the log's
 * verifier key: the checkpoint signature, every inclusion proof, every
 * payload digest and every change's prev chain (cairn/bundle.h). Each
 * problem is printed as one precise line, then a summary. With
 * --approvers, also every approval signature (verify_approvals.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/bundle.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"
#include "ledger_client.h"
#include "pbjson.h"

#define S_BUNDLE_MAX ((size_t)1 << 30) /* largest bundle read: 1 GiB */

static const cli_opt_t s_opts[] = {
    {"vkey", "VKEY", true, "the log's verifier key: the vkey text, or a file holding it", 0},
    {"approvers", "FILE", false,
     "also check every approval signature against these keys (a policy, or vkeys)", 0},
    {NULL, NULL, false, NULL, 0},
};

/* Drops trailing white space (a vkey file ends with a newline). */
static void s_trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

int cli_vkey_load(const char *arg, char **text_out, cairn_note_verifier_t **verifier_out, char *err,
                  size_t errlen)
{
    int rc;
    char *text = NULL;
    size_t len = 0;
    cairn_note_verifier_t *verifier = NULL;

    /* The text itself, as `cairn log vkey` prints it. */
    if (cairn_note_verifier_parse(arg, &verifier) == 0) {
        if (!(text = strdup(arg))) {
            rc = -ENOMEM;
            goto out;
        }
        s_trim(text);
        rc = 0;
        goto out;
    }
    /* Else a file holding it (what `cairn keygen` writes). */
    if ((rc = cairn_read_file(arg, CAIRN_NOTE_KEY_FILE_MAX, &text, &len)) < 0) {
        snprintf(err, errlen,
                 "--vkey '%s' is neither a verifier key (<name>+<key id>+<base64 key>) nor a "
                 "readable file: %s",
                 arg, cairn_strerror(rc));
        goto out;
    }
    s_trim(text);
    if ((rc = cairn_note_verifier_parse(text, &verifier)) < 0) {
        snprintf(err, errlen,
                 "%s does not hold a verifier key: expected one line <name>+<key id>+<base64 "
                 "Ed25519 key>, as `cairn log vkey` prints",
                 arg);
        goto out;
    }
out:
    if (rc < 0) {
        free(text);
        cairn_note_verifier_destroy(&verifier);
        return rc;
    }
    if (text_out)
        *text_out = text;
    else
        free(text);
    *verifier_out = verifier;
    return 0;
}

void cli_verify_finding_text(const cairn_finding_t *f, char *buf, size_t buflen)
{
    /* The library's reasons are whole sentences that name their subject
     * ("entry 17: ...", "change CHG-1 has ...", "checkpoint ...", "bundle
     * ..."); a reason that does not is given one here. */
    const char *reason = f->reason && *f->reason ? f->reason : "check failed";
    bool named = strncmp(reason, "entr", 4) == 0 || strncmp(reason, "change ", 7) == 0 ||
                 strncmp(reason, "checkpoint", 10) == 0 || strncmp(reason, "bundle", 6) == 0;
    if (named)
        snprintf(buf, buflen, "%s", reason);
    else if (f->has_index)
        snprintf(buf, buflen, "entry %llu: %s", (unsigned long long)f->index, reason);
    else if (f->change)
        snprintf(buf, buflen, "change %s: %s", f->change, reason);
    else
        snprintf(buf, buflen, "%s: %s", cairn_finding_kind_name(f->kind), reason);
}

int cli_verify_exit(const cairn_bundle_report_t *r)
{
    return r->checkpoint_ok && r->finding_count == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
}

void cli_verify_render(FILE *out, const cairn_bundle_report_t *r,
                       const cairn_note_verifier_t *verifier)
{
    char line[2048];
    char key[256];
    snprintf(key, sizeof key, "%s+%08x", cairn_note_verifier_name(verifier),
             cairn_note_verifier_keyid(verifier));
    if (r->checkpoint_ok) {
        char *root = cli_base64(r->checkpoint.root, CAIRN_HASH_BYTES);
        fprintf(out, "checkpoint %s size %llu root %s: signature verified with %s\n",
                r->checkpoint.origin, (unsigned long long)r->checkpoint.size, root ? root : "?",
                key);
        free(root);
    }
    for (size_t i = 0; i < r->finding_count; i++) {
        cli_verify_finding_text(&r->findings[i], line, sizeof line);
        fprintf(out, "%s\n", line);
    }
    if (cli_verify_exit(r) == CLI_EXIT_OK)
        fprintf(out,
                "OK: all %zu entries verified: checkpoint signature, inclusion proofs, payload "
                "digests, prev chains\n",
                r->entry_count);
    else
        fprintf(out, "FAILED: %zu problem%s; %zu of %zu entries verified\n", r->finding_count,
                r->finding_count == 1 ? "" : "s", r->entries_ok, r->entry_count);
}

json_t *cli_verify_json(const cairn_bundle_report_t *r)
{
    json_t *findings = json_array();
    json_t *cp = json_null();
    for (size_t i = 0; findings && i < r->finding_count; i++) {
        const cairn_finding_t *f = &r->findings[i];
        char line[2048];
        cli_verify_finding_text(f, line, sizeof line);
        json_t *o =
            json_pack("{s:s, s:o, s:o, s:s, s:s}", "kind", cairn_finding_kind_name(f->kind),
                      "index", f->has_index ? json_integer((json_int_t)f->index) : json_null(),
                      "change", f->change ? json_string(f->change) : json_null(), "reason",
                      f->reason ? f->reason : "", "message", line);
        if (!o || json_array_append_new(findings, o) < 0) {
            json_decref(findings);
            findings = NULL;
        }
    }
    if (r->checkpoint_ok) {
        char *root = cli_base64(r->checkpoint.root, CAIRN_HASH_BYTES);
        cp = root ? json_pack("{s:s, s:I, s:s}", "origin", r->checkpoint.origin, "size",
                              (json_int_t)r->checkpoint.size, "root", root)
                  : NULL;
        free(root);
    }
    if (!findings || !cp) {
        json_decref(findings);
        json_decref(cp);
        return NULL;
    }
    return json_pack("{s:b, s:o, s:I, s:I, s:o}", "ok", cli_verify_exit(r) == CLI_EXIT_OK,
                     "checkpoint", cp, "entries", (json_int_t)r->entry_count, "entries_ok",
                     (json_int_t)r->entries_ok, "findings", findings);
}

int cli_verify_bundle(FILE *out, FILE *err, const char *json, size_t len,
                      const cairn_note_verifier_t *verifier, bool as_json)
{
    cairn_bundle_report_t *report = NULL;
    int rc = cairn_bundle_verify(json, len, verifier, &report);
    if (rc < 0) {
        fprintf(err, "cairn verify: cannot verify: %s\n", cairn_strerror(rc));
        return CLI_EXIT_DENIED;
    }
    int code = cli_verify_exit(report);
    if (as_json) {
        json_t *obj = cli_verify_json(report);
        if (!obj || cli_json_print(obj, out) < 0)
            code = CLI_EXIT_DENIED;
        json_decref(obj);
    } else {
        cli_verify_render(out, report, verifier);
    }
    cairn_bundle_report_destroy(&report);
    return code;
}

/* Reads all of stdin (for FILE "-"), NUL-terminated. */
static int s_read_stdin(char **buf_out, size_t *len_out)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (len + 1 >= cap) {
            char *more = cap < S_BUNDLE_MAX ? realloc(buf, cap * 2) : NULL;
            if (!more) {
                free(buf);
                return cap < S_BUNDLE_MAX ? -ENOMEM : CAIRN_ETOOLARGE;
            }
            buf = more;
            cap *= 2;
        }
        ssize_t n = read(STDIN_FILENO, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int rc = -errno;
            free(buf);
            return rc;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *buf_out = buf;
    *len_out = len;
    return 0;
}

static int s_run(const cli_args_t *args)
{
    int code;
    int rc;
    char err[1024];
    char *json = NULL;
    size_t len = 0;
    cairn_note_verifier_t *verifier = NULL;
    cli_approver_keys_t *approvers = NULL;
    const char *file = args->pos[0];

    rc = strcmp(file, "-") == 0 ? s_read_stdin(&json, &len)
                                : cairn_read_file(file, S_BUNDLE_MAX, &json, &len);
    if (rc < 0) {
        code = cli_usage_error(args->cmd, "cannot read %s: %s", file, cairn_strerror(rc));
        goto out;
    }
    if (cli_vkey_load(cli_opt(args, "vkey"), NULL, &verifier, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    if (cli_opt(args, "approvers")) {
        if (cli_approver_keys_load(cli_opt(args, "approvers"), &approvers, err, sizeof err) < 0) {
            code = cli_usage_error(args->cmd, "%s", err);
            goto out;
        }
        code = cli_verify_bundle_approvals(stdout, stderr, json, len, verifier, approvers,
                                           args->json);
    } else {
        code = cli_verify_bundle(stdout, stderr, json, len, verifier, args->json);
    }
out:
    cli_approver_keys_destroy(&approvers);
    cairn_note_verifier_destroy(&verifier);
    free(json);
    return code;
}

const cli_command_t cli_cmd_verify = {
    .name = "verify",
    .positional = "FILE",
    .summary = "Verify an exported evidence bundle offline with the log's vkey.",
    .details =
        "Needs no daemon and no database: only FILE (a cairn.bundle/v1 document from\n"
        "`cairn export`; - reads stdin) and the log's verifier key. Checks that the\n"
        "checkpoint is signed by VKEY and names its origin; for every entry, that its\n"
        "leaf names its index and the origin, that its inclusion proof leads to the\n"
        "checkpoint's root, and that its payload hashes to the digest in the leaf; and\n"
        "for every change, that its entries form one unbroken prev chain.\n"
        "Output: the checkpoint, one line per problem, e.g.\n"
        "  entry 17: payload digest mismatch: leaf says sha256:..., payload hashes to sha256:...\n"
        "then \"OK: ...\" or \"FAILED: N problems; M of K entries verified\".\n"
        "With --json: {ok, checkpoint, entries, entries_ok, findings: [{kind, index,\n"
        "change, reason, message}]}.\n\n"
        "With --approvers KEYS (a policy file, whose role directory holds the approvers'\n"
        "keys, or a file of approver vkeys one per line) it also checks the signature of\n"
        "every signed approval in the bundle against the approver's key, one line per\n"
        "approval (verified, FAILED, not signed), then a summary; with --json an\n"
        "\"approvals\" object {verified, failed, unsigned, findings}. An unsigned approval\n"
        "is listed, not a failure.\n\n"
        "Exit codes: 0 everything verified, 1 anything failed, 2 usage error (also an\n"
        "unreadable FILE, or VKEY that is not a verifier key).\n",
    .opts = s_opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run,
};
