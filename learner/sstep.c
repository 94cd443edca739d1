/* sstep.c — S-step: minibatch Adam on the precision-weighted loss of the
 * network mean, closed-form variance (see sstep.h; seed 000 B.2). */
#include "learner/sstep.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/la.h"
#include "common/rng.h"
#include "learner/policy_prior.h"

/* arena helpers */
static size_t need_d(size_t n)
{
    return gpsc_arena_need(n * sizeof(double));
}

static double *take_d(gpsc_arena_t *a, size_t n)
{
    return gpsc_arena_alloc(a, n * sizeof(double));
}

void gpsc_sstep_cfg_default(gpsc_sstep_cfg_t *cfg)
{
    cfg->iterations = 3000;
    cfg->batch_size = 25;
    cfg->lr = 1e-3;
    cfg->lr_final = 0.0;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->eps = 1e-8;
    cfg->weight_decay = 0.005;
    cfg->ent_reg = 0.0;
    cfg->init_std = 0.01;
    cfg->init_var = 0.1;
    cfg->trace_every = 100;
}

int gpsc_sstep_cfg_check(const gpsc_sstep_cfg_t *cfg)
{
    if (!cfg) return GPSC_EINVAL;
    bool ok = cfg->iterations >= 0 && cfg->batch_size >= 1 && cfg->trace_every >= 1 &&
              isfinite(cfg->lr) && cfg->lr > 0.0 && isfinite(cfg->lr_final) && cfg->beta1 >= 0.0 &&
              cfg->beta1 < 1.0 && cfg->beta2 >= 0.0 && cfg->beta2 < 1.0 && isfinite(cfg->eps) &&
              cfg->eps > 0.0 && isfinite(cfg->weight_decay) && cfg->weight_decay >= 0.0 &&
              isfinite(cfg->ent_reg) && cfg->ent_reg >= 0.0 && isfinite(cfg->init_std) &&
              cfg->init_std >= 0.0 && isfinite(cfg->init_var) && cfg->init_var > 0.0;
    return ok ? 0 : GPSC_EINVAL;
}

int gpsc_sstep_adam_init(gpsc_sstep_adam_t *adam, size_t n_params)
{
    if (!adam || n_params == 0) return GPSC_EINVAL;
    memset(adam, 0, sizeof *adam);
    adam->m = calloc(n_params, sizeof(double));
    adam->v = calloc(n_params, sizeof(double));
    if (!adam->m || !adam->v) {
        gpsc_sstep_adam_free(adam);
        return GPSC_ENOMEM;
    }
    adam->n = n_params;
    return 0;
}

void gpsc_sstep_adam_free(gpsc_sstep_adam_t *adam)
{
    if (!adam) return;
    free(adam->m);
    free(adam->v);
    memset(adam, 0, sizeof *adam);
}

/* ---- training set ---------------------------------------------------- */

/* total rows T * sum N_c, or 0 on bad input (also when it overflows int) */
static size_t count_rows(const gpsc_sstep_cond_t *conds, int M, int T)
{
    if (!conds || M < 1 || T < 1) return 0;
    size_t n = 0;
    for (int c = 0; c < M; c++) {
        if (conds[c].N < 0) return 0;
        n += (size_t)conds[c].N * (size_t)T;
        if (n > (size_t)INT_MAX) return 0;
    }
    return n;
}

size_t gpsc_sstep_build_size(const gpsc_sstep_cond_t *conds, int M, int T, int dO, int dU)
{
    size_t n = count_rows(conds, M, T);
    return need_d(n * (size_t)dO) + need_d(n * (size_t)dU) + need_d(n * (size_t)dU * dU) +
           need_d(n) + gpsc_policy_prior_sstep_normalize_scratch_size(n);
}

