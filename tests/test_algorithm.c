/* test_algorithm.c — the algorithm layer (learner/algorithm.h) on the
 * synthetic task of alg_synth.h: trajopt reduces the cost, results do not
 * depend on the number of threads, bad samples are refused without a state
 * change, MDGPS runs and trains its network. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "alg_synth.h"
#include "common/error.h"

static double total_cost(const gpsc_alg_metrics_t *m)
{
    return m->sample_cost;
}

/* trajopt: the mean sample cost falls well below the first iteration's */
static void test_trajopt_learns(void **state)
{
    (void)state;
    char err[1024] = "";
    gpsc_experiment_t exp;
    assert_int_equal(synth_experiment(&exp, "trajopt", err, sizeof err), 0);
    gpsc_alg_t *alg = synth_alg(&exp, 1, err, sizeof err);
    assert_non_null(alg);
    synth_batch_t b;
    assert_int_equal(synth_batch_init(&b, exp.n_train, exp.algo.samples), 0);
    double first = 0, last = 0;
    for (int k = 0; k < 6; k++) {
        int rc = synth_run(alg, &exp, &b, 1, err, sizeof err);
        if (rc)
            print_message("%s\n", err);
        assert_int_equal(rc, 0);
        const gpsc_alg_metrics_t *m = gpsc_alg_metrics(alg);
        assert_int_equal(m->iteration, k);
        if (k == 0)
            first = total_cost(m);
        last = total_cost(m);
        for (int c = 0; c < exp.n_train; c++) {
            assert_true(m->cond[c].kl > 0);
            assert_true(m->cond[c].eta > 0);
            assert_true(m->cond[c].cstep_iterations >= 1);
            assert_true(isfinite(m->cond[c].expected_cost));
            assert_true(m->cond[c].dyn_clusters >= 2);
        }
        print_message("iteration %d: cost %.4f step_mult %.3f kl %.3f\n", k, total_cost(m),
                      m->cond[0].step_mult, m->cond[0].kl);
    }
    assert_int_equal(gpsc_alg_iteration_count(alg), 6);
    assert_true(last < 0.5 * first);
    /* the metrics print as JSON */
    char *js = gpsc_alg_metrics_json(gpsc_alg_metrics(alg), true);
    assert_non_null(js);
    assert_non_null(strstr(js, "\"conditions\""));
    assert_non_null(strstr(js, "\"ms\""));
    free(js);
    synth_batch_free(&b);
    gpsc_alg_destroy(&alg);
    gpsc_experiment_free(&exp);
}

/* 1 and 2 pool threads give bitwise equal checkpoints after each iteration */
static void check_threads(const char *which, int iters)
{
    char err[1024] = "";
    gpsc_experiment_t exp;
    assert_int_equal(synth_experiment(&exp, which, err, sizeof err), 0);
    gpsc_alg_t *a1 = synth_alg(&exp, 1, err, sizeof err);
    gpsc_alg_t *a2 = synth_alg(&exp, 2, err, sizeof err);
    assert_non_null(a1);
    assert_non_null(a2);
    synth_batch_t b1, b2;
    assert_int_equal(synth_batch_init(&b1, exp.n_train, exp.algo.samples), 0);
    assert_int_equal(synth_batch_init(&b2, exp.n_train, exp.algo.samples), 0);
    for (int k = 0; k < iters; k++) {
        int rc = synth_run(a1, &exp, &b1, 1, err, sizeof err);
        if (rc)
            print_message("%s\n", err);
        assert_int_equal(rc, 0);
        assert_int_equal(synth_run(a2, &exp, &b2, 1, err, sizeof err), 0);
        uint8_t *c1 = NULL, *c2 = NULL;
        size_t n1 = 0, n2 = 0;
        assert_int_equal(synth_encode(&c1, &n1, a1, err, sizeof err), 0);
        assert_int_equal(synth_encode(&c2, &n2, a2, err, sizeof err), 0);
        assert_int_equal(n1, n2);
        assert_memory_equal(c1, c2, n1);
        free(c1);
        free(c2);
    }
    synth_batch_free(&b1);
    synth_batch_free(&b2);
    gpsc_alg_destroy(&a1);
    gpsc_alg_destroy(&a2);
    gpsc_experiment_free(&exp);
}

static void test_trajopt_threads(void **state)
{
    (void)state;
    check_threads("trajopt", 4);
}

static void test_mdgps_threads(void **state)
{
    (void)state;
    check_threads("mdgps", 3);
}

/* MDGPS: the network is trained (its mean moves toward the local policies)
 * and the cost goes down */
static void test_mdgps_runs(void **state)
{
    (void)state;
    char err[1024] = "";
    gpsc_experiment_t exp;
    assert_int_equal(synth_experiment(&exp, "mdgps", err, sizeof err), 0);
    gpsc_alg_t *alg = synth_alg(&exp, 2, err, sizeof err);
    assert_non_null(alg);
    const gpsc_mlp_t *net = gpsc_alg_network(alg);
    assert_non_null(net);
    gpsc_mlp_t *net0 = gpsc_mlp_clone(net);
    assert_non_null(net0);
    synth_batch_t b;
    assert_int_equal(synth_batch_init(&b, exp.n_train, exp.algo.samples), 0);
    double first = 0, last = 0;
    for (int k = 0; k < 5; k++) {
        int rc = synth_run(alg, &exp, &b, 1, err, sizeof err);
        if (rc)
            print_message("%s\n", err);
        assert_int_equal(rc, 0);
        const gpsc_alg_metrics_t *m = gpsc_alg_metrics(alg);
        if (k == 0)
            first = m->sample_cost;
        last = m->sample_cost;
        assert_true(m->cond[0].pol_clusters >= 2);
        assert_true(m->ms.sstep > 0);
    }
    assert_true(last < first);
    net = gpsc_alg_network(alg);
    size_t diff = 0;
    for (size_t i = 0; i < net->n_params; i++)
        diff += net->params[i] != net0->params[i];
    assert_true(diff > 0);
    for (int j = 0; j < net->dU; j++)
        assert_true(net->var[j] > 0 && isfinite(net->var[j]));
    gpsc_mlp_destroy(&net0);
    synth_batch_free(&b);
    gpsc_alg_destroy(&alg);
    gpsc_experiment_free(&exp);
}

