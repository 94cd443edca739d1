/* sstep.h — the S-step: training the global policy network (common/mlp.h)
 * on the local policies' actions (seed 000 algorithm 2 line 6, B.2).
 *
 * Seed 000 B.2 rewrites sum_{t,i,j} KL(pi_theta(u|x) || p_i(u|x)) for
 * Gaussians pi_theta = N(mu(o), Sigma) and p_i = N(K x + k, C) as
 *     tr[C^-1 Sigma] - log|Sigma| + (mu(o) - mu_p)^T C^-1 (mu(o) - mu_p),
 * a precision-weighted quadratic loss on the network mean plus a term in
 * the state-independent covariance alone, which has a closed form
 * (../shared/reference/README.md 5.16). The mean is trained with minibatch
 * Adam on the loss
 *
 *     J(theta) = 1/B sum_{n in batch} 0.5 w_n (mu(o_n) - y_n)^T P_n (mu(o_n) - y_n)
 *              + 0.5 weight_decay ||theta||^2
 *
 * where y_n = tgt_mu, P_n = tgt_prc (its symmetric part) and w_n = tgt_wt,
 * theta = every W_l and b_l. This is exactly the reference's objective:
 * cbfinn/gps WeightedEuclideanLoss (Caffe) and euclidean_loss_layer (TF)
 * compute sum_n d_n^T (w_n P_n) d_n / (2 B), and both solvers add
 * weight_decay * 0.5 ||var||^2 for every trainable variable, biases
 * included. The "full-data loss" below is the same mean over all N rows,
 * without the decay term.
 *
 * Rows are (condition, sample, step) flattened; seed 003 appendix A trains
 * on samples of previous iterations as well, which gpsc_sstep_build
 * supports by taking any number of samples per condition (the caller
 * concatenates the older ones), all with the new local policies' targets.
 *
 * Determinism: training is a pure function of (data, initial parameters,
 * Adam state, cfg, key). The minibatch order comes from the keyed generator
 * (seed, iteration, 0, 0, GPSC_RNG_MINIBATCH); forward and backward passes
 * are batched gemm calls through common/la.h with every reduction in a
 * fixed order. OpenBLAS's gemm results depend on its thread count for some
 * shapes (measured with 0.3.21: 1 vs 2 threads differ for 300 x 42 x 42
 * with B^T, 2000 x 42 x 26, and 42 x 42 x 2000 with A^T), so
 * gpsc_sstep_train sets OpenBLAS to one thread (gpsc_la_set_threads(1),
 * the process-wide gpsc policy the learner's pool also applies); results
 * are then bitwise reproducible on one machine. Different CPUs may pick different
 * OpenBLAS kernels, so trained weights are not promised bit-identical across
 * machine types — only the one learner trains, so this does not matter for
 * a run (the worker gets the trained weights, not the training).
 *
 * Kernels never allocate: scratch comes from the caller's arena (sized with
 * gpsc_sstep_scratch_size / gpsc_sstep_build_size) and is released before
 * they return, except gpsc_sstep_build whose output lives in the arena. */
#ifndef GPSC_LEARNER_SSTEP_H
#define GPSC_LEARNER_SSTEP_H

#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/mlp.h"

/* Training settings. gpsc_sstep_cfg_default gives the cbfinn/gps
 * mjc_mdgps_example values (PolicyOptCaffe: 3000 iterations per S-step,
 * batch 25, Adam lr 1e-3 fixed, beta1 0.9 ("momentum"), weight decay
 * 0.005, init_var 0.1, ent_reg 0, Gaussian weights std 0.01).
 * Iterations: the library default of cbfinn/gps policy_opt/config.py is
 * 20000 (5000 in older versions), but its MuJoCo MDGPS example sets 3000,
 * and that is our default: at the peg7 size (dO 26, dU 7, 2 x 42 ReLU,
 * 2000 rows, batch 25) one S-step of 3000 iterations takes 60-90 ms on
 * the 2-core development machine (tests/test_sstep.c test_peg7_time), well
 * inside the ~2 s budget of an MDGPS iteration; the loss is still falling
 * slowly at 3000 and a second S-step continues from the kept Adam state. */
typedef struct gpsc_sstep_cfg {
    int iterations;      /* Adam steps per S-step (>= 0) */
    int batch_size;      /* rows per minibatch (>= 1; N is used when N is smaller) */
    double lr;           /* Adam step size at the first iteration (> 0) */
    double lr_final;     /* step size at the last iteration of the S-step, geometric in
                          * between; <= 0 means lr (fixed, as the reference) */
    double beta1;        /* Adam first-moment decay, in [0, 1) */
    double beta2;        /* Adam second-moment decay, in [0, 1) */
    double eps;          /* Adam denominator guard (> 0) */
    double weight_decay; /* L2 coefficient on every W_l and b_l (>= 0) */
    double ent_reg;      /* entropy regulariser of the closed-form variance (>= 0) */
    double init_std;     /* gpsc_sstep_init_net: > 0 Gaussian weights of this std; 0 Glorot/He
                          * uniform (see there) */
    double init_var;     /* gpsc_sstep_init_net: initial action variance (> 0) */
    int trace_every;     /* iterations per loss-trace entry (>= 1) */
} gpsc_sstep_cfg_t;

