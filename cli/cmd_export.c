/* `cairn export (--change C | --release R) -o FILE`: asks cairn-ledger for
 * the evidence bundle of a change or a release — every entry with its leaf,
 * payload and inclusion proof against one signed checkpoint — and writes
 * it (mode 0644) for an auditor to check offline with `cairn verify`.
 * Before writing, the bundle is verified with the ledger's own vkey, so a
 * bundle that would not verify is reported at once, not at the audit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bundle.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"
#include "files.h"
#include "intoto.h"
#include "ledger_client.h"
#include "pbjson.h"

static const cli_opt_t s_opts[] = {
    {"change", "C", false, "export every entry of change C", 0},
    {"release", "R", false, "export every entry of release R (and of its changes)", 0},
    {"output", "FILE", false, "write the bundle to FILE (- for stdout)", 'o'},
    {"intoto", "FILE", false, "write DSSE-signed in-toto Statements, one per line, to FILE", 0},
    {NULL, NULL, false, NULL, 0},
};

int cli_export_check(const char *change, const char *release, const char *output,
                     const char *intoto, char *err, size_t errlen)
{
    if ((change != NULL) == (release != NULL)) {
        snprintf(err, errlen, "give exactly one of --change C, --release R");
        return CAIRN_EINVALID;
    }
    if (!output && !intoto) {
        snprintf(err, errlen,
                 "give -o FILE for the bundle, --intoto FILE for the statements, "
                 "or both");
        return CAIRN_EINVALID;
    }
    if (output && intoto && strcmp(output, intoto) == 0) {
        snprintf(err, errlen, "-o and --intoto must name different files");
        return CAIRN_EINVALID;
    }
    return 0;
}

/* Self-check of the bundle with the ledger's vkey; prints any finding on
 * err and returns the exit code, with the number of entries. */
static int s_self_check(FILE *err, const Cairn__V1__LedgerReply *reply, size_t *entries_out)
{
    cairn_note_verifier_t *verifier = NULL;
    cairn_bundle_report_t *report = NULL;
    int code = CLI_EXIT_DENIED;
    const char *vkey = reply->checkpoint && reply->checkpoint->vkey ? reply->checkpoint->vkey : "";
    int rc = cairn_note_verifier_parse(vkey, &verifier);
    if (rc < 0) {
        fprintf(err, "cairn export: the ledger's vkey '%s' does not parse: %s\n", vkey,
                cairn_strerror(rc));
        goto out;
    }
    rc =
        cairn_bundle_verify((const char *)reply->bundle.data, reply->bundle.len, verifier, &report);
    if (rc < 0) {
        fprintf(err, "cairn export: cannot check the bundle: %s\n", cairn_strerror(rc));
        goto out;
    }
    *entries_out = report->entry_count;
    code = cli_verify_exit(report);
    if (code != CLI_EXIT_OK) {
        char line[2048];
        fprintf(err, "cairn export: the bundle from cairn-ledger does not verify with its own "
                     "key:\n");
        for (size_t i = 0; i < report->finding_count; i++) {
            cli_verify_finding_text(&report->findings[i], line, sizeof line);
            fprintf(err, "  %s\n", line);
        }
    }
out:
    cairn_bundle_report_destroy(&report);
    cairn_note_verifier_destroy(&verifier);
    return code;
}

/* The in-toto statements of the bundle, signed with the log's own key,
 * read from ledger.key_file: it must be the key cairn-ledger signs with. */
static int s_intoto(const cairn_config_t *cfg, const Cairn__V1__LedgerReply *reply, char **out,
                    size_t *len_out, size_t *count_out)
{
    int code = CLI_EXIT_DENIED;
    char *vkey = NULL;
    cairn_note_signer_t *signer = NULL;
    const char *path = cairn_config_str(cfg, "ledger.key_file");
    int rc = cairn_note_signer_load(path, &signer);
    if (rc < 0) {
        fprintf(stderr,
                "cairn export: --intoto signs with the log's key, and %s (ledger.key_file) "
                "cannot be used: %s%s\n",
                path, cairn_strerror(rc),
                rc == -EPERM ? " (it must not be readable by group or others: chmod 600)" : "");
        code = CLI_EXIT_USAGE;
        goto out;
    }
    if ((rc = cairn_note_signer_vkey(signer, &vkey)) < 0)
        goto out;
    if (strcmp(vkey, reply->checkpoint->vkey ? reply->checkpoint->vkey : "") != 0) {
        fprintf(stderr,
                "cairn export: %s (ledger.key_file) holds key %s, but cairn-ledger signs with "
                "%s; use the --config/--data-dir of the running ledger\n",
                path, vkey, reply->checkpoint->vkey ? reply->checkpoint->vkey : "(none)");
        code = CLI_EXIT_USAGE;
        goto out;
    }
    rc = cli_intoto_jsonl((const char *)reply->bundle.data, reply->bundle.len, signer, out, len_out,
                          count_out);
    if (rc < 0) {
        fprintf(stderr, "cairn export: cannot build the in-toto statements: %s\n",
                cairn_strerror(rc));
        goto out;
    }
    code = CLI_EXIT_OK;
out:
    free(vkey);
    cairn_note_signer_destroy(&signer);
    return code;
}

/* Writes data to path ("-" = stdout); returns the exit code. */
static int s_write(const char *path, const void *data, size_t len)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0)
            return CLI_EXIT_OK;
        fprintf(stderr, "cairn export: cannot write to stdout\n");
        return CLI_EXIT_DENIED;
    }
    int rc = cairn_write_file(path, data, len, 0644, true);
    if (rc == 0)
        return CLI_EXIT_OK;
    fprintf(stderr, "cairn export: cannot write %s: %s\n", path, cairn_strerror(rc));
    return CLI_EXIT_DENIED;
}

