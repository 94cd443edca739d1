/* report.c — the HTML report of a run directory (see report.h). */
#include "coordinator/report.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/checkpoint.h"
#include "common/error.h"
#include "common/experiment.h"
#include "coordinator/svg.h"

#ifndef GPSC_VERSION
#define GPSC_VERSION "dev"
#endif

#define MAX_WARNINGS 200
#define MAX_LOG_SHOWN 40 /* warning/error records listed in the report */
#define MAX_FILE_BYTES ((size_t)256 << 20)
#define FIG_W 560.0
#define FIG_H 340.0
#define PATH_FIG_H 400.0

/* one iteration's metrics line */
typedef struct mrow {
    int iteration;
    cJSON *obj; /* owned */
} mrow_t;

/* end-effector paths of one training condition's samples */
typedef struct pathset {
    int n, T;   /* samples, steps */
    double *ee; /* (n x T x 3) world frame (m) */
} pathset_t;

/* one entry of eval.json's results */
typedef struct eval_res {
    int condition; /* global numbering */
    char split[8];
    char policy[16];
    bool noiseless;
    int rollouts;
    double mean_cost, final_distance; /* NaN when absent */
    int successes;                    /* -1 when absent */
    int n_paths, T;
    double *ee; /* (n_paths x T x 3) or NULL */
} eval_res_t;

/* a warning or error record of log.jsonl */
typedef struct logrec {
    char *time, *level, *role, *msg;
    long long iteration;
} logrec_t;

typedef struct fig {
    char name[32];
    char section[48];
    char *title;   /* owned */
    char *caption; /* owned, plain text */
    gpsc_svg_plot_t *plot;
} fig_t;

struct gpsc_report {
    char *dir;
    char *html_path; /* last answer of gpsc_report_html_path */

    /* config.yaml (or the checkpoint's copy) */
    bool have_exp;
    gpsc_experiment_t exp;
    bool exp_from_checkpoint;

    /* checkpoints */
    int n_checkpoints;
    int ck_latest, ck_first; /* iterations of the latest and first (>= 1) file; -1 */
    bool have_ck;            /* the latest one was read */
    char run_id[128], config_hash[64], algorithm[16];
    unsigned long long seed;
    int dX, dU, dO, T; /* from the sample buffers (0 when unknown) */

    /* metrics.jsonl */
    bool have_metrics;
    mrow_t *rows; /* sorted by iteration, one per iteration */
    int nrows;
    int n_bad_lines;
    int M; /* training conditions */

    /* end-effector paths */
    int P;                     /* 3 x ee sites */
    int point;                 /* ee point plotted */
    pathset_t *first, *last;   /* (M) or NULL */
    int first_iter, last_iter; /* sample iterations (metrics numbering) */

    /* eval.json */
    bool have_eval;
    eval_res_t *ev;
    int nev;
    char eval_metric[32], eval_checkpoint[128];
    double eval_threshold;
    int eval_iteration;

    /* log.jsonl */
    bool have_log;
    long log_counts[5]; /* debug, info, warn, error, other */
    long log_lines, log_bad;
    logrec_t *logs;
    int nlogs;
    long log_more; /* warning/error records not kept */

    fig_t *figs;
    int nfigs;
    char **warn;
    int nwarn;
};

/* ------------------------------------------------------------------ helpers */

static char *xstrdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static void warnf(gpsc_report_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warnf(gpsc_report_t *r, const char *fmt, ...)
{
    if (r->nwarn >= MAX_WARNINGS) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **w = realloc(r->warn, (size_t)(r->nwarn + 1) * sizeof *w);
    if (!w) return;
    r->warn = w;
    if ((w[r->nwarn] = xstrdup(buf))) r->nwarn++;
}

static void pathf(char *out, size_t outsz, const char *dir, const char *name)
{
    snprintf(out, outsz, "%s/%s", dir, name);
}

static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* the whole file (NUL-terminated, malloc'd), NULL with errno set */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (cap - n < 65536) {
            if (cap >= MAX_FILE_BYTES) {
                free(buf);
                fclose(f);
                errno = EFBIG;
                return NULL;
            }
            cap = cap ? 2 * cap : 65536;
            char *b = realloc(buf, cap + 1);
            if (!b) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

/* a number field, NaN when absent, null or not a number */
static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* the object of training condition m in a metrics row */
static const cJSON *cond_obj(const cJSON *row, int m)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(row, "conditions");
    if (!cJSON_IsArray(arr)) return NULL;
    int i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, arr)
    {
        double k = jnum(c, "condition");
        if (isnan(k) ? i == m : (int)k == m) return c;
        i++;
    }
    return NULL;
}

/* a value formatted for a table cell: "–" when not finite */
static void fmtv(char *out, size_t n, const char *fmt, double v)
{
    if (isfinite(v))
        snprintf(out, n, fmt, v);
    else
        snprintf(out, n, "\xe2\x80\x93");
}

/* ------------------------------------------------------------------ reading */

static int cmp_row(const void *a, const void *b)
{
    const mrow_t *x = a, *y = b;
    return (x->iteration > y->iteration) - (x->iteration < y->iteration);
}

static void read_metrics(gpsc_report_t *r)
{
    char path[PATH_MAX];
    pathf(path, sizeof path, r->dir, "metrics.jsonl");
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno != ENOENT) warnf(r, "metrics.jsonl: %s", strerror(errno));
        return;
    }
    r->have_metrics = true;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    while ((len = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (strspn(line, " \t\r\n") == (size_t)len) continue;
        cJSON *o = cJSON_ParseWithLength(line, (size_t)len);
        double it = jnum(o, "iteration");
        if (!cJSON_IsObject(o) || !(it >= 0 && it < 1e7) || it != floor(it)) {
            if (r->n_bad_lines++ < 3)
                warnf(r, "metrics.jsonl:%ld: not a metrics object (skipped)", lineno);
            cJSON_Delete(o);
            continue;
        }
        /* a later line for the same iteration (a resumed run) replaces the earlier */
        int k = (int)it, j;
        for (j = 0; j < r->nrows && r->rows[j].iteration != k; j++)
            ;
        if (j < r->nrows) {
            cJSON_Delete(r->rows[j].obj);
            r->rows[j].obj = o;
            continue;
        }
        mrow_t *rows = realloc(r->rows, (size_t)(r->nrows + 1) * sizeof *rows);
        if (!rows) {
            cJSON_Delete(o);
            break;
        }
        r->rows = rows;
        r->rows[r->nrows++] = (mrow_t){k, o};
    }
    free(line);
    fclose(f);
    if (r->n_bad_lines > 3) warnf(r, "metrics.jsonl: %d lines in all were skipped", r->n_bad_lines);
    qsort(r->rows, (size_t)r->nrows, sizeof *r->rows, cmp_row);
    for (int i = 0; i < r->nrows; i++) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(r->rows[i].obj, "conditions");
        int idx = 0;
        const cJSON *c;
        cJSON_ArrayForEach(c, arr)
        {
            double m = jnum(c, "condition");
            int mm = isnan(m) ? idx : (int)m;
            if (mm >= 0 && mm < 4096 && mm + 1 > r->M) r->M = mm + 1;
            idx++;
        }
    }
    if (r->nrows == 0) warnf(r, "metrics.jsonl has no iterations yet");
}

/* iterations of DIR/checkpoints/iter_NNNN.pb: count, latest, first >= 1 */
static void scan_checkpoints(gpsc_report_t *r)
{
    char path[PATH_MAX];
    pathf(path, sizeof path, r->dir, "checkpoints");
    r->ck_latest = r->ck_first = -1;
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int k, end = 0;
        if (sscanf(e->d_name, "iter_%d.pb%n", &k, &end) == 1 && end > 0 && e->d_name[end] == '\0' &&
            k >= 0) {
            r->n_checkpoints++;
            if (k > r->ck_latest) r->ck_latest = k;
            if (k >= 1 && (r->ck_first < 0 || k < r->ck_first)) r->ck_first = k;
        }
    }
    closedir(d);
}

static gpsc_checkpoint_t *read_checkpoint(gpsc_report_t *r, int k)
{
    char path[PATH_MAX], err[1024] = "";
    snprintf(path, sizeof path, "%s/checkpoints/iter_%04d.pb", r->dir, k);
    gpsc_checkpoint_t *ck = NULL;
    int rc = gpsc_checkpoint_read(&ck, path, err, sizeof err);
    if (rc) {
        /* err names the file */
        if (err[0])
            warnf(r, "%s", err);
        else
            warnf(r, "%s: %s", path, gpsc_strerror(rc));
        return NULL;
    }
    return ck;
}

