/* gpsc-bench-coordinator — how many trajectories a coordinator ingests a
 * second, and what that costs it.
 *
 * A real gpsc-coordinator (the executable beside this one, on loopback
 * ephemeral ports, its own run directory) serves:
 *   - W synthetic workers: processes that say Hello like gpsc-worker and
 *     answer every RolloutTask at once with one stored trajectory (a real
 *     rollout of the experiment made up front, re-keyed for the task), asking
 *     for work with `--credit` tasks in flight;
 *   - a learner sink: a process that says Hello on the learner endpoint and
 *     answers at once — ITER_START(k) with zero policies of version k,
 *     SAMPLES_COMPLETE(k) with the policies of k+1, a metrics line and a
 *     minimal checkpoint — so the iteration boundary costs the coordinator
 *     what it costs in a run (policies in and served, metrics line,
 *     checkpoint written with fsync, a new plan) but no learning time.
 * The run is trajopt (no global-policy rollouts), no evaluation round.
 *
 * After a warm-up, for `--seconds` the sink counts the trajectories the
 * coordinator relayed to it (ingested: received, decoded, validated,
 * checked against the task table, stored, acked, re-encoded and relayed) and
 * /proc/PID/stat gives the CPU time of the coordinator (and of the others).
 * Printed per worker count: trajectories/s, MB/s, iterations/s, the
 * coordinator's CPU share of one core and its CPU time per trajectory.
 * On a machine with fewer cores than processes the workers and the sink
 * compete with the coordinator for CPU; the per-trajectory CPU time is the
 * number that carries over. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/experiment.h"
#include "common/identity.h"
#include "common/lgpolicy.h"
#include "common/peer.h"
#include "common/wire.h"
#include "worker/env.h"
#include "worker/msgs.h"
#include "worker/rollout.h"

#define MAX_W 64

#ifndef GPSC_SOURCE_DIR
#define GPSC_SOURCE_DIR "."
#endif

/* counters the children share with the parent (MAP_SHARED) */
typedef struct shared {
    uint64_t relayed;       /* trajectories the sink received */
    uint64_t iterations;    /* SAMPLES_COMPLETE the sink answered */
    uint64_t sent[MAX_W];   /* trajectories each worker sent */
    uint64_t ready[MAX_W];  /* 1 once the worker was welcomed */
    uint64_t sink_ready;    /* 1 once the sink was welcomed */
} shared_t;

/* what every process knows */
typedef struct bench {
    gpsc_experiment_t exp; /* resolved */
    char model_hash[25];
    gpsc_sample_t *s; /* the stored trajectory */
    size_t traj_bytes;
    int credit;
    shared_t *sh;
} bench_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void add(uint64_t *p, uint64_t v)
{
    __atomic_add_fetch(p, v, __ATOMIC_RELAXED);
}

/* CPU seconds (user + system) of pid, < 0 when gone */
static double cpu_s(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!rp || sscanf(rp + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gpsc-bench-coordinator [options]\n"
            "\n"
            "Trajectories per second a real coordinator ingests from synthetic workers (which\n"
            "replay a stored trajectory as fast as they get tasks) with a learner sink that\n"
            "answers every iteration at once; the coordinator's CPU share and CPU per\n"
            "trajectory.\n"
            "\n"
            "options:\n"
            "  -e, --experiment FILE  task whose trajectories are replayed (default peg7)\n"
            "  -w, --workers LIST     synthetic worker counts, comma-separated (default 1,2,4)\n"
            "  -t, --seconds S        measuring time per count (default 3)\n"
            "      --warmup S         before measuring (default 1)\n"
            "  -n, --samples N        samples per condition and iteration (default: the\n"
            "                         experiment's)\n"
            "  -c, --credit C         tasks each worker keeps asked for (default 2)\n"
            "  -k, --keep             keep the scratch directory\n"
            "  -h, --help             this text\n");
}

