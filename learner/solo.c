/* gpsc-solo — a whole experiment in one process: sampling with the worker's
 * rollout library, the learner's algorithm layer, checkpoints and metrics.
 *
 * This is the reference run the cluster (coordinator + learner + workers)
 * is compared against: for the same experiment and seed its checkpoint
 * files must be byte-identical. Per iteration k: every (condition m,
 * sample n) is rolled out under the local controller of m (or the network,
 * for on-policy MDGPS) with the key (seed, k, m, n); gpsc_alg_iteration
 * runs; DIR/checkpoints/iter_{k+1:04}.pb is written (the state after k+1
 * completed iterations; iter_0000.pb is the initial state) and one JSON
 * object is appended to DIR/metrics.jsonl.
 *
 * MDGPS and GPS 2014, iteration k >= 1: before the learner runs, G noisy
 * rollouts of the global policy per condition measure its cost (the
 * policy whose cost bound, seed 000 C, iteration k reports). Their keys
 * (seed, k, m, GPSC_SOLO_GLOBAL_SAMPLE + n) lie outside the sample indices
 * of the training rollouts, so they draw their own noise and change no
 * other random stream, and nothing of them reaches the learner or a
 * checkpoint; only metrics.jsonl gets "global_cost_measured" per condition.
 * The cluster's coordinator plans the same rollouts with the same keys
 * (coordinator.c, GLOBAL_SAMPLE). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/checkpoint.h"
#include "common/error.h"
#include "common/experiment.h"
#include "common/lgpolicy.h"
#include "learner/algorithm.h"
#include "worker/env.h"
#include "worker/initctl.h"
#include "worker/rollout.h"

/* first sample index of the global-policy measurement rollouts */
#define GPSC_SOLO_GLOBAL_SAMPLE 0x40000000u

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gpsc-solo EXPERIMENT.yaml [options]\n"
            "       gpsc-solo --resume DIR [options]\n"
            "\n"
            "Runs a whole experiment in one process: rollouts, the learner's iterations,\n"
            "checkpoints (DIR/checkpoints/iter_NNNN.pb) and metrics (DIR/metrics.jsonl).\n"
            "\n"
            "options:\n"
            "  -i, --iterations K     iterations in total (default: algorithm.iterations)\n"
            "  -s, --seed S           run seed (default: algorithm.seed)\n"
            "  -a, --algorithm A      trajopt | mdgps | gps2014 (default: algorithm.type)\n"
            "  -g, --global-samples G noisy rollouts of the global policy per condition\n"
            "                         and iteration, for metrics only (default:\n"
            "                         algorithm.samples; 0: none)\n"
            "  -d, --run-dir DIR      run directory (default: runs/<run id>)\n"
            "  -r, --resume DIR       continue the run in DIR from its latest checkpoint\n"
            "                         (EXPERIMENT defaults to DIR/config.yaml)\n"
            "  -t, --threads N        learner threads (default 1; results do not depend on it)\n"
            "  -q, --quiet            only the summary\n"
            "  -h, --help             this text\n"
            "\n"
            "exit status: 0 done, 1 a run-time failure, 2 bad arguments or config.\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* highest NNNN of DIR/checkpoints/iter_NNNN.pb, -1 when none */
static int latest_checkpoint(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int best = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        int k;
        char tail[8];
        if (sscanf(e->d_name, "iter_%d.%7s", &k, tail) == 2 && strcmp(tail, "pb") == 0 &&
            k > best)
            best = k;
    }
    closedir(d);
    return best;
}

/* the resolved experiment as YAML with `iterations` left out of the
 * identity (0), so extending a run keeps its hash; malloc'd */
