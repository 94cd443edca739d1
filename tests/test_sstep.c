/* test_sstep — the S-step (learner/sstep.h): the training set against the
 * reference vector, the closed-form variance, the backward pass against
 * finite differences, the exact weighted least-squares optimum for a linear
 * network, decrease of the loss for a ReLU network, determinism, atomic
 * failure, refusal of bad input, and the time of a peg7-size S-step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "common/error.h"
#include "common/la.h"
#include "common/mlp.h"
#include "common/rng.h"
#include "common/vecfile.h"
#include "learner/sstep.h"

/* ---- the realistic sstep_targets vector ------------------------------ */

typedef struct ref {
    gpsc_vecfile_t *vf;
    int N, T, dX, dU;
    const double *X, *K, *k, *prc, *pol_wt;            /* inputs */
    const double *tgt_mu, *tgt_prc, *tgt_wt, *pol_var; /* outputs */
} ref_t;

static const double *arr(const gpsc_vecset_t *s, const char *name)
{
    const gpsc_value_t *v;
    char err[256];
    int rc = gpsc_vecset_array(s, name, -1, &v, err, sizeof err);
    if (rc) print_error("%s\n", err);
    assert_int_equal(rc, 0);
    return v->data;
}

static void ref_load(ref_t *r)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/reference/sstep_targets_realistic.json", GPSC_TEST_DATA);
    r->vf = gpsc_vecfile_load(path, err, sizeof err);
    if (!r->vf) print_error("%s\n", err);
    assert_non_null(r->vf);
    const gpsc_value_t *X;
    assert_int_equal(gpsc_vecset_array(r->vf->inputs, "X", 3, &X, err, sizeof err), 0);
    r->N = X->shape[0];
    r->T = X->shape[1];
    r->dX = X->shape[2];
    r->X = X->data;
    const gpsc_value_t *K;
    assert_int_equal(gpsc_vecset_array(r->vf->inputs, "K", 3, &K, err, sizeof err), 0);
    r->dU = K->shape[1];
    r->K = K->data;
    r->k = arr(r->vf->inputs, "k");
    r->prc = arr(r->vf->inputs, "inv_pol_covar");
    r->pol_wt = arr(r->vf->inputs, "pol_wt");
    r->tgt_mu = arr(r->vf->outputs, "tgt_mu");
    r->tgt_prc = arr(r->vf->outputs, "tgt_prc");
    r->tgt_wt = arr(r->vf->outputs, "tgt_wt");
    r->pol_var = arr(r->vf->outputs, "pol_var");
}

/* one condition holding samples [n0, n0 + n) of the vector, X as obs */
static gpsc_sstep_cond_t ref_cond(const ref_t *r, int n0, int n)
{
    size_t off = (size_t)n0 * r->T * r->dX;
    gpsc_sstep_cond_t c = {.N = n,
                           .X = r->X + off,
                           .obs = r->X + off,
                           .K = r->K,
                           .k = r->k,
                           .inv_pol_covar = r->prc,
                           .pol_wt = r->pol_wt};
    return c;
}

/* the vector's training set built in `a` (all samples, one condition) */
static void ref_data(gpsc_sstep_data_t *d, const ref_t *r, gpsc_arena_t *a)
{
    gpsc_sstep_cond_t c = ref_cond(r, 0, r->N);
    assert_int_equal(gpsc_sstep_build(d, &c, 1, r->T, r->dX, r->dX, r->dU, a), 0);
}

static void assert_close(const double *got, const double *want, size_t n, double rtol, double atol,
                         const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= atol + rtol * fabs(want[i]))) {
            print_error("%s[%zu]: got %.17g want %.17g\n", what, i, got[i], want[i]);
            fail();
        }
}

static gpsc_arena_t *arena_for(const gpsc_mlp_t *net, int N, int B)
{
    gpsc_arena_t *a = gpsc_arena_new(gpsc_sstep_scratch_size(net, N, B) + (64u << 20));
    assert_non_null(a);
    return a;
}

/* ---- tests ------------------------------------------------------------ */

/* the flattened training set equals the vector's targets and weights, and
 * splitting the samples over two conditions (same local policy) changes
 * nothing: the weights are normalised over the concatenation */
static void test_build_matches_reference(void **state)
{
    (void)state;
    ref_t r;
    ref_load(&r);
    int NT = r.N * r.T, dU = r.dU;
    gpsc_sstep_cond_t one = ref_cond(&r, 0, r.N);
    gpsc_sstep_cond_t two[2] = {ref_cond(&r, 0, 2), ref_cond(&r, 2, r.N - 2)};
    size_t need = gpsc_sstep_build_size(&one, 1, r.T, r.dX, dU);
    assert_int_equal(need, gpsc_sstep_build_size(two, 2, r.T, r.dX, dU));
    gpsc_arena_t *a = gpsc_arena_new(3 * need);
    assert_non_null(a);
    gpsc_sstep_data_t d1, d2;
    assert_int_equal(gpsc_sstep_build(&d1, &one, 1, r.T, r.dX, r.dX, dU, a), 0);
    assert_int_equal(gpsc_sstep_build(&d2, two, 2, r.T, r.dX, r.dX, dU, a), 0);
    assert_int_equal(d1.N, NT);
    assert_int_equal(d2.N, NT);
    double rt = r.vf->rtol, at = r.vf->atol;
    assert_close(d1.tgt_mu, r.tgt_mu, (size_t)NT * dU, rt, at, "tgt_mu");
    assert_close(d1.tgt_prc, r.tgt_prc, (size_t)NT * dU * dU, rt, at, "tgt_prc");
    assert_close(d1.tgt_wt, r.tgt_wt, (size_t)NT, rt, at, "tgt_wt");
    assert_memory_equal(d1.obs, r.X, (size_t)NT * r.dX * sizeof(double));
    assert_memory_equal(d1.tgt_mu, d2.tgt_mu, (size_t)NT * dU * sizeof(double));
    assert_memory_equal(d1.tgt_prc, d2.tgt_prc, (size_t)NT * dU * dU * sizeof(double));
    assert_memory_equal(d1.tgt_wt, d2.tgt_wt, (size_t)NT * sizeof(double));
    assert_memory_equal(d1.obs, d2.obs, (size_t)NT * r.dX * sizeof(double));

    /* a condition without samples contributes nothing; no rows at all is refused */
    gpsc_sstep_cond_t three[3] = {ref_cond(&r, 0, 2), ref_cond(&r, 0, 0), ref_cond(&r, 2, r.N - 2)};
    gpsc_sstep_data_t d3;
    assert_int_equal(gpsc_sstep_build(&d3, three, 3, r.T, r.dX, r.dX, dU, a), 0);
    assert_memory_equal(d1.tgt_wt, d3.tgt_wt, (size_t)NT * sizeof(double));
    gpsc_sstep_cond_t none = ref_cond(&r, 0, 0);
    assert_int_equal(gpsc_sstep_build(&d3, &none, 1, r.T, r.dX, r.dX, dU, a), GPSC_ENODATA);

    /* too small an arena: refused, arena unchanged */
    gpsc_arena_t *small = gpsc_arena_new(need / 2);
    assert_non_null(small);
    assert_int_equal(gpsc_sstep_build(&d3, &one, 1, r.T, r.dX, r.dX, dU, small), GPSC_ENOSPC);
    assert_int_equal(gpsc_arena_used(small), 0);
    gpsc_arena_destroy(&small);
    gpsc_arena_destroy(&a);
    gpsc_vecfile_destroy(&r.vf);
}

