/* policy_bench: measures policy evaluation and gate queries against the raw
 * ZeroMQ round trip on the same machine, in one run.
 *
 * It generates a policy of 200 rules (100 approval rules with `when:`
 * predicates over environment and service, 4 separation-of-duties rules,
 * 96 evidence criteria over 8 gates chained by `after`) and 10,000 active
 * changes with facts, evidence and approvals, and stores the changes in a
 * policy state store (LMDB, the daemon's own state.c). Then, pinned to one
 * CPU:
 *   1. deciding every gate of a change (cairn_eval_new: decisions, rule ids
 *      and results, no sentences), over all changes in turn;
 *   2. writing every verdict of a change with its sentences and encoding
 *      them (cairn_evaluate_change), what the daemon appends per event;
 *   3. gate queries in-process without the verdict cache (cairn_query_answer:
 *      LMDB read, decode, decide, write the asked gate, encode);
 *   4. the same from the verdict cache, after one query per change filled
 *      it (every cached answer sampled is checked against a live one);
 * and over the bus:
 *   5. raw round trips: a DEALER -> ROUTER echo over ipc:// with the sizes of
 *      a gate query and its reply, in this process and in another one;
 *   6. gate queries to the real cairn-policy daemon (started on the
 *      generated policy and state, beside a real cairn-ledger), one client
 *      in sequence, the way `cairn gate` asks: first once per change (each
 *      evaluated), then again (answered from the daemon's cache).
 * Every query must come back with a verdict; otherwise the benchmark exits 1.
 * See bench/README.md. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "change.h"
#include "evaluate.h"
#include "policy_load.h"
#include "policy_slot.h"
#include "query.h"
#include "state.h"
#include "verdict_cache.h"

#define S_NS_PER_S 1000000000ull
#define S_ROLES 10
#define S_USERS_PER_ROLE 8
#define S_SERVICES 50
#define S_APPROVAL_RULES 100
#define S_SOD_RULES 4
#define S_GATES 8
#define S_CRITERIA_PER_GATE 12
#define S_T0 1795600800000LL
#define S_START_MS 15000
#define S_SHA "4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"

typedef struct {
    int changes;        /* active changes */
    int evaluations;    /* evaluations measured (cycling over the changes) */
    int queries;        /* gate queries over the bus */
    int cpu;            /* CPU the in-process steps are pinned to */
    char bin[PATH_MAX]; /* directory holding cairn-ledger and cairn-policy */
} s_options_t;

typedef struct {
    uint64_t *ns; /* one latency per operation */
    size_t n;     /* recorded */
} s_samples_t;

typedef struct {
    const char *name; /* what was measured */
    uint64_t ops;     /* operations */
    double rate;      /* per second */
    double p50_us;    /* median latency */
    double p99_us;    /* 99th percentile */
    double cpu_us;    /* CPU time of this thread per operation (in-process steps; < 0 unknown) */
} s_row_t;

static uint64_t s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * S_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static int s_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double s_pct_us(s_samples_t *s, double p)
{
    if (!s->n)
        return 0;
    qsort(s->ns, s->n, sizeof *s->ns, s_cmp_u64);
    size_t rank = (size_t)(p * (double)s->n + 0.999999);
    rank = rank < 1 ? 1 : (rank > s->n ? s->n : rank);
    return (double)s->ns[rank - 1] / 1000.0;
}

static uint64_t s_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * S_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static s_row_t s_row(const char *name, s_samples_t *s, uint64_t elapsed_ns, int64_t cpu_ns)
{
    s_row_t r = {name,
                 s->n,
                 elapsed_ns ? (double)s->n * 1e9 / (double)elapsed_ns : 0,
                 s_pct_us(s, 0.50),
                 s_pct_us(s, 0.99),
                 cpu_ns >= 0 && s->n ? (double)cpu_ns / 1000.0 / (double)s->n : -1};
    return r;
}

/* ---- the generated policy ----------------------------------------------------- */

static const char *s_types[] = {"test_report", "scan",         "coverage",
                                "build",       "verification", "deployment"};

