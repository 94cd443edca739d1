/* lqr.c — KL-regularised LQR backward pass (see lqr.h). */
#include "lqr.h"

#include <math.h>
#include <string.h>

#include "common/error.h"
#include "common/la.h"

static size_t need(size_t n)
{
    return gpsc_arena_need(n * sizeof(double));
}

static double *take(gpsc_arena_t *a, size_t n)
{
    return gpsc_arena_alloc(a, n * sizeof(double));
}

size_t gpsc_lqr_step_scratch_size(int dX, int dU)
{
    return need((size_t)dU * (size_t)dU) + need((size_t)dU * (size_t)dX);
}

int gpsc_lqr_step(double *K, double *k, double *pol_covar, double *inv_pol_covar,
                  double *chol_pol_covar, double *Vxx, double *Vx, double *Qtt, const double *Qt,
                  int dX, int dU, gpsc_arena_t *scratch)
{
    int dXU = dX + dU;
    size_t mark = gpsc_arena_mark(scratch);
    double *U = take(scratch, (size_t)dU * dU);   /* Quu = U^T U */
    double *Qux = take(scratch, (size_t)dU * dX); /* Qtt[u, x] (dU x dX) */
    if (!U || !Qux) {
        gpsc_arena_free_to(scratch, mark);
        return GPSC_ENOSPC;
    }
    gpsc_la_sym(Qtt, dXU);

    /* the action block: precision of the new controller (seed 000 B.1:
     * p(u|x) = N(K x + k, Quu^-1)) */
    for (int i = 0; i < dU; i++) {
        const double *row = Qtt + (size_t)(dX + i) * dXU;
        memcpy(inv_pol_covar + (size_t)i * dU, row + dX, sizeof(double) * (size_t)dU);
        memcpy(Qux + (size_t)i * dX, row, sizeof(double) * (size_t)dX);
    }
    int rc = gpsc_la_chol(U, inv_pol_covar, dU);
    if (!rc) rc = gpsc_la_chol_inv(pol_covar, U, dU);
    if (rc == GPSC_ESINGULAR) rc = GPSC_ENOTPD;
    if (!rc) rc = gpsc_la_chol(chol_pol_covar, pol_covar, dU);
    if (rc) {
        gpsc_arena_free_to(scratch, mark);
        return rc;
    }

    /* K = -Quu^-1 Qux, k = -Quu^-1 Qu */
    memcpy(K, Qux, sizeof(double) * (size_t)dU * dX);
    gpsc_la_chol_solve(K, U, K, dU, dX);
    gpsc_la_scale(K, -1.0, dU * dX);
    memcpy(k, Qt + dX, sizeof(double) * (size_t)dU);
    gpsc_la_chol_solve(k, U, k, dU, 1);
    gpsc_la_scale(k, -1.0, dU);

    /* Vxx = sym(Qxx + Qxu K), Vx = Qx + Qxu k, with Qxu = Qux^T */
    for (int i = 0; i < dX; i++)
        memcpy(Vxx + (size_t)i * dX, Qtt + (size_t)i * dXU, sizeof(double) * (size_t)dX);
    gpsc_la_gemm(Vxx, Qux, K, dX, dX, dU, true, false, 1.0, 1.0);
    gpsc_la_sym(Vxx, dX);
    memcpy(Vx, Qt, sizeof(double) * (size_t)dX);
    gpsc_la_gemv(Vx, Qux, k, dU, dX, true, 1.0, 1.0);

    gpsc_arena_free_to(scratch, mark);
    /* the covariances passed the factorisations' finiteness checks; an
     * overflow in Vxx/Vx reaches the next step's Quu or K, k, or nothing
     * that is returned (t = 0) */
    if (!gpsc_la_all_finite(K, (size_t)dU * dX) || !gpsc_la_all_finite(k, (size_t)dU))
        return GPSC_ENONFINITE;
    return 0;
}