static void read_experiment(gpsc_report_t *r, const Gpsc__Checkpoint *ck)
{
    char path[PATH_MAX], err[1024] = "";
    pathf(path, sizeof path, r->dir, "config.yaml");
    if (is_file(path)) {
        if (gpsc_experiment_load(path, &r->exp, err, sizeof err) == 0) {
            r->have_exp = true;
            return;
        }
        warnf(r, "config.yaml: %s", err);
        gpsc_experiment_free(&r->exp);
    }
    /* the checkpoint's copy of the resolved experiment */
    if (ck && ck->config_yaml && *ck->config_yaml) {
        if (gpsc_experiment_load_string(ck->config_yaml, strlen(ck->config_yaml),
                                        "checkpoint config_yaml", r->dir, &r->exp, err,
                                        sizeof err) == 0) {
            r->have_exp = r->exp_from_checkpoint = true;
            return;
        }
        warnf(r, "the checkpoint's config: %s", err);
        gpsc_experiment_free(&r->exp);
    }
}

/* target point p (3 values) of global condition c, NULL when unknown */
static const double *target_of(const gpsc_report_t *r, int c, int p)
{
    if (!r->have_exp) return NULL;
    const gpsc_exp_condition_t *cd = gpsc_experiment_condition(&r->exp, c);
    if (!cd || cd->target.n < 3 * p + 3 || !cd->target.v) return NULL;
    return cd->target.v + 3 * p;
}

/* the samples of iteration `it` in the dynamics buffers of a checkpoint
 * -> end-effector paths per training condition */
static pathset_t *paths_of(gpsc_report_t *r, const Gpsc__Checkpoint *ck, int it, int k)
{
    if (r->M <= 0) return NULL;
    pathset_t *ps = calloc((size_t)r->M, sizeof *ps);
    if (!ps) return NULL;
    int nvel = r->exp.ee_velocities ? 2 : 1;
    int found = 0;
    for (size_t i = 0; i < ck->n_conditions; i++) {
        const Gpsc__ConditionState *cs = ck->conditions[i];
        const Gpsc__SampleBuffer *sb = cs->dynamics_prior ? cs->dynamics_prior->samples : NULL;
        int m = (int)cs->condition;
        if (!sb || m >= r->M || sb->n == 0) continue;
        int dX = (int)sb->dx, T = (int)sb->t, x_ee = dX - r->P * nvel;
        if (x_ee < 0) {
            warnf(r,
                  "checkpoints/iter_%04d.pb: dX = %d is too small for %d end-effector "
                  "coordinates",
                  k, dX, r->P);
            break;
        }
        const double *tg = target_of(r, m, r->point);
        if (r->exp.ee_relative_to_target && !tg) {
            warnf(r, "condition %d has no target: its end-effector paths are left out", m);
            continue;
        }
        /* which buffered samples belong to iteration it (all of the last
           `samples` when the buffer has no keys) */
        int N = (int)sb->n, per = r->have_exp ? r->exp.algo.samples : N;
        int take = 0;
        for (int n = 0; n < N; n++)
            take += sb->n_keys ? (int)sb->keys[n]->iteration == it : n >= N - per;
        if (take == 0) continue;
        double *ee = malloc((size_t)take * T * 3 * sizeof(double));
        if (!ee) continue;
        int j = 0;
        for (int n = 0; n < N; n++) {
            bool use = sb->n_keys ? (int)sb->keys[n]->iteration == it : n >= N - per;
            if (!use) continue;
            for (int t = 0; t < T; t++)
                for (int a = 0; a < 3; a++) {
                    double v = sb->x[((size_t)n * T + t) * dX + x_ee + 3 * r->point + a];
                    ee[((size_t)j * T + t) * 3 + a] = r->exp.ee_relative_to_target ? v + tg[a] : v;
                }
            j++;
        }
        ps[m] = (pathset_t){take, T, ee};
        found++;
    }
    if (found == 0) {
        free(ps);
        return NULL;
    }
    return ps;
}

static void free_paths(pathset_t **ps, int M)
{
    if (!*ps) return;
    for (int m = 0; m < M; m++)
        free((*ps)[m].ee);
    free(*ps);
    *ps = NULL;
}

static void read_checkpoints(gpsc_report_t *r)
{
    scan_checkpoints(r);
    gpsc_checkpoint_t *last = r->ck_latest >= 0 ? read_checkpoint(r, r->ck_latest) : NULL;
    const Gpsc__Checkpoint *ck = last ? gpsc_checkpoint_get(last) : NULL;
    if (ck) {
        r->have_ck = true;
        snprintf(r->run_id, sizeof r->run_id, "%s", ck->run_id ? ck->run_id : "");
        snprintf(r->config_hash, sizeof r->config_hash, "%s",
                 ck->config_hash ? ck->config_hash : "");
        snprintf(r->algorithm, sizeof r->algorithm, "%s", ck->algorithm ? ck->algorithm : "");
        r->seed = ck->run_seed;
        if (r->M < (int)ck->condition_count && ck->condition_count < 4096)
            r->M = (int)ck->condition_count;
        for (size_t i = 0; i < ck->n_conditions; i++) {
            const Gpsc__ConditionState *cs = ck->conditions[i];
            const Gpsc__SampleBuffer *sb = cs->dynamics_prior ? cs->dynamics_prior->samples : NULL;
            if (sb) {
                r->dX = (int)sb->dx, r->dU = (int)sb->du, r->dO = (int)sb->do_, r->T = (int)sb->t;
                break;
            }
            if (cs->traj_distr) {
                r->dX = (int)cs->traj_distr->dx, r->dU = (int)cs->traj_distr->du;
                r->T = (int)cs->traj_distr->t;
            }
        }
    }
    read_experiment(r, ck);
    if (r->have_exp && r->M < r->exp.n_train) r->M = r->exp.n_train;

    /* end-effector paths: the first and the last iteration's samples */
    if (r->have_exp) {
        r->P = 3 * r->exp.ee_sites.n;
        r->point = r->exp.success.point >= 0 && r->exp.success.point < r->exp.ee_sites.n
                       ? r->exp.success.point
                       : 0;
    }
    if (ck && r->P > 0 && ck->iteration >= 1) {
        r->last_iter = (int)ck->iteration - 1;
        r->last = paths_of(r, ck, r->last_iter, r->ck_latest);
        if (r->ck_first >= 1 && r->ck_first < r->ck_latest) {
            gpsc_checkpoint_t *fc = read_checkpoint(r, r->ck_first);
            if (fc) {
                const Gpsc__Checkpoint *f = gpsc_checkpoint_get(fc);
                r->first_iter = (int)f->iteration - 1;
                r->first = paths_of(r, f, r->first_iter, r->ck_first);
                gpsc_checkpoint_destroy(&fc);
            }
        }
    }
    gpsc_checkpoint_destroy(&last);
}

/* one "ee" array of eval.json: rollouts x T x 3 */
static void eval_paths(gpsc_report_t *r, eval_res_t *e, const cJSON *arr)
{
    int n = cJSON_GetArraySize(arr);
    const cJSON *p0 = cJSON_GetArrayItem(arr, 0);
    int T = cJSON_IsArray(p0) ? cJSON_GetArraySize(p0) : 0;
    if (n <= 0 || T <= 0 || (size_t)n * T > 50000000) return;
    e->ee = malloc((size_t)n * T * 3 * sizeof(double));
    if (!e->ee) return;
    int j = 0;
    const cJSON *path;
    cJSON_ArrayForEach(path, arr)
    {
        if (!cJSON_IsArray(path) || cJSON_GetArraySize(path) != T) {
            warnf(r, "eval.json: condition %d: an ee path is not %d points of [x, y, z]",
                  e->condition, T);
            continue;
        }
        int t = 0;
        bool ok = true;
        const cJSON *pt;
        cJSON_ArrayForEach(pt, path)
        {
            for (int a = 0; a < 3; a++) {
                const cJSON *v = cJSON_IsArray(pt) ? cJSON_GetArrayItem(pt, a) : NULL;
                double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
                ok &= cJSON_IsArray(pt) && cJSON_GetArraySize(pt) == 3;
                e->ee[((size_t)j * T + t) * 3 + a] = x;
            }
            t++;
        }
        if (!ok) {
            warnf(r, "eval.json: condition %d: an ee point is not [x, y, z]", e->condition);
            continue;
        }
        j++;
    }
    e->n_paths = j;
    e->T = T;
}

