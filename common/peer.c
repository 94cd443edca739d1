/* peer.c — the client side of the coordinator's control plane (see peer.h). */
#include "common/peer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"

/* one queued log record */
typedef struct logq_item {
    long long time_ms; /* ms since the epoch */
    gpsc_log_level_t level;
    long long iteration;
    char run_id[64];
    char *msg; /* malloc'd */
} logq_item_t;

struct gpsc_peer {
    /* configuration */
    Gpsc__Role role;
    char id[GPSC_WIRE_MAX_ID + 1];
    const Gpsc__Hello *hello; /* borrowed */
    uint32_t hello_retry_ms;  /* (ms) */
    void *sock;               /* DEALER */
    uint64_t seq;             /* last sequence number sent */
    uint64_t start_ms;        /* (ms, monotonic) creation */

    /* the coordinator */
    bool welcomed;          /* Welcome received and not lost since */
    unsigned welcomes;      /* Welcomes received */
    uint64_t last_hello_ms; /* (ms) last Hello sent, 0 = never */
    uint64_t last_hb_ms;    /* (ms) last Heartbeat sent */
    uint64_t last_rx_ms;    /* (ms) last message received */
    char run_id[GPSC_WIRE_MAX_ID + 1];
    char config_hash[GPSC_WIRE_MAX_ID + 1];
    char *config_yaml; /* malloc'd, "" before a Welcome */
    uint64_t run_seed;
    uint32_t hb_ms, timeout_ms; /* (ms) from the Welcome */

    /* heartbeat contents */
    uint32_t inflight, iteration;
    uint64_t completed;

    /* forwarded log records: a ring under mu (the hook runs on any thread) */
    pthread_mutex_t mu;
    logq_item_t *q; /* (qcap) */
    size_t qcap, qhead, qlen;
    unsigned long dropped; /* records that found the queue full */
    bool hooked;
};

uint64_t gpsc_peer_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

gpsc_peer_t *gpsc_peer_new(void *ctx, const gpsc_peer_cfg_t *cfg, char *err, size_t errsz)
{
    if (!ctx || !cfg || !cfg->id || !cfg->endpoint || !cfg->hello || !*cfg->id ||
        strlen(cfg->id) > GPSC_WIRE_MAX_ID) {
        snprintf(err, errsz, "peer: missing id, endpoint or hello");
        return NULL;
    }
    gpsc_peer_t *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    p->role = cfg->role;
    snprintf(p->id, sizeof p->id, "%s", cfg->id);
    p->hello = cfg->hello;
    p->hello_retry_ms = cfg->hello_retry_ms ? cfg->hello_retry_ms : 1000;
    p->qcap = cfg->log_queue ? cfg->log_queue : 1024;
    p->q = calloc(p->qcap, sizeof *p->q);
    p->config_yaml = calloc(1, 1);
    pthread_mutex_init(&p->mu, NULL);
    p->start_ms = p->last_rx_ms = gpsc_peer_now_ms();
    if (!p->q || !p->config_yaml) {
        snprintf(err, errsz, "out of memory");
        gpsc_peer_destroy(&p);
        return NULL;
    }
    gpsc_wire_opts_t o;
    gpsc_wire_opts_default(&o);
    if (cfg->max_msg_size) o.max_msg_size = cfg->max_msg_size;
    o.routing_id = p->id;
    o.linger_ms = 1000;
    if (cfg->curve_keys) {
        o.curve = GPSC_WIRE_CURVE_CLIENT;
        o.curve_keys = cfg->curve_keys;
        o.curve_server_key = cfg->curve_server_key;
    }
    p->sock = gpsc_wire_socket(ctx, GPSC_WIRE_DEALER, &o, err, errsz);
    if (!p->sock) {
        gpsc_peer_destroy(&p);
        return NULL;
    }
    if (gpsc_wire_connect(p->sock, cfg->endpoint) != 0) {
        snprintf(err, errsz, "cannot connect to '%s'", cfg->endpoint);
        gpsc_peer_destroy(&p);
        return NULL;
    }
    return p;
}

void gpsc_peer_destroy(gpsc_peer_t **pp)
{
    if (!pp || !*pp) return;
    gpsc_peer_t *p = *pp;
    if (p->hooked) gpsc_log_set_hook(NULL, NULL);
    gpsc_wire_close(&p->sock);
    if (p->q)
        for (size_t i = 0; i < p->qlen; i++)
            free(p->q[(p->qhead + i) % p->qcap].msg);
    free(p->q);
    free(p->config_yaml);
    pthread_mutex_destroy(&p->mu);
    free(p);
    *pp = NULL;
}

void *gpsc_peer_socket(gpsc_peer_t *p)
{
    return p ? p->sock : NULL;
}

