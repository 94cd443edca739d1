/* gpsc-worker — the worker role: MuJoCo rollouts for a coordinator.
 *
 * Loads the experiment and its model once, introduces itself (Hello with
 * the task's name, the model's fingerprint and dimensions), and then, for
 * as long as the coordinator talks to it:
 *   - asks for work with credit (WorkRequest: one task per rollout slot);
 *   - for each RolloutTask fetches the policy version the task names
 *     (PolicyRequest; policies are cached by (kind, condition, version),
 *     a version never changes once published) and runs the rollout keyed by
 *     the task's (seed, iteration, condition, sample) — so the trajectory is
 *     the same bits on any worker, however often the task is re-issued;
 *   - sends the Trajectory and asks for one more task;
 *   - heartbeats and forwards its log records (common/peer.h), also during
 *     a long rollout: rollouts run on slot threads, this thread only talks.
 * The run's resolved config comes with the Welcome and replaces the file's
 * (keeping this host's model path, whose fingerprint the coordinator
 * checked), so conditions, costs and noise are the run's.
 *
 * Exits 0 on ITER_SHUTDOWN, SIGTERM or SIGINT (after the rollouts in
 * flight), 1 when refused or on a fatal error, 2 on bad arguments. With
 * --parent-pid it also exits when that process dies (local mode: no
 * orphans). */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "common/error.h"
#include "common/experiment.h"
#include "common/identity.h"
#include "common/keys.h"
#include "common/lgpolicy.h"
#include "common/log.h"
#include "common/mlp.h"
#include "common/peer.h"
#include "common/wire.h"
#include "worker/env.h"
#include "worker/msgs.h"
#include "worker/rollout.h"

#define MAX_SLOTS 64
#define MAX_QUEUE 4096
#define MAX_CACHE 256
#define POLICY_RETRY_MS 2000 /* ask again for a policy that did not come */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* one task as received */
typedef struct task {
    uint32_t iteration, condition, sample;
    gpsc_policy_kind_t kind;
    uint32_t version;
    uint64_t seed;
    bool noiseless;
    uint32_t attempt;
    uint64_t received_ms; /* (ms, monotonic) */
} task_t;

/* one cached policy (or a request for one that has not arrived) */
typedef struct cached {
    bool used;
    gpsc_policy_kind_t kind;
    uint32_t condition, version;
    gpsc_lgpolicy_t *lg; /* LOCAL, NULL until it arrived */
    gpsc_mlp_t *mlp;     /* GLOBAL, NULL until it arrived */
    int refs;            /* slots acting with it now */
    uint64_t asked_ms;   /* (ms) last PolicyRequest, 0 = never */
} cached_t;

typedef enum slot_state { SLOT_IDLE = 0, SLOT_RUNNING, SLOT_DONE, SLOT_QUIT } slot_state_t;

/* one rollout slot: a thread with its own env, runner and sample */
typedef struct slot {
    int index;
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slot_state_t state; /* guarded by mu */
    task_t task;        /* the job (main thread writes while IDLE) */
    gpsc_rollout_policy_t pol;
    int cache; /* index of the policy in the cache */
    gpsc_env_t *env;
    gpsc_rollout_t *ro;
    gpsc_sample_t *s;
    int rc; /* gpsc_rollout_run's code */
    char err[512];
    void *push; /* inproc PUSH: "done", used by the slot thread only */
} slot_t;

/* the process */
typedef struct worker {
    /* identity and configuration */
    char id[128];
    const char *endpoint;
    const char *exp_path;
    int nslots;
    gpsc_experiment_t exp; /* the run's (from the Welcome), resolved */
    bool have_run;         /* exp holds the run's config */
    char run_hash[64];     /* config hash of the run joined */
    char model_path[4096]; /* this host's model file */
    /* wire */
    void *ctx;
    gpsc_peer_t *peer;
    void *pull; /* inproc PULL: slot "done" signals */
    char done_ep[64];
    unsigned welcomes_seen; /* gpsc_peer_welcomes at the last (re)start */
    /* work */
    task_t queue[MAX_QUEUE]; /* received, not started (FIFO) */
    int nqueue;
    slot_t slots[MAX_SLOTS];
    cached_t cache[MAX_CACHE];
    uint64_t completed; /* trajectories sent */
    uint32_t iteration; /* of the last task */
    int status;         /* exit status */
} worker_t;

