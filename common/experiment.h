/* experiment.h — one experiment: a task (MuJoCo model, conditions, costs)
 * plus the algorithm, network and cluster settings, read from one YAML file.
 *
 * The file is parsed with common/config.h: every key below is checked for
 * type and range, unknown keys are errors, and every error reads
 * "file:line:column: message". Relative paths (the model) are resolved
 * against the directory of the YAML file.
 *
 * Two stages:
 *   1. gpsc_experiment_load() reads the file. Everything that can be
 *      checked without the model is checked here.
 *   2. gpsc_experiment_resolve() is given the dimensions the model implies
 *      (worker/env.h: gpsc_env_resolve_experiment() loads the model and calls
 *      it) and checks every per-dimension vector against them, broadcasts
 *      scalars ("wu: 1e-3" becomes one entry per action dimension), fills
 *      the condition targets from `target_sites` and fills `dims`.
 * gpsc_experiment_write() prints the experiment back as YAML that loads to
 * the same values (doubles with 17 significant digits); after resolve the
 * written file names every joint, site and target explicitly, which is what
 * a run directory keeps.
 *
 * Layout of the whole file (defaults in brackets, units in parentheses):
 *
 *   name: peg7                       # required; [A-Za-z0-9_.-]+
 *   model: peg7.xml                  # required; MJCF path (relative to this file)
 *   T: 100                           # required; control steps per rollout
 *   dt: 0.05                         # required; (s) per control step; the model's
 *                                    #   timestep is set to dt/substeps
 *   substeps: 5                      # [1] mj_step calls per control step
 *   state:
 *     joints: all                    # [all] or [names]: sets qpos_joints and qvel_joints
 *                                    #   (an unnamed MJCF element is called "#<id>")
 *     qpos_joints: [names]           # [= joints] joints whose qpos enter x (in this order)
 *     qvel_joints: [names]           # [= joints] joints whose qvel enter x
 *     ee_sites: [peg_tip, peg_top]   # [none] end-effector point sites (3 coords each)
 *     ee_velocities: true            # [true when ee_sites given] include ee point velocities
 *     ee_velocity_mode: finite_difference  # [finite_difference] (ee_t - ee_{t-1})/dt, 0 at
 *                                    #   t = 0 (the reference's), or jacobian: J qvel
 *     ee_relative_to_target: false   # [false] ee points in x are (site - target)
 *   observation: [qpos, qvel, ee, ee_vel]  # [the state blocks] blocks, in order, from:
 *                                    #   qpos qvel ee ee_vel target sensors
 *   action:
 *     actuators: all                 # [all] or [names]; torque limits are the model's ctrlrange
 *   (init_controller acts on the position and velocity of each actuator's joint,
 *    which must be in the state; see worker/initctl.h)
 *   target_sites: [slot_bottom, slot_top]  # [none] sites whose world positions (after the
 *                                    #   condition's body offsets) are the FK target; one per
 *                                    #   ee site
 *   conditions:
 *     defaults:                      # [none] fields every condition starts from
 *       qpos: [..]                   # [model qpos0] initial qpos (nq) (rad or m)
 *       qvel: [..]                   # [zeros] initial qvel (nv) (rad/s or m/s)
 *       body_offsets: {slot: [0.1, 0.1, 0]}  # [none] (m) added to the bodies' pos
 *       target: [..]                 # [from target_sites] FK target points (P = 3 per site) (m)
 *       x0_noise: 0.0                # [0] std of Gaussian noise on initial qpos,qvel:
 *                                    #   a scalar or nq+nv entries
 *     train: [ {condition}, ... ]    # required, >= 1 entries, each like `defaults`
 *     test:  [ {condition}, ... ]    # [none] held-out conditions
 *   cost:                            # required, >= 1 terms, summed with their weights
 *     - type: action                 # 0.5 * sum_i wu_i u_i^2                  (README 5.2)
 *       weight: 1.0                  # [1]
 *       wu: [..]                     # required; scalar or dU entries
 *     - type: fk                     # end-effector points vs the condition's target (5.1)
 *       wp: [..]                     # [1] scalar or P entries
 *       l1: 0.1                      # [0]
 *       l2: 10.0                     # [1]
 *       alpha: 1e-5                  # [1e-5]
 *       norm: logl2                  # [l1l2] l1l2 | logl2 | l2
 *       ramp: constant               # [constant] constant | linear | quadratic | final_only
 *       wp_final_multiplier: 1.0     # [1]
 *     - type: state                  # selected entries of x vs fixed targets (cost_state)
 *       indices: [..]                # required; indices into x
 *       target: [..]                 # [0] scalar or one per index
 *       wp: [..]                     # [1] scalar or one per index
 *       l1, l2, alpha, norm, ramp, wp_final_multiplier   # as for fk
 *   init_controller:                 # required
 *     type: init_lqr                 # init_lqr (README 5.17) | init_pd
 *     init_var: 5.0                  # [1] initial action variance
 *     stiffness: 1.0                 # [1]   (init_lqr)
 *     stiffness_vel: 0.5             # [0.5] (init_lqr)
 *     final_weight: 50.0             # [1]   (init_lqr)
 *     init_gains: [..]               # [1] scalar or dU entries (init_lqr)
 *     init_acc: [..]                 # [0] scalar or dU entries (init_lqr)
 *     pos_gains: 10.0                # [0.001] (init_pd) u = -pos_gains (q - q0) - ...
 *     vel_gains_mult: 0.01           # [0.01]  (init_pd) ... pos_gains*vel_gains_mult*qd
 *                                    #   (q, qd: each actuator's joint; pos_gains 0 gives
 *                                    #   pure noise, for actuators without a joint)
 *   noise:
 *     smooth: true                   # [true] Gaussian-filter the noise in time
 *     sigma: 2.0                     # [2.0] filter std (control steps)
 *     renormalize: true              # [true] rescale each dimension to unit variance
 *   success:
 *     metric: final_ee_distance      # [none] none | final_ee_distance | min_ee_distance |
 *                                    #   final_state_above | final_state_below |
 *                                    #   mean_state_above
 *     point: 0                       # [0] ee point (site) index for *_ee_distance
 *     index: 0                       # [0] state index for *_state_*
 *     threshold: 0.06                # required unless none; (m) or state units
 *   algorithm:
 *     type: mdgps                    # [mdgps] mdgps | gps2014 | trajopt
 *     iterations: 12                 # [10]
 *     samples: 5                     # [5] samples per condition per iteration
 *     test_samples: 1                # [1] samples per test condition when evaluating
 *     seed: 1                        # [0] run seed (every random draw is keyed by it)
 *     kl_step: 2.0                   # [2.0] base KL step epsilon (per step, times T)
 *     min_step_mult: 0.01            # [0.01]
 *     max_step_mult: 1.0             # [10.0]
 *     step_rule: classic             # [classic] classic | global   (seed 000 B.3)
 *     sampling: off_policy           # [off_policy] off_policy (local LG) | on_policy (network)
 *     cstep:
 *       eta_init: 1.0  min_eta: 1e-8  max_eta: 1e16  del0: 1e-4
 *       max_iterations: 50  kl_tolerance: 0.1    # relative KL tolerance of the dual search
 *     dynamics:
 *       regularization: 1e-6         # [1e-6] sig_reg of the regression (README 5.7)
 *       initial_state_var: 1e-6      # [1e-6]
 *       prior: {max_clusters: 20, min_samples_per_cluster: 40, max_samples: 20, strength: 1.0}
 *       # the prior's EM (also accepted in policy_prior): em_iterations [100] passes at
 *       # most; em_stop [relative] reference | relative with em_tolerance [1e-5]:
 *       # stop when |ll - prevll| < em_tolerance * |prevll| (relative) or
 *       # < em_tolerance * prevll, signed, as cbfinn/gps (reference: never fires
 *       # while prevll <= 0); see docs/numerics.md
 *     policy_prior:
 *       {max_clusters: 20, min_samples_per_cluster: 40, max_samples: 20, strength: 1.0,
 *        regularization: 1e-8}
 *     gps2014:
 *       init_pol_wt: 0.01            # [0.01] initial lambda_t (seed 003)
 *       policy_dual_rate: 0.1        # [0.1] lambda_t update rate
 *       inner_iterations: 4          # [4]
 *   network:
 *     hidden: [42, 42]               # [[42, 42]] hidden layer widths
 *     activation: relu               # [relu] relu | tanh
 *     iterations: 3000               # [3000] S-step minibatch updates per iteration
 *     batch_size: 25                 # [25]
 *     learning_rate: 1e-3            # [1e-3] Adam step size
 *     weight_decay: 5e-3             # [5e-3] L2 penalty
 *     init_var: 0.1                  # [0.1] initial diagonal action variance
 *     ent_reg: 0.0                   # [0] entropy regulariser of the covariance (README 5.16)
 *   cluster:
 *     workers: 2                     # [2] local worker processes for `gpsc run`
 *     task_timeout: 60.0             # [60] (s) a rollout task not answered is re-issued
 *     heartbeat_interval: 1.0        # [1.0] (s)
 *     heartbeat_liveness: 5          # [5] missed heartbeats before a peer is dead
 *
 * Condition numbering (used in random-number keys and on the wire): train
 * conditions are 0..n_train-1, test conditions n_train..n_train+n_test-1. */
