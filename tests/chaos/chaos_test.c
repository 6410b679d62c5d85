/* The chaos test: the whole stack under `cairn up`, a load of CloudEvents
 * over HTTP for many changes (created, build, tests, approval, deployment),
 * while each daemon in turn is SIGKILLed at a random moment and restarted
 * by the supervisor. Policy decides verdicts and notify delivers to a real
 * HTTP sink (tests/sinks/http_sink). Once the stack is quiet again:
 *
 *   - every event answered 202 (or 200 duplicate) is in the ledger exactly
 *     once (by its idempotency key and by its id); events that were never
 *     accepted may be missing, but a client that retries gets each in;
 *   - a fresh replay of the policy over the ledger changes no recorded
 *     verdict, misses none and finds none without a counterpart, and what
 *     cairn-policy answers now for a change is the latest verdict recorded;
 *   - `cairn log verify` passes;
 *   - the sink got each notification (webhook-id) answered once, and the
 *     ledger holds exactly one "delivered" receipt for each of them;
 *   - no daemon died of anything but our SIGKILLs.
 *
 * Kills stop when the load ends, but not before each daemon was killed once.
 * Tuning (environment): CAIRN_CHAOS_EVENTS (default 2000), CAIRN_CHAOS_KILLS
 * (8), CAIRN_CHAOS_SEED (random; printed), CAIRN_CHAOS_CLIENTS (4),
 * CAIRN_CHAOS_KILL_MS (mean ms between kills, 1200), CAIRN_CHAOS_QUIET_S (how
 * long the stack may take to settle afterwards, 180). The seed decides the
 * kill order's start and the moments; a failing run prints it to rerun. */
#define _GNU_SOURCE /* asprintf */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <czmq.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn/codec.h"
#include "cairn/util.h"
#include "harness.h"
#include "probe.h"

/* Steps of one change's life, in the order they are sent. */
enum { S_CREATED, S_BUILD, S_TESTS, S_APPROVAL, S_DEPLOYED, S_STEPS };

/* Gives up on one event after this long (the stack should take it by then). */
#define S_EVENT_DEADLINE_MS 90000
/* The stack counts as quiet when the ledger did not grow for this long. */
#define S_QUIET_MS 4000
/* Kills a run makes at least: each daemon once (or max, if fewer). */
#define S_MIN_KILLS(max) ((max) < 4 ? (max) : 4)

static const char *const s_daemons[] = {"cairn-ledger", "cairn-ingest", "cairn-policy",
                                        "cairn-notify"};

typedef struct {
    char id[64];   /* CloudEvent id */
    char *body;    /* the CloudEvent */
    long status;   /* last answer (0: none) */
    bool accepted; /* answered 202 or 200 duplicate */
    int attempts;  /* posts made */
} s_event_t;

static struct {
    e2e_stack_t stack;
    char work[128];     /* sink, routes and policy files */
    char sink_log[200]; /* what the sink received */
    pid_t sink;
    int sink_port;
    uint64_t seed;
    int n_events, n_changes, n_clients, max_kills, kill_ms;
    s_event_t *events; /* n_changes * S_STEPS, change-major */
    int64_t started_ms;
    atomic_bool load_done;
    atomic_int kills;
    atomic_long n_503, n_503_retry_after, n_refused, n_unexpected;
    char kill_log[4096];        /* "ledger@1.2s ingest@2.9s ..." */
    int64_t notify_kills[1024]; /* wall ms of each kill of cairn-notify */
    int n_notify_kills;
} s;

static int s_env_int(const char *name, int fallback)
{
    const char *v = getenv(name);
    return v && *v ? atoi(v) : fallback;
}