static int s_run(const cli_args_t *args)
{
    char err[512];
    const char *change = cli_opt(args, "change");
    const char *release = cli_opt(args, "release");
    const char *file = cli_opt(args, "output");
    const char *intoto = cli_opt(args, "intoto");
    size_t entries = 0, statements = 0, intoto_len = 0;
    char *intoto_text = NULL;
    json_t *obj = NULL;
    cairn_config_t *cfg = NULL;
    Cairn__V1__ExportRequest exp = CAIRN__V1__EXPORT_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__LedgerReply *reply = NULL;

    if (cli_export_check(change, release, file, intoto, err, sizeof err) < 0)
        return cli_usage_error(args->cmd, "%s", err);
    exp.change_id = (char *)(change ? change : "");
    exp.release_id = (char *)(release ? release : "");
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_EXPORT;
    req.export = &exp;
    int code = cli_ledger_call(args, &req, &reply, &cfg);
    if (code != CLI_EXIT_OK)
        return code;
    if (!reply->bundle.len || !reply->checkpoint) {
        fprintf(stderr, "cairn export: cairn-ledger sent no bundle\n");
        code = CLI_EXIT_DENIED;
        goto out;
    }
    /* Written even when the self-check fails: it is the evidence of what
     * the ledger served. */
    int check = s_self_check(stderr, reply, &entries);
    if (intoto && (code = s_intoto(cfg, reply, &intoto_text, &intoto_len, &statements)) != 0)
        goto out;
    if (file && (code = s_write(file, reply->bundle.data, reply->bundle.len)) != 0)
        goto out;
    if (intoto && (code = s_write(intoto, intoto_text, intoto_len)) != 0)
        goto out;

    const char *what = change ? "change" : "release";
    const char *id = change ? change : release;
    const char *vkey = reply->checkpoint->vkey ? reply->checkpoint->vkey : "";
    /* With a file on stdout, the summary goes to stderr. */
    bool piped = (file && strcmp(file, "-") == 0) || (intoto && strcmp(intoto, "-") == 0);
    FILE *out = piped ? stderr : stdout;
    if (args->json && !piped) {
        obj = json_pack("{s:o, s:o, s:s, s:I, s:I, s:I, s:s, s:b}", "file",
                        file ? json_string(file) : json_null(), "intoto",
                        intoto ? json_string(intoto) : json_null(), what, id, "entries",
                        (json_int_t)entries, "checkpoint_size", (json_int_t)reply->checkpoint->size,
                        "bytes", (json_int_t)reply->bundle.len, "vkey", vkey, "verified",
                        check == CLI_EXIT_OK);
        if (!obj || cli_json_print(obj, out) < 0)
            code = CLI_EXIT_DENIED;
    } else {
        if (file)
            fprintf(out, "wrote %s: %zu entries of %s %s, proven against checkpoint size %llu\n",
                    strcmp(file, "-") == 0 ? "the bundle to stdout" : file, entries, what, id,
                    (unsigned long long)reply->checkpoint->size);
        if (intoto)
            fprintf(out, "wrote %s: %zu in-toto statements (DSSE, signed by %s)\n",
                    strcmp(intoto, "-") == 0 ? "the statements to stdout" : intoto, statements,
                    vkey);
        if (file && strcmp(file, "-") != 0)
            fprintf(out, "verify it offline: cairn verify %s --vkey %s\n", file, vkey);
    }
    if (check != CLI_EXIT_OK)
        code = check;
out:
    json_decref(obj);
    free(intoto_text);
    CAIRN_CODEC_FREE(&reply);
    cairn_config_destroy(&cfg);
    return code;
}

const cli_command_t cli_cmd_export = {
    .name = "export",
    .positional = "",
    .summary = "Write the evidence bundle of a change or release for offline audit.",
    .details = "Asks cairn-ledger (LedgerRequest.export) for a cairn.bundle/v1 JSON document:\n"
               "every entry of the change (or of the release and each change it names) with its\n"
               "leaf, payload and inclusion proof against one signed checkpoint. The bundle is\n"
               "checked with the ledger's vkey before it is written (mode 0644, replacing FILE\n"
               "atomically); an auditor checks it with `cairn verify FILE --vkey VKEY`.\n"
               "--intoto FILE also (or only) writes each entry as an in-toto Statement v1\n"
               "(predicateType " CLI_INTOTO_PREDICATE_TYPE ") in a DSSE\n"
               "envelope, one JSON per line (.intoto.jsonl), signed with the log's key read from\n"
               "ledger.key_file, which must be the key the running ledger signs with.\n"
               "Output: each file written, the entry count and checkpoint size, and the verify\n"
               "command line. With --json: {file, intoto, change|release, entries,\n"
               "checkpoint_size, bytes, vkey, verified}. A FILE of - is stdout; the summary then\n"
               "goes to stderr.\n\n"
               "Exit codes: 0 written, 1 nothing recorded for C/R, a file could not be written,\n"
               "or the bundle does not verify (it is still written), 2 usage error (also a\n"
               "ledger.key_file that cannot sign for --intoto), 4 cairn-ledger cannot be reached\n"
               "(run `cairn up`).\n",
    .opts = s_opts,
    .min_pos = 0,
    .max_pos = 0,
    .run = s_run,
};
