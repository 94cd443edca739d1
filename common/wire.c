/* wire.c — envelopes, validation, ZeroMQ sockets, CURVE and ZAP.
 *
 * The only file that calls libzmq or packs/unpacks protobuf-c messages.
 * Sections: helpers, validation (one function per message), decoding
 * (a scan of the top-level wire format, then protobuf-c with a bounded
 * allocator, then validation), sockets, CURVE key files, the ZAP handler. */
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <protobuf-c/protobuf-c.h>
#include <zmq.h>

#include "error.h"

/* ================================================================== helpers */

/* Where validation reports: the caller's message buffer. */
typedef struct ebuf {
    char *buf;
    size_t size;
} ebuf_t;

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != 0) return rc_;                                                                  \
    } while (0)

__attribute__((format(printf, 3, 4))) static int fail(const ebuf_t *e, int code, const char *fmt,
                                                      ...)
{
    if (e && e->buf && e->size > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->buf, e->size, fmt, ap);
        va_end(ap);
    }
    return code;
}

static void clear_err(char *err, size_t errsz)
{
    if (err && errsz > 0) err[0] = '\0';
}

/* a * b, saturating at UINT64_MAX (a length that can never match) */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    if (__builtin_mul_overflow(a, b, &r)) return UINT64_MAX;
    return r;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    uint64_t r;
    if (__builtin_add_overflow(a, b, &r)) return UINT64_MAX;
    return r;
}

static uint64_t mul3(uint64_t a, uint64_t b, uint64_t c)
{
    return mul_sat(mul_sat(a, b), c);
}

/* printable ASCII without space, 1..GPSC_WIRE_MAX_ID bytes (or empty when
 * not required) */
static int chk_ident(const ebuf_t *e, const char *ctx, const char *field, const char *s,
                     bool required)
{
    if (!s || !*s) {
        if (required) return fail(e, GPSC_EMALFORMED, "%s: %s is empty", ctx, field);
        return 0;
    }
    size_t n = strnlen(s, GPSC_WIRE_MAX_ID + 1);
    if (n > GPSC_WIRE_MAX_ID)
        return fail(e, GPSC_ERANGE, "%s: %s is longer than %u bytes", ctx, field, GPSC_WIRE_MAX_ID);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e)
            return fail(e, GPSC_EMALFORMED,
                        "%s: %s has byte 0x%02x at %zu (identifiers are "
                        "printable ASCII without spaces)",
                        ctx, field, c, i);
    }
    return 0;
}

/* strict UTF-8 (no overlong forms, no surrogates, <= U+10FFFF) */
static bool utf8_ok(const unsigned char *s, size_t n, size_t *bad)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t need;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
        } else if (c == 0xe0) {
            need = 2, lo = 0xa0;
        } else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) {
            need = 2;
        } else if (c == 0xed) {
            need = 2, hi = 0x9f;
        } else if (c == 0xf0) {
            need = 3, lo = 0x90;
        } else if (c >= 0xf1 && c <= 0xf3) {
            need = 3;
        } else if (c == 0xf4) {
            need = 3, hi = 0x8f;
        } else {
            *bad = i;
            return false;
        }
        if (n - i - 1 < need) {
            *bad = i;
            return false;
        }
        for (size_t k = 1; k <= need; k++) {
            unsigned char d = s[i + k];
            unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xbf;
            if (d < l || d > h) {
                *bad = i;
                return false;
            }
        }
        i += need + 1;
    }
    return true;
}

static int chk_text(const ebuf_t *e, const char *ctx, const char *field, const char *s, size_t max)
{
    if (!s) return 0;
    size_t n = strnlen(s, max + 1);
    if (n > max) return fail(e, GPSC_ERANGE, "%s: %s is longer than %zu bytes", ctx, field, max);
    size_t bad = 0;
    if (!utf8_ok((const unsigned char *)s, n, &bad))
        return fail(e, GPSC_EMALFORMED, "%s: %s is not UTF-8 (byte %zu)", ctx, field, bad);
    return 0;
}

static int chk_range(const ebuf_t *e, const char *ctx, const char *field, uint64_t v, uint64_t lo,
                     uint64_t hi)
{
    if (v < lo || v > hi)
        return fail(e, GPSC_ERANGE, "%s: %s = %llu is outside [%llu, %llu]", ctx, field,
                    (unsigned long long)v, (unsigned long long)lo, (unsigned long long)hi);
    return 0;
}

static int chk_code(const ebuf_t *e, const char *ctx, const char *field, int32_t v)
{
    if (v > 0)
        return fail(e, GPSC_ERANGE, "%s: %s = %d is not a GPSC_E* code (<= 0)", ctx, field, (int)v);
    return 0;
}

static int chk_finite(const ebuf_t *e, const char *ctx, const char *field, const double *v,
                      size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return fail(e, GPSC_ENONFINITE, "%s: %s[%zu] is %s", ctx, field, i,
                        isnan(v[i]) ? "NaN" : "Inf");
    return 0;
}

static int chk_scalar(const ebuf_t *e, const char *ctx, const char *field, double v, bool nonneg)
{
    if (!isfinite(v))
        return fail(e, GPSC_ENONFINITE, "%s: %s is %s", ctx, field, isnan(v) ? "NaN" : "Inf");
    if (nonneg && v < 0) return fail(e, GPSC_ERANGE, "%s: %s = %g is negative", ctx, field, v);
    return 0;
}

/* An array of `want` finite values (`shape` names the product for the
 * message), or an empty one when empty_ok. */
static int chk_array(const ebuf_t *e, const char *ctx, const char *field, const double *v, size_t n,
                     uint64_t want, bool empty_ok, const char *shape)
{
    if (n == 0 && empty_ok) return 0;
    if ((uint64_t)n != want)
        return fail(e, GPSC_EDIM, "%s: %s has %zu values, %s = %llu", ctx, field, n, shape,
                    (unsigned long long)want);
    if (n > 0 && !v)
        return fail(e, GPSC_EMALFORMED, "%s: %s is NULL with %zu values", ctx, field, n);
    return chk_finite(e, ctx, field, v, n);
}

/* T stacked (dU x dU) upper Cholesky factors with positive diagonals */
static int chk_chol(const ebuf_t *e, const char *ctx, const char *field, const double *U,
                    uint32_t T, uint32_t dU)
{
    for (uint32_t t = 0; t < T; t++) {
        const double *u = U + (size_t)t * dU * dU;
        for (uint32_t i = 0; i < dU; i++) {
            if (!(u[(size_t)i * dU + i] > 0))
                return fail(e, GPSC_ENOTPD, "%s: %s[t=%u] has diagonal %u = %g <= 0", ctx, field, t,
                            i, u[(size_t)i * dU + i]);
            for (uint32_t j = 0; j < i; j++)
                if (u[(size_t)i * dU + j] != 0)
                    return fail(e, GPSC_ENOTPD,
                                "%s: %s[t=%u] is not upper triangular "
                                "(entry %u,%u = %g)",
                                ctx, field, t, i, j, u[(size_t)i * dU + j]);
        }
    }
    return 0;
}

static int chk_role(const ebuf_t *e, const char *ctx, const char *field, int role)
{
    if (role < GPSC__ROLE__ROLE_COORDINATOR || role > GPSC__ROLE__ROLE_CLIENT)
        return fail(e, GPSC_EROLE, "%s: %s = %d is not a known role", ctx, field, role);
    return 0;
}

static int chk_kind(const ebuf_t *e, const char *ctx, const char *field, int kind)
{
    if (kind != GPSC__POLICY_KIND__POLICY_LOCAL && kind != GPSC__POLICY_KIND__POLICY_GLOBAL)
        return fail(e, GPSC_ERANGE, "%s: %s = %d is not POLICY_LOCAL or POLICY_GLOBAL", ctx, field,
                    kind);
    return 0;
}

static int need(const ebuf_t *e, const char *ctx, const char *field, const void *p)
{
    if (!p) return fail(e, GPSC_EMALFORMED, "%s: %s is missing", ctx, field);
    return 0;
}

/* "ctx.field" or "ctx.field[i]" into buf (truncated names are fine: they
 * only label messages) */
static const char *sub(char *buf, size_t n, const char *ctx, const char *field, long i)
{
    int w = i < 0 ? snprintf(buf, n, "%s.%s", ctx, field)
                  : snprintf(buf, n, "%s.%s[%ld]", ctx, field, i);
    if (w < 0 && n > 0) buf[0] = '\0';
    return buf;
}

#define CTXN 160 /* bytes of a nested context name */

/* ================================================================== names */

static const char *const body_names[] = {
    "hello",          "welcome",           "refuse",         "heartbeat",        "work_request",
    "rollout_task",   "trajectory",        "trajectory_ack", "lin_gauss_policy", "network_policy",
    "policy_request", "iteration_control", "log_record",     "metrics",          "checkpoint"};

const char *gpsc_wire_body_name(int body_case)
{
    int i = body_case - GPSC__ENVELOPE__BODY_HELLO;
    if (body_case == GPSC__ENVELOPE__BODY__NOT_SET) return "none";
    if (i < 0 || i >= (int)(sizeof body_names / sizeof body_names[0])) return "unknown";
    return body_names[i];
}

const char *gpsc_wire_role_name(int role)
{
    switch (role) {
    case GPSC__ROLE__ROLE_COORDINATOR:
        return "coordinator";
    case GPSC__ROLE__ROLE_LEARNER:
        return "learner";
    case GPSC__ROLE__ROLE_WORKER:
        return "worker";
    case GPSC__ROLE__ROLE_CLIENT:
        return "client";
    default:
        return "unknown";
    }
}

void gpsc_wire_env_init(Gpsc__Envelope *env, Gpsc__Role role, const char *sender_id, uint64_t seq)
{
    *env = (Gpsc__Envelope)GPSC__ENVELOPE__INIT;
    env->version = GPSC_WIRE_VERSION;
    env->sender_role = role;
    env->sender_id = (char *)(sender_id ? sender_id : protobuf_c_empty_string);
    env->seq = seq;
}

/* ================================================================== validation */

static int v_key(const ebuf_t *e, const char *ctx, const Gpsc__TaskKey *k)
{
    return need(e, ctx, "key", k);
}

static int v_policy_version(const ebuf_t *e, const char *ctx, const Gpsc__PolicyVersion *p)
{
    TRY(need(e, ctx, "policy", p));
    TRY(chk_kind(e, ctx, "kind", p->kind));
    if (p->kind == GPSC__POLICY_KIND__POLICY_GLOBAL && p->condition != 0)
        return fail(e, GPSC_ERANGE, "%s: condition = %u of a global policy (must be 0)", ctx,
                    p->condition);
    return 0;
}

