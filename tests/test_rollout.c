/* test_rollout.c — rollouts of reacher and peg7 under their initial
 * controllers and under a network: finite data of the documented sizes,
 * actions equal to the policies' (bit for bit), determinism in one process
 * and across processes (gpsc-rollout run twice), noise keyed by the sample
 * index, the worker's cost values against the reference vectors, and the
 * wire messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/error.h"
#include "common/experiment.h"
#include "common/la.h"
#include "common/rng.h"
#include "common/vecfile.h"
#include "learner/init.h"
#include "worker/env.h"
#include "worker/initctl.h"
#include "worker/msgs.h"
#include "worker/rollout.h"
#include "worker/taskcost.h"

#define EXPDIR GPSC_SOURCE_DIR "/experiments"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    gpsc_la_set_threads(1);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gpsc_test_rollout_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* a task ready to roll out */
typedef struct task {
    gpsc_experiment_t exp;
    gpsc_env_t *env;
    gpsc_rollout_t *ro;
    gpsc_sample_t *s;
} task_t;

static void task_open(task_t *k, const char *path)
{
    char err[1024] = "";
    int rc = gpsc_experiment_load(path, &k->exp, err, sizeof err);
    if (rc == 0) rc = gpsc_env_resolve_experiment(&k->exp, err, sizeof err);
    if (rc) fail_msg("%s", err);
    k->env = gpsc_env_new(&k->exp, err, sizeof err);
    if (!k->env) fail_msg("%s", err);
    k->ro = gpsc_rollout_new(k->env);
    k->s = gpsc_sample_new(gpsc_env_dims(k->env), k->exp.T, k->exp.n_costs);
    assert_non_null(k->ro);
    assert_non_null(k->s);
}

static void task_close(task_t *k)
{
    gpsc_sample_destroy(&k->s);
    gpsc_rollout_destroy(&k->ro);
    gpsc_env_destroy(&k->env);
    gpsc_experiment_free(&k->exp);
}

static gpsc_lgpolicy_t *initial(task_t *k, int c)
{
    const gpsc_exp_dims_t *d = gpsc_env_dims(k->env);
    gpsc_lgpolicy_t *lg = gpsc_lgpolicy_new(k->exp.T, d->dX, d->dU);
    double x0[64];
    char err[512];
    assert_int_equal(gpsc_initctl_x0(x0, k->env, c, err, sizeof err), 0);
    int rc = gpsc_initctl_build(lg, k->env, x0, err, sizeof err);
    if (rc) fail_msg("%s", err);
    return lg;
}

static void run(task_t *k, const gpsc_rollout_policy_t *pol, uint32_t c, uint32_t sample,
                bool noiseless)
{
    char err[512];
    gpsc_rollout_key_t key = {k->exp.algo.seed, 0, c, sample};
    int rc = gpsc_rollout_run(k->ro, k->s, pol, &key, noiseless, err, sizeof err);
    if (rc) fail_msg("%s", err);
}

/* every array finite, sizes as documented; actions are the policy's */
static void check_sample(task_t *k, const gpsc_rollout_policy_t *pol)
{
    gpsc_sample_t *s = k->s;
    if (s->status) fail_msg("rollout failed: %s", s->reason);
    const gpsc_exp_dims_t *d = gpsc_env_dims(k->env);
    assert_int_equal(s->T, k->exp.T);
    assert_int_equal(s->dX, d->dX);
    size_t T = (size_t)s->T;
    assert_true(gpsc_la_all_finite(s->X, T * s->dX));
    assert_true(gpsc_la_all_finite(s->U, T * s->dU));
    assert_true(gpsc_la_all_finite(s->O, T * s->dO));
    assert_true(gpsc_la_all_finite(s->ee, T * s->P));
    assert_true(gpsc_la_all_finite(s->jac, T * s->P * s->dQ));
    assert_true(gpsc_la_all_finite(s->costs, T * s->dC));
    assert_true(gpsc_la_all_finite(s->target, (size_t)s->P));
    /* the state moves (a noiseless initial controller holds x0) */
    double moved = 0;
    for (int j = 0; j < s->dX; j++)
        moved += fabs(s->X[(T - 1) * s->dX + j] - s->X[j]);
    assert_true(moved > 1e-3 || (s->noiseless && pol->kind == GPSC_POLICY_LOCAL));
    /* u_t is exactly what the policy computes from the recorded x_t/o_t and eps_t */
    double u[16];
    double *w = pol->mlp ? calloc(gpsc_mlp_work_size(pol->mlp), sizeof(double)) : NULL;
    for (size_t t = 0; t < T; t++) {
        const double *eps = s->noiseless ? NULL : s->eps + t * s->dU;
        if (pol->kind == GPSC_POLICY_LOCAL)
            gpsc_lgpolicy_act(u, pol->lg, (int)t, s->X + t * s->dX, eps);
        else
            gpsc_mlp_act(u, pol->mlp, s->O + t * s->dO, eps, w);
        assert_memory_equal(u, s->U + t * s->dU, sizeof(double) * s->dU);
    }
    free(w);
}

