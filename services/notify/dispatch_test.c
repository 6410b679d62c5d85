/* Tests for the dispatcher: Alertmanager's grouping timers, dedup and
 * repeat, resolution, inhibition, silences, acknowledgements, mute
 * intervals, and that all of it survives a restart. Time is passed in, so
 * every step is exact. */
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
#include "dispatch.h"

#define T0 INT64_C(1795600800000) /* 2026-11-25T10:00:00Z */
#define S INT64_C(1000)
#define M (60 * S)

static const char s_yaml[] =
    "route:\n"
    "  receiver: hook\n"
    "  group_by: [change]\n"
    "  group_wait: 10s\n"
    "  group_interval: 1m\n"
    "  repeat_interval: 1h\n"
    "  routes:\n"
    "    - matchers: ['team=\"muted\"']\n"
    "      receiver: hook\n"
    "      mute_time_intervals: [always]\n"
    "time_intervals:\n"
    "  - name: always\n"
    "    time_intervals: [{times: [{start_time: '00:00', end_time: '24:00'}]}]\n"
    "receivers:\n"
    "  - name: hook\n"
    "    webhook_configs: [{url: 'http://127.0.0.1:1/'}]\n"
    "    slack_configs: [{api_url: 'http://127.0.0.1:1/s'}]\n"
    "inhibit_rules:\n"
    "  - source_matchers: ['kind=\"gate_denied\"']\n"
    "    target_matchers: ['kind=\"approval_requested\"']\n"
    "    equal: [change]\n";

typedef struct {
    char target[64];
    uint64_t seq;
    bool repeat;
    size_t n;
    char kinds[256]; /* "kind:firing|resolved,..." */
    size_t fresh;    /* alerts new to the target */
} s_note_t;

typedef struct {
    char dir[64];
    cairn_routes_t *routes;
    cairn_notify_store_t *store;
    cairn_silences_t *silences;
    cairn_dispatch_t *d;
    s_note_t notes[64];
    size_t n_notes;
    uint64_t index;
} s_fx_t;

static int s_emit(void *arg, const cairn_integration_t *in, const cairn_notification_t *n)
{
    s_fx_t *fx = arg;
    assert_true(fx->n_notes < 64);
    s_note_t *o = &fx->notes[fx->n_notes++];
    memset(o, 0, sizeof *o);
    snprintf(o->target, sizeof o->target, "%s", in->target);
    o->seq = n->sequence;
    o->repeat = n->repeat;
    o->n = n->n_alerts;
    size_t used = 0;
    for (size_t i = 0; i < n->n_alerts; i++) {
        used += (size_t)snprintf(o->kinds + used, sizeof o->kinds - used, "%s%s:%s", i ? "," : "",
                                 cairn_labels_get(n->alerts[i].labels, "kind"),
                                 n->alerts[i].firing ? "firing" : "resolved");
        o->fresh += n->alerts[i].fresh;
    }
    return 0;
}

static void s_open(s_fx_t *fx, int64_t now)
{
    assert_int_equal(cairn_notify_store_open(fx->dir, &fx->store), 0);
    assert_int_equal(cairn_silences_new(fx->store, &fx->silences), 0);
    assert_int_equal(cairn_dispatch_new(fx->routes, fx->store, fx->silences, now, &fx->d), 0);
}

static void s_close(s_fx_t *fx)
{
    assert_int_equal(cairn_dispatch_persist(fx->d), 0);
    assert_int_equal(cairn_notify_store_commit(fx->store), 0);
    cairn_dispatch_destroy(&fx->d);
    cairn_silences_destroy(&fx->silences);
    cairn_notify_store_destroy(&fx->store);
}

