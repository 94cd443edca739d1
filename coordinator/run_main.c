/* gpsc-run — `gpsc run EXPERIMENT.yaml`: a whole run on this host.
 *
 * The coordinator runs in this process (coordinator/coordinator.h) on
 * loopback endpoints with ephemeral ports; the learner and N workers are
 * child processes (coordinator/local.h) that connect to it exactly as they
 * would across machines. Progress goes to stdout (an in-place line on a
 * terminal, one line per event otherwise); the run directory gets
 * config.yaml, checkpoints/, metrics.jsonl, log.jsonl (every process's
 * records), summary.txt and procs/<id>.log (each child's own output).
 *
 * Ctrl-C or SIGTERM ends the run cleanly: the children are told to stop,
 * then signalled, then killed, and reaped; the checkpoints of the
 * iterations that completed stay, and `gpsc run --resume DIR` continues
 * the run bit for bit. A second Ctrl-C kills the children at once.
 *
 * N workers are kept alive: a worker that exits or is killed while the run
 * goes on is started again under a new id (worker-<i>-r<n>), at most
 * --respawn-workers times a minute in all; a local process that the
 * coordinator declared lost (silent: hung or stopped) is killed first. Each
 * restart is a log line. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "common/error.h"
#include "common/log.h"
#include "coordinator/coordinator.h"
#include "coordinator/local.h"
#include "coordinator/prom.h"
#include "coordinator/runview.h"
#include "coordinator/view.h"

#define GRACE_MS 5000 /* (ms) children get this long to leave after the end */
#define KILL_MS 3000  /* (ms) then SIGTERM, and this long before SIGKILL */
#define MAX_LEARNER_RESTARTS 3
#define MAX_WORKERS 1024
#define RESPAWN_PER_MIN 10      /* default cap of worker restarts a minute */
#define RESPAWN_WINDOW_MS 60000 /* (ms) the cap's window */
#define RESPAWN_MAX 1000        /* largest cap (times kept) */

/* the process */
typedef struct app {
    uv_loop_t *loop;
    gpsc_coord_t *coord;
    gpsc_local_t *local;
    uv_signal_t sig[2];         /* SIGINT, SIGTERM */
    uv_timer_t grace;           /* shutdown escalation */
    int grace_stage;            /* 0 waiting, 1 SIGTERM sent, 2 SIGKILL sent */
    bool shutting_down;         /* the run ended: waiting for children */
    bool closed;                /* our own handles are closed */
    int signals;                /* signals received */
    char bindir[PATH_MAX];      /* where gpsc-learner and gpsc-worker are */
    char config[PATH_MAX + 32]; /* RUN/config.yaml */
    char ppid[32];              /* our pid, for --parent-pid */
    const char *log_level;
    long threads, slots;
    int learner_restarts;
    char learner_id[32];
    int workers; /* started */
    int workers_running;
    /* worker restarts (N workers are kept alive) */
    char worker_id[MAX_WORKERS][32]; /* current id of each worker (slot i) */
    int worker_gen[MAX_WORKERS];     /* restarts of slot i so far */
    bool worker_pending[MAX_WORKERS]; /* slot i waits for the cap's window */
    long respawn_cap;                 /* restarts allowed a minute, 0: never */
    uint64_t restart_ms[RESPAWN_MAX]; /* (ms, loop clock) times of the restarts, a ring */
    int nrestarts;                    /* restarts so far (ring: the last RESPAWN_MAX) */
    uv_timer_t respawn;               /* a pending restart's window opens */
    bool tty;            /* stdout is a terminal: an in-place progress line */
    bool progress_shown; /* the progress line is on screen */
    double last_draw;    /* (s) when it was last drawn */
    bool quiet;
    struct timespec t0;
    gpsc_runview_t *view;     /* the live view (coordinator/runview.h) on a terminal, or NULL */
    gpsc_prom_t *prom;        /* --metrics-http: the Prometheus endpoint, or NULL */
    const char *metrics_http; /* its address */
} app_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: gpsc run EXPERIMENT.yaml [options]\n"
               "       gpsc run --resume RUN_DIR [options]\n"
               "\n"
               "Runs an experiment on this host: the coordinator in this process, the learner\n"
               "and N workers as child processes on loopback. Writes RUN_DIR/config.yaml,\n"
               "checkpoints/iter_NNNN.pb, metrics.jsonl, log.jsonl and summary.txt.\n"
               "\n"
               "options:\n"
               "  -w, --workers N        worker processes (default: cluster.workers)\n"
               "  -i, --iterations K     iterations in total (default: algorithm.iterations)\n"
               "  -s, --seed S           run seed (default: algorithm.seed)\n"
               "  -a, --algorithm A      mdgps | gps2014 | trajopt (default: algorithm.type)\n"
               "  -d, --run-dir DIR      run directory (default: runs/<name>-<seed>)\n"
               "  -r, --resume RUN_DIR   continue that run from its latest checkpoint\n"
               "  -f, --force            start over in a non-empty run directory\n"
               "      --slots N          rollout threads per worker (default 1)\n"
               "      --threads N        learner threads (default: the CPUs)\n"
               "      --heartbeat S      heartbeat interval in seconds (default: cluster.*)\n"
               "      --liveness N       missed heartbeats before a peer is dead\n"
               "      --task-timeout S   seconds before an unanswered task is re-issued\n"
               "      --respawn-workers N  restart dead workers, at most N restarts a minute\n"
               "                         (default 10; 0: never, the run goes on with the rest)\n"
               "      --no-eval          skip the final evaluation round\n"
               "      --metrics-http ADDR:PORT  serve Prometheus metrics at http://ADDR:PORT/metrics\n"
               "                         (e.g. 127.0.0.1:9464; port 0 picks one)\n"
               "  -l, --log-level L      debug | info | warn | error (default info)\n"
               "  -v, --verbose          also print every log record to stderr\n"
               "  -q, --quiet            print only the summary\n"
               "  -h, --help             this text\n"
               "\n"
               "exit status: 0 done, 1 the run failed, 2 bad arguments or config,\n"
               "130 interrupted (the checkpoints stay; --resume continues).\n");
}

