/* Tests for the configuration table, YAML loading and getters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/config.h"
#include "cairn/error.h"
#include "cairn/yaml.h"

static char *s_write_tmp(const char *text)
{
    char *path = strdup("/tmp/cairn-config-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void every_option_has_a_valid_default(void **state)
{
    cairn_config_t *cfg = cairn_config_new();
    assert_non_null(cfg);
    assert_int_equal(cairn_config_int(cfg, "ingest.http_port"), 8080);
    assert_int_equal(cairn_config_int(cfg, "ingest.max_body"), 25 * 1024 * 1024);
    assert_int_equal(cairn_config_int(cfg, "bus.request_timeout"), 5000);
    assert_string_equal(cairn_config_str(cfg, "ingest.http_address"), "127.0.0.1");
    cairn_config_destroy(&cfg);
    assert_null(cfg);
}

static void data_dir_is_expanded_on_finalize(void **state)
{
    cairn_config_t *cfg = cairn_config_new();
    char err[256];
    assert_int_equal(cairn_config_set(cfg, "cairn.data_dir", "/var/lib/cairn", err, sizeof err), 0);
    assert_int_equal(cairn_config_finalize(cfg, err, sizeof err), 0);
    assert_string_equal(cairn_config_str(cfg, "bus.ledger_api"),
                        "ipc:///var/lib/cairn/run/ledger-api.sock");
    assert_string_equal(cairn_config_str(cfg, "ledger.path"), "/var/lib/cairn/ledger");
    cairn_config_destroy(&cfg);
}

/* A data_dir naming itself would be rewritten while it is being used. */
static void a_data_dir_containing_its_own_token_is_refused(void **state)
{
    (void)state;
    cairn_config_t *cfg = cairn_config_new();
    char err[256] = "";
    assert_int_equal(
        cairn_config_set(cfg, "cairn.data_dir", "/v{data_dir}/x", err, sizeof err), 0);
    assert_int_equal(cairn_config_finalize(cfg, err, sizeof err), CAIRN_ECONFIG);
    assert_non_null(strstr(err, "cairn.data_dir"));
    assert_string_equal(cairn_config_str(cfg, "cairn.data_dir"), "/v{data_dir}/x");
    cairn_config_destroy(&cfg);
}

static void yaml_file_overrides_defaults(void **state)
{
    char *path = s_write_tmp("ingest:\n  http_port: 9090\n  max_body: 1M\nlog:\n  level: debug\n"
                             "bus:\n  request_timeout: 250ms\n");
    cairn_config_t *cfg = cairn_config_new();
    char err[256] = "";
    assert_int_equal(cairn_config_load(cfg, path, err, sizeof err), 0);
    assert_int_equal(cairn_config_int(cfg, "ingest.http_port"), 9090);
    assert_int_equal(cairn_config_int(cfg, "ingest.max_body"), 1024 * 1024);
    assert_int_equal(cairn_config_int(cfg, "bus.request_timeout"), 250);
    assert_string_equal(cairn_config_str(cfg, "log.level"), "debug");
    cairn_config_destroy(&cfg);
    unlink(path);
    free(path);
}

static void unknown_key_is_rejected_with_file_line_and_column(void **state)
{
    char *path = s_write_tmp("ingest:\n  http_port: 9090\n  htp_address: 0.0.0.0\n");
    cairn_config_t *cfg = cairn_config_new();
    char err[512] = "";
    assert_int_equal(cairn_config_load(cfg, path, err, sizeof err), CAIRN_ECONFIG);
    char want[512];
    snprintf(want, sizeof want, "%s:3:3: unknown key 'htp_address' in section 'ingest'", path);
    assert_string_equal(err, want);
    cairn_config_destroy(&cfg);
    unlink(path);
    free(path);
}

