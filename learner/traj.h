/* traj.h — linear-Gaussian trajectories: forward pass, KL between
 * controllers, Laplace expected cost.
 *
 * The data types here are shared by the trajectory half of the learner
 * (lqr.h, cstep.h, init.h): problem sizes, a view of the fitted dynamics, a
 * linear-Gaussian controller, and the quadratic form of a controller's
 * negative log-density. All arrays are dense, row-major, borrowed from the
 * caller; shapes are given in the field comments with dXU = dX + dU and the
 * joint vector y = [x; u] (state first).
 *
 * Every kernel here follows the house rules: output first, then const
 * inputs, then sizes; no allocation, scratch from the caller's arena (size
 * it with the matching *_scratch_size function). Inputs are checked for
 * NaN/Inf and refused with GPSC_ENONFINITE; a kernel never writes NaN into
 * its outputs without returning an error. On error the outputs are
 * unspecified. Formulas: ../shared/reference/README.md sections 5.10,
 * 5.11 and 5.13; seed 000 appendix B.3 (forward propagation of the
 * state-action marginals). */
#ifndef GPSC_LEARNER_TRAJ_H
#define GPSC_LEARNER_TRAJ_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"

/* problem sizes: horizon, state and action dimensions (all >= 1) */
typedef struct gpsc_traj_dims {
    int T;
    int dX;
    int dU;
} gpsc_traj_dims_t;

/* fitted dynamics x_{t+1} ~ N(Fm_t [x_t; u_t] + fv_t, dyn_covar_t) and the
 * initial state distribution x_0 ~ N(x0mu, x0sigma). Row T-1 of Fm, fv and
 * dyn_covar is never read. */
typedef struct gpsc_traj_dyn {
    const double *Fm;        /* (T x dX x dXU) */
    const double *fv;        /* (T x dX) */
    const double *dyn_covar; /* (T x dX x dX) */
    const double *x0mu;      /* (dX) */
    const double *x0sigma;   /* (dX x dX) */
} gpsc_traj_dyn_t;

/* linear-Gaussian controller u_t = K_t x_t + k_t + e, e ~ N(0, pol_covar_t).
 * A plain struct of caller-owned arrays. As an input (const
 * gpsc_traj_lg_t *) kernels never write through it; fields a kernel does
 * not need may be NULL (each function says which it reads). chol_pol_covar
 * is the UPPER factor U with pol_covar = U^T U. */
typedef struct gpsc_traj_lg {
    double *K;              /* (T x dU x dX) */
    double *k;              /* (T x dU) */
    double *pol_covar;      /* (T x dU x dU) */
    double *inv_pol_covar;  /* (T x dU x dU) */
    double *chol_pol_covar; /* (T x dU x dU), upper */
} gpsc_traj_lg_t;

/* quadratic form of -log pi(u|x) for pi(u|x) = N(K x + k, S), P = S^-1:
 *   -log pi = 0.5 y^T M y + y^T v + c + 0.5 logdet + const, y = [x; u],
 *   M = [[K^T P K, -K^T P], [-P K, P]],  v = [K^T P k; -P k],
 *   c = 0.5 k^T P k,  logdet = log det S.
 * These are PKLm / PKLv of the surrogate cost l/eta - log pi_bar (seed 000
 * B.1, reference 5.9) and the M, v, c of the KL (reference 5.11). M is
 * exactly symmetric. */
typedef struct gpsc_traj_quad {
    double *M;      /* (T x dXU x dXU) */
    double *v;      /* (T x dXU) */
    double *c;      /* (T) */
    double *logdet; /* (T) */
} gpsc_traj_quad_t;

/* Number of doubles each field of a gpsc_traj_quad_t needs, for a caller
 * laying one out in its own memory. */
size_t gpsc_traj_quad_doubles(gpsc_traj_dims_t d);

/* Points the fields of *q at consecutive parts of `mem`, which holds
 * gpsc_traj_quad_doubles(d) doubles. */
void gpsc_traj_quad_layout(gpsc_traj_quad_t *q, double *mem, gpsc_traj_dims_t d);

size_t gpsc_traj_quad_build_scratch_size(gpsc_traj_dims_t d);

/* Fills *q (all four fields) for controller c. Reads c->K, c->k and
 * c->chol_pol_covar when non-NULL, otherwise factors c->pol_covar (upper
 * Cholesky U, reading its upper triangle). With B = [-K, I] and
 * Z = U^-T B, M = Z^T Z (syrk: exactly symmetric), v = -Z^T U^-T k and
 * c = 0.5 |U^-T k|^2: the reference's P-based formula (P = U^-1 U^-T)
 * without forming P. Returns 0, GPSC_ENONFINITE (NaN/Inf
 * in an input), GPSC_ENOTPD (a pol_covar_t is not positive definite),
 * GPSC_EINVAL (NULL or bad sizes) or GPSC_ENOSPC (arena too small). */
int gpsc_traj_quad_build(gpsc_traj_quad_t *q, const gpsc_traj_lg_t *c, gpsc_traj_dims_t d,
                         gpsc_arena_t *scratch);

