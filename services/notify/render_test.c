/* Tests for what notifications say: Slack's limits and escaping, the
 * e-mail's structure and quoted-printable, the CloudEvent and Alertmanager
 * bodies, and Standard Webhooks signatures against the published vector. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn/error.h"
#include "render.h"
#include "retry.h"
#include "secret.h"
#include "sign.h"

#define T0 INT64_C(1795600800000)

typedef struct {
    cairn_labels_t *labels[80];
    json_t *bodies[80];
    cairn_note_alert_t alerts[80];
    cairn_labels_t *group;
    cairn_notification_t n;
} s_fx_t;

/* A notification of count approval requests, with summaries of len bytes. */
static void s_make(s_fx_t *fx, size_t count, size_t len)
{
    memset(fx, 0, sizeof *fx);
    char *summary = malloc(len + 1);
    memset(summary, 'x', len);
    summary[len] = '\0';
    if (len > 10)
        memcpy(summary, "<!channel>&", 11);
    for (size_t i = 0; i < count; i++) {
        cairn_labels_t *l = cairn_labels_new();
        cairn_labels_set(l, "kind", "approval_requested");
        cairn_labels_set(l, "change", "CHG-1");
        cairn_labels_set(l, "risk", "high");
        cairn_labels_set(l, "role", "dev,tech_lead");
        fx->labels[i] = l;
        fx->bodies[i] = json_pack("{s:s, s:[s], s:[s,s], s:s, s:s, s:{s:s, s:[]}}", "title",
                                  "CHG-1 needs approval before deployment", "required", summary,
                                  "roles", "dev", "tech_lead", "who",
                                  "anyone with role dev or tech_lead except dana (the author)",
                                  "how", "cairn approve CHG-1 --as <your user name> --role dev",
                                  "line", "summary", "s", "reasons");
        fx->alerts[i] = (cairn_note_alert_t){.labels = l,
                                             .body = fx->bodies[i],
                                             .firing = true,
                                             .starts_ms = T0,
                                             .fingerprint = 0xabc + i,
                                             .index = 7 + i,
                                             .fresh = true};
    }
    free(summary);
    fx->group = cairn_labels_new();
    cairn_labels_set(fx->group, "change", "CHG-1");
    fx->n = (cairn_notification_t){
        .receiver = "team",
        .group_key = "{}:{change=\"CHG-1\"}",
        .group_id = "0123456789abcdef",
        .sequence = 3,
        .message_id = "msg_0123456789abcdef_3",
        .group_labels = fx->group,
        .common_labels = fx->group,
        .alerts = fx->alerts,
        .n_alerts = count,
        .time_ms = T0,
        .external_url = "",
    };
}

static void s_free(s_fx_t *fx)
{
    for (size_t i = 0; i < fx->n.n_alerts; i++) {
        cairn_labels_destroy(&fx->labels[i]);
        json_decref(fx->bodies[i]);
    }
    cairn_labels_destroy(&fx->group);
}

static void slack_messages_stay_inside_slacks_limits_and_escape_text(void **state)
{
    s_fx_t fx;
    cairn_integration_t in = {.type = CAIRN_INTEGRATION_SLACK, .channel = "#rel"};
    /* 60 alerts with 4000-byte texts: every section splits, messages split. */
    s_make(&fx, 60, 4000);
    json_t *msgs = NULL;
    assert_int_equal(cairn_render_slack(&fx.n, &in, &msgs), 0);
    assert_true(json_array_size(msgs) >= 3);
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m)
    {
        json_t *msg = json_loads(json_string_value(m), 0, NULL);
        assert_non_null(msg);
        assert_string_equal(json_string_value(json_object_get(msg, "channel")), "#rel");
        assert_true(strlen(json_string_value(json_object_get(msg, "text"))) <=
                    CAIRN_SLACK_TEXT_MAX);
        json_t *blocks = json_object_get(msg, "blocks");
        assert_true(json_array_size(blocks) <= CAIRN_SLACK_BLOCKS_MAX);
        size_t k;
        json_t *b;
        json_array_foreach(blocks, k, b)
        {
            const char *type = json_string_value(json_object_get(b, "type"));
            const char *text =
                json_string_value(json_object_get(json_object_get(b, "text"), "text"));
            if (!strcmp(type, "header"))
                assert_true(strlen(text) <= CAIRN_SLACK_HEADER_MAX);
            if (!strcmp(type, "section")) {
                assert_true(strlen(text) <= CAIRN_SLACK_SECTION_MAX);
                assert_null(strstr(text, "<!channel>"));
            }
        }
        json_decref(msg);
    }
    char *all = json_dumps(msgs, 0);
    assert_non_null(strstr(all, "&lt;!channel&gt;&amp;"));
    assert_non_null(strstr(all, "`cairn approve CHG-1 --as &lt;your user name&gt; --role dev`"));
    free(all);
    json_decref(msgs);
    s_free(&fx);

    /* A small one is one message: header, section, context. */
    s_make(&fx, 1, 20);
    assert_int_equal(cairn_render_slack(&fx.n, &in, &msgs), 0);
    assert_int_equal(json_array_size(msgs), 1);
    json_t *msg = json_loads(json_string_value(json_array_get(msgs, 0)), 0, NULL);
    assert_int_equal(json_array_size(json_object_get(msg, "blocks")), 3);
    assert_string_equal(json_string_value(json_object_get(msg, "text")),
                        "[FIRING] CHG-1 needs approval before deployment");
    json_decref(msg);
    json_decref(msgs);
    s_free(&fx);
}

