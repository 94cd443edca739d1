/* test_eval.c — `gpsc eval` (worker/eval.{h,c}, worker/eval_main.c).
 *
 * Library: gpsc_eval_run gives the same bits for 1 and 3 threads, refuses
 * local controllers on test conditions and a network of the wrong shape;
 * gpsc_eval_json merges by (policy, split), drops another checkpoint's
 * results and sorts.
 * System (MuJoCo): gpsc-solo runs reacher (MDGPS) for 3 iterations and
 * trajopt for 1; gpsc-eval prints the table and writes eval.json in the
 * report's format, agrees with gpsc-solo's own evaluation of the final
 * network, is deterministic (two evaluations, any thread count: identical
 * bytes), merges and replaces results, and fails clearly on bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/experiment.h"
#include "common/mlp.h"
#include "worker/env.h"
#include "worker/eval.h"

#define REACHER GPSC_SOURCE_DIR "/experiments/reacher.yaml"
#define ITERS 3

static char tmpdir[256];

/* ---- helpers ---- */

static char *read_text(const char *path)
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
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

/* runs BIN_DIR/prog args with stdout to tmp/out.txt and stderr to
 * tmp/err.txt; returns the exit status (-1 when it did not exit) */
static int run(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int run(const char *prog, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s/%s' %s > '%s/out.txt' 2> '%s/err.txt'", GPSC_BIN_DIR, prog, args,
             tmpdir, tmpdir);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *out_text(const char *which)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s.txt", tmpdir, which);
    return read_text(p);
}

static void show(void)
{
    char *o = out_text("out"), *e = out_text("err");
    fprintf(stderr, "--- stdout\n%s--- stderr\n%s", o ? o : "", e ? e : "");
    free(o);
    free(e);
}

static void assert_err_contains(const char *needle)
{
    char *e = out_text("err");
    assert_non_null(e);
    if (!strstr(e, needle)) fprintf(stderr, "stderr lacks '%s':\n%s", needle, e);
    assert_non_null(strstr(e, needle));
    free(e);
}

static cJSON *load_json(const char *path)
{
    char *t = read_text(path);
    assert_non_null(t);
    cJSON *o = cJSON_Parse(t);
    free(t);
    assert_non_null(o);
    return o;
}

static const char *sget(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_true(cJSON_IsString(v));
    return v->valuestring;
}

