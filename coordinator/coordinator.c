/* coordinator.c — the coordinator (see coordinator.h and docs/running.md). */
#include "coordinator/coordinator.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/checkpoint.h"
#include "common/error.h"
#include "common/identity.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/wire.h"
#include "coordinator/tasks.h"
#include "coordinator/view.h"
#include "worker/env.h"
#include "worker/msgs.h"
#include "worker/rollout.h"

#define SOCK_CONTROL 0     /* workers */
#define SOCK_LEARNER 1     /* the learner */
#define TICK_MS 100        /* (ms) the one timer: heartbeats, timeouts, re-issue */
#define DRAIN_MAX 1000     /* messages per socket per wake-up (the tick catches the rest) */
#define LEARNER_HWM 100000 /* messages queued to the learner before sends fail */
/* Workers' messages: above CONTROL_LIMIT they are refused with a log line;
 * ZeroMQ itself drops a connection that sends more than CONTROL_HARD_LIMIT
 * (ZMQ_MAXMSGSIZE) before anything is decoded, silently. */
#define CONTROL_LIMIT GPSC_WIRE_MAX_DEFAULT
#define CONTROL_HARD_LIMIT (4 * (size_t)GPSC_WIRE_MAX_DEFAULT)
#define REFUSE_LOG_PER_S 20 /* refusal log lines per second before they are summarised */
#define COORD_ID "coordinator"

/* Sample indices of the rollouts that measure the global policy's cost:
 * (seed, k, m, GLOBAL_SAMPLE + n), outside the training samples' indices, as
 * gpsc-solo keys them (GPSC_SOLO_GLOBAL_SAMPLE in learner/solo.c); they
 * draw their own noise, never reach the learner or a checkpoint, and give
 * metrics.jsonl its "global_cost_measured". */
#define GLOBAL_SAMPLE 0x40000000u

/* where the run is */
typedef enum phase {
    PH_WAIT = 0,     /* waiting for the learner's policies of `iter` */
    PH_SAMPLING = 1, /* tasks of `iter` out; trajectories relayed to the learner */
    PH_LEARNING = 2, /* all samples in; waiting for the results of `iter` */
    PH_EVAL = 3,     /* the final evaluation round (iteration K) */
    PH_DONE = 4      /* the run ended */
} phase_t;

/* one peer that said Hello */
typedef struct cpeer {
    int sock;                      /* SOCK_CONTROL or SOCK_LEARNER */
    gpsc_wire_head_t head;         /* its routing id */
    char id[GPSC_WIRE_MAX_ID + 1]; /* = the routing id, as text */
    Gpsc__Role role;               /* ROLE_WORKER or ROLE_LEARNER */
    bool alive;                    /* welcomed and not lost since */
    char host[64];
    uint32_t pid;
    uint32_t slots;                                /* rollouts it runs in parallel */
    uint64_t last_rx_ms;                           /* (ms) its last message */
    uint64_t last_hb_ms;                           /* (ms) our last heartbeat to it */
    uint32_t credit;                               /* tasks it asked for and has not been given */
    uint64_t stored, duplicates, rejected, failed; /* its trajectories */
} cpeer_t;

/* per training condition, for the summary table */
typedef struct cond_sum {
    double first_cost; /* mean sampled cost of iteration 0 (NaN: unknown) */
    double last_cost;  /* of the last finished iteration (NaN: none) */
    double last_dist;  /* its mean final ee distance (m) */
    int last_succ;     /* its successes (-1: no metric) */
    double eval_cost;  /* final evaluation: mean sampled cost */
    double eval_dist;  /* mean final ee distance (m) */
    int eval_succ;     /* successes among the N samples */
    double mean_dist;  /* the mean-action rollout's final distance (m) */
    int mean_succ;     /* 1 when it succeeded */
} cond_sum_t;

struct gpsc_coord {
    /* ---- the run (fixed once made) ---- */
    uv_loop_t *loop;
    gpsc_experiment_t exp; /* resolved, with the command line's overrides */
    int M, N, K;           /* train conditions, samples per condition, iterations */
    bool global_sampling;  /* tasks act with the network (on-policy MDGPS) */
    bool has_network;      /* the learner publishes a network (MDGPS) */
    uint64_t seed;         /* run seed */
    char hash[25];         /* config hash (identity) */
    char run_id[128];
    char model_hash[25]; /* the model file's fingerprint */
    char *config_yaml;   /* the resolved experiment, sent with every Welcome */
    char run_dir[PATH_MAX];
    int start_iter;           /* iteration this process started from */
    uint64_t hb_ms;           /* (ms) heartbeat interval */
    uint64_t timeout_ms;      /* (ms) silence after which a peer is dead */
    uint64_t task_timeout_ms; /* (ms) a task not answered by then is re-issued */
    int max_failures;         /* failed results of one task that end the run */
    int G;                    /* global-policy measurement rollouts per condition */
    bool eval;                /* run the final evaluation round */
    gpsc_coord_event_fn on_event;
    void *event_ud;

    /* ---- sockets and handles ---- */
    void *ctx;
    void *sock[2];                    /* ROUTERs: control (workers), learner */
    void *pub;                        /* log PUB */
    char ep[3][GPSC_WIRE_MAX_ID + 1]; /* bound endpoints */
    uv_poll_t poll[2];                /* the ROUTERs' descriptors */
    uv_timer_t tick;
    int handles;                 /* handles not yet closed */
    bool closing;                /* handles are being closed */
    uint64_t seq;                /* last envelope sequence number */
    FILE *metrics;               /* RUN/metrics.jsonl */
    gpsc_wire_zap_t *zap;        /* CURVE allow-list (NULL: plain TCP) */
    gpsc_wire_monitor_t *mon[3]; /* CURVE handshake failures of the bound sockets */
    uint64_t hs_count[5];        /* refusals by gpsc_wire_hs_kind_t since the last line */
    uint64_t hs_pending;         /* refusals since the last line */
    uint64_t hs_logged_ms;       /* (ms) time of the last line, 0 before any */
    char hs_last[320];           /* the last handshake failure */

    /* ---- peers ---- */
    cpeer_t *peers; /* (npeers) every peer ever welcomed; indices are stable */
    int npeers, cappeers;
    int learner; /* index of the live learner, -1 */
    int rr;      /* where the next dispatch round starts */

    /* ---- the iteration ---- */
    phase_t phase;
    int iter; /* iteration sampled (= the policies' version) */
    gpsc_tasks_t *tasks;
    gpsc_wire_msg_t **traj; /* (captraj) stored trajectory of each task index */
    int captraj;
    uint64_t t_plan;              /* (ms) the plan was made */
    uint64_t t_complete;          /* (ms) its samples were complete */
    uint64_t reissued0, dup0;     /* table counters when the plan was made */
    uint64_t rejected, rejected0; /* rejected trajectories, in total and at the plan */
    int ready;                    /* version of the learner's complete results that wait
                                     for the measurement rollouts, -1 none */

    /* ---- policies of version `iter` (the learner's messages) ---- */
    bool have_policies;
    gpsc_wire_msg_t **lg; /* (M) LinGaussPolicy */
    gpsc_wire_msg_t *net; /* NetworkPolicy (MDGPS) */
    /* what the learner sent since, until its POLICIES_READY */
    gpsc_wire_msg_t **in_lg; /* (M) */
    gpsc_wire_msg_t *in_net, *in_metrics, *in_ck;

    /* ---- summary ---- */
    cond_sum_t *sum; /* (M) */
    bool eval_done;

    /* ---- the end ---- */
    bool finished;
    int status; /* exit status */
    char reason[512];

    /* ---- counters of the whole run (this process), for the last log line ---- */
    uint64_t n_planned; /* tasks planned (every plan, evaluation included) */
    uint64_t n_stored;  /* first valid results stored (one per planned task that finished) */
    uint64_t n_stale;   /* results of a task not in the current plan */
    uint64_t n_failed;  /* TRAJ_FAILED results */
    uint64_t n_refused; /* refusal lines, counted or suppressed */
    uint64_t n_joined;  /* worker Hellos welcomed */
    uint64_t n_lost;    /* workers declared dead */

    /* ---- refusal lines (a flood is summarised, not logged line by line) ---- */
    uint64_t refuse_window_ms; /* (ms) start of the current second */
    int refuse_count;          /* lines in it */
    int refuse_suppressed;     /* lines not written in it */

    uint64_t status_ms; /* (ms) last progress message on the log PUB (gpsc watch) */
};