static void an_email_is_multipart_quoted_printable_with_a_stable_message_id(void **state)
{
    s_fx_t fx;
    s_make(&fx, 2, 200);
    cairn_integration_t in = {.type = CAIRN_INTEGRATION_EMAIL,
                              .from = "Cairn <cairn@example.org>",
                              .to = "ops@example.org"};
    char *mail = NULL;
    assert_int_equal(cairn_render_email(&fx.n, &in, &mail), 0);
    assert_non_null(strstr(mail, "From: Cairn <cairn@example.org>\r\n"));
    assert_non_null(strstr(mail, "Subject: [FIRING:2] CHG-1 needs approval before deployment "
                                 "(+1 more)\r\n"));
    assert_non_null(strstr(mail, "Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n"));
    assert_non_null(strstr(mail, "Message-ID: <msg_0123456789abcdef_3@example.org>\r\n"));
    assert_non_null(strstr(mail, "Content-Type: multipart/alternative; boundary=\"=_cairn_"));
    assert_non_null(strstr(mail, "Content-Type: text/plain; charset=UTF-8"));
    assert_non_null(strstr(mail, "Content-Type: text/html; charset=UTF-8"));
    /* No line longer than RFC 5322 allows. */
    for (char *p = mail; *p;) {
        char *nl = strstr(p, "\r\n");
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        assert_true(len <= 78);
        p += len + (nl ? 2 : 0);
    }
    free(mail);
    s_free(&fx);

    char *qp = cairn_render_qp("a=b caf\xc3\xa9 \n.dot");
    assert_string_equal(qp, "a=3Db caf=C3=A9=20\r\n=2Edot");
    free(qp);
}

static void the_webhook_body_is_a_cloudevent_carrying_alertmanagers_payload(void **state)
{
    s_fx_t fx;
    s_make(&fx, 3, 20);
    cairn_integration_t in = {.type = CAIRN_INTEGRATION_WEBHOOK, .max_alerts = 2};
    char *body = NULL;
    assert_int_equal(cairn_render_cloudevent(&fx.n, &in, &body), 0);
    json_t *ce = json_loads(body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(ce, "id")), "msg_0123456789abcdef_3");
    assert_string_equal(json_string_value(json_object_get(ce, "type")),
                        "dev.cdeventsx.cairn-notification.0.1.0");
    assert_string_equal(json_string_value(json_object_get(ce, "subject")), "CHG-1");
    json_t *data = json_object_get(ce, "data");
    assert_string_equal(json_string_value(json_object_get(data, "version")), "4");
    assert_string_equal(json_string_value(json_object_get(data, "status")), "firing");
    assert_int_equal(json_array_size(json_object_get(data, "alerts")), 2);
    assert_int_equal(json_integer_value(json_object_get(data, "truncatedAlerts")), 1);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(data, "cairn"), "ledgerIndexes")), 3);
    json_decref(ce);
    free(body);
    assert_int_equal(cairn_render_alertmanager(&fx.n, &body), 0);
    json_t *am = json_loads(body, 0, NULL);
    assert_int_equal(json_array_size(am), 3);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(am, 0), "labels"), "alertname")),
                        "approval_requested");
    json_decref(am);
    free(body);
    Cairn__V1__InboxItem *item = NULL;
    assert_int_equal(cairn_render_inbox(&fx.n, &item), 0);
    assert_int_equal(item->n_roles, 2);
    assert_string_equal(item->change_id, "CHG-1");
    assert_non_null(strstr(item->text, "How to approve: cairn approve CHG-1"));
    cairn_render_inbox_free(&item);
    s_free(&fx);
}