static int s_setup(void **state)
{
    s_fx_t *fx = calloc(1, sizeof *fx);
    char err[512];
    snprintf(fx->dir, sizeof fx->dir, "/tmp/cairn-dispatch-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    if (cairn_routes_parse(s_yaml, strlen(s_yaml), "t", "", &fx->routes, err, sizeof err) < 0)
        fail_msg("%s", err);
    s_open(fx, T0);
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
    cairn_routes_destroy(&fx->routes);
    nftw(fx->dir, s_rm, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

/* An alert of kind for change; resolved when firing is false. */
static void s_alert(s_fx_t *fx, const char *kind, const char *change, const char *team, bool firing,
                    int64_t at)
{
    cairn_derived_t d;
    memset(&d, 0, sizeof d);
    d.labels = cairn_labels_new();
    cairn_labels_set(d.labels, "kind", kind);
    cairn_labels_set(d.labels, "change", change);
    cairn_labels_set(d.labels, "gate", "deployment");
    cairn_labels_set(d.labels, "team", team);
    d.fingerprint = cairn_derive_identity(d.labels);
    d.resolved = !firing;
    d.body = json_pack("{s:s, s:{}}", "title", kind, "line");
    assert_int_equal(cairn_dispatch_ingest(fx->d, &d, ++fx->index, at, at), 0);
    cairn_derived_clear(&d);
}

static void s_flush(s_fx_t *fx, int64_t now)
{
    assert_int_equal(cairn_dispatch_flush(fx->d, now, s_emit, fx), 0);
}

/* Notifications made for target since the last call. */
static size_t s_count(s_fx_t *fx, const char *target, size_t *from)
{
    size_t n = 0;
    for (size_t i = *from; i < fx->n_notes; i++)
        n += strcmp(fx->notes[i].target, target) == 0;
    *from = fx->n_notes;
    return n;
}

static const s_note_t *s_last(s_fx_t *fx, const char *target)
{
    for (size_t i = fx->n_notes; i-- > 0;)
        if (strcmp(fx->notes[i].target, target) == 0)
            return &fx->notes[i];
    return NULL;
}

static void a_group_waits_then_notifies_at_each_interval_only_when_changed(void **state)
{
    s_fx_t *fx = *state;
    size_t seen = 0;
    s_alert(fx, "approval_requested", "C1", "", true, T0);
    s_flush(fx, T0 + 9 * S);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 0);
    assert_int_equal(cairn_dispatch_next_due(fx->d), T0 + 10 * S);
    s_flush(fx, T0 + 10 * S);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 1);
    assert_int_equal(s_last(fx, "hook/webhook")->seq, 1);
    assert_non_null(s_last(fx, "hook/slack")); /* every integration of the receiver */
    /* A second alert of the change waits for the group's next interval. */
    s_alert(fx, "verdict", "C1", "", true, T0 + 15 * S);
    s_flush(fx, T0 + 69 * S);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 0);
    s_flush(fx, T0 + 70 * S);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 1);
    const s_note_t *n = s_last(fx, "hook/webhook");
    assert_int_equal(n->n, 2);
    assert_int_equal(n->fresh, 1);
    assert_int_equal(n->seq, 2);
    assert_string_equal(n->kinds, "approval_requested:firing,verdict:firing");
    /* Nothing changed: no notification until the repeat interval. */
    s_flush(fx, T0 + 130 * S);
    s_flush(fx, T0 + 30 * M);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 0);
    /* Another change's alert gets its own group. */
    s_alert(fx, "verdict", "C2", "", true, T0 + 31 * M);
    s_flush(fx, T0 + 31 * M + 10 * S);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 1);
    cairn_dispatch_stats_t st;
    cairn_dispatch_stats(fx->d, &st);
    assert_int_equal(st.groups, 2);
}

static void an_unchanged_group_is_repeated_after_repeat_interval_unless_acknowledged(void **state)
{
    s_fx_t *fx = *state;
    size_t seen = 0;
    s_alert(fx, "approval_requested", "C1", "", true, T0);
    s_flush(fx, T0 + 10 * S);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 1);
    for (int64_t t = T0 + 70 * S; t < T0 + 60 * M; t += M)
        s_flush(fx, t);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 0);
    s_flush(fx, T0 + 61 * M);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 1);
    assert_true(s_last(fx, "hook/webhook")->repeat);
    assert_int_equal(s_last(fx, "hook/webhook")->fresh, 0);

    /* Acknowledged: the reminders stop. */
    Cairn__V1__Acknowledgement a = CAIRN__V1__ACKNOWLEDGEMENT__INIT;
    a.id = "ack-1";
    a.change_id = "C1";
    a.acknowledged_by = "lee";
    a.created_at_ms = T0 + 62 * M;
    assert_int_equal(cairn_silences_apply_ack(fx->silences, &a, T0 + 62 * M), 0);
    for (int64_t t = T0 + 63 * M; t < T0 + 200 * M; t += M)
        s_flush(fx, t);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 0);
    /* A change to the alert is news again, acknowledged or not. */
    s_alert(fx, "approval_requested", "C1", "", true, T0 + 201 * M);
    s_flush(fx, T0 + 202 * M);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 1);
}

static void resolved_alerts_are_told_to_those_who_heard_them_fire(void **state)
{
    s_fx_t *fx = *state;
    size_t seen = 0;
    s_alert(fx, "gate_denied", "C1", "", true, T0);
    s_flush(fx, T0 + 10 * S);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 1);
    s_alert(fx, "gate_denied", "C1", "", false, T0 + 20 * S);
    size_t slack_seen = fx->n_notes;
    s_flush(fx, T0 + 70 * S);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 1);
    assert_string_equal(s_last(fx, "hook/webhook")->kinds, "gate_denied:resolved");
    /* Slack is told only about firing alerts (send_resolved: false). */
    assert_int_equal(s_count(fx, "hook/slack", &slack_seen), 0);
    cairn_dispatch_stats_t st;
    cairn_dispatch_stats(fx->d, &st);
    assert_int_equal(st.groups, 0);
    assert_int_equal(st.alerts, 0);

    /* Fired and resolved before the first flush: nobody hears of it. */
    s_alert(fx, "gate_denied", "C2", "", true, T0 + 100 * S);
    s_alert(fx, "gate_denied", "C2", "", false, T0 + 105 * S);
    s_flush(fx, T0 + 200 * S);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 0);
    cairn_dispatch_stats(fx->d, &st);
    assert_int_equal(st.groups, 0);
}

