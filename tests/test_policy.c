/* test_policy.c — the code worker and learner share: the linear-Gaussian
 * action, the MLP forward pass (both bit for bit against plain reference
 * loops written here in the documented order), and exploration noise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/lgpolicy.h"
#include "common/mlp.h"
#include "common/noise.h"
#include "common/rng.h"

static void randn(gpsc_rng_t *r, double *x, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = scale * gpsc_rng_normal(r);
}

/* ---- linear-Gaussian ---- */

/* u_i = (k_i + sum_j K_ij x_j) + sum_{j<=i} U_ji eps_j, each sum from j = 0 up */
static void lg_reference(double *u, const double *K, const double *k, const double *U,
                         const double *x, const double *eps, int dX, int dU)
{
    for (int i = 0; i < dU; i++) {
        volatile double m = k[i];
        for (int j = 0; j < dX; j++) {
            volatile double p = K[i * dX + j] * x[j];
            m = m + p;
        }
        volatile double n = 0.0;
        for (int j = 0; j <= i && eps; j++) {
            volatile double p = U[j * dU + i] * eps[j];
            n = n + p;
        }
        u[i] = m + n;
    }
}

static void test_lg_bit_exact(void **state)
{
    (void)state;
    const int sizes[][3] = {{5, 26, 7}, {3, 10, 2}, {2, 50, 6}, {1, 1, 1}};
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 42, 0, 0, 0, GPSC_RNG_TEST);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int T = sizes[s][0], dX = sizes[s][1], dU = sizes[s][2];
        gpsc_lgpolicy_t *p = gpsc_lgpolicy_new(T, dX, dU);
        assert_non_null(p);
        randn(&r, p->K, (size_t)T * dU * dX, 3.0);
        randn(&r, p->k, (size_t)T * dU, 10.0);
        /* a random SPD covariance per step */
        double *A = calloc((size_t)dU * dU, sizeof(double));
        double *S = calloc((size_t)dU * dU, sizeof(double));
        for (int t = 0; t < T; t++) {
            randn(&r, A, (size_t)dU * dU, 1.0);
            for (int i = 0; i < dU; i++)
                for (int j = 0; j < dU; j++) {
                    double v = i == j ? 0.5 : 0.0;
                    for (int q = 0; q < dU; q++)
                        v += A[i * dU + q] * A[j * dU + q];
                    S[i * dU + j] = v;
                }
            assert_int_equal(gpsc_lgpolicy_set_covar(p, t, S), 0);
            /* U^T U = S, U upper, inv * S = I */
            const double *U = p->chol + (size_t)t * dU * dU;
            const double *Si = p->inv_pol_covar + (size_t)t * dU * dU;
            for (int i = 0; i < dU; i++)
                for (int j = 0; j < dU; j++) {
                    double v = 0.0, w = 0.0;
                    for (int q = 0; q < dU; q++) {
                        v += U[q * dU + i] * U[q * dU + j];
                        w += Si[i * dU + q] * S[q * dU + j];
                    }
                    assert_true(fabs(v - S[i * dU + j]) < 1e-10 * (1 + fabs(S[i * dU + j])));
                    assert_true(fabs(w - (i == j)) < 1e-8);
                    if (i > j) assert_true(U[i * dU + j] == 0.0);
                }
        }
        double *x = calloc((size_t)dX, sizeof(double));
        double *eps = calloc((size_t)dU, sizeof(double));
        double *u = calloc((size_t)dU, sizeof(double));
        double *v = calloc((size_t)dU, sizeof(double));
        for (int t = 0; t < T; t++)
            for (int rep = 0; rep < 20; rep++) {
                randn(&r, x, (size_t)dX, 2.0);
                randn(&r, eps, (size_t)dU, 1.0);
                const double *K = p->K + (size_t)t * dU * dX, *k = p->k + (size_t)t * dU;
                const double *U = p->chol + (size_t)t * dU * dU;
                gpsc_lgpolicy_act(u, p, t, x, eps);
                lg_reference(v, K, k, U, x, eps, dX, dU);
                assert_memory_equal(u, v, sizeof(double) * (size_t)dU);
                gpsc_lgpolicy_act(u, p, t, x, NULL);
                lg_reference(v, K, k, U, x, NULL, dX, dU);
                assert_memory_equal(u, v, sizeof(double) * (size_t)dU);
            }
        /* clone copies everything */
        gpsc_lgpolicy_t *c = gpsc_lgpolicy_clone(p);
        assert_memory_equal(c->K, p->K, sizeof(double) * (size_t)T * dU * dX);
        assert_memory_equal(c->chol, p->chol, sizeof(double) * (size_t)T * dU * dU);
        char err[128];
        assert_int_equal(gpsc_lgpolicy_check(c, err, sizeof err), 0);
        c->k[0] = NAN;
        assert_int_equal(gpsc_lgpolicy_check(c, err, sizeof err), GPSC_ENONFINITE);
        gpsc_lgpolicy_destroy(&c);
        assert_null(c);
        free(A);
        free(S);
        free(x);
        free(eps);
        free(u);
        free(v);
        gpsc_lgpolicy_destroy(&p);
    }
    gpsc_lgpolicy_destroy(NULL);
}

