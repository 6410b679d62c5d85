/* `cairn up`: runs the whole stack on one machine. It supervises
 * cairn-ledger, cairn-ingest, cairn-policy and cairn-notify (found beside the
 * cairn executable) as child processes, restarts any that dies with
 * exponential backoff, and stops them all on SIGINT/SIGTERM. A pidfile lock
 * keeps two supervisors off one data directory. Like the daemons it runs,
 * it logs in logfmt on stderr (service=up); children's output passes through. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/signals.h"
#include "cairn/util.h"
#include "commands.h"
#include "pbjson.h"
#include "rpc.h"

#define S_BACKOFF_MIN_MS 200
#define S_BACKOFF_MAX_MS 10000
#define S_STABLE_MS 30000     /* a child up this long starts over at the minimum delay */
#define S_STOP_GRACE_MS 10000 /* SIGTERM, then this long, then SIGKILL */
#define S_READY_WAIT_MS 10000 /* how long start-up waits for sockets before announcing */
#define S_TICK_MS 50
#define S_NCHILD 4
#define S_MAX_ARGV (8 + 2 * CLI_MAX_SETS)

/* One supervised daemon. */
typedef struct {
    const char *name;      /* "ledger" */
    const char *ready_key; /* endpoint that shows it is serving, or NULL */
    char path[PATH_MAX];   /* executable */
    pid_t pid;             /* running process, 0 when none */
    int64_t started_ms;    /* monotonic time of the last start */
    int64_t backoff_ms;    /* delay before the last restart, 0 before any */
    int64_t start_at_ms;   /* monotonic time of a scheduled start, 0 when none */
} s_child_t;

/* The supervisor. */
typedef struct {
    s_child_t children[S_NCHILD];      /* ledger first: the others append to it */
    const char *argv_tail[S_MAX_ARGV]; /* options passed to every child */
    size_t argc_tail;                  /* entries used in argv_tail */
    char data_dir[PATH_MAX];           /* absolute data directory */
    char pidfile[PATH_MAX + 16];       /* {data_dir}/run/up.pid */
    int pid_fd;                        /* open, locked pidfile */
    pid_t self;                        /* our pid, for the children's parent check */
    int fatal;                         /* exit code once a child refused its configuration */
} s_up_t;

int64_t cli_up_backoff_ms(int64_t previous_ms, int64_t uptime_ms)
{
    if (previous_ms <= 0 || uptime_ms >= S_STABLE_MS)
        return S_BACKOFF_MIN_MS;
    int64_t next = previous_ms * 2;
    return next > S_BACKOFF_MAX_MS ? S_BACKOFF_MAX_MS : next;
}

static void s_sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal cuts it short, which is what we want */
}

