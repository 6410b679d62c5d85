/* Tests for the CloudEvents parser: structured, batched and binary modes,
 * every required attribute, and the errors a sender sees. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "cloudevent.h"

/* The change-creation event the end-to-end test and the README send. */
static const char s_change_created[] =
    "{\"specversion\":\"1.0\",\"id\":\"chg-1-created\",\"source\":\"/ci/acme/payments\","
    "\"type\":\"dev.cdevents.change.created.0.4.0\",\"time\":\"2026-11-25T10:00:00Z\","
    "\"datacontenttype\":\"application/json\","
    "\"data\":{\"context\":{\"specversion\":\"0.5.0\",\"id\":\"chg-1-created\","
    "\"source\":\"/ci/acme/payments\",\"type\":\"dev.cdevents.change.created.0.4.0\","
    "\"timestamp\":\"2026-11-25T10:00:00Z\"},"
    "\"subject\":{\"id\":\"CHG-1\",\"content\":{\"repository\":{\"id\":\"acme/payments\"},"
    "\"description\":\"Add refunds\"}},"
    "\"customData\":{\"author\":\"dana\",\"committers\":[\"dana\"],"
    "\"commit\":\"0123456789abcdef0123456789abcdef01234567\",\"environment\":\"prod\","
    "\"service\":\"payments\"}}}";

static Cairn__V1__Event *s_parse_ok(const char *json)
{
    Cairn__V1__Event *ev = NULL;
    char err[512] = "";
    int rc = cairn_cloudevent_parse(json, strlen(json), &ev, err, sizeof err);
    if (rc != 0)
        fail_msg("parse failed: %s", err);
    assert_non_null(ev);
    return ev;
}

/* Parses json expecting failure with code; returns the message (static). */
static const char *s_parse_err(const char *json, int code)
{
    static char err[512];
    Cairn__V1__Event *ev = NULL;
    err[0] = '\0';
    int rc = cairn_cloudevent_parse(json, strlen(json), &ev, err, sizeof err);
    assert_int_equal(rc, code);
    assert_null(ev);
    assert_true(strlen(err) > 0);
    return err;
}

static const char *s_ext(const Cairn__V1__Event *ev, const char *key)
{
    for (size_t i = 0; i < ev->n_extensions; i++)
        if (strcmp(ev->extensions[i]->key, key) == 0)
            return ev->extensions[i]->value;
    return NULL;
}

static void a_valid_structured_event_keeps_every_attribute(void **state)
{
    (void)state;
    Cairn__V1__Event *ev = s_parse_ok(
        "{\"specversion\":\"1.0\",\"id\":\"e-1\",\"source\":\"/ci/x\",\"type\":\"com.example.t\","
        "\"subject\":\"thing\",\"time\":\"2026-11-25T10:00:00.5+01:00\","
        "\"datacontenttype\":\"application/json\",\"dataschema\":\"https://x/s.json\","
        "\"traceparent\":\"00-ab\",\"sequence\":7,\"flag\":true,"
        "\"data\": { \"a\" : [1, 2],  \"b\": \"c\" }}");
    assert_string_equal(ev->spec_version, "1.0");
    assert_string_equal(ev->id, "e-1");
    assert_string_equal(ev->source, "/ci/x");
    assert_string_equal(ev->type, "com.example.t");
    assert_string_equal(ev->subject, "thing");
    assert_string_equal(ev->time, "2026-11-25T10:00:00.5+01:00");
    assert_string_equal(ev->data_content_type, "application/json");
    assert_string_equal(ev->data_schema, "https://x/s.json");
    assert_string_equal(ev->ingest_source, "cloudevents");
    assert_int_equal(ev->data.len, strlen("{\"a\":[1,2],\"b\":\"c\"}"));
    assert_memory_equal(ev->data.data, "{\"a\":[1,2],\"b\":\"c\"}", ev->data.len);
    assert_int_equal(ev->n_extensions, 3);
    assert_string_equal(s_ext(ev, "traceparent"), "00-ab");
    assert_string_equal(s_ext(ev, "sequence"), "7");
    assert_string_equal(s_ext(ev, "flag"), "true");
    assert_non_null(ev->correlation);
    assert_non_null(ev->governance);
    assert_non_null(ev->evidence);
    assert_string_equal(ev->evidence->kind, "");
    cairn_cloudevent_free(&ev);
    assert_null(ev);
    cairn_cloudevent_free(&ev); /* NULL-safe */
}

