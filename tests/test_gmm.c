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

/* ---- EM against a plain transcription of README 5.5 ---- */

/* logsumexp with the max as gpsc_gmm_logsumexp (kept independent of it) */
static double naive_lse(const double *v, int n, int stride)
{
    double m = -INFINITY, s = 0.0;
    for (int i = 0; i < n; i++)
        if (v[i * stride] > m) m = v[i * stride];
    if (m == -INFINITY) m = 0.0;
    for (int i = 0; i < n; i++)
        s += exp(v[i * stride] - m);
    return log(s) + m;
}

/* README 5.5 step by step, point by point (small sizes only): returns the
 * passes run; g is updated, trace gets the log-likelihoods */
static int naive_em(gpsc_gmm_t *g, double *trace, int *stop, const double *X, int M, int maxit,
                    double tol, bool relative)
{
    int K = g->K, D = g->D;
    double *lo = malloc(sizeof(double) * M * K), *w = malloc(sizeof(double) * M * K);
    double *L = malloc(sizeof(double) * D * D), *z = malloc(sizeof(double) * D);
    double *lm = malloc(sizeof(double) * K), *S = malloc(sizeof(double) * D * D);
    assert_non_null(lo && w && L && z && lm && S);
    double prevll = -INFINITY;
    int itr;
    *stop = GPSC_GMM_STOP_MAXITER;
    for (itr = 0; itr < maxit; itr++) {
        for (int k = 0; k < K; k++) {
            assert_int_equal(gpsc_la_chol_lower(L, g->sigma + k * D * D, D), 0);
            double h = 0.0;
            for (int j = 0; j < D; j++)
                h += log(L[j * D + j]);
            for (int i = 0; i < M; i++) {
                double q = 0.0;
                for (int a = 0; a < D; a++) { /* forward substitution */
                    double v = X[i * D + a] - g->mu[k * D + a];
                    for (int b = 0; b < a; b++)
                        v -= L[a * D + b] * z[b];
                    z[a] = v / L[a * D + a];
                    q += z[a] * z[a];
                }
                lo[i * K + k] = -0.5 * D * log(2 * M_PI) - h - 0.5 * q + g->logmass[k];
            }
        }
        double ll = 0.0;
        for (int i = 0; i < M; i++)
            ll += naive_lse(lo + i * K, K, 1);
        trace[itr] = ll;
        if (ll < prevll) {
            *stop = GPSC_GMM_STOP_DECREASE;
            itr++;
            break;
        }
        if (fabs(ll - prevll) < tol * (relative ? fabs(prevll) : prevll)) {
            *stop = GPSC_GMM_STOP_CONVERGED;
            itr++;
            break;
        }
        prevll = ll;
        for (int i = 0; i < M; i++) {
            double s = naive_lse(lo + i * K, K, 1);
            for (int k = 0; k < K; k++)
                lo[i * K + k] -= s;
        }
        for (int k = 0; k < K; k++) {
            lm[k] = naive_lse(lo + k, M, K);
            for (int i = 0; i < M; i++)
                w[i * K + k] = exp(lo[i * K + k] - lm[k]);
        }
        double tot = naive_lse(lm, K, 1);
        for (int k = 0; k < K; k++) {
            g->logmass[k] = lm[k] - tot;
            if (exp(g->logmass[k]) < 1e-4 / K)
                for (int i = 0; i < M; i++)
                    w[i * K + k] = 1.0 / M;
            double *mu = g->mu + k * D;
            for (int a = 0; a < D; a++) {
                mu[a] = 0.0;
                for (int i = 0; i < M; i++)
                    mu[a] += w[i * K + k] * X[i * D + a];
            }
            for (int a = 0; a < D; a++)
                for (int b = 0; b < D; b++) {
                    double v = 0.0;
                    for (int i = 0; i < M; i++)
                        v += w[i * K + k] * X[i * D + a] * X[i * D + b];
                    S[a * D + b] = v - mu[a] * mu[b];
                }
            for (int a = 0; a < D; a++)
                for (int b = 0; b < D; b++)
                    g->sigma[k * D * D + a * D + b] =
                        0.5 * (S[a * D + b] + S[b * D + a]) + (a == b ? 1e-6 : 0.0);
        }
    }
    free(lo);
    free(w);
    free(L);
    free(z);
    free(lm);
    free(S);
    return itr;
}

/* |a - b| <= tol (1 + |b|) element-wise */
static void assert_close(const double *a, const double *b, int n, double tol)
{
    for (int i = 0; i < n; i++)
        if (!(fabs(a[i] - b[i]) <= tol * (1.0 + fabs(b[i]))))
            fail_msg("element %d: %.17g vs %.17g", i, a[i], b[i]);
}

enum { NM = 1500, ND = 3, NK = 5 }; /* more points than one E-step block */

