/* Tests for `cairn trail`: the one-line summaries of each kind of record and
 * the JSON listing, on ledger entries built here; and `cairn trail` and
 * `cairn status` finding a change by its other keys, run as commands
 * against the real cairn-ledger and cairn-policy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "commands.h"
#include "ledger_proc.h"

#define S_SHA "0123456789abcdef0123456789abcdef01234567"

/* An entry holding rec packed, as the ledger stores it. */
static Cairn__V1__Entry *s_entry(uint64_t index, const char *topic, Cairn__V1__Record *rec)
{
    Cairn__V1__Entry *e = calloc(1, sizeof *e);
    cairn__v1__entry__init(e);
    e->index = index;
    e->topic = (char *)topic;
    e->change_id = "CHG-1";
    e->appended_at_ms = 1764064800000 + (int64_t)index;
    if (rec) {
        assert_int_equal(cairn_codec_pack(&rec->base, &e->record.data, &e->record.len), 0);
    } else {
        e->record.data = malloc(3);
        memcpy(e->record.data, "\xff\xff\xff", 3);
        e->record.len = 3;
    }
    static uint8_t hash[32] = {0xab, 0xcd};
    e->hash.data = hash;
    e->hash.len = sizeof hash;
    return e;
}

static void s_entry_free(Cairn__V1__Entry *e)
{
    free(e->record.data);
    free(e);
}

static void s_summary(Cairn__V1__Entry *e, char *buf, size_t len)
{
    Cairn__V1__Record *rec = NULL;
    if (cairn_codec_record_unpack(e->record.data, e->record.len, &rec) < 0)
        rec = NULL;
    cli_trail_summary(e, rec, buf, len);
    CAIRN_CODEC_FREE(&rec);
}

static void an_approval_event_names_the_approver_and_decision(void **state)
{
    (void)state;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Governance g = CAIRN__V1__GOVERNANCE__INIT;
    Cairn__V1__Correlation c = CAIRN__V1__CORRELATION__INIT;
    ev.id = "a1";
    ev.type = "dev.cdeventsx.cairn-approval.granted.0.1.0";
    g.approver = "lee";
    g.approver_role = "tech_lead";
    g.approval_decision = "granted";
    c.change_id = "CHG-1";
    c.commit_sha = S_SHA;
    ev.governance = &g;
    ev.correlation = &c;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    Cairn__V1__Entry *e = s_entry(4, ev.type, &rec);
    char buf[512];
    s_summary(e, buf, sizeof buf);
    assert_string_equal(buf, "id=a1 approver=lee role=tech_lead decision=granted "
                             "commit=0123456789ab");
    s_entry_free(e);
}

static void a_test_report_shows_its_counts(void **state)
{
    (void)state;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Evidence evd = CAIRN__V1__EVIDENCE__INIT;
    Cairn__V1__Governance g = CAIRN__V1__GOVERNANCE__INIT;
    ev.id = "t1";
    ev.type = "dev.cdevents.testsuiterun.finished.0.2.0";
    g.actor = "ci-bot";
    evd.kind = "test_report";
    evd.outcome = "success";
    evd.tests_passed = 12;
    ev.evidence = &evd;
    ev.governance = &g;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_EVENT;
    rec.event = &ev;
    Cairn__V1__Entry *e = s_entry(2, ev.type, &rec);
    char buf[512];
    s_summary(e, buf, sizeof buf);
    assert_string_equal(buf, "id=t1 actor=ci-bot evidence=test_report outcome=success "
                             "passed=12 failed=0 skipped=0");
    s_entry_free(e);
}

static void a_verdict_shows_gate_decision_and_first_reasons(void **state)
{
    (void)state;
    Cairn__V1__Reason r1 = CAIRN__V1__REASON__INIT, r2 = CAIRN__V1__REASON__INIT,
                      r3 = CAIRN__V1__REASON__INIT;
    r1.rule_id = "SOD1";
    r1.result = "fail";
    r1.message = "dana is the author of CHG-1 and cannot approve it";
    r2.rule_id = "peer";
    r2.result = "missing";
    r3.rule_id = "unit-tests";
    r3.result = "pass";
    Cairn__V1__Reason *reasons[] = {&r1, &r2, &r3};
    Cairn__V1__Verdict v = CAIRN__V1__VERDICT__INIT;
    v.gate = "deployment";
    v.decision = CAIRN__V1__DECISION__DECISION_DENY;
    v.reasons = reasons;
    v.n_reasons = 3;
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_VERDICT;
    rec.verdict = &v;
    Cairn__V1__Entry *e = s_entry(5, "verdict.deployment", &rec);
    char buf[512];
    s_summary(e, buf, sizeof buf);
    assert_string_equal(buf, "deployment deny: SOD1 fail (dana is the author of CHG-1 and "
                             "cannot approve it); peer missing; +1 more");
    s_entry_free(e);
}