static int v_tensors(const ebuf_t *e, const char *ctx, const char *field, size_t n,
                     Gpsc__Tensor *const *ts)
{
    char c[CTXN];
    for (size_t i = 0; i < n; i++) {
        const Gpsc__Tensor *t = ts[i];
        sub(c, sizeof c, ctx, field, (long)i);
        TRY(need(e, c, "tensor", t));
        TRY(chk_ident(e, c, "name", t->name, true));
        TRY(chk_range(e, c, "rank", t->n_shape, 1, GPSC_WIRE_MAX_TENSOR_RANK));
        uint64_t want = 1;
        for (size_t k = 0; k < t->n_shape; k++) {
            if (t->shape[k] < 1) return fail(e, GPSC_ERANGE, "%s: shape[%zu] is 0", c, k);
            want = mul_sat(want, t->shape[k]);
        }
        TRY(chk_array(e, c, "data", t->data, t->n_data, want, false, "prod(shape)"));
        for (size_t k = 0; k < i; k++)
            if (ts[k] && strcmp(ts[k]->name, t->name) == 0)
                return fail(e, GPSC_EDUP, "%s: name '%s' repeats %s[%zu]", c, t->name, field, k);
    }
    return 0;
}

static int v_capabilities(const ebuf_t *e, const char *ctx, const Gpsc__Capabilities *m)
{
    TRY(chk_range(e, ctx, "slots", m->slots, 1, GPSC_WIRE_MAX_CREDIT));
    TRY(chk_range(e, ctx, "max_inflight", m->max_inflight, m->slots, GPSC_WIRE_MAX_CREDIT));
    TRY(chk_range(e, ctx, "dX", m->dx, 1, GPSC_WIRE_MAX_DIM));
    TRY(chk_range(e, ctx, "dU", m->du, 1, GPSC_WIRE_MAX_DIM));
    TRY(chk_range(e, ctx, "dO", m->do_, 0, GPSC_WIRE_MAX_DIM));
    TRY(chk_range(e, ctx, "P", m->p, 0, GPSC_WIRE_MAX_DIM));
    TRY(chk_range(e, ctx, "dQ", m->dq, 0, GPSC_WIRE_MAX_DIM));
    return chk_ident(e, ctx, "mujoco_version", m->mujoco_version, false);
}

static int v_hello(const ebuf_t *e, const char *ctx, const Gpsc__Hello *m)
{
    TRY(need(e, ctx, "hello", m));
    if (m->protocol_version != GPSC_WIRE_VERSION)
        return fail(e, GPSC_EVERSION, "%s: protocol_version %u, this build speaks %u", ctx,
                    m->protocol_version, GPSC_WIRE_VERSION);
    TRY(chk_role(e, ctx, "role", m->role));
    if (m->role == GPSC__ROLE__ROLE_WORKER) {
        char c[CTXN];
        TRY(need(e, ctx, "capabilities", m->capabilities));
        TRY(chk_ident(e, ctx, "task_name", m->task_name, true));
        TRY(v_capabilities(e, sub(c, sizeof c, ctx, "capabilities", -1), m->capabilities));
    } else {
        TRY(chk_ident(e, ctx, "task_name", m->task_name, false));
        if (m->capabilities) {
            char c[CTXN];
            TRY(v_capabilities(e, sub(c, sizeof c, ctx, "capabilities", -1), m->capabilities));
        }
    }
    TRY(chk_ident(e, ctx, "model_hash", m->model_hash, false));
    TRY(chk_ident(e, ctx, "hostname", m->hostname, false));
    return chk_ident(e, ctx, "run_id", m->run_id, false);
}

static int v_welcome(const ebuf_t *e, const char *ctx, const Gpsc__Welcome *m)
{
    TRY(need(e, ctx, "welcome", m));
    TRY(chk_ident(e, ctx, "run_id", m->run_id, true));
    TRY(chk_range(e, ctx, "heartbeat_interval_ms", m->heartbeat_interval_ms, 1, 3600000));
    TRY(chk_range(e, ctx, "heartbeat_timeout_ms", m->heartbeat_timeout_ms,
                  (uint64_t)m->heartbeat_interval_ms + 1, UINT32_MAX));
    TRY(chk_ident(e, ctx, "trajectory_endpoint", m->trajectory_endpoint, false));
    TRY(chk_ident(e, ctx, "policy_endpoint", m->policy_endpoint, false));
    TRY(chk_ident(e, ctx, "log_endpoint", m->log_endpoint, false));
    TRY(chk_ident(e, ctx, "config_hash", m->config_hash, false));
    return chk_text(e, ctx, "config_yaml", m->config_yaml, GPSC_WIRE_MAX_TEXT);
}

static int v_refuse(const ebuf_t *e, const char *ctx, const Gpsc__Refuse *m)
{
    TRY(need(e, ctx, "refuse", m));
    TRY(chk_range(e, ctx, "reason", (uint64_t)m->reason, GPSC__REFUSE_REASON__REFUSE_VERSION,
                  GPSC__REFUSE_REASON__REFUSE_OTHER));
    TRY(chk_code(e, ctx, "error_code", m->error_code));
    return chk_text(e, ctx, "detail", m->detail, GPSC_WIRE_MAX_LOG);
}

static int v_heartbeat(const ebuf_t *e, const char *ctx, const Gpsc__Heartbeat *m)
{
    return need(e, ctx, "heartbeat", m);
}

static int v_work_request(const ebuf_t *e, const char *ctx, const Gpsc__WorkRequest *m)
{
    TRY(need(e, ctx, "work_request", m));
    return chk_range(e, ctx, "credit", m->credit, 1, GPSC_WIRE_MAX_CREDIT);
}

static int v_rollout_task(const ebuf_t *e, const char *ctx, const Gpsc__RolloutTask *m)
{
    TRY(need(e, ctx, "rollout_task", m));
    TRY(v_key(e, ctx, m->key));
    TRY(chk_kind(e, ctx, "policy_kind", m->policy_kind));
    return chk_range(e, ctx, "T", m->t, 1, GPSC_WIRE_MAX_T);
}

static int v_trajectory(const ebuf_t *e, const char *ctx, const Gpsc__Trajectory *m)
{
    TRY(need(e, ctx, "trajectory", m));
    TRY(v_key(e, ctx, m->key));
    TRY(chk_ident(e, ctx, "worker_id", m->worker_id, true));
    TRY(chk_range(e, ctx, "status", (uint64_t)m->status, GPSC__TRAJECTORY_STATUS__TRAJ_OK,
                  GPSC__TRAJECTORY_STATUS__TRAJ_FAILED));
    TRY(chk_text(e, ctx, "failed_reason", m->failed_reason, GPSC_WIRE_MAX_LOG));
    TRY(chk_code(e, ctx, "error_code", m->error_code));
    TRY(chk_kind(e, ctx, "policy_kind", m->policy_kind));
    TRY(chk_range(e, ctx, "T", m->t, 1, GPSC_WIRE_MAX_T));
    TRY(chk_range(e, ctx, "dX", m->dx, 1, GPSC_WIRE_MAX_DIM));
    TRY(chk_range(e, ctx, "dU", m->du, 1, GPSC_WIRE_MAX_DIM));
    TRY(chk_range(e, ctx, "dO", m->do_, 0, GPSC_WIRE_MAX_DIM));
    TRY(chk_range(e, ctx, "P", m->p, 0, GPSC_WIRE_MAX_DIM));
    TRY(chk_range(e, ctx, "dQ", m->dq, 0, GPSC_WIRE_MAX_DIM));
    TRY(chk_range(e, ctx, "dC", m->dc, 0, GPSC_WIRE_MAX_DIM));

    /* a failed rollout sends each array whole or not at all */
    bool eok = m->status == GPSC__TRAJECTORY_STATUS__TRAJ_FAILED;
    uint64_t T = m->t;
    TRY(chk_array(e, ctx, "X", m->x, m->n_x, mul_sat(T, m->dx), eok, "T x dX"));
    TRY(chk_array(e, ctx, "U", m->u, m->n_u, mul_sat(T, m->du), eok, "T x dU"));
    TRY(chk_array(e, ctx, "O", m->o, m->n_o, mul_sat(T, m->do_), eok, "T x dO"));
    TRY(chk_array(e, ctx, "ee", m->ee, m->n_ee, mul_sat(T, m->p), eok, "T x P"));
    TRY(chk_array(e, ctx, "ee_jac", m->ee_jac, m->n_ee_jac, mul3(T, m->p, m->dq), eok,
                  "T x P x dQ"));
    TRY(chk_array(e, ctx, "costs", m->costs, m->n_costs, mul_sat(T, m->dc), eok, "T x dC"));
    if (m->n_cost_names != 0 && m->n_cost_names != m->dc)
        return fail(e, GPSC_EDIM, "%s: %zu cost_names for dC = %u", ctx, m->n_cost_names, m->dc);
    for (size_t i = 0; i < m->n_cost_names; i++)
        TRY(chk_ident(e, ctx, "cost_names[]", m->cost_names[i], true));
    if (m->timings) {
        const Gpsc__Timings *t = m->timings;
        TRY(chk_scalar(e, ctx, "timings.rollout_s", t->rollout_s, true));
        TRY(chk_scalar(e, ctx, "timings.sim_s", t->sim_s, true));
        TRY(chk_scalar(e, ctx, "timings.policy_s", t->policy_s, true));
        TRY(chk_scalar(e, ctx, "timings.queued_s", t->queued_s, true));
    }
    return 0;
}

static int v_trajectory_ack(const ebuf_t *e, const char *ctx, const Gpsc__TrajectoryAck *m)
{
    TRY(need(e, ctx, "trajectory_ack", m));
    TRY(v_key(e, ctx, m->key));
    TRY(chk_range(e, ctx, "status", (uint64_t)m->status, GPSC__ACK_STATUS__ACK_STORED,
                  GPSC__ACK_STATUS__ACK_REJECTED));
    TRY(chk_code(e, ctx, "error_code", m->error_code));
    return chk_text(e, ctx, "detail", m->detail, GPSC_WIRE_MAX_LOG);
}

static int chk_tdu(const ebuf_t *e, const char *ctx, uint32_t T, uint32_t dX, uint32_t dU)
{
    TRY(chk_range(e, ctx, "T", T, 1, GPSC_WIRE_MAX_T));
    TRY(chk_range(e, ctx, "dX", dX, 1, GPSC_WIRE_MAX_DIM));
    return chk_range(e, ctx, "dU", dU, 1, GPSC_WIRE_MAX_DIM);
}

static int v_lin_gauss(const ebuf_t *e, const char *ctx, const Gpsc__LinGaussPolicy *m)
{
    TRY(need(e, ctx, "lin_gauss_policy", m));
    TRY(chk_tdu(e, ctx, m->t, m->dx, m->du));
    uint64_t T = m->t, dX = m->dx, dU = m->du;
    TRY(chk_array(e, ctx, "K", m->k, m->n_k, mul3(T, dU, dX), false, "T x dU x dX"));
    TRY(chk_array(e, ctx, "k_ff", m->k_ff, m->n_k_ff, mul_sat(T, dU), false, "T x dU"));
    TRY(chk_array(e, ctx, "pol_covar", m->pol_covar, m->n_pol_covar, mul3(T, dU, dU), false,
                  "T x dU x dU"));
    TRY(chk_array(e, ctx, "chol_pol_covar", m->chol_pol_covar, m->n_chol_pol_covar, mul3(T, dU, dU),
                  false, "T x dU x dU"));
    TRY(chk_array(e, ctx, "inv_pol_covar", m->inv_pol_covar, m->n_inv_pol_covar, mul3(T, dU, dU),
                  false, "T x dU x dU"));
    return chk_chol(e, ctx, "chol_pol_covar", m->chol_pol_covar, m->t, m->du);
}

