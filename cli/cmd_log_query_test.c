/* Tests for `cairn log query`, run as a command against the real
 * cairn-ledger on ipc:// endpoints in a temporary directory: a mix of
 * events and verdicts for two changes, releases, actors and environments,
 * appended in three bursts so the time ranges have edges to test; then
 * more entries than one page. The TIME forms are tested on their own. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/bus.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"
#include "rpc.h"
#include "testledger.h"
#include "testrun.h"

#define S_NFIXED 8               /* entries the setup appends */
#define S_NBIG 250               /* entries of CHG-BIG, more than one page */
#define S_NOW_MS 1795687200000LL /* 2026-11-26T10:00:00Z */

static char s_dir[64];
static pid_t s_ledger = -1;
static int64_t s_times[S_NFIXED]; /* appended_at_ms of each fixed entry */

/* ---- TIME ---- */

static int64_t s_time(const char *text)
{
    int64_t ms = -1;
    assert_int_equal(cli_log_query_time(text, S_NOW_MS, &ms), 0);
    return ms;
}

static void each_time_form_is_read(void **state)
{
    (void)state;
    assert_int_equal(s_time("2026-11-26T10:00:00Z"), S_NOW_MS);
    assert_int_equal(s_time("2026-11-26T09:59:59.250Z"), S_NOW_MS - 750);
    assert_int_equal(s_time("2026-11-26T11:30:00+01:30"), S_NOW_MS);
    assert_int_equal(s_time("2026-11-26T08:00:00.5-02:00"), S_NOW_MS + 500);
    assert_int_equal(s_time("2026-11-26"), S_NOW_MS - 10 * 3600000LL);
    assert_int_equal(s_time("2026-11-25"), S_NOW_MS - 34 * 3600000LL);
    assert_int_equal(s_time("30s"), S_NOW_MS - 30000);
    assert_int_equal(s_time("90m"), S_NOW_MS - 90 * 60000LL);
    assert_int_equal(s_time("24h"), S_NOW_MS - 86400000LL);
    assert_int_equal(s_time("7d"), S_NOW_MS - 7 * 86400000LL);
    assert_int_equal(s_time("0s"), S_NOW_MS);
}

static void a_bad_time_is_refused(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "yesterday",
                         "10",
                         "-5m",
                         "1.5h",
                         "5 m",
                         "7D",
                         "90x",
                         "2026-11-26T10:00:00",
                         "2026-11-26T10:00Z",
                         "2026-13-01",
                         "2026-11-32",
                         "26-11-2026",
                         "2026-11-26Z",
                         "1970-01-01T00:00:00Z",
                         "1969-12-31",
                         "100000d"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        if (cli_log_query_time(bad[i], S_NOW_MS, &ms) != CAIRN_EINVALID)
            print_error("'%s' was read as %lld\n", bad[i], (long long)ms);
        assert_int_equal(cli_log_query_time(bad[i], S_NOW_MS, &ms), CAIRN_EINVALID);
        assert_int_equal(ms, 42);
    }
}

/* ---- against a running ledger ---- */

typedef cli_test_run_t s_run_t;

/* Runs `cairn --data-dir DIR ARGS`, its output caught in the test's directory. */
#define s_cairn_in(dir, ...) cli_test_cairn(dir, s_dir, __VA_ARGS__)
#define s_cairn(...) cli_test_cairn(s_dir, s_dir, __VA_ARGS__)
#define s_done cli_test_run_done

