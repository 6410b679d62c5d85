/* Strict decoding of untrusted JSON with cJSON (see json_body.h): a
 * lexical pass before the parse (control characters, \u escapes, depth),
 * the common UTF-8 check, cJSON for the tree, and a duplicate-key pass after. */
#include "json_body.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"

/* Objects with up to this many keys are checked pairwise; larger ones
 * through a hash table (on the stack up to S_HASH_STACK slots). */
#define S_PAIRWISE_MAX 8
#define S_HASH_STACK 256

static bool s_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One sentence about the byte at pos, with its line and column. */
static int s_fail(const unsigned char *text, size_t len, size_t pos, const char *what, char *err,
                  size_t errlen, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int s_fail(const unsigned char *text, size_t len, size_t pos, const char *what, char *err,
                  size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return CAIRN_EPARSE;
    if (pos > len)
        pos = len;
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos; i++) {
        if (text[i] == '\n') {
            line++;
            column = 1;
        } else {
            column++;
        }
    }
    char reason[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s is not valid JSON: line %zu, column %zu (byte %zu): %s", what, line,
             column, pos, reason);
    return CAIRN_EPARSE;
}

/* What the lexical pass learned about the text. */
typedef struct {
    size_t depth;     /* open objects and lists at the end */
    bool in_string;   /* the text ends inside a string */
    size_t non_ascii; /* offset of the first byte above 0x7f, or the length */
} s_scan_t;

/* Bytes the lexical pass looks at: control characters, quotes, backslashes,
 * brackets, braces, and (to find where UTF-8 checking must start) every
 * byte above 0x7f. Everything else is skipped in a tight loop. */
static const unsigned char s_special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, /* 0x50 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, /* 0x70 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x80 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x90 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xa0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xb0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xc0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xd0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xe0 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0xf0 */
};

/* The checks cJSON does not make, in one pass: raw control characters
 * (cJSON skips them as whitespace or keeps them in strings), \u escapes
 * (cJSON reads a bad hex digit as 0 and keeps \u0000 as the end of the C
 * string), and the nesting depth (reported here with its position). It
 * also notes the first byte above 0x7f: the text before it is ASCII, so
 * UTF-8 checking starts there. */
static int s_scan(const unsigned char *t, size_t len, const char *what, s_scan_t *scan, char *err,
                  size_t errlen)
{
    size_t depth = 0, non_ascii = len;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        while (i < len && !s_special[t[i]])
            i++;
        if (i >= len)
            break;
        unsigned char c = t[i];
        if (c >= 0x80) {
            if (non_ascii == len)
                non_ascii = i;
            continue;
        }
        if (c < 0x20) {
            if (!in_string && (c == '\t' || c == '\n' || c == '\r'))
                continue;
            if (in_string && (c == '\t' || c == '\n' || c == '\r'))
                return s_fail(t, len, i, what, err, errlen,
                              "a raw control character (0x%02x) in a string; escape it", c);
            return s_fail(t, len, i, what, err, errlen, "a control character (0x%02x)", c);
        }
        if (c == '"') {
            in_string = !in_string;
        } else if (c == '\\') {
            if (!in_string)
                return s_fail(t, len, i, what, err, errlen, "a backslash outside a string");
            if (i + 1 < len && t[i + 1] == 'u') {
                if (i + 5 >= len || !s_hex(t[i + 2]) || !s_hex(t[i + 3]) || !s_hex(t[i + 4]) ||
                    !s_hex(t[i + 5]))
                    return s_fail(t, len, i, what, err, errlen,
                                  "a \\u escape needs four hex digits");
                if (memcmp(t + i + 2, "0000", 4) == 0)
                    return s_fail(t, len, i, what, err, errlen,
                                  "a string contains \\u0000 (NUL), which Cairn does not accept");
                i += 5;
            } else {
                i++; /* the escaped character; cJSON checks which */
            }
        } else if (!in_string) {
            if (c == '[' || c == '{') {
                if (++depth > CAIRN_JSON_MAX_DEPTH)
                    return s_fail(t, len, i, what, err, errlen,
                                  "objects and lists nest deeper than %d levels",
                                  CAIRN_JSON_MAX_DEPTH);
            } else if (depth > 0) {
                depth--;
            }
        }
    }
    scan->depth = depth;
    scan->in_string = in_string;
    scan->non_ascii = non_ascii;
    return 0;
}

/* The first key of obj that another member before it already has, or NULL;
 * -ENOMEM in *rc when a large object's table cannot be allocated. */