static void each_missing_required_attribute_is_named(void **state)
{
    (void)state;
    static const char *const names[] = {"specversion", "id", "source", "type"};
    static const char *const parts[] = {"\"specversion\":\"1.0\"", "\"id\":\"e-1\"",
                                        "\"source\":\"/ci/x\"", "\"type\":\"t.x\""};
    for (size_t skip = 0; skip < 4; skip++) {
        char json[256] = "{";
        bool first = true;
        for (size_t i = 0; i < 4; i++) {
            if (i == skip)
                continue;
            if (!first)
                strcat(json, ",");
            strcat(json, parts[i]);
            first = false;
        }
        strcat(json, "}");
        char want[64];
        snprintf(want, sizeof want, "missing required attribute '%s'", names[skip]);
        assert_string_equal(s_parse_err(json, CAIRN_EINVALID), want);
    }
}

static void a_null_or_empty_or_non_string_required_attribute_is_refused(void **state)
{
    (void)state;
    assert_string_equal(
        s_parse_err("{\"specversion\":\"1.0\",\"id\":\"e\",\"source\":null,\"type\":\"t\"}",
                    CAIRN_EINVALID),
        "missing required attribute 'source'");
    assert_string_equal(
        s_parse_err("{\"specversion\":\"1.0\",\"id\":\"\",\"source\":\"/s\",\"type\":\"t\"}",
                    CAIRN_EINVALID),
        "attribute 'id' must not be empty");
    assert_string_equal(
        s_parse_err("{\"specversion\":\"1.0\",\"id\":7,\"source\":\"/s\",\"type\":\"t\"}",
                    CAIRN_EINVALID),
        "attribute 'id' must be a string, got a number");
    assert_string_equal(
        s_parse_err("{\"specversion\":\"1.0\",\"id\":\"e\",\"source\":\"/s\",\"type\":\"t\","
                    "\"subject\":[1]}",
                    CAIRN_EINVALID),
        "attribute 'subject' must be a string, got a list");
}

static void a_specversion_other_than_1_0_is_refused(void **state)
{
    (void)state;
    const char *msg = s_parse_err(
        "{\"specversion\":\"0.3\",\"id\":\"e\",\"source\":\"/s\",\"type\":\"t\"}", CAIRN_EINVALID);
    assert_non_null(strstr(msg, "unsupported specversion '0.3'"));
    assert_non_null(strstr(msg, "\"specversion\":\"1.0\""));
    msg = s_parse_err("{\"specversion\":1.0,\"id\":\"e\",\"source\":\"/s\",\"type\":\"t\"}",
                      CAIRN_EINVALID);
    assert_string_equal(msg, "attribute 'specversion' must be a string, got a number");
}

static void a_time_that_is_not_rfc3339_is_refused(void **state)
{
    (void)state;
    const char *msg = s_parse_err("{\"specversion\":\"1.0\",\"id\":\"e\",\"source\":\"/s\","
                                  "\"type\":\"t\",\"time\":\"yesterday\"}",
                                  CAIRN_EINVALID);
    assert_non_null(strstr(msg, "attribute 'time' is not an RFC 3339 timestamp: 'yesterday'"));
}

