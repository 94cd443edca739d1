/* env.c — MuJoCo environment of a task (see env.h). */
#include "worker/env.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mujoco/mujoco.h>

#include "common/error.h"

struct gpsc_env {
    const gpsc_experiment_t *exp; /* borrowed, resolved */
    gpsc_exp_dims_t dims;
    mjModel *m;
    mjData *d;
    bool split;        /* Euler/implicit: mj_step1/mj_step2 path */
    double *body_pos0; /* (nbody x 3) the model's body positions */
    int *qpos_adr;     /* (n_qpos) qpos index of each x qpos entry */
    int *qvel_adr;     /* (n_qvel) qvel index of each x qvel entry */
    int *jac_col;      /* (dQ) dof of each Jacobian column */
    int *site_id;      /* (P/3) ee sites */
    int *act_id;       /* (dU) actuators */
    double *jacp;      /* (3 x nv) scratch for mj_jacSite */
    double *ee_cur;    /* (P) world ee points of the current state */
    double *ee_prev;   /* (P) world ee points one control step earlier */
    double *target;    /* (P) the condition's target */
    int cond;          /* current condition, -1 before the first reset */
    int t;             /* control steps since the reset */
    double sim_s;      /* (s) inside MuJoCo stepping */
};

/* MuJoCo prints warnings by default; gpsc reads its counters instead */
static void quiet_warning(const char *msg)
{
    (void)msg;
}

static void install_quiet_warning(void)
{
    if (!mju_user_warning) mju_user_warning = quiet_warning;
}

/* MuJoCo error text on one line: newlines become spaces, runs of spaces one */
static void one_line(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        char c = *r == '\n' || *r == '\r' || *r == '\t' ? ' ' : *r;
        if (c == ' ' && (w == s || w[-1] == ' ')) continue;
        *w++ = c;
    }
    while (w > s && w[-1] == ' ')
        w--;
    *w = 0;
}

static mjModel *load_model(const char *path, int *rc, char *err, size_t errsz)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errsz, "%s: cannot open model: %s", path, strerror(e));
        *rc = e == ENOENT ? GPSC_ENOENT : GPSC_EMODEL;
        return NULL;
    }
    fclose(f);
    char buf[1024] = "";
    mjModel *m = mj_loadXML(path, NULL, buf, sizeof buf);
    if (!m) {
        one_line(buf);
        snprintf(err, errsz, "%s: MuJoCo could not load the model: %s", path,
                 buf[0] ? buf : "unknown error");
        *rc = GPSC_EMODEL;
        return NULL;
    }
    *rc = 0;
    return m;
}

static int joint_nq(int type)
{
    return type == mjJNT_FREE ? 7 : type == mjJNT_BALL ? 4 : 1;
}

static int joint_nv(int type)
{
    return type == mjJNT_FREE ? 6 : type == mjJNT_BALL ? 3 : 1;
}

/* Names of model elements as the experiment uses them: the MJCF name, or
 * "#<index>" for an unnamed element (so "all" works on unnamed joints and
 * actuators). buf holds at least 16 bytes. */
static const char *elem_name(const mjModel *m, int type, int id, char *buf)
{
    const char *s = mj_id2name(m, type, id);
    if (s && *s) return s;
    snprintf(buf, 16, "#%d", id);
    return buf;
}

/* inverse of elem_name; -1 when absent */
static int elem_id(const mjModel *m, int type, const char *name)
{
    if (name[0] == '#' && name[1]) {
        char *end = NULL;
        long v = strtol(name + 1, &end, 10);
        int n = type == mjOBJ_JOINT      ? m->njnt
                : type == mjOBJ_ACTUATOR ? m->nu
                : type == mjOBJ_SITE     ? m->nsite
                : type == mjOBJ_BODY     ? m->nbody
                                         : 0;
        if (*end == 0 && v >= 0 && v < n) {
            const char *s = mj_id2name(m, type, (int)v);
            return s && *s ? -1 : (int)v;
        }
    }
    return mj_name2id(m, type, name);
}

