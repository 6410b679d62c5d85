/* The ledger's checkpoint signing key: loaded from ledger.key_file, or
 * created there (mode 0600, in a directory created 0700) when missing. */
#ifndef CAIRN_LEDGER_KEYFILE_H
#define CAIRN_LEDGER_KEYFILE_H

#include <stdbool.h>

#include "cairn/note.h"

/* Loads the signer key at path, or generates a new Ed25519 key named origin
 * and writes it there when no file exists (*created_out tells which).
 * -EPERM when the file is readable or writable by group or others;
 * CAIRN_ECONFIG when the key's name is not origin; CAIRN_EPARSE for a file
 * that is not a signer key; -errno for I/O. */
int cairn_ledger_keyfile_open(const char *path, const char *origin,
                              cairn_note_signer_t **signer_out, bool *created_out);

#endif