/* after an S-step the network's variance is the vector's pol_var */
static void test_pol_var_reference(void **state)
{
    (void)state;
    ref_t r;
    ref_load(&r);
    int hidden[2] = {42, 42};
    gpsc_mlp_t *net = gpsc_mlp_new(r.dX, r.dU, 2, hidden, GPSC_MLP_RELU);
    assert_non_null(net);
    gpsc_arena_t *a = arena_for(net, r.N * r.T, 25);
    gpsc_sstep_data_t d;
    ref_data(&d, &r, a);
    gpsc_sstep_cfg_t cfg;
    gpsc_sstep_cfg_default(&cfg);
    cfg.iterations = 20;
    gpsc_sstep_init_net(net, &cfg, 7);
    for (int i = 0; i < r.dU; i++)
        assert_true(net->var[i] == cfg.init_var);
    assert_int_equal(gpsc_sstep_fit_normalization(net, d.obs, d.N), 0);
    gpsc_sstep_adam_t adam;
    assert_int_equal(gpsc_sstep_adam_init(&adam, net->n_params), 0);
    assert_int_equal(gpsc_sstep_train(net, &adam, &d, &cfg, 7, 1, a, NULL), 0);
    assert_close(net->var, r.pol_var, (size_t)r.dU, r.vf->rtol, r.vf->atol, "pol_var");
    char err[128];
    assert_int_equal(gpsc_mlp_check(net, err, sizeof err), 0);

    /* ent_reg enters as 2 N ent_reg on the diagonal before the division */
    double sw = 0.0;
    for (int n = 0; n < d.N; n++)
        sw += d.tgt_wt[n];
    gpsc_sstep_set_var(net, &d, 0.25);
    for (int i = 0; i < r.dU; i++) {
        double want = 1.0 / (1.0 / r.pol_var[i] + 2.0 * d.N * 0.25 / sw);
        assert_true(fabs(net->var[i] - want) <= 1e-12 * want);
    }
    gpsc_sstep_adam_free(&adam);
    gpsc_arena_destroy(&a);
    gpsc_mlp_destroy(&net);
    gpsc_vecfile_destroy(&r.vf);
}

/* random SPD matrix (n x n) */
static void rand_spd(double *P, int n, gpsc_rng_t *g)
{
    double A[16 * 16];
    for (int i = 0; i < n * n; i++)
        A[i] = gpsc_rng_normal(g);
    gpsc_la_gemm(P, A, A, n, n, n, false, true, 1.0, 0.0);
    gpsc_la_add_diag(P, 0.5, n);
    gpsc_la_sym(P, n);
}

/* backward pass against central differences of the minibatch objective */
static void gradcheck(gpsc_mlp_act_t act)
{
    enum { dO = 4, dU = 3, N = 9 };
    int hidden[2] = {6, 5};
    gpsc_mlp_t *net = gpsc_mlp_new(dO, dU, 2, hidden, act);
    assert_non_null(net);
    gpsc_rng_t g;
    gpsc_rng_init5(&g, 3, 0, 0, 0, GPSC_RNG_TEST);
    double obs[N * dO], mu[N * dU], prc[N * dU * dU], wt[N];
    for (int i = 0; i < N * dO; i++)
        obs[i] = 2.0 * gpsc_rng_normal(&g) + 1.0;
    for (int i = 0; i < N * dU; i++)
        mu[i] = gpsc_rng_normal(&g);
    for (int n = 0; n < N; n++) {
        rand_spd(prc + n * dU * dU, dU, &g);
        /* a slightly asymmetric precision: only its symmetric part counts */
        prc[n * dU * dU + 1] += 0.1;
        wt[n] = 0.5 + gpsc_rng_uniform(&g);
    }
    gpsc_sstep_data_t d = {N, dO, dU, obs, mu, prc, wt};
    gpsc_sstep_cfg_t cfg;
    gpsc_sstep_cfg_default(&cfg);
    cfg.init_std = 0.0;
    gpsc_sstep_init_net(net, &cfg, 11);
    assert_int_equal(gpsc_sstep_fit_normalization(net, obs, N), 0);
    for (int l = 0; l < net->n_layers; l++)
        for (int i = 0; i < net->width[l + 1]; i++)
            net->b[l][i] = 0.3 * gpsc_rng_normal(&g);
    int rows[] = {4, 0, 7, 7, 2, 8};
    int B = (int)(sizeof rows / sizeof *rows);
    double wd = 0.03;
    gpsc_arena_t *a = arena_for(net, N, B);
    size_t np = net->n_params;
    double *grad = calloc(np, sizeof(double));
    assert_non_null(grad);
    double obj;
    assert_int_equal(gpsc_sstep_loss_grad(grad, &obj, net, &d, rows, B, wd, a), 0);
    size_t off = (size_t)(net->W[0] - net->params), end = (size_t)(net->var - net->params);
    double worst = 0.0;
    for (size_t i = 0; i < np; i++) {
        if (i < off || i >= end) {
            assert_true(grad[i] == 0.0); /* normalisation and var are not trained */
            continue;
        }
        double keep = net->params[i], h = 1e-6 * (1.0 + fabs(keep)), fp, fm;
        net->params[i] = keep + h;
        assert_int_equal(gpsc_sstep_loss_grad(NULL, &fp, net, &d, rows, B, wd, a), 0);
        net->params[i] = keep - h;
        assert_int_equal(gpsc_sstep_loss_grad(NULL, &fm, net, &d, rows, B, wd, a), 0);
        net->params[i] = keep;
        double fd = (fp - fm) / (2.0 * h);
        double e = fabs(fd - grad[i]) / (1e-6 + fabs(fd));
        if (e > worst) worst = e;
        if (!(fabs(fd - grad[i]) <= 2e-6 * (1e-3 + fabs(fd)))) {
            print_error("param %zu: backward %.12g finite difference %.12g\n", i, grad[i], fd);
            fail();
        }
    }
    print_message("gradient check (%s): worst relative error %.2e\n",
                  act == GPSC_MLP_RELU ? "relu" : "tanh", worst);

    /* the objective is the data loss of those rows plus the decay term */
    double sq = 0.0;
    for (size_t i = off; i < end; i++)
        sq += net->params[i] * net->params[i];
    double dl = 0.0, work[64], m[dU];
    for (int r = 0; r < B; r++) {
        int n = rows[r];
        gpsc_mlp_forward(m, net, obs + n * dO, work);
        double q = 0.0;
        for (int i = 0; i < dU; i++)
            for (int j = 0; j < dU; j++)
                q += (m[i] - mu[n * dU + i]) * prc[(n * dU + i) * dU + j] * (m[j] - mu[n * dU + j]);
        dl += 0.5 * wt[n] * q;
    }
    double want = dl / B + 0.5 * wd * sq;
    assert_true(fabs(obj - want) <= 1e-12 * want);
    free(grad);
    gpsc_arena_destroy(&a);
    gpsc_mlp_destroy(&net);
}

