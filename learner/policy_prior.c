#include "policy_prior.h"

#include <math.h>

#include "common/error.h"
#include "common/la.h"
#include "learner/dynamics.h"

/* bytes the arena consumes for n doubles (0 doubles still take a slot) */
static size_t need_d(size_t n)
{
    return gpsc_arena_need(n ? n * sizeof(double) : 1);
}

static double *take_d(gpsc_arena_t *a, size_t n)
{
    return gpsc_arena_alloc(a, n ? n * sizeof(double) : 1);
}

size_t gpsc_policy_prior_linearize_scratch_size(int N, int dX, int dU, int K)
{
    int D = dX + dU;
    size_t d = (size_t)D;
    size_t inner = gpsc_gmm_prior_logobs_scratch_size(K, D);
    size_t est = gpsc_gmm_estep_scratch_size(N, K, D);
    if (est > inner) inner = est;
    size_t reg = gpsc_dynamics_niw_regression_scratch_size(N, D, dX);
    if (reg > inner) inner = reg;
    /* + the GMM's Cholesky factors, computed once per call */
    return need_d((size_t)N * d) + need_d((size_t)N * (size_t)K) + need_d(d) + need_d(d * d) +
           need_d((size_t)dU * dU) + need_d((size_t)K * d * d) + need_d((size_t)K) + inner;
}

int gpsc_policy_prior_linearize(double *pol_K, double *pol_k, double *pol_S, const double *X,
                                const double *pol_mu, const double *pol_sig, const gpsc_gmm_t *gmm,
                                int N_init, double strength, double sig_reg, int N, int T, int dX,
                                int dU, gpsc_arena_t *arena)
{
    int D = dX + dU;
    if (gmm->D != D) return GPSC_EDIM;
    size_t mark = gpsc_arena_mark(arena);
    double *pts = take_d(arena, (size_t)N * D);
    double *logobs = take_d(arena, (size_t)N * gmm->K);
    double *mu0 = take_d(arena, (size_t)D);
    double *Phi = take_d(arena, (size_t)D * D);
    double *Sm = take_d(arena, (size_t)dU * dU);
    /* the GMM's covariances are factored once for all T priors (the
     * factors gpsc_gmm_prior would compute at every step), then each step
     * is an E-step with them and gpsc_gmm_prior_logobs */
    double *gL = take_d(arena, (size_t)gmm->K * D * D);
    double *ghl = take_d(arena, (size_t)gmm->K);
    if (!pts || !logobs || !mu0 || !Phi || !Sm || !gL || !ghl) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    if (T > 0) {
        int rc = gpsc_gmm_chol(gL, ghl, gmm);
        if (rc) {
            gpsc_arena_free_to(arena, mark);
            return rc;
        }
    }
    gpsc_niw_t niw = {.D = D, .mu0 = mu0, .Phi = Phi};
    size_t uu = (size_t)dU * dU;
    for (int t = 0; t < T; t++) {
        for (int n = 0; n < N; n++) {
            gpsc_la_copy(pts + (size_t)n * D, X + ((size_t)n * T + t) * dX, (size_t)dX);
            gpsc_la_copy(pts + (size_t)n * D + dX, pol_mu + ((size_t)n * T + t) * dU, (size_t)dU);
        }
        int rc = gpsc_gmm_estep_chol(logobs, gmm, gL, ghl, pts, N, arena);
        if (!rc) rc = gpsc_gmm_prior_logobs(&niw, NULL, gmm, logobs, N, N_init, strength, arena);
        /* the reference regularises the first step only */
        if (!rc)
            rc = gpsc_dynamics_niw_regression(pol_K + (size_t)t * dU * dX, pol_k + (size_t)t * dU,
                                              pol_S + (size_t)t * uu, NULL, NULL, pts, &niw,
                                              t == 0 ? sig_reg : 0.0, N, D, dX, arena);
        if (rc) {
            gpsc_arena_free_to(arena, mark);
            return rc;
        }
        /* the network's covariance, averaged over the samples (the
         * reference collapses it because it does not depend on the state) */
        gpsc_la_zero(Sm, uu);
        for (int n = 0; n < N; n++)
            gpsc_la_axpy(Sm, 1.0, pol_sig + ((size_t)n * T + t) * uu, (int)uu);
        for (size_t i = 0; i < uu; i++)
            pol_S[(size_t)t * uu + i] += Sm[i] / N;
    }
    gpsc_arena_free_to(arena, mark);
    return 0;
}

