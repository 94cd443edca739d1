/* gpsc watch and the Prometheus endpoint with real runs (the reacher of
 * tests/data/cluster_reacher.yaml, local mode, loopback):
 *
 *   pipe      gpsc watch RUN_DIR (started before the run) and gpsc watch
 *             ENDPOINT on a pipe: one plain line per event, no escapes, every
 *             iteration's line, the end; both exit 0 with the run.
 *   terminal  gpsc watch and gpsc run inside tmux: captured several times
 *             during the run, the progress bar is there and is redrawn in
 *             place (its row and the frame's line count do not change, the
 *             content does), no escape leaks; the final frame says done.
 *   restart   a run killed (SIGKILL: coordinator, learner and workers) and
 *             resumed on new ports: the watch follows RUN/endpoints to the
 *             new coordinator and sees the resumed run's iterations and end;
 *             and the cluster roles on fixed ports, coordinator and learner
 *             killed and started again: the watch on the endpoint goes on
 *             (ZeroMQ reconnects).
 *   metrics   --metrics-http: two scrapes during the run are valid text
 *             exposition (every line parsed, HELP and TYPE before samples),
 *             counters do not decrease and rollouts grow; 404 elsewhere; the
 *             endpoint does not keep the finished run alive.
 *
 * The test makes itself a child subreaper and kills what a failed case
 * leaves behind (only processes it started). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CONFIG GPSC_TEST_DATA "/cluster_reacher.yaml"
#define RUN GPSC_BIN_DIR "/gpsc-run"
#define WATCH GPSC_BIN_DIR "/gpsc-watch"
#define COORD GPSC_BIN_DIR "/gpsc-coordinator"
#define LEARNER GPSC_BIN_DIR "/gpsc-learner"
#define WORKER GPSC_BIN_DIR "/gpsc-worker"

static char g_tmp[256]; /* this test's scratch directory */

/* ------------------------------------------------------------------ processes, files */

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

/* starts argv with stdout and stderr to `out` (a file: not a terminal) */
static pid_t start(char *const argv[], const char *out)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);
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

static void print_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof line, f) && n++ < 400)
        fprintf(stderr, "  | %s", line);
    fclose(f);
}

/* exit status of pid (128 + signal when killed) within timeout_s; a process
 * still running then is killed and the test fails, showing `out` */
static int wait_for(pid_t pid, double timeout_s, const char *out)
{
    double t0 = now_s();
    for (;;) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (now_s() - t0 > timeout_s) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            if (out) print_file(out);
            fail_msg("process %d did not finish within %.0f s", (int)pid, timeout_s);
        }
        sleep_ms(10);
    }
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    size_t got = fread(b, 1, (size_t)n, f);
    b[got] = '\0';
    fclose(f);
    return b;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* "<key> <value>" of RUN/endpoints into out; false when not (yet) there */
static bool endpoint(const char *dir, const char *key, char *out, size_t outsz)
{
    char path[512];
    snprintf(path, sizeof path, "%s/endpoints", dir);
    char *t = slurp(path);
    if (!t) return false;
    bool ok = false;
    for (char *l = strtok(t, "\n"); l && !ok; l = strtok(NULL, "\n"))
        if (strncmp(l, key, strlen(key)) == 0 && l[strlen(key)] == ' ') {
            snprintf(out, outsz, "%s", l + strlen(key) + 1);
            ok = true;
        }
    free(t);
    return ok;
}

static bool wait_endpoint(const char *dir, const char *key, char *out, size_t outsz, double t)
{
    double t0 = now_s();
    while (now_s() - t0 < t) {
        if (endpoint(dir, key, out, outsz)) return true;
        sleep_ms(5);
    }
    return false;
}

/* lines of RUN/metrics.jsonl */
static int metrics_lines(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    char *t = slurp(path);
    int n = t ? count(t, "\n") : 0;
    free(t);
    return n;
}

/* kills the children of this process (orphans adopted by the subreaper
 * included): what a failed case left behind */
static int kill_children(void)
{
    int n = 0;
    for (int round = 0; round < 3; round++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
        char *t = slurp(path);
        if (!t) break;
        for (char *p = strtok(t, " \n"); p; p = strtok(NULL, " \n")) {
            kill((pid_t)atoi(p), SIGKILL);
            n++;
        }
        free(t);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        sleep_ms(20);
    }
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    return n;
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_tmp, sizeof g_tmp, "/tmp/gpsc_test_watch_%d", (int)getpid());
    mkdir(g_tmp, 0755);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    kill_children();
    return 0;
}

