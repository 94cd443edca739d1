/* test_wire.c — the wire layer: every message round-trips field for field,
 * bad input is refused with distinct codes, real ZeroMQ sockets on
 * tcp://127.0.0.1:*, size limits, CURVE with a ZAP allow-list.
 *
 * `test_wire --write-corpus DIR` writes one encoded envelope per message
 * type into DIR (the seed corpus of tests/fuzz/fuzz_envelope). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "common/error.h"
#include "common/wire.h"

/* ------------------------------------------------------------------ memory pool
 * Builders allocate arrays here; pool_free() releases them at the end of a
 * test. */
#define POOL_MAX 16384
static void *pool[POOL_MAX];
static int pool_n;

static void *keep(size_t bytes)
{
    assert_true(pool_n < POOL_MAX);
    void *p = calloc(1, bytes ? bytes : 1);
    assert_non_null(p);
    pool[pool_n++] = p;
    return p;
}

static void pool_free(void)
{
    while (pool_n > 0)
        free(pool[--pool_n]);
}

/* n doubles base, base + 0.25, ... */
static double *arr(size_t n, double base)
{
    double *v = keep(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = base + 0.25 * (double)i;
    return v;
}

#define SET_ARR(msg, field, n, base)                                                               \
    do {                                                                                           \
        (msg)->n_##field = (n);                                                                    \
        (msg)->field = arr((n), (base));                                                           \
    } while (0)

/* T stacked upper-triangular (d x d) factors with positive diagonal */
static double *chol_arr(size_t T, size_t d)
{
    double *v = keep(T * d * d * sizeof *v);
    for (size_t t = 0; t < T; t++)
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++)
                v[(t * d + i) * d + j] = i == j ? 1.0 + 0.1 * (double)t : 0.3;
    return v;
}

/* small dimensions for every sample */
enum { T_ = 3, DX = 4, DU = 2, DO = 3, PP = 3, DQ = 2, DC = 2 };

static Gpsc__TaskKey *mk_key(uint32_t it, uint32_t c, uint32_t s)
{
    Gpsc__TaskKey *k = keep(sizeof *k);
    *k = (Gpsc__TaskKey)GPSC__TASK_KEY__INIT;
    k->iteration = it, k->condition = c, k->sample_index = s;
    return k;
}

static Gpsc__PolicyVersion *mk_pv(uint32_t cond, uint32_t version)
{
    Gpsc__PolicyVersion *p = keep(sizeof *p);
    *p = (Gpsc__PolicyVersion)GPSC__POLICY_VERSION__INIT;
    p->kind = GPSC__POLICY_KIND__POLICY_LOCAL;
    p->condition = cond, p->version = version;
    return p;
}

static Gpsc__Tensor **mk_tensors(void)
{
    Gpsc__Tensor **ts = keep(sizeof *ts);
    Gpsc__Tensor *t = keep(sizeof *t);
    *t = (Gpsc__Tensor)GPSC__TENSOR__INIT;
    t->name = "replay";
    t->n_shape = 2;
    t->shape = keep(2 * sizeof *t->shape);
    t->shape[0] = 2, t->shape[1] = 3;
    SET_ARR(t, data, 6, -1.5);
    ts[0] = t;
    return ts;
}

static Gpsc__LinGaussPolicy *mk_lg(uint32_t cond, uint32_t version)
{
    Gpsc__LinGaussPolicy *m = keep(sizeof *m);
    *m = (Gpsc__LinGaussPolicy)GPSC__LIN_GAUSS_POLICY__INIT;
    m->condition = cond, m->version = version;
    m->t = T_, m->dx = DX, m->du = DU;
    SET_ARR(m, k, T_ * DU * DX, -0.5);
    SET_ARR(m, k_ff, T_ * DU, 0.1);
    SET_ARR(m, pol_covar, T_ * DU * DU, 1.0);
    m->n_chol_pol_covar = T_ * DU * DU;
    m->chol_pol_covar = chol_arr(T_, DU);
    SET_ARR(m, inv_pol_covar, T_ * DU * DU, 2.0);
    return m;
}

static Gpsc__NetworkPolicy *mk_net(void)
{
    Gpsc__NetworkPolicy *m = keep(sizeof *m);
    *m = (Gpsc__NetworkPolicy)GPSC__NETWORK_POLICY__INIT;
    m->version = 7, m->do_ = DO, m->du = DU;
    m->n_layer_sizes = 3;
    m->layer_sizes = keep(3 * sizeof *m->layer_sizes);
    m->layer_sizes[0] = DO, m->layer_sizes[1] = 5, m->layer_sizes[2] = DU;
    m->activation = GPSC__ACTIVATION__ACT_TANH;
    SET_ARR(m, weights, DO * 5 + 5 * DU, -2.0);
    SET_ARR(m, biases, 5 + DU, 0.5);
    SET_ARR(m, obs_mean, DO, 0.125);
    SET_ARR(m, obs_scale, DO, 1.5);
    SET_ARR(m, pol_var, DU, 0.1);
    return m;
}

static Gpsc__Gmm *mk_gmm(uint32_t D)
{
    Gpsc__Gmm *g = keep(sizeof *g);
    *g = (Gpsc__Gmm)GPSC__GMM__INIT;
    g->k = 2, g->d = D;
    SET_ARR(g, weights, 2, 0.25);
    SET_ARR(g, means, 2 * D, -1.0);
    SET_ARR(g, covars, 2 * D * D, 0.5);
    return g;
}

static Gpsc__GmmPrior *mk_prior(uint32_t D)
{
    Gpsc__GmmPrior *p = keep(sizeof *p);
    *p = (Gpsc__GmmPrior)GPSC__GMM_PRIOR__INIT;
    p->gmm = mk_gmm(D);
    Gpsc__SampleBuffer *s = keep(sizeof *s);
    *s = (Gpsc__SampleBuffer)GPSC__SAMPLE_BUFFER__INIT;
    s->n = 2, s->t = T_, s->dx = DX, s->du = DU, s->do_ = DO;
    SET_ARR(s, x, 2 * T_ * DX, 1.0);
    SET_ARR(s, u, 2 * T_ * DU, 2.0);
    SET_ARR(s, o, 2 * T_ * DO, 3.0);
    s->n_keys = 2;
    s->keys = keep(2 * sizeof *s->keys);
    s->keys[0] = mk_key(1, 1, 1), s->keys[1] = mk_key(2, 1, 3);
    p->samples = s;
    return p;
}

static Gpsc__LinearDynamics *mk_dyn(double base)
{
    Gpsc__LinearDynamics *d = keep(sizeof *d);
    *d = (Gpsc__LinearDynamics)GPSC__LINEAR_DYNAMICS__INIT;
    d->t = T_, d->dx = DX, d->du = DU;
    SET_ARR(d, fm, T_ * DX * (DX + DU), base);
    SET_ARR(d, fv, T_ * DX, base + 1);
    SET_ARR(d, dyn_covar, T_ * DX * DX, base + 2);
    SET_ARR(d, x0mu, DX, base + 3);
    SET_ARR(d, x0sigma, DX * DX, base + 4);
    return d;
}

static Gpsc__CostExpansion *mk_cost(double base)
{
    Gpsc__CostExpansion *c = keep(sizeof *c);
    *c = (Gpsc__CostExpansion)GPSC__COST_EXPANSION__INIT;
    c->t = T_, c->dx = DX, c->du = DU;
    SET_ARR(c, cc, T_, base);
    SET_ARR(c, cv, T_ * (DX + DU), base + 1);
    SET_ARR(c, cm, T_ * (DX + DU) * (DX + DU), base + 2);
    return c;
}

static Gpsc__ConditionState *mk_cond(uint32_t cond)
{
    Gpsc__ConditionState *c = keep(sizeof *c);
    *c = (Gpsc__ConditionState)GPSC__CONDITION_STATE__INIT;
    c->condition = cond;
    c->traj_distr = mk_lg(cond, 4);
    c->prev_traj_distr = mk_lg(cond, 3);
    c->dynamics = mk_dyn(0.5);
    c->prev_dynamics = mk_dyn(-0.5);
    c->dynamics_prior = mk_prior(2 * DX + DU);
    c->policy_prior = mk_prior(DX + DU);
    Gpsc__LinearizedPolicy *p = keep(sizeof *p);
    *p = (Gpsc__LinearizedPolicy)GPSC__LINEARIZED_POLICY__INIT;
    p->t = T_, p->dx = DX, p->du = DU;
    SET_ARR(p, pol_k, T_ * DU * DX, 0.3);
    SET_ARR(p, pol_k_ff, T_ * DU, 0.4);
    SET_ARR(p, pol_s, T_ * DU * DU, 0.5);
    p->n_chol_pol_s = T_ * DU * DU;
    p->chol_pol_s = chol_arr(T_, DU);
    SET_ARR(p, lambda_k, T_ * DU * DX, 0.6);
    SET_ARR(p, lambda_k_ff, T_ * DU, 0.7);
    SET_ARR(p, pol_wt, T_, 0.01);
    SET_ARR(p, prev_kl, T_, 0.02);
    c->pol_info = p;
    c->cost = mk_cost(1.0);
    c->prev_cost = mk_cost(2.0);
    c->eta = 1.25;
    c->step_mult = 0.5;
    c->kl_step = 2.0;
    c->prev_expected_cost = 103.5;
    c->prev_actual_cost = 101.25;
    c->n_extra = 1;
    c->extra = mk_tensors();
    return c;
}