int gpsc_peer_send(gpsc_peer_t *p, Gpsc__Envelope__BodyCase body_case, const void *body)
{
    if (!p || !body) return GPSC_EINVAL;
    Gpsc__Envelope env;
    gpsc_wire_env_init(&env, p->role, p->id, ++p->seq);
    env.run_id = p->run_id;
    env.time_ns = wall_ns();
    env.body_case = body_case;
    env.hello = (Gpsc__Hello *)body; /* the body union: every member is a pointer */
    return gpsc_wire_send(p->sock, NULL, &env, GPSC_WIRE_DONTWAIT);
}

void gpsc_peer_set_status(gpsc_peer_t *p, uint32_t inflight, uint64_t completed, uint32_t iteration)
{
    if (!p) return;
    p->inflight = inflight;
    p->completed = completed;
    p->iteration = iteration;
}

/* ------------------------------------------------------------------ logs */

/* the gpsc_log hook: queue a copy (runs under the logger's lock, any thread) */
static void log_hook(const gpsc_log_record_t *rec, void *ud)
{
    gpsc_peer_t *p = ud;
    char *msg = strdup(rec->msg ? rec->msg : "");
    pthread_mutex_lock(&p->mu);
    if (!msg || p->qlen == p->qcap) {
        p->dropped++;
        free(msg);
    } else {
        logq_item_t *it = &p->q[(p->qhead + p->qlen) % p->qcap];
        it->time_ms = rec->time_ms;
        it->level = rec->level;
        it->iteration = rec->iteration;
        snprintf(it->run_id, sizeof it->run_id, "%s", rec->run_id ? rec->run_id : "");
        it->msg = msg;
        p->qlen++;
    }
    pthread_mutex_unlock(&p->mu);
}

void gpsc_peer_forward_logs(gpsc_peer_t *p, bool on)
{
    if (!p) return;
    gpsc_log_set_hook(on ? log_hook : NULL, on ? p : NULL);
    p->hooked = on;
}

static Gpsc__LogLevel wire_level(gpsc_log_level_t l)
{
    switch (l) {
    case GPSC_LOG_DEBUG:
        return GPSC__LOG_LEVEL__LOG_DEBUG;
    case GPSC_LOG_INFO:
        return GPSC__LOG_LEVEL__LOG_INFO;
    case GPSC_LOG_WARN:
        return GPSC__LOG_LEVEL__LOG_WARN;
    case GPSC_LOG_ERROR:
        return GPSC__LOG_LEVEL__LOG_ERROR;
    }
    return GPSC__LOG_LEVEL__LOG_INFO;
}

/* one record out; the text is cut to the wire's limit at a UTF-8 boundary */
static void send_record(gpsc_peer_t *p, const logq_item_t *it)
{
    Gpsc__LogRecord r = GPSC__LOG_RECORD__INIT;
    r.time = (double)it->time_ms / 1000.0;
    r.level = wire_level(it->level);
    r.role = p->role;
    r.pid = (uint32_t)getpid();
    r.run_id = (char *)(it->run_id[0] ? it->run_id : p->run_id);
    r.iteration = it->iteration < -1          ? -1
                  : it->iteration > INT32_MAX ? INT32_MAX
                                              : (int32_t)it->iteration;
    size_t n = strlen(it->msg);
    if (n > GPSC_WIRE_MAX_LOG - 1) {
        n = GPSC_WIRE_MAX_LOG - 1;
        while (n > 0 && ((unsigned char)it->msg[n] & 0xC0) == 0x80)
            n--;
        it->msg[n] = '\0';
    }
    r.message = it->msg;
    r.sender_id = p->id;
    (void)gpsc_peer_send(p, GPSC__ENVELOPE__BODY_LOG_RECORD, &r);
}

/* sends what the queue holds (outside the lock: sending may log nothing,
 * but the logger must never wait for the socket) */
static void flush_logs(gpsc_peer_t *p)
{
    for (;;) {
        logq_item_t it;
        unsigned long dropped;
        pthread_mutex_lock(&p->mu);
        if (p->qlen == 0) {
            pthread_mutex_unlock(&p->mu);
            return;
        }
        it = p->q[p->qhead];
        p->q[p->qhead].msg = NULL;
        p->qhead = (p->qhead + 1) % p->qcap;
        p->qlen--;
        dropped = p->dropped;
        p->dropped = 0;
        pthread_mutex_unlock(&p->mu);
        if (dropped) {
            char text[96];
            snprintf(text, sizeof text, "%lu log records dropped (queue full)", dropped);
            logq_item_t d = {it.time_ms, GPSC_LOG_WARN, it.iteration, "", text};
            send_record(p, &d);
        }
        send_record(p, &it);
        free(it.msg);
    }
}

/* ------------------------------------------------------------------ timing */

static void send_hello(gpsc_peer_t *p, uint64_t now)
{
    p->last_hello_ms = now;
    (void)gpsc_peer_send(p, GPSC__ENVELOPE__BODY_HELLO, p->hello);
}

