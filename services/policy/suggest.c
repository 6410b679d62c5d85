/* Edit-distance suggestions for misspelled policy keys and names. */
#include "suggest.h"

#include <string.h>

#define S_MAX 64

unsigned cairn_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= S_MAX || lb >= S_MAX)
        return strcmp(a, b) == 0 ? 0 : 255;
    unsigned row[S_MAX + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] > 255 ? 255 : row[lb];
}

const char *cairn_suggest(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    unsigned best_d = 255;
    for (size_t i = 0; candidates[i]; i++) {
        unsigned d = cairn_edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    size_t len = strlen(word);
    if (!best || best_d == 0 || best_d > 2 || 2 * best_d >= len + (len < 4 ? 1 : 0))
        return NULL;
    return best;
}