/* The defaults above. */
void gpsc_sstep_cfg_default(gpsc_sstep_cfg_t *cfg);

/* 0 or GPSC_EINVAL when a field is out of the ranges above. */
int gpsc_sstep_cfg_check(const gpsc_sstep_cfg_t *cfg);

/* Adam state. It persists across S-steps (the reference keeps one solver
 * for the whole run), so a checkpoint stores it: step and the n entries of
 * m and v. Entries outside the trained range (obs_mean, obs_scale, var)
 * stay 0. */
typedef struct gpsc_sstep_adam {
    uint64_t step; /* Adam steps taken so far (t of the bias correction) */
    size_t n;      /* entries of m and v: the network's n_params */
    double *m;     /* (n) first moment, owned */
    double *v;     /* (n) second moment, owned */
} gpsc_sstep_adam_t;

/* Zeroed state for a network of n_params parameters (m and v allocated
 * here, at start-up). Returns 0, GPSC_EINVAL (n == 0) or GPSC_ENOMEM. */
int gpsc_sstep_adam_init(gpsc_sstep_adam_t *adam, size_t n_params);

/* Frees m and v and zeroes the struct; accepts NULL and a zeroed struct. */
void gpsc_sstep_adam_free(gpsc_sstep_adam_t *adam);

/* One S-step training set: N rows of (observation, target mean, target
 * precision, weight). The arrays are borrowed. */
typedef struct gpsc_sstep_data {
    int N;                 /* rows: conditions x samples x steps, flattened */
    int dO, dU;            /* observation and action dimensions */
    const double *obs;     /* (N x dO) network inputs */
    const double *tgt_mu;  /* (N x dU) local policy means K x + k */
    const double *tgt_prc; /* (N x dU x dU) local policy precisions, NOT weighted */
    const double *tgt_wt;  /* (N) normalised weights (>= 0) */
} gpsc_sstep_data_t;

/* One condition's contribution to the training set (MDGPS _update_policy):
 * N samples of T steps, and the NEW local policy of that condition. */
typedef struct gpsc_sstep_cond {
    int N;                       /* samples (seed 003 A: may include earlier iterations') */
    const double *X;             /* (N x T x dX) states: the targets are K_t x + k_t */
    const double *obs;           /* (N x T x dO) observations: the network's inputs */
    const double *K;             /* (T x dU x dX) */
    const double *k;             /* (T x dU) */
    const double *inv_pol_covar; /* (T x dU x dU) */
    const double *pol_wt;        /* (T) raw per-step weight (MDGPS: all equal) */
} gpsc_sstep_cond_t;

/* Bytes of arena gpsc_sstep_build needs (its output plus its scratch). */
size_t gpsc_sstep_build_size(const gpsc_sstep_cond_t *conds, int M, int T, int dO, int dU);

/* Builds the flattened training set of M conditions: rows in the order
 * (condition, sample, step), targets from gpsc_policy_prior_sstep_targets,
 * then the weights of all conditions concatenated normalised together with
 * gpsc_policy_prior_sstep_normalize (README 5.16: "the reference
 * concatenates the conditions along N before normalising"). The four
 * arrays of *data are allocated in the arena and stay valid until the
 * caller frees the arena back past them. Returns 0, GPSC_EINVAL (bad
 * sizes, NULL arrays, or weights that cannot be normalised),
 * GPSC_ENODATA (no rows) or GPSC_ENOSPC. */
int gpsc_sstep_build(gpsc_sstep_data_t *data, const gpsc_sstep_cond_t *conds, int M, int T, int dX,
                     int dO, int dU, gpsc_arena_t *arena);

/* Initialises the weights of net from the keyed generator (seed, 0, 0, 0,
 * GPSC_RNG_NET_INIT), layer by layer in memory order: with
 * cfg->init_std > 0, W ~ N(0, init_std^2) (the reference's Caffe/TF
 * filler, std 0.01); with init_std == 0, uniform on [-a, a] with
 * a = sqrt(6 / fan_in) (He) for layers followed by ReLU and
 * a = sqrt(6 / (fan_in + fan_out)) (Glorot) for tanh layers and the linear
 * output layer. Biases 0, obs_mean 0, obs_scale 1, var = init_var. */
void gpsc_sstep_init_net(gpsc_mlp_t *net, const gpsc_sstep_cfg_t *cfg, uint64_t seed);