static void dir_of(char *out, size_t outsz, const char *name)
{
    snprintf(out, outsz, "%s/%s", g_tmp, name);
    mkdir(out, 0755);
}

/* every line of a plain watch: "[    1.2s] text", no escape */
static void check_plain(const char *text)
{
    assert_null(strchr(text, '\033'));
    regex_t re;
    assert_int_equal(regcomp(&re, "^\\[ *[0-9]+\\.[0-9]s\\] [^ ]", REG_EXTENDED | REG_NOSUB), 0);
    char *t = strdup(text);
    for (char *l = strtok(t, "\n"); l; l = strtok(NULL, "\n"))
        if (regexec(&re, l, 0, NULL, 0) != 0) fail_msg("not a plain watch line: '%s'", l);
    free(t);
    regfree(&re);
}

/* ------------------------------------------------------------------ (a) a pipe */

static void test_pipe(void **state)
{
    (void)state;
    char dir[300], w1[400], w2[400], log[400], ep[256];
    dir_of(dir, sizeof dir, "pipe");
    snprintf(w1, sizeof w1, "%s/../pipe_watch_dir.out", dir);
    snprintf(w2, sizeof w2, "%s/../pipe_watch_ep.out", dir);
    snprintf(log, sizeof log, "%s/../pipe_run.out", dir);
    /* the watch waits for the run directory's endpoints */
    char *wa[] = {WATCH, dir, NULL};
    pid_t watch1 = start(wa, w1);
    sleep_ms(200);
    char *ra[] = {RUN, CONFIG, "-w", "2", "-d", dir, "-i", "150", "--threads", "1", NULL};
    pid_t run = start(ra, log);
    assert_true(wait_endpoint(dir, "log", ep, sizeof ep, 20));
    char *wb[] = {WATCH, ep, "--log-level", "info", NULL};
    pid_t watch2 = start(wb, w2);
    assert_int_equal(wait_for(run, 120, log), 0);
    assert_int_equal(wait_for(watch1, 15, w1), 0);
    assert_int_equal(wait_for(watch2, 15, w2), 0);

    char *a = slurp(w1), *b = slurp(w2);
    check_plain(a);
    check_plain(b);
    /* the run directory's watch saw everything: the run, every iteration, the end */
    /* the run id ends in the config hash, which depends on where the checkout
     * lives (the model's absolute path): match around it */
    assert_true(count(a, "] run reacher_short-s7-") >= 1);
    assert_int_equal(count(a, ": reacher_short, mdgps, 2 conditions, 150 iterations\n"), 1);
    int iters = 0;
    char want[64];
    for (int k = 1; k <= 150; k++) {
        snprintf(want, sizeof want, "] iter %2d/150  cost ", k);
        iters += strstr(a, want) != NULL;
    }
    if (iters < 140) {
        print_file(w1);
        fail_msg("%d of 150 iteration lines", iters);
    }
    assert_non_null(strstr(a, "] iter 150/150  cost "));
    assert_non_null(strstr(a, "] evaluation: 8/8 rollouts, 2 workers"));
    assert_non_null(strstr(a, "finished: done (status 0)"));
    /* progress lines (at most one a second, and each completed plan) */
    assert_true(count(a, " rollouts, 2 workers") >= 140);
    /* the endpoint's watch, with info records, to the end */
    assert_non_null(strstr(b, "] following tcp://127.0.0.1:"));
    assert_true(count(b, "] info  ") > 10);
    assert_non_null(strstr(b, "finished: done (status 0)"));
    free(a);
    free(b);
}

/* ------------------------------------------------------------------ (b) a terminal */

static bool have_tmux(void)
{
    return system("command -v tmux > /dev/null 2>&1") == 0;
}

/* 1 when the pane's cursor is visible, 0 when hidden, -1 unknown */
static int cursor_visible(const char *sock, const char *session)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s display -p -t %s '#{cursor_flag}' 2>/dev/null", sock,
             session);
    FILE *f = popen(cmd, "r");
    int v = -1;
    if (f && fscanf(f, "%d", &v) != 1) v = -1;
    if (f) pclose(f);
    return v;
}

