/* test_solo.c — system test of gpsc-solo on experiments/reacher.yaml
 * (MuJoCo): the run writes its checkpoints and metrics, the cost goes down,
 * a run interrupted and resumed ends byte-identical to an uninterrupted
 * one, and the result does not depend on the learner's thread count; for
 * gps2014 also the metrics of the global policy (lambda, the cost bound,
 * the measured global cost) and that the measurement changes no
 * checkpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ITERS 4

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gpsc-test-solo-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int solo(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "'%s/gpsc-solo' %s > '%s/out.txt' 2>&1", GPSC_BIN_DIR, args,
             tmpdir);
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(cmd, sizeof cmd, "cat '%s/out.txt'", tmpdir);
        (void)system(cmd);
    }
    return rc;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    if (b)
        b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void assert_same_file(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    uint8_t *x = read_file(a, &na), *y = read_file(b, &nb);
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(na, nb);
    assert_memory_equal(x, y, na);
    free(x);
    free(y);
}

static void test_reacher_trajopt(void **state)
{
    (void)state;
    char args[1024], p[1024], q[1024];
    const char *yaml = GPSC_SOURCE_DIR "/experiments/reacher.yaml";

    /* uninterrupted, 1 thread */
    snprintf(args, sizeof args, "'%s' --algorithm trajopt --iterations %d --run-dir '%s/a' -q",
             yaml, ITERS, tmpdir);
    assert_int_equal(solo(args), 0);
    for (int k = 0; k <= ITERS; k++) {
        snprintf(p, sizeof p, "%s/a/checkpoints/iter_%04d.pb", tmpdir, k);
        assert_int_equal(access(p, R_OK), 0);
    }
    snprintf(p, sizeof p, "%s/a/config.yaml", tmpdir);
    assert_int_equal(access(p, R_OK), 0);

    /* metrics: one line per iteration, the cost goes down */
    snprintf(p, sizeof p, "%s/a/metrics.jsonl", tmpdir);
    size_t n = 0;
    char *text = (char *)read_file(p, &n);
    assert_non_null(text);
    double first = 0, last = 0;
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        cJSON *c = cJSON_GetObjectItem(o, "sample_cost");
        assert_non_null(c);
        assert_int_equal(cJSON_GetObjectItem(o, "iteration")->valueint, lines);
        assert_non_null(cJSON_GetObjectItem(o, "ms"));
        if (lines == 0)
            first = c->valuedouble;
        last = c->valuedouble;
        lines++;
        cJSON_Delete(o);
    }
    free(text);
    assert_int_equal(lines, ITERS);
    print_message("reacher trajopt: cost %.3f -> %.3f\n", first, last);
    assert_true(last < first);

    /* interrupted after 2 iterations and resumed (2 threads): same files */
    snprintf(args, sizeof args, "'%s' --algorithm trajopt --iterations 2 --run-dir '%s/b' -q",
             yaml, tmpdir);
    assert_int_equal(solo(args), 0);
    snprintf(args, sizeof args, "--resume '%s/b' --iterations %d --threads 2 -q", tmpdir, ITERS);
    assert_int_equal(solo(args), 0);
    for (int k = 0; k <= ITERS; k++) {
        snprintf(p, sizeof p, "%s/a/checkpoints/iter_%04d.pb", tmpdir, k);
        snprintf(q, sizeof q, "%s/b/checkpoints/iter_%04d.pb", tmpdir, k);
        assert_same_file(p, q);
    }

    /* a resume with another experiment is refused */
    snprintf(args, sizeof args, "'%s' --algorithm mdgps --resume '%s/b' --iterations %d -q", yaml,
             tmpdir, ITERS + 1);
    assert_int_not_equal(solo(args), 0);
}
/* gps2014: 3 iterations; resumed with 2 threads equals uninterrupted;
 * without the global measurement the checkpoints are the same */
static void test_reacher_gps2014(void **state)
{
    (void)state;
    char args[1024], p[1024], q[1024];
    const char *yaml = GPSC_SOURCE_DIR "/experiments/reacher.yaml";
    const int K = 3;
    snprintf(args, sizeof args, "'%s' --algorithm gps2014 --iterations %d --run-dir '%s/g' -q",
             yaml, K, tmpdir);
    assert_int_equal(solo(args), 0);
    snprintf(p, sizeof p, "%s/g/metrics.jsonl", tmpdir);
    size_t n = 0;
    char *text = (char *)read_file(p, &n);
    assert_non_null(text);
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        cJSON *o = cJSON_Parse(line);
        assert_non_null(o);
        cJSON *cs = cJSON_GetObjectItem(o, "conditions");
        assert_non_null(cs);
        for (int m = 0; m < cJSON_GetArraySize(cs); m++) {
            cJSON *c = cJSON_GetArrayItem(cs, m);
            cJSON *lam = cJSON_GetObjectItem(c, "lambda_mean");
            cJSON *b = cJSON_GetObjectItem(c, "global_cost_bound");
            cJSON *lc = cJSON_GetObjectItem(c, "bound_local_cost");
            cJSON *g = cJSON_GetObjectItem(c, "global_cost_measured");
            assert_true(cJSON_IsNumber(lam) && lam->valuedouble > 0);
            assert_true(cJSON_IsNumber(b) && cJSON_IsNumber(lc));
            assert_true(b->valuedouble >= lc->valuedouble);
            /* measured from iteration 1 on, and below its bound */
            assert_true((g != NULL) == (lines >= 1));
            if (g)
                assert_true(g->valuedouble <= b->valuedouble);
        }
        cJSON_Delete(o);
    }
    free(text);
    assert_int_equal(lines, K);

    snprintf(args, sizeof args,
             "'%s' --algorithm gps2014 --iterations 2 --global-samples 0 --run-dir '%s/h' -q",
             yaml, tmpdir);
    assert_int_equal(solo(args), 0);
    snprintf(args, sizeof args, "--resume '%s/h' --iterations %d --threads 2 -q", tmpdir, K);
    assert_int_equal(solo(args), 0);
    for (int k = 0; k <= K; k++) {
        snprintf(p, sizeof p, "%s/g/checkpoints/iter_%04d.pb", tmpdir, k);
        snprintf(q, sizeof q, "%s/h/checkpoints/iter_%04d.pb", tmpdir, k);
        assert_same_file(p, q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reacher_trajopt),
        cmocka_unit_test(test_reacher_gps2014),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
