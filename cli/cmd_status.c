/* `cairn status CHANGE`: what the policy knows about a change — who wrote it,
 * which commit and environment, the approvals (and why any is void), and per
 * gate the decision, its reasons and what is still needed. CHANGE may be any
 * key the change is known by (a commit, "owner/repo#42", an incident, a
 * release): cairn-policy finds the change and names it in its reply. */
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "commands.h"
#include "pbjson.h"
#include "render.h"
#include "rpc.h"

static const char *s_or(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

bool cli_status_is_empty(const Cairn__V1__ChangeStatus *st)
{
    return !st || (!*s_or(st->author, "") && !*s_or(st->commit_sha, "") && st->n_approvals == 0 &&
                   st->n_input_indexes == 0);
}

void cli_status_render(FILE *out, const Cairn__V1__ChangeStatus *st)
{
    char line[1024];
    fprintf(out, "change %s\n", s_or(st->change_id, "(unnamed)"));
    fprintf(out, "  author:      %s\n", s_or(st->author, "(unknown)"));
    if (st->n_committers > 0) {
        fprintf(out, "  committers:  ");
        for (size_t i = 0; i < st->n_committers; i++)
            fprintf(out, "%s%s", i ? ", " : "", st->committers[i]);
        fprintf(out, "\n");
    }
    fprintf(out, "  commit:      %s\n", s_or(st->commit_sha, "(unknown)"));
    fprintf(out, "  environment: %s\n", s_or(st->environment, "(unknown)"));

    if (st->n_approvals == 0) {
        fprintf(out, "approvals: none\n");
    } else {
        fprintf(out, "approvals:\n");
        for (size_t i = 0; i < st->n_approvals; i++) {
            cli_approval_text(st->approvals[i], line, sizeof line);
            fprintf(out, "  %s\n", line);
        }
    }

    if (st->n_gates == 0) {
        fprintf(out, "gates: none evaluated yet\n");
        return;
    }
    fprintf(out, "gates:\n");
    for (size_t i = 0; i < st->n_gates; i++) {
        const Cairn__V1__Verdict *v = st->gates[i];
        fprintf(out, "  %s: %s\n", s_or(v->gate, "(unnamed)"), cairn_decision_name(v->decision));
        cli_render_verdict_body(out, v, "    ");
    }
}

/* The change the policy found for key, when it is another name than key. */
static const char *s_found(const char *key, const Cairn__V1__PolicyReply *reply)
{
    const char *id = reply->change ? s_or(reply->change->change_id, "") : "";
    return *id && strcmp(id, key) != 0 ? id : NULL;
}

static int s_print_json(const char *change, const Cairn__V1__PolicyReply *reply, bool known)
{
    json_t *obj = known ? cli_pb_to_json(&reply->change->base) : json_object();
    if (!obj)
        return CLI_EXIT_DENIED;
    if (!known)
        json_object_set_new(obj, "change_id", json_string(change));
    else if (s_found(change, reply))
        json_object_set_new(obj, "found_by", json_string(change));
    json_object_set_new(obj, "known", json_boolean(known));
    json_object_set_new(obj, "applied_index", json_integer((json_int_t)reply->applied_index));
    int rc = cli_json_print(obj, stdout);
    json_decref(obj);
    return rc < 0 ? CLI_EXIT_DENIED : CLI_EXIT_OK;
}

static int s_run(const cli_args_t *args)
{
    int code = CLI_EXIT_DENIED;
    int rc;
    char err[512];
    const char *change = args->pos[0];
    cairn_config_t *cfg = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    Cairn__V1__PolicyReply *reply = NULL;
    Cairn__V1__StatusQuery query = CAIRN__V1__STATUS_QUERY__INIT;
    Cairn__V1__PolicyRequest req = CAIRN__V1__POLICY_REQUEST__INIT;

    if (cli_load_config(args, &cfg, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    query.change_id = (char *)change;
    req.body_case = CAIRN__V1__POLICY_REQUEST__BODY_STATUS;
    req.status = &query;
    if ((rc = cli_rpc_call(cfg, "bus.policy_query", &req.base, &buf, &len)) < 0 ||
        (rc = cairn_codec_policy_reply_unpack(buf, len, &reply)) < 0) {
        code = cli_rpc_failed(cfg, "bus.policy_query", rc);
        goto out;
    }
    if (reply->status < 0 && reply->status != CAIRN_ENOTFOUND) {
        fprintf(stderr, "cairn status: cairn-policy could not answer for %s: %s\n", change,
                s_or(reply->error, cairn_strerror(reply->status)));
        code = cli_status_exit(reply->status);
        goto out;
    }
    bool known = reply->status == 0 && !cli_status_is_empty(reply->change);
    if (args->json) {
        code = s_print_json(change, reply, known);
        goto out;
    }
    if (known && s_found(change, reply))
        printf("%s is change %s\n", change, reply->change->change_id);
    if (known)
        cli_status_render(stdout, reply->change);
    else
        printf("no events recorded for %s\n", change);
    code = CLI_EXIT_OK;
out:
    CAIRN_CODEC_FREE(&reply);
    free(buf);
    cairn_config_destroy(&cfg);
    return code;
}

const cli_command_t cli_cmd_status = {
    .name = "status",
    .positional = "CHANGE",
    .summary = "Show what the policy knows about a change and what it still needs.",
    .details = "CHANGE is the change id or any key the change is known by: a full commit\n"
               "SHA (also the merge commit), owner/repo#42 (pull or merge request), an\n"
               "incident id, a release, a change request number; or the same with a\n"
               "prefix: sha:, pr:, incident:, release:, cr:. A key prints\n"
               "\"KEY is change CHG-1\" first.\n"
               "Output: the change's author, committers, commit and environment; every\n"
               "approval (a void one with the rule that voided it and why); and per gate\n"
               "the decision, its reasons, and the open obligations, e.g.\n"
               "\"needs 1 more approval from dev or tech_lead (rule peer)\".\n"
               "A change with no recorded events prints \"no events recorded for CHANGE\".\n"
               "With --json: the policy's ChangeStatus with \"known\" and \"applied_index\",\n"
               "and \"found_by\" (the key) when CHANGE was another key.\n\n"
               "Exit codes: 0 shown (also for an unknown change), 2 usage error,\n"
               "4 cairn-policy cannot be reached (run `cairn up`).\n",
    .opts = NULL,
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run,
};
