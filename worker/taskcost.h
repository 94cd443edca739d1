/* taskcost.h — values (no derivatives) of the experiment's cost terms on a
 * trajectory, so a worker can report per-step costs and a summary without
 * the learner. The formulas are those of ../shared/reference/README.md
 * 5.1-5.3 (the learner's learner/cost.h computes the same values plus the
 * quadratic expansion; tests/test_rollout.c checks these against the
 * reference vectors' `l`):
 *   action: 0.5 sum_i wu_i u_i^2
 *   fk:     d = ee_t - target, W_p = wp_p r_t,
 *           s = sum_p (W_p d_p)^2, a = sum_p W_p d_p^2,
 *           l1l2: 0.5 l2 a + l1 sqrt(alpha + s)
 *           logl2: 0.5 l2 a + 0.5 l1 log(alpha + s)
 *           l2:   0.5 l2 a
 *   state:  as fk with d = x_t[indices] - target
 * r_t is the ramp (constant 1, linear (t+1)/T, quadratic ((t+1)/T)^2,
 * final_only [t = T-1]) with r_{T-1} *= wp_final_multiplier. */
#ifndef GPSC_WORKER_TASKCOST_H
#define GPSC_WORKER_TASKCOST_H

#include "common/experiment.h"

/* Ramp multiplier r_t of step t of T. */
double gpsc_taskcost_ramp(gpsc_exp_ramp_t ramp, double final_mult, int t, int T);

/* Value of the penalty for a weighted distance (d, W of n entries). */
double gpsc_taskcost_penalty(const gpsc_exp_cost_t *term, const double *d, const double *W, int n);

/* costs (T x nterms) = weight_i * term_i at every step, for terms of a
 * resolved experiment; x (T x dX), u (T x dU), ee (T x P), target (P).
 * scratch holds 2 * max(P, largest state-term index count, 1) doubles. */
void gpsc_taskcost_eval(double *costs, const gpsc_exp_cost_t *terms, int nterms, const double *x,
                        const double *u, const double *ee, const double *target, int T, int dX,
                        int dU, int P, double *scratch);

/* Scratch doubles gpsc_taskcost_eval needs. */
int gpsc_taskcost_scratch(const gpsc_exp_cost_t *terms, int nterms, int P);

#endif