static char *capture(const char *sock, const char *session)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "tmux -L %s capture-pane -p -t %s 2>/dev/null", sock, session);
    FILE *f = popen(cmd, "r");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    size_t n;
    while ((n = fread(b + len, 1, cap - 1 - len, f)) > 0)
        len += n;
    b[len] = '\0';
    pclose(f);
    return b;
}

/* row of the first line containing needle (starting with it when
 * `prefix`), -1 when none */
static int row_at(const char *screen, const char *needle, bool prefix)
{
    int row = 0;
    for (const char *l = screen; l && *l; row++) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        const char *hit = strstr(l, needle);
        if (hit && hit < l + n && (!prefix || hit == l)) return row;
        l = e ? e + 1 : NULL;
    }
    return -1;
}

static int row_of(const char *screen, const char *needle)
{
    return row_at(screen, needle, false);
}

/* the row of the progress line: "iteration k/K  [" or "evaluation  [" */
static int bar_row(const char *screen)
{
    int r = row_at(screen, "iteration ", true);
    return r >= 0 ? r : row_at(screen, "evaluation ", true);
}

/* the captures of one pane while its view was live: same rows, new content */
static void check_in_place(char **caps, int ncaps, const char *what)
{
    int live = 0, row = -1, wrow = -1, distinct = 0;
    const char *prev = NULL;
    for (int i = 0; i < ncaps; i++) {
        const char *c = caps[i];
        assert_null(strchr(c, '\033'));
        assert_null(strstr(c, "[?25"));
        /* mid-run: the bar, the conditions known, a frame not yet final */
        if (bar_row(c) < 0 || !strstr(c, "░") || !strstr(c, "\nc1 ") || strstr(c, "finished:"))
            continue;
        /* the frame's first and last blocks stay where they were: no scrolling,
         * no frame drawn below the last */
        int r = bar_row(c), wr = row_at(c, "warnings ", true);
        if (live == 0) {
            row = r;
            wrow = wr;
        }
        if (r != row || wr != wrow || wr <= r) {
            fprintf(stderr, "%s, capture %d:\n%s\n", what, i, c);
            fail_msg("%s: the frame moved (rows %d, %d -> %d, %d)", what, row, wrow, r, wr);
        }
        if (!prev || strcmp(prev, c) != 0) distinct++;
        prev = c;
        live++;
    }
    if (live < 3 || distinct < 2)
        fail_msg("%s: %d captures of a running view, %d distinct", what, live, distinct);
}

