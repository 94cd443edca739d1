/* gpsc-eval (`gpsc eval RUN_DIR`) — rolls out a trained policy of a run
 * directory in this process and reports how it does per condition.
 *
 * Reads RUN_DIR/config.yaml (or, when it is missing, the config embedded in
 * the checkpoint) and RUN_DIR/checkpoints/iter_NNNN.pb (the latest, or
 * --checkpoint N), takes the global network or the training conditions'
 * local controllers out of the checkpoint, runs the rollouts with
 * worker/eval.h (keys (seed, GPSC_EVAL_ITERATION, condition, n): never a
 * training draw), prints a table and writes RUN_DIR/eval.json
 * ("gpsc-eval/1", coordinator/report.h), merged with the results already
 * there for the same checkpoint. Everything is deterministic: two
 * evaluations of the same checkpoint give the same bytes, whatever
 * --threads. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/checkpoint.h"
#include "common/error.h"
#include "common/experiment.h"
#include "common/identity.h"
#include "common/lgpolicy.h"
#include "common/mlp.h"
#include "worker/env.h"
#include "worker/eval.h"

/* end-effector paths kept per evaluated condition in eval.json */
#define EVAL_MAX_PATHS 10

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gpsc eval RUN_DIR [options]\n"
            "\n"
            "Rolls out a trained policy of RUN_DIR (a run directory written by `gpsc run`\n"
            "or gpsc-solo) in this process, prints per condition the mean cost, the final\n"
            "end-effector distance and the successes, and writes RUN_DIR/eval.json\n"
            "(gpsc-eval/1, shown by `gpsc report`). Results already there for the same\n"
            "checkpoint and another policy or split are kept; those for this policy and\n"
            "split are replaced.\n"
            "\n"
            "options:\n"
            "  -p, --policy P       global: the network (default; MDGPS and GPS 2014 runs)\n"
            "                       local: each training condition's linear-Gaussian\n"
            "                       controller\n"
            "  -c, --conditions S   train | test | all (default: all for global, train for\n"
            "                       local; local controllers exist only for training\n"
            "                       conditions)\n"
            "  -n, --samples K      rollouts per condition (default: 1 without noise,\n"
            "                       algorithm.samples with --noise)\n"
            "      --noise          sample the policy's action noise and the conditions'\n"
            "                       initial-state noise\n"
            "      --no-noise       mean actions, no initial-state noise (default; every\n"
            "                       rollout of a condition is then the same)\n"
            "  -k, --checkpoint N   evaluate checkpoints/iter_N.pb, the state after N\n"
            "                       iterations (default: the latest)\n"
            "  -j, --json FILE      write the document to FILE instead of RUN_DIR/eval.json\n"
            "                       (merged with FILE when it exists); '-': this\n"
            "                       evaluation alone to stdout, the table to stderr\n"
            "  -t, --threads N      rollout threads (default: one per CPU, at most one per\n"
            "                       condition; results do not depend on it)\n"
            "  -q, --quiet          no table\n"
            "  -h, --help           this text\n"
            "\n"
            "A condition succeeds when a rollout meets the experiment's success metric\n"
            "(success: in the config). Rollout n of condition c is keyed (seed, 0x%08X, c,\n"
            "n): the evaluation never reuses a training rollout's noise.\n"
            "\n"
            "exit status: 0 evaluated (whatever the success rate), 1 a run-time failure,\n"
            "2 bad arguments, not a run directory or nothing to evaluate.\n",
            GPSC_EVAL_ITERATION);
}

/* highest N of DIR/checkpoints/iter_N.pb (digits only), -1 when none */
static int latest_checkpoint(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    DIR *d = opendir(path);
    if (!d) return -1;
    int best = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *s = e->d_name;
        if (strncmp(s, "iter_", 5) != 0) continue;
        char *end;
        errno = 0;
        long k = strtol(s + 5, &end, 10);
        if (end != s + 5 && s[5] >= '0' && s[5] <= '9' && strcmp(end, ".pb") == 0 && errno == 0 &&
            k >= 0 && k <= 0x7fffffffL && k > best)
            best = (int)k;
    }
    closedir(d);
    return best;
}

