/* kinds_model.c — gpsc-numerics glue for the "model" kinds: costs, GMM,
 * dynamics, policy linearisation and S-step targets (README 5.1-5.8,
 * 5.15, 5.16). Each function reads its inputs from a vector set, takes
 * every size from the array shapes, validates shapes and finiteness,
 * allocates its outputs and an arena sized by the kernel, and calls the
 * kernel. This is glue: it may allocate. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/error.h"
#include "common/la.h"
#include "learner/cost.h"
#include "learner/dynamics.h"
#include "learner/gmm.h"
#include "learner/kinds.h"
#include "learner/policy_prior.h"

static int fail(int rc, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(int rc, char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return rc;
}

/* ---- input readers ---- */

/* A finite float array of rank ndim with every size >= 1. */
static int in_arr(const gpsc_vecset_t *in, const char *name, int ndim, const gpsc_value_t **v,
                  char *err, size_t errsz)
{
    int rc = gpsc_vecset_array(in, name, ndim, v, err, errsz);
    if (rc) return rc;
    for (int i = 0; i < (*v)->ndim; i++)
        if ((*v)->shape[i] < 1)
            return fail(GPSC_EDIM, err, errsz, "\"%s\" has an empty axis %d", name, i);
    if (!gpsc_la_all_finite((*v)->data, (*v)->n))
        return fail(GPSC_ENONFINITE, err, errsz, "\"%s\" holds NaN or Inf", name);
    return 0;
}

/* A finite float scalar. */
static int in_num(const gpsc_vecset_t *in, const char *name, double *out, char *err, size_t errsz)
{
    int rc = gpsc_vecset_scalar(in, name, out, err, errsz);
    if (rc) return rc;
    if (!isfinite(*out)) return fail(GPSC_ENONFINITE, err, errsz, "\"%s\" is NaN or Inf", name);
    return 0;
}

/* An integer count in [lo, hi]. */
static int in_int(const gpsc_vecset_t *in, const char *name, int lo, int hi, int *out, char *err,
                  size_t errsz)
{
    long long v;
    int rc = gpsc_vecset_int(in, name, &v, err, errsz);
    if (rc) return rc;
    if (v < lo || v > hi)
        return fail(GPSC_ERANGE, err, errsz, "\"%s\" = %lld is outside [%d, %d]", name, v, lo, hi);
    *out = (int)v;
    return 0;
}

/* Requires v->shape[axis] == want. */
static int same(const gpsc_value_t *v, int axis, int want, char *err, size_t errsz)
{
    if (v->shape[axis] != want)
        return fail(GPSC_EDIM, err, errsz, "\"%s\" axis %d is %d, expected %d", v->name, axis,
                    v->shape[axis], want);
    return 0;
}

/* A log-weight vector of K entries, stored as (K) or (K x 1). */
static int in_logmass(const gpsc_vecset_t *in, const char *name, int K, const gpsc_value_t **v,
                      char *err, size_t errsz)
{
    int rc = gpsc_vecset_array(in, name, -1, v, err, errsz);
    if (rc) return rc;
    bool ok = ((*v)->ndim == 1 && (*v)->shape[0] == K) ||
              ((*v)->ndim == 2 && (*v)->shape[0] == K && (*v)->shape[1] == 1);
    if (!ok)
        return fail(GPSC_EDIM, err, errsz, "\"%s\" must have shape (%d) or (%d, 1)", name, K, K);
    if (!gpsc_la_all_finite((*v)->data, (*v)->n))
        return fail(GPSC_ENONFINITE, err, errsz, "\"%s\" holds NaN or Inf", name);
    return 0;
}

/* A GMM given as NAMEmu (K x D), NAMEsigma (K x D x D), NAMElogmass (K). */
static int in_gmm(const gpsc_vecset_t *in, const char *prefix, gpsc_gmm_t *g, char *err,
                  size_t errsz)
{
    char n1[64], n2[64], n3[64];
    snprintf(n1, sizeof n1, "%smu", prefix);
    snprintf(n2, sizeof n2, "%ssigma", prefix);
    snprintf(n3, sizeof n3, "%slogmass", prefix);
    const gpsc_value_t *mu, *sig, *lm;
    int rc;
    if ((rc = in_arr(in, n1, 2, &mu, err, errsz)) || (rc = in_arr(in, n2, 3, &sig, err, errsz)))
        return rc;
    g->K = mu->shape[0];
    g->D = mu->shape[1];
    if ((rc = same(sig, 0, g->K, err, errsz)) || (rc = same(sig, 1, g->D, err, errsz)) ||
        (rc = same(sig, 2, g->D, err, errsz)) || (rc = in_logmass(in, n3, g->K, &lm, err, errsz)))
        return rc;
    g->mu = mu->data;
    g->sigma = sig->data;
    g->logmass = lm->data;
    return 0;
}

