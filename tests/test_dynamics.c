/* test_dynamics — NIW regression and the whole-trajectory dynamics fit
 * (learner/dynamics.h): reference vectors, exact symmetry, recovery of
 * known linear dynamics, the general conditioning split, and refusal of
 * bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/error.h"
#include "common/la.h"
#include "common/rng.h"
#include "learner/dynamics.h"
#include "model_check.h"

static void test_vectors(void **state)
{
    (void)state;
    const char *files[] = {"niw_regression_small.json", "niw_regression_realistic.json",
                           "dynamics_fit_small.json", "dynamics_fit_realistic.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        mc_check_vector(files[i]);
}

static void test_symmetric_outputs(void **state)
{
    (void)state;
    const char *niw[] = {"niw_regression_small.json", "niw_regression_realistic.json"};
    const char *fit[] = {"dynamics_fit_small.json", "dynamics_fit_realistic.json"};
    for (int i = 0; i < 2; i++) {
        gpsc_vecfile_t *vf;
        gpsc_vecset_t *got = mc_check_vector_keep(niw[i], &vf);
        mc_assert_symmetric(got, "sigma");
        mc_assert_symmetric(got, "dyn_covar");
        gpsc_vecset_destroy(&got);
        gpsc_vecfile_destroy(&vf);
        got = mc_check_vector_keep(fit[i], &vf);
        mc_assert_symmetric(got, "dyn_covar");
        mc_assert_symmetric(got, "x0sigma");
        gpsc_vecset_destroy(&got);
        gpsc_vecfile_destroy(&vf);
    }
}

static void test_refuses_nonfinite(void **state)
{
    (void)state;
    mc_refuses("niw_regression_small.json", "pts", 4, NAN);
    mc_refuses("niw_regression_small.json", "Phi", 0, INFINITY);
    mc_refuses("niw_regression_small.json", "m", 0, NAN);
    mc_refuses("dynamics_fit_small.json", "X", 17, INFINITY);
    mc_refuses("dynamics_fit_small.json", "U", 3, NAN);
    mc_refuses("dynamics_fit_small.json", "gmm_sigma", 5, NAN);
    mc_refuses("dynamics_fit_small.json", "X0_prior", 2, -INFINITY);
    mc_refuses("dynamics_fit_small.json", "initial_state_var", 0, NAN);
}

/* noise-free x_{t+1} = A x_t + B u_t + c is recovered without a prior */
enum { RN = 12, RT = 4, RX = 3, RU = 2, RXU = RX + RU };

