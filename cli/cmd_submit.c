/* `cairn submit FILE`: hands a raw event to cairn-ingest over the bus, which
 * treats it exactly like an HTTP POST to /v1/events, and reports the answer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"
#include "pbjson.h"
#include "rpc.h"

#define S_DEFAULT_CONTENT_TYPE "application/cloudevents+json"
/* Leaves room for the request envelope under the bus message limit. */
#define S_MAX_BODY (CAIRN_CODEC_MAX_BYTES - 65536u)

static const cli_opt_t s_opts[] = {
    {"content-type", "T", false, "media type of FILE (default " S_DEFAULT_CONTENT_TYPE ")", 0},
    {NULL, NULL, false, NULL, 0},
};

static const char *s_str(const json_t *obj, const char *k1, const char *k2)
{
    const char *s = json_string_value(json_object_get(obj, k1));
    if (!s && k2)
        s = json_string_value(json_object_get(obj, k2));
    return s;
}

static json_t *s_num(const json_t *obj)
{
    json_t *v = json_object_get(obj, "index");
    if (!json_is_integer(v))
        v = json_object_get(obj, "ledger_index");
    return json_is_integer(v) ? v : NULL;
}

/* One accepted (or already known) event named in the reply body. */
static void s_print_item(FILE *out, const json_t *item, bool duplicate, const char *change_hint)
{
    const char *id = s_str(item, "id", "event_id");
    const char *change = s_str(item, "change", "change_id");
    if (!change)
        change = change_hint;
    json_t *index = s_num(item);
    if (json_is_true(json_object_get(item, "duplicate")))
        duplicate = true;
    fprintf(out, "%s", duplicate ? "duplicate" : "accepted");
    if (change && *change)
        fprintf(out, " %s", change);
    else if (id)
        fprintf(out, " event %s", id);
    if (index)
        fprintf(out, " %sindex %" JSON_INTEGER_FORMAT, duplicate ? "already recorded at " : "",
                json_integer_value(index));
    if (change && *change && id)
        fprintf(out, " (event %s)", id);
    fprintf(out, "\n");
}

/* Prints every event the body names; returns how many. */
static size_t s_print_items(FILE *out, const json_t *body, bool duplicate, const char *change_hint)
{
    static const char *const lists[] = {"accepted", "events", "results", "items", "duplicates"};
    size_t printed = 0;
    if (!json_is_object(body))
        return 0;
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++) {
        const json_t *arr = json_object_get(body, lists[l]);
        size_t i;
        const json_t *item;
        if (!json_is_array(arr))
            continue;
        json_array_foreach(arr, i, item)
        {
            if (!json_is_object(item))
                continue;
            s_print_item(out, item, duplicate || strcmp(lists[l], "duplicates") == 0, change_hint);
            printed++;
        }
    }
    if (printed == 0 && (s_num(body) || s_str(body, "id", "event_id"))) {
        s_print_item(out, body, duplicate, change_hint);
        printed = 1;
    }
    return printed;
}

static int s_exit_for(uint32_t status)
{
    if (status == 200 || status == 202)
        return CLI_EXIT_OK;
    if (status == 503)
        return CLI_EXIT_PENDING;
    return CLI_EXIT_DENIED;
}

int cli_submit_render(FILE *out, FILE *err, const Cairn__V1__SubmitReply *reply, bool json,
                      const char *change_hint)
{
    const char *raw = reply->body ? reply->body : "";
    json_t *body = json_loads(raw, JSON_DECODE_ANY, NULL);
    uint32_t status = reply->http_status;
    int code = s_exit_for(status);

    if (json) {
        json_t *obj = json_is_object(body) ? json_deep_copy(body) : json_object();
        if (obj) {
            json_object_set_new(obj, "http_status", json_integer(status));
            if (!json_is_object(body))
                json_object_set_new(obj, "body", body ? json_incref(body) : json_string(raw));
            cli_json_print(obj, out);
            json_decref(obj);
        }
        goto out;
    }
    if (code == CLI_EXIT_OK) {
        bool duplicate = status == 200 || json_is_true(json_object_get(body, "duplicate"));
        if (s_print_items(out, body, duplicate, change_hint) == 0)
            fprintf(out, "%s (HTTP %u) %s\n", duplicate ? "duplicate" : "accepted", status, raw);
        goto out;
    }
    const char *why = s_str(body, "error", "message");
    if (status == 503)
        fprintf(err,
                "cairn submit: ingest could not make the event durable (HTTP 503): %s\n"
                "Nothing was recorded; submit it again later.\n",
                why ? why : raw);
    else if (status >= 400 && status < 500)
        fprintf(err, "cairn submit: rejected (HTTP %u): %s\n", status, why ? why : raw);
    else
        fprintf(err, "cairn submit: failed (HTTP %u): %s\n", status, why ? why : raw);
out:
    json_decref(body);
    return code;
}

