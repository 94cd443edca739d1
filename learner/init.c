/* init.c — initial controllers (see init.h). */
#include "init.h"

#include <math.h>
#include <string.h>

#include "common/error.h"
#include "common/la.h"
#include "learner/lqr.h"

static size_t need(size_t n)
{
    return gpsc_arena_need(n * sizeof(double));
}

static double *take(gpsc_arena_t *a, size_t n)
{
    return gpsc_arena_alloc(a, n * sizeof(double));
}

static int check_out(const gpsc_traj_lg_t *out)
{
    return out && out->K && out->k && out->pol_covar && out->inv_pol_covar && out->chol_pol_covar
               ? 0
               : GPSC_EINVAL;
}

size_t gpsc_init_lqr_scratch_size(gpsc_traj_dims_t d)
{
    size_t dX = (size_t)d.dX, dXU = dX + (size_t)d.dU;
    return need(dX * dXU) + need(dX) + need(dXU) + need(dX * dX) + need(dX) + need(dXU * dXU) +
           need(dXU) + need(dX * dXU) + need(dX) + gpsc_lqr_step_scratch_size(d.dX, d.dU);
}

int gpsc_init_lqr(gpsc_traj_lg_t *out, const gpsc_init_lqr_cfg_t *cfg, gpsc_traj_dims_t d,
                  gpsc_arena_t *scratch)
{
    if (check_out(out) || !cfg || !cfg->x0 || !cfg->init_gains || !cfg->init_acc || !scratch ||
        !gpsc_traj_dims_ok(d))
        return GPSC_EINVAL;
    int T = d.T, dX = d.dX, dU = d.dU, dXU = dX + dU;
    if (dX < 2 * dU) return GPSC_EDIM;
    if (!gpsc_la_all_finite(cfg->x0, (size_t)dX) ||
        !gpsc_la_all_finite(cfg->init_gains, (size_t)dU) ||
        !gpsc_la_all_finite(cfg->init_acc, (size_t)dU) || !isfinite(cfg->dt) ||
        !isfinite(cfg->init_var) || !isfinite(cfg->stiffness) || !isfinite(cfg->stiffness_vel) ||
        !isfinite(cfg->final_weight))
        return GPSC_ENONFINITE;
    if (!(cfg->dt > 0.0) || !(cfg->init_var > 0.0) || cfg->stiffness < 0.0 ||
        cfg->stiffness_vel < 0.0 || cfg->final_weight < 0.0)
        return GPSC_EINVAL;

    size_t mark = gpsc_arena_mark(scratch);
    double *Fd = take(scratch, (size_t)dX * dXU); /* guessed dynamics (dX x dXU) */
    double *fc = take(scratch, (size_t)dX);
    double *L = take(scratch, (size_t)dXU); /* diagonal of Ltt */
    double *Vxx = take(scratch, (size_t)dX * dX);
    double *vx = take(scratch, (size_t)dX);
    double *Qtt = take(scratch, (size_t)dXU * dXU);
    double *qt = take(scratch, (size_t)dXU);
    double *W = take(scratch, (size_t)dX * dXU); /* Vxx Fd */
    double *g = take(scratch, (size_t)dX);       /* vx + Vxx fc */
    if (!Fd || !fc || !L || !Vxx || !vx || !Qtt || !qt || !W || !g) {
        gpsc_arena_free_to(scratch, mark);
        return GPSC_ENOSPC;
    }

    /* double integrator per joint: q' = q + dt qdot + dt^2 g u + dt^2 acc */
    double dt = cfg->dt;
    gpsc_la_zero(Fd, (size_t)dX * dXU);
    gpsc_la_zero(fc, (size_t)dX);
    for (int i = 0; i < dU; i++) {
        double gi = cfg->init_gains[i], ai = cfg->init_acc[i];
        double *rq = Fd + (size_t)i * dXU, *rv = Fd + (size_t)(dU + i) * dXU;
        rq[i] = 1.0;
        rq[dU + i] = dt;
        rq[dX + i] = (dt * dt) * gi;
        rv[dU + i] = 1.0;
        rv[dX + i] = dt * gi;
        fc[i] = ai * (dt * dt);
        fc[dU + i] = ai * dt;
    }
    /* stiffness cost around [x0; 0] */
    for (int i = 0; i < dXU; i++) {
        double w = 0.0;
        if (i < dU)
            w = cfg->stiffness;
        else if (i < 2 * dU)
            w = cfg->stiffness * cfg->stiffness_vel;
        else if (i >= dX)
            w = 1.0;
        L[i] = w / cfg->init_var;
    }

    gpsc_la_zero(Vxx, (size_t)dX * dX);
    gpsc_la_zero(vx, (size_t)dX);
    int rc = 0;
    for (int t = T - 1; t >= 0 && !rc; t--) {
        double wt = t == T - 1 ? cfg->final_weight : 1.0;
        /* stage cost (wt Ltt, wt lt), lt = -Ltt [x0; 0] */
        gpsc_la_zero(Qtt, (size_t)dXU * dXU);
        for (int i = 0; i < dXU; i++) {
            double Lii = t == T - 1 ? wt * L[i] : L[i];
            double lti = -(L[i] * (i < dX ? cfg->x0[i] : 0.0));
            Qtt[(size_t)i * dXU + i] = Lii;
            qt[i] = t == T - 1 ? wt * lti : lti;
        }
        /* Qtt += Fd^T Vxx Fd, qt += Fd^T (vx + Vxx fc) */
        gpsc_la_gemm(W, Vxx, Fd, dX, dXU, dX, false, false, 1.0, 0.0);
        gpsc_la_gemm(Qtt, Fd, W, dXU, dXU, dX, true, false, 1.0, 1.0);
        memcpy(g, vx, sizeof(double) * (size_t)dX);
        gpsc_la_gemv(g, Vxx, fc, dX, dX, false, 1.0, 1.0);
        gpsc_la_gemv(qt, Fd, g, dX, dXU, true, 1.0, 1.0);

        size_t ou = (size_t)t * dU * dU;
        rc = gpsc_lqr_step(out->K + (size_t)t * dU * dX, out->k + (size_t)t * dU,
                           out->pol_covar + ou, out->inv_pol_covar + ou, out->chol_pol_covar + ou,
                           Vxx, vx, Qtt, qt, dX, dU, scratch);
    }
    gpsc_arena_free_to(scratch, mark);
    return rc;
}

