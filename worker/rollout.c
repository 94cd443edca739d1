/* rollout.c — one rollout under a local or global policy (see rollout.h). */
#include "worker/rollout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/noise.h"
#include "common/rng.h"
#include "worker/taskcost.h"

struct gpsc_rollout {
    gpsc_env_t *env;
    double *x0_eps;     /* (nq + nv) */
    double *noise_work; /* (gpsc_noise_work_size) */
    size_t noise_work_n;
    double *mlp_work; /* grown when a wider network arrives (not per step) */
    size_t mlp_work_n;
    double *cost_work; /* (gpsc_taskcost_scratch) */
};

gpsc_sample_t *gpsc_sample_new(const gpsc_exp_dims_t *d, int T, int dC)
{
    gpsc_sample_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    size_t t = (size_t)T;
    s->T = T;
    s->dX = d->dX;
    s->dU = d->dU;
    s->dO = d->dO;
    s->P = d->P;
    s->dQ = d->dQ;
    s->dC = dC;
    s->fail_step = -1;
    s->X = calloc(t * (size_t)d->dX + 1, sizeof(double));
    s->U = calloc(t * (size_t)d->dU + 1, sizeof(double));
    s->O = calloc(t * (size_t)d->dO + 1, sizeof(double));
    s->ee = calloc(t * (size_t)d->P + 1, sizeof(double));
    s->jac = calloc(t * (size_t)d->P * (size_t)d->dQ + 1, sizeof(double));
    s->eps = calloc(t * (size_t)d->dU + 1, sizeof(double));
    s->costs = calloc(t * (size_t)dC + 1, sizeof(double));
    s->target = calloc((size_t)d->P + 1, sizeof(double));
    if (!s->X || !s->U || !s->O || !s->ee || !s->jac || !s->eps || !s->costs || !s->target)
        gpsc_sample_destroy(&s);
    return s;
}

void gpsc_sample_destroy(gpsc_sample_t **p)
{
    if (!p || !*p) return;
    gpsc_sample_t *s = *p;
    free(s->X);
    free(s->U);
    free(s->O);
    free(s->ee);
    free(s->jac);
    free(s->eps);
    free(s->costs);
    free(s->target);
    free(s);
    *p = NULL;
}

gpsc_rollout_t *gpsc_rollout_new(gpsc_env_t *env)
{
    const gpsc_experiment_t *exp = gpsc_env_experiment(env);
    const gpsc_exp_dims_t *d = gpsc_env_dims(env);
    gpsc_rollout_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->env = env;
    gpsc_noise_cfg_t nc = {exp->noise.smooth, exp->noise.sigma, exp->noise.renormalize};
    r->noise_work_n = gpsc_noise_work_size(&nc, exp->T);
    r->x0_eps = calloc((size_t)(d->nq + d->nv) + 1, sizeof(double));
    r->noise_work = calloc(r->noise_work_n, sizeof(double));
    r->cost_work =
        calloc((size_t)gpsc_taskcost_scratch(exp->costs, exp->n_costs, d->P), sizeof(double));
    if (!r->x0_eps || !r->noise_work || !r->cost_work) gpsc_rollout_destroy(&r);
    return r;
}

void gpsc_rollout_destroy(gpsc_rollout_t **p)
{
    if (!p || !*p) return;
    gpsc_rollout_t *r = *p;
    free(r->x0_eps);
    free(r->noise_work);
    free(r->mlp_work);
    free(r->cost_work);
    free(r);
    *p = NULL;
}