static void data_base64_is_decoded_into_data(void **state)
{
    (void)state;
    /* "hello world" */
    Cairn__V1__Event *ev = s_parse_ok(
        "{\"specversion\":\"1.0\",\"id\":\"e\",\"source\":\"/s\",\"type\":\"t\","
        "\"datacontenttype\":\"application/octet-stream\",\"data_base64\":\"aGVsbG8gd29ybGQ=\"}");
    assert_int_equal(ev->data.len, 11);
    assert_memory_equal(ev->data.data, "hello world", 11);
    cairn_cloudevent_free(&ev);

    /* JSON inside base64 is normalized: {"change":"CHG-9"} */
    ev = s_parse_ok("{\"specversion\":\"1.0\",\"id\":\"e\",\"source\":\"/s\",\"type\":\"t\","
                    "\"datacontenttype\":\"application/json\","
                    "\"data_base64\":\"eyJjaGFuZ2UiOiJDSEctOSJ9\"}");
    assert_string_equal(ev->correlation->change_id, "CHG-9");
    cairn_cloudevent_free(&ev);

    assert_string_equal(
        s_parse_err("{\"specversion\":\"1.0\",\"id\":\"e\",\"source\":\"/s\",\"type\":\"t\","
                    "\"data_base64\":\"not base64!\"}",
                    CAIRN_EINVALID),
        "attribute 'data_base64' is not valid base64 (RFC 4648)");
    assert_string_equal(
        s_parse_err("{\"specversion\":\"1.0\",\"id\":\"e\",\"source\":\"/s\",\"type\":\"t\","
                    "\"data\":{},\"data_base64\":\"aGk=\"}",
                    CAIRN_EINVALID),
        "attributes 'data' and 'data_base64' are both present; send only one");
    /* JSON inside base64 is read as strictly as the body: {"change":"A","change":"B"} */
    assert_string_equal(
        s_parse_err("{\"specversion\":\"1.0\",\"id\":\"e\",\"source\":\"/s\",\"type\":\"t\","
                    "\"datacontenttype\":\"application/json\","
                    "\"data_base64\":\"eyJjaGFuZ2UiOiJBIiwiY2hhbmdlIjoiQiJ9\"}",
                    CAIRN_EINVALID),
        "the decoded data_base64 is not valid JSON: an object has the key 'change' twice "
        "(duplicate keys are ambiguous) (datacontenttype is 'application/json')");
}

static void a_cdevents_change_created_maps_to_change_author_commit_and_environment(void **state)
{
    (void)state;
    Cairn__V1__Event *ev = s_parse_ok(s_change_created);
    assert_string_equal(ev->type, "dev.cdevents.change.created.0.4.0");
    assert_string_equal(ev->correlation->change_id, "CHG-1");
    assert_string_equal(ev->correlation->repository, "acme/payments");
    assert_string_equal(ev->correlation->commit_sha, "0123456789abcdef0123456789abcdef01234567");
    assert_string_equal(ev->correlation->environment, "prod");
    assert_string_equal(ev->correlation->service, "payments");
    assert_string_equal(ev->governance->author, "dana");
    assert_int_equal(ev->governance->n_committers, 1);
    assert_string_equal(ev->governance->committers[0], "dana");
    assert_string_equal(ev->evidence->kind, "");
    cairn_cloudevent_free(&ev);
}

static void an_approval_event_maps_approver_role_decision_and_change(void **state)
{
    (void)state;
    Cairn__V1__Event *ev =
        s_parse_ok("{\"specversion\":\"1.0\",\"id\":\"appr-1\",\"source\":\"/cairn/cli\","
                   "\"type\":\"dev.cdeventsx.cairn-approval.granted.0.1.0\","
                   "\"data\":{\"change\":\"CHG-1\",\"approver\":\"lee\",\"role\":\"tech_lead\","
                   "\"commit\":\"0123456789abcdef0123456789abcdef01234567\"}}");
    assert_string_equal(ev->governance->approver, "lee");
    assert_string_equal(ev->governance->approver_role, "tech_lead");
    assert_string_equal(ev->governance->approval_decision, "granted");
    assert_string_equal(ev->correlation->change_id, "CHG-1");
    assert_string_equal(ev->correlation->commit_sha, "0123456789abcdef0123456789abcdef01234567");
    cairn_cloudevent_free(&ev);

    ev = s_parse_ok("{\"specversion\":\"1.0\",\"id\":\"appr-2\",\"source\":\"/cairn/cli\","
                    "\"type\":\"dev.cdeventsx.cairn-approval.rejected.0.1.0\","
                    "\"data\":{\"change\":\"CHG-1\",\"approver\":\"erin\"}}");
    assert_string_equal(ev->governance->approval_decision, "rejected");
    assert_string_equal(ev->governance->approver_role, "");
    cairn_cloudevent_free(&ev);

    assert_string_equal(s_parse_err("{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/c\","
                                    "\"type\":\"dev.cdeventsx.cairn-approval.granted.0.1.0\","
                                    "\"data\":{\"change\":\"CHG-1\"}}",
                                    CAIRN_EINVALID),
                        "approval event is missing data field 'approver' (who approves)");
    assert_string_equal(s_parse_err("{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/c\","
                                    "\"type\":\"dev.cdeventsx.cairn-approval.granted.0.1.0\","
                                    "\"data\":{\"approver\":\"lee\"}}",
                                    CAIRN_EINVALID),
                        "approval event is missing data field 'change' (the change approved)");
}

