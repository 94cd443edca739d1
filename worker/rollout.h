/* rollout.h — one rollout of a task under a policy, as a pure function of
 * (model, condition, policy, key).
 *
 * Key: (run seed, iteration, condition, sample index). The exploration
 * noise eps (T x dU) is common/noise.h's draw for that key
 * (GPSC_RNG_ROLLOUT_NOISE); the initial-state noise is nq+nv standard
 * normals from the stream with purpose GPSC_RNG_X0_NOISE (used only when
 * the condition has x0_noise). A noiseless rollout (evaluation) uses the
 * mean action and no initial-state noise.
 *
 * For t = 0..T-1: observe x_t, o_t, ee_t, J_t; u_t = policy(x_t or o_t,
 * eps_t); step the environment with u_t unless t = T-1 (the last action is
 * recorded, not applied: T states and T actions, as in the reference).
 * Local (linear-Gaussian) policies act on x, the global network on o.
 *
 * A rollout that meets an unstable simulation or a non-finite action is a
 * failed sample (status != 0, reason set, arrays not to be used), never data. */
#ifndef GPSC_WORKER_ROLLOUT_H
#define GPSC_WORKER_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/lgpolicy.h"
#include "common/mlp.h"
#include "worker/env.h"

typedef enum gpsc_policy_kind {
    GPSC_POLICY_LOCAL = 1, /* linear-Gaussian on x (wire: POLICY_LOCAL) */
    GPSC_POLICY_GLOBAL = 2 /* the network on o (wire: POLICY_GLOBAL) */
} gpsc_policy_kind_t;

/* What to act with; both pointers borrowed. */
typedef struct gpsc_rollout_policy {
    gpsc_policy_kind_t kind;
    const gpsc_lgpolicy_t *lg; /* LOCAL: T, dX, dU must match the task */
    const gpsc_mlp_t *mlp;     /* GLOBAL: dO, dU must match the task */
    uint32_t version;          /* echoed into the sample */
} gpsc_rollout_policy_t;

typedef struct gpsc_rollout_key {
    uint64_t seed; /* run seed */
    uint32_t iteration;
    uint32_t condition; /* train 0..n_train-1, test n_train.. */
    uint32_t sample;    /* sample index within (iteration, condition) */
} gpsc_rollout_key_t;

#define GPSC_REASON_MAX 256

/* One trajectory. Arrays are owned (gpsc_sample_new), row-major, step-major. */
typedef struct gpsc_sample {
    int T, dX, dU, dO, P, dQ;
    int dC; /* cost terms in `costs` (= experiment cost terms) */
    gpsc_rollout_key_t key;
    gpsc_policy_kind_t policy_kind;
    uint32_t policy_version;
    bool noiseless;
    int status;                   /* 0, or the GPSC_E* code of the failure */
    int fail_step;                /* control step of the failure, -1 when none */
    char reason[GPSC_REASON_MAX]; /* human text when status != 0 */
    double *X;                    /* (T x dX) states */
    double *U;                    /* (T x dU) actions */
    double *O;                    /* (T x dO) observations */
    double *ee;                   /* (T x P) end-effector points, world frame (m) */
    double *jac;                  /* (T x P x dQ) d ee / d q */
    double *eps;                  /* (T x dU) the exploration noise used (0 when noiseless) */
    double *costs;                /* (T x dC) weight_i * term_i(x_t, u_t) */
    double *target;               /* (P) the condition's FK target (m) */
    double rollout_s;             /* (s) wall time of the rollout */
    double sim_s;                 /* (s) of it inside MuJoCo */
    double policy_s;              /* (s) of it outside MuJoCo (noise, actions, state) */
} gpsc_sample_t;

/* A sample with room for the dims of a resolved experiment. NULL when out
 * of memory. */
gpsc_sample_t *gpsc_sample_new(const gpsc_exp_dims_t *d, int T, int dC);
void gpsc_sample_destroy(gpsc_sample_t **p);

/* Runner: an env plus scratch sized once (no allocation per step). */
typedef struct gpsc_rollout gpsc_rollout_t;

/* Borrows env (which must outlive the runner). NULL when out of memory. */
gpsc_rollout_t *gpsc_rollout_new(gpsc_env_t *env);
void gpsc_rollout_destroy(gpsc_rollout_t **p);

/* Runs one rollout into out (made by gpsc_sample_new for this env's dims).
 * Returns 0 when the rollout ran (out->status then says whether it
 * succeeded: 0, GPSC_ESIM, GPSC_ENONFINITE), or GPSC_EDIM / GPSC_EINVAL
 * when the policy or sample does not fit the task, GPSC_ERANGE for a bad
 * condition, GPSC_ENOMEM; err says why. */
int gpsc_rollout_run(gpsc_rollout_t *r, gpsc_sample_t *out, const gpsc_rollout_policy_t *pol,
                     const gpsc_rollout_key_t *key, bool noiseless, char *err, size_t errsz);

/* The env the runner uses. */
gpsc_env_t *gpsc_rollout_env(gpsc_rollout_t *r);

/* Success metric of the experiment on a finished sample: *value gets the
 * metric (distance in m, or the state value) and the return value is 1
 * (success), 0 (not), or -1 (no metric configured / failed sample). */
int gpsc_rollout_success(const gpsc_experiment_t *exp, const gpsc_sample_t *s, double *value);

/* Distance (m) between ee point p of step t and the target's point p. */
double gpsc_rollout_ee_distance(const gpsc_sample_t *s, int t, int p);

#endif
