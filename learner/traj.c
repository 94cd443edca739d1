/* traj.c — forward pass, controller KL and Laplace cost (see traj.h). */
#include "traj.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "common/error.h"
#include "common/la.h"

/* bytes the arena needs for n doubles */
static size_t need(size_t n)
{
    return gpsc_arena_need(n * sizeof(double));
}

static double *take(gpsc_arena_t *a, size_t n)
{
    return gpsc_arena_alloc(a, n * sizeof(double));
}

bool gpsc_traj_dims_ok(gpsc_traj_dims_t d)
{
    if (d.T < 1 || d.dX < 1 || d.dU < 1) return false;
    long long dxu = (long long)d.dX + d.dU;
    return (long long)d.T * dxu * dxu < INT_MAX;
}

size_t gpsc_traj_quad_doubles(gpsc_traj_dims_t d)
{
    size_t dxu = (size_t)d.dX + (size_t)d.dU;
    return (size_t)d.T * (dxu * dxu + dxu + 2);
}

void gpsc_traj_quad_layout(gpsc_traj_quad_t *q, double *mem, gpsc_traj_dims_t d)
{
    size_t dxu = (size_t)d.dX + (size_t)d.dU, T = (size_t)d.T;
    q->M = mem;
    q->v = q->M + T * dxu * dxu;
    q->c = q->v + T * dxu;
    q->logdet = q->c + T;
}

/* -- the quadratic form of one step --------------------------------------- */

/* scratch of quad_step: Z (dU x dXU), z (dU) */
static size_t quad_step_scratch(int dX, int dU)
{
    return need((size_t)dU * (size_t)(dX + dU)) + need((size_t)dU);
}

/* M (dXU x dXU), v (dXU), *c, *logdet of -log N(u; K x + k, U^T U) for one
 * step. B = [-K, I] gives M = B^T P B and v = -B^T P k with P = U^-1 U^-T;
 * with Z = U^-T B and z = U^-T k that is M = Z^T Z, v = -Z^T z and
 * c = 0.5 z^T z. Z is (dU x dXU), z (dU): caller scratch. */
static void quad_step(double *M, double *v, double *c, double *logdet, const double *K,
                      const double *k, const double *U, int dX, int dU, double *Z, double *z)
{
    int dXU = dX + dU;
    for (int i = 0; i < dU; i++) {
        for (int j = 0; j < dX; j++)
            Z[i * dXU + j] = -K[i * dX + j];
        for (int j = 0; j < dU; j++)
            Z[i * dXU + dX + j] = i == j ? 1.0 : 0.0;
        z[i] = k[i];
    }
    /* U^T Z = B and U^T z = k */
    gpsc_la_trsm(Z, U, dU, dXU, true, true);
    gpsc_la_trsm(z, U, dU, 1, true, true);
    gpsc_la_syrk(M, Z, dXU, dU, true, 1.0, 0.0);
    gpsc_la_gemv(v, Z, z, dU, dXU, true, -1.0, 0.0);
    *c = 0.5 * gpsc_la_dot(z, z, dU);
    *logdet = gpsc_la_chol_logdet(U, dU);
}

/* upper factor of step t of controller c: its chol_pol_covar, or a fresh
 * factor of pol_covar in `buf` (dU x dU) */
static int step_chol(const double **U, const gpsc_traj_lg_t *c, int t, int dU, double *buf)
{
    size_t o = (size_t)t * (size_t)dU * (size_t)dU;
    if (c->chol_pol_covar) {
        *U = c->chol_pol_covar + o;
        return 0;
    }
    int rc = gpsc_la_chol(buf, c->pol_covar + o, dU);
    *U = buf;
    return rc;
}

/* every array of controller c that the quad needs is present and finite */
static int check_lg_quad(const gpsc_traj_lg_t *c, gpsc_traj_dims_t d)
{
    if (!c || !c->K || !c->k || (!c->chol_pol_covar && !c->pol_covar)) return GPSC_EINVAL;
    size_t T = (size_t)d.T, dX = (size_t)d.dX, dU = (size_t)d.dU;
    if (!gpsc_la_all_finite(c->K, T * dU * dX) || !gpsc_la_all_finite(c->k, T * dU))
        return GPSC_ENONFINITE;
    const double *S = c->chol_pol_covar ? c->chol_pol_covar : c->pol_covar;
    if (!gpsc_la_all_finite(S, T * dU * dU)) return GPSC_ENONFINITE;
    if (c->chol_pol_covar) {
        /* a factor must have a positive diagonal for its log det */
        for (size_t t = 0; t < T; t++)
            for (size_t i = 0; i < dU; i++)
                if (!(c->chol_pol_covar[(t * dU + i) * dU + i] > 0.0)) return GPSC_ENOTPD;
    }
    return 0;
}

