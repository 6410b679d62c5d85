/* `cairn keygen`: creates the Ed25519 key the ledger signs its checkpoints
 * with (signer key text, mode 0600, in a directory created 0700) and the
 * matching verifier key (vkey text, 0644) that auditors check bundles with.
 * By default the key is named after ledger.origin and written where the
 * ledger reads it, ledger.key_file, with the vkey beside it. */
#include <errno.h>
#include <libgen.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/note.h"
#include "commands.h"
#include "files.h"
#include "pbjson.h"

static const cli_opt_t s_opts[] = {
    {"name", "NAME", false, "key name (default: ledger.origin)", 0},
    {"out", "DIR", false, "write into DIR instead of beside ledger.key_file", 0},
    {"force", NULL, false, "replace existing key files", 0},
    {NULL, NULL, false, NULL, 0},
};

/* a followed by b, malloc'd. */
static char *s_concat(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    char *s = malloc(alen + blen + 1);
    if (!s)
        return NULL;
    memcpy(s, a, alen);
    memcpy(s + alen, b, blen + 1);
    return s;
}

int cli_keygen_paths(const char *key_file, const char *out_dir, char **key_out, char **vkey_out)
{
    int rc = -ENOMEM;
    char *key = NULL, *vkey = NULL, *base = strdup(key_file);
    if (!base)
        goto out;
    if (out_dir) {
        size_t dlen = strlen(out_dir);
        while (dlen > 1 && out_dir[dlen - 1] == '/')
            dlen--;
        char *dir = s_concat(out_dir, dlen, "/");
        key = dir ? s_concat(dir, strlen(dir), basename(base)) : NULL;
        free(dir);
    } else {
        key = strdup(key_file);
    }
    if (!key || !(vkey = s_concat(key, strlen(key), ".vkey")))
        goto out;
    *key_out = key;
    *vkey_out = vkey;
    key = vkey = NULL;
    rc = 0;
out:
    free(base);
    free(key);
    free(vkey);
    return rc;
}

int cli_keygen_write(const char *name, const char *key_path, const char *vkey_path, bool force,
                     char **vkey_out, char *err, size_t errlen)
{
    int rc;
    char *skey = NULL;
    char *vkey = NULL;
    char *line = NULL;
    cairn_note_signer_t *signer = NULL;
    size_t cap = strlen(name) + 128;

    if (!cairn_note_key_name_valid(name)) {
        snprintf(err, errlen,
                 "'%s' is not a valid key name: it must be non-empty, without '+', spaces or "
                 "control characters",
                 name);
        return CAIRN_EINVALID;
    }
    if (!force) {
        const char *taken = cli_path_exists(key_path)    ? key_path
                            : cli_path_exists(vkey_path) ? vkey_path
                                                         : NULL;
        if (taken) {
            snprintf(err, errlen, "%s already exists; pass --force to replace it", taken);
            return -EEXIST;
        }
    }
    if ((rc = cli_make_parent(key_path, 0700)) < 0 || (rc = cli_make_parent(vkey_path, 0700)) < 0) {
        snprintf(err, errlen, "cannot create the directory for %s: %s", key_path,
                 cairn_strerror(rc));
        return rc;
    }
    if (sodium_init() < 0) {
        snprintf(err, errlen, "cannot initialize libsodium");
        return CAIRN_ECRYPTO;
    }
    /* The secret only ever lives in guarded memory, wiped when freed. */
    if (!(skey = sodium_malloc(cap))) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = cairn_note_signer_generate(name, &signer)) < 0 ||
        (rc = cairn_note_signer_format(signer, skey, cap - 1)) < 0 ||
        (rc = cairn_note_signer_vkey(signer, &vkey)) < 0) {
        snprintf(err, errlen, "cannot create a key named %s: %s", name, cairn_strerror(rc));
        goto out;
    }
    size_t len = strlen(skey);
    skey[len] = '\n';
    if ((rc = cli_write_file(key_path, skey, len + 1, 0600, force)) < 0) {
        snprintf(err, errlen, "cannot write %s: %s%s", key_path, cairn_strerror(rc),
                 rc == -EEXIST ? " (pass --force to replace it)" : "");
        goto out;
    }
    if (!(line = s_concat(vkey, strlen(vkey), "\n"))) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = cli_write_file(vkey_path, line, strlen(line), 0644, force)) < 0) {
        snprintf(err, errlen, "cannot write %s: %s%s", vkey_path, cairn_strerror(rc),
                 rc == -EEXIST ? " (pass --force to replace it)" : "");
        goto out;
    }
    *vkey_out = vkey;
    vkey = NULL;