static void alerts_and_receipts_have_their_own_summaries(void **state)
{
    (void)state;
    char buf[512];
    Cairn__V1__Alert a = CAIRN__V1__ALERT__INIT;
    a.kind = "gate_denied";
    a.severity = "high";
    a.summary = "CHG-1 denied at deployment";
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_ALERT;
    rec.alert = &a;
    Cairn__V1__Entry *e = s_entry(6, "alert.gate_denied", &rec);
    s_summary(e, buf, sizeof buf);
    assert_string_equal(buf, "gate_denied [high]: CHG-1 denied at deployment");
    s_entry_free(e);

    Cairn__V1__DeliveryReceipt d = CAIRN__V1__DELIVERY_RECEIPT__INIT;
    d.receiver = "feed";
    d.outcome = "delivered";
    d.subject_index = 6;
    d.attempt = 1;
    Cairn__V1__Record rec2 = CAIRN__V1__RECORD__INIT;
    rec2.body_case = CAIRN__V1__RECORD__BODY_RECEIPT;
    rec2.receipt = &d;
    e = s_entry(7, "receipt.feed", &rec2);
    s_summary(e, buf, sizeof buf);
    assert_string_equal(buf, "feed delivered for index 6 (attempt 1)");
    s_entry_free(e);
}

static void a_record_that_does_not_decode_is_said_so(void **state)
{
    (void)state;
    char buf[128];
    Cairn__V1__Entry *e = s_entry(8, "mystery", NULL);
    s_summary(e, buf, sizeof buf);
    assert_string_equal(buf, "(record does not decode)");
    s_entry_free(e);
}

static void the_listing_has_one_line_per_entry_in_order(void **state)
{
    (void)state;
    Cairn__V1__Alert a = CAIRN__V1__ALERT__INIT;
    a.kind = "drift";
    a.severity = "info";
    a.summary = "x";
    Cairn__V1__Record rec = CAIRN__V1__RECORD__INIT;
    rec.body_case = CAIRN__V1__RECORD__BODY_ALERT;
    rec.alert = &a;
    Cairn__V1__Entry *entries[] = {s_entry(3, "alert.drift", &rec), s_entry(9, "mystery", NULL)};

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    cli_trail_render(out, entries, 2);
    fclose(out);
    char *second = strchr(text, '\n') + 1;
    assert_true(strncmp(text, "     3  2025-11-25T10:00:00.003Z  alert.drift", 45) == 0);
    assert_non_null(strstr(text, "drift [info]: x\n"));
    assert_true(strncmp(second, "     9  2025-11-25T10:00:00.009Z  mystery", 41) == 0);
    assert_string_equal(strchr(second, '\n'), "\n");
    free(text);

    json_t *arr = cli_trail_json(entries, 2);
    assert_int_equal(json_array_size(arr), 2);
    json_t *first = json_array_get(arr, 0);
    assert_int_equal(json_integer_value(json_object_get(first, "index")), 3);
    assert_string_equal(json_string_value(json_object_get(first, "topic")), "alert.drift");
    assert_string_equal(json_string_value(json_object_get(first, "change_id")), "CHG-1");
    assert_string_equal(json_string_value(json_object_get(first, "kind")), "alert");
    assert_string_equal(json_string_value(json_object_get(first, "appended_at")),
                        "2025-11-25T10:00:00.003Z");
    const char *hash = json_string_value(json_object_get(first, "hash"));
    assert_int_equal(strlen(hash), 64);
    assert_true(strncmp(hash, "abcd00", 6) == 0);
    json_t *alert = json_object_get(json_object_get(first, "record"), "alert");
    assert_string_equal(json_string_value(json_object_get(alert, "kind")), "drift");
    json_t *bad = json_array_get(arr, 1);
    assert_string_equal(json_string_value(json_object_get(bad, "kind")), "undecodable");
    assert_string_equal(json_string_value(json_object_get(bad, "record_base64")), "////");
    json_decref(arr);
    s_entry_free(entries[0]);
    s_entry_free(entries[1]);
}

/* ---- finding a change by its keys, against the running daemons ------------ */

typedef struct {
    int code;  /* exit code */
    char *out; /* stdout */
    char *err; /* stderr */
} s_run_t;

static char *s_slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *text = calloc(1, 65536);
    if (f) {
        size_t n = fread(text, 1, 65535, f);
        text[n] = '\0';
        fclose(f);
    }
    return text;
}

static s_run_t s_cairn(const char *dir, const char *args)
{
    char cmd[2048], out[128], err[128];
    snprintf(out, sizeof out, "%s/cli.out", dir);
    snprintf(err, sizeof err, "%s/cli.err", dir);
    snprintf(cmd, sizeof cmd, "'%s/cairn' --data-dir '%s' %s >'%s' 2>'%s' </dev/null",
             getenv("CAIRN_BIN_DIR"), dir, args, out, err);
    int status = system(cmd);
    s_run_t r = {WIFEXITED(status) ? WEXITSTATUS(status) : -1, s_slurp(out), s_slurp(err)};
    return r;
}