size_t gpsc_traj_quad_build_scratch_size(gpsc_traj_dims_t d)
{
    return quad_step_scratch(d.dX, d.dU) + need((size_t)d.dU * (size_t)d.dU);
}

int gpsc_traj_quad_build(gpsc_traj_quad_t *q, const gpsc_traj_lg_t *c, gpsc_traj_dims_t d,
                         gpsc_arena_t *scratch)
{
    if (!q || !q->M || !q->v || !q->c || !q->logdet || !scratch || !gpsc_traj_dims_ok(d))
        return GPSC_EINVAL;
    int rc = check_lg_quad(c, d);
    if (rc) return rc;
    int dX = d.dX, dU = d.dU, dXU = dX + dU;
    size_t mark = gpsc_arena_mark(scratch);
    double *Z = take(scratch, (size_t)dU * (size_t)dXU);
    double *z = take(scratch, (size_t)dU);
    double *Ubuf = take(scratch, (size_t)dU * (size_t)dU);
    if (!Z || !z || !Ubuf) {
        gpsc_arena_free_to(scratch, mark);
        return GPSC_ENOSPC;
    }
    for (int t = 0; t < d.T && !rc; t++) {
        const double *U;
        rc = step_chol(&U, c, t, dU, Ubuf);
        if (rc) break;
        quad_step(q->M + (size_t)t * dXU * dXU, q->v + (size_t)t * dXU, &q->c[t], &q->logdet[t],
                  c->K + (size_t)t * dU * dX, c->k + (size_t)t * dU, U, dX, dU, Z, z);
    }
    gpsc_arena_free_to(scratch, mark);
    return rc;
}

/* -- forward pass ---------------------------------------------------------- */

size_t gpsc_traj_forward_scratch_size(gpsc_traj_dims_t d)
{
    size_t dX = (size_t)d.dX, dU = (size_t)d.dU, dXU = dX + dU;
    return need(dX * dX) + need(dX) + need(dU * dX) + need(dU * dU) + need(dX * dXU);
}

int gpsc_traj_dyn_check(const gpsc_traj_dyn_t *dyn, gpsc_traj_dims_t d)
{
    if (!gpsc_traj_dims_ok(d) || !dyn || !dyn->Fm || !dyn->fv || !dyn->dyn_covar || !dyn->x0mu ||
        !dyn->x0sigma)
        return GPSC_EINVAL;
    size_t T = (size_t)d.T, dX = (size_t)d.dX, dXU = dX + (size_t)d.dU;
    /* row T-1 is never read, so it need not be finite */
    size_t Tm = T - 1;
    if (!gpsc_la_all_finite(dyn->Fm, Tm * dX * dXU) || !gpsc_la_all_finite(dyn->fv, Tm * dX) ||
        !gpsc_la_all_finite(dyn->dyn_covar, Tm * dX * dX) || !gpsc_la_all_finite(dyn->x0mu, dX) ||
        !gpsc_la_all_finite(dyn->x0sigma, dX * dX))
        return GPSC_ENONFINITE;
    return 0;
}

int gpsc_traj_forward(double *mu, double *sigma, const gpsc_traj_dyn_t *dyn,
                      const gpsc_traj_lg_t *c, gpsc_traj_dims_t d, gpsc_arena_t *scratch)
{
    if (!mu || !sigma || !c || !c->K || !c->k || !c->pol_covar || !scratch || !gpsc_traj_dims_ok(d))
        return GPSC_EINVAL;
    int rc = gpsc_traj_dyn_check(dyn, d);
    if (rc) return rc;
    size_t T = (size_t)d.T, dX = (size_t)d.dX, dU = (size_t)d.dU, dXU = dX + dU;
    if (!gpsc_la_all_finite(c->K, T * dU * dX) || !gpsc_la_all_finite(c->k, T * dU) ||
        !gpsc_la_all_finite(c->pol_covar, T * dU * dU))
        return GPSC_ENONFINITE;
    rc = gpsc_traj_forward_unchecked(mu, sigma, dyn, c, d, scratch);
    if (!rc && (!gpsc_la_all_finite(mu, T * dXU) || !gpsc_la_all_finite(sigma, T * dXU * dXU)))
        rc = GPSC_ENONFINITE;
    return rc;
}

