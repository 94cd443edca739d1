/* Forward pass, controller KL and Laplace cost (learner/traj.h) against the
 * reference vectors, plus symmetry, KL(p || p) = 0 and NaN/Inf refusal. */
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
#include "learner/traj.h"
#include "traj_check.h"

/* -- forward ---------------------------------------------------------------- */

typedef struct fwd {
    gpsc_vecfile_t *vf;
    gpsc_traj_dims_t d;
    gpsc_traj_dyn_t dyn;
    gpsc_traj_lg_t lg;
    double *mu, *sigma;
    gpsc_arena_t *a;
} fwd_t;

static void fwd_load(fwd_t *f, const char *file)
{
    memset(f, 0, sizeof *f);
    f->vf = load(file);
    const gpsc_vecset_t *in = f->vf->inputs;
    const gpsc_value_t *Fm = val(in, "Fm");
    f->d = (gpsc_traj_dims_t){Fm->shape[0], Fm->shape[1], Fm->shape[2] - Fm->shape[1]};
    f->dyn = (gpsc_traj_dyn_t){Fm->data, val(in, "fv")->data, val(in, "dyn_covar")->data,
                               val(in, "x0mu")->data, val(in, "x0sigma")->data};
    f->lg.K = val(in, "K")->data;
    f->lg.k = val(in, "k")->data;
    f->lg.pol_covar = val(in, "pol_covar")->data;
    size_t n = (size_t)f->d.dX + f->d.dU;
    f->mu = calloc((size_t)f->d.T * n, sizeof(double));
    f->sigma = calloc((size_t)f->d.T * n * n, sizeof(double));
    f->a = gpsc_arena_new(gpsc_traj_forward_scratch_size(f->d));
    assert_true(f->mu && f->sigma && f->a);
}

static void fwd_free(fwd_t *f)
{
    free(f->mu);
    free(f->sigma);
    gpsc_arena_destroy(&f->a);
    gpsc_vecfile_destroy(&f->vf);
}

static void check_forward(const char *file)
{
    fwd_t f;
    fwd_load(&f, file);
    assert_int_equal(gpsc_traj_forward(f.mu, f.sigma, &f.dyn, &f.lg, f.d, f.a), 0);
    expect_close("mu", f.mu, val(f.vf->outputs, "mu"), f.vf);
    expect_close("sigma", f.sigma, val(f.vf->outputs, "sigma"), f.vf);
    expect_symmetric(f.sigma, f.d.dX + f.d.dU, f.d.T);
    assert_int_equal(gpsc_arena_used(f.a), 0);
    fwd_free(&f);
}

static void test_forward_small(void **state)
{
    (void)state;
    check_forward("traj_forward_small.json");
}

static void test_forward_realistic(void **state)
{
    (void)state;
    check_forward("traj_forward_realistic.json");
}

static void test_forward_nonfinite(void **state)
{
    (void)state;
    fwd_t f;
    fwd_load(&f, "traj_forward_small.json");
    size_t T = (size_t)f.d.T, dX = (size_t)f.d.dX, dU = (size_t)f.d.dU, n = dX + dU;
    struct {
        double *a;
        size_t len;
    } arrays[] = {{(double *)f.dyn.Fm, (T - 1) * dX * n},
                  {(double *)f.dyn.fv, (T - 1) * dX},
                  {(double *)f.dyn.dyn_covar, (T - 1) * dX * dX},
                  {(double *)f.dyn.x0mu, dX},
                  {(double *)f.dyn.x0sigma, dX * dX},
                  {f.lg.K, T * dU * dX},
                  {f.lg.k, T * dU},
                  {f.lg.pol_covar, T * dU * dU}};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        for (int b = 0; b < 2; b++) {
            size_t idx = arrays[i].len / 2;
            double keep = arrays[i].a[idx];
            arrays[i].a[idx] = b ? INFINITY : NAN;
            memset(f.mu, 0, sizeof(double) * T * n);
            int rc = gpsc_traj_forward(f.mu, f.sigma, &f.dyn, &f.lg, f.d, f.a);
            arrays[i].a[idx] = keep;
            if (rc != GPSC_ENONFINITE) fail_msg("array %zu: rc %d", i, rc);
            assert_true(gpsc_la_all_finite(f.mu, T * n));
        }
    /* an exploding system overflows: reported, not returned as data */
    double *Fm = (double *)f.dyn.Fm;
    double *keep = malloc(sizeof(double) * T * dX * n);
    memcpy(keep, Fm, sizeof(double) * T * dX * n);
    for (size_t i = 0; i < (T - 1) * dX * n; i++)
        Fm[i] = 1e300;
    assert_int_equal(gpsc_traj_forward(f.mu, f.sigma, &f.dyn, &f.lg, f.d, f.a), GPSC_ENONFINITE);
    memcpy(Fm, keep, sizeof(double) * T * dX * n);
    free(keep);
    fwd_free(&f);
}

