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

/* The elementwise loops of the E-steps are also compiled for AVX2 and
 * picked at load time (as common/mlp.c does): without contraction to FMA a
 * vector subtract, multiply or add rounds like the scalar one, so every
 * clone gives the same bits. About 10% of an EM pass at D = 59. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
#define GPSC_GMM_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define GPSC_GMM_CLONES
#endif

/* z = x - m and ss += z .* z over n entries (blocks of 8 let the compiler
 * use packed arithmetic at -O2; each entry is computed as in a plain loop) */
GPSC_GMM_CLONES
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

GPSC_GMM_CLONES
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

/* g = s (g - m) over n entries (blocks of 8 as above) */
static void centre_scale(double *restrict g, const double *restrict m, double s, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        double *gb = g + i;
        const double *mb = m + i;
        for (int j = 0; j < 8; j++)
            gb[j] = s * (gb[j] - mb[j]);
    }
    for (; i < n; i++)
        g[i] = s * (g[i] - m[i]);
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

/* ------------------------------------------------------------------ EM
 *
 * The EM of README 5.5 is organised for speed; the arithmetic is the
 * reference's up to rounding (the vectors pass within their tolerances):
 *   - per cluster, BLAS-3 calls over many points: the E-step factors
 *     sigma_k once (L), inverts the factor (D^3/3) and multiplies the
 *     centred points by L^-1 with one trmm per block of EM_BLOCK points
 *     (points stored as columns); the M-step's scatter is one syrk on the
 *     sqrt(w)-scaled centred points;
 *   - one exp per (point, cluster) and pass: the per-point logsumexp of
 *     the log-likelihood keeps its terms exp(logobs - max), and the
 *     responsibilities and normalised weights are those terms divided by
 *     their sums (the log-domain column logsumexp is used only when a
 *     column sum underflows, see COLSUM_SAFE);
 *   - the M-step gathers only the points with a weight above EM_W_SKIP;
 *   - a rebooted cluster gets the fit of all points with equal weights,
 *     which does not change during a call: it is computed once, and so are
 *     its E-step distances, shared by every rebooted cluster.
 * The scatter is taken around the new mean, sum_i w_i (x_i - mu)(x_i -
 * mu)^T, which equals the reference's sum_i w_i x_i x_i^T - mu mu^T when
 * the weights sum to 1, without its cancellation. */

/* A column sum of the responsibilities at least this large is far from
 * underflow: its log and the weights r / sum are accurate to a few ulp
 * (the terms that underflowed to 0 add less than M * 2.3e-308). Below it
 * the column's logsumexp is taken in the log domain; such a cluster has
 * mass below 1e-240 and is always rebooted. */
#define COLSUM_SAFE 1e-250

/* Points per block of the E-step: the block's centred points and their
 * whitened copy (D x EM_BLOCK) stay in cache while every cluster passes
 * over them. A fixed number, so the results do not depend on anything
 * but the inputs. */
#define EM_BLOCK 1024

/* The M-step leaves out points whose normalised weight w_i (sum_i w_i = 1)
 * is at most this: together they would add less than M 1e-30 max|x_i -
 * mu|^2 to sigma and M 1e-30 max|x_i - mu| to mu, far below the rounding
 * of the sums (relative 1e-16) unless a point lies 1e7 cluster widths
 * away. In the learner's fits this drops 70-95% of the (point, cluster)
 * pairs. */
#define EM_W_SKIP 1e-30

/* EM's work memory, carved from the arena once per call */
typedef struct em_work {
    int M, K, D;
    const double *X;  /* (M x D) the points (caller's) */
    double *Xt;       /* (D x M) the same as columns */
    double *lo;       /* (K x M) logobs, cluster-major */
    double *r;        /* (K x M) exp(logobs - rmax), then responsibilities, then weights */
    double *Z;        /* (D x M) E-step: (D x EM_BLOCK) L^-1 (x_i - mu_k) of a block;
                         M-step: (n x D) the gathered sqrt(w_i) (x_i - mu) */
    double *ss;       /* (M) squared distances of a block; log-domain column work */
    double *rmax;     /* (M) max_k logobs[k,i] (0 when that is -inf) */
    double *rsum;     /* (M) sum_k exp(logobs[k,i] - rmax_i) */
    double *wsel;     /* (M) weights of the gathered points */
    int *sel;         /* (M) indices of the gathered points */
    double *L;        /* (D x D) lower Cholesky factor of one sigma_k */
    double *Linv;     /* (K x D x D) inverse of each sigma_k's lower Cholesky factor */
    double *hlogdet;  /* (K) 0.5 log det sigma_k */
    double *colsum;   /* (K) sum_i responsibilities */
    double *lsec;     /* (K) log of the same (logsumexp_i logw[i,k]) */
    int *rebooted;    /* (K) 1: cluster k holds the reboot parameters */
    double *rb_mu;    /* (D) reboot parameters: mean of all points ... */
    double *rb_sigma; /* (D x D) ... and their covariance + 1e-6 I */
    double *rb_ss;    /* (M) E-step distances to the reboot parameters */
    double rb_hlogdet;
    bool have_rb, have_rb_ss;
} em_work_t;