/* Norm/ramp options of an FK term named PREFIXnorm, PREFIXramp, ... */
static int in_penalty(const gpsc_vecset_t *in, const char *prefix, gpsc_penalty_t *pen, char *err,
                      size_t errsz)
{
    char nm[64];
    const char *s;
    int rc;
#define NAME(x) (snprintf(nm, sizeof nm, "%s%s", prefix, x), nm)
    if ((rc = in_num(in, NAME("l1"), &pen->l1, err, errsz)) ||
        (rc = in_num(in, NAME("l2"), &pen->l2, err, errsz)) ||
        (rc = in_num(in, NAME("alpha"), &pen->alpha, err, errsz)) ||
        (rc = in_num(in, NAME("wp_final_multiplier"), &pen->final_mult, err, errsz)))
        return rc;
    if ((rc = gpsc_vecset_string(in, NAME("norm"), &s, err, errsz))) return rc;
    if (gpsc_cost_norm_parse(&pen->norm, s))
        return fail(GPSC_EINVAL, err, errsz, "\"%s\": unknown norm \"%s\"", nm, s);
    if ((rc = gpsc_vecset_string(in, NAME("ramp"), &s, err, errsz))) return rc;
    if (gpsc_cost_ramp_parse(&pen->ramp, s))
        return fail(GPSC_EINVAL, err, errsz, "\"%s\": unknown ramp \"%s\"", nm, s);
#undef NAME
    if (pen->l1 != 0.0 && !(pen->alpha > 0.0))
        return fail(GPSC_EINVAL, err, errsz, "%salpha must be > 0", prefix);
    return 0;
}

/* ---- output helpers ---- */

static int out_arr(gpsc_vecset_t *out, const char *name, double **data, char *err, size_t errsz,
                   int ndim, ...)
{
    int shape[GPSC_VEC_MAXDIM];
    va_list ap;
    va_start(ap, ndim);
    for (int i = 0; i < ndim; i++)
        shape[i] = va_arg(ap, int);
    va_end(ap);
    int rc = gpsc_vecset_new_array(out, name, ndim, shape, data);
    if (rc) return fail(rc, err, errsz, "cannot allocate output \"%s\"", name);
    return 0;
}

static gpsc_arena_t *arena_or_fail(size_t bytes, char *err, size_t errsz)
{
    gpsc_arena_t *a = gpsc_arena_new(bytes);
    if (!a) fail(GPSC_ENOMEM, err, errsz, "cannot allocate a %zu-byte arena", bytes);
    return a;
}

/* The six expansion outputs l, lx, lu, lxx, luu, lux. */
static int out_cost(gpsc_vecset_t *out, gpsc_cost_exp_t *e, int T, int dX, int dU, char *err,
                    size_t errsz)
{
    e->T = T;
    e->dX = dX;
    e->dU = dU;
    int rc;
    if ((rc = out_arr(out, "l", &e->l, err, errsz, 1, T)) ||
        (rc = out_arr(out, "lx", &e->lx, err, errsz, 2, T, dX)) ||
        (rc = out_arr(out, "lu", &e->lu, err, errsz, 2, T, dU)) ||
        (rc = out_arr(out, "lxx", &e->lxx, err, errsz, 3, T, dX, dX)) ||
        (rc = out_arr(out, "luu", &e->luu, err, errsz, 3, T, dU, dU)) ||
        (rc = out_arr(out, "lux", &e->lux, err, errsz, 3, T, dU, dX)))
        return rc;
    return 0;
}

/* ---- cost kinds ---- */

