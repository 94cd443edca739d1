/* test_config.c — YAML config documents: getters, locations, every error kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/error.h"

static gpsc_cfg_t *load(const char *text)
{
    char err[512] = "unset";
    gpsc_cfg_t *c = gpsc_cfg_load_string(text, strlen(text), "t.yaml", err, sizeof err);
    if (!c) fail_msg("load failed: %s", err);
    assert_string_equal(err, "");
    return c;
}

/* the document must be refused at load with exactly `msg` */
static void expect_load_error(const char *text, const char *msg)
{
    char err[512] = "";
    gpsc_cfg_t *c = gpsc_cfg_load_string(text, strlen(text), "t.yaml", err, sizeof err);
    if (c) fail_msg("loaded but expected: %s", msg);
    assert_string_equal(err, msg);
}

static const char valid_doc[] = "# an experiment\n" /* line 1 */
                                "name: reacher\n"   /* 2 */
                                "T: 100\n"          /* 3 */
                                "dt: 0.05\n"        /* 4 */
                                "eps: 1e-6\n"       /* 5 */
                                "neg: -3\n"         /* 6 */
                                "half: .5\n"        /* 7 */
                                "hex: 0x1F\n"       /* 8 */
                                "seed: 18446744073709551615\n"
                                "verbose: yes\n" /* 10 */
                                "quiet: off\n"   /* 11 */
                                "flag: True\n"   /* 12 */
                                "mode: mdgps\n"  /* 13 */
                                "x0: [0.1, -2, 3e2]\n"
                                "gains:\n"      /* 15 */
                                "  - 1\n"       /* 16 */
                                "  - 2\n"       /* 17 */
                                "one: 7\n"      /* 18 */
                                "algorithm:\n"  /* 19 */
                                "  eta: 1.0\n"  /* 20 */
                                "  inner:\n"    /* 21 */
                                "    k: 3\n"    /* 22 */
                                "conditions:\n" /* 23 */
                                "  - {x0: [1, 2], w: 0.5}\n"
                                "  - {x0: [3, 4], w: 1.5}\n"
                                "quoted: \"5\"\n" /* 26 */
                                "empty: \"\"\n"   /* 27 */
                                "big: 1e3\n"      /* 28 */
                                "block: |\n"      /* 29 */
                                "  two\n"
                                "  lines\n";

