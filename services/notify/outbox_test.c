/* Tests for the durable outbox: one message per group at a time, in order;
 * an attempt counted before it starts; interrupted attempts found again
 * after a crash; dead letters and a disabled endpoint. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "outbox.h"

typedef struct {
    char dir[64];
    cairn_notify_store_t *store;
    cairn_outbox_t *ob;
    int interrupted;
    char last[CAIRN_OUTBOX_KEY_MAX];
} s_fx_t;

static int s_on_interrupted(void *arg, const char *key, json_t *msg)
{
    s_fx_t *fx = arg;
    fx->interrupted++;
    snprintf(fx->last, sizeof fx->last, "%s", key);
    assert_int_equal(json_integer_value(json_object_get(msg, "attempt")), 1);
    return 0;
}

static void s_open(s_fx_t *fx)
{
    assert_int_equal(cairn_notify_store_open(fx->dir, &fx->store), 0);
    assert_int_equal(cairn_outbox_open(fx->store, 1000, s_on_interrupted, fx, &fx->ob), 0);
    assert_int_equal(cairn_notify_store_commit(fx->store), 0);
}

static void s_close(s_fx_t *fx)
{
    cairn_outbox_destroy(&fx->ob);
    cairn_notify_store_destroy(&fx->store);
}

static int s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/cairn-outbox-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    s_open(fx);
    *state = fx;
    return 0;
}

static int s_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int s_teardown(void **state)
{
    s_fx_t *fx = *state;
    s_close(fx);
    nftw(fx->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static void s_add(s_fx_t *fx, const char *target, const char *gid, uint64_t seq)
{
    json_t *msg = json_pack("{s:s, s:[s]}", "type", "webhook", "parts", "{}");
    assert_int_equal(cairn_outbox_enqueue(fx->ob, target, gid, seq, msg, 1000), 0);
}

static void s_release(cairn_outbox_job_t *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(jobs[i].msg);
}

static void a_group_goes_out_in_order_one_message_at_a_time(void **state)
{
    s_fx_t *fx = *state;
    cairn_outbox_job_t jobs[8];
    s_add(fx, "team/webhook", "aaaaaaaaaaaaaaaa", 2);
    s_add(fx, "team/webhook", "aaaaaaaaaaaaaaaa", 1);
    s_add(fx, "team/webhook", "bbbbbbbbbbbbbbbb", 1);
    assert_int_equal(cairn_outbox_pending(fx->ob), 3);
    size_t n = cairn_outbox_take(fx->ob, 1000, 8, jobs, 8);
    assert_int_equal(n, 2); /* the head of each group */
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(json_integer_value(json_object_get(jobs[i].msg, "attempt")), 1);
        assert_non_null(strstr(jobs[i].key, ":000000000001"));
    }
    assert_int_equal(cairn_outbox_take(fx->ob, 1000, 8, jobs + 2, 6), 0);
    assert_int_equal(cairn_outbox_inflight(fx->ob), 2);
    assert_int_equal(cairn_outbox_delivered(fx->ob, "team/webhook:aaaaaaaaaaaaaaaa:000000000001"),
                     0);
    cairn_outbox_job_t next[8];
    assert_int_equal(cairn_outbox_take(fx->ob, 1000, 8, next, 8), 1);
    assert_string_equal(next[0].key, "team/webhook:aaaaaaaaaaaaaaaa:000000000002");
    /* Per target limit. */
    s_release(jobs, n);
    s_release(next, 1);
    assert_int_equal(cairn_outbox_pending(fx->ob), 2);
}

static void a_retry_waits_for_its_time_and_counts_the_next_attempt(void **state)
{
    s_fx_t *fx = *state;
    cairn_outbox_job_t jobs[2];
    s_add(fx, "t/webhook", "aaaaaaaaaaaaaaaa", 1);
    assert_int_equal(cairn_outbox_take(fx->ob, 1000, 8, jobs, 2), 1);
    assert_int_equal(cairn_outbox_reschedule(fx->ob, jobs[0].key, jobs[0].msg, 5000), 0);
    assert_int_equal(cairn_outbox_next_due(fx->ob, 8), 5000);
    json_decref(jobs[0].msg);
    assert_int_equal(cairn_outbox_take(fx->ob, 4999, 8, jobs, 2), 0);
    assert_int_equal(cairn_outbox_take(fx->ob, 5000, 8, jobs, 2), 1);
    assert_int_equal(json_integer_value(json_object_get(jobs[0].msg, "attempt")), 2);
    json_decref(jobs[0].msg);
}

static void an_attempt_cut_short_by_a_crash_is_found_and_made_again(void **state)
{
    s_fx_t *fx = *state;
    cairn_outbox_job_t jobs[2];
    s_add(fx, "t/webhook", "aaaaaaaaaaaaaaaa", 1);
    assert_int_equal(cairn_outbox_take(fx->ob, 1000, 8, jobs, 2), 1);
    json_decref(jobs[0].msg);
    assert_int_equal(cairn_notify_store_commit(fx->store), 0);
    s_close(fx); /* no outcome was recorded: as if the process died */
    s_open(fx);
    assert_int_equal(fx->interrupted, 1);
    assert_string_equal(fx->last, "t/webhook:aaaaaaaaaaaaaaaa:000000000001");
    assert_int_equal(cairn_outbox_take(fx->ob, 1000, 8, jobs, 2), 1);
    assert_int_equal(json_integer_value(json_object_get(jobs[0].msg, "attempt")), 2);
    json_decref(jobs[0].msg);
}

