/* Tests for how `cairn submit` reports ingest's answer and which exit code
 * each HTTP status gives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "commands.h"

typedef struct {
    char *out; /* what went to stdout */
    char *err; /* what went to stderr */
    int code;  /* exit code */
} s_result_t;

static s_result_t s_render_hint(uint32_t status, const char *body, bool json, const char *hint)
{
    s_result_t r = {NULL, NULL, -1};
    size_t ol = 0, el = 0;
    FILE *out = open_memstream(&r.out, &ol);
    FILE *err = open_memstream(&r.err, &el);
    Cairn__V1__SubmitReply reply = CAIRN__V1__SUBMIT_REPLY__INIT;
    reply.http_status = status;
    reply.body = (char *)body;
    r.code = cli_submit_render(out, err, &reply, json, hint);
    fclose(out);
    fclose(err);
    return r;
}

static s_result_t s_render(uint32_t status, const char *body, bool json)
{
    return s_render_hint(status, body, json, NULL);
}

static void s_free(s_result_t *r)
{
    free(r->out);
    free(r->err);
}

static void an_accepted_event_names_its_change_and_index(void **state)
{
    (void)state;
    s_result_t r = s_render(
        202, "{\"accepted\":[{\"id\":\"chg-1-created\",\"index\":7,\"change\":\"CHG-1\"}]}", false);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "accepted CHG-1 index 7 (event chg-1-created)\n");
    assert_string_equal(r.err, "");
    s_free(&r);

    r = s_render(202, "{\"accepted\":[{\"id\":\"e9\",\"index\":12}]}", false);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "accepted event e9 index 12\n");
    s_free(&r);

    /* `cairn approve` knows the change it approved. */
    r = s_render_hint(202, "{\"accepted\":[{\"id\":\"e9\",\"index\":12}]}", false, "CHG-1");
    assert_string_equal(r.out, "accepted CHG-1 index 12 (event e9)\n");
    s_free(&r);
}

static void a_batch_lists_every_event_and_marks_redeliveries(void **state)
{
    (void)state;
    s_result_t r = s_render(202,
                            "{\"accepted\":[{\"id\":\"a\",\"index\":3},"
                            "{\"id\":\"b\",\"index\":1,\"duplicate\":true}]}",
                            false);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "accepted event a index 3\n"
                               "duplicate event b already recorded at index 1\n");
    s_free(&r);

    r = s_render(200, "{\"duplicate\":true,\"accepted\":[{\"id\":\"a\",\"index\":3}]}", false);
    assert_string_equal(r.out, "duplicate event a already recorded at index 3\n");
    s_free(&r);
}

static void a_redelivery_is_reported_as_duplicate_and_succeeds(void **state)
{
    (void)state;
    s_result_t r = s_render(200, "{\"duplicate\":true,\"id\":\"e9\",\"index\":12}", false);
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "duplicate event e9 already recorded at index 12\n");
    s_free(&r);
}

static void a_rejection_prints_the_error_on_stderr_and_exits_1(void **state)
{
    (void)state;
    s_result_t r = s_render(422, "{\"error\":\"type 'x' is not a known event\"}", false);
    assert_int_equal(r.code, 1);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "rejected (HTTP 422): type 'x' is not a known event"));
    s_free(&r);

    r = s_render(400, "not json at all", false);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err, "not json at all"));
    s_free(&r);
}

static void unavailable_is_retryable_and_exits_3(void **state)
{
    (void)state;
    s_result_t r = s_render(503, "{\"error\":\"ledger unavailable\"}", false);
    assert_int_equal(r.code, 3);
    assert_non_null(strstr(r.err, "ledger unavailable"));
    assert_non_null(strstr(r.err, "again"));
    s_free(&r);
}

static void json_output_is_the_reply_body_with_the_status(void **state)
{
    (void)state;
    s_result_t r = s_render(202, "{\"accepted\":[{\"id\":\"a\",\"index\":1}]}", true);
    assert_int_equal(r.code, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "http_status")), 202);
    assert_int_equal(json_array_size(json_object_get(j, "accepted")), 1);
    json_decref(j);
    s_free(&r);

    r = s_render(400, "plain", true);
    assert_int_equal(r.code, 1);
    j = json_loads(r.out, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "body")), "plain");
    json_decref(j);
    s_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_accepted_event_names_its_change_and_index),
        cmocka_unit_test(a_redelivery_is_reported_as_duplicate_and_succeeds),
        cmocka_unit_test(a_batch_lists_every_event_and_marks_redeliveries),
        cmocka_unit_test(a_rejection_prints_the_error_on_stderr_and_exits_1),
        cmocka_unit_test(unavailable_is_retryable_and_exits_3),
        cmocka_unit_test(json_output_is_the_reply_body_with_the_status),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
