/* Command-line options shared by every `cairn` command.
 *
 * Each command declares its own options and positional arguments in a
 * cli_command_t table; cli_parse() reads them together with the global
 * options (--config, --data-dir, --set, --json, --help), and the same table
 * drives `cairn CMD --help`. Exit codes follow DESIGN §5. */
#ifndef CAIRN_CLI_OPTIONS_H
#define CAIRN_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cairn/config.h"

/* Exit codes (DESIGN §5): the same meaning for every command. */
enum {
    CLI_EXIT_OK = 0,          /* success; for `gate`: allowed */
    CLI_EXIT_DENIED = 1,      /* denied, rejected, or failed */
    CLI_EXIT_USAGE = 2,       /* usage or configuration error */
    CLI_EXIT_PENDING = 3,     /* pending, manual, or timed out */
    CLI_EXIT_UNREACHABLE = 4, /* a daemon cannot be reached: run `cairn up` */
};

#define CLI_MAX_OPTS 12 /* options one command may declare */
#define CLI_MAX_POS 16  /* positional arguments one command may take */
#define CLI_MAX_SETS 32 /* --set overrides on one command line */

/* One option of a command. */
typedef struct {
    const char *name;    /* long name without dashes, e.g. "gate" */
    const char *metavar; /* value placeholder shown in help ("G"); NULL for a flag */
    bool required;       /* the command cannot run without it */
    const char *help;    /* one line for `cairn CMD --help` */
    char short_name;     /* one-letter alias ('o' for -o), or 0 for none */
} cli_opt_t;

typedef struct cli_args_t cli_args_t;
typedef struct cli_command cli_command_t;

/* One command: its synopsis, help and entry point. A command with
 * subcommands (`cairn log prove ...`) has no run of its own: the first
 * positional argument names the subcommand, whose name is "log prove". */
struct cli_command {
    const char *name;                   /* "gate", or "log prove" for a subcommand */
    const char *positional;             /* positional synopsis, e.g. "CHANGE" ("" for none) */
    const char *summary;                /* one line in `cairn --help` */
    const char *details;                /* text after the options in `cairn CMD --help` */
    const cli_opt_t *opts;              /* own options, terminated by an entry with name NULL */
    size_t min_pos;                     /* positional arguments required */
    size_t max_pos;                     /* positional arguments allowed */
    int (*run)(const cli_args_t *args); /* runs the command, returns an exit code */
    const cli_command_t *const *subs;   /* subcommands, NULL-terminated; NULL for none */
};

/* A parsed command line. Strings point into argv. */
struct cli_args_t {
    const cli_command_t *cmd;         /* the command being run */
    const char *config_path;          /* --config FILE, or NULL */
    const char *data_dir;             /* --data-dir DIR, or NULL */
    const char *sets[CLI_MAX_SETS];   /* --set KEY=VALUE, in command-line order */
    size_t nsets;                     /* how many sets[] are used */
    bool json;                        /* --json */
    bool help;                        /* --help or -h */
    const char *values[CLI_MAX_OPTS]; /* command options by table position; "" for a given flag */
    const char *pos[CLI_MAX_POS];     /* positional arguments */
    size_t npos;                      /* how many pos[] are used */
};

/* Parses argv (the arguments after the command name) for cmd into *out.
 * On a usage error returns CAIRN_EINVALID with a one-line message in err.
 * When --help is present, only unknown options are errors. */
int cli_parse(const cli_command_t *cmd, int argc, char *const argv[], cli_args_t *out, char *err,
              size_t errlen);

/* The value of the command's option name, or NULL when absent. */
const char *cli_opt(const cli_args_t *args, const char *name);

/* True when the command's flag name was given. */
bool cli_flag(const cli_args_t *args, const char *name);

/* The subcommand of cmd called name ("prove" for "log prove"), or NULL. */
const cli_command_t *cli_find_sub(const cli_command_t *cmd, const char *name);

/* Writes `cairn CMD --help` (for a command with subcommands, their list). */
void cli_print_command_help(const cli_command_t *cmd, FILE *out);

/* Writes the global options block used by every help text. */
void cli_print_global_options(FILE *out);

/* Prints "cairn CMD: <message>" and a pointer to --help on stderr; returns
 * CLI_EXIT_USAGE so callers can `return cli_usage_error(...)`. */
int cli_usage_error(const cli_command_t *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Builds the configuration: defaults, then --config, --data-dir and --set in
 * that order, then finalized. On error returns CAIRN_ECONFIG with a message. */
int cli_load_config(const cli_args_t *args, cairn_config_t **out, char *err, size_t errlen);

/* Parses a non-negative decimal integer (no sign, no spaces, no leading
 * zeros other than "0" itself) that fits in 64 bits; CAIRN_EINVALID otherwise. */
int cli_parse_u64(const char *text, uint64_t *out);

/* Parses a wait time: plain seconds ("30", "2.5") or a duration ("500ms",
 * "2m"). Returns CAIRN_EINVALID for anything else or a negative value. */
int cli_parse_seconds(const char *text, int64_t *ms_out);

#endif