static void usage(FILE *f)
{
    fprintf(f, "usage: gpsc worker --connect ENDPOINT --experiment FILE.yaml [options]\n"
               "\n"
               "Runs rollouts for a coordinator: connects to its control endpoint, asks for\n"
               "tasks, fetches and caches policies, sends trajectories and heartbeats.\n"
               "\n"
               "options:\n"
               "  -c, --connect EP       coordinator control endpoint (tcp://host:port)\n"
               "  -e, --experiment FILE  experiment YAML (its model is loaded once)\n"
               "  -i, --id ID            worker id (default worker-<host>-<pid>)\n"
               "  -n, --slots N          rollouts in parallel, one thread each (default 1)\n"
               "      --parent-pid PID   exit when process PID exits (local mode)\n"
               "      --curve-secret FILE       CURVE: this worker's key pair (gpsc keygen)\n"
               "      --curve-server-key FILE   CURVE: the coordinator's public key\n"
               "  -l, --log-level L      debug | info | warn | error (default info)\n"
               "  -h, --help             this text\n"
               "\n"
               "exit status: 0 shut down, 1 refused or failed, 2 bad arguments or config.\n");
}

/* ------------------------------------------------------------------ policies */

static int cache_find(worker_t *w, gpsc_policy_kind_t kind, uint32_t cond, uint32_t version)
{
    if (kind == GPSC_POLICY_GLOBAL) cond = 0;
    for (int i = 0; i < MAX_CACHE; i++) {
        cached_t *c = &w->cache[i];
        if (c->used && c->kind == kind && c->condition == cond && c->version == version) return i;
    }
    return -1;
}

static void cache_free(cached_t *c)
{
    gpsc_lgpolicy_destroy(&c->lg);
    gpsc_mlp_destroy(&c->mlp);
    memset(c, 0, sizeof *c);
}

/* an entry for (kind, cond, version), made when missing; -1 when full */
static int cache_slot(worker_t *w, gpsc_policy_kind_t kind, uint32_t cond, uint32_t version)
{
    int i = cache_find(w, kind, cond, version);
    if (i >= 0) return i;
    if (kind == GPSC_POLICY_GLOBAL) cond = 0;
    for (i = 0; i < MAX_CACHE; i++)
        if (!w->cache[i].used) {
            w->cache[i] =
                (cached_t){.used = true, .kind = kind, .condition = cond, .version = version};
            return i;
        }
    return -1;
}

/* versions older than the one before `version` are not needed again */
static void cache_evict(worker_t *w, gpsc_policy_kind_t kind, uint32_t cond, uint32_t version)
{
    for (int i = 0; i < MAX_CACHE; i++) {
        cached_t *c = &w->cache[i];
        if (c->used && c->kind == kind && c->condition == cond && c->refs == 0 &&
            c->version + 1 < version)
            cache_free(c);
    }
}

static bool cache_ready(const cached_t *c)
{
    return c->kind == GPSC_POLICY_LOCAL ? c->lg != NULL : c->mlp != NULL;
}

static void take_lg(worker_t *w, const Gpsc__LinGaussPolicy *m)
{
    const gpsc_exp_dims_t *d = &w->exp.dims;
    if (!w->have_run || (int)m->t < w->exp.T || (int)m->dx != d->dX || (int)m->du != d->dU ||
        (int)m->condition >= w->exp.n_train + w->exp.n_test) {
        GPSC_LOG(GPSC_LOG_WARN,
                 "refused: local policy of condition %u version %u: %ux%ux%u "
                 "(T x dU x dX) does not fit the task",
                 m->condition, m->version, m->t, m->du, m->dx);
        return;
    }
    int i = cache_slot(w, GPSC_POLICY_LOCAL, m->condition, m->version);
    if (i < 0 || cache_ready(&w->cache[i]))
        return; /* full, or a version already held (versions never change) */
    if (!(w->cache[i].lg = gpsc_lgmsg_to_policy(m))) {
        GPSC_LOG(GPSC_LOG_ERROR, "out of memory for a policy");
        return;
    }
    GPSC_LOG(GPSC_LOG_DEBUG, "cached local policy of condition %u version %u", m->condition,
             m->version);
    cache_evict(w, GPSC_POLICY_LOCAL, m->condition, m->version);
}

static void take_net(worker_t *w, const Gpsc__NetworkPolicy *m)
{
    const gpsc_exp_dims_t *d = &w->exp.dims;
    if (!w->have_run || (int)m->do_ != d->dO || (int)m->du != d->dU) {
        GPSC_LOG(GPSC_LOG_WARN,
                 "refused: network version %u maps %u -> %u, the task needs "
                 "%d -> %d",
                 m->version, m->do_, m->du, d->dO, d->dU);
        return;
    }
    int i = cache_slot(w, GPSC_POLICY_GLOBAL, 0, m->version);
    if (i < 0 || cache_ready(&w->cache[i])) return;
    char err[256];
    if (!(w->cache[i].mlp = gpsc_netmsg_to_mlp(m, err, sizeof err))) {
        GPSC_LOG(GPSC_LOG_ERROR, "refused: network version %u: %s", m->version, err);
        return;
    }
    cache_evict(w, GPSC_POLICY_GLOBAL, 0, m->version);
}

