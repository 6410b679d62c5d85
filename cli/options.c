/* Command-line parsing for `cairn`: global and per-command options, help
 * text, and building the configuration the same way every daemon does. */
#include "options.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/error.h"

static const cli_opt_t s_globals[] = {
    {"config", "FILE", false, "read configuration from FILE (YAML)", 0},
    {"data-dir", "DIR", false, "where the stack keeps its data (default .cairn)", 0},
    {"set", "KEY=VALUE", false, "override one configuration option (repeatable)", 0},
    {"json", NULL, false, "print machine-readable JSON instead of text", 0},
    {"help", NULL, false, "show this help", 0},
    {NULL, NULL, false, NULL, 0},
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

static int s_find_opt(const cli_command_t *cmd, const char *name, size_t len)
{
    for (int i = 0; cmd->opts && cmd->opts[i].name; i++)
        if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0)
            return i;
    return -1;
}

static int s_find_short(const cli_command_t *cmd, char letter)
{
    for (int i = 0; cmd->opts && cmd->opts[i].name; i++)
        if (cmd->opts[i].short_name && cmd->opts[i].short_name == letter)
            return i;
    return -1;
}

static bool s_is(const char *name, size_t len, const char *want)
{
    return strlen(want) == len && strncmp(name, want, len) == 0;
}

/* Takes the value of option `--name` from "=value" or the next argument. */
static int s_take_value(int argc, char *const argv[], int *i, const char *name, size_t len,
                        const char *inline_value, const char **value_out, char *err, size_t errlen)
{
    if (inline_value) {
        *value_out = inline_value;
        return 0;
    }
    if (*i + 1 >= argc || strncmp(argv[*i + 1], "--", 2) == 0) {
        s_err(err, errlen, "option --%.*s needs a value", (int)len, name);
        return CAIRN_EINVALID;
    }
    *i += 1;
    *value_out = argv[*i];
    return 0;
}

static bool s_has_help(int argc, char *const argv[])
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

int cli_parse(const cli_command_t *cmd, int argc, char *const argv[], cli_args_t *out, char *err,
              size_t errlen)
{
    cli_args_t a;
    memset(&a, 0, sizeof a);
    a.cmd = cmd;
    a.help = s_has_help(argc, argv);
    bool only_positional = false;

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (a.npos >= cmd->max_pos || a.npos >= CLI_MAX_POS) {
                if (a.help)
                    continue;
                s_err(err, errlen, "unexpected argument '%s'", arg);
                return CAIRN_EINVALID;
            }
            a.pos[a.npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0)
            continue;
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const char *inline_value = eq ? eq + 1 : NULL;
        const char *value = NULL;
        int rc;
        if (arg[1] != '-') {
            /* A one-letter alias ("-o FILE") stands for its long option. */
            int sidx = arg[2] == '\0' ? s_find_short(cmd, arg[1]) : -1;
            if (sidx < 0) {
                s_err(err, errlen, "unknown option '%s'", arg);
                return CAIRN_EINVALID;
            }
            name = cmd->opts[sidx].name;
            len = strlen(name);
            inline_value = NULL;
        }

        if (s_is(name, len, "json") || s_is(name, len, "help")) {
            if (inline_value) {
                s_err(err, errlen, "option --%.*s takes no value", (int)len, name);
                return CAIRN_EINVALID;
            }
            if (s_is(name, len, "json"))
                a.json = true;
            continue;
        }
        if (s_is(name, len, "config") || s_is(name, len, "data-dir") || s_is(name, len, "set")) {
            rc = s_take_value(argc, argv, &i, name, len, inline_value, &value, err, errlen);
            if (rc < 0)
                return rc;
            if (s_is(name, len, "config")) {
                a.config_path = value;
            } else if (s_is(name, len, "data-dir")) {
                a.data_dir = value;
            } else {
                if (!strchr(value, '=') || value[0] == '=') {
                    s_err(err, errlen, "option --set needs KEY=VALUE, got '%s'", value);
                    return CAIRN_EINVALID;
                }
                if (a.nsets >= CLI_MAX_SETS) {
                    s_err(err, errlen, "too many --set options (at most %d)", CLI_MAX_SETS);
                    return CAIRN_EINVALID;
                }
                a.sets[a.nsets++] = value;
            }
            if (*value == '\0') {
                s_err(err, errlen, "option --%.*s needs a non-empty value", (int)len, name);
                return CAIRN_EINVALID;
            }
            continue;
        }
        int idx = s_find_opt(cmd, name, len);
        if (idx < 0 || idx >= CLI_MAX_OPTS) {
            s_err(err, errlen, "unknown option '--%.*s'", (int)len, name);
            return CAIRN_EINVALID;
        }
        const cli_opt_t *opt = &cmd->opts[idx];
        if (!opt->metavar) {
            if (inline_value) {
                s_err(err, errlen, "option --%s takes no value", opt->name);
                return CAIRN_EINVALID;
            }
            a.values[idx] = "";
            continue;
        }
        rc = s_take_value(argc, argv, &i, name, len, inline_value, &value, err, errlen);
        if (rc < 0)
            return rc;
        if (*value == '\0') {
            s_err(err, errlen, "option --%s needs a non-empty value", opt->name);
            return CAIRN_EINVALID;
        }
        a.values[idx] = value;
    }

    if (!a.help) {
        if (a.npos < cmd->min_pos) {
            s_err(err, errlen, "missing argument: expected %s", cmd->positional);
            return CAIRN_EINVALID;
        }
        for (int i = 0; cmd->opts && cmd->opts[i].name; i++) {
            if (cmd->opts[i].required && !a.values[i]) {
                s_err(err, errlen, "missing required option --%s %s", cmd->opts[i].name,
                      cmd->opts[i].metavar ? cmd->opts[i].metavar : "");
                return CAIRN_EINVALID;
            }
        }
    }
    *out = a;
    return 0;
}