static double elapsed(const app_t *a)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - a->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - a->t0.tv_nsec);
}

/* ------------------------------------------------------------------ output */

static void clear_progress(app_t *a)
{
    gpsc_runview_clear(a->view);
    if (a->progress_shown) {
        fputs("\r\033[K", stdout);
        a->progress_shown = false;
    }
}

static void begin_shutdown(app_t *a, int grace_ms);

static void on_event(const gpsc_coord_event_t *ev, void *ud)
{
    app_t *a = ud;
    if (ev->type == GPSC_COORD_EV_DONE) begin_shutdown(a, GRACE_MS);
    if (ev->type == GPSC_COORD_EV_PEER_LOST) {
        /* declared dead while its process runs (hung, stopped, not reading): it goes,
         * and its exit starts another in its place */
        if (ev->peer && !a->shutting_down && gpsc_local_is_running(a->local, ev->peer)) {
            GPSC_LOG(GPSC_LOG_WARN,
                     "%s was declared lost (%s) but its process still runs: killing it", ev->peer,
                     ev->text);
            gpsc_local_signal(a->local, ev->peer, SIGKILL);
        }
        return;
    }
    if (a->quiet && ev->type != GPSC_COORD_EV_LOG) return;
    if (a->view) { /* the live view shows everything, warnings included */
        gpsc_runview_event(a->view, ev);
        return;
    }
    switch (ev->type) {
    case GPSC_COORD_EV_PROGRESS:
        /* redrawn at most every 50 ms, and when the plan is complete */
        if (a->tty &&
            (elapsed(a) - a->last_draw >= 0.05 || ev->samples_done == ev->samples_total)) {
            a->last_draw = elapsed(a);
            printf("\r\033[K%s %d/%d: %d/%d rollouts, %d worker%s, %s  [%.0f s]",
                   ev->eval ? "evaluation" : "iteration",
                   ev->eval ? ev->iterations : ev->iteration + 1, ev->iterations, ev->samples_done,
                   ev->samples_total, ev->workers, ev->workers == 1 ? "" : "s",
                   ev->learner ? "learner up" : "no learner", elapsed(a));
            fflush(stdout);
            a->progress_shown = true;
        }
        break;
    case GPSC_COORD_EV_LOG:
        clear_progress(a);
        fprintf(stderr, "%s\n", ev->text);
        break;
    default:
        clear_progress(a);
        printf("%s\n", ev->text);
        fflush(stdout);
        break;
    }
}