static double nget(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void assert_same_text(const char *a, const char *b)
{
    char *x = read_text(a), *y = read_text(b);
    assert_non_null(x);
    assert_non_null(y);
    assert_string_equal(x, y);
    free(x);
    free(y);
}

static int load_reacher(gpsc_experiment_t *exp)
{
    char err[1024];
    int rc = gpsc_experiment_load(REACHER, exp, err, sizeof err);
    if (rc == 0) rc = gpsc_env_resolve_experiment(exp, err, sizeof err);
    if (rc) fprintf(stderr, "%s\n", err);
    return rc;
}

/* ---- fixtures ---- */

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gpsc-test-eval-XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    /* an MDGPS run (whose output holds gpsc-solo's own evaluation) and a trajopt run */
    if (run("gpsc-solo", "'%s' --iterations %d --run-dir '%s/run'", REACHER, ITERS, tmpdir)) {
        show();
        return -1;
    }
    char src[512], dst[512];
    snprintf(src, sizeof src, "%s/out.txt", tmpdir);
    snprintf(dst, sizeof dst, "%s/solo.txt", tmpdir);
    if (rename(src, dst) != 0) return -1;
    if (run("gpsc-solo", "'%s' --algorithm trajopt --iterations 1 --run-dir '%s/traj' -q", REACHER,
            tmpdir)) {
        show();
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- library ---- */

static void test_run_threads_and_args(void **state)
{
    (void)state;
    gpsc_experiment_t exp;
    assert_int_equal(load_reacher(&exp), 0);
    const gpsc_exp_dims_t *d = &exp.dims;
    int hidden[1] = {8};
    gpsc_mlp_t *net = gpsc_mlp_new(d->dO, d->dU, 1, hidden, GPSC_MLP_TANH);
    assert_non_null(net);
    for (size_t i = 0; i < net->n_params; i++)
        net->params[i] = 0.05 * sin(0.7 * (double)i); /* any fixed network */
    for (int i = 0; i < d->dO; i++)
        net->obs_scale[i] = 1.0;
    for (int i = 0; i < d->dU; i++)
        net->var[i] = 0.01;

    int n = gpsc_experiment_n_conditions(&exp), conds[16];
    for (int c = 0; c < n; c++)
        conds[c] = c;
    gpsc_eval_result_t a[16], b[16];
    char err[512];
    gpsc_eval_cfg_t cfg = {GPSC_POLICY_GLOBAL, false, 3, 1, 7, 2};
    assert_int_equal(gpsc_eval_run(a, &exp, &cfg, net, NULL, conds, n, err, sizeof err), 0);
    cfg.threads = 3;
    assert_int_equal(gpsc_eval_run(b, &exp, &cfg, net, NULL, conds, n, err, sizeof err), 0);
    for (int i = 0; i < n; i++) {
        assert_int_equal(a[i].condition, i);
        assert_int_equal(a[i].test, i >= exp.n_train);
        assert_int_equal(a[i].rollouts, 3);
        assert_int_equal(a[i].n_paths, 2);
        assert_true(isfinite(a[i].mean_cost) && a[i].cost_std > 0); /* noisy rollouts differ */
        assert_memory_equal(&a[i].mean_cost, &b[i].mean_cost, sizeof(double));
        assert_memory_equal(&a[i].final_distance, &b[i].final_distance, sizeof(double));
        assert_int_equal(a[i].successes, b[i].successes);
        assert_memory_equal(a[i].ee, b[i].ee, sizeof(double) * 2 * exp.T * 3);
        gpsc_eval_result_free(&b[i]);
    }
    /* another seed, other noise */
    cfg.seed = 8;
    assert_int_equal(gpsc_eval_run(b, &exp, &cfg, net, NULL, conds, n, err, sizeof err), 0);
    assert_true(a[0].mean_cost != b[0].mean_cost);
    for (int i = 0; i < n; i++)
        gpsc_eval_result_free(&b[i]);
    /* noiseless: every rollout the same */
    cfg.noiseless = true;
    assert_int_equal(gpsc_eval_run(b, &exp, &cfg, net, NULL, conds, n, err, sizeof err), 0);
    assert_true(b[0].cost_std == 0);
    for (int i = 0; i < n; i++)
        gpsc_eval_result_free(&b[i]);

    /* refusals */
    const gpsc_lgpolicy_t *loc[8] = {0};
    gpsc_lgpolicy_t *lg = gpsc_lgpolicy_new(exp.T, d->dX, d->dU);
    assert_non_null(lg);
    for (int m = 0; m < exp.n_train; m++)
        loc[m] = lg;
    cfg.policy = GPSC_POLICY_LOCAL;
    assert_int_equal(gpsc_eval_run(b, &exp, &cfg, NULL, loc, conds, n, err, sizeof err),
                     GPSC_ERANGE);
    assert_non_null(strstr(err, "test condition"));
    assert_int_equal(gpsc_eval_run(b, &exp, &cfg, NULL, loc, conds, exp.n_train, err, sizeof err),
                     0);
    for (int i = 0; i < exp.n_train; i++) {
        assert_int_equal(b[i].rollouts, cfg.samples);
        gpsc_eval_result_free(&b[i]);
    }
    gpsc_mlp_t *wrong = gpsc_mlp_new(d->dO + 1, d->dU, 1, hidden, GPSC_MLP_TANH);
    cfg.policy = GPSC_POLICY_GLOBAL;
    assert_int_equal(gpsc_eval_run(b, &exp, &cfg, wrong, NULL, conds, n, err, sizeof err),
                     GPSC_EDIM);
    cfg.samples = 0;
    assert_int_equal(gpsc_eval_run(b, &exp, &cfg, net, NULL, conds, n, err, sizeof err),
                     GPSC_ERANGE);

    /* the document: merge by (policy, split), another checkpoint's results dropped */
    cfg = (gpsc_eval_cfg_t){GPSC_POLICY_GLOBAL, false, 3, 1, 7, 2};
    gpsc_eval_info_t info = {"checkpoints/iter_0003.pb", 3, "reacher-x"};
    int kept = -1, dropped = -1;
    char *doc = gpsc_eval_json(NULL, &exp, &info, &cfg, a, n, &kept, &dropped);
    assert_non_null(doc);
    assert_int_equal(kept, 0);
    assert_int_equal(dropped, 0);
    cJSON *o = cJSON_Parse(doc);
    assert_non_null(o);
    assert_string_equal(sget(o, "format"), "gpsc-eval/1");
    assert_int_equal((int)nget(o, "iteration"), 3);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "results")), n);
    cJSON_Delete(o);
    /* train only, as local: the global results stay, sorted by condition then policy */
    gpsc_eval_cfg_t lc = cfg;
    lc.policy = GPSC_POLICY_LOCAL;
    char *doc2 = gpsc_eval_json(doc, &exp, &info, &lc, a, exp.n_train, &kept, &dropped);
    assert_non_null(doc2);
    assert_int_equal(kept, n);
    assert_int_equal(dropped, 0);
    o = cJSON_Parse(doc2);
    const cJSON *res = cJSON_GetObjectItem(o, "results");
    assert_int_equal(cJSON_GetArraySize(res), n + exp.n_train);
    assert_string_equal(sget(cJSON_GetArrayItem(res, 0), "policy"), "global");
    assert_string_equal(sget(cJSON_GetArrayItem(res, 1), "policy"), "local");
    assert_int_equal((int)nget(cJSON_GetArrayItem(res, 1), "condition"), 0);
    assert_int_equal((int)nget(cJSON_GetArrayItem(res, 2), "condition"), 1);
    cJSON_Delete(o);
    /* the same global train results again: 4 replaced, the rest kept; the same bytes */
    char *doc3 = gpsc_eval_json(doc2, &exp, &info, &cfg, a, exp.n_train, &kept, &dropped);
    assert_int_equal(dropped, exp.n_train);
    assert_int_equal(kept, (n - exp.n_train) + exp.n_train); /* global test + local */
    assert_string_equal(doc2, doc3);
    /* another checkpoint: nothing kept */
    gpsc_eval_info_t other = {"checkpoints/iter_0002.pb", 2, NULL};
    char *doc4 = gpsc_eval_json(doc2, &exp, &other, &cfg, a, 1, &kept, &dropped);
    assert_int_equal(kept, 0);
    assert_int_equal(dropped, n + exp.n_train);
    free(doc4);
    /* garbage: ignored */
    doc4 = gpsc_eval_json("{not json", &exp, &info, &cfg, a, 1, &kept, &dropped);
    assert_non_null(doc4);
    assert_int_equal(kept, 0);
    free(doc);
    free(doc2);
    free(doc3);
    free(doc4);

    for (int i = 0; i < n; i++)
        gpsc_eval_result_free(&a[i]);
    gpsc_lgpolicy_destroy(&lg);
    gpsc_mlp_destroy(&net);
    gpsc_mlp_destroy(&wrong);
    gpsc_experiment_free(&exp);
}