const char *cli_opt(const cli_args_t *args, const char *name)
{
    int idx = s_find_opt(args->cmd, name, strlen(name));
    return idx >= 0 && idx < CLI_MAX_OPTS ? args->values[idx] : NULL;
}

bool cli_flag(const cli_args_t *args, const char *name)
{
    return cli_opt(args, name) != NULL;
}

const cli_command_t *cli_find_sub(const cli_command_t *cmd, const char *name)
{
    for (size_t i = 0; cmd->subs && cmd->subs[i]; i++) {
        const char *full = cmd->subs[i]->name;
        const char *space = strrchr(full, ' ');
        if (strcmp(space ? space + 1 : full, name) == 0)
            return cmd->subs[i];
    }
    return NULL;
}

static void s_print_opts(const cli_opt_t *opts, FILE *out)
{
    for (int i = 0; opts && opts[i].name; i++) {
        char left[64];
        char alias[8] = "";
        if (opts[i].short_name)
            snprintf(alias, sizeof alias, "-%c, ", opts[i].short_name);
        snprintf(left, sizeof left, "%s--%s%s%s", alias, opts[i].name, opts[i].metavar ? " " : "",
                 opts[i].metavar ? opts[i].metavar : "");
        fprintf(out, "  %-22s %s%s\n", left, opts[i].help, opts[i].required ? " (required)" : "");
    }
}

void cli_print_global_options(FILE *out)
{
    fprintf(out, "Global options:\n");
    s_print_opts(s_globals, out);
}

/* "log prove INDEX [--size N]": name, positionals and options. */
static void s_print_synopsis(const cli_command_t *cmd, FILE *out)
{
    fprintf(out, "%s", cmd->name);
    if (cmd->positional && *cmd->positional)
        fprintf(out, " %s", cmd->positional);
    for (int i = 0; cmd->opts && cmd->opts[i].name; i++) {
        const cli_opt_t *o = &cmd->opts[i];
        char flag[64];
        if (o->short_name)
            snprintf(flag, sizeof flag, "-%c", o->short_name);
        else
            snprintf(flag, sizeof flag, "--%s", o->name);
        fprintf(out, " %s%s%s%s%s", o->required ? "" : "[", flag, o->metavar ? " " : "",
                o->metavar ? o->metavar : "", o->required ? "" : "]");
    }
}

