/* initctl.h — the experiment's initial controller for one condition.
 *
 * init_lqr (README 5.17) and init_pd are the learner's (learner/init.h),
 * which take the joint angles as x[0:dU] and the velocities as x[dU:2dU].
 * Here the state is first permuted so that the position and velocity of
 * each actuator's joint come first (identity for reacher and peg7, whose
 * states start with the actuated joints), the controller is computed in
 * those coordinates, and its gains are permuted back. So the initial
 * controller works for any state layout that contains the actuated joints.
 *
 * An init_pd with pos_gains 0 is pure noise (K = 0, k = 0, covariance
 * init_var I) and works for actuators without a joint (muscles, tendons).
 *
 * x0 is the condition's noiseless initial state (gpsc_initctl_x0). */
#ifndef GPSC_WORKER_INITCTL_H
#define GPSC_WORKER_INITCTL_H

#include <stddef.h>

#include "common/lgpolicy.h"
#include "worker/env.h"

/* x0 (dX): the state at step 0 of condition c without initial-state noise
 * (resets the env). Returns 0 or the reset's error. */
int gpsc_initctl_x0(double *x0, gpsc_env_t *env, int c, char *err, size_t errsz);

/* Fills `out` (T x dU x dX of the env's task) with the experiment's
 * init_controller around x0 (dX). Returns 0, GPSC_ECONFIG (actuators that
 * do not map to state joints), GPSC_ENOMEM, or the learner's error code
 * (GPSC_EINVAL / GPSC_ENONFINITE / GPSC_ENOTPD); err says why. */
int gpsc_initctl_build(gpsc_lgpolicy_t *out, gpsc_env_t *env, const double *x0, char *err,
                       size_t errsz);

#endif
