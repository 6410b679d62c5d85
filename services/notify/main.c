/* cairn-notify: delivers policy verdicts and alerts from the ledger to the
 * configured receivers and records each delivery in the ledger. */
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
    .name = "cairn-notify",
    .summary = "Routes verdicts and alerts from the Cairn ledger to receivers (Slack, signed\n"
               "webhooks, e-mail, Alertmanager, the in-platform feed, the notifications file) with\n"
               "the routing tree in notify.routes_file, retries durably, and records every\n"
               "delivery attempt in the ledger.\n",
    .settings = "notify. bus.ledger_ bus.notify_ bus.request_timeout",
};

int main(int argc, char **argv)
{
    cairn_config_t *cfg = NULL;
    cairn_notify_engine_t *engine = NULL;
    char err[512] = "";
    int status = 1;
    int rc = cairn_daemon_configure(&s_info, argc, argv, &cfg);
    if (rc != 0)
        return cairn_daemon_exit_status(rc);
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