int gpsc_init_pd(gpsc_traj_lg_t *out, const gpsc_init_pd_cfg_t *cfg, gpsc_traj_dims_t d)
{
    if (check_out(out) || !cfg || !cfg->kp || !cfg->kd || !gpsc_traj_dims_ok(d)) return GPSC_EINVAL;
    int T = d.T, dX = d.dX, dU = d.dU;
    if (dX < 2 * dU) return GPSC_EDIM;
    if (!gpsc_la_all_finite(cfg->kp, (size_t)dU) || !gpsc_la_all_finite(cfg->kd, (size_t)dU) ||
        (cfg->q_target && !gpsc_la_all_finite(cfg->q_target, (size_t)dU)) ||
        !isfinite(cfg->init_var))
        return GPSC_ENONFINITE;
    if (!(cfg->init_var > 0.0)) return GPSC_EINVAL;
    double sd = sqrt(cfg->init_var), prec = 1.0 / cfg->init_var;
    for (int t = 0; t < T; t++) {
        double *K = out->K + (size_t)t * dU * dX, *k = out->k + (size_t)t * dU;
        size_t ou = (size_t)t * dU * dU;
        gpsc_la_zero(K, (size_t)dU * dX);
        gpsc_la_zero(out->pol_covar + ou, (size_t)dU * dU);
        gpsc_la_zero(out->inv_pol_covar + ou, (size_t)dU * dU);
        gpsc_la_zero(out->chol_pol_covar + ou, (size_t)dU * dU);
        for (int i = 0; i < dU; i++) {
            K[(size_t)i * dX + i] = -cfg->kp[i];
            K[(size_t)i * dX + dU + i] = -cfg->kd[i];
            k[i] = cfg->q_target ? cfg->kp[i] * cfg->q_target[i] : 0.0;
            out->pol_covar[ou + (size_t)i * dU + i] = cfg->init_var;
            out->inv_pol_covar[ou + (size_t)i * dU + i] = prec;
            out->chol_pol_covar[ou + (size_t)i * dU + i] = sd;
        }
    }
    return 0;
}
