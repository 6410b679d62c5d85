/* Tests for the partition function (published FNV-1a vectors, fixed
 * assignments that running deployments rely on) and endpoint lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "cairn/partition.h"

static void the_hash_is_64_bit_fnv1a(void **state)
{
    (void)state;
    /* Published FNV-1a 64 test vectors. */
    assert_true(cairn_partition_hash("") == 0xcbf29ce484222325ULL);
    assert_true(cairn_partition_hash("a") == 0xaf63dc4c8601ec8cULL);
    assert_true(cairn_partition_hash("foobar") == 0x85944171f73967e8ULL);
}

static void a_change_keeps_its_partition(void **state)
{
    (void)state;
    /* Fixed values: changing them would move changes between running instances. */
    assert_int_equal(cairn_partition_of("CHG-1", 2), 1);
    assert_int_equal(cairn_partition_of("CHG-2", 2), 0);
    assert_int_equal(cairn_partition_of("CHG-3", 2), 1);
    assert_int_equal(cairn_partition_of("CHG-4", 2), 0);
    assert_int_equal(cairn_partition_of("CHG-7", 3), 1);
    assert_int_equal(cairn_partition_of("CHG-1", 3), 2);
    assert_int_equal(cairn_partition_of("CHG-1", 1), 0);
    assert_int_equal(cairn_partition_of("CHG-1", 0), 0);
    assert_int_equal(cairn_partition_of("", 2), 0); /* names no change: partition 0 */
    assert_int_equal(cairn_partition_of(NULL, 2), 0);
}

static void endpoint_lists_split_on_commas(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(cairn_partition_endpoint_count(""), 0);
    assert_int_equal(cairn_partition_endpoint_count(NULL), 0);
    assert_int_equal(cairn_partition_endpoint_count("tcp://a:1"), 1);
    assert_int_equal(cairn_partition_endpoint_count("tcp://a:1, tcp://b:2"), 2);
    assert_int_equal(cairn_partition_endpoint("tcp://a:1, tcp://b:2", 1, buf, sizeof buf), 0);
    assert_string_equal(buf, "tcp://b:2");
    assert_int_equal(cairn_partition_endpoint(" tcp://a:1 ,x", 0, buf, sizeof buf), 0);
    assert_string_equal(buf, "tcp://a:1");
    assert_int_equal(cairn_partition_endpoint("tcp://a:1", 1, buf, sizeof buf), CAIRN_ENOTFOUND);
    assert_int_equal(cairn_partition_endpoint("tcp://a:1", 0, buf, 4), CAIRN_ETOOLARGE);
    assert_true(cairn_partition_listed("tcp://a:1, tcp://b:2", "tcp://b:2"));
    assert_true(cairn_partition_listed("tcp://a:1, tcp://b:2", "tcp://a:1"));
    assert_false(cairn_partition_listed("tcp://a:1, tcp://b:2", "tcp://b:"));
    assert_false(cairn_partition_listed("tcp://a:1,,", ""));
    assert_false(cairn_partition_listed("", "tcp://a:1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_hash_is_64_bit_fnv1a),
        cmocka_unit_test(a_change_keeps_its_partition),
        cmocka_unit_test(endpoint_lists_split_on_commas),
    };
    return cmocka_run_group_tests_name("partition", tests, NULL, NULL);
}