out:
    if (skey)
        sodium_free(skey);
    free(line);
    free(vkey);
    cairn_note_signer_destroy(&signer);
    return rc;
}

static int s_run(const cli_args_t *args)
{
    int code = CLI_EXIT_USAGE;
    int rc;
    char err[1024];
    cairn_config_t *cfg = NULL;
    char *key_path = NULL, *vkey_path = NULL, *vkey = NULL;
    json_t *obj = NULL;

    if (cli_load_config(args, &cfg, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    const char *origin = cairn_config_str(cfg, "ledger.origin");
    const char *name = cli_opt(args, "name") ? cli_opt(args, "name") : origin;
    bool force = cli_flag(args, "force");
    if (cli_keygen_paths(cairn_config_str(cfg, "ledger.key_file"), cli_opt(args, "out"), &key_path,
                         &vkey_path) < 0) {
        fprintf(stderr, "cairn keygen: out of memory\n");
        code = CLI_EXIT_DENIED;
        goto out;
    }
    bool replaced = force && (cli_path_exists(key_path) || cli_path_exists(vkey_path));
    rc = cli_keygen_write(name, key_path, vkey_path, force, &vkey, err, sizeof err);
    if (rc == CAIRN_EINVALID || rc == -EEXIST) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    if (rc < 0) {
        fprintf(stderr, "cairn keygen: %s\n", err);
        code = CLI_EXIT_DENIED;
        goto out;
    }
    if (args->json) {
        char keyid[9];
        cairn_note_verifier_t *verifier = NULL;
        if (cairn_note_verifier_parse(vkey, &verifier) == 0)
            snprintf(keyid, sizeof keyid, "%08x", cairn_note_verifier_keyid(verifier));
        else
            keyid[0] = '\0';
        cairn_note_verifier_destroy(&verifier);
        obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "name", name, "key_id", keyid, "key_file",
                        key_path, "vkey_file", vkey_path, "vkey", vkey, "replaced", replaced);
        code = obj && cli_json_print(obj, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
    } else {
        printf("wrote signing key  %s (mode 0600: keep it secret)\n", key_path);
        printf("wrote verifier key %s\n", vkey_path);
        printf("%s\n", vkey);
        code = CLI_EXIT_OK;
    }
    /* Advice, not results: on stderr. */
    if (strcmp(name, origin) != 0)
        fprintf(stderr,
                "note: cairn-ledger signs only with a key named after ledger.origin (%s); set "
                "ledger.origin to %s to use this key.\n",
                origin, name);
    if (replaced)
        fprintf(stderr, "note: a running cairn-ledger keeps its old key until it restarts; "
                        "keep the old vkey to verify checkpoints it signed.\n");
out:
    json_decref(obj);
    free(vkey);
    free(key_path);
    free(vkey_path);
    cairn_config_destroy(&cfg);
    return code;
}

const cli_command_t cli_cmd_keygen = {
    .name = "keygen",
    .positional = "",
    .summary = "Create the ledger's checkpoint signing key and its verifier key (vkey).",
    .details = "Writes two files:\n"
               "  KEY       the signer key, PRIVATE+KEY+<name>+<key id>+<base64>, mode 0600, in a\n"
               "            directory created with mode 0700\n"
               "  KEY.vkey  the verifier key <name>+<key id>+<base64 key>, mode 0644: give it\n"
               "            to auditors; `cairn verify` checks bundles with it\n"
               "KEY is ledger.key_file (default {data_dir}/keys/ledger.key), or the same file\n"
               "name in --out DIR. The key is named after ledger.origin unless --name is given;\n"
               "cairn-ledger signs only with a key named after its origin. Existing files are\n"
               "never replaced without --force. Output: both paths and the vkey; with --json\n"
               "{name, key_id, key_file, vkey_file, vkey, replaced}.\n\n"
               "Exit codes: 0 written, 1 the files could not be written, 2 usage error (also\n"
               "a bad name, or a file that exists without --force).\n",
    .opts = s_opts,
    .min_pos = 0,
    .max_pos = 0,
    .run = s_run,
};
