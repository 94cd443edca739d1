/* dynamics.h — time-varying linear-Gaussian dynamics by regression with a
 * normal-inverse-Wishart prior from a GMM (seed 000 B.1 / B.3:
 * p(x_{t+1} | x_t, u_t) = N(Fm_t [x_t; u_t] + fv_t, dyn_covar_t)).
 *
 * ../shared/reference/README.md 5.7 (niw_regression) and 5.8 (dynamics_fit)
 * specify the algorithms exactly (cbfinn/gps gauss_fit_joint_prior and
 * DynamicsLRPrior.fit, with the ridge correction q1).
 *
 * Kernels never allocate: scratch comes from the caller's arena (sized with
 * the *_scratch_size functions) and is released before they return. */
#ifndef GPSC_LEARNER_DYNAMICS_H
#define GPSC_LEARNER_DYNAMICS_H

#include <stddef.h>

#include "common/arena.h"
#include "learner/gmm.h"

/* MAP fit of a joint Gaussian over y = [y_a; y_b] (a + b = D) from the N
 * rows of pts (N x D) with equal weights 1/N and the NIW prior `prior`
 * (NULL: no prior, i.e. mu0 = 0, Phi = 0, m = n0 = 0), then conditioning of
 * y_b on the first a coordinates (README 5.7):
 *   mun = mean_i y_i,  E = sym(mean_i (y_i - mun)(y_i - mun)^T),
 *   sigma = sym((N E + Phi + N m/(N+m) (mun-mu0)(mun-mu0)^T) / (N + n0)),
 *   sigma[0:a, 0:a] += sig_reg I,
 *   Fm = (sigma_aa^-1 sigma_ab)^T (b x a), fv = mun_b - Fm mun_a (b),
 *   covar = sym(sigma_bb - Fm sigma_aa Fm^T) (b x b, exactly symmetric).
 * sigma_aa is factored by Cholesky. mun (D) and sigma (D x D, exactly
 * symmetric) are optional outputs (NULL: not returned).
 * Returns 0, GPSC_ENOTPD (sigma_aa not positive definite) or GPSC_ENOSPC. */
int gpsc_dynamics_niw_regression(double *Fm, double *fv, double *covar, double *mun, double *sigma,
                                 const double *pts, const gpsc_niw_t *prior, double sig_reg, int N,
                                 int D, int a, gpsc_arena_t *arena);
size_t gpsc_dynamics_niw_regression_scratch_size(int N, int D, int a);

/* Settings of a whole-trajectory fit. */
typedef struct gpsc_dynamics_cfg {
    double sig_reg;           /* ridge on the [x; u] block (reference: 1e-6) */
    double strength;          /* multiplier of the prior's pseudo-counts */
    double initial_state_var; /* floor of the initial-state variances */
} gpsc_dynamics_cfg_t;

/* The prior's data (borrowed). */
typedef struct gpsc_dynamics_prior {
    const gpsc_gmm_t *gmm; /* GMM over [x_t, u_t, x_{t+1}] (D = 2 dX + dU); NULL: none */
    int N_init;            /* points the GMM was fitted on */
    const double *X0;      /* (Np x dX) initial states of the prior's dataset */
    int Np;                /* 0: no initial-state prior */
} gpsc_dynamics_prior_t;

/* The fitted dynamics (arrays belong to the caller). */
typedef struct gpsc_dynamics_fit_out {
    double *Fm;        /* (T x dX x dXU); row T-1 is zero */
    double *fv;        /* (T x dX); row T-1 is zero */
    double *dyn_covar; /* (T x dX x dX), exactly symmetric; entry T-1 is zero */
    double *x0mu;      /* (dX) */
    double *x0sigma;   /* (dX x dX), exactly symmetric */
} gpsc_dynamics_fit_out_t;

/* Fits the dynamics of N samples X (N x T x dX), U (N x T x dU), README 5.8:
 * for t < T-1, the GMM's NIW prior for pts = [X[:,t], U[:,t], X[:,t+1]]
 * (gpsc_gmm_prior) and the regression above with a = dX + dU; then the
 * initial-state distribution x0mu = mean_n X[n,0],
 * x0sigma = diag(max(var_n X[n,0], initial_state_var)) + Phip +
 * N mp/(N+mp) (x0mu-mu0p)(x0mu-mu0p)^T / (N+n0p) with mu0p = mean(X0),
 * mp = n0p = dX strength, Phip = mp diag(var(X0)) (variances divide by the
 * count). Needs N >= 2 (GPSC_EINVAL otherwise, as the reference).
 * The GMM's covariances are factored once per call and the E-steps of 16
 * consecutive steps run as one batch (gpsc_gmm_estep_chol, then
 * gpsc_gmm_prior_logobs per step): the result is that of gpsc_gmm_prior per
 * step (up to how OpenBLAS rounds a wider triangular solve; bit-identical on
 * the reference vectors), at a fraction of the cost.
 * Returns 0 or an error of gpsc_gmm_prior / the regression. */
int gpsc_dynamics_fit(gpsc_dynamics_fit_out_t *out, const gpsc_dynamics_cfg_t *cfg,
                      const gpsc_dynamics_prior_t *prior, const double *X, const double *U, int N,
                      int T, int dX, int dU, gpsc_arena_t *arena);
size_t gpsc_dynamics_fit_scratch_size(int N, int dX, int dU, int K);

#endif
