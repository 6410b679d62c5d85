/* Tests for `cairn policy`: loader problems as JSON, --since dates, and the
 * built `cairn` executable running check, test, explain and replay — the
 * last two against the real cairn-ledger and cairn-policy daemons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn/log.h"
#include "cairn/util.h"
#include "cmd_policy.h"
#include "ledger_proc.h"
#include "policy_load.h"

#define S_SHA "4f2a9c0d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39"

static char s_tmp[64];

typedef struct {
    int code;  /* exit code */
    char *out; /* stdout */
    char *err; /* stderr */
} s_run_t;

static char *s_slurp(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(cairn_read_file(path, 1 << 22, &text, &len), 0);
    return text;
}

static s_run_t s_cairn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static s_run_t s_cairn(const char *fmt, ...)
{
    char args[2048], cmd[4096], out[128], err[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *bin = getenv("CAIRN_BIN_DIR");
    snprintf(out, sizeof out, "%s/out", s_tmp);
    snprintf(err, sizeof err, "%s/err", s_tmp);
    snprintf(cmd, sizeof cmd, "'%s/cairn' %s >'%s' 2>'%s' </dev/null", bin ? bin : ".", args, out,
             err);
    int status = system(cmd);
    s_run_t r = {WIFEXITED(status) ? WEXITSTATUS(status) : -1, s_slurp(out), s_slurp(err)};
    return r;
}

static void s_done(s_run_t *r)
{
    free(r->out);
    free(r->err);
}

static void s_testdata(char *buf, size_t len, const char *rel)
{
    const char *src = getenv("CAIRN_SOURCE_DIR");
    snprintf(buf, len, "%s/services/policy/testdata/%s", src ? src : ".", rel);
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int s_setup(void **state)
{
    cairn_log_init("cli-test", "error");
    snprintf(s_tmp, sizeof s_tmp, "/tmp/cairn-cli-policy-XXXXXX");
    return mkdtemp(s_tmp) ? 0 : -1;
}

static int s_teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_tmp);
    return system(cmd) == 0 ? 0 : -1;
}

static void loader_problems_become_json_with_position_key_and_suggestion(void **state)
{
    json_t *j = cli_policy_problem_json(
        "p.yaml", "p.yaml:12:5: unknown key 'requre' in gates.build — did you mean 'require'?");
    assert_int_equal(json_integer_value(json_object_get(j, "line")), 12);
    assert_int_equal(json_integer_value(json_object_get(j, "column")), 5);
    assert_string_equal(json_string_value(json_object_get(j, "key")), "requre");
    assert_string_equal(json_string_value(json_object_get(j, "suggestion")), "require");
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "unknown key 'requre' in gates.build — did you mean 'require'?");
    json_decref(j);
    j = cli_policy_problem_json("p.yaml", "p.yaml: the policy is empty");
    assert_int_equal(json_integer_value(json_object_get(j, "line")), 0);
    assert_true(json_is_null(json_object_get(j, "key")));
    assert_true(json_is_null(json_object_get(j, "suggestion")));
    assert_string_equal(json_string_value(json_object_get(j, "message")), "the policy is empty");
    json_decref(j);
}

static void since_takes_a_date_or_a_time(void **state)
{
    int64_t ms = 0;
    assert_int_equal(cli_policy_parse_since("2026-11-25", &ms), 0);
    assert_int_equal(ms, 1795564800000LL);
    assert_int_equal(cli_policy_parse_since("2026-11-25T10:00:00Z", &ms), 0);
    assert_int_equal(ms, 1795600800000LL);
    assert_true(cli_policy_parse_since("yesterday", &ms) < 0);
    assert_true(cli_policy_parse_since("2026-13-45", &ms) < 0);
}

