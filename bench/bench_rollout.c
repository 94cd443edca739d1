/* gpsc-bench-rollout — what the rollout path costs on top of MuJoCo.
 *
 * In one process and interleaved (bare, full, bare, full, ...):
 *   bare: reset the condition, then the same number of mj_step calls as a
 *         rollout makes, replaying the actions of the previous full rollout
 *         (so both do the same physics, contacts included);
 *   full: gpsc_rollout_run (noise, policy, state/observation assembly,
 *         end-effector points and Jacobians, per-step costs) plus encoding
 *         the trajectory as the worker sends it.
 * Prints both rates in mj_steps per second and
 *   rollout_ratio = median over back-to-back pairs of (bare time / full time)
 * (the full/bare rate ratio, robust to other processes on the machine)
 * (1.0 = the rollout machinery is free). --mlp also times the network
 * forward pass as plain loops (common/mlp.c) against OpenBLAS gemv. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mujoco/mujoco.h>

#include "common/error.h"
#include "common/experiment.h"
#include "common/la.h"
#include "common/lgpolicy.h"
#include "common/mlp.h"
#include "common/rng.h"
#include "worker/env.h"
#include "worker/initctl.h"
#include "worker/msgs.h"
#include "worker/rollout.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* median of n values (sorts them) */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gpsc-bench-rollout --experiment FILE.yaml [options]\n"
               "\n"
               "Times a bare mj_step loop against the full rollout path (policy, noise,\n"
               "state assembly, Jacobians, costs, trajectory encoding) on the same model,\n"
               "condition and step count, interleaved in one process, and prints\n"
               "rollout_ratio = full / bare mj_steps per second.\n"
               "\n"
               "  -e, --experiment FILE  experiment YAML (required)\n"
               "  -c, --condition N      condition (default 0)\n"
               "  -r, --rollouts N       rollouts of each kind (default 300)\n"
               "  -g, --global           act with a random network (hidden layers of the\n"
               "                         experiment) instead of the initial controller\n"
               "      --mlp              also time the network forward pass: loops vs BLAS\n"
               "  -h, --help             this text\n");
}

/* the same network forward with BLAS gemv per layer (for --mlp only) */
static void forward_blas(double *mean, const gpsc_mlp_t *n, const double *obs, double *work)
{
    size_t half = gpsc_mlp_work_size(n) / 2;
    double *h = work, *y = work + half;
    for (int j = 0; j < n->dO; j++)
        h[j] = (obs[j] - n->obs_mean[j]) * n->obs_scale[j];
    for (int l = 0; l < n->n_layers; l++) {
        int in = n->width[l], out = n->width[l + 1];
        bool last = l == n->n_layers - 1;
        double *dst = last ? mean : y;
        gpsc_la_copy(dst, n->b[l], (size_t)out);
        gpsc_la_gemv(dst, n->W[l], h, in, out, true, 1.0, 1.0);
        if (!last) {
            for (int i = 0; i < out; i++)
                dst[i] = dst[i] < 0.0 ? 0.0 : dst[i];
            double *tmp = h;
            h = y;
            y = tmp;
        }
    }
}

static void random_net(gpsc_mlp_t *n, uint64_t seed)
{
    gpsc_rng_t r;
    gpsc_rng_init5(&r, seed, 0, 0, 0, GPSC_RNG_TEST);
    for (int l = 0; l < n->n_layers; l++) {
        double s = 1.0 / sqrt((double)n->width[l]);
        for (int i = 0; i < n->width[l] * n->width[l + 1]; i++)
            n->W[l][i] = s * gpsc_rng_normal(&r);
        for (int i = 0; i < n->width[l + 1]; i++)
            n->b[l][i] = 0.1 * gpsc_rng_normal(&r);
    }
    for (int i = 0; i < n->dU; i++)
        n->var[i] = 0.1;
}

