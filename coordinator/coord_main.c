/* gpsc-coordinator — the coordinator role for clusters: binds its
 * endpoints and runs the experiment with whatever learner and workers
 * connect (gpsc learner --connect ..., gpsc worker --connect ...). Logs go
 * to stderr and RUN/log.jsonl; the summary to stdout at the end. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/keys.h"
#include "common/log.h"
#include "coordinator/coordinator.h"
#include "coordinator/prom.h"

typedef struct app {
    uv_signal_t sig[2]; /* SIGINT, SIGTERM */
    gpsc_coord_t *coord;
    bool closed;
} app_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: gpsc coordinator --experiment FILE.yaml [options]\n"
               "       gpsc coordinator --resume RUN_DIR [options]\n"
               "\n"
               "Runs the coordinator of a cluster run: binds the control (workers), learner\n"
               "and log endpoints, plans the rollouts of every iteration, hands them to the\n"
               "workers that connect, relays their trajectories to the learner and writes\n"
               "RUN_DIR (config.yaml, checkpoints/, metrics.jsonl, log.jsonl, summary.txt).\n"
               "\n"
               "options:\n"
               "  -e, --experiment FILE  experiment YAML\n"
               "  -r, --resume RUN_DIR   continue that run from its latest checkpoint\n"
               "  -c, --control EP       bind for workers (default tcp://*:5555)\n"
               "  -L, --learner EP       bind for the learner (default tcp://*:5556)\n"
               "  -p, --log-pub EP       bind the log stream (default tcp://*:5557)\n"
               "  -d, --run-dir DIR      run directory (default runs/<name>-<seed>)\n"
               "  -f, --force            start over in a non-empty run directory\n"
               "  -i, --iterations K     iterations in total (default: algorithm.iterations)\n"
               "  -s, --seed S           run seed (default: algorithm.seed)\n"
               "  -a, --algorithm A      mdgps | gps2014 | trajopt\n"
               "      --heartbeat S      heartbeat interval in seconds (default: cluster.*)\n"
               "      --liveness N       missed heartbeats before a peer is dead\n"
               "      --task-timeout S   seconds before an unanswered task is re-issued\n"
               "      --no-eval          skip the final evaluation round\n"
               "      --curve-secret FILE  CURVE on every socket: the server key pair\n"
               "      --allow-keys LIST    CURVE: client public keys let in (files or\n"
               "                         directories of *.pub, comma-separated); others are\n"
               "                         refused and logged\n"
               "      --metrics-http ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
               "                         (e.g. 127.0.0.1:9464 or :9464; port 0 picks one)\n"
               "  -l, --log-level L      debug | info | warn | error (default info)\n"
               "  -h, --help             this text\n"
               "\n"
               "exit status: 0 done, 1 the run failed, 2 bad arguments or config, 130 stopped.\n");
}

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void close_signals(app_t *a)
{
    if (a->closed) return;
    a->closed = true;
    uv_close((uv_handle_t *)&a->sig[0], on_closed);
    uv_close((uv_handle_t *)&a->sig[1], on_closed);
}

static void on_event(const gpsc_coord_event_t *ev, void *ud)
{
    app_t *a = ud;
    if (ev->type == GPSC_COORD_EV_DONE) close_signals(a);
}

