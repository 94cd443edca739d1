/* policy_prior.h — the linearised global policy pi_bar(u|x) that the C-step
 * constrains against (seed 000 algorithm 4 line 4), and the S-step's
 * regression targets and weights (seed 000 B.2).
 *
 * ../shared/reference/README.md 5.15 (policy_linearize, cbfinn/gps
 * PolicyPriorGMM.fit) and 5.16 (sstep_targets, the MDGPS _update_policy and
 * the policy optimiser's weight normalisation) specify them exactly.
 *
 * Kernels never allocate: scratch comes from the caller's arena (sized with
 * the *_scratch_size functions) and is released before they return. */
#ifndef GPSC_LEARNER_POLICY_PRIOR_H
#define GPSC_LEARNER_POLICY_PRIOR_H

#include <stddef.h>

#include "common/arena.h"
#include "learner/gmm.h"

/* Linearisation of the global policy from its means at the samples:
 * for every t, pts[n] = [X[n,t]; pol_mu[n,t]], NIW prior from the policy
 * GMM (D = dX + dU; gpsc_gmm_prior with N_init and strength), then the
 * regression of gpsc_dynamics_niw_regression conditioning u on x (a = dX)
 * with the ridge sig_reg * I at t = 0 ONLY (as the reference), giving
 * pol_K[t] (dU x dX), pol_k[t] (dU), pol_S[t] (dU x dU); finally
 * pol_S[t] += mean_n pol_sig[n,t].
 * X is (N x T x dX), pol_mu (N x T x dU), pol_sig (N x T x dU x dU).
 * pol_S is exactly symmetric when every pol_sig[n,t] is. The GMM's
 * covariances are factored once per call (gpsc_gmm_chol), not per step.
 * Returns 0, GPSC_EDIM (gmm->D != dX + dU), or an error of the prior or
 * the regression (GPSC_ENOTPD, GPSC_ENOSPC). */
int gpsc_policy_prior_linearize(double *pol_K, double *pol_k, double *pol_S, const double *X,
                                const double *pol_mu, const double *pol_sig, const gpsc_gmm_t *gmm,
                                int N_init, double strength, double sig_reg, int N, int T, int dX,
                                int dU, gpsc_arena_t *arena);
size_t gpsc_policy_prior_linearize_scratch_size(int N, int dX, int dU, int K);

/* S-step targets of one condition (README 5.16): for every sample n and
 * step t, tgt_mu[n,t] = K_t X[n,t] + k_t, tgt_prc[n,t] = inv_pol_covar_t
 * and the raw weight tgt_wt[n,t] = pol_wt[t].
 * X is (N x T x dX), K (T x dU x dX), k (T x dU), inv_pol_covar
 * (T x dU x dU), pol_wt (T); outputs tgt_mu (N x T x dU),
 * tgt_prc (N x T x dU x dU), tgt_wt (N x T). */
void gpsc_policy_prior_sstep_targets(double *tgt_mu, double *tgt_prc, double *tgt_wt,
                                     const double *X, const double *K, const double *k,
                                     const double *inv_pol_covar, const double *pol_wt, int N,
                                     int T, int dX, int dU);

/* Normalises the n raw weights wt (all conditions concatenated along the
 * sample axis, n = N_total * T) in place: w *= n / sum(w); mn = median of
 * the weights > 1e-2 (mean of the two middle values for an even count);
 * w = min(w, 2 mn) / mn. Returns 0, GPSC_EINVAL (sum not positive and
 * finite, or no weight above 1e-2) or GPSC_ENOSPC (the median sorts a
 * copy in the arena). */
int gpsc_policy_prior_sstep_normalize(double *wt, size_t n, gpsc_arena_t *arena);
size_t gpsc_policy_prior_sstep_normalize_scratch_size(size_t n);

/* Closed-form diagonal variance of the global policy (README 5.16):
 * pol_var = 1 / diag((sum_i tgt_prc[i] + 2 n ent_reg ones) / sum_i tgt_wt[i])
 * over the n = N_total * T normalised targets. pol_var has dU entries. */
void gpsc_policy_prior_sstep_pol_var(double *pol_var, const double *tgt_prc, const double *tgt_wt,
                                     size_t n, int dU, double ent_reg);

#endif
