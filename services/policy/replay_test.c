/* Tests for policy replay over a real ledger: cairn-ledger holds four
 * changes' events and the verdicts the policy engine (in-process, built-in
 * policy) recorded for them. Replaying the same policy changes nothing; a
 * stricter one lists exactly the change it would block, every verdict that
 * would change, and the same report every time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "cairn/log.h"
#include "cairn/util.h"
#include "engine.h"
#include "ledger_proc.h"
#include "policy_load.h"
#include "replay.h"

#define S_SHA "4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"

static tl_ledger_t s_ledger;

/* Appends a CloudEvent, one second after the previous one. */
#define S_EVENT(...) assert_int_equal(tl_append_eventf(&s_ledger, NULL, __VA_ARGS__), 0)

static void s_created(const char *change)
{
    S_EVENT("{\"specversion\":\"1.0\",\"id\":\"%s-created\",\"source\":\"/ci\","
            "\"type\":\"dev.cdevents.change.created.0.4.0\",\"data\":{\"context\":{},"
            "\"subject\":{\"id\":\"%s\",\"content\":{}},\"customData\":{\"author\":\"dana\","
            "\"committers\":[\"dana\"],\"commit\":\"" S_SHA "\",\"environment\":\"prod\"}}}",
            change, change);
}

static void s_tests(const char *change)
{
    S_EVENT("{\"specversion\":\"1.0\",\"id\":\"%s-tests\",\"source\":\"/ci\","
            "\"type\":\"dev.cdevents.testsuiterun.finished.0.3.0\",\"data\":{\"context\":{},"
            "\"subject\":{\"id\":\"unit\",\"content\":{\"outcome\":\"success\"}},"
            "\"customData\":{\"change\":\"%s\",\"commit\":\"" S_SHA "\",\"tests_passed\":12,"
            "\"tests_failed\":0}}}",
            change, change);
}

static void s_approve(const char *change, const char *who, const char *role)
{
    S_EVENT("{\"specversion\":\"1.0\",\"id\":\"%s-approved-by-%s\",\"source\":\"/cairn/cli\","
            "\"type\":\"dev.cdeventsx.cairn-approval.granted.0.1.0\",\"data\":{\"change\":\"%s\","
            "\"approver\":\"%s\",\"role\":\"%s\",\"commit\":\"" S_SHA "\"}}",
            change, who, change, who, role);
}

static int s_setup(void **state)
{
    cairn_log_init("policy-test", "warn");
    if (tl_ledger_start(&s_ledger, "cairn-replay") < 0)
        return -1;
    s_created("CHG-1");
    s_tests("CHG-1");
    s_approve("CHG-1", "lee", "tech_lead");
    s_created("CHG-2");
    s_tests("CHG-2");
    s_approve("CHG-2", "erin", "dev");
    s_approve("CHG-2", "lee", "tech_lead");
    s_created("CHG-3");
    s_tests("CHG-3");
    s_approve("CHG-3", "dana", "dev");
    s_created("CHG-4");
    s_tests("CHG-4");

    cairn_config_t *cfg = tl_policy_config(&s_ledger, NULL);
    cairn_policy_engine_t *engine = NULL;
    if (!cfg || cairn_policy_engine_new(cfg, &engine) < 0)
        return -1;
    assert_int_equal(tl_engine_settle(&s_ledger, engine), 0);
    cairn_policy_engine_destroy(&engine);
    cairn_config_destroy(&cfg);
    return 0;
}

static int s_teardown(void **state)
{
    tl_ledger_stop(&s_ledger);
    return 0;
}

/* The built-in policy with `count: 2` for peer and an extra gate. */
static cairn_policy_t *s_stricter(void)
{
    const char *base = cairn_policy_default_yaml();
    char text[8192];
    const char *at = strstr(base, "count: 1");
    assert_non_null(at);
    snprintf(text, sizeof text, "%.*scount: 2%s", (int)(at - base), base, at + strlen("count: 1"));
    strcat(text, "  release:\n    after: [deployment]\n");
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = NULL;
    int rc = cairn_policy_load_string("stricter.yaml", text, strlen(text), &errs, &p);
    for (size_t i = 0; i < errs.count; i++)
        print_message("%s\n", errs.items[i]);
    cairn_errlist_clear(&errs);
    assert_int_equal(rc, 0);
    return p;
}

static cairn_replay_t *s_replay(cairn_policy_t *p, int64_t since)
{
    cairn_replay_t *r = cairn_replay_new(p, since);
    assert_non_null(r);
    assert_int_equal(cairn_replay_run(r, s_ledger.link), 0);
    return r;
}