static void initial_rollouts(const char *path, int dX, int dU, int P)
{
    task_t k;
    task_open(&k, path);
    assert_int_equal(gpsc_env_dims(k.env)->dX, dX);
    assert_int_equal(gpsc_env_dims(k.env)->dU, dU);
    assert_int_equal(gpsc_env_dims(k.env)->P, P);
    for (int c = 0; c < gpsc_experiment_n_conditions(&k.exp); c++) {
        gpsc_lgpolicy_t *lg = initial(&k, c);
        gpsc_rollout_policy_t pol = {.kind = GPSC_POLICY_LOCAL, .lg = lg};
        run(&k, &pol, (uint32_t)c, 0, false);
        check_sample(&k, &pol);
        /* x_0 is the condition's initial state and the target its slot/target */
        const gpsc_exp_condition_t *cd = gpsc_experiment_condition(&k.exp, c);
        for (int i = 0; i < cd->qpos.n; i++)
            assert_true(k.s->X[i] == cd->qpos.v[i]);
        assert_memory_equal(k.s->target, cd->target.v, sizeof(double) * (size_t)P);
        double v;
        assert_true(gpsc_rollout_success(&k.exp, k.s, &v) >= 0);
        assert_true(v == gpsc_rollout_ee_distance(k.s, k.exp.T - 1, 0));
        run(&k, &pol, (uint32_t)c, 1, true);
        check_sample(&k, &pol);
        gpsc_lgpolicy_destroy(&lg);
    }
    task_close(&k);
}

static void test_reacher(void **state)
{
    (void)state;
    initial_rollouts(EXPDIR "/reacher.yaml", 10, 2, 3);
}

static void test_peg7(void **state)
{
    (void)state;
    initial_rollouts(EXPDIR "/peg7.yaml", 26, 7, 6);
}

/* the initial controller is the learner's init_lqr (identity permutation
 * for peg7), and a permuted state layout permutes the gains exactly */