int gpsc_traj_forward_unchecked(double *mu, double *sigma, const gpsc_traj_dyn_t *dyn,
                                const gpsc_traj_lg_t *c, gpsc_traj_dims_t d, gpsc_arena_t *scratch)
{
    if (!mu || !sigma || !dyn || !c || !c->K || !c->k || !c->pol_covar || !scratch ||
        !gpsc_traj_dims_ok(d))
        return GPSC_EINVAL;
    int T = d.T, dX = d.dX, dU = d.dU, dXU = dX + dU;

    size_t mark = gpsc_arena_mark(scratch);
    double *S = take(scratch, (size_t)dX * dX);   /* state covariance (dX x dX) */
    double *mx = take(scratch, (size_t)dX);       /* state mean (dX) */
    double *KS = take(scratch, (size_t)dU * dX);  /* K S (dU x dX) */
    double *KSK = take(scratch, (size_t)dU * dU); /* K S K^T (dU x dU) */
    double *W = take(scratch, (size_t)dX * dXU);  /* Fm sigma (dX x dXU) */
    if (!S || !mx || !KS || !KSK || !W) {
        gpsc_arena_free_to(scratch, mark);
        return GPSC_ENOSPC;
    }
    gpsc_la_copy(S, dyn->x0sigma, (size_t)dX * dX);
    gpsc_la_sym(S, dX);
    gpsc_la_copy(mx, dyn->x0mu, (size_t)dX);

    for (int t = 0; t < T; t++) {
        const double *K = c->K + (size_t)t * dU * dX;
        const double *k = c->k + (size_t)t * dU;
        const double *C = c->pol_covar + (size_t)t * dU * dU;
        double *sg = sigma + (size_t)t * dXU * dXU;
        double *m = mu + (size_t)t * dXU;

        /* joint covariance [[S, S K^T], [K S, K S K^T + C]] (seed 000 B.3) */
        gpsc_la_gemm(KS, K, S, dU, dX, dX, false, false, 1.0, 0.0);
        gpsc_la_gemm(KSK, KS, K, dU, dU, dX, false, true, 1.0, 0.0);
        for (int i = 0; i < dX; i++) {
            memcpy(sg + (size_t)i * dXU, S + (size_t)i * dX, sizeof(double) * (size_t)dX);
            for (int j = 0; j < dU; j++)
                sg[(size_t)i * dXU + dX + j] = KS[(size_t)j * dX + i];
        }
        for (int i = 0; i < dU; i++) {
            double *row = sg + (size_t)(dX + i) * dXU;
            memcpy(row, KS + (size_t)i * dX, sizeof(double) * (size_t)dX);
            for (int j = 0; j < dU; j++)
                row[dX + j] = KSK[i * dU + j] + C[i * dU + j];
        }
        /* the uu block: K S K^T and C are symmetric in exact arithmetic */
        for (int i = 0; i < dU; i++)
            for (int j = i + 1; j < dU; j++) {
                double *a = sg + (size_t)(dX + i) * dXU + dX + j;
                double *b = sg + (size_t)(dX + j) * dXU + dX + i;
                double s = 0.5 * (*a + *b);
                *a = s;
                *b = s;
            }

        /* mean [mu_x; K mu_x + k] */
        memcpy(m, mx, sizeof(double) * (size_t)dX);
        gpsc_la_gemv(m + dX, K, mx, dU, dX, false, 1.0, 0.0);
        for (int i = 0; i < dU; i++)
            m[dX + i] += k[i];

        if (t == T - 1) break;
        /* S' = Fm sigma Fm^T + dyn_covar, mu_x' = Fm mu + fv */
        const double *F = dyn->Fm + (size_t)t * dX * dXU;
        gpsc_la_gemm(W, F, sg, dX, dXU, dXU, false, false, 1.0, 0.0);
        gpsc_la_copy(S, dyn->dyn_covar + (size_t)t * dX * dX, (size_t)dX * dX);
        gpsc_la_gemm(S, W, F, dX, dX, dXU, false, true, 1.0, 1.0);
        gpsc_la_sym(S, dX);
        gpsc_la_copy(mx, dyn->fv + (size_t)t * dX, (size_t)dX);
        gpsc_la_gemv(mx, F, m, dX, dXU, false, 1.0, 1.0);
    }
    gpsc_arena_free_to(scratch, mark);
    return 0;
}