static void test_gradcheck_relu(void **state)
{
    (void)state;
    gradcheck(GPSC_MLP_RELU);
}

static void test_gradcheck_tanh(void **state)
{
    (void)state;
    gradcheck(GPSC_MLP_TANH);
}

/* The exact optimum of J for a linear network, in the normalised input
 * space h = (o - obs_mean) .* obs_scale with phi = [h; 1]:
 *   theta = [W; b] (D x dU, D = dO + 1), index (j, i) -> j dU + i (the
 *   layout of W_0, b_0 in the parameter block),
 *   J = 1/N sum_n 0.5 w_n (theta^T phi_n - y_n)^T P_n (...) + 0.5 wd |theta|^2,
 *   normal equations H theta = g with
 *   H[(j,i),(k,l)] = 1/N sum_n w_n phi_nj phi_nk P_n[i,l] + wd delta,
 *   g[(j,i)]      = 1/N sum_n w_n phi_nj (P_n y_n)_i,
 * solved by Cholesky through common/la.h. */
static void ls_optimum(double *theta, const gpsc_mlp_t *net, const gpsc_sstep_data_t *d, double wd)
{
    int dO = d->dO, dU = d->dU, D = dO + 1, n_th = D * dU;
    double *H = calloc((size_t)n_th * n_th, sizeof(double));
    double *phi = malloc((size_t)D * sizeof(double));
    assert_true(H && phi);
    gpsc_la_zero(theta, (size_t)n_th);
    for (int n = 0; n < d->N; n++) {
        const double *o = d->obs + (size_t)n * dO, *P = d->tgt_prc + (size_t)n * dU * dU;
        const double *y = d->tgt_mu + (size_t)n * dU;
        for (int j = 0; j < dO; j++)
            phi[j] = (o[j] - net->obs_mean[j]) * net->obs_scale[j];
        phi[dO] = 1.0;
        double w = d->tgt_wt[n] / d->N;
        for (int j = 0; j < D; j++)
            for (int k = 0; k < D; k++) {
                double c = w * phi[j] * phi[k];
                for (int i = 0; i < dU; i++)
                    for (int l = 0; l < dU; l++)
                        H[(size_t)(j * dU + i) * n_th + k * dU + l] +=
                            c * 0.5 * (P[i * dU + l] + P[l * dU + i]);
            }
        for (int j = 0; j < D; j++)
            for (int i = 0; i < dU; i++) {
                double py = 0.0;
                for (int l = 0; l < dU; l++)
                    py += 0.5 * (P[i * dU + l] + P[l * dU + i]) * y[l];
                theta[j * dU + i] += w * phi[j] * py;
            }
    }
    gpsc_la_add_diag(H, wd, n_th);
    gpsc_la_sym(H, n_th);
    assert_int_equal(gpsc_la_chol(H, H, n_th), 0);
    gpsc_la_chol_solve(theta, H, theta, n_th, 1);
    free(H);
    free(phi);
}

/* J of sstep.h over all rows for the current parameters */
static double full_objective(const gpsc_mlp_t *net, const gpsc_sstep_data_t *d, double wd,
                             gpsc_arena_t *a)
{
    double loss;
    assert_int_equal(gpsc_sstep_loss(&loss, net, d, a), 0);
    size_t off = (size_t)(net->W[0] - net->params), end = (size_t)(net->var - net->params);
    double sq = 0.0;
    for (size_t i = off; i < end; i++)
        sq += net->params[i] * net->params[i];
    return loss + 0.5 * wd * sq;
}

/* a random training set: N rows, obs ~ N(1, 2^2) per entry, targets a
 * smooth nonlinear function of obs plus noise, SPD precisions cycling over
 * T distinct ones (as the steps of a trajectory), weights in [0.5, 1.5) */
typedef struct synth {
    gpsc_sstep_data_t d;
    double *obs, *mu, *prc, *wt;
} synth_t;

