/* gps2014.h — the trajectory step of guided policy search under unknown
 * dynamics (Levine & Abbeel 2014; seed 003 appendix A): LQR with per-step
 * policy KL terms weighted by Lagrange multipliers lambda_t, a dual search
 * on eta for the KL constraint against the previous trajectory
 * distribution, and the dual step on lambda_t.
 *
 * Seed 003 A writes the objective of the trajectory pass as
 *   (1/eta) L(p) = E_p[l~] - H(p) + sum_t (lambda_t / eta) D_KL,t,
 *   l~ = l / eta - log p^(u|x),
 * with D_KL,t the divergence between p and the global policy at step t.
 * We take the divergence in the direction KL(p(u|x) || pi_bar(u|x))
 * under p(x_t) (the direction of the C-step constraint of seed 000 B.1,
 * of Lemma C.1's eps_t and of the reference's AlgorithmBADMM): by seed 000
 * appendix A it is the cross-entropy -E_p[log pi_bar] minus H(p), so
 *   (1/eta) L(p) = sum_t E_p[ l/eta - log p^ - (lambda_t/eta) log pi_bar ]
 *                  - (1 + lambda_t/eta) H(p(u_t|x_t)).
 * The first part is lqr.h's surrogate with the extra quadratic term
 *   extra_Cm_t = lambda_t M_t(pi_bar),  extra_cv_t = lambda_t v_t(pi_bar)
 * (the quadratic form of -log pi_bar, traj.h). The second part is a
 * per-step temperature w_t = 1 + lambda_t / eta on the entropy: the
 * maximum-entropy solution of min E[Q] - w_t H is p(u|x) ∝ exp(-Q/w_t),
 * whose mean (K_t, k_t) and value function do not depend on w_t; only
 * the covariance does: pol_covar_t = w_t Quu_t^-1. So one backward pass of
 * gpsc_lqr_backward with the extra term, followed by scaling each step's
 * covariance by w_t, is the exact minimiser of the quadratic problem.
 * (Dropping the temperature — dividing by eta alone — would add
 * lambda_t/eta times Pi_bar's precision to the controller's precision at
 * every iteration and shrink the exploration noise geometrically; the
 * reference divides each step's cost by eta + lambda_t instead, which is
 * the same covariance but rescales the cost-to-go of later steps.)
 *
 * Kernels follow traj.h: output first, no allocation (scratch from an
 * arena sized with the *_scratch_size functions), NaN/Inf refused. */
#ifndef GPSC_LEARNER_GPS2014_H
#define GPSC_LEARNER_GPS2014_H

#include <stddef.h>

#include "common/arena.h"
#include "learner/cstep.h"
#include "learner/traj.h"

/* What the trajectory step reads (all borrowed). */
typedef struct gpsc_gps2014_problem {
    gpsc_traj_dyn_t dyn;
    const double *Cm;     /* (T x dXU x dXU) cost Hessian */
    const double *cv;     /* (T x dXU) cost gradient */
    gpsc_traj_lg_t prev;  /* p^: the previous local controller (K, k, pol_covar or chol) */
    gpsc_traj_lg_t pol;   /* pi_bar: the linearised global policy (K, k, pol_covar or chol) */
    const double *lambda; /* (T) the multipliers lambda_t, >= 0 and finite (cost units/nat) */
} gpsc_gps2014_problem_t;

/* Scales the covariances of controller c (pol_covar, inv_pol_covar,
 * chol_pol_covar: all required) by the entropy temperature of each step:
 * pol_covar_t *= w_t, inv_pol_covar_t /= w_t, chol_pol_covar_t = the upper
 * factor of the new pol_covar_t, with w_t = 1 + lambda_t / eta (steps with
 * lambda_t = 0 are left untouched, bit for bit). eta > 0. Returns 0,
 * GPSC_EINVAL, GPSC_ENOTPD or GPSC_ENONFINITE. */
int gpsc_gps2014_temper(gpsc_traj_lg_t *c, const double *lambda, double eta, gpsc_traj_dims_t d);

/* Arena bytes of gpsc_gps2014_cstep (its marginals included). */
size_t gpsc_gps2014_cstep_scratch_size(gpsc_traj_dims_t d);

/* The trajectory step of seed 003 A: minimises the objective above subject
 * to KL(p || p^) <= kl_target = base_kl_step * step_mult * T by the
 * bracketing dual search of gpsc_cstep (cstep.h; same settings, same
 * bracket updates, stop when |KL - kl_target| < 0.1 kl_target, same
 * "next untried eta" quirk when the passes run out). Each pass is
 * gpsc_lqr_backward with the extra term lambda_t (M, v)(pi_bar) at the
 * current eta (its non-PD fallback may raise eta), then gpsc_gps2014_temper
 * at the eta the pass used, then the forward pass and KL(p || p^).
 * One difference: when the bracket cannot move (the next eta equals this
 * pass's: eta at min_eta with the KL still below the target, or at
 * max_eta above it) the search stops, since every further pass would
 * repeat this one; the controller and eta are those gpsc_cstep would end
 * with, only res->iterations is smaller. With every lambda_t = 0 the
 * result is gpsc_cstep's with pi_ref = p^, bit for bit (iterations aside).
 * res is filled as gpsc_cstep fills it (res->kl is KL(p || p^); the
 * caller's mu/sigma/trace pointers are honoured). Returns 0, GPSC_ENOTPD,
 * GPSC_ENONFINITE, GPSC_EINVAL or GPSC_ENOSPC as gpsc_cstep. */
int gpsc_gps2014_cstep(gpsc_traj_lg_t *out, gpsc_cstep_result_t *res, const gpsc_cstep_cfg_t *cfg,
                       const gpsc_gps2014_problem_t *p, gpsc_traj_dims_t d, gpsc_arena_t *scratch);

/* The dual step on the multipliers (dual gradient ascent; the gradient of
 * the Lagrangian with respect to lambda_t is the per-step divergence):
 *   lambda_t <- max(0, lambda_t + rate * kl_t),  t = 0..T-1.
 * kl_t are per-step KL(p || pi_bar) in nats, rate >= 0 in cost units per
 * nat^2. Non-finite kl_t leave lambda_t unchanged and count in the return
 * value (the number of steps skipped). */
int gpsc_gps2014_dual_step(double *lambda, const double *kl_t, double rate, int T);

#endif