/* The indexes `cairn log query --json ARGS` lists, as "0 2 3" ("" for none). */
static char *s_query(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *s_query(const char *fmt, ...)
{
    static char list[4096];
    char args[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    s_run_t r = s_cairn("log query --json %s", args);
    if (r.code != 0)
        print_error("cairn log query %s: exit %d\n%s", args, r.code, r.err);
    assert_int_equal(r.code, 0);
    json_error_t jerr;
    json_t *arr = json_loads(r.out, 0, &jerr);
    assert_true(json_is_array(arr));
    size_t pos = 0;
    list[0] = '\0';
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *index = json_object_get(json_array_get(arr, i), "index");
        assert_true(json_is_integer(index));
        pos += (size_t)snprintf(list + pos, sizeof list - pos, "%s%lld", i ? " " : "",
                                (long long)json_integer_value(index));
        assert_true(pos < sizeof list);
    }
    json_decref(arr);
    s_done(&r);
    return list;
}

static void s_start_ledger(void)
{
    s_ledger = cli_test_ledger_start(s_dir);
}

static void s_stop_ledger(void)
{
    cli_test_ledger_stop(&s_ledger);
}

/* Sends one ledger request and returns the reply (status checked). */
static Cairn__V1__LedgerReply *s_call(Cairn__V1__LedgerRequest *req)
{
    return cli_test_ledger_call(s_dir, req);
}

/* One fixed entry: an event, or a verdict when gate is set. */
typedef struct {
    const char *id;       /* event id and idempotency key */
    const char *change;   /* correlation.change_id / verdict change_id */
    const char *release;  /* correlation.release_id */
    const char *actor;    /* governance.actor */
    const char *approver; /* governance.approver */
    const char *env;      /* correlation.environment / verdict environment */
    const char *type;     /* event type (the topic) */
    const char *gate;     /* a verdict at this gate (topic verdict.GATE) */
} s_fixture_t;

/* In log order; bursts of 3, 3 and 2 entries, a pause between them. */
static const s_fixture_t s_fixed[S_NFIXED] = {
    {"chg1-created", "CHG-1", "", "dana", "", "prod", "dev.cdevents.change.created.0.4.0", NULL},
    {"chg2-tests", "CHG-2", "R-1", "ci-bot", "", "staging",
     "dev.cdevents.testsuiterun.finished.0.2.0", NULL},
    {"chg1-build", "CHG-1", "", "", "", "prod", NULL, "build"},
    {"chg1-lee", "CHG-1", "R-1", "", "lee", "", "dev.cdeventsx.cairn-approval.granted.0.1.0", NULL},
    {"chg2-deployed", "CHG-2", "", "dana", "", "staging", "dev.cdevents.service.deployed.0.2.0",
     NULL},
    {"chg2-deployment", "CHG-2", "", "", "", "staging", NULL, "deployment"},
    {"chg1-deployed", "CHG-1", "R-2", "ci-bot", "", "prod", "dev.cdevents.service.deployed.0.2.0",
     NULL},
    {"chg1-deployment", "CHG-1", "", "", "", "prod", NULL, "deployment"},
};

/* Fills rec (and what it points to) for fixture f. */
static void s_record(const s_fixture_t *f, Cairn__V1__Record *rec, Cairn__V1__Event *ev,
                     Cairn__V1__Correlation *corr, Cairn__V1__Governance *gov,
                     Cairn__V1__Verdict *v)
{
    cairn__v1__record__init(rec);
    if (f->gate) {
        cairn__v1__verdict__init(v);
        v->change_id = (char *)f->change;
        v->environment = (char *)f->env;
        v->gate = (char *)f->gate;
        v->decision = CAIRN__V1__DECISION__DECISION_ALLOW;
        rec->body_case = CAIRN__V1__RECORD__BODY_VERDICT;
        rec->verdict = v;
        return;
    }
    cairn__v1__event__init(ev);
    cairn__v1__correlation__init(corr);
    cairn__v1__governance__init(gov);
    corr->change_id = (char *)f->change;
    corr->release_id = (char *)f->release;
    corr->environment = (char *)f->env;
    gov->actor = (char *)f->actor;
    gov->approver = (char *)f->approver;
    ev->id = (char *)f->id;
    ev->source = "/test";
    ev->spec_version = "1.0";
    ev->type = (char *)f->type;
    ev->correlation = corr;
    ev->governance = gov;
    rec->body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec->event = ev;
}

static void s_append(const s_fixture_t *f)
{
    Cairn__V1__Record rec;
    Cairn__V1__Event ev;
    Cairn__V1__Correlation corr;
    Cairn__V1__Governance gov;
    Cairn__V1__Verdict v;
    Cairn__V1__AppendRequest app = CAIRN__V1__APPEND_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    s_record(f, &rec, &ev, &corr, &gov, &v);
    app.key = (char *)f->id;
    app.record = &rec;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
    req.append = &app;
    Cairn__V1__LedgerReply *reply = s_call(&req);
    CAIRN_CODEC_FREE(&reply);
}

/* The time each fixed entry was appended, read back with a replay. */
static void s_read_times(void)
{
    Cairn__V1__ReplayRequest rp = CAIRN__V1__REPLAY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    rp.limit = S_NFIXED;
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY;
    req.replay = &rp;
    Cairn__V1__LedgerReply *reply = s_call(&req);
    assert_int_equal(reply->n_entries, S_NFIXED);
    for (size_t i = 0; i < S_NFIXED; i++) {
        assert_int_equal(reply->entries[i]->index, i);
        s_times[i] = reply->entries[i]->appended_at_ms;
    }
    CAIRN_CODEC_FREE(&reply);
}

static int s_setup_ledger(void **state)
{
    (void)state;
    snprintf(s_dir, sizeof s_dir, "/tmp/cairn-log-query-test-XXXXXX");
    if (!mkdtemp(s_dir))
        return -1;
    s_start_ledger();
    for (size_t i = 0; i < S_NFIXED; i++) {
        if (i == 3 || i == 6)
            usleep(30 * 1000); /* the bursts never share a millisecond */
        s_append(&s_fixed[i]);
    }
    s_read_times();
    /* The edges the time tests use. */
    assert_true(s_times[2] < s_times[3] && s_times[5] < s_times[6]);
    return 0;
}

static int s_teardown_ledger(void **state)
{
    (void)state;
    s_stop_ledger();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void each_selector_lists_exactly_its_entries_in_log_order(void **state)
{
    (void)state;
    assert_string_equal(s_query("--change CHG-1"), "0 2 3 6 7");
    assert_string_equal(s_query("--change CHG-2"), "1 4 5");
    assert_string_equal(s_query("--change CHG-9"), "");
    assert_string_equal(s_query("--release R-1"), "1 3");
    assert_string_equal(s_query("--release R-2"), "6");
    assert_string_equal(s_query("--actor dana"), "0 4");
    assert_string_equal(s_query("--actor ci-bot"), "1 6");
    assert_string_equal(s_query("--actor lee"), "3"); /* the approver of an approval */
    assert_string_equal(s_query("--type verdict."), "2 5 7");
    assert_string_equal(s_query("--type verdict.deployment"), "5 7");
    assert_string_equal(s_query("--type dev.cdevents."), "0 1 4 6");
    assert_string_equal(s_query("--type dev.cdevents.service.deployed"), "4 6");
    assert_string_equal(s_query("--type=dev.cdeventsx."), "3");
    /* --type narrows the other selectors. */
    assert_string_equal(s_query("--env prod --type dev.cdevents.service.deployed"), "6");
    assert_string_equal(s_query("--env staging --type verdict."), "5");
    assert_string_equal(s_query("--change CHG-1 --type verdict.deployment"), "7");
    assert_string_equal(s_query("--actor dana --type dev.cdevents.service."), "4");
    assert_string_equal(s_query("--release R-1 --type verdict."), "");
}

static void the_output_is_what_cairn_trail_prints(void **state)
{
    (void)state;
    s_run_t q = s_cairn("log query --change CHG-2");
    s_run_t t = s_cairn("trail CHG-2");
    assert_int_equal(q.code, 0);
    assert_int_equal(t.code, 0);
    assert_true(strncmp(q.out, "     1  ", 8) == 0);
    assert_non_null(strstr(q.out, "dev.cdevents.service.deployed.0.2.0"));
    assert_non_null(strstr(q.out, "deployment allow"));
    assert_string_equal(q.out, t.out);
    assert_string_equal(q.err, "");
    s_done(&q);
    s_done(&t);

    q = s_cairn("log query --json --change CHG-2");
    t = s_cairn("trail --json CHG-2");
    json_t *qj = json_loads(q.out, 0, NULL);
    json_t *tj = json_loads(t.out, 0, NULL);
    assert_int_equal(json_array_size(qj), 3);
    assert_true(json_equal(qj, tj));
    assert_string_equal(json_string_value(json_object_get(json_array_get(qj, 2), "kind")),
                        "verdict");
    json_decref(qj);
    json_decref(tj);
    s_done(&q);
    s_done(&t);

    /* Nothing matches: said once in text, an empty array in JSON; exit 0. */
    q = s_cairn("log query --actor nobody");
    assert_int_equal(q.code, 0);
    assert_string_equal(q.out, "no entries match\n");
    s_done(&q);
    q = s_cairn("log query --actor nobody --json");
    assert_int_equal(q.code, 0);
    qj = json_loads(q.out, 0, NULL);
    assert_true(json_is_array(qj));
    assert_int_equal(json_array_size(qj), 0);
    json_decref(qj);
    s_done(&q);
}

/* RFC 3339 of ms with the given offset ("Z" or "+02:00"). */
static const char *s_rfc3339(int64_t ms, int offset_min, char out[64])
{
    char utc[32];
    cairn_format_time(ms + offset_min * 60000LL, utc);
    utc[strlen(utc) - 1] = '\0'; /* the Z */
    if (offset_min == 0)
        snprintf(out, 64, "%sZ", utc);
    else
        snprintf(out, 64, "%s%c%02d:%02d", utc, offset_min < 0 ? '-' : '+', abs(offset_min) / 60,
                 abs(offset_min) % 60);
    return out;
}

static void a_time_range_narrows_with_or_without_a_selector(void **state)
{
    (void)state;
    char b[64], c[64], day[64];
    s_rfc3339(s_times[3], 0, b); /* the second burst starts */
    s_rfc3339(s_times[6], 0, c); /* the third */
    assert_non_null(strchr(b, '.'));
    assert_string_equal(s_query("--since %s", b), "3 4 5 6 7");
    assert_string_equal(s_query("--until %s", b), "0 1 2");
    assert_string_equal(s_query("--since %s --until %s", b, c), "3 4 5");
    assert_string_equal(s_query("--change CHG-1 --since %s --until %s", b, c), "3");
    assert_string_equal(s_query("--change CHG-1 --until %s", b), "0 2");
    assert_string_equal(s_query("--type verdict. --since %s", c), "7");
    assert_string_equal(s_query("--actor dana --since %s", b), "4");
    /* The same instants with an offset. */
    assert_string_equal(s_query("--since %s", s_rfc3339(s_times[3], 120, b)), "3 4 5 6 7");
    assert_string_equal(s_query("--until %s", s_rfc3339(s_times[6], -330, c)), "0 1 2 3 4 5");

    /* A date is midnight UTC; a duration counts back from now. */
    s_rfc3339(s_times[0], 0, day);
    day[10] = '\0';
    assert_string_equal(s_query("--since %s", day), "0 1 2 3 4 5 6 7");
    assert_string_equal(s_query("--until %s", day), "");
    assert_string_equal(s_query("--since 1h"), "0 1 2 3 4 5 6 7");
    assert_string_equal(s_query("--since 1h --release R-1"), "1 3");
    assert_string_equal(s_query("--until 1h"), "");
    assert_string_equal(s_query("--since 7d --until 1h --change CHG-1"), "");
}

static void after_and_limit_resume_and_cut_a_listing(void **state)
{
    (void)state;
    assert_string_equal(s_query("--change CHG-1 --after 2"), "3 6 7");
    assert_string_equal(s_query("--change CHG-1 --limit 2"), "0 2");
    assert_string_equal(s_query("--change CHG-1 --after 2 --limit 2"), "3 6");
    assert_string_equal(s_query("--change CHG-1 --after 7"), "");
    assert_string_equal(s_query("--change CHG-1 --limit 100"), "0 2 3 6 7");
    assert_string_equal(s_query("--type verdict. --after 0"), "2 5 7");
    assert_string_equal(s_query("--since 1h --after 4 --limit 2"), "5 6");
    assert_string_equal(s_query("--since 1h --limit 1"), "0");
}

/* cli_log_query_fetch against the ledger with pages of page entries. */
static void s_fetch(Cairn__V1__QueryRequest *q, uint32_t page, uint64_t max,
                    cli_log_entries_t *found)
{
    char err[512];
    cairn_config_t *cfg = NULL;
    cli_args_t args;
    memset(&args, 0, sizeof args);
    args.cmd = &cli_cmd_log_query;
    args.data_dir = s_dir;
    assert_int_equal(cli_load_config(&args, &cfg, err, sizeof err), 0);
    assert_int_equal(cli_log_query_fetch(cfg, "cairn log query", q, page, max, found), 0);
    cairn_config_destroy(&cfg);
}

static void s_assert_indexes(const cli_log_entries_t *found, const uint64_t *want, size_t n)
{
    assert_int_equal(found->n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(found->entries[i]->index, want[i]);
}

static void the_ledger_is_asked_one_page_at_a_time(void **state)
{
    (void)state;
    static const uint64_t chg1[] = {0, 2, 3, 6, 7};
    cli_log_entries_t found;
    Cairn__V1__QueryRequest q = CAIRN__V1__QUERY_REQUEST__INIT;
    q.change_id = "CHG-1";
    s_fetch(&q, 2, 0, &found); /* 2, 2 and a short page of 1 */
    s_assert_indexes(&found, chg1, 5);
    assert_int_equal(found.n_pages, 3);
    cli_log_entries_clear(&found);
    s_fetch(&q, 5, 0, &found); /* a full page, then an empty one */
    s_assert_indexes(&found, chg1, 5);
    assert_int_equal(found.n_pages, 2);
    cli_log_entries_clear(&found);
    s_fetch(&q, 1, 3, &found); /* stops at max without asking again */
    s_assert_indexes(&found, chg1, 3);
    assert_int_equal(found.n_pages, 3);
    cli_log_entries_clear(&found);

    static const uint64_t later[] = {3, 4, 5, 6, 7};
    Cairn__V1__QueryRequest t = CAIRN__V1__QUERY_REQUEST__INIT;
    t.from_ms = s_times[3];
    s_fetch(&t, 2, 0, &found);
    s_assert_indexes(&found, later, 5);
    assert_int_equal(found.n_pages, 3);
    cli_log_entries_clear(&found);
}

static void mistakes_are_usage_errors(void **state)
{
    (void)state;
    static const struct {
        const char *args;
        const char *message;
    } cases[] = {
        {"--change CHG-1 --actor dana", "give at most one of --change, --release, --env, "
                                        "--actor (got --change and --actor)"},
        {"--release R-1 --env prod --type verdict. --since 1h", "(got --release and --env)"},
        {"--env prod --change CHG-1", "(got --change and --env)"},
        {"", "say what to look for: one of --change C"},
        {"--limit 5", "or a time range with --since and/or --until"},
        {"--since yesterday", "--since must be an RFC 3339 time (2026-11-26T10:00:00Z"},
        {"--since 10", "a duration before now (30s, 90m, 24h, 7d), got '10'"},
        {"--change CHG-1 --until 2026-11-26T10:00:00", "--until must be an RFC 3339 time"},
        {"--since 1h --until 2h", "--since 1h is not before --until 2h"},
        {"--change CHG-1 --limit 0", "--limit must be a number of entries (1, 2, ...)"},
        {"--change CHG-1 --after -1", "--after must be a ledger index (0, 1, ...), got '-1'"},
        {"--change CHG-1 --after x", "--after must be a ledger index"},
        {"--change CHG-1 extra", "unexpected argument 'extra'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_run_t r = s_cairn("log query %s", cases[i].args);
        if (r.code != 2 || !strstr(r.err, cases[i].message))
            print_error("cairn log query %s: exit %d, stderr: %s\n", cases[i].args, r.code, r.err);
        assert_int_equal(r.code, 2);
        assert_non_null(strstr(r.err, cases[i].message));
        assert_non_null(strstr(r.err, "cairn log query --help"));
        assert_string_equal(r.out, "");
        s_done(&r);
    }
}

static void an_unreachable_ledger_exits_4(void **state)
{
    (void)state;
    char elsewhere[128];
    snprintf(elsewhere, sizeof elsewhere, "%s/nothing-here", s_dir);
    s_run_t r = s_cairn_in(elsewhere, "log query --change CHG-1");
    assert_int_equal(r.code, 4);
    assert_non_null(strstr(r.err, "cairn-ledger"));
    assert_non_null(strstr(r.err, "cairn up"));
    assert_string_equal(r.out, "");
    s_done(&r);
}

static void the_help_says_how_to_query(void **state)
{
    (void)state;
    s_run_t r = s_cairn("log query --help");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "Usage: cairn log query [--change C] [--release R] [--env E] "
                                  "[--actor A] [--type PREFIX] [--since TIME] [--until TIME] "
                                  "[--after INDEX] [--limit N]"));
    assert_non_null(strstr(r.out, "duration before now"));
    assert_non_null(strstr(r.out, "Exit codes"));
    s_done(&r);
    r = s_cairn("log --help");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "\n  cairn log query [--change C]"));
    s_done(&r);
}