static int bench_mlp(const gpsc_experiment_t *exp, const gpsc_exp_dims_t *d)
{
    gpsc_la_set_threads(1);
    gpsc_mlp_t *n = gpsc_mlp_new(d->dO, d->dU, exp->net.n_hidden, exp->net.hidden, GPSC_MLP_RELU);
    if (!n) return 1;
    random_net(n, 7);
    double *w = calloc(gpsc_mlp_work_size(n), sizeof(double));
    double *o = calloc((size_t)d->dO, sizeof(double));
    double *m1 = calloc((size_t)d->dU, sizeof(double)), *m2 = calloc((size_t)d->dU, sizeof(double));
    for (int j = 0; j < d->dO; j++)
        o[j] = 0.01 * j;
    const int N = 200000;
    double best_loop = 1e9, best_blas = 1e9, sink = 0.0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_s();
        for (int i = 0; i < N; i++) {
            o[0] = 1e-6 * i;
            gpsc_mlp_forward(m1, n, o, w);
            sink += m1[0];
        }
        double t1 = now_s();
        for (int i = 0; i < N; i++) {
            o[0] = 1e-6 * i;
            forward_blas(m2, n, o, w);
            sink += m2[0];
        }
        double t2 = now_s();
        if (t1 - t0 < best_loop) best_loop = t1 - t0;
        if (t2 - t1 < best_blas) best_blas = t2 - t1;
    }
    double maxdiff = 0.0;
    for (int i = 0; i < d->dU; i++)
        maxdiff = fmax(maxdiff, fabs(m1[i] - m2[i]));
    printf("mlp_forward dO=%d hidden=", d->dO);
    for (int l = 0; l < exp->net.n_hidden; l++)
        printf("%s%d", l ? "x" : "", exp->net.hidden[l]);
    printf(" dU=%d: loops %.3f us, blas %.3f us (loops/blas time %.2f; max |diff| %.1e; %g)\n",
           d->dU, 1e6 * best_loop / N, 1e6 * best_blas / N, best_loop / best_blas, maxdiff,
           sink > 0 ? 0.0 : 0.0);
    free(w);
    free(o);
    free(m1);
    free(m2);
    gpsc_mlp_destroy(&n);
    return 0;
}