static void read_eval(gpsc_report_t *r)
{
    char path[PATH_MAX];
    pathf(path, sizeof path, r->dir, "eval.json");
    size_t len;
    char *text = slurp(path, &len);
    if (!text) {
        if (errno != ENOENT) warnf(r, "eval.json: %s", strerror(errno));
        return;
    }
    cJSON *o = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(o, "results");
    if (!cJSON_IsObject(o) || !cJSON_IsArray(res)) {
        warnf(r, "eval.json: not an object with a \"results\" array (ignored)");
        cJSON_Delete(o);
        return;
    }
    const char *fmt = jstr(o, "format");
    if (fmt && strcmp(fmt, "gpsc-eval/1") != 0)
        warnf(r, "eval.json: format \"%.40s\" is not gpsc-eval/1; reading what is known", fmt);
    r->have_eval = true;
    const char *metric = jstr(o, "metric"), *ckp = jstr(o, "checkpoint");
    snprintf(r->eval_metric, sizeof r->eval_metric, "%s", metric ? metric : "");
    snprintf(r->eval_checkpoint, sizeof r->eval_checkpoint, "%s", ckp ? ckp : "");
    r->eval_threshold = jnum(o, "threshold");
    double it = jnum(o, "iteration");
    r->eval_iteration = isfinite(it) ? (int)it : -1;
    int n = cJSON_GetArraySize(res);
    r->ev = calloc(n > 0 ? (size_t)n : 1, sizeof *r->ev);
    if (!r->ev) {
        cJSON_Delete(o);
        return;
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, res)
    {
        double c = jnum(x, "condition");
        if (!(c >= 0 && c < 1e6)) {
            warnf(r, "eval.json: a result without a condition (skipped)");
            continue;
        }
        eval_res_t *e = &r->ev[r->nev++];
        e->condition = (int)c;
        const char *split = jstr(x, "split");
        if (!split) split = r->have_exp && e->condition >= r->exp.n_train ? "test" : "train";
        snprintf(e->split, sizeof e->split, "%s", split);
        snprintf(e->policy, sizeof e->policy, "%s",
                 jstr(x, "policy") ? jstr(x, "policy") : "global");
        e->noiseless = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "noiseless"));
        double ro = jnum(x, "rollouts");
        e->rollouts = ro >= 0 && ro < 1e9 ? (int)ro : 0;
        e->mean_cost = jnum(x, "mean_cost");
        e->final_distance = jnum(x, "final_distance");
        double s = jnum(x, "successes");
        e->successes = s >= 0 && s < 1e9 ? (int)s : -1;
        const cJSON *ee = cJSON_GetObjectItemCaseSensitive(x, "ee");
        if (cJSON_IsArray(ee)) eval_paths(r, e, ee);
    }
    cJSON_Delete(o);
}

static void read_log(gpsc_report_t *r)
{
    char path[PATH_MAX];
    pathf(path, sizeof path, r->dir, "log.jsonl");
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno != ENOENT) warnf(r, "log.jsonl: %s", strerror(errno));
        return;
    }
    r->have_log = true;
    static const char *const levels[4] = {"debug", "info", "warn", "error"};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (strspn(line, " \t\r\n") == (size_t)len) continue;
        r->log_lines++;
        cJSON *o = cJSON_ParseWithLength(line, (size_t)len);
        const char *lv = jstr(o, "level");
        if (!cJSON_IsObject(o) || !lv) {
            r->log_bad++;
            cJSON_Delete(o);
            continue;
        }
        int k = 4;
        for (int i = 0; i < 4; i++)
            if (strcmp(lv, levels[i]) == 0 || (i == 2 && strcmp(lv, "warning") == 0)) k = i;
        r->log_counts[k]++;
        if (k == 2 || k == 3) {
            if (r->nlogs < MAX_LOG_SHOWN) {
                logrec_t *l = realloc(r->logs, (size_t)(r->nlogs + 1) * sizeof *l);
                if (l) {
                    r->logs = l;
                    double it = jnum(o, "iteration");
                    l[r->nlogs++] =
                        (logrec_t){xstrdup(jstr(o, "time") ? jstr(o, "time") : ""), xstrdup(lv),
                                   xstrdup(jstr(o, "role") ? jstr(o, "role") : ""),
                                   xstrdup(jstr(o, "msg") ? jstr(o, "msg") : ""),
                                   isfinite(it) ? (long long)it : -1};
                }
            } else {
                r->log_more++;
            }
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
}

/* ------------------------------------------------------------------ figures */

static fig_t *add_fig(gpsc_report_t *r, const char *name, const char *section, const char *title,
                      const char *xlabel, const char *ylabel, const char *caption)
{
    fig_t *f = realloc(r->figs, (size_t)(r->nfigs + 1) * sizeof *f);
    if (!f) return NULL;
    r->figs = f;
    fig_t *g = &f[r->nfigs];
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    snprintf(g->section, sizeof g->section, "%s", section);
    g->title = xstrdup(title);
    g->caption = xstrdup(caption);
    g->plot = gpsc_svg_plot_new(name, title);
    if (!g->title || !g->caption || !g->plot || gpsc_svg_plot_labels(g->plot, xlabel, ylabel)) {
        free(g->title);
        free(g->caption);
        gpsc_svg_plot_destroy(&g->plot);
        return NULL;
    }
    gpsc_svg_plot_size(g->plot, FIG_W, FIG_H);
    r->nfigs++;
    return g;
}

/* drops the last figure (it had no data) */
static void drop_last_fig(gpsc_report_t *r)
{
    fig_t *g = &r->figs[r->nfigs - 1];
    free(g->title);
    free(g->caption);
    gpsc_svg_plot_destroy(&g->plot);
    r->nfigs--;
}

/* keeps the last figure only when something in it is drawable */
static void keep_if_data(gpsc_report_t *r)
{
    if (r->nfigs > 0 && gpsc_svg_plot_n_points(r->figs[r->nfigs - 1].plot) == 0) drop_last_fig(r);
}

/* per-iteration series of a per-condition field; shift moves x by +1
 * (a prediction for the next iteration). Returns finite values found. */
static int cond_series(const gpsc_report_t *r, int m, const char *key, int shift, double *x,
                       double *y)
{
    int n = 0;
    for (int i = 0; i < r->nrows; i++) {
        x[i] = r->rows[i].iteration + shift;
        y[i] = jnum(cond_obj(r->rows[i].obj, m), key);
        n += isfinite(y[i]);
    }
    return n;
}

static int top_series(const gpsc_report_t *r, const char *key, double *x, double *y)
{
    int n = 0;
    for (int i = 0; i < r->nrows; i++) {
        x[i] = r->rows[i].iteration;
        y[i] = jnum(r->rows[i].obj, key);
        n += isfinite(y[i]);
    }
    return n;
}

static bool any_cond_field(const gpsc_report_t *r, const char *key)
{
    for (int i = 0; i < r->nrows; i++)
        for (int m = 0; m < r->M; m++)
            if (isfinite(jnum(cond_obj(r->rows[i].obj, m), key))) return true;
    return false;
}

/* the palette colour of condition m: eight colours, never black or gray
   (those mark means, totals and targets) */
static int cond_color(int m)
{
    static const int cols[8] = {0, 1, 2, 3, 4, 5, 6, 9};
    return cols[m % 8];
}

/* the marker of condition m: circles, then squares, then triangles when
   the colours repeat */
static gpsc_svg_marker_t cond_marker(int m)
{
    return m < 8 ? GPSC_SVG_MARK_CIRCLE : m < 16 ? GPSC_SVG_MARK_SQUARE : GPSC_SVG_MARK_TRIANGLE;
}

/* a per-condition figure: one series per condition of `key` (and, when
   key2 is given, a dashed companion of key2 shifted by shift2, which with
   clip2 does not widen the ranges) */
static void cond_figure(gpsc_report_t *r, fig_t *g, double *x, double *y, const char *key,
                        const char *suffix, const char *key2, const char *suffix2, int shift2,
                        bool clip2, bool markers)
{
    for (int m = 0; m < r->M; m++) {
        char name[64];
        snprintf(name, sizeof name, "c%d%s", m, suffix);
        cond_series(r, m, key, 0, x, y);
        gpsc_svg_style_t st = gpsc_svg_style(cond_color(m), GPSC_SVG_LINE_SOLID,
                                             markers ? cond_marker(m) : GPSC_SVG_MARK_NONE);
        gpsc_svg_plot_add(g->plot, name, x, y, (size_t)r->nrows, &st);
        if (key2) {
            snprintf(name, sizeof name, "c%d%s", m, suffix2);
            cond_series(r, m, key2, shift2, x, y);
            st = gpsc_svg_style(cond_color(m), GPSC_SVG_LINE_DASHED, GPSC_SVG_MARK_NONE);
            st.width = 1.3;
            st.no_range = clip2;
            /* many conditions: the dashed companions stay out of the legend
               (the caption explains them), which keeps the plot wide */
            st.legend = r->M <= 6;
            gpsc_svg_plot_add(g->plot, name, x, y, (size_t)r->nrows, &st);
        }
    }
}

