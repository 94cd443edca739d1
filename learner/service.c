/* gpsc-learner — the learner role: runs the algorithm's iterations for a
 * coordinator.
 *
 * Connects to the coordinator's learner endpoint and introduces itself;
 * the Welcome carries the run's resolved experiment, whose identity (config
 * hash) this process recomputes and must match. All of the algorithm's
 * state (priors, sample buffers, eta, step sizes, network, Adam) lives in
 * one gpsc_alg object (learner/algorithm.h); the coordinator drives it:
 *
 *   coordinator                          learner
 *   [Checkpoint(k)]  ------------------> gpsc_alg_load   (resume / reconnect)
 *   ITER_START(k)    ------------------> (k = 0, fresh: initial controllers,
 *                                          Checkpoint(0) back)
 *                    <------------------ LinGaussPolicy x M (version k),
 *                                        NetworkPolicy (MDGPS), POLICIES_READY(k)
 *   Trajectory x M*N ------------------> stored by (condition, sample)
 *   SAMPLES_COMPLETE(k) ---------------> gpsc_alg_iteration on samples ordered by
 *                                        (condition, sample) — arrival order is gone
 *                    <------------------ policies (version k+1), Metrics(k),
 *                                        Checkpoint(k+1), POLICIES_READY(k+1)
 *
 * The checkpoint is gpsc_alg_save's, with the identity the Welcome named, so
 * the coordinator's files are byte-identical to gpsc-solo's. The iteration
 * runs on a compute thread (its conditions on a thread pool inside the
 * algorithm) while this thread keeps heartbeating and forwarding logs;
 * messages that arrive meanwhile wait in order.
 *
 * Exits 0 on ITER_SHUTDOWN, SIGTERM or SIGINT, 1 when refused or when an
 * iteration fails (after telling the coordinator), 2 on bad arguments. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "common/checkpoint.h"
#include "common/error.h"
#include "common/experiment.h"
#include "common/identity.h"
#include "common/keys.h"
#include "common/lgpolicy.h"
#include "common/log.h"
#include "common/peer.h"
#include "common/wire.h"
#include "learner/algorithm.h"
#include "worker/env.h"
#include "worker/initctl.h"
#include "worker/msgs.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* the process */
typedef struct learner {
    /* configuration */
    char id[128];
    const char *endpoint;
    int threads; /* algorithm pool size */
    /* the run (from the Welcome) */
    gpsc_experiment_t exp; /* resolved */
    bool have_exp;
    char hash[25]; /* config hash (= the Welcome's) */
    char run_id[128];
    char *identity; /* identity YAML, goes into every checkpoint */
    gpsc_alg_t *alg;
    bool initialized; /* local controllers set (initial or loaded) */
    int M, N;         /* training conditions, samples per condition */
    /* the iteration */
    int iter;               /* iteration whose samples are collected (= completed count) */
    bool started;           /* ITER_START(iter) seen on this connection */
    int published;          /* version whose policies went out on this connection, -1 */
    gpsc_wire_msg_t **slot; /* (M x N) trajectories of iter, by (condition, sample) */
    int nstored;
    gpsc_alg_sample_t *view; /* (M x N) what the algorithm reads */
    /* the compute thread */
    pthread_t thread;
    bool computing; /* the thread is running an iteration */
    int job_iter;   /* the iteration it runs */
    int job_rc;
    char job_err[2048];
    gpsc_checkpoint_t *job_ck; /* the state after the iteration */
    char *job_metrics;         /* metrics JSON (malloc'd) */
    void *push, *pull;         /* inproc "done" signal: thread -> this thread */
    /* messages that arrived while computing, in order */
    gpsc_wire_msg_t **backlog;
    int nbacklog, capbacklog;
    /* wire */
    void *ctx;
    gpsc_peer_t *peer;
    unsigned welcomes; /* Welcomes handled */
    int status;        /* exit status */
} learner_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: gpsc learner --connect ENDPOINT [options]\n"
               "\n"
               "Runs the learner of a run: connects to the coordinator's learner endpoint,\n"
               "receives the run's config, trajectories and iteration commands, and answers\n"
               "with policies, metrics and checkpoints.\n"
               "\n"
               "options:\n"
               "  -c, --connect EP       coordinator learner endpoint (tcp://host:port)\n"
               "  -i, --id ID            learner id (default learner-<host>-<pid>)\n"
               "  -t, --threads N        algorithm threads (default: the CPUs; results do not\n"
               "                         depend on it)\n"
               "      --parent-pid PID   exit when process PID exits (local mode)\n"
               "      --curve-secret FILE       CURVE: the learner's key pair (gpsc keygen)\n"
               "      --curve-server-key FILE   CURVE: the coordinator's public key\n"
               "  -l, --log-level L      debug | info | warn | error (default info)\n"
               "  -h, --help             this text\n"
               "\n"
               "exit status: 0 shut down, 1 refused or an iteration failed, 2 bad arguments.\n");
}