static void test_terminal(void **state)
{
    (void)state;
    if (!have_tmux()) skip();
    char dir[300], sock[64], cmd[2048];
    dir_of(dir, sizeof dir, "tty");
    snprintf(sock, sizeof sock, "gpsc-test-%d", (int)getpid());
    setenv("LANG", "C.UTF-8", 1);
    unsetenv("NO_COLOR");
    snprintf(cmd, sizeof cmd,
             "tmux -L %s -f /dev/null new-session -d -s watch -x 100 -y 32 "
             "'env LANG=C.UTF-8 TERM=screen %s %s; echo WATCH-EXIT=$?; sleep 120'",
             sock, WATCH, dir);
    assert_int_equal(system(cmd), 0);
    sleep_ms(300);
    snprintf(cmd, sizeof cmd,
             "tmux -L %s new-session -d -s run -x 100 -y 32 "
             "'env LANG=C.UTF-8 TERM=screen %s %s -w 2 -d %s -i 400 --threads 1; "
             "echo RUN-EXIT=$?; sleep 120'",
             sock, RUN, CONFIG, dir);
    assert_int_equal(system(cmd), 0);

    enum { MAXCAP = 400 };
    static char *cw[MAXCAP], *cr[MAXCAP];
    int n = 0;
    double t0 = now_s();
    bool run_done = false, watch_done = false;
    int hidden_w = 0, hidden_r = 0; /* captures of a live view with the cursor hidden */
    while (n < MAXCAP && now_s() - t0 < 120 && !(run_done && watch_done)) {
        sleep_ms(150);
        cw[n] = capture(sock, "watch");
        cr[n] = capture(sock, "run");
        assert_non_null(cw[n]);
        assert_non_null(cr[n]);
        run_done = strstr(cr[n], "RUN-EXIT=") != NULL;
        watch_done = strstr(cw[n], "WATCH-EXIT=") != NULL;
        if (strstr(cw[n], "░") && !watch_done) hidden_w += cursor_visible(sock, "watch") == 0;
        if (strstr(cr[n], "░") && !run_done) hidden_r += cursor_visible(sock, "run") == 0;
        n++;
    }
    /* the cursor was hidden while the views were drawn, and is back */
    assert_true(hidden_w > 0 && hidden_r > 0);
    assert_int_equal(cursor_visible(sock, "watch"), 1);
    assert_int_equal(cursor_visible(sock, "run"), 1);
    snprintf(cmd, sizeof cmd, "tmux -L %s kill-server 2>/dev/null", sock);
    int rc = system(cmd);
    (void)rc;
    const char *lw = cw[n - 1], *lr = cr[n - 1];
    if (!strstr(lw, "WATCH-EXIT=0") || !strstr(lr, "RUN-EXIT=0"))
        fprintf(stderr, "watch:\n%s\nrun:\n%s\n", lw, lr);
    assert_non_null(strstr(lr, "RUN-EXIT=0"));
    assert_non_null(strstr(lw, "WATCH-EXIT=0"));

    check_in_place(cw, n, "gpsc watch");
    check_in_place(cr, n, "gpsc run");
    /* the final frames: the whole bar, the end, the summary below gpsc run's */
    assert_non_null(strstr(lw, "gpsc watch  reacher_short-s7-"));
    assert_non_null(strstr(lw, "finished: done"));
    assert_non_null(strstr(lw, "iteration 400/400"));
    assert_non_null(strstr(lw, "████████████████████"));
    assert_true(row_of(lw, "WATCH-EXIT=0") > row_at(lw, "warnings ", true));
    assert_non_null(strstr(lr, "gpsc run  reacher_short-s7-"));
    assert_non_null(strstr(lr, "finished: done"));
    assert_true(row_of(lr, "done in ") > row_at(lr, "warnings ", true));
    /* the sparkline's blocks and the counters */
    assert_true(count(lw, "▁") + count(lw, "█") > 2);
    assert_non_null(strstr(lw, "workers 2 alive"));
    /* a frame for the docs: build/tests/watch_tty.txt */
    FILE *f = fopen(GPSC_BIN_DIR "/../tests/watch_tty.txt", "w");
    for (int i = n - 1; f && i >= 0; i--)
        if (strstr(cw[i], "░") && bar_row(cw[i]) >= 0 && !strstr(cw[i], "finished")) {
            fputs(cw[i], f);
            break;
        }
    if (f) fclose(f);
    for (int i = 0; i < n; i++) {
        free(cw[i]);
        free(cr[i]);
    }
}

/* ------------------------------------------------------------------ (c) a restart */

static void test_restart(void **state)
{
    (void)state;
    char dir[300], wout[400], log[400], ep1[256], ep2[256];
    dir_of(dir, sizeof dir, "restart");
    snprintf(wout, sizeof wout, "%s/../restart_watch.out", dir);
    snprintf(log, sizeof log, "%s/../restart_run.out", dir);
    char *wa[] = {WATCH, dir, NULL};
    pid_t watch = start(wa, wout);
    char *ra[] = {RUN, CONFIG, "-w", "2", "-d", dir, "-i", "400", "--threads", "1", NULL};
    pid_t run = start(ra, log);
    assert_true(wait_endpoint(dir, "log", ep1, sizeof ep1, 20));
    double t0 = now_s();
    while (metrics_lines(dir) < 30 && now_s() - t0 < 60)
        sleep_ms(5);
    /* the coordinator (inside gpsc run), the learner and the workers go at once */
    kill(run, SIGKILL);
    assert_int_equal(wait_for(run, 10, log), 128 + SIGKILL);
    int killed_at = metrics_lines(dir);
    assert_true(killed_at >= 30 && killed_at < 400);
    sleep_ms(500);
    assert_int_equal(waitpid(watch, NULL, WNOHANG), 0); /* still watching */
    char *ca[] = {RUN, "--resume", dir, "-w", "2", "-i", "400", "--threads", "1", NULL};
    run = start(ca, log);
    assert_int_equal(wait_for(run, 120, log), 0);
    assert_int_equal(wait_for(watch, 15, wout), 0);
    assert_true(endpoint(dir, "log", ep2, sizeof ep2));
    assert_string_not_equal(ep1, ep2);

    char *a = slurp(wout);
    check_plain(a);
    char want[300];
    snprintf(want, sizeof want, "] now following %s\n", ep2);
    const char *after = strstr(a, want);
    if (!after) print_file(wout);
    assert_non_null(after);
    /* the resumed run's iterations came after the switch */
    int later = 0;
    for (int k = killed_at + 2; k <= 400; k++) {
        snprintf(want, sizeof want, "] iter %2d/400  cost ", k);
        later += strstr(after, want) != NULL;
    }
    if (later < (400 - killed_at - 1) * 9 / 10) {
        print_file(wout);
        fail_msg("%d iteration lines after the resume (killed at %d)", later, killed_at);
    }
    assert_non_null(strstr(after, "finished: done (status 0)"));
    /* and the first run's before it */
    snprintf(want, sizeof want, "] iter %2d/400  cost ", killed_at - 1);
    const char *before = strstr(a, want);
    assert_non_null(before);
    assert_true(before < after);
    free(a);
}

