/* algorithm.h — the learner's algorithm layer: the state of every training
 * condition between iterations and one iteration of trajectory
 * optimisation (cbfinn/gps AlgorithmTrajOpt), of MDGPS (AlgorithmMDGPS,
 * seed 000 algorithm 4) or of GPS 2014 (seed 003 appendix A; the
 * reference's closest code is AlgorithmBADMM), single-process.
 *
 * A run is a pure function of (experiment, seed): every random draw is keyed
 * (common/rng.h), conditions run as independent tasks on a gpsc_pool (each
 * task writes only its own condition's slot, any reduction over conditions
 * is done afterwards in condition order), so results do not depend on the
 * number of threads. The cluster's learner service drives the same object;
 * its checkpoints (gpsc_alg_save) are byte-identical to a gpsc-solo run.
 *
 * One TRAJOPT iteration k, per condition m (tasks in parallel), with the N
 * samples of iteration k drawn from the local controller p_k:
 *   1. cost: gpsc_cost_eval on every sample (the sample cost is sum_t l),
 *      then gpsc_cost_expand: the quadratic expansion C_k (cc, cv, Cm).
 *   2. dynamics prior (the reference's DynamicsPriorGMM.update): the N new
 *      samples are appended to a buffer that keeps the most recent
 *      `max_samples` samples (oldest dropped; the reference keeps one fewer,
 *      max_samples - 1, an off-by-one we do not copy). The GMM is fitted on
 *      the points [x_t, u_t, x_{t+1}], t = 0..T-2, of every buffered sample
 *      (Nb (T-1) points, sample-major), with
 *        K = max(2, min(max_clusters, floor(Nb (T-1) / min_samples_per_cluster)))
 *      clusters: EM (gpsc_gmm_em_run: at most em_iterations [100] passes,
 *      convergence test em_stop [relative] with em_tolerance [1e-5], the
 *      prior's keys in the experiment; docs/numerics.md "GMM" says why the
 *      default is not the reference's signed test) warm-started from the last GMM when K is
 *      unchanged, otherwise from the random-label initialisation keyed
 *      (seed, k, m, 0, GPSC_RNG_GMM_INIT); N_init (the prior's pseudo-count
 *      base) is the point count at the last initialisation, as the
 *      reference's GMM.N.
 *   3. dynamics D_k: gpsc_dynamics_fit with that prior (and the buffer's
 *      initial states as the initial-state prior).
 *   4. step size (k >= 1; seed 000 B.3, the reference's _stepadjust): with
 *        prev_laplace   = E[cost] of p_{k-1} under (D_{k-1}, C_{k-1}),
 *        prev_predicted = E[cost] of p_k     under (D_{k-1}, C_{k-1}),
 *        actual         = E[cost] of p_k     under (D_k, C_k),
 *      (Laplace estimates, traj.h) gpsc_stepsize_classic sets step_mult.
 *      The first two are computed at the end of iteration k-1 (same inputs,
 *      same code, so the same bits) and kept as two numbers.
 *   5. C-step: gpsc_cstep with pi_ref = p_k (its K, k, pol_covar), KL target
 *      kl_step * step_mult * T, eta from the last C-step: p_{k+1}.
 *   6. advance: prev <- p_k, cur <- p_{k+1}; prev_laplace <- actual,
 *      prev_predicted <- E[cost] of p_{k+1} under (D_k, C_k).
 *
 * MDGPS differs (seed 000 algorithm 4; reference AlgorithmMDGPS.iteration):
 * after step 3, on iteration 0 the S-step first fits the network to the
 * initial controllers; then per condition the network's means at the
 * samples are linearised with the policy GMM prior (policy_prior.h; a
 * buffer of the most recent max_samples samples' (x, o), the network
 * re-evaluated on it, points [x_t, u_t] for every t, K and EM as above with
 * key (seed, k, m, 1, GPSC_RNG_GMM_INIT)) into pi_bar_k; the step size uses
 * pi_bar in place of p (prev_laplace = pi_bar_{k-1} under (D_{k-1},
 * C_{k-1}), actual = pi_bar_k under (D_k, C_k), prev_predicted = p_k under
 * (D_{k-1}, C_{k-1})): step_rule "global" averages the per-condition
 * numbers first and sets one step_mult for all conditions (the reference's
 * laplace rule), "classic" applies the same rule per condition; the C-step
 * constrains against pi_bar_k; finally the S-step trains the network on
 * the targets of every condition (gpsc_policy_prior_sstep_targets with
 * pol_wt = init_pol_wt, normalised over all conditions) through the
 * gpsc_alg_sstep_fn hook, and sets the network's variance to the closed
 * form of README 5.16.
 *
 * GPS 2014 (seed 003 A) keeps MDGPS's network, policy prior and initial
 * S-step, and per condition Lagrange multipliers lambda_t (t = 0..T-1,
 * starting at init_pol_wt). After the policy fit pi_bar_k, the step size
 * is trajopt's classic rule (or "global": averaged over conditions) on
 * the GPS objective J(p) = E_p[cost] + sum_t lambda_t KL_t(p || pi_bar)
 * (prev = J(p_{k-1}), predicted = J(p_k) under (D_{k-1}, C_{k-1}) with the
 * final pi_bar and lambda of iteration k-1; actual = J(p_k) under (D_k,
 * C_k) and pi_bar_k). Then `inner_iterations` times: (a) per condition
 * the trajectory step of learner/gps2014.h: KL(p || p_k) <= kl_step *
 * step_mult * T, lambda_t KL_t(p || pi_bar) in the objective, giving
 * p_{k+1}; (b) the S-step on p_{k+1}'s targets at the states of the policy
 * prior's buffer (this iteration's samples plus older ones: seed 003 A's
 * augmentation) with the weights lambda_t, key iteration
 * k (I + 1) + i + 1 (I inner iterations, i this one; the initial S-step
 * of iteration 0 uses 0); (c) per condition the policy prior refitted on
 * its buffer with the new network (no new samples) and pi_bar
 * re-linearised. After the last inner iteration, (d) the dual step
 * lambda_t <- max(0, lambda_t + policy_dual_rate KL_t(p_{k+1} || pi_bar))
 * (Laplace KL under p_{k+1}'s marginals on D_k), once per iteration as the
 * reference's AlgorithmBADMM. The checkpoint adds pol_info
 * (LinearizedPolicy: the last pi_bar, lambda_t as pol_wt, the last KL_t as
 * prev_kl) per condition.
 *
 * Diagnostics (MDGPS and GPS 2014): the global policy's cost bound of
 * seed 000 C (gpsc_alg_cost_bound) for p = p_k and pi = the network whose
 * linearisation pi_bar_k this iteration fits (the one the driver had
 * before calling gpsc_alg_iteration, or after iteration 0's initial
 * S-step).
 *
 * Ownership: gpsc_alg_new borrows the experiment, which must stay resolved
 * and outlive the object. Library code: nothing here prints or logs. */
