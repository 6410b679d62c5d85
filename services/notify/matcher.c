/* Label matchers (see matcher.h): parsing, anchored POSIX regular
 * expressions, and matching label sets. */
#include "matcher.h"

#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"

typedef struct {
    char *name;          /* label name */
    cairn_match_op_t op; /* how value is compared */
    char *value;         /* literal, or the expression as written */
    regex_t re;          /* compiled "^(value)$" for =~ and !~ */
    bool has_re;         /* re is compiled */
} s_matcher_t;

struct cairn_matchers_t {
    s_matcher_t *items; /* in the order given */
    size_t n;           /* in use */
    size_t cap;         /* allocated */
};

static void s_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

cairn_matchers_t *cairn_matchers_new(void)
{
    return calloc(1, sizeof(cairn_matchers_t));
}

void cairn_matchers_destroy(cairn_matchers_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_matchers_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        free(self->items[i].name);
        free(self->items[i].value);
        if (self->items[i].has_re)
            regfree(&self->items[i].re);
    }
    free(self->items);
    free(self);
    *self_p = NULL;
}

const char *cairn_match_op_name(cairn_match_op_t op)
{
    switch (op) {
    case CAIRN_MATCH_EQ: return "=";
    case CAIRN_MATCH_NE: return "!=";
    case CAIRN_MATCH_RE: return "=~";
    case CAIRN_MATCH_NRE: return "!~";
    }
    return "?";
}

int cairn_match_op_parse(const char *text, cairn_match_op_t *out)
{
    static const cairn_match_op_t ops[] = {CAIRN_MATCH_EQ, CAIRN_MATCH_NE, CAIRN_MATCH_RE,
                                           CAIRN_MATCH_NRE};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(text, cairn_match_op_name(ops[i])) == 0) {
            *out = ops[i];
            return 0;
        }
    return CAIRN_EPARSE;
}

static bool s_valid_name(const char *name)
{
    if (!name || !(isalpha((unsigned char)*name) || *name == '_'))
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

int cairn_matchers_add(cairn_matchers_t *self, const char *name, cairn_match_op_t op,
                       const char *value, char *err, size_t errlen)
{
    if (!s_valid_name(name)) {
        s_err(err, errlen, "'%s' is not a label name (letters, digits and _, not first a digit)",
              name ? name : "");
        return CAIRN_EPARSE;
    }
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 4;
        s_matcher_t *grown = realloc(self->items, cap * sizeof(s_matcher_t));
        if (!grown)
            return -ENOMEM;
        self->items = grown;
        self->cap = cap;
    }
    s_matcher_t *m = &self->items[self->n];
    memset(m, 0, sizeof *m);
    m->op = op;
    if (op == CAIRN_MATCH_RE || op == CAIRN_MATCH_NRE) {
        size_t len = strlen(value) + 5;
        char *anchored = malloc(len);
        if (!anchored)
            return -ENOMEM;
        snprintf(anchored, len, "^(%s)$", value);
        int rc = regcomp(&m->re, anchored, REG_EXTENDED | REG_NOSUB);
        free(anchored);
        if (rc != 0) {
            char why[128];
            regerror(rc, &m->re, why, sizeof why);
            s_err(err, errlen, "regular expression \"%s\" for %s: %s", value, name, why);
            return CAIRN_EPARSE;
        }
        m->has_re = true;
    }
    m->name = strdup(name);
    m->value = strdup(value);
    if (!m->name || !m->value) {
        free(m->name);
        free(m->value);
        if (m->has_re)
            regfree(&m->re);
        return -ENOMEM;
    }
    self->n++;
    return 0;
}

/* Reads a value at *p: a double-quoted string with escapes, or bare text up
 * to stop (a ',' or '}' inside braces, the end otherwise). */
static int s_value(const char **p, bool braces, char *out, size_t outlen, char *err, size_t errlen)
{
    const char *s = *p;
    size_t n = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '"') {
        s++;
        while (*s && *s != '"') {
            char c = *s++;
            if (c == '\\') {
                c = *s++;
                if (c == 'n')
                    c = '\n';
                else if (c == 't')
                    c = '\t';
                else if (c != '"' && c != '\\') {
                    s_err(err, errlen, "unknown escape '\\%c' in a quoted value", c ? c : ' ');
                    return CAIRN_EPARSE;
                }
            }
            if (n + 1 >= outlen) {
                s_err(err, errlen, "matcher value is too long");
                return CAIRN_EPARSE;
            }
            out[n++] = c;
        }
        if (*s != '"') {
            s_err(err, errlen, "quoted value is not closed with \"");
            return CAIRN_EPARSE;
        }
        s++;
    } else {
        const char *start = s;
        while (*s && !(braces && (*s == ',' || *s == '}')))
            s++;
        const char *end = s;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - start) + 1 > outlen) {
            s_err(err, errlen, "matcher value is too long");
            return CAIRN_EPARSE;
        }
        memcpy(out, start, (size_t)(end - start));
        n = (size_t)(end - start);
    }
    out[n] = '\0';
    *p = s;
    return 0;
}