int gpsc_sstep_build(gpsc_sstep_data_t *data, const gpsc_sstep_cond_t *conds, int M, int T, int dX,
                     int dO, int dU, gpsc_arena_t *arena)
{
    if (!data || !conds || !arena || M < 1 || T < 1 || dX < 1 || dO < 1 || dU < 1)
        return GPSC_EINVAL;
    size_t total = 0;
    for (int c = 0; c < M; c++) {
        const gpsc_sstep_cond_t *cd = &conds[c];
        if (cd->N < 0) return GPSC_EINVAL;
        if (cd->N > 0 &&
            (!cd->X || !cd->obs || !cd->K || !cd->k || !cd->inv_pol_covar || !cd->pol_wt))
            return GPSC_EINVAL;
        total += (size_t)cd->N * (size_t)T;
        if (total > (size_t)INT_MAX) return GPSC_EINVAL;
    }
    if (total == 0) return GPSC_ENODATA;
    size_t uu = (size_t)dU * dU;
    size_t mark = gpsc_arena_mark(arena);
    double *obs = take_d(arena, total * dO);
    double *mu = take_d(arena, total * dU);
    double *prc = take_d(arena, total * uu);
    double *wt = take_d(arena, total);
    if (!obs || !mu || !prc || !wt) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    /* rows in (condition, sample, step) order, each condition with its own
     * new local policy (MDGPS _update_policy) */
    size_t row = 0;
    for (int c = 0; c < M; c++) {
        const gpsc_sstep_cond_t *cd = &conds[c];
        if (cd->N == 0) continue;
        size_t nr = (size_t)cd->N * (size_t)T;
        gpsc_la_copy(obs + row * dO, cd->obs, nr * dO);
        gpsc_policy_prior_sstep_targets(mu + row * dU, prc + row * uu, wt + row, cd->X, cd->K,
                                        cd->k, cd->inv_pol_covar, cd->pol_wt, cd->N, T, dX, dU);
        row += nr;
    }
    /* one normalisation over all conditions concatenated (README 5.16) */
    int rc = gpsc_policy_prior_sstep_normalize(wt, total, arena);
    if (rc) {
        gpsc_arena_free_to(arena, mark);
        return rc;
    }
    data->N = (int)total;
    data->dO = dO;
    data->dU = dU;
    data->obs = obs;
    data->tgt_mu = mu;
    data->tgt_prc = prc;
    data->tgt_wt = wt;
    return 0;
}

/* ---- network set-up --------------------------------------------------- */

void gpsc_sstep_init_net(gpsc_mlp_t *net, const gpsc_sstep_cfg_t *cfg, uint64_t seed)
{
    gpsc_rng_t r;
    gpsc_rng_init5(&r, seed, 0, 0, 0, GPSC_RNG_NET_INIT);
    for (int j = 0; j < net->dO; j++) {
        net->obs_mean[j] = 0.0;
        net->obs_scale[j] = 1.0;
    }
    int L = net->n_layers;
    for (int l = 0; l < L; l++) {
        int in = net->width[l], out = net->width[l + 1];
        size_t nw = (size_t)in * (size_t)out;
        double *W = net->W[l];
        if (cfg->init_std > 0.0) {
            for (size_t i = 0; i < nw; i++)
                W[i] = cfg->init_std * gpsc_rng_normal(&r);
        } else {
            /* He for a layer feeding a ReLU, Glorot for tanh and the output */
            bool he = l < L - 1 && net->act == GPSC_MLP_RELU;
            double a = he ? sqrt(6.0 / in) : sqrt(6.0 / (double)(in + out));
            for (size_t i = 0; i < nw; i++)
                W[i] = a * (2.0 * gpsc_rng_uniform(&r) - 1.0);
        }
        for (int i = 0; i < out; i++)
            net->b[l][i] = 0.0;
    }
    for (int i = 0; i < net->dU; i++)
        net->var[i] = cfg->init_var;
}

