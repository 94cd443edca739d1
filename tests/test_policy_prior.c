/* test_policy_prior — linearisation of the global policy and the S-step
 * targets (learner/policy_prior.h): reference vectors, exact symmetry, the
 * t = 0-only ridge, recovery of a linear policy, the median weight rule
 * and refusal of bad input. */
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
#include "learner/policy_prior.h"
#include "model_check.h"

static void test_vectors(void **state)
{
    (void)state;
    const char *files[] = {"policy_linearize_small.json", "policy_linearize_realistic.json",
                           "sstep_targets_small.json", "sstep_targets_realistic.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        mc_check_vector(files[i]);
}

static void test_pol_S_symmetric(void **state)
{
    (void)state;
    const char *files[] = {"policy_linearize_small.json", "policy_linearize_realistic.json"};
    for (int i = 0; i < 2; i++) {
        gpsc_vecfile_t *vf;
        gpsc_vecset_t *got = mc_check_vector_keep(files[i], &vf);
        mc_assert_symmetric(got, "pol_S");
        gpsc_vecset_destroy(&got);
        gpsc_vecfile_destroy(&vf);
    }
}

static void test_refuses_nonfinite(void **state)
{
    (void)state;
    mc_refuses("policy_linearize_small.json", "X", 9, NAN);
    mc_refuses("policy_linearize_small.json", "pol_sig", 0, INFINITY);
    mc_refuses("policy_linearize_small.json", "gmm_logmass", 2, NAN);
    mc_refuses("policy_linearize_small.json", "sig_reg", 0, INFINITY);
    mc_refuses("sstep_targets_small.json", "pol_wt", 4, INFINITY);
    mc_refuses("sstep_targets_small.json", "K", 1, NAN);
    mc_refuses("sstep_targets_small.json", "inv_pol_covar", 3, NAN);
}

/* fixture: a linear policy u = Kx + k observed on N samples, and a
 * one-cluster policy GMM */
enum { PN = 10, PT = 3, PX = 3, PU = 2, PD = PX + PU };
typedef struct pol_fix {
    double X[PN * PT * PX], mu[PN * PT * PU], sig[PN * PT * PU * PU];
    double K[PU * PX], k[PU];
    double gmu[PD], gsig[PD * PD], glm[1];
    gpsc_gmm_t g;
} pol_fix_t;

static void pol_fixture(pol_fix_t *f)
{
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 21, 0, 0, 0, GPSC_RNG_TEST);
    for (int i = 0; i < PU * PX; i++)
        f->K[i] = gpsc_rng_normal(&r);
    for (int i = 0; i < PU; i++)
        f->k[i] = gpsc_rng_normal(&r);
    for (int nt = 0; nt < PN * PT; nt++) {
        double *x = f->X + nt * PX, *u = f->mu + nt * PU, *S = f->sig + nt * PU * PU;
        for (int j = 0; j < PX; j++)
            x[j] = gpsc_rng_normal(&r);
        for (int i = 0; i < PU; i++) {
            u[i] = f->k[i];
            for (int j = 0; j < PX; j++)
                u[i] += f->K[i * PX + j] * x[j];
        }
        double s = 0.1 + 0.01 * (nt % 7);
        S[0] = s, S[1] = S[2] = 0.3 * s, S[3] = 2 * s;
    }
    memset(f->gmu, 0, sizeof f->gmu);
    gpsc_la_eye(f->gsig, PD);
    f->glm[0] = 0.0;
    f->g = (gpsc_gmm_t){.K = 1, .D = PD, .mu = f->gmu, .sigma = f->gsig, .logmass = f->glm};
}

