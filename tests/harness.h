/* Test harness for end-to-end tests: a Cairn stack in a temporary directory
 * (started with `cairn up`), HTTP requests with libcurl, and CLI runs. */
#ifndef CAIRN_TEST_HARNESS_H
#define CAIRN_TEST_HARNESS_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    char dir[128];       /* temporary data directory */
    char config[160];    /* config file written for this stack */
    char log[160];       /* stderr of `cairn up` and its daemons */
    char bin[512];       /* directory holding cairn and the daemons */
    char src[512];       /* source tree (fixtures) */
    int http_port;       /* ingest HTTP port */
    pid_t up;            /* the `cairn up` supervisor */
} e2e_stack_t;

/* Writes a config, starts `cairn up`, waits for /healthz. 0 on success. */
int stack_start(e2e_stack_t *s);

/* Additions to the configuration stack_start_with writes. Any may be NULL. */
typedef struct {
    const char *log_level; /* log.level (default "info") */
    const char *ingest;    /* more lines of the ingest: section, each "  key: value\n" */
    const char *bus;       /* more lines of the bus: section */
    const char *more;      /* further whole sections ("policy:\n  file: ...\n") */
} stack_opts_t;

/* stack_start with additions to the configuration (o may be NULL). */
int stack_start_with(e2e_stack_t *s, const stack_opts_t *o);

/* SIGTERM to `cairn up`; returns its exit status (or -1 if it did not stop in time). */
int stack_stop(e2e_stack_t *s);

/* Removes the temporary directory. */
void stack_cleanup(e2e_stack_t *s);

/* pid of the running daemon (e.g. "cairn-policy") of this stack, or 0. */
pid_t stack_daemon_pid(const e2e_stack_t *s, const char *name);

/* HTTP request to ingest; returns the status (0 if no connection) and the body. */
long stack_http(const e2e_stack_t *s, const char *method, const char *path, const char *content_type,
                const char *body, size_t len, char **response);

/* POSTs a fixture file from tests/fixtures as application/cloudevents+json. */
long stack_post_fixture(const e2e_stack_t *s, const char *name, char **response);

/* Runs `cairn ARGS --config C --data-dir D`; returns the exit code, stdout in *out. */
int stack_cli(const e2e_stack_t *s, char **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like stack_cli with --json, parsing stdout (NULL if it was not JSON). */
int stack_cli_json(const e2e_stack_t *s, json_t **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A TCP port on 127.0.0.1 that was free a moment ago (-1 on error). */
int stack_free_port(void);

/* Sleeps ms milliseconds. */
void sleep_ms(int ms);

/* Reads a whole text file (NULL if absent). */
char *slurp(const char *path);

#endif
