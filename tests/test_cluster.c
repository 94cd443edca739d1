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
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONFIG GPSC_TEST_DATA "/cluster_reacher.yaml"
#define ITERS 4 /* algorithm.iterations of the config */

static char g_tmp[256]; /* this test's scratch directory */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* starts argv with stdout and stderr appended to log; returns the pid */
static pid_t start(char *const argv[], const char *log)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

/* waits for pid up to timeout_s; returns the exit status (128+signal when
 * killed); a process still running then is killed and the test fails */
static int wait_for(pid_t pid, double timeout_s)
{
    double t0 = now_s();
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (now_s() - t0 > timeout_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            fail_msg("process %d did not finish within %.0f s", (int)pid, timeout_s);
        }
        sleep_ms(5);
    }
}

static int run(char *const argv[], const char *log, double timeout_s)
{
    return wait_for(start(argv, log), timeout_s);
}

static void print_log(const char *log)
{
    FILE *f = fopen(log, "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f))
        fprintf(stderr, "  | %s", line);
    fclose(f);
}

/* children of this process (the subreaper's orphans included), reaping the dead */
static int live_children(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t got = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[got] = '\0';
        char *rp = strrchr(buf, ')');
        char state;
        int ppid;
        if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == (int)getpid() &&
            state != 'Z')
            n++;
    }
    if (d) closedir(d);
    return n;
}

/* waits until no child is left (orphans die with their parent) */
static int children_after(double timeout_s)
{
    double t0 = now_s();
    int n;
    while ((n = live_children()) > 0 && now_s() - t0 < timeout_s)
        sleep_ms(20);
    return n;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b) b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* every checkpoint iter_0000..iter_K of dir a equals b's, byte for byte */
static void same_checkpoints(const char *a, const char *b, int K)
{
    for (int k = 0; k <= K + 1; k++) {
        char pa[512], pb[512];
        snprintf(pa, sizeof pa, "%s/checkpoints/iter_%04d.pb", a, k);
        snprintf(pb, sizeof pb, "%s/checkpoints/iter_%04d.pb", b, k);
        if (k == K + 1) {
            assert_false(exists(pa));
            assert_false(exists(pb));
            break;
        }
        size_t na = 0, nb = 0;
        char *ba = slurp(pa, &na), *bb = slurp(pb, &nb);
        if (!ba || !bb) fail_msg("missing %s or %s", pa, pb);
        if (na != nb || memcmp(ba, bb, na) != 0)
            fail_msg("%s (%zu bytes) differs from %s (%zu bytes)", pa, na, pb, nb);
        free(ba);
        free(bb);
    }
}

/* the metrics lines without timings (ms) and the cluster's counters */
static void same_metrics(const char *a, const char *b, int K)
{
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/metrics.jsonl", a);
    snprintf(pb, sizeof pb, "%s/metrics.jsonl", b);
    FILE *fa = fopen(pa, "r"), *fb = fopen(pb, "r");
    assert_non_null(fa);
    assert_non_null(fb);
    char la[65536], lb[65536];
    int n = 0;
    while (fgets(la, sizeof la, fa)) {
        assert_non_null(fgets(lb, sizeof lb, fb));
        cJSON *oa = cJSON_Parse(la), *ob = cJSON_Parse(lb);
        assert_non_null(oa);
        assert_non_null(ob);
        cJSON_DeleteItemFromObject(oa, "ms");
        cJSON_DeleteItemFromObject(ob, "ms");
        cJSON_DeleteItemFromObject(oa, "cluster");
        cJSON_DeleteItemFromObject(ob, "cluster");
        assert_int_equal(cJSON_GetObjectItem(oa, "iteration")->valueint, n);
        char *sa = cJSON_PrintUnformatted(oa), *sb = cJSON_PrintUnformatted(ob);
        if (strcmp(sa, sb) != 0) fail_msg("metrics of iteration %d differ:\n%s\n%s", n, sa, sb);
        free(sa);
        free(sb);
        cJSON_Delete(oa);
        cJSON_Delete(ob);
        n++;
    }
    assert_null(fgets(lb, sizeof lb, fb));
    assert_int_equal(n, K);
    fclose(fa);
    fclose(fb);
}