/* -- KL --------------------------------------------------------------------- */

size_t gpsc_traj_kl_scratch_size(gpsc_traj_dims_t d)
{
    size_t dXU = (size_t)d.dX + (size_t)d.dU;
    return quad_step_scratch(d.dX, d.dU) + need(dXU * dXU) + need(dXU) +
           need((size_t)d.dU * (size_t)d.dU);
}

int gpsc_traj_kl(double *kl_t, double *kl, const double *mu, const double *sigma,
                 const gpsc_traj_lg_t *cn, const gpsc_traj_quad_t *qp, gpsc_traj_dims_t d,
                 gpsc_arena_t *scratch)
{
    if (!mu || !sigma || !qp || !qp->M || !qp->v || !qp->c || !qp->logdet || !scratch ||
        !gpsc_traj_dims_ok(d))
        return GPSC_EINVAL;
    int rc = check_lg_quad(cn, d);
    if (rc) return rc;
    size_t T = (size_t)d.T, dXU = (size_t)d.dX + (size_t)d.dU, nM = dXU * dXU;
    if (!gpsc_la_all_finite(mu, T * dXU) || !gpsc_la_all_finite(sigma, T * nM) ||
        !gpsc_la_all_finite(qp->M, T * nM) || !gpsc_la_all_finite(qp->v, T * dXU) ||
        !gpsc_la_all_finite(qp->c, T) || !gpsc_la_all_finite(qp->logdet, T))
        return GPSC_ENONFINITE;
    return gpsc_traj_kl_unchecked(kl_t, kl, mu, sigma, cn, qp, d, scratch);
}

int gpsc_traj_kl_unchecked(double *kl_t, double *kl, const double *mu, const double *sigma,
                           const gpsc_traj_lg_t *cn, const gpsc_traj_quad_t *qp, gpsc_traj_dims_t d,
                           gpsc_arena_t *scratch)
{
    if (!mu || !sigma || !cn || !cn->K || !cn->k || (!cn->chol_pol_covar && !cn->pol_covar) ||
        !qp || !qp->M || !qp->v || !qp->c || !qp->logdet || !scratch || !gpsc_traj_dims_ok(d))
        return GPSC_EINVAL;
    int rc = 0;
    int T = d.T, dX = d.dX, dU = d.dU, dXU = dX + dU;
    size_t nM = (size_t)dXU * dXU;

    size_t mark = gpsc_arena_mark(scratch);
    double *Mn = take(scratch, nM);
    double *vn = take(scratch, (size_t)dXU);
    double *Z = take(scratch, (size_t)dU * dXU);
    double *z = take(scratch, (size_t)dU);
    double *Ubuf = take(scratch, (size_t)dU * dU);
    if (!Mn || !vn || !Z || !z || !Ubuf) {
        gpsc_arena_free_to(scratch, mark);
        return GPSC_ENOSPC;
    }
    double total = 0.0;
    for (int t = 0; t < T; t++) {
        const double *U;
        rc = step_chol(&U, cn, t, dU, Ubuf);
        if (rc) break;
        double cn_t, ldn;
        quad_step(Mn, vn, &cn_t, &ldn, cn->K + (size_t)t * dU * dX, cn->k + (size_t)t * dU, U, dX,
                  dU, Z, z);
        const double *Mp = qp->M + (size_t)t * nM, *vp = qp->v + (size_t)t * dXU;
        const double *m = mu + (size_t)t * dXU, *sg = sigma + (size_t)t * nM;
        /* mu^T dM mu, mu^T dv and <sigma, dM> with dM = Mn - Mp */
        double q = 0.0, l = 0.0, s = 0.0;
        for (int i = 0; i < dXU; i++) {
            double r = 0.0;
            for (int j = 0; j < dXU; j++) {
                double dm = Mn[(size_t)i * dXU + j] - Mp[(size_t)i * dXU + j];
                r += dm * m[j];
                s += sg[(size_t)i * dXU + j] * dm;
            }
            q += m[i] * r;
            l += m[i] * (vn[i] - vp[i]);
        }
        /* same order of terms as the reference `traj_distr_kl` */
        double v = -0.5 * q - l - cn_t + qp->c[t] - 0.5 * s - 0.5 * ldn + 0.5 * qp->logdet[t];
        if (!isfinite(v)) {
            rc = GPSC_ENONFINITE;
            break;
        }
        v = v > 0.0 ? v : 0.0;
        if (kl_t) kl_t[t] = v;
        total += v;
    }
    gpsc_arena_free_to(scratch, mark);
    if (rc) return rc;
    if (kl) *kl = total;
    return 0;
}

