/* pool.h — a small fixed-size thread pool for per-condition work.
 *
 * The learner's conditions are independent until the S-step, so their
 * dynamics fits and C-steps run in parallel. gpsc_pool_run(pool, n, fn,
 * ctx) calls fn(ctx, i, worker) once for every task i in [0, n) and returns
 * when all have finished. Tasks are handed out in index order to whichever
 * worker is free, so which worker runs a task varies; results do not, as
 * long as each task writes only its own output slot and uses only its
 * worker's arena (no reduction across tasks happens inside the pool).
 *
 * Worker 0 is the calling thread; a pool of n workers starts n-1 threads.
 * Each worker owns one arena (gpsc_pool_arena), emptied before every task,
 * so kernels inside a task do not allocate. gpsc_pool_new sets OpenBLAS to
 * one thread per call (gpsc_la_set_threads(1)): parallelism is over tasks.
 *
 * One gpsc_pool_run at a time: a pool is driven by one thread. */
#ifndef GPSC_LEARNER_POOL_H
#define GPSC_LEARNER_POOL_H

#include <stddef.h>

#include "common/arena.h"

typedef struct gpsc_pool gpsc_pool_t;

/* A task: returns 0 or a negative GPSC_E* code. */
typedef int (*gpsc_pool_fn)(void *ctx, int task, int worker);

/* New pool of n_workers >= 1 workers (the caller included), each with an
 * arena of arena_bytes. Returns NULL on bad arguments or when memory or
 * threads cannot be had. */
gpsc_pool_t *gpsc_pool_new(int n_workers, size_t arena_bytes);

/* Stops and joins the threads, frees the arenas; accepts NULL; sets *p to
 * NULL. Must not be called while a run is in progress. */
void gpsc_pool_destroy(gpsc_pool_t **p);

/* Number of workers (threads + the caller). */
int gpsc_pool_size(const gpsc_pool_t *p);

/* The arena of worker w (0 <= w < size); for use by that worker's task. */
gpsc_arena_t *gpsc_pool_arena(gpsc_pool_t *p, int w);

/* Runs fn(ctx, i, worker) for i in [0, n_tasks) and waits for all. Every
 * task runs even when some fail. Returns 0, the code of the failing task
 * with the lowest index (so the result does not depend on scheduling), or
 * GPSC_EINVAL (NULL pool/fn, n_tasks < 0). */
int gpsc_pool_run(gpsc_pool_t *p, int n_tasks, gpsc_pool_fn fn, void *ctx);

#endif
