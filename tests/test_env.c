/* test_env.c — the MuJoCo environment: dimensions, state assembly against
 * mjData, end-effector Jacobians against finite differences of the
 * end-effector points, condition targets, and clear errors for missing,
 * malformed and unstable models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mujoco/mujoco.h>

#include "common/error.h"
#include "common/experiment.h"
#include "common/rng.h"
#include "worker/env.h"
#include "worker/rollout.h"

#define EXPDIR GPSC_SOURCE_DIR "/experiments"

static char tmpdir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gpsc_test_env_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *name, const char *text, char *path, size_t pathsz)
{
    snprintf(path, pathsz, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static gpsc_env_t *open_env(const char *path, gpsc_experiment_t *e)
{
    char err[1024] = "";
    int rc = gpsc_experiment_load(path, e, err, sizeof err);
    if (rc == 0) rc = gpsc_env_resolve_experiment(e, err, sizeof err);
    if (rc) fail_msg("%s", err);
    gpsc_env_t *env = gpsc_env_new(e, err, sizeof err);
    if (!env) fail_msg("%s", err);
    return env;
}

/* checks x against mjData and ee bookkeeping; prev_ee: world ee one step earlier */
static void check_state(gpsc_env_t *env, const double *x, const double *ee, const double *prev_ee,
                        int t)
{
    const gpsc_experiment_t *exp = gpsc_env_experiment(env);
    const gpsc_exp_dims_t *d = gpsc_env_dims(env);
    mjModel *m = gpsc_env_mj_model(env);
    mjData *dd = gpsc_env_mj_data(env);
    /* qpos / qvel blocks: all joints are hinges in these tasks, in model order */
    assert_int_equal(d->n_qpos, m->nq);
    for (int i = 0; i < m->nq; i++)
        assert_true(x[d->x_qpos + i] == dd->qpos[i]);
    for (int i = 0; i < m->nv; i++)
        assert_true(x[d->x_qvel + i] == dd->qvel[i]);
    const double *tg = gpsc_env_target(env);
    for (int s = 0; s < d->P / 3; s++) {
        int id = mj_name2id(m, mjOBJ_SITE, exp->ee_sites.names[s]);
        for (int k = 0; k < 3; k++) {
            double w = dd->site_xpos[3 * id + k];
            assert_true(ee[3 * s + k] == w);
            double rel = exp->ee_relative_to_target ? w - tg[3 * s + k] : w;
            assert_true(x[d->x_ee + 3 * s + k] == rel);
            double v = t == 0 ? 0.0 : (w - prev_ee[3 * s + k]) / exp->dt;
            assert_true(fabs(x[d->x_ee_vel + 3 * s + k] - v) <= 1e-15 * (1 + fabs(v)));
        }
    }
}

/* J (P x dQ) against central differences of the site positions in qpos */
static void check_jacobian(gpsc_env_t *env, const double *jac)
{
    const gpsc_experiment_t *exp = gpsc_env_experiment(env);
    const gpsc_exp_dims_t *d = gpsc_env_dims(env);
    mjModel *m = gpsc_env_mj_model(env);
    mjData *dd = gpsc_env_mj_data(env);
    mjData *sc = mj_makeData(m);
    const double h = 1e-6;
    double jmax = 0.0, emax = 0.0;
    for (int c = 0; c < d->dQ; c++) {
        double plus[64], minus[64];
        for (int sgn = 0; sgn < 2; sgn++) {
            memcpy(sc->qpos, dd->qpos, sizeof(double) * (size_t)m->nq);
            /* column c belongs to the c-th joint of qpos_joints */
            int j = mj_name2id(m, mjOBJ_JOINT, exp->qpos_joints.names[c]);
            sc->qpos[m->jnt_qposadr[j]] += sgn ? -h : h;
            mj_kinematics(m, sc);
            for (int s = 0; s < d->P / 3; s++) {
                int id = mj_name2id(m, mjOBJ_SITE, exp->ee_sites.names[s]);
                memcpy((sgn ? minus : plus) + 3 * s, sc->site_xpos + 3 * id, 3 * sizeof(double));
            }
        }
        for (int p = 0; p < d->P; p++) {
            double fd = (plus[p] - minus[p]) / (2 * h);
            double J = jac[p * d->dQ + c];
            jmax = fmax(jmax, fabs(J));
            emax = fmax(emax, fabs(J - fd));
        }
    }
    mj_deleteData(sc);
    assert_true(jmax > 0.05);
    if (emax > 1e-6 * jmax)
        fail_msg("Jacobian differs from finite differences: max |err| %g, max |J| %g", emax, jmax);
}