/* ------------------------------------------------------------------ shutdown */

static void on_handle_closed(uv_handle_t *h)
{
    (void)h;
}

/* the end: our handles close once the children are gone */
static void maybe_close(app_t *a)
{
    /* exited children's handles are closing already: the loop waits for them */
    if (a->closed || !a->shutting_down || gpsc_local_running(a->local) > 0) return;
    a->closed = true;
    for (int i = 0; i < 2; i++)
        uv_close((uv_handle_t *)&a->sig[i], on_handle_closed);
    uv_close((uv_handle_t *)&a->grace, on_handle_closed);
    uv_close((uv_handle_t *)&a->respawn, on_handle_closed);
}

static void on_grace(uv_timer_t *t)
{
    app_t *a = t->data;
    if (gpsc_local_running(a->local) == 0) {
        maybe_close(a);
        return;
    }
    if (a->grace_stage == 0) {
        gpsc_local_kill(a->local, SIGTERM);
        a->grace_stage = 1;
        uv_timer_start(&a->grace, on_grace, KILL_MS, 0);
    } else {
        fprintf(stderr, "gpsc run: killing %d child process%s that did not stop\n",
                gpsc_local_running(a->local), gpsc_local_running(a->local) == 1 ? "" : "es");
        gpsc_local_kill(a->local, SIGKILL);
        a->grace_stage = 2;
    }
}

/* the run ended (done, failed or stopped): children leave, then we do */
static void begin_shutdown(app_t *a, int grace_ms)
{
    if (a->shutting_down) return;
    a->shutting_down = true;
    uv_timer_start(&a->grace, on_grace, (uint64_t)grace_ms, 0);
    maybe_close(a);
}

static void on_signal(uv_signal_t *s, int signum)
{
    app_t *a = s->data;
    a->signals++;
    clear_progress(a);
    if (a->signals == 1) {
        fprintf(stderr, "gpsc run: %s: stopping (again to kill)\n",
                signum == SIGINT ? "interrupted" : "terminated");
        /* the children may be busy in a rollout or an iteration: tell them now,
         * kill them if they are not gone in KILL_MS */
        a->grace_stage = 1;
        begin_shutdown(a, KILL_MS);
        gpsc_local_kill(a->local, SIGTERM);
        gpsc_coord_stop(a->coord, 130,
                        signum == SIGINT ? "interrupted (SIGINT)" : "terminated (SIGTERM)");
    } else {
        gpsc_local_kill(a->local, SIGKILL);
        a->grace_stage = 2;
    }
}

/* ------------------------------------------------------------------ children */

static int spawn_learner(app_t *a, char *err, size_t errsz)
{
    char exe[PATH_MAX + 32], threads[32];
    snprintf(exe, sizeof exe, "%s/gpsc-learner", a->bindir);
    if (a->learner_restarts == 0)
        snprintf(a->learner_id, sizeof a->learner_id, "learner");
    else
        snprintf(a->learner_id, sizeof a->learner_id, "learner-r%d", a->learner_restarts);
    char *argv[16];
    int n = 0;
    argv[n++] = exe;
    argv[n++] = "--connect";
    argv[n++] = (char *)gpsc_coord_endpoint(a->coord, GPSC_COORD_EP_LEARNER);
    argv[n++] = "--id";
    argv[n++] = a->learner_id;
    argv[n++] = "--parent-pid";
    argv[n++] = a->ppid;
    argv[n++] = "--log-level";
    argv[n++] = (char *)a->log_level;
    if (a->threads > 0) {
        snprintf(threads, sizeof threads, "%ld", a->threads);
        argv[n++] = "--threads";
        argv[n++] = threads;
    }
    argv[n] = NULL;
    return gpsc_local_spawn(a->local, a->learner_id, argv, err, errsz);
}