static void test_initial_controller(void **state)
{
    (void)state;
    task_t k;
    task_open(&k, EXPDIR "/peg7.yaml");
    const gpsc_exp_dims_t *d = gpsc_env_dims(k.env);
    gpsc_lgpolicy_t *a = initial(&k, 1);
    gpsc_lgpolicy_t *b = gpsc_lgpolicy_new(k.exp.T, d->dX, d->dU);
    double x0[64];
    char err[256];
    assert_int_equal(gpsc_initctl_x0(x0, k.env, 1, err, sizeof err), 0);
    gpsc_traj_dims_t td = {k.exp.T, d->dX, d->dU};
    gpsc_arena_t *ar = gpsc_arena_new(gpsc_init_lqr_scratch_size(td));
    gpsc_init_lqr_cfg_t cfg = {.x0 = x0,
                               .init_gains = k.exp.init.init_gains.v,
                               .init_acc = k.exp.init.init_acc.v,
                               .dt = k.exp.dt,
                               .init_var = k.exp.init.init_var,
                               .stiffness = k.exp.init.stiffness,
                               .stiffness_vel = k.exp.init.stiffness_vel,
                               .final_weight = k.exp.init.final_weight};
    gpsc_traj_lg_t lg = {.K = b->K,
                         .k = b->k,
                         .pol_covar = b->pol_covar,
                         .inv_pol_covar = b->inv_pol_covar,
                         .chol_pol_covar = b->chol};
    assert_int_equal(gpsc_init_lqr(&lg, &cfg, td, ar), 0);
    size_t n = (size_t)k.exp.T * d->dU;
    assert_memory_equal(a->K, b->K, n * d->dX * sizeof(double));
    assert_memory_equal(a->k, b->k, n * sizeof(double));
    assert_memory_equal(a->chol, b->chol, n * d->dU * sizeof(double));
    /* init_var 5: the covariance is 5 I at the first step? (pol_covar = Quu^-1) */
    assert_true(a->pol_covar[0] > 0);
    gpsc_arena_destroy(&ar);
    gpsc_lgpolicy_destroy(&a);
    gpsc_lgpolicy_destroy(&b);
    task_close(&k);

    /* reacher, joints listed in reverse order */
    char yaml[256];
    snprintf(yaml, sizeof yaml, "%s/rev.yaml", tmpdir);
    FILE *f = fopen(yaml, "w");
    fprintf(f,
            "name: rev\nmodel: %s/models/reacher.xml\nT: 20\ndt: 0.05\nsubsteps: 5\n"
            "state: {joints: [elbow, shoulder], ee_sites: [fingertip]}\n"
            "target_sites: [target]\n"
            "conditions: {train: [{qpos: [0.3, 1.2], body_offsets: {target: [0.1, 0.1, 0]}}]}\n"
            "cost: [{type: action, wu: 0.01}]\n"
            "init_controller: {type: init_lqr, init_var: 0.05, final_weight: 50}\n",
            EXPDIR);
    fclose(f);
    const char *normal_fmt =
        "name: fwd\nmodel: %s/models/reacher.xml\nT: 20\ndt: 0.05\nsubsteps: 5\n"
        "state: {joints: [shoulder, elbow], ee_sites: [fingertip]}\n"
        "target_sites: [target]\n"
        "conditions: {train: [{qpos: [0.3, 1.2], body_offsets: {target: [0.1, 0.1, 0]}}]}\n"
        "cost: [{type: action, wu: 0.01}]\n"
        "init_controller: {type: init_lqr, init_var: 0.05, final_weight: 50}\n";
    char yaml2[256];
    snprintf(yaml2, sizeof yaml2, "%s/fwd.yaml", tmpdir);
    f = fopen(yaml2, "w");
    fprintf(f, normal_fmt, EXPDIR);
    fclose(f);
    task_t r, q;
    task_open(&r, yaml);
    task_open(&q, yaml2);
    gpsc_lgpolicy_t *pr = initial(&r, 0), *pq = initial(&q, 0);
    int dX = 10, dU = 2;
    /* column map: rev x = [q_e, q_s, qd_e, qd_s, ee..], fwd x = [q_s, q_e, qd_s, qd_e, ee..] */
    int map[10] = {1, 0, 3, 2, 4, 5, 6, 7, 8, 9};
    for (int t = 0; t < 20; t++)
        for (int i = 0; i < dU; i++)
            for (int j = 0; j < dX; j++)
                assert_true(pr->K[(t * dU + i) * dX + j] == pq->K[(t * dU + i) * dX + map[j]]);
    assert_memory_equal(pr->k, pq->k, sizeof(double) * 20 * dU);
    /* and both rollouts act identically */
    gpsc_rollout_policy_t polr = {.kind = GPSC_POLICY_LOCAL, .lg = pr};
    gpsc_rollout_policy_t polq = {.kind = GPSC_POLICY_LOCAL, .lg = pq};
    run(&r, &polr, 0, 3, false);
    run(&q, &polq, 0, 3, false);
    assert_int_equal(r.s->status, 0);
    for (int t = 0; t < 20; t++)
        for (int i = 0; i < dU; i++)
            assert_true(fabs(r.s->U[t * dU + i] - q.s->U[t * dU + i]) <=
                        1e-9 * (1 + fabs(q.s->U[t * dU + i])));
    gpsc_lgpolicy_destroy(&pr);
    gpsc_lgpolicy_destroy(&pq);
    task_close(&r);
    task_close(&q);
}

static void encode(task_t *k, uint8_t **buf, size_t *len)
{
    char err[512];
    int rc = gpsc_trajmsg_encode(buf, len, k->s, &k->exp, "test", 1, false, err, sizeof err);
    if (rc) fail_msg("%s", err);
}

