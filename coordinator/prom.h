/* prom.h — a Prometheus text endpoint on a libuv loop.
 *
 * A small HTTP/1.x server (libuv TCP, no other dependency) that answers
 *   GET  /metrics   200, Content-Type: text/plain; version=0.0.4, the text
 *                   exposition format built by a collect callback
 *   HEAD /metrics   the same headers, no body
 *   GET  other path 404;  another method 405;  a request it cannot parse 400;
 *   a request head above cfg.max_request bytes 431
 * and then closes the connection (no keep-alive). It is made to sit beside
 * a coordinator without ever disturbing it:
 *   - every handle is unreferenced: the loop ends when the coordinator's
 *     handles do, whatever the scrapers are doing;
 *   - a connection that has not sent a whole request head within
 *     cfg.timeout_ms (slow, idle or half-open clients) is closed, and so is
 *     one whose answer is not written by then;
 *   - at most cfg.max_clients connections are open; further ones are
 *     accepted and closed at once;
 *   - the request head is bounded (cfg.max_request bytes); a body is never
 *     read.
 * One timer (every 250 ms) sweeps the timeouts. Single-threaded: every
 * function runs on the loop's thread.
 *
 * The coordinator's metrics (gpsc_prom_coord_collect): docs/monitoring.md
 * lists them with their types and meaning. */
#ifndef GPSC_PROM_H
#define GPSC_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* ------------------------------------------------------------------ exposition text */

/* A growing text buffer for one scrape. Plain data; the server owns it. */
typedef struct gpsc_prom_text {
    char *buf;  /* NUL-terminated */
    size_t len; /* bytes used */
    size_t cap;
    bool oom; /* an append failed: the scrape answers 500 */
} gpsc_prom_text_t;

/* Starts a metric family: "# HELP name help" and "# TYPE name type"
 * (type: counter, gauge, untyped, ...). Newlines and backslashes in help
 * are escaped as the format wants. */
void gpsc_prom_family(gpsc_prom_text_t *t, const char *name, const char *type, const char *help);

/* One sample "name{labels} value": `labels` is NULL or pre-formatted
 * label pairs without braces (build values with gpsc_prom_label);
 * NaN and infinities are written as NaN, +Inf, -Inf. */
void gpsc_prom_sample(gpsc_prom_text_t *t, const char *name, const char *labels, double value);

/* Appends name="value" (with a leading comma when *out is not empty) to
 * out, escaping backslash, double quote and newline in value; cut to fit
 * outsz. */
void gpsc_prom_label(char *out, size_t outsz, const char *name, const char *value);

/* Fills t with the families of one scrape. */
typedef void (*gpsc_prom_collect_fn)(gpsc_prom_text_t *t, void *ud);

/* ------------------------------------------------------------------ the server */

typedef struct gpsc_prom gpsc_prom_t;

typedef struct gpsc_prom_cfg {
    const char *addr;   /* "HOST:PORT": "127.0.0.1:9464", "0.0.0.0:9464", "[::1]:9464",
                           ":9464" (every IPv4 address); port 0 picks a free one */
    int timeout_ms;     /* a connection's whole life [5000] */
    int max_clients;    /* open connections [64] */
    size_t max_request; /* (bytes) request head [8192] */
} gpsc_prom_cfg_t;

/* Binds and listens on loop. NULL with a message in err on a bad address,
 * a port in use, or out of memory. */
gpsc_prom_t *gpsc_prom_new(uv_loop_t *loop, const gpsc_prom_cfg_t *cfg, gpsc_prom_collect_fn fn,
                           void *ud, char *err, size_t errsz);

/* The address actually bound, as "http://HOST:PORT/metrics". */
const char *gpsc_prom_url(const gpsc_prom_t *p);

/* The port actually bound. */
int gpsc_prom_port(const gpsc_prom_t *p);

/* Appends the line "metrics <url>" to RUN_DIR/endpoints (beside the
 * coordinator's control, learner and log lines). 0 or GPSC_EIO. */
int gpsc_prom_write_endpoint(const gpsc_prom_t *p, const char *run_dir);

/* Scrapes answered (200) and connections closed for a timeout, a full
 * table, or a bad request, since the start. */
typedef struct gpsc_prom_stats {
    unsigned long scrapes, timeouts, rejected, bad_requests;
} gpsc_prom_stats_t;
void gpsc_prom_stats(const gpsc_prom_t *p, gpsc_prom_stats_t *out);

/* Closes every handle and runs the loop until they are closed (so call
 * it from the loop's thread, outside its callbacks: after uv_run
 * returned), then frees. Accepts NULL; sets *p to NULL. */
void gpsc_prom_destroy(gpsc_prom_t **p);

/* Parses "HOST:PORT" as gpsc_prom_cfg_t.addr describes into out. 0 or
 * GPSC_EINVAL with a message. */
int gpsc_prom_parse_addr(const char *addr, struct sockaddr_storage *out, char *err, size_t errsz);

/* ------------------------------------------------------------------ the coordinator's metrics */

struct gpsc_coord;

/* A gpsc_prom_collect_fn for a coordinator: the counters of
 * gpsc_coord_counters and the per-condition costs. ud is the address of
 * a gpsc_coord_t pointer (a gpsc_coord_t **), so that the endpoint can be
 * opened before the coordinator exists (a bad address then fails before
 * the run directory is touched); while the pointer is NULL the answer is
 * empty. */
void gpsc_prom_coord_collect(gpsc_prom_text_t *t, void *ud);

#endif