/* A valid envelope whose body is `body_case`, every field set to a value
 * that is not its default. */
static void build(Gpsc__Envelope *env, int body_case)
{
    Gpsc__Role role = GPSC__ROLE__ROLE_COORDINATOR;
    switch (body_case) {
    case GPSC__ENVELOPE__BODY_HELLO:
    case GPSC__ENVELOPE__BODY_WORK_REQUEST:
    case GPSC__ENVELOPE__BODY_TRAJECTORY:
    case GPSC__ENVELOPE__BODY_POLICY_REQUEST:
    case GPSC__ENVELOPE__BODY_HEARTBEAT:
        role = GPSC__ROLE__ROLE_WORKER;
        break;
    case GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY:
    case GPSC__ENVELOPE__BODY_NETWORK_POLICY:
    case GPSC__ENVELOPE__BODY_METRICS:
    case GPSC__ENVELOPE__BODY_CHECKPOINT:
    case GPSC__ENVELOPE__BODY_TRAJECTORY_ACK:
        role = GPSC__ROLE__ROLE_LEARNER;
        break;
    default:
        break;
    }
    gpsc_wire_env_init(env, role, "node-7", 42);
    env->run_id = "run-20240101-abc";
    env->time_ns = 1700000000123456789ull;
    env->body_case = body_case;

    switch (body_case) {
    case GPSC__ENVELOPE__BODY_HELLO: {
        Gpsc__Hello *m = keep(sizeof *m);
        *m = (Gpsc__Hello)GPSC__HELLO__INIT;
        m->protocol_version = GPSC_WIRE_VERSION;
        m->role = GPSC__ROLE__ROLE_WORKER;
        Gpsc__Capabilities *c = keep(sizeof *c);
        *c = (Gpsc__Capabilities)GPSC__CAPABILITIES__INIT;
        c->slots = 2, c->max_inflight = 4, c->dx = DX, c->du = DU, c->do_ = DO, c->p = PP,
        c->dq = DQ;
        c->computes_cost = 1;
        c->mujoco_version = "2.2.2";
        m->capabilities = c;
        m->task_name = "peg7";
        m->model_hash = "sha256:0123abcd";
        m->hostname = "node-7.cluster";
        m->pid = 4242;
        m->run_id = "run-20240101-abc";
        env->hello = m;
        break;
    }
    case GPSC__ENVELOPE__BODY_WELCOME: {
        Gpsc__Welcome *m = keep(sizeof *m);
        *m = (Gpsc__Welcome)GPSC__WELCOME__INIT;
        m->run_id = "run-20240101-abc";
        m->peer_index = 3;
        m->heartbeat_interval_ms = 1000;
        m->heartbeat_timeout_ms = 5000;
        m->trajectory_endpoint = "tcp://10.0.0.1:5556";
        m->policy_endpoint = "tcp://10.0.0.1:5557";
        m->log_endpoint = "tcp://10.0.0.1:5558";
        m->run_seed = 99;
        m->config_hash = "cfg-0011";
        m->config_yaml = "name: peg7\nT: 100\n# caf\xc3\xa9\n";
        env->welcome = m;
        break;
    }
    case GPSC__ENVELOPE__BODY_REFUSE: {
        Gpsc__Refuse *m = keep(sizeof *m);
        *m = (Gpsc__Refuse)GPSC__REFUSE__INIT;
        m->reason = GPSC__REFUSE_REASON__REFUSE_TASK;
        m->error_code = GPSC_EMODEL;
        m->detail = "model hash differs";
        env->refuse = m;
        break;
    }
    case GPSC__ENVELOPE__BODY_HEARTBEAT: {
        Gpsc__Heartbeat *m = keep(sizeof *m);
        *m = (Gpsc__Heartbeat)GPSC__HEARTBEAT__INIT;
        m->inflight = 2, m->completed = 17, m->uptime_ms = 123456, m->iteration = 5;
        env->heartbeat = m;
        break;
    }
    case GPSC__ENVELOPE__BODY_WORK_REQUEST: {
        Gpsc__WorkRequest *m = keep(sizeof *m);
        *m = (Gpsc__WorkRequest)GPSC__WORK_REQUEST__INIT;
        m->credit = 3;
        env->work_request = m;
        break;
    }
    case GPSC__ENVELOPE__BODY_ROLLOUT_TASK: {
        Gpsc__RolloutTask *m = keep(sizeof *m);
        *m = (Gpsc__RolloutTask)GPSC__ROLLOUT_TASK__INIT;
        m->key = mk_key(4, 1, 2);
        m->policy_kind = GPSC__POLICY_KIND__POLICY_GLOBAL;
        m->policy_version = 3;
        m->seed = 0xdeadbeefcafeull;
        m->t = 100;
        m->noiseless = 1;
        m->attempt = 1;
        env->rollout_task = m;
        break;
    }
    case GPSC__ENVELOPE__BODY_TRAJECTORY: {
        Gpsc__Trajectory *m = keep(sizeof *m);
        *m = (Gpsc__Trajectory)GPSC__TRAJECTORY__INIT;
        m->key = mk_key(4, 1, 2);
        m->worker_id = "node-7";
        /* failed but complete: every field can be non-default */
        m->status = GPSC__TRAJECTORY_STATUS__TRAJ_FAILED;
        m->failed_reason = "simulation unstable at t=2";
        m->error_code = GPSC_ESIM;
        m->policy_kind = GPSC__POLICY_KIND__POLICY_LOCAL;
        m->policy_version = 3;
        m->t = T_, m->dx = DX, m->du = DU, m->do_ = DO, m->p = PP, m->dq = DQ, m->dc = DC;
        SET_ARR(m, x, T_ * DX, 0.0 + 1);
        SET_ARR(m, u, T_ * DU, -1.0);
        SET_ARR(m, o, T_ * DO, 2.0);
        SET_ARR(m, ee, T_ * PP, 3.0);
        SET_ARR(m, ee_jac, T_ * PP * DQ, 4.0);
        SET_ARR(m, costs, T_ * DC, 5.0);
        m->n_cost_names = DC;
        m->cost_names = keep(DC * sizeof *m->cost_names);
        m->cost_names[0] = "action", m->cost_names[1] = "fk";
        Gpsc__Timings *t = keep(sizeof *t);
        *t = (Gpsc__Timings)GPSC__TIMINGS__INIT;
        t->rollout_s = 0.5, t->sim_s = 0.25, t->policy_s = 0.125, t->queued_s = 0.0625;
        m->timings = t;
        m->attempt = 2;
        env->trajectory = m;
        break;
    }
    case GPSC__ENVELOPE__BODY_TRAJECTORY_ACK: {
        Gpsc__TrajectoryAck *m = keep(sizeof *m);
        *m = (Gpsc__TrajectoryAck)GPSC__TRAJECTORY_ACK__INIT;
        m->key = mk_key(4, 1, 2);
        m->status = GPSC__ACK_STATUS__ACK_DUPLICATE;
        m->error_code = GPSC_EDUP;
        m->detail = "already stored";
        env->trajectory_ack = m;
        break;
    }
    case GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY:
        env->lin_gauss_policy = mk_lg(1, 5);
        break;
    case GPSC__ENVELOPE__BODY_NETWORK_POLICY:
        env->network_policy = mk_net();
        break;
    case GPSC__ENVELOPE__BODY_POLICY_REQUEST: {
        Gpsc__PolicyRequest *m = keep(sizeof *m);
        *m = (Gpsc__PolicyRequest)GPSC__POLICY_REQUEST__INIT;
        m->policy = mk_pv(1, 5);
        env->policy_request = m;
        break;
    }
    case GPSC__ENVELOPE__BODY_ITERATION_CONTROL: {
        Gpsc__IterationControl *m = keep(sizeof *m);
        *m = (Gpsc__IterationControl)GPSC__ITERATION_CONTROL__INIT;
        m->command = GPSC__ITERATION_COMMAND__ITER_POLICIES_READY;
        m->iteration = 6;
        m->n_policies = 2;
        m->policies = keep(2 * sizeof *m->policies);
        m->policies[0] = mk_pv(1, 6), m->policies[1] = mk_pv(2, 6);
        m->samples = 10;
        m->reason = "policies of iteration 6";
        env->iteration_control = m;
        break;
    }
    case GPSC__ENVELOPE__BODY_LOG_RECORD: {
        Gpsc__LogRecord *m = keep(sizeof *m);
        *m = (Gpsc__LogRecord)GPSC__LOG_RECORD__INIT;
        m->time = 1700000000.25;
        m->level = GPSC__LOG_LEVEL__LOG_WARN;
        m->role = GPSC__ROLE__ROLE_WORKER;
        m->pid = 4242;
        m->run_id = "run-20240101-abc";
        m->iteration = 6;
        m->message = "task 6/1/2 re-issued \xe2\x9c\x93";
        m->sender_id = "node-7";
        m->error_code = GPSC_ETIMEDOUT;
        env->log_record = m;
        break;
    }
    case GPSC__ENVELOPE__BODY_METRICS: {
        Gpsc__Metrics *m = keep(sizeof *m);
        *m = (Gpsc__Metrics)GPSC__METRICS__INIT;
        m->iteration = 6;
        m->json = "{\"iteration\":6,\"cost\":12.5}";
        m->n_values = 1;
        m->values = keep(sizeof *m->values);
        Gpsc__NamedValue *v = keep(sizeof *v);
        *v = (Gpsc__NamedValue)GPSC__NAMED_VALUE__INIT;
        v->name = "cost", v->value = 12.5;
        m->values[0] = v;
        env->metrics = m;
        break;
    }
    case GPSC__ENVELOPE__BODY_CHECKPOINT: {
        Gpsc__Checkpoint *m = keep(sizeof *m);
        *m = (Gpsc__Checkpoint)GPSC__CHECKPOINT__INIT;
        m->iteration = 6;
        m->run_seed = 99;
        m->config_hash = "cfg-0011";
        m->run_id = "run-20240101-abc";
        m->algorithm = "mdgps";
        m->condition_count = 3;
        m->n_conditions = 2;
        m->conditions = keep(2 * sizeof *m->conditions);
        m->conditions[0] = mk_cond(1), m->conditions[1] = mk_cond(2);
        m->network = mk_net();
        Gpsc__AdamState *a = keep(sizeof *a);
        *a = (Gpsc__AdamState)GPSC__ADAM_STATE__INIT;
        a->step = 3000;
        SET_ARR(a, m, m->network->n_weights + m->network->n_biases, -0.01);
        SET_ARR(a, v, m->network->n_weights + m->network->n_biases, 0.01);
        m->optimizer = a;
        m->n_published = 1;
        m->published = keep(sizeof *m->published);
        m->published[0] = mk_pv(1, 6);
        m->n_extra = 1;
        m->extra = mk_tensors();
        m->config_yaml = "name: peg7\n";
        env->checkpoint = m;
        break;
    }
    default:
        fail_msg("no builder for body %d", body_case);
    }
}

