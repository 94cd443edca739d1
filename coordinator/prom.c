/* prom.c — the Prometheus text endpoint (see prom.h). */
#include "coordinator/prom.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/experiment.h"
#include "coordinator/coordinator.h"

#define SWEEP_MS 250 /* (ms) the timeout sweep */

/* one client connection */
typedef struct conn {
    uv_tcp_t tcp; /* tcp.data = this */
    uv_write_t wr;
    uv_shutdown_t sd;
    gpsc_prom_t *srv;
    struct conn *prev, *next; /* the server's list */
    uint64_t t0;              /* (ms, loop clock) accepted */
    char *req;                /* (max_request + 1) the request head so far */
    size_t len;               /* bytes in req */
    char *resp;               /* the answer being written, NULL before */
    bool draining;            /* answered: reading to the client's EOF before closing */
    bool closing;
} conn_t;

struct gpsc_prom {
    uv_loop_t *loop;
    gpsc_prom_cfg_t cfg;
    gpsc_prom_collect_fn fn;
    void *ud;
    uv_tcp_t listener;
    uv_timer_t sweep;
    int handles;   /* handles of ours not yet closed (listener, timer, connections) */
    conn_t *conns; /* open connections */
    int nconns;    /* in the list */
    char url[96];  /* http://HOST:PORT/metrics */
    int port;
    gpsc_prom_stats_t stats;
    bool closing;
};

/* ------------------------------------------------------------------ exposition text */

