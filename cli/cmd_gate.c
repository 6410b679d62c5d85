/* `cairn gate CHANGE --gate G`: asks the policy whether a change may pass a
 * gate, for pipelines to act on the exit code. With --wait it follows the
 * ledger's stream of verdicts for that gate and asks again whenever one for
 * this change is appended, until the answer is allow or deny. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/bus.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"
#include "pbjson.h"
#include "render.h"
#include "rpc.h"

/* How long --wait lets the stream connection complete before the first query. */
#define S_HANDSHAKE_MS 2000

static const cli_opt_t s_opts[] = {
    {"gate", "G", true, "the gate to ask about (e.g. build, deployment)", 0},
    {"env", "E", false, "target environment (default: the change's own)", 0},
    {"wait", "SECONDS", false, "wait up to SECONDS (or a duration: 500ms, 2m) for allow or deny",
     0},
    {NULL, NULL, false, NULL, 0},
};

static const char *s_or(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

void cli_gate_render(FILE *out, const Cairn__V1__Verdict *v, const char *change, const char *gate)
{
    const char *env = s_or(v->environment, "");
    fprintf(out, "%s gate %s%s%s%s: %s\n", s_or(v->change_id, change), s_or(v->gate, gate),
            *env ? " (" : "", env, *env ? ")" : "", cairn_decision_name(v->decision));
    cli_render_verdict_body(out, v, "  ");
}

static bool s_final(Cairn__V1__Decision d)
{
    return d == CAIRN__V1__DECISION__DECISION_ALLOW || d == CAIRN__V1__DECISION__DECISION_DENY;
}

/* Asks the policy once. Returns 0 when *reply_p was replaced by an answer
 * holding a verdict, else the (non-zero) exit code for the failure, which has
 * been explained on stderr. */
static int s_query(const cairn_config_t *cfg, const Cairn__V1__PolicyRequest *req,
                   Cairn__V1__PolicyReply **reply_p)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    Cairn__V1__PolicyReply *reply = NULL;
    int code = 0;
    int rc;
    if ((rc = cli_rpc_call(cfg, "bus.policy_query", &req->base, &buf, &len)) < 0 ||
        (rc = cairn_codec_policy_reply_unpack(buf, len, &reply)) < 0) {
        code = cli_rpc_failed(cfg, "bus.policy_query", rc);
        goto out;
    }
    if (reply->status == CAIRN_ENOTFOUND) {
        /* An unknown change gets a pending verdict, so "not found" is the gate. */
        fprintf(stderr, "cairn gate: the policy has no gate named '%s' (%s)\n", req->gate->gate,
                s_or(reply->error, cairn_strerror(reply->status)));
        code = CLI_EXIT_USAGE;
        goto out;
    }
    if (reply->status < 0) {
        fprintf(stderr, "cairn gate: cairn-policy could not decide gate %s for %s: %s\n",
                req->gate->gate, req->gate->change_id,
                s_or(reply->error, cairn_strerror(reply->status)));
        code = cli_status_exit(reply->status);
        goto out;
    }
    if (!reply->verdict) {
        fprintf(stderr, "cairn gate: cairn-policy answered without a verdict\n");
        code = CLI_EXIT_DENIED;
        goto out;
    }
    CAIRN_CODEC_FREE(reply_p);
    *reply_p = reply;
    reply = NULL;
out:
    CAIRN_CODEC_FREE(&reply);
    free(buf);
    return code;
}

/* True when the ledger already holds a verdict on topic for change computed
 * from an event the policy had not applied when it answered (trigger index
 * at or after applied). A subscription takes effect a moment after it is
 * sent, so a verdict published in that moment is found here instead of on
 * the stream. Failures count as "none": the stream still wakes us. */