/* number of weights and biases of an MLP with these layer sizes */
static void net_counts(const uint32_t *sizes, size_t n, uint64_t *nw, uint64_t *nb)
{
    *nw = 0;
    *nb = 0;
    for (size_t l = 0; l + 1 < n; l++) {
        *nw = add_sat(*nw, mul_sat(sizes[l], sizes[l + 1]));
        *nb = add_sat(*nb, sizes[l + 1]);
    }
}

static int v_network(const ebuf_t *e, const char *ctx, const Gpsc__NetworkPolicy *m)
{
    TRY(need(e, ctx, "network_policy", m));
    TRY(chk_range(e, ctx, "dO", m->do_, 1, GPSC_WIRE_MAX_DIM));
    TRY(chk_range(e, ctx, "dU", m->du, 1, GPSC_WIRE_MAX_DIM));
    TRY(chk_range(e, ctx, "layers", m->n_layer_sizes, 2, GPSC_WIRE_MAX_LAYERS));
    for (size_t l = 0; l < m->n_layer_sizes; l++)
        if (m->layer_sizes[l] < 1 || m->layer_sizes[l] > GPSC_WIRE_MAX_DIM)
            return fail(e, GPSC_ERANGE, "%s: layer_sizes[%zu] = %u is outside [1, %u]", ctx, l,
                        m->layer_sizes[l], GPSC_WIRE_MAX_DIM);
    if (m->layer_sizes[0] != m->do_)
        return fail(e, GPSC_EDIM, "%s: layer_sizes[0] = %u, dO = %u", ctx, m->layer_sizes[0],
                    m->do_);
    if (m->layer_sizes[m->n_layer_sizes - 1] != m->du)
        return fail(e, GPSC_EDIM, "%s: last layer size %u, dU = %u", ctx,
                    m->layer_sizes[m->n_layer_sizes - 1], m->du);
    TRY(chk_range(e, ctx, "activation", (uint64_t)m->activation, GPSC__ACTIVATION__ACT_RELU,
                  GPSC__ACTIVATION__ACT_TANH));
    uint64_t nw, nb;
    net_counts(m->layer_sizes, m->n_layer_sizes, &nw, &nb);
    TRY(chk_array(e, ctx, "weights", m->weights, m->n_weights, nw, false, "sum n_l n_{l+1}"));
    TRY(chk_array(e, ctx, "biases", m->biases, m->n_biases, nb, false, "sum n_{l+1}"));
    TRY(chk_array(e, ctx, "obs_mean", m->obs_mean, m->n_obs_mean, m->do_, false, "dO"));
    TRY(chk_array(e, ctx, "obs_scale", m->obs_scale, m->n_obs_scale, m->do_, false, "dO"));
    TRY(chk_array(e, ctx, "pol_var", m->pol_var, m->n_pol_var, m->du, false, "dU"));
    for (size_t i = 0; i < m->n_pol_var; i++)
        if (!(m->pol_var[i] > 0))
            return fail(e, GPSC_ERANGE, "%s: pol_var[%zu] = %g is not positive", ctx, i,
                        m->pol_var[i]);
    return 0;
}

static int v_policy_request(const ebuf_t *e, const char *ctx, const Gpsc__PolicyRequest *m)
{
    char c[CTXN];
    TRY(need(e, ctx, "policy_request", m));
    return v_policy_version(e, sub(c, sizeof c, ctx, "policy", -1), m->policy);
}

static int v_iteration_control(const ebuf_t *e, const char *ctx, const Gpsc__IterationControl *m)
{
    TRY(need(e, ctx, "iteration_control", m));
    TRY(chk_range(e, ctx, "command", (uint64_t)m->command, GPSC__ITERATION_COMMAND__ITER_START,
                  GPSC__ITERATION_COMMAND__ITER_CHECKPOINT_WRITTEN));
    char c[CTXN];
    for (size_t i = 0; i < m->n_policies; i++)
        TRY(v_policy_version(e, sub(c, sizeof c, ctx, "policies", (long)i), m->policies[i]));
    return chk_text(e, ctx, "reason", m->reason, GPSC_WIRE_MAX_LOG);
}

static int v_log_record(const ebuf_t *e, const char *ctx, const Gpsc__LogRecord *m)
{
    TRY(need(e, ctx, "log_record", m));
    TRY(chk_scalar(e, ctx, "time", m->time, true));
    TRY(chk_range(e, ctx, "level", (uint64_t)m->level, GPSC__LOG_LEVEL__LOG_TRACE,
                  GPSC__LOG_LEVEL__LOG_FATAL));
    TRY(chk_role(e, ctx, "role", m->role));
    if (m->iteration < -1)
        return fail(e, GPSC_ERANGE, "%s: iteration = %d (-1 = none)", ctx, (int)m->iteration);
    TRY(chk_ident(e, ctx, "run_id", m->run_id, false));
    TRY(chk_ident(e, ctx, "sender_id", m->sender_id, false));
    TRY(chk_code(e, ctx, "error_code", m->error_code));
    return chk_text(e, ctx, "message", m->message, GPSC_WIRE_MAX_LOG);
}

static int v_metrics(const ebuf_t *e, const char *ctx, const Gpsc__Metrics *m)
{
    TRY(need(e, ctx, "metrics", m));
    TRY(chk_text(e, ctx, "json", m->json, GPSC_WIRE_MAX_TEXT));
    char c[CTXN];
    for (size_t i = 0; i < m->n_values; i++) {
        const Gpsc__NamedValue *v = m->values[i];
        sub(c, sizeof c, ctx, "values", (long)i);
        TRY(need(e, c, "value", v));
        TRY(chk_ident(e, c, "name", v->name, true));
        TRY(chk_scalar(e, c, "value", v->value, false));
    }
    return 0;
}

/* ------------------------------------------------------------------ checkpoint parts */

/* The (T, dX, dU) every part of one condition's state must agree on; 0
 * until the first part sets them. */
typedef struct dims3 {
    uint32_t T, dX, dU;
} dims3_t;

static int agree(const ebuf_t *e, const char *ctx, dims3_t *d, uint32_t T, uint32_t dX, uint32_t dU)
{
    if (d->T == 0) {
        d->T = T, d->dX = dX, d->dU = dU;
        return 0;
    }
    if (d->T != T || d->dX != dX || d->dU != dU)
        return fail(e, GPSC_EDIM,
                    "%s: (T, dX, dU) = (%u, %u, %u), the condition's are "
                    "(%u, %u, %u)",
                    ctx, T, dX, dU, d->T, d->dX, d->dU);
    return 0;
}

static int v_gmm(const ebuf_t *e, const char *ctx, const Gpsc__Gmm *g, uint64_t D)
{
    TRY(chk_range(e, ctx, "K", g->k, 1, GPSC_WIRE_MAX_CLUSTERS));
    TRY(chk_range(e, ctx, "D", g->d, 1, 3 * (uint64_t)GPSC_WIRE_MAX_DIM));
    if (D != 0 && g->d != D)
        return fail(e, GPSC_EDIM, "%s: D = %u, expected %llu", ctx, g->d, (unsigned long long)D);
    TRY(chk_array(e, ctx, "weights", g->weights, g->n_weights, g->k, false, "K"));
    TRY(chk_array(e, ctx, "means", g->means, g->n_means, mul_sat(g->k, g->d), false, "K x D"));
    TRY(chk_array(e, ctx, "covars", g->covars, g->n_covars, mul3(g->k, g->d, g->d), false,
                  "K x D x D"));
    for (size_t i = 0; i < g->n_weights; i++)
        if (g->weights[i] < 0)
            return fail(e, GPSC_ERANGE, "%s: weights[%zu] = %g is negative", ctx, i, g->weights[i]);
    return 0;
}

static int v_samples(const ebuf_t *e, const char *ctx, const Gpsc__SampleBuffer *s, dims3_t *d)
{
    TRY(chk_range(e, ctx, "N", s->n, 0, 1u << 20));
    TRY(chk_tdu(e, ctx, s->t, s->dx, s->du));
    TRY(chk_range(e, ctx, "dO", s->do_, 0, GPSC_WIRE_MAX_DIM));
    TRY(agree(e, ctx, d, s->t, s->dx, s->du));
    uint64_t NT = mul_sat(s->n, s->t);
    TRY(chk_array(e, ctx, "X", s->x, s->n_x, mul_sat(NT, s->dx), false, "N x T x dX"));
    TRY(chk_array(e, ctx, "U", s->u, s->n_u, mul_sat(NT, s->du), false, "N x T x dU"));
    TRY(chk_array(e, ctx, "O", s->o, s->n_o, mul_sat(NT, s->do_), false, "N x T x dO"));
    if (s->n_keys != 0 && s->n_keys != s->n)
        return fail(e, GPSC_EDIM, "%s: %zu keys for N = %u", ctx, s->n_keys, s->n);
    for (size_t i = 0; i < s->n_keys; i++)
        TRY(need(e, ctx, "keys[]", s->keys[i]));
    return 0;
}

/* D of the prior's GMM is dX + dU (policy) or 2 dX + dU (dynamics) */
static int v_prior(const ebuf_t *e, const char *ctx, const Gpsc__GmmPrior *p, dims3_t *d,
                   unsigned nx)
{
    char c[CTXN];
    if (p->samples) TRY(v_samples(e, sub(c, sizeof c, ctx, "samples", -1), p->samples, d));
    if (p->gmm) {
        uint64_t D = d->T ? (uint64_t)nx * d->dX + d->dU : 0;
        TRY(v_gmm(e, sub(c, sizeof c, ctx, "gmm", -1), p->gmm, D));
    }
    return 0;
}

static int v_dynamics(const ebuf_t *e, const char *ctx, const Gpsc__LinearDynamics *m, dims3_t *d)
{
    TRY(chk_tdu(e, ctx, m->t, m->dx, m->du));
    TRY(agree(e, ctx, d, m->t, m->dx, m->du));
    uint64_t T = m->t, dX = m->dx, dXU = (uint64_t)m->dx + m->du;
    TRY(chk_array(e, ctx, "Fm", m->fm, m->n_fm, mul3(T, dX, dXU), false, "T x dX x (dX+dU)"));
    TRY(chk_array(e, ctx, "fv", m->fv, m->n_fv, mul_sat(T, dX), false, "T x dX"));
    TRY(chk_array(e, ctx, "dyn_covar", m->dyn_covar, m->n_dyn_covar, mul3(T, dX, dX), false,
                  "T x dX x dX"));
    TRY(chk_array(e, ctx, "x0mu", m->x0mu, m->n_x0mu, dX, false, "dX"));
    return chk_array(e, ctx, "x0sigma", m->x0sigma, m->n_x0sigma, mul_sat(dX, dX), false,
                     "dX x dX");
}

