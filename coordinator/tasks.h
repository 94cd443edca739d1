/* tasks.h — the coordinator's task table for one iteration: which rollouts
 * the iteration needs, who holds each, which are done.
 *
 * Pure bookkeeping: no sockets, no clock (the caller passes the time in
 * milliseconds of a monotonic clock), so every rule is unit-tested alone
 * (tests/test_tasks.c).
 *
 * A task is identified by its key (iteration, condition, sample); the table
 * holds the tasks of one iteration, sorted by (condition, sample). A task
 * moves
 *
 *     PENDING --assign--> ASSIGNED --complete--> DONE
 *        ^                   |
 *        +-- expire / peer lost / fail --+
 *
 * and keeps its key whatever happens, which is how a duplicate is
 * recognised: the first valid result of a key completes the task, any later
 * one (a slow worker whose copy was re-issued) is GPSC_EDUP. A result is
 * accepted from whichever peer delivers it, also from a peer whose copy
 * had expired: the rollout is a pure function of the key, so every copy is
 * the same data.
 *
 * Assignment hands out the pending task of the lowest (priority, index)
 * (condition-major within a priority), so re-issued tasks go first. Peers
 * are the caller's small integers (>= 0). */
#ifndef GPSC_COORDINATOR_TASKS_H
#define GPSC_COORDINATOR_TASKS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum gpsc_task_state {
    GPSC_TASK_PENDING = 0,  /* waiting for a worker */
    GPSC_TASK_ASSIGNED = 1, /* a worker holds it until deadline_ms */
    GPSC_TASK_DONE = 2      /* a valid result was stored */
} gpsc_task_state_t;

/* What one task is (an entry of a plan). */
typedef struct gpsc_task_spec {
    uint32_t condition; /* global condition index */
    uint32_t sample;    /* sample index within (iteration, condition) */
    bool noiseless;     /* evaluation rollout: mean action, no noise */
    bool global;        /* acts with the global policy (else the plan's default) */
    int priority;       /* 0 first: lower priorities are handed out first */
} gpsc_task_spec_t;

/* One task and its history. Plain data, read through gpsc_tasks_get. */
typedef struct gpsc_task {
    uint32_t iteration, condition, sample; /* the key */
    bool noiseless;
    bool global;
    int priority;
    gpsc_task_state_t state;
    int peer;             /* holder when ASSIGNED, deliverer when DONE, else -1 */
    uint32_t issues;      /* times assigned so far; RolloutTask.attempt = issues - 1 */
    int failures;         /* failed or rejected results received */
    uint64_t issued_ms;   /* (ms) time of the last assignment */
    uint64_t deadline_ms; /* (ms) when ASSIGNED: re-issued after this */
} gpsc_task_t;

typedef struct gpsc_tasks gpsc_tasks_t;

/* An empty table (no plan; iteration 0, no tasks). NULL when out of memory. */
gpsc_tasks_t *gpsc_tasks_new(void);

/* Frees; accepts NULL; sets *p to NULL. */
void gpsc_tasks_destroy(gpsc_tasks_t **p);

/* Replaces the table with the n tasks of `iteration` (all PENDING). specs
 * must be sorted by (condition, sample) without repeats: GPSC_EINVAL
 * otherwise (the old plan is then kept); GPSC_ENOMEM. n may be 0. */
int gpsc_tasks_plan(gpsc_tasks_t *t, uint32_t iteration, const gpsc_task_spec_t *specs, int n);

/* The usual plan: conditions 0..M-1 x samples 0..N-1, all noisy, priority 0. */
int gpsc_tasks_plan_grid(gpsc_tasks_t *t, uint32_t iteration, int M, int N);

/* Gives the PENDING task of the lowest (priority, index) to `peer` until
 * now_ms + timeout_ms.
 * Returns its index, or GPSC_EAGAIN when nothing is pending, GPSC_EINVAL
 * for peer < 0. */
int gpsc_tasks_assign(gpsc_tasks_t *t, int peer, uint64_t now_ms, uint64_t timeout_ms);

/* Index of the task with this key: >= 0, GPSC_ESTATE when the iteration is
 * not the table's (a stale result), GPSC_ENOENT when the plan has no such
 * (condition, sample). */
int gpsc_tasks_find(const gpsc_tasks_t *t, uint32_t iteration, uint32_t condition, uint32_t sample);

/* A valid result of task idx from `peer`: 0 when it completes the task
 * (first result wins), GPSC_EDUP when the task was already DONE,
 * GPSC_ERANGE for a bad index. */
int gpsc_tasks_complete(gpsc_tasks_t *t, int idx, int peer);

/* A failed or rejected result of task idx from `peer`: counts a failure
 * and, unless the task is DONE or another peer holds a live copy, makes it
 * PENDING again. Returns the task's failure count, GPSC_EDUP when it was
 * DONE (nothing changes), GPSC_ERANGE for a bad index. */
int gpsc_tasks_fail(gpsc_tasks_t *t, int idx, int peer);

/* `peer` is gone: every task it holds becomes PENDING. Returns how many. */
int gpsc_tasks_peer_lost(gpsc_tasks_t *t, int peer);

/* Every ASSIGNED task whose deadline is before now_ms becomes PENDING (its
 * holder may still deliver). Returns how many; when `first` is not NULL it
 * gets the lowest such index (-1 when none). */
int gpsc_tasks_expire(gpsc_tasks_t *t, uint64_t now_ms, int *first);

/* Earliest deadline of an ASSIGNED task, UINT64_MAX when none. */
uint64_t gpsc_tasks_next_deadline(const gpsc_tasks_t *t);

/* The task at idx (NULL when out of range); valid until the next plan. */
const gpsc_task_t *gpsc_tasks_get(const gpsc_tasks_t *t, int idx);

/* Tasks in the plan, and how many are in `state`. */
int gpsc_tasks_size(const gpsc_tasks_t *t);
int gpsc_tasks_count(const gpsc_tasks_t *t, gpsc_task_state_t state);

/* Tasks `peer` holds (ASSIGNED to it). */
int gpsc_tasks_held(const gpsc_tasks_t *t, int peer);

/* True when every task of the plan is DONE (also for an empty plan). */
bool gpsc_tasks_all_done(const gpsc_tasks_t *t);

/* Tasks of `priority` that are not DONE. */
int gpsc_tasks_remaining(const gpsc_tasks_t *t, int priority);

/* Iteration of the plan. */
uint32_t gpsc_tasks_iteration(const gpsc_tasks_t *t);

/* Counters since the table was made: re-issues (a task going back to
 * PENDING after an assignment) and duplicates (GPSC_EDUP results). */
uint64_t gpsc_tasks_reissued(const gpsc_tasks_t *t);
uint64_t gpsc_tasks_duplicates(const gpsc_tasks_t *t);

/* "PENDING", "ASSIGNED", "DONE" (static). */
const char *gpsc_tasks_state_name(gpsc_task_state_t s);

#endif