static void run_checks(const char *path, int dX, int dU, int dO, int P, int dQ)
{
    gpsc_experiment_t e;
    gpsc_env_t *env = open_env(path, &e);
    const gpsc_exp_dims_t *d = gpsc_env_dims(env);
    assert_int_equal(d->dX, dX);
    assert_int_equal(d->dU, dU);
    assert_int_equal(d->dO, dO);
    assert_int_equal(d->P, P);
    assert_int_equal(d->dQ, dQ);
    assert_true(gpsc_env_split_step(env));
    char err[512];
    double x[64], o[64], ee[64], prev[64], jac[64 * 8], u[16];
    gpsc_rng_t r;
    gpsc_rng_init5(&r, 5, 0, 0, 0, GPSC_RNG_TEST);
    mjModel *m = gpsc_env_mj_model(env);
    /* the model's timestep follows the YAML */
    assert_true(fabs(m->opt.timestep * e.substeps - e.dt) < 1e-15);
    for (int c = 0; c < gpsc_experiment_n_conditions(&e); c++) {
        assert_int_equal(gpsc_env_reset(env, c, NULL, err, sizeof err), 0);
        for (int t = 0; t < 12; t++) {
            assert_int_equal(gpsc_env_t_index(env), t);
            assert_int_equal(gpsc_env_observe(env, x, o, ee, jac, err, sizeof err), 0);
            check_state(env, x, ee, prev, t);
            /* the default observation is the state */
            assert_memory_equal(o, x, sizeof(double) * (size_t)dX);
            if (t % 4 == 3) check_jacobian(env, jac);
            memcpy(prev, ee, sizeof(double) * (size_t)P);
            for (int i = 0; i < dU; i++)
                u[i] = 0.5 * m->actuator_ctrlrange[2 * i + 1] * gpsc_rng_normal(&r);
            assert_int_equal(gpsc_env_step(env, u, err, sizeof err), 0);
        }
    }
    /* actuated joints are the first dU qpos/qvel entries here */
    int qi[16], vi[16];
    assert_int_equal(gpsc_env_actuated_indices(env, qi, vi, err, sizeof err), 0);
    for (int i = 0; i < dU; i++) {
        assert_int_equal(qi[i], i);
        assert_int_equal(vi[i], d->n_qpos + i);
    }
    /* errors of the step interface */
    u[0] = NAN;
    assert_int_equal(gpsc_env_step(env, u, err, sizeof err), GPSC_ENONFINITE);
    assert_int_equal(gpsc_env_reset(env, 99, NULL, err, sizeof err), GPSC_ERANGE);
    gpsc_env_destroy(&env);
    assert_null(env);
    gpsc_env_destroy(&env);
    gpsc_experiment_free(&e);
}

static void test_reacher(void **state)
{
    (void)state;
    run_checks(EXPDIR "/reacher.yaml", 10, 2, 10, 3, 2);
}