static void text_append(gpsc_prom_text_t *t, const char *s, size_t n)
{
    if (t->oom) return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->oom = true;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void text_puts(gpsc_prom_text_t *t, const char *s)
{
    text_append(t, s, strlen(s));
}

void gpsc_prom_family(gpsc_prom_text_t *t, const char *name, const char *type, const char *help)
{
    text_puts(t, "# HELP ");
    text_puts(t, name);
    text_puts(t, " ");
    /* HELP text escapes backslash and newline */
    for (const char *s = help ? help : ""; *s; s++) {
        if (*s == '\\')
            text_puts(t, "\\\\");
        else if (*s == '\n')
            text_puts(t, "\\n");
        else
            text_append(t, s, 1);
    }
    text_puts(t, "\n# TYPE ");
    text_puts(t, name);
    text_puts(t, " ");
    text_puts(t, type);
    text_puts(t, "\n");
}

void gpsc_prom_sample(gpsc_prom_text_t *t, const char *name, const char *labels, double value)
{
    char v[64];
    if (isnan(value))
        snprintf(v, sizeof v, "NaN");
    else if (isinf(value))
        snprintf(v, sizeof v, "%s", value > 0 ? "+Inf" : "-Inf");
    else if (value == floor(value) && fabs(value) < 1e15)
        snprintf(v, sizeof v, "%.0f", value);
    else
        snprintf(v, sizeof v, "%.17g", value);
    text_puts(t, name);
    if (labels && labels[0]) {
        text_puts(t, "{");
        text_puts(t, labels);
        text_puts(t, "}");
    }
    text_puts(t, " ");
    text_puts(t, v);
    text_puts(t, "\n");
}

void gpsc_prom_label(char *out, size_t outsz, const char *name, const char *value)
{
    size_t n = strnlen(out, outsz);
    if (n + 1 >= outsz) return;
    char tmp[1024];
    size_t j = 0;
    for (const char *s = value ? value : ""; *s && j + 3 < sizeof tmp; s++) {
        if (*s == '\\' || *s == '"') {
            tmp[j++] = '\\';
            tmp[j++] = *s;
        } else if (*s == '\n') {
            tmp[j++] = '\\';
            tmp[j++] = 'n';
        } else {
            tmp[j++] = *s;
        }
    }
    tmp[j] = '\0';
    /* cut at a whole pair: a label cut in the middle would break the line */
    int w = snprintf(out + n, outsz - n, "%s%s=\"%s\"", n ? "," : "", name, tmp);
    if (w < 0 || (size_t)w >= outsz - n) out[n] = '\0';
}

/* ------------------------------------------------------------------ connections */

static void on_handle_closed(uv_handle_t *h)
{
    gpsc_prom_t *p = h->data;
    p->handles--;
}

static void on_conn_closed(uv_handle_t *h)
{
    conn_t *c = h->data;
    gpsc_prom_t *p = c->srv;
    free(c->req);
    free(c->resp);
    free(c);
    p->handles--;
}

static void conn_close(conn_t *c)
{
    if (c->closing) return;
    c->closing = true;
    gpsc_prom_t *p = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        p->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    p->nconns--;
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* the answer is out and our side is shut: what the client still sends is
 * read and dropped until it closes (closing with unread bytes would reset
 * the connection and could destroy the answer in flight); the timeout
 * bounds the wait */
static void on_shutdown(uv_shutdown_t *sd, int status)
{
    conn_t *c = sd->data;
    if (c->closing) return;
    c->draining = true;
    if (status != 0 || uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) conn_close(c);
}

static void on_written(uv_write_t *wr, int status)
{
    conn_t *c = wr->data;
    if (c->closing) return;
    c->sd.data = c;
    if (status != 0 || uv_shutdown(&c->sd, (uv_stream_t *)&c->tcp, on_shutdown) != 0) conn_close(c);
}

/* writes an answer and closes the connection after it */
static void respond(conn_t *c, int code, const char *reason, const char *ctype, const char *body,
                    size_t blen, bool head_only)
{
    uv_read_stop((uv_stream_t *)&c->tcp);
    char hdr[512];
    int hn = snprintf(hdr, sizeof hdr,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\nCache-Control: no-store\r\n\r\n",
                      code, reason, ctype, blen);
    size_t n = (size_t)hn + (head_only ? 0 : blen);
    c->resp = malloc(n + 1);
    if (!c->resp) {
        conn_close(c);
        return;
    }
    memcpy(c->resp, hdr, (size_t)hn);
    if (!head_only && blen) memcpy(c->resp + hn, body, blen);
    uv_buf_t b = uv_buf_init(c->resp, (unsigned)n);
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) conn_close(c);
}

static void respond_text(conn_t *c, int code, const char *reason, const char *msg)
{
    respond(c, code, reason, "text/plain; charset=utf-8", msg, strlen(msg), false);
}

/* a whole request head is in c->req: answer it */
static void handle_request(conn_t *c)
{
    gpsc_prom_t *p = c->srv;
    /* request line: METHOD SP TARGET SP HTTP/1.x */
    char method[16], target[512], version[16];
    const char *eol = strpbrk(c->req, "\r\n");
    size_t ll = eol ? (size_t)(eol - c->req) : c->len;
    char line[700];
    if (ll >= sizeof line || sscanf(c->req, "%15s %511s %15s", method, target, version) != 3 ||
        (size_t)snprintf(line, sizeof line, "%s %s %s", method, target, version) != ll ||
        memcmp(c->req, line, ll) != 0 || target[0] != '/' ||
        (strcmp(version, "HTTP/1.1") != 0 && strcmp(version, "HTTP/1.0") != 0)) {
        p->stats.bad_requests++;
        respond_text(c, 400, "Bad Request", "bad request\n");
        return;
    }
    for (const char *m = method; *m; m++)
        if (*m < 'A' || *m > 'Z') {
            p->stats.bad_requests++;
            respond_text(c, 400, "Bad Request", "bad request\n");
            return;
        }
    bool head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        respond_text(c, 405, "Method Not Allowed", "only GET and HEAD\n");
        return;
    }
    char *q = strchr(target, '?');
    if (q) *q = '\0';
    if (strcmp(target, "/metrics") != 0) {
        respond_text(c, 404, "Not Found", "not found: the metrics are at /metrics\n");
        return;
    }
    gpsc_prom_text_t t = {0};
    if (p->fn) p->fn(&t, p->ud);
    if (t.oom) {
        respond_text(c, 500, "Internal Server Error", "out of memory\n");
    } else {
        p->stats.scrapes++;
        respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", t.buf ? t.buf : "", t.len,
                head);
    }
    free(t.buf);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    conn_t *c = h->data;
    if (c->draining) c->len = 0; /* the rest is dropped */
    size_t room = c->srv->cfg.max_request - c->len;
    *buf = uv_buf_init(c->req + c->len, (unsigned)room);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    conn_t *c = s->data;
    if (c->closing) return;
    if (c->draining) {
        if (nread < 0) conn_close(c);
        return;
    }
    if (c->resp) return;
    if (nread < 0) {
        conn_close(c); /* EOF before a whole head, or an error */
        return;
    }
    if (nread == 0) return;
    c->len += (size_t)nread;
    c->req[c->len] = '\0';
    if (memchr(c->req, '\0', c->len)) { /* NUL bytes: not HTTP */
        c->srv->stats.bad_requests++;
        respond_text(c, 400, "Bad Request", "bad request\n");
        return;
    }
    if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n")) {
        handle_request(c);
        return;
    }
    if (c->len >= c->srv->cfg.max_request) {
        c->srv->stats.bad_requests++;
        respond_text(c, 431, "Request Header Fields Too Large", "request head too large\n");
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    gpsc_prom_t *p = server->data;
    if (status < 0 || p->closing) return;
    conn_t *c = calloc(1, sizeof *c);
    char *req = c ? malloc(p->cfg.max_request + 1) : NULL;
    if (!c || !req) {
        free(c);
        free(req);
        return; /* libuv accepts again once memory allows */
    }
    c->srv = p;
    c->req = req;
    c->t0 = uv_now(p->loop);
    uv_tcp_init(p->loop, &c->tcp);
    c->tcp.data = c;
    p->handles++;
    c->next = p->conns;
    if (p->conns) p->conns->prev = c;
    p->conns = c;
    p->nconns++;
    uv_unref((uv_handle_t *)&c->tcp);
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    if (p->nconns > p->cfg.max_clients) {
        p->stats.rejected++;
        conn_close(c);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0) conn_close(c);
}

