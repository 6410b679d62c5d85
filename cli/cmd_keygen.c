/* `cairn keygen`: creates the Ed25519 key the ledger signs its checkpoints
 * with (signer key text, mode 0600, in a directory created 0700) and the
 * matching verifier key (vkey text, 0644) that auditors check bundles with.
 * By default the key is named after ledger.origin and written where the
 * ledger reads it, ledger.key_file, with the vkey beside it.
 * `cairn keygen --curve -o FILE` instead creates a CURVE key pair for the
 * bus (FILE, mode 0600) and its public key (FILE.pub) for allow-lists. */
#include <errno.h>
#include <libgen.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/curve.h"
#include "cairn/error.h"
#include "cairn/note.h"
#include "cairn/util.h"
#include "commands.h"
#include "files.h"
#include "pbjson.h"

static const cli_opt_t s_opts[] = {
    {"name", "NAME", false, "key name (default: ledger.origin; with --curve: a label)", 0},
    {"out", "DIR|FILE", false,
     "write into DIR instead of beside ledger.key_file; with --curve: the key pair FILE", 'o'},
    {"force", NULL, false, "replace existing key files", 0},
    {"curve", NULL, false, "create a CURVE key pair for the bus instead (needs -o FILE)", 0},
    {"approver", NULL, false, "create an approver's signing key instead (--name USER -o FILE)", 0},
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
    if ((rc = cairn_mkdir_parent(key_path, 0700)) < 0 ||
        (rc = cairn_mkdir_parent(vkey_path, 0700)) < 0) {
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
    if ((rc = cairn_write_file(key_path, skey, len + 1, 0600, force)) < 0) {
        snprintf(err, errlen, "cannot write %s: %s%s", key_path, cairn_strerror(rc),
                 rc == -EEXIST ? " (pass --force to replace it)" : "");
        goto out;
    }
    if (!(line = s_concat(vkey, strlen(vkey), "\n"))) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = cairn_write_file(vkey_path, line, strlen(line), 0644, force)) < 0) {
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

int cli_keygen_run_write(const cli_args_t *args, const char *name, const char *key_path,
                         const char *vkey_path, char **vkey_out, bool *replaced_out)
{
    char err[1024];
    bool force = cli_flag(args, "force");
    bool replaced = force && (cli_path_exists(key_path) || cli_path_exists(vkey_path));
    int rc = cli_keygen_write(name, key_path, vkey_path, force, vkey_out, err, sizeof err);
    if (rc == CAIRN_EINVALID || rc == -EEXIST)
        return cli_usage_error(args->cmd, "%s", err);
    if (rc < 0) {
        fprintf(stderr, "cairn keygen: %s\n", err);
        return CLI_EXIT_DENIED;
    }
    *replaced_out = replaced;
    return CLI_EXIT_OK;
}

char *cli_keygen_pub_path(const char *path)
{
    return s_concat(path, strlen(path), ".pub");
}

/* `cairn keygen --curve -o FILE`: FILE (key pair, 0600) and FILE.pub. */
static int s_run_curve(const cli_args_t *args)
{
    int code = CLI_EXIT_DENIED;
    int rc;
    const char *path = cli_opt(args, "out");
    char *pub = NULL;
    char z85[CAIRN_CURVE_Z85_LEN + 1];
    cairn_curve_keypair_t *keypair = NULL;
    json_t *obj = NULL;

    if (!path || !*path)
        return cli_usage_error(args->cmd, "--curve needs -o FILE: where to write the key pair");
    bool force = cli_flag(args, "force");
    const char *label = cli_opt(args, "name");
    if (label && strpbrk(label, "\n\r")) {
        code = cli_usage_error(args->cmd, "--name must be one line");
        goto out;
    }
    if (!(pub = cli_keygen_pub_path(path))) {
        fprintf(stderr, "cairn keygen: out of memory\n");
        goto out;
    }
    bool replaced = force && (cli_path_exists(path) || cli_path_exists(pub));
    if ((rc = cairn_mkdir_parent(path, 0700)) < 0) {
        fprintf(stderr, "cairn keygen: cannot create the directory for %s: %s\n", path,
                cairn_strerror(rc));
        goto out;
    }
    if ((rc = cairn_curve_keypair_generate(&keypair)) < 0 ||
        (rc = cairn_curve_keypair_save(keypair, path, pub, label, force)) < 0) {
        if (rc == -EEXIST)
            code = cli_usage_error(args->cmd, "%s or %s already exists; pass --force to replace it",
                                   path, pub);
        else
            fprintf(stderr, "cairn keygen: cannot write %s: %s\n", path, cairn_strerror(rc));
        goto out;
    }
    cairn_curve_z85(cairn_curve_keypair_public(keypair), z85);
    if (args->json) {
        obj = json_pack("{s:s, s:s, s:s, s:b}", "key_file", path, "public_key_file", pub,
                        "public_key", z85, "replaced", replaced);
        code = obj && cli_json_print(obj, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
    } else {
        printf("wrote CURVE key pair %s (mode 0600: keep it secret)\n", path);
        printf("wrote public key     %s\n", pub);
        printf("%s\n", z85);
        code = CLI_EXIT_OK;
    }
out:
    json_decref(obj);
    cairn_curve_keypair_destroy(&keypair);
    free(pub);
    return code;
}

static int s_run(const cli_args_t *args)
{
    if (cli_flag(args, "curve"))
        return s_run_curve(args);
    if (cli_flag(args, "approver"))
        return cli_approver_keygen(args); /* approver_key.c */
    int code = CLI_EXIT_USAGE;
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
    bool replaced = false;
    if (cli_keygen_paths(cairn_config_str(cfg, "ledger.key_file"), cli_opt(args, "out"), &key_path,
                         &vkey_path) < 0) {
        fprintf(stderr, "cairn keygen: out of memory\n");
        code = CLI_EXIT_DENIED;
        goto out;
    }
    if ((code = cli_keygen_run_write(args, name, key_path, vkey_path, &vkey, &replaced)) !=
        CLI_EXIT_OK)
        goto out;
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
               "With --curve -o FILE it creates a CURVE key pair for the bus instead:\n"
               "  FILE      '# comment' lines, then 'public-key <Z85>' and 'secret-key <Z85>',\n"
               "            mode 0600: set bus.curve_secret_key to it\n"
               "  FILE.pub  '# comment' lines, then '<Z85 public key> [label]' (label: --name),\n"
               "            mode 0644: a server's bus.*_public_key, or a line of an allow-list\n"
               "With --json: {key_file, public_key_file, public_key, replaced}.\n\n"
               "With --approver --name USER -o FILE it creates an approver's signing key for\n"
               "`cairn approve --key FILE`: FILE the signer key named USER (mode 0600), and\n"
               "FILE.pub its vkey (0644), to put beside USER in the policy's roles. With\n"
               "--json: {approver, key_file, public_key_file, vkey, replaced}.\n\n"
               "Exit codes: 0 written, 1 the files could not be written, 2 usage error (also\n"
               "a bad name, or a file that exists without --force).\n",
    .opts = s_opts,
    .min_pos = 0,
    .max_pos = 0,
    .run = s_run,
};
