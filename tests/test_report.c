/* test_report — the HTML report (coordinator/report.h) of a synthetic run
 * directory built from known data: config.yaml, metrics.jsonl (with a
 * bad line, a line without an iteration and a replaced iteration),
 * checkpoints written with common/checkpoint.h whose sample buffers hold
 * end-effector points relative to the target, eval.json and log.jsonl.
 * Checks the figures and their series counts, that the HTML references
 * every figure, that every SVG is well-formed, that the paths are drawn in
 * the world frame (each path ends on its target), the summary, evaluation
 * and log tables, warnings, determinism, the files written with a figures
 * directory, and the errors for missing or invalid run directories.
 *
 * `test_report --make-run-dir DIR` only writes the synthetic run directory
 * (the system test's fallback when gpsc-solo is not built). */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/checkpoint.h"
#include "common/error.h"
#include "coordinator/report.h"
#include "xmlcheck.h"

/* ---- the synthetic run ------------------------------------------------ */

#define M 2   /* training conditions */
#define NS 3  /* samples per condition */
#define TT 4  /* steps */
#define DX 16 /* 2 qpos + 2 qvel + 6 ee + 6 ee velocities */
#define DU 2
#define X_EE 4  /* offset of the ee block */
#define POINT 1 /* success.point: the second site */

static const char *config_yaml = "name: synth\n"
                                 "model: none.xml\n"
                                 "T: 4\n"
                                 "dt: 0.1\n"
                                 "state:\n"
                                 "  qpos_joints: [j0, j1]\n"
                                 "  qvel_joints: [j0, j1]\n"
                                 "  ee_sites: [tip, tail]\n"
                                 "  ee_velocities: true\n"
                                 "  ee_relative_to_target: true\n"
                                 "action:\n"
                                 "  actuators: [a0, a1]\n"
                                 "conditions:\n"
                                 "  train:\n"
                                 "    - target: [5, 5, 5, 0.1, -0.05, 0.2]\n"
                                 "    - target: [5, 5, 5, 0.2, -0.05, 0.2]\n"
                                 "  test:\n"
                                 "    - target: [5, 5, 5, -0.1, 0.1, 0.25]\n"
                                 "cost:\n"
                                 "  - type: action\n"
                                 "    wu: 1.0\n"
                                 "init_controller:\n"
                                 "  type: init_pd\n"
                                 "success:\n"
                                 "  metric: final_ee_distance\n"
                                 "  point: 1\n"
                                 "  threshold: 0.05\n"
                                 "algorithm:\n"
                                 "  type: trajopt\n"
                                 "  iterations: 5\n"
                                 "  samples: 3\n"
                                 "  seed: 7\n";

/* relative ee point 1 of sample n of condition m at iteration it, step t:
   it reaches the target at t = T-1; iteration 0 is offset by 1 m */