/* connections older than the timeout go */
static void on_sweep(uv_timer_t *t)
{
    gpsc_prom_t *p = t->data;
    uint64_t now = uv_now(p->loop);
    conn_t *c = p->conns;
    while (c) {
        conn_t *next = c->next;
        if (now - c->t0 >= (uint64_t)p->cfg.timeout_ms) {
            p->stats.timeouts++;
            conn_close(c);
        }
        c = next;
    }
}

/* ------------------------------------------------------------------ the server */

int gpsc_prom_parse_addr(const char *addr, struct sockaddr_storage *out, char *err, size_t errsz)
{
    if (!addr || !out) return GPSC_EINVAL;
    memset(out, 0, sizeof *out);
    char host[128];
    const char *colon = strrchr(addr, ':');
    if (!colon || colon - addr >= (long)sizeof host) goto bad;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || port < 0 || port > 65535) goto bad;
    if (host[0] == '[') {
        size_t n = strlen(host);
        if (n < 3 || host[n - 1] != ']') goto bad;
        host[n - 1] = '\0';
        if (uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)out) != 0) goto bad;
        return 0;
    }
    if (!host[0] || strcmp(host, "*") == 0) snprintf(host, sizeof host, "0.0.0.0");
    if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)out) != 0) goto bad;
    return 0;
bad:
    if (err && errsz)
        snprintf(err, errsz,
                 "bad address '%s' (want HOST:PORT with a numeric host, e.g. 127.0.0.1:9464, "
                 "[::1]:9464 or :9464)",
                 addr);
    return GPSC_EINVAL;
}

