/* test_gps2014.c — GPS 2014 (learner/gps2014.h and the algorithm layer's
 * gps2014 iteration) and the global policy's cost bound of seed 000 C:
 * the trajectory step reduces to the C-step when every lambda_t is 0, its
 * entropy temperature agrees with the reference's (eta + lambda)
 * normalisation for a constant lambda, the dual step and the bound formula
 * on hand numbers, and on the synthetic task of alg_synth.h: gps2014 lowers
 * the cost and pulls the local controllers toward the network, 1 and 2
 * threads give equal bytes, checkpoints round-trip (lambda_t included) and
 * resume, and the bound is finite and above the local expected cost. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alg_synth.h"
#include "common/checkpoint.h"
#include "common/error.h"
#include "common/la.h"
#include "learner/cstep.h"
#include "learner/gps2014.h"
#include "learner/lqr.h"

/* ------------------------------------------------------------------ a random LQR problem */

enum { PT = 6, PX = 3, PU = 2, PXU = PX + PU };

typedef struct rprob {
    double Fm[PT * PX * PXU], fv[PT * PX], dyn_covar[PT * PX * PX], x0mu[PX], x0sigma[PX * PX];
    double Cm[PT * PXU * PXU], cv[PT * PXU];
    gpsc_lgpolicy_t *prev, *pol;
} rprob_t;

static void random_policy(gpsc_lgpolicy_t *p, gpsc_rng_t *r, double scale)
{
    for (int t = 0; t < PT; t++) {
        double n[PU * PX + PU + 1];
        gpsc_rng_normals(r, n, PU * PX + PU + 1);
        for (int i = 0; i < PU * PX; i++)
            p->K[t * PU * PX + i] = 0.3 * n[i];
        for (int i = 0; i < PU; i++)
            p->k[t * PU + i] = 0.5 * n[PU * PX + i];
        double c = 0.1 * n[PU * PX + PU];
        double cov[PU * PU] = {scale * (1.0 + 0.2 * t / PT), c, c, scale * 0.7};
        assert_int_equal(gpsc_lgpolicy_set_covar(p, t, cov), 0);
    }
}

static void rprob_init(rprob_t *p, uint32_t key)
{
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 11, key, 0, 0, GPSC_RNG_TEST);
    memset(p, 0, sizeof *p);
    for (int t = 0; t < PT; t++) {
        double n[PX * PXU + PX];
        gpsc_rng_normals(&r, n, PX * PXU + PX);
        for (int i = 0; i < PX; i++)
            for (int j = 0; j < PXU; j++)
                p->Fm[(t * PX + i) * PXU + j] =
                    (i == j ? 1.0 : 0.0) + (j < PX ? 0.05 : 0.2) * n[i * PXU + j];
        for (int i = 0; i < PX; i++) {
            p->fv[t * PX + i] = 0.05 * n[PX * PXU + i];
            p->dyn_covar[(t * PX + i) * PX + i] = 0.01;
        }
        /* Cm = 0.2 A^T A + 0.1 I, exactly symmetric */
        double A[PXU * PXU], c[PXU];
        gpsc_rng_normals(&r, A, PXU * PXU);
        gpsc_rng_normals(&r, c, PXU);
        double *C = p->Cm + t * PXU * PXU;
        for (int i = 0; i < PXU; i++)
            for (int j = 0; j <= i; j++) {
                double s = 0;
                for (int l = 0; l < PXU; l++)
                    s += A[l * PXU + i] * A[l * PXU + j];
                C[i * PXU + j] = C[j * PXU + i] = 0.2 * s + (i == j ? 0.1 : 0.0);
            }
        for (int i = 0; i < PXU; i++)
            p->cv[t * PXU + i] = c[i];
    }
    for (int i = 0; i < PX; i++) {
        p->x0mu[i] = 0.3 * (i + 1);
        p->x0sigma[i * PX + i] = 0.01;
    }
    p->prev = gpsc_lgpolicy_new(PT, PX, PU);
    p->pol = gpsc_lgpolicy_new(PT, PX, PU);
    assert_non_null(p->prev);
    assert_non_null(p->pol);
    random_policy(p->prev, &r, 1.0);
    random_policy(p->pol, &r, 0.5);
}

