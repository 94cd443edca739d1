/* test_cost — cost terms (learner/cost.h): the reference vectors through
 * the kind functions, ramps, finite-difference checks of the FK and state
 * costs, the configured-terms path, and refusal of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/error.h"
#include "common/la.h"
#include "common/rng.h"
#include "learner/cost.h"
#include "model_check.h"

/* ---- reference vectors ---- */

static void test_vectors(void **state)
{
    (void)state;
    const char *files[] = {"cost_action_small.json",       "cost_action_realistic.json",
                           "cost_fk_small_logl2.json",     "cost_fk_small_l1l2_linear.json",
                           "cost_fk_realistic_logl2.json", "cost_sum_small.json",
                           "cost_sum_realistic.json",      "cost_expand_small.json",
                           "cost_expand_realistic.json"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        mc_check_vector(files[i]);
}

static void test_fk_hessian_symmetric(void **state)
{
    (void)state;
    const char *files[] = {"cost_fk_realistic_logl2.json", "cost_fk_small_l1l2_linear.json",
                           "cost_sum_realistic.json"};
    for (size_t i = 0; i < 3; i++) {
        gpsc_vecfile_t *vf;
        gpsc_vecset_t *got = mc_check_vector_keep(files[i], &vf);
        mc_assert_symmetric(got, "lxx");
        mc_assert_symmetric(got, "luu");
        gpsc_vecset_destroy(&got);
        gpsc_vecfile_destroy(&vf);
    }
}

static void test_vectors_refuse_nonfinite(void **state)
{
    (void)state;
    mc_refuses("cost_action_small.json", "u", 1, NAN);
    mc_refuses("cost_action_small.json", "wu", 0, INFINITY);
    mc_refuses("cost_fk_small_logl2.json", "ee", 3, NAN);
    mc_refuses("cost_fk_small_logl2.json", "jac", 0, -INFINITY);
    mc_refuses("cost_fk_small_logl2.json", "alpha", 0, NAN);
    mc_refuses("cost_sum_small.json", "fk2_wp", 1, NAN);
    mc_refuses("cost_sum_small.json", "weights", 2, INFINITY);
    mc_refuses("cost_expand_small.json", "lxx", 5, NAN);
    mc_refuses("cost_expand_small.json", "U", 2, INFINITY);
}

/* ---- ramps ---- */

static void test_ramps(void **state)
{
    (void)state;
    int T = 4;
    for (int t = 0; t < T; t++) {
        double fm = t == T - 1 ? 3.0 : 1.0;
        assert_true(gpsc_cost_ramp(GPSC_RAMP_CONSTANT, 3.0, t, T) == 1.0 * fm);
        assert_true(gpsc_cost_ramp(GPSC_RAMP_LINEAR, 3.0, t, T) == (t + 1) / 4.0 * fm);
        double q = (t + 1) / 4.0;
        assert_true(gpsc_cost_ramp(GPSC_RAMP_QUADRATIC, 3.0, t, T) == q * q * fm);
        assert_true(gpsc_cost_ramp(GPSC_RAMP_FINAL_ONLY, 3.0, t, T) == (t == T - 1 ? 3.0 : 0.0));
    }
    /* double precision, not float32 (correction q3) */
    assert_true(gpsc_cost_ramp(GPSC_RAMP_LINEAR, 1.0, 0, 3) == 1.0 / 3.0);
    gpsc_ramp_t r;
    gpsc_norm_t n;
    assert_int_equal(gpsc_cost_ramp_parse(&r, "final_only"), 0);
    assert_int_equal(r, GPSC_RAMP_FINAL_ONLY);
    assert_int_equal(gpsc_cost_ramp_parse(&r, "cubic"), GPSC_EINVAL);
    assert_int_equal(gpsc_cost_norm_parse(&n, "logl2"), 0);
    assert_int_equal(n, GPSC_NORM_LOGL2);
    assert_int_equal(gpsc_cost_norm_parse(&n, "l2"), 0);
    assert_int_equal(n, GPSC_NORM_L2);
    assert_int_equal(gpsc_cost_norm_parse(&n, NULL), GPSC_EINVAL);
}

/* ---- finite differences ---- */

/* an expansion with its own storage */
typedef struct owned_exp {
    gpsc_cost_exp_t e;
    double *buf;
} owned_exp_t;

static void exp_alloc(owned_exp_t *o, int T, int dX, int dU)
{
    size_t n = (size_t)T * (1 + dX + dU + dX * dX + dU * dU + dU * dX);
    o->buf = calloc(n, sizeof(double));
    assert_non_null(o->buf);
    double *p = o->buf;
    o->e = (gpsc_cost_exp_t){.T = T, .dX = dX, .dU = dU};
    o->e.l = p, p += T;
    o->e.lx = p, p += (size_t)T * dX;
    o->e.lu = p, p += (size_t)T * dU;
    o->e.lxx = p, p += (size_t)T * dX * dX;
    o->e.luu = p, p += (size_t)T * dU * dU;
    o->e.lux = p;
}

/* FK fixture: ee(q) = A q + c (exactly linear, so the zero second
 * derivatives of the kernel are exact) with q = x[t, joint_idx] */
enum { FT = 3, FX = 6, FU = 2, FP = 3, FQ = 3 };
typedef struct fk_fix {
    gpsc_penalty_t pen;
    double A[FP * FQ], c[FP], target[FP], wp[FP];
    int idx[FQ];
} fk_fix_t;

static void fk_eval(const fk_fix_t *f, owned_exp_t *o, const double *x, gpsc_arena_t *a)
{
    double ee[FT * FP], jac[FT * FP * FQ];
    for (int t = 0; t < FT; t++)
        for (int p = 0; p < FP; p++) {
            double s = f->c[p];
            for (int q = 0; q < FQ; q++) {
                s += f->A[p * FQ + q] * x[t * FX + f->idx[q]];
                jac[(t * FP + p) * FQ + q] = f->A[p * FQ + q];
            }
            ee[t * FP + p] = s;
        }
    gpsc_cost_exp_zero(&o->e);
    assert_int_equal(
        gpsc_cost_fk(&o->e, 1.0, &f->pen, ee, jac, f->target, f->wp, f->idx, FP, FQ, a), 0);
}

static void state_eval(const fk_fix_t *f, owned_exp_t *o, const double *x, gpsc_arena_t *a)
{
    gpsc_cost_exp_zero(&o->e);
    assert_int_equal(gpsc_cost_state(&o->e, 1.0, &f->pen, x, f->target, f->wp, f->idx, FQ, a), 0);
}

typedef void (*eval_fn)(const fk_fix_t *f, owned_exp_t *o, const double *x, gpsc_arena_t *a);

/* central differences of l (gradient) and of lx (Hessian) against lx, lxx;
 * also lu, luu, lux are zero */
static void fd_check(const fk_fix_t *f, eval_fn fn, const double *x0)
{
    gpsc_arena_t *a = gpsc_arena_new(gpsc_cost_fk_scratch_size(FP, FQ));
    owned_exp_t o, op, om;
    exp_alloc(&o, FT, FX, FU);
    exp_alloc(&op, FT, FX, FU);
    exp_alloc(&om, FT, FX, FU);
    double x[FT * FX];
    memcpy(x, x0, sizeof x);
    fn(f, &o, x, a);
    const double h = 1e-6;
    double worst_g = 0.0, worst_h = 0.0;
    for (int t = 0; t < FT; t++)
        for (int j = 0; j < FX; j++) {
            x[t * FX + j] = x0[t * FX + j] + h;
            fn(f, &op, x, a);
            x[t * FX + j] = x0[t * FX + j] - h;
            fn(f, &om, x, a);
            x[t * FX + j] = x0[t * FX + j];
            double g = (op.e.l[t] - om.e.l[t]) / (2 * h);
            double an = o.e.lx[t * FX + j];
            double eg = fabs(g - an) / (1.0 + fabs(an));
            worst_g = eg > worst_g ? eg : worst_g;
            for (int i = 0; i < FX; i++) {
                double hh = (op.e.lx[t * FX + i] - om.e.lx[t * FX + i]) / (2 * h);
                double ah = o.e.lxx[(t * FX + i) * FX + j];
                double eh = fabs(hh - ah) / (1.0 + fabs(ah));
                worst_h = eh > worst_h ? eh : worst_h;
            }
            /* other steps do not depend on x_t */
            for (int s = 0; s < FT; s++)
                if (s != t) assert_true(op.e.l[s] == o.e.l[s]);
        }
    if (worst_g > 1e-7 || worst_h > 1e-6)
        print_error("FD mismatch: gradient %.3g, Hessian %.3g\n", worst_g, worst_h);
    assert_true(worst_g <= 1e-7);
    assert_true(worst_h <= 1e-6);
    /* the penalty has curvature: the check is not vacuous */
    double hn = 0.0;
    for (int i = 0; i < FT * FX * FX; i++)
        hn += fabs(o.e.lxx[i]);
    assert_true(hn > 1e-3);
    for (int i = 0; i < FT * FU; i++)
        assert_true(o.e.lu[i] == 0.0);
    for (int i = 0; i < FT * FU * FU; i++)
        assert_true(o.e.luu[i] == 0.0);
    for (int i = 0; i < FT * FU * FX; i++)
        assert_true(o.e.lux[i] == 0.0);
    free(o.buf);
    free(op.buf);
    free(om.buf);
    gpsc_arena_destroy(&a);
}

static void fk_fixture(fk_fix_t *f, double *x, gpsc_norm_t norm, gpsc_ramp_t ramp)
{
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 7, 0, 0, 0, GPSC_RNG_TEST);
    f->pen = (gpsc_penalty_t){
        .norm = norm, .l1 = 0.7, .l2 = 1.3, .alpha = 0.05, .ramp = ramp, .final_mult = 2.5};
    for (int i = 0; i < FP * FQ; i++)
        f->A[i] = gpsc_rng_normal(&r);
    for (int p = 0; p < FP; p++) {
        f->c[p] = gpsc_rng_normal(&r);
        f->target[p] = gpsc_rng_normal(&r);
        f->wp[p] = 0.5 + gpsc_rng_uniform(&r);
    }
    f->idx[0] = 4, f->idx[1] = 1, f->idx[2] = 2; /* not in order on purpose */
    for (int i = 0; i < FT * FX; i++)
        x[i] = 0.5 * gpsc_rng_normal(&r);
}