/* -- KL --------------------------------------------------------------------- */

typedef struct klfix {
    gpsc_vecfile_t *vf;
    gpsc_traj_dims_t d;
    gpsc_traj_lg_t cn, cp;
    const double *mu, *sigma;
    gpsc_traj_quad_t qp;
    double *qmem;
    gpsc_arena_t *a;
} klfix_t;

static void kl_load(klfix_t *f, const char *file)
{
    memset(f, 0, sizeof *f);
    f->vf = load(file);
    const gpsc_vecset_t *in = f->vf->inputs;
    const gpsc_value_t *K = val(in, "K");
    f->d = (gpsc_traj_dims_t){K->shape[0], K->shape[2], K->shape[1]};
    f->cn.K = K->data;
    f->cn.k = val(in, "k")->data;
    f->cn.pol_covar = val(in, "pol_covar")->data;
    f->cp.K = val(in, "prev_K")->data;
    f->cp.k = val(in, "prev_k")->data;
    f->cp.pol_covar = val(in, "prev_pol_covar")->data;
    f->mu = val(in, "mu")->data;
    f->sigma = val(in, "sigma")->data;
    f->qmem = malloc(sizeof(double) * gpsc_traj_quad_doubles(f->d));
    gpsc_traj_quad_layout(&f->qp, f->qmem, f->d);
    f->a =
        gpsc_arena_new(gpsc_traj_kl_scratch_size(f->d) + gpsc_traj_quad_build_scratch_size(f->d));
    assert_true(f->qmem && f->a);
    assert_int_equal(gpsc_traj_quad_build(&f->qp, &f->cp, f->d, f->a), 0);
}

static void kl_free(klfix_t *f)
{
    free(f->qmem);
    gpsc_arena_destroy(&f->a);
    gpsc_vecfile_destroy(&f->vf);
}

static void check_kl(const char *file)
{
    klfix_t f;
    kl_load(&f, file);
    double *kl_t = calloc((size_t)f.d.T, sizeof(double)), kl = -1;
    assert_int_equal(gpsc_traj_kl(kl_t, &kl, f.mu, f.sigma, &f.cn, &f.qp, f.d, f.a), 0);
    expect_close("kl_t", kl_t, val(f.vf->outputs, "kl_t"), f.vf);
    expect_close("kl", &kl, val(f.vf->outputs, "kl"), f.vf);
    for (int t = 0; t < f.d.T; t++)
        assert_true(kl_t[t] >= 0.0);
    assert_int_equal(gpsc_arena_used(f.a), 0);
    free(kl_t);
    kl_free(&f);
}

static void test_kl_small(void **state)
{
    (void)state;
    check_kl("traj_kl_small.json");
}

static void test_kl_realistic(void **state)
{
    (void)state;
    check_kl("traj_kl_realistic.json");
}

/* KL of a controller with itself is exactly zero, whether the factor is
 * given or computed */
static void test_kl_self(void **state)
{
    (void)state;
    klfix_t f;
    kl_load(&f, "traj_kl_realistic.json");
    double *kl_t = calloc((size_t)f.d.T, sizeof(double)), kl = -1;
    /* the previous controller against its own quad */
    assert_int_equal(gpsc_traj_kl(kl_t, &kl, f.mu, f.sigma, &f.cp, &f.qp, f.d, f.a), 0);
    assert_true(kl == 0.0);
    for (int t = 0; t < f.d.T; t++)
        assert_true(kl_t[t] == 0.0);
    /* with a given upper factor */
    size_t T = (size_t)f.d.T, dU = (size_t)f.d.dU;
    double *chol = malloc(sizeof(double) * T * dU * dU);
    for (size_t t = 0; t < T; t++)
        assert_int_equal(gpsc_la_chol(chol + t * dU * dU, f.cn.pol_covar + t * dU * dU, f.d.dU), 0);
    gpsc_traj_lg_t c = f.cn;
    c.chol_pol_covar = chol;
    assert_int_equal(gpsc_traj_quad_build(&f.qp, &c, f.d, f.a), 0);
    assert_int_equal(gpsc_traj_kl(kl_t, &kl, f.mu, f.sigma, &f.cn, &f.qp, f.d, f.a), 0);
    assert_true(kl == 0.0);
    free(chol);
    free(kl_t);
    kl_free(&f);
}

