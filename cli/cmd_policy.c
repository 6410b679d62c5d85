/* `cairn policy check|test|explain|replay` (see cmd_policy.h). check and
 * test work on a file alone; explain asks cairn-policy over
 * bus.policy_query; replay reads the ledger over bus.ledger_api and
 * publishes nothing. */
#include "cmd_policy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "explain.h"
#include "ledger_link.h"
#include "pbjson.h"
#include "policy_load.h"
#include "replay.h"
#include "rpc.h"
#include "testcases.h"

static const char *s_or(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

/* ---- loading a policy file ------------------------------------------------------- */

/* Loads path; on failure the problems are left in errs and the exit code
 * for them returned: 2 when the file cannot be read, 1 when it is invalid. */
static int s_load(const char *path, cairn_errlist_t *errs, cairn_policy_t **out)
{
    int rc = cairn_policy_load_file(path, errs, out);
    if (rc == 0)
        return CLI_EXIT_OK;
    if (rc == -ENOMEM && !errs->count)
        cairn_errlist_add(errs, "%s: out of memory", path);
    return rc == CAIRN_EPOLICY ? CLI_EXIT_DENIED : CLI_EXIT_USAGE;
}

/* The text between the first pair of single quotes after from, or NULL. */
static json_t *s_quoted(const char *from)
{
    const char *a = from ? strchr(from, '\'') : NULL;
    const char *b = a ? strchr(a + 1, '\'') : NULL;
    return b ? json_stringn(a + 1, (size_t)(b - a - 1)) : json_null();
}

json_t *cli_policy_problem_json(const char *file, const char *problem)
{
    long line = 0, col = 0;
    const char *text = problem;
    size_t flen = strlen(file);
    if (strncmp(problem, file, flen) == 0 && problem[flen] == ':') {
        const char *p = problem + flen + 1;
        char *end = NULL;
        long l = strtol(p, &end, 10);
        if (end != p && *end == ':' && isdigit((unsigned char)end[1])) {
            char *end2 = NULL;
            long c = strtol(end + 1, &end2, 10);
            if (*end2 == ':') {
                line = l;
                col = c;
                p = end2 + 1;
            }
        }
        while (*p == ' ')
            p++;
        text = p;
    }
    const char *mean = strstr(text, "did you mean ");
    return json_pack("{s:s, s:i, s:i, s:s, s:o, s:o}", "file", file, "line", (int)line, "column",
                     (int)col, "message", text, "key", s_quoted(text), "suggestion",
                     mean ? s_quoted(mean) : json_null());
}

/* ---- check ------------------------------------------------------------------------- */

static json_t *s_policy_json(const cairn_policy_t *p)
{
    json_t *gates = json_array();
    for (size_t i = 0; gates && i < p->n_gates; i++)
        json_array_append_new(gates, json_string(p->gates[i].name));
    return json_pack("{s:s, s:s, s:s, s:o, s:I}", "name", p->name, "revision", p->revision,
                     "digest", p->digest, "gates", gates, "tests", (json_int_t)p->n_tests);
}

static int s_run_check(const cli_args_t *args)
{
    const char *path = args->pos[0];
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = NULL;
    int code = s_load(path, &errs, &p);
    if (args->json) {
        json_t *obj = json_pack("{s:s, s:b}", "file", path, "valid", code == CLI_EXIT_OK);
        json_t *list = json_array();
        for (size_t i = 0; list && i < errs.count; i++)
            json_array_append_new(list, cli_policy_problem_json(path, errs.items[i]));
        json_object_set_new(obj, "errors", list);
        if (p)
            json_object_set_new(obj, "policy", s_policy_json(p));
        cli_json_print(obj, stdout);
        json_decref(obj);
    } else if (code == CLI_EXIT_OK) {
        char gates[512];
        cairn_policy_gate_list(p, gates, sizeof gates);
        printf("%s: valid\n", path);
        printf("  policy   %s revision %s\n", p->name, s_or(p->revision, "(none)"));
        printf("  digest   %s\n", p->digest);
        printf("  gates    %s\n", gates);
        printf("  tests    %zu (run them with `cairn policy test %s`)\n", p->n_tests, path);
    } else {
        for (size_t i = 0; i < errs.count; i++)
            printf("%s\n", errs.items[i]);
        if (code == CLI_EXIT_DENIED)
            printf("%s: invalid: %zu problem%s\n", path, errs.count, errs.count == 1 ? "" : "s");
    }
    cairn_errlist_clear(&errs);
    cairn_policy_unref(&p);
    return code;
}

/* ---- test --------------------------------------------------------------------------- */

static json_t *s_result_json(const cairn_testcase_result_t *r)
{
    json_t *gates = json_array();
    for (size_t i = 0; gates && i < r->n_verdicts; i++)
        json_array_append_new(gates, cairn_explain_json(r->verdicts[i]));
    const char *outcome = r->passed ? "pass" : (r->broken ? "broken" : "fail");
    return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:o}", "name", s_or(r->name, ""), "outcome",
                     outcome, "message", s_or(r->message, ""), "change", s_or(r->change, ""),
                     "decision", r->n_verdicts ? cairn_decision_name(r->decision) : NULL, "gates",
                     gates);
}