static int v_cost(const ebuf_t *e, const char *ctx, const Gpsc__CostExpansion *m, dims3_t *d)
{
    TRY(chk_tdu(e, ctx, m->t, m->dx, m->du));
    TRY(agree(e, ctx, d, m->t, m->dx, m->du));
    uint64_t T = m->t, dXU = (uint64_t)m->dx + m->du;
    TRY(chk_array(e, ctx, "cc", m->cc, m->n_cc, T, false, "T"));
    TRY(chk_array(e, ctx, "cv", m->cv, m->n_cv, mul_sat(T, dXU), false, "T x (dX+dU)"));
    return chk_array(e, ctx, "Cm", m->cm, m->n_cm, mul3(T, dXU, dXU), false,
                     "T x (dX+dU) x (dX+dU)");
}

static int v_linearized(const ebuf_t *e, const char *ctx, const Gpsc__LinearizedPolicy *m,
                        dims3_t *d)
{
    TRY(chk_tdu(e, ctx, m->t, m->dx, m->du));
    TRY(agree(e, ctx, d, m->t, m->dx, m->du));
    uint64_t T = m->t, dX = m->dx, dU = m->du;
    TRY(chk_array(e, ctx, "pol_K", m->pol_k, m->n_pol_k, mul3(T, dU, dX), false, "T x dU x dX"));
    TRY(chk_array(e, ctx, "pol_k_ff", m->pol_k_ff, m->n_pol_k_ff, mul_sat(T, dU), false, "T x dU"));
    TRY(chk_array(e, ctx, "pol_S", m->pol_s, m->n_pol_s, mul3(T, dU, dU), false, "T x dU x dU"));
    TRY(chk_array(e, ctx, "chol_pol_S", m->chol_pol_s, m->n_chol_pol_s, mul3(T, dU, dU), false,
                  "T x dU x dU"));
    TRY(chk_chol(e, ctx, "chol_pol_S", m->chol_pol_s, m->t, m->du));
    TRY(chk_array(e, ctx, "lambda_K", m->lambda_k, m->n_lambda_k, mul3(T, dU, dX), true,
                  "T x dU x dX"));
    TRY(chk_array(e, ctx, "lambda_k_ff", m->lambda_k_ff, m->n_lambda_k_ff, mul_sat(T, dU), true,
                  "T x dU"));
    TRY(chk_array(e, ctx, "pol_wt", m->pol_wt, m->n_pol_wt, T, true, "T"));
    return chk_array(e, ctx, "prev_kl", m->prev_kl, m->n_prev_kl, T, true, "T");
}

static int v_condition(const ebuf_t *e, const char *ctx, const Gpsc__ConditionState *m)
{
    char c[CTXN];
    dims3_t d = {0, 0, 0};
    const Gpsc__LinGaussPolicy *pols[2] = {m->traj_distr, m->prev_traj_distr};
    const char *pnames[2] = {"traj_distr", "prev_traj_distr"};
    for (int i = 0; i < 2; i++) {
        if (!pols[i]) continue;
        sub(c, sizeof c, ctx, pnames[i], -1);
        TRY(v_lin_gauss(e, c, pols[i]));
        TRY(agree(e, c, &d, pols[i]->t, pols[i]->dx, pols[i]->du));
        if (pols[i]->condition != m->condition)
            return fail(e, GPSC_ERANGE, "%s: condition %u inside condition %u", c,
                        pols[i]->condition, m->condition);
    }
    if (m->dynamics) TRY(v_dynamics(e, sub(c, sizeof c, ctx, "dynamics", -1), m->dynamics, &d));
    if (m->prev_dynamics)
        TRY(v_dynamics(e, sub(c, sizeof c, ctx, "prev_dynamics", -1), m->prev_dynamics, &d));
    if (m->pol_info) TRY(v_linearized(e, sub(c, sizeof c, ctx, "pol_info", -1), m->pol_info, &d));
    if (m->cost) TRY(v_cost(e, sub(c, sizeof c, ctx, "cost", -1), m->cost, &d));
    if (m->prev_cost) TRY(v_cost(e, sub(c, sizeof c, ctx, "prev_cost", -1), m->prev_cost, &d));
    if (m->dynamics_prior)
        TRY(v_prior(e, sub(c, sizeof c, ctx, "dynamics_prior", -1), m->dynamics_prior, &d, 2));
    if (m->policy_prior)
        TRY(v_prior(e, sub(c, sizeof c, ctx, "policy_prior", -1), m->policy_prior, &d, 1));
    TRY(chk_scalar(e, ctx, "eta", m->eta, true));
    TRY(chk_scalar(e, ctx, "step_mult", m->step_mult, true));
    TRY(chk_scalar(e, ctx, "kl_step", m->kl_step, true));
    TRY(chk_scalar(e, ctx, "prev_expected_cost", m->prev_expected_cost, false));
    TRY(chk_scalar(e, ctx, "prev_actual_cost", m->prev_actual_cost, false));
    return v_tensors(e, ctx, "extra", m->n_extra, m->extra);
}

static int v_checkpoint(const ebuf_t *e, const char *ctx, const Gpsc__Checkpoint *m)
{
    char c[CTXN];
    TRY(need(e, ctx, "checkpoint", m));
    TRY(chk_ident(e, ctx, "config_hash", m->config_hash, false));
    TRY(chk_ident(e, ctx, "run_id", m->run_id, false));
    const char *alg = m->algorithm ? m->algorithm : "";
    if (*alg && strcmp(alg, "mdgps") != 0 && strcmp(alg, "gps2014") != 0 &&
        strcmp(alg, "trajopt") != 0)
        return fail(e, GPSC_ERANGE, "%s: algorithm '%.32s' is not mdgps, gps2014 or trajopt", ctx,
                    alg);
    TRY(chk_range(e, ctx, "condition_count", m->condition_count, 0, GPSC_WIRE_MAX_DIM));
    for (size_t i = 0; i < m->n_conditions; i++) {
        const Gpsc__ConditionState *cs = m->conditions[i];
        sub(c, sizeof c, ctx, "conditions", (long)i);
        TRY(need(e, c, "condition state", cs));
        if (cs->condition >= m->condition_count)
            return fail(e, GPSC_ERANGE, "%s: condition %u >= condition_count %u", c, cs->condition,
                        m->condition_count);
        if (i > 0 && m->conditions[i - 1]->condition == cs->condition)
            return fail(e, GPSC_EDUP, "%s: condition %u appears twice", c, cs->condition);
        if (i > 0 && m->conditions[i - 1]->condition > cs->condition)
            return fail(e, GPSC_ERANGE, "%s: conditions are not sorted (%u after %u)", c,
                        cs->condition, m->conditions[i - 1]->condition);
        TRY(v_condition(e, c, cs));
    }
    uint64_t nparams = 0;
    if (m->network) {
        uint64_t nw, nb;
        TRY(v_network(e, sub(c, sizeof c, ctx, "network", -1), m->network));
        net_counts(m->network->layer_sizes, m->network->n_layer_sizes, &nw, &nb);
        nparams = nw + nb;
    }
    if (m->optimizer) {
        const Gpsc__AdamState *a = m->optimizer;
        sub(c, sizeof c, ctx, "optimizer", -1);
        TRY(chk_array(e, c, "m", a->m, a->n_m, nparams, nparams == 0, "weights + biases"));
        TRY(chk_array(e, c, "v", a->v, a->n_v, nparams, nparams == 0, "weights + biases"));
        if (a->n_m != a->n_v)
            return fail(e, GPSC_EDIM, "%s: m has %zu values, v %zu", c, a->n_m, a->n_v);
        for (size_t i = 0; i < a->n_v; i++)
            if (a->v[i] < 0)
                return fail(e, GPSC_ERANGE, "%s: v[%zu] = %g is negative", c, i, a->v[i]);
    }
    for (size_t i = 0; i < m->n_published; i++)
        TRY(v_policy_version(e, sub(c, sizeof c, ctx, "published", (long)i), m->published[i]));
    TRY(v_tensors(e, ctx, "extra", m->n_extra, m->extra));
    return chk_text(e, ctx, "config_yaml", m->config_yaml, GPSC_WIRE_MAX_TEXT);
}

/* ------------------------------------------------------------------ public validators */