static void rprob_free(rprob_t *p)
{
    gpsc_lgpolicy_destroy(&p->prev);
    gpsc_lgpolicy_destroy(&p->pol);
}

static gpsc_traj_lg_t view(const gpsc_lgpolicy_t *p)
{
    return (gpsc_traj_lg_t){p->K, p->k, p->pol_covar, p->inv_pol_covar, p->chol};
}

static const gpsc_traj_dims_t PD = {PT, PX, PU};

/* every lambda_t = 0: the trajectory step is the C-step against p^ */
static void test_lambda0_is_cstep(void **state)
{
    (void)state;
    rprob_t p;
    rprob_init(&p, 1);
    gpsc_arena_t *ar =
        gpsc_arena_new(gpsc_gps2014_cstep_scratch_size(PD) + gpsc_cstep_scratch_size(PD) + 4096);
    assert_non_null(ar);
    gpsc_lgpolicy_t *o1 = gpsc_lgpolicy_new(PT, PX, PU), *o2 = gpsc_lgpolicy_new(PT, PX, PU);
    gpsc_traj_dyn_t dyn = {p.Fm, p.fv, p.dyn_covar, p.x0mu, p.x0sigma};
    gpsc_cstep_cfg_t cfg = {0.5, 1.0, 1.0, 1e-8, 1e16, 1e-4, 50};
    double lam[PT] = {0};
    gpsc_cstep_problem_t cp = {.dyn = dyn, .Cm = p.Cm, .cv = p.cv, .pref = view(p.prev)};
    gpsc_gps2014_problem_t gp = {dyn, p.Cm, p.cv, view(p.prev), view(p.pol), lam};
    gpsc_cstep_result_t r1, r2;
    memset(&r1, 0, sizeof r1);
    memset(&r2, 0, sizeof r2);
    gpsc_traj_lg_t v1 = view(o1), v2 = view(o2);
    assert_int_equal(gpsc_cstep(&v1, &r1, &cfg, &cp, PD, ar), 0);
    assert_int_equal(gpsc_gps2014_cstep(&v2, &r2, &cfg, &gp, PD, ar), 0);
    assert_true(r1.converged);
    assert_true(r2.converged);
    assert_int_equal(r1.iterations, r2.iterations);
    assert_memory_equal(&r1.eta, &r2.eta, sizeof(double));
    assert_memory_equal(&r1.kl, &r2.kl, sizeof(double));
    assert_memory_equal(o1->K, o2->K, sizeof(double) * PT * PU * PX);
    assert_memory_equal(o1->k, o2->k, sizeof(double) * PT * PU);
    assert_memory_equal(o1->pol_covar, o2->pol_covar, sizeof(double) * PT * PU * PU);
    assert_memory_equal(o1->chol, o2->chol, sizeof(double) * PT * PU * PU);
    gpsc_lgpolicy_destroy(&o1);
    gpsc_lgpolicy_destroy(&o2);
    gpsc_arena_destroy(&ar);
    rprob_free(&p);
}

static void assert_close(const double *a, const double *b, int n, double tol)
{
    for (int i = 0; i < n; i++) {
        double s = fabs(a[i]) > fabs(b[i]) ? fabs(a[i]) : fabs(b[i]);
        if (fabs(a[i] - b[i]) > tol * (1.0 + s)) {
            print_message("entry %d: %.17g vs %.17g\n", i, a[i], b[i]);
            fail();
        }
    }
}

/* For a constant lambda the exact per-step temperature equals the
 * reference's AlgorithmBADMM cost (C + eta M_prev + lambda M_pol) /
 * (eta + lambda) solved as plain LQR; with a lambda that varies over t the
 * temperature only scales each step's covariance. */