static int kind_cost_action(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    const gpsc_value_t *u, *wu;
    int dX, rc;
    if ((rc = in_arr(in, "u", 2, &u, err, errsz)) || (rc = in_arr(in, "wu", 1, &wu, err, errsz)) ||
        (rc = in_int(in, "dX", 0, 1 << 20, &dX, err, errsz)))
        return rc;
    int T = u->shape[0], dU = u->shape[1];
    if ((rc = same(wu, 0, dU, err, errsz))) return rc;
    gpsc_cost_exp_t e;
    if ((rc = out_cost(out, &e, T, dX, dU, err, errsz))) return rc;
    gpsc_cost_action(&e, 1.0, u->data, wu->data);
    return 0;
}

/* The sample arrays shared by cost_fk and cost_sum: x, u, ee, jac,
 * joint_idx (into idx, dQ entries, allocated). */
typedef struct fk_in {
    const gpsc_value_t *x, *u, *ee, *jac, *target;
    int T, dX, dU, P, dQ;
    int *idx;
} fk_in_t;

static int in_fk_sample(const gpsc_vecset_t *in, fk_in_t *f, char *err, size_t errsz)
{
    int rc;
    f->idx = NULL;
    if ((rc = in_arr(in, "x", 2, &f->x, err, errsz)) ||
        (rc = in_arr(in, "u", 2, &f->u, err, errsz)) ||
        (rc = in_arr(in, "ee", 2, &f->ee, err, errsz)) ||
        (rc = in_arr(in, "jac", 3, &f->jac, err, errsz)) ||
        (rc = in_arr(in, "target", 1, &f->target, err, errsz)))
        return rc;
    f->T = f->x->shape[0];
    f->dX = f->x->shape[1];
    f->dU = f->u->shape[1];
    f->P = f->ee->shape[1];
    f->dQ = f->jac->shape[2];
    if ((rc = same(f->u, 0, f->T, err, errsz)) || (rc = same(f->ee, 0, f->T, err, errsz)) ||
        (rc = same(f->jac, 0, f->T, err, errsz)) || (rc = same(f->jac, 1, f->P, err, errsz)) ||
        (rc = same(f->target, 0, f->P, err, errsz)))
        return rc;
    const long long *ji;
    size_t nj;
    if ((rc = gpsc_vecset_intlist(in, "joint_idx", &ji, &nj, err, errsz))) return rc;
    if ((int)nj != f->dQ)
        return fail(GPSC_EDIM, err, errsz, "joint_idx has %zu entries, jac has dQ = %d", nj, f->dQ);
    f->idx = malloc(sizeof(int) * (nj ? nj : 1));
    if (!f->idx) return fail(GPSC_ENOMEM, err, errsz, "out of memory");
    for (size_t i = 0; i < nj; i++) {
        if (ji[i] < 0 || ji[i] >= f->dX)
            return fail(GPSC_ERANGE, err, errsz, "joint_idx[%zu] = %lld is outside [0, %d)", i,
                        ji[i], f->dX);
        for (size_t j = 0; j < i; j++)
            if (ji[j] == ji[i])
                return fail(GPSC_EINVAL, err, errsz, "joint_idx repeats %lld", ji[i]);
        f->idx[i] = (int)ji[i];
    }
    return 0;
}

static int kind_cost_fk(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    fk_in_t f;
    const gpsc_value_t *wp;
    gpsc_penalty_t pen;
    gpsc_cost_exp_t e;
    gpsc_arena_t *a = NULL;
    int rc = in_fk_sample(in, &f, err, errsz);
    if (!rc && !(rc = in_arr(in, "wp", 1, &wp, err, errsz)) &&
        !(rc = same(wp, 0, f.P, err, errsz)) && !(rc = in_penalty(in, "", &pen, err, errsz)) &&
        !(rc = out_cost(out, &e, f.T, f.dX, f.dU, err, errsz))) {
        a = arena_or_fail(gpsc_cost_fk_scratch_size(f.P, f.dQ), err, errsz);
        rc = a ? gpsc_cost_fk(&e, 1.0, &pen, f.ee->data, f.jac->data, f.target->data, wp->data,
                              f.idx, f.P, f.dQ, a)
               : GPSC_ENOMEM;
    }
    gpsc_arena_destroy(&a);
    free(f.idx);
    return rc;
}

/* cost_sum: weights[0] action(wu) + weights[1] FK(fk1_*) + weights[2]
 * FK(fk2_*), evaluated through the configured-terms path. */