int gpsc_sstep_fit_normalization(gpsc_mlp_t *net, const double *obs, int N)
{
    if (!net || !obs) return GPSC_EINVAL;
    if (N < 1) return GPSC_ENODATA;
    int dO = net->dO;
    if (!gpsc_la_all_finite(obs, (size_t)N * dO)) return GPSC_ENONFINITE;
    /* two passes per column, rows in order (np.mean / np.std, ddof 0) */
    for (int j = 0; j < dO; j++) {
        double s = 0.0;
        for (int n = 0; n < N; n++)
            s += obs[(size_t)n * dO + j];
        double mean = s / N;
        double ss = 0.0;
        for (int n = 0; n < N; n++) {
            double d = obs[(size_t)n * dO + j] - mean;
            ss += d * d;
        }
        double sd = sqrt(ss / N);
        net->obs_mean[j] = mean;
        net->obs_scale[j] = 1.0 / (sd > 1e-3 ? sd : 1e-3);
    }
    return 0;
}

void gpsc_sstep_set_var(gpsc_mlp_t *net, const gpsc_sstep_data_t *data, double ent_reg)
{
    gpsc_policy_prior_sstep_pol_var(net->var, data->tgt_prc, data->tgt_wt, (size_t)data->N,
                                    data->dU, ent_reg);
}

/* ---- batched forward and backward ------------------------------------- */

/* per-minibatch buffers: activations of every layer and two gradient
 * buffers */
typedef struct ws {
    double *H[GPSC_MLP_MAX_LAYERS + 1]; /* (B x width[l]); H[0] normalised inputs,
                                         * H[L] the mean */
    double *G, *G2;                     /* (B x max width) */
} ws_t;

static int max_width(const gpsc_mlp_t *net)
{
    int m = 0;
    for (int l = 0; l <= net->n_layers; l++)
        if (net->width[l] > m) m = net->width[l];
    return m;
}

static size_t ws_need(const gpsc_mlp_t *net, int B)
{
    size_t s = 2 * need_d((size_t)B * max_width(net));
    for (int l = 0; l <= net->n_layers; l++)
        s += need_d((size_t)B * net->width[l]);
    return s;
}

static int ws_take(ws_t *w, const gpsc_mlp_t *net, int B, gpsc_arena_t *a)
{
    for (int l = 0; l <= net->n_layers; l++)
        if (!(w->H[l] = take_d(a, (size_t)B * net->width[l]))) return GPSC_ENOSPC;
    w->G = take_d(a, (size_t)B * max_width(net));
    w->G2 = take_d(a, (size_t)B * max_width(net));
    return w->G && w->G2 ? 0 : GPSC_ENOSPC;
}

/* the trained parameters W_0, b_0, ..., W_L, b_L are one contiguous range
 * of the parameter block (mlp.h): [off, off + len) */
static size_t trained_off(const gpsc_mlp_t *net)
{
    return (size_t)(net->W[0] - net->params);
}

static size_t trained_len(const gpsc_mlp_t *net)
{
    return (size_t)(net->var - net->W[0]);
}

/* h (dO) = (o - obs_mean) .* obs_scale, two roundings as in mlp.c */
static void normalize_row(double *h, const gpsc_mlp_t *net, const double *o)
{
    for (int j = 0; j < net->dO; j++)
        h[j] = (o[j] - net->obs_mean[j]) * net->obs_scale[j];
}

/* Elementwise loops carry `omp simd` (compiled with -fopenmp-simd, no
 * OpenMP runtime): each element's arithmetic is the same IEEE operation
 * whether done two at a time or one, so results do not change, and the
 * ReLU selects become branch-free masks instead of mispredicted branches.
 * Reductions are never vectorised (their order is part of the result),
 * and tanh stays a scalar libm call (a vector libm would round
 * differently from the worker's forward pass).
 *
 * Objective J of sstep.h over the B rows `rows`, with w->H[0] already
 * holding their normalised observations; the data loss (no decay) goes to
 * *data_loss. The decay term is only added when want_obj (otherwise the
 * return value is the data loss). With grad non-NULL also dJ/dtheta
 * (n_params, 0 outside the trained range).
 *
 * Forward: Z_{l+1} = H_l W_l (one gemm for the batch), then + b_l and the
 * activation row by row. Output gradient of 0.5 w d^T P d averaged over the
 * batch: G_L = w sym(P) d / B. Backward per layer: dW_l = H_l^T G (gemm),
 * db_l = column sums of G (rows in order), G <- (G W_l^T) .* act'(H_l). */
