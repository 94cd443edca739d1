/* LQR backward pass (learner/lqr.h) against the reference vectors, plus
 * exact symmetry, the non-PD fallback, the eta limit, the extra-term hook
 * and refusal of NaN/Inf inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/error.h"
#include "common/la.h"
#include "common/vecfile.h"
#include "learner/lqr.h"
#include "learner/traj.h"
#include "traj_check.h"

/* the loaded problem plus output buffers */
typedef struct fixture {
    gpsc_vecfile_t *vf;
    gpsc_traj_dims_t d;
    gpsc_traj_quad_t pref;
    double *qmem;
    gpsc_lqr_problem_t p;
    gpsc_traj_lg_t out;
    double *outmem;
    gpsc_arena_t *arena;
    double eta, del0;
} fixture_t;

static void fixture_load(fixture_t *f, const char *file)
{
    memset(f, 0, sizeof *f);
    f->vf = load(file);
    const gpsc_vecset_t *in = f->vf->inputs;
    const gpsc_value_t *Fm = val(in, "Fm");
    f->d.T = Fm->shape[0];
    f->d.dX = Fm->shape[1];
    f->d.dU = Fm->shape[2] - Fm->shape[1];
    f->arena = gpsc_arena_new(gpsc_lqr_backward_scratch_size(f->d) +
                              gpsc_traj_quad_build_scratch_size(f->d));
    assert_non_null(f->arena);
    f->qmem = malloc(sizeof(double) * gpsc_traj_quad_doubles(f->d));
    assert_non_null(f->qmem);
    gpsc_traj_quad_layout(&f->pref, f->qmem, f->d);
    gpsc_traj_lg_t pol = {.K = val(in, "pol_K")->data,
                          .k = val(in, "pol_k")->data,
                          .pol_covar = val(in, "pol_S")->data};
    assert_int_equal(gpsc_traj_quad_build(&f->pref, &pol, f->d, f->arena), 0);
    f->p.Fm = Fm->data;
    f->p.fv = val(in, "fv")->data;
    f->p.Cm = val(in, "Cm")->data;
    f->p.cv = val(in, "cv")->data;
    f->p.pref = &f->pref;
    f->eta = val(in, "eta")->data[0];
    f->del0 = val(in, "del0")->data[0];
    size_t T = (size_t)f->d.T, dX = (size_t)f->d.dX, dU = (size_t)f->d.dU;
    f->outmem = calloc(T * (dU * dX + dU + 3 * dU * dU), sizeof(double));
    assert_non_null(f->outmem);
    f->out.K = f->outmem;
    f->out.k = f->out.K + T * dU * dX;
    f->out.pol_covar = f->out.k + T * dU;
    f->out.inv_pol_covar = f->out.pol_covar + T * dU * dU;
    f->out.chol_pol_covar = f->out.inv_pol_covar + T * dU * dU;
}

static void fixture_free(fixture_t *f)
{
    gpsc_vecfile_destroy(&f->vf);
    gpsc_arena_destroy(&f->arena);
    free(f->qmem);
    free(f->outmem);
}

static void check_file(const char *file, int want_bumps)
{
    fixture_t f;
    fixture_load(&f, file);
    double eta_used = 0;
    int nb = -1;
    int rc = gpsc_lqr_backward(&f.out, &eta_used, &nb, &f.p, f.eta, f.del0, f.d, f.arena);
    assert_int_equal(rc, 0);
    const gpsc_vecset_t *o = f.vf->outputs;
    assert_int_equal(nb, (int)val(o, "n_bumps")->data[0]);
    assert_int_equal(nb, want_bumps);
    assert_true(eta_used == val(o, "eta_used")->data[0]);
    expect_close("K", f.out.K, val(o, "K"), f.vf);
    expect_close("k", f.out.k, val(o, "k"), f.vf);
    expect_close("pol_covar", f.out.pol_covar, val(o, "pol_covar"), f.vf);
    expect_close("inv_pol_covar", f.out.inv_pol_covar, val(o, "inv_pol_covar"), f.vf);
    expect_close("chol_pol_covar", f.out.chol_pol_covar, val(o, "chol_pol_covar"), f.vf);
    /* meant-to-be-symmetric outputs are exactly symmetric */
    expect_symmetric(f.out.pol_covar, f.d.dU, f.d.T);
    expect_symmetric(f.out.inv_pol_covar, f.d.dU, f.d.T);
    /* the quad of the reference policy is exactly symmetric too */
    expect_symmetric(f.pref.M, f.d.dX + f.d.dU, f.d.T);
    /* the kernel leaves the arena as it found it */
    assert_int_equal(gpsc_arena_used(f.arena), 0);
    fixture_free(&f);
}

