/* The real ledger for the policy's tests (see ledger_proc.h). */
#include "ledger_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../engine.h"
#include "cairn/bus.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "cloudevent.h"

#define S_START_MS 10000
#define S_STOP_MS 10000
#define S_CLOCK_START_MS 1795600800000LL /* 2026-11-25T10:00:00Z */

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void s_rmtree(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static void s_print_log(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    if (cairn_read_file(path, 1 << 20, &text, &len) == 0)
        fprintf(stderr, "%s:\n%s\n", path, text);
    free(text);
}

/* Starts $CAIRN_BIN_DIR/<name> --data-dir dir [extra] with stderr to log. */
static pid_t s_spawn(const char *name, const char *dir, const char *log, const char *set)
{
    const char *bin = getenv("CAIRN_BIN_DIR");
    char exe[1024];
    snprintf(exe, sizeof exe, "%s/%s", bin ? bin : ".", name);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    if (set)
        execl(exe, name, "--data-dir", dir, "--set", "log.level=warn", "--set", set, (char *)NULL);
    else
        execl(exe, name, "--data-dir", dir, "--set", "log.level=warn", (char *)NULL);
    _exit(127);
}

int tl_ledger_start(tl_ledger_t *l, const char *prefix)
{
    memset(l, 0, sizeof *l);
    l->clock_ms = S_CLOCK_START_MS;
    snprintf(l->dir, sizeof l->dir, "/tmp/%s-XXXXXX", prefix);
    if (!mkdtemp(l->dir))
        return -errno;
    snprintf(l->api, sizeof l->api, "ipc://%s/run/ledger-api.sock", l->dir);
    snprintf(l->log, sizeof l->log, "%s/ledger.log", l->dir);
    if ((l->pid = s_spawn("cairn-ledger", l->dir, l->log, NULL)) < 0)
        return -errno;
    if (!(l->link = cairn_ledger_link_new(l->api, 2000)))
        return -ENOMEM;
    int64_t deadline = cairn_mono_ms() + S_START_MS;
    while (cairn_mono_ms() < deadline) {
        uint64_t size;
        if (tl_size(l, &size) == 0)
            return 0;
        if (waitpid(l->pid, NULL, WNOHANG) == l->pid) {
            l->pid = 0;
            break;
        }
        s_sleep_ms(50);
    }
    s_print_log(l->log);
    return CAIRN_EUNREACHABLE;
}

/* The policy's applied_index, asked over its query socket. */
static int s_policy_applied(const tl_ledger_t *l, uint64_t *applied)
{
    char endpoint[256];
    snprintf(endpoint, sizeof endpoint, "ipc://%s/run/policy-query.sock", l->dir);
    cairn_client_t *client = cairn_client_new(endpoint);
    Cairn__V1__StatusQuery q = CAIRN__V1__STATUS_QUERY__INIT;
    Cairn__V1__PolicyRequest req = CAIRN__V1__POLICY_REQUEST__INIT;
    Cairn__V1__PolicyReply *reply = NULL;
    uint8_t *buf = NULL, *answer = NULL;
    size_t len = 0, alen = 0;
    q.change_id = "-";
    req.body_case = CAIRN__V1__POLICY_REQUEST__BODY_STATUS;
    req.status = &q;
    int rc = client ? cairn_codec_pack(&req.base, &buf, &len) : -ENOMEM;
    if (rc == 0)
        rc = cairn_client_call(client, buf, len, 1000, &answer, &alen);
    if (rc == 0)
        rc = cairn_codec_policy_reply_unpack(answer, alen, &reply);
    if (rc == 0)
        *applied = reply->applied_index;
    CAIRN_CODEC_FREE(&reply);
    free(buf);
    free(answer);
    cairn_client_destroy(&client);
    return rc;
}

int tl_policy_start(tl_ledger_t *l, const char *policy_file)
{
    char set[1200];
    snprintf(l->policy_log, sizeof l->policy_log, "%s/policy.log", l->dir);
    if (policy_file)
        snprintf(set, sizeof set, "policy.file=%s", policy_file);
    if ((l->policy_pid = s_spawn("cairn-policy", l->dir, l->policy_log, policy_file ? set : NULL)) <
        0)
        return -errno;
    int64_t deadline = cairn_mono_ms() + S_START_MS;
    while (cairn_mono_ms() < deadline) {
        uint64_t applied;
        if (s_policy_applied(l, &applied) == 0)
            return 0;
        s_sleep_ms(50);
    }
    s_print_log(l->policy_log);
    return CAIRN_EUNREACHABLE;
}

int tl_policy_settle(tl_ledger_t *l)
{
    uint64_t size = 0, last = UINT64_MAX, applied = 0;
    int stable = 0;
    int64_t deadline = cairn_mono_ms() + 30000;
    while (stable < 5 && cairn_mono_ms() < deadline) {
        s_sleep_ms(100);
        if (tl_size(l, &size) < 0 || s_policy_applied(l, &applied) < 0)
            continue;
        stable = size == last && applied == size ? stable + 1 : 0;
        last = size;
    }
    return stable >= 5 ? 0 : CAIRN_ETIMEOUT;
}

/* Stops one daemon; prints its log unless it exited 0. */
static void s_stop(pid_t pid, const char *log)
{
    int status = 0;
    kill(pid, SIGTERM);
    int64_t deadline = cairn_mono_ms() + S_STOP_MS;
    pid_t r = 0;
    while ((r = waitpid(pid, &status, WNOHANG)) == 0 && cairn_mono_ms() < deadline)
        s_sleep_ms(20);
    if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        s_print_log(log);
}

void tl_ledger_stop(tl_ledger_t *l)
{
    cairn_ledger_link_destroy(&l->link);
    if (l->policy_pid > 0)
        s_stop(l->policy_pid, l->policy_log);
    if (l->pid > 0)
        s_stop(l->pid, l->log);
    l->policy_pid = l->pid = 0;
    if (l->dir[0])
        s_rmtree(l->dir);
    l->dir[0] = '\0';
}

cairn_config_t *tl_policy_config(const tl_ledger_t *l, const char *policy_file)
{
    char err[512];
    cairn_config_t *cfg = cairn_config_new();
    if (!cfg || cairn_config_set(cfg, "cairn.data_dir", l->dir, err, sizeof err) < 0 ||
        cairn_config_set(cfg, "bus.request_timeout", "2s", err, sizeof err) < 0 ||
        (policy_file && cairn_config_set(cfg, "policy.file", policy_file, err, sizeof err) < 0) ||
        cairn_config_finalize(cfg, err, sizeof err) < 0) {
        cairn_config_destroy(&cfg);
        return NULL;
    }
    return cfg;
}

int tl_append_event(tl_ledger_t *l, const char *json, int64_t received_ms, uint64_t *index_out)
{
    char err[512], key[512];
    Cairn__V1__Event *ev = NULL;
    int rc = cairn_cloudevent_parse(json, strlen(json), &ev, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "bad test event: %s\n", err);
        return rc;
    }
    ev->received_at_ms = received_ms;
    snprintf(key, sizeof key, "ce:%s\n%s", ev->source, ev->id);
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = ev;
    rc = cairn_ledger_link_append(l->link, key, &rec, index_out, NULL, err, sizeof err);
    cairn_cloudevent_free(&ev);
    return rc;
}

