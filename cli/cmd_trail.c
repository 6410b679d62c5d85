/* `cairn trail CHANGE`: every ledger entry recorded for a change, in log
 * order — the events, verdicts, alerts and delivery receipts — each with a
 * one-line summary decoded from its record. When the ledger has nothing for
 * CHANGE as a change id, cairn-policy is asked which change the key names
 * (a commit, "owner/repo#42", an incident, ...) and that change is listed. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"
#include "pbjson.h"
#include "rpc.h"

static const char *s_or(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

/* Appends formatted text at *pos, never past buflen. */
static void s_append(char *buf, size_t buflen, size_t *pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void s_append(char *buf, size_t buflen, size_t *pos, const char *fmt, ...)
{
    if (*pos >= buflen)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, buflen - *pos, fmt, ap);
    va_end(ap);
    if (n > 0)
        *pos = (size_t)n >= buflen - *pos ? buflen : *pos + (size_t)n;
}

/* " key=value" when value is set. */
static void s_kv(char *buf, size_t buflen, size_t *pos, const char *key, const char *value)
{
    if (value && *value)
        s_append(buf, buflen, pos, "%s%s=%s", *pos ? " " : "", key, value);
}

static void s_event_summary(const Cairn__V1__Entry *entry, const Cairn__V1__Event *ev, char *buf,
                            size_t buflen, size_t *pos)
{
    const Cairn__V1__Governance *g = ev->governance;
    const Cairn__V1__Correlation *c = ev->correlation;
    const Cairn__V1__Evidence *e = ev->evidence;
    char commit[13] = "";

    /* The topic is the event type; say it only when it differs. */
    if (strcmp(s_or(ev->type, ""), s_or(entry->topic, "")) != 0)
        s_append(buf, buflen, pos, "%s", s_or(ev->type, "(no type)"));
    s_kv(buf, buflen, pos, "id", ev->id);
    if (g) {
        s_kv(buf, buflen, pos, "actor", g->actor);
        s_kv(buf, buflen, pos, "approver", g->approver);
        s_kv(buf, buflen, pos, "role", g->approver_role);
        s_kv(buf, buflen, pos, "decision", g->approval_decision);
        /* How an approval arrived, and the key it says it is signed with
         * (the policy's verdict says whether the signature verified). */
        if (g->approver && *g->approver) {
            s_kv(buf, buflen, pos, "signed_with", g->approval_key);
            s_kv(buf, buflen, pos, "via", ev->ingest_source);
            s_kv(buf, buflen, pos, "authenticated_by", ev->authenticated_by);
        }
        s_kv(buf, buflen, pos, "author", g->author);
        s_kv(buf, buflen, pos, "deployer", g->deployer);
        s_kv(buf, buflen, pos, "verifier", g->verifier);
        s_kv(buf, buflen, pos, "change_type", g->change_type);
    }
    if (c) {
        snprintf(commit, sizeof commit, "%s", s_or(c->commit_sha, ""));
        s_kv(buf, buflen, pos, "commit", commit);
        s_kv(buf, buflen, pos, "env", c->environment);
        s_kv(buf, buflen, pos, "service", c->service);
        s_kv(buf, buflen, pos, "release", c->release_id);
        s_kv(buf, buflen, pos, "incident", c->incident_id);
    }
    if (e && s_or(e->kind, "")[0]) {
        s_kv(buf, buflen, pos, "evidence", e->kind);
        s_kv(buf, buflen, pos, "outcome", e->outcome);
        if (strcmp(e->kind, "test_report") == 0 || e->tests_passed || e->tests_failed ||
            e->tests_skipped)
            s_append(buf, buflen, pos, " passed=%u failed=%u skipped=%u", e->tests_passed,
                     e->tests_failed, e->tests_skipped);
        if (strcmp(e->kind, "scan") == 0 || e->findings_critical || e->findings_high ||
            e->findings_medium || e->findings_low)
            s_append(buf, buflen, pos, " findings=%u/%u/%u/%u", e->findings_critical,
                     e->findings_high, e->findings_medium, e->findings_low);
        if (e->has_coverage)
            s_append(buf, buflen, pos, " coverage=%.1f%%", e->coverage_line_pct);
    }
}

static void s_verdict_summary(const Cairn__V1__Verdict *v, char *buf, size_t buflen, size_t *pos)
{
    s_append(buf, buflen, pos, "%s %s", s_or(v->gate, "(no gate)"),
             cairn_decision_name(v->decision));
    size_t shown = v->n_reasons < 2 ? v->n_reasons : 2;
    for (size_t i = 0; i < shown; i++) {
        const Cairn__V1__Reason *r = v->reasons[i];
        s_append(buf, buflen, pos, "%s%s %s", i == 0 ? ": " : "; ", s_or(r->rule_id, "-"),
                 s_or(r->result, "-"));
        if (s_or(r->message, "")[0])
            s_append(buf, buflen, pos, " (%s)", r->message);
    }
    if (v->n_reasons > shown)
        s_append(buf, buflen, pos, "; +%zu more", v->n_reasons - shown);
}

