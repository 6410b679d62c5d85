/* trivial_202: the baseline for ingest_bench. An HTTP server on the same
 * library and the same setup as cairn-ingest's (libmicrohttpd, epoll, an
 * internal thread pool of the same size) that reads each POST body into a
 * buffer, as ingest does, and answers 202 with a small JSON body of the
 * shape ingest answers — and does nothing else: no parsing, no
 * authentication, no ledger. Its throughput and latency are what the HTTP
 * layer alone costs on this machine.
 *
 *   trivial_202 --port P [--threads N] [--address A]
 *
 * Runs until SIGINT or SIGTERM. */
#include <errno.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t s_stop;

static const char s_answer[] = "{\"accepted\":[{\"id\":\"x\",\"index\":0}]}";

/* The body, buffered like ingest buffers it. */
typedef struct {
    char *data; /* bytes received */
    size_t len; /* how many */
    size_t cap; /* allocated */
} s_body_t;

static enum MHD_Result s_access(void *cls, struct MHD_Connection *conn, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **con_cls)
{
    s_body_t *b = *con_cls;
    if (!b) {
        *con_cls = calloc(1, sizeof *b);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        if (b->len + *upload_size > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            while (cap < b->len + *upload_size)
                cap *= 2;
            char *grown = realloc(b->data, cap);
            if (!grown)
                return MHD_NO;
            b->data = grown;
            b->cap = cap;
        }
        memcpy(b->data + b->len, upload, *upload_size);
        b->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        sizeof s_answer - 1, (void *)s_answer, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, strcmp(method, "POST") == 0 ? 202 : 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void s_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                        enum MHD_RequestTerminationCode toe)
{
    s_body_t *b = *con_cls;
    if (b) {
        free(b->data);
        free(b);
        *con_cls = NULL;
    }
}

static void s_on_signal(int sig)
{
    s_stop = 1;
}

int main(int argc, char **argv)
{
    unsigned port = 0, threads = 4;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0)
            port = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: trivial_202 --port P [--threads N]\n");
            return 2;
        }
    }
    if (port == 0 || port > 65535 || threads == 0) {
        fprintf(stderr, "usage: trivial_202 --port P [--threads N]\n");
        return 2;
    }
    signal(SIGINT, s_on_signal);
    signal(SIGTERM, s_on_signal);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port, NULL, NULL, s_access, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_LISTEN_BACKLOG_SIZE, 256u,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "trivial_202: cannot listen on port %u\n", port);
        return 1;
    }
    while (!s_stop)
        pause();
    MHD_stop_daemon(d);
    return 0;
}
