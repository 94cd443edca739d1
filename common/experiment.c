/* experiment.c — the experiment YAML file: load, resolve against a model,
 * write back. See experiment.h for every key. */
#include "common/experiment.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/error.h"

/* ---- small helpers ---- */

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (!d) {
        fprintf(stderr, "gpsc: out of memory\n");
        abort();
    }
    memcpy(d, s, n);
    return d;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "gpsc: out of memory\n");
        abort();
    }
    return p;
}

static void vec_free(gpsc_exp_vec_t *v)
{
    free(v->v);
    memset(v, 0, sizeof *v);
}

static void vec_set(gpsc_exp_vec_t *v, const double *x, int n)
{
    free(v->v);
    v->n = n;
    v->v = n > 0 ? xcalloc((size_t)n, sizeof(double)) : NULL;
    if (n > 0) memcpy(v->v, x, sizeof(double) * (size_t)n);
}

static void vec_copy(gpsc_exp_vec_t *dst, const gpsc_exp_vec_t *src)
{
    int line = src->line, col = src->column;
    vec_set(dst, src->v, src->n);
    dst->line = line;
    dst->column = col;
}

/* v := one value repeated n times (when v has exactly one entry). */
static void vec_broadcast(gpsc_exp_vec_t *v, int n)
{
    if (v->n != 1 || n == 1) return;
    double x = v->v[0];
    free(v->v);
    v->v = xcalloc((size_t)n, sizeof(double));
    for (int i = 0; i < n; i++)
        v->v[i] = x;
    v->n = n;
}

static void vec_fill(gpsc_exp_vec_t *v, double x, int n)
{
    free(v->v);
    v->v = xcalloc((size_t)n, sizeof(double));
    for (int i = 0; i < n; i++)
        v->v[i] = x;
    v->n = n;
}

static void names_free(gpsc_exp_names_t *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->n = 0;
}

static void names_set_all(gpsc_exp_names_t *l, const char *const *names, int n)
{
    names_free(l);
    l->names = xcalloc((size_t)n, sizeof(char *));
    for (int i = 0; i < n; i++)
        l->names[i] = dupstr(names[i] ? names[i] : "");
    l->n = n;
}

static void names_copy(gpsc_exp_names_t *dst, const gpsc_exp_names_t *src)
{
    names_set_all(dst, (const char *const *)src->names, src->n);
    dst->all = src->all;
    dst->line = src->line;
    dst->column = src->column;
}

static bool valid_name(const char *s)
{
    if (!*s) return false;
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '.'))
            return false;
    }
    return true;
}

/* ---- enum names ---- */

static const char *const cost_type_names[] = {"action", "fk", "state", NULL};
static const char *const norm_names[] = {"l1l2", "logl2", "l2", NULL};
static const char *const ramp_names[] = {"constant", "linear", "quadratic", "final_only", NULL};
static const char *const ee_vel_names[] = {"finite_difference", "jacobian", NULL};
static const char *const obs_names[] = {"qpos", "qvel", "ee", "ee_vel", "target", "sensors", NULL};
static const char *const init_names[] = {"init_lqr", "init_pd", NULL};
static const char *const metric_names[] = {"none",
                                           "final_ee_distance",
                                           "min_ee_distance",
                                           "final_state_above",
                                           "final_state_below",
                                           "mean_state_above",
                                           NULL};
static const char *const alg_names[] = {"mdgps", "gps2014", "trajopt", NULL};
static const char *const step_names[] = {"classic", "global", NULL};
static const char *const sampling_names[] = {"off_policy", "on_policy", NULL};
static const char *const act_names[] = {"relu", "tanh", NULL};
static const char *const em_stop_names[] = {"reference", "relative", NULL};

const char *gpsc_exp_cost_type_name(gpsc_exp_cost_type_t t)
{
    return (unsigned)t < 3 ? cost_type_names[t] : "?";
}
const char *gpsc_exp_norm_name(gpsc_exp_norm_t n)
{
    return (unsigned)n < 3 ? norm_names[n] : "?";
}
const char *gpsc_exp_ramp_name(gpsc_exp_ramp_t r)
{
    return (unsigned)r < 4 ? ramp_names[r] : "?";
}
const char *gpsc_exp_metric_name(gpsc_exp_metric_t m)
{
    return (unsigned)m < 6 ? metric_names[m] : "?";
}
const char *gpsc_exp_algorithm_name(gpsc_exp_algorithm_t a)
{
    return (unsigned)a < 3 ? alg_names[a] : "?";
}

/* ---- readers on top of config.h ---- */

/* A number or a list of numbers under `key` into v (replacing it). Returns
 * 1 when present, 0 when absent, < 0 on error (recorded). */
static int read_vec(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, gpsc_exp_vec_t *v,
                    bool required)
{
    const gpsc_cfg_node_t *n = gpsc_cfg_get(map, key);
    if (!n) {
        gpsc_cfg_take(c, map, key, required);
        return 0;
    }
    int max = gpsc_cfg_kind(n) == GPSC_CFG_SEQ ? (int)gpsc_cfg_len(n) : 1;
    if (max < 1) {
        gpsc_cfg_take(c, map, key, false);
        gpsc_cfg_fail(c, n, "'%s' must not be empty", key);
        return GPSC_ECONFIG;
    }
    double *buf = xcalloc((size_t)max, sizeof(double));
    int cnt = 0;
    int rc = gpsc_cfg_doubles(c, map, key, buf, max, &cnt, 0, required);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    free(v->v);
    v->v = buf;
    v->n = cnt;
    v->line = gpsc_cfg_line(n);
    v->column = gpsc_cfg_column(n);
    for (int i = 0; i < cnt; i++)
        if (!isfinite(buf[i])) {
            gpsc_cfg_fail(c, n, "'%s' must be finite", key);
            return GPSC_ECONFIG;
        }
    return 1;
}

/* "all" or a list of names. */
static int read_names(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                      gpsc_exp_names_t *l, bool allow_all)
{
    const gpsc_cfg_node_t *n = gpsc_cfg_take(c, map, key, false);
    if (!n) return 0;
    names_free(l);
    l->all = false;
    l->line = gpsc_cfg_line(n);
    l->column = gpsc_cfg_column(n);
    if (gpsc_cfg_kind(n) == GPSC_CFG_SCALAR) {
        if (allow_all && strcmp(gpsc_cfg_text(n), "all") == 0) {
            l->all = true;
            return 1;
        }
        return gpsc_cfg_fail(c, n, "'%s' must be a list of names%s", key,
                             allow_all ? " or 'all'" : "");
    }
    if (gpsc_cfg_kind(n) != GPSC_CFG_SEQ)
        return gpsc_cfg_fail(c, n, "'%s' must be a list of names", key);
    int cnt = (int)gpsc_cfg_len(n);
    l->names = xcalloc((size_t)cnt, sizeof(char *));
    for (int i = 0; i < cnt; i++) {
        const gpsc_cfg_node_t *e = gpsc_cfg_at(n, (size_t)i);
        const char *t = gpsc_cfg_text(e);
        if (!t) return gpsc_cfg_fail(c, e, "'%s' entries must be names", key);
        if (strlen(t) >= GPSC_EXP_NAME_MAX)
            return gpsc_cfg_fail(c, e, "name '%s' is longer than %d bytes", t,
                                 GPSC_EXP_NAME_MAX - 1);
        for (int j = 0; j < l->n; j++)
            if (strcmp(l->names[j], t) == 0)
                return gpsc_cfg_fail(c, e, "'%s' is listed twice in '%s'", t, key);
        l->names[l->n++] = dupstr(t);
    }
    return 1;
}

static void positive(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, double v)
{
    if (!(v > 0)) gpsc_cfg_fail(c, gpsc_cfg_get(map, key), "'%s' must be > 0", key);
}

static void nonneg(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, double v)
{
    if (!(v >= 0)) gpsc_cfg_fail(c, gpsc_cfg_get(map, key), "'%s' must be >= 0", key);
}

static void atleast(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, int v, int lo)
{
    if (v < lo) gpsc_cfg_fail(c, gpsc_cfg_get(map, key), "'%s' must be >= %d", key, lo);
}