/* -- Laplace expected cost ----------------------------------------------- */

int gpsc_traj_laplace_cost(double *cost_t, double *cost, const double *mu, const double *sigma,
                           const double *cc, const double *cv, const double *Cm, int T, int dXU)
{
    if (!mu || !sigma || !cc || !cv || !Cm || T < 1 || dXU < 1 ||
        (long long)T * dXU * dXU >= INT_MAX)
        return GPSC_EINVAL;
    size_t nM = (size_t)dXU * dXU;
    if (!gpsc_la_all_finite(mu, (size_t)T * dXU) || !gpsc_la_all_finite(sigma, (size_t)T * nM) ||
        !gpsc_la_all_finite(cc, (size_t)T) || !gpsc_la_all_finite(cv, (size_t)T * dXU) ||
        !gpsc_la_all_finite(Cm, (size_t)T * nM))
        return GPSC_ENONFINITE;
    double total = 0.0;
    for (int t = 0; t < T; t++) {
        const double *m = mu + (size_t)t * dXU, *sg = sigma + (size_t)t * nM;
        const double *C = Cm + (size_t)t * nM, *c = cv + (size_t)t * dXU;
        double s = 0.0, q = 0.0, l = 0.0;
        for (int i = 0; i < dXU; i++) {
            double r = 0.0;
            for (int j = 0; j < dXU; j++) {
                r += C[(size_t)i * dXU + j] * m[j];
                s += sg[(size_t)i * dXU + j] * C[(size_t)i * dXU + j];
            }
            q += m[i] * r;
            l += m[i] * c[i];
        }
        double v = cc[t] + 0.5 * s + 0.5 * q + l;
        if (cost_t) cost_t[t] = v;
        total += v;
    }
    if (!isfinite(total)) return GPSC_ENONFINITE;
    if (cost) *cost = total;
    return 0;
}

size_t gpsc_traj_estimate_cost_scratch_size(gpsc_traj_dims_t d)
{
    size_t dXU = (size_t)d.dX + (size_t)d.dU, T = (size_t)d.T;
    return need(T * dXU) + need(T * dXU * dXU) + gpsc_traj_forward_scratch_size(d);
}

int gpsc_traj_estimate_cost(double *cost_t, double *cost, const gpsc_traj_dyn_t *dyn,
                            const gpsc_traj_lg_t *c, const double *cc, const double *cv,
                            const double *Cm, gpsc_traj_dims_t d, gpsc_arena_t *scratch)
{
    if (!scratch || !gpsc_traj_dims_ok(d)) return GPSC_EINVAL;
    size_t dXU = (size_t)d.dX + (size_t)d.dU, T = (size_t)d.T;
    size_t mark = gpsc_arena_mark(scratch);
    double *mu = take(scratch, T * dXU);
    double *sigma = take(scratch, T * dXU * dXU);
    int rc = (!mu || !sigma) ? GPSC_ENOSPC : gpsc_traj_forward(mu, sigma, dyn, c, d, scratch);
    if (!rc) rc = gpsc_traj_laplace_cost(cost_t, cost, mu, sigma, cc, cv, Cm, d.T, (int)dXU);
    gpsc_arena_free_to(scratch, mark);
    return rc;
}