static void test_determinism(void **state)
{
    (void)state;
    task_t k;
    task_open(&k, EXPDIR "/peg7.yaml");
    gpsc_lgpolicy_t *lg = initial(&k, 0);
    gpsc_rollout_policy_t pol = {.kind = GPSC_POLICY_LOCAL, .lg = lg};
    uint8_t *a = NULL, *b = NULL, *c = NULL;
    size_t la, lb, lc;
    run(&k, &pol, 0, 2, false);
    encode(&k, &a, &la);
    double *eps2 = malloc(sizeof(double) * 700);
    memcpy(eps2, k.s->eps, sizeof(double) * 700);
    /* another rollout in between changes nothing */
    run(&k, &pol, 3, 0, false);
    run(&k, &pol, 0, 2, false);
    encode(&k, &b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    /* another sample index: other noise, another trajectory */
    run(&k, &pol, 0, 3, false);
    encode(&k, &c, &lc);
    assert_true(la != lc || memcmp(a, c, la) != 0);
    int same = 0;
    for (int i = 0; i < 700; i++)
        same += eps2[i] == k.s->eps[i];
    assert_true(same < 5);
    /* noiseless rollouts do not depend on the sample index */
    run(&k, &pol, 0, 4, true);
    free(a);
    encode(&k, &a, &la);
    run(&k, &pol, 0, 5, true);
    free(b);
    encode(&k, &b, &lb);
    /* only the key differs: decode and compare the arrays */
    char err[256];
    gpsc_wire_msg_t *ma = NULL, *mb = NULL;
    assert_int_equal(gpsc_wire_decode(&ma, a, la, 0, err, sizeof err), 0);
    assert_int_equal(gpsc_wire_decode(&mb, b, lb, 0, err, sizeof err), 0);
    const Gpsc__Trajectory *ta = gpsc_wire_msg_env(ma)->trajectory;
    const Gpsc__Trajectory *tb = gpsc_wire_msg_env(mb)->trajectory;
    assert_int_equal(ta->key->sample_index, 4);
    assert_int_equal(tb->key->sample_index, 5);
    assert_int_equal(ta->n_x, tb->n_x);
    assert_memory_equal(ta->x, tb->x, ta->n_x * sizeof(double));
    assert_memory_equal(ta->u, tb->u, ta->n_u * sizeof(double));
    gpsc_wire_msg_destroy(&ma);
    gpsc_wire_msg_destroy(&mb);
    free(a);
    free(b);
    free(c);
    free(eps2);
    gpsc_lgpolicy_destroy(&lg);
    task_close(&k);
}

/* a random network acting on peg7 */
static void test_global(void **state)
{
    (void)state;
    task_t k;
    task_open(&k, EXPDIR "/peg7.yaml");
    const gpsc_exp_dims_t *d = gpsc_env_dims(k.env);
    gpsc_mlp_t *net =
        gpsc_mlp_new(d->dO, d->dU, k.exp.net.n_hidden, k.exp.net.hidden, GPSC_MLP_RELU);
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 9, 0, 0, 0, GPSC_RNG_TEST);
    for (size_t i = 0; i < net->n_params; i++)
        net->params[i] = 0.1 * gpsc_rng_normal(&r);
    for (int i = 0; i < d->dO; i++)
        net->obs_scale[i] = 1.0;
    for (int i = 0; i < d->dU; i++)
        net->var[i] = 0.5;
    gpsc_rollout_policy_t pol = {.kind = GPSC_POLICY_GLOBAL, .mlp = net, .version = 3};
    run(&k, &pol, 5, 0, false);
    check_sample(&k, &pol);
    assert_int_equal(k.s->policy_kind, GPSC_POLICY_GLOBAL);
    assert_int_equal(k.s->policy_version, 3);
    run(&k, &pol, 5, 0, true);
    check_sample(&k, &pol);
    /* a network of the wrong size is refused */
    gpsc_mlp_t *bad = gpsc_mlp_new(d->dO + 1, d->dU, 0, NULL, GPSC_MLP_RELU);
    gpsc_rollout_policy_t pb = {.kind = GPSC_POLICY_GLOBAL, .mlp = bad};
    char err[256];
    gpsc_rollout_key_t key = {1, 0, 0, 0};
    assert_int_equal(gpsc_rollout_run(k.ro, k.s, &pb, &key, false, err, sizeof err), GPSC_EDIM);
    key.condition = 99;
    assert_int_equal(gpsc_rollout_run(k.ro, k.s, &pol, &key, false, err, sizeof err), GPSC_ERANGE);
    gpsc_mlp_destroy(&bad);
    gpsc_mlp_destroy(&net);
    task_close(&k);
}