/* closes what is open and waits for the close callbacks */
static void shut(gpsc_prom_t *p)
{
    p->closing = true;
    while (p->conns)
        conn_close(p->conns);
    if (!uv_is_closing((uv_handle_t *)&p->listener))
        uv_close((uv_handle_t *)&p->listener, on_handle_closed);
    if (!uv_is_closing((uv_handle_t *)&p->sweep))
        uv_close((uv_handle_t *)&p->sweep, on_handle_closed);
    while (p->handles > 0)
        uv_run(p->loop, UV_RUN_NOWAIT);
}

gpsc_prom_t *gpsc_prom_new(uv_loop_t *loop, const gpsc_prom_cfg_t *cfg, gpsc_prom_collect_fn fn,
                           void *ud, char *err, size_t errsz)
{
    struct sockaddr_storage sa;
    if (!loop || !cfg || gpsc_prom_parse_addr(cfg->addr, &sa, err, errsz) != 0) return NULL;
    gpsc_prom_t *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    p->loop = loop;
    p->cfg = *cfg;
    p->cfg.addr = NULL;
    if (p->cfg.timeout_ms <= 0) p->cfg.timeout_ms = 5000;
    if (p->cfg.max_clients <= 0) p->cfg.max_clients = 64;
    if (p->cfg.max_request < 64) p->cfg.max_request = 8192;
    p->fn = fn;
    p->ud = ud;
    uv_tcp_init(loop, &p->listener);
    uv_timer_init(loop, &p->sweep);
    p->listener.data = p->sweep.data = p;
    p->handles = 2;
    uv_unref((uv_handle_t *)&p->listener);
    uv_unref((uv_handle_t *)&p->sweep);
    int rc = uv_tcp_bind(&p->listener, (const struct sockaddr *)&sa, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&p->listener, 128, on_connection);
    if (rc != 0) {
        snprintf(err, errsz, "cannot listen on %s: %s", cfg->addr, uv_strerror(rc));
        shut(p);
        free(p);
        return NULL;
    }
    uv_timer_start(&p->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
    /* where it is */
    struct sockaddr_storage got;
    int len = sizeof got;
    char host[64] = "?";
    if (uv_tcp_getsockname(&p->listener, (struct sockaddr *)&got, &len) == 0) {
        if (got.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&got, host, sizeof host);
            p->port = ntohs(((struct sockaddr_in6 *)&got)->sin6_port);
            char b[64];
            snprintf(b, sizeof b, "%s", host);
            snprintf(host, sizeof host, "[%.60s]", b);
        } else {
            uv_ip4_name((struct sockaddr_in *)&got, host, sizeof host);
            p->port = ntohs(((struct sockaddr_in *)&got)->sin_port);
        }
    }
    snprintf(p->url, sizeof p->url, "http://%s:%d/metrics", host, p->port);
    return p;
}

const char *gpsc_prom_url(const gpsc_prom_t *p)
{
    return p ? p->url : "";
}

int gpsc_prom_port(const gpsc_prom_t *p)
{
    return p ? p->port : 0;
}

int gpsc_prom_write_endpoint(const gpsc_prom_t *p, const char *run_dir)
{
    if (!p || !run_dir) return GPSC_EINVAL;
    char path[4096];
    snprintf(path, sizeof path, "%s/endpoints", run_dir);
    FILE *f = fopen(path, "a");
    if (!f) return GPSC_EIO;
    fprintf(f, "metrics %s\n", p->url);
    return fclose(f) == 0 ? 0 : GPSC_EIO;
}

void gpsc_prom_stats(const gpsc_prom_t *p, gpsc_prom_stats_t *out)
{
    if (!out) return;
    if (p)
        *out = p->stats;
    else
        memset(out, 0, sizeof *out);
}

void gpsc_prom_destroy(gpsc_prom_t **pp)
{
    if (!pp || !*pp) return;
    shut(*pp);
    free(*pp);
    *pp = NULL;
}

/* ------------------------------------------------------------------ the coordinator's metrics */

static void one(gpsc_prom_text_t *t, const char *name, const char *type, const char *help,
                const char *labels, double v)
{
    gpsc_prom_family(t, name, type, help);
    gpsc_prom_sample(t, name, labels, v);
}