static const int all_bodies[] = {GPSC__ENVELOPE__BODY_HELLO,
                                 GPSC__ENVELOPE__BODY_WELCOME,
                                 GPSC__ENVELOPE__BODY_REFUSE,
                                 GPSC__ENVELOPE__BODY_HEARTBEAT,
                                 GPSC__ENVELOPE__BODY_WORK_REQUEST,
                                 GPSC__ENVELOPE__BODY_ROLLOUT_TASK,
                                 GPSC__ENVELOPE__BODY_TRAJECTORY,
                                 GPSC__ENVELOPE__BODY_TRAJECTORY_ACK,
                                 GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY,
                                 GPSC__ENVELOPE__BODY_NETWORK_POLICY,
                                 GPSC__ENVELOPE__BODY_POLICY_REQUEST,
                                 GPSC__ENVELOPE__BODY_ITERATION_CONTROL,
                                 GPSC__ENVELOPE__BODY_LOG_RECORD,
                                 GPSC__ENVELOPE__BODY_METRICS,
                                 GPSC__ENVELOPE__BODY_CHECKPOINT};
#define N_BODIES ((int)(sizeof all_bodies / sizeof all_bodies[0]))

/* ------------------------------------------------------------------ reflection
 * Field-by-field equality and "is every field set" through protobuf-c's
 * descriptors, so that no field of any message can be forgotten. */

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    }
    return 0;
}

static int msg_diff(const ProtobufCMessage *a, const ProtobufCMessage *b, const char *path,
                    char *out, size_t outsz);

/* one element at pa / pb */
static int elem_diff(const ProtobufCFieldDescriptor *f, const void *pa, const void *pb,
                     const char *path, char *out, size_t outsz)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *sa = *(char *const *)pa, *sb = *(char *const *)pb;
        if (strcmp(sa ? sa : "", sb ? sb : "") != 0) {
            snprintf(out, outsz, "%s: '%s' != '%s'", path, sa, sb);
            return 1;
        }
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *ma = *(ProtobufCMessage *const *)pa;
        const ProtobufCMessage *mb = *(ProtobufCMessage *const *)pb;
        if (!ma || !mb) {
            if (ma != mb) {
                snprintf(out, outsz, "%s: one side missing", path);
                return 1;
            }
            return 0;
        }
        return msg_diff(ma, mb, path, out, outsz);
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *ba = pa, *bb = pb;
        if (ba->len != bb->len || (ba->len && memcmp(ba->data, bb->data, ba->len))) {
            snprintf(out, outsz, "%s: bytes differ", path);
            return 1;
        }
        return 0;
    }
    default:
        if (memcmp(pa, pb, elem_size(f->type)) != 0) {
            snprintf(out, outsz, "%s: values differ", path);
            return 1;
        }
        return 0;
    }
}

static int msg_diff(const ProtobufCMessage *a, const ProtobufCMessage *b, const char *path,
                    char *out, size_t outsz)
{
    const ProtobufCMessageDescriptor *d = a->descriptor;
    if (d != b->descriptor) {
        snprintf(out, outsz, "%s: different types", path);
        return 1;
    }
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *ca = (const char *)a + f->offset, *cb = (const char *)b + f->offset;
        char p[512];
        snprintf(p, sizeof p, "%s.%s", path, f->name);
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t qa = *(const uint32_t *)((const char *)a + f->quantifier_offset);
            uint32_t qb = *(const uint32_t *)((const char *)b + f->quantifier_offset);
            if (qa != qb) {
                snprintf(out, outsz, "%s: oneof case %u != %u", p, qa, qb);
                return 1;
            }
            if (qa != f->id) continue;
        }
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t na = *(const size_t *)((const char *)a + f->quantifier_offset);
            size_t nb = *(const size_t *)((const char *)b + f->quantifier_offset);
            if (na != nb) {
                snprintf(out, outsz, "%s: %zu != %zu elements", p, na, nb);
                return 1;
            }
            const char *xa = *(char *const *)ca, *xb = *(char *const *)cb;
            size_t es = elem_size(f->type);
            for (size_t k = 0; k < na; k++) {
                char pk[560];
                snprintf(pk, sizeof pk, "%s[%zu]", p, k);
                if (elem_diff(f, xa + k * es, xb + k * es, pk, out, outsz)) return 1;
            }
            continue;
        }
        if (elem_diff(f, ca, cb, p, out, outsz)) return 1;
    }
    return 0;
}

/* appends the paths of fields left at their default value */
static void find_defaults(const ProtobufCMessage *m, const char *path, char *out, size_t outsz)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *c = (const char *)m + f->offset;
        char p[512];
        snprintf(p, sizeof p, "%s.%s", path, f->name);
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t q = *(const uint32_t *)((const char *)m + f->quantifier_offset);
            if (q != f->id) continue;
        }
        bool dflt = false;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)m + f->quantifier_offset);
            dflt = n == 0;
            if (!dflt && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)c;
                for (size_t k = 0; k < n; k++)
                    if (items[k]) find_defaults(items[k], p, out, outsz);
            }
        } else if (f->type == PROTOBUF_C_TYPE_STRING) {
            const char *s = *(char *const *)c;
            dflt = !s || !*s;
        } else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            const ProtobufCMessage *sm = *(ProtobufCMessage *const *)c;
            dflt = !sm;
            if (sm) find_defaults(sm, p, out, outsz);
        } else {
            static const char zeros[16];
            dflt = memcmp(c, zeros, elem_size(f->type)) == 0;
        }
        if (dflt) {
            size_t used = strlen(out);
            snprintf(out + used, outsz - used, "%s ", p);
        }
    }
}

/* ------------------------------------------------------------------ helpers */

static uint8_t *enc(const Gpsc__Envelope *env, size_t *len)
{
    uint8_t *b = NULL;
    char err[256];
    int rc = gpsc_wire_encode(&b, len, env, err, sizeof err);
    if (rc) fail_msg("encode: %s (%s)", gpsc_errname(rc), err);
    return b;
}

/* packs without validation (to make invalid messages) */
static uint8_t *raw_pack(const Gpsc__Envelope *env, size_t *len)
{
    *len = gpsc__envelope__get_packed_size(env);
    uint8_t *b = malloc(*len + 1);
    assert_non_null(b);
    assert_int_equal(gpsc__envelope__pack(env, b), *len);
    return b;
}

static int decode_code(const uint8_t *b, size_t n, size_t max, char *err, size_t errsz)
{
    gpsc_wire_msg_t *m = NULL;
    int rc = gpsc_wire_decode(&m, b, n, max, err, errsz);
    if (rc == 0) {
        assert_non_null(m);
        gpsc_wire_msg_destroy(&m);
    } else {
        assert_null(m);
    }
    return rc;
}

/* decode code of an envelope packed as it is (no validation on the way) */
static int raw_code(const Gpsc__Envelope *env, char *err, size_t errsz)
{
    size_t n;
    uint8_t *b = raw_pack(env, &n);
    int rc = decode_code(b, n, 0, err, errsz);
    free(b);
    return rc;
}

/* ------------------------------------------------------------------ round trip */

