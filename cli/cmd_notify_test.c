/* Tests for `cairn notify`: label arguments, the offline routes test, end
 * times and matcher conversion. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cmd_notify.h"

static const char s_routes_yaml[] = "route:\n"
                                    "  receiver: default\n"
                                    "  group_by: [change]\n"
                                    "  routes:\n"
                                    "    - matchers: ['env=\"prod\"']\n"
                                    "      receiver: prod\n"
                                    "      continue: true\n"
                                    "    - matchers: ['kind=~\"approval_.*\"']\n"
                                    "      receiver: approvers\n"
                                    "      group_wait: 10s\n"
                                    "receivers:\n"
                                    "  - name: default\n"
                                    "    file_configs: [{path: /tmp/x.jsonl}]\n"
                                    "  - name: prod\n"
                                    "    webhook_configs: [{url: 'http://127.0.0.1:9/hook'}]\n"
                                    "  - name: approvers\n"
                                    "    feed_configs: [{}]\n";

static void labels_are_read_from_name_value_arguments(void **state)
{
    const char *args[] = {"env=prod", "change=\"CHG-1\"", "risk="};
    cairn_labels_t *l = NULL;
    char err[256];
    assert_int_equal(cli_notify_labels(args, 3, &l, err, sizeof err), 0);
    assert_string_equal(cairn_labels_get(l, "env"), "prod");
    assert_string_equal(cairn_labels_get(l, "change"), "CHG-1");
    assert_int_equal(cairn_labels_count(l), 2); /* an empty value is no label */
    cairn_labels_destroy(&l);
    const char *bad[] = {"env"};
    assert_int_equal(cli_notify_labels(bad, 1, &l, err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "LABEL=VALUE"));
}

static void routes_test_names_every_receiver_an_alert_reaches(void **state)
{
    cairn_routes_t *r = NULL;
    char err[512];
    assert_int_equal(cairn_routes_parse(s_routes_yaml, strlen(s_routes_yaml), "t.yaml", "/tmp/n",
                                        &r, err, sizeof err),
                     0);
    const char *args[] = {"env=prod", "kind=approval_requested", "change=CHG-7"};
    cairn_labels_t *l = NULL;
    assert_int_equal(cli_notify_labels(args, 3, &l, err, sizeof err), 0);
    json_t *res = cli_notify_routes_test(r, l, 0);
    assert_non_null(res);
    json_t *rcv = json_object_get(res, "receivers");
    assert_int_equal(json_array_size(rcv), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rcv, 0), "receiver")),
                        "prod");
    json_t *second = json_array_get(rcv, 1);
    assert_string_equal(json_string_value(json_object_get(second, "receiver")), "approvers");
    assert_string_equal(json_string_value(json_object_get(second, "group_wait")), "10s");
    assert_string_equal(json_string_value(json_object_get(second, "group_key")),
                        "{}/{kind=~\"approval_.*\"}:{change=\"CHG-7\"}");

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cli_notify_routes_render(f, res);
    fclose(f);
    assert_int_equal(strncmp(buf, "prod,approvers\n", 15), 0);
    assert_non_null(strstr(buf, "approvers/feed"));
    free(buf);
    json_decref(res);
    cairn_labels_destroy(&l);

    /* Nothing matches a child: the root handles it. */
    const char *other[] = {"env=dev"};
    assert_int_equal(cli_notify_labels(other, 1, &l, err, sizeof err), 0);
    res = cli_notify_routes_test(r, l, 0);
    rcv = json_object_get(res, "receivers");
    assert_int_equal(json_array_size(rcv), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(rcv, 0), "receiver")),
                        "default");
    json_decref(res);
    cairn_labels_destroy(&l);
    cairn_routes_destroy(&r);
}

static void an_end_time_is_a_duration_from_now_or_a_time(void **state)
{
    int64_t out = 0;
    assert_int_equal(cli_notify_parse_until("2h", 1000, &out), 0);
    assert_int_equal(out, 1000 + 7200000);
    assert_int_equal(cli_notify_parse_until("2026-11-25T10:00:00Z", 0, &out), 0);
    assert_int_equal(out, INT64_C(1795600800000));
    assert_int_equal(cli_notify_parse_until("soon", 0, &out), CAIRN_EINVALID);
}

static void matchers_become_silence_matchers_and_bad_ones_are_refused(void **state)
{
    const char *texts[] = {"{service=\"payments\", env!=\"dev\"}", "kind=~\"gate_.*\""};
    Cairn__V1__Matcher **m = NULL;
    size_t n = 0;
    char err[256];
    assert_int_equal(cli_notify_matchers(texts, 2, &m, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(m[1]->name, "env");
    assert_string_equal(m[1]->op, "!=");
    assert_string_equal(m[2]->op, "=~");
    assert_string_equal(m[2]->value, "gate_.*");
    cli_notify_matchers_free(m, n);
    const char *bad[] = {"kind=~\"(\""};
    assert_int_equal(cli_notify_matchers(bad, 1, &m, &n, err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "regular expression"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(labels_are_read_from_name_value_arguments),
        cmocka_unit_test(routes_test_names_every_receiver_an_alert_reaches),
        cmocka_unit_test(an_end_time_is_a_duration_from_now_or_a_time),
        cmocka_unit_test(matchers_become_silence_matchers_and_bad_ones_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
