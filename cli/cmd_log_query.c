/* `cairn log query`: ledger entries found by the ledger's secondary indexes
 * (a change, a release, an environment, an actor or a topic prefix) and/or
 * a time range, in log order, shown as `cairn trail` shows them.
 *
 * cairn-ledger answers LedgerRequest.query with at most one reply's worth
 * of entries (CAIRN_ETOOLARGE beyond that), so the entries are asked page
 * by page with from_index and limit until a page comes back short. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"
#include "pbjson.h"
#include "rpc.h"

#define S_ENDPOINT "bus.ledger_api"

/* The selectors, in the order the help names them; at most one is given
 * (--type narrows any of them, or selects alone). */
static const char *const s_selectors[] = {"change", "release", "env", "actor"};
#define S_NSELECTORS (sizeof s_selectors / sizeof s_selectors[0])

#define S_TIME_FORMS                                                                               \
    "an RFC 3339 time (2026-11-26T10:00:00Z, 2026-11-26T10:00:00.250+01:00), a date "              \
    "(2026-11-26, midnight UTC) or a duration before now (30s, 90m, 24h, 7d)"

static const char *s_or(const char *s, const char *fallback)
{
    return s && *s ? s : fallback;
}

/* --- TIME --- */

/* "90m": digits, then letters only (the unit cairn_parse_duration_ms checks). */
static bool s_looks_like_duration(const char *text)
{
    size_t digits = strspn(text, "0123456789");
    if (digits == 0 || text[digits] == '\0')
        return false;
    for (const char *p = text + digits; *p; p++)
        if (*p < 'a' || *p > 'z')
            return false;
    return true;
}

/* "2026-11-26": exactly a date, read as midnight UTC. */
static int s_parse_date(const char *text, int64_t *ms_out)
{
    char full[32];
    if (strlen(text) != 10)
        return CAIRN_EINVALID;
    snprintf(full, sizeof full, "%sT00:00:00Z", text);
    return cairn_parse_time(full, ms_out) < 0 ? CAIRN_EINVALID : 0;
}

int cli_log_query_time(const char *text, int64_t now_ms, int64_t *ms_out)
{
    int64_t ms = 0;
    if (!text || !*text)
        return CAIRN_EINVALID;
    if (s_looks_like_duration(text)) {
        int64_t ago = 0;
        if (cairn_parse_duration_ms(text, &ago) < 0 || ago > now_ms)
            return CAIRN_EINVALID;
        ms = now_ms - ago;
    } else if (s_parse_date(text, &ms) < 0 && cairn_parse_time(text, &ms) < 0) {
        return CAIRN_EINVALID;
    }
    /* 0 means "no bound" to the ledger, and nothing was appended before 1970. */
    if (ms <= 0)
        return CAIRN_EINVALID;
    *ms_out = ms;
    return 0;
}

/* --- paging --- */

void cli_log_entries_clear(cli_log_entries_t *found)
{
    for (size_t i = 0; i < found->n_pages; i++)
        CAIRN_CODEC_FREE(&found->pages[i]);
    free(found->pages);
    free(found->entries);
    memset(found, 0, sizeof *found);
}

/* Moves the reply and its first n entries into *found. */
static int s_keep(cli_log_entries_t *found, Cairn__V1__LedgerReply *reply, size_t n)
{
    Cairn__V1__LedgerReply **pages = realloc(found->pages, (found->n_pages + 1) * sizeof *pages);
    if (!pages)
        return -ENOMEM;
    found->pages = pages;
    Cairn__V1__Entry **entries = realloc(found->entries, (found->n + n + 1) * sizeof *entries);
    if (!entries)
        return -ENOMEM;
    found->entries = entries;
    found->pages[found->n_pages++] = reply;
    for (size_t i = 0; i < n; i++)
        found->entries[found->n++] = reply->entries[i];
    return 0;
}

/* True when the page's entries are in log order from `from` on: paging
 * goes on from the last one, so an answer out of order could loop. */
static bool s_in_order(const Cairn__V1__LedgerReply *reply, uint64_t from)
{
    for (size_t i = 0; i < reply->n_entries; i++) {
        if (!reply->entries[i] || reply->entries[i]->index < from)
            return false;
        from = reply->entries[i]->index + 1;
        if (from == 0)
            return i + 1 == reply->n_entries; /* the last index there can be */
    }
    return true;
}

/* One request; 0 with *reply_out, or the rpc's (or the decoder's) code. */
static int s_ask(const cairn_config_t *cfg, const Cairn__V1__QueryRequest *query,
                 Cairn__V1__LedgerReply **reply_out)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_QUERY;
    req.query = (Cairn__V1__QueryRequest *)query;
    int rc = cli_rpc_call(cfg, S_ENDPOINT, &req.base, &buf, &len);
    if (rc == 0)
        rc = cairn_codec_ledger_reply_unpack(buf, len, reply_out);
    free(buf);
    return rc;
}

/* Asks for up to *want entries from q->from_index on, halving *want while
 * the ledger finds them too many bytes for one reply. 0 with *reply_out
 * (status 0, or CAIRN_ENOTFOUND for nothing), or the exit code after
 * printing why. */