static bool s_missed_verdict(const cairn_config_t *cfg, const char *topic, const char *change,
                             uint64_t applied)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    bool found = false;
    Cairn__V1__LedgerReply *reply = NULL;
    Cairn__V1__QueryRequest q = CAIRN__V1__QUERY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    q.change_id = (char *)change;
    q.from_index = applied;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_QUERY;
    req.query = &q;
    if (cli_rpc_call(cfg, "bus.ledger_api", &req.base, &buf, &len) < 0 ||
        cairn_codec_ledger_reply_unpack(buf, len, &reply) < 0 || reply->status < 0)
        goto out;
    for (size_t i = 0; i < reply->n_entries && !found; i++) {
        const Cairn__V1__Entry *e = reply->entries[i];
        Cairn__V1__Record *rec = NULL;
        if (!e->topic || strcmp(e->topic, topic) != 0 ||
            cairn_codec_record_unpack(e->record.data, e->record.len, &rec) < 0)
            continue;
        found = rec->body_case == CAIRN__V1__RECORD__BODY_VERDICT &&
                rec->verdict->trigger_index >= applied;
        CAIRN_CODEC_FREE(&rec);
    }
out:
    CAIRN_CODEC_FREE(&reply);
    free(buf);
    return found;
}

/* Waits until the SUB socket's connection to the ledger completed its
 * handshake (so our subscription is in place), for at most timeout_ms. A
 * ledger that is down is not an error: the socket reconnects on its own. */
static void s_await_handshake(zsock_t *sub, int64_t timeout_ms)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://cairn-gate-monitor-%p", (void *)sub);
    if (zmq_socket_monitor(zsock_resolve(sub), endpoint, ZMQ_EVENT_HANDSHAKE_SUCCEEDED) != 0)
        return;
    zsock_t *mon = zsock_new_pair(NULL);
    if (mon && zsock_connect(mon, "%s", endpoint) == 0) {
        zmq_pollitem_t item = {zsock_resolve(mon), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)timeout_ms) > 0) {
            zmsg_t *ev = zmsg_recv(mon);
            zmsg_destroy(&ev);
        }
    }
    zmq_socket_monitor(zsock_resolve(sub), NULL, 0);
    zsock_destroy(&mon);
}

/* Reads one stream message; true when it is a verdict for this change and gate. */
static bool s_relevant(zsock_t *sub, const char *topic_want, const char *change)
{
    char *topic = NULL;
    uint8_t *payload = NULL;
    size_t len = 0;
    Cairn__V1__Entry *entry = NULL;
    bool hit = false;
    if (cairn_bus_receive(sub, &topic, &payload, &len) < 0)
        return false;
    if (strcmp(topic, topic_want) == 0 && cairn_codec_entry_unpack(payload, len, &entry) == 0)
        hit = strcmp(s_or(entry->change_id, ""), change) == 0;
    CAIRN_CODEC_FREE(&entry);
    free(payload);
    free(topic);
    return hit;
}

/* Blocks until a verdict for this change arrives or the deadline passes;
 * returns true for a verdict (every queued message is consumed first). */
static bool s_await_verdict(zsock_t *sub, const char *topic, const char *change, int64_t deadline)
{
    bool hit = false;
    for (;;) {
        int64_t left = hit ? 0 : deadline - cairn_mono_ms();
        if (left < 0)
            left = 0;
        zmq_pollitem_t item = {zsock_resolve(sub), 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&item, 1, (long)left);
        if (n < 0 && zmq_errno() == EINTR)
            continue;
        if (n <= 0)
            return hit;
        if (s_relevant(sub, topic, change))
            hit = true;
    }
}

static int s_print(const cli_args_t *args, const Cairn__V1__Verdict *v, bool timed_out)
{
    const char *change = args->pos[0];
    const char *gate = cli_opt(args, "gate");
    if (args->json) {
        json_t *obj = cli_pb_to_json(&v->base);
        if (!obj)
            return CLI_EXIT_DENIED;
        if (timed_out)
            json_object_set_new(obj, "timed_out", json_true());
        cli_json_print(obj, stdout);
        json_decref(obj);
    } else {
        cli_gate_render(stdout, v, change, gate);
    }
    if (timed_out)
        fprintf(stderr, "cairn gate: timed out waiting for allow or deny; still %s\n",
                cairn_decision_name(v->decision));
    return cli_decision_exit(v->decision);
}

