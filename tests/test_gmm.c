/* test_gmm — GMM EM and NIW prior (learner/gmm.h): reference vectors,
 * exact symmetry, the EM trace and stopping rules, random initialisation,
 * the E-step formula, and refusal of bad input. */
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
#include "learner/gmm.h"
#include "model_check.h"

static void test_vectors(void **state)
{
    (void)state;
    const char *files[] = {"gmm_em_small.json", "gmm_em_small_reboot.json", "gmm_em_realistic.json",
                           "gmm_prior_small.json", "gmm_prior_realistic.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        mc_check_vector(files[i]);
}

/* EM covariances are exactly symmetric; the trace never decreases before
 * the stop (the last entry may, when that is why EM stopped) */
static void test_em_symmetric_and_monotone(void **state)
{
    (void)state;
    const char *files[] = {"gmm_em_small.json", "gmm_em_realistic.json"};
    for (int f = 0; f < 2; f++) {
        gpsc_vecfile_t *vf;
        gpsc_vecset_t *got = mc_check_vector_keep(files[f], &vf);
        mc_assert_symmetric(got, "sigma");
        const gpsc_value_t *tr = gpsc_vecset_find(got, "loglik_trace");
        const gpsc_value_t *why = gpsc_vecset_find(got, "stop_reason");
        assert_non_null(tr);
        assert_non_null(why);
        size_t last = why->ival == GPSC_GMM_STOP_DECREASE ? tr->n - 1 : tr->n;
        assert_true(tr->n >= 2);
        for (size_t i = 1; i < last; i++)
            assert_true(tr->data[i] >= tr->data[i - 1]);
        if (why->ival == GPSC_GMM_STOP_DECREASE)
            assert_true(tr->data[tr->n - 1] < tr->data[tr->n - 2]);
        gpsc_vecset_destroy(&got);
        gpsc_vecfile_destroy(&vf);
    }
}

static void test_refuses_nonfinite(void **state)
{
    (void)state;
    mc_refuses("gmm_em_small.json", "data", 7, NAN);
    mc_refuses("gmm_em_small.json", "sigma", 0, INFINITY);
    mc_refuses("gmm_em_small.json", "logmass", 1, NAN);
    mc_refuses("gmm_em_small.json", "mu", 2, -INFINITY);
    mc_refuses("gmm_prior_small.json", "pts", 3, INFINITY);
    mc_refuses("gmm_prior_small.json", "strength", 0, NAN);
}

/* three well separated blobs in 2-D */
enum { BM = 300, BD = 2, BK = 3 };
static const double blob_mu[BK][BD] = {{0.0, 0.0}, {6.0, 1.0}, {-2.0, 7.0}};

/* blob c has mean scale*blob_mu[c] and standard deviation scale*0.5 */
static void blobs(double *data, double scale)
{
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 11, 0, 0, 0, GPSC_RNG_TEST);
    for (int i = 0; i < BM; i++)
        for (int j = 0; j < BD; j++)
            data[i * BD + j] = scale * (blob_mu[i % BK][j] + 0.5 * gpsc_rng_normal(&r));
}

typedef struct gmm_buf {
    gpsc_gmm_t g;
    double mu[8 * 8], sigma[8 * 8 * 8], logmass[8];
} gmm_buf_t;

static void gmm_setup(gmm_buf_t *b, int K, int D)
{
    memset(b, 0, sizeof *b);
    b->g = (gpsc_gmm_t){.K = K, .D = D, .mu = b->mu, .sigma = b->sigma, .logmass = b->logmass};
}