long gpsc_peer_tick(gpsc_peer_t *p)
{
    if (!p) return 1000;
    uint64_t now = gpsc_peer_now_ms();
    /* a silent coordinator is gone (it may come back: Hello again) */
    if (p->welcomed && p->timeout_ms && now - p->last_rx_ms > p->timeout_ms) p->welcomed = false;
    long next = 1000;
    if (!p->welcomed) {
        if (p->last_hello_ms == 0 || now - p->last_hello_ms >= p->hello_retry_ms)
            send_hello(p, now);
        uint64_t due = p->last_hello_ms + p->hello_retry_ms;
        next = due > now ? (long)(due - now) : 0;
    } else {
        if (now - p->last_hb_ms >= p->hb_ms) {
            Gpsc__Heartbeat hb = GPSC__HEARTBEAT__INIT;
            hb.inflight = p->inflight;
            hb.completed = p->completed;
            hb.uptime_ms = now - p->start_ms;
            hb.iteration = p->iteration;
            p->last_hb_ms = now;
            (void)gpsc_peer_send(p, GPSC__ENVELOPE__BODY_HEARTBEAT, &hb);
        }
        flush_logs(p);
        uint64_t due = p->last_hb_ms + p->hb_ms;
        next = due > now ? (long)(due - now) : 0;
    }
    return next > 1000 ? 1000 : next;
}

/* ------------------------------------------------------------------ receiving */

static void take_welcome(gpsc_peer_t *p, const Gpsc__Welcome *w)
{
    snprintf(p->run_id, sizeof p->run_id, "%s", w->run_id ? w->run_id : "");
    snprintf(p->config_hash, sizeof p->config_hash, "%s", w->config_hash ? w->config_hash : "");
    char *y = strdup(w->config_yaml ? w->config_yaml : "");
    if (y) {
        free(p->config_yaml);
        p->config_yaml = y;
    }
    p->run_seed = w->run_seed;
    p->hb_ms = w->heartbeat_interval_ms ? w->heartbeat_interval_ms : 1000;
    p->timeout_ms = w->heartbeat_timeout_ms;
    p->welcomed = true;
    p->welcomes++;
    p->last_hb_ms = 0; /* a heartbeat right away */
}

int gpsc_peer_recv(gpsc_peer_t *p, gpsc_wire_msg_t **out, char *err, size_t errsz)
{
    if (!p || !out) return GPSC_EINVAL;
    *out = NULL;
    for (;;) {
        gpsc_wire_msg_t *m = NULL;
        int rc = gpsc_wire_recv(p->sock, &m, NULL, GPSC_WIRE_DONTWAIT, err, errsz);
        if (rc == GPSC_EAGAIN) return rc;
        p->last_rx_ms = gpsc_peer_now_ms();
        if (rc) return rc;
        const Gpsc__Envelope *env = gpsc_wire_msg_env(m);
        switch (env->body_case) {
        case GPSC__ENVELOPE__BODY_HEARTBEAT:
            gpsc_wire_msg_destroy(&m);
            continue;
        case GPSC__ENVELOPE__BODY_WELCOME:
            take_welcome(p, env->welcome);
            break;
        case GPSC__ENVELOPE__BODY_REFUSE:
            if (env->refuse->error_code == GPSC_EUNKNOWN_PEER) {
                /* the coordinator does not know us (restarted): introduce ourselves */
                if (p->welcomed || p->last_hello_ms + 200 < p->last_rx_ms) {
                    p->welcomed = false;
                    send_hello(p, p->last_rx_ms);
                }
                gpsc_wire_msg_destroy(&m);
                continue;
            }
            break;
        default:
            break;
        }
        *out = m;
        return 0;
    }
}

bool gpsc_peer_welcomed(const gpsc_peer_t *p)
{
    return p && p->welcomed;
}

const char *gpsc_peer_run_id(const gpsc_peer_t *p)
{
    return p ? p->run_id : "";
}

uint64_t gpsc_peer_run_seed(const gpsc_peer_t *p)
{
    return p ? p->run_seed : 0;
}

const char *gpsc_peer_config_hash(const gpsc_peer_t *p)
{
    return p ? p->config_hash : "";
}

const char *gpsc_peer_config_yaml(const gpsc_peer_t *p)
{
    return p ? p->config_yaml : "";
}

uint32_t gpsc_peer_heartbeat_ms(const gpsc_peer_t *p)
{
    return p ? p->hb_ms : 0;
}

uint32_t gpsc_peer_timeout_ms(const gpsc_peer_t *p)
{
    return p ? p->timeout_ms : 0;
}

unsigned gpsc_peer_welcomes(const gpsc_peer_t *p)
{
    return p ? p->welcomes : 0;
}

uint64_t gpsc_peer_silence_ms(const gpsc_peer_t *p)
{
    return p ? gpsc_peer_now_ms() - p->last_rx_ms : 0;
}
