/* stepsize.h — the step-size multiplier of the KL budget (seed 000 B.3,
 * reference README 5.14, `_set_new_mult`).
 *
 * The change in cost is modelled as a quadratic in the KL step epsilon,
 *   l(eps) = a eps^2 + b eps,
 * with b fitted from the predicted improvement and a from the shortfall of
 * the actual one; the optimum eps' = -b / 2a gives the multiplier
 *   new_mult = pred / (2 max(1e-4, pred - act)),  clamped to [0.1, 5],
 *   new_step_mult = clamp(new_mult * step_mult, min_step_mult, max_step_mult).
 *
 * Two ways to get (pred, act):
 *   classic (trajectory optimisation, per condition): laplace costs of the
 *     previous controller, of the new one under the previous dynamics
 *     (predicted) and under the new dynamics (actual), each summed over t;
 *   global (MDGPS, one multiplier for all M conditions): per-condition
 *     vectors averaged over the conditions first, then the "laplace" or
 *     "mc" (sample cost) rule. */
#ifndef GPSC_LEARNER_STEPSIZE_H
#define GPSC_LEARNER_STEPSIZE_H

/* clamps of new_mult */
#define GPSC_STEPSIZE_MIN_MULT 0.1
#define GPSC_STEPSIZE_MAX_MULT 5.0

typedef struct gpsc_stepsize {
    double predicted_impr; /* predicted cost improvement (cost units) */
    double actual_impr;    /* actual cost improvement */
    double new_mult;       /* factor applied to step_mult, in [0.1, 5] */
    double new_step_mult;  /* the new step_mult, in [min, max] */
} gpsc_stepsize_t;

typedef enum gpsc_step_rule {
    GPSC_STEP_RULE_LAPLACE = 0, /* pred = prev_laplace - prev_predicted,
                                   act = prev_laplace - cur_laplace */
    GPSC_STEP_RULE_MC = 1       /* pred = prev_mc - prev_predicted,
                                   act = prev_mc - cur_mc */
} gpsc_step_rule_t;

/* Parses "laplace" or "mc" into *rule. Returns 0 or GPSC_EINVAL. */
int gpsc_stepsize_rule_parse(gpsc_step_rule_t *rule, const char *name);

/* Shared tail: new_mult and new_step_mult from (pred, act). Fills all four
 * fields of *out. Returns 0, GPSC_ENONFINITE (an input is NaN/Inf) or
 * GPSC_EINVAL (out NULL, or not 0 < min_step_mult <= max_step_mult, or
 * step_mult <= 0). */
int gpsc_stepsize_apply(gpsc_stepsize_t *out, double predicted_impr, double actual_impr,
                        double step_mult, double min_step_mult, double max_step_mult);

/* Classic rule: pred = prev_laplace - new_predicted_laplace,
 * act = prev_laplace - new_actual_laplace. Same errors as above. */
int gpsc_stepsize_classic(gpsc_stepsize_t *out, double prev_laplace, double new_predicted_laplace,
                          double new_actual_laplace, double step_mult, double min_step_mult,
                          double max_step_mult);

/* Global rule over M >= 1 conditions: each of the five (M) vectors is
 * averaged first (in index order), then `rule` picks (pred, act). A vector
 * the rule does not read may be NULL (prev_mc/cur_mc for "laplace",
 * prev_laplace/cur_laplace for "mc"). Same errors as above. */
int gpsc_stepsize_global(gpsc_stepsize_t *out, gpsc_step_rule_t rule, const double *prev_laplace,
                         const double *prev_predicted, const double *cur_laplace,
                         const double *prev_mc, const double *cur_mc, int M, double step_mult,
                         double min_step_mult, double max_step_mult);

#endif
