/* Tests for `cairn ingest rejected`: reading the rejected index (the latest
 * N lines, oldest first, the kept body's path, unreadable lines skipped, a
 * missing index), the human listing, and the command run through the real
 * `cairn` binary against a data directory. */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "cairn/util.h"
#include "cmd_ingest.h"

static char s_tmp[64];
static char s_index[192];

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* One index line as cairn-ingest writes it. */
static void s_line(FILE *f, int n, int status, const char *source, const char *file)
{
    fprintf(f,
            "{\"time\":\"2026-11-25T10:00:%02d.000Z\",\"time_ms\":%d,\"status\":%d,"
            "\"source\":\"%s\",\"path\":\"/v1/webhooks/%s\",\"reason\":\"reason %d\","
            "\"bytes\":12,\"sha256\":\"ab\",\"file\":%s%s%s}\n",
            n, n, status, source, source, n, file ? "\"" : "", file ? file : "null",
            file ? "\"" : "");
}

static int s_setup(void **state)
{
    (void)state;
    char dir[128];
    snprintf(s_tmp, sizeof s_tmp, "/tmp/cairn-cli-ingest-test-XXXXXX");
    if (!mkdtemp(s_tmp))
        return -1;
    snprintf(dir, sizeof dir, "%s/ingest/rejected", s_tmp);
    if (cairn_mkdir_p(dir, 0700) < 0)
        return -1;
    snprintf(s_index, sizeof s_index, "%s/index.jsonl", dir);
    FILE *f = fopen(s_index, "w");
    if (!f)
        return -1;
    for (int i = 0; i < 30; i++) {
        char file[64];
        snprintf(file, sizeof file, "%d-401-abcd.body", i);
        s_line(f, i, i % 2 ? 401 : 422, i % 2 ? "github" : "cloudevents", i % 3 ? file : NULL);
        if (i == 27)
            fprintf(f, "{\"time\":\"truncated by a cra\n"); /* a line cut by a crash */
    }
    fclose(f);
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    return nftw(s_tmp, s_rm, 8, FTW_DEPTH | FTW_PHYS);
}

static void the_latest_rejections_come_oldest_first(void **state)
{
    (void)state;
    json_t *r = NULL;
    assert_int_equal(cli_ingest_rejected_read(s_index, 5, &r), 0);
    json_t *list = json_object_get(r, "rejected");
    /* the last five lines: 26, 27, the cut line, 28, 29 */
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 31);
    assert_int_equal(json_integer_value(json_object_get(r, "skipped")), 1);
    assert_int_equal(json_array_size(list), 4);
    assert_int_equal(json_integer_value(json_object_get(r, "shown")), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "reason")),
                        "reason 26");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 3), "reason")),
                        "reason 29");
    json_t *last = json_array_get(list, 3);
    assert_int_equal(json_integer_value(json_object_get(last, "status")), 401);
    assert_string_equal(json_string_value(json_object_get(last, "source")), "github");
    char want[160];
    snprintf(want, sizeof want, "%s/ingest/rejected/29-401-abcd.body", s_tmp);
    assert_string_equal(json_string_value(json_object_get(last, "file_path")), want);
    /* 27 kept no body */
    assert_true(json_is_null(json_object_get(json_array_get(list, 1), "file_path")));
    json_decref(r);
}

static void a_limit_of_zero_reads_everything(void **state)
{
    (void)state;
    json_t *r = NULL;
    assert_int_equal(cli_ingest_rejected_read(s_index, 0, &r), 0);
    json_t *list = json_object_get(r, "rejected");
    assert_int_equal(json_array_size(list), 30);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "reason")),
                        "reason 0");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 29), "reason")),
                        "reason 29");
    json_decref(r);
}

static void a_missing_index_means_nothing_was_rejected(void **state)
{
    (void)state;
    char path[160];
    json_t *r = NULL;
    snprintf(path, sizeof path, "%s/nowhere/index.jsonl", s_tmp);
    assert_int_equal(cli_ingest_rejected_read(path, 20, &r), 0);
    assert_int_equal(json_integer_value(json_object_get(r, "total")), 0);
    assert_int_equal(json_array_size(json_object_get(r, "rejected")), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cli_ingest_rejected_render(out, r);
    fclose(out);
    assert_non_null(strstr(text, "no rejected requests recorded"));
    free(text);
    json_decref(r);
}

static void the_listing_names_time_status_source_file_and_reason(void **state)
{
    (void)state;
    json_t *r = NULL;
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(cli_ingest_rejected_read(s_index, 2, &r), 0);
    FILE *out = open_memstream(&text, &len);
    cli_ingest_rejected_render(out, r);
    fclose(out);
    assert_non_null(strstr(text, "TIME"));
    assert_non_null(
        strstr(text, "2026-11-25T10:00:29.000Z  401     github       29-401-abcd.body"));
    assert_non_null(strstr(text, "reason 29\n"));
    assert_non_null(strstr(text, "2 of 31 rejected requests shown"));
    free(text);
    json_decref(r);
}

/* Runs the real binary; returns its exit status and stdout. */
static int s_cairn(const char *args, char **out)
{
    char cmd[1024];
    const char *bin = getenv("CAIRN_BIN_DIR");
    snprintf(cmd, sizeof cmd, "%s/cairn %s --data-dir %s", bin ? bin : ".", args, s_tmp);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        fwrite(buf, 1, n, mem);
    fclose(mem);
    int status = pclose(p);
    *out = text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void the_command_reads_the_data_directory_without_a_daemon(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(s_cairn("ingest rejected --limit 3 --json", &out), 0);
    json_t *r = json_loads(out, 0, NULL);
    assert_non_null(r);
    assert_int_equal(json_array_size(json_object_get(r, "rejected")), 2 /* 3 minus the cut line */);
    json_decref(r);
    free(out);

    assert_int_equal(s_cairn("ingest rejected", &out), 0);
    assert_non_null(strstr(out, "reason 29"));
    assert_null(strstr(out, "reason 9\n"));
    free(out);

    assert_int_equal(s_cairn("ingest rejected --limit many 2>/dev/null", &out), 2);
    free(out);
    assert_int_equal(s_cairn("ingest 2>/dev/null", &out), 2);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_latest_rejections_come_oldest_first),
        cmocka_unit_test(a_limit_of_zero_reads_everything),
        cmocka_unit_test(a_missing_index_means_nothing_was_rejected),
        cmocka_unit_test(the_listing_names_time_status_source_file_and_reason),
        cmocka_unit_test(the_command_reads_the_data_directory_without_a_daemon),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