/* bad input is refused with a message naming the sample; nothing changes */
static void test_refuses_bad_samples(void **state)
{
    (void)state;
    char err[1024] = "";
    gpsc_experiment_t exp;
    assert_int_equal(synth_experiment(&exp, "trajopt", err, sizeof err), 0);
    gpsc_alg_t *alg = synth_alg(&exp, 1, err, sizeof err);
    assert_non_null(alg);
    synth_batch_t b;
    assert_int_equal(synth_batch_init(&b, exp.n_train, exp.algo.samples), 0);
    synth_sample(&b, alg, &exp);
    uint8_t *c0 = NULL, *c1 = NULL;
    size_t n0 = 0, n1 = 0;
    assert_int_equal(synth_encode(&c0, &n0, alg, err, sizeof err), 0);

    /* too few samples */
    assert_int_equal(gpsc_alg_iteration(alg, b.view, b.M * b.N - 1, err, sizeof err),
                     GPSC_EINVAL);
    /* wrong dims */
    b.view[7].dX = 5;
    assert_int_equal(gpsc_alg_iteration(alg, b.view, b.M * b.N, err, sizeof err), GPSC_EDIM);
    assert_non_null(strstr(err, "condition 1 sample 2"));
    b.view[7].dX = 4;
    /* NaN in an action */
    double keep = b.U[3 * SYNTH_T * 2 + 5];
    b.U[3 * SYNTH_T * 2 + 5] = NAN;
    assert_int_equal(gpsc_alg_iteration(alg, b.view, b.M * b.N, err, sizeof err),
                     GPSC_ENONFINITE);
    assert_non_null(strstr(err, "condition 0 sample 3"));
    b.U[3 * SYNTH_T * 2 + 5] = keep;
    /* missing array */
    b.view[0].X = NULL;
    assert_int_equal(gpsc_alg_iteration(alg, b.view, b.M * b.N, err, sizeof err), GPSC_EINVAL);

    assert_int_equal(gpsc_alg_iteration_count(alg), 0);
    assert_int_equal(synth_encode(&c1, &n1, alg, err, sizeof err), 0);
    assert_int_equal(n0, n1);
    assert_memory_equal(c0, c1, n0);
    free(c0);
    free(c1);
    /* and the good batch still runs */
    b.view[0].X = b.X;
    assert_int_equal(gpsc_alg_iteration(alg, b.view, b.M * b.N, err, sizeof err), 0);
    assert_int_equal(gpsc_alg_iteration_count(alg), 1);
    synth_batch_free(&b);
    gpsc_alg_destroy(&alg);
    gpsc_experiment_free(&exp);
}

/* settings the algorithm cannot run with are refused at creation */
static void test_refuses_bad_settings(void **state)
{
    (void)state;
    char err[1024] = "";
    gpsc_experiment_t exp;
    assert_int_equal(synth_experiment(&exp, "trajopt", err, sizeof err), 0);
    exp.algo.samples = 1;
    assert_null(gpsc_alg_new(&exp, NULL, err, sizeof err));
    assert_non_null(strstr(err, "samples"));
    exp.algo.samples = 5;
    /* gps2014 needs a positive initial lambda and observations */
    exp.algo.type = GPSC_EXP_ALG_GPS2014;
    exp.algo.init_pol_wt = 0.0;
    assert_null(gpsc_alg_new(&exp, NULL, err, sizeof err));
    assert_non_null(strstr(err, "init_pol_wt"));
    exp.algo.init_pol_wt = 0.01;
    exp.algo.inner_iterations = 0;
    assert_null(gpsc_alg_new(&exp, NULL, err, sizeof err));
    exp.algo.inner_iterations = 4;
    exp.algo.type = GPSC_EXP_ALG_TRAJOPT;
    gpsc_alg_t *alg = gpsc_alg_new(&exp, NULL, err, sizeof err);
    assert_non_null(alg);
    gpsc_lgpolicy_t *p = gpsc_lgpolicy_new(SYNTH_T + 1, 4, 2);
    assert_int_equal(gpsc_alg_set_initial_policy(alg, 0, p, err, sizeof err), GPSC_EDIM);
    gpsc_lgpolicy_destroy(&p);
    p = gpsc_lgpolicy_new(SYNTH_T, 4, 2);
    assert_int_equal(gpsc_alg_set_initial_policy(alg, 3, p, err, sizeof err), GPSC_ERANGE);
    p->k[0] = NAN;
    assert_int_equal(gpsc_alg_set_initial_policy(alg, 0, p, err, sizeof err), GPSC_ENONFINITE);
    gpsc_lgpolicy_destroy(&p);
    gpsc_alg_destroy(&alg);
    gpsc_experiment_free(&exp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trajopt_learns),
        cmocka_unit_test(test_trajopt_threads),
        cmocka_unit_test(test_mdgps_runs),
        cmocka_unit_test(test_mdgps_threads),
        cmocka_unit_test(test_refuses_bad_samples),
        cmocka_unit_test(test_refuses_bad_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