static int kind_cost_sum(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    fk_in_t f;
    const gpsc_value_t *wu, *wts, *wp1, *wp2;
    gpsc_cost_term_t terms[3];
    gpsc_cost_exp_t e;
    gpsc_arena_t *a = NULL;
    memset(terms, 0, sizeof terms);
    int rc = in_fk_sample(in, &f, err, errsz);
    if (rc) goto done;
    if ((rc = in_arr(in, "wu", 1, &wu, err, errsz)) ||
        (rc = in_arr(in, "weights", 1, &wts, err, errsz)) ||
        (rc = in_arr(in, "fk1_wp", 1, &wp1, err, errsz)) ||
        (rc = in_arr(in, "fk2_wp", 1, &wp2, err, errsz)) || (rc = same(wu, 0, f.dU, err, errsz)) ||
        (rc = same(wts, 0, 3, err, errsz)) || (rc = same(wp1, 0, f.P, err, errsz)) ||
        (rc = same(wp2, 0, f.P, err, errsz)) ||
        (rc = in_penalty(in, "fk1_", &terms[1].pen, err, errsz)) ||
        (rc = in_penalty(in, "fk2_", &terms[2].pen, err, errsz)))
        goto done;
    if (f.dU > GPSC_COST_MAXDIM || f.P > GPSC_COST_MAXDIM || f.dQ > GPSC_COST_MAXDIM) {
        rc = fail(GPSC_EDIM, err, errsz, "cost_sum: dU, P and dQ are limited to %d",
                  GPSC_COST_MAXDIM);
        goto done;
    }
    terms[0].type = GPSC_COST_ACTION;
    terms[0].n = f.dU;
    memcpy(terms[0].wu, wu->data, sizeof(double) * (size_t)f.dU);
    for (int i = 1; i < 3; i++) {
        terms[i].type = GPSC_COST_FK;
        terms[i].n = f.P;
        terms[i].nidx = f.dQ;
        memcpy(terms[i].wp, (i == 1 ? wp1 : wp2)->data, sizeof(double) * (size_t)f.P);
        memcpy(terms[i].target, f.target->data, sizeof(double) * (size_t)f.P);
        memcpy(terms[i].idx, f.idx, sizeof(int) * (size_t)f.dQ);
    }
    for (int i = 0; i < 3; i++)
        terms[i].weight = wts->data[i];
    gpsc_cost_sample_t s = {.T = f.T,
                            .dX = f.dX,
                            .dU = f.dU,
                            .P = f.P,
                            .dQ = f.dQ,
                            .x = f.x->data,
                            .u = f.u->data,
                            .ee = f.ee->data,
                            .jac = f.jac->data};
    for (int i = 0; i < 3; i++)
        if ((rc = gpsc_cost_term_check(&terms[i], &s, err, errsz))) goto done;
    if ((rc = out_cost(out, &e, f.T, f.dX, f.dU, err, errsz))) goto done;
    a = arena_or_fail(gpsc_cost_eval_scratch_size(terms, 3, &s), err, errsz);
    rc = a ? gpsc_cost_eval(&e, terms, 3, &s, a) : GPSC_ENOMEM;
done:
    gpsc_arena_destroy(&a);
    free(f.idx);
    return rc;
}