/* ---- sections ---- */

static void read_condition(gpsc_cfg_t *c, const gpsc_cfg_node_t *m, gpsc_exp_condition_t *cond)
{
    cond->line = gpsc_cfg_line(m);
    cond->column = gpsc_cfg_column(m);
    read_vec(c, m, "qpos", &cond->qpos, false);
    read_vec(c, m, "qvel", &cond->qvel, false);
    read_vec(c, m, "target", &cond->target, false);
    if (read_vec(c, m, "x0_noise", &cond->x0_noise, false) > 0) {
        for (int i = 0; i < cond->x0_noise.n; i++)
            if (cond->x0_noise.v[i] < 0) {
                gpsc_cfg_fail(c, gpsc_cfg_get(m, "x0_noise"), "'x0_noise' must be >= 0");
                break;
            }
    }
    const gpsc_cfg_node_t *off = gpsc_cfg_map(c, m, "body_offsets", false);
    if (off) {
        free(cond->offsets);
        cond->n_offsets = (int)gpsc_cfg_len(off);
        cond->offsets = xcalloc((size_t)cond->n_offsets, sizeof(gpsc_exp_offset_t));
        for (int i = 0; i < cond->n_offsets; i++) {
            const char *body = gpsc_cfg_key_at(off, (size_t)i);
            gpsc_exp_offset_t *o = &cond->offsets[i];
            if (strlen(body) >= GPSC_EXP_NAME_MAX) {
                gpsc_cfg_fail(c, gpsc_cfg_value_at(off, (size_t)i), "body name too long");
                gpsc_cfg_take(c, off, body, false);
                continue;
            }
            snprintf(o->body, sizeof o->body, "%s", body);
            int cnt = 0;
            gpsc_cfg_doubles(c, off, body, o->pos, 3, &cnt, 3, true);
        }
    }
}

static void cond_copy(gpsc_exp_condition_t *dst, const gpsc_exp_condition_t *src)
{
    vec_copy(&dst->qpos, &src->qpos);
    vec_copy(&dst->qvel, &src->qvel);
    vec_copy(&dst->target, &src->target);
    vec_copy(&dst->x0_noise, &src->x0_noise);
    free(dst->offsets);
    dst->n_offsets = src->n_offsets;
    dst->offsets = xcalloc((size_t)src->n_offsets, sizeof(gpsc_exp_offset_t));
    if (src->n_offsets)
        memcpy(dst->offsets, src->offsets, sizeof(gpsc_exp_offset_t) * (size_t)src->n_offsets);
}

static void cond_free(gpsc_exp_condition_t *cond)
{
    vec_free(&cond->qpos);
    vec_free(&cond->qvel);
    vec_free(&cond->target);
    vec_free(&cond->x0_noise);
    free(cond->offsets);
    memset(cond, 0, sizeof *cond);
}

static void read_condition_list(gpsc_cfg_t *c, const gpsc_cfg_node_t *m, const char *key,
                                const gpsc_exp_condition_t *defaults, gpsc_exp_condition_t **out,
                                int *nout, bool required)
{
    const gpsc_cfg_node_t *seq = gpsc_cfg_seq(c, m, key, required);
    if (!seq) return;
    int n = (int)gpsc_cfg_len(seq);
    if (required && n < 1) {
        gpsc_cfg_fail(c, seq, "'%s' needs at least one condition", key);
        return;
    }
    *out = xcalloc((size_t)n, sizeof(gpsc_exp_condition_t));
    *nout = n;
    for (int i = 0; i < n; i++) {
        const gpsc_cfg_node_t *e = gpsc_cfg_at(seq, (size_t)i);
        cond_copy(&(*out)[i], defaults);
        if (gpsc_cfg_kind(e) != GPSC_CFG_MAP) {
            gpsc_cfg_fail(c, e, "a condition must be a mapping");
            continue;
        }
        read_condition(c, e, &(*out)[i]);
    }
}

static void read_penalty(gpsc_cfg_t *c, const gpsc_cfg_node_t *m, gpsc_exp_cost_t *t)
{
    int v;
    t->l1 = 0.0;
    t->l2 = 1.0;
    t->alpha = 1e-5;
    t->wp_final_multiplier = 1.0;
    gpsc_cfg_double(c, m, "l1", &t->l1, false);
    gpsc_cfg_double(c, m, "l2", &t->l2, false);
    gpsc_cfg_double(c, m, "alpha", &t->alpha, false);
    gpsc_cfg_double(c, m, "wp_final_multiplier", &t->wp_final_multiplier, false);
    if (gpsc_cfg_enum(c, m, "norm", norm_names, &v, false) > 0) t->norm = (gpsc_exp_norm_t)v;
    if (gpsc_cfg_enum(c, m, "ramp", ramp_names, &v, false) > 0) t->ramp = (gpsc_exp_ramp_t)v;
    nonneg(c, m, "l1", t->l1);
    nonneg(c, m, "l2", t->l2);
    if (t->norm != GPSC_EXP_NORM_L2) positive(c, m, "alpha", t->alpha);
    nonneg(c, m, "wp_final_multiplier", t->wp_final_multiplier);
    if (read_vec(c, m, "wp", &t->wp, false) == 0) vec_fill(&t->wp, 1.0, 1);
}

static void read_costs(gpsc_cfg_t *c, const gpsc_cfg_node_t *root, gpsc_experiment_t *e)
{
    const gpsc_cfg_node_t *seq = gpsc_cfg_seq(c, root, "cost", true);
    if (!seq) return;
    int n = (int)gpsc_cfg_len(seq);
    if (n < 1) {
        gpsc_cfg_fail(c, seq, "'cost' needs at least one term");
        return;
    }
    e->costs = xcalloc((size_t)n, sizeof(gpsc_exp_cost_t));
    e->n_costs = n;
    for (int i = 0; i < n; i++) {
        const gpsc_cfg_node_t *m = gpsc_cfg_at(seq, (size_t)i);
        gpsc_exp_cost_t *t = &e->costs[i];
        t->weight = 1.0;
        t->line = gpsc_cfg_line(m);
        t->column = gpsc_cfg_column(m);
        if (gpsc_cfg_kind(m) != GPSC_CFG_MAP) {
            gpsc_cfg_fail(c, m, "a cost term must be a mapping");
            continue;
        }
        int type = 0;
        if (gpsc_cfg_enum(c, m, "type", cost_type_names, &type, true) <= 0) continue;
        t->type = (gpsc_exp_cost_type_t)type;
        gpsc_cfg_double(c, m, "weight", &t->weight, false);
        nonneg(c, m, "weight", t->weight);
        switch (t->type) {
        case GPSC_EXP_COST_ACTION:
            if (read_vec(c, m, "wu", &t->wu, true) > 0)
                for (int j = 0; j < t->wu.n; j++)
                    if (t->wu.v[j] < 0) {
                        gpsc_cfg_fail(c, gpsc_cfg_get(m, "wu"), "'wu' must be >= 0");
                        break;
                    }
            break;
        case GPSC_EXP_COST_FK:
            read_penalty(c, m, t);
            break;
        case GPSC_EXP_COST_STATE: {
            read_penalty(c, m, t);
            const gpsc_cfg_node_t *idx = gpsc_cfg_get(m, "indices");
            int max = idx && gpsc_cfg_kind(idx) == GPSC_CFG_SEQ ? (int)gpsc_cfg_len(idx) : 1;
            t->indices = xcalloc((size_t)(max > 0 ? max : 1), sizeof(int));
            if (gpsc_cfg_ints(c, m, "indices", t->indices, max, &t->n_indices, 0, true) > 0) {
                if (t->n_indices < 1) gpsc_cfg_fail(c, idx, "'indices' must not be empty");
                for (int j = 0; j < t->n_indices; j++)
                    if (t->indices[j] < 0) gpsc_cfg_fail(c, idx, "'indices' must be >= 0");
            }
            if (read_vec(c, m, "target", &t->target, false) == 0) vec_fill(&t->target, 0.0, 1);
            break;
        }
        }
    }
}