static void test_temperature(void **state)
{
    (void)state;
    rprob_t p;
    rprob_init(&p, 2);
    gpsc_arena_t *ar = gpsc_arena_new(1 << 20);
    assert_non_null(ar);
    size_t nq = gpsc_traj_quad_doubles(PD);
    double *qm1 = calloc(nq, sizeof(double)), *qm2 = calloc(nq, sizeof(double)),
           *qm0 = calloc(nq, sizeof(double));
    assert_true(qm1 && qm2 && qm0);
    gpsc_traj_quad_t qprev, qpol, qzero;
    gpsc_traj_quad_layout(&qprev, qm1, PD);
    gpsc_traj_quad_layout(&qpol, qm2, PD);
    gpsc_traj_quad_layout(&qzero, qm0, PD);
    gpsc_traj_lg_t vp = view(p.prev), vb = view(p.pol);
    assert_int_equal(gpsc_traj_quad_build(&qprev, &vp, PD, ar), 0);
    assert_int_equal(gpsc_traj_quad_build(&qpol, &vb, PD, ar), 0);

    const double eta = 0.7, lam = 0.45;
    double lams[PT], eCm[PT * PXU * PXU], ecv[PT * PXU], bCm[PT * PXU * PXU], bcv[PT * PXU];
    for (int t = 0; t < PT; t++)
        lams[t] = lam;
    for (int i = 0; i < PT * PXU * PXU; i++) {
        eCm[i] = lam * qpol.M[i];
        bCm[i] = p.Cm[i] + eta * qprev.M[i] + lam * qpol.M[i];
    }
    for (int i = 0; i < PT * PXU; i++) {
        ecv[i] = lam * qpol.v[i];
        bcv[i] = p.cv[i] + eta * qprev.v[i] + lam * qpol.v[i];
    }
    gpsc_lgpolicy_t *o1 = gpsc_lgpolicy_new(PT, PX, PU), *o2 = gpsc_lgpolicy_new(PT, PX, PU);
    gpsc_traj_lg_t v1 = view(o1), v2 = view(o2);
    double eu1, eu2;
    int nb1, nb2;
    /* ours: lqr with the extra term at eta, then the temperature */
    gpsc_lqr_problem_t lp1 = {p.Fm, p.fv, p.Cm, p.cv, &qprev, eCm, ecv};
    assert_int_equal(gpsc_lqr_backward(&v1, &eu1, &nb1, &lp1, eta, 1e-4, PD, ar), 0);
    assert_int_equal(nb1, 0);
    assert_int_equal(gpsc_gps2014_temper(&v1, lams, eu1, PD), 0);
    /* the reference's normalisation: plain LQR at eta + lambda, no pi_ref */
    gpsc_lqr_problem_t lp2 = {p.Fm, p.fv, bCm, bcv, &qzero, NULL, NULL};
    assert_int_equal(gpsc_lqr_backward(&v2, &eu2, &nb2, &lp2, eta + lam, 1e-4, PD, ar), 0);
    assert_int_equal(nb2, 0);
    assert_close(o1->K, o2->K, PT * PU * PX, 1e-10);
    assert_close(o1->k, o2->k, PT * PU, 1e-10);
    assert_close(o1->pol_covar, o2->pol_covar, PT * PU * PU, 1e-10);
    assert_close(o1->inv_pol_covar, o2->inv_pol_covar, PT * PU * PU, 1e-10);
    assert_close(o1->chol, o2->chol, PT * PU * PU, 1e-10);

    /* a lambda varying over t: the means are lqr's with the extra term,
     * each covariance is (1 + lambda_t / eta) times lqr's */
    for (int t = 0; t < PT; t++) {
        lams[t] = 0.1 * t;
        for (int i = 0; i < PXU * PXU; i++)
            eCm[t * PXU * PXU + i] = lams[t] * qpol.M[t * PXU * PXU + i];
        for (int i = 0; i < PXU; i++)
            ecv[t * PXU + i] = lams[t] * qpol.v[t * PXU + i];
    }
    assert_int_equal(gpsc_lqr_backward(&v1, &eu1, &nb1, &lp1, eta, 1e-4, PD, ar), 0);
    assert_int_equal(gpsc_lqr_backward(&v2, &eu2, &nb2, &lp1, eta, 1e-4, PD, ar), 0);
    assert_int_equal(gpsc_gps2014_temper(&v1, lams, eu1, PD), 0);
    assert_memory_equal(o1->K, o2->K, sizeof(double) * PT * PU * PX);
    assert_memory_equal(o1->k, o2->k, sizeof(double) * PT * PU);
    /* step 0 has lambda 0: untouched, bit for bit */
    assert_memory_equal(o1->pol_covar, o2->pol_covar, sizeof(double) * PU * PU);
    assert_memory_equal(o1->chol, o2->chol, sizeof(double) * PU * PU);
    for (int t = 1; t < PT; t++) {
        double w = 1.0 + lams[t] / eta, s[PU * PU];
        for (int i = 0; i < PU * PU; i++)
            s[i] = w * o2->pol_covar[t * PU * PU + i];
        assert_close(o1->pol_covar + t * PU * PU, s, PU * PU, 1e-14);
        /* chol^T chol = pol_covar */
        const double *U = o1->chol + t * PU * PU;
        for (int i = 0; i < PU; i++)
            for (int j = 0; j < PU; j++) {
                double v = 0;
                for (int l = 0; l < PU; l++)
                    v += U[l * PU + i] * U[l * PU + j];
                assert_close(&v, &o1->pol_covar[t * PU * PU + i * PU + j], 1, 1e-13);
            }
    }
    /* bad inputs */
    lams[2] = -1.0;
    assert_int_equal(gpsc_gps2014_temper(&v1, lams, eta, PD), GPSC_EINVAL);
    lams[2] = NAN;
    assert_int_equal(gpsc_gps2014_temper(&v1, lams, eta, PD), GPSC_ENONFINITE);
    lams[2] = 0.2;
    assert_int_equal(gpsc_gps2014_temper(&v1, lams, 0.0, PD), GPSC_EINVAL);
    gpsc_lgpolicy_destroy(&o1);
    gpsc_lgpolicy_destroy(&o2);
    free(qm0);
    free(qm1);
    free(qm2);
    gpsc_arena_destroy(&ar);
    rprob_free(&p);
}

