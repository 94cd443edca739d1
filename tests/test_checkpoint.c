/* test_checkpoint.c — checkpoint files (common/checkpoint.h) and the
 * algorithm's save/load (learner/algorithm.h) on the synthetic task:
 * state -> file -> state -> file is byte-identical, a resumed run equals an
 * uninterrupted one, and bad files or mismatched checkpoints are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alg_synth.h"
#include "common/checkpoint.h"
#include "common/error.h"
#include "common/wire.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gpsc-test-ckpt-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* writes alg's checkpoint to path */
static void save_to(const gpsc_alg_t *alg, const char *path)
{
    char err[1024] = "";
    gpsc_checkpoint_t *ck = gpsc_checkpoint_new();
    assert_non_null(ck);
    assert_int_equal(gpsc_alg_save(alg, ck, "fnv1a64:0000000000000000", "synth-s7-00000000", "",
                                   err, sizeof err),
                     0);
    int rc = gpsc_checkpoint_write(ck, path, err, sizeof err);
    if (rc)
        print_message("%s\n", err);
    assert_int_equal(rc, 0);
    gpsc_checkpoint_destroy(&ck);
}

/* a new algorithm object loaded from path */
static gpsc_alg_t *load_from(const gpsc_experiment_t *exp, const char *path, int threads)
{
    char err[1024] = "";
    gpsc_alg_opts_t o = {.threads = threads};
    gpsc_alg_t *alg = gpsc_alg_new(exp, &o, err, sizeof err);
    assert_non_null(alg);
    gpsc_checkpoint_t *ck = NULL;
    int rc = gpsc_checkpoint_read(&ck, path, err, sizeof err);
    if (rc)
        print_message("%s\n", err);
    assert_int_equal(rc, 0);
    rc = gpsc_alg_load(alg, gpsc_checkpoint_get(ck), err, sizeof err);
    if (rc)
        print_message("%s\n", err);
    assert_int_equal(rc, 0);
    gpsc_checkpoint_destroy(&ck);
    return alg;
}

/* state -> file -> state -> bytes equals the file */
static void round_trip(const char *which)
{
    char err[1024] = "", p1[512];
    gpsc_experiment_t exp;
    assert_int_equal(synth_experiment(&exp, which, err, sizeof err), 0);
    gpsc_alg_t *alg = synth_alg(&exp, 1, err, sizeof err);
    assert_non_null(alg);
    synth_batch_t b;
    assert_int_equal(synth_batch_init(&b, exp.n_train, exp.algo.samples), 0);
    assert_int_equal(synth_run(alg, &exp, &b, 2, err, sizeof err), 0);
    snprintf(p1, sizeof p1, "%s/%s.pb", tmpdir, which);
    save_to(alg, p1);
    gpsc_alg_t *back = load_from(&exp, p1, 2);
    assert_int_equal(gpsc_alg_iteration_count(back), 2);
    size_t n1 = 0, n2 = 0;
    uint8_t *f1 = read_file(p1, &n1), *f2 = NULL;
    assert_non_null(f1);
    gpsc_checkpoint_t *ck = gpsc_checkpoint_new();
    assert_int_equal(gpsc_alg_save(back, ck, "fnv1a64:0000000000000000", "synth-s7-00000000", "",
                                   err, sizeof err),
                     0);
    assert_int_equal(gpsc_checkpoint_encode(&f2, &n2, ck, err, sizeof err), 0);
    gpsc_checkpoint_destroy(&ck);
    assert_int_equal(n1, n2);
    assert_memory_equal(f1, f2, n1);
    /* and the policies the next iteration samples are the same */
    for (int m = 0; m < exp.n_train; m++) {
        const gpsc_lgpolicy_t *x = gpsc_alg_policy(alg, m), *y = gpsc_alg_policy(back, m);
        assert_memory_equal(x->K, y->K, sizeof(double) * SYNTH_T * 2 * 4);
        assert_memory_equal(x->chol, y->chol, sizeof(double) * SYNTH_T * 2 * 2);
    }
    /* no temp file is left behind */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", p1, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
    free(f1);
    free(f2);
    synth_batch_free(&b);
    gpsc_alg_destroy(&alg);
    gpsc_alg_destroy(&back);
    gpsc_experiment_free(&exp);
}

static void test_round_trip_trajopt(void **state)
{
    (void)state;
    round_trip("trajopt");
}

static void test_round_trip_mdgps(void **state)
{
    (void)state;
    round_trip("mdgps");
}

