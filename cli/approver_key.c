/* Approver signing keys: `cairn keygen --approver --name USER -o FILE`
 * writes an Ed25519 signer key named after the approver (FILE, mode 0600,
 * in a directory created 0700) and its vkey (FILE.pub, 0644) for the
 * policy's role directory; `cairn approve --key FILE` signs the approval
 * statement (cairn/approval.h) with it and adds the signature to the
 * approval event's data. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/approval.h"
#include "cairn/error.h"
#include "cairn/note.h"
#include "commands.h"
#include "files.h"
#include "pbjson.h"

int cli_approver_keygen(const cli_args_t *args)
{
    int code = CLI_EXIT_DENIED;
    char *pub = NULL, *vkey = NULL;
    json_t *obj = NULL;
    const char *user = cli_opt(args, "name");
    const char *path = cli_opt(args, "out");

    if (!user || !*user)
        return cli_usage_error(args->cmd,
                               "--approver needs --name USER: the approver's user name, as the "
                               "policy's roles list it");
    if (!path || !*path)
        return cli_usage_error(args->cmd, "--approver needs -o FILE: where to write the key");
    bool replaced = false;
    if (!(pub = cli_keygen_pub_path(path))) {
        fprintf(stderr, "cairn keygen: out of memory\n");
        goto out;
    }
    if ((code = cli_keygen_run_write(args, user, path, pub, &vkey, &replaced)) != CLI_EXIT_OK)
        goto out;
    if (args->json) {
        obj = json_pack("{s:s, s:s, s:s, s:s, s:b}", "approver", user, "key_file", path,
                        "public_key_file", pub, "vkey", vkey, "replaced", replaced);
        code = obj && cli_json_print(obj, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
    } else {
        printf("wrote approver signing key %s (mode 0600: keep it secret)\n", path);
        printf("wrote approver public key  %s\n", pub);
        printf("%s\n", vkey);
        code = CLI_EXIT_OK;
    }
    fprintf(stderr,
            "note: put the key beside %s in the policy's roles, e.g. "
            "users: [{name: %s, key: \"%s\"}]\n",
            user, user, vkey);
out:
    json_decref(obj);
    free(vkey);
    free(pub);
    return code;
}

int cli_approval_sign(json_t *event, const cli_approval_t *ap, const cairn_note_signer_t *signer,
                      char *err, size_t errlen)
{
    int rc;
    char *sig = NULL, *key = NULL;
    json_t *data = json_object_get(event, "data");
    const char *time = json_string_value(json_object_get(event, "time"));
    const char *name = cairn_note_signer_name(signer);
    if (strcmp(name, ap->approver) != 0) {
        snprintf(err, errlen, "the key is %s's (it is named '%s'); it cannot sign for %s", name,
                 name, ap->approver);
        return CAIRN_EINVALID;
    }
    if (!ap->commit) {
        snprintf(err, errlen,
                 "--key needs --commit: a signed approval names the full commit SHA it approves");
        return CAIRN_EINVALID;
    }
    cairn_approval_stmt_t st = {
        .change = ap->change,
        .commit = ap->commit,
        .role = ap->role,
        .decision = ap->reject ? "rejected" : "granted",
        .approver = ap->approver,
        .signed_at = time,
    };
    if (!data || !time || (rc = cairn_approval_sign(&st, signer, &sig, &key)) == CAIRN_EINVALID) {
        snprintf(err, errlen, "the approval cannot be signed: a value holds white space");
        return CAIRN_EINVALID;
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot sign the approval: %s", cairn_strerror(rc));
        return rc;
    }
    rc = json_object_set_new(data, "signature", json_string(sig)) == 0 &&
                 json_object_set_new(data, "key", json_string(key)) == 0 &&
                 json_object_set_new(data, "signed_at", json_string(time)) == 0
             ? 0
             : -ENOMEM;
    if (rc < 0)
        snprintf(err, errlen, "out of memory");
    free(sig);
    free(key);
    return rc;
}

int cli_approver_key_load(const char *path, const char *approver, cairn_note_signer_t **out,
                          char *err, size_t errlen)
{
    cairn_note_signer_t *signer = NULL;
    int rc = cairn_note_signer_load(path, &signer);
    if (rc == -EPERM) {
        snprintf(err, errlen,
                 "%s may be read or written by others; a signing key must be private: chmod 600 "
                 "%s",
                 path, path);
        return rc;
    }
    if (rc < 0) {
        snprintf(err, errlen,
                 "cannot read the signing key %s: %s (create one with `cairn keygen --approver "
                 "--name %s -o %s`)",
                 path, cairn_strerror(rc), approver ? approver : "USER", path);
        return rc;
    }
    *out = signer;
    return 0;
}
