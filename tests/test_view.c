/* The live view (coordinator/view.c) without sockets: the progress JSON,
 * the model (metrics, warnings, throughput, new runs), the PLAIN lines and
 * the SCREEN frame and its escapes, fed with invented times. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "coordinator/view.h"

/* ------------------------------------------------------------------ helpers */

/* a progress event of a run at iteration it of K with done/total rollouts */
static gpsc_view_progress_t prog(gpsc_view_kind_t kind, int it, int K, int done, int total)
{
    gpsc_view_progress_t p;
    memset(&p, 0, sizeof p);
    p.kind = kind;
    snprintf(p.run_id, sizeof p.run_id, "reach-s1-0000abcd");
    snprintf(p.experiment, sizeof p.experiment, "reach");
    snprintf(p.algorithm, sizeof p.algorithm, "mdgps");
    snprintf(p.phase, sizeof p.phase, "sampling");
    p.iteration = it;
    p.iterations = K;
    p.conditions = 2;
    p.T = 50;
    p.samples_done = done;
    p.samples_total = total;
    p.workers = 3;
    p.workers_lost = 1;
    p.learner = true;
    return p;
}

/* a metrics line of iteration it: condition costs c0, c1 */
static char *metrics_line(int it, double c0, double c1, bool conv1, int bumps0)
{
    char *s = malloc(2048);
    snprintf(s, 2048,
             "{\"iteration\":%d,\"sample_cost\":%g,\"successes\":1,\"samples\":10,"
             "\"conditions\":[{\"condition\":0,\"sample_cost\":%g,\"kl\":4.5,\"kl_target\":5,"
             "\"eta\":0.25,\"step_mult\":1.5,\"cstep_converged\":true,\"cstep_bumps\":%d},"
             "{\"condition\":1,\"sample_cost\":%g,\"kl\":9.5,\"kl_target\":5,\"eta\":2,"
             "\"step_mult\":0.5,\"cstep_converged\":%s,\"cstep_bumps\":0}],"
             "\"ms\":{\"cost\":1,\"prior\":40,\"dynamics\":20,\"cstep\":30,\"sstep\":5,"
             "\"parallel\":60,\"total\":100,\"sampling\":500,\"learning\":120,\"iteration\":1000}}",
             it, (c0 + c1) / 2, c0, bumps0, c1, conv1 ? "true" : "false");
    return s;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* columns (code points) of each line of a frame must stay below width */
static void check_width(const char *frame, int width)
{
    int cols = 0;
    for (const unsigned char *u = (const unsigned char *)frame; *u; u++) {
        if (*u == '\n') {
            assert_true(cols <= width - 1);
            cols = 0;
        } else if ((*u & 0xc0) != 0x80) {
            cols++;
        }
    }
}

/* the i-th line (0-based) of text into out */
static void line_of(const char *text, int i, char *out, size_t outsz)
{
    const char *p = text;
    while (i-- > 0 && p && (p = strchr(p, '\n')))
        p++;
    assert_non_null(p);
    const char *e = strchr(p, '\n');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n >= outsz) n = outsz - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* ------------------------------------------------------------------ the progress JSON */

static void test_progress_json(void **state)
{
    (void)state;
    gpsc_view_progress_t p = prog(GPSC_VIEW_EV_DONE, 7, 10, 11, 20), q;
    p.status = 130;
    p.eval = true;
    p.rollouts_done = 123456789012ull;
    p.reissued = 3;
    p.duplicates = 4;
    p.rejected = 5;
    p.refused = 6;
    p.time = 1700000000.25;
    snprintf(p.text, sizeof p.text, "interrupted \"(SIGINT)\"\n");
    char *js = gpsc_view_progress_json(&p);
    assert_non_null(js);
    assert_null(strchr(js, '\n')); /* one line */
    assert_int_equal(gpsc_view_progress_parse(&q, js, NULL, 0), 0);
    free(js);
    assert_int_equal(q.kind, GPSC_VIEW_EV_DONE);
    assert_string_equal(q.run_id, p.run_id);
    assert_string_equal(q.experiment, "reach");
    assert_string_equal(q.algorithm, "mdgps");
    assert_string_equal(q.phase, "sampling");
    assert_string_equal(q.text, p.text);
    assert_int_equal(q.iteration, 7);
    assert_int_equal(q.iterations, 10);
    assert_int_equal(q.conditions, 2);
    assert_int_equal(q.T, 50);
    assert_int_equal(q.samples_done, 11);
    assert_int_equal(q.samples_total, 20);
    assert_true(q.eval);
    assert_true(q.learner);
    assert_int_equal(q.workers, 3);
    assert_int_equal(q.workers_lost, 1);
    assert_int_equal(q.rollouts_done, 123456789012ull);
    assert_int_equal(q.reissued, 3);
    assert_int_equal(q.duplicates, 4);
    assert_int_equal(q.rejected, 5);
    assert_int_equal(q.refused, 6);
    assert_int_equal(q.status, 130);
    assert_true(fabs(q.time - p.time) < 1e-6);

    /* every kind has a name that parses back */
    for (int k = 0; k <= GPSC_VIEW_EV_DONE; k++) {
        p.kind = (gpsc_view_kind_t)k;
        js = gpsc_view_progress_json(&p);
        assert_int_equal(gpsc_view_progress_parse(&q, js, NULL, 0), 0);
        assert_int_equal(q.kind, k);
        free(js);
    }
    /* refused: not JSON, not an object, no or an unknown event */
    char err[128];
    assert_int_equal(gpsc_view_progress_parse(&q, "{", err, sizeof err), GPSC_EPARSE);
    assert_int_equal(gpsc_view_progress_parse(&q, "[1]", err, sizeof err), GPSC_EPARSE);
    assert_int_equal(gpsc_view_progress_parse(&q, "{\"iteration\":1}", err, sizeof err),
                     GPSC_EPARSE);
    assert_int_equal(gpsc_view_progress_parse(&q, "{\"event\":\"boom\"}", err, sizeof err),
                     GPSC_EPARSE);
    assert_true(strlen(err) > 0);
    assert_int_equal(gpsc_view_progress_parse(NULL, "{}", NULL, 0), GPSC_EINVAL);
    /* hostile numbers are clamped, long strings cut */
    char big[2048];
    memset(big, 'x', sizeof big);
    big[sizeof big - 1] = '\0';
    char js2[4096];
    snprintf(js2, sizeof js2,
             "{\"event\":\"status\",\"iteration\":1e300,\"samples_done\":-5,\"workers\":\"x\","
             "\"rollouts_done\":-1,\"time\":-3,\"run_id\":\"%s\"}",
             big);
    assert_int_equal(gpsc_view_progress_parse(&q, js2, NULL, 0), 0);
    assert_int_equal(q.iteration, 1000000);
    assert_int_equal(q.samples_done, 0);
    assert_int_equal(q.workers, 0);
    assert_int_equal(q.rollouts_done, 0);
    assert_true(q.time == 0);
    assert_int_equal(strlen(q.run_id), sizeof q.run_id - 1);
}

/* ------------------------------------------------------------------ PLAIN */

static void test_plain_lines(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    gpsc_view_cfg_t cfg = {.mode = GPSC_VIEW_PLAIN, .out = f, .log_level = GPSC_LOG_WARN};
    gpsc_view_t *v = gpsc_view_new(&cfg);
    assert_int_equal(gpsc_view_mode(v), GPSC_VIEW_PLAIN);

    gpsc_view_progress_t p = prog(GPSC_VIEW_EV_INFO, 0, 10, 0, 20);
    snprintf(p.text, sizeof p.text, "iteration 1/10: sampling 2 x 10");
    gpsc_view_progress(v, &p, 100.0); /* the run line + the info line */
    p.kind = GPSC_VIEW_EV_PROGRESS;
    p.samples_done = 1;
    gpsc_view_progress(v, &p, 100.1); /* printed: the first */
    p.samples_done = 2;
    gpsc_view_progress(v, &p, 100.5); /* within a second: not printed */
    p.samples_done = 20;
    gpsc_view_progress(v, &p, 100.6); /* the plan is complete: printed */
    p.kind = GPSC_VIEW_EV_STATUS;
    gpsc_view_progress(v, &p, 100.7); /* nothing */
    gpsc_view_log(v, GPSC_LOG_INFO, "worker", "worker-1", 0, "an info record", 100.8);
    gpsc_view_log(v, GPSC_LOG_WARN, "worker", "worker-1", 0, "task failed\033[2J\nagain", 100.9);
    char *m = metrics_line(0, -10, -20, false, 2);
    assert_int_equal(gpsc_view_metrics(v, m, false, 101.0), 0); /* 2 warning lines */
    assert_int_equal(gpsc_view_metrics(v, m, false, 101.1), 0); /* seen: no more */
    free(m);
    p.kind = GPSC_VIEW_EV_ITERATION;
    snprintf(p.text, sizeof p.text, "iter  1/10  cost -15");
    gpsc_view_progress(v, &p, 101.2);
    p.kind = GPSC_VIEW_EV_DONE;
    p.status = 0;
    snprintf(p.text, sizeof p.text, "done");
    gpsc_view_progress(v, &p, 102.0);
    gpsc_view_note(v, 102.5, "bye");
    gpsc_view_tick(v, 103);   /* PLAIN: nothing */
    gpsc_view_finish(v, 103); /* nothing */
    int st = -1;
    assert_true(gpsc_view_done(v, &st));
    assert_int_equal(st, 0);
    fclose(f);

    assert_null(strchr(buf, '\033')); /* no escapes, the peer's included */
    assert_int_equal(count(buf, "\n"), 10);
    assert_int_equal(count(buf, "run reach-s1-0000abcd: reach, mdgps, 2 conditions"), 1);
    assert_int_equal(count(buf, "iteration 1/10: sampling 2 x 10"), 1);
    assert_int_equal(count(buf, "rollouts, 3 workers"), 2);
    assert_int_equal(count(buf, "1/20 rollouts"), 1);
    assert_int_equal(count(buf, "20/20 rollouts"), 1);
    assert_int_equal(count(buf, "an info record"), 0);
    assert_int_equal(count(buf, "warn  it 0 worker worker-1: task failed [2J again"), 1);
    assert_int_equal(count(buf, "condition 1: KL target missed (kl 9.5, target 5)"), 1);
    assert_int_equal(count(buf, "condition 0: non-PD fallback raised eta 2 times"), 1);
    assert_int_equal(count(buf, "iter  1/10  cost -15"), 1);
    assert_int_equal(count(buf, "run reach-s1-0000abcd finished: done (status 0)"), 1);
    assert_int_equal(count(buf, "bye"), 1);
    /* time stamps relative to the first event */
    assert_int_equal(strncmp(buf, "[     0.0s] ", 12), 0);
    assert_int_equal(count(buf, "[     2.5s] bye"), 1);
    gpsc_view_destroy(&v);
    assert_null(v);
    gpsc_view_destroy(&v);
    free(buf);
}

/* ------------------------------------------------------------------ the frame */

static void test_frame(void **state)
{
    (void)state;
    gpsc_view_cfg_t cfg = {.mode = GPSC_VIEW_PLAIN,
                           .out = fopen("/dev/null", "w"),
                           .title = "gpsc watch",
                           .width = 120,
                           .warn_lines = 3,
                           .spark_width = 8};
    gpsc_view_t *v = gpsc_view_new(&cfg);
    static char fr[1 << 16];
    /* nothing yet */
    int n = gpsc_view_format(v, fr, sizeof fr, 0);
    assert_true(n > 0);
    assert_non_null(strstr(fr, "waiting for the run"));

    /* costs falling over 8 iterations: c0 from 8 down to 1, c1 constant */
    for (int it = 0; it < 8; it++) {
        char *m = metrics_line(it, 8 - it, 5, true, 0);
        assert_int_equal(gpsc_view_metrics(v, m, true, 1.0), 0);
        free(m);
    }
    gpsc_view_progress_t p = prog(GPSC_VIEW_EV_PROGRESS, 8, 10, 10, 20);
    p.rollouts_done = 160;
    p.reissued = 2;
    p.refused = 7;
    gpsc_view_progress(v, &p, 2.0);
    for (int i = 0; i < 5; i++)
        gpsc_view_log(v, i == 4 ? GPSC_LOG_ERROR : GPSC_LOG_WARN, "worker", "w1", 8,
                      i == 4 ? "boom" : "careful", 2.0);
    n = gpsc_view_format(v, fr, sizeof fr, 2.0);
    /* header, progress, throughput, counters, cond header, 2 conditions,
     * timings, warnings header, 3 warnings */
    assert_int_equal(n, 12);
    check_width(fr, 120);
    char l[512];
    line_of(fr, 0, l, sizeof l);
    assert_non_null(strstr(l, "gpsc watch  reach-s1-0000abcd  reach · mdgps · 2 conditions"));
    assert_non_null(strstr(l, "live"));
    line_of(fr, 1, l, sizeof l);
    assert_non_null(strstr(l, "iteration 9/10"));
    assert_non_null(strstr(l, "10/20 rollouts  sampling"));
    /* a 40-cell bar half full */
    assert_int_equal(count(l, "█"), 20);
    assert_int_equal(count(l, "░"), 20);
    line_of(fr, 2, l, sizeof l);
    assert_non_null(strstr(l, "workers 3 alive, 1 lost   learner up"));
    /* one progress point: the throughput is the last sampling phase's, 10 / 0.5 s */
    assert_non_null(strstr(l, "throughput 20 rollouts/s  1000 steps/s"));
    line_of(fr, 3, l, sizeof l);
    assert_non_null(strstr(l, "rollouts 160 stored  2 re-issued  0 dup  0 rejected  7 refused"));
    /* 10 - 8 iterations left at 1 s each (ms.iteration), less half of this
     * one's sampling (half of an iteration: ms.sampling / ms.iteration) */
    assert_non_null(strstr(l, "time left ~1.8 s (1.0 s/it)"));
    line_of(fr, 4, l, sizeof l);
    assert_non_null(strstr(l, "cond  cost"));
    assert_non_null(strstr(l, "last cost"));
    line_of(fr, 5, l, sizeof l);
    assert_non_null(strstr(l, "c0    █▇▆▅▄▃▂▁"));
    assert_non_null(strstr(l, "1       0.25      1.5  4.5/5"));
    line_of(fr, 6, l, sizeof l);
    assert_non_null(strstr(l, "c1    ▄▄▄▄▄▄▄▄")); /* flat: the middle block */
    assert_non_null(strstr(l, "5          2      0.5  9.5/5"));
    line_of(fr, 7, l, sizeof l);
    /* the driver's phases first, then the learner's largest first */
    assert_non_null(
        strstr(l, "timings it 7 (ms): iteration 1000 sampling 500 learning 120 | learner 100: "
                  "prior 40 cstep 30 dynamics 20 sstep 5 cost 1"));
    line_of(fr, 8, l, sizeof l);
    /* the 5 records (the metrics lines had nothing to warn about) */
    assert_non_null(strstr(l, "warnings 4, errors 1 (last 3 shown)"));
    line_of(fr, 11, l, sizeof l);
    assert_non_null(strstr(l, "it 8 worker w1: boom"));

    /* narrow: every line cut */
    gpsc_view_destroy(&v);
    cfg.width = 30;
    cfg.spark_width = 0;
    v = gpsc_view_new(&cfg);
    char *m = metrics_line(0, 1, 2, true, 0);
    gpsc_view_metrics(v, m, true, 1.0);
    free(m);
    gpsc_view_progress(v, &p, 2.0);
    gpsc_view_format(v, fr, sizeof fr, 2.0);
    check_width(fr, 30);
    /* short: warnings go first, then conditions */
    gpsc_view_destroy(&v);
    cfg.width = 100;
    cfg.height = 8;
    p.conditions = 5;
    v = gpsc_view_new(&cfg);
    gpsc_view_progress(v, &p, 2.0);
    for (int i = 0; i < 5; i++)
        gpsc_view_log(v, GPSC_LOG_WARN, "worker", "w1", 8, "careful", 2.0);
    n = gpsc_view_format(v, fr, sizeof fr, 2.0);
    assert_int_equal(n, 8);
    assert_int_equal(count(fr, "careful"), 0);
    assert_int_equal(count(fr, "(5 more conditions)"), 1);
    /* ASCII: not one byte above 127 */
    gpsc_view_destroy(&v);
    cfg.height = 0;
    cfg.ascii = true;
    v = gpsc_view_new(&cfg);
    m = metrics_line(0, 1, 2, true, 0);
    gpsc_view_metrics(v, m, true, 1.0);
    free(m);
    gpsc_view_progress(v, &p, 2.0);
    gpsc_view_format(v, fr, sizeof fr, 2.0);
    for (const unsigned char *u = (const unsigned char *)fr; *u; u++)
        assert_true(*u < 128);
    assert_non_null(strstr(fr, "[####################....................]"));
    fclose(cfg.out);
    gpsc_view_destroy(&v);
}

/* throughput from the sender's clock; a silent coordinator; new runs */
static void test_model(void **state)
{
    (void)state;
    gpsc_view_cfg_t cfg = {
        .mode = GPSC_VIEW_PLAIN, .out = fopen("/dev/null", "w"), .width = 120, .remote = true};
    gpsc_view_t *v = gpsc_view_new(&cfg);
    static char fr[1 << 16];
    gpsc_view_progress_t p = prog(GPSC_VIEW_EV_PROGRESS, 1, 10, 0, 20);
    /* 100 rollouts a second on the sender's clock, received in one burst */
    for (int i = 0; i <= 40; i++) {
        p.rollouts_done = (uint64_t)(10 * i);
        p.time = 1000.0 + 0.1 * i;
        gpsc_view_progress(v, &p, 50.0);
    }
    gpsc_view_format(v, fr, sizeof fr, 50.0);
    assert_non_null(strstr(fr, "throughput 100 rollouts/s  5000 steps/s"));
    /* silent for 10 s: said in the header, and the rate is 0 */
    gpsc_view_format(v, fr, sizeof fr, 60.0);
    assert_non_null(strstr(fr, "no word from the coordinator for 10.0 s"));
    assert_non_null(strstr(fr, "throughput 0 rollouts/s"));
    /* a coordinator that started again: counters from 0, the rate follows */
    p.rollouts_done = 0;
    p.time = 2000;
    gpsc_view_progress(v, &p, 61.0);
    p.rollouts_done = 50;
    p.time = 2001;
    gpsc_view_progress(v, &p, 62.0);
    gpsc_view_format(v, fr, sizeof fr, 62.0);
    assert_non_null(strstr(fr, "throughput 50 rollouts/s"));

    /* done, then the run goes on (resumed): done no more */
    char *m = metrics_line(3, 1, 2, true, 0);
    gpsc_view_metrics(v, m, false, 62.0);
    free(m);
    p.kind = GPSC_VIEW_EV_DONE;
    p.status = 1;
    snprintf(p.text, sizeof p.text, "the learner keeps exiting");
    gpsc_view_progress(v, &p, 63.0);
    int st = 0;
    assert_true(gpsc_view_done(v, &st));
    assert_int_equal(st, 1);
    gpsc_view_format(v, fr, sizeof fr, 63.0);
    assert_non_null(strstr(fr, "stopped: the learner keeps exiting"));
    p.time = 2002; /* at the end: the mean since the restart, 50 in 2 s */
    gpsc_view_progress(v, &p, 63.5);
    gpsc_view_format(v, fr, sizeof fr, 63.5);
    assert_non_null(strstr(fr, "throughput 25 rollouts/s"));
    p.kind = GPSC_VIEW_EV_STATUS;
    gpsc_view_progress(v, &p, 64.0);
    assert_false(gpsc_view_done(v, NULL));
    gpsc_view_format(v, fr, sizeof fr, 64.0);
    assert_non_null(strstr(fr, "cost it 0..3"));
    /* another run id: the history goes */
    snprintf(p.run_id, sizeof p.run_id, "other-s2-00000001");
    gpsc_view_progress(v, &p, 65.0);
    gpsc_view_format(v, fr, sizeof fr, 65.0);
    assert_null(strstr(fr, "cost it"));
    assert_non_null(strstr(fr, "other-s2-00000001"));
    assert_non_null(strstr(fr, "warnings 0, errors 0"));
    assert_true(gpsc_view_events(v) > 40);
    /* bad metrics lines */
    assert_int_equal(gpsc_view_metrics(v, "nope", false, 66), GPSC_EPARSE);
    assert_int_equal(gpsc_view_metrics(v, "{\"iteration\":-1}", false, 66), GPSC_EPARSE);
    assert_int_equal(gpsc_view_metrics(v, "{\"sample_cost\":1}", false, 66), GPSC_EPARSE);
    assert_int_equal(gpsc_view_metrics(v,
                                       "{\"iteration\":2,\"conditions\":[{\"condition\":-4},"
                                       "{\"condition\":1e9},{\"condition\":\"x\"}]}",
                                       false, 66),
                     0);
    /* the history is bounded whatever the iteration numbers */
    for (int it = 0; it < 200; it++) {
        m = metrics_line(it, it, 1, true, 0);
        assert_int_equal(gpsc_view_metrics(v, m, true, 67), 0);
        free(m);
    }
    gpsc_view_format(v, fr, sizeof fr, 67);
    assert_non_null(strstr(fr, "cost it 160..199"));
    assert_non_null(strstr(fr, "c0    ▁▁▁▂▂▂▂▂▂▃▃▃▃▃▄▄▄▄▄▄▅▅▅▅▅▅▆▆▆▆▆▇▇▇▇▇▇███"));
    m = metrics_line(999999, 5, 5, true, 0);
    assert_int_equal(gpsc_view_metrics(v, m, true, 68), 0);
    free(m);
    gpsc_view_format(v, fr, sizeof fr, 68);
    assert_non_null(strstr(fr, "cost it 999960..999999"));
    fclose(cfg.out);
    gpsc_view_destroy(&v);
}

/* metrics.jsonl: whole lines only, a trimmed file is read again */
static void test_read_metrics(void **state)
{
    (void)state;
    char path[] = "/tmp/gpsc_test_view_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    char *m0 = metrics_line(0, 3, 4, true, 0), *m1 = metrics_line(1, 2, 3, true, 0);
    char *m2 = metrics_line(2, 1, 2, true, 0);
    fprintf(f, "%s\n%s\n{\"iteration\":2,\"sam", m0, m1);
    fflush(f);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    gpsc_view_cfg_t cfg = {.mode = GPSC_VIEW_PLAIN, .out = out};
    gpsc_view_t *v = gpsc_view_new(&cfg);
    long off = 0;
    assert_int_equal(gpsc_view_read_metrics(v, path, &off, true, 1), 2);
    assert_int_equal(off, (long)(strlen(m0) + strlen(m1) + 2));
    assert_int_equal(gpsc_view_read_metrics(v, path, &off, true, 1), 0);
    /* the rest of the line arrives */
    fclose(f);
    f = fopen(path, "w");
    fprintf(f, "%s\n%s\n%s\n", m0, m1, m2);
    fclose(f);
    assert_int_equal(gpsc_view_read_metrics(v, path, &off, false, 2), 1);
    /* trimmed (a resume): read from the start */
    f = fopen(path, "w");
    fprintf(f, "%s\n", m0);
    fclose(f);
    assert_int_equal(gpsc_view_read_metrics(v, path, &off, false, 3), 1);
    assert_int_equal(gpsc_view_read_metrics(v, "/nonexistent/metrics.jsonl", &off, true, 3),
                     GPSC_ENOENT);
    fclose(out);
    assert_int_equal(count(buf, "read 2 iterations from"), 1);
    assert_int_equal(count(buf, "\n"), 1);
    gpsc_view_destroy(&v);
    free(buf);
    free(m0);
    free(m1);
    free(m2);
    unlink(path);
}

/* SCREEN: escapes, in-place redraws, the redraw rate, clear, finish */
static void test_screen(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    gpsc_view_cfg_t cfg = {
        .mode = GPSC_VIEW_SCREEN, .out = f, .width = 80, .height = 40, .warn_lines = 2};
    gpsc_view_t *v = gpsc_view_new(&cfg);
    assert_int_equal(gpsc_view_mode(v), GPSC_VIEW_SCREEN);
    gpsc_view_tick(v, 0); /* nothing happened: nothing drawn */
    fflush(f);
    assert_int_equal(len, 0);
    gpsc_view_progress_t p = prog(GPSC_VIEW_EV_PROGRESS, 0, 4, 1, 6);
    gpsc_view_progress(v, &p, 1.0);
    gpsc_view_log(v, GPSC_LOG_WARN, "worker", "w1", 0, "bad\033]0;title\007", 1.0);
    gpsc_view_tick(v, 1.0);
    fflush(f);
    /* first frame: cursor hidden, 11 lines each erased first, nothing moved up */
    assert_int_equal(strncmp(buf, "\033[?25l", 6), 0);
    assert_int_equal(count(buf, "\r\033[2K"), 11);
    assert_int_equal(count(buf, "\n"), 11);
    assert_int_equal(count(buf, "\033[11A"), 0);
    assert_int_equal(count(buf, "\033]"), 0); /* the peer's OSC sequence was defused */
    size_t first = len;
    /* within the redraw interval: not drawn */
    p.samples_done = 2;
    gpsc_view_progress(v, &p, 1.05);
    gpsc_view_tick(v, 1.05);
    fflush(f);
    assert_int_equal(len, first);
    /* later: drawn in place, over the 11 lines */
    gpsc_view_tick(v, 1.2);
    fflush(f);
    assert_true(len > first);
    assert_int_equal(strncmp(buf + first, "\r\033[11A", 6), 0);
    assert_int_equal(count(buf + first, "\033[?25l"), 0);
    assert_non_null(strstr(buf + first, "2/6 rollouts"));
    /* no change and less than a second: nothing; a second later: the clock */
    size_t second = len;
    gpsc_view_tick(v, 1.5);
    fflush(f);
    assert_int_equal(len, second);
    gpsc_view_tick(v, 2.3);
    fflush(f);
    assert_true(len > second);
    /* clear: up and erase; the next tick draws again without moving up */
    size_t third = len;
    gpsc_view_clear(v);
    fflush(f);
    assert_string_equal(buf + third, "\r\033[11A\033[J");
    size_t fourth = len;
    gpsc_view_tick(v, 2.5);
    fflush(f);
    assert_true(len > fourth);
    assert_int_equal(strncmp(buf + fourth, "\r\033[2K", 5), 0);
    /* finish: the last frame and the cursor back */
    p.kind = GPSC_VIEW_EV_DONE;
    snprintf(p.text, sizeof p.text, "done");
    gpsc_view_progress(v, &p, 2.6);
    size_t fifth = len;
    gpsc_view_finish(v, 2.6);
    fflush(f);
    assert_non_null(strstr(buf + fifth, "finished: done"));
    assert_int_equal(strcmp(buf + len - 6, "\033[?25h"), 0);
    size_t sixth = len;
    gpsc_view_finish(v, 2.7); /* idempotent */
    fflush(f);
    assert_int_equal(len, sixth);
    fclose(f);
    gpsc_view_destroy(&v);
    free(buf);

    /* colours only when asked */
    buf = NULL;
    f = open_memstream(&buf, &len);
    cfg.out = f;
    cfg.color = true;
    v = gpsc_view_new(&cfg);
    gpsc_view_progress(v, &p, 1.0);
    gpsc_view_finish(v, 1.0);
    fclose(f);
    assert_true(count(buf, "\033[0m") > 0);
    assert_true(count(buf, "\033[1;32m") > 0); /* finished, in green */
    gpsc_view_destroy(&v);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_json), cmocka_unit_test(test_plain_lines),
        cmocka_unit_test(test_frame),         cmocka_unit_test(test_model),
        cmocka_unit_test(test_read_metrics),  cmocka_unit_test(test_screen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
