/* Step-size rules (learner/stepsize.h): the reference vectors, the clamps,
 * the averaging of the global rule and argument checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/vecfile.h"
#include "learner/stepsize.h"

static gpsc_vecfile_t *load(const char *name)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/reference/%s", GPSC_TEST_DATA, name);
    gpsc_vecfile_t *vf = gpsc_vecfile_load(path, err, sizeof err);
    if (!vf) fail_msg("%s", err);
    return vf;
}

static double num(const gpsc_vecset_t *s, const char *name)
{
    const gpsc_value_t *v = gpsc_vecset_find(s, name);
    if (!v || v->type != GPSC_V_SCALAR) fail_msg("missing scalar \"%s\"", name);
    return v->data[0];
}

static const double *vec(const gpsc_vecset_t *s, const char *name, int *M)
{
    const gpsc_value_t *v = gpsc_vecset_find(s, name);
    if (!v || v->type != GPSC_V_ARRAY) fail_msg("missing array \"%s\"", name);
    *M = v->shape[0];
    return v->data;
}

static void expect(const gpsc_stepsize_t *r, const gpsc_vecfile_t *vf)
{
    const char *names[4] = {"predicted_impr", "actual_impr", "new_mult", "new_step_mult"};
    const double got[4] = {r->predicted_impr, r->actual_impr, r->new_mult, r->new_step_mult};
    for (int i = 0; i < 4; i++) {
        double e = num(vf->outputs, names[i]);
        if (!(fabs(got[i] - e) <= vf->atol + vf->rtol * fabs(e)))
            fail_msg("%s: %s got %.17g expected %.17g", vf->path, names[i], got[i], e);
    }
}

static void check_classic(const char *file)
{
    gpsc_vecfile_t *vf = load(file);
    const gpsc_vecset_t *in = vf->inputs;
    gpsc_stepsize_t r;
    assert_int_equal(gpsc_stepsize_classic(&r, num(in, "prev_laplace"),
                                           num(in, "new_predicted_laplace"),
                                           num(in, "new_actual_laplace"), num(in, "step_mult"),
                                           num(in, "min_step_mult"), num(in, "max_step_mult")),
                     0);
    expect(&r, vf);
    gpsc_vecfile_destroy(&vf);
}

static void check_global(const char *file)
{
    gpsc_vecfile_t *vf = load(file);
    const gpsc_vecset_t *in = vf->inputs;
    const char *rule_name;
    char err[128];
    assert_int_equal(gpsc_vecset_string(in, "step_rule", &rule_name, err, sizeof err), 0);
    gpsc_step_rule_t rule;
    assert_int_equal(gpsc_stepsize_rule_parse(&rule, rule_name), 0);
    int M, M2;
    const double *pl = vec(in, "prev_laplace", &M), *pp = vec(in, "prev_predicted", &M2);
    assert_int_equal(M, M2);
    gpsc_stepsize_t r;
    assert_int_equal(gpsc_stepsize_global(&r, rule, pl, pp, vec(in, "cur_laplace", &M2),
                                          vec(in, "prev_mc", &M2), vec(in, "cur_mc", &M2), M,
                                          num(in, "step_mult"), num(in, "min_step_mult"),
                                          num(in, "max_step_mult")),
                     0);
    expect(&r, vf);
    gpsc_vecfile_destroy(&vf);
}

static void test_vectors(void **state)
{
    (void)state;
    check_classic("step_adjust_classic.json");
    check_classic("step_adjust_classic_clamp_max.json");
    check_global("step_adjust_global_laplace.json");
    check_global("step_adjust_global_mc.json");
}

static void test_clamps(void **state)
{
    (void)state;
    gpsc_stepsize_t r;
    /* actual better than predicted: gap floored at 1e-4, mult capped at 5 */
    assert_int_equal(gpsc_stepsize_apply(&r, 10.0, 20.0, 1.0, 0.1, 100.0), 0);
    assert_true(r.new_mult == 5.0 && r.new_step_mult == 5.0);
    /* negative prediction: mult floored at 0.1, step floored at min */
    assert_int_equal(gpsc_stepsize_apply(&r, -1.0, -5.0, 1.0, 0.5, 10.0), 0);
    assert_true(r.new_mult == 0.1 && r.new_step_mult == 0.5);
    /* half the predicted improvement realised: mult = 1 exactly */
    assert_int_equal(gpsc_stepsize_apply(&r, 8.0, 4.0, 0.7, 0.01, 10.0), 0);
    assert_true(r.new_mult == 1.0 && r.new_step_mult == 0.7);
    /* in between: pred / (2 (pred - act)) */
    assert_int_equal(gpsc_stepsize_apply(&r, 6.0, 2.0, 2.0, 0.01, 10.0), 0);
    assert_true(r.new_mult == 0.75 && r.new_step_mult == 1.5);
    /* capped by max_step_mult */
    assert_int_equal(gpsc_stepsize_apply(&r, 10.0, 20.0, 3.0, 0.1, 4.0), 0);
    assert_true(r.new_step_mult == 4.0);
}