/* ---- separate processes ---- */

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static size_t file_bytes(const char *path, uint8_t **out)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = malloc((size_t)n + 1);
    assert_int_equal(fread(*out, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return (size_t)n;
}

static void test_processes(void **state)
{
    (void)state;
    const char *bin = GPSC_BIN_DIR "/gpsc-rollout";
    char cmd[1024];
    const char *names[] = {"a", "b", "c", "d"};
    const char *extra[] = {"", "", "--sample 1", "--policy %s/init.pol"};
    for (int i = 0; i < 4; i++) {
        char ex[256];
        snprintf(ex, sizeof ex, extra[i], tmpdir);
        snprintf(cmd, sizeof cmd,
                 "%s -q -e %s/peg7.yaml --condition 2 --seed 77 --iteration 3 %s -o %s/%s.traj %s",
                 bin, EXPDIR, ex, tmpdir, names[i], i == 0 ? "--save-policy " : "");
        if (i == 0) {
            size_t n = strlen(cmd);
            snprintf(cmd + n, sizeof cmd - n, "%s/init.pol", tmpdir);
        }
        assert_int_equal(sh(cmd), 0);
    }
    uint8_t *a, *b, *c, *d;
    char p[256];
    snprintf(p, sizeof p, "%s/a.traj", tmpdir);
    size_t la = file_bytes(p, &a);
    snprintf(p, sizeof p, "%s/b.traj", tmpdir);
    size_t lb = file_bytes(p, &b);
    snprintf(p, sizeof p, "%s/c.traj", tmpdir);
    size_t lc = file_bytes(p, &c);
    snprintf(p, sizeof p, "%s/d.traj", tmpdir);
    size_t ld = file_bytes(p, &d);
    /* two processes, same inputs: byte-identical files */
    assert_true(la > 80000);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    /* another sample index: different */
    assert_true(la != lc || memcmp(a, c, la) != 0);
    /* the saved initial controller, read back, gives the same trajectory */
    assert_int_equal(la, ld);
    assert_memory_equal(a, d, la);
    /* and the file decodes to the documented sizes */
    gpsc_wire_msg_t *m = NULL;
    char err[512];
    snprintf(p, sizeof p, "%s/a.traj", tmpdir);
    assert_int_equal(gpsc_msgs_read_file(p, &m, err, sizeof err), 0);
    const Gpsc__Trajectory *t = gpsc_wire_msg_env(m)->trajectory;
    assert_non_null(t);
    assert_int_equal(t->t, 100);
    assert_int_equal(t->dx, 26);
    assert_int_equal(t->du, 7);
    assert_int_equal(t->p, 6);
    assert_int_equal(t->dq, 7);
    assert_int_equal(t->key->condition, 2);
    assert_int_equal(t->key->iteration, 3);
    assert_null(t->timings);
    gpsc_wire_msg_destroy(&m);
    free(a);
    free(b);
    free(c);
    free(d);
    /* bad arguments and a missing experiment: exit 2, no crash */
    snprintf(cmd, sizeof cmd, "%s -q -e /nonexistent.yaml 2>/dev/null", bin);
    assert_int_equal(sh(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s -q -e %s/peg7.yaml --condition 50 2>/dev/null", bin, EXPDIR);
    assert_int_equal(sh(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s --help >/dev/null", bin);
    assert_int_equal(sh(cmd), 0);

    /* missing, malformed and unstable models: a message naming the file, exit 2 / 2 / 1 */
    const char *xml_fmt =
        "<mujoco>\n  <option timestep='0.01' gravity='0 0 0'/>\n  <worldbody>\n"
        "    <body><joint name='j' type='hinge' axis='0 0 1'/>\n"
        "      <geom type='capsule' fromto='0 0 0 0.1 0 0' size='0.01'/></body>\n"
        "  %s\n</worldbody>\n  <actuator><motor joint='j' gear='%s'/></actuator>\n</mujoco>\n";
    const struct {
        const char *name, *extra, *gear;
        int status;
        const char *needle;
    } models[] = {{"nofile", NULL, NULL, 2, "nofile.xml: cannot open model"},
                  {"broken", "<body>", "1", 2, "broken.xml: MuJoCo could not load the model"},
                  {"unstable", "", "1e14", 1, "unstable.xml: step "}};
    for (int i = 0; i < 3; i++) {
        if (models[i].extra) {
            snprintf(p, sizeof p, "%s/%s.xml", tmpdir, models[i].name);
            FILE *f = fopen(p, "w");
            fprintf(f, xml_fmt, models[i].extra, models[i].gear);
            fclose(f);
        }
        snprintf(p, sizeof p, "%s/%s.yaml", tmpdir, models[i].name);
        FILE *f = fopen(p, "w");
        fprintf(f,
                "name: m\nmodel: %s.xml\nT: 30\ndt: 0.05\nsubsteps: 5\n"
                "conditions: {train: [{}]}\ncost: [{type: action, wu: 1}]\n"
                "init_controller: {type: init_pd, pos_gains: 1, init_var: 1}\n",
                models[i].name);
        fclose(f);
        snprintf(cmd, sizeof cmd, "%s -q -e %s 2>%s/%s.err", bin, p, tmpdir, models[i].name);
        assert_int_equal(sh(cmd), models[i].status);
        snprintf(p, sizeof p, "%s/%s.err", tmpdir, models[i].name);
        uint8_t *msg;
        size_t n = file_bytes(p, &msg);
        msg[n] = 0;
        if (!strstr((char *)msg, models[i].needle))
            fail_msg("%s: expected \"%s\" in: %s", models[i].name, models[i].needle, msg);
        free(msg);
    }
}

/* ---- messages ---- */

static void test_messages(void **state)
{
    (void)state;
    task_t k;
    task_open(&k, EXPDIR "/reacher.yaml");
    gpsc_lgpolicy_t *lg = initial(&k, 1);
    gpsc_rollout_policy_t pol = {.kind = GPSC_POLICY_LOCAL, .lg = lg, .version = 0};
    run(&k, &pol, 1, 0, false);
    uint8_t *buf = NULL;
    size_t len = 0;
    char err[512];
    assert_int_equal(gpsc_trajmsg_encode(&buf, &len, k.s, &k.exp, "w1", 1, true, err, sizeof err),
                     0);
    gpsc_wire_msg_t *m = NULL;
    assert_int_equal(gpsc_wire_decode(&m, buf, len, 0, err, sizeof err), 0);
    const Gpsc__Trajectory *t = gpsc_wire_msg_env(m)->trajectory;
    assert_int_equal(t->n_cost_names, 3);
    assert_string_equal(t->cost_names[1], "1_fk");
    assert_non_null(t->timings);
    gpsc_sample_t *s = gpsc_trajmsg_to_sample(t, err, sizeof err);
    assert_non_null(s);
    size_t T = (size_t)k.s->T;
    assert_memory_equal(s->X, k.s->X, T * k.s->dX * sizeof(double));
    assert_memory_equal(s->U, k.s->U, T * k.s->dU * sizeof(double));
    assert_memory_equal(s->jac, k.s->jac, T * k.s->P * k.s->dQ * sizeof(double));
    assert_memory_equal(s->costs, k.s->costs, T * k.s->dC * sizeof(double));
    assert_int_equal(s->key.condition, 1);
    gpsc_sample_destroy(&s);
    gpsc_wire_msg_destroy(&m);
    free(buf);

    /* a failed sample travels without arrays */
    k.s->status = GPSC_ESIM;
    snprintf(k.s->reason, sizeof k.s->reason, "step 3: unstable");
    assert_int_equal(gpsc_trajmsg_encode(&buf, &len, k.s, &k.exp, "w1", 2, false, err, sizeof err),
                     0);
    assert_int_equal(gpsc_wire_decode(&m, buf, len, 0, err, sizeof err), 0);
    t = gpsc_wire_msg_env(m)->trajectory;
    assert_int_equal(t->status, GPSC__TRAJECTORY_STATUS__TRAJ_FAILED);
    assert_int_equal(t->n_x, 0);
    assert_int_equal(t->error_code, GPSC_ESIM);
    assert_string_equal(t->failed_reason, "step 3: unstable");
    s = gpsc_trajmsg_to_sample(t, err, sizeof err);
    assert_int_equal(s->status, GPSC_ESIM);
    gpsc_sample_destroy(&s);
    gpsc_wire_msg_destroy(&m);
    free(buf);

    /* linear-Gaussian policy round trip */
    Gpsc__LinGaussPolicy lm;
    gpsc_lgmsg_fill(&lm, lg, 1, 4);
    Gpsc__Envelope env;
    gpsc_wire_env_init(&env, GPSC__ROLE__ROLE_LEARNER, "l", 1);
    env.body_case = GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY;
    env.lin_gauss_policy = &lm;
    assert_int_equal(gpsc_wire_encode(&buf, &len, &env, err, sizeof err), 0);
    assert_int_equal(gpsc_wire_decode(&m, buf, len, 0, err, sizeof err), 0);
    gpsc_lgpolicy_t *lg2 = gpsc_lgmsg_to_policy(gpsc_wire_msg_env(m)->lin_gauss_policy);
    size_t n = (size_t)lg->T * lg->dU;
    assert_memory_equal(lg2->K, lg->K, n * lg->dX * sizeof(double));
    assert_memory_equal(lg2->k, lg->k, n * sizeof(double));
    assert_memory_equal(lg2->chol, lg->chol, n * lg->dU * sizeof(double));
    assert_memory_equal(lg2->inv_pol_covar, lg->inv_pol_covar, n * lg->dU * sizeof(double));
    gpsc_lgpolicy_destroy(&lg2);
    gpsc_wire_msg_destroy(&m);
    free(buf);

    /* network round trip */
    int hidden[2] = {5, 4};
    gpsc_mlp_t *net = gpsc_mlp_new(10, 2, 2, hidden, GPSC_MLP_TANH);
    for (size_t i = 0; i < net->n_params; i++)
        net->params[i] = 0.01 * (double)i + 0.5;
    size_t nw, nb;
    gpsc_netmsg_counts(net, &nw, &nb);
    uint32_t sizes[4];
    double *wts = calloc(nw, sizeof(double)), *bs = calloc(nb, sizeof(double));
    Gpsc__NetworkPolicy nm;
    gpsc_netmsg_fill(&nm, net, 7, sizes, wts, bs);
    env.body_case = GPSC__ENVELOPE__BODY_NETWORK_POLICY;
    env.network_policy = &nm;
    assert_int_equal(gpsc_wire_encode(&buf, &len, &env, err, sizeof err), 0);
    assert_int_equal(gpsc_wire_decode(&m, buf, len, 0, err, sizeof err), 0);
    gpsc_mlp_t *net2 = gpsc_netmsg_to_mlp(gpsc_wire_msg_env(m)->network_policy, err, sizeof err);
    assert_non_null(net2);
    assert_int_equal(net2->n_params, net->n_params);
    assert_memory_equal(net2->params, net->params, net->n_params * sizeof(double));
    assert_int_equal(net2->act, GPSC_MLP_TANH);
    gpsc_mlp_destroy(&net2);
    gpsc_mlp_destroy(&net);
    gpsc_wire_msg_destroy(&m);
    free(buf);
    free(wts);
    free(bs);
    gpsc_lgpolicy_destroy(&lg);
    task_close(&k);
}

/* ---- the worker's cost values against the reference vectors ---- */

static const gpsc_value_t *arr(const gpsc_vecset_t *s, const char *name)
{
    const gpsc_value_t *v = NULL;
    char err[256];
    if (gpsc_vecset_array(s, name, -1, &v, err, sizeof err)) fail_msg("%s", err);
    return v;
}

static double num(const gpsc_vecset_t *s, const char *name)
{
    double v = 0;
    char err[256];
    if (gpsc_vecset_scalar(s, name, &v, err, sizeof err)) fail_msg("%s", err);
    return v;
}

static void fk_term(gpsc_exp_cost_t *c, const gpsc_vecset_t *in, const char *pre)
{
    char k[64];
    const char *s = NULL;
    char err[256];
    memset(c, 0, sizeof *c);
    c->type = GPSC_EXP_COST_FK;
    c->weight = 1.0;
    snprintf(k, sizeof k, "%swp", pre);
    const gpsc_value_t *wp = arr(in, k);
    c->wp.n = (int)wp->n;
    c->wp.v = wp->data;
    snprintf(k, sizeof k, "%sl1", pre);
    c->l1 = num(in, k);
    snprintf(k, sizeof k, "%sl2", pre);
    c->l2 = num(in, k);
    snprintf(k, sizeof k, "%salpha", pre);
    c->alpha = num(in, k);
    snprintf(k, sizeof k, "%swp_final_multiplier", pre);
    c->wp_final_multiplier = num(in, k);
    snprintf(k, sizeof k, "%snorm", pre);
    assert_int_equal(gpsc_vecset_string(in, k, &s, err, sizeof err), 0);
    c->norm = strcmp(s, "logl2") == 0 ? GPSC_EXP_NORM_LOGL2 : GPSC_EXP_NORM_L1L2;
    snprintf(k, sizeof k, "%sramp", pre);
    assert_int_equal(gpsc_vecset_string(in, k, &s, err, sizeof err), 0);
    c->ramp = strcmp(s, "linear") == 0       ? GPSC_EXP_RAMP_LINEAR
              : strcmp(s, "quadratic") == 0  ? GPSC_EXP_RAMP_QUADRATIC
              : strcmp(s, "final_only") == 0 ? GPSC_EXP_RAMP_FINAL_ONLY
                                             : GPSC_EXP_RAMP_CONSTANT;
}

static void check_cost_file(const char *name)
{
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/reference/%s.json", GPSC_TEST_DATA, name);
    gpsc_vecfile_t *vf = gpsc_vecfile_load(path, err, sizeof err);
    if (!vf) fail_msg("%s", err);
    const gpsc_vecset_t *in = vf->inputs;
    gpsc_exp_cost_t terms[3];
    int nt = 0;
    const gpsc_value_t *u = arr(in, "u");
    int T = u->shape[0], dU = u->shape[1];
    const gpsc_value_t *x = NULL, *ee = NULL, *tg = NULL;
    int dX = 4, P = 0;
    if (strcmp(vf->kind, "cost_action") == 0) {
        memset(&terms[0], 0, sizeof terms[0]);
        terms[0].type = GPSC_EXP_COST_ACTION;
        terms[0].weight = 1.0;
        const gpsc_value_t *wu = arr(in, "wu");
        terms[0].wu.n = (int)wu->n;
        terms[0].wu.v = wu->data;
        nt = 1;
    } else {
        x = arr(in, "x");
        ee = arr(in, "ee");
        tg = arr(in, "target");
        dX = x->shape[1];
        P = ee->shape[1];
        if (strcmp(vf->kind, "cost_fk") == 0) {
            fk_term(&terms[0], in, "");
            nt = 1;
        } else {
            const gpsc_value_t *w = arr(in, "weights");
            memset(&terms[0], 0, sizeof terms[0]);
            terms[0].type = GPSC_EXP_COST_ACTION;
            const gpsc_value_t *wu = arr(in, "wu");
            terms[0].wu.n = (int)wu->n;
            terms[0].wu.v = wu->data;
            fk_term(&terms[1], in, "fk1_");
            fk_term(&terms[2], in, "fk2_");
            for (int i = 0; i < 3; i++)
                terms[i].weight = w->data[i];
            nt = 3;
        }
    }
    double *X = calloc((size_t)T * dX, sizeof(double));
    if (x) memcpy(X, x->data, sizeof(double) * (size_t)T * dX);
    double *costs = calloc((size_t)T * nt, sizeof(double));
    double scratch[64];
    gpsc_taskcost_eval(costs, terms, nt, X, u->data, ee ? ee->data : NULL, tg ? tg->data : NULL, T,
                       dX, dU, P, scratch);
    const gpsc_value_t *l = arr(vf->outputs, "l");
    for (int t = 0; t < T; t++) {
        double v = 0;
        for (int i = 0; i < nt; i++)
            v += costs[t * nt + i];
        double want = l->data[t];
        if (fabs(v - want) > vf->atol + vf->rtol * fabs(want))
            fail_msg("%s: l[%d] = %.17g, reference %.17g", name, t, v, want);
    }
    free(X);
    free(costs);
    gpsc_vecfile_destroy(&vf);
}

static void test_costs_reference(void **state)
{
    (void)state;
    check_cost_file("cost_action_small");
    check_cost_file("cost_action_realistic");
    check_cost_file("cost_fk_small_logl2");
    check_cost_file("cost_fk_small_l1l2_linear");
    check_cost_file("cost_fk_realistic_logl2");
    check_cost_file("cost_sum_small");
    check_cost_file("cost_sum_realistic");
    /* ramps */
    assert_true(gpsc_taskcost_ramp(GPSC_EXP_RAMP_LINEAR, 2.0, 4, 10) == 0.5);
    assert_true(gpsc_taskcost_ramp(GPSC_EXP_RAMP_LINEAR, 2.0, 9, 10) == 2.0);
    assert_true(gpsc_taskcost_ramp(GPSC_EXP_RAMP_QUADRATIC, 1.0, 4, 10) == 0.25);
    assert_true(gpsc_taskcost_ramp(GPSC_EXP_RAMP_FINAL_ONLY, 10.0, 8, 10) == 0.0);
    assert_true(gpsc_taskcost_ramp(GPSC_EXP_RAMP_FINAL_ONLY, 10.0, 9, 10) == 10.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reacher),
        cmocka_unit_test(test_peg7),
        cmocka_unit_test(test_initial_controller),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_global),
        cmocka_unit_test(test_processes),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_costs_reference),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
