#include "gmm.h"

#include <math.h>
#include <stdbool.h>

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

double gpsc_gmm_logsumexp(const double *v, int n, int stride)
{
    double m = -INFINITY;
    for (int i = 0; i < n; i++)
        if (v[(size_t)i * stride] > m) m = v[(size_t)i * stride];
    if (m == -INFINITY) m = 0.0;
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += exp(v[(size_t)i * stride] - m);
    return log(s) + m;
}

size_t gpsc_gmm_estep_scratch_size(int M, int K, int D)
{
    (void)K;
    return need_d((size_t)D * D) + 2 * need_d((size_t)D * M) + need_d((size_t)M);
}

size_t gpsc_gmm_chol_doubles(int K, int D)
{
    return (size_t)K * D * D + (size_t)K;
}

/* lower factor L of sigma_k and hlogdet = sum_j log L_jj = 0.5 log det sigma_k */
static int chol_cluster(double *L, double *hlogdet, const gpsc_gmm_t *g, int k)
{
    int D = g->D;
    int rc = gpsc_la_chol_lower(L, g->sigma + (size_t)k * D * D, D);
    if (rc) return rc;
    double h = 0.0;
    for (int j = 0; j < D; j++)
        h += log(L[j * D + j]);
    *hlogdet = h;
    return 0;
}

int gpsc_gmm_chol(double *L, double *hlogdet, const gpsc_gmm_t *g)
{
    size_t DD = (size_t)g->D * g->D;
    for (int k = 0; k < g->K; k++) {
        int rc = chol_cluster(L + (size_t)k * DD, &hlogdet[k], g, k);
        if (rc) return rc;
    }
    return 0;
}

/* z = x - m and ss += z .* z over n entries (blocks of 8 let the compiler
 * use packed arithmetic at -O2; each entry is computed as in a plain loop) */
static void sub_scalar(double *restrict z, const double *restrict x, double m, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        double *zb = z + i;
        const double *xb = x + i;
        for (int j = 0; j < 8; j++)
            zb[j] = xb[j] - m;
    }
    for (; i < n; i++)
        z[i] = x[i] - m;
}

static void add_sq(double *restrict ss, const double *restrict z, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        double *sb = ss + i;
        const double *zb = z + i;
        for (int j = 0; j < 8; j++)
            sb[j] += zb[j] * zb[j];
    }
    for (; i < n; i++)
        ss[i] += z[i] * z[i];
}

/* column k of logobs from the factor L of sigma_k, for the points given
 * transposed: Xt (D x M); Z (D x M) and ss (M) are scratch */
static void estep_cluster(double *logobs, const gpsc_gmm_t *g, int k, const double *L,
                          double hlogdet, const double *Xt, int M, double *Z, double *ss)
{
    int K = g->K, D = g->D;
    double c0 = -0.5 * D * log(2.0 * M_PI);
    const double *mu = g->mu + (size_t)k * D;
    /* column i of Z is x_i - mu_k */
    for (int j = 0; j < D; j++)
        sub_scalar(Z + (size_t)j * M, Xt + (size_t)j * M, mu[j], M);
    /* Mahalanobis distances through L^-1 (x_i - mu_k); each ss[i] sums its
     * squares in the order j = 0 .. D-1 */
    gpsc_la_trsm(Z, L, D, M, false, false);
    gpsc_la_zero(ss, (size_t)M);
    for (int j = 0; j < D; j++)
        add_sq(ss, Z + (size_t)j * M, M);
    for (int i = 0; i < M; i++) {
        double v = c0;
        v -= hlogdet;
        v -= 0.5 * ss[i];
        logobs[(size_t)i * K + k] = v + g->logmass[k];
    }
}

