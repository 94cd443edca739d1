/* eval.c — rollouts of a trained policy on a pool, and the gpsc-eval/1
 * document (see eval.h). */
#include "worker/eval.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "learner/pool.h"
#include "worker/env.h"

static int fail(int code, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int code, char *err, size_t errsz, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* the ee point the distances and paths are about */
static int metric_point(const gpsc_experiment_t *exp)
{
    bool ee = exp->success.metric == GPSC_EXP_METRIC_FINAL_EE_DISTANCE ||
              exp->success.metric == GPSC_EXP_METRIC_MIN_EE_DISTANCE;
    return ee ? exp->success.point : 0;
}

/* what one pool worker owns */
typedef struct slot {
    gpsc_env_t *env;
    gpsc_rollout_t *ro;
    gpsc_sample_t *s;
} slot_t;

typedef struct run_ctx {
    const gpsc_experiment_t *exp;
    const gpsc_eval_cfg_t *cfg;
    const gpsc_mlp_t *net;
    const gpsc_lgpolicy_t *const *local;
    const int *conds;
    gpsc_eval_result_t *out;
    slot_t *slots;     /* (workers) */
    char (*errs)[256]; /* (n) per task */
} run_ctx_t;

/* task i: every rollout of condition conds[i] on worker w's env */
static int run_condition(void *vctx, int i, int w)
{
    run_ctx_t *x = vctx;
    const gpsc_experiment_t *exp = x->exp;
    const gpsc_eval_cfg_t *cfg = x->cfg;
    gpsc_eval_result_t *r = &x->out[i];
    slot_t *sl = &x->slots[w];
    gpsc_sample_t *s = sl->s;
    int c = x->conds[i], p = metric_point(exp), P = exp->dims.P;
    bool metric = exp->success.metric != GPSC_EXP_METRIC_NONE;

    gpsc_rollout_policy_t pol = {.kind = cfg->policy};
    if (cfg->policy == GPSC_POLICY_GLOBAL)
        pol.mlp = x->net;
    else
        pol.lg = x->local[c];

    /* running sums over the good rollouts (Welford for the cost) */
    double mean = 0, m2 = 0, dsum = 0, vsum = 0;
    int good = 0;
    for (int n = 0; n < cfg->samples; n++) {
        gpsc_rollout_key_t key = {cfg->seed, GPSC_EVAL_ITERATION, (uint32_t)c, (uint32_t)n};
        int rc =
            gpsc_rollout_run(sl->ro, s, &pol, &key, cfg->noiseless, x->errs[i], sizeof x->errs[i]);
        if (rc) return rc;
        r->rollouts++;
        if (s->status != 0) {
            r->failed++;
            if (!r->reason[0]) snprintf(r->reason, sizeof r->reason, "%s", s->reason);
            continue;
        }
        double cost = 0;
        for (size_t j = 0; j < (size_t)s->T * (size_t)s->dC; j++)
            cost += s->costs[j];
        good++;
        double d = cost - mean;
        mean += d / good;
        m2 += d * (cost - mean);
        if (P > 0) dsum += gpsc_rollout_ee_distance(s, s->T - 1, p);
        if (metric) {
            double v = NAN;
            if (gpsc_rollout_success(exp, s, &v) == 1) r->successes++;
            vsum += v;
        }
        if (r->ee && r->n_paths < cfg->max_paths) {
            double *dst = r->ee + (size_t)r->n_paths * (size_t)s->T * 3;
            for (int t = 0; t < s->T; t++)
                memcpy(dst + (size_t)t * 3, s->ee + (size_t)t * (size_t)P + (size_t)(3 * p),
                       3 * sizeof(double));
            r->n_paths++;
        }
    }
    r->mean_cost = good ? mean : NAN;
    r->cost_std = good ? sqrt(m2 / good) : NAN;
    r->final_distance = good && P > 0 ? dsum / good : NAN;
    r->metric_value = good && metric ? vsum / good : NAN;
    return 0;
}

void gpsc_eval_result_free(gpsc_eval_result_t *r)
{
    if (!r) return;
    free(r->ee);
    memset(r, 0, sizeof *r);
}

int gpsc_eval_run(gpsc_eval_result_t *out, const gpsc_experiment_t *exp, const gpsc_eval_cfg_t *cfg,
                  const gpsc_mlp_t *net, const gpsc_lgpolicy_t *const *local, const int *conds,
                  int n, char *err, size_t errsz)
{
    if (!out || !exp || !cfg || (n > 0 && !conds) || n < 0)
        return fail(GPSC_EINVAL, err, errsz, "eval: NULL argument");
    for (int i = 0; i < n; i++)
        memset(&out[i], 0, sizeof out[i]);
    if (!exp->resolved)
        return fail(GPSC_EINVAL, err, errsz, "eval: the experiment is not resolved");
    if (cfg->samples < 1 || cfg->samples > GPSC_EVAL_MAX_SAMPLES)
        return fail(GPSC_ERANGE, err, errsz, "eval: samples %d not in 1..%d", cfg->samples,
                    GPSC_EVAL_MAX_SAMPLES);
    if (cfg->threads < 1 || cfg->max_paths < 0)
        return fail(GPSC_ERANGE, err, errsz, "eval: threads %d, max_paths %d", cfg->threads,
                    cfg->max_paths);
    const gpsc_exp_dims_t *d = &exp->dims;
    int n_all = gpsc_experiment_n_conditions(exp);
    for (int i = 0; i < n; i++)
        if (conds[i] < 0 || conds[i] >= n_all)
            return fail(GPSC_ERANGE, err, errsz, "eval: condition %d not in 0..%d", conds[i],
                        n_all - 1);
    if (cfg->policy == GPSC_POLICY_GLOBAL) {
        if (!net) return fail(GPSC_EINVAL, err, errsz, "eval: no global policy");
        if (net->dO != d->dO || net->dU != d->dU)
            return fail(GPSC_EDIM, err, errsz,
                        "eval: the network maps dO %d to dU %d, the task has dO %d, dU %d", net->dO,
                        net->dU, d->dO, d->dU);
    } else if (cfg->policy == GPSC_POLICY_LOCAL) {
        if (!local) return fail(GPSC_EINVAL, err, errsz, "eval: no local policies");
        for (int i = 0; i < n; i++) {
            int c = conds[i];
            if (c >= exp->n_train)
                return fail(GPSC_ERANGE, err, errsz,
                            "eval: condition %d is a test condition: local policies exist "
                            "only for the %d training conditions",
                            c, exp->n_train);
            const gpsc_lgpolicy_t *lg = local[c];
            if (!lg)
                return fail(GPSC_EINVAL, err, errsz, "eval: no local policy for condition %d", c);
            if (lg->T != exp->T || lg->dX != d->dX || lg->dU != d->dU)
                return fail(GPSC_EDIM, err, errsz,
                            "eval: local policy %d is T %d, dX %d, dU %d; the task has T %d, "
                            "dX %d, dU %d",
                            c, lg->T, lg->dX, lg->dU, exp->T, d->dX, d->dU);
        }
    } else {
        return fail(GPSC_EINVAL, err, errsz, "eval: unknown policy kind %d", (int)cfg->policy);
    }
    if (n == 0) return 0;

    /* results: room for the paths up front (the tasks do not allocate) */
    int keep = cfg->max_paths < cfg->samples ? cfg->max_paths : cfg->samples;
    if (d->P == 0) keep = 0;
    for (int i = 0; i < n; i++) {
        out[i].condition = conds[i];
        out[i].test = conds[i] >= exp->n_train;
        out[i].successes = exp->success.metric == GPSC_EXP_METRIC_NONE ? -1 : 0;
        out[i].T = exp->T;
        if (keep > 0 && !(out[i].ee = malloc((size_t)keep * (size_t)exp->T * 3 * sizeof(double))))
            return fail(GPSC_ENOMEM, err, errsz, "eval: out of memory");
    }

    /* one env, runner and sample per worker */
    int nw = cfg->threads < n ? cfg->threads : n;
    int rc = 0;
    gpsc_pool_t *pool = NULL;
    slot_t *slots = calloc((size_t)nw, sizeof *slots);
    char(*errs)[256] = calloc((size_t)n, sizeof *errs);
    if (!slots || !errs) {
        rc = fail(GPSC_ENOMEM, err, errsz, "eval: out of memory");
        goto done;
    }
    for (int w = 0; w < nw; w++) {
        slots[w].env = gpsc_env_new(exp, err, errsz);
        if (!slots[w].env) {
            rc = GPSC_EMODEL;
            goto done;
        }
        slots[w].ro = gpsc_rollout_new(slots[w].env);
        slots[w].s = gpsc_sample_new(d, exp->T, exp->n_costs);
        if (!slots[w].ro || !slots[w].s) {
            rc = fail(GPSC_ENOMEM, err, errsz, "eval: out of memory");
            goto done;
        }
    }
    pool = gpsc_pool_new(nw, 256);
    if (!pool) {
        rc = fail(GPSC_ENOMEM, err, errsz, "eval: cannot start %d threads", nw);
        goto done;
    }

    /* the conditions, any worker each; the lowest failing one reports */
    run_ctx_t x = {exp, cfg, net, local, conds, out, slots, errs};
    rc = gpsc_pool_run(pool, n, run_condition, &x);
    if (rc)
        for (int i = 0; i < n; i++)
            if (errs[i][0]) {
                snprintf(err, errsz, "condition %d: %s", conds[i], errs[i]);
                break;
            }
done:
    gpsc_pool_destroy(&pool);
    if (slots)
        for (int w = 0; w < nw; w++) {
            gpsc_sample_destroy(&slots[w].s);
            gpsc_rollout_destroy(&slots[w].ro);
            gpsc_env_destroy(&slots[w].env);
        }
    free(slots);
    free(errs);
    return rc;
}

/* ---- the document ---- */

static const char *policy_name(gpsc_policy_kind_t k)
{
    return k == GPSC_POLICY_LOCAL ? "local" : "global";
}

/* a number, or null when not finite */
static cJSON *num(double v)
{
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

/* one result as a JSON object; NULL when out of memory */
static cJSON *result_json(const gpsc_eval_result_t *r, const gpsc_eval_cfg_t *cfg)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    bool ok = cJSON_AddNumberToObject(o, "condition", r->condition) &&
              cJSON_AddStringToObject(o, "split", r->test ? "test" : "train") &&
              cJSON_AddStringToObject(o, "policy", policy_name(cfg->policy)) &&
              cJSON_AddBoolToObject(o, "noiseless", cfg->noiseless) &&
              cJSON_AddNumberToObject(o, "rollouts", r->rollouts);
    ok = ok && cJSON_AddItemToObject(o, "mean_cost", num(r->mean_cost));
    ok = ok && cJSON_AddItemToObject(o, "final_distance", num(r->final_distance));
    ok = ok && cJSON_AddItemToObject(o, "successes",
                                     r->successes >= 0 ? cJSON_CreateNumber(r->successes)
                                                       : cJSON_CreateNull());
    ok = ok && cJSON_AddItemToObject(o, "cost_std", num(r->cost_std));
    ok = ok && cJSON_AddItemToObject(o, "metric_value", num(r->metric_value));
    ok = ok && cJSON_AddNumberToObject(o, "failed", r->failed);
    if (ok && r->n_paths > 0) {
        /* (rollouts x T x 3), rounded to 1e-6 m so the file stays readable */
        cJSON *ee = cJSON_AddArrayToObject(o, "ee");
        ok = ee != NULL;
        for (int j = 0; ok && j < r->n_paths; j++) {
            cJSON *path = cJSON_CreateArray();
            ok = path && cJSON_AddItemToArray(ee, path);
            for (int t = 0; ok && t < r->T; t++) {
                const double *q = r->ee + ((size_t)j * (size_t)r->T + (size_t)t) * 3;
                double v[3];
                for (int a = 0; a < 3; a++)
                    v[a] = round(q[a] * 1e6) / 1e6;
                cJSON *pt = cJSON_CreateDoubleArray(v, 3);
                ok = pt && cJSON_AddItemToArray(path, pt);
            }
        }
    }
    if (!ok) cJSON_Delete(o);
    return ok ? o : NULL;
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* sort key of a result */
typedef struct item {
    cJSON *o;
    int split; /* 0 train, 1 test, 2 other */
    int condition;
    const char *policy;
    int noiseless;
    int idx;
} item_t;

static int cmp_item(const void *va, const void *vb)
{
    const item_t *a = va, *b = vb;
    if (a->split != b->split) return a->split - b->split;
    if (a->condition != b->condition) return a->condition < b->condition ? -1 : 1;
    int c = strcmp(a->policy, b->policy);
    if (c) return c;
    if (a->noiseless != b->noiseless) return a->noiseless - b->noiseless;
    return a->idx - b->idx;
}

static item_t make_item(cJSON *o, int idx)
{
    const char *split = jstr(o, "split"), *pol = jstr(o, "policy");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "condition");
    item_t it = {o, 2, cJSON_IsNumber(c) ? c->valueint : -1, pol ? pol : "", 0, idx};
    if (split && strcmp(split, "train") == 0)
        it.split = 0;
    else if (split && strcmp(split, "test") == 0)
        it.split = 1;
    it.noiseless = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "noiseless"));
    return it;
}

