/* test_svg — the SVG plotting module (coordinator/svg.h): nice ticks and
 * their labels, escaping, well-formed and deterministic output with one
 * marked group per series, pen lifts at NaN and at non-positive values on a
 * log axis, equal aspect, clipped outliers, legend shortening, "no data". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "coordinator/svg.h"
#include "xmlcheck.h"

/* the plot as a string (malloc'd) */
static char *render(const gpsc_svg_plot_t *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(gpsc_svg_plot_write(p, f), 0);
    fclose(f);
    return buf;
}

static char *escaped(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    gpsc_svg_escape(f, s);
    fclose(f);
    return buf;
}

static void assert_xml(const char *s)
{
    char err[256] = "";
    long at = xmlcheck(s, err, sizeof err);
    if (at) print_error("not well-formed at byte %ld: %s\n%.200s\n", at - 1, err, s + at - 1);
    assert_int_equal(at, 0);
}

/* the body of the series group with data-series="name" (malloc'd) */
static char *series_group(const char *svg, const char *name)
{
    char key[256];
    snprintf(key, sizeof key, "<g class=\"series\" data-series=\"%s\"", name);
    const char *a = strstr(svg, key);
    assert_non_null(a);
    const char *b = strstr(a, "</g>");
    assert_non_null(b);
    char *s = strndup(a, (size_t)(b - a));
    assert_non_null(s);
    return s;
}

static void test_ticks(void **state)
{
    (void)state;
    double t[64], step = 0;
    int n = gpsc_svg_ticks(t, 64, &step, 0, 1, 5, false);
    assert_int_equal(n, 6);
    assert_true(fabs(step - 0.2) < 1e-12);
    for (int i = 0; i < n; i++)
        assert_true(fabs(t[i] - 0.2 * i) < 1e-12);

    /* ticks lie inside the range, are evenly spaced and include 0 exactly */
    n = gpsc_svg_ticks(t, 64, &step, -3.2, 7.9, 6, false);
    assert_true(n >= 4 && n <= 12);
    assert_true(fabs(step - 2) < 1e-12);
    assert_true(t[0] >= -3.2 && t[n - 1] <= 7.9);
    bool zero = false;
    for (int i = 0; i < n; i++)
        zero |= t[i] == 0.0 && !signbit(t[i]);
    assert_true(zero);

    /* 2.5 steps, and whole steps on an integer axis */
    n = gpsc_svg_ticks(t, 64, &step, 0, 15, 5, false);
    assert_true(fabs(step - 2.5) < 1e-12);
    n = gpsc_svg_ticks(t, 64, &step, 0, 15, 5, true);
    assert_true(step == 2 || step == 5);
    n = gpsc_svg_ticks(t, 64, &step, -0.1, 2.1, 6, true);
    assert_true(step == 1);
    assert_int_equal(n, 3);

    /* tiny and huge ranges */
    n = gpsc_svg_ticks(t, 64, &step, 1e-9, 5e-9, 4, false);
    assert_true(n >= 3 && step > 0 && step < 2e-9);
    n = gpsc_svg_ticks(t, 64, &step, -3e7, 2e7, 5, false);
    assert_true(n >= 3 && step == 1e7);

    /* bad ranges and capacity */
    assert_int_equal(gpsc_svg_ticks(t, 64, &step, 1, 1, 5, false), 0);
    assert_int_equal(gpsc_svg_ticks(t, 64, &step, 2, 1, 5, false), 0);
    assert_int_equal(gpsc_svg_ticks(t, 64, &step, NAN, 1, 5, false), 0);
    assert_int_equal(gpsc_svg_ticks(t, 64, &step, 0, INFINITY, 5, false), 0);
    assert_int_equal(gpsc_svg_ticks(t, 3, &step, 0, 1, 5, false), 3);
}

