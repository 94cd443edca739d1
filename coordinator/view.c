/* view.c — the live view of a run (see view.h). */
#include "coordinator/view.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/error.h"

#define MAX_COND 1024        /* conditions kept */
#define MAX_ITER 1000000     /* largest iteration number taken */
#define HIST 64              /* iterations kept per condition (a sparkline shows <= 40) */
#define RATE_SAMPLES 256     /* (time, rollouts) points of the throughput window */
#define RATE_WINDOW_S 5.0    /* (s) throughput over this window */
#define RATE_STEP_S 0.05     /* (s) closest spacing of two throughput points */
#define WARN_RING 64         /* warnings kept */
#define WARN_BYTES 320       /* (bytes) one warning's text */
#define MAX_TIMINGS 24       /* phases of one metrics line */
#define SILENT_S 3.0         /* (s) a remote coordinator this quiet is reported */
#define PLAIN_PROGRESS_S 1.0 /* (s) PLAIN: rollout progress at most this often */
#define DEFAULT_WIDTH 80
#define MAX_WIDTH 1000

/* ------------------------------------------------------------------ the model */

/* values of the latest HIST iterations: (it[i], val[i]) for i < n, any order */
typedef struct hist {
    int it[HIST];
    double val[HIST];
    int n;
} hist_t;

/* one training condition */
typedef struct cond {
    hist_t cost;                     /* mean sampled cost per iteration */
    double eta, step, kl, kl_target; /* of the latest iteration (NaN unknown) */
} cond_t;

typedef struct warn {
    gpsc_log_level_t level;
    char text[WARN_BYTES];
} warn_t;

typedef struct timing {
    char name[24];
    double ms;
} timing_t;

struct gpsc_view {
    gpsc_view_cfg_t cfg;
    FILE *out;
    gpsc_view_mode_t mode; /* SCREEN or PLAIN */
    char title[32];
    long events; /* events fed */
    double t0;   /* (s) the first event, PLAIN's time origin */
    bool t0_set;

    /* ---- what the coordinator said last ---- */
    gpsc_view_progress_t p;
    bool have_p;
    double t_p; /* (s) when */

    /* ---- throughput: (time, rollouts_done) points, oldest first ---- */
    double rate_t[RATE_SAMPLES];
    uint64_t rate_n[RATE_SAMPLES];
    int nrate;
    double first_t; /* the first point since the coordinator (re)started, for the mean */
    uint64_t first_n;

    /* ---- metrics ---- */
    cond_t *cond;       /* (capM) */
    int M, capM;        /* conditions seen, allocated */
    hist_t dur;         /* wall seconds of each iteration */
    int last_it;        /* highest iteration with metrics, -1 */
    int warned_it;      /* metrics warnings were made up to this iteration, -1 */
    double sample_cost; /* of last_it */
    int successes, samples;
    timing_t tm[MAX_TIMINGS]; /* the "ms" of last_it */
    int ntm;
    double sampling_rate;  /* (rollouts/s) of last_it's sampling phase, NaN unknown */
    double sampling_share; /* last_it's sampling time / its whole time, NaN unknown */

    /* ---- warnings ---- */
    warn_t warn[WARN_RING];
    long nwarn;         /* warnings ever added (the ring holds the last WARN_RING) */
    long n_warn, n_err; /* by level */

    char note[256]; /* the front end's last line */

    /* ---- the end ---- */
    bool done;
    int status;

    /* ---- drawing ---- */
    double plain_progress_t; /* (s) PLAIN: last progress line, -inf before */
    int drawn;               /* SCREEN: lines of the block on screen */
    bool hidden;             /* SCREEN: the cursor is hidden */
    bool dirty;              /* something changed since the last frame */
    double last_draw;        /* (s) */
    bool drew;               /* a frame was drawn at least once */
};

static const char *kind_names[] = {"status", "info", "progress", "iteration", "log", "done"};

const char *gpsc_view_kind_name(gpsc_view_kind_t kind)
{
    return kind >= 0 && kind <= GPSC_VIEW_EV_DONE ? kind_names[kind] : "?";
}

/* ------------------------------------------------------------------ the progress JSON */

char *gpsc_view_progress_json(const gpsc_view_progress_t *p)
{
    if (!p) return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "event", gpsc_view_kind_name(p->kind));
    cJSON_AddStringToObject(o, "run_id", p->run_id);
    cJSON_AddStringToObject(o, "experiment", p->experiment);
    cJSON_AddStringToObject(o, "algorithm", p->algorithm);
    cJSON_AddStringToObject(o, "phase", p->phase);
    cJSON_AddNumberToObject(o, "iteration", p->iteration);
    cJSON_AddNumberToObject(o, "iterations", p->iterations);
    cJSON_AddNumberToObject(o, "conditions", p->conditions);
    cJSON_AddNumberToObject(o, "T", p->T);
    cJSON_AddNumberToObject(o, "samples_done", p->samples_done);
    cJSON_AddNumberToObject(o, "samples_total", p->samples_total);
    cJSON_AddBoolToObject(o, "eval", p->eval);
    cJSON_AddNumberToObject(o, "workers", p->workers);
    cJSON_AddNumberToObject(o, "workers_lost", p->workers_lost);
    cJSON_AddBoolToObject(o, "learner", p->learner);
    cJSON_AddNumberToObject(o, "rollouts_done", (double)p->rollouts_done);
    cJSON_AddNumberToObject(o, "reissued", (double)p->reissued);
    cJSON_AddNumberToObject(o, "duplicates", (double)p->duplicates);
    cJSON_AddNumberToObject(o, "rejected", (double)p->rejected);
    cJSON_AddNumberToObject(o, "refused", (double)p->refused);
    if (p->kind == GPSC_VIEW_EV_DONE) cJSON_AddNumberToObject(o, "status", p->status);
    cJSON_AddNumberToObject(o, "time", p->time);
    cJSON_AddStringToObject(o, "text", p->text);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static int jint(const cJSON *o, const char *key, int lo, int hi)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return 0;
    double d = v->valuedouble;
    return d < lo ? lo : d > hi ? hi : (int)d;
}

