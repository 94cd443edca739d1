/* cstep.h — the KL-constrained C-step: dual search on eta (reference
 * README 5.12, `TrajOptLQRPython.update` with cons_per_step = False).
 *
 * Solves  min_p E_p[sum_t l(x_t,u_t)]  s.t.  KL(p || pi_ref) <= kl_target
 * (seed 000 B.1) for a linear-Gaussian p by repeated LQR backward passes on
 * the surrogate cost l/eta - log pi_ref (lqr.h), a forward pass for the
 * state-action marginals and the KL (traj.h), and a bracketing search on
 * the single dual variable eta until |KL - kl_target| < 0.1 kl_target.
 *
 *   kl_target = base_kl_step * step_mult * T; eta = eta_init, bracket
 *   [min_eta, max_eta]. Each iteration: backward pass (may raise eta,
 *   non-PD fallback), eta -> eta_trace, forward + KL -> kl_trace,
 *   con = kl - kl_target; stop when |con| < 0.1 kl_target; otherwise
 *   con < 0 (eta too big): max_eta = eta, eta = max(sqrt(min_eta max_eta),
 *   0.1 max_eta); else min_eta = eta, eta = min(sqrt(min_eta max_eta),
 *   10 min_eta).
 *
 * Reference quirk kept: when the iterations run out, the returned eta is
 * the next, untried value (the controller is from the last pass). */
#ifndef GPSC_LEARNER_CSTEP_H
#define GPSC_LEARNER_CSTEP_H

#include <stdbool.h>
#include <stddef.h>

#include "common/arena.h"
#include "learner/traj.h"

/* Settings (the reference's hyperparameters; defaults in brackets). */
typedef struct gpsc_cstep_cfg {
    double base_kl_step; /* KL budget per time step, nats (> 0) [1.0 in the tests] */
    double step_mult;    /* step-size multiplier from step_adjust (> 0) */
    double eta_init;     /* first eta: last iteration's eta (> 0) */
    double min_eta;      /* lower end of the bracket [1e-8] */
    double max_eta;      /* upper end of the bracket [1e16] */
    double del0;         /* first non-PD bump of eta [1e-4] */
    int max_iterations;  /* backward passes at most (>= 1) [50] */
} gpsc_cstep_cfg_t;

/* What the C-step reads (borrowed). The reference policy pi_ref is the
 * linearised global policy for MDGPS (pol_K, pol_k, pol_S: fields K, k,
 * pol_covar, optional chol_pol_covar) or the previous local controller for
 * trajectory optimisation; extra_Cm/extra_cv as in gpsc_lqr_problem_t. */
typedef struct gpsc_cstep_problem {
    gpsc_traj_dyn_t dyn;
    const double *Cm;       /* (T x dXU x dXU) */
    const double *cv;       /* (T x dXU) */
    gpsc_traj_lg_t pref;    /* reads K, k, pol_covar or chol_pol_covar */
    const double *extra_Cm; /* (T x dXU x dXU) or NULL */
    const double *extra_cv; /* (T x dXU) or NULL */
    /* optional: called after every backward pass with the pass's eta, before
     * the forward pass; may change the controller in place (GPS 2014 scales
     * its covariances by 1 + lambda_t / eta). A non-zero return ends the
     * search with that code. NULL: none. */
    int (*post_pass)(void *ud, gpsc_traj_lg_t *out, double eta);
    void *post_pass_ud;
    /* end the search when the bracket cannot move (the next eta equals this
     * one, so every further pass would repeat it). The reference keeps
     * going until max_iterations, so this is off for MDGPS and trajopt. */
    bool stop_when_stuck;
} gpsc_cstep_problem_t;

typedef struct gpsc_cstep_result {
    double eta;        /* eta after the loop (see the quirk above) */
    double kl;         /* KL of the returned controller, nats */
    double kl_target;  /* base_kl_step * step_mult * T, nats */
    int iterations;    /* backward passes run */
    int n_bumps;       /* non-PD eta raises, summed over the passes */
    bool converged;    /* |kl - kl_target| < 0.1 kl_target */
    double *eta_trace; /* caller's (max_iterations) array or NULL: eta of each pass */
    double *kl_trace;  /* caller's (max_iterations) array or NULL: KL of each pass */
    double *mu;        /* caller's (T x dXU) or NULL: marginal means of the result */
    double *sigma;     /* caller's (T x dXU x dXU) or NULL: marginal covariances */
} gpsc_cstep_result_t;

/* Arena bytes gpsc_cstep needs (the mu/sigma buffers included, so the
 * caller may leave res->mu and res->sigma NULL). */
size_t gpsc_cstep_scratch_size(gpsc_traj_dims_t d);

/* Runs the C-step. Writes the controller into out (K, k, pol_covar,
 * inv_pol_covar, chol_pol_covar: all required) and the fields of *res
 * (the trace and marginal pointers are the caller's and are filled when
 * non-NULL). Not converging within max_iterations is not an error
 * (res->converged says so). Returns 0, GPSC_ENOTPD (no PD solution even for
 * eta near 1e16, or pi_ref's covariance is not PD), GPSC_ENONFINITE
 * (NaN/Inf in an input or produced along the way), GPSC_EINVAL (bad
 * settings, NULL, sizes) or GPSC_ENOSPC. On error res->iterations and the
 * traces hold what was done so far. */
int gpsc_cstep(gpsc_traj_lg_t *out, gpsc_cstep_result_t *res, const gpsc_cstep_cfg_t *cfg,
               const gpsc_cstep_problem_t *p, gpsc_traj_dims_t d, gpsc_arena_t *scratch);

#endif
