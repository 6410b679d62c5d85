/* cairn-ingest: receives CloudEvents and native webhooks over HTTP (and the
 * ZeroMQ submit socket), authenticates and normalizes them and records them
 * in the ledger. Parses arguments, loads the configuration, and runs the
 * ingest engine until SIGINT or SIGTERM. */
#include "cairn/daemon.h"
#include "cairn/log.h"
#include "cairn/signals.h"
#include "engine.h"

static const cairn_daemon_info_t s_info = {
    .name = "cairn-ingest",
    .summary =
        "Runs Cairn ingest: accepts CloudEvents (structured, batched and binary modes) on\n"
        "POST /v1/events and on the ZeroMQ submit socket, and GitHub, GitLab, Jenkins,\n"
        "ServiceNow, Jira and PagerDuty webhooks on POST /v1/webhooks/<source>;\n"
        "authenticates and normalizes them, and answers 202 once they are durable: in the\n"
        "ledger, or in the local spool ({data_dir}/ingest/spool) while the ledger does not\n"
        "answer, drained into the ledger in order. Answers GitHub deployment protection\n"
        "rules from the policy when ingest.github_token is set. Also serves GET /healthz\n"
        "and GET /metrics.\n",
    .settings = "ingest. bus.ledger_api bus.ledger_stream bus.ingest_submit bus.policy_query "
                "bus.request_timeout policy.partition_endpoints",
    .check = cairn_ingest_check_config,
};

int main(int argc, char **argv)
{
    int status = 1;
    cairn_ingest_t *ingest = NULL;
    cairn_config_t *config = NULL;
    int rc = cairn_daemon_configure(&s_info, argc, argv, &config);
    if (rc != 0)
        return cairn_daemon_exit_status(rc);
    cairn_log_init("ingest", cairn_config_str(config, "log.level"));
    cairn_signals_install();
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