/* Finds the daemons in the directory of our own executable. */
static int s_locate(s_up_t *up)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n < 0) {
        fprintf(stderr, "cairn up: cannot find its own executable: %s\n", strerror(errno));
        return CLI_EXIT_USAGE;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = '\0';
    for (int i = 0; i < S_NCHILD; i++) {
        s_child_t *c = &up->children[i];
        int w = snprintf(c->path, sizeof c->path, "%s/cairn-%s", self, c->name);
        if (w < 0 || (size_t)w >= sizeof c->path || access(c->path, X_OK) != 0) {
            fprintf(stderr,
                    "cairn up: cannot find cairn-%s beside the cairn executable (looked for %s).\n"
                    "Build or install every Cairn program into the same directory.\n",
                    c->name, c->path);
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

/* Takes the pidfile lock so only one `cairn up` runs on a data directory. */
static int s_lock_pidfile(s_up_t *up)
{
    snprintf(up->pidfile, sizeof up->pidfile, "%s/run/up.pid", up->data_dir);
    up->pid_fd = open(up->pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (up->pid_fd < 0) {
        fprintf(stderr, "cairn up: cannot open %s: %s\n", up->pidfile, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    if (flock(up->pid_fd, LOCK_EX | LOCK_NB) != 0) {
        char text[32] = "";
        ssize_t n = pread(up->pid_fd, text, sizeof text - 1, 0);
        text[n > 0 ? n : 0] = '\0';
        text[strcspn(text, "\n")] = '\0';
        fprintf(stderr,
                "cairn up: another `cairn up` (pid %s) is already running on data directory %s.\n"
                "Stop it first (kill %s), or use another --data-dir.\n",
                *text ? text : "unknown", up->data_dir, *text ? text : "<pid>");
        close(up->pid_fd);
        up->pid_fd = -1;
        return CLI_EXIT_USAGE;
    }
    char text[32];
    int len = snprintf(text, sizeof text, "%d\n", (int)getpid());
    if (ftruncate(up->pid_fd, 0) != 0 || pwrite(up->pid_fd, text, (size_t)len, 0) != len) {
        fprintf(stderr, "cairn up: cannot write %s: %s\n", up->pidfile, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static void s_unlock_pidfile(s_up_t *up)
{
    if (up->pid_fd < 0)
        return;
    unlink(up->pidfile); /* still holding the lock, so nobody else owns it yet */
    close(up->pid_fd);
    up->pid_fd = -1;
}

static bool s_ready(const s_child_t *c, const cairn_config_t *cfg)
{
    return c->pid > 0 &&
           (!c->ready_key || cli_endpoint_listening(cairn_config_str(cfg, c->ready_key)));
}

static void s_start(s_up_t *up, s_child_t *c)
{
    const char *argv[S_MAX_ARGV + 2];
    size_t n = 0;
    argv[n++] = c->path;
    for (size_t i = 0; i < up->argc_tail; i++)
        argv[n++] = up->argv_tail[i];
    argv[n] = NULL;

    c->start_at_ms = 0;
    pid_t pid = fork();
    if (pid < 0) {
        c->backoff_ms = cli_up_backoff_ms(c->backoff_ms, 0);
        c->start_at_ms = cairn_mono_ms() + c->backoff_ms;
        CAIRN_ERROR("cannot fork", "name=%s error=%s retry_ms=%lld", c->name,
                    cairn_log_quote(strerror(errno)), (long long)c->backoff_ms);
        return;
    }
    if (pid == 0) {
        /* Own process group: a terminal's Ctrl-C reaches the supervisor only,
         * which stops the children in order. Die with the supervisor. */
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != up->self)
            _exit(1);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        execv(c->path, (char *const *)argv);
        fprintf(stderr, "cairn up: cannot run %s: %s\n", c->path, strerror(errno));
        _exit(127);
    }
    c->pid = pid;
    c->started_ms = cairn_mono_ms();
    char msg[64];
    snprintf(msg, sizeof msg, "started cairn-%s", c->name);
    CAIRN_INFO(msg, "name=%s pid=%d path=%s", c->name, (int)pid, cairn_log_quote(c->path));
}

static s_child_t *s_by_pid(s_up_t *up, pid_t pid)
{
    for (int i = 0; i < S_NCHILD; i++)
        if (up->children[i].pid == pid)
            return &up->children[i];
    return NULL;
}

/* Logs how a child ended and, unless stopping, schedules its restart. A
 * daemon that exits with status 2 refused its configuration: restarting it
 * cannot help, so the whole stack stops. */
static void s_exited(s_up_t *up, s_child_t *c, int status, bool stopping)
{
    int64_t now = cairn_mono_ms();
    int64_t uptime = now - c->started_ms;
    char msg[96];
    if (WIFSIGNALED(status)) {
        snprintf(msg, sizeof msg, "cairn-%s killed by signal %d", c->name, WTERMSIG(status));
        cairn_log(stopping ? CAIRN_LOG_INFO : CAIRN_LOG_WARN, msg,
                  "name=%s pid=%d signal=%d signame=%s uptime_ms=%lld", c->name, (int)c->pid,
                  WTERMSIG(status), cairn_log_quote(strsignal(WTERMSIG(status))),
                  (long long)uptime);
    } else {
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        snprintf(msg, sizeof msg, "cairn-%s exited with status %d", c->name, code);
        cairn_log(stopping || code == 0 ? CAIRN_LOG_INFO : CAIRN_LOG_WARN, msg,
                  "name=%s pid=%d status=%d uptime_ms=%lld", c->name, (int)c->pid, code,
                  (long long)uptime);
    }
    c->pid = 0;
    if (stopping)
        return;
    if (WIFEXITED(status) && WEXITSTATUS(status) == CLI_EXIT_USAGE) {
        snprintf(msg, sizeof msg, "cairn-%s refused its configuration, stopping", c->name);
        CAIRN_ERROR(msg, "name=%s", c->name);
        up->fatal = CLI_EXIT_USAGE;
        return;
    }
    c->backoff_ms = cli_up_backoff_ms(c->backoff_ms, uptime);
    c->start_at_ms = now + c->backoff_ms;
    snprintf(msg, sizeof msg, "restarting %s in %lldms", c->name, (long long)c->backoff_ms);
    CAIRN_INFO(msg, "name=%s delay_ms=%lld", c->name, (long long)c->backoff_ms);
}

/* Collects every child that has ended; returns how many are still running. */
static int s_reap(s_up_t *up, bool stopping)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        s_child_t *c = s_by_pid(up, pid);
        if (c)
            s_exited(up, c, status, stopping);
    }
    int running = 0;
    for (int i = 0; i < S_NCHILD; i++)
        running += up->children[i].pid > 0;
    return running;
}

static void s_signal_all(s_up_t *up, int sig)
{
    for (int i = 0; i < S_NCHILD; i++)
        if (up->children[i].pid > 0)
            kill(up->children[i].pid, sig);
}

static void s_stop_all(s_up_t *up)
{
    CAIRN_INFO("stopping the stack", "grace_ms=%d", S_STOP_GRACE_MS);
    for (int i = 0; i < S_NCHILD; i++)
        up->children[i].start_at_ms = 0;
    s_signal_all(up, SIGTERM);
    int64_t deadline = cairn_mono_ms() + S_STOP_GRACE_MS;
    while (s_reap(up, true) > 0 && cairn_mono_ms() < deadline)
        s_sleep_ms(S_TICK_MS);
    for (int i = 0; i < S_NCHILD; i++) {
        s_child_t *c = &up->children[i];
        if (c->pid <= 0)
            continue;
        char msg[64];
        snprintf(msg, sizeof msg, "cairn-%s did not stop, killing it", c->name);
        CAIRN_WARN(msg, "name=%s pid=%d", c->name, (int)c->pid);
        kill(c->pid, SIGKILL);
    }
    while (s_reap(up, true) > 0)
        s_sleep_ms(S_TICK_MS);
    CAIRN_INFO("stopped", NULL);
}

static void s_announce(const s_up_t *up, const cairn_config_t *cfg, bool json)
{
    const char *addr = cairn_config_str(cfg, "ingest.http_address");
    int64_t port = cairn_config_int(cfg, "ingest.http_port");
    bool v6 = strchr(addr, ':') != NULL;
    char url[320];
    if (port == 0)
        snprintf(url, sizeof url, "http://%s%s%s:<port chosen by cairn-ingest, see its log>",
                 v6 ? "[" : "", addr, v6 ? "]" : "");
    else
        snprintf(url, sizeof url, "http://%s%s%s:%lld", v6 ? "[" : "", addr, v6 ? "]" : "",
                 (long long)port);
    if (json) {
        json_t *obj = json_pack("{s:s, s:s, s:s, s:i}", "data_dir", up->data_dir, "ingest_url", url,
                                "events_url", "/v1/events", "pid", (int)getpid());
        if (obj)
            cli_json_print(obj, stdout);
        json_decref(obj);
    } else {
        printf("Cairn is up.\n"
               "  data:        %s\n"
               "  HTTP ingest: %s/v1/events (CloudEvents), %s/v1/webhooks/...\n"
               "Stop it with Ctrl-C (or: kill %d).\n",
               up->data_dir, url, url, (int)getpid());
    }
    fflush(stdout);
}

/* The options every child gets: the same configuration as ours. */
static void s_build_argv(s_up_t *up, const cli_args_t *args)
{
    up->argc_tail = 0;
    if (args->config_path) {
        up->argv_tail[up->argc_tail++] = "--config";
        up->argv_tail[up->argc_tail++] = args->config_path;
    }
    up->argv_tail[up->argc_tail++] = "--data-dir";
    up->argv_tail[up->argc_tail++] = up->data_dir;
    for (size_t i = 0; i < args->nsets; i++) {
        up->argv_tail[up->argc_tail++] = "--set";
        up->argv_tail[up->argc_tail++] = args->sets[i];
    }
}

static int s_prepare_data_dir(s_up_t *up, const char *dir)
{
    char run[PATH_MAX];
    int rc = cairn_mkdir_p(dir, 0700);
    if (rc == 0 && (size_t)snprintf(run, sizeof run, "%s/run", dir) >= sizeof run)
        rc = -ENAMETOOLONG;
    if (rc == 0)
        rc = cairn_mkdir_p(run, 0700);
    if (rc == 0 && !realpath(dir, up->data_dir))
        rc = -errno;
    if (rc < 0) {
        fprintf(stderr, "cairn up: cannot create data directory %s: %s\n", dir, cairn_strerror(rc));
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* Runs the stack until a stop signal (or a fatal child error). */
static void s_supervise(s_up_t *up, const cairn_config_t *cfg, bool json)
{
    s_child_t *ledger = &up->children[0];
    bool others_started = false;
    bool announced = false;
    int64_t begun = cairn_mono_ms();

    s_start(up, ledger);
    while (!cairn_signals_stop_requested() && !up->fatal) {
        int64_t now = cairn_mono_ms();
        s_reap(up, false);
        if (cairn_signals_take_reload())
            s_signal_all(up, SIGHUP);
        /* The others append to the ledger: give it a head start. */
        if (!others_started && (s_ready(ledger, cfg) || now - begun > S_READY_WAIT_MS / 2)) {
            for (int i = 1; i < S_NCHILD; i++)
                s_start(up, &up->children[i]);
            others_started = true;
        }
        for (int i = 0; i < S_NCHILD; i++) {
            s_child_t *c = &up->children[i];
            if (c->pid == 0 && c->start_at_ms && now >= c->start_at_ms &&
                (i == 0 || others_started))
                s_start(up, c);
        }
        if (others_started && !announced) {
            bool all = true;
            for (int i = 0; i < S_NCHILD && all; i++)
                all = s_ready(&up->children[i], cfg);
            if (all || now - begun > S_READY_WAIT_MS) {
                if (!all)
                    CAIRN_WARN("not every daemon is serving yet; announcing anyway", NULL);
                s_announce(up, cfg, json);
                announced = true;
            }
        }
        s_sleep_ms(S_TICK_MS);
    }
    s_stop_all(up);
}

static int s_run(const cli_args_t *args)
{
    int code;
    char err[512];
    cairn_config_t *cfg = NULL;
    s_up_t up = {
        .children =
            {
                {.name = "ledger", .ready_key = "bus.ledger_api"},
                {.name = "ingest", .ready_key = "bus.ingest_submit"},
                {.name = "policy", .ready_key = "bus.policy_query"},
                {.name = "notify", .ready_key = NULL},
            },
        .pid_fd = -1,
        .self = getpid(),
    };

    if (cli_load_config(args, &cfg, err, sizeof err) < 0) {
        code = cli_usage_error(args->cmd, "%s", err);
        goto out;
    }
    if ((code = s_prepare_data_dir(&up, cairn_config_str(cfg, "cairn.data_dir"))) != 0)
        goto out;
    if ((code = s_lock_pidfile(&up)) != 0)
        goto out;
    if ((code = s_locate(&up)) != 0)
        goto out;
    s_build_argv(&up, args);

    cairn_log_init("up", cairn_config_str(cfg, "log.level"));
    cairn_signals_install();
    CAIRN_INFO("starting the stack", "data_dir=%s pid=%d", cairn_log_quote(up.data_dir),
               (int)up.self);
    s_supervise(&up, cfg, args->json);
    code = up.fatal ? up.fatal : CLI_EXIT_OK;
out:
    s_unlock_pidfile(&up);
    cairn_config_destroy(&cfg);
    return code;
}

const cli_command_t cli_cmd_up = {
    .name = "up",
    .positional = "",
    .summary = "Run the whole stack (ledger, ingest, policy, notify) on this machine.",
    .details = "Starts cairn-ledger, cairn-ingest, cairn-policy and cairn-notify from the\n"
               "directory of this executable, passing them --config, --data-dir and --set, and\n"
               "creates the data directory (default ./.cairn). Once they serve, prints where\n"
               "the data lives and the HTTP ingest URL (with --json: one JSON object).\n"
               "A daemon that exits is restarted after 200ms, doubling up to 10s; the delay\n"
               "starts over once it stayed up 30s. SIGHUP is passed on to every daemon.\n"
               "SIGINT/SIGTERM stops them all (SIGTERM, then SIGKILL after 10s).\n"
               "The supervisor logs in logfmt on stderr (service=up); daemons log there too.\n"
               "Only one `cairn up` may run per data directory ({data_dir}/run/up.pid).\n\n"
               "A daemon that exits with status 2 (configuration error) stops the stack.\n\n"
               "Exit codes: 0 stopped cleanly, 2 configuration error (also one a daemon\n"
               "reported), missing daemon executables, unusable data directory, or another\n"
               "`cairn up` already running on the data directory.\n",
    .opts = NULL,
    .min_pos = 0,
    .max_pos = 0,
    .run = s_run,
};
