/* Label matchers with Alertmanager's syntax and meaning: `name op value`
 * with op one of =, !=, =~, !~. Regular expressions are POSIX extended
 * (regcomp) and anchored at both ends, as Alertmanager anchors its RE2
 * expressions: `env=~"prod|staging"` matches "prod" but not "preprod".
 * A missing label matches as the empty string. A list of matchers matches
 * when every one does (an empty list matches everything). */
#ifndef CAIRN_NOTIFY_MATCHER_H
#define CAIRN_NOTIFY_MATCHER_H

#include <stdbool.h>
#include <stddef.h>

#include "labels.h"

typedef enum {
    CAIRN_MATCH_EQ,  /* = */
    CAIRN_MATCH_NE,  /* != */
    CAIRN_MATCH_RE,  /* =~ */
    CAIRN_MATCH_NRE, /* !~ */
} cairn_match_op_t;

typedef struct cairn_matchers_t cairn_matchers_t;

cairn_matchers_t *cairn_matchers_new(void);
void cairn_matchers_destroy(cairn_matchers_t **self_p);

/* Adds one matcher. A regular expression that does not compile is
 * CAIRN_EPARSE with the reason in err. */
int cairn_matchers_add(cairn_matchers_t *self, const char *name, cairn_match_op_t op,
                       const char *value, char *err, size_t errlen);

/* Parses and adds matchers from text: one matcher (`env="prod"`, `env=prod`,
 * `kind=~"approval_.*"`) or a brace list (`{env="prod", team!="ops"}`).
 * Values may be double-quoted with \" \\ \n escapes. CAIRN_EPARSE with a
 * message in err for anything else. */
int cairn_matchers_parse(cairn_matchers_t *self, const char *text, char *err, size_t errlen);

/* True when every matcher matches labels. */
bool cairn_matchers_match(const cairn_matchers_t *self, const cairn_labels_t *labels);

size_t cairn_matchers_count(const cairn_matchers_t *self);
const char *cairn_matchers_name(const cairn_matchers_t *self, size_t i);
cairn_match_op_t cairn_matchers_op(const cairn_matchers_t *self, size_t i);
const char *cairn_matchers_value(const cairn_matchers_t *self, size_t i);

/* "=", "!=", "=~", "!~". */
const char *cairn_match_op_name(cairn_match_op_t op);

/* Parses an operator name; CAIRN_EPARSE when it is not one. */
int cairn_match_op_parse(const char *text, cairn_match_op_t *out);

/* `{env="prod", kind=~"a|b"}`, malloc'd. */
char *cairn_matchers_format(const cairn_matchers_t *self);

#endif
