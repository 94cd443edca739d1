/* test_experiment.c — experiment files: the shipped tasks load and resolve
 * to the documented dimensions, errors carry file:line:column, unknown keys
 * are refused, and write -> load gives the same experiment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/experiment.h"
#include "worker/env.h"

#define EXPDIR GPSC_SOURCE_DIR "/experiments"

static void load_resolved(const char *path, gpsc_experiment_t *e)
{
    char err[1024] = "";
    int rc = gpsc_experiment_load(path, e, err, sizeof err);
    if (rc) fail_msg("%s", err);
    rc = gpsc_env_resolve_experiment(e, err, sizeof err);
    if (rc) fail_msg("%s", err);
}

static void test_peg7(void **state)
{
    (void)state;
    gpsc_experiment_t e;
    load_resolved(EXPDIR "/peg7.yaml", &e);
    assert_string_equal(e.name, "peg7");
    assert_int_equal(e.T, 100);
    assert_true(e.dt == 0.05);
    assert_int_equal(e.substeps, 5);
    assert_int_equal(e.n_train, 4);
    assert_int_equal(e.n_test, 4);
    assert_true(e.resolved);
    assert_int_equal(e.dims.dX, 26);
    assert_int_equal(e.dims.dU, 7);
    assert_int_equal(e.dims.dO, 26);
    assert_int_equal(e.dims.P, 6);
    assert_int_equal(e.dims.dQ, 7);
    assert_int_equal(e.dims.x_qvel, 7);
    assert_int_equal(e.dims.x_ee, 14);
    assert_int_equal(e.dims.x_ee_vel, 20);
    for (int i = 0; i < 7; i++)
        assert_int_equal(e.joint_idx[i], i);
    /* model path resolved against the YAML's directory */
    assert_string_equal(e.model, EXPDIR "/models/peg7.xml");
    /* the reference cost: torque + logl2 FK + final-only FK, weights 1 */
    assert_int_equal(e.n_costs, 3);
    assert_int_equal(e.costs[0].type, GPSC_EXP_COST_ACTION);
    assert_int_equal(e.costs[0].wu.n, 7);
    assert_true(fabs(e.costs[0].wu.v[0] - 5e-5 / 3.09) < 1e-18);
    assert_int_equal(e.costs[1].type, GPSC_EXP_COST_FK);
    assert_int_equal(e.costs[1].norm, GPSC_EXP_NORM_LOGL2);
    assert_int_equal(e.costs[1].wp.n, 6);
    assert_true(e.costs[1].l1 == 0.1 && e.costs[1].l2 == 10.0 && e.costs[1].alpha == 1e-5);
    assert_int_equal(e.costs[2].ramp, GPSC_EXP_RAMP_FINAL_ONLY);
    assert_true(e.costs[2].wp_final_multiplier == 10.0 && e.costs[2].l2 == 0.0);
    /* init_lqr with the reference's settings, gains broadcast to dU */
    assert_int_equal(e.init.type, GPSC_EXP_INIT_LQR);
    assert_true(e.init.init_var == 5.0 && e.init.final_weight == 50.0);
    assert_int_equal(e.init.init_acc.n, 7);
    /* targets come from the slot sites, offset per condition */
    for (int c = 0; c < 8; c++) {
        const gpsc_exp_condition_t *cd = gpsc_experiment_condition(&e, c);
        assert_non_null(cd);
        assert_int_equal(cd->target.n, 6);
        assert_int_equal(cd->n_offsets, 1);
        assert_string_equal(cd->offsets[0].body, "slot");
        assert_true(fabs(cd->target.v[0] - (0.0 + cd->offsets[0].pos[0])) < 1e-12);
        assert_true(fabs(cd->target.v[1] - (0.3 + cd->offsets[0].pos[1])) < 1e-12);
        assert_true(fabs(cd->target.v[2] - -0.5) < 1e-12);
        assert_true(fabs(cd->target.v[5] - -0.2) < 1e-12);
        assert_int_equal(cd->qpos.n, 7);
        assert_true(cd->qpos.v[2] == -1.54);
    }
    assert_null(gpsc_experiment_condition(&e, 8));
    assert_int_equal(e.success.metric, GPSC_EXP_METRIC_FINAL_EE_DISTANCE);
    assert_true(e.success.threshold == 0.06);
    assert_int_equal(e.algo.iterations, 12);
    assert_int_equal(e.net.n_hidden, 2);
    assert_int_equal(e.net.hidden[1], 42);
    gpsc_experiment_free(&e);
    gpsc_experiment_free(&e); /* a freed (zeroed) struct is fine */
}