#ifndef GPSC_EXPERIMENT_H
#define GPSC_EXPERIMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define GPSC_EXP_NAME_MAX 64 /* bytes of a MuJoCo name, with the NUL */

/* A vector read from YAML: n entries (a scalar is n = 1 until resolve
 * broadcasts it). line/column point at the value for later messages
 * (0 when the vector is a default). v is NULL when n = 0. */
typedef struct gpsc_exp_vec {
    int n;
    double *v;
    int line, column;
} gpsc_exp_vec_t;

/* A list of MuJoCo names, or "all". */
typedef struct gpsc_exp_names {
    bool all; /* "all" (n = 0 and names NULL until resolve) */
    int n;
    char **names; /* n strings */
    int line, column;
} gpsc_exp_names_t;

typedef enum gpsc_exp_cost_type {
    GPSC_EXP_COST_ACTION = 0,
    GPSC_EXP_COST_FK = 1,
    GPSC_EXP_COST_STATE = 2
} gpsc_exp_cost_type_t;

typedef enum gpsc_exp_norm {
    GPSC_EXP_NORM_L1L2 = 0,  /* 0.5 l2 sum W d^2 + l1 sqrt(alpha + sum (W d)^2)  (README 5.1) */
    GPSC_EXP_NORM_LOGL2 = 1, /* 0.5 l2 sum W d^2 + 0.5 l1 log(alpha + sum (W d)^2) */
    GPSC_EXP_NORM_L2 = 2     /* 0.5 l2 sum W d^2 */
} gpsc_exp_norm_t;