static void read_state(gpsc_cfg_t *c, const gpsc_cfg_node_t *root, gpsc_experiment_t *e)
{
    e->qpos_joints.all = true;
    e->qvel_joints.all = true;
    e->ee_velocity_mode = GPSC_EXP_EE_VEL_FD;
    const gpsc_cfg_node_t *m = gpsc_cfg_map(c, root, "state", false);
    if (!m) return;
    gpsc_exp_names_t joints = {.all = true};
    if (read_names(c, m, "joints", &joints, true) > 0) {
        names_copy(&e->qpos_joints, &joints);
        names_copy(&e->qvel_joints, &joints);
    }
    names_free(&joints);
    read_names(c, m, "qpos_joints", &e->qpos_joints, true);
    read_names(c, m, "qvel_joints", &e->qvel_joints, true);
    read_names(c, m, "ee_sites", &e->ee_sites, false);
    e->ee_velocities = e->ee_sites.n > 0;
    gpsc_cfg_bool(c, m, "ee_velocities", &e->ee_velocities, false);
    int v;
    if (gpsc_cfg_enum(c, m, "ee_velocity_mode", ee_vel_names, &v, false) > 0)
        e->ee_velocity_mode = (gpsc_exp_ee_vel_mode_t)v;
    gpsc_cfg_bool(c, m, "ee_relative_to_target", &e->ee_relative_to_target, false);
    if (e->ee_sites.n == 0 && e->ee_velocities)
        gpsc_cfg_fail(c, gpsc_cfg_get(m, "ee_velocities"), "ee_velocities needs ee_sites");
    if (e->ee_sites.n == 0 && e->ee_relative_to_target)
        gpsc_cfg_fail(c, gpsc_cfg_get(m, "ee_relative_to_target"),
                      "ee_relative_to_target needs ee_sites");
}

static void read_observation(gpsc_cfg_t *c, const gpsc_cfg_node_t *root, gpsc_experiment_t *e)
{
    /* default: the state's blocks */
    e->n_obs_blocks = 0;
    e->obs_blocks[e->n_obs_blocks++] = GPSC_EXP_OBS_QPOS;
    e->obs_blocks[e->n_obs_blocks++] = GPSC_EXP_OBS_QVEL;
    if (e->ee_sites.n > 0) e->obs_blocks[e->n_obs_blocks++] = GPSC_EXP_OBS_EE;
    if (e->ee_velocities) e->obs_blocks[e->n_obs_blocks++] = GPSC_EXP_OBS_EE_VEL;
    const gpsc_cfg_node_t *seq = gpsc_cfg_seq(c, root, "observation", false);
    if (!seq) return;
    int n = (int)gpsc_cfg_len(seq);
    if (n < 1 || n > GPSC_EXP_MAX_OBS_BLOCKS) {
        gpsc_cfg_fail(c, seq, "'observation' needs 1 to %d blocks", GPSC_EXP_MAX_OBS_BLOCKS);
        return;
    }
    e->n_obs_blocks = 0;
    for (int i = 0; i < n; i++) {
        const gpsc_cfg_node_t *el = gpsc_cfg_at(seq, (size_t)i);
        const char *t = gpsc_cfg_text(el);
        int k = -1;
        for (int j = 0; t && obs_names[j]; j++)
            if (strcmp(t, obs_names[j]) == 0) k = j;
        if (k < 0) {
            gpsc_cfg_fail(c, el,
                          "unknown observation block '%s' (expected qpos, qvel, ee, ee_vel, "
                          "target or sensors)",
                          t ? t : "?");
            return;
        }
        for (int j = 0; j < e->n_obs_blocks; j++)
            if ((int)e->obs_blocks[j] == k) {
                gpsc_cfg_fail(c, el, "observation block '%s' is listed twice", t);
                return;
            }
        if ((k == GPSC_EXP_OBS_EE && e->ee_sites.n == 0) ||
            (k == GPSC_EXP_OBS_EE_VEL && !e->ee_velocities)) {
            gpsc_cfg_fail(c, el, "observation block '%s' is not part of the state", t);
            return;
        }
        e->obs_blocks[e->n_obs_blocks++] = (gpsc_exp_obs_block_t)k;
    }
}

static void read_init(gpsc_cfg_t *c, const gpsc_cfg_node_t *root, gpsc_experiment_t *e)
{
    gpsc_exp_init_t *in = &e->init;
    in->init_var = 1.0;
    in->stiffness = 1.0;
    in->stiffness_vel = 0.5;
    in->final_weight = 1.0;
    in->pos_gains = 0.001;
    in->vel_gains_mult = 0.01;
    vec_fill(&in->init_gains, 1.0, 1);
    vec_fill(&in->init_acc, 0.0, 1);
    const gpsc_cfg_node_t *m = gpsc_cfg_map(c, root, "init_controller", true);
    if (!m) return;
    int v = 0;
    if (gpsc_cfg_enum(c, m, "type", init_names, &v, true) <= 0) return;
    in->type = (gpsc_exp_init_type_t)v;
    gpsc_cfg_double(c, m, "init_var", &in->init_var, false);
    positive(c, m, "init_var", in->init_var);
    if (in->type == GPSC_EXP_INIT_LQR) {
        gpsc_cfg_double(c, m, "stiffness", &in->stiffness, false);
        gpsc_cfg_double(c, m, "stiffness_vel", &in->stiffness_vel, false);
        gpsc_cfg_double(c, m, "final_weight", &in->final_weight, false);
        read_vec(c, m, "init_gains", &in->init_gains, false);
        read_vec(c, m, "init_acc", &in->init_acc, false);
        nonneg(c, m, "stiffness", in->stiffness);
        nonneg(c, m, "stiffness_vel", in->stiffness_vel);
        positive(c, m, "final_weight", in->final_weight);
    } else {
        gpsc_cfg_double(c, m, "pos_gains", &in->pos_gains, false);
        gpsc_cfg_double(c, m, "vel_gains_mult", &in->vel_gains_mult, false);
        nonneg(c, m, "pos_gains", in->pos_gains);
        nonneg(c, m, "vel_gains_mult", in->vel_gains_mult);
    }
}

static void read_prior(gpsc_cfg_t *c, const gpsc_cfg_node_t *m, gpsc_exp_prior_t *p)
{
    if (!m) return;
    gpsc_cfg_int(c, m, "max_clusters", &p->max_clusters, false);
    gpsc_cfg_int(c, m, "min_samples_per_cluster", &p->min_samples_per_cluster, false);
    gpsc_cfg_int(c, m, "max_samples", &p->max_samples, false);
    gpsc_cfg_double(c, m, "strength", &p->strength, false);
    atleast(c, m, "max_clusters", p->max_clusters, 1);
    atleast(c, m, "min_samples_per_cluster", p->min_samples_per_cluster, 1);
    atleast(c, m, "max_samples", p->max_samples, 1);
    positive(c, m, "strength", p->strength);
    int v;
    gpsc_cfg_int(c, m, "em_iterations", &p->em_iterations, false);
    gpsc_cfg_double(c, m, "em_tolerance", &p->em_tolerance, false);
    if (gpsc_cfg_enum(c, m, "em_stop", em_stop_names, &v, false) > 0)
        p->em_stop = (gpsc_exp_em_stop_t)v;
    atleast(c, m, "em_iterations", p->em_iterations, 1);
    nonneg(c, m, "em_tolerance", p->em_tolerance);
}