/* CHG-BIG: S_NBIG events in append_batch requests, indexes from S_NFIXED on. */
static void s_append_big(void)
{
    enum { chunk = 125 };
    char ids[S_NBIG][16];
    s_fixture_t f[chunk];
    Cairn__V1__Record rec[chunk];
    Cairn__V1__Event ev[chunk];
    Cairn__V1__Correlation corr[chunk];
    Cairn__V1__Governance gov[chunk];
    Cairn__V1__AppendRequest app[chunk];
    Cairn__V1__AppendRequest *apps[chunk];
    for (size_t base = 0; base < S_NBIG; base += chunk) {
        for (size_t i = 0; i < chunk; i++) {
            snprintf(ids[base + i], sizeof ids[0], "big-%zu", base + i);
            f[i] = (s_fixture_t){ids[base + i],
                                 "CHG-BIG",
                                 "",
                                 "bot",
                                 "",
                                 "",
                                 "dev.cdevents.pipelinerun.finished.0.2.0",
                                 NULL};
            s_record(&f[i], &rec[i], &ev[i], &corr[i], &gov[i], NULL);
            cairn__v1__append_request__init(&app[i]);
            app[i].key = ids[base + i];
            app[i].record = &rec[i];
            apps[i] = &app[i];
        }
        Cairn__V1__AppendBatchRequest batch = CAIRN__V1__APPEND_BATCH_REQUEST__INIT;
        Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
        batch.appends = apps;
        batch.n_appends = chunk;
        req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND_BATCH;
        req.append_batch = &batch;
        Cairn__V1__LedgerReply *reply = s_call(&req);
        assert_int_equal(reply->n_results, chunk);
        CAIRN_CODEC_FREE(&reply);
    }
}