static void test_small(void **state)
{
    (void)state;
    check_file("lqr_backward_small.json", 0);
}

static void test_realistic(void **state)
{
    (void)state;
    check_file("lqr_backward_realistic.json", 0);
}

/* eta0 = 1e-3, del0 = 1e-4: 15 failed passes, eta_used = 1e-3 + 1e-4 2^14 */
static void test_nonpd(void **state)
{
    (void)state;
    check_file("lqr_backward_nonpd.json", 15);
}

/* Vxx from gpsc_lqr_step is exactly symmetric, and the step agrees with a
 * direct computation of K = -Quu^-1 Qux */
static void test_step_symmetry(void **state)
{
    (void)state;
    enum { dX = 5, dU = 3, n = dX + dU };
    double Qtt[n * n], Qt[n], K[dU * dX], k[dU], S[dU * dU], P[dU * dU], C[dU * dU];
    double Vxx[dX * dX], Vx[dX];
    /* a random, not quite symmetric Qtt with a PD action block */
    unsigned s = 12345;
    for (int i = 0; i < n * n; i++) {
        s = s * 1103515245u + 12345u;
        Qtt[i] = ((double)(s >> 8) / 16777216.0 - 0.5) * 3.7;
    }
    for (int i = 0; i < n; i++) {
        Qtt[i * n + i] += 10.0;
        Qt[i] = 0.1 * i - 0.3;
    }
    double Q0[n * n];
    memcpy(Q0, Qtt, sizeof Qtt);
    gpsc_arena_t *a = gpsc_arena_new(gpsc_lqr_step_scratch_size(dX, dU));
    assert_int_equal(gpsc_lqr_step(K, k, S, P, C, Vxx, Vx, Qtt, Qt, dX, dU, a), 0);
    expect_symmetric(Vxx, dX, 1);
    expect_symmetric(S, dU, 1);
    expect_symmetric(P, dU, 1);
    /* check Quu K = -Qux with the symmetrised Q */
    for (int i = 0; i < dU; i++)
        for (int j = 0; j < dX; j++) {
            double r = 0.5 * (Q0[(dX + i) * n + j] + Q0[j * n + dX + i]);
            for (int l = 0; l < dU; l++)
                r += 0.5 * (Q0[(dX + i) * n + dX + l] + Q0[(dX + l) * n + dX + i]) * K[l * dX + j];
            assert_true(fabs(r) < 1e-12);
        }
    /* S P = I */
    for (int i = 0; i < dU; i++)
        for (int j = 0; j < dU; j++) {
            double r = 0;
            for (int l = 0; l < dU; l++)
                r += S[i * dU + l] * P[l * dU + j];
            assert_true(fabs(r - (i == j)) < 1e-12);
        }
    gpsc_arena_destroy(&a);
}

/* a problem no finite eta can make PD: -log pi_ref is nearly flat (huge
 * pol_S) and the cost is concave in u, so Quu = -1/eta + 1e-20. The pass
 * must stop once eta would reach 1e16 and say how often it bumped. */
static void test_eta_limit(void **state)
{
    (void)state;
    enum { T = 3, dX = 2, dU = 1, n = dX + dU };
    gpsc_traj_dims_t d = {T, dX, dU};
    double Fm[T * dX * n] = {0}, fv[T * dX] = {0}, Cm[T * n * n] = {0}, cv[T * n] = {0};
    double pK[T * dU * dX] = {0}, pk[T * dU] = {0}, pS[T * dU * dU];
    for (int t = 0; t < T; t++) {
        Cm[t * n * n + (n - 1) * n + (n - 1)] = -1.0;
        Cm[t * n * n] = Cm[t * n * n + n + 1] = 1.0;
        pS[t] = 1e20;
    }
    double qmem[T * (n * n + n + 2)];
    gpsc_traj_quad_t q;
    gpsc_traj_quad_layout(&q, qmem, d);
    gpsc_arena_t *a =
        gpsc_arena_new(gpsc_lqr_backward_scratch_size(d) + gpsc_traj_quad_build_scratch_size(d));
    gpsc_traj_lg_t pol = {.K = pK, .k = pk, .pol_covar = pS};
    assert_int_equal(gpsc_traj_quad_build(&q, &pol, d, a), 0);
    double K[T * dU * dX], k[T * dU], S[T], P[T], C[T];
    gpsc_traj_lg_t out = {K, k, S, P, C};
    gpsc_lqr_problem_t p = {.Fm = Fm, .fv = fv, .Cm = Cm, .cv = cv, .pref = &q};
    double eta_used;
    int nb;
    int rc = gpsc_lqr_backward(&out, &eta_used, &nb, &p, 1.0, 1e-4, d, a);
    assert_int_equal(rc, GPSC_ENOTPD);
    /* the same sequence by hand: eta0 + del, del doubling, stop at 1e16 */
    double eta = 1.0, del = 1e-4;
    int want = 0;
    for (;;) {
        want++;
        eta = 1.0 + del;
        del *= 2;
        if (eta >= 1e16) break;
    }
    assert_int_equal(nb, want);
    assert_true(eta_used == eta);
    assert_true(eta_used >= GPSC_LQR_ETA_LIMIT);
    gpsc_arena_destroy(&a);
}

