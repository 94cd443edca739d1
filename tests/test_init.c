/* Initial controllers (learner/init.h): init_lqr against the reference
 * vectors and its properties, init_pd by its definition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/error.h"
#include "common/la.h"
#include "common/vecfile.h"
#include "learner/init.h"
#include "traj_check.h"

typedef struct lgbuf {
    gpsc_traj_lg_t lg;
    double *mem;
    size_t n;
} lgbuf_t;

static void lg_alloc(lgbuf_t *b, gpsc_traj_dims_t d)
{
    size_t T = (size_t)d.T, dX = (size_t)d.dX, dU = (size_t)d.dU;
    b->n = T * (dU * dX + dU + 3 * dU * dU);
    b->mem = calloc(b->n, sizeof(double));
    assert_non_null(b->mem);
    b->lg.K = b->mem;
    b->lg.k = b->lg.K + T * dU * dX;
    b->lg.pol_covar = b->lg.k + T * dU;
    b->lg.inv_pol_covar = b->lg.pol_covar + T * dU * dU;
    b->lg.chol_pol_covar = b->lg.inv_pol_covar + T * dU * dU;
}

static void cfg_from(gpsc_init_lqr_cfg_t *c, gpsc_traj_dims_t *d, const gpsc_vecfile_t *vf)
{
    const gpsc_vecset_t *in = vf->inputs;
    const gpsc_value_t *x0 = val(in, "x0"), *g = val(in, "init_gains");
    *d = (gpsc_traj_dims_t){(int)val(in, "T")->data[0], x0->shape[0], g->shape[0]};
    *c = (gpsc_init_lqr_cfg_t){.x0 = x0->data,
                               .init_gains = g->data,
                               .init_acc = val(in, "init_acc")->data,
                               .dt = val(in, "dt")->data[0],
                               .init_var = val(in, "init_var")->data[0],
                               .stiffness = val(in, "stiffness")->data[0],
                               .stiffness_vel = val(in, "stiffness_vel")->data[0],
                               .final_weight = val(in, "final_weight")->data[0]};
}

static void check_lqr(const char *file)
{
    gpsc_vecfile_t *vf = load(file);
    gpsc_init_lqr_cfg_t cfg;
    gpsc_traj_dims_t d;
    cfg_from(&cfg, &d, vf);
    lgbuf_t b;
    lg_alloc(&b, d);
    gpsc_arena_t *a = gpsc_arena_new(gpsc_init_lqr_scratch_size(d));
    assert_int_equal(gpsc_init_lqr(&b.lg, &cfg, d, a), 0);
    const gpsc_vecset_t *o = vf->outputs;
    expect_close("K", b.lg.K, val(o, "K"), vf);
    expect_close("k", b.lg.k, val(o, "k"), vf);
    expect_close("pol_covar", b.lg.pol_covar, val(o, "pol_covar"), vf);
    expect_close("inv_pol_covar", b.lg.inv_pol_covar, val(o, "inv_pol_covar"), vf);
    expect_close("chol_pol_covar", b.lg.chol_pol_covar, val(o, "chol_pol_covar"), vf);
    expect_symmetric(b.lg.pol_covar, d.dU, d.T);
    expect_symmetric(b.lg.inv_pol_covar, d.dU, d.T);
    /* the controller ignores the dims beyond positions and velocities */
    for (int t = 0; t < d.T; t++)
        for (int i = 0; i < d.dU; i++)
            for (int j = 2 * d.dU; j < d.dX; j++)
                assert_true(b.lg.K[((size_t)t * d.dU + i) * d.dX + j] == 0.0);
    assert_int_equal(gpsc_arena_used(a), 0);
    gpsc_arena_destroy(&a);
    free(b.mem);
    gpsc_vecfile_destroy(&vf);
}

static void test_lqr_small(void **state)
{
    (void)state;
    check_lqr("init_lqr_small.json");
}

static void test_lqr_realistic(void **state)
{
    (void)state;
    check_lqr("init_lqr_realistic.json");
}

/* with zero guessed accelerations the controller holds x0: u = K x0 + k = 0
 * (the stage cost is minimised at [x0; 0] and x0 with u = 0 is a fixed
 * point of the guessed dynamics when its velocities are 0) */