static void test_recovers_linear_dynamics(void **state)
{
    (void)state;
    double A[RX * RX] = {0.9, 0.1, 0.0, -0.2, 1.0, 0.05, 0.0, 0.3, 0.8};
    double B[RX * RU] = {0.5, 0.0, 0.1, -0.4, 0.0, 1.0};
    double c[RX] = {0.01, -0.2, 0.3};
    double X[RN * RT * RX], U[RN * RT * RU];
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 3, 0, 0, 0, GPSC_RNG_TEST);
    for (int n = 0; n < RN; n++) {
        for (int i = 0; i < RX; i++)
            X[(n * RT) * RX + i] = gpsc_rng_normal(&r);
        for (int t = 0; t < RT; t++) {
            for (int i = 0; i < RU; i++)
                U[(n * RT + t) * RU + i] = gpsc_rng_normal(&r);
            if (t + 1 == RT) break;
            const double *x = X + (n * RT + t) * RX, *u = U + (n * RT + t) * RU;
            for (int i = 0; i < RX; i++) {
                double s = c[i];
                for (int j = 0; j < RX; j++)
                    s += A[i * RX + j] * x[j];
                for (int j = 0; j < RU; j++)
                    s += B[i * RU + j] * u[j];
                X[(n * RT + t + 1) * RX + i] = s;
            }
        }
    }
    double Fm[RT * RX * RXU], fv[RT * RX], cov[RT * RX * RX], x0mu[RX], x0sig[RX * RX];
    gpsc_dynamics_fit_out_t o = {Fm, fv, cov, x0mu, x0sig};
    gpsc_dynamics_cfg_t cfg = {.sig_reg = 1e-12, .strength = 1.0, .initial_state_var = 1e-6};
    gpsc_dynamics_prior_t none = {0};
    size_t need = gpsc_dynamics_fit_scratch_size(RN, RX, RU, 1);
    gpsc_arena_t *a = gpsc_arena_new(need);
    assert_int_equal(gpsc_dynamics_fit(&o, &cfg, &none, X, U, RN, RT, RX, RU, a), 0);
    assert_int_equal(gpsc_arena_used(a), 0);
    assert_true(gpsc_arena_peak(a) <= need);
    for (int t = 0; t + 1 < RT; t++)
        for (int i = 0; i < RX; i++) {
            for (int j = 0; j < RXU; j++) {
                double want = j < RX ? A[i * RX + j] : B[i * RU + j - RX];
                assert_true(fabs(Fm[(t * RX + i) * RXU + j] - want) < 1e-8);
            }
            assert_true(fabs(fv[t * RX + i] - c[i]) < 1e-8);
            for (int j = 0; j < RX; j++)
                assert_true(fabs(cov[(t * RX + i) * RX + j]) < 1e-10);
        }
    /* the last step is zero and never read */
    for (int i = 0; i < RX * RXU; i++)
        assert_true(Fm[(RT - 1) * RX * RXU + i] == 0.0);
    /* initial state: sample mean and floored population variance */
    for (int i = 0; i < RX; i++) {
        double m = 0.0, v = 0.0;
        for (int n = 0; n < RN; n++)
            m += X[n * RT * RX + i];
        m /= RN;
        for (int n = 0; n < RN; n++)
            v += (X[n * RT * RX + i] - m) * (X[n * RT * RX + i] - m);
        v /= RN;
        assert_true(fabs(x0mu[i] - m) < 1e-14);
        assert_true(fabs(x0sig[i * RX + i] - v) < 1e-14);
        for (int j = 0; j < RX; j++)
            if (j != i) assert_true(x0sig[i * RX + j] == 0.0);
    }
    /* one sample is refused, as in the reference */
    assert_int_equal(gpsc_dynamics_fit(&o, &cfg, &none, X, U, 1, RT, RX, RU, a), GPSC_EINVAL);
    /* a GMM of the wrong dimension is refused */
    double mu[RXU], sg[RXU * RXU], lm[1] = {0.0};
    gpsc_gmm_t g = {.K = 1, .D = RXU, .mu = mu, .sigma = sg, .logmass = lm};
    gpsc_dynamics_prior_t bad = {.gmm = &g, .N_init = 10};
    assert_int_equal(gpsc_dynamics_fit(&o, &cfg, &bad, X, U, RN, RT, RX, RU, a), GPSC_EDIM);
    /* too small an arena */
    gpsc_arena_t *tiny = gpsc_arena_new(256);
    assert_int_equal(gpsc_dynamics_fit(&o, &cfg, &none, X, U, RN, RT, RX, RU, tiny), GPSC_ENOSPC);
    assert_int_equal(gpsc_arena_used(tiny), 0);
    gpsc_arena_destroy(&tiny);
    gpsc_arena_destroy(&a);
}

/* the regression conditions on any leading block: with a = 2 of D = 5,
 * Fm solves sigma_aa Fm^T = sigma_ab and covar is the Schur complement */
