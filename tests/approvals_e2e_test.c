/* End to end for signed approvals: approver keys made by `cairn keygen
 * --approver` sit beside their names in the policy's role directory; the
 * real stack (`cairn up`) runs that policy, which requires every approval
 * to be signed. A signed `cairn approve --key` opens the gate; an approval
 * naming erin but signed with frank's key, posted over HTTP like any
 * CloudEvent, is void and the gate denies; an unsigned one is pending.
 * Then the change's bundle is exported and `cairn verify --approvers`
 * checks every approval signature offline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cairn/approval.h"
#include "cairn/note.h"
#include "cairn/util.h"
#include "harness.h"

#define SHA "7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d"

static e2e_stack_t s_stack;
static char s_keys[256];   /* directory of the approver keys */
static char s_policy[300]; /* the policy file */

/* Runs the cairn binary outside any stack; 0 on exit status 0. */
static int s_cairn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int s_cairn(const char *fmt, ...)
{
    char args[1024], cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    const char *bin = getenv("CAIRN_BIN_DIR");
    snprintf(cmd, sizeof cmd, "'%s/cairn' %s >/dev/null 2>&1", bin ? bin : ".", args);
    return system(cmd);
}

static char *s_vkey(const char *user)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s.key.pub", s_keys, user);
    char *text = slurp(path);
    if (text)
        text[strcspn(text, "\r\n")] = '\0';
    return text;
}

static int s_setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    snprintf(s_keys, sizeof s_keys, "/tmp/cairn-approvers-XXXXXX");
    if (!mkdtemp(s_keys))
        return -1;
    /* The approvers make their keys; the policy lists the public halves. */
    if (s_cairn("keygen --approver --name erin -o '%s/erin.key'", s_keys) != 0 ||
        s_cairn("keygen --approver --name frank -o '%s/frank.key'", s_keys) != 0)
        return -1;
    char *erin = s_vkey("erin"), *frank = s_vkey("frank");
    snprintf(s_policy, sizeof s_policy, "%s/policy.yaml", s_keys);
    FILE *f = fopen(s_policy, "w");
    if (!erin || !frank || !f)
        return -1;
    fprintf(f,
            "apiVersion: cairn/v1\n"
            "kind: ReleasePolicy\n"
            "metadata: { name: signed-e2e, revision: \"1\" }\n"
            "roles:\n"
            "  dev:\n"
            "    users:\n"
            "      - dana\n"
            "      - { name: erin, key: \"%s\" }\n"
            "      - { name: frank, key: \"%s\" }\n"
            "approvals:\n"
            "  distinct_persons: true\n"
            "  invalidate_on: [new_commit]\n"
            "  require_signed: true\n"
            "  rules:\n"
            "    - { id: peer, from: [dev], count: 1 }\n"
            "separation_of_duties:\n"
            "  - { id: SOD1, role: approver, not: [author, committers] }\n"
            "gates:\n"
            "  deployment:\n"
            "    require: { approvals_satisfied: true }\n",
            erin, frank);
    fclose(f);
    free(erin);
    free(frank);
    char more[512];
    snprintf(more, sizeof more, "policy:\n  file: %s\n", s_policy);
    stack_opts_t o = {.more = more};
    if (stack_start_with(&s_stack, &o) != 0) {
        char *log = slurp(s_stack.log);
        fprintf(stderr, "stack did not start; log:\n%s\n", log ? log : "(none)");
        free(log);
        stack_stop(&s_stack);
        stack_cleanup(&s_stack);
        return -1;
    }
    return 0;
}

static int s_teardown(void **state)
{
    (void)state;
    int rc = stack_stop(&s_stack);
    stack_cleanup(&s_stack);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s_keys);
    if (system(cmd) != 0)
        rc = -1;
    return rc == 0 ? 0 : -1;
}

/* The change, created by dana at SHA. */
static void s_create(const char *change)
{
    char body[1024], *resp = NULL;
    snprintf(body, sizeof body,
             "{\"specversion\":\"1.0\",\"id\":\"%s-created\",\"source\":\"/ci/acme/payments\","
             "\"type\":\"dev.cdevents.change.created.0.4.0\",\"subject\":\"%s\","
             "\"datacontenttype\":\"application/json\",\"data\":{\"change\":\"%s\","
             "\"author\":\"dana\",\"commit\":\"" SHA "\",\"environment\":\"prod\"}}",
             change, change, change);
    assert_int_equal(stack_http(&s_stack, "POST", "/v1/events", "application/cloudevents+json",
                                body, strlen(body), &resp),
                     202);
    free(resp);
}

static json_t *s_gate(const char *change, int expect_code)
{
    json_t *v = NULL;
    int rc = stack_cli_json(&s_stack, &v, "gate %s --gate deployment --wait 20", change);
    if (rc != expect_code) {
        char *out = NULL;
        stack_cli(&s_stack, &out, "policy explain %s", change);
        fprintf(stderr, "gate %s: exit %d, expected %d\n%s\n", change, rc, expect_code,
                out ? out : "");
        free(out);
    }
    assert_int_equal(rc, expect_code);
    assert_non_null(v);
    return v;
}

static json_t *s_approval(json_t *verdict, size_t i)
{
    return json_array_get(json_object_get(verdict, "approvals"), i);
}

static void a_signed_approval_opens_the_gate(void **state)
{
    (void)state;
    char *out = NULL;
    s_create("CHG-S1");
    assert_int_equal(stack_cli(&s_stack, &out,
                               "approve CHG-S1 --as erin --role dev --commit " SHA
                               " --key '%s/erin.key'",
                               s_keys),
                     0);
    free(out);
    json_t *v = s_gate("CHG-S1", 0);
    json_t *a = s_approval(v, 0);
    assert_string_equal(json_string_value(json_object_get(a, "user")), "erin");
    assert_true(json_is_true(json_object_get(a, "signature_verified")));
    assert_non_null(strstr(json_string_value(json_object_get(a, "key")), "erin+"));
    json_decref(v);
}