static char *identity_yaml(const gpsc_experiment_t *exp, size_t *len)
{
    gpsc_experiment_t copy = *exp; /* shallow: only printed */
    copy.algo.iterations = 0;
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    int rc = gpsc_experiment_fprint(&copy, f);
    fclose(f);
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* rollout state of the sampler */
typedef struct sampler {
    gpsc_env_t *env;
    gpsc_rollout_t *ro;
    gpsc_sample_t **s;      /* (M x N) samples of the current iteration */
    gpsc_alg_sample_t *view; /* (M x N) what the learner reads */
    int M, N;
} sampler_t;

/* rolls out every (m, n) of iteration k under the current policies */
static int sample_all(sampler_t *sp, const gpsc_alg_t *alg, const gpsc_experiment_t *exp,
                      uint64_t seed, int k, uint32_t iter_key, bool noiseless, char *err,
                      size_t errsz)
{
    const gpsc_mlp_t *net = gpsc_alg_network(alg);
    bool global = net && exp->algo.sampling == GPSC_EXP_SAMPLE_ON_POLICY;
    for (int m = 0; m < sp->M; m++)
        for (int n = 0; n < sp->N; n++) {
            gpsc_sample_t *s = sp->s[m * sp->N + n];
            gpsc_rollout_policy_t pol = {0};
            pol.kind = global ? GPSC_POLICY_GLOBAL : GPSC_POLICY_LOCAL;
            pol.lg = global ? NULL : gpsc_alg_policy(alg, m);
            pol.mlp = global ? net : NULL;
            pol.version = (uint32_t)k;
            gpsc_rollout_key_t key = {seed, iter_key, (uint32_t)m, (uint32_t)n};
            int rc = gpsc_rollout_run(sp->ro, s, &pol, &key, noiseless, err, errsz);
            if (rc)
                return rc;
            if (s->status != 0) {
                snprintf(err, errsz, "iteration %d condition %d sample %d: rollout failed: %s", k,
                         m, n, s->reason);
                return s->status;
            }
            sp->view[m * sp->N + n] = (gpsc_alg_sample_t){s->T, s->dX, s->dU, s->dO, s->P, s->dQ,
                                                          s->X, s->U, s->O, s->ee, s->jac};
        }
    return 0;
}

/* The global policy's cost on condition m, measured by G noisy rollouts
 * keyed (seed, k, m, GPSC_SOLO_GLOBAL_SAMPLE + n) into s: mean and
 * population std over the rollouts that ran (*ok of them) of sum_t l from
 * the worker's per-step costs. 0 or a rollout error (not a failed
 * simulation, which only leaves the rollout out). */
static int measure_global(double *mean, double *sd, int *ok, gpsc_rollout_t *ro, gpsc_sample_t *s,
                          const gpsc_mlp_t *net, uint64_t seed, int k, int m, int G, char *err,
                          size_t errsz)
{
    double sum = 0, sq = 0;
    *ok = 0;
    for (int n = 0; n < G; n++) {
        gpsc_rollout_policy_t pol = {.kind = GPSC_POLICY_GLOBAL, .mlp = net,
                                     .version = (uint32_t)k};
        gpsc_rollout_key_t key = {seed, (uint32_t)k, (uint32_t)m,
                                  GPSC_SOLO_GLOBAL_SAMPLE + (uint32_t)n};
        int rc = gpsc_rollout_run(ro, s, &pol, &key, false, err, errsz);
        if (rc)
            return rc;
        if (s->status != 0)
            continue;
        double c = 0;
        for (size_t i = 0; i < (size_t)s->T * s->dC; i++)
            c += s->costs[i];
        sum += c;
        sq += c * c;
        ++*ok;
    }
    *mean = *ok ? sum / *ok : NAN;
    double var = *ok ? sq / *ok - *mean * *mean : NAN;
    *sd = *ok ? sqrt(var > 0 ? var : 0) : NAN;
    return 0;
}

/* mean summed cost (from the worker's per-step costs), final distance and
 * successes of the current samples of condition m */
static void sample_stats(const sampler_t *sp, const gpsc_experiment_t *exp, int m, double *cost,
                         double *dist, int *succ)
{
    *cost = 0;
    *dist = 0;
    *succ = 0;
    int p = exp->success.metric == GPSC_EXP_METRIC_FINAL_EE_DISTANCE ||
                    exp->success.metric == GPSC_EXP_METRIC_MIN_EE_DISTANCE
                ? exp->success.point
                : 0;
    for (int n = 0; n < sp->N; n++) {
        const gpsc_sample_t *s = sp->s[m * sp->N + n];
        double c = 0, v;
        for (size_t i = 0; i < (size_t)s->T * s->dC; i++)
            c += s->costs[i];
        *cost += c / sp->N;
        *dist += s->P ? gpsc_rollout_ee_distance(s, s->T - 1, p) / sp->N : NAN;
        *succ += gpsc_rollout_success(exp, s, &v) == 1;
    }
}

static int write_checkpoint(const gpsc_alg_t *alg, const char *dir, const char *hash,
                            const char *run_id, const char *yaml, char *err, size_t errsz)
{
    gpsc_checkpoint_t *ck = gpsc_checkpoint_new();
    if (!ck) {
        snprintf(err, errsz, "out of memory");
        return GPSC_ENOMEM;
    }
    int rc = gpsc_alg_save(alg, ck, hash, run_id, yaml, err, errsz);
    if (rc == 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/checkpoints/iter_%04d.pb", dir,
                 gpsc_alg_iteration_count(alg));
        rc = gpsc_checkpoint_write(ck, path, err, errsz);
    }
    gpsc_checkpoint_destroy(&ck);
    return rc;
}

