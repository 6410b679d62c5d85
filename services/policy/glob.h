/* Path globs for `paths_any` and data class paths, as in .gitignore:
 * `*` matches within one path segment, `?` one character of a segment,
 * `[a-z]` / `[!a-z]` a character class, a whole segment `**` any number of
 * segments (so `db/migrations/` + `**` matches everything below
 * db/migrations, and `**` + `/` + `*.sql` any .sql file), and a backslash
 * quotes the next character. A leading
 * "./" or "/" on a changed path is ignored. */
#ifndef CAIRN_POLICY_GLOB_H
#define CAIRN_POLICY_GLOB_H

#include <stdbool.h>

bool cairn_glob_match(const char *pattern, const char *path);

/* Whether pattern is well formed (every `[` closed, no trailing `\`). */
bool cairn_glob_valid(const char *pattern);

#endif
