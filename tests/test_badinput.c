/* Bad input on the coordinator's control endpoint (coordinator/coordinator.c):
 * a test client joins a running `gpsc run` through RUN/endpoints and sends
 * what a broken or hostile peer could, each on a connection of its own
 * choosing:
 *
 *   as a welcomed worker ("badclient", says Hello like gpsc-worker, asks for
 *   work and answers its tasks with garbage):
 *     a trajectory of other dimensions than the run's (well-formed)
 *     a trajectory holding a NaN (crafted bytes: the wire layer would not send it)
 *     a truncated trajectory (the first half of the bytes)
 *     an envelope of protocol version 2
 *     a trajectory whose X array is shorter than T x dX
 *     a 17 MB trajectory (above the control socket's 16 MiB limit)
 *     an envelope whose sender_id is not its routing id
 *     a Metrics message (a learner's, not a worker's)
 *   as strangers:
 *     a trajectory from a peer that never said Hello ("stranger")
 *     a Hello of another task ("othertask")
 *     65 MiB of bytes ("huge": ZeroMQ's own limit drops the connection; not logged)
 *
 * Each must be refused with a "refused: ..." line in RUN/log.jsonl naming the
 * reason (and a Refuse or ACK_REJECTED answer, which the client waits for
 * before the next, so the lines are in order); the run must go on and end
 * with the checkpoints of gpsc-solo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cluster_util.h"
#include "common/error.h"
#include "common/experiment.h"
#include "common/identity.h"
#include "common/wire.h"
#include "worker/env.h"

#define CONFIG GPSC_TEST_DATA "/cluster_fault.yaml"
#define ITERS "12"
#define K 12

static char g_tmp[256];

/* the client's side of the conversation */
typedef struct client {
    void *ctx;
    void *sock; /* DEALER "badclient" */
    uint64_t seq;
    char run_id[128];
    gpsc_experiment_t exp; /* CONFIG, resolved */
    char model_hash[25];
    double last_hb; /* (s) */
    bool welcomed;
} client_t;

static void *dealer(client_t *c, const char *id, const char *endpoint)
{
    gpsc_wire_opts_t o;
    gpsc_wire_opts_default(&o);
    o.routing_id = id;
    o.linger_ms = 0;
    char err[256];
    void *s = gpsc_wire_socket(c->ctx, GPSC_WIRE_DEALER, &o, err, sizeof err);
    if (!s) fail_msg("socket: %s", err);
    assert_int_equal(gpsc_wire_connect(s, endpoint), 0);
    return s;
}

static void env_init(client_t *c, Gpsc__Envelope *env, const char *id,
                     Gpsc__Envelope__BodyCase body_case, const void *body)
{
    gpsc_wire_env_init(env, GPSC__ROLE__ROLE_WORKER, id, ++c->seq);
    env->run_id = c->run_id;
    env->body_case = body_case;
    env->hello = (Gpsc__Hello *)body; /* the body union: every member is a pointer */
}

static void send_body(client_t *c, void *sock, const char *id, Gpsc__Envelope__BodyCase bc,
                      const void *body)
{
    Gpsc__Envelope env;
    env_init(c, &env, id, bc, body);
    int rc = gpsc_wire_send(sock, NULL, &env, 0);
    if (rc) fail_msg("sending a %s: %s", gpsc_wire_body_name(bc), gpsc_strerror(rc));
}

/* bytes exactly as given: what the wire layer would refuse to send */
static void send_raw(void *sock, const void *buf, size_t len)
{
    if (zmq_send(sock, buf, len, 0) != (int)len) fail_msg("zmq_send: %s", zmq_strerror(errno));
}

/* packs env with protobuf-c alone: no validation */
static uint8_t *pack_raw(const Gpsc__Envelope *env, size_t *len)
{
    *len = gpsc__envelope__get_packed_size(env);
    uint8_t *b = malloc(*len);
    assert_non_null(b);
    assert_int_equal(gpsc__envelope__pack(env, b), *len);
    return b;
}

/* the next message of type `want` on sock within timeout_s (others are
 * dropped; heartbeats go out meanwhile when welcomed); NULL on timeout */