#define PUBLIC_VALIDATOR(name, type, fn)                                                           \
    int gpsc_wire_validate_##name(const type *m, char *err, size_t errsz)                          \
    {                                                                                              \
        ebuf_t e = {err, errsz};                                                                   \
        clear_err(err, errsz);                                                                     \
        if (!m) return fail(&e, GPSC_EINVAL, #name ": NULL");                                      \
        return fn(&e, #name, m);                                                                   \
    }

PUBLIC_VALIDATOR(hello, Gpsc__Hello, v_hello)
PUBLIC_VALIDATOR(welcome, Gpsc__Welcome, v_welcome)
PUBLIC_VALIDATOR(refuse, Gpsc__Refuse, v_refuse)
PUBLIC_VALIDATOR(heartbeat, Gpsc__Heartbeat, v_heartbeat)
PUBLIC_VALIDATOR(work_request, Gpsc__WorkRequest, v_work_request)
PUBLIC_VALIDATOR(rollout_task, Gpsc__RolloutTask, v_rollout_task)
PUBLIC_VALIDATOR(trajectory, Gpsc__Trajectory, v_trajectory)
PUBLIC_VALIDATOR(trajectory_ack, Gpsc__TrajectoryAck, v_trajectory_ack)
PUBLIC_VALIDATOR(lin_gauss_policy, Gpsc__LinGaussPolicy, v_lin_gauss)
PUBLIC_VALIDATOR(network_policy, Gpsc__NetworkPolicy, v_network)
PUBLIC_VALIDATOR(policy_request, Gpsc__PolicyRequest, v_policy_request)
PUBLIC_VALIDATOR(iteration_control, Gpsc__IterationControl, v_iteration_control)
PUBLIC_VALIDATOR(log_record, Gpsc__LogRecord, v_log_record)
PUBLIC_VALIDATOR(metrics, Gpsc__Metrics, v_metrics)
PUBLIC_VALIDATOR(checkpoint, Gpsc__Checkpoint, v_checkpoint)

static int v_envelope(const ebuf_t *e, const Gpsc__Envelope *env)
{
    const char *ctx = "envelope";
    if (!env) return fail(e, GPSC_EINVAL, "envelope: NULL");
    if (env->version != GPSC_WIRE_VERSION)
        return fail(e, GPSC_EVERSION, "envelope: version %u, this build speaks %u", env->version,
                    GPSC_WIRE_VERSION);
    /* structure before content: a cut-off message reads as "no body" */
    if (env->body_case == GPSC__ENVELOPE__BODY__NOT_SET)
        return fail(e, GPSC_EEMPTY, "envelope: no body");
    TRY(chk_role(e, ctx, "sender_role", env->sender_role));
    TRY(chk_ident(e, ctx, "sender_id", env->sender_id, true));
    TRY(chk_ident(e, ctx, "run_id", env->run_id, false));

    const char *b = gpsc_wire_body_name(env->body_case);
    switch (env->body_case) {
    case GPSC__ENVELOPE__BODY_HELLO:
        TRY(v_hello(e, b, env->hello));
        if (env->hello->role != env->sender_role)
            return fail(e, GPSC_EROLE, "hello: role %s differs from sender_role %s",
                        gpsc_wire_role_name(env->hello->role),
                        gpsc_wire_role_name(env->sender_role));
        return 0;
    case GPSC__ENVELOPE__BODY_WELCOME:
        return v_welcome(e, b, env->welcome);
    case GPSC__ENVELOPE__BODY_REFUSE:
        return v_refuse(e, b, env->refuse);
    case GPSC__ENVELOPE__BODY_HEARTBEAT:
        return v_heartbeat(e, b, env->heartbeat);
    case GPSC__ENVELOPE__BODY_WORK_REQUEST:
        return v_work_request(e, b, env->work_request);
    case GPSC__ENVELOPE__BODY_ROLLOUT_TASK:
        return v_rollout_task(e, b, env->rollout_task);
    case GPSC__ENVELOPE__BODY_TRAJECTORY:
        return v_trajectory(e, b, env->trajectory);
    case GPSC__ENVELOPE__BODY_TRAJECTORY_ACK:
        return v_trajectory_ack(e, b, env->trajectory_ack);
    case GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY:
        return v_lin_gauss(e, b, env->lin_gauss_policy);
    case GPSC__ENVELOPE__BODY_NETWORK_POLICY:
        return v_network(e, b, env->network_policy);
    case GPSC__ENVELOPE__BODY_POLICY_REQUEST:
        return v_policy_request(e, b, env->policy_request);
    case GPSC__ENVELOPE__BODY_ITERATION_CONTROL:
        return v_iteration_control(e, b, env->iteration_control);
    case GPSC__ENVELOPE__BODY_LOG_RECORD:
        return v_log_record(e, b, env->log_record);
    case GPSC__ENVELOPE__BODY_METRICS:
        return v_metrics(e, b, env->metrics);
    case GPSC__ENVELOPE__BODY_CHECKPOINT:
        return v_checkpoint(e, b, env->checkpoint);
    default:
        return fail(e, GPSC_ETYPE, "envelope: body type %d is unknown", (int)env->body_case);
    }
}

int gpsc_wire_validate(const Gpsc__Envelope *env, char *err, size_t errsz)
{
    ebuf_t e = {err, errsz};
    clear_err(err, errsz);
    return v_envelope(&e, env);
}

/* ================================================================== bytes */

int gpsc_wire_head_set(gpsc_wire_head_t *h, const void *data, size_t len)
{
    if (!h || (len > 0 && !data)) return GPSC_EINVAL;
    if (len > GPSC_WIRE_HEAD_MAX) return GPSC_ERANGE;
    if (len > 0) memcpy(h->data, data, len);
    h->len = len;
    return 0;
}

int gpsc_wire_head_str(gpsc_wire_head_t *h, const char *text)
{
    if (!text) return GPSC_EINVAL;
    return gpsc_wire_head_set(h, text, strlen(text));
}

size_t gpsc_wire_packed_size(const Gpsc__Envelope *env)
{
    return env ? gpsc__envelope__get_packed_size(env) : 0;
}

int gpsc_wire_encode(uint8_t **buf, size_t *len, const Gpsc__Envelope *env, char *err, size_t errsz)
{
    if (!buf || !len) return GPSC_EINVAL;
    *buf = NULL;
    *len = 0;
    int rc = gpsc_wire_validate(env, err, errsz);
    if (rc) return rc;
    size_t n = gpsc__envelope__get_packed_size(env);
    uint8_t *b = malloc(n > 0 ? n : 1);
    if (!b) {
        ebuf_t e = {err, errsz};
        return fail(&e, GPSC_ENOMEM, "encode: out of memory for %zu bytes", n);
    }
    size_t done = gpsc__envelope__pack(env, b);
    if (done != n) { /* protobuf-c broke its own contract */
        free(b);
        ebuf_t e = {err, errsz};
        return fail(&e, GPSC_EIO, "encode: packed %zu bytes, expected %zu", done, n);
    }
    *buf = b;
    *len = n;
    return 0;
}

/* ------------------------------------------------------------------ bounded allocator
 *
 * protobuf-c allocates for what the input says is there: a 2-byte empty
 * sub-message costs a struct of ~40 bytes plus scanning slots. The
 * allocator counts live bytes and refuses to go past a budget proportional
 * to the input, so a crafted message cannot make the decoder take more than
 * GPSC_WIRE_EXPANSION x its size. Each block carries its size in front. */
typedef union blockhdr {
    size_t size;
    max_align_t align_;
} blockhdr_t;

typedef struct budget {
    size_t used;   /* live bytes, headers included */
    size_t limit;  /* most live bytes allowed */
    bool exceeded; /* an allocation was refused for the budget */
} budget_t;

static void *budget_alloc(void *data, size_t size)
{
    budget_t *b = data;
    if (size > SIZE_MAX - sizeof(blockhdr_t) || size + sizeof(blockhdr_t) > b->limit - b->used) {
        b->exceeded = true;
        return NULL;
    }
    size_t total = size + sizeof(blockhdr_t);
    blockhdr_t *h = malloc(total);
    if (!h) return NULL;
    h->size = total;
    b->used += total;
    return h + 1;
}

static void budget_free(void *data, void *ptr)
{
    if (!ptr) return;
    budget_t *b = data;
    blockhdr_t *h = (blockhdr_t *)ptr - 1;
    b->used -= h->size;
    free(h);
}

struct gpsc_wire_msg {
    Gpsc__Envelope *env;      /* decoded, owned through alloc */
    ProtobufCAllocator alloc; /* allocator_data = &budget */
    budget_t budget;          /* live bytes of env */
    gpsc_wire_head_t head;    /* head frame it came with */
    size_t size;              /* encoded bytes */
};

/* ------------------------------------------------------------------ top-level scan
 *
 * protobuf-c says only "failed" for any bad input. Walking the top-level
 * fields first tells truncation (a field runs past the end) from a broken
 * encoding (bad wire type, field 0, overlong varint), finds the version
 * before anything else is interpreted, and notices body fields of a newer
 * protocol (numbers 16..99 this build does not know). Nested messages lie
 * inside their outer length, so a cut-off buffer always shows at the top. */
typedef struct scan {
    bool have_version;
    uint64_t version;
    bool unknown_body; /* a field in the body range this build does not know */
    uint32_t unknown_nr;
} scan_t;

/* reads a varint at *pos; 0, GPSC_ETRUNC or GPSC_EMALFORMED */
static int scan_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    for (int i = 0; i < 10; i++) {
        if (*pos >= len) return GPSC_ETRUNC;
        uint8_t b = p[(*pos)++];
        if (i == 9 && b > 1) return GPSC_EMALFORMED; /* more than 64 bits */
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return GPSC_EMALFORMED;
}

static int scan_top(const uint8_t *p, size_t len, scan_t *s, const ebuf_t *e)
{
    size_t pos = 0;
    while (pos < len) {
        size_t at = pos;
        uint64_t tag, v;
        int rc = scan_varint(p, len, &pos, &tag);
        if (rc)
            return fail(e, rc, "decode: %s tag at byte %zu",
                        rc == GPSC_ETRUNC ? "input ends inside a" : "overlong", at);
        uint64_t nr = tag >> 3;
        unsigned wt = (unsigned)(tag & 7);
        if (nr == 0 || nr > 536870911u)
            return fail(e, GPSC_EMALFORMED, "decode: field number %llu at byte %zu",
                        (unsigned long long)nr, at);
        switch (wt) {
        case 0: /* varint */
            rc = scan_varint(p, len, &pos, &v);
            if (rc)
                return fail(e, rc, "decode: field %llu: %s varint", (unsigned long long)nr,
                            rc == GPSC_ETRUNC ? "cut-off" : "overlong");
            if (nr == 1) {
                s->have_version = true;
                s->version = v;
            }
            break;
        case 1: /* 64-bit */
            if (len - pos < 8)
                return fail(e, GPSC_ETRUNC, "decode: field %llu: input ends inside 8 bytes",
                            (unsigned long long)nr);
            pos += 8;
            break;
        case 2: /* length-delimited */
            rc = scan_varint(p, len, &pos, &v);
            if (rc) return fail(e, rc, "decode: field %llu: bad length", (unsigned long long)nr);
            if (v > len - pos)
                return fail(e, GPSC_ETRUNC, "decode: field %llu says %llu bytes, %zu remain",
                            (unsigned long long)nr, (unsigned long long)v, len - pos);
            pos += (size_t)v;
            break;
        case 5: /* 32-bit */
            if (len - pos < 4)
                return fail(e, GPSC_ETRUNC, "decode: field %llu: input ends inside 4 bytes",
                            (unsigned long long)nr);
            pos += 4;
            break;
        default:
            return fail(e, GPSC_EMALFORMED, "decode: field %llu has wire type %u",
                        (unsigned long long)nr, wt);
        }
        if (nr == 1 && wt != 0)
            return fail(e, GPSC_EMALFORMED, "decode: version has wire type %u", wt);
        if (nr >= 16 && nr <= 99 &&
            !protobuf_c_message_descriptor_get_field(&gpsc__envelope__descriptor, (unsigned)nr)) {
            s->unknown_body = true;
            s->unknown_nr = (uint32_t)nr;
        }
    }
    return 0;
}

/* protobuf-c reads a tag's field number from a varint but checks only its
 * first byte for 0, so a nested field 0 written as "82 00", or a number
 * above 2^29 - 1, lands in unknown_fields; packing it again gives bytes no
 * decoder accepts (found by fuzz_envelope). Refuse such fields anywhere in
 * the tree, so that everything decoded can be forwarded as it is. The
 * schema has no recursive messages, so the depth is bounded. */
static int check_unknown(const ProtobufCMessage *m, const ebuf_t *e)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < m->n_unknown_fields; i++) {
        uint32_t nr = m->unknown_fields[i].tag;
        if (nr == 0 || nr > 536870911u)
            return fail(e, GPSC_EMALFORMED, "decode: %s has field number %u", d->short_name, nr);
    }
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
        const char *base = (const char *)m;
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t k = 0; k < n; k++)
                if (items[k]) TRY(check_unknown(items[k], e));
        } else {
            const ProtobufCMessage *sm = *(ProtobufCMessage *const *)(base + f->offset);
            if (sm) TRY(check_unknown(sm, e));
        }
    }
    return 0;
}

