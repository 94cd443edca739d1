/* Fault tolerance of the cluster (coordinator/, worker/service.c,
 * coordinator/run_main.c): workers killed or hung at random moments while a
 * run goes on. The moments and the victims are drawn from a fixed seed; a
 * victim is picked among the workers that are running a rollout at that
 * moment (state R), so the faults land in the middle of tasks (for the
 * stops: among those that have joined the run, not one still starting).
 *
 *   kill   `gpsc run --workers 3`; a worker is killed with SIGKILL every
 *          200..600 ms (six times, or until the run ends). gpsc run starts
 *          a new worker in place of each (a "respawned worker" line); the
 *          coordinator re-issues what the dead one held.
 *   stop   a worker is stopped (SIGSTOP) for 0.7..0.9 s, longer than the
 *          task timeout (0.5 s) and shorter than its liveness (2 s), three
 *          times: its task times out and is re-issued ("timed out ...;
 *          re-issued"), and the copy it sends when it is continued is dropped
 *          as a duplicate or as stale. Before that a worker is stopped for
 *          good: the coordinator declares it lost, gpsc run kills it and
 *          starts another.
 *
 * Each run must complete and must be the fault-free run: checkpoints
 * byte-identical to gpsc-solo's (which the determinism test shows equal to
 * a fault-free cluster run) and the same metrics; every (iteration,
 * condition, sample) stored exactly once by the coordinator (its debug lines
 * with -l debug), as many results stored as tasks planned (its counters
 * line), the learner never sees a duplicate; no process left behind, no
 * sanitizer report. */
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
#include <unistd.h>

#include "cluster_util.h"

#define CONFIG GPSC_TEST_DATA "/cluster_fault.yaml"
#define ITERS "32" /* iterations of every run (the config has 8): time for the faults */
#define K 32
#define CONDS 2  /* training conditions */
#define SAMPLES 6 /* samples per condition */
#define SEED 20261122u

static char g_tmp[256]; /* this test's scratch directory */
static char g_solo[300]; /* gpsc-solo's run of CONFIG (made once) */

/* gpsc-solo's run, the reference */
static void reference(void)
{
    if (g_solo[0]) return;
    char dir[300], log[300];
    snprintf(dir, sizeof dir, "%s/solo", g_tmp);
    snprintf(log, sizeof log, "%s/solo.log", g_tmp);
    char *argv[] = {GPSC_BIN_DIR "/gpsc-solo", CONFIG, "--run-dir", dir, "--iterations", ITERS,
                    "--quiet", NULL};
    int rc = cu_run(argv, log, 300);
    if (rc != 0) cu_print_log(log);
    assert_int_equal(rc, 0);
    snprintf(g_solo, sizeof g_solo, "%s", dir);
}

/* gpsc run of CONFIG in the background, 3 workers, logging at debug */
static pid_t start_run(const char *dir, const char *log, const char *liveness,
                       const char *task_timeout)
{
    char *argv[] = {GPSC_BIN_DIR "/gpsc-run",
                    CONFIG,
                    "--run-dir",
                    (char *)dir,
                    "--iterations",
                    ITERS,
                    "--workers",
                    "3",
                    "--threads",
                    "1",
                    "--heartbeat",
                    "0.25",
                    "--liveness",
                    (char *)liveness,
                    "--task-timeout",
                    (char *)task_timeout,
                    "--log-level",
                    "debug",
                    NULL};
    return cu_start(argv, log);
}

/* true while the run (not reaped) still runs */
static bool running(pid_t run)
{
    char st = cu_proc_state(run);
    return st != '?' && st != 'Z' && st != 'X';
}

/* pids of the workers the coordinator logged as "worker X joined (host H, pid P, ..." */
static int joined_pids(const char *lj, pid_t *pids, int max)
{
    FILE *f = fopen(lj, "r");
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0 && n < max) {
        const char *p = strstr(line, " joined (host ");
        const char *q = p ? strstr(p, ", pid ") : NULL;
        int pid;
        if (q && strstr(line, "\"msg\":\"worker ") && sscanf(q, ", pid %d", &pid) == 1)
            pids[n++] = (pid_t)pid;
    }
    free(line);
    fclose(f);
    return n;
}

/* a worker of gpsc run `run` (with lj: one that has joined the run, not one
 * still starting): one in the middle of a rollout (state R) if one shows
 * within 300 ms, else any; 0 when there is none */
