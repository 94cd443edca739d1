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
    size_t kern = maxz(gpsc_traj_quad_build_scratch_size(d), gpsc_lqr_backward_scratch_size(d));
    kern = maxz(kern, maxz(gpsc_traj_forward_scratch_size(d), gpsc_traj_kl_scratch_size(d)));
    /* two quads (p^, pi_bar), the extra term, the marginals, then the kernels */
    return 2 * need(gpsc_traj_quad_doubles(d)) + need(T * dXU * dXU) + need(T * dXU) +
           need(T * dXU) + need(T * dXU * dXU) + kern;
}

static int check_cfg(const gpsc_cstep_cfg_t *c)
{
    if (!isfinite(c->base_kl_step) || !isfinite(c->step_mult) || !isfinite(c->eta_init) ||
        !isfinite(c->min_eta) || !isfinite(c->max_eta) || !isfinite(c->del0))
        return GPSC_ENONFINITE;
    if (!(c->base_kl_step > 0) || !(c->step_mult > 0) || !(c->eta_init > 0) || !(c->min_eta > 0) ||
        !(c->max_eta >= c->min_eta) || !(c->del0 > 0) || c->max_iterations < 1)
        return GPSC_EINVAL;
    return 0;
}

int gpsc_gps2014_cstep(gpsc_traj_lg_t *out, gpsc_cstep_result_t *res, const gpsc_cstep_cfg_t *cfg,
                       const gpsc_gps2014_problem_t *p, gpsc_traj_dims_t d, gpsc_arena_t *scratch)
{
    if (!out || !res || !cfg || !p || !p->lambda || !scratch || !gpsc_traj_dims_ok(d))
        return GPSC_EINVAL;
    res->iterations = 0;
    res->n_bumps = 0;
    res->converged = false;
    res->kl = NAN;
    res->eta = cfg->eta_init;
    res->kl_target = cfg->base_kl_step * cfg->step_mult * d.T;
    int rc = check_cfg(cfg);
    if (rc) return rc;
    size_t dXU = (size_t)d.dX + (size_t)d.dU, T = (size_t)d.T, nM = dXU * dXU;
    bool any = false;
    for (size_t t = 0; t < T; t++) {
        if (!isfinite(p->lambda[t])) return GPSC_ENONFINITE;
        if (p->lambda[t] < 0.0) return GPSC_EINVAL;
        any = any || p->lambda[t] > 0.0;
    }

    size_t mark = gpsc_arena_mark(scratch);
    double *qpm = take(scratch, gpsc_traj_quad_doubles(d));
    double *qbm = take(scratch, gpsc_traj_quad_doubles(d));
    double *eCm = take(scratch, T * nM);
    double *ecv = take(scratch, T * dXU);
    double *mu = res->mu ? res->mu : take(scratch, T * dXU);
    double *sigma = res->sigma ? res->sigma : take(scratch, T * nM);
    if (!qpm || !qbm || !eCm || !ecv || !mu || !sigma) {
        gpsc_arena_free_to(scratch, mark);
        return GPSC_ENOSPC;
    }

    /* -log p^ (the KL of the constraint and the surrogate's reference) and
     * lambda_t times -log pi_bar (the extra term) do not depend on eta */
    gpsc_traj_quad_t qprev, qpol;
    gpsc_traj_quad_layout(&qprev, qpm, d);
    gpsc_traj_quad_layout(&qpol, qbm, d);
    rc = gpsc_traj_quad_build(&qprev, &p->prev, d, scratch);
    if (!rc && any) rc = gpsc_traj_quad_build(&qpol, &p->pol, d, scratch);
    if (rc) {
        gpsc_arena_free_to(scratch, mark);
        return rc;
    }
    if (any)
        for (size_t t = 0; t < T; t++) {
            double l = p->lambda[t];
            for (size_t i = 0; i < nM; i++)
                eCm[t * nM + i] = l * qpol.M[t * nM + i];
            for (size_t i = 0; i < dXU; i++)
                ecv[t * dXU + i] = l * qpol.v[t * dXU + i];
        }
    /* all lambda_t = 0: no extra term at all, so this is gpsc_cstep exactly */
    gpsc_lqr_problem_t lp = {.Fm = p->dyn.Fm,
                             .fv = p->dyn.fv,
                             .Cm = p->Cm,
                             .cv = p->cv,
                             .pref = &qprev,
                             .extra_Cm = any ? eCm : NULL,
                             .extra_cv = any ? ecv : NULL};
    rc = gpsc_lqr_problem_check(&lp, d);
    if (!rc) rc = gpsc_traj_dyn_check(&p->dyn, d);
    if (rc) {
        gpsc_arena_free_to(scratch, mark);
        return rc;
    }

    /* the dual search of cstep.c on eta (seed 000 B.1, reference 5.12) */
    double kl_target = res->kl_target;
    double eta = cfg->eta_init, min_eta = cfg->min_eta, max_eta = cfg->max_eta;
    for (int itr = 0; itr < cfg->max_iterations; itr++) {
        double eta_used;
        int nb;
        rc = gpsc_lqr_backward_unchecked(out, &eta_used, &nb, &lp, eta, cfg->del0, d, scratch);
        res->n_bumps += nb;
        if (rc) break;
        eta = eta_used;
        /* the entropy temperature 1 + lambda_t / eta of the pass's eta */
        if (any && (rc = gpsc_gps2014_temper(out, p->lambda, eta, d)) != 0) break;
        rc = gpsc_traj_forward_unchecked(mu, sigma, &p->dyn, out, d, scratch);
        double kl = NAN;
        if (!rc) rc = gpsc_traj_kl_unchecked(NULL, &kl, mu, sigma, out, &qprev, d, scratch);
        if (rc) break;
        if (res->eta_trace) res->eta_trace[itr] = eta;
        if (res->kl_trace) res->kl_trace[itr] = kl;
        res->iterations = itr + 1;
        res->kl = kl;

        double con = kl - kl_target;
        if (fabs(con) < 0.1 * kl_target) {
            res->converged = true;
            break;
        }
        /* bracketing step: the KL to p^ falls as eta grows */
        double next;
        if (con < 0.0) {
            max_eta = eta;
            double geom = sqrt(min_eta * max_eta);
            next = geom > 0.1 * max_eta ? geom : 0.1 * max_eta;
        } else {
            min_eta = eta;
            double geom = sqrt(min_eta * max_eta);
            next = geom < 10.0 * min_eta ? geom : 10.0 * min_eta;
        }
        /* the bracket cannot move (eta at min_eta with the KL below its
         * target: the lambda_t terms keep p closer to p^ than the budget
         * even at the smallest eta, or at max_eta above it): every further
         * pass would repeat this one */
        bool stuck = next == eta;
        eta = next;
        if (stuck) break;
    }
    res->eta = eta;
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
