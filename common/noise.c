/* noise.c — keyed, optionally smoothed exploration noise (see noise.h). */
#include "common/noise.h"

#include <math.h>

static int radius(double sigma)
{
    return (int)(4.0 * sigma + 0.5);
}

size_t gpsc_noise_work_size(const gpsc_noise_cfg_t *cfg, int T)
{
    if (!cfg->smooth) return 1;
    int r = radius(cfg->sigma);
    return (size_t)T + 4 * (size_t)r + 1;
}

/* scipy.ndimage 'reflect' boundary: period 2n, mirrored halves */
static int reflect(int i, int n)
{
    int p = 2 * n;
    i %= p;
    if (i < 0) i += p;
    return i < n ? i : p - 1 - i;
}

void gpsc_noise_gaussian_filter(double *x, int n, int stride, double sigma, double *work)
{
    int r = radius(sigma);
    double *w = work;               /* (2r + 1) weights */
    double *pad = work + 2 * r + 1; /* (n + 2r) input extended by reflection */
    /* weights as scipy's _gaussian_kernel1d: exp(-0.5 / sigma^2 * k^2), normalised */
    double s2 = sigma * sigma, sum = 0.0;
    for (int k = -r; k <= r; k++) {
        w[k + r] = exp(-0.5 / s2 * (double)(k * k));
        sum += w[k + r];
    }
    for (int k = 0; k <= 2 * r; k++)
        w[k] = w[k] / sum;
    for (int i = -r; i < n + r; i++)
        pad[i + r] = x[(size_t)reflect(i, n) * (size_t)stride];
    /* out[t] = sum_{k=-r..r} w_k x[t+k], summed from k = -r up */
    for (int t = 0; t < n; t++) {
        const double *src = pad + t;
        double acc = 0.0;
        for (int k = 0; k <= 2 * r; k++)
            acc += w[k] * src[k];
        x[(size_t)t * (size_t)stride] = acc;
    }
}

void gpsc_noise_draw(double *eps, const gpsc_noise_cfg_t *cfg, const gpsc_rng_key_t *key, int T,
                     int dU, double *work)
{
    gpsc_rng_key_t k = *key;
    k.purpose = GPSC_RNG_ROLLOUT_NOISE;
    gpsc_rng_t rng;
    gpsc_rng_init(&rng, &k);
    gpsc_rng_normals(&rng, eps, T * dU);
    if (!cfg->smooth) return;
    for (int i = 0; i < dU; i++) {
        gpsc_noise_gaussian_filter(eps + i, T, dU, cfg->sigma, work);
        if (!cfg->renormalize) continue;
        /* np.var: mean, then mean of squared deviations */
        double mean = 0.0;
        for (int t = 0; t < T; t++)
            mean += eps[(size_t)t * (size_t)dU + (size_t)i];
        mean /= T;
        double var = 0.0;
        for (int t = 0; t < T; t++) {
            double d = eps[(size_t)t * (size_t)dU + (size_t)i] - mean;
            var += d * d;
        }
        var /= T;
        if (!(var > 0)) continue;
        double sd = sqrt(var);
        for (int t = 0; t < T; t++)
            eps[(size_t)t * (size_t)dU + (size_t)i] /= sd;
    }
}