/* a larger lambda pulls the trajectory step's result toward pi_bar; the
 * KL to p^ is still constrained */
static void test_lambda_pulls_to_policy(void **state)
{
    (void)state;
    rprob_t p;
    rprob_init(&p, 3);
    gpsc_arena_t *ar = gpsc_arena_new(1 << 20);
    assert_non_null(ar);
    gpsc_traj_dyn_t dyn = {p.Fm, p.fv, p.dyn_covar, p.x0mu, p.x0sigma};
    gpsc_cstep_cfg_t cfg = {2.0, 1.0, 1.0, 1e-8, 1e16, 1e-4, 50};
    gpsc_lgpolicy_t *o = gpsc_lgpolicy_new(PT, PX, PU);
    gpsc_traj_lg_t v = view(o), vb = view(p.pol);
    size_t nq = gpsc_traj_quad_doubles(PD);
    double *qm = calloc(nq, sizeof(double)), mu[PT * PXU], sigma[PT * PXU * PXU];
    gpsc_traj_quad_t qpol;
    gpsc_traj_quad_layout(&qpol, qm, PD);
    assert_int_equal(gpsc_traj_quad_build(&qpol, &vb, PD, ar), 0);
    double prev_kl = INFINITY;
    const double lvals[] = {0.0, 0.3, 3.0, 30.0};
    for (int i = 0; i < 4; i++) {
        double lam[PT];
        for (int t = 0; t < PT; t++)
            lam[t] = lvals[i];
        gpsc_gps2014_problem_t gp = {dyn, p.Cm, p.cv, view(p.prev), view(p.pol), lam};
        gpsc_cstep_result_t r;
        memset(&r, 0, sizeof r);
        r.mu = mu;
        r.sigma = sigma;
        assert_int_equal(gpsc_gps2014_cstep(&v, &r, &cfg, &gp, PD, ar), 0);
        assert_true(r.kl <= 1.1 * r.kl_target);
        double kl;
        assert_int_equal(gpsc_traj_kl(NULL, &kl, mu, sigma, &v, &qpol, PD, ar), 0);
        print_message("lambda %g: KL(p || p^) %.3f (target %.3f), KL(p || pi_bar) %.3f, eta %g\n",
                      lvals[i], r.kl, r.kl_target, kl, r.eta);
        assert_true(kl < prev_kl);
        prev_kl = kl;
    }
    free(qm);
    gpsc_lgpolicy_destroy(&o);
    gpsc_arena_destroy(&ar);
    rprob_free(&p);
}

