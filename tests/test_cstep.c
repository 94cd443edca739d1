/* The C-step (learner/cstep.h) against the reference vectors, the KL
 * condition, the reference's eta quirk, NaN/Inf refusal (kernel and
 * gpsc-numerics glue), other horizons through the glue, and the time of a
 * realistic-size C-step at T = 100. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "common/error.h"
#include "common/la.h"
#include "common/vecfile.h"
#include "learner/cstep.h"
#include "learner/kinds.h"
#include "learner/traj.h"
#include "traj_check.h"

/* a C-step problem, its settings and output buffers */
typedef struct fix {
    gpsc_traj_dims_t d;
    gpsc_cstep_problem_t p;
    gpsc_cstep_cfg_t cfg;
    gpsc_traj_lg_t out;
    double *outmem;
    double *trace; /* eta_trace then kl_trace */
    gpsc_arena_t *a;
} fix_t;

static void fix_alloc(fix_t *f)
{
    size_t T = (size_t)f->d.T, dX = (size_t)f->d.dX, dU = (size_t)f->d.dU;
    f->outmem = calloc(T * (dU * dX + dU + 3 * dU * dU), sizeof(double));
    f->trace = calloc(2 * (size_t)f->cfg.max_iterations, sizeof(double));
    f->a = gpsc_arena_new(gpsc_cstep_scratch_size(f->d));
    assert_true(f->outmem && f->trace && f->a);
    f->out.K = f->outmem;
    f->out.k = f->out.K + T * dU * dX;
    f->out.pol_covar = f->out.k + T * dU;
    f->out.inv_pol_covar = f->out.pol_covar + T * dU * dU;
    f->out.chol_pol_covar = f->out.inv_pol_covar + T * dU * dU;
}

static void fix_from_file(fix_t *f, const gpsc_vecfile_t *vf)
{
    memset(f, 0, sizeof *f);
    const gpsc_vecset_t *in = vf->inputs;
    const gpsc_value_t *Fm = val(in, "Fm");
    f->d = (gpsc_traj_dims_t){Fm->shape[0], Fm->shape[1], Fm->shape[2] - Fm->shape[1]};
    f->p.dyn = (gpsc_traj_dyn_t){Fm->data, val(in, "fv")->data, val(in, "dyn_covar")->data,
                                 val(in, "x0mu")->data, val(in, "x0sigma")->data};
    f->p.Cm = val(in, "Cm")->data;
    f->p.cv = val(in, "cv")->data;
    f->p.pref.K = val(in, "pol_K")->data;
    f->p.pref.k = val(in, "pol_k")->data;
    f->p.pref.pol_covar = val(in, "pol_S")->data;
    f->cfg = (gpsc_cstep_cfg_t){val(in, "base_kl_step")->data[0],
                                val(in, "step_mult")->data[0],
                                val(in, "eta_init")->data[0],
                                val(in, "min_eta")->data[0],
                                val(in, "max_eta")->data[0],
                                val(in, "del0")->data[0],
                                (int)val(in, "max_iterations")->data[0]};
    fix_alloc(f);
}

static void fix_free(fix_t *f)
{
    free(f->outmem);
    free(f->trace);
    gpsc_arena_destroy(&f->a);
}

static int run(fix_t *f, gpsc_cstep_result_t *res)
{
    memset(res, 0, sizeof *res);
    res->eta_trace = f->trace;
    res->kl_trace = f->trace + f->cfg.max_iterations;
    return gpsc_cstep(&f->out, res, &f->cfg, &f->p, f->d, f->a);
}

static void check_file(const char *file)
{
    gpsc_vecfile_t *vf = load(file);
    fix_t f;
    fix_from_file(&f, vf);
    gpsc_cstep_result_t res;
    assert_int_equal(run(&f, &res), 0);
    const gpsc_vecset_t *o = vf->outputs;
    assert_int_equal(res.iterations, (int)val(o, "iterations")->data[0]);
    assert_int_equal((int)val(o, "eta_trace")->n, res.iterations);
    expect_close("eta", &res.eta, val(o, "eta"), vf);
    expect_close("kl", &res.kl, val(o, "kl"), vf);
    expect_close("kl_target", &res.kl_target, val(o, "kl_target"), vf);
    expect_close("eta_trace", res.eta_trace, val(o, "eta_trace"), vf);
    expect_close("kl_trace", res.kl_trace, val(o, "kl_trace"), vf);
    expect_close("K", f.out.K, val(o, "K"), vf);
    expect_close("k", f.out.k, val(o, "k"), vf);
    expect_close("pol_covar", f.out.pol_covar, val(o, "pol_covar"), vf);
    expect_close("inv_pol_covar", f.out.inv_pol_covar, val(o, "inv_pol_covar"), vf);
    expect_symmetric(f.out.pol_covar, f.d.dU, f.d.T);
    expect_symmetric(f.out.inv_pol_covar, f.d.dU, f.d.T);
    /* the constraint is met within 10% (the convergence test) */
    assert_true(res.converged);
    assert_true(fabs(res.kl - res.kl_target) <= 0.1 * res.kl_target);
    /* converged: eta is the last one tried */
    assert_true(res.eta == res.eta_trace[res.iterations - 1]);
    assert_int_equal(gpsc_arena_used(f.a), 0);
    fix_free(&f);
    gpsc_vecfile_destroy(&vf);
}