static uint64_t jcount(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1e18) return 0;
    return (uint64_t)v->valuedouble;
}

static void jstr(char *out, size_t outsz, const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(out, outsz, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

int gpsc_view_progress_parse(gpsc_view_progress_t *p, const char *json, char *err, size_t errsz)
{
    if (!p || !json) return GPSC_EINVAL;
    memset(p, 0, sizeof *p);
    cJSON *o = cJSON_Parse(json);
    const cJSON *ev = o ? cJSON_GetObjectItemCaseSensitive(o, "event") : NULL;
    int kind = -1;
    for (int k = 0; cJSON_IsString(ev) && k <= GPSC_VIEW_EV_DONE; k++)
        if (strcmp(ev->valuestring, kind_names[k]) == 0) kind = k;
    if (!cJSON_IsObject(o) || kind < 0) {
        if (err && errsz)
            snprintf(err, errsz, "%s",
                     !cJSON_IsObject(o) ? "not a JSON object" : "no known \"event\" field");
        cJSON_Delete(o);
        return GPSC_EPARSE;
    }
    p->kind = (gpsc_view_kind_t)kind;
    jstr(p->run_id, sizeof p->run_id, o, "run_id");
    jstr(p->experiment, sizeof p->experiment, o, "experiment");
    jstr(p->algorithm, sizeof p->algorithm, o, "algorithm");
    jstr(p->phase, sizeof p->phase, o, "phase");
    jstr(p->text, sizeof p->text, o, "text");
    p->iteration = jint(o, "iteration", -1, MAX_ITER);
    p->iterations = jint(o, "iterations", 0, MAX_ITER);
    p->conditions = jint(o, "conditions", 0, MAX_COND);
    p->T = jint(o, "T", 0, 100000000);
    p->samples_done = jint(o, "samples_done", 0, 1 << 30);
    p->samples_total = jint(o, "samples_total", 0, 1 << 30);
    p->eval = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "eval"));
    p->workers = jint(o, "workers", 0, 1 << 30);
    p->workers_lost = jint(o, "workers_lost", 0, 1 << 30);
    p->learner = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "learner"));
    p->rollouts_done = jcount(o, "rollouts_done");
    p->reissued = jcount(o, "reissued");
    p->duplicates = jcount(o, "duplicates");
    p->rejected = jcount(o, "rejected");
    p->refused = jcount(o, "refused");
    p->status = jint(o, "status", -1000, 1000);
    const cJSON *tm = cJSON_GetObjectItemCaseSensitive(o, "time");
    p->time =
        cJSON_IsNumber(tm) && tm->valuedouble > 0 && tm->valuedouble < 1e11 ? tm->valuedouble : 0;
    cJSON_Delete(o);
    return 0;
}

/* ------------------------------------------------------------------ new, destroy */

gpsc_view_t *gpsc_view_new(const gpsc_view_cfg_t *cfg)
{
    gpsc_view_t *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    if (cfg) v->cfg = *cfg;
    v->out = v->cfg.out ? v->cfg.out : stdout;
    v->mode = v->cfg.mode;
    if (v->mode == GPSC_VIEW_AUTO)
        v->mode = isatty(fileno(v->out)) ? GPSC_VIEW_SCREEN : GPSC_VIEW_PLAIN;
    if (v->mode != GPSC_VIEW_SCREEN) v->mode = GPSC_VIEW_PLAIN;
    snprintf(v->title, sizeof v->title, "%s", v->cfg.title ? v->cfg.title : "gpsc");
    if (!(v->cfg.redraw_s > 0)) v->cfg.redraw_s = 0.1;
    if (v->cfg.warn_lines <= 0) v->cfg.warn_lines = 5;
    if (v->cfg.warn_lines > WARN_RING) v->cfg.warn_lines = WARN_RING;
    if (v->cfg.log_level < GPSC_LOG_DEBUG || v->cfg.log_level > GPSC_LOG_ERROR)
        v->cfg.log_level = GPSC_LOG_WARN;
    v->cfg.out = NULL;
    v->cfg.title = NULL;
    v->last_it = -1;
    v->warned_it = -1;
    v->sample_cost = NAN;
    v->successes = -1;
    v->sampling_rate = NAN;
    v->sampling_share = NAN;
    v->plain_progress_t = -INFINITY;
    v->last_draw = -INFINITY;
    return v;
}

void gpsc_view_destroy(gpsc_view_t **p)
{
    if (!p || !*p) return;
    gpsc_view_t *v = *p;
    free(v->cond);
    free(v);
    *p = NULL;
}

gpsc_view_mode_t gpsc_view_mode(const gpsc_view_t *v)
{
    return v ? v->mode : GPSC_VIEW_PLAIN;
}

long gpsc_view_events(const gpsc_view_t *v)
{
    return v ? v->events : 0;
}

bool gpsc_view_term_utf8(void)
{
    const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (int i = 0; i < 3; i++) {
        const char *s = getenv(vars[i]);
        if (!s || !s[0]) continue;
        char low[128];
        size_t n = 0;
        for (; s[n] && n < sizeof low - 1; n++)
            low[n] = (char)(s[n] >= 'A' && s[n] <= 'Z' ? s[n] - 'A' + 'a' : s[n]);
        low[n] = '\0';
        return strstr(low, "utf-8") || strstr(low, "utf8");
    }
    return false;
}