static void test_round_trip_every_message(void **state)
{
    (void)state;
    for (int i = 0; i < N_BODIES; i++) {
        Gpsc__Envelope env;
        build(&env, all_bodies[i]);
        const char *name = gpsc_wire_body_name(all_bodies[i]);

        /* the sample sets every field, so equality below covers them all */
        char dflt[4096] = "";
        find_defaults(&env.base, name, dflt, sizeof dflt);
        if (dflt[0]) fail_msg("%s: fields left at default: %s", name, dflt);

        size_t n;
        uint8_t *b = enc(&env, &n);
        assert_int_equal(n, gpsc_wire_packed_size(&env));
        gpsc_wire_msg_t *m = NULL;
        char err[256];
        int rc = gpsc_wire_decode(&m, b, n, 0, err, sizeof err);
        if (rc) fail_msg("%s: decode %s (%s)", name, gpsc_errname(rc), err);
        const Gpsc__Envelope *got = gpsc_wire_msg_env(m);
        assert_int_equal(got->body_case, all_bodies[i]);
        assert_int_equal(gpsc_wire_msg_size(m), n);
        assert_int_equal(gpsc_wire_msg_head(m)->len, 0);

        char diff[1024] = "";
        if (msg_diff(&env.base, &got->base, name, diff, sizeof diff))
            fail_msg("round trip differs: %s", diff);

        /* and packing the decoded envelope gives the same bytes */
        size_t n2;
        uint8_t *b2 = enc(got, &n2);
        assert_int_equal(n2, n);
        assert_memory_equal(b, b2, n);
        free(b2);
        free(b);
        gpsc_wire_msg_destroy(&m);
        assert_null(m);
    }
    pool_free();
}

/* spot checks by hand, in case the reflection above were wrong */
static void test_round_trip_spot_checks(void **state)
{
    (void)state;
    Gpsc__Envelope env;
    build(&env, GPSC__ENVELOPE__BODY_TRAJECTORY);
    size_t n;
    uint8_t *b = enc(&env, &n);
    gpsc_wire_msg_t *m = NULL;
    assert_int_equal(gpsc_wire_decode(&m, b, n, 0, NULL, 0), 0);
    const Gpsc__Envelope *g = gpsc_wire_msg_env(m);
    assert_int_equal(g->version, 1);
    assert_int_equal(g->sender_role, GPSC__ROLE__ROLE_WORKER);
    assert_string_equal(g->sender_id, "node-7");
    assert_int_equal(g->seq, 42);
    const Gpsc__Trajectory *t = g->trajectory;
    assert_int_equal(t->key->iteration, 4);
    assert_int_equal(t->key->condition, 1);
    assert_int_equal(t->key->sample_index, 2);
    assert_int_equal(t->n_x, T_ * DX);
    assert_true(t->x[5] == 1.0 + 0.25 * 5);
    assert_int_equal(t->n_ee_jac, T_ * PP * DQ);
    assert_true(t->ee_jac[T_ * PP * DQ - 1] == 4.0 + 0.25 * (T_ * PP * DQ - 1));
    assert_string_equal(t->cost_names[1], "fk");
    assert_true(t->timings->queued_s == 0.0625);
    gpsc_wire_msg_destroy(&m);
    free(b);

    build(&env, GPSC__ENVELOPE__BODY_CHECKPOINT);
    b = enc(&env, &n);
    assert_int_equal(gpsc_wire_decode(&m, b, n, 0, NULL, 0), 0);
    const Gpsc__Checkpoint *c = gpsc_wire_msg_env(m)->checkpoint;
    assert_int_equal(c->n_conditions, 2);
    assert_int_equal(c->conditions[1]->traj_distr->condition, 2);
    assert_int_equal(c->conditions[0]->dynamics_prior->gmm->d, 2 * DX + DU);
    assert_true(c->conditions[0]->eta == 1.25);
    assert_int_equal(c->optimizer->n_m, 25 + 7);
    assert_string_equal(c->extra[0]->name, "replay");
    gpsc_wire_msg_destroy(&m);
    free(b);
    pool_free();
}

/* ------------------------------------------------------------------ bad input */

typedef struct bad_case {
    const char *what;
    int want;
    int got;
} bad_case_t;

static void test_bad_input_distinct_codes(void **state)
{
    (void)state;
    bad_case_t cases[16];
    int nc = 0;
    char err[256];
    Gpsc__Envelope env;
    size_t n;
    uint8_t *b;

#define CASE(what_, want_, expr_)                                                                  \
    do {                                                                                           \
        err[0] = '\0';                                                                             \
        int got_ = (expr_);                                                                        \
        cases[nc++] = (bad_case_t){what_, want_, got_};                                            \
        if (got_ != (want_))                                                                       \
            fail_msg("%s: got %s, want %s (%s)", what_, gpsc_errname(got_), gpsc_errname(want_),   \
                     err);                                                                         \
        if (got_ != 0 && err[0] == '\0') fail_msg("%s: no message", what_);                        \
    } while (0)

    /* 1. empty input */
    CASE("empty", GPSC_ENODATA, decode_code((const uint8_t *)"", 0, 0, err, sizeof err));

    /* 2. larger than the limit */
    build(&env, GPSC__ENVELOPE__BODY_TRAJECTORY);
    b = enc(&env, &n);
    CASE("oversized", GPSC_ETOOBIG, decode_code(b, n, n - 1, err, sizeof err));

    /* 3. truncated */
    CASE("truncated", GPSC_ETRUNC, decode_code(b, n - 5, 0, err, sizeof err));
    free(b);

    /* 4. malformed protobuf: the body's bytes are not a Trajectory */
    {
        static const uint8_t bytes[] = {0x08, 0x01, 0x10, 0x03, 0x1a, 0x01, 'w',
                                        0xb2, 0x01, 0x03, 0xff, 0xff, 0xff};
        CASE("malformed", GPSC_EMALFORMED, decode_code(bytes, sizeof bytes, 0, err, sizeof err));
    }

    /* 5. another protocol version */
    build(&env, GPSC__ENVELOPE__BODY_HEARTBEAT);
    env.version = 2;
    CASE("version", GPSC_EVERSION, raw_code(&env, err, sizeof err));

    /* 6. no body */
    build(&env, GPSC__ENVELOPE__BODY_HEARTBEAT);
    env.body_case = GPSC__ENVELOPE__BODY__NOT_SET;
    CASE("no body", GPSC_EEMPTY, raw_code(&env, err, sizeof err));

    /* 7. a body type from the future: field 40 (reserved) */
    build(&env, GPSC__ENVELOPE__BODY_HEARTBEAT);
    env.body_case = GPSC__ENVELOPE__BODY__NOT_SET;
    b = raw_pack(&env, &n);
    {
        uint8_t *b2 = malloc(n + 3);
        memcpy(b2, b, n);
        b2[n] = 0xc2, b2[n + 1] = 0x02, b2[n + 2] = 0x00; /* tag 40, wire type 2, length 0 */
        CASE("unknown body", GPSC_ETYPE, decode_code(b2, n + 3, 0, err, sizeof err));
        free(b2);
    }
    free(b);

    /* 8. unknown role */
    build(&env, GPSC__ENVELOPE__BODY_HEARTBEAT);
    env.sender_role = 9;
    CASE("role", GPSC_EROLE, raw_code(&env, err, sizeof err));

    /* 9. dimensions: states one value short of T x dX */
    build(&env, GPSC__ENVELOPE__BODY_TRAJECTORY);
    env.trajectory->status = GPSC__TRAJECTORY_STATUS__TRAJ_OK;
    env.trajectory->n_x--;
    CASE("dims", GPSC_EDIM, raw_code(&env, err, sizeof err));

    /* 10. NaN in the actions */
    build(&env, GPSC__ENVELOPE__BODY_TRAJECTORY);
    env.trajectory->u[3] = NAN;
    CASE("nan", GPSC_ENONFINITE, raw_code(&env, err, sizeof err));

    /* 11. value out of range: zero credit */
    build(&env, GPSC__ENVELOPE__BODY_WORK_REQUEST);
    env.work_request->credit = 0;
    CASE("range", GPSC_ERANGE, raw_code(&env, err, sizeof err));

    /* 12. a Cholesky factor with a negative diagonal */
    build(&env, GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY);
    env.lin_gauss_policy->chol_pol_covar[DU + 1] = -1.0; /* t = 0, (1, 1) */
    CASE("not pd", GPSC_ENOTPD, raw_code(&env, err, sizeof err));

    /* 13. a checkpoint with the same condition twice */
    build(&env, GPSC__ENVELOPE__BODY_CHECKPOINT);
    env.checkpoint->conditions[1] = env.checkpoint->conditions[0];
    CASE("duplicate", GPSC_EDUP, raw_code(&env, err, sizeof err));

    /* 14. a message that expands far beyond its size: 200k empty
     * PolicyVersion entries (2 bytes each on the wire, ~100 in memory) */
    {
        size_t entries = 200000, body = 2 * entries;
        size_t cap = 32 + body;
        uint8_t *x = malloc(cap);
        size_t k = 0;
        x[k++] = 0x08, x[k++] = 0x01; /* version 1 */
        x[k++] = 0x10, x[k++] = 0x01; /* coordinator */
        x[k++] = 0x1a, x[k++] = 0x01, x[k++] = 'c';
        x[k++] = 0xda, x[k++] = 0x01; /* field 27 (iteration_control), wire type 2 */
        size_t l = body;
        while (l >= 0x80) {
            x[k++] = (uint8_t)(l | 0x80);
            l >>= 7;
        }
        x[k++] = (uint8_t)l;
        for (size_t i = 0; i < entries; i++)
            x[k++] = 0x1a, x[k++] = 0x00; /* policies: empty */
        CASE("expansion", GPSC_ETOOBIG, decode_code(x, k, 0, err, sizeof err));
        free(x);
    }
#undef CASE

    /* every kind of bad input has its own code */
    for (int i = 0; i < nc; i++)
        for (int j = i + 1; j < nc; j++)
            if (cases[i].got == cases[j].got &&
                !(cases[i].want == GPSC_ETOOBIG && cases[j].want == GPSC_ETOOBIG))
                fail_msg("'%s' and '%s' share %s", cases[i].what, cases[j].what,
                         gpsc_errname(cases[i].got));
    assert_true(nc >= 13);
    pool_free();
}