static void test_valid_document(void **state)
{
    (void)state;
    gpsc_cfg_t *c = load(valid_doc);
    const gpsc_cfg_node_t *root = gpsc_cfg_root(c);
    assert_string_equal(gpsc_cfg_name(c), "t.yaml");
    assert_int_equal(gpsc_cfg_kind(root), GPSC_CFG_MAP);
    assert_int_equal(gpsc_cfg_len(root), 21);

    const char *name = NULL;
    assert_int_equal(gpsc_cfg_string(c, root, "name", &name, GPSC_CFG_REQUIRED), 1);
    assert_string_equal(name, "reacher");
    int T = 0;
    assert_int_equal(gpsc_cfg_int(c, root, "T", &T, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(T, 100);
    double dt = 0, eps = 0, half = 0;
    assert_int_equal(gpsc_cfg_double(c, root, "dt", &dt, GPSC_CFG_REQUIRED), 1);
    assert_true(dt == 0.05);
    assert_int_equal(gpsc_cfg_double(c, root, "eps", &eps, GPSC_CFG_REQUIRED), 1);
    assert_true(eps == 1e-6);
    assert_int_equal(gpsc_cfg_double(c, root, "half", &half, GPSC_CFG_REQUIRED), 1);
    assert_true(half == 0.5);
    int neg = 0, hex = 0, big = 0;
    assert_int_equal(gpsc_cfg_int(c, root, "neg", &neg, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(neg, -3);
    assert_int_equal(gpsc_cfg_int(c, root, "hex", &hex, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(hex, 31);
    assert_int_equal(gpsc_cfg_int(c, root, "big", &big, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(big, 1000);
    unsigned long long seed = 0;
    assert_int_equal(gpsc_cfg_u64(c, root, "seed", &seed, GPSC_CFG_REQUIRED), 1);
    assert_true(seed == 18446744073709551615ULL);
    bool verbose = false, quiet = true, flag = false;
    assert_int_equal(gpsc_cfg_bool(c, root, "verbose", &verbose, GPSC_CFG_REQUIRED), 1);
    assert_true(verbose);
    assert_int_equal(gpsc_cfg_bool(c, root, "quiet", &quiet, GPSC_CFG_REQUIRED), 1);
    assert_false(quiet);
    assert_int_equal(gpsc_cfg_bool(c, root, "flag", &flag, GPSC_CFG_REQUIRED), 1);
    assert_true(flag);
    static const char *const modes[] = {"badmm", "mdgps", "pigps", NULL};
    int mode = -1;
    assert_int_equal(gpsc_cfg_enum(c, root, "mode", modes, &mode, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(mode, 1);

    double x0[4] = {0};
    int n = 0;
    assert_int_equal(gpsc_cfg_doubles(c, root, "x0", x0, 4, &n, 3, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(n, 3);
    assert_true(x0[0] == 0.1 && x0[1] == -2.0 && x0[2] == 300.0);
    int gains[2] = {0}, one[3] = {0};
    assert_int_equal(gpsc_cfg_ints(c, root, "gains", gains, 2, &n, 0, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(n, 2);
    assert_int_equal(gains[0], 1);
    assert_int_equal(gains[1], 2);
    /* a lone number is a list of one */
    assert_int_equal(gpsc_cfg_ints(c, root, "one", one, 3, &n, 0, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(n, 1);
    assert_int_equal(one[0], 7);

    /* nested mappings */
    const gpsc_cfg_node_t *alg = gpsc_cfg_map(c, root, "algorithm", GPSC_CFG_REQUIRED);
    assert_non_null(alg);
    assert_int_equal(gpsc_cfg_line(alg), 20);
    assert_int_equal(gpsc_cfg_column(alg), 3);
    double eta = 0;
    assert_int_equal(gpsc_cfg_double(c, alg, "eta", &eta, GPSC_CFG_REQUIRED), 1);
    assert_true(eta == 1.0);
    const gpsc_cfg_node_t *inner = gpsc_cfg_map(c, alg, "inner", GPSC_CFG_REQUIRED);
    int k = 0;
    assert_int_equal(gpsc_cfg_int(c, inner, "k", &k, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(k, 3);

    /* a sequence of mappings */
    const gpsc_cfg_node_t *conds = gpsc_cfg_seq(c, root, "conditions", GPSC_CFG_REQUIRED);
    assert_non_null(conds);
    assert_int_equal(gpsc_cfg_kind(conds), GPSC_CFG_SEQ);
    assert_int_equal(gpsc_cfg_len(conds), 2);
    for (size_t i = 0; i < 2; i++) {
        const gpsc_cfg_node_t *ci = gpsc_cfg_at(conds, i);
        assert_int_equal(gpsc_cfg_line(ci), 24 + (int)i);
        assert_int_equal(gpsc_cfg_column(ci), 5);
        double x[2], w = 0;
        assert_int_equal(gpsc_cfg_doubles(c, ci, "x0", x, 2, &n, 2, GPSC_CFG_REQUIRED), 1);
        assert_true(x[0] == 1.0 + 2.0 * (double)i && x[1] == 2.0 + 2.0 * (double)i);
        assert_int_equal(gpsc_cfg_double(c, ci, "w", &w, GPSC_CFG_REQUIRED), 1);
        assert_true(w == 0.5 + (double)i);
    }
    assert_null(gpsc_cfg_at(conds, 2));

    /* strings: a quoted "5" is a string, "" is an empty string */
    const char *q = NULL, *empty = NULL, *block = NULL;
    assert_int_equal(gpsc_cfg_string(c, root, "quoted", &q, GPSC_CFG_REQUIRED), 1);
    assert_string_equal(q, "5");
    assert_int_equal(gpsc_cfg_string(c, root, "empty", &empty, GPSC_CFG_REQUIRED), 1);
    assert_string_equal(empty, "");
    assert_int_equal(gpsc_cfg_string(c, root, "block", &block, GPSC_CFG_REQUIRED), 1);
    assert_string_equal(block, "two\nlines\n");

    /* optional and absent: 0, output untouched, no error */
    double absent = 42.0;
    assert_int_equal(gpsc_cfg_double(c, root, "nope", &absent, GPSC_CFG_OPTIONAL), 0);
    assert_true(absent == 42.0);
    assert_null(gpsc_cfg_map(c, root, "nosection", GPSC_CFG_OPTIONAL));
    /* a NULL section (absent optional map): everything absent, nothing recorded */
    assert_int_equal(gpsc_cfg_double(c, NULL, "x", &absent, GPSC_CFG_REQUIRED), 0);

    /* inspection without marking */
    assert_string_equal(gpsc_cfg_key_at(root, 0), "name");
    assert_string_equal(gpsc_cfg_text(gpsc_cfg_value_at(root, 0)), "reacher");
    assert_null(gpsc_cfg_key_at(root, 99));
    const gpsc_cfg_node_t *tn = gpsc_cfg_get(root, "T");
    assert_int_equal(gpsc_cfg_kind(tn), GPSC_CFG_SCALAR);
    assert_int_equal(gpsc_cfg_line(tn), 3);
    assert_int_equal(gpsc_cfg_column(tn), 4);
    assert_null(gpsc_cfg_get(tn, "x")); /* not a mapping */
    assert_null(gpsc_cfg_text(conds));
    int e0 = 0;
    assert_int_equal(gpsc_cfg_node_int(c, gpsc_cfg_at(gpsc_cfg_get(root, "gains"), 1), &e0), 0);
    assert_int_equal(e0, 2);

    assert_int_equal(gpsc_cfg_check_unused(c), 0);
    assert_false(gpsc_cfg_failed(c));
    assert_string_equal(gpsc_cfg_errmsg(c), "");
    gpsc_cfg_destroy(&c);
    assert_null(c);
    gpsc_cfg_destroy(&c); /* NULL is fine */
    gpsc_cfg_destroy(NULL);
}

/* --- errors recorded by getters ------------------------------------------ */

static void test_unknown_key(void **state)
{
    (void)state;
    gpsc_cfg_t *c = load("a: 1\nb: 2\nc: 3\n");
    int v;
    gpsc_cfg_int(c, gpsc_cfg_root(c), "a", &v, GPSC_CFG_REQUIRED);
    gpsc_cfg_int(c, gpsc_cfg_root(c), "c", &v, GPSC_CFG_REQUIRED);
    assert_int_equal(gpsc_cfg_check_unused(c), GPSC_ECONFIG);
    assert_true(gpsc_cfg_failed(c));
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:2:1: unknown key 'b'");
    gpsc_cfg_destroy(&c);

    /* nested, and inside a sequence of mappings */
    c = load("algo:\n  eta: 1\n  etaa: 2\n");
    const gpsc_cfg_node_t *a = gpsc_cfg_map(c, gpsc_cfg_root(c), "algo", GPSC_CFG_REQUIRED);
    gpsc_cfg_int(c, a, "eta", &v, GPSC_CFG_REQUIRED);
    assert_int_equal(gpsc_cfg_check_unused(c), GPSC_ECONFIG);
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:3:3: unknown key 'algo.etaa'");
    gpsc_cfg_destroy(&c);

    c = load("conds:\n  - {x: 1}\n  - {x: 2, y: 3}\n");
    const gpsc_cfg_node_t *s = gpsc_cfg_seq(c, gpsc_cfg_root(c), "conds", GPSC_CFG_REQUIRED);
    for (size_t i = 0; i < gpsc_cfg_len(s); i++)
        gpsc_cfg_int(c, gpsc_cfg_at(s, i), "x", &v, GPSC_CFG_REQUIRED);
    assert_int_equal(gpsc_cfg_check_unused(c), GPSC_ECONFIG);
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:3:12: unknown key 'conds[1].y'");
    gpsc_cfg_destroy(&c);
}

static void test_unused_parent_reported_once(void **state)
{
    (void)state;
    gpsc_cfg_t *c = load("a: 1\nsection:\n  x: 1\n  y: 2\nlater: 3\n");
    int v;
    gpsc_cfg_int(c, gpsc_cfg_root(c), "a", &v, GPSC_CFG_REQUIRED);
    gpsc_cfg_int(c, gpsc_cfg_root(c), "later", &v, GPSC_CFG_REQUIRED);
    assert_int_equal(gpsc_cfg_check_unused(c), GPSC_ECONFIG);
    /* the parent by its own key, not "section.x" */
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:2:1: unknown key 'section'");
    gpsc_cfg_destroy(&c);

    /* a taken parent whose children were never read: the children */
    c = load("section:\n  x: 1\n");
    gpsc_cfg_map(c, gpsc_cfg_root(c), "section", GPSC_CFG_REQUIRED);
    assert_int_equal(gpsc_cfg_check_unused(c), GPSC_ECONFIG);
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:2:3: unknown key 'section.x'");
    gpsc_cfg_destroy(&c);
}

static void test_wrong_type(void **state)
{
    (void)state;
    gpsc_cfg_t *c = load("dt: abc\nT: \"5\"\nflag: 1\nsec: 5\nlist: {a: 1}\nname: ~\n");
    const gpsc_cfg_node_t *r = gpsc_cfg_root(c);
    double dt = 7.0;
    assert_int_equal(gpsc_cfg_double(c, r, "dt", &dt, GPSC_CFG_REQUIRED), GPSC_ECONFIG);
    assert_true(dt == 7.0); /* untouched */
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:1:5: 'dt': expected a number, got 'abc'");
    gpsc_cfg_destroy(&c);

    /* each wrong type on its own document, to see its message */
    struct {
        const char *doc, *msg;
        int which;
    } cases[] = {
        {"T: \"5\"\n", "t.yaml:1:4: 'T': expected an integer, got the quoted string '5'", 0},
        {"T: abc\n", "t.yaml:1:4: 'T': expected an integer, got 'abc'", 0},
        {"T: 2.5\n", "t.yaml:1:4: 'T': expected an integer, got '2.5'", 0},
        {"T: [1]\n", "t.yaml:1:4: 'T': expected an integer, got a sequence", 0},
        {"T:\n", "t.yaml:1:3: 'T': expected an integer, got null", 0},
        {"f: 1\n", "t.yaml:1:4: 'f': expected a bool (true/false, yes/no, on/off), got '1'", 1},
        {"f: \"true\"\n",
         "t.yaml:1:4: 'f': expected a bool (true/false, yes/no, on/off), got the quoted string "
         "'true'",
         1},
        {"s: ~\n", "t.yaml:1:4: 's': expected a string, got null", 2},
        {"s: {a: 1}\n", "t.yaml:1:4: 's': expected a string, got a mapping", 2},
        {"m: 5\n", "t.yaml:1:4: 'm': expected a mapping, got '5'", 3},
        {"q: {a: 1}\n", "t.yaml:1:4: 'q': expected a sequence, got a mapping", 4},
        {"d: .inf\n", "t.yaml:1:4: 'd': expected a number, got the non-finite '.inf' (not allowed)",
         5},
        {"d: -.Inf\n",
         "t.yaml:1:4: 'd': expected a number, got the non-finite '-.Inf' (not allowed)", 5},
        {"d: .nan\n", "t.yaml:1:4: 'd': expected a number, got the non-finite '.nan' (not allowed)",
         5},
        {"d: nan\n", "t.yaml:1:4: 'd': expected a number, got 'nan'", 5},
        {"d: 1_000\n", "t.yaml:1:4: 'd': expected a number, got '1_000'", 5},
        {"d: 0x\n", "t.yaml:1:4: 'd': expected a number, got '0x'", 5},
        {"d: 1e\n", "t.yaml:1:4: 'd': expected a number, got '1e'", 5},
        {"d: 010\n",
         "t.yaml:1:4: 'd': '010' has a leading zero (octal in YAML 1.1, decimal in 1.2); drop the "
         "zero or write 0o for octal",
         5},
        {"d: 1e999\n", "t.yaml:1:4: 'd': 1e999 does not fit in a double", 5},
        {"l: {a: 1}\n", "t.yaml:1:4: 'l': expected a list of numbers, got a mapping", 6},
        {"l: [1, b, 3]\n", "t.yaml:1:8: 'l[1]': expected a number, got 'b'", 6},
        {"l: [1, [2]]\n", "t.yaml:1:8: 'l[1]': expected a number, got a sequence", 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        c = load(cases[i].doc);
        r = gpsc_cfg_root(c);
        const char *key = gpsc_cfg_key_at(r, 0);
        int iv = 0, rc = 0;
        bool bv;
        const char *sv;
        double dv, lv[4];
        switch (cases[i].which) {
        case 0:
            rc = gpsc_cfg_int(c, r, key, &iv, GPSC_CFG_REQUIRED);
            break;
        case 1:
            rc = gpsc_cfg_bool(c, r, key, &bv, GPSC_CFG_REQUIRED);
            break;
        case 2:
            rc = gpsc_cfg_string(c, r, key, &sv, GPSC_CFG_REQUIRED);
            break;
        case 3:
            rc = gpsc_cfg_map(c, r, key, GPSC_CFG_REQUIRED) ? 1 : GPSC_ECONFIG;
            break;
        case 4:
            rc = gpsc_cfg_seq(c, r, key, GPSC_CFG_REQUIRED) ? 1 : GPSC_ECONFIG;
            break;
        case 5:
            rc = gpsc_cfg_double(c, r, key, &dv, GPSC_CFG_REQUIRED);
            break;
        default:
            rc = gpsc_cfg_doubles(c, r, key, lv, 4, &iv, 0, GPSC_CFG_REQUIRED);
            break;
        }
        if (rc >= 0 || strcmp(gpsc_cfg_errmsg(c), cases[i].msg) != 0)
            fail_msg("case %zu (%s): rc %d, message\n  got:  %s\n  want: %s", i, cases[i].doc, rc,
                     gpsc_cfg_errmsg(c), cases[i].msg);
        gpsc_cfg_destroy(&c);
    }
}

static void test_range(void **state)
{
    (void)state;
    gpsc_cfg_t *c = load("T: 3000000000\nneg: -1\nbig: 1e10\nh: 0x100000000\nu: 1e20\n");
    const gpsc_cfg_node_t *r = gpsc_cfg_root(c);
    int T = 5;
    unsigned long long u = 9;
    assert_int_equal(gpsc_cfg_int(c, r, "T", &T, GPSC_CFG_REQUIRED), GPSC_ERANGE);
    assert_int_equal(T, 5);
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:1:4: 'T': 3000000000 does not fit in an int");
    assert_int_equal(gpsc_cfg_u64(c, r, "neg", &u, GPSC_CFG_REQUIRED), GPSC_ERANGE);
    assert_int_equal(gpsc_cfg_int(c, r, "big", &T, GPSC_CFG_REQUIRED), GPSC_ERANGE);
    assert_int_equal(gpsc_cfg_int(c, r, "h", &T, GPSC_CFG_REQUIRED), GPSC_ERANGE);
    assert_int_equal(gpsc_cfg_u64(c, r, "u", &u, GPSC_CFG_REQUIRED), GPSC_ERANGE);
    assert_true(u == 9);
    /* still the first error */
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:1:4: 'T': 3000000000 does not fit in an int");
    gpsc_cfg_destroy(&c);

    c = load("a: 2147483647\nb: -2147483648\nc: -0\nd: 0o17\ne: 1e19\nf: +4\n");
    r = gpsc_cfg_root(c);
    assert_int_equal(gpsc_cfg_int(c, r, "a", &T, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(T, 2147483647);
    assert_int_equal(gpsc_cfg_int(c, r, "b", &T, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(T, -2147483647 - 1);
    assert_int_equal(gpsc_cfg_u64(c, r, "c", &u, GPSC_CFG_REQUIRED), 1);
    assert_true(u == 0);
    assert_int_equal(gpsc_cfg_int(c, r, "d", &T, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(T, 15);
    assert_int_equal(gpsc_cfg_u64(c, r, "e", &u, GPSC_CFG_REQUIRED), 1);
    assert_true(u == 10000000000000000000ULL);
    assert_int_equal(gpsc_cfg_int(c, r, "f", &T, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(T, 4);
    assert_false(gpsc_cfg_failed(c));
    gpsc_cfg_destroy(&c);
}

static void test_number_forms(void **state)
{
    (void)state;
    struct {
        const char *text;
        double want;
    } ok[] = {{"0", 0.0},       {"-3", -3.0},     {"+2", 2.0},     {"0.5", 0.5},
              {".5", 0.5},      {"-.5", -0.5},    {"1.", 1.0},     {"1e-6", 1e-6},
              {"1E+3", 1000.0}, {"2.5e2", 250.0}, {"0x10", 16.0},  {"0o10", 8.0},
              {"0.0", 0.0},     {"-0", 0.0},      {"1e-400", 0.0}, {"00.5", 0.5}};
    const char *bad[] = {"abc", "1.2.3", "--1",   "1e",  "e3",    ".",    "+",   "0x",   "0xg",
                         "0o8", "inf",   "+.nan", "1 2", "0b101", "1:20", "1_0", "0x-1", ".e1"};
    char doc[64];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        snprintf(doc, sizeof doc, "v: %s\n", ok[i].text);
        gpsc_cfg_t *c = load(doc);
        double v = -99;
        int rc = gpsc_cfg_double(c, gpsc_cfg_root(c), "v", &v, GPSC_CFG_REQUIRED);
        if (rc != 1 || v != ok[i].want)
            fail_msg("'%s': rc %d value %.17g (%s)", ok[i].text, rc, v, gpsc_cfg_errmsg(c));
        gpsc_cfg_destroy(&c);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(doc, sizeof doc, "v: %s\n", bad[i]);
        gpsc_cfg_t *c = load(doc);
        double v = -99;
        int rc = gpsc_cfg_double(c, gpsc_cfg_root(c), "v", &v, GPSC_CFG_REQUIRED);
        if (rc != GPSC_ECONFIG || v != -99 || strncmp(gpsc_cfg_errmsg(c), "t.yaml:1:4: 'v': ", 17))
            fail_msg("'%s' accepted or odd: rc %d value %g msg %s", bad[i], rc, v,
                     gpsc_cfg_errmsg(c));
        gpsc_cfg_destroy(&c);
    }
    /* bools in every spelling */
    const char *yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    const char *no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    for (size_t i = 0; i < 9; i++) {
        snprintf(doc, sizeof doc, "a: %s\nb: %s\n", yes[i], no[i]);
        gpsc_cfg_t *c = load(doc);
        bool a = false, b = true;
        assert_int_equal(gpsc_cfg_bool(c, gpsc_cfg_root(c), "a", &a, GPSC_CFG_REQUIRED), 1);
        assert_int_equal(gpsc_cfg_bool(c, gpsc_cfg_root(c), "b", &b, GPSC_CFG_REQUIRED), 1);
        assert_true(a);
        assert_false(b);
        gpsc_cfg_destroy(&c);
    }
}

static void test_missing_required(void **state)
{
    (void)state;
    gpsc_cfg_t *c = load("a: 1\nsec:\n  x: 1\n");
    const gpsc_cfg_node_t *r = gpsc_cfg_root(c);
    double y = 3.0;
    const gpsc_cfg_node_t *sec = gpsc_cfg_map(c, r, "sec", GPSC_CFG_REQUIRED);
    assert_int_equal(gpsc_cfg_double(c, sec, "y", &y, GPSC_CFG_REQUIRED), 0);
    assert_true(y == 3.0);
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:3:3: missing required key 'sec.y'");
    gpsc_cfg_destroy(&c);

    c = load("a: 1\n");
    int T;
    assert_int_equal(gpsc_cfg_int(c, gpsc_cfg_root(c), "T", &T, GPSC_CFG_REQUIRED), 0);
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:1:1: missing required key 'T'");
    gpsc_cfg_destroy(&c);

    c = load("a: 1\n");
    assert_null(gpsc_cfg_map(c, gpsc_cfg_root(c), "algorithm", GPSC_CFG_REQUIRED));
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:1:1: missing required key 'algorithm'");
    gpsc_cfg_destroy(&c);

    /* a getter on a node that is not a mapping records it */
    c = load("conds: [5]\n");
    const gpsc_cfg_node_t *s = gpsc_cfg_seq(c, gpsc_cfg_root(c), "conds", GPSC_CFG_REQUIRED);
    assert_int_equal(gpsc_cfg_int(c, gpsc_cfg_at(s, 0), "x", &T, GPSC_CFG_REQUIRED), GPSC_ECONFIG);
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:1:9: 'conds[0]': expected a mapping, got '5'");
    gpsc_cfg_destroy(&c);
}

static void test_bad_enum(void **state)
{
    (void)state;
    static const char *const modes[] = {"badmm", "mdgps", NULL};
    gpsc_cfg_t *c = load("algo:\n  mode: pilqr\n");
    const gpsc_cfg_node_t *a = gpsc_cfg_map(c, gpsc_cfg_root(c), "algo", GPSC_CFG_REQUIRED);
    int m = -1;
    assert_int_equal(gpsc_cfg_enum(c, a, "mode", modes, &m, GPSC_CFG_REQUIRED), GPSC_ECONFIG);
    assert_int_equal(m, -1);
    assert_string_equal(gpsc_cfg_errmsg(c),
                        "t.yaml:2:9: 'algo.mode': expected one of: badmm, mdgps, got 'pilqr'");
    gpsc_cfg_destroy(&c);
    /* quoted choice is fine: an enum is a string */
    c = load("mode: \"mdgps\"\n");
    assert_int_equal(gpsc_cfg_enum(c, gpsc_cfg_root(c), "mode", modes, &m, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(m, 1);
    gpsc_cfg_destroy(&c);
}

static void test_list_length(void **state)
{
    (void)state;
    gpsc_cfg_t *c = load("x0: [1, 2]\nw: [1, 2, 3]\n");
    const gpsc_cfg_node_t *r = gpsc_cfg_root(c);
    double x[3] = {9, 9, 9};
    int n = -1;
    assert_int_equal(gpsc_cfg_doubles(c, r, "x0", x, 3, &n, 3, GPSC_CFG_REQUIRED), GPSC_EDIM);
    assert_int_equal(n, -1);
    assert_true(x[0] == 9 && x[1] == 9);
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:1:5: 'x0': expected 3 entries, got 2");
    gpsc_cfg_destroy(&c);

    c = load("w: [1, 2, 3]\n");
    int w[2] = {0};
    assert_int_equal(gpsc_cfg_ints(c, gpsc_cfg_root(c), "w", w, 2, &n, 0, GPSC_CFG_REQUIRED),
                     GPSC_EDIM);
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:1:4: 'w': 3 entries, at most 2 allowed");
    gpsc_cfg_destroy(&c);

    /* a bad element leaves the output untouched */
    c = load("w: [1, 2.5]\n");
    w[0] = 7;
    assert_int_equal(gpsc_cfg_ints(c, gpsc_cfg_root(c), "w", w, 2, &n, 0, GPSC_CFG_REQUIRED),
                     GPSC_ECONFIG);
    assert_int_equal(w[0], 7);
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:1:8: 'w[1]': expected an integer, got '2.5'");
    gpsc_cfg_destroy(&c);

    /* an empty list */
    c = load("w: []\n");
    n = -1;
    assert_int_equal(gpsc_cfg_ints(c, gpsc_cfg_root(c), "w", w, 2, &n, 0, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(n, 0);
    gpsc_cfg_destroy(&c);
}

static void test_errors_keep_first_and_getters_work(void **state)
{
    (void)state;
    gpsc_cfg_t *c = load("a: x\nb: 2\nc: [1, 2]\nd: y\n");
    const gpsc_cfg_node_t *r = gpsc_cfg_root(c);
    int a = 0, b = 0, d = 0, cs[2], n = 0;
    assert_int_equal(gpsc_cfg_int(c, r, "a", &a, GPSC_CFG_REQUIRED), GPSC_ECONFIG);
    assert_int_equal(gpsc_cfg_int(c, r, "b", &b, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(b, 2);
    assert_int_equal(gpsc_cfg_ints(c, r, "c", cs, 2, &n, 2, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(cs[1], 2);
    assert_int_equal(gpsc_cfg_int(c, r, "d", &d, GPSC_CFG_REQUIRED), GPSC_ECONFIG);
    assert_int_equal(gpsc_cfg_fail(c, gpsc_cfg_get(r, "b"), "b must be %d", 3), GPSC_ECONFIG);
    assert_int_equal(gpsc_cfg_check_unused(c), 0);
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:1:4: 'a': expected an integer, got 'x'");
    gpsc_cfg_destroy(&c);

    /* gpsc_cfg_fail at a node, and at the document start for NULL */
    c = load("T: 0\n");
    gpsc_cfg_fail(c, gpsc_cfg_get(gpsc_cfg_root(c), "T"), "T must be >= %d", 1);
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:1:4: T must be >= 1");
    gpsc_cfg_destroy(&c);
    c = load("T: 0\n");
    gpsc_cfg_fail(c, NULL, "no conditions");
    assert_string_equal(gpsc_cfg_errmsg(c), "t.yaml:1:1: no conditions");
    gpsc_cfg_destroy(&c);
}

/* --- errors at load -------------------------------------------------------- */

static void test_duplicate_key(void **state)
{
    (void)state;
    expect_load_error("a: 1\nb: 2\na: 3\n",
                      "t.yaml:3:1: duplicate key 'a' (first defined at line 1, column 1)");
    expect_load_error("s:\n  x: 1\n  y: 2\n  x: 3\n",
                      "t.yaml:4:3: duplicate key 's.x' (first defined at line 2, column 3)");
    expect_load_error("s: [{k: 1, k: 2}]\n",
                      "t.yaml:1:12: duplicate key 's[0].k' (first defined at line 1, column 6)");
    /* the first duplicate in document order, also in a large mapping */
    size_t cap = 40000, len = 0;
    char *doc = malloc(cap);
    assert_non_null(doc);
    for (int i = 0; i < 2000; i++)
        len += (size_t)snprintf(doc + len, cap - len, "k%d: %d\n", i, i);
    len += (size_t)snprintf(doc + len, cap - len, "k1500: 0\nk7: 0\n");
    expect_load_error(doc, "t.yaml:2001:1: duplicate key 'k1500' (first defined at line 1501, "
                           "column 1)");
    free(doc);
}

static void test_syntax_errors(void **state)
{
    (void)state;
    expect_load_error("a: [1, 2\n", "t.yaml:2:1: did not find expected ',' or ']' (while parsing "
                                    "a flow sequence at line 1, column 4)");
    /* a tab as indentation */
    expect_load_error("a:\n\tb: 1\n", "t.yaml:2:1: found character that cannot start any token "
                                      "(while scanning for the next token at line 2, column 1)");
    expect_load_error("a: b: c\n", "t.yaml:1:5: mapping values are not allowed in this context");
    expect_load_error("a: \xff\n", "t.yaml:1:4: invalid leading UTF-8 octet (byte 0xFF)");
    expect_load_error("a: \"x\\0y\"\n", "t.yaml:1:4: NUL characters are not allowed");
}

static void test_refused_constructs(void **state)
{
    (void)state;
    expect_load_error("a: &x 1\nb: *x\n", "t.yaml:1:4: anchors (&x) are not supported");
    expect_load_error("b: *x\n", "t.yaml:1:4: aliases (*x) are not supported");
    expect_load_error("a: !!str 5\n", "t.yaml:1:4: tags (!!str) are not supported");
    expect_load_error("- 1\n- 2\n",
                      "t.yaml:1:1: the document root must be a mapping, got a sequence");
    expect_load_error("hello\n", "t.yaml:1:1: the document root must be a mapping, got a scalar");
    expect_load_error("", "t.yaml:1:1: empty document; expected a mapping");
    expect_load_error("# only a comment\n", "t.yaml:1:1: empty document; expected a mapping");
    expect_load_error("---\n", "t.yaml:1:1: empty document; expected a mapping");
    expect_load_error("a: 1\n---\nb: 2\n", "t.yaml:2:1: more than one document in one file");
    expect_load_error("? [a]\n: 1\n", "t.yaml:1:3: mapping keys must be scalars, got a sequence");
}

static void test_deep_nesting(void **state)
{
    (void)state;
    /* 64 levels (root + 63 sequences) load; the 64th '[' is one too many */
    char doc[1024];
    size_t len = 0;
    len += (size_t)snprintf(doc, sizeof doc, "a: ");
    for (int i = 0; i < 63; i++)
        doc[len++] = '[';
    for (int i = 0; i < 63; i++)
        doc[len++] = ']';
    doc[len++] = '\n';
    doc[len] = '\0';
    gpsc_cfg_t *c = load(doc);
    gpsc_cfg_destroy(&c);

    len = 3;
    for (int i = 0; i < 300; i++)
        doc[len++] = '[';
    for (int i = 0; i < 300; i++)
        doc[len++] = ']';
    doc[len] = '\0';
    expect_load_error(doc, "t.yaml:1:67: nesting deeper than 64 levels");

    /* block mappings too */
    char deep[16384];
    len = 0;
    for (int i = 0; i < 100; i++)
        len += (size_t)snprintf(deep + len, sizeof deep - len, "%*sk:\n", 2 * i, "");
    expect_load_error(deep, "t.yaml:65:129: nesting deeper than 64 levels");
}

static void test_limits(void **state)
{
    (void)state;
    char err[256];
    /* larger than 16 MiB: refused before parsing */
    size_t big = (16u << 20) + 1;
    char *doc = malloc(big);
    assert_non_null(doc);
    memset(doc, ' ', big);
    assert_null(gpsc_cfg_load_string(doc, big, "big.yaml", err, sizeof err));
    assert_string_equal(err, "big.yaml: document larger than 16 MiB");
    /* more than 2^20 nodes */
    size_t n = 0;
    n += (size_t)sprintf(doc, "a: [");
    for (int i = 0; i < (1 << 20); i++) {
        doc[n++] = '0';
        doc[n++] = ',';
    }
    doc[n++] = ']';
    assert_null(gpsc_cfg_load_string(doc, n, "many.yaml", err, sizeof err));
    assert_string_equal(err, "many.yaml:1:2097151: document has more than 1048576 nodes");
    free(doc);
    /* text need not be NUL-terminated; NULL with length 0 is an empty doc */
    assert_null(gpsc_cfg_load_string(NULL, 0, NULL, err, sizeof err));
    assert_string_equal(err, "<string>:1:1: empty document; expected a mapping");
    gpsc_cfg_t *c = gpsc_cfg_load_string("a: 1\nb: 2", 4, "t.yaml", err, sizeof err);
    assert_non_null(c);
    assert_int_equal(gpsc_cfg_len(gpsc_cfg_root(c)), 1);
    gpsc_cfg_destroy(&c);
}

static void test_file(void **state)
{
    (void)state;
    char path[] = "/tmp/gpsc_test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char text[] = "T: 5\nbad: [1\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    char err[512], want[600];
    assert_null(gpsc_cfg_load_file(path, err, sizeof err));
    snprintf(want, sizeof want,
             "%s:3:1: did not find expected ',' or ']' (while parsing a flow sequence at line 2, "
             "column 6)",
             path);
    assert_string_equal(err, want);

    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("T: 5\nx: oops\n", f);
    fclose(f);
    gpsc_cfg_t *c = gpsc_cfg_load_file(path, err, sizeof err);
    assert_non_null(c);
    assert_string_equal(gpsc_cfg_name(c), path);
    int T;
    assert_int_equal(gpsc_cfg_int(c, gpsc_cfg_root(c), "T", &T, GPSC_CFG_REQUIRED), 1);
    assert_int_equal(gpsc_cfg_check_unused(c), GPSC_ECONFIG);
    snprintf(want, sizeof want, "%s:2:1: unknown key 'x'", path);
    assert_string_equal(gpsc_cfg_errmsg(c), want);
    gpsc_cfg_destroy(&c);
    unlink(path);

    assert_null(gpsc_cfg_load_file("/nonexistent/gpsc.yaml", err, sizeof err));
    assert_string_equal(err, "/nonexistent/gpsc.yaml: cannot open: No such file or directory");
    /* a tiny err buffer is fine */
    char tiny[8];
    assert_null(gpsc_cfg_load_string("- 1", 3, "t.yaml", tiny, sizeof tiny));
    assert_string_equal(tiny, "t.yaml:");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_document),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_unused_parent_reported_once),
        cmocka_unit_test(test_wrong_type),
        cmocka_unit_test(test_range),
        cmocka_unit_test(test_number_forms),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_bad_enum),
        cmocka_unit_test(test_list_length),
        cmocka_unit_test(test_errors_keep_first_and_getters_work),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_refused_constructs),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