bool gpsc_view_term_color(FILE *f)
{
    const char *term = getenv("TERM"), *nc = getenv("NO_COLOR");
    return f && isatty(fileno(f)) && !(nc && nc[0]) && !(term && strcmp(term, "dumb") == 0);
}

bool gpsc_view_done(const gpsc_view_t *v, int *status)
{
    if (!v || !v->done) return false;
    if (status) *status = v->status;
    return true;
}

/* forgets the run (a new run id) */
static void reset_run(gpsc_view_t *v)
{
    for (int m = 0; m < v->capM; m++)
        v->cond[m].cost.n = 0;
    v->dur.n = 0;
    v->M = 0;
    v->last_it = -1;
    v->warned_it = -1;
    v->sample_cost = NAN;
    v->successes = -1;
    v->samples = 0;
    v->ntm = 0;
    v->sampling_rate = NAN;
    v->sampling_share = NAN;
    v->nrate = 0;
    v->nwarn = v->n_warn = v->n_err = 0;
    v->done = false;
}

/* ------------------------------------------------------------------ text */

/* a growable frame of lines cut to a width, with optional escapes */
typedef struct lw {
    char *buf;
    size_t len, cap;
    int lines;   /* lines ended */
    int cols;    /* columns used in the current line */
    int maxcols; /* columns a line may use */
    bool color;  /* SGR colours */
    bool screen; /* each line starts with "\r\033[2K" */
    bool open;   /* a line has begun */
    bool sgr;    /* a colour is on */
    bool oom;
} lw_t;