/* ------------------------------------------------------------------ small helpers */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int fail(int rc, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(int rc, char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return rc;
}

static int live_workers(const gpsc_coord_t *c)
{
    int n = 0;
    for (int i = 0; i < c->npeers; i++)
        n += c->peers[i].alive && c->peers[i].role == GPSC__ROLE__ROLE_WORKER;
    return n;
}

static void emit(gpsc_coord_t *c, gpsc_coord_event_type_t type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* a progress event on the log PUB (topic "progress", a Metrics envelope
 * holding gpsc_view_progress_json) for gpsc watch; type -1: status. Log
 * events are left out: the records themselves are on the PUB. */
static void env_init(gpsc_coord_t *c, Gpsc__Envelope *env, Gpsc__Envelope__BodyCase body_case,
                     const void *body);
static void publish_progress(gpsc_coord_t *c, int type, const char *text)
{
    if (!c->pub || type == GPSC_COORD_EV_LOG || type == GPSC_COORD_EV_PEER_LOST) return;
    gpsc_view_progress_t p;
    gpsc_coord_progress(c, type, text, &p);
    char *js = gpsc_view_progress_json(&p);
    if (!js) return;
    Gpsc__Metrics pm = GPSC__METRICS__INIT;
    pm.iteration = (uint32_t)(c->iter > 0 ? c->iter : 0);
    pm.json = js;
    Gpsc__Envelope env;
    env_init(c, &env, GPSC__ENVELOPE__BODY_METRICS, &pm);
    gpsc_wire_head_t topic;
    gpsc_wire_head_str(&topic, "progress");
    (void)gpsc_wire_send(c->pub, &topic, &env, GPSC_WIRE_DONTWAIT);
    free(js);
    c->status_ms = now_ms();
}

static void emit(gpsc_coord_t *c, gpsc_coord_event_type_t type, const char *fmt, ...)
{
    if (!c->on_event && !c->pub) return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    publish_progress(c, type, text);
    if (!c->on_event) return;
    gpsc_coord_event_t ev = {.type = type,
                             .iteration = c->iter,
                             .iterations = c->K,
                             .samples_done = gpsc_tasks_count(c->tasks, GPSC_TASK_DONE),
                             .samples_total = gpsc_tasks_size(c->tasks),
                             .eval = c->phase == PH_EVAL,
                             .workers = live_workers(c),
                             .learner = c->learner >= 0,
                             .text = text};
    c->on_event(&ev, c->event_ud);
}

/* PEER_LOST for the front end (local mode replaces a process that still runs) */
static void emit_lost(gpsc_coord_t *c, const cpeer_t *p, const char *why)
{
    if (!c->on_event) return;
    gpsc_coord_event_t ev = {.type = GPSC_COORD_EV_PEER_LOST,
                             .iteration = c->iter,
                             .iterations = c->K,
                             .samples_done = gpsc_tasks_count(c->tasks, GPSC_TASK_DONE),
                             .samples_total = gpsc_tasks_size(c->tasks),
                             .eval = c->phase == PH_EVAL,
                             .workers = live_workers(c),
                             .learner = c->learner >= 0,
                             .text = why,
                             .peer = p->id,
                             .peer_learner = p->role == GPSC__ROLE__ROLE_LEARNER};
    c->on_event(&ev, c->event_ud);
}

/* a refusal line, at most REFUSE_LOG_PER_S a second */
static void refused(gpsc_coord_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refused(gpsc_coord_t *c, const char *fmt, ...)
{
    uint64_t now = now_ms();
    c->n_refused++;
    if (now - c->refuse_window_ms >= 1000) {
        if (c->refuse_suppressed)
            GPSC_LOG(GPSC_LOG_WARN, "refused: %d more messages (lines suppressed)",
                     c->refuse_suppressed);
        c->refuse_window_ms = now;
        c->refuse_count = 0;
        c->refuse_suppressed = 0;
    }
    if (c->refuse_count >= REFUSE_LOG_PER_S) {
        c->refuse_suppressed++;
        return;
    }
    c->refuse_count++;
    char text[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    GPSC_LOG(GPSC_LOG_WARN, "refused: %s", text);
}

/* the head as printable text (non-printable bytes as '?') */
static void head_text(char *out, size_t outsz, const gpsc_wire_head_t *h)
{
    size_t n = h->len < outsz - 1 ? h->len : outsz - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = h->data[i] > 32 && h->data[i] < 127 ? (char)h->data[i] : '?';
    out[n] = '\0';
    if (n == 0) snprintf(out, outsz, "(no id)");
}

static void env_init(gpsc_coord_t *c, Gpsc__Envelope *env, Gpsc__Envelope__BodyCase body_case,
                     const void *body)
{
    gpsc_wire_env_init(env, GPSC__ROLE__ROLE_COORDINATOR, COORD_ID, ++c->seq);
    env->run_id = c->run_id;
    env->time_ns = wall_ns();
    env->body_case = body_case;
    env->hello = (Gpsc__Hello *)body; /* the body union: every member is a pointer */
}

static int send_head(gpsc_coord_t *c, int sock, const gpsc_wire_head_t *head,
                     Gpsc__Envelope__BodyCase body_case, const void *body)
{
    Gpsc__Envelope env;
    env_init(c, &env, body_case, body);
    return gpsc_wire_send(c->sock[sock], head, &env, GPSC_WIRE_DONTWAIT);
}

static void peer_lost(gpsc_coord_t *c, int pi, const char *why);

/* sends to peer pi; a peer that is gone is marked lost */
static int send_peer(gpsc_coord_t *c, int pi, Gpsc__Envelope__BodyCase body_case, const void *body)
{
    cpeer_t *p = &c->peers[pi];
    int rc = send_head(c, p->sock, &p->head, body_case, body);
    if (rc == GPSC_EUNKNOWN_PEER)
        peer_lost(c, pi, "its connection is gone");
    else if (rc == GPSC_EAGAIN)
        peer_lost(c, pi, "its queue is full (not reading)");
    else if (rc)
        GPSC_LOG(GPSC_LOG_ERROR, "a %s to %s was not sent: %s", gpsc_wire_body_name(body_case),
                 p->id, gpsc_strerror(rc));
    return rc;
}

static void send_refuse(gpsc_coord_t *c, int sock, const gpsc_wire_head_t *head,
                        Gpsc__RefuseReason reason, int code, const char *detail)
{
    if (!head || head->len == 0) return;
    Gpsc__Refuse r = GPSC__REFUSE__INIT;
    r.reason = reason;
    r.error_code = code > 0 ? -code : code;
    r.detail = (char *)detail;
    (void)send_head(c, sock, head, GPSC__ENVELOPE__BODY_REFUSE, &r);
}

static void send_control(gpsc_coord_t *c, int pi, Gpsc__IterationCommand cmd, uint32_t iteration,
                         uint32_t samples, const char *reason)
{
    Gpsc__IterationControl ic = GPSC__ITERATION_CONTROL__INIT;
    ic.command = cmd;
    ic.iteration = iteration;
    ic.samples = samples;
    ic.reason = (char *)(reason ? reason : "");
    (void)send_peer(c, pi, GPSC__ENVELOPE__BODY_ITERATION_CONTROL, &ic);
}

/* ------------------------------------------------------------------ logging */

static Gpsc__LogLevel wire_level(gpsc_log_level_t l)
{
    switch (l) {
    case GPSC_LOG_DEBUG:
        return GPSC__LOG_LEVEL__LOG_DEBUG;
    case GPSC_LOG_INFO:
        return GPSC__LOG_LEVEL__LOG_INFO;
    case GPSC_LOG_WARN:
        return GPSC__LOG_LEVEL__LOG_WARN;
    case GPSC_LOG_ERROR:
        return GPSC__LOG_LEVEL__LOG_ERROR;
    }
    return GPSC__LOG_LEVEL__LOG_INFO;
}

static gpsc_log_level_t local_level(Gpsc__LogLevel l)
{
    switch (l) {
    case GPSC__LOG_LEVEL__LOG_TRACE:
    case GPSC__LOG_LEVEL__LOG_DEBUG:
        return GPSC_LOG_DEBUG;
    case GPSC__LOG_LEVEL__LOG_INFO:
        return GPSC_LOG_INFO;
    case GPSC__LOG_LEVEL__LOG_WARN:
        return GPSC_LOG_WARN;
    default:
        return GPSC_LOG_ERROR;
    }
}

static void publish_record(gpsc_coord_t *c, const Gpsc__Envelope *env, gpsc_log_level_t level)
{
    gpsc_wire_head_t topic;
    char t[32];
    snprintf(t, sizeof t, "log.%s", gpsc_log_level_name(level));
    gpsc_wire_head_str(&topic, t);
    (void)gpsc_wire_send(c->pub, &topic, env, GPSC_WIRE_DONTWAIT);
}

/* the log hook: the coordinator's own records go out on the PUB too */
static void log_hook(const gpsc_log_record_t *rec, void *ud)
{
    gpsc_coord_t *c = ud;
    if (c->pub) {
        Gpsc__LogRecord r = GPSC__LOG_RECORD__INIT;
        r.time = (double)rec->time_ms / 1000.0;
        r.level = wire_level(rec->level);
        r.role = GPSC__ROLE__ROLE_COORDINATOR;
        r.pid = (uint32_t)rec->pid;
        r.run_id = (char *)(rec->run_id ? rec->run_id : "");
        r.iteration = rec->iteration < -1 ? -1 : (int32_t)rec->iteration;
        char msg[8192];
        snprintf(msg, sizeof msg, "%s", rec->msg ? rec->msg : "");
        r.message = msg;
        r.sender_id = COORD_ID;
        Gpsc__Envelope env;
        env_init(c, &env, GPSC__ENVELOPE__BODY_LOG_RECORD, &r);
        publish_record(c, &env, rec->level);
    }
    if (rec->level >= GPSC_LOG_WARN)
        emit(c, GPSC_COORD_EV_LOG, "coordinator: %s", rec->msg ? rec->msg : "");
}

/* a record another process forwarded: the merged log, the PUB, warnings out */
static void take_record(gpsc_coord_t *c, const cpeer_t *p, const Gpsc__Envelope *env)
{
    const Gpsc__LogRecord *r = env->log_record;
    gpsc_log_record_t rec;
    memset(&rec, 0, sizeof rec);
    rec.time_ms = (long long)llround(r->time * 1000.0);
    rec.level = local_level(r->level);
    rec.role = gpsc_wire_role_name(r->role);
    rec.pid = (long)r->pid;
    rec.run_id = r->run_id;
    rec.iteration = r->iteration;
    rec.file = p->id;
    rec.line = 0;
    rec.msg = r->message;
    gpsc_log_write_record(&rec);
    publish_record(c, env, rec.level);
    if (rec.level >= GPSC_LOG_WARN)
        emit(c, GPSC_COORD_EV_LOG, "%s %s: %s", rec.role, p->id, r->message);
}

/* ------------------------------------------------------------------ files */

static int mkdir_p(const char *path)
{
    char buf[PATH_MAX];
    if (strlen(path) >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, strlen(path) + 1);
    for (char *q = buf + 1; *q; q++)
        if (*q == '/') {
            *q = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
            *q = '/';
        }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* true when dir exists and holds anything */
static bool dir_nonempty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return false;
    struct dirent *e;
    bool any = false;
    while (!any && (e = readdir(d)))
        any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return any;
}

/* --force: the files of an earlier run in dir go (nothing else is touched) */
static void remove_run_files(const char *dir)
{
    static const char *files[] = {"config.yaml", "metrics.jsonl", "log.jsonl",
                                  "summary.txt", "endpoints",     NULL};
    char path[PATH_MAX + 64];
    for (int i = 0; files[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    static const struct {
        const char *sub, *prefix, *suffix;
    } globs[] = {{"checkpoints", "iter_", ".pb"}, {"procs", "", ".log"}};
    for (int g = 0; g < 2; g++) {
        snprintf(path, sizeof path, "%s/%s", dir, globs[g].sub);
        DIR *d = opendir(path);
        if (!d) continue;
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t n = strlen(e->d_name), ns = strlen(globs[g].suffix);
            if (strncmp(e->d_name, globs[g].prefix, strlen(globs[g].prefix)) == 0 && n > ns &&
                strcmp(e->d_name + n - ns, globs[g].suffix) == 0) {
                char f[PATH_MAX + 600];
                snprintf(f, sizeof f, "%s/%s", path, e->d_name);
                unlink(f);
            }
        }
        closedir(d);
    }
}

/* highest NNNN of DIR/checkpoints/iter_NNNN.pb, -1 when none */
static int latest_checkpoint(const char *dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    DIR *d = opendir(path);
    if (!d) return -1;
    int best = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        int k;
        char tail[8];
        if (sscanf(e->d_name, "iter_%d.%7s", &k, tail) == 2 && strcmp(tail, "pb") == 0 && k > best)
            best = k;
    }
    closedir(d);
    return best;
}

static void checkpoint_path(const gpsc_coord_t *c, char *out, size_t outsz, int k)
{
    snprintf(out, outsz, "%s/checkpoints/iter_%04d.pb", c->run_dir, k);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* the numbers of one metrics line into the summary */
static void take_metrics_json(gpsc_coord_t *c, const cJSON *o)
{
    const cJSON *it = cJSON_GetObjectItem(o, "iteration");
    const cJSON *conds = cJSON_GetObjectItem(o, "conditions");
    if (!cJSON_IsNumber(it) || !cJSON_IsArray(conds)) return;
    const cJSON *e;
    cJSON_ArrayForEach(e, conds)
    {
        const cJSON *m = cJSON_GetObjectItem(e, "condition");
        if (!cJSON_IsNumber(m) || m->valueint < 0 || m->valueint >= c->M) continue;
        cond_sum_t *s = &c->sum[m->valueint];
        const cJSON *cost = cJSON_GetObjectItem(e, "sample_cost");
        const cJSON *dist = cJSON_GetObjectItem(e, "final_distance");
        const cJSON *succ = cJSON_GetObjectItem(e, "successes");
        double v = cJSON_IsNumber(cost) ? cost->valuedouble : NAN;
        if (it->valueint == 0) s->first_cost = v;
        s->last_cost = v;
        s->last_dist = cJSON_IsNumber(dist) ? dist->valuedouble : NAN;
        s->last_succ = cJSON_IsNumber(succ) ? succ->valueint : -1;
    }
}

/* resume: metrics.jsonl keeps the lines of iterations before `keep`, each
 * once (an interrupted run may have written a line whose checkpoint never
 * made it, or half a line) */
static int trim_metrics(gpsc_coord_t *c, int keep, char *err, size_t errsz)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/metrics.jsonl", c->run_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *in = fopen(path, "r");
    if (!in) return 0;
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fclose(in);
        return fail(GPSC_EIO, err, errsz, "%s: %s", tmp, strerror(errno));
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int next = 0; /* iteration the next kept line must have */
    while ((n = getline(&line, &cap, in)) > 0) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *it = o ? cJSON_GetObjectItem(o, "iteration") : NULL;
        if (cJSON_IsNumber(it) && it->valueint == next && next < keep && line[n - 1] == '\n') {
            fputs(line, out);
            take_metrics_json(c, o);
            next++;
        }
        cJSON_Delete(o);
    }
    free(line);
    fclose(in);
    if (fclose(out) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return fail(GPSC_EIO, err, errsz, "%s: %s", path, strerror(errno));
    }
    return 0;
}

/* writes a checkpoint the learner sent, with the file header of
 * common/checkpoint.h (so the bytes equal gpsc-solo's) */
static int write_checkpoint(gpsc_coord_t *c, const Gpsc__Checkpoint *m, char *err, size_t errsz)
{
    gpsc_checkpoint_t *ck = gpsc_checkpoint_new();
    if (!ck) return fail(GPSC_ENOMEM, err, errsz, "out of memory");
    /* shallow: the checkpoint borrows the message's parts and allocates nothing */
    *gpsc_checkpoint_msg(ck) = *m;
    char path[PATH_MAX + 32];
    checkpoint_path(c, path, sizeof path, (int)m->iteration);
    int rc = gpsc_checkpoint_write(ck, path, err, errsz);
    gpsc_checkpoint_destroy(&ck);
    return rc;
}

/* ------------------------------------------------------------------ peers */

static int find_peer(const gpsc_coord_t *c, int sock, const gpsc_wire_head_t *head)
{
    for (int i = 0; i < c->npeers; i++) {
        const cpeer_t *p = &c->peers[i];
        if (p->sock == sock && p->head.len == head->len &&
            memcmp(p->head.data, head->data, head->len) == 0)
            return i;
    }
    return -1;
}

static void peer_lost(gpsc_coord_t *c, int pi, const char *why)
{
    cpeer_t *p = &c->peers[pi];
    if (!p->alive) return;
    p->alive = false;
    p->credit = 0;
    if (c->finished) return; /* peers leave at the end: nothing to re-issue or report */
    if (p->role == GPSC__ROLE__ROLE_LEARNER) {
        if (c->learner == pi) c->learner = -1;
        GPSC_LOG(GPSC_LOG_WARN, "learner %s lost: %s; waiting for a learner", p->id, why);
        emit(c, GPSC_COORD_EV_INFO, "learner %s lost: %s", p->id, why);
        emit_lost(c, p, why);
        return;
    }
    int n = gpsc_tasks_peer_lost(c->tasks, pi);
    c->n_lost++;
    GPSC_LOG(GPSC_LOG_WARN, "worker %s lost: %s; %d task%s re-issued", p->id, why, n,
             n == 1 ? "" : "s");
    emit(c, GPSC_COORD_EV_INFO, "worker %s lost: %s (%d task%s re-issued)", p->id, why, n,
         n == 1 ? "" : "s");
    emit_lost(c, p, why);
}

/* ------------------------------------------------------------------ tasks */

static void send_task(gpsc_coord_t *c, int pi, int idx)
{
    const gpsc_task_t *t = gpsc_tasks_get(c->tasks, idx);
    Gpsc__TaskKey key = GPSC__TASK_KEY__INIT;
    key.iteration = t->iteration;
    key.condition = t->condition;
    key.sample_index = t->sample;
    Gpsc__RolloutTask rt = GPSC__ROLLOUT_TASK__INIT;
    rt.key = &key;
    rt.policy_kind = t->global || c->global_sampling ? GPSC__POLICY_KIND__POLICY_GLOBAL
                                                     : GPSC__POLICY_KIND__POLICY_LOCAL;
    rt.policy_version = (uint32_t)c->iter;
    rt.seed = c->seed;
    rt.t = (uint32_t)c->exp.T;
    rt.noiseless = t->noiseless;
    rt.attempt = t->issues - 1;
    if (t->issues > 1)
        GPSC_LOG(GPSC_LOG_INFO, "task (%u, %u, %u) re-issued to %s (attempt %u)", t->iteration,
                 t->condition, t->sample, c->peers[pi].id, rt.attempt);
    (void)send_peer(c, pi, GPSC__ENVELOPE__BODY_ROLLOUT_TASK, &rt);
}

/* hands pending tasks to workers with credit, one per worker per round */
static void dispatch(gpsc_coord_t *c)
{
    /* while learning, the measurement rollouts may still be going out */
    if (c->phase != PH_SAMPLING && c->phase != PH_LEARNING && c->phase != PH_EVAL) return;
    uint64_t now = now_ms();
    bool gave = true;
    while (gave && gpsc_tasks_count(c->tasks, GPSC_TASK_PENDING) > 0) {
        gave = false;
        for (int j = 0; j < c->npeers; j++) {
            int pi = (c->rr + j) % c->npeers;
            cpeer_t *p = &c->peers[pi];
            if (!p->alive || p->role != GPSC__ROLE__ROLE_WORKER || p->credit == 0) continue;
            int idx = gpsc_tasks_assign(c->tasks, pi, now, c->task_timeout_ms);
            if (idx < 0) return;
            p->credit--;
            send_task(c, pi, idx);
            gave = true;
        }
        c->rr = c->npeers ? (c->rr + 1) % c->npeers : 0;
    }
}

static void free_trajectories(gpsc_coord_t *c)
{
    for (int i = 0; i < c->captraj; i++)
        gpsc_wire_msg_destroy(&c->traj[i]);
}

/* a new plan: tasks, room for their trajectories */
static int plan(gpsc_coord_t *c, bool eval)
{
    int rc;
    free_trajectories(c);
    if (eval) {
        /* the samples of iteration K (as gpsc-solo's summary) and one mean-action
         * rollout per condition (sample index N: a noiseless rollout draws no noise) */
        int n = c->M * (c->N + 1);
        gpsc_task_spec_t *s = calloc((size_t)n, sizeof *s);
        if (!s) return GPSC_ENOMEM;
        for (int m = 0; m < c->M; m++)
            for (int i = 0; i <= c->N; i++)
                s[m * (c->N + 1) + i] =
                    (gpsc_task_spec_t){(uint32_t)m, (uint32_t)i, i == c->N, false, 0};
        rc = gpsc_tasks_plan(c->tasks, (uint32_t)c->iter, s, n);
        free(s);
    } else {
        /* the training samples, then (priority 1: handed out last, awaited only
         * before the metrics line) the global policy's measurement rollouts */
        int G = c->has_network && c->iter >= 1 ? c->G : 0;
        int n = c->M * (c->N + G);
        gpsc_task_spec_t *s = calloc((size_t)n + 1, sizeof *s);
        if (!s) return GPSC_ENOMEM;
        int j = 0;
        for (int m = 0; m < c->M; m++) {
            for (int i = 0; i < c->N; i++)
                s[j++] = (gpsc_task_spec_t){(uint32_t)m, (uint32_t)i, false, false, 0};
            for (int i = 0; i < G; i++)
                s[j++] =
                    (gpsc_task_spec_t){(uint32_t)m, GLOBAL_SAMPLE + (uint32_t)i, false, true, 1};
        }
        rc = gpsc_tasks_plan(c->tasks, (uint32_t)c->iter, s, n);
        free(s);
    }
    c->ready = -1;
    if (rc) return rc;
    int n = gpsc_tasks_size(c->tasks);
    c->n_planned += (uint64_t)n;
    if (n > c->captraj) {
        gpsc_wire_msg_t **t = realloc(c->traj, sizeof *t * (size_t)n);
        if (!t) return GPSC_ENOMEM;
        for (int i = c->captraj; i < n; i++)
            t[i] = NULL;
        c->traj = t;
        c->captraj = n;
    }
    c->t_plan = now_ms();
    c->reissued0 = gpsc_tasks_reissued(c->tasks);
    c->dup0 = gpsc_tasks_duplicates(c->tasks);
    c->rejected0 = c->rejected;
    return 0;
}

static void finish(gpsc_coord_t *c, int status, const char *reason);

/* what comes after policies of version `iter` are in: sampling, the
 * evaluation, or the end */
static void next_phase(gpsc_coord_t *c)
{
    if (c->finished) return;
    gpsc_log_set_iteration(c->iter);
    if (c->iter < c->K) {
        if (plan(c, false)) {
            finish(c, 1, "out of memory planning an iteration");
            return;
        }
        c->phase = PH_SAMPLING;
        if (c->learner >= 0)
            send_control(c, c->learner, GPSC__ITERATION_COMMAND__ITER_START, (uint32_t)c->iter, 0,
                         NULL);
        GPSC_LOG(GPSC_LOG_INFO, "iteration %d: sampling %d tasks on %d workers", c->iter,
                 gpsc_tasks_size(c->tasks), live_workers(c));
        emit(c, GPSC_COORD_EV_INFO, "iteration %d/%d: sampling %d x %d", c->iter + 1, c->K, c->M,
             c->N);
    } else if (c->eval && !c->eval_done) {
        if (plan(c, true)) {
            finish(c, 1, "out of memory planning the evaluation");
            return;
        }
        c->phase = PH_EVAL;
        GPSC_LOG(GPSC_LOG_INFO, "evaluation: %d tasks with the final policies",
                 gpsc_tasks_size(c->tasks));
        emit(c, GPSC_COORD_EV_INFO, "evaluating the final policies (%d rollouts)",
             gpsc_tasks_size(c->tasks));
    } else {
        finish(c, 0, "done");
        return;
    }
    dispatch(c);
}

/* ------------------------------------------------------------------ the learner */

/* a (re)connected learner learns where the run stands */
static void sync_learner(gpsc_coord_t *c)
{
    int li = c->learner;
    char path[PATH_MAX + 32], err[1024];
    checkpoint_path(c, path, sizeof path, c->iter);
    if (file_exists(path)) {
        gpsc_checkpoint_t *ck = NULL;
        int rc = gpsc_checkpoint_read(&ck, path, err, sizeof err);
        if (rc) {
            finish(c, 1, "cannot read the checkpoint to send to the learner");
            GPSC_LOG(GPSC_LOG_ERROR, "%s", err);
            return;
        }
        rc = send_peer(c, li, GPSC__ENVELOPE__BODY_CHECKPOINT, gpsc_checkpoint_get(ck));
        gpsc_checkpoint_destroy(&ck);
        if (rc) return;
    }
    send_control(c, li, GPSC__ITERATION_COMMAND__ITER_START, (uint32_t)c->iter, 0, NULL);
    if (c->phase == PH_SAMPLING || c->phase == PH_LEARNING) {
        /* the iteration's trajectories so far, again */
        for (int i = 0; i < gpsc_tasks_size(c->tasks) && c->learner == li; i++)
            if (c->traj[i] && gpsc_tasks_get(c->tasks, i)->priority == 0)
                (void)send_peer(c, li, GPSC__ENVELOPE__BODY_TRAJECTORY,
                                gpsc_wire_msg_env(c->traj[i])->trajectory);
        if (c->phase == PH_LEARNING && c->learner == li)
            send_control(c, li, GPSC__ITERATION_COMMAND__ITER_SAMPLES_COMPLETE, (uint32_t)c->iter,
                         (uint32_t)(c->M * c->N), NULL);
    }
}

static void drop_incoming(gpsc_coord_t *c)
{
    for (int m = 0; m < c->M; m++)
        gpsc_wire_msg_destroy(&c->in_lg[m]);
    gpsc_wire_msg_destroy(&c->in_net);
    gpsc_wire_msg_destroy(&c->in_metrics);
    gpsc_wire_msg_destroy(&c->in_ck);
}

/* policies of version v are all here */
static bool incoming_complete(const gpsc_coord_t *c, uint32_t v, char *why, size_t whysz)
{
    for (int m = 0; m < c->M; m++)
        if (!c->in_lg[m] || gpsc_wire_msg_env(c->in_lg[m])->lin_gauss_policy->version != v) {
            snprintf(why, whysz, "no local policy of condition %d version %u", m, v);
            return false;
        }
    if (c->has_network &&
        (!c->in_net || gpsc_wire_msg_env(c->in_net)->network_policy->version != v)) {
        snprintf(why, whysz, "no network version %u", v);
        return false;
    }
    return true;
}

static void install_policies(gpsc_coord_t *c, uint32_t v)
{
    for (int m = 0; m < c->M; m++) {
        gpsc_wire_msg_destroy(&c->lg[m]);
        c->lg[m] = c->in_lg[m];
        c->in_lg[m] = NULL;
    }
    gpsc_wire_msg_destroy(&c->net);
    c->net = c->in_net;
    c->in_net = NULL;
    c->have_policies = true;
    c->iter = (int)v;
}

/* checks and writes the checkpoint the learner sent for iteration v */
static int take_checkpoint(gpsc_coord_t *c, uint32_t v)
{
    char err[1024];
    const Gpsc__Checkpoint *ck = gpsc_wire_msg_env(c->in_ck)->checkpoint;
    if (ck->iteration != v || strcmp(ck->run_id, c->run_id) != 0 ||
        strcmp(ck->config_hash, c->hash) != 0) {
        GPSC_LOG(GPSC_LOG_ERROR,
                 "the learner's checkpoint is of iteration %u of run %s (config "
                 "%s), expected iteration %u of %s (%s)",
                 ck->iteration, ck->run_id, ck->config_hash, v, c->run_id, c->hash);
        return GPSC_ESTATE;
    }
    int rc = write_checkpoint(c, ck, err, sizeof err);
    if (rc)
        GPSC_LOG(GPSC_LOG_ERROR, "checkpoint of iteration %u not written: %s", v, err);
    else
        GPSC_LOG(GPSC_LOG_INFO, "wrote checkpoints/iter_%04u.pb (%zu bytes)", v,
                 gpsc_wire_msg_size(c->in_ck));
    return rc;
}

/* "global_cost_measured" (and _std) per condition and over conditions, from
 * the measurement rollouts: the same numbers, in the same order of
 * operations, as gpsc-solo's measure_global (mean and population std of
 * sum_t l over the rollouts that did not fail) */
static void add_measurements(gpsc_coord_t *c, cJSON *o)
{
    cJSON *cs = cJSON_GetObjectItem(o, "conditions");
    double gsum = 0;
    int gn = 0;
    for (int m = 0; cs && m < c->M; m++) {
        double sum = 0, sq = 0;
        int ok = 0, any = 0;
        for (uint32_t n = 0; n < (uint32_t)c->G; n++) {
            int idx = gpsc_tasks_find(c->tasks, (uint32_t)c->iter, (uint32_t)m, GLOBAL_SAMPLE + n);
            if (idx < 0) continue;
            any++;
            if (!c->traj[idx]) continue; /* failed: left out */
            const Gpsc__Trajectory *t = gpsc_wire_msg_env(c->traj[idx])->trajectory;
            double cost = 0;
            for (size_t i = 0; i < t->n_costs; i++)
                cost += t->costs[i];
            sum += cost;
            sq += cost * cost;
            ok++;
        }
        cJSON *x = cJSON_GetArrayItem(cs, m);
        if (!any || !ok || !x) continue;
        double mean = sum / ok, var = sq / ok - mean * mean;
        double sd = sqrt(var > 0 ? var : 0);
        if (!isfinite(mean)) continue;
        cJSON_AddNumberToObject(x, "global_cost_measured", mean);
        cJSON_AddNumberToObject(x, "global_cost_measured_std", sd);
        gsum += mean;
        gn++;
    }
    if (gn) cJSON_AddNumberToObject(o, "global_cost_measured", gsum / gn);
}

/* the metrics line of iteration k: the learner's numbers plus the cluster's */
static void write_metrics(gpsc_coord_t *c, int k, uint64_t now)
{
    const Gpsc__Metrics *mm = gpsc_wire_msg_env(c->in_metrics)->metrics;
    cJSON *o = cJSON_Parse(mm->json);
    if (!o || !cJSON_IsObject(o)) {
        GPSC_LOG(GPSC_LOG_WARN, "the learner's metrics of iteration %d are not a JSON object", k);
        cJSON_Delete(o);
        return;
    }
    cJSON *ms = cJSON_GetObjectItem(o, "ms");
    if (!ms) ms = cJSON_AddObjectToObject(o, "ms");
    if (ms) {
        cJSON_AddNumberToObject(ms, "sampling", (double)(c->t_complete - c->t_plan));
        cJSON_AddNumberToObject(ms, "learning", (double)(now - c->t_complete));
        cJSON_AddNumberToObject(ms, "iteration", (double)(now - c->t_plan));
    }
    add_measurements(c, o);
    cJSON *cl = cJSON_AddObjectToObject(o, "cluster");
    if (cl) {
        cJSON_AddNumberToObject(cl, "workers", live_workers(c));
        cJSON_AddNumberToObject(cl, "reissued",
                                (double)(gpsc_tasks_reissued(c->tasks) - c->reissued0));
        cJSON_AddNumberToObject(cl, "duplicates",
                                (double)(gpsc_tasks_duplicates(c->tasks) - c->dup0));
        cJSON_AddNumberToObject(cl, "rejected", (double)(c->rejected - c->rejected0));
    }
    take_metrics_json(c, o);
    char *line = cJSON_PrintUnformatted(o);
    if (line && c->metrics) {
        fprintf(c->metrics, "%s\n", line);
        fflush(c->metrics);
    }
    /* published for gpsc watch */
    if (line) {
        Gpsc__Metrics pm = GPSC__METRICS__INIT;
        pm.iteration = (uint32_t)k;
        pm.json = line;
        Gpsc__Envelope env;
        env_init(c, &env, GPSC__ENVELOPE__BODY_METRICS, &pm);
        gpsc_wire_head_t topic;
        gpsc_wire_head_str(&topic, "metrics");
        (void)gpsc_wire_send(c->pub, &topic, &env, GPSC_WIRE_DONTWAIT);
    }
    /* one line for the front end, as gpsc-solo prints it */
    char text[1024];
    int n = snprintf(text, sizeof text, "iter %2d/%d  cost %10.4g [", k + 1, c->K,
                     cJSON_GetNumberValue(cJSON_GetObjectItem(o, "sample_cost")));
    double kl = 0, klt = 0, eta = 0, sm = 0;
    int M = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(o, "conditions"))
    {
        if (n < (int)sizeof text - 32)
            n += snprintf(text + n, sizeof text - (size_t)n, "%s%.4g", M ? " " : "",
                          cJSON_GetNumberValue(cJSON_GetObjectItem(e, "sample_cost")));
        kl += cJSON_GetNumberValue(cJSON_GetObjectItem(e, "kl"));
        klt += cJSON_GetNumberValue(cJSON_GetObjectItem(e, "kl_target"));
        eta += cJSON_GetNumberValue(cJSON_GetObjectItem(e, "eta"));
        sm += cJSON_GetNumberValue(cJSON_GetObjectItem(e, "step_mult"));
        M++;
    }
    if (M == 0) M = 1;
    const cJSON *succ = cJSON_GetObjectItem(o, "successes");
    char stext[64] = "";
    if (cJSON_IsNumber(succ) && succ->valueint >= 0)
        snprintf(stext, sizeof stext, "  succ %d/%d", succ->valueint, c->M * c->N);
    if (n < (int)sizeof text)
        snprintf(text + n, sizeof text - (size_t)n,
                 "]  kl %.3g/%.3g  eta %.3g  step %.3g%s  (%.2f s: sample %.2f, learn %.2f; "
                 "%d worker%s)",
                 kl / M, klt / M, eta / M, sm / M, stext, (double)(now - c->t_plan) / 1000.0,
                 (double)(c->t_complete - c->t_plan) / 1000.0,
                 (double)(now - c->t_complete) / 1000.0, live_workers(c),
                 live_workers(c) == 1 ? "" : "s");
    free(line);
    cJSON_Delete(o);
    GPSC_LOG(GPSC_LOG_INFO, "%s", text);
    emit(c, GPSC_COORD_EV_ITERATION, "%s", text);
}

/* the learner's results of `iter` are in and so are the measurement
 * rollouts: metrics, checkpoint, the next iteration */
static void advance(gpsc_coord_t *c)
{
    if (c->phase != PH_LEARNING || c->ready != c->iter + 1 || !gpsc_tasks_all_done(c->tasks))
        return;
    uint32_t v = (uint32_t)c->ready;
    c->ready = -1;
    /* metrics first: a crash between the two leaves a line that a resume drops */
    write_metrics(c, c->iter, now_ms());
    if (take_checkpoint(c, v) != 0) {
        drop_incoming(c);
        finish(c, 1, "cannot write a checkpoint");
        return;
    }
    install_policies(c, v);
    drop_incoming(c);
    next_phase(c);
}

static void policies_ready(gpsc_coord_t *c, uint32_t v)
{
    char why[256] = "";
    if (c->phase == PH_WAIT && (int)v == c->iter) {
        if (!incoming_complete(c, v, why, sizeof why)) {
            drop_incoming(c);
            finish(c, 1, "the learner announced incomplete policies");
            GPSC_LOG(GPSC_LOG_ERROR, "POLICIES_READY(%u): %s", v, why);
            return;
        }
        /* a fresh run: the initial state is checkpoint 0 */
        if (c->in_ck && take_checkpoint(c, v) != 0) {
            drop_incoming(c);
            finish(c, 1, "cannot write the initial checkpoint");
            return;
        }
        install_policies(c, v);
        drop_incoming(c);
        next_phase(c);
        return;
    }
    if (c->phase == PH_LEARNING && (int)v == c->iter + 1) {
        bool ok = incoming_complete(c, v, why, sizeof why);
        if (ok && (!c->in_metrics || !c->in_ck)) {
            snprintf(why, sizeof why, "no %s", !c->in_metrics ? "metrics" : "checkpoint");
            ok = false;
        }
        if (!ok) {
            GPSC_LOG(GPSC_LOG_ERROR, "POLICIES_READY(%u): %s", v, why);
            drop_incoming(c);
            finish(c, 1, "the learner's results of an iteration are incomplete");
            return;
        }
        c->ready = (int)v;
        advance(c);
        return;
    }
    if ((int)v == c->iter && c->have_policies) {
        drop_incoming(c); /* the same version again, after a reconnect */
        return;
    }
    GPSC_LOG(GPSC_LOG_WARN, "ignored POLICIES_READY(%u) at iteration %d", v, c->iter);
    drop_incoming(c);
}

/* a message on the learner socket from the live learner */
static void learner_message(gpsc_coord_t *c, int pi, gpsc_wire_msg_t **mp)
{
    const Gpsc__Envelope *env = gpsc_wire_msg_env(*mp);
    switch (env->body_case) {
    case GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY: {
        uint32_t m = env->lin_gauss_policy->condition;
        const gpsc_exp_dims_t *d = &c->exp.dims;
        if ((int)m >= c->M || (int)env->lin_gauss_policy->t != c->exp.T ||
            (int)env->lin_gauss_policy->dx != d->dX || (int)env->lin_gauss_policy->du != d->dU) {
            refused(c, "local policy of condition %u from learner %s: does not fit the run", m,
                    c->peers[pi].id);
            return;
        }
        gpsc_wire_msg_destroy(&c->in_lg[m]);
        c->in_lg[m] = *mp;
        *mp = NULL;
        return;
    }
    case GPSC__ENVELOPE__BODY_NETWORK_POLICY:
        if ((int)env->network_policy->do_ != c->exp.dims.dO ||
            (int)env->network_policy->du != c->exp.dims.dU) {
            refused(c, "network from learner %s: does not fit the run", c->peers[pi].id);
            return;
        }
        gpsc_wire_msg_destroy(&c->in_net);
        c->in_net = *mp;
        *mp = NULL;
        return;
    case GPSC__ENVELOPE__BODY_METRICS:
        gpsc_wire_msg_destroy(&c->in_metrics);
        c->in_metrics = *mp;
        *mp = NULL;
        return;
    case GPSC__ENVELOPE__BODY_CHECKPOINT:
        gpsc_wire_msg_destroy(&c->in_ck);
        c->in_ck = *mp;
        *mp = NULL;
        return;
    case GPSC__ENVELOPE__BODY_ITERATION_CONTROL: {
        const Gpsc__IterationControl *ic = env->iteration_control;
        if (ic->command == GPSC__ITERATION_COMMAND__ITER_POLICIES_READY) {
            policies_ready(c, ic->iteration);
        } else if (ic->command == GPSC__ITERATION_COMMAND__ITER_SHUTDOWN) {
            char why[600];
            snprintf(why, sizeof why, "the learner failed: %s", ic->reason);
            GPSC_LOG(GPSC_LOG_ERROR, "%s", why);
            finish(c, 1, why);
        } else {
            refused(c, "iteration command %d from learner %s", (int)ic->command, c->peers[pi].id);
        }
        return;
    }
    default:
        refused(c, "%s from learner %s: not accepted from a learner",
                gpsc_wire_body_name(env->body_case), c->peers[pi].id);
        send_refuse(c, SOCK_LEARNER, &c->peers[pi].head, GPSC__REFUSE_REASON__REFUSE_ROLE,
                    GPSC_ETYPE, "message type not accepted from a learner");
        return;
    }
}

/* ------------------------------------------------------------------ workers */

static void send_ack(gpsc_coord_t *c, int pi, const Gpsc__TaskKey *key, Gpsc__AckStatus st,
                     int code, const char *detail)
{
    Gpsc__TaskKey k = GPSC__TASK_KEY__INIT;
    k.iteration = key->iteration;
    k.condition = key->condition;
    k.sample_index = key->sample_index;
    Gpsc__TrajectoryAck a = GPSC__TRAJECTORY_ACK__INIT;
    a.key = &k;
    a.status = st;
    a.error_code = code;
    a.detail = (char *)(detail ? detail : "");
    (void)send_peer(c, pi, GPSC__ENVELOPE__BODY_TRAJECTORY_ACK, &a);
}

/* the evaluation round is in: the summary's final numbers */
static void evaluate(gpsc_coord_t *c)
{
    const gpsc_experiment_t *e = &c->exp;
    int p = e->success.metric == GPSC_EXP_METRIC_FINAL_EE_DISTANCE ||
                    e->success.metric == GPSC_EXP_METRIC_MIN_EE_DISTANCE
                ? e->success.point
                : 0;
    char err[256];
    for (int m = 0; m < c->M; m++) {
        cond_sum_t *s = &c->sum[m];
        s->eval_cost = 0;
        s->eval_dist = 0;
        s->eval_succ = 0;
        for (int i = 0; i <= c->N; i++) {
            int idx = gpsc_tasks_find(c->tasks, (uint32_t)c->iter, (uint32_t)m, (uint32_t)i);
            if (idx < 0 || !c->traj[idx]) continue;
            gpsc_sample_t *smp = gpsc_trajmsg_to_sample(gpsc_wire_msg_env(c->traj[idx])->trajectory,
                                                        err, sizeof err);
            if (!smp) continue;
            const gpsc_exp_condition_t *cd = gpsc_experiment_condition(e, m);
            if (smp->P > 0 && cd && cd->target.n == smp->P)
                memcpy(smp->target, cd->target.v, sizeof(double) * (size_t)smp->P);
            double cost = 0, v;
            for (size_t j = 0; j < (size_t)smp->T * (size_t)smp->dC; j++)
                cost += smp->costs[j];
            double dist = smp->P ? gpsc_rollout_ee_distance(smp, smp->T - 1, p) : NAN;
            int ok = gpsc_rollout_success(e, smp, &v) == 1;
            if (i < c->N) {
                s->eval_cost += cost / c->N;
                s->eval_dist += dist / c->N;
                s->eval_succ += ok;
            } else {
                s->mean_dist = dist;
                s->mean_succ = ok;
            }
            gpsc_sample_destroy(&smp);
        }
    }
    c->eval_done = true;
}

static void samples_complete(gpsc_coord_t *c)
{
    c->t_complete = now_ms();
    int n = gpsc_tasks_size(c->tasks);
    if (c->phase == PH_EVAL) {
        evaluate(c);
        GPSC_LOG(GPSC_LOG_INFO, "evaluation done (%d rollouts in %.2f s)", n,
                 (double)(c->t_complete - c->t_plan) / 1000.0);
        finish(c, 0, "done");
        return;
    }
    c->phase = PH_LEARNING;
    n = c->M * c->N;
    GPSC_LOG(GPSC_LOG_INFO, "iteration %d: all %d samples in after %.2f s; learning", c->iter, n,
             (double)(c->t_complete - c->t_plan) / 1000.0);
    if (c->learner >= 0)
        send_control(c, c->learner, GPSC__ITERATION_COMMAND__ITER_SAMPLES_COMPLETE,
                     (uint32_t)c->iter, (uint32_t)n, NULL);
}

/* a task is DONE: the training samples may be complete, or everything */
static void task_done(gpsc_coord_t *c)
{
    if (c->phase == PH_SAMPLING && gpsc_tasks_remaining(c->tasks, 0) == 0)
        samples_complete(c);
    else if (c->phase == PH_EVAL && gpsc_tasks_all_done(c->tasks))
        samples_complete(c);
    else if (c->phase == PH_LEARNING)
        advance(c);
}

/* a result that cannot be used: the task goes back (or the run ends) */
static void task_failed(gpsc_coord_t *c, int pi, int idx, const char *what)
{
    int f = gpsc_tasks_fail(c->tasks, idx, pi);
    const gpsc_task_t *t = gpsc_tasks_get(c->tasks, idx);
    if (f >= c->max_failures) {
        char why[600];
        snprintf(why, sizeof why, "task (%u, %u, %u) failed %d times; last: %s", t->iteration,
                 t->condition, t->sample, f, what);
        GPSC_LOG(GPSC_LOG_ERROR, "%s", why);
        finish(c, 1, why);
    }
}

/* a trajectory from worker pi */
static void take_trajectory(gpsc_coord_t *c, int pi, gpsc_wire_msg_t **mp)
{
    cpeer_t *p = &c->peers[pi];
    const Gpsc__Trajectory *t = gpsc_wire_msg_env(*mp)->trajectory;
    const Gpsc__TaskKey *k = t->key;
    int idx = c->phase == PH_SAMPLING || c->phase == PH_LEARNING || c->phase == PH_EVAL
                  ? gpsc_tasks_find(c->tasks, k->iteration, k->condition, k->sample_index)
                  : GPSC_ESTATE;
    if (idx < 0) {
        c->n_stale++;
        GPSC_LOG(GPSC_LOG_INFO, "dropped stale trajectory (%u, %u, %u) from %s (attempt %u)",
                 k->iteration, k->condition, k->sample_index, p->id, t->attempt);
        send_ack(c, pi, k, GPSC__ACK_STATUS__ACK_STALE, 0, "not a task of the current plan");
        return;
    }
    const gpsc_task_t *task = gpsc_tasks_get(c->tasks, idx);
    if (task->state == GPSC_TASK_DONE) {
        (void)gpsc_tasks_complete(c->tasks, idx, pi); /* counts the duplicate */
        p->duplicates++;
        GPSC_LOG(GPSC_LOG_INFO,
                 "dropped duplicate trajectory (%u, %u, %u) from %s (attempt %u); "
                 "the first came from %s",
                 k->iteration, k->condition, k->sample_index, p->id, t->attempt,
                 c->peers[task->peer].id);
        send_ack(c, pi, k, GPSC__ACK_STATUS__ACK_DUPLICATE, GPSC_EDUP, NULL);
        return;
    }
    if (t->status != GPSC__TRAJECTORY_STATUS__TRAJ_OK && task->priority > 0 &&
        (t->error_code == GPSC_ESIM || t->error_code == GPSC_ENONFINITE)) {
        /* a measurement rollout whose simulation failed is left out of the mean
         * (gpsc-solo too): it is deterministic, running it again would fail again */
        p->failed++;
        c->n_failed++;
        c->n_stored++;
        GPSC_LOG(GPSC_LOG_INFO, "measurement rollout (%u, %u, %u) failed on %s: %s", k->iteration,
                 k->condition, k->sample_index, p->id, t->failed_reason);
        (void)gpsc_tasks_complete(c->tasks, idx, pi);
        send_ack(c, pi, k, GPSC__ACK_STATUS__ACK_STORED, t->error_code, "failed; left out");
        task_done(c);
        return;
    }
    if (t->status != GPSC__TRAJECTORY_STATUS__TRAJ_OK) {
        p->failed++;
        c->n_failed++;
        GPSC_LOG(GPSC_LOG_WARN, "task (%u, %u, %u) failed on %s: %s (%s)", k->iteration,
                 k->condition, k->sample_index, p->id, t->failed_reason,
                 gpsc_errname(t->error_code));
        send_ack(c, pi, k, GPSC__ACK_STATUS__ACK_REJECTED, t->error_code, "rollout failed");
        task_failed(c, pi, idx, t->failed_reason);
        return;
    }
    /* the data must fit the run: dims, the policy the task named */
    const gpsc_exp_dims_t *d = &c->exp.dims;
    char why[256] = "";
    Gpsc__PolicyKind kind = task->global || c->global_sampling ? GPSC__POLICY_KIND__POLICY_GLOBAL
                                                               : GPSC__POLICY_KIND__POLICY_LOCAL;
    if ((int)t->t != c->exp.T || (int)t->dx != d->dX || (int)t->du != d->dU ||
        (int)t->do_ != d->dO || (int)t->p != d->P || (int)t->dq != d->dQ)
        snprintf(why, sizeof why,
                 "dimensions T %u dX %u dU %u dO %u P %u dQ %u, the run has "
                 "%d %d %d %d %d %d",
                 t->t, t->dx, t->du, t->do_, t->p, t->dq, c->exp.T, d->dX, d->dU, d->dO, d->P,
                 d->dQ);
    else if ((int)t->dc != c->exp.n_costs)
        snprintf(why, sizeof why, "%u cost terms, the run has %d", t->dc, c->exp.n_costs);
    else if (t->policy_kind != kind || (int)t->policy_version != c->iter)
        snprintf(why, sizeof why,
                 "rolled out with policy %s version %u, the task named %s "
                 "version %d",
                 t->policy_kind == GPSC__POLICY_KIND__POLICY_GLOBAL ? "global" : "local",
                 t->policy_version, kind == GPSC__POLICY_KIND__POLICY_GLOBAL ? "global" : "local",
                 c->iter);
    if (why[0]) {
        p->rejected++;
        c->rejected++;
        refused(c, "trajectory (%u, %u, %u) from %s: %s; task re-issued", k->iteration,
                k->condition, k->sample_index, p->id, why);
        send_ack(c, pi, k, GPSC__ACK_STATUS__ACK_REJECTED, GPSC_EDIM, why);
        task_failed(c, pi, idx, why);
        return;
    }
    /* the first valid result: stored, acked, relayed */
    (void)gpsc_tasks_complete(c->tasks, idx, pi);
    p->stored++;
    c->n_stored++;
    GPSC_LOG(GPSC_LOG_DEBUG, "stored trajectory (%u, %u, %u) from %s (attempt %u)", k->iteration,
             k->condition, k->sample_index, p->id, t->attempt);
    c->traj[idx] = *mp;
    *mp = NULL;
    send_ack(c, pi, k, GPSC__ACK_STATUS__ACK_STORED, 0, NULL);
    if (c->phase == PH_SAMPLING && task->priority == 0 && c->learner >= 0)
        (void)send_peer(c, c->learner, GPSC__ENVELOPE__BODY_TRAJECTORY, t);
    emit(c, GPSC_COORD_EV_PROGRESS, "trajectory (%u, %u, %u) from %s", k->iteration, k->condition,
         k->sample_index, p->id);
    task_done(c);
}

static void policy_request(gpsc_coord_t *c, int pi, const Gpsc__PolicyRequest *r)
{
    const Gpsc__PolicyVersion *v = r->policy;
    const gpsc_wire_msg_t *m = NULL;
    if (c->have_policies && (int)v->version == c->iter) {
        if (v->kind == GPSC__POLICY_KIND__POLICY_LOCAL && (int)v->condition < c->M)
            m = c->lg[v->condition];
        else if (v->kind == GPSC__POLICY_KIND__POLICY_GLOBAL)
            m = c->net;
    }
    if (!m) {
        char detail[256];
        snprintf(detail, sizeof detail,
                 "policy %s/%u version %u is not available (current "
                 "version %d)",
                 v->kind == GPSC__POLICY_KIND__POLICY_GLOBAL ? "global" : "local", v->condition,
                 v->version, c->have_policies ? c->iter : -1);
        GPSC_LOG(GPSC_LOG_DEBUG, "%s asked for %s", c->peers[pi].id, detail);
        send_refuse(c, SOCK_CONTROL, &c->peers[pi].head, GPSC__REFUSE_REASON__REFUSE_OTHER,
                    GPSC_ENOENT, detail);
        return;
    }
    const Gpsc__Envelope *e = gpsc_wire_msg_env(m);
    (void)send_peer(c, pi, e->body_case, e->hello);
}

/* a message on the control socket from live worker pi */
static void worker_message(gpsc_coord_t *c, int pi, gpsc_wire_msg_t **mp)
{
    const Gpsc__Envelope *env = gpsc_wire_msg_env(*mp);
    cpeer_t *p = &c->peers[pi];
    switch (env->body_case) {
    case GPSC__ENVELOPE__BODY_WORK_REQUEST: {
        uint64_t cr = (uint64_t)p->credit + env->work_request->credit;
        p->credit = cr > GPSC_WIRE_MAX_CREDIT ? GPSC_WIRE_MAX_CREDIT : (uint32_t)cr;
        dispatch(c);
        return;
    }
    case GPSC__ENVELOPE__BODY_TRAJECTORY:
        take_trajectory(c, pi, mp);
        return;
    case GPSC__ENVELOPE__BODY_POLICY_REQUEST:
        policy_request(c, pi, env->policy_request);
        return;
    default:
        refused(c, "%s from worker %s: not accepted from a worker",
                gpsc_wire_body_name(env->body_case), p->id);
        send_refuse(c, SOCK_CONTROL, &p->head, GPSC__REFUSE_REASON__REFUSE_ROLE, GPSC_ETYPE,
                    "message type not accepted from a worker");
        return;
    }
}

/* ------------------------------------------------------------------ hello */

static void hello(gpsc_coord_t *c, int sock, const gpsc_wire_head_t *head,
                  const Gpsc__Envelope *env)
{
    const Gpsc__Hello *h = env->hello;
    char id[GPSC_WIRE_MAX_ID + 1], detail[512] = "";
    head_text(id, sizeof id, head);
    Gpsc__RefuseReason reason = GPSC__REFUSE_REASON__REFUSE_OTHER;
    int code = 0;
    Gpsc__Role want = sock == SOCK_CONTROL ? GPSC__ROLE__ROLE_WORKER : GPSC__ROLE__ROLE_LEARNER;
    int pi = find_peer(c, sock, head);
    if (c->finished) {
        reason = GPSC__REFUSE_REASON__REFUSE_SHUTTING_DOWN;
        snprintf(detail, sizeof detail, "the run has ended");
    } else if (h->role != want) {
        reason = GPSC__REFUSE_REASON__REFUSE_ROLE;
        code = GPSC_EROLE;
        snprintf(detail, sizeof detail, "a %s cannot join on the %s endpoint",
                 gpsc_wire_role_name(h->role), sock == SOCK_CONTROL ? "control" : "learner");
    } else if (h->run_id && h->run_id[0] && strcmp(h->run_id, c->run_id) != 0) {
        reason = GPSC__REFUSE_REASON__REFUSE_RUN;
        code = GPSC_ESTATE;
        snprintf(detail, sizeof detail, "this coordinator runs %s, not %s", c->run_id, h->run_id);
    } else if (want == GPSC__ROLE__ROLE_WORKER) {
        const Gpsc__Capabilities *k = h->capabilities;
        const gpsc_exp_dims_t *d = &c->exp.dims;
        reason = GPSC__REFUSE_REASON__REFUSE_TASK;
        code = GPSC_ECONFIG;
        if (strcmp(h->task_name, c->exp.name) != 0)
            snprintf(detail, sizeof detail, "task '%s', the run's is '%s'", h->task_name,
                     c->exp.name);
        else if (strcmp(h->model_hash, c->model_hash) != 0)
            snprintf(detail, sizeof detail, "model %s, the run's is %s", h->model_hash,
                     c->model_hash);
        else if ((int)k->dx != d->dX || (int)k->du != d->dU || (int)k->do_ != d->dO ||
                 (int)k->p != d->P || (int)k->dq != d->dQ)
            snprintf(detail, sizeof detail,
                     "dimensions dX %u dU %u dO %u P %u dQ %u, the "
                     "run's are %d %d %d %d %d",
                     k->dx, k->du, k->do_, k->p, k->dq, d->dX, d->dU, d->dO, d->P, d->dQ);
    } else if (c->learner >= 0 && c->learner != pi) {
        reason = GPSC__REFUSE_REASON__REFUSE_FULL;
        code = GPSC_ESTATE;
        snprintf(detail, sizeof detail, "learner %s is already connected", c->peers[c->learner].id);
    }
    if (detail[0]) {
        refused(c, "hello from %s %s: %s", gpsc_wire_role_name(h->role), id, detail);
        send_refuse(c, sock, head, reason, code, detail);
        return;
    }

    /* a new peer, or one that came back (it forgot whatever it held) */
    if (pi < 0) {
        if (c->npeers == c->cappeers) {
            int cap = c->cappeers ? 2 * c->cappeers : 16;
            cpeer_t *np = realloc(c->peers, sizeof *np * (size_t)cap);
            if (!np) {
                GPSC_LOG(GPSC_LOG_ERROR, "out of memory for peer %s", id);
                return;
            }
            c->peers = np;
            c->cappeers = cap;
        }
        pi = c->npeers++;
        memset(&c->peers[pi], 0, sizeof c->peers[pi]);
        c->peers[pi].sock = sock;
        c->peers[pi].head = *head;
        snprintf(c->peers[pi].id, sizeof c->peers[pi].id, "%s", id);
    } else if (c->peers[pi].alive && want == GPSC__ROLE__ROLE_WORKER) {
        int n = gpsc_tasks_peer_lost(c->tasks, pi);
        if (n)
            GPSC_LOG(GPSC_LOG_INFO, "worker %s said hello again; %d task%s re-issued", id, n,
                     n == 1 ? "" : "s");
    }
    cpeer_t *p = &c->peers[pi];
    p->role = want;
    p->alive = true;
    p->credit = 0;
    p->last_rx_ms = now_ms();
    p->last_hb_ms = p->last_rx_ms;
    p->pid = h->pid;
    p->slots = h->capabilities ? h->capabilities->slots : 0;
    snprintf(p->host, sizeof p->host, "%s", h->hostname ? h->hostname : "");

    Gpsc__Welcome w = GPSC__WELCOME__INIT;
    w.run_id = c->run_id;
    w.peer_index = (uint32_t)pi;
    w.heartbeat_interval_ms = (uint32_t)c->hb_ms;
    w.heartbeat_timeout_ms = (uint32_t)c->timeout_ms;
    w.log_endpoint = c->ep[GPSC_COORD_EP_LOG];
    w.run_seed = c->seed;
    w.config_hash = c->hash;
    w.config_yaml = c->config_yaml;
    if (send_peer(c, pi, GPSC__ENVELOPE__BODY_WELCOME, &w) != 0) return;
    if (want == GPSC__ROLE__ROLE_WORKER) {
        c->n_joined++;
        GPSC_LOG(GPSC_LOG_INFO, "worker %s joined (host %s, pid %u, %u slot%s)", p->id, p->host,
                 p->pid, p->slots, p->slots == 1 ? "" : "s");
        emit(c, GPSC_COORD_EV_INFO, "worker %s joined (%d live)", p->id, live_workers(c));
    } else {
        c->learner = pi;
        drop_incoming(c); /* half an answer of a learner that is gone */
        c->ready = -1;
        GPSC_LOG(GPSC_LOG_INFO, "learner %s joined (host %s, pid %u)", p->id, p->host, p->pid);
        emit(c, GPSC_COORD_EV_INFO, "learner %s joined", p->id);
        sync_learner(c);
    }
}

/* ------------------------------------------------------------------ receiving */

/* a message that did not decode: logged, answered, the sender's tasks re-issued */
static void bad_message(gpsc_coord_t *c, int sock, const gpsc_wire_head_t *from, int rc,
                        const char *err)
{
    char id[GPSC_WIRE_MAX_ID + 1];
    head_text(id, sizeof id, from);
    refused(c, "message from %s on the %s endpoint: %s (%s)", id,
            sock == SOCK_CONTROL ? "control" : "learner", err, gpsc_errname(rc));
    send_refuse(c, sock, from,
                rc == GPSC_EVERSION ? GPSC__REFUSE_REASON__REFUSE_VERSION
                                    : GPSC__REFUSE_REASON__REFUSE_MALFORMED,
                rc, err);
    int pi = from->len ? find_peer(c, sock, from) : -1;
    if (pi >= 0 && c->peers[pi].alive && c->peers[pi].role == GPSC__ROLE__ROLE_WORKER) {
        /* it may have been a trajectory: whatever this worker holds is done again elsewhere
         * too (the first valid copy wins) */
        c->peers[pi].rejected++;
        c->rejected++;
        int n = gpsc_tasks_peer_lost(c->tasks, pi);
        if (n) GPSC_LOG(GPSC_LOG_INFO, "%d task%s held by %s re-issued", n, n == 1 ? "" : "s", id);
    }
}

static void message(gpsc_coord_t *c, int sock, gpsc_wire_msg_t **mp)
{
    const Gpsc__Envelope *env = gpsc_wire_msg_env(*mp);
    const gpsc_wire_head_t *head = gpsc_wire_msg_head(*mp);
    char id[GPSC_WIRE_MAX_ID + 1];
    head_text(id, sizeof id, head);
    if (sock == SOCK_CONTROL && gpsc_wire_msg_size(*mp) > CONTROL_LIMIT) {
        char detail[160];
        snprintf(detail, sizeof detail, "a %s of %zu bytes, more than the limit of %zu",
                 gpsc_wire_body_name(env->body_case), gpsc_wire_msg_size(*mp),
                 (size_t)CONTROL_LIMIT);
        gpsc_wire_head_t h = *head;
        bad_message(c, sock, &h, GPSC_ETOOBIG, detail);
        return;
    }
    /* the envelope's sender must be the connection's identity */
    if (strlen(env->sender_id) != head->len || memcmp(env->sender_id, head->data, head->len)) {
        refused(c, "%s from %s: sender_id '%s' is not its routing id",
                gpsc_wire_body_name(env->body_case), id, env->sender_id);
        send_refuse(c, sock, head, GPSC__REFUSE_REASON__REFUSE_MALFORMED, GPSC_EMALFORMED,
                    "sender_id must equal the socket's routing id");
        return;
    }
    if (env->body_case == GPSC__ENVELOPE__BODY_HELLO) {
        hello(c, sock, head, env);
        return;
    }
    int pi = find_peer(c, sock, head);
    if (pi < 0 || !c->peers[pi].alive) {
        refused(c, "%s from unknown peer %s", gpsc_wire_body_name(env->body_case), id);
        send_refuse(c, sock, head, GPSC__REFUSE_REASON__REFUSE_OTHER, GPSC_EUNKNOWN_PEER,
                    "unknown peer: say hello first");
        return;
    }
    cpeer_t *p = &c->peers[pi];
    p->last_rx_ms = now_ms();
    if (env->body_case == GPSC__ENVELOPE__BODY_HEARTBEAT) return;
    if (env->body_case == GPSC__ENVELOPE__BODY_LOG_RECORD) {
        take_record(c, p, env);
        return;
    }
    if (p->role == GPSC__ROLE__ROLE_LEARNER)
        learner_message(c, pi, mp);
    else
        worker_message(c, pi, mp);
}

/* receives until neither ROUTER has anything (ZMQ_FD is edge-triggered:
 * after every wake-up and every send, read until the events say empty) */
static void drain(gpsc_coord_t *c)
{
    char err[1024];
    for (int round = 0; round < DRAIN_MAX && !c->closing; round++) {
        bool any = false;
        for (int s = 0; s < 2 && !c->closing; s++) {
            int ev = gpsc_wire_events(c->sock[s]);
            if (ev < 0 || !(ev & GPSC_WIRE_IN)) continue;
            gpsc_wire_msg_t *m = NULL;
            gpsc_wire_head_t from = {0};
            err[0] = '\0';
            int rc = gpsc_wire_recv(c->sock[s], &m, &from, GPSC_WIRE_DONTWAIT, err, sizeof err);
            if (rc == GPSC_EAGAIN) continue;
            any = true;
            if (rc)
                bad_message(c, s, &from, rc, err);
            else
                message(c, s, &m);
            gpsc_wire_msg_destroy(&m);
        }
        if (!any) break;
    }
}

/* ------------------------------------------------------------------ the tick */

/* CURVE: peers refused at the handshake (a key not on the allow-list, no
 * CURVE, the wrong server key) never reach us as messages; the monitors
 * see them. A refused client retries every few hundred ms, so the log gets
 * one line at once and then at most one every 5 s, counting each kind. */
static void watch_handshakes(gpsc_coord_t *c, uint64_t now, bool flush)
{
    char what[320];
    int kind;
    for (int i = 0; i < 3; i++)
        while (c->mon[i] && (kind = gpsc_wire_monitor_next(c->mon[i], what, sizeof what)) > 0) {
            c->hs_count[kind < 5 ? kind : 4]++;
            c->hs_pending++;
            snprintf(c->hs_last, sizeof c->hs_last, "%s", what);
        }
    if (c->hs_pending == 0 || (!flush && c->hs_logged_ms > 0 && now - c->hs_logged_ms < 5000))
        return;
    static const char *what_kind[5] = {"", "with a key not on the allow-list", "without CURVE keys",
                                       "with the wrong server key", "other"};
    char kinds[400] = "", denied[200] = "";
    size_t n = 0;
    for (int k = 1; k < 5; k++)
        if (c->hs_count[k] && n < sizeof kinds)
            n += (size_t)snprintf(kinds + n, sizeof kinds - n, "%s%llu %s", n ? ", " : "",
                                  (unsigned long long)c->hs_count[k], what_kind[k]);
    if (c->hs_count[GPSC_WIRE_HS_DENIED] &&
        gpsc_wire_zap_last_denied(c->zap, denied, sizeof denied) == 0)
        denied[0] = '\0';
    GPSC_LOG(GPSC_LOG_WARN,
             "refused: %llu connection%s failed the CURVE handshake: %s (last: %s%s%s)",
             (unsigned long long)c->hs_pending, c->hs_pending == 1 ? "" : "s", kinds, c->hs_last,
             denied[0] ? "; last key denied: " : "", denied);
    memset(c->hs_count, 0, sizeof c->hs_count);
    c->hs_pending = 0;
    c->hs_logged_ms = now;
}

static void tick(gpsc_coord_t *c)
{
    uint64_t now = now_ms();
    watch_handshakes(c, now, false);
    if (now - c->status_ms >= 1000) publish_progress(c, -1, NULL); /* gpsc watch: alive */
    for (int i = 0; i < c->npeers; i++) {
        cpeer_t *p = &c->peers[i];
        if (!p->alive) continue;
        if (now - p->last_rx_ms > c->timeout_ms) {
            char why[96];
            snprintf(why, sizeof why, "silent for %.1f s", (double)(now - p->last_rx_ms) / 1e3);
            peer_lost(c, i, why);
            continue;
        }
        if (now - p->last_hb_ms >= c->hb_ms) {
            p->last_hb_ms = now;
            Gpsc__Heartbeat hb = GPSC__HEARTBEAT__INIT;
            hb.iteration = (uint32_t)c->iter;
            (void)send_peer(c, i, GPSC__ENVELOPE__BODY_HEARTBEAT, &hb);
        }
    }
    int first;
    int n = gpsc_tasks_expire(c->tasks, now, &first);
    if (n > 0) {
        const gpsc_task_t *t = gpsc_tasks_get(c->tasks, first);
        GPSC_LOG(GPSC_LOG_WARN,
                 "%d task%s timed out after %.1f s (first (%u, %u, %u)); "
                 "re-issued",
                 n, n == 1 ? "" : "s", (double)c->task_timeout_ms / 1e3, t->iteration, t->condition,
                 t->sample);
    }
    dispatch(c);
}

static void on_close(uv_handle_t *h)
{
    gpsc_coord_t *c = h->data;
    c->handles--;
}

static void close_handles(gpsc_coord_t *c)
{
    if (c->closing) return;
    c->closing = true;
    for (int i = 0; i < 2; i++)
        if (c->poll[i].data && !uv_is_closing((uv_handle_t *)&c->poll[i]))
            uv_close((uv_handle_t *)&c->poll[i], on_close);
    if (c->tick.data && !uv_is_closing((uv_handle_t *)&c->tick))
        uv_close((uv_handle_t *)&c->tick, on_close);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    gpsc_coord_t *c = h->data;
    drain(c);
}

static void on_tick(uv_timer_t *t)
{
    gpsc_coord_t *c = t->data;
    drain(c);
    if (!c->closing) tick(c);
    drain(c);
}

/* ------------------------------------------------------------------ the end */

static void finish(gpsc_coord_t *c, int status, const char *reason)
{
    if (c->finished) return;
    c->finished = true;
    watch_handshakes(c, now_ms(), true); /* refusals not yet logged */
    c->status = status;
    snprintf(c->reason, sizeof c->reason, "%s", reason ? reason : "");
    c->phase = PH_DONE;
    /* every peer ever welcomed: one declared dead may only be slow (stopped,
     * partitioned) and reads the message when it comes back */
    Gpsc__IterationControl ic = GPSC__ITERATION_CONTROL__INIT;
    ic.command = GPSC__ITERATION_COMMAND__ITER_SHUTDOWN;
    ic.iteration = (uint32_t)c->iter;
    ic.reason = c->reason;
    for (int i = 0; i < c->npeers; i++)
        (void)send_head(c, c->peers[i].sock, &c->peers[i].head,
                        GPSC__ENVELOPE__BODY_ITERATION_CONTROL, &ic);
    GPSC_LOG(GPSC_LOG_INFO,
             "counters: %llu tasks planned, %llu results stored, %llu re-issued, %llu "
             "duplicates, %llu stale, %llu rejected, %llu failed rollouts; %llu workers "
             "joined, %llu lost; %llu messages refused",
             (unsigned long long)c->n_planned, (unsigned long long)c->n_stored,
             (unsigned long long)gpsc_tasks_reissued(c->tasks),
             (unsigned long long)gpsc_tasks_duplicates(c->tasks), (unsigned long long)c->n_stale,
             (unsigned long long)c->rejected, (unsigned long long)c->n_failed,
             (unsigned long long)c->n_joined, (unsigned long long)c->n_lost,
             (unsigned long long)c->n_refused);
    if (status == 0)
        GPSC_LOG(GPSC_LOG_INFO, "run %s done: %d iterations, checkpoints in %s/checkpoints",
                 c->run_id, c->iter, c->run_dir);
    else
        GPSC_LOG(GPSC_LOG_WARN, "run %s stopped at iteration %d: %s", c->run_id, c->iter,
                 c->reason);
    /* the summary beside the checkpoints */
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/summary.txt", c->run_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        gpsc_coord_print_summary(c, f);
        fclose(f);
    }
    emit(c, GPSC_COORD_EV_DONE, "%s", c->reason);
    close_handles(c);
}

void gpsc_coord_stop(gpsc_coord_t *c, int status, const char *reason)
{
    if (!c) return;
    finish(c, status, reason);
}

void gpsc_coord_peer_exited(gpsc_coord_t *c, const char *id, long long status, int term_signal)
{
    if (!c || !id) return;
    for (int i = 0; i < c->npeers; i++)
        if (c->peers[i].alive && strcmp(c->peers[i].id, id) == 0) {
            char why[96];
            if (term_signal)
                snprintf(why, sizeof why, "its process was killed by signal %d", term_signal);
            else
                snprintf(why, sizeof why, "its process exited with status %lld", status);
            peer_lost(c, i, why);
        }
    if (!c->closing) {
        dispatch(c);
        drain(c);
    }
}

bool gpsc_coord_finished(const gpsc_coord_t *c)
{
    return c && c->finished;
}

int gpsc_coord_status(const gpsc_coord_t *c)
{
    return c ? c->status : 1;
}

const char *gpsc_coord_reason(const gpsc_coord_t *c)
{
    return c ? c->reason : "";
}

const char *gpsc_coord_endpoint(const gpsc_coord_t *c, gpsc_coord_ep_t which)
{
    return c && which >= 0 && which <= 2 ? c->ep[which] : "";
}

const char *gpsc_coord_run_dir(const gpsc_coord_t *c)
{
    return c ? c->run_dir : "";
}

const char *gpsc_coord_run_id(const gpsc_coord_t *c)
{
    return c ? c->run_id : "";
}

const gpsc_experiment_t *gpsc_coord_experiment(const gpsc_coord_t *c)
{
    return c ? &c->exp : NULL;
}

int gpsc_coord_start_iteration(const gpsc_coord_t *c)
{
    return c ? c->start_iter : 0;
}

static const char *phase_name(phase_t ph)
{
    static const char *names[] = {"waiting", "sampling", "learning", "evaluation", "done"};
    return ph >= PH_WAIT && ph <= PH_DONE ? names[ph] : "?";
}

void gpsc_coord_counters(const gpsc_coord_t *c, gpsc_coord_counters_t *out)
{
    *out = (gpsc_coord_counters_t){.phase = phase_name(c->phase),
                                   .iteration = c->iter,
                                   .iterations = c->K,
                                   .conditions = c->M,
                                   .samples_done = gpsc_tasks_count(c->tasks, GPSC_TASK_DONE),
                                   .samples_total = gpsc_tasks_size(c->tasks),
                                   .workers = live_workers(c),
                                   .learner = c->learner >= 0,
                                   .finished = c->finished,
                                   .rollouts_done = c->n_stored,
                                   .rollouts_failed = c->n_failed,
                                   .reissued = gpsc_tasks_reissued(c->tasks),
                                   .duplicates = gpsc_tasks_duplicates(c->tasks),
                                   .rejected = c->rejected,
                                   .refused = c->n_refused,
                                   .workers_lost = c->n_lost};
}

double gpsc_coord_condition_cost(const gpsc_coord_t *c, int m)
{
    return c && m >= 0 && m < c->M ? c->sum[m].last_cost : NAN;
}

void gpsc_coord_progress(const gpsc_coord_t *c, int type, const char *text, gpsc_view_progress_t *p)
{
    /* gpsc_coord_event_type_t -> gpsc_view_kind_t */
    static const gpsc_view_kind_t kinds[] = {GPSC_VIEW_EV_INFO,      GPSC_VIEW_EV_PROGRESS,
                                             GPSC_VIEW_EV_ITERATION, GPSC_VIEW_EV_LOG,
                                             GPSC_VIEW_EV_DONE,      GPSC_VIEW_EV_INFO};
    gpsc_coord_counters_t k;
    gpsc_coord_counters(c, &k);
    memset(p, 0, sizeof *p);
    p->kind = type >= 0 && type <= 5 ? kinds[type] : GPSC_VIEW_EV_STATUS;
    snprintf(p->run_id, sizeof p->run_id, "%s", c->run_id);
    snprintf(p->experiment, sizeof p->experiment, "%s", c->exp.name ? c->exp.name : "");
    snprintf(p->algorithm, sizeof p->algorithm, "%s", gpsc_exp_algorithm_name(c->exp.algo.type));
    snprintf(p->phase, sizeof p->phase, "%s", k.phase);
    p->iteration = k.iteration;
    p->iterations = k.iterations;
    p->conditions = k.conditions;
    p->T = c->exp.T;
    p->samples_done = k.samples_done;
    p->samples_total = k.samples_total;
    p->eval = c->phase == PH_EVAL;
    p->workers = k.workers;
    p->workers_lost = (int)(k.workers_lost > INT32_MAX ? INT32_MAX : k.workers_lost);
    p->learner = k.learner;
    p->rollouts_done = k.rollouts_done;
    p->reissued = k.reissued;
    p->duplicates = k.duplicates;
    p->rejected = k.rejected;
    p->refused = k.refused;
    p->status = c->status;
    p->time = (double)wall_ns() / 1e9;
    snprintf(p->text, sizeof p->text, "%s", text ? text : "");
}

/* a number in a table column, "-" when unknown (NaN) */
static void num(char *out, size_t outsz, const char *fmt, int width, double v)
{
    if (isnan(v))
        snprintf(out, outsz, "%*s", width, "-");
    else
        snprintf(out, outsz, fmt, v);
}

int gpsc_coord_print_summary(const gpsc_coord_t *c, FILE *f)
{
    if (!c || !f || !c->sum) return 0;
    bool ev = c->eval_done;
    int lines = 0;
    fprintf(f, "%-9s %12s %12s %14s %10s %14s %9s\n", "condition", "first cost", "final cost",
            "final dist (m)", "success", "mean-act dist", "mean-act");
    lines++;
    int total = 0, mean_total = 0;
    bool metric = c->exp.success.metric != GPSC_EXP_METRIC_NONE;
    for (int m = 0; m < c->M; m++) {
        const cond_sum_t *s = &c->sum[m];
        double cost = ev ? s->eval_cost : s->last_cost;
        double dist = ev ? s->eval_dist : s->last_dist;
        int succ = ev ? s->eval_succ : s->last_succ;
        char sc[32], md[32], ma[16];
        if (metric && succ >= 0)
            snprintf(sc, sizeof sc, "%6d/%-3d", succ, c->N);
        else
            snprintf(sc, sizeof sc, "%10s", "-");
        if (ev) {
            num(md, sizeof md, "%14.4f", 14, s->mean_dist);
            snprintf(ma, sizeof ma, "%9s", metric ? (s->mean_succ ? "yes" : "no") : "-");
        } else {
            snprintf(md, sizeof md, "%14s", "-");
            snprintf(ma, sizeof ma, "%9s", "-");
        }
        total += succ > 0 ? succ : 0;
        mean_total += ev && s->mean_succ;
        char fc[32], lc[32], ld[32];
        num(fc, sizeof fc, "%12.5g", 12, s->first_cost);
        num(lc, sizeof lc, "%12.5g", 12, cost);
        num(ld, sizeof ld, "%14.4f", 14, dist);
        fprintf(f, "%-9d %s %s %s %s %s %s\n", m, fc, lc, ld, sc, md, ma);
        lines++;
    }
    if (metric) {
        if (ev)
            fprintf(f, "success (%s <= %g): %d/%d noisy samples, %d/%d mean-action rollouts\n",
                    gpsc_exp_metric_name(c->exp.success.metric), c->exp.success.threshold, total,
                    c->M * c->N, mean_total, c->M);
        else
            fprintf(f,
                    "success (%s <= %g): %d/%d samples of the last iteration (no final "
                    "evaluation)\n",
                    gpsc_exp_metric_name(c->exp.success.metric), c->exp.success.threshold, total,
                    c->M * c->N);
        lines++;
    }
    return lines;
}

/* ------------------------------------------------------------------ making one */

static int load_experiment(gpsc_coord_t *c, const gpsc_coord_cfg_t *cfg, char *err, size_t errsz)
{
    char path[PATH_MAX + 32];
    const char *exp_path = cfg->experiment;
    if (!exp_path) {
        if (!cfg->resume) return fail(GPSC_EINVAL, err, errsz, "no experiment given");
        snprintf(path, sizeof path, "%s/config.yaml", cfg->resume);
        exp_path = path;
    }
    int rc = gpsc_experiment_load(exp_path, &c->exp, err, errsz);
    if (rc) return rc;
    if (cfg->iterations > 0) c->exp.algo.iterations = (int)cfg->iterations;
    if (cfg->seed >= 0) c->exp.algo.seed = (unsigned long long)cfg->seed;
    if (cfg->algorithm) {
        if (strcmp(cfg->algorithm, "mdgps") == 0)
            c->exp.algo.type = GPSC_EXP_ALG_MDGPS;
        else if (strcmp(cfg->algorithm, "gps2014") == 0)
            c->exp.algo.type = GPSC_EXP_ALG_GPS2014;
        else if (strcmp(cfg->algorithm, "trajopt") == 0)
            c->exp.algo.type = GPSC_EXP_ALG_TRAJOPT;
        else
            return fail(GPSC_EINVAL, err, errsz, "--algorithm must be mdgps, gps2014 or trajopt");
    }
    return gpsc_env_resolve_experiment(&c->exp, err, errsz);
}

/* the run directory: fresh (config.yaml written) or resumed (checkpoint checked) */
static int prepare_run_dir(gpsc_coord_t *c, const gpsc_coord_cfg_t *cfg, char *err, size_t errsz)
{
    if (cfg->run_dir)
        snprintf(c->run_dir, sizeof c->run_dir, "%s", cfg->run_dir);
    else if (cfg->resume)
        snprintf(c->run_dir, sizeof c->run_dir, "%s", cfg->resume);
    else
        snprintf(c->run_dir, sizeof c->run_dir, "runs/%s-%llu", c->exp.name,
                 (unsigned long long)c->seed);
    char path[PATH_MAX + 64];
    if (cfg->resume) {
        int k = latest_checkpoint(cfg->resume);
        if (k < 0)
            return fail(GPSC_ENOENT, err, errsz, "%s: no checkpoints/iter_NNNN.pb to resume from",
                        cfg->resume);
        if (strcmp(cfg->resume, c->run_dir) != 0)
            return fail(GPSC_EINVAL, err, errsz, "--resume continues in its own directory (%s)",
                        cfg->resume);
        checkpoint_path(c, path, sizeof path, k);
        gpsc_checkpoint_t *ck = NULL;
        int rc = gpsc_checkpoint_read(&ck, path, err, errsz);
        if (rc) return rc;
        const Gpsc__Checkpoint *m = gpsc_checkpoint_get(ck);
        if (strcmp(m->config_hash, c->hash) != 0 || (int)m->iteration != k) {
            snprintf(err, errsz,
                     "%s was written for config %s, this one is %s (another "
                     "experiment, seed or algorithm)",
                     path, m->config_hash, c->hash);
            gpsc_checkpoint_destroy(&ck);
            return GPSC_ECONFIG;
        }
        gpsc_checkpoint_destroy(&ck);
        c->iter = c->start_iter = k;
        if ((rc = trim_metrics(c, k, err, errsz)) != 0) return rc;
    } else {
        if (dir_nonempty(c->run_dir)) {
            if (!cfg->force)
                return fail(GPSC_ESTATE, err, errsz,
                            "%s is not empty: use --resume %s to "
                            "continue that run or --force to start over",
                            c->run_dir, c->run_dir);
            remove_run_files(c->run_dir);
        }
        snprintf(path, sizeof path, "%s/checkpoints", c->run_dir);
        if (mkdir_p(path) != 0) return fail(GPSC_EIO, err, errsz, "%s: %s", path, strerror(errno));
        snprintf(path, sizeof path, "%s/config.yaml", c->run_dir);
        int rc = gpsc_experiment_write(&c->exp, path, err, errsz);
        if (rc) return rc;
    }
    snprintf(path, sizeof path, "%s/metrics.jsonl", c->run_dir);
    if (!(c->metrics = fopen(path, "a")))
        return fail(GPSC_EIO, err, errsz, "%s: %s", path, strerror(errno));
    snprintf(path, sizeof path, "%s/log.jsonl", c->run_dir);
    if (gpsc_log_open_file(path, GPSC_LOG_JSON) != 0)
        return fail(GPSC_EIO, err, errsz, "%s: cannot open", path);
    return 0;
}

static int bind_sockets(gpsc_coord_t *c, const gpsc_coord_cfg_t *cfg, char *err, size_t errsz)
{
    const char *want[3] = {cfg->control_endpoint, cfg->learner_endpoint, cfg->log_endpoint};
    static const char *names[3] = {"control", "learner", "log"};
    if (!(c->ctx = gpsc_wire_ctx_new()))
        return fail(GPSC_ESYS, err, errsz, "cannot make a ZeroMQ context");
    /* CURVE: the allow-list first (before any bind), then server sockets */
    bool curve = cfg->keys && cfg->keys->on;
    int zrc = 0;
    if (curve && !(c->zap = gpsc_keys_zap_new(cfg->keys, c->ctx, &zrc, err, errsz)))
        return zrc ? zrc : GPSC_EAUTH;
    for (int i = 0; i < 3; i++) {
        gpsc_wire_opts_t o;
        gpsc_wire_opts_default(&o);
        o.linger_ms = 1000;
        if (curve) gpsc_keys_server_opts(cfg->keys, &o);
        if (i == SOCK_LEARNER) {
            /* checkpoints travel here: far larger than any worker message */
            o.max_msg_size = GPSC_CHECKPOINT_MAX_BYTES;
            o.sndhwm = o.rcvhwm = LEARNER_HWM;
        } else if (i == SOCK_CONTROL) {
            o.max_msg_size = CONTROL_HARD_LIMIT;
        }
        void *s =
            gpsc_wire_socket(c->ctx, i == 2 ? GPSC_WIRE_PUB : GPSC_WIRE_ROUTER, &o, err, errsz);
        if (!s) return GPSC_ESYS;
        if (i == 2)
            c->pub = s;
        else
            c->sock[i] = s;
        /* the monitor before the bind, so that no refusal goes unseen */
        if (curve && !(c->mon[i] = gpsc_wire_monitor_new(c->ctx, s, err, errsz))) return GPSC_ESYS;
        const char *ep = want[i] ? want[i] : "tcp://127.0.0.1:*";
        if (gpsc_wire_bind(s, ep, c->ep[i], sizeof c->ep[i]) != 0)
            return fail(GPSC_ESYS, err, errsz, "cannot bind the %s endpoint %s: %s", names[i], ep,
                        strerror(errno));
    }
    if (curve)
        GPSC_LOG(GPSC_LOG_INFO, "CURVE on every socket: server key %s, %zu client key%s allowed",
                 cfg->keys->own.public_key, cfg->keys->allow.n + 1,
                 cfg->keys->allow.n == 0 ? "" : "s");
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/endpoints", c->run_dir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "control %s\nlearner %s\nlog %s\n", c->ep[0], c->ep[1], c->ep[2]);
        fclose(f);
    }
    return 0;
}

