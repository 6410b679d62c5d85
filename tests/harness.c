/* End-to-end harness: runs a real Cairn stack in a temporary directory. */
#include "harness.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    fclose(f);
    if (buf)
        buf[len] = '\0';
    return buf;
}

int stack_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int stack_start(e2e_stack_t *s)
{
    return stack_start_with(s, NULL);
}

int stack_start_with(e2e_stack_t *s, const stack_opts_t *o)
{
    static const stack_opts_t none = {0};
    if (!o)
        o = &none;
    memset(s, 0, sizeof *s);
    const char *bin = getenv("CAIRN_BIN_DIR");
    const char *src = getenv("CAIRN_SOURCE_DIR");
    if (!bin || !src)
        return -1;
    snprintf(s->bin, sizeof s->bin, "%s", bin);
    snprintf(s->src, sizeof s->src, "%s", src);
    snprintf(s->dir, sizeof s->dir, "/tmp/cairn-e2e-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->config, sizeof s->config, "%s/cairn.yaml", s->dir);
    snprintf(s->log, sizeof s->log, "%s/stack.log", s->dir);
    s->http_port = stack_free_port();
    FILE *f = fopen(s->config, "w");
    if (!f || s->http_port <= 0)
        return -1;
    fprintf(f, "log:\n  level: %s\ningest:\n  http_port: %d\n%sbus:\n  request_timeout: 3s\n%s%s",
            o->log_level ? o->log_level : "info", s->http_port, o->ingest ? o->ingest : "",
            o->bus ? o->bus : "", o->more ? o->more : "");
    fclose(f);
    s->up = fork();
    if (s->up < 0)
        return -1;
    if (s->up == 0) {
        FILE *log = freopen(s->log, "a", stderr);
        (void)log;
        char exe[600];
        snprintf(exe, sizeof exe, "%s/cairn", s->bin);
        execl(exe, "cairn", "up", "--config", s->config, "--data-dir", s->dir, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        char *resp = NULL;
        long st = stack_http(s, "GET", "/healthz", NULL, NULL, 0, &resp);
        free(resp);
        if (st == 200) {
            /* Ingest answers; give the others a moment to bind. */
            for (int j = 0; j < 100; j++) {
                if (stack_daemon_pid(s, "cairn-policy") && stack_daemon_pid(s, "cairn-notify") &&
                    stack_daemon_pid(s, "cairn-ledger"))
                    return 0;
                sleep_ms(100);
            }
            return -1;
        }
        sleep_ms(100);
    }
    return -1;
}

int stack_stop(e2e_stack_t *s)
{
    if (s->up <= 0)
        return -1;
    kill(s->up, SIGTERM);
    for (int i = 0; i < 300; i++) {
        int status = 0;
        pid_t r = waitpid(s->up, &status, WNOHANG);
        if (r == s->up) {
            s->up = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        sleep_ms(100);
    }
    kill(s->up, SIGKILL);
    waitpid(s->up, NULL, 0);
    s->up = 0;
    return -1;
}

void stack_cleanup(e2e_stack_t *s)
{
    if (!s->dir[0])
        return;
    if (getenv("CAIRN_KEEP_TEST_DIR")) {
        fprintf(stderr, "kept %s\n", s->dir);
        return;
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s->dir);
}

pid_t stack_daemon_pid(const e2e_stack_t *s, const char *name)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *e;
    pid_t found = 0;
    while (!found && (e = readdir(d)) != NULL) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        char path[64], buf[4096];
        snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* argv[0] ends with the daemon name and some argument names our dir. */
        const char *argv0 = buf;
        const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
        if (strcmp(base, name) != 0)
            continue;
        for (size_t off = strlen(buf) + 1; off < n; off += strlen(buf + off) + 1)
            if (strcmp(buf + off, s->dir) == 0)
                found = (pid_t)pid;
        /* A zombie still has no cmdline; a live one has. */
    }
    closedir(d);
    return found;
}

typedef struct {
    char *data;
    size_t len;
} s_buf_t;

static size_t s_collect(char *ptr, size_t size, size_t nmemb, void *user)
{
    s_buf_t *b = user;
    size_t n = size * nmemb;
    char *nd = realloc(b->data, b->len + n + 1);
    if (!nd)
        return 0;
    memcpy(nd + b->len, ptr, n);
    b->data = nd;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

long stack_http(const e2e_stack_t *s, const char *method, const char *path, const char *content_type,
                const char *body, size_t len, char **response)
{
    CURL *c = curl_easy_init();
    if (!c)
        return 0;
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->http_port, path);
    s_buf_t b = {calloc(1, 1), 0};
    struct curl_slist *hdrs = NULL;
    char ct[256];
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        hdrs = curl_slist_append(hdrs, ct);
    }
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    *response = b.data;
    return status;
}

long stack_post_fixture(const e2e_stack_t *s, const char *name, char **response)
{
    char path[700];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", s->src, name);
    char *body = slurp(path);
    if (!body) {
        *response = NULL;
        return 0;
    }
    long st = stack_http(s, "POST", "/v1/events", "application/cloudevents+json", body,
                         strlen(body), response);
    free(body);
    return st;
}

__attribute__((format(printf, 4, 0))) static int s_vcli(const e2e_stack_t *s, char **out, int json,
                                                        const char *fmt, va_list ap)
{
    char args[1024], cmd[2048];
    vsnprintf(args, sizeof args, fmt, ap);
    snprintf(cmd, sizeof cmd, "'%s/cairn' %s --config '%s' --data-dir '%s'%s 2>>'%s'", s->bin,
             args, s->config, s->dir, json ? " --json" : "", s->log);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    size_t cap = 4096, len = 0, n;
    char *buf = malloc(cap);
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    buf[len] = '\0';
    int status = pclose(p);
    *out = buf;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int stack_cli(const e2e_stack_t *s, char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vcli(s, out, 0, fmt, ap);
    va_end(ap);
    return rc;
}

int stack_cli_json(const e2e_stack_t *s, json_t **out, const char *fmt, ...)
{
    char *text = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vcli(s, &text, 1, fmt, ap);
    va_end(ap);
    *out = text ? json_loads(text, 0, NULL) : NULL;
    if (!*out && text)
        fprintf(stderr, "not JSON from cairn %s: %s\n", fmt, text);
    free(text);
    return rc;
}