static void test_peg7(void **state)
{
    (void)state;
    run_checks(EXPDIR "/peg7.yaml", 26, 7, 26, 6, 7);
    /* slot targets: condition 2 moves the slot by (-0.1, -0.1, 0) */
    gpsc_experiment_t e;
    gpsc_env_t *env = open_env(EXPDIR "/peg7.yaml", &e);
    char err[256];
    assert_int_equal(gpsc_env_reset(env, 2, NULL, err, sizeof err), 0);
    const double *tg = gpsc_env_target(env);
    const double want[6] = {-0.1, 0.2, -0.5, -0.1, 0.2, -0.2};
    for (int i = 0; i < 6; i++)
        assert_true(fabs(tg[i] - want[i]) < 1e-12);
    /* and the slot geoms moved with it */
    mjModel *m = gpsc_env_mj_model(env);
    mjData *dd = gpsc_env_mj_data(env);
    int g = mj_name2id(m, mjOBJ_GEOM, "slot_floor");
    assert_true(fabs(dd->geom_xpos[3 * g + 0] - -0.1) < 1e-12);
    assert_true(fabs(dd->geom_xpos[3 * g + 1] - 0.2) < 1e-12);
    /* a reset to another condition restores the model's position first */
    assert_int_equal(gpsc_env_reset(env, 4, NULL, err, sizeof err), 0);
    assert_true(fabs(dd->geom_xpos[3 * g + 0] - 0.05) < 1e-12);
    gpsc_env_destroy(&env);
    gpsc_experiment_free(&e);
}

/* damped least-squares IK on the arm's joints (limits respected) that puts
 * peg_tip at slot_bottom + off and peg_top at slot_top + off; returns the
 * remaining error (m) */
static double peg_ik(mjModel *m, mjData *d, const double off[3])
{
    int s1 = mj_name2id(m, mjOBJ_SITE, "peg_tip"), s2 = mj_name2id(m, mjOBJ_SITE, "peg_top");
    int t1 = mj_name2id(m, mjOBJ_SITE, "slot_bottom"), t2 = mj_name2id(m, mjOBJ_SITE, "slot_top");
    double en = 0.0;
    for (int it = 0; it < 3000; it++) {
        mj_kinematics(m, d);
        mj_comPos(m, d);
        double e[6], J[6 * 7], A[36], b[6];
        for (int k = 0; k < 3; k++) {
            e[k] = d->site_xpos[3 * t1 + k] + off[k] - d->site_xpos[3 * s1 + k];
            e[3 + k] = d->site_xpos[3 * t2 + k] + off[k] - d->site_xpos[3 * s2 + k];
        }
        mj_jacSite(m, d, J, NULL, s1);
        mj_jacSite(m, d, J + 21, NULL, s2);
        en = 0.0;
        for (int k = 0; k < 6; k++)
            en += e[k] * e[k];
        en = sqrt(en);
        for (int i = 0; i < 6; i++) {
            b[i] = e[i];
            for (int j = 0; j < 6; j++) {
                double v = i == j ? 1e-4 : 0.0;
                for (int k = 0; k < 7; k++)
                    v += J[i * 7 + k] * J[j * 7 + k];
                A[i * 6 + j] = v;
            }
        }
        for (int i = 0; i < 6; i++)
            for (int r = i + 1; r < 6; r++) {
                double f = A[r * 6 + i] / A[i * 6 + i];
                for (int k = i; k < 6; k++)
                    A[r * 6 + k] -= f * A[i * 6 + k];
                b[r] -= f * b[i];
            }
        for (int i = 5; i >= 0; i--) {
            for (int k = i + 1; k < 6; k++)
                b[i] -= A[i * 6 + k] * b[k];
            b[i] /= A[i * 6 + i];
        }
        for (int k = 0; k < 7; k++) {
            double dq = 0.0;
            for (int i = 0; i < 6; i++)
                dq += J[i * 7 + k] * b[i];
            d->qpos[k] += 0.5 * dq;
            if (m->jnt_limited[k])
                d->qpos[k] = fmin(fmax(d->qpos[k], m->jnt_range[2 * k]), m->jnt_range[2 * k + 1]);
        }
    }
    mj_forward(m, d);
    return en;
}

/* the slot is a real slot: for every condition there is a joint
 * configuration inside the limits with the peg fully inserted (tip 5 mm
 * above the bottom) that touches nothing, and the same pose moved 2 cm
 * sideways runs the peg into the slot's walls */
