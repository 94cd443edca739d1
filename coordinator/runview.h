/* runview.h — the live view (coordinator/view.h) inside `gpsc run` on a
 * terminal: fed by the coordinator's events in the same process, redrawn
 * by a timer on the coordinator's loop.
 *
 * The timer is unreferenced, so the view never keeps the loop alive; the
 * run's metrics.jsonl is read after each finished iteration (the
 * coordinator writes the line before it reports the iteration) and at the
 * start (a resumed run shows its history). */
#ifndef GPSC_RUNVIEW_H
#define GPSC_RUNVIEW_H

#include <stdio.h>
#include <uv.h>

#include "coordinator/coordinator.h"

typedef struct gpsc_runview gpsc_runview_t;

/* A view of coordinator c drawn in place on `out` (a terminal), ticking on
 * loop every 100 ms. color: ANSI colours; ascii: no UTF-8 block
 * characters. NULL when out of memory. c must outlive the view. */
gpsc_runview_t *gpsc_runview_new(uv_loop_t *loop, gpsc_coord_t *c, FILE *out, bool color,
                                 bool ascii);

/* Feeds one coordinator event (from the gpsc_coord_cfg_t.on_event
 * callback). Accepts NULL rv. */
void gpsc_runview_event(gpsc_runview_t *rv, const gpsc_coord_event_t *ev);

/* Erases the view so that the caller can print; it comes back below.
 * Accepts NULL. */
void gpsc_runview_clear(gpsc_runview_t *rv);

/* Draws the last frame, shows the cursor again, closes the timer (running
 * the loop until it is closed: call after uv_run returned) and frees.
 * Accepts NULL; sets *p to NULL. */
void gpsc_runview_destroy(gpsc_runview_t **p);

#endif