/* ---- the command ---- */

static void test_table_json_and_solo(void **state)
{
    (void)state;
    if (run("gpsc-eval", "'%s/run' --threads 2", tmpdir)) {
        show();
        fail();
    }
    char *out = out_text("out");
    assert_non_null(out);
    assert_non_null(strstr(out, "checkpoints/iter_0003.pb"));
    assert_non_null(strstr(out, "all train"));
    assert_non_null(strstr(out, "all test"));
    assert_non_null(strstr(out, "final dist (m)"));
    free(out);

    char p[512];
    snprintf(p, sizeof p, "%s/run/eval.json", tmpdir);
    cJSON *o = load_json(p);
    assert_string_equal(sget(o, "format"), "gpsc-eval/1");
    assert_string_equal(sget(o, "checkpoint"), "checkpoints/iter_0003.pb");
    assert_int_equal((int)nget(o, "iteration"), ITERS);
    assert_string_equal(sget(o, "metric"), "final_ee_distance");
    assert_true(fabs(nget(o, "threshold") - 0.02) < 1e-12);
    assert_int_equal((int)nget(o, "point"), 0);
    const cJSON *res = cJSON_GetObjectItem(o, "results");
    assert_int_equal(cJSON_GetArraySize(res), 6);

    /* gpsc-solo's last line of its own evaluation: "global policy (mean action): v v ...
     * | test v v", failing values in parentheses */
    snprintf(p, sizeof p, "%s/solo.txt", tmpdir);
    char *solo = read_text(p);
    assert_non_null(solo);
    char *line = strstr(solo, "global policy (mean action):");
    assert_non_null(line);
    line += strlen("global policy (mean action):");
    double sv[6];
    int ns = 0;
    for (char *q = line; *q && *q != '\n' && ns < 6; q++)
        if ((*q >= '0' && *q <= '9') || *q == '-') {
            sv[ns++] = strtod(q, &q);
            q--;
        }
    assert_int_equal(ns, 6);
    free(solo);

    for (int i = 0; i < 6; i++) {
        const cJSON *r = cJSON_GetArrayItem(res, i);
        assert_int_equal((int)nget(r, "condition"), i);
        assert_string_equal(sget(r, "split"), i < 4 ? "train" : "test");
        assert_string_equal(sget(r, "policy"), "global");
        assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "noiseless")));
        assert_int_equal((int)nget(r, "rollouts"), 1);
        double fd = nget(r, "final_distance"), succ = nget(r, "successes");
        assert_true(fd > 0 && fd < 1);
        assert_true(succ == (fd <= 0.02 ? 1 : 0));
        assert_true(isfinite(nget(r, "mean_cost")));
        /* the same network, the same mean-action rollout as gpsc-solo's */
        assert_true(fabs(fd - sv[i]) <= 0.0005 + 1e-12);
        const cJSON *ee = cJSON_GetObjectItem(r, "ee");
        assert_int_equal(cJSON_GetArraySize(ee), 1);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetArrayItem(ee, 0)), 50);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetArrayItem(cJSON_GetArrayItem(ee, 0), 0)), 3);
    }
    cJSON_Delete(o);
}

