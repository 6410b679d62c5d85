/* Tests for the verdict cache: a gate query answered from it is byte for
 * byte the answer evaluated live at the same time, and an entry answers
 * only while the policy, the change's stored state, the environment and
 * the time are those it holds for. Queries go through cairn_query_answer on
 * a real state store, as the query thread runs them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/codec.h"
#include "cairn/error.h"
#include "change.h"
#include "evaluate.h"
#include "policy_load.h"
#include "policy_slot.h"
#include "query.h"
#include "state.h"
#include "verdict_cache.h"

#define T0 1795600800000LL /* when the approval was given */
#define HOUR 3600000LL

/* Approvals last an hour; the freeze starts at T0 + 5h. */
static const char *s_policy =
    "apiVersion: cairn/v1\nkind: ReleasePolicy\nmetadata: { name: t, revision: \"1\" }\n"
    "roles:\n  dev: { users: [dana, erin] }\n"
    "approvals:\n  expiry: { low: 1h }\n"
    "  rules:\n    - { id: peer, from: [dev], count: 1 }\n"
    "separation_of_duties:\n  - { id: SOD1, role: approver, not: [author] }\n"
    "gates:\n"
    "  build:\n    evidence:\n      - { id: unit-tests, type: test_report, require: { failed: 0 } "
    "}\n"
    "  deployment: { after: [build], require: { approvals_satisfied: true } }\n"
    "windows:\n  freeze:\n"
    "    - { id: F1, from: \"2026-11-25T15:00Z\", to: \"2026-11-26T00:00Z\", env: [prod] }\n";

typedef struct {
    char dir[256];
    cairn_state_t *state;
    cairn_policy_slot_t *slot;
    cairn_verdict_cache_t *cache;
    cairn_change_t *change;
} s_fixture_t;

static cairn_policy_t *s_load(void)
{
    cairn_errlist_t errs;
    cairn_errlist_init(&errs);
    cairn_policy_t *p = NULL;
    assert_int_equal(cairn_policy_load_string("t.yaml", s_policy, strlen(s_policy), &errs, &p), 0);
    cairn_errlist_clear(&errs);
    return p;
}

static int s_setup(void **state)
{
    s_fixture_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/cairn-verdict-cache-XXXXXX");
    if (!mkdtemp(f->dir) || cairn_state_open(f->dir, &f->state) < 0)
        return -1;
    f->slot = cairn_policy_slot_new(s_load());
    f->cache = cairn_verdict_cache_new(CAIRN_VERDICT_CACHE_BYTES);
    /* CHG-1 by dana, green tests, approved by erin at T0. */
    cairn_change_t *c = cairn_change_new("CHG-1");
    cairn_change_set(&c->author, "dana");
    cairn_change_set(&c->commit_sha, "abc");
    cairn_change_set(&c->environment, "prod");
    cairn_change_evidence_t t = {
        .kind = "test_report", .index = 1, .commit_sha = "", .outcome = "success", .passed = 3};
    cairn_change_put_evidence(c, &t);
    cairn_change_approval_t a = {"erin", "dev", "abc", 2, false, T0, NULL, NULL, NULL, NULL};
    cairn_change_add_approval(c, &a);
    for (uint64_t i = 0; i < 3; i++)
        cairn_change_add_input(c, i);
    f->change = c;
    *state = f;
    return cairn_state_commit(f->state, c, 3);
}