static double fwd_bwd(double *grad, double *data_loss, const gpsc_mlp_t *net, ws_t *w,
                      const gpsc_sstep_data_t *d, const int *rows, int B, double wd, bool want_obj)
{
    int L = net->n_layers, dU = net->dU;
    size_t uu = (size_t)dU * dU;
    for (int l = 0; l < L; l++) {
        int in = net->width[l], out = net->width[l + 1];
        double *Z = w->H[l + 1];
        const double *b = net->b[l];
        gpsc_la_gemm(Z, w->H[l], net->W[l], B, out, in, false, false, 1.0, 0.0);
        for (int r = 0; r < B; r++) {
            double *z = Z + (size_t)r * out;
            if (l == L - 1) {
#pragma omp simd
                for (int i = 0; i < out; i++)
                    z[i] += b[i];
            } else if (net->act == GPSC_MLP_RELU) {
#pragma omp simd
                for (int i = 0; i < out; i++) {
                    double y = z[i] + b[i];
                    z[i] = y < 0.0 ? 0.0 : y;
                }
            } else {
                for (int i = 0; i < out; i++)
                    z[i] = tanh(z[i] + b[i]);
            }
        }
    }

    /* loss and output gradient; G2 row r holds d for the moment */
    const double *M = w->H[L];
    double *G = w->G, *G2 = w->G2;
    double sum = 0.0;
    for (int r = 0; r < B; r++) {
        size_t row = (size_t)rows[r];
        const double *y = d->tgt_mu + row * dU, *P = d->tgt_prc + row * uu;
        double wt = d->tgt_wt[row];
        double *dv = G2 + (size_t)r * dU, *g = G + (size_t)r * dU;
        for (int i = 0; i < dU; i++)
            dv[i] = M[(size_t)r * dU + i] - y[i];
        double q = 0.0;
        for (int i = 0; i < dU; i++) {
            double pd = 0.0;
            for (int j = 0; j < dU; j++)
                pd += 0.5 * (P[(size_t)i * dU + j] + P[(size_t)j * dU + i]) * dv[j];
            q += dv[i] * pd;
            g[i] = wt * pd / B;
        }
        sum += 0.5 * wt * q;
    }
    double dl = sum / B;
    *data_loss = dl;

    /* decay term over the trained range */
    size_t off = trained_off(net), len = trained_len(net);
    const double *th = net->params + off;
    double obj = dl;
    if (want_obj) {
        double sq = 0.0;
        for (size_t i = 0; i < len; i++)
            sq += th[i] * th[i];
        obj = dl + 0.5 * wd * sq;
    }
    if (!grad) return obj;

    /* what is not trained has no gradient */
    gpsc_la_zero(grad, off);
    gpsc_la_zero(grad + off + len, net->n_params - off - len);
    for (int l = L - 1; l >= 0; l--) {
        int in = net->width[l], out = net->width[l + 1];
        double *gW = grad + (size_t)(net->W[l] - net->params);
        double *gb = grad + (size_t)(net->b[l] - net->params);
        gpsc_la_gemm(gW, w->H[l], G, in, out, B, true, false, 1.0, 0.0);
        /* column sums, each over the rows in order */
        gpsc_la_copy(gb, G, (size_t)out);
        for (int r = 1; r < B; r++) {
            const double *gr = G + (size_t)r * out;
#pragma omp simd
            for (int i = 0; i < out; i++)
                gb[i] += gr[i];
        }
        if (l == 0) break;
        /* back through W_l and the activation of hidden layer l */
        gpsc_la_gemm(G2, G, net->W[l], B, in, out, false, true, 1.0, 0.0);
        const double *H = w->H[l];
        size_t n = (size_t)B * in;
        if (net->act == GPSC_MLP_RELU) {
#pragma omp simd
            for (size_t i = 0; i < n; i++)
                G2[i] = H[i] > 0.0 ? G2[i] : 0.0;
        } else {
#pragma omp simd
            for (size_t i = 0; i < n; i++)
                G2[i] *= 1.0 - H[i] * H[i];
        }
        double *tmp = G;
        G = G2;
        G2 = tmp;
    }
    double *gt = grad + off;
#pragma omp simd
    for (size_t i = 0; i < len; i++)
        gt[i] += wd * th[i];
    return obj;
}

