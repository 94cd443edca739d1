/* lgpolicy.c — linear-Gaussian controller (see lgpolicy.h). */
#include "common/lgpolicy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/la.h"

gpsc_lgpolicy_t *gpsc_lgpolicy_new(int T, int dX, int dU)
{
    if (T < 1 || dX < 1 || dU < 1) return NULL;
    gpsc_lgpolicy_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    size_t t = (size_t)T, x = (size_t)dX, u = (size_t)dU;
    p->T = T;
    p->dX = dX;
    p->dU = dU;
    p->K = calloc(t * u * x, sizeof(double));
    p->k = calloc(t * u, sizeof(double));
    p->pol_covar = calloc(t * u * u, sizeof(double));
    p->chol = calloc(t * u * u, sizeof(double));
    p->inv_pol_covar = calloc(t * u * u, sizeof(double));
    if (!p->K || !p->k || !p->pol_covar || !p->chol || !p->inv_pol_covar) {
        gpsc_lgpolicy_destroy(&p);
        return NULL;
    }
    for (size_t s = 0; s < t; s++) {
        gpsc_la_eye(p->pol_covar + s * u * u, dU);
        gpsc_la_eye(p->chol + s * u * u, dU);
        gpsc_la_eye(p->inv_pol_covar + s * u * u, dU);
    }
    return p;
}

void gpsc_lgpolicy_destroy(gpsc_lgpolicy_t **pp)
{
    if (!pp || !*pp) return;
    gpsc_lgpolicy_t *p = *pp;
    free(p->K);
    free(p->k);
    free(p->pol_covar);
    free(p->chol);
    free(p->inv_pol_covar);
    free(p);
    *pp = NULL;
}

gpsc_lgpolicy_t *gpsc_lgpolicy_clone(const gpsc_lgpolicy_t *src)
{
    gpsc_lgpolicy_t *p = gpsc_lgpolicy_new(src->T, src->dX, src->dU);
    if (!p) return NULL;
    size_t t = (size_t)src->T, x = (size_t)src->dX, u = (size_t)src->dU;
    memcpy(p->K, src->K, sizeof(double) * t * u * x);
    memcpy(p->k, src->k, sizeof(double) * t * u);
    memcpy(p->pol_covar, src->pol_covar, sizeof(double) * t * u * u);
    memcpy(p->chol, src->chol, sizeof(double) * t * u * u);
    memcpy(p->inv_pol_covar, src->inv_pol_covar, sizeof(double) * t * u * u);
    return p;
}

int gpsc_lgpolicy_set_covar(gpsc_lgpolicy_t *p, int t, const double *covar)
{
    if (t < 0 || t >= p->T) return GPSC_ERANGE;
    int n = p->dU;
    size_t nn = (size_t)n * (size_t)n;
    double S[16 * 16], U[16 * 16], Ui[16 * 16];
    double *s = S, *u = U, *ui = Ui, *heap = NULL;
    if (n > 16) {
        heap = malloc(3 * nn * sizeof(double));
        if (!heap) return GPSC_ENOMEM;
        s = heap;
        u = heap + nn;
        ui = heap + 2 * nn;
    }
    /* mirror the upper triangle so the stored covariance is exactly symmetric */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            s[i * n + j] = i <= j ? covar[i * n + j] : covar[j * n + i];
    int rc = gpsc_la_chol(u, s, n);
    if (rc == 0) rc = gpsc_la_chol_inv(ui, u, n);
    if (rc == 0) {
        size_t off = (size_t)t * nn;
        memcpy(p->pol_covar + off, s, nn * sizeof(double));
        memcpy(p->chol + off, u, nn * sizeof(double));
        memcpy(p->inv_pol_covar + off, ui, nn * sizeof(double));
    }
    free(heap);
    return rc;
}

int gpsc_lgpolicy_refresh(gpsc_lgpolicy_t *p)
{
    size_t nn = (size_t)p->dU * (size_t)p->dU;
    for (int t = 0; t < p->T; t++) {
        int rc = gpsc_lgpolicy_set_covar(p, t, p->pol_covar + (size_t)t * nn);
        if (rc) return rc;
    }
    return 0;
}

void gpsc_lgpolicy_act(double *u, const gpsc_lgpolicy_t *p, int t, const double *x,
                       const double *eps)
{
    int dX = p->dX, dU = p->dU;
    const double *K = p->K + (size_t)t * (size_t)dU * (size_t)dX;
    const double *k = p->k + (size_t)t * (size_t)dU;
    const double *U = p->chol + (size_t)t * (size_t)dU * (size_t)dU;
    for (int i = 0; i < dU; i++) {
        const double *Ki = K + (size_t)i * (size_t)dX;
        double m = k[i];
        for (int j = 0; j < dX; j++)
            m += Ki[j] * x[j];
        double n = 0.0;
        if (eps)
            for (int j = 0; j <= i; j++)
                n += U[j * dU + i] * eps[j];
        u[i] = m + n;
    }
}

int gpsc_lgpolicy_check(const gpsc_lgpolicy_t *p, char *err, size_t errsz)
{
    size_t t = (size_t)p->T, x = (size_t)p->dX, u = (size_t)p->dU;
    const struct {
        const char *name;
        const double *a;
        size_t n;
    } arr[] = {{"K", p->K, t * u * x},
               {"k", p->k, t * u},
               {"pol_covar", p->pol_covar, t * u * u},
               {"chol", p->chol, t * u * u},
               {"inv_pol_covar", p->inv_pol_covar, t * u * u}};
    for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
        if (!gpsc_la_all_finite(arr[i].a, arr[i].n)) {
            snprintf(err, errsz, "linear-Gaussian policy: %s has a non-finite value", arr[i].name);
            return GPSC_ENONFINITE;
        }
    return 0;
}