static void test_init_random_then_em(void **state)
{
    (void)state;
    /* at scale 0.1 the log-likelihood is positive, so the convergence test
     * (1e-5 times the signed previous value) can fire */
    const double sc = 0.1;
    double data[BM * BD];
    blobs(data, sc);
    size_t need = gpsc_gmm_init_scratch_size(BM, BK, BD);
    if (gpsc_gmm_em_scratch_size(BM, BK, BD) > need) need = gpsc_gmm_em_scratch_size(BM, BK, BD);
    gpsc_arena_t *a = gpsc_arena_new(need);
    gmm_buf_t b1, b2, b3;
    gpsc_rng_t r;
    gmm_setup(&b1, BK, BD);
    gmm_setup(&b2, BK, BD);
    gmm_setup(&b3, BK, BD);
    gpsc_rng_init5(&r, 1, 2, 3, 0, GPSC_RNG_GMM_INIT);
    assert_int_equal(gpsc_gmm_init_random(&b1.g, data, BM, &r, a), 0);
    gpsc_rng_init5(&r, 1, 2, 3, 0, GPSC_RNG_GMM_INIT);
    assert_int_equal(gpsc_gmm_init_random(&b2.g, data, BM, &r, a), 0);
    gpsc_rng_init5(&r, 1, 2, 4, 0, GPSC_RNG_GMM_INIT);
    assert_int_equal(gpsc_gmm_init_random(&b3.g, data, BM, &r, a), 0);
    /* same key, same start; another key, another start */
    assert_memory_equal(b1.mu, b2.mu, sizeof b1.mu);
    assert_memory_equal(b1.sigma, b2.sigma, sizeof b1.sigma);
    assert_true(memcmp(b1.mu, b3.mu, sizeof b1.mu) != 0);
    for (int k = 0; k < BK; k++)
        assert_true(b1.logmass[k] == log(1.0 / BK));

    gpsc_gmm_em_info_t info, info2;
    double trace[100], trace2[100];
    assert_int_equal(gpsc_gmm_em(&b1.g, &info, trace, data, BM, 100, a), 0);
    assert_int_equal(gpsc_gmm_em(&b2.g, &info2, trace2, data, BM, 100, a), 0);
    assert_int_equal(gpsc_arena_used(a), 0);
    /* deterministic */
    assert_int_equal(info.n_estep, info2.n_estep);
    assert_memory_equal(b1.sigma, b2.sigma, sizeof b1.sigma);
    assert_memory_equal(trace, trace2, sizeof(double) * (size_t)info.n_estep);
    /* stopped by a test, with the counts of README 5.5 */
    assert_true(trace[info.n_estep - 1] > 0.0);
    assert_int_equal(info.stop_reason, GPSC_GMM_STOP_CONVERGED);
    assert_int_equal(info.n_mstep, info.n_estep - 1);
    assert_true(info.loglik == trace[info.n_estep - 1]);
    for (int i = 1; i < info.n_estep - 1; i++)
        assert_true(trace[i] >= trace[i - 1]);
    /* every blob found, with a third of the mass */
    for (int c = 0; c < BK; c++) {
        int hit = 0;
        for (int k = 0; k < BK; k++) {
            double dx = b1.mu[k * BD] - sc * blob_mu[c][0];
            double dy = b1.mu[k * BD + 1] - sc * blob_mu[c][1];
            if (dx * dx + dy * dy < 0.04 * sc * sc) {
                hit++;
                assert_true(fabs(exp(b1.logmass[k]) - 1.0 / BK) < 0.01);
                assert_true(fabs(b1.sigma[k * BD * BD] - 0.25 * sc * sc) < 0.1 * sc * sc);
            }
        }
        assert_int_equal(hit, 1);
    }

    /* at scale 1 the log-likelihood is negative and, as in the reference,
     * the convergence test never fires */
    blobs(data, 1.0);
    gpsc_rng_init5(&r, 1, 2, 3, 0, GPSC_RNG_GMM_INIT);
    assert_int_equal(gpsc_gmm_init_random(&b1.g, data, BM, &r, a), 0);
    assert_int_equal(gpsc_gmm_em(&b1.g, &info, trace, data, BM, 60, a), 0);
    assert_true(trace[info.n_estep - 1] < 0.0);
    assert_true(info.stop_reason != GPSC_GMM_STOP_CONVERGED);
    if (info.stop_reason == GPSC_GMM_STOP_MAXITER) assert_int_equal(info.n_mstep, 60);
    gpsc_arena_destroy(&a);
}