/* the whole file (NUL-terminated, malloc'd) or NULL with errno set */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 + 1 > cap) {
            cap = 2 * (len + 65536 + 1);
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                errno = ENOMEM;
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, 65536, f);
        len += got;
        if (got < 65536) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

/* writes text to path through a temporary file and a rename */
static int write_atomic(const char *path, const char *text, char *err, size_t errsz)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
        return GPSC_EIO;
    }
    size_t n = strlen(text);
    bool ok = fwrite(text, 1, n, f) == n;
    ok &= fflush(f) == 0;
    ok &= fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errsz, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return GPSC_EIO;
    }
    return 0;
}

/* the network of the checkpoint, shaped by its own message; NULL with err */
static gpsc_mlp_t *load_network(const Gpsc__NetworkPolicy *m, char *err, size_t errsz)
{
    int hidden[GPSC_MLP_MAX_LAYERS];
    int nh = (int)m->n_layer_sizes - 2;
    if (nh < 0 || nh > GPSC_MLP_MAX_LAYERS - 1) {
        snprintf(err, errsz, "the checkpoint's network has %zu layer sizes", m->n_layer_sizes);
        return NULL;
    }
    for (int i = 0; i < nh; i++)
        hidden[i] = (int)m->layer_sizes[i + 1];
    gpsc_mlp_act_t act =
        m->activation == GPSC__ACTIVATION__ACT_TANH ? GPSC_MLP_TANH : GPSC_MLP_RELU;
    gpsc_mlp_t *net = gpsc_mlp_new((int)m->do_, (int)m->du, nh, hidden, act);
    if (!net) {
        snprintf(err, errsz, "the checkpoint's network has bad sizes (dO %u, dU %u)", m->do_,
                 m->du);
        return NULL;
    }
    if (gpsc_checkpoint_get_network(net, m, err, errsz) != 0 ||
        gpsc_mlp_check(net, err, errsz) != 0)
        gpsc_mlp_destroy(&net);
    return net;
}

static const char *policy_name_of(gpsc_policy_kind_t k)
{
    return k == GPSC_POLICY_LOCAL ? "local" : "global";
}

/* the state-index column's header for a metric on x, or NULL */
static const char *metric_column(const gpsc_experiment_t *exp, char *buf, size_t n)
{
    switch (exp->success.metric) {
    case GPSC_EXP_METRIC_MIN_EE_DISTANCE:
        snprintf(buf, n, "min dist (m)");
        return buf;
    case GPSC_EXP_METRIC_FINAL_STATE_ABOVE:
    case GPSC_EXP_METRIC_FINAL_STATE_BELOW:
        snprintf(buf, n, "final x[%d]", exp->success.index);
        return buf;
    case GPSC_EXP_METRIC_MEAN_STATE_ABOVE:
        snprintf(buf, n, "mean x[%d]", exp->success.index);
        return buf;
    default:
        return NULL;
    }
}