static void test_small(void **state)
{
    (void)state;
    check_file("cstep_small.json");
}

static void test_realistic(void **state)
{
    (void)state;
    check_file("cstep_realistic.json");
}

/* out of iterations: eta is the next, untried value (reference quirk), the
 * controller and KL are those of the last pass */
static void test_quirk(void **state)
{
    (void)state;
    gpsc_vecfile_t *vf = load("cstep_small.json");
    fix_t f;
    fix_from_file(&f, vf);
    f.cfg.max_iterations = 2;
    gpsc_cstep_result_t res;
    assert_int_equal(run(&f, &res), 0);
    assert_false(res.converged);
    assert_int_equal(res.iterations, 2);
    const double *et = val(vf->outputs, "eta_trace")->data;
    const double *kt = val(vf->outputs, "kl_trace")->data;
    gpsc_cmp_t c;
    gpsc_vec_compare(&c, res.eta_trace, et, 2, vf->rtol, vf->atol);
    assert_true(c.pass);
    /* the eta after the loop is the third value of the full run's trace */
    gpsc_vec_compare(&c, &res.eta, &et[2], 1, vf->rtol, vf->atol);
    assert_true(c.pass);
    gpsc_vec_compare(&c, &res.kl, &kt[1], 1, vf->rtol, vf->atol);
    assert_true(c.pass);
    assert_true(res.eta != res.eta_trace[1]);
    fix_free(&f);
    gpsc_vecfile_destroy(&vf);
}

static void test_bad_cfg(void **state)
{
    (void)state;
    gpsc_vecfile_t *vf = load("cstep_small.json");
    fix_t f;
    fix_from_file(&f, vf);
    gpsc_cstep_result_t res;
    gpsc_cstep_cfg_t keep = f.cfg;
    f.cfg.max_iterations = 0;
    assert_int_equal(run(&f, &res), GPSC_EINVAL);
    f.cfg = keep;
    f.cfg.min_eta = 2 * f.cfg.max_eta;
    assert_int_equal(run(&f, &res), GPSC_EINVAL);
    f.cfg = keep;
    f.cfg.base_kl_step = -1;
    assert_int_equal(run(&f, &res), GPSC_EINVAL);
    f.cfg = keep;
    f.cfg.eta_init = NAN;
    assert_int_equal(run(&f, &res), GPSC_ENONFINITE);
    f.cfg = keep;
    f.cfg.step_mult = INFINITY;
    assert_int_equal(run(&f, &res), GPSC_ENONFINITE);
    f.cfg = keep;
    /* pol_S not PD */
    double k0 = f.p.pref.pol_covar[0];
    f.p.pref.pol_covar[0] = -1;
    assert_int_equal(run(&f, &res), GPSC_ENOTPD);
    f.p.pref.pol_covar[0] = k0;
    assert_int_equal(run(&f, &res), 0);
    fix_free(&f);
    gpsc_vecfile_destroy(&vf);
}

/* NaN/Inf in any input array is refused by the kernel and nothing
 * non-finite comes out */
static void test_nonfinite(void **state)
{
    (void)state;
    gpsc_vecfile_t *vf = load("cstep_small.json");
    fix_t f;
    fix_from_file(&f, vf);
    const char *names[] = {"Fm", "fv", "dyn_covar", "x0mu",  "x0sigma",
                           "Cm", "cv", "pol_K",     "pol_k", "pol_S"};
    size_t nout = (size_t)f.d.T * ((size_t)f.d.dU * f.d.dX + f.d.dU + 3 * (size_t)f.d.dU * f.d.dU);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (int b = 0; b < 2; b++) {
            double *x = val(vf->inputs, names[i])->data;
            double keep = x[1];
            x[1] = b ? -INFINITY : NAN;
            memset(f.outmem, 0, sizeof(double) * nout);
            gpsc_cstep_result_t res;
            int rc = run(&f, &res);
            x[1] = keep;
            if (rc != GPSC_ENONFINITE) fail_msg("%s: rc %d (%s)", names[i], rc, gpsc_errname(rc));
            assert_true(gpsc_la_all_finite(f.outmem, nout));
            assert_int_equal(res.iterations, 0);
        }
    fix_free(&f);
    gpsc_vecfile_destroy(&vf);
}

