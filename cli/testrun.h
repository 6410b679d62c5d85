/* Test support: the `cairn` program run as a user runs it, its exit code,
 * stdout and stderr caught. */
#ifndef CAIRN_CLI_TESTRUN_H
#define CAIRN_CLI_TESTRUN_H

/* What one run of `cairn` did. */
typedef struct {
    int code;  /* exit code (-1 when it did not exit) */
    char *out; /* stdout */
    char *err; /* stderr */
} cli_test_run_t;

/* Runs `$CAIRN_BIN_DIR/cairn --data-dir DIR ARGS` (ARGS from fmt, trusted
 * test strings the shell splits), with stdout and stderr caught in files in
 * the directory scratch. With CAIRN_TEST_VERBOSE set, a failed run prints
 * what it said. */
cli_test_run_t cli_test_cairn(const char *dir, const char *scratch, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Frees what a run caught. */
void cli_test_run_done(cli_test_run_t *r);

#endif