/* NM points around 3 overlapping centres in 3-D (EM converges slowly: ll
 * still rises far above rounding noise after 30 passes, so the two
 * implementations stop at the same pass), a start with clusters 3 and 4
 * nearly massless (rebooted at every M-step, sharing their E-step) */
static void naive_setup(double *X, gmm_buf_t *b, double scale)
{
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 21, 0, 0, 0, GPSC_RNG_TEST);
    for (int i = 0; i < NM; i++)
        for (int j = 0; j < ND; j++)
            X[i * ND + j] = scale * ((i % 3) * (j + 1.0) + 0.9 * gpsc_rng_normal(&r));
    gmm_setup(b, NK, ND);
    for (int k = 0; k < NK; k++) {
        for (int j = 0; j < ND; j++) {
            b->mu[k * ND + j] = scale * ((k % 3) * (j + 1.0) + 0.2);
            b->sigma[k * ND * ND + j * ND + j] = scale * scale * (0.5 + 0.1 * k);
        }
        b->sigma[k * ND * ND + 1] = b->sigma[k * ND * ND + ND] = 0.05 * scale * scale;
        b->logmass[k] = k < 3 ? log(0.3) : log(1e-12);
    }
}

static void test_em_matches_naive(void **state)
{
    (void)state;
    double *X = malloc(sizeof(double) * NM * ND);
    assert_non_null(X);
    gpsc_arena_t *a = gpsc_arena_new(gpsc_gmm_em_scratch_size(NM, NK, ND));
    /* scale 1: ll < 0 (the relative test stops, the reference one cannot);
     * scale 0.01: ll > 0, both tests stop */
    const double scales[2] = {1.0, 0.01};
    for (int sc = 0; sc < 2; sc++)
        for (int rel = 0; rel < 2; rel++) {
            gmm_buf_t b1, b2;
            naive_setup(X, &b1, scales[sc]);
            naive_setup(X, &b2, scales[sc]);
            double tr1[30], tr2[30];
            gpsc_gmm_em_cfg_t cfg = {30, 1e-5,
                                     rel ? GPSC_GMM_RULE_RELATIVE : GPSC_GMM_RULE_REFERENCE};
            gpsc_gmm_em_info_t info;
            assert_int_equal(gpsc_gmm_em_run(&b1.g, &info, tr1, &cfg, X, NM, a), 0);
            int stop, n = naive_em(&b2.g, tr2, &stop, X, NM, 30, 1e-5, rel);
            assert_int_equal(info.n_estep, n);
            assert_int_equal(info.stop_reason, stop);
            assert_close(tr1, tr2, n, 1e-10);
            assert_close(b1.mu, b2.mu, NK * ND, 1e-9);
            assert_close(b1.sigma, b2.sigma, NK * ND * ND, 1e-9);
            assert_close(b1.logmass, b2.logmass, NK, 1e-9);
            /* the two light clusters were rebooted at every M-step */
            assert_int_equal(info.n_reboot, 2 * info.n_mstep);
            if (sc == 0) {
                assert_true(tr1[n - 1] < 0.0);
                assert_int_equal(stop, rel ? GPSC_GMM_STOP_CONVERGED : GPSC_GMM_STOP_MAXITER);
            } else {
                assert_true(tr1[n - 1] > 0.0);
                assert_true(stop == GPSC_GMM_STOP_CONVERGED || stop == GPSC_GMM_STOP_DECREASE);
            }
            assert_int_equal(gpsc_arena_used(a), 0);
        }
    gpsc_arena_destroy(&a);
    free(X);
}

/* the relative rule, its tolerance and the pass limit; gpsc_gmm_em is the
 * reference rule with tolerance 1e-5; same inputs give the same bits */