static int start_handles(gpsc_coord_t *c, char *err, size_t errsz)
{
    int rc = uv_timer_init(c->loop, &c->tick);
    if (rc) return fail(GPSC_ESYS, err, errsz, "uv_timer_init: %s", uv_strerror(rc));
    c->tick.data = c;
    c->handles++;
    for (int i = 0; i < 2; i++) {
        int fd;
        if (gpsc_wire_fd(c->sock[i], &fd) != 0)
            return fail(GPSC_ESYS, err, errsz, "no descriptor for a socket");
        if ((rc = uv_poll_init(c->loop, &c->poll[i], fd)) != 0)
            return fail(GPSC_ESYS, err, errsz, "uv_poll_init: %s", uv_strerror(rc));
        c->poll[i].data = c;
        c->handles++;
        if ((rc = uv_poll_start(&c->poll[i], UV_READABLE, on_poll)) != 0)
            return fail(GPSC_ESYS, err, errsz, "uv_poll_start: %s", uv_strerror(rc));
    }
    if ((rc = uv_timer_start(&c->tick, on_tick, TICK_MS, TICK_MS)) != 0)
        return fail(GPSC_ESYS, err, errsz, "uv_timer_start: %s", uv_strerror(rc));
    return 0;
}

gpsc_coord_t *gpsc_coord_new(uv_loop_t *loop, const gpsc_coord_cfg_t *cfg, int *exit_code,
                             char *err, size_t errsz)
{
    int dummy;
    if (!exit_code) exit_code = &dummy;
    *exit_code = 2;
    if (!loop || !cfg) {
        snprintf(err, errsz, "coordinator: NULL argument");
        return NULL;
    }
    gpsc_coord_t *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    c->loop = loop;
    c->learner = -1;
    c->on_event = cfg->on_event;
    c->event_ud = cfg->event_ud;
    c->eval = !cfg->no_eval;
    c->max_failures = cfg->max_task_failures > 0 ? cfg->max_task_failures : 3;
    c->ready = -1;

    /* the experiment and the run's identity */
    int rc = load_experiment(c, cfg, err, errsz);
    if (rc) goto fail;
    c->M = c->exp.n_train;
    c->N = c->exp.algo.samples;
    c->G = cfg->global_samples == 0 ? c->N : cfg->global_samples < 0 ? 0 : cfg->global_samples;
    c->K = c->exp.algo.iterations;
    c->seed = c->exp.algo.seed;
    c->has_network =
        c->exp.algo.type == GPSC_EXP_ALG_MDGPS || c->exp.algo.type == GPSC_EXP_ALG_GPS2014;
    c->global_sampling = c->has_network && c->exp.algo.sampling == GPSC_EXP_SAMPLE_ON_POLICY;
    char *identity = gpsc_identity(&c->exp, c->hash, c->run_id, sizeof c->run_id, NULL);
    bool have_identity = identity != NULL;
    free(identity);
    size_t ylen = 0;
    FILE *yf = open_memstream(&c->config_yaml, &ylen);
    if (!have_identity || !yf || gpsc_experiment_fprint(&c->exp, yf) != 0) {
        if (yf) fclose(yf);
        snprintf(err, errsz, "cannot print the experiment");
        goto fail;
    }
    fclose(yf);
    if ((rc = gpsc_identity_model_hash(c->model_hash, c->exp.model, err, errsz)) != 0) goto fail;
    const gpsc_exp_cluster_t *cl = &c->exp.cluster;
    double hb = cfg->heartbeat_s > 0 ? cfg->heartbeat_s : cl->heartbeat_interval;
    int live = cfg->liveness > 0 ? cfg->liveness : cl->heartbeat_liveness;
    double tt = cfg->task_timeout_s > 0 ? cfg->task_timeout_s : cl->task_timeout;
    c->hb_ms = hb * 1000 < 1 ? 1 : (uint64_t)(hb * 1000);
    c->timeout_ms = c->hb_ms * (uint64_t)(live < 2 ? 2 : live);
    c->task_timeout_ms = tt * 1000 < 1 ? 1 : (uint64_t)(tt * 1000);

    /* state */
    c->tasks = gpsc_tasks_new();
    c->lg = calloc((size_t)c->M, sizeof *c->lg);
    c->in_lg = calloc((size_t)c->M, sizeof *c->in_lg);
    c->sum = calloc((size_t)c->M, sizeof *c->sum);
    if (!c->tasks || !c->lg || !c->in_lg || !c->sum) {
        snprintf(err, errsz, "out of memory");
        *exit_code = 1;
        goto fail;
    }
    for (int m = 0; m < c->M; m++)
        c->sum[m] = (cond_sum_t){NAN, NAN, NAN, -1, NAN, NAN, 0, NAN, 0};

    /* files, sockets, handles */
    if ((rc = prepare_run_dir(c, cfg, err, errsz)) != 0) {
        if (rc == GPSC_EIO) *exit_code = 1;
        goto fail;
    }
    gpsc_log_set_run_id(c->run_id);
    gpsc_log_set_hook(log_hook, c);
    if ((rc = bind_sockets(c, cfg, err, errsz)) != 0 || (rc = start_handles(c, err, errsz)) != 0) {
        *exit_code = 1;
        goto fail;
    }
    gpsc_log_set_iteration(c->iter);
    GPSC_LOG(GPSC_LOG_INFO,
             "run %s: %s, %s, %d train conditions x %d samples, T %d, dX %d dU %d, "
             "seed %llu, iterations %d..%d, dir %s; control %s, learner %s, log %s",
             c->run_id, c->exp.name, gpsc_exp_algorithm_name(c->exp.algo.type), c->M, c->N,
             c->exp.T, c->exp.dims.dX, c->exp.dims.dU, (unsigned long long)c->seed, c->start_iter,
             c->K, c->run_dir, c->ep[0], c->ep[1], c->ep[2]);
    *exit_code = 0;
    return c;
fail:
    /* handles that were started close on the caller's loop; the memory waits for them */
    if (c->handles) {
        close_handles(c);
        while (c->handles > 0)
            uv_run(loop, UV_RUN_ONCE);
    }
    gpsc_coord_destroy(&c);
    return NULL;
}

void gpsc_coord_destroy(gpsc_coord_t **pp)
{
    if (!pp || !*pp) return;
    gpsc_coord_t *c = *pp;
    gpsc_log_set_hook(NULL, NULL);
    free_trajectories(c);
    free(c->traj);
    if (c->in_lg) drop_incoming(c);
    for (int m = 0; c->lg && m < c->M; m++)
        gpsc_wire_msg_destroy(&c->lg[m]);
    gpsc_wire_msg_destroy(&c->net);
    free(c->lg);
    free(c->in_lg);
    free(c->sum);
    free(c->peers);
    gpsc_tasks_destroy(&c->tasks);
    for (int i = 0; i < 3; i++)
        gpsc_wire_monitor_destroy(&c->mon[i]);
    for (int i = 0; i < 2; i++)
        gpsc_wire_close(&c->sock[i]);
    gpsc_wire_close(&c->pub);
    gpsc_wire_zap_destroy(&c->zap);
    gpsc_wire_ctx_destroy(&c->ctx);
    if (c->metrics) fclose(c->metrics);
    gpsc_log_open_file(NULL, GPSC_LOG_JSON);
    free(c->config_yaml);
    gpsc_experiment_free(&c->exp);
    free(c);
    *pp = NULL;
}
