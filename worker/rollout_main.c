/* gpsc-rollout — run one rollout of a task and write its trajectory.
 *
 * A debugging tool: loads an experiment, builds the initial controller of
 * the condition (or reads a policy file), runs one rollout keyed by
 * (seed, iteration, condition, sample), writes the trajectory as one
 * encoded Envelope (Trajectory body; no timings, so equal inputs give
 * byte-identical files) and prints a summary. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/experiment.h"
#include "common/lgpolicy.h"
#include "common/mlp.h"
#include "worker/env.h"
#include "worker/initctl.h"
#include "worker/msgs.h"
#include "worker/rollout.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gpsc-rollout --experiment FILE.yaml [options]\n"
               "\n"
               "Runs one rollout of a task under its initial controller (or a policy\n"
               "file), writes the trajectory and prints a summary: total cost, the\n"
               "final end-effector distance to the target, success, and speed.\n"
               "\n"
               "options:\n"
               "  -e, --experiment FILE  experiment YAML (required)\n"
               "  -c, --condition N      condition, train 0..n_train-1 then test (default 0)\n"
               "  -s, --seed N           run seed (default: algorithm.seed of the experiment)\n"
               "  -i, --iteration N      iteration of the key (default 0)\n"
               "  -n, --sample N         sample index of the key (default 0)\n"
               "      --noiseless        mean actions, no initial-state noise\n"
               "  -p, --policy FILE      act with this policy file (an encoded Envelope with a\n"
               "                         LinGaussPolicy or NetworkPolicy body) instead of the\n"
               "                         initial controller\n"
               "      --save-policy FILE write the initial controller of the condition as a\n"
               "                         LinGaussPolicy file and continue\n"
               "  -o, --out FILE         write the trajectory here (an Envelope with a\n"
               "                         Trajectory body, as the worker sends it)\n"
               "      --print-state      print x_t for every step\n"
               "  -q, --quiet            print nothing but errors\n"
               "  -h, --help             this text\n"
               "\n"
               "exit status: 0 the rollout ran, 1 the rollout failed (unstable simulation,\n"
               "non-finite action; the reason is printed), 2 bad arguments, config or model.\n");
}

static int parse_u64(const char *s, unsigned long long *out)
{
    char *end = NULL;
    if (!s || !*s || *s == '-') return -1;
    *out = strtoull(s, &end, 10);
    return *end ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *exp_path = NULL, *policy_path = NULL, *out_path = NULL, *save_path = NULL;
    unsigned long long cond = 0, seed = 0, iter = 0, sample = 0;
    bool have_seed = false, noiseless = false, quiet = false, print_state = false;
    enum { OPT_NOISELESS = 256, OPT_SAVE, OPT_PRINT };
    static const struct option opts[] = {{"experiment", required_argument, 0, 'e'},
                                         {"condition", required_argument, 0, 'c'},
                                         {"seed", required_argument, 0, 's'},
                                         {"iteration", required_argument, 0, 'i'},
                                         {"sample", required_argument, 0, 'n'},
                                         {"noiseless", no_argument, 0, OPT_NOISELESS},
                                         {"policy", required_argument, 0, 'p'},
                                         {"save-policy", required_argument, 0, OPT_SAVE},
                                         {"out", required_argument, 0, 'o'},
                                         {"print-state", no_argument, 0, OPT_PRINT},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "e:c:s:i:n:p:o:qh", opts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'e':
            exp_path = optarg;
            break;
        case 'c':
            bad = parse_u64(optarg, &cond) || cond > 1000000;
            break;
        case 's':
            bad = parse_u64(optarg, &seed);
            have_seed = true;
            break;
        case 'i':
            bad = parse_u64(optarg, &iter) || iter > UINT32_MAX;
            break;
        case 'n':
            bad = parse_u64(optarg, &sample) || sample > UINT32_MAX;
            break;
        case OPT_NOISELESS:
            noiseless = true;
            break;
        case 'p':
            policy_path = optarg;
            break;
        case OPT_SAVE:
            save_path = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case OPT_PRINT:
            print_state = true;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "gpsc-rollout: bad number for -%c: '%s'\n", ch, optarg);
            return 2;
        }
    }
    if (!exp_path || optind < argc) {
        usage(stderr);
        return 2;
    }

    char err[1024] = "";
    int status = 2;
    gpsc_experiment_t exp;
    gpsc_env_t *env = NULL;
    gpsc_rollout_t *ro = NULL;
    gpsc_sample_t *s = NULL;
    gpsc_lgpolicy_t *lg = NULL;
    gpsc_mlp_t *net = NULL;
    gpsc_wire_msg_t *pmsg = NULL;
    uint8_t *buf = NULL;
    size_t len = 0;
    double *x0 = NULL;

    int rc = gpsc_experiment_load(exp_path, &exp, err, sizeof err);
    if (rc == 0) rc = gpsc_env_resolve_experiment(&exp, err, sizeof err);
    if (rc) {
        fprintf(stderr, "gpsc-rollout: %s\n", err);
        goto done;
    }
    if ((int)cond >= gpsc_experiment_n_conditions(&exp)) {
        fprintf(stderr,
                "gpsc-rollout: condition %llu does not exist (%s has %d train and %d "
                "test conditions)\n",
                cond, exp_path, exp.n_train, exp.n_test);
        goto done;
    }
    if (!have_seed) seed = exp.algo.seed;
    env = gpsc_env_new(&exp, err, sizeof err);
    ro = env ? gpsc_rollout_new(env) : NULL;
    if (!env || !ro) {
        fprintf(stderr, "gpsc-rollout: %s\n", err[0] ? err : "out of memory");
        goto done;
    }
    const gpsc_exp_dims_t *d = gpsc_env_dims(env);
    s = gpsc_sample_new(d, exp.T, exp.n_costs);
    x0 = calloc((size_t)d->dX, sizeof(double));
    if (!s || !x0) {
        fprintf(stderr, "gpsc-rollout: out of memory\n");
        goto done;
    }

    gpsc_rollout_policy_t pol = {0};
    if (policy_path) {
        rc = gpsc_msgs_read_file(policy_path, &pmsg, err, sizeof err);
        if (rc) {
            fprintf(stderr, "gpsc-rollout: %s\n", err);
            goto done;
        }
        const Gpsc__Envelope *ev = gpsc_wire_msg_env(pmsg);
        if (ev->body_case == GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY) {
            lg = gpsc_lgmsg_to_policy(ev->lin_gauss_policy);
            pol.kind = GPSC_POLICY_LOCAL;
            pol.lg = lg;
            pol.version = ev->lin_gauss_policy->version;
        } else if (ev->body_case == GPSC__ENVELOPE__BODY_NETWORK_POLICY) {
            net = gpsc_netmsg_to_mlp(ev->network_policy, err, sizeof err);
            pol.kind = GPSC_POLICY_GLOBAL;
            pol.mlp = net;
            pol.version = ev->network_policy->version;
        } else {
            fprintf(stderr, "gpsc-rollout: %s: holds a %s message, not a policy\n", policy_path,
                    gpsc_wire_body_name(ev->body_case));
            goto done;
        }
        if (!lg && !net) {
            fprintf(stderr, "gpsc-rollout: %s: %s\n", policy_path, err[0] ? err : "out of memory");
            goto done;
        }
    } else {
        lg = gpsc_lgpolicy_new(exp.T, d->dX, d->dU);
        if (!lg) {
            fprintf(stderr, "gpsc-rollout: out of memory\n");
            goto done;
        }
        rc = gpsc_initctl_x0(x0, env, (int)cond, err, sizeof err);
        if (rc == 0) rc = gpsc_initctl_build(lg, env, x0, err, sizeof err);
        if (rc) {
            fprintf(stderr, "gpsc-rollout: %s\n", err);
            goto done;
        }
        pol.kind = GPSC_POLICY_LOCAL;
        pol.lg = lg;
        pol.version = 0;
    }
    if (save_path) {
        if (!lg) {
            fprintf(stderr, "gpsc-rollout: --save-policy needs a linear-Gaussian policy\n");
            goto done;
        }
        Gpsc__LinGaussPolicy lm;
        gpsc_lgmsg_fill(&lm, lg, (uint32_t)cond, pol.version);
        Gpsc__Envelope ev;
        gpsc_wire_env_init(&ev, GPSC__ROLE__ROLE_CLIENT, "gpsc-rollout", 1);
        ev.body_case = GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY;
        ev.lin_gauss_policy = &lm;
        rc = gpsc_wire_encode(&buf, &len, &ev, err, sizeof err);
        if (rc == 0) rc = gpsc_msgs_write_file(save_path, buf, len, err, sizeof err);
        free(buf);
        buf = NULL;
        if (rc) {
            fprintf(stderr, "gpsc-rollout: %s\n", err);
            goto done;
        }
    }

    gpsc_rollout_key_t key = {seed, (uint32_t)iter, (uint32_t)cond, (uint32_t)sample};
    rc = gpsc_rollout_run(ro, s, &pol, &key, noiseless, err, sizeof err);
    if (rc) {
        fprintf(stderr, "gpsc-rollout: %s\n", err);
        goto done;
    }
    if (out_path) {
        rc = gpsc_trajmsg_encode(&buf, &len, s, &exp, "gpsc-rollout", 1, false, err, sizeof err);
        if (rc == 0) rc = gpsc_msgs_write_file(out_path, buf, len, err, sizeof err);
        if (rc) {
            fprintf(stderr, "gpsc-rollout: %s\n", err);
            goto done;
        }
    }
    if (s->status != 0) {
        fprintf(stderr, "gpsc-rollout: rollout failed: %s (%s)\n", s->reason,
                gpsc_errname(s->status));
        status = 1;
        goto done;
    }
    if (print_state && !quiet)
        for (int t = 0; t < s->T; t++) {
            printf("x[%d]", t);
            for (int j = 0; j < s->dX; j++)
                printf(" %.6g", s->X[(size_t)t * (size_t)s->dX + (size_t)j]);
            printf("\n");
        }
    if (!quiet) {
        double total = 0.0;
        for (size_t i = 0; i < (size_t)s->T * (size_t)s->dC; i++)
            total += s->costs[i];
        printf("experiment:  %s (%s)\n", exp.name, exp.model);
        printf("key:         seed %llu iteration %llu condition %llu sample %llu%s\n", seed, iter,
               cond, sample, noiseless ? " (noiseless)" : "");
        printf("policy:      %s\n", policy_path ? policy_path : "initial controller");
        printf("dims:        T %d dX %d dU %d dO %d P %d dQ %d\n", s->T, s->dX, s->dU, s->dO, s->P,
               s->dQ);
        printf("cost:        %.6g", total);
        for (int i = 0; i < s->dC; i++) {
            double c = 0.0;
            for (int t = 0; t < s->T; t++)
                c += s->costs[(size_t)t * (size_t)s->dC + (size_t)i];
            printf("%s%s %.6g", i ? ", " : " (", gpsc_exp_cost_type_name(exp.costs[i].type), c);
        }
        printf("%s\n", s->dC ? ")" : "");
        if (s->P > 0) {
            int p = exp.success.metric <= GPSC_EXP_METRIC_MIN_EE_DISTANCE ? exp.success.point : 0;
            printf("final ee distance (point %d): %.4f m (start %.4f m)\n", p,
                   gpsc_rollout_ee_distance(s, s->T - 1, p), gpsc_rollout_ee_distance(s, 0, p));
        }
        double v = 0.0;
        int ok = gpsc_rollout_success(&exp, s, &v);
        if (ok >= 0)
            printf("success:     %s (%s = %.4f, threshold %.4f)\n", ok ? "yes" : "no",
                   gpsc_exp_metric_name(exp.success.metric), v, exp.success.threshold);
        printf("speed:       %.0f control steps/s, %.0f mj_steps/s (%.2f ms rollout, %.0f%% in "
               "MuJoCo)\n",
               s->T / s->rollout_s, (double)(s->T - 1) * exp.substeps / s->rollout_s,
               1e3 * s->rollout_s, 100.0 * s->sim_s / s->rollout_s);
        if (out_path) printf("trajectory:  %s (%zu bytes)\n", out_path, len);
    }
    status = 0;
done:
    free(buf);
    free(x0);
    gpsc_wire_msg_destroy(&pmsg);
    gpsc_lgpolicy_destroy(&lg);
    gpsc_mlp_destroy(&net);
    gpsc_sample_destroy(&s);
    gpsc_rollout_destroy(&ro);
    gpsc_env_destroy(&env);
    gpsc_experiment_free(&exp);
    return status;
}