static void test_fk_finite_differences(void **state)
{
    (void)state;
    fk_fix_t f;
    double x[FT * FX];
    gpsc_norm_t norms[] = {GPSC_NORM_L1L2, GPSC_NORM_LOGL2, GPSC_NORM_L2};
    gpsc_ramp_t ramps[] = {GPSC_RAMP_LINEAR, GPSC_RAMP_QUADRATIC, GPSC_RAMP_CONSTANT};
    for (int i = 0; i < 3; i++) {
        fk_fixture(&f, x, norms[i], ramps[i]);
        fd_check(&f, fk_eval, x);
    }
}

static void test_state_finite_differences(void **state)
{
    (void)state;
    fk_fix_t f;
    double x[FT * FX];
    gpsc_norm_t norms[] = {GPSC_NORM_L1L2, GPSC_NORM_LOGL2, GPSC_NORM_L2};
    for (int i = 0; i < 3; i++) {
        fk_fixture(&f, x, norms[i], GPSC_RAMP_QUADRATIC);
        fd_check(&f, state_eval, x);
    }
}

/* seed 003 appendix B, walker: 0.5 wu |u|^2 + 0.5 wv (v_x - v*)^2 +
 * 0.5 wh (p_y - p*)^2 as three configured terms */
static void test_walker_terms(void **state)
{
    (void)state;
    enum { T = 4, dX = 5, dU = 2 };
    double x[T * dX], u[T * dU];
    for (int i = 0; i < T * dX; i++)
        x[i] = 0.1 * i - 0.7;
    for (int i = 0; i < T * dU; i++)
        u[i] = 0.3 * i - 1.0;
    const int iv = 3, ih = 1;
    const double wu = 1e-4, wv = 1.0, wh = 2.0, vs = 2.1, ps = 1.1;
    gpsc_cost_term_t terms[3];
    memset(terms, 0, sizeof terms);
    terms[0].type = GPSC_COST_ACTION;
    terms[0].weight = 1.0;
    terms[0].n = dU;
    terms[0].wu[0] = terms[0].wu[1] = wu;
    gpsc_penalty_t l2 = {
        .norm = GPSC_NORM_L2, .l2 = 1.0, .ramp = GPSC_RAMP_CONSTANT, .final_mult = 1.0};
    for (int k = 1; k < 3; k++) {
        terms[k].type = GPSC_COST_STATE;
        terms[k].weight = 1.0;
        terms[k].pen = l2;
        terms[k].n = terms[k].nidx = 1;
        terms[k].wp[0] = k == 1 ? wv : wh;
        terms[k].target[0] = k == 1 ? vs : ps;
        terms[k].idx[0] = k == 1 ? iv : ih;
    }
    gpsc_cost_sample_t s = {.T = T, .dX = dX, .dU = dU, .x = x, .u = u};
    owned_exp_t o;
    exp_alloc(&o, T, dX, dU);
    gpsc_arena_t *a = gpsc_arena_new(gpsc_cost_eval_scratch_size(terms, 3, &s));
    assert_int_equal(gpsc_cost_eval(&o.e, terms, 3, &s, a), 0);
    for (int t = 0; t < T; t++) {
        const double *xt = x + t * dX, *ut = u + t * dU;
        double dv = xt[iv] - vs, dh = xt[ih] - ps;
        double l =
            0.5 * wu * (ut[0] * ut[0] + ut[1] * ut[1]) + 0.5 * wv * dv * dv + 0.5 * wh * dh * dh;
        assert_true(fabs(o.e.l[t] - l) <= 1e-14 * (1 + fabs(l)));
        for (int j = 0; j < dX; j++) {
            double g = j == iv ? wv * dv : j == ih ? wh * dh : 0.0;
            assert_true(fabs(o.e.lx[t * dX + j] - g) <= 1e-14 * (1 + fabs(g)));
            for (int k = 0; k < dX; k++) {
                double hjk = j != k ? 0.0 : j == iv ? wv : j == ih ? wh : 0.0;
                assert_true(o.e.lxx[(t * dX + j) * dX + k] == hjk);
            }
        }
        for (int i = 0; i < dU; i++) {
            assert_true(o.e.lu[t * dU + i] == wu * ut[i]);
            assert_true(o.e.luu[(t * dU + i) * dU + i] == wu);
        }
    }
    free(o.buf);
    gpsc_arena_destroy(&a);
}