static void test_deterministic(void **state)
{
    (void)state;
    char a[512], b[512], c[512];
    snprintf(a, sizeof a, "%s/a.json", tmpdir);
    snprintf(b, sizeof b, "%s/b.json", tmpdir);
    snprintf(c, sizeof c, "%s/c.json", tmpdir);
    /* the default (mean actions), 1 and 2 threads */
    assert_int_equal(run("gpsc-eval", "'%s/run' -q --threads 1 --json '%s'", tmpdir, a), 0);
    assert_int_equal(run("gpsc-eval", "'%s/run' -q --threads 2 --json '%s'", tmpdir, b), 0);
    assert_same_text(a, b);
    /* noisy rollouts, twice */
    unlink(a);
    unlink(b);
    assert_int_equal(run("gpsc-eval", "'%s/run' -q --noise -n 3 -t 1 --json '%s'", tmpdir, a), 0);
    assert_int_equal(run("gpsc-eval", "'%s/run' -q --noise -n 3 -t 2 --json '%s'", tmpdir, b), 0);
    assert_same_text(a, b);
    /* '-': this evaluation alone on stdout, identical to the file */
    assert_int_equal(run("gpsc-eval", "'%s/run' --noise -n 3 --json -", tmpdir), 0);
    snprintf(c, sizeof c, "%s/out.txt", tmpdir);
    assert_same_text(a, c);
    cJSON *o = load_json(a);
    const cJSON *r0 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "results"), 0);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(r0, "noiseless")));
    assert_int_equal((int)nget(r0, "rollouts"), 3);
    assert_true(nget(r0, "cost_std") > 0);
    cJSON_Delete(o);
}

