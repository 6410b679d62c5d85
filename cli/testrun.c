/* Test support: the `cairn` program run as a user runs it (testrun.h). */
#include "testrun.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cairn/util.h"

cli_test_run_t cli_test_cairn(const char *dir, const char *scratch, const char *fmt, ...)
{
    char args[2048], cmd[4096], path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *bin = getenv("CAIRN_BIN_DIR");
    snprintf(cmd, sizeof cmd, "'%s/cairn' --data-dir '%s' %s >'%s/out' 2>'%s/err' </dev/null",
             bin ? bin : ".", dir, args, scratch, scratch);
    int status = system(cmd);
    cli_test_run_t r;
    size_t len;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    snprintf(path, sizeof path, "%s/out", scratch);
    assert_int_equal(cairn_read_file(path, 1 << 24, &r.out, &len), 0);
    snprintf(path, sizeof path, "%s/err", scratch);
    assert_int_equal(cairn_read_file(path, 1 << 24, &r.err, &len), 0);
    if (r.code != 0 && getenv("CAIRN_TEST_VERBOSE"))
        print_message("cairn %s: exit %d\n%s%s", args, r.code, r.out, r.err);
    return r;
}

void cli_test_run_done(cli_test_run_t *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}