static uint64_t s_rand(uint64_t *state)
{
    /* xorshift64*: reproducible from the printed seed. */
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* ---- the events ----------------------------------------------------------- */

static char *s_event_body(int change, int step, char *id, size_t idlen)
{
    char chg[32], commit[41];
    snprintf(chg, sizeof chg, "CHG-X%d", change);
    snprintf(commit, sizeof commit, "%040x", (unsigned)change * 2654435761u);
    const char *names[S_STEPS] = {"created", "build", "tests", "approval", "deployed"};
    snprintf(id, idlen, "chaos-%d-%s", change, names[step]);
    /* Some changes fail their tests, some are approved by their own author
     * (separation of duties denies them): verdicts of every kind. */
    bool tests_fail = change % 7 == 3;
    const char *approver = change % 5 == 1 ? "dana" : "erin";
    char *body = NULL;
    int n = -1;
    switch (step) {
    case S_CREATED:
        n = asprintf(&body,
                     "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/chaos/ci\","
                     "\"type\":\"dev.cdevents.change.created.0.4.0\",\"data\":{\"context\":{},"
                     "\"subject\":{\"id\":\"%s\",\"content\":{\"repository\":{\"id\":"
                     "\"acme/payments\"}}},\"customData\":{\"author\":\"dana\",\"committers\":"
                     "[\"dana\"],\"commit\":\"%s\",\"environment\":\"prod\",\"service\":"
                     "\"payments\"}}}",
                     id, chg, commit);
        break;
    case S_BUILD:
        n = asprintf(&body,
                     "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/chaos/ci\","
                     "\"type\":\"dev.cdevents.build.finished.0.3.0\",\"data\":{\"context\":{},"
                     "\"subject\":{\"id\":\"build-%d\",\"content\":{\"artifactId\":"
                     "\"pkg:oci/payments@sha256%%3A0b7d5c\"}},\"customData\":{\"change\":\"%s\","
                     "\"commit\":\"%s\",\"outcome\":\"success\"}}}",
                     id, change, chg, commit);
        break;
    case S_TESTS:
        n = asprintf(
            &body,
            "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/chaos/ci\","
            "\"type\":\"dev.cdevents.testsuiterun.finished.0.3.0\",\"data\":{\"context\":"
            "{},\"subject\":{\"id\":\"unit-%d\",\"content\":{\"environment\":{\"id\":"
            "\"ci\"},\"testSuite\":{\"id\":\"unit\"},\"outcome\":\"%s\"}},\"customData\":"
            "{\"change\":\"%s\",\"commit\":\"%s\",\"tests_passed\":120,\"tests_failed\":%d,"
            "\"tests_skipped\":0}}}",
            id, change, tests_fail ? "failure" : "success", chg, commit, tests_fail ? 2 : 0);
        break;
    case S_APPROVAL:
        n = asprintf(&body,
                     "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/chaos/approvals\","
                     "\"type\":\"dev.cdeventsx.cairn-approval.granted.0.1.0\",\"data\":"
                     "{\"change\":\"%s\",\"approver\":\"%s\",\"role\":\"dev\",\"commit\":\"%s\"}}",
                     id, chg, approver, commit);
        break;
    case S_DEPLOYED:
        n = asprintf(&body,
                     "{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/chaos/cd\","
                     "\"type\":\"dev.cdevents.service.deployed.0.3.0\",\"data\":{\"context\":{},"
                     "\"subject\":{\"id\":\"payments\",\"content\":{\"environment\":{\"id\":"
                     "\"prod\"},\"artifactId\":\"pkg:oci/payments@sha256%%3A0b7d5c\"}},"
                     "\"customData\":{\"change\":\"%s\",\"commit\":\"%s\",\"deployer\":"
                     "\"ci-bot\"}}}",
                     id, chg, commit);
        break;
    }
    return n < 0 ? NULL : body;
}

/* The idempotency key ingest gives a CloudEvent. */
static void s_key_of(const s_event_t *e, char *out, size_t len)
{
    const char *src = strstr(e->body, "\"source\":\"") + 10;
    snprintf(out, len, "ce:%.*s\n%s", (int)(strchr(src, '"') - src), src, e->id);
}

/* ---- load ------------------------------------------------------------------ */

typedef struct {
    int index; /* client number */
} s_client_t;

/* Posts one event until it is accepted, the answer is final, or its deadline. */
static void s_send(CURL *c, const char *url, s_event_t *e)
{
    int64_t deadline = cairn_mono_ms() + S_EVENT_DEADLINE_MS;
    while (cairn_mono_ms() < deadline) {
        long retry_after = -1;
        e->attempts++;
        e->status = probe_post(c, url, e->body, &retry_after);
        if (e->status == 202 || e->status == 200) {
            e->accepted = true;
            return;
        }
        if (e->status == 503) {
            atomic_fetch_add(&s.n_503, 1);
            if (retry_after > 0)
                atomic_fetch_add(&s.n_503_retry_after, 1);
            /* Retry-After is honoured, but kept short: the test has a budget. */
            sleep_ms(retry_after > 0 ? 300 : 100);
        } else if (e->status == 0) {
            atomic_fetch_add(&s.n_refused, 1);
            sleep_ms(100);
        } else {
            atomic_fetch_add(&s.n_unexpected, 1);
            fprintf(stderr, "chaos: event %s answered %ld\n", e->id, e->status);
            return;
        }
    }
}

static void *s_client(void *arg)
{
    const s_client_t *cl = arg;
    CURL *c = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/events", s.stack.http_port);
    /* Paced so the load spans the kills: the whole load is planned to take
     * max_kills * kill_ms; a slower stack simply takes longer. */
    double span_ms = (double)s.max_kills * s.kill_ms;
    double gap_ms = span_ms * s.n_clients / (s.n_changes * S_STEPS);
    int k = 0;
    for (int step = 0; step < S_STEPS; step++)
        for (int chg = cl->index; chg < s.n_changes; chg += s.n_clients, k++) {
            int64_t due = s.started_ms + (int64_t)(k * gap_ms);
            int64_t now = cairn_mono_ms();
            if (due > now)
                sleep_ms((int)(due - now));
            s_send(c, url, &s.events[chg * S_STEPS + step]);
        }
    curl_easy_cleanup(c);
    return NULL;
}

/* ---- chaos ------------------------------------------------------------------ */

static pid_t s_wait_pid(const char *name, pid_t not, int timeout_ms)
{
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        pid_t pid = stack_daemon_pid(&s.stack, name);
        if (pid > 0 && pid != not )
            return pid;
        sleep_ms(50);
    }
    return 0;
}

