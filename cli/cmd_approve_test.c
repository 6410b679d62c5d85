/* Tests for `cairn approve`: the CloudEvent it records and the checks on its
 * arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn/approval.h"
#include "cairn/error.h"
#include "cairn/util.h"
#include "commands.h"

#define S_SHA "0123456789abcdef0123456789abcdef01234567"

static const char *s_get(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static void a_granted_approval_is_a_cloudevent_with_every_required_attribute(void **state)
{
    (void)state;
    cli_approval_t ap = {"CHG-1", "lee", "tech_lead", S_SHA, false};
    int64_t now = 1764064800123;
    json_t *ev = cli_approval_event(&ap, "00112233445566778899aabbccddeeff", now);
    assert_non_null(ev);
    assert_string_equal(s_get(ev, "specversion"), "1.0");
    assert_string_equal(s_get(ev, "id"), "00112233445566778899aabbccddeeff");
    assert_string_equal(s_get(ev, "source"), "/cairn/cli");
    assert_string_equal(s_get(ev, "type"), "dev.cdeventsx.cairn-approval.granted.0.1.0");
    assert_string_equal(s_get(ev, "datacontenttype"), "application/json");
    int64_t t = 0;
    assert_int_equal(cairn_parse_time(s_get(ev, "time"), &t), 0);
    assert_int_equal(t, now);

    json_t *data = json_object_get(ev, "data");
    assert_string_equal(s_get(data, "change"), "CHG-1");
    assert_string_equal(s_get(data, "approver"), "lee");
    assert_string_equal(s_get(data, "role"), "tech_lead");
    assert_string_equal(s_get(data, "commit"), S_SHA);

    /* It serializes to JSON that parses back to the same event. */
    char *text = json_dumps(ev, JSON_COMPACT);
    json_t *back = json_loads(text, 0, NULL);
    assert_true(json_equal(ev, back));
    json_decref(back);
    free(text);
    json_decref(ev);
}

static void a_rejection_has_the_rejected_type_and_omits_unset_fields(void **state)
{
    (void)state;
    cli_approval_t ap = {"CHG-2", "erin", NULL, NULL, true};
    json_t *ev = cli_approval_event(&ap, "ff", 0);
    assert_string_equal(s_get(ev, "type"), "dev.cdeventsx.cairn-approval.rejected.0.1.0");
    json_t *data = json_object_get(ev, "data");
    assert_string_equal(s_get(data, "change"), "CHG-2");
    assert_string_equal(s_get(data, "approver"), "erin");
    assert_null(json_object_get(data, "role"));
    assert_null(json_object_get(data, "commit"));
    json_decref(ev);
}

static void valid_arguments_pass_the_checks(void **state)
{
    (void)state;
    char err[256];
    cli_approval_t ap = {"CHG-1", "lee", "tech_lead", S_SHA, false};
    assert_int_equal(cli_approval_check(&ap, err, sizeof err), 0);
    ap.role = NULL;
    ap.commit = NULL;
    assert_int_equal(cli_approval_check(&ap, err, sizeof err), 0);
    ap.commit = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    assert_int_equal(cli_approval_check(&ap, err, sizeof err), 0);
}

static void an_abbreviated_commit_is_refused_with_the_reason(void **state)
{
    (void)state;
    char err[256];
    cli_approval_t ap = {"CHG-1", "lee", NULL, "0123abc", false};
    assert_int_equal(cli_approval_check(&ap, err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "full commit SHA"));
    ap.commit = "z123456789abcdef0123456789abcdef01234567";
    assert_int_equal(cli_approval_check(&ap, err, sizeof err), CAIRN_EINVALID);
}

static void names_with_spaces_are_refused(void **state)
{
    (void)state;
    char err[256];
    cli_approval_t ap = {"CHG-1", "lee smith", NULL, NULL, false};
    assert_int_equal(cli_approval_check(&ap, err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "--as"));
    ap.approver = "lee";
    ap.change = "";
    assert_int_equal(cli_approval_check(&ap, err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "CHANGE"));
    ap.change = "CHG-1";
    ap.role = "tech lead";
    assert_int_equal(cli_approval_check(&ap, err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "--role"));
}

static void a_signed_approval_carries_a_signature_of_the_statement(void **state)
{
    (void)state;
    char err[256];
    cairn_note_signer_t *erin = NULL, *frank = NULL;
    assert_int_equal(cairn_note_signer_generate("erin", &erin), 0);
    assert_int_equal(cairn_note_signer_generate("frank", &frank), 0);
    cli_approval_t ap = {"CHG-1", "erin", "dev", S_SHA, false};
    json_t *ev = cli_approval_event(&ap, "ab", 1764064800123);
    assert_int_equal(cli_approval_sign(ev, &ap, erin, err, sizeof err), 0);
    json_t *data = json_object_get(ev, "data");
    assert_string_equal(s_get(data, "signed_at"), s_get(ev, "time"));
    char *vkey = NULL;
    cairn_note_verifier_t *v = NULL;
    assert_int_equal(cairn_note_signer_vkey(erin, &vkey), 0);
    assert_int_equal(cairn_note_verifier_parse(vkey, &v), 0);
    cairn_approval_stmt_t st = {"CHG-1", S_SHA, "dev", "granted", "erin", s_get(ev, "time")};
    assert_int_equal(cairn_approval_verify(&st, s_get(data, "signature"), v), 0);
    st.decision = "rejected";
    assert_int_equal(cairn_approval_verify(&st, s_get(data, "signature"), v), CAIRN_EINTEGRITY);

    /* frank's key cannot sign for erin; a signed approval needs its commit. */
    assert_int_equal(cli_approval_sign(ev, &ap, frank, err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "it cannot sign for erin"));
    ap.commit = NULL;
    assert_int_equal(cli_approval_sign(ev, &ap, erin, err, sizeof err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "--key needs --commit"));
    free(vkey);
    cairn_note_verifier_destroy(&v);
    cairn_note_signer_destroy(&erin);
    cairn_note_signer_destroy(&frank);
    json_decref(ev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_granted_approval_is_a_cloudevent_with_every_required_attribute),
        cmocka_unit_test(a_rejection_has_the_rejected_type_and_omits_unset_fields),
        cmocka_unit_test(valid_arguments_pass_the_checks),
        cmocka_unit_test(an_abbreviated_commit_is_refused_with_the_reason),
        cmocka_unit_test(names_with_spaces_are_refused),
        cmocka_unit_test(a_signed_approval_carries_a_signature_of_the_statement),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