/* lambda_t <- max(0, lambda_t + rate kl_t); non-finite kl_t skipped */
static void test_dual_step(void **state)
{
    (void)state;
    double lam[4] = {0.1, 0.2, 0.0, 0.1};
    const double kl[4] = {1.0, 0.0, NAN, -0.5};
    assert_int_equal(gpsc_gps2014_dual_step(lam, kl, 0.5, 4), 1);
    assert_true(lam[0] == 0.6);
    assert_true(lam[1] == 0.2);
    assert_true(lam[2] == 0.0);
    assert_true(lam[3] == 0.0);
}

/* seed 000 C: sum_t [E_p l_t + sqrt(2 eps_t) L_t + 2 sqrt(2 eps_t) Q_t] */
static void test_bound_formula(void **state)
{
    (void)state;
    const double cost[3] = {1, 2, 3}, kl[3] = {0.5, 2, 0}, lmax[3] = {4, 5, 6};
    /* Q = (15, 11, 6); sqrt(2 eps) = (1, 2, 0):
     * (1 + 4 + 30) + (2 + 10 + 44) + 3 = 94 */
    assert_true(fabs(gpsc_alg_cost_bound(cost, kl, lmax, 3) - 94.0) < 1e-12);
    const double zero[3] = {0, 0, 0}, neg[3] = {-1e-3, 0, -2};
    assert_true(gpsc_alg_cost_bound(cost, zero, lmax, 3) == 6.0);
    assert_true(gpsc_alg_cost_bound(cost, neg, lmax, 3) == 6.0);
    /* one step: E + 3 sqrt(2 eps) L */
    const double c1 = -2.0, k1 = 0.125, l1 = 8.0;
    assert_true(fabs(gpsc_alg_cost_bound(&c1, &k1, &l1, 1) - (-2.0 + 3.0 * 0.5 * 8.0)) < 1e-12);
}

/* ------------------------------------------------------------------ the algorithm */

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gpsc-test-gps2014-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* gps2014 lowers the cost, lambda grows, the local controllers end close
 * to the network (small KL to pi_bar) and the bound holds its shape */
