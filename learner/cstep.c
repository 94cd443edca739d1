/* cstep.c — KL-constrained C-step with a bracketing search on eta (see
 * cstep.h; seed 000 B.1, reference README 5.12). */
#include "cstep.h"

#include <math.h>

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

static size_t max3(size_t a, size_t b, size_t c)
{
    size_t m = a > b ? a : b;
    return m > c ? m : c;
}

size_t gpsc_cstep_scratch_size(gpsc_traj_dims_t d)
{
    size_t dXU = (size_t)d.dX + (size_t)d.dU, T = (size_t)d.T;
    /* the reference's quad, the marginals, then the largest kernel */
    return need(gpsc_traj_quad_doubles(d)) + need(T * dXU) + need(T * dXU * dXU) +
           max3(gpsc_traj_quad_build_scratch_size(d), gpsc_lqr_backward_scratch_size(d),
                gpsc_traj_forward_scratch_size(d) > gpsc_traj_kl_scratch_size(d)
                    ? gpsc_traj_forward_scratch_size(d)
                    : gpsc_traj_kl_scratch_size(d));
}

static bool pos_finite(double x)
{
    return isfinite(x) && x > 0.0;
}

static int check_cfg(const gpsc_cstep_cfg_t *c)
{
    if (!isfinite(c->base_kl_step) || !isfinite(c->step_mult) || !isfinite(c->eta_init) ||
        !isfinite(c->min_eta) || !isfinite(c->max_eta) || !isfinite(c->del0))
        return GPSC_ENONFINITE;
    if (!pos_finite(c->base_kl_step) || !pos_finite(c->step_mult) || !pos_finite(c->eta_init) ||
        !pos_finite(c->min_eta) || !(c->max_eta >= c->min_eta) || !pos_finite(c->del0) ||
        c->max_iterations < 1)
        return GPSC_EINVAL;
    return 0;
}

int gpsc_cstep(gpsc_traj_lg_t *out, gpsc_cstep_result_t *res, const gpsc_cstep_cfg_t *cfg,
               const gpsc_cstep_problem_t *p, gpsc_traj_dims_t d, gpsc_arena_t *scratch)
{
    if (!out || !res || !cfg || !p || !scratch || !gpsc_traj_dims_ok(d)) return GPSC_EINVAL;
    res->iterations = 0;
    res->n_bumps = 0;
    res->converged = false;
    res->kl = NAN;
    res->eta = cfg->eta_init;
    res->kl_target = cfg->base_kl_step * cfg->step_mult * d.T;
    int rc = check_cfg(cfg);
    if (rc) return rc;
    size_t dXU = (size_t)d.dX + (size_t)d.dU, T = (size_t)d.T;

    size_t mark = gpsc_arena_mark(scratch);
    double *qmem = take(scratch, gpsc_traj_quad_doubles(d));
    double *mu = res->mu ? res->mu : take(scratch, T * dXU);
    double *sigma = res->sigma ? res->sigma : take(scratch, T * dXU * dXU);
    if (!qmem || !mu || !sigma) {
        gpsc_arena_free_to(scratch, mark);
        return GPSC_ENOSPC;
    }

    /* -log pi_ref does not depend on eta: build it once (PKLm, PKLv and the
     * KL's M_prev, v_prev, c_prev, logdet_prev are the same quad) */
    gpsc_traj_quad_t pref;
    gpsc_traj_quad_layout(&pref, qmem, d);
    rc = gpsc_traj_quad_build(&pref, &p->pref, d, scratch);
    if (rc) {
        gpsc_arena_free_to(scratch, mark);
        return rc;
    }
    gpsc_lqr_problem_t lp = {.Fm = p->dyn.Fm,
                             .fv = p->dyn.fv,
                             .Cm = p->Cm,
                             .cv = p->cv,
                             .pref = &pref,
                             .extra_Cm = p->extra_Cm,
                             .extra_cv = p->extra_cv};

    /* the inputs are checked once here; the loop runs the unchecked
     * kernels (which still report non-finite values they produce) */
    rc = gpsc_lqr_problem_check(&lp, d);
    if (!rc) rc = gpsc_traj_dyn_check(&p->dyn, d);
    if (rc) {
        gpsc_arena_free_to(scratch, mark);
        return rc;
    }

    double kl_target = res->kl_target;
    double eta = cfg->eta_init, min_eta = cfg->min_eta, max_eta = cfg->max_eta;
    for (int itr = 0; itr < cfg->max_iterations; itr++) {
        /* the backward pass may raise eta (non-PD fallback) */
        double eta_used;
        int nb;
        rc = gpsc_lqr_backward_unchecked(out, &eta_used, &nb, &lp, eta, cfg->del0, d, scratch);
        res->n_bumps += nb;
        if (rc) break;
        eta = eta_used;
        if (p->post_pass && (rc = p->post_pass(p->post_pass_ud, out, eta)) != 0) break;
        rc = gpsc_traj_forward_unchecked(mu, sigma, &p->dyn, out, d, scratch);
        double kl = NAN;
        if (!rc) rc = gpsc_traj_kl_unchecked(NULL, &kl, mu, sigma, out, &pref, d, scratch);
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
        /* bracketing step on the dual: the KL falls as eta grows */
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
        bool stuck = next == eta;
        eta = next;
        if (stuck && p->stop_when_stuck) break;
    }
    res->eta = eta;
    gpsc_arena_free_to(scratch, mark);
    return rc;
}
