/* cost.h — cost terms and their quadratic expansions per time step.
 *
 * Every term produces, for each step t of a trajectory, the value l and the
 * derivatives of the per-step cost l(x_t, u_t):
 *   l (T), lx (T x dX), lu (T x dU), lxx (T x dX x dX), luu (T x dU x dU),
 *   lux (T x dU x dX) with lux[t][i][j] = d2 l / du_i dx_j.
 * The formulas are those of ../shared/reference/README.md sections 5.1-5.4
 * (the cbfinn/gps cost classes with the corrections q2 and q3).
 *
 * Term kernels ACCUMULATE: they add `weight * term` into an expansion the
 * caller has zeroed (gpsc_cost_exp_zero). Each element of a term is formed
 * completely before it is scaled and added, so a sum of terms rounds exactly
 * like "evaluate every term, then sum weight_i * term_i in order" (the
 * reference's CostSum), and a single term with weight 1 into a zeroed
 * expansion gives the term itself.
 *
 * Kernels never allocate. Those that need scratch take it from an arena and
 * release it before returning; *_scratch_size() gives the bytes to reserve.
 * Nothing here keeps state between calls. */
#ifndef GPSC_LEARNER_COST_H
#define GPSC_LEARNER_COST_H

#include <stddef.h>

#include "common/arena.h"

/* Largest number of weights/targets/indices one configured term carries. */
#define GPSC_COST_MAXDIM 64

/* An expansion: shapes fixed by T, dX, dU; the arrays belong to the caller. */
typedef struct gpsc_cost_exp {
    int T, dX, dU;
    double *l;   /* (T) */
    double *lx;  /* (T x dX) */
    double *lu;  /* (T x dU) */
    double *lxx; /* (T x dX x dX) */
    double *luu; /* (T x dU x dU) */
    double *lux; /* (T x dU x dX) */
} gpsc_cost_exp_t;

/* Time ramp of a penalty weight (README 5.1, computed in double: q3). */
typedef enum gpsc_ramp {
    GPSC_RAMP_CONSTANT = 0,  /* r[t] = 1 */
    GPSC_RAMP_LINEAR = 1,    /* r[t] = (t+1)/T */
    GPSC_RAMP_QUADRATIC = 2, /* r[t] = ((t+1)/T)^2 */
    GPSC_RAMP_FINAL_ONLY = 3 /* r[t] = 0 for t < T-1, r[T-1] = 1 */
} gpsc_ramp_t;

/* Penalty applied to a weighted distance d with per-entry weights W:
 *   s = sum_p (W_p d_p)^2, a = sum_p W_p d_p^2 (the l2 weight is NOT squared,
 *   as in the reference),
 *   l1l2 : l = 0.5 l2 a + l1 sqrt(alpha + s)        (seed 003 B, l12 norm)
 *   logl2: l = 0.5 l2 a + 0.5 l1 log(alpha + s)
 *   l2   : l = 0.5 l2 a                              (l1, alpha unused) */
typedef enum gpsc_norm { GPSC_NORM_L1L2 = 0, GPSC_NORM_LOGL2 = 1, GPSC_NORM_L2 = 2 } gpsc_norm_t;

typedef struct gpsc_penalty {
    gpsc_norm_t norm;
    double l1;         /* weight of the sqrt / log part */
    double l2;         /* weight of the quadratic part */
    double alpha;      /* smoothing inside sqrt / log (> 0 for l1l2/logl2) */
    gpsc_ramp_t ramp;  /* time ramp of the weights */
    double final_mult; /* r[T-1] is multiplied by this (wp_final_multiplier) */
} gpsc_penalty_t;

/* Names used in vector files and configs: "constant", "linear",
 * "quadratic", "final_only" / "l1l2", "logl2", "l2". Return 0 or
 * GPSC_EINVAL for an unknown name. */
int gpsc_cost_ramp_parse(gpsc_ramp_t *out, const char *name);
int gpsc_cost_norm_parse(gpsc_norm_t *out, const char *name);

/* Ramp multiplier r[t] for step t of T, final multiplier included. */
double gpsc_cost_ramp(gpsc_ramp_t ramp, double final_mult, int t, int T);

/* Sets every array of `c` to 0. */
void gpsc_cost_exp_zero(gpsc_cost_exp_t *c);

/* Action (torque) cost, README 5.2: l = 0.5 sum_i wu_i u_i^2, lu = wu .* u,
 * luu = diag(wu). Adds weight * term into out. u is (T x dU), wu (dU). */
void gpsc_cost_action(gpsc_cost_exp_t *out, double weight, const double *u, const double *wu);

/* End-effector (FK) cost, README 5.1. d = ee[t] - target (P entries), the
 * weights W_p = wp_p r[t]; the gradient and Hessian in ee space are mapped
 * to the joint-angle entries of x with the Jacobian (second derivatives of
 * ee taken as zero):
 *   lx[t, joint_idx[i]] = sum_p jac[t,p,i] g_p,
 *   lxx[t, joint_idx[i], joint_idx[j]] = sum_pq jac[t,p,i] H_pq jac[t,q,j].
 * ee is (T x P), jac (T x P x dQ), target and wp (P), joint_idx (dQ)
 * distinct indices in [0, dX). Adds weight * term into out.
 * Returns 0 or GPSC_ENOSPC when the arena is too small. */