static void test_peg7_insertable(void **state)
{
    (void)state;
    gpsc_experiment_t e;
    gpsc_env_t *env = open_env(EXPDIR "/peg7.yaml", &e);
    mjModel *m = gpsc_env_mj_model(env);
    mjData *d = gpsc_env_mj_data(env);
    char err[256];
    int peg = mj_name2id(m, mjOBJ_GEOM, "peg");
    for (int c = 0; c < gpsc_experiment_n_conditions(&e); c++) {
        assert_int_equal(gpsc_env_reset(env, c, NULL, err, sizeof err), 0);
        /* the start: peg above the slot's plate, no contact */
        assert_int_equal(d->ncon, 0);
        double in[3] = {0, 0, 0.005};
        double res = peg_ik(m, d, in);
        if (res > 1e-6) fail_msg("condition %d: IK error %g", c, res);
        assert_int_equal(d->ncon, 0);
        int tip = mj_name2id(m, mjOBJ_SITE, "peg_tip");
        int slot = mj_name2id(m, mjOBJ_BODY, "slot");
        /* tip below the plate's top face: inside the slot */
        assert_true(d->site_xpos[3 * tip + 2] < d->xpos[3 * slot + 2] + 0.1 - 0.05);
        double side[3] = {0.02, 0, 0.005};
        res = peg_ik(m, d, side);
        assert_true(res < 1e-6);
        double deepest = 0.0;
        for (int i = 0; i < d->ncon; i++)
            if (d->contact[i].geom1 == peg || d->contact[i].geom2 == peg)
                deepest = fmin(deepest, d->contact[i].dist);
        assert_true(deepest < -0.005);
    }
    gpsc_env_destroy(&env);
    gpsc_experiment_free(&e);
}

static const char *arm_xml =
    "<mujoco>\n"
    "  <option timestep='0.01' gravity='0 0 0' integrator='%s'/>\n"
    "  <worldbody>\n"
    "    <body name='a' pos='0 0 0'>\n"
    "      <joint name='j0' type='hinge' axis='0 0 1' damping='0.1' armature='0.01'/>\n"
    "      <geom type='capsule' fromto='0 0 0 0.1 0 0' size='0.01'/>\n"
    "      <body name='b' pos='0.1 0 0'>\n"
    "        <joint name='j1' type='hinge' axis='0 1 0' damping='0.1' armature='0.01'/>\n"
    "        <geom type='capsule' fromto='0 0 0 0.1 0 0.05' size='0.01'/>\n"
    "        <site name='tip' pos='0.1 0 0.05'/>\n"
    "      </body>\n"
    "    </body>\n"
    "    <body name='goal' pos='0.1 0.1 0'><site name='goal'/></body>\n"
    "  </worldbody>\n"
    "  <sensor><jointpos joint='j1'/></sensor>\n"
    "  <actuator><motor joint='j1' gear='%s'/><motor joint='j0' gear='%s'/></actuator>\n"
    "</mujoco>\n";

static const char *arm_yaml =
    "name: arm\nmodel: %s\nT: 20\ndt: 0.05\nsubsteps: 5\n"
    "state:\n  qpos_joints: [j1, j0]\n  qvel_joints: [j0, j1]\n  ee_sites: [tip]\n"
    "  ee_velocity_mode: jacobian\n"
    "observation: [target, qvel, sensors, ee]\n"
    "target_sites: [goal]\n"
    "conditions: {train: [{qpos: [0.3, -0.4], qvel: [1.0, -2.0]}]}\n"
    "cost: [{type: action, wu: 1}, {type: fk}]\n"
    "init_controller: {type: init_pd, pos_gains: 1.0, init_var: 1.0}\n"
    "noise: {smooth: false}\n";

/* a state layout in another order, Jacobian-mode velocities, an observation
 * with target and sensor blocks */