static const char *s_duplicate_key(const cJSON *obj, size_t n, int *rc)
{
    if (n <= S_PAIRWISE_MAX) {
        for (const cJSON *a = obj->child; a; a = a->next)
            for (const cJSON *b = obj->child; b != a; b = b->next)
                if (strcmp(a->string, b->string) == 0)
                    return a->string;
        return NULL;
    }
    size_t slots = 16;
    while (slots < 2 * n)
        slots *= 2;
    const char *stack[S_HASH_STACK];
    const char **table = stack;
    if (slots > S_HASH_STACK && !(table = calloc(slots, sizeof *table))) {
        *rc = -ENOMEM;
        return NULL;
    }
    if (table == stack)
        memset(stack, 0, slots * sizeof *stack);
    const char *dup = NULL;
    for (const cJSON *m = obj->child; m && !dup; m = m->next) {
        size_t at = (size_t)cairn_fnv1a64(CAIRN_FNV1A64_OFFSET, m->string, strlen(m->string)) & (slots - 1);
        while (table[at] && !dup) {
            if (strcmp(table[at], m->string) == 0)
                dup = m->string;
            at = (at + 1) & (slots - 1);
        }
        table[at] = m->string;
    }
    if (table != stack)
        free(table);
    return dup;
}

/* Refuses the first object, depth first, with a repeated key. The walk
 * is recursive; cJSON bounded the depth. */
static int s_unique_keys(const cJSON *v, const char **dup)
{
    int rc = 0;
    if (cJSON_IsObject(v)) {
        size_t n = 0;
        for (const cJSON *m = v->child; m; m = m->next)
            n++;
        if ((*dup = s_duplicate_key(v, n, &rc)) || rc < 0)
            return rc < 0 ? rc : CAIRN_EPARSE;
    }
    if (cJSON_IsObject(v) || cJSON_IsArray(v))
        for (const cJSON *c = v->child; c; c = c->next)
            if ((rc = s_unique_keys(c, dup)) < 0)
                return rc;
    return 0;
}

static bool s_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int cairn_ingest_json_parse(const void *text, size_t len, const char *what, cJSON **out, char *err,
                            size_t errlen)
{
    const unsigned char *t = text;
    s_scan_t scan = {0, false, 0};
    int rc;
    if (len >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0)
        return s_fail(t, len, 0, what, err, errlen, "it starts with a byte order mark");
    if ((rc = s_scan(t, len, what, &scan, err, errlen)) < 0)
        return rc;
    size_t bad = scan.non_ascii + cairn_utf8_invalid_at(t + scan.non_ascii, len - scan.non_ascii);
    if (bad < len)
        return s_fail(t, len, bad, what, err, errlen, "invalid UTF-8");

    const char *end = NULL;
    cJSON *root = len ? cJSON_ParseWithLengthOpts(text, len, &end, 0) : NULL;
    if (!root) {
        size_t pos = end ? (size_t)(end - (const char *)text) : 0;
        bool at_end = len == 0 || scan.in_string || scan.depth > 0;
        if (!at_end) {
            size_t rest = pos;
            while (rest < len && s_space(t[rest]))
                rest++;
            at_end = rest >= len;
        }
        if (at_end)
            return s_fail(t, len, len, what, err, errlen,
                          "the text ends before the JSON value does (truncated?)");
        return s_fail(t, len, pos, what, err, errlen, "unexpected text near '%.*s'",
                      (int)(len - pos < 16 ? len - pos : 16), (const char *)t + pos);
    }
    size_t pos = (size_t)(end - (const char *)text);
    while (pos < len && s_space(t[pos]))
        pos++;
    if (pos < len) {
        cJSON_Delete(root);
        return s_fail(t, len, pos, what, err, errlen, "text after the JSON value: '%.*s'",
                      (int)(len - pos < 16 ? len - pos : 16), (const char *)t + pos);
    }
    const char *dup = NULL;
    if ((rc = s_unique_keys(root, &dup)) < 0) {
        if (rc == -ENOMEM)
            snprintf(err, errlen, "out of memory while reading %s", what);
        else
            snprintf(err, errlen,
                     "%s is not valid JSON: an object has the key '%.64s' twice (duplicate keys "
                     "are ambiguous)",
                     what, dup);
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return 0;
}

bool cairn_json_is_integer(const cJSON *v)
{
    if (!cJSON_IsNumber(v))
        return false;
    double d = v->valuedouble;
    return d >= -CAIRN_JSON_MAX_EXACT && d <= CAIRN_JSON_MAX_EXACT && floor(d) == d;
}

int64_t cairn_json_integer(const cJSON *v)
{
    return cairn_json_is_integer(v) ? (int64_t)v->valuedouble : 0;
}

const char *cairn_json_kind(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsArray(v))
        return "a list";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return cairn_json_is_integer(v) ? "an integer" : "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    if (cJSON_IsNull(v))
        return "null";
    return "a value";
}