static void request_policy(worker_t *w, int ci)
{
    cached_t *c = &w->cache[ci];
    uint64_t now = gpsc_peer_now_ms();
    if (c->asked_ms && now - c->asked_ms < POLICY_RETRY_MS) return;
    c->asked_ms = now;
    Gpsc__PolicyVersion pv = GPSC__POLICY_VERSION__INIT;
    pv.kind = c->kind == GPSC_POLICY_GLOBAL ? GPSC__POLICY_KIND__POLICY_GLOBAL
                                            : GPSC__POLICY_KIND__POLICY_LOCAL;
    pv.condition = c->condition;
    pv.version = c->version;
    Gpsc__PolicyRequest pr = GPSC__POLICY_REQUEST__INIT;
    pr.policy = &pv;
    int rc = gpsc_peer_send(w->peer, GPSC__ENVELOPE__BODY_POLICY_REQUEST, &pr);
    if (rc) GPSC_LOG(GPSC_LOG_WARN, "policy request not sent: %s", gpsc_strerror(rc));
}

/* ------------------------------------------------------------------ slots */

static void *slot_main(void *arg)
{
    slot_t *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (s->state != SLOT_RUNNING && s->state != SLOT_QUIT)
            pthread_cond_wait(&s->cv, &s->mu);
        slot_state_t st = s->state;
        pthread_mutex_unlock(&s->mu);
        if (st == SLOT_QUIT) break;
        gpsc_rollout_key_t key = {s->task.seed, s->task.iteration, s->task.condition,
                                  s->task.sample};
        s->err[0] = '\0';
        s->rc =
            gpsc_rollout_run(s->ro, s->s, &s->pol, &key, s->task.noiseless, s->err, sizeof s->err);
        pthread_mutex_lock(&s->mu);
        s->state = SLOT_DONE;
        pthread_mutex_unlock(&s->mu);
        /* wake the main thread */
        Gpsc__Envelope env;
        Gpsc__Heartbeat hb = GPSC__HEARTBEAT__INIT;
        hb.inflight = (uint32_t)s->index;
        gpsc_wire_env_init(&env, GPSC__ROLE__ROLE_WORKER, "slot", 1);
        env.body_case = GPSC__ENVELOPE__BODY_HEARTBEAT;
        env.heartbeat = &hb;
        (void)gpsc_wire_send(s->push, NULL, &env, 0);
    }
    return NULL;
}

static slot_state_t slot_state(slot_t *s)
{
    pthread_mutex_lock(&s->mu);
    slot_state_t st = s->state;
    pthread_mutex_unlock(&s->mu);
    return st;
}

/* the slots, once the run's experiment is known */
static int start_slots(worker_t *w, char *err, size_t errsz)
{
    const gpsc_exp_dims_t *d = &w->exp.dims;
    for (int i = 0; i < w->nslots; i++) {
        slot_t *s = &w->slots[i];
        s->index = i;
        s->cache = -1;
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, NULL);
        if (!(s->env = gpsc_env_new(&w->exp, err, errsz))) return GPSC_EMODEL;
        s->ro = gpsc_rollout_new(s->env);
        s->s = gpsc_sample_new(d, w->exp.T, w->exp.n_costs);
        s->push = gpsc_wire_socket(w->ctx, GPSC_WIRE_PUSH, NULL, err, errsz);
        if (!s->ro || !s->s || !s->push) {
            if (!err[0]) snprintf(err, errsz, "out of memory");
            return GPSC_ENOMEM;
        }
        if (gpsc_wire_connect(s->push, w->done_ep) != 0) {
            snprintf(err, errsz, "cannot connect %s", w->done_ep);
            return GPSC_ESYS;
        }
        if (pthread_create(&s->thread, NULL, slot_main, s) != 0) {
            snprintf(err, errsz, "cannot start a slot thread");
            return GPSC_ESYS;
        }
        s->started = true;
    }
    return 0;
}