static void test_gps2014_learns(void **state)
{
    (void)state;
    char err[1024] = "";
    gpsc_experiment_t exp;
    assert_int_equal(synth_experiment(&exp, "gps2014", err, sizeof err), 0);
    gpsc_alg_t *alg = synth_alg(&exp, 1, err, sizeof err);
    if (!alg) print_message("%s\n", err);
    assert_non_null(alg);
    assert_int_equal(gpsc_alg_type(alg), GPSC_EXP_ALG_GPS2014);
    assert_non_null(gpsc_alg_network(alg));
    assert_non_null(gpsc_alg_lambda(alg, 0));
    assert_null(gpsc_alg_lambda(alg, 3));
    synth_batch_t b;
    assert_int_equal(synth_batch_init(&b, exp.n_train, exp.algo.samples), 0);
    double first = 0, last = 0, first_pkl = 0, last_pkl = 0;
    const int K = 8;
    for (int k = 0; k < K; k++) {
        int rc = synth_run(alg, &exp, &b, 1, err, sizeof err);
        if (rc) print_message("%s\n", err);
        assert_int_equal(rc, 0);
        const gpsc_alg_metrics_t *m = gpsc_alg_metrics(alg);
        double pkl = 0, lam = 0;
        for (int c = 0; c < exp.n_train; c++) {
            const gpsc_alg_cond_metrics_t *x = &m->cond[c];
            assert_true(isfinite(x->pol_kl) && x->pol_kl >= 0);
            assert_true(x->lambda_mean >= exp.algo.init_pol_wt);
            assert_true(x->lambda_max >= x->lambda_mean);
            assert_true(x->kl <= 1.1 * x->kl_target);
            assert_true(isfinite(x->bound) && isfinite(x->bound_cost));
            assert_true(x->bound >= x->bound_cost);
            assert_true(isfinite(x->global_cost));
            pkl += x->pol_kl / exp.n_train;
            lam += x->lambda_mean / exp.n_train;
        }
        if (k == 0) {
            first = m->sample_cost;
            first_pkl = pkl;
        }
        last = m->sample_cost;
        last_pkl = pkl;
        print_message("iteration %d: cost %.4f  KL(p || pi_bar) %.4f  lambda %.4f  eta %.3g  "
                      "step %.3g  bound %.4g\n",
                      k, m->sample_cost, pkl, lam, m->cond[0].eta, m->cond[0].step_mult,
                      m->cond[0].bound);
    }
    assert_true(last < 0.5 * first);
    /* the controllers stay close to the network: well under a nat per step */
    assert_true(last_pkl < 0.1 * SYNTH_T);
    assert_true(last_pkl < first_pkl);
    char *js = gpsc_alg_metrics_json(gpsc_alg_metrics(alg), false);
    assert_non_null(js);
    assert_non_null(strstr(js, "\"lambda_mean\""));
    assert_non_null(strstr(js, "\"global_cost_bound\""));
    free(js);
    synth_batch_free(&b);
    gpsc_alg_destroy(&alg);
    gpsc_experiment_free(&exp);
}

/* the bound in MDGPS's metrics; none for trajopt */
static void test_bound_metrics(void **state)
{
    (void)state;
    const char *algs[2] = {"mdgps", "trajopt"};
    for (int i = 0; i < 2; i++) {
        char err[1024] = "";
        gpsc_experiment_t exp;
        assert_int_equal(synth_experiment(&exp, algs[i], err, sizeof err), 0);
        gpsc_alg_t *alg = synth_alg(&exp, 1, err, sizeof err);
        assert_non_null(alg);
        synth_batch_t b;
        assert_int_equal(synth_batch_init(&b, exp.n_train, exp.algo.samples), 0);
        for (int k = 0; k < 3; k++) {
            assert_int_equal(synth_run(alg, &exp, &b, 1, err, sizeof err), 0);
            const gpsc_alg_metrics_t *m = gpsc_alg_metrics(alg);
            for (int c = 0; c < exp.n_train; c++) {
                const gpsc_alg_cond_metrics_t *x = &m->cond[c];
                if (i == 0) {
                    assert_true(isfinite(x->bound));
                    assert_true(isfinite(x->bound_cost) && isfinite(x->bound_kl));
                    assert_true(x->bound_kl >= 0);
                    /* the bound's local cost is the sampling controller's
                     * Laplace cost, and the bound lies above it */
                    assert_true(fabs(x->bound_cost - x->laplace_cost) <=
                                1e-9 * (1 + fabs(x->laplace_cost)));
                    assert_true(x->bound >= x->bound_cost);
                    assert_true(isfinite(x->global_cost));
                } else {
                    assert_true(isnan(x->bound));
                }
                assert_true(isnan(x->lambda_mean));
            }
            char *js = gpsc_alg_metrics_json(m, false);
            assert_non_null(js);
            assert_true((strstr(js, "\"global_cost_bound\"") != NULL) == (i == 0));
            assert_null(strstr(js, "\"lambda_mean\""));
            free(js);
        }
        synth_batch_free(&b);
        gpsc_alg_destroy(&alg);
        gpsc_experiment_free(&exp);
    }
}

