/* Command-line handling shared by the four daemons: the same options, the
 * same precedence (file < --data-dir < --set) and the same error shape. */
#include "cairn/daemon.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/error.h"
#include "cairn/log.h"

enum { S_OPT_CONFIG = 1, S_OPT_DATA_DIR, S_OPT_SET, S_OPT_HELP };

static const struct option s_long_options[] = {
    {"config", required_argument, NULL, S_OPT_CONFIG},
    {"data-dir", required_argument, NULL, S_OPT_DATA_DIR},
    {"set", required_argument, NULL, S_OPT_SET},
    {"help", no_argument, NULL, S_OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Is key listed by one of the space-separated prefixes (or always shown)? */
static int s_listed(const char *settings, const char *key)
{
    if (strcmp(key, "cairn.data_dir") == 0 || strcmp(key, "log.level") == 0)
        return 1;
    for (const char *p = settings; p && *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if (n && strncmp(key, p, n) == 0)
            return 1;
        p += n;
    }
    return 0;
}

static void s_usage(const cairn_daemon_info_t *info, FILE *out)
{
    size_t count = 0;
    const cairn_option_t *opts = cairn_config_options(&count);
    fprintf(out,
            "usage: %s [--config FILE] [--data-dir DIR] [--set section.key=value]...\n\n%s\n"
            "  --config FILE            YAML configuration (optional; every setting has a "
            "default)\n"
            "  --data-dir DIR           sets cairn.data_dir\n"
            "  --set section.key=value  overrides one setting (repeatable)\n"
            "  --help                   prints this help\n\n"
            "settings %s reads (default):\n",
            info->name, info->summary, info->name);
    for (size_t i = 0; i < count; i++)
        if (s_listed(info->settings, opts[i].key))
            fprintf(out, "  %-34s %s (%s)\n", opts[i].key, opts[i].help,
                    *opts[i].def ? opts[i].def : "empty");
}

/* Parses the command line into config; 0, 1 for --help, or CAIRN_ECONFIG with err. */
static int s_parse(const cairn_daemon_info_t *info, int argc, char **argv,
                   cairn_config_t *config, char *err, size_t errlen)
{
    const char *file = NULL, *data_dir = NULL;
    int c;
    opterr = 0; /* one message of our own below */
    optind = 0; /* glibc reinitializes on 0, so a second call starts afresh */
    while ((c = getopt_long(argc, argv, "", s_long_options, NULL)) != -1) {
        if (c == S_OPT_HELP)
            return 1;
        if (c == S_OPT_CONFIG)
            file = optarg;
        else if (c == S_OPT_DATA_DIR)
            data_dir = optarg;
        else if (c != S_OPT_SET) {
            snprintf(err, errlen, "unknown option or missing value: '%s' (see --help)",
                     argv[optind - 1]);
            return CAIRN_ECONFIG;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)", argv[optind]);
        return CAIRN_ECONFIG;
    }
    if (file && cairn_config_load(config, file, err, errlen) < 0)
        return CAIRN_ECONFIG;
    if (data_dir && cairn_config_set(config, "cairn.data_dir", data_dir, err, errlen) < 0)
        return CAIRN_ECONFIG;
    optind = 0;
    while ((c = getopt_long(argc, argv, "", s_long_options, NULL)) != -1) {
        if (c != S_OPT_SET)
            continue;
        const char *eq = strchr(optarg, '=');
        char key[128];
        if (!eq || eq == optarg || (size_t)(eq - optarg) >= sizeof key) {
            snprintf(err, errlen, "--set needs section.key=value, got '%s'", optarg);
            return CAIRN_ECONFIG;
        }
        snprintf(key, sizeof key, "%.*s", (int)(eq - optarg), optarg);
        if (cairn_config_set(config, key, eq + 1, err, errlen) < 0)
            return CAIRN_ECONFIG;
    }
    if (cairn_config_finalize(config, err, errlen) < 0)
        return CAIRN_ECONFIG;
    if (info->check && info->check(config, err, errlen) < 0)
        return CAIRN_ECONFIG;
    /* "cairn-ledger" serves the ledger's sockets. */
    const char *service = strncmp(info->name, "cairn-", 6) == 0 ? info->name + 6 : info->name;
    if (cairn_bus_secure(config, service, err, errlen) < 0)
        return CAIRN_ECONFIG;
    cairn_bus_set_high_water_mark((int)cairn_config_int(config, "bus.high_water_mark"));
    return 0;
}

/* Logs a connection the bus refused (the ZAP handler's thread). */
static void s_log_refusal(const char *socket, const char *key_z85, const char *address,
                          const char *reason, uint64_t repeats, uint64_t total, void *arg)
{
    (void)arg;
    CAIRN_WARN("bus connection refused",
               "socket=%s client_key=%s peer=%s reason=%s repeats=%llu refused_total=%llu", socket,
               cairn_log_quote(key_z85), cairn_log_quote(address), cairn_log_quote(reason),
               (unsigned long long)repeats, (unsigned long long)total);
}

int cairn_daemon_configure(const cairn_daemon_info_t *info, int argc, char **argv,
                           cairn_config_t **config_out)
{
    char err[512] = "";
    cairn_config_t *config = cairn_config_new();
    if (!config) {
        fprintf(stderr, "%s: out of memory\n", info->name);
        return -ENOMEM;
    }
    int rc = s_parse(info, argc, argv, config, err, sizeof err);
    if (rc == 1)
        s_usage(info, stdout);
    else if (rc < 0)
        fprintf(stderr, "%s: %s\n", info->name, err);
    if (rc != 0) {
        cairn_config_destroy(&config);
        return rc;
    }
    cairn_bus_on_refusal(s_log_refusal, NULL);
    *config_out = config;
    return 0;
}

int cairn_daemon_exit_status(int configure_rc)
{
    if (configure_rc == 1)
        return 0;
    return configure_rc == CAIRN_ECONFIG ? 2 : 1;
}
