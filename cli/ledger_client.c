/* Requests to cairn-ledger for checkpoints, proofs and bundles, and the
 * base64 form proofs are shown in (DESIGN §5: lists of base64 SHA-256). */
#include "ledger_client.h"

#include <sodium.h>
#include <stdlib.h>

#include "cairn/error.h"
#include "rpc.h"

int cli_ledger_status_exit(int status)
{
    return status == CAIRN_ENOTFOUND || status == CAIRN_ETOOLARGE ? CLI_EXIT_DENIED
                                                                  : cli_status_exit(status);
}

int cli_ledger_call(const cli_args_t *args, const Cairn__V1__LedgerRequest *req,
                    Cairn__V1__LedgerReply **reply_out, cairn_config_t **cfg_out)
{
    int code = CLI_EXIT_DENIED;
    int rc;
    char err[512];
    cairn_config_t *cfg = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    Cairn__V1__LedgerReply *reply = NULL;

    if (cli_load_config(args, &cfg, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    if ((rc = cli_rpc_call(cfg, "bus.ledger_api", &req->base, &buf, &len)) < 0 ||
        (rc = cairn_codec_ledger_reply_unpack(buf, len, &reply)) < 0) {
        code = cli_rpc_failed(cfg, "bus.ledger_api", rc);
        goto out;
    }
    if (reply->status < 0) {
        fprintf(stderr, "cairn %s: cairn-ledger refused: %s\n", args->cmd->name,
                reply->error && *reply->error ? reply->error : cairn_strerror(reply->status));
        code = cli_ledger_status_exit(reply->status);
        goto out;
    }
    *reply_out = reply;
    reply = NULL;
    if (cfg_out) {
        *cfg_out = cfg;
        cfg = NULL;
    }
    code = CLI_EXIT_OK;
out:
    CAIRN_CODEC_FREE(&reply);
    free(buf);
    cairn_config_destroy(&cfg);
    return code;
}

char *cli_base64(const uint8_t *data, size_t len)
{
    size_t cap = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *text = malloc(cap);
    if (text)
        sodium_bin2base64(text, cap, data, len, sodium_base64_VARIANT_ORIGINAL);
    return text;
}

void cli_hashes_render(FILE *out, const ProtobufCBinaryData *hashes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char *text = cli_base64(hashes[i].data, hashes[i].len);
        fprintf(out, "%s\n", text ? text : "(out of memory)");
        free(text);
    }
}

json_t *cli_hashes_json(const ProtobufCBinaryData *hashes, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        char *text = cli_base64(hashes[i].data, hashes[i].len);
        if (!text || json_array_append_new(arr, json_string(text)) < 0) {
            free(text);
            json_decref(arr);
            return NULL;
        }
        free(text);
    }
    return arr;
}
