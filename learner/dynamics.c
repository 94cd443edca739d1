#include "dynamics.h"

#include "common/error.h"
#include "common/la.h"

/* bytes the arena consumes for n doubles (0 doubles still take a slot) */
static size_t need_d(size_t n)
{
    return gpsc_arena_need(n ? n * sizeof(double) : 1);
}

static double *take_d(gpsc_arena_t *a, size_t n)
{
    return gpsc_arena_alloc(a, n ? n * sizeof(double) : 1);
}

size_t gpsc_dynamics_niw_regression_scratch_size(int N, int D, int a)
{
    size_t n = (size_t)N, d = (size_t)D, na = (size_t)a, nb = (size_t)(D - a);
    return 2 * need_d(n * d) + need_d(d * d) + 2 * need_d(d) + need_d(na * na) + need_d(na * nb) +
           need_d(nb * na);
}

/* one row of the MAP covariance: S[j] = (n S[j] + Phi[j] + c (di d[j])) /
 * den for j < len (blocks of 8 let the compiler use packed arithmetic at
 * -O2; each entry is computed exactly as in a plain loop) */
static void map_row(double *restrict S, const double *restrict Phi, const double *restrict d,
                    double di, double n, double c, double den, int len)
{
    int j = 0;
    for (; j + 8 <= len; j += 8) {
        double *s = S + j;
        const double *p = Phi + j, *e = d + j;
        for (int q = 0; q < 8; q++)
            s[q] = (n * s[q] + p[q] + c * (di * e[q])) / den;
    }
    for (; j < len; j++)
        S[j] = (n * S[j] + Phi[j] + c * (di * d[j])) / den;
}

int gpsc_dynamics_niw_regression(double *Fm, double *fv, double *covar, double *mun, double *sigma,
                                 const double *pts, const gpsc_niw_t *prior, double sig_reg, int N,
                                 int D, int a, gpsc_arena_t *arena)
{
    int b = D - a;
    size_t mark = gpsc_arena_mark(arena);
    double *diff = take_d(arena, (size_t)N * D);
    double *wdiff = take_d(arena, (size_t)N * D);
    double *S = sigma ? sigma : take_d(arena, (size_t)D * D);
    double *mu = mun ? mun : take_d(arena, (size_t)D);
    double *Uaa = take_d(arena, (size_t)a * a);
    double *Xab = take_d(arena, (size_t)a * b);
    double *FS = take_d(arena, (size_t)b * a);
    double *dmu = take_d(arena, (size_t)D); /* mun - mu0 */
    if (!diff || !wdiff || !S || !mu || !Uaa || !Xab || !FS || !dmu) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    double w = 1.0 / N;

    /* empirical mean and covariance with equal weights w = 1/N */
    gpsc_la_zero(mu, (size_t)D);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++)
            mu[j] += pts[(size_t)i * D + j] * w;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            diff[(size_t)i * D + j] = pts[(size_t)i * D + j] - mu[j];
            wdiff[(size_t)i * D + j] = diff[(size_t)i * D + j] * w;
        }
    gpsc_la_gemm(S, wdiff, diff, D, D, N, true, false, 1.0, 0.0);
    gpsc_la_sym(S, D);

    /* MAP estimate under the NIW prior (README 5.7 step 2):
     * sigma = (N E + Phi + N m/(N+m) (mun-mu0)(mun-mu0)^T) / (N + n0) */
    if (prior) {
        double m = prior->m, n0 = prior->n0;
        double c = ((double)N * m) / ((double)N + m);
        double den = (double)N + n0;
        for (int j = 0; j < D; j++)
            dmu[j] = mu[j] - prior->mu0[j];
        for (int i = 0; i < D; i++)
            map_row(S + (size_t)i * D, prior->Phi + (size_t)i * D, dmu, dmu[i], (double)N, c, den,
                    D);
        gpsc_la_sym(S, D);
    }
    /* ridge on the conditioning block (correction q1: sig_reg * I) */
    for (int i = 0; i < a; i++)
        S[i * D + i] += sig_reg;

    /* conditioning: Fm = (sigma_aa^-1 sigma_ab)^T by Cholesky */
    for (int i = 0; i < a; i++)
        for (int j = 0; j < a; j++)
            Uaa[i * a + j] = S[i * D + j];
    int rc = gpsc_la_chol(Uaa, Uaa, a);
    if (rc) {
        gpsc_arena_free_to(arena, mark);
        return rc;
    }
    for (int i = 0; i < a; i++)
        for (int j = 0; j < b; j++)
            Xab[i * b + j] = S[i * D + a + j];
    gpsc_la_chol_solve(Xab, Uaa, Xab, a, b);
    gpsc_la_transpose(Fm, Xab, a, b);

    /* fv = mun_b - Fm mun_a */
    for (int i = 0; i < b; i++)
        fv[i] = mu[a + i];
    gpsc_la_gemv(fv, Fm, mu, b, a, false, -1.0, 1.0);

    /* covar = sym(sigma_bb - (Fm sigma_aa) Fm^T), the reference's literal
     * product (not the shortcut sigma_ba Fm^T) */
    for (int i = 0; i < a; i++) /* sigma_aa again; the factor is done */
        for (int j = 0; j < a; j++)
            Uaa[i * a + j] = S[i * D + j];
    gpsc_la_gemm(FS, Fm, Uaa, b, a, a, false, false, 1.0, 0.0);
    for (int i = 0; i < b; i++)
        for (int j = 0; j < b; j++)
            covar[i * b + j] = S[(size_t)(a + i) * D + a + j];
    gpsc_la_gemm(covar, FS, Fm, b, b, a, false, true, -1.0, 1.0);
    gpsc_la_sym(covar, b);
    gpsc_arena_free_to(arena, mark);
    return 0;
}