static void test_reacher(void **state)
{
    (void)state;
    gpsc_experiment_t e;
    load_resolved(EXPDIR "/reacher.yaml", &e);
    assert_int_equal(e.dims.dX, 10);
    assert_int_equal(e.dims.dU, 2);
    assert_int_equal(e.dims.dO, 10);
    assert_int_equal(e.dims.P, 3);
    assert_int_equal(e.dims.dQ, 2);
    assert_int_equal(e.n_train, 4);
    assert_int_equal(e.n_test, 2);
    assert_int_equal(e.costs[0].wu.n, 2); /* scalar broadcast */
    assert_true(e.costs[0].wu.v[1] == 1e-2);
    assert_int_equal(e.costs[1].wp.n, 3);
    assert_true(e.ee_relative_to_target);
    gpsc_experiment_free(&e);
}

/* loads YAML text; returns rc and the message */
static int load_text(const char *text, gpsc_experiment_t *e, char *err, size_t errsz)
{
    return gpsc_experiment_load_string(text, strlen(text), "t.yaml", EXPDIR, e, err, errsz);
}

static const char *base_yaml = "name: t\n"
                               "model: models/reacher.xml\n"
                               "T: 10\n"
                               "dt: 0.05\n"
                               "state: {ee_sites: [fingertip]}\n"
                               "target_sites: [target]\n"
                               "conditions:\n"
                               "  train:\n"
                               "    - body_offsets: {target: [0.1, 0.1, 0]}\n"
                               "cost:\n"
                               "  - type: fk\n"
                               "    l1: 0.1\n"
                               "init_controller: {type: init_lqr}\n";

static void expect_error(const char *text, const char *needle, int code)
{
    gpsc_experiment_t e;
    char err[1024] = "";
    int rc = load_text(text, &e, err, sizeof err);
    if (rc == 0) rc = gpsc_env_resolve_experiment(&e, err, sizeof err);
    if (rc != code || !strstr(err, needle))
        fail_msg("expected %s with \"%s\", got %s: \"%s\"", gpsc_errname(code), needle,
                 gpsc_errname(rc), err);
    gpsc_experiment_free(&e);
}

