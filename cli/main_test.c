/* Tests of the `cairn` executable itself: usage mistakes exit 2 with a
 * message on stderr, help goes to stdout, and a stack that is not running
 * gives exit 4 with a pointer to `cairn up`. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

typedef struct {
    int code;  /* exit code */
    char *out; /* stdout */
    char *err; /* stderr */
} s_run_t;

static char s_tmp[256];

static char *s_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Runs `cairn ARGS` through the shell; args are trusted test strings. */
static s_run_t s_cairn(const char *args)
{
    const char *bin = getenv("CAIRN_BIN_DIR");
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s/cairn' %s >'%s/out' 2>'%s/err' </dev/null", bin ? bin : ".",
             args, s_tmp, s_tmp);
    int status = system(cmd);
    s_run_t r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    char path[512];
    snprintf(path, sizeof path, "%s/out", s_tmp);
    r.out = s_slurp(path);
    snprintf(path, sizeof path, "%s/err", s_tmp);
    r.err = s_slurp(path);
    return r;
}

static void s_done(s_run_t *r)
{
    free(r->out);
    free(r->err);
}

static int s_setup(void **state)
{
    (void)state;
    snprintf(s_tmp, sizeof s_tmp, "/tmp/cairn-cli-test-XXXXXX");
    return mkdtemp(s_tmp) ? 0 : -1;
}

static int s_teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void help_lists_every_command_on_stdout(void **state)
{
    (void)state;
    s_run_t r = s_cairn("--help");
    assert_int_equal(r.code, 0);
    const char *cmds[] = {"up",    "submit", "approve", "status", "gate",
                          "trail", "log",    "export",  "verify", "keygen"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char needle[32];
        snprintf(needle, sizeof needle, "\n  %s ", cmds[i]);
        assert_non_null(strstr(r.out, needle));
    }
    assert_string_equal(r.err, "");
    s_done(&r);
}

static void each_command_has_its_own_help(void **state)
{
    (void)state;
    const char *cmds[] = {"up",
                          "submit",
                          "approve",
                          "status",
                          "gate",
                          "trail",
                          "log",
                          "log vkey",
                          "log checkpoint",
                          "log prove",
                          "log consistency",
                          "log verify",
                          "log query",
                          "export",
                          "verify",
                          "keygen"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char args[64], needle[64];
        snprintf(args, sizeof args, "%s --help", cmds[i]);
        snprintf(needle, sizeof needle, "Usage: cairn %s", cmds[i]);
        s_run_t r = s_cairn(args);
        assert_int_equal(r.code, 0);
        assert_non_null(strstr(r.out, needle));
        assert_non_null(strstr(r.out, "Exit codes"));
        s_done(&r);
    }
}

static void no_command_is_a_usage_error(void **state)
{
    (void)state;
    s_run_t r = s_cairn("");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "Usage: cairn"));
    assert_string_equal(r.out, "");
    s_done(&r);
}

static void an_unknown_command_is_named(void **state)
{
    (void)state;
    s_run_t r = s_cairn("deploy");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "unknown command 'deploy'"));
    s_done(&r);
}

