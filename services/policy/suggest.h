/* "Did you mean" for policy errors: the closest known word by edit distance. */
#ifndef CAIRN_POLICY_SUGGEST_H
#define CAIRN_POLICY_SUGGEST_H

#include <stddef.h>

/* Levenshtein distance between a and b (capped at 255). */
unsigned cairn_edit_distance(const char *a, const char *b);

/* The candidate closest to word when it is close enough to be a likely typo
 * (distance <= 2, and less than half the word), else NULL. candidates ends
 * with NULL. */
const char *cairn_suggest(const char *word, const char *const *candidates);

#endif