typedef enum gpsc_exp_ramp {
    GPSC_EXP_RAMP_CONSTANT = 0,
    GPSC_EXP_RAMP_LINEAR = 1,    /* (t+1)/T */
    GPSC_EXP_RAMP_QUADRATIC = 2, /* ((t+1)/T)^2 */
    GPSC_EXP_RAMP_FINAL_ONLY = 3 /* 0 before T-1, 1 at T-1 */
} gpsc_exp_ramp_t;

/* Most entries one cost vector (wu, wp, target, indices) may have after
 * resolve (the learner's GPSC_COST_MAXDIM). */
#define GPSC_EXP_COST_MAXDIM 64

/* One cost term; the total cost is sum_i weight_i * term_i. The numbering
 * of type/norm/ramp follows the YAML names, not learner/cost.h: convert by
 * name or with a switch. */
typedef struct gpsc_exp_cost {
    gpsc_exp_cost_type_t type;
    double weight;              /* multiplier in the sum [1] */
    gpsc_exp_vec_t wu;          /* action: (dU) after resolve */
    gpsc_exp_vec_t wp;          /* fk: (P); state: (n indices) after resolve */
    double l1, l2, alpha;       /* fk/state norm parameters [0, 1, 1e-5] */
    gpsc_exp_norm_t norm;       /* fk/state [l1l2] */
    gpsc_exp_ramp_t ramp;       /* fk/state [constant] */
    double wp_final_multiplier; /* fk/state: r[T-1] *= this [1] */
    int n_indices;              /* state: entries of x the term reads */
    int *indices;               /* state: (n_indices) indices into x */
    gpsc_exp_vec_t target;      /* state: (n_indices) after resolve */
    int line, column;           /* where the term starts */
} gpsc_exp_cost_t;

