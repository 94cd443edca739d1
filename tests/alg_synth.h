/* alg_synth.h — a synthetic task for the algorithm tests (no MuJoCo).
 *
 * Two actuated joints with damped double-integrator dynamics
 *   qd' = (1 - 0.5 dt) qd + dt g u + 0.01 w,  q' = q + dt qd',
 * g = (2, 1), w ~ N(0, I) keyed (seed, iteration, condition, sample,
 * GPSC_RNG_TEST); state x = [q, qd] (dX 4, dU 2), observation = state.
 * Cost: 0.5 * 1e-2 |u|^2 + 0.5 * 10 |q|^2 (state term), so the learner
 * must bring the joints from the conditions' start to 0. Rollouts act with
 * gpsc_lgpolicy_act and keyed standard-normal noise. */
#ifndef GPSC_TESTS_ALG_SYNTH_H
#define GPSC_TESTS_ALG_SYNTH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/experiment.h"
#include "common/lgpolicy.h"
#include "common/rng.h"
#include "learner/algorithm.h"

#define SYNTH_T 20
#define SYNTH_DT 0.05

static const char synth_yaml_fmt[] =
    "name: synth\n"
    "model: synth.xml\n"
    "T: 20\n"
    "dt: 0.05\n"
    "state:\n"
    "  joints: all\n"
    "action:\n"
    "  actuators: all\n"
    "conditions:\n"
    "  train:\n"
    "    - qpos: [0.8, -0.5]\n"
    "    - qpos: [-0.6, 0.4]\n"
    "    - qpos: [0.3, 0.7]\n"
    "cost:\n"
    "  - type: action\n"
    "    wu: 1.0e-2\n"
    "  - type: state\n"
    "    indices: [0, 1]\n"
    "    target: 0.0\n"
    "    wp: 10.0\n"
    "    l2: 1.0\n"
    "    norm: l2\n"
    "init_controller:\n"
    "  type: init_pd\n"
    "  init_var: 1.0\n"
    "algorithm:\n"
    "  type: %s\n"
    "  samples: 5\n"
    "  seed: 7\n"
    "  kl_step: 0.5\n"
    "  max_step_mult: 3.0\n"
    "  dynamics:\n"
    "    prior: {max_clusters: 4, min_samples_per_cluster: 20, max_samples: 10}\n"
    "  policy_prior: {max_clusters: 4, min_samples_per_cluster: 20, max_samples: 10}\n"
    "network:\n"
    "  hidden: [8]\n"
    "  iterations: 40\n"
    "  batch_size: 16\n";

/* loads and resolves the synthetic experiment for algorithm `alg`
 * ("trajopt" or "mdgps"); 0 or an error code */
static int synth_experiment(gpsc_experiment_t *exp, const char *alg, char *err, size_t errsz)
{
    char text[4096];
    snprintf(text, sizeof text, synth_yaml_fmt, alg);
    int rc = gpsc_experiment_load_string(text, strlen(text), "synth.yaml", ".", exp, err, errsz);
    if (rc)
        return rc;
    static const char *const joints[] = {"j0", "j1"};
    static const int jnq[] = {1, 1}, jsc[] = {1, 1};
    static const char *const acts[] = {"a0", "a1"};
    gpsc_exp_model_info_t info = {.nq = 2, .nv = 2, .nu = 2, .nsensordata = 0, .njnt = 2,
                                  .joint_names = joints, .joint_nq = jnq, .joint_scalar = jsc,
                                  .actuator_names = acts, .nsite = 0, .site_names = NULL,
                                  .site_targets = NULL};
    return gpsc_experiment_resolve(exp, &info, err, errsz);
}

/* the samples of one iteration: (M x N) trajectories and their views */
typedef struct synth_batch {
    int M, N;
    double *X, *U;          /* (M N x T x 4), (M N x T x 2) */
    gpsc_alg_sample_t *view; /* (M N) */
} synth_batch_t;

static int synth_batch_init(synth_batch_t *b, int M, int N)
{
    size_t n = (size_t)M * N * SYNTH_T;
    b->M = M;
    b->N = N;
    b->X = calloc(n * 4, sizeof(double));
    b->U = calloc(n * 2, sizeof(double));
    b->view = calloc((size_t)M * N, sizeof *b->view);
    return b->X && b->U && b->view ? 0 : -1;
}