/* ---- public evaluation ----------------------------------------------- */

/* dims and pointers of data against net (no finiteness check) */
static int check_shape(const gpsc_mlp_t *net, const gpsc_sstep_data_t *d)
{
    if (!net || !d) return GPSC_EINVAL;
    if (d->dO != net->dO || d->dU != net->dU) return GPSC_EDIM;
    if (d->N < 1) return GPSC_ENODATA;
    if (!d->obs || !d->tgt_mu || !d->tgt_prc || !d->tgt_wt) return GPSC_EINVAL;
    return 0;
}

size_t gpsc_sstep_scratch_size(const gpsc_mlp_t *net, int N, int batch_size)
{
    if (N < 1) N = 1;
    if (batch_size < 1) batch_size = 1;
    size_t np = net->n_params;
    return 4 * need_d(np) + need_d((size_t)N * net->dO) + gpsc_arena_need((size_t)N * sizeof(int)) +
           ws_need(net, batch_size) + need_d(gpsc_mlp_work_size(net) + (size_t)net->dU) +
           need_d((size_t)net->dU);
}

int gpsc_sstep_loss(double *loss, const gpsc_mlp_t *net, const gpsc_sstep_data_t *data,
                    gpsc_arena_t *arena)
{
    int rc = check_shape(net, data);
    if (rc) return rc;
    int dU = net->dU;
    size_t uu = (size_t)dU * dU;
    size_t mark = gpsc_arena_mark(arena);
    double *work = take_d(arena, gpsc_mlp_work_size(net) + (size_t)dU);
    if (!work) return GPSC_ENOSPC;
    double *mu = work + gpsc_mlp_work_size(net);
    double sum = 0.0;
    for (int n = 0; n < data->N; n++) {
        gpsc_mlp_forward(mu, net, data->obs + (size_t)n * net->dO, work);
        const double *y = data->tgt_mu + (size_t)n * dU, *P = data->tgt_prc + (size_t)n * uu;
        double q = 0.0;
        for (int i = 0; i < dU; i++) {
            double pd = 0.0;
            for (int j = 0; j < dU; j++)
                pd += 0.5 * (P[(size_t)i * dU + j] + P[(size_t)j * dU + i]) * (mu[j] - y[j]);
            q += (mu[i] - y[i]) * pd;
        }
        sum += 0.5 * data->tgt_wt[n] * q;
    }
    gpsc_arena_free_to(arena, mark);
    *loss = sum / data->N;
    return 0;
}

int gpsc_sstep_loss_grad(double *grad, double *obj, const gpsc_mlp_t *net,
                         const gpsc_sstep_data_t *data, const int *rows, int B, double weight_decay,
                         gpsc_arena_t *arena)
{
    int rc = check_shape(net, data);
    if (rc) return rc;
    if (B < 1 || !rows || !obj) return GPSC_EINVAL;
    for (int r = 0; r < B; r++)
        if (rows[r] < 0 || rows[r] >= data->N) return GPSC_EINVAL;
    size_t mark = gpsc_arena_mark(arena);
    ws_t w;
    if (ws_take(&w, net, B, arena)) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    for (int r = 0; r < B; r++)
        normalize_row(w.H[0] + (size_t)r * net->dO, net, data->obs + (size_t)rows[r] * net->dO);
    double dl;
    *obj = fwd_bwd(grad, &dl, net, &w, data, rows, B, weight_decay, true);
    gpsc_arena_free_to(arena, mark);
    return 0;
}