static gpsc_wire_msg_t *await(client_t *c, void *sock, Gpsc__Envelope__BodyCase want,
                              double timeout_s)
{
    double t0 = cu_now_s();
    while (cu_now_s() - t0 < timeout_s) {
        if (c->welcomed && cu_now_s() - c->last_hb > 0.2) {
            Gpsc__Heartbeat hb = GPSC__HEARTBEAT__INIT;
            send_body(c, c->sock, "badclient", GPSC__ENVELOPE__BODY_HEARTBEAT, &hb);
            c->last_hb = cu_now_s();
        }
        void *s[1] = {sock};
        int ready[1];
        (void)gpsc_wire_poll(s, ready, 1, 50);
        gpsc_wire_msg_t *m = NULL;
        char err[512];
        while (gpsc_wire_recv(sock, &m, NULL, GPSC_WIRE_DONTWAIT, err, sizeof err) !=
               GPSC_EAGAIN) {
            if (m && gpsc_wire_msg_env(m)->body_case == want) return m;
            gpsc_wire_msg_destroy(&m);
        }
    }
    return NULL;
}

/* a Refuse answer on sock, with its reason checked */
static void expect_refuse(client_t *c, void *sock, Gpsc__RefuseReason reason, const char *what)
{
    gpsc_wire_msg_t *m = await(c, sock, GPSC__ENVELOPE__BODY_REFUSE, 30);
    if (!m) fail_msg("%s: no Refuse came back", what);
    const Gpsc__Refuse *r = gpsc_wire_msg_env(m)->refuse;
    if (r->reason != reason)
        fail_msg("%s: refused with reason %d (%s), expected %d", what, (int)r->reason, r->detail,
                 (int)reason);
    print_message("  %-28s -> Refuse %d: %s\n", what, (int)r->reason, r->detail);
    gpsc_wire_msg_destroy(&m);
}

/* the Hello gpsc-worker sends for CONFIG */
static void hello(client_t *c, void *sock, const char *id, const char *task_name)
{
    const gpsc_exp_dims_t *d = &c->exp.dims;
    Gpsc__Capabilities caps = GPSC__CAPABILITIES__INIT;
    caps.slots = caps.max_inflight = 1;
    caps.dx = (uint32_t)d->dX;
    caps.du = (uint32_t)d->dU;
    caps.do_ = (uint32_t)d->dO;
    caps.p = (uint32_t)d->P;
    caps.dq = (uint32_t)d->dQ;
    caps.computes_cost = true;
    Gpsc__Hello h = GPSC__HELLO__INIT;
    h.protocol_version = GPSC_WIRE_VERSION;
    h.role = GPSC__ROLE__ROLE_WORKER;
    h.capabilities = &caps;
    h.task_name = (char *)task_name;
    h.model_hash = c->model_hash;
    h.hostname = "test";
    h.pid = (uint32_t)getpid();
    send_body(c, sock, id, GPSC__ENVELOPE__BODY_HELLO, &h);
}

/* a task for the client: WorkRequest(1) and the RolloutTask that answers it */
static void take_task(client_t *c, Gpsc__TaskKey *key, uint32_t *version)
{
    Gpsc__WorkRequest wr = GPSC__WORK_REQUEST__INIT;
    wr.credit = 1;
    send_body(c, c->sock, "badclient", GPSC__ENVELOPE__BODY_WORK_REQUEST, &wr);
    gpsc_wire_msg_t *m = await(c, c->sock, GPSC__ENVELOPE__BODY_ROLLOUT_TASK, 60);
    if (!m) fail_msg("no task came within 60 s");
    const Gpsc__RolloutTask *t = gpsc_wire_msg_env(m)->rollout_task;
    *key = (Gpsc__TaskKey)GPSC__TASK_KEY__INIT;
    key->iteration = t->key->iteration;
    key->condition = t->key->condition;
    key->sample_index = t->key->sample_index;
    *version = t->policy_version;
    gpsc_wire_msg_destroy(&m);
}