static void synth_batch_free(synth_batch_t *b)
{
    free(b->X);
    free(b->U);
    free(b->view);
    memset(b, 0, sizeof *b);
}

/* one rollout of policy p from the condition's start, keyed */
static void synth_rollout(double *X, double *U, const gpsc_lgpolicy_t *p, const double *q0,
                          uint64_t seed, uint32_t it, uint32_t m, uint32_t n)
{
    static const double g[2] = {2.0, 1.0};
    gpsc_rng_t r;
    gpsc_rng_init5(&r, seed, it, m, n, GPSC_RNG_TEST);
    double x[4] = {q0[0], q0[1], 0.0, 0.0};
    for (int t = 0; t < SYNTH_T; t++) {
        double eps[2], w[2], u[2];
        gpsc_rng_normals(&r, eps, 2);
        gpsc_rng_normals(&r, w, 2);
        memcpy(X + t * 4, x, sizeof x);
        gpsc_lgpolicy_act(u, p, t, x, eps);
        memcpy(U + t * 2, u, sizeof u);
        for (int j = 0; j < 2; j++) {
            double qd = (1.0 - 0.5 * SYNTH_DT) * x[2 + j] + SYNTH_DT * g[j] * u[j] + 0.01 * w[j];
            x[j] = x[j] + SYNTH_DT * qd;
            x[2 + j] = qd;
        }
    }
}

/* samples every (m, n) of the next iteration under the algorithm's current
 * controllers into b */
static void synth_sample(synth_batch_t *b, const gpsc_alg_t *alg, const gpsc_experiment_t *exp)
{
    int it = gpsc_alg_iteration_count(alg);
    for (int m = 0; m < b->M; m++)
        for (int n = 0; n < b->N; n++) {
            size_t i = (size_t)m * b->N + n;
            double *X = b->X + i * SYNTH_T * 4, *U = b->U + i * SYNTH_T * 2;
            synth_rollout(X, U, gpsc_alg_policy(alg, m), exp->train[m].qpos.v, exp->algo.seed,
                          (uint32_t)it, (uint32_t)m, (uint32_t)n);
            /* observation = state */
            b->view[i] = (gpsc_alg_sample_t){SYNTH_T, 4, 2, 4, 0, 2, X, U, X, NULL, NULL};
        }
}

/* a new algorithm object with the initial controllers (K = 0, k = 0,
 * covariance 0.5 I) set */
static gpsc_alg_t *synth_alg(const gpsc_experiment_t *exp, int threads, char *err, size_t errsz)
{
    gpsc_alg_opts_t o = {.threads = threads};
    gpsc_alg_t *alg = gpsc_alg_new(exp, &o, err, errsz);
    if (!alg)
        return NULL;
    gpsc_lgpolicy_t *p = gpsc_lgpolicy_new(SYNTH_T, 4, 2);
    double cov[4] = {0.5, 0, 0, 0.5};
    int rc = p ? 0 : -1;
    for (int t = 0; rc == 0 && t < SYNTH_T; t++)
        rc = gpsc_lgpolicy_set_covar(p, t, cov);
    for (int m = 0; rc == 0 && m < exp->n_train; m++)
        rc = gpsc_alg_set_initial_policy(alg, m, p, err, errsz);
    gpsc_lgpolicy_destroy(&p);
    if (rc)
        gpsc_alg_destroy(&alg);
    return alg;
}

/* runs `iters` iterations; 0 or the first error */
static int synth_run(gpsc_alg_t *alg, const gpsc_experiment_t *exp, synth_batch_t *b, int iters,
                     char *err, size_t errsz)
{
    for (int k = 0; k < iters; k++) {
        synth_sample(b, alg, exp);
        int rc = gpsc_alg_iteration(alg, b->view, b->M * b->N, err, errsz);
        if (rc)
            return rc;
    }
    return 0;
}

/* the encoded checkpoint of alg (malloc'd bytes) */
static int synth_encode(uint8_t **buf, size_t *len, const gpsc_alg_t *alg, char *err, size_t errsz)
{
    gpsc_checkpoint_t *ck = gpsc_checkpoint_new();
    if (!ck)
        return -1;
    int rc = gpsc_alg_save(alg, ck, "fnv1a64:0000000000000000", "synth-s7-00000000", "", err,
                           errsz);
    if (rc == 0)
        rc = gpsc_checkpoint_encode(buf, len, ck, err, errsz);
    gpsc_checkpoint_destroy(&ck);
    return rc;
}

#endif