/* 1 and 2 pool threads: equal checkpoint bytes after every iteration */
static void test_gps2014_threads(void **state)
{
    (void)state;
    char err[1024] = "";
    gpsc_experiment_t exp;
    assert_int_equal(synth_experiment(&exp, "gps2014", err, sizeof err), 0);
    gpsc_alg_t *a1 = synth_alg(&exp, 1, err, sizeof err);
    gpsc_alg_t *a2 = synth_alg(&exp, 2, err, sizeof err);
    assert_non_null(a1);
    assert_non_null(a2);
    synth_batch_t b1, b2;
    assert_int_equal(synth_batch_init(&b1, exp.n_train, exp.algo.samples), 0);
    assert_int_equal(synth_batch_init(&b2, exp.n_train, exp.algo.samples), 0);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(synth_run(a1, &exp, &b1, 1, err, sizeof err), 0);
        assert_int_equal(synth_run(a2, &exp, &b2, 1, err, sizeof err), 0);
        uint8_t *c1 = NULL, *c2 = NULL;
        size_t n1 = 0, n2 = 0;
        assert_int_equal(synth_encode(&c1, &n1, a1, err, sizeof err), 0);
        assert_int_equal(synth_encode(&c2, &n2, a2, err, sizeof err), 0);
        assert_int_equal(n1, n2);
        assert_memory_equal(c1, c2, n1);
        free(c1);
        free(c2);
    }
    synth_batch_free(&b1);
    synth_batch_free(&b2);
    gpsc_alg_destroy(&a1);
    gpsc_alg_destroy(&a2);
    gpsc_experiment_free(&exp);
}

static gpsc_checkpoint_t *save_ck(const gpsc_alg_t *alg)
{
    char err[1024] = "";
    gpsc_checkpoint_t *ck = gpsc_checkpoint_new();
    assert_non_null(ck);
    assert_int_equal(gpsc_alg_save(alg, ck, "fnv1a64:0000000000000000", "synth-s7-00000000", "",
                                   err, sizeof err),
                     0);
    return ck;
}

/* state -> file -> state -> bytes; lambda_t comes back; a resumed run
 * equals an uninterrupted one; a checkpoint without lambda is refused */