static void read_algorithm(gpsc_cfg_t *c, const gpsc_cfg_node_t *root, gpsc_experiment_t *e)
{
    gpsc_exp_algo_t *a = &e->algo;
    a->type = GPSC_EXP_ALG_MDGPS;
    a->iterations = 10;
    a->samples = 5;
    a->test_samples = 1;
    a->seed = 0;
    a->kl_step = 2.0;
    a->min_step_mult = 0.01;
    a->max_step_mult = 10.0;
    a->step_rule = GPSC_EXP_STEP_CLASSIC;
    a->sampling = GPSC_EXP_SAMPLE_OFF_POLICY;
    a->cstep = (gpsc_exp_cstep_t){.eta_init = 1.0,
                                  .min_eta = 1e-8,
                                  .max_eta = 1e16,
                                  .del0 = 1e-4,
                                  .max_iterations = 50,
                                  .kl_tolerance = 0.1};
    a->dyn_regularization = 1e-6;
    a->initial_state_var = 1e-6;
    a->dyn_prior = (gpsc_exp_prior_t){20, 40, 20, 1.0, 0.0, 100, 1e-5, GPSC_EXP_EM_STOP_RELATIVE};
    a->pol_prior = (gpsc_exp_prior_t){20, 40, 20, 1.0, 1e-8, 100, 1e-5, GPSC_EXP_EM_STOP_RELATIVE};
    a->init_pol_wt = 0.01;
    a->policy_dual_rate = 0.1;
    a->inner_iterations = 4;
    const gpsc_cfg_node_t *m = gpsc_cfg_map(c, root, "algorithm", false);
    if (!m) return;
    int v;
    if (gpsc_cfg_enum(c, m, "type", alg_names, &v, false) > 0) a->type = (gpsc_exp_algorithm_t)v;
    gpsc_cfg_int(c, m, "iterations", &a->iterations, false);
    gpsc_cfg_int(c, m, "samples", &a->samples, false);
    gpsc_cfg_int(c, m, "test_samples", &a->test_samples, false);
    gpsc_cfg_u64(c, m, "seed", &a->seed, false);
    gpsc_cfg_double(c, m, "kl_step", &a->kl_step, false);
    gpsc_cfg_double(c, m, "min_step_mult", &a->min_step_mult, false);
    gpsc_cfg_double(c, m, "max_step_mult", &a->max_step_mult, false);
    if (gpsc_cfg_enum(c, m, "step_rule", step_names, &v, false) > 0)
        a->step_rule = (gpsc_exp_step_rule_t)v;
    if (gpsc_cfg_enum(c, m, "sampling", sampling_names, &v, false) > 0)
        a->sampling = (gpsc_exp_sampling_t)v;
    atleast(c, m, "iterations", a->iterations, 1);
    atleast(c, m, "samples", a->samples, 1);
    atleast(c, m, "test_samples", a->test_samples, 1);
    positive(c, m, "kl_step", a->kl_step);
    positive(c, m, "min_step_mult", a->min_step_mult);
    positive(c, m, "max_step_mult", a->max_step_mult);
    if (a->max_step_mult < a->min_step_mult)
        gpsc_cfg_fail(c, gpsc_cfg_get(m, "max_step_mult"), "'max_step_mult' < 'min_step_mult'");

    const gpsc_cfg_node_t *cs = gpsc_cfg_map(c, m, "cstep", false);
    if (cs) {
        gpsc_exp_cstep_t *s = &a->cstep;
        gpsc_cfg_double(c, cs, "eta_init", &s->eta_init, false);
        gpsc_cfg_double(c, cs, "min_eta", &s->min_eta, false);
        gpsc_cfg_double(c, cs, "max_eta", &s->max_eta, false);
        gpsc_cfg_double(c, cs, "del0", &s->del0, false);
        gpsc_cfg_int(c, cs, "max_iterations", &s->max_iterations, false);
        gpsc_cfg_double(c, cs, "kl_tolerance", &s->kl_tolerance, false);
        positive(c, cs, "eta_init", s->eta_init);
        positive(c, cs, "min_eta", s->min_eta);
        positive(c, cs, "del0", s->del0);
        positive(c, cs, "kl_tolerance", s->kl_tolerance);
        atleast(c, cs, "max_iterations", s->max_iterations, 1);
        if (!(s->max_eta > s->min_eta))
            gpsc_cfg_fail(c, gpsc_cfg_get(cs, "max_eta"), "'max_eta' must exceed 'min_eta'");
    }
    const gpsc_cfg_node_t *dy = gpsc_cfg_map(c, m, "dynamics", false);
    if (dy) {
        gpsc_cfg_double(c, dy, "regularization", &a->dyn_regularization, false);
        gpsc_cfg_double(c, dy, "initial_state_var", &a->initial_state_var, false);
        nonneg(c, dy, "regularization", a->dyn_regularization);
        positive(c, dy, "initial_state_var", a->initial_state_var);
        read_prior(c, gpsc_cfg_map(c, dy, "prior", false), &a->dyn_prior);
    }
    const gpsc_cfg_node_t *pp = gpsc_cfg_map(c, m, "policy_prior", false);
    if (pp) {
        read_prior(c, pp, &a->pol_prior);
        gpsc_cfg_double(c, pp, "regularization", &a->pol_prior.regularization, false);
        nonneg(c, pp, "regularization", a->pol_prior.regularization);
    }
    const gpsc_cfg_node_t *g = gpsc_cfg_map(c, m, "gps2014", false);
    if (g) {
        gpsc_cfg_double(c, g, "init_pol_wt", &a->init_pol_wt, false);
        gpsc_cfg_double(c, g, "policy_dual_rate", &a->policy_dual_rate, false);
        gpsc_cfg_int(c, g, "inner_iterations", &a->inner_iterations, false);
        nonneg(c, g, "init_pol_wt", a->init_pol_wt);
        nonneg(c, g, "policy_dual_rate", a->policy_dual_rate);
        atleast(c, g, "inner_iterations", a->inner_iterations, 1);
    }
}

static void read_network(gpsc_cfg_t *c, const gpsc_cfg_node_t *root, gpsc_experiment_t *e)
{
    gpsc_exp_network_t *n = &e->net;
    n->n_hidden = 2;
    n->hidden[0] = 42;
    n->hidden[1] = 42;
    n->activation = GPSC_EXP_ACT_RELU;
    n->iterations = 3000;
    n->batch_size = 25;
    n->learning_rate = 1e-3;
    n->weight_decay = 5e-3;
    n->init_var = 0.1;
    n->ent_reg = 0.0;
    const gpsc_cfg_node_t *m = gpsc_cfg_map(c, root, "network", false);
    if (!m) return;
    const gpsc_cfg_node_t *h = gpsc_cfg_get(m, "hidden");
    if (h && gpsc_cfg_kind(h) == GPSC_CFG_SEQ && gpsc_cfg_len(h) == 0) {
        gpsc_cfg_take(c, m, "hidden", false);
        n->n_hidden = 0; /* a linear policy */
    } else if (gpsc_cfg_ints(c, m, "hidden", n->hidden, GPSC_EXP_MAX_LAYERS, &n->n_hidden, 0,
                             false) > 0) {
        for (int i = 0; i < n->n_hidden; i++)
            if (n->hidden[i] < 1 || n->hidden[i] > 4096)
                gpsc_cfg_fail(c, h, "hidden layer widths must be in 1..4096");
    }
    int v;
    if (gpsc_cfg_enum(c, m, "activation", act_names, &v, false) > 0)
        n->activation = (gpsc_exp_activation_t)v;
    gpsc_cfg_int(c, m, "iterations", &n->iterations, false);
    gpsc_cfg_int(c, m, "batch_size", &n->batch_size, false);
    gpsc_cfg_double(c, m, "learning_rate", &n->learning_rate, false);
    gpsc_cfg_double(c, m, "weight_decay", &n->weight_decay, false);
    gpsc_cfg_double(c, m, "init_var", &n->init_var, false);
    gpsc_cfg_double(c, m, "ent_reg", &n->ent_reg, false);
    atleast(c, m, "iterations", n->iterations, 0);
    atleast(c, m, "batch_size", n->batch_size, 1);
    positive(c, m, "learning_rate", n->learning_rate);
    nonneg(c, m, "weight_decay", n->weight_decay);
    positive(c, m, "init_var", n->init_var);
    nonneg(c, m, "ent_reg", n->ent_reg);
}