static int s_policy_text(FILE *f)
{
    fprintf(f, "apiVersion: cairn/v1\nkind: ReleasePolicy\n"
               "metadata: { name: bench-200, revision: \"1\" }\n\nroles:\n");
    for (int r = 0; r < S_ROLES; r++) {
        fprintf(f, "  role%d: { users: [", r);
        for (int u = 0; u < S_USERS_PER_ROLE; u++)
            fprintf(f, "%su%d_%d", u ? ", " : "", r, u);
        fprintf(f, "] }\n");
    }
    fprintf(f, "  bots: { users: [ci-bot], kind: service_account }\n");
    fprintf(f, "\napprovals:\n  distinct_persons: true\n  invalidate_on: [new_commit]\n"
               "  rules:\n");
    for (int i = 0; i < S_APPROVAL_RULES; i++)
        fprintf(f,
                "    - { id: a%d, when: { env: [%s], service: [svc%d] }, from: [role%d, role%d], "
                "count: %d }\n",
                i, i % 2 ? "prod" : "staging", i % S_SERVICES, i % S_ROLES, (i + 3) % S_ROLES,
                1 + i % 2);
    fprintf(f, "\nseparation_of_duties:\n"
               "  - { id: SOD1, role: approver, not: [author] }\n"
               "  - { id: SOD2, role: approver, not: [committers] }\n"
               "  - { id: SOD3, role: approver, not_kind: [service_account] }\n"
               "  - { id: SOD4, role: verifier, not: [deployer] }\n");
    fprintf(f, "\ngates:\n");
    int id = 0;
    for (int g = 0; g < S_GATES; g++) {
        fprintf(f, "  g%d:\n", g);
        if (g)
            fprintf(f, "    after: [g%d]\n", g - 1);
        if (g == S_GATES - 2)
            fprintf(f, "    require: { approvals_satisfied: true }\n");
        fprintf(f, "    evidence:\n");
        for (int c = 0; c < S_CRITERIA_PER_GATE; c++, id++) {
            const char *t = s_types[id % 6];
            const char *req = "{ passed: true }";
            if (strcmp(t, "test_report") == 0)
                req = "{ failed: 0, passed_min: 1 }";
            else if (strcmp(t, "scan") == 0)
                req = "{ critical: 0, high: 2 }";
            else if (strcmp(t, "coverage") == 0)
                req = "{ line_pct_min: 60 }";
            fprintf(f, "      - { id: e%d, type: %s, require: %s%s }\n", id, t, req,
                    id % 7 == 0 ? ", max_age: 30d" : "");
        }
    }
    return 0;
}

/* ---- the generated changes ------------------------------------------------------ */

static cairn_change_t *s_change(int i)
{
    char id[32], svc[16], user[32];
    snprintf(id, sizeof id, "CHG-%d", i);
    cairn_change_t *c = cairn_change_new(id);
    if (!c)
        return NULL;
    int role = i % S_ROLES;
    snprintf(user, sizeof user, "u%d_%d", role, i % S_USERS_PER_ROLE);
    snprintf(svc, sizeof svc, "svc%d", i % S_SERVICES);
    cairn_change_set(&c->author, user);
    cairn_change_add_str(&c->committers, &c->n_committers, user);
    cairn_change_set(&c->commit_sha, S_SHA);
    cairn_change_set(&c->environment, i % 2 ? "prod" : "staging");
    cairn_change_set(&c->service, svc);
    cairn_change_set(&c->deployer, "ci-bot");
    cairn_change_set(&c->verifier, user);
    uint64_t index = (uint64_t)i * 16;
    for (int k = 0; k < 6; k++) {
        cairn_change_evidence_t e = {
            .kind = (char *)s_types[k],
            .index = index + (uint64_t)k,
            .received_at_ms = S_T0 + i,
            .commit_sha = S_SHA,
            .outcome = (i + k) % 17 ? "success" : "failure",
            .passed = 100,
            .failed = (i + k) % 23 ? 0 : 1,
            .high = (uint32_t)(i % 4),
            .coverage_line_pct = 40 + i % 50,
            .has_coverage = true,
        };
        cairn_change_put_evidence(c, &e);
        cairn_change_add_input(c, e.index);
    }
    /* Two or three approvals from the roles the change's rules ask for. */
    for (int k = 0; k < 2 + i % 2; k++) {
        int r = (i + k * 3) % S_ROLES;
        snprintf(user, sizeof user, "u%d_%d", r, (i + k + 1) % S_USERS_PER_ROLE);
        char rname[16];
        snprintf(rname, sizeof rname, "role%d", r);
        cairn_change_approval_t a = {.user = user,
                                     .role = rname,
                                     .commit_sha = S_SHA,
                                     .index = index + 8 + (uint64_t)k,
                                     .rejected = false};
        cairn_change_add_approval(c, &a);
        cairn_change_add_input(c, a.index);
    }
    return c;
}

/* ---- in-process steps ------------------------------------------------------------ */

static int s_pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

static int s_unpin(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < CPU_SETSIZE; i++)
        CPU_SET(i, &set);
    return sched_setaffinity(0, sizeof set, &set);
}

