/* notify_bench: cairn-notify against Prometheus Alertmanager on the same
 * 100-route tree, the same alert stream and the same local webhook sink.
 *
 * Steps:
 *   1. route    in-process: labels matched against the 100-route tree
 *               (cairn_routes_match), matches per second.
 *   2. cairn    cairn-ledger and cairn-notify as child processes. N alerts
 *               are appended to the ledger as Alert records (pipelined over
 *               one DEALER socket); notify routes, groups (by change),
 *               renders, delivers to the sink and records a receipt per
 *               delivery in the ledger. Measured: alerts/s from the first
 *               append to the N-th notification at the sink, the append
 *               rate, and notify's peak RSS.
 *   3. am       prometheus-alertmanager with the same tree (matchers, group_by,
 *               group_wait, webhook receivers) as a child process. The same
 *               N alerts are POSTed to /api/v2/alerts in batches. Measured the
 *               same way.
 *
 * The sink is an HTTP server inside this program (libmicrohttpd, a thread
 * pool) that answers 200 and counts requests per path. Every alert has its
 * own change, so each makes one group and one notification in both systems.
 * Exit 0 when every run delivered every notification, 1 otherwise, 2 usage.
 * See bench/README.md. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <curl/curl.h>
#include <czmq.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn/bus.h"
#include "cairn/codec.h"
#include "cairn/util.h"
#include "labels.h"
#include "routes.h"

#define S_ROUTES 100
#define S_RECEIVERS 10
#define S_WINDOW 512

static struct {
    size_t alerts;   /* alerts in the stream */
    const char *bin; /* cairn daemons */
    const char *am;  /* alertmanager binary */
    const char *dir; /* where temporary directories go */
    bool skip_am;
    bool skip_cairn;
    bool keep; /* keep the temporary directory (logs) */
    int group_wait_ms;
    char tmp[512]; /* this run's directory */
    int sink_port;
    atomic_size_t requests; /* requests the sink answered */
    atomic_llong last_ms;   /* when the last one came (monotonic) */
    atomic_size_t per_path[S_RECEIVERS + 1];
} s = {.alerts = 10000, .am = "/usr/bin/prometheus-alertmanager", .group_wait_ms = 1000};

static long long s_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the sink ------------------------------------------------------------ */

static enum MHD_Result s_sink(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    static int marker;
    if (!*con_cls) {
        *con_cls = &marker;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0; /* bodies are not kept */
        return MHD_YES;
    }
    int team = -1;
    if (sscanf(url, "/team-%d", &team) == 1 && team >= 0 && team < S_RECEIVERS)
        atomic_fetch_add(&s.per_path[team], 1);
    else
        atomic_fetch_add(&s.per_path[S_RECEIVERS], 1);
    atomic_fetch_add(&s.requests, 1);
    atomic_store(&s.last_ms, s_mono());
    static const char ok[] = "ok";
    struct MHD_Response *r = MHD_create_response_from_buffer(2, (void *)ok, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static struct MHD_Daemon *s_sink_start(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, s_sink,
                         NULL, MHD_OPTION_SOCK_ADDR, &a, MHD_OPTION_THREAD_POOL_SIZE, 4,
                         MHD_OPTION_CONNECTION_LIMIT, 60000, MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096,
                         MHD_OPTION_CONNECTION_TIMEOUT, 60, MHD_OPTION_END);
    if (d)
        s.sink_port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
    return d;
}

static void s_sink_reset(void)
{
    atomic_store(&s.requests, 0);
    for (int i = 0; i <= S_RECEIVERS; i++)
        atomic_store(&s.per_path[i], 0);
}

/* ---- the tree ----------------------------------------------------------- */

/* The same tree for both systems: route i sends service svc-i (in prod or
 * staging) to receiver team-(i % 10); everything else goes to default. */
static void s_write_tree(FILE *f, bool cairn)
{
    fprintf(f,
            "route:\n"
            "  receiver: default\n"
            "  group_by: [change]\n"
            "  group_wait: %dms\n"
            "  group_interval: 5m\n"
            "  repeat_interval: 4h\n"
            "  routes:\n",
            s.group_wait_ms);
    for (int i = 0; i < S_ROUTES; i++)
        fprintf(f,
                "    - matchers: ['service=\"svc-%d\"', 'env=~\"prod|staging\"', "
                "'kind!=\"verdict\"']\n"
                "      receiver: team-%d\n",
                i, i % S_RECEIVERS);
    fprintf(f,
            "receivers:\n  - name: default\n    webhook_configs:\n"
            "      - url: http://127.0.0.1:%d/default\n%s",
            s.sink_port, cairn ? "" : "        send_resolved: false\n");
    for (int i = 0; i < S_RECEIVERS; i++)
        fprintf(
            f,
            "  - name: team-%d\n    webhook_configs:\n      - url: http://127.0.0.1:%d/team-%d\n%s",
            i, s.sink_port, i, cairn ? "" : "        send_resolved: false\n");
}

static int s_write_file(const char *path, bool cairn)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    s_write_tree(f, cairn);
    return fclose(f);
}