/* a free TCP port on loopback (free when asked: the kernel's next ephemeral one) */
static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t n = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &n);
    close(s);
    return ntohs(a.sin_port);
}

/* the cluster roles on fixed ports, gpsc watch on the log endpoint: the
 * coordinator and the learner are killed, started again (--resume) on the
 * same ports, and the watch, reconnected by ZeroMQ, sees the run to its end */
static void test_endpoint_restart(void **state)
{
    (void)state;
    char dir[300], out[8][400], ep[3][64];
    dir_of(dir, sizeof dir, "roles");
    rmdir(dir); /* the coordinator makes it */
    const char *names[] = {"watch", "coord", "learner", "w0", "w1", "coord2", "learner2", NULL};
    for (int i = 0; names[i]; i++)
        snprintf(out[i], sizeof out[i], "%s/roles_%s.out", g_tmp, names[i]);
    for (int i = 0; i < 3; i++)
        snprintf(ep[i], sizeof ep[i], "tcp://127.0.0.1:%d", free_port());
    char *wa[] = {WATCH, ep[2], NULL};
    pid_t watch = start(wa, out[0]);
    char *ca[] = {COORD, "--experiment", CONFIG, "-c", ep[0], "-L",  ep[1],
                  "-p",  ep[2],          "-d",   dir,  "-i",  "300", NULL};
    pid_t coord = start(ca, out[1]);
    char *la[] = {LEARNER, "--connect", ep[1], "--threads", "1", NULL};
    pid_t learner = start(la, out[2]);
    char *w0[] = {WORKER, "--connect", ep[0], "--experiment", CONFIG, "--id", "w0", NULL};
    char *w1[] = {WORKER, "--connect", ep[0], "--experiment", CONFIG, "--id", "w1", NULL};
    pid_t wk0 = start(w0, out[3]), wk1 = start(w1, out[4]);
    double t0 = now_s();
    while (metrics_lines(dir) < 30 && now_s() - t0 < 60)
        sleep_ms(5);
    kill(coord, SIGKILL);
    kill(learner, SIGKILL);
    assert_int_equal(wait_for(coord, 10, out[1]), 128 + SIGKILL);
    assert_int_equal(wait_for(learner, 10, out[2]), 128 + SIGKILL);
    int killed_at = metrics_lines(dir);
    sleep_ms(500);
    assert_int_equal(waitpid(watch, NULL, WNOHANG), 0);
    char *ca2[] = {COORD, "--resume", dir,   "-c", ep[0], "-L",
                   ep[1], "-p",       ep[2], "-i", "300", NULL};
    coord = start(ca2, out[5]);
    learner = start(la, out[6]);
    assert_int_equal(wait_for(coord, 120, out[5]), 0);
    assert_int_equal(wait_for(watch, 15, out[0]), 0);
    /* the learner and the workers leave when told (ITER_SHUTDOWN) */
    assert_int_equal(wait_for(learner, 15, out[6]), 0);
    assert_int_equal(wait_for(wk0, 15, out[3]), 0);
    assert_int_equal(wait_for(wk1, 15, out[4]), 0);
    char *a = slurp(out[0]);
    assert_non_null(a);
    check_plain(a);
    int later = 0;
    char want[64];
    for (int k = killed_at + 2; k <= 300; k++) {
        snprintf(want, sizeof want, "] iter %2d/300  cost ", k);
        later += strstr(a, want) != NULL;
    }
    if (later < (300 - killed_at - 1) * 9 / 10) {
        print_file(out[0]);
        fail_msg("%d iteration lines after the restart (killed at %d)", later, killed_at);
    }
    assert_non_null(strstr(a, "finished: done (status 0)"));
    free(a);
}