static int s_run_test(const cli_args_t *args)
{
    const char *path = args->pos[0];
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = NULL;
    cairn_testcase_result_t *rs = NULL;
    int code = s_load(path, &errs, &p);
    if (code != CLI_EXIT_OK) {
        for (size_t i = 0; i < errs.count; i++)
            fprintf(stderr, "%s\n", errs.items[i]);
        fprintf(stderr, "cairn policy test: %s cannot be loaded; see `cairn policy check %s`\n",
                path, path);
        goto out;
    }
    int rc = cairn_testcases_run_all(p, path, &rs);
    if (rc < 0) {
        fprintf(stderr, "cairn policy test: %s\n", cairn_strerror(rc));
        code = CLI_EXIT_DENIED;
        goto out;
    }
    size_t passed = 0;
    for (size_t i = 0; i < p->n_tests; i++)
        passed += rs[i].passed;
    code = passed == p->n_tests ? CLI_EXIT_OK : CLI_EXIT_DENIED;
    if (args->json) {
        json_t *list = json_array();
        for (size_t i = 0; list && i < p->n_tests; i++)
            json_array_append_new(list, s_result_json(&rs[i]));
        json_t *obj = json_pack("{s:s, s:o, s:o, s:I, s:I}", "file", path, "policy",
                                s_policy_json(p), "tests", list, "passed", (json_int_t)passed,
                                "failed", (json_int_t)(p->n_tests - passed));
        cli_json_print(obj, stdout);
        json_decref(obj);
        goto out;
    }
    for (size_t i = 0; i < p->n_tests; i++) {
        const cairn_testcase_result_t *r = &rs[i];
        if (r->passed) {
            printf("PASS    %s: %s (%s)\n", r->name, cairn_decision_name(r->decision), r->change);
            continue;
        }
        printf("%-7s %s: %s\n", r->broken ? "BROKEN" : "FAIL", r->name, r->message);
        if (r->n_verdicts) {
            printf("        %s is %s:\n", r->change, cairn_decision_name(r->decision));
            for (size_t g = 0; g < r->n_verdicts; g++)
                cairn_explain_verdict(stdout, r->verdicts[g], "          ");
        }
    }
    if (!p->n_tests)
        printf("%s has no tests (add a `tests:` section; see docs/policy.md)\n", path);
    else
        printf("%zu of %zu tests passed\n", passed, p->n_tests);
out:
    cairn_testcase_results_free(&rs, p ? p->n_tests : 0);
    cairn_errlist_clear(&errs);
    cairn_policy_unref(&p);
    return code;
}

/* ---- explain ----------------------------------------------------------------------- */

/* Sends one policy request; 0 with *reply_out, or the exit code (explained on stderr). */
static int s_ask(const cairn_config_t *cfg, const Cairn__V1__PolicyRequest *req,
                 Cairn__V1__PolicyReply **reply_out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = cli_rpc_call(cfg, "bus.policy_query", &req->base, &buf, &len);
    if (rc == 0)
        rc = cairn_codec_policy_reply_unpack(buf, len, reply_out);
    free(buf);
    return rc < 0 ? cli_rpc_failed(cfg, "bus.policy_query", rc) : 0;
}