/* ------------------------------------------------------------------ sending */

static int send_policies(learner_t *l, uint32_t version)
{
    int rc = 0;
    for (int c = 0; c < l->M && rc == 0; c++) {
        Gpsc__LinGaussPolicy m;
        gpsc_lgmsg_fill(&m, gpsc_alg_policy(l->alg, c), (uint32_t)c, version);
        rc = gpsc_peer_send(l->peer, GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY, &m);
    }
    const gpsc_mlp_t *net = gpsc_alg_network(l->alg);
    if (net && rc == 0) {
        size_t nw, nb;
        gpsc_netmsg_counts(net, &nw, &nb);
        uint32_t sizes[GPSC_MLP_MAX_LAYERS + 1];
        double *wb = malloc(sizeof(double) * (nw + nb + 1));
        if (!wb) return GPSC_ENOMEM;
        Gpsc__NetworkPolicy m;
        gpsc_netmsg_fill(&m, net, version, sizes, wb, wb + nw);
        rc = gpsc_peer_send(l->peer, GPSC__ENVELOPE__BODY_NETWORK_POLICY, &m);
        free(wb);
    }
    return rc;
}

static int send_control(learner_t *l, Gpsc__IterationCommand cmd, uint32_t iteration,
                        const char *reason)
{
    Gpsc__IterationControl ic = GPSC__ITERATION_CONTROL__INIT;
    ic.command = cmd;
    ic.iteration = iteration;
    ic.reason = (char *)(reason ? reason : "");
    return gpsc_peer_send(l->peer, GPSC__ENVELOPE__BODY_ITERATION_CONTROL, &ic);
}

static int send_checkpoint(learner_t *l, gpsc_checkpoint_t *ck)
{
    return gpsc_peer_send(l->peer, GPSC__ENVELOPE__BODY_CHECKPOINT, gpsc_checkpoint_msg(ck));
}

/* the state as a checkpoint (NULL with err set on failure) */
static gpsc_checkpoint_t *save(learner_t *l, char *err, size_t errsz)
{
    gpsc_checkpoint_t *ck = gpsc_checkpoint_new();
    if (!ck) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    int rc = gpsc_alg_save(l->alg, ck, l->hash, l->run_id, l->identity, err, errsz);
    if (rc) gpsc_checkpoint_destroy(&ck);
    return ck;
}

/* policies of `version` and the marker that they are complete */
static int publish(learner_t *l, uint32_t version)
{
    int rc = send_policies(l, version);
    if (rc == 0) rc = send_control(l, GPSC__ITERATION_COMMAND__ITER_POLICIES_READY, version, NULL);
    if (rc == 0) l->published = (int)version;
    return rc;
}