static void synth_make(synth_t *s, int N, int T, int dO, int dU, uint64_t seed)
{
    gpsc_rng_t g;
    gpsc_rng_init5(&g, seed, 0, 0, 0, GPSC_RNG_TEST);
    s->obs = malloc((size_t)N * dO * sizeof(double));
    s->mu = malloc((size_t)N * dU * sizeof(double));
    s->prc = malloc((size_t)N * dU * dU * sizeof(double));
    s->wt = malloc((size_t)N * sizeof(double));
    double *A = malloc((size_t)dU * dO * sizeof(double));
    double *Pt = malloc((size_t)T * dU * dU * sizeof(double));
    assert_true(s->obs && s->mu && s->prc && s->wt && A && Pt);
    for (int i = 0; i < dU * dO; i++)
        A[i] = gpsc_rng_normal(&g) / sqrt((double)dO);
    for (int t = 0; t < T; t++)
        rand_spd(Pt + (size_t)t * dU * dU, dU, &g);
    for (int n = 0; n < N; n++) {
        double *o = s->obs + (size_t)n * dO;
        for (int j = 0; j < dO; j++)
            o[j] = 1.0 + 2.0 * gpsc_rng_normal(&g);
        for (int i = 0; i < dU; i++) {
            double z = 0.0;
            for (int j = 0; j < dO; j++)
                z += A[i * dO + j] * o[j];
            s->mu[(size_t)n * dU + i] = 2.0 * tanh(0.5 * z) + 0.1 * gpsc_rng_normal(&g);
        }
        memcpy(s->prc + (size_t)n * dU * dU, Pt + (size_t)(n % T) * dU * dU,
               (size_t)dU * dU * sizeof(double));
        s->wt[n] = 0.5 + gpsc_rng_uniform(&g);
    }
    free(A);
    free(Pt);
    gpsc_sstep_data_t d = {N, dO, dU, s->obs, s->mu, s->prc, s->wt};
    s->d = d;
}

static void synth_free(synth_t *s)
{
    free(s->obs);
    free(s->mu);
    free(s->prc);
    free(s->wt);
}

/* A linear network trained by Adam reaches the closed-form optimum of the
 * precision-weighted (ridge when wd > 0) least-squares problem: objective
 * within 1e-6 relative, parameters within 1e-3 relative. */
static void linear_optimum(const gpsc_sstep_data_t *d, double wd, int iterations, int batch,
                           double lr, double lr_final, const char *what)
{
    gpsc_mlp_t *net = gpsc_mlp_new(d->dO, d->dU, 0, NULL, GPSC_MLP_RELU);
    assert_non_null(net);
    gpsc_arena_t *a = arena_for(net, d->N, batch);
    gpsc_sstep_cfg_t cfg;
    gpsc_sstep_cfg_default(&cfg);
    cfg.iterations = iterations;
    cfg.batch_size = batch;
    cfg.lr = lr;
    cfg.lr_final = lr_final;
    cfg.weight_decay = wd;
    gpsc_sstep_init_net(net, &cfg, 5);
    assert_int_equal(gpsc_sstep_fit_normalization(net, d->obs, d->N), 0);
    gpsc_sstep_adam_t adam;
    assert_int_equal(gpsc_sstep_adam_init(&adam, net->n_params), 0);
    gpsc_sstep_stats_t st = {0};
    assert_int_equal(gpsc_sstep_train(net, &adam, d, &cfg, 5, 1, a, &st), 0);
    assert_int_equal(st.iterations, iterations);
    assert_int_equal(adam.step, (uint64_t)iterations);
    double J = full_objective(net, d, wd, a);

    gpsc_mlp_t *opt = gpsc_mlp_clone(net);
    assert_non_null(opt);
    int n_th = (d->dO + 1) * d->dU;
    ls_optimum(opt->W[0], opt, d, wd); /* W_0 then b_0: contiguous */
    double Jopt = full_objective(opt, d, wd, a);
    double pe = 0.0, pn = 0.0;
    for (int i = 0; i < n_th; i++) {
        double e = net->W[0][i] - opt->W[0][i];
        pe += e * e;
        pn += opt->W[0][i] * opt->W[0][i];
    }
    print_message(
        "linear %s wd=%g: data loss before %.3e, objective %.12e, optimum %.12e (rel %.1e), "
        "|dtheta|/|theta| %.1e\n",
        what, wd, st.loss_before, J, Jopt, (J - Jopt) / Jopt, sqrt(pe / pn));
    assert_true(J >= Jopt * (1.0 - 1e-12)); /* nothing beats the optimum */
    assert_true((J - Jopt) / Jopt <= 1e-6);
    assert_true(sqrt(pe / pn) <= 1e-3);
    gpsc_sstep_adam_free(&adam);
    gpsc_mlp_destroy(&opt);
    gpsc_arena_destroy(&a);
    gpsc_mlp_destroy(&net);
}

/* On the reference vector (X as observations) the unregularised problem
 * is too ill-conditioned for any first-order method (the arm's state
 * dimensions are nearly collinear over 300 rows; the message prints the
 * condition number), so the vector is solved with the reference's decay
 * 0.005 and with 1e-3; the unregularised optimum is checked on a
 * well-conditioned random problem. */
static void test_linear_optimum(void **state)
{
    (void)state;
    ref_t r;
    ref_load(&r);
    gpsc_arena_t *a = gpsc_arena_new(64u << 20);
    assert_non_null(a);
    gpsc_sstep_data_t d;
    ref_data(&d, &r, a);
    linear_optimum(&d, 0.005, 20000, d.N, 1e-2, 1e-6, "reference");
    linear_optimum(&d, 1e-3, 20000, d.N, 1e-2, 1e-6, "reference");

    /* conditioning of the unregularised normal equations of the vector */
    {
        gpsc_mlp_t *net = gpsc_mlp_new(d.dO, d.dU, 0, NULL, GPSC_MLP_RELU);
        assert_non_null(net);
        assert_int_equal(gpsc_sstep_fit_normalization(net, d.obs, d.N), 0);
        int n_th = (d.dO + 1) * d.dU;
        double *H = calloc((size_t)n_th * n_th, sizeof(double));
        double *w = malloc((size_t)n_th * sizeof(double));
        double *work = malloc(gpsc_la_syev_work(n_th) * sizeof(double));
        assert_true(H && w && work);
        for (int n = 0; n < d.N; n++) {
            double phi[64];
            for (int j = 0; j < d.dO; j++)
                phi[j] = (d.obs[(size_t)n * d.dO + j] - net->obs_mean[j]) * net->obs_scale[j];
            phi[d.dO] = 1.0;
            const double *P = d.tgt_prc + (size_t)n * d.dU * d.dU;
            for (int j = 0; j <= d.dO; j++)
                for (int k = 0; k <= d.dO; k++)
                    for (int i = 0; i < d.dU; i++)
                        for (int l = 0; l < d.dU; l++)
                            H[(size_t)(j * d.dU + i) * n_th + k * d.dU + l] +=
                                d.tgt_wt[n] * phi[j] * phi[k] * P[i * d.dU + l] / d.N;
        }
        gpsc_la_sym(H, n_th);
        assert_int_equal(gpsc_la_syev(w, H, H, n_th, work), 0);
        print_message("reference vector, wd=0: Hessian eigenvalues %.2e .. %.2e (condition %.1e)\n",
                      w[0], w[n_th - 1], w[n_th - 1] / w[0]);
        free(H);
        free(w);
        free(work);
        gpsc_mlp_destroy(&net);
    }

    synth_t s;
    synth_make(&s, 400, 20, 6, 3, 17);
    linear_optimum(&s.d, 0.0, 10000, s.d.N, 1e-2, 1e-6, "random");
    linear_optimum(&s.d, 0.0, 20000, 40, 1e-2, 1e-7, "random minibatch");
    synth_free(&s);
    gpsc_arena_destroy(&a);
    gpsc_vecfile_destroy(&r.vf);
}