/* ---- step 1: routing in process ---------------------------------------- */

static int s_step_route(void)
{
    char path[600], err[512];
    snprintf(path, sizeof path, "%s/routes.yaml", s.tmp);
    if (s_write_file(path, true) < 0)
        return -1;
    cairn_routes_t *r = NULL;
    if (cairn_routes_load(path, "", &r, err, sizeof err) < 0) {
        fprintf(stderr, "notify_bench: %s\n", err);
        return -1;
    }
    enum { N = 1000000 };
    cairn_labels_t *l[S_ROUTES];
    for (int i = 0; i < S_ROUTES; i++) {
        char svc[32];
        l[i] = cairn_labels_new();
        snprintf(svc, sizeof svc, "svc-%d", i);
        cairn_labels_set(l[i], "service", svc);
        cairn_labels_set(l[i], "env", "prod");
        cairn_labels_set(l[i], "kind", "approval_requested");
        cairn_labels_set(l[i], "change", "CHG-1");
    }
    const cairn_route_t *hit[8];
    size_t matched = 0;
    long long t0 = s_mono();
    for (int i = 0; i < N; i++)
        matched += cairn_routes_match(r, l[i % S_ROUTES], hit, 8);
    long long ms = s_mono() - t0;
    printf("route   %d label sets through %zu routes: %lld ms, %.0f matches/s (%.2f us each)\n", N,
           r->n_routes, ms, N * 1000.0 / (double)(ms ? ms : 1), ms * 1000.0 / N);
    for (int i = 0; i < S_ROUTES; i++)
        cairn_labels_destroy(&l[i]);
    cairn_routes_destroy(&r);
    return matched == (size_t)N ? 0 : -1;
}

/* ---- processes ---------------------------------------------------------- */