static void test_kl_nonfinite(void **state)
{
    (void)state;
    klfix_t f;
    kl_load(&f, "traj_kl_small.json");
    size_t T = (size_t)f.d.T, dX = (size_t)f.d.dX, dU = (size_t)f.d.dU, n = dX + dU;
    double kl;
    struct {
        double *a;
        size_t len;
    } arrays[] = {{(double *)f.mu, T * n},
                  {(double *)f.sigma, T * n * n},
                  {f.cn.K, T * dU * dX},
                  {f.cn.k, T * dU},
                  {f.cn.pol_covar, T * dU * dU},
                  {f.qp.M, T * n * n},
                  {f.qp.v, T * n},
                  {f.qp.c, T},
                  {f.qp.logdet, T}};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) {
        double keep = arrays[i].a[0];
        arrays[i].a[0] = NAN;
        kl = 0;
        int rc = gpsc_traj_kl(NULL, &kl, f.mu, f.sigma, &f.cn, &f.qp, f.d, f.a);
        arrays[i].a[0] = keep;
        if (rc != GPSC_ENONFINITE) fail_msg("array %zu: rc %d", i, rc);
        assert_true(kl == 0);
    }
    /* a previous covariance that is not PD */
    double keep = f.cp.pol_covar[0];
    f.cp.pol_covar[0] = -1.0;
    assert_int_equal(gpsc_traj_quad_build(&f.qp, &f.cp, f.d, f.a), GPSC_ENOTPD);
    f.cp.pol_covar[0] = keep;
    kl_free(&f);
}

/* -- Laplace cost ----------------------------------------------------------- */

static void check_laplace(const char *file)
{
    gpsc_vecfile_t *vf = load(file);
    const gpsc_vecset_t *in = vf->inputs;
    const gpsc_value_t *mu = val(in, "mu");
    int T = mu->shape[0], n = mu->shape[1];
    double *cost_t = calloc((size_t)T, sizeof(double)), cost;
    assert_int_equal(gpsc_traj_laplace_cost(cost_t, &cost, mu->data, val(in, "sigma")->data,
                                            val(in, "cc")->data, val(in, "cv")->data,
                                            val(in, "Cm")->data, T, n),
                     0);
    expect_close("cost_t", cost_t, val(vf->outputs, "cost_t"), vf);
    expect_close("cost", &cost, val(vf->outputs, "cost"), vf);
    /* NaN anywhere is refused */
    const char *names[] = {"mu", "sigma", "cc", "cv", "Cm"};
    for (int i = 0; i < 5; i++) {
        double *x = val(in, names[i])->data;
        double keep = x[0];
        x[0] = NAN;
        int rc = gpsc_traj_laplace_cost(cost_t, &cost, mu->data, val(in, "sigma")->data,
                                        val(in, "cc")->data, val(in, "cv")->data,
                                        val(in, "Cm")->data, T, n);
        x[0] = keep;
        assert_int_equal(rc, GPSC_ENONFINITE);
    }
    free(cost_t);
    gpsc_vecfile_destroy(&vf);
}

static void test_laplace_small(void **state)
{
    (void)state;
    check_laplace("laplace_cost_small.json");
}

static void test_laplace_realistic(void **state)
{
    (void)state;
    check_laplace("laplace_cost_realistic.json");
}

/* estimate_cost = forward + laplace, bitwise */
static void test_estimate_cost(void **state)
{
    (void)state;
    fwd_t f;
    fwd_load(&f, "traj_forward_small.json");
    int T = f.d.T, n = f.d.dX + f.d.dU;
    double *Cm = calloc((size_t)T * n * n, sizeof(double));
    double *cv = calloc((size_t)T * n, sizeof(double));
    double *cc = calloc((size_t)T, sizeof(double));
    for (int t = 0; t < T; t++) {
        cc[t] = 0.5 * t;
        for (int i = 0; i < n; i++) {
            cv[t * n + i] = 0.1 * (i - t);
            Cm[(size_t)t * n * n + (size_t)i * n + i] = 1.0 + 0.01 * t;
        }
    }
    double c1, c2, ct1[64], ct2[64];
    assert_true(T <= 64);
    gpsc_arena_t *a = gpsc_arena_new(gpsc_traj_estimate_cost_scratch_size(f.d));
    assert_int_equal(gpsc_traj_estimate_cost(ct1, &c1, &f.dyn, &f.lg, cc, cv, Cm, f.d, a), 0);
    assert_int_equal(gpsc_traj_forward(f.mu, f.sigma, &f.dyn, &f.lg, f.d, f.a), 0);
    assert_int_equal(gpsc_traj_laplace_cost(ct2, &c2, f.mu, f.sigma, cc, cv, Cm, T, n), 0);
    assert_true(c1 == c2);
    assert_memory_equal(ct1, ct2, sizeof(double) * (size_t)T);
    assert_int_equal(gpsc_arena_used(a), 0);
    gpsc_arena_destroy(&a);
    free(Cm);
    free(cv);
    free(cc);
    fwd_free(&f);
}

int main(void)
{
    gpsc_la_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_small),     cmocka_unit_test(test_forward_realistic),
        cmocka_unit_test(test_forward_nonfinite), cmocka_unit_test(test_kl_small),
        cmocka_unit_test(test_kl_realistic),      cmocka_unit_test(test_kl_self),
        cmocka_unit_test(test_kl_nonfinite),      cmocka_unit_test(test_laplace_small),
        cmocka_unit_test(test_laplace_realistic), cmocka_unit_test(test_estimate_cost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
