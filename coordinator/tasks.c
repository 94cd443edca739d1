/* tasks.c — the coordinator's task table (see tasks.h). */
#include "coordinator/tasks.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

struct gpsc_tasks {
    uint32_t iteration;  /* of the plan */
    int n;               /* tasks in the plan */
    int cap;             /* allocated entries of task */
    gpsc_task_t *task;   /* (n) sorted by (condition, sample) */
    uint64_t reissued;   /* tasks sent back to PENDING after an assignment */
    uint64_t duplicates; /* GPSC_EDUP results */
};

gpsc_tasks_t *gpsc_tasks_new(void)
{
    return calloc(1, sizeof(gpsc_tasks_t));
}

void gpsc_tasks_destroy(gpsc_tasks_t **p)
{
    if (!p || !*p) return;
    free((*p)->task);
    free(*p);
    *p = NULL;
}

/* (condition, sample) order */
static int key_cmp(uint32_t c1, uint32_t s1, uint32_t c2, uint32_t s2)
{
    if (c1 != c2) return c1 < c2 ? -1 : 1;
    if (s1 != s2) return s1 < s2 ? -1 : 1;
    return 0;
}

int gpsc_tasks_plan(gpsc_tasks_t *t, uint32_t iteration, const gpsc_task_spec_t *specs, int n)
{
    if (!t || n < 0 || (n > 0 && !specs)) return GPSC_EINVAL;
    for (int i = 1; i < n; i++)
        if (key_cmp(specs[i - 1].condition, specs[i - 1].sample, specs[i].condition,
                    specs[i].sample) >= 0)
            return GPSC_EINVAL;
    if (n > t->cap) {
        gpsc_task_t *nt = realloc(t->task, sizeof *nt * (size_t)n);
        if (!nt) return GPSC_ENOMEM;
        t->task = nt;
        t->cap = n;
    }
    t->iteration = iteration;
    t->n = n;
    for (int i = 0; i < n; i++)
        t->task[i] = (gpsc_task_t){.iteration = iteration,
                                   .condition = specs[i].condition,
                                   .sample = specs[i].sample,
                                   .noiseless = specs[i].noiseless,
                                   .global = specs[i].global,
                                   .priority = specs[i].priority,
                                   .state = GPSC_TASK_PENDING,
                                   .peer = -1};
    return 0;
}

int gpsc_tasks_plan_grid(gpsc_tasks_t *t, uint32_t iteration, int M, int N)
{
    if (!t || M < 0 || N < 0 || (N > 0 && M > (1 << 20) / N)) return GPSC_EINVAL;
    gpsc_task_spec_t *s = malloc(sizeof *s * (size_t)(M * N + 1));
    if (!s) return GPSC_ENOMEM;
    for (int m = 0; m < M; m++)
        for (int i = 0; i < N; i++)
            s[m * N + i] = (gpsc_task_spec_t){(uint32_t)m, (uint32_t)i, false, false, 0};
    int rc = gpsc_tasks_plan(t, iteration, s, M * N);
    free(s);
    return rc;
}

int gpsc_tasks_assign(gpsc_tasks_t *t, int peer, uint64_t now_ms, uint64_t timeout_ms)
{
    if (!t || peer < 0) return GPSC_EINVAL;
    int best = -1;
    for (int i = 0; i < t->n; i++)
        if (t->task[i].state == GPSC_TASK_PENDING &&
            (best < 0 || t->task[i].priority < t->task[best].priority))
            best = i;
    if (best >= 0) {
        int i = best;
        gpsc_task_t *k = &t->task[i];
        k->state = GPSC_TASK_ASSIGNED;
        k->peer = peer;
        k->issues++;
        k->issued_ms = now_ms;
        k->deadline_ms = now_ms + timeout_ms;
        return i;
    }
    return GPSC_EAGAIN;
}

int gpsc_tasks_find(const gpsc_tasks_t *t, uint32_t iteration, uint32_t condition, uint32_t sample)
{
    if (!t) return GPSC_EINVAL;
    if (iteration != t->iteration) return GPSC_ESTATE;
    /* binary search: the plan is sorted by (condition, sample) */
    int lo = 0, hi = t->n - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = key_cmp(t->task[mid].condition, t->task[mid].sample, condition, sample);
        if (c == 0) return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return GPSC_ENOENT;
}