/* the extra per-step term enters exactly like cost: (Cm + E, cv + e) with
 * no extra gives bitwise the same controller */
static void test_extra_terms(void **state)
{
    (void)state;
    fixture_t f;
    fixture_load(&f, "lqr_backward_small.json");
    size_t T = (size_t)f.d.T, n = (size_t)(f.d.dX + f.d.dU);
    size_t nout = T * ((size_t)f.d.dU * f.d.dX + f.d.dU + 3 * (size_t)f.d.dU * f.d.dU);
    double *E = malloc(sizeof(double) * T * n * n), *e = malloc(sizeof(double) * T * n);
    double *C2 = malloc(sizeof(double) * T * n * n), *c2 = malloc(sizeof(double) * T * n);
    for (size_t i = 0; i < T * n * n; i++) {
        E[i] = 0.01 * (double)((i * 7) % 13);
        C2[i] = f.p.Cm[i] + E[i];
    }
    for (size_t i = 0; i < T * n; i++) {
        e[i] = 0.02 * (double)((i * 5) % 11) - 0.1;
        c2[i] = f.p.cv[i] + e[i];
    }
    /* symmetric extra Hessian */
    for (size_t t = 0; t < T; t++)
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < i; j++) {
                E[t * n * n + i * n + j] = E[t * n * n + j * n + i];
                C2[t * n * n + i * n + j] =
                    f.p.Cm[t * n * n + i * n + j] + E[t * n * n + i * n + j];
            }
    double eta_a, eta_b;
    int nb_a, nb_b;
    gpsc_lqr_problem_t pa = f.p;
    pa.extra_Cm = E;
    pa.extra_cv = e;
    assert_int_equal(gpsc_lqr_backward(&f.out, &eta_a, &nb_a, &pa, f.eta, f.del0, f.d, f.arena), 0);
    double *first = malloc(sizeof(double) * nout);
    memcpy(first, f.outmem, sizeof(double) * nout);
    gpsc_lqr_problem_t pb = f.p;
    pb.Cm = C2;
    pb.cv = c2;
    assert_int_equal(gpsc_lqr_backward(&f.out, &eta_b, &nb_b, &pb, f.eta, f.del0, f.d, f.arena), 0);
    assert_true(eta_a == eta_b);
    assert_int_equal(nb_a, nb_b);
    assert_memory_equal(first, f.outmem, sizeof(double) * nout);
    /* and the extra term did change the controller */
    assert_int_equal(gpsc_lqr_backward(&f.out, &eta_b, &nb_b, &f.p, f.eta, f.del0, f.d, f.arena),
                     0);
    assert_true(memcmp(first, f.outmem, sizeof(double) * nout) != 0);
    free(first);
    free(E);
    free(e);
    free(C2);
    free(c2);
    fixture_free(&f);
}