/* ------------------------------------------------------------------ (d) Prometheus */

/* GET path from 127.0.0.1:port; the whole answer (malloc'd) or NULL */
static char *http_get(int port, const char *path)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {5, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        close(s);
        return NULL;
    }
    char req[256];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    if (send(s, req, (size_t)n, 0) != n) {
        close(s);
        return NULL;
    }
    size_t cap = 1 << 20, len = 0;
    char *b = malloc(cap);
    ssize_t r;
    while ((r = recv(s, b + len, cap - 1 - len, 0)) > 0)
        len += (size_t)r;
    b[len] = '\0';
    close(s);
    return b;
}

typedef struct sample {
    char name[128];
    char labels[256];
    double value;
} sample_t;

/* parses a text exposition body: every line must be HELP, TYPE or a
 * sample of a family whose HELP and TYPE came before; fills samples */
static int parse_exposition(const char *body, sample_t *out, int max)
{
    regex_t help, type, smp;
    assert_int_equal(regcomp(&help, "^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) [^\n]*$", REG_EXTENDED), 0);
    assert_int_equal(regcomp(&type,
                             "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
                             "(counter|gauge|histogram|summary|untyped)$",
                             REG_EXTENDED),
                     0);
    const char *lab = "[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\"";
    char pat[1024];
    snprintf(pat, sizeof pat,
             "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(%s(,%s)*)?\\})? "
             "(NaN|[+-]Inf|[-+]?[0-9]+(\\.[0-9]*)?([eE][-+]?[0-9]+)?)( -?[0-9]+)?$",
             lab, lab);
    assert_int_equal(regcomp(&smp, pat, REG_EXTENDED), 0);
    char helped[64][128], typed[64][128], types[64][16];
    int nh = 0, nt = 0, ns = 0;
    char *t = strdup(body);
    assert_true(strlen(body) > 0 && body[strlen(body) - 1] == '\n');
    for (char *l = strtok(t, "\n"); l; l = strtok(NULL, "\n")) {
        regmatch_t m[8];
        if (regexec(&help, l, 2, m, 0) == 0) {
            assert_true(nh < 64);
            snprintf(helped[nh++], 128, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), l + m[1].rm_so);
        } else if (regexec(&type, l, 3, m, 0) == 0) {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(m[1].rm_eo - m[1].rm_so), l + m[1].rm_so);
            for (int i = 0; i < nt; i++)
                if (strcmp(typed[i], name) == 0) fail_msg("TYPE twice for %s", name);
            bool h = false;
            for (int i = 0; i < nh; i++)
                h = h || strcmp(helped[i], name) == 0;
            if (!h) fail_msg("TYPE without HELP for %s", name);
            assert_true(nt < 64);
            snprintf(typed[nt], 128, "%s", name);
            snprintf(types[nt++], 16, "%.*s", (int)(m[2].rm_eo - m[2].rm_so), l + m[2].rm_so);
        } else if (regexec(&smp, l, 4, m, 0) == 0) {
            sample_t *s = &out[ns];
            assert_true(ns < max);
            snprintf(s->name, sizeof s->name, "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
                     l + m[1].rm_so);
            s->labels[0] = '\0';
            if (m[3].rm_so >= 0)
                snprintf(s->labels, sizeof s->labels, "%.*s", (int)(m[3].rm_eo - m[3].rm_so),
                         l + m[3].rm_so);
            const char *v = strrchr(l, ' ') + 1;
            s->value = strcmp(v, "NaN") == 0 ? NAN : strtod(v, NULL);
            int ti = -1;
            for (int i = 0; i < nt; i++)
                if (strcmp(typed[i], s->name) == 0) ti = i;
            if (ti < 0) fail_msg("sample of %s before its TYPE", s->name);
            if (strcmp(types[ti], "counter") == 0) {
                size_t n = strlen(s->name);
                assert_true(n > 6 && strcmp(s->name + n - 6, "_total") == 0);
                assert_true(s->value >= 0);
            }
            ns++;
        } else {
            fail_msg("not a line of the text exposition format: '%s'", l);
        }
    }
    free(t);
    regfree(&help);
    regfree(&type);
    regfree(&smp);
    return ns;
}

