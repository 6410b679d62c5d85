/* `cairn notify`: routes test/check (offline, from the routes file),
 * silences and acknowledgements (recorded in the ledger, where every
 * cairn-notify reads them back from the stream), and the dead letters of
 * the running cairn-notify. */
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "cmd_notify.h"
#include "commands.h"
#include "ledger_client.h"
#include "matcher.h"
#include "notify_codec.h"
#include "pbjson.h"
#include "rpc.h"

#define S_ROUTES_MAX 64

static void s_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void s_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *s_or(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

/* "30s", "5m", "4h", "2d", "250ms", "0s". */
static void s_duration(int64_t ms, char *buf, size_t len)
{
    if (ms == 0)
        snprintf(buf, len, "0s");
    else if (ms % 86400000 == 0)
        snprintf(buf, len, "%" PRId64 "d", ms / 86400000);
    else if (ms % 3600000 == 0)
        snprintf(buf, len, "%" PRId64 "h", ms / 3600000);
    else if (ms % 60000 == 0)
        snprintf(buf, len, "%" PRId64 "m", ms / 60000);
    else if (ms % 1000 == 0)
        snprintf(buf, len, "%" PRId64 "s", ms / 1000);
    else
        snprintf(buf, len, "%" PRId64 "ms", ms);
}

int cli_notify_labels(const char *const *args, size_t n, cairn_labels_t **out, char *err,
                      size_t errlen)
{
    cairn_labels_t *l = cairn_labels_new();
    if (!l)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(args[i], '=');
        if (!eq || eq == args[i]) {
            s_err(err, errlen, "'%s' is not LABEL=VALUE", args[i]);
            cairn_labels_destroy(&l);
            return CAIRN_EINVALID;
        }
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - args[i]), args[i]);
        const char *v = eq + 1;
        size_t vl = strlen(v);
        char value[1024];
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"')
            snprintf(value, sizeof value, "%.*s", (int)(vl - 2), v + 1);
        else
            snprintf(value, sizeof value, "%s", v);
        if (cairn_labels_set(l, name, value) < 0) {
            cairn_labels_destroy(&l);
            return -ENOMEM;
        }
    }
    *out = l;
    return 0;
}

json_t *cli_notify_routes_test(const cairn_routes_t *routes, const cairn_labels_t *labels,
                               int64_t at_ms)
{
    const cairn_route_t *hit[S_ROUTES_MAX];
    size_t n = cairn_routes_match(routes, labels, hit, S_ROUTES_MAX);
    if (n > S_ROUTES_MAX)
        n = S_ROUTES_MAX;
    json_t *arr = json_array();
    json_t *res = json_pack("{s:o, s:o}", "labels", cairn_labels_to_json(labels), "receivers", arr);
    if (!res)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const cairn_route_t *r = hit[i];
        cairn_labels_t *gl = NULL;
        if (cairn_route_group_labels(r, labels, &gl) < 0) {
            json_decref(res);
            return NULL;
        }
        char *glf = cairn_labels_format(gl);
        cairn_labels_destroy(&gl);
        char gk[2048], gw[32], gi[32], ri[32];
        snprintf(gk, sizeof gk, "%s:%s", r->key, glf ? glf : "{}");
        free(glf);
        s_duration(r->group_wait_ms, gw, sizeof gw);
        s_duration(r->group_interval_ms, gi, sizeof gi);
        s_duration(r->repeat_interval_ms, ri, sizeof ri);
        json_t *gb = json_array(), *ints = json_array();
        if (r->group_by_all)
            json_array_append_new(gb, json_string("..."));
        for (size_t k = 0; !r->group_by_all && k < r->n_group_by; k++)
            json_array_append_new(gb, json_string(r->group_by[k]));
        for (size_t k = 0; k < r->receiver->n_integrations; k++)
            json_array_append_new(ints, json_string(r->receiver->integrations[k]->target));
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:i, s:o, s:s, s:s, s:s, s:s, s:b, s:o}",
                                        "receiver", r->receiver->name, "route", r->key, "line",
                                        r->line, "group_by", gb, "group_key", gk, "group_wait", gw,
                                        "group_interval", gi, "repeat_interval", ri, "active",
                                        cairn_route_active_at(r, at_ms), "integrations", ints));
    }
    return res;
}

