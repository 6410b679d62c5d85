/* http_sink: a small HTTP server on loopback for the notify tests. It
 * records every request it receives (method, path, headers, body) and what
 * it answered, one JSON object per line, and can be told to misbehave:
 *
 *   http_sink --port-file F --log L [--status CODE] [--fail N] [--fail-ms T]
 *             [--fail-status CODE] [--retry-after S] [--delay-ms D] [--delay-count N]
 *
 *   --status CODE     answer every request with CODE (default 200)
 *   --fail N          answer the first N requests with --fail-status (default 503)
 *   --fail-ms T       answer with --fail-status for the first T ms after start
 *   --retry-after S   send Retry-After: S with failure answers
 *   --delay-ms D      hold the answer D ms (the first --delay-count requests, default all)
 *
 * Before it answers it checks whether the client is still connected; a
 * request whose client went away (e.g. the sender was killed while the
 * answer was held) is logged with "answered": false. Each request is logged
 * twice: {"phase":"arrived"} when its body is in, and {"phase":"answered"}
 * with what was answered; both carry "at_ms", the wall-clock time. */
#define _GNU_SOURCE /* POLLRDHUP */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    char *body; /* the request body so far */
    size_t len;
    json_t *headers;
} s_req_t;

static struct {
    FILE *log;
    int status;
    int fail;
    int fail_ms;
    int fail_status;
    int retry_after;
    int delay_ms;
    int delay_count;
    int count;          /* requests seen */
    long long start_ms; /* monotonic */
    pthread_mutex_t lock;
} s_cfg = {.status = 200,
           .fail_status = 503,
           .retry_after = -1,
           .delay_count = -1,
           .lock = PTHREAD_MUTEX_INITIALIZER};

static volatile sig_atomic_t s_stop = 0;

static long long s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wall-clock ms, so a test can line records up with its own events. */
static long long s_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum MHD_Result s_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    json_t *h = cls;
    char lower[256];
    size_t i = 0;
    for (; key[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)((key[i] >= 'A' && key[i] <= 'Z') ? key[i] + 32 : key[i]);
    lower[i] = '\0';
    json_object_set_new(h, lower, json_string(value ? value : ""));
    return MHD_YES;
}

/* True when the client closed its side of the connection. */
static bool s_peer_gone(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci)
        return false;
    struct pollfd p = {ci->connect_fd, POLLIN | POLLRDHUP, 0};
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
        return true;
    char b;
    return recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static enum MHD_Result s_handle(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
    s_req_t *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        r->headers = json_object();
        MHD_get_connection_values(c, MHD_HEADER_KIND, s_header, r->headers);
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_size) {
        r->body = realloc(r->body, r->len + *upload_size + 1);
        memcpy(r->body + r->len, upload, *upload_size);
        r->len += *upload_size;
        r->body[r->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&s_cfg.lock);
    int n = ++s_cfg.count;
    json_t *arrived = json_pack("{s:i, s:s, s:s, s:O, s:I}", "n", n, "phase", "arrived", "path",
                                url, "headers", r->headers, "at_ms", (json_int_t)s_wall_ms());
    char *aline = json_dumps(arrived, JSON_COMPACT);
    fprintf(s_cfg.log, "%s\n", aline);
    fflush(s_cfg.log);
    free(aline);
    json_decref(arrived);
    pthread_mutex_unlock(&s_cfg.lock);
    int status = s_cfg.status;
    bool failing =
        n <= s_cfg.fail || (s_cfg.fail_ms > 0 && s_mono_ms() - s_cfg.start_ms < s_cfg.fail_ms);
    if (failing)
        status = s_cfg.fail_status;
    if (s_cfg.delay_ms > 0 && (s_cfg.delay_count < 0 || n <= s_cfg.delay_count)) {
        for (int waited = 0; waited < s_cfg.delay_ms && !s_peer_gone(c); waited += 20)
            usleep(20000);
    }
    bool gone = s_peer_gone(c);
    json_t *rec = json_pack("{s:i, s:s, s:s, s:s, s:O, s:s#, s:i, s:b, s:I}", "n", n, "phase",
                            "answered", "method", method, "path", url, "headers", r->headers,
                            "body", r->body ? r->body : "", (int)r->len, "status",
                            gone ? 0 : status, "answered", !gone, "at_ms", (json_int_t)s_wall_ms());
    pthread_mutex_lock(&s_cfg.lock);
    char *line = json_dumps(rec, JSON_COMPACT);
    fprintf(s_cfg.log, "%s\n", line);
    fflush(s_cfg.log);
    free(line);
    pthread_mutex_unlock(&s_cfg.lock);
    json_decref(rec);
    if (gone)
        return MHD_NO;
    const char *text = status >= 200 && status < 300 ? "ok" : "failing on purpose";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (failing && s_cfg.retry_after >= 0) {
        char ra[32];
        snprintf(ra, sizeof ra, "%d", s_cfg.retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void s_done(void *cls, struct MHD_Connection *c, void **con_cls,
                   enum MHD_RequestTerminationCode toe)
{
    s_req_t *r = *con_cls;
    if (!r)
        return;
    json_decref(r->headers);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

int main(int argc, char **argv)
{
    const char *port_file = NULL, *log = NULL;
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--port"))
            port = atoi(v);
        else if (!strcmp(k, "--port-file"))
            port_file = v;
        else if (!strcmp(k, "--log"))
            log = v;
        else if (!strcmp(k, "--status"))
            s_cfg.status = atoi(v);
        else if (!strcmp(k, "--fail"))
            s_cfg.fail = atoi(v);
        else if (!strcmp(k, "--fail-ms"))
            s_cfg.fail_ms = atoi(v);
        else if (!strcmp(k, "--fail-status"))
            s_cfg.fail_status = atoi(v);
        else if (!strcmp(k, "--retry-after"))
            s_cfg.retry_after = atoi(v);
        else if (!strcmp(k, "--delay-ms"))
            s_cfg.delay_ms = atoi(v);
        else if (!strcmp(k, "--delay-count"))
            s_cfg.delay_count = atoi(v);
        else {
            fprintf(stderr, "http_sink: unknown option %s\n", k);
            return 2;
        }
    }
    if (!log) {
        fprintf(stderr, "http_sink: --log FILE is required\n");
        return 2;
    }
    s_cfg.log = fopen(log, "a");
    if (!s_cfg.log) {
        perror(log);
        return 1;
    }
    s_cfg.start_ms = s_mono_ms();
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0,
        NULL, NULL, s_handle, NULL, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_NOTIFY_COMPLETED,
        s_done, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "http_sink: cannot listen on port %d\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    if (port_file) {
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%u\n", info ? info->port : 0) < 0 || fclose(f) != 0 ||
            rename(tmp, port_file) != 0) {
            perror(port_file);
            return 1;
        }
    }
    signal(SIGTERM, s_on_signal);
    signal(SIGINT, s_on_signal);
    while (!s_stop)
        usleep(50000);
    MHD_stop_daemon(d);
    fclose(s_cfg.log);
    return 0;
}