size_t gpsc_lqr_backward_scratch_size(gpsc_traj_dims_t d)
{
    size_t dX = (size_t)d.dX, dXU = dX + (size_t)d.dU;
    return need(dX * dX) + need(dX) + need(dXU * dXU) + need(dXU) + need(dX * dXU) + need(dX) +
           gpsc_lqr_step_scratch_size(d.dX, d.dU);
}

int gpsc_lqr_problem_check(const gpsc_lqr_problem_t *p, gpsc_traj_dims_t d)
{
    if (!gpsc_traj_dims_ok(d) || !p || !p->Fm || !p->fv || !p->Cm || !p->cv || !p->pref ||
        !p->pref->M || !p->pref->v)
        return GPSC_EINVAL;
    size_t T = (size_t)d.T, dX = (size_t)d.dX, dXU = dX + (size_t)d.dU;
    size_t nM = dXU * dXU;
    if (!gpsc_la_all_finite(p->Fm, (T - 1) * dX * dXU) ||
        !gpsc_la_all_finite(p->fv, (T - 1) * dX) || !gpsc_la_all_finite(p->Cm, T * nM) ||
        !gpsc_la_all_finite(p->cv, T * dXU) || !gpsc_la_all_finite(p->pref->M, T * nM) ||
        !gpsc_la_all_finite(p->pref->v, T * dXU))
        return GPSC_ENONFINITE;
    if ((p->extra_Cm && !gpsc_la_all_finite(p->extra_Cm, T * nM)) ||
        (p->extra_cv && !gpsc_la_all_finite(p->extra_cv, T * dXU)))
        return GPSC_ENONFINITE;
    return 0;
}

/* Q = ((C [+ E]) + M eta) / eta over n entries: the surrogate cost
 * l/eta - log pi_ref of seed 000 B.1, in the reference's operation order */
static void surrogate(double *restrict Q, const double *restrict C, const double *restrict E,
                      const double *restrict M, double eta, size_t n)
{
    if (E) {
        for (size_t i = 0; i < n; i++)
            Q[i] = ((C[i] + E[i]) + M[i] * eta) / eta;
        return;
    }
    /* blocks of 8 let the compiler use packed divisions at -O2 */
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t j = i; j < i + 8; j++)
            Q[j] = (C[j] + M[j] * eta) / eta;
    for (; i < n; i++)
        Q[i] = (C[i] + M[i] * eta) / eta;
}

/* one backward pass at a fixed eta; GPSC_ENOTPD when some Quu is not PD */
static int pass(gpsc_traj_lg_t *out, const gpsc_lqr_problem_t *p, double eta, gpsc_traj_dims_t d,
                gpsc_arena_t *scratch)
{
    int T = d.T, dX = d.dX, dU = d.dU, dXU = dX + dU;
    size_t nM = (size_t)dXU * dXU;
    size_t mark = gpsc_arena_mark(scratch);
    double *Vxx = take(scratch, (size_t)dX * dX); /* value Hessian at t+1 */
    double *Vx = take(scratch, (size_t)dX);       /* value gradient at t+1 */
    double *Qtt = take(scratch, nM);
    double *Qt = take(scratch, (size_t)dXU);
    double *W = take(scratch, (size_t)dX * dXU); /* Vxx Fm */
    double *g = take(scratch, (size_t)dX);       /* Vx + Vxx fv */
    if (!Vxx || !Vx || !Qtt || !Qt || !W || !g) {
        gpsc_arena_free_to(scratch, mark);
        return GPSC_ENOSPC;
    }
    int rc = 0;
    for (int t = T - 1; t >= 0 && !rc; t--) {
        /* surrogate cost (C + eta M) / eta = l/eta - log pi_ref */
        surrogate(Qtt, p->Cm + (size_t)t * nM, p->extra_Cm ? p->extra_Cm + (size_t)t * nM : NULL,
                  p->pref->M + (size_t)t * nM, eta, nM);
        surrogate(Qt, p->cv + (size_t)t * dXU, p->extra_cv ? p->extra_cv + (size_t)t * dXU : NULL,
                  p->pref->v + (size_t)t * dXU, eta, (size_t)dXU);

        /* the value function of t+1 through the dynamics */
        if (t < T - 1) {
            const double *F = p->Fm + (size_t)t * dX * dXU;
            gpsc_la_gemm(W, Vxx, F, dX, dXU, dX, false, false, 1.0, 0.0);
            gpsc_la_gemm(Qtt, F, W, dXU, dXU, dX, true, false, 1.0, 1.0);
            memcpy(g, Vx, sizeof(double) * (size_t)dX);
            gpsc_la_gemv(g, Vxx, p->fv + (size_t)t * dX, dX, dX, false, 1.0, 1.0);
            gpsc_la_gemv(Qt, F, g, dX, dXU, true, 1.0, 1.0);
        }

        size_t ou = (size_t)t * dU * dU;
        rc = gpsc_lqr_step(out->K + (size_t)t * dU * dX, out->k + (size_t)t * dU,
                           out->pol_covar + ou, out->inv_pol_covar + ou, out->chol_pol_covar + ou,
                           Vxx, Vx, Qtt, Qt, dX, dU, scratch);
    }
    gpsc_arena_free_to(scratch, mark);
    return rc;
}