static void metric_figures(gpsc_report_t *r, double *x, double *y)
{
    fig_t *g;
    const char *it = "iteration";

    /* cost */
    g = add_fig(r, "cost", "Cost", "Sample cost per iteration", it, "cost (sum over t)",
                "Solid: the mean cost of the samples of each training condition (c0, c1, ...) "
                "at each iteration. Dashed: the C-step's expected cost of the new local "
                "controller under the fitted dynamics, drawn at the iteration that samples it, "
                "so the gap between dashed and solid at the same iteration is the model's "
                "prediction error; predictions far outside the samples' range are clipped at the "
                "edge. Black: the mean over conditions.");
    if (g) {
        gpsc_svg_plot_integer_x(g->plot, true);
        cond_figure(r, g, x, y, "sample_cost", "", "expected_cost", " predicted", 1, true, true);
        if (r->M > 1 && top_series(r, "sample_cost", x, y) > 0) {
            gpsc_svg_style_t st =
                gpsc_svg_style_rgb("#000000", GPSC_SVG_LINE_SOLID, GPSC_SVG_MARK_NONE);
            st.width = 2.4;
            gpsc_svg_plot_add(g->plot, "mean", x, y, (size_t)r->nrows, &st);
        }
        keep_if_data(r);
    }

    /* final end-effector distance against the success threshold */
    if (any_cond_field(r, "final_distance")) {
        g = add_fig(r, "distance", "Cost", "Final end-effector distance to the target", it,
                    "distance (m)",
                    "Mean over each condition's samples of the distance between the "
                    "end-effector point and its target at the last time step (log scale). "
                    "The dashed line is the success threshold: samples below it count as "
                    "successes.");
        if (g) {
            gpsc_svg_plot_integer_x(g->plot, true);
            gpsc_svg_plot_log(g->plot, false, true);
            cond_figure(r, g, x, y, "final_distance", "", NULL, NULL, 0, false, true);
            if (r->have_exp &&
                (r->exp.success.metric == GPSC_EXP_METRIC_FINAL_EE_DISTANCE ||
                 r->exp.success.metric == GPSC_EXP_METRIC_MIN_EE_DISTANCE) &&
                r->exp.success.threshold > 0) {
                gpsc_svg_style_t st =
                    gpsc_svg_style_rgb("#000000", GPSC_SVG_LINE_DASHED, GPSC_SVG_MARK_NONE);
                st.width = 1.2;
                gpsc_svg_plot_hline(g->plot, "success threshold", r->exp.success.threshold, &st);
            }
            keep_if_data(r);
        }
    }

    /* MDGPS: the global policy's cost and its bound */
    if (any_cond_field(r, "global_cost") || any_cond_field(r, "global_cost_bound")) {
        g = add_fig(r, "global_cost", "Cost", "Global policy cost and its bound", it,
                    "expected cost",
                    "MDGPS only. Solid: the expected cost of the global (network) policy "
                    "linearised at each condition; dashed: the bound of seed 000 C on it. "
                    "The bound is what the algorithm guarantees to decrease; a solid line far "
                    "below the dashed one means the bound is loose.");
        if (g) {
            gpsc_svg_plot_integer_x(g->plot, true);
            cond_figure(r, g, x, y, "global_cost", " global", "global_cost_bound", " bound", 0,
                        false, true);
            keep_if_data(r);
        }
    }

    /* trust region */
    g = add_fig(r, "kl", "Trust region (C-step)", "KL divergence per iteration", it, "KL (nats)",
                "Solid: KL divergence between the new and the previous local controller "
                "(trajectory optimisation) or the linearised global policy (MDGPS) after the "
                "C-step. Dashed: its target, kl_step x step_mult x T. The dual search stops "
                "when the KL is within the tolerance of the target (log scale).");
    if (g) {
        gpsc_svg_plot_integer_x(g->plot, true);
        gpsc_svg_plot_log(g->plot, false, true);
        cond_figure(r, g, x, y, "kl", "", "kl_target", " target", 0, false, true);
        keep_if_data(r);
    }
    g = add_fig(r, "eta", "Trust region (C-step)", "Dual variable eta per iteration", it, "eta",
                "The Lagrange multiplier of the KL constraint found by the dual search "
                "(log scale). Large eta: the cost barely moves the controller (tight trust "
                "region); eta at its upper limit means the constraint could not be met.");
    if (g) {
        gpsc_svg_plot_integer_x(g->plot, true);
        gpsc_svg_plot_log(g->plot, false, true);
        cond_figure(r, g, x, y, "eta", "", NULL, NULL, 0, false, true);
        keep_if_data(r);
    }
    g = add_fig(r, "step_mult", "Trust region (C-step)", "Step size multiplier per iteration", it,
                "step_mult",
                "The step-size multiplier of seed 000 B.3 (log scale): it grows when the "
                "actual improvement matches the predicted one and shrinks when the model "
                "over-promises; it is clamped to [min_step_mult, max_step_mult].");
    if (g) {
        gpsc_svg_plot_integer_x(g->plot, true);
        gpsc_svg_plot_log(g->plot, false, true);
        cond_figure(r, g, x, y, "step_mult", "", NULL, NULL, 0, false, true);
        keep_if_data(r);
    }
    g = add_fig(r, "entropy", "Trust region (C-step)", "Controller entropy per iteration", it,
                "sum_t 0.5 log det",
                "Entropy of each new local controller's action noise (0.5 log det of the "
                "covariance summed over time, without the constant). It falls as the "
                "controllers become confident; a collapse to very low values stops "
                "exploration.");
    if (g) {
        gpsc_svg_plot_integer_x(g->plot, true);
        cond_figure(r, g, x, y, "entropy", "", NULL, NULL, 0, false, true);
        keep_if_data(r);
    }
}

/* ms keys, in the learner's phase order first, then new keys in order of
   first appearance */
static int timing_keys(const gpsc_report_t *r, const char **keys, int max)
{
    static const char *const order[] = {"sampling",   "cost",     "prior", "dynamics",
                                        "policy_fit", "stepsize", "cstep", "sstep",
                                        "checkpoint", "parallel", "total", "iteration"};
    int n = 0;
    for (size_t i = 0; i < sizeof order / sizeof *order; i++)
        for (int j = 0; j < r->nrows; j++)
            if (isfinite(jnum(cJSON_GetObjectItemCaseSensitive(r->rows[j].obj, "ms"), order[i]))) {
                keys[n++] = order[i];
                break;
            }
    for (int j = 0; j < r->nrows && n < max; j++) {
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(r->rows[j].obj, "ms"), *c;
        cJSON_ArrayForEach(c, ms)
        {
            if (!c->string || !cJSON_IsNumber(c) || n >= max) continue;
            bool seen = false;
            for (int k = 0; k < n && !seen; k++)
                seen = strcmp(keys[k], c->string) == 0;
            if (!seen) keys[n++] = c->string;
        }
    }
    return n;
}

static double ms_of(const gpsc_report_t *r, int i, const char *key)
{
    return jnum(cJSON_GetObjectItemCaseSensitive(r->rows[i].obj, "ms"), key);
}

static void timing_figures(gpsc_report_t *r, double *x, double *y)
{
    const char *keys[32];
    int nk = timing_keys(r, keys, 32);
    if (nk == 0) return;
    fig_t *g =
        add_fig(r, "timings", "Timing", "Phase timings per iteration", "iteration", "time (ms)",
                "Wall-clock milliseconds of each phase of an iteration (log scale). "
                "Per-condition phases (cost, prior, dynamics, policy_fit, stepsize, "
                "cstep) are summed over conditions, i.e. thread time; 'parallel' is the "
                "wall time of the per-condition block, 'total' the learner's iteration, "
                "'iteration' (dashed) everything including sampling and the checkpoint.");
    if (g) {
        gpsc_svg_plot_integer_x(g->plot, true);
        gpsc_svg_plot_log(g->plot, false, true);
        for (int k = 0; k < nk; k++) {
            for (int i = 0; i < r->nrows; i++) {
                x[i] = r->rows[i].iteration;
                y[i] = ms_of(r, i, keys[k]);
            }
            gpsc_svg_style_t st = gpsc_svg_style(k, GPSC_SVG_LINE_SOLID, GPSC_SVG_MARK_NONE);
            if (strcmp(keys[k], "total") == 0 || strcmp(keys[k], "iteration") == 0) {
                st = gpsc_svg_style_rgb(strcmp(keys[k], "total") == 0 ? "#000000" : "#555555",
                                        strcmp(keys[k], "total") == 0 ? GPSC_SVG_LINE_SOLID
                                                                      : GPSC_SVG_LINE_DASHED,
                                        GPSC_SVG_MARK_NONE);
                st.width = 2.2;
            } else {
                /* seven colours (palette 7 and 8, black and gray, are the
                   totals'), then the same colours dashed */
                static const int cols[7] = {0, 1, 2, 3, 4, 5, 6};
                st.color = cols[k % 7];
                if (k >= 7) st.line = GPSC_SVG_LINE_DASHED;
            }
            gpsc_svg_plot_add(g->plot, keys[k], x, y, (size_t)r->nrows, &st);
        }
        keep_if_data(r);
    }

    /* throughput: rollouts per second of the sampling phase and overall */
    bool have = false;
    for (int i = 0; i < r->nrows && !have; i++)
        have = isfinite(jnum(r->rows[i].obj, "samples")) &&
               (ms_of(r, i, "sampling") > 0 || ms_of(r, i, "iteration") > 0);
    if (!have) return;
    char cap[512];
    snprintf(cap, sizeof cap,
             "Rollouts per second: during the sampling phase (the workers' throughput) and over "
             "the whole iteration (what the run achieves including learning and checkpoints)."
             "%s",
             r->T > 0 ? " Multiply by T for simulated control steps per second." : "");
    g = add_fig(r, "throughput", "Timing", "Sampling throughput per iteration", "iteration",
                "rollouts / s", cap);
    if (!g) return;
    gpsc_svg_plot_integer_x(g->plot, true);
    gpsc_svg_plot_log(g->plot, false, true);
    const char *what[2] = {"sampling", "iteration"};
    const char *label[2] = {"sampling phase", "whole iteration"};
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < r->nrows; i++) {
            double ms = ms_of(r, i, what[k]);
            if (k == 1 && !(ms > 0)) ms = ms_of(r, i, "total");
            x[i] = r->rows[i].iteration;
            y[i] = ms > 0 ? jnum(r->rows[i].obj, "samples") / (1e-3 * ms) : NAN;
        }
        gpsc_svg_style_t st = gpsc_svg_style(k, GPSC_SVG_LINE_SOLID, GPSC_SVG_MARK_CIRCLE);
        gpsc_svg_plot_add(g->plot, label[k], x, y, (size_t)r->nrows, &st);
    }
    keep_if_data(r);
}