static int s_page(const cairn_config_t *cfg, const char *who, Cairn__V1__QueryRequest *q,
                  uint32_t *want, Cairn__V1__LedgerReply **reply_out)
{
    int code = CLI_EXIT_DENIED;
    Cairn__V1__LedgerReply *reply = NULL;
    int rc;
    q->limit = *want;
    while ((rc = s_ask(cfg, q, &reply)) == 0 && reply->status == CAIRN_ETOOLARGE && *want > 1) {
        CAIRN_CODEC_FREE(&reply);
        q->limit = *want /= 2;
    }
    if (rc < 0) {
        code = cli_rpc_failed(cfg, S_ENDPOINT, rc);
        goto out;
    }
    if (reply->status < 0 && reply->status != CAIRN_ENOTFOUND) {
        fprintf(stderr, "%s: cairn-ledger refused: %s\n", who,
                s_or(reply->error, cairn_strerror(reply->status)));
        code = cli_status_exit(reply->status);
        goto out;
    }
    if (!s_in_order(reply, q->from_index)) {
        fprintf(stderr, "%s: cairn-ledger answered entries out of log order\n", who);
        goto out;
    }
    *reply_out = reply;
    reply = NULL;
    code = CLI_EXIT_OK;
out:
    CAIRN_CODEC_FREE(&reply);
    return code;
}

int cli_log_query_fetch(const cairn_config_t *cfg, const char *who,
                        const Cairn__V1__QueryRequest *query, uint32_t page, uint64_t max,
                        cli_log_entries_t *found)
{
    int code = CLI_EXIT_OK;
    Cairn__V1__QueryRequest q = *query;
    Cairn__V1__LedgerReply *reply = NULL;
    memset(found, 0, sizeof *found);
    page = page ? page : 1;

    for (;;) {
        uint32_t want = max && max - found->n < page ? (uint32_t)(max - found->n) : page;
        uint32_t asked = want;
        if ((code = s_page(cfg, who, &q, &want, &reply)) != CLI_EXIT_OK)
            break;
        if (want < asked)
            page = want; /* big entries: smaller pages from here on */
        size_t n = reply->status == 0 ? reply->n_entries : 0;
        n = n < want ? n : want; /* never more than asked, whatever the answer holds */
        if (s_keep(found, reply, n) < 0) {
            fprintf(stderr, "%s: out of memory\n", who);
            code = CLI_EXIT_DENIED;
            break;
        }
        reply = NULL;
        if (n < want || (max && found->n >= max))
            break;
        q.from_index = found->entries[found->n - 1]->index + 1;
        if (q.from_index == 0)
            break; /* past the last index there can be */
    }
    CAIRN_CODEC_FREE(&reply);
    return code;
}

/* --- the command --- */

/* Sets the one selector given, if any, and --type; else a usage error. */
static int s_selector(const cli_args_t *args, Cairn__V1__QueryRequest *q)
{
    const char *given = NULL;
    for (size_t i = 0; i < S_NSELECTORS; i++) {
        if (!cli_opt(args, s_selectors[i]))
            continue;
        if (given)
            return cli_usage_error(args->cmd,
                                   "give at most one of --change, --release, --env, --actor "
                                   "(got --%s and --%s); narrow it by topic with --type and by "
                                   "time with --since and --until",
                                   given, s_selectors[i]);
        given = s_selectors[i];
    }
    q->change_id = (char *)s_or(cli_opt(args, "change"), "");
    q->release_id = (char *)s_or(cli_opt(args, "release"), "");
    q->environment = (char *)s_or(cli_opt(args, "env"), "");
    q->actor = (char *)s_or(cli_opt(args, "actor"), "");
    q->topic_prefix = (char *)s_or(cli_opt(args, "type"), "");
    if (!given && !cli_opt(args, "type") && !cli_opt(args, "since") && !cli_opt(args, "until"))
        return cli_usage_error(args->cmd,
                               "say what to look for: one of --change C, --release R, --env E, "
                               "--actor A, --type PREFIX, or a time range with --since and/or "
                               "--until");
    return CLI_EXIT_OK;
}

/* --since and --until into from_ms and to_ms; else a usage error. */
static int s_time_range(const cli_args_t *args, Cairn__V1__QueryRequest *q)
{
    int64_t now = cairn_now_ms();
    const char *since = cli_opt(args, "since");
    const char *until = cli_opt(args, "until");
    if (since && cli_log_query_time(since, now, &q->from_ms) < 0)
        return cli_usage_error(args->cmd, "--since must be " S_TIME_FORMS ", got '%s'", since);
    if (until && cli_log_query_time(until, now, &q->to_ms) < 0)
        return cli_usage_error(args->cmd, "--until must be " S_TIME_FORMS ", got '%s'", until);
    if (since && until && q->from_ms >= q->to_ms)
        return cli_usage_error(args->cmd,
                               "--since %s is not before --until %s: the range is empty (--until "
                               "is exclusive)",
                               since, until);
    return CLI_EXIT_OK;
}