/* ------------------------------------------------------------------ children */

/* a peer of role `role` to endpoint (NULL with a message on failure) */
static gpsc_peer_t *connect_peer(void *ctx, Gpsc__Role role, const char *id, const char *ep,
                                 const Gpsc__Hello *h)
{
    char err[512];
    gpsc_peer_cfg_t pc = {.role = role,
                          .id = id,
                          .endpoint = ep,
                          .hello = h,
                          .max_msg_size =
                              role == GPSC__ROLE__ROLE_LEARNER ? ((size_t)1 << 30) : 0};
    gpsc_peer_t *p = gpsc_peer_new(ctx, &pc, err, sizeof err);
    if (!p) fprintf(stderr, "gpsc-bench-coordinator: %s: %s\n", id, err);
    return p;
}

/* a synthetic worker: every task answered at once with the stored trajectory */
static int worker_main(const bench_t *b, int idx, const char *ep)
{
    const gpsc_exp_dims_t *d = &b->exp.dims;
    char id[32];
    snprintf(id, sizeof id, "synth-%d", idx);
    Gpsc__Capabilities caps = GPSC__CAPABILITIES__INIT;
    caps.slots = caps.max_inflight = (uint32_t)b->credit;
    caps.dx = (uint32_t)d->dX;
    caps.du = (uint32_t)d->dU;
    caps.do_ = (uint32_t)d->dO;
    caps.p = (uint32_t)d->P;
    caps.dq = (uint32_t)d->dQ;
    caps.computes_cost = true;
    Gpsc__Hello h = GPSC__HELLO__INIT;
    h.protocol_version = GPSC_WIRE_VERSION;
    h.role = GPSC__ROLE__ROLE_WORKER;
    h.capabilities = &caps;
    h.task_name = b->exp.name;
    h.model_hash = (char *)b->model_hash;
    h.hostname = "bench";
    h.pid = (uint32_t)getpid();
    void *ctx = gpsc_wire_ctx_new();
    gpsc_peer_t *p = ctx ? connect_peer(ctx, GPSC__ROLE__ROLE_WORKER, id, ep, &h) : NULL;
    gpsc_trajmsg_t *m = malloc(sizeof *m);
    if (!p || !m) return 1;
    gpsc_trajmsg_fill(m, b->s, &b->exp, id, false);
    bool go = true;
    while (go) {
        long ms = gpsc_peer_tick(p);
        void *socks[1] = {gpsc_peer_socket(p)};
        int ready[1];
        if (gpsc_wire_poll(socks, ready, 1, ms) < 0) break;
        gpsc_wire_msg_t *msg = NULL;
        char err[512];
        int rc;
        while (go && (rc = gpsc_peer_recv(p, &msg, err, sizeof err)) != GPSC_EAGAIN) {
            if (rc) continue;
            const Gpsc__Envelope *env = gpsc_wire_msg_env(msg);
            Gpsc__WorkRequest wr = GPSC__WORK_REQUEST__INIT;
            switch (env->body_case) {
            case GPSC__ENVELOPE__BODY_WELCOME:
                wr.credit = (uint32_t)b->credit;
                (void)gpsc_peer_send(p, GPSC__ENVELOPE__BODY_WORK_REQUEST, &wr);
                __atomic_store_n(&b->sh->ready[idx], 1, __ATOMIC_RELAXED);
                break;
            case GPSC__ENVELOPE__BODY_ROLLOUT_TASK: {
                const Gpsc__RolloutTask *t = env->rollout_task;
                m->key.iteration = t->key->iteration;
                m->key.condition = t->key->condition;
                m->key.sample_index = t->key->sample_index;
                m->traj.policy_kind = t->policy_kind;
                m->traj.policy_version = t->policy_version;
                m->traj.attempt = t->attempt;
                if (gpsc_peer_send(p, GPSC__ENVELOPE__BODY_TRAJECTORY, &m->traj) == 0)
                    add(&b->sh->sent[idx], 1);
                wr.credit = 1;
                (void)gpsc_peer_send(p, GPSC__ENVELOPE__BODY_WORK_REQUEST, &wr);
                break;
            }
            case GPSC__ENVELOPE__BODY_REFUSE:
                fprintf(stderr, "gpsc-bench-coordinator: %s refused: %s\n", id,
                        env->refuse->detail);
                go = false;
                break;
            case GPSC__ENVELOPE__BODY_ITERATION_CONTROL:
                go = env->iteration_control->command != GPSC__ITERATION_COMMAND__ITER_SHUTDOWN;
                break;
            default:
                break;
            }
            gpsc_wire_msg_destroy(&msg);
        }
    }
    free(m);
    gpsc_peer_destroy(&p);
    gpsc_wire_ctx_destroy(&ctx);
    return 0;
}