/* prints a JSON value (a string's quotes and escapes) to f */
static bool put(FILE *f, const cJSON *v)
{
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;
    if (!s) return false;
    fputs(s, f);
    free(s);
    return true;
}

static bool put_str(FILE *f, const char *key, const char *s)
{
    cJSON *v = cJSON_CreateString(s ? s : "");
    fprintf(f, "  \"%s\": ", key);
    bool ok = put(f, v);
    fputs(",\n", f);
    cJSON_Delete(v);
    return ok;
}

char *gpsc_eval_json(const char *old_json, const gpsc_experiment_t *exp,
                     const gpsc_eval_info_t *info, const gpsc_eval_cfg_t *cfg,
                     const gpsc_eval_result_t *res, int n, int *kept, int *dropped)
{
    int n_kept = 0, n_dropped = 0;
    cJSON *old = old_json && old_json[0] ? cJSON_Parse(old_json) : NULL;
    const cJSON *ores = cJSON_GetObjectItemCaseSensitive(old, "results");
    const char *ofmt = jstr(old, "format"), *ock = jstr(old, "checkpoint");
    bool same = cJSON_IsArray(ores) && ofmt && strcmp(ofmt, "gpsc-eval/1") == 0 && ock &&
                info->checkpoint && strcmp(ock, info->checkpoint) == 0;
    int n_old = cJSON_IsArray(ores) ? cJSON_GetArraySize(ores) : 0;
    item_t *items = calloc((size_t)(n_old + n) + 1, sizeof *items);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = NULL;
    int ni = 0;
    bool ok = items != NULL;

    /* old results whose (policy, split) no new result has */
    const cJSON *x;
    cJSON_ArrayForEach(x, ores)
    {
        if (!ok) break;
        bool keep = same && cJSON_IsObject(x);
        const char *pol = jstr(x, "policy"), *split = jstr(x, "split");
        for (int i = 0; keep && i < n; i++)
            if (pol && split && strcmp(pol, policy_name(cfg->policy)) == 0 &&
                strcmp(split, res[i].test ? "test" : "train") == 0)
                keep = false;
        if (!keep) {
            n_dropped++;
            continue;
        }
        cJSON *dup = cJSON_Duplicate(x, true);
        ok = dup != NULL;
        if (ok) items[ni] = make_item(dup, ni), ni++;
        n_kept++;
    }
    for (int i = 0; ok && i < n; i++) {
        cJSON *o = result_json(&res[i], cfg);
        ok = o != NULL;
        if (ok) items[ni] = make_item(o, ni), ni++;
    }
    if (ok) qsort(items, (size_t)ni, sizeof *items, cmp_item);

    /* header fields, then one result per line */
    if (ok) ok = (f = open_memstream(&buf, &len)) != NULL;
    if (ok) {
        bool ee = exp->success.metric == GPSC_EXP_METRIC_FINAL_EE_DISTANCE ||
                  exp->success.metric == GPSC_EXP_METRIC_MIN_EE_DISTANCE;
        fputs("{\n  \"format\": \"gpsc-eval/1\",\n", f);
        ok &= put_str(f, "checkpoint", info->checkpoint);
        fprintf(f, "  \"iteration\": %d,\n", info->iteration);
        if (info->run_id) ok &= put_str(f, "run_id", info->run_id);
        fprintf(f, "  \"seed\": %llu,\n", (unsigned long long)cfg->seed);
        ok &= put_str(f, "metric", gpsc_exp_metric_name(exp->success.metric));
        cJSON *th = exp->success.metric == GPSC_EXP_METRIC_NONE
                        ? cJSON_CreateNull()
                        : cJSON_CreateNumber(exp->success.threshold);
        fputs("  \"threshold\": ", f);
        ok &= put(f, th);
        cJSON_Delete(th);
        fprintf(f, ",\n  \"point\": %d,\n", ee ? exp->success.point : 0);
        if (!ee && exp->success.metric != GPSC_EXP_METRIC_NONE)
            fprintf(f, "  \"index\": %d,\n", exp->success.index);
        fputs("  \"results\": [", f);
        for (int i = 0; ok && i < ni; i++) {
            fputs(i ? ",\n    " : "\n    ", f);
            ok = put(f, items[i].o);
        }
        fputs(ni ? "\n  ]\n}\n" : "]\n}\n", f);
        ok &= fclose(f) == 0;
        f = NULL;
    }
    for (int i = 0; items && i < ni; i++)
        cJSON_Delete(items[i].o);
    free(items);
    cJSON_Delete(old);
    if (!ok) {
        free(buf);
        return NULL;
    }
    if (kept) *kept = n_kept;
    if (dropped) *dropped = n_dropped;
    return buf;
}