/* --after and --limit into from_index and *max_out; else a usage error. */
static int s_paging(const cli_args_t *args, Cairn__V1__QueryRequest *q, uint64_t *max_out)
{
    uint64_t after = 0;
    const char *text = cli_opt(args, "after");
    if (text && (cli_parse_u64(text, &after) < 0 || after == UINT64_MAX))
        return cli_usage_error(args->cmd, "--after must be a ledger index (0, 1, ...), got '%s'",
                               text);
    q->from_index = text ? after + 1 : 0;
    text = cli_opt(args, "limit");
    *max_out = 0;
    if (text && (cli_parse_u64(text, max_out) < 0 || *max_out == 0))
        return cli_usage_error(args->cmd,
                               "--limit must be a number of entries (1, 2, ...), got '%s'", text);
    return CLI_EXIT_OK;
}

static int s_print(const cli_args_t *args, const cli_log_entries_t *found)
{
    if (args->json) {
        json_t *arr = cli_trail_json(found->entries, found->n);
        int code = arr && cli_json_print(arr, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_DENIED;
        json_decref(arr);
        return code;
    }
    if (found->n == 0)
        printf("no entries match\n");
    else
        cli_trail_render(stdout, found->entries, found->n);
    return CLI_EXIT_OK;
}

static int s_run(const cli_args_t *args)
{
    int code;
    char err[512];
    uint64_t max = 0;
    cairn_config_t *cfg = NULL;
    cli_log_entries_t found;
    Cairn__V1__QueryRequest q = CAIRN__V1__QUERY_REQUEST__INIT;
    memset(&found, 0, sizeof found);

    if ((code = s_selector(args, &q)) != CLI_EXIT_OK ||
        (code = s_time_range(args, &q)) != CLI_EXIT_OK ||
        (code = s_paging(args, &q, &max)) != CLI_EXIT_OK)
        goto out;
    if (cli_load_config(args, &cfg, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    if ((code = cli_log_query_fetch(cfg, "cairn log query", &q, CLI_LOG_QUERY_PAGE, max, &found)) !=
        CLI_EXIT_OK)
        goto out;
    code = s_print(args, &found);
out:
    cli_log_entries_clear(&found);
    cairn_config_destroy(&cfg);
    return code;
}

static const cli_opt_t s_opts[] = {
    {"change", "C", false, "entries of change C", 0},
    {"release", "R", false, "entries whose event names release R", 0},
    {"env", "E", false, "entries whose event, verdict or alert names environment E", 0},
    {"actor", "A", false, "entries whose event's actor or approver is A", 0},
    {"type", "PREFIX", false, "entries whose topic starts with PREFIX, alone or narrowing", 0},
    {"since", "TIME", false, "entries appended at or after TIME", 0},
    {"until", "TIME", false, "entries appended before TIME (exclusive)", 0},
    {"after", "INDEX", false, "only entries with an index above INDEX (to resume)", 0},
    {"limit", "N", false, "at most N entries (default: all)", 0},
    {NULL, NULL, false, NULL, 0},
};

const cli_command_t cli_cmd_log_query = {
    .name = "log query",
    .positional = "",
    .summary = "Find ledger entries by change, release, environment, actor, topic or time.",
    .details = "Give at most one of --change, --release, --env, --actor; --type narrows it\n"
               "to topics starting with PREFIX (--env prod --type dev.cdevents.service.deployed\n"
               "is every deployment to prod), or selects alone; with neither, give --since\n"
               "and/or --until. --since and --until narrow any of them too.\n"
               "The topic of an event is its type (dev.cdevents.service.deployed.0.2.0), of a\n"
               "verdict verdict.GATE, of an alert alert.KIND, of a receipt receipt.RECEIVER.\n"
               "TIME is an RFC 3339 time (2026-11-26T10:00:00Z, also with fractional seconds\n"
               "or an offset such as +01:00), a date (2026-11-26, midnight UTC), or a\n"
               "duration before now (30s, 90m, 24h, 7d). The time is when the ledger\n"
               "appended the entry; --until is exclusive.\n"
               "Output: as `cairn trail`: one line per entry, in log order: index, time\n"
               "appended (UTC), topic and a summary; \"no entries match\" when none do.\n"
               "With --json: the array `cairn trail --json` prints ([] when none match).\n"
               "To resume a listing, pass the last index shown as --after.\n\n"
               "Examples:\n"
               "  cairn log query --env prod --since 7d\n"
               "  cairn log query --env prod --type dev.cdevents.service.deployed --since 30d\n"
               "  cairn log query --type dev.cdevents.service.deployed --since 2026-11-01\n"
               "  cairn log query --actor dana --since 2026-11-01 --until 2026-12-01\n"
               "  cairn log query --type verdict. --since 24h --json\n"
               "  cairn log query --since 90m --after 1041 --limit 100\n\n"
               "Exit codes: 0 listed (also when nothing matches), 1 the ledger could not\n"
               "answer, 2 usage error, 4 cairn-ledger cannot be reached (run `cairn up`).\n",
    .opts = s_opts,
    .min_pos = 0,
    .max_pos = 0,
    .run = s_run,
};