static void an_approval_signed_with_someone_elses_key_is_void(void **state)
{
    (void)state;
    s_create("CHG-S2");
    /* frank signs an approval that names erin as the approver. */
    cairn_note_signer_t *frank = NULL;
    char path[300], *sig = NULL, *key = NULL, time[32];
    snprintf(path, sizeof path, "%s/frank.key", s_keys);
    assert_int_equal(cairn_note_signer_load(path, &frank), 0);
    cairn_format_time(cairn_now_ms(), time);
    cairn_approval_stmt_t st = {.change = "CHG-S2",
                                .commit = SHA,
                                .role = "dev",
                                .decision = "granted",
                                .approver = "frank",
                                .signed_at = time};
    assert_int_equal(cairn_approval_sign(&st, frank, &sig, &key), 0);
    cairn_note_signer_destroy(&frank);
    char body[2048], *resp = NULL;
    snprintf(body, sizeof body,
             "{\"specversion\":\"1.0\",\"id\":\"forged-1\",\"source\":\"/cairn/cli\","
             "\"type\":\"dev.cdeventsx.cairn-approval.granted.0.1.0\",\"subject\":\"CHG-S2\","
             "\"time\":\"%s\",\"datacontenttype\":\"application/json\",\"data\":{"
             "\"change\":\"CHG-S2\",\"approver\":\"erin\",\"role\":\"dev\",\"commit\":\"" SHA
             "\",\"signature\":\"%s\",\"key\":\"%s\",\"signed_at\":\"%s\"}}",
             time, sig, key, time);
    free(sig);
    free(key);
    assert_int_equal(stack_http(&s_stack, "POST", "/v1/events", "application/cloudevents+json",
                                body, strlen(body), &resp),
                     202);
    free(resp);
    json_t *v = s_gate("CHG-S2", 1);
    assert_string_equal(json_string_value(json_object_get(v, "decision")), "deny");
    json_t *a = s_approval(v, 0);
    assert_true(json_is_true(json_object_get(a, "void")));
    assert_string_equal(json_string_value(json_object_get(a, "void_rule")), "signature");
    assert_non_null(strstr(json_string_value(json_object_get(a, "void_reason")),
                           "signed with frank's key"));
    json_decref(v);
}

static void an_unsigned_approval_waits_for_a_signature(void **state)
{
    (void)state;
    char *out = NULL;
    s_create("CHG-S3");
    assert_int_equal(
        stack_cli(&s_stack, &out, "approve CHG-S3 --as erin --role dev --commit " SHA), 0);
    free(out);
    /* Pending until the approval is folded in and after: wait for it. */
    json_t *v = NULL;
    for (int i = 0; i < 100; i++) {
        json_decref(v);
        v = NULL;
        stack_cli_json(&s_stack, &v, "gate CHG-S3 --gate deployment");
        if (json_array_size(json_object_get(v, "approvals")) == 1)
            break;
        sleep_ms(200);
    }
    assert_string_equal(json_string_value(json_object_get(v, "decision")), "pending");
    assert_string_equal(json_string_value(json_object_get(s_approval(v, 0), "void_rule")),
                        "unsigned");
    json_decref(v);
}

static void the_bundle_lets_an_auditor_check_every_signature(void **state)
{
    (void)state;
    char *vkey = NULL, bundle[300], cmd[1024];
    assert_int_equal(stack_cli(&s_stack, &vkey, "log vkey"), 0);
    vkey[strcspn(vkey, "\r\n")] = '\0';
    snprintf(bundle, sizeof bundle, "%s/chg-s1.json", s_keys);
    char *out = NULL;
    assert_int_equal(stack_cli(&s_stack, &out, "export --change CHG-S1 -o '%s'", bundle), 0);
    free(out);
    /* Offline: only the bundle, the log's vkey and the approvers' keys. */
    json_t *r = NULL;
    snprintf(cmd, sizeof cmd, "verify '%s' --vkey '%s' --approvers '%s'", bundle, vkey, s_policy);
    assert_int_equal(stack_cli_json(&s_stack, &r, "%s", cmd), 0);
    json_t *ap = json_object_get(r, "approvals");
    assert_int_equal(json_integer_value(json_object_get(ap, "verified")), 1);
    assert_int_equal(json_integer_value(json_object_get(ap, "failed")), 0);
    json_decref(r);

    /* The forged approval of CHG-S2 fails the same check. */
    snprintf(bundle, sizeof bundle, "%s/chg-s2.json", s_keys);
    assert_int_equal(stack_cli(&s_stack, &out, "export --change CHG-S2 -o '%s'", bundle), 0);
    free(out);
    snprintf(cmd, sizeof cmd, "verify '%s' --vkey '%s' --approvers '%s'", bundle, vkey, s_policy);
    assert_int_equal(stack_cli(&s_stack, &out, "%s", cmd), 1);
    assert_non_null(strstr(out, "FAILED: signed with a key that is not the approver's"));
    free(out);
    free(vkey);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_signed_approval_opens_the_gate),
        cmocka_unit_test(an_approval_signed_with_someone_elses_key_is_void),
        cmocka_unit_test(an_unsigned_approval_waits_for_a_signature),
        cmocka_unit_test(the_bundle_lets_an_auditor_check_every_signature),
    };
    return cmocka_run_group_tests_name("signed_approvals", tests, s_setup, s_teardown);
}
