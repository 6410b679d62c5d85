/* Tests for correlation keys: what an event records for its change, and
 * what a query key is looked up as. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "keys.h"

static void s_expect(const cairn_keys_t *k, const char *const *want, size_t n)
{
    assert_int_equal(k->n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(k->items[i], want[i]);
}

static void an_event_records_every_key_it_carries(void **state)
{
    (void)state;
    Cairn__V1__Event ev = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Correlation c = CAIRN__V1__CORRELATION__INIT;
    Cairn__V1__Governance g = CAIRN__V1__GOVERNANCE__INIT;
    ev.correlation = &c;
    ev.governance = &g;
    c.commit_sha = "9F2C1E4B7A6D5C3B2A1908F7E6D5C4B3A2918070";
    c.repository = "acme/payments";
    c.pr_number = "42";
    c.incident_id = "INC-7";
    c.release_id = "v1.2.0";
    c.artifact_digest = "sha256:abc";
    c.environment = "prod";
    g.merge_sha = "74d2df7e0e3b8f4e3c2a1b0f9e8d7c6b5a493827";
    cairn_keys_t k;
    /* No change named: nothing to point at. */
    assert_int_equal(cairn_keys_of_event(&ev, &k), 0);
    assert_int_equal(k.n, 0);
    c.change_id = "CHG-1";
    assert_int_equal(cairn_keys_of_event(&ev, &k), 0);
    const char *want[] = {"sha:9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070",
                          "sha:74d2df7e0e3b8f4e3c2a1b0f9e8d7c6b5a493827",
                          "pr:acme/payments#42",
                          "incident:INC-7",
                          "release:v1.2.0",
                          "artifact:sha256:abc"};
    s_expect(&k, want, 6);
    cairn_keys_clear(&k);

    /* An ITSM record's change id is its change request's number; a PR
     * number without its repository names nothing. */
    Cairn__V1__Event sn = CAIRN__V1__EVENT__INIT;
    Cairn__V1__Correlation sc = CAIRN__V1__CORRELATION__INIT;
    sn.correlation = &sc;
    sn.ingest_source = "servicenow";
    sc.change_id = "CHG0030042";
    sc.pr_number = "42";
    assert_int_equal(cairn_keys_of_event(&sn, &k), 0);
    const char *want_sn[] = {"cr:CHG0030042"};
    s_expect(&k, want_sn, 1);
    cairn_keys_clear(&k);

    /* Keys too long to store are left out. */
    char longsha[600];
    memset(longsha, 'a', sizeof longsha - 1);
    longsha[sizeof longsha - 1] = '\0';
    c.commit_sha = longsha;
    assert_int_equal(cairn_keys_of_event(&ev, &k), 0);
    assert_int_equal(k.n, 5);
    cairn_keys_clear(&k);
}

static void a_query_key_is_looked_up_by_its_prefix_or_its_shape(void **state)
{
    (void)state;
    cairn_keys_t k;
    assert_int_equal(cairn_keys_candidates("sha:ABCDEF", &k), 0);
    const char *sha[] = {"sha:abcdef"};
    s_expect(&k, sha, 1);
    cairn_keys_clear(&k);
    assert_int_equal(cairn_keys_candidates("9F2C1E4B7A6D5C3B2A1908F7E6D5C4B3A2918070", &k), 0);
    const char *bare[] = {"sha:9f2c1e4b7a6d5c3b2a1908f7e6d5c4b3a2918070"};
    s_expect(&k, bare, 1);
    cairn_keys_clear(&k);
    assert_int_equal(cairn_keys_candidates("acme/payments#42", &k), 0);
    const char *pr[] = {"pr:acme/payments#42"};
    s_expect(&k, pr, 1);
    cairn_keys_clear(&k);
    assert_int_equal(cairn_keys_candidates("INC0010001", &k), 0);
    const char *other[] = {"incident:INC0010001", "release:INC0010001", "cr:INC0010001"};
    s_expect(&k, other, 3);
    cairn_keys_clear(&k);
    assert_int_equal(cairn_keys_candidates("release:v2", &k), 0);
    const char *rel[] = {"release:v2"};
    s_expect(&k, rel, 1);
    cairn_keys_clear(&k);
    /* A prefix with nothing after it is a bare word. */
    assert_int_equal(cairn_keys_candidates("#7", &k), 0);
    assert_int_equal(k.n, 3);
    cairn_keys_clear(&k);
    assert_int_equal(cairn_keys_candidates("", &k), 0);
    assert_int_equal(k.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_event_records_every_key_it_carries),
        cmocka_unit_test(a_query_key_is_looked_up_by_its_prefix_or_its_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