int gpsc_gmm_estep_chol(double *logobs, const gpsc_gmm_t *g, const double *L, const double *hlogdet,
                        const double *data, int M, gpsc_arena_t *arena)
{
    int K = g->K, D = g->D;
    size_t DD = (size_t)D * D;
    size_t mark = gpsc_arena_mark(arena);
    double *Lk = L ? NULL : take_d(arena, DD);
    double *Xt = take_d(arena, (size_t)D * M); /* (D x M) the points as columns */
    double *Z = take_d(arena, (size_t)D * M);  /* (D x M) their L^-1 (x_i - mu_k) */
    double *ss = take_d(arena, (size_t)M);     /* (M) squared distances */
    if ((!L && !Lk) || !Xt || !Z || !ss) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    gpsc_la_transpose(Xt, data, M, D);
    for (int k = 0; k < K; k++) {
        /* the caller's factors, or a fresh one per cluster */
        double h;
        if (L) {
            h = hlogdet[k];
        } else {
            int rc = chol_cluster(Lk, &h, g, k);
            if (rc) {
                gpsc_arena_free_to(arena, mark);
                return rc;
            }
        }
        estep_cluster(logobs, g, k, L ? L + (size_t)k * DD : Lk, h, Xt, M, Z, ss);
    }
    gpsc_arena_free_to(arena, mark);
    return 0;
}

int gpsc_gmm_estep(double *logobs, const gpsc_gmm_t *g, const double *data, int M,
                   gpsc_arena_t *arena)
{
    return gpsc_gmm_estep_chol(logobs, g, NULL, NULL, data, M, arena);
}

size_t gpsc_gmm_em_scratch_size(int M, int K, int D)
{
    size_t m = (size_t)M, k = (size_t)K, d = (size_t)D;
    return 2 * need_d(m * k) + need_d(m * d) + 2 * need_d(k) + gpsc_gmm_estep_scratch_size(M, K, D);
}

/* M-step of README 5.5 steps 5-8 from logobs (M x K, overwritten by the
 * log responsibilities). w (M x K), wdata (M x D), lse and mass (K) are
 * scratch. Returns the number of rebooted clusters. */
static int mstep(gpsc_gmm_t *g, double *logobs, double *w, double *wdata, double *lse, double *mass,
                 const double *data, int M)
{
    int K = g->K, D = g->D;
    /* responsibilities: logw[i,k] = logobs[i,k] - logsumexp_k logobs[i,:] */
    for (int i = 0; i < M; i++) {
        double *row = logobs + (size_t)i * K;
        double s = gpsc_gmm_logsumexp(row, K, 1);
        for (int k = 0; k < K; k++)
            row[k] -= s;
    }
    /* column-normalised weights w = exp(logw - logsumexp_i logw[:,k]) and
     * the mixing weights logmass_k = logsumexp_i logw[i,k], renormalised */
    for (int k = 0; k < K; k++) {
        lse[k] = gpsc_gmm_logsumexp(logobs + k, M, K);
        for (int i = 0; i < M; i++)
            w[(size_t)i * K + k] = exp(logobs[(size_t)i * K + k] - lse[k]);
    }
    double tot = gpsc_gmm_logsumexp(lse, K, 1);
    for (int k = 0; k < K; k++) {
        g->logmass[k] = lse[k] - tot;
        mass[k] = exp(g->logmass[k]);
    }
    /* reboot: a cluster with too little mass is refitted on all points with
     * equal weights (its logmass stays as computed) */
    int nreboot = 0;
    double thresh = (1.0 / K) * 1e-4;
    for (int k = 0; k < K; k++)
        if (mass[k] < thresh) {
            nreboot++;
            for (int i = 0; i < M; i++)
                w[(size_t)i * K + k] = 1.0 / M;
        }
    /* mu_k = sum_i w_ik x_i, sigma_k = sym(sum_i w_ik x_i x_i^T - mu_k mu_k^T)
     * + 1e-6 I; the weighted outer products as (sqrt(w) x)^T (sqrt(w) x) */
    for (int k = 0; k < K; k++) {
        double *mu = g->mu + (size_t)k * D;
        double *S = g->sigma + (size_t)k * D * D;
        gpsc_la_zero(mu, (size_t)D);
        for (int i = 0; i < M; i++) {
            double wik = w[(size_t)i * K + k];
            double sw = sqrt(wik);
            const double *x = data + (size_t)i * D;
            for (int j = 0; j < D; j++) {
                mu[j] += wik * x[j];
                wdata[(size_t)i * D + j] = x[j] * sw;
            }
        }
        gpsc_la_syrk(S, wdata, D, M, true, 1.0, 0.0);
        for (int a = 0; a < D; a++)
            for (int b = 0; b < D; b++)
                S[a * D + b] -= mu[a] * mu[b];
        gpsc_la_sym(S, D);
        gpsc_la_add_diag(S, 1e-6, D);
    }
    return nreboot;
}

