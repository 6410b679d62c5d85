/* What every Cairn daemon does before its engine starts: parse
 * --config FILE, --data-dir DIR, --set section.key=value (repeatable) and
 * --help into a finalized configuration, with one clear line on error. */
#ifndef CAIRN_DAEMON_H
#define CAIRN_DAEMON_H

#include <stddef.h>

#include "cairn/config.h"

typedef struct {
    const char *name;     /* "cairn-ledger": names the program in usage and errors */
    const char *summary;  /* what the daemon does, for --help */
    const char *settings; /* space-separated key prefixes whose settings --help lists */
    /* Optional extra validation after the configuration is finalized
     * (0, or a negative code with a sentence in err). */
    int (*check)(const cairn_config_t *config, char *err, size_t errlen);
} cairn_daemon_info_t;

/* Builds the configuration: defaults, then the file, then --data-dir, then
 * each --set in order, then {data_dir} expansion and info->check.
 * Returns 0 with *config_out set; 1 after printing --help on stdout (exit 0);
 * CAIRN_ECONFIG after printing one line on stderr (exit 2); -ENOMEM. */
int cairn_daemon_configure(const cairn_daemon_info_t *info, int argc, char **argv,
                           cairn_config_t **config_out);

/* The exit status for a non-zero cairn_daemon_configure() result. */
int cairn_daemon_exit_status(int configure_rc);

#endif
