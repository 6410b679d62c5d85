/* Tests for the outbox: the next index and delivery marks survive a reopen,
 * and "sent" is committed together with the next index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "outbox.h"

static void s_remove_env(const char *dir)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/data.mdb", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/lock.mdb", dir);
    unlink(path);
    rmdir(dir);
}

static void a_new_outbox_starts_at_index_zero_with_nothing_marked(void **state)
{
    char dir[] = "/tmp/cairn-notify-outbox-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cairn_notify_outbox_t *ob = NULL;
    uint64_t next = 99;
    cairn_notify_mark_t mark = CAIRN_NOTIFY_MARK_SENT;

    assert_int_equal(cairn_notify_outbox_open(dir, &ob), 0);
    assert_int_equal(cairn_notify_outbox_next(ob, &next), 0);
    assert_int_equal(next, 0);
    assert_int_equal(cairn_notify_outbox_mark(ob, "file", 0, &mark), 0);
    assert_int_equal(mark, CAIRN_NOTIFY_MARK_NONE);
    cairn_notify_outbox_destroy(&ob);
    assert_null(ob);
    s_remove_env(dir);
}

static void marks_and_next_index_survive_a_reopen(void **state)
{
    char dir[] = "/tmp/cairn-notify-outbox-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cairn_notify_outbox_t *ob = NULL;
    uint64_t next = 0;
    cairn_notify_mark_t mark = CAIRN_NOTIFY_MARK_NONE;

    assert_int_equal(cairn_notify_outbox_open(dir, &ob), 0);
    assert_int_equal(cairn_notify_outbox_set_next(ob, 3), 0);
    assert_int_equal(cairn_notify_outbox_mark_written(ob, "file", 3), 0);
    cairn_notify_outbox_destroy(&ob);

    assert_int_equal(cairn_notify_outbox_open(dir, &ob), 0);
    assert_int_equal(cairn_notify_outbox_next(ob, &next), 0);
    assert_int_equal(next, 3);
    assert_int_equal(cairn_notify_outbox_mark(ob, "file", 3, &mark), 0);
    assert_int_equal(mark, CAIRN_NOTIFY_MARK_WRITTEN);
    /* Marks are per receiver. */
    assert_int_equal(cairn_notify_outbox_mark(ob, "slack", 3, &mark), 0);
    assert_int_equal(mark, CAIRN_NOTIFY_MARK_NONE);
    cairn_notify_outbox_destroy(&ob);
    s_remove_env(dir);
}

static void commit_sent_marks_sent_and_advances_next_together(void **state)
{
    char dir[] = "/tmp/cairn-notify-outbox-XXXXXX";
    assert_non_null(mkdtemp(dir));
    cairn_notify_outbox_t *ob = NULL;
    uint64_t next = 0;
    cairn_notify_mark_t mark = CAIRN_NOTIFY_MARK_NONE;

    assert_int_equal(cairn_notify_outbox_open(dir, &ob), 0);
    assert_int_equal(cairn_notify_outbox_mark_written(ob, "file", 5), 0);
    assert_int_equal(cairn_notify_outbox_commit_sent(ob, "file", 5, true), 0);
    assert_int_equal(cairn_notify_outbox_mark(ob, "file", 5, &mark), 0);
    assert_int_equal(mark, CAIRN_NOTIFY_MARK_SENT);
    assert_int_equal(cairn_notify_outbox_next(ob, &next), 0);
    assert_int_equal(next, 6);

    /* Without advance only the mark moves (one of several receivers is done). */
    assert_int_equal(cairn_notify_outbox_commit_sent(ob, "file", 6, false), 0);
    assert_int_equal(cairn_notify_outbox_mark(ob, "file", 6, &mark), 0);
    assert_int_equal(mark, CAIRN_NOTIFY_MARK_SENT);
    assert_int_equal(cairn_notify_outbox_next(ob, &next), 0);
    assert_int_equal(next, 6);
    cairn_notify_outbox_destroy(&ob);
    s_remove_env(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_new_outbox_starts_at_index_zero_with_nothing_marked),
        cmocka_unit_test(marks_and_next_index_survive_a_reopen),
        cmocka_unit_test(commit_sent_marks_sent_and_advances_next_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
