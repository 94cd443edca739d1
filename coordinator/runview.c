/* runview.c — the live view inside `gpsc run` (see runview.h). */
#include "coordinator/runview.h"

#include <limits.h>
#include <stdlib.h>
#include <time.h>

#include "coordinator/view.h"

#define TICK_MS 100 /* (ms) redraw check */

struct gpsc_runview {
    uv_loop_t *loop;
    uv_timer_t timer; /* timer.data = this */
    bool closed;      /* the timer's close callback ran */
    gpsc_coord_t *coord;
    gpsc_view_t *view;
    char metrics[PATH_MAX + 32]; /* RUN/metrics.jsonl */
    long offset;                 /* bytes of it read */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* where the run stands, for the clock and the throughput */
static void on_tick(uv_timer_t *t)
{
    gpsc_runview_t *rv = t->data;
    gpsc_view_progress_t p;
    double now = now_s();
    gpsc_coord_progress(rv->coord, -1, NULL, &p);
    if (!gpsc_view_done(rv->view, NULL)) gpsc_view_progress(rv->view, &p, now);
    gpsc_view_tick(rv->view, now);
}

gpsc_runview_t *gpsc_runview_new(uv_loop_t *loop, gpsc_coord_t *c, FILE *out, bool color,
                                 bool ascii)
{
    gpsc_runview_t *rv = calloc(1, sizeof *rv);
    if (!rv) return NULL;
    gpsc_view_cfg_t cfg = {
        .mode = GPSC_VIEW_SCREEN, .out = out, .title = "gpsc run", .color = color, .ascii = ascii};
    if (!(rv->view = gpsc_view_new(&cfg))) {
        free(rv);
        return NULL;
    }
    rv->loop = loop;
    rv->coord = c;
    snprintf(rv->metrics, sizeof rv->metrics, "%s/metrics.jsonl", gpsc_coord_run_dir(c));
    double now = now_s();
    (void)gpsc_view_read_metrics(rv->view, rv->metrics, &rv->offset, true, now);
    uv_timer_init(loop, &rv->timer);
    rv->timer.data = rv;
    uv_unref((uv_handle_t *)&rv->timer);
    uv_timer_start(&rv->timer, on_tick, TICK_MS, TICK_MS);
    on_tick(&rv->timer);
    return rv;
}

void gpsc_runview_event(gpsc_runview_t *rv, const gpsc_coord_event_t *ev)
{
    if (!rv || !ev || ev->type == GPSC_COORD_EV_PEER_LOST) return;
    double now = now_s();
    if (ev->type == GPSC_COORD_EV_ITERATION)
        (void)gpsc_view_read_metrics(rv->view, rv->metrics, &rv->offset, false, now);
    gpsc_view_progress_t p;
    gpsc_coord_progress(rv->coord, (int)ev->type, ev->text, &p);
    gpsc_view_progress(rv->view, &p, now);
    gpsc_view_tick(rv->view, now);
}

void gpsc_runview_clear(gpsc_runview_t *rv)
{
    if (rv) gpsc_view_clear(rv->view);
}

static void on_closed(uv_handle_t *h)
{
    gpsc_runview_t *rv = h->data;
    rv->closed = true;
}

void gpsc_runview_destroy(gpsc_runview_t **p)
{
    if (!p || !*p) return;
    gpsc_runview_t *rv = *p;
    double now = now_s();
    gpsc_view_progress_t pr;
    gpsc_coord_progress(rv->coord, -1, NULL, &pr);
    if (!gpsc_view_done(rv->view, NULL)) gpsc_view_progress(rv->view, &pr, now);
    gpsc_view_finish(rv->view, now);
    uv_close((uv_handle_t *)&rv->timer, on_closed);
    while (!rv->closed)
        uv_run(rv->loop, UV_RUN_NOWAIT);
    gpsc_view_destroy(&rv->view);
    free(rv);
    *p = NULL;
}
