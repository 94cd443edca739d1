/* view.h — the live view of a run: a model fed by events, and its renderer.
 *
 * `gpsc watch` (following a run elsewhere over the coordinator's log PUB)
 * and `gpsc run` on a terminal show the same view:
 *
 *   gpsc watch  reacher-s1-1a2b3c4d  reacher · mdgps · 4 conditions   live
 *   iteration 3/10  [████████████░░░░░░░░░░░░░]  12/20 rollouts  sampling
 *   throughput 85.2 rollouts/s  4260 steps/s   workers 2 alive, 1 lost   learner up
 *   rollouts 250 stored, 2 re-issued, 0 dup, 0 rejected   3 refused   eta 4.2 s
 *   cond  cost (per iteration)        last cost        eta     step     kl/target
 *   c0    █▇▅▄▃▂▁                       -304.94    0.0316     1.00     47.1/50
 *   timings (ms) it 2: sampling 12  learning 40 = prior 20 + dynamics 8 + ...
 *   warnings 1, errors 0
 *     it 2 worker worker-1: task (2, 0, 1): rollout failed: ...
 *
 * The model is fed by four kinds of event, each stamped by the caller
 * with `now` (seconds on the caller's monotonic clock; the model never
 * reads a clock, so tests feed invented times):
 *   progress  gpsc_view_progress_t: what the coordinator reports (an
 *             iteration started or finished, a rollout stored, a peer came
 *             or went, a periodic status, the end), each with the
 *             coordinator's counters;
 *   metrics   one metrics.jsonl line: per-condition cost (kept per
 *             iteration for the sparklines), eta, step multiplier, KL and
 *             its target, phase timings, and the warnings it implies
 *             (a C-step that missed its KL target, non-PD fallbacks);
 *   log       a log record of any process (warnings and errors go to the
 *             warnings ring);
 *   note      a line of the front end itself ("connected to ...").
 *
 * Two renderings:
 *   SCREEN  a block of lines redrawn in place with ANSI escapes (cursor
 *           up, erase line), at most every cfg.redraw_s, cut to the
 *           terminal's width (TIOCGWINSZ) and height; the cursor is hidden
 *           while the block is shown and restored by gpsc_view_finish;
 *   PLAIN   one line per event, no escapes (for pipes and log files):
 *           iteration starts and ends, peers, warnings, records at or
 *           above cfg.log_level, rollout progress at most once a second
 *           and when a plan completes, the end.
 *
 * Text that arrives from peers is sanitised before it reaches the
 * terminal (control characters, escapes included, become spaces).
 *
 * The progress events also travel: the coordinator publishes each one on
 * its log PUB (topic "progress") as a Metrics envelope whose json is
 * gpsc_view_progress_json() (iteration = the current iteration), plus a
 * "status" event every second. gpsc watch parses them back with
 * gpsc_view_progress_parse(). The object's fields are those of
 * gpsc_view_progress_t under the same names, "event" holding the kind
 * ("status", "info", "progress", "iteration", "log", "done").
 *
 * Not thread-safe: one thread feeds and draws a view. */
#ifndef GPSC_VIEW_H
#define GPSC_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/log.h"

typedef struct gpsc_view gpsc_view_t;

/* ------------------------------------------------------------------ progress events */

typedef enum gpsc_view_kind {
    GPSC_VIEW_EV_STATUS = 0,    /* periodic: nothing happened, this is where the run is */
    GPSC_VIEW_EV_INFO = 1,      /* a peer joined or left, a phase began (text) */
    GPSC_VIEW_EV_PROGRESS = 2,  /* a rollout was stored */
    GPSC_VIEW_EV_ITERATION = 3, /* an iteration finished (text: its summary line) */
    GPSC_VIEW_EV_LOG = 4,       /* a warning or error (text: "role id: message") */
    GPSC_VIEW_EV_DONE = 5       /* the run ended (status, text: why) */
} gpsc_view_kind_t;

#define GPSC_VIEW_TEXT 512 /* (bytes) text of one event, NUL included */

/* What the coordinator says about the run. Plain data. */
typedef struct gpsc_view_progress {
    gpsc_view_kind_t kind;
    char run_id[128];          /* "" when unknown */
    char experiment[64];       /* experiment name */
    char algorithm[16];        /* mdgps | gps2014 | trajopt */
    char phase[16];            /* waiting | sampling | learning | evaluation | done */
    int iteration;             /* iteration being sampled (0-based; K while evaluating) */
    int iterations;            /* K, iterations of the run */
    int conditions;            /* training conditions */
    int T;                     /* time steps of a rollout */
    int samples_done;          /* tasks of the current plan that are done */
    int samples_total;         /* tasks of the current plan */
    bool eval;                 /* the plan is the final evaluation */
    int workers;               /* live workers */
    int workers_lost;          /* workers declared dead (since the coordinator started) */
    bool learner;              /* a learner is connected */
    uint64_t rollouts_done;    /* trajectories stored (since the coordinator started) */
    uint64_t reissued;         /* tasks handed out again */
    uint64_t duplicates;       /* duplicate trajectories dropped */
    uint64_t rejected;         /* trajectories that did not fit their task */
    uint64_t refused;          /* messages refused */
    int status;                /* DONE: the run's exit status (0 done) */
    double time;               /* (s since the epoch) when the coordinator made it; 0:
                                  unknown (the throughput then uses the receive time) */
    char text[GPSC_VIEW_TEXT]; /* one line, no newline */
} gpsc_view_progress_t;

/* "status", "info", "progress", "iteration", "log", "done" (static). */
const char *gpsc_view_kind_name(gpsc_view_kind_t kind);

/* p as one JSON object (malloc'd, one line; the caller frees it); NULL
 * when out of memory. */