int main(int argc, char **argv)
{
    const char *exp_path = NULL;
    int cond = 0, rollouts = 300;
    bool global = false, mlp = false;
    static const struct option opts[] = {{"experiment", required_argument, 0, 'e'},
                                         {"condition", required_argument, 0, 'c'},
                                         {"rollouts", required_argument, 0, 'r'},
                                         {"global", no_argument, 0, 'g'},
                                         {"mlp", no_argument, 0, 'm'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "e:c:r:gh", opts, NULL)) != -1) {
        switch (ch) {
        case 'e':
            exp_path = optarg;
            break;
        case 'c':
            cond = atoi(optarg);
            break;
        case 'r':
            rollouts = atoi(optarg);
            break;
        case 'g':
            global = true;
            break;
        case 'm':
            mlp = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!exp_path || rollouts < 1 || cond < 0) {
        usage(stderr);
        return 2;
    }
    /* results must not depend on BLAS threads, and idle OpenBLAS threads
       spinning on a small machine would distort the timing */
    gpsc_la_set_threads(1);
    char err[1024] = "";
    gpsc_experiment_t exp;
    int rc = gpsc_experiment_load(exp_path, &exp, err, sizeof err);
    if (rc == 0) rc = gpsc_env_resolve_experiment(&exp, err, sizeof err);
    if (rc) {
        fprintf(stderr, "gpsc-bench-rollout: %s\n", err);
        gpsc_experiment_free(&exp);
        return 2;
    }
    gpsc_env_t *env = gpsc_env_new(&exp, err, sizeof err);
    gpsc_rollout_t *ro = env ? gpsc_rollout_new(env) : NULL;
    if (!ro) {
        fprintf(stderr, "gpsc-bench-rollout: %s\n", err);
        gpsc_env_destroy(&env);
        gpsc_experiment_free(&exp);
        return 2;
    }
    const gpsc_exp_dims_t *d = gpsc_env_dims(env);
    gpsc_sample_t *s = gpsc_sample_new(d, exp.T, exp.n_costs);
    gpsc_lgpolicy_t *lg = gpsc_lgpolicy_new(exp.T, d->dX, d->dU);
    gpsc_mlp_t *net = gpsc_mlp_new(d->dO, d->dU, exp.net.n_hidden, exp.net.hidden, GPSC_MLP_RELU);
    double *x0 = calloc((size_t)d->dX, sizeof(double));
    double *U = calloc((size_t)exp.T * (size_t)d->dU, sizeof(double));
    if (!s || !lg || !net || !x0 || !U) {
        fprintf(stderr, "gpsc-bench-rollout: out of memory\n");
        return 2;
    }
    rc = gpsc_initctl_x0(x0, env, cond, err, sizeof err);
    if (rc == 0) rc = gpsc_initctl_build(lg, env, x0, err, sizeof err);
    if (rc) {
        fprintf(stderr, "gpsc-bench-rollout: %s\n", err);
        return 2;
    }
    random_net(net, 11);
    for (int i = 0; i < d->dU; i++)
        net->var[i] = exp.init.init_var;
    gpsc_rollout_policy_t pol = {
        .kind = global ? GPSC_POLICY_GLOBAL : GPSC_POLICY_LOCAL, .lg = lg, .mlp = net};

    mjModel *m = gpsc_env_mj_model(env);
    mjData *dd = gpsc_env_mj_data(env);
    /* action index -> actuator: the resolved names */
    int *act = calloc((size_t)d->dU, sizeof(int));
    for (int i = 0; i < d->dU; i++)
        act[i] = gpsc_env_actuator_id(env, i);
    const int steps = (exp.T - 1) * exp.substeps; /* mj_steps per rollout */

    double t_bare = 0.0, t_full = 0.0, t_encode = 0.0, t_sim_full = 0.0;
    double *tb = calloc((size_t)rollouts, sizeof(double)); /* per-rollout times */
    double *tf = calloc((size_t)rollouts, sizeof(double));
    double *pr = calloc((size_t)rollouts, sizeof(double)); /* paired ratios */
    if (!tb || !tf || !pr) return 2;
    long failed = 0;
    size_t bytes = 0;
    double sink = 0.0;
    /* one warm-up of each, then interleave */
    for (int r = -1; r < rollouts; r++) {
        /* full: rollout + encoding */
        gpsc_rollout_key_t key = {exp.algo.seed, 0, (uint32_t)cond, (uint32_t)(r + 1)};
        double t0 = now_s();
        rc = gpsc_rollout_run(ro, s, &pol, &key, false, err, sizeof err);
        double t1 = now_s();
        uint8_t *buf = NULL;
        size_t len = 0;
        if (rc == 0)
            rc = gpsc_trajmsg_encode(&buf, &len, s, &exp, "bench", (uint64_t)r + 2, true, err,
                                     sizeof err);
        double t2 = now_s();
        free(buf);
        if (rc) {
            fprintf(stderr, "gpsc-bench-rollout: %s\n", err);
            return 2;
        }
        if (s->status) failed++;
        memcpy(U, s->U, sizeof(double) * (size_t)exp.T * (size_t)d->dU);

        /* bare: same condition, same actions, same number of mj_step */
        double t3 = now_s();
        gpsc_env_reset(env, cond, NULL, err, sizeof err);
        for (int t = 0; t + 1 < exp.T; t++) {
            for (int i = 0; i < d->dU; i++)
                dd->ctrl[act[i]] = U[(size_t)t * (size_t)d->dU + (size_t)i];
            for (int k = 0; k < exp.substeps; k++)
                mj_step(m, dd);
        }
        sink += dd->qpos[0];
        double t4 = now_s();
        if (r >= 0) {
            tf[r] = t2 - t0;
            tb[r] = t4 - t3;
            pr[r] = tb[r] / tf[r];
            t_full += t2 - t0;
            t_encode += t2 - t1;
            t_sim_full += s->sim_s;
            t_bare += t4 - t3;
            bytes += len;
        }
    }
    /* medians: other processes on the machine slow single rollouts down;
       a bare and a full rollout run back to back see the same machine, so
       the median of their paired ratios is the robust number */
    double bare_rate = steps / median(tb, rollouts), full_rate = steps / median(tf, rollouts);
    double ratio = median(pr, rollouts);
    double mean_ratio = t_bare / t_full;
    printf("experiment %s: T %d, substeps %d, dX %d, dU %d, dO %d, P %d, policy %s, "
           "%d rollouts of each kind, condition %d (%ld failed)\n",
           exp.name, exp.T, exp.substeps, d->dX, d->dU, d->dO, d->P,
           global ? "global (MLP)" : "local (LG)", rollouts, cond, failed);
    printf("bare_steps_per_s=%.0f\n", bare_rate);
    printf("full_steps_per_s=%.0f\n", full_rate);
    printf("full: %.1f us per control step (%.1f us in MuJoCo, %.1f us encoding, %.1f us "
           "the rest); trajectory %zu bytes\n",
           1e6 * t_full / ((exp.T - 1.0) * rollouts), 1e6 * t_sim_full / ((exp.T - 1.0) * rollouts),
           1e6 * t_encode / ((exp.T - 1.0) * rollouts),
           1e6 * (t_full - t_sim_full - t_encode) / ((exp.T - 1.0) * rollouts),
           bytes / (size_t)rollouts);
    printf("rollout_ratio=%.4f\n", ratio);
    printf("(ratio of total times %.4f; of median times %.4f)\n", mean_ratio,
           full_rate / bare_rate);
    if (sink == 12345.678) printf("\n");
    if (mlp) bench_mlp(&exp, d);
    free(tb);
    free(tf);
    free(pr);
    free(act);
    free(x0);
    free(U);
    gpsc_mlp_destroy(&net);
    gpsc_lgpolicy_destroy(&lg);
    gpsc_sample_destroy(&s);
    gpsc_rollout_destroy(&ro);
    gpsc_env_destroy(&env);
    gpsc_experiment_free(&exp);
    return 0;
}