/* time steps whose GMM E-steps run as one batch: one triangular solve per
 * cluster for 16 N points instead of one per step (OpenBLAS packs the
 * factor once per call); a constant, so the scratch does not depend on T */
#define FIT_CHUNK 16

size_t gpsc_dynamics_fit_scratch_size(int N, int dX, int dU, int K)
{
    int D = 2 * dX + dU;
    size_t d = (size_t)D, cm = (size_t)FIT_CHUNK * (size_t)N;
    size_t inner = gpsc_gmm_prior_logobs_scratch_size(K, D);
    size_t reg = gpsc_dynamics_niw_regression_scratch_size(N, D, dX + dU);
    size_t est = gpsc_gmm_estep_scratch_size((int)cm, K, D);
    if (reg > inner) inner = reg;
    if (est > inner) inner = est;
    /* a chunk's points and log-likelihoods, the NIW, the initial-state
     * moments, the GMM's Cholesky factors */
    return need_d(cm * d) + need_d(cm * (size_t)K) + need_d(d) + need_d(d * d) +
           3 * need_d((size_t)dX) + need_d((size_t)K * d * d) + need_d((size_t)K) + inner;
}

/* mean and population variance (dividing by n) of column j of rows (n x ld) */
static void col_stats(double *mean, double *var, const double *rows, int n, int ld, int j)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += rows[(size_t)i * ld + j];
    double m = s / n;
    double v = 0.0;
    for (int i = 0; i < n; i++) {
        double d = rows[(size_t)i * ld + j] - m;
        v += d * d;
    }
    *mean = m;
    *var = v / n;
}