static int s_teardown(void **state)
{
    s_fixture_t *f = *state;
    cairn_verdict_cache_destroy(&f->cache);
    cairn_state_destroy(&f->state);
    cairn_policy_slot_destroy(&f->slot);
    cairn_change_destroy(&f->change);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

typedef struct {
    uint8_t *bytes;
    size_t len;
} s_reply_t;

static s_reply_t s_ask(s_fixture_t *f, cairn_verdict_cache_t *cache, const char *env, int64_t now)
{
    Cairn__V1__GateQuery g = CAIRN__V1__GATE_QUERY__INIT;
    Cairn__V1__PolicyRequest req = CAIRN__V1__POLICY_REQUEST__INIT;
    g.change_id = "CHG-1";
    g.gate = "deployment";
    g.environment = (char *)(env ? env : "");
    req.body_case = CAIRN__V1__POLICY_REQUEST__BODY_GATE;
    req.gate = &g;
    uint8_t *buf = NULL;
    size_t len = 0;
    s_reply_t r = {NULL, 0};
    assert_int_equal(cairn_codec_pack(&req.base, &buf, &len), 0);
    assert_int_equal(cairn_query_answer(f->state, f->slot, cache, buf, len, now, &r.bytes, &r.len),
                     0);
    free(buf);
    return r;
}

static uint64_t s_hits(s_fixture_t *f)
{
    cairn_verdict_cache_stats_t st;
    cairn_verdict_cache_stats(f->cache, &st);
    return st.hits;
}

/* The cached answer at now is the live one, byte for byte. */
static void s_expect_hit(s_fixture_t *f, int64_t now)
{
    uint64_t before = s_hits(f);
    s_reply_t cached = s_ask(f, f->cache, NULL, now), live = s_ask(f, NULL, NULL, now);
    assert_int_equal(s_hits(f), before + 1);
    assert_int_equal(cached.len, live.len);
    assert_memory_equal(cached.bytes, live.bytes, live.len);
    free(cached.bytes);
    free(live.bytes);
}

static void s_expect_miss(s_fixture_t *f, int64_t now)
{
    uint64_t before = s_hits(f);
    s_reply_t r = s_ask(f, f->cache, NULL, now);
    assert_int_equal(s_hits(f), before);
    free(r.bytes);
}

static Cairn__V1__Decision s_decision(s_fixture_t *f, int64_t now)
{
    s_reply_t r = s_ask(f, f->cache, NULL, now);
    Cairn__V1__PolicyReply *reply = NULL;
    assert_int_equal(cairn_codec_policy_reply_unpack(r.bytes, r.len, &reply), 0);
    Cairn__V1__Decision d = reply->verdict->decision;
    assert_int_equal(reply->verdict->evaluated_at_ms, now);
    CAIRN_CODEC_FREE(&reply);
    free(r.bytes);
    return d;
}

static void a_cached_answer_is_the_live_answer_until_the_approval_expires(void **state)
{
    s_fixture_t *f = *state;
    /* Asked 10 minutes after the approval: evaluated, then from the cache
     * for every later time the evaluation holds for. */
    assert_int_equal(s_decision(f, T0 + 600000), CAIRN__V1__DECISION__DECISION_ALLOW);
    s_expect_hit(f, T0 + 600000);
    s_expect_hit(f, T0 + 1800000);
    s_expect_hit(f, T0 + HOUR - 1);
    /* Not before it was computed, and not once the approval expired. */
    s_expect_miss(f, T0 + 599999);
    assert_int_equal(s_decision(f, T0 + HOUR), CAIRN__V1__DECISION__DECISION_PENDING);
    /* That answer holds until the freeze begins. */
    s_expect_hit(f, T0 + 4 * HOUR);
    s_expect_miss(f, T0 + 5 * HOUR);
    assert_int_equal(s_decision(f, T0 + 5 * HOUR), CAIRN__V1__DECISION__DECISION_DENY);
    s_expect_hit(f, T0 + 5 * HOUR + 1);
}

static void a_new_state_another_environment_or_policy_is_a_miss(void **state)
{
    s_fixture_t *f = *state;
    int64_t now = T0 + 600000;
    assert_int_equal(s_decision(f, now), CAIRN__V1__DECISION__DECISION_ALLOW);
    s_expect_hit(f, now);

    /* Another environment is evaluated (and not cached). */
    uint64_t before = s_hits(f);
    s_reply_t r = s_ask(f, f->cache, "staging", now);
    assert_int_equal(s_hits(f), before);
    free(r.bytes);
    r = s_ask(f, f->cache, "prod", now); /* the change's own: cached */
    assert_int_equal(s_hits(f), before + 1);
    free(r.bytes);
    s_expect_hit(f, now);

    /* An event changed the stored state: dana approved her own change. */
    cairn_change_approval_t a = {"dana", "dev", "abc", 3, false, T0, NULL, NULL, NULL, NULL};
    assert_int_equal(cairn_change_add_approval(f->change, &a), 0);
    assert_int_equal(cairn_change_add_input(f->change, 3), 0);
    assert_int_equal(cairn_state_commit(f->state, f->change, 4), 0);
    s_expect_miss(f, now);
    s_expect_hit(f, now);

    /* A reloaded policy never matches an entry of the old one. */
    cairn_policy_slot_set(f->slot, s_load());
    s_expect_miss(f, now);
    s_expect_hit(f, now);
}

static void the_engine_s_verdicts_answer_later_queries(void **state)
{
    s_fixture_t *f = *state;
    cairn_policy_t *p = cairn_policy_slot_get(f->slot);
    /* What the engine does after an event at T0: put every verdict. */
    cairn_eval_opts_t o = {.now_ms = T0, .trigger_index = 2};
    cairn_evaluation_t e;
    assert_int_equal(cairn_evaluate_change(p, "CHG-1", f->change, &o, &e), 0);
    assert_int_equal(e.valid_until_ms, T0 + HOUR);
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_int_equal(cairn_state_pack(f->change, &bytes, &len), 0);
    cairn_cache_basis_t basis = {p, "CHG-1", bytes, len, "prod", T0, e.valid_until_ms};
    for (size_t i = 0; i < e.n; i++)
        assert_int_equal(cairn_verdict_cache_put(f->cache, &basis, i, e.verdicts[i]), 0);
    s_expect_hit(f, T0 + 1000);
    s_expect_hit(f, T0);
    s_expect_miss(f, T0 - 1);
    free(bytes);
    cairn_evaluation_clear(&e);
    cairn_policy_unref(&p);
}

static void the_oldest_entries_go_beyond_the_budget(void **state)
{
    s_fixture_t *f = *state;
    cairn_policy_t *p = cairn_policy_slot_get(f->slot);
    cairn_verdict_cache_t *small = cairn_verdict_cache_new(4096);
    Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
    v.gate = "build";
    v.evaluated_at_ms = 5;
    v.trigger_index = 9;
    char id[32];
    uint8_t state_bytes[16] = {1, 2, 3};
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof id, "CHG-%d", i);
        cairn_cache_basis_t b = {p, id, state_bytes, sizeof state_bytes, "", 0, 100};
        assert_int_equal(cairn_verdict_cache_put(small, &b, 0, &v), 0);
    }
    cairn_verdict_cache_stats_t st;
    cairn_verdict_cache_stats(small, &st);
    assert_true(st.bytes <= 4096);
    assert_true(st.entries > 1 && st.entries < 40);
    uint8_t *out = NULL;
    size_t n = 0;
    assert_int_equal(cairn_verdict_cache_reply(small, p, "CHG-0", state_bytes, sizeof state_bytes,
                                               "", 0, 50, 3, &out, &n),
                     CAIRN_ENOTFOUND);
    assert_int_equal(cairn_verdict_cache_reply(small, p, "CHG-39", state_bytes, sizeof state_bytes,
                                               "", 0, 50, 3, &out, &n),
                     0);
    /* The reply is what protobuf-c writes for the same message. */
    Cairn__V1__PolicyReply reply = CAIRN__V1__POLICY_REPLY__INIT;
    v.evaluated_at_ms = 50;
    reply.verdict = &v;
    reply.applied_index = 3;
    uint8_t *want = NULL;
    size_t wlen = 0;
    assert_int_equal(cairn_codec_pack(&reply.base, &want, &wlen), 0);
    assert_int_equal(n, wlen);
    assert_memory_equal(out, want, wlen);
    free(out);
    free(want);
    cairn_verdict_cache_destroy(&small);
    cairn_policy_unref(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_cached_answer_is_the_live_answer_until_the_approval_expires, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_new_state_another_environment_or_policy_is_a_miss,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(the_engine_s_verdicts_answer_later_queries, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(the_oldest_entries_go_beyond_the_budget, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
