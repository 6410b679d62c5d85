/* Tests for the file receiver: the JSON line for a verdict and for an alert,
 * and the durable append. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/error.h"
#include "cairn/util.h"
#include "file_receiver.h"

/* 2026-11-25T10:00:03.250Z */
#define S_EVALUATED_MS INT64_C(1795600803250)

static json_t *s_parse(const char *line)
{
    json_error_t err;
    json_t *root = json_loads(line, 0, &err);
    if (!root)
        fail_msg("line is not JSON: %s (%s)", err.text, line);
    return root;
}

static const char *s_get_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void verdict_line_names_decision_headline_reason_and_time(void **state)
{
    Cairn__V1__Reason peer = CAIRN__V1__REASON__INIT;
    peer.rule_id = "peer";
    peer.result = "missing";
    peer.message = "needs 1 approval from dev or tech_lead";
    Cairn__V1__Reason sod = CAIRN__V1__REASON__INIT;
    sod.rule_id = "SOD1";
    sod.result = "fail";
    sod.message = "dana is the author of CHG-1 and cannot approve it";
    Cairn__V1__Reason *reasons[] = {&peer, &sod};
    Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
    v.change_id = "CHG-1";
    v.gate = "deployment";
    v.decision = CAIRN__V1__DECISION__DECISION_DENY;
    v.reasons = reasons;
    v.n_reasons = 2;
    v.evaluated_at_ms = S_EVALUATED_MS;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_VERDICT;
    rec.verdict = &v;
    Cairn__V1__Entry entry = CAIRN__V1__ENTRY__INIT;
    entry.index = 7;
    entry.topic = "verdict.deployment";
    entry.change_id = "CHG-1";

    char *line = NULL;
    assert_int_equal(cairn_file_receiver_format(&entry, &rec, &line), 0);
    assert_null(strchr(line, '\n'));
    json_t *root = s_parse(line);
    assert_int_equal(json_integer_value(json_object_get(root, "index")), 7);
    assert_string_equal(s_get_str(root, "topic"), "verdict.deployment");
    assert_string_equal(s_get_str(root, "change"), "CHG-1");
    assert_string_equal(s_get_str(root, "kind"), "verdict");
    assert_string_equal(s_get_str(root, "gate"), "deployment");
    assert_string_equal(s_get_str(root, "decision"), "deny");
    assert_string_equal(s_get_str(root, "summary"),
                        "CHG-1 deployment: deny \xe2\x80\x94 SOD1: dana is the author of CHG-1 "
                        "and cannot approve it");
    json_t *rs = json_object_get(root, "reasons");
    assert_true(json_is_array(rs));
    assert_int_equal(json_array_size(rs), 2);
    assert_string_equal(s_get_str(json_array_get(rs, 0), "rule_id"), "peer");
    assert_string_equal(s_get_str(json_array_get(rs, 1), "rule_id"), "SOD1");
    assert_string_equal(s_get_str(json_array_get(rs, 1), "result"), "fail");
    assert_string_equal(s_get_str(json_array_get(rs, 1), "message"), sod.message);
    assert_string_equal(s_get_str(root, "time"), "2026-11-25T10:00:03.250Z");
    assert_null(json_object_get(root, "severity"));
    /* Keys keep a stable order so the file reads the same every time. */
    assert_non_null(
        strstr(line, "{\"index\":7,\"topic\":\"verdict.deployment\",\"change\":\"CHG-1\""));
    json_decref(root);
    free(line);
}

static void allowed_verdict_summary_has_no_reason_and_falls_back_to_entry_time(void **state)
{
    Cairn__V1__Reason ignored = CAIRN__V1__REASON__INIT;
    ignored.rule_id = "SOD1";
    ignored.result = "void";
    ignored.message = "dana is the author of CHG-1 and cannot approve it";
    Cairn__V1__Reason *reasons[] = {&ignored};
    Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
    v.change_id = "CHG-1";
    v.gate = "deployment";
    v.decision = CAIRN__V1__DECISION__DECISION_ALLOW;
    v.reasons = reasons;
    v.n_reasons = 1;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_VERDICT;
    rec.verdict = &v;
    Cairn__V1__Entry entry = CAIRN__V1__ENTRY__INIT;
    entry.index = 9;
    entry.topic = "verdict.deployment";
    entry.appended_at_ms = S_EVALUATED_MS;

    char *line = NULL;
    assert_int_equal(cairn_file_receiver_format(&entry, &rec, &line), 0);
    json_t *root = s_parse(line);
    assert_string_equal(s_get_str(root, "summary"), "CHG-1 deployment: allow");
    assert_string_equal(s_get_str(root, "time"), "2026-11-25T10:00:03.250Z");
    assert_int_equal(json_array_size(json_object_get(root, "reasons")), 1);
    json_decref(root);
    free(line);
}