/* the arena requests of em_alloc */
static size_t em_need(int M, int K, int D)
{
    size_t m = (size_t)M, k = (size_t)K, d = (size_t)D;
    return 2 * need_d(d * m) + 2 * need_d(k * m) + 5 * need_d(m) +
           gpsc_arena_need(m ? m * sizeof(int) : 1) + need_d(k * d * d) + 3 * need_d(k) +
           gpsc_arena_need(k ? k * sizeof(int) : 1) + need_d(d) + 2 * need_d(d * d);
}

static bool em_alloc(em_work_t *w, gpsc_arena_t *a, const double *X, int M, int K, int D)
{
    size_t m = (size_t)M, k = (size_t)K, d = (size_t)D;
    *w = (em_work_t){.M = M, .K = K, .D = D, .X = X};
    w->Xt = take_d(a, d * m);
    w->Z = take_d(a, d * m);
    w->lo = take_d(a, k * m);
    w->r = take_d(a, k * m);
    w->ss = take_d(a, m);
    w->rmax = take_d(a, m);
    w->rsum = take_d(a, m);
    w->wsel = take_d(a, m);
    w->rb_ss = take_d(a, m);
    w->sel = gpsc_arena_alloc(a, m ? m * sizeof(int) : 1);
    w->L = take_d(a, d * d);
    w->Linv = take_d(a, k * d * d);
    w->hlogdet = take_d(a, k);
    w->colsum = take_d(a, k);
    w->lsec = take_d(a, k);
    w->rebooted = gpsc_arena_alloc(a, k ? k * sizeof(int) : 1);
    w->rb_mu = take_d(a, d);
    w->rb_sigma = take_d(a, d * d);
    if (!w->Xt || !w->Z || !w->lo || !w->r || !w->ss || !w->rmax || !w->rsum || !w->wsel ||
        !w->rb_ss || !w->sel || !w->L || !w->Linv || !w->hlogdet || !w->colsum || !w->lsec ||
        !w->rebooted || !w->rb_mu || !w->rb_sigma)
        return false;
    for (int j = 0; j < K; j++)
        w->rebooted[j] = 0;
    return true;
}

size_t gpsc_gmm_em_scratch_size(int M, int K, int D)
{
    return em_need(M, K, D);
}

/* Linv = L^-1 and hlogdet = sum_j log L_jj = 0.5 log det sigma, with
 * L L^T = sigma (L is scratch) */
static int em_factor(double *Linv, double *hlogdet, double *L, const double *sigma, int D)
{
    int rc = gpsc_la_chol_lower(L, sigma, D);
    if (rc) return rc;
    double h = 0.0;
    for (int j = 0; j < D; j++)
        h += log(L[j * D + j]);
    *hlogdet = h;
    gpsc_la_eye(Linv, D);
    gpsc_la_trsm(Linv, L, D, D, false, false);
    return 0;
}

/* lo[k,i] = log N(x_i; mu_k, sigma_k) + logmass_k (README 5.5 E-step):
 * one Cholesky and triangular inverse per cluster, then per block of
 * points and cluster ss_i = |L^-1 (x_i - mu_k)|^2 with one trmm. A
 * rebooted cluster's distances are computed once per call. */