static void test_lg_covar_errors(void **state)
{
    (void)state;
    gpsc_lgpolicy_t *p = gpsc_lgpolicy_new(2, 3, 2);
    double notpd[4] = {1, 2, 2, 1};
    assert_int_equal(gpsc_lgpolicy_set_covar(p, 0, notpd), GPSC_ENOTPD);
    /* the step is unchanged (identity from _new) */
    assert_true(p->chol[0] == 1.0 && p->chol[3] == 1.0 && p->pol_covar[1] == 0.0);
    assert_int_equal(gpsc_lgpolicy_set_covar(p, 2, notpd), GPSC_ERANGE);
    double big[4] = {4, 0, 0, 9};
    assert_int_equal(gpsc_lgpolicy_set_covar(p, 1, big), 0);
    assert_true(p->chol[4 + 0] == 2.0 && p->chol[4 + 3] == 3.0);
    assert_null(gpsc_lgpolicy_new(0, 3, 2));
    gpsc_lgpolicy_destroy(&p);
}

/* ---- MLP ---- */

/* the documented order, as plain scalar loops:
 * h0_j = (o_j - mean_j) * scale_j; y_i = b_i; for j: y_i += W[j][i] * h[j] */
static void mlp_reference(double *u, const gpsc_mlp_t *n, const double *o, const double *eps)
{
    double h[512], y[512];
    for (int j = 0; j < n->dO; j++) {
        volatile double d = o[j] - n->obs_mean[j];
        h[j] = d * n->obs_scale[j];
    }
    for (int l = 0; l < n->n_layers; l++) {
        int in = n->width[l], out = n->width[l + 1];
        for (int i = 0; i < out; i++) {
            volatile double s = n->b[l][i];
            for (int j = 0; j < in; j++) {
                volatile double p = n->W[l][j * out + i] * h[j];
                s = s + p;
            }
            y[i] = s;
            if (l < n->n_layers - 1)
                y[i] = n->act == GPSC_MLP_RELU ? (y[i] < 0.0 ? 0.0 : y[i]) : tanh(y[i]);
        }
        memcpy(h, y, sizeof(double) * (size_t)out);
    }
    for (int i = 0; i < n->dU; i++) {
        if (eps) {
            volatile double p = sqrt(n->var[i]) * eps[i];
            u[i] = h[i] + p;
        } else {
            u[i] = h[i];
        }
    }
}