static void read_cluster(gpsc_cfg_t *c, const gpsc_cfg_node_t *root, gpsc_experiment_t *e)
{
    gpsc_exp_cluster_t *k = &e->cluster;
    k->workers = 2;
    k->task_timeout = 60.0;
    k->heartbeat_interval = 1.0;
    k->heartbeat_liveness = 5;
    const gpsc_cfg_node_t *m = gpsc_cfg_map(c, root, "cluster", false);
    if (!m) return;
    gpsc_cfg_int(c, m, "workers", &k->workers, false);
    gpsc_cfg_double(c, m, "task_timeout", &k->task_timeout, false);
    gpsc_cfg_double(c, m, "heartbeat_interval", &k->heartbeat_interval, false);
    gpsc_cfg_int(c, m, "heartbeat_liveness", &k->heartbeat_liveness, false);
    atleast(c, m, "workers", k->workers, 1);
    positive(c, m, "task_timeout", k->task_timeout);
    positive(c, m, "heartbeat_interval", k->heartbeat_interval);
    atleast(c, m, "heartbeat_liveness", k->heartbeat_liveness, 1);
}

static void read_success(gpsc_cfg_t *c, const gpsc_cfg_node_t *root, gpsc_experiment_t *e)
{
    gpsc_exp_success_t *s = &e->success;
    const gpsc_cfg_node_t *m = gpsc_cfg_map(c, root, "success", false);
    if (!m) return;
    s->line = gpsc_cfg_line(m);
    s->column = gpsc_cfg_column(m);
    int v = 0;
    if (gpsc_cfg_enum(c, m, "metric", metric_names, &v, false) > 0)
        s->metric = (gpsc_exp_metric_t)v;
    if (s->metric == GPSC_EXP_METRIC_NONE) return;
    gpsc_cfg_double(c, m, "threshold", &s->threshold, true);
    if (s->metric == GPSC_EXP_METRIC_FINAL_EE_DISTANCE ||
        s->metric == GPSC_EXP_METRIC_MIN_EE_DISTANCE) {
        gpsc_cfg_int(c, m, "point", &s->point, false);
        atleast(c, m, "point", s->point, 0);
        nonneg(c, m, "threshold", s->threshold);
    } else {
        gpsc_cfg_int(c, m, "index", &s->index, false);
        atleast(c, m, "index", s->index, 0);
    }
}

static char *dirname_of(const char *path)
{
    const char *s = strrchr(path, '/');
    if (!s) return dupstr(".");
    if (s == path) return dupstr("/");
    size_t n = (size_t)(s - path);
    char *d = xcalloc(n + 1, 1);
    memcpy(d, path, n);
    return d;
}

static char *join_path(const char *dir, const char *rel)
{
    if (rel[0] == '/' || !dir || strcmp(dir, ".") == 0) return dupstr(rel);
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = xcalloc(n, 1);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

static int load_doc(gpsc_cfg_t *c, const char *dir, gpsc_experiment_t *e, char *err, size_t errsz)
{
    const gpsc_cfg_node_t *root = gpsc_cfg_root(c);
    const char *s = NULL;

    e->dir = dupstr(dir ? dir : ".");
    if (gpsc_cfg_string(c, root, "name", &s, true) > 0) {
        if (!valid_name(s) || strlen(s) >= GPSC_EXP_NAME_MAX)
            gpsc_cfg_fail(c, gpsc_cfg_get(root, "name"),
                          "'name' must be 1-63 characters of [A-Za-z0-9_.-]");
        e->name = dupstr(s);
    }
    if (gpsc_cfg_string(c, root, "model", &s, true) > 0) e->model = join_path(e->dir, s);
    e->substeps = 1;
    gpsc_cfg_int(c, root, "T", &e->T, true);
    gpsc_cfg_double(c, root, "dt", &e->dt, true);
    gpsc_cfg_int(c, root, "substeps", &e->substeps, false);
    if (gpsc_cfg_get(root, "T")) atleast(c, root, "T", e->T, 1);
    if (gpsc_cfg_get(root, "T") && e->T > 1000000)
        gpsc_cfg_fail(c, gpsc_cfg_get(root, "T"), "'T' must be <= 1000000");
    if (gpsc_cfg_get(root, "dt")) positive(c, root, "dt", e->dt);
    atleast(c, root, "substeps", e->substeps, 1);

    read_state(c, root, e);
    read_observation(c, root, e);
    e->actuators.all = true;
    const gpsc_cfg_node_t *act = gpsc_cfg_map(c, root, "action", false);
    if (act) read_names(c, act, "actuators", &e->actuators, true);
    read_names(c, root, "target_sites", &e->target_sites, false);
    if (e->target_sites.n > 0 && e->target_sites.n != e->ee_sites.n)
        gpsc_cfg_fail(c, gpsc_cfg_get(root, "target_sites"),
                      "'target_sites' has %d sites, state.ee_sites has %d", e->target_sites.n,
                      e->ee_sites.n);

    const gpsc_cfg_node_t *conds = gpsc_cfg_map(c, root, "conditions", true);
    if (conds) {
        gpsc_exp_condition_t defaults = {0};
        const gpsc_cfg_node_t *d = gpsc_cfg_map(c, conds, "defaults", false);
        if (d) read_condition(c, d, &defaults);
        read_condition_list(c, conds, "train", &defaults, &e->train, &e->n_train, true);
        read_condition_list(c, conds, "test", &defaults, &e->test, &e->n_test, false);
        cond_free(&defaults);
    }
    read_costs(c, root, e);
    read_init(c, root, e);

    e->noise = (gpsc_exp_noise_t){.smooth = true, .sigma = 2.0, .renormalize = true};
    const gpsc_cfg_node_t *nz = gpsc_cfg_map(c, root, "noise", false);
    if (nz) {
        gpsc_cfg_bool(c, nz, "smooth", &e->noise.smooth, false);
        gpsc_cfg_double(c, nz, "sigma", &e->noise.sigma, false);
        gpsc_cfg_bool(c, nz, "renormalize", &e->noise.renormalize, false);
        positive(c, nz, "sigma", e->noise.sigma);
    }
    read_success(c, root, e);
    read_algorithm(c, root, e);
    read_network(c, root, e);
    read_cluster(c, root, e);

    gpsc_cfg_check_unused(c);
    if (gpsc_cfg_failed(c)) {
        snprintf(err, errsz, "%s", gpsc_cfg_errmsg(c));
        return GPSC_ECONFIG;
    }
    return 0;
}

int gpsc_experiment_load(const char *path, gpsc_experiment_t *exp, char *err, size_t errsz)
{
    memset(exp, 0, sizeof *exp);
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errsz, "%s: %s", path, strerror(e));
        return e == ENOENT ? GPSC_ENOENT : GPSC_EIO;
    }
    fclose(f);
    gpsc_cfg_t *c = gpsc_cfg_load_file(path, err, errsz);
    if (!c) return GPSC_EPARSE;
    exp->path = dupstr(path);
    char *dir = dirname_of(path);
    int rc = load_doc(c, dir, exp, err, errsz);
    free(dir);
    gpsc_cfg_destroy(&c);
    return rc;
}

int gpsc_experiment_load_string(const char *text, size_t len, const char *name, const char *dir,
                                gpsc_experiment_t *exp, char *err, size_t errsz)
{
    memset(exp, 0, sizeof *exp);
    gpsc_cfg_t *c = gpsc_cfg_load_string(text, len, name, err, errsz);
    if (!c) return GPSC_EPARSE;
    exp->path = dupstr(name);
    int rc = load_doc(c, dir, exp, err, errsz);
    gpsc_cfg_destroy(&c);
    return rc;
}

void gpsc_experiment_free(gpsc_experiment_t *e)
{
    if (!e) return;
    free(e->path);
    free(e->dir);
    free(e->name);
    free(e->model);
    names_free(&e->qpos_joints);
    names_free(&e->qvel_joints);
    names_free(&e->ee_sites);
    names_free(&e->actuators);
    names_free(&e->target_sites);
    for (int i = 0; i < e->n_train; i++)
        cond_free(&e->train[i]);
    for (int i = 0; i < e->n_test; i++)
        cond_free(&e->test[i]);
    free(e->train);
    free(e->test);
    for (int i = 0; i < e->n_costs; i++) {
        gpsc_exp_cost_t *t = &e->costs[i];
        vec_free(&t->wu);
        vec_free(&t->wp);
        vec_free(&t->target);
        free(t->indices);
    }
    free(e->costs);
    vec_free(&e->init.init_gains);
    vec_free(&e->init.init_acc);
    free(e->joint_idx);
    memset(e, 0, sizeof *e);
}