/* no sanitizer report in a file (ASan builds run the same test) */
static void no_sanitizer_report(const char *path)
{
    size_t n = 0;
    char *text = slurp(path, &n);
    if (!text) return;
    if (strstr(text, "Sanitizer") || strstr(text, "runtime error:"))
        fail_msg("%s holds a sanitizer report", path);
    free(text);
}

/* ... in the log of the test's runs and in every child's output of run dir */
static void clean_outputs(const char *dir, const char *log)
{
    no_sanitizer_report(log);
    char procs[400];
    snprintf(procs, sizeof procs, "%s/procs", dir);
    DIR *d = opendir(procs);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[800];
        snprintf(path, sizeof path, "%s/%s", procs, e->d_name);
        if (e->d_name[0] != '.') no_sanitizer_report(path);
    }
    if (d) closedir(d);
}

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
    int rc = run(argv, log, 240);
    if (rc != 0) print_log(log);
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
    assert_int_equal(run(sargv, log, 240), 0);
    assert_int_equal(gpsc_run(one, log, "1", NULL), 0);
    assert_int_equal(children_after(5), 0);
    assert_int_equal(gpsc_run(three, log, "3", NULL), 0);
    assert_int_equal(children_after(5), 0);

    clean_outputs(one, log);
    clean_outputs(three, log);
    same_checkpoints(solo, one, ITERS);
    same_checkpoints(solo, three, ITERS);
    same_metrics(solo, one, ITERS);
    same_metrics(solo, three, ITERS);
    char p[400];
    snprintf(p, sizeof p, "%s/summary.txt", three);
    assert_true(exists(p));
    snprintf(p, sizeof p, "%s/log.jsonl", three);
    assert_true(exists(p));

    /* the directory holds a run now: refused without --resume or --force */
    char log2[300];
    snprintf(log2, sizeof log2, "%s/refused.log", g_tmp);
    char *rargv[] = {GPSC_BIN_DIR "/gpsc-run", CONFIG, "--run-dir", one, NULL};
    assert_int_equal(run(rargv, log2, 60), 2);
    size_t n = 0;
    char *text = slurp(log2, &n);
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
    pid_t pid = start(argv, log);
    double t0 = now_s();
    int st;
    while (!exists(ck) && now_s() - t0 < 120) {
        if (waitpid(pid, &st, WNOHANG) == pid) {
            print_log(log);
            fail_msg("gpsc run ended before checkpoint %d was written", k);
        }
        sleep_ms(1);
    }
    if (!exists(ck)) print_log(log);
    assert_true(exists(ck));
    kill(pid, sig);
    int rc = wait_for(pid, 60);
    if (exists(last))
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
    assert_int_equal(run(sargv, log, 240), 0);

    /* SIGTERM: a clean stop, children reaped by gpsc run itself */
    int rc = interrupt_after(dir, log, 2, SIGTERM, false);
    if (rc != 130) print_log(log);
    assert_int_equal(rc, 130);
    assert_int_equal(live_children(), 0);

    /* resumed, then SIGKILL: the children die with it */
    rc = interrupt_after(dir, log, 5, SIGKILL, true);
    assert_int_equal(rc, 128 + SIGKILL);
    assert_int_equal(children_after(10), 0);

    /* resumed to the end */
    char *argv[] = {
        GPSC_BIN_DIR "/gpsc-run", "--resume", dir, "--iterations", "8", "--workers", "3", NULL};
    rc = run(argv, log, 240);
    if (rc != 0) print_log(log);
    assert_int_equal(rc, 0);
    assert_int_equal(children_after(5), 0);
    clean_outputs(dir, log);
    same_checkpoints(solo, dir, 8);
    same_metrics(solo, dir, 8);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/gpsc-test-cluster-XXXXXX");
    if (!mkdtemp(g_tmp)) return -1;
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    if (!getenv("GPSC_KEEP_TMP")) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
        if (system(cmd) != 0) return -1;
    }
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_determinism),
                                       cmocka_unit_test(test_resume)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