static void s_done(s_run_t *r)
{
    free(r->out);
    free(r->err);
}

#define S_HEAD "9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070"

static bool s_starts(const char *text, const char *prefix)
{
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

static void status_and_trail_find_a_change_by_its_keys(void **state)
{
    (void)state;
    tl_ledger_t l;
    assert_int_equal(tl_ledger_start(&l, "cairn-cli-keys"), 0);
    int64_t clock = 1795600800000LL;
    /* A pull request's change, an incident and a release that name it. */
    assert_int_equal(
        tl_append_event(&l,
                        "{\"specversion\":\"1.0\",\"id\":\"c7\",\"source\":\"/ci\","
                        "\"type\":\"dev.cdevents.change.created.0.4.0\",\"data\":{\"context\":{},"
                        "\"subject\":{\"id\":\"CHG-7\",\"content\":{\"repository\":{\"id\":"
                        "\"acme/payments\"}}},\"customData\":{\"author\":\"dana\",\"pr\":42,"
                        "\"commit\":\"" S_HEAD "\",\"environment\":\"prod\"}}}",
                        clock += 1000, NULL),
        0);
    assert_int_equal(tl_append_event(&l,
                                     "{\"specversion\":\"1.0\",\"id\":\"i5\",\"source\":\"/pd\","
                                     "\"type\":\"com.example.incident\",\"data\":{\"change\":"
                                     "\"CHG-7\",\"incident\":\"INC-5\",\"release\":\"v1.4.0\"}}",
                                     clock += 1000, NULL),
                     0);
    assert_int_equal(tl_policy_start(&l, NULL), 0);
    assert_int_equal(tl_policy_settle(&l), 0);

    s_run_t r = s_cairn(l.dir, "status acme/payments#42");
    print_message("%s%s", r.out, r.err);
    assert_int_equal(r.code, 0);
    assert_true(s_starts(r.out, "acme/payments#42 is change CHG-7\nchange CHG-7\n"));
    assert_non_null(strstr(r.out, "author:      dana"));
    s_done(&r);
    r = s_cairn(l.dir, "status --json sha:" S_HEAD);
    assert_int_equal(r.code, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(j, "change_id")), "CHG-7");
    assert_string_equal(json_string_value(json_object_get(j, "found_by")), "sha:" S_HEAD);
    assert_true(json_is_true(json_object_get(j, "known")));
    json_decref(j);
    s_done(&r);

    r = s_cairn(l.dir, "trail INC-5");
    print_message("%s%s", r.out, r.err);
    assert_int_equal(r.code, 0);
    assert_true(s_starts(r.out, "INC-5 is change CHG-7\n"));
    assert_non_null(strstr(r.out, "dev.cdevents.change.created"));
    assert_non_null(strstr(r.out, "verdict.deployment"));
    s_done(&r);
    r = s_cairn(l.dir, "trail CHG-7");
    assert_int_equal(r.code, 0);
    assert_null(strstr(r.out, "is change"));
    assert_non_null(strstr(r.out, "com.example.incident"));
    s_done(&r);
    r = s_cairn(l.dir, "trail --json v1.4.0");
    assert_int_equal(r.code, 0);
    j = json_loads(r.out, 0, NULL);
    assert_true(json_array_size(j) >= 4);
    for (size_t i = 0; i < json_array_size(j); i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(j, i), "change_id")),
                            "CHG-7");
    json_decref(j);
    s_done(&r);
    r = s_cairn(l.dir, "trail acme/payments#43");
    assert_int_equal(r.code, 0);
    assert_string_equal(r.out, "no entries recorded for acme/payments#43\n");
    s_done(&r);

    /* Without cairn-policy a key cannot be looked up: exit 4, saying so. */
    kill(l.policy_pid, SIGTERM);
    waitpid(l.policy_pid, NULL, 0);
    l.policy_pid = 0;
    r = s_cairn(l.dir, "trail INC-5");
    assert_int_equal(r.code, 4);
    assert_non_null(strstr(r.err, "cairn-policy"));
    s_done(&r);
    r = s_cairn(l.dir, "trail CHG-7"); /* a change id needs only the ledger */
    assert_int_equal(r.code, 0);
    s_done(&r);
    tl_ledger_stop(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_approval_event_names_the_approver_and_decision),
        cmocka_unit_test(a_test_report_shows_its_counts),
        cmocka_unit_test(a_verdict_shows_gate_decision_and_first_reasons),
        cmocka_unit_test(alerts_and_receipts_have_their_own_summaries),
        cmocka_unit_test(a_record_that_does_not_decode_is_said_so),
        cmocka_unit_test(the_listing_has_one_line_per_entry_in_order),
        cmocka_unit_test(status_and_trail_find_a_change_by_its_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