#ifndef GPSC_LEARNER_ALGORITHM_H
#define GPSC_LEARNER_ALGORITHM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/checkpoint.h"
#include "common/experiment.h"
#include "common/lgpolicy.h"
#include "common/mlp.h"
#include "common/rng.h"
#include "learner/cost.h"
#include "learner/sstep.h"

typedef struct gpsc_alg gpsc_alg_t;

/* The reference's most EM passes of a prior's GMM fit: the default of the
 * experiment's em_iterations, which the algorithm uses. */
#define GPSC_ALG_EM_ITERATIONS 100

/* One rollout as the learner receives it (arrays borrowed, row-major,
 * step-major). The dims must equal the experiment's. */
typedef struct gpsc_alg_sample {
    int T, dX, dU, dO, P, dQ;
    const double *X;   /* (T x dX) states */
    const double *U;   /* (T x dU) actions */
    const double *O;   /* (T x dO) observations; may be NULL when dO = 0 or for trajopt */
    const double *ee;  /* (T x P) end-effector points, world frame (m); NULL when P = 0 */
    const double *jac; /* (T x P x dQ) d ee / d q; NULL when P = 0 */
} gpsc_alg_sample_t;

/* The S-step trainer (MDGPS). The default is learner/sstep.h's
 * gpsc_sstep_train (minibatch Adam, seed 000 B.2); a test may substitute a
 * cheaper one. It trains net's mean on data (rows ordered (condition,
 * sample, t), weights normalised over all conditions) continuing from
 * *adam, and sets net->var to the closed-form variance; the observation
 * normalisation is fitted by the algorithm before the first S-step. Must
 * be deterministic and leave net/adam unchanged on error. Returns 0 or a
 * negative GPSC_E* code with a message in err. */
