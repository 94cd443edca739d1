#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/vecfile.h"

static char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/gpsc_vecfile_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_load_reference_file(void **state)
{
    (void)state;
    char err[256];
    gpsc_vecfile_t *f =
        gpsc_vecfile_load(GPSC_TEST_DATA "/reference/cost_fk_small_l1l2_linear.json", err, sizeof err);
    assert_non_null(f);
    assert_string_equal(f->kind, "cost_fk");
    assert_true(f->rtol == 1e-9 && f->atol == 5e-11);
    const gpsc_value_t *jac;
    assert_int_equal(gpsc_vecset_array(f->inputs, "jac", 3, &jac, err, sizeof err), 0);
    assert_int_equal(jac->shape[0], 10);
    assert_int_equal(jac->n, 10 * 2 * 2);
    const long long *idx;
    size_t n;
    assert_int_equal(gpsc_vecset_intlist(f->inputs, "joint_idx", &idx, &n, err, sizeof err), 0);
    assert_int_equal(n, 2);
    const char *norm;
    assert_int_equal(gpsc_vecset_string(f->inputs, "norm", &norm, err, sizeof err), 0);
    assert_string_equal(norm, "l1l2");
    double l1;
    assert_int_equal(gpsc_vecset_scalar(f->inputs, "l1", &l1, err, sizeof err), 0);
    assert_true(l1 == 0.5);
    /* wrong-type and missing lookups name the key */
    assert_int_equal(gpsc_vecset_scalar(f->inputs, "norm", &l1, err, sizeof err), GPSC_EPARSE);
    assert_non_null(strstr(err, "norm"));
    assert_int_equal(gpsc_vecset_array(f->inputs, "nope", -1, &jac, err, sizeof err), GPSC_ENOENT);
    assert_non_null(strstr(err, "nope"));
    assert_int_equal(gpsc_vecset_array(f->inputs, "jac", 2, &jac, err, sizeof err), GPSC_EPARSE);
    gpsc_vecfile_destroy(&f);
    assert_null(f);
}

static void test_exact_doubles(void **state)
{
    (void)state;
    /* shortest repr round-trips exactly */
    const char *text = "{\"kind\":\"k\",\"rtol\":1e-9,\"atol\":1e-13,\"inputs\":{"
                       "\"a\":{\"shape\":[3],\"data\":[0.1,1.0000000000000002,-2.5e-308]},"
                       "\"n\":7},\"outputs\":{}}";
    char err[256];
    gpsc_vecfile_t *f = gpsc_vecfile_load(write_tmp(text), err, sizeof err);
    assert_non_null(f);
    const gpsc_value_t *a;
    assert_int_equal(gpsc_vecset_array(f->inputs, "a", 1, &a, err, sizeof err), 0);
    assert_true(a->data[0] == 0.1);
    assert_true(a->data[1] == 1.0000000000000002);
    assert_true(a->data[2] == -2.5e-308);
    long long n;
    assert_int_equal(gpsc_vecset_int(f->inputs, "n", &n, err, sizeof err), 0);
    assert_int_equal(n, 7);
    char buf[40];
    gpsc_fmt_double(buf, sizeof buf, 0.1);
    assert_string_equal(buf, "0.1");
    gpsc_fmt_double(buf, sizeof buf, 1.0000000000000002);
    assert_true(strtod(buf, NULL) == 1.0000000000000002);
    gpsc_vecfile_destroy(&f);
}

static void test_malformed_files(void **state)
{
    (void)state;
    const char *bad[] = {
        "{not json",
        "[1,2,3]",
        "{\"kind\":\"k\",\"rtol\":1e-9,\"atol\":0,\"inputs\":{\"a\":{\"shape\":[2],\"data\":[1]}},"
        "\"outputs\":{}}",
        "{\"kind\":\"k\",\"rtol\":1e-9,\"atol\":0,\"inputs\":{\"a\":{\"shape\":[1.5],\"data\":[1]}},"
        "\"outputs\":{}}",
        "{\"kind\":\"k\",\"rtol\":1e-9,\"atol\":0,\"inputs\":{\"a\":{\"data\":[1]}},\"outputs\":{}}",
        "{\"kind\":\"k\",\"atol\":0,\"inputs\":{},\"outputs\":{}}",
        "{\"kind\":\"k\",\"rtol\":1e-9,\"atol\":0,\"inputs\":{},\"outputs\":3}",
        "{\"kind\":\"k\",\"rtol\":1e-9,\"atol\":0,\"inputs\":{\"a\":{\"shape\":[1],\"data\":[\"x\"]}},"
        "\"outputs\":{}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        const char *p = write_tmp(bad[i]);
        gpsc_vecfile_t *f = gpsc_vecfile_load(p, err, sizeof err);
        if (f)
            fail_msg("case %zu accepted", i);
        assert_non_null(strstr(err, p)); /* the message names the file */
    }
    char err[256];
    assert_null(gpsc_vecfile_load("/nonexistent/x.json", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/x.json"));
}

static void test_compare_rule(void **state)
{
    (void)state;
    const double exp[] = {1.0, 0.0, -2.0, 100.0};
    const double got[] = {1.0 + 1e-10, 1e-14, -2.0, 100.0 + 5e-8};
    gpsc_cmp_t c;
    gpsc_vec_compare(&c, got, exp, 4, 1e-9, 1e-13);
    assert_true(c.pass);
    assert_true(fabs(c.worst_abs - 5e-8) < 1e-12);
    const double got2[] = {1.0, 2e-13, -2.0, 100.0};
    gpsc_vec_compare(&c, got2, exp, 4, 1e-9, 1e-13);
    assert_false(c.pass);
    assert_int_equal(c.worst_index, 1);
    const double got3[] = {NAN, 0, -2, 100};
    gpsc_vec_compare(&c, got3, exp, 4, 1, 1);
    assert_false(c.pass);
}

static void test_output_set_roundtrip(void **state)
{
    (void)state;
    gpsc_vecset_t *s = gpsc_vecset_new();
    const double d[] = {0.1, -3e-300, 12345.678};
    const int shape[] = {3};
    assert_int_equal(gpsc_vecset_put_array(s, "x", d, 1, shape), 0);
    assert_int_equal(gpsc_vecset_put_scalar(s, "eta", 0.30000000000000004), 0);
    assert_int_equal(gpsc_vecset_put_int(s, "iterations", 6), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    fputs("{\"kind\":\"k\",\"rtol\":0,\"atol\":0,\"inputs\":{},\"outputs\":", m);
    assert_int_equal(gpsc_vecset_write_json(m, s, 0), 0);
    fputs("}", m);
    fclose(m);
    char err[256];
    gpsc_vecfile_t *f = gpsc_vecfile_load(write_tmp(buf), err, sizeof err);
    free(buf);
    assert_non_null(f);
    const gpsc_value_t *x;
    assert_int_equal(gpsc_vecset_array(f->outputs, "x", 1, &x, err, sizeof err), 0);
    assert_memory_equal(x->data, d, sizeof d);
    double eta;
    assert_int_equal(gpsc_vecset_scalar(f->outputs, "eta", &eta, err, sizeof err), 0);
    assert_true(eta == 0.30000000000000004);
    long long it;
    assert_int_equal(gpsc_vecset_int(f->outputs, "iterations", &it, err, sizeof err), 0);
    assert_int_equal(it, 6);
    gpsc_vecfile_destroy(&f);
    gpsc_vecset_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_reference_file), cmocka_unit_test(test_exact_doubles),
        cmocka_unit_test(test_malformed_files),     cmocka_unit_test(test_compare_rule),
        cmocka_unit_test(test_output_set_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
