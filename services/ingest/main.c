/* cairn-ingest: receives CloudEvents and native webhooks over HTTP (and the
 * ZeroMQ submit socket), authenticates and normalizes them and records them
 * in the ledger. Parses arguments, loads the configuration, and runs the
 * ingest engine until SIGINT or SIGTERM. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cairn/config.h"
#include "cairn/log.h"
#include "cairn/signals.h"
#include "engine.h"

enum { S_OPT_CONFIG = 1, S_OPT_DATA_DIR, S_OPT_SET, S_OPT_HELP };

static const struct option s_long_options[] = {
    {"config", required_argument, NULL, S_OPT_CONFIG},
    {"data-dir", required_argument, NULL, S_OPT_DATA_DIR},
    {"set", required_argument, NULL, S_OPT_SET},
    {"help", no_argument, NULL, S_OPT_HELP},
    {NULL, 0, NULL, 0},
};

static void s_usage(FILE *out)
{
    size_t count = 0;
    const cairn_option_t *opts = cairn_config_options(&count);
    fprintf(
        out,
        "usage: cairn-ingest [--config FILE] [--data-dir DIR] [--set section.key=value]...\n"
        "\n"
        "Runs Cairn ingest: accepts CloudEvents (structured, batched and binary modes) on\n"
        "POST /v1/events and on the ZeroMQ submit socket, and GitHub, GitLab, Jenkins,\n"
        "ServiceNow, Jira and PagerDuty webhooks on POST /v1/webhooks/<source>;\n"
        "authenticates and normalizes them, and answers 202 once they are durable: in the\n"
        "ledger, or in the local spool ({data_dir}/ingest/spool) while the ledger does not\n"
        "answer, drained into the ledger in order. Answers GitHub deployment protection\n"
        "rules from the policy when ingest.github_token is set. Also serves GET /healthz\n"
        "and GET /metrics.\n"
        "\n"
        "  --config FILE            YAML configuration (optional; every setting has a default)\n"
        "  --data-dir DIR           sets cairn.data_dir\n"
        "  --set section.key=value  overrides one setting (repeatable)\n"
        "  --help                   prints this help\n"
        "\n"
        "settings ingest reads (default):\n");
    for (size_t i = 0; i < count; i++) {
        const char *k = opts[i].key;
        if (strncmp(k, "ingest.", 7) == 0 || strcmp(k, "bus.ledger_api") == 0 ||
            strcmp(k, "bus.ingest_submit") == 0 || strcmp(k, "bus.request_timeout") == 0 ||
            strcmp(k, "bus.policy_query") == 0 || strcmp(k, "bus.ledger_stream") == 0 ||
            strcmp(k, "cairn.data_dir") == 0 || strcmp(k, "log.level") == 0)
            fprintf(out, "  %-34s %s (%s)\n", k, opts[i].help,
                    *opts[i].def ? opts[i].def : "empty");
    }
}

/* Builds the configuration: file first, then --data-dir, then each --set in
 * order. Returns 0, 1 when --help was asked, or -1 after printing one line. */
static int s_configure(int argc, char **argv, cairn_config_t *config)
{
    char err[512] = "";
    const char *file = NULL, *data_dir = NULL;
    int c;
    opterr = 0; /* one message of our own below */
    while ((c = getopt_long(argc, argv, "", s_long_options, NULL)) != -1) {
        if (c == S_OPT_HELP)
            return 1;
        if (c == S_OPT_CONFIG)
            file = optarg;
        else if (c == S_OPT_DATA_DIR)
            data_dir = optarg;
        else if (c != S_OPT_SET) {
            fprintf(stderr, "cairn-ingest: unknown option or missing value: '%s' (see --help)\n",
                    argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cairn-ingest: unexpected argument '%s' (see --help)\n", argv[optind]);
        return -1;
    }
    if (file && cairn_config_load(config, file, err, sizeof err) < 0)
        goto fail;
    if (data_dir && cairn_config_set(config, "cairn.data_dir", data_dir, err, sizeof err) < 0)
        goto fail;
    optind = 0; /* rescan from the start (glibc reinitializes on 0) */
    while ((c = getopt_long(argc, argv, "", s_long_options, NULL)) != -1) {
        if (c != S_OPT_SET)
            continue;
        char *eq = strchr(optarg, '=');
        if (!eq || eq == optarg) {
            snprintf(err, sizeof err, "--set needs section.key=value, got '%s'", optarg);
            goto fail;
        }
        *eq = '\0';
        int rc = cairn_config_set(config, optarg, eq + 1, err, sizeof err);
        *eq = '=';
        if (rc < 0)
            goto fail;
    }
    if (cairn_config_finalize(config, err, sizeof err) < 0)
        goto fail;
    if (cairn_ingest_check_config(config, err, sizeof err) < 0)
        goto fail;
    return 0;
fail:
    fprintf(stderr, "cairn-ingest: %s\n", err);
    return -1;
}

int main(int argc, char **argv)
{
    int status = 2;
    cairn_ingest_t *ingest = NULL;
    cairn_config_t *config = cairn_config_new();
    if (!config) {
        fprintf(stderr, "cairn-ingest: out of memory\n");
        return 1;
    }
    int rc = s_configure(argc, argv, config);
    if (rc != 0) {
        if (rc > 0)
            s_usage(stdout);
        status = rc > 0 ? 0 : 2;
        goto out;
    }
    cairn_log_init("ingest", cairn_config_str(config, "log.level"));
    cairn_signals_install();
    status = 1;
    if (!(ingest = cairn_ingest_new(config)))
        goto out;
    if (cairn_ingest_run(ingest) == 0) {
        CAIRN_INFO("ingest stopped", "reason=signal");
        status = 0;
    }
out:
    cairn_ingest_destroy(&ingest);
    cairn_config_destroy(&config);
    return status;
}