typedef int (*gpsc_alg_sstep_fn)(void *ud, gpsc_mlp_t *net, gpsc_sstep_adam_t *adam,
                                 const gpsc_sstep_data_t *data, const gpsc_sstep_cfg_t *cfg,
                                 uint64_t seed, uint32_t iteration, gpsc_arena_t *arena,
                                 char *err, size_t errsz);

/* Diagnostics of one condition in one iteration. */
typedef struct gpsc_alg_cond_metrics {
    int condition;
    double sample_cost;      /* mean over samples of sum_t l(x_t, u_t) */
    double sample_cost_std;  /* population std over samples of the same */
    double laplace_cost;     /* E[cost] of the sampling policy p_k under (D_k, C_k) */
    double expected_cost;    /* E[cost] of the new policy p_{k+1} under (D_k, C_k) */
    double kl;               /* KL(p_{k+1} || pi_ref) of the C-step, nats */
    double kl_target;        /* kl_step * step_mult * T, nats */
    double eta;              /* eta after the C-step */
    double step_mult;        /* step_mult used by the C-step */
    double predicted_impr;   /* of the step-size rule (0 at k = 0) */
    double actual_impr;
    double entropy;          /* sum_t sum_i log diag(chol_pol_covar_t) of p_{k+1}
                                (the reference's _measure_ent: 0.5 log det, no constant) */
    int cstep_iterations;    /* backward passes of the dual search */
    int cstep_bumps;         /* non-PD eta raises */
    bool cstep_converged;
    int dyn_clusters;        /* K of the dynamics GMM */
    int dyn_em_iterations;   /* E-steps of its EM */
    bool dyn_reinit;         /* the GMM was initialised afresh */
    int pol_clusters;        /* MDGPS: K of the policy GMM (0 otherwise) */
    int n_success;           /* samples meeting the success metric (-1: no metric) */
    double success_value;    /* mean over samples of the metric's value */
    double final_distance;   /* mean over samples of |ee_p(T-1) - target_p| (m) for
                                p = success.point (0 without a metric); NaN when P = 0 */
    /* MDGPS and GPS 2014 (NaN for trajopt): the global policy, seed 000 C */
    double global_cost;      /* E[cost] of its linearisation pi_bar_k under (D_k, C_k) */
    double bound;            /* gpsc_alg_cost_bound for p_k and pi_bar_k: an upper bound on
                                the global policy's expected cost (JSON "global_cost_bound") */
    double bound_cost;       /* sum_t E_p[l_t] of p_k under (D_k, C_k) (Laplace) */
    double bound_kl;         /* sum_t eps_t, eps_t = KL_t(p_k || pi_bar_k) under p_k's
                                marginals on D_k, nats */
    /* GPS 2014 (NaN otherwise) */
    double pol_kl;           /* sum_t KL_t(p_{k+1} || pi_bar) at the last dual step, nats */
    double lambda_mean;      /* mean_t lambda_t after this iteration's dual steps */
    double lambda_max;       /* max_t lambda_t */
} gpsc_alg_cond_metrics_t;

/* Wall-clock milliseconds of the phases of one iteration. Per-condition
 * phases are summed over conditions (thread time); `parallel` is the wall
 * time of the per-condition blocks. Not part of any checkpoint. */