/* the sink's answer to a version: zero policies of every condition, then (for
 * k > 0) metrics and checkpoint, then POLICIES_READY */
static void sink_publish(gpsc_peer_t *p, const bench_t *b, const gpsc_lgpolicy_t *pol, uint32_t v,
                         bool results)
{
    for (int m = 0; m < b->exp.n_train; m++) {
        Gpsc__LinGaussPolicy lg;
        gpsc_lgmsg_fill(&lg, pol, (uint32_t)m, v);
        (void)gpsc_peer_send(p, GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY, &lg);
    }
    if (results) {
        char json[128];
        snprintf(json, sizeof json, "{\"iteration\":%u,\"sample_cost\":0}", v - 1);
        Gpsc__Metrics mt = GPSC__METRICS__INIT;
        mt.iteration = v - 1;
        mt.json = json;
        (void)gpsc_peer_send(p, GPSC__ENVELOPE__BODY_METRICS, &mt);
        Gpsc__Checkpoint ck = GPSC__CHECKPOINT__INIT;
        ck.iteration = v;
        ck.run_seed = gpsc_peer_run_seed(p);
        ck.config_hash = (char *)gpsc_peer_config_hash(p);
        ck.run_id = (char *)gpsc_peer_run_id(p);
        ck.algorithm = "trajopt";
        ck.condition_count = (uint32_t)b->exp.n_train;
        (void)gpsc_peer_send(p, GPSC__ENVELOPE__BODY_CHECKPOINT, &ck);
    }
    Gpsc__IterationControl ic = GPSC__ITERATION_CONTROL__INIT;
    ic.command = GPSC__ITERATION_COMMAND__ITER_POLICIES_READY;
    ic.iteration = v;
    ic.reason = "";
    (void)gpsc_peer_send(p, GPSC__ENVELOPE__BODY_ITERATION_CONTROL, &ic);
}