static int spawn_worker(app_t *a, int i, char *err, size_t errsz)
{
    char exe[PATH_MAX + 32], slots[32];
    char *id = a->worker_id[i];
    snprintf(exe, sizeof exe, "%s/gpsc-worker", a->bindir);
    if (a->worker_gen[i] == 0)
        snprintf(a->worker_id[i], sizeof a->worker_id[i], "worker-%d", i);
    else
        snprintf(a->worker_id[i], sizeof a->worker_id[i], "worker-%d-r%d", i, a->worker_gen[i]);
    char *argv[18];
    int n = 0;
    argv[n++] = exe;
    argv[n++] = "--connect";
    argv[n++] = (char *)gpsc_coord_endpoint(a->coord, GPSC_COORD_EP_CONTROL);
    argv[n++] = "--experiment";
    argv[n++] = a->config;
    argv[n++] = "--id";
    argv[n++] = id;
    argv[n++] = "--parent-pid";
    argv[n++] = a->ppid;
    argv[n++] = "--log-level";
    argv[n++] = (char *)a->log_level;
    if (a->slots > 0) {
        snprintf(slots, sizeof slots, "%ld", a->slots);
        argv[n++] = "--slots";
        argv[n++] = slots;
    }
    argv[n] = NULL;
    int rc = gpsc_local_spawn(a->local, id, argv, err, errsz);
    if (rc == 0) a->workers_running++;
    return rc;
}

/* restarts in the cap's window that ends now */
static int recent_restarts(const app_t *a, uint64_t now)
{
    int n = 0, kept = a->nrestarts < RESPAWN_MAX ? a->nrestarts : RESPAWN_MAX;
    for (int j = 0; j < kept; j++)
        n += now - a->restart_ms[j] < RESPAWN_WINDOW_MS;
    return n;
}

/* (ms) until the oldest restart of the window leaves it */
static uint64_t window_opens_in(const app_t *a, uint64_t now)
{
    uint64_t wait = RESPAWN_WINDOW_MS;
    int kept = a->nrestarts < RESPAWN_MAX ? a->nrestarts : RESPAWN_MAX;
    for (int j = 0; j < kept; j++)
        if (now - a->restart_ms[j] < RESPAWN_WINDOW_MS &&
            RESPAWN_WINDOW_MS - (now - a->restart_ms[j]) < wait)
            wait = RESPAWN_WINDOW_MS - (now - a->restart_ms[j]);
    return wait + 1;
}

static void on_respawn_timer(uv_timer_t *t);

/* worker slot i is empty: a new process in it, now or when the cap allows;
 * false when none will start (the run may then have no workers) */
static bool respawn(app_t *a, int i)
{
    uint64_t now = uv_now(a->loop);
    if (a->respawn_cap <= 0) return false;
    int recent = recent_restarts(a, now);
    if (recent >= a->respawn_cap) {
        if (!a->worker_pending[i])
            GPSC_LOG(GPSC_LOG_WARN,
                     "worker restart cap reached (%d restart%s in the last minute, at most %ld): "
                     "worker slot %d waits %.1f s",
                     recent, recent == 1 ? "" : "s", a->respawn_cap, i,
                     (double)window_opens_in(a, now) / 1000.0);
        a->worker_pending[i] = true;
        uv_timer_start(&a->respawn, on_respawn_timer, window_opens_in(a, now), 0);
        return false;
    }
    a->worker_pending[i] = false;
    a->restart_ms[a->nrestarts % RESPAWN_MAX] = now;
    a->nrestarts++;
    char old[32], err[512];
    snprintf(old, sizeof old, "%s", a->worker_id[i]);
    a->worker_gen[i]++;
    if (spawn_worker(a, i, err, sizeof err) != 0) {
        GPSC_LOG(GPSC_LOG_ERROR, "cannot restart worker slot %d: %s", i, err);
        return false;
    }
    GPSC_LOG(GPSC_LOG_WARN,
             "respawned worker: %s started in place of %s (%d restart%s in the last minute, "
             "at most %ld)",
             a->worker_id[i], old, recent + 1, recent + 1 == 1 ? "" : "s", a->respawn_cap);
    return true;
}

