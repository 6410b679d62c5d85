/* smtp_sink: a small SMTP server on loopback for the notify tests. It
 * accepts every message (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT),
 * undoes dot-stuffing, writes each message to DIR/<n>.eml and logs
 * {"n", "from", "rcpt": [...], "file", "answered"} as one JSON line. It
 * does not offer STARTTLS (a client that requires it must fail).
 *
 *   smtp_sink --port-file F --dir DIR [--fail N]
 *
 *   --fail N   answer the first N messages with "451 try again later" */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *s_dir;
static int s_fail;
static int s_count;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *s_log;

typedef struct {
    int fd;
    char buf[65536]; /* unread input */
    size_t len;
} s_conn_t;

static int s_send(s_conn_t *c, const char *text)
{
    size_t n = strlen(text), done = 0;
    while (done < n) {
        ssize_t w = send(c->fd, text + done, n - done, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        done += (size_t)w;
    }
    return 0;
}

/* Reads one CRLF-terminated line (without the CRLF) into out. */
static int s_line(s_conn_t *c, char *out, size_t cap)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf) + 1;
            size_t copy = n - 1;
            if (copy > 0 && c->buf[copy - 1] == '\r')
                copy--;
            if (copy >= cap)
                copy = cap - 1;
            memcpy(out, c->buf, copy);
            out[copy] = '\0';
            memmove(c->buf, c->buf + n, c->len - n);
            c->len -= n;
            return 0;
        }
        if (c->len == sizeof c->buf)
            return -1;
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (r <= 0)
            return -1;
        c->len += (size_t)r;
    }
}

static void *s_serve(void *arg)
{
    s_conn_t *c = arg;
    char line[4096], from[512] = "";
    json_t *rcpt = json_array();
    s_send(c, "220 smtp-sink ESMTP ready\r\n");
    while (s_line(c, line, sizeof line) == 0) {
        if (!strncasecmp(line, "EHLO", 4)) {
            s_send(c, "250-smtp-sink\r\n250-8BITMIME\r\n250 SIZE 26214400\r\n");
        } else if (!strncasecmp(line, "HELO", 4)) {
            s_send(c, "250 smtp-sink\r\n");
        } else if (!strncasecmp(line, "MAIL FROM:", 10)) {
            snprintf(from, sizeof from, "%.500s", line + 10);
            json_array_clear(rcpt);
            s_send(c, "250 OK\r\n");
        } else if (!strncasecmp(line, "RCPT TO:", 8)) {
            json_array_append_new(rcpt, json_string(line + 8));
            s_send(c, "250 OK\r\n");
        } else if (!strncasecmp(line, "DATA", 4)) {
            s_send(c, "354 End data with <CR><LF>.<CR><LF>\r\n");
            size_t cap = 1 << 16, len = 0;
            char *msg = malloc(cap);
            bool ok = true;
            for (;;) {
                if (s_line(c, line, sizeof line) < 0) {
                    ok = false;
                    break;
                }
                if (!strcmp(line, "."))
                    break;
                const char *l = line[0] == '.' ? line + 1 : line; /* dot-stuffing */
                size_t n = strlen(l);
                if (len + n + 3 > cap) {
                    cap = (len + n + 3) * 2;
                    msg = realloc(msg, cap);
                }
                memcpy(msg + len, l, n);
                len += n;
                msg[len++] = '\r';
                msg[len++] = '\n';
            }
            if (!ok) {
                free(msg);
                break;
            }
            pthread_mutex_lock(&s_lock);
            int n = ++s_count;
            bool fail = n <= s_fail;
            char file[700] = "";
            if (!fail) {
                snprintf(file, sizeof file, "%s/%d.eml", s_dir, n);
                FILE *f = fopen(file, "wb");
                if (f) {
                    fwrite(msg, 1, len, f);
                    fclose(f);
                }
            }
            json_t *rec = json_pack("{s:i, s:s, s:O, s:s, s:b}", "n", n, "from", from, "rcpt", rcpt,
                                    "file", file, "answered", !fail);
            char *text = json_dumps(rec, JSON_COMPACT);
            fprintf(s_log, "%s\n", text);
            fflush(s_log);
            free(text);
            json_decref(rec);
            pthread_mutex_unlock(&s_lock);
            free(msg);
            s_send(c, fail ? "451 4.3.0 try again later\r\n" : "250 OK queued\r\n");
        } else if (!strncasecmp(line, "RSET", 4)) {
            json_array_clear(rcpt);
            s_send(c, "250 OK\r\n");
        } else if (!strncasecmp(line, "NOOP", 4)) {
            s_send(c, "250 OK\r\n");
        } else if (!strncasecmp(line, "QUIT", 4)) {
            s_send(c, "221 Bye\r\n");
            break;
        } else if (!strncasecmp(line, "STARTTLS", 8)) {
            s_send(c, "454 4.7.0 TLS not available\r\n");
        } else {
            s_send(c, "502 5.5.2 command not implemented\r\n");
        }
    }
    json_decref(rcpt);
    close(c->fd);
    free(c);
    return NULL;
}

int main(int argc, char **argv)
{
    const char *port_file = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port-file"))
            port_file = argv[i + 1];
        else if (!strcmp(argv[i], "--dir"))
            s_dir = argv[i + 1];
        else if (!strcmp(argv[i], "--fail"))
            s_fail = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "smtp_sink: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!s_dir || !port_file) {
        fprintf(stderr, "smtp_sink: --dir DIR and --port-file FILE are required\n");
        return 2;
    }
    char logpath[700];
    snprintf(logpath, sizeof logpath, "%s/log.jsonl", s_dir);
    s_log = fopen(logpath, "a");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (!s_log || fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        perror("smtp_sink");
        return 1;
    }
    char tmp[700];
    snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0 ||
        rename(tmp, port_file) != 0) {
        perror(port_file);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int cfd = accept(fd, NULL, NULL);
        if (cfd < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        s_conn_t *c = calloc(1, sizeof *c);
        c->fd = cfd;
        pthread_t t;
        if (pthread_create(&t, NULL, s_serve, c) == 0)
            pthread_detach(t);
        else {
            close(cfd);
            free(c);
        }
    }
    return 0;
}