static void test_recovers_linear_policy(void **state)
{
    (void)state;
    pol_fix_t f;
    pol_fixture(&f);
    double pK[PT * PU * PX], pk[PT * PU], pS[PT * PU * PU];
    size_t need = gpsc_policy_prior_linearize_scratch_size(PN, PX, PU, 1);
    gpsc_arena_t *a = gpsc_arena_new(need);
    /* a very weak prior: the regression sees the exact linear map */
    assert_int_equal(gpsc_policy_prior_linearize(pK, pk, pS, f.X, f.mu, f.sig, &f.g, 100, 1e-9,
                                                 1e-8, PN, PT, PX, PU, a),
                     0);
    assert_int_equal(gpsc_arena_used(a), 0);
    assert_true(gpsc_arena_peak(a) <= need);
    for (int t = 0; t < PT; t++) {
        for (int i = 0; i < PU * PX; i++)
            assert_true(fabs(pK[t * PU * PX + i] - f.K[i]) < 1e-6);
        for (int i = 0; i < PU; i++)
            assert_true(fabs(pk[t * PU + i] - f.k[i]) < 1e-6);
        /* the residual covariance vanishes; what is left is mean_n pol_sig */
        for (int i = 0; i < PU * PU; i++) {
            double m = 0.0;
            for (int n = 0; n < PN; n++)
                m += f.sig[(n * PT + t) * PU * PU + i];
            assert_true(fabs(pS[t * PU * PU + i] - m / PN) < 1e-6);
        }
        assert_true(pS[t * 4 + 1] == pS[t * 4 + 2]);
    }
    /* wrong GMM dimension; too small an arena */
    f.g.D = PD + 1;
    assert_int_equal(gpsc_policy_prior_linearize(pK, pk, pS, f.X, f.mu, f.sig, &f.g, 100, 1.0, 1e-8,
                                                 PN, PT, PX, PU, a),
                     GPSC_EDIM);
    f.g.D = PD;
    gpsc_arena_t *tiny = gpsc_arena_new(128);
    assert_int_equal(gpsc_policy_prior_linearize(pK, pk, pS, f.X, f.mu, f.sig, &f.g, 100, 1.0, 1e-8,
                                                 PN, PT, PX, PU, tiny),
                     GPSC_ENOSPC);
    assert_int_equal(gpsc_arena_used(tiny), 0);
    gpsc_arena_destroy(&tiny);
    gpsc_arena_destroy(&a);
}

/* the reference regularises t = 0 only: changing sig_reg changes step 0
 * and leaves every later step bit for bit the same */
static void test_ridge_at_t0_only(void **state)
{
    (void)state;
    pol_fix_t f;
    pol_fixture(&f);
    /* a noisy policy, so the ridge has something to change */
    for (int i = 0; i < PN * PT * PU; i++)
        f.mu[i] += 0.3 * sin(7.0 * i);
    double K1[PT * PU * PX], k1[PT * PU], S1[PT * PU * PU];
    double K2[PT * PU * PX], k2[PT * PU], S2[PT * PU * PU];
    gpsc_arena_t *a = gpsc_arena_new(gpsc_policy_prior_linearize_scratch_size(PN, PX, PU, 1));
    assert_int_equal(gpsc_policy_prior_linearize(K1, k1, S1, f.X, f.mu, f.sig, &f.g, 100, 1.0, 1e-8,
                                                 PN, PT, PX, PU, a),
                     0);
    assert_int_equal(gpsc_policy_prior_linearize(K2, k2, S2, f.X, f.mu, f.sig, &f.g, 100, 1.0, 0.5,
                                                 PN, PT, PX, PU, a),
                     0);
    assert_true(memcmp(K1, K2, sizeof(double) * PU * PX) != 0);
    assert_memory_equal(K1 + PU * PX, K2 + PU * PX, sizeof(double) * (PT - 1) * PU * PX);
    assert_memory_equal(k1 + PU, k2 + PU, sizeof(double) * (PT - 1) * PU);
    assert_memory_equal(S1 + PU * PU, S2 + PU * PU, sizeof(double) * (PT - 1) * PU * PU);
    gpsc_arena_destroy(&a);
}