static void print_table(FILE *f, const gpsc_experiment_t *exp, const gpsc_eval_result_t *res, int n)
{
    char mbuf[32];
    const char *mcol = metric_column(exp, mbuf, sizeof mbuf);
    bool ee = exp->dims.P > 0;
    fprintf(f, "%9s  %-5s  %8s  %12s", "condition", "split", "rollouts", "mean cost");
    if (ee) fprintf(f, "  %14s", "final dist (m)");
    if (mcol) fprintf(f, "  %12s", mcol);
    fprintf(f, "  %9s\n", "successes");
    /* rows, then totals per split: rollout-weighted means of the good rollouts */
    double cs[2] = {0, 0}, ds[2] = {0, 0}, vs[2] = {0, 0};
    int good[2] = {0, 0}, ro[2] = {0, 0}, ok[2] = {0, 0}, nc[2] = {0, 0}, cok[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        const gpsc_eval_result_t *r = &res[i];
        int s = r->test ? 1 : 0, g = r->rollouts - r->failed;
        fprintf(f, "%9d  %-5s  %8d  %12.5g", r->condition, r->test ? "test" : "train", r->rollouts,
                r->mean_cost);
        if (ee) fprintf(f, "  %14.4f", r->final_distance);
        if (mcol) fprintf(f, "  %12.4g", r->metric_value);
        char sb[32] = "-";
        if (r->successes >= 0) snprintf(sb, sizeof sb, "%d/%d", r->successes, r->rollouts);
        fprintf(f, "  %9s", sb);
        if (r->failed) fprintf(f, "  %d failed: %s", r->failed, r->reason);
        fputc('\n', f);
        nc[s]++;
        ro[s] += r->rollouts;
        if (g > 0) {
            good[s] += g;
            cs[s] += g * r->mean_cost;
            ds[s] += g * r->final_distance;
            vs[s] += g * r->metric_value;
        }
        if (r->successes > 0) {
            ok[s] += r->successes;
            cok[s] += 2 * r->successes > r->rollouts;
        }
    }
    for (int s = 0; s < 2; s++) {
        if (!nc[s]) continue;
        char lab[16];
        snprintf(lab, sizeof lab, "all %s", s ? "test" : "train");
        fprintf(f, "%16s  %8d  %12.5g", lab, ro[s], good[s] ? cs[s] / good[s] : NAN);
        if (ee) fprintf(f, "  %14.4f", good[s] ? ds[s] / good[s] : NAN);
        if (mcol) fprintf(f, "  %12.4g", good[s] ? vs[s] / good[s] : NAN);
        if (exp->success.metric != GPSC_EXP_METRIC_NONE) {
            char sb[32];
            snprintf(sb, sizeof sb, "%d/%d", ok[s], ro[s]);
            fprintf(f, "  %9s  %.0f%%; %d/%d conditions succeed in most rollouts", sb,
                    ro[s] ? 100.0 * ok[s] / ro[s] : 0.0, cok[s], nc[s]);
        }
        fputc('\n', f);
    }
}

