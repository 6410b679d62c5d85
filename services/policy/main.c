/* cairn-policy: evaluates the release policy over the ledger's events,
 * appends verdicts and alerts, and answers gate and status queries. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/daemon.h"
#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/signals.h"
#include "engine.h"

#define S_POLL_MS 200

static const cairn_daemon_info_t s_info = {
    .name = "cairn-policy",
    .summary = "Follows the Cairn ledger, keeps each change's state, evaluates the release policy\n"
               "(policy.file, or the built-in default policy) and appends one verdict per gate to\n"
               "the ledger; answers gate and status queries on bus.policy_query. SIGHUP, or a\n"
               "change of the policy file, reloads it (an invalid file is reported and the running\n"
               "policy kept).\n",
    .settings = "policy. bus.ledger_ bus.policy_query bus.request_timeout",
};

int main(int argc, char **argv)
{
    cairn_config_t *cfg = NULL;
    cairn_policy_engine_t *engine = NULL;
    int status = 1;
    int rc = cairn_daemon_configure(&s_info, argc, argv, &cfg);
    if (rc != 0)
        return cairn_daemon_exit_status(rc);
    cairn_log_init("policy", cairn_config_str(cfg, "log.level"));
    cairn_signals_install();
    if ((rc = cairn_policy_engine_new(cfg, &engine)) < 0) {
        /* An invalid policy is a configuration error; its problems are logged. */
        fprintf(stderr, "cairn-policy: cannot start: %s\n", cairn_strerror(rc));
        status = rc == CAIRN_EPOLICY ? 2 : 1;
        goto out;
    }
    while (!cairn_signals_stop_requested()) {
        if (cairn_signals_take_reload())
            cairn_policy_engine_reload(engine);
        cairn_policy_engine_run_once(engine, S_POLL_MS);
    }
    status = 0;
out:
    cairn_policy_engine_destroy(&engine);
    cairn_config_destroy(&cfg);
    return status;
}