/* argument checks shared by both entry points */
static int check_args(gpsc_traj_lg_t *out, double *eta_used, int *n_bumps, double eta, double del0,
                      gpsc_traj_dims_t d, gpsc_arena_t *scratch)
{
    if (eta_used) *eta_used = eta;
    if (n_bumps) *n_bumps = 0;
    if (!out || !out->K || !out->k || !out->pol_covar || !out->inv_pol_covar ||
        !out->chol_pol_covar || !eta_used || !n_bumps || !scratch || !gpsc_traj_dims_ok(d))
        return GPSC_EINVAL;
    if (!isfinite(eta) || !isfinite(del0)) return GPSC_ENONFINITE;
    if (!(eta > 0.0) || !(del0 > 0.0)) return GPSC_EINVAL;
    return 0;
}

int gpsc_lqr_backward_unchecked(gpsc_traj_lg_t *out, double *eta_used, int *n_bumps,
                                const gpsc_lqr_problem_t *p, double eta, double del0,
                                gpsc_traj_dims_t d, gpsc_arena_t *scratch)
{
    int rc = check_args(out, eta_used, n_bumps, eta, del0, d, scratch);
    if (rc) return rc;
    if (!p || !p->Fm || !p->fv || !p->Cm || !p->cv || !p->pref || !p->pref->M || !p->pref->v)
        return GPSC_EINVAL;

    /* non-PD fallback: eta0 + del0, eta0 + 2 del0, eta0 + 4 del0, ... */
    double eta0 = eta, del = del0;
    for (;;) {
        rc = pass(out, p, eta, d, scratch);
        if (rc != GPSC_ENOTPD) break;
        ++*n_bumps;
        eta = eta0 + del;
        del *= 2.0;
        *eta_used = eta;
        if (eta >= GPSC_LQR_ETA_LIMIT) return GPSC_ENOTPD;
    }
    *eta_used = eta;
    return rc;
}

int gpsc_lqr_backward(gpsc_traj_lg_t *out, double *eta_used, int *n_bumps,
                      const gpsc_lqr_problem_t *p, double eta, double del0, gpsc_traj_dims_t d,
                      gpsc_arena_t *scratch)
{
    int rc = check_args(out, eta_used, n_bumps, eta, del0, d, scratch);
    if (!rc) rc = gpsc_lqr_problem_check(p, d);
    if (!rc) rc = gpsc_lqr_backward_unchecked(out, eta_used, n_bumps, p, eta, del0, d, scratch);
    return rc;
}