static pid_t s_spawn(const char *log, char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int s_stop(pid_t pid)
{
    int status = 0;
    if (pid <= 0)
        return -1;
    kill(pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* Peak and current resident size of pid in KiB. */
static void s_rss(pid_t pid, long *peak, long *now)
{
    char path[64], line[256];
    *peak = *now = 0;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f)) {
        sscanf(line, "VmHWM: %ld", peak);
        sscanf(line, "VmRSS: %ld", now);
    }
    if (f)
        fclose(f);
}

static bool s_wait_file(const char *path, int ms)
{
    for (int i = 0; i < ms / 50; i++) {
        struct stat st;
        if (stat(path, &st) == 0)
            return true;
        usleep(50000);
    }
    return false;
}

/* Waits until the sink has n requests; returns false after timeout_ms. */
static bool s_wait_sink(size_t n, int timeout_ms)
{
    long long end = s_mono() + timeout_ms;
    while (atomic_load(&s.requests) < n) {
        if (s_mono() > end)
            return false;
        usleep(2000);
    }
    return true;
}

typedef struct {
    const char *name;
    double submit_ms; /* until the last alert was accepted */
    double total_ms;  /* until the last notification arrived */
    long peak_kib;    /* daemon's peak RSS */
    long rss_kib;     /* ... at the end */
    long other_kib;   /* cairn: the ledger's peak */
    bool ok;
} s_result_t;

/* ---- step 2: cairn ------------------------------------------------------ */

static int s_append_all(const char *endpoint, long long *done_ms)
{
    zsock_t *dealer = NULL;
    if (cairn_bus_connect(ZMQ_DEALER, endpoint, NULL, &dealer) < 0)
        return -1;
    size_t sent = 0, acked = 0;
    int rc = 0;
    while (acked < s.alerts) {
        while (sent < s.alerts && sent - acked < S_WINDOW) {
            char change[32], key[96], svc[32], summary[128];
            snprintf(change, sizeof change, "CHG-%zu", sent);
            snprintf(key, sizeof key, "alert:approval_requested:%s:bench", change);
            snprintf(svc, sizeof svc, "svc-%zu", sent % S_ROUTES);
            snprintf(summary, sizeof summary,
                     "%s needs approval before deployment: 1 more approval from dev", change);
            Cairn__V1__Alert__LabelsEntry e[4];
            const char *kv[4][2] = {{"service", svc},
                                    {"environment", "prod"},
                                    {"gate", "deployment"},
                                    {"roles", "dev,tech_lead"}};
            Cairn__V1__Alert__LabelsEntry *ep[4];
            for (int i = 0; i < 4; i++) {
                cairn__v1__alert__labels_entry__init(&e[i]);
                e[i].key = (char *)kv[i][0];
                e[i].value = (char *)kv[i][1];
                ep[i] = &e[i];
            }
            Cairn__V1__Alert a = CAIRN__V1__ALERT__INIT;
            a.id = key;
            a.kind = "approval_requested";
            a.severity = "info";
            a.change_id = change;
            a.summary = summary;
            a.labels = ep;
            a.n_labels = 4;
            a.created_at_ms = cairn_now_ms();
            Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
            rec.body_case = CAIRN__V1__RECORD__BODY_ALERT;
            rec.alert = &a;
            Cairn__V1__AppendRequest ap = CAIRN__V1__APPEND_REQUEST__INIT;
            ap.key = key;
            ap.record = &rec;
            Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
            req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_APPEND;
            req.append = &ap;
            uint8_t *buf = NULL;
            size_t len = 0;
            cairn_codec_pack(&req.base, &buf, &len);
            zmsg_t *m = zmsg_new();
            zmsg_addmem(m, NULL, 0);
            zmsg_addmem(m, buf, len);
            free(buf);
            if (zmsg_send(&m, dealer) != 0) {
                rc = -1;
                goto out;
            }
            sent++;
        }
        zmq_pollitem_t it = {zsock_resolve(dealer), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 10000) <= 0) {
            fprintf(stderr, "notify_bench: the ledger stopped answering\n");
            rc = -1;
            goto out;
        }
        while (zsock_events(dealer) & ZMQ_POLLIN) {
            zmsg_t *m = zmsg_recv(dealer);
            zframe_t *body = m ? zmsg_last(m) : NULL;
            Cairn__V1__LedgerReply *reply = NULL;
            if (!body ||
                cairn_codec_ledger_reply_unpack(zframe_data(body), zframe_size(body), &reply) < 0 ||
                reply->status != 0 || !reply->ack) {
                fprintf(stderr, "notify_bench: an append was refused\n");
                rc = -1;
            }
            CAIRN_CODEC_FREE(&reply);
            zmsg_destroy(&m);
            acked++;
        }
    }
    *done_ms = s_mono();
out:
    zsock_destroy(&dealer);
    return rc;
}

static int s_step_cairn(s_result_t *r)
{
    char data[600], cfg[600], routes[600], log[600], lexe[600], nexe[600], sock[700];
    snprintf(data, sizeof data, "%s/cairn", s.tmp);
    snprintf(cfg, sizeof cfg, "%s/cairn.yaml", s.tmp);
    snprintf(routes, sizeof routes, "%s/routes.yaml", s.tmp);
    snprintf(log, sizeof log, "%s/cairn.log", s.tmp);
    snprintf(lexe, sizeof lexe, "%s/cairn-ledger", s.bin);
    snprintf(nexe, sizeof nexe, "%s/cairn-notify", s.bin);
    if (s_write_file(routes, true) < 0)
        return -1;
    FILE *f = fopen(cfg, "w");
    if (!f)
        return -1;
    fprintf(f, "log:\n  level: warn\nnotify:\n  routes_file: %s\n", routes);
    fclose(f);
    char *largv[] = {lexe, "--config", cfg, "--data-dir", data, NULL};
    char *nargv[] = {nexe, "--config", cfg, "--data-dir", data, NULL};
    pid_t ledger = s_spawn(log, largv);
    snprintf(sock, sizeof sock, "%s/run/ledger-api.sock", data);
    if (!s_wait_file(sock, 10000)) {
        s_stop(ledger);
        return -1;
    }
    pid_t notify = s_spawn(log, nargv);
    snprintf(sock, sizeof sock, "%s/run/notify-api.sock", data);
    if (!s_wait_file(sock, 10000)) {
        s_stop(notify);
        s_stop(ledger);
        return -1;
    }
    usleep(300000); /* let the subscriber connect */
    s_sink_reset();
    char endpoint[700];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/run/ledger-api.sock", data);
    long long t0 = s_mono(), appended = 0;
    int rc = s_append_all(endpoint, &appended);
    r->ok = rc == 0 && s_wait_sink(s.alerts, 300000);
    r->name = "cairn-notify";
    r->submit_ms = (double)(appended - t0);
    r->total_ms = (double)(atomic_load(&s.last_ms) - t0);
    s_rss(notify, &r->peak_kib, &r->rss_kib);
    long ignored;
    s_rss(ledger, &r->other_kib, &ignored);
    if (s_stop(notify) != 0 || s_stop(ledger) != 0)
        r->ok = false;
    return r->ok ? 0 : -1;
}