static void rel_point(double out[3], int it, int m, int n, int t)
{
    double s = (double)(TT - 1 - t);
    out[0] = s * 0.01 * (n + 1) + (it == 0 ? 1.0 : 0.0);
    out[1] = s * 0.02;
    out[2] = s * 0.003 * (m + 1);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* a checkpoint after `iteration` iterations whose buffers hold the
   samples of iterations its[0..nit-1] */
static void write_checkpoint(const char *dir, int iteration, const int *its, int nit)
{
    gpsc_checkpoint_t *ck = gpsc_checkpoint_new();
    assert_non_null(ck);
    Gpsc__Checkpoint *c = gpsc_checkpoint_msg(ck);
    c->iteration = (uint32_t)iteration;
    c->run_seed = 7;
    c->config_hash = gpsc_checkpoint_strdup(ck, "fnv1a64:0123456789abcdef");
    c->run_id = gpsc_checkpoint_strdup(ck, "synth-s7-01234567");
    c->algorithm = gpsc_checkpoint_strdup(ck, "trajopt");
    c->condition_count = M;
    int N = NS * nit;
    double *X = calloc((size_t)N * TT * DX, sizeof(double));
    double *U = calloc((size_t)N * TT * DU, sizeof(double));
    Gpsc__TaskKey *keys = calloc((size_t)N, sizeof *keys);
    assert_true(X && U && keys);
    for (int m = 0; m < M; m++) {
        Gpsc__ConditionState *cs = gpsc_checkpoint_alloc(ck, sizeof *cs);
        assert_non_null(cs);
        *cs = (Gpsc__ConditionState)GPSC__CONDITION_STATE__INIT;
        cs->condition = (uint32_t)m;
        cs->eta = cs->step_mult = cs->kl_step = 1;
        if (nit > 0) {
            for (int k = 0; k < nit; k++)
                for (int n = 0; n < NS; n++) {
                    int j = k * NS + n;
                    keys[j] = (Gpsc__TaskKey)GPSC__TASK_KEY__INIT;
                    keys[j].iteration = (uint32_t)its[k];
                    keys[j].condition = (uint32_t)m;
                    keys[j].sample_index = (uint32_t)n;
                    for (int t = 0; t < TT; t++) {
                        double *x = X + ((size_t)j * TT + t) * DX;
                        for (int i = 0; i < DX; i++)
                            x[i] = 99; /* point 0 and everything else: far away */
                        rel_point(x + X_EE + 3 * POINT, its[k], m, n, t);
                    }
                }
            Gpsc__GmmPrior *gp = gpsc_checkpoint_alloc(ck, sizeof *gp);
            assert_non_null(gp);
            *gp = (Gpsc__GmmPrior)GPSC__GMM_PRIOR__INIT;
            gp->samples = gpsc_checkpoint_put_samples(ck, X, U, NULL, keys, N, TT, DX, DU, 0);
            assert_non_null(gp->samples);
            cs->dynamics_prior = gp;
        }
        assert_int_equal(gpsc_checkpoint_append(ck, (void ***)&c->conditions, &c->n_conditions, cs),
                         0);
    }
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/checkpoints/iter_%04d.pb", dir, iteration);
    int rc = gpsc_checkpoint_write(ck, path, err, sizeof err);
    if (rc) print_error("%s\n", err);
    assert_int_equal(rc, 0);
    gpsc_checkpoint_destroy(&ck);
    free(X);
    free(U);
    free(keys);
}

static void metrics_line(FILE *f, int k, double c0_cost)
{
    fprintf(f, "{\"iteration\":%d,\"sample_cost\":%g,\"successes\":%d,\"samples\":%d,", k, c0_cost,
            k, M * NS);
    fprintf(f, "\"unknown_field\":{\"a\":[1,2]},\"conditions\":[");
    for (int m = 0; m < M; m++) {
        fprintf(f,
                "%s{\"condition\":%d,\"sample_cost\":%g,\"expected_cost\":%g,\"kl\":%g,"
                "\"kl_target\":1,\"eta\":%g,\"step_mult\":%g,\"final_distance\":%g,"
                "\"successes\":%d",
                m ? "," : "", m, m ? 100 - 10 * k + 1 : c0_cost, 95 - 10.0 * k, 0.5 + k,
                pow(10, k - 1), k ? 2.0 : 1.0, 0.1 / (k + 1), m ? 0 : k);
        if (k > 0)
            fprintf(f, ",\"global_cost\":%g,\"global_cost_bound\":%g", 90 - 5.0 * k, 120 - 5.0 * k);
        fprintf(f, "}");
    }
    fprintf(f, "],\"ms\":{\"cost\":1.5,\"cstep\":2,\"sampling\":100,\"iteration\":300,"
               "\"extra_phase\":7}}\n");
}

static void make_run_dir(const char *dir)
{
    char path[1024];
    assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
    write_text(dir, "config.yaml", config_yaml);

    /* metrics: iteration 2 first written wrong (999), then again (a resume) */
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    metrics_line(f, 0, 100);
    fputs("this is not json\n", f);
    metrics_line(f, 1, 90);
    metrics_line(f, 2, 999);
    fputs("{\"no_iteration\":1}\n\n", f);
    metrics_line(f, 2, 80);
    assert_int_equal(fclose(f), 0);

    int it0[1] = {0}, it12[2] = {1, 2};
    write_checkpoint(dir, 0, NULL, 0);
    write_checkpoint(dir, 1, it0, 1);
    write_checkpoint(dir, 3, it12, 2);

    /* eval: global policy on c0 (2 paths) and the test condition (1 path),
       the local controller of c1 without paths, and a result without a
       condition */
    snprintf(path, sizeof path, "%s/eval.json", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "{\"format\":\"gpsc-eval/1\",\"checkpoint\":\"checkpoints/iter_0003.pb\","
               "\"iteration\":3,\"metric\":\"final_ee_distance\",\"threshold\":0.05,"
               "\"point\":1,\"results\":[");
    fprintf(f, "{\"condition\":0,\"split\":\"train\",\"policy\":\"global\",\"noiseless\":true,"
               "\"rollouts\":2,\"mean_cost\":77.5,\"final_distance\":0.04,\"successes\":1,"
               "\"ee\":[[[0.1,0,0.2],[0.1,-0.01,0.2],[0.1,-0.03,0.2],[0.1,-0.05,0.2]],"
               "[[0.12,0,0.2],[0.1,-0.01,0.2],[0.1,-0.03,0.2],[0.1,-0.04,0.2]]]},");
    fprintf(f, "{\"condition\":2,\"split\":\"test\",\"policy\":\"global\",\"rollouts\":1,"
               "\"mean_cost\":81.25,\"final_distance\":0.03,\"successes\":1,"
               "\"ee\":[[[0,0,0.25],[-0.05,0.05,0.25],[-0.08,0.08,0.25],[-0.1,0.1,0.25]]]},");
    fprintf(f, "{\"condition\":1,\"policy\":\"local\",\"rollouts\":2,\"mean_cost\":70,"
               "\"final_distance\":0.2,\"successes\":0,\"new_field\":true},");
    fprintf(f, "{\"policy\":\"global\",\"rollouts\":1}]}\n");
    assert_int_equal(fclose(f), 0);

    write_text(dir, "log.jsonl",
               "{\"time\":\"2024-05-01T12:00:00.000Z\",\"level\":\"info\",\"role\":\"worker\","
               "\"pid\":1,\"run_id\":\"r\",\"iteration\":0,\"msg\":\"hello\"}\n"
               "{\"time\":\"2024-05-01T12:00:01.000Z\",\"level\":\"warn\",\"role\":"
               "\"coordinator\",\"pid\":2,\"run_id\":\"r\",\"iteration\":1,\"msg\":\"dropped "
               "duplicate <trajectory> & more\"}\n"
               "{\"time\":\"2024-05-01T12:00:02.000Z\",\"level\":\"error\",\"role\":"
               "\"learner\",\"pid\":3,\"run_id\":\"r\",\"iteration\":2,\"msg\":\"it failed\"}\n"
               "garbage\n");
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

typedef struct fixture {
    char dir[256];
    gpsc_report_t *r;
    char *html;
} fixture_t;

static char *html_of(const gpsc_report_t *r, const char *href)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(gpsc_report_write_html(r, f, href), 0);
    fclose(f);
    return buf;
}

static int setup(void **state)
{
    fixture_t *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/gpsc-test-report-XXXXXX");
    if (!mkdtemp(fx->dir)) return -1;
    make_run_dir(fx->dir);
    char err[1024] = "";
    fx->r = gpsc_report_new(fx->dir, err, sizeof err);
    if (!fx->r) {
        print_error("%s\n", err);
        return -1;
    }
    fx->html = html_of(fx->r, NULL);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *fx = *state;
    gpsc_report_destroy(&fx->r);
    free(fx->html);
    rm_rf(fx->dir);
    free(fx);
    return 0;
}

/* the inline <svg id="name"> ... </svg> of the page (malloc'd) */
static char *inline_svg(const char *html, const char *name)
{
    char key[128];
    snprintf(key, sizeof key, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"%s\"", name);
    const char *a = strstr(html, key);
    if (!a) return NULL;
    const char *b = strstr(a, "</svg>");
    assert_non_null(b);
    return strndup(a, (size_t)(b - a) + 6);
}

static void assert_xml(const char *s, const char *what)
{
    char err[256] = "";
    long at = xmlcheck(s, err, sizeof err);
    if (at) print_error("%s: not well-formed at byte %ld: %s\n", what, at - 1, err);
    assert_int_equal(at, 0);
}

/* ---- tests ------------------------------------------------------------ */

static void test_figures(void **state)
{
    fixture_t *fx = *state;
    const gpsc_report_t *r = fx->r;
    assert_int_equal(gpsc_report_iterations(r), 3);
    assert_int_equal(gpsc_report_conditions(r), M);
    struct {
        const char *name;
        int series;
    } want[] = {{"cost", 2 * M + 1},    /* sampled + predicted per condition, mean */
                {"distance", M + 1},    /* + threshold */
                {"global_cost", 2 * M}, /* cost + bound */
                {"kl", 2 * M},          /* kl + target */
                {"eta", M},
                {"step_mult", M},
                {"timings", 5}, /* sampling cost cstep iteration extra_phase */
                {"throughput", 2},
                {"ee_top", 7}, /* first, M last, start, eval, targets, test targets */
                {"ee_side", 7}};
    int n = (int)(sizeof want / sizeof *want);
    assert_int_equal(gpsc_report_n_figures(r), n);
    for (int i = 0; i < n; i++) {
        int k = gpsc_report_find_figure(r, want[i].name);
        if (k < 0) print_error("no figure %s\n", want[i].name);
        assert_true(k >= 0);
        if (gpsc_report_figure_series(r, k) != want[i].series)
            print_error("%s: %d series, want %d\n", want[i].name, gpsc_report_figure_series(r, k),
                        want[i].series);
        assert_int_equal(gpsc_report_figure_series(r, k), want[i].series);
        assert_non_null(gpsc_report_figure_title(r, k));
    }
    /* no entropy in the metrics: no entropy figure */
    assert_int_equal(gpsc_report_find_figure(r, "entropy"), -1);
    assert_null(gpsc_report_figure_name(r, n));
    assert_int_equal(gpsc_report_figure_series(r, -1), -1);
    assert_int_equal(gpsc_report_write_svg(r, n, stdout), GPSC_EINVAL);
}

static void test_html_references_every_figure(void **state)
{
    fixture_t *fx = *state;
    const char *html = fx->html;
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "src=\"http"));
    assert_null(strstr(html, "href=\"http"));
    assert_null(strstr(html, "@import"));
    for (int i = 0; i < gpsc_report_n_figures(fx->r); i++) {
        const char *name = gpsc_report_figure_name(fx->r, i);
        char key[256];
        snprintf(key, sizeof key, "<figure id=\"fig-%s\" data-figure=\"%s\" data-series=\"%d\">",
                 name, name, gpsc_report_figure_series(fx->r, i));
        assert_non_null(strstr(html, key));
        snprintf(key, sizeof key, "<a href=\"#fig-%s\">", name);
        assert_non_null(strstr(html, key));
        char *svg = inline_svg(html, name);
        assert_non_null(svg);
        assert_xml(svg, name);
        assert_int_equal(xmlcount(svg, "<g class=\"series\""), gpsc_report_figure_series(fx->r, i));
        /* the standalone writer gives the same element */
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        assert_int_equal(gpsc_report_write_svg(fx->r, i, f), 0);
        fclose(f);
        assert_true(strncmp(buf, svg, strlen(svg)) == 0);
        free(buf);
        free(svg);
    }
    /* exactly one <svg> per figure */
    assert_int_equal(xmlcount(html, "<svg "), gpsc_report_n_figures(fx->r));
    /* deterministic */
    char *again = html_of(fx->r, NULL);
    assert_string_equal(html, again);
    free(again);
    gpsc_report_t *r2 = gpsc_report_new(fx->dir, NULL, 0);
    assert_non_null(r2);
    again = html_of(r2, NULL);
    assert_string_equal(html, again);
    free(again);
    gpsc_report_destroy(&r2);
}

