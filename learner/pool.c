/* pool.c — fixed-size pthread pool (see pool.h). */
#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "common/error.h"
#include "common/la.h"

struct gpsc_pool {
    int n;                 /* workers, the caller (worker 0) included */
    int started;           /* threads actually started (n-1 when healthy) */
    pthread_t *threads;    /* (n-1) worker threads 1..n-1 */
    gpsc_arena_t **arenas; /* (n) one per worker */
    pthread_mutex_t mu;    /* guards everything below */
    pthread_cond_t go;     /* a new run (or quit) was posted */
    pthread_cond_t idle;   /* the last thread finished the current run */
    unsigned long gen;     /* run counter: a thread works once per value */
    bool quit;
    /* the current run */
    gpsc_pool_fn fn;
    void *ctx;
    int n_tasks;
    int next;     /* next task to hand out */
    int busy;     /* threads that have not yet finished this run */
    int err_task; /* lowest failing task index, or -1 */
    int err;      /* its code */
};

typedef struct worker_arg {
    gpsc_pool_t *pool;
    int w;
} worker_arg_t;

/* takes tasks of the current run until none are left */
static void drain(gpsc_pool_t *p, int w)
{
    for (;;) {
        pthread_mutex_lock(&p->mu);
        int i = p->next < p->n_tasks ? p->next++ : -1;
        pthread_mutex_unlock(&p->mu);
        if (i < 0) return;
        gpsc_arena_reset(p->arenas[w]);
        int rc = p->fn(p->ctx, i, w);
        if (rc) {
            pthread_mutex_lock(&p->mu);
            if (p->err_task < 0 || i < p->err_task) {
                p->err_task = i;
                p->err = rc;
            }
            pthread_mutex_unlock(&p->mu);
        }
    }
}

static void *worker_main(void *arg)
{
    worker_arg_t *a = arg;
    gpsc_pool_t *p = a->pool;
    int w = a->w;
    free(a);
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->quit && p->gen == seen)
            pthread_cond_wait(&p->go, &p->mu);
        if (p->quit) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->gen;
        pthread_mutex_unlock(&p->mu);

        drain(p, w);

        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->idle);
        pthread_mutex_unlock(&p->mu);
    }
}

gpsc_pool_t *gpsc_pool_new(int n_workers, size_t arena_bytes)
{
    if (n_workers < 1) return NULL;
    gpsc_la_set_threads(1);
    gpsc_pool_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_workers;
    p->err_task = -1;
    p->threads = calloc((size_t)n_workers, sizeof *p->threads);
    p->arenas = calloc((size_t)n_workers, sizeof *p->arenas);
    if (!p->threads || !p->arenas) {
        free(p->threads);
        free(p->arenas);
        free(p);
        return NULL;
    }
    if (pthread_mutex_init(&p->mu, NULL)) {
        free(p->threads);
        free(p->arenas);
        free(p);
        return NULL;
    }
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->idle, NULL);
    for (int w = 0; w < n_workers; w++) {
        if (!(p->arenas[w] = gpsc_arena_new(arena_bytes))) {
            gpsc_pool_destroy(&p);
            return NULL;
        }
    }
    for (int w = 1; w < n_workers; w++) {
        worker_arg_t *a = malloc(sizeof *a);
        if (!a) {
            gpsc_pool_destroy(&p);
            return NULL;
        }
        a->pool = p;
        a->w = w;
        if (pthread_create(&p->threads[w - 1], NULL, worker_main, a)) {
            free(a);
            gpsc_pool_destroy(&p);
            return NULL;
        }
        p->started++;
    }
    return p;
}

void gpsc_pool_destroy(gpsc_pool_t **pp)
{
    if (!pp || !*pp) return;
    gpsc_pool_t *p = *pp;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
    for (int w = 0; w < p->n; w++)
        gpsc_arena_destroy(&p->arenas[w]);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p->arenas);
    free(p);
    *pp = NULL;
}

int gpsc_pool_size(const gpsc_pool_t *p)
{
    return p ? p->n : 0;
}

gpsc_arena_t *gpsc_pool_arena(gpsc_pool_t *p, int w)
{
    return p && w >= 0 && w < p->n ? p->arenas[w] : NULL;
}

int gpsc_pool_run(gpsc_pool_t *p, int n_tasks, gpsc_pool_fn fn, void *ctx)
{
    if (!p || !fn || n_tasks < 0) return GPSC_EINVAL;
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    p->next = 0;
    p->err_task = -1;
    p->err = 0;
    p->busy = p->started;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);

    /* the caller is worker 0 */
    drain(p, 0);

    pthread_mutex_lock(&p->mu);
    while (p->busy > 0)
        pthread_cond_wait(&p->idle, &p->mu);
    int rc = p->err_task >= 0 ? p->err : 0;
    pthread_mutex_unlock(&p->mu);
    return rc;
}