static void test_minimal_and_defaults(void **state)
{
    (void)state;
    gpsc_experiment_t e;
    char err[1024] = "";
    int rc = load_text(base_yaml, &e, err, sizeof err);
    if (rc) fail_msg("%s", err);
    assert_int_equal(e.substeps, 1);
    assert_true(e.noise.smooth && e.noise.sigma == 2.0 && e.noise.renormalize);
    assert_int_equal(e.algo.type, GPSC_EXP_ALG_MDGPS);
    assert_int_equal(e.algo.samples, 5);
    assert_true(e.algo.cstep.max_eta == 1e16);
    assert_int_equal(e.cluster.workers, 2);
    assert_true(e.ee_velocities);
    assert_true(e.qpos_joints.all);
    assert_int_equal(e.n_obs_blocks, 4);
    rc = gpsc_env_resolve_experiment(&e, err, sizeof err);
    if (rc) fail_msg("%s", err);
    assert_int_equal(e.qpos_joints.n, 2);
    assert_string_equal(e.qpos_joints.names[1], "elbow");
    assert_int_equal(e.costs[0].wp.n, 3);
    assert_true(e.costs[0].l2 == 1.0);
    /* the target site moved by the offset */
    assert_true(fabs(e.train[0].target.v[0] - 0.1) < 1e-12);
    /* resolve is idempotent */
    rc = gpsc_env_resolve_experiment(&e, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_int_equal(e.costs[0].wp.n, 3);
    assert_int_equal(e.dims.dX, 10);
    gpsc_experiment_free(&e);
}

static void test_errors(void **state)
{
    (void)state;
    char buf[4096];
    /* unknown key, with its location */
    snprintf(buf, sizeof buf, "%sdtt: 3\n", base_yaml);
    expect_error(buf, "t.yaml:14:1: unknown key 'dtt'", GPSC_ECONFIG);
    /* a key of another cost type is unknown too */
    snprintf(buf, sizeof buf, "%s", base_yaml);
    char *p = strstr(buf, "    l1: 0.1\n");
    memcpy(p, "    wu: 0.1\n", 12);
    expect_error(buf, "t.yaml:12:5: unknown key 'cost[0].wu'", GPSC_ECONFIG);
    /* missing required key */
    expect_error("name: t\nmodel: m.xml\ndt: 0.05\nconditions: {train: [{}]}\n"
                 "cost: [{type: action, wu: 1}]\ninit_controller: {type: init_pd}\n",
                 "t.yaml:", GPSC_ECONFIG);
    expect_error("name: t\nmodel: m.xml\ndt: 0.05\nconditions: {train: [{}]}\n"
                 "cost: [{type: action, wu: 1}]\ninit_controller: {type: init_pd}\n",
                 "'T'", GPSC_ECONFIG);
    /* wrong type and out of range */
    snprintf(buf, sizeof buf, "%s", base_yaml);
    p = strstr(buf, "T: 10");
    memcpy(p, "T: -1", 5);
    expect_error(buf, "t.yaml:3:4:", GPSC_ECONFIG);
    snprintf(buf, sizeof buf, "%snoise: {sigma: abc}\n", base_yaml);
    expect_error(buf, "t.yaml:14:", GPSC_ECONFIG);
    /* bad enum */
    snprintf(buf, sizeof buf, "%salgorithm: {type: gps3000}\n", base_yaml);
    expect_error(buf, "t.yaml:14:", GPSC_ECONFIG);
    /* a YAML syntax error */
    expect_error("name: t\nT: [1, 2\n", "t.yaml:", GPSC_EPARSE);
    /* names the model does not have, reported at the list */
    snprintf(buf, sizeof buf, "%s", base_yaml);
    p = strstr(buf, "[fingertip]");
    memcpy(p, "[fingertop]", 11);
    expect_error(buf, "t.yaml:5:19: the model has no site named 'fingertop'", GPSC_ECONFIG);
    /* a vector of the wrong length, reported at the vector */
    snprintf(buf, sizeof buf,
             "name: t\nmodel: models/reacher.xml\nT: 10\ndt: 0.05\n"
             "conditions: {train: [{}]}\n"
             "cost:\n  - type: action\n    wu: [1, 2, 3]\n"
             "init_controller: {type: init_pd}\n");
    expect_error(buf, "t.yaml:8:9: wu has 3 entries, expected 2", GPSC_ECONFIG);
    /* an unknown body in a condition */
    snprintf(buf, sizeof buf,
             "name: t\nmodel: models/reacher.xml\nT: 10\ndt: 0.05\n"
             "conditions: {train: [{body_offsets: {nobody: [0, 0, 0]}}]}\n"
             "cost: [{type: action, wu: 1}]\ninit_controller: {type: init_pd}\n");
    expect_error(buf, "no body named 'nobody'", GPSC_ECONFIG);
    /* qpos of the wrong length */
    snprintf(buf, sizeof buf,
             "name: t\nmodel: models/reacher.xml\nT: 10\ndt: 0.05\n"
             "conditions: {train: [{qpos: [1, 2, 3]}]}\n"
             "cost: [{type: action, wu: 1}]\ninit_controller: {type: init_pd}\n");
    expect_error(buf, "t.yaml:5:29: qpos of train condition 0 has 3 entries", GPSC_ECONFIG);
    /* an FK cost without ee sites */
    snprintf(buf, sizeof buf,
             "name: t\nmodel: models/reacher.xml\nT: 10\ndt: 0.05\n"
             "conditions: {train: [{}]}\n"
             "cost: [{type: fk}]\ninit_controller: {type: init_pd}\n");
    expect_error(buf, "t.yaml:6:8: FK costs, ee success metrics and targets need state.ee_sites",
                 GPSC_ECONFIG);
    /* a success metric on a point that does not exist */
    snprintf(buf, sizeof buf, "%ssuccess: {metric: final_ee_distance, point: 1, threshold: 0.1}\n",
             base_yaml);
    expect_error(buf, "t.yaml:14:10: success.point 1: there are 1 ee sites", GPSC_ECONFIG);
    /* a missing experiment file names the file */
    gpsc_experiment_t e;
    char err[512];
    int rc = gpsc_experiment_load("/nonexistent/x.yaml", &e, err, sizeof err);
    assert_int_equal(rc, GPSC_ENOENT);
    assert_non_null(strstr(err, "/nonexistent/x.yaml"));
    gpsc_experiment_free(&e);
}

/* the priors' EM keys: defaults, values, refusals, and write -> load */
static void test_prior_em_keys(void **state)
{
    (void)state;
    gpsc_experiment_t e;
    char err[1024] = "", buf[4096];
    int rc = load_text(base_yaml, &e, err, sizeof err);
    if (rc) fail_msg("%s", err);
    const gpsc_exp_prior_t *pr[2] = {&e.algo.dyn_prior, &e.algo.pol_prior};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pr[i]->em_iterations, 100);
        assert_true(pr[i]->em_tolerance == 1e-5);
        assert_int_equal(pr[i]->em_stop, GPSC_EXP_EM_STOP_RELATIVE);
    }
    gpsc_experiment_free(&e);
    snprintf(buf, sizeof buf,
             "%salgorithm:\n  dynamics:\n    prior: {em_iterations: 7, em_tolerance: 1e-3, "
             "em_stop: reference}\n  policy_prior: {em_iterations: 9, em_stop: relative}\n",
             base_yaml);
    rc = load_text(buf, &e, err, sizeof err);
    if (rc) fail_msg("%s", err);
    assert_int_equal(e.algo.dyn_prior.em_iterations, 7);
    assert_true(e.algo.dyn_prior.em_tolerance == 1e-3);
    assert_int_equal(e.algo.dyn_prior.em_stop, GPSC_EXP_EM_STOP_REFERENCE);
    assert_int_equal(e.algo.pol_prior.em_iterations, 9);
    assert_true(e.algo.pol_prior.em_tolerance == 1e-5);
    assert_int_equal(e.algo.pol_prior.em_stop, GPSC_EXP_EM_STOP_RELATIVE);
    /* written and read back: the same settings */
    char t[] = "/tmp/gpsc_exp_XXXXXX";
    int fd = mkstemp(t);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(gpsc_experiment_write(&e, t, err, sizeof err), 0);
    gpsc_experiment_t b;
    rc = gpsc_experiment_load(t, &b, err, sizeof err);
    if (rc) fail_msg("%s", err);
    assert_memory_equal(&e.algo.dyn_prior, &b.algo.dyn_prior, sizeof b.algo.dyn_prior);
    assert_memory_equal(&e.algo.pol_prior, &b.algo.pol_prior, sizeof b.algo.pol_prior);
    unlink(t);
    gpsc_experiment_free(&b);
    gpsc_experiment_free(&e);
    /* refused: no passes, a negative tolerance, an unknown rule */
    snprintf(buf, sizeof buf, "%salgorithm: {policy_prior: {em_iterations: 0}}\n", base_yaml);
    expect_error(buf, "t.yaml:14:", GPSC_ECONFIG);
    snprintf(buf, sizeof buf, "%salgorithm: {dynamics: {prior: {em_tolerance: -1}}}\n", base_yaml);
    expect_error(buf, "'em_tolerance' must be >= 0", GPSC_ECONFIG);
    snprintf(buf, sizeof buf, "%salgorithm: {policy_prior: {em_stop: signed}}\n", base_yaml);
    expect_error(buf, "t.yaml:14:", GPSC_ECONFIG);
}

