/* Tests for path globs: `*` stays within a segment, `**` spans segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "glob.h"

static void double_stars_span_directories_and_single_stars_do_not(void **state)
{
    (void)state;
    assert_true(cairn_glob_match("db/migrations/**", "db/migrations/001.sql"));
    assert_true(cairn_glob_match("db/migrations/**", "db/migrations/2026/001.sql"));
    assert_true(cairn_glob_match("db/migrations/**", "./db/migrations/001.sql"));
    assert_false(cairn_glob_match("db/migrations/**", "db/migrations"));
    assert_false(cairn_glob_match("db/migrations/**", "db/migrationsx/1.sql"));
    assert_true(cairn_glob_match("db/*.sql", "db/a.sql"));
    assert_false(cairn_glob_match("db/*.sql", "db/x/a.sql"));
    assert_true(cairn_glob_match("**/*.sql", "a.sql"));
    assert_true(cairn_glob_match("**/*.sql", "db/x/a.sql"));
    assert_true(cairn_glob_match("src/**/test_*.c", "src/test_a.c"));
    assert_true(cairn_glob_match("src/**/test_*.c", "src/a/b/test_a.c"));
    assert_false(cairn_glob_match("src/**/test_*.c", "src/a/b/atest_a.c"));
    assert_true(cairn_glob_match("v?.[0-9]", "v1.2"));
    assert_false(cairn_glob_match("v?.[!0-9]", "v1.2"));
    assert_true(cairn_glob_match("a\\*b", "a*b"));
    assert_false(cairn_glob_match("a\\*b", "axb"));
    assert_true(cairn_glob_valid("db/**"));
    assert_false(cairn_glob_valid("db/[a-"));
    assert_false(cairn_glob_valid("db\\"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(double_stars_span_directories_and_single_stars_do_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