static void on_respawn_timer(uv_timer_t *t)
{
    app_t *a = t->data;
    if (a->shutting_down || gpsc_coord_finished(a->coord)) return;
    for (int i = 0; i < a->workers; i++)
        if (a->worker_pending[i] && !respawn(a, i)) break;
}

static void on_child_exit(void *ud, const char *id, long long status, int term_signal)
{
    app_t *a = ud;
    gpsc_coord_peer_exited(a->coord, id, status, term_signal);
    bool learner = strcmp(id, a->learner_id) == 0;
    int slot = -1;
    for (int i = 0; !learner && i < a->workers && slot < 0; i++)
        if (strcmp(id, a->worker_id[i]) == 0) slot = i;
    if (!learner) a->workers_running--;
    if (!gpsc_coord_finished(a->coord)) {
        char how[64];
        if (term_signal)
            snprintf(how, sizeof how, "killed by signal %d", term_signal);
        else
            snprintf(how, sizeof how, "exited with status %lld", status);
        clear_progress(a);
        fprintf(stderr, "gpsc run: %s %s (see %s/procs/%s.log)\n", id, how,
                gpsc_coord_run_dir(a->coord), id);
        if (learner) {
            char err[512];
            if (a->learner_restarts < MAX_LEARNER_RESTARTS) {
                a->learner_restarts++;
                fprintf(stderr,
                        "gpsc run: starting the learner again (%d/%d); it resumes from "
                        "the last checkpoint\n",
                        a->learner_restarts, MAX_LEARNER_RESTARTS);
                if (spawn_learner(a, err, sizeof err) != 0) {
                    fprintf(stderr, "gpsc run: %s\n", err);
                    gpsc_coord_stop(a->coord, 1, "the learner cannot be restarted");
                }
            } else {
                gpsc_coord_stop(a->coord, 1, "the learner keeps exiting");
            }
        } else {
            /* exit 2 is a bad argument or config: another process would fail the same way */
            bool again = slot >= 0 && !(term_signal == 0 && status == 2) && respawn(a, slot);
            if (!again && a->workers_running == 0)
                gpsc_coord_stop(a->coord, 1,
                                a->respawn_cap > 0 && !(term_signal == 0 && status == 2)
                                    ? "every local worker exited and the restart cap is reached"
                                    : "every local worker exited");
        }
    }
    if (gpsc_coord_finished(a->coord)) begin_shutdown(a, GRACE_MS);
    maybe_close(a);
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!s[0] || *end || errno || v < lo || v > hi) return -1;
    *out = v;
    return 0;
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
    enum { OPT_SLOTS = 256, OPT_THREADS, OPT_HB, OPT_LIVE, OPT_TT, OPT_NOEVAL, OPT_RESPAWN,
           OPT_MHTTP };
    static const struct option opts[] = {{"workers", required_argument, 0, 'w'},
                                         {"iterations", required_argument, 0, 'i'},
                                         {"seed", required_argument, 0, 's'},
                                         {"algorithm", required_argument, 0, 'a'},
                                         {"run-dir", required_argument, 0, 'd'},
                                         {"resume", required_argument, 0, 'r'},
                                         {"force", no_argument, 0, 'f'},
                                         {"slots", required_argument, 0, OPT_SLOTS},
                                         {"threads", required_argument, 0, OPT_THREADS},
                                         {"heartbeat", required_argument, 0, OPT_HB},
                                         {"liveness", required_argument, 0, OPT_LIVE},
                                         {"task-timeout", required_argument, 0, OPT_TT},
                                         {"no-eval", no_argument, 0, OPT_NOEVAL},
                                         {"respawn-workers", required_argument, 0, OPT_RESPAWN},
                                         {"metrics-http", required_argument, 0, OPT_MHTTP},
                                         {"log-level", required_argument, 0, 'l'},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"quiet", no_argument, 0, 'q'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    static app_t A;
    app_t *a = &A;
    gpsc_coord_cfg_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.seed = -1;
    long workers = 0, v;
    bool verbose = false;
    a->log_level = "info";
    a->respawn_cap = RESPAWN_PER_MIN;
    gpsc_log_level_t level = GPSC_LOG_INFO;
    int ch;
    while ((ch = getopt_long(argc, argv, "w:i:s:a:d:r:fl:vqh", opts, NULL)) != -1) {
        bool bad = false;
        switch (ch) {
        case 'w':
            bad = parse_long(optarg, 1, 1024, &workers) != 0;
            break;
        case 'i':
            bad = parse_long(optarg, 1, 1000000, &v) != 0;
            cfg.iterations = v;
            break;
        case 's': {
            char *end = NULL;
            errno = 0;
            long long s = strtoll(optarg, &end, 10);
            bad = !optarg[0] || *end || errno || s < 0;
            cfg.seed = s;
            break;
        }
        case 'a':
            cfg.algorithm = optarg;
            break;
        case 'd':
            cfg.run_dir = optarg;
            break;
        case 'r':
            cfg.resume = optarg;
            break;
        case 'f':
            cfg.force = true;
            break;
        case OPT_SLOTS:
            bad = parse_long(optarg, 1, 64, &a->slots) != 0;
            break;
        case OPT_THREADS:
            bad = parse_long(optarg, 1, 256, &a->threads) != 0;
            break;
        case OPT_HB:
            bad = parse_double(optarg, &cfg.heartbeat_s) != 0;
            break;
        case OPT_LIVE:
            bad = parse_long(optarg, 2, 1000, &v) != 0;
            cfg.liveness = (int)v;
            break;
        case OPT_TT:
            bad = parse_double(optarg, &cfg.task_timeout_s) != 0;
            break;
        case OPT_NOEVAL:
            cfg.no_eval = true;
            break;
        case OPT_RESPAWN:
            bad = parse_long(optarg, 0, RESPAWN_MAX, &a->respawn_cap) != 0;
            break;
        case OPT_MHTTP:
            a->metrics_http = optarg;
            break;
        case 'l':
            bad = gpsc_log_parse_level(optarg, &level) != 0;
            a->log_level = optarg;
            break;
        case 'v':
            verbose = true;
            break;
        case 'q':
            a->quiet = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "gpsc run: bad value '%s' for %s\n", optarg, argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) cfg.experiment = argv[optind++];
    if (optind < argc || (!cfg.experiment && !cfg.resume)) {
        usage(stderr);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    clock_gettime(CLOCK_MONOTONIC, &a->t0);
    a->tty = isatty(STDOUT_FILENO);

    /* logging: the run's log.jsonl (opened by the coordinator); the terminal
     * shows progress and warnings, every record only with --verbose */
    gpsc_log_init("coordinator", NULL, level);
    gpsc_log_set_stream(verbose ? stderr : NULL, GPSC_LOG_AUTO);

    a->loop = uv_default_loop();
    cfg.on_event = on_event;
    cfg.event_ud = a;
    char err[2048] = "";
    int code = 2;
    if (a->metrics_http) {
        gpsc_prom_cfg_t pc = {.addr = a->metrics_http};
        if (!(a->prom = gpsc_prom_new(a->loop, &pc, gpsc_prom_coord_collect, &a->coord, err,
                                      sizeof err))) {
            fprintf(stderr, "gpsc run: --metrics-http: %s\n", err);
            uv_loop_close(a->loop);
            return 2;
        }
    }
    a->coord = gpsc_coord_new(a->loop, &cfg, &code, err, sizeof err);
    if (!a->coord) {
        fprintf(stderr, "gpsc run: %s\n", err);
        gpsc_prom_destroy(&a->prom);
        uv_run(a->loop, UV_RUN_DEFAULT);
        uv_loop_close(a->loop);
        return code;
    }
    const gpsc_experiment_t *exp = gpsc_coord_experiment(a->coord);
    if (workers <= 0) workers = exp->cluster.workers;
    if (workers > MAX_WORKERS) workers = MAX_WORKERS;
    snprintf(a->config, sizeof a->config, "%s/config.yaml", gpsc_coord_run_dir(a->coord));
    snprintf(a->ppid, sizeof a->ppid, "%ld", (long)getpid());
    size_t n = sizeof a->bindir;
    if (uv_exepath(a->bindir, &n) != 0) {
        fprintf(stderr, "gpsc run: cannot find my own executable\n");
        return 1;
    }
    char *slash = strrchr(a->bindir, '/');
    if (slash) *slash = '\0';
    char procs[PATH_MAX + 32];
    snprintf(procs, sizeof procs, "%s/procs", gpsc_coord_run_dir(a->coord));
    a->local = gpsc_local_new(a->loop, procs, on_child_exit, a);
    uv_signal_init(a->loop, &a->sig[0]);
    uv_signal_init(a->loop, &a->sig[1]);
    uv_timer_init(a->loop, &a->grace);
    uv_timer_init(a->loop, &a->respawn);
    a->sig[0].data = a->sig[1].data = a->grace.data = a->respawn.data = a;
    uv_signal_start(&a->sig[0], on_signal, SIGINT);
    uv_signal_start(&a->sig[1], on_signal, SIGTERM);
    if (!a->quiet) {
        int k0 = gpsc_coord_start_iteration(a->coord);
        printf("%s %s: %s, %s, %d x %d samples, T %d, %ld worker%s, iterations %d..%d -> %s\n",
               cfg.resume ? "resuming" : "run", gpsc_coord_run_id(a->coord), exp->name,
               gpsc_exp_algorithm_name(exp->algo.type), exp->n_train, exp->algo.samples, exp->T,
               workers, workers == 1 ? "" : "s", k0, exp->algo.iterations,
               gpsc_coord_run_dir(a->coord));
        fflush(stdout);
    }

    /* the live view on a terminal; the Prometheus endpoint */
    if (a->tty && !a->quiet && !verbose)
        a->view = gpsc_runview_new(a->loop, a->coord, stdout, gpsc_view_term_color(stdout),
                                   !gpsc_view_term_utf8());
    if (a->prom) {
        (void)gpsc_prom_write_endpoint(a->prom, gpsc_coord_run_dir(a->coord));
        if (!a->quiet) printf("prometheus metrics on %s\n", gpsc_prom_url(a->prom));
        fflush(stdout);
    }

    /* the learner and the workers */
    a->workers = (int)workers;
    int rc = a->local ? spawn_learner(a, err, sizeof err) : GPSC_ENOMEM;
    for (int i = 0; rc == 0 && i < workers; i++)
        rc = spawn_worker(a, i, err, sizeof err);
    if (rc) {
        fprintf(stderr, "gpsc run: %s\n", err);
        gpsc_coord_stop(a->coord, 1, "cannot start the local processes");
        gpsc_local_kill(a->local, SIGTERM);
        begin_shutdown(a, KILL_MS);
    }

    uv_run(a->loop, UV_RUN_DEFAULT);
    if (!gpsc_coord_finished(a->coord)) gpsc_coord_stop(a->coord, 1, "the event loop ended early");
    gpsc_runview_destroy(&a->view);
    gpsc_prom_destroy(&a->prom);
    clear_progress(a);

    /* the end */
    int status = gpsc_coord_status(a->coord);
    printf("\n");
    gpsc_coord_print_summary(a->coord, stdout);
    if (status == 0)
        printf("done in %.1f s; checkpoints in %s/checkpoints\n", elapsed(a),
               gpsc_coord_run_dir(a->coord));
    else
        printf("stopped after %.1f s: %s; the checkpoints of the completed iterations are in "
               "%s/checkpoints (continue with: gpsc run --resume %s)\n",
               elapsed(a), gpsc_coord_reason(a->coord), gpsc_coord_run_dir(a->coord),
               gpsc_coord_run_dir(a->coord));
    gpsc_coord_destroy(&a->coord);
    gpsc_local_destroy(&a->local);
    uv_loop_close(a->loop);
    gpsc_log_shutdown();
    return status;
}