/* pixel (x, y) where the first path of a series group ends */
static void last_point(const char *svg, const char *series, double *x, double *y)
{
    char key[128];
    snprintf(key, sizeof key, "<g class=\"series\" data-series=\"%s\"", series);
    const char *g = strstr(svg, key);
    assert_non_null(g);
    const char *d = strstr(g, "<path d=\"");
    assert_non_null(d);
    const char *end = strchr(d + 9, '"');
    const char *l = NULL;
    for (const char *c = d + 9; c < end; c++)
        if (*c == 'L' || *c == 'M') l = c;
    char *e;
    *x = strtod(l + 1, &e);
    *y = strtod(e, NULL);
}

static void test_paths_in_world_frame(void **state)
{
    fixture_t *fx = *state;
    const char *views[2] = {"ee_top", "ee_side"};
    for (int v = 0; v < 2; v++) {
        char *svg = inline_svg(fx->html, views[v]);
        assert_non_null(svg);
        /* the targets' crosses: "M x-5 y-5L x+5 y+5M..." per target, in
           condition order */
        const char *g = strstr(svg, "data-series=\"targets\"");
        assert_non_null(g);
        const char *d = strstr(g, "d=\"M");
        assert_non_null(d);
        char *e;
        double tx[M], ty[M];
        const char *c = d + 4;
        for (int m = 0; m < M; m++) {
            tx[m] = strtod(c, &e) + 5;
            ty[m] = strtod(e, &e) + 5;
            c = strchr(e, 'M'); /* second stroke of this cross */
            assert_non_null(c);
            c = strchr(c + 1, 'M'); /* next cross */
            if (c) c++;
        }
        /* every condition's last-iteration path ends on its target: the
           relative ee points plus the target, point 1 not point 0 */
        for (int m = 0; m < M; m++) {
            char name[64];
            snprintf(name, sizeof name, "c%d iteration 2", m);
            double x, y;
            last_point(svg, name, &x, &y);
            if (fabs(x - tx[m]) > 0.11 || fabs(y - ty[m]) > 0.11)
                print_error("%s c%d: path ends at (%g, %g), target at (%g, %g)\n", views[v], m, x,
                            y, tx[m], ty[m]);
            assert_true(fabs(x - tx[m]) <= 0.11 && fabs(y - ty[m]) <= 0.11);
        }
        assert_non_null(strstr(svg, "data-series=\"iteration 0 (all)\""));
        assert_non_null(strstr(svg, "data-series=\"global policy (eval)\""));
        assert_non_null(strstr(svg, "data-series=\"test targets\""));
        free(svg);
    }
}