int main(int argc, char **argv)
{
    const char *run_dir = NULL, *json_path = NULL, *pol_arg = NULL, *cond_arg = NULL;
    long long samples = -1, ckpt = -1, threads = -1;
    int noise = 0; /* 1 --noise, -1 --no-noise */
    bool quiet = false;
    enum { OPT_NOISE = 256, OPT_NO_NOISE };
    static const struct option opts[] = {{"policy", required_argument, 0, 'p'},
                                         {"conditions", required_argument, 0, 'c'},
                                         {"samples", required_argument, 0, 'n'},
                                         {"noise", no_argument, 0, OPT_NOISE},
                                         {"no-noise", no_argument, 0, OPT_NO_NOISE},
                                         {"checkpoint", required_argument, 0, 'k'},
                                         {"json", required_argument, 0, 'j'},
                                         {"threads", required_argument, 0, 't'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "p:c:n:k:j:t:qh", opts, NULL)) != -1) {
        char *end = NULL;
        long long *dst = NULL;
        switch (ch) {
        case 'p':
            pol_arg = optarg;
            break;
        case 'c':
            cond_arg = optarg;
            break;
        case 'n':
            dst = &samples;
            break;
        case 'k':
            dst = &ckpt;
            break;
        case 't':
            dst = &threads;
            break;
        case 'j':
            json_path = optarg;
            break;
        case OPT_NOISE:
            noise = 1;
            break;
        case OPT_NO_NOISE:
            noise = -1;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "gpsc eval: see `gpsc eval --help`\n");
            return 2;
        }
        if (dst) {
            errno = 0;
            *dst = strtoll(optarg, &end, 10);
            long long hi = ch == 'n' ? GPSC_EVAL_MAX_SAMPLES : ch == 't' ? 256 : 0x7fffffffLL;
            long long lo = ch == 'k' ? 0 : 1;
            if (!*optarg || *end || errno || *dst < lo || *dst > hi) {
                fprintf(stderr, "gpsc eval: %s: '%s' is not a number in %lld..%lld\n",
                        ch == 'n'   ? "--samples"
                        : ch == 'k' ? "--checkpoint"
                                    : "--threads",
                        optarg, lo, hi);
                return 2;
            }
        }
    }
    if (optind < argc) run_dir = argv[optind++];
    if (!run_dir || optind < argc) {
        fprintf(stderr, "%s\n",
                run_dir ? "gpsc eval: one run directory only"
                        : "gpsc eval: which run directory? (gpsc eval RUN_DIR)");
        usage(stderr);
        return 2;
    }
    gpsc_policy_kind_t kind = GPSC_POLICY_GLOBAL;
    if (pol_arg && strcmp(pol_arg, "local") == 0)
        kind = GPSC_POLICY_LOCAL;
    else if (pol_arg && strcmp(pol_arg, "global") != 0) {
        fprintf(stderr, "gpsc eval: --policy must be global or local, not '%s'\n", pol_arg);
        return 2;
    }
    int want_train = 1, want_test = kind == GPSC_POLICY_GLOBAL;
    if (cond_arg) {
        if (strcmp(cond_arg, "train") == 0)
            want_train = 1, want_test = 0;
        else if (strcmp(cond_arg, "test") == 0)
            want_train = 0, want_test = 1;
        else if (strcmp(cond_arg, "all") == 0)
            want_train = 1, want_test = 1;
        else {
            fprintf(stderr, "gpsc eval: --conditions must be train, test or all, not '%s'\n",
                    cond_arg);
            return 2;
        }
    }
    if (kind == GPSC_POLICY_LOCAL && want_test) {
        fprintf(stderr,
                "gpsc eval: --policy local --conditions %s: local controllers exist "
                "only for training conditions (each is fitted to its own condition); "
                "use --conditions train, or --policy global for held-out conditions\n",
                cond_arg);
        return 2;
    }
    bool noiseless = noise != 1;
    if (noiseless && samples > 1) {
        fprintf(stderr,
                "gpsc eval: --samples %lld without --noise: noiseless rollouts of a "
                "condition are all the same; add --noise to sample the policy\n",
                samples);
        return 2;
    }

    int status = 2, rc;
    char err[8448] = "", path[4096];
    gpsc_checkpoint_t *ck = NULL;
    gpsc_experiment_t exp;
    memset(&exp, 0, sizeof exp);
    gpsc_mlp_t *net = NULL;
    gpsc_lgpolicy_t **local = NULL;
    gpsc_eval_result_t *res = NULL;
    int *conds = NULL, n = 0, n_local = 0;
    char *doc = NULL, *old = NULL, *idyaml = NULL;

    /* the run directory and its checkpoint */
    struct stat st;
    if (stat(run_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "gpsc eval: %s: %s\n", run_dir,
                stat(run_dir, &st) != 0 ? strerror(errno) : "not a directory");
        goto done;
    }
    int latest = latest_checkpoint(run_dir);
    if (latest < 0) {
        fprintf(stderr,
                "gpsc eval: %s: no checkpoints/iter_NNNN.pb: not a run directory, or "
                "the run has not written its first checkpoint yet\n",
                run_dir);
        goto done;
    }
    int k = ckpt >= 0 ? (int)ckpt : latest;
    char rel[64];
    snprintf(rel, sizeof rel, "checkpoints/iter_%04d.pb", k);
    snprintf(path, sizeof path, "%s/%s", run_dir, rel);
    if (ckpt >= 0 && access(path, R_OK) != 0) {
        fprintf(stderr, "gpsc eval: %s: %s (the latest checkpoint is iter_%04d.pb)\n", path,
                strerror(errno), latest);
        goto done;
    }
    status = 1;
    if ((rc = gpsc_checkpoint_read(&ck, path, err, sizeof err)) != 0) {
        fprintf(stderr, "gpsc eval: %s\n", err);
        goto done;
    }
    const Gpsc__Checkpoint *cm = gpsc_checkpoint_get(ck);

    /* the experiment: config.yaml, or the copy inside the checkpoint */
    snprintf(path, sizeof path, "%s/config.yaml", run_dir);
    bool embedded = access(path, F_OK) != 0;
    if (embedded && !(cm->config_yaml && cm->config_yaml[0])) {
        fprintf(stderr, "gpsc eval: %s: missing, and the checkpoint carries no config\n", path);
        status = 2;
        goto done;
    }
    if (embedded)
        rc = gpsc_experiment_load_string(cm->config_yaml, strlen(cm->config_yaml), rel, run_dir,
                                         &exp, err, sizeof err);
    else
        rc = gpsc_experiment_load(path, &exp, err, sizeof err);
    if (rc == 0) rc = gpsc_env_resolve_experiment(&exp, err, sizeof err);
    if (rc) {
        fprintf(stderr, "gpsc eval: %s\n", err);
        goto done;
    }
    char hash[25], run_id[128];
    size_t ylen;
    idyaml = gpsc_identity(&exp, hash, run_id, sizeof run_id, &ylen);
    if (!embedded && idyaml && cm->config_hash && strcmp(hash, cm->config_hash) != 0)
        fprintf(stderr,
                "gpsc eval: note: %s differs from the config %s was written with (hash %s, "
                "checkpoint %s); evaluating with %s\n",
                path, rel, hash, cm->config_hash, path);

    /* the policy */
    const char *alg = cm->algorithm && cm->algorithm[0] ? cm->algorithm : "?";
    if (kind == GPSC_POLICY_GLOBAL) {
        if (!cm->network) {
            fprintf(stderr,
                    "gpsc eval: %s is a %s run: it has no global policy (use --policy "
                    "local for its local controllers)\n",
                    run_dir, alg);
            status = 2;
            goto done;
        }
        if (!(net = load_network(cm->network, err, sizeof err))) {
            fprintf(stderr, "gpsc eval: %s: %s\n", rel, err);
            goto done;
        }
    } else {
        if ((int)cm->condition_count != exp.n_train) {
            fprintf(stderr, "gpsc eval: %s holds %u training conditions, the config has %d\n", rel,
                    cm->condition_count, exp.n_train);
            goto done;
        }
        n_local = exp.n_train;
        if (!(local = calloc((size_t)n_local, sizeof *local))) goto oom;
        for (int m = 0; m < n_local; m++) {
            const Gpsc__ConditionState *cs = NULL;
            for (size_t i = 0; i < cm->n_conditions; i++)
                if (cm->conditions[i] && (int)cm->conditions[i]->condition == m)
                    cs = cm->conditions[i];
            if (!cs || !cs->traj_distr) {
                fprintf(stderr, "gpsc eval: %s: no local controller for condition %d\n", rel, m);
                goto done;
            }
            if (!(local[m] = gpsc_lgpolicy_new(exp.T, exp.dims.dX, exp.dims.dU))) goto oom;
            if (gpsc_checkpoint_get_lgpolicy(local[m], cs->traj_distr, err, sizeof err) != 0 ||
                gpsc_lgpolicy_check(local[m], err, sizeof err) != 0) {
                fprintf(stderr, "gpsc eval: %s: condition %d: %s\n", rel, m, err);
                goto done;
            }
        }
    }

    /* the conditions */
    if (want_test && !want_train && exp.n_test == 0) {
        fprintf(stderr, "gpsc eval: the experiment has no test conditions (conditions.test in "
                        "the config)\n");
        status = 2;
        goto done;
    }
    int n_all = gpsc_experiment_n_conditions(&exp);
    if (!(conds = calloc((size_t)n_all + 1, sizeof *conds)) ||
        !(res = calloc((size_t)n_all + 1, sizeof *res)))
        goto oom;
    for (int c = 0; c < n_all; c++)
        if (c < exp.n_train ? want_train : want_test) conds[n++] = c;

    /* the rollouts */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    gpsc_eval_cfg_t cfg = {
        .policy = kind,
        .noiseless = noiseless,
        .samples = samples > 0 ? (int)samples
                   : noiseless ? 1
                               : exp.algo.samples,
        .threads = threads > 0 ? (int)threads
                   : ncpu > 0  ? (int)(ncpu < n ? ncpu : n)
                               : 1,
        .seed = cm->run_seed,
        .max_paths = EVAL_MAX_PATHS,
    };
    if (cfg.threads < 1) cfg.threads = 1;
    if ((rc = gpsc_eval_run(res, &exp, &cfg, net, (const gpsc_lgpolicy_t *const *)local, conds, n,
                            err, sizeof err)) != 0) {
        fprintf(stderr, "gpsc eval: %s (%s)\n", err, gpsc_errname(rc));
        goto done;
    }

    /* the table */
    bool to_stdout = json_path && strcmp(json_path, "-") == 0;
    FILE *tf = to_stdout ? stderr : stdout;
    if (!quiet) {
        fprintf(tf, "%s: %s after %u iterations (%s, seed %llu)\n", cm->run_id, rel, cm->iteration,
                alg, (unsigned long long)cm->run_seed);
        fprintf(tf, "%s policy, %s, %d rollout%s per condition", policy_name_of(kind),
                noiseless ? "mean actions (no noise)" : "with action and initial-state noise",
                cfg.samples, cfg.samples == 1 ? "" : "s");
        if (exp.success.metric != GPSC_EXP_METRIC_NONE)
            fprintf(tf, "; success: %s %s %g", gpsc_exp_metric_name(exp.success.metric),
                    exp.success.metric == GPSC_EXP_METRIC_FINAL_STATE_ABOVE ||
                            exp.success.metric == GPSC_EXP_METRIC_MEAN_STATE_ABOVE
                        ? ">="
                        : "<=",
                    exp.success.threshold);
        fputs("\n\n", tf);
        print_table(tf, &exp, res, n);
    }

    /* the document */
    gpsc_eval_info_t info = {rel, (int)cm->iteration, cm->run_id};
    char out[4096];
    if (!json_path)
        snprintf(out, sizeof out, "%s/eval.json", run_dir);
    else
        snprintf(out, sizeof out, "%s", json_path);
    errno = 0;
    old = to_stdout ? NULL : slurp(out);
    if (!old && !to_stdout && errno != ENOENT) {
        fprintf(stderr, "gpsc eval: %s: %s\n", out, strerror(errno));
        goto done;
    }
    int kept = 0, dropped = 0;
    if (!(doc = gpsc_eval_json(old, &exp, &info, &cfg, res, n, &kept, &dropped))) goto oom;
    if (to_stdout) {
        fputs(doc, stdout);
        fflush(stdout);
    } else {
        if ((rc = write_atomic(out, doc, err, sizeof err)) != 0) {
            fprintf(stderr, "gpsc eval: %s\n", err);
            goto done;
        }
        if (!quiet) {
            fprintf(tf, "\nwrote %s", out);
            if (kept)
                fprintf(tf, "; kept %d earlier result%s of another policy or split", kept,
                        kept == 1 ? "" : "s");
            if (dropped)
                fprintf(tf, "; replaced %d earlier result%s", dropped, dropped == 1 ? "" : "s");
            fputc('\n', tf);
        }
    }
    status = 0;
    goto done;
oom:
    fprintf(stderr, "gpsc eval: out of memory\n");
    status = 1;
done:
    for (int i = 0; res && i < n; i++)
        gpsc_eval_result_free(&res[i]);
    free(res);
    free(conds);
    for (int m = 0; local && m < n_local; m++)
        gpsc_lgpolicy_destroy(&local[m]);
    free(local);
    gpsc_mlp_destroy(&net);
    gpsc_checkpoint_destroy(&ck);
    gpsc_experiment_free(&exp);
    free(idyaml);
    free(doc);
    free(old);
    return status;
}
