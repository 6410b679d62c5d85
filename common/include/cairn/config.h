/* Configuration: one YAML file with a section per daemon. Every option is
 * declared once in a table (name, type, default, help) in config_table.c;
 * the table drives parsing, defaults, validation and `cairn config`'s example
 * output. No file is needed: every option has a default.
 *
 * Keys are addressed as "section.name", e.g. "ingest.http_port".
 * String defaults may contain "{data_dir}", replaced by the value of
 * "cairn.data_dir" when the configuration is finalized. */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    CAIRN_OPT_STRING,
    CAIRN_OPT_INT,      /* signed 64-bit integer */
    CAIRN_OPT_BOOL,     /* true / false */
    CAIRN_OPT_DURATION, /* "250ms", "5s", "2m", "1h", "7d"; stored as milliseconds */
    CAIRN_OPT_SIZE,     /* "512", "64k", "25M", "1G" (powers of 1024); stored as bytes */
} cairn_opt_type_t;

typedef struct {
    const char *key;         /* "section.name" */
    cairn_opt_type_t type;   /* how the value is parsed */
    const char *def;         /* default, in the same text form as the YAML value */
    int64_t min, max;        /* inclusive bounds for INT/DURATION/SIZE (0,0 = unbounded) */
    const char *help;        /* one line for people */
} cairn_option_t;

typedef struct cairn_config_t cairn_config_t;

/* The option table and its length. */
const cairn_option_t *cairn_config_options(size_t *count);

/* A configuration holding every default. */
cairn_config_t *cairn_config_new(void);
void cairn_config_destroy(cairn_config_t **self_p);

/* Reads a YAML file over the current values. Unknown sections or keys, wrong
 * types and out-of-range values are errors; the first one is described in
 * err as "file:line:col: ..." and CAIRN_ECONFIG returned. */
int cairn_config_load(cairn_config_t *self, const char *path, char *err, size_t errlen);

/* Sets one option from text (e.g. a command-line override). */
int cairn_config_set(cairn_config_t *self, const char *key, const char *value, char *err,
                     size_t errlen);

/* Expands "{data_dir}" in every string value. Call once after load/set, before
 * reading values. Idempotent. */
int cairn_config_finalize(cairn_config_t *self, char *err, size_t errlen);

/* Typed getters. The key must exist in the table (asserted: a programmer error). */
const char *cairn_config_str(const cairn_config_t *self, const char *key);
int64_t cairn_config_int(const cairn_config_t *self, const char *key);
bool cairn_config_bool(const cairn_config_t *self, const char *key);

/* Writes an example YAML file with every option, its default and help. */
void cairn_config_write_example(FILE *out);

/* Parses durations ("250ms", "5s", "72h", "7d", "2w") to milliseconds. */
int cairn_parse_duration_ms(const char *text, int64_t *out_ms);

#endif