static void test_merge(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof p, "%s/m.json", tmpdir);
    assert_int_equal(run("gpsc-eval", "'%s/run' -q --json '%s'", tmpdir, p), 0);
    /* the local controllers join the global policy's results */
    assert_int_equal(run("gpsc-eval", "'%s/run' --policy local --json '%s'", tmpdir, p), 0);
    char *out = out_text("out");
    assert_non_null(strstr(out, "kept 6 earlier results"));
    free(out);
    cJSON *o = load_json(p);
    const cJSON *res = cJSON_GetObjectItem(o, "results");
    assert_int_equal(cJSON_GetArraySize(res), 10);
    int locals = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, res) locals += strcmp(sget(r, "policy"), "local") == 0;
    assert_int_equal(locals, 4);
    cJSON_Delete(o);
    /* the global test results replaced by noisy ones */
    assert_int_equal(
        run("gpsc-eval", "'%s/run' -q --conditions test --noise -n 2 --json '%s'", tmpdir, p), 0);
    o = load_json(p);
    res = cJSON_GetObjectItem(o, "results");
    assert_int_equal(cJSON_GetArraySize(res), 10);
    cJSON_ArrayForEach(r, res)
    {
        bool test = strcmp(sget(r, "split"), "test") == 0;
        assert_int_equal((int)nget(r, "rollouts"), test ? 2 : 1);
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(r, "noiseless")),
                         !test || strcmp(sget(r, "policy"), "local") == 0);
    }
    cJSON_Delete(o);
    /* another checkpoint starts a new document */
    assert_int_equal(
        run("gpsc-eval", "'%s/run' -q --checkpoint 0 --conditions train --json '%s'", tmpdir, p),
        0);
    o = load_json(p);
    assert_string_equal(sget(o, "checkpoint"), "checkpoints/iter_0000.pb");
    assert_int_equal((int)nget(o, "iteration"), 0);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "results")), 4);
    cJSON_Delete(o);
}

static void test_errors(void **state)
{
    (void)state;
    assert_int_equal(run("gpsc-eval", "--help"), 0);
    char *out = out_text("out");
    assert_non_null(strstr(out, "--conditions"));
    assert_non_null(strstr(out, "--checkpoint"));
    free(out);

    assert_int_equal(run("gpsc-eval", "'%s/missing'", tmpdir), 2);
    assert_err_contains("No such file or directory");
    char p[512];
    snprintf(p, sizeof p, "%s/empty", tmpdir);
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_equal(run("gpsc-eval", "'%s'", p), 2);
    assert_err_contains("no checkpoints");
    assert_int_equal(run("gpsc-eval", "'%s/traj'", tmpdir), 2);
    assert_err_contains("trajopt run: it has no global policy");
    assert_int_equal(run("gpsc-eval", "'%s/traj' -q --policy local", tmpdir), 0);
    assert_int_equal(run("gpsc-eval", "'%s/run' --policy local --conditions test", tmpdir), 2);
    assert_err_contains("local controllers exist only for training conditions");
    assert_int_equal(run("gpsc-eval", "'%s/run' --checkpoint 99", tmpdir), 2);
    assert_err_contains("the latest checkpoint is iter_0003.pb");
    assert_int_equal(run("gpsc-eval", "'%s/run' --samples 4", tmpdir), 2);
    assert_err_contains("add --noise");
    assert_int_equal(run("gpsc-eval", "'%s/run' --policy best", tmpdir), 2);
    assert_err_contains("--policy must be global or local");
    assert_int_equal(run("gpsc-eval", "'%s/run' --samples x", tmpdir), 2);
    assert_int_equal(run("gpsc-eval", "%s", ""), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_threads_and_args),
        cmocka_unit_test(test_table_json_and_solo),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