static void stop_slots(worker_t *w)
{
    for (int i = 0; i < w->nslots; i++) {
        slot_t *s = &w->slots[i];
        if (s->started) {
            pthread_mutex_lock(&s->mu);
            /* a rollout in flight finishes first: the thread looks after it */
            while (s->state == SLOT_RUNNING) {
                pthread_mutex_unlock(&s->mu);
                struct timespec ts = {0, 5000000};
                nanosleep(&ts, NULL);
                pthread_mutex_lock(&s->mu);
            }
            s->state = SLOT_QUIT;
            pthread_cond_signal(&s->cv);
            pthread_mutex_unlock(&s->mu);
            pthread_join(s->thread, NULL);
            pthread_mutex_destroy(&s->mu);
            pthread_cond_destroy(&s->cv);
            s->started = false;
        }
        gpsc_wire_close(&s->push);
        gpsc_sample_destroy(&s->s);
        gpsc_rollout_destroy(&s->ro);
        gpsc_env_destroy(&s->env);
    }
}

/* ------------------------------------------------------------------ tasks */

static void ask_work(worker_t *w, uint32_t credit)
{
    if (credit == 0) return;
    Gpsc__WorkRequest wr = GPSC__WORK_REQUEST__INIT;
    wr.credit = credit;
    int rc = gpsc_peer_send(w->peer, GPSC__ENVELOPE__BODY_WORK_REQUEST, &wr);
    if (rc) GPSC_LOG(GPSC_LOG_WARN, "work request not sent: %s", gpsc_strerror(rc));
}

static int running(worker_t *w)
{
    int n = 0;
    for (int i = 0; i < w->nslots; i++)
        n += slot_state(&w->slots[i]) != SLOT_IDLE;
    return n;
}

/* a trajectory that says the task could not be run here */
static void send_failed(worker_t *w, const task_t *t, int code, const char *reason)
{
    gpsc_exp_dims_t d = w->exp.dims;
    gpsc_sample_t s = {0};
    s.T = w->exp.T > 0 ? w->exp.T : 1;
    s.dX = d.dX > 0 ? d.dX : 1;
    s.dU = d.dU > 0 ? d.dU : 1;
    s.dO = d.dO;
    s.P = d.P;
    s.dQ = d.dQ;
    s.dC = w->exp.n_costs;
    s.key = (gpsc_rollout_key_t){t->seed, t->iteration, t->condition, t->sample};
    s.policy_kind = t->kind;
    s.policy_version = t->version;
    s.status = code ? code : GPSC_EINVAL;
    snprintf(s.reason, sizeof s.reason, "%s", reason);
    gpsc_trajmsg_t *m = malloc(sizeof *m);
    if (!m) return;
    gpsc_trajmsg_fill(m, &s, &w->exp, w->id, false);
    m->traj.attempt = t->attempt;
    int rc = gpsc_peer_send(w->peer, GPSC__ENVELOPE__BODY_TRAJECTORY, &m->traj);
    if (rc) GPSC_LOG(GPSC_LOG_WARN, "failed-task report not sent: %s", gpsc_strerror(rc));
    free(m);
}

static void take_task(worker_t *w, const Gpsc__RolloutTask *m)
{
    task_t t = {.iteration = m->key->iteration,
                .condition = m->key->condition,
                .sample = m->key->sample_index,
                .kind = m->policy_kind == GPSC__POLICY_KIND__POLICY_GLOBAL ? GPSC_POLICY_GLOBAL
                                                                           : GPSC_POLICY_LOCAL,
                .version = m->policy_version,
                .seed = m->seed,
                .noiseless = m->noiseless,
                .attempt = m->attempt,
                .received_ms = gpsc_peer_now_ms()};
    char why[256] = "";
    if (!w->have_run)
        snprintf(why, sizeof why, "no experiment loaded yet");
    else if ((int)m->t != w->exp.T)
        snprintf(why, sizeof why, "task T %u, the experiment's is %d", m->t, w->exp.T);
    else if ((int)t.condition >= w->exp.n_train + w->exp.n_test)
        snprintf(why, sizeof why, "condition %u does not exist", t.condition);
    else if (w->nqueue >= MAX_QUEUE)
        snprintf(why, sizeof why, "task queue full");
    if (why[0]) {
        GPSC_LOG(GPSC_LOG_WARN, "refused: task (%u, %u, %u): %s", t.iteration, t.condition,
                 t.sample, why);
        send_failed(w, &t, GPSC_ERANGE, why);
        ask_work(w, 1);
        return;
    }
    w->queue[w->nqueue++] = t;
    w->iteration = t.iteration;
}

