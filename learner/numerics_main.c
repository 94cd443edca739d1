/* gpsc-numerics — check the learner's kernels against reference vectors.
 *
 *   gpsc-numerics check FILE.json...   compute and compare, one line a file
 *   gpsc-numerics eval FILE.json       print a vector file whose outputs
 *                                      are the computed ones
 *   gpsc-numerics kinds                list the kinds this build handles */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/la.h"
#include "common/vecfile.h"
#include "learner/kinds.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: gpsc-numerics check [-v] FILE.json...\n"
               "       gpsc-numerics eval FILE.json\n"
               "       gpsc-numerics kinds\n"
               "\n"
               "check  computes every output of each reference-vector file from its\n"
               "       inputs (dispatching on \"kind\"), compares it with the file's\n"
               "       outputs under |got-exp| <= atol + rtol*|exp|, prints one line per\n"
               "       file with the worst absolute and relative error of each output,\n"
               "       and exits 1 if any file fails (2 on a usage error).\n"
               "       -v prints the first failing element of each failing output.\n"
               "eval   prints the file back with the computed outputs, as JSON in the\n"
               "       same format (so `check` accepts it).\n");
}

/* Computes the outputs of vector file `vf`; returns NULL with err set. */
static gpsc_vecset_t *compute(const gpsc_vecfile_t *vf, char *err, size_t errsz)
{
    gpsc_kind_fn fn = gpsc_kind_lookup(vf->kind);
    if (!fn) {
        snprintf(err, errsz, "%s: unknown kind \"%s\"", vf->path, vf->kind);
        return NULL;
    }
    gpsc_vecset_t *out = gpsc_vecset_new();
    if (!out) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    char sub[512] = "";
    int rc = fn(vf->inputs, out, sub, sizeof sub);
    if (rc) {
        snprintf(err, errsz, "%s: %s: %s", vf->path, gpsc_strerror(rc),
                 sub[0] ? sub : "(no detail)");
        gpsc_vecset_destroy(&out);
    }
    return out;
}

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Compares one expected output with the computed one; appends a summary to
 * line. Returns true on pass. */
static bool check_one(const gpsc_value_t *exp, const gpsc_vecset_t *got, double rtol, double atol,
                      char *line, size_t linesz, bool verbose)
{
    size_t len = strlen(line);
    char *p = line + len;
    size_t rem = linesz - len;
    const gpsc_value_t *g = gpsc_vecset_find(got, exp->name);
    if (!g) {
        snprintf(p, rem, " %s=MISSING", exp->name);
        return false;
    }
    if (exp->type == GPSC_V_ARRAY) {
        if (g->type != GPSC_V_ARRAY || g->ndim != exp->ndim ||
            memcmp(g->shape, exp->shape, sizeof(int) * (size_t)exp->ndim) != 0) {
            snprintf(p, rem, " %s=SHAPE", exp->name);
            return false;
        }
        gpsc_cmp_t c;
        gpsc_vec_compare(&c, g->data, exp->data, exp->n, rtol, atol);
        snprintf(p, rem, " %s%s(abs %.1e rel %.1e)", exp->name, c.pass ? "" : "=FAIL",
                 c.worst_abs, c.worst_rel);
        if (!c.pass && verbose)
            fprintf(stderr, "  %s[%zu]: got %.17g expected %.17g\n", exp->name, c.worst_index,
                    g->data[c.worst_index], exp->data[c.worst_index]);
        return c.pass;
    }
    if (exp->type == GPSC_V_SCALAR) {
        if (g->type == GPSC_V_INT) {
            /* counts must match exactly */
            bool ok = (double)g->ival == exp->data[0];
            snprintf(p, rem, " %s%s(%lld)", exp->name, ok ? "" : "=FAIL", g->ival);
            if (!ok && verbose)
                fprintf(stderr, "  %s: got %lld expected %.17g\n", exp->name, g->ival,
                        exp->data[0]);
            return ok;
        }
        if (g->type != GPSC_V_SCALAR) {
            snprintf(p, rem, " %s=TYPE", exp->name);
            return false;
        }
        gpsc_cmp_t c;
        gpsc_vec_compare(&c, g->data, exp->data, 1, rtol, atol);
        snprintf(p, rem, " %s%s(abs %.1e rel %.1e)", exp->name, c.pass ? "" : "=FAIL",
                 c.worst_abs, c.worst_rel);
        if (!c.pass && verbose)
            fprintf(stderr, "  %s: got %.17g expected %.17g\n", exp->name, g->data[0],
                    exp->data[0]);
        return c.pass;
    }
    snprintf(p, rem, " %s=UNSUPPORTED", exp->name);
    return false;
}

