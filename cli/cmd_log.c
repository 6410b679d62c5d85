/* `cairn log`: the ledger's signed state, for operators and auditors.
 *
 *   log vkey                  the verifier key the running log signs with
 *   log checkpoint            the latest signed checkpoint, verbatim
 *   log prove INDEX           an inclusion proof as C2SP tlog-proof text
 *   log consistency OLD [NEW] a consistency proof, base64 hashes
 *   log verify                an offline check of the whole store on disk
 *   log query                 entries by change, release, environment, actor,
 *                             topic or time (cmd_log_query.c)
 *
 * All but `log verify` ask cairn-ledger; `log verify` reads {ledger.path}
 * directly with the verifier in services/ledger/verify.h, so it needs no
 * daemon and trusts nothing stored that it can recompute. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/note.h"
#include "commands.h"
#include "ledger_client.h"
#include "pbjson.h"
#include "verify.h"

static const char *s_or(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

/* Prints obj as JSON and returns the exit code (1 when it could not be built). */
static int s_print_json(json_t *obj)
{
    int code = obj && cli_json_print(obj, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
    json_decref(obj);
    return code;
}

/* The checkpoint of a reply, or NULL with a message when there is none. */
static const Cairn__V1__Checkpoint *s_checkpoint(const cli_args_t *args,
                                                 const Cairn__V1__LedgerReply *reply)
{
    if (reply->checkpoint && s_or(reply->checkpoint->note, "")[0])
        return reply->checkpoint;
    fprintf(stderr, "cairn %s: cairn-ledger sent no checkpoint\n", args->cmd->name);
    return NULL;
}

/* --- log vkey --- */

json_t *cli_log_vkey_json(const char *vkey)
{
    cairn_note_verifier_t *verifier = NULL;
    if (cairn_note_verifier_parse(vkey, &verifier) < 0)
        return json_pack("{s:s, s:n, s:n}", "vkey", vkey, "name", "key_id");
    char keyid[9];
    snprintf(keyid, sizeof keyid, "%08x", cairn_note_verifier_keyid(verifier));
    json_t *obj = json_pack("{s:s, s:s, s:s}", "vkey", vkey, "name",
                            cairn_note_verifier_name(verifier), "key_id", keyid);
    cairn_note_verifier_destroy(&verifier);
    return obj;
}

static int s_run_vkey(const cli_args_t *args)
{
    Cairn__V1__CheckpointRequest cp = CAIRN__V1__CHECKPOINT_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__LedgerReply *reply = NULL;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_CHECKPOINT;
    req.checkpoint = &cp;
    int code = cli_ledger_call(args, &req, &reply, NULL);
    if (code != CLI_EXIT_OK)
        return code;
    const char *vkey = reply->checkpoint ? s_or(reply->checkpoint->vkey, "") : "";
    if (!*vkey) {
        fprintf(stderr, "cairn log vkey: cairn-ledger sent no vkey\n");
        code = CLI_EXIT_DENIED;
    } else if (args->json) {
        code = s_print_json(cli_log_vkey_json(vkey));
    } else {
        printf("%s\n", vkey);
    }
    CAIRN_CODEC_FREE(&reply);
    return code;
}

/* --- log checkpoint --- */

int cli_log_checkpoint_check(const Cairn__V1__Checkpoint *cp, cairn_checkpoint_t *out, char *err,
                             size_t errlen)
{
    cairn_note_verifier_t *verifier = NULL;
    int rc = cairn_note_verifier_parse(s_or(cp->vkey, ""), &verifier);
    if (rc < 0) {
        snprintf(err, errlen, "the ledger's vkey does not parse: %s", cairn_strerror(rc));
        return rc;
    }
    rc = cairn_checkpoint_open(cp->note, strlen(cp->note), verifier, NULL, out);
    if (rc < 0)
        snprintf(err, errlen, "the checkpoint does not verify with the ledger's own key %s: %s",
                 cp->vkey, cairn_strerror(rc));
    cairn_note_verifier_destroy(&verifier);
    return rc;
}

json_t *cli_log_checkpoint_json(const Cairn__V1__Checkpoint *cp, const cairn_checkpoint_t *parsed)
{
    char *root = cli_base64(parsed->root, CAIRN_HASH_BYTES);
    json_t *obj = root ? json_pack("{s:s, s:I, s:s, s:s, s:s}", "origin", parsed->origin, "size",
                                   (json_int_t)parsed->size, "root", root, "note", cp->note, "vkey",
                                   s_or(cp->vkey, ""))
                       : NULL;
    free(root);
    return obj;
}

static int s_run_checkpoint(const cli_args_t *args)
{
    char err[1024];
    cairn_checkpoint_t parsed = {0};
    Cairn__V1__CheckpointRequest cp = CAIRN__V1__CHECKPOINT_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__LedgerReply *reply = NULL;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_CHECKPOINT;
    req.checkpoint = &cp;
    int code = cli_ledger_call(args, &req, &reply, NULL);
    if (code != CLI_EXIT_OK)
        return code;
    const Cairn__V1__Checkpoint *c = s_checkpoint(args, reply);
    code = CLI_EXIT_DENIED;
    if (!c)
        goto out;
    /* A checkpoint the log's own key does not verify is never shown as one. */
    if (cli_log_checkpoint_check(c, &parsed, err, sizeof err) < 0) {
        fprintf(stderr, "cairn log checkpoint: %s\n", err);
        goto out;
    }
    if (args->json) {
        code = s_print_json(cli_log_checkpoint_json(c, &parsed));
        goto out;
    }
    fputs(c->note, stdout);
    code = CLI_EXIT_OK;
out:
    cairn_checkpoint_clear(&parsed);
    CAIRN_CODEC_FREE(&reply);
    return code;
}

/* --- log prove --- */

json_t *cli_log_proof_json(const Cairn__V1__LedgerReply *reply)
{
    const Cairn__V1__Proof *p = reply->proof;
    const Cairn__V1__Checkpoint *cp = reply->checkpoint;
    char *leaf = cli_base64(p->leaf_hash.data, p->leaf_hash.len);
    json_t *hashes = cli_hashes_json(p->hashes, p->n_hashes);
    json_t *obj = NULL;
    if (leaf && hashes) {
        obj = json_pack("{s:I, s:I, s:s, s:O, s:o, s:o}", "index", (json_int_t)p->index, "size",
                        (json_int_t)p->size, "leaf_hash", leaf, "hashes", hashes, "checkpoint",
                        cp && s_or(cp->note, "")[0] ? json_string(cp->note) : json_null(),
                        "tlog_proof",
                        s_or(p->tlog_proof, "")[0] ? json_string(p->tlog_proof) : json_null());
    }
    json_decref(hashes);
    free(leaf);
    return obj;
}

void cli_log_proof_render(FILE *out, FILE *err, const Cairn__V1__LedgerReply *reply)
{
    const Cairn__V1__Proof *p = reply->proof;
    if (s_or(p->tlog_proof, "")[0]) {
        fputs(p->tlog_proof, out);
        return;
    }
    /* The size falls inside a batch the ledger signed as a whole: there is
     * a proof but no signed checkpoint to wrap it in. */
    fprintf(err,
            "note: no checkpoint was signed at size %llu, so this is not a tlog-proof: the\n"
            "hashes prove index %llu against the unsigned root of that size. Omit --size\n"
            "(or give a checkpointed size) for a proof that verifies offline.\n",
            (unsigned long long)p->size, (unsigned long long)p->index);
    cli_hashes_render(out, p->hashes, p->n_hashes);
}

static int s_run_prove(const cli_args_t *args)
{
    Cairn__V1__ProveRequest prove = CAIRN__V1__PROVE_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__LedgerReply *reply = NULL;
    if (cli_parse_u64(args->pos[0], &prove.index) < 0)
        return cli_usage_error(args->cmd, "INDEX must be a ledger index (0, 1, ...), got '%s'",
                               args->pos[0]);
    if (cli_opt(args, "size") &&
        (cli_parse_u64(cli_opt(args, "size"), &prove.size) < 0 || prove.size == 0))
        return cli_usage_error(args->cmd, "--size must be a tree size (1, 2, ...), got '%s'",
                               cli_opt(args, "size"));
    if (prove.size && prove.index >= prove.size)
        return cli_usage_error(args->cmd,
                               "INDEX %llu is not in a tree of size %llu: indexes are below the "
                               "size",
                               (unsigned long long)prove.index, (unsigned long long)prove.size);
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_PROVE;
    req.prove = &prove;
    int code = cli_ledger_call(args, &req, &reply, NULL);
    if (code != CLI_EXIT_OK)
        return code;
    if (!reply->proof) {
        fprintf(stderr, "cairn log prove: cairn-ledger sent no proof\n");
        code = CLI_EXIT_DENIED;
    } else if (args->json) {
        code = s_print_json(cli_log_proof_json(reply));
    } else {
        cli_log_proof_render(stdout, stderr, reply);
    }
    CAIRN_CODEC_FREE(&reply);
    return code;
}

/* --- log consistency --- */

json_t *cli_log_consistency_json(const Cairn__V1__LedgerReply *reply)
{
    const Cairn__V1__Proof *p = reply->proof;
    const Cairn__V1__Checkpoint *cp = reply->checkpoint;
    json_t *hashes = cli_hashes_json(p->hashes, p->n_hashes);
    if (!hashes)
        return NULL;
    return json_pack("{s:I, s:I, s:o, s:o}", "old_size", (json_int_t)p->old_size, "size",
                     (json_int_t)p->size, "hashes", hashes, "checkpoint",
                     cp && s_or(cp->note, "")[0] ? json_string(cp->note) : json_null());
}

static int s_run_consistency(const cli_args_t *args)
{
    Cairn__V1__ConsistencyRequest cons = CAIRN__V1__CONSISTENCY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__LedgerReply *reply = NULL;
    if (cli_parse_u64(args->pos[0], &cons.old_size) < 0 || cons.old_size == 0)
        return cli_usage_error(args->cmd, "OLD must be a tree size (1, 2, ...), got '%s'",
                               args->pos[0]);
    if (args->npos > 1 && (cli_parse_u64(args->pos[1], &cons.new_size) < 0 || cons.new_size == 0))
        return cli_usage_error(args->cmd, "NEW must be a tree size (1, 2, ...), got '%s'",
                               args->pos[1]);
    if (cons.new_size && cons.old_size > cons.new_size)
        return cli_usage_error(args->cmd, "OLD (%llu) must not be larger than NEW (%llu)",
                               (unsigned long long)cons.old_size,
                               (unsigned long long)cons.new_size);
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_CONSISTENCY;
    req.consistency = &cons;
    int code = cli_ledger_call(args, &req, &reply, NULL);
    if (code != CLI_EXIT_OK)
        return code;
    if (!reply->proof) {
        fprintf(stderr, "cairn log consistency: cairn-ledger sent no proof\n");
        code = CLI_EXIT_DENIED;
    } else if (args->json) {
        code = s_print_json(cli_log_consistency_json(reply));
    } else {
        cli_hashes_render(stdout, reply->proof->hashes, reply->proof->n_hashes);
    }
    CAIRN_CODEC_FREE(&reply);
    return code;
}

/* --- log verify --- */

int cli_log_verify_exit(int rc)
{
    if (rc == 0)
        return CLI_EXIT_OK;
    if (rc == CAIRN_EINTEGRITY)
        return CLI_EXIT_DENIED;
    /* No store there: most likely the wrong --data-dir or --config. */
    if (rc == -ENOENT || rc == CAIRN_ENOTFOUND)
        return CLI_EXIT_USAGE;
    return CLI_EXIT_DENIED;
}

void cli_log_verify_render(FILE *out, const char *path, int rc,
                           const cairn_ledger_verify_report_t *r)
{
    if (rc == 0) {
        fprintf(out,
                "OK: ledger %s verified: %llu entries, %llu signed checkpoints, %llu payloads "
                "checked, %llu purged\n",
                path, (unsigned long long)r->size, (unsigned long long)r->checkpoints,
                (unsigned long long)r->payloads, (unsigned long long)r->purged);
        if (r->has_kept && r->kept_ahead)
            fprintf(out,
                    "the checkpoint file's checkpoint (size %llu) is ahead of this store: a "
                    "backup, or a store rolled back behind it; cairn-ledger does not start on "
                    "it while the file holds that checkpoint\n",
                    (unsigned long long)r->kept_size);
        else if (r->has_kept)
            fprintf(out, "the checkpoint file's checkpoint (size %llu) is the store's\n",
                    (unsigned long long)r->kept_size);
        return;
    }
    if (rc != CAIRN_EINTEGRITY) {
        fprintf(out, "cairn log verify: %s\n", s_or(r->reason, cairn_strerror(rc)));
        return;
    }
    fprintf(out, "FAILED: ledger %s: %s\n", path, s_or(r->reason, "does not verify"));
    if (r->has_bad_index)
        fprintf(out, "first entry that does not verify: %llu\n", (unsigned long long)r->bad_index);
    fprintf(out,
            "checked before stopping: %llu signed checkpoints, %llu payloads (log size %llu)\n",
            (unsigned long long)r->checkpoints, (unsigned long long)r->payloads,
            (unsigned long long)r->size);
}

json_t *cli_log_verify_json(const char *path, int rc, const cairn_ledger_verify_report_t *r)
{
    return json_pack(
        "{s:b, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:s}", "ok", rc == 0, "path", path, "size",
        (json_int_t)r->size, "checkpoints", (json_int_t)r->checkpoints, "payloads",
        (json_int_t)r->payloads, "purged", (json_int_t)r->purged, "bad_index",
        r->has_bad_index ? json_integer((json_int_t)r->bad_index) : json_null(),
        "checkpoint_file_size", r->has_kept ? json_integer((json_int_t)r->kept_size) : json_null(),
        "behind_checkpoint_file", json_boolean(r->has_kept && r->kept_ahead), "reason",
        rc == 0 ? "" : s_or(r->reason, cairn_strerror(rc)));
}

static int s_run_verify(const cli_args_t *args)
{
    int code;
    char err[1024];
    char *vkey = NULL;
    cairn_config_t *cfg = NULL;
    cairn_note_verifier_t *verifier = NULL;
    cairn_ledger_verify_report_t report;
    memset(&report, 0, sizeof report);

    if (cli_load_config(args, &cfg, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    if (cli_opt(args, "vkey") &&
        cli_vkey_load(cli_opt(args, "vkey"), &vkey, &verifier, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    const char *path = cairn_config_str(cfg, "ledger.path");
    const char *kept = cairn_config_str(cfg, "ledger.checkpoint_file");
    int rc = cairn_ledger_verify(path, vkey, &report);
    if (rc == 0 && *kept)
        rc = cairn_ledger_verify_kept(path, kept, &report);
    code = cli_log_verify_exit(rc);
    if (args->json) {
        int jcode = s_print_json(cli_log_verify_json(path, rc, &report));
        code = code == CLI_EXIT_OK ? jcode : code;
    } else if (rc == 0 || rc == CAIRN_EINTEGRITY) {
        cli_log_verify_render(stdout, path, rc, &report);
    } else {
        cli_log_verify_render(stderr, path, rc, &report);
    }
    if (rc != 0 && rc != CAIRN_EINTEGRITY && code == CLI_EXIT_USAGE)
        fprintf(stderr, "Is --data-dir (or ledger.path) right? Run 'cairn log verify --help'.\n");
out:
    free(vkey);
    cairn_note_verifier_destroy(&verifier);
    cairn_config_destroy(&cfg);
    return code;
}

/* --- the command table --- */

static const cli_opt_t s_prove_opts[] = {
    {"size", "N", false, "prove against the tree of size N (default: the latest checkpoint)", 0},
    {NULL, NULL, false, NULL, 0},
};

static const cli_opt_t s_verify_opts[] = {
    {"vkey", "VKEY", false, "require every checkpoint signed by this key (text or file)", 0},
    {NULL, NULL, false, NULL, 0},
};

static const cli_command_t s_vkey = {
    .name = "log vkey",
    .positional = "",
    .summary = "Print the verifier key (vkey) the running log signs checkpoints with.",
    .details = "Output: <name>+<key id>+<base64 key>, the text `cairn verify --vkey` takes.\n"
               "With --json: {vkey, name, key_id}.\n\n"
               "Exit codes: 0 printed, 1 no vkey in the answer, 2 usage error,\n"
               "4 cairn-ledger cannot be reached (run `cairn up`).\n",
    .min_pos = 0,
    .max_pos = 0,
    .run = s_run_vkey,
};

static const cli_command_t s_checkpoint_cmd = {
    .name = "log checkpoint",
    .positional = "",
    .summary = "Print the latest signed checkpoint (C2SP tlog-checkpoint), verbatim.",
    .details = "Output: the signed note: origin, tree size, base64 root hash, a blank line and\n"
               "the signature lines. It is shown only after it verified with the ledger's key.\n"
               "With --json: {origin, size, root, note, vkey}.\n\n"
               "Exit codes: 0 printed, 1 it does not verify with the ledger's own key,\n"
               "2 usage error, 4 cairn-ledger cannot be reached (run `cairn up`).\n",
    .min_pos = 0,
    .max_pos = 0,
    .run = s_run_checkpoint,
};

static const cli_command_t s_prove = {
    .name = "log prove",
    .positional = "INDEX",
    .summary = "Print an inclusion proof of entry INDEX as a C2SP tlog-proof.",
    .details = "Output: c2sp.org/tlog-proof@v1 text: \"index N\", the proof hashes (base64),\n"
               "a blank line and the signed checkpoint the proof is against. With --size N\n"
               "the proof is against the checkpoint of that size; a size inside a batch has\n"
               "no signed checkpoint, and then only the hashes are printed.\n"
               "With --json: {index, size, leaf_hash, hashes, checkpoint, tlog_proof}.\n\n"
               "Exit codes: 0 printed, 1 failed, 2 usage error (also INDEX not below the\n"
               "size), 4 cairn-ledger cannot be reached (run `cairn up`).\n",
    .opts = s_prove_opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run_prove,
};

static const cli_command_t s_consistency = {
    .name = "log consistency",
    .positional = "OLD [NEW]",
    .summary = "Print a consistency proof between tree sizes OLD and NEW (default: latest).",
    .details = "Output: the RFC 9162 consistency proof hashes, base64, one per line (none when\n"
               "OLD equals NEW). With --json: {old_size, size, hashes, checkpoint}, where\n"
               "checkpoint is the signed checkpoint of size NEW (null when none was signed).\n\n"
               "Exit codes: 0 printed, 1 failed, 2 usage error (also sizes the log does not\n"
               "have), 4 cairn-ledger cannot be reached (run `cairn up`).\n",
    .min_pos = 1,
    .max_pos = 2,
    .run = s_run_consistency,
};

static const cli_command_t s_verify = {
    .name = "log verify",
    .positional = "",
    .summary = "Check the whole ledger store on disk offline; no daemon needed.",
    .details = "Reads ledger.path (default {data_dir}/ledger) read-only (a running ledger may\n"
               "keep writing) and recomputes everything it can: each leaf hash from its leaf,\n"
               "each leaf's index and origin, each payload's digest, every stored tree hash,\n"
               "and each signed checkpoint's root and signature (with --vkey, that key must\n"
               "have signed every checkpoint; without it, the keys the log recorded). Then\n"
               "the checkpoint the ledger kept outside the store (ledger.checkpoint_file)\n"
               "must be the store's own checkpoint of that size (a store replaced or altered\n"
               "fails); a store behind it, such as a backup, passes and the output says so.\n"
               "Output: \"OK: ...\" with the number of entries and checkpoints checked, or\n"
               "\"FAILED: ... entry N: why\" naming the first entry that does not verify.\n"
               "With --json: {ok, path, size, checkpoints, payloads, purged, bad_index,\n"
               "checkpoint_file_size, behind_checkpoint_file, reason}.\n\n"
               "Exit codes: 0 verified, 1 verification failed (or the store cannot be read),\n"
               "2 usage error, or no ledger at ledger.path.\n",
    .opts = s_verify_opts,
    .min_pos = 0,
    .max_pos = 0,
    .run = s_run_verify,
};

static const cli_command_t *const s_subs[] = {
    &s_vkey, &s_checkpoint_cmd, &s_prove, &s_consistency, &s_verify, &cli_cmd_log_query, NULL,
};

const cli_command_t cli_cmd_log = {
    .name = "log",
    .positional = "SUBCOMMAND",
    .summary =
        "Inspect and search the ledger: vkey, checkpoint, prove, consistency, verify, query.",
    .details = "Exit codes: 0 success, 1 failed or did not verify, 2 usage error,\n"
               "4 cairn-ledger cannot be reached (run `cairn up`).\n",
    .min_pos = 0,
    .max_pos = 0,
    .run = NULL,
    .subs = s_subs,
};