static gpsc_kind_fn kind(const char *name)
{
    for (const gpsc_kind_entry_t *e = gpsc_kinds_traj; e->kind; e++)
        if (strcmp(e->kind, name) == 0) return e->fn;
    fail_msg("kind %s missing", name);
    return NULL;
}

/* the glue refuses NaN/Inf in every input of every trajectory kind */
static void test_glue_nonfinite(void **state)
{
    (void)state;
    const char *files[] = {"cstep_small.json",         "lqr_backward_small.json",
                           "traj_forward_small.json",  "traj_kl_small.json",
                           "laplace_cost_small.json",  "step_adjust_global_mc.json",
                           "step_adjust_classic.json", "init_lqr_small.json"};
    for (size_t fi = 0; fi < sizeof files / sizeof files[0]; fi++) {
        gpsc_vecfile_t *vf = load(files[fi]);
        gpsc_kind_fn fn = kind(vf->kind);
        /* the unmodified file works */
        gpsc_vecset_t *out = gpsc_vecset_new();
        char err[512] = "";
        int rc0 = fn(vf->inputs, out, err, sizeof err);
        if (rc0) fail_msg("%s: %s", files[fi], err);
        gpsc_vecset_destroy(&out);
        for (size_t i = 0; i < gpsc_vecset_count(vf->inputs); i++) {
            const gpsc_value_t *v = gpsc_vecset_at(vf->inputs, i);
            bool count = strcmp(v->name, "max_iterations") == 0 || strcmp(v->name, "dU") == 0 ||
                         strcmp(v->name, "T") == 0;
            if ((v->type != GPSC_V_ARRAY && v->type != GPSC_V_SCALAR) || count)
                continue; /* strings and counts */
            size_t idx = v->n - 1;
            double keep = v->data[idx];
            for (int b = 0; b < 2; b++) {
                v->data[idx] = b ? INFINITY : NAN;
                out = gpsc_vecset_new();
                int rc = fn(vf->inputs, out, err, sizeof err);
                gpsc_vecset_destroy(&out);
                if (rc != GPSC_ENONFINITE)
                    fail_msg("%s: %s = %g: rc %d (%s)", files[fi], v->name, v->data[idx], rc, err);
            }
            v->data[idx] = keep;
        }
        gpsc_vecfile_destroy(&vf);
    }
}

/* the glue takes sizes from the shapes: a cut-down horizon runs and agrees
 * with the kernel on the same data */