static void a_test_suite_run_maps_to_test_report_evidence(void **state)
{
    (void)state;
    Cairn__V1__Event *ev =
        s_parse_ok("{\"specversion\":\"1.0\",\"id\":\"t-1\",\"source\":\"/ci/acme/payments\","
                   "\"type\":\"dev.cdevents.testsuiterun.finished.0.3.0\","
                   "\"data\":{\"context\":{\"id\":\"t-1\"},"
                   "\"subject\":{\"id\":\"suite-1\",\"content\":{\"outcome\":\"success\","
                   "\"environment\":{\"id\":\"ci\"}}},"
                   "\"customData\":{\"change\":\"CHG-1\",\"tests_passed\":120,\"tests_failed\":0,"
                   "\"tests_skipped\":\"3\",\"coverage_line_pct\":81.5,"
                   "\"findings\":{\"critical\":0,\"high\":2}}}}");
    assert_string_equal(ev->evidence->kind, "test_report");
    assert_string_equal(ev->evidence->outcome, "success");
    assert_int_equal(ev->evidence->tests_passed, 120);
    assert_int_equal(ev->evidence->tests_failed, 0);
    assert_int_equal(ev->evidence->tests_skipped, 3);
    assert_int_equal(ev->evidence->findings_high, 2);
    assert_true(ev->evidence->has_coverage);
    assert_true(ev->evidence->coverage_line_pct > 81.4 && ev->evidence->coverage_line_pct < 81.6);
    assert_string_equal(ev->correlation->change_id, "CHG-1");
    assert_string_equal(ev->correlation->environment, "ci");
    cairn_cloudevent_free(&ev);
}

static void a_test_count_that_is_not_a_count_is_refused_not_read_as_zero(void **state)
{
    (void)state;
    const char *msg = s_parse_err("{\"specversion\":\"1.0\",\"id\":\"t\",\"source\":\"/s\","
                                  "\"type\":\"dev.cdevents.testsuiterun.finished.0.3.0\","
                                  "\"data\":{\"tests_passed\":5,\"tests_failed\":\"some\"}}",
                                  CAIRN_EINVALID);
    assert_non_null(strstr(msg, "data field 'tests_failed' must be a non-negative integer"));
    msg = s_parse_err("{\"specversion\":\"1.0\",\"id\":\"t\",\"source\":\"/s\",\"type\":\"x\","
                      "\"data\":{\"tests_failed\":-1}}",
                      CAIRN_EINVALID);
    assert_non_null(strstr(msg, "'tests_failed'"));
}

static void garbage_is_malformed_json_with_line_and_column(void **state)
{
    (void)state;
    const char *msg = s_parse_err("this is not json", CAIRN_EPARSE);
    assert_non_null(strstr(msg, "the body is not valid JSON: line 1, column"));
    msg = s_parse_err("{\"specversion\":\"1.0\",\n  \"id\": oops}", CAIRN_EPARSE);
    assert_non_null(strstr(msg, "line 2, column"));
}

static void truncated_json_is_malformed_with_line_and_column(void **state)
{
    (void)state;
    size_t cut = strlen(s_change_created) / 2;
    char *half = strndup(s_change_created, cut);
    Cairn__V1__Event *ev = NULL;
    char err[512] = "";
    assert_int_equal(cairn_cloudevent_parse(half, cut, &ev, err, sizeof err), CAIRN_EPARSE);
    assert_null(ev);
    assert_non_null(strstr(err, "line 1, column"));
    free(half);
}