/* "first first+1 ... first+n-1". */
static const char *s_run_of(uint64_t first, size_t n)
{
    static char list[4096];
    size_t pos = 0;
    list[0] = '\0';
    for (size_t i = 0; i < n; i++)
        pos += (size_t)snprintf(list + pos, sizeof list - pos, "%s%llu", i ? " " : "",
                                (unsigned long long)(first + i));
    return list;
}

/* Lines of text. */
static size_t s_lines(const char *text)
{
    size_t lines = 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        lines++;
    return lines;
}

static void more_entries_than_one_page_are_all_listed(void **state)
{
    (void)state;
    assert_true(S_NBIG > CLI_LOG_QUERY_PAGE);
    s_append_big();
    char *all = strdup(s_query("--change CHG-BIG"));
    assert_string_equal(all, s_run_of(S_NFIXED, S_NBIG));
    free(all);
    assert_string_equal(s_query("--actor bot"), s_run_of(S_NFIXED, S_NBIG));
    assert_string_equal(s_query("--change CHG-BIG --limit 201"), s_run_of(S_NFIXED, 201));
    assert_string_equal(s_query("--change CHG-BIG --after 207 --limit 30"), s_run_of(208, 30));
    assert_string_equal(s_query("--since 1h --after 7"), s_run_of(S_NFIXED, S_NBIG));

    s_run_t r = s_cairn("log query --change CHG-BIG");
    assert_int_equal(r.code, 0);
    assert_int_equal(s_lines(r.out), S_NBIG);
    s_done(&r);

    /* The command's own page size: two requests for 250 entries. */
    cli_log_entries_t found;
    Cairn__V1__QueryRequest q = CAIRN__V1__QUERY_REQUEST__INIT;
    q.change_id = "CHG-BIG";
    s_fetch(&q, CLI_LOG_QUERY_PAGE, 0, &found);
    assert_int_equal(found.n, S_NBIG);
    assert_int_equal(found.n_pages, 2);
    cli_log_entries_clear(&found);
}