int tl_append_eventf(tl_ledger_t *l, uint64_t *index_out, const char *fmt, ...)
{
    char json[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(json, sizeof json, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof json) {
        fprintf(stderr, "bad test event: longer than %zu bytes\n", sizeof json - 1);
        return CAIRN_EINVALID;
    }
    l->clock_ms += 1000;
    return tl_append_event(l, json, l->clock_ms, index_out);
}

int tl_append_change(tl_ledger_t *l, const char *change, const char *commit)
{
    int rc = tl_append_eventf(
        l, NULL,
        "{\"specversion\":\"1.0\",\"id\":\"%s-created\",\"source\":\"/ci\","
        "\"type\":\"dev.cdevents.change.created.0.4.0\",\"data\":{\"context\":{},"
        "\"subject\":{\"id\":\"%s\",\"content\":{}},\"customData\":{\"author\":\"dana\","
        "\"commit\":\"%s\",\"environment\":\"prod\"}}}",
        change, change, commit);
    if (rc < 0)
        return rc;
    return tl_append_eventf(
        l, NULL,
        "{\"specversion\":\"1.0\",\"id\":\"%s-tests\",\"source\":\"/ci\","
        "\"type\":\"dev.cdevents.testsuiterun.finished.0.3.0\",\"data\":{\"context\":{},"
        "\"subject\":{\"id\":\"unit\",\"content\":{\"outcome\":\"success\"}},"
        "\"customData\":{\"change\":\"%s\",\"commit\":\"%s\",\"tests_passed\":3}}}",
        change, change, commit);
}

int tl_append_lee_approval(tl_ledger_t *l, const char *change)
{
    return tl_append_eventf(
        l, NULL,
        "{\"specversion\":\"1.0\",\"id\":\"%s-lee\",\"source\":\"/cairn/cli\","
        "\"type\":\"dev.cdeventsx.cairn-approval.granted.0.1.0\",\"data\":{\"change\":\"%s\","
        "\"approver\":\"lee\",\"role\":\"tech_lead\"}}",
        change, change);
}

int tl_engine_settle(tl_ledger_t *l, cairn_policy_engine_t *engine)
{
    uint64_t size = 0, last = UINT64_MAX;
    int stable = 0;
    int64_t deadline = cairn_mono_ms() + 30000;
    while (stable < 5 && cairn_mono_ms() < deadline) {
        cairn_policy_engine_run_once(engine, 50);
        int rc = tl_size(l, &size);
        if (rc < 0)
            return rc;
        stable = size == last && cairn_policy_engine_next(engine) == size ? stable + 1 : 0;
        last = size;
    }
    return cairn_policy_engine_next(engine) == size ? 0 : CAIRN_ETIMEOUT;
}

int tl_size(tl_ledger_t *l, uint64_t *size_out)
{
    Cairn__V1__LedgerReply *reply = NULL;
    int rc = cairn_ledger_link_replay(l->link, UINT64_MAX / 2, &reply);
    if (rc < 0)
        return rc;
    *size_out = reply->size;
    CAIRN_CODEC_FREE(&reply);
    return 0;
}

int tl_entries(tl_ledger_t *l, uint64_t from, Cairn__V1__Entry ***out, size_t *n_out)
{
    Cairn__V1__Entry **all = NULL;
    size_t n = 0;
    for (;;) {
        Cairn__V1__LedgerReply *reply = NULL;
        int rc = cairn_ledger_link_replay(l->link, from, &reply);
        if (rc < 0) {
            tl_entries_free(&all, n);
            return rc;
        }
        size_t got = reply->n_entries;
        Cairn__V1__Entry **grown = realloc(all, (n + got + 1) * sizeof *grown);
        if (!grown) {
            CAIRN_CODEC_FREE(&reply);
            tl_entries_free(&all, n);
            return -ENOMEM;
        }
        all = grown;
        /* Take each entry out of the reply by packing and unpacking it. */
        for (size_t i = 0; i < got; i++) {
            uint8_t *buf = NULL;
            size_t len = 0;
            if (cairn_codec_pack(&reply->entries[i]->base, &buf, &len) == 0 &&
                cairn_codec_entry_unpack(buf, len, &all[n]) == 0)
                n++;
            free(buf);
            from = reply->entries[i]->index + 1;
        }
        bool done = got == 0 || from >= reply->size;
        CAIRN_CODEC_FREE(&reply);
        if (done)
            break;
    }
    *out = all;
    *n_out = n;
    return 0;
}

void tl_entries_free(Cairn__V1__Entry ***entries_p, size_t n)
{
    if (!entries_p || !*entries_p)
        return;
    for (size_t i = 0; i < n; i++)
        CAIRN_CODEC_FREE(&(*entries_p)[i]);
    free(*entries_p);
    *entries_p = NULL;
}

size_t tl_count_topic(Cairn__V1__Entry *const *entries, size_t n, const char *topic)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += strcmp(entries[i]->topic, topic) == 0;
    return k;
}