int main(int argc, char **argv)
{
    const char *exp_path = NULL, *run_dir = NULL, *resume = NULL, *alg_name = NULL;
    long long iters = -1, seed = -1, threads = 1, gsamples = -1;
    bool quiet = false;
    static const struct option opts[] = {{"iterations", required_argument, 0, 'i'},
                                          {"seed", required_argument, 0, 's'},
                                          {"algorithm", required_argument, 0, 'a'},
                                          {"run-dir", required_argument, 0, 'd'},
                                          {"resume", required_argument, 0, 'r'},
                                          {"threads", required_argument, 0, 't'},
                                          {"global-samples", required_argument, 0, 'g'},
                                          {"quiet", no_argument, 0, 'q'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "i:s:a:d:r:t:g:qh", opts, NULL)) != -1) {
        char *end = NULL;
        switch (ch) {
        case 'i': iters = strtoll(optarg, &end, 10); break;
        case 's': seed = strtoll(optarg, &end, 10); break;
        case 't': threads = strtoll(optarg, &end, 10); break;
        case 'g': gsamples = strtoll(optarg, &end, 10); break;
        case 'a': alg_name = optarg; break;
        case 'd': run_dir = optarg; break;
        case 'r': resume = optarg; break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
        if (end && (*end || iters < -1 || seed < -1 || threads < 1 || threads > 256 ||
                    gsamples < -1 || gsamples > 1000)) {
            fprintf(stderr, "gpsc-solo: bad number for -%c: '%s'\n", ch, optarg);
            return 2;
        }
    }
    if (optind < argc)
        exp_path = argv[optind++];
    if (optind < argc || (!exp_path && !resume)) {
        usage(stderr);
        return 2;
    }
    char cfgpath[4096];
    if (!exp_path) {
        snprintf(cfgpath, sizeof cfgpath, "%s/config.yaml", resume);
        exp_path = cfgpath;
    }
    if (resume && !run_dir)
        run_dir = resume;

    int status = 2, rc;
    char err[2048] = "";
    gpsc_experiment_t exp;
    gpsc_alg_t *alg = NULL;
    sampler_t sp = {0};
    gpsc_lgpolicy_t *init = NULL;
    double *x0 = NULL, *first_cost = NULL, *gmeas = NULL;
    gpsc_sample_t *gs = NULL;
    char *yaml = NULL;
    FILE *mf = NULL;
    gpsc_checkpoint_t *ck = NULL;

    /* experiment with the command line's overrides, resolved against the model */
    rc = gpsc_experiment_load(exp_path, &exp, err, sizeof err);
    if (rc == 0) {
        if (iters >= 0)
            exp.algo.iterations = (int)iters;
        if (seed >= 0)
            exp.algo.seed = (unsigned long long)seed;
        if (alg_name) {
            if (strcmp(alg_name, "trajopt") == 0)
                exp.algo.type = GPSC_EXP_ALG_TRAJOPT;
            else if (strcmp(alg_name, "mdgps") == 0)
                exp.algo.type = GPSC_EXP_ALG_MDGPS;
            else if (strcmp(alg_name, "gps2014") == 0)
                exp.algo.type = GPSC_EXP_ALG_GPS2014;
            else {
                fprintf(stderr, "gpsc-solo: --algorithm must be trajopt, mdgps or gps2014\n");
                goto done;
            }
        }
        rc = gpsc_env_resolve_experiment(&exp, err, sizeof err);
    }
    if (rc) {
        fprintf(stderr, "gpsc-solo: %s\n", err);
        goto done;
    }

    /* identity: config hash and run id do not depend on time, host or --iterations */
    size_t ylen = 0;
    yaml = identity_yaml(&exp, &ylen);
    if (!yaml) {
        fprintf(stderr, "gpsc-solo: cannot print the experiment\n");
        goto done;
    }
    char hash[25], run_id[128];
    gpsc_checkpoint_config_hash(hash, yaml, ylen);
    gpsc_checkpoint_run_id(run_id, sizeof run_id, exp.name, hash, exp.algo.seed);
    char defdir[256];
    if (!run_dir) {
        snprintf(defdir, sizeof defdir, "runs/%s", run_id);
        run_dir = defdir;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoints", run_dir);
    if (mkdir_p(path) != 0) {
        fprintf(stderr, "gpsc-solo: %s: %s\n", path, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof path, "%s/config.yaml", run_dir);
    if (!resume && (rc = gpsc_experiment_write(&exp, path, err, sizeof err)) != 0) {
        fprintf(stderr, "gpsc-solo: %s\n", err);
        goto done;
    }

    /* the learner */
    gpsc_alg_opts_t ao = {.threads = (int)threads};
    alg = gpsc_alg_new(&exp, &ao, err, sizeof err);
    if (!alg) {
        fprintf(stderr, "gpsc-solo: %s\n", err);
        goto done;
    }
    int M = exp.n_train, N = exp.algo.samples;
    const gpsc_exp_dims_t *d = &exp.dims;

    /* the sampler */
    sp.M = M;
    sp.N = N;
    sp.env = gpsc_env_new(&exp, err, sizeof err);
    sp.ro = sp.env ? gpsc_rollout_new(sp.env) : NULL;
    sp.s = calloc((size_t)M * N, sizeof *sp.s);
    sp.view = calloc((size_t)M * N, sizeof *sp.view);
    first_cost = calloc((size_t)M, sizeof(double));
    gmeas = calloc((size_t)M * 2, sizeof(double));
    gs = gpsc_sample_new(d, exp.T, exp.n_costs);
    x0 = calloc((size_t)d->dX, sizeof(double));
    init = gpsc_lgpolicy_new(exp.T, d->dX, d->dU);
    if (!sp.env || !sp.ro || !sp.s || !sp.view || !first_cost || !x0 || !init || !gmeas ||
        !gs) {
        fprintf(stderr, "gpsc-solo: %s\n", err[0] ? err : "out of memory");
        goto done;
    }
    for (int i = 0; i < M * N; i++)
        if (!(sp.s[i] = gpsc_sample_new(d, exp.T, exp.n_costs))) {
            fprintf(stderr, "gpsc-solo: out of memory\n");
            goto done;
        }

    /* start: the initial controllers, or the latest checkpoint */
    status = 1;
    if (resume) {
        int k = latest_checkpoint(resume);
        if (k < 0) {
            fprintf(stderr, "gpsc-solo: %s: no checkpoints/iter_NNNN.pb\n", resume);
            goto done;
        }
        snprintf(path, sizeof path, "%s/checkpoints/iter_%04d.pb", resume, k);
        if ((rc = gpsc_checkpoint_read(&ck, path, err, sizeof err)) != 0) {
            fprintf(stderr, "gpsc-solo: %s\n", err);
            goto done;
        }
        const Gpsc__Checkpoint *cm = gpsc_checkpoint_get(ck);
        if (strcmp(cm->config_hash, hash) != 0) {
            fprintf(stderr, "gpsc-solo: %s was written for config %s, this one is %s (another "
                            "experiment, seed or algorithm)\n",
                    path, cm->config_hash, hash);
            goto done;
        }
        if ((rc = gpsc_alg_load(alg, cm, err, sizeof err)) != 0) {
            fprintf(stderr, "gpsc-solo: %s: %s\n", path, err);
            goto done;
        }
        gpsc_checkpoint_destroy(&ck);
        if (!quiet)
            printf("resumed %s from %s (%d iterations done)\n", run_id, path, k);
    } else {
        for (int m = 0; m < M; m++) {
            rc = gpsc_initctl_x0(x0, sp.env, m, err, sizeof err);
            if (rc == 0)
                rc = gpsc_initctl_build(init, sp.env, x0, err, sizeof err);
            if (rc == 0)
                rc = gpsc_alg_set_initial_policy(alg, m, init, err, sizeof err);
            if (rc) {
                fprintf(stderr, "gpsc-solo: condition %d: initial controller: %s\n", m, err);
                goto done;
            }
        }
        if ((rc = write_checkpoint(alg, run_dir, hash, run_id, yaml, err, sizeof err)) != 0) {
            fprintf(stderr, "gpsc-solo: %s\n", err);
            goto done;
        }
    }
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    mf = fopen(path, resume ? "a" : "w");
    if (!mf) {
        fprintf(stderr, "gpsc-solo: %s: %s\n", path, strerror(errno));
        goto done;
    }
    if (!quiet)
        printf("run %s: %s, %s, %d train conditions x %d samples, T %d, dX %d dU %d, seed %llu, "
               "%lld thread%s -> %s\n",
               run_id, exp.name, gpsc_exp_algorithm_name(exp.algo.type), M, N, exp.T, d->dX,
               d->dU, exp.algo.seed, threads, threads == 1 ? "" : "s", run_dir);

    /* iterations */
    int start = gpsc_alg_iteration_count(alg);
    double t_run = now_s();
    int G = gsamples >= 0 ? (int)gsamples : N;
    for (int k = start; k < exp.algo.iterations; k++) {
        /* the global policy the learner is about to linearise (not at k = 0:
         * iteration 0 first fits it to the initial controllers) */
        double tg = now_s();
        const gpsc_mlp_t *gnet = gpsc_alg_network(alg);
        bool measured = gnet && G > 0 && k >= 1;
        for (int m = 0; measured && m < M; m++) {
            int ok;
            rc = measure_global(&gmeas[2 * m], &gmeas[2 * m + 1], &ok, sp.ro, gs, gnet,
                                exp.algo.seed, k, m, G, err, sizeof err);
            if (rc) {
                fprintf(stderr, "gpsc-solo: global policy rollouts: %s\n", err);
                goto done;
            }
        }
        double t0 = now_s();
        rc = sample_all(&sp, alg, &exp, exp.algo.seed, k, (uint32_t)k, false, err, sizeof err);
        if (rc) {
            fprintf(stderr, "gpsc-solo: %s\n", err);
            goto done;
        }
        double t1 = now_s();
        rc = gpsc_alg_iteration(alg, sp.view, M * N, err, sizeof err);
        if (rc) {
            fprintf(stderr, "gpsc-solo: %s (%s)\n", err, gpsc_errname(rc));
            goto done;
        }
        double t2 = now_s();
        if ((rc = write_checkpoint(alg, run_dir, hash, run_id, yaml, err, sizeof err)) != 0) {
            fprintf(stderr, "gpsc-solo: %s\n", err);
            goto done;
        }
        double t3 = now_s();
        const gpsc_alg_metrics_t *mt = gpsc_alg_metrics(alg);
        if (k == start)
            for (int m = 0; m < M; m++)
                first_cost[m] = mt->cond[m].sample_cost;

        /* metrics line: the learner's numbers plus the driver's timings */
        char *js = gpsc_alg_metrics_json(mt, true);
        cJSON *o = js ? cJSON_Parse(js) : NULL;
        free(js);
        if (o) {
            cJSON *cs = cJSON_GetObjectItem(o, "conditions");
            double gsum = 0;
            int gn = 0;
            for (int m = 0; measured && cs && m < M; m++) {
                cJSON *x = cJSON_GetArrayItem(cs, m);
                if (!x || !isfinite(gmeas[2 * m]))
                    continue;
                cJSON_AddNumberToObject(x, "global_cost_measured", gmeas[2 * m]);
                cJSON_AddNumberToObject(x, "global_cost_measured_std", gmeas[2 * m + 1]);
                gsum += gmeas[2 * m];
                gn++;
            }
            if (gn)
                cJSON_AddNumberToObject(o, "global_cost_measured", gsum / gn);
            cJSON *t = cJSON_GetObjectItem(o, "ms");
            if (t) {
                if (measured)
                    cJSON_AddNumberToObject(t, "global_rollouts", 1e3 * (t0 - tg));
                cJSON_AddNumberToObject(t, "sampling", 1e3 * (t1 - t0));
                cJSON_AddNumberToObject(t, "checkpoint", 1e3 * (t3 - t2));
                cJSON_AddNumberToObject(t, "iteration", 1e3 * (t3 - t0));
            }
            char *line = cJSON_PrintUnformatted(o);
            if (line) {
                fprintf(mf, "%s\n", line);
                fflush(mf);
                free(line);
            }
            cJSON_Delete(o);
        }
        if (!quiet) {
            printf("iter %2d/%d  cost %10.4g [", k + 1, exp.algo.iterations, mt->sample_cost);
            for (int m = 0; m < M; m++)
                printf("%s%.4g", m ? " " : "", mt->cond[m].sample_cost);
            double kl = 0, klt = 0, eta = 0, sm = 0;
            for (int m = 0; m < M; m++) {
                kl += mt->cond[m].kl / M;
                klt += mt->cond[m].kl_target / M;
                eta += mt->cond[m].eta / M;
                sm += mt->cond[m].step_mult / M;
            }
            printf("]  kl %.3g/%.3g  eta %.3g  step %.3g", kl, klt, eta, sm);
            if (gnet) {
                double b = 0, gm = 0;
                for (int m = 0; m < M; m++) {
                    b += mt->cond[m].bound / M;
                    gm += gmeas[2 * m] / M;
                }
                printf("  bound %.4g", b);
                if (measured)
                    printf("  global %.4g", gm);
            }
            if (exp.algo.type == GPSC_EXP_ALG_GPS2014) {
                double lm = 0, pk = 0;
                for (int m = 0; m < M; m++) {
                    lm += mt->cond[m].lambda_mean / M;
                    pk += mt->cond[m].pol_kl / M;
                }
                printf("  lambda %.3g  pol_kl %.3g", lm, pk);
            }
            if (mt->n_success >= 0)
                printf("  succ %d/%d", mt->n_success, M * N);
            printf("  (%.2f s: sample %.2f, learn %.2f)\n", t3 - t0, t1 - t0, t2 - t1);
            fflush(stdout);
        }
    }
    double t_learn = now_s() - t_run;

    /* final evaluation: the samples iteration K would draw, and mean actions */
    int K = gpsc_alg_iteration_count(alg);
    rc = sample_all(&sp, alg, &exp, exp.algo.seed, K, (uint32_t)K, false, err, sizeof err);
    if (rc) {
        fprintf(stderr, "gpsc-solo: final evaluation: %s\n", err);
        goto done;
    }
    double *fc = calloc((size_t)M * 3, sizeof(double));
    int *fs = calloc((size_t)M, sizeof(int));
    if (!fc || !fs) {
        free(fc);
        free(fs);
        goto done;
    }
    for (int m = 0; m < M; m++)
        sample_stats(&sp, &exp, m, &fc[3 * m], &fc[3 * m + 1], &fs[m]);
    /* noiseless: sample 0 of each condition is enough */
    sampler_t one = sp;
    one.N = 1;
    gpsc_sample_t **s1 = calloc((size_t)M, sizeof *s1);
    gpsc_alg_sample_t *v1 = calloc((size_t)M, sizeof *v1);
    if (s1 && v1) {
        for (int m = 0; m < M; m++)
            s1[m] = sp.s[m * N];
        one.s = s1;
        one.view = v1;
        rc = sample_all(&one, alg, &exp, exp.algo.seed, K, (uint32_t)K, true, err, sizeof err);
    }
    printf("\n%-9s %12s %12s %14s %10s %14s %9s\n", "condition", "first cost", "final cost",
           "final dist (m)", "success", "mean-act dist", "mean-act");
    int total_succ = 0, mean_succ = 0;
    for (int m = 0; m < M; m++) {
        double c1, d1 = NAN;
        int ok1 = 0;
        if (s1 && v1 && rc == 0) {
            one.s = s1;
            sample_stats(&one, &exp, m, &c1, &d1, &ok1);
        }
        total_succ += fs[m];
        mean_succ += ok1;
        printf("%-9d %12.5g %12.5g %14.4f %6d/%-3d %14.4f %9s\n", m, first_cost[m], fc[3 * m],
               fc[3 * m + 1], fs[m], N, d1, ok1 ? "yes" : "no");
    }
    if (exp.success.metric != GPSC_EXP_METRIC_NONE)
        printf("success (%s <= %g): %d/%d noisy samples, %d/%d mean-action rollouts\n",
               gpsc_exp_metric_name(exp.success.metric), exp.success.threshold, total_succ, M * N,
               mean_succ, M);
    /* MDGPS: the global policy alone, mean actions, on every condition */
    const gpsc_mlp_t *net = gpsc_alg_network(alg);
    if (net && s1) {
        gpsc_sample_t *s = s1[0];
        int ok_train = 0, ok_test = 0, n_all = gpsc_experiment_n_conditions(&exp);
        printf("global policy (mean action):");
        for (int c = 0; c < n_all; c++) {
            gpsc_rollout_policy_t pol = {.kind = GPSC_POLICY_GLOBAL, .mlp = net,
                                         .version = (uint32_t)K};
            gpsc_rollout_key_t key = {exp.algo.seed, (uint32_t)K, (uint32_t)c, 0};
            double v = NAN;
            int ok = -1;
            if (gpsc_rollout_run(sp.ro, s, &pol, &key, true, err, sizeof err) == 0 &&
                s->status == 0)
                ok = gpsc_rollout_success(&exp, s, &v);
            if (c == exp.n_train)
                printf("  | test");
            printf(" %s%.3f%s", ok == 1 ? "" : "(", v, ok == 1 ? "" : ")");
            if (ok == 1)
                *(c < exp.n_train ? &ok_train : &ok_test) += 1;
        }
        printf("\nglobal policy success: %d/%d train, %d/%d test (values in parentheses "
               "fail)\n",
               ok_train, exp.n_train, ok_test, exp.n_test);
    }
    printf("%d iterations in %.1f s; checkpoints in %s/checkpoints\n", K - start, t_learn,
           run_dir);
    free(s1);
    free(v1);
    free(fc);
    free(fs);
    status = 0;
done:
    if (mf)
        fclose(mf);
    gpsc_checkpoint_destroy(&ck);
    if (sp.s)
        for (int i = 0; i < sp.M * sp.N; i++)
            gpsc_sample_destroy(&sp.s[i]);
    free(sp.s);
    free(sp.view);
    gpsc_rollout_destroy(&sp.ro);
    gpsc_env_destroy(&sp.env);
    gpsc_lgpolicy_destroy(&init);
    free(x0);
    free(first_cost);
    free(gmeas);
    gpsc_sample_destroy(&gs);
    free(yaml);
    gpsc_alg_destroy(&alg);
    gpsc_experiment_free(&exp);
    return status;
}
