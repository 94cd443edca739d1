/* svg.c — SVG line/scatter/path plots (see svg.h). */
#include "coordinator/svg.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#define MAX_TICKS 64
#define FONT 11.0        /* px, tick labels and legend */
#define TITLE_FONT 13.0  /* px */
#define CHAR_W 6.6       /* estimated advance of one character at FONT px */
#define TITLE_CHAR_W 8.2 /* the same at TITLE_FONT px, bold */
#define LEGEND_ROW 16.0  /* px per legend entry */
#define LEGEND_SWATCH 24.0
#define LEGEND_MAX_CHARS 30 /* longer legend labels are shortened */
#define TICK_LEN 4.0

/* Okabe & Ito's colour-blind-safe set, then two Tableau colours */
static const char *const palette[GPSC_SVG_PALETTE] = {"#0072b2", "#e69f00", "#009e73", "#cc79a7",
                                                      "#d55e00", "#56b4e9", "#8c6d31", "#000000",
                                                      "#7f7f7f", "#bcbd22"};

typedef struct series {
    char *name;
    double *x, *y; /* (n) */
    size_t n;
    gpsc_svg_style_t st;
    bool hline; /* a horizontal line at hy */
    double hy;
} series_t;

struct gpsc_svg_plot {
    char id[64];
    char *title, *xlabel, *ylabel;
    double w, h; /* px */
    bool log_x, log_y, int_x, equal;
    series_t *s;
    size_t ns, cap;
};

/* one axis as laid out: range in transformed units (log10 on a log axis) */
typedef struct axis {
    bool log;
    double lo, hi;       /* transformed data range shown */
    double p0, p1;       /* pixel positions of lo and hi */
    int nt;              /* ticks */
    double t[MAX_TICKS]; /* tick positions, transformed units */
    char lab[MAX_TICKS][32];
    double label_w; /* widest tick label (px, estimated) */
} axis_t;

/* ------------------------------------------------------------------ styles */

gpsc_svg_style_t gpsc_svg_style(int color, gpsc_svg_line_t line, gpsc_svg_marker_t mark)
{
    gpsc_svg_style_t s;
    memset(&s, 0, sizeof s);
    s.color = color < 0 ? 0 : color;
    s.line = line;
    s.mark = mark;
    s.width = 1.6;
    s.marker_size = 3.0;
    s.alpha = 1.0;
    s.legend = true;
    return s;
}