/* a successful-looking trajectory (T x dX ... of zeros) for key; free with traj_free */
static void traj_make(Gpsc__Trajectory *t, Gpsc__TaskKey *key, uint32_t version, int T, int dX,
                      int dU, int dO, int P, int dQ, int dC)
{
    *t = (Gpsc__Trajectory)GPSC__TRAJECTORY__INIT;
    t->key = key;
    t->worker_id = "badclient";
    t->status = GPSC__TRAJECTORY_STATUS__TRAJ_OK;
    t->policy_kind = GPSC__POLICY_KIND__POLICY_LOCAL;
    t->policy_version = version;
    t->t = (uint32_t)T;
    t->dx = (uint32_t)dX;
    t->du = (uint32_t)dU;
    t->do_ = (uint32_t)dO;
    t->p = (uint32_t)P;
    t->dq = (uint32_t)dQ;
    t->dc = (uint32_t)dC;
    t->n_x = (size_t)T * dX;
    t->n_u = (size_t)T * dU;
    t->n_o = (size_t)T * dO;
    t->n_ee = (size_t)T * P;
    t->n_ee_jac = (size_t)T * P * dQ;
    t->n_costs = (size_t)T * dC;
    t->x = calloc(t->n_x + 1, sizeof(double));
    t->u = calloc(t->n_u + 1, sizeof(double));
    t->o = calloc(t->n_o + 1, sizeof(double));
    t->ee = calloc(t->n_ee + 1, sizeof(double));
    t->ee_jac = calloc(t->n_ee_jac + 1, sizeof(double));
    t->costs = calloc(t->n_costs + 1, sizeof(double));
    assert_true(t->x && t->u && t->o && t->ee && t->ee_jac && t->costs);
}

static void traj_free(Gpsc__Trajectory *t)
{
    free(t->x);
    free(t->u);
    free(t->o);
    free(t->ee);
    free(t->ee_jac);
    free(t->costs);
}

/* the run's own dimensions */
static void traj_run_dims(client_t *c, Gpsc__Trajectory *t, Gpsc__TaskKey *key, uint32_t v)
{
    const gpsc_exp_dims_t *d = &c->exp.dims;
    traj_make(t, key, v, c->exp.T, d->dX, d->dU, d->dO, d->P, d->dQ, c->exp.n_costs);
}

/* RUN/endpoints' control endpoint, waiting up to 60 s for the file */
static void control_endpoint(const char *dir, char *out, size_t outsz)
{
    char path[400];
    snprintf(path, sizeof path, "%s/endpoints", dir);
    double t0 = cu_now_s();
    while (cu_now_s() - t0 < 60) {
        FILE *f = fopen(path, "r");
        if (f) {
            char key[32], ep[256];
            bool ok = false;
            while (!ok && fscanf(f, "%31s %255s", key, ep) == 2)
                if (strcmp(key, "control") == 0) ok = true;
            fclose(f);
            if (ok) {
                snprintf(out, outsz, "%s", ep);
                return;
            }
        }
        cu_sleep_ms(20);
    }
    fail_msg("no %s", path);
}

/* the line of log.jsonl for one refusal: present, printed */
static void expect_line(const char *lj, const char *needle)
{
    char msg[1024];
    if (!cu_find_msg(lj, needle, msg, sizeof msg)) fail_msg("no log line with \"%s\"", needle);
    print_message("  log: %s\n", msg);
}

