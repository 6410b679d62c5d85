/* Configuration: values for every option in the table, loaded from YAML
 * (libfyaml) with file:line:col errors, typed getters, {data_dir} expansion. */
#include "cairn/config.h"

#include <assert.h>
#include <errno.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "cairn/yaml.h"

/* Largest configuration file read: far above any real one. */
#define S_CONFIG_MAX_BYTES (1u << 20)

struct cairn_config_t {
    const cairn_option_t *options; /* the option table */
    size_t count;                  /* number of options */
    char **text;                   /* current value of each option, as text */
    int64_t *num;                  /* parsed value for INT/BOOL/DURATION/SIZE */
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

static int s_find(const cairn_config_t *self, const char *key)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->options[i].key, key) == 0)
            return (int)i;
    return -1;
}

int cairn_parse_duration_ms(const char *text, int64_t *out_ms)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || v < 0)
        return CAIRN_EPARSE;
    int64_t mult;
    if (strcmp(end, "ms") == 0)
        mult = 1;
    else if (strcmp(end, "s") == 0 || *end == '\0')
        mult = 1000;
    else if (strcmp(end, "m") == 0)
        mult = 60000;
    else if (strcmp(end, "h") == 0)
        mult = 3600000;
    else if (strcmp(end, "d") == 0)
        mult = 86400000;
    else if (strcmp(end, "w") == 0)
        mult = 7 * 86400000LL;
    else
        return CAIRN_EPARSE;
    if (v > INT64_MAX / mult)
        return CAIRN_EPARSE;
    *out_ms = v * mult;
    return 0;
}

static int s_parse_size(const char *text, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || v < 0)
        return CAIRN_EPARSE;
    int shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'M')
        shift = 20;
    else if (*end == 'G')
        shift = 30;
    else if (*end != '\0')
        return CAIRN_EPARSE;
    if (shift && end[1] != '\0')
        return CAIRN_EPARSE;
    if (v > (INT64_MAX >> shift))
        return CAIRN_EPARSE;
    *out = (int64_t)v << shift;
    return 0;
}

/* Parses text for option i into num; describes a failure in err. */
static int s_parse_value(const cairn_option_t *opt, const char *text, int64_t *num, char *err,
                         size_t errlen)
{
    int rc = 0;
    const char *expect = NULL;
    switch (opt->type) {
    case CAIRN_OPT_STRING:
        return 0;
    case CAIRN_OPT_BOOL:
        if (strcmp(text, "true") == 0)
            *num = 1;
        else if (strcmp(text, "false") == 0)
            *num = 0;
        else {
            rc = CAIRN_EPARSE;
            expect = "true or false";
        }
        break;
    case CAIRN_OPT_INT: {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno || end == text || *end) {
            rc = CAIRN_EPARSE;
            expect = "an integer";
        } else {
            *num = v;
        }
        break;
    }
    case CAIRN_OPT_DURATION:
        rc = cairn_parse_duration_ms(text, num);
        expect = "a duration such as 250ms, 5s, 2m, 1h or 7d";
        break;
    case CAIRN_OPT_SIZE:
        rc = s_parse_size(text, num);
        expect = "a size such as 4096, 64k, 25M or 1G";
        break;
    }
    if (rc < 0) {
        s_err(err, errlen, "'%s' must be %s, not '%s'", opt->key, expect, text);
        return CAIRN_ECONFIG;
    }
    if (opt->type != CAIRN_OPT_BOOL && (opt->min || opt->max) &&
        (*num < opt->min || (opt->max && *num > opt->max))) {
        if (opt->max)
            s_err(err, errlen, "'%s' is %s, outside %lld..%lld", opt->key, text,
                  (long long)opt->min, (long long)opt->max);
        else
            s_err(err, errlen, "'%s' is %s, below the minimum %lld", opt->key, text,
                  (long long)opt->min);
        return CAIRN_ECONFIG;
    }
    return 0;
}

static int s_set_index(cairn_config_t *self, int i, const char *value, char *err, size_t errlen)
{
    int64_t num = 0;
    int rc = s_parse_value(&self->options[i], value, &num, err, errlen);
    if (rc < 0)
        return rc;
    char *copy = strdup(value);
    if (!copy)
        return -ENOMEM;
    free(self->text[i]);
    self->text[i] = copy;
    self->num[i] = num;
    return 0;
}

