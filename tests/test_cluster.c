/* The cluster as a whole (coordinator/, learner/service.c, worker/service.c):
 * real processes on loopback, compared with gpsc-solo.
 *
 *   determinism  the same experiment and seed with 1 and with 3 workers give
 *                byte-identical checkpoint files for every iteration, and the
 *                same as gpsc-solo's; the metrics agree number for number;
 *                a second run into the same directory is refused.
 *   resume       a run stopped with SIGTERM (clean shutdown, no orphans, exit
 *                130) and, after resuming, killed with SIGKILL (children die
 *                with it), then resumed to the end, has the checkpoints of an
 *                uninterrupted run and one metrics line per iteration.
 *
 * The test makes itself a child subreaper, so any process a run leaves
 * behind becomes its child and is counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cluster_util.h"

#define CONFIG GPSC_TEST_DATA "/cluster_reacher.yaml"
#define ITERS 4 /* algorithm.iterations of the config */

static char g_tmp[256]; /* this test's scratch directory */

static int gpsc_run(const char *dir, const char *log, const char *workers, const char *extra)
{
    char *argv[16];
    int n = 0;
    argv[n++] = GPSC_BIN_DIR "/gpsc-run";
    argv[n++] = CONFIG;
    argv[n++] = "--run-dir";
    argv[n++] = (char *)dir;
    argv[n++] = "--workers";
    argv[n++] = (char *)workers;
    argv[n++] = "--threads";
    argv[n++] = "2";
    if (extra) argv[n++] = (char *)extra;
    argv[n] = NULL;
    int rc = cu_run(argv, log, 240);
    if (rc != 0) cu_print_log(log);
    return rc;
}

static void test_determinism(void **state)
{
    (void)state;
    char solo[300], one[300], three[300], log[300];
    snprintf(solo, sizeof solo, "%s/solo", g_tmp);
    snprintf(one, sizeof one, "%s/one", g_tmp);
    snprintf(three, sizeof three, "%s/three", g_tmp);
    snprintf(log, sizeof log, "%s/determinism.log", g_tmp);

    char *sargv[] = {GPSC_BIN_DIR "/gpsc-solo", CONFIG, "--run-dir", solo, "--quiet", NULL};
    assert_int_equal(cu_run(sargv, log, 240), 0);
    assert_int_equal(gpsc_run(one, log, "1", NULL), 0);
    assert_int_equal(cu_children_after(5), 0);
    assert_int_equal(gpsc_run(three, log, "3", NULL), 0);
    assert_int_equal(cu_children_after(5), 0);

    cu_clean_outputs(one, log);
    cu_clean_outputs(three, log);
    cu_same_checkpoints(solo, one, ITERS);
    cu_same_checkpoints(solo, three, ITERS);
    cu_same_metrics(solo, one, ITERS);
    cu_same_metrics(solo, three, ITERS);
    char p[400];
    snprintf(p, sizeof p, "%s/summary.txt", three);
    assert_true(cu_exists(p));
    snprintf(p, sizeof p, "%s/log.jsonl", three);
    assert_true(cu_exists(p));

    /* the directory holds a run now: refused without --resume or --force */
    char log2[300];
    snprintf(log2, sizeof log2, "%s/refused.log", g_tmp);
    char *rargv[] = {GPSC_BIN_DIR "/gpsc-run", CONFIG, "--run-dir", one, NULL};
    assert_int_equal(cu_run(rargv, log2, 60), 2);
    size_t n = 0;
    char *text = cu_slurp(log2, &n);
    assert_non_null(text);
    assert_non_null(strstr(text, "not empty"));
    free(text);
}

/* starts gpsc run in the background and signals it once checkpoint k exists */
static int interrupt_after(const char *dir, const char *log, int k, int sig, bool resume)
{
    char ck[400], last[400];
    snprintf(ck, sizeof ck, "%s/checkpoints/iter_%04d.pb", dir, k);
    snprintf(last, sizeof last, "%s/checkpoints/iter_%04d.pb", dir, 8);
    char *argv[16];
    int n = 0;
    argv[n++] = GPSC_BIN_DIR "/gpsc-run";
    if (resume) {
        argv[n++] = "--resume";
        argv[n++] = (char *)dir;
    } else {
        argv[n++] = CONFIG;
        argv[n++] = "--run-dir";
        argv[n++] = (char *)dir;
    }
    argv[n++] = "--iterations";
    argv[n++] = "8";
    argv[n++] = "--workers";
    argv[n++] = "2";
    argv[n++] = "--threads";
    argv[n++] = "1";
    argv[n] = NULL;
    pid_t pid = cu_start(argv, log);
    double t0 = cu_now_s();
    int st;
    while (!cu_exists(ck) && cu_now_s() - t0 < 120) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            cu_print_log(log);
            fail_msg("gpsc run ended before checkpoint %d was written", k);
        }
        cu_sleep_ms(1);
    }
    if (!cu_exists(ck)) cu_print_log(log);
    assert_true(cu_exists(ck));
    kill(pid, sig);
    int rc = cu_wait(pid, 60);
    if (cu_exists(last))
        fail_msg("the run finished before it was interrupted: the test proves nothing");
    return rc;
}

static void test_resume(void **state)
{
    (void)state;
    char solo[300], dir[300], log[300];
    snprintf(solo, sizeof solo, "%s/solo8", g_tmp);
    snprintf(dir, sizeof dir, "%s/resumed", g_tmp);
    snprintf(log, sizeof log, "%s/resume.log", g_tmp);
    char *sargv[] = {
        GPSC_BIN_DIR "/gpsc-solo", CONFIG, "--run-dir", solo, "--iterations", "8", "--quiet", NULL};
    assert_int_equal(cu_run(sargv, log, 240), 0);

    /* SIGTERM: a clean stop, children reaped by gpsc run itself */
    int rc = interrupt_after(dir, log, 2, SIGTERM, false);
    if (rc != 130) cu_print_log(log);
    assert_int_equal(rc, 130);
    assert_int_equal(cu_live_children(), 0);

    /* resumed, then SIGKILL: the children die with it */
    rc = interrupt_after(dir, log, 5, SIGKILL, true);
    assert_int_equal(rc, 128 + SIGKILL);
    assert_int_equal(cu_children_after(10), 0);

    /* resumed to the end */
    char *argv[] = {
        GPSC_BIN_DIR "/gpsc-run", "--resume", dir, "--iterations", "8", "--workers", "3", NULL};
    rc = cu_run(argv, log, 240);
    if (rc != 0) cu_print_log(log);
    assert_int_equal(rc, 0);
    assert_int_equal(cu_children_after(5), 0);
    cu_clean_outputs(dir, log);
    cu_same_checkpoints(solo, dir, 8);
    cu_same_metrics(solo, dir, 8);
}

static int setup(void **state)
{
    (void)state;
    return cu_setup(g_tmp, sizeof g_tmp, "cluster");
}

static int teardown(void **state)
{
    (void)state;
    return cu_teardown(g_tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_determinism),
                                       cmocka_unit_test(test_resume)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