typedef struct gpsc_exp_offset {
    char body[GPSC_EXP_NAME_MAX]; /* body name in the model */
    double pos[3];                /* (m) added to the body's pos */
} gpsc_exp_offset_t;

/* One condition: what a rollout starts from. */
typedef struct gpsc_exp_condition {
    gpsc_exp_vec_t qpos; /* (nq) initial qpos; n = 0: the model's qpos0 */
    gpsc_exp_vec_t qvel; /* (nv) initial qvel; n = 0: zeros */
    int n_offsets;
    gpsc_exp_offset_t *offsets; /* (n_offsets) body position offsets */
    gpsc_exp_vec_t target;      /* (P) FK target points (m); filled by resolve when
                                   target_sites are given and the YAML has none */
    gpsc_exp_vec_t x0_noise;    /* (nq+nv) std of initial-state noise after resolve;
                                   n = 0: no noise */
    int line, column;
} gpsc_exp_condition_t;

typedef enum gpsc_exp_ee_vel_mode {
    GPSC_EXP_EE_VEL_FD = 0,      /* (ee_t - ee_{t-1}) / dt, zero at t = 0 (reference) */
    GPSC_EXP_EE_VEL_JACOBIAN = 1 /* J(q_t) qvel_t, exact */
} gpsc_exp_ee_vel_mode_t;

typedef enum gpsc_exp_obs_block {
    GPSC_EXP_OBS_QPOS = 0,   /* the state's qpos entries */
    GPSC_EXP_OBS_QVEL = 1,   /* the state's qvel entries */
    GPSC_EXP_OBS_EE = 2,     /* the state's ee points (P) */
    GPSC_EXP_OBS_EE_VEL = 3, /* the state's ee point velocities (P) */
    GPSC_EXP_OBS_TARGET = 4, /* the condition's target (P) */
    GPSC_EXP_OBS_SENSORS = 5 /* mjData.sensordata (nsensordata) */
} gpsc_exp_obs_block_t;

#define GPSC_EXP_MAX_OBS_BLOCKS 8

typedef enum gpsc_exp_init_type {
    GPSC_EXP_INIT_LQR = 0, /* README 5.17 */
    GPSC_EXP_INIT_PD = 1   /* K = -pos_gains [I, vel_gains_mult I, 0], k = -K x0 */
} gpsc_exp_init_type_t;

typedef struct gpsc_exp_init {
    gpsc_exp_init_type_t type;
    double init_var;           /* initial action variance [1] */
    double stiffness;          /* init_lqr [1] */
    double stiffness_vel;      /* init_lqr [0.5] */
    double final_weight;       /* init_lqr [1] */
    gpsc_exp_vec_t init_gains; /* init_lqr (dU) after resolve [1] */
    gpsc_exp_vec_t init_acc;   /* init_lqr (dU) after resolve [0] */
    double pos_gains;          /* init_pd [0.001] */
    double vel_gains_mult;     /* init_pd [0.01] */
} gpsc_exp_init_t;

typedef struct gpsc_exp_noise {
    bool smooth;      /* Gaussian filter along time per action dimension [true] */
    double sigma;     /* filter std in control steps [2.0] */
    bool renormalize; /* rescale each dimension to unit sample variance [true] */
} gpsc_exp_noise_t;

