/* local.h — local mode: the learner and the workers as child processes of
 * `gpsc run`, on the coordinator's libuv loop.
 *
 * Each child is started with uv_spawn, its stdout and stderr appended to
 * LOG_DIR/<id>.log (its own log lines; the same records also reach the
 * coordinator's merged log over the wire), and reaped by the loop: the exit
 * callback says who ended and how. Children are told --parent-pid so they
 * also end when this process dies without cleaning up (SIGKILL): no orphans.
 *
 * Single-threaded: every function runs on the loop's thread. */
#ifndef GPSC_COORDINATOR_LOCAL_H
#define GPSC_COORDINATOR_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

typedef struct gpsc_local gpsc_local_t;

/* A child ended: its id, exit status, and the signal that killed it (0). */
typedef void (*gpsc_local_exit_fn)(void *ud, const char *id, long long status, int term_signal);

/* A manager for children on `loop` writing their output under log_dir
 * (created when missing). NULL when out of memory. */
gpsc_local_t *gpsc_local_new(uv_loop_t *loop, const char *log_dir, gpsc_local_exit_fn fn, void *ud);

/* Starts argv[0] (a path) with argv (NULL-terminated) as child `id`.
 * Returns 0, or GPSC_ESYS with err set (executable missing, no
 * processes left, ...). */
int gpsc_local_spawn(gpsc_local_t *l, const char *id, char *const argv[], char *err, size_t errsz);

/* Children started and not yet exited. */
int gpsc_local_running(const gpsc_local_t *l);

/* True when no child runs and every process handle has closed. */
bool gpsc_local_idle(const gpsc_local_t *l);

/* Sends signum to every running child. */
void gpsc_local_kill(gpsc_local_t *l, int signum);

/* Sends signum to the running child `id`. Returns 0, or GPSC_ENOENT when no
 * child of that id runs. */
int gpsc_local_signal(gpsc_local_t *l, const char *id, int signum);

/* True when the child `id` was started and has not exited. */
bool gpsc_local_is_running(const gpsc_local_t *l, const char *id);

/* Frees the manager; call when gpsc_local_idle (the loop has reaped and
 * closed everything). Accepts NULL; sets *p to NULL. */
void gpsc_local_destroy(gpsc_local_t **p);

#endif
