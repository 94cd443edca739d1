/* The peg7 acceptance run on the cluster:
 *
 *   gpsc run experiments/peg7.yaml --algorithm trajopt --iterations 10 --workers 2
 *
 * must insert the peg in every training condition: in the final evaluation
 * the noise-free (mean-action) rollout of each of the 4 conditions ends with
 * the peg tip closer to the slot bottom than the success threshold
 * (summary.txt), and the mean sampled cost falls over the iterations
 * (metrics.jsonl: the last iteration below the first, the last within 1 % of
 * the total improvement of the best, a negative least-squares slope). The
 * per-iteration costs are printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_util.h"

#define CONFIG GPSC_SOURCE_DIR "/experiments/peg7.yaml"
#define K 10 /* iterations */
#define M 4  /* training conditions */

static char g_tmp[256];

/* mean sampled cost of each iteration from metrics.jsonl; how many lines */
static int read_costs(const char *dir, double *cost, int max)
{
    char path[400];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *line = NULL;
    size_t cap = 0;
    int n = 0;
    while (getline(&line, &cap, f) > 0 && n < max) {
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        assert_int_equal(cJSON_GetObjectItem(o, "iteration")->valueint, n);
        const cJSON *c = cJSON_GetObjectItem(o, "sample_cost");
        assert_true(cJSON_IsNumber(c));
        cost[n++] = c->valuedouble;
        cJSON_Delete(o);
    }
    free(line);
    fclose(f);
    return n;
}

static void test_peg7_trajopt(void **state)
{
    (void)state;
    char dir[300], log[300], path[400];
    snprintf(dir, sizeof dir, "%s/peg7", g_tmp);
    snprintf(log, sizeof log, "%s/peg7.log", g_tmp);
    char *argv[] = {GPSC_BIN_DIR "/gpsc-run", CONFIG,    "--algorithm", "trajopt", "--iterations",
                    "10",                     "--workers", "2",           "--threads", "2",
                    "--run-dir",              dir,         NULL};
    double t0 = cu_now_s();
    int rc = cu_run(argv, log, 500);
    if (rc != 0) cu_print_log(log);
    assert_int_equal(rc, 0);
    print_message("  gpsc run: %.1f s\n", cu_now_s() - t0);
    assert_int_equal(cu_children_after(5), 0);
    cu_clean_outputs(dir, log);

    /* the cost falls */
    double cost[K + 1];
    assert_int_equal(read_costs(dir, cost, K + 1), K);
    double best = cost[0], sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int k = 0; k < K; k++) {
        print_message("  iteration %2d: mean sample cost %10.3f\n", k, cost[k]);
        best = fmin(best, cost[k]);
        sx += k;
        sy += cost[k];
        sxx += (double)k * k;
        sxy += k * cost[k];
    }
    double slope = (K * sxy - sx * sy) / (K * sxx - sx * sx);
    print_message("  slope %.2f per iteration\n", slope);
    assert_true(cost[K - 1] < cost[0]);
    assert_true(cost[K - 1] <= best + 0.01 * (cost[0] - best));
    assert_true(slope < 0);

    /* the final evaluation: every noise-free rollout inserts the peg */
    snprintf(path, sizeof path, "%s/summary.txt", dir);
    char *text = cu_slurp(path, NULL);
    assert_non_null(text);
    print_message("%s", text);
    const char *s = strstr(text, "success (");
    assert_non_null(s);
    double thr = 0;
    int ok = 0, n = 0, mok = 0, mn = 0;
    assert_int_equal(sscanf(s, "success (final_ee_distance <= %lf): %d/%d noisy samples, %d/%d "
                               "mean-action rollouts",
                            &thr, &ok, &n, &mok, &mn),
                     5);
    assert_int_equal(mn, M);
    assert_int_equal(mok, M);
    /* and each row's mean-action distance is below the threshold */
    int rows = 0;
    for (const char *line = strchr(text, '\n') + 1; line && *line && line < s;
         line = strchr(line, '\n') + 1) {
        int m;
        double first, final, dist, mdist;
        int succ, of;
        char yes[8];
        if (sscanf(line, "%d %lf %lf %lf %d/%d %lf %7s", &m, &first, &final, &dist, &succ, &of,
                   &mdist, yes) != 8)
            continue;
        assert_int_equal(m, rows);
        assert_true(mdist < thr);
        assert_string_equal(yes, "yes");
        assert_true(final < first);
        rows++;
    }
    assert_int_equal(rows, M);
    free(text);
}

static int setup(void **state)
{
    (void)state;
    return cu_setup(g_tmp, sizeof g_tmp, "peg7");
}

static int teardown(void **state)
{
    (void)state;
    return cu_teardown(g_tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_peg7_trajopt)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