/* the learner sink */
static int sink_main(const bench_t *b, const char *ep)
{
    Gpsc__Hello h = GPSC__HELLO__INIT;
    h.protocol_version = GPSC_WIRE_VERSION;
    h.role = GPSC__ROLE__ROLE_LEARNER;
    h.hostname = "bench";
    h.pid = (uint32_t)getpid();
    void *ctx = gpsc_wire_ctx_new();
    gpsc_peer_t *p = ctx ? connect_peer(ctx, GPSC__ROLE__ROLE_LEARNER, "sink", ep, &h) : NULL;
    gpsc_lgpolicy_t *pol = gpsc_lgpolicy_new(b->exp.T, b->exp.dims.dX, b->exp.dims.dU);
    if (!p || !pol) return 1;
    bool go = true;
    while (go) {
        long ms = gpsc_peer_tick(p);
        void *socks[1] = {gpsc_peer_socket(p)};
        int ready[1];
        if (gpsc_wire_poll(socks, ready, 1, ms) < 0) break;
        gpsc_wire_msg_t *msg = NULL;
        char err[512];
        int rc;
        while (go && (rc = gpsc_peer_recv(p, &msg, err, sizeof err)) != GPSC_EAGAIN) {
            if (rc) continue;
            const Gpsc__Envelope *env = gpsc_wire_msg_env(msg);
            if (env->body_case == GPSC__ENVELOPE__BODY_WELCOME) {
                __atomic_store_n(&b->sh->sink_ready, 1, __ATOMIC_RELAXED);
            } else if (env->body_case == GPSC__ENVELOPE__BODY_TRAJECTORY) {
                add(&b->sh->relayed, 1);
            } else if (env->body_case == GPSC__ENVELOPE__BODY_ITERATION_CONTROL) {
                const Gpsc__IterationControl *ic = env->iteration_control;
                if (ic->command == GPSC__ITERATION_COMMAND__ITER_START) {
                    sink_publish(p, b, pol, ic->iteration, false);
                } else if (ic->command == GPSC__ITERATION_COMMAND__ITER_SAMPLES_COMPLETE) {
                    add(&b->sh->iterations, 1);
                    sink_publish(p, b, pol, ic->iteration + 1, true);
                } else if (ic->command == GPSC__ITERATION_COMMAND__ITER_SHUTDOWN) {
                    go = false;
                }
            } else if (env->body_case == GPSC__ENVELOPE__BODY_REFUSE) {
                fprintf(stderr, "gpsc-bench-coordinator: the sink was refused: %s\n",
                        env->refuse->detail);
                go = false;
            }
            gpsc_wire_msg_destroy(&msg);
        }
    }
    gpsc_lgpolicy_destroy(&pol);
    gpsc_peer_destroy(&p);
    gpsc_wire_ctx_destroy(&ctx);
    return 0;
}

/* forks a child running fn; the child dies with the parent */
static pid_t fork_child(int (*fn)(const bench_t *, int, const char *), const bench_t *b, int idx,
                        const char *ep)
{
    fflush(NULL); /* nothing buffered twice */
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        _exit(fn(b, idx, ep));
    }
    return pid;
}

static int sink_entry(const bench_t *b, int idx, const char *ep)
{
    (void)idx;
    return sink_main(b, ep);
}

/* ------------------------------------------------------------------ one point */