void gpsc_policy_prior_sstep_targets(double *tgt_mu, double *tgt_prc, double *tgt_wt,
                                     const double *X, const double *K, const double *k,
                                     const double *inv_pol_covar, const double *pol_wt, int N,
                                     int T, int dX, int dU)
{
    size_t uu = (size_t)dU * dU;
    for (int n = 0; n < N; n++)
        for (int t = 0; t < T; t++) {
            size_t nt = (size_t)n * T + t;
            const double *x = X + nt * dX;
            const double *Kt = K + (size_t)t * dU * dX;
            for (int i = 0; i < dU; i++) {
                double s = 0.0;
                for (int j = 0; j < dX; j++)
                    s += Kt[(size_t)i * dX + j] * x[j];
                tgt_mu[nt * dU + i] = s + k[(size_t)t * dU + i];
            }
            gpsc_la_copy(tgt_prc + nt * uu, inv_pol_covar + (size_t)t * uu, uu);
            tgt_wt[nt] = pol_wt[t];
        }
}

/* in-place ascending heap sort (no allocation, deterministic) */
static void sift_down(double *a, size_t root, size_t n)
{
    for (;;) {
        size_t c = 2 * root + 1;
        if (c >= n) return;
        if (c + 1 < n && a[c + 1] > a[c]) c++;
        if (!(a[c] > a[root])) return;
        double tmp = a[c];
        a[c] = a[root];
        a[root] = tmp;
        root = c;
    }
}

static void heap_sort(double *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;)
        sift_down(a, i, n);
    for (size_t end = n; end-- > 1;) {
        double tmp = a[0];
        a[0] = a[end];
        a[end] = tmp;
        sift_down(a, 0, end);
    }
}

size_t gpsc_policy_prior_sstep_normalize_scratch_size(size_t n)
{
    return need_d(n);
}

int gpsc_policy_prior_sstep_normalize(double *wt, size_t n, gpsc_arena_t *arena)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += wt[i];
    if (!(sum > 0.0) || !isfinite(sum)) return GPSC_EINVAL;
    size_t mark = gpsc_arena_mark(arena);
    double *big = take_d(arena, n);
    if (!big) return GPSC_ENOSPC;
    /* mean one, then the robust median of the weights above 1e-2 */
    double f = (double)n / sum;
    for (size_t i = 0; i < n; i++)
        wt[i] *= f;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (wt[i] > 1e-2) big[m++] = wt[i];
    if (m == 0) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_EINVAL;
    }
    heap_sort(big, m);
    double mn = m % 2 ? big[m / 2] : (big[m / 2 - 1] + big[m / 2]) / 2.0;
    gpsc_arena_free_to(arena, mark);
    /* at most twice the median, then the median is one */
    for (size_t i = 0; i < n; i++) {
        if (wt[i] > 2.0 * mn) wt[i] = 2.0 * mn;
        wt[i] /= mn;
    }
    return 0;
}

void gpsc_policy_prior_sstep_pol_var(double *pol_var, const double *tgt_prc, const double *tgt_wt,
                                     size_t n, int dU, double ent_reg)
{
    size_t uu = (size_t)dU * dU;
    double wsum = 0.0;
    for (size_t i = 0; i < n; i++)
        wsum += tgt_wt[i];
    /* only the diagonal of A = (sum_i prc_i + 2 n ent_reg ones) / sum(w)
     * is used */
    for (int j = 0; j < dU; j++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += tgt_prc[i * uu + (size_t)j * dU + j];
        double A = (s + 2.0 * (double)n * ent_reg) / wsum;
        pol_var[j] = 1.0 / A;
    }
}