static void on_signal(uv_signal_t *s, int signum)
{
    app_t *a = s->data;
    gpsc_coord_stop(a->coord, 130,
                    signum == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
    close_signals(a);
}

static int parse_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (!s[0] || *end || errno || !(v > 0) || v > 1e6) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    enum { OPT_HB = 256, OPT_LIVE, OPT_TT, OPT_NOEVAL, OPT_CSECRET, OPT_ALLOW, OPT_MHTTP };
    static const struct option opts[] = {{"experiment", required_argument, 0, 'e'},
                                         {"resume", required_argument, 0, 'r'},
                                         {"control", required_argument, 0, 'c'},
                                         {"learner", required_argument, 0, 'L'},
                                         {"log-pub", required_argument, 0, 'p'},
                                         {"run-dir", required_argument, 0, 'd'},
                                         {"force", no_argument, 0, 'f'},
                                         {"iterations", required_argument, 0, 'i'},
                                         {"seed", required_argument, 0, 's'},
                                         {"algorithm", required_argument, 0, 'a'},
                                         {"heartbeat", required_argument, 0, OPT_HB},
                                         {"liveness", required_argument, 0, OPT_LIVE},
                                         {"task-timeout", required_argument, 0, OPT_TT},
                                         {"no-eval", no_argument, 0, OPT_NOEVAL},
                                         {"curve-secret", required_argument, 0, OPT_CSECRET},
                                         {"allow-keys", required_argument, 0, OPT_ALLOW},
                                         {"metrics-http", required_argument, 0, OPT_MHTTP},
                                         {"log-level", required_argument, 0, 'l'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    gpsc_coord_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = -1;
    cfg.control_endpoint = "tcp://*:5555";
    cfg.learner_endpoint = "tcp://*:5556";
    cfg.log_endpoint = "tcp://*:5557";
    gpsc_log_level_t level = GPSC_LOG_INFO;
    const char *curve_secret = NULL, *allow_keys = NULL;
    const char *metrics_http = NULL; /* --metrics-http: the Prometheus endpoint */
    static gpsc_keys_t keys; /* CURVE (common/keys.h); off without --curve-secret */
    int ch;
    while ((ch = getopt_long(argc, argv, "e:r:c:L:p:d:fi:s:a:l:h", opts, NULL)) != -1) {
        bool bad = false;
        char *end = NULL;
        errno = 0;
        switch (ch) {
        case 'e':
            cfg.experiment = optarg;
            break;
        case 'r':
            cfg.resume = optarg;
            break;
        case 'c':
            cfg.control_endpoint = optarg;
            break;
        case 'L':
            cfg.learner_endpoint = optarg;
            break;
        case 'p':
            cfg.log_endpoint = optarg;
            break;
        case 'd':
            cfg.run_dir = optarg;
            break;
        case 'f':
            cfg.force = true;
            break;
        case 'i':
            cfg.iterations = strtoll(optarg, &end, 10);
            bad = *end || errno || cfg.iterations < 1;
            break;
        case 's':
            cfg.seed = strtoll(optarg, &end, 10);
            bad = *end || errno || cfg.seed < 0;
            break;
        case 'a':
            cfg.algorithm = optarg;
            break;
        case OPT_HB:
            bad = parse_double(optarg, &cfg.heartbeat_s) != 0;
            break;
        case OPT_LIVE:
            cfg.liveness = (int)strtol(optarg, &end, 10);
            bad = *end || errno || cfg.liveness < 2;
            break;
        case OPT_TT:
            bad = parse_double(optarg, &cfg.task_timeout_s) != 0;
            break;
        case OPT_NOEVAL:
            cfg.no_eval = true;
            break;
        case OPT_CSECRET:
            curve_secret = optarg;
            break;
        case OPT_ALLOW:
            allow_keys = optarg;
            break;
        case OPT_MHTTP:
            metrics_http = optarg;
            break;
        case 'l':
            bad = gpsc_log_parse_level(optarg, &level) != 0;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "gpsc-coordinator: bad value '%s' for %s\n", optarg, argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc || (!cfg.experiment && !cfg.resume)) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    gpsc_log_init("coordinator", NULL, level);
    char kerr[512];
    if (gpsc_keys_load(&keys, curve_secret, NULL, allow_keys, kerr, sizeof kerr) != 0) {
        fprintf(stderr, "gpsc-coordinator: %s\n", kerr);
        gpsc_log_shutdown();
        return 2;
    }
    cfg.keys = &keys;
    static app_t A;
    app_t *a = &A;
    cfg.on_event = on_event;
    cfg.event_ud = a;
    uv_loop_t *loop = uv_default_loop();
    char err[2048] = "";
    int code = 2;
    gpsc_prom_t *prom = NULL;
    if (metrics_http) {
        gpsc_prom_cfg_t pc = {.addr = metrics_http};
        if (!(prom = gpsc_prom_new(loop, &pc, gpsc_prom_coord_collect, &a->coord, err,
                                   sizeof err))) {
            fprintf(stderr, "gpsc-coordinator: --metrics-http: %s\n", err);
            gpsc_keys_free(&keys);
            return 2;
        }
    }
    a->coord = gpsc_coord_new(loop, &cfg, &code, err, sizeof err);
    if (!a->coord) {
        fprintf(stderr, "gpsc-coordinator: %s\n", err);
        gpsc_prom_destroy(&prom);
        uv_run(loop, UV_RUN_DEFAULT);
        uv_loop_close(loop);
        return code;
    }
    if (prom) {
        (void)gpsc_prom_write_endpoint(prom, gpsc_coord_run_dir(a->coord));
        printf("prometheus metrics on %s\n", gpsc_prom_url(prom));
    }
    uv_signal_init(loop, &a->sig[0]);
    uv_signal_init(loop, &a->sig[1]);
    a->sig[0].data = a->sig[1].data = a;
    uv_signal_start(&a->sig[0], on_signal, SIGINT);
    uv_signal_start(&a->sig[1], on_signal, SIGTERM);
    printf("run %s: control %s, learner %s, log %s, dir %s\n", gpsc_coord_run_id(a->coord),
           gpsc_coord_endpoint(a->coord, GPSC_COORD_EP_CONTROL),
           gpsc_coord_endpoint(a->coord, GPSC_COORD_EP_LEARNER),
           gpsc_coord_endpoint(a->coord, GPSC_COORD_EP_LOG), gpsc_coord_run_dir(a->coord));
    fflush(stdout);
    uv_run(loop, UV_RUN_DEFAULT);
    gpsc_prom_destroy(&prom);
    int status = gpsc_coord_status(a->coord);
    printf("\n");
    gpsc_coord_print_summary(a->coord, stdout);
    printf("%s: %s\n", status == 0 ? "done" : "stopped", gpsc_coord_reason(a->coord));
    gpsc_coord_destroy(&a->coord);
    uv_loop_close(loop);
    gpsc_keys_free(&keys);
    gpsc_log_shutdown();
    return status;
}
