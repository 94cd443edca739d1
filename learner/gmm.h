/* gmm.h — Gaussian mixture model: EM fit and the normal-inverse-Wishart
 * prior it gives for a set of query points.
 *
 * This is the GMM behind both priors of the learner (seed 000 B.1 "linear
 * regression with a Gaussian mixture model prior"): the dynamics prior over
 * [x_t, u_t, x_{t+1}] and the policy prior over [x_t, u_t]. The algorithms
 * are specified exactly in ../shared/reference/README.md 5.5 (gmm_em) and
 * 5.6 (gmm_prior), i.e. cbfinn/gps utility/gmm.py, quirks included.
 *
 * Kernels never allocate: scratch comes from the caller's arena (sized with
 * the *_scratch_size functions) and is released before they return. No
 * global state; results do not depend on the thread that runs them. */
#ifndef GPSC_LEARNER_GMM_H
#define GPSC_LEARNER_GMM_H

#include <stddef.h>

#include "common/arena.h"
#include "common/rng.h"

/* A mixture of K Gaussians in D dimensions; the arrays belong to the
 * caller (plain data). */
typedef struct gpsc_gmm {
    int K, D;
    double *mu;      /* (K x D) means */
    double *sigma;   /* (K x D x D) covariances, symmetric positive definite */
    double *logmass; /* (K) log mixing weights */
} gpsc_gmm_t;

/* Normal-inverse-Wishart prior: mean mu0, scatter Phi, strengths m, n0. */
typedef struct gpsc_niw {
    int D;
    double *mu0; /* (D) */
    double *Phi; /* (D x D), not symmetrised (README 5.6) */
    double m;    /* pseudo-count of the mean */
    double n0;   /* pseudo-count of the covariance */
} gpsc_niw_t;

/* Why EM stopped (README 5.5). */
typedef enum gpsc_gmm_stop {
    GPSC_GMM_STOP_MAXITER = 0,  /* ran max_iterations passes */
    GPSC_GMM_STOP_DECREASE = 1, /* log-likelihood went down */
    GPSC_GMM_STOP_CONVERGED = 2 /* the convergence test (gpsc_gmm_rule_t) */
} gpsc_gmm_stop_t;

typedef struct gpsc_gmm_em_info {
    int n_estep;     /* E-steps (loop passes) = entries written to the trace */
    int n_mstep;     /* M-steps performed */
    int stop_reason; /* a gpsc_gmm_stop_t */
    double loglik;   /* last log-likelihood computed (nats) */
    int n_reboot;    /* clusters rebooted, summed over the M-steps */
} gpsc_gmm_em_info_t;

/* E-step: logobs[i,k] = log N(x_i; mu_k, sigma_k) + logmass_k for the M
 * rows of data (M x D), with the lower Cholesky factor of each sigma_k.
 * logobs is (M x K). Returns 0, GPSC_ENOTPD (a sigma_k is not positive
 * definite), GPSC_ENONFINITE or GPSC_ENOSPC. */
int gpsc_gmm_estep(double *logobs, const gpsc_gmm_t *g, const double *data, int M,
                   gpsc_arena_t *arena);
size_t gpsc_gmm_estep_scratch_size(int M, int K, int D);

/* The lower Cholesky factors of every sigma_k, for callers that run many
 * E-steps against one fixed GMM (the dynamics fit and the policy
 * linearisation query it once per time step): L (K x D x D, lower, strictly
 * upper part 0) and hlogdet (K) = sum_j log L_k[j,j] = 0.5 log det sigma_k.
 * gpsc_gmm_chol_doubles(K, D) = K D D + K is the room for both. The factors
 * are exactly those gpsc_gmm_estep computes.
 * Returns 0, GPSC_ENOTPD or GPSC_ENONFINITE. */
size_t gpsc_gmm_chol_doubles(int K, int D);
int gpsc_gmm_chol(double *L, double *hlogdet, const gpsc_gmm_t *g);

/* gpsc_gmm_estep with the factors of gpsc_gmm_chol (L and hlogdet both
 * non-NULL; they must belong to g's current sigma), or both NULL to factor
 * on the fly (= gpsc_gmm_estep). Same scratch size and errors; the result
 * is the same with either. */
int gpsc_gmm_estep_chol(double *logobs, const gpsc_gmm_t *g, const double *L, const double *hlogdet,
                        const double *data, int M, gpsc_arena_t *arena);

/* EM's convergence test (README 5.5 step 3), which stops when
 * |ll - prevll| < tolerance * scale. */