int gpsc_gmm_em(gpsc_gmm_t *g, gpsc_gmm_em_info_t *info, double *loglik_trace, const double *data,
                int M, int max_iterations, gpsc_arena_t *arena)
{
    int K = g->K, D = g->D;
    info->n_estep = 0;
    info->n_mstep = 0;
    info->stop_reason = GPSC_GMM_STOP_MAXITER;
    info->loglik = -INFINITY;
    info->n_reboot = 0;
    size_t mark = gpsc_arena_mark(arena);
    double *logobs = take_d(arena, (size_t)M * K);
    double *w = take_d(arena, (size_t)M * K);
    double *wdata = take_d(arena, (size_t)M * D);
    double *lse = take_d(arena, (size_t)K);
    double *mass = take_d(arena, (size_t)K);
    if (!logobs || !w || !wdata || !lse || !mass) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    int rc = 0;
    double prevll = -INFINITY;
    for (int itr = 0; itr < max_iterations; itr++) {
        rc = gpsc_gmm_estep(logobs, g, data, M, arena);
        if (rc) break;
        double ll = 0.0;
        for (int i = 0; i < M; i++)
            ll += gpsc_gmm_logsumexp(logobs + (size_t)i * K, K, 1);
        if (loglik_trace) loglik_trace[itr] = ll;
        info->n_estep++;
        info->loglik = ll;
        /* the reference's stopping rules: a decrease, or a change below
         * 1e-5 times the SIGNED previous value (never fires while
         * prevll <= 0) */
        if (ll < prevll) {
            info->stop_reason = GPSC_GMM_STOP_DECREASE;
            break;
        }
        if (fabs(ll - prevll) < 1e-5 * prevll) {
            info->stop_reason = GPSC_GMM_STOP_CONVERGED;
            break;
        }
        prevll = ll;
        info->n_reboot += mstep(g, logobs, w, wdata, lse, mass, data, M);
        info->n_mstep++;
    }
    gpsc_arena_free_to(arena, mark);
    return rc;
}

size_t gpsc_gmm_init_scratch_size(int M, int K, int D)
{
    (void)K;
    return gpsc_arena_need((size_t)(M ? M : 1) * sizeof(int)) + need_d((size_t)D * M);
}

/* sigma = (1/K) sum over selected rows of (x - mu)(x - mu)^T + 2e-6 I, mu
 * = their mean; rows with lab[i] == k, or all rows when k < 0 */
static void init_cluster(double *mu, double *sigma, double *diff, const double *data,
                         const int *lab, int k, int M, int D, int K)
{
    int cnt = 0;
    gpsc_la_zero(mu, (size_t)D);
    for (int i = 0; i < M; i++)
        if (k < 0 || lab[i] == k) {
            gpsc_la_axpy(mu, 1.0, data + (size_t)i * D, D);
            cnt++;
        }
    gpsc_la_scale(mu, 1.0 / cnt, D);
    int r = 0;
    for (int i = 0; i < M; i++)
        if (k < 0 || lab[i] == k) {
            for (int j = 0; j < D; j++)
                diff[(size_t)r * D + j] = data[(size_t)i * D + j] - mu[j];
            r++;
        }
    gpsc_la_syrk(sigma, diff, D, r, true, 1.0 / K, 0.0);
    gpsc_la_add_diag(sigma, 2e-6, D);
}

int gpsc_gmm_init_random(gpsc_gmm_t *g, const double *data, int M, gpsc_rng_t *rng,
                         gpsc_arena_t *arena)
{
    int K = g->K, D = g->D;
    size_t mark = gpsc_arena_mark(arena);
    int *lab = gpsc_arena_alloc(arena, (size_t)(M ? M : 1) * sizeof(int));
    double *diff = take_d(arena, (size_t)D * M);
    if (!lab || !diff) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    for (int i = 0; i < M; i++)
        lab[i] = (int)gpsc_rng_below(rng, (uint32_t)K);
    for (int k = 0; k < K; k++) {
        bool any = false;
        for (int i = 0; i < M && !any; i++)
            any = lab[i] == k;
        init_cluster(g->mu + (size_t)k * D, g->sigma + (size_t)k * D * D, diff, data, lab,
                     any ? k : -1, M, D, K);
        g->logmass[k] = log(1.0 / K);
    }
    gpsc_arena_free_to(arena, mark);
    return 0;
}