void cli_trail_summary(const Cairn__V1__Entry *entry, const Cairn__V1__Record *rec, char *buf,
                       size_t buflen)
{
    size_t pos = 0;
    buf[0] = '\0';
    if (!rec) {
        s_append(buf, buflen, &pos, "(record does not decode)");
        return;
    }
    switch (rec->body_case) {
    case CAIRN__V1__RECORD__BODY_EVENT:
        s_event_summary(entry, rec->event, buf, buflen, &pos);
        break;
    case CAIRN__V1__RECORD__BODY_VERDICT: s_verdict_summary(rec->verdict, buf, buflen, &pos); break;
    case CAIRN__V1__RECORD__BODY_ALERT:
        s_append(buf, buflen, &pos, "%s [%s]: %s", s_or(rec->alert->kind, "(no kind)"),
                 s_or(rec->alert->severity, "-"), s_or(rec->alert->summary, ""));
        break;
    case CAIRN__V1__RECORD__BODY_RECEIPT:
        s_append(buf, buflen, &pos, "%s %s for index %llu (attempt %u)",
                 s_or(rec->receipt->receiver, "(no receiver)"), s_or(rec->receipt->outcome, "-"),
                 (unsigned long long)rec->receipt->subject_index, rec->receipt->attempt);
        if (s_or(rec->receipt->detail, "")[0])
            s_append(buf, buflen, &pos, ": %s", rec->receipt->detail);
        break;
    default: s_append(buf, buflen, &pos, "(empty record)"); break;
    }
}

static Cairn__V1__Record *s_decode(const Cairn__V1__Entry *entry)
{
    Cairn__V1__Record *rec = NULL;
    if (cairn_codec_record_unpack(entry->record.data, entry->record.len, &rec) < 0)
        return NULL;
    return rec;
}

void cli_trail_render(FILE *out, Cairn__V1__Entry *const *entries, size_t n)
{
    char summary[2048];
    char when[32];
    int width = 0; /* topics line up, within reason */
    for (size_t i = 0; i < n; i++) {
        int len = (int)strlen(s_or(entries[i]->topic, "-"));
        if (len > width)
            width = len > 48 ? 48 : len;
    }
    for (size_t i = 0; i < n; i++) {
        Cairn__V1__Record *rec = s_decode(entries[i]);
        cli_trail_summary(entries[i], rec, summary, sizeof summary);
        cairn_format_time(entries[i]->appended_at_ms, when);
        fprintf(out, "%6llu  %s  %-*s  %s\n", (unsigned long long)entries[i]->index, when, width,
                s_or(entries[i]->topic, "-"), summary);
        CAIRN_CODEC_FREE(&rec);
    }
}

static json_t *s_hex(const ProtobufCBinaryData *b)
{
    char *text = malloc(2 * b->len + 1);
    if (!text)
        return NULL;
    cairn_hex(b->data, b->len, text);
    json_t *j = json_string(text);
    free(text);
    return j;
}

static json_t *s_entry_json(const Cairn__V1__Entry *entry)
{
    char when[32];
    json_t *obj = cli_pb_to_json(&entry->base);
    Cairn__V1__Record *rec = s_decode(entry);
    if (!obj)
        goto out;
    cairn_format_time(entry->appended_at_ms, when);
    json_object_set_new(obj, "appended_at", json_string(when));
    json_object_set_new(obj, "hash", s_hex(&entry->hash));
    /* The hash chain is gone: the leaf (text) is what the Merkle tree commits to. */
    json_object_del(obj, "prev_hash");
    json_object_set_new(obj, "leaf", json_stringn((const char *)entry->leaf.data, entry->leaf.len));
    if (rec) {
        const char *kind = rec->body_case == CAIRN__V1__RECORD__BODY_EVENT     ? "event"
                           : rec->body_case == CAIRN__V1__RECORD__BODY_VERDICT ? "verdict"
                           : rec->body_case == CAIRN__V1__RECORD__BODY_ALERT   ? "alert"
                           : rec->body_case == CAIRN__V1__RECORD__BODY_RECEIPT ? "receipt"
                                                                               : "empty";
        json_object_set_new(obj, "kind", json_string(kind));
        json_object_set_new(obj, "record", cli_pb_to_json(&rec->base));
    } else {
        /* Keep the raw bytes (base64) and say why they are not decoded. */
        json_object_set_new(obj, "kind", json_string("undecodable"));
        json_object_set_new(obj, "record_base64", json_incref(json_object_get(obj, "record")));
        json_object_set_new(obj, "record", json_null());
    }
out:
    CAIRN_CODEC_FREE(&rec);
    return obj;
}