static void the_recorded_policy_replays_without_a_change(void **state)
{
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = NULL;
    assert_int_equal(cairn_policy_load_default(&errs, &p), 0);
    cairn_replay_t *r = s_replay(p, 0);
    const cairn_replay_stats_t *st = cairn_replay_stats(r);

    Cairn__V1__Entry **entries = NULL;
    size_t n = 0;
    assert_int_equal(tl_entries(&s_ledger, 0, &entries, &n), 0);
    size_t verdicts = tl_count_topic(entries, n, "verdict.build") +
                      tl_count_topic(entries, n, "verdict.deployment");
    assert_int_equal(st->entries, n);
    assert_int_equal(st->events, 12);
    assert_int_equal(st->changes, 4);
    assert_int_equal(st->evaluated, 12);
    assert_int_equal(verdicts, 24);
    assert_int_equal(st->compared, verdicts);
    assert_int_equal(st->changed, 0);
    assert_int_equal(st->unmatched, 0);
    assert_int_equal(st->unrecorded, 0);
    tl_entries_free(&entries, n);
    cairn_replay_destroy(&r);
    cairn_policy_unref(&p);
    cairn_errlist_clear(&errs);
}

static void a_stricter_policy_lists_the_changes_it_would_block(void **state)
{
    cairn_policy_t *p = s_stricter();
    cairn_replay_t *r = s_replay(p, 0);
    const char **blocked = NULL, **allowed = NULL;
    size_t nb = cairn_replay_changes(r, true, &blocked);
    size_t na = cairn_replay_changes(r, false, &allowed);
    /* CHG-1 had one approval: now short of two. CHG-2 got its second one
     * later, CHG-3 and CHG-4 were never allowed. */
    assert_int_equal(nb, 1);
    assert_string_equal(blocked[0], "CHG-1");
    assert_int_equal(na, 0);
    free(blocked);
    free(allowed);

    /* Every verdict that changes: CHG-1 after lee's approval, and CHG-2
     * between erin's and lee's. */
    size_t n = 0;
    const cairn_replay_diff_t *d = cairn_replay_diffs(r, &n);
    assert_int_equal(n, 2);
    assert_string_equal(d[0].change, "CHG-1");
    assert_string_equal(d[1].change, "CHG-2");
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(d[i].gate, "deployment");
        assert_int_equal(d[i].old_decision, CAIRN__V1__DECISION__DECISION_ALLOW);
        assert_int_equal(d[i].new_decision, CAIRN__V1__DECISION__DECISION_PENDING);
        assert_true(d[i].recorded_index > d[i].trigger_index);
        assert_int_equal(d[i].n_new_rules, 1);
        assert_string_equal(d[i].new_rules[0].rule, "peer");
        assert_string_equal(d[i].new_rules[0].result, "missing");
        assert_int_equal(d[i].n_old_rules, 0);
        assert_string_equal(d[i].old_policy, "default builtin-1");
    }
    const cairn_replay_stats_t *st = cairn_replay_stats(r);
    assert_int_equal(st->changed, 2);
    assert_int_equal(st->unrecorded, 12); /* the new gate, once per event */
    json_t *j = cairn_replay_json(r);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "unrecorded"), "release")), 12);
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "would_block"), 0)),
                        "CHG-1");
    json_decref(j);
    cairn_replay_destroy(&r);
    cairn_policy_unref(&p);
}

static char *s_text(const cairn_replay_t *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cairn_replay_render(r, f);
    fclose(f);
    return text;
}

static void replaying_twice_gives_the_same_report(void **state)
{
    cairn_policy_t *p = s_stricter();
    cairn_replay_t *a = s_replay(p, 0), *b = s_replay(p, 0);
    char *ta = s_text(a), *tb = s_text(b);
    print_message("%s", ta);
    assert_string_equal(ta, tb);
    assert_non_null(strstr(ta, "2 of 24 recorded verdicts would change\n"));
    assert_non_null(strstr(ta, "allow -> pending"));
    assert_non_null(strstr(ta, "changes it would block: CHG-1\n"));
    json_t *ja = cairn_replay_json(a), *jb = cairn_replay_json(b);
    char *sa = json_dumps(ja, JSON_SORT_KEYS), *sb = json_dumps(jb, JSON_SORT_KEYS);
    assert_string_equal(sa, sb);
    free(sa);
    free(sb);
    json_decref(ja);
    json_decref(jb);
    free(ta);
    free(tb);
    cairn_replay_destroy(&a);
    cairn_replay_destroy(&b);
    cairn_policy_unref(&p);
}

static void since_limits_the_comparison_not_the_facts(void **state)
{
    cairn_policy_t *p = s_stricter();
    /* After everything: nothing is compared, every event is still folded in. */
    cairn_replay_t *r = s_replay(p, cairn_now_ms() + 3600 * 1000);
    const cairn_replay_stats_t *st = cairn_replay_stats(r);
    assert_int_equal(st->events, 12);
    assert_int_equal(st->evaluated, 0);
    assert_int_equal(st->compared, 0);
    assert_int_equal(st->changed, 0);
    cairn_replay_destroy(&r);
    cairn_policy_unref(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_recorded_policy_replays_without_a_change),
        cmocka_unit_test(a_stricter_policy_lists_the_changes_it_would_block),
        cmocka_unit_test(replaying_twice_gives_the_same_report),
        cmocka_unit_test(since_limits_the_comparison_not_the_facts),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
