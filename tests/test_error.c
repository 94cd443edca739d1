#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "common/error.h"

static void test_strings(void **state)
{
    (void)state;
    assert_string_equal(gpsc_strerror(0), "success");
    assert_string_equal(gpsc_strerror(GPSC_ENOTPD), "matrix is not positive definite");
    assert_string_equal(gpsc_errname(GPSC_ENOTPD), "GPSC_ENOTPD");
    assert_string_equal(gpsc_strerror(12345), "unknown error");
    assert_string_equal(gpsc_errname(-999), "GPSC_E?");
    /* every code in the list has its own, non-empty message */
    for (int a = -1; a > GPSC_ERR_LAST_; a--) {
        assert_true(strlen(gpsc_strerror(a)) > 0);
        assert_string_not_equal(gpsc_strerror(a), "unknown error");
        for (int b = a - 1; b > GPSC_ERR_LAST_; b--)
            assert_string_not_equal(gpsc_strerror(a), gpsc_strerror(b));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_strings)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
