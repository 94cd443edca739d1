/* initctl.c — initial controllers through the learner's init_lqr/init_pd
 * in permuted state coordinates (see initctl.h). */
#include "worker/initctl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/error.h"
#include "learner/init.h"
#include "learner/traj.h"

int gpsc_initctl_x0(double *x0, gpsc_env_t *env, int c, char *err, size_t errsz)
{
    int rc = gpsc_env_reset(env, c, NULL, err, errsz);
    if (rc) return rc;
    return gpsc_env_observe(env, x0, NULL, NULL, NULL, err, errsz);
}

int gpsc_initctl_build(gpsc_lgpolicy_t *out, gpsc_env_t *env, const double *x0, char *err,
                       size_t errsz)
{
    const gpsc_experiment_t *exp = gpsc_env_experiment(env);
    const gpsc_exp_dims_t *dm = gpsc_env_dims(env);
    int T = exp->T, dX = dm->dX, dU = dm->dU;
    if (out->T != T || out->dX != dX || out->dU != dU) {
        snprintf(err, errsz, "initial controller buffer does not match the task");
        return GPSC_EDIM;
    }
    int rc = 0;
    gpsc_arena_t *arena = NULL;
    int *perm = calloc((size_t)dX, sizeof(int)); /* perm[new] = old x index */
    int *qidx = calloc((size_t)dU, sizeof(int));
    int *vidx = calloc((size_t)dU, sizeof(int));
    int *used = calloc((size_t)dX, sizeof(int));
    double *px0 = calloc((size_t)dX, sizeof(double));
    double *K = calloc((size_t)T * (size_t)dU * (size_t)dX, sizeof(double));
    if (!perm || !qidx || !vidx || !used || !px0 || !K) {
        rc = GPSC_ENOMEM;
        snprintf(err, errsz, "out of memory");
        goto done;
    }
    const gpsc_exp_init_t *in = &exp->init;
    rc = gpsc_env_actuated_indices(env, qidx, vidx, err, errsz);
    if (rc && in->type == GPSC_EXP_INIT_PD && in->pos_gains == 0.0) {
        /* a PD controller without gains is pure exploration noise: it needs
           no joint behind an actuator (muscles, tendons) */
        memset(out->K, 0, sizeof(double) * (size_t)T * (size_t)dU * (size_t)dX);
        memset(out->k, 0, sizeof(double) * (size_t)T * (size_t)dU);
        double *S = calloc((size_t)dU * (size_t)dU, sizeof(double));
        rc = S ? 0 : GPSC_ENOMEM;
        for (int i = 0; S && i < dU; i++)
            S[i * dU + i] = in->init_var;
        for (int t = 0; rc == 0 && t < T; t++)
            rc = gpsc_lgpolicy_set_covar(out, t, S);
        free(S);
        if (rc) snprintf(err, errsz, "initial controller (init_pd): %s", gpsc_strerror(rc));
        goto done;
    }
    if (rc) goto done;

    /* permutation: actuated positions, actuated velocities, the rest in order */
    int n = 0;
    for (int i = 0; i < dU; i++) {
        perm[n++] = qidx[i];
        used[qidx[i]] = 1;
    }
    for (int i = 0; i < dU; i++) {
        perm[n++] = vidx[i];
        used[vidx[i]] = 1;
    }
    for (int j = 0; j < dX; j++)
        if (!used[j]) perm[n++] = j;
    for (int j = 0; j < dX; j++)
        px0[j] = x0[perm[j]];

    gpsc_traj_dims_t d = {T, dX, dU};
    gpsc_traj_lg_t lg = {.K = K,
                         .k = out->k,
                         .pol_covar = out->pol_covar,
                         .inv_pol_covar = out->inv_pol_covar,
                         .chol_pol_covar = out->chol};
    if (in->type == GPSC_EXP_INIT_LQR) {
        arena = gpsc_arena_new(gpsc_init_lqr_scratch_size(d));
        if (!arena) {
            rc = GPSC_ENOMEM;
            snprintf(err, errsz, "out of memory");
            goto done;
        }
        gpsc_init_lqr_cfg_t cfg = {.x0 = px0,
                                   .init_gains = in->init_gains.v,
                                   .init_acc = in->init_acc.v,
                                   .dt = exp->dt,
                                   .init_var = in->init_var,
                                   .stiffness = in->stiffness,
                                   .stiffness_vel = in->stiffness_vel,
                                   .final_weight = in->final_weight};
        rc = gpsc_init_lqr(&lg, &cfg, d, arena);
    } else {
        /* the reference's init_pd gains: kp = pos_gains, kd = pos_gains vel_gains_mult,
           holding the initial joint angles */
        double *kp = calloc((size_t)dU, sizeof(double)), *kd = calloc((size_t)dU, sizeof(double));
        if (!kp || !kd) {
            free(kp);
            free(kd);
            rc = GPSC_ENOMEM;
            snprintf(err, errsz, "out of memory");
            goto done;
        }
        for (int i = 0; i < dU; i++) {
            kp[i] = in->pos_gains;
            kd[i] = in->pos_gains * in->vel_gains_mult;
        }
        gpsc_init_pd_cfg_t cfg = {.q_target = px0, .kp = kp, .kd = kd, .init_var = in->init_var};
        rc = gpsc_init_pd(&lg, &cfg, d);
        free(kp);
        free(kd);
    }
    if (rc) {
        snprintf(err, errsz, "initial controller (%s): %s",
                 in->type == GPSC_EXP_INIT_LQR ? "init_lqr" : "init_pd", gpsc_strerror(rc));
        goto done;
    }
    /* gains back to the task's state order: K[:, perm[j]] = K'[:, j] */
    for (size_t r = 0; r < (size_t)T * (size_t)dU; r++)
        for (int j = 0; j < dX; j++)
            out->K[r * (size_t)dX + (size_t)perm[j]] = K[r * (size_t)dX + (size_t)j];
done:
    gpsc_arena_destroy(&arena);
    free(perm);
    free(qidx);
    free(vidx);
    free(used);
    free(px0);
    free(K);
    return rc;
}