static cairn_eval_opts_t s_opts(const cairn_change_t *c)
{
    cairn_eval_opts_t o = {.environment = NULL,
                           .now_ms = S_T0 + 86400000LL,
                           .trigger_index = c->inputs[c->n_inputs - 1]};
    return o;
}

/* Deciding every gate of a change: decisions, rule ids, results. */
static int s_bench_decide(const cairn_policy_t *p, cairn_change_t **cs, int n, int count,
                          s_row_t *row, uint64_t decisions[5], uint64_t *reasons_out)
{
    s_samples_t s = {calloc((size_t)count, sizeof(uint64_t)), 0};
    if (!s.ns)
        return -ENOMEM;
    uint64_t start = s_now_ns(), cpu = s_cpu_ns();
    uint64_t reasons = 0;
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        const cairn_change_t *c = cs[i % n];
        cairn_eval_opts_t o = s_opts(c);
        cairn_eval_t *e = NULL;
        uint64_t t = s_now_ns();
        rc = cairn_eval_new(p, c->id, c, &o, false, &e);
        s.ns[s.n++] = s_now_ns() - t;
        if (rc < 0)
            break;
        if (i < n) {
            Cairn__V1__Decision d = cairn_eval_decision(e, S_GATES - 2);
            decisions[d < 5 ? d : 0]++;
        }
        for (size_t g = 0; g < p->n_gates; g++)
            reasons += cairn_eval_findings(e, g)->n_reasons;
        cairn_eval_destroy(&e);
    }
    if (rc == 0) {
        *row = s_row("decide every gate of a change (rule ids and results)", &s, s_now_ns() - start,
                     (int64_t)(s_cpu_ns() - cpu));
        *reasons_out = reasons / (uint64_t)count;
    }
    free(s.ns);
    return rc;
}

/* What the daemon does for each event: decide and write every verdict,
 * sentences included, and encode them as the ledger appends them. */
static int s_bench_write(const cairn_policy_t *p, cairn_change_t **cs, int n, int count,
                         s_row_t *row, size_t *bytes_out)
{
    s_samples_t s = {calloc((size_t)count, sizeof(uint64_t)), 0};
    if (!s.ns)
        return -ENOMEM;
    uint64_t start = s_now_ns(), cpu = s_cpu_ns();
    size_t bytes = 0;
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        const cairn_change_t *c = cs[(i * 7) % n];
        cairn_eval_opts_t o = s_opts(c);
        cairn_evaluation_t e;
        uint64_t t = s_now_ns();
        rc = cairn_evaluate_change(p, c->id, c, &o, &e);
        for (size_t g = 0; rc == 0 && g < e.n; g++) {
            uint8_t *buf = NULL;
            size_t len = 0;
            rc = cairn_codec_pack(&e.verdicts[g]->base, &buf, &len);
            bytes += len;
            free(buf);
        }
        s.ns[s.n++] = s_now_ns() - t;
        if (rc == 0)
            cairn_evaluation_clear(&e);
    }
    if (rc == 0) {
        *row = s_row("write every verdict of a change, encoded (what an event appends)", &s,
                     s_now_ns() - start, (int64_t)(s_cpu_ns() - cpu));
        *bytes_out = bytes / (size_t)count;
    }
    free(s.ns);
    return rc;
}

static int s_gate_request(int i, uint8_t **buf, size_t *len)
{
    char id[32];
    snprintf(id, sizeof id, "CHG-%d", i);
    Cairn__V1__GateQuery q = CAIRN__V1__GATE_QUERY__INIT;
    Cairn__V1__PolicyRequest req = CAIRN__V1__POLICY_REQUEST__INIT;
    q.change_id = id;
    q.gate = "g6";
    req.body_case = CAIRN__V1__POLICY_REQUEST__BODY_GATE;
    req.gate = &q;
    return cairn_codec_pack(&req.base, buf, len);
}

/* Decodes a reply and checks it carries a verdict. */
static int s_check_reply(const uint8_t *buf, size_t len)
{
    Cairn__V1__PolicyReply *reply = NULL;
    int rc = cairn_codec_policy_reply_unpack(buf, len, &reply);
    if (rc == 0 && (reply->status != 0 || !reply->verdict))
        rc = CAIRN_EPROTO;
    CAIRN_CODEC_FREE(&reply);
    return rc;
}