static void alert_line_names_kind_severity_and_labels(void **state)
{
    Cairn__V1__Alert__LabelsEntry env = CAIRN__V1__ALERT__LABELS_ENTRY__INIT;
    env.key = "environment";
    env.value = "prod";
    Cairn__V1__Alert__LabelsEntry *labels[] = {&env};
    Cairn__V1__Alert a = CAIRN__V1__ALERT__INIT;
    a.id = "alert-1";
    a.kind = "gate_denied";
    a.severity = "high";
    a.change_id = "CHG-1";
    a.summary = "deployment of CHG-1 to prod was denied";
    a.labels = labels;
    a.n_labels = 1;
    a.created_at_ms = S_EVALUATED_MS;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_ALERT;
    rec.alert = &a;
    Cairn__V1__Entry entry = CAIRN__V1__ENTRY__INIT;
    entry.index = 8;
    entry.topic = "alert.gate_denied";
    entry.change_id = "CHG-1";

    char *line = NULL;
    assert_int_equal(cairn_file_receiver_format(&entry, &rec, &line), 0);
    json_t *root = s_parse(line);
    assert_int_equal(json_integer_value(json_object_get(root, "index")), 8);
    assert_string_equal(s_get_str(root, "topic"), "alert.gate_denied");
    assert_string_equal(s_get_str(root, "change"), "CHG-1");
    assert_string_equal(s_get_str(root, "kind"), "alert");
    assert_string_equal(s_get_str(root, "alert"), "gate_denied");
    assert_string_equal(s_get_str(root, "severity"), "high");
    assert_string_equal(
        s_get_str(root, "summary"),
        "CHG-1 gate_denied: high \xe2\x80\x94 deployment of CHG-1 to prod was denied");
    assert_true(json_is_array(json_object_get(root, "reasons")));
    assert_int_equal(json_array_size(json_object_get(root, "reasons")), 0);
    assert_string_equal(s_get_str(json_object_get(root, "labels"), "environment"), "prod");
    assert_string_equal(s_get_str(root, "time"), "2026-11-25T10:00:03.250Z");
    assert_null(json_object_get(root, "decision"));
    json_decref(root);
    free(line);
}

static void text_that_is_not_utf8_still_gives_valid_json(void **state)
{
    Cairn__V1__Alert a = CAIRN__V1__ALERT__INIT;
    a.kind = "drift";
    a.severity = "warning";
    a.change_id = "CHG-\xff";
    a.summary = "bad \xc3\x28 bytes";
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_ALERT;
    rec.alert = &a;
    Cairn__V1__Entry entry = CAIRN__V1__ENTRY__INIT;
    entry.index = 1;
    entry.topic = "alert.drift";

    char *line = NULL;
    assert_int_equal(cairn_file_receiver_format(&entry, &rec, &line), 0);
    json_t *root = s_parse(line);
    assert_string_equal(s_get_str(root, "change"), "CHG-?");
    assert_string_equal(s_get_str(root, "summary"),
                        "CHG-? drift: warning \xe2\x80\x94 bad ?( bytes");
    assert_true(json_is_null(json_object_get(root, "time")));
    json_decref(root);
    free(line);
}

static void records_other_than_verdicts_and_alerts_are_refused(void **state)
{
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    ev.type = "dev.cdevents.change.created.0.4.0";
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    Cairn__V1__Entry entry = CAIRN__V1__ENTRY__INIT;
    char *line = NULL;
    assert_int_equal(cairn_file_receiver_format(&entry, &rec, &line), CAIRN_EINVALID);
    assert_null(line);
}

static void written_lines_are_appended_each_with_a_newline(void **state)
{
    char dir[] = "/tmp/cairn-notify-file-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/sub/notifications.jsonl", dir);

    cairn_file_receiver_t *rx = NULL;
    assert_int_equal(cairn_file_receiver_open(path, &rx), 0);
    assert_int_equal(cairn_file_receiver_write(rx, "{\"index\":1}"), 0);
    cairn_file_receiver_destroy(&rx);
    assert_null(rx);
    /* Reopening appends rather than truncating. */
    assert_int_equal(cairn_file_receiver_open(path, &rx), 0);
    assert_int_equal(cairn_file_receiver_write(rx, "{\"index\":2}"), 0);
    cairn_file_receiver_destroy(&rx);

    char *text = NULL;
    size_t len = 0;
    assert_int_equal(cairn_read_file(path, 4096, &text, &len), 0);
    assert_string_equal(text, "{\"index\":1}\n{\"index\":2}\n");
    free(text);

    unlink(path);
    snprintf(path, sizeof(path), "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verdict_line_names_decision_headline_reason_and_time),
        cmocka_unit_test(allowed_verdict_summary_has_no_reason_and_falls_back_to_entry_time),
        cmocka_unit_test(alert_line_names_kind_severity_and_labels),
        cmocka_unit_test(text_that_is_not_utf8_still_gives_valid_json),
        cmocka_unit_test(records_other_than_verdicts_and_alerts_are_refused),
        cmocka_unit_test(written_lines_are_appended_each_with_a_newline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