size_t gpsc_traj_forward_scratch_size(gpsc_traj_dims_t d);

/* State-action marginals of controller c under dynamics dyn (reference
 * 5.10, seed 000 B.3):
 *   sigma_t = [[S, S K^T], [K S, K S K^T + pol_covar]],
 *   mu_t = [mu_x; K mu_x + k],  S' = Fm sigma_t Fm^T + dyn_covar,
 *   mu_x' = Fm mu_t + fv.
 * mu is (T x dXU), sigma (T x dXU x dXU). Reads c->K, c->k, c->pol_covar.
 * Unlike the reference, S' and K S K^T are symmetrised, so every sigma_t is
 * exactly symmetric (the difference is rounding). Returns 0,
 * GPSC_ENONFINITE (NaN/Inf in an input, or the propagation overflowed),
 * GPSC_EINVAL or GPSC_ENOSPC. */
int gpsc_traj_forward(double *mu, double *sigma, const gpsc_traj_dyn_t *dyn,
                      const gpsc_traj_lg_t *c, gpsc_traj_dims_t d, gpsc_arena_t *scratch);

/* As gpsc_traj_forward, without scanning the inputs or the outputs for
 * NaN/Inf (for gpsc_cstep, which checks its inputs once and whose KL
 * catches an overflow). */
int gpsc_traj_forward_unchecked(double *mu, double *sigma, const gpsc_traj_dyn_t *dyn,
                                const gpsc_traj_lg_t *c, gpsc_traj_dims_t d, gpsc_arena_t *scratch);

/* 0 when dyn's arrays are present and finite over the part that is read
 * (rows 0..T-2 of Fm, fv, dyn_covar; x0mu, x0sigma), else GPSC_EINVAL or
 * GPSC_ENONFINITE. */
int gpsc_traj_dyn_check(const gpsc_traj_dyn_t *dyn, gpsc_traj_dims_t d);

size_t gpsc_traj_kl_scratch_size(gpsc_traj_dims_t d);

/* KL between the new controller cn and a previous one, given by its
 * quadratic form qp (gpsc_traj_quad_build), under the new marginals
 * (mu, sigma) (reference 5.11, `traj_distr_kl`):
 *   kl_t = max(0, -0.5 mu^T dM mu - mu^T dv - cn + cp - 0.5 <sigma, dM>
 *                 - 0.5 logdet_n + 0.5 logdet_p),  dM = Mn - Mp, ...
 * kl_t is (T), may be NULL; *kl = sum_t kl_t, may be NULL. Reads cn->K,
 * cn->k and cn->chol_pol_covar when non-NULL (else factors cn->pol_covar).
 * Returns 0, GPSC_ENONFINITE, GPSC_ENOTPD, GPSC_EINVAL or GPSC_ENOSPC. */
int gpsc_traj_kl(double *kl_t, double *kl, const double *mu, const double *sigma,
                 const gpsc_traj_lg_t *cn, const gpsc_traj_quad_t *qp, gpsc_traj_dims_t d,
                 gpsc_arena_t *scratch);

/* As gpsc_traj_kl, without scanning the inputs for NaN/Inf (a non-finite
 * kl_t is still reported). For gpsc_cstep, whose new controller comes from
 * the backward pass. */
int gpsc_traj_kl_unchecked(double *kl_t, double *kl, const double *mu, const double *sigma,
                           const gpsc_traj_lg_t *cn, const gpsc_traj_quad_t *qp, gpsc_traj_dims_t d,
                           gpsc_arena_t *scratch);

/* Expected cost of a quadratic cost under Gaussian marginals (reference
 * 5.13, `estimate_cost`):
 *   cost_t = cc_t + 0.5 <sigma_t, Cm_t> + 0.5 mu_t^T Cm_t mu_t + mu_t^T cv_t.
 * cost_t (T) may be NULL; *cost = sum_t cost_t may be NULL. cc is (T), cv
 * (T x dXU), Cm (T x dXU x dXU); T, dXU >= 1. Needs no scratch. Returns
 * 0, GPSC_ENONFINITE or GPSC_EINVAL. */
int gpsc_traj_laplace_cost(double *cost_t, double *cost, const double *mu, const double *sigma,
                           const double *cc, const double *cv, const double *Cm, int T, int dXU);

size_t gpsc_traj_estimate_cost_scratch_size(gpsc_traj_dims_t d);

/* Forward pass of c under dyn followed by gpsc_traj_laplace_cost: the
 * Laplace estimate of the expected cost of running c on the fitted
 * dynamics (what the step-size rules compare). Same contract as the two. */
int gpsc_traj_estimate_cost(double *cost_t, double *cost, const gpsc_traj_dyn_t *dyn,
                            const gpsc_traj_lg_t *c, const double *cc, const double *cv,
                            const double *Cm, gpsc_traj_dims_t d, gpsc_arena_t *scratch);

/* True when d holds positive sizes small enough that T*dXU*dXU fits in an
 * int (the la wrappers take int sizes). */
bool gpsc_traj_dims_ok(gpsc_traj_dims_t d);

#endif