/* ---- training -------------------------------------------------------- */

/* finite data, non-negative weights with a positive sum */
static int check_data(const gpsc_sstep_data_t *d)
{
    size_t N = (size_t)d->N;
    if (!gpsc_la_all_finite(d->obs, N * d->dO) || !gpsc_la_all_finite(d->tgt_mu, N * d->dU) ||
        !gpsc_la_all_finite(d->tgt_prc, N * d->dU * d->dU) || !gpsc_la_all_finite(d->tgt_wt, N))
        return GPSC_ENONFINITE;
    double s = 0.0;
    for (size_t n = 0; n < N; n++) {
        if (d->tgt_wt[n] < 0.0) return GPSC_EINVAL;
        s += d->tgt_wt[n];
    }
    return s > 0.0 && isfinite(s) ? 0 : GPSC_EINVAL;
}

/* perm (N) = a fresh uniform permutation of 0..N-1 (Fisher-Yates) */
static void shuffle(int *perm, int N, gpsc_rng_t *r)
{
    for (int i = 0; i < N; i++)
        perm[i] = i;
    for (int i = N - 1; i > 0; i--) {
        int j = (int)gpsc_rng_below(r, (uint32_t)i + 1u);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* one Adam step on n parameters; c = lr sqrt(1 - beta2^t) / (1 - beta1^t) */
static void adam_update(double *restrict p, double *restrict m, double *restrict v,
                        const double *restrict g, size_t n, double c, double b1, double b2,
                        double eps)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1.0 - b1) * g[i];
        v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
        p[i] -= c * m[i] / (sqrt(v[i]) + eps);
    }
}

