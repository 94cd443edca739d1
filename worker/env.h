/* env.h — the MuJoCo side of a task: load the model once, apply a
 * condition, step, and assemble states, observations, end-effector points
 * and their Jacobians as the experiment says (common/experiment.h).
 *
 * State layout (dims from gpsc_experiment_resolve):
 *   x = [ qpos of state.qpos_joints   (n_qpos, rad or m)
 *         qvel of state.qvel_joints   (n_qvel, rad/s or m/s)
 *         ee points                   (P = 3 per ee site, m, world frame, minus the
 *                                      condition's target when ee_relative_to_target)
 *         ee point velocities         (P, m/s, when ee_velocities) ]
 * The ee Jacobian at step t is d ee / d q (P x dQ), q the qpos block of x:
 * the columns of mj_jacSite for the dofs of those joints (hinge or slide
 * joints only, so qpos and dof coincide).
 *
 * Stepping: one control step applies u to the selected actuators (MuJoCo
 * clamps it to ctrlrange where ctrllimited) and advances `substeps` physics
 * steps of dt/substeps (the model's timestep is overwritten). With the
 * Euler or implicit integrator the control step is mj_step2 + (substeps-1)
 * mj_step + mj_step1, so positions, sites and Jacobians read afterwards
 * belong to the new qpos at no extra cost; with RK4 it is substeps mj_step
 * followed by mj_kinematics + mj_comPos.
 *
 * Instability: MuJoCo resets a simulation whose qpos, qvel or qacc become
 * NaN or huge (and counts a warning). The env checks those counters after
 * every step and checks the assembled state; either makes the step fail
 * with GPSC_ESIM and a reason ("models/x.xml: step 12: MuJoCo found a NaN
 * or huge value in qacc at dof 3 (the simulation is unstable)"). After a failure, reset before
 * stepping again.
 *
 * Model elements are named as in the MJCF; an unnamed joint, actuator,
 * site or body is called "#<index>" (its MuJoCo id), which is what "all"
 * resolves to for it.
 *
 * An env is not thread-safe: one per thread. It borrows the experiment,
 * which must outlive it and stay resolved. */
#ifndef GPSC_WORKER_ENV_H
#define GPSC_WORKER_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "common/experiment.h"

typedef struct gpsc_env gpsc_env_t;

/* Loads exp->model and resolves the experiment against it
 * (gpsc_experiment_resolve): fills dims, joint names behind "all", and the
 * condition targets from target_sites (world positions after each
 * condition's body offsets). Returns 0, GPSC_ENOENT (no model file),
 * GPSC_EMODEL (MuJoCo refused the file: err is "path: MuJoCo's message",
 * which names the XML line where MuJoCo gives one) or GPSC_ECONFIG (the
 * experiment does not fit the model: "yaml:line:col: message"). */
int gpsc_env_resolve_experiment(gpsc_experiment_t *exp, char *err, size_t errsz);

/* A new environment for a resolved experiment (loads the model again: one
 * mjModel per env). NULL with err set on failure (as above; GPSC_EINVAL
 * when exp is not resolved). */
gpsc_env_t *gpsc_env_new(const gpsc_experiment_t *exp, char *err, size_t errsz);

/* Frees the env; accepts NULL; sets *p to NULL. */
void gpsc_env_destroy(gpsc_env_t **p);

const gpsc_experiment_t *gpsc_env_experiment(const gpsc_env_t *e);
const gpsc_exp_dims_t *gpsc_env_dims(const gpsc_env_t *e);

/* Starts condition c (global numbering: train then test) at step 0:
 * restores the model's body positions plus the condition's offsets, sets
 * qpos/qvel (the condition's or the model's qpos0 / zeros), adds
 * x0_noise[i] * x0_eps[i] (x0_eps: nq+nv standard normals, NULL for none),
 * and computes the kinematics. Returns 0, GPSC_ERANGE (bad c) or GPSC_ESIM
 * (the initial state is already unstable; reason in err). */
int gpsc_env_reset(gpsc_env_t *e, int c, const double *x0_eps, char *err, size_t errsz);

/* The condition's FK target (P), valid after a reset; NULL when P = 0. */
const double *gpsc_env_target(const gpsc_env_t *e);

/* Current state (dX), observation (dO), ee points (P, world frame) and ee
 * Jacobian (P x dQ). Any pointer may be NULL. Returns 0 or GPSC_ESIM when
 * the state holds a non-finite value. */
int gpsc_env_observe(gpsc_env_t *e, double *x, double *o, double *ee, double *jac, char *err,
                     size_t errsz);

/* One control step with action u (dU). Returns 0, GPSC_ENONFINITE (u has
 * a NaN/Inf; nothing is stepped) or GPSC_ESIM (MuJoCo reported an unstable
 * simulation; reason in err). */
int gpsc_env_step(gpsc_env_t *e, const double *u, char *err, size_t errsz);

/* For each action i, the x indices of the position (qidx[i]) and velocity
 * (vidx[i]) of the hinge/slide joint its actuator drives. Returns 0, or
 * GPSC_ECONFIG when an actuator does not drive one joint directly or its
 * joint is not in the state (err says which). */
int gpsc_env_actuated_indices(const gpsc_env_t *e, int *qidx, int *vidx, char *err, size_t errsz);

/* MuJoCo actuator index of action i (-1 when out of range). */
int gpsc_env_actuator_id(const gpsc_env_t *e, int i);

/* Control steps since the last reset. */
int gpsc_env_t_index(const gpsc_env_t *e);

/* Seconds spent inside MuJoCo stepping since the env was made (for the
 * rollout's timings; CLOCK_MONOTONIC). */
double gpsc_env_sim_seconds(const gpsc_env_t *e);

/* Lower-level access for tests and the benchmark: the model and data
 * (mjModel * / mjData *, as void * so this header does not need MuJoCo's),
 * and whether the split step1/step2 path is used. */
void *gpsc_env_mj_model(gpsc_env_t *e);
void *gpsc_env_mj_data(gpsc_env_t *e);
bool gpsc_env_split_step(const gpsc_env_t *e);

/* MuJoCo's version string ("2.2.2"). */
const char *gpsc_env_mujoco_version(void);

#endif
