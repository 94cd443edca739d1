#include "cost.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/la.h"

/* bytes the arena consumes for n doubles (0 doubles still take a slot) */
static size_t need_d(size_t n)
{
    return gpsc_arena_need(n ? n * sizeof(double) : 1);
}

static double *take_d(gpsc_arena_t *a, size_t n)
{
    return gpsc_arena_alloc(a, n ? n * sizeof(double) : 1);
}

static void errf(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || !errsz) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

int gpsc_cost_ramp_parse(gpsc_ramp_t *out, const char *name)
{
    static const char *const names[] = {"constant", "linear", "quadratic", "final_only"};
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, names[i]) == 0) {
            *out = (gpsc_ramp_t)i;
            return 0;
        }
    return GPSC_EINVAL;
}

int gpsc_cost_norm_parse(gpsc_norm_t *out, const char *name)
{
    static const char *const names[] = {"l1l2", "logl2", "l2"};
    for (int i = 0; i < 3; i++)
        if (name && strcmp(name, names[i]) == 0) {
            *out = (gpsc_norm_t)i;
            return 0;
        }
    return GPSC_EINVAL;
}

double gpsc_cost_ramp(gpsc_ramp_t ramp, double final_mult, int t, int T)
{
    double r;
    switch (ramp) {
    case GPSC_RAMP_LINEAR:
        r = (double)(t + 1) / (double)T;
        break;
    case GPSC_RAMP_QUADRATIC:
        r = (double)(t + 1) / (double)T;
        r = r * r;
        break;
    case GPSC_RAMP_FINAL_ONLY:
        r = t == T - 1 ? 1.0 : 0.0;
        break;
    case GPSC_RAMP_CONSTANT:
    default:
        r = 1.0;
        break;
    }
    if (t == T - 1) r *= final_mult;
    return r;
}

void gpsc_cost_exp_zero(gpsc_cost_exp_t *c)
{
    size_t T = (size_t)c->T, dX = (size_t)c->dX, dU = (size_t)c->dU;
    gpsc_la_zero(c->l, T);
    gpsc_la_zero(c->lx, T * dX);
    gpsc_la_zero(c->lu, T * dU);
    gpsc_la_zero(c->lxx, T * dX * dX);
    gpsc_la_zero(c->luu, T * dU * dU);
    gpsc_la_zero(c->lux, T * dU * dX);
}

void gpsc_cost_action(gpsc_cost_exp_t *out, double weight, const double *u, const double *wu)
{
    int T = out->T, dU = out->dU;
    for (int t = 0; t < T; t++) {
        const double *ut = u + (size_t)t * dU;
        /* l = 0.5 sum_i wu_i u_i^2 */
        double s = 0.0;
        for (int i = 0; i < dU; i++)
            s += wu[i] * (ut[i] * ut[i]);
        out->l[t] += weight * (0.5 * s);
        for (int i = 0; i < dU; i++) {
            out->lu[(size_t)t * dU + i] += weight * (wu[i] * ut[i]);
            out->luu[((size_t)t * dU + i) * dU + i] += weight * wu[i];
        }
    }
}

/* The penalty of one step in the space of d (P entries): value, gradient g
 * (P) and Hessian H (P x P, exactly symmetric). W and d are inputs.
 * README 5.1; the logl2 Hessian is the exact one (correction q2). */
static double penalty_step(double *g, double *H, const gpsc_penalty_t *pen, const double *W,
                           const double *d, int P)
{
    double s = 0.0, a = 0.0;
    for (int p = 0; p < P; p++) {
        double wd = W[p] * d[p];
        s += wd * wd;
        a += W[p] * (d[p] * d[p]);
    }
    double l = 0.5 * pen->l2 * a;
    /* q = rho for l1l2, alpha + s for logl2; `c` multiplies the rank-one
     * part of H: 1/rho^3 and 2/q^2 */
    double q = 1.0, c = 0.0, lp = 0.0;
    bool has_l1 = pen->norm != GPSC_NORM_L2;
    if (pen->norm == GPSC_NORM_L1L2) {
        q = sqrt(pen->alpha + s);
        lp = pen->l1 * q;
        c = 1.0 / (q * q * q);
    } else if (pen->norm == GPSC_NORM_LOGL2) {
        q = pen->alpha + s;
        lp = 0.5 * pen->l1 * log(q);
        c = 2.0 / (q * q);
    }
    l += lp;
    for (int p = 0; p < P; p++) {
        double w2d = (W[p] * W[p]) * d[p];
        g[p] = pen->l2 * (W[p] * d[p]);
        if (has_l1) g[p] += pen->l1 * (w2d / q);
        for (int r = 0; r <= p; r++) {
            double h = 0.0;
            if (has_l1) {
                double w2dr = (W[r] * W[r]) * d[r];
                h = -(w2d * w2dr) * c;
                if (r == p) h += (W[p] * W[p]) / q;
                h *= pen->l1;
            }
            if (r == p) h += pen->l2 * W[p];
            H[p * P + r] = h;
            H[r * P + p] = h;
        }
    }
    return l;
}