int gpsc_cost_fk(gpsc_cost_exp_t *out, double weight, const gpsc_penalty_t *pen, const double *ee,
                 const double *jac, const double *target, const double *wp, const int *joint_idx,
                 int P, int dQ, gpsc_arena_t *arena);
size_t gpsc_cost_fk_scratch_size(int P, int dQ);

/* State cost: the same penalty on selected state entries,
 * d_p = x[t, idx[p]] - target_p, so lx[t, idx[p]] = g_p and
 * lxx[t, idx[p], idx[q]] = H_pq. With norm l2 and l2 = 1 this is the
 * velocity-tracking term 0.5 wv (v_x - v*)^2 and the root-height term
 * 0.5 wh (p_y - p*)^2 of seed 003 appendix B (wp = wv or wh).
 * x is (T x dX); idx, target, wp have n entries (idx distinct, in [0, dX)).
 * Adds weight * term into out. Returns 0 or GPSC_ENOSPC. */
int gpsc_cost_state(gpsc_cost_exp_t *out, double weight, const gpsc_penalty_t *pen, const double *x,
                    const double *target, const double *wp, const int *idx, int n,
                    gpsc_arena_t *arena);
size_t gpsc_cost_state_scratch_size(int n);

/* ---- terms described by an experiment config ---- */

typedef enum gpsc_cost_type {
    GPSC_COST_ACTION = 1, /* uses wu (dU entries) */
    GPSC_COST_FK = 2,     /* uses pen, target/wp (P entries), idx = joint_idx (dQ) */
    GPSC_COST_STATE = 3   /* uses pen, target/wp/idx (n entries) */
} gpsc_cost_type_t;

/* One term; plain data that can be copied (the arrays are inline so a
 * config loader can fill them with gpsc_cfg_doubles / gpsc_cfg_ints). */
typedef struct gpsc_cost_term {
    gpsc_cost_type_t type;
    double weight;                   /* multiplier of the term in the sum */
    gpsc_penalty_t pen;              /* FK and STATE */
    int n;                           /* entries used in wu (ACTION), wp/target (FK, STATE) */
    int nidx;                        /* entries used in idx (FK: dQ; STATE: = n) */
    double wu[GPSC_COST_MAXDIM];     /* ACTION: per-action weights */
    double wp[GPSC_COST_MAXDIM];     /* FK, STATE: per-entry weights */
    double target[GPSC_COST_MAXDIM]; /* FK, STATE: target values */
    int idx[GPSC_COST_MAXDIM];       /* FK: joint_idx; STATE: state indices */
} gpsc_cost_term_t;

/* The data a worker sends for one rollout (arrays borrowed). */
typedef struct gpsc_cost_sample {
    int T, dX, dU;
    int P;             /* end-effector coordinates (0 when none) */
    int dQ;            /* joint angles the Jacobian is taken against */
    const double *x;   /* (T x dX) */
    const double *u;   /* (T x dU) */
    const double *ee;  /* (T x P), NULL when P = 0 */
    const double *jac; /* (T x P x dQ), NULL when P = 0 */
} gpsc_cost_sample_t;

/* Checks a term against a sample's dimensions: counts in range, indices in
 * [0, dX) and distinct, FK sizes equal to (P, dQ), finite parameters,
 * alpha > 0 where a sqrt/log needs it. Returns 0 or GPSC_EDIM (sizes) /
 * GPSC_EINVAL (values) / GPSC_ENONFINITE, with a message in err. */
int gpsc_cost_term_check(const gpsc_cost_term_t *term, const gpsc_cost_sample_t *s, char *err,
                         size_t errsz);

/* Evaluates sum_i terms[i].weight * term_i(sample) into out (zeroed
 * first), in the order given: the reference's CostSum. out must have the
 * sample's T, dX, dU. Terms are checked with gpsc_cost_term_check first.
 * Returns 0, a check error, or GPSC_ENOSPC. */
int gpsc_cost_eval(gpsc_cost_exp_t *out, const gpsc_cost_term_t *terms, int nterms,
                   const gpsc_cost_sample_t *sample, gpsc_arena_t *arena);
size_t gpsc_cost_eval_scratch_size(const gpsc_cost_term_t *terms, int nterms,
                                   const gpsc_cost_sample_t *sample);

/* ---- expansion around y = 0 (README 5.4, `_eval_cost`) ---- */

/* Given the per-sample expansions exps[0..N-1] (taken around each sample)
 * and the samples X (N x T x dX), U (N x T x dU), re-centres each at y = 0,
 * with r = -[x; u], C = [[lxx, lux^T], [lux, luu]], v = [lx; lu], w = C^T r:
 *   c' = l + r.v + 0.5 r.w,  v' = v + w,
 * and averages over n: cc (T), cv (T x dXU), Cm (T x dXU x dXU) (Cm is the
 * mean of C). Every exps[n] has the same T, dX, dU. */
void gpsc_cost_expand(double *cc, double *cv, double *Cm, const gpsc_cost_exp_t *exps,
                      const double *X, const double *U, int N);

#endif
