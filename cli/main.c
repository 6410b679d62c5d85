/* `cairn`: the one command-line tool. Finds the command among the arguments
 * (global options may come before or after it), parses, and runs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <czmq.h>

#include "cmd_ingest.h"
#include "cmd_notify.h"
#include "cmd_policy.h"
#include "commands.h"
#include "options.h"

const cli_command_t *const cli_commands[] = {
    &cli_cmd_up,  &cli_cmd_submit, &cli_cmd_approve, &cli_cmd_status, &cli_cmd_gate, &cli_cmd_trail,
    &cli_cmd_log, &cli_cmd_export, &cli_cmd_verify,  &cli_cmd_keygen, &cli_cmd_policy,
    &cli_cmd_notify, &cli_cmd_inbox, &cli_cmd_ingest, NULL,
};

static void s_print_help(FILE *out)
{
    fprintf(out, "Usage: cairn [GLOBAL OPTIONS] COMMAND [ARGS]\n\n"
                 "Cairn decides, records and proves how every change reached production.\n\n"
                 "Commands:\n");
    for (size_t i = 0; cli_commands[i]; i++)
        fprintf(out, "  %-9s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
    fprintf(out, "\n");
    cli_print_global_options(out);
    fprintf(out, "\nExit codes: 0 ok / allowed, 1 denied or failed, 2 usage or configuration "
                 "error,\n            3 pending or timed out, 4 cannot reach the daemons "
                 "(run `cairn up`).\n"
                 "Run 'cairn COMMAND --help' for a command's options.\n");
}

static const cli_command_t *s_find(const char *name)
{
    for (size_t i = 0; cli_commands[i]; i++)
        if (strcmp(cli_commands[i]->name, name) == 0)
            return cli_commands[i];
    return NULL;
}

/* Index of the command name in argv at or after start, skipping global
 * options and their values; 0 when there is none. */
static int s_command_index(int argc, char **argv, int start, int *help_out)
{
    for (int i = start; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            return 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            *help_out = 1;
            continue;
        }
        if (strcmp(a, "--config") == 0 || strcmp(a, "--data-dir") == 0 || strcmp(a, "--set") == 0) {
            i++;
            continue;
        }
        if (a[0] == '-')
            continue;
        return i;
    }
    return 0;
}

/* "vkey, checkpoint, prove" for the subcommands of cmd. */
static void s_sub_names(const cli_command_t *cmd, char *buf, size_t buflen)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; cmd->subs[i] && pos < buflen; i++) {
        const char *space = strrchr(cmd->subs[i]->name, ' ');
        int n = snprintf(buf + pos, buflen - pos, "%s%s", i ? ", " : "",
                         space ? space + 1 : cmd->subs[i]->name);
        if (n < 0)
            break;
        pos += (size_t)n;
    }
}

int main(int argc, char **argv)
{
    /* Commands are short-lived: Ctrl-C should simply end them. */
    zsys_handler_set(NULL);

    int help = 0;
    int ci = s_command_index(argc, argv, 1, &help);
    if (ci == 0) {
        s_print_help(help ? stdout : stderr);
        return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    const char *name = argv[ci];
    if (strcmp(name, "help") == 0) {
        const cli_command_t *cmd = ci + 1 < argc ? s_find(argv[ci + 1]) : NULL;
        if (ci + 1 < argc && !cmd) {
            fprintf(stderr, "cairn: unknown command '%s'. Run 'cairn --help' for the list.\n",
                    argv[ci + 1]);
            return CLI_EXIT_USAGE;
        }
        if (cmd && cmd->subs && ci + 2 < argc && cli_find_sub(cmd, argv[ci + 2]))
            cmd = cli_find_sub(cmd, argv[ci + 2]);
        if (cmd)
            cli_print_command_help(cmd, stdout);
        else
            s_print_help(stdout);
        return CLI_EXIT_OK;
    }
    const cli_command_t *cmd = s_find(name);
    if (!cmd) {
        fprintf(stderr, "cairn: unknown command '%s'. Run 'cairn --help' for the list.\n", name);
        return CLI_EXIT_USAGE;
    }

    /* A command with subcommands: the next argument names one. */
    int si = 0;
    if (cmd->subs) {
        si = s_command_index(argc, argv, ci + 1, &help);
        if (si == 0 && help) {
            cli_print_command_help(cmd, stdout);
            return CLI_EXIT_OK;
        }
        char names[256];
        s_sub_names(cmd, names, sizeof names);
        if (si == 0)
            return cli_usage_error(cmd, "missing subcommand: expected one of %s", names);
        const cli_command_t *sub = cli_find_sub(cmd, argv[si]);
        if (!sub)
            return cli_usage_error(cmd, "unknown subcommand '%s': expected one of %s", argv[si],
                                   names);
        cmd = sub;
    }

    /* The command sees global options given before it as if they followed it. */
    char **rest = calloc((size_t)argc, sizeof *rest);
    if (!rest) {
        fprintf(stderr, "cairn: out of memory\n");
        return CLI_EXIT_DENIED;
    }
    int n = 0;
    for (int i = 1; i < argc; i++)
        if (i != ci && i != si)
            rest[n++] = argv[i];

    int code;
    char err[512];
    cli_args_t args;
    if (cli_parse(cmd, n, rest, &args, err, sizeof err) < 0)
        code = cli_usage_error(cmd, "%s", err);
    else if (args.help) {
        cli_print_command_help(cmd, stdout);
        code = CLI_EXIT_OK;
    } else
        code = cmd->run(&args);
    free(rest);
    return code;
}