static void a_denial_inhibits_the_approval_request_of_the_same_change(void **state)
{
    s_fx_t *fx = *state;
    s_alert(fx, "approval_requested", "C1", "", true, T0);
    s_alert(fx, "gate_denied", "C1", "", true, T0);
    s_alert(fx, "approval_requested", "C2", "", true, T0);
    s_flush(fx, T0 + 10 * S);
    bool c1 = false, c2 = false;
    for (size_t i = 0; i < fx->n_notes; i++) {
        if (strcmp(fx->notes[i].target, "hook/webhook") != 0)
            continue;
        if (strstr(fx->notes[i].kinds, "gate_denied")) {
            assert_string_equal(fx->notes[i].kinds, "gate_denied:firing");
            c1 = true;
        } else {
            assert_string_equal(fx->notes[i].kinds, "approval_requested:firing");
            c2 = true;
        }
    }
    assert_true(c1 && c2);
    cairn_dispatch_stats_t st;
    cairn_dispatch_stats(fx->d, &st);
    assert_int_equal(st.inhibited, 1);
}

static void a_silence_holds_back_and_its_end_releases(void **state)
{
    s_fx_t *fx = *state;
    size_t seen = 0;
    Cairn__V1__Matcher m = CAIRN__V1__MATCHER__INIT;
    m.name = "change";
    m.op = "=~";
    m.value = "C[12]";
    Cairn__V1__Matcher *ms[] = {&m};
    Cairn__V1__Silence si = CAIRN__V1__SILENCE__INIT;
    si.id = "sil-1";
    si.matchers = ms;
    si.n_matchers = 1;
    si.starts_at_ms = T0;
    si.ends_at_ms = T0 + 30 * M;
    assert_int_equal(cairn_silences_apply_silence(fx->silences, &si, T0), 0);
    assert_int_equal(cairn_silences_next_change(fx->silences, T0 + S), T0 + 30 * M);
    s_alert(fx, "approval_requested", "C1", "", true, T0);
    s_alert(fx, "approval_requested", "C3", "", true, T0);
    for (int64_t t = T0 + 10 * S; t < T0 + 30 * M; t += M)
        s_flush(fx, t);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 1); /* C3 only */
    s_flush(fx, T0 + 31 * M);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 1); /* C1, once it ended */
    cairn_dispatch_stats_t st;
    cairn_dispatch_stats(fx->d, &st);
    assert_true(st.silenced > 0);
}

static void a_muted_route_says_nothing_inside_its_interval(void **state)
{
    s_fx_t *fx = *state;
    size_t seen = 0;
    s_alert(fx, "approval_requested", "C1", "muted", true, T0);
    for (int64_t t = T0 + 10 * S; t < T0 + 10 * M; t += M)
        s_flush(fx, t);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 0);
    cairn_dispatch_stats_t st;
    cairn_dispatch_stats(fx->d, &st);
    assert_true(st.muted > 0);
}

static void groups_timers_and_sequence_numbers_survive_a_restart(void **state)
{
    s_fx_t *fx = *state;
    size_t seen = 0;
    s_alert(fx, "approval_requested", "C1", "", true, T0);
    s_flush(fx, T0 + 10 * S);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 1);
    s_alert(fx, "verdict", "C1", "", true, T0 + 20 * S);
    s_close(fx);
    s_open(fx, T0 + 30 * S);
    /* The group is due at T0 + 70 s, as before the restart. */
    assert_int_equal(cairn_dispatch_next_due(fx->d), T0 + 70 * S);
    s_flush(fx, T0 + 70 * S);
    assert_int_equal(s_count(fx, "hook/webhook", &seen), 1);
    const s_note_t *n = s_last(fx, "hook/webhook");
    assert_int_equal(n->seq, 2);
    assert_int_equal(n->n, 2);
    assert_int_equal(n->fresh, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            a_group_waits_then_notifies_at_each_interval_only_when_changed, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(
            an_unchanged_group_is_repeated_after_repeat_interval_unless_acknowledged, s_setup,
            s_teardown),
        cmocka_unit_test_setup_teardown(resolved_alerts_are_told_to_those_who_heard_them_fire,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_denial_inhibits_the_approval_request_of_the_same_change,
                                        s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(a_silence_holds_back_and_its_end_releases, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(a_muted_route_says_nothing_inside_its_interval, s_setup,
                                        s_teardown),
        cmocka_unit_test_setup_teardown(groups_timers_and_sequence_numbers_survive_a_restart,
                                        s_setup, s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
