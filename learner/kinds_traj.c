/* kinds_traj.c — gpsc-numerics glue for the trajectory kernels: reads a
 * reference file's inputs, validates shapes and finiteness, runs the kernel
 * and stores the outputs under the reference's names (kinds.h;
 * ../shared/reference/README.md 5.9-5.14, 5.17). Sizes come from the array
 * shapes only. This glue allocates (arenas, temporaries); the kernels do
 * not. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/error.h"
#include "common/la.h"
#include "common/vecfile.h"
#include "learner/cstep.h"
#include "learner/init.h"
#include "learner/kinds.h"
#include "learner/lqr.h"
#include "learner/stepsize.h"
#include "learner/traj.h"

/* "any size" in an expected shape */
#define ANY (-1)

static int fail(int rc, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int rc, char *err, size_t errsz, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* float array `name` of rank ndim whose shape matches `shape` (ANY entries
 * match anything), all finite; *v points into the set */
static int get_array(const gpsc_vecset_t *in, const char *name, int ndim, const int *shape,
                     const gpsc_value_t **v, char *err, size_t errsz)
{
    int rc = gpsc_vecset_array(in, name, ndim, v, err, errsz);
    if (rc) return rc;
    for (int i = 0; i < ndim; i++) {
        if ((*v)->shape[i] < 1)
            return fail(GPSC_EDIM, err, errsz, "\"%s\": empty dimension %d", name, i);
        if (shape[i] != ANY && (*v)->shape[i] != shape[i])
            return fail(GPSC_EDIM, err, errsz, "\"%s\": dimension %d is %d, expected %d", name, i,
                        (*v)->shape[i], shape[i]);
    }
    if (!gpsc_la_all_finite((*v)->data, (*v)->n))
        return fail(GPSC_ENONFINITE, err, errsz, "\"%s\" holds NaN or Inf", name);
    return 0;
}

/* shorthand for get_array with up to three sizes */
static int arr(const gpsc_vecset_t *in, const char *name, const gpsc_value_t **v, char *err,
               size_t errsz, int ndim, ...)
{
    int shape[3] = {ANY, ANY, ANY};
    va_list ap;
    va_start(ap, ndim);
    for (int i = 0; i < ndim && i < 3; i++)
        shape[i] = va_arg(ap, int);
    va_end(ap);
    return get_array(in, name, ndim, shape, v, err, errsz);
}

static int scalar(const gpsc_vecset_t *in, const char *name, double *x, char *err, size_t errsz)
{
    int rc = gpsc_vecset_scalar(in, name, x, err, errsz);
    if (rc) return rc;
    if (!isfinite(*x)) return fail(GPSC_ENONFINITE, err, errsz, "\"%s\" is NaN or Inf", name);
    return 0;
}

/* a new zero-filled output array of up to three sizes */
static int put(gpsc_vecset_t *out, const char *name, double **data, int ndim, int d0, int d1,
               int d2)
{
    int shape[3] = {d0, d1, d2};
    return gpsc_vecset_new_array(out, name, ndim, shape, data);
}

/* arena sized for `bytes` of kernel scratch; NULL on OOM */
static gpsc_arena_t *arena_for(size_t bytes)
{
    return gpsc_arena_new(bytes + 4096);
}

/* the four-array controller outputs (K, k, pol_covar, inv_pol_covar) and,
 * when with_chol, chol_pol_covar */
static int put_lg(gpsc_vecset_t *out, gpsc_traj_lg_t *lg, double **chol_tmp, gpsc_traj_dims_t d,
                  bool with_chol)
{
    int rc = put(out, "K", &lg->K, 3, d.T, d.dU, d.dX);
    if (!rc) rc = put(out, "k", &lg->k, 2, d.T, d.dU, 0);
    if (!rc) rc = put(out, "pol_covar", &lg->pol_covar, 3, d.T, d.dU, d.dU);
    if (!rc) rc = put(out, "inv_pol_covar", &lg->inv_pol_covar, 3, d.T, d.dU, d.dU);
    if (rc) return rc;
    if (with_chol) return put(out, "chol_pol_covar", &lg->chol_pol_covar, 3, d.T, d.dU, d.dU);
    *chol_tmp = malloc(sizeof(double) * (size_t)d.T * (size_t)d.dU * (size_t)d.dU);
    lg->chol_pol_covar = *chol_tmp;
    return *chol_tmp ? 0 : GPSC_ENOMEM;
}

/* T, dX, dU from Fm (T x dX x dXU) */
static int dims_from_Fm(gpsc_traj_dims_t *d, const gpsc_vecset_t *in, const gpsc_value_t **Fm,
                        char *err, size_t errsz)
{
    int rc = arr(in, "Fm", Fm, err, errsz, 3, ANY, ANY, ANY);
    if (rc) return rc;
    d->T = (*Fm)->shape[0];
    d->dX = (*Fm)->shape[1];
    d->dU = (*Fm)->shape[2] - d->dX;
    if (d->dU < 1 || !gpsc_traj_dims_ok(*d))
        return fail(GPSC_EDIM, err, errsz, "Fm: shape (%d, %d, %d) is not (T, dX, dX+dU)",
                    (*Fm)->shape[0], (*Fm)->shape[1], (*Fm)->shape[2]);
    return 0;
}

/* the kernel's error with context */
static int kernel_fail(int rc, char *err, size_t errsz, const char *what)
{
    return fail(rc, err, errsz, "%s failed: %s", what, gpsc_strerror(rc));
}

/* -- lqr_backward (5.9) ----------------------------------------------------- */

static int kind_lqr_backward(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    gpsc_traj_dims_t d = {0, 0, 0};
    const gpsc_value_t *Fm, *fv, *Cm, *cv, *pK, *pk, *pS;
    double eta, del0;
    int rc = dims_from_Fm(&d, in, &Fm, err, errsz);
    int dXU = d.dX + d.dU;
    if (!rc) rc = arr(in, "fv", &fv, err, errsz, 2, d.T, d.dX);
    if (!rc) rc = arr(in, "Cm", &Cm, err, errsz, 3, d.T, dXU, dXU);
    if (!rc) rc = arr(in, "cv", &cv, err, errsz, 2, d.T, dXU);
    if (!rc) rc = arr(in, "pol_K", &pK, err, errsz, 3, d.T, d.dU, d.dX);
    if (!rc) rc = arr(in, "pol_k", &pk, err, errsz, 2, d.T, d.dU);
    if (!rc) rc = arr(in, "pol_S", &pS, err, errsz, 3, d.T, d.dU, d.dU);
    if (!rc) rc = scalar(in, "eta", &eta, err, errsz);
    if (!rc) rc = scalar(in, "del0", &del0, err, errsz);
    if (rc) return rc;

    size_t bytes = gpsc_traj_quad_build_scratch_size(d) + gpsc_lqr_backward_scratch_size(d);
    gpsc_arena_t *a = arena_for(bytes);
    double *qmem = malloc(sizeof(double) * gpsc_traj_quad_doubles(d));
    if (!a || !qmem) {
        gpsc_arena_destroy(&a);
        free(qmem);
        return fail(GPSC_ENOMEM, err, errsz, "out of memory");
    }
    gpsc_traj_quad_t pref;
    gpsc_traj_quad_layout(&pref, qmem, d);
    gpsc_traj_lg_t pol = {.K = pK->data, .k = pk->data, .pol_covar = pS->data};
    rc = gpsc_traj_quad_build(&pref, &pol, d, a);
    if (rc) {
        rc = kernel_fail(rc, err, errsz, "pol_S factorisation");
        goto done;
    }
    gpsc_traj_lg_t lg;
    double *unused = NULL;
    rc = put_lg(out, &lg, &unused, d, true);
    if (rc) goto done;
    gpsc_lqr_problem_t p = {
        .Fm = Fm->data, .fv = fv->data, .Cm = Cm->data, .cv = cv->data, .pref = &pref};
    double eta_used;
    int n_bumps;
    rc = gpsc_lqr_backward(&lg, &eta_used, &n_bumps, &p, eta, del0, d, a);
    if (rc) {
        rc = fail(rc, err, errsz, "backward pass failed: %s (eta %g after %d bumps)",
                  gpsc_strerror(rc), eta_used, n_bumps);
        goto done;
    }
    rc = gpsc_vecset_put_scalar(out, "eta_used", eta_used);
    if (!rc) rc = gpsc_vecset_put_int(out, "n_bumps", n_bumps);
done:
    free(qmem);
    gpsc_arena_destroy(&a);
    return rc;
}

/* -- traj_forward (5.10) ---------------------------------------------------- */

/* dynamics arrays after Fm, for T, dX from d */
static int get_dyn(gpsc_traj_dyn_t *dyn, const gpsc_vecset_t *in, const gpsc_value_t *Fm,
                   gpsc_traj_dims_t d, char *err, size_t errsz)
{
    const gpsc_value_t *fv, *dc, *m0, *s0;
    int rc = arr(in, "fv", &fv, err, errsz, 2, d.T, d.dX);
    if (!rc) rc = arr(in, "dyn_covar", &dc, err, errsz, 3, d.T, d.dX, d.dX);
    if (!rc) rc = arr(in, "x0mu", &m0, err, errsz, 1, d.dX);
    if (!rc) rc = arr(in, "x0sigma", &s0, err, errsz, 2, d.dX, d.dX);
    if (rc) return rc;
    dyn->Fm = Fm->data;
    dyn->fv = fv->data;
    dyn->dyn_covar = dc->data;
    dyn->x0mu = m0->data;
    dyn->x0sigma = s0->data;
    return 0;
}

/* controller arrays "<prefix>K", "<prefix>k", "<prefix>pol_covar" */
static int get_lg(gpsc_traj_lg_t *lg, const gpsc_vecset_t *in, const char *prefix,
                  gpsc_traj_dims_t d, char *err, size_t errsz)
{
    char nK[64], nk[64], nS[64];
    snprintf(nK, sizeof nK, "%sK", prefix);
    snprintf(nk, sizeof nk, "%sk", prefix);
    snprintf(nS, sizeof nS, "%spol_covar", prefix);
    const gpsc_value_t *K, *k, *S;
    int rc = arr(in, nK, &K, err, errsz, 3, d.T, d.dU, d.dX);
    if (!rc) rc = arr(in, nk, &k, err, errsz, 2, d.T, d.dU);
    if (!rc) rc = arr(in, nS, &S, err, errsz, 3, d.T, d.dU, d.dU);
    if (rc) return rc;
    memset(lg, 0, sizeof *lg);
    lg->K = K->data;
    lg->k = k->data;
    lg->pol_covar = S->data;
    return 0;
}

static int kind_traj_forward(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    gpsc_traj_dims_t d = {0, 0, 0};
    const gpsc_value_t *Fm;
    gpsc_traj_dyn_t dyn;
    gpsc_traj_lg_t lg;
    int rc = dims_from_Fm(&d, in, &Fm, err, errsz);
    if (!rc) rc = get_dyn(&dyn, in, Fm, d, err, errsz);
    if (!rc) rc = get_lg(&lg, in, "", d, err, errsz);
    if (rc) return rc;
    int dXU = d.dX + d.dU;
    double *mu, *sigma;
    rc = put(out, "mu", &mu, 2, d.T, dXU, 0);
    if (!rc) rc = put(out, "sigma", &sigma, 3, d.T, dXU, dXU);
    if (rc) return rc;
    gpsc_arena_t *a = arena_for(gpsc_traj_forward_scratch_size(d));
    if (!a) return fail(GPSC_ENOMEM, err, errsz, "out of memory");
    rc = gpsc_traj_forward(mu, sigma, &dyn, &lg, d, a);
    gpsc_arena_destroy(&a);
    return rc ? kernel_fail(rc, err, errsz, "forward pass") : 0;
}

/* -- traj_kl (5.11) --------------------------------------------------------- */

static int kind_traj_kl(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    const gpsc_value_t *mu, *sigma, *K;
    int rc = arr(in, "K", &K, err, errsz, 3, ANY, ANY, ANY);
    if (rc) return rc;
    gpsc_traj_dims_t d = {K->shape[0], K->shape[2], K->shape[1]};
    int dXU = d.dX + d.dU;
    if (!gpsc_traj_dims_ok(d)) return fail(GPSC_EDIM, err, errsz, "K: bad shape");
    gpsc_traj_lg_t cn, cp;
    rc = arr(in, "mu", &mu, err, errsz, 2, d.T, dXU);
    if (!rc) rc = arr(in, "sigma", &sigma, err, errsz, 3, d.T, dXU, dXU);
    if (!rc) rc = get_lg(&cn, in, "", d, err, errsz);
    if (!rc) rc = get_lg(&cp, in, "prev_", d, err, errsz);
    if (rc) return rc;

    size_t bytes = gpsc_traj_quad_build_scratch_size(d) + gpsc_traj_kl_scratch_size(d);
    gpsc_arena_t *a = arena_for(bytes);
    double *qmem = malloc(sizeof(double) * gpsc_traj_quad_doubles(d));
    double *kl_t = NULL;
    if (!a || !qmem) {
        rc = fail(GPSC_ENOMEM, err, errsz, "out of memory");
        goto done;
    }
    gpsc_traj_quad_t qp;
    gpsc_traj_quad_layout(&qp, qmem, d);
    rc = gpsc_traj_quad_build(&qp, &cp, d, a);
    if (rc) {
        rc = kernel_fail(rc, err, errsz, "previous controller");
        goto done;
    }
    rc = put(out, "kl_t", &kl_t, 1, d.T, 0, 0);
    if (rc) goto done;
    double kl;
    rc = gpsc_traj_kl(kl_t, &kl, mu->data, sigma->data, &cn, &qp, d, a);
    if (rc) {
        rc = kernel_fail(rc, err, errsz, "KL");
        goto done;
    }
    rc = gpsc_vecset_put_scalar(out, "kl", kl);
done:
    free(qmem);
    gpsc_arena_destroy(&a);
    return rc;
}

/* -- cstep (5.12) ----------------------------------------------------------- */

static int kind_cstep(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    gpsc_traj_dims_t d = {0, 0, 0};
    const gpsc_value_t *Fm, *Cm, *cv, *pK, *pk, *pS;
    gpsc_cstep_problem_t p;
    memset(&p, 0, sizeof p);
    gpsc_cstep_cfg_t cfg;
    long long max_it = 0;
    int rc = dims_from_Fm(&d, in, &Fm, err, errsz);
    int dXU = d.dX + d.dU;
    if (!rc) rc = get_dyn(&p.dyn, in, Fm, d, err, errsz);
    if (!rc) rc = arr(in, "Cm", &Cm, err, errsz, 3, d.T, dXU, dXU);
    if (!rc) rc = arr(in, "cv", &cv, err, errsz, 2, d.T, dXU);
    if (!rc) rc = arr(in, "pol_K", &pK, err, errsz, 3, d.T, d.dU, d.dX);
    if (!rc) rc = arr(in, "pol_k", &pk, err, errsz, 2, d.T, d.dU);
    if (!rc) rc = arr(in, "pol_S", &pS, err, errsz, 3, d.T, d.dU, d.dU);
    if (!rc) rc = scalar(in, "base_kl_step", &cfg.base_kl_step, err, errsz);
    if (!rc) rc = scalar(in, "step_mult", &cfg.step_mult, err, errsz);
    if (!rc) rc = scalar(in, "eta_init", &cfg.eta_init, err, errsz);
    if (!rc) rc = scalar(in, "min_eta", &cfg.min_eta, err, errsz);
    if (!rc) rc = scalar(in, "max_eta", &cfg.max_eta, err, errsz);
    if (!rc) rc = scalar(in, "del0", &cfg.del0, err, errsz);
    if (!rc) rc = gpsc_vecset_int(in, "max_iterations", &max_it, err, errsz);
    if (rc) return rc;
    if (max_it < 1 || max_it > 100000)
        return fail(GPSC_ERANGE, err, errsz, "max_iterations %lld out of [1, 100000]", max_it);
    cfg.max_iterations = (int)max_it;
    p.Cm = Cm->data;
    p.cv = cv->data;
    p.pref.K = pK->data;
    p.pref.k = pk->data;
    p.pref.pol_covar = pS->data;

    gpsc_traj_lg_t lg;
    double *chol = NULL;
    double *trace = malloc(sizeof(double) * 2 * (size_t)max_it);
    gpsc_arena_t *a = arena_for(gpsc_cstep_scratch_size(d));
    if (!trace || !a) {
        rc = fail(GPSC_ENOMEM, err, errsz, "out of memory");
        goto done;
    }
    rc = put_lg(out, &lg, &chol, d, false);
    if (rc) goto done;
    gpsc_cstep_result_t res = {.eta_trace = trace, .kl_trace = trace + max_it};
    rc = gpsc_cstep(&lg, &res, &cfg, &p, d, a);
    if (rc) {
        rc = fail(rc, err, errsz, "C-step failed after %d iterations: %s", res.iterations,
                  gpsc_strerror(rc));
        goto done;
    }
    int n = res.iterations;
    rc = gpsc_vecset_put_scalar(out, "eta", res.eta);
    if (!rc) rc = gpsc_vecset_put_scalar(out, "kl", res.kl);
    if (!rc) rc = gpsc_vecset_put_scalar(out, "kl_target", res.kl_target);
    if (!rc) rc = gpsc_vecset_put_int(out, "iterations", n);
    if (!rc) rc = gpsc_vecset_put_int(out, "n_bumps", res.n_bumps);
    if (!rc) rc = gpsc_vecset_put_array(out, "eta_trace", res.eta_trace, 1, &n);
    if (!rc) rc = gpsc_vecset_put_array(out, "kl_trace", res.kl_trace, 1, &n);
done:
    free(trace);
    free(chol);
    gpsc_arena_destroy(&a);
    return rc;
}

/* -- laplace_cost (5.13) ---------------------------------------------------- */

static int kind_laplace_cost(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    const gpsc_value_t *mu, *sigma, *cc, *cv, *Cm;
    int rc = arr(in, "mu", &mu, err, errsz, 2, ANY, ANY);
    if (rc) return rc;
    int T = mu->shape[0], dXU = mu->shape[1];
    rc = arr(in, "sigma", &sigma, err, errsz, 3, T, dXU, dXU);
    if (!rc) rc = arr(in, "cc", &cc, err, errsz, 1, T);
    if (!rc) rc = arr(in, "cv", &cv, err, errsz, 2, T, dXU);
    if (!rc) rc = arr(in, "Cm", &Cm, err, errsz, 3, T, dXU, dXU);
    if (rc) return rc;
    double *cost_t, cost;
    rc = put(out, "cost_t", &cost_t, 1, T, 0, 0);
    if (rc) return rc;
    rc = gpsc_traj_laplace_cost(cost_t, &cost, mu->data, sigma->data, cc->data, cv->data, Cm->data,
                                T, dXU);
    if (rc) return kernel_fail(rc, err, errsz, "Laplace cost");
    return gpsc_vecset_put_scalar(out, "cost", cost);
}

/* -- step_adjust (5.14) ----------------------------------------------------- */

static int kind_step_adjust(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    const char *mode;
    double sm, lo, hi;
    int rc = gpsc_vecset_string(in, "mode", &mode, err, errsz);
    if (!rc) rc = scalar(in, "step_mult", &sm, err, errsz);
    if (!rc) rc = scalar(in, "min_step_mult", &lo, err, errsz);
    if (!rc) rc = scalar(in, "max_step_mult", &hi, err, errsz);
    if (rc) return rc;
    gpsc_stepsize_t r;
    if (strcmp(mode, "classic") == 0) {
        double prev, pred, act;
        rc = scalar(in, "prev_laplace", &prev, err, errsz);
        if (!rc) rc = scalar(in, "new_predicted_laplace", &pred, err, errsz);
        if (!rc) rc = scalar(in, "new_actual_laplace", &act, err, errsz);
        if (rc) return rc;
        rc = gpsc_stepsize_classic(&r, prev, pred, act, sm, lo, hi);
    } else if (strcmp(mode, "global") == 0) {
        const char *rule_name;
        gpsc_step_rule_t rule;
        rc = gpsc_vecset_string(in, "step_rule", &rule_name, err, errsz);
        if (rc) return rc;
        if (gpsc_stepsize_rule_parse(&rule, rule_name))
            return fail(GPSC_EINVAL, err, errsz, "unknown step_rule \"%s\"", rule_name);
        const char *names[5] = {"prev_laplace", "prev_predicted", "cur_laplace", "prev_mc",
                                "cur_mc"};
        const gpsc_value_t *v[5];
        rc = arr(in, names[0], &v[0], err, errsz, 1, ANY);
        for (int i = 1; i < 5 && !rc; i++)
            rc = arr(in, names[i], &v[i], err, errsz, 1, v[0]->shape[0]);
        if (rc) return rc;
        rc = gpsc_stepsize_global(&r, rule, v[0]->data, v[1]->data, v[2]->data, v[3]->data,
                                  v[4]->data, v[0]->shape[0], sm, lo, hi);
    } else {
        return fail(GPSC_EINVAL, err, errsz, "unknown mode \"%s\"", mode);
    }
    if (rc) return kernel_fail(rc, err, errsz, "step_adjust");
    rc = gpsc_vecset_put_scalar(out, "predicted_impr", r.predicted_impr);
    if (!rc) rc = gpsc_vecset_put_scalar(out, "actual_impr", r.actual_impr);
    if (!rc) rc = gpsc_vecset_put_scalar(out, "new_mult", r.new_mult);
    if (!rc) rc = gpsc_vecset_put_scalar(out, "new_step_mult", r.new_step_mult);
    return rc;
}

/* -- init_lqr (5.17) -------------------------------------------------------- */

static int kind_init_lqr(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    const gpsc_value_t *x0, *gains, *acc;
    long long dU_in, T_in;
    gpsc_init_lqr_cfg_t cfg;
    int rc = arr(in, "x0", &x0, err, errsz, 1, ANY);
    if (!rc) rc = arr(in, "init_gains", &gains, err, errsz, 1, ANY);
    if (!rc) rc = arr(in, "init_acc", &acc, err, errsz, 1, gains->shape[0]);
    if (!rc) rc = gpsc_vecset_int(in, "dU", &dU_in, err, errsz);
    if (!rc) rc = gpsc_vecset_int(in, "T", &T_in, err, errsz);
    if (!rc) rc = scalar(in, "dt", &cfg.dt, err, errsz);
    if (!rc) rc = scalar(in, "init_var", &cfg.init_var, err, errsz);
    if (!rc) rc = scalar(in, "stiffness", &cfg.stiffness, err, errsz);
    if (!rc) rc = scalar(in, "stiffness_vel", &cfg.stiffness_vel, err, errsz);
    if (!rc) rc = scalar(in, "final_weight", &cfg.final_weight, err, errsz);
    if (rc) return rc;
    /* dU from the gains' shape; the integer input must agree. T has no
     * array to come from. */
    gpsc_traj_dims_t d = {(int)(T_in > 0 && T_in < 1000000 ? T_in : 0), x0->shape[0],
                          gains->shape[0]};
    if (dU_in != d.dU)
        return fail(GPSC_EDIM, err, errsz, "dU = %lld but init_gains has %d entries", dU_in, d.dU);
    if (!gpsc_traj_dims_ok(d)) return fail(GPSC_ERANGE, err, errsz, "T = %lld out of range", T_in);
    if (d.dX < 2 * d.dU)
        return fail(GPSC_EDIM, err, errsz, "x0 has %d entries, need at least 2 dU = %d", d.dX,
                    2 * d.dU);
    cfg.x0 = x0->data;
    cfg.init_gains = gains->data;
    cfg.init_acc = acc->data;
    gpsc_traj_lg_t lg;
    rc = put_lg(out, &lg, NULL, d, true);
    if (rc) return rc;
    gpsc_arena_t *a = arena_for(gpsc_init_lqr_scratch_size(d));
    if (!a) return fail(GPSC_ENOMEM, err, errsz, "out of memory");
    rc = gpsc_init_lqr(&lg, &cfg, d, a);
    gpsc_arena_destroy(&a);
    return rc ? kernel_fail(rc, err, errsz, "init_lqr") : 0;
}

const gpsc_kind_entry_t gpsc_kinds_traj[] = {
    {"lqr_backward", kind_lqr_backward}, {"traj_forward", kind_traj_forward},
    {"traj_kl", kind_traj_kl},           {"cstep", kind_cstep},
    {"laplace_cost", kind_laplace_cost}, {"step_adjust", kind_step_adjust},
    {"init_lqr", kind_init_lqr},         {NULL, NULL},
};