typedef enum gpsc_gmm_rule {
    /* scale = prevll, SIGNED, as the reference: the test never fires while
     * prevll <= 0 (EM then runs to max_iterations unless ll decreases) */
    GPSC_GMM_RULE_REFERENCE = 0,
    /* scale = |prevll|: the intended relative test, for any sign of ll */
    GPSC_GMM_RULE_RELATIVE = 1
} gpsc_gmm_rule_t;

typedef struct gpsc_gmm_em_cfg {
    int max_iterations; /* passes at most (>= 0; the reference's 100) */
    double tolerance;   /* of the convergence test (the reference's 1e-5) */
    int rule;           /* a gpsc_gmm_rule_t */
} gpsc_gmm_em_cfg_t;

/* EM from the parameters in g (warm start), README 5.5: at most
 * cfg->max_iterations passes of E-step, stopping tests (a decrease of ll,
 * or the convergence test of cfg->rule), M-step with the reboot of
 * clusters whose mass is below 1e-4/K, sigma_k = sym(S_k) + 1e-6 I
 * (exactly symmetric). g is updated in place; loglik_trace (room for
 * max_iterations entries, may be NULL) receives one log-likelihood per
 * E-step; info gets the counts. data is (M x D).
 *
 * The arithmetic is README 5.5's up to rounding (BLAS-3 per cluster, the
 * scatter taken around the mean; see gmm.c): the results are the same bits
 * for the same inputs on a machine, not those of gpsc_gmm_estep-based code.
 * Returns 0, or an E-step error (g then holds the last M-step's result). */
int gpsc_gmm_em_run(gpsc_gmm_t *g, gpsc_gmm_em_info_t *info, double *loglik_trace,
                    const gpsc_gmm_em_cfg_t *cfg, const double *data, int M, gpsc_arena_t *arena);

/* gpsc_gmm_em_run with the reference's test: {max_iterations, 1e-5,
 * GPSC_GMM_RULE_REFERENCE} (what the gmm_em vectors specify). */
int gpsc_gmm_em(gpsc_gmm_t *g, gpsc_gmm_em_info_t *info, double *loglik_trace, const double *data,
                int M, int max_iterations, gpsc_arena_t *arena);

/* Arena bytes for either EM entry point. */
size_t gpsc_gmm_em_scratch_size(int M, int K, int D);

/* The reference's initialisation for a fresh fit: each of the M points gets
 * a cluster label drawn uniformly from [0, K) with rng, then
 * mu_k = mean of its points, sigma_k = (1/K) scatter_k + 2e-6 I,
 * logmass_k = log(1/K). A cluster that drew no point gets the mean of all
 * data and (1/K) times the scatter of all data (numpy would give NaN).
 * Returns 0 or GPSC_ENOSPC. */
int gpsc_gmm_init_random(gpsc_gmm_t *g, const double *data, int M, gpsc_rng_t *rng,
                         gpsc_arena_t *arena);
size_t gpsc_gmm_init_scratch_size(int M, int K, int D);

/* NIW prior of the GMM for the query points pts (M x D), README 5.6:
 * cluster weights w_k = mean_i responsibilities (cluster_logwts = log w,
 * may be NULL), mu0 = sum_k w_k mu_k, Phi = m * sum_k w_k (sigma_k +
 * mu_k (mu_k - mu0)^T), m = strength, n0 = strength (N_init - 2 - D) /
 * N_init, where N_init is the number of points the GMM was fitted on.
 * out->mu0 and out->Phi must hold D and D x D doubles; out->D is set.
 * Returns 0 or an E-step error. */
int gpsc_gmm_prior(gpsc_niw_t *out, double *cluster_logwts, const gpsc_gmm_t *g, const double *pts,
                   int M, int N_init, double strength, gpsc_arena_t *arena);
size_t gpsc_gmm_prior_scratch_size(int M, int K, int D);

/* The second half of gpsc_gmm_prior: the same NIW prior from the E-step's
 * logobs (M x K) = gpsc_gmm_estep(g, pts) of the M query points, which is
 * overwritten with the log responsibilities. gpsc_gmm_prior is
 * gpsc_gmm_estep + this; callers that need many priors of one GMM (the
 * dynamics fit, one per time step) run one E-step over the points of
 * several priors and then this per prior. Returns 0 or GPSC_ENOSPC. */
int gpsc_gmm_prior_logobs(gpsc_niw_t *out, double *cluster_logwts, const gpsc_gmm_t *g,
                          double *logobs, int M, int N_init, double strength, gpsc_arena_t *arena);
size_t gpsc_gmm_prior_logobs_scratch_size(int K, int D);

/* logsumexp of n values with stride `stride` (README 3: the max is
 * replaced by 0 when it is -inf). */
double gpsc_gmm_logsumexp(const double *v, int n, int stride);

#endif