void cli_print_command_help(const cli_command_t *cmd, FILE *out)
{
    fprintf(out, "Usage: cairn ");
    s_print_synopsis(cmd, out);
    fprintf(out, "\n\n%s\n\n", cmd->summary);
    if (cmd->subs) {
        fprintf(out, "Subcommands:\n");
        for (size_t i = 0; cmd->subs[i]; i++) {
            fprintf(out, "  cairn ");
            s_print_synopsis(cmd->subs[i], out);
            fprintf(out, "\n      %s\n", cmd->subs[i]->summary);
        }
        fprintf(out, "Run 'cairn %s SUBCOMMAND --help' for a subcommand's options.\n\n", cmd->name);
    }
    if (cmd->opts && cmd->opts[0].name) {
        fprintf(out, "Options:\n");
        s_print_opts(cmd->opts, out);
        fprintf(out, "\n");
    }
    cli_print_global_options(out);
    if (cmd->details && *cmd->details)
        fprintf(out, "\n%s", cmd->details);
}

int cli_usage_error(const cli_command_t *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cairn %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nRun 'cairn %s --help' for usage.\n", cmd->name);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_load_config(const cli_args_t *args, cairn_config_t **out, char *err, size_t errlen)
{
    int rc = 0;
    cairn_config_t *cfg = cairn_config_new();
    if (!cfg) {
        s_err(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (args->config_path && (rc = cairn_config_load(cfg, args->config_path, err, errlen)) < 0)
        goto out;
    if (args->data_dir &&
        (rc = cairn_config_set(cfg, "cairn.data_dir", args->data_dir, err, errlen)) < 0)
        goto out;
    for (size_t i = 0; i < args->nsets; i++) {
        char key[128];
        const char *eq = strchr(args->sets[i], '=');
        size_t klen = eq ? (size_t)(eq - args->sets[i]) : 0;
        if (!eq || klen == 0 || klen >= sizeof key) {
            s_err(err, errlen, "--set needs KEY=VALUE, got '%s'", args->sets[i]);
            rc = CAIRN_ECONFIG;
            goto out;
        }
        memcpy(key, args->sets[i], klen);
        key[klen] = '\0';
        if ((rc = cairn_config_set(cfg, key, eq + 1, err, errlen)) < 0)
            goto out;
    }
    if ((rc = cairn_config_finalize(cfg, err, errlen)) < 0)
        goto out;
    /* Commands talk on the bus as "cli"; keygen makes the keys, and up's
     * daemons load their own. */
    bool own_keys = args->cmd && (strcmp(args->cmd->name, "keygen") == 0 ||
                                  strcmp(args->cmd->name, "up") == 0);
    if (!own_keys && (rc = cairn_bus_secure(cfg, "cli", err, errlen)) < 0)
        goto out;
    *out = cfg;
    cfg = NULL;
out:
    cairn_config_destroy(&cfg);
    return rc < 0 ? CAIRN_ECONFIG : 0;
}

int cli_parse_u64(const char *text, uint64_t *out)
{
    if (!text || text[0] < '0' || text[0] > '9' || (text[0] == '0' && text[1] != '\0'))
        return CAIRN_EINVALID;
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return CAIRN_EINVALID;
        unsigned digit = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return CAIRN_EINVALID;
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

int cli_parse_seconds(const char *text, int64_t *ms_out)
{
    if (!text || !*text)
        return CAIRN_EINVALID;
    char *end = NULL;
    errno = 0;
    double secs = strtod(text, &end);
    if (end != text && *end == '\0') {
        if (errno || !isfinite(secs) || secs < 0 || secs > 365.0 * 86400)
            return CAIRN_EINVALID;
        *ms_out = (int64_t)(secs * 1000.0 + 0.5);
        return 0;
    }
    int64_t ms;
    if (cairn_parse_duration_ms(text, &ms) < 0)
        return CAIRN_EINVALID;
    *ms_out = ms;
    return 0;
}
