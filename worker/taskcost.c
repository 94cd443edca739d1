/* taskcost.c — cost values on a trajectory (see taskcost.h). */
#include "worker/taskcost.h"

#include <math.h>

double gpsc_taskcost_ramp(gpsc_exp_ramp_t ramp, double final_mult, int t, int T)
{
    double r = 1.0;
    double f = (double)(t + 1) / (double)T;
    switch (ramp) {
    case GPSC_EXP_RAMP_CONSTANT:
        r = 1.0;
        break;
    case GPSC_EXP_RAMP_LINEAR:
        r = f;
        break;
    case GPSC_EXP_RAMP_QUADRATIC:
        r = f * f;
        break;
    case GPSC_EXP_RAMP_FINAL_ONLY:
        r = t == T - 1 ? 1.0 : 0.0;
        break;
    }
    if (t == T - 1) r *= final_mult;
    return r;
}

double gpsc_taskcost_penalty(const gpsc_exp_cost_t *term, const double *d, const double *W, int n)
{
    double s = 0.0, a = 0.0;
    for (int p = 0; p < n; p++) {
        double wd = W[p] * d[p];
        s += wd * wd;
        a += W[p] * d[p] * d[p];
    }
    switch (term->norm) {
    case GPSC_EXP_NORM_L1L2:
        return 0.5 * term->l2 * a + term->l1 * sqrt(term->alpha + s);
    case GPSC_EXP_NORM_LOGL2:
        return 0.5 * term->l2 * a + 0.5 * term->l1 * log(term->alpha + s);
    case GPSC_EXP_NORM_L2:
        return 0.5 * term->l2 * a;
    }
    return 0.0;
}

int gpsc_taskcost_scratch(const gpsc_exp_cost_t *terms, int nterms, int P)
{
    int m = P > 1 ? P : 1;
    for (int i = 0; i < nterms; i++)
        if (terms[i].type == GPSC_EXP_COST_STATE && terms[i].n_indices > m) m = terms[i].n_indices;
    return 2 * m;
}

void gpsc_taskcost_eval(double *costs, const gpsc_exp_cost_t *terms, int nterms, const double *x,
                        const double *u, const double *ee, const double *target, int T, int dX,
                        int dU, int P, double *scratch)
{
    int half = gpsc_taskcost_scratch(terms, nterms, P) / 2;
    double *d = scratch, *W = scratch + half;
    for (int t = 0; t < T; t++) {
        const double *xt = x + (size_t)t * (size_t)dX;
        const double *ut = u + (size_t)t * (size_t)dU;
        for (int i = 0; i < nterms; i++) {
            const gpsc_exp_cost_t *c = &terms[i];
            double l = 0.0;
            if (c->type == GPSC_EXP_COST_ACTION) {
                double s = 0.0;
                for (int j = 0; j < dU; j++)
                    s += c->wu.v[j] * ut[j] * ut[j];
                l = 0.5 * s;
            } else {
                double r = gpsc_taskcost_ramp(c->ramp, c->wp_final_multiplier, t, T);
                int n;
                if (c->type == GPSC_EXP_COST_FK) {
                    n = P;
                    const double *et = ee + (size_t)t * (size_t)P;
                    for (int p = 0; p < P; p++)
                        d[p] = et[p] - target[p];
                } else {
                    n = c->n_indices;
                    for (int p = 0; p < n; p++)
                        d[p] = xt[c->indices[p]] - c->target.v[p];
                }
                for (int p = 0; p < n; p++)
                    W[p] = c->wp.v[p] * r;
                l = gpsc_taskcost_penalty(c, d, W, n);
            }
            costs[(size_t)t * (size_t)nterms + (size_t)i] = c->weight * l;
        }
    }
}