size_t gpsc_cost_fk_scratch_size(int P, int dQ)
{
    size_t p = (size_t)P, q = (size_t)dQ;
    return 3 * need_d(p) + need_d(p * p) + need_d(p * q) + need_d(q * q);
}

int gpsc_cost_fk(gpsc_cost_exp_t *out, double weight, const gpsc_penalty_t *pen, const double *ee,
                 const double *jac, const double *target, const double *wp, const int *joint_idx,
                 int P, int dQ, gpsc_arena_t *arena)
{
    int T = out->T, dX = out->dX;
    size_t mark = gpsc_arena_mark(arena);
    double *W = take_d(arena, (size_t)P);
    double *d = take_d(arena, (size_t)P);
    double *g = take_d(arena, (size_t)P);
    double *H = take_d(arena, (size_t)P * P);
    double *HJ = take_d(arena, (size_t)P * dQ);
    double *blk = take_d(arena, (size_t)dQ * dQ);
    if (!W || !d || !g || !H || !HJ || !blk) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    for (int t = 0; t < T; t++) {
        double r = gpsc_cost_ramp(pen->ramp, pen->final_mult, t, T);
        for (int p = 0; p < P; p++) {
            W[p] = wp[p] * r;
            d[p] = ee[(size_t)t * P + p] - target[p];
        }
        double l = penalty_step(g, H, pen, W, d, P);
        out->l[t] += weight * l;

        /* chain rule through the Jacobian J (P x dQ): lx_q = J^T g and
         * lxx_qq = J^T H J (ee's second derivatives taken as zero) */
        const double *J = jac + (size_t)t * P * dQ;
        double *lx = out->lx + (size_t)t * dX;
        double *lxx = out->lxx + (size_t)t * dX * dX;
        gpsc_la_gemm(HJ, H, J, P, dQ, P, false, false, 1.0, 0.0);
        gpsc_la_gemm(blk, J, HJ, dQ, dQ, P, true, false, 1.0, 0.0);
        gpsc_la_sym(blk, dQ);
        for (int i = 0; i < dQ; i++) {
            double gi = 0.0;
            for (int p = 0; p < P; p++)
                gi += J[(size_t)p * dQ + i] * g[p];
            lx[joint_idx[i]] += weight * gi;
            for (int j = 0; j < dQ; j++)
                lxx[(size_t)joint_idx[i] * dX + joint_idx[j]] += weight * blk[i * dQ + j];
        }
    }
    gpsc_arena_free_to(arena, mark);
    return 0;
}

size_t gpsc_cost_state_scratch_size(int n)
{
    return 3 * need_d((size_t)n) + need_d((size_t)n * n);
}

int gpsc_cost_state(gpsc_cost_exp_t *out, double weight, const gpsc_penalty_t *pen, const double *x,
                    const double *target, const double *wp, const int *idx, int n,
                    gpsc_arena_t *arena)
{
    int T = out->T, dX = out->dX;
    size_t mark = gpsc_arena_mark(arena);
    double *W = take_d(arena, (size_t)n);
    double *d = take_d(arena, (size_t)n);
    double *g = take_d(arena, (size_t)n);
    double *H = take_d(arena, (size_t)n * n);
    if (!W || !d || !g || !H) {
        gpsc_arena_free_to(arena, mark);
        return GPSC_ENOSPC;
    }
    for (int t = 0; t < T; t++) {
        double r = gpsc_cost_ramp(pen->ramp, pen->final_mult, t, T);
        const double *xt = x + (size_t)t * dX;
        for (int p = 0; p < n; p++) {
            W[p] = wp[p] * r;
            d[p] = xt[idx[p]] - target[p];
        }
        double l = penalty_step(g, H, pen, W, d, n);
        out->l[t] += weight * l;
        /* the Jacobian of d in x is a selection: scatter g and H */
        double *lx = out->lx + (size_t)t * dX;
        double *lxx = out->lxx + (size_t)t * dX * dX;
        for (int p = 0; p < n; p++) {
            lx[idx[p]] += weight * g[p];
            for (int q = 0; q < n; q++)
                lxx[(size_t)idx[p] * dX + idx[q]] += weight * H[p * n + q];
        }
    }
    gpsc_arena_free_to(arena, mark);
    return 0;
}

