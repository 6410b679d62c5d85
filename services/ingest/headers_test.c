/* Tests for the headers an event keeps as evidence: the sources' delivery,
 * event and signature headers in any letter case; never a credential
 * (token, secret, key, cookie, ...), whatever the prefix or case; the same
 * verdicts for names too long to be lower-cased on the stack; and the
 * case-insensitive lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "headers.h"

static void source_headers_are_kept_in_any_case(void **state)
{
    (void)state;
    static const char *const kept[] = {
        "Content-Type",
        "user-agent",
        "X-GitHub-Delivery",
        "X-GITHUB-EVENT",
        "X-Hub-Signature-256",
        "x-gitlab-event",
        "Idempotency-Key",
        "webhook-id",
        "X-PagerDuty-Signature",
        "X-Webhook-Id",
        "X-Atlassian-Webhook-Identifier",
        "ce-id",
        "X-Request-Id",
        "X-Forwarded-For",
    };
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        assert_int_equal(cairn_ingest_header_keepable(kept[i]), 1);
    static const char *const dropped[] = {"Accept", "Host", "Content-Length", "x-custom", "", NULL};
    for (size_t i = 0; i < sizeof dropped / sizeof dropped[0]; i++)
        assert_int_equal(cairn_ingest_header_keepable(dropped[i]), 0);
}

static void credentials_are_never_kept(void **state)
{
    (void)state;
    static const char *const secret[] = {
        "X-Gitlab-Token",        "X-GitHub-Secret",  "webhook-SECRET",
        "X-Webhook-Auth",        "ce-apikey",        "X-Atlassian-Cookie",
        "X-PagerDuty-Session",   "x-webhook-passwd", "X-Servicenow-Password",
        "ce-AuthorizationToken",
    };
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        assert_int_equal(cairn_ingest_header_keepable(secret[i]), 0);
}

static void long_names_get_the_same_verdicts(void **state)
{
    (void)state;
    char name[400];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    memcpy(name, "X-GitHub-", 9);
    assert_int_equal(cairn_ingest_header_keepable(name), 1);
    memcpy(name + 300, "ToKeN", 5);
    assert_int_equal(cairn_ingest_header_keepable(name), 0);
    memcpy(name, "X-Unknown", 9);
    assert_int_equal(cairn_ingest_header_keepable(name), 0);
}

static void lookup_ignores_case(void **state)
{
    (void)state;
    cairn_ingest_header_t h[] = {{"X-GitHub-Event", "push"}, {"Content-Type", NULL}};
    assert_string_equal(cairn_ingest_header(h, 2, "x-github-event"), "push");
    assert_string_equal(cairn_ingest_header(h, 2, "CONTENT-TYPE"), "");
    assert_null(cairn_ingest_header(h, 2, "x-github-delivery"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(source_headers_are_kept_in_any_case),
        cmocka_unit_test(credentials_are_never_kept),
        cmocka_unit_test(long_names_get_the_same_verdicts),
        cmocka_unit_test(lookup_ignores_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