/* the a/b coordinates (0 x, 1 y, 2 z) of paths, NaN between paths */
static int path_xy(double *x, double *y, const double *ee, int n, int T, int a, int b)
{
    int k = 0;
    for (int j = 0; j < n; j++) {
        if (j > 0) {
            x[k] = y[k] = NAN;
            k++;
        }
        for (int t = 0; t < T; t++) {
            x[k] = ee[((size_t)j * T + t) * 3 + a];
            y[k] = ee[((size_t)j * T + t) * 3 + b];
            k++;
        }
    }
    return k;
}

static void path_figure(gpsc_report_t *r, const char *name, const char *title, int b,
                        const char *blabel)
{
    /* the longest series decides the buffer */
    size_t need = 16 + 2 * (size_t)(r->M + r->nev);
    for (int m = 0; m < r->M; m++) {
        if (r->first) need += (size_t)r->first[m].n * (r->first[m].T + 1);
        if (r->last) need += (size_t)r->last[m].n * (r->last[m].T + 1);
    }
    for (int i = 0; i < r->nev; i++)
        need += (size_t)r->ev[i].n_paths * (r->ev[i].T + 1);
    double *x = malloc(need * sizeof(double)), *y = malloc(need * sizeof(double));
    char cap[1024], lab[64];
    char site[GPSC_EXP_NAME_MAX + 16] = "the end-effector point";
    if (r->have_exp && r->exp.ee_sites.names && r->point < r->exp.ee_sites.n)
        snprintf(site, sizeof site, "site '%s'", r->exp.ee_sites.names[r->point]);
    snprintf(cap, sizeof cap,
             "Paths of %s in the world frame (%s view, equal scale on both axes). Coloured: "
             "the samples of the last iteration (%d) per training condition; gray: the samples "
             "of the first iteration; crosses: the targets; rings: the start points.%s",
             site, b == 1 ? "top, x-y" : "side, x-z", r->last_iter,
             r->have_eval ? " Black dashed: the evaluated policy's rollouts (eval.json); "
                            "plus signs: the test conditions' targets."
                          : "");
    fig_t *g = x && y ? add_fig(r, name, "End effector", title, "x (m)", blabel, cap) : NULL;
    if (!g) {
        free(x);
        free(y);
        return;
    }
    gpsc_svg_plot_size(g->plot, FIG_W, PATH_FIG_H);
    gpsc_svg_plot_equal_aspect(g->plot, true);

    /* first iteration, all conditions in one gray series */
    if (r->first && r->first_iter != r->last_iter) {
        int k = 0;
        for (int m = 0; m < r->M; m++) {
            if (!r->first[m].n) continue;
            if (k > 0) {
                x[k] = y[k] = NAN;
                k++;
            }
            k += path_xy(x + k, y + k, r->first[m].ee, r->first[m].n, r->first[m].T, 0, b);
        }
        gpsc_svg_style_t st =
            gpsc_svg_style_rgb("#9a9a9a", GPSC_SVG_LINE_SOLID, GPSC_SVG_MARK_NONE);
        st.width = 1.0;
        st.alpha = 0.6;
        snprintf(lab, sizeof lab, "iteration %d (all)", r->first_iter);
        gpsc_svg_plot_add(g->plot, lab, x, y, (size_t)k, &st);
    }
    /* last iteration per condition */
    for (int m = 0; r->last && m < r->M; m++) {
        int k = path_xy(x, y, r->last[m].ee, r->last[m].n, r->last[m].T, 0, b);
        gpsc_svg_style_t st =
            gpsc_svg_style(cond_color(m), GPSC_SVG_LINE_SOLID, GPSC_SVG_MARK_NONE);
        st.width = 1.2;
        st.alpha = 0.85;
        snprintf(lab, sizeof lab, "c%d iteration %d", m, r->last_iter);
        gpsc_svg_plot_add(g->plot, lab, x, y, (size_t)k, &st);
    }
    /* start points */
    if (r->last) {
        int k = 0;
        for (int m = 0; m < r->M; m++)
            for (int j = 0; j < r->last[m].n; j++) {
                x[k] = r->last[m].ee[(size_t)j * r->last[m].T * 3];
                y[k] = r->last[m].ee[(size_t)j * r->last[m].T * 3 + b];
                k++;
            }
        gpsc_svg_style_t st = gpsc_svg_style_rgb("#333333", GPSC_SVG_LINE_NONE, GPSC_SVG_MARK_RING);
        st.marker_size = 3.5;
        gpsc_svg_plot_add(g->plot, "start", x, y, (size_t)k, &st);
    }
    /* evaluated policies' rollouts, one series per policy kind */
    const char *kinds[8];
    int nk = 0;
    for (int i = 0; i < r->nev && nk < 8; i++) {
        bool seen = false;
        for (int j = 0; j < nk && !seen; j++)
            seen = strcmp(kinds[j], r->ev[i].policy) == 0;
        if (!seen && r->ev[i].n_paths > 0) kinds[nk++] = r->ev[i].policy;
    }
    for (int j = 0; j < nk; j++) {
        int k = 0;
        for (int i = 0; i < r->nev; i++) {
            const eval_res_t *e = &r->ev[i];
            if (strcmp(e->policy, kinds[j]) != 0 || e->n_paths == 0) continue;
            if (k > 0) {
                x[k] = y[k] = NAN;
                k++;
            }
            k += path_xy(x + k, y + k, e->ee, e->n_paths, e->T, 0, b);
        }
        gpsc_svg_style_t st = gpsc_svg_style_rgb(j == 0 ? "#000000" : "#555555",
                                                 GPSC_SVG_LINE_DASHED, GPSC_SVG_MARK_NONE);
        st.width = 1.3;
        snprintf(lab, sizeof lab, "%s policy (eval)", kinds[j]);
        gpsc_svg_plot_add(g->plot, lab, x, y, (size_t)k, &st);
    }
    /* targets: training, and test ones when evaluated */
    int k = 0;
    for (int m = 0; m < r->M; m++) {
        const double *tg = target_of(r, m, r->point);
        if (tg) {
            x[k] = tg[0];
            y[k] = tg[b];
            k++;
        }
    }
    if (k > 0) {
        gpsc_svg_style_t st =
            gpsc_svg_style_rgb("#000000", GPSC_SVG_LINE_NONE, GPSC_SVG_MARK_CROSS);
        st.marker_size = 5;
        st.width = 2;
        gpsc_svg_plot_add(g->plot, "targets", x, y, (size_t)k, &st);
    }
    k = 0;
    for (int i = 0; i < r->nev; i++) {
        const double *tg = target_of(r, r->ev[i].condition, r->point);
        if (strcmp(r->ev[i].split, "test") == 0 && tg) {
            x[k] = tg[0];
            y[k] = tg[b];
            k++;
        }
    }
    if (k > 0) {
        gpsc_svg_style_t st = gpsc_svg_style_rgb("#000000", GPSC_SVG_LINE_NONE, GPSC_SVG_MARK_PLUS);
        st.marker_size = 5;
        st.width = 2;
        gpsc_svg_plot_add(g->plot, "test targets", x, y, (size_t)k, &st);
    }
    free(x);
    free(y);
    keep_if_data(r);
}