static void test_format_tick(void **state)
{
    (void)state;
    struct {
        double v, step;
        const char *want;
    } c[] = {{0.5, 0.1, "0.5"},
             {0.6000000000000001, 0.2, "0.6"},
             {1e-17, 0.2, "0"},
             {-0.0, 1, "0"},
             {-1e-13, 0.5, "0"},
             {2.5, 2.5, "2.5"},
             {0.25, 0.25, "0.25"},
             {100, 50, "100"},
             {-300, 50, "-300"},
             {1500000, 500000, "1.5e6"},
             {2e7, 1e7, "2e7"},
             {0.00025, 0.00005, "2.5e-4"},
             {0.0004, 0.0002, "4e-4"},
             {12.5, 2.5, "12.5"},
             {3, 1, "3"},
             {0.002, 0.001, "0.002"}};
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char out[32];
        gpsc_svg_format_tick(out, sizeof out, c[i].v, c[i].step);
        if (strcmp(out, c[i].want) != 0)
            print_error("format_tick(%g, %g) = '%s', want '%s'\n", c[i].v, c[i].step, out,
                        c[i].want);
        assert_string_equal(out, c[i].want);
    }
}

static void test_escape(void **state)
{
    (void)state;
    char *s = escaped("a<b&c>\"d'e");
    assert_string_equal(s, "a&lt;b&amp;c&gt;&quot;d&#39;e");
    free(s);
    /* control characters go, tab and newline stay, UTF-8 stays */
    s = escaped("x\x01y\tz\n\xc3\xa9\xe2\x80\xa6");
    assert_string_equal(s, "xy\tz\n\xc3\xa9\xe2\x80\xa6");
    free(s);
    /* invalid UTF-8 (a stray continuation byte, a truncated sequence, an
       overlong '/', a surrogate) becomes U+FFFD */
    s = escaped("a\x80"
                "b\xc3"
                "c\xc0\xaf"
                "d\xed\xa0\x80");
    assert_string_equal(s, "a\xef\xbf\xbd"
                           "b\xef\xbf\xbd"
                           "c\xef\xbf\xbd\xef\xbf\xbd"
                           "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    free(s);
    s = escaped(NULL);
    assert_true(s == NULL || *s == '\0');
    free(s);
}

static void test_plot_structure(void **state)
{
    (void)state;
    assert_null(gpsc_svg_plot_new("bad id", NULL));
    assert_null(gpsc_svg_plot_new("", NULL));
    assert_null(gpsc_svg_plot_new(NULL, NULL));

    gpsc_svg_plot_t *p = gpsc_svg_plot_new("fig-1", "Cost <per> iteration & more");
    assert_non_null(p);
    assert_int_equal(gpsc_svg_plot_labels(p, "iteration", "cost \"sum\""), 0);
    gpsc_svg_plot_integer_x(p, true);
    double x[5] = {0, 1, 2, 3, 4}, y[5] = {5, 4, NAN, 2, 1}, y2[5] = {6, 5, 4, 3, 2};
    gpsc_svg_style_t st = gpsc_svg_style(0, GPSC_SVG_LINE_SOLID, GPSC_SVG_MARK_CIRCLE);
    assert_int_equal(gpsc_svg_plot_add(p, "c0 <a>", x, y, 5, &st), 0);
    assert_int_equal(gpsc_svg_plot_add(p, "c1", x, y2, 5, NULL), 0);
    st = gpsc_svg_style_rgb("#000000", GPSC_SVG_LINE_DASHED, GPSC_SVG_MARK_NONE);
    assert_int_equal(gpsc_svg_plot_hline(p, "threshold", 3.5, &st), 0);
    assert_int_equal(gpsc_svg_plot_hline(p, "bad", NAN, &st), GPSC_EINVAL);
    assert_int_equal(gpsc_svg_plot_add(p, "bad", NULL, y, 5, NULL), GPSC_EINVAL);
    assert_int_equal(gpsc_svg_plot_add(p, "", NULL, NULL, 0, NULL), 0); /* empty series */
    assert_int_equal((int)gpsc_svg_plot_n_series(p), 4);
    assert_int_equal((int)gpsc_svg_plot_n_points(p), 9);
    assert_string_equal(gpsc_svg_plot_id(p), "fig-1");

    char *s = render(p);
    assert_xml(s);
    assert_non_null(strstr(s, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"fig-1\""));
    assert_non_null(strstr(s, "data-series=\"4\""));
    assert_int_equal(xmlcount(s, "<g class=\"series\""), 4);
    assert_int_equal(xmlcount(s, "<g class=\"legend-item\""), 4);
    assert_non_null(strstr(s, "data-series=\"c0 &lt;a&gt;\""));
    assert_non_null(strstr(s, "data-series=\"series 3\"")); /* the unnamed one */
    assert_non_null(strstr(s, "Cost &lt;per&gt; iteration &amp; more"));
    assert_non_null(strstr(s, "cost &quot;sum&quot;"));
    assert_non_null(strstr(s, "clip-path=\"url(#fig-1-clip)\""));
    assert_null(strstr(s, "no data"));
    assert_null(strstr(s, "nan"));
    assert_null(strstr(s, "inf"));

    /* the NaN lifts the pen: c0's line has two subpaths, c1's one */
    char *g = series_group(s, "c0 &lt;a&gt;");
    const char *d = strstr(g, "<path d=\"");
    assert_non_null(d);
    int moves = 0;
    for (const char *c = d + 9; *c && *c != '"'; c++)
        moves += *c == 'M';
    assert_int_equal(moves, 2);
    /* four markers (circles: two arcs each) */
    const char *mk = strstr(g, "class=\"markers\"");
    assert_non_null(mk);
    assert_int_equal(xmlcount(mk, "a3.0,3.0"), 8);
    free(g);
    g = series_group(s, "threshold");
    assert_non_null(strstr(g, "stroke-dasharray"));
    assert_non_null(strstr(g, "stroke=\"#000000\""));
    free(g);

    /* deterministic */
    char *s2 = render(p);
    assert_string_equal(s, s2);
    free(s2);
    free(s);
    gpsc_svg_plot_destroy(&p);
    assert_null(p);
    gpsc_svg_plot_destroy(&p); /* NULL is fine */
    gpsc_svg_plot_destroy(NULL);
}

static void test_log_axis(void **state)
{
    (void)state;
    gpsc_svg_plot_t *p = gpsc_svg_plot_new("logp", NULL);
    assert_non_null(p);
    gpsc_svg_plot_log(p, false, true);
    double x[6] = {0, 1, 2, 3, 4, 5}, y[6] = {1e-3, 1e-2, 0, 1, -5, 100};
    assert_int_equal(gpsc_svg_plot_add(p, "a", x, y, 6, NULL), 0);
    /* 0 and -5 are not drawable on a log axis */
    assert_int_equal((int)gpsc_svg_plot_n_points(p), 4);
    char *s = render(p);
    assert_xml(s);
    /* decade ticks with readable labels */
    assert_non_null(strstr(s, ">0.001</text>"));
    assert_non_null(strstr(s, ">1</text>"));
    assert_non_null(strstr(s, ">100</text>"));
    char *g = series_group(s, "a");
    int moves = 0;
    for (const char *c = strstr(g, "d=\"") + 3; *c && *c != '"'; c++)
        moves += *c == 'M';
    assert_int_equal(moves, 3); /* [1e-3, 1e-2] [1] [100] */
    free(g);
    free(s);
    gpsc_svg_plot_destroy(&p);

    /* a log axis over less than a decade still has labelled ticks */
    p = gpsc_svg_plot_new("short", NULL);
    gpsc_svg_plot_log(p, false, true);
    double y2[3] = {40, 60, 80};
    assert_int_equal(gpsc_svg_plot_add(p, "b", x, y2, 3, NULL), 0);
    s = render(p);
    assert_xml(s);
    assert_true(xmlcount(s, "text-anchor=\"end\"") >= 2);
    free(s);
    gpsc_svg_plot_destroy(&p);

    /* no positive value: falls back to a linear axis */
    p = gpsc_svg_plot_new("neg", NULL);
    gpsc_svg_plot_log(p, false, true);
    double y3[3] = {-1, -2, -3};
    assert_int_equal(gpsc_svg_plot_add(p, "c", x, y3, 3, NULL), 0);
    s = render(p);
    assert_xml(s);
    assert_null(strstr(s, "no data"));
    free(s);
    gpsc_svg_plot_destroy(&p);
}

/* the (x, y) pairs of the first <path d="M.. L.."> of a group */
static int path_points(const char *g, double *xy, int max)
{
    const char *d = strstr(g, "<path d=\"");
    assert_non_null(d);
    d += 9;
    int n = 0;
    while (*d && *d != '"' && n < max) {
        assert_true(*d == 'M' || *d == 'L');
        char *end;
        xy[2 * n] = strtod(d + 1, &end);
        xy[2 * n + 1] = strtod(end, &end);
        n++;
        d = end;
    }
    return n;
}

static void test_equal_aspect(void **state)
{
    (void)state;
    /* a unit square in a wide figure, and a flat (planar) path */
    gpsc_svg_plot_t *p = gpsc_svg_plot_new("sq", "square");
    gpsc_svg_plot_size(p, 600, 300);
    gpsc_svg_plot_equal_aspect(p, true);
    double x[5] = {0, 1, 1, 0, 0}, y[5] = {0, 0, 1, 1, 0};
    assert_int_equal(gpsc_svg_plot_add(p, "square", x, y, 5, NULL), 0);
    char *s = render(p);
    assert_xml(s);
    char *g = series_group(s, "square");
    double xy[10];
    assert_int_equal(path_points(g, xy, 5), 5);
    double w = fabs(xy[2] - xy[0]), h = fabs(xy[5] - xy[3]);
    assert_true(w > 50);
    assert_true(fabs(w - h) <= 0.2);
    free(g);
    free(s);
    gpsc_svg_plot_destroy(&p);

    /* z constant: the flat axis takes the other's scale, not [-1, 1] */
    p = gpsc_svg_plot_new("flat", NULL);
    gpsc_svg_plot_equal_aspect(p, true);
    double fx[3] = {0.1, 0.2, 0.3}, fz[3] = {0, 0, 0};
    assert_int_equal(gpsc_svg_plot_add(p, "flat", fx, fz, 3, NULL), 0);
    s = render(p);
    assert_xml(s);
    g = series_group(s, "flat");
    assert_int_equal(path_points(g, xy, 3), 3);
    assert_true(fabs(xy[4] - xy[0]) > 200); /* the 0.2 m span fills the width */
    free(g);
    free(s);
    gpsc_svg_plot_destroy(&p);
}

static void test_no_range(void **state)
{
    (void)state;
    /* an outlying prediction does not squash the other series */
    gpsc_svg_plot_t *p = gpsc_svg_plot_new("clip", NULL);
    double x[3] = {0, 1, 2}, y[3] = {1, 2, 3}, yo[3] = {1, -1000, 3};
    assert_int_equal(gpsc_svg_plot_add(p, "main", x, y, 3, NULL), 0);
    gpsc_svg_style_t st = gpsc_svg_style(1, GPSC_SVG_LINE_DASHED, GPSC_SVG_MARK_NONE);
    st.no_range = true;
    assert_int_equal(gpsc_svg_plot_add(p, "pred", x, yo, 3, &st), 0);
    char *s = render(p);
    assert_xml(s);
    assert_null(strstr(s, ">-1000</text>"));
    assert_null(strstr(s, ">-500</text>"));
    char *g = series_group(s, "main");
    double xy[6];
    assert_int_equal(path_points(g, xy, 3), 3);
    assert_true(fabs(xy[1] - xy[5]) > 150); /* main spans most of the height */
    free(g);
    free(s);
    gpsc_svg_plot_destroy(&p);

    /* only no_range series: they set the range after all */
    p = gpsc_svg_plot_new("only", NULL);
    assert_int_equal(gpsc_svg_plot_add(p, "pred", x, yo, 3, &st), 0);
    s = render(p);
    assert_non_null(strstr(s, ">-1000</text>"));
    free(s);
    gpsc_svg_plot_destroy(&p);
}

static void test_legend_and_empty(void **state)
{
    (void)state;
    gpsc_svg_plot_t *p = gpsc_svg_plot_new("many", "a title that is very long indeed and "
                                                   "goes on and on past the width of the "
                                                   "figure so it must be shortened somehow");
    const char *longname = "a series name that is much longer than a legend should show";
    double x[2] = {0, 1}, y[2] = {0, 1};
    assert_int_equal(gpsc_svg_plot_add(p, longname, x, y, 2, NULL), 0);
    /* many entries: several legend columns, every entry drawn */
    for (int i = 0; i < 40; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        gpsc_svg_style_t st =
            gpsc_svg_style(i, GPSC_SVG_LINE_DOTTED, GPSC_SVG_MARK_DIAMOND + i % 4);
        assert_int_equal(gpsc_svg_plot_add(p, name, x, y, 2, &st), 0);
    }
    gpsc_svg_style_t hidden = gpsc_svg_style(0, GPSC_SVG_LINE_SOLID, GPSC_SVG_MARK_NONE);
    hidden.legend = false;
    assert_int_equal(gpsc_svg_plot_add(p, "hidden", x, y, 2, &hidden), 0);
    char *s = render(p);
    assert_xml(s);
    assert_int_equal(xmlcount(s, "<g class=\"series\""), 42);
    assert_int_equal(xmlcount(s, "<g class=\"legend-item\""), 41);
    /* the full name in the attribute, a shortened one in the text */
    char key[128];
    snprintf(key, sizeof key, "data-series=\"%s\"", longname);
    assert_int_equal(xmlcount(s, key), 2);
    snprintf(key, sizeof key, ">%s</text>", longname);
    assert_null(strstr(s, key));
    assert_true(xmlcount(s, "\xe2\x80\xa6</text>") >= 2); /* legend entry and title */
    free(s);
    gpsc_svg_plot_destroy(&p);

    /* nothing drawable */
    p = gpsc_svg_plot_new("empty", "empty");
    double n[2] = {NAN, NAN};
    assert_int_equal(gpsc_svg_plot_add(p, "nothing", n, n, 2, NULL), 0);
    assert_int_equal((int)gpsc_svg_plot_n_points(p), 0);
    s = render(p);
    assert_xml(s);
    assert_non_null(strstr(s, ">no data</text>"));
    assert_int_equal(xmlcount(s, "<g class=\"series\""), 1);
    free(s);
    gpsc_svg_plot_destroy(&p);

    /* a constant series gets a usable range */
    p = gpsc_svg_plot_new("const", NULL);
    double c[2] = {-290, -290};
    assert_int_equal(gpsc_svg_plot_add(p, "const", x, c, 2, NULL), 0);
    s = render(p);
    assert_xml(s);
    assert_true(xmlcount(s, "text-anchor=\"end\"") >= 3);
    free(s);
    gpsc_svg_plot_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ticks),    cmocka_unit_test(test_format_tick),
        cmocka_unit_test(test_escape),   cmocka_unit_test(test_plot_structure),
        cmocka_unit_test(test_log_axis), cmocka_unit_test(test_equal_aspect),
        cmocka_unit_test(test_no_range), cmocka_unit_test(test_legend_and_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