static int s_run(const cli_args_t *args)
{
    int code = CLI_EXIT_DENIED;
    int64_t wait_ms = 0;
    int64_t deadline = 0;
    char err[512];
    char topic[256];
    const char *change = args->pos[0];
    const char *gate = cli_opt(args, "gate");
    const char *env = cli_opt(args, "env");
    const char *wait = cli_opt(args, "wait");
    cairn_config_t *cfg = NULL;
    zsock_t *sub = NULL;
    Cairn__V1__PolicyReply *reply = NULL;
    Cairn__V1__GateQuery query = CAIRN__V1__GATE_QUERY__INIT;
    Cairn__V1__PolicyRequest req = CAIRN__V1__POLICY_REQUEST__INIT;

    if (wait && cli_parse_seconds(wait, &wait_ms) < 0)
        return cli_usage_error(args->cmd,
                               "--wait needs a number of seconds (e.g. 30) or a duration "
                               "(e.g. 500ms, 2m), got '%s'",
                               wait);
    if ((size_t)snprintf(topic, sizeof topic, "verdict.%s", gate) >= sizeof topic)
        return cli_usage_error(args->cmd, "gate name '%s' is too long", gate);
    if (cli_load_config(args, &cfg, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    deadline = cairn_mono_ms() + wait_ms;

    /* Subscribe before the first query, so no verdict can slip in between
     * (but do not wait for the stream when the policy is not even running). */
    if (!cli_endpoint_listening(cairn_config_str(cfg, "bus.policy_query"))) {
        code = cli_rpc_failed(cfg, "bus.policy_query", CAIRN_EUNREACHABLE);
        goto out;
    }
    if (wait_ms > 0) {
        const char *stream = cairn_config_str(cfg, "bus.ledger_stream");
        int rc = cairn_bus_connect(ZMQ_SUB, stream, topic, &sub);
        if (rc < 0) {
            code = cli_rpc_failed(cfg, "bus.ledger_stream", rc);
            goto out;
        }
        s_await_handshake(sub, wait_ms < S_HANDSHAKE_MS ? wait_ms : S_HANDSHAKE_MS);
    }

    query.change_id = (char *)change;
    query.gate = (char *)gate;
    query.environment = (char *)(env ? env : "");
    req.body_case = CAIRN__V1__POLICY_REQUEST__BODY_GATE;
    req.gate = &query;
    for (;;) {
        if ((code = s_query(cfg, &req, &reply)) != 0)
            goto out;
        if (!sub || s_final(reply->verdict->decision))
            break;
        /* A key names its change in the verdict: wait for that change's. */
        const char *named = s_or(reply->verdict->change_id, change);
        if (s_missed_verdict(cfg, topic, named, reply->applied_index)) {
            /* The policy has recorded a newer verdict than it answered with
             * (it commits its own state just after): ask again shortly. */
            if (cairn_mono_ms() >= deadline) {
                code = s_print(args, reply->verdict, true);
                goto out;
            }
            zclock_sleep(10);
            continue;
        }
        if (!s_await_verdict(sub, topic, named, deadline)) {
            code = s_print(args, reply->verdict, true);
            goto out;
        }
    }
    code = s_print(args, reply->verdict, false);
out:
    CAIRN_CODEC_FREE(&reply);
    zsock_destroy(&sub);
    cairn_config_destroy(&cfg);
    return code;
}

const cli_command_t cli_cmd_gate = {
    .name = "gate",
    .positional = "CHANGE",
    .summary = "Ask whether a change may pass a gate (exit 0 allow, 1 deny, 3 pending).",
    .details =
        "Output: \"<change> gate <G> (<env>): <decision>\", then each reason\n"
        "(\"<result> <rule>: <message>\") and each open obligation\n"
        "(\"open    needs 1 more approval from dev or tech_lead (rule peer)\"), one per line.\n"
        "With --json: the policy's Verdict.\n\n"
        "--wait SECONDS: when the decision is pending or manual, keep following the\n"
        "ledger's verdicts for this gate and ask again each time one for CHANGE is\n"
        "recorded, until allow or deny or until SECONDS pass.\n\n"
        "A change with no recorded events is pending (reason \"no events\").\n"
        "CHANGE may also be a key of the change, as for `cairn status`.\n\n"
        "Exit codes: 0 allow, 1 deny, 2 usage error or a gate the policy does not have,\n"
        "3 pending or manual (also when --wait timed out), 4 cairn-policy cannot be\n"
        "reached (run `cairn up`).\n",
    .opts = s_opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run,
};
