/* Task table (coordinator/tasks.h) without sockets: planning, assignment
 * order, completion, duplicates, failures, re-issue on timeout and on a
 * lost peer, stale and unknown keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/error.h"
#include "coordinator/tasks.h"

static void test_plan_and_order(void **state)
{
    (void)state;
    gpsc_tasks_t *t = gpsc_tasks_new();
    assert_non_null(t);
    assert_int_equal(gpsc_tasks_size(t), 0);
    assert_true(gpsc_tasks_all_done(t));
    assert_int_equal(gpsc_tasks_plan_grid(t, 3, 2, 3), 0);
    assert_int_equal(gpsc_tasks_size(t), 6);
    assert_int_equal(gpsc_tasks_iteration(t), 3);
    assert_int_equal(gpsc_tasks_count(t, GPSC_TASK_PENDING), 6);
    assert_false(gpsc_tasks_all_done(t));

    /* condition-major order, every key findable */
    for (int i = 0; i < 6; i++) {
        const gpsc_task_t *k = gpsc_tasks_get(t, i);
        assert_int_equal(k->condition, (uint32_t)(i / 3));
        assert_int_equal(k->sample, (uint32_t)(i % 3));
        assert_int_equal(k->iteration, 3);
        assert_int_equal(k->peer, -1);
        assert_int_equal(gpsc_tasks_find(t, 3, k->condition, k->sample), i);
    }
    assert_int_equal(gpsc_tasks_find(t, 2, 0, 0), GPSC_ESTATE);
    assert_int_equal(gpsc_tasks_find(t, 3, 2, 0), GPSC_ENOENT);
    assert_int_equal(gpsc_tasks_find(t, 3, 0, 3), GPSC_ENOENT);
    assert_null(gpsc_tasks_get(t, 6));
    assert_null(gpsc_tasks_get(t, -1));

    /* assignment hands out the lowest pending index */
    for (int i = 0; i < 6; i++) {
        int idx = gpsc_tasks_assign(t, i % 2, 1000, 500);
        assert_int_equal(idx, i);
        const gpsc_task_t *k = gpsc_tasks_get(t, idx);
        assert_int_equal(k->state, GPSC_TASK_ASSIGNED);
        assert_int_equal(k->peer, i % 2);
        assert_int_equal(k->issues, 1);
        assert_int_equal(k->deadline_ms, 1500);
    }
    assert_int_equal(gpsc_tasks_assign(t, 0, 1000, 500), GPSC_EAGAIN);
    assert_int_equal(gpsc_tasks_assign(t, -1, 1000, 500), GPSC_EINVAL);
    assert_int_equal(gpsc_tasks_held(t, 0), 3);
    assert_int_equal(gpsc_tasks_held(t, 1), 3);
    assert_int_equal(gpsc_tasks_next_deadline(t), 1500);
    gpsc_tasks_destroy(&t);
    assert_null(t);
    gpsc_tasks_destroy(&t);
}

static void test_plan_rejects_unsorted(void **state)
{
    (void)state;
    gpsc_tasks_t *t = gpsc_tasks_new();
    assert_int_equal(gpsc_tasks_plan_grid(t, 0, 1, 2), 0);
    gpsc_task_spec_t bad[2] = {{1, 0, false, false, 0}, {0, 0, false, false, 0}};
    assert_int_equal(gpsc_tasks_plan(t, 1, bad, 2), GPSC_EINVAL);
    gpsc_task_spec_t dup[2] = {{0, 1, false, false, 0}, {0, 1, true, false, 0}};
    assert_int_equal(gpsc_tasks_plan(t, 1, dup, 2), GPSC_EINVAL);
    /* the old plan is kept */
    assert_int_equal(gpsc_tasks_iteration(t), 0);
    assert_int_equal(gpsc_tasks_size(t), 2);
    /* an evaluation plan with a noiseless task after the noisy ones */
    gpsc_task_spec_t ev[3] = {
        {0, 0, false, false, 0}, {0, 1, false, false, 0}, {0, 2, true, false, 0}};
    assert_int_equal(gpsc_tasks_plan(t, 5, ev, 3), 0);
    assert_true(gpsc_tasks_get(t, 2)->noiseless);
    assert_int_equal(gpsc_tasks_find(t, 5, 0, 2), 2);
    /* an empty plan is complete */
    assert_int_equal(gpsc_tasks_plan(t, 6, NULL, 0), 0);
    assert_true(gpsc_tasks_all_done(t));
    assert_int_equal(gpsc_tasks_plan(t, 6, NULL, 1), GPSC_EINVAL);
    gpsc_tasks_destroy(&t);
}