static void test_conditions_defaults(void **state)
{
    (void)state;
    const char *y = "name: t\nmodel: models/reacher.xml\nT: 10\ndt: 0.05\n"
                    "conditions:\n"
                    "  defaults: {qpos: [0.5, 0.25], x0_noise: 0.01}\n"
                    "  train:\n"
                    "    - {}\n"
                    "    - {qpos: [1, 2], qvel: [3, 4]}\n"
                    "  test:\n"
                    "    - {x0_noise: [1, 2, 3, 4]}\n"
                    "cost: [{type: action, wu: 1}]\n"
                    "init_controller: {type: init_pd, pos_gains: 2}\n";
    gpsc_experiment_t e;
    char err[512] = "";
    int rc = load_text(y, &e, err, sizeof err);
    if (rc == 0) rc = gpsc_env_resolve_experiment(&e, err, sizeof err);
    if (rc) fail_msg("%s", err);
    assert_int_equal(gpsc_experiment_n_conditions(&e), 3);
    assert_true(e.train[0].qpos.v[0] == 0.5 && e.train[0].qpos.v[1] == 0.25);
    assert_int_equal(e.train[0].x0_noise.n, 4);
    assert_true(e.train[0].x0_noise.v[3] == 0.01);
    assert_true(e.train[1].qpos.v[1] == 2.0 && e.train[1].qvel.v[0] == 3.0);
    assert_true(e.test[0].x0_noise.v[2] == 3.0);
    assert_true(e.test[0].qpos.v[0] == 0.5);
    assert_int_equal(e.init.type, GPSC_EXP_INIT_PD);
    assert_true(e.init.pos_gains == 2.0);
    gpsc_experiment_free(&e);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc((size_t)n + 1, 1);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return s;
}