size_t gpsc_gmm_prior_logobs_scratch_size(int K, int D)
{
    return need_d((size_t)K) + need_d((size_t)D);
}

size_t gpsc_gmm_prior_scratch_size(int M, int K, int D)
{
    return need_d((size_t)M * K) + gpsc_gmm_prior_logobs_scratch_size(K, D) +
           gpsc_gmm_estep_scratch_size(M, K, D);
}

/* P[b] += (S[b] + ma d[b]) w for b < n: one row of Phi_raw's sum over
 * clusters (blocks of 8 let the compiler use packed arithmetic at -O2) */
static void phi_row(double *restrict P, const double *restrict S, const double *restrict d,
                    double ma, double w, int n)
{
    int b = 0;
    for (; b + 8 <= n; b += 8) {
        double *p = P + b;
        const double *s = S + b, *e = d + b;
        for (int j = 0; j < 8; j++)
            p[j] += (s[j] + ma * e[j]) * w;
    }
    for (; b < n; b++)
        P[b] += (S[b] + ma * d[b]) * w;
}

int gpsc_gmm_prior(gpsc_niw_t *out, double *cluster_logwts, const gpsc_gmm_t *g, const double *pts,
                   int M, int N_init, double strength, gpsc_arena_t *arena)
{
    size_t mark = gpsc_arena_mark(arena);
    double *logobs = take_d(arena, (size_t)M * g->K);
    int rc = logobs ? gpsc_gmm_estep(logobs, g, pts, M, arena) : GPSC_ENOSPC;
    if (!rc) rc = gpsc_gmm_prior_logobs(out, cluster_logwts, g, logobs, M, N_init, strength, arena);
    gpsc_arena_free_to(arena, mark);
    return rc;
}

int gpsc_gmm_prior_logobs(gpsc_niw_t *out, double *cluster_logwts, const gpsc_gmm_t *g,
                          double *logobs, int M, int N_init, double strength, gpsc_arena_t *arena)
{
    int K = g->K, D = g->D;
    size_t mark = gpsc_arena_mark(arena);
    double *wts = take_d(arena, (size_t)K);
    double *dvec = take_d(arena, (size_t)D); /* mu_k - mu0 */
    if (!wts || !dvec) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    /* responsibilities, averaged over the points in log space */
    for (int i = 0; i < M; i++) {
        double *row = logobs + (size_t)i * K;
        double s = gpsc_gmm_logsumexp(row, K, 1);
        for (int k = 0; k < K; k++)
            row[k] -= s;
    }
    double logM = log((double)M);
    for (int k = 0; k < K; k++) {
        double lw = gpsc_gmm_logsumexp(logobs + k, M, K) - logM;
        if (cluster_logwts) cluster_logwts[k] = lw;
        wts[k] = exp(lw);
    }
    /* moments of the mixture: mu0 = sum_k w_k mu_k and
     * Phi_raw = sum_k w_k (sigma_k + mu_k (mu_k - mu0)^T), kept unsymmetrised */
    out->D = D;
    gpsc_la_zero(out->mu0, (size_t)D);
    for (int k = 0; k < K; k++)
        for (int j = 0; j < D; j++)
            out->mu0[j] += g->mu[(size_t)k * D + j] * wts[k];
    gpsc_la_zero(out->Phi, (size_t)D * D);
    /* the same sums, element by element in cluster order (phi_row); a
     * cluster whose weight underflowed to 0 would add exactly 0 to every
     * entry and is skipped. This loop is a hot spot of the dynamics fit. */
    double *Phi = out->Phi, *dmu = dvec;
    for (int k = 0; k < K; k++) {
        double w = wts[k];
        if (w == 0.0) continue;
        const double *mu = g->mu + (size_t)k * D;
        const double *S = g->sigma + (size_t)k * D * D;
        for (int b = 0; b < D; b++)
            dmu[b] = mu[b] - out->mu0[b];
        for (int a = 0; a < D; a++)
            phi_row(Phi + (size_t)a * D, S + (size_t)a * D, dmu, mu[a], w, D);
    }
    /* strengths: m = N/N scaled, n0 = (N - 2 - D)/N scaled; Phi *= m */
    out->m = 1.0 * strength;
    out->n0 = (double)(N_init - 2 - D) / (double)N_init * strength;
    gpsc_la_scale(out->Phi, out->m, D * D);
    gpsc_arena_free_to(arena, mark);
    return 0;
}