/* more refusals, one per validator family */
static void test_validation_details(void **state)
{
    (void)state;
    char err[256];
    Gpsc__Envelope env;

    /* LinGaussPolicy K of the wrong length */
    build(&env, GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY);
    env.lin_gauss_policy->n_k--;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EDIM);
    assert_non_null(strstr(err, "K"));

    /* a Cholesky factor with an entry below the diagonal */
    build(&env, GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY);
    env.lin_gauss_policy->chol_pol_covar[DU * DU + DU] = 0.5; /* t = 1, (1, 0) */
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ENOTPD);

    /* NetworkPolicy weights that do not match the layer sizes */
    build(&env, GPSC__ENVELOPE__BODY_NETWORK_POLICY);
    env.network_policy->layer_sizes[1] = 6;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EDIM);
    assert_non_null(strstr(err, "weights"));
    build(&env, GPSC__ENVELOPE__BODY_NETWORK_POLICY);
    env.network_policy->layer_sizes[0] = DO + 1;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EDIM);
    build(&env, GPSC__ENVELOPE__BODY_NETWORK_POLICY);
    env.network_policy->pol_var[1] = 0.0;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);
    build(&env, GPSC__ENVELOPE__BODY_NETWORK_POLICY);
    env.network_policy->obs_scale[0] = INFINITY;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ENONFINITE);
    build(&env, GPSC__ENVELOPE__BODY_NETWORK_POLICY);
    env.network_policy->activation = 7;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);

    /* Trajectory: a successful rollout must send whole arrays */
    build(&env, GPSC__ENVELOPE__BODY_TRAJECTORY);
    env.trajectory->status = GPSC__TRAJECTORY_STATUS__TRAJ_OK;
    env.trajectory->n_o = 0;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EDIM);
    /* ... a failed one may leave them out */
    env.trajectory->status = GPSC__TRAJECTORY_STATUS__TRAJ_FAILED;
    assert_int_equal(raw_code(&env, err, sizeof err), 0);
    /* ... but not send half of one */
    env.trajectory->n_x = 1;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EDIM);
    build(&env, GPSC__ENVELOPE__BODY_TRAJECTORY);
    env.trajectory->n_cost_names = 1;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EDIM);
    build(&env, GPSC__ENVELOPE__BODY_TRAJECTORY);
    env.trajectory->key = NULL;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EMALFORMED);
    build(&env, GPSC__ENVELOPE__BODY_TRAJECTORY);
    env.trajectory->t = 0;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);
    build(&env, GPSC__ENVELOPE__BODY_TRAJECTORY);
    env.trajectory->timings->sim_s = -1;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);

    /* Hello: version inside, role must match the sender's */
    build(&env, GPSC__ENVELOPE__BODY_HELLO);
    env.hello->protocol_version = 3;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EVERSION);
    build(&env, GPSC__ENVELOPE__BODY_HELLO);
    env.sender_role = GPSC__ROLE__ROLE_LEARNER;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EROLE);
    build(&env, GPSC__ENVELOPE__BODY_HELLO);
    env.hello->capabilities = NULL;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EMALFORMED);
    build(&env, GPSC__ENVELOPE__BODY_HELLO);
    env.hello->capabilities->max_inflight = 1; /* < slots */
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);

    /* identifiers and text */
    build(&env, GPSC__ENVELOPE__BODY_HEARTBEAT);
    env.sender_id = "has space";
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EMALFORMED);
    build(&env, GPSC__ENVELOPE__BODY_HEARTBEAT);
    env.sender_id = "";
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EMALFORMED);
    build(&env, GPSC__ENVELOPE__BODY_LOG_RECORD);
    env.log_record->message = "bad \xc3\x28 utf8";
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EMALFORMED);
    build(&env, GPSC__ENVELOPE__BODY_LOG_RECORD);
    env.log_record->message = "overlong \xc0\xaf";
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EMALFORMED);
    build(&env, GPSC__ENVELOPE__BODY_LOG_RECORD);
    env.log_record->message = "surrogate \xed\xa0\x80";
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EMALFORMED);
    build(&env, GPSC__ENVELOPE__BODY_LOG_RECORD);
    env.log_record->level = 6;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);
    build(&env, GPSC__ENVELOPE__BODY_LOG_RECORD);
    env.log_record->role = 0;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EROLE);
    build(&env, GPSC__ENVELOPE__BODY_LOG_RECORD);
    env.log_record->iteration = -2;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);
    build(&env, GPSC__ENVELOPE__BODY_REFUSE);
    env.refuse->error_code = 5;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);
    build(&env, GPSC__ENVELOPE__BODY_WELCOME);
    env.welcome->heartbeat_timeout_ms = env.welcome->heartbeat_interval_ms;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);
    build(&env, GPSC__ENVELOPE__BODY_ROLLOUT_TASK);
    env.rollout_task->policy_kind = GPSC__POLICY_KIND__POLICY_KIND_UNSPECIFIED;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);
    build(&env, GPSC__ENVELOPE__BODY_ITERATION_CONTROL);
    env.iteration_control->command = 0;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);
    build(&env, GPSC__ENVELOPE__BODY_METRICS);
    env.metrics->values[0]->value = NAN;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ENONFINITE);

    /* checkpoint internals */
    build(&env, GPSC__ENVELOPE__BODY_CHECKPOINT);
    env.checkpoint->conditions[0]->dynamics->dx = DX + 1;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EDIM);
    build(&env, GPSC__ENVELOPE__BODY_CHECKPOINT);
    env.checkpoint->conditions[1]->dynamics_prior->gmm = mk_gmm(DX + DU); /* wrong D */
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EDIM);
    build(&env, GPSC__ENVELOPE__BODY_CHECKPOINT);
    env.checkpoint->optimizer->n_v--;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EDIM);
    build(&env, GPSC__ENVELOPE__BODY_CHECKPOINT);
    {
        Gpsc__ConditionState *t = env.checkpoint->conditions[0];
        env.checkpoint->conditions[0] = env.checkpoint->conditions[1];
        env.checkpoint->conditions[1] = t;
    }
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);
    build(&env, GPSC__ENVELOPE__BODY_CHECKPOINT);
    env.checkpoint->conditions[0]->extra[0]->shape[1] = 4;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_EDIM);
    build(&env, GPSC__ENVELOPE__BODY_CHECKPOINT);
    env.checkpoint->algorithm = "sgd";
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ERANGE);
    build(&env, GPSC__ENVELOPE__BODY_CHECKPOINT);
    env.checkpoint->conditions[1]->policy_prior->samples->x[7] = -INFINITY;
    assert_int_equal(raw_code(&env, err, sizeof err), GPSC_ENONFINITE);
    assert_non_null(strstr(err, "conditions[1].policy_prior.samples"));

    /* encode refuses what decode would refuse, with the same code */
    build(&env, GPSC__ENVELOPE__BODY_TRAJECTORY);
    env.trajectory->x[0] = NAN;
    uint8_t *b = (uint8_t *)1;
    size_t n = 1;
    assert_int_equal(gpsc_wire_encode(&b, &n, &env, err, sizeof err), GPSC_ENONFINITE);
    assert_null(b);
    assert_int_equal(n, 0);
    env.version = 0;
    assert_int_equal(gpsc_wire_encode(&b, &n, &env, err, sizeof err), GPSC_EVERSION);

    /* public per-message validators */
    build(&env, GPSC__ENVELOPE__BODY_NETWORK_POLICY);
    assert_int_equal(gpsc_wire_validate_network_policy(env.network_policy, err, sizeof err), 0);
    assert_int_equal(gpsc_wire_validate_trajectory(NULL, err, sizeof err), GPSC_EINVAL);
    assert_int_equal(gpsc_wire_validate(NULL, NULL, 0), GPSC_EINVAL);
    pool_free();
}

/* every proper prefix fails cleanly; single-byte changes never crash and
 * whatever decodes also re-encodes */
static void test_truncation_and_mutation_sweep(void **state)
{
    (void)state;
    for (int i = 0; i < N_BODIES; i++) {
        Gpsc__Envelope env;
        build(&env, all_bodies[i]);
        size_t n;
        uint8_t *b = enc(&env, &n);
        for (size_t cut = 0; cut < n; cut++) {
            int rc = decode_code(b, cut, 0, NULL, 0);
            if (rc != GPSC_ENODATA && rc != GPSC_ETRUNC && rc != GPSC_EEMPTY)
                fail_msg("%s cut at %zu/%zu: %s", gpsc_wire_body_name(all_bodies[i]), cut, n,
                         gpsc_errname(rc));
        }
        static const uint8_t flips[] = {0x01, 0x80, 0xff, 0x7f};
        size_t step = n > 600 ? n / 300 : 1;
        for (size_t pos = 0; pos < n; pos += step) {
            for (size_t f = 0; f < sizeof flips; f++) {
                b[pos] ^= flips[f];
                gpsc_wire_msg_t *m = NULL;
                int rc = gpsc_wire_decode(&m, b, n, 0, NULL, 0);
                if (rc == 0) {
                    size_t n2;
                    uint8_t *b2 = enc(gpsc_wire_msg_env(m), &n2);
                    free(b2);
                    gpsc_wire_msg_destroy(&m);
                } else {
                    assert_true(rc < 0 && rc > GPSC_ERR_LAST_);
                }
                b[pos] ^= flips[f];
            }
        }
        free(b);
    }
    pool_free();
}