static void duplicate_keys_are_refused_as_ambiguous(void **state)
{
    (void)state;
    const char *msg = s_parse_err(
        "{\"specversion\":\"1.0\",\"id\":\"a\",\"id\":\"b\",\"source\":\"/s\",\"type\":\"t\"}",
        CAIRN_EPARSE);
    assert_non_null(strstr(msg, "duplicate"));
    /* A NUL would cut the attribute short for any C reader. */
    msg = s_parse_err(
        "{\"specversion\":\"1.0\",\"id\":\"a\\u0000b\",\"source\":\"/s\",\"type\":\"t\"}",
        CAIRN_EPARSE);
    assert_non_null(strstr(msg, "\\u0000"));
    /* Structured data is kept as compact JSON with its integers exact. */
    Cairn__V1__Event *ev =
        s_parse_ok("{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/s\",\"type\":\"t\","
                   "\"data\":{\"pr\":9007199254740991, \"n\": [1.5, true, null]}}");
    assert_int_equal(ev->data.len, strlen("{\"pr\":9007199254740991,\"n\":[1.5,true,null]}"));
    assert_memory_equal(ev->data.data, "{\"pr\":9007199254740991,\"n\":[1.5,true,null]}",
                        ev->data.len);
    assert_string_equal(ev->correlation->pr_number, "9007199254740991");
    cairn_cloudevent_free(&ev);
}

static void json_that_is_not_an_object_is_not_a_cloudevent(void **state)
{
    (void)state;
    assert_non_null(strstr(s_parse_err("[1,2]", CAIRN_EINVALID), "got a list"));
    assert_non_null(strstr(s_parse_err("\"x\"", CAIRN_EINVALID), "got a string"));
    assert_non_null(strstr(s_parse_err("42", CAIRN_EINVALID), "got a number"));
}