static void test_em_counts(void **state)
{
    (void)state;
    double data[BM * BD];
    blobs(data, 0.1);
    gpsc_arena_t *a = gpsc_arena_new(gpsc_gmm_em_scratch_size(BM, BK, BD) +
                                     gpsc_gmm_init_scratch_size(BM, BK, BD));
    gmm_buf_t b;
    gpsc_rng_t r;
    gmm_setup(&b, BK, BD);
    gpsc_rng_init5(&r, 5, 0, 0, 0, GPSC_RNG_GMM_INIT);
    assert_int_equal(gpsc_gmm_init_random(&b.g, data, BM, &r, a), 0);
    gpsc_gmm_em_info_t info;
    double trace[3];
    /* no test fires in 2 passes: stop_reason 0, an M-step per pass, and
     * loglik is the ll taken before the last M-step */
    assert_int_equal(gpsc_gmm_em(&b.g, &info, trace, data, BM, 2, a), 0);
    assert_int_equal(info.n_estep, 2);
    assert_int_equal(info.n_mstep, 2);
    assert_int_equal(info.stop_reason, GPSC_GMM_STOP_MAXITER);
    assert_true(info.loglik == trace[1]);
    assert_int_equal(gpsc_gmm_em(&b.g, &info, NULL, data, BM, 0, a), 0);
    assert_int_equal(info.n_estep, 0);
    assert_int_equal(info.n_mstep, 0);
    /* the arena must hold the scratch */
    gpsc_arena_t *tiny = gpsc_arena_new(128);
    assert_int_equal(gpsc_gmm_em(&b.g, &info, trace, data, BM, 2, tiny), GPSC_ENOSPC);
    assert_int_equal(gpsc_arena_used(tiny), 0);
    gpsc_arena_destroy(&tiny);
    gpsc_arena_destroy(&a);
}

/* fewer points than clusters: clusters with no point still get finite,
 * positive definite parameters */
static void test_init_empty_cluster(void **state)
{
    (void)state;
    double data[2 * 3] = {1.0, 2.0, 3.0, -1.0, 0.5, 2.0};
    gmm_buf_t b;
    gmm_setup(&b, 6, 3);
    gpsc_arena_t *a = gpsc_arena_new(gpsc_gmm_init_scratch_size(2, 6, 3));
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 9, 0, 0, 0, GPSC_RNG_GMM_INIT);
    assert_int_equal(gpsc_gmm_init_random(&b.g, data, 2, &r, a), 0);
    assert_true(gpsc_la_all_finite(b.mu, 6 * 3));
    assert_true(gpsc_la_all_finite(b.sigma, 6 * 9));
    double U[9];
    for (int k = 0; k < 6; k++)
        assert_int_equal(gpsc_la_chol(U, b.sigma + k * 9, 3), 0);
    gpsc_arena_destroy(&a);
}