static void check_reports_every_problem_or_the_digest(void **state)
{
    char good[1024];
    s_testdata(good, sizeof good, "lifecycle.yaml");
    s_run_t r = s_cairn("policy check '%s'", good);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, ": valid\n"));
    assert_non_null(strstr(r.out, "policy   lifecycle-example revision 2026-11-25.1"));
    assert_non_null(strstr(r.out, "digest   sha256:"));
    s_done(&r);

    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.yaml", s_tmp);
    s_write(bad, "apiVersion: cairn/v1\n"
                 "kind: ReleasePolicy\n"
                 "metadata: { name: bad }\n"
                 "roles:\n"
                 "  dev: { users: [dana] }\n"
                 "approvals:\n"
                 "  rules:\n"
                 "    - { id: peer, from: [dvv], count: 1 }\n"
                 "gates:\n"
                 "  build:\n"
                 "    evidence:\n"
                 "      - { id: t, type: test_report, requre: { failed: 0 } }\n");
    r = s_cairn("policy check '%s'", bad);
    print_message("%s", r.out);
    assert_int_equal(r.code, 1);
    char want[256];
    snprintf(want, sizeof want, "%s:8:", bad);
    assert_non_null(strstr(r.out, want));
    assert_non_null(strstr(r.out, "unknown role 'dvv'"));
    snprintf(want, sizeof want, "%s:12:", bad);
    assert_non_null(strstr(r.out, want));
    assert_non_null(strstr(r.out, "did you mean 'require'?"));
    assert_non_null(strstr(r.out, "invalid: "));
    s_done(&r);

    r = s_cairn("policy check --json '%s'", bad);
    assert_int_equal(r.code, 1);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_true(json_is_false(json_object_get(j, "valid")));
    json_t *errors = json_object_get(j, "errors");
    assert_true(json_array_size(errors) >= 2);
    bool typo = false;
    for (size_t i = 0; i < json_array_size(errors); i++) {
        json_t *e = json_array_get(errors, i);
        assert_true(json_integer_value(json_object_get(e, "line")) > 0);
        json_t *s = json_object_get(e, "suggestion");
        typo = typo || (json_is_string(s) && strcmp(json_string_value(s), "require") == 0);
    }
    assert_true(typo);
    json_decref(j);
    s_done(&r);

    r = s_cairn("policy check /no/such/policy.yaml");
    assert_int_equal(r.code, 2);
    s_done(&r);
}

static void test_runs_the_cases_and_fails_loudly(void **state)
{
    char good[1024], dir[1024];
    s_testdata(good, sizeof good, "lifecycle.yaml");
    s_run_t r = s_cairn("policy test '%s'", good);
    print_message("%s", r.out);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "PASS    author-cannot-approve-own-change: deny (CHG-1)"));
    assert_non_null(strstr(r.out, "4 of 4 tests passed"));
    s_done(&r);

    /* The same rules with a wrong expectation. */
    char *text = s_slurp(good);
    char *cut = strstr(text, "\ntests:");
    cut[1] = '\0';
    char path[128], body[8192];
    s_testdata(dir, sizeof dir, "tests");
    snprintf(path, sizeof path, "%s/failing.yaml", s_tmp);
    snprintf(body, sizeof body,
             "%stests:\n"
             "  - { name: self-approval-allowed, input: %s/self-approved.json, "
             "expect: { decision: allow } }\n"
             "  - { name: peer, input: %s/peer-approved.json, expect: { decision: allow } }\n",
             text, dir, dir);
    s_write(path, body);
    free(text);
    r = s_cairn("policy test '%s'", path);
    print_message("%s", r.out);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.out, "FAIL    self-approval-allowed: expected allow, got deny"));
    assert_non_null(strstr(r.out, "gate deployment: DENY, because SOD1 failed"));
    assert_non_null(strstr(r.out, "dana is the author of CHG-1 and cannot approve it"));
    assert_non_null(strstr(r.out, "PASS    peer: allow (CHG-2)"));
    assert_non_null(strstr(r.out, "1 of 2 tests passed"));
    s_done(&r);

    r = s_cairn("policy test --json '%s'", path);
    assert_int_equal(r.code, 1);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "failed")), 1);
    json_t *first = json_array_get(json_object_get(j, "tests"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "outcome")), "fail");
    assert_string_equal(json_string_value(json_object_get(first, "decision")), "deny");
    json_decref(j);
    s_done(&r);
}

static void explain_needs_the_policy_daemon(void **state)
{
    s_run_t r = s_cairn("policy explain CHG-1 --data-dir '%s'", s_tmp);
    assert_int_equal(r.code, 4);
    assert_non_null(strstr(r.err, "cairn-policy"));
    s_done(&r);
    r = s_cairn("policy");
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err, "check, test, explain, replay"));
    s_done(&r);
}