void cli_notify_routes_render(FILE *out, const json_t *result)
{
    const json_t *arr = json_object_get(result, "receivers");
    size_t i;
    const json_t *r;
    json_array_foreach(arr, i, r)
    {
        fprintf(out, "%s%s", i ? "," : "", json_string_value(json_object_get(r, "receiver")));
    }
    fprintf(out, "\n");
    json_array_foreach(arr, i, r)
    {
        const json_t *ints = json_object_get(r, "integrations");
        fprintf(out, "  %s  route %s", json_string_value(json_object_get(r, "receiver")),
                json_string_value(json_object_get(r, "route")));
        json_int_t line = json_integer_value(json_object_get(r, "line"));
        if (line > 0)
            fprintf(out, " (line %lld)", (long long)line);
        fprintf(out, "\n    group %s  wait %s, interval %s, repeat %s%s\n",
                json_string_value(json_object_get(r, "group_key")),
                json_string_value(json_object_get(r, "group_wait")),
                json_string_value(json_object_get(r, "group_interval")),
                json_string_value(json_object_get(r, "repeat_interval")),
                json_is_true(json_object_get(r, "active")) ? ""
                                                           : "  (muted now by its time intervals)");
        fprintf(out, "    delivers to:");
        size_t k;
        const json_t *t;
        json_array_foreach(ints, k, t)
        {
            fprintf(out, "%s %s", k ? "," : "", json_string_value(t));
        }
        fprintf(out, "%s\n",
                json_array_size(ints) ? "" : " nothing (the receiver has no integrations)");
    }
}

int cli_notify_parse_until(const char *text, int64_t now_ms, int64_t *out)
{
    int64_t d = 0;
    if (cairn_parse_duration_ms(text, &d) == 0 && d > 0) {
        *out = now_ms + d;
        return 0;
    }
    if (cairn_parse_time(text, out) == 0)
        return 0;
    return CAIRN_EINVALID;
}

void cli_notify_matchers_free(Cairn__V1__Matcher **m, size_t n)
{
    for (size_t i = 0; m && i < n; i++) {
        if (!m[i])
            continue;
        free(m[i]->name);
        free(m[i]->op);
        free(m[i]->value);
        free(m[i]);
    }
    free(m);
}

int cli_notify_matchers(const char *const *texts, size_t n, Cairn__V1__Matcher ***out,
                        size_t *n_out, char *err, size_t errlen)
{
    cairn_matchers_t *ms = cairn_matchers_new();
    Cairn__V1__Matcher **arr = NULL;
    size_t count = 0;
    int rc = 0;
    if (!ms)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char why[512];
        if (cairn_matchers_parse(ms, texts[i], why, sizeof why) < 0) {
            s_err(err, errlen, "%s", why);
            rc = CAIRN_EINVALID;
            goto out;
        }
    }
    count = cairn_matchers_count(ms);
    arr = calloc(count + 1, sizeof *arr);
    if (!arr) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        arr[i] = malloc(sizeof *arr[i]);
        if (!arr[i]) {
            rc = -ENOMEM;
            goto out;
        }
        cairn__v1__matcher__init(arr[i]);
        arr[i]->name = strdup(cairn_matchers_name(ms, i));
        arr[i]->op = strdup(cairn_match_op_name(cairn_matchers_op(ms, i)));
        arr[i]->value = strdup(cairn_matchers_value(ms, i));
        if (!arr[i]->name || !arr[i]->op || !arr[i]->value) {
            rc = -ENOMEM;
            goto out;
        }
    }
    *out = arr;
    *n_out = count;
    arr = NULL;
out:
    cli_notify_matchers_free(arr, count);
    cairn_matchers_destroy(&ms);
    return rc;
}

/* ---- notify routes ------------------------------------------------------ */

static const cli_opt_t s_routes_opts[] = {
    {"routes", "FILE", false, "routes file (default: notify.routes_file of the configuration)", 0},
    {"at", "TIME", false, "evaluate time intervals at this RFC 3339 time (default: now)", 0},
    {NULL, NULL, false, NULL, 0},
};