int gpsc_tasks_complete(gpsc_tasks_t *t, int idx, int peer)
{
    if (!t || idx < 0 || idx >= t->n) return GPSC_ERANGE;
    gpsc_task_t *k = &t->task[idx];
    if (k->state == GPSC_TASK_DONE) {
        t->duplicates++;
        return GPSC_EDUP;
    }
    k->state = GPSC_TASK_DONE;
    k->peer = peer;
    return 0;
}

/* back to PENDING (counted as a re-issue when it was held) */
static void requeue(gpsc_tasks_t *t, gpsc_task_t *k)
{
    if (k->state == GPSC_TASK_ASSIGNED) t->reissued++;
    k->state = GPSC_TASK_PENDING;
    k->peer = -1;
    k->deadline_ms = 0;
}

int gpsc_tasks_fail(gpsc_tasks_t *t, int idx, int peer)
{
    if (!t || idx < 0 || idx >= t->n) return GPSC_ERANGE;
    gpsc_task_t *k = &t->task[idx];
    if (k->state == GPSC_TASK_DONE) return GPSC_EDUP;
    k->failures++;
    /* another worker's live copy may still succeed: leave it running */
    if (!(k->state == GPSC_TASK_ASSIGNED && k->peer != peer)) requeue(t, k);
    return k->failures;
}

int gpsc_tasks_peer_lost(gpsc_tasks_t *t, int peer)
{
    if (!t) return 0;
    int n = 0;
    for (int i = 0; i < t->n; i++)
        if (t->task[i].state == GPSC_TASK_ASSIGNED && t->task[i].peer == peer) {
            requeue(t, &t->task[i]);
            n++;
        }
    return n;
}

int gpsc_tasks_expire(gpsc_tasks_t *t, uint64_t now_ms, int *first)
{
    if (first) *first = -1;
    if (!t) return 0;
    int n = 0;
    for (int i = 0; i < t->n; i++)
        if (t->task[i].state == GPSC_TASK_ASSIGNED && t->task[i].deadline_ms < now_ms) {
            requeue(t, &t->task[i]);
            if (first && *first < 0) *first = i;
            n++;
        }
    return n;
}

uint64_t gpsc_tasks_next_deadline(const gpsc_tasks_t *t)
{
    uint64_t d = UINT64_MAX;
    for (int i = 0; t && i < t->n; i++)
        if (t->task[i].state == GPSC_TASK_ASSIGNED && t->task[i].deadline_ms < d)
            d = t->task[i].deadline_ms;
    return d;
}

const gpsc_task_t *gpsc_tasks_get(const gpsc_tasks_t *t, int idx)
{
    return t && idx >= 0 && idx < t->n ? &t->task[idx] : NULL;
}

int gpsc_tasks_size(const gpsc_tasks_t *t)
{
    return t ? t->n : 0;
}

int gpsc_tasks_count(const gpsc_tasks_t *t, gpsc_task_state_t state)
{
    int n = 0;
    for (int i = 0; t && i < t->n; i++)
        n += t->task[i].state == state;
    return n;
}

int gpsc_tasks_held(const gpsc_tasks_t *t, int peer)
{
    int n = 0;
    for (int i = 0; t && i < t->n; i++)
        n += t->task[i].state == GPSC_TASK_ASSIGNED && t->task[i].peer == peer;
    return n;
}

bool gpsc_tasks_all_done(const gpsc_tasks_t *t)
{
    return gpsc_tasks_count(t, GPSC_TASK_DONE) == gpsc_tasks_size(t);
}

int gpsc_tasks_remaining(const gpsc_tasks_t *t, int priority)
{
    int n = 0;
    for (int i = 0; t && i < t->n; i++)
        n += t->task[i].priority == priority && t->task[i].state != GPSC_TASK_DONE;
    return n;
}

uint32_t gpsc_tasks_iteration(const gpsc_tasks_t *t)
{
    return t ? t->iteration : 0;
}

uint64_t gpsc_tasks_reissued(const gpsc_tasks_t *t)
{
    return t ? t->reissued : 0;
}

uint64_t gpsc_tasks_duplicates(const gpsc_tasks_t *t)
{
    return t ? t->duplicates : 0;
}

const char *gpsc_tasks_state_name(gpsc_task_state_t s)
{
    switch (s) {
    case GPSC_TASK_PENDING:
        return "PENDING";
    case GPSC_TASK_ASSIGNED:
        return "ASSIGNED";
    case GPSC_TASK_DONE:
        return "DONE";
    }
    return "?";
}
