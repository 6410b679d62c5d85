/* Request/reply calls from the CLI to the daemons, and how their failures are
 * told to the user. */
#include "rpc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cairn/bus.h"
#include "cairn/error.h"
#include "options.h"
#include "policy_route.h"

const char *cli_rpc_daemon(const char *endpoint_key)
{
    if (strncmp(endpoint_key, "bus.ledger", 10) == 0)
        return "cairn-ledger";
    if (strncmp(endpoint_key, "bus.ingest", 10) == 0)
        return "cairn-ingest";
    if (strncmp(endpoint_key, "bus.policy", 10) == 0)
        return "cairn-policy";
    if (strncmp(endpoint_key, "bus.notify", 10) == 0)
        return "cairn-notify";
    return "the daemon";
}

/* How long to wait for a reply. Ingest answers a submission only once the
 * ledger made it durable, or with 503 after ingest.request_timeout: wait a
 * little longer than that, so its answer is what the user sees. */
static int64_t s_timeout_ms(const cairn_config_t *cfg, const char *endpoint_key)
{
    int64_t ms = cairn_config_int(cfg, "bus.request_timeout");
    if (strcmp(endpoint_key, "bus.ingest_submit") == 0) {
        int64_t ingest = cairn_config_int(cfg, "ingest.request_timeout") + 1000;
        if (ingest > ms)
            ms = ingest;
    }
    return ms;
}

bool cli_endpoint_listening(const char *endpoint)
{
    if (strncmp(endpoint, "ipc://", 6) != 0)
        return true;
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(endpoint + 6) >= sizeof addr.sun_path)
        return true;
    memcpy(addr.sun_path, endpoint + 6, strlen(endpoint + 6));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return true;
    bool ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 || errno == EAGAIN;
    close(fd);
    return ok;
}

int cli_rpc_call(const cairn_config_t *cfg, const char *endpoint_key, const ProtobufCMessage *req,
                 uint8_t **reply_out, size_t *len_out)
{
    if (strcmp(endpoint_key, "bus.policy_query") == 0 && cli_policy_routed(cfg))
        return cli_policy_route_call(cfg, req, reply_out, len_out);
    return cli_rpc_call_endpoint(cfg, endpoint_key, cairn_config_str(cfg, endpoint_key), req,
                                 reply_out, len_out);
}

int cli_rpc_call_endpoint(const cairn_config_t *cfg, const char *endpoint_key, const char *endpoint,
                          const ProtobufCMessage *req, uint8_t **reply_out, size_t *len_out)
{
    int rc;
    uint8_t *buf = NULL;
    size_t len = 0;
    cairn_client_t *client = NULL;
    int64_t timeout_ms = s_timeout_ms(cfg, endpoint_key);

    /* Fail at once, rather than after the timeout, when the daemon is not running. */
    if (!cli_endpoint_listening(endpoint))
        return CAIRN_EUNREACHABLE;
    if ((rc = cairn_codec_pack(req, &buf, &len)) < 0)
        goto out;
    client = cairn_client_new(endpoint);
    if (!client) {
        rc = -ENOMEM;
        goto out;
    }
    rc = cairn_client_call(client, buf, len, (int)timeout_ms, reply_out, len_out);
out:
    cairn_client_destroy(&client);
    free(buf);
    return rc;
}

int cli_rpc_failed(const cairn_config_t *cfg, const char *endpoint_key, int rc)
{
    const char *daemon = cli_rpc_daemon(endpoint_key);
    const char *endpoint = cairn_config_str(cfg, endpoint_key);
    if (rc == CAIRN_EUNREACHABLE || rc == CAIRN_ETIMEOUT || rc == -ECONNREFUSED || rc == -ENOENT) {
        if (rc == CAIRN_ETIMEOUT)
            fprintf(stderr, "cairn: %s at %s did not answer within %lldms.\n", daemon, endpoint,
                    (long long)s_timeout_ms(cfg, endpoint_key));
        else
            fprintf(stderr, "cairn: cannot reach %s at %s: nothing is listening there.\n", daemon,
                    endpoint);
        fprintf(stderr, "Is the stack running? Start it with `cairn up` "
                        "(with the same --data-dir/--config as this command).\n");
        return CLI_EXIT_UNREACHABLE;
    }
    if (rc == CAIRN_EPROTO) {
        fprintf(stderr, "cairn: %s at %s sent a reply that cannot be decoded: %s\n", daemon,
                endpoint, cairn_strerror(rc));
        return CLI_EXIT_DENIED;
    }
    fprintf(stderr, "cairn: request to %s at %s failed: %s\n", daemon, endpoint,
            cairn_strerror(rc));
    return CLI_EXIT_DENIED;
}

int cli_status_exit(int status)
{
    switch (status) {
    case 0: return CLI_EXIT_OK;
    case CAIRN_EUNREACHABLE:
    case CAIRN_ETIMEOUT: return CLI_EXIT_UNREACHABLE;
    case CAIRN_EINVALID:
    case CAIRN_EPARSE:
    case CAIRN_ECONFIG:
    /* Asked the wrong policy partition: the CLI's partition endpoints are
     * missing or wrong. Never "denied", which a pipeline would act on. */
    case CAIRN_EPARTITION: return CLI_EXIT_USAGE;
    case CAIRN_EBUSY:
    case CAIRN_ENOTFOUND: return CLI_EXIT_PENDING;
    default: return CLI_EXIT_DENIED;
    }
}
