/* Tests for the daemons' shared command-line handling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/daemon.h"
#include "cairn/error.h"

static int s_no_port_zero(const cairn_config_t *config, char *err, size_t errlen)
{
    if (cairn_config_int(config, "ingest.http_port") == 0) {
        snprintf(err, errlen, "ingest.http_port must not be 0 here");
        return CAIRN_ECONFIG;
    }
    return 0;
}

static const cairn_daemon_info_t s_info = {
    .name = "cairn-test",
    .summary = "A daemon for tests.\n",
    .settings = "ingest.",
    .check = s_no_port_zero,
};

static int s_run(cairn_config_t **out, int argc, char **argv)
{
    /* --help text and error lines go to the test log; the code is checked. */
    return cairn_daemon_configure(&s_info, argc, argv, out);
}

static void file_then_data_dir_then_each_set_in_order(void **state)
{
    char path[] = "/tmp/cairn-daemon-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *yaml = "ingest:\n  http_port: 9000\n  threads: 2\n";
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    char *argv[] = {"cairn-test", "--config", path,  "--set", "ingest.http_port=9001",
                    "--data-dir", "/srv/c", "--set", "ingest.http_port=9002", NULL};
    cairn_config_t *config = NULL;
    assert_int_equal(s_run(&config, 9, argv), 0);
    assert_int_equal(cairn_config_int(config, "ingest.http_port"), 9002);
    assert_int_equal(cairn_config_int(config, "ingest.threads"), 2);
    assert_string_equal(cairn_config_str(config, "ledger.path"), "/srv/c/ledger");
    cairn_config_destroy(&config);
    unlink(path);
}

static void help_and_mistakes_have_their_exit_status(void **state)
{
    cairn_config_t *config = NULL;
    char *help[] = {"cairn-test", "--help", NULL};
    assert_int_equal(s_run(&config, 2, help), 1);
    assert_null(config);
    assert_int_equal(cairn_daemon_exit_status(1), 0);

    char *bogus[] = {"cairn-test", "--bogus", NULL};
    assert_int_equal(s_run(&config, 2, bogus), CAIRN_ECONFIG);
    char *extra[] = {"cairn-test", "stray", NULL};
    assert_int_equal(s_run(&config, 2, extra), CAIRN_ECONFIG);
    char *no_eq[] = {"cairn-test", "--set", "ingest.http_port", NULL};
    assert_int_equal(s_run(&config, 3, no_eq), CAIRN_ECONFIG);
    char *unknown[] = {"cairn-test", "--set", "ingest.htp_port=1", NULL};
    assert_int_equal(s_run(&config, 3, unknown), CAIRN_ECONFIG);
    char *missing[] = {"cairn-test", "--config", "/nonexistent/cairn.yaml", NULL};
    assert_int_equal(s_run(&config, 3, missing), CAIRN_ECONFIG);
    char *checked[] = {"cairn-test", "--set", "ingest.http_port=0", NULL};
    assert_int_equal(s_run(&config, 3, checked), CAIRN_ECONFIG);
    assert_null(config);
    assert_int_equal(cairn_daemon_exit_status(CAIRN_ECONFIG), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(file_then_data_dir_then_each_set_in_order),
        cmocka_unit_test(help_and_mistakes_have_their_exit_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
