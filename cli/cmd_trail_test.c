/* Tests for `cairn trail`: the one-line summaries of each kind of record and
 * the JSON listing, on ledger entries built here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "commands.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_approval_event_names_the_approver_and_decision),
        cmocka_unit_test(a_test_report_shows_its_counts),
        cmocka_unit_test(a_verdict_shows_gate_decision_and_first_reasons),
        cmocka_unit_test(alerts_and_receipts_have_their_own_summaries),
        cmocka_unit_test(a_record_that_does_not_decode_is_said_so),
        cmocka_unit_test(the_listing_has_one_line_per_entry_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
