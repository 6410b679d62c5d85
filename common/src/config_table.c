/* The one table of configuration options: name, type, default, bounds, help.
 * It drives parsing, defaults, validation and the example configuration. */
#include "cairn/config.h"

static const cairn_option_t s_options[] = {
    {"cairn.data_dir", CAIRN_OPT_STRING, ".cairn", 0, 0,
     "directory for all state: LMDB stores, bus sockets, notifications"},
    {"log.level", CAIRN_OPT_STRING, "info", 0, 0, "minimum log level: debug, info, warn, error"},

    {"bus.ledger_api", CAIRN_OPT_STRING, "ipc://{data_dir}/run/ledger-api.sock", 0, 0,
     "ledger request/reply endpoint (append, replay, query)"},
    {"bus.ledger_stream", CAIRN_OPT_STRING, "ipc://{data_dir}/run/ledger-stream.sock", 0, 0,
     "ledger publish endpoint: every appended entry, in log order"},
    {"bus.ingest_submit", CAIRN_OPT_STRING, "ipc://{data_dir}/run/ingest-submit.sock", 0, 0,
     "ingest request/reply endpoint used by `cairn submit`"},
    {"bus.policy_query", CAIRN_OPT_STRING, "ipc://{data_dir}/run/policy-query.sock", 0, 0,
     "policy request/reply endpoint for gate and status queries"},
    {"bus.request_timeout", CAIRN_OPT_DURATION, "5s", 1, 3600000,
     "how long a request on the bus waits for its answer"},

    {"ingest.http_address", CAIRN_OPT_STRING, "127.0.0.1", 0, 0, "HTTP listen address"},
    {"ingest.http_port", CAIRN_OPT_INT, "8080", 0, 65535, "HTTP listen port (0 picks a free one)"},
    {"ingest.max_body", CAIRN_OPT_SIZE, "25M", 1024, 1073741824,
     "largest request body accepted; larger gets 413"},
    {"ingest.request_timeout", CAIRN_OPT_DURATION, "10s", 100, 3600000,
     "idle time after which an HTTP connection is closed"},
    {"ingest.threads", CAIRN_OPT_INT, "4", 1, 256, "HTTP worker threads"},

    {"ledger.path", CAIRN_OPT_STRING, "{data_dir}/ledger", 0, 0, "ledger LMDB directory"},
    {"ledger.map_size", CAIRN_OPT_SIZE, "1G", 1048576, 0,
     "largest size the ledger store may grow to"},
    {"ledger.replay_page", CAIRN_OPT_INT, "256", 1, 65536, "entries per replay answer"},

    {"policy.file", CAIRN_OPT_STRING, "", 0, 0,
     "policy YAML file; empty uses the built-in default policy"},
    {"policy.state_path", CAIRN_OPT_STRING, "{data_dir}/policy", 0, 0,
     "policy state LMDB directory"},

    {"notify.file", CAIRN_OPT_STRING, "{data_dir}/notifications.jsonl", 0, 0,
     "file receiver: one JSON line per notification"},
    {"notify.state_path", CAIRN_OPT_STRING, "{data_dir}/notify", 0, 0,
     "notify state LMDB directory"},
};

const cairn_option_t *cairn_config_options(size_t *count)
{
    *count = sizeof s_options / sizeof s_options[0];
    return s_options;
}