int gpsc_wire_decode(gpsc_wire_msg_t **out, const uint8_t *buf, size_t len, size_t max_size,
                     char *err, size_t errsz)
{
    ebuf_t e = {err, errsz};
    clear_err(err, errsz);
    if (!out) return fail(&e, GPSC_EINVAL, "decode: out is NULL");
    *out = NULL;
    if (len == 0) return fail(&e, GPSC_ENODATA, "decode: empty input");
    if (!buf) return fail(&e, GPSC_EINVAL, "decode: buf is NULL");
    if (max_size == 0) max_size = GPSC_WIRE_MAX_DEFAULT;
    if (len > max_size)
        return fail(&e, GPSC_ETOOBIG, "decode: %zu bytes, limit %zu", len, max_size);

    /* the version wins over every other complaint: a peer of another
     * protocol is told so, whatever else it sent */
    scan_t s = {false, 0, false, 0};
    char scan_msg[200] = "";
    ebuf_t se = {scan_msg, sizeof scan_msg};
    int rc = scan_top(buf, len, &s, &se);
    if (s.have_version && s.version != GPSC_WIRE_VERSION)
        return fail(&e, GPSC_EVERSION, "decode: protocol version %llu, this build speaks %u",
                    (unsigned long long)s.version, GPSC_WIRE_VERSION);
    if (rc) return fail(&e, rc, "%s", scan_msg);
    if (!s.have_version) return fail(&e, GPSC_EVERSION, "decode: no protocol version");

    gpsc_wire_msg_t *m = calloc(1, sizeof *m);
    if (!m) return fail(&e, GPSC_ENOMEM, "decode: out of memory");
    m->budget.limit = GPSC_WIRE_EXPANSION_SLACK;
    if (len <= (SIZE_MAX - GPSC_WIRE_EXPANSION_SLACK) / GPSC_WIRE_EXPANSION)
        m->budget.limit += GPSC_WIRE_EXPANSION * len;
    else
        m->budget.limit = SIZE_MAX;
    m->alloc.alloc = budget_alloc;
    m->alloc.free = budget_free;
    m->alloc.allocator_data = &m->budget;
    m->size = len;
    m->env = gpsc__envelope__unpack(&m->alloc, len, buf);
    if (!m->env) {
        bool big = m->budget.exceeded;
        free(m);
        if (big)
            return fail(&e, GPSC_ETOOBIG, "decode: %zu bytes expand beyond %ux", len,
                        GPSC_WIRE_EXPANSION);
        return fail(&e, GPSC_EMALFORMED, "decode: not a valid Envelope encoding");
    }
    if (s.unknown_body)
        rc = fail(&e, GPSC_ETYPE, "decode: body field %u is not known to protocol version %u",
                  s.unknown_nr, GPSC_WIRE_VERSION);
    else if ((rc = check_unknown(&m->env->base, &e)) == 0)
        rc = v_envelope(&e, m->env);
    if (rc) {
        gpsc_wire_msg_destroy(&m);
        return rc;
    }
    *out = m;
    return 0;
}

const Gpsc__Envelope *gpsc_wire_msg_env(const gpsc_wire_msg_t *m)
{
    return m ? m->env : NULL;
}

const gpsc_wire_head_t *gpsc_wire_msg_head(const gpsc_wire_msg_t *m)
{
    return m ? &m->head : NULL;
}

size_t gpsc_wire_msg_size(const gpsc_wire_msg_t *m)
{
    return m ? m->size : 0;
}

void gpsc_wire_msg_destroy(gpsc_wire_msg_t **p)
{
    if (!p || !*p) return;
    gpsc_wire_msg_t *m = *p;
    if (m->env) gpsc__envelope__free_unpacked(m->env, &m->alloc);
    free(m);
    *p = NULL;
}

/* ================================================================== sockets */

static int zerr(int e)
{
    switch (e) {
    case EAGAIN:
        return GPSC_EAGAIN;
    case EINTR:
        return GPSC_EINTR;
    case EHOSTUNREACH:
        return GPSC_EUNKNOWN_PEER;
    case ENOMEM:
        return GPSC_ENOMEM;
    case EFSM:
    case ETERM:
        return GPSC_ESTATE;
    case EINVAL:
        return GPSC_EINVAL;
    default:
        return GPSC_ESYS;
    }
}

void gpsc_wire_opts_default(gpsc_wire_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->max_msg_size = GPSC_WIRE_MAX_DEFAULT;
    o->linger_ms = 1000;
    o->sndhwm = 1000;
    o->rcvhwm = 1000;
    o->sndtimeo_ms = -1;
    o->rcvtimeo_ms = -1;
    o->router_mandatory = true;
    o->curve = GPSC_WIRE_CURVE_NONE;
    o->zap_domain = "gpsc";
}

void *gpsc_wire_ctx_new(void)
{
    return zmq_ctx_new();
}

void gpsc_wire_ctx_destroy(void **ctx)
{
    if (!ctx || !*ctx) return;
    while (zmq_ctx_term(*ctx) != 0 && errno == EINTR)
        ;
    *ctx = NULL;
}

static int setopt_int(void *s, int opt, int v)
{
    return zmq_setsockopt(s, opt, &v, sizeof v);
}

void *gpsc_wire_socket(void *ctx, gpsc_wire_type_t type, const gpsc_wire_opts_t *opts, char *err,
                       size_t errsz)
{
    static const int ztype[] = {ZMQ_PAIR,   ZMQ_PUB,  ZMQ_SUB, ZMQ_DEALER,
                                ZMQ_ROUTER, ZMQ_PUSH, ZMQ_PULL};
    ebuf_t e = {err, errsz};
    gpsc_wire_opts_t def;
    clear_err(err, errsz);
    if (!opts) {
        gpsc_wire_opts_default(&def);
        opts = &def;
    }
    if (!ctx || (int)type < 0 || (int)type >= (int)(sizeof ztype / sizeof ztype[0])) {
        fail(&e, GPSC_EINVAL, "socket: bad context or type");
        return NULL;
    }
    if (opts->max_msg_size == 0 || opts->max_msg_size > (size_t)INT64_MAX) {
        fail(&e, GPSC_EINVAL, "socket: max_msg_size must be positive");
        return NULL;
    }
    if (opts->curve != GPSC_WIRE_CURVE_NONE && !gpsc_wire_curve_available()) {
        fail(&e, GPSC_ENOTSUP, "socket: libzmq was built without CURVE");
        return NULL;
    }
    void *s = zmq_socket(ctx, ztype[type]);
    if (!s) {
        fail(&e, zerr(errno), "socket: %s", zmq_strerror(errno));
        return NULL;
    }
    int64_t maxmsg = (int64_t)opts->max_msg_size;
    const char *what = "options";
    if (zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) ||
        setopt_int(s, ZMQ_LINGER, opts->linger_ms) || setopt_int(s, ZMQ_SNDHWM, opts->sndhwm) ||
        setopt_int(s, ZMQ_RCVHWM, opts->rcvhwm) || setopt_int(s, ZMQ_SNDTIMEO, opts->sndtimeo_ms) ||
        setopt_int(s, ZMQ_RCVTIMEO, opts->rcvtimeo_ms))
        goto bad;
    if (opts->routing_id) {
        what = "routing_id";
        ebuf_t none = {NULL, 0};
        if (chk_ident(&none, "socket", "routing_id", opts->routing_id, true)) goto bad_arg;
        if (zmq_setsockopt(s, ZMQ_ROUTING_ID, opts->routing_id, strlen(opts->routing_id))) goto bad;
    }
    if (type == GPSC_WIRE_ROUTER && opts->router_mandatory) {
        what = "router_mandatory";
        if (setopt_int(s, ZMQ_ROUTER_MANDATORY, 1)) goto bad;
    }
    if (opts->curve == GPSC_WIRE_CURVE_SERVER) {
        what = "CURVE server keys";
        if (!opts->curve_keys || !gpsc_wire_curve_key_valid(opts->curve_keys->secret_key))
            goto bad_arg;
        if (setopt_int(s, ZMQ_CURVE_SERVER, 1) ||
            zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, opts->curve_keys->secret_key,
                           GPSC_WIRE_KEY_LEN + 1))
            goto bad;
        if (opts->zap_domain && *opts->zap_domain &&
            zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, opts->zap_domain, strlen(opts->zap_domain)))
            goto bad;
    } else if (opts->curve == GPSC_WIRE_CURVE_CLIENT) {
        what = "CURVE client keys";
        if (!opts->curve_keys || !gpsc_wire_curve_key_valid(opts->curve_keys->public_key) ||
            !gpsc_wire_curve_key_valid(opts->curve_keys->secret_key) ||
            !gpsc_wire_curve_key_valid(opts->curve_server_key))
            goto bad_arg;
        if (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, opts->curve_server_key, GPSC_WIRE_KEY_LEN + 1) ||
            zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, opts->curve_keys->public_key,
                           GPSC_WIRE_KEY_LEN + 1) ||
            zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, opts->curve_keys->secret_key,
                           GPSC_WIRE_KEY_LEN + 1))
            goto bad;
    } else if (opts->curve != GPSC_WIRE_CURVE_NONE) {
        what = "curve mode";
        goto bad_arg;
    }
    return s;
bad:
    fail(&e, GPSC_ESYS, "socket: setting %s: %s", what, zmq_strerror(errno));
    zmq_close(s);
    return NULL;
bad_arg:
    fail(&e, GPSC_EINVAL, "socket: invalid %s", what);
    zmq_close(s);
    return NULL;
}

void gpsc_wire_close(void **sock)
{
    if (!sock || !*sock) return;
    zmq_close(*sock);
    *sock = NULL;
}

int gpsc_wire_bind(void *sock, const char *endpoint, char *bound, size_t boundsz)
{
    if (bound && boundsz > 0) bound[0] = '\0';
    if (!sock || !endpoint) return GPSC_EINVAL;
    if (zmq_bind(sock, endpoint) != 0) return GPSC_ESYS;
    if (bound && boundsz > 0) {
        char last[512];
        size_t n = sizeof last;
        if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, last, &n) != 0) return GPSC_ESYS;
        last[sizeof last - 1] = '\0';
        snprintf(bound, boundsz, "%s", last);
    }
    return 0;
}

int gpsc_wire_connect(void *sock, const char *endpoint)
{
    if (!sock || !endpoint) return GPSC_EINVAL;
    return zmq_connect(sock, endpoint) == 0 ? 0 : GPSC_ESYS;
}

int gpsc_wire_subscribe(void *sock, const char *prefix)
{
    if (!sock || !prefix) return GPSC_EINVAL;
    return zmq_setsockopt(sock, ZMQ_SUBSCRIBE, prefix, strlen(prefix)) == 0 ? 0 : zerr(errno);
}

/* the socket's message limit (ZMQ_MAXMSGSIZE), used for both directions */
static size_t sock_limit(void *sock)
{
    int64_t v = -1;
    size_t n = sizeof v;
    if (zmq_getsockopt(sock, ZMQ_MAXMSGSIZE, &v, &n) != 0 || v <= 0) return GPSC_WIRE_MAX_DEFAULT;
    return (size_t)v;
}

int gpsc_wire_send(void *sock, const gpsc_wire_head_t *head, const Gpsc__Envelope *env, int flags)
{
    if (!sock || !env || (head && head->len > GPSC_WIRE_HEAD_MAX)) return GPSC_EINVAL;
    int rc = gpsc_wire_validate(env, NULL, 0);
    if (rc) return rc;
    size_t n = gpsc__envelope__get_packed_size(env);
    if (n > sock_limit(sock)) return GPSC_ETOOBIG;
    int zf = (flags & GPSC_WIRE_DONTWAIT) ? ZMQ_DONTWAIT : 0;

    /* pack straight into the frame ZeroMQ will own */
    zmq_msg_t msg;
    if (zmq_msg_init_size(&msg, n) != 0) return GPSC_ENOMEM;
    if (gpsc__envelope__pack(env, zmq_msg_data(&msg)) != n) {
        zmq_msg_close(&msg);
        return GPSC_EIO;
    }
    if (head && head->len > 0 && zmq_send(sock, head->data, head->len, zf | ZMQ_SNDMORE) < 0) {
        int e = errno;
        zmq_msg_close(&msg);
        return zerr(e);
    }
    if (zmq_msg_send(&msg, sock, zf) < 0) {
        int e = errno;
        zmq_msg_close(&msg);
        return zerr(e);
    }
    return 0;
}

