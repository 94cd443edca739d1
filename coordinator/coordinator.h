/* coordinator.h — the coordinator: owns a run on a libuv loop.
 *
 * It reads the experiment, prepares the run directory, binds three
 * sockets and then drives the run from messages and one timer tick:
 *
 *   control  ROUTER  workers (DEALER): Hello, WorkRequest, Trajectory,
 *                    PolicyRequest, Heartbeat, LogRecord
 *   learner  ROUTER  the learner (DEALER): policies, Metrics, Checkpoint,
 *                    IterationControl, Heartbeat, LogRecord
 *   log      PUB     every process's LogRecord (topic "log.<level>") and
 *                    each iteration's Metrics (topic "metrics")
 *
 * Per iteration k: once the learner has published the policies of version
 * k, every (train condition, sample) becomes a task (coordinator/tasks.h),
 * plus (MDGPS, k >= 1) a few rollouts of the global policy that measure its
 * cost for the metrics, exactly as gpsc-solo keys them;
 * workers get tasks against credit, each accepted Trajectory is acked and
 * relayed to the learner (the coordinator is the one place that decides
 * completeness and drops duplicates, first valid result wins), and when all
 * are in the learner hears SAMPLES_COMPLETE(k). It answers with the
 * policies of version k+1, the Metrics of k and the Checkpoint of k+1; the
 * coordinator appends metrics.jsonl, writes checkpoints/iter_{k+1}.pb (the
 * same bytes gpsc-solo writes: common/checkpoint.h's writer) and starts
 * k+1. After the last iteration an evaluation round samples the final
 * policies (as gpsc-solo's summary does) and the run ends: ITER_SHUTDOWN to
 * every peer. docs/running.md describes the conversation and the run
 * directory.
 *
 * Failures: a peer silent for heartbeat_interval x liveness is dead and its
 * tasks go back to the queue; a task not answered within task_timeout is
 * re-issued (same key; the first valid result wins); a learner that
 * reconnects (or a new one) gets the last checkpoint and the iteration's
 * trajectories again. Anything a peer can send wrong is refused with a log
 * line "refused: <what>: <reason>" and, where there is a peer to tell, a
 * Refuse message — never a crash.
 *
 * The coordinator is single-threaded: every function here runs on the
 * loop's thread. It logs through common/log.h (role "coordinator"), opens
 * RUN/log.jsonl as the log file and installs the log hook (its own records
 * are published too). */
#ifndef GPSC_COORDINATOR_H
#define GPSC_COORDINATOR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "common/experiment.h"

typedef struct gpsc_coord gpsc_coord_t;

/* What happened, for a front end's progress display. */
typedef enum gpsc_coord_event_type {
    GPSC_COORD_EV_INFO = 0,      /* a peer joined or left, a phase began */
    GPSC_COORD_EV_PROGRESS = 1,  /* a trajectory was stored */
    GPSC_COORD_EV_ITERATION = 2, /* an iteration finished (text: its summary line) */
    GPSC_COORD_EV_LOG = 3,       /* a warning or error record of any process */
    GPSC_COORD_EV_DONE = 4,      /* the run ended (see gpsc_coord_status) */
    GPSC_COORD_EV_PEER_LOST = 5  /* a peer was declared dead (peer: its id; text: why);
                                    local mode replaces a process that still runs */
} gpsc_coord_event_type_t;

typedef struct gpsc_coord_event {
    gpsc_coord_event_type_t type;
    int iteration;     /* current iteration */
    int iterations;    /* of the run */
    int samples_done;  /* tasks of the current plan that are DONE */
    int samples_total; /* tasks of the current plan */
    bool eval;         /* the current plan is the final evaluation */
    int workers;       /* live workers */
    bool learner;      /* a learner is connected */
    const char *text;  /* one line, no newline (valid during the call) */
    const char *peer;  /* PEER_LOST: the peer's id, else NULL (valid during the call) */
    bool peer_learner; /* PEER_LOST: the peer was the learner */
} gpsc_coord_event_t;

typedef void (*gpsc_coord_event_fn)(const gpsc_coord_event_t *ev, void *ud);

/* Settings; zero-initialise and set what you need. */
typedef struct gpsc_coord_cfg {
    const char *experiment;       /* experiment YAML; NULL with resume: RUN/config.yaml */
    const char *resume;           /* run directory to continue, or NULL */
    const char *run_dir;          /* NULL: the resume directory, else runs/<name>-<seed> */
    bool force;                   /* reuse a non-empty run directory (its run files go) */
    long long iterations;         /* <= 0: the experiment's */
    long long seed;               /* < 0: the experiment's */
    const char *algorithm;        /* mdgps | gps2014 | trajopt; NULL: the experiment's */
    const char *control_endpoint; /* bind; NULL: tcp://127.0.0.1:* */
    const char *learner_endpoint; /* bind; NULL: tcp://127.0.0.1:* */
    const char *log_endpoint;     /* bind; NULL: tcp://127.0.0.1:* */
    double heartbeat_s;           /* > 0: overrides cluster.heartbeat_interval (s) */
    int liveness;                 /* > 0: overrides cluster.heartbeat_liveness */
    double task_timeout_s;        /* > 0: overrides cluster.task_timeout (s) */
    int max_task_failures;        /* a task failing this often ends the run [3] */
    bool no_eval;                 /* skip the final evaluation round */
    int global_samples;           /* MDGPS: rollouts of the global policy per condition
                                     and iteration (k >= 1) measuring its cost, as
                                     gpsc-solo does; 0: the samples per condition (as
                                     gpsc-solo's default), < 0: none */
    gpsc_coord_event_fn on_event; /* may be NULL */
    void *event_ud;
    const struct gpsc_keys *keys; /* CURVE server pair + allow-list (common/keys.h): every
                                     socket is a CURVE server, clients off the list are
                                     refused and logged; NULL or off: plain TCP */
} gpsc_coord_cfg_t;