static void test_bad_input(void **state)
{
    (void)state;
    char solo[300], dir[300], log[300], lj[400], err[1024];
    snprintf(solo, sizeof solo, "%s/solo", g_tmp);
    snprintf(dir, sizeof dir, "%s/run", g_tmp);
    snprintf(log, sizeof log, "%s/test.log", g_tmp);
    snprintf(lj, sizeof lj, "%s/log.jsonl", dir);
    char *sargv[] = {GPSC_BIN_DIR "/gpsc-solo", CONFIG, "--run-dir", solo, "--iterations",
                     ITERS, "--quiet", NULL};
    assert_int_equal(cu_run(sargv, log, 300), 0);

    /* the client knows the task as a worker does */
    static client_t C;
    client_t *c = &C;
    int rc = gpsc_experiment_load(CONFIG, &c->exp, err, sizeof err);
    if (rc == 0) rc = gpsc_env_resolve_experiment(&c->exp, err, sizeof err);
    if (rc == 0) rc = gpsc_identity_model_hash(c->model_hash, c->exp.model, err, sizeof err);
    if (rc) fail_msg("%s", err);

    char *argv[] = {GPSC_BIN_DIR "/gpsc-run", CONFIG,    "--run-dir", dir,  "--iterations",
                    ITERS,                    "--workers", "2",         NULL};
    pid_t run = cu_start(argv, log);
    char ep[256];
    control_endpoint(dir, ep, sizeof ep);
    c->ctx = gpsc_wire_ctx_new();
    assert_non_null(c->ctx);
    c->sock = dealer(c, "badclient", ep);

    /* join as a worker */
    hello(c, c->sock, "badclient", c->exp.name);
    gpsc_wire_msg_t *w = await(c, c->sock, GPSC__ENVELOPE__BODY_WELCOME, 30);
    if (!w) fail_msg("not welcomed");
    snprintf(c->run_id, sizeof c->run_id, "%s", gpsc_wire_msg_env(w)->welcome->run_id);
    gpsc_wire_msg_destroy(&w);
    c->welcomed = true;

    Gpsc__TaskKey key;
    uint32_t v;
    Gpsc__Trajectory t;
    Gpsc__Envelope env;
    uint8_t *b;
    size_t len;

    /* 1. a trajectory of other dimensions, for a task it holds */
    take_task(c, &key, &v);
    traj_make(&t, &key, v, c->exp.T, 3, c->exp.dims.dU, 0, 0, 0, c->exp.n_costs);
    send_body(c, c->sock, "badclient", GPSC__ENVELOPE__BODY_TRAJECTORY, &t);
    traj_free(&t);
    gpsc_wire_msg_t *a = await(c, c->sock, GPSC__ENVELOPE__BODY_TRAJECTORY_ACK, 30);
    if (!a) fail_msg("no answer to a trajectory of other dimensions");
    assert_int_equal(gpsc_wire_msg_env(a)->trajectory_ack->status,
                     GPSC__ACK_STATUS__ACK_REJECTED);
    print_message("  %-28s -> ACK_REJECTED: %s\n", "other dimensions",
                  gpsc_wire_msg_env(a)->trajectory_ack->detail);
    gpsc_wire_msg_destroy(&a);

    /* 2. a NaN in X */
    take_task(c, &key, &v);
    traj_run_dims(c, &t, &key, v);
    t.x[5] = NAN;
    env_init(c, &env, "badclient", GPSC__ENVELOPE__BODY_TRAJECTORY, &t);
    b = pack_raw(&env, &len);
    send_raw(c->sock, b, len);
    free(b);
    traj_free(&t);
    expect_refuse(c, c->sock, GPSC__REFUSE_REASON__REFUSE_MALFORMED, "NaN in X");

    /* 3. truncated: the first half of a valid trajectory */
    take_task(c, &key, &v);
    traj_run_dims(c, &t, &key, v);
    env_init(c, &env, "badclient", GPSC__ENVELOPE__BODY_TRAJECTORY, &t);
    assert_int_equal(gpsc_wire_encode(&b, &len, &env, err, sizeof err), 0);
    send_raw(c->sock, b, len / 2);
    free(b);
    expect_refuse(c, c->sock, GPSC__REFUSE_REASON__REFUSE_MALFORMED, "truncated");

    /* 4. protocol version 2: field 1 is the first on the wire (08 01) */
    assert_int_equal(gpsc_wire_encode(&b, &len, &env, err, sizeof err), 0);
    assert_true(len > 2 && b[0] == 0x08 && b[1] == GPSC_WIRE_VERSION);
    b[1] = GPSC_WIRE_VERSION + 1;
    send_raw(c->sock, b, len);
    free(b);
    expect_refuse(c, c->sock, GPSC__REFUSE_REASON__REFUSE_VERSION, "protocol version 2");

    /* 5. X shorter than T x dX */
    t.n_x -= 3;
    b = pack_raw(&env, &len);
    send_raw(c->sock, b, len);
    free(b);
    traj_free(&t);
    expect_refuse(c, c->sock, GPSC__REFUSE_REASON__REFUSE_MALFORMED, "X shorter than T x dX");

    /* 6. 17.6 MB: T 100 x dX 22000, well-formed, above the 16 MiB limit */
    traj_make(&t, &key, v, 100, 22000, 1, 0, 0, 0, 0);
    env_init(c, &env, "badclient", GPSC__ENVELOPE__BODY_TRAJECTORY, &t);
    b = pack_raw(&env, &len);
    assert_true(len > GPSC_WIRE_MAX_DEFAULT);
    send_raw(c->sock, b, len);
    free(b);
    traj_free(&t);
    expect_refuse(c, c->sock, GPSC__REFUSE_REASON__REFUSE_MALFORMED, "17.6 MB trajectory");

    /* 7. sender_id is not the routing id */
    Gpsc__Heartbeat hb = GPSC__HEARTBEAT__INIT;
    send_body(c, c->sock, "impostor", GPSC__ENVELOPE__BODY_HEARTBEAT, &hb);
    expect_refuse(c, c->sock, GPSC__REFUSE_REASON__REFUSE_MALFORMED, "sender_id not routing id");

    /* 8. a learner's message from a worker */
    Gpsc__Metrics mt = GPSC__METRICS__INIT;
    mt.json = "{}";
    send_body(c, c->sock, "badclient", GPSC__ENVELOPE__BODY_METRICS, &mt);
    expect_refuse(c, c->sock, GPSC__REFUSE_REASON__REFUSE_ROLE, "metrics from a worker");

    /* 9. a result from a peer that never said Hello */
    void *stranger = dealer(c, "stranger", ep);
    key = (Gpsc__TaskKey)GPSC__TASK_KEY__INIT;
    traj_run_dims(c, &t, &key, 0);
    send_body(c, stranger, "stranger", GPSC__ENVELOPE__BODY_TRAJECTORY, &t);
    traj_free(&t);
    expect_refuse(c, stranger, GPSC__REFUSE_REASON__REFUSE_OTHER, "unknown worker's result");
    gpsc_wire_close(&stranger);

    /* 10. a Hello of another task */
    void *other = dealer(c, "othertask", ep);
    hello(c, other, "othertask", "peg7");
    expect_refuse(c, other, GPSC__REFUSE_REASON__REFUSE_TASK, "hello of another task");
    gpsc_wire_close(&other);

    /* 11. 65 MiB: beyond ZMQ_MAXMSGSIZE (64 MiB) the connection is dropped unread */
    void *huge = dealer(c, "huge", ep);
    len = ((size_t)65 << 20) + 1;
    b = calloc(len, 1);
    assert_non_null(b);
    send_raw(huge, b, len);
    free(b);
    cu_sleep_ms(300);
    gpsc_wire_close(&huge);

    gpsc_wire_close(&c->sock);
    gpsc_wire_ctx_destroy(&c->ctx);

    /* the run went on, unchanged */
    rc = cu_wait(run, 300);
    if (rc != 0) cu_print_log(log);
    assert_int_equal(rc, 0);
    assert_int_equal(cu_children_after(5), 0);
    cu_clean_outputs(dir, log);
    cu_same_checkpoints(solo, dir, K);
    cu_same_metrics(solo, dir, K);

    expect_line(lj, "refused: trajectory (");
    char msg[1024];
    assert_true(cu_find_msg(lj, "refused: trajectory (", msg, sizeof msg));
    assert_non_null(strstr(msg, "from badclient: dimensions T 20 dX 3 "));
    assert_non_null(strstr(msg, "task re-issued"));
    expect_line(lj, "(GPSC_ENONFINITE)");
    expect_line(lj, "(GPSC_ETRUNC)");
    expect_line(lj, "(GPSC_EVERSION)");
    expect_line(lj, "(GPSC_EDIM)");
    expect_line(lj, "more than the limit of 16777216 (GPSC_ETOOBIG)");
    expect_line(lj, "refused: heartbeat from badclient: sender_id 'impostor' is not its routing id");
    expect_line(lj, "refused: metrics from worker badclient: not accepted from a worker");
    expect_line(lj, "refused: trajectory from unknown peer stranger");
    expect_line(lj, "refused: hello from worker othertask: task 'peg7', the run's is");
    /* every decode failure named the control endpoint and the sender */
    assert_int_equal(cu_count_msgs(lj, "coordinator",
                                   "refused: message from badclient on the control endpoint: "),
                     5);
    gpsc_experiment_free(&c->exp);
}

static int setup(void **state)
{
    (void)state;
    return cu_setup(g_tmp, sizeof g_tmp, "badinput");
}

static int teardown(void **state)
{
    (void)state;
    return cu_teardown(g_tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_bad_input)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