/* ---- step 3: alertmanager ---------------------------------------------- */

static size_t s_discard(char *ptr, size_t size, size_t n, void *ud)
{
    return size * n;
}

static int s_post(CURL *c, const char *url, const char *body)
{
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_discard);
    long code = 0;
    if (curl_easy_perform(c) != CURLE_OK)
        return -1;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    return code == 200 ? 0 : -1;
}

static int s_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static int s_step_am(s_result_t *r)
{
    char cfg[600], store[600], log[600], listen[64], url[128], cfgarg[700], storearg[700],
        listenarg[128];
    r->name = "alertmanager";
    if (access(s.am, X_OK) != 0) {
        fprintf(stderr,
                "notify_bench: %s not found (apt-get install prometheus-alertmanager, "
                "or --skip-am)\n",
                s.am);
        return -1;
    }
    snprintf(cfg, sizeof cfg, "%s/alertmanager.yml", s.tmp);
    snprintf(store, sizeof store, "%s/am-data", s.tmp);
    snprintf(log, sizeof log, "%s/alertmanager.log", s.tmp);
    if (s_write_file(cfg, false) < 0)
        return -1;
    int port = s_free_port();
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(cfgarg, sizeof cfgarg, "--config.file=%s", cfg);
    snprintf(storearg, sizeof storearg, "--storage.path=%s", store);
    snprintf(listenarg, sizeof listenarg, "--web.listen-address=%s", listen);
    char *argv[] = {(char *)s.am,       cfgarg, storearg, listenarg, "--cluster.listen-address=",
                    "--log.level=warn", NULL};
    pid_t am = s_spawn(log, argv);
    CURL *c = curl_easy_init();
    snprintf(url, sizeof url, "http://%s/-/ready", listen);
    bool ready = false;
    for (int i = 0; i < 200 && !ready; i++) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_discard);
        long code = 0;
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        ready = code == 200;
        if (!ready)
            usleep(50000);
    }
    if (!ready) {
        curl_easy_cleanup(c);
        s_stop(am);
        return -1;
    }
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    snprintf(url, sizeof url, "http://%s/api/v2/alerts", listen);
    s_sink_reset();
    long long t0 = s_mono();
    int rc = 0;
    enum { BATCH = 100 };
    char *body = malloc(BATCH * 512 + 16);
    for (size_t k = 0; k < s.alerts && rc == 0; k += BATCH) {
        size_t pos = 0;
        body[pos++] = '[';
        for (size_t j = k; j < k + BATCH && j < s.alerts; j++)
            pos += (size_t)sprintf(
                body + pos,
                "%s{\"labels\":{\"alertname\":\"approval_requested\",\"kind\":\"approval_"
                "requested\","
                "\"change\":\"CHG-%zu\",\"service\":\"svc-%zu\",\"env\":\"prod\",\"gate\":"
                "\"deployment\",\"role\":\"dev,tech_lead\",\"severity\":\"info\"},"
                "\"annotations\":{\"summary\":\"CHG-%zu needs approval before deployment: 1 more "
                "approval from dev\"}}",
                j > k ? "," : "", j, j % S_ROUTES, j);
        body[pos++] = ']';
        body[pos] = '\0';
        rc = s_post(c, url, body);
    }
    long long submitted = s_mono();
    free(body);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    r->ok = rc == 0 && s_wait_sink(s.alerts, 300000);
    r->submit_ms = (double)(submitted - t0);
    r->total_ms = (double)(atomic_load(&s.last_ms) - t0);
    s_rss(am, &r->peak_kib, &r->rss_kib);
    s_stop(am);
    return r->ok ? 0 : -1;
}