static int s_bench_query_local(cairn_state_t *state, cairn_policy_slot_t *slot,
                               cairn_verdict_cache_t *cache, const char *name, int n, int count,
                               s_row_t *row, size_t *reply_bytes)
{
    s_samples_t s = {calloc((size_t)count, sizeof(uint64_t)), 0};
    int rc = s.ns ? 0 : -ENOMEM;
    uint64_t start = s_now_ns(), cpu = s_cpu_ns();
    for (int i = 0; i < count && rc == 0; i++) {
        uint8_t *req = NULL, *reply = NULL;
        size_t len = 0, rlen = 0;
        if ((rc = s_gate_request((i * 7919) % n, &req, &len)) < 0)
            break;
        uint64_t t = s_now_ns();
        rc = cairn_query_answer(state, slot, cache, req, len, S_T0 + 86400000LL, &reply, &rlen);
        s.ns[s.n++] = s_now_ns() - t;
        if (rc == 0)
            rc = s_check_reply(reply, rlen);
        *reply_bytes = rlen;
        free(req);
        free(reply);
    }
    if (rc == 0)
        *row = s_row(name, &s, s_now_ns() - start, (int64_t)(s_cpu_ns() - cpu));
    free(s.ns);
    return rc;
}

/* Fills the cache with one query per change, then checks that answers from
 * the cache are byte for byte the answers evaluated live. */
static int s_fill_cache(cairn_state_t *state, cairn_policy_slot_t *slot,
                        cairn_verdict_cache_t *cache, int n)
{
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        uint8_t *req = NULL, *reply = NULL, *live = NULL;
        size_t len = 0, rlen = 0, llen = 0;
        if ((rc = s_gate_request(i, &req, &len)) < 0)
            break;
        rc = cairn_query_answer(state, slot, cache, req, len, S_T0 + 86400000LL, &reply, &rlen);
        free(reply);
        reply = NULL;
        if (rc == 0 && i % 97 == 0) {
            cairn_verdict_cache_stats_t before, after;
            cairn_verdict_cache_stats(cache, &before);
            rc = cairn_query_answer(state, slot, cache, req, len, S_T0 + 86400000LL, &reply, &rlen);
            cairn_verdict_cache_stats(cache, &after);
            if (rc == 0)
                rc = cairn_query_answer(state, slot, NULL, req, len, S_T0 + 86400000LL, &live,
                                        &llen);
            if (rc == 0 &&
                (after.hits != before.hits + 1 || rlen != llen || memcmp(reply, live, rlen) != 0)) {
                fprintf(stderr, "policy_bench: the cached answer for CHG-%d differs\n", i);
                rc = CAIRN_EINTEGRITY;
            }
        }
        free(req);
        free(reply);
        free(live);
    }
    return rc;
}

/* ---- raw ZeroMQ ----------------------------------------------------------------- */

typedef struct {
    const char *endpoint; /* where to bind */
    size_t reply_bytes;   /* size of each answer */
    volatile int ready;   /* bound (1) or failed (-1) */
    int timeout_ms;       /* give up when nothing arrives this long (-1: never) */
} s_echo_t;

static void *s_echo(void *arg)
{
    s_echo_t *e = arg;
    zsock_t *router = NULL;
    if (cairn_bus_bind(ZMQ_ROUTER, e->endpoint, &router) < 0) {
        e->ready = -1;
        return NULL;
    }
    uint8_t *answer = calloc(1, e->reply_bytes ? e->reply_bytes : 1);
    e->ready = 1;
    zsock_set_rcvtimeo(router, e->timeout_ms);
    for (;;) {
        zframe_t *peer = NULL;
        uint8_t *payload = NULL;
        size_t len = 0;
        if (cairn_bus_server_recv(router, &peer, &payload, &len) < 0)
            break;
        bool stop = len == 4 && memcmp(payload, "STOP", 4) == 0;
        free(payload);
        cairn_bus_server_reply(router, &peer, answer, e->reply_bytes);
        if (stop)
            break;
    }
    free(answer);
    zsock_destroy(&router);
    return NULL;
}

static void s_stop(pid_t pid);

/* The echo of s_echo in a process of its own: this program started again
 * with --echo, the way cairn-policy answers from another process. */