/* ---- configured terms ---- */

static bool distinct_in_range(const int *idx, int n, int hi)
{
    for (int i = 0; i < n; i++) {
        if (idx[i] < 0 || idx[i] >= hi) return false;
        for (int j = 0; j < i; j++)
            if (idx[j] == idx[i]) return false;
    }
    return true;
}

static int check_penalty(const gpsc_penalty_t *pen, char *err, size_t errsz)
{
    if (!isfinite(pen->l1) || !isfinite(pen->l2) || !isfinite(pen->alpha) ||
        !isfinite(pen->final_mult)) {
        errf(err, errsz, "cost penalty has a non-finite parameter");
        return GPSC_ENONFINITE;
    }
    if ((unsigned)pen->norm > GPSC_NORM_L2 || (unsigned)pen->ramp > GPSC_RAMP_FINAL_ONLY) {
        errf(err, errsz, "cost penalty has an unknown norm or ramp");
        return GPSC_EINVAL;
    }
    if (pen->norm != GPSC_NORM_L2 && pen->l1 != 0.0 && !(pen->alpha > 0.0)) {
        errf(err, errsz, "cost penalty: alpha must be > 0 (is %g)", pen->alpha);
        return GPSC_EINVAL;
    }
    return 0;
}

int gpsc_cost_term_check(const gpsc_cost_term_t *term, const gpsc_cost_sample_t *s, char *err,
                         size_t errsz)
{
    if (!isfinite(term->weight)) {
        errf(err, errsz, "cost term weight is not finite");
        return GPSC_ENONFINITE;
    }
    if (term->n < 0 || term->n > GPSC_COST_MAXDIM || term->nidx < 0 ||
        term->nidx > GPSC_COST_MAXDIM) {
        errf(err, errsz, "cost term counts out of range (n %d, nidx %d)", term->n, term->nidx);
        return GPSC_EDIM;
    }
    switch (term->type) {
    case GPSC_COST_ACTION:
        if (term->n != s->dU) {
            errf(err, errsz, "action cost: %d weights for dU = %d", term->n, s->dU);
            return GPSC_EDIM;
        }
        if (!gpsc_la_all_finite(term->wu, (size_t)term->n)) {
            errf(err, errsz, "action cost: non-finite wu");
            return GPSC_ENONFINITE;
        }
        return 0;
    case GPSC_COST_FK:
        if (s->P < 1 || term->n != s->P || term->nidx != s->dQ || !s->ee || !s->jac) {
            errf(err, errsz, "fk cost: %d weights / %d joints for P = %d, dQ = %d", term->n,
                 term->nidx, s->P, s->dQ);
            return GPSC_EDIM;
        }
        break;
    case GPSC_COST_STATE:
        if (term->n < 1 || term->nidx != term->n) {
            errf(err, errsz, "state cost: %d weights but %d indices", term->n, term->nidx);
            return GPSC_EDIM;
        }
        break;
    default:
        errf(err, errsz, "unknown cost term type %d", (int)term->type);
        return GPSC_EINVAL;
    }
    if (!distinct_in_range(term->idx, term->nidx, s->dX)) {
        errf(err, errsz, "cost term: state indices must be distinct and in [0, %d)", s->dX);
        return GPSC_EDIM;
    }
    if (!gpsc_la_all_finite(term->wp, (size_t)term->n) ||
        !gpsc_la_all_finite(term->target, (size_t)term->n)) {
        errf(err, errsz, "cost term: non-finite weights or targets");
        return GPSC_ENONFINITE;
    }
    return check_penalty(&term->pen, err, errsz);
}

size_t gpsc_cost_eval_scratch_size(const gpsc_cost_term_t *terms, int nterms,
                                   const gpsc_cost_sample_t *sample)
{
    size_t need = 0, k;
    for (int i = 0; i < nterms; i++) {
        if (terms[i].type == GPSC_COST_FK)
            k = gpsc_cost_fk_scratch_size(sample->P, sample->dQ);
        else if (terms[i].type == GPSC_COST_STATE)
            k = gpsc_cost_state_scratch_size(terms[i].n);
        else
            k = 0;
        if (k > need) need = k;
    }
    return need;
}