/* the global rule averages before differencing; the other rule's vectors
 * may be NULL */
static void test_global_average(void **state)
{
    (void)state;
    const double pl[] = {10, 20, 30}, pp[] = {5, 5, 5}, cl[] = {8, 16, 24};
    gpsc_stepsize_t r;
    assert_int_equal(
        gpsc_stepsize_global(&r, GPSC_STEP_RULE_LAPLACE, pl, pp, cl, NULL, NULL, 3, 1.0, 0.1, 10.0),
        0);
    assert_true(r.predicted_impr == 15.0 && r.actual_impr == 4.0);
    assert_true(r.new_mult == 15.0 / 22.0);
    const double pm[] = {12, 12, 12}, cm[] = {9, 10, 11};
    assert_int_equal(
        gpsc_stepsize_global(&r, GPSC_STEP_RULE_MC, NULL, pp, NULL, pm, cm, 3, 1.0, 0.1, 10.0), 0);
    assert_true(r.predicted_impr == 7.0 && r.actual_impr == 2.0);
    assert_int_equal(
        gpsc_stepsize_global(&r, GPSC_STEP_RULE_MC, pl, pp, cl, NULL, cm, 3, 1.0, 0.1, 10.0),
        GPSC_EINVAL);
}

static void test_errors(void **state)
{
    (void)state;
    gpsc_stepsize_t r;
    gpsc_step_rule_t rule;
    assert_int_equal(gpsc_stepsize_rule_parse(&rule, "mc"), 0);
    assert_int_equal(rule, GPSC_STEP_RULE_MC);
    assert_int_equal(gpsc_stepsize_rule_parse(&rule, "Laplace"), GPSC_EINVAL);
    assert_int_equal(gpsc_stepsize_classic(&r, NAN, 1, 1, 1, 0.1, 10), GPSC_ENONFINITE);
    assert_int_equal(gpsc_stepsize_classic(&r, 1, INFINITY, 1, 1, 0.1, 10), GPSC_ENONFINITE);
    assert_int_equal(gpsc_stepsize_classic(&r, 1, 1, 1, NAN, 0.1, 10), GPSC_ENONFINITE);
    assert_int_equal(gpsc_stepsize_classic(&r, 1, 1, 1, 1, 10, 0.1), GPSC_EINVAL);
    assert_int_equal(gpsc_stepsize_classic(&r, 1, 1, 1, 0, 0.1, 10), GPSC_EINVAL);
    const double ok[] = {1, 2}, bad[] = {1, NAN};
    assert_int_equal(
        gpsc_stepsize_global(&r, GPSC_STEP_RULE_LAPLACE, ok, ok, bad, ok, ok, 2, 1, 0.1, 10),
        GPSC_ENONFINITE);
    /* a NaN in the vectors the rule ignores is still refused */
    assert_int_equal(
        gpsc_stepsize_global(&r, GPSC_STEP_RULE_LAPLACE, ok, ok, ok, bad, ok, 2, 1, 0.1, 10),
        GPSC_ENONFINITE);
    assert_int_equal(
        gpsc_stepsize_global(&r, GPSC_STEP_RULE_LAPLACE, ok, ok, ok, ok, ok, 0, 1, 0.1, 10),
        GPSC_EINVAL);
    assert_int_equal(
        gpsc_stepsize_global(&r, (gpsc_step_rule_t)7, ok, ok, ok, ok, ok, 2, 1, 0.1, 10),
        GPSC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_clamps),
        cmocka_unit_test(test_global_average),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