static pid_t s_spawn_echo(const char *endpoint, size_t reply_bytes)
{
    char self[PATH_MAX], bytes[32];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    self[k > 0 ? k : 0] = '\0';
    snprintf(bytes, sizeof bytes, "%zu", reply_bytes);
    pid_t pid = fork();
    if (pid == 0) {
        execl(self, "policy_bench", "--echo", endpoint, bytes, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int s_bench_zmq(const char *dir, size_t req_bytes, size_t reply_bytes, int count,
                       bool other_process, s_row_t *row)
{
    char endpoint[PATH_MAX + 16];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/echo%d.sock", dir, other_process);
    s_echo_t e = {endpoint, reply_bytes, 0, 2000};
    pthread_t th;
    pid_t pid = -1;
    if (other_process) {
        if ((pid = s_spawn_echo(endpoint, reply_bytes)) < 0)
            return -errno;
        e.ready = 1;
    } else {
        if (pthread_create(&th, NULL, s_echo, &e) != 0)
            return -errno;
        while (!e.ready)
            usleep(1000);
    }
    int rc = e.ready < 0 ? CAIRN_EUNREACHABLE : 0;
    cairn_client_t *client = rc == 0 ? cairn_client_new(endpoint) : NULL;
    uint8_t *req = calloc(1, req_bytes ? req_bytes : 1);
    s_samples_t s = {calloc((size_t)count, sizeof(uint64_t)), 0};
    if (rc == 0 && (!client || !req || !s.ns))
        rc = -ENOMEM;
    /* The other process binds when it is ready: wait for its first answer. */
    rc = rc == 0 && other_process ? CAIRN_EUNREACHABLE : rc;
    for (int64_t deadline = cairn_mono_ms() + S_START_MS;
         rc == CAIRN_EUNREACHABLE && cairn_mono_ms() < deadline;) {
        uint8_t *answer = NULL;
        size_t alen = 0;
        rc = cairn_client_call(client, req, req_bytes, 500, &answer, &alen) == 0
                 ? 0
                 : CAIRN_EUNREACHABLE;
        free(answer);
    }
    uint64_t start = s_now_ns();
    for (int i = -count / 10; i < count && rc == 0; i++) { /* the first tenth warms up */
        uint8_t *answer = NULL;
        size_t alen = 0;
        if (i == 0)
            start = s_now_ns();
        uint64_t t = s_now_ns();
        rc = cairn_client_call(client, req, req_bytes, 2000, &answer, &alen);
        if (i >= 0)
            s.ns[s.n++] = s_now_ns() - t;
        free(answer);
    }
    if (rc == 0)
        *row = s_row(other_process
                         ? "raw ZeroMQ round trip to another process (ROUTER echo, ipc://)"
                         : "raw ZeroMQ round trip in-process (DEALER -> ROUTER echo, ipc://)",
                     &s, s_now_ns() - start, -1);
    uint8_t *answer = NULL;
    size_t alen = 0;
    if (client)
        cairn_client_call(client, "STOP", 4, 2000, &answer, &alen);
    free(answer);
    if (other_process)
        s_stop(pid);
    else
        pthread_join(th, NULL);
    cairn_client_destroy(&client);
    free(req);
    free(s.ns);
    return rc;
}

/* ---- the daemons ---------------------------------------------------------------- */

static pid_t s_spawn(const s_options_t *o, const char *name, const char *dir, const char *policy,
                     const char *state)
{
    char exe[PATH_MAX + 32], log[PATH_MAX + 32], set1[PATH_MAX + 32], set2[PATH_MAX + 32];
    snprintf(exe, sizeof exe, "%s/%s", o->bin, name);
    snprintf(log, sizeof log, "%s/%s.log", dir, name);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    if (policy) {
        snprintf(set1, sizeof set1, "policy.file=%s", policy);
        snprintf(set2, sizeof set2, "policy.state_path=%s", state);
        execl(exe, name, "--data-dir", dir, "--set", "log.level=warn", "--set", set1, "--set", set2,
              (char *)NULL);
    } else {
        execl(exe, name, "--data-dir", dir, "--set", "log.level=warn", (char *)NULL);
    }
    _exit(127);
}

static void s_stop(pid_t pid)
{
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 500; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static uint64_t s_sum(const s_samples_t *s)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < s->n; i++)
        sum += s->ns[i];
    return sum;
}

/* count gate queries in sequence, for change (i * 7919 + shift) % n; the
 * first warm of them are not measured. With echo, each query is preceded
 * by a raw round trip of the same sizes to another process (samples in
 * es), so both see the same moments of the machine's load. */
static int s_bus_pass(cairn_client_t *client, cairn_client_t *echo, size_t req_bytes, int n,
                      int count, int warm, int shift, s_samples_t *s, s_samples_t *es)
{
    int rc = 0;
    uint8_t *raw = calloc(1, req_bytes ? req_bytes : 1);
    s->n = 0;
    if (es)
        es->n = 0;
    for (int i = -warm; i < count && rc == 0 && raw; i++) {
        uint8_t *req = NULL, *answer = NULL;
        size_t len = 0, alen = 0;
        if (echo) {
            uint64_t t = s_now_ns();
            rc = cairn_client_call(echo, raw, req_bytes, 2000, &answer, &alen);
            if (i >= 0)
                es->ns[es->n++] = s_now_ns() - t;
            free(answer);
            answer = NULL;
            if (rc < 0)
                break;
        }
        if ((rc = s_gate_request((int)(((int64_t)i * 7919 + shift + (int64_t)warm * n) % n), &req,
                                 &len)) < 0)
            break;
        uint64_t t = s_now_ns();
        rc = cairn_client_call(client, req, len, 2000, &answer, &alen);
        if (i >= 0)
            s->ns[s->n++] = s_now_ns() - t;
        if (rc == 0)
            rc = s_check_reply(answer, alen);
        free(req);
        free(answer);
    }
    free(raw);
    return raw ? rc : -ENOMEM;
}

static int s_bench_bus(const s_options_t *o, const char *dir, const char *policy, const char *state,
                       int n, size_t req_bytes, size_t reply_bytes, s_row_t *cold, s_row_t *warm,
                       s_row_t *raw)
{
    char endpoint[PATH_MAX + 32], echo_ep[PATH_MAX + 32];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/run/policy-query.sock", dir);
    snprintf(echo_ep, sizeof echo_ep, "ipc://%s/echo-bus.sock", dir);
    pid_t ledger = s_spawn(o, "cairn-ledger", dir, NULL, NULL);
    usleep(200000);
    pid_t policy_pid = s_spawn(o, "cairn-policy", dir, policy, state);
    pid_t echo_pid = s_spawn_echo(echo_ep, reply_bytes);
    cairn_client_t *client = cairn_client_new(endpoint);
    cairn_client_t *echo = cairn_client_new(echo_ep);
    size_t most = (size_t)(o->queries > n ? o->queries : n);
    s_samples_t s = {calloc(most, sizeof(uint64_t)), 0}, es = {calloc(most, sizeof(uint64_t)), 0};
    int rc = client && echo && s.ns && es.ns ? CAIRN_EUNREACHABLE : -ENOMEM;
    /* Wait for the daemon and the echo to answer. */
    int64_t deadline = cairn_mono_ms() + S_START_MS;
    while (rc == CAIRN_EUNREACHABLE && cairn_mono_ms() < deadline) {
        uint8_t *req = NULL, *answer = NULL;
        size_t len = 0, alen = 0;
        s_gate_request(0, &req, &len);
        if (cairn_client_call(client, req, len, 500, &answer, &alen) == 0)
            rc = s_check_reply(answer, alen);
        free(req);
        free(answer);
    }
    int echo_rc = CAIRN_EUNREACHABLE;
    while (rc == 0 && echo_rc < 0 && cairn_mono_ms() < deadline) {
        uint8_t *answer = NULL;
        size_t alen = 0;
        echo_rc = cairn_client_call(echo, "warm", 4, 500, &answer, &alen);
        free(answer);
    }
    if (rc == 0 && echo_rc < 0)
        rc = echo_rc;
    /* Every change once: nothing is cached yet, each is evaluated. */
    if (rc == 0 && (rc = s_bus_pass(client, NULL, req_bytes, n, n, 0, 1, &s, NULL)) == 0)
        *cold =
            s_row("gate query over the bus, first for its change (evaluated)", &s, s_sum(&s), -1);
    /* Again, in another order: answered from the cache, alternating with raw
     * round trips to another process. */
    if (rc == 0 && (rc = s_bus_pass(client, echo, req_bytes, n, o->queries, o->queries / 10, 0, &s,
                                    &es)) == 0) {
        *warm = s_row("gate query over the bus, again (from the cache)", &s, s_sum(&s), -1);
        *raw =
            s_row("raw round trip to another process, alternating with those", &es, s_sum(&es), -1);
    }
    if (rc < 0)
        fprintf(stderr, "policy_bench: gate query failed: %s (logs in %s)\n", cairn_strerror(rc),
                dir);
    uint8_t *answer = NULL;
    size_t alen = 0;
    if (echo)
        cairn_client_call(echo, "STOP", 4, 2000, &answer, &alen);
    free(answer);
    cairn_client_destroy(&client);
    cairn_client_destroy(&echo);
    free(s.ns);
    free(es.ns);
    s_stop(echo_pid);
    s_stop(policy_pid);
    s_stop(ledger);
    return rc;
}

/* ---- main ------------------------------------------------------------------------ */

static void s_print_row(const s_row_t *r)
{
    printf("  %-66s %8.0f/s  p50 %8.1f us  p99 %8.1f us", r->name, r->rate, r->p50_us, r->p99_us);
    if (r->cpu_us >= 0)
        printf("  cpu %7.1f us (%.0f/s per core)", r->cpu_us, 1e6 / r->cpu_us);
    printf("\n");
}

static int s_options(int argc, char **argv, s_options_t *o)
{
    static const struct option opts[] = {{"changes", required_argument, NULL, 'n'},
                                         {"evaluations", required_argument, NULL, 'e'},
                                         {"queries", required_argument, NULL, 'q'},
                                         {"cpu", required_argument, NULL, 'c'},
                                         {"bin", required_argument, NULL, 'b'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    *o = (s_options_t){.changes = 10000, .evaluations = 50000, .queries = 20000, .cpu = 0};
    char self[PATH_MAX];
    ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
    self[k > 0 ? k : 0] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    snprintf(o->bin, sizeof o->bin, "%s", self);
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n': o->changes = atoi(optarg); break;
        case 'e': o->evaluations = atoi(optarg); break;
        case 'q': o->queries = atoi(optarg); break;
        case 'c': o->cpu = atoi(optarg); break;
        case 'b': snprintf(o->bin, sizeof o->bin, "%s", optarg); break;
        default:
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: policy_bench [--changes N] [--evaluations N] [--queries N] [--cpu C] "
                    "[--bin DIR]\n");
            return c == 'h' ? 1 : -1;
        }
    }
    return o->changes > 0 && o->evaluations > 0 && o->queries > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--echo") == 0) {
        /* The parent stops it (STOP, then SIGTERM). */
        s_echo_t e = {argv[2], (size_t)strtoul(argv[3], NULL, 10), 0, -1};
        s_echo(&e);
        return e.ready < 0 ? 1 : 0;
    }
    s_options_t o;
    int orc = s_options(argc, argv, &o);
    if (orc != 0)
        return orc > 0 ? 0 : 2;
    /* tmpfs when there is one: storing the changes is setup, not what is measured. */
    char dir[64];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/cairn-policy-bench-XXXXXX",
             stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir)) {
        perror("policy_bench: mkdtemp");
        return 1;
    }
    char policy_path[PATH_MAX], state_path[PATH_MAX];
    snprintf(policy_path, sizeof policy_path, "%s/policy.yaml", dir);
    snprintf(state_path, sizeof state_path, "%s/policy-state", dir);
    int status = 1;
    cairn_policy_t *p = NULL;
    cairn_policy_slot_t *slot = NULL;
    cairn_state_t *state = NULL;
    cairn_change_t **cs = calloc((size_t)o.changes, sizeof *cs);
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_verdict_cache_t *cache = NULL;
    s_row_t decide = {0}, write = {0}, local = {0}, cached = {0}, raw = {0}, raw2 = {0}, cold = {0},
            warm = {0}, alt = {0};
    uint64_t decisions[5] = {0}, reasons = 0;
    size_t reply_bytes = 0, req_bytes = 0, verdict_bytes = 0;

    FILE *f = fopen(policy_path, "w");
    if (!f || s_policy_text(f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "policy_bench: cannot write %s\n", policy_path);
        goto out;
    }
    if (cairn_policy_load_file(policy_path, &errs, &p) < 0) {
        for (size_t i = 0; i < errs.count; i++)
            fprintf(stderr, "%s\n", errs.items[i]);
        goto out;
    }
    size_t rules = p->n_approval_rules + p->n_sod;
    for (size_t g = 0; g < p->n_gates; g++)
        rules += p->gates[g].n_evidence;
    if (!cs || cairn_state_open(state_path, &state) < 0) {
        fprintf(stderr, "policy_bench: cannot open the state store\n");
        goto out;
    }
    /* The state the daemon would hold after following these changes. */
    for (int i = 0; i < o.changes; i++) {
        if (!(cs[i] = s_change(i)) || cairn_state_commit(state, cs[i], 0) < 0) {
            fprintf(stderr, "policy_bench: cannot store change %d\n", i);
            goto out;
        }
    }
    slot = cairn_policy_slot_new(cairn_policy_ref(p));
    uint8_t *req = NULL;
    s_gate_request(o.changes - 1, &req, &req_bytes);
    free(req);

    printf("policy_bench: %d changes, policy of %zu rules (%zu approval, %zu separation of "
           "duties, %zu evidence criteria in %zu gates), pinned to CPU %d\n",
           o.changes, rules, p->n_approval_rules, p->n_sod, rules - p->n_approval_rules - p->n_sod,
           p->n_gates, o.cpu);
    if (s_pin(o.cpu) < 0)
        fprintf(stderr, "policy_bench: cannot pin to CPU %d: %s\n", o.cpu, strerror(errno));
    if (!(cache = cairn_verdict_cache_new(CAIRN_VERDICT_CACHE_BYTES)) ||
        s_bench_decide(p, cs, o.changes, o.evaluations, &decide, decisions, &reasons) < 0 ||
        s_bench_write(p, cs, o.changes, o.evaluations / 5, &write, &verdict_bytes) < 0 ||
        s_bench_query_local(state, slot, NULL,
                            "gate query in-process, evaluated (LMDB read, decide, write g6)",
                            o.changes, o.evaluations / 5, &local, &reply_bytes) < 0 ||
        s_fill_cache(state, slot, cache, o.changes) < 0 ||
        s_bench_query_local(state, slot, cache,
                            "gate query in-process, from the cache (LMDB read, compare, copy)",
                            o.changes, o.evaluations, &cached, &reply_bytes) < 0) {
        fprintf(stderr, "policy_bench: in-process evaluation failed\n");
        goto out;
    }
    s_unpin();
    cairn_verdict_cache_stats_t cst;
    cairn_verdict_cache_stats(cache, &cst);
    cairn_verdict_cache_destroy(&cache);
    printf("  decisions at the approvals gate: allow %" PRIu64 ", deny %" PRIu64
           ", pending %" PRIu64 ", manual %" PRIu64 "; %" PRIu64
           " reasons per evaluation (all gates)\n",
           decisions[1], decisions[2], decisions[3], decisions[4], reasons);
    printf("  verdict cache: %zu changes in %.1f MiB; %" PRIu64 " hits, %" PRIu64 " misses\n",
           cst.entries, (double)cst.bytes / 1048576.0, cst.hits, cst.misses);
    cairn_state_destroy(&state);
    if (s_bench_zmq(dir, req_bytes, reply_bytes, o.queries, false, &raw) < 0 ||
        s_bench_zmq(dir, req_bytes, reply_bytes, o.queries, true, &raw2) < 0) {
        fprintf(stderr, "policy_bench: raw ZeroMQ step failed\n");
        goto out;
    }
    if (s_bench_bus(&o, dir, policy_path, state_path, o.changes, req_bytes, reply_bytes, &cold,
                    &warm, &alt) < 0)
        goto out;

    printf("\n");
    s_print_row(&decide);
    s_print_row(&write);
    s_print_row(&local);
    s_print_row(&cached);
    s_print_row(&raw);
    s_print_row(&raw2);
    s_print_row(&cold);
    s_print_row(&warm);
    s_print_row(&alt);
    printf("\n  request %zu bytes, reply %zu bytes, the 8 verdicts of a change %zu bytes\n",
           req_bytes, reply_bytes, verdict_bytes);
    printf("  gate query over the bus from the cache vs the raw round trips alternating with "
           "it: p50 %.2fx, p99 %.2fx (+%.1f us at p50)\n",
           warm.p50_us / alt.p50_us, warm.p99_us / alt.p99_us, warm.p50_us - alt.p50_us);
    printf("  gate query over the bus, evaluated, vs the raw round trip to another process: p50 "
           "%.2fx, p99 %.2fx (+%.1f us at p50)\n",
           cold.p50_us / raw2.p50_us, cold.p99_us / raw2.p99_us, cold.p50_us - raw2.p50_us);
    printf("  targets: evaluations >= 50000/s on one core: %s (%.0f/s); gate query p99 < 1000 us: "
           "from the cache %s (%.0f us), evaluated %s (%.0f us)\n",
           decide.cpu_us > 0 && 1e6 / decide.cpu_us >= 50000 ? "met" : "NOT met",
           decide.cpu_us > 0 ? 1e6 / decide.cpu_us : 0, warm.p99_us < 1000 ? "met" : "NOT met",
           warm.p99_us, cold.p99_us < 1000 ? "met" : "NOT met", cold.p99_us);
    status = 0;
out:
    for (int i = 0; cs && i < o.changes; i++)
        cairn_change_destroy(&cs[i]);
    free(cs);
    cairn_verdict_cache_destroy(&cache);
    cairn_state_destroy(&state);
    cairn_policy_slot_destroy(&slot);
    cairn_policy_unref(&p);
    cairn_errlist_clear(&errs);
    if (status == 0) {
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "policy_bench: cannot remove %s\n", dir);
    }
    return status;
}
