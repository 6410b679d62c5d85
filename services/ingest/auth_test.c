/* Tests for request authentication and secrets: known-answer vectors
 * (GitHub's documented X-Hub-Signature-256 example and the Standard
 * Webhooks specification's example, both re-computed with openssl), the
 * parsing of each scheme's header, tokens over Bearer and Basic, secrets
 * from files and the environment, and error sentences that never hold a
 * secret. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"
#include "cairn/error.h"
#include "secret.h"

static int s_check(const cairn_ingest_auth_settings_t *settings, const char *source,
                   const cairn_ingest_header_t *headers, size_t n, const char *body, int64_t now_ms,
                   char *how, char *err)
{
    cairn_ingest_auth_t *auth = NULL;
    char cfg_err[256] = "";
    if (cairn_ingest_auth_new(settings, &auth, cfg_err, sizeof cfg_err) < 0)
        fail_msg("auth settings refused: %s", cfg_err);
    how[0] = err[0] = '\0';
    int rc = cairn_ingest_auth_check(auth, source, headers, n, body, strlen(body), now_ms, how, 96,
                                     err, 512);
    cairn_ingest_auth_destroy(&auth);
    return rc;
}

static void github_signatures_match_the_documented_example(void **state)
{
    (void)state;
    char how[96], err[512];
    cairn_ingest_auth_settings_t s = {.github_secret = "It's a Secret to Everybody"};
    cairn_ingest_header_t ok[] = {
        {"X-Hub-Signature-256",
         "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}};
    assert_int_equal(s_check(&s, "github", ok, 1, "Hello, World!", 0, how, err), 0);
    assert_string_equal(how, "x-hub-signature-256");

    cairn_ingest_header_t upper[] = {
        {"x-hub-signature-256",
         "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17"}};
    assert_int_equal(s_check(&s, "github", upper, 1, "Hello, World!", 0, how, err), 0);

    assert_int_equal(s_check(&s, "github", ok, 1, "Hello, World?", 0, how, err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "X-Hub-Signature-256 does not match the body"));
    assert_null(strstr(err, "Everybody"));

    static const char *const malformed[] = {
        "sha256=757107ea", "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1z",
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17 "};
    for (size_t i = 0; i < 4; i++) {
        cairn_ingest_header_t bad[] = {{"X-Hub-Signature-256", malformed[i]}};
        assert_int_equal(s_check(&s, "github", bad, 1, "Hello, World!", 0, how, err),
                         CAIRN_EINVALID);
        assert_string_equal(err, "X-Hub-Signature-256 must be 'sha256=' followed by 64 hex digits");
    }
}

static void standard_webhooks_signatures_match_the_published_example(void **state)
{
    (void)state;
    char how[96], err[512];
    const char *body = "{\"test\": 2432232314}";
    cairn_ingest_auth_settings_t s = {.gitlab_signing_secret =
                                          "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"};
    cairn_ingest_header_t h[] = {
        {"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
        {"webhook-timestamp", "1614265330"},
        {"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
    };
    int64_t at = 1614265330LL * 1000;
    assert_int_equal(s_check(&s, "gitlab", h, 3, body, at, how, err), 0);
    assert_string_equal(how, "webhook-signature");
    /* within the window on either side, and out of it */
    assert_int_equal(s_check(&s, "gitlab", h, 3, body, at + 300000, how, err), 0);
    assert_int_equal(s_check(&s, "gitlab", h, 3, body, at - 300000, how, err), 0);
    assert_int_equal(s_check(&s, "gitlab", h, 3, body, at + 301000, how, err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "webhook-timestamp is 301 s away"));
    /* the id and timestamp are signed too */
    cairn_ingest_header_t moved[] = {h[0], {"webhook-timestamp", "1614265331"}, h[2]};
    assert_int_equal(s_check(&s, "gitlab", moved, 3, body, at, how, err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "no v1 signature in webhook-signature matches the body"));
    cairn_ingest_header_t only_asym[] = {h[0], h[1], {"webhook-signature", "v1a,AAAA"}};
    assert_int_equal(s_check(&s, "gitlab", only_asym, 3, body, at, how, err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "holds no 'v1,<base64>' signature"));
    cairn_ingest_header_t no_id[] = {h[1], h[2]};
    assert_int_equal(s_check(&s, "gitlab", no_id, 2, body, at, how, err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "needs the webhook-id and webhook-timestamp headers"));
    cairn_ingest_header_t no_sig[] = {h[0], h[1]};
    assert_int_equal(s_check(&s, "gitlab", no_sig, 2, body, at, how, err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "missing webhook-signature header"));
}

