/* init.h — initial local controllers for the first iteration.
 *
 * Both assume the state starts with the joint angles q = x[0:dU] followed
 * by the joint velocities qdot = x[dU:2dU] (so dX >= 2 dU), one actuator
 * per joint. */
#ifndef GPSC_LEARNER_INIT_H
#define GPSC_LEARNER_INIT_H

#include <stddef.h>

#include "common/arena.h"
#include "learner/traj.h"

/* Settings of init_lqr (the reference's `lin_gauss_init.init_lqr`). */
typedef struct gpsc_init_lqr_cfg {
    const double *x0;         /* (dX) state to hold */
    const double *init_gains; /* (dU) guessed action-to-acceleration gains */
    const double *init_acc;   /* (dU) guessed constant accelerations */
    double dt;                /* time step, s (> 0) */
    double init_var;          /* initial action variance (> 0) */
    double stiffness;         /* position stiffness (>= 0) */
    double stiffness_vel;     /* velocity stiffness, relative to stiffness (>= 0) */
    double final_weight;      /* weight of the last step's cost (>= 0) */
} gpsc_init_lqr_cfg_t;

size_t gpsc_init_lqr_scratch_size(gpsc_traj_dims_t d);

/* LQR controller that holds x0 under guessed double-integrator dynamics
 * (reference README 5.17):
 *   Fd (dX x dXU): rows 0:dU = [I, dt I, 0, dt^2 diag(g)],
 *                  rows dU:2dU = [0, I, 0, dt diag(g)], other rows 0;
 *   fc = [acc dt^2; acc dt; 0];
 *   Ltt = diag(stiffness 1, stiffness stiffness_vel 1, 0, 1) / init_var,
 *   lt = -Ltt [x0; 0], scaled by final_weight at t = T-1;
 * then the LQR backward pass Qtt = Ltt + Fd^T Vxx Fd,
 * qt = lt + Fd^T (vx + Vxx fc) with the step of gpsc_lqr_step (Qtt is
 * symmetrised; the reference skips that, which only changes rounding).
 * Writes all five arrays of *out. Returns 0, GPSC_EDIM (dX < 2 dU),
 * GPSC_ENONFINITE, GPSC_EINVAL (NULL, dt or init_var <= 0, negative
 * weights), GPSC_ENOTPD (cannot happen with valid settings) or
 * GPSC_ENOSPC. */
int gpsc_init_lqr(gpsc_traj_lg_t *out, const gpsc_init_lqr_cfg_t *cfg, gpsc_traj_dims_t d,
                  gpsc_arena_t *scratch);

/* Settings of init_pd. */
typedef struct gpsc_init_pd_cfg {
    const double *q_target; /* (dU) joint angles to hold; NULL means 0 */
    const double *kp;       /* (dU) position gains */
    const double *kd;       /* (dU) velocity gains */
    double init_var;        /* action variance (> 0) */
} gpsc_init_pd_cfg_t;

/* Time-invariant PD controller with diagonal gains on the first dU
 * position and velocity dimensions:
 *   u = -kp .* (q - q_target) - kd .* qdot + e,  e ~ N(0, init_var I),
 * i.e. for every t
 *   K_t = [-diag(kp), -diag(kd), 0_(dU x (dX-2dU))],  k_t = kp .* q_target,
 *   pol_covar = init_var I, inv_pol_covar = I / init_var,
 *   chol_pol_covar = sqrt(init_var) I.
 * (The reference's init_pd instead uses K = -pos_gains [I, vel_ratio I, 0]
 * and k = -K x0, i.e. it also pulls the velocities toward x0's; here the
 * velocity target is 0 and the gains are per joint.) Writes all five
 * arrays of *out. Returns 0, GPSC_EDIM (dX < 2 dU), GPSC_ENONFINITE or
 * GPSC_EINVAL. */
int gpsc_init_pd(gpsc_traj_lg_t *out, const gpsc_init_pd_cfg_t *cfg, gpsc_traj_dims_t d);

#endif