/* an envelope whose heartbeat body is `body` (hand-made bytes) */
static int heartbeat_body_code(const uint8_t *body, size_t blen)
{
    Gpsc__Envelope env;
    build(&env, GPSC__ENVELOPE__BODY_HEARTBEAT);
    env.body_case = GPSC__ENVELOPE__BODY__NOT_SET;
    size_t n;
    uint8_t *b = raw_pack(&env, &n);
    uint8_t *x = malloc(n + 3 + blen);
    memcpy(x, b, n);
    x[n] = 0x9a, x[n + 1] = 0x01, x[n + 2] = (uint8_t)blen; /* field 19, wire type 2 */
    memcpy(x + n + 3, body, blen);
    gpsc_wire_msg_t *m = NULL;
    int rc = gpsc_wire_decode(&m, x, n + 3 + blen, 0, NULL, 0);
    if (rc == 0) {
        /* what decodes re-encodes, unknown fields included, and decodes again */
        size_t n2;
        uint8_t *b2 = enc(gpsc_wire_msg_env(m), &n2);
        assert_int_equal(n2, n + 3 + blen);
        assert_memory_equal(b2, x, n2);
        free(b2);
        assert_int_equal(gpsc_wire_msg_env(m)->heartbeat->inflight, 2);
        assert_int_equal(gpsc_wire_msg_env(m)->heartbeat->base.n_unknown_fields, 1);
        gpsc_wire_msg_destroy(&m);
    }
    free(x);
    free(b);
    return rc;
}

static void test_unknown_fields(void **state)
{
    (void)state;
    /* a field from a newer minor revision inside a body: kept, forwarded */
    static const uint8_t newer[] = {0x08, 0x02, 0xc0, 0x0c, 0x05}; /* inflight 2, field 200 */
    assert_int_equal(heartbeat_body_code(newer, sizeof newer), 0);
    /* field number 0 in a two-byte tag (fuzz_envelope crash e42c1ce9) */
    static const uint8_t zero[] = {0x08, 0x02, 0x80, 0x00, 0x05};
    assert_int_equal(heartbeat_body_code(zero, sizeof zero), GPSC_EMALFORMED);
    /* field number 2^29, beyond what protobuf allows */
    static const uint8_t huge[] = {0x08, 0x02, 0x80, 0x80, 0x80, 0x80, 0x10, 0x05};
    assert_int_equal(heartbeat_body_code(huge, sizeof huge), GPSC_EMALFORMED);
    pool_free();
}

static void test_names_and_errors(void **state)
{
    (void)state;
    assert_string_equal(gpsc_wire_body_name(GPSC__ENVELOPE__BODY_TRAJECTORY), "trajectory");
    assert_string_equal(gpsc_wire_body_name(GPSC__ENVELOPE__BODY_CHECKPOINT), "checkpoint");
    assert_string_equal(gpsc_wire_body_name(0), "none");
    assert_string_equal(gpsc_wire_body_name(77), "unknown");
    assert_string_equal(gpsc_wire_role_name(GPSC__ROLE__ROLE_WORKER), "worker");
    assert_string_equal(gpsc_wire_role_name(12), "unknown");
    assert_string_equal(gpsc_errname(GPSC_ENODATA), "GPSC_ENODATA");
    assert_string_equal(gpsc_errname(GPSC_EROLE), "GPSC_EROLE");
    gpsc_wire_head_t h;
    assert_int_equal(gpsc_wire_head_str(&h, "policy.local.3"), 0);
    assert_int_equal(h.len, 14);
    char big[300];
    memset(big, 'a', sizeof big);
    assert_int_equal(gpsc_wire_head_set(&h, big, sizeof big), GPSC_ERANGE);
    gpsc_wire_msg_t *m = NULL;
    gpsc_wire_msg_destroy(&m);
    gpsc_wire_msg_destroy(NULL);
    assert_int_equal(gpsc_wire_decode(NULL, (const uint8_t *)"x", 1, 0, NULL, 0), GPSC_EINVAL);
}

/* ------------------------------------------------------------------ sockets */

typedef struct net {
    void *ctx;
} net_t;

static int net_setup(void **state)
{
    net_t *n = calloc(1, sizeof *n);
    n->ctx = gpsc_wire_ctx_new();
    if (!n->ctx) return -1;
    *state = n;
    return 0;
}

static int net_teardown(void **state)
{
    net_t *n = *state;
    gpsc_wire_ctx_destroy(&n->ctx);
    free(n);
    pool_free();
    return 0;
}

static void *mksock(void *ctx, gpsc_wire_type_t type, const gpsc_wire_opts_t *o)
{
    char err[256];
    gpsc_wire_opts_t d;
    if (!o) {
        gpsc_wire_opts_default(&d);
        d.linger_ms = 0;
        d.rcvtimeo_ms = 3000;
        d.sndtimeo_ms = 3000;
        o = &d;
    }
    void *s = gpsc_wire_socket(ctx, type, o, err, sizeof err);
    if (!s) fail_msg("socket: %s", err);
    return s;
}

static void test_opts(gpsc_wire_opts_t *o, int rcvtimeo)
{
    gpsc_wire_opts_default(o);
    o->linger_ms = 0;
    o->rcvtimeo_ms = rcvtimeo;
    o->sndtimeo_ms = 3000;
}

static void bind_any(void *s, char *ep, size_t epsz)
{
    assert_int_equal(gpsc_wire_bind(s, "tcp://127.0.0.1:*", ep, epsz), 0);
    assert_non_null(strstr(ep, "tcp://127.0.0.1:"));
    assert_null(strstr(ep, "*"));
}

static void test_dealer_router(void **state)
{
    net_t *nt = *state;
    char ep[128], err[256];
    void *router = mksock(nt->ctx, GPSC_WIRE_ROUTER, NULL);
    bind_any(router, ep, sizeof ep);

    gpsc_wire_opts_t o;
    test_opts(&o, 3000);
    o.routing_id = "worker-1";
    void *dealer = mksock(nt->ctx, GPSC_WIRE_DEALER, &o);
    assert_int_equal(gpsc_wire_connect(dealer, ep), 0);

    /* worker -> coordinator: Hello arrives with the worker's identity */
    Gpsc__Envelope env;
    build(&env, GPSC__ENVELOPE__BODY_HELLO);
    assert_int_equal(gpsc_wire_send(dealer, NULL, &env, 0), 0);
    gpsc_wire_msg_t *m = NULL;
    gpsc_wire_head_t from;
    int rc = gpsc_wire_recv(router, &m, &from, 0, err, sizeof err);
    if (rc) fail_msg("recv: %s %s", gpsc_errname(rc), err);
    assert_int_equal(from.len, 8);
    assert_memory_equal(from.data, "worker-1", 8);
    assert_int_equal(gpsc_wire_msg_head(m)->len, 8);
    assert_int_equal(gpsc_wire_msg_env(m)->body_case, GPSC__ENVELOPE__BODY_HELLO);
    assert_string_equal(gpsc_wire_msg_env(m)->hello->task_name, "peg7");

    /* coordinator -> worker: hand the message back (ownership moves) */
    assert_int_equal(gpsc_wire_msg_send(&m, router, &from, 0), 0);
    assert_null(m);
    assert_int_equal(gpsc_wire_recv(dealer, &m, &from, 0, err, sizeof err), 0);
    assert_int_equal(from.len, 0);
    char diff[512] = "";
    if (msg_diff(&env.base, &gpsc_wire_msg_env(m)->base, "echo", diff, sizeof diff))
        fail_msg("%s", diff);
    gpsc_wire_msg_destroy(&m);

    /* a large message (trajectory of T = 2000, 7-DoF arm) passes */
    Gpsc__Envelope big;
    build(&big, GPSC__ENVELOPE__BODY_TRAJECTORY);
    Gpsc__Trajectory *t = big.trajectory;
    t->t = 2000;
    t->dx = 26, t->du = 7, t->do_ = 26, t->p = 9, t->dq = 7, t->dc = 0;
    t->n_cost_names = 0;
    SET_ARR(t, x, 2000 * 26, 0.0);
    SET_ARR(t, u, 2000 * 7, 0.0);
    SET_ARR(t, o, 2000 * 26, 0.0);
    SET_ARR(t, ee, 2000 * 9, 0.0);
    SET_ARR(t, ee_jac, 2000 * 9 * 7, 0.0);
    t->n_costs = 0;
    assert_int_equal(gpsc_wire_send(dealer, NULL, &big, 0), 0);
    assert_int_equal(gpsc_wire_recv(router, &m, &from, 0, err, sizeof err), 0);
    assert_int_equal(gpsc_wire_msg_env(m)->trajectory->n_ee_jac, 2000 * 63);
    assert_true(gpsc_wire_msg_size(m) > 1000000);
    gpsc_wire_msg_destroy(&m);

    /* nothing waiting: EAGAIN without blocking; poll times out */
    assert_int_equal(gpsc_wire_recv(router, &m, &from, GPSC_WIRE_DONTWAIT, err, sizeof err),
                     GPSC_EAGAIN);
    int ready[2] = {9, 9};
    void *socks[2] = {router, dealer};
    assert_int_equal(gpsc_wire_poll(socks, ready, 2, 0), 0);
    assert_int_equal(ready[0], 0);

    /* poll, fd and events see a message arrive */
    build(&env, GPSC__ENVELOPE__BODY_WORK_REQUEST);
    assert_int_equal(gpsc_wire_send(dealer, NULL, &env, 0), 0);
    assert_int_equal(gpsc_wire_poll(socks, ready, 2, 3000), 1);
    assert_int_equal(ready[0], GPSC_WIRE_IN);
    assert_int_equal(ready[1], 0);
    int fd = -1;
    assert_int_equal(gpsc_wire_fd(router, &fd), 0);
    assert_true(fd >= 0);
    assert_true(gpsc_wire_events(router) & GPSC_WIRE_IN);
    assert_int_equal(gpsc_wire_recv(router, &m, &from, 0, err, sizeof err), 0);
    assert_int_equal(gpsc_wire_msg_env(m)->work_request->credit, 3);
    gpsc_wire_msg_destroy(&m);
    assert_false(gpsc_wire_events(router) & GPSC_WIRE_IN);

    /* ROUTER to an identity nobody has */
    gpsc_wire_head_t nobody;
    gpsc_wire_head_str(&nobody, "ghost");
    assert_int_equal(gpsc_wire_send(router, &nobody, &env, 0), GPSC_EUNKNOWN_PEER);

    /* invalid envelopes are not sent */
    env.work_request->credit = 0;
    assert_int_equal(gpsc_wire_send(dealer, NULL, &env, 0), GPSC_ERANGE);

    gpsc_wire_close(&dealer);
    gpsc_wire_close(&router);
    assert_null(router);
    gpsc_wire_close(&router);
}

