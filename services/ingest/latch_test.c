/* Tests for the one-shot latch: the waiter blocks until another thread
 * opens it, and then sees what that thread wrote before opening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <time.h>

#include "latch.h"

typedef struct {
    cairn_ingest_latch_t latch; /* opened by the worker */
    int value;                  /* written before opening */
} s_job_t;

static void *s_worker(void *arg)
{
    s_job_t *job = arg;
    /* Long enough that the waiter is blocked, not just late. */
    struct timespec ts = {0, 20 * 1000000L};
    nanosleep(&ts, NULL);
    job->value = 42;
    cairn_ingest_latch_open(&job->latch);
    return NULL;
}

static void the_waiter_sees_what_was_written_before_the_latch_opened(void **state)
{
    (void)state;
    for (int i = 0; i < 20; i++) {
        s_job_t job = {.value = 0};
        cairn_ingest_latch_init(&job.latch);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, s_worker, &job), 0);
        cairn_ingest_latch_wait(&job.latch);
        assert_int_equal(job.value, 42);
        pthread_join(t, NULL);
    }
}

static void a_latch_opened_before_the_wait_does_not_block(void **state)
{
    (void)state;
    cairn_ingest_latch_t latch;
    cairn_ingest_latch_init(&latch);
    cairn_ingest_latch_open(&latch);
    cairn_ingest_latch_wait(&latch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_waiter_sees_what_was_written_before_the_latch_opened),
        cmocka_unit_test(a_latch_opened_before_the_wait_does_not_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