typedef enum gpsc_exp_metric {
    GPSC_EXP_METRIC_NONE = 0,
    GPSC_EXP_METRIC_FINAL_EE_DISTANCE = 1, /* |ee_p(T-1) - target_p| <= threshold */
    GPSC_EXP_METRIC_MIN_EE_DISTANCE = 2,   /* min_t |ee_p(t) - target_p| <= threshold */
    GPSC_EXP_METRIC_FINAL_STATE_ABOVE = 3, /* x_index(T-1) >= threshold */
    GPSC_EXP_METRIC_FINAL_STATE_BELOW = 4, /* x_index(T-1) <= threshold */
    GPSC_EXP_METRIC_MEAN_STATE_ABOVE = 5   /* mean_t x_index(t) >= threshold */
} gpsc_exp_metric_t;

typedef struct gpsc_exp_success {
    gpsc_exp_metric_t metric; /* [none] */
    int point;                /* ee point (site) index [0] */
    int index;                /* state index [0] */
    double threshold;         /* (m) or state units */
    int line, column;         /* where `success` is (0 when absent) */
} gpsc_exp_success_t;

typedef enum gpsc_exp_algorithm {
    GPSC_EXP_ALG_MDGPS = 0,
    GPSC_EXP_ALG_GPS2014 = 1,
    GPSC_EXP_ALG_TRAJOPT = 2
} gpsc_exp_algorithm_t;

typedef enum gpsc_exp_step_rule {
    GPSC_EXP_STEP_CLASSIC = 0,
    GPSC_EXP_STEP_GLOBAL = 1
} gpsc_exp_step_rule_t;

typedef enum gpsc_exp_sampling {
    GPSC_EXP_SAMPLE_OFF_POLICY = 0, /* rollouts under the local LG controllers */
    GPSC_EXP_SAMPLE_ON_POLICY = 1   /* rollouts under the global network */
} gpsc_exp_sampling_t;

/* The convergence test of a prior's EM (learner/gmm.h gpsc_gmm_rule_t). */
typedef enum gpsc_exp_em_stop {
    GPSC_EXP_EM_STOP_REFERENCE = 0, /* |ll - prevll| < tol * prevll (signed, as cbfinn/gps) */
    GPSC_EXP_EM_STOP_RELATIVE = 1   /* |ll - prevll| < tol * |prevll| */
} gpsc_exp_em_stop_t;

/* GMM prior settings (dynamics and policy linearisation). */
typedef struct gpsc_exp_prior {
    int max_clusters;            /* [20] */
    int min_samples_per_cluster; /* [40] */
    int max_samples;             /* [20] trajectories kept in the prior's dataset */
    double strength;             /* [1.0] */
    double regularization;       /* sig_reg: dynamics 1e-6 (in `dynamics`), policy 1e-8 */
    int em_iterations;           /* [100] EM passes at most per fit */
    double em_tolerance;         /* [1e-5] EM convergence tolerance */
    gpsc_exp_em_stop_t em_stop;  /* [relative] EM convergence test */
} gpsc_exp_prior_t;

typedef struct gpsc_exp_cstep {
    double eta_init;     /* [1.0] */
    double min_eta;      /* [1e-8] */
    double max_eta;      /* [1e16] */
    double del0;         /* [1e-4] first non-PD eta bump (README 5.9) */
    int max_iterations;  /* [50] dual-search passes */
    double kl_tolerance; /* [0.1] stop when |kl - target| < tol * target */
} gpsc_exp_cstep_t;