static void test_complete_and_duplicate(void **state)
{
    (void)state;
    gpsc_tasks_t *t = gpsc_tasks_new();
    assert_int_equal(gpsc_tasks_plan_grid(t, 0, 1, 2), 0);
    int a = gpsc_tasks_assign(t, 7, 0, 100);
    int b = gpsc_tasks_assign(t, 8, 0, 100);
    assert_int_equal(gpsc_tasks_complete(t, b, 8), 0);
    assert_int_equal(gpsc_tasks_get(t, b)->state, GPSC_TASK_DONE);
    assert_int_equal(gpsc_tasks_get(t, b)->peer, 8);
    assert_int_equal(gpsc_tasks_complete(t, b, 7), GPSC_EDUP);
    assert_int_equal(gpsc_tasks_duplicates(t), 1);
    assert_int_equal(gpsc_tasks_get(t, b)->peer, 8); /* first one wins */
    assert_int_equal(gpsc_tasks_fail(t, b, 7), GPSC_EDUP);
    assert_false(gpsc_tasks_all_done(t));
    assert_int_equal(gpsc_tasks_complete(t, a, 7), 0);
    assert_true(gpsc_tasks_all_done(t));
    assert_int_equal(gpsc_tasks_complete(t, 2, 7), GPSC_ERANGE);
    assert_int_equal(gpsc_tasks_complete(t, -1, 7), GPSC_ERANGE);
    /* a new plan starts clean */
    assert_int_equal(gpsc_tasks_plan_grid(t, 1, 1, 2), 0);
    assert_int_equal(gpsc_tasks_count(t, GPSC_TASK_PENDING), 2);
    assert_int_equal(gpsc_tasks_get(t, 0)->issues, 0);
    gpsc_tasks_destroy(&t);
}

static void test_timeout_reissue(void **state)
{
    (void)state;
    gpsc_tasks_t *t = gpsc_tasks_new();
    assert_int_equal(gpsc_tasks_plan_grid(t, 2, 2, 2), 0);
    assert_int_equal(gpsc_tasks_assign(t, 0, 1000, 100), 0); /* deadline 1100 */
    assert_int_equal(gpsc_tasks_assign(t, 1, 1050, 100), 1); /* deadline 1150 */
    assert_int_equal(gpsc_tasks_next_deadline(t), 1100);
    int first = 99;
    assert_int_equal(gpsc_tasks_expire(t, 1100, &first), 0); /* not before the deadline */
    assert_int_equal(first, -1);
    assert_int_equal(gpsc_tasks_expire(t, 1101, &first), 1);
    assert_int_equal(first, 0);
    assert_int_equal(gpsc_tasks_get(t, 0)->state, GPSC_TASK_PENDING);
    assert_int_equal(gpsc_tasks_reissued(t), 1);
    /* the re-issued task goes out first, to another peer, attempt 1 */
    assert_int_equal(gpsc_tasks_assign(t, 1, 1200, 100), 0);
    assert_int_equal(gpsc_tasks_get(t, 0)->issues, 2);
    assert_int_equal(gpsc_tasks_get(t, 0)->peer, 1);
    /* the slow first holder delivers after all: accepted, the copy becomes a duplicate */
    assert_int_equal(gpsc_tasks_complete(t, 0, 0), 0);
    assert_int_equal(gpsc_tasks_get(t, 0)->peer, 0);
    assert_int_equal(gpsc_tasks_complete(t, 0, 1), GPSC_EDUP);
    /* task 1 expired too at 1200 */
    assert_int_equal(gpsc_tasks_expire(t, 1200, &first), 1);
    assert_int_equal(first, 1);
    assert_int_equal(gpsc_tasks_next_deadline(t), UINT64_MAX);
    gpsc_tasks_destroy(&t);
}

static void test_peer_lost(void **state)
{
    (void)state;
    gpsc_tasks_t *t = gpsc_tasks_new();
    assert_int_equal(gpsc_tasks_plan_grid(t, 0, 2, 2), 0);
    assert_int_equal(gpsc_tasks_assign(t, 5, 0, 1000), 0);
    assert_int_equal(gpsc_tasks_assign(t, 6, 0, 1000), 1);
    assert_int_equal(gpsc_tasks_assign(t, 5, 0, 1000), 2);
    assert_int_equal(gpsc_tasks_complete(t, 2, 5), 0);
    /* peer 5 dies: only its live task comes back, its finished one stays */
    assert_int_equal(gpsc_tasks_peer_lost(t, 5), 1);
    assert_int_equal(gpsc_tasks_get(t, 0)->state, GPSC_TASK_PENDING);
    assert_int_equal(gpsc_tasks_get(t, 2)->state, GPSC_TASK_DONE);
    assert_int_equal(gpsc_tasks_get(t, 1)->state, GPSC_TASK_ASSIGNED);
    assert_int_equal(gpsc_tasks_held(t, 5), 0);
    assert_int_equal(gpsc_tasks_peer_lost(t, 5), 0);
    assert_int_equal(gpsc_tasks_assign(t, 6, 10, 1000), 0);
    assert_int_equal(gpsc_tasks_assign(t, 6, 10, 1000), 3);
    assert_int_equal(gpsc_tasks_held(t, 6), 3);
    assert_int_equal(gpsc_tasks_reissued(t), 1);
    gpsc_tasks_destroy(&t);
}

