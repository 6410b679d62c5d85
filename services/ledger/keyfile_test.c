/* Tests for the ledger's signing key file: created 0600 in a 0700
 * directory when missing, loaded when present, refused when others can
 * read it or when it names another origin. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "cairn/error.h"
#include "keyfile.h"
#include "testutil.h"

static void test_a_missing_key_is_created_private_and_then_reloaded(void **state)
{
    (void)state;
    char dir[64], path[128], sub[128];
    lt_mkdtemp(dir, "cairn-ledger-key");
    snprintf(sub, sizeof sub, "%s/keys", dir);
    snprintf(path, sizeof path, "%s/keys/ledger.key", dir);
    cairn_note_signer_t *a = NULL, *b = NULL;
    bool created = false;
    assert_int_equal(cairn_ledger_keyfile_open(path, LT_ORIGIN, &a, &created), 0);
    assert_true(created);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(stat(sub, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    assert_int_equal(cairn_ledger_keyfile_open(path, LT_ORIGIN, &b, &created), 0);
    assert_false(created);
    assert_int_equal(cairn_note_signer_keyid(a), cairn_note_signer_keyid(b));
    assert_string_equal(cairn_note_signer_name(b), LT_ORIGIN);
    cairn_note_signer_destroy(&b);

    /* The key of another origin is refused. */
    assert_int_equal(cairn_ledger_keyfile_open(path, "other.example/log", &b, &created),
                     CAIRN_ECONFIG);
    assert_null(b);

    /* A key others may read is refused. */
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(cairn_ledger_keyfile_open(path, LT_ORIGIN, &b, &created), -EPERM);
    assert_null(b);
    cairn_note_signer_destroy(&a);
    lt_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_missing_key_is_created_private_and_then_reloaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