/* The verdict of one gate (env may be NULL); 0 or an exit code. */
static int s_ask_gate(const cairn_config_t *cfg, const char *change, const char *gate,
                      const char *env, Cairn__V1__PolicyReply **reply_out)
{
    Cairn__V1__GateQuery q = CAIRN__V1__GATE_QUERY__INIT;
    Cairn__V1__PolicyRequest req = CAIRN__V1__POLICY_REQUEST__INIT;
    q.change_id = (char *)change;
    q.gate = (char *)gate;
    q.environment = (char *)(env ? env : "");
    req.body_case = CAIRN__V1__POLICY_REQUEST__BODY_GATE;
    req.gate = &q;
    int code = s_ask(cfg, &req, reply_out);
    if (code)
        return code;
    const Cairn__V1__PolicyReply *r = *reply_out;
    if (r->status == CAIRN_ENOTFOUND) {
        fprintf(stderr, "cairn policy explain: %s\n", s_or(r->error, "unknown gate"));
        return CLI_EXIT_USAGE;
    }
    if (r->status < 0 || !r->verdict) {
        fprintf(stderr, "cairn policy explain: cairn-policy could not evaluate gate %s: %s\n", gate,
                s_or(r->error, cairn_strerror(r->status)));
        return r->status < 0 ? cli_status_exit(r->status) : CLI_EXIT_DENIED;
    }
    return 0;
}

static int s_run_explain(const cli_args_t *args)
{
    const char *change = args->pos[0];
    const char *gate = cli_opt(args, "gate");
    const char *env = cli_opt(args, "env");
    char err[512];
    int code = CLI_EXIT_DENIED;
    cairn_config_t *cfg = NULL;
    Cairn__V1__PolicyReply *status = NULL;
    Cairn__V1__PolicyReply **replies = NULL; /* one per gate asked on its own */
    size_t n_replies = 0, nv = 0;
    const Cairn__V1__Verdict **vs = NULL;
    uint64_t applied = 0;
    if (cli_load_config(args, &cfg, err, sizeof err) < 0)
        return cli_usage_error(args->cmd, "%s", err);

    /* Every gate of the running policy, unless one was named. */
    if (!gate) {
        Cairn__V1__StatusQuery q = CAIRN__V1__STATUS_QUERY__INIT;
        Cairn__V1__PolicyRequest req = CAIRN__V1__POLICY_REQUEST__INIT;
        q.change_id = (char *)change;
        req.body_case = CAIRN__V1__POLICY_REQUEST__BODY_STATUS;
        req.status = &q;
        if ((code = s_ask(cfg, &req, &status)) != 0)
            goto out;
        if (status->status < 0 || !status->change) {
            fprintf(stderr, "cairn policy explain: cairn-policy could not answer for %s: %s\n",
                    change, s_or(status->error, cairn_strerror(status->status)));
            code = status->status < 0 ? cli_status_exit(status->status) : CLI_EXIT_DENIED;
            goto out;
        }
        applied = status->applied_index;
    }
    /* --gate, or with --env each gate again for that environment. */
    size_t want = gate ? 1 : (env ? status->change->n_gates : 0);
    size_t total = want ? want : status->change->n_gates;
    replies = calloc(want ? want : 1, sizeof *replies);
    vs = calloc(total ? total : 1, sizeof *vs);
    if (!replies || !vs) {
        code = CLI_EXIT_DENIED;
        goto out;
    }
    for (size_t i = 0; i < want; i++) {
        n_replies = i + 1;
        const char *name = gate ? gate : status->change->gates[i]->gate;
        if ((code = s_ask_gate(cfg, change, name, env, &replies[i])) != 0)
            goto out;
        vs[nv++] = replies[i]->verdict;
        applied = replies[i]->applied_index;
    }
    for (size_t i = 0; !want && i < total; i++)
        vs[nv++] = status->change->gates[i];

    if (args->json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < nv; i++) {
            json_t *g = cairn_explain_json(vs[i]);
            json_object_set_new(g, "verdict", cli_pb_to_json(&vs[i]->base));
            json_array_append_new(arr, g);
        }
        json_t *obj = json_pack("{s:s, s:I, s:o}", "change", change, "applied_index",
                                (json_int_t)applied, "gates", arr);
        cli_json_print(obj, stdout);
        json_decref(obj);
    } else {
        if (nv)
            cairn_explain_subject(stdout, vs[0]);
        if (applied)
            printf("as of ledger index %llu (the last entry the policy has applied)\n",
                   (unsigned long long)(applied - 1));
        else
            printf("the policy has applied no ledger entries yet\n");
        for (size_t i = 0; i < nv; i++) {
            printf("\n");
            cairn_explain_verdict(stdout, vs[i], "");
        }
    }
    code = CLI_EXIT_OK;