static bool valid_rgb(const char *rgb)
{
    if (!rgb || rgb[0] != '#' || strlen(rgb) != 7) return false;
    for (int i = 1; i < 7; i++) {
        char c = rgb[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

gpsc_svg_style_t gpsc_svg_style_rgb(const char *rgb, gpsc_svg_line_t line, gpsc_svg_marker_t mark)
{
    gpsc_svg_style_t s = gpsc_svg_style(0, line, mark);
    s.color = -1;
    snprintf(s.rgb, sizeof s.rgb, "%s", valid_rgb(rgb) ? rgb : "#7f7f7f");
    return s;
}

const char *gpsc_svg_palette(int i)
{
    return i < 0 ? "#7f7f7f" : palette[i % GPSC_SVG_PALETTE];
}

static const char *style_color(const gpsc_svg_style_t *s)
{
    if (s->color >= 0) return gpsc_svg_palette(s->color);
    return valid_rgb(s->rgb) ? s->rgb : "#7f7f7f";
}

/* ------------------------------------------------------------------ plot object */

static bool valid_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > 63) return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static char *dup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

gpsc_svg_plot_t *gpsc_svg_plot_new(const char *id, const char *title)
{
    if (!valid_id(id)) return NULL;
    gpsc_svg_plot_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->id, sizeof p->id, "%s", id);
    p->w = 560;
    p->h = 340;
    if (title && !(p->title = dup(title))) {
        free(p);
        return NULL;
    }
    return p;
}

void gpsc_svg_plot_destroy(gpsc_svg_plot_t **pp)
{
    if (!pp || !*pp) return;
    gpsc_svg_plot_t *p = *pp;
    for (size_t i = 0; i < p->ns; i++) {
        free(p->s[i].name);
        free(p->s[i].x);
        free(p->s[i].y);
    }
    free(p->s);
    free(p->title);
    free(p->xlabel);
    free(p->ylabel);
    free(p);
    *pp = NULL;
}

int gpsc_svg_plot_labels(gpsc_svg_plot_t *p, const char *xlabel, const char *ylabel)
{
    char *x = dup(xlabel), *y = dup(ylabel);
    if ((xlabel && !x) || (ylabel && !y)) {
        free(x);
        free(y);
        return GPSC_ENOMEM;
    }
    free(p->xlabel);
    free(p->ylabel);
    p->xlabel = x;
    p->ylabel = y;
    return 0;
}

static double clampd(double v, double lo, double hi)
{
    return isnan(v) ? lo : v < lo ? lo : v > hi ? hi : v;
}

void gpsc_svg_plot_size(gpsc_svg_plot_t *p, double width, double height)
{
    p->w = clampd(width, 200, 4000);
    p->h = clampd(height, 150, 4000);
}

void gpsc_svg_plot_log(gpsc_svg_plot_t *p, bool log_x, bool log_y)
{
    p->log_x = log_x;
    p->log_y = log_y;
}

void gpsc_svg_plot_integer_x(gpsc_svg_plot_t *p, bool on)
{
    p->int_x = on;
}

void gpsc_svg_plot_equal_aspect(gpsc_svg_plot_t *p, bool on)
{
    p->equal = on;
}

static series_t *push(gpsc_svg_plot_t *p, const char *name, const gpsc_svg_style_t *style)
{
    if (p->ns == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        series_t *s = realloc(p->s, cap * sizeof *s);
        if (!s) return NULL;
        p->s = s;
        p->cap = cap;
    }
    series_t *s = &p->s[p->ns];
    memset(s, 0, sizeof *s);
    char def[32];
    snprintf(def, sizeof def, "series %zu", p->ns);
    s->name = dup(name && *name ? name : def);
    if (!s->name) return NULL;
    s->st = style ? *style
                  : gpsc_svg_style((int)(p->ns % GPSC_SVG_PALETTE), GPSC_SVG_LINE_SOLID,
                                   GPSC_SVG_MARK_NONE);
    if (!(s->st.width > 0 && s->st.width < 50)) s->st.width = 1.6;
    if (!(s->st.marker_size > 0 && s->st.marker_size < 50)) s->st.marker_size = 3.0;
    if (!(s->st.alpha > 0 && s->st.alpha <= 1)) s->st.alpha = 1.0;
    return s;
}

int gpsc_svg_plot_add(gpsc_svg_plot_t *p, const char *name, const double *x, const double *y,
                      size_t n, const gpsc_svg_style_t *style)
{
    if (!p || (n > 0 && (!x || !y))) return GPSC_EINVAL;
    series_t *s = push(p, name, style);
    if (!s) return GPSC_ENOMEM;
    if (n > 0) {
        s->x = malloc(n * sizeof(double));
        s->y = malloc(n * sizeof(double));
        if (!s->x || !s->y) {
            free(s->x);
            free(s->y);
            free(s->name);
            return GPSC_ENOMEM;
        }
        memcpy(s->x, x, n * sizeof(double));
        memcpy(s->y, y, n * sizeof(double));
    }
    s->n = n;
    p->ns++;
    return 0;
}

int gpsc_svg_plot_hline(gpsc_svg_plot_t *p, const char *name, double y,
                        const gpsc_svg_style_t *style)
{
    if (!p || !isfinite(y)) return GPSC_EINVAL;
    series_t *s = push(p, name, style);
    if (!s) return GPSC_ENOMEM;
    s->hline = true;
    s->hy = y;
    p->ns++;
    return 0;
}

size_t gpsc_svg_plot_n_series(const gpsc_svg_plot_t *p)
{
    return p ? p->ns : 0;
}

const char *gpsc_svg_plot_id(const gpsc_svg_plot_t *p)
{
    return p->id;
}

/* ------------------------------------------------------------------ escaping */

/* length of the valid UTF-8 sequence at s (1..4), 0 when invalid */
static int utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    int n;
    uint32_t cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    /* overlong, surrogates, beyond U+10FFFF, and the XML-invalid U+FFFE/FFFF */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
        return 0;
    return n;
}

void gpsc_svg_escape(FILE *f, const char *str)
{
    if (!str) return;
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned c = *s;
        switch (c) {
        case '&':
            fputs("&amp;", f);
            s++;
            continue;
        case '<':
            fputs("&lt;", f);
            s++;
            continue;
        case '>':
            fputs("&gt;", f);
            s++;
            continue;
        case '"':
            fputs("&quot;", f);
            s++;
            continue;
        case '\'':
            fputs("&#39;", f);
            s++;
            continue;
        default:
            break;
        }
        if (c < 0x20 && c != '\t' && c != '\n') {
            s++;
            continue;
        }
        int n = utf8_len(s);
        if (n == 0) {
            fputs("\xef\xbf\xbd", f);
            s++;
            continue;
        }
        fwrite(s, 1, (size_t)n, f);
        s += n;
    }
}

/* ------------------------------------------------------------------ ticks */