int gpsc_dynamics_fit(gpsc_dynamics_fit_out_t *out, const gpsc_dynamics_cfg_t *cfg,
                      const gpsc_dynamics_prior_t *prior, const double *X, const double *U, int N,
                      int T, int dX, int dU, gpsc_arena_t *arena)
{
    if (N < 2) return GPSC_EINVAL;
    int dXU = dX + dU, D = 2 * dX + dU;
    const gpsc_gmm_t *gmm = prior ? prior->gmm : NULL;
    if (gmm && gmm->D != D) return GPSC_EDIM;
    int K = gmm ? gmm->K : 1;
    size_t mark = gpsc_arena_mark(arena);
    double *pts = take_d(arena, (size_t)FIT_CHUNK * N * D);    /* step-major */
    double *logobs = take_d(arena, (size_t)FIT_CHUNK * N * K); /* their E-step */
    double *mu0 = take_d(arena, (size_t)D);
    double *Phi = take_d(arena, (size_t)D * D);
    double *v0 = take_d(arena, (size_t)dX);
    double *mu0p = take_d(arena, (size_t)dX);
    double *var0p = take_d(arena, (size_t)dX);
    if (!pts || !logobs || !mu0 || !Phi || !v0 || !mu0p || !var0p) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    gpsc_la_zero(out->Fm, (size_t)T * dX * dXU);
    gpsc_la_zero(out->fv, (size_t)T * dX);
    gpsc_la_zero(out->dyn_covar, (size_t)T * dX * dX);

    /* the GMM's covariances are factored once for all T-1 priors (the
     * factors gpsc_gmm_prior would compute at every step) */
    double *gL = NULL, *ghl = NULL;
    if (gmm && T > 1) {
        gL = take_d(arena, (size_t)K * D * D);
        ghl = take_d(arena, (size_t)K);
        int rc = !gL || !ghl ? GPSC_ENOSPC : gpsc_gmm_chol(gL, ghl, gmm);
        if (rc) {
            gpsc_arena_free_to(arena, mark);
            return rc;
        }
    }

    /* one regression per step on the points [x_t, u_t, x_{t+1}]; the
     * E-steps of the steps of a chunk run as one (each point's
     * log-likelihood is computed on its own: batching is for speed, and
     * gives the per-step bits on the reference vectors), then each step's
     * prior (gpsc_gmm_prior = E-step + gpsc_gmm_prior_logobs) */
    gpsc_niw_t niw = {.D = D, .mu0 = mu0, .Phi = Phi};
    for (int t0 = 0; t0 + 1 < T; t0 += FIT_CHUNK) {
        int ns = T - 1 - t0 < FIT_CHUNK ? T - 1 - t0 : FIT_CHUNK;
        for (int s = 0; s < ns; s++)
            for (int n = 0; n < N; n++) {
                int t = t0 + s;
                double *p = pts + ((size_t)s * N + n) * D;
                gpsc_la_copy(p, X + ((size_t)n * T + t) * dX, (size_t)dX);
                gpsc_la_copy(p + dX, U + ((size_t)n * T + t) * dU, (size_t)dU);
                gpsc_la_copy(p + dXU, X + ((size_t)n * T + t + 1) * dX, (size_t)dX);
            }
        int rc = 0;
        if (gmm) rc = gpsc_gmm_estep_chol(logobs, gmm, gL, ghl, pts, ns * N, arena);
        for (int s = 0; s < ns && !rc; s++) {
            int t = t0 + s;
            if (gmm)
                rc = gpsc_gmm_prior_logobs(&niw, NULL, gmm, logobs + (size_t)s * N * K, N,
                                           prior->N_init, cfg->strength, arena);
            if (!rc)
                rc = gpsc_dynamics_niw_regression(
                    out->Fm + (size_t)t * dX * dXU, out->fv + (size_t)t * dX,
                    out->dyn_covar + (size_t)t * dX * dX, NULL, NULL, pts + (size_t)s * N * D,
                    gmm ? &niw : NULL, cfg->sig_reg, N, D, dXU, arena);
        }
        if (rc) {
            gpsc_arena_free_to(arena, mark);
            return rc;
        }
    }

    /* initial state: sample moments, variances floored, plus the prior's
     * initial-state NIW term (README 5.8) */
    gpsc_la_zero(out->x0sigma, (size_t)dX * dX);
    for (int j = 0; j < dX; j++) {
        col_stats(&out->x0mu[j], &v0[j], X, N, T * dX, j);
        out->x0sigma[j * dX + j] = v0[j] > cfg->initial_state_var ? v0[j] : cfg->initial_state_var;
    }
    if (prior && prior->X0 && prior->Np > 0) {
        double mp = dX * cfg->strength, n0p = mp;
        for (int j = 0; j < dX; j++)
            col_stats(&mu0p[j], &var0p[j], prior->X0, prior->Np, dX, j);
        double c = ((double)N * mp) / ((double)N + mp);
        double den = (double)N + n0p;
        for (int i = 0; i < dX; i++)
            for (int j = 0; j < dX; j++) {
                double phi = i == j ? var0p[i] * mp : 0.0;
                double outer = (out->x0mu[i] - mu0p[i]) * (out->x0mu[j] - mu0p[j]);
                out->x0sigma[i * dX + j] += phi + c * outer / den;
            }
    }
    gpsc_arena_free_to(arena, mark);
    return 0;
}