int cli_submit_body(const cli_args_t *args, const char *content_type, const char *body, size_t len,
                    const char *change_hint)
{
    int code = CLI_EXIT_DENIED;
    int rc;
    char err[512];
    cairn_config_t *cfg = NULL;
    uint8_t *reply_buf = NULL;
    size_t reply_len = 0;
    Cairn__V1__SubmitReply *reply = NULL;
    Cairn__V1__SubmitRequest req = CAIRN__V1__SUBMIT_REQUEST__INIT;
    Cairn__V1__SubmitRequest__HeadersEntry ct = CAIRN__V1__SUBMIT_REQUEST__HEADERS_ENTRY__INIT;
    Cairn__V1__SubmitRequest__HeadersEntry *headers[1] = {&ct};

    if (cli_load_config(args, &cfg, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    ct.key = "content-type";
    ct.value = (char *)content_type;
    req.path = "/v1/events";
    req.content_type = (char *)content_type;
    req.n_headers = 1;
    req.headers = headers;
    req.body.data = (uint8_t *)body;
    req.body.len = len;

    rc = cli_rpc_call(cfg, "bus.ingest_submit", &req.base, &reply_buf, &reply_len);
    if (rc < 0) {
        code = cli_rpc_failed(cfg, "bus.ingest_submit", rc);
        goto out;
    }
    if ((rc = cairn_codec_submit_reply_unpack(reply_buf, reply_len, &reply)) < 0) {
        code = cli_rpc_failed(cfg, "bus.ingest_submit", rc);
        goto out;
    }
    code = cli_submit_render(stdout, stderr, reply, args->json, change_hint);
out:
    CAIRN_CODEC_FREE(&reply);
    free(reply_buf);
    cairn_config_destroy(&cfg);
    return code;
}

static int s_run(const cli_args_t *args)
{
    const char *path = args->pos[0];
    const char *ct = cli_opt(args, "content-type");
    char *body = NULL;
    size_t len = 0;
    int rc = cairn_read_file(path, S_MAX_BODY, &body, &len);
    if (rc < 0) {
        if (rc == CAIRN_ETOOLARGE)
            return cli_usage_error(args->cmd, "%s is larger than %u bytes",
                                   strcmp(path, "-") == 0 ? "standard input" : path, S_MAX_BODY);
        return cli_usage_error(args->cmd, "cannot read %s: %s",
                               strcmp(path, "-") == 0 ? "standard input" : path,
                               cairn_strerror(rc));
    }
    int code = cli_submit_body(args, ct ? ct : S_DEFAULT_CONTENT_TYPE, body, len, NULL);
    free(body);
    return code;
}

const cli_command_t cli_cmd_submit = {
    .name = "submit",
    .positional = "FILE",
    .summary = "Submit an event (CloudEvents JSON by default) to cairn-ingest; FILE - reads stdin.",
    .details = "Output: \"accepted event <id> index <N>\" for each event recorded (the ledger\n"
               "index), \"duplicate event <id> already recorded at index <N>\" for a\n"
               "redelivery, or the error ingest gave (on stderr).\n"
               "With --json: the ingest reply body with \"http_status\" added.\n\n"
               "Exit codes: 0 accepted or duplicate (HTTP 202/200), 1 rejected (4xx, error on\n"
               "stderr), 2 usage error or unreadable FILE, 3 ingest could not make the event\n"
               "durable (503, try again), 4 cairn-ingest cannot be reached (run `cairn up`).\n",
    .opts = s_opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run,
};
