/* traj_check.h — reference-vector helpers shared by the trajectory kernel
 * tests (test_lqr, test_traj, test_cstep, test_init). Static functions:
 * include after cmocka.h in exactly one test source each. */
#ifndef GPSC_TESTS_TRAJ_CHECK_H
#define GPSC_TESTS_TRAJ_CHECK_H

#include <stdio.h>

#include "common/vecfile.h"

/* loads tests/data/reference/NAME or fails the test with the reason */
static gpsc_vecfile_t *load(const char *name)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/reference/%s", GPSC_TEST_DATA, name);
    gpsc_vecfile_t *vf = gpsc_vecfile_load(path, err, sizeof err);
    if (!vf) fail_msg("%s", err);
    return vf;
}

static const gpsc_value_t *val(const gpsc_vecset_t *s, const char *name)
{
    const gpsc_value_t *v = gpsc_vecset_find(s, name);
    if (!v) fail_msg("missing \"%s\"", name);
    return v;
}

static void expect_close(const char *what, const double *got, const gpsc_value_t *exp,
                         const gpsc_vecfile_t *vf)
{
    gpsc_cmp_t c;
    gpsc_vec_compare(&c, got, exp->data, exp->n, vf->rtol, vf->atol);
    if (!c.pass)
        fail_msg("%s: %s[%zu] got %.17g expected %.17g", vf->path, what, c.worst_index,
                 got[c.worst_index], exp->data[c.worst_index]);
}

static void expect_symmetric(const double *A, int n, int count)
{
    for (int m = 0; m < count; m++)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (A[(size_t)m * n * n + (size_t)i * n + j] !=
                    A[(size_t)m * n * n + (size_t)j * n + i])
                    fail_msg("matrix %d not exactly symmetric at (%d,%d)", m, i, j);
}

#endif