static void unknown_section_and_bad_values_are_rejected(void **state)
{
    char err[512] = "";
    cairn_config_t *cfg = cairn_config_new();
    char *p1 = s_write_tmp("ingset:\n  http_port: 1\n");
    assert_int_equal(cairn_config_load(cfg, p1, err, sizeof err), CAIRN_ECONFIG);
    assert_non_null(strstr(err, ":1:1: unknown section 'ingset'"));
    char *p2 = s_write_tmp("ingest:\n  http_port: eighty\n");
    assert_int_equal(cairn_config_load(cfg, p2, err, sizeof err), CAIRN_ECONFIG);
    assert_non_null(strstr(err, ":2:3: 'ingest.http_port' must be an integer"));
    char *p3 = s_write_tmp("ingest:\n  http_port: 70000\n");
    assert_int_equal(cairn_config_load(cfg, p3, err, sizeof err), CAIRN_ECONFIG);
    assert_non_null(strstr(err, "outside 0..65535"));
    char *p4 = s_write_tmp("ingest: [1, 2\n");
    assert_int_equal(cairn_config_load(cfg, p4, err, sizeof err), CAIRN_ECONFIG);
    assert_non_null(strstr(err, p4));
    char *p6 = s_write_tmp("ledger:\n  origin: \"abc\n");
    assert_int_equal(cairn_config_load(cfg, p6, err, sizeof err), CAIRN_ECONFIG);
    if (!strstr(err, ":2:12: double-quoted scalar without closing quote")) /* lines from 1 */
        fail_msg("%s", err);
    assert_int_equal(cairn_config_int(cfg, "ingest.http_port"), 8080);
    /* Text the YAML library would misread ('it''''s' reads as it''' there). */
    char *p5 = s_write_tmp("ledger:\n  origin: 'it''''s'\n");
    assert_int_equal(cairn_config_load(cfg, p5, err, sizeof err), CAIRN_ECONFIG);
    if (!strstr(err, ":2:12: " CAIRN_YAML_MISREAD_HINT))
        fail_msg("%s", err);
    char *files[] = {p1, p2, p3, p4, p5, p6};
    for (int i = 0; i < 6; i++) {
        unlink(files[i]);
        free(files[i]);
    }
    assert_true(cairn_config_load(cfg, "/nonexistent/cairn.yaml", err, sizeof err) < 0);
    cairn_config_destroy(&cfg);
}

static void durations_parse_every_unit(void **state)
{
    int64_t ms;
    assert_int_equal(cairn_parse_duration_ms("250ms", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(cairn_parse_duration_ms("72h", &ms), 0);
    assert_int_equal(ms, 72 * 3600000LL);
    assert_int_equal(cairn_parse_duration_ms("7d", &ms), 0);
    assert_int_equal(ms, 7 * 86400000LL);
    assert_int_equal(cairn_parse_duration_ms("2w", &ms), 0);
    assert_int_equal(ms, 14 * 86400000LL);
    assert_int_equal(cairn_parse_duration_ms("5x", &ms), CAIRN_EPARSE);
    assert_int_equal(cairn_parse_duration_ms("-1s", &ms), CAIRN_EPARSE);
}

static void example_config_loads_back(void **state)
{
    char *path = strdup("/tmp/cairn-config-example-XXXXXX");
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    cairn_config_write_example(f);
    fclose(f);
    cairn_config_t *cfg = cairn_config_new();
    char err[512] = "";
    assert_int_equal(cairn_config_load(cfg, path, err, sizeof err), 0);
    cairn_config_destroy(&cfg);
    unlink(path);
    free(path);
}

static void every_option_is_documented(void **state)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    assert_non_null(src);
    char path[512];
    snprintf(path, sizeof path, "%s/docs/configuration.md", src);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char doc[65536];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    size_t count;
    const cairn_option_t *opts = cairn_config_options(&count);
    for (size_t i = 0; i < count; i++) {
        char cell[128];
        snprintf(cell, sizeof cell, "| `%s` |", opts[i].key);
        if (!strstr(doc, cell))
            fail_msg("docs/configuration.md does not document %s", opts[i].key);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_option_has_a_valid_default),
        cmocka_unit_test(data_dir_is_expanded_on_finalize),
        cmocka_unit_test(a_data_dir_containing_its_own_token_is_refused),
        cmocka_unit_test(yaml_file_overrides_defaults),
        cmocka_unit_test(unknown_key_is_rejected_with_file_line_and_column),
        cmocka_unit_test(unknown_section_and_bad_values_are_rejected),
        cmocka_unit_test(durations_parse_every_unit),
        cmocka_unit_test(example_config_loads_back),
        cmocka_unit_test(every_option_is_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
