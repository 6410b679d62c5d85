/* Secret files: key material read only from files that their owner alone can
 * access, straight into guarded memory (sodium_malloc: mlock'd, guard pages,
 * wiped when freed), so no copy of a secret is left in the ordinary heap. */
#ifndef CAIRN_SECRET_FILE_H
#define CAIRN_SECRET_FILE_H

#include <stddef.h>

/* Checks that path names a regular file owned by this user (or root) with
 * no group or other permission bits. Returns 0, or CAIRN_EINVALID with a
 * sentence in err that says how to fix it (e.g. "chmod 600 ..."), or a
 * negative errno (with err) when the file cannot be examined. */
int cairn_secret_file_check(const char *path, char *err, size_t errlen);

/* Checks path as above and reads it (at most max bytes) into guarded
 * memory, NUL-terminated: *buf_out is freed with cairn_secret_file_free(). */
int cairn_secret_file_read(const char *path, size_t max, char **buf_out, size_t *len_out, char *err,
                           size_t errlen);

/* Wipes and frees a buffer from cairn_secret_file_read;
 * NULL-safe; sets *buf_p to NULL. */
void cairn_secret_file_free(char **buf_p);

#endif