/* 3 iterations in one go == 1 iteration, save, load, 2 more */
static void resume(const char *which)
{
    char err[1024] = "", p[512];
    gpsc_experiment_t exp;
    assert_int_equal(synth_experiment(&exp, which, err, sizeof err), 0);
    synth_batch_t b;
    assert_int_equal(synth_batch_init(&b, exp.n_train, exp.algo.samples), 0);

    gpsc_alg_t *full = synth_alg(&exp, 1, err, sizeof err);
    assert_non_null(full);
    assert_int_equal(synth_run(full, &exp, &b, 3, err, sizeof err), 0);

    gpsc_alg_t *part = synth_alg(&exp, 1, err, sizeof err);
    assert_non_null(part);
    assert_int_equal(synth_run(part, &exp, &b, 1, err, sizeof err), 0);
    snprintf(p, sizeof p, "%s/resume-%s.pb", tmpdir, which);
    save_to(part, p);
    gpsc_alg_destroy(&part);
    gpsc_alg_t *cont = load_from(&exp, p, 2);
    assert_int_equal(synth_run(cont, &exp, &b, 2, err, sizeof err), 0);

    uint8_t *c1 = NULL, *c2 = NULL;
    size_t n1 = 0, n2 = 0;
    assert_int_equal(synth_encode(&c1, &n1, full, err, sizeof err), 0);
    assert_int_equal(synth_encode(&c2, &n2, cont, err, sizeof err), 0);
    assert_int_equal(n1, n2);
    assert_memory_equal(c1, c2, n1);
    free(c1);
    free(c2);
    synth_batch_free(&b);
    gpsc_alg_destroy(&full);
    gpsc_alg_destroy(&cont);
    gpsc_experiment_free(&exp);
}

static void test_resume_trajopt(void **state)
{
    (void)state;
    resume("trajopt");
}

static void test_resume_mdgps(void **state)
{
    (void)state;
    resume("mdgps");
}

/* files that are not checkpoints, and checkpoints of another run */
static void test_refuses(void **state)
{
    (void)state;
    char err[1024] = "", p[512], q[512];
    gpsc_checkpoint_t *ck = NULL;
    snprintf(p, sizeof p, "%s/missing.pb", tmpdir);
    assert_int_equal(gpsc_checkpoint_read(&ck, p, err, sizeof err), GPSC_ENOENT);
    assert_null(ck);

    gpsc_experiment_t exp;
    assert_int_equal(synth_experiment(&exp, "trajopt", err, sizeof err), 0);
    gpsc_alg_t *alg = synth_alg(&exp, 1, err, sizeof err);
    synth_batch_t b;
    assert_int_equal(synth_batch_init(&b, exp.n_train, exp.algo.samples), 0);
    assert_int_equal(synth_run(alg, &exp, &b, 1, err, sizeof err), 0);
    snprintf(p, sizeof p, "%s/good.pb", tmpdir);
    save_to(alg, p);

    /* truncated */
    size_t n = 0;
    uint8_t *bytes = read_file(p, &n);
    assert_non_null(bytes);
    snprintf(q, sizeof q, "%s/trunc.pb", tmpdir);
    FILE *f = fopen(q, "wb");
    assert_non_null(f);
    fwrite(bytes, 1, n / 2, f);
    fclose(f);
    assert_true(gpsc_checkpoint_read(&ck, q, err, sizeof err) < 0);
    assert_null(ck);
    assert_non_null(strstr(err, "trunc.pb"));
    free(bytes);

    /* an envelope of another type */
    Gpsc__Envelope env;
    gpsc_wire_env_init(&env, GPSC__ROLE__ROLE_WORKER, "w", 1);
    Gpsc__Heartbeat hb = GPSC__HEARTBEAT__INIT;
    env.body_case = GPSC__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    uint8_t *buf = NULL;
    assert_int_equal(gpsc_wire_encode(&buf, &n, &env, err, sizeof err), 0);
    assert_int_equal(gpsc_checkpoint_decode(&ck, buf, n, err, sizeof err), GPSC_ETYPE);
    free(buf);

    /* a trajopt checkpoint does not load into mdgps, nor into another seed */
    gpsc_experiment_t e2;
    assert_int_equal(synth_experiment(&e2, "mdgps", err, sizeof err), 0);
    gpsc_alg_t *md = synth_alg(&e2, 1, err, sizeof err);
    assert_int_equal(gpsc_checkpoint_read(&ck, p, err, sizeof err), 0);
    assert_int_equal(gpsc_alg_load(md, gpsc_checkpoint_get(ck), err, sizeof err), GPSC_ECONFIG);
    assert_non_null(strstr(err, "algorithm"));
    exp.algo.seed = 8;
    gpsc_alg_t *other = synth_alg(&exp, 1, err, sizeof err);
    uint8_t *c0 = NULL, *c1 = NULL;
    size_t n0 = 0, n1 = 0;
    assert_int_equal(synth_encode(&c0, &n0, other, err, sizeof err), 0);
    assert_int_equal(gpsc_alg_load(other, gpsc_checkpoint_get(ck), err, sizeof err),
                     GPSC_ECONFIG);
    assert_non_null(strstr(err, "seed"));
    /* a refused load changes nothing */
    assert_int_equal(synth_encode(&c1, &n1, other, err, sizeof err), 0);
    assert_int_equal(n0, n1);
    assert_memory_equal(c0, c1, n0);
    free(c0);
    free(c1);
    gpsc_checkpoint_destroy(&ck);
    gpsc_alg_destroy(&other);
    gpsc_alg_destroy(&md);
    gpsc_alg_destroy(&alg);
    synth_batch_free(&b);
    gpsc_experiment_free(&e2);
    gpsc_experiment_free(&exp);
}

