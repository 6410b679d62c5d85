/* Label sets (see labels.h): a sorted array of owned name/value strings. */
#include "labels.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/util.h"

typedef struct {
    char *name;  /* label name */
    char *value; /* non-empty value */
} s_pair_t;

struct cairn_labels_t {
    s_pair_t *pairs; /* sorted by name */
    size_t n;        /* pairs in use */
    size_t cap;      /* pairs allocated */
};

cairn_labels_t *cairn_labels_new(void)
{
    return calloc(1, sizeof(cairn_labels_t));
}

void cairn_labels_destroy(cairn_labels_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_labels_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        free(self->pairs[i].name);
        free(self->pairs[i].value);
    }
    free(self->pairs);
    free(self);
    *self_p = NULL;
}

cairn_labels_t *cairn_labels_dup(const cairn_labels_t *self)
{
    cairn_labels_t *copy = cairn_labels_new();
    for (size_t i = 0; copy && i < self->n; i++)
        if (cairn_labels_set(copy, self->pairs[i].name, self->pairs[i].value) < 0)
            cairn_labels_destroy(&copy);
    return copy;
}

/* Position of name, or where it would be inserted (*found false). */
static size_t s_find(const cairn_labels_t *self, const char *name, int *found)
{
    size_t lo = 0, hi = self->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(self->pairs[mid].name, name);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

int cairn_labels_set(cairn_labels_t *self, const char *name, const char *value)
{
    int found = 0;
    size_t at = s_find(self, name, &found);
    if (!value || !*value) {
        if (found) {
            free(self->pairs[at].name);
            free(self->pairs[at].value);
            memmove(&self->pairs[at], &self->pairs[at + 1], (self->n - at - 1) * sizeof(s_pair_t));
            self->n--;
        }
        return 0;
    }
    char *v = strdup(value);
    if (!v)
        return -ENOMEM;
    if (found) {
        free(self->pairs[at].value);
        self->pairs[at].value = v;
        return 0;
    }
    char *n = strdup(name);
    if (!n) {
        free(v);
        return -ENOMEM;
    }
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        s_pair_t *grown = realloc(self->pairs, cap * sizeof(s_pair_t));
        if (!grown) {
            free(n);
            free(v);
            return -ENOMEM;
        }
        self->pairs = grown;
        self->cap = cap;
    }
    memmove(&self->pairs[at + 1], &self->pairs[at], (self->n - at) * sizeof(s_pair_t));
    self->pairs[at].name = n;
    self->pairs[at].value = v;
    self->n++;
    return 0;
}

const char *cairn_labels_get(const cairn_labels_t *self, const char *name)
{
    int found = 0;
    size_t at = s_find(self, name, &found);
    return found ? self->pairs[at].value : "";
}

size_t cairn_labels_count(const cairn_labels_t *self)
{
    return self->n;
}

const char *cairn_labels_name(const cairn_labels_t *self, size_t i)
{
    return i < self->n ? self->pairs[i].name : "";
}

const char *cairn_labels_value(const cairn_labels_t *self, size_t i)
{
    return i < self->n ? self->pairs[i].value : "";
}

uint64_t cairn_labels_fingerprint(const cairn_labels_t *self)
{
    uint64_t h = CAIRN_FNV1A64_OFFSET;
    for (size_t i = 0; i < self->n; i++) {
        /* 0xff never occurs in UTF-8, so it separates unambiguously. */
        h = cairn_fnv1a64(h, self->pairs[i].name, strlen(self->pairs[i].name));
        h = cairn_fnv1a64(h, "\xff", 1);
        h = cairn_fnv1a64(h, self->pairs[i].value, strlen(self->pairs[i].value));
        h = cairn_fnv1a64(h, "\xff", 1);
    }
    return h;
}

char *cairn_labels_format(const cairn_labels_t *self)
{
    size_t cap = 3;
    for (size_t i = 0; i < self->n; i++)
        cap += strlen(self->pairs[i].name) + 2 * strlen(self->pairs[i].value) + 6;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t pos = 0;
    out[pos++] = '{';
    for (size_t i = 0; i < self->n; i++) {
        if (i) {
            out[pos++] = ',';
            out[pos++] = ' ';
        }
        size_t nl = strlen(self->pairs[i].name);
        memcpy(out + pos, self->pairs[i].name, nl);
        pos += nl;
        out[pos++] = '=';
        out[pos++] = '"';
        for (const char *v = self->pairs[i].value; *v; v++) {
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

json_t *cairn_labels_to_json(const cairn_labels_t *self)
{
    json_t *obj = json_object();
    for (size_t i = 0; obj && i < self->n; i++)
        if (json_object_set_new(obj, self->pairs[i].name, json_string(self->pairs[i].value)) != 0)
            json_decref(obj), obj = NULL;
    return obj;
}

int cairn_labels_from_json(const json_t *obj, cairn_labels_t **out)
{
    cairn_labels_t *self = cairn_labels_new();
    const char *name;
    json_t *value;
    if (!self)
        return -ENOMEM;
    json_object_foreach((json_t *)obj, name, value)
    {
        if (json_is_string(value) && cairn_labels_set(self, name, json_string_value(value)) < 0) {
            cairn_labels_destroy(&self);
            return -ENOMEM;
        }
    }
    *out = self;
    return 0;
}
