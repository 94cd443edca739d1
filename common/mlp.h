/* mlp.h — the global policy network: a small multilayer perceptron with
 * observation normalisation and a state-independent diagonal covariance,
 * shared by the worker (rollouts) and the learner (training, linearisation).
 *
 *   h_0    = (o - obs_mean) .* obs_scale               (dO)
 *   h_l+1  = act(h_l W_l + b_l)     l = 0 .. n_layers-2  (hidden layers)
 *   mean   = h_L W_L + b_L          L = n_layers-1       (linear output, dU)
 *   u      = mean + sqrt(var) .* eps                     (eps ~ N(0, I))
 *
 * W_l is (width[l] x width[l+1]) row-major (input-major, as in the
 * NetworkPolicy wire message); width[0] = dO and width[n_layers] = dU. act
 * is ReLU (y < 0 ? 0 : y; a NaN stays NaN) or tanh.
 *
 * Arithmetic order (bit-for-bit reproducible across processes and
 * machines with the same libm): every output i of a layer is
 *     y_i = b[i];  for j = 0..in-1: y_i += W[j][i] * h[j]
 * in double, each operation rounded separately (the library is built with
 * -ffp-contract=off); h_0j = (o_j - mean_j) * scale_j as two roundings;
 * u_i = mean_i + sqrt(var_i) * eps_i. The forward pass is plain loops
 * (vectorised across outputs, which keeps every sum's order): at these sizes
 * (dO ~ 26-50, width 42, dU 2-7) they run within ~15% of OpenBLAS gemv
 * (`gpsc-bench-rollout --mlp`), and unlike OpenBLAS, whose kernel (and
 * summation order, FMA use) depends on the CPU it finds, they give the same
 * bits on every x86-64 machine.
 *
 * Parameters live in one contiguous block `params` (so an optimiser can
 * treat them as one vector and a checkpoint can store them as one array),
 * in this order:
 *     obs_mean (dO), obs_scale (dO), W_0, b_0, W_1, b_1, ..., W_L, b_L, var (dU).
 * The named pointers point into that block. */
#ifndef GPSC_MLP_H
#define GPSC_MLP_H

#include <stddef.h>

#define GPSC_MLP_MAX_LAYERS 9 /* weight layers: up to 8 hidden + output */

typedef enum gpsc_mlp_act { GPSC_MLP_RELU = 0, GPSC_MLP_TANH = 1 } gpsc_mlp_act_t;

typedef struct gpsc_mlp {
    int dO, dU;
    int n_layers;                       /* weight layers (hidden + 1) */
    int width[GPSC_MLP_MAX_LAYERS + 1]; /* width[0] = dO ... width[n_layers] = dU */
    gpsc_mlp_act_t act;
    size_t n_params;                /* doubles in params */
    double *params;                 /* (n_params) owned */
    double *obs_mean;               /* (dO) into params */
    double *obs_scale;              /* (dO) into params */
    double *W[GPSC_MLP_MAX_LAYERS]; /* (width[l] x width[l+1]) into params */
    double *b[GPSC_MLP_MAX_LAYERS]; /* (width[l+1]) into params */
    double *var;                    /* (dU) diagonal action variance, into params */
} gpsc_mlp_t;

/* A network with the given hidden widths (n_hidden may be 0: linear
 * policy). Weights and biases are 0, obs_mean 0, obs_scale 1, var 1.
 * NULL when a size is out of range (dO, dU, widths in 1..4096, n_hidden
 * <= GPSC_MLP_MAX_LAYERS-1) or out of memory. */
gpsc_mlp_t *gpsc_mlp_new(int dO, int dU, int n_hidden, const int *hidden, gpsc_mlp_act_t act);

/* Frees the network; accepts NULL; sets *p to NULL. */
void gpsc_mlp_destroy(gpsc_mlp_t **p);

/* Deep copy; NULL when out of memory. */
gpsc_mlp_t *gpsc_mlp_clone(const gpsc_mlp_t *net);

/* Doubles of scratch gpsc_mlp_forward/act need (two layer buffers). */
size_t gpsc_mlp_work_size(const gpsc_mlp_t *net);

/* mean (dU) = network mean at observation obs (dO). work holds
 * gpsc_mlp_work_size() doubles. Never allocates. */
void gpsc_mlp_forward(double *mean, const gpsc_mlp_t *net, const double *obs, double *work);

/* Row by row: mean (N x dU) for obs (N x dO), each row exactly as
 * gpsc_mlp_forward computes it. */
void gpsc_mlp_forward_batch(double *mean, const gpsc_mlp_t *net, const double *obs, int N,
                            double *work);

/* u (dU) = mean + sqrt(var) .* eps; eps NULL gives the mean. */
void gpsc_mlp_act(double *u, const gpsc_mlp_t *net, const double *obs, const double *eps,
                  double *work);

/* 0 when every parameter is finite and var > 0, else GPSC_ENONFINITE /
 * GPSC_ERANGE with a message in err. */
int gpsc_mlp_check(const gpsc_mlp_t *net, char *err, size_t errsz);

#endif
