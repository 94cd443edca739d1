/* mlp.c — policy network forward pass (see mlp.h for the exact order). */
#include "common/mlp.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

/* lays the named pointers over the parameter block */
static void bind(gpsc_mlp_t *n)
{
    double *p = n->params;
    n->obs_mean = p;
    p += n->dO;
    n->obs_scale = p;
    p += n->dO;
    for (int l = 0; l < n->n_layers; l++) {
        n->W[l] = p;
        p += (size_t)n->width[l + 1] * (size_t)n->width[l];
        n->b[l] = p;
        p += n->width[l + 1];
    }
    n->var = p;
}

gpsc_mlp_t *gpsc_mlp_new(int dO, int dU, int n_hidden, const int *hidden, gpsc_mlp_act_t act)
{
    if (dO < 1 || dO > 4096 || dU < 1 || dU > 4096 || n_hidden < 0 ||
        n_hidden > GPSC_MLP_MAX_LAYERS - 1 || (act != GPSC_MLP_RELU && act != GPSC_MLP_TANH))
        return NULL;
    for (int i = 0; i < n_hidden; i++)
        if (hidden[i] < 1 || hidden[i] > 4096) return NULL;
    gpsc_mlp_t *n = calloc(1, sizeof *n);
    if (!n) return NULL;
    n->dO = dO;
    n->dU = dU;
    n->act = act;
    n->n_layers = n_hidden + 1;
    n->width[0] = dO;
    for (int i = 0; i < n_hidden; i++)
        n->width[i + 1] = hidden[i];
    n->width[n->n_layers] = dU;
    size_t np = 2 * (size_t)dO + (size_t)dU;
    for (int l = 0; l < n->n_layers; l++)
        np += (size_t)n->width[l + 1] * ((size_t)n->width[l] + 1);
    n->n_params = np;
    n->params = calloc(np, sizeof(double));
    if (!n->params) {
        free(n);
        return NULL;
    }
    bind(n);
    for (int i = 0; i < dO; i++)
        n->obs_scale[i] = 1.0;
    for (int i = 0; i < dU; i++)
        n->var[i] = 1.0;
    return n;
}

void gpsc_mlp_destroy(gpsc_mlp_t **p)
{
    if (!p || !*p) return;
    free((*p)->params);
    free(*p);
    *p = NULL;
}

gpsc_mlp_t *gpsc_mlp_clone(const gpsc_mlp_t *src)
{
    gpsc_mlp_t *n = malloc(sizeof *n);
    if (!n) return NULL;
    *n = *src;
    n->params = malloc(src->n_params * sizeof(double));
    if (!n->params) {
        free(n);
        return NULL;
    }
    memcpy(n->params, src->params, src->n_params * sizeof(double));
    bind(n);
    return n;
}

size_t gpsc_mlp_work_size(const gpsc_mlp_t *net)
{
    int m = 0;
    for (int l = 0; l <= net->n_layers; l++)
        if (net->width[l] > m) m = net->width[l];
    return 2 * (size_t)m;
}

/* The loops are compiled for AVX2 as well as the baseline and picked at
 * load time. Without contraction to FMA a vector multiply or add rounds
 * exactly like the scalar one, and vectorising runs across outputs i (each
 * output's sum keeps its order), so every clone gives the same bits.
 * Measured on peg7's network (26 -> 42 -> 42 -> 7): baseline SSE2 ~1.0 us,
 * AVX2 ~0.57 us, OpenBLAS dgemv per layer ~0.49 us. An AVX-512 clone was
 * as fast in isolation but slowed MuJoCo's scalar code after it (the core
 * clocks down after 512-bit instructions): rollouts under the network lost
 * 6% of their speed, so it is not built. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
#define GPSC_MLP_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define GPSC_MLP_CLONES
#endif

GPSC_MLP_CLONES
void gpsc_mlp_forward(double *mean, const gpsc_mlp_t *net, const double *obs, double *work)
{
    size_t half = gpsc_mlp_work_size(net) / 2;
    double *h = work, *y = work + half;
    for (int j = 0; j < net->dO; j++)
        h[j] = (obs[j] - net->obs_mean[j]) * net->obs_scale[j];
    for (int l = 0; l < net->n_layers; l++) {
        int in = net->width[l], out = net->width[l + 1];
        bool last = l == net->n_layers - 1;
        double *restrict dst = last ? mean : y;
        const double *restrict W = net->W[l];
        const double *restrict b = net->b[l];
        const double *restrict hin = h;
        /* axpy form: output i still sums b_i, then j = 0, 1, ... in order;
           vectorising across i changes no rounding */
        for (int i = 0; i < out; i++)
            dst[i] = b[i];
        for (int j = 0; j < in; j++) {
            const double *restrict Wj = W + (size_t)j * (size_t)out;
            double hj = hin[j];
            for (int i = 0; i < out; i++)
                dst[i] += Wj[i] * hj;
        }
        if (!last) {
            if (net->act == GPSC_MLP_RELU) {
                for (int i = 0; i < out; i++)
                    dst[i] = dst[i] < 0.0 ? 0.0 : dst[i];
            } else {
                for (int i = 0; i < out; i++)
                    dst[i] = tanh(dst[i]);
            }
        }
        if (!last) {
            double *tmp = h;
            h = y;
            y = tmp;
        }
    }
}

void gpsc_mlp_forward_batch(double *mean, const gpsc_mlp_t *net, const double *obs, int N,
                            double *work)
{
    for (int n = 0; n < N; n++)
        gpsc_mlp_forward(mean + (size_t)n * (size_t)net->dU, net, obs + (size_t)n * (size_t)net->dO,
                         work);
}

void gpsc_mlp_act(double *u, const gpsc_mlp_t *net, const double *obs, const double *eps,
                  double *work)
{
    gpsc_mlp_forward(u, net, obs, work);
    if (eps)
        for (int i = 0; i < net->dU; i++)
            u[i] = u[i] + sqrt(net->var[i]) * eps[i];
}

int gpsc_mlp_check(const gpsc_mlp_t *net, char *err, size_t errsz)
{
    for (size_t i = 0; i < net->n_params; i++)
        if (!isfinite(net->params[i])) {
            snprintf(err, errsz, "policy network: parameter %zu is not finite", i);
            return GPSC_ENONFINITE;
        }
    for (int i = 0; i < net->dU; i++)
        if (!(net->var[i] > 0)) {
            snprintf(err, errsz, "policy network: variance %d is not positive", i);
            return GPSC_ERANGE;
        }
    return 0;
}