char *gpsc_view_progress_json(const gpsc_view_progress_t *p);

/* Parses what gpsc_view_progress_json wrote into *p (zeroed first;
 * unknown fields are ignored, missing ones stay 0 / ""; strings are cut
 * to their fields). GPSC_EPARSE with a message when json is not an object
 * with a known "event"; GPSC_EINVAL on NULL. */
int gpsc_view_progress_parse(gpsc_view_progress_t *p, const char *json, char *err, size_t errsz);

/* ------------------------------------------------------------------ the view */

typedef enum gpsc_view_mode {
    GPSC_VIEW_AUTO = 0,   /* SCREEN when cfg.out is a terminal, else PLAIN */
    GPSC_VIEW_SCREEN = 1, /* in place, ANSI */
    GPSC_VIEW_PLAIN = 2   /* one line per event */
} gpsc_view_mode_t;

/* Settings; zero-initialise and set what you need. */
typedef struct gpsc_view_cfg {
    gpsc_view_mode_t mode;
    FILE *out;                  /* where it draws (not owned); NULL: stdout */
    const char *title;          /* first word of the header ["gpsc"] */
    int width;                  /* columns; 0: the terminal's (TIOCGWINSZ), else 80 */
    int height;                 /* rows; 0: the terminal's, else unlimited */
    bool color;                 /* SCREEN: ANSI colours */
    bool ascii;                 /* bars and sparklines in ASCII (no UTF-8 terminal) */
    double redraw_s;            /* (s) SCREEN: at most one frame per this [0.1] */
    int warn_lines;             /* SCREEN: warnings shown [5] */
    int spark_width;            /* iterations in a sparkline; 0: what fits, at most 40 */
    gpsc_log_level_t log_level; /* PLAIN: records printed from this level [WARN] */
    bool remote;                /* the events come over the network: the header says
                                   how long the coordinator has been silent */
} gpsc_view_cfg_t;

/* A new, empty view. NULL when out of memory. Nothing is drawn before the
 * first event or tick. */
gpsc_view_t *gpsc_view_new(const gpsc_view_cfg_t *cfg);

/* Frees the view (draws nothing: call gpsc_view_finish first). Accepts
 * NULL; sets *p to NULL. */
void gpsc_view_destroy(gpsc_view_t **p);

/* SCREEN or PLAIN, as resolved from cfg.mode. */
gpsc_view_mode_t gpsc_view_mode(const gpsc_view_t *v);

/* A progress event. A run id other than the one seen so far starts a new
 * run: the history is dropped. */
void gpsc_view_progress(gpsc_view_t *v, const gpsc_view_progress_t *p, double now);

/* One metrics line (the JSON object of metrics.jsonl). A line of an
 * iteration already seen replaces its numbers and adds no warnings again.
 * `replay` marks lines read from the file at start: PLAIN prints no line
 * for them. GPSC_EPARSE when json is not an object with an "iteration". */
int gpsc_view_metrics(gpsc_view_t *v, const char *json, bool replay, double now);

/* Reads the complete lines of a metrics.jsonl from byte *offset on and
 * feeds them (gpsc_view_metrics, replay as given); *offset moves past the
 * last complete line (a half-written last line waits for the next call; a
 * file shorter than *offset, i.e. trimmed by a resume, is read from 0).
 * Returns the lines fed (bad lines are skipped), GPSC_ENOENT when there is
 * no file. */
int gpsc_view_read_metrics(gpsc_view_t *v, const char *path, long *offset, bool replay, double now);

/* A log record of any process; `sender` is the sending process's id (may
 * be NULL). Warnings and errors go to the warnings ring; PLAIN prints the
 * records at or above cfg.log_level. */
void gpsc_view_log(gpsc_view_t *v, gpsc_log_level_t level, const char *role, const char *sender,
                   long long iteration, const char *msg, double now);

/* A line of the front end (PLAIN: printed; SCREEN: shown in the header
 * line's status until the next one). printf format. */
void gpsc_view_note(gpsc_view_t *v, double now, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* SCREEN: draws when something changed (or once a second, for the clock)
 * and cfg.redraw_s passed since the last frame. PLAIN: nothing. Call it
 * often (e.g. every 100 ms). */
void gpsc_view_tick(gpsc_view_t *v, double now);

/* SCREEN: erases the block so that the caller can print lines of its
 * own; the next tick draws it again below them. PLAIN: nothing. */
void gpsc_view_clear(gpsc_view_t *v);

/* The last frame (SCREEN: drawn in place; PLAIN: nothing), then the
 * cursor is shown again. Call before exiting (also on SIGINT). Idempotent
 * until the next event. */
void gpsc_view_finish(gpsc_view_t *v, double now);

/* The frame SCREEN would draw now, as plain text lines ('\n' after each,
 * no escapes) cut to the configured width, into buf (NUL-terminated, cut
 * to fit). Returns the number of lines. For tests and --once. */
int gpsc_view_format(const gpsc_view_t *v, char *buf, size_t bufsz, double now);

/* True once a DONE event arrived (for this run); *status then holds its
 * exit status when status is not NULL. */
bool gpsc_view_done(const gpsc_view_t *v, int *status);

/* Events seen so far (progress, metrics, log records); for --once. */
long gpsc_view_events(const gpsc_view_t *v);

/* Terminal capabilities for cfg.ascii and cfg.color: the locale's
 * character set is UTF-8 (LC_ALL, else LC_CTYPE, else LANG names it);
 * colours when f is a terminal, TERM is not "dumb" and NO_COLOR is unset. */
bool gpsc_view_term_utf8(void);
bool gpsc_view_term_color(FILE *f);

#endif