int gpsc_svg_ticks(double *out, int max, double *step, double lo, double hi, int target,
                   bool integer_step)
{
    if (!(isfinite(lo) && isfinite(hi) && hi > lo) || max <= 0 || target < 1) return 0;
    double raw = (hi - lo) / target;
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag, nice;
    if (norm < 1.5)
        nice = 1;
    else if (norm < 2.25)
        nice = 2;
    else if (norm < 3.5)
        nice = 2.5;
    else if (norm < 7.5)
        nice = 5;
    else
        nice = 10;
    double st = nice * mag;
    if (integer_step) {
        if (st < 1)
            st = 1;
        else if (st != floor(st))
            st = nice == 2.5 ? 2 * mag : ceil(st);
    }
    if (!(st > 0) || !isfinite(st)) return 0;
    *step = st;
    double first = ceil(lo / st - 1e-9);
    int n = 0;
    for (double k = first; n < max; k++) {
        double v = k * st;
        if (v > hi + 1e-9 * st) break;
        out[n++] = fabs(v) < 1e-12 * st ? 0.0 : v;
    }
    return n;
}

/* fewest decimals (0..12) that write x exactly enough */
static int decimals_of(double x)
{
    x = fabs(x);
    for (int d = 0; d < 12; d++) {
        double s = x * pow(10.0, d);
        if (fabs(s - nearbyint(s)) < 1e-6 * (s > 1 ? s : 1)) return d;
    }
    return 12;
}

/* "1.5e+06" -> "1.5e6", "2e-05" -> "2e-5" */
static void tidy_exponent(char *s)
{
    char *e = strchr(s, 'e');
    if (!e) return;
    char *src = e + 1, *dst = e + 1;
    if (*src == '+')
        src++;
    else if (*src == '-')
        *dst++ = *src++;
    while (*src == '0' && src[1])
        src++;
    memmove(dst, src, strlen(src) + 1);
}

