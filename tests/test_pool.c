/* Thread pool (learner/pool.h): every task runs once, errors are reported
 * by lowest task index, arenas are per worker and emptied per task, and a
 * 4-condition C-step gives bitwise the same result with 1 and 2 workers. */
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
#include "learner/cstep.h"
#include "learner/pool.h"

typedef struct count_ctx {
    gpsc_pool_t *pool;
    int *runs;   /* (n) times task i ran */
    int *worker; /* (n) worker that ran task i */
    int *clean;  /* (n) 1 when the worker's arena was empty at task start */
    int fail_a, fail_b;
} count_ctx_t;

static int count_task(void *ctx, int i, int w)
{
    count_ctx_t *c = ctx;
    c->runs[i]++;
    c->worker[i] = w;
    gpsc_arena_t *a = gpsc_pool_arena(c->pool, w);
    c->clean[i] = a && gpsc_arena_used(a) == 0;
    /* leave something behind: the pool must empty the arena */
    if (a) (void)gpsc_arena_alloc(a, 1000);
    if (i == c->fail_a) return GPSC_EIO;
    if (i == c->fail_b) return GPSC_ENOTPD;
    return 0;
}

static void test_tasks(void **state)
{
    (void)state;
    for (int nw = 1; nw <= 3; nw++) {
        gpsc_pool_t *p = gpsc_pool_new(nw, 1 << 16);
        assert_non_null(p);
        assert_int_equal(gpsc_pool_size(p), nw);
        assert_null(gpsc_pool_arena(p, nw));
        for (int rep = 0; rep < 20; rep++) {
            enum { N = 37 };
            int runs[N] = {0}, worker[N], clean[N];
            count_ctx_t c = {p, runs, worker, clean, -1, -1};
            if (rep % 2) {
                c.fail_a = 21;
                c.fail_b = 5 + rep % 7; /* always the lower index */
            }
            int rc = gpsc_pool_run(p, N, count_task, &c);
            assert_int_equal(rc, rep % 2 ? GPSC_ENOTPD : 0);
            for (int i = 0; i < N; i++) {
                assert_int_equal(runs[i], 1);
                assert_true(worker[i] >= 0 && worker[i] < nw);
                assert_int_equal(clean[i], 1);
            }
        }
        assert_int_equal(gpsc_pool_run(p, 0, count_task, NULL), 0);
        assert_int_equal(gpsc_pool_run(p, -1, count_task, NULL), GPSC_EINVAL);
        assert_int_equal(gpsc_pool_run(p, 1, NULL, NULL), GPSC_EINVAL);
        gpsc_pool_destroy(&p);
        assert_null(p);
    }
    gpsc_pool_destroy(NULL);
    assert_null(gpsc_pool_new(0, 100));
}

/* -- 4 C-steps in parallel ------------------------------------------------- */

enum { M = 4 };

typedef struct cond_ctx {
    gpsc_pool_t *pool;
    gpsc_traj_dims_t d;
    gpsc_cstep_problem_t p[M];
    gpsc_cstep_cfg_t cfg[M];
    double *out[M];   /* (K, k, pol_covar, inv, chol) of condition m */
    double *trace[M]; /* eta then kl trace */
    gpsc_cstep_result_t res[M];
} cond_ctx_t;

static int cstep_task(void *ctx, int m, int w)
{
    cond_ctx_t *c = ctx;
    size_t T = (size_t)c->d.T, dX = (size_t)c->d.dX, dU = (size_t)c->d.dU;
    gpsc_traj_lg_t lg = {c->out[m], c->out[m] + T * dU * dX, c->out[m] + T * dU * (dX + 1),
                         c->out[m] + T * dU * (dX + 1 + dU),
                         c->out[m] + T * dU * (dX + 1 + 2 * dU)};
    memset(&c->res[m], 0, sizeof c->res[m]);
    c->res[m].eta_trace = c->trace[m];
    c->res[m].kl_trace = c->trace[m] + c->cfg[m].max_iterations;
    return gpsc_cstep(&lg, &c->res[m], &c->cfg[m], &c->p[m], c->d, gpsc_pool_arena(c->pool, w));
}

static void test_cstep_threads(void **state)
{
    (void)state;
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/reference/cstep_realistic.json", GPSC_TEST_DATA);
    gpsc_vecfile_t *vf = gpsc_vecfile_load(path, err, sizeof err);
    if (!vf) fail_msg("%s", err);
    const gpsc_vecset_t *in = vf->inputs;
#define V(name) (gpsc_vecset_find(in, name)->data)
    const gpsc_value_t *Fm = gpsc_vecset_find(in, "Fm");
    cond_ctx_t c;
    memset(&c, 0, sizeof c);
    c.d = (gpsc_traj_dims_t){Fm->shape[0], Fm->shape[1], Fm->shape[2] - Fm->shape[1]};
    size_t T = (size_t)c.d.T, dX = (size_t)c.d.dX, dU = (size_t)c.d.dU, n = dX + dU;
    size_t nout = T * (dU * dX + dU + 3 * dU * dU);
    /* four different conditions: scaled costs and step sizes */
    double *Cm[M];
    for (int m = 0; m < M; m++) {
        Cm[m] = malloc(sizeof(double) * T * n * n);
        for (size_t i = 0; i < T * n * n; i++)
            Cm[m][i] = V("Cm")[i] * (1.0 + 0.25 * m);
        c.p[m] = (gpsc_cstep_problem_t){
            .dyn = {Fm->data, V("fv"), V("dyn_covar"), V("x0mu"), V("x0sigma")},
            .Cm = Cm[m],
            .cv = V("cv"),
            .pref = {.K = V("pol_K"), .k = V("pol_k"), .pol_covar = V("pol_S")}};
        c.cfg[m] = (gpsc_cstep_cfg_t){1.0, 0.5 + 0.3 * m, 1.0, 1e-8, 1e16, 1e-4, 50};
        c.trace[m] = malloc(sizeof(double) * 100);
    }
    double *ref[M];
    gpsc_cstep_result_t ref_res[M];
    for (int nw = 1; nw <= 2; nw++) {
        gpsc_pool_t *pool = gpsc_pool_new(nw, gpsc_cstep_scratch_size(c.d));
        assert_non_null(pool);
        c.pool = pool;
        for (int m = 0; m < M; m++)
            c.out[m] = calloc(nout, sizeof(double));
        assert_int_equal(gpsc_pool_run(pool, M, cstep_task, &c), 0);
        for (int m = 0; m < M; m++) {
            assert_true(c.res[m].converged);
            if (nw == 1) {
                ref[m] = c.out[m];
                ref_res[m] = c.res[m];
                continue;
            }
            assert_memory_equal(ref[m], c.out[m], sizeof(double) * nout);
            assert_true(ref_res[m].eta == c.res[m].eta);
            assert_true(ref_res[m].kl == c.res[m].kl);
            assert_int_equal(ref_res[m].iterations, c.res[m].iterations);
            free(c.out[m]);
        }
        gpsc_pool_destroy(&pool);
    }
    /* the conditions really differ */
    assert_true(memcmp(ref[0], ref[1], sizeof(double) * nout) != 0);
    for (int m = 0; m < M; m++) {
        free(ref[m]);
        free(Cm[m]);
        free(c.trace[m]);
    }
#undef V
    gpsc_vecfile_destroy(&vf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tasks),
        cmocka_unit_test(test_cstep_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