/* Which bound endpoint. */
typedef enum gpsc_coord_ep {
    GPSC_COORD_EP_CONTROL = 0,
    GPSC_COORD_EP_LEARNER = 1,
    GPSC_COORD_EP_LOG = 2
} gpsc_coord_ep_t;

/* Loads and resolves the experiment (overrides applied), prepares the run
 * directory (fresh: refuses a non-empty one unless force, writes
 * config.yaml; resume: finds the latest checkpoint, checks it belongs to
 * this config, trims metrics.jsonl after it), binds the sockets, writes
 * RUN/endpoints and starts its handles on `loop`. Returns NULL with a
 * message in err (2 lines at most) on a bad config, a run directory it may
 * not use, or an endpoint it cannot bind; *exit_code then says 2 (bad
 * arguments/config) or 1. The loop may hold closing handles of a failed
 * attempt: run it before closing it. */
gpsc_coord_t *gpsc_coord_new(uv_loop_t *loop, const gpsc_coord_cfg_t *cfg, int *exit_code,
                             char *err, size_t errsz);

/* Frees everything (closing the sockets waits up to their linger, 1 s).
 * Call after the loop has run to completion (the coordinator's handles
 * close when the run ends or gpsc_coord_stop was called). Accepts NULL;
 * sets *p to NULL. */
void gpsc_coord_destroy(gpsc_coord_t **p);

/* The endpoint actually bound (e.g. "tcp://127.0.0.1:41234"). */
const char *gpsc_coord_endpoint(const gpsc_coord_t *c, gpsc_coord_ep_t which);

const char *gpsc_coord_run_dir(const gpsc_coord_t *c);
const char *gpsc_coord_run_id(const gpsc_coord_t *c);
const gpsc_experiment_t *gpsc_coord_experiment(const gpsc_coord_t *c);

/* Iteration the run starts from (0, or the resumed checkpoint's). */
int gpsc_coord_start_iteration(const gpsc_coord_t *c);

/* Ends the run now with exit `status` and a reason: ITER_SHUTDOWN to every
 * peer, handles closed; checkpoints already written stay. Idempotent (the
 * first call's status and reason are kept). */
void gpsc_coord_stop(gpsc_coord_t *c, int status, const char *reason);

/* Local mode: the process that announced itself as `id` has exited
 * (status, or the signal that ended it): it is dead from now on. */
void gpsc_coord_peer_exited(gpsc_coord_t *c, const char *id, long long status, int term_signal);

/* True once the run ended (done, failed or stopped); the exit status
 * (0 done, 1 failed, else what gpsc_coord_stop was given) and why. */
bool gpsc_coord_finished(const gpsc_coord_t *c);
int gpsc_coord_status(const gpsc_coord_t *c);
const char *gpsc_coord_reason(const gpsc_coord_t *c);

/* Prints the per-condition summary table (initial and final sampled cost,
 * final end-effector distance, successes, and the mean-action rollout when
 * the evaluation ran) to f. Returns the number of lines printed. */
int gpsc_coord_print_summary(const gpsc_coord_t *c, FILE *f);

/* ------------------------------------------------------------------ monitoring */

/* Where the run stands and what this coordinator process counted since it
 * started (a resumed run counts from 0 again), for gpsc watch and the
 * Prometheus endpoint (coordinator/prom.h). Plain data. */
typedef struct gpsc_coord_counters {
    const char *phase;        /* "waiting", "sampling", "learning", "evaluation", "done" */
    int iteration;            /* iteration being sampled (= the policies' version; K while
                                 evaluating and at the end) */
    int iterations;           /* K */
    int conditions;           /* training conditions */
    int samples_done;         /* tasks of the current plan that are done */
    int samples_total;        /* tasks of the current plan */
    int workers;              /* live workers */
    bool learner;             /* a learner is connected */
    bool finished;            /* the run ended */
    uint64_t rollouts_done;   /* results stored (first valid result of a task) */
    uint64_t rollouts_failed; /* rollouts the workers reported as failed */
    uint64_t reissued;        /* tasks handed out again (timeout, lost worker, failure) */
    uint64_t duplicates;      /* duplicate results dropped */
    uint64_t rejected;        /* trajectories that did not fit their task */
    uint64_t refused;         /* messages refused ("refused:" lines, suppressed ones too) */
    uint64_t workers_lost;    /* workers declared dead */
} gpsc_coord_counters_t;

/* Fills *out (c and out not NULL). */
void gpsc_coord_counters(const gpsc_coord_t *c, gpsc_coord_counters_t *out);

/* Mean sampled cost of training condition m in the last finished
 * iteration; NaN before one, or for m out of range. */
double gpsc_coord_condition_cost(const gpsc_coord_t *c, int m);

/* The progress event (coordinator/view.h) of an event of `type` with
 * `text` (NULL: ""), the counters filled in; type -1 makes a periodic
 * status event. This is what the coordinator publishes on its log PUB
 * (topic "progress") and what `gpsc run` feeds its view. */
struct gpsc_view_progress;
void gpsc_coord_progress(const gpsc_coord_t *c, int type, const char *text,
                         struct gpsc_view_progress *out);

#endif
