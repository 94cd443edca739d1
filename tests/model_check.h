/* model_check.h — helpers shared by the learner "model" tests (test_cost,
 * test_gmm, test_dynamics, test_policy_prior): run a reference-vector file
 * through its kind function from learner/kinds_model.c and compare, check
 * exact symmetry of outputs, check refusal of non-finite inputs.
 * Header-only (static functions); include it after <cmocka.h>. */
#ifndef GPSC_TESTS_MODEL_CHECK_H
#define GPSC_TESTS_MODEL_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/vecfile.h"
#include "learner/kinds.h"

/* The reference file tests/data/reference/NAME, loaded (fails the test if
 * it cannot be). */
static gpsc_vecfile_t *mc_load(const char *name)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/reference/%s", GPSC_TEST_DATA, name);
    gpsc_vecfile_t *vf = gpsc_vecfile_load(path, err, sizeof err);
    if (!vf) print_error("%s\n", err);
    assert_non_null(vf);
    return vf;
}

static gpsc_kind_fn mc_kind(const char *kind)
{
    for (const gpsc_kind_entry_t *e = gpsc_kinds_model; e->kind; e++)
        if (strcmp(e->kind, kind) == 0) return e->fn;
    return NULL;
}

/* Runs the file's kind on its inputs; returns the outputs or NULL with
 * *rc set (err gets the kind's message). */
static gpsc_vecset_t *mc_compute(const gpsc_vecfile_t *vf, int *rc, char *err, size_t errsz)
{
    gpsc_kind_fn fn = mc_kind(vf->kind);
    assert_non_null(fn);
    gpsc_vecset_t *out = gpsc_vecset_new();
    assert_non_null(out);
    err[0] = '\0';
    *rc = fn(vf->inputs, out, err, errsz);
    if (*rc) gpsc_vecset_destroy(&out);
    return out;
}

/* Loads NAME, computes it, and checks every expected output under the
 * file's tolerances (counts exactly, arrays with their shapes). Returns
 * the computed set (caller destroys) and the file through *vfp. */
static gpsc_vecset_t *mc_check_vector_keep(const char *name, gpsc_vecfile_t **vfp)
{
    gpsc_vecfile_t *vf = mc_load(name);
    char err[512];
    int rc;
    gpsc_vecset_t *got = mc_compute(vf, &rc, err, sizeof err);
    if (rc) print_error("%s: %s: %s\n", name, gpsc_strerror(rc), err);
    assert_int_equal(rc, 0);
    for (size_t i = 0; i < gpsc_vecset_count(vf->outputs); i++) {
        const gpsc_value_t *e = gpsc_vecset_at(vf->outputs, i);
        const gpsc_value_t *g = gpsc_vecset_find(got, e->name);
        if (!g) print_error("%s: output %s missing\n", name, e->name);
        assert_non_null(g);
        if (e->type == GPSC_V_ARRAY) {
            assert_int_equal(g->type, GPSC_V_ARRAY);
            assert_int_equal(g->ndim, e->ndim);
            for (int d = 0; d < e->ndim; d++)
                assert_int_equal(g->shape[d], e->shape[d]);
            gpsc_cmp_t c;
            gpsc_vec_compare(&c, g->data, e->data, e->n, vf->rtol, vf->atol);
            if (!c.pass)
                print_error("%s: %s[%zu] got %.17g expected %.17g\n", name, e->name, c.worst_index,
                            g->data[c.worst_index], e->data[c.worst_index]);
            assert_true(c.pass);
        } else if (g->type == GPSC_V_INT) {
            if ((double)g->ival != e->data[0])
                print_error("%s: %s got %lld expected %.17g\n", name, e->name, g->ival, e->data[0]);
            assert_true((double)g->ival == e->data[0]);
        } else {
            assert_int_equal(g->type, GPSC_V_SCALAR);
            gpsc_cmp_t c;
            gpsc_vec_compare(&c, g->data, e->data, 1, vf->rtol, vf->atol);
            if (!c.pass)
                print_error("%s: %s got %.17g expected %.17g\n", name, e->name, g->data[0],
                            e->data[0]);
            assert_true(c.pass);
        }
    }
    *vfp = vf;
    return got;
}

static void mc_check_vector(const char *name)
{
    gpsc_vecfile_t *vf;
    gpsc_vecset_t *got = mc_check_vector_keep(name, &vf);
    gpsc_vecset_destroy(&got);
    gpsc_vecfile_destroy(&vf);
}

/* Output `name` of `set` is a stack of square matrices (last two axes),
 * each EXACTLY symmetric. */
static void mc_assert_symmetric(const gpsc_vecset_t *set, const char *name)
{
    const gpsc_value_t *v = gpsc_vecset_find(set, name);
    assert_non_null(v);
    assert_true(v->ndim >= 2);
    int n = v->shape[v->ndim - 1];
    assert_int_equal(v->shape[v->ndim - 2], n);
    size_t nmat = v->n / ((size_t)n * n);
    for (size_t m = 0; m < nmat; m++) {
        const double *A = v->data + m * n * n;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++)
                if (A[i * n + j] != A[j * n + i]) {
                    print_error("%s[%zu] not symmetric at (%d,%d): %.17g vs %.17g\n", name, m, i, j,
                                A[i * n + j], A[j * n + i]);
                    fail();
                }
    }
}

/* Loads NAME, sets input `input`[idx] = value (NaN or Inf) and checks that
 * the kind refuses it with GPSC_ENONFINITE. */
static void mc_refuses(const char *name, const char *input, size_t idx, double value)
{
    gpsc_vecfile_t *vf = mc_load(name);
    const gpsc_value_t *v = gpsc_vecset_find(vf->inputs, input);
    assert_non_null(v);
    assert_true(idx < v->n);
    v->data[idx] = value;
    char err[512];
    int rc;
    gpsc_vecset_t *got = mc_compute(vf, &rc, err, sizeof err);
    if (rc != GPSC_ENONFINITE)
        print_error("%s with %s[%zu] = %g: rc %d (%s)\n", name, input, idx, value, rc, err);
    assert_int_equal(rc, GPSC_ENONFINITE);
    assert_null(got);
    assert_true(strlen(err) > 0);
    gpsc_vecfile_destroy(&vf);
}

#endif