typedef struct gpsc_alg_timings {
    double cost, prior, dynamics, policy_fit, stepsize, cstep, sstep;
    double parallel; /* wall time of the per-condition parts */
    double total;    /* wall time of the whole iteration */
} gpsc_alg_timings_t;

typedef struct gpsc_alg_metrics {
    int iteration;                 /* the iteration these samples belong to */
    int M;                         /* training conditions */
    int N;                         /* samples per condition */
    gpsc_alg_cond_metrics_t *cond; /* (M), owned by the algorithm object */
    double sample_cost;            /* mean over conditions of cond[m].sample_cost */
    int n_success;                 /* sum over conditions (-1: no metric) */
    gpsc_alg_timings_t ms;
} gpsc_alg_metrics_t;

/* Options that are not part of the experiment. */
typedef struct gpsc_alg_opts {
    int threads;               /* pool workers (>= 1; the caller included) */
    gpsc_alg_sstep_fn sstep;   /* MDGPS: the S-step trainer; NULL: gpsc_sstep_train */
    void *sstep_ud;            /* passed to sstep */
} gpsc_alg_opts_t;

/* A new algorithm object for the resolved experiment: exp->algo.type
 * (mdgps, gps2014 or trajopt), exp->n_train conditions of
 * exp->algo.samples samples each (>= 2, the dynamics fit needs two). The
 * local controllers start as zero policies: set them with
 * gpsc_alg_set_initial_policy (every condition) or load a checkpoint before
 * the first iteration. For MDGPS and GPS 2014 the network is created from
 * exp->net and initialised by gpsc_sstep_init_net (the reference's
 * Gaussian weights of std 0.01, key (seed, 0, 0, 0, GPSC_RNG_NET_INIT)),
 * var = init_var. GPS 2014 needs init_pol_wt > 0, policy_dual_rate >= 0
 * and inner_iterations >= 1 (GPSC_ECONFIG).
 * Returns NULL and a message in err on bad settings or out of memory. */
gpsc_alg_t *gpsc_alg_new(const gpsc_experiment_t *exp, const gpsc_alg_opts_t *opts, char *err,
                         size_t errsz);

/* Frees everything; accepts NULL; sets *p to NULL. */
void gpsc_alg_destroy(gpsc_alg_t **p);

/* Sets the local controller of training condition c (0 <= c < M) before
 * the first iteration (copied; T, dX, dU must match). GPSC_ESTATE after the
 * first iteration, GPSC_EDIM / GPSC_ERANGE / GPSC_ENONFINITE otherwise. */
int gpsc_alg_set_initial_policy(gpsc_alg_t *alg, int c, const gpsc_lgpolicy_t *pol, char *err,
                                size_t errsz);

/* Runs one iteration on M*N samples ordered by (condition, sample_index):
 * samples[m * N + n] is sample n of condition m (its key (iteration, m, n)
 * is kept with the priors' buffers). Checks every sample first (dims,
 * non-NULL arrays, finite values) and refuses the whole batch with
 * GPSC_EDIM / GPSC_EINVAL / GPSC_ENONFINITE and "condition m sample n: ..."
 * in err, leaving the state unchanged. A numerical failure inside the
 * iteration (GPSC_ENOTPD, GPSC_ENONFINITE, ...) is returned with the
 * lowest failing condition's message; the state is then unspecified (reload
 * the last checkpoint). On success the iteration counter advances and
 * gpsc_alg_metrics describes the iteration. */
int gpsc_alg_iteration(gpsc_alg_t *alg, const gpsc_alg_sample_t *samples, int n_samples,
                       char *err, size_t errsz);

/* Iterations completed (= the index of the next iteration). */
int gpsc_alg_iteration_count(const gpsc_alg_t *alg);
int gpsc_alg_n_conditions(const gpsc_alg_t *alg);
int gpsc_alg_n_samples(const gpsc_alg_t *alg);
gpsc_exp_algorithm_t gpsc_alg_type(const gpsc_alg_t *alg);

/* The local controller of condition c that the next iteration samples
 * (borrowed; valid until the next iteration or load). NULL for a bad c. */
