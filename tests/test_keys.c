/* test_keys.c — common/keys: allow-lists, role key loading, socket
 * options, and the ZAP allow-list on real CURVE sockets over loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/error.h"
#include "common/keys.h"
#include "common/wire.h"

typedef struct fix {
    char dir[64]; /* a fresh temporary directory */
} fix_t;

static int setup(void **state)
{
    fix_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/gpsc-test-keys.XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fix_t *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

/* dir/name, in a static rotating buffer */
static const char *at(const fix_t *f, const char *name)
{
    static char bufs[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(bufs[k], sizeof bufs[k], "%s/%s", f->dir, name);
    return bufs[k];
}

/* a fresh pair saved as dir/name.key + dir/name.pub */
static void make_pair(const fix_t *f, const char *name, gpsc_wire_keypair_t *kp)
{
    char err[256], path[256];
    assert_int_equal(gpsc_wire_curve_keypair(kp), 0);
    snprintf(path, sizeof path, "%s/%s.key", f->dir, name);
    assert_int_equal(gpsc_wire_curve_save(path, kp, true, err, sizeof err), 0);
    snprintf(path, sizeof path, "%s/%s.pub", f->dir, name);
    assert_int_equal(gpsc_wire_curve_save(path, kp, false, err, sizeof err), 0);
}

static void test_list_formats(void **state)
{
    fix_t *f = *state;
    if (!gpsc_wire_curve_available()) skip();
    gpsc_wire_keypair_t a, b, c;
    make_pair(f, "a", &a);
    make_pair(f, "b", &b);
    /* a bare key holding '=' must still read as a key (no valid key
     * starts with '#': 84 * 85^4 overflows 32 bits) */
    int tries = 0;
    do {
        assert_int_equal(gpsc_wire_curve_keypair(&c), 0);
    } while (!strchr(c.public_key, '=') && ++tries < 100000);
    assert_non_null(strchr(c.public_key, '='));

    char text[1024], err[256];
    snprintf(text, sizeof text,
             "# an allow-list\n"
             "\n"
             "public-key = \"%s\"   # worker a\n"
             "  %s  \n"
             "%s\n"
             "public-key = \"%s\"\n", /* a again: dropped */
             a.public_key, b.public_key, c.public_key, a.public_key);
    write_text(at(f, "allow.txt"), text);
    gpsc_keys_list_t l;
    assert_int_equal(gpsc_keys_list_load(&l, at(f, "allow.txt"), err, sizeof err), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.keys[0], a.public_key);
    assert_string_equal(l.keys[1], b.public_key);
    assert_string_equal(l.keys[2], c.public_key);
    for (size_t i = 0; i < l.n; i++)
        assert_ptr_equal(l.ptrs[i], l.keys[i]);
    assert_true(gpsc_keys_list_has(&l, b.public_key));
    assert_false(gpsc_keys_list_has(&l, b.secret_key));
    gpsc_keys_list_free(&l);
    assert_int_equal(l.n, 0);
    assert_null(l.keys);
    gpsc_keys_list_free(&l);
    gpsc_keys_list_free(NULL);
}

static void test_list_dir_and_commas(void **state)
{
    fix_t *f = *state;
    if (!gpsc_wire_curve_available()) skip();
    char sub[256], err[256], list[600];
    snprintf(sub, sizeof sub, "%s/pubs", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    gpsc_wire_keypair_t z, y, x;
    fix_t g = *f;
    strcpy(g.dir, sub);
    /* created out of order; read in name order; .key files ignored */
    make_pair(&g, "z", &z);
    make_pair(&g, "y", &y);
    make_pair(f, "x", &x);
    gpsc_keys_list_t l;
    snprintf(list, sizeof list, "%s, %s", sub, at(f, "x.pub"));
    assert_int_equal(gpsc_keys_list_load(&l, list, err, sizeof err), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.keys[0], y.public_key);
    assert_string_equal(l.keys[1], z.public_key);
    assert_string_equal(l.keys[2], x.public_key);
    gpsc_keys_list_free(&l);
}

static void test_list_errors(void **state)
{
    fix_t *f = *state;
    if (!gpsc_wire_curve_available()) skip();
    gpsc_wire_keypair_t a;
    make_pair(f, "a", &a);
    char err[256];
    gpsc_keys_list_t l;

    /* a secret key file is not an allow-list */
    assert_int_equal(gpsc_keys_list_load(&l, at(f, "a.key"), err, sizeof err), GPSC_EPARSE);
    assert_non_null(strstr(err, "a.key:3"));
    assert_non_null(strstr(err, "secret"));
    assert_int_equal(l.n, 0);
    assert_null(l.keys);

    write_text(at(f, "short.txt"), "public-key = \"abc\"\n");
    assert_int_equal(gpsc_keys_list_load(&l, at(f, "short.txt"), err, sizeof err), GPSC_EPARSE);
    assert_non_null(strstr(err, "short.txt:1"));

    write_text(at(f, "name.txt"), "# ok\nprivate-key = \"x\"\n");
    assert_int_equal(gpsc_keys_list_load(&l, at(f, "name.txt"), err, sizeof err), GPSC_EPARSE);
    assert_non_null(strstr(err, "name.txt:2"));
    assert_non_null(strstr(err, "private-key"));

    write_text(at(f, "quote.txt"), "public-key = \"unterminated\n");
    assert_int_equal(gpsc_keys_list_load(&l, at(f, "quote.txt"), err, sizeof err), GPSC_EPARSE);

    write_text(at(f, "empty.txt"), "# nothing\n\n");
    assert_int_equal(gpsc_keys_list_load(&l, at(f, "empty.txt"), err, sizeof err), GPSC_ENODATA);

    assert_int_equal(gpsc_keys_list_load(&l, at(f, "missing.txt"), err, sizeof err), GPSC_ENOENT);
    assert_non_null(strstr(err, "missing.txt"));
    /* one bad item spoils the list */
    char list[600];
    snprintf(list, sizeof list, "%s,%s", at(f, "a.pub"), at(f, "missing.txt"));
    assert_int_equal(gpsc_keys_list_load(&l, list, err, sizeof err), GPSC_ENOENT);
    assert_int_equal(l.n, 0);

    assert_int_equal(gpsc_keys_list_load(NULL, "x", err, sizeof err), GPSC_EINVAL);
    assert_int_equal(gpsc_keys_list_add(&l, "short"), GPSC_EINVAL);
}

static void test_load_roles(void **state)
{
    fix_t *f = *state;
    if (!gpsc_wire_curve_available()) skip();
    gpsc_wire_keypair_t server, worker;
    make_pair(f, "server", &server);
    make_pair(f, "worker", &worker);
    char err[256];
    gpsc_keys_t k;
    gpsc_wire_opts_t o;

    /* no flags: CURVE off, options untouched */
    assert_int_equal(gpsc_keys_load(&k, NULL, "", NULL, err, sizeof err), 0);
    assert_false(k.on);
    gpsc_wire_opts_default(&o);
    assert_int_equal(gpsc_keys_server_opts(&k, &o), 0);
    assert_int_equal(gpsc_keys_client_opts(&k, &o), 0);
    assert_int_equal(o.curve, GPSC_WIRE_CURVE_NONE);
    int rc = 1;
    assert_null(gpsc_keys_zap_new(&k, (void *)&k, &rc, err, sizeof err));
    assert_int_equal(rc, 0);
    gpsc_keys_free(&k);

    /* server/allow without a secret: a usage error */
    assert_int_equal(gpsc_keys_load(&k, NULL, at(f, "server.pub"), NULL, err, sizeof err),
                     GPSC_EINVAL);
    assert_non_null(strstr(err, "--curve-secret"));
    assert_int_equal(gpsc_keys_load(&k, "", NULL, at(f, "worker.pub"), err, sizeof err),
                     GPSC_EINVAL);

    /* a public file where the secret is needed */
    assert_int_equal(gpsc_keys_load(&k, at(f, "worker.pub"), NULL, NULL, err, sizeof err),
                     GPSC_EINVAL);
    assert_non_null(strstr(err, "no secret key"));

    /* a worker: own pair + server key, client options */
    assert_int_equal(
        gpsc_keys_load(&k, at(f, "worker.key"), at(f, "server.pub"), NULL, err, sizeof err), 0);
    assert_true(k.on);
    assert_string_equal(k.own.public_key, worker.public_key);
    assert_string_equal(k.own.secret_key, worker.secret_key);
    assert_string_equal(k.server_key, server.public_key);
    gpsc_wire_opts_default(&o);
    assert_int_equal(gpsc_keys_client_opts(&k, &o), 0);
    assert_int_equal(o.curve, GPSC_WIRE_CURVE_CLIENT);
    assert_ptr_equal(o.curve_keys, &k.own);
    assert_ptr_equal(o.curve_server_key, k.server_key);
    gpsc_keys_free(&k);
    assert_false(k.on);
    assert_int_equal(k.own.secret_key[0], '\0');

    /* a server without a server key cannot make client sockets */
    assert_int_equal(
        gpsc_keys_load(&k, at(f, "server.key"), NULL, at(f, "worker.pub"), err, sizeof err), 0);
    gpsc_wire_opts_default(&o);
    assert_int_equal(gpsc_keys_client_opts(&k, &o), GPSC_EINVAL);
    assert_int_equal(gpsc_keys_server_opts(&k, &o), 0);
    assert_int_equal(o.curve, GPSC_WIRE_CURVE_SERVER);
    assert_int_equal(k.allow.n, 1);
    gpsc_keys_free(&k);

    /* a broken server key file is reported with its name */
    write_text(at(f, "bad.pub"), "public-key = \"nope\"\n");
    assert_int_equal(
        gpsc_keys_load(&k, at(f, "worker.key"), at(f, "bad.pub"), NULL, err, sizeof err),
        GPSC_EPARSE);
    assert_non_null(strstr(err, "bad.pub"));
    assert_false(k.on);
}

/* a heartbeat from a fresh DEALER with options `o`; true when the server
 * got it within its receive timeout */
static bool try_client(void *ctx, void *server, const char *ep, const gpsc_wire_opts_t *o)
{
    char err[256];
    void *c = gpsc_wire_socket(ctx, GPSC_WIRE_DEALER, o, err, sizeof err);
    if (!c) fail_msg("socket: %s", err);
    assert_int_equal(gpsc_wire_connect(c, ep), 0);
    Gpsc__Envelope env;
    gpsc_wire_env_init(&env, GPSC__ROLE__ROLE_WORKER, "worker-1", 1);
    Gpsc__Heartbeat hb = GPSC__HEARTBEAT__INIT;
    hb.uptime_ms = 5;
    env.body_case = GPSC__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    assert_int_equal(gpsc_wire_send(c, NULL, &env, 0), 0);
    gpsc_wire_msg_t *m = NULL;
    gpsc_wire_head_t from;
    int rc = gpsc_wire_recv(server, &m, &from, 0, err, sizeof err);
    gpsc_wire_msg_destroy(&m);
    gpsc_wire_close(&c);
    assert_true(rc == 0 || rc == GPSC_EAGAIN);
    return rc == 0;
}

/* the next monitor event, waiting up to 3 s */
static int wait_event(gpsc_wire_monitor_t *m, char *buf, size_t bufsz)
{
    for (int i = 0; i < 300; i++) {
        int rc = gpsc_wire_monitor_next(m, buf, bufsz);
        if (rc != 0) return rc;
        usleep(10000);
    }
    return 0;
}

/* forgets the events of reconnection attempts still coming in */
static void drain(gpsc_wire_monitor_t *m)
{
    char buf[300];
    usleep(300000);
    while (gpsc_wire_monitor_next(m, buf, sizeof buf) > 0) {
    }
}

static void test_zap_roles(void **state)
{
    fix_t *f = *state;
    if (!gpsc_wire_curve_available()) skip();
    gpsc_wire_keypair_t server, worker, stranger;
    make_pair(f, "server", &server);
    make_pair(f, "worker", &worker);
    make_pair(f, "stranger", &stranger);
    char err[256], ep[128];

    /* the coordinator: server pair, allow-list = worker only (its own key
     * is added by gpsc_keys_zap_new) */
    gpsc_keys_t coord, wk, learner, bad;
    assert_int_equal(
        gpsc_keys_load(&coord, at(f, "server.key"), NULL, at(f, "worker.pub"), err, sizeof err), 0);
    assert_int_equal(
        gpsc_keys_load(&wk, at(f, "worker.key"), at(f, "server.pub"), NULL, err, sizeof err), 0);
    assert_int_equal(
        gpsc_keys_load(&learner, at(f, "server.key"), at(f, "server.pub"), NULL, err, sizeof err),
        0);
    assert_int_equal(
        gpsc_keys_load(&bad, at(f, "stranger.key"), at(f, "server.pub"), NULL, err, sizeof err), 0);

    void *ctx = gpsc_wire_ctx_new();
    assert_non_null(ctx);
    int rc = -1;
    gpsc_wire_zap_t *zap = gpsc_keys_zap_new(&coord, ctx, &rc, err, sizeof err);
    if (!zap) fail_msg("zap: %s", err);
    assert_int_equal(rc, 0);

    gpsc_wire_opts_t so;
    gpsc_wire_opts_default(&so);
    so.linger_ms = 0;
    so.rcvtimeo_ms = 700;
    assert_int_equal(gpsc_keys_server_opts(&coord, &so), 0);
    void *srv = gpsc_wire_socket(ctx, GPSC_WIRE_ROUTER, &so, err, sizeof err);
    if (!srv) fail_msg("server: %s", err);
    assert_int_equal(gpsc_wire_bind(srv, "tcp://127.0.0.1:*", ep, sizeof ep), 0);
    gpsc_wire_monitor_t *mon = gpsc_wire_monitor_new(ctx, srv, err, sizeof err);
    if (!mon) fail_msg("monitor: %s", err);
    char what[300];
    assert_int_equal(gpsc_wire_monitor_next(mon, what, sizeof what), 0);

    gpsc_wire_opts_t co;
    gpsc_wire_opts_default(&co);
    co.linger_ms = 0;
    co.sndtimeo_ms = 3000;

    /* a stranger's key: denied by ZAP, and the denial names the key */
    gpsc_wire_opts_t o = co;
    assert_int_equal(gpsc_keys_client_opts(&bad, &o), 0);
    assert_false(try_client(ctx, srv, ep, &o));
    char last[200];
    assert_true(gpsc_wire_zap_last_denied(zap, last, sizeof last) >= 1);
    assert_non_null(strstr(last, stranger.public_key));

    /* the monitor saw the denial */
    assert_int_equal(wait_event(mon, what, sizeof what), GPSC_WIRE_HS_DENIED);
    assert_non_null(strstr(what, "allow-list"));
    drain(mon);

    /* no key at all: a mechanism mismatch, seen by the monitor */
    o = co;
    assert_false(try_client(ctx, srv, ep, &o));
    assert_int_equal(wait_event(mon, what, sizeof what), GPSC_WIRE_HS_NO_CURVE);
    assert_non_null(strstr(what, "mechanism mismatch"));
    drain(mon);

    /* the right client key but another server key: a crypto failure */
    gpsc_keys_t wrong_srv;
    assert_int_equal(gpsc_keys_load(&wrong_srv, at(f, "worker.key"), at(f, "stranger.pub"), NULL,
                                    err, sizeof err),
                     0);
    o = co;
    assert_int_equal(gpsc_keys_client_opts(&wrong_srv, &o), 0);
    assert_false(try_client(ctx, srv, ep, &o));
    assert_int_equal(wait_event(mon, what, sizeof what), GPSC_WIRE_HS_CRYPTO);
    assert_non_null(strstr(what, "CURVE"));
    assert_non_null(strstr(what, "tcp://127.0.0.1:"));
    drain(mon);
    gpsc_keys_free(&wrong_srv);

    /* the worker and the learner (server pair) are let in */
    o = co;
    assert_int_equal(gpsc_keys_client_opts(&wk, &o), 0);
    assert_true(try_client(ctx, srv, ep, &o));
    o = co;
    assert_int_equal(gpsc_keys_client_opts(&learner, &o), 0);
    assert_true(try_client(ctx, srv, ep, &o));
    assert_true(gpsc_wire_zap_allowed(zap) >= 2);

    gpsc_wire_monitor_destroy(&mon);
    assert_null(mon);
    gpsc_wire_monitor_destroy(&mon);
    gpsc_wire_close(&srv);
    gpsc_wire_zap_destroy(&zap);
    gpsc_wire_ctx_destroy(&ctx);
    gpsc_keys_free(&coord);
    gpsc_keys_free(&wk);
    gpsc_keys_free(&learner);
    gpsc_keys_free(&bad);
}

/* gpsc-keygen end to end: --cluster writes a loadable set, keeps it on a
 * second call, --check reads the allow-list */
static void test_keygen_tool(void **state)
{
    fix_t *f = *state;
    if (!gpsc_wire_curve_available()) skip();
    char cmd[512], err[256];
    snprintf(cmd, sizeof cmd, "%s/gpsc-keygen -q --cluster %s/k", GPSC_BIN_DIR, f->dir);
    assert_int_equal(system(cmd), 0);
    gpsc_keys_t s, w;
    assert_int_equal(gpsc_keys_load(&s, at(f, "k/server.key"), at(f, "k/server.pub"),
                                    at(f, "k/allow.txt"), err, sizeof err),
                     0);
    assert_int_equal(
        gpsc_keys_load(&w, at(f, "k/worker.key"), at(f, "k/server.pub"), NULL, err, sizeof err), 0);
    assert_int_equal(s.allow.n, 2);
    assert_true(gpsc_keys_list_has(&s.allow, w.own.public_key));
    assert_true(gpsc_keys_list_has(&s.allow, s.own.public_key));
    struct stat st;
    assert_int_equal(stat(at(f, "k/worker.key"), &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    /* again: the same keys are kept */
    assert_int_equal(system(cmd), 0);
    gpsc_keys_t w2;
    assert_int_equal(
        gpsc_keys_load(&w2, at(f, "k/worker.key"), at(f, "k/server.pub"), NULL, err, sizeof err),
        0);
    assert_string_equal(w2.own.public_key, w.own.public_key);

    /* --force replaces them */
    snprintf(cmd, sizeof cmd, "%s/gpsc-keygen -q --force --cluster %s/k", GPSC_BIN_DIR, f->dir);
    assert_int_equal(system(cmd), 0);
    gpsc_keys_free(&w2);
    assert_int_equal(
        gpsc_keys_load(&w2, at(f, "k/worker.key"), at(f, "k/server.pub"), NULL, err, sizeof err),
        0);
    assert_string_not_equal(w2.own.public_key, w.own.public_key);

    /* --check rejects a secret file, --show prints a public key */
    snprintf(cmd, sizeof cmd, "%s/gpsc-keygen -q --check %s/k/worker.key 2>/dev/null", GPSC_BIN_DIR,
             f->dir);
    assert_int_not_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/gpsc-keygen --show %s/k/worker.key > %s/shown", GPSC_BIN_DIR,
             f->dir, f->dir);
    assert_int_equal(system(cmd), 0);
    FILE *fp = fopen(at(f, "shown"), "r");
    assert_non_null(fp);
    char line[128] = "";
    assert_non_null(fgets(line, sizeof line, fp));
    fclose(fp);
    line[strcspn(line, "\n")] = '\0';
    assert_string_equal(line, w2.own.public_key);
    /* no mode: usage error */
    snprintf(cmd, sizeof cmd, "%s/gpsc-keygen >/dev/null 2>&1", GPSC_BIN_DIR);
    int st2 = system(cmd);
    assert_true(WIFEXITED(st2) && WEXITSTATUS(st2) == 2);
    gpsc_keys_free(&s);
    gpsc_keys_free(&w);
    gpsc_keys_free(&w2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_dir_and_commas, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zap_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keygen_tool, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