int gpsc_experiment_n_conditions(const gpsc_experiment_t *exp)
{
    return exp->n_train + exp->n_test;
}

const gpsc_exp_condition_t *gpsc_experiment_condition(const gpsc_experiment_t *exp, int c)
{
    if (c < 0) return NULL;
    if (c < exp->n_train) return &exp->train[c];
    if (c < exp->n_train + exp->n_test) return &exp->test[c - exp->n_train];
    return NULL;
}

/* ---- resolve ---- */

typedef struct resolver {
    const gpsc_experiment_t *e;
    char *err;
    size_t errsz;
    int rc;
} resolver_t;

static int rfail(resolver_t *r, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int rfail(resolver_t *r, int line, int col, const char *fmt, ...)
{
    if (r->rc) return r->rc;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errsz, "%s:%d:%d: %s", r->e->path ? r->e->path : "experiment",
             line > 0 ? line : 1, col > 0 ? col : 1, msg);
    r->rc = GPSC_ECONFIG;
    return r->rc;
}

static int find_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], s) == 0) return i;
    return -1;
}

/* Resolves a names list against the model's names: fills "all", checks
 * existence, writes the model index of each entry into idx (n entries). */
static int resolve_names(resolver_t *r, gpsc_exp_names_t *l, const char *what,
                         const char *const *names, int n, int **idx)
{
    if (l->all) names_set_all(l, names, n);
    *idx = xcalloc((size_t)l->n, sizeof(int));
    for (int i = 0; i < l->n; i++) {
        int k = find_name(names, n, l->names[i]);
        if (k < 0)
            return rfail(r, l->line, l->column, "the model has no %s named '%s'", what,
                         l->names[i]);
        (*idx)[i] = k;
    }
    return 0;
}

/* v must have 1 or n entries (then broadcast); 0 allowed when allow_empty. */
static int resolve_len(resolver_t *r, gpsc_exp_vec_t *v, int n, const char *what, int dline,
                       int dcol)
{
    if (v->n == 1 && n > 0) {
        vec_broadcast(v, n);
        return 0;
    }
    if (v->n != n)
        return rfail(r, v->line ? v->line : dline, v->line ? v->column : dcol,
                     "%s has %d entries, expected %d (or a single value)", what, v->n, n);
    return 0;
}

static int joint_nv(int nq)
{
    return nq == 7 ? 6 : nq == 4 ? 3 : 1;
}

int gpsc_experiment_resolve(gpsc_experiment_t *e, const gpsc_exp_model_info_t *info, char *err,
                            size_t errsz)
{
    resolver_t r = {.e = e, .err = err, .errsz = errsz, .rc = 0};
    gpsc_exp_dims_t d = {0};
    int *qj = NULL, *vj = NULL, *sj = NULL, *aj = NULL, *tj = NULL;

    d.nq = info->nq;
    d.nv = info->nv;
    d.nu = info->nu;
    d.nsensordata = info->nsensordata;

    /* joints */
    if (resolve_names(&r, &e->qpos_joints, "joint", info->joint_names, info->njnt, &qj) ||
        resolve_names(&r, &e->qvel_joints, "joint", info->joint_names, info->njnt, &vj))
        goto done;
    bool scalar_q = true;
    for (int i = 0; i < e->qpos_joints.n; i++) {
        d.n_qpos += info->joint_nq[qj[i]];
        if (!info->joint_scalar[qj[i]]) scalar_q = false;
    }
    for (int i = 0; i < e->qvel_joints.n; i++)
        d.n_qvel += joint_nv(info->joint_nq[vj[i]]);
    if (d.n_qpos + d.n_qvel == 0) {
        rfail(&r, e->qpos_joints.line, e->qpos_joints.column, "the state has no joints");
        goto done;
    }

    /* ee sites and targets */
    if (resolve_names(&r, &e->ee_sites, "site", info->site_names, info->nsite, &sj) ||
        resolve_names(&r, &e->target_sites, "site", info->site_names, info->nsite, &tj))
        goto done;
    d.P = 3 * e->ee_sites.n;
    if (d.P > 0 && !scalar_q) {
        rfail(&r, e->qpos_joints.line, e->qpos_joints.column,
              "end-effector Jacobians need hinge or slide joints only in qpos_joints");
        goto done;
    }
    d.dQ = d.n_qpos;
    d.x_qpos = 0;
    d.x_qvel = d.n_qpos;
    d.x_ee = d.P > 0 ? d.n_qpos + d.n_qvel : -1;
    d.x_ee_vel = e->ee_velocities ? d.x_ee + d.P : -1;
    d.dX = d.n_qpos + d.n_qvel + d.P + (e->ee_velocities ? d.P : 0);

    /* actions */
    if (resolve_names(&r, &e->actuators, "actuator", info->actuator_names, info->nu, &aj))
        goto done;
    d.dU = e->actuators.n;
    if (d.dU < 1) {
        rfail(&r, e->actuators.line, e->actuators.column, "the action has no actuators");
        goto done;
    }

    /* conditions */
    bool need_target = e->ee_relative_to_target;
    for (int i = 0; i < e->n_obs_blocks; i++)
        if (e->obs_blocks[i] == GPSC_EXP_OBS_TARGET) need_target = true;
    for (int i = 0; i < e->n_costs; i++)
        if (e->costs[i].type == GPSC_EXP_COST_FK) need_target = true;
    if (e->success.metric == GPSC_EXP_METRIC_FINAL_EE_DISTANCE ||
        e->success.metric == GPSC_EXP_METRIC_MIN_EE_DISTANCE)
        need_target = true;
    if (need_target && d.P == 0) {
        int line = 1, col = 1;
        for (int i = e->n_costs - 1; i >= 0; i--)
            if (e->costs[i].type == GPSC_EXP_COST_FK) {
                line = e->costs[i].line;
                col = e->costs[i].column;
            }
        rfail(&r, line, col, "FK costs, ee success metrics and targets need state.ee_sites");
        goto done;
    }
    int nc = e->n_train + e->n_test;
    for (int c = 0; c < nc; c++) {
        gpsc_exp_condition_t *cd = (gpsc_exp_condition_t *)gpsc_experiment_condition(e, c);
        const char *kind = c < e->n_train ? "train" : "test";
        int ci = c < e->n_train ? c : c - e->n_train;
        if (cd->qpos.n != 0 && cd->qpos.n != d.nq) {
            rfail(&r, cd->qpos.line, cd->qpos.column,
                  "qpos of %s condition %d has %d entries, the model has nq = %d", kind, ci,
                  cd->qpos.n, d.nq);
            goto done;
        }
        if (cd->qvel.n != 0 && cd->qvel.n != d.nv) {
            rfail(&r, cd->qvel.line, cd->qvel.column,
                  "qvel of %s condition %d has %d entries, the model has nv = %d", kind, ci,
                  cd->qvel.n, d.nv);
            goto done;
        }
        if (cd->x0_noise.n > 0 &&
            resolve_len(&r, &cd->x0_noise, d.nq + d.nv, "x0_noise (nq + nv)", cd->line, cd->column))
            goto done;
        if (cd->target.n == 0 && e->target_sites.n > 0 && info->site_targets) {
            vec_set(&cd->target, info->site_targets + (size_t)c * (size_t)d.P, d.P);
            cd->target.line = e->target_sites.line;
            cd->target.column = e->target_sites.column;
        }
        if (cd->target.n != 0 && cd->target.n != d.P) {
            rfail(&r, cd->target.line, cd->target.column,
                  "target of %s condition %d has %d entries, expected P = %d", kind, ci,
                  cd->target.n, d.P);
            goto done;
        }
        if (need_target && cd->target.n == 0) {
            rfail(&r, cd->line, cd->column,
                  "%s condition %d has no target (give 'target' or "
                  "'target_sites')",
                  kind, ci);
            goto done;
        }
    }

    /* costs */
    for (int i = 0; i < e->n_costs; i++) {
        gpsc_exp_cost_t *t = &e->costs[i];
        switch (t->type) {
        case GPSC_EXP_COST_ACTION:
            if (resolve_len(&r, &t->wu, d.dU, "wu", t->line, t->column)) goto done;
            if (d.dU > GPSC_EXP_COST_MAXDIM) {
                rfail(&r, t->line, t->column, "action cost: dU > %d", GPSC_EXP_COST_MAXDIM);
                goto done;
            }
            break;
        case GPSC_EXP_COST_FK:
            if (resolve_len(&r, &t->wp, d.P, "wp", t->line, t->column)) goto done;
            if (d.P > GPSC_EXP_COST_MAXDIM || d.dQ > GPSC_EXP_COST_MAXDIM) {
                rfail(&r, t->line, t->column, "fk cost: P or dQ > %d", GPSC_EXP_COST_MAXDIM);
                goto done;
            }
            break;
        case GPSC_EXP_COST_STATE:
            if (resolve_len(&r, &t->wp, t->n_indices, "wp", t->line, t->column) ||
                resolve_len(&r, &t->target, t->n_indices, "target", t->line, t->column))
                goto done;
            if (t->n_indices > GPSC_EXP_COST_MAXDIM) {
                rfail(&r, t->line, t->column, "state cost: more than %d indices",
                      GPSC_EXP_COST_MAXDIM);
                goto done;
            }
            for (int j = 0; j < t->n_indices; j++) {
                if (t->indices[j] >= d.dX) {
                    rfail(&r, t->line, t->column, "state cost index %d is outside x (dX = %d)",
                          t->indices[j], d.dX);
                    goto done;
                }
                for (int k = 0; k < j; k++)
                    if (t->indices[k] == t->indices[j]) {
                        rfail(&r, t->line, t->column, "state cost index %d is repeated",
                              t->indices[j]);
                        goto done;
                    }
            }
            break;
        }
    }

    /* initial controller */
    if (e->init.type == GPSC_EXP_INIT_LQR) {
        if (resolve_len(&r, &e->init.init_gains, d.dU, "init_gains", 0, 0) ||
            resolve_len(&r, &e->init.init_acc, d.dU, "init_acc", 0, 0))
            goto done;
    }

    /* success metric */
    if ((e->success.metric == GPSC_EXP_METRIC_FINAL_EE_DISTANCE ||
         e->success.metric == GPSC_EXP_METRIC_MIN_EE_DISTANCE) &&
        e->success.point >= e->ee_sites.n) {
        rfail(&r, e->success.line, e->success.column, "success.point %d: there are %d ee sites",
              e->success.point, e->ee_sites.n);
        goto done;
    }
    if (e->success.metric >= GPSC_EXP_METRIC_FINAL_STATE_ABOVE && e->success.index >= d.dX) {
        rfail(&r, e->success.line, e->success.column, "success.index %d is outside x (dX = %d)",
              e->success.index, d.dX);
        goto done;
    }

    /* observation */
    for (int i = 0; i < e->n_obs_blocks; i++) {
        switch (e->obs_blocks[i]) {
        case GPSC_EXP_OBS_QPOS:
            d.dO += d.n_qpos;
            break;
        case GPSC_EXP_OBS_QVEL:
            d.dO += d.n_qvel;
            break;
        case GPSC_EXP_OBS_EE:
            d.dO += d.P;
            break;
        case GPSC_EXP_OBS_EE_VEL:
            d.dO += d.P;
            break;
        case GPSC_EXP_OBS_TARGET:
            d.dO += d.P;
            break;
        case GPSC_EXP_OBS_SENSORS:
            d.dO += d.nsensordata;
            break;
        }
    }
    if (d.dO < 1) {
        rfail(&r, 1, 1, "the observation is empty");
        goto done;
    }

    free(e->joint_idx);
    e->joint_idx = xcalloc((size_t)(d.dQ > 0 ? d.dQ : 1), sizeof(int));
    for (int i = 0; i < d.dQ; i++)
        e->joint_idx[i] = d.x_qpos + i;
    e->dims = d;
    e->resolved = true;
done:
    free(qj);
    free(vj);
    free(sj);
    free(aj);
    free(tj);
    return r.rc;
}