/* body position offsets of condition cd; returns -1 + error on an unknown body */
static int apply_offsets(mjModel *m, const double *pos0, const gpsc_exp_condition_t *cd,
                         const char *yaml, char *err, size_t errsz)
{
    memcpy(m->body_pos, pos0, sizeof(double) * 3 * (size_t)m->nbody);
    for (int i = 0; i < cd->n_offsets; i++) {
        int b = elem_id(m, mjOBJ_BODY, cd->offsets[i].body);
        if (b <= 0) {
            snprintf(err, errsz, "%s:%d:%d: the model has no body named '%s'%s", yaml,
                     cd->line > 0 ? cd->line : 1, cd->column > 0 ? cd->column : 1,
                     cd->offsets[i].body, b == 0 ? " (the world body cannot move)" : "");
            return GPSC_ECONFIG;
        }
        for (int k = 0; k < 3; k++)
            m->body_pos[3 * b + k] += cd->offsets[i].pos[k];
    }
    return 0;
}

int gpsc_env_resolve_experiment(gpsc_experiment_t *exp, char *err, size_t errsz)
{
    install_quiet_warning();
    int rc = 0;
    mjModel *m = load_model(exp->model, &rc, err, errsz);
    if (!m) return rc;
    mjData *d = mj_makeData(m);
    const char **jn = calloc((size_t)m->njnt + 1, sizeof(char *));
    int *jq = calloc((size_t)m->njnt + 1, sizeof(int));
    int *js = calloc((size_t)m->njnt + 1, sizeof(int));
    const char **an = calloc((size_t)m->nu + 1, sizeof(char *));
    const char **sn = calloc((size_t)m->nsite + 1, sizeof(char *));
    int nc = gpsc_experiment_n_conditions(exp);
    int nt = exp->target_sites.n;
    double *targets = calloc((size_t)(nc * 3 * nt) + 1, sizeof(double));
    double *pos0 = calloc((size_t)m->nbody * 3, sizeof(double));
    char *names = NULL;
    if (!d || !jn || !jq || !js || !an || !sn || !targets || !pos0) {
        snprintf(err, errsz, "out of memory");
        rc = GPSC_ENOMEM;
        goto done;
    }
    names = calloc((size_t)(m->njnt + m->nu + m->nsite) + 1, 16);
    if (!names) {
        snprintf(err, errsz, "out of memory");
        rc = GPSC_ENOMEM;
        goto done;
    }
    for (int i = 0; i < m->njnt; i++) {
        jn[i] = elem_name(m, mjOBJ_JOINT, i, names + 16 * (size_t)i);
        jq[i] = joint_nq(m->jnt_type[i]);
        js[i] = m->jnt_type[i] == mjJNT_HINGE || m->jnt_type[i] == mjJNT_SLIDE;
    }
    for (int i = 0; i < m->nu; i++)
        an[i] = elem_name(m, mjOBJ_ACTUATOR, i, names + 16 * (size_t)(m->njnt + i));
    for (int i = 0; i < m->nsite; i++)
        sn[i] = elem_name(m, mjOBJ_SITE, i, names + 16 * (size_t)(m->njnt + m->nu + i));
    memcpy(pos0, m->body_pos, sizeof(double) * 3 * (size_t)m->nbody);

    /* check every condition's bodies; compute target_sites per condition */
    bool sites_ok = true;
    int *tid = calloc((size_t)nt + 1, sizeof(int));
    for (int i = 0; i < nt; i++) {
        tid[i] = elem_id(m, mjOBJ_SITE, exp->target_sites.names[i]);
        if (tid[i] < 0) sites_ok = false; /* gpsc_experiment_resolve reports the name */
    }
    for (int c = 0; c < nc && rc == 0; c++) {
        const gpsc_exp_condition_t *cd = gpsc_experiment_condition(exp, c);
        rc = apply_offsets(m, pos0, cd, exp->path, err, errsz);
        if (rc || nt == 0 || !sites_ok) continue;
        mj_resetData(m, d);
        if (cd->qpos.n == m->nq) memcpy(d->qpos, cd->qpos.v, sizeof(double) * (size_t)m->nq);
        mj_kinematics(m, d);
        for (int i = 0; i < nt; i++)
            memcpy(targets + (size_t)(c * 3 * nt + 3 * i), d->site_xpos + 3 * tid[i],
                   3 * sizeof(double));
    }
    free(tid);
    if (rc) goto done;

    gpsc_exp_model_info_t info = {.nq = m->nq,
                                  .nv = m->nv,
                                  .nu = m->nu,
                                  .nsensordata = m->nsensordata,
                                  .njnt = m->njnt,
                                  .joint_names = jn,
                                  .joint_nq = jq,
                                  .joint_scalar = js,
                                  .actuator_names = an,
                                  .nsite = m->nsite,
                                  .site_names = sn,
                                  .site_targets = nt > 0 && sites_ok ? targets : NULL};
    rc = gpsc_experiment_resolve(exp, &info, err, errsz);
done:
    free(names);
    free(jn);
    free(jq);
    free(js);
    free(an);
    free(sn);
    free(targets);
    free(pos0);
    if (d) mj_deleteData(d);
    mj_deleteModel(m);
    return rc;
}