int gpsc_cost_eval(gpsc_cost_exp_t *out, const gpsc_cost_term_t *terms, int nterms,
                   const gpsc_cost_sample_t *sample, gpsc_arena_t *arena)
{
    const gpsc_cost_sample_t *s = sample;
    if (out->T != s->T || out->dX != s->dX || out->dU != s->dU) return GPSC_EDIM;
    for (int i = 0; i < nterms; i++) {
        int rc = gpsc_cost_term_check(&terms[i], s, NULL, 0);
        if (rc) return rc;
    }
    gpsc_cost_exp_zero(out);
    for (int i = 0; i < nterms; i++) {
        const gpsc_cost_term_t *c = &terms[i];
        int rc = 0;
        switch (c->type) {
        case GPSC_COST_ACTION:
            gpsc_cost_action(out, c->weight, s->u, c->wu);
            break;
        case GPSC_COST_FK:
            rc = gpsc_cost_fk(out, c->weight, &c->pen, s->ee, s->jac, c->target, c->wp, c->idx,
                              s->P, s->dQ, arena);
            break;
        case GPSC_COST_STATE:
            rc = gpsc_cost_state(out, c->weight, &c->pen, s->x, c->target, c->wp, c->idx, c->n,
                                 arena);
            break;
        }
        if (rc) return rc;
    }
    return 0;
}

/* ---- expansion around y = 0 ---- */

void gpsc_cost_expand(double *cc, double *cv, double *Cm, const gpsc_cost_exp_t *exps,
                      const double *X, const double *U, int N)
{
    int T = exps[0].T, dX = exps[0].dX, dU = exps[0].dU, dXU = dX + dU;
    gpsc_la_zero(cc, (size_t)T);
    gpsc_la_zero(cv, (size_t)T * dXU);
    gpsc_la_zero(Cm, (size_t)T * dXU * dXU);
    for (int n = 0; n < N; n++) {
        const gpsc_cost_exp_t *e = &exps[n];
        for (int t = 0; t < T; t++) {
            const double *lxx = e->lxx + (size_t)t * dX * dX;
            const double *luu = e->luu + (size_t)t * dU * dU;
            const double *lux = e->lux + (size_t)t * dU * dX;
            const double *xt = X + ((size_t)n * T + t) * dX;
            const double *ut = U + ((size_t)n * T + t) * dU;
            double *cvt = cv + (size_t)t * dXU;
            double *Cmt = Cm + (size_t)t * dXU * dXU;
            /* C = [[lxx, lux^T], [lux, luu]]; accumulate it into Cm */
            for (int i = 0; i < dX; i++) {
                for (int j = 0; j < dX; j++)
                    Cmt[i * dXU + j] += lxx[i * dX + j];
                for (int j = 0; j < dU; j++)
                    Cmt[i * dXU + dX + j] += lux[j * dX + i];
            }
            for (int i = 0; i < dU; i++) {
                for (int j = 0; j < dX; j++)
                    Cmt[(dX + i) * dXU + j] += lux[i * dX + j];
                for (int j = 0; j < dU; j++)
                    Cmt[(dX + i) * dXU + dX + j] += luu[i * dU + j];
            }
            /* with r = -[x; u]: w_j = sum_i C_ij r_i, c' = l + r.v + 0.5 r.w,
             * v' = v + w */
            double rv = 0.0, rw = 0.0;
            for (int j = 0; j < dXU; j++) {
                double w = 0.0;
                for (int i = 0; i < dX; i++) {
                    double cij = j < dX ? lxx[i * dX + j] : lux[(j - dX) * dX + i];
                    w += cij * -xt[i];
                }
                for (int i = 0; i < dU; i++) {
                    double cij = j < dX ? lux[i * dX + j] : luu[i * dU + (j - dX)];
                    w += cij * -ut[i];
                }
                double rj = j < dX ? -xt[j] : -ut[j - dX];
                double vj = j < dX ? e->lx[(size_t)t * dX + j] : e->lu[(size_t)t * dU + j - dX];
                rv += rj * vj;
                rw += rj * w;
                cvt[j] += vj + w;
            }
            cc[t] += e->l[t] + (rv + 0.5 * rw);
        }
    }
    /* the mean over samples: sum in order of n, then divide */
    double dn = (double)N;
    for (int t = 0; t < T; t++) {
        cc[t] /= dn;
        for (int j = 0; j < dXU; j++)
            cv[(size_t)t * dXU + j] /= dn;
    }
    for (size_t i = 0; i < (size_t)T * dXU * dXU; i++)
        Cm[i] /= dn;
}