/* ---- write ---- */

static void put_num(FILE *f, double v)
{
    char b[40];
    snprintf(b, sizeof b, "%.17g", v);
    /* keep the value a YAML float when it prints like an integer */
    if (!strpbrk(b, ".eEn")) strncat(b, ".0", sizeof b - strlen(b) - 1);
    fputs(b, f);
}

static void put_vec(FILE *f, const gpsc_exp_vec_t *v)
{
    if (v->n == 1) {
        put_num(f, v->v[0]);
        return;
    }
    fputc('[', f);
    for (int i = 0; i < v->n; i++) {
        if (i) fputs(", ", f);
        put_num(f, v->v[i]);
    }
    fputc(']', f);
}

static void put_names(FILE *f, const gpsc_exp_names_t *l)
{
    if (l->all && l->n == 0) {
        fputs("all", f);
        return;
    }
    fputc('[', f);
    for (int i = 0; i < l->n; i++)
        fprintf(f, "%s\"%s\"", i ? ", " : "", l->names[i]);
    fputc(']', f);
}

static void put_condition(FILE *f, const gpsc_exp_condition_t *c, const char *ind)
{
    bool first = true;
#define GPSC_COND_KEY(k)                                                                           \
    do {                                                                                           \
        fprintf(f, "%s%s: ", first ? "" : ind, k);                                                 \
        first = false;                                                                             \
    } while (0)
    if (c->qpos.n) {
        GPSC_COND_KEY("qpos");
        put_vec(f, &c->qpos);
        fputc('\n', f);
    }
    if (c->qvel.n) {
        GPSC_COND_KEY("qvel");
        put_vec(f, &c->qvel);
        fputc('\n', f);
    }
    if (c->n_offsets) {
        GPSC_COND_KEY("body_offsets");
        fputc('{', f);
        for (int i = 0; i < c->n_offsets; i++) {
            fprintf(f, "%s\"%s\": [", i ? ", " : "", c->offsets[i].body);
            for (int j = 0; j < 3; j++) {
                if (j) fputs(", ", f);
                put_num(f, c->offsets[i].pos[j]);
            }
            fputc(']', f);
        }
        fputs("}\n", f);
    }
    if (c->target.n) {
        GPSC_COND_KEY("target");
        put_vec(f, &c->target);
        fputc('\n', f);
    }
    if (c->x0_noise.n) {
        GPSC_COND_KEY("x0_noise");
        put_vec(f, &c->x0_noise);
        fputc('\n', f);
    }
    if (first) fputs("{}\n", f);
#undef GPSC_COND_KEY
}

static void put_penalty(FILE *f, const gpsc_exp_cost_t *t)
{
    fputs("    wp: ", f);
    put_vec(f, &t->wp);
    fputs("\n    l1: ", f);
    put_num(f, t->l1);
    fputs("\n    l2: ", f);
    put_num(f, t->l2);
    fputs("\n    alpha: ", f);
    put_num(f, t->alpha);
    fprintf(f,
            "\n    norm: %s\n    ramp: %s\n    wp_final_multiplier: ", gpsc_exp_norm_name(t->norm),
            gpsc_exp_ramp_name(t->ramp));
    put_num(f, t->wp_final_multiplier);
    fputc('\n', f);
}

static void put_prior(FILE *f, const gpsc_exp_prior_t *p)
{
    fprintf(f, "max_clusters: %d, min_samples_per_cluster: %d, max_samples: %d, strength: ",
            p->max_clusters, p->min_samples_per_cluster, p->max_samples);
    put_num(f, p->strength);
    fprintf(f, ", em_iterations: %d, em_tolerance: ", p->em_iterations);
    put_num(f, p->em_tolerance);
    fprintf(f, ", em_stop: %s", em_stop_names[p->em_stop]);
}