/* garbage on the socket is refused with the sender's identity, and the
 * socket keeps serving */
static void test_garbage_on_socket(void **state)
{
    net_t *nt = *state;
    char ep[128], err[256];
    void *router = mksock(nt->ctx, GPSC_WIRE_ROUTER, NULL);
    bind_any(router, ep, sizeof ep);
    void *raw = zmq_socket(nt->ctx, ZMQ_DEALER);
    int zero = 0;
    zmq_setsockopt(raw, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(raw, ZMQ_ROUTING_ID, "evil", 4);
    assert_int_equal(zmq_connect(raw, ep), 0);

    gpsc_wire_msg_t *m = NULL;
    gpsc_wire_head_t from;
    /* an empty frame */
    assert_int_equal(zmq_send(raw, "", 0, 0), 0);
    assert_int_equal(gpsc_wire_recv(router, &m, &from, 0, err, sizeof err), GPSC_ENODATA);
    assert_null(m);
    assert_int_equal(from.len, 4);
    assert_memory_equal(from.data, "evil", 4);
    /* bytes that are not protobuf */
    assert_int_equal(zmq_send(raw, "\x08\x01\x0f\x0f", 4, 0), 4);
    assert_int_equal(gpsc_wire_recv(router, &m, &from, 0, err, sizeof err), GPSC_EMALFORMED);
    /* another protocol version */
    assert_int_equal(zmq_send(raw, "\x08\x02", 2, 0), 2);
    assert_int_equal(gpsc_wire_recv(router, &m, &from, 0, err, sizeof err), GPSC_EVERSION);
    /* too many frames */
    zmq_send(raw, "a", 1, ZMQ_SNDMORE);
    zmq_send(raw, "b", 1, ZMQ_SNDMORE);
    zmq_send(raw, "c", 1, 0);
    assert_int_equal(gpsc_wire_recv(router, &m, &from, 0, err, sizeof err), GPSC_EMALFORMED);
    assert_non_null(strstr(err, "frames"));

    /* and a good message still goes through */
    Gpsc__Envelope env;
    build(&env, GPSC__ENVELOPE__BODY_HEARTBEAT);
    size_t n;
    uint8_t *b = enc(&env, &n);
    assert_int_equal(zmq_send(raw, b, n, 0), (int)n);
    free(b);
    assert_int_equal(gpsc_wire_recv(router, &m, &from, 0, err, sizeof err), 0);
    assert_int_equal(gpsc_wire_msg_env(m)->heartbeat->completed, 17);
    gpsc_wire_msg_destroy(&m);
    zmq_close(raw);
    gpsc_wire_close(&router);
}

static void test_pub_sub_topics(void **state)
{
    net_t *nt = *state;
    char ep[128], err[256];
    void *pub = mksock(nt->ctx, GPSC_WIRE_PUB, NULL);
    bind_any(pub, ep, sizeof ep);
    gpsc_wire_opts_t o;
    test_opts(&o, 50);
    void *subs = mksock(nt->ctx, GPSC_WIRE_SUB, &o);
    assert_int_equal(gpsc_wire_subscribe(subs, "policy."), 0);
    assert_int_equal(gpsc_wire_connect(subs, ep), 0);

    Gpsc__Envelope logm, pol;
    build(&logm, GPSC__ENVELOPE__BODY_LOG_RECORD);
    build(&pol, GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY);
    gpsc_wire_head_t tlog, tpol;
    gpsc_wire_head_str(&tlog, "log");
    gpsc_wire_head_str(&tpol, "policy.local.1");

    /* publish until the subscription has arrived (slow joiner) */
    gpsc_wire_msg_t *m = NULL;
    gpsc_wire_head_t from;
    int got = 0;
    for (int tries = 0; tries < 100 && !got; tries++) {
        assert_int_equal(gpsc_wire_send(pub, &tlog, &logm, 0), 0);
        assert_int_equal(gpsc_wire_send(pub, &tpol, &pol, 0), 0);
        while (gpsc_wire_recv(subs, &m, &from, 0, err, sizeof err) == 0) {
            /* only the policy topic may arrive */
            assert_int_equal(gpsc_wire_msg_env(m)->body_case,
                             GPSC__ENVELOPE__BODY_LIN_GAUSS_POLICY);
            assert_int_equal(from.len, tpol.len);
            assert_memory_equal(from.data, "policy.local.1", tpol.len);
            assert_int_equal(gpsc_wire_msg_env(m)->lin_gauss_policy->version, 5);
            gpsc_wire_msg_destroy(&m);
            got++;
        }
    }
    assert_true(got > 0);
    gpsc_wire_close(&subs);
    gpsc_wire_close(&pub);
}

static void test_oversized_refused(void **state)
{
    net_t *nt = *state;
    char ep[128], err[256];
    gpsc_wire_opts_t o;
    test_opts(&o, 500);
    o.max_msg_size = 4096;
    void *router = mksock(nt->ctx, GPSC_WIRE_ROUTER, &o);
    bind_any(router, ep, sizeof ep);

    /* the sender's own limit stops it before anything is sent */
    void *small = mksock(nt->ctx, GPSC_WIRE_DEALER, &o);
    assert_int_equal(gpsc_wire_connect(small, ep), 0);
    Gpsc__Envelope big;
    build(&big, GPSC__ENVELOPE__BODY_TRAJECTORY);
    Gpsc__Trajectory *t = big.trajectory;
    t->t = 400;
    SET_ARR(t, x, 400 * DX, 0.0);
    SET_ARR(t, u, 400 * DU, 0.0);
    SET_ARR(t, o, 400 * DO, 0.0);
    SET_ARR(t, ee, 400 * PP, 0.0);
    SET_ARR(t, ee_jac, 400 * PP * DQ, 0.0);
    SET_ARR(t, costs, 400 * DC, 0.0);
    assert_true(gpsc_wire_packed_size(&big) > 4096);
    assert_int_equal(gpsc_wire_send(small, NULL, &big, 0), GPSC_ETOOBIG);

    /* a peer with a larger limit sends it: ZeroMQ drops the connection
     * and nothing arrives */
    void *dealer = mksock(nt->ctx, GPSC_WIRE_DEALER, NULL);
    assert_int_equal(gpsc_wire_connect(dealer, ep), 0);
    assert_int_equal(gpsc_wire_send(dealer, NULL, &big, 0), 0);
    gpsc_wire_msg_t *m = NULL;
    gpsc_wire_head_t from;
    assert_int_equal(gpsc_wire_recv(router, &m, &from, 0, err, sizeof err), GPSC_EAGAIN);
    assert_null(m);

    /* a small message from the small-limit peer still arrives */
    Gpsc__Envelope hb;
    build(&hb, GPSC__ENVELOPE__BODY_HEARTBEAT);
    assert_int_equal(gpsc_wire_send(small, NULL, &hb, 0), 0);
    assert_int_equal(gpsc_wire_recv(router, &m, &from, 0, err, sizeof err), 0);
    gpsc_wire_msg_destroy(&m);

    gpsc_wire_close(&dealer);
    gpsc_wire_close(&small);
    gpsc_wire_close(&router);
}

/* ------------------------------------------------------------------ CURVE */

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/gpsc_test_wire_%d_%s", P_tmpdir, (int)getpid(), name);
}