static pid_t pick_worker(pid_t run, cu_rng_t *rng, const char *lj)
{
    pid_t all[16], busy[16], ok[256];
    int n = 0, nok = lj ? joined_pids(lj, ok, 256) : 0;
    for (int tries = 0; tries < 300 && running(run); tries++) {
        n = cu_children_named(run, "gpsc-worker", all, 16);
        if (lj) {
            int k = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < nok; j++)
                    if (all[i] == ok[j]) {
                        all[k++] = all[i];
                        break;
                    }
            n = k;
        }
        int nb = 0;
        for (int i = 0; i < n; i++)
            if (cu_proc_state(all[i]) == 'R') busy[nb++] = all[i];
        if (nb > 0) return busy[cu_rng_range(rng, 0, nb - 1)];
        cu_sleep_ms(1);
    }
    return n > 0 ? all[cu_rng_range(rng, 0, n - 1)] : 0;
}

/* the run ended well and is the fault-free run; its counters */
static void check_run(const char *dir, const char *log, cu_counters_t *cnt)
{
    assert_int_equal(cu_children_after(5), 0);
    cu_clean_outputs(dir, log);
    cu_same_checkpoints(g_solo, dir, K);
    cu_same_metrics(g_solo, dir, K);
    char lj[400];
    snprintf(lj, sizeof lj, "%s/log.jsonl", dir);
    cu_read_counters(lj, cnt);
    assert_int_equal(cnt->stored, cnt->planned);
    cu_check_stored_once(lj, K, CONDS, SAMPLES, cnt->planned);
    /* the learner got each sample once, and all of them when told complete */
    assert_int_equal(cu_count_msgs(lj, "learner", "duplicate"), 0);
    assert_int_equal(cu_count_msgs(lj, "learner", "trajectories are here"), 0);
    print_message("  counters: %llu tasks planned, %llu stored, %llu re-issued, %llu duplicates, "
                  "%llu stale, %llu rejected; %llu workers joined, %llu lost\n",
                  cnt->planned, cnt->stored, cnt->reissued, cnt->duplicates, cnt->stale,
                  cnt->rejected, cnt->joined, cnt->lost);
}

/* "worker X lost: <why>; N task(s) re-issued" lines: how many, and the N summed */
static int workers_lost(const char *lj, int *tasks)
{
    *tasks = 0;
    FILE *f = fopen(lj, "r");
    if (!f) return 0;
    char *line = NULL;
    size_t cap = 0;
    int lines = 0;
    while (getline(&line, &cap, f) > 0) {
        const char *p = strstr(line, "\"msg\":\"worker ");
        const char *q = p ? strstr(p, " lost: ") : NULL;
        const char *r = q ? strstr(q, "; ") : NULL;
        int n;
        if (r && strstr(line, "\"role\":\"coordinator\"") && sscanf(r, "; %d task", &n) == 1) {
            lines++;
            *tasks += n;
        }
    }
    free(line);
    fclose(f);
    return lines;
}

static void test_kill(void **state)
{
    (void)state;
    reference();
    char dir[300], log[300], lj[400];
    snprintf(dir, sizeof dir, "%s/kill", g_tmp);
    snprintf(log, sizeof log, "%s/kill.log", g_tmp);
    snprintf(lj, sizeof lj, "%s/log.jsonl", dir);
    pid_t run = start_run(dir, log, "8", "10");
    cu_rng_t rng = {SEED};
    int kills = 0;
    double t0 = cu_now_s();
    while (kills < 6 && running(run) && cu_now_s() - t0 < 120) {
        cu_sleep_ms(cu_rng_range(&rng, 200, 600));
        pid_t w = pick_worker(run, &rng, NULL);
        if (w <= 0 || !running(run)) continue;
        if (kill(w, SIGKILL) == 0) kills++;
    }
    int rc = cu_wait(run, 300);
    if (rc != 0) cu_print_log(log);
    assert_int_equal(rc, 0);
    if (kills < 3) fail_msg("only %d kills before the run ended: the test proves little", kills);

    cu_counters_t cnt;
    check_run(dir, log, &cnt);
    int reissued = 0;
    int lost = workers_lost(lj, &reissued);
    int respawned = cu_count_msgs(lj, "coordinator", "respawned worker: ");
    /* a worker silent for the liveness on a loaded machine is killed and replaced too */
    int hung = cu_count_msgs(lj, "coordinator", "but its process still runs: killing it");
    print_message("  %d SIGKILLs: %d workers lost (%d tasks re-issued), %d respawned, %d hung\n",
                  kills, lost, reissued, respawned, hung);
    /* a worker killed before it joined is not "lost"; each kill is replaced
     * unless it came as the run ended */
    assert_true(lost >= 1 && lost <= kills + hung);
    assert_true(respawned >= kills - 1 && respawned <= kills + hung);
    assert_true(reissued >= 1);
    assert_true(cnt.reissued >= (unsigned long long)reissued);
    assert_int_equal(cnt.lost, (unsigned long long)lost);
}