static void bodies_come_back_byte_for_byte_after_a_restart(void **state)
{
    s_fx_t *fx = *state;
    cairn_outbox_job_t jobs[2];
    const char *one = "{\"text\":\"a \\\"quoted\\\" line\\n\",\"x\":\"\u00e9\u20ac\"}";
    const char *two = "second part, plain";
    json_t *msg =
        json_pack("{s:s, s:[s,s,s], s:i}", "type", "slack", "parts", one, two, "", "part", 0);
    assert_int_equal(cairn_outbox_enqueue(fx->ob, "t/slack", "aaaaaaaaaaaaaaaa", 1, msg, 1000), 0);
    assert_int_equal(cairn_notify_store_commit(fx->store), 0);
    s_close(fx);
    s_open(fx);
    assert_int_equal(cairn_outbox_take(fx->ob, 1000, 8, jobs, 2), 1);
    json_t *parts = json_object_get(jobs[0].msg, "parts");
    assert_int_equal(json_array_size(parts), 3);
    assert_string_equal(json_string_value(json_array_get(parts, 0)), one);
    assert_string_equal(json_string_value(json_array_get(parts, 1)), two);
    assert_string_equal(json_string_value(json_array_get(parts, 2)), "");
    assert_null(json_object_get(jobs[0].msg, "part_lens"));
    assert_string_equal(json_string_value(json_object_get(jobs[0].msg, "target")), "t/slack");
    /* The next part, after a restart with the first one acknowledged. */
    json_object_set_new(jobs[0].msg, "part", json_integer(1));
    assert_int_equal(cairn_outbox_reschedule(fx->ob, jobs[0].key, jobs[0].msg, 1000), 0);
    json_decref(jobs[0].msg);
    assert_int_equal(cairn_notify_store_commit(fx->store), 0);
    s_close(fx);
    s_open(fx);
    assert_int_equal(fx->interrupted, 0);
    assert_int_equal(cairn_outbox_take(fx->ob, 1000, 8, jobs, 2), 1);
    assert_int_equal(json_integer_value(json_object_get(jobs[0].msg, "part")), 1);
    assert_int_equal(json_integer_value(json_object_get(jobs[0].msg, "attempt")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(jobs[0].msg, "parts"), 1)),
                        two);
    json_decref(jobs[0].msg);
}

static void a_message_kept_whole_as_json_is_still_read_and_resumed(void **state)
{
    s_fx_t *fx = *state;
    cairn_outbox_job_t jobs[2];
    json_t *old =
        json_pack("{s:s, s:[s], s:i, s:s, s:s, s:i, s:s, s:i, s:i}", "type", "webhook", "parts",
                  "{\"a\":1}", "part", 0, "target", "t/webhook", "group_id", "aaaaaaaaaaaaaaaa",
                  "seq", 1, "state", "inflight", "attempt", 1, "next", 1000);
    assert_int_equal(cairn_notify_store_put_json(fx->store, CAIRN_DB_OUTBOX,
                                                 "t/webhook:aaaaaaaaaaaaaaaa:000000000001", old),
                     0);
    json_decref(old);
    assert_int_equal(cairn_notify_store_commit(fx->store), 0);
    s_close(fx);
    s_open(fx);
    assert_int_equal(fx->interrupted, 1);
    assert_int_equal(cairn_outbox_take(fx->ob, 1000, 8, jobs, 2), 1);
    assert_int_equal(json_integer_value(json_object_get(jobs[0].msg, "attempt")), 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(jobs[0].msg, "parts"), 0)),
                        "{\"a\":1}");
    json_decref(jobs[0].msg);
}

static int s_count_killed(void *arg, const char *key, json_t *msg)
{
    (*(int *)arg)++;
    return 0;
}

static void dead_letters_are_kept_and_a_dead_endpoint_takes_its_queue_along(void **state)
{
    s_fx_t *fx = *state;
    cairn_outbox_job_t jobs[4];
    s_add(fx, "gone/webhook", "aaaaaaaaaaaaaaaa", 1);
    s_add(fx, "gone/webhook", "aaaaaaaaaaaaaaaa", 2);
    s_add(fx, "gone/webhook", "bbbbbbbbbbbbbbbb", 1);
    s_add(fx, "ok/webhook", "aaaaaaaaaaaaaaaa", 1);
    assert_int_equal(cairn_outbox_take(fx->ob, 1000, 1, jobs, 4), 2); /* one per target */
    const char *gone_key = strncmp(jobs[0].key, "gone/", 5) == 0 ? jobs[0].key : jobs[1].key;
    json_t *gone_msg = strncmp(jobs[0].key, "gone/", 5) == 0 ? jobs[0].msg : jobs[1].msg;
    json_object_set_new(gone_msg, "last_error", json_string("HTTP 410"));
    assert_int_equal(cairn_outbox_dead(fx->ob, gone_key, gone_msg, 2000), 0);
    int killed = 0;
    assert_int_equal(
        cairn_outbox_kill_target(fx->ob, "gone/webhook", "disabled", 2000, s_count_killed, &killed),
        0);
    assert_int_equal(killed, 2);
    assert_int_equal(cairn_outbox_pending(fx->ob), 1); /* ok/webhook, in flight */
    json_t *dead = NULL;
    assert_int_equal(cairn_outbox_dead_letters(fx->ob, 10, &dead), 0);
    assert_int_equal(json_array_size(dead), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(dead, 0), "state")),
                        "dead");
    json_decref(dead);
    s_release(jobs, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_group_goes_out_in_order_one_message_at_a_time, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(a_retry_waits_for_its_time_and_counts_the_next_attempt,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(an_attempt_cut_short_by_a_crash_is_found_and_made_again,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(bodies_come_back_byte_for_byte_after_a_restart, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(a_message_kept_whole_as_json_is_still_read_and_resumed,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            dead_letters_are_kept_and_a_dead_endpoint_takes_its_queue_along, s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