static int kind_cost_expand(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    const gpsc_value_t *l, *lx, *lu, *lxx, *luu, *lux, *X, *U;
    int rc;
    if ((rc = in_arr(in, "l", 2, &l, err, errsz)) || (rc = in_arr(in, "lx", 3, &lx, err, errsz)) ||
        (rc = in_arr(in, "lu", 3, &lu, err, errsz)) ||
        (rc = in_arr(in, "lxx", 4, &lxx, err, errsz)) ||
        (rc = in_arr(in, "luu", 4, &luu, err, errsz)) ||
        (rc = in_arr(in, "lux", 4, &lux, err, errsz)) ||
        (rc = in_arr(in, "X", 3, &X, err, errsz)) || (rc = in_arr(in, "U", 3, &U, err, errsz)))
        return rc;
    int N = l->shape[0], T = l->shape[1], dX = X->shape[2], dU = U->shape[2], dXU = dX + dU;
    const gpsc_value_t *all[] = {lx, lu, lxx, luu, lux, X, U};
    for (int i = 0; i < 7; i++)
        if ((rc = same(all[i], 0, N, err, errsz)) || (rc = same(all[i], 1, T, err, errsz)))
            return rc;
    if ((rc = same(lx, 2, dX, err, errsz)) || (rc = same(lu, 2, dU, err, errsz)) ||
        (rc = same(lxx, 2, dX, err, errsz)) || (rc = same(lxx, 3, dX, err, errsz)) ||
        (rc = same(luu, 2, dU, err, errsz)) || (rc = same(luu, 3, dU, err, errsz)) ||
        (rc = same(lux, 2, dU, err, errsz)) || (rc = same(lux, 3, dX, err, errsz)))
        return rc;
    gpsc_cost_exp_t *exps = calloc((size_t)N, sizeof(*exps));
    if (!exps) return fail(GPSC_ENOMEM, err, errsz, "out of memory");
    size_t t = (size_t)T;
    for (int n = 0; n < N; n++) {
        /* the expansions are read only; the struct's pointers are not const */
        exps[n] = (gpsc_cost_exp_t){.T = T,
                                    .dX = dX,
                                    .dU = dU,
                                    .l = l->data + n * t,
                                    .lx = lx->data + n * t * dX,
                                    .lu = lu->data + n * t * dU,
                                    .lxx = lxx->data + n * t * dX * dX,
                                    .luu = luu->data + n * t * dU * dU,
                                    .lux = lux->data + n * t * dU * dX};
    }
    double *cc, *cv, *Cm;
    if (!(rc = out_arr(out, "cc", &cc, err, errsz, 1, T)) &&
        !(rc = out_arr(out, "cv", &cv, err, errsz, 2, T, dXU)) &&
        !(rc = out_arr(out, "Cm", &Cm, err, errsz, 3, T, dXU, dXU)))
        gpsc_cost_expand(cc, cv, Cm, exps, X->data, U->data, N);
    free(exps);
    return rc;
}

/* ---- GMM kinds ---- */

static int kind_gmm_em(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    const gpsc_value_t *data;
    gpsc_gmm_t g0, g;
    int maxit, rc;
    if ((rc = in_arr(in, "data", 2, &data, err, errsz)) || (rc = in_gmm(in, "", &g0, err, errsz)) ||
        (rc = in_int(in, "max_iterations", 0, 1 << 20, &maxit, err, errsz)))
        return rc;
    int M = data->shape[0], K = g0.K, D = g0.D;
    if ((rc = same(data, 1, D, err, errsz))) return rc;
    /* EM runs in place on the output arrays, warm-started from the inputs */
    g = (gpsc_gmm_t){.K = K, .D = D};
    if ((rc = out_arr(out, "mu", &g.mu, err, errsz, 2, K, D)) ||
        (rc = out_arr(out, "sigma", &g.sigma, err, errsz, 3, K, D, D)) ||
        (rc = out_arr(out, "logmass", &g.logmass, err, errsz, 1, K)))
        return rc;
    gpsc_la_copy(g.mu, g0.mu, (size_t)K * D);
    gpsc_la_copy(g.sigma, g0.sigma, (size_t)K * D * D);
    gpsc_la_copy(g.logmass, g0.logmass, (size_t)K);
    double *trace = malloc(sizeof(double) * (size_t)(maxit ? maxit : 1));
    gpsc_arena_t *a = arena_or_fail(gpsc_gmm_em_scratch_size(M, K, D), err, errsz);
    gpsc_gmm_em_info_t info;
    if (!trace || !a) {
        rc = fail(GPSC_ENOMEM, err, errsz, "out of memory");
        goto done;
    }
    if ((rc = gpsc_gmm_em(&g, &info, trace, data->data, M, maxit, a))) {
        fail(rc, err, errsz, "EM failed after %d E-steps", info.n_estep);
        goto done;
    }
    int shape[1] = {info.n_estep};
    if ((rc = gpsc_vecset_put_scalar(out, "loglik", info.loglik)) ||
        (rc = gpsc_vecset_put_array(out, "loglik_trace", trace, 1, shape)) ||
        (rc = gpsc_vecset_put_int(out, "n_estep", info.n_estep)) ||
        (rc = gpsc_vecset_put_int(out, "n_mstep", info.n_mstep)) ||
        (rc = gpsc_vecset_put_int(out, "stop_reason", info.stop_reason)))
        fail(rc, err, errsz, "out of memory");
done:
    free(trace);
    gpsc_arena_destroy(&a);
    return rc;
}