static void test_mlp_bit_exact(void **state)
{
    (void)state;
    struct {
        int dO, dU, nh, hidden[3];
        gpsc_mlp_act_t act;
    } cases[] = {{26, 7, 2, {42, 42}, GPSC_MLP_RELU},
                 {50, 2, 2, {42, 42}, GPSC_MLP_RELU},
                 {10, 2, 3, {17, 5, 33}, GPSC_MLP_TANH},
                 {26, 7, 0, {0}, GPSC_MLP_RELU},
                 {40, 6, 1, {64}, GPSC_MLP_TANH}};
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 7, 0, 0, 0, GPSC_RNG_TEST);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gpsc_mlp_t *n =
            gpsc_mlp_new(cases[c].dO, cases[c].dU, cases[c].nh, cases[c].hidden, cases[c].act);
        assert_non_null(n);
        /* the parameter block layout */
        size_t np = 2 * (size_t)n->dO + (size_t)n->dU;
        for (int l = 0; l < n->n_layers; l++)
            np += (size_t)n->width[l] * n->width[l + 1] + n->width[l + 1];
        assert_int_equal(n->n_params, np);
        assert_ptr_equal(n->obs_mean, n->params);
        assert_ptr_equal(n->var, n->params + np - n->dU);
        randn(&r, n->params, n->n_params, 0.5);
        for (int i = 0; i < n->dU; i++)
            n->var[i] = 0.01 + fabs(n->var[i]);
        double *w = calloc(gpsc_mlp_work_size(n), sizeof(double));
        double *o = calloc((size_t)n->dO * 4, sizeof(double));
        double u[16], v[16], batch[64], eps[16];
        for (int rep = 0; rep < 200; rep++) {
            randn(&r, o, (size_t)n->dO, 3.0);
            randn(&r, eps, (size_t)n->dU, 1.0);
            gpsc_mlp_act(u, n, o, eps, w);
            mlp_reference(v, n, o, eps);
            assert_memory_equal(u, v, sizeof(double) * (size_t)n->dU);
            gpsc_mlp_forward(u, n, o, w);
            mlp_reference(v, n, o, NULL);
            assert_memory_equal(u, v, sizeof(double) * (size_t)n->dU);
        }
        /* batch = row by row */
        randn(&r, o, (size_t)n->dO * 4, 1.0);
        gpsc_mlp_forward_batch(batch, n, o, 4, w);
        for (int b = 0; b < 4; b++) {
            mlp_reference(v, n, o + b * n->dO, NULL);
            assert_memory_equal(batch + b * n->dU, v, sizeof(double) * (size_t)n->dU);
        }
        /* a clone computes the same */
        gpsc_mlp_t *m = gpsc_mlp_clone(n);
        gpsc_mlp_forward(u, m, o, w);
        mlp_reference(v, n, o, NULL);
        assert_memory_equal(u, v, sizeof(double) * (size_t)n->dU);
        char err[128];
        assert_int_equal(gpsc_mlp_check(m, err, sizeof err), 0);
        m->var[0] = 0.0;
        assert_int_equal(gpsc_mlp_check(m, err, sizeof err), GPSC_ERANGE);
        m->W[0][0] = INFINITY;
        assert_int_equal(gpsc_mlp_check(m, err, sizeof err), GPSC_ENONFINITE);
        gpsc_mlp_destroy(&m);
        free(w);
        free(o);
        gpsc_mlp_destroy(&n);
    }
}

static void test_mlp_known_values(void **state)
{
    (void)state;
    /* 2 -> 2 (relu) -> 1 by hand */
    int hidden[1] = {2};
    gpsc_mlp_t *n = gpsc_mlp_new(2, 1, 1, hidden, GPSC_MLP_RELU);
    n->obs_mean[0] = 1.0;
    n->obs_scale[1] = 2.0;
    /* W0 (2 x 2) input-major: W0[j][i] */
    n->W[0][0] = 1.0;  /* in 0 -> out 0 */
    n->W[0][1] = -1.0; /* in 0 -> out 1 */
    n->W[0][2] = 0.5;  /* in 1 -> out 0 */
    n->W[0][3] = 0.25; /* in 1 -> out 1 */
    n->b[0][1] = -10.0;
    n->W[1][0] = 2.0;
    n->W[1][1] = 3.0;
    n->b[1][0] = 0.5;
    n->var[0] = 4.0;
    double o[2] = {3.0, 1.0}, w[8], u, eps = 1.0;
    /* h0 = (2, 2); h1 = relu(2 + 1, -2 + 0.5 - 10) = (3, 0); mean = 0.5 + 6 = 6.5 */
    gpsc_mlp_forward(&u, n, o, w);
    assert_true(u == 6.5);
    gpsc_mlp_act(&u, n, o, &eps, w);
    assert_true(u == 8.5);
    /* NaN propagates through ReLU */
    o[0] = NAN;
    gpsc_mlp_forward(&u, n, o, w);
    assert_true(isnan(u));
    gpsc_mlp_destroy(&n);
    assert_null(gpsc_mlp_new(0, 1, 0, NULL, GPSC_MLP_RELU));
    int bad[1] = {0};
    assert_null(gpsc_mlp_new(3, 1, 1, bad, GPSC_MLP_RELU));
}

/* ---- noise ---- */