static void layouts(const char *integrator)
{
    char xml[256], yaml[256], text[2048];
    snprintf(text, sizeof text, arm_xml, integrator, "1", "1");
    write_file("arm.xml", text, xml, sizeof xml);
    snprintf(text, sizeof text, arm_yaml, "arm.xml");
    write_file("arm.yaml", text, yaml, sizeof yaml);
    gpsc_experiment_t e;
    gpsc_env_t *env = open_env(yaml, &e);
    /* Euler: split mj_step1/mj_step2; RK4: mj_step then mj_forward */
    assert_int_equal(gpsc_env_split_step(env), strcmp(integrator, "RK4") != 0);
    const gpsc_exp_dims_t *d = gpsc_env_dims(env);
    assert_int_equal(d->dX, 2 + 2 + 3 + 3);
    assert_int_equal(d->dO, 3 + 2 + 1 + 3);
    char err[256];
    double x[16], o[16], ee[3], jac[6];
    assert_int_equal(gpsc_env_reset(env, 0, NULL, err, sizeof err), 0);
    mjData *dd = gpsc_env_mj_data(env);
    for (int t = 0; t < 5; t++) {
        assert_int_equal(gpsc_env_observe(env, x, o, ee, jac, err, sizeof err), 0);
        /* qpos_joints [j1, j0], qvel_joints [j0, j1] */
        assert_true(x[0] == dd->qpos[1] && x[1] == dd->qpos[0]);
        assert_true(x[2] == dd->qvel[0] && x[3] == dd->qvel[1]);
        /* Jacobian columns follow qpos_joints; ee velocity = J q_dot exactly */
        for (int k = 0; k < 3; k++) {
            double v = jac[k * 2 + 0] * dd->qvel[1] + jac[k * 2 + 1] * dd->qvel[0];
            assert_true(fabs(x[7 + k] - v) < 1e-14);
        }
        check_jacobian(env, jac);
        /* observation: target, qvel, sensors, ee */
        const double *tg = gpsc_env_target(env);
        assert_memory_equal(o, tg, 3 * sizeof(double));
        assert_true(o[3] == x[2] && o[4] == x[3]);
        assert_true(o[5] == dd->sensordata[0]);
        assert_memory_equal(o + 6, x + 4, 3 * sizeof(double));
        double u[2] = {0.1, -0.2};
        assert_int_equal(gpsc_env_step(env, u, err, sizeof err), 0);
    }
    /* actuator 0 drives j1 (x index 0, velocity index 3), actuator 1 j0 */
    int qi[2], vi[2];
    assert_int_equal(gpsc_env_actuated_indices(env, qi, vi, err, sizeof err), 0);
    assert_int_equal(qi[0], 0);
    assert_int_equal(vi[0], 3);
    assert_int_equal(qi[1], 1);
    assert_int_equal(vi[1], 2);
    gpsc_env_destroy(&env);
    gpsc_experiment_free(&e);
}

static void test_layouts(void **state)
{
    (void)state;
    layouts("Euler");
    layouts("RK4");
}

static void test_missing_and_malformed(void **state)
{
    (void)state;
    char yaml[256], xml[256], text[2048], err[1024];
    gpsc_experiment_t e;
    /* missing model file */
    snprintf(text, sizeof text, arm_yaml, "nothere.xml");
    write_file("missing.yaml", text, yaml, sizeof yaml);
    assert_int_equal(gpsc_experiment_load(yaml, &e, err, sizeof err), 0);
    int rc = gpsc_env_resolve_experiment(&e, err, sizeof err);
    assert_int_equal(rc, GPSC_ENOENT);
    assert_non_null(strstr(err, "nothere.xml"));
    assert_non_null(strstr(err, "No such file"));
    gpsc_experiment_free(&e);
    /* malformed XML: MuJoCo's message with its line number */
    write_file("bad.xml",
               "<mujoco>\n  <worldbody>\n    <body name='x'>\n  </worldbody>\n</mujoco>\n", xml,
               sizeof xml);
    snprintf(text, sizeof text, arm_yaml, "bad.xml");
    write_file("bad.yaml", text, yaml, sizeof yaml);
    assert_int_equal(gpsc_experiment_load(yaml, &e, err, sizeof err), 0);
    rc = gpsc_env_resolve_experiment(&e, err, sizeof err);
    assert_int_equal(rc, GPSC_EMODEL);
    assert_non_null(strstr(err, xml));
    if (!strstr(err, "Line number=3")) fail_msg("no line number in: %s", err);
    assert_null(strchr(err, '\n'));
    gpsc_experiment_free(&e);
    /* valid XML that MuJoCo refuses (unknown attribute) */
    write_file("bad2.xml",
               "<mujoco>\n  <worldbody>\n    <geom type='sphere' size='0.1' "
               "colour='red'/>\n  </worldbody>\n</mujoco>\n",
               xml, sizeof xml);
    snprintf(text, sizeof text, arm_yaml, "bad2.xml");
    write_file("bad2.yaml", text, yaml, sizeof yaml);
    assert_int_equal(gpsc_experiment_load(yaml, &e, err, sizeof err), 0);
    rc = gpsc_env_resolve_experiment(&e, err, sizeof err);
    assert_int_equal(rc, GPSC_EMODEL);
    assert_non_null(strstr(err, "bad2.xml"));
    assert_non_null(strstr(err, "colour"));
    gpsc_experiment_free(&e);
    /* an empty file */
    write_file("empty.xml", "", xml, sizeof xml);
    snprintf(text, sizeof text, arm_yaml, "empty.xml");
    write_file("empty.yaml", text, yaml, sizeof yaml);
    assert_int_equal(gpsc_experiment_load(yaml, &e, err, sizeof err), 0);
    assert_int_equal(gpsc_env_resolve_experiment(&e, err, sizeof err), GPSC_EMODEL);
    assert_non_null(strstr(err, "empty.xml"));
    gpsc_experiment_free(&e);
    /* an unresolved experiment is refused */
    assert_null(gpsc_env_new(&e, err, sizeof err));
}