static int kind_gmm_prior(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    const gpsc_value_t *pts;
    gpsc_gmm_t g;
    int N_init, rc;
    double strength;
    if ((rc = in_gmm(in, "", &g, err, errsz)) || (rc = in_arr(in, "pts", 2, &pts, err, errsz)) ||
        (rc = in_int(in, "N_init", 1, 1 << 30, &N_init, err, errsz)) ||
        (rc = in_num(in, "strength", &strength, err, errsz)))
        return rc;
    int M = pts->shape[0], K = g.K, D = g.D;
    if ((rc = same(pts, 1, D, err, errsz))) return rc;
    gpsc_niw_t niw;
    double *clw;
    if ((rc = out_arr(out, "mu0", &niw.mu0, err, errsz, 1, D)) ||
        (rc = out_arr(out, "Phi", &niw.Phi, err, errsz, 2, D, D)) ||
        (rc = out_arr(out, "cluster_logwts", &clw, err, errsz, 1, K)))
        return rc;
    gpsc_arena_t *a = arena_or_fail(gpsc_gmm_prior_scratch_size(M, K, D), err, errsz);
    if (!a) return GPSC_ENOMEM;
    rc = gpsc_gmm_prior(&niw, clw, &g, pts->data, M, N_init, strength, a);
    gpsc_arena_destroy(&a);
    if (rc) return fail(rc, err, errsz, "GMM prior failed (a cluster covariance is not PD?)");
    if ((rc = gpsc_vecset_put_scalar(out, "m", niw.m)) ||
        (rc = gpsc_vecset_put_scalar(out, "n0", niw.n0)))
        return fail(rc, err, errsz, "out of memory");
    return 0;
}

/* ---- dynamics kinds ---- */

static int kind_niw_regression(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    const gpsc_value_t *pts, *mu0, *Phi;
    gpsc_niw_t niw;
    double sig_reg;
    int dX, dU, rc;
    if ((rc = in_arr(in, "pts", 2, &pts, err, errsz)) ||
        (rc = in_arr(in, "mu0", 1, &mu0, err, errsz)) ||
        (rc = in_arr(in, "Phi", 2, &Phi, err, errsz)) ||
        (rc = in_num(in, "m", &niw.m, err, errsz)) ||
        (rc = in_num(in, "n0", &niw.n0, err, errsz)) ||
        (rc = in_num(in, "sig_reg", &sig_reg, err, errsz)) ||
        (rc = in_int(in, "dX", 1, 1 << 20, &dX, err, errsz)) ||
        (rc = in_int(in, "dU", 0, 1 << 20, &dU, err, errsz)))
        return rc;
    int N = pts->shape[0], D = pts->shape[1], a = dX + dU;
    if (D != 2 * dX + dU)
        return fail(GPSC_EDIM, err, errsz, "pts has D = %d, expected 2 dX + dU = %d", D,
                    2 * dX + dU);
    if ((rc = same(mu0, 0, D, err, errsz)) || (rc = same(Phi, 0, D, err, errsz)) ||
        (rc = same(Phi, 1, D, err, errsz)))
        return rc;
    niw.D = D;
    niw.mu0 = mu0->data;
    niw.Phi = Phi->data;
    double *Fm, *fv, *cov, *mun, *sigma;
    if ((rc = out_arr(out, "Fm", &Fm, err, errsz, 2, dX, a)) ||
        (rc = out_arr(out, "fv", &fv, err, errsz, 1, dX)) ||
        (rc = out_arr(out, "dyn_covar", &cov, err, errsz, 2, dX, dX)) ||
        (rc = out_arr(out, "mun", &mun, err, errsz, 1, D)) ||
        (rc = out_arr(out, "sigma", &sigma, err, errsz, 2, D, D)))
        return rc;
    gpsc_arena_t *ar =
        arena_or_fail(gpsc_dynamics_niw_regression_scratch_size(N, D, a), err, errsz);
    if (!ar) return GPSC_ENOMEM;
    rc = gpsc_dynamics_niw_regression(Fm, fv, cov, mun, sigma, pts->data, &niw, sig_reg, N, D, a,
                                      ar);
    gpsc_arena_destroy(&ar);
    if (rc) return fail(rc, err, errsz, "regression failed");
    return 0;
}