static void build_figures(gpsc_report_t *r)
{
    size_t n = (size_t)r->nrows + 1;
    double *x = malloc(n * sizeof(double)), *y = malloc(n * sizeof(double));
    if (x && y && r->nrows > 0) {
        metric_figures(r, x, y);
        timing_figures(r, x, y);
    }
    free(x);
    free(y);
    bool eval_paths_any = false;
    for (int i = 0; i < r->nev; i++)
        eval_paths_any |= r->ev[i].n_paths > 0;
    if (r->P > 0 && (r->last || r->first || eval_paths_any)) {
        path_figure(r, "ee_top", "End-effector paths, top view (x-y)", 1, "y (m)");
        path_figure(r, "ee_side", "End-effector paths, side view (x-z)", 2, "z (m)");
    }
}

/* ------------------------------------------------------------------ object */

gpsc_report_t *gpsc_report_new(const char *run_dir, char *err, size_t errsz)
{
    struct stat st;
    if (!run_dir || !*run_dir) {
        snprintf(err, errsz, "no run directory given");
        return NULL;
    }
    if (stat(run_dir, &st) != 0) {
        snprintf(err, errsz, "%s: %s", run_dir, strerror(errno));
        return NULL;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errsz, "%s: not a directory (give the run directory, not a file in it)",
                 run_dir);
        return NULL;
    }
    char p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX];
    pathf(p1, sizeof p1, run_dir, "config.yaml");
    pathf(p2, sizeof p2, run_dir, "metrics.jsonl");
    pathf(p3, sizeof p3, run_dir, "checkpoints");
    if (!is_file(p1) && !is_file(p2) && !(stat(p3, &st) == 0 && S_ISDIR(st.st_mode))) {
        snprintf(err, errsz,
                 "%s is not a run directory: it has no config.yaml, metrics.jsonl or "
                 "checkpoints/",
                 run_dir);
        return NULL;
    }
    gpsc_report_t *r = calloc(1, sizeof *r);
    if (!r || !(r->dir = xstrdup(run_dir))) {
        free(r);
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    /* strip trailing slashes (not the root's) */
    for (size_t n = strlen(r->dir); n > 1 && r->dir[n - 1] == '/'; n--)
        r->dir[n - 1] = '\0';
    r->first_iter = r->last_iter = -1;
    r->eval_iteration = -1;
    read_metrics(r);
    read_checkpoints(r);
    read_eval(r);
    read_log(r);
    if (!r->have_exp) warnf(r, "no readable config.yaml: targets and the state layout are unknown");
    build_figures(r);
    return r;
}

void gpsc_report_destroy(gpsc_report_t **pp)
{
    if (!pp || !*pp) return;
    gpsc_report_t *r = *pp;
    for (int i = 0; i < r->nrows; i++)
        cJSON_Delete(r->rows[i].obj);
    free(r->rows);
    free_paths(&r->first, r->M);
    free_paths(&r->last, r->M);
    for (int i = 0; i < r->nev; i++)
        free(r->ev[i].ee);
    free(r->ev);
    for (int i = 0; i < r->nlogs; i++) {
        free(r->logs[i].time);
        free(r->logs[i].level);
        free(r->logs[i].role);
        free(r->logs[i].msg);
    }
    free(r->logs);
    for (int i = 0; i < r->nfigs; i++) {
        free(r->figs[i].title);
        free(r->figs[i].caption);
        gpsc_svg_plot_destroy(&r->figs[i].plot);
    }
    free(r->figs);
    for (int i = 0; i < r->nwarn; i++)
        free(r->warn[i]);
    free(r->warn);
    if (r->have_exp) gpsc_experiment_free(&r->exp);
    free(r->html_path);
    free(r->dir);
    free(r);
    *pp = NULL;
}

int gpsc_report_n_figures(const gpsc_report_t *r)
{
    return r->nfigs;
}

const char *gpsc_report_figure_name(const gpsc_report_t *r, int i)
{
    return i >= 0 && i < r->nfigs ? r->figs[i].name : NULL;
}

int gpsc_report_figure_series(const gpsc_report_t *r, int i)
{
    return i >= 0 && i < r->nfigs ? (int)gpsc_svg_plot_n_series(r->figs[i].plot) : -1;
}

const char *gpsc_report_figure_title(const gpsc_report_t *r, int i)
{
    return i >= 0 && i < r->nfigs ? r->figs[i].title : NULL;
}

int gpsc_report_find_figure(const gpsc_report_t *r, const char *name)
{
    for (int i = 0; name && i < r->nfigs; i++)
        if (strcmp(r->figs[i].name, name) == 0) return i;
    return -1;
}

int gpsc_report_n_warnings(const gpsc_report_t *r)
{
    return r->nwarn;
}

const char *gpsc_report_warning(const gpsc_report_t *r, int i)
{
    return i >= 0 && i < r->nwarn ? r->warn[i] : NULL;
}

int gpsc_report_iterations(const gpsc_report_t *r)
{
    return r->nrows;
}

int gpsc_report_conditions(const gpsc_report_t *r)
{
    return r->M;
}

int gpsc_report_write_svg(const gpsc_report_t *r, int i, FILE *f)
{
    if (i < 0 || i >= r->nfigs) return GPSC_EINVAL;
    return gpsc_svg_plot_write(r->figs[i].plot, f);
}

/* ------------------------------------------------------------------ HTML */

static const char *const css =
    "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;font-size:14px;color:#222;"
    "margin:0;background:#f4f5f7}\n"
    "main{max-width:1180px;margin:0 auto;padding:16px 20px 40px}\n"
    "h1{font-size:22px;margin:8px 0 2px}h2{font-size:17px;margin:26px 0 8px;"
    "border-bottom:1px solid #ccd;padding-bottom:3px}\n"
    ".sub{color:#555;margin:0 0 12px;font-size:13px;word-break:break-all}\n"
    "table{border-collapse:collapse;background:#fff;margin:6px 0 10px;font-size:13px}\n"
    "th,td{border:1px solid #d6d8de;padding:3px 8px;text-align:right;vertical-align:top}\n"
    "th{background:#eceef2;font-weight:600}td.l,th.l{text-align:left}\n"
    ".kv td:first-child{text-align:left;color:#555}.kv td{text-align:left}\n"
    ".cols{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}\n"
    ".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:14px}\n"
    "figure{margin:0;background:#fff;border:1px solid #d6d8de;padding:6px}\n"
    "figure svg{width:100%;height:auto;display:block}\n"
    "figcaption{font-size:12.5px;color:#444;padding:4px 4px 2px;line-height:1.4}\n"
    "figcaption b{color:#222}\n"
    ".ok{color:#0a7d32;font-weight:600}.bad{color:#b3261e;font-weight:600}\n"
    ".warn{background:#fff6e0;border:1px solid #e6c96b;padding:6px 10px;margin:6px 0}\n"
    "nav ol{columns:3;margin:4px 0;padding-left:22px;font-size:13px}\n"
    "footer{color:#777;font-size:12px;margin-top:30px}\n"
    "a{color:#0b5cad}\n";

#define ESC(s) gpsc_svg_escape(f, (s))

static void kv(FILE *f, const char *k, const char *v)
{
    fputs("<tr><td>", f);
    ESC(k);
    fputs("</td><td>", f);
    ESC(v);
    fputs("</td></tr>\n", f);
}

