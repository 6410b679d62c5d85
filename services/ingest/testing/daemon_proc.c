/* Real daemons for ingest's tests (see daemon_proc.h). */
#include "daemon_proc.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn/bus.h"
#include "cairn/error.h"
#include "cairn/util.h"

/* How long a daemon may take to come up. */
#define S_START_MS 15000

static void s_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

pid_t daemon_start(const char *name, const char *data_dir, const char *ready_endpoint,
                   const char *const *sets)
{
    char exe[1024];
    const char *bin = getenv("CAIRN_BIN_DIR");
    snprintf(exe, sizeof exe, "%s/%s", bin ? bin : ".", name);
    const char *argv[64];
    size_t n = 0;
    argv[n++] = exe;
    argv[n++] = "--data-dir";
    argv[n++] = data_dir;
    argv[n++] = "--set";
    argv[n++] = "log.level=warn";
    for (size_t i = 0; sets && sets[i] && n + 3 < sizeof argv / sizeof argv[0]; i++) {
        argv[n++] = "--set";
        argv[n++] = sets[i];
    }
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    const char *path = strncmp(ready_endpoint, "ipc://", 6) == 0 ? ready_endpoint + 6 : NULL;
    int64_t deadline = cairn_mono_ms() + S_START_MS;
    struct stat st;
    while (cairn_mono_ms() < deadline) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return -1;
        if (!path || stat(path, &st) == 0) {
            s_sleep_ms(50);
            return pid;
        }
        s_sleep_ms(20);
    }
    daemon_stop(pid);
    return -1;
}

int daemon_stop(pid_t pid)
{
    int status = 0;
    if (pid <= 0)
        return -1;
    kill(pid, SIGCONT);
    kill(pid, SIGTERM);
    for (int i = 0; i < 500; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        s_sleep_ms(20);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

void daemon_pause(pid_t pid)
{
    kill(pid, SIGSTOP);
}

void daemon_resume(pid_t pid)
{
    kill(pid, SIGCONT);
}

void ledger_entries_free(Cairn__V1__Entry **entries, size_t n)
{
    for (size_t i = 0; entries && i < n; i++)
        CAIRN_CODEC_FREE(&entries[i]);
    free(entries);
}

int ledger_read_all(const char *endpoint, Cairn__V1__Entry ***entries_out, size_t *n_out)
{
    cairn_client_t *client = cairn_client_new(endpoint);
    Cairn__V1__Entry **all = NULL;
    size_t n = 0;
    int rc = client ? 0 : -ENOMEM;
    for (;;) {
        if (rc < 0)
            break;
        Cairn__V1__ReplayRequest replay = CAIRN__V1__REPLAY_REQUEST__INIT;
        replay.from_index = n;
        Cairn__V1__LedgerRequest req = CAIRN__V1__LEDGER_REQUEST__INIT;
        req.body_case = CAIRN__V1__LEDGER_REQUEST__BODY_REPLAY;
        req.replay = &replay;
        uint8_t *buf = NULL, *reply_buf = NULL;
        size_t len = 0, reply_len = 0;
        Cairn__V1__LedgerReply *reply = NULL;
        rc = cairn_codec_pack(&req.base, &buf, &len);
        if (rc == 0)
            rc = cairn_client_call(client, buf, len, 5000, &reply_buf, &reply_len);
        if (rc == 0)
            rc = cairn_codec_ledger_reply_unpack(reply_buf, reply_len, &reply);
        free(buf);
        free(reply_buf);
        if (rc == 0 && reply->status != 0)
            rc = reply->status;
        size_t got = rc == 0 ? reply->n_entries : 0;
        for (size_t i = 0; i < got; i++) {
            uint8_t *eb = NULL;
            size_t el = 0;
            Cairn__V1__Entry *copy = NULL;
            Cairn__V1__Entry **grown = realloc(all, (n + 1) * sizeof *grown);
            if (!grown || cairn_codec_pack(&reply->entries[i]->base, &eb, &el) < 0 ||
                cairn_codec_entry_unpack(eb, el, &copy) < 0) {
                if (grown)
                    all = grown;
                free(eb);
                rc = -ENOMEM;
                break;
            }
            free(eb);
            all = grown;
            all[n++] = copy;
        }
        bool more = rc == 0 && got > 0 && n < reply->size;
        CAIRN_CODEC_FREE(&reply);
        if (!more)
            break;
    }
    cairn_client_destroy(&client);
    if (rc < 0) {
        ledger_entries_free(all, n);
        return rc;
    }
    *entries_out = all;
    *n_out = n;
    return 0;
}

Cairn__V1__Record *ledger_entry_record(const Cairn__V1__Entry *entry)
{
    Cairn__V1__Record *rec = NULL;
    if (cairn_codec_record_unpack(entry->record.data, entry->record.len, &rec) < 0)
        return NULL;
    if (rec->body_case != CAIRN__V1__RECORD__BODY_EVENT) {
        CAIRN_CODEC_FREE(&rec);
        return NULL;
    }
    return rec;
}