out:
    for (size_t i = 0; i < n_replies; i++)
        CAIRN_CODEC_FREE(&replies[i]);
    free(replies);
    free(vs);
    CAIRN_CODEC_FREE(&status);
    cairn_config_destroy(&cfg);
    return code;
}

/* ---- replay ------------------------------------------------------------------------- */

int cli_policy_parse_since(const char *text, int64_t *ms_out)
{
    if (cairn_parse_time(text, ms_out) == 0)
        return 0;
    char buf[40];
    if (strlen(text) == 10 && text[4] == '-' && text[7] == '-') {
        snprintf(buf, sizeof buf, "%sT00:00:00Z", text);
        return cairn_parse_time(buf, ms_out) == 0 ? 0 : CAIRN_EINVALID;
    }
    return CAIRN_EINVALID;
}

static int s_run_replay(const cli_args_t *args)
{
    const char *path = args->pos[0];
    const char *since_text = cli_opt(args, "since");
    int64_t since = 0;
    char err[512];
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = NULL;
    cairn_config_t *cfg = NULL;
    cairn_ledger_link_t *link = NULL;
    cairn_replay_t *r = NULL;
    int code;
    if (since_text && cli_policy_parse_since(since_text, &since) < 0)
        return cli_usage_error(args->cmd,
                               "--since needs a date (2026-11-25) or an RFC 3339 time "
                               "(2026-11-25T10:00:00Z), got '%s'",
                               since_text);
    if (cli_load_config(args, &cfg, err, sizeof err) < 0)
        return cli_usage_error(args->cmd, "%s", err);
    if ((code = s_load(path, &errs, &p)) != CLI_EXIT_OK) {
        for (size_t i = 0; i < errs.count; i++)
            fprintf(stderr, "%s\n", errs.items[i]);
        fprintf(stderr, "cairn policy replay: %s cannot be loaded; nothing was replayed\n", path);
        code = CLI_EXIT_USAGE;
        goto out;
    }
    const char *endpoint = cairn_config_str(cfg, "bus.ledger_api");
    if (!cli_endpoint_listening(endpoint)) {
        code = cli_rpc_failed(cfg, "bus.ledger_api", CAIRN_EUNREACHABLE);
        goto out;
    }
    link = cairn_ledger_link_new(endpoint, (int)cairn_config_int(cfg, "bus.request_timeout"));
    r = cairn_replay_new(p, since);
    if (!link || !r) {
        fprintf(stderr, "cairn policy replay: out of memory\n");
        code = CLI_EXIT_DENIED;
        goto out;
    }
    int rc = cairn_replay_run(r, link);
    if (rc == CAIRN_EUNREACHABLE || rc == CAIRN_ETIMEOUT) {
        code = cli_rpc_failed(cfg, "bus.ledger_api", rc);
        goto out;
    }
    if (rc < 0) {
        fprintf(stderr, "cairn policy replay: cannot read the ledger: %s\n", cairn_strerror(rc));
        code = CLI_EXIT_DENIED;
        goto out;
    }
    if (args->json) {
        json_t *obj = cairn_replay_json(r);
        cli_json_print(obj, stdout);
        json_decref(obj);
    } else {
        cairn_replay_render(r, stdout);
    }
    code = CLI_EXIT_OK;
out:
    cairn_replay_destroy(&r);
    cairn_ledger_link_destroy(&link);
    cairn_policy_unref(&p);
    cairn_errlist_clear(&errs);
    cairn_config_destroy(&cfg);
    return code;
}

/* ---- the commands ------------------------------------------------------------------ */

static const cli_opt_t s_explain_opts[] = {
    {"gate", "G", false, "explain only this gate (default: every gate)", 0},
    {"env", "E", false, "evaluate for this environment (default: the change's own)", 0},
    {NULL, NULL, false, NULL, 0},
};

static const cli_opt_t s_replay_opts[] = {
    {"since", "DATE", false, "compare only verdicts for events appended since DATE", 0},
    {NULL, NULL, false, NULL, 0},
};

