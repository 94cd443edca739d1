/* gps2014.c — the trajectory step of GPS 2014 with per-step policy KL
 * terms (see gps2014.h; seed 003 appendix A). */
#include "gps2014.h"

#include <math.h>
#include <string.h>

#include "common/error.h"
#include "common/la.h"
#include "learner/lqr.h"

static size_t need(size_t n)
{
    return gpsc_arena_need(n * sizeof(double));
}

static double *take(gpsc_arena_t *a, size_t n)
{
    return gpsc_arena_alloc(a, n * sizeof(double));
}

static size_t maxz(size_t a, size_t b)
{
    return a > b ? a : b;
}

int gpsc_gps2014_temper(gpsc_traj_lg_t *c, const double *lambda, double eta, gpsc_traj_dims_t d)
{
    if (!c || !c->pol_covar || !c->inv_pol_covar || !c->chol_pol_covar || !lambda ||
        !gpsc_traj_dims_ok(d))
        return GPSC_EINVAL;
    if (!isfinite(eta)) return GPSC_ENONFINITE;
    if (!(eta > 0.0)) return GPSC_EINVAL;
    int dU = d.dU;
    size_t n = (size_t)dU * (size_t)dU;
    for (int t = 0; t < d.T; t++) {
        if (!isfinite(lambda[t])) return GPSC_ENONFINITE;
        if (lambda[t] < 0.0) return GPSC_EINVAL;
        if (lambda[t] == 0.0) continue;
        /* the entropy weight 1 + lambda_t / eta of seed 003 A (gps2014.h) */
        double w = 1.0 + lambda[t] / eta;
        double *S = c->pol_covar + (size_t)t * n, *P = c->inv_pol_covar + (size_t)t * n;
        for (size_t i = 0; i < n; i++) {
            S[i] *= w;
            P[i] /= w;
        }
        int rc = gpsc_la_chol(c->chol_pol_covar + (size_t)t * n, S, dU);
        if (rc == GPSC_ESINGULAR) rc = GPSC_ENOTPD;
        if (rc) return rc;
    }
    return 0;
}

size_t gpsc_gps2014_cstep_scratch_size(gpsc_traj_dims_t d)
{
    size_t dXU = (size_t)d.dX + (size_t)d.dU, T = (size_t)d.T;
    /* pi_bar's quad and the extra term, then gpsc_cstep (or the quad build) */
    return need(gpsc_traj_quad_doubles(d)) + need(T * dXU * dXU) + need(T * dXU) +
           maxz(gpsc_traj_quad_build_scratch_size(d), gpsc_cstep_scratch_size(d));
}

/* gpsc_cstep's per-pass hook: the entropy temperature 1 + lambda_t / eta */
typedef struct temper_ctx {
    const double *lambda; /* (T) */
    gpsc_traj_dims_t d;
} temper_ctx_t;

static int temper_pass(void *ud, gpsc_traj_lg_t *out, double eta)
{
    const temper_ctx_t *t = ud;
    return gpsc_gps2014_temper(out, t->lambda, eta, t->d);
}

int gpsc_gps2014_cstep(gpsc_traj_lg_t *out, gpsc_cstep_result_t *res, const gpsc_cstep_cfg_t *cfg,
                       const gpsc_gps2014_problem_t *p, gpsc_traj_dims_t d, gpsc_arena_t *scratch)
{
    if (!out || !res || !cfg || !p || !p->lambda || !scratch || !gpsc_traj_dims_ok(d))
        return GPSC_EINVAL;
    size_t dXU = (size_t)d.dX + (size_t)d.dU, T = (size_t)d.T, nM = dXU * dXU;
    bool any = false;
    for (size_t t = 0; t < T; t++) {
        if (!isfinite(p->lambda[t])) return GPSC_ENONFINITE;
        if (p->lambda[t] < 0.0) return GPSC_EINVAL;
        any = any || p->lambda[t] > 0.0;
    }

    size_t mark = gpsc_arena_mark(scratch);
    double *qbm = take(scratch, gpsc_traj_quad_doubles(d));
    double *eCm = take(scratch, T * nM);
    double *ecv = take(scratch, T * dXU);
    if (!qbm || !eCm || !ecv) {
        gpsc_arena_free_to(scratch, mark);
        return GPSC_ENOSPC;
    }
    /* lambda_t times -log pi_bar (the extra term) does not depend on eta */
    if (any) {
        gpsc_traj_quad_t qpol;
        gpsc_traj_quad_layout(&qpol, qbm, d);
        int rc = gpsc_traj_quad_build(&qpol, &p->pol, d, scratch);
        if (rc) {
            gpsc_arena_free_to(scratch, mark);
            return rc;
        }
        for (size_t t = 0; t < T; t++) {
            double l = p->lambda[t];
            for (size_t i = 0; i < nM; i++)
                eCm[t * nM + i] = l * qpol.M[t * nM + i];
            for (size_t i = 0; i < dXU; i++)
                ecv[t * dXU + i] = l * qpol.v[t * dXU + i];
        }
    }
    /* the dual search of gpsc_cstep against p^ (seed 000 B.1, reference
     * 5.12) with the tempering after each backward pass; all lambda_t = 0:
     * no extra term and no hook, so this is gpsc_cstep exactly */
    temper_ctx_t tc = {p->lambda, d};
    gpsc_cstep_problem_t cp = {.dyn = p->dyn,
                               .Cm = p->Cm,
                               .cv = p->cv,
                               .pref = p->prev,
                               .extra_Cm = any ? eCm : NULL,
                               .extra_cv = any ? ecv : NULL,
                               .post_pass = any ? temper_pass : NULL,
                               .post_pass_ud = &tc,
                               .stop_when_stuck = true};
    int rc = gpsc_cstep(out, res, cfg, &cp, d, scratch);
    gpsc_arena_free_to(scratch, mark);
    return rc;
}

int gpsc_gps2014_dual_step(double *lambda, const double *kl_t, double rate, int T)
{
    int skipped = 0;
    for (int t = 0; t < T; t++) {
        if (!isfinite(kl_t[t])) {
            skipped++;
            continue;
        }
        double v = lambda[t] + rate * kl_t[t];
        lambda[t] = v > 0.0 ? v : 0.0;
    }
    return skipped;
}