/* E-step against the textbook density in 2-D */
static void test_estep_formula(void **state)
{
    (void)state;
    gmm_buf_t b;
    gmm_setup(&b, 2, 2);
    double mu[4] = {0.5, -1.0, 2.0, 3.0};
    double sg[8] = {2.0, 0.3, 0.3, 1.0, 0.5, -0.2, -0.2, 0.4};
    double lm[2] = {log(0.25), log(0.75)};
    memcpy(b.mu, mu, sizeof mu);
    memcpy(b.sigma, sg, sizeof sg);
    memcpy(b.logmass, lm, sizeof lm);
    double x[6] = {0.0, 0.0, 1.0, 2.0, -3.0, 0.5};
    double lo[6];
    gpsc_arena_t *a = gpsc_arena_new(gpsc_gmm_estep_scratch_size(3, 2, 2));
    assert_int_equal(gpsc_gmm_estep(lo, &b.g, x, 3, a), 0);
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 2; k++) {
            const double *S = sg + 4 * k;
            double det = S[0] * S[3] - S[1] * S[2];
            double dx = x[2 * i] - mu[2 * k], dy = x[2 * i + 1] - mu[2 * k + 1];
            double q = (S[3] * dx * dx - 2 * S[1] * dx * dy + S[0] * dy * dy) / det;
            double ref = -log(2 * M_PI) - 0.5 * log(det) - 0.5 * q + lm[k];
            assert_true(fabs(lo[i * 2 + k] - ref) < 1e-13 * (1 + fabs(ref)));
        }
    /* a covariance that is not positive definite is an error, not a NaN */
    b.sigma[4] = -1.0;
    assert_int_equal(gpsc_gmm_estep(lo, &b.g, x, 3, a), GPSC_ENOTPD);
    gpsc_gmm_em_info_t info;
    gpsc_arena_t *a2 = gpsc_arena_new(gpsc_gmm_em_scratch_size(3, 2, 2));
    assert_int_equal(gpsc_gmm_em(&b.g, &info, NULL, x, 3, 5, a2), GPSC_ENOTPD);
    assert_int_equal(gpsc_arena_used(a2), 0);
    /* logsumexp: the max of -inf is replaced by 0 */
    double ninf[2] = {-INFINITY, -INFINITY};
    assert_true(gpsc_gmm_logsumexp(ninf, 2, 1) == -INFINITY);
    double v[3] = {1000.0, 1000.0, 0.0};
    assert_true(fabs(gpsc_gmm_logsumexp(v, 2, 1) - (1000.0 + log(2.0))) < 1e-12);
    gpsc_arena_destroy(&a);
    gpsc_arena_destroy(&a2);
}

static void test_prior_properties(void **state)
{
    (void)state;
    gpsc_vecfile_t *vf;
    gpsc_vecset_t *got = mc_check_vector_keep("gmm_prior_small.json", &vf);
    /* cluster weights are a distribution */
    const gpsc_value_t *clw = gpsc_vecset_find(got, "cluster_logwts");
    assert_true(fabs(gpsc_gmm_logsumexp(clw->data, (int)clw->n, 1)) < 1e-12);
    gpsc_vecset_destroy(&got);
    gpsc_vecfile_destroy(&vf);

    /* one cluster: mu0 = mu, Phi = strength sigma, n0 = s (N - 2 - D) / N */
    gmm_buf_t b;
    gmm_setup(&b, 1, 3);
    double mu[3] = {1.0, -2.0, 0.5};
    double S[9] = {2.0, 0.1, 0.0, 0.1, 1.0, 0.2, 0.0, 0.2, 3.0};
    memcpy(b.mu, mu, sizeof mu);
    memcpy(b.sigma, S, sizeof S);
    b.logmass[0] = 0.0;
    double pts[6] = {0.0, 0.0, 0.0, 1.0, 1.0, 1.0};
    double mu0[3], Phi[9], lw[1];
    gpsc_niw_t niw = {.mu0 = mu0, .Phi = Phi};
    gpsc_arena_t *a = gpsc_arena_new(gpsc_gmm_prior_scratch_size(2, 1, 3));
    assert_int_equal(gpsc_gmm_prior(&niw, lw, &b.g, pts, 2, 40, 0.5, a), 0);
    assert_int_equal(niw.D, 3);
    assert_true(niw.m == 0.5);
    assert_true(fabs(niw.n0 - 0.5 * 35.0 / 40.0) < 1e-15);
    assert_true(fabs(lw[0]) < 1e-15);
    for (int i = 0; i < 3; i++)
        assert_true(fabs(mu0[i] - mu[i]) < 1e-15);
    for (int i = 0; i < 9; i++)
        assert_true(fabs(Phi[i] - 0.5 * S[i]) < 1e-15);
    assert_int_equal(gpsc_arena_used(a), 0);
    gpsc_arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),           cmocka_unit_test(test_em_symmetric_and_monotone),
        cmocka_unit_test(test_refuses_nonfinite), cmocka_unit_test(test_init_random_then_em),
        cmocka_unit_test(test_em_counts),         cmocka_unit_test(test_init_empty_cluster),
        cmocka_unit_test(test_estep_formula),     cmocka_unit_test(test_prior_properties),
    };
    gpsc_la_set_threads(1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