static void argument_mistakes_exit_2_with_a_clear_message(void **state)
{
    (void)state;
    static const struct {
        const char *args;
        const char *message;
    } cases[] = {
        {"gate CHG-1", "cairn gate: missing required option --gate G"},
        {"gate CHG-1 --gate build --wait soon", "--wait needs a number of seconds"},
        {"approve --as lee", "cairn approve: missing argument: expected CHANGE"},
        {"approve CHG-1", "missing required option --as USER"},
        {"approve CHG-1 --as lee --commit abc123", "full commit SHA"},
        {"status", "missing argument: expected CHANGE"},
        {"status A B", "unexpected argument 'B'"},
        {"trail CHG-1 --colour", "unknown option '--colour'"},
        {"submit", "missing argument: expected FILE"},
        {"submit /nonexistent/event.json", "cannot read /nonexistent/event.json"},
        {"up extra", "unexpected argument 'extra'"},
        {"--config /nonexistent/cairn.yaml status CHG-1", "/nonexistent/cairn.yaml"},
        {"status CHG-1 --set nosuch.key=1", "cairn status:"},
        {"log", "cairn log: missing subcommand: expected one of vkey, checkpoint, prove, "
                "consistency, verify, query"},
        {"log show", "cairn log: unknown subcommand 'show'"},
        {"log prove", "cairn log prove: missing argument: expected INDEX"},
        {"log prove -1", "unknown option '-1'"},
        {"log prove 3 --size 0", "--size must be a tree size"},
        {"log consistency", "cairn log consistency: missing argument: expected OLD [NEW]"},
        {"log consistency 1 2 3", "unexpected argument '3'"},
        {"log vkey extra", "cairn log vkey: unexpected argument 'extra'"},
        {"log query", "cairn log query: say what to look for"},
        {"log query --change C --release R", "give at most one of --change, --release"},
        {"log query --since monday", "--since must be an RFC 3339 time"},
        {"export -o b.json", "give exactly one of --change C, --release R"},
        {"export --change C --release R -o b.json", "give exactly one of"},
        {"export --change C", "give -o FILE"},
        {"verify", "cairn verify: missing argument: expected FILE"},
        {"verify b.json", "missing required option --vkey VKEY"},
        {"keygen --name 'a b'", "is not a valid key name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        s_run_t r = s_cairn(cases[i].args);
        if (r.code != 2 || !strstr(r.err, cases[i].message))
            print_error("cairn %s: exit %d, stderr: %s\n", cases[i].args, r.code, r.err);
        assert_int_equal(r.code, 2);
        assert_non_null(strstr(r.err, cases[i].message));
        assert_non_null(strstr(r.err, "--help"));
        assert_string_equal(r.out, "");
        s_done(&r);
    }
}

static void a_stack_that_is_not_running_exits_4_and_says_cairn_up(void **state)
{
    (void)state;
    const char *cmds[] = {"status CHG-1",
                          "gate CHG-1 --gate build",
                          "trail CHG-1",
                          "approve CHG-1 --as lee",
                          "submit -",
                          "log vkey",
                          "log checkpoint",
                          "log prove 0",
                          "log consistency 1 2",
                          "log query --change CHG-1",
                          "log query --since 1h",
                          "export --change CHG-1 -o x.json"};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        char args[512];
        snprintf(args, sizeof args, "--data-dir '%s/nothing-here' %s", s_tmp, cmds[i]);
        s_run_t r = s_cairn(args);
        if (r.code != 4)
            print_error("cairn %s: exit %d, stderr: %s\n", args, r.code, r.err);
        assert_int_equal(r.code, 4);
        assert_non_null(strstr(r.err, "cairn up"));
        assert_string_equal(r.out, "");
        s_done(&r);
    }
}

static void help_for_a_subcommand_is_its_own(void **state)
{
    (void)state;
    s_run_t r = s_cairn("help log prove");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "Usage: cairn log prove INDEX [--size N]"));
    s_done(&r);
    r = s_cairn("--help log");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "Subcommands:"));
    assert_non_null(strstr(r.out, "cairn log consistency OLD [NEW]"));
    s_done(&r);
    r = s_cairn("log --json prove --help");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "Usage: cairn log prove"));
    s_done(&r);
}

static void a_second_up_on_the_same_data_dir_is_refused(void **state)
{
    (void)state;
    char dir[512], pidfile[600];
    snprintf(dir, sizeof dir, "%s/busy/run", s_tmp);
    char mk[700];
    snprintf(mk, sizeof mk, "mkdir -p '%s'", dir);
    assert_int_equal(system(mk), 0);
    snprintf(pidfile, sizeof pidfile, "%s/up.pid", dir);
    int fd = open(pidfile, O_RDWR | O_CREAT, 0600);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(write(fd, "4242\n", 5), 5);

    char args[600];
    snprintf(args, sizeof args, "up --data-dir '%s/busy'", s_tmp);
    s_run_t r = s_cairn(args);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "already running"));
    assert_non_null(strstr(r.err, "4242"));
    s_done(&r);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(help_lists_every_command_on_stdout),
        cmocka_unit_test(each_command_has_its_own_help),
        cmocka_unit_test(no_command_is_a_usage_error),
        cmocka_unit_test(an_unknown_command_is_named),
        cmocka_unit_test(argument_mistakes_exit_2_with_a_clear_message),
        cmocka_unit_test(a_stack_that_is_not_running_exits_4_and_says_cairn_up),
        cmocka_unit_test(help_for_a_subcommand_is_its_own),
        cmocka_unit_test(a_second_up_on_the_same_data_dir_is_refused),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
