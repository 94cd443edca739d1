#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>

#include "common/arena.h"

static void test_alloc_mark_free_peak(void **state)
{
    (void)state;
    gpsc_arena_t *a = gpsc_arena_new(1024);
    assert_non_null(a);
    assert_int_equal(gpsc_arena_capacity(a), 1024);
    void *p = gpsc_arena_alloc(a, 10);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 64, 0);
    assert_int_equal(gpsc_arena_used(a), 64);
    size_t m = gpsc_arena_mark(a);
    double *z = gpsc_arena_zeros(a, 20); /* 160 bytes -> 192 */
    assert_non_null(z);
    for (int i = 0; i < 20; i++)
        assert_true(z[i] == 0.0);
    assert_int_equal((uintptr_t)z % 64, 0);
    assert_int_equal(gpsc_arena_used(a), 64 + 192);
    gpsc_arena_free_to(a, m);
    assert_int_equal(gpsc_arena_used(a), 64);
    /* peak remembers the high-water mark */
    assert_int_equal(gpsc_arena_peak(a), 256);
    /* memory after free_to is handed out again */
    double *z2 = gpsc_arena_zeros(a, 1);
    assert_ptr_equal(z2, z);
    gpsc_arena_reset(a);
    assert_int_equal(gpsc_arena_used(a), 0);
    assert_int_equal(gpsc_arena_peak(a), 256);
    gpsc_arena_destroy(&a);
    assert_null(a);
    gpsc_arena_destroy(&a); /* NULL is fine */
}

static void test_exhaustion_counted(void **state)
{
    (void)state;
    gpsc_arena_t *a = gpsc_arena_new(gpsc_arena_need(100) + gpsc_arena_need(8));
    assert_non_null(gpsc_arena_alloc(a, 100));
    assert_non_null(gpsc_arena_alloc(a, 8));
    assert_null(gpsc_arena_alloc(a, 1));
    assert_null(gpsc_arena_alloc(a, 1000));
    assert_int_equal(gpsc_arena_failures(a), 2);
    assert_int_equal(gpsc_arena_used(a), gpsc_arena_capacity(a));
    /* a bogus mark beyond the fill level is ignored */
    gpsc_arena_free_to(a, 1u << 20);
    assert_int_equal(gpsc_arena_used(a), gpsc_arena_capacity(a));
    gpsc_arena_destroy(&a);
}

static void test_empty_arena(void **state)
{
    (void)state;
    gpsc_arena_t *a = gpsc_arena_new(0);
    assert_non_null(a);
    assert_null(gpsc_arena_alloc(a, 1));
    assert_int_equal(gpsc_arena_failures(a), 1);
    gpsc_arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_mark_free_peak),
        cmocka_unit_test(test_exhaustion_counted),
        cmocka_unit_test(test_empty_arena),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