/* a fresh peg7-like network (2 x 42) on the data, normalisation fitted */
static gpsc_mlp_t *net_for(const gpsc_sstep_data_t *d, gpsc_mlp_act_t act,
                           const gpsc_sstep_cfg_t *cfg, uint64_t seed)
{
    int hidden[2] = {42, 42};
    gpsc_mlp_t *net = gpsc_mlp_new(d->dO, d->dU, 2, hidden, act);
    assert_non_null(net);
    gpsc_sstep_init_net(net, cfg, seed);
    assert_int_equal(gpsc_sstep_fit_normalization(net, d->obs, d->N), 0);
    return net;
}

/* mean of trace[i0 .. i0+n) */
static double window_mean(const double *trace, int i0, int n)
{
    double s = 0.0;
    for (int i = i0; i < i0 + n; i++)
        s += trace[i];
    return s / n;
}

/* A 2 x 42 ReLU network with the reference's settings (3000 iterations,
 * batch 25, lr 1e-3, decay 0.005) on the vector: the minibatch loss
 * averaged over 100-iteration windows goes down on average (every block of
 * five windows below the previous block), the full-data loss falls by
 * orders of magnitude, and a second S-step continues from the Adam state. */
static void test_relu_loss_decreases(void **state)
{
    (void)state;
    ref_t r;
    ref_load(&r);
    gpsc_arena_t *a = gpsc_arena_new(64u << 20);
    assert_non_null(a);
    gpsc_sstep_data_t d;
    ref_data(&d, &r, a);
    gpsc_sstep_cfg_t cfg;
    gpsc_sstep_cfg_default(&cfg);
    for (int init = 0; init < 2; init++) {
        cfg.init_std = init == 0 ? 0.01 : 0.0;
        gpsc_mlp_t *net = net_for(&d, GPSC_MLP_RELU, &cfg, 1);
        gpsc_sstep_adam_t adam;
        assert_int_equal(gpsc_sstep_adam_init(&adam, net->n_params), 0);
        double trace[64];
        gpsc_sstep_stats_t st = {.trace = trace, .trace_cap = 64};
        assert_int_equal(gpsc_sstep_train(net, &adam, &d, &cfg, 1, 1, a, &st), 0);
        assert_int_equal(st.trace_len, cfg.iterations / cfg.trace_every);
        assert_int_equal(st.epochs,
                         (cfg.iterations + d.N / cfg.batch_size - 1) / (d.N / cfg.batch_size));
        print_message("relu 2x42 init %s: loss %.4e -> %.4e; windows", init ? "He" : "N(0,0.01)",
                      st.loss_before, st.loss_after);
        for (int i = 0; i < st.trace_len; i += 5)
            print_message(" %.3e", window_mean(trace, i, 5));
        print_message("\n");
        for (int i = 5; i + 5 <= st.trace_len; i += 5)
            assert_true(window_mean(trace, i, 5) < window_mean(trace, i - 5, 5));
        assert_true(st.loss_after < 0.01 * st.loss_before);
        assert_true(trace[st.trace_len - 1] < 0.01 * trace[0]);

        /* the next S-step starts from the kept Adam state and does not undo
         * the first */
        double first = st.loss_after;
        assert_int_equal(gpsc_sstep_train(net, &adam, &d, &cfg, 1, 2, a, &st), 0);
        assert_int_equal(adam.step, 2 * (uint64_t)cfg.iterations);
        assert_true(st.loss_before == first);
        assert_true(st.loss_after < 1.5 * first);
        print_message("  second S-step: %.4e -> %.4e\n", st.loss_before, st.loss_after);
        gpsc_sstep_adam_free(&adam);
        gpsc_mlp_destroy(&net);
    }
    gpsc_arena_destroy(&a);
    gpsc_vecfile_destroy(&r.vf);
}

/* same key, same start: bitwise identical parameters, Adam state and
 * stats, whatever OpenBLAS thread count the caller had set (train forces
 * one: with two, OpenBLAS 0.3.21 rounds some of these gemm shapes
 * differently); another iteration number (so another minibatch order) gives
 * other parameters */