/* Needs cairn-ledger's QueryRequest.environment (an older ledger ignores it). */
static void the_environment_selects_events_and_verdicts(void **state)
{
    (void)state;
    char c[64];
    assert_string_equal(s_query("--env prod"), "0 2 6 7");
    assert_string_equal(s_query("--env staging"), "1 4 5");
    assert_string_equal(s_query("--env dev"), "");
    assert_string_equal(s_query("--env prod --since %s", s_rfc3339(s_times[6], 0, c)), "6 7");
    assert_string_equal(s_query("--env prod --limit 1 --after 0"), "2");
}

/* A change whose entries take more bytes than one reply may carry (the
 * ledger refuses such a query whole): `cairn trail` and `cairn log query`
 * ask for it page by page, smaller pages when the entries are big. */
static void a_change_larger_than_one_reply_is_listed_whole(void **state)
{
    (void)state;
    enum { N = 60, DATA = 1200 * 1024 }; /* 70 MB, over the 63 MB a reply carries */
    uint8_t *data = malloc(DATA);
    assert_non_null(data);
    memset(data, 'x', DATA);
    for (int i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "huge-%d", i);
        Cairn__V1__Correlation corr = CAIRN__V1__CORRELATION__INIT;
        Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
        Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
        Cairn__V1__AppendRequest app = CAIRN__V1__APPEND_REQUEST__INIT;
        Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
        corr.change_id = "CHG-HUGE";
        ev.id = id;
        ev.source = "/ci";
        ev.spec_version = "1.0";
        ev.type = "dev.cdevents.artifact.published.0.2.0";
        ev.data_content_type = "application/octet-stream";
        ev.data.data = data;
        ev.data.len = DATA;
        ev.correlation = &corr;
        rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
        rec.event = &ev;
        app.key = id;
        app.record = &rec;
        req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
        req.append = &app;
        Cairn__V1__LedgerReply *reply = s_call(&req);
        CAIRN_CODEC_FREE(&reply);
    }
    free(data);

    /* One query for all of it is too large for the ledger. */
    Cairn__V1__QueryRequest q = CAIRN__V1__QUERY_REQUEST__INIT;
    Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
    q.change_id = "CHG-HUGE";
    req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_QUERY;
    req.query = &q;
    uint8_t *buf = NULL, *reply_buf = NULL;
    size_t len = 0, reply_len = 0;
    assert_int_equal(cairn_codec_pack(&req.base, &buf, &len), 0);
    cairn_client_t *client = cairn_client_new(cli_test_ledger_endpoint(s_dir));
    assert_non_null(client);
    assert_int_equal(cairn_client_call(client, buf, len, 60000, &reply_buf, &reply_len), 0);
    Cairn__V1__LedgerReply *whole = NULL;
    assert_int_equal(cairn_codec_ledger_reply_unpack(reply_buf, reply_len, &whole), 0);
    assert_int_equal(whole->status, CAIRN_ETOOLARGE);
    CAIRN_CODEC_FREE(&whole);
    cairn_client_destroy(&client);
    free(reply_buf);
    free(buf);

    s_run_t r = s_cairn("trail CHG-HUGE");
    assert_int_equal(r.code, 0);
    assert_int_equal(s_lines(r.out), N);
    assert_non_null(strstr(r.out, "id=huge-0"));
    assert_non_null(strstr(r.out, "id=huge-59"));
    s_done(&r);
    r = s_cairn("log query --change CHG-HUGE");
    assert_int_equal(r.code, 0);
    assert_int_equal(s_lines(r.out), N);
    s_done(&r);
}

int main(void)
{
    const struct CMUnitTest forms[] = {
        cmocka_unit_test(each_time_form_is_read),
        cmocka_unit_test(a_bad_time_is_refused),
    };
    const struct CMUnitTest live[] = {
        cmocka_unit_test(each_selector_lists_exactly_its_entries_in_log_order),
        cmocka_unit_test(the_output_is_what_cairn_trail_prints),
        cmocka_unit_test(a_time_range_narrows_with_or_without_a_selector),
        cmocka_unit_test(after_and_limit_resume_and_cut_a_listing),
        cmocka_unit_test(the_ledger_is_asked_one_page_at_a_time),
        cmocka_unit_test(mistakes_are_usage_errors),
        cmocka_unit_test(an_unreachable_ledger_exits_4),
        cmocka_unit_test(the_help_says_how_to_query),
        cmocka_unit_test(more_entries_than_one_page_are_all_listed),
        cmocka_unit_test(the_environment_selects_events_and_verdicts),
        cmocka_unit_test(a_change_larger_than_one_reply_is_listed_whole),
    };
    int failed = cmocka_run_group_tests(forms, NULL, NULL);
    return failed + cmocka_run_group_tests(live, s_setup_ledger, s_teardown_ledger);
}