json_t *cli_trail_json(Cairn__V1__Entry *const *entries, size_t n)
{
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *e = s_entry_json(entries[i]);
        if (!e || json_array_append_new(arr, e) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

/* Every entry the ledger holds for change id, asked for page by page (a
 * change may hold more than one reply carries); 0 or an exit code, reported. */
static int s_entries(const cairn_config_t *cfg, const char *change, cli_log_entries_t *found)
{
    Cairn__V1__QueryRequest query = CAIRN__V1__QUERY_REQUEST__INIT;
    query.change_id = (char *)change;
    return cli_log_query_fetch(cfg, "cairn trail", &query, CLI_LOG_QUERY_PAGE, 0, found);
}

/* Asks cairn-policy which change key names (a StatusQuery); *id_out is the
 * change (malloc'd) or NULL when key names none. 0 or an exit code. */
static int s_resolve(const cairn_config_t *cfg, const char *key, char **id_out)
{
    *id_out = NULL;
    if (!cli_endpoint_listening(cairn_config_str(cfg, "bus.policy_query"))) {
        fprintf(stderr,
                "cairn trail: nothing is recorded for %s as a change id, and cairn-policy, "
                "which finds a change by its other keys, is not running (run `cairn up`)\n",
                key);
        return CLI_EXIT_UNREACHABLE;
    }
    uint8_t *buf = NULL;
    size_t len = 0;
    Cairn__V1__PolicyReply *reply = NULL;
    Cairn__V1__StatusQuery query = CAIRN__V1__STATUS_QUERY__INIT;
    Cairn__V1__PolicyRequest req = CAIRN__V1__POLICY_REQUEST__INIT;
    query.change_id = (char *)key;
    req.body_case = CAIRN__V1__POLICY_REQUEST__BODY_STATUS;
    req.status = &query;
    int code = CLI_EXIT_OK;
    int rc = cli_rpc_call(cfg, "bus.policy_query", &req.base, &buf, &len);
    if (rc == 0)
        rc = cairn_codec_policy_reply_unpack(buf, len, &reply);
    if (rc < 0) {
        code = cli_rpc_failed(cfg, "bus.policy_query", rc);
    } else if (reply->status == 0 && reply->change && reply->change->n_input_indexes > 0 &&
               strcmp(s_or(reply->change->change_id, key), key) != 0) {
        if (!(*id_out = strdup(reply->change->change_id)))
            code = CLI_EXIT_DENIED;
    }
    CAIRN_CODEC_FREE(&reply);
    free(buf);
    return code;
}

static int s_run(const cli_args_t *args)
{
    int code = CLI_EXIT_DENIED;
    char err[512];
    const char *change = args->pos[0];
    char *found = NULL;
    cairn_config_t *cfg = NULL;
    json_t *arr = NULL;
    cli_log_entries_t entries = {0};

    if (cli_load_config(args, &cfg, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    if ((code = s_entries(cfg, change, &entries)) != CLI_EXIT_OK)
        goto out;
    if (entries.n == 0) {
        /* Not a change id the ledger knows: maybe another key of a change. */
        if ((code = s_resolve(cfg, change, &found)) != CLI_EXIT_OK)
            goto out;
        if (found) {
            cli_log_entries_clear(&entries);
            if ((code = s_entries(cfg, found, &entries)) != CLI_EXIT_OK)
                goto out;
        }
    }
    size_t n = entries.n;
    if (args->json) {
        arr = cli_trail_json(entries.entries, n);
        code = arr && cli_json_print(arr, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
        goto out;
    }
    if (found)
        printf("%s is change %s\n", change, found);
    if (n == 0)
        printf("no entries recorded for %s\n", found ? found : change);
    else
        cli_trail_render(stdout, entries.entries, n);
    code = CLI_EXIT_OK;
out:
    free(found);
    json_decref(arr);
    cli_log_entries_clear(&entries);
    cairn_config_destroy(&cfg);
    return code;
}

const cli_command_t cli_cmd_trail = {
    .name = "trail",
    .positional = "CHANGE",
    .summary = "List every ledger entry recorded for a change, in log order.",
    .details = "CHANGE is the change id or any key the change is known by (a full commit\n"
               "SHA, owner/repo#42, an incident id, a release, a change request number, or\n"
               "the same with a prefix sha:, pr:, incident:, release:, cr:). When the ledger\n"
               "has nothing under CHANGE as a change id, cairn-policy is asked which change\n"
               "the key names; that change's trail follows \"KEY is change CHG-1\".\n"
               "Output: one line per entry: index, time appended (UTC), topic, and a summary:\n"
               "  event    id, actor / approver, role, decision (with signed_with, via and\n"
               "           authenticated_by on approvals), author, commit, env, evidence\n"
               "  verdict  gate, decision and the first reasons\n"
               "  alert    kind, severity and summary\n"
               "  receipt  receiver, outcome and the index it delivered\n"
               "With --json: an array with every field of each entry (hashes in hex) and its\n"
               "decoded record under \"record\" (\"kind\" says which).\n\n"
               "Exit codes: 0 listed (also when nothing is recorded), 2 usage error,\n"
               "4 cairn-ledger cannot be reached, or cairn-policy when CHANGE is not a\n"
               "change id the ledger knows (run `cairn up`).\n",
    .opts = NULL,
    .min_pos = 1,
    .max_pos = 1,
    .run = s_run,
};