/* identity: deterministic, and sensitive to the text and the seed */
static void test_identity(void **state)
{
    (void)state;
    char h1[25], h2[25], h3[25], r1[128], r2[128], r3[128];
    gpsc_checkpoint_config_hash(h1, "T: 100\n", 7);
    gpsc_checkpoint_config_hash(h2, "T: 100\n", 7);
    gpsc_checkpoint_config_hash(h3, "T: 101\n", 7);
    assert_string_equal(h1, h2);
    assert_string_not_equal(h1, h3);
    assert_int_equal(strncmp(h1, "fnv1a64:", 8), 0);
    assert_int_equal(strlen(h1), 24);
    /* FNV-1a 64 of "a" (the published test value) */
    assert_true(gpsc_checkpoint_fnv1a("a", 1, 0) == 0xaf63dc4c8601ec8cULL);
    gpsc_checkpoint_run_id(r1, sizeof r1, "peg7", h1, 1);
    gpsc_checkpoint_run_id(r2, sizeof r2, "peg7", h1, 1);
    gpsc_checkpoint_run_id(r3, sizeof r3, "peg7", h1, 2);
    assert_string_equal(r1, r2);
    assert_string_not_equal(r1, r3);
    assert_int_equal(strncmp(r1, "peg7-s1-", 8), 0);
}

/* pieces: a network survives the message exactly */
static void test_network_piece(void **state)
{
    (void)state;
    char err[256];
    int hidden[2] = {5, 3};
    gpsc_mlp_t *a = gpsc_mlp_new(4, 2, 2, hidden, GPSC_MLP_TANH);
    gpsc_mlp_t *b = gpsc_mlp_new(4, 2, 2, hidden, GPSC_MLP_TANH);
    assert_non_null(a);
    assert_non_null(b);
    for (size_t i = 0; i < a->n_params; i++)
        a->params[i] = 0.25 + 0.01 * (double)i;
    gpsc_checkpoint_t *ck = gpsc_checkpoint_new();
    Gpsc__NetworkPolicy *m = gpsc_checkpoint_put_network(ck, a, 3);
    assert_non_null(m);
    assert_int_equal(m->n_weights, 4 * 5 + 5 * 3 + 3 * 2);
    assert_int_equal(gpsc_wire_validate_network_policy(m, err, sizeof err), 0);
    assert_int_equal(gpsc_checkpoint_get_network(b, m, err, sizeof err), 0);
    assert_memory_equal(a->params, b->params, sizeof(double) * a->n_params);
    gpsc_mlp_t *c = gpsc_mlp_new(4, 2, 1, hidden, GPSC_MLP_TANH);
    assert_int_equal(gpsc_checkpoint_get_network(c, m, err, sizeof err), GPSC_EDIM);
    gpsc_checkpoint_destroy(&ck);
    gpsc_mlp_destroy(&a);
    gpsc_mlp_destroy(&b);
    gpsc_mlp_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_trajopt),
        cmocka_unit_test(test_round_trip_mdgps),
        cmocka_unit_test(test_resume_trajopt),
        cmocka_unit_test(test_resume_mdgps),
        cmocka_unit_test(test_refuses),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_network_piece),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