static void signatures_match_the_standard_webhooks_vector_and_verify(void **state)
{
    uint8_t *key = NULL;
    size_t klen = 0;
    assert_int_equal(
        cairn_secret_decode_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", &key, &klen),
        0);
    const char *body = "{\"test\": 2432232314}";
    char sig[CAIRN_SIGNATURE_MAX];
    assert_int_equal(cairn_webhook_sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body,
                                        strlen(body), key, klen, NULL, sig),
                     0);
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    cairn_secret_free(&key, klen);

    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    assert_int_equal(cairn_webhook_sign("msg_1", 1700000000, body, strlen(body), NULL, 0, sk, sig),
                     0);
    assert_int_equal(strncmp(sig, "v1a,", 4), 0);
    uint8_t raw[64];
    size_t rlen = 0;
    assert_int_equal(sodium_base642bin(raw, sizeof raw, sig + 4, strlen(sig + 4), NULL, &rlen, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    const char *content = "msg_1.1700000000.{\"test\": 2432232314}";
    assert_int_equal(
        crypto_sign_verify_detached(raw, (const uint8_t *)content, strlen(content), pk), 0);
    assert_int_equal(cairn_secret_decode_key("whsec_c2hvcnQ=", "whsec_", &key, &klen),
                     CAIRN_ECONFIG);
}

static void outcomes_and_backoff_follow_the_receiver(void **state)
{
    cairn_response_t r = {.status = 200};
    assert_int_equal(cairn_retry_classify(CAIRN_INTEGRATION_WEBHOOK, &r), CAIRN_OUTCOME_DELIVERED);
    r.status = 410;
    assert_int_equal(cairn_retry_classify(CAIRN_INTEGRATION_WEBHOOK, &r), CAIRN_OUTCOME_GONE);
    r.status = 429;
    assert_int_equal(cairn_retry_classify(CAIRN_INTEGRATION_SLACK, &r), CAIRN_OUTCOME_RETRY);
    r.status = 503;
    assert_int_equal(cairn_retry_classify(CAIRN_INTEGRATION_WEBHOOK, &r), CAIRN_OUTCOME_RETRY);
    r.status = 301;
    assert_int_equal(cairn_retry_classify(CAIRN_INTEGRATION_WEBHOOK, &r), CAIRN_OUTCOME_PERMANENT);
    r.status = 400;
    assert_int_equal(cairn_retry_classify(CAIRN_INTEGRATION_SLACK, &r), CAIRN_OUTCOME_PERMANENT);
    r.status = 0;
    r.curl_code = 7; /* couldn't connect */
    assert_int_equal(cairn_retry_classify(CAIRN_INTEGRATION_WEBHOOK, &r), CAIRN_OUTCOME_RETRY);
    r.curl_code = 64; /* CURLE_USE_SSL_FAILED: STARTTLS required, not offered */
    assert_int_equal(cairn_retry_classify(CAIRN_INTEGRATION_EMAIL, &r), CAIRN_OUTCOME_PERMANENT);

    cairn_retry_policy_t p = {
        .initial_ms = 1000, .max_ms = 8000, .max_attempts = 5, .max_age_ms = 60000};
    for (uint32_t rnd = 0; rnd < 1000; rnd += 97) {
        int64_t d1 = cairn_retry_delay(&p, 1, -1, rnd), d3 = cairn_retry_delay(&p, 3, -1, rnd);
        int64_t d9 = cairn_retry_delay(&p, 9, -1, rnd);
        assert_true(d1 >= 500 && d1 <= 1000);
        assert_true(d3 >= 2000 && d3 <= 4000);
        assert_true(d9 >= 4000 && d9 <= 8000);
    }
    assert_int_equal(cairn_retry_delay(&p, 1, 30000, 0), 30000); /* Retry-After wins */
    assert_false(cairn_retry_exhausted(&p, 4, 0, 1000));
    assert_true(cairn_retry_exhausted(&p, 5, 0, 1000));
    assert_true(cairn_retry_exhausted(&p, 1, 0, 61000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slack_messages_stay_inside_slacks_limits_and_escape_text),
        cmocka_unit_test(an_email_is_multipart_quoted_printable_with_a_stable_message_id),
        cmocka_unit_test(the_webhook_body_is_a_cloudevent_carrying_alertmanagers_payload),
        cmocka_unit_test(signatures_match_the_standard_webhooks_vector_and_verify),
        cmocka_unit_test(outcomes_and_backoff_follow_the_receiver),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