/* starts queued tasks on idle slots (fetching their policies first) */
static void schedule(worker_t *w)
{
    for (int i = 0; i < w->nslots; i++) {
        slot_t *s = &w->slots[i];
        if (slot_state(s) != SLOT_IDLE) continue;
        /* the first queued task whose policy is here; ask for the others' */
        int pick = -1;
        for (int q = 0; q < w->nqueue && pick < 0; q++) {
            task_t *t = &w->queue[q];
            int ci = cache_slot(w, t->kind, t->condition, t->version);
            if (ci < 0) {
                send_failed(w, t, GPSC_ENOMEM, "policy cache full");
                memmove(&w->queue[q], &w->queue[q + 1], sizeof *t * (size_t)(w->nqueue - q - 1));
                w->nqueue--;
                q--;
                ask_work(w, 1);
                continue;
            }
            if (cache_ready(&w->cache[ci]))
                pick = q;
            else
                request_policy(w, ci);
        }
        if (pick < 0) return;
        task_t t = w->queue[pick];
        memmove(&w->queue[pick], &w->queue[pick + 1], sizeof t * (size_t)(w->nqueue - pick - 1));
        w->nqueue--;
        int ci = cache_find(w, t.kind, t.condition, t.version);
        cached_t *c = &w->cache[ci];
        c->refs++;
        s->task = t;
        s->cache = ci;
        s->pol = (gpsc_rollout_policy_t){t.kind, c->lg, c->mlp, t.version};
        pthread_mutex_lock(&s->mu);
        s->state = SLOT_RUNNING;
        pthread_cond_signal(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
}

/* a slot finished: send what it made, ask for the next task */
static void finish(worker_t *w, slot_t *s)
{
    if (s->cache >= 0) {
        w->cache[s->cache].refs--;
        s->cache = -1;
    }
    const task_t *t = &s->task;
    if (s->rc) {
        GPSC_LOG(GPSC_LOG_ERROR, "task (%u, %u, %u): %s (%s)", t->iteration, t->condition,
                 t->sample, s->err, gpsc_errname(s->rc));
        send_failed(w, t, s->rc, s->err);
    } else {
        if (s->s->status)
            GPSC_LOG(GPSC_LOG_WARN, "task (%u, %u, %u): rollout failed: %s", t->iteration,
                     t->condition, t->sample, s->s->reason);
        gpsc_trajmsg_t *m = malloc(sizeof *m);
        if (m) {
            gpsc_trajmsg_fill(m, s->s, &w->exp, w->id, true);
            m->traj.attempt = t->attempt;
            m->timings.queued_s =
                (double)(gpsc_peer_now_ms() - t->received_ms) / 1000.0 - s->s->rollout_s;
            if (m->timings.queued_s < 0) m->timings.queued_s = 0;
            int rc = gpsc_peer_send(w->peer, GPSC__ENVELOPE__BODY_TRAJECTORY, &m->traj);
            if (rc)
                GPSC_LOG(GPSC_LOG_WARN, "trajectory (%u, %u, %u) not sent: %s", t->iteration,
                         t->condition, t->sample, gpsc_strerror(rc));
            free(m);
        }
        w->completed++;
    }
    pthread_mutex_lock(&s->mu);
    s->state = SLOT_IDLE;
    pthread_mutex_unlock(&s->mu);
    ask_work(w, 1);
}

/* drop queued tasks waiting for policies the coordinator no longer has */
static void drop_unavailable(worker_t *w, const char *detail)
{
    int dropped = 0;
    for (int q = 0; q < w->nqueue; q++) {
        task_t *t = &w->queue[q];
        int ci = cache_find(w, t->kind, t->condition, t->version);
        if (ci >= 0 && cache_ready(&w->cache[ci])) continue;
        if (ci >= 0 && w->cache[ci].refs == 0) cache_free(&w->cache[ci]);
        memmove(&w->queue[q], &w->queue[q + 1], sizeof *t * (size_t)(w->nqueue - q - 1));
        w->nqueue--;
        q--;
        dropped++;
    }
    if (dropped) {
        GPSC_LOG(GPSC_LOG_INFO, "dropped %d task%s whose policy is gone (%s)", dropped,
                 dropped == 1 ? "" : "s", detail);
        ask_work(w, (uint32_t)dropped);
    }
}

/* ------------------------------------------------------------------ the run */

/* the run's config from the Welcome, with this host's model */
static int load_run(worker_t *w, char *err, size_t errsz)
{
    const char *yaml = gpsc_peer_config_yaml(w->peer);
    gpsc_experiment_t e;
    int rc;
    if (!yaml[0]) {
        /* a coordinator that sends no config: the file is the run's */
        rc = gpsc_experiment_load(w->exp_path, &e, err, errsz);
    } else {
        rc = gpsc_experiment_load_string(yaml, strlen(yaml), "welcome.config_yaml", NULL, &e, err,
                                         errsz);
        if (rc == 0) {
            char *mp = strdup(w->model_path);
            if (!mp) {
                gpsc_experiment_free(&e);
                snprintf(err, errsz, "out of memory");
                return GPSC_ENOMEM;
            }
            free(e.model);
            e.model = mp;
        }
    }
    if (rc == 0) rc = gpsc_env_resolve_experiment(&e, err, errsz);
    if (rc == 0 && (e.dims.dX != w->exp.dims.dX || e.dims.dU != w->exp.dims.dU ||
                    e.dims.dO != w->exp.dims.dO || e.T < 1)) {
        snprintf(err, errsz, "the run's experiment has other dimensions than %s", w->exp_path);
        rc = GPSC_ECONFIG;
    }
    if (rc) {
        gpsc_experiment_free(&e);
        return rc;
    }
    gpsc_experiment_free(&w->exp);
    w->exp = e;
    w->have_run = true;
    return 0;
}

/* a (first or renewed) Welcome */
static int welcomed(worker_t *w, char *err, size_t errsz)
{
    const char *hash = gpsc_peer_config_hash(w->peer);
    if (!w->have_run) {
        int rc = load_run(w, err, errsz);
        if (rc) return rc;
        snprintf(w->run_hash, sizeof w->run_hash, "%s", hash);
        if ((rc = start_slots(w, err, errsz)) != 0) return rc;
        gpsc_log_set_run_id(gpsc_peer_run_id(w->peer));
        GPSC_LOG(GPSC_LOG_INFO, "joined run %s: %s, T %d, dX %d, dU %d, %d slot%s",
                 gpsc_peer_run_id(w->peer), w->exp.name, w->exp.T, w->exp.dims.dX, w->exp.dims.dU,
                 w->nslots, w->nslots == 1 ? "" : "s");
    } else if (strcmp(hash, w->run_hash) != 0) {
        snprintf(err, errsz,
                 "the coordinator now runs another experiment (config %s, was %s); "
                 "start a new worker for it",
                 hash, w->run_hash);
        return GPSC_ESTATE;
    } else {
        GPSC_LOG(GPSC_LOG_INFO, "welcomed again by the coordinator of run %s",
                 gpsc_peer_run_id(w->peer));
    }
    /* the coordinator knows nothing of tasks queued before: ask afresh */
    if (w->nqueue)
        GPSC_LOG(GPSC_LOG_INFO, "forgetting %d queued task%s", w->nqueue,
                 w->nqueue == 1 ? "" : "s");
    w->nqueue = 0;
    ask_work(w, (uint32_t)(w->nslots - running(w)));
    return 0;
}

/* one message from the coordinator; false to stop */
static bool handle(worker_t *w, const Gpsc__Envelope *env)
{
    char err[1024] = "";
    switch (env->body_case) {
    case GPSC__ENVELOPE__BODY_WELCOME:
        if (welcomed(w, err, sizeof err) != 0) {
            GPSC_LOG(GPSC_LOG_ERROR, "%s", err);
            w->status = 1;
            return false;
        }
        break;
    case GPSC__ENVELOPE__BODY_REFUSE: {
        const Gpsc__Refuse *r = env->refuse;
        if (r->reason == GPSC__REFUSE_REASON__REFUSE_OTHER && r->error_code == GPSC_ENOENT) {
            drop_unavailable(w, r->detail);
            break;
        }
        if (r->reason == GPSC__REFUSE_REASON__REFUSE_MALFORMED) {
            GPSC_LOG(GPSC_LOG_WARN, "the coordinator refused a message: %s", r->detail);
            break;
        }
        bool bye = r->reason == GPSC__REFUSE_REASON__REFUSE_SHUTTING_DOWN;
        GPSC_LOG(bye ? GPSC_LOG_INFO : GPSC_LOG_ERROR, "refused by the coordinator: %s", r->detail);
        w->status = bye ? 0 : 1;
        return false;
    }
    case GPSC__ENVELOPE__BODY_ROLLOUT_TASK:
        take_task(w, env->rollout_task);
        break;
    case GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY:
        take_lg(w, env->lin_gauss_policy);
        break;
    case GPSC__ENVELOPE__BODY_NETWORK_POLICY:
        take_net(w, env->network_policy);
        break;
    case GPSC__ENVELOPE__BODY_TRAJECTORY_ACK: {
        const Gpsc__TrajectoryAck *a = env->trajectory_ack;
        if (a->status != GPSC__ACK_STATUS__ACK_STORED)
            GPSC_LOG(a->status == GPSC__ACK_STATUS__ACK_REJECTED ? GPSC_LOG_WARN : GPSC_LOG_DEBUG,
                     "trajectory (%u, %u, %u) %s%s%s", a->key->iteration, a->key->condition,
                     a->key->sample_index,
                     a->status == GPSC__ACK_STATUS__ACK_DUPLICATE ? "was a duplicate"
                     : a->status == GPSC__ACK_STATUS__ACK_STALE   ? "was stale"
                                                                  : "was rejected",
                     a->detail && a->detail[0] ? ": " : "", a->detail ? a->detail : "");
        break;
    }
    case GPSC__ENVELOPE__BODY_ITERATION_CONTROL:
        if (env->iteration_control->command == GPSC__ITERATION_COMMAND__ITER_SHUTDOWN) {
            GPSC_LOG(GPSC_LOG_INFO, "shutdown: %s", env->iteration_control->reason);
            w->status = 0;
            return false;
        }
        break;
    default:
        GPSC_LOG(GPSC_LOG_DEBUG, "ignored a %s from the coordinator",
                 gpsc_wire_body_name(env->body_case));
        break;
    }
    return true;
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
                                         {"experiment", required_argument, 0, 'e'},
                                         {"id", required_argument, 0, 'i'},
                                         {"slots", required_argument, 0, 'n'},
                                         {"parent-pid", required_argument, 0, OPT_PARENT},
                                         {"log-level", required_argument, 0, 'l'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    static worker_t W; /* large (queue, cache): static storage, one per process */
    worker_t *w = &W;
    w->nslots = 1;
    long parent = 0, v;
    const char *curve_secret = NULL, *curve_server = NULL;
    static gpsc_keys_t keys; /* CURVE (common/keys.h); off without --curve-secret */
    bool warned_silent = false;
    gpsc_log_level_t level = GPSC_LOG_INFO;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:e:i:n:l:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            w->endpoint = optarg;
            break;
        case 'e':
            w->exp_path = optarg;
            break;
        case 'i':
            snprintf(w->id, sizeof w->id, "%s", optarg);
            break;
        case 'n':
            if (parse_int(optarg, 1, MAX_SLOTS, &v)) {
                fprintf(stderr, "gpsc-worker: --slots must be 1..%d\n", MAX_SLOTS);
                return 2;
            }
            w->nslots = (int)v;
            break;
        case OPT_CSECRET:
            curve_secret = optarg;
            break;
        case OPT_CSERVER:
            curve_server = optarg;
            break;
        case OPT_PARENT:
            if (parse_int(optarg, 1, 1L << 30, &parent)) {
                fprintf(stderr, "gpsc-worker: bad --parent-pid '%s'\n", optarg);
                return 2;
            }
            break;
        case 'l':
            if (gpsc_log_parse_level(optarg, &level)) {
                fprintf(stderr, "gpsc-worker: bad --log-level '%s'\n", optarg);
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
    if (optind < argc || !w->endpoint || !w->exp_path) {
        usage(stderr);
        return 2;
    }
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    for (char *p = host; *p; p++)
        if (*p == ' ' || (unsigned char)*p < 33 || (unsigned char)*p > 126) *p = '_';
    if (!w->id[0]) snprintf(w->id, sizeof w->id, "worker-%s-%ld", host, (long)getpid());

        /* local mode: die with the parent */
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

    gpsc_log_init("worker", NULL, level);
    char err[2048] = "";
    int rc = gpsc_experiment_load(w->exp_path, &w->exp, err, sizeof err);
    if (rc == 0) rc = gpsc_env_resolve_experiment(&w->exp, err, sizeof err);
    char model_hash[25] = "";
    if (rc == 0) {
        rc = gpsc_keys_load(&keys, curve_secret, curve_server, NULL, err, sizeof err);
        if (rc == 0 && keys.on && !keys.have_server) {
            snprintf(err, sizeof err, "--curve-secret needs --curve-server-key");
            rc = GPSC_EINVAL;
        }
    }
    if (rc == 0) {
        snprintf(w->model_path, sizeof w->model_path, "%s", w->exp.model);
        rc = gpsc_identity_model_hash(model_hash, w->exp.model, err, sizeof err);
    }
    if (rc) {
        GPSC_LOG(GPSC_LOG_ERROR, "%s", err);
        gpsc_experiment_free(&w->exp);
        return 2;
    }

    /* who we are */
    const gpsc_exp_dims_t *d = &w->exp.dims;
    Gpsc__Capabilities caps = GPSC__CAPABILITIES__INIT;
    caps.slots = (uint32_t)w->nslots;
    caps.max_inflight = (uint32_t)w->nslots;
    caps.dx = (uint32_t)d->dX;
    caps.du = (uint32_t)d->dU;
    caps.do_ = (uint32_t)d->dO;
    caps.p = (uint32_t)d->P;
    caps.dq = (uint32_t)d->dQ;
    caps.computes_cost = true;
    caps.mujoco_version = (char *)gpsc_env_mujoco_version();
    Gpsc__Hello hello = GPSC__HELLO__INIT;
    hello.protocol_version = GPSC_WIRE_VERSION;
    hello.role = GPSC__ROLE__ROLE_WORKER;
    hello.capabilities = &caps;
    /* the Hello outlives this experiment (the Welcome's replaces it): own copies */
    static char task_name[GPSC_WIRE_MAX_ID + 1];
    snprintf(task_name, sizeof task_name, "%s", w->exp.name);
    hello.task_name = task_name;
    hello.model_hash = model_hash;
    hello.hostname = host;
    hello.pid = (uint32_t)getpid();

    w->ctx = gpsc_wire_ctx_new();
    snprintf(w->done_ep, sizeof w->done_ep, "inproc://gpsc-worker-done");
    w->pull = w->ctx ? gpsc_wire_socket(w->ctx, GPSC_WIRE_PULL, NULL, err, sizeof err) : NULL;
    if (!w->pull || gpsc_wire_bind(w->pull, w->done_ep, NULL, 0) != 0) {
        GPSC_LOG(GPSC_LOG_ERROR, "cannot set up sockets: %s", err);
        w->status = 1;
        goto out;
    }
    gpsc_peer_cfg_t pc = {.role = GPSC__ROLE__ROLE_WORKER,
                          .id = w->id,
                          .endpoint = w->endpoint,
                          .hello = &hello,
                          .curve_keys = keys.on ? &keys.own : NULL,
                          .curve_server_key = keys.server_key};
    if (!(w->peer = gpsc_peer_new(w->ctx, &pc, err, sizeof err))) {
        GPSC_LOG(GPSC_LOG_ERROR, "%s", err);
        w->status = 2;
        goto out;
    }
    gpsc_peer_forward_logs(w->peer, true);
    GPSC_LOG(GPSC_LOG_INFO, "worker %s: %s (T %d, dX %d, dU %d), %d slot%s, coordinator %s", w->id,
             w->exp.name, w->exp.T, d->dX, d->dU, w->nslots, w->nslots == 1 ? "" : "s",
             w->endpoint);

    /* the loop: talk to the coordinator, start rollouts, send results */
    while (!g_stop) {
        gpsc_peer_set_status(w->peer, (uint32_t)(w->nqueue + running(w)), w->completed,
                             w->iteration);
        long ms = gpsc_peer_tick(w->peer);
        void *socks[2] = {gpsc_peer_socket(w->peer), w->pull};
        int ready[2];
        rc = gpsc_wire_poll(socks, ready, 2, ms);
        if (rc < 0 && rc != GPSC_EINTR) {
            GPSC_LOG(GPSC_LOG_ERROR, "poll: %s", gpsc_strerror(rc));
            w->status = 1;
            break;
        }
        /* slot signals */
        gpsc_wire_msg_t *m = NULL;
        while (gpsc_wire_recv(w->pull, &m, NULL, GPSC_WIRE_DONTWAIT, NULL, 0) != GPSC_EAGAIN)
            gpsc_wire_msg_destroy(&m);
        for (int i = 0; w->have_run && i < w->nslots; i++)
            if (slot_state(&w->slots[i]) == SLOT_DONE) finish(w, &w->slots[i]);
        /* the coordinator */
        bool go = true;
        while (go && (rc = gpsc_peer_recv(w->peer, &m, err, sizeof err)) != GPSC_EAGAIN) {
            if (rc == 0)
                go = handle(w, gpsc_wire_msg_env(m));
            else
                GPSC_LOG(GPSC_LOG_WARN, "refused: message from the coordinator: %s", err);
            gpsc_wire_msg_destroy(&m);
        }
        if (!go) break;
        if (w->have_run) schedule(w);
        if (parent && getppid() != (pid_t)parent) break;
        if (!warned_silent && !gpsc_peer_welcomed(w->peer) &&
            gpsc_peer_silence_ms(w->peer) > 10000) {
            GPSC_LOG(GPSC_LOG_WARN, "no answer from the coordinator at %s for 10 s: is it up%s?",
                     w->endpoint, keys.on ? ", and does it accept this worker's CURVE key" : "");
            warned_silent = true;
        }
    }
    if (g_stop) GPSC_LOG(GPSC_LOG_INFO, "stopping on a signal");
out:
    stop_slots(w);
    gpsc_peer_tick(w->peer); /* last log records */
    gpsc_peer_destroy(&w->peer);
    gpsc_wire_close(&w->pull);
    for (int i = 0; i < MAX_CACHE; i++)
        if (w->cache[i].used) cache_free(&w->cache[i]);
    gpsc_wire_ctx_destroy(&w->ctx);
    gpsc_experiment_free(&w->exp);
    gpsc_keys_free(&keys);
    gpsc_log_shutdown();
    return w->status;
}