static void same_vec(const gpsc_exp_vec_t *a, const gpsc_exp_vec_t *b)
{
    assert_int_equal(a->n, b->n);
    for (int i = 0; i < a->n; i++)
        assert_memory_equal(&a->v[i], &b->v[i], sizeof(double));
}

static void roundtrip(const char *path)
{
    gpsc_experiment_t a, b;
    load_resolved(path, &a);
    char t1[] = "/tmp/gpsc_exp_XXXXXX";
    int fd = mkstemp(t1);
    assert_true(fd >= 0);
    close(fd);
    char err[512] = "";
    assert_int_equal(gpsc_experiment_write(&a, t1, err, sizeof err), 0);
    load_resolved(t1, &b);
    /* the same values */
    assert_string_equal(a.name, b.name);
    assert_int_equal(a.T, b.T);
    assert_memory_equal(&a.dt, &b.dt, sizeof(double));
    assert_memory_equal(&a.dims, &b.dims, sizeof a.dims);
    assert_int_equal(a.n_costs, b.n_costs);
    for (int i = 0; i < a.n_costs; i++) {
        assert_int_equal(a.costs[i].type, b.costs[i].type);
        same_vec(&a.costs[i].wu, &b.costs[i].wu);
        same_vec(&a.costs[i].wp, &b.costs[i].wp);
        assert_memory_equal(&a.costs[i].l1, &b.costs[i].l1, sizeof(double));
        assert_int_equal(a.costs[i].ramp, b.costs[i].ramp);
    }
    for (int c = 0; c < gpsc_experiment_n_conditions(&a); c++) {
        const gpsc_exp_condition_t *x = gpsc_experiment_condition(&a, c);
        const gpsc_exp_condition_t *y = gpsc_experiment_condition(&b, c);
        same_vec(&x->qpos, &y->qpos);
        same_vec(&x->target, &y->target);
        assert_int_equal(x->n_offsets, y->n_offsets);
    }
    same_vec(&a.init.init_gains, &b.init.init_gains);
    assert_int_equal(a.algo.seed, b.algo.seed);
    assert_memory_equal(&a.net, &b.net, sizeof a.net);
    assert_memory_equal(&a.cluster, &b.cluster, sizeof a.cluster);
    /* and writing it again gives the same text */
    char t2[] = "/tmp/gpsc_exp_XXXXXX";
    fd = mkstemp(t2);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(gpsc_experiment_write(&b, t2, err, sizeof err), 0);
    char *s1 = slurp(t1), *s2 = slurp(t2);
    assert_string_equal(s1, s2);
    free(s1);
    free(s2);
    unlink(t1);
    unlink(t2);
    gpsc_experiment_free(&a);
    gpsc_experiment_free(&b);
}

static void test_roundtrip(void **state)
{
    (void)state;
    roundtrip(EXPDIR "/peg7.yaml");
    roundtrip(EXPDIR "/reacher.yaml");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peg7),
        cmocka_unit_test(test_reacher),
        cmocka_unit_test(test_minimal_and_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_prior_em_keys),
        cmocka_unit_test(test_conditions_defaults),
        cmocka_unit_test(test_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