/* the configured sum rounds exactly like "each term, then sum w_i term_i" */
static void test_eval_sum_is_exact(void **state)
{
    (void)state;
    fk_fix_t f;
    double x[FT * FX], u[FT * FU], ee[FT * FP], jac[FT * FP * FQ];
    fk_fixture(&f, x, GPSC_NORM_LOGL2, GPSC_RAMP_LINEAR);
    for (int i = 0; i < FT * FU; i++)
        u[i] = 0.25 * i - 0.5;
    for (int t = 0; t < FT; t++)
        for (int p = 0; p < FP; p++) {
            ee[t * FP + p] = f.c[p] + 0.1 * t;
            for (int q = 0; q < FQ; q++)
                jac[(t * FP + p) * FQ + q] = f.A[p * FQ + q];
        }
    gpsc_cost_term_t terms[3];
    memset(terms, 0, sizeof terms);
    terms[0].type = GPSC_COST_ACTION;
    terms[0].weight = 0.3;
    terms[0].n = FU;
    terms[0].wu[0] = 1.5, terms[0].wu[1] = 0.25;
    terms[1].type = GPSC_COST_FK;
    terms[1].weight = 1.7;
    terms[1].pen = f.pen;
    terms[1].n = FP;
    terms[1].nidx = FQ;
    memcpy(terms[1].wp, f.wp, sizeof f.wp);
    memcpy(terms[1].target, f.target, sizeof f.target);
    memcpy(terms[1].idx, f.idx, sizeof f.idx);
    terms[2] = terms[1];
    terms[2].type = GPSC_COST_STATE;
    terms[2].weight = 0.9;
    terms[2].pen.norm = GPSC_NORM_L1L2;
    terms[2].n = terms[2].nidx = FQ;
    gpsc_cost_sample_t s = {
        .T = FT, .dX = FX, .dU = FU, .P = FP, .dQ = FQ, .x = x, .u = u, .ee = ee, .jac = jac};
    gpsc_arena_t *a = gpsc_arena_new(gpsc_cost_eval_scratch_size(terms, 3, &s));
    owned_exp_t sum, one[3];
    exp_alloc(&sum, FT, FX, FU);
    assert_int_equal(gpsc_cost_eval(&sum.e, terms, 3, &s, a), 0);
    for (int k = 0; k < 3; k++) {
        exp_alloc(&one[k], FT, FX, FU);
        gpsc_cost_term_t t1 = terms[k];
        t1.weight = 1.0;
        assert_int_equal(gpsc_cost_eval(&one[k].e, &t1, 1, &s, a), 0);
    }
    size_t n = (size_t)FT * (1 + FX + FU + FX * FX + FU * FU + FU * FX);
    for (size_t i = 0; i < n; i++) {
        double ref = 0.0;
        for (int k = 0; k < 3; k++)
            ref += terms[k].weight * one[k].buf[i];
        assert_true(sum.buf[i] == ref);
    }
    assert_int_equal(gpsc_arena_used(a), 0);
    assert_true(gpsc_arena_peak(a) <= gpsc_arena_capacity(a));

    /* bad terms are refused before anything is computed */
    char err[256];
    gpsc_cost_term_t bad = terms[1];
    bad.n = FP - 1;
    assert_int_equal(gpsc_cost_term_check(&bad, &s, err, sizeof err), GPSC_EDIM);
    assert_int_equal(gpsc_cost_eval(&sum.e, &bad, 1, &s, a), GPSC_EDIM);
    bad = terms[2];
    bad.idx[1] = FX;
    assert_int_equal(gpsc_cost_term_check(&bad, &s, err, sizeof err), GPSC_EDIM);
    bad.idx[1] = bad.idx[0];
    assert_int_equal(gpsc_cost_term_check(&bad, &s, err, sizeof err), GPSC_EDIM);
    bad = terms[0];
    bad.weight = NAN;
    assert_int_equal(gpsc_cost_eval(&sum.e, &bad, 1, &s, a), GPSC_ENONFINITE);
    bad = terms[0];
    bad.wu[1] = INFINITY;
    assert_int_equal(gpsc_cost_term_check(&bad, &s, err, sizeof err), GPSC_ENONFINITE);
    bad = terms[1];
    bad.pen.alpha = 0.0;
    assert_int_equal(gpsc_cost_term_check(&bad, &s, err, sizeof err), GPSC_EINVAL);
    assert_true(strlen(err) > 0);
    bad = terms[1];
    bad.target[0] = NAN;
    assert_int_equal(gpsc_cost_term_check(&bad, &s, err, sizeof err), GPSC_ENONFINITE);
    bad.type = (gpsc_cost_type_t)42;
    assert_int_equal(gpsc_cost_term_check(&bad, &s, err, sizeof err), GPSC_EINVAL);
    gpsc_cost_sample_t nofk = s;
    nofk.P = 0;
    nofk.ee = nofk.jac = NULL;
    assert_int_equal(gpsc_cost_term_check(&terms[1], &nofk, err, sizeof err), GPSC_EDIM);
    owned_exp_t wrong;
    exp_alloc(&wrong, FT + 1, FX, FU);
    assert_int_equal(gpsc_cost_eval(&wrong.e, terms, 3, &s, a), GPSC_EDIM);

    /* too small an arena */
    gpsc_arena_t *tiny = gpsc_arena_new(64);
    assert_int_equal(gpsc_cost_eval(&sum.e, terms, 3, &s, tiny), GPSC_ENOSPC);
    assert_int_equal(gpsc_arena_used(tiny), 0);

    gpsc_arena_destroy(&tiny);
    gpsc_arena_destroy(&a);
    free(wrong.buf);
    free(sum.buf);
    for (int k = 0; k < 3; k++)
        free(one[k].buf);
}