static int kind_dynamics_fit(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    const gpsc_value_t *X, *U, *X0;
    gpsc_gmm_t g;
    gpsc_dynamics_cfg_t cfg;
    int N_init, rc;
    if ((rc = in_arr(in, "X", 3, &X, err, errsz)) || (rc = in_arr(in, "U", 3, &U, err, errsz)) ||
        (rc = in_gmm(in, "gmm_", &g, err, errsz)) ||
        (rc = in_int(in, "N_init", 1, 1 << 30, &N_init, err, errsz)) ||
        (rc = in_num(in, "strength", &cfg.strength, err, errsz)) ||
        (rc = in_num(in, "sig_reg", &cfg.sig_reg, err, errsz)) ||
        (rc = in_arr(in, "X0_prior", 2, &X0, err, errsz)) ||
        (rc = in_num(in, "initial_state_var", &cfg.initial_state_var, err, errsz)))
        return rc;
    int N = X->shape[0], T = X->shape[1], dX = X->shape[2], dU = U->shape[2], dXU = dX + dU;
    if ((rc = same(U, 0, N, err, errsz)) || (rc = same(U, 1, T, err, errsz)) ||
        (rc = same(X0, 1, dX, err, errsz)))
        return rc;
    if (g.D != 2 * dX + dU)
        return fail(GPSC_EDIM, err, errsz, "GMM has D = %d, expected 2 dX + dU = %d", g.D,
                    2 * dX + dU);
    if (N < 2) return fail(GPSC_EINVAL, err, errsz, "cannot fit dynamics on %d sample(s)", N);
    gpsc_dynamics_fit_out_t o;
    if ((rc = out_arr(out, "Fm", &o.Fm, err, errsz, 3, T, dX, dXU)) ||
        (rc = out_arr(out, "fv", &o.fv, err, errsz, 2, T, dX)) ||
        (rc = out_arr(out, "dyn_covar", &o.dyn_covar, err, errsz, 3, T, dX, dX)) ||
        (rc = out_arr(out, "x0mu", &o.x0mu, err, errsz, 1, dX)) ||
        (rc = out_arr(out, "x0sigma", &o.x0sigma, err, errsz, 2, dX, dX)))
        return rc;
    gpsc_dynamics_prior_t prior = {.gmm = &g, .N_init = N_init, .X0 = X0->data, .Np = X0->shape[0]};
    gpsc_arena_t *a = arena_or_fail(gpsc_dynamics_fit_scratch_size(N, dX, dU, g.K), err, errsz);
    if (!a) return GPSC_ENOMEM;
    rc = gpsc_dynamics_fit(&o, &cfg, &prior, X->data, U->data, N, T, dX, dU, a);
    gpsc_arena_destroy(&a);
    if (rc) return fail(rc, err, errsz, "dynamics fit failed");
    return 0;
}

/* ---- policy kinds ---- */

