/* cairn-notify: delivers policy verdicts and alerts from the ledger to the
 * configured receivers and records each delivery in the ledger. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/signals.h"
#include "engine.h"

#define S_POLL_MS 200

static const char s_usage[] =
    "usage: cairn-notify [--config FILE] [--data-dir DIR] [--set section.key=value]...\n"
    "\n"
    "Routes verdicts and alerts from the Cairn ledger to receivers (Slack, signed\n"
    "webhooks, e-mail, Alertmanager, the in-platform feed, the notifications file) with\n"
    "the routing tree in notify.routes_file, retries durably, and records every delivery\n"
    "attempt in the ledger.\n"
    "\n"
    "  --config FILE           read settings from this YAML file\n"
    "  --data-dir DIR          set cairn.data_dir (default .cairn)\n"
    "  --set section.key=value override one setting (repeatable)\n"
    "  --help                  show this help\n";

/* Builds the configuration from the command line: file first, then overrides
 * in order. Returns 0, 1 when --help was shown, or CAIRN_ECONFIG. */
static int s_configure(int argc, char **argv, cairn_config_t *cfg, char *err, size_t errlen)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"data-dir", required_argument, NULL, 'd'},
                                         {"set", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *file = NULL;
    int c;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h')
            return 1;
        if (c == 'c')
            file = optarg;
        else if (c != 'd' && c != 's') {
            snprintf(err, errlen, "unknown or incomplete option '%s' (see --help)",
                     argv[optind - 1]);
            return CAIRN_ECONFIG;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
        return CAIRN_ECONFIG;
    }
    if (file && cairn_config_load(cfg, file, err, errlen) < 0)
        return CAIRN_ECONFIG;
    /* Overrides apply in command-line order, over the file. */
    optind = 0; /* glibc: rescan from the start */
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd' && cairn_config_set(cfg, "cairn.data_dir", optarg, err, errlen) < 0)
            return CAIRN_ECONFIG;
        if (c == 's') {
            char *eq = strchr(optarg, '=');
            if (!eq) {
                snprintf(err, errlen, "--set needs section.key=value, got '%s'", optarg);
                return CAIRN_ECONFIG;
            }
            *eq = '\0';
            int rc = cairn_config_set(cfg, optarg, eq + 1, err, errlen);
            *eq = '=';
            if (rc < 0)
                return CAIRN_ECONFIG;
        }
    }
    return cairn_config_finalize(cfg, err, errlen) < 0 ? CAIRN_ECONFIG : 0;
}

int main(int argc, char **argv)
{
    cairn_config_t *cfg = cairn_config_new();
    cairn_notify_engine_t *engine = NULL;
    char err[512] = "";
    int status = 1;

    if (!cfg) {
        fprintf(stderr, "cairn-notify: out of memory\n");
        return 1;
    }
    int rc = s_configure(argc, argv, cfg, err, sizeof(err));
    if (rc != 0) {
        if (rc == 1)
            fputs(s_usage, stdout);
        else
            fprintf(stderr, "cairn-notify: %s\n", err);
        status = rc == 1 ? 0 : 2;
        goto out;
    }
    cairn_log_init("notify", cairn_config_str(cfg, "log.level"));
    cairn_signals_install();
    if ((rc = cairn_notify_engine_new(cfg, &engine, err, sizeof(err))) < 0) {
        if (rc == CAIRN_ECONFIG) {
            fprintf(stderr, "cairn-notify: %s\n", err);
            status = 2;
        }
        CAIRN_ERROR("cannot start notify", "error=%s",
                    cairn_log_quote(*err ? err : cairn_strerror(rc)));
        goto out;
    }
    CAIRN_INFO("notify started", "routes=%s state=%s",
               cairn_log_quote(*cairn_config_str(cfg, "notify.routes_file")
                                   ? cairn_config_str(cfg, "notify.routes_file")
                                   : "(built in: everything to notify.file)"),
               cairn_log_quote(cairn_config_str(cfg, "notify.state_path")));
    while (!cairn_signals_stop_requested()) {
        if ((rc = cairn_notify_engine_run_once(engine, S_POLL_MS)) < 0) {
            CAIRN_ERROR("notify state failed; stopping", "error=%s",
                        cairn_log_quote(cairn_strerror(rc)));
            goto out;
        }
    }
    CAIRN_INFO("notify stopped", NULL);
    status = 0;
out:
    cairn_notify_engine_destroy(&engine);
    cairn_config_destroy(&cfg);
    return status;
}