/* cost_expand: a quadratic cost expanded around a sample and re-centred at
 * 0 gives back the expansion at 0 */
static void test_expand_recentres(void **state)
{
    (void)state;
    enum { T = 2, dX = 3, dU = 2, N = 3, dXU = dX + dU };
    /* l(y) = c0 + v0.y + 0.5 y^T C y with C symmetric */
    double C[dXU * dXU], v0[dXU], c0 = 0.7;
    for (int i = 0; i < dXU; i++) {
        v0[i] = 0.3 * i - 0.4;
        for (int j = 0; j <= i; j++)
            C[i * dXU + j] = C[j * dXU + i] = (i == j ? 2.0 : 0.1 * (i + j));
    }
    owned_exp_t o[N];
    gpsc_cost_exp_t e[N];
    double X[N * T * dX], U[N * T * dU];
    for (int n = 0; n < N; n++) {
        exp_alloc(&o[n], T, dX, dU);
        for (int t = 0; t < T; t++) {
            double y[dXU];
            for (int i = 0; i < dXU; i++)
                y[i] = 0.2 * (n + 1) * (i - 2) + 0.1 * t;
            memcpy(X + (n * T + t) * dX, y, sizeof(double) * dX);
            memcpy(U + (n * T + t) * dU, y + dX, sizeof(double) * dU);
            /* expansion around y: value, gradient v0 + C y, Hessian C */
            double l = c0, g[dXU];
            for (int i = 0; i < dXU; i++) {
                g[i] = v0[i];
                for (int j = 0; j < dXU; j++)
                    g[i] += C[i * dXU + j] * y[j];
                l += v0[i] * y[i];
                for (int j = 0; j < dXU; j++)
                    l += 0.5 * y[i] * C[i * dXU + j] * y[j];
            }
            o[n].e.l[t] = l;
            for (int i = 0; i < dXU; i++) {
                if (i < dX)
                    o[n].e.lx[t * dX + i] = g[i];
                else
                    o[n].e.lu[t * dU + i - dX] = g[i];
                for (int j = 0; j < dXU; j++) {
                    double c = C[i * dXU + j];
                    if (i < dX && j < dX)
                        o[n].e.lxx[(t * dX + i) * dX + j] = c;
                    else if (i >= dX && j >= dX)
                        o[n].e.luu[(t * dU + i - dX) * dU + j - dX] = c;
                    else if (i >= dX)
                        o[n].e.lux[(t * dU + i - dX) * dX + j] = c;
                }
            }
        }
        e[n] = o[n].e;
    }
    double cc[T], cv[T * dXU], Cm[T * dXU * dXU];
    gpsc_cost_expand(cc, cv, Cm, e, X, U, N);
    for (int t = 0; t < T; t++) {
        assert_true(fabs(cc[t] - c0) < 1e-12);
        for (int i = 0; i < dXU; i++) {
            assert_true(fabs(cv[t * dXU + i] - v0[i]) < 1e-12);
            for (int j = 0; j < dXU; j++)
                assert_true(fabs(Cm[(t * dXU + i) * dXU + j] - C[i * dXU + j]) < 1e-14);
        }
    }
    for (int n = 0; n < N; n++)
        free(o[n].buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_fk_hessian_symmetric),
        cmocka_unit_test(test_vectors_refuse_nonfinite),
        cmocka_unit_test(test_ramps),
        cmocka_unit_test(test_fk_finite_differences),
        cmocka_unit_test(test_state_finite_differences),
        cmocka_unit_test(test_walker_terms),
        cmocka_unit_test(test_eval_sum_is_exact),
        cmocka_unit_test(test_expand_recentres),
    };
    gpsc_la_set_threads(1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