static void test_lqr_holds(void **state)
{
    (void)state;
    gpsc_traj_dims_t d = {20, 7, 3};
    double x0[7] = {0.3, -0.2, 0.5, 0, 0, 0, 1.5}, g[3] = {1, 2, 0.5}, acc[3] = {0, 0, 0};
    gpsc_init_lqr_cfg_t cfg = {x0, g, acc, 0.05, 0.7, 2.0, 0.5, 10.0};
    lgbuf_t b;
    lg_alloc(&b, d);
    gpsc_arena_t *a = gpsc_arena_new(gpsc_init_lqr_scratch_size(d));
    assert_int_equal(gpsc_init_lqr(&b.lg, &cfg, d, a), 0);
    for (int t = 0; t < d.T; t++)
        for (int i = 0; i < d.dU; i++) {
            double u = b.lg.k[t * d.dU + i];
            for (int j = 0; j < d.dX; j++)
                u += b.lg.K[((size_t)t * d.dU + i) * d.dX + j] * x0[j];
            assert_true(fabs(u) < 1e-12);
        }
    /* errors */
    assert_int_equal(gpsc_init_lqr(&b.lg, &cfg, (gpsc_traj_dims_t){20, 5, 3}, a), GPSC_EDIM);
    x0[1] = NAN;
    assert_int_equal(gpsc_init_lqr(&b.lg, &cfg, d, a), GPSC_ENONFINITE);
    x0[1] = -0.2;
    cfg.init_var = 0;
    assert_int_equal(gpsc_init_lqr(&b.lg, &cfg, d, a), GPSC_EINVAL);
    cfg.init_var = INFINITY;
    assert_int_equal(gpsc_init_lqr(&b.lg, &cfg, d, a), GPSC_ENONFINITE);
    gpsc_arena_destroy(&a);
    free(b.mem);
}

/* init_pd by its definition: u = -kp (q - q*) - kd qdot, covariance
 * init_var I, for every t */
static void test_pd(void **state)
{
    (void)state;
    gpsc_traj_dims_t d = {4, 9, 3};
    double kp[3] = {10, 20, 5}, kd[3] = {1, 2, 0.5}, qs[3] = {0.1, -0.4, 1.2};
    gpsc_init_pd_cfg_t cfg = {qs, kp, kd, 0.25};
    lgbuf_t b;
    lg_alloc(&b, d);
    memset(b.mem, 0xff, b.n * sizeof(double)); /* all written */
    assert_int_equal(gpsc_init_pd(&b.lg, &cfg, d), 0);
    double x[9] = {0.7, 0.1, -0.3, 0.05, -1.0, 2.0, 9.0, -9.0, 3.0};
    for (int t = 0; t < d.T; t++) {
        for (int i = 0; i < d.dU; i++) {
            double u = b.lg.k[t * d.dU + i];
            for (int j = 0; j < d.dX; j++)
                u += b.lg.K[((size_t)t * d.dU + i) * d.dX + j] * x[j];
            double want = -kp[i] * (x[i] - qs[i]) - kd[i] * x[d.dU + i];
            assert_true(fabs(u - want) < 1e-12);
            for (int j = 0; j < d.dU; j++) {
                size_t o = ((size_t)t * d.dU + i) * d.dU + j;
                assert_true(b.lg.pol_covar[o] == (i == j ? 0.25 : 0.0));
                assert_true(b.lg.inv_pol_covar[o] == (i == j ? 4.0 : 0.0));
                assert_true(b.lg.chol_pol_covar[o] == (i == j ? 0.5 : 0.0));
            }
        }
    }
    /* q_target NULL means 0 */
    cfg.q_target = NULL;
    assert_int_equal(gpsc_init_pd(&b.lg, &cfg, d), 0);
    for (int i = 0; i < d.T * d.dU; i++)
        assert_true(b.lg.k[i] == 0.0);
    /* errors */
    assert_int_equal(gpsc_init_pd(&b.lg, &cfg, (gpsc_traj_dims_t){4, 5, 3}), GPSC_EDIM);
    kd[1] = NAN;
    assert_int_equal(gpsc_init_pd(&b.lg, &cfg, d), GPSC_ENONFINITE);
    kd[1] = 2;
    cfg.init_var = -1;
    assert_int_equal(gpsc_init_pd(&b.lg, &cfg, d), GPSC_EINVAL);
    free(b.mem);
}

int main(void)
{
    gpsc_la_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lqr_small),
        cmocka_unit_test(test_lqr_realistic),
        cmocka_unit_test(test_lqr_holds),
        cmocka_unit_test(test_pd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