int gpsc_sstep_train(gpsc_mlp_t *net, gpsc_sstep_adam_t *adam, const gpsc_sstep_data_t *data,
                     const gpsc_sstep_cfg_t *cfg, uint64_t seed, uint32_t iteration,
                     gpsc_arena_t *arena, gpsc_sstep_stats_t *stats)
{
    if (!net || !adam || !arena || gpsc_sstep_cfg_check(cfg)) return GPSC_EINVAL;
    if (adam->n != net->n_params || !adam->m || !adam->v) return GPSC_EINVAL;
    int rc = check_shape(net, data);
    if (rc) return rc;
    if ((rc = check_data(data))) return rc;

    /* OpenBLAS 0.3.21 rounds differently with 2 threads than with 1 for
     * some of our shapes (e.g. 300 x 42 x 42 with B^T): one thread always */
    gpsc_la_set_threads(1);

    int N = data->N, dO = net->dO, dU = net->dU;
    int B = cfg->batch_size < N ? cfg->batch_size : N;
    size_t np = net->n_params, off = trained_off(net), len = trained_len(net);
    size_t mark = gpsc_arena_mark(arena);
    double *save_p = take_d(arena, np), *save_m = take_d(arena, np), *save_v = take_d(arena, np);
    double *grad = take_d(arena, np), *nobs = take_d(arena, (size_t)N * dO);
    double *var = take_d(arena, (size_t)dU);
    int *perm = gpsc_arena_alloc(arena, (size_t)N * sizeof(int));
    ws_t w;
    if (!save_p || !save_m || !save_v || !grad || !nobs || !var || !perm ||
        ws_take(&w, net, B, arena)) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    /* saved for the all-or-nothing contract */
    uint64_t save_step = adam->step;
    gpsc_la_copy(save_p, net->params, np);
    gpsc_la_copy(save_m, adam->m, np);
    gpsc_la_copy(save_v, adam->v, np);

    double loss_before = 0.0;
    if ((rc = gpsc_sstep_loss(&loss_before, net, data, arena))) goto fail;

    /* inputs normalised once with the network's (fixed) normalisation */
    for (int n = 0; n < N; n++)
        normalize_row(nobs + (size_t)n * dO, net, data->obs + (size_t)n * dO);

    gpsc_rng_t r;
    gpsc_rng_init5(&r, seed, iteration, 0, 0, GPSC_RNG_MINIBATCH);
    int nb = N / B, epochs = 0, tlen = 0, wcount = 0;
    double wsum = 0.0;
    bool anneal = cfg->lr_final > 0.0 && cfg->lr_final != cfg->lr && cfg->iterations > 1;
    double b1 = cfg->beta1, b2 = cfg->beta2, eps = cfg->eps;
    double *p = net->params, *m = adam->m, *v = adam->v;

    for (int it = 0; it < cfg->iterations; it++) {
        int pos = it % nb;
        if (pos == 0) {
            shuffle(perm, N, &r);
            epochs++;
        }
        const int *rows = perm + (size_t)pos * B;
        for (int i = 0; i < B; i++)
            memcpy(w.H[0] + (size_t)i * dO, nobs + (size_t)rows[i] * dO,
                   (size_t)dO * sizeof(double));
        /* a diverging step shows in the data loss (the parameters are
         * checked once more at the end) */
        double dl;
        fwd_bwd(grad, &dl, net, &w, data, rows, B, cfg->weight_decay, false);
        if (!isfinite(dl)) {
            rc = GPSC_ENONFINITE;
            goto fail;
        }
        /* loss trace: mean minibatch data loss per window */
        wsum += dl;
        if (++wcount == cfg->trace_every) {
            if (stats && stats->trace && tlen < stats->trace_cap)
                stats->trace[tlen] = wsum / wcount;
            tlen++;
            wsum = 0.0;
            wcount = 0;
        }
        /* Adam step (Caffe/TF form: bias corrections folded into the rate) */
        double lr = cfg->lr;
        if (anneal) lr = cfg->lr * pow(cfg->lr_final / cfg->lr, (double)it / (cfg->iterations - 1));
        uint64_t t = ++adam->step;
        double c = lr * sqrt(1.0 - pow(b2, (double)t)) / (1.0 - pow(b1, (double)t));
        adam_update(p + off, m + off, v + off, grad + off, len, c, b1, b2, eps);
    }
    if (wcount > 0) {
        if (stats && stats->trace && tlen < stats->trace_cap) stats->trace[tlen] = wsum / wcount;
        tlen++;
    }
    if (!gpsc_la_all_finite(p + off, len)) {
        rc = GPSC_ENONFINITE;
        goto fail;
    }

    /* closed-form variance (README 5.16) */
    gpsc_policy_prior_sstep_pol_var(var, data->tgt_prc, data->tgt_wt, (size_t)N, dU, cfg->ent_reg);
    for (int i = 0; i < dU; i++)
        if (!(var[i] > 0.0) || !isfinite(var[i])) {
            rc = GPSC_ENONFINITE;
            goto fail;
        }
    gpsc_la_copy(net->var, var, (size_t)dU);

    double loss_after = 0.0;
    if ((rc = gpsc_sstep_loss(&loss_after, net, data, arena))) goto fail;
    if (stats) {
        stats->loss_before = loss_before;
        stats->loss_after = loss_after;
        stats->iterations = cfg->iterations;
        stats->epochs = epochs;
        int cap = stats->trace && stats->trace_cap > 0 ? stats->trace_cap : 0;
        stats->trace_len = tlen < cap ? tlen : cap;
    }
    gpsc_arena_free_to(arena, mark);
    return 0;

fail:
    gpsc_la_copy(net->params, save_p, np);
    gpsc_la_copy(adam->m, save_m, np);
    gpsc_la_copy(adam->v, save_v, np);
    adam->step = save_step;
    gpsc_arena_free_to(arena, mark);
    return rc;
}