static int em_estep(em_work_t *w, const gpsc_gmm_t *g)
{
    int M = w->M, K = w->K, D = w->D;
    size_t DD = (size_t)D * D;
    double c0 = -0.5 * D * log(2.0 * M_PI);
    /* which clusters need distances: every cluster not rebooted, and the
     * first rebooted one when the reboot parameters have none yet */
    int rb_first = -1;
    for (int k = 0; k < K; k++) {
        if (w->rebooted[k] && (w->have_rb_ss || rb_first >= 0)) continue;
        if (w->rebooted[k]) rb_first = k;
        int rc =
            em_factor(w->Linv + (size_t)k * DD, &w->hlogdet[k], w->L, g->sigma + (size_t)k * DD, D);
        if (rc) return rc;
    }
    for (int i0 = 0; i0 < M; i0 += EM_BLOCK) {
        int nb = M - i0 < EM_BLOCK ? M - i0 : EM_BLOCK;
        for (int k = 0; k < K; k++) {
            if (w->rebooted[k] && k != rb_first) continue;
            const double *mu = g->mu + (size_t)k * D;
            double *ss = w->rebooted[k] ? w->rb_ss + i0 : w->ss;
            for (int j = 0; j < D; j++)
                sub_scalar(w->Z + (size_t)j * nb, w->Xt + (size_t)j * M + i0, mu[j], nb);
            gpsc_la_trmm(w->Z, w->Linv + (size_t)k * DD, D, nb, false, false);
            gpsc_la_zero(ss, (size_t)nb);
            for (int j = 0; j < D; j++)
                add_sq(ss, w->Z + (size_t)j * nb, nb);
            if (w->rebooted[k]) continue;
            double *lo = w->lo + (size_t)k * M + i0, h = w->hlogdet[k], lm = g->logmass[k];
            for (int i = 0; i < nb; i++) {
                double v = c0;
                v -= h;
                v -= 0.5 * ss[i];
                lo[i] = v + lm;
            }
        }
    }
    if (rb_first >= 0) {
        w->rb_hlogdet = w->hlogdet[rb_first];
        w->have_rb_ss = true;
    }
    for (int k = 0; k < K; k++) {
        if (!w->rebooted[k]) continue;
        double *lo = w->lo + (size_t)k * M, h = w->rb_hlogdet, lm = g->logmass[k];
        for (int i = 0; i < M; i++) {
            double v = c0;
            v -= h;
            v -= 0.5 * w->rb_ss[i];
            lo[i] = v + lm;
        }
    }
    return 0;
}

/* ll = sum_i logsumexp_k lo[k,i] (each logsumexp as gpsc_gmm_logsumexp:
 * max, then the exps summed in cluster order); keeps the exps in r and
 * their sums in rsum */
static double em_loglik(em_work_t *w)
{
    int M = w->M, K = w->K;
    double *mx = w->rmax, *sum = w->rsum;
    for (int i = 0; i < M; i++)
        mx[i] = -INFINITY;
    for (int k = 0; k < K; k++) {
        const double *lo = w->lo + (size_t)k * M;
        for (int i = 0; i < M; i++)
            if (lo[i] > mx[i]) mx[i] = lo[i];
    }
    for (int i = 0; i < M; i++)
        if (mx[i] == -INFINITY) mx[i] = 0.0;
    gpsc_la_zero(sum, (size_t)M);
    for (int k = 0; k < K; k++) {
        const double *lo = w->lo + (size_t)k * M;
        double *e = w->r + (size_t)k * M;
        for (int i = 0; i < M; i++) {
            e[i] = exp(lo[i] - mx[i]);
            sum[i] += e[i];
        }
    }
    double ll = 0.0;
    for (int i = 0; i < M; i++)
        ll += log(sum[i]) + mx[i];
    return ll;
}

/* logw[i] = lo[k,i] - logsumexp_k' lo[k',i] into out (M) */
static void em_logw(double *out, const em_work_t *w, int k)
{
    const double *lo = w->lo + (size_t)k * w->M;
    for (int i = 0; i < w->M; i++)
        out[i] = lo[i] - (log(w->rsum[i]) + w->rmax[i]);
}

/* mu = sum_i w_i x_i and sigma = sum_i w_i (x_i - mu)(x_i - mu)^T + 1e-6 I
 * over the n gathered points (sel, with weights wsel; wsel is overwritten
 * by sqrt(w)), sums in point order */
static void em_moments(em_work_t *w, double *mu, double *sigma, int n)
{
    int D = w->D;
    /* G (n x D): the gathered points, mu = G^T w, then row r becomes
     * sqrt(w_r) (x_sel[r] - mu) and sigma = G^T G */
    double *G = w->Z;
    for (int r = 0; r < n; r++)
        gpsc_la_copy(G + (size_t)r * D, w->X + (size_t)w->sel[r] * D, (size_t)D);
    gpsc_la_gemv(mu, G, w->wsel, n, D, true, 1.0, 0.0);
    for (int r = 0; r < n; r++)
        centre_scale(G + (size_t)r * D, mu, sqrt(w->wsel[r]), D);
    gpsc_la_syrk(sigma, G, D, n, true, 1.0, 0.0);
    gpsc_la_sym(sigma, D);
    gpsc_la_add_diag(sigma, 1e-6, D);
}

/* M-step of README 5.5 steps 5-8 from the E-step's lo and the exps of
 * em_loglik. Returns the number of rebooted clusters. */