static void test_tables_and_warnings(void **state)
{
    fixture_t *fx = *state;
    const char *h = fx->html;
    /* summary */
    assert_non_null(strstr(h, "<title>gpsc report: synth</title>"));
    assert_non_null(strstr(h, "<td>algorithm</td><td>trajopt</td>"));
    assert_non_null(strstr(h, "<td>iterations</td><td>3 of 5</td>"));
    assert_non_null(strstr(h, "<td>seed</td><td>7</td>"));
    assert_non_null(strstr(h, "<td>run id</td><td>synth-s7-01234567</td>"));
    assert_non_null(strstr(h, "<td>conditions</td><td>2 train, 1 test</td>"));
    assert_non_null(strstr(h, "<td>samples</td><td>3 per condition per iteration</td>"));
    assert_non_null(strstr(h, "<td>checkpoints</td><td>3 (latest iter_0003.pb)</td>"));
    /* 6 rollouts of 4 steps per 100 ms of sampling; 300 ms per iteration */
    assert_non_null(strstr(h, "<td>sampling</td><td>60 rollouts/s, 240 steps/s</td>"));
    assert_non_null(strstr(h, "<td>wall time</td><td>0.9 s (0.30 s per iteration)</td>"));
    /* per condition: first and final cost (the replaced line's), distance, successes */
    assert_non_null(strstr(h, "<td>c0</td><td class=\"l\">(0.100, -0.050, 0.200)</td>"
                              "<td>100</td><td>80</td><td>0.0333</td><td>2/3</td>"));
    assert_non_null(strstr(h, "<td>c1</td><td class=\"l\">(0.200, -0.050, 0.200)</td>"
                              "<td>101</td><td>81</td><td>0.0333</td><td class=\"bad\">0/3</td>"));
    assert_null(strstr(h, ">999<"));
    /* evaluation */
    assert_non_null(strstr(h, "<section id=\"eval\">"));
    assert_non_null(strstr(h, "<td>c0</td><td class=\"l\">train</td><td class=\"l\">global (mean)"
                              "</td><td>2</td><td>77.5</td><td>0.0400</td><td>1/2</td>"));
    assert_non_null(strstr(h, "<td>test 0</td><td class=\"l\">test</td>"));
    assert_non_null(strstr(h, "<td>c1</td><td class=\"l\">train</td><td class=\"l\">local</td>"));
    assert_non_null(strstr(h, "all train conditions</th><th>1/4</th><th>25%</th>"));
    assert_non_null(strstr(h, "all test conditions</th><th>1/1</th><th>100%</th>"));
    /* log */
    assert_non_null(strstr(h, "4 records: 0 debug, 1 info, 1 warnings, 1 errors, 1 unreadable"));
    assert_non_null(strstr(h, "dropped duplicate &lt;trajectory&gt; &amp; more"));
    assert_non_null(strstr(h, "it failed"));
    assert_null(strstr(h, ">hello<")); /* info records are counted, not listed */
    /* warnings: the skipped metrics lines and the eval result */
    int n = gpsc_report_n_warnings(fx->r);
    bool bad_line = false, no_iter = false, no_cond = false;
    for (int i = 0; i < n; i++) {
        const char *w = gpsc_report_warning(fx->r, i);
        bad_line |= strstr(w, "metrics.jsonl:2:") != NULL;
        no_iter |= strstr(w, "metrics.jsonl:5:") != NULL;
        no_cond |= strstr(w, "eval.json: a result without a condition") != NULL;
    }
    assert_true(bad_line && no_iter && no_cond);
    assert_int_equal(n, 3);
    assert_null(gpsc_report_warning(fx->r, n));
    assert_non_null(strstr(h, "<section id=\"warnings\">"));
}

