/* Tests for the normalizers' shared field helpers: JSON paths, Cairn-Change
 * trailers, repository URLs, hosts, full SHAs, outcome words, and keys that
 * stay bounded whatever a sender puts in its delivery id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "normalize_fields.h"

static void paths_walk_objects_and_lists(void **state)
{
    (void)state;
    cJSON *root = cJSON_Parse("{\"a\":{\"list\":[{\"n\":1},{\"n\":\"two\"}],\"empty\":\"\","
                              "\"nothing\":null,\"yes\":true}}");
    char buf[32];
    assert_non_null(root);
    assert_string_equal(cairn_nf_text_at(root, "a.list.0.n", buf), "1");
    assert_string_equal(cairn_nf_str(root, "a.list.1.n"), "two");
    assert_string_equal(cairn_nf_text_at(root, "a.yes", buf), "true");
    assert_null(cairn_nf_at(root, "a.list.2.n"));
    assert_null(cairn_nf_at(root, "a.list.x"));
    assert_null(cairn_nf_at(root, "a.nothing"));
    assert_null(cairn_nf_str(root, "a.empty"));
    assert_null(cairn_nf_str(root, "a.list"));
    cJSON_Delete(root);
}

static void the_last_cairn_change_trailer_wins(void **state)
{
    (void)state;
    char out[64];
    assert_true(
        cairn_nf_trailer("Fix\n\nCairn-Change: CHG-1\r\n", "Cairn-Change", out, sizeof out));
    assert_string_equal(out, "CHG-1");
    assert_true(cairn_nf_trailer("cairn-change:CHG-2 (see ticket)\nCairn-Change:  CHG-3",
                                 "Cairn-Change", out, sizeof out));
    assert_string_equal(out, "CHG-3");
    assert_false(
        cairn_nf_trailer("mentions Cairn-Change: CHG-4 inline", "Cairn-Change", out, sizeof out));
    assert_false(cairn_nf_trailer("Cairn-Changes: CHG-5", "Cairn-Change", out, sizeof out));
    assert_false(cairn_nf_trailer("Cairn-Change:   \n", "Cairn-Change", out, sizeof out));
    assert_false(cairn_nf_trailer("", "Cairn-Change", out, sizeof out));
}

static void repository_urls_become_owner_and_name(void **state)
{
    (void)state;
    char out[128];
    assert_true(cairn_nf_repo_from_url("https://github.com/acme/payments.git", out, sizeof out));
    assert_string_equal(out, "acme/payments");
    assert_true(cairn_nf_repo_from_url("git@github.com:acme/payments.git", out, sizeof out));
    assert_string_equal(out, "acme/payments");
    assert_true(
        cairn_nf_repo_from_url("ssh://git@gitlab.example:2222/group/sub/app/", out, sizeof out));
    assert_string_equal(out, "group/sub/app");
    assert_false(cairn_nf_repo_from_url("https://github.com/", out, sizeof out));
    assert_false(cairn_nf_repo_from_url("https://github.com/acme", out, sizeof out));
    assert_false(cairn_nf_repo_from_url("payments", out, sizeof out));
}

static void hosts_shas_and_outcomes(void **state)
{
    (void)state;
    char out[64], buf[32];
    assert_true(cairn_nf_host("https://user:pw@GitLab.Example:8443/a/b", out, sizeof out));
    assert_string_equal(out, "gitlab.example");
    assert_false(cairn_nf_host("gitlab.example/a", out, sizeof out));
    assert_true(cairn_nf_is_sha("9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070"));
    assert_false(cairn_nf_is_sha("9f2c1e4b"));
    assert_false(cairn_nf_is_sha("9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a291807g"));
    assert_string_equal(cairn_nf_outcome("SUCCESS", buf, sizeof buf), "success");
    assert_string_equal(cairn_nf_outcome("UNSTABLE", buf, sizeof buf), "failure");
    assert_string_equal(cairn_nf_outcome("timed_out", buf, sizeof buf), "failure");
    assert_string_equal(cairn_nf_outcome("cancelled", buf, sizeof buf), "cancel");
    assert_string_equal(cairn_nf_outcome("Neutral", buf, sizeof buf), "neutral");
    assert_null(cairn_nf_outcome(NULL, buf, sizeof buf));
}

static void long_keys_are_hashed_not_cut(void **state)
{
    (void)state;
    char key[80], material[200];
    cairn_nf_key(key, sizeof key, "jira", "abc");
    assert_string_equal(key, "jira:abc");
    memset(material, 'x', sizeof material - 1);
    material[sizeof material - 1] = '\0';
    cairn_nf_key(key, sizeof key, "jira", material);
    assert_int_equal(strlen(key), strlen("jira:sha256:") + 64);
    material[150] = 'y'; /* differs only past where a cut would end */
    char other[80];
    cairn_nf_key(other, sizeof other, "jira", material);
    assert_string_not_equal(key, other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paths_walk_objects_and_lists),
        cmocka_unit_test(the_last_cairn_change_trailer_wins),
        cmocka_unit_test(repository_urls_become_owner_and_name),
        cmocka_unit_test(hosts_shas_and_outcomes),
        cmocka_unit_test(long_keys_are_hashed_not_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