/* One `name op value` at *p. */
static int s_one(cairn_matchers_t *self, const char **p, bool braces, char *err, size_t errlen)
{
    const char *s = *p;
    char name[128], value[4096];
    size_t n = 0;
    cairn_match_op_t op;
    while (*s == ' ' || *s == '\t')
        s++;
    while (isalnum((unsigned char)*s) || *s == '_') {
        if (n + 1 >= sizeof name) {
            s_err(err, errlen, "label name is too long");
            return CAIRN_EPARSE;
        }
        name[n++] = *s++;
    }
    name[n] = '\0';
    while (*s == ' ' || *s == '\t')
        s++;
    if (s[0] == '=' && s[1] == '~')
        op = CAIRN_MATCH_RE, s += 2;
    else if (s[0] == '!' && s[1] == '~')
        op = CAIRN_MATCH_NRE, s += 2;
    else if (s[0] == '!' && s[1] == '=')
        op = CAIRN_MATCH_NE, s += 2;
    else if (s[0] == '=')
        op = CAIRN_MATCH_EQ, s += 1;
    else {
        s_err(err, errlen,
              "'%s' is not a matcher: expected name=value, name!=value, name=~regex "
              "or name!~regex",
              *p);
        return CAIRN_EPARSE;
    }
    int rc = s_value(&s, braces, value, sizeof value, err, errlen);
    if (rc < 0)
        return rc;
    if ((rc = cairn_matchers_add(self, name, op, value, err, errlen)) < 0)
        return rc;
    *p = s;
    return 0;
}

/* Drops the matchers from index `keep` on (a parse that failed half-way). */
static void s_truncate(cairn_matchers_t *self, size_t keep)
{
    while (self->n > keep) {
        s_matcher_t *m = &self->items[--self->n];
        free(m->name);
        free(m->value);
        if (m->has_re)
            regfree(&m->re);
    }
}

static int s_parse(cairn_matchers_t *self, const char *text, char *err, size_t errlen);

int cairn_matchers_parse(cairn_matchers_t *self, const char *text, char *err, size_t errlen)
{
    size_t keep = self->n;
    int rc = s_parse(self, text, err, errlen);
    if (rc < 0)
        s_truncate(self, keep);
    return rc;
}

static int s_parse(cairn_matchers_t *self, const char *text, char *err, size_t errlen)
{
    const char *s = text;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '{') {
        int rc = s_one(self, &s, false, err, errlen);
        if (rc < 0)
            return rc;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s) {
            s_err(err, errlen, "unexpected '%s' after the matcher", s);
            return CAIRN_EPARSE;
        }
        return 0;
    }
    s++;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '}')
            break;
        int rc = s_one(self, &s, true, err, errlen);
        if (rc < 0)
            return rc;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == ',') {
            s++;
            continue;
        }
        if (*s != '}') {
            s_err(err, errlen, "expected ',' or '}' in matcher list '%s'", text);
            return CAIRN_EPARSE;
        }
    }
    s++;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s) {
        s_err(err, errlen, "unexpected '%s' after '}'", s);
        return CAIRN_EPARSE;
    }
    return 0;
}

static bool s_match_one(const s_matcher_t *m, const cairn_labels_t *labels)
{
    const char *v = cairn_labels_get(labels, m->name);
    switch (m->op) {
    case CAIRN_MATCH_EQ: return strcmp(v, m->value) == 0;
    case CAIRN_MATCH_NE: return strcmp(v, m->value) != 0;
    case CAIRN_MATCH_RE: return regexec(&m->re, v, 0, NULL, 0) == 0;
    case CAIRN_MATCH_NRE: return regexec(&m->re, v, 0, NULL, 0) != 0;
    }
    return false;
}

bool cairn_matchers_match(const cairn_matchers_t *self, const cairn_labels_t *labels)
{
    if (!self)
        return true;
    for (size_t i = 0; i < self->n; i++)
        if (!s_match_one(&self->items[i], labels))
            return false;
    return true;
}

size_t cairn_matchers_count(const cairn_matchers_t *self)
{
    return self ? self->n : 0;
}

const char *cairn_matchers_name(const cairn_matchers_t *self, size_t i)
{
    return self->items[i].name;
}

cairn_match_op_t cairn_matchers_op(const cairn_matchers_t *self, size_t i)
{
    return self->items[i].op;
}

const char *cairn_matchers_value(const cairn_matchers_t *self, size_t i)
{
    return self->items[i].value;
}

char *cairn_matchers_format(const cairn_matchers_t *self)
{
    size_t cap = 3, n = self ? self->n : 0;
    for (size_t i = 0; i < n; i++)
        cap += strlen(self->items[i].name) + 2 * strlen(self->items[i].value) + 8;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t pos = 0;
    out[pos++] = '{';
    for (size_t i = 0; i < n; i++) {
        const s_matcher_t *m = &self->items[i];
        pos += (size_t)snprintf(out + pos, cap - pos, "%s%s%s\"", i ? ", " : "", m->name,
                                cairn_match_op_name(m->op));
        for (const char *v = m->value; *v; v++) {
            if (*v == '"' || *v == '\\')
                out[pos++] = '\\';
            out[pos++] = *v;
        }
        out[pos++] = '"';
    }
    out[pos++] = '}';
    out[pos] = '\0';
    return out;
}