int gpsc_wire_msg_send(gpsc_wire_msg_t **p, void *sock, const gpsc_wire_head_t *head, int flags)
{
    if (!p || !*p) return GPSC_EINVAL;
    gpsc_wire_msg_t *m = *p;
    *p = NULL;
    gpsc_wire_head_t h;
    if (head) /* head may point into m, which goes below */
        h = *head;
    int rc = gpsc_wire_send(sock, head ? &h : NULL, m->env, flags);
    gpsc_wire_msg_destroy(&m);
    return rc;
}

int gpsc_wire_recv(void *sock, gpsc_wire_msg_t **out, gpsc_wire_head_t *from, int flags, char *err,
                   size_t errsz)
{
    ebuf_t e = {err, errsz};
    clear_err(err, errsz);
    if (from) from->len = 0;
    if (!out || !sock) return fail(&e, GPSC_EINVAL, "recv: NULL argument");
    *out = NULL;
    int zf = (flags & GPSC_WIRE_DONTWAIT) ? ZMQ_DONTWAIT : 0;

    /* take every frame of the message; keep the first two */
    zmq_msg_t keep[2];
    size_t nparts = 0;
    for (;;) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, sock, nparts == 0 ? zf : 0) < 0) {
            int en = errno;
            zmq_msg_close(&part);
            for (size_t i = 0; i < nparts && i < 2; i++)
                zmq_msg_close(&keep[i]);
            int code = zerr(en);
            if (code == GPSC_EAGAIN) return fail(&e, code, "recv: nothing to receive");
            return fail(&e, code, "recv: %s", zmq_strerror(en));
        }
        int more = zmq_msg_more(&part);
        if (nparts < 2) {
            zmq_msg_init(&keep[nparts]);
            zmq_msg_move(&keep[nparts], &part);
        }
        zmq_msg_close(&part);
        nparts++;
        if (!more) break;
    }

    gpsc_wire_head_t head = {0, {0}};
    int rc = 0;
    if (nparts >= 2) {
        size_t hl = zmq_msg_size(&keep[0]);
        if (hl > GPSC_WIRE_HEAD_MAX)
            rc = fail(&e, GPSC_EMALFORMED, "recv: head frame of %zu bytes", hl);
        else
            gpsc_wire_head_set(&head, zmq_msg_data(&keep[0]), hl);
    }
    if (from) *from = head;
    if (rc == 0 && nparts > 2)
        rc = fail(&e, GPSC_EMALFORMED, "recv: %zu frames (expected [head] payload)", nparts);
    if (rc == 0) {
        zmq_msg_t *pl = &keep[nparts >= 2 ? 1 : 0];
        rc =
            gpsc_wire_decode(out, zmq_msg_data(pl), zmq_msg_size(pl), sock_limit(sock), err, errsz);
        if (rc == 0) (*out)->head = head;
    }
    for (size_t i = 0; i < nparts && i < 2; i++)
        zmq_msg_close(&keep[i]);
    return rc;
}

int gpsc_wire_fd(void *sock, int *fd)
{
    if (!sock || !fd) return GPSC_EINVAL;
    size_t n = sizeof *fd;
    return zmq_getsockopt(sock, ZMQ_FD, fd, &n) == 0 ? 0 : GPSC_ESYS;
}

int gpsc_wire_events(void *sock)
{
    int ev = 0;
    size_t n = sizeof ev;
    if (!sock) return GPSC_EINVAL;
    if (zmq_getsockopt(sock, ZMQ_EVENTS, &ev, &n) != 0) return zerr(errno);
    return ((ev & ZMQ_POLLIN) ? GPSC_WIRE_IN : 0) | ((ev & ZMQ_POLLOUT) ? GPSC_WIRE_OUT : 0);
}

#define POLL_MAX 64

int gpsc_wire_poll(void *const *socks, int *ready, int n, long timeout_ms)
{
    zmq_pollitem_t items[POLL_MAX];
    if (n < 0 || n > POLL_MAX || (n > 0 && (!socks || !ready))) return GPSC_EINVAL;
    for (int i = 0; i < n; i++) {
        items[i] = (zmq_pollitem_t){socks[i], 0, ZMQ_POLLIN, 0};
        ready[i] = 0;
    }
    int rc = zmq_poll(items, n, timeout_ms);
    if (rc < 0) return zerr(errno);
    for (int i = 0; i < n; i++)
        ready[i] = (items[i].revents & ZMQ_POLLIN) ? GPSC_WIRE_IN : 0;
    return rc;
}

/* ================================================================== CURVE */

bool gpsc_wire_curve_available(void)
{
    return zmq_has("curve") != 0;
}

int gpsc_wire_curve_keypair(gpsc_wire_keypair_t *kp)
{
    if (!kp) return GPSC_EINVAL;
    memset(kp, 0, sizeof *kp);
    if (!gpsc_wire_curve_available()) return GPSC_ENOTSUP;
    if (zmq_curve_keypair(kp->public_key, kp->secret_key) != 0)
        return errno == ENOTSUP ? GPSC_ENOTSUP : GPSC_ESYS;
    return 0;
}

bool gpsc_wire_curve_key_valid(const char *z85)
{
    static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   ".-:+=^!/*?&<>()[]{}@%$#";
    if (!z85 || strnlen(z85, GPSC_WIRE_KEY_LEN + 1) != GPSC_WIRE_KEY_LEN) return false;
    for (int i = 0; i < GPSC_WIRE_KEY_LEN; i++)
        if (!strchr(alphabet, z85[i])) return false;
    uint8_t bin[32];
    return zmq_z85_decode(bin, z85) != NULL;
}

int gpsc_wire_curve_save(const char *path, const gpsc_wire_keypair_t *kp, bool with_secret,
                         char *err, size_t errsz)
{
    ebuf_t e = {err, errsz};
    clear_err(err, errsz);
    if (!path || !kp || !gpsc_wire_curve_key_valid(kp->public_key) ||
        (with_secret && !gpsc_wire_curve_key_valid(kp->secret_key)))
        return fail(&e, GPSC_EINVAL, "%s: invalid key pair", path ? path : "(null)");
    mode_t mode = with_secret ? 0600 : 0644;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) return fail(&e, GPSC_EIO, "%s: %s", path, strerror(errno));
    /* an existing file keeps its mode through O_TRUNC: tighten it */
    if (with_secret && fchmod(fd, 0600) != 0) {
        int en = errno;
        close(fd);
        return fail(&e, GPSC_EIO, "%s: chmod: %s", path, strerror(en));
    }
    char text[256];
    int n = snprintf(text, sizeof text, "# gpsc CURVE %s key (Z85)%s\npublic-key = \"%s\"\n",
                     with_secret ? "secret" : "public",
                     with_secret ? "; keep this file private" : "", kp->public_key);
    if (with_secret)
        n += snprintf(text + n, sizeof text - (size_t)n, "secret-key = \"%s\"\n", kp->secret_key);
    ssize_t w = write(fd, text, (size_t)n);
    int en = errno;
    if (close(fd) != 0 && w == n) {
        w = -1;
        en = errno;
    }
    if (w != n) return fail(&e, GPSC_EIO, "%s: write: %s", path, strerror(en));
    return 0;
}

/* trims ASCII spaces at both ends in place */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int gpsc_wire_curve_load(gpsc_wire_keypair_t *kp, const char *path, char *err, size_t errsz)
{
    ebuf_t e = {err, errsz};
    clear_err(err, errsz);
    if (!kp || !path) return fail(&e, GPSC_EINVAL, "curve_load: NULL argument");
    memset(kp, 0, sizeof *kp);
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(&e, errno == ENOENT ? GPSC_ENOENT : GPSC_EIO, "%s: %s", path, strerror(errno));
    char line[512];
    int lineno = 0, rc = 0;
    bool have_pub = false, have_sec = false;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = fail(&e, GPSC_EPARSE, "%s:%d: line too long", path, lineno);
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#') continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = fail(&e, GPSC_EPARSE, "%s:%d: expected 'name = \"key\"'", path, lineno);
            break;
        }
        *eq = '\0';
        char *name = trim(s), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        }
        char *dst;
        bool *have;
        if (strcmp(name, "public-key") == 0) {
            dst = kp->public_key, have = &have_pub;
        } else if (strcmp(name, "secret-key") == 0) {
            dst = kp->secret_key, have = &have_sec;
        } else {
            rc = fail(&e, GPSC_EPARSE, "%s:%d: unknown name '%.40s'", path, lineno, name);
            break;
        }
        if (*have) {
            rc = fail(&e, GPSC_EPARSE, "%s:%d: %s given twice", path, lineno, name);
            break;
        }
        if (!gpsc_wire_curve_key_valid(val)) {
            rc = fail(&e, GPSC_EPARSE, "%s:%d: %s is not a 40-character Z85 key", path, lineno,
                      name);
            break;
        }
        memcpy(dst, val, GPSC_WIRE_KEY_LEN + 1);
        *have = true;
    }
    if (rc == 0 && ferror(f)) rc = fail(&e, GPSC_EIO, "%s: read error", path);
    fclose(f);
    if (rc == 0 && !have_pub && !have_sec) rc = fail(&e, GPSC_EPARSE, "%s: no key", path);
    if (rc == 0 && have_sec) {
        char derived[GPSC_WIRE_KEY_LEN + 1];
        if (zmq_curve_public(derived, kp->secret_key) != 0)
            rc = fail(&e, GPSC_ENOTSUP, "%s: cannot derive the public key (no CURVE)", path);
        else if (have_pub && strcmp(derived, kp->public_key) != 0)
            rc = fail(&e, GPSC_EAUTH, "%s: public key does not belong to the secret key", path);
        else
            memcpy(kp->public_key, derived, sizeof derived);
    }
    if (rc) memset(kp, 0, sizeof *kp);
    return rc;
}

/* ================================================================== ZAP */

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

struct gpsc_wire_zap {
    void *ctl;      /* PAIR, the owner's end of the stop line */
    void *rep;      /* REP on ZAP_ENDPOINT, used by the thread */
    void *ctl_peer; /* PAIR, the thread's end */
    pthread_t thread;
    size_t n;             /* allowed keys */
    uint8_t (*keys)[32];  /* (n) binary public keys */
    atomic_ulong allowed; /* requests accepted */
    atomic_ulong denied;  /* requests denied */
    pthread_mutex_t mu;   /* guards last */
    char last[160];       /* last denial, "address mechanism key" */
};

/* up to `max` frames of one request into bufs (each truncated to 64
 * bytes); returns the number of frames, or -1 */