/* ---- main --------------------------------------------------------------- */

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void s_print(const s_result_t *r)
{
    if (!r->name)
        return;
    printf("%-13s %8zu alerts  submit %8.0f ms (%8.0f alerts/s)  delivered %8.0f ms "
           "(%8.0f alerts/s)  peak RSS %7.1f MiB%s\n",
           r->name, s.alerts, r->submit_ms, s.alerts * 1000.0 / (r->submit_ms ? r->submit_ms : 1),
           r->total_ms, s.alerts * 1000.0 / (r->total_ms ? r->total_ms : 1), r->peak_kib / 1024.0,
           r->ok ? "" : "  FAILED");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"alerts", required_argument, NULL, 'n'},
                                         {"bin", required_argument, NULL, 'b'},
                                         {"alertmanager", required_argument, NULL, 'a'},
                                         {"skip-am", no_argument, NULL, 's'},
                                         {"dir", required_argument, NULL, 'd'},
                                         {"group-wait-ms", required_argument, NULL, 'g'},
                                         {"skip-cairn", no_argument, NULL, 'c'},
                                         {"keep", no_argument, NULL, 'k'},
                                         {NULL, 0, NULL, 0}};
    static char self[600];
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'n': s.alerts = (size_t)strtoull(optarg, NULL, 10); break;
        case 'b': s.bin = optarg; break;
        case 'a': s.am = optarg; break;
        case 's': s.skip_am = true; break;
        case 'd': s.dir = optarg; break;
        case 'g': s.group_wait_ms = atoi(optarg); break;
        case 'c': s.skip_cairn = true; break;
        case 'k': s.keep = true; break;
        default:
            fprintf(stderr, "usage: notify_bench [--alerts N] [--bin DIR] [--alertmanager PATH] "
                            "[--skip-am] [--skip-cairn] [--keep] [--dir DIR] "
                            "[--group-wait-ms MS]\n");
            return 2;
        }
    }
    if (s.alerts == 0)
        return 2;
    if (!s.bin) {
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
            self[n] = '\0';
            char *slash = strrchr(self, '/');
            if (slash)
                *slash = '\0';
        }
        s.bin = self;
    }
    const char *tmpdir = s.dir ? s.dir : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    snprintf(s.tmp, sizeof s.tmp, "%s/cairn-notify-bench-XXXXXX", tmpdir);
    if (!mkdtemp(s.tmp)) {
        perror("mkdtemp");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Alertmanager opens a connection per group flushing at once: let the sink take them. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct MHD_Daemon *sink = s_sink_start();
    if (!sink) {
        fprintf(stderr, "notify_bench: cannot start the sink\n");
        return 1;
    }
    printf("notify_bench: %zu alerts, %d routes, %d receivers, group_by [change], group_wait "
           "%d ms, sink on 127.0.0.1:%d\n",
           s.alerts, S_ROUTES, S_RECEIVERS + 1, s.group_wait_ms, s.sink_port);
    int failed = s_step_route() < 0;
    s_result_t rc = {0}, ra = {0};
    if (!s.skip_cairn) {
        failed |= s_step_cairn(&rc) < 0;
        s_print(&rc);
        printf("              (cairn-ledger peak RSS %.1f MiB; it also stored %zu alerts and %zu "
               "delivery receipts)\n",
               rc.other_kib / 1024.0, s.alerts, s.alerts);
    }
    if (!s.skip_am) {
        failed |= s_step_am(&ra) < 0;
        s_print(&ra);
        if (rc.ok && ra.ok)
            printf("ratio         cairn/alertmanager delivered throughput %.2f, peak RSS %.2f\n",
                   ra.total_ms / rc.total_ms, (double)rc.peak_kib / (double)ra.peak_kib);
    }
    MHD_stop_daemon(sink);
    if (failed || s.keep) {
        printf("notify_bench: %slogs kept in %s\n", failed ? "FAILED; " : "", s.tmp);
        return failed ? 1 : 0;
    }
    nftw(s.tmp, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