static void test_stop(void **state)
{
    (void)state;
    reference();
    char dir[300], log[300], lj[400];
    snprintf(dir, sizeof dir, "%s/stop", g_tmp);
    snprintf(log, sizeof log, "%s/stop.log", g_tmp);
    snprintf(lj, sizeof lj, "%s/log.jsonl", dir);
    /* liveness 8 x 0.25 s = 2 s; task timeout 0.5 s */
    double t_start = cu_now_s();
    pid_t run = start_run(dir, log, "8", "0.5");
    cu_rng_t rng = {SEED + 1};
    int misses = 0; /* picks that found no worker */
    /* one stopped for good: declared lost, killed and replaced by gpsc run */
    bool replaced = false;
    cu_sleep_ms(cu_rng_range(&rng, 200, 500));
    pid_t w = pick_worker(run, &rng, lj);
    misses += w <= 0;
    if (w > 0 && kill(w, SIGSTOP) == 0) {
        double t0 = cu_now_s();
        while (running(run) && cu_now_s() - t0 < 30 && !replaced) {
            cu_sleep_ms(50);
            replaced = cu_count_msgs(lj, "coordinator", "respawned worker: ") > 0;
        }
        kill(w, SIGCONT);
    }
    /* then three stopped for a while */
    int stops = 0;
    while (stops < 3 && running(run)) {
        cu_sleep_ms(cu_rng_range(&rng, 200, 500));
        w = pick_worker(run, &rng, lj);
        misses += w <= 0;
        if (w <= 0 || kill(w, SIGSTOP) != 0) continue;
        stops++;
        cu_sleep_ms(cu_rng_range(&rng, 700, 900));
        kill(w, SIGCONT);
    }
    double t_faults = cu_now_s() - t_start;
    int rc = cu_wait(run, 300);
    if (rc != 0) cu_print_log(log);
    assert_int_equal(rc, 0);
    if (stops < 3 || !replaced)
        fail_msg("%d of 3 stops, and the hung worker %s, after %.1f s of a %.1f s run (%d picks "
                 "found no worker): the run ended too early",
                 stops, replaced ? "replaced" : "not replaced", t_faults, cu_now_s() - t_start,
                 misses);

    cu_counters_t cnt;
    check_run(dir, log, &cnt);
    int timed_out = cu_count_msgs(lj, "coordinator", "timed out after 0.5 s");
    int reissued_to = cu_count_msgs(lj, "coordinator", ") re-issued to ");
    int late = cu_count_msgs(lj, "coordinator", "dropped duplicate trajectory") +
               cu_count_msgs(lj, "coordinator", "dropped stale trajectory");
    int killed = cu_count_msgs(lj, "coordinator", "but its process still runs: killing it");
    int respawned = cu_count_msgs(lj, "coordinator", "respawned worker: ");
    print_message("  %d stops: %d time-outs, %d re-issues, %d late copies dropped; "
                  "%d hung worker killed, %d respawned\n",
                  stops, timed_out, reissued_to, late, killed, respawned);
    assert_true(timed_out >= 1);
    assert_true(reissued_to >= timed_out);
    assert_true(late >= 1);
    assert_int_equal(cnt.duplicates + cnt.stale, (unsigned long long)late);
    assert_true(killed >= 1);
    assert_int_equal(respawned, killed);
}

static int setup(void **state)
{
    (void)state;
    return cu_setup(g_tmp, sizeof g_tmp, "fault");
}

static int teardown(void **state)
{
    (void)state;
    return cu_teardown(g_tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill), cmocka_unit_test(test_stop)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