gpsc_env_t *gpsc_env_new(const gpsc_experiment_t *exp, char *err, size_t errsz)
{
    if (!exp || !exp->resolved) {
        snprintf(err, errsz, "gpsc_env_new: the experiment is not resolved");
        return NULL;
    }
    install_quiet_warning();
    int rc = 0;
    mjModel *m = load_model(exp->model, &rc, err, errsz);
    if (!m) return NULL;
    const gpsc_exp_dims_t *dm = &exp->dims;
    if (m->nq != dm->nq || m->nv != dm->nv || m->nu != dm->nu) {
        snprintf(err, errsz, "%s: the model changed since the experiment was resolved", exp->model);
        mj_deleteModel(m);
        return NULL;
    }
    gpsc_env_t *e = calloc(1, sizeof *e);
    if (!e) {
        mj_deleteModel(m);
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    e->exp = exp;
    e->dims = *dm;
    e->m = m;
    e->cond = -1;
    /* the YAML's dt is the authority: dt / substeps per physics step */
    m->opt.timestep = exp->dt / exp->substeps;
    e->split = m->opt.integrator == mjINT_EULER
#ifdef mjINT_IMPLICIT
               || m->opt.integrator == mjINT_IMPLICIT
#endif
        ;
    e->d = mj_makeData(m);
    int P = dm->P;
    e->body_pos0 = calloc((size_t)m->nbody * 3, sizeof(double));
    e->qpos_adr = calloc((size_t)dm->n_qpos + 1, sizeof(int));
    e->qvel_adr = calloc((size_t)dm->n_qvel + 1, sizeof(int));
    e->jac_col = calloc((size_t)dm->dQ + 1, sizeof(int));
    e->site_id = calloc((size_t)P / 3 + 1, sizeof(int));
    e->act_id = calloc((size_t)dm->dU, sizeof(int));
    e->jacp = calloc(3 * (size_t)m->nv + 1, sizeof(double));
    e->ee_cur = calloc((size_t)P + 1, sizeof(double));
    e->ee_prev = calloc((size_t)P + 1, sizeof(double));
    e->target = calloc((size_t)P + 1, sizeof(double));
    if (!e->d || !e->body_pos0 || !e->qpos_adr || !e->qvel_adr || !e->jac_col || !e->site_id ||
        !e->act_id || !e->jacp || !e->ee_cur || !e->ee_prev || !e->target) {
        snprintf(err, errsz, "out of memory");
        gpsc_env_destroy(&e);
        return NULL;
    }
    memcpy(e->body_pos0, m->body_pos, sizeof(double) * 3 * (size_t)m->nbody);

    /* index maps from the resolved names */
    int k = 0;
    for (int i = 0; i < exp->qpos_joints.n; i++) {
        int j = elem_id(m, mjOBJ_JOINT, exp->qpos_joints.names[i]);
        if (j < 0) goto changed;
        int n = joint_nq(m->jnt_type[j]);
        for (int a = 0; a < n; a++) {
            if (k >= dm->n_qpos) goto changed;
            if (n == 1 && k < dm->dQ) e->jac_col[k] = m->jnt_dofadr[j];
            e->qpos_adr[k++] = m->jnt_qposadr[j] + a;
        }
    }
    if (k != dm->n_qpos) goto changed;
    k = 0;
    for (int i = 0; i < exp->qvel_joints.n; i++) {
        int j = elem_id(m, mjOBJ_JOINT, exp->qvel_joints.names[i]);
        if (j < 0) goto changed;
        int n = joint_nv(m->jnt_type[j]);
        for (int a = 0; a < n; a++) {
            if (k >= dm->n_qvel) goto changed;
            e->qvel_adr[k++] = m->jnt_dofadr[j] + a;
        }
    }
    if (k != dm->n_qvel) goto changed;
    for (int i = 0; i < exp->ee_sites.n; i++)
        if ((e->site_id[i] = elem_id(m, mjOBJ_SITE, exp->ee_sites.names[i])) < 0) goto changed;
    for (int i = 0; i < exp->actuators.n; i++)
        if ((e->act_id[i] = elem_id(m, mjOBJ_ACTUATOR, exp->actuators.names[i])) < 0) goto changed;
    return e;
changed:
    snprintf(err, errsz, "%s: the model changed since the experiment was resolved", exp->model);
    gpsc_env_destroy(&e);
    return NULL;
}

void gpsc_env_destroy(gpsc_env_t **p)
{
    if (!p || !*p) return;
    gpsc_env_t *e = *p;
    if (e->d) mj_deleteData(e->d);
    if (e->m) mj_deleteModel(e->m);
    free(e->body_pos0);
    free(e->qpos_adr);
    free(e->qvel_adr);
    free(e->jac_col);
    free(e->site_id);
    free(e->act_id);
    free(e->jacp);
    free(e->ee_cur);
    free(e->ee_prev);
    free(e->target);
    free(e);
    *p = NULL;
}

const gpsc_experiment_t *gpsc_env_experiment(const gpsc_env_t *e)
{
    return e->exp;
}

const gpsc_exp_dims_t *gpsc_env_dims(const gpsc_env_t *e)
{
    return &e->dims;
}

const double *gpsc_env_target(const gpsc_env_t *e)
{
    return e->dims.P > 0 ? e->target : NULL;
}

int gpsc_env_actuated_indices(const gpsc_env_t *e, int *qidx, int *vidx, char *err, size_t errsz)
{
    const mjModel *m = e->m;
    for (int i = 0; i < e->dims.dU; i++) {
        int a = e->act_id[i];
        int j = m->actuator_trnid[2 * a];
        char nb[16];
        const char *an = elem_name(m, mjOBJ_ACTUATOR, a, nb);
        if (m->actuator_trntype[a] != mjTRN_JOINT ||
            (m->jnt_type[j] != mjJNT_HINGE && m->jnt_type[j] != mjJNT_SLIDE)) {
            snprintf(err, errsz, "actuator '%s' does not drive a hinge or slide joint", an);
            return GPSC_ECONFIG;
        }
        qidx[i] = vidx[i] = -1;
        for (int k = 0; k < e->dims.n_qpos; k++)
            if (e->qpos_adr[k] == m->jnt_qposadr[j]) qidx[i] = e->dims.x_qpos + k;
        for (int k = 0; k < e->dims.n_qvel; k++)
            if (e->qvel_adr[k] == m->jnt_dofadr[j]) vidx[i] = e->dims.x_qvel + k;
        if (qidx[i] < 0 || vidx[i] < 0) {
            snprintf(err, errsz, "the joint of actuator '%s' is not in the state", an);
            return GPSC_ECONFIG;
        }
    }
    return 0;
}

int gpsc_env_actuator_id(const gpsc_env_t *e, int i)
{
    return i >= 0 && i < e->dims.dU ? e->act_id[i] : -1;
}

int gpsc_env_t_index(const gpsc_env_t *e)
{
    return e->t;
}

double gpsc_env_sim_seconds(const gpsc_env_t *e)
{
    return e->sim_s;
}

void *gpsc_env_mj_model(gpsc_env_t *e)
{
    return e->m;
}

void *gpsc_env_mj_data(gpsc_env_t *e)
{
    return e->d;
}

bool gpsc_env_split_step(const gpsc_env_t *e)
{
    return e->split;
}

const char *gpsc_env_mujoco_version(void)
{
    return mj_versionString();
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* MuJoCo's instability counters since the reset */
static int check_unstable(gpsc_env_t *e, char *err, size_t errsz)
{
    static const struct {
        int w;
        const char *what;
    } bad[] = {{mjWARN_BADQPOS, "qpos"}, {mjWARN_BADQVEL, "qvel"}, {mjWARN_BADQACC, "qacc"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const mjWarningStat *w = &e->d->warning[bad[i].w];
        if (w->number > 0) {
            snprintf(err, errsz,
                     "%s: step %d: MuJoCo found a NaN or huge value in %s at dof %d (the "
                     "simulation is unstable)",
                     e->exp->model, e->t, bad[i].what, w->lastinfo);
            return GPSC_ESIM;
        }
    }
    return 0;
}

static void read_ee(gpsc_env_t *e)
{
    int ns = e->dims.P / 3;
    for (int i = 0; i < ns; i++)
        memcpy(e->ee_cur + 3 * i, e->d->site_xpos + 3 * e->site_id[i], 3 * sizeof(double));
}

int gpsc_env_reset(gpsc_env_t *e, int c, const double *x0_eps, char *err, size_t errsz)
{
    const gpsc_exp_condition_t *cd = gpsc_experiment_condition(e->exp, c);
    if (!cd) {
        snprintf(err, errsz, "condition %d does not exist (%d conditions)", c,
                 gpsc_experiment_n_conditions(e->exp));
        return GPSC_ERANGE;
    }
    mjModel *m = e->m;
    mjData *d = e->d;
    int rc = apply_offsets(m, e->body_pos0, cd, e->exp->path, err, errsz);
    if (rc) return rc;
    mj_resetData(m, d);
    if (cd->qpos.n == m->nq) memcpy(d->qpos, cd->qpos.v, sizeof(double) * (size_t)m->nq);
    if (cd->qvel.n == m->nv) memcpy(d->qvel, cd->qvel.v, sizeof(double) * (size_t)m->nv);
    if (x0_eps && cd->x0_noise.n == m->nq + m->nv) {
        for (int i = 0; i < m->nq; i++)
            d->qpos[i] += cd->x0_noise.v[i] * x0_eps[i];
        for (int i = 0; i < m->nv; i++)
            d->qvel[i] += cd->x0_noise.v[m->nq + i] * x0_eps[m->nq + i];
    }
    for (int i = 0; i < e->dims.P; i++)
        e->target[i] = cd->target.n == e->dims.P ? cd->target.v[i] : 0.0;
    e->cond = c;
    e->t = 0;
    double t0 = now_s();
    if (e->split)
        mj_step1(m, d);
    else
        mj_forward(m, d);
    e->sim_s += now_s() - t0;
    read_ee(e);
    memcpy(e->ee_prev, e->ee_cur, sizeof(double) * (size_t)e->dims.P);
    return check_unstable(e, err, errsz);
}

int gpsc_env_step(gpsc_env_t *e, const double *u, char *err, size_t errsz)
{
    mjModel *m = e->m;
    mjData *d = e->d;
    int dU = e->dims.dU;
    for (int i = 0; i < dU; i++)
        if (!isfinite(u[i])) {
            snprintf(err, errsz, "step %d: action %d is not finite", e->t, i);
            return GPSC_ENONFINITE;
        }
    for (int i = 0; i < dU; i++)
        d->ctrl[e->act_id[i]] = u[i];
    memcpy(e->ee_prev, e->ee_cur, sizeof(double) * (size_t)e->dims.P);
    double t0 = now_s();
    int rc = 0;
    if (e->split) {
        /* step1 ran at the end of the previous control step (or the reset) */
        mj_step2(m, d);
        for (int s = 1; s < e->exp->substeps; s++)
            mj_step(m, d);
        mj_step1(m, d);
    } else {
        for (int s = 0; s < e->exp->substeps; s++)
            mj_step(m, d);
        mj_forward(m, d);
    }
    e->sim_s += now_s() - t0;
    rc = check_unstable(e, err, errsz); /* names step e->t, the one just taken */
    e->t++;
    if (rc == 0) read_ee(e);
    return rc;
}

int gpsc_env_observe(gpsc_env_t *e, double *x, double *o, double *ee, double *jac, char *err,
                     size_t errsz)
{
    const gpsc_exp_dims_t *dm = &e->dims;
    const gpsc_experiment_t *exp = e->exp;
    mjModel *m = e->m;
    mjData *d = e->d;
    int P = dm->P;
    /* x is needed for o; use a small stack buffer when the caller has none */
    double xbuf[256];
    double *xs = x;
    double *heap = NULL;
    if (!xs && o) {
        if (dm->dX <= 256) {
            xs = xbuf;
        } else {
            heap = malloc(sizeof(double) * (size_t)dm->dX);
            if (!heap) return GPSC_ENOMEM;
            xs = heap;
        }
    }
    if (xs) {
        for (int i = 0; i < dm->n_qpos; i++)
            xs[dm->x_qpos + i] = d->qpos[e->qpos_adr[i]];
        for (int i = 0; i < dm->n_qvel; i++)
            xs[dm->x_qvel + i] = d->qvel[e->qvel_adr[i]];
        if (P > 0) {
            double *xe = xs + dm->x_ee;
            for (int i = 0; i < P; i++)
                xe[i] = exp->ee_relative_to_target ? e->ee_cur[i] - e->target[i] : e->ee_cur[i];
        }
        if (exp->ee_velocities) {
            double *xv = xs + dm->x_ee_vel;
            if (exp->ee_velocity_mode == GPSC_EXP_EE_VEL_FD) {
                /* the reference's (ee_t - ee_{t-1}) / dt, 0 at t = 0 */
                for (int i = 0; i < P; i++)
                    xv[i] = e->t == 0 ? 0.0 : (e->ee_cur[i] - e->ee_prev[i]) / exp->dt;
            } else {
                int nv = m->nv;
                for (int s = 0; s < P / 3; s++) {
                    mj_jacSite(m, d, e->jacp, NULL, e->site_id[s]);
                    for (int r = 0; r < 3; r++) {
                        double v = 0.0;
                        for (int j = 0; j < nv; j++)
                            v += e->jacp[r * nv + j] * d->qvel[j];
                        xv[3 * s + r] = v;
                    }
                }
            }
        }
        for (int i = 0; i < dm->dX; i++)
            if (!isfinite(xs[i])) {
                snprintf(err, errsz,
                         "%s: step %d: state entry %d is not finite (the "
                         "simulation is unstable)",
                         e->exp->model, e->t, i);
                free(heap);
                return GPSC_ESIM;
            }
    }
    if (o) {
        int k = 0;
        for (int b = 0; b < exp->n_obs_blocks; b++) {
            switch (exp->obs_blocks[b]) {
            case GPSC_EXP_OBS_QPOS:
                memcpy(o + k, xs + dm->x_qpos, sizeof(double) * (size_t)dm->n_qpos);
                k += dm->n_qpos;
                break;
            case GPSC_EXP_OBS_QVEL:
                memcpy(o + k, xs + dm->x_qvel, sizeof(double) * (size_t)dm->n_qvel);
                k += dm->n_qvel;
                break;
            case GPSC_EXP_OBS_EE:
                memcpy(o + k, xs + dm->x_ee, sizeof(double) * (size_t)P);
                k += P;
                break;
            case GPSC_EXP_OBS_EE_VEL:
                memcpy(o + k, xs + dm->x_ee_vel, sizeof(double) * (size_t)P);
                k += P;
                break;
            case GPSC_EXP_OBS_TARGET:
                memcpy(o + k, e->target, sizeof(double) * (size_t)P);
                k += P;
                break;
            case GPSC_EXP_OBS_SENSORS:
                memcpy(o + k, d->sensordata, sizeof(double) * (size_t)m->nsensordata);
                k += m->nsensordata;
                break;
            }
        }
    }
    free(heap);
    if (ee && P > 0) memcpy(ee, e->ee_cur, sizeof(double) * (size_t)P);
    if (jac && P > 0) {
        int nv = m->nv, dQ = dm->dQ;
        for (int s = 0; s < P / 3; s++) {
            mj_jacSite(m, d, e->jacp, NULL, e->site_id[s]);
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < dQ; c++)
                    jac[(size_t)(3 * s + r) * (size_t)dQ + (size_t)c] =
                        e->jacp[r * nv + e->jac_col[c]];
        }
    }
    return 0;
}