typedef struct gpsc_exp_algo {
    gpsc_exp_algorithm_t type;      /* [mdgps] */
    int iterations;                 /* [10] */
    int samples;                    /* [5] per training condition per iteration */
    int test_samples;               /* [1] per test condition when evaluating */
    unsigned long long seed;        /* [0] run seed */
    double kl_step;                 /* [2.0] */
    double min_step_mult;           /* [0.01] */
    double max_step_mult;           /* [10.0] */
    gpsc_exp_step_rule_t step_rule; /* [classic] */
    gpsc_exp_sampling_t sampling;   /* [off_policy] */
    gpsc_exp_cstep_t cstep;
    double dyn_regularization;  /* [1e-6] sig_reg of the dynamics fit */
    double initial_state_var;   /* [1e-6] */
    gpsc_exp_prior_t dyn_prior; /* regularization unused (see dyn_regularization) */
    gpsc_exp_prior_t pol_prior; /* regularization [1e-8] */
    double init_pol_wt;         /* gps2014 [0.01] */
    double policy_dual_rate;    /* gps2014 [0.1] */
    int inner_iterations;       /* gps2014 [4] */
} gpsc_exp_algo_t;

typedef enum gpsc_exp_activation {
    GPSC_EXP_ACT_RELU = 0,
    GPSC_EXP_ACT_TANH = 1
} gpsc_exp_activation_t;

#define GPSC_EXP_MAX_LAYERS 8

typedef struct gpsc_exp_network {
    int n_hidden;                     /* [2] */
    int hidden[GPSC_EXP_MAX_LAYERS];  /* [42, 42] widths */
    gpsc_exp_activation_t activation; /* [relu] */
    int iterations;                   /* [3000] minibatch updates per S-step */
    int batch_size;                   /* [25] */
    double learning_rate;             /* [1e-3] */
    double weight_decay;              /* [5e-3] */
    double init_var;                  /* [0.1] initial action variance */
    double ent_reg;                   /* [0] */
} gpsc_exp_network_t;

typedef struct gpsc_exp_cluster {
    int workers;               /* [2] */
    double task_timeout;       /* [60] (s) */
    double heartbeat_interval; /* [1.0] (s) */
    int heartbeat_liveness;    /* [5] */
} gpsc_exp_cluster_t;

/* Sizes implied by the model; valid after gpsc_experiment_resolve(). */
typedef struct gpsc_exp_dims {
    int nq, nv, nu;  /* model sizes */
    int nsensordata; /* model sensor outputs */
    int dX;          /* state: n_qpos + n_qvel + P (+ P with ee velocities) */
    int dU;          /* actions (selected actuators) */
    int dO;          /* observation */
    int P;           /* 3 * number of ee sites */
    int dQ;          /* qpos entries in x (= columns of the ee Jacobian) */
    int n_qpos;      /* qpos entries in x (== dQ) */
    int n_qvel;      /* qvel entries in x */
    int x_qpos;      /* offset of the qpos block in x (0) */
    int x_qvel;      /* offset of the qvel block in x */
    int x_ee;        /* offset of the ee block in x (-1 when P = 0) */
    int x_ee_vel;    /* offset of the ee velocity block (-1 when absent) */
} gpsc_exp_dims_t;

typedef struct gpsc_experiment {
    char *path; /* the YAML file as given */
    char *dir;  /* its directory */
    char *name;
    char *model;  /* MJCF path, resolved against dir */
    int T;        /* control steps */
    double dt;    /* (s) per control step */
    int substeps; /* mj_step calls per control step */

    /* state layout */
    gpsc_exp_names_t qpos_joints;
    gpsc_exp_names_t qvel_joints;
    gpsc_exp_names_t ee_sites;
    bool ee_velocities;
    gpsc_exp_ee_vel_mode_t ee_velocity_mode;
    bool ee_relative_to_target;

    /* observation = these blocks in order */
    int n_obs_blocks;
    gpsc_exp_obs_block_t obs_blocks[GPSC_EXP_MAX_OBS_BLOCKS];

    gpsc_exp_names_t actuators;
    gpsc_exp_names_t target_sites; /* n = 0: targets come from the conditions */

    int n_train, n_test;
    gpsc_exp_condition_t *train; /* (n_train) */
    gpsc_exp_condition_t *test;  /* (n_test) */

    int n_costs;
    gpsc_exp_cost_t *costs; /* (n_costs) */

    gpsc_exp_init_t init;
    gpsc_exp_noise_t noise;
    gpsc_exp_success_t success;
    gpsc_exp_algo_t algo;
    gpsc_exp_network_t net;
    gpsc_exp_cluster_t cluster;

    bool resolved;        /* gpsc_experiment_resolve() succeeded */
    gpsc_exp_dims_t dims; /* valid when resolved */
    int *joint_idx;       /* (dQ) state indices of the joint angles = ee Jacobian
                             columns (0..dQ-1); valid when resolved */
} gpsc_experiment_t;

