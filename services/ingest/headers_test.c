/* Tests for the headers an event keeps as evidence: the sources' delivery,
 * event and signature headers in any letter case; never a credential
 * (token, secret, key, cookie, ...), whatever the prefix or case; the same
 * verdicts for names too long to be lower-cased on the stack; and the
 * case-insensitive lookup. Keeping copies them lower-cased into the event,
 * at most 64 headers of at most 2048 bytes each, and leaves no list when
 * nothing is kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

static void keep_copies_the_headers_that_matter_lower_cased(void **state)
{
    (void)state;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    cairn_ingest_header_t h[] = {
        {"Host", "ingest.example"},           {"X-GitHub-Event", "push"},
        {"Authorization", "Bearer secret"},   {"Content-Type", "application/json"},
        {"X-GitHub-Delivery", NULL},          {"Accept", "*/*"},
    };
    assert_int_equal(cairn_ingest_headers_keep(&ev, h, 6), 0);
    assert_int_equal(ev.n_raw_headers, 3);
    assert_string_equal(ev.raw_headers[0]->key, "x-github-event");
    assert_string_equal(ev.raw_headers[0]->value, "push");
    assert_string_equal(ev.raw_headers[1]->key, "content-type");
    assert_string_equal(ev.raw_headers[2]->key, "x-github-delivery");
    assert_string_equal(ev.raw_headers[2]->value, "");
    /* A second call adds to the list. */
    cairn_ingest_header_t more[] = {{"User-Agent", "GitHub-Hookshot/1"}};
    assert_int_equal(cairn_ingest_headers_keep(&ev, more, 1), 0);
    assert_int_equal(ev.n_raw_headers, 4);
    assert_string_equal(ev.raw_headers[3]->key, "user-agent");
    /* It packs and unpacks like any event, and frees like one. */
    size_t len = protobuf_c_message_get_packed_size(&ev.base);
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    assert_int_equal(protobuf_c_message_pack(&ev.base, buf), len);
    Cairn__V1__Event *back = cairn__v1__event__unpack(NULL, len, buf);
    assert_non_null(back);
    assert_int_equal(back->n_raw_headers, 4);
    cairn__v1__event__free_unpacked(back, NULL);
    free(buf);
    Cairn__V1__Event *owned = malloc(sizeof *owned);
    assert_non_null(owned);
    *owned = ev;
    protobuf_c_message_free_unpacked(&owned->base, NULL);
}

static void keep_with_nothing_to_keep_leaves_no_list(void **state)
{
    (void)state;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    cairn_ingest_header_t h[] = {{"Host", "x"}, {"X-Gitlab-Token", "secret"}};
    assert_int_equal(cairn_ingest_headers_keep(&ev, h, 2), 0);
    assert_int_equal(ev.n_raw_headers, 0);
    assert_null(ev.raw_headers);
    assert_int_equal(cairn_ingest_headers_keep(&ev, NULL, 0), 0);
    assert_null(ev.raw_headers);
}

static void keep_bounds_the_count_and_the_value_length(void **state)
{
    (void)state;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    enum { N = 100 };
    static char names[N][32];
    static char long_value[5000];
    memset(long_value, 'v', sizeof long_value - 1);
    cairn_ingest_header_t h[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "X-GitHub-Extra-%d", i);
        h[i] = (cairn_ingest_header_t){names[i], i == 0 ? long_value : "v"};
    }
    assert_int_equal(cairn_ingest_headers_keep(&ev, h, N), 0);
    assert_int_equal(ev.n_raw_headers, 64);
    assert_int_equal(strlen(ev.raw_headers[0]->value), 2048);
    assert_string_equal(ev.raw_headers[63]->key, "x-github-extra-63");
    /* Full: a later call keeps nothing more. */
    assert_int_equal(cairn_ingest_headers_keep(&ev, h, 1), 0);
    assert_int_equal(ev.n_raw_headers, 64);
    for (size_t i = 0; i < ev.n_raw_headers; i++) {
        free(ev.raw_headers[i]->key);
        free(ev.raw_headers[i]->value);
        free(ev.raw_headers[i]);
    }
    free(ev.raw_headers);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(source_headers_are_kept_in_any_case),
        cmocka_unit_test(credentials_are_never_kept),
        cmocka_unit_test(long_names_get_the_same_verdicts),
        cmocka_unit_test(lookup_ignores_case),
        cmocka_unit_test(keep_copies_the_headers_that_matter_lower_cased),
        cmocka_unit_test(keep_with_nothing_to_keep_leaves_no_list),
        cmocka_unit_test(keep_bounds_the_count_and_the_value_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