gpsc_env_t *gpsc_rollout_env(gpsc_rollout_t *r)
{
    return r->env;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail(gpsc_sample_t *s, int code, int t, const char *reason)
{
    s->status = code;
    s->fail_step = t;
    snprintf(s->reason, sizeof s->reason, "%s", reason);
    return 0;
}

int gpsc_rollout_run(gpsc_rollout_t *r, gpsc_sample_t *s, const gpsc_rollout_policy_t *pol,
                     const gpsc_rollout_key_t *key, bool noiseless, char *err, size_t errsz)
{
    gpsc_env_t *env = r->env;
    const gpsc_experiment_t *exp = gpsc_env_experiment(env);
    const gpsc_exp_dims_t *d = gpsc_env_dims(env);
    int T = exp->T, dX = d->dX, dU = d->dU, dO = d->dO, P = d->P, dQ = d->dQ;

    /* shapes */
    if (s->T != T || s->dX != dX || s->dU != dU || s->dO != dO || s->P != P || s->dQ != dQ ||
        s->dC != exp->n_costs) {
        snprintf(err, errsz, "sample buffer does not match the task's dimensions");
        return GPSC_EDIM;
    }
    if (pol->kind == GPSC_POLICY_LOCAL) {
        if (!pol->lg || pol->lg->T < T || pol->lg->dX != dX || pol->lg->dU != dU) {
            snprintf(err, errsz,
                     "local policy is %dx%dx%d (T x dU x dX), the task needs "
                     "%dx%dx%d",
                     pol->lg ? pol->lg->T : 0, pol->lg ? pol->lg->dU : 0, pol->lg ? pol->lg->dX : 0,
                     T, dU, dX);
            return GPSC_EDIM;
        }
    } else if (pol->kind == GPSC_POLICY_GLOBAL) {
        if (!pol->mlp || pol->mlp->dO != dO || pol->mlp->dU != dU) {
            snprintf(err, errsz, "network maps %d -> %d, the task needs dO %d -> dU %d",
                     pol->mlp ? pol->mlp->dO : 0, pol->mlp ? pol->mlp->dU : 0, dO, dU);
            return GPSC_EDIM;
        }
        size_t need = gpsc_mlp_work_size(pol->mlp);
        if (need > r->mlp_work_n) {
            double *w = realloc(r->mlp_work, need * sizeof(double));
            if (!w) {
                snprintf(err, errsz, "out of memory");
                return GPSC_ENOMEM;
            }
            r->mlp_work = w;
            r->mlp_work_n = need;
        }
    } else {
        snprintf(err, errsz, "unknown policy kind %d", (int)pol->kind);
        return GPSC_EINVAL;
    }
    if (!gpsc_experiment_condition(exp, (int)key->condition)) {
        snprintf(err, errsz, "condition %u does not exist", key->condition);
        return GPSC_ERANGE;
    }

    double t_start = now_s();
    double sim0 = gpsc_env_sim_seconds(env);
    s->key = *key;
    s->policy_kind = pol->kind;
    s->policy_version = pol->version;
    s->noiseless = noiseless;
    s->status = 0;
    s->fail_step = -1;
    s->reason[0] = 0;

    /* noise: a pure function of the key */
    if (noiseless) {
        memset(s->eps, 0, sizeof(double) * (size_t)T * (size_t)dU);
    } else {
        gpsc_rng_key_t k = {key->seed, key->iteration, key->condition, key->sample,
                            GPSC_RNG_ROLLOUT_NOISE};
        gpsc_noise_cfg_t nc = {exp->noise.smooth, exp->noise.sigma, exp->noise.renormalize};
        gpsc_noise_draw(s->eps, &nc, &k, T, dU, r->noise_work);
    }
    const gpsc_exp_condition_t *cd = gpsc_experiment_condition(exp, (int)key->condition);
    const double *x0_eps = NULL;
    if (!noiseless && cd->x0_noise.n > 0) {
        gpsc_rng_t rng;
        gpsc_rng_init5(&rng, key->seed, key->iteration, key->condition, key->sample,
                       GPSC_RNG_X0_NOISE);
        gpsc_rng_normals(&rng, r->x0_eps, d->nq + d->nv);
        x0_eps = r->x0_eps;
    }

    char why[GPSC_REASON_MAX];
    int rc = gpsc_env_reset(env, (int)key->condition, x0_eps, why, sizeof why);
    if (rc == GPSC_ERANGE) {
        snprintf(err, errsz, "%s", why);
        return rc;
    }
    if (rc) {
        fail(s, rc, 0, why);
        goto out;
    }
    if (P > 0) memcpy(s->target, gpsc_env_target(env), sizeof(double) * (size_t)P);

    for (int t = 0; t < T; t++) {
        double *xt = s->X + (size_t)t * (size_t)dX;
        double *ot = s->O + (size_t)t * (size_t)dO;
        double *ut = s->U + (size_t)t * (size_t)dU;
        const double *et = noiseless ? NULL : s->eps + (size_t)t * (size_t)dU;
        rc = gpsc_env_observe(env, xt, ot, P ? s->ee + (size_t)t * (size_t)P : NULL,
                              P ? s->jac + (size_t)t * (size_t)P * (size_t)dQ : NULL, why,
                              sizeof why);
        if (rc) {
            fail(s, rc, t, why);
            goto out;
        }
        if (pol->kind == GPSC_POLICY_LOCAL)
            gpsc_lgpolicy_act(ut, pol->lg, t, xt, et);
        else
            gpsc_mlp_act(ut, pol->mlp, ot, et, r->mlp_work);
        if (t == T - 1) {
            /* recorded, not applied */
            for (int i = 0; i < dU; i++)
                if (!isfinite(ut[i])) {
                    snprintf(why, sizeof why, "step %d: action %d is not finite", t, i);
                    fail(s, GPSC_ENONFINITE, t, why);
                    goto out;
                }
            break;
        }
        rc = gpsc_env_step(env, ut, why, sizeof why);
        if (rc) {
            fail(s, rc, t, why);
            goto out;
        }
    }
    gpsc_taskcost_eval(s->costs, exp->costs, exp->n_costs, s->X, s->U, s->ee, s->target, T, dX, dU,
                       P, r->cost_work);
out:
    s->sim_s = gpsc_env_sim_seconds(env) - sim0;
    s->rollout_s = now_s() - t_start;
    s->policy_s = s->rollout_s - s->sim_s;
    return 0;
}

double gpsc_rollout_ee_distance(const gpsc_sample_t *s, int t, int p)
{
    const double *e = s->ee + (size_t)t * (size_t)s->P + 3 * (size_t)p;
    const double *g = s->target + 3 * (size_t)p;
    double a = e[0] - g[0], b = e[1] - g[1], c = e[2] - g[2];
    return sqrt(a * a + b * b + c * c);
}

int gpsc_rollout_success(const gpsc_experiment_t *exp, const gpsc_sample_t *s, double *value)
{
    const gpsc_exp_success_t *m = &exp->success;
    if (s->status != 0 || m->metric == GPSC_EXP_METRIC_NONE) return -1;
    int T = s->T;
    double v = 0.0;
    switch (m->metric) {
    case GPSC_EXP_METRIC_NONE:
        return -1;
    case GPSC_EXP_METRIC_FINAL_EE_DISTANCE:
        v = gpsc_rollout_ee_distance(s, T - 1, m->point);
        break;
    case GPSC_EXP_METRIC_MIN_EE_DISTANCE:
        v = INFINITY;
        for (int t = 0; t < T; t++) {
            double q = gpsc_rollout_ee_distance(s, t, m->point);
            if (q < v) v = q;
        }
        break;
    case GPSC_EXP_METRIC_FINAL_STATE_ABOVE:
    case GPSC_EXP_METRIC_FINAL_STATE_BELOW:
        v = s->X[(size_t)(T - 1) * (size_t)s->dX + (size_t)m->index];
        break;
    case GPSC_EXP_METRIC_MEAN_STATE_ABOVE:
        for (int t = 0; t < T; t++)
            v += s->X[(size_t)t * (size_t)s->dX + (size_t)m->index];
        v /= T;
        break;
    }
    if (value) *value = v;
    switch (m->metric) {
    case GPSC_EXP_METRIC_FINAL_EE_DISTANCE:
    case GPSC_EXP_METRIC_MIN_EE_DISTANCE:
    case GPSC_EXP_METRIC_FINAL_STATE_BELOW:
        return v <= m->threshold;
    default:
        return v >= m->threshold;
    }
}