cairn_config_t *cairn_config_new(void)
{
    cairn_config_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->options = cairn_config_options(&self->count);
    self->text = calloc(self->count, sizeof *self->text);
    self->num = calloc(self->count, sizeof *self->num);
    if (!self->text || !self->num)
        goto fail;
    for (size_t i = 0; i < self->count; i++) {
        char err[256];
        if (s_set_index(self, (int)i, self->options[i].def, err, sizeof err) < 0)
            goto fail; /* a bad default is a programmer error caught by tests */
    }
    return self;
fail:
    cairn_config_destroy(&self);
    return NULL;
}

void cairn_config_destroy(cairn_config_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cairn_config_t *self = *self_p;
    for (size_t i = 0; self->text && i < self->count; i++)
        free(self->text[i]);
    free(self->text);
    free(self->num);
    free(self);
    *self_p = NULL;
}

int cairn_config_set(cairn_config_t *self, const char *key, const char *value, char *err,
                     size_t errlen)
{
    int i = s_find(self, key);
    if (i < 0) {
        s_err(err, errlen, "unknown option '%s'", key);
        return CAIRN_ECONFIG;
    }
    return s_set_index(self, i, value, err, errlen);
}

static void s_mark(struct fy_node *key, int *line, int *col)
{
    *line = 0;
    *col = 0;
    struct fy_token *tok = key ? fy_node_get_scalar_token(key) : NULL;
    const struct fy_mark *m = tok ? fy_token_start_mark(tok) : NULL;
    if (m) {
        *line = m->line + 1;
        *col = m->column + 1;
    }
}

/* Is there any option in this section? */
static int s_section_known(const cairn_config_t *self, const char *section)
{
    size_t n = strlen(section);
    for (size_t i = 0; i < self->count; i++)
        if (strncmp(self->options[i].key, section, n) == 0 && self->options[i].key[n] == '.')
            return 1;
    return 0;
}

static int s_load_section(cairn_config_t *self, const char *path, const char *section,
                          struct fy_node *map, char *err, size_t errlen)
{
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &iter)) != NULL) {
        struct fy_node *k = fy_node_pair_key(pair);
        struct fy_node *v = fy_node_pair_value(pair);
        int line, col;
        s_mark(k, &line, &col);
        const char *name = k && fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
        if (!name) {
            s_err(err, errlen, "%s:%d:%d: keys in section '%s' must be plain names", path, line,
                  col, section);
            return CAIRN_ECONFIG;
        }
        char key[128];
        snprintf(key, sizeof key, "%s.%s", section, name);
        int i = s_find(self, key);
        if (i < 0) {
            s_err(err, errlen, "%s:%d:%d: unknown key '%s' in section '%s'", path, line, col,
                  name, section);
            return CAIRN_ECONFIG;
        }
        const char *value = v && fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : NULL;
        if (!value) {
            s_err(err, errlen, "%s:%d:%d: '%s' must be a single value", path, line, col, key);
            return CAIRN_ECONFIG;
        }
        char why[256];
        if (s_set_index(self, i, value, why, sizeof why) < 0) {
            s_err(err, errlen, "%s:%d:%d: %s", path, line, col, why);
            return CAIRN_ECONFIG;
        }
    }
    return 0;
}

