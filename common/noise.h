/* noise.h — exploration noise for one rollout.
 *
 * eps (T x dU) starts as T*dU standard normals drawn from common/rng.h in
 * row-major order (t outer, action inner) from the stream keyed
 * (run seed, iteration, condition, sample index, GPSC_RNG_ROLLOUT_NOISE),
 * so the noise of a rollout is a pure function of its key. Optionally, as
 * in the reference's generate_noise (smooth_noise, smooth_noise_var,
 * smooth_noise_renormalize):
 *   1. each action dimension is smoothed in time with a Gaussian filter of
 *      standard deviation sigma steps, computed like scipy.ndimage's
 *      gaussian_filter1d(x, sigma, mode='reflect', truncate=4.0): radius
 *      r = (int)(4 sigma + 0.5), weights w_k = exp(-0.5 k^2 / sigma^2)
 *      normalised to sum 1 (k = -r..r), out[t] = sum_k w_k x[t+k] summed
 *      from k = -r to r, indices outside [0, T) reflected about the edge
 *      (d c b a | a b c d | d c b a, repeating for r >= T);
 *   2. then each dimension is divided by the square root of its sample
 *      variance over time (population variance, about its own mean; not
 *      recentred), so it has variance 1 again.
 * The policy then adds chol^T eps_t (local) or sqrt(var) .* eps_t (global). */
#ifndef GPSC_NOISE_H
#define GPSC_NOISE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/rng.h"

typedef struct gpsc_noise_cfg {
    bool smooth;      /* apply the Gaussian filter */
    double sigma;     /* filter std in steps (> 0 when smooth) */
    bool renormalize; /* rescale each dimension to unit variance after smoothing */
} gpsc_noise_cfg_t;

/* Doubles of scratch gpsc_noise_draw needs for (T, cfg). */
size_t gpsc_noise_work_size(const gpsc_noise_cfg_t *cfg, int T);

/* eps (T x dU) for `key` (its purpose field is ignored and set to
 * GPSC_RNG_ROLLOUT_NOISE). work holds gpsc_noise_work_size() doubles.
 * Never allocates. A dimension whose smoothed variance is 0 (T = 1) is
 * left as is. */
void gpsc_noise_draw(double *eps, const gpsc_noise_cfg_t *cfg, const gpsc_rng_key_t *key, int T,
                     int dU, double *work);

/* The smoothing step alone, on one series x (n, stride apart) in place:
 * exposed for tests against scipy values. work holds n + 4r + 1 doubles
 * where r = (int)(4 sigma + 0.5). */
void gpsc_noise_gaussian_filter(double *x, int n, int stride, double sigma, double *work);

#endif