int gpsc_experiment_fprint(const gpsc_experiment_t *e, FILE *f)
{
    char *abs = e->model ? realpath(e->model, NULL) : NULL;
    fprintf(f, "# resolved experiment written by gpsc\n");
    fprintf(f, "name: \"%s\"\n", e->name ? e->name : "");
    fprintf(f, "model: \"%s\"\n", abs ? abs : (e->model ? e->model : ""));
    free(abs);
    fprintf(f, "T: %d\ndt: ", e->T);
    put_num(f, e->dt);
    fprintf(f, "\nsubsteps: %d\n", e->substeps);

    fputs("state:\n  qpos_joints: ", f);
    put_names(f, &e->qpos_joints);
    fputs("\n  qvel_joints: ", f);
    put_names(f, &e->qvel_joints);
    fputc('\n', f);
    if (e->ee_sites.n) {
        fputs("  ee_sites: ", f);
        put_names(f, &e->ee_sites);
        fputc('\n', f);
    }
    fprintf(f, "  ee_velocities: %s\n", e->ee_velocities ? "true" : "false");
    fprintf(f, "  ee_velocity_mode: %s\n", ee_vel_names[e->ee_velocity_mode]);
    fprintf(f, "  ee_relative_to_target: %s\n", e->ee_relative_to_target ? "true" : "false");
    fputs("observation: [", f);
    for (int i = 0; i < e->n_obs_blocks; i++)
        fprintf(f, "%s%s", i ? ", " : "", obs_names[e->obs_blocks[i]]);
    fputs("]\naction:\n  actuators: ", f);
    put_names(f, &e->actuators);
    fputc('\n', f);
    if (e->target_sites.n) {
        fputs("target_sites: ", f);
        put_names(f, &e->target_sites);
        fputc('\n', f);
    }

    fputs("conditions:\n  train:\n", f);
    for (int i = 0; i < e->n_train; i++) {
        fputs("    - ", f);
        put_condition(f, &e->train[i], "      ");
    }
    if (e->n_test) {
        fputs("  test:\n", f);
        for (int i = 0; i < e->n_test; i++) {
            fputs("    - ", f);
            put_condition(f, &e->test[i], "      ");
        }
    }

    fputs("cost:\n", f);
    for (int i = 0; i < e->n_costs; i++) {
        const gpsc_exp_cost_t *t = &e->costs[i];
        fprintf(f, "  - type: %s\n    weight: ", gpsc_exp_cost_type_name(t->type));
        put_num(f, t->weight);
        fputc('\n', f);
        if (t->type == GPSC_EXP_COST_ACTION) {
            fputs("    wu: ", f);
            put_vec(f, &t->wu);
            fputc('\n', f);
        } else {
            put_penalty(f, t);
            if (t->type == GPSC_EXP_COST_STATE) {
                fputs("    indices: [", f);
                for (int j = 0; j < t->n_indices; j++)
                    fprintf(f, "%s%d", j ? ", " : "", t->indices[j]);
                fputs("]\n    target: ", f);
                put_vec(f, &t->target);
                fputc('\n', f);
            }
        }
    }

    const gpsc_exp_init_t *in = &e->init;
    fprintf(f, "init_controller:\n  type: %s\n  init_var: ", init_names[in->type]);
    put_num(f, in->init_var);
    fputc('\n', f);
    if (in->type == GPSC_EXP_INIT_LQR) {
        fputs("  stiffness: ", f);
        put_num(f, in->stiffness);
        fputs("\n  stiffness_vel: ", f);
        put_num(f, in->stiffness_vel);
        fputs("\n  final_weight: ", f);
        put_num(f, in->final_weight);
        fputs("\n  init_gains: ", f);
        put_vec(f, &in->init_gains);
        fputs("\n  init_acc: ", f);
        put_vec(f, &in->init_acc);
        fputc('\n', f);
    } else {
        fputs("  pos_gains: ", f);
        put_num(f, in->pos_gains);
        fputs("\n  vel_gains_mult: ", f);
        put_num(f, in->vel_gains_mult);
        fputc('\n', f);
    }

    fprintf(f, "noise:\n  smooth: %s\n  sigma: ", e->noise.smooth ? "true" : "false");
    put_num(f, e->noise.sigma);
    fprintf(f, "\n  renormalize: %s\n", e->noise.renormalize ? "true" : "false");

    fprintf(f, "success:\n  metric: %s\n", gpsc_exp_metric_name(e->success.metric));
    if (e->success.metric != GPSC_EXP_METRIC_NONE) {
        if (e->success.metric <= GPSC_EXP_METRIC_MIN_EE_DISTANCE)
            fprintf(f, "  point: %d\n", e->success.point);
        else
            fprintf(f, "  index: %d\n", e->success.index);
        fputs("  threshold: ", f);
        put_num(f, e->success.threshold);
        fputc('\n', f);
    }

    const gpsc_exp_algo_t *a = &e->algo;
    fprintf(f,
            "algorithm:\n  type: %s\n  iterations: %d\n  samples: %d\n  test_samples: %d\n"
            "  seed: %llu\n  kl_step: ",
            gpsc_exp_algorithm_name(a->type), a->iterations, a->samples, a->test_samples, a->seed);
    put_num(f, a->kl_step);
    fputs("\n  min_step_mult: ", f);
    put_num(f, a->min_step_mult);
    fputs("\n  max_step_mult: ", f);
    put_num(f, a->max_step_mult);
    fprintf(f, "\n  step_rule: %s\n  sampling: %s\n", step_names[a->step_rule],
            sampling_names[a->sampling]);
    fputs("  cstep:\n    eta_init: ", f);
    put_num(f, a->cstep.eta_init);
    fputs("\n    min_eta: ", f);
    put_num(f, a->cstep.min_eta);
    fputs("\n    max_eta: ", f);
    put_num(f, a->cstep.max_eta);
    fputs("\n    del0: ", f);
    put_num(f, a->cstep.del0);
    fprintf(f, "\n    max_iterations: %d\n    kl_tolerance: ", a->cstep.max_iterations);
    put_num(f, a->cstep.kl_tolerance);
    fputs("\n  dynamics:\n    regularization: ", f);
    put_num(f, a->dyn_regularization);
    fputs("\n    initial_state_var: ", f);
    put_num(f, a->initial_state_var);
    fputs("\n    prior: {", f);
    put_prior(f, &a->dyn_prior);
    fputs("}\n  policy_prior: {", f);
    put_prior(f, &a->pol_prior);
    fputs(", regularization: ", f);
    put_num(f, a->pol_prior.regularization);
    fputs("}\n  gps2014:\n    init_pol_wt: ", f);
    put_num(f, a->init_pol_wt);
    fputs("\n    policy_dual_rate: ", f);
    put_num(f, a->policy_dual_rate);
    fprintf(f, "\n    inner_iterations: %d\n", a->inner_iterations);

    const gpsc_exp_network_t *n = &e->net;
    fputs("network:\n  hidden: [", f);
    for (int i = 0; i < n->n_hidden; i++)
        fprintf(f, "%s%d", i ? ", " : "", n->hidden[i]);
    fprintf(f, "]\n  activation: %s\n  iterations: %d\n  batch_size: %d\n  learning_rate: ",
            act_names[n->activation], n->iterations, n->batch_size);
    put_num(f, n->learning_rate);
    fputs("\n  weight_decay: ", f);
    put_num(f, n->weight_decay);
    fputs("\n  init_var: ", f);
    put_num(f, n->init_var);
    fputs("\n  ent_reg: ", f);
    put_num(f, n->ent_reg);

    const gpsc_exp_cluster_t *k = &e->cluster;
    fprintf(f, "\ncluster:\n  workers: %d\n  task_timeout: ", k->workers);
    put_num(f, k->task_timeout);
    fputs("\n  heartbeat_interval: ", f);
    put_num(f, k->heartbeat_interval);
    fprintf(f, "\n  heartbeat_liveness: %d\n", k->heartbeat_liveness);
    return ferror(f) ? GPSC_EIO : 0;
}

int gpsc_experiment_write(const gpsc_experiment_t *exp, const char *path, char *err, size_t errsz)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return GPSC_EIO;
    }
    int rc = gpsc_experiment_fprint(exp, f);
    if (fclose(f) != 0 || rc) {
        snprintf(err, errsz, "%s: write failed", path);
        return GPSC_EIO;
    }
    return 0;
}
