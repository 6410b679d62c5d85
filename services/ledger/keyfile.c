/* Loading or creating the ledger's signing key file. A new key is written
 * with O_EXCL and mode 0600, so two starting ledgers never overwrite each
 * other's key and the secret is never readable by anyone else. */
#include "keyfile.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cairn/error.h"
#include "cairn/util.h"

static int s_create(const char *path, const char *origin, cairn_note_signer_t **signer_out)
{
    cairn_note_signer_t *signer = NULL;
    size_t cap = strlen(origin) + 128;
    char *text = sodium_malloc(cap);
    int rc = text ? 0 : -ENOMEM;
    if (rc == 0)
        rc = cairn_note_signer_generate(origin, &signer);
    if (rc == 0)
        rc = cairn_note_signer_format(signer, text, cap - 1);
    if (rc == 0)
        rc = cairn_mkdir_parent(path, 0700);
    if (rc < 0)
        goto out;
    /* Written whole under a temporary name, then linked: never half a key,
     * never over one that appeared meanwhile. */
    size_t len = strlen(text);
    text[len] = '\n';
    rc = cairn_write_file(path, text, len + 1, 0600, false);
out:
    if (text)
        sodium_free(text); /* wipes */
    if (rc < 0)
        cairn_note_signer_destroy(&signer);
    else
        *signer_out = signer;
    return rc;
}

int cairn_ledger_keyfile_open(const char *path, const char *origin,
                              cairn_note_signer_t **signer_out, bool *created_out)
{
    struct stat st;
    cairn_note_signer_t *signer = NULL;
    bool created = false;
    int rc = 0;
    if (sodium_init() < 0)
        return CAIRN_ECRYPTO;
    if (stat(path, &st) < 0 && errno == ENOENT) {
        rc = s_create(path, origin, &signer);
        created = rc == 0;
        if (rc == -EEXIST) /* created meanwhile by someone else: load theirs */
            rc = cairn_note_signer_load(path, &signer);
    } else {
        rc = cairn_note_signer_load(path, &signer);
    }
    if (rc < 0)
        return rc;
    if (strcmp(cairn_note_signer_name(signer), origin) != 0) {
        cairn_note_signer_destroy(&signer);
        return CAIRN_ECONFIG;
    }
    *signer_out = signer;
    *created_out = created;
    return 0;
}