/* NaN or Inf anywhere the pass reads: refused, nothing written */
static void test_nonfinite(void **state)
{
    (void)state;
    fixture_t f;
    fixture_load(&f, "lqr_backward_small.json");
    size_t T = (size_t)f.d.T, dX = (size_t)f.d.dX, n = dX + (size_t)f.d.dU;
    size_t nout = T * ((size_t)f.d.dU * dX + f.d.dU + 3 * (size_t)f.d.dU * f.d.dU);
    struct {
        double *a;
        size_t len;
    } arrays[] = {{(double *)f.p.Fm, (T - 1) * dX * n},
                  {(double *)f.p.fv, (T - 1) * dX},
                  {(double *)f.p.Cm, T * n * n},
                  {(double *)f.p.cv, T * n},
                  {f.pref.M, T * n * n},
                  {f.pref.v, T * n}};
    const double bad[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        for (size_t b = 0; b < 3; b++)
            for (size_t where = 0; where < 3; where++) {
                size_t idx = where == 0 ? 0 : where == 1 ? arrays[i].len / 2 : arrays[i].len - 1;
                double keep = arrays[i].a[idx];
                arrays[i].a[idx] = bad[b];
                memset(f.outmem, 0, sizeof(double) * nout);
                double eta_used;
                int nb;
                int rc =
                    gpsc_lqr_backward(&f.out, &eta_used, &nb, &f.p, f.eta, f.del0, f.d, f.arena);
                arrays[i].a[idx] = keep;
                if (rc != GPSC_ENONFINITE)
                    fail_msg("array %zu element %zu value %g: rc %d", i, idx, bad[b], rc);
                assert_true(gpsc_la_all_finite(f.outmem, nout));
            }
    /* bad eta / del0 */
    double eta_used;
    int nb;
    assert_int_equal(gpsc_lqr_backward(&f.out, &eta_used, &nb, &f.p, NAN, f.del0, f.d, f.arena),
                     GPSC_ENONFINITE);
    assert_int_equal(gpsc_lqr_backward(&f.out, &eta_used, &nb, &f.p, f.eta, INFINITY, f.d, f.arena),
                     GPSC_ENONFINITE);
    assert_int_equal(gpsc_lqr_backward(&f.out, &eta_used, &nb, &f.p, -1.0, f.del0, f.d, f.arena),
                     GPSC_EINVAL);
    /* too small an arena */
    gpsc_arena_t *tiny = gpsc_arena_new(64);
    assert_int_equal(gpsc_lqr_backward(&f.out, &eta_used, &nb, &f.p, f.eta, f.del0, f.d, tiny),
                     GPSC_ENOSPC);
    gpsc_arena_destroy(&tiny);
    fixture_free(&f);
}

/* the previous-controller quad used by trajectory optimisation equals the
 * explicit formula with P = S^-1 */
static void test_quad_formula(void **state)
{
    (void)state;
    fixture_t f;
    fixture_load(&f, "lqr_backward_realistic.json");
    const gpsc_vecset_t *in = f.vf->inputs;
    const double *K = val(in, "pol_K")->data, *k = val(in, "pol_k")->data,
                 *S = val(in, "pol_S")->data;
    int dX = f.d.dX, dU = f.d.dU, n = dX + dU;
    double P[64], PK[64 * 64];
    assert_true(dU <= 8 && dX <= 64);
    for (int t = 0; t < f.d.T; t++) {
        assert_int_equal(gpsc_la_spd_inv(P, S + (size_t)t * dU * dU, dU), 0);
        const double *Kt = K + (size_t)t * dU * dX, *kt = k + (size_t)t * dU;
        gpsc_la_gemm(PK, P, Kt, dU, dX, dU, false, false, 1.0, 0.0);
        const double *M = f.pref.M + (size_t)t * n * n, *v = f.pref.v + (size_t)t * n;
        double scale = 0;
        for (int i = 0; i < n * n; i++)
            scale = fmax(scale, fabs(M[i]));
        for (int i = 0; i < dX; i++) {
            for (int j = 0; j < dX; j++) {
                double r = 0;
                for (int l = 0; l < dU; l++)
                    r += Kt[l * dX + i] * PK[l * dX + j];
                assert_true(fabs(M[i * n + j] - r) <= 1e-10 * scale);
            }
            for (int j = 0; j < dU; j++)
                assert_true(fabs(M[i * n + dX + j] + PK[j * dX + i]) <= 1e-10 * scale);
            double r = 0;
            for (int l = 0; l < dU; l++)
                r += PK[l * dX + i] * kt[l];
            assert_true(fabs(v[i] - r) <= 1e-10 * (1 + fabs(r)) * scale);
        }
        for (int i = 0; i < dU; i++)
            for (int j = 0; j < dU; j++)
                assert_true(fabs(M[(dX + i) * n + dX + j] - P[i * dU + j]) <= 1e-10 * scale);
    }
    fixture_free(&f);
}

int main(void)
{
    gpsc_la_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small),     cmocka_unit_test(test_realistic),
        cmocka_unit_test(test_nonpd),     cmocka_unit_test(test_step_symmetry),
        cmocka_unit_test(test_eta_limit), cmocka_unit_test(test_extra_terms),
        cmocka_unit_test(test_nonfinite), cmocka_unit_test(test_quad_formula),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