static int cmd_check(int argc, char **argv)
{
    bool verbose = false;
    int nfiles = 0, nfail = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
            continue;
        }
        nfiles++;
        char err[1024];
        gpsc_vecfile_t *vf = gpsc_vecfile_load(argv[i], err, sizeof err);
        if (!vf) {
            printf("FAIL %s: %s\n", base(argv[i]), err);
            nfail++;
            continue;
        }
        gpsc_vecset_t *got = compute(vf, err, sizeof err);
        if (!got) {
            printf("FAIL %s: %s\n", base(argv[i]), err);
            nfail++;
            gpsc_vecfile_destroy(&vf);
            continue;
        }
        char line[4096] = "";
        bool ok = true;
        for (size_t k = 0; k < gpsc_vecset_count(vf->outputs); k++)
            ok &= check_one(gpsc_vecset_at(vf->outputs, k), got, vf->rtol, vf->atol, line,
                            sizeof line, verbose);
        printf("%s %s [%s]%s\n", ok ? "PASS" : "FAIL", base(argv[i]), vf->kind, line);
        nfail += !ok;
        gpsc_vecset_destroy(&got);
        gpsc_vecfile_destroy(&vf);
    }
    if (nfiles == 0) {
        usage(stderr);
        return 2;
    }
    printf("%d passed, %d failed\n", nfiles - nfail, nfail);
    return nfail ? 1 : 0;
}

static int cmd_eval(int argc, char **argv)
{
    if (argc != 1) {
        usage(stderr);
        return 2;
    }
    char err[1024];
    gpsc_vecfile_t *vf = gpsc_vecfile_load(argv[0], err, sizeof err);
    if (!vf) {
        fprintf(stderr, "gpsc-numerics: %s\n", err);
        return 1;
    }
    gpsc_vecset_t *got = compute(vf, err, sizeof err);
    if (!got) {
        fprintf(stderr, "gpsc-numerics: %s\n", err);
        gpsc_vecfile_destroy(&vf);
        return 1;
    }
    char num[40];
    printf("{\"kind\": \"%s\", \"case\": \"%s\",\n \"inputs\": ", vf->kind, vf->casename);
    gpsc_vecset_write_json(stdout, vf->inputs, 1);
    printf(",\n \"outputs\": ");
    gpsc_vecset_write_json(stdout, got, 1);
    gpsc_fmt_double(num, sizeof num, vf->rtol);
    printf(",\n \"rtol\": %s, ", num);
    gpsc_fmt_double(num, sizeof num, vf->atol);
    printf("\"atol\": %s}\n", num);
    gpsc_vecset_destroy(&got);
    gpsc_vecfile_destroy(&vf);
    return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
    gpsc_la_set_threads(1);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "check") == 0)
        return cmd_check(argc - 2, argv + 2);
    if (strcmp(argv[1], "eval") == 0)
        return cmd_eval(argc - 2, argv + 2);
    if (strcmp(argv[1], "kinds") == 0) {
        const char *all[] = {"cost_action", "cost_fk", "cost_sum", "cost_expand", "gmm_em",
                             "gmm_prior", "niw_regression", "dynamics_fit", "policy_linearize",
                             "sstep_targets", "lqr_backward", "traj_forward", "traj_kl", "cstep",
                             "laplace_cost", "step_adjust", "init_lqr", NULL};
        for (int i = 0; all[i]; i++)
            printf("%-18s %s\n", all[i], gpsc_kind_lookup(all[i]) ? "yes" : "not built");
        return 0;
    }
    fprintf(stderr, "gpsc-numerics: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