static void gitlab_tokens_compare_whole(void **state)
{
    (void)state;
    char how[96], err[512];
    cairn_ingest_auth_settings_t s = {.gitlab_token = "gl-token"};
    cairn_ingest_header_t ok[] = {{"X-Gitlab-Token", "gl-token"}};
    cairn_ingest_header_t prefix[] = {{"X-Gitlab-Token", "gl-toke"}};
    cairn_ingest_header_t longer[] = {{"X-Gitlab-Token", "gl-token-2"}};
    assert_int_equal(s_check(&s, "gitlab", ok, 1, "{}", 0, how, err), 0);
    assert_string_equal(how, "x-gitlab-token");
    assert_int_equal(s_check(&s, "gitlab", prefix, 1, "{}", 0, how, err), CAIRN_EINVALID);
    assert_int_equal(s_check(&s, "gitlab", longer, 1, "{}", 0, how, err), CAIRN_EINVALID);
    assert_string_equal(err, "X-Gitlab-Token does not match ingest.gitlab_token; set the "
                             "webhook's secret token in GitLab to it");
}

static void pagerduty_accepts_any_of_its_rotating_signatures(void **state)
{
    (void)state;
    char how[96], err[512];
    cairn_ingest_auth_settings_t s = {.pagerduty_secret = "It's a Secret to Everybody"};
    const char *right = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    const char *wrong = "0000000000000000000000000000000000000000000000000000000000000000";
    char value[256];
    snprintf(value, sizeof value, "v1=%s,v1=%s", wrong, right);
    cairn_ingest_header_t two[] = {{"X-PagerDuty-Signature", value}};
    assert_int_equal(s_check(&s, "pagerduty", two, 1, "Hello, World!", 0, how, err), 0);
    assert_string_equal(how, "x-pagerduty-signature");
    snprintf(value, sizeof value, "v1=%s, v1=%s", right, wrong);
    assert_int_equal(s_check(&s, "pagerduty", two, 1, "Hello, World!", 0, how, err), 0);
    snprintf(value, sizeof value, "v1=%s", wrong);
    assert_int_equal(s_check(&s, "pagerduty", two, 1, "Hello, World!", 0, how, err),
                     CAIRN_EINVALID);
    assert_non_null(strstr(err, "no v1 signature in X-PagerDuty-Signature matches the body"));
    snprintf(value, sizeof value, "v0=%s", right);
    assert_int_equal(s_check(&s, "pagerduty", two, 1, "Hello, World!", 0, how, err),
                     CAIRN_EINVALID);
    assert_non_null(strstr(err, "holds no 'v1=<hex>' signature"));
}

