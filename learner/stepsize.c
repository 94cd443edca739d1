/* stepsize.c — step-size multiplier (see stepsize.h; seed 000 B.3). */
#include "stepsize.h"

#include <math.h>
#include <string.h>

#include "common/error.h"

int gpsc_stepsize_rule_parse(gpsc_step_rule_t *rule, const char *name)
{
    if (!rule || !name) return GPSC_EINVAL;
    if (strcmp(name, "laplace") == 0)
        *rule = GPSC_STEP_RULE_LAPLACE;
    else if (strcmp(name, "mc") == 0)
        *rule = GPSC_STEP_RULE_MC;
    else
        return GPSC_EINVAL;
    return 0;
}

int gpsc_stepsize_apply(gpsc_stepsize_t *out, double predicted_impr, double actual_impr,
                        double step_mult, double min_step_mult, double max_step_mult)
{
    if (!out) return GPSC_EINVAL;
    if (!isfinite(predicted_impr) || !isfinite(actual_impr) || !isfinite(step_mult) ||
        !isfinite(min_step_mult) || !isfinite(max_step_mult))
        return GPSC_ENONFINITE;
    if (!(step_mult > 0.0) || !(min_step_mult > 0.0) || !(max_step_mult >= min_step_mult))
        return GPSC_EINVAL;
    /* eps' = -b / 2a with b = pred / eps and a = (act - pred) / eps^2 */
    double gap = predicted_impr - actual_impr;
    double m = predicted_impr / (2.0 * (gap > 1e-4 ? gap : 1e-4));
    m = m < GPSC_STEPSIZE_MIN_MULT ? GPSC_STEPSIZE_MIN_MULT : m;
    m = m > GPSC_STEPSIZE_MAX_MULT ? GPSC_STEPSIZE_MAX_MULT : m;
    double s = m * step_mult;
    s = s < max_step_mult ? s : max_step_mult;
    s = s > min_step_mult ? s : min_step_mult;
    out->predicted_impr = predicted_impr;
    out->actual_impr = actual_impr;
    out->new_mult = m;
    out->new_step_mult = s;
    return 0;
}

int gpsc_stepsize_classic(gpsc_stepsize_t *out, double prev_laplace, double new_predicted_laplace,
                          double new_actual_laplace, double step_mult, double min_step_mult,
                          double max_step_mult)
{
    if (!isfinite(prev_laplace) || !isfinite(new_predicted_laplace) ||
        !isfinite(new_actual_laplace))
        return GPSC_ENONFINITE;
    return gpsc_stepsize_apply(out, prev_laplace - new_predicted_laplace,
                               prev_laplace - new_actual_laplace, step_mult, min_step_mult,
                               max_step_mult);
}

/* mean of x (M) in index order; NaN when x holds NaN/Inf */
static double mean(const double *x, int M)
{
    double s = 0.0;
    for (int i = 0; i < M; i++)
        s += x[i];
    return isfinite(s) ? s / M : NAN;
}

int gpsc_stepsize_global(gpsc_stepsize_t *out, gpsc_step_rule_t rule, const double *prev_laplace,
                         const double *prev_predicted, const double *cur_laplace,
                         const double *prev_mc, const double *cur_mc, int M, double step_mult,
                         double min_step_mult, double max_step_mult)
{
    if (M < 1 || !prev_predicted) return GPSC_EINVAL;
    const double *prev, *cur;
    if (rule == GPSC_STEP_RULE_LAPLACE) {
        prev = prev_laplace;
        cur = cur_laplace;
    } else if (rule == GPSC_STEP_RULE_MC) {
        prev = prev_mc;
        cur = cur_mc;
    } else {
        return GPSC_EINVAL;
    }
    if (!prev || !cur) return GPSC_EINVAL;
    double p = mean(prev, M), pp = mean(prev_predicted, M), c = mean(cur, M);
    /* the vector the rule ignores must still be sane when given */
    const double *other[2] = {rule == GPSC_STEP_RULE_LAPLACE ? prev_mc : prev_laplace,
                              rule == GPSC_STEP_RULE_LAPLACE ? cur_mc : cur_laplace};
    for (int i = 0; i < 2; i++)
        if (other[i] && !isfinite(mean(other[i], M))) return GPSC_ENONFINITE;
    if (!isfinite(p) || !isfinite(pp) || !isfinite(c)) return GPSC_ENONFINITE;
    return gpsc_stepsize_apply(out, p - pp, p - c, step_mult, min_step_mult, max_step_mult);
}