static void test_determinism(void **state)
{
    (void)state;
    synth_t s;
    synth_make(&s, 600, 50, 26, 7, 23);
    gpsc_sstep_cfg_t cfg;
    gpsc_sstep_cfg_default(&cfg);
    cfg.iterations = 400;
    cfg.batch_size = 300; /* gemm sizes where OpenBLAS may use threads */
    gpsc_mlp_t *base = net_for(&s.d, GPSC_MLP_TANH, &cfg, 9);
    gpsc_arena_t *a = arena_for(base, s.d.N, cfg.batch_size);
    gpsc_mlp_t *net[4];
    gpsc_sstep_adam_t adam[4];
    double tr[4][8] = {{0}};
    gpsc_sstep_stats_t st[4];
    for (int i = 0; i < 4; i++) {
        net[i] = gpsc_mlp_clone(base);
        assert_non_null(net[i]);
        assert_int_equal(gpsc_sstep_adam_init(&adam[i], base->n_params), 0);
        st[i] = (gpsc_sstep_stats_t){.trace = tr[i], .trace_cap = 8};
        gpsc_la_set_threads(i == 2 ? 2 : 1);
        uint32_t iteration = i == 3 ? 4 : 3;
        /* two S-steps each, so the kept Adam state is exercised too */
        assert_int_equal(gpsc_sstep_train(net[i], &adam[i], &s.d, &cfg, 99, iteration, a, &st[i]),
                         0);
        assert_int_equal(
            gpsc_sstep_train(net[i], &adam[i], &s.d, &cfg, 99, iteration + 1, a, &st[i]), 0);
    }
    size_t bytes = base->n_params * sizeof(double);
    for (int i = 1; i < 3; i++) {
        assert_memory_equal(net[0]->params, net[i]->params, bytes);
        assert_memory_equal(adam[0].m, adam[i].m, bytes);
        assert_memory_equal(adam[0].v, adam[i].v, bytes);
        assert_true(adam[0].step == adam[i].step);
        assert_memory_equal(&st[0].loss_after, &st[i].loss_after, sizeof(double));
        assert_int_equal(st[i].trace_len, 4);
        assert_memory_equal(tr[0], tr[i], sizeof tr[0]);
    }
    assert_memory_not_equal(net[0]->params, net[3]->params, bytes);
    /* the same key from a different seed differs as well */
    gpsc_mlp_t *other = gpsc_mlp_clone(base);
    gpsc_sstep_adam_t oa;
    assert_int_equal(gpsc_sstep_adam_init(&oa, base->n_params), 0);
    assert_int_equal(gpsc_sstep_train(other, &oa, &s.d, &cfg, 100, 3, a, NULL), 0);
    gpsc_mlp_t *ref1 = gpsc_mlp_clone(base);
    gpsc_sstep_adam_t ra;
    assert_int_equal(gpsc_sstep_adam_init(&ra, base->n_params), 0);
    assert_int_equal(gpsc_sstep_train(ref1, &ra, &s.d, &cfg, 99, 3, a, NULL), 0);
    assert_memory_not_equal(other->params, ref1->params, bytes);
    gpsc_sstep_adam_free(&oa);
    gpsc_sstep_adam_free(&ra);
    gpsc_mlp_destroy(&other);
    gpsc_mlp_destroy(&ref1);
    for (int i = 0; i < 4; i++) {
        gpsc_sstep_adam_free(&adam[i]);
        gpsc_mlp_destroy(&net[i]);
    }
    assert_int_equal(gpsc_arena_used(a), 0);
    gpsc_arena_destroy(&a);
    gpsc_mlp_destroy(&base);
    synth_free(&s);
}

/* divergence and a short arena leave network and Adam state untouched */
static void test_atomic_failure(void **state)
{
    (void)state;
    synth_t s;
    synth_make(&s, 200, 20, 5, 2, 31);
    gpsc_sstep_cfg_t cfg;
    gpsc_sstep_cfg_default(&cfg);
    cfg.iterations = 50;
    gpsc_mlp_t *net = net_for(&s.d, GPSC_MLP_RELU, &cfg, 2);
    gpsc_arena_t *a = arena_for(net, s.d.N, cfg.batch_size);
    gpsc_sstep_adam_t adam;
    assert_int_equal(gpsc_sstep_adam_init(&adam, net->n_params), 0);
    assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &cfg, 1, 1, a, NULL), 0);
    gpsc_mlp_t *keep = gpsc_mlp_clone(net);
    size_t bytes = net->n_params * sizeof(double);
    double *m0 = malloc(bytes), *v0 = malloc(bytes);
    assert_true(keep && m0 && v0);
    memcpy(m0, adam.m, bytes);
    memcpy(v0, adam.v, bytes);

    cfg.lr = 1e300;
    assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &cfg, 1, 2, a, NULL), GPSC_ENONFINITE);
    assert_memory_equal(net->params, keep->params, bytes);
    assert_memory_equal(adam.m, m0, bytes);
    assert_memory_equal(adam.v, v0, bytes);
    assert_int_equal(adam.step, 50);
    assert_int_equal(gpsc_arena_used(a), 0);

    cfg.lr = 1e-3;
    gpsc_arena_t *small = gpsc_arena_new(gpsc_sstep_scratch_size(net, s.d.N, cfg.batch_size) / 2);
    assert_non_null(small);
    assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &cfg, 1, 2, small, NULL), GPSC_ENOSPC);
    assert_memory_equal(net->params, keep->params, bytes);
    assert_int_equal(adam.step, 50);
    assert_int_equal(gpsc_arena_used(small), 0);
    /* and the documented size is enough, exactly */
    gpsc_arena_t *exact = gpsc_arena_new(gpsc_sstep_scratch_size(net, s.d.N, cfg.batch_size));
    assert_non_null(exact);
    assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &cfg, 1, 2, exact, NULL), 0);
    assert_int_equal(gpsc_arena_failures(exact), 0);
    gpsc_arena_destroy(&exact);
    gpsc_arena_destroy(&small);
    free(m0);
    free(v0);
    gpsc_mlp_destroy(&keep);
    gpsc_sstep_adam_free(&adam);
    gpsc_arena_destroy(&a);
    gpsc_mlp_destroy(&net);
    synth_free(&s);
}