/* the endpoints file of a run directory: control and learner */
static int read_endpoints(const char *dir, char *control, char *learner, size_t sz)
{
    char path[PATH_MAX + 32], key[32], ep[256];
    snprintf(path, sizeof path, "%s/endpoints", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int got = 0;
    while (fscanf(f, "%31s %255s", key, ep) == 2) {
        if (strcmp(key, "control") == 0) snprintf(control, sz, "%s", ep), got |= 1;
        if (strcmp(key, "learner") == 0) snprintf(learner, sz, "%s", ep), got |= 2;
    }
    fclose(f);
    return got == 3 ? 0 : -1;
}

typedef struct point {
    int workers;
    double seconds;      /* measured */
    double traj_per_s;   /* relayed to the sink */
    double iter_per_s;   /* iterations answered */
    double coord_cpu;    /* share of one core */
    double coord_us;     /* CPU microseconds per trajectory */
    double sink_cpu;     /* share of one core */
    double workers_cpu;  /* share of one core, all workers */
} point_t;

static void stop_all(pid_t coord, const pid_t *kids, int nkids)
{
    if (coord > 0) kill(coord, SIGTERM);
    double t0 = now_s();
    for (;;) {
        bool any = false;
        if (coord > 0 && waitpid(coord, NULL, WNOHANG) == 0) any = true;
        for (int i = 0; i < nkids; i++)
            if (kids[i] > 0 && waitpid(kids[i], NULL, WNOHANG) == 0) any = true;
        if (!any) break;
        if (now_s() - t0 > 5) {
            if (coord > 0) kill(coord, SIGKILL);
            for (int i = 0; i < nkids; i++)
                if (kids[i] > 0) kill(kids[i], SIGKILL);
        }
        sleep_ms(10);
    }
}

static int measure(bench_t *b, const char *exe, const char *cfg, const char *tmp, int W,
                   double warmup, double seconds, point_t *pt)
{
    char dir[PATH_MAX], logp[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/run-%d", tmp, W);
    snprintf(logp, sizeof logp, "%s.out", dir);
    memset(b->sh, 0, sizeof *b->sh);
    char *argv[] = {(char *)exe,   "--experiment", (char *)cfg,         "--run-dir",
                    dir,           "--force",      "--control",         "tcp://127.0.0.1:*",
                    "--learner",   "tcp://127.0.0.1:*", "--log-pub",   "tcp://127.0.0.1:*",
                    "--algorithm", "trajopt",      "--iterations",      "100000000",
                    "--no-eval",   NULL};
    fflush(NULL);
    pid_t coord = fork();
    if (coord == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        FILE *o = freopen(logp, "w", stdout);
        if (o) dup2(fileno(o), 2);
        execv(exe, argv);
        _exit(127);
    }
    char control[256] = "", learner[256] = "";
    double t0 = now_s();
    while (read_endpoints(dir, control, learner, sizeof control) != 0) {
        if (now_s() - t0 > 20 || waitpid(coord, NULL, WNOHANG) == coord) {
            fprintf(stderr, "gpsc-bench-coordinator: the coordinator did not start (see %s)\n",
                    logp);
            return -1;
        }
        sleep_ms(10);
    }
    pid_t kids[MAX_W + 1];
    int nk = 0;
    kids[nk++] = fork_child(sink_entry, b, 0, learner);
    for (int i = 0; i < W; i++)
        kids[nk++] = fork_child(worker_main, b, i, control);
    /* everyone joined, then the warm-up */
    t0 = now_s();
    for (bool all = false; !all && now_s() - t0 < 20; sleep_ms(10)) {
        all = ld(&b->sh->sink_ready) != 0;
        for (int i = 0; i < W; i++)
            all = all && ld(&b->sh->ready[i]) != 0;
    }
    sleep_ms((int)(warmup * 1000));
    double c0 = cpu_s(coord), s0 = cpu_s(kids[0]), w0 = 0;
    for (int i = 1; i < nk; i++)
        w0 += cpu_s(kids[i]);
    uint64_t r0 = ld(&b->sh->relayed), i0 = ld(&b->sh->iterations);
    t0 = now_s();
    sleep_ms((int)(seconds * 1000));
    double t1 = now_s();
    uint64_t r1 = ld(&b->sh->relayed), i1 = ld(&b->sh->iterations);
    double c1 = cpu_s(coord), s1 = cpu_s(kids[0]), w1 = 0;
    for (int i = 1; i < nk; i++)
        w1 += cpu_s(kids[i]);
    stop_all(coord, kids, nk);
    double dt = t1 - t0;
    pt->workers = W;
    pt->seconds = dt;
    pt->traj_per_s = (double)(r1 - r0) / dt;
    pt->iter_per_s = (double)(i1 - i0) / dt;
    pt->coord_cpu = (c1 - c0) / dt;
    pt->coord_us = r1 > r0 ? (c1 - c0) / (double)(r1 - r0) * 1e6 : 0;
    pt->sink_cpu = (s1 - s0) / dt;
    pt->workers_cpu = (w1 - w0) / dt;
    if (r1 == r0) {
        fprintf(stderr, "gpsc-bench-coordinator: nothing was ingested with %d workers (see %s)\n",
                W, logp);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ main */

/* the stored trajectory: one rollout of condition 0 under a zero policy */
static int make_trajectory(bench_t *b, char *err, size_t errsz)
{
    gpsc_env_t *env = gpsc_env_new(&b->exp, err, errsz);
    if (!env) return GPSC_EMODEL;
    gpsc_rollout_t *ro = gpsc_rollout_new(env);
    gpsc_lgpolicy_t *pol = gpsc_lgpolicy_new(b->exp.T, b->exp.dims.dX, b->exp.dims.dU);
    b->s = gpsc_sample_new(&b->exp.dims, b->exp.T, b->exp.n_costs);
    int rc = ro && pol && b->s ? 0 : GPSC_ENOMEM;
    if (rc == 0) {
        gpsc_rollout_policy_t rp = {GPSC_POLICY_LOCAL, pol, NULL, 0};
        gpsc_rollout_key_t key = {b->exp.algo.seed, 0, 0, 0};
        rc = gpsc_rollout_run(ro, b->s, &rp, &key, false, err, errsz);
        if (rc == 0 && b->s->status) {
            snprintf(err, errsz, "the stored rollout failed: %s", b->s->reason);
            rc = GPSC_ESIM;
        }
    }
    if (rc == 0) {
        uint8_t *buf = NULL;
        rc = gpsc_trajmsg_encode(&buf, &b->traj_bytes, b->s, &b->exp, "synth-0", 1, false, err,
                                 errsz);
        free(buf);
    }
    gpsc_lgpolicy_destroy(&pol);
    gpsc_rollout_destroy(&ro);
    gpsc_env_destroy(&env);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"experiment", required_argument, 0, 'e'},
                                         {"workers", required_argument, 0, 'w'},
                                         {"seconds", required_argument, 0, 't'},
                                         {"warmup", required_argument, 0, 'u'},
                                         {"samples", required_argument, 0, 'n'},
                                         {"credit", required_argument, 0, 'c'},
                                         {"keep", no_argument, 0, 'k'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *exp_path = GPSC_SOURCE_DIR "/experiments/peg7.yaml";
    const char *wlist = "1,2,4";
    double seconds = 3, warmup = 1;
    long samples = 0, credit = 2;
    bool keep = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "e:w:t:n:c:kh", opts, NULL)) != -1) {
        char *end = NULL;
        errno = 0;
        switch (ch) {
        case 'e':
            exp_path = optarg;
            break;
        case 'w':
            wlist = optarg;
            break;
        case 't':
            seconds = strtod(optarg, &end);
            if (*end || !(seconds > 0) || seconds > 3600) goto bad;
            break;
        case 'u':
            warmup = strtod(optarg, &end);
            if (*end || !(warmup >= 0) || warmup > 3600) goto bad;
            break;
        case 'n':
            samples = strtol(optarg, &end, 10);
            if (*end || errno || samples < 1 || samples > 100000) goto bad;
            break;
        case 'c':
            credit = strtol(optarg, &end, 10);
            if (*end || errno || credit < 1 || credit > 64) goto bad;
            break;
        case 'k':
            keep = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        continue;
    bad:
        fprintf(stderr, "gpsc-bench-coordinator: bad value '%s' for %s\n", optarg,
                argv[optind - 1]);
        return 2;
    }
    int counts[16], ncounts = 0;
    for (const char *p = wlist; *p && ncounts < 16;) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > MAX_W) {
            fprintf(stderr, "gpsc-bench-coordinator: bad --workers '%s' (1..%d, comma-separated)\n",
                    wlist, MAX_W);
            return 2;
        }
        counts[ncounts++] = (int)v;
        p = *end == ',' ? end + 1 : end;
    }
    signal(SIGPIPE, SIG_IGN);

    /* the task, its stored trajectory, and the config the coordinator runs */
    static bench_t B;
    bench_t *b = &B;
    b->credit = (int)credit;
    char err[2048];
    int rc = gpsc_experiment_load(exp_path, &b->exp, err, sizeof err);
    if (rc == 0) rc = gpsc_env_resolve_experiment(&b->exp, err, sizeof err);
    if (rc == 0 && samples > 0) b->exp.algo.samples = (int)samples;
    if (rc == 0) rc = gpsc_identity_model_hash(b->model_hash, b->exp.model, err, sizeof err);
    if (rc == 0) rc = make_trajectory(b, err, sizeof err);
    char tmp[] = "/tmp/gpsc-bench-coord-XXXXXX", cfg[PATH_MAX];
    if (rc == 0 && !mkdtemp(tmp)) {
        snprintf(err, sizeof err, "mkdtemp: %s", strerror(errno));
        rc = GPSC_EIO;
    }
    snprintf(cfg, sizeof cfg, "%s/experiment.yaml", tmp);
    if (rc == 0) rc = gpsc_experiment_write(&b->exp, cfg, err, sizeof err);
    b->sh = mmap(NULL, sizeof *b->sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (rc == 0 && b->sh == MAP_FAILED) {
        snprintf(err, sizeof err, "mmap: %s", strerror(errno));
        rc = GPSC_ESYS;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 32);
    if (rc == 0 && n <= 0) {
        snprintf(err, sizeof err, "cannot find my own executable");
        rc = GPSC_ESYS;
    }
    if (rc) {
        fprintf(stderr, "gpsc-bench-coordinator: %s\n", err);
        gpsc_experiment_free(&b->exp);
        return 1;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    snprintf(slash ? slash + 1 : exe, 32, "gpsc-coordinator");

    const gpsc_exp_dims_t *d = &b->exp.dims;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    double load[1] = {0};
    if (getloadavg(load, 1) != 1) load[0] = -1;
    printf("experiment %s: T %d, dX %d, dU %d, dO %d, P %d, dQ %d: one trajectory %.1f KB\n",
           b->exp.name, b->exp.T, d->dX, d->dU, d->dO, d->P, d->dQ, (double)b->traj_bytes / 1e3);
    printf("%d conditions x %d samples per iteration (trajopt), credit %ld per worker, "
           "%.0f s per point after %.0f s warm-up, %ld CPUs (load average %.2f)\n",
           b->exp.n_train, b->exp.algo.samples, credit, seconds, warmup, ncpu, load[0]);
    printf("%7s %9s %8s %8s %10s %12s %9s %11s\n", "workers", "traj/s", "MB/s", "iter/s",
           "coord CPU", "coord us/tr", "sink CPU", "workers CPU");
    int status = 0;
    double best_us = 0;
    for (int i = 0; i < ncounts; i++) {
        point_t pt;
        if (measure(b, exe, cfg, tmp, counts[i], warmup, seconds, &pt) != 0) {
            status = 1;
            continue;
        }
        if (best_us == 0 || pt.coord_us < best_us) best_us = pt.coord_us;
        printf("%7d %9.0f %8.1f %8.1f %9.0f%% %12.0f %8.0f%% %10.0f%%\n", pt.workers,
               pt.traj_per_s, pt.traj_per_s * (double)b->traj_bytes / 1e6, pt.iter_per_s,
               100 * pt.coord_cpu, pt.coord_us, 100 * pt.sink_cpu, 100 * pt.workers_cpu);
        printf("coordinator_traj_per_s_w%d=%.0f coordinator_cpu_us_per_traj_w%d=%.0f\n", pt.workers,
               pt.traj_per_s, pt.workers, pt.coord_us);
        fflush(stdout);
    }
    if (best_us > 0)
        printf("one coordinator core would ingest about %.0f trajectories/s of this size "
               "(1 / its CPU time per trajectory)\n",
               1e6 / best_us);
    if (!keep) {
        char cmd[PATH_MAX + 32];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        if (system(cmd) != 0) status = 1;
    } else {
        printf("scratch directory kept: %s\n", tmp);
    }
    gpsc_sample_destroy(&b->s);
    munmap(b->sh, sizeof *b->sh);
    gpsc_experiment_free(&b->exp);
    return status;
}
