/* cairn-ledger: the system of record. Parses arguments, loads the
 * configuration, and runs the ledger engine until SIGINT or SIGTERM. */
#include "cairn/daemon.h"
#include "cairn/log.h"
#include "cairn/signals.h"
#include "engine.h"

static const cairn_daemon_info_t s_info = {
    .name = "cairn-ledger",
    .summary = "Runs the Cairn ledger: appends every fact to a Merkle log in LMDB, signs a\n"
               "checkpoint per batch, answers append/replay/query/head, checkpoint/prove/\n"
               "consistency/export and purge/hold/unhold requests, and publishes each new\n"
               "entry.\n",
    .settings = "ledger. bus.ledger_",
};

int main(int argc, char **argv)
{
    int status = 1;
    cairn_ledger_t *ledger = NULL;
    cairn_config_t *config = NULL;
    int rc = cairn_daemon_configure(&s_info, argc, argv, &config);
    if (rc != 0)
        return cairn_daemon_exit_status(rc);
    cairn_log_init("ledger", cairn_config_str(config, "log.level"));
    cairn_signals_install();
    if (!(ledger = cairn_ledger_new(config)))
        goto out;
    if (cairn_ledger_run(ledger) == 0) {
        CAIRN_INFO("ledger stopped", "reason=signal");
        status = 0;
    }
out:
    cairn_ledger_destroy(&ledger);
    cairn_config_destroy(&config);
    return status;
}