/* bad configurations, shapes and data are refused before anything moves */
static void test_refuses(void **state)
{
    (void)state;
    synth_t s;
    synth_make(&s, 60, 10, 4, 2, 41);
    gpsc_sstep_cfg_t cfg, bad;
    gpsc_sstep_cfg_default(&cfg);
    cfg.iterations = 5;
    assert_int_equal(gpsc_sstep_cfg_check(&cfg), 0);
    gpsc_mlp_t *net = net_for(&s.d, GPSC_MLP_RELU, &cfg, 2);
    gpsc_arena_t *a = arena_for(net, s.d.N, cfg.batch_size);
    gpsc_sstep_adam_t adam;
    assert_int_equal(gpsc_sstep_adam_init(&adam, net->n_params), 0);
    gpsc_mlp_t *keep = gpsc_mlp_clone(net);
    size_t bytes = net->n_params * sizeof(double);

    /* configuration */
    for (int f = 0; f < 12; f++) {
        bad = cfg;
        switch (f) {
        case 0:
            bad.iterations = -1;
            break;
        case 1:
            bad.batch_size = 0;
            break;
        case 2:
            bad.lr = 0.0;
            break;
        case 3:
            bad.lr = NAN;
            break;
        case 4:
            bad.beta1 = 1.0;
            break;
        case 5:
            bad.beta2 = -0.1;
            break;
        case 6:
            bad.eps = 0.0;
            break;
        case 7:
            bad.weight_decay = -1.0;
            break;
        case 8:
            bad.ent_reg = INFINITY;
            break;
        case 9:
            bad.init_var = 0.0;
            break;
        case 10:
            bad.trace_every = 0;
            break;
        default:
            bad.lr_final = NAN;
            break;
        }
        assert_int_equal(gpsc_sstep_cfg_check(&bad), GPSC_EINVAL);
        assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &bad, 1, 1, a, NULL), GPSC_EINVAL);
    }
    /* Adam state of another size */
    gpsc_sstep_adam_t small_adam;
    assert_int_equal(gpsc_sstep_adam_init(&small_adam, net->n_params - 1), 0);
    assert_int_equal(gpsc_sstep_train(net, &small_adam, &s.d, &cfg, 1, 1, a, NULL), GPSC_EINVAL);
    gpsc_sstep_adam_free(&small_adam);
    assert_null(small_adam.m);
    gpsc_sstep_adam_free(&small_adam); /* twice is fine */
    assert_int_equal(gpsc_sstep_adam_init(&small_adam, 0), GPSC_EINVAL);

    /* shapes */
    gpsc_sstep_data_t d = s.d;
    d.dO = 5;
    assert_int_equal(gpsc_sstep_train(net, &adam, &d, &cfg, 1, 1, a, NULL), GPSC_EDIM);
    d = s.d;
    d.N = 0;
    assert_int_equal(gpsc_sstep_train(net, &adam, &d, &cfg, 1, 1, a, NULL), GPSC_ENODATA);
    double loss;
    assert_int_equal(gpsc_sstep_loss(&loss, net, &d, a), GPSC_ENODATA);
    int rows[2] = {0, 60};
    assert_int_equal(gpsc_sstep_loss_grad(NULL, &loss, net, &s.d, rows, 2, 0.0, a), GPSC_EINVAL);

    /* data */
    s.obs[17] = NAN;
    assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &cfg, 1, 1, a, NULL), GPSC_ENONFINITE);
    s.obs[17] = 0.0;
    s.prc[5] = INFINITY;
    assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &cfg, 1, 1, a, NULL), GPSC_ENONFINITE);
    s.prc[5] = 1.0;
    double w3 = s.wt[3];
    s.wt[3] = -1.0;
    assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &cfg, 1, 1, a, NULL), GPSC_EINVAL);
    s.wt[3] = w3;
    double *wsave = malloc((size_t)s.d.N * sizeof(double));
    assert_non_null(wsave);
    memcpy(wsave, s.wt, (size_t)s.d.N * sizeof(double));
    memset(s.wt, 0, (size_t)s.d.N * sizeof(double));
    assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &cfg, 1, 1, a, NULL), GPSC_EINVAL);
    memcpy(s.wt, wsave, (size_t)s.d.N * sizeof(double));
    free(wsave);

    assert_memory_equal(net->params, keep->params, bytes);
    assert_int_equal(adam.step, 0);
    assert_int_equal(gpsc_arena_used(a), 0);
    assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &cfg, 1, 1, a, NULL), 0);
    assert_int_equal(adam.step, 5);

    /* build: bad sizes and missing arrays */
    gpsc_sstep_cond_t c = {.N = 1};
    gpsc_sstep_data_t out;
    assert_int_equal(gpsc_sstep_build(&out, &c, 1, 10, 4, 4, 2, a), GPSC_EINVAL);
    c.N = -1;
    assert_int_equal(gpsc_sstep_build(&out, &c, 1, 10, 4, 4, 2, a), GPSC_EINVAL);
    assert_int_equal(gpsc_sstep_build(&out, &c, 0, 10, 4, 4, 2, a), GPSC_EINVAL);

    gpsc_mlp_destroy(&keep);
    gpsc_sstep_adam_free(&adam);
    gpsc_arena_destroy(&a);
    gpsc_mlp_destroy(&net);
    synth_free(&s);
}

/* mean and 1/std per dimension (population std), floor 1e-3 */
static void test_fit_normalization(void **state)
{
    (void)state;
    gpsc_mlp_t *net = gpsc_mlp_new(3, 1, 0, NULL, GPSC_MLP_RELU);
    assert_non_null(net);
    const double obs[4 * 3] = {1, 5, 2, 3, 5, 2, 5, 5, 2 + 1e-5, 7, 5, 2};
    assert_int_equal(gpsc_sstep_fit_normalization(net, obs, 4), 0);
    /* column 0: mean 4, population std sqrt(5) */
    assert_true(fabs(net->obs_mean[0] - 4.0) < 1e-15);
    assert_true(fabs(net->obs_scale[0] - 1.0 / sqrt(5.0)) < 1e-15);
    /* constant and nearly constant columns hit the floor */
    assert_true(net->obs_mean[1] == 5.0);
    assert_true(net->obs_scale[1] == 1e3);
    assert_true(net->obs_scale[2] == 1e3);
    double bad[3] = {1, NAN, 2};
    gpsc_mlp_t *keep = gpsc_mlp_clone(net);
    assert_int_equal(gpsc_sstep_fit_normalization(net, bad, 1), GPSC_ENONFINITE);
    assert_memory_equal(net->params, keep->params, net->n_params * sizeof(double));
    assert_int_equal(gpsc_sstep_fit_normalization(net, obs, 0), GPSC_ENODATA);
    gpsc_mlp_destroy(&keep);
    gpsc_mlp_destroy(&net);
}