/* a model whose gears turn any action into a huge acceleration: MuJoCo
 * resets the simulation; the env reports it and the rollout fails with a
 * reason instead of returning data */
static void test_unstable(void **state)
{
    (void)state;
    char xml[256], yaml[256], text[2048], err[512];
    snprintf(text, sizeof text, arm_xml, "Euler", "1e14", "1e14");
    write_file("unstable.xml", text, xml, sizeof xml);
    snprintf(text, sizeof text, arm_yaml, "unstable.xml");
    write_file("unstable.yaml", text, yaml, sizeof yaml);
    gpsc_experiment_t e;
    gpsc_env_t *env = open_env(yaml, &e);
    assert_int_equal(gpsc_env_reset(env, 0, NULL, err, sizeof err), 0);
    double u[2] = {1.0, 1.0};
    int rc = 0;
    for (int t = 0; t < 20 && rc == 0; t++)
        rc = gpsc_env_step(env, u, err, sizeof err);
    assert_int_equal(rc, GPSC_ESIM);
    assert_non_null(strstr(err, "unstable"));
    assert_non_null(strstr(err, "unstable.xml: step "));

    /* the same through a rollout under a PD controller with noise */
    gpsc_rollout_t *ro = gpsc_rollout_new(env);
    gpsc_sample_t *s = gpsc_sample_new(gpsc_env_dims(env), e.T, e.n_costs);
    gpsc_lgpolicy_t *lg = gpsc_lgpolicy_new(e.T, gpsc_env_dims(env)->dX, 2);
    gpsc_rollout_policy_t pol = {.kind = GPSC_POLICY_LOCAL, .lg = lg};
    gpsc_rollout_key_t key = {1, 0, 0, 0};
    assert_int_equal(gpsc_rollout_run(ro, s, &pol, &key, false, err, sizeof err), 0);
    assert_int_equal(s->status, GPSC_ESIM);
    assert_true(s->fail_step >= 0 && s->fail_step < e.T);
    assert_non_null(strstr(s->reason, "unstable.xml"));
    assert_non_null(strstr(s->reason, "the simulation is unstable"));
    /* a healthy reset afterwards works */
    assert_int_equal(gpsc_env_reset(env, 0, NULL, err, sizeof err), 0);
    gpsc_lgpolicy_destroy(&lg);
    gpsc_sample_destroy(&s);
    gpsc_rollout_destroy(&ro);
    gpsc_env_destroy(&env);
    gpsc_experiment_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reacher),
        cmocka_unit_test(test_peg7),
        cmocka_unit_test(test_peg7_insertable),
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_missing_and_malformed),
        cmocka_unit_test(test_unstable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