static int em_mstep(em_work_t *w, gpsc_gmm_t *g)
{
    int M = w->M, K = w->K, D = w->D;
    /* responsibilities exp(logw[i,k]) and their column sums */
    for (int k = 0; k < K; k++) {
        double *rk = w->r + (size_t)k * M, c = 0.0;
        for (int i = 0; i < M; i++) {
            rk[i] /= w->rsum[i];
            c += rk[i];
        }
        w->colsum[k] = c;
    }
    /* logsumexp_i logw[i,k], from the sum unless that underflowed; then
     * logmass_k = that - logsumexp_k of it */
    for (int k = 0; k < K; k++) {
        if (w->colsum[k] >= COLSUM_SAFE) {
            w->lsec[k] = log(w->colsum[k]);
        } else {
            em_logw(w->ss, w, k);
            w->lsec[k] = gpsc_gmm_logsumexp(w->ss, M, 1);
        }
    }
    double tot = gpsc_gmm_logsumexp(w->lsec, K, 1);
    double thresh = (1.0 / K) * 1e-4;
    int nreboot = 0;
    for (int k = 0; k < K; k++) {
        double *mu = g->mu + (size_t)k * D, *sigma = g->sigma + (size_t)k * D * D;
        g->logmass[k] = w->lsec[k] - tot;
        /* reboot: too little mass, refit on all points with equal weights
         * (logmass stays as computed) */
        if (exp(g->logmass[k]) < thresh) {
            nreboot++;
            if (!w->have_rb) {
                for (int i = 0; i < M; i++) {
                    w->sel[i] = i;
                    w->wsel[i] = 1.0 / M;
                }
                em_moments(w, w->rb_mu, w->rb_sigma, M);
                w->have_rb = true;
            }
            gpsc_la_copy(mu, w->rb_mu, (size_t)D);
            gpsc_la_copy(sigma, w->rb_sigma, (size_t)D * D);
            w->rebooted[k] = 1;
            continue;
        }
        w->rebooted[k] = 0;
        /* normalised weights w = exp(logw - lsec_k); gather the non-zero */
        double *rk = w->r + (size_t)k * M;
        if (w->colsum[k] >= COLSUM_SAFE) {
            double c = w->colsum[k];
            for (int i = 0; i < M; i++)
                rk[i] /= c;
        } else {
            em_logw(rk, w, k);
            for (int i = 0; i < M; i++)
                rk[i] = exp(rk[i] - w->lsec[k]);
        }
        int n = 0;
        for (int i = 0; i < M; i++)
            if (rk[i] > EM_W_SKIP) {
                w->sel[n] = i;
                w->wsel[n++] = rk[i];
            }
        em_moments(w, mu, sigma, n);
    }
    return nreboot;
}

int gpsc_gmm_em_run(gpsc_gmm_t *g, gpsc_gmm_em_info_t *info, double *loglik_trace,
                    const gpsc_gmm_em_cfg_t *cfg, const double *data, int M, gpsc_arena_t *arena)
{
    int K = g->K, D = g->D;
    info->n_estep = 0;
    info->n_mstep = 0;
    info->stop_reason = GPSC_GMM_STOP_MAXITER;
    info->loglik = -INFINITY;
    info->n_reboot = 0;
    size_t mark = gpsc_arena_mark(arena);
    em_work_t w;
    if (!em_alloc(&w, arena, data, M, K, D)) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    gpsc_la_transpose(w.Xt, data, M, D);
    int rc = 0;
    double prevll = -INFINITY;
    for (int itr = 0; itr < cfg->max_iterations; itr++) {
        rc = em_estep(&w, g);
        if (rc) break;
        double ll = em_loglik(&w);
        if (loglik_trace) loglik_trace[itr] = ll;
        info->n_estep++;
        info->loglik = ll;
        /* stop on a decrease, or on a change below tolerance times the
         * previous value: SIGNED in the reference rule (which therefore
         * never fires while prevll <= 0), its magnitude in the relative one */
        if (ll < prevll) {
            info->stop_reason = GPSC_GMM_STOP_DECREASE;
            break;
        }
        double scale = cfg->rule == GPSC_GMM_RULE_RELATIVE ? fabs(prevll) : prevll;
        if (fabs(ll - prevll) < cfg->tolerance * scale) {
            info->stop_reason = GPSC_GMM_STOP_CONVERGED;
            break;
        }
        prevll = ll;
        info->n_reboot += em_mstep(&w, g);
        info->n_mstep++;
    }
    gpsc_arena_free_to(arena, mark);
    return rc;
}

int gpsc_gmm_em(gpsc_gmm_t *g, gpsc_gmm_em_info_t *info, double *loglik_trace, const double *data,
                int M, int max_iterations, gpsc_arena_t *arena)
{
    gpsc_gmm_em_cfg_t cfg = {max_iterations, 1e-5, GPSC_GMM_RULE_REFERENCE};
    return gpsc_gmm_em_run(g, info, loglik_trace, &cfg, data, M, arena);
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