void gpsc_prom_coord_collect(gpsc_prom_text_t *t, void *ud)
{
    const gpsc_coord_t *c = ud ? *(gpsc_coord_t *const *)ud : NULL;
    if (!c) return;
    gpsc_coord_counters_t k;
    gpsc_coord_counters(c, &k);
    const gpsc_experiment_t *e = gpsc_coord_experiment(c);
    char lab[1024] = "";
    gpsc_prom_label(lab, sizeof lab, "run_id", gpsc_coord_run_id(c));
    gpsc_prom_label(lab, sizeof lab, "experiment", e && e->name ? e->name : "");
    gpsc_prom_label(lab, sizeof lab, "algorithm", e ? gpsc_exp_algorithm_name(e->algo.type) : "");
    one(t, "gpsc_run_info", "gauge", "The run this coordinator drives (always 1).", lab, 1);

    /* counters since this coordinator process started */
    one(t, "gpsc_rollouts_done_total", "counter",
        "Rollouts stored (the first valid result of each task).", NULL, (double)k.rollouts_done);
    one(t, "gpsc_rollouts_failed_total", "counter", "Rollouts the workers reported as failed.",
        NULL, (double)k.rollouts_failed);
    one(t, "gpsc_rollouts_reissued_total", "counter",
        "Tasks handed out again (timeout, lost worker, failed result).", NULL, (double)k.reissued);
    one(t, "gpsc_rollouts_duplicate_total", "counter",
        "Duplicate results of a task already done, dropped.", NULL, (double)k.duplicates);
    one(t, "gpsc_rollouts_rejected_total", "counter",
        "Trajectories refused because they did not fit their task.", NULL, (double)k.rejected);
    one(t, "gpsc_messages_refused_total", "counter",
        "Messages refused (malformed, wrong version, unknown peer, wrong role, ...).", NULL,
        (double)k.refused);
    one(t, "gpsc_workers_lost_total", "counter", "Workers declared dead.", NULL,
        (double)k.workers_lost);

    /* where the run is */
    one(t, "gpsc_workers_alive", "gauge", "Workers connected and alive.", NULL, k.workers);
    one(t, "gpsc_learner_connected", "gauge", "1 when a learner is connected.", NULL,
        k.learner ? 1 : 0);
    one(t, "gpsc_iteration", "gauge",
        "Iteration being sampled (0-based; the number of iterations once they are all done).", NULL,
        k.iteration);
    one(t, "gpsc_iterations_planned", "gauge", "Iterations of the run.", NULL, k.iterations);
    one(t, "gpsc_samples_done", "gauge", "Tasks of the current plan that are done.", NULL,
        k.samples_done);
    one(t, "gpsc_samples_planned", "gauge", "Tasks of the current plan.", NULL, k.samples_total);
    one(t, "gpsc_run_finished", "gauge", "1 once the run ended.", NULL, k.finished ? 1 : 0);
    static const char *phases[] = {"waiting", "sampling", "learning", "evaluation", "done"};
    gpsc_prom_family(t, "gpsc_phase", "gauge", "1 for the phase the run is in, 0 for the others.");
    for (int i = 0; i < 5; i++) {
        char pl[64] = "";
        gpsc_prom_label(pl, sizeof pl, "phase", phases[i]);
        gpsc_prom_sample(t, "gpsc_phase", pl, strcmp(k.phase, phases[i]) == 0 ? 1 : 0);
    }
    gpsc_prom_family(t, "gpsc_condition_cost", "gauge",
                     "Mean sampled cost of a training condition in the last finished "
                     "iteration (NaN before one).");
    for (int m = 0; m < k.conditions; m++) {
        char cl[64] = "", num[16];
        snprintf(num, sizeof num, "%d", m);
        gpsc_prom_label(cl, sizeof cl, "condition", num);
        gpsc_prom_sample(t, "gpsc_condition_cost", cl, gpsc_coord_condition_cost(c, m));
    }
}