/* Observation normalisation, fitted once from the first training data (the
 * reference fits scale and bias on the first S-step and keeps them):
 * obs_mean = column means of obs (N x dO), obs_scale = 1 / max(std, 1e-3)
 * with the population std (ddof 0), both two-pass in row order. Returns 0,
 * GPSC_EINVAL (NULL), GPSC_ENODATA (N < 1) or GPSC_ENONFINITE (net
 * unchanged then). */
int gpsc_sstep_fit_normalization(gpsc_mlp_t *net, const double *obs, int N);

/* Closed-form diagonal variance (README 5.16) of data with ent_reg into
 * net->var: 1 / diag((sum_n tgt_prc_n + 2 N ent_reg) / sum_n tgt_wt_n). */
void gpsc_sstep_set_var(gpsc_mlp_t *net, const gpsc_sstep_data_t *data, double ent_reg);

/* Bytes of arena that gpsc_sstep_train (and so gpsc_sstep_loss and
 * gpsc_sstep_loss_grad with at most batch_size rows) needs for a network of
 * net's shape and N rows. */
size_t gpsc_sstep_scratch_size(const gpsc_mlp_t *net, int N, int batch_size);

/* Full-data weighted loss: *loss = 1/N sum_n 0.5 w_n d_n^T P_n d_n with
 * d_n = mu(o_n) - y_n, mu from gpsc_mlp_forward (the worker's exact
 * forward pass), summed in row order. No decay term. Returns 0,
 * GPSC_EDIM (data dims differ from net), GPSC_ENODATA or GPSC_ENOSPC. */
int gpsc_sstep_loss(double *loss, const gpsc_mlp_t *net, const gpsc_sstep_data_t *data,
                    gpsc_arena_t *arena);

/* Minibatch objective and gradient, as one training step computes them:
 * *obj = J(theta) above over the B rows rows[0..B-1] (decay included), and
 * grad (net->n_params, same layout as net->params) = dJ/dtheta, 0 outside
 * the W/b range. grad may be NULL. Returns 0, GPSC_EDIM, GPSC_EINVAL (B < 1
 * or a row out of range) or GPSC_ENOSPC. */
int gpsc_sstep_loss_grad(double *grad, double *obj, const gpsc_mlp_t *net,
                         const gpsc_sstep_data_t *data, const int *rows, int B, double weight_decay,
                         gpsc_arena_t *arena);

/* What one S-step did. trace/trace_cap are set by the caller (trace may be
 * NULL); train writes the other fields. */
typedef struct gpsc_sstep_stats {
    double loss_before; /* full-data loss (gpsc_sstep_loss) before training */
    double loss_after;  /* and after */
    int iterations;     /* Adam steps taken */
    int epochs;         /* passes begun over the (reshuffled) rows */
    double *trace;      /* caller's buffer: mean minibatch data loss (no decay) of each window
                         * of cfg->trace_every iterations; a last partial window counts */
    int trace_cap;      /* entries trace can hold (windows beyond it are dropped) */
    int trace_len;      /* entries written */
} gpsc_sstep_stats_t;

/* One S-step: cfg->iterations Adam steps on minibatches, then net->var =
 * the closed-form variance (gpsc_sstep_set_var with cfg->ent_reg).
 *
 * Minibatches: each epoch draws a fresh permutation of the N rows
 * (Fisher-Yates from the stream keyed (seed, iteration, 0, 0,
 * GPSC_RNG_MINIBATCH), one stream for the whole S-step) and cuts it into
 * floor(N / B) batches of B = min(batch_size, N) rows; the N mod B rows
 * left over sit out that epoch. (The reference shuffles once per S-step
 * and cycles through the same batches; reshuffling is the usual SGD and
 * keeps every row in play.)
 *
 * Adam, in the form of the reference's Caffe and TF solvers: with
 * t = ++adam->step and g the minibatch gradient,
 *     m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2,
 *     theta -= lr_i sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)
 * with lr_i the (optionally annealed) step size of iteration i.
 *
 * Sets OpenBLAS to one thread (see above): call it from the thread that
 * drives the learner, not while other threads run BLAS.
 *
 * The network's obs_mean/obs_scale are used, not fitted: call
 * gpsc_sstep_fit_normalization before the first S-step.
 *
 * Atomic: on any error net and adam are left exactly as they were.
 * Returns 0, GPSC_EINVAL (cfg, adam->n != net->n_params, negative weight),
 * GPSC_EDIM, GPSC_ENODATA (N < 1), GPSC_ENONFINITE (non-finite data, or
 * training diverged) or GPSC_ENOSPC. stats may be NULL. */
int gpsc_sstep_train(gpsc_mlp_t *net, gpsc_sstep_adam_t *adam, const gpsc_sstep_data_t *data,
                     const gpsc_sstep_cfg_t *cfg, uint64_t seed, uint32_t iteration,
                     gpsc_arena_t *arena, gpsc_sstep_stats_t *stats);

#endif