void gpsc_svg_format_tick(char *out, size_t outsz, double v, double step)
{
    if (!isfinite(v)) {
        snprintf(out, outsz, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    step = fabs(step);
    if (!(step > 0) || !isfinite(step)) step = fabs(v) > 0 ? fabs(v) : 1;
    if (fabs(v) < 1e-9 * step) {
        snprintf(out, outsz, "0");
        return;
    }
    if (step < 1e-3 || step >= 1e5) {
        /* exponent notation: as many significant digits as the step needs */
        int ev = (int)floor(log10(fabs(v)));
        int d = decimals_of(step / pow(10.0, ev));
        if (d > 6) d = 6;
        snprintf(out, outsz, "%.*e", d, v);
        tidy_exponent(out);
        return;
    }
    int d = decimals_of(step);
    if (d > 8) d = 8;
    snprintf(out, outsz, "%.*f", d, v);
    if (strspn(out, "-0.") == strlen(out)) /* "-0.00" */
        snprintf(out, outsz, "0");
}

/* label of a log-axis tick at value v = m * 10^k */
static void format_log_tick(char *out, size_t outsz, double v)
{
    if (v >= 1e-3 && v < 1e5) {
        snprintf(out, outsz, "%.6g", v);
    } else {
        snprintf(out, outsz, "%.0e", v);
        tidy_exponent(out);
    }
}

/* ------------------------------------------------------------------ layout */

static double tf(bool log, double v)
{
    return log ? log10(v) : v;
}

static bool drawable(bool log, double v)
{
    return isfinite(v) && (!log || v > 0);
}

size_t gpsc_svg_plot_n_points(const gpsc_svg_plot_t *p)
{
    size_t n = 0;
    for (size_t i = 0; p && i < p->ns; i++)
        for (size_t j = 0; j < p->s[i].n; j++)
            n += drawable(p->log_x, p->s[i].x[j]) && drawable(p->log_y, p->s[i].y[j]);
    return n;
}

/* widens the ranges by one series; true when it has a drawable point */
static bool series_range(const series_t *s, bool lx, bool ly, double *x0, double *x1, double *y0,
                         double *y1, bool *any_x)
{
    if (s->hline) {
        if (!drawable(ly, s->hy)) return false;
        *y0 = fmin(*y0, tf(ly, s->hy));
        *y1 = fmax(*y1, tf(ly, s->hy));
        return true;
    }
    bool any = false;
    for (size_t j = 0; j < s->n; j++)
        if (drawable(lx, s->x[j]) && drawable(ly, s->y[j])) {
            *x0 = fmin(*x0, tf(lx, s->x[j]));
            *x1 = fmax(*x1, tf(lx, s->x[j]));
            *y0 = fmin(*y0, tf(ly, s->y[j]));
            *y1 = fmax(*y1, tf(ly, s->y[j]));
            any = *any_x = true;
        }
    return any;
}

/* transformed data ranges of the series that widen the ranges (of all
   series when none of those has a drawable point); false when nothing is
   drawable */
static bool data_range(const gpsc_svg_plot_t *p, bool lx, bool ly, double *x0, double *x1,
                       double *y0, double *y1, bool *any_x)
{
    for (int pass = 0; pass < 2; pass++) {
        *x0 = *y0 = INFINITY;
        *x1 = *y1 = -INFINITY;
        *any_x = false;
        bool any = false;
        for (size_t i = 0; i < p->ns; i++)
            if (pass == 1 || !p->s[i].st.no_range)
                any |= series_range(&p->s[i], lx, ly, x0, x1, y0, y1, any_x);
        if (any) return true;
    }
    return false;
}

/* whether any value of the axis is positive (a log axis needs one) */
static bool any_positive(const gpsc_svg_plot_t *p, bool xaxis)
{
    for (size_t i = 0; i < p->ns; i++) {
        const series_t *s = &p->s[i];
        if (s->hline) {
            if (!xaxis && s->hy > 0) return true;
            continue;
        }
        for (size_t j = 0; j < s->n; j++)
            if (isfinite(xaxis ? s->x[j] : s->y[j]) && (xaxis ? s->x[j] : s->y[j]) > 0) return true;
    }
    return false;
}

/* widens a degenerate range and adds a margin of `pad` of the span */
static void pad_range(double *lo, double *hi, bool log, bool integer, double pad)
{
    if (!(*hi > *lo)) {
        double c = *lo;
        double half = log ? 0.5 : integer ? 0.5 : (fabs(c) > 0 ? 0.1 * fabs(c) : 1.0);
        *lo = c - half;
        *hi = c + half;
        return;
    }
    double span = *hi - *lo;
    *lo -= pad * span;
    *hi += pad * span;
}

/* ticks and labels of an axis over its (transformed) range; len is the
   axis length (px) and gap the least distance between labels (px), used to
   thin the crowded upper end of linear ticks on a short log axis */
static void make_ticks(axis_t *a, bool integer, double len, double gap)
{
    a->nt = 0;
    double step = 0;
    if (!a->log || a->hi - a->lo < 0.9) {
        /* linear ticks (on a short log axis: nice values mapped by log10) */
        double lo = a->log ? pow(10.0, a->lo) : a->lo, hi = a->log ? pow(10.0, a->hi) : a->hi;
        double v[MAX_TICKS];
        int n = gpsc_svg_ticks(v, MAX_TICKS, &step, lo, hi, 6, integer && !a->log);
        double px_per = len / (a->hi - a->lo), last = -INFINITY;
        for (int i = 0; i < n; i++) {
            if (a->log && !(v[i] > 0)) continue;
            double t = a->log ? log10(v[i]) : v[i];
            if (a->log && (t - last) * px_per < gap) continue;
            last = t;
            a->t[a->nt] = t;
            gpsc_svg_format_tick(a->lab[a->nt], sizeof a->lab[0], v[i], step);
            a->nt++;
        }
    } else {
        /* decades, every k-th when there are many; 2 and 5 when few */
        int k0 = (int)ceil(a->lo - 1e-9), k1 = (int)floor(a->hi + 1e-9);
        int every = 1;
        while ((k1 - k0) / every + 1 > 7)
            every++;
        bool sub = k1 - k0 < 2;
        for (int k = k0 - 1; k <= k1 && a->nt < MAX_TICKS - 3; k++) {
            const double mult[3] = {1, 2, 5};
            for (int m = 0; m < (sub ? 3 : 1); m++) {
                double lv = k + log10(mult[m]);
                if (lv < a->lo - 1e-9 || lv > a->hi + 1e-9) continue;
                if (m == 0 && ((k % every) + every) % every != 0) continue;
                a->t[a->nt] = lv;
                format_log_tick(a->lab[a->nt], sizeof a->lab[0], mult[m] * pow(10.0, k));
                a->nt++;
            }
        }
    }
    a->label_w = 0;
    for (int i = 0; i < a->nt; i++) {
        double w = CHAR_W * (double)strlen(a->lab[i]);
        if (w > a->label_w) a->label_w = w;
    }
}

static double map(const axis_t *a, double v)
{
    return a->p0 + (tf(a->log, v) - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

static double mapt(const axis_t *a, double t)
{
    return a->p0 + (t - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

/* the whole layout of a plot */
typedef struct layout {
    axis_t x, y;
    double left, top, right, bottom; /* plot area edges (px) */
    bool empty;
    /* legend */
    size_t n_leg; /* entries */
    int leg_cols, leg_rows;
    double leg_x, leg_y; /* top-left */
    double leg_col_w;
    int leg_chars; /* label characters shown */
} layout_t;

static size_t legend_entries(const gpsc_svg_plot_t *p, size_t *maxlen)
{
    size_t n = 0;
    *maxlen = 0;
    for (size_t i = 0; i < p->ns; i++)
        if (p->s[i].st.legend) {
            n++;
            size_t l = strlen(p->s[i].name);
            if (l > *maxlen) *maxlen = l;
        }
    return n;
}

static void compute_layout(const gpsc_svg_plot_t *p, layout_t *L)
{
    memset(L, 0, sizeof *L);
    L->x.log = p->log_x && any_positive(p, true);
    L->y.log = p->log_y && any_positive(p, false);
    double x0, x1, y0, y1;
    bool any_x;
    L->empty = !data_range(p, L->x.log, L->y.log, &x0, &x1, &y0, &y1, &any_x);
    if (L->empty) {
        x0 = L->x.log ? 0 : 0;
        x1 = 1;
        y0 = 0;
        y1 = 1;
    } else if (!any_x) {
        /* only horizontal lines: an x range of [0, 1] */
        x0 = 0;
        x1 = 1;
    }
    if (p->equal && !L->x.log && !L->y.log) {
        /* a flat direction (a planar task's side view) gets a sliver of
           the other axis' span; equal aspect widens it afterwards */
        if (!(y1 > y0) && x1 > x0)
            y0 -= 1e-3 * (x1 - x0), y1 += 1e-3 * (x1 - x0);
        else if (!(x1 > x0) && y1 > y0)
            x0 -= 1e-3 * (y1 - y0), x1 += 1e-3 * (y1 - y0);
    }
    pad_range(&x0, &x1, L->x.log, p->int_x, 0.03);
    pad_range(&y0, &y1, L->y.log, false, 0.05);
    L->x.lo = x0, L->x.hi = x1, L->y.lo = y0, L->y.hi = y1;

    /* vertical extent: title, then the plot, then tick labels and x label */
    L->top = p->title ? 30 : 12;
    L->bottom = p->h - (FONT + 10 + (p->xlabel ? FONT + 10 : 0) + 6);

    /* legend on the right in as many columns as its height needs */
    size_t maxlen;
    L->n_leg = legend_entries(p, &maxlen);
    double right_pad = 16;
    if (L->n_leg > 0) {
        int rows = (int)floor((L->bottom - L->top) / LEGEND_ROW);
        if (rows < 1) rows = 1;
        L->leg_cols = (int)((L->n_leg + (size_t)rows - 1) / (size_t)rows);
        L->leg_rows = (int)((L->n_leg + (size_t)L->leg_cols - 1) / (size_t)L->leg_cols);
        L->leg_chars = (int)(maxlen < LEGEND_MAX_CHARS ? maxlen : LEGEND_MAX_CHARS);
        L->leg_col_w = LEGEND_SWATCH + 6 + CHAR_W * L->leg_chars + 12;
        /* at most half the width: shorten labels to fit */
        while (L->leg_cols * L->leg_col_w > 0.5 * p->w && L->leg_chars > 6) {
            L->leg_chars--;
            L->leg_col_w = LEGEND_SWATCH + 6 + CHAR_W * L->leg_chars + 12;
        }
        right_pad = L->leg_cols * L->leg_col_w + 10;
    }
    L->right = p->w - right_pad;

    /* tick labels set the left margin, the margin sets the plot width,
       which (with equal aspect) changes the ranges and so the labels: the
       margin only grows, so this settles in a few passes */
    L->left = 0;
    double ylen = L->bottom - L->top;
    for (int pass = 0; pass < 4; pass++) {
        make_ticks(&L->y, false, ylen, 16);
        double need = 8 + (p->ylabel ? FONT + 10 : 0) + L->y.label_w + TICK_LEN + 4;
        if (pass > 0 && need <= L->left) break;
        L->left = fmax(L->left, need);
        if (p->equal && !L->x.log && !L->y.log) {
            double pw = L->right - L->left, ph = L->bottom - L->top;
            double sx = pw / (x1 - x0), sy = ph / (y1 - y0), s = fmin(sx, sy);
            double cx = 0.5 * (x0 + x1), cy = 0.5 * (y0 + y1);
            L->x.lo = cx - 0.5 * pw / s, L->x.hi = cx + 0.5 * pw / s;
            L->y.lo = cy - 0.5 * ph / s, L->y.hi = cy + 0.5 * ph / s;
        }
    }
    make_ticks(&L->y, false, ylen, 16);
    make_ticks(&L->x, p->int_x, L->right - L->left, 48);
    L->x.p0 = L->left, L->x.p1 = L->right;
    L->y.p0 = L->bottom, L->y.p1 = L->top;
    L->leg_x = L->right + 10;
    L->leg_y = L->top;
}

/* ------------------------------------------------------------------ writing */

/* v rounded to the one decimal coordinates are written with; never -0, so
   "%.1f" of it never prints "-0.0" */
static double nz(double v)
{
    double r = nearbyint(v * 10.0) / 10.0;
    return r == 0 ? 0.0 : r;
}

static const char *dash_of(gpsc_svg_line_t l)
{
    switch (l) {
    case GPSC_SVG_LINE_DASHED:
        return "6,4";
    case GPSC_SVG_LINE_DOTTED:
        return "1.5,3";
    default:
        return NULL;
    }
}

/* one marker as a subpath (filled or stroked according to its kind) */
static void marker_path(FILE *f, gpsc_svg_marker_t m, double x, double y, double r)
{
    switch (m) {
    case GPSC_SVG_MARK_CIRCLE:
    case GPSC_SVG_MARK_RING:
        fprintf(f, "M%.1f %.1fa%.1f,%.1f 0 1,0 %.1f,0a%.1f,%.1f 0 1,0 %.1f,0", nz(x - r), nz(y),
                nz(r), nz(r), nz(2 * r), nz(r), nz(r), nz(-2 * r));
        break;
    case GPSC_SVG_MARK_SQUARE:
        fprintf(f, "M%.1f %.1fh%.1fv%.1fh%.1fz", nz(x - 0.9 * r), nz(y - 0.9 * r), nz(1.8 * r),
                nz(1.8 * r), nz(-1.8 * r));
        break;
    case GPSC_SVG_MARK_TRIANGLE:
        fprintf(f, "M%.1f %.1fL%.1f %.1fL%.1f %.1fz", nz(x), nz(y - 1.15 * r), nz(x + r),
                nz(y + 0.6 * r), nz(x - r), nz(y + 0.6 * r));
        break;
    case GPSC_SVG_MARK_DIAMOND:
        fprintf(f, "M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1fz", nz(x), nz(y - 1.2 * r), nz(x + r),
                nz(y), nz(x), nz(y + 1.2 * r), nz(x - r), nz(y));
        break;
    case GPSC_SVG_MARK_CROSS:
        fprintf(f, "M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f", nz(x - r), nz(y - r), nz(x + r),
                nz(y + r), nz(x - r), nz(y + r), nz(x + r), nz(y - r));
        break;
    case GPSC_SVG_MARK_PLUS:
        fprintf(f, "M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f", nz(x - 1.2 * r), nz(y),
                nz(x + 1.2 * r), nz(y), nz(x), nz(y - 1.2 * r), nz(x), nz(y + 1.2 * r));
        break;
    default:
        break;
    }
}

/* the attributes that draw marker kind m in colour col */
static void marker_paint(FILE *f, gpsc_svg_marker_t m, const char *col, double width)
{
    if (m == GPSC_SVG_MARK_CROSS || m == GPSC_SVG_MARK_PLUS)
        fprintf(f, " fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\"", col, nz(fmax(width, 1.5)));
    else if (m == GPSC_SVG_MARK_RING)
        fprintf(f, " fill=\"#ffffff\" stroke=\"%s\" stroke-width=\"1.5\"", col);
    else
        fprintf(f, " fill=\"%s\" stroke=\"none\"", col);
}

/* the attributes that draw a line of style st in colour col */
static void line_attrs(FILE *f, const gpsc_svg_style_t *st, const char *col)
{
    fprintf(f,
            " fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" stroke-linejoin=\"round\" "
            "stroke-linecap=\"round\"",
            col, nz(st->width));
    const char *d = dash_of(st->line);
    if (d) fprintf(f, " stroke-dasharray=\"%s\"", d);
}

static void write_series(FILE *f, const gpsc_svg_plot_t *p, const layout_t *L, size_t i)
{
    const series_t *s = &p->s[i];
    const char *col = style_color(&s->st);
    fputs("<g class=\"series\" data-series=\"", f);
    gpsc_svg_escape(f, s->name);
    fprintf(f, "\" data-index=\"%zu\"", i);
    if (s->st.alpha < 1) fprintf(f, " opacity=\"%.2f\"", s->st.alpha);
    fputs(">", f);

    /* the line, pen lifted at undrawable points */
    if (s->st.line != GPSC_SVG_LINE_NONE && s->hline && drawable(L->y.log, s->hy)) {
        fprintf(f, "<path d=\"M%.1f %.1fH%.1f\"", nz(L->left), nz(map(&L->y, s->hy)), nz(L->right));
        line_attrs(f, &s->st, col);
        fputs("/>", f);
    } else if (s->st.line != GPSC_SVG_LINE_NONE && !s->hline) {
        bool open = false, pen = false;
        for (size_t j = 0; j < s->n; j++) {
            if (!drawable(L->x.log, s->x[j]) || !drawable(L->y.log, s->y[j])) {
                pen = false;
                continue;
            }
            if (!open) fputs("<path d=\"", f);
            open = true;
            fprintf(f, "%c%.1f %.1f", pen ? 'L' : 'M', nz(map(&L->x, s->x[j])),
                    nz(map(&L->y, s->y[j])));
            pen = true;
        }
        if (open) {
            fputs("\"", f);
            line_attrs(f, &s->st, col);
            fputs("/>", f);
        }
    }

    /* markers: one path for all of them */
    if (s->st.mark != GPSC_SVG_MARK_NONE && !s->hline) {
        bool open = false;
        for (size_t j = 0; j < s->n; j++) {
            if (!drawable(L->x.log, s->x[j]) || !drawable(L->y.log, s->y[j])) continue;
            if (!open) fputs("<path class=\"markers\" d=\"", f);
            open = true;
            marker_path(f, s->st.mark, map(&L->x, s->x[j]), map(&L->y, s->y[j]), s->st.marker_size);
        }
        if (open) {
            fputs("\"", f);
            marker_paint(f, s->st.mark, col, s->st.width);
            fputs("/>", f);
        }
    }
    fputs("</g>\n", f);
}

/* a label shortened to n characters (UTF-8 aware; "…" marks the cut) */
static void write_label(FILE *f, const char *s, int n)
{
    size_t len = strlen(s), cut = 0;
    int chars = 0;
    while (cut < len && chars < n) {
        int l = utf8_len((const unsigned char *)s + cut);
        cut += l ? (size_t)l : 1;
        chars++;
    }
    if (cut >= len) {
        gpsc_svg_escape(f, s);
        return;
    }
    /* n - 1 characters and the ellipsis */
    size_t back = cut;
    while (back > 0 && ((unsigned char)s[back - 1] & 0xc0) == 0x80)
        back--;
    if (back > 0) back--;
    char *t = malloc(back + 1);
    if (!t) return;
    memcpy(t, s, back);
    t[back] = '\0';
    gpsc_svg_escape(f, t);
    fputs("\xe2\x80\xa6", f);
    free(t);
}

static void write_legend(FILE *f, const gpsc_svg_plot_t *p, const layout_t *L)
{
    if (L->n_leg == 0) return;
    fputs("<g class=\"legend\" font-size=\"11\">\n", f);
    size_t k = 0;
    for (size_t i = 0; i < p->ns; i++) {
        const series_t *s = &p->s[i];
        if (!s->st.legend) continue;
        int col = (int)(k / (size_t)L->leg_rows), row = (int)(k % (size_t)L->leg_rows);
        k++;
        double x = L->leg_x + col * L->leg_col_w, y = L->leg_y + row * LEGEND_ROW + 8;
        const char *c = style_color(&s->st);
        fputs("<g class=\"legend-item\" data-series=\"", f);
        gpsc_svg_escape(f, s->name);
        fputs("\"", f);
        if (s->st.alpha < 1) fprintf(f, " opacity=\"%.2f\"", s->st.alpha < 0.5 ? 0.5 : s->st.alpha);
        fputs(">", f);
        if (s->st.line != GPSC_SVG_LINE_NONE) {
            gpsc_svg_style_t st = s->st;
            st.width = fmax(st.width, 1.5);
            fprintf(f, "<path d=\"M%.1f %.1fh%.1f\"", nz(x), nz(y), nz(LEGEND_SWATCH));
            line_attrs(f, &st, c);
            fputs("/>", f);
        }
        if (s->st.mark != GPSC_SVG_MARK_NONE) {
            fputs("<path d=\"", f);
            marker_path(f, s->st.mark, x + 0.5 * LEGEND_SWATCH, y, s->st.marker_size);
            fputs("\"", f);
            marker_paint(f, s->st.mark, c, s->st.width);
            fputs("/>", f);
        }
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", nz(x + LEGEND_SWATCH + 6), nz(y + 4));
        write_label(f, s->name, L->leg_chars);
        fputs("</text></g>\n", f);
    }
    fputs("</g>\n", f);
}

static void write_axes(FILE *f, const gpsc_svg_plot_t *p, const layout_t *L)
{
    double pw = L->right - L->left, ph = L->bottom - L->top;
    fputs("<g class=\"axes\">\n", f);
    /* plot background and grid */
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fafafa\"/>\n",
            nz(L->left), nz(L->top), nz(pw), nz(ph));
    fputs("<path class=\"grid\" d=\"", f);
    for (int i = 0; i < L->x.nt; i++)
        fprintf(f, "M%.1f %.1fV%.1f", nz(mapt(&L->x, L->x.t[i])), nz(L->top), nz(L->bottom));
    for (int i = 0; i < L->y.nt; i++)
        fprintf(f, "M%.1f %.1fH%.1f", nz(L->left), nz(mapt(&L->y, L->y.t[i])), nz(L->right));
    fputs("\" stroke=\"#e3e3e3\" stroke-width=\"1\" fill=\"none\"/>\n", f);
    /* frame and ticks */
    fprintf(f,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
            "stroke=\"#555555\" stroke-width=\"1\"/>\n",
            nz(L->left), nz(L->top), nz(pw), nz(ph));
    fputs("<path class=\"ticks\" d=\"", f);
    for (int i = 0; i < L->x.nt; i++)
        fprintf(f, "M%.1f %.1fv%.1f", nz(mapt(&L->x, L->x.t[i])), nz(L->bottom), nz(TICK_LEN));
    for (int i = 0; i < L->y.nt; i++)
        fprintf(f, "M%.1f %.1fh%.1f", nz(L->left), nz(mapt(&L->y, L->y.t[i])), nz(-TICK_LEN));
    fputs("\" stroke=\"#555555\" stroke-width=\"1\" fill=\"none\"/>\n", f);
    /* tick labels */
    fputs("<g class=\"tick-labels\" fill=\"#333333\">\n", f);
    for (int i = 0; i < L->x.nt; i++) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                nz(mapt(&L->x, L->x.t[i])), nz(L->bottom + TICK_LEN + FONT + 1));
        gpsc_svg_escape(f, L->x.lab[i]);
        fputs("</text>\n", f);
    }
    for (int i = 0; i < L->y.nt; i++) {
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", nz(L->left - TICK_LEN - 3),
                nz(mapt(&L->y, L->y.t[i]) + 0.36 * FONT));
        gpsc_svg_escape(f, L->y.lab[i]);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
    /* axis labels */
    if (p->xlabel) {
        fprintf(f,
                "<text class=\"xlabel\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "font-size=\"12\">",
                nz(0.5 * (L->left + L->right)), nz(L->bottom + TICK_LEN + 2 * FONT + 12));
        gpsc_svg_escape(f, p->xlabel);
        fputs("</text>\n", f);
    }
    if (p->ylabel) {
        double x = nz(8 + FONT), y = nz(0.5 * (L->top + L->bottom));
        fprintf(f,
                "<text class=\"ylabel\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "font-size=\"12\" transform=\"rotate(-90 %.1f %.1f)\">",
                x, y, x, y);
        gpsc_svg_escape(f, p->ylabel);
        fputs("</text>\n", f);
    }
    fputs("</g>\n", f);
}

int gpsc_svg_plot_write(const gpsc_svg_plot_t *p, FILE *f)
{
    if (!p || !f) return GPSC_EINVAL;
    layout_t L;
    compute_layout(p, &L);
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s\" class=\"gpsc-plot\" "
            "data-series=\"%zu\" width=\"%.1f\" height=\"%.1f\" viewBox=\"0 0 %.1f %.1f\" "
            "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\">\n",
            p->id, p->ns, nz(p->w), nz(p->h), nz(p->w), nz(p->h));
    fputs("<title>", f);
    gpsc_svg_escape(f, p->title ? p->title : p->id);
    fputs("</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n", f);
    if (p->title) {
        /* centred, shortened to the figure width */
        int chars = (int)((p->w - 20) / TITLE_CHAR_W);
        fprintf(f,
                "<text class=\"title\" x=\"%.1f\" y=\"19\" text-anchor=\"middle\" "
                "font-size=\"13\" font-weight=\"bold\">",
                nz(0.5 * p->w));
        write_label(f, p->title, chars > 8 ? chars : 8);
        fputs("</text>\n", f);
    }
    write_axes(f, p, &L);
    fprintf(f,
            "<defs><clipPath id=\"%s-clip\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
            "height=\"%.1f\"/></clipPath></defs>\n",
            p->id, nz(L.left), nz(L.top), nz(L.right - L.left), nz(L.bottom - L.top));
    fprintf(f, "<g class=\"data\" clip-path=\"url(#%s-clip)\">\n", p->id);
    for (size_t i = 0; i < p->ns; i++)
        write_series(f, p, &L, i);
    fputs("</g>\n", f);
    if (L.empty)
        fprintf(f,
                "<text class=\"no-data\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                "fill=\"#888888\" font-size=\"14\">no data</text>\n",
                nz(0.5 * (L.left + L.right)), nz(0.5 * (L.top + L.bottom)));
    write_legend(f, p, &L);
    fputs("</svg>\n", f);
    return ferror(f) ? GPSC_EIO : 0;
}