static const cli_command_t s_check = {
    .name = "policy check",
    .positional = "FILE",
    .summary = "Check a policy file: every problem with file:line:column, or its digest.",
    .details =
        "Output: each problem as \"FILE:LINE:COL: message\" (unknown keys name the key and,\n"
        "when one is close, suggest it: \"did you mean 'require'?\"), then\n"
        "\"FILE: invalid: N problems\"; for a valid file its name, revision, digest\n"
        "(sha256 of the exact bytes), gates and number of tests.\n"
        "With --json: {file, valid, errors: [{file, line, column, message, key,\n"
        "suggestion}], policy: {name, revision, digest, gates, tests}}.\n\n"
        "Exit codes: 0 valid, 1 invalid, 2 usage error or a file that cannot be read.\n",
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run_check,
};

static const cli_command_t s_test = {
    .name = "policy test",
    .positional = "FILE",
    .summary = "Run the policy's `tests:` cases through the real normalizer and evaluator.",
    .details = "Each case's input (a path relative to FILE) is a JSON list of CloudEvents, or\n"
               "{events, change, gate, env, at}; see docs/policy.md, \"Testing a policy\".\n"
               "Output: \"PASS    name: decision (change)\" per passing case; for a failing one\n"
               "\"FAIL    name: what differed\" and every evaluated gate's rules in words\n"
               "(\"BROKEN\" when its input cannot be used), then \"N of M tests passed\".\n"
               "With --json: {file, policy, tests: [{name, outcome, message, change, decision,\n"
               "gates}], passed, failed}.\n\n"
               "Exit codes: 0 every case passed, 1 a case failed or broke, or the policy is\n"
               "invalid, 2 usage error or a file that cannot be read.\n",
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run_test,
};

static const cli_command_t s_explain = {
    .name = "policy explain",
    .positional = "CHANGE",
    .summary = "Explain the running policy's decision for a change, rule by rule.",
    .details =
        "Asks cairn-policy (bus.policy_query) for the verdict of every gate (or of --gate)\n"
        "and prints, per gate, the decision and why, every rule evaluated with its result\n"
        "in words (passed, FAILED, missing, void (ignored), does not apply) and message,\n"
        "what is still open, and each approval as counted.\n"
        "With --json: {change, applied_index, gates: [{gate, decision, because, rules,\n"
        "open, approvals, verdict}]}.\n\n"
        "Exit codes: 0 explained (also for a change with no events), 2 usage error or a\n"
        "gate the policy does not have, 4 cairn-policy cannot be reached (run `cairn up`).\n",
    .opts = s_explain_opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run_explain,
};

static const cli_command_t s_replay = {
    .name = "policy replay",
    .positional = "FILE",
    .summary = "Replay a candidate policy over the ledger and list the verdicts it would change.",
    .details = "Reads every ledger entry (bus.ledger_api, as far as the log reached when the\n"
               "replay began), folds each event into its change as cairn-policy does, evaluates\n"
               "FILE at the event's own time, and compares with the verdicts the ledger recorded.\n"
               "Nothing is appended. --since DATE (2026-11-25 or an RFC 3339 time) compares only\n"
               "verdicts for events appended since then; earlier events are still read.\n"
               "Output: one block per verdict that would change (change, gate, event and verdict\n"
               "indexes, old -> new decision, the rules deciding each), then the changes it would\n"
               "block or allow (by their latest verdicts). The same ledger always gives the same\n"
               "report. With --json: {policy, entries, events, changes, compared, changed, diffs:\n"
               "[{change, gate, trigger_index, verdict_index, old, new, new_rules, old_rules,\n"
               "old_policy}], would_block, would_allow, unrecorded, ...}.\n\n"
               "Exit codes: 0 replayed (whatever would change), 2 usage error or a policy file\n"
               "that cannot be loaded, 4 cairn-ledger cannot be reached (run `cairn up`).\n",
    .opts = s_replay_opts,
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run_replay,
};

static const cli_command_t *const s_subs[] = {&s_check, &s_test, &s_explain, &s_replay, NULL};

const cli_command_t cli_cmd_policy = {
    .name = "policy",
    .positional = "SUBCOMMAND",
    .summary = "Work with policies: check, test, explain, replay.",
    .details = "Exit codes: 0 success, 1 invalid policy or failed tests, 2 usage error,\n"
               "4 a daemon cannot be reached (run `cairn up`).\n",
    .min_pos = 0,
    .max_pos = 0,
    .run = NULL,
    .subs = s_subs,
};