static void test_noise_keyed(void **state)
{
    (void)state;
    const int T = 100, dU = 7;
    gpsc_noise_cfg_t raw = {false, 2.0, false}, smooth = {true, 2.0, true};
    double *a = calloc(T * dU, sizeof(double)), *b = calloc(T * dU, sizeof(double));
    double *w = calloc(gpsc_noise_work_size(&smooth, T), sizeof(double));
    gpsc_rng_key_t k = {1234, 3, 2, 5, 0};
    /* unsmoothed = the keyed stream, row-major */
    gpsc_noise_draw(a, &raw, &k, T, dU, w);
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 1234, 3, 2, 5, GPSC_RNG_ROLLOUT_NOISE);
    gpsc_rng_normals(&r, b, T * dU);
    assert_memory_equal(a, b, sizeof(double) * T * dU);
    /* same key, same bits; another sample index, other noise */
    gpsc_noise_draw(a, &smooth, &k, T, dU, w);
    gpsc_noise_draw(b, &smooth, &k, T, dU, w);
    assert_memory_equal(a, b, sizeof(double) * T * dU);
    k.sample = 6;
    gpsc_noise_draw(b, &smooth, &k, T, dU, w);
    int same = 0;
    for (int i = 0; i < T * dU; i++)
        same += a[i] == b[i];
    assert_true(same < 5);
    /* renormalised: every dimension has sample variance 1 */
    for (int i = 0; i < dU; i++) {
        double m = 0, v = 0;
        for (int t = 0; t < T; t++)
            m += a[t * dU + i];
        m /= T;
        for (int t = 0; t < T; t++)
            v += (a[t * dU + i] - m) * (a[t * dU + i] - m);
        v /= T;
        assert_true(fabs(v - 1.0) < 1e-12);
    }
    /* smoothed noise is correlated in time: lag-1 autocorrelation well above 0 */
    double c = 0, z = 0;
    for (int i = 0; i < dU; i++)
        for (int t = 0; t + 1 < T; t++) {
            c += a[t * dU + i] * a[(t + 1) * dU + i];
            z += a[t * dU + i] * a[t * dU + i];
        }
    assert_true(c / z > 0.7);
    free(a);
    free(b);
    free(w);
}

/* scipy.ndimage.gaussian_filter1d(x, sigma, mode='reflect', truncate=4.0),
 * written from its definition: an independent second implementation */
static void filter_reference(double *out, const double *x, int n, double sigma)
{
    int r = (int)(4.0 * sigma + 0.5);
    double w[64], s = 0;
    for (int k = -r; k <= r; k++)
        s += w[k + r] = exp(-0.5 * k * k / (sigma * sigma));
    for (int t = 0; t < n; t++) {
        double acc = 0;
        for (int k = -r; k <= r; k++) {
            int i = t + k;
            /* d c b a | a b c d | d c b a, repeated */
            while (i < 0 || i >= n)
                i = i < 0 ? -i - 1 : 2 * n - 1 - i;
            acc += (w[k + r] / s) * x[i];
        }
        out[t] = acc;
    }
}

static void test_gaussian_filter(void **state)
{
    (void)state;
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 3, 0, 0, 0, GPSC_RNG_TEST);
    const int ns[] = {100, 17, 5, 3, 1};
    const double sigmas[] = {2.0, 1.0, 0.7, 3.3};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < sizeof sigmas / sizeof sigmas[0]; b++) {
            int n = ns[a];
            double sig = sigmas[b];
            double x[100], y[100], ref[100];
            double w[100 + 4 * 16 + 1];
            randn(&r, x, (size_t)n, 1.0);
            filter_reference(ref, x, n, sig);
            /* strided in place, as the noise uses it */
            double xs[300] = {0};
            for (int i = 0; i < n; i++)
                xs[3 * i + 1] = x[i];
            gpsc_noise_gaussian_filter(xs + 1, n, 3, sig, w);
            for (int i = 0; i < n; i++) {
                y[i] = xs[3 * i + 1];
                assert_true(fabs(y[i] - ref[i]) < 1e-14);
                assert_true(xs[3 * i] == 0.0 && xs[3 * i + 2] == 0.0);
            }
        }
    /* a constant stays constant, a line stays a line away from the edges */
    double x[40], w[40 + 4 * 8 + 1];
    for (int i = 0; i < 40; i++)
        x[i] = 0.25 * i - 3.0;
    gpsc_noise_gaussian_filter(x, 40, 1, 2.0, w);
    for (int i = 8; i < 32; i++)
        assert_true(fabs(x[i] - (0.25 * i - 3.0)) < 1e-12);
    for (int i = 0; i < 40; i++)
        x[i] = 1.5;
    gpsc_noise_gaussian_filter(x, 40, 1, 2.0, w);
    for (int i = 0; i < 40; i++)
        assert_true(fabs(x[i] - 1.5) < 1e-14);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lg_bit_exact),  cmocka_unit_test(test_lg_covar_errors),
        cmocka_unit_test(test_mlp_bit_exact), cmocka_unit_test(test_mlp_known_values),
        cmocka_unit_test(test_noise_keyed),   cmocka_unit_test(test_gaussian_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