/* a fatal problem: tell the coordinator (it ends the run) and stop */
static void fail_run(learner_t *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail_run(learner_t *l, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    GPSC_LOG(GPSC_LOG_ERROR, "%s", text);
    if (l->peer)
        (void)send_control(l, GPSC__ITERATION_COMMAND__ITER_SHUTDOWN, (uint32_t)l->iter, text);
    l->status = 1;
    g_stop = 1;
}

/* ------------------------------------------------------------------ samples */

static void clear_samples(learner_t *l)
{
    for (int i = 0; l->slot && i < l->M * l->N; i++)
        gpsc_wire_msg_destroy(&l->slot[i]);
    l->nstored = 0;
}

/* a relayed trajectory: kept by (condition, sample) for the current iteration */
static void take_trajectory(learner_t *l, gpsc_wire_msg_t **mp)
{
    const Gpsc__Trajectory *t = gpsc_wire_msg_env(*mp)->trajectory;
    const Gpsc__TaskKey *k = t->key;
    const gpsc_exp_dims_t *d = &l->exp.dims;
    if (!l->started || (int)k->iteration != l->iter) {
        GPSC_LOG(GPSC_LOG_WARN, "dropped trajectory (%u, %u, %u): the learner is at iteration %d",
                 k->iteration, k->condition, k->sample_index, l->iter);
        return;
    }
    if ((int)k->condition >= l->M || (int)k->sample_index >= l->N ||
        t->status != GPSC__TRAJECTORY_STATUS__TRAJ_OK || (int)t->t != l->exp.T ||
        (int)t->dx != d->dX || (int)t->du != d->dU || (int)t->do_ != d->dO || (int)t->p != d->P ||
        (int)t->dq != d->dQ) {
        GPSC_LOG(GPSC_LOG_WARN,
                 "refused: trajectory (%u, %u, %u): key or dimensions do not fit "
                 "the run",
                 k->iteration, k->condition, k->sample_index);
        return;
    }
    int i = (int)k->condition * l->N + (int)k->sample_index;
    if (l->slot[i]) {
        GPSC_LOG(GPSC_LOG_DEBUG, "dropped duplicate trajectory (%u, %u, %u)", k->iteration,
                 k->condition, k->sample_index);
        return;
    }
    l->slot[i] = *mp;
    *mp = NULL;
    l->nstored++;
}

/* ------------------------------------------------------------------ computing */

static void *compute_main(void *arg)
{
    learner_t *l = arg;
    l->job_err[0] = '\0';
    l->job_rc = gpsc_alg_iteration(l->alg, l->view, l->M * l->N, l->job_err, sizeof l->job_err);
    if (l->job_rc == 0) {
        l->job_metrics = gpsc_alg_metrics_json(gpsc_alg_metrics(l->alg), true);
        l->job_ck = save(l, l->job_err, sizeof l->job_err);
        if (!l->job_ck) l->job_rc = GPSC_ENOMEM;
    }
    Gpsc__Envelope env;
    Gpsc__Heartbeat hb = GPSC__HEARTBEAT__INIT;
    gpsc_wire_env_init(&env, GPSC__ROLE__ROLE_LEARNER, "compute", 1);
    env.body_case = GPSC__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    (void)gpsc_wire_send(l->push, NULL, &env, 0);
    return NULL;
}

static void start_iteration(learner_t *l)
{
    for (int i = 0; i < l->M * l->N; i++) {
        const Gpsc__Trajectory *t = gpsc_wire_msg_env(l->slot[i])->trajectory;
        l->view[i] = (gpsc_alg_sample_t){(int)t->t,
                                         (int)t->dx,
                                         (int)t->du,
                                         (int)t->do_,
                                         (int)t->p,
                                         (int)t->dq,
                                         t->x,
                                         t->u,
                                         t->n_o ? t->o : NULL,
                                         t->n_ee ? t->ee : NULL,
                                         t->n_ee_jac ? t->ee_jac : NULL};
    }
    l->job_iter = l->iter;
    l->job_ck = NULL;
    l->job_metrics = NULL;
    if (pthread_create(&l->thread, NULL, compute_main, l) != 0) {
        fail_run(l, "cannot start the compute thread");
        return;
    }
    l->computing = true;
    GPSC_LOG(GPSC_LOG_INFO, "iteration %d: %d samples, learning", l->iter, l->M * l->N);
}

/* the compute thread is done: results out, next iteration in */
static void iteration_done(learner_t *l)
{
    pthread_join(l->thread, NULL);
    l->computing = false;
    int k = l->job_iter;
    if (l->job_rc) {
        fail_run(l, "iteration %d failed: %s (%s)", k, l->job_err, gpsc_errname(l->job_rc));
        free(l->job_metrics);
        l->job_metrics = NULL;
        gpsc_checkpoint_destroy(&l->job_ck);
        return;
    }
    clear_samples(l);
    l->iter = k + 1;
    gpsc_log_set_iteration(l->iter);
    const gpsc_alg_metrics_t *mt = gpsc_alg_metrics(l->alg);
    Gpsc__NamedValue v[2] = {GPSC__NAMED_VALUE__INIT, GPSC__NAMED_VALUE__INIT};
    Gpsc__NamedValue *vp[2] = {&v[0], &v[1]};
    v[0].name = "sample_cost";
    v[0].value = mt->sample_cost;
    v[1].name = "successes";
    v[1].value = mt->n_success;
    Gpsc__Metrics me = GPSC__METRICS__INIT;
    me.iteration = (uint32_t)k;
    me.json = l->job_metrics ? l->job_metrics : "{}";
    me.n_values = 2;
    me.values = vp;
    int rc = send_policies(l, (uint32_t)l->iter);
    if (rc == 0) rc = gpsc_peer_send(l->peer, GPSC__ENVELOPE__BODY_METRICS, &me);
    if (rc == 0) rc = send_checkpoint(l, l->job_ck);
    if (rc == 0)
        rc = send_control(l, GPSC__ITERATION_COMMAND__ITER_POLICIES_READY, (uint32_t)l->iter, NULL);
    if (rc == 0)
        l->published = l->iter;
    else
        GPSC_LOG(GPSC_LOG_ERROR, "iteration %d: results not sent: %s", k, gpsc_strerror(rc));
    GPSC_LOG(GPSC_LOG_INFO, "iteration %d done in %.0f ms: mean sample cost %.6g", k, mt->ms.total,
             mt->sample_cost);
    free(l->job_metrics);
    l->job_metrics = NULL;
    gpsc_checkpoint_destroy(&l->job_ck);
}

/* ------------------------------------------------------------------ the run */

/* the initial local controllers (iteration 0 of a fresh run) */
static int initialize(learner_t *l, char *err, size_t errsz)
{
    const gpsc_exp_dims_t *d = &l->exp.dims;
    gpsc_env_t *env = gpsc_env_new(&l->exp, err, errsz);
    double *x0 = calloc((size_t)d->dX, sizeof(double));
    gpsc_lgpolicy_t *init = gpsc_lgpolicy_new(l->exp.T, d->dX, d->dU);
    int rc = env && x0 && init ? 0 : env ? GPSC_ENOMEM : GPSC_EMODEL;
    if (rc == GPSC_ENOMEM) snprintf(err, errsz, "out of memory");
    for (int m = 0; m < l->M && rc == 0; m++) {
        rc = gpsc_initctl_x0(x0, env, m, err, errsz);
        if (rc == 0) rc = gpsc_initctl_build(init, env, x0, err, errsz);
        if (rc == 0) rc = gpsc_alg_set_initial_policy(l->alg, m, init, err, errsz);
    }
    gpsc_lgpolicy_destroy(&init);
    free(x0);
    gpsc_env_destroy(&env);
    if (rc == 0) l->initialized = true;
    return rc;
}

static int new_alg(learner_t *l, char *err, size_t errsz)
{
    gpsc_alg_destroy(&l->alg);
    l->initialized = false;
    gpsc_alg_opts_t ao = {.threads = l->threads};
    l->alg = gpsc_alg_new(&l->exp, &ao, err, errsz);
    return l->alg ? 0 : GPSC_ECONFIG;
}

/* the run's experiment from the Welcome */
static int load_run(learner_t *l, char *err, size_t errsz)
{
    const char *yaml = gpsc_peer_config_yaml(l->peer);
    if (!yaml[0]) {
        snprintf(err, errsz, "the Welcome carries no config");
        return GPSC_ECONFIG;
    }
    int rc = gpsc_experiment_load_string(yaml, strlen(yaml), "welcome.config_yaml", NULL, &l->exp,
                                         err, errsz);
    if (rc == 0) rc = gpsc_env_resolve_experiment(&l->exp, err, errsz);
    if (rc) return rc;
    l->have_exp = true;
    l->identity = gpsc_identity(&l->exp, l->hash, l->run_id, sizeof l->run_id, NULL);
    if (!l->identity) {
        snprintf(err, errsz, "out of memory");
        return GPSC_ENOMEM;
    }
    if (strcmp(l->hash, gpsc_peer_config_hash(l->peer)) != 0 ||
        strcmp(l->run_id, gpsc_peer_run_id(l->peer)) != 0) {
        snprintf(err, errsz,
                 "the run's config gives identity %s / %s here, the coordinator "
                 "says %s / %s (another build or model path?)",
                 l->hash, l->run_id, gpsc_peer_config_hash(l->peer), gpsc_peer_run_id(l->peer));
        return GPSC_ECONFIG;
    }
    l->M = l->exp.n_train;
    l->N = l->exp.algo.samples;
    l->slot = calloc((size_t)(l->M * l->N), sizeof *l->slot);
    l->view = calloc((size_t)(l->M * l->N), sizeof *l->view);
    if (!l->slot || !l->view) {
        snprintf(err, errsz, "out of memory");
        return GPSC_ENOMEM;
    }
    return new_alg(l, err, errsz);
}

static void welcomed(learner_t *l)
{
    char err[2048] = "";
    l->welcomes++;
    if (!l->have_exp) {
        int rc = load_run(l, err, sizeof err);
        if (rc) {
            /* the coordinator ends the run with the reason (another learner would fail too) */
            fail_run(l, "cannot join run %s: %s", gpsc_peer_run_id(l->peer), err);
            return;
        }
        gpsc_log_set_run_id(l->run_id);
        GPSC_LOG(GPSC_LOG_INFO, "joined run %s: %s, %s, %d conditions x %d samples, %d thread%s",
                 l->run_id, l->exp.name, gpsc_exp_algorithm_name(l->exp.algo.type), l->M, l->N,
                 l->threads, l->threads == 1 ? "" : "s");
    } else if (strcmp(l->hash, gpsc_peer_config_hash(l->peer)) != 0) {
        fail_run(l, "the coordinator now runs config %s, this learner has %s",
                 gpsc_peer_config_hash(l->peer), l->hash);
        return;
    } else {
        GPSC_LOG(GPSC_LOG_INFO, "welcomed again by the coordinator of run %s", l->run_id);
    }
    /* a new conversation: the coordinator will say where we stand */
    l->started = false;
    l->published = -1;
    clear_samples(l);
}

static void take_checkpoint(learner_t *l, const Gpsc__Checkpoint *ck)
{
    char err[2048] = "";
    if (!l->alg) {
        fail_run(l, "a checkpoint came before the run's config");
        return;
    }
    if (!ck->config_hash || strcmp(ck->config_hash, l->hash) != 0) {
        fail_run(l, "checkpoint of iteration %u is for config %s, this run is %s", ck->iteration,
                 ck->config_hash ? ck->config_hash : "?", l->hash);
        return;
    }
    int rc = gpsc_alg_load(l->alg, ck, err, sizeof err);
    if (rc) {
        fail_run(l, "cannot load the checkpoint of iteration %u: %s", ck->iteration, err);
        return;
    }
    l->initialized = true;
    l->iter = gpsc_alg_iteration_count(l->alg);
    l->started = false;
    clear_samples(l);
    gpsc_log_set_iteration(l->iter);
    GPSC_LOG(GPSC_LOG_INFO, "loaded the checkpoint of iteration %u", ck->iteration);
}

static void start(learner_t *l, uint32_t k)
{
    char err[2048] = "";
    if (!l->alg) {
        fail_run(l, "ITER_START before the run's config");
        return;
    }
    int count = gpsc_alg_iteration_count(l->alg);
    if (!l->initialized || count != (int)k) {
        if (k != 0) {
            fail_run(l,
                     "the coordinator starts iteration %u, the learner is at %d and got no "
                     "checkpoint",
                     k, l->initialized ? count : -1);
            return;
        }
        /* a fresh run: the initial controllers, checkpoint 0 */
        int rc = l->initialized ? new_alg(l, err, sizeof err) : 0;
        if (rc == 0) rc = initialize(l, err, sizeof err);
        if (rc) {
            fail_run(l, "initial controllers: %s", err);
            return;
        }
        gpsc_checkpoint_t *ck = save(l, err, sizeof err);
        if (!ck) {
            fail_run(l, "checkpoint 0: %s", err);
            return;
        }
        rc = send_checkpoint(l, ck);
        gpsc_checkpoint_destroy(&ck);
        if (rc) {
            GPSC_LOG(GPSC_LOG_ERROR, "checkpoint 0 not sent: %s", gpsc_strerror(rc));
            return;
        }
        GPSC_LOG(GPSC_LOG_INFO, "initial controllers of %d conditions ready", l->M);
    }
    l->iter = (int)k;
    gpsc_log_set_iteration(l->iter);
    if (!l->started || l->published != (int)k) clear_samples(l);
    l->started = true;
    if (l->published != (int)k) {
        int rc = publish(l, k);
        if (rc)
            GPSC_LOG(GPSC_LOG_ERROR, "policies of version %u not sent: %s", k, gpsc_strerror(rc));
    }
}

static void samples_complete(learner_t *l, uint32_t k, uint32_t n)
{
    if (!l->started || (int)k != l->iter) {
        GPSC_LOG(GPSC_LOG_WARN, "SAMPLES_COMPLETE(%u) ignored: the learner is at iteration %d", k,
                 l->iter);
        return;
    }
    if (l->nstored != l->M * l->N) {
        /* the coordinator counts acks; a missing relay is a bug or a lost message */
        GPSC_LOG(GPSC_LOG_ERROR, "SAMPLES_COMPLETE(%u, %u) but %d of %d trajectories are here", k,
                 n, l->nstored, l->M * l->N);
        return;
    }
    start_iteration(l);
}

/* one message from the coordinator */
static void handle(learner_t *l, gpsc_wire_msg_t **mp)
{
    const Gpsc__Envelope *env = gpsc_wire_msg_env(*mp);
    switch (env->body_case) {
    case GPSC__ENVELOPE__BODY_WELCOME:
        welcomed(l);
        break;
    case GPSC__ENVELOPE__BODY_CHECKPOINT:
        take_checkpoint(l, env->checkpoint);
        break;
    case GPSC__ENVELOPE__BODY_TRAJECTORY:
        take_trajectory(l, mp);
        break;
    case GPSC__ENVELOPE__BODY_ITERATION_CONTROL: {
        const Gpsc__IterationControl *ic = env->iteration_control;
        switch (ic->command) {
        case GPSC__ITERATION_COMMAND__ITER_START:
            start(l, ic->iteration);
            break;
        case GPSC__ITERATION_COMMAND__ITER_SAMPLES_COMPLETE:
            samples_complete(l, ic->iteration, ic->samples);
            break;
        case GPSC__ITERATION_COMMAND__ITER_SHUTDOWN:
            GPSC_LOG(GPSC_LOG_INFO, "shutdown: %s", ic->reason);
            g_stop = 1;
            break;
        default:
            GPSC_LOG(GPSC_LOG_DEBUG, "ignored iteration command %d", (int)ic->command);
            break;
        }
        break;
    }
    case GPSC__ENVELOPE__BODY_REFUSE: {
        const Gpsc__Refuse *r = env->refuse;
        if (r->reason == GPSC__REFUSE_REASON__REFUSE_MALFORMED) {
            GPSC_LOG(GPSC_LOG_WARN, "the coordinator refused a message: %s", r->detail);
            break;
        }
        bool bye = r->reason == GPSC__REFUSE_REASON__REFUSE_SHUTTING_DOWN;
        GPSC_LOG(bye ? GPSC_LOG_INFO : GPSC_LOG_ERROR, "refused by the coordinator: %s", r->detail);
        l->status = bye ? 0 : 1;
        g_stop = 1;
        break;
    }
    default:
        GPSC_LOG(GPSC_LOG_DEBUG, "ignored a %s from the coordinator",
                 gpsc_wire_body_name(env->body_case));
        break;
    }
}

/* while computing, only a shutdown is acted on; the rest waits its turn */
static void defer(learner_t *l, gpsc_wire_msg_t **mp)
{
    const Gpsc__Envelope *env = gpsc_wire_msg_env(*mp);
    if (env->body_case == GPSC__ENVELOPE__BODY_ITERATION_CONTROL &&
        env->iteration_control->command == GPSC__ITERATION_COMMAND__ITER_SHUTDOWN) {
        handle(l, mp);
        return;
    }
    if (l->nbacklog == l->capbacklog) {
        int cap = l->capbacklog ? 2 * l->capbacklog : 64;
        gpsc_wire_msg_t **b = realloc(l->backlog, sizeof *b * (size_t)cap);
        if (!b) {
            GPSC_LOG(GPSC_LOG_ERROR, "out of memory: a %s from the coordinator was dropped",
                     gpsc_wire_body_name(env->body_case));
            return;
        }
        l->backlog = b;
        l->capbacklog = cap;
    }
    l->backlog[l->nbacklog++] = *mp;
    *mp = NULL;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!s[0] || *end || errno || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    enum { OPT_PARENT = 256, OPT_CSECRET, OPT_CSERVER };
    static const struct option opts[] = {{"connect", required_argument, 0, 'c'},
                                         {"curve-secret", required_argument, 0, OPT_CSECRET},
                                         {"curve-server-key", required_argument, 0, OPT_CSERVER},
                                         {"id", required_argument, 0, 'i'},
                                         {"threads", required_argument, 0, 't'},
                                         {"parent-pid", required_argument, 0, OPT_PARENT},
                                         {"log-level", required_argument, 0, 'l'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    static learner_t L;
    learner_t *l = &L;
    l->published = -1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    l->threads = ncpu < 1 ? 1 : ncpu > 64 ? 64 : (int)ncpu;
    long parent = 0, v;
    const char *curve_secret = NULL, *curve_server = NULL;
    static gpsc_keys_t keys; /* CURVE (common/keys.h); off without --curve-secret */
    gpsc_log_level_t level = GPSC_LOG_INFO;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:i:t:l:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            l->endpoint = optarg;
            break;
        case 'i':
            snprintf(l->id, sizeof l->id, "%s", optarg);
            break;
        case 't':
            if (parse_int(optarg, 1, 256, &v)) {
                fprintf(stderr, "gpsc-learner: --threads must be 1..256\n");
                return 2;
            }
            l->threads = (int)v;
            break;
        case OPT_CSECRET:
            curve_secret = optarg;
            break;
        case OPT_CSERVER:
            curve_server = optarg;
            break;
        case OPT_PARENT:
            if (parse_int(optarg, 1, 1L << 30, &parent)) {
                fprintf(stderr, "gpsc-learner: bad --parent-pid '%s'\n", optarg);
                return 2;
            }
            break;
        case 'l':
            if (gpsc_log_parse_level(optarg, &level)) {
                fprintf(stderr, "gpsc-learner: bad --log-level '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc || !l->endpoint) {
        usage(stderr);
        return 2;
    }
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    for (char *p = host; *p; p++)
        if ((unsigned char)*p < 33 || (unsigned char)*p > 126) *p = '_';
    if (!l->id[0]) snprintf(l->id, sizeof l->id, "learner-%s-%ld", host, (long)getpid());
#ifdef __linux__
    if (parent) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != (pid_t)parent) return 0;
    }
#endif
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    gpsc_log_init("learner", NULL, level);

    char err[2048] = "";
    if (gpsc_keys_load(&keys, curve_secret, curve_server, NULL, err, sizeof err) != 0 ||
        (keys.on && !keys.have_server &&
         snprintf(err, sizeof err, "--curve-secret needs --curve-server-key") > 0)) {
        GPSC_LOG(GPSC_LOG_ERROR, "%s", err);
        gpsc_log_shutdown();
        return 2;
    }
    Gpsc__Hello hello = GPSC__HELLO__INIT;
    hello.protocol_version = GPSC_WIRE_VERSION;
    hello.role = GPSC__ROLE__ROLE_LEARNER;
    hello.hostname = host;
    hello.pid = (uint32_t)getpid();
    l->ctx = gpsc_wire_ctx_new();
    l->pull = l->ctx ? gpsc_wire_socket(l->ctx, GPSC_WIRE_PULL, NULL, err, sizeof err) : NULL;
    l->push = l->ctx ? gpsc_wire_socket(l->ctx, GPSC_WIRE_PUSH, NULL, err, sizeof err) : NULL;
    if (!l->pull || !l->push || gpsc_wire_bind(l->pull, "inproc://gpsc-learner-done", NULL, 0) ||
        gpsc_wire_connect(l->push, "inproc://gpsc-learner-done")) {
        GPSC_LOG(GPSC_LOG_ERROR, "cannot set up sockets: %s", err);
        l->status = 1;
        goto out;
    }
    gpsc_peer_cfg_t pc = {.role = GPSC__ROLE__ROLE_LEARNER,
                          .id = l->id,
                          .endpoint = l->endpoint,
                          .hello = &hello,
                          .max_msg_size = GPSC_CHECKPOINT_MAX_BYTES,
                          .curve_keys = keys.on ? &keys.own : NULL,
                          .curve_server_key = keys.server_key};
    if (!(l->peer = gpsc_peer_new(l->ctx, &pc, err, sizeof err))) {
        GPSC_LOG(GPSC_LOG_ERROR, "%s", err);
        l->status = 2;
        goto out;
    }
    gpsc_peer_forward_logs(l->peer, true);
    GPSC_LOG(GPSC_LOG_INFO, "learner %s: %d thread%s, coordinator %s", l->id, l->threads,
             l->threads == 1 ? "" : "s", l->endpoint);

    while (!g_stop) {
        gpsc_peer_set_status(l->peer, l->computing, (uint64_t)(l->iter > 0 ? l->iter : 0),
                             (uint32_t)(l->iter > 0 ? l->iter : 0));
        long ms = gpsc_peer_tick(l->peer);
        void *socks[2] = {gpsc_peer_socket(l->peer), l->pull};
        int ready[2];
        int rc = gpsc_wire_poll(socks, ready, 2, ms);
        if (rc < 0 && rc != GPSC_EINTR) {
            GPSC_LOG(GPSC_LOG_ERROR, "poll: %s", gpsc_strerror(rc));
            l->status = 1;
            break;
        }
        gpsc_wire_msg_t *m = NULL;
        bool done = false;
        while (gpsc_wire_recv(l->pull, &m, NULL, GPSC_WIRE_DONTWAIT, NULL, 0) != GPSC_EAGAIN) {
            gpsc_wire_msg_destroy(&m);
            done = true;
        }
        if (done && l->computing) {
            iteration_done(l);
            /* what waited, in order */
            int i = 0;
            for (; i < l->nbacklog && !l->computing && !g_stop; i++)
                handle(l, &l->backlog[i]), gpsc_wire_msg_destroy(&l->backlog[i]);
            if (i > 0 && i < l->nbacklog)
                memmove(l->backlog, l->backlog + i, sizeof *l->backlog * (size_t)(l->nbacklog - i));
            l->nbacklog -= i;
        }
        while (!g_stop && (rc = gpsc_peer_recv(l->peer, &m, err, sizeof err)) != GPSC_EAGAIN) {
            if (rc)
                GPSC_LOG(GPSC_LOG_WARN, "refused: message from the coordinator: %s", err);
            else if (l->computing || l->nbacklog)
                defer(l, &m);
            else
                handle(l, &m);
            gpsc_wire_msg_destroy(&m);
        }
        if (parent && getppid() != (pid_t)parent) break;
    }
    if (l->computing) {
        /* the iteration cannot be interrupted; its result would be dropped anyway */
        GPSC_LOG(GPSC_LOG_INFO, "waiting for iteration %d to finish before exiting", l->job_iter);
        pthread_join(l->thread, NULL);
        l->computing = false;
        free(l->job_metrics);
        gpsc_checkpoint_destroy(&l->job_ck);
    }
out:
    gpsc_peer_tick(l->peer);
    gpsc_peer_destroy(&l->peer);
    for (int i = 0; i < l->nbacklog; i++)
        gpsc_wire_msg_destroy(&l->backlog[i]);
    free(l->backlog);
    clear_samples(l);
    free(l->slot);
    free(l->view);
    gpsc_wire_close(&l->push);
    gpsc_wire_close(&l->pull);
    gpsc_wire_ctx_destroy(&l->ctx);
    gpsc_alg_destroy(&l->alg);
    free(l->identity);
    gpsc_experiment_free(&l->exp);
    gpsc_keys_free(&keys);
    gpsc_log_shutdown();
    return l->status;
}
