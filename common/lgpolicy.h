/* lgpolicy.h — time-varying linear-Gaussian controller, shared by the
 * worker (which acts with it) and the learner (which builds it).
 *
 *   u_t = K_t x_t + k_t + e_t,  e_t ~ N(0, pol_covar_t),
 *
 * with the noise drawn as e_t = U_t^T eps_t from standard normals eps_t,
 * where U_t = chol_t is the UPPER Cholesky factor, pol_covar_t = U_t^T U_t
 * (README section 3; scipy's default factor).
 *
 * Arithmetic order (so that any two processes get the same bits): for
 * each action i,
 *     m   = k_t[i];  for j = 0..dX-1: m += K_t[i][j] * x[j]
 *     n   = 0;       for j = 0..i:    n += U_t[j][i] * eps[j]
 *     u[i] = m + n
 * each operation a separately rounded double operation (the library is
 * built with -ffp-contract=off, so no fused multiply-add). */
#ifndef GPSC_LGPOLICY_H
#define GPSC_LGPOLICY_H

#include <stddef.h>

/* Plain data. All arrays belong to the struct when made by _new. */
typedef struct gpsc_lgpolicy {
    int T, dX, dU;
    double *K;             /* (T x dU x dX) feedback gains */
    double *k;             /* (T x dU) open-loop terms */
    double *pol_covar;     /* (T x dU x dU) action covariance */
    double *chol;          /* (T x dU x dU) upper U with pol_covar = U^T U */
    double *inv_pol_covar; /* (T x dU x dU) pol_covar^-1 */
} gpsc_lgpolicy_t;

/* A zero policy (K = 0, k = 0, covariances = identity) of the given
 * sizes; NULL when out of memory or a size is < 1. */
gpsc_lgpolicy_t *gpsc_lgpolicy_new(int T, int dX, int dU);

/* Frees the policy; accepts NULL; sets *p to NULL. */
void gpsc_lgpolicy_destroy(gpsc_lgpolicy_t **p);

/* Deep copy; NULL when out of memory. */
gpsc_lgpolicy_t *gpsc_lgpolicy_clone(const gpsc_lgpolicy_t *p);

/* Sets pol_covar_t from `covar` (dU x dU, upper triangle read and mirrored)
 * and recomputes chol_t and inv_pol_covar_t. Returns 0, GPSC_ENOTPD or
 * GPSC_ENONFINITE (the step is then left unchanged), GPSC_ERANGE for a bad t. */
int gpsc_lgpolicy_set_covar(gpsc_lgpolicy_t *p, int t, const double *covar);

/* Recomputes chol and inv_pol_covar of every step from pol_covar.
 * Returns 0 or the first step's error as above. */
int gpsc_lgpolicy_refresh(gpsc_lgpolicy_t *p);

/* u (dU) = K_t x + k_t + U_t^T eps in the order documented above. eps
 * (dU) may be NULL for the mean action. t must be in [0, T). */
void gpsc_lgpolicy_act(double *u, const gpsc_lgpolicy_t *p, int t, const double *x,
                       const double *eps);

/* 0 when every array holds only finite values, else GPSC_ENONFINITE with
 * the array named in err. */
int gpsc_lgpolicy_check(const gpsc_lgpolicy_t *p, char *err, size_t errsz);

#endif