static void a_batch_yields_every_event_in_order(void **state)
{
    (void)state;
    const char *json = "[{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/s\",\"type\":\"t\"},"
                       "{\"specversion\":\"1.0\",\"id\":\"b\",\"source\":\"/s\",\"type\":\"t\"}]";
    Cairn__V1__Event **events = NULL;
    size_t n = 0;
    char err[512] = "";
    assert_int_equal(cairn_cloudevent_parse_batch(json, strlen(json), &events, &n, err, sizeof err),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(events[0]->id, "a");
    assert_string_equal(events[1]->id, "b");
    cairn_cloudevent_free_all(&events, n);
    assert_null(events);
}

static void a_bad_event_in_a_batch_is_named_by_position(void **state)
{
    (void)state;
    const char *json = "[{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"/s\",\"type\":\"t\"},"
                       "{\"specversion\":\"1.0\",\"id\":\"b\",\"type\":\"t\"}]";
    Cairn__V1__Event **events = NULL;
    size_t n = 0;
    char err[512] = "";
    assert_int_equal(cairn_cloudevent_parse_batch(json, strlen(json), &events, &n, err, sizeof err),
                     CAIRN_EINVALID);
    assert_null(events);
    assert_string_equal(err, "event 1 in the batch: missing required attribute 'source'");

    assert_int_equal(cairn_cloudevent_parse_batch("[]", 2, &events, &n, err, sizeof err),
                     CAIRN_EINVALID);
    assert_string_equal(err, "the batch holds no events; send at least one");
    assert_int_equal(cairn_cloudevent_parse_batch("{}", 2, &events, &n, err, sizeof err),
                     CAIRN_EINVALID);
    assert_int_equal(cairn_cloudevent_parse_batch("[", 1, &events, &n, err, sizeof err),
                     CAIRN_EPARSE);
}

static void binary_mode_reads_percent_encoded_ce_headers(void **state)
{
    (void)state;
    const cairn_ingest_header_t headers[] = {
        {"Host", "localhost"},
        {"ce-specversion", "1.0"},
        {"CE-ID", "bin-1"},
        {"ce-source", "/ci/acme%20payments"},
        {"ce-type", "dev.cdevents.change.created.0.4.0"},
        {"ce-subject", "CHG-7"},
        {"ce-time", "2026-11-25T10:00:00Z"},
        {"ce-TraceParent", "\"00-%C3%A9\""},
    };
    const char *body = "{\"author\":\"erin\"}";
    Cairn__V1__Event *ev = NULL;
    char err[512] = "";
    int rc = cairn_cloudevent_parse_binary(headers, 8, "application/json", body, strlen(body), &ev,
                                           err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(ev->id, "bin-1");
    assert_string_equal(ev->source, "/ci/acme payments");
    assert_string_equal(ev->subject, "CHG-7");
    assert_string_equal(ev->data_content_type, "application/json");
    assert_string_equal(s_ext(ev, "traceparent"), "00-\xc3\xa9");
    assert_int_equal(ev->data.len, strlen(body));
    assert_memory_equal(ev->data.data, body, ev->data.len);
    /* change.* without a CDEvent body: the change is the CE subject */
    assert_string_equal(ev->correlation->change_id, "CHG-7");
    assert_string_equal(ev->governance->author, "erin");
    cairn_cloudevent_free(&ev);
}

static void binary_mode_errors_name_the_header(void **state)
{
    (void)state;
    cairn_ingest_header_t headers[] = {
        {"ce-specversion", "1.0"},
        {"ce-source", "/s"},
        {"ce-type", "t"},
        {"ce-id", "x"},
    };
    Cairn__V1__Event *ev = NULL;
    char err[512] = "";
    assert_int_equal(
        cairn_cloudevent_parse_binary(headers, 3, "text/plain", "hi", 2, &ev, err, sizeof err),
        CAIRN_EINVALID);
    assert_string_equal(err, "missing required attribute 'id' (send it in the ce-id header)");

    headers[3].value = "bad%zz";
    assert_int_equal(
        cairn_cloudevent_parse_binary(headers, 4, "text/plain", "hi", 2, &ev, err, sizeof err),
        CAIRN_EPARSE);
    assert_non_null(strstr(err, "header ce-id has an invalid percent-encoding"));

    headers[3].value = "%C0%A0"; /* overlong: not UTF-8 */
    assert_int_equal(
        cairn_cloudevent_parse_binary(headers, 4, "text/plain", "hi", 2, &ev, err, sizeof err),
        CAIRN_EPARSE);
    assert_non_null(strstr(err, "not valid UTF-8"));

    headers[3].value = "ok";
    assert_int_equal(cairn_cloudevent_parse_binary(headers, 4, "application/json", "{x", 2, &ev,
                                                   err, sizeof err),
                     CAIRN_EPARSE);
    assert_non_null(strstr(err, "line 1, column"));
    assert_null(ev);
}

static void json_media_types_are_recognized(void **state)
{
    (void)state;
    assert_true(cairn_cloudevent_is_json_type("application/json"));
    assert_true(cairn_cloudevent_is_json_type("Application/JSON; charset=utf-8"));
    assert_true(cairn_cloudevent_is_json_type("application/cdevents+json"));
    assert_true(cairn_cloudevent_is_json_type("text/json"));
    assert_false(cairn_cloudevent_is_json_type("text/plain"));
    assert_false(cairn_cloudevent_is_json_type("application/jsonx"));
    assert_false(cairn_cloudevent_is_json_type(""));
    assert_false(cairn_cloudevent_is_json_type(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_valid_structured_event_keeps_every_attribute),
        cmocka_unit_test(each_missing_required_attribute_is_named),
        cmocka_unit_test(a_null_or_empty_or_non_string_required_attribute_is_refused),
        cmocka_unit_test(a_specversion_other_than_1_0_is_refused),
        cmocka_unit_test(a_time_that_is_not_rfc3339_is_refused),
        cmocka_unit_test(data_base64_is_decoded_into_data),
        cmocka_unit_test(a_cdevents_change_created_maps_to_change_author_commit_and_environment),
        cmocka_unit_test(an_approval_event_maps_approver_role_decision_and_change),
        cmocka_unit_test(a_test_suite_run_maps_to_test_report_evidence),
        cmocka_unit_test(a_test_count_that_is_not_a_count_is_refused_not_read_as_zero),
        cmocka_unit_test(garbage_is_malformed_json_with_line_and_column),
        cmocka_unit_test(truncated_json_is_malformed_with_line_and_column),
        cmocka_unit_test(duplicate_keys_are_refused_as_ambiguous),
        cmocka_unit_test(json_that_is_not_an_object_is_not_a_cloudevent),
        cmocka_unit_test(a_batch_yields_every_event_in_order),
        cmocka_unit_test(a_bad_event_in_a_batch_is_named_by_position),
        cmocka_unit_test(binary_mode_reads_percent_encoded_ce_headers),
        cmocka_unit_test(binary_mode_errors_name_the_header),
        cmocka_unit_test(json_media_types_are_recognized),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