static void test_gps2014_checkpoint(void **state)
{
    (void)state;
    char err[1024] = "", path[512];
    gpsc_experiment_t exp;
    assert_int_equal(synth_experiment(&exp, "gps2014", err, sizeof err), 0);
    synth_batch_t b;
    assert_int_equal(synth_batch_init(&b, exp.n_train, exp.algo.samples), 0);

    /* the initial state (no pol_info yet) loads too */
    gpsc_alg_t *a0 = synth_alg(&exp, 1, err, sizeof err);
    gpsc_checkpoint_t *ck0 = save_ck(a0);
    assert_null(gpsc_checkpoint_get(ck0)->conditions[0]->pol_info);
    gpsc_alg_t *b0 = gpsc_alg_new(&exp, NULL, err, sizeof err);
    assert_int_equal(gpsc_alg_load(b0, gpsc_checkpoint_get(ck0), err, sizeof err), 0);
    gpsc_checkpoint_destroy(&ck0);
    gpsc_alg_destroy(&a0);
    gpsc_alg_destroy(&b0);

    gpsc_alg_t *full = synth_alg(&exp, 1, err, sizeof err);
    assert_int_equal(synth_run(full, &exp, &b, 3, err, sizeof err), 0);

    gpsc_alg_t *part = synth_alg(&exp, 1, err, sizeof err);
    assert_int_equal(synth_run(part, &exp, &b, 1, err, sizeof err), 0);
    gpsc_checkpoint_t *ck = save_ck(part);
    const Gpsc__ConditionState *cs = gpsc_checkpoint_get(ck)->conditions[1];
    assert_non_null(cs->pol_info);
    assert_int_equal(cs->pol_info->n_pol_wt, SYNTH_T);
    assert_memory_equal(cs->pol_info->pol_wt, gpsc_alg_lambda(part, 1), sizeof(double) * SYNTH_T);
    assert_non_null(cs->policy_prior);
    snprintf(path, sizeof path, "%s/gps2014.pb", tmpdir);
    assert_int_equal(gpsc_checkpoint_write(ck, path, err, sizeof err), 0);
    uint8_t *f1 = NULL;
    size_t n1 = 0;
    assert_int_equal(gpsc_checkpoint_encode(&f1, &n1, ck, err, sizeof err), 0);
    gpsc_checkpoint_destroy(&ck);

    /* file -> state -> bytes */
    gpsc_checkpoint_t *rd = NULL;
    assert_int_equal(gpsc_checkpoint_read(&rd, path, err, sizeof err), 0);
    gpsc_alg_t *cont = gpsc_alg_new(&exp, &(gpsc_alg_opts_t){.threads = 2}, err, sizeof err);
    assert_non_null(cont);
    int rc = gpsc_alg_load(cont, gpsc_checkpoint_get(rd), err, sizeof err);
    if (rc) print_message("%s\n", err);
    assert_int_equal(rc, 0);
    assert_memory_equal(gpsc_alg_lambda(cont, 1), gpsc_alg_lambda(part, 1),
                        sizeof(double) * SYNTH_T);
    ck = save_ck(cont);
    uint8_t *f2 = NULL;
    size_t n2 = 0;
    assert_int_equal(gpsc_checkpoint_encode(&f2, &n2, ck, err, sizeof err), 0);
    gpsc_checkpoint_destroy(&ck);
    assert_int_equal(n1, n2);
    assert_memory_equal(f1, f2, n1);
    free(f1);
    free(f2);

    /* resume: 1 + 2 iterations == 3 */
    assert_int_equal(synth_run(cont, &exp, &b, 2, err, sizeof err), 0);
    uint8_t *c1 = NULL, *c2 = NULL;
    assert_int_equal(synth_encode(&c1, &n1, full, err, sizeof err), 0);
    assert_int_equal(synth_encode(&c2, &n2, cont, err, sizeof err), 0);
    assert_int_equal(n1, n2);
    assert_memory_equal(c1, c2, n1);
    free(c1);
    free(c2);

    /* without pol_info (lambda) at iteration >= 1: refused, state unchanged */
    Gpsc__Checkpoint *m = (Gpsc__Checkpoint *)gpsc_checkpoint_get(rd);
    Gpsc__LinearizedPolicy *keep = m->conditions[2]->pol_info;
    m->conditions[2]->pol_info = NULL;
    assert_int_equal(gpsc_alg_load(cont, m, err, sizeof err), GPSC_ECONFIG);
    assert_non_null(strstr(err, "lambda"));
    /* a negative lambda is refused too */
    m->conditions[2]->pol_info = keep;
    double l0 = keep->pol_wt[0];
    keep->pol_wt[0] = -1.0;
    assert_int_equal(gpsc_alg_load(cont, m, err, sizeof err), GPSC_ECONFIG);
    keep->pol_wt[0] = l0;
    assert_int_equal(gpsc_alg_iteration_count(cont), 3);
    /* an mdgps checkpoint does not load into gps2014 */
    gpsc_experiment_t em;
    assert_int_equal(synth_experiment(&em, "mdgps", err, sizeof err), 0);
    gpsc_alg_t *md = gpsc_alg_new(&em, NULL, err, sizeof err);
    assert_int_equal(gpsc_alg_load(md, m, err, sizeof err), GPSC_ECONFIG);
    gpsc_alg_destroy(&md);
    gpsc_experiment_free(&em);

    gpsc_checkpoint_destroy(&rd);
    synth_batch_free(&b);
    gpsc_alg_destroy(&full);
    gpsc_alg_destroy(&part);
    gpsc_alg_destroy(&cont);
    gpsc_experiment_free(&exp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lambda0_is_cstep),       cmocka_unit_test(test_temperature),
        cmocka_unit_test(test_lambda_pulls_to_policy), cmocka_unit_test(test_dual_step),
        cmocka_unit_test(test_bound_formula),          cmocka_unit_test(test_gps2014_learns),
        cmocka_unit_test(test_bound_metrics),          cmocka_unit_test(test_gps2014_threads),
        cmocka_unit_test(test_gps2014_checkpoint),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