static int zap_recv(void *rep, char bufs[][64], size_t *lens, int max)
{
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, rep, 0) < 0) {
            zmq_msg_close(&part);
            return -1;
        }
        if (n < max) {
            size_t l = zmq_msg_size(&part);
            lens[n] = l < 63 ? l : 63;
            memcpy(bufs[n], zmq_msg_data(&part), lens[n]);
            bufs[n][lens[n]] = '\0';
            lens[n] = l; /* the real length, for the key check */
        }
        n++;
        more = zmq_msg_more(&part);
        zmq_msg_close(&part);
    }
    return n;
}

static void zap_reply(void *rep, const char *id, size_t idlen, const char *code, const char *text,
                      const char *user)
{
    zmq_send(rep, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(rep, id, idlen, ZMQ_SNDMORE);
    zmq_send(rep, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(rep, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(rep, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(rep, "", 0, 0);
}

/* one request: version, request id, domain, address, routing id,
 * mechanism, credentials... (RFC 27) */
static void zap_serve(gpsc_wire_zap_t *z)
{
    char f[8][64];
    size_t len[8] = {0};
    int n = zap_recv(z->rep, f, len, 8);
    if (n < 0) return;
    size_t idlen = n >= 2 ? (len[1] < 63 ? len[1] : 63) : 0;
    if (n < 6 || strcmp(f[0], "1.0") != 0) {
        zap_reply(z->rep, n >= 2 ? f[1] : "", idlen, "500", "bad ZAP request", "");
        atomic_fetch_add(&z->denied, 1);
        return;
    }
    bool ok = false;
    char key[GPSC_WIRE_KEY_LEN + 1] = "-";
    if (strcmp(f[5], "CURVE") == 0 && n >= 7 && len[6] == 32) {
        for (size_t i = 0; i < z->n && !ok; i++)
            ok = memcmp(z->keys[i], f[6], 32) == 0;
        zmq_z85_encode(key, (const uint8_t *)f[6], 32);
    }
    if (ok) {
        atomic_fetch_add(&z->allowed, 1);
        zap_reply(z->rep, f[1], idlen, "200", "OK", key);
        return;
    }
    pthread_mutex_lock(&z->mu);
    snprintf(z->last, sizeof z->last, "%s %s %s", f[3], f[5], key);
    atomic_fetch_add(&z->denied, 1);
    pthread_mutex_unlock(&z->mu);
    zap_reply(z->rep, f[1], idlen, "400", "key not allowed", "");
}

static void *zap_main(void *arg)
{
    gpsc_wire_zap_t *z = arg;
    zmq_pollitem_t it[2] = {{z->rep, 0, ZMQ_POLLIN, 0}, {z->ctl_peer, 0, ZMQ_POLLIN, 0}};
    for (;;) {
        if (zmq_poll(it, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (it[1].revents & ZMQ_POLLIN) break;
        if (it[0].revents & ZMQ_POLLIN) zap_serve(z);
    }
    zmq_close(z->rep);
    zmq_close(z->ctl_peer);
    return NULL;
}

gpsc_wire_zap_t *gpsc_wire_zap_new(void *ctx, const char *const *keys, size_t n, char *err,
                                   size_t errsz)
{
    ebuf_t e = {err, errsz};
    clear_err(err, errsz);
    if (!ctx || (n > 0 && !keys)) {
        fail(&e, GPSC_EINVAL, "zap: NULL argument");
        return NULL;
    }
    gpsc_wire_zap_t *z = calloc(1, sizeof *z);
    if (!z || (n > 0 && !(z->keys = calloc(n, sizeof *z->keys)))) {
        free(z);
        fail(&e, GPSC_ENOMEM, "zap: out of memory");
        return NULL;
    }
    z->n = n;
    for (size_t i = 0; i < n; i++) {
        if (!gpsc_wire_curve_key_valid(keys[i])) {
            fail(&e, GPSC_EINVAL, "zap: key %zu is not a 40-character Z85 key", i);
            goto bad;
        }
        zmq_z85_decode(z->keys[i], keys[i]);
    }
    atomic_init(&z->allowed, 0);
    atomic_init(&z->denied, 0);
    pthread_mutex_init(&z->mu, NULL);

    /* bind in this thread, so that the handler exists when we return */
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://gpsc-zap-ctl-%p", (void *)z);
    z->rep = zmq_socket(ctx, ZMQ_REP);
    z->ctl = zmq_socket(ctx, ZMQ_PAIR);
    z->ctl_peer = zmq_socket(ctx, ZMQ_PAIR);
    if (!z->rep || !z->ctl || !z->ctl_peer || setopt_int(z->rep, ZMQ_LINGER, 0) ||
        setopt_int(z->ctl, ZMQ_LINGER, 0) || setopt_int(z->ctl_peer, ZMQ_LINGER, 0)) {
        fail(&e, GPSC_ESYS, "zap: sockets: %s", zmq_strerror(errno));
        goto bad_sockets;
    }
    if (zmq_bind(z->rep, ZAP_ENDPOINT) != 0) {
        fail(&e, GPSC_ESTATE, "zap: bind %s: %s (one handler per context)", ZAP_ENDPOINT,
             zmq_strerror(errno));
        goto bad_sockets;
    }
    if (zmq_bind(z->ctl, ep) != 0 || zmq_connect(z->ctl_peer, ep) != 0) {
        fail(&e, GPSC_ESYS, "zap: control line: %s", zmq_strerror(errno));
        goto bad_sockets;
    }
    if (pthread_create(&z->thread, NULL, zap_main, z) != 0) {
        fail(&e, GPSC_ESYS, "zap: cannot start the thread");
        goto bad_sockets;
    }
    return z;
bad_sockets:
    if (z->rep) zmq_close(z->rep);
    if (z->ctl) zmq_close(z->ctl);
    if (z->ctl_peer) zmq_close(z->ctl_peer);
    pthread_mutex_destroy(&z->mu);
bad:
    free(z->keys);
    free(z);
    return NULL;
}

void gpsc_wire_zap_destroy(gpsc_wire_zap_t **p)
{
    if (!p || !*p) return;
    gpsc_wire_zap_t *z = *p;
    zmq_send(z->ctl, "", 0, 0);
    pthread_join(z->thread, NULL);
    zmq_close(z->ctl);
    pthread_mutex_destroy(&z->mu);
    free(z->keys);
    free(z);
    *p = NULL;
}

unsigned long gpsc_wire_zap_allowed(const gpsc_wire_zap_t *z)
{
    return z ? atomic_load(&((gpsc_wire_zap_t *)z)->allowed) : 0;
}

unsigned long gpsc_wire_zap_denied(const gpsc_wire_zap_t *z)
{
    return z ? atomic_load(&((gpsc_wire_zap_t *)z)->denied) : 0;
}

unsigned long gpsc_wire_zap_last_denied(gpsc_wire_zap_t *z, char *buf, size_t bufsz)
{
    if (!z) return 0;
    pthread_mutex_lock(&z->mu);
    if (buf && bufsz > 0) snprintf(buf, bufsz, "%s", z->last);
    unsigned long n = atomic_load(&z->denied);
    pthread_mutex_unlock(&z->mu);
    return n;
}

/* ================================================================== handshake monitor */

struct gpsc_wire_monitor {
    void *sock; /* the watched socket */
    void *pair; /* PAIR connected to the monitor endpoint */
};

gpsc_wire_monitor_t *gpsc_wire_monitor_new(void *ctx, void *sock, char *err, size_t errsz)
{
    ebuf_t e = {err, errsz};
    clear_err(err, errsz);
    if (!ctx || !sock) {
        fail(&e, GPSC_EINVAL, "monitor: NULL argument");
        return NULL;
    }
    gpsc_wire_monitor_t *m = calloc(1, sizeof *m);
    if (!m) {
        fail(&e, GPSC_ENOMEM, "monitor: out of memory");
        return NULL;
    }
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://gpsc-monitor-%p", (void *)m);
    int events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    if (zmq_socket_monitor(sock, ep, events) != 0) {
        fail(&e, GPSC_ESYS, "monitor: %s", zmq_strerror(zmq_errno()));
        free(m);
        return NULL;
    }
    m->sock = sock;
    m->pair = zmq_socket(ctx, ZMQ_PAIR);
    if (!m->pair || setopt_int(m->pair, ZMQ_LINGER, 0) != 0 || zmq_connect(m->pair, ep) != 0) {
        fail(&e, GPSC_ESYS, "monitor: %s", zmq_strerror(zmq_errno()));
        gpsc_wire_monitor_destroy(&m);
        return NULL;
    }
    return m;
}

/* words for a handshake failure */
static const char *monitor_reason(unsigned event, uint32_t value)
{
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return value == 400 ? "authentication denied (ZAP 400: key not on the allow-list)"
                            : "authentication failed (ZAP)";
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        switch (value) {
        case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
            return "security mechanism mismatch (a peer without CURVE keys?)";
        case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
            return "CURVE cryptographic error (a client with the wrong server key?)";
        case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
            return "CURVE key exchange failed";
        default:
            return (value & 0xf0000000u) == 0x20000000u ? "ZAP protocol error"
                                                        : "ZMTP protocol error";
        }
    }
    return "handshake failed";
}

int gpsc_wire_monitor_next(gpsc_wire_monitor_t *m, char *buf, size_t bufsz)
{
    if (!m || !m->pair) return GPSC_EINVAL;
    zmq_msg_t head, addr;
    zmq_msg_init(&head);
    if (zmq_msg_recv(&head, m->pair, ZMQ_DONTWAIT) < 0) {
        int en = zmq_errno();
        zmq_msg_close(&head);
        return en == EAGAIN ? 0 : en == EINTR ? GPSC_EINTR : GPSC_ESYS;
    }
    /* [event:u16 value:u32] then the endpoint (libzmq's monitor format) */
    uint16_t event = 0;
    uint32_t value = 0;
    if (zmq_msg_size(&head) >= 6) {
        memcpy(&event, zmq_msg_data(&head), 2);
        memcpy(&value, (const uint8_t *)zmq_msg_data(&head) + 2, 4);
    }
    int more = zmq_msg_more(&head);
    zmq_msg_close(&head);
    char ep[256] = "?";
    if (more) {
        zmq_msg_init(&addr);
        if (zmq_msg_recv(&addr, m->pair, 0) >= 0) {
            size_t n = zmq_msg_size(&addr) < sizeof ep - 1 ? zmq_msg_size(&addr) : sizeof ep - 1;
            memcpy(ep, zmq_msg_data(&addr), n);
            ep[n] = '\0';
        }
        zmq_msg_close(&addr);
    }
    if (buf && bufsz) snprintf(buf, bufsz, "%s: %s", ep, monitor_reason(event, value));
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) return GPSC_WIRE_HS_DENIED;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
        value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        return GPSC_WIRE_HS_NO_CURVE;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
        (value == ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC ||
         value == ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE))
        return GPSC_WIRE_HS_CRYPTO;
    return GPSC_WIRE_HS_OTHER;
}

void gpsc_wire_monitor_destroy(gpsc_wire_monitor_t **p)
{
    if (!p || !*p) return;
    gpsc_wire_monitor_t *m = *p;
    if (m->sock) zmq_socket_monitor(m->sock, NULL, 0);
    if (m->pair) zmq_close(m->pair);
    free(m);
    *p = NULL;
}