/* Loads `path` into *exp (which is overwritten; free it with
 * gpsc_experiment_free even after a failure). Returns 0, GPSC_ENOENT /
 * GPSC_EIO (unreadable), GPSC_EPARSE (YAML syntax) or GPSC_ECONFIG (a bad
 * or unknown key, a missing required key, a value out of range); err gets
 * "file:line:column: message". */
int gpsc_experiment_load(const char *path, gpsc_experiment_t *exp, char *err, size_t errsz);

/* Same from a string; `name` stands for the file in messages and `dir` is
 * the directory relative paths are resolved against (NULL: "."). */
int gpsc_experiment_load_string(const char *text, size_t len, const char *name, const char *dir,
                                gpsc_experiment_t *exp, char *err, size_t errsz);

/* Frees everything *exp owns and zeroes it; accepts a zeroed struct. */
void gpsc_experiment_free(gpsc_experiment_t *exp);

/* What the model says, for gpsc_experiment_resolve(). Names are borrowed
 * for the duration of the call. */
typedef struct gpsc_exp_model_info {
    int nq, nv, nu, nsensordata;
    int njnt;
    const char *const *joint_names;    /* (njnt) */
    const int *joint_nq;               /* (njnt) qpos entries of each joint (1, 4 or 7) */
    const int *joint_scalar;           /* (njnt) 1 for hinge/slide joints */
    const char *const *actuator_names; /* (nu) */
    int nsite;
    const char *const *site_names; /* (nsite) */
    /* world positions (3 each) of target_sites for each condition, in
       condition numbering order (train then test); NULL when the
       experiment has no target_sites */
    const double *site_targets; /* ((n_train + n_test) x P) */
} gpsc_exp_model_info_t;

/* Checks the experiment against the model and fills dims, joint_idx, the
 * names behind "all", broadcast vectors, and condition targets. Idempotent
 * (a second call with the same info changes nothing). Returns 0 or
 * GPSC_ECONFIG with "file:line:column: message" in err (the location of
 * the offending value). */
int gpsc_experiment_resolve(gpsc_experiment_t *exp, const gpsc_exp_model_info_t *info, char *err,
                            size_t errsz);

/* Global condition index c (train first, then test) -> its condition, or
 * NULL when out of range. */
const gpsc_exp_condition_t *gpsc_experiment_condition(const gpsc_experiment_t *exp, int c);

/* Total conditions n_train + n_test. */
int gpsc_experiment_n_conditions(const gpsc_experiment_t *exp);

/* Writes the experiment as YAML to f / to the file at path. The model is
 * written as an absolute path so the file can be moved. Returns 0 or
 * GPSC_EIO (err says why). */
int gpsc_experiment_fprint(const gpsc_experiment_t *exp, FILE *f);
int gpsc_experiment_write(const gpsc_experiment_t *exp, const char *path, char *err, size_t errsz);

/* Names of the enum values as they appear in YAML. */
const char *gpsc_exp_cost_type_name(gpsc_exp_cost_type_t t);
const char *gpsc_exp_norm_name(gpsc_exp_norm_t n);
const char *gpsc_exp_ramp_name(gpsc_exp_ramp_t r);
const char *gpsc_exp_metric_name(gpsc_exp_metric_t m);
const char *gpsc_exp_algorithm_name(gpsc_exp_algorithm_t a);

#endif