static void kvf(FILE *f, const char *k, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void kvf(FILE *f, const char *k, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    kv(f, k, buf);
}

static void td(FILE *f, const char *s)
{
    fputs("<td>", f);
    ESC(s);
    fputs("</td>", f);
}

static void tdv(FILE *f, const char *fmt, double v)
{
    char b[64];
    fmtv(b, sizeof b, fmt, v);
    td(f, b);
}

/* samples per condition per iteration */
static int samples_per_condition(const gpsc_report_t *r, const cJSON *row)
{
    double s = jnum(row, "samples");
    if (isfinite(s) && r->M > 0) return (int)s / r->M;
    return r->have_exp ? r->exp.algo.samples : 0;
}

static void write_summary(const gpsc_report_t *r, FILE *f)
{
    const gpsc_experiment_t *e = r->have_exp ? &r->exp : NULL;
    const cJSON *last = r->nrows ? r->rows[r->nrows - 1].obj : NULL;
    const cJSON *first = r->nrows ? r->rows[0].obj : NULL;
    fputs("<section id=\"summary\"><h2>Summary</h2>\n<div class=\"cols\">\n", f);
    fputs("<table class=\"kv\">\n", f);
    kv(f, "experiment", e ? e->name : "(unknown)");
    if (r->run_id[0]) kv(f, "run id", r->run_id);
    kv(f, "algorithm",
       r->algorithm[0] ? r->algorithm
       : e             ? gpsc_exp_algorithm_name(e->algo.type)
                       : "(unknown)");
    if (e && e->algo.iterations > 0 && !r->exp_from_checkpoint)
        kvf(f, "iterations", "%d of %d", r->nrows, e->algo.iterations);
    else
        kvf(f, "iterations", "%d", r->nrows);
    if (r->have_ck || e) kvf(f, "seed", "%llu", r->have_ck ? r->seed : e->algo.seed);
    if (e)
        kvf(f, "conditions", "%d train, %d test", e->n_train, e->n_test);
    else
        kvf(f, "conditions", "%d train", r->M);
    int N = samples_per_condition(r, last);
    if (N > 0) kvf(f, "samples", "%d per condition per iteration", N);
    if (e) kvf(f, "horizon", "T = %d steps x %g s = %g s", e->T, e->dt, e->T * e->dt);
    if (r->dX > 0) kvf(f, "dimensions", "dX %d, dU %d, dO %d", r->dX, r->dU, r->dO);
    if (e && e->success.metric != GPSC_EXP_METRIC_NONE)
        kvf(f, "success", "%s <= %g%s", gpsc_exp_metric_name(e->success.metric),
            e->success.threshold,
            e->success.metric == GPSC_EXP_METRIC_FINAL_EE_DISTANCE ||
                    e->success.metric == GPSC_EXP_METRIC_MIN_EE_DISTANCE
                ? " m"
                : "");
    if (last && isfinite(jnum(last, "successes")))
        kvf(f, "last iteration", "%d of %d samples succeeded", (int)jnum(last, "successes"),
            (int)jnum(last, "samples"));
    /* wall time and throughput */
    double wall = 0, samp_ms = 0, samples = 0;
    for (int i = 0; i < r->nrows; i++) {
        double it = ms_of(r, i, "iteration"), sm = ms_of(r, i, "sampling");
        if (!isfinite(it)) it = ms_of(r, i, "total");
        if (isfinite(it)) wall += it;
        if (sm > 0 && isfinite(jnum(r->rows[i].obj, "samples"))) {
            samp_ms += sm;
            samples += jnum(r->rows[i].obj, "samples");
        }
    }
    if (wall > 0)
        kvf(f, "wall time", "%.1f s (%.2f s per iteration)", 1e-3 * wall,
            1e-3 * wall / (r->nrows ? r->nrows : 1));
    if (samp_ms > 0) {
        int T = e ? e->T : r->T;
        if (T > 0)
            kvf(f, "sampling", "%.0f rollouts/s, %.0f steps/s", samples / (1e-3 * samp_ms),
                samples * T / (1e-3 * samp_ms));
        else
            kvf(f, "sampling", "%.0f rollouts/s", samples / (1e-3 * samp_ms));
    }
    if (r->n_checkpoints > 0)
        kvf(f, "checkpoints", "%d (latest iter_%04d.pb)", r->n_checkpoints, r->ck_latest);
    if (r->config_hash[0]) kv(f, "config hash", r->config_hash);
    fputs("</table>\n", f);

    /* per-condition table of the last iteration */
    if (r->M > 0 && last) {
        fputs("<table class=\"conds\">\n<tr><th>condition</th><th class=\"l\">target (m)</th>"
              "<th>first cost</th><th>final cost</th><th>final ee distance (m)</th>"
              "<th>successes</th></tr>\n",
              f);
        for (int m = 0; m < r->M; m++) {
            const cJSON *c = cond_obj(last, m), *c0 = cond_obj(first, m);
            char b[128];
            fputs("<tr>", f);
            snprintf(b, sizeof b, "c%d", m);
            td(f, b);
            const double *tg = target_of(r, m, r->point);
            if (tg)
                snprintf(b, sizeof b, "(%.3f, %.3f, %.3f)", tg[0], tg[1], tg[2]);
            else
                snprintf(b, sizeof b, "\xe2\x80\x93");
            fputs("<td class=\"l\">", f);
            ESC(b);
            fputs("</td>", f);
            tdv(f, "%.4g", jnum(c0, "sample_cost"));
            tdv(f, "%.4g", jnum(c, "sample_cost"));
            tdv(f, "%.4f", jnum(c, "final_distance"));
            double s = jnum(c, "successes");
            if (isfinite(s) && N > 0) {
                snprintf(b, sizeof b, "%d/%d", (int)s, N);
                fputs((int)s == N   ? "<td class=\"ok\">"
                      : (int)s == 0 ? "<td class=\"bad\">"
                                    : "<td>",
                      f);
                ESC(b);
                fputs("</td>", f);
            } else {
                td(f, "\xe2\x80\x93");
            }
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
    fputs("</div>\n</section>\n", f);
}

static void write_eval(const gpsc_report_t *r, FILE *f)
{
    if (!r->have_eval) return;
    fputs("<section id=\"eval\"><h2>Evaluation</h2>\n<p class=\"sub\">", f);
    char b[256];
    snprintf(b, sizeof b, "eval.json%s%s", r->eval_checkpoint[0] ? ": " : "", r->eval_checkpoint);
    ESC(b);
    if (r->eval_iteration >= 0) fprintf(f, " after %d iterations", r->eval_iteration);
    if (r->eval_metric[0]) {
        fputs("; success: ", f);
        ESC(r->eval_metric);
        if (isfinite(r->eval_threshold)) fprintf(f, " &lt;= %g", r->eval_threshold);
    }
    fputs("</p>\n<table class=\"eval\">\n<tr><th>condition</th><th class=\"l\">split</th>"
          "<th class=\"l\">policy</th><th>rollouts</th><th>mean cost</th>"
          "<th>final ee distance (m)</th><th>successes</th><th>success rate</th></tr>\n",
          f);
    /* train rows first, then test; each in file order */
    int tot[2] = {0, 0}, ok[2] = {0, 0};
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < r->nev; i++) {
            const eval_res_t *e = &r->ev[i];
            bool test = strcmp(e->split, "test") == 0;
            if (test != (pass == 1)) continue;
            fputs("<tr>", f);
            if (r->have_exp && e->condition >= r->exp.n_train)
                snprintf(b, sizeof b, "test %d", e->condition - r->exp.n_train);
            else
                snprintf(b, sizeof b, "c%d", e->condition);
            td(f, b);
            fputs("<td class=\"l\">", f);
            ESC(e->split);
            fputs("</td><td class=\"l\">", f);
            ESC(e->policy);
            fputs(e->noiseless ? " (mean)" : "", f);
            fputs("</td>", f);
            snprintf(b, sizeof b, "%d", e->rollouts);
            td(f, b);
            tdv(f, "%.4g", e->mean_cost);
            tdv(f, "%.4f", e->final_distance);
            if (e->successes >= 0 && e->rollouts > 0) {
                snprintf(b, sizeof b, "%d/%d", e->successes, e->rollouts);
                td(f, b);
                snprintf(b, sizeof b, "%.0f%%", 100.0 * e->successes / e->rollouts);
                fputs(e->successes == e->rollouts ? "<td class=\"ok\">"
                      : e->successes == 0         ? "<td class=\"bad\">"
                                                  : "<td>",
                      f);
                ESC(b);
                fputs("</td>", f);
                tot[pass] += e->rollouts;
                ok[pass] += e->successes;
            } else {
                td(f, "\xe2\x80\x93");
                td(f, "\xe2\x80\x93");
            }
            fputs("</tr>\n", f);
        }
    for (int pass = 0; pass < 2; pass++)
        if (tot[pass] > 0)
            fprintf(f,
                    "<tr><th class=\"l\" colspan=\"6\">all %s conditions</th><th>%d/%d</th>"
                    "<th>%.0f%%</th></tr>\n",
                    pass ? "test" : "train", ok[pass], tot[pass], 100.0 * ok[pass] / tot[pass]);
    fputs("</table>\n</section>\n", f);
}

static void write_log(const gpsc_report_t *r, FILE *f)
{
    if (!r->have_log) return;
    fprintf(f,
            "<section id=\"log\"><h2>Log</h2>\n<p>log.jsonl: %ld records: %ld debug, %ld info, "
            "%ld warnings, %ld errors",
            r->log_lines, r->log_counts[0], r->log_counts[1], r->log_counts[2], r->log_counts[3]);
    if (r->log_counts[4]) fprintf(f, ", %ld of another level", r->log_counts[4]);
    if (r->log_bad) fprintf(f, ", %ld unreadable lines", r->log_bad);
    fputs(".</p>\n", f);
    if (r->nlogs > 0) {
        fputs("<table class=\"logs\">\n<tr><th class=\"l\">time</th><th class=\"l\">level</th>"
              "<th class=\"l\">role</th><th>iteration</th><th class=\"l\">message</th></tr>\n",
              f);
        for (int i = 0; i < r->nlogs; i++) {
            const logrec_t *l = &r->logs[i];
            fputs("<tr><td class=\"l\">", f);
            ESC(l->time);
            fputs(strcmp(l->level, "error") == 0 ? "</td><td class=\"l bad\">"
                                                 : "</td><td class=\"l\">",
                  f);
            ESC(l->level);
            fputs("</td><td class=\"l\">", f);
            ESC(l->role);
            fputs("</td>", f);
            if (l->iteration >= 0)
                fprintf(f, "<td>%lld</td>", l->iteration);
            else
                fputs("<td></td>", f);
            fputs("<td class=\"l\">", f);
            ESC(l->msg);
            fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
        if (r->log_more)
            fprintf(f, "<p>%ld more warnings and errors are in log.jsonl.</p>\n", r->log_more);
    }
    fputs("</section>\n", f);
}

int gpsc_report_write_html(const gpsc_report_t *r, FILE *f, const char *figures_href)
{
    const char *name = r->have_exp ? r->exp.name : "run";
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n", f);
    fputs("<meta name=\"generator\" content=\"gpsc-report " GPSC_VERSION "\">\n<title>", f);
    fputs("gpsc report: ", f);
    ESC(name);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n", css);
    fputs("<h1>gpsc report: ", f);
    ESC(name);
    fputs("</h1>\n<p class=\"sub\">", f);
    if (r->run_id[0]) {
        ESC(r->run_id);
        fputs(" &#183; ", f);
    }
    fputs("run directory ", f);
    ESC(r->dir);
    fputs("</p>\n", f);

    write_summary(r, f);
    write_eval(r, f);

    if (r->nwarn > 0) {
        fputs("<section id=\"warnings\"><h2>Warnings</h2>\n", f);
        for (int i = 0; i < r->nwarn; i++) {
            fputs("<div class=\"warn\">", f);
            ESC(r->warn[i]);
            fputs("</div>\n", f);
        }
        fputs("</section>\n", f);
    }

    /* figure index, then the figures by section */
    fputs("<nav id=\"figures\"><h2>Figures</h2>\n<ol>\n", f);
    for (int i = 0; i < r->nfigs; i++) {
        fprintf(f, "<li><a href=\"#fig-%s\">", r->figs[i].name);
        ESC(r->figs[i].title);
        fputs("</a></li>\n", f);
    }
    fputs("</ol>\n", f);
    if (r->nfigs == 0) fputs("<p>No figures: the run has no metrics or samples yet.</p>\n", f);
    if (r->have_exp && r->P == 0)
        fputs("<p>The state has no end-effector points (state.ee_sites): no path figures.</p>\n",
              f);
    fputs("</nav>\n", f);
    for (int i = 0; i < r->nfigs; i++) {
        const fig_t *g = &r->figs[i];
        if (i == 0 || strcmp(g->section, r->figs[i - 1].section) != 0) {
            if (i > 0) fputs("</div>\n</section>\n", f);
            fputs("<section class=\"figs\"><h2>", f);
            ESC(g->section);
            fputs("</h2>\n<div class=\"grid\">\n", f);
        }
        fprintf(f, "<figure id=\"fig-%s\" data-figure=\"%s\" data-series=\"%d\">\n", g->name,
                g->name, gpsc_report_figure_series(r, i));
        gpsc_svg_plot_write(g->plot, f);
        fprintf(f, "<figcaption><b>Figure %d (%s).</b> ", i + 1, g->name);
        ESC(g->caption);
        if (figures_href) {
            fputs(" <a href=\"", f);
            ESC(figures_href);
            fprintf(f, "/%s.svg\">%s.svg</a>", g->name, g->name);
        }
        fputs("</figcaption>\n</figure>\n", f);
        if (i == r->nfigs - 1) fputs("</div>\n</section>\n", f);
    }

    write_log(r, f);
    fputs("<footer>Written by gpsc-report " GPSC_VERSION " from ", f);
    ESC(r->dir);
    fputs(": ", f);
    bool any = false;
    const char *files[5] = {"config.yaml", "metrics.jsonl", "checkpoints/", "eval.json",
                            "log.jsonl"};
    bool have[5] = {r->have_exp && !r->exp_from_checkpoint, r->have_metrics, r->n_checkpoints > 0,
                    r->have_eval, r->have_log};
    for (int i = 0; i < 5; i++)
        if (have[i]) {
            fprintf(f, "%s%s", any ? ", " : "", files[i]);
            any = true;
        }
    fputs(any ? ".</footer>\n" : "nothing.</footer>\n", f);
    fputs("</main>\n</body>\n</html>\n", f);
    return ferror(f) ? GPSC_EIO : 0;
}

/* ------------------------------------------------------------------ files */

const char *gpsc_report_html_path(gpsc_report_t *r, const char *html_path)
{
    char buf[PATH_MAX];
    if (!html_path) {
        pathf(buf, sizeof buf, r->dir, "report.html");
        html_path = buf;
    }
    char *p = xstrdup(html_path);
    if (!p) return NULL;
    free(r->html_path);
    r->html_path = p;
    return p;
}

/* the relative path from directory `from` to `to` (both absolute, no
   symlinks: realpath'd) */
static void rel_path(char *out, size_t outsz, const char *from, const char *to)
{
    size_t i = 0, common = 0;
    while (from[i] && to[i] && from[i] == to[i]) {
        if (from[i] == '/') common = i;
        i++;
    }
    if (from[i] == '\0' && (to[i] == '/' || to[i] == '\0'))
        common = i;
    else if (to[i] == '\0' && from[i] == '/')
        common = i;
    out[0] = '\0';
    size_t len = 0;
    /* one ".." per remaining component of from */
    for (const char *s = from + common; *s; s++)
        if (*s == '/' && s[1] && len + 4 < outsz) {
            memcpy(out + len, "../", 4);
            len += 3;
        }
    const char *rest = to + common;
    while (*rest == '/')
        rest++;
    snprintf(out + len, outsz - len, "%s", *rest ? rest : len ? "" : ".");
    len = strlen(out);
    if (len > 1 && out[len - 1] == '/') out[len - 1] = '\0';
}

/* writes a file atomically through fn */
static int write_atomic(const char *path, int (*fn)(const gpsc_report_t *, FILE *, const void *),
                        const gpsc_report_t *r, const void *arg, char *err, size_t errsz)
{
    char tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        return GPSC_EIO;
    }
    int rc = fn(r, f, arg);
    if (fclose(f) != 0 && rc == 0) rc = GPSC_EIO;
    if (rc == 0 && rename(tmp, path) != 0) rc = GPSC_EIO;
    if (rc) {
        snprintf(err, errsz, "%s: %s", path, errno ? strerror(errno) : gpsc_strerror(rc));
        unlink(tmp);
    }
    return rc;
}

static int html_fn(const gpsc_report_t *r, FILE *f, const void *arg)
{
    return gpsc_report_write_html(r, f, (const char *)arg);
}

static int svg_fn(const gpsc_report_t *r, FILE *f, const void *arg)
{
    /* a standalone SVG file: XML declaration, then the element */
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    return gpsc_report_write_svg(r, *(const int *)arg, f);
}

int gpsc_report_write_files(const gpsc_report_t *r, const char *html_path, const char *figures_dir,
                            char *err, size_t errsz)
{
    char def[PATH_MAX];
    if (!html_path) {
        pathf(def, sizeof def, r->dir, "report.html");
        html_path = def;
    }
    char href[PATH_MAX] = "";
    if (figures_dir) {
        if (mkdir(figures_dir, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errsz, "%s: %s", figures_dir, strerror(errno));
            return GPSC_EIO;
        }
        for (int i = 0; i < r->nfigs; i++) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s.svg", figures_dir, r->figs[i].name);
            errno = 0;
            int rc = write_atomic(path, svg_fn, r, &i, err, errsz);
            if (rc) return rc;
        }
        /* the figures' directory as seen from the HTML file */
        char hdir[PATH_MAX], *slash;
        snprintf(hdir, sizeof hdir, "%s", html_path);
        slash = strrchr(hdir, '/');
        if (slash)
            *(slash == hdir ? slash + 1 : slash) = '\0';
        else
            snprintf(hdir, sizeof hdir, ".");
        char *a = realpath(hdir, NULL), *b = realpath(figures_dir, NULL);
        if (a && b)
            rel_path(href, sizeof href, a, b);
        else
            snprintf(href, sizeof href, "%s", figures_dir);
        free(a);
        free(b);
    }
    errno = 0;
    return write_atomic(html_path, html_fn, r, figures_dir ? href : NULL, err, errsz);
}