static void test_glue_other_horizon(void **state)
{
    (void)state;
    gpsc_vecfile_t *vf = load("cstep_small.json");
    const gpsc_vecset_t *in = vf->inputs;
    int T2 = 6;
    gpsc_vecset_t *cut = gpsc_vecset_new();
    for (size_t i = 0; i < gpsc_vecset_count(in); i++) {
        const gpsc_value_t *v = gpsc_vecset_at(in, i);
        if (v->type == GPSC_V_ARRAY) {
            int shape[GPSC_VEC_MAXDIM];
            memcpy(shape, v->shape, sizeof shape);
            bool per_t = strcmp(v->name, "x0mu") != 0 && strcmp(v->name, "x0sigma") != 0;
            if (per_t) shape[0] = T2;
            assert_int_equal(gpsc_vecset_put_array(cut, v->name, v->data, v->ndim, shape), 0);
        } else if (strcmp(v->name, "max_iterations") == 0) {
            assert_int_equal(gpsc_vecset_put_int(cut, v->name, v->ival), 0);
        } else {
            assert_int_equal(gpsc_vecset_put_scalar(cut, v->name, v->data[0]), 0);
        }
    }
    gpsc_vecset_t *out = gpsc_vecset_new();
    char err[512] = "";
    int rc = kind("cstep")(cut, out, err, sizeof err);
    if (rc) fail_msg("%s", err);
    fix_t f;
    fix_from_file(&f, vf);
    fix_free(&f);
    f.d.T = T2;
    fix_alloc(&f);
    gpsc_cstep_result_t res;
    assert_int_equal(run(&f, &res), 0);
    const gpsc_value_t *K = gpsc_vecset_find(out, "K");
    assert_non_null(K);
    assert_int_equal(K->shape[0], T2);
    assert_memory_equal(K->data, f.out.K, sizeof(double) * K->n);
    const gpsc_value_t *it = gpsc_vecset_find(out, "iterations");
    assert_int_equal(it->ival, res.iterations);
    const gpsc_value_t *kt = gpsc_vecset_find(out, "kl_target");
    assert_true(kt->data[0] == 1.0 * T2);
    fix_free(&f);
    gpsc_vecset_destroy(&out);
    gpsc_vecset_destroy(&cut);
    gpsc_vecfile_destroy(&vf);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* dX = 26, dU = 7, T = 100 built by tiling the realistic T = 30 case
 * (dynamics rows 0..28, cost and policy rows 0..29) */
static void test_time_T100(void **state)
{
    (void)state;
    gpsc_vecfile_t *vf = load("cstep_realistic.json");
    fix_t src;
    fix_from_file(&src, vf);
    fix_free(&src);
    int T = 100, T0 = src.d.T, dX = src.d.dX, dU = src.d.dU, n = dX + dU;
    struct {
        const double *from;
        size_t row;
        int period;
        double *to;
    } a[] = {{src.p.dyn.Fm, (size_t)dX * n, T0 - 1, NULL},
             {src.p.dyn.fv, (size_t)dX, T0 - 1, NULL},
             {src.p.dyn.dyn_covar, (size_t)dX * dX, T0 - 1, NULL},
             {src.p.Cm, (size_t)n * n, T0, NULL},
             {src.p.cv, (size_t)n, T0, NULL},
             {src.p.pref.K, (size_t)dU * dX, T0, NULL},
             {src.p.pref.k, (size_t)dU, T0, NULL},
             {src.p.pref.pol_covar, (size_t)dU * dU, T0, NULL}};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        a[i].to = malloc(sizeof(double) * a[i].row * (size_t)T);
        for (int t = 0; t < T; t++)
            memcpy(a[i].to + (size_t)t * a[i].row, a[i].from + (size_t)(t % a[i].period) * a[i].row,
                   sizeof(double) * a[i].row);
    }
    fix_t f = src;
    f.d.T = T;
    f.p.dyn.Fm = a[0].to;
    f.p.dyn.fv = a[1].to;
    f.p.dyn.dyn_covar = a[2].to;
    f.p.Cm = a[3].to;
    f.p.cv = a[4].to;
    f.p.pref.K = a[5].to;
    f.p.pref.k = a[6].to;
    f.p.pref.pol_covar = a[7].to;
    fix_alloc(&f);
    /* a few step sizes and starting etas, so the search takes several passes */
    const double mults[] = {0.5, 1.0, 2.0}, etas[] = {1.0, 0.01};
    for (int si = 0; si < 3; si++)
        for (int ei = 0; ei < 2; ei++) {
            f.cfg.step_mult = mults[si];
            f.cfg.eta_init = etas[ei];
            gpsc_cstep_result_t res;
            double best = 1e9;
            int reps = 3;
            for (int r = 0; r < reps; r++) {
                double t0 = now();
                assert_int_equal(run(&f, &res), 0);
                double dt = now() - t0;
                best = dt < best ? dt : best;
            }
            assert_true(res.converged);
            assert_true(fabs(res.kl - res.kl_target) <= 0.1 * res.kl_target);
            print_message("C-step dX=%d dU=%d T=%d step_mult %.1f eta_init %g: %d passes, "
                          "%d bumps, eta %.4g, kl %.2f / %.0f, %.2f ms (%.3f ms per pass)\n",
                          dX, dU, T, mults[si], etas[ei], res.iterations, res.n_bumps, res.eta,
                          res.kl, res.kl_target, best * 1e3, best * 1e3 / res.iterations);
        }
    fix_free(&f);
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        free(a[i].to);
    gpsc_vecfile_destroy(&vf);
}

int main(void)
{
    gpsc_la_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small),
        cmocka_unit_test(test_realistic),
        cmocka_unit_test(test_quirk),
        cmocka_unit_test(test_bad_cfg),
        cmocka_unit_test(test_nonfinite),
        cmocka_unit_test(test_glue_nonfinite),
        cmocka_unit_test(test_glue_other_horizon),
        cmocka_unit_test(test_time_T100),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
