/* lqr.h — the KL-regularised LQR backward pass of the C-step.
 *
 * Solves the maximum-entropy LQR problem on the surrogate cost of seed 000
 * B.1,  l~(x,u) = l(x,u)/eta - log pi_ref(u|x),  with a quadratic cost
 * expansion (Cm, cv) and linear dynamics (Fm, fv), and returns the
 * linear-Gaussian controller p(u|x) = N(K x + k, Quu^-1) (reference
 * README 5.9). pi_ref is given by its quadratic form (gpsc_traj_quad_t):
 *   - MDGPS: the linearised global policy (pol_K, pol_k, pol_S);
 *   - trajectory optimisation only (and BADMM-style GPS): the previous
 *     local controller (K, k, pol_covar) — same math, different reference.
 * A per-step extra quadratic term (extra_Cm, extra_cv) in cost units can be
 * added, for GPS 2014 (seed 003 appendix A: the lambda_t-weighted policy
 * KL terms, expanded to second order, enter the LQR exactly like cost).
 *
 * Kernels follow traj.h: output first, no allocation (scratch from an
 * arena sized with gpsc_lqr_backward_scratch_size), NaN/Inf refused. */
#ifndef GPSC_LEARNER_LQR_H
#define GPSC_LEARNER_LQR_H

#include <stddef.h>

#include "common/arena.h"
#include "learner/traj.h"

/* eta at or above this raises GPSC_ENOTPD in the non-PD fallback */
#define GPSC_LQR_ETA_LIMIT 1e16

/* What the backward pass reads (all borrowed, never written). */
typedef struct gpsc_lqr_problem {
    const double *Fm;             /* (T x dX x dXU); row T-1 never read */
    const double *fv;             /* (T x dX); row T-1 never read */
    const double *Cm;             /* (T x dXU x dXU) cost Hessian (cost_expand) */
    const double *cv;             /* (T x dXU) cost gradient */
    const gpsc_traj_quad_t *pref; /* -log pi_ref; reads M and v only */
    const double *extra_Cm;       /* (T x dXU x dXU) or NULL: added to Cm */
    const double *extra_cv;       /* (T x dXU) or NULL: added to cv */
} gpsc_lqr_problem_t;

size_t gpsc_lqr_backward_scratch_size(gpsc_traj_dims_t d);

/* Backward pass with the non-PD fallback (reference 5.9). One pass at a
 * given eta uses, for t = T-1 .. 0,
 *   Qtt = (Cm_t [+ extra_Cm_t] + eta M_t) / eta + Fm_t^T Vxx Fm_t,
 *   Qt  = (cv_t [+ extra_cv_t] + eta v_t) / eta + Fm_t^T (Vx + Vxx fv_t),
 *   (the Fm terms only for t < T-1), Qtt = sym(Qtt), then
 *   inv_pol_covar = Quu, pol_covar = Quu^-1, chol_pol_covar = chol(pol_covar),
 *   K = -Quu^-1 Qux, k = -Quu^-1 Qu,
 *   Vxx = sym(Qxx + Qxu K), Vx = Qx + Qxu k.
 * When a Quu is not positive definite the pass is abandoned and restarted
 * with eta = eta0 + del, del doubling from del0 (etas eta0+del0,
 * eta0+2 del0, eta0+4 del0, ...); `*n_bumps` counts the failed passes and
 * `*eta_used` is the eta of the pass that succeeded (both always written,
 * also on error: then eta_used is the last eta tried or refused).
 * Writes out->K, k, pol_covar, inv_pol_covar (exactly symmetric) and
 * chol_pol_covar (upper); all five must be non-NULL. eta > 0, del0 > 0.
 * Returns 0, GPSC_ENOTPD (the next eta would reach GPSC_LQR_ETA_LIMIT),
 * GPSC_ENONFINITE (NaN/Inf in an input or produced by the pass),
 * GPSC_EINVAL or GPSC_ENOSPC. */
int gpsc_lqr_backward(gpsc_traj_lg_t *out, double *eta_used, int *n_bumps,
                      const gpsc_lqr_problem_t *p, double eta, double del0, gpsc_traj_dims_t d,
                      gpsc_arena_t *scratch);

/* As gpsc_lqr_backward, without the scan of the inputs for NaN/Inf: for
 * gpsc_cstep, which checks them once and then runs many passes. Non-finite
 * values the pass produces are still reported (GPSC_ENONFINITE). */
int gpsc_lqr_backward_unchecked(gpsc_traj_lg_t *out, double *eta_used, int *n_bumps,
                                const gpsc_lqr_problem_t *p, double eta, double del0,
                                gpsc_traj_dims_t d, gpsc_arena_t *scratch);

/* 0 when every array p points to is present and finite over the part the
 * pass reads, else GPSC_EINVAL or GPSC_ENONFINITE. */
int gpsc_lqr_problem_check(const gpsc_lqr_problem_t *p, gpsc_traj_dims_t d);

size_t gpsc_lqr_step_scratch_size(int dX, int dU);

/* One step of the backward recursion given the Q function: symmetrises Qtt
 * (dXU x dXU) in place, then writes K (dU x dX), k (dU), pol_covar,
 * inv_pol_covar, chol_pol_covar (dU x dU each) and the value function Vxx
 * (dX x dX, exactly symmetric) and Vx (dX) as above. Qt is (dXU). Shared by
 * the C-step and init_lqr (init.h). Returns 0, GPSC_ENOTPD (Quu or the
 * resulting pol_covar is not PD: the caller may raise eta),
 * GPSC_ENONFINITE (NaN/Inf in Qtt/Qt or in the result) or GPSC_ENOSPC. */
int gpsc_lqr_step(double *K, double *k, double *pol_covar, double *inv_pol_covar,
                  double *chol_pol_covar, double *Vxx, double *Vx, double *Qtt, const double *Qt,
                  int dX, int dU, gpsc_arena_t *scratch);

#endif