static void test_sstep_targets_and_weights(void **state)
{
    (void)state;
    gpsc_arena_t *a = gpsc_arena_new(gpsc_policy_prior_sstep_normalize_scratch_size(16));
    /* even count: the median is the mean of the two middle values */
    double w1[4] = {1.0, 1.0, 1.0, 4.0};
    assert_int_equal(gpsc_policy_prior_sstep_normalize(w1, 4, a), 0);
    double f = 4.0 / 7.0, mn = (1.0 * f + 1.0 * f) / 2.0;
    for (int i = 0; i < 3; i++)
        assert_true(fabs(w1[i] - 1.0 * f / mn) < 1e-15);
    assert_true(fabs(w1[3] - 2.0) < 1e-15); /* clipped at twice the median */
    /* odd count, weights at or below 1e-2 left out of the median */
    double w2[5] = {0.0, 0.001, 1.0, 2.0, 3.0};
    assert_int_equal(gpsc_policy_prior_sstep_normalize(w2, 5, a), 0);
    f = 5.0 / 6.001;
    mn = 2.0 * f;
    double want2[5] = {0.0, 0.001 * f / mn, 1.0 * f / mn, 1.0, 3.0 * f / mn};
    for (int i = 0; i < 5; i++)
        assert_true(fabs(w2[i] - want2[i]) < 1e-15);
    /* conditions are normalised together: [1 1 | 3 3] is not [1 1 1 1] */
    double X[4] = {1.0, 2.0, 3.0, 4.0}, K[2] = {0.5, -1.0}, k[2] = {0.25, 0.0};
    double prc[2] = {4.0, 8.0}, pw1[2] = {1.0, 1.0}, pw2[2] = {3.0, 3.0};
    double mu[4], P[4], wt[4];
    /* condition 1 and condition 2 (N = 1, T = 2, dX = 1, dU = 1 each) */
    gpsc_policy_prior_sstep_targets(mu, P, wt, X, K, k, prc, pw1, 1, 2, 1, 1);
    gpsc_policy_prior_sstep_targets(mu + 2, P + 2, wt + 2, X + 2, K, k, prc, pw2, 1, 2, 1, 1);
    assert_true(mu[0] == 0.5 * 1.0 + 0.25 && mu[1] == -1.0 * 2.0 && mu[3] == -4.0);
    assert_true(P[0] == 4.0 && P[1] == 8.0 && P[2] == 4.0 && P[3] == 8.0);
    assert_int_equal(gpsc_policy_prior_sstep_normalize(wt, 4, a), 0);
    assert_true(wt[0] == 0.5 && wt[1] == 0.5 && wt[2] == 1.5 && wt[3] == 1.5);
    /* pol_var = 1 / diag((sum prc + 2 n ent_reg) / sum w) */
    double var[1];
    gpsc_policy_prior_sstep_pol_var(var, P, wt, 4, 1, 0.0);
    assert_true(fabs(var[0] - 4.0 / 24.0) < 1e-15);
    gpsc_policy_prior_sstep_pol_var(var, P, wt, 4, 1, 0.5);
    assert_true(fabs(var[0] - 4.0 / 28.0) < 1e-15);
    /* weights that cannot be normalised */
    double z[3] = {0.0, 0.0, 0.0}, neg[2] = {-1.0, -2.0};
    assert_int_equal(gpsc_policy_prior_sstep_normalize(z, 3, a), GPSC_EINVAL);
    assert_int_equal(gpsc_policy_prior_sstep_normalize(neg, 2, a), GPSC_EINVAL);
    gpsc_arena_t *tiny = gpsc_arena_new(8);
    double w3[16];
    for (int i = 0; i < 16; i++)
        w3[i] = 1.0 + i;
    assert_int_equal(gpsc_policy_prior_sstep_normalize(w3, 16, tiny), GPSC_ENOSPC);
    assert_int_equal(gpsc_arena_used(a), 0);
    gpsc_arena_destroy(&tiny);
    gpsc_arena_destroy(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),           cmocka_unit_test(test_pol_S_symmetric),
        cmocka_unit_test(test_refuses_nonfinite), cmocka_unit_test(test_recovers_linear_policy),
        cmocka_unit_test(test_ridge_at_t0_only),  cmocka_unit_test(test_sstep_targets_and_weights),
    };
    gpsc_la_set_threads(1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