static void test_fail(void **state)
{
    (void)state;
    gpsc_tasks_t *t = gpsc_tasks_new();
    assert_int_equal(gpsc_tasks_plan_grid(t, 0, 1, 1), 0);
    assert_int_equal(gpsc_tasks_assign(t, 1, 0, 1000), 0);
    /* the holder reports a failure: pending again */
    assert_int_equal(gpsc_tasks_fail(t, 0, 1), 1);
    assert_int_equal(gpsc_tasks_get(t, 0)->state, GPSC_TASK_PENDING);
    /* re-issued to peer 2; a late bad result from peer 1 leaves peer 2's copy alone */
    assert_int_equal(gpsc_tasks_assign(t, 2, 0, 1000), 0);
    assert_int_equal(gpsc_tasks_fail(t, 0, 1), 2);
    assert_int_equal(gpsc_tasks_get(t, 0)->state, GPSC_TASK_ASSIGNED);
    assert_int_equal(gpsc_tasks_get(t, 0)->peer, 2);
    assert_int_equal(gpsc_tasks_fail(t, 0, 2), 3);
    assert_int_equal(gpsc_tasks_get(t, 0)->state, GPSC_TASK_PENDING);
    assert_int_equal(gpsc_tasks_fail(t, 1, 2), GPSC_ERANGE);
    assert_int_equal(gpsc_tasks_assign(t, 3, 0, 1000), 0);
    assert_int_equal(gpsc_tasks_get(t, 0)->issues, 3);
    assert_int_equal(gpsc_tasks_complete(t, 0, 3), 0);
    assert_true(gpsc_tasks_all_done(t));
    assert_int_equal(gpsc_tasks_reissued(t), 2);
    gpsc_tasks_destroy(&t);
}

static void test_priority(void **state)
{
    (void)state;
    gpsc_tasks_t *t = gpsc_tasks_new();
    /* two conditions: a training sample (priority 0) and a measurement (priority 1) each */
    gpsc_task_spec_t s[4] = {{0, 0, false, false, 0},
                             {0, 100, false, true, 1},
                             {1, 0, false, false, 0},
                             {1, 100, false, true, 1}};
    assert_int_equal(gpsc_tasks_plan(t, 2, s, 4), 0);
    assert_true(gpsc_tasks_get(t, 1)->global);
    assert_int_equal(gpsc_tasks_remaining(t, 0), 2);
    assert_int_equal(gpsc_tasks_remaining(t, 1), 2);
    /* priority 0 first, then index order */
    assert_int_equal(gpsc_tasks_assign(t, 0, 0, 10), 0);
    assert_int_equal(gpsc_tasks_assign(t, 0, 0, 10), 2);
    assert_int_equal(gpsc_tasks_assign(t, 0, 0, 10), 1);
    /* a re-issued priority-0 task jumps the queue again */
    assert_int_equal(gpsc_tasks_fail(t, 0, 0), 1);
    assert_int_equal(gpsc_tasks_assign(t, 1, 0, 10), 0);
    assert_int_equal(gpsc_tasks_assign(t, 1, 0, 10), 3);
    assert_int_equal(gpsc_tasks_complete(t, 0, 1), 0);
    assert_int_equal(gpsc_tasks_complete(t, 2, 0), 0);
    assert_int_equal(gpsc_tasks_remaining(t, 0), 0);
    assert_int_equal(gpsc_tasks_remaining(t, 1), 2);
    assert_false(gpsc_tasks_all_done(t));
    gpsc_tasks_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_and_order),
        cmocka_unit_test(test_plan_rejects_unsorted),
        cmocka_unit_test(test_complete_and_duplicate),
        cmocka_unit_test(test_timeout_reissue),
        cmocka_unit_test(test_peer_lost),
        cmocka_unit_test(test_fail),
        cmocka_unit_test(test_priority),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
