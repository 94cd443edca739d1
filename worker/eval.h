/* eval.h — evaluation of a trained policy (`gpsc eval`): rollouts of the
 * global network or of the local linear-Gaussian controllers on a set of
 * conditions, in this process on a pool of threads, and the results as
 * the "gpsc-eval/1" JSON that `gpsc report` renders (coordinator/report.h).
 *
 * Keys. Rollout n of condition c is keyed (run seed, GPSC_EVAL_ITERATION,
 * c, n). Training iterations are ints >= 0, so their keys never reach
 * GPSC_EVAL_ITERATION (> INT_MAX): the evaluation's exploration and
 * initial-state noise never repeat a training draw, and the same run,
 * condition and sample index give the same noise for every checkpoint
 * (paired comparisons of checkpoints). A noiseless rollout uses the mean
 * action and no initial-state noise (worker/rollout.h), so its key does not
 * matter.
 *
 * Determinism. Each condition is one task of a gpsc_pool; every pool worker
 * owns its env (a MuJoCo model of its own) and writes only its condition's
 * result, so results do not depend on the thread count or on scheduling.
 * Library code: nothing here prints. */
#ifndef GPSC_WORKER_EVAL_H
#define GPSC_WORKER_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/experiment.h"
#include "common/lgpolicy.h"
#include "common/mlp.h"
#include "worker/rollout.h"

/* key iteration of every evaluation rollout */
#define GPSC_EVAL_ITERATION 0xE7A10000u

/* most rollouts per condition */
#define GPSC_EVAL_MAX_SAMPLES 10000

/* What to evaluate. */
typedef struct gpsc_eval_cfg {
    gpsc_policy_kind_t policy; /* GLOBAL: net; LOCAL: local[c] (train conditions only) */
    bool noiseless;            /* mean actions, no initial-state noise */
    int samples;               /* rollouts per condition, 1..GPSC_EVAL_MAX_SAMPLES */
    int threads;               /* pool workers >= 1 (results do not depend on it) */
    uint64_t seed;             /* run seed of the keys */
    int max_paths;             /* end-effector paths kept per condition (0: none) */
} gpsc_eval_cfg_t;

/* The evaluation of one condition. */
typedef struct gpsc_eval_result {
    int condition;         /* global numbering: train 0..n_train-1, then test */
    bool test;             /* a held-out condition */
    int rollouts;          /* rollouts run */
    int failed;            /* of them with a failed simulation (status != 0): they count
                              as unsuccessful and are left out of the means */
    double mean_cost;      /* mean over the good rollouts of sum_t l(x_t, u_t); NaN if none */
    double cost_std;       /* population std of the same */
    double final_distance; /* mean |ee_p(T-1) - target_p| (m), p = the metric's point
                              (0 for other metrics); NaN when P = 0 or none was good */
    double metric_value;   /* mean of the success metric's value (m or state units); NaN
                              without a metric or a good rollout */
    int successes;         /* rollouts meeting the success metric; -1 without a metric */
    int n_paths, T;        /* paths kept (<= max_paths, good rollouts only), steps */
    double *ee;            /* (n_paths x T x 3) world position of point p (m); owned */
    char reason[GPSC_REASON_MAX]; /* the first failed rollout's reason, or "" */
} gpsc_eval_result_t;

/* Runs cfg->samples rollouts on each of the n conditions conds[i] (global
 * numbering) into out[i] (n entries, overwritten; free each with
 * gpsc_eval_result_free, also after an error). exp must be resolved
 * (worker/env.h). GLOBAL needs net (dO, dU of the task); LOCAL needs
 * local[c] for every evaluated c, which must all be training conditions
 * (local has exp->n_train entries, T, dX, dU of the task). A failed
 * simulation is a result, not an error. Returns 0, GPSC_EINVAL / GPSC_EDIM /
 * GPSC_ERANGE (bad arguments: err says which), GPSC_EMODEL / GPSC_ENOENT
 * (the model did not load), or GPSC_ENOMEM. */
int gpsc_eval_run(gpsc_eval_result_t *out, const gpsc_experiment_t *exp, const gpsc_eval_cfg_t *cfg,
                  const gpsc_mlp_t *net, const gpsc_lgpolicy_t *const *local, const int *conds,
                  int n, char *err, size_t errsz);

/* Frees r->ee and zeroes *r; accepts NULL. */
void gpsc_eval_result_free(gpsc_eval_result_t *r);

/* What the JSON says about the evaluated checkpoint. */
typedef struct gpsc_eval_info {
    const char *checkpoint; /* path relative to the run directory, "checkpoints/iter_NNNN.pb" */
    int iteration;          /* iterations the checkpoint holds */
    const char *run_id;     /* may be NULL */
} gpsc_eval_info_t;

/* The "gpsc-eval/1" document (coordinator/report.h) for the results res
 * (n entries, evaluated with cfg), merged into the existing document
 * old_json (NULL or "" for none): old results for the same checkpoint whose
 * (policy, split) differs from every new result's are kept, the others are
 * replaced; when old_json is for another checkpoint, is not a gpsc-eval/1
 * object or does not parse, none of it is kept. *kept (may be NULL) gets the
 * old results kept, *dropped those replaced or discarded. Results are sorted
 * by (split: train first, condition, policy, noiseless), so the document
 * does not depend on the order of the evaluations that built it. Beside the
 * documented fields the document carries "run_id" (when given), "seed" (of
 * the keys) and, for a metric on the state, "index"; each result carries
 * "cost_std", "metric_value" and "failed". The paths' coordinates are
 * rounded to 1e-6 m. One result per line. Returns the malloc'd text (ending
 * in a newline), or NULL when out of memory. */
char *gpsc_eval_json(const char *old_json, const gpsc_experiment_t *exp,
                     const gpsc_eval_info_t *info, const gpsc_eval_cfg_t *cfg,
                     const gpsc_eval_result_t *res, int n, int *kept, int *dropped);

#endif