static const sample_t *find(const sample_t *s, int n, const char *name, const char *labels)
{
    for (int i = 0; i < n; i++)
        if (strcmp(s[i].name, name) == 0 && strcmp(s[i].labels, labels ? labels : "") == 0)
            return &s[i];
    return NULL;
}

static void test_metrics(void **state)
{
    (void)state;
    char dir[300], log[400], url[256];
    dir_of(dir, sizeof dir, "prom");
    snprintf(log, sizeof log, "%s/../prom_run.out", dir);
    char *ra[] = {RUN, CONFIG,           "-w",          "2", "-d", dir, "-i", "400", "--threads",
                  "1", "--metrics-http", "127.0.0.1:0", NULL};
    pid_t run = start(ra, log);
    assert_true(wait_endpoint(dir, "metrics", url, sizeof url, 20));
    int port = 0;
    assert_int_equal(sscanf(url, "http://127.0.0.1:%d/metrics", &port), 1);
    double t0 = now_s();
    while (metrics_lines(dir) < 5 && now_s() - t0 < 60)
        sleep_ms(5);

    static sample_t s1[256], s2[256];
    char *a = http_get(port, "/metrics");
    assert_non_null(a);
    assert_int_equal(strncmp(a, "HTTP/1.1 200 OK\r\n", 17), 0);
    assert_non_null(strstr(a, "Content-Type: text/plain; version=0.0.4"));
    int n1 = parse_exposition(strstr(a, "\r\n\r\n") + 4, s1, 256);
    free(a);
    sleep_ms(600);
    a = http_get(port, "/metrics");
    assert_non_null(a);
    int n2 = parse_exposition(strstr(a, "\r\n\r\n") + 4, s2, 256);
    free(a);
    assert_int_equal(n1, n2);
    /* what the brief asks for */
    const char *need[] = {"gpsc_rollouts_done_total",
                          "gpsc_rollouts_reissued_total",
                          "gpsc_messages_refused_total",
                          "gpsc_workers_alive",
                          "gpsc_iteration",
                          "gpsc_workers_lost_total",
                          NULL};
    for (int i = 0; need[i]; i++)
        if (!find(s2, n2, need[i], NULL)) fail_msg("no %s", need[i]);
    assert_non_null(find(s2, n2, "gpsc_condition_cost", "condition=\"0\""));
    assert_non_null(find(s2, n2, "gpsc_condition_cost", "condition=\"1\""));
    assert_true(find(s2, n2, "gpsc_workers_alive", NULL)->value == 2);
    /* counters never go down; the run moved on */
    for (int i = 0; i < n1; i++) {
        size_t l = strlen(s1[i].name);
        if (l > 6 && strcmp(s1[i].name + l - 6, "_total") == 0) {
            const sample_t *b = find(s2, n2, s1[i].name, s1[i].labels);
            assert_non_null(b);
            assert_true(b->value >= s1[i].value);
        }
    }
    assert_true(find(s2, n2, "gpsc_rollouts_done_total", NULL)->value >
                find(s1, n1, "gpsc_rollouts_done_total", NULL)->value);
    assert_true(find(s2, n2, "gpsc_iteration", NULL)->value >
                find(s1, n1, "gpsc_iteration", NULL)->value);
    a = http_get(port, "/");
    assert_non_null(a);
    assert_int_equal(strncmp(a, "HTTP/1.1 404 ", 13), 0);
    free(a);
    /* the endpoint does not keep the run alive, and goes with it */
    assert_int_equal(wait_for(run, 120, log), 0);
    assert_null(http_get(port, "/metrics"));
    char *out = slurp(log);
    assert_non_null(strstr(out, "prometheus metrics on http://127.0.0.1:"));
    free(out);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_pipe, teardown),
        cmocka_unit_test_teardown(test_terminal, teardown),
        cmocka_unit_test_teardown(test_restart, teardown),
        cmocka_unit_test_teardown(test_endpoint_restart, teardown),
        cmocka_unit_test_teardown(test_metrics, teardown),
    };
    setup(NULL);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (rc == 0) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf %s", g_tmp);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
    }
    return rc;
}