const gpsc_lgpolicy_t *gpsc_alg_policy(const gpsc_alg_t *alg, int c);

/* MDGPS and GPS 2014: the global policy (borrowed), NULL for trajopt. */
const gpsc_mlp_t *gpsc_alg_network(const gpsc_alg_t *alg);

/* GPS 2014: the multipliers lambda_t of condition c (T entries, borrowed;
 * valid until the next iteration or load). NULL for other algorithms or a
 * bad c. */
const double *gpsc_alg_lambda(const gpsc_alg_t *alg, int c);

/* The bound of seed 000 Lemma C.3 on the expected total cost of a policy
 * pi from a policy p and their per-step divergences (the last line of the
 * proof in C.2):
 *   sum_t E_pi[l_t] <= sum_t [ E_p[l_t] + sqrt(2 eps_t) L_t
 *                              + 2 sqrt(2 eps_t) Q_t ],  Q_t = sum_{t' >= t} L_t',
 * with cost_t = E_p[l_t], kl_t = eps_t (nats; negative values count as 0)
 * and lmax_t = L_t >= 0, the largest per-step cost (the algorithm uses the
 * maximum over the iteration's samples of |l_t|). All arrays (T). */
double gpsc_alg_cost_bound(const double *cost_t, const double *kl_t, const double *lmax_t, int T);

/* Metrics of the last iteration (borrowed; zeroed before the first). */
const gpsc_alg_metrics_t *gpsc_alg_metrics(const gpsc_alg_t *alg);

/* The metrics as one JSON object (malloc'd, one line, no newline; the
 * caller frees it). with_timings adds "ms": {...}. Per condition, MDGPS
 * and GPS 2014 add "global_cost", "global_cost_bound", "bound_local_cost"
 * and "bound_kl"; GPS 2014 adds "pol_kl", "lambda_mean", "lambda_max".
 * NULL when out of memory. */
char *gpsc_alg_metrics_json(const gpsc_alg_metrics_t *m, bool with_timings);

/* Cost terms of training condition c from the experiment (FK targets from
 * the condition). terms must hold exp->n_costs entries. Returns 0 or
 * GPSC_EDIM / GPSC_EINVAL with a message. */
int gpsc_alg_cost_terms(gpsc_cost_term_t *terms, const gpsc_experiment_t *exp, int c, char *err,
                        size_t errsz);

/* Writes the whole state after the last iteration into the checkpoint
 * ck (which owns the memory; see common/checkpoint.h): iteration count,
 * seed, algorithm, config hash and run id given by the caller, and per
 * condition the current and previous local controllers, eta, step_mult,
 * kl_step, the step-size numbers (prev_expected_cost = prev_laplace,
 * prev_actual_cost = the last mean sample cost, extra "prev_predicted_cost"),
 * the dynamics prior (GMM + sample buffer; the exact log mixing weights
 * and N_init as extra tensors "dyn_gmm_logmass", "dyn_gmm_n_init"), for
 * MDGPS and GPS 2014 the policy prior likewise plus the network and Adam
 * state, for GPS 2014 from iteration 1 on pol_info (the last pi_bar,
 * lambda_t in pol_wt, the last per-step KL to pi_bar in prev_kl; for GPS
 * 2014 prev_expected_cost and "prev_predicted_cost" are the objective J).
 * Nothing time- or host-dependent. config_yaml may be NULL. Returns 0 or
 * GPSC_ENOMEM. */
int gpsc_alg_save(const gpsc_alg_t *alg, gpsc_checkpoint_t *ck, const char *config_hash,
                  const char *run_id, const char *config_yaml, char *err, size_t errsz);

/* Restores the state from a checkpoint written by gpsc_alg_save for the
 * same experiment (algorithm, condition count, dims, seed and sample
 * count must match: GPSC_ECONFIG / GPSC_EDIM otherwise, with a message).
 * Everything is checked before anything is changed: on error the object is
 * unchanged. */
int gpsc_alg_load(gpsc_alg_t *alg, const Gpsc__Checkpoint *ck, char *err, size_t errsz);

#endif