static void jira_uses_x_hub_signature(void **state)
{
    (void)state;
    char how[96], err[512];
    cairn_ingest_auth_settings_t s = {.jira_secret = "It's a Secret to Everybody"};
    cairn_ingest_header_t h[] = {
        {"X-Hub-Signature",
         "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}};
    assert_int_equal(s_check(&s, "jira", h, 1, "Hello, World!", 0, how, err), 0);
    assert_string_equal(how, "x-hub-signature");
    cairn_ingest_header_t gh[] = {{"X-Hub-Signature-256", h[0].value}};
    assert_int_equal(s_check(&s, "jira", gh, 1, "Hello, World!", 0, how, err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "missing X-Hub-Signature header"));
}

static void tokens_come_as_bearer_or_as_the_basic_password(void **state)
{
    (void)state;
    char how[96], err[512];
    cairn_ingest_auth_settings_t s = {.jenkins_token = "jenkins-token",
                                      .servicenow_token = "snow-token"};
    cairn_ingest_header_t bearer[] = {{"authorization", "Bearer jenkins-token"}};
    assert_int_equal(s_check(&s, "jenkins", bearer, 1, "{}", 0, how, err), 0);
    assert_string_equal(how, "authorization-bearer");
    /* the right token for another source is the wrong one here */
    assert_int_equal(s_check(&s, "servicenow", bearer, 1, "{}", 0, how, err), CAIRN_EINVALID);
    assert_string_equal(err, "the bearer token does not match ingest.servicenow_token; send the "
                             "token configured there");
    /* "jenkins:jenkins-token" */
    cairn_ingest_header_t basic[] = {{"Authorization", "Basic amVua2luczpqZW5raW5zLXRva2Vu"}};
    assert_int_equal(s_check(&s, "jenkins", basic, 1, "{}", 0, how, err), 0);
    assert_string_equal(how, "authorization-basic");
    cairn_ingest_header_t garbage[] = {{"Authorization", "Basic ***"}};
    assert_int_equal(s_check(&s, "jenkins", garbage, 1, "{}", 0, how, err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "are not base64 of user:password"));
    cairn_ingest_header_t other[] = {{"Authorization", "Token jenkins-token"}};
    assert_int_equal(s_check(&s, "jenkins", other, 1, "{}", 0, how, err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "must be 'Bearer <token>'"));
}

static void events_are_open_until_a_token_is_set(void **state)
{
    (void)state;
    char how[96], err[512];
    cairn_ingest_auth_settings_t open = {0};
    assert_int_equal(s_check(&open, "events", NULL, 0, "{}", 0, how, err), 0);
    assert_string_equal(how, "none");
    assert_int_equal(
        cairn_ingest_auth_check(NULL, "events", NULL, 0, "{}", 2, 0, how, sizeof how, err, 512), 0);
    assert_int_equal(
        cairn_ingest_auth_check(NULL, "github", NULL, 0, "{}", 2, 0, how, sizeof how, err, 512),
        CAIRN_EINVALID);
    cairn_ingest_auth_settings_t closed = {.events_token = "ev"};
    assert_int_equal(s_check(&closed, "events", NULL, 0, "{}", 0, how, err), CAIRN_EINVALID);
    assert_non_null(strstr(err, "ingest.events_token"));
}

static void secrets_come_from_files_and_the_environment_and_are_never_echoed(void **state)
{
    (void)state;
    char path[] = "/tmp/cairn-secret-test-XXXXXX", spec[64], err[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "It's a Secret to Everybody\n", 27), 27);
    close(fd);
    cairn_secret_t *secret = NULL;
    snprintf(spec, sizeof spec, "file:%s", path);
    assert_int_equal(cairn_secret_load("ingest.github_secret", spec, &secret, err, sizeof err), 0);
    assert_int_equal(cairn_secret_len(secret), 26); /* the newline is dropped */
    cairn_secret_destroy(&secret);
    assert_null(secret);

    /* a file secret verifies like the literal one */
    char how[96];
    cairn_ingest_auth_settings_t s = {.github_secret = spec};
    cairn_ingest_header_t h[] = {
        {"X-Hub-Signature-256",
         "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}};
    assert_int_equal(s_check(&s, "github", h, 1, "Hello, World!", 0, how, err), 0);
    unlink(path);

    assert_int_equal(cairn_secret_load("ingest.github_secret", spec, &secret, err, sizeof err),
                     CAIRN_ECONFIG);
    assert_non_null(strstr(err, "ingest.github_secret reads the file /tmp/cairn-secret-test-"));

    setenv("CAIRN_TEST_SECRET", "from-the-environment", 1);
    assert_int_equal(
        cairn_secret_load("ingest.jira_secret", "env:CAIRN_TEST_SECRET", &secret, err, sizeof err),
        0);
    assert_memory_equal(cairn_secret_data(secret), "from-the-environment", 20);
    cairn_secret_destroy(&secret);
    unsetenv("CAIRN_TEST_SECRET");
    assert_int_equal(
        cairn_secret_load("ingest.jira_secret", "env:CAIRN_TEST_SECRET", &secret, err, sizeof err),
        CAIRN_ECONFIG);
    assert_string_equal(err, "ingest.jira_secret reads the environment variable "
                             "CAIRN_TEST_SECRET, which is not set or empty; set it or change "
                             "ingest.jira_secret");

    assert_int_equal(cairn_secret_load("ingest.jira_secret", "", &secret, err, sizeof err), 0);
    assert_null(secret);

    /* a signing secret with the whsec_ prefix must be base64 */
    cairn_ingest_auth_t *auth = NULL;
    cairn_ingest_auth_settings_t bad = {.gitlab_signing_secret = "whsec_not*base64"};
    assert_int_equal(cairn_ingest_auth_new(&bad, &auth, err, sizeof err), CAIRN_ECONFIG);
    assert_non_null(strstr(err, "ingest.gitlab_signing_secret starts with 'whsec_'"));
    assert_null(strstr(err, "not*base64"));
    assert_null(auth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(github_signatures_match_the_documented_example),
        cmocka_unit_test(standard_webhooks_signatures_match_the_published_example),
        cmocka_unit_test(gitlab_tokens_compare_whole),
        cmocka_unit_test(pagerduty_accepts_any_of_its_rotating_signatures),
        cmocka_unit_test(jira_uses_x_hub_signature),
        cmocka_unit_test(tokens_come_as_bearer_or_as_the_basic_password),
        cmocka_unit_test(events_are_open_until_a_token_is_set),
        cmocka_unit_test(secrets_come_from_files_and_the_environment_and_are_never_echoed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