/* Kills stop when the load ends, but not before each daemon was killed once
 * (or max_kills, if fewer): on a slow machine the last of those fall into
 * the catch-up after the load. */
static bool s_chaos_over(void)
{
    int kills = atomic_load(&s.kills);
    return kills >= s.max_kills || (atomic_load(&s.load_done) && kills >= S_MIN_KILLS(s.max_kills));
}

static void *s_chaos(void *arg)
{
    (void)arg;
    uint64_t rng = s.seed ? s.seed : 1;
    int first = (int)(s_rand(&rng) % 4);
    size_t used = 0;
    while (!s_chaos_over()) {
        int delay = (int)(s.kill_ms / 2 + s_rand(&rng) % (uint64_t)s.kill_ms);
        for (int waited = 0; waited < delay && !s_chaos_over(); waited += 20)
            sleep_ms(20);
        if (s_chaos_over())
            break;
        const char *name = s_daemons[(first + atomic_load(&s.kills)) % 4];
        pid_t pid = s_wait_pid(name, 0, 30000);
        if (!pid) {
            fprintf(stderr, "chaos: %s is not running\n", name);
            break;
        }
        int64_t wall = cairn_now_ms();
        kill(pid, SIGKILL);
        if (strcmp(name, "cairn-notify") == 0 && s.n_notify_kills < 1024)
            s.notify_kills[s.n_notify_kills++] = wall;
        int n = atomic_fetch_add(&s.kills, 1) + 1;
        double at = (double)(cairn_mono_ms() - s.started_ms) / 1000.0;
        fprintf(stderr, "chaos: kill %d: %s (pid %d) at %.2fs\n", n, name, (int)pid, at);
        if (used < sizeof s.kill_log)
            used += (size_t)snprintf(s.kill_log + used, sizeof s.kill_log - used, "%s%s@%.1fs",
                                     used ? " " : "", name + 6, at);
        /* The supervisor restarts it (200 ms, doubling while it keeps dying). */
        if (!s_wait_pid(name, pid, 30000)) {
            fprintf(stderr, "chaos: %s was not restarted\n", name);
            break;
        }
    }
    return NULL;
}

/* ---- setup ------------------------------------------------------------------ */