static void lw_raw(lw_t *w, const char *s, size_t n)
{
    if (w->oom) return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *b = realloc(w->buf, cap);
        if (!b) {
            w->oom = true;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void lw_rawf(lw_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lw_rawf(lw_t *w, const char *fmt, ...)
{
    char t[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    if (n > 0) lw_raw(w, t, (size_t)n < sizeof t ? (size_t)n : sizeof t - 1);
}

static void lw_begin(lw_t *w)
{
    if (w->open) return;
    w->open = true;
    w->cols = 0;
    if (w->screen) lw_raw(w, "\r\033[2K", 5);
}

/* appends UTF-8 text, one column per code point, up to the width; control
 * characters (C0, DEL, C1) become spaces so that nothing a peer sends can
 * move the cursor */
static void lw_text(lw_t *w, const char *s)
{
    lw_begin(w);
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        size_t n = 1;
        if (*u >= 0xc0) {
            while (n < 4 && (u[n] & 0xc0) == 0x80)
                n++;
        }
        bool ctl = *u < 0x20 || *u == 0x7f || (*u == 0xc2 && n == 2 && u[1] < 0xa0);
        if ((*u & 0xc0) == 0x80) { /* a stray continuation byte: dropped */
            u++;
            continue;
        }
        if (w->cols >= w->maxcols) break;
        if (ctl)
            lw_raw(w, " ", 1);
        else
            lw_raw(w, (const char *)u, n);
        w->cols++;
        u += n;
    }
}

static void lw_printf(lw_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lw_printf(lw_t *w, const char *fmt, ...)
{
    char t[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    lw_text(w, t);
}

/* spaces up to column col */
static void lw_pad(lw_t *w, int col)
{
    lw_begin(w);
    while (w->cols < col && w->cols < w->maxcols) {
        lw_raw(w, " ", 1);
        w->cols++;
    }
}

/* SGR on ("1", "33", ...) or off (NULL) */
static void lw_sgr(lw_t *w, const char *code)
{
    if (!w->color) return;
    lw_begin(w);
    if (code) {
        lw_rawf(w, "\033[%sm", code);
        w->sgr = true;
    } else if (w->sgr) {
        lw_raw(w, "\033[0m", 4);
        w->sgr = false;
    }
}

static void lw_end(lw_t *w)
{
    lw_begin(w);
    lw_sgr(w, NULL);
    lw_raw(w, "\n", 1);
    w->open = false;
    w->lines++;
}

static void fmt_duration(char *out, size_t outsz, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(out, outsz, "-");
    else if (s < 1)
        snprintf(out, outsz, "%.0f ms", s * 1000);
    else if (s < 60)
        snprintf(out, outsz, "%.1f s", s);
    else if (s < 3600)
        snprintf(out, outsz, "%d min %02d s", (int)(s / 60), (int)fmod(s, 60));
    else
        snprintf(out, outsz, "%d h %02d min", (int)(s / 3600), (int)fmod(s / 60, 60));
}

/* a number in width w (%.*g), "-" when NaN */
static void fmt_num(char *out, size_t outsz, int w, int prec, double x)
{
    if (isfinite(x))
        snprintf(out, outsz, "%*.*g", w, prec, x);
    else
        snprintf(out, outsz, "%*s", w, "-");
}

/* a rate: 3 significant digits below 1000, whole numbers above, "-" when NaN */
static void fmt_rate(char *out, size_t outsz, double x)
{
    if (!isfinite(x))
        snprintf(out, outsz, "-");
    else if (x >= 1000)
        snprintf(out, outsz, "%.0f", x);
    else
        snprintf(out, outsz, "%.3g", x);
}

/* ------------------------------------------------------------------ model updates */

static cond_t *cond_at(gpsc_view_t *v, int m)
{
    if (m < 0 || m >= MAX_COND) return NULL;
    if (m >= v->capM) {
        int cap = v->capM ? v->capM : 8;
        while (cap <= m)
            cap *= 2;
        cond_t *c = realloc(v->cond, sizeof *c * (size_t)cap);
        if (!c) return NULL;
        for (int i = v->capM; i < cap; i++) {
            c[i].cost.n = 0;
            c[i].eta = c[i].step = c[i].kl = c[i].kl_target = NAN;
        }
        v->cond = c;
        v->capM = cap;
    }
    if (m >= v->M) v->M = m + 1;
    return &v->cond[m];
}

/* sets the value of iteration it; when full, the oldest iteration makes
 * room (an iteration older than all kept is dropped) */
static void hist_put(hist_t *h, int it, double x)
{
    for (int i = 0; i < h->n; i++)
        if (h->it[i] == it) {
            h->val[i] = x;
            return;
        }
    if (h->n < HIST) {
        h->it[h->n] = it;
        h->val[h->n++] = x;
        return;
    }
    int lo = 0;
    for (int i = 1; i < h->n; i++)
        if (h->it[i] < h->it[lo]) lo = i;
    if (it > h->it[lo]) {
        h->it[lo] = it;
        h->val[lo] = x;
    }
}

/* the value of iteration it, NaN when not kept */
static double hist_get(const hist_t *h, int it)
{
    for (int i = 0; i < h->n; i++)
        if (h->it[i] == it) return h->val[i];
    return NAN;
}

static double elapsed(gpsc_view_t *v, double now)
{
    if (!v->t0_set) {
        v->t0 = now;
        v->t0_set = true;
    }
    return now - v->t0;
}

/* PLAIN: one line with the time since the first event */
static void plain_line(gpsc_view_t *v, double now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void plain_line(gpsc_view_t *v, double now, const char *fmt, ...)
{
    if (v->mode != GPSC_VIEW_PLAIN) return;
    char t[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t, sizeof t, fmt, ap);
    va_end(ap);
    lw_t w = {.maxcols = (int)sizeof t};
    lw_printf(&w, "[%8.1fs] ", elapsed(v, now));
    lw_text(&w, t);
    lw_end(&w);
    if (w.buf) fputs(w.buf, v->out);
    free(w.buf);
    fflush(v->out);
}

static void add_warning(gpsc_view_t *v, gpsc_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_warning(gpsc_view_t *v, gpsc_log_level_t level, const char *fmt, ...)
{
    warn_t *w = &v->warn[v->nwarn % WARN_RING];
    w->level = level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->text, sizeof w->text, fmt, ap);
    va_end(ap);
    v->nwarn++;
    if (level >= GPSC_LOG_ERROR)
        v->n_err++;
    else
        v->n_warn++;
}

static void event(gpsc_view_t *v, double now)
{
    (void)elapsed(v, now);
    v->events++;
    v->dirty = true;
}

/* the iteration shown: 1-based while working on it, K when done */
static int shown_iteration(const gpsc_view_progress_t *p)
{
    int k = p->iteration + 1;
    if (p->eval || k > p->iterations) k = p->iterations;
    return k < 0 ? 0 : k;
}

void gpsc_view_progress(gpsc_view_t *v, const gpsc_view_progress_t *p, double now)
{
    if (!v || !p) return;
    event(v, now);
    bool new_run = p->run_id[0] && v->p.run_id[0] && strcmp(p->run_id, v->p.run_id) != 0;
    bool first = !v->have_p || new_run;
    if (new_run) reset_run(v);
    /* a coordinator that started again counts from 0 */
    if (v->nrate > 0 && p->rollouts_done < v->rate_n[v->nrate - 1]) v->nrate = 0;
    if (v->done && p->kind != GPSC_VIEW_EV_DONE) v->done = false; /* the run goes on (resumed) */
    v->p = *p;
    v->have_p = true;
    v->t_p = now;
    /* throughput points on the sender's clock (messages may arrive in bursts),
     * the oldest dropped when full */
    if (v->nrate == RATE_SAMPLES) {
        memmove(v->rate_t, v->rate_t + 1, sizeof v->rate_t[0] * (RATE_SAMPLES - 1));
        memmove(v->rate_n, v->rate_n + 1, sizeof v->rate_n[0] * (RATE_SAMPLES - 1));
        v->nrate--;
    }
    double t = p->time > 0 ? p->time : now;
    if (v->nrate > 0 && t < v->rate_t[v->nrate - 1]) v->nrate = 0; /* another clock */
    /* points closer than RATE_STEP_S replace the newest, so that the ring
     * spans the window whatever the event rate */
    if (v->nrate >= 2 && t - v->rate_t[v->nrate - 2] < RATE_STEP_S) v->nrate--;
    if (v->nrate == 0) {
        v->first_t = t;
        v->first_n = p->rollouts_done;
    }
    v->rate_t[v->nrate] = t;
    v->rate_n[v->nrate] = p->rollouts_done;
    v->nrate++;

    if (first && p->run_id[0])
        plain_line(v, now, "run %s: %s, %s, %d condition%s, %d iterations", p->run_id,
                   p->experiment[0] ? p->experiment : "?", p->algorithm[0] ? p->algorithm : "?",
                   p->conditions, p->conditions == 1 ? "" : "s", p->iterations);
    switch (p->kind) {
    case GPSC_VIEW_EV_INFO:
    case GPSC_VIEW_EV_ITERATION:
        plain_line(v, now, "%s", p->text);
        break;
    case GPSC_VIEW_EV_LOG:
        add_warning(v, GPSC_LOG_WARN, "%s", p->text);
        plain_line(v, now, "warning: %s", p->text);
        break;
    case GPSC_VIEW_EV_PROGRESS:
        if (now - v->plain_progress_t >= PLAIN_PROGRESS_S || p->samples_done == p->samples_total) {
            v->plain_progress_t = now;
            if (p->eval)
                plain_line(v, now, "evaluation: %d/%d rollouts, %d worker%s", p->samples_done,
                           p->samples_total, p->workers, p->workers == 1 ? "" : "s");
            else
                plain_line(v, now, "iteration %d/%d: %d/%d rollouts, %d worker%s",
                           shown_iteration(p), p->iterations, p->samples_done, p->samples_total,
                           p->workers, p->workers == 1 ? "" : "s");
        }
        break;
    case GPSC_VIEW_EV_DONE:
        v->done = true;
        v->status = p->status;
        plain_line(v, now, "run %s %s: %s (status %d)", p->run_id,
                   p->status == 0 ? "finished" : "stopped", p->text, p->status);
        break;
    case GPSC_VIEW_EV_STATUS:
        break;
    }
}

static double obj_num(const cJSON *o, const char *key)
{
    const cJSON *x = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

int gpsc_view_metrics(gpsc_view_t *v, const char *json, bool replay, double now)
{
    if (!v || !json) return GPSC_EINVAL;
    cJSON *o = cJSON_Parse(json);
    double itd = obj_num(o, "iteration");
    if (!cJSON_IsObject(o) || !(itd >= 0) || itd >= MAX_ITER) {
        cJSON_Delete(o);
        return GPSC_EPARSE;
    }
    event(v, now);
    int it = (int)itd;
    bool latest = it >= v->last_it;
    bool fresh = it > v->warned_it;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "conditions"))
    {
        double md = obj_num(e, "condition");
        if (!(md >= 0) || md >= MAX_COND) continue;
        int m = (int)md;
        cond_t *c = cond_at(v, m);
        if (!c) continue;
        hist_put(&c->cost, it, obj_num(e, "sample_cost"));
        if (latest) {
            c->eta = obj_num(e, "eta");
            c->step = obj_num(e, "step_mult");
            c->kl = obj_num(e, "kl");
            c->kl_target = obj_num(e, "kl_target");
        }
        /* what the numbers say went wrong, once per iteration */
        if (fresh) {
            const cJSON *conv = cJSON_GetObjectItemCaseSensitive(e, "cstep_converged");
            double bumps = obj_num(e, "cstep_bumps");
            if (cJSON_IsFalse(conv)) {
                add_warning(v, GPSC_LOG_WARN,
                            "it %d c%d: KL target missed (kl %.3g, target %.3g, eta %.3g)", it, m,
                            obj_num(e, "kl"), obj_num(e, "kl_target"), obj_num(e, "eta"));
                if (!replay)
                    plain_line(v, now,
                               "warning: iteration %d condition %d: KL target missed "
                               "(kl %.3g, target %.3g)",
                               it, m, obj_num(e, "kl"), obj_num(e, "kl_target"));
            }
            if (bumps > 0) {
                add_warning(v, GPSC_LOG_WARN,
                            "it %d c%d: non-PD fallback raised eta %.0f time%s (eta %.3g)", it, m,
                            bumps, bumps == 1 ? "" : "s", obj_num(e, "eta"));
                if (!replay)
                    plain_line(v, now,
                               "warning: iteration %d condition %d: non-PD fallback "
                               "raised eta %.0f time%s",
                               it, m, bumps, bumps == 1 ? "" : "s");
            }
        }
    }
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(o, "ms");
    double d = obj_num(ms, "iteration");
    if (!isfinite(d)) d = obj_num(ms, "total");
    if (isfinite(d)) hist_put(&v->dur, it, d / 1000.0);
    if (latest) {
        v->last_it = it;
        v->sample_cost = obj_num(o, "sample_cost");
        double s = obj_num(o, "successes"), n = obj_num(o, "samples");
        v->successes = isfinite(s) ? (int)s : -1;
        v->samples = isfinite(n) ? (int)n : 0;
        v->ntm = 0;
        cJSON_ArrayForEach(e, ms)
        {
            if (v->ntm < MAX_TIMINGS && cJSON_IsNumber(e) && e->string) {
                snprintf(v->tm[v->ntm].name, sizeof v->tm[0].name, "%s", e->string);
                v->tm[v->ntm].ms = e->valuedouble;
                v->ntm++;
            }
        }
        double smp = obj_num(ms, "sampling");
        v->sampling_rate = smp > 0 && v->samples > 0 ? v->samples / (smp / 1000.0) : NAN;
        double whole = obj_num(ms, "iteration");
        v->sampling_share = smp >= 0 && whole > 0 && smp <= whole ? smp / whole : NAN;
    }
    if (fresh) v->warned_it = it;
    cJSON_Delete(o);
    return 0;
}

int gpsc_view_read_metrics(gpsc_view_t *v, const char *path, long *offset, bool replay, double now)
{
    if (!v || !path || !offset) return GPSC_EINVAL;
    FILE *f = fopen(path, "r");
    if (!f) return GPSC_ENOENT;
    if (fseek(f, 0, SEEK_END) == 0 && ftell(f) < *offset) *offset = 0;
    if (fseek(f, *offset, SEEK_SET) != 0) {
        fclose(f);
        return GPSC_EIO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int fed = 0;
    long pos = *offset;
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n') break; /* half-written: next time */
        pos += (long)n;
        if (gpsc_view_metrics(v, line, replay, now) == 0) fed++;
    }
    free(line);
    fclose(f);
    *offset = pos;
    if (replay && fed > 0)
        plain_line(v, now, "read %d iteration%s from %s (last: iteration %d, cost %.6g)", fed,
                   fed == 1 ? "" : "s", path, v->last_it, v->sample_cost);
    return fed;
}

void gpsc_view_log(gpsc_view_t *v, gpsc_log_level_t level, const char *role, const char *sender,
                   long long iteration, const char *msg, double now)
{
    if (!v) return;
    event(v, now);
    char who[160];
    if (sender && sender[0] && role && strcmp(role, sender) != 0)
        snprintf(who, sizeof who, "%s %s", role, sender);
    else
        snprintf(who, sizeof who, "%s", sender && sender[0] ? sender : role ? role : "?");
    char it[32] = "";
    if (iteration >= 0) snprintf(it, sizeof it, "it %lld ", iteration);
    if (level >= GPSC_LOG_WARN) add_warning(v, level, "%s%s: %s", it, who, msg ? msg : "");
    if (level >= v->cfg.log_level)
        plain_line(v, now, "%-5s %s%s: %s", gpsc_log_level_name(level), it, who, msg ? msg : "");
}

void gpsc_view_note(gpsc_view_t *v, double now, const char *fmt, ...)
{
    if (!v) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->note, sizeof v->note, fmt, ap);
    va_end(ap);
    (void)elapsed(v, now);
    v->dirty = true;
    plain_line(v, now, "%s", v->note);
}

/* ------------------------------------------------------------------ the frame */

/* rollouts per second over the last RATE_WINDOW_S of the sender's clock
 * (0 when nothing arrived for that long; at the end, the mean since the
 * first event), else the last iteration's sampling rate, NaN when neither
 * is known */
static double throughput(const gpsc_view_t *v, double now)
{
    if (v->nrate >= 2 && v->done) {
        double span = v->rate_t[v->nrate - 1] - v->first_t;
        if (span >= 0.5) return (double)(v->rate_n[v->nrate - 1] - v->first_n) / span;
    }
    if (v->nrate >= 2 && v->have_p && !v->done) {
        if (now - v->t_p >= RATE_WINDOW_S) return 0;
        double t1 = v->rate_t[v->nrate - 1];
        int i = 0;
        while (i < v->nrate - 1 && v->rate_t[i] < t1 - RATE_WINDOW_S)
            i++;
        double span = t1 - v->rate_t[i];
        if (span >= 0.5) return (double)(v->rate_n[v->nrate - 1] - v->rate_n[i]) / span;
    }
    return v->sampling_rate;
}

/* mean wall seconds of the last (up to) 5 iterations with a duration */
static double mean_iteration_s(const gpsc_view_t *v)
{
    double sum = 0;
    int n = 0;
    for (int i = v->last_it; i >= 0 && i > v->last_it - HIST && n < 5; i--)
        if (isfinite(hist_get(&v->dur, i))) {
            sum += hist_get(&v->dur, i);
            n++;
        }
    return n ? sum / n : NAN;
}

/* one sparkline cell per iteration in [first, last] */
static void sparkline(lw_t *w, const cond_t *c, int first, int last, bool ascii)
{
    static const char *blocks[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    static const char ablocks[] = "_.-:=+*#";
    double lo = INFINITY, hi = -INFINITY;
    for (int i = first; i <= last; i++)
        if (isfinite(hist_get(&c->cost, i))) {
            lo = fmin(lo, hist_get(&c->cost, i));
            hi = fmax(hi, hist_get(&c->cost, i));
        }
    for (int i = first; i <= last; i++) {
        double x = hist_get(&c->cost, i);
        if (!isfinite(x)) {
            lw_text(w, " ");
            continue;
        }
        int lvl = hi > lo ? (int)lround((x - lo) / (hi - lo) * 7.0) : 3;
        lvl = lvl < 0 ? 0 : lvl > 7 ? 7 : lvl;
        if (ascii) {
            char s[2] = {ablocks[lvl], 0};
            lw_text(w, s);
        } else {
            lw_text(w, blocks[lvl]);
        }
    }
}

static void bar(lw_t *w, int done, int total, int width, bool ascii)
{
    int fill = total > 0 ? (int)((double)done / total * width + 1e-9) : 0;
    fill = fill < 0 ? 0 : fill > width ? width : fill;
    lw_text(w, "[");
    lw_sgr(w, "32");
    for (int i = 0; i < fill; i++)
        lw_text(w, ascii ? "#" : "█");
    lw_sgr(w, NULL);
    for (int i = fill; i < width; i++)
        lw_text(w, ascii ? "." : "░");
    lw_text(w, "]");
}

static int timing_rank(const char *name)
{
    static const char *order[] = {"iteration", "sampling", "learning", NULL};
    for (int i = 0; order[i]; i++)
        if (strcmp(name, order[i]) == 0) return i;
    return -1;
}

/* the frame: W columns, at most H lines (0: unlimited) */
static void build(const gpsc_view_t *v, double now, lw_t *w, int W, int H)
{
    const gpsc_view_progress_t *p = &v->p;
    bool ascii = v->cfg.ascii;
    int M = v->M > p->conditions ? v->M : p->conditions;
    if (M > MAX_COND) M = MAX_COND;
    w->maxcols = W - 1;

    /* how many lines fit: 5 fixed, conditions, timings, warnings header + lines */
    int wl = v->cfg.warn_lines, cl = M, tl = 1;
    if (H > 0) {
        int fixed = 5;
        while (fixed + cl + tl + 1 + wl > H && wl > 0)
            wl--;
        while (fixed + cl + tl + 1 + wl > H && cl > 1)
            cl--;
        if (fixed + cl + tl + 1 + wl > H) tl = 0;
    }
    bool more = cl < M; /* the last condition line says how many are left out */

    /* header: title, run, state */
    lw_sgr(w, "1");
    lw_printf(w, "%s", v->title);
    lw_sgr(w, NULL);
    if (p->run_id[0]) lw_printf(w, "  %s", p->run_id);
    if (p->experiment[0])
        lw_printf(w, "  %s%s%s%s%d condition%s", p->experiment, ascii ? ", " : " · ", p->algorithm,
                  ascii ? ", " : " · ", p->conditions, p->conditions == 1 ? "" : "s");
    lw_text(w, "   ");
    char d[64];
    if (v->done) {
        lw_sgr(w, v->status == 0 ? "1;32" : "1;31");
        lw_printf(w, "%s: %s", v->status == 0 ? "finished" : "stopped", p->text);
    } else if (!v->have_p) {
        lw_sgr(w, "33");
        lw_text(w, v->note[0] ? v->note : "waiting for the run");
    } else if (v->cfg.remote && now - v->t_p > SILENT_S) {
        fmt_duration(d, sizeof d, now - v->t_p);
        lw_sgr(w, "1;33");
        lw_printf(w, "no word from the coordinator for %s", d);
    } else {
        lw_sgr(w, "32");
        lw_text(w, v->note[0] && v->cfg.remote ? v->note : "live");
    }
    lw_sgr(w, NULL);
    lw_end(w);

    /* iteration k of K and the rollouts of the plan */
    if (!v->have_p) {
        /* nothing from a coordinator: what metrics.jsonl said, if anything */
        if (v->last_it >= 0)
            lw_printf(w, "iteration %d done (metrics.jsonl; no coordinator heard)", v->last_it + 1);
        else
            lw_text(w, "iteration -");
    } else {
        int bw = W - 60;
        bw = bw < 10 ? 10 : bw > 40 ? 40 : bw;
        if (p->eval)
            lw_printf(w, "evaluation      ");
        else
            lw_printf(w, "iteration %d/%d  ", shown_iteration(p), p->iterations);
        lw_pad(w, 16);
        bar(w, v->done ? 1 : p->samples_done, v->done ? 1 : p->samples_total, bw, ascii);
        lw_printf(w, "  %d/%d rollouts  %s", p->samples_done, p->samples_total,
                  p->phase[0] ? p->phase : "-");
    }
    lw_end(w);

    /* throughput, workers, learner */
    double r = throughput(v, now);
    char rs[32], ss[32];
    fmt_rate(rs, sizeof rs, r);
    fmt_rate(ss, sizeof ss, r * (p->T > 0 ? p->T : NAN));
    lw_printf(w, "throughput %s rollouts/s  %s steps/s   ", rs, ss);
    if (!v->have_p) {
        lw_text(w, "workers -   learner -");
    } else {
        lw_printf(w, "workers %d alive", p->workers);
        if (p->workers_lost > 0) {
            lw_text(w, ", ");
            lw_sgr(w, "33");
            lw_printf(w, "%d lost", p->workers_lost);
            lw_sgr(w, NULL);
        } else {
            lw_text(w, ", 0 lost");
        }
        lw_printf(w, "   learner %s", p->learner ? "up" : "down");
    }
    lw_end(w);

    /* counters and the time left */
    lw_printf(w, "rollouts %llu stored  %llu re-issued  %llu dup  %llu rejected  %llu refused",
              (unsigned long long)p->rollouts_done, (unsigned long long)p->reissued,
              (unsigned long long)p->duplicates, (unsigned long long)p->rejected,
              (unsigned long long)p->refused);
    double it_s = mean_iteration_s(v);
    if (isfinite(it_s) && !v->done && !p->eval && p->iteration < p->iterations) {
        /* iterations left, less the part of this one sampled so far (the
         * sampling phase's share of an iteration as in the last one, else half) */
        double left = (double)(p->iterations - p->iteration);
        double share = isfinite(v->sampling_share) ? v->sampling_share : 0.5;
        if (p->samples_total > 0 && !p->eval && p->iteration < p->iterations)
            left -= share * (double)p->samples_done / p->samples_total;
        char ls[32], is[32];
        fmt_duration(ls, sizeof ls, left > 0 ? left * it_s : 0);
        fmt_duration(is, sizeof is, it_s);
        lw_printf(w, "   time left ~%s (%s/it)", ls, is);
    }
    lw_end(w);

    /* per condition: cost sparkline, last cost, eta, step, KL */
    int sw = v->cfg.spark_width > 0 ? v->cfg.spark_width : W - 1 - 54;
    sw = sw < 4 ? 4 : sw > 40 ? 40 : sw;
    int last = v->last_it, first = last - sw + 1;
    if (first < 0) first = 0;
    lw_sgr(w, "1");
    lw_text(w, "cond  ");
    char ch[64];
    snprintf(ch, sizeof ch, "cost it %d..%d", first, last);
    lw_text(w, last >= 0 && (int)strlen(ch) <= sw + 1 ? ch : "cost");
    lw_pad(w, 6 + sw + 2);
    lw_printf(w, "%11s %10s %8s  %s", "last cost", "eta", "step", "kl/target");
    lw_sgr(w, NULL);
    lw_end(w);
    for (int m = 0; m < cl; m++) {
        if (more && m == cl - 1) {
            lw_printf(w, "...   (%d more condition%s)", M - m, M - m == 1 ? "" : "s");
            lw_end(w);
            break;
        }
        const cond_t *c = m < v->M ? &v->cond[m] : NULL;
        lw_printf(w, "c%-4d ", m);
        if (c && last >= 0) sparkline(w, c, first, last, ascii);
        lw_pad(w, 6 + sw + 2);
        char cs[32], es[32], st[32], kl[32], kt[32];
        fmt_num(cs, sizeof cs, 11, 6, c ? hist_get(&c->cost, last) : NAN);
        fmt_num(es, sizeof es, 10, 3, c ? c->eta : NAN);
        fmt_num(st, sizeof st, 8, 3, c ? c->step : NAN);
        fmt_num(kl, sizeof kl, 1, 3, c ? c->kl : NAN);
        fmt_num(kt, sizeof kt, 1, 3, c ? c->kl_target : NAN);
        lw_printf(w, "%s %s %s  %s/%s", cs, es, st, kl, kt);
        lw_end(w);
    }

    /* phase timings of the last iteration: the driver's first, then the
     * learner's phases, largest first */
    if (tl) {
        if (v->ntm == 0) {
            lw_text(w, "timings: none yet");
        } else {
            lw_printf(w, "timings it %d (ms):", v->last_it);
            for (int rank = 0; rank < 3; rank++)
                for (int i = 0; i < v->ntm; i++)
                    if (timing_rank(v->tm[i].name) == rank)
                        lw_printf(w, " %s %.0f", v->tm[i].name, v->tm[i].ms);
            bool used[MAX_TIMINGS] = {false};
            lw_text(w, " | learner");
            for (int i = 0; i < v->ntm; i++)
                if (strcmp(v->tm[i].name, "total") == 0) lw_printf(w, " %.0f", v->tm[i].ms);
            lw_text(w, ":");
            for (;;) {
                int best = -1;
                for (int i = 0; i < v->ntm; i++)
                    if (!used[i] && timing_rank(v->tm[i].name) < 0 &&
                        strcmp(v->tm[i].name, "total") != 0 &&
                        strcmp(v->tm[i].name, "parallel") != 0 &&
                        (best < 0 || v->tm[i].ms > v->tm[best].ms))
                        best = i;
                if (best < 0) break;
                used[best] = true;
                lw_printf(w, " %s %.0f", v->tm[best].name, v->tm[best].ms);
            }
        }
        lw_end(w);
    }

    /* warnings as they arrived, newest last */
    lw_printf(w, "warnings %ld, errors %ld", v->n_warn, v->n_err);
    if (v->nwarn > wl && wl > 0) lw_printf(w, " (last %d shown)", wl);
    lw_end(w);
    long n = v->nwarn < wl ? v->nwarn : wl;
    for (long i = 0; i < wl; i++) {
        long k = v->nwarn - n + i;
        if (i < n) {
            const warn_t *x = &v->warn[k % WARN_RING];
            lw_text(w, "  ");
            lw_sgr(w, x->level >= GPSC_LOG_ERROR ? "31" : "33");
            lw_text(w, x->text);
            lw_sgr(w, NULL);
        }
        lw_end(w);
    }
}

static void term_size(const gpsc_view_t *v, int *W, int *H)
{
    *W = v->cfg.width;
    *H = v->cfg.height;
    struct winsize ws;
    if ((*W <= 0 || *H <= 0) && ioctl(fileno(v->out), TIOCGWINSZ, &ws) == 0) {
        if (*W <= 0 && ws.ws_col > 0) *W = ws.ws_col;
        if (*H <= 0 && ws.ws_row > 0) *H = ws.ws_row - 1; /* the line the cursor rests on */
    }
    if (*W <= 0) *W = DEFAULT_WIDTH;
    if (*W < 20) *W = 20;
    if (*W > MAX_WIDTH) *W = MAX_WIDTH;
    if (*H < 0) *H = 0;
}

int gpsc_view_format(const gpsc_view_t *v, char *buf, size_t bufsz, double now)
{
    if (!v || !buf || bufsz == 0) return GPSC_EINVAL;
    lw_t w = {0};
    int W = v->cfg.width > 0 ? v->cfg.width : DEFAULT_WIDTH;
    if (W < 20) W = 20;
    if (W > MAX_WIDTH) W = MAX_WIDTH;
    build(v, now, &w, W, v->cfg.height > 0 ? v->cfg.height : 0);
    snprintf(buf, bufsz, "%s", w.buf ? w.buf : "");
    free(w.buf);
    return w.oom ? GPSC_ENOMEM : w.lines;
}

static void screen_draw(gpsc_view_t *v, double now)
{
    int W, H;
    term_size(v, &W, &H);
    lw_t w = {.color = v->cfg.color, .screen = true};
    if (v->drawn > 0)
        lw_rawf(&w, "\r\033[%dA", v->drawn);
    else if (!v->hidden)
        lw_raw(&w, "\033[?25l", 6);
    v->hidden = true;
    int before = w.lines;
    build(v, now, &w, W, H);
    int n = w.lines - before;
    if (n < v->drawn) lw_raw(&w, "\033[J", 3);
    if (w.buf) {
        fputs(w.buf, v->out);
        fflush(v->out);
    }
    free(w.buf);
    v->drawn = n;
    v->last_draw = now;
    v->dirty = false;
    v->drew = true;
}

void gpsc_view_tick(gpsc_view_t *v, double now)
{
    if (!v || v->mode != GPSC_VIEW_SCREEN) return;
    if (!v->dirty && !(v->drew && now - v->last_draw >= 1.0)) return;
    if (now - v->last_draw < v->cfg.redraw_s) return;
    screen_draw(v, now);
}

void gpsc_view_clear(gpsc_view_t *v)
{
    if (!v || v->mode != GPSC_VIEW_SCREEN || v->drawn == 0) return;
    fprintf(v->out, "\r\033[%dA\033[J", v->drawn);
    fflush(v->out);
    v->drawn = 0;
    v->dirty = true;
}

void gpsc_view_finish(gpsc_view_t *v, double now)
{
    if (!v || v->mode != GPSC_VIEW_SCREEN) return;
    if (v->dirty) screen_draw(v, now);
    if (v->hidden) {
        fputs("\033[?25h", v->out);
        fflush(v->out);
        v->hidden = false;
    }
}