static void test_em_rules(void **state)
{
    (void)state;
    double data[BM * BD];
    blobs(data, 1.0); /* ll < 0 */
    gpsc_arena_t *a = gpsc_arena_new(gpsc_gmm_em_scratch_size(BM, BK, BD) +
                                     gpsc_gmm_init_scratch_size(BM, BK, BD));
    gmm_buf_t b0, b1, b2;
    gpsc_rng_t r;
    gmm_setup(&b0, BK, BD);
    gpsc_rng_init5(&r, 1, 2, 3, 0, GPSC_RNG_GMM_INIT);
    assert_int_equal(gpsc_gmm_init_random(&b0.g, data, BM, &r, a), 0);
    double tr1[100], tr2[100];
    gpsc_gmm_em_info_t i1, i2;

    /* reference rule: bit for bit gpsc_gmm_em */
    b1 = b0, b1.g = (gpsc_gmm_t){BK, BD, b1.mu, b1.sigma, b1.logmass};
    b2 = b0, b2.g = (gpsc_gmm_t){BK, BD, b2.mu, b2.sigma, b2.logmass};
    gpsc_gmm_em_cfg_t ref = {100, 1e-5, GPSC_GMM_RULE_REFERENCE};
    assert_int_equal(gpsc_gmm_em_run(&b1.g, &i1, tr1, &ref, data, BM, a), 0);
    assert_int_equal(gpsc_gmm_em(&b2.g, &i2, tr2, data, BM, 100, a), 0);
    assert_int_equal(i1.n_estep, i2.n_estep);
    assert_memory_equal(tr1, tr2, sizeof(double) * (size_t)i1.n_estep);
    assert_memory_equal(b1.sigma, b2.sigma, sizeof b1.sigma);
    assert_memory_equal(b1.logmass, b2.logmass, sizeof b1.logmass);
    assert_true(i1.stop_reason != GPSC_GMM_STOP_CONVERGED);

    /* relative rule: stops at the first pass whose change is below the
     * tolerance, and a looser tolerance stops no later */
    int prev_n = 1000;
    const double tols[3] = {1e-7, 1e-5, 1e-3};
    for (int t = 0; t < 3; t++) {
        b1 = b0, b1.g = (gpsc_gmm_t){BK, BD, b1.mu, b1.sigma, b1.logmass};
        gpsc_gmm_em_cfg_t rel = {100, tols[t], GPSC_GMM_RULE_RELATIVE};
        assert_int_equal(gpsc_gmm_em_run(&b1.g, &i1, tr1, &rel, data, BM, a), 0);
        int n = i1.n_estep;
        assert_true(tr1[n - 1] < 0.0);
        if (i1.stop_reason == GPSC_GMM_STOP_CONVERGED) {
            assert_true(fabs(tr1[n - 1] - tr1[n - 2]) < tols[t] * fabs(tr1[n - 2]));
            assert_int_equal(i1.n_mstep, n - 1);
        }
        for (int i = 1; i < n - 1; i++)
            assert_false(fabs(tr1[i] - tr1[i - 1]) < tols[t] * fabs(tr1[i - 1]));
        assert_true(n <= prev_n);
        prev_n = n;
    }
    assert_true(prev_n < i2.n_estep);

    /* the pass limit */
    b1 = b0, b1.g = (gpsc_gmm_t){BK, BD, b1.mu, b1.sigma, b1.logmass};
    gpsc_gmm_em_cfg_t lim = {3, 0.0, GPSC_GMM_RULE_RELATIVE};
    assert_int_equal(gpsc_gmm_em_run(&b1.g, &i1, tr1, &lim, data, BM, a), 0);
    assert_int_equal(i1.n_estep, 3);
    assert_int_equal(i1.n_mstep, 3);
    assert_int_equal(i1.stop_reason, GPSC_GMM_STOP_MAXITER);
    gpsc_arena_destroy(&a);
}

/* a cluster whose responsibilities all underflow (logmass -800): its
 * log mass comes from the log-domain sum, as in README 5.5 */
static void test_em_underflowing_cluster(void **state)
{
    (void)state;
    double *X = malloc(sizeof(double) * NM * ND);
    assert_non_null(X);
    gmm_buf_t b1, b2;
    naive_setup(X, &b1, 1.0);
    b1.logmass[4] = -800.0;
    b2 = b1, b2.g = (gpsc_gmm_t){NK, ND, b2.mu, b2.sigma, b2.logmass};
    gpsc_arena_t *a = gpsc_arena_new(gpsc_gmm_em_scratch_size(NM, NK, ND));
    gpsc_gmm_em_cfg_t cfg = {4, 1e-5, GPSC_GMM_RULE_RELATIVE};
    gpsc_gmm_em_info_t info;
    double tr1[4], tr2[4];
    assert_int_equal(gpsc_gmm_em_run(&b1.g, &info, tr1, &cfg, X, NM, a), 0);
    int stop, n = naive_em(&b2.g, tr2, &stop, X, NM, 4, 1e-5, true);
    assert_int_equal(info.n_estep, n);
    assert_true(isfinite(b1.logmass[4]) && b1.logmass[4] < -700.0);
    assert_close(b1.logmass, b2.logmass, NK, 1e-12);
    assert_close(b1.sigma, b2.sigma, NK * ND * ND, 1e-9);
    gpsc_arena_destroy(&a);
    free(X);
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
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_em_symmetric_and_monotone),
        cmocka_unit_test(test_refuses_nonfinite),
        cmocka_unit_test(test_init_random_then_em),
        cmocka_unit_test(test_em_counts),
        cmocka_unit_test(test_init_empty_cluster),
        cmocka_unit_test(test_estep_formula),
        cmocka_unit_test(test_prior_properties),
        cmocka_unit_test(test_em_matches_naive),
        cmocka_unit_test(test_em_rules),
        cmocka_unit_test(test_em_underflowing_cluster),
    };
    gpsc_la_set_threads(1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