int cairn_config_load(cairn_config_t *self, const char *path, char *err, size_t errlen)
{
    int rc = 0;
    struct fy_diag *diag = NULL;
    struct fy_document *doc = NULL;
    char *text = NULL; /* the file; the document points into it */
    size_t len = 0;
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.colorize = false;
    diag = fy_diag_create(&dcfg);
    if (!diag)
        return -ENOMEM;
    fy_diag_set_collect_errors(diag, true);
    struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2, .diag = diag};
    if ((rc = cairn_read_file(path, S_CONFIG_MAX_BYTES, &text, &len)) < 0) {
        if (rc == CAIRN_ETOOLARGE)
            s_err(err, errlen, "%s: larger than %u bytes; not a configuration file", path,
                  S_CONFIG_MAX_BYTES);
        else
            s_err(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
        goto out;
    }
    /* YAML is Unicode text; libfyaml can loop forever on some invalid
     * UTF-8, so it never sees any. */
    if (!cairn_utf8_valid(text, len)) {
        s_err(err, errlen, "%s: not valid UTF-8 text", path);
        rc = CAIRN_ECONFIG;
        goto out;
    }
    doc = fy_document_build_from_string(&pcfg, text, len);
    if (!doc) {
        void *it = NULL;
        struct fy_diag_error *e = fy_diag_errors_iterate(diag, &it);
        if (e)
            s_err(err, errlen, "%s:%d:%d: %s", path, e->line, e->column, e->msg);
        else
            s_err(err, errlen, "%s: not valid YAML", path);
        rc = CAIRN_ECONFIG;
        goto out;
    }
    int mline, mcol;
    if ((rc = cairn_yaml_find_misread(doc, &mline, &mcol)) != 0) {
        if (rc > 0) {
            s_err(err, errlen, "%s:%d:%d: %s", path, mline + 1, mcol + 1, CAIRN_YAML_MISREAD_HINT);
            rc = CAIRN_ECONFIG;
        }
        goto out;
    }
    struct fy_node *root = fy_document_root(doc);
    if (!root)
        goto out; /* an empty file keeps every default */
    if (!fy_node_is_mapping(root)) {
        s_err(err, errlen, "%s:1:1: the configuration must be a mapping of sections", path);
        rc = CAIRN_ECONFIG;
        goto out;
    }
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(root, &iter)) != NULL) {
        struct fy_node *k = fy_node_pair_key(pair);
        struct fy_node *v = fy_node_pair_value(pair);
        int line, col;
        s_mark(k, &line, &col);
        const char *section = k && fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
        if (!section || !s_section_known(self, section)) {
            s_err(err, errlen,
                  "%s:%d:%d: unknown section '%s' (known: cairn, log, bus, ingest, ledger, "
                  "policy, notify)",
                  path, line, col, section ? section : "?");
            rc = CAIRN_ECONFIG;
            goto out;
        }
        if (v && fy_node_is_scalar(v) && fy_node_get_scalar0(v) &&
            *fy_node_get_scalar0(v) == '\0')
            continue; /* "ingest:" with nothing under it */
        if (!v || !fy_node_is_mapping(v)) {
            s_err(err, errlen, "%s:%d:%d: section '%s' must be a mapping of keys", path, line,
                  col, section);
            rc = CAIRN_ECONFIG;
            goto out;
        }
        if ((rc = s_load_section(self, path, section, v, err, errlen)) < 0)
            goto out;
    }
out:
    fy_document_destroy(doc);
    fy_diag_destroy(diag);
    free(text);
    return rc;
}

int cairn_config_finalize(cairn_config_t *self, char *err, size_t errlen)
{
    const char *data_dir = cairn_config_str(self, "cairn.data_dir");
    if (!*data_dir) {
        s_err(err, errlen, "'cairn.data_dir' must not be empty");
        return CAIRN_ECONFIG;
    }
    static const char token[] = "{data_dir}";
    if (strstr(data_dir, token)) {
        s_err(err, errlen, "'cairn.data_dir' cannot contain {data_dir} (it is what {data_dir} "
                           "stands for); give a directory path");
        return CAIRN_ECONFIG;
    }
    for (size_t i = 0; i < self->count; i++) {
        if (self->options[i].type != CAIRN_OPT_STRING)
            continue;
        const char *at = strstr(self->text[i], token);
        if (!at)
            continue;
        size_t pre = (size_t)(at - self->text[i]);
        size_t n = strlen(self->text[i]) + strlen(data_dir) + 1;
        char *v = malloc(n);
        if (!v)
            return -ENOMEM;
        snprintf(v, n, "%.*s%s%s", (int)pre, self->text[i], data_dir, at + strlen(token));
        free(self->text[i]);
        self->text[i] = v;
    }
    return 0;
}

const char *cairn_config_str(const cairn_config_t *self, const char *key)
{
    int i = s_find(self, key);
    assert(i >= 0 && "unknown configuration key");
    return self->text[i];
}

int64_t cairn_config_int(const cairn_config_t *self, const char *key)
{
    int i = s_find(self, key);
    assert(i >= 0 && "unknown configuration key");
    return self->num[i];
}

bool cairn_config_bool(const cairn_config_t *self, const char *key)
{
    return cairn_config_int(self, key) != 0;
}

void cairn_config_write_example(FILE *out)
{
    size_t count;
    const cairn_option_t *opts = cairn_config_options(&count);
    fprintf(out, "# Cairn configuration. Every key is optional; shown with its default.\n");
    char section[64] = "";
    for (size_t i = 0; i < count; i++) {
        const char *dot = strchr(opts[i].key, '.');
        size_t slen = (size_t)(dot - opts[i].key);
        if (strlen(section) != slen || strncmp(section, opts[i].key, slen) != 0) {
            snprintf(section, sizeof section, "%.*s", (int)slen, opts[i].key);
            fprintf(out, "\n%s:\n", section);
        }
        fprintf(out, "  # %s\n  %s: \"%s\"\n", opts[i].help, dot + 1, opts[i].def);
    }
}
