/* Tests for the --json rendering of protobuf messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/codec.h"
#include "pbjson.h"

static void a_verdict_renders_every_field_with_readable_enums(void **state)
{
    (void)state;
    Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
    Cairn__V1__Reason r = CAIRN__V1__REASON__INIT;
    Cairn__V1__Reason *reasons[] = {&r};
    uint64_t inputs[] = {3, 5};
    v.change_id = "CHG-1";
    v.gate = "deployment";
    v.decision = CAIRN__V1__DECISION__DECISION_DENY;
    r.rule_id = "SOD1";
    r.result = "fail";
    v.reasons = reasons;
    v.n_reasons = 1;
    v.input_indexes = inputs;
    v.n_input_indexes = 2;
    v.evaluated_at_ms = 1764064800000;

    json_t *j = cli_pb_to_json(&v.base);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "decision")), "deny");
    assert_string_equal(json_string_value(json_object_get(j, "gate")), "deployment");
    /* Unset fields are present with their default values. */
    assert_string_equal(json_string_value(json_object_get(j, "risk")), "");
    assert_true(json_is_array(json_object_get(j, "obligations")));
    json_t *reason = json_array_get(json_object_get(j, "reasons"), 0);
    assert_string_equal(json_string_value(json_object_get(reason, "rule_id")), "SOD1");
    json_t *idx = json_object_get(j, "input_indexes");
    assert_int_equal(json_array_size(idx), 2);
    assert_int_equal(json_integer_value(json_array_get(idx, 1)), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "evaluated_at_ms")), 1764064800000);
    json_decref(j);
}

static void maps_become_objects(void **state)
{
    (void)state;
    Cairn__V1__Alert a = CAIRN__V1__ALERT__INIT;
    Cairn__V1__Alert__LabelsEntry e1 = CAIRN__V1__ALERT__LABELS_ENTRY__INIT;
    Cairn__V1__Alert__LabelsEntry *labels[] = {&e1};
    e1.key = "env";
    e1.value = "prod";
    a.labels = labels;
    a.n_labels = 1;
    a.kind = "gate_denied";
    json_t *j = cli_pb_to_json(&a.base);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "labels"), "env")),
                        "prod");
    json_decref(j);
}

static void only_the_set_member_of_a_oneof_appears(void **state)
{
    (void)state;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    Cairn__V1__Alert a = CAIRN__V1__ALERT__INIT;
    a.kind = "drift";
    rec.body_case = CAIRN__V1__RECORD__BODY_ALERT;
    rec.alert = &a;
    json_t *j = cli_pb_to_json(&rec.base);
    assert_int_equal(json_object_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "alert"), "kind")),
                        "drift");
    json_decref(j);
}

static void event_data_is_embedded_as_json_when_it_is_json(void **state)
{
    (void)state;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    const char *data = "{\"change\":\"CHG-1\"}";
    ev.data.data = (uint8_t *)data;
    ev.data.len = strlen(data);
    json_t *j = cli_pb_to_json(&ev.base);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "data"), "change")),
                        "CHG-1");
    assert_null(json_object_get(j, "data_base64"));
    /* Sub-messages that are not set are null. */
    assert_true(json_is_null(json_object_get(j, "governance")));
    json_decref(j);

    uint8_t bin[] = {0xff, 0x00, 0x01};
    ev.data.data = bin;
    ev.data.len = sizeof bin;
    j = cli_pb_to_json(&ev.base);
    assert_null(json_object_get(j, "data"));
    assert_string_equal(json_string_value(json_object_get(j, "data_base64")), "/wAB");
    json_decref(j);
}

static void strings_that_are_not_utf8_still_render(void **state)
{
    (void)state;
    Cairn__V1__Reason r = CAIRN__V1__REASON__INIT;
    char bad[] = {'a', (char)0xff, 'b', 0};
    r.message = bad;
    json_t *j = cli_pb_to_json(&r.base);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "message")), "a?b");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_verdict_renders_every_field_with_readable_enums),
        cmocka_unit_test(maps_become_objects),
        cmocka_unit_test(only_the_set_member_of_a_oneof_appears),
        cmocka_unit_test(event_data_is_embedded_as_json_when_it_is_json),
        cmocka_unit_test(strings_that_are_not_utf8_still_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