static void test_write_files(void **state)
{
    fixture_t *fx = *state;
    char figs[512], html[512], err[1024] = "";
    snprintf(figs, sizeof figs, "%s/figs", fx->dir);
    assert_int_equal(gpsc_report_write_files(fx->r, NULL, figs, err, sizeof err), 0);
    snprintf(html, sizeof html, "%s/report.html", fx->dir);
    FILE *f = fopen(html, "r");
    assert_non_null(f);
    static char page[1 << 20];
    size_t len = fread(page, 1, sizeof page - 1, f);
    page[len] = '\0';
    fclose(f);
    assert_string_equal(gpsc_report_html_path(fx->r, NULL), html);
    for (int i = 0; i < gpsc_report_n_figures(fx->r); i++) {
        const char *name = gpsc_report_figure_name(fx->r, i);
        char path[600], key[128];
        snprintf(key, sizeof key, "<a href=\"figs/%s.svg\">%s.svg</a>", name, name);
        assert_non_null(strstr(page, key));
        snprintf(path, sizeof path, "%s/%s.svg", figs, name);
        FILE *s = fopen(path, "r");
        assert_non_null(s);
        static char svg[1 << 20];
        size_t n = fread(svg, 1, sizeof svg - 1, s);
        svg[n] = '\0';
        fclose(s);
        assert_true(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg", 43) == 0);
        assert_xml(svg, path);
    }
    /* no temporary files left */
    snprintf(html, sizeof html, "%s/report.html.tmp.%ld", fx->dir, (long)getpid());
    assert_int_equal(access(html, F_OK), -1);

    /* an HTML file elsewhere links to the figures by a relative path */
    char sub[512];
    snprintf(sub, sizeof sub, "%s/out", fx->dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(html, sizeof html, "%s/out/page.html", fx->dir);
    assert_int_equal(gpsc_report_write_files(fx->r, html, figs, err, sizeof err), 0);
    f = fopen(html, "r");
    assert_non_null(f);
    len = fread(page, 1, sizeof page - 1, f);
    page[len] = '\0';
    fclose(f);
    assert_non_null(strstr(page, "<a href=\"../figs/cost.svg\">"));

    /* an unwritable place: an error naming the file */
    assert_int_equal(
        gpsc_report_write_files(fx->r, "/nonexistent-dir/x.html", NULL, err, sizeof err), GPSC_EIO);
    assert_non_null(strstr(err, "/nonexistent-dir/x.html"));
}

static void test_bad_run_dirs(void **state)
{
    (void)state;
    char err[1024] = "";
    assert_null(gpsc_report_new("/nonexistent/run", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/run"));
    assert_non_null(strstr(err, "No such file"));

    char dir[] = "/tmp/gpsc-test-report-bad-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_null(gpsc_report_new(dir, err, sizeof err));
    assert_non_null(strstr(err, "is not a run directory"));

    write_text(dir, "metrics.jsonl.txt", "x");
    char file[256];
    snprintf(file, sizeof file, "%s/metrics.jsonl.txt", dir);
    assert_null(gpsc_report_new(file, err, sizeof err));
    assert_non_null(strstr(err, "not a directory"));
    assert_null(gpsc_report_new("", err, sizeof err));
    assert_null(gpsc_report_new(NULL, err, sizeof err));

    /* only a config: a report without figures */
    write_text(dir, "config.yaml", config_yaml);
    gpsc_report_t *r = gpsc_report_new(dir, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(gpsc_report_n_figures(r), 0);
    char *h = html_of(r, NULL);
    assert_non_null(strstr(h, "No figures"));
    assert_non_null(strstr(h, "<td>experiment</td><td>synth</td>"));
    free(h);
    gpsc_report_destroy(&r);

    /* a broken config and one metrics line: figures without paths, warnings */
    write_text(dir, "config.yaml", "name: [broken\n");
    write_text(dir, "metrics.jsonl",
               "{\"iteration\":0,\"sample_cost\":5,\"conditions\":[{\"sample_cost\":5,"
               "\"kl\":null,\"eta\":\"x\"}]}\n");
    r = gpsc_report_new(dir, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(gpsc_report_conditions(r), 1);
    assert_true(gpsc_report_find_figure(r, "cost") >= 0);
    assert_int_equal(gpsc_report_find_figure(r, "kl"), -1);
    assert_int_equal(gpsc_report_find_figure(r, "ee_top"), -1);
    bool cfg = false;
    for (int i = 0; i < gpsc_report_n_warnings(r); i++)
        cfg |= strncmp(gpsc_report_warning(r, i), "config.yaml:", 12) == 0;
    assert_true(cfg);
    h = html_of(r, NULL);
    assert_non_null(strstr(h, "<td>experiment</td><td>(unknown)</td>"));
    free(h);
    gpsc_report_destroy(&r);
    gpsc_report_destroy(&r);
    rm_rf(dir);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--make-run-dir") == 0) {
        make_run_dir(argv[2]);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_html_references_every_figure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paths_in_world_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables_and_warnings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_files, setup, teardown),
        cmocka_unit_test(test_bad_run_dirs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