static int s_routes_run(const cli_args_t *args)
{
    char err[1024];
    cairn_config_t *cfg = NULL;
    cairn_routes_t *routes = NULL;
    cairn_labels_t *labels = NULL;
    json_t *res = NULL;
    int code = CLI_EXIT_USAGE;
    const char *action = args->pos[0];
    bool test = strcmp(action, "test") == 0;
    if (!test && strcmp(action, "check") != 0)
        return cli_usage_error(args->cmd, "unknown action '%s': expected test or check", action);
    if (!test && args->npos > 1)
        return cli_usage_error(args->cmd, "check takes no labels");
    if (cli_load_config(args, &cfg, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    const char *file = cli_opt(args, "routes");
    if (!file)
        file = cairn_config_str(cfg, "notify.routes_file");
    if (cairn_routes_load(file, cairn_config_str(cfg, "notify.file"), &routes, err, sizeof err) <
        0) {
        fprintf(stderr, "cairn notify routes: %s\n", err);
        goto out;
    }
    if (!test) {
        if (args->json) {
            res = json_pack("{s:b, s:s, s:I, s:I, s:I, s:I, s:I}", "ok", 1, "file",
                            *file ? file : "(built in)", "routes", (json_int_t)routes->n_routes,
                            "receivers", (json_int_t)routes->n_receivers, "inhibit_rules",
                            (json_int_t)routes->n_inhibit, "time_intervals",
                            (json_int_t)routes->n_intervals, "escalations",
                            (json_int_t)routes->n_escalations);
            code = res && cli_json_print(res, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
        } else {
            printf("OK: %s: %zu routes, %zu receivers, %zu inhibit rules, %zu time intervals, "
                   "%zu escalations\n",
                   *file ? file : "(built-in routes)", routes->n_routes, routes->n_receivers,
                   routes->n_inhibit, routes->n_intervals, routes->n_escalations);
            code = CLI_EXIT_OK;
        }
        goto out;
    }
    if (cli_notify_labels(args->pos + 1, args->npos - 1, &labels, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    int64_t at = cairn_now_ms();
    const char *at_text = cli_opt(args, "at");
    if (at_text && cairn_parse_time(at_text, &at) < 0) {
        code = cli_usage_error(args->cmd, "--at needs an RFC 3339 time, got '%s'", at_text);
        goto out;
    }
    res = cli_notify_routes_test(routes, labels, at);
    if (!res) {
        fprintf(stderr, "cairn notify routes: out of memory\n");
        code = CLI_EXIT_DENIED;
        goto out;
    }
    if (args->json)
        code = cli_json_print(res, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
    else {
        cli_notify_routes_render(stdout, res);
        code = CLI_EXIT_OK;
    }
out:
    json_decref(res);
    cairn_labels_destroy(&labels);
    cairn_routes_destroy(&routes);
    cairn_config_destroy(&cfg);
    return code;
}

static const cli_command_t s_routes = {
    .name = "notify routes",
    .positional = "test LABEL=VALUE... | check",
    .summary = "Which receivers an alert with these labels reaches; or check the routes file.",
    .details =
        "Works offline: it reads the routes file (--routes, else notify.routes_file, else the\n"
        "built-in default) and walks the routing tree as cairn-notify does.\n"
        "Labels: service, env, team, change, release, risk, change_type, decision, kind,\n"
        "severity, role, gate (see docs/notify.md for how they are derived).\n"
        "Output: the receiver names, comma-separated, then per route its key, group, timers\n"
        "and integrations. With --json: {labels, receivers: [...]}.\n\n"
        "Example: cairn notify routes test env=prod kind=approval_requested change=CHG-1\n\n"
        "Exit codes: 0 done, 2 usage error or a routes file that does not load.\n",
    .opts = s_routes_opts,
    .min_pos = 1,
    .max_pos = CLI_MAX_POS,
    .run = s_routes_run,
};

/* ---- appends to the ledger --------------------------------------------- */

/* Appends rec under key and prints the ledger index; returns the exit code. */
static int s_append(const cli_args_t *args, const char *key, Cairn__V1__Record *rec,
                    uint64_t *index_out)
{
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__AppendRequest append = CAIRN__V1__APPEND_REQUEST__INIT;
    Cairn__V1__LedgerReply *reply = NULL;
    append.key = (char *)key;
    append.record = rec;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = &append;
    int code = cli_ledger_call(args, &req, &reply, NULL);
    if (code == CLI_EXIT_OK) {
        if (!reply->ack) {
            fprintf(stderr, "cairn %s: cairn-ledger sent no acknowledgement\n", args->cmd->name);
            code = CLI_EXIT_DENIED;
        } else {
            *index_out = reply->ack->index;
        }
    }
    CAIRN_CODEC_FREE(&reply);
    return code;
}

static void s_random_id(const char *prefix, char *out, size_t len)
{
    uint8_t raw[8];
    char hex[17];
    randombytes_buf(raw, sizeof raw);
    cairn_hex(raw, sizeof raw, hex);
    snprintf(out, len, "%s%s", prefix, hex);
}

static const char *s_user(void)
{
    const char *u = getenv("USER");
    return u && *u ? u : "unknown";
}

/* ---- notify silence ----------------------------------------------------- */

static const cli_opt_t s_silence_opts[] = {
    {"owner", "USER", false, "who owns the silence (default: $USER)", 0},
    {"reason", "TEXT", false, "why (required unless --expire)", 0},
    {"expires", "WHEN", false, "when it ends: a duration (2h) or an RFC 3339 time (default 2h)", 0},
    {"starts", "TIME", false, "when it starts (RFC 3339; default: now)", 0},
    {"expire", "ID", false, "end the silence ID now instead of creating one", 0},
    {NULL, NULL, false, NULL, 0},
};

static int s_silence_run(const cli_args_t *args)
{
    char err[1024], id[64], key[160];
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__Silence s = CAIRN__V1__SILENCE__INIT;
    Cairn__V1__Matcher **m = NULL;
    size_t nm = 0;
    int64_t now = cairn_now_ms(), starts = now, ends = 0;
    const char *expire = cli_opt(args, "expire");
    const char *reason = cli_opt(args, "reason");
    int code;

    if (sodium_init() < 0)
        return CLI_EXIT_DENIED;
    if (!expire && args->npos == 0)
        return cli_usage_error(args->cmd, "a silence needs at least one MATCHER (e.g. "
                                          "'service=\"payments\"')");
    if (!expire && !reason)
        return cli_usage_error(args->cmd,
                               "--reason is required: say why notifications are held back");
    if (expire && args->npos == 0) {
        /* Expiring: the same id, ending now. The matchers of the original are
         * not needed to end it, but the record must still be usable on its
         * own, so it carries a matcher no alert has. */
        static const char *const never[] = {"silence_expired=\"true\""};
        if ((code = cli_notify_matchers(never, 1, &m, &nm, err, sizeof err)) < 0)
            return CLI_EXIT_DENIED;
        snprintf(id, sizeof id, "%s", expire);
        ends = now;
        starts = now;
    } else {
        if (cli_notify_matchers(args->pos, args->npos, &m, &nm, err, sizeof err) < 0)
            return cli_usage_error(args->cmd, "%s", err);
        if (expire) {
            snprintf(id, sizeof id, "%s", expire);
            ends = now;
        } else {
            s_random_id("sil-", id, sizeof id);
            const char *until = cli_opt(args, "expires");
            if (cli_notify_parse_until(until ? until : "2h", now, &ends) < 0) {
                cli_notify_matchers_free(m, nm);
                return cli_usage_error(args->cmd,
                                       "--expires needs a duration (2h) or an RFC 3339 time");
            }
            const char *st = cli_opt(args, "starts");
            if (st && cairn_parse_time(st, &starts) < 0) {
                cli_notify_matchers_free(m, nm);
                return cli_usage_error(args->cmd, "--starts needs an RFC 3339 time");
            }
            if (ends <= starts) {
                cli_notify_matchers_free(m, nm);
                return cli_usage_error(args->cmd, "the silence would end before it starts");
            }
        }
    }
    s.id = id;
    s.matchers = m;
    s.n_matchers = nm;
    s.created_by = (char *)s_or(cli_opt(args, "owner"), s_user());
    s.comment = (char *)s_or(reason, "expired");
    s.starts_at_ms = starts;
    s.ends_at_ms = ends;
    s.created_at_ms = now;
    rec.body_case = CAIRN__V1__RECORD__BODY_SILENCE;
    rec.silence = &s;
    snprintf(key, sizeof key, "silence:%s:%" PRId64, id, now);
    uint64_t index = 0;
    code = s_append(args, key, &rec, &index);
    if (code == CLI_EXIT_OK) {
        if (args->json) {
            json_t *j = cli_pb_to_json(&s.base);
            if (j)
                json_object_set_new(j, "index", json_integer((json_int_t)index));
            code = j && cli_json_print(j, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
            json_decref(j);
        } else if (expire) {
            printf("silence %s expired (ledger index %" PRIu64 ")\n", id, index);
        } else {
            cairn_matchers_t *ms = cairn_matchers_new();
            for (size_t i = 0; ms && i < args->npos; i++)
                cairn_matchers_parse(ms, args->pos[i], NULL, 0);
            char *text = ms ? cairn_matchers_format(ms) : NULL;
            char until[32];
            cairn_format_time(ends, until);
            printf("silence %s recorded at ledger index %" PRIu64 ": holds back %s until %s\n", id,
                   index, text ? text : "?", until);
            free(text);
            cairn_matchers_destroy(&ms);
        }
    }
    cli_notify_matchers_free(m, nm);
    return code;
}

static const cli_command_t s_silence = {
    .name = "notify silence",
    .positional = "MATCHER...",
    .summary = "Hold back notifications for alerts matching every MATCHER, for a while.",
    .details =
        "Matchers as in Alertmanager: name=\"value\", name!=\"value\", name=~\"regex\",\n"
        "name!~\"regex\" (POSIX extended, anchored). The silence is recorded in the ledger\n"
        "(topic notify.silence) with its owner, reason and expiry; every cairn-notify\n"
        "reads it back from the stream. --expire ID ends a silence early.\n"
        "Output: \"silence <id> recorded at ledger index N: holds back {...} until T\".\n\n"
        "Example: cairn notify silence 'service=\"payments\"' 'env=\"staging\"' \\\n"
        "           --reason \"load test\" --expires 3h\n\n"
        "Exit codes: 0 recorded, 1 refused, 2 usage error, 4 cairn-ledger cannot be reached.\n",
    .opts = s_silence_opts,
    .min_pos = 0,
    .max_pos = CLI_MAX_POS,
    .run = s_silence_run,
};

/* ---- notify silences ---------------------------------------------------- */

static const cli_opt_t s_silences_opts[] = {
    {"all", NULL, false, "also list silences that have ended", 0},
    {NULL, NULL, false, NULL, 0},
};

static int s_silences_run(const cli_args_t *args)
{
    Cairn__V1__QueryRequest q = CAIRN__V1__QUERY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    Cairn__V1__LedgerReply *reply = NULL;
    json_t *latest = json_object(), *out = json_array();
    cairn_config_t *cfg = NULL;
    int64_t now = cairn_now_ms();
    int code = CLI_EXIT_DENIED;
    if (!latest || !out)
        goto done;
    q.topic_prefix = "notify.silence";
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_QUERY;
    req.query = &q;
    char err[512];
    if (cli_load_config(args, &cfg, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto done;
    }
    /* Page through every silence record; a later record of an id replaces it. */
    for (;;) {
        uint8_t *buf = NULL;
        size_t len = 0;
        int rc = cli_rpc_call(cfg, "bus.ledger_api", &req.base, &buf, &len);
        if (rc == 0)
            rc = cairn_codec_ledger_reply_unpack(buf, len, &reply);
        free(buf);
        if (rc < 0) {
            code = cli_rpc_failed(cfg, "bus.ledger_api", rc);
            goto done;
        }
        if (reply->status == CAIRN_ENOTFOUND)
            break; /* no silence was ever recorded */
        if (reply->status < 0) {
            fprintf(stderr, "cairn notify silences: cairn-ledger refused: %s\n",
                    s_or(reply->error, cairn_strerror(reply->status)));
            code = cli_status_exit(reply->status);
            goto done;
        }
        for (size_t i = 0; i < reply->n_entries; i++) {
            Cairn__V1__Record *rec = NULL;
            const Cairn__V1__Entry *e = reply->entries[i];
            if (cairn_codec_record_unpack(e->record.data, e->record.len, &rec) == 0 &&
                rec->body_case == CAIRN__V1__RECORD__BODY_SILENCE) {
                json_t *j = cli_pb_to_json(&rec->silence->base);
                if (j) {
                    json_object_set_new(j, "index", json_integer((json_int_t)e->index));
                    json_object_set(latest, s_or(rec->silence->id, "?"), j);
                    json_decref(j);
                }
            }
            CAIRN_CODEC_FREE(&rec);
            q.from_index = e->index + 1;
        }
        size_t got = reply->n_entries;
        CAIRN_CODEC_FREE(&reply);
        if (got == 0)
            break;
    }
    const char *id;
    json_t *s;
    json_object_foreach(latest, id, s)
    {
        json_int_t ends = json_integer_value(json_object_get(s, "ends_at_ms"));
        if (!cli_flag(args, "all") && ends <= now)
            continue;
        json_array_append(out, s);
    }
    if (args->json) {
        code = cli_json_print(out, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
        goto done;
    }
    if (json_array_size(out) == 0)
        printf("no silences in force\n");
    size_t i;
    json_array_foreach(out, i, s)
    {
        char until[32];
        cairn_format_time(json_integer_value(json_object_get(s, "ends_at_ms")), until);
        printf("%s  until %s  by %s: %s\n", json_string_value(json_object_get(s, "id")), until,
               json_string_value(json_object_get(s, "created_by")),
               json_string_value(json_object_get(s, "comment")));
        size_t k;
        json_t *m;
        printf("    ");
        json_array_foreach(json_object_get(s, "matchers"), k, m)
        {
            printf("%s%s%s\"%s\"", k ? ", " : "", json_string_value(json_object_get(m, "name")),
                   json_string_value(json_object_get(m, "op")),
                   json_string_value(json_object_get(m, "value")));
        }
        printf("\n");
    }
    code = CLI_EXIT_OK;
done:
    CAIRN_CODEC_FREE(&reply);
    cairn_config_destroy(&cfg);
    json_decref(latest);
    json_decref(out);
    return code;
}

static const cli_command_t s_silences = {
    .name = "notify silences",
    .positional = "",
    .summary = "List the silences in force (from the ledger).",
    .details = "Output: one silence per entry: id, end, owner, reason, then its matchers.\n"
               "With --json: an array of Silence records with their ledger index.\n\n"
               "Exit codes: 0 listed, 2 usage error, 4 cairn-ledger cannot be reached.\n",
    .opts = s_silences_opts,
    .min_pos = 0,
    .max_pos = 0,
    .run = s_silences_run,
};

/* ---- notify ack --------------------------------------------------------- */

static const cli_opt_t s_ack_opts[] = {
    {"as", "USER", true, "who takes ownership", 0},
    {"comment", "TEXT", false, "what they are doing about it", 0},
    {"expires", "WHEN", false, "when the acknowledgement lapses (duration or RFC 3339)", 0},
    {NULL, NULL, false, NULL, 0},
};

static int s_ack_run(const cli_args_t *args)
{
    char err[1024], id[64], key[256];
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__Acknowledgement a = CAIRN__V1__ACKNOWLEDGEMENT__INIT;
    Cairn__V1__Matcher **m = NULL;
    size_t nm = 0;
    int64_t now = cairn_now_ms(), expires = 0;
    const char *change = args->pos[0];
    if (sodium_init() < 0)
        return CLI_EXIT_DENIED;
    if (!*change || strchr(change, ' '))
        return cli_usage_error(args->cmd, "CHANGE must be a change id without spaces");
    if (cli_notify_matchers(args->pos + 1, args->npos - 1, &m, &nm, err, sizeof err) < 0)
        return cli_usage_error(args->cmd, "%s", err);
    const char *until = cli_opt(args, "expires");
    if (until && cli_notify_parse_until(until, now, &expires) < 0) {
        cli_notify_matchers_free(m, nm);
        return cli_usage_error(args->cmd, "--expires needs a duration (4h) or an RFC 3339 time");
    }
    s_random_id("ack-", id, sizeof id);
    a.id = id;
    a.change_id = (char *)change;
    a.matchers = m;
    a.n_matchers = nm;
    a.acknowledged_by = (char *)cli_opt(args, "as");
    a.comment = (char *)s_or(cli_opt(args, "comment"), "");
    a.created_at_ms = now;
    a.expires_at_ms = expires;
    rec.body_case = CAIRN__V1__RECORD__BODY_ACK;
    rec.ack = &a;
    snprintf(key, sizeof key, "ack:%s:%s", change, id);
    uint64_t index = 0;
    int code = s_append(args, key, &rec, &index);
    if (code == CLI_EXIT_OK) {
        if (args->json) {
            json_t *j = cli_pb_to_json(&a.base);
            if (j)
                json_object_set_new(j, "index", json_integer((json_int_t)index));
            code = j && cli_json_print(j, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
            json_decref(j);
        } else {
            printf("%s acknowledged the alerts of %s (%s, ledger index %" PRIu64
                   "): reminders and escalations stop until they change\n",
                   a.acknowledged_by, change, id, index);
        }
    }
    cli_notify_matchers_free(m, nm);
    return code;
}

static const cli_command_t s_ack = {
    .name = "notify ack",
    .positional = "CHANGE [MATCHER...]",
    .summary = "Take ownership of a change's alerts: reminders and escalations stop.",
    .details =
        "Recorded in the ledger (topic notify.ack, change CHANGE). MATCHERs narrow the\n"
        "alerts acknowledged (e.g. 'kind=\"approval_requested\"'). New or changed alerts\n"
        "of the change still notify; the acknowledgement covers what was there.\n\n"
        "Exit codes: 0 recorded, 1 refused, 2 usage error, 4 cairn-ledger cannot be reached.\n",
    .opts = s_ack_opts,
    .min_pos = 1,
    .max_pos = CLI_MAX_POS,
    .run = s_ack_run,
};

/* ---- notify dead -------------------------------------------------------- */

static const cli_opt_t s_dead_opts[] = {
    {"limit", "N", false, "at most N dead letters (default 100)", 0},
    {NULL, NULL, false, NULL, 0},
};

/* Sends req to cairn-notify; returns the exit code and the reply. */
static int s_notify_call(const cli_args_t *args, const Cairn__V1__NotifyRequest *req,
                         Cairn__V1__NotifyReply **reply_out)
{
    char err[512];
    cairn_config_t *cfg = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    Cairn__V1__NotifyReply *reply = NULL;
    int rc, code;
    if (cli_load_config(args, &cfg, err, sizeof err) < 0)
        return cli_usage_error(args->cmd, "%s", err);
    if ((rc = cli_rpc_call(cfg, "bus.notify_api", &req->base, &buf, &len)) < 0 ||
        (rc = cairn_notify_codec_reply_unpack(buf, len, &reply)) < 0) {
        code = cli_rpc_failed(cfg, "bus.notify_api", rc);
        goto out;
    }
    if (reply->status < 0) {
        fprintf(stderr, "cairn %s: cairn-notify refused: %s\n", args->cmd->name,
                s_or(reply->error, cairn_strerror(reply->status)));
        code = cli_status_exit(reply->status);
        goto out;
    }
    *reply_out = reply;
    reply = NULL;
    code = CLI_EXIT_OK;
out:
    CAIRN_CODEC_FREE(&reply);
    free(buf);
    cairn_config_destroy(&cfg);
    return code;
}

static int s_dead_run(const cli_args_t *args)
{
    Cairn__V1__NotifyRequest req = CAIRN__V1__NOTIFY_REQUEST__INIT;
    Cairn__V1__DeadLetterQuery q = CAIRN__V1__DEAD_LETTER_QUERY__INIT;
    Cairn__V1__NotifyReply *reply = NULL;
    const char *limit = cli_opt(args, "limit");
    uint64_t n = 100;
    if (limit && (cli_parse_u64(limit, &n) < 0 || n == 0 || n > 100000))
        return cli_usage_error(args->cmd, "--limit needs a number from 1 to 100000");
    q.limit = (uint32_t)n;
    req.body_case = CAIRN__V1__NOTIFY_REQUEST__BODY_DEAD;
    req.dead = &q;
    int code = s_notify_call(args, &req, &reply);
    if (code != CLI_EXIT_OK)
        return code;
    if (args->json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < reply->n_dead; i++)
            json_array_append_new(arr, cli_pb_to_json(&reply->dead[i]->base));
        code = arr && cli_json_print(arr, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
        json_decref(arr);
    } else {
        if (reply->n_dead == 0)
            printf("no dead letters\n");
        for (size_t i = 0; i < reply->n_dead; i++) {
            const Cairn__V1__DeadLetter *d = reply->dead[i];
            char when[32];
            cairn_format_time(d->dead_at_ms, when);
            printf("%s  %s  %s/%" PRIu64 " after %" PRIu32 " attempt%s: %s\n", when, d->receiver,
                   d->group_id, d->sequence, d->attempts, d->attempts == 1 ? "" : "s",
                   d->last_error);
        }
    }
    CAIRN_CODEC_FREE(&reply);
    return code;
}

static const cli_command_t s_dead = {
    .name = "notify dead",
    .positional = "",
    .summary = "List notifications cairn-notify gave up on (dead letters).",
    .details = "Output: one line per dead letter: when, receiver/integration, group/sequence,\n"
               "attempts and the last error. Each also raised a delivery_failed alert.\n\n"
               "Exit codes: 0 listed, 2 usage error, 4 cairn-notify cannot be reached.\n",
    .opts = s_dead_opts,
    .min_pos = 0,
    .max_pos = 0,
    .run = s_dead_run,
};

static const cli_command_t *const s_subs[] = {&s_routes, &s_silence, &s_silences,
                                              &s_ack,    &s_dead,    NULL};

const cli_command_t cli_cmd_notify = {
    .name = "notify",
    .positional = "SUBCOMMAND",
    .summary = "Notifications: routes test/check, silence, silences, ack, dead.",
    .details = "Exit codes: 0 success, 1 failed, 2 usage error, 4 a daemon cannot be reached.\n",
    .min_pos = 0,
    .max_pos = 0,
    .run = NULL,
    .subs = s_subs,
};

/* ---- cairn inbox -------------------------------------------------------- */

static const cli_opt_t s_inbox_opts[] = {
    {"role", "ROLE", false, "only items addressed to this role (e.g. tech_lead)", 0},
    {"change", "CHANGE", false, "only items about this change", 0},
    {"limit", "N", false, "at most N items, newest first (default 20)", 0},
    {NULL, NULL, false, NULL, 0},
};

static int s_inbox_run(const cli_args_t *args)
{
    Cairn__V1__NotifyRequest req = CAIRN__V1__NOTIFY_REQUEST__INIT;
    Cairn__V1__InboxQuery q = CAIRN__V1__INBOX_QUERY__INIT;
    Cairn__V1__NotifyReply *reply = NULL;
    const char *limit = cli_opt(args, "limit");
    uint64_t n = 20;
    if (limit && (cli_parse_u64(limit, &n) < 0 || n == 0 || n > 1000))
        return cli_usage_error(args->cmd, "--limit needs a number from 1 to 1000");
    q.limit = (uint32_t)n;
    q.role = (char *)s_or(cli_opt(args, "role"), "");
    q.change_id = (char *)s_or(cli_opt(args, "change"), "");
    req.body_case = CAIRN__V1__NOTIFY_REQUEST__BODY_INBOX;
    req.inbox = &q;
    int code = s_notify_call(args, &req, &reply);
    if (code != CLI_EXIT_OK)
        return code;
    if (args->json) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < reply->n_items; i++)
            json_array_append_new(arr, cli_pb_to_json(&reply->items[i]->base));
        code = arr && cli_json_print(arr, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
        json_decref(arr);
    } else {
        if (reply->n_items == 0)
            printf("inbox is empty%s%s\n", *q.role ? " for role " : "", q.role);
        for (size_t i = 0; i < reply->n_items; i++) {
            const Cairn__V1__InboxItem *it = reply->items[i];
            char when[32];
            cairn_format_time(it->time_ms, when);
            printf("#%" PRIu64 "  %s  %s\n", it->seq, when, it->title);
            /* The body, indented, without its title line. */
            const char *body = it->text ? strchr(it->text, '\n') : NULL;
            for (const char *p = body ? body + 1 : ""; *p;) {
                const char *nl = strchr(p, '\n');
                int len = nl ? (int)(nl - p) : (int)strlen(p);
                if (len > 0)
                    printf("    %.*s\n", len, p);
                p += len + (nl ? 1 : 0);
            }
        }
    }
    CAIRN_CODEC_FREE(&reply);
    return code;
}

const cli_command_t cli_cmd_inbox = {
    .name = "inbox",
    .positional = "",
    .summary = "Recent notifications from the in-platform feed (optionally for one role).",
    .details = "Asks cairn-notify (bus.notify_api) for the newest items its feed receivers\n"
               "delivered. An approval request names the change, its risk, what is still\n"
               "required, who may approve and the `cairn approve` command to do it.\n"
               "With --json: an array of InboxItem.\n\n"
               "Exit codes: 0 listed, 2 usage error, 4 cairn-notify cannot be reached.\n",
    .opts = s_inbox_opts,
    .min_pos = 0,
    .max_pos = 0,
    .run = s_inbox_run,
};