static int kind_policy_linearize(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err,
                                 size_t errsz)
{
    const gpsc_value_t *X, *pmu, *psig;
    gpsc_gmm_t g;
    double strength, sig_reg;
    int N_init, rc;
    if ((rc = in_arr(in, "X", 3, &X, err, errsz)) ||
        (rc = in_arr(in, "pol_mu", 3, &pmu, err, errsz)) ||
        (rc = in_arr(in, "pol_sig", 4, &psig, err, errsz)) ||
        (rc = in_gmm(in, "gmm_", &g, err, errsz)) ||
        (rc = in_int(in, "N_init", 1, 1 << 30, &N_init, err, errsz)) ||
        (rc = in_num(in, "strength", &strength, err, errsz)) ||
        (rc = in_num(in, "sig_reg", &sig_reg, err, errsz)))
        return rc;
    int N = X->shape[0], T = X->shape[1], dX = X->shape[2], dU = pmu->shape[2];
    if ((rc = same(pmu, 0, N, err, errsz)) || (rc = same(pmu, 1, T, err, errsz)) ||
        (rc = same(psig, 0, N, err, errsz)) || (rc = same(psig, 1, T, err, errsz)) ||
        (rc = same(psig, 2, dU, err, errsz)) || (rc = same(psig, 3, dU, err, errsz)))
        return rc;
    if (g.D != dX + dU)
        return fail(GPSC_EDIM, err, errsz, "GMM has D = %d, expected dX + dU = %d", g.D, dX + dU);
    double *K, *k, *S;
    if ((rc = out_arr(out, "pol_K", &K, err, errsz, 3, T, dU, dX)) ||
        (rc = out_arr(out, "pol_k", &k, err, errsz, 2, T, dU)) ||
        (rc = out_arr(out, "pol_S", &S, err, errsz, 3, T, dU, dU)))
        return rc;
    gpsc_arena_t *a =
        arena_or_fail(gpsc_policy_prior_linearize_scratch_size(N, dX, dU, g.K), err, errsz);
    if (!a) return GPSC_ENOMEM;
    rc = gpsc_policy_prior_linearize(K, k, S, X->data, pmu->data, psig->data, &g, N_init, strength,
                                     sig_reg, N, T, dX, dU, a);
    gpsc_arena_destroy(&a);
    if (rc) return fail(rc, err, errsz, "policy linearisation failed");
    return 0;
}

static int kind_sstep_targets(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz)
{
    const gpsc_value_t *X, *K, *k, *prc, *pw;
    int rc;
    if ((rc = in_arr(in, "X", 3, &X, err, errsz)) || (rc = in_arr(in, "K", 3, &K, err, errsz)) ||
        (rc = in_arr(in, "k", 2, &k, err, errsz)) ||
        (rc = in_arr(in, "inv_pol_covar", 3, &prc, err, errsz)) ||
        (rc = in_arr(in, "pol_wt", 1, &pw, err, errsz)))
        return rc;
    int N = X->shape[0], T = X->shape[1], dX = X->shape[2], dU = K->shape[1];
    if ((rc = same(K, 0, T, err, errsz)) || (rc = same(K, 2, dX, err, errsz)) ||
        (rc = same(k, 0, T, err, errsz)) || (rc = same(k, 1, dU, err, errsz)) ||
        (rc = same(prc, 0, T, err, errsz)) || (rc = same(prc, 1, dU, err, errsz)) ||
        (rc = same(prc, 2, dU, err, errsz)) || (rc = same(pw, 0, T, err, errsz)))
        return rc;
    double *mu, *P, *wt, *var;
    if ((rc = out_arr(out, "tgt_mu", &mu, err, errsz, 3, N, T, dU)) ||
        (rc = out_arr(out, "tgt_prc", &P, err, errsz, 4, N, T, dU, dU)) ||
        (rc = out_arr(out, "tgt_wt", &wt, err, errsz, 2, N, T)) ||
        (rc = out_arr(out, "pol_var", &var, err, errsz, 1, dU)))
        return rc;
    size_t n = (size_t)N * T;
    gpsc_policy_prior_sstep_targets(mu, P, wt, X->data, K->data, k->data, prc->data, pw->data, N, T,
                                    dX, dU);
    gpsc_arena_t *a = arena_or_fail(gpsc_policy_prior_sstep_normalize_scratch_size(n), err, errsz);
    if (!a) return GPSC_ENOMEM;
    rc = gpsc_policy_prior_sstep_normalize(wt, n, a);
    gpsc_arena_destroy(&a);
    if (rc) return fail(rc, err, errsz, "pol_wt: weights must have a positive sum and some > 1e-2");
    gpsc_policy_prior_sstep_pol_var(var, P, wt, n, dU, 0.0);
    return 0;
}

const gpsc_kind_entry_t gpsc_kinds_model[] = {
    {"cost_action", kind_cost_action},
    {"cost_fk", kind_cost_fk},
    {"cost_sum", kind_cost_sum},
    {"cost_expand", kind_cost_expand},
    {"gmm_em", kind_gmm_em},
    {"gmm_prior", kind_gmm_prior},
    {"niw_regression", kind_niw_regression},
    {"dynamics_fit", kind_dynamics_fit},
    {"policy_linearize", kind_policy_linearize},
    {"sstep_targets", kind_sstep_targets},
    {NULL, NULL},
};