static int s_setup(void **state)
{
    (void)state;
    memset(&s, 0, sizeof s);
    const char *bin = getenv("CAIRN_BIN_DIR");
    if (!bin)
        return -1;
    s.n_events = s_env_int("CAIRN_CHAOS_EVENTS", 2000);
    s.max_kills = s_env_int("CAIRN_CHAOS_KILLS", 8);
    s.n_clients = s_env_int("CAIRN_CHAOS_CLIENTS", 4);
    s.kill_ms = s_env_int("CAIRN_CHAOS_KILL_MS", 1200);
    const char *seed = getenv("CAIRN_CHAOS_SEED");
    s.seed =
        seed && *seed ? strtoull(seed, NULL, 0) : ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
    s.n_changes = s.n_events / S_STEPS;
    if (s.n_changes < 1 || s.n_clients < 1 || s.kill_ms < 10 || s.max_kills < 0)
        return -1;
    fprintf(stderr,
            "chaos: seed %" PRIu64 " (CAIRN_CHAOS_SEED=%" PRIu64 " reruns it), %d events, "
            "%d changes, %d kills planned, %d clients\n",
            s.seed, s.seed, s.n_changes * S_STEPS, s.n_changes, s.max_kills, s.n_clients);

    s.events = calloc((size_t)s.n_changes * S_STEPS, sizeof *s.events);
    for (int c = 0; c < s.n_changes; c++)
        for (int st = 0; st < S_STEPS; st++) {
            s_event_t *e = &s.events[c * S_STEPS + st];
            if (!(e->body = s_event_body(c, st, e->id, sizeof e->id)))
                return -1;
        }

    snprintf(s.work, sizeof s.work, "/tmp/cairn-chaos-XXXXXX");
    if (!mkdtemp(s.work))
        return -1;
    char exe[600], pf[200], policy[200], routes[200];
    snprintf(exe, sizeof exe, "%s/http_sink", bin);
    snprintf(pf, sizeof pf, "%s/sink.port", s.work);
    snprintf(s.sink_log, sizeof s.sink_log, "%s/sink.jsonl", s.work);
    s.sink = fork();
    if (s.sink == 0) {
        execl(exe, exe, "--port-file", pf, "--log", s.sink_log, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && s.sink_port <= 0; i++) {
        char *t = slurp(pf);
        s.sink_port = t ? atoi(t) : 0;
        free(t);
        sleep_ms(25);
    }
    if (s.sink_port <= 0)
        return -1;

    /* The built-in policy, as a file, so `cairn policy replay` can read it. */
    snprintf(policy, sizeof policy, "%s/policy.yaml", s.work);
    FILE *f = fopen(policy, "w");
    if (!f)
        return -1;
    fprintf(f, "apiVersion: cairn/v1\nkind: ReleasePolicy\n"
               "metadata: { name: chaos, revision: \"1\" }\n"
               "roles:\n"
               "  dev:              { users: [dana, erin, frank] }\n"
               "  tech_lead:        { users: [lee] }\n"
               "  service_accounts: { users: [ci-bot], kind: service_account }\n"
               "approvals:\n"
               "  distinct_persons: true\n"
               "  invalidate_on: [new_commit]\n"
               "  rules:\n"
               "    - { id: peer, from: [dev, tech_lead], count: 1 }\n"
               "separation_of_duties:\n"
               "  - { id: SOD1, role: approver, not: [author, committers] }\n"
               "  - { id: SOD3, role: approver, not_kind: [service_account] }\n"
               "gates:\n"
               "  build:\n"
               "    evidence:\n"
               "      - { id: unit-tests, type: test_report, require: { failed: 0, passed_min: 1 "
               "} }\n"
               "  deployment:\n"
               "    after: [build]\n"
               "    require: { approvals_satisfied: true }\n");
    fclose(f);
    snprintf(routes, sizeof routes, "%s/routes.yaml", s.work);
    if (!(f = fopen(routes, "w")))
        return -1;
    fprintf(f,
            "global:\n"
            "  http_timeout: 5s\n"
            "  retry: {initial: 200ms, max: 1s, max_attempts: 1000, max_age: 1h}\n"
            "route:\n"
            "  receiver: sink\n"
            "  group_by: [change]\n"
            "  group_wait: 200ms\n"
            "  group_interval: 300ms\n"
            "  repeat_interval: 0s\n"
            "receivers:\n"
            "  - name: sink\n"
            "    webhook_configs: [{url: 'http://127.0.0.1:%d/hook'}]\n",
            s.sink_port);
    fclose(f);
    char more[600];
    snprintf(more, sizeof more, "policy:\n  file: %s\nnotify:\n  routes_file: %s\n", policy,
             routes);
    stack_opts_t o = {.log_level = "warn", .more = more};
    if (stack_start_with(&s.stack, &o) != 0) {
        char *log = slurp(s.stack.log);
        fprintf(stderr, "stack did not start; log:\n%s\n", log ? log : "(none)");
        free(log);
        return -1;
    }
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    int rc = stack_stop(&s.stack);
    if (rc != 0) {
        char *log = slurp(s.stack.log);
        fprintf(stderr, "cairn up exited with %d; log:\n%s\n", rc, log ? log : "(none)");
        free(log);
    }
    if (s.sink > 0) {
        kill(s.sink, SIGTERM);
        waitpid(s.sink, NULL, 0);
    }
    stack_cleanup(&s.stack);
    if (!getenv("CAIRN_KEEP_TEST_DIR")) {
        char cmd[200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", s.work);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", s.work);
    } else {
        fprintf(stderr, "kept %s\n", s.work);
    }
    for (int i = 0; s.events && i < s.n_changes * S_STEPS; i++)
        free(s.events[i].body);
    free(s.events);
    return rc == 0 ? 0 : -1;
}

/* ---- checks ----------------------------------------------------------------- */

/* Waits until every daemon runs and the ledger stopped growing; *settled_s
 * gets the seconds until it last grew. */
static bool s_wait_quiet(double *settled_s)
{
    int64_t begun = cairn_mono_ms(), last_change = begun;
    int64_t last_size = -2;
    int64_t max_ms = (int64_t)s_env_int("CAIRN_CHAOS_QUIET_S", 180) * 1000;
    while (cairn_mono_ms() - begun < max_ms) {
        bool all = true;
        for (int i = 0; i < 4; i++)
            all = all && stack_daemon_pid(&s.stack, s_daemons[i]) > 0;
        int64_t size = probe_ledger_size(&s.stack);
        double spool = probe_metric(&s.stack, "cairn_ingest_spool_depth");
        if (!all || size < 0 || size != last_size || spool != 0) {
            last_size = size;
            last_change = cairn_mono_ms();
        } else if (cairn_mono_ms() - last_change >= S_QUIET_MS) {
            *settled_s = (double)(last_change - begun) / 1000.0;
            return true;
        }
        sleep_ms(250);
    }
    fprintf(stderr, "chaos: not quiet after %llds: ledger size %lld, spool depth %.0f\n",
            (long long)max_ms / 1000, (long long)last_size,
            probe_metric(&s.stack, "cairn_ingest_spool_depth"));
    return false;
}

/* Counts of a string key. */
static void s_count(zhashx_t *h, const char *key)
{
    uintptr_t n = (uintptr_t)zhashx_lookup(h, key);
    if (n)
        zhashx_update(h, key, (void *)(n + 1));
    else
        zhashx_insert(h, key, (void *)1);
}

static size_t s_get(zhashx_t *h, const char *key)
{
    return (size_t)(uintptr_t)zhashx_lookup(h, key);
}

/* The sink's answered requests: {webhook-id: [wall ms of each 2xx answer]}. */
static json_t *s_sink_deliveries(size_t *answered_out)
{
    json_t *ids = json_object();
    char *text = slurp(s.sink_log);
    size_t answered = 0;
    for (char *save = NULL, *line = text ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *phase = json_string_value(json_object_get(j, "phase"));
        json_int_t status = json_integer_value(json_object_get(j, "status"));
        const char *id =
            json_string_value(json_object_get(json_object_get(j, "headers"), "webhook-id"));
        if (phase && strcmp(phase, "answered") == 0 && status >= 200 && status < 300 && id &&
            json_is_true(json_object_get(j, "answered"))) {
            json_t *times = json_object_get(ids, id);
            if (!times)
                json_object_set_new(ids, id, times = json_array());
            json_array_append(times, json_object_get(j, "at_ms"));
            answered++;
        }
        json_decref(j);
    }
    free(text);
    *answered_out = answered;
    return ids;
}

/* A notification answered again is excused only when cairn-notify was
 * killed between the earlier answer and the next: the sender died before it
 * could record the delivery, so it made it again under the same webhook-id
 * (the receiver's key to drop the copy). Any other repeat is a duplicate. */
static bool s_redelivery_excused(json_int_t answered_ms, json_int_t again_ms)
{
    for (int i = 0; i < s.n_notify_kills; i++)
        if (s.notify_kills[i] >= answered_ms - 10 && s.notify_kills[i] <= again_ms)
            return true;
    return false;
}

/* The latest recorded verdict per "<change> <gate>" (decision name). */
static void s_latest_verdict(zhashx_t *latest, const Cairn__V1__Verdict *v)
{
    char key[256];
    snprintf(key, sizeof key, "%s %s", v->change_id, v->gate);
    zhashx_update(latest, key, (void *)cairn_decision_name(v->decision));
}

/* cairn-policy's answer now for one change agrees with the ledger. Returns
 * how many gates differ (and prints them). */
static int s_check_live(zhashx_t *latest, const char *change)
{
    json_t *st = NULL;
    stack_cli_json(&s.stack, &st, "status %s", change);
    json_t *verdicts = json_object_get(st, "gates");
    int differ = 0;
    size_t i;
    json_t *v;
    if (!json_is_array(verdicts)) {
        fprintf(stderr, "chaos: cairn status %s gave no gates\n", change);
        json_decref(st);
        return 1;
    }
    json_array_foreach(verdicts, i, v)
    {
        const char *gate = json_string_value(json_object_get(v, "gate"));
        const char *dec = json_string_value(json_object_get(v, "decision"));
        char key[256];
        snprintf(key, sizeof key, "%s %s", change, gate ? gate : "");
        const char *rec = zhashx_lookup(latest, key);
        /* Decisions may be spelled "allow" or "DECISION_ALLOW". */
        char low[64] = "";
        for (size_t k = 0; dec && dec[k] && k + 1 < sizeof low; k++)
            low[k] = (char)((dec[k] >= 'A' && dec[k] <= 'Z') ? dec[k] + 32 : dec[k]);
        if (!gate || !rec || !strstr(low, rec)) {
            fprintf(stderr, "chaos: %s gate %s: cairn-policy says %s, ledger's latest %s\n", change,
                    gate ? gate : "?", dec ? dec : "?", rec ? rec : "(none)");
            differ++;
        }
    }
    json_decref(st);
    return differ;
}

static void the_stack_loses_and_duplicates_nothing_while_daemons_are_killed(void **state)
{
    (void)state;
    s.started_ms = cairn_mono_ms();
    pthread_t chaos, *clients = calloc((size_t)s.n_clients, sizeof *clients);
    s_client_t *args = calloc((size_t)s.n_clients, sizeof *args);
    assert_int_equal(pthread_create(&chaos, NULL, s_chaos, NULL), 0);
    for (int i = 0; i < s.n_clients; i++) {
        args[i].index = i;
        assert_int_equal(pthread_create(&clients[i], NULL, s_client, &args[i]), 0);
    }
    for (int i = 0; i < s.n_clients; i++)
        pthread_join(clients[i], NULL);
    atomic_store(&s.load_done, true);
    double load_s = (double)(cairn_mono_ms() - s.started_ms) / 1000.0;
    pthread_join(chaos, NULL);
    free(clients);
    free(args);

    int total = s.n_changes * S_STEPS, accepted = 0, unaccepted = 0;
    for (int i = 0; i < total; i++) {
        accepted += s.events[i].accepted;
        unaccepted += !s.events[i].accepted;
    }
    fprintf(stderr,
            "chaos: load done in %.1fs: %d events, %d accepted, %d never accepted; %ld answers "
            "503 (%ld with Retry-After), %ld without answer, %d kills: %s\n",
            load_s, total, accepted, unaccepted, atomic_load(&s.n_503),
            atomic_load(&s.n_503_retry_after), atomic_load(&s.n_refused), atomic_load(&s.kills),
            s.kill_log);
    double settled_s = 0;
    assert_true(s_wait_quiet(&settled_s));
    fprintf(stderr, "chaos: settled %.1fs after the load (ledger size steady, spool empty)\n",
            settled_s);

    /* 1. Every accepted event exactly once. */
    probe_ledger_t ledger;
    assert_int_equal(probe_ledger_read(&s.stack, &ledger), 0);
    zhashx_t *by_key = zhashx_new(), *by_id = zhashx_new(), *delivered = zhashx_new(),
             *latest = zhashx_new();
    size_t n_events = 0, n_verdicts = 0, n_receipts = 0, n_dead = 0;
    for (size_t i = 0; i < ledger.n; i++) {
        const Cairn__V1__Entry *e = ledger.entries[i];
        Cairn__V1__Record *rec = NULL;
        assert_int_equal(cairn_codec_record_unpack(e->record.data, e->record.len, &rec), 0);
        if (rec->body_case == CAIRN__V1__RECORD__BODY_EVENT &&
            strncmp(rec->event->source, "/chaos/", 7) == 0) {
            s_count(by_key, e->key);
            s_count(by_id, rec->event->id);
            n_events++;
        } else if (rec->body_case == CAIRN__V1__RECORD__BODY_VERDICT) {
            s_latest_verdict(latest, rec->verdict);
            n_verdicts++;
        } else if (rec->body_case == CAIRN__V1__RECORD__BODY_RECEIPT) {
            n_receipts++;
            if (strcmp(rec->receipt->outcome, "delivered") == 0)
                s_count(delivered, rec->receipt->message_id);
            if (strcmp(rec->receipt->outcome, "dead") == 0)
                n_dead++;
        }
        CAIRN_CODEC_FREE(&rec);
    }
    int lost = 0, duplicated = 0, unaccepted_present = 0;
    for (int i = 0; i < total; i++) {
        const s_event_t *ev = &s.events[i];
        char key[160];
        s_key_of(ev, key, sizeof key);
        size_t nk = s_get(by_key, key), ni = s_get(by_id, ev->id);
        if (ev->accepted && (nk == 0 || ni == 0)) {
            fprintf(stderr, "chaos: LOST %s (answered %ld after %d attempts)\n", ev->id, ev->status,
                    ev->attempts);
            lost++;
        }
        if (nk > 1 || ni > 1) {
            fprintf(stderr, "chaos: DUPLICATE %s: %zu entries by key, %zu by id\n", ev->id, nk, ni);
            duplicated++;
        }
        unaccepted_present += !ev->accepted && nk > 0;
    }
    fprintf(stderr,
            "chaos: ledger %zu entries: %zu events, %zu verdicts, %zu receipts (%zu dead); "
            "lost %d, duplicated %d; %d never-accepted events present anyway\n",
            ledger.n, n_events, n_verdicts, n_receipts, n_dead, lost, duplicated,
            unaccepted_present);

    /* 2. The recorded verdicts are what the policy decides from the ledger. */
    char policy[200];
    snprintf(policy, sizeof policy, "%s/policy.yaml", s.work);
    json_t *replay = NULL;
    assert_int_equal(stack_cli_json(&s.stack, &replay, "policy replay %s", policy), 0);
    assert_non_null(replay);
    json_int_t changed = json_integer_value(json_object_get(replay, "changed"));
    json_int_t compared = json_integer_value(json_object_get(replay, "compared"));
    json_int_t unrecorded = json_integer_value(json_object_get(replay, "unrecorded_total"));
    json_int_t unmatched = json_integer_value(json_object_get(replay, "unmatched"));
    fprintf(stderr,
            "chaos: policy replay: %" JSON_INTEGER_FORMAT
            " verdicts compared, %" JSON_INTEGER_FORMAT " would change, %" JSON_INTEGER_FORMAT
            " never recorded, %" JSON_INTEGER_FORMAT " without counterpart\n",
            compared, changed, unrecorded, unmatched);
    if (changed || unrecorded || unmatched) {
        char *text = json_dumps(json_object_get(replay, "diffs"), JSON_COMPACT);
        fprintf(stderr, "chaos: replay diffs: %.4000s\n", text ? text : "");
        free(text);
    }
    json_decref(replay);
    int live_differ = 0, sampled = 0;
    for (int c = 0; c<s.n_changes; c += s.n_changes> 40 ? s.n_changes / 40 : 1, sampled++) {
        char chg[32];
        snprintf(chg, sizeof chg, "CHG-X%d", c);
        live_differ += s_check_live(latest, chg);
    }
    fprintf(stderr, "chaos: %d changes asked of cairn-policy, %d gates differ from the ledger\n",
            sampled, live_differ);

    /* 3. The log verifies. */
    char *out = NULL;
    int verify = stack_cli(&s.stack, &out, "log verify");
    fprintf(stderr, "chaos: cairn log verify: %d %s", verify, out ? out : "\n");
    free(out);

    /* 4. Notifications: each answered once, each with one delivered receipt. */
    size_t answered = 0;
    json_t *sink = s_sink_deliveries(&answered);
    size_t redelivered = 0, duplicates = 0, unreceipted = 0, extra_receipts = 0;
    const char *id;
    json_t *times;
    json_object_foreach(sink, id, times)
    {
        for (size_t k = 1; k < json_array_size(times); k++) {
            json_int_t t1 = json_integer_value(json_array_get(times, k - 1));
            json_int_t t2 = json_integer_value(json_array_get(times, k));
            if (s_redelivery_excused(t1, t2)) {
                redelivered++;
            } else {
                fprintf(stderr,
                        "chaos: DUPLICATE notification %s answered at %" JSON_INTEGER_FORMAT
                        " and %" JSON_INTEGER_FORMAT " with no notify kill between\n",
                        id, t1, t2);
                duplicates++;
            }
        }
        if (s_get(delivered, id) != 1) {
            fprintf(stderr, "chaos: notification %s has %zu delivered receipts\n", id,
                    s_get(delivered, id));
            unreceipted++;
        }
    }
    for (void *n = zhashx_first(delivered); n; n = zhashx_next(delivered))
        if (!json_object_get(sink, zhashx_cursor(delivered)))
            extra_receipts++;
    fprintf(stderr,
            "chaos: sink: %zu notifications (%zu answers): %zu made again after notify was "
            "killed mid-delivery (same webhook-id), %zu duplicates; %zu without exactly one "
            "delivered receipt, %zu receipts the sink never answered\n",
            json_object_size(sink), answered, redelivered, duplicates, unreceipted, extra_receipts);

    /* 5. Nothing died but by our hand. */
    char *log = slurp(s.stack.log);
    int crashes = 0, sigkills = 0;
    for (char *line = log; line && *line;) {
        char *next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strstr(line, "exited with status") && !strstr(line, "status=0"))
            crashes++;
        if (strstr(line, "killed by signal"))
            (strstr(line, "signal=9 ") ? sigkills++ : crashes++);
        if (strstr(line, "AddressSanitizer") || strstr(line, "runtime error:"))
            crashes++;
        line = next;
    }
    free(log);
    double total_s = (double)(cairn_mono_ms() - s.started_ms) / 1000.0;
    fprintf(stderr,
            "chaos: RESULT seed=%" PRIu64 " events=%d accepted=%d kills=%d (supervisor saw %d) "
            "lost=%d duplicated=%d verdicts_changed=%" JSON_INTEGER_FORMAT
            " unrecorded=%" JSON_INTEGER_FORMAT " notifications=%zu redelivered_after_kill=%zu "
            "notify_duplicates=%zu crashes=%d "
            "load=%.1fs settled=%.1fs total=%.1fs\n",
            s.seed, total, accepted, atomic_load(&s.kills), sigkills, lost, duplicated, changed,
            unrecorded, json_object_size(sink), redelivered, duplicates, crashes, load_s, settled_s,
            total_s);

    assert_int_equal(lost, 0);
    assert_int_equal(duplicated, 0);
    assert_int_equal(unaccepted, 0);
    assert_int_equal(atomic_load(&s.n_unexpected), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(unrecorded, 0);
    assert_int_equal(unmatched, 0);
    assert_true(compared > 0);
    assert_int_equal(live_differ, 0);
    assert_int_equal(verify, 0);
    assert_true(json_object_size(sink) > 0);
    assert_int_equal(duplicates, 0);
    assert_int_equal(unreceipted, 0);
    assert_int_equal(extra_receipts, 0);
    assert_int_equal(n_dead, 0);
    assert_int_equal(crashes, 0);
    assert_true(atomic_load(&s.kills) >= S_MIN_KILLS(s.max_kills));
    json_decref(sink);
    zhashx_destroy(&by_key);
    zhashx_destroy(&by_id);
    zhashx_destroy(&delivered);
    zhashx_destroy(&latest);
    probe_ledger_clear(&ledger);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_stack_loses_and_duplicates_nothing_while_daemons_are_killed),
    };
    int rc = cmocka_run_group_tests(tests, s_setup, s_teardown);
    curl_global_cleanup();
    return rc;
}
