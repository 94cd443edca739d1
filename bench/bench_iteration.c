/* bench_iteration.c — `gpsc-bench learner --experiment FILE`: the phases of
 * real learner iterations (issue 6: cost, dynamics prior + fit, policy
 * prior, C-step, S-step) at 1 and 2 learner threads, and the whole
 * iteration including sampling on the cluster with 2 workers.
 *
 * It runs, one after the other in one invocation, gpsc-solo --threads 1,
 * gpsc-solo --threads 2 and gpsc-run --workers 2 --threads 2 on the same
 * experiment and seed (the three produce byte-identical checkpoints; only
 * the clock differs), reads each run's metrics.jsonl and prints the median
 * over iterations 1..K-1 of every phase side by side with the ratio, then
 * the cluster's iteration wall time (median and max). Iteration 0 is left
 * out of the medians: it holds the one-off initial S-step. */
#include "bench_iteration.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_IT 256

/* the phases of the learner's metrics ("ms" object), in print order */
static const char *const phases[] = {"cost",   "prior", "dynamics", "policy_fit",
                                     "cstep",  "sstep", "total",    NULL};
#define NPH 7

typedef struct run_ms {
    int n;                     /* iterations read */
    double ph[NPH][MAX_IT];    /* phase ms per iteration */
    double iter_ms[MAX_IT];    /* cluster: whole iteration incl. sampling (ms) */
    double sampling_ms[MAX_IT];/* cluster: sampling (ms) */
} run_ms_t;

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* median of v[1..n-1] (iteration 0 excluded); NaN when empty */
static double median_skip0(const double *v, int n)
{
    double tmp[MAX_IT];
    int k = 0;
    for (int i = 1; i < n; i++)
        if (!isnan(v[i]))
            tmp[k++] = v[i];
    if (k == 0)
        return NAN;
    qsort(tmp, (size_t)k, sizeof *tmp, cmp_d);
    return k % 2 ? tmp[k / 2] : 0.5 * (tmp[k / 2 - 1] + tmp[k / 2]);
}

static double max_skip0(const double *v, int n)
{
    double m = NAN;
    for (int i = 1; i < n; i++)
        if (!isnan(v[i]) && (isnan(m) || v[i] > m))
            m = v[i];
    return m;
}

/* runs argv (NULL-terminated) with stdout/stderr to /dev/null; 0 on exit 0 */
static int run(char *const argv[])
{
    fflush(stdout); /* else the child's freopen would flush our buffer too */
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            _exit(127);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static int read_metrics(run_ms_t *r, const char *dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    r->n = 0;
    while (getline(&line, &cap, f) > 0 && r->n < MAX_IT) {
        cJSON *j = cJSON_Parse(line);
        if (!j)
            continue;
        const cJSON *ms = cJSON_GetObjectItemCaseSensitive(j, "ms");
        int i = r->n++;
        for (int p = 0; p < NPH; p++)
            r->ph[p][i] = num(ms, phases[p]);
        r->iter_ms[i] = num(ms, "iteration");
        r->sampling_ms[i] = num(ms, "sampling");
        cJSON_Delete(j);
    }
    free(line);
    fclose(f);
    return r->n > 1 ? 0 : -1;
}

int gpsc_bench_iteration(const char *experiment, int iterations, const char *bindir)
{
    char tmpl[] = "/tmp/gpsc-bench-iter.XXXXXX";
    if (!mkdtemp(tmpl)) {
        fprintf(stderr, "gpsc-bench-learner: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    char solo[PATH_MAX], grun[PATH_MAX], its[16], d1[PATH_MAX], d2[PATH_MAX], dc[PATH_MAX];
    snprintf(solo, sizeof solo, "%s/gpsc-solo", bindir);
    snprintf(grun, sizeof grun, "%s/gpsc-run", bindir);
    snprintf(its, sizeof its, "%d", iterations);
    snprintf(d1, sizeof d1, "%s/solo-1t", tmpl);
    snprintf(d2, sizeof d2, "%s/solo-2t", tmpl);
    snprintf(dc, sizeof dc, "%s/cluster-2w", tmpl);
    char *a1[] = {solo, (char *)experiment, "--iterations", its, "--threads", "1", "--run-dir",
                  d1, "-q", NULL};
    char *a2[] = {solo, (char *)experiment, "--iterations", its, "--threads", "2", "--run-dir",
                  d2, "-q", NULL};
    char *ac[] = {grun, (char *)experiment, "--iterations", its, "--workers", "2", "--threads",
                  "2", "--run-dir", dc, "--no-eval", "-q", NULL};
    static run_ms_t r1, r2, rc;
    int rcode = 1;
    printf("learner iterations of %s, %d iterations (medians over iterations 1..%d)\n",
           experiment, iterations, iterations - 1);
    fflush(stdout);
    if (run(a1) || read_metrics(&r1, d1) || run(a2) || read_metrics(&r2, d2)) {
        fprintf(stderr, "gpsc-bench-learner: gpsc-solo failed (see %s)\n", tmpl);
        return 1;
    }
    printf("\nper-condition phases are thread time summed over the conditions; total is the\n"
           "learner's wall time per iteration (sampling excluded)\n");
    printf("\n%-12s %12s %12s %8s\n", "phase", "1 thread ms", "2 threads ms", "ratio");
    for (int p = 0; p < NPH; p++) {
        double m1 = median_skip0(r1.ph[p], r1.n), m2 = median_skip0(r2.ph[p], r2.n);
        printf("%-12s %12.1f %12.1f %8.2f\n", phases[p], m1, m2, m2 > 0 ? m1 / m2 : NAN);
    }
    for (int p = 0; p < NPH; p++)
        printf("iter_%s_ms_1t=%.1f\niter_%s_ms_2t=%.1f\n", phases[p],
               median_skip0(r1.ph[p], r1.n), phases[p], median_skip0(r2.ph[p], r2.n));
    if (run(ac) || read_metrics(&rc, dc)) {
        fprintf(stderr, "gpsc-bench-learner: gpsc-run failed (see %s)\n", tmpl);
        goto out;
    }
    double med = median_skip0(rc.iter_ms, rc.n), mx = max_skip0(rc.iter_ms, rc.n);
    printf("\ncluster, 2 workers, 2 learner threads: whole iteration incl. sampling\n"
           "  median %.0f ms, max %.0f ms (sampling median %.0f ms)\n",
           med, mx, median_skip0(rc.sampling_ms, rc.n));
    printf("cluster_iteration_ms_median=%.0f\ncluster_iteration_ms_max=%.0f\n", med, mx);
    rcode = 0;
out:;
    /* the run directories are large (checkpoints); remove them */
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    if (system(cmd) != 0)
        fprintf(stderr, "gpsc-bench-learner: could not remove %s\n", tmpl);
    return rcode;
}