static void test_general_split(void **state)
{
    (void)state;
    enum { N = 7, D = 5, a = 2, b = D - a };
    double pts[N * D], mu0[D], Phi[D * D];
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 4, 0, 0, 0, GPSC_RNG_TEST);
    for (int i = 0; i < N * D; i++)
        pts[i] = gpsc_rng_normal(&r);
    for (int i = 0; i < D; i++)
        mu0[i] = 0.1 * i;
    double G[D * D];
    for (int i = 0; i < D * D; i++)
        G[i] = gpsc_rng_normal(&r);
    gpsc_la_syrk(Phi, G, D, D, false, 1.0, 0.0);
    gpsc_niw_t niw = {.D = D, .mu0 = mu0, .Phi = Phi, .m = 0.7, .n0 = 1.5};
    double Fm[b * a], fv[b], cov[b * b], mun[D], sigma[D * D];
    gpsc_arena_t *ar = gpsc_arena_new(gpsc_dynamics_niw_regression_scratch_size(N, D, a));
    assert_int_equal(
        gpsc_dynamics_niw_regression(Fm, fv, cov, mun, sigma, pts, &niw, 1e-3, N, D, a, ar), 0);
    /* the MAP covariance by its formula */
    for (int i = 0; i < D; i++) {
        double m = 0.0;
        for (int n = 0; n < N; n++)
            m += pts[n * D + i];
        assert_true(fabs(mun[i] - m / N) < 1e-14);
    }
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double e = 0.0;
            for (int n = 0; n < N; n++)
                e += (pts[n * D + i] - mun[i]) * (pts[n * D + j] - mun[j]);
            e /= N;
            double di = mun[i] - mu0[i], dj = mun[j] - mu0[j];
            double s =
                (N * e + 0.5 * (Phi[i * D + j] + Phi[j * D + i]) + N * 0.7 / (N + 0.7) * di * dj) /
                (N + 1.5);
            if (i == j && i < a) s += 1e-3;
            assert_true(fabs(sigma[i * D + j] - s) < 1e-12 * (1 + fabs(s)));
        }
    for (int i = 0; i < b; i++) {
        /* sigma_aa Fm^T = sigma_ab, column by column */
        for (int p = 0; p < a; p++) {
            double s = 0.0;
            for (int q = 0; q < a; q++)
                s += sigma[p * D + q] * Fm[i * a + q];
            assert_true(fabs(s - sigma[p * D + a + i]) < 1e-12);
        }
        /* fv = mun_b - Fm mun_a */
        double f = mun[a + i];
        for (int q = 0; q < a; q++)
            f -= Fm[i * a + q] * mun[q];
        assert_true(fabs(fv[i] - f) < 1e-13);
        /* covar = sigma_bb - sigma_ba Fm^T (the Schur complement) */
        for (int j = 0; j < b; j++) {
            double s = sigma[(a + i) * D + a + j];
            for (int q = 0; q < a; q++)
                s -= sigma[(a + i) * D + q] * Fm[j * a + q];
            assert_true(fabs(cov[i * b + j] - s) < 1e-12);
            assert_true(cov[i * b + j] == cov[j * b + i]);
        }
    }
    /* the optional outputs may be left out */
    double Fm2[b * a], fv2[b], cov2[b * b];
    assert_int_equal(
        gpsc_dynamics_niw_regression(Fm2, fv2, cov2, NULL, NULL, pts, &niw, 1e-3, N, D, a, ar), 0);
    assert_memory_equal(Fm, Fm2, sizeof Fm);
    assert_memory_equal(cov, cov2, sizeof cov);
    /* a conditioning block that is not positive definite is an error */
    for (int i = 0; i < D * D; i++)
        Phi[i] = 0.0;
    Phi[0] = -1e6;
    assert_int_equal(
        gpsc_dynamics_niw_regression(Fm2, fv2, cov2, NULL, NULL, pts, &niw, 0.0, N, D, a, ar),
        GPSC_ENOTPD);
    assert_int_equal(gpsc_arena_used(ar), 0);
    gpsc_arena_destroy(&ar);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),           cmocka_unit_test(test_symmetric_outputs),
        cmocka_unit_test(test_refuses_nonfinite), cmocka_unit_test(test_recovers_linear_dynamics),
        cmocka_unit_test(test_general_split),
    };
    gpsc_la_set_threads(1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