static void test_curve_key_files(void **state)
{
    (void)state;
    if (!gpsc_wire_curve_available()) skip();
    gpsc_wire_keypair_t kp, got;
    char err[512], sec[256], pubf[256], bad[256];
    assert_int_equal(gpsc_wire_curve_keypair(&kp), 0);
    assert_true(gpsc_wire_curve_key_valid(kp.public_key));
    assert_true(gpsc_wire_curve_key_valid(kp.secret_key));
    assert_false(gpsc_wire_curve_key_valid("short"));
    assert_false(gpsc_wire_curve_key_valid("~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"));

    tmp_path(sec, sizeof sec, "secret.key");
    tmp_path(pubf, sizeof pubf, "public.key");
    tmp_path(bad, sizeof bad, "bad.key");
    assert_int_equal(gpsc_wire_curve_save(sec, &kp, true, err, sizeof err), 0);
    assert_int_equal(gpsc_wire_curve_save(pubf, &kp, false, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(sec, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    assert_int_equal(gpsc_wire_curve_load(&got, sec, err, sizeof err), 0);
    assert_string_equal(got.public_key, kp.public_key);
    assert_string_equal(got.secret_key, kp.secret_key);
    assert_int_equal(gpsc_wire_curve_load(&got, pubf, err, sizeof err), 0);
    assert_string_equal(got.public_key, kp.public_key);
    assert_string_equal(got.secret_key, "");

    /* a secret file without its public line: derived */
    FILE *f = fopen(bad, "w");
    fprintf(f, "# only the secret\n\nsecret-key = \"%s\"\n", kp.secret_key);
    fclose(f);
    assert_int_equal(gpsc_wire_curve_load(&got, bad, err, sizeof err), 0);
    assert_string_equal(got.public_key, kp.public_key);

    /* a public key that is not the secret's */
    gpsc_wire_keypair_t other;
    gpsc_wire_curve_keypair(&other);
    f = fopen(bad, "w");
    fprintf(f, "public-key = \"%s\"\nsecret-key = \"%s\"\n", other.public_key, kp.secret_key);
    fclose(f);
    assert_int_equal(gpsc_wire_curve_load(&got, bad, err, sizeof err), GPSC_EAUTH);

    /* malformed files name the line */
    f = fopen(bad, "w");
    fprintf(f, "public-key = \"%s\"\nsecret-key = \"tooshort\"\n", kp.public_key);
    fclose(f);
    assert_int_equal(gpsc_wire_curve_load(&got, bad, err, sizeof err), GPSC_EPARSE);
    assert_non_null(strstr(err, ":2:"));
    f = fopen(bad, "w");
    fprintf(f, "colour = blue\n");
    fclose(f);
    assert_int_equal(gpsc_wire_curve_load(&got, bad, err, sizeof err), GPSC_EPARSE);
    f = fopen(bad, "w");
    fclose(f);
    assert_int_equal(gpsc_wire_curve_load(&got, bad, err, sizeof err), GPSC_EPARSE);
    unlink(bad);
    assert_int_equal(gpsc_wire_curve_load(&got, bad, err, sizeof err), GPSC_ENOENT);
    unlink(sec);
    unlink(pubf);
}

/* sends a heartbeat from a fresh DEALER made with `o` and reports whether
 * the server received it */
static bool try_client(void *ctx, void *server, const char *ep, const gpsc_wire_opts_t *o)
{
    char err[256];
    void *c = mksock(ctx, GPSC_WIRE_DEALER, o);
    assert_int_equal(gpsc_wire_connect(c, ep), 0);
    Gpsc__Envelope env;
    build(&env, GPSC__ENVELOPE__BODY_HEARTBEAT);
    int rc = gpsc_wire_send(c, NULL, &env, 0);
    assert_int_equal(rc, 0);
    gpsc_wire_msg_t *m = NULL;
    gpsc_wire_head_t from;
    rc = gpsc_wire_recv(server, &m, &from, 0, err, sizeof err);
    gpsc_wire_msg_destroy(&m);
    gpsc_wire_close(&c);
    assert_true(rc == 0 || rc == GPSC_EAGAIN);
    return rc == 0;
}

static void test_curve_zap(void **state)
{
    net_t *nt = *state;
    if (!gpsc_wire_curve_available()) skip();
    char ep[128], err[256];
    gpsc_wire_keypair_t server, good, stranger, impostor;
    assert_int_equal(gpsc_wire_curve_keypair(&server), 0);
    assert_int_equal(gpsc_wire_curve_keypair(&good), 0);
    assert_int_equal(gpsc_wire_curve_keypair(&stranger), 0);
    assert_int_equal(gpsc_wire_curve_keypair(&impostor), 0);

    const char *allow[] = {good.public_key};
    gpsc_wire_zap_t *zap = gpsc_wire_zap_new(nt->ctx, allow, 1, err, sizeof err);
    if (!zap) fail_msg("zap: %s", err);
    /* one handler per context */
    assert_null(gpsc_wire_zap_new(nt->ctx, allow, 1, err, sizeof err));
    assert_non_null(strstr(err, "one handler"));
    const char *badkey[] = {"nope"};
    assert_null(gpsc_wire_zap_new(nt->ctx, badkey, 1, err, sizeof err));

    gpsc_wire_opts_t so;
    test_opts(&so, 700);
    so.curve = GPSC_WIRE_CURVE_SERVER;
    so.curve_keys = &server;
    void *srv = mksock(nt->ctx, GPSC_WIRE_ROUTER, &so);
    bind_any(srv, ep, sizeof ep);

    gpsc_wire_opts_t co;
    test_opts(&co, 700);
    co.curve = GPSC_WIRE_CURVE_CLIENT;
    co.curve_server_key = server.public_key;

    /* a key that is not on the allow-list: ZAP says no */
    co.curve_keys = &stranger;
    assert_false(try_client(nt->ctx, srv, ep, &co));
    char last[200];
    assert_true(gpsc_wire_zap_last_denied(zap, last, sizeof last) >= 1);
    assert_non_null(strstr(last, stranger.public_key));
    assert_non_null(strstr(last, "CURVE"));

    /* the right client key but the wrong server key: the handshake fails */
    co.curve_keys = &good;
    co.curve_server_key = impostor.public_key;
    assert_false(try_client(nt->ctx, srv, ep, &co));

    /* no key at all (plain TCP) */
    gpsc_wire_opts_t plain;
    test_opts(&plain, 700);
    assert_false(try_client(nt->ctx, srv, ep, &plain));

    /* the right keys: accepted, and the server kept serving */
    co.curve_server_key = server.public_key;
    assert_true(try_client(nt->ctx, srv, ep, &co));
    assert_true(gpsc_wire_zap_allowed(zap) >= 1);
    assert_true(gpsc_wire_zap_denied(zap) >= 1);

    /* plain sockets in the same context do not go through ZAP */
    {
        char ep2[128];
        gpsc_wire_opts_t po;
        test_opts(&po, 3000);
        void *plain_srv = mksock(nt->ctx, GPSC_WIRE_ROUTER, &po);
        bind_any(plain_srv, ep2, sizeof ep2);
        unsigned long before = gpsc_wire_zap_allowed(zap) + gpsc_wire_zap_denied(zap);
        assert_true(try_client(nt->ctx, plain_srv, ep2, &po));
        assert_int_equal(gpsc_wire_zap_allowed(zap) + gpsc_wire_zap_denied(zap), before);
        gpsc_wire_close(&plain_srv);
    }

    /* misconfigured CURVE sockets are refused at creation */
    gpsc_wire_opts_t broken = co;
    broken.curve_server_key = NULL;
    assert_null(gpsc_wire_socket(nt->ctx, GPSC_WIRE_DEALER, &broken, err, sizeof err));
    assert_non_null(strstr(err, "CURVE"));
    broken = so;
    broken.curve_keys = NULL;
    assert_null(gpsc_wire_socket(nt->ctx, GPSC_WIRE_ROUTER, &broken, err, sizeof err));

    gpsc_wire_close(&srv);
    gpsc_wire_zap_destroy(&zap);
    assert_null(zap);
    gpsc_wire_zap_destroy(&zap);
}

/* ------------------------------------------------------------------ corpus */

static int write_corpus(const char *dir)
{
    for (int i = 0; i < N_BODIES; i++) {
        Gpsc__Envelope env;
        build(&env, all_bodies[i]);
        uint8_t *b = NULL;
        size_t n = 0;
        char err[256], path[1024];
        int rc = gpsc_wire_encode(&b, &n, &env, err, sizeof err);
        if (rc) {
            fprintf(stderr, "%s: %s\n", gpsc_wire_body_name(all_bodies[i]), err);
            return 1;
        }
        snprintf(path, sizeof path, "%s/%s.bin", dir, gpsc_wire_body_name(all_bodies[i]));
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(b, 1, n, f) != n || fclose(f) != 0) {
            fprintf(stderr, "%s: %s\n", path, strerror(errno));
            return 1;
        }
        free(b);
    }
    pool_free();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) return write_corpus(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_message),
        cmocka_unit_test(test_round_trip_spot_checks),
        cmocka_unit_test(test_bad_input_distinct_codes),
        cmocka_unit_test(test_validation_details),
        cmocka_unit_test(test_truncation_and_mutation_sweep),
        cmocka_unit_test(test_unknown_fields),
        cmocka_unit_test(test_names_and_errors),
        cmocka_unit_test_setup_teardown(test_dealer_router, net_setup, net_teardown),
        cmocka_unit_test_setup_teardown(test_garbage_on_socket, net_setup, net_teardown),
        cmocka_unit_test_setup_teardown(test_pub_sub_topics, net_setup, net_teardown),
        cmocka_unit_test_setup_teardown(test_oversized_refused, net_setup, net_teardown),
        cmocka_unit_test(test_curve_key_files),
        cmocka_unit_test_setup_teardown(test_curve_zap, net_setup, net_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