/* One change by dana with passing tests, approved by approver (NULL: none). */
static void s_change(tl_ledger_t *l, const char *change, const char *approver, int64_t *clock)
{
    char json[2048];
    snprintf(json, sizeof json,
             "{\"specversion\":\"1.0\",\"id\":\"%s-c\",\"source\":\"/ci\","
             "\"type\":\"dev.cdevents.change.created.0.4.0\",\"data\":{\"context\":{},"
             "\"subject\":{\"id\":\"%s\",\"content\":{}},\"customData\":{\"author\":\"dana\","
             "\"commit\":\"" S_SHA "\",\"environment\":\"prod\"}}}",
             change, change);
    assert_int_equal(tl_append_event(l, json, *clock += 1000, NULL), 0);
    snprintf(json, sizeof json,
             "{\"specversion\":\"1.0\",\"id\":\"%s-t\",\"source\":\"/ci\","
             "\"type\":\"dev.cdevents.testsuiterun.finished.0.3.0\",\"data\":{\"context\":{},"
             "\"subject\":{\"id\":\"u\",\"content\":{\"outcome\":\"success\"}},"
             "\"customData\":{\"change\":\"%s\",\"tests_passed\":5}}}",
             change, change);
    assert_int_equal(tl_append_event(l, json, *clock += 1000, NULL), 0);
    if (!approver)
        return;
    snprintf(json, sizeof json,
             "{\"specversion\":\"1.0\",\"id\":\"%s-a\",\"source\":\"/cairn/cli\","
             "\"type\":\"dev.cdeventsx.cairn-approval.granted.0.1.0\",\"data\":{\"change\":\"%s\","
             "\"approver\":\"%s\"}}",
             change, change, approver);
    assert_int_equal(tl_append_event(l, json, *clock += 1000, NULL), 0);
}

static void explain_and_replay_against_the_running_stack(void **state)
{
    tl_ledger_t l;
    assert_int_equal(tl_ledger_start(&l, "cairn-cli-policy"), 0);
    int64_t clock = 1795600800000LL;
    s_change(&l, "CHG-1", "lee", &clock);
    s_change(&l, "CHG-2", "dana", &clock);

    assert_int_equal(tl_policy_start(&l, NULL), 0);
    assert_int_equal(tl_policy_settle(&l), 0);

    s_run_t r = s_cairn("policy explain CHG-2 --data-dir '%s'", l.dir);
    print_message("%s", r.out);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "change CHG-2 in prod at commit 4f2a9c0d8e7b"));
    assert_non_null(strstr(r.out, "policy default revision builtin-1"));
    assert_non_null(strstr(r.out, "gate build: ALLOW, every rule passed"));
    assert_non_null(strstr(r.out, "gate deployment: DENY, because SOD1 failed"));
    assert_non_null(strstr(r.out, "FAILED"));
    s_done(&r);
    r = s_cairn("policy explain CHG-1 --gate deployment --json --data-dir '%s'", l.dir);
    assert_int_equal(r.code, 0);
    json_t *j = json_loads(r.out, 0, NULL);
    json_t *g = json_array_get(json_object_get(j, "gates"), 0);
    assert_string_equal(json_string_value(json_object_get(g, "decision")), "allow");
    assert_non_null(json_object_get(g, "verdict"));
    json_decref(j);
    s_done(&r);
    r = s_cairn("policy explain CHG-1 --gate nope --data-dir '%s'", l.dir);
    assert_int_equal(r.code, 2);
    s_done(&r);

    /* A stricter candidate: two approvals. Only CHG-1 had been allowed. */
    char path[128];
    snprintf(path, sizeof path, "%s/stricter.yaml", s_tmp);
    const char *base = cairn_policy_default_yaml();
    const char *at = strstr(base, "count: 1");
    char text[8192];
    snprintf(text, sizeof text, "%.*scount: 2%s", (int)(at - base), base, at + 8);
    s_write(path, text);
    s_run_t a = s_cairn("policy replay '%s' --data-dir '%s'", path, l.dir);
    s_run_t b = s_cairn("policy replay '%s' --data-dir '%s'", path, l.dir);
    print_message("%s", a.out);
    assert_int_equal(a.code, 0);
    assert_string_equal(a.out, b.out);
    assert_non_null(strstr(a.out, "CHG-1 gate deployment"));
    assert_non_null(strstr(a.out, "allow -> pending"));
    assert_non_null(strstr(a.out, "changes it would block: CHG-1\n"));
    s_done(&a);
    s_done(&b);
    r = s_cairn("policy replay '%s' --json --since 2000-01-01 --data-dir '%s'", path, l.dir);
    assert_int_equal(r.code, 0);
    j = json_loads(r.out, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "changed")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "since")), "2000-01-01T00:00:00.000Z");
    json_decref(j);
    s_done(&r);
    r = s_cairn("policy replay '%s' --since soon --data-dir '%s'", path, l.dir);
    assert_int_equal(r.code, 2);
    s_done(&r);

    tl_ledger_stop(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(loader_problems_become_json_with_position_key_and_suggestion),
        cmocka_unit_test(since_takes_a_date_or_a_time),
        cmocka_unit_test(check_reports_every_problem_or_the_digest),
        cmocka_unit_test(test_runs_the_cases_and_fails_loudly),
        cmocka_unit_test(explain_needs_the_policy_daemon),
        cmocka_unit_test(explain_and_replay_against_the_running_stack),
    };
    return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