/* keyed, reproducible initialisation with the documented scales */
static void test_init_net(void **state)
{
    (void)state;
    int hidden[2] = {42, 42};
    gpsc_mlp_t *a = gpsc_mlp_new(26, 7, 2, hidden, GPSC_MLP_RELU);
    gpsc_mlp_t *b = gpsc_mlp_new(26, 7, 2, hidden, GPSC_MLP_RELU);
    gpsc_mlp_t *t = gpsc_mlp_new(26, 7, 2, hidden, GPSC_MLP_TANH);
    assert_true(a && b && t);
    gpsc_sstep_cfg_t cfg;
    gpsc_sstep_cfg_default(&cfg);
    size_t bytes = a->n_params * sizeof(double);
    gpsc_sstep_init_net(a, &cfg, 5);
    gpsc_sstep_init_net(b, &cfg, 5);
    assert_memory_equal(a->params, b->params, bytes);
    gpsc_sstep_init_net(b, &cfg, 6);
    assert_memory_not_equal(a->params, b->params, bytes);
    /* Gaussian std 0.01: sample std of W_1 (1764 entries) within 10% */
    double ss = 0.0;
    for (int i = 0; i < 42 * 42; i++)
        ss += a->W[1][i] * a->W[1][i];
    assert_true(fabs(sqrt(ss / (42 * 42)) - 0.01) < 1e-3);
    for (int l = 0; l < 3; l++)
        for (int i = 0; i < a->width[l + 1]; i++)
            assert_true(a->b[l][i] == 0.0);
    for (int i = 0; i < 7; i++)
        assert_true(a->var[i] == cfg.init_var);
    /* He uniform for layers before a ReLU, Glorot for tanh and the output */
    cfg.init_std = 0.0;
    gpsc_sstep_init_net(a, &cfg, 5);
    gpsc_sstep_init_net(t, &cfg, 5);
    double lim[2][3] = {{sqrt(6.0 / 26), sqrt(6.0 / 42), sqrt(6.0 / 49)},
                        {sqrt(6.0 / 68), sqrt(6.0 / 84), sqrt(6.0 / 49)}};
    for (int k = 0; k < 2; k++) {
        gpsc_mlp_t *n = k ? t : a;
        for (int l = 0; l < 3; l++) {
            double mx = 0.0;
            for (int i = 0; i < n->width[l] * n->width[l + 1]; i++)
                mx = fmax(mx, fabs(n->W[l][i]));
            assert_true(mx <= lim[k][l]);
            assert_true(mx > 0.9 * lim[k][l]);
        }
    }
    gpsc_mlp_destroy(&a);
    gpsc_mlp_destroy(&b);
    gpsc_mlp_destroy(&t);
}

/* the trace: one mean per window of trace_every iterations, a last
 * partial window included, capped by the caller's buffer */
static void test_trace(void **state)
{
    (void)state;
    synth_t s;
    synth_make(&s, 100, 10, 3, 2, 51);
    gpsc_sstep_cfg_t cfg;
    gpsc_sstep_cfg_default(&cfg);
    cfg.iterations = 250;
    cfg.batch_size = 30; /* 3 batches per epoch, 10 rows sit out each */
    gpsc_mlp_t *net = net_for(&s.d, GPSC_MLP_RELU, &cfg, 2);
    gpsc_mlp_t *n2 = gpsc_mlp_clone(net);
    gpsc_arena_t *a = arena_for(net, s.d.N, cfg.batch_size);
    gpsc_sstep_adam_t adam, adam2;
    assert_int_equal(gpsc_sstep_adam_init(&adam, net->n_params), 0);
    assert_int_equal(gpsc_sstep_adam_init(&adam2, net->n_params), 0);
    double tr[4] = {-1, -1, -1, -1};
    gpsc_sstep_stats_t st = {.trace = tr, .trace_cap = 4};
    assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &cfg, 3, 1, a, &st), 0);
    assert_int_equal(st.trace_len, 3);
    assert_int_equal(st.epochs, 84);
    assert_true(tr[0] > 0.0 && tr[1] > 0.0 && tr[2] > 0.0 && tr[3] == -1.0);
    double tr2[2];
    gpsc_sstep_stats_t st2 = {.trace = tr2, .trace_cap = 2};
    assert_int_equal(gpsc_sstep_train(n2, &adam2, &s.d, &cfg, 3, 1, a, &st2), 0);
    assert_int_equal(st2.trace_len, 2);
    assert_memory_equal(tr, tr2, sizeof tr2);
    /* zero iterations: only the variance is set */
    cfg.iterations = 0;
    gpsc_mlp_t *keep = gpsc_mlp_clone(net);
    st.trace_len = 9;
    assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &cfg, 3, 2, a, &st), 0);
    assert_int_equal(st.trace_len, 0);
    assert_true(st.loss_before == st.loss_after);
    assert_memory_equal(net->params, keep->params,
                        (size_t)(net->var - net->params) * sizeof(double));
    gpsc_mlp_destroy(&keep);
    gpsc_sstep_adam_free(&adam);
    gpsc_sstep_adam_free(&adam2);
    gpsc_arena_destroy(&a);
    gpsc_mlp_destroy(&net);
    gpsc_mlp_destroy(&n2);
    synth_free(&s);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* peg7 size: dO 26, dU 7, 2 x 42 ReLU, 4 conditions x 5 samples x 100
 * steps = 2000 rows, batch 25, the default 3000 iterations. Reports the
 * time (no bound asserted: sanitizer builds are slower). */
static void test_peg7_time(void **state)
{
    (void)state;
    synth_t s;
    synth_make(&s, 2000, 100, 26, 7, 61);
    gpsc_sstep_cfg_t cfg;
    gpsc_sstep_cfg_default(&cfg);
    gpsc_mlp_t *net = net_for(&s.d, GPSC_MLP_RELU, &cfg, 4);
    gpsc_arena_t *a = arena_for(net, s.d.N, cfg.batch_size);
    gpsc_sstep_adam_t adam;
    assert_int_equal(gpsc_sstep_adam_init(&adam, net->n_params), 0);
    gpsc_sstep_stats_t st = {0};
    double t0 = now_s();
    assert_int_equal(gpsc_sstep_train(net, &adam, &s.d, &cfg, 4, 1, a, &st), 0);
    double dt = now_s() - t0;
    print_message("peg7 S-step: %d params, N %d, %d iterations of batch %d: %.1f ms "
                  "(%.1f us/iteration); loss %.4e -> %.4e; arena %zu KB\n",
                  (int)net->n_params, s.d.N, cfg.iterations, cfg.batch_size, 1e3 * dt,
                  1e6 * dt / cfg.iterations, st.loss_before, st.loss_after,
                  gpsc_arena_peak(a) / 1024);
    assert_true(st.loss_after < st.loss_before);
    gpsc_sstep_adam_free(&adam);
    gpsc_arena_destroy(&a);
    gpsc_mlp_destroy(&net);
    synth_free(&s);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_build_matches_reference),
    cmocka_unit_test(test_pol_var_reference),
    cmocka_unit_test(test_gradcheck_relu),
    cmocka_unit_test(test_gradcheck_tanh),
    cmocka_unit_test(test_linear_optimum),
    cmocka_unit_test(test_relu_loss_decreases),
    cmocka_unit_test(test_determinism),
    cmocka_unit_test(test_atomic_failure),
    cmocka_unit_test(test_refuses),
    cmocka_unit_test(test_fit_normalization),
    cmocka_unit_test(test_init_net),
    cmocka_unit_test(test_trace),
    cmocka_unit_test(test_peg7_time),
};

int main(void)
{
    gpsc_la_set_threads(1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
