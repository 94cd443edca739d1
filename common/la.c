#include "la.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "error.h"

void gpsc_la_gemm(double *C, const double *A, const double *B, int m, int n, int k, bool transA,
                  bool transB, double alpha, double beta)
{
    if (m == 0 || n == 0)
        return;
    if (k == 0) {
        /* BLAS leaves C*beta; make beta = 0 clear NaN garbage too */
        for (int i = 0; i < m * n; i++)
            C[i] = beta == 0.0 ? 0.0 : beta * C[i];
        return;
    }
    int lda = transA ? m : k;
    int ldb = transB ? k : n;
    cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                transB ? CblasTrans : CblasNoTrans, m, n, k, alpha, A, lda, B, ldb, beta, C, n);
}

void gpsc_la_gemv(double *y, const double *A, const double *x, int m, int n, bool transA,
                  double alpha, double beta)
{
    int ny = transA ? n : m;
    if (ny == 0)
        return;
    if ((transA ? m : n) == 0) {
        for (int i = 0; i < ny; i++)
            y[i] = beta == 0.0 ? 0.0 : beta * y[i];
        return;
    }
    cblas_dgemv(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, m, n, alpha, A, n, x, 1, beta,
                y, 1);
}

void gpsc_la_syrk(double *C, const double *A, int n, int k, bool transA, double alpha, double beta)
{
    if (n == 0)
        return;
    if (k == 0) {
        for (int i = 0; i < n * n; i++)
            C[i] = beta == 0.0 ? 0.0 : beta * C[i];
        return;
    }
    /* compute the upper triangle, then mirror it: exact symmetry */
    cblas_dsyrk(CblasRowMajor, CblasUpper, transA ? CblasTrans : CblasNoTrans, n, k, alpha, A,
                transA ? n : k, beta, C, n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            C[i * n + j] = C[j * n + i];
}

/* Row-major upper factor == column-major lower factor of the same memory. */
static int chol_impl(double *out, const double *A, int n, bool upper)
{
    if (out != A)
        memcpy(out, A, sizeof(double) * (size_t)n * (size_t)n);
    /* only the triangle that LAPACK reads must be finite */
    for (int i = 0; i < n; i++)
        for (int j = upper ? i : 0; j < (upper ? n : i + 1); j++)
            if (!isfinite(out[i * n + j]))
                return GPSC_ENONFINITE;
    if (n == 0)
        return 0;
    lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, upper ? 'L' : 'U', n, out, n);
    if (info > 0)
        return GPSC_ENOTPD;
    if (info < 0)
        return GPSC_ELAPACK;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (upper ? j < i : j > i)
                out[i * n + j] = 0.0;
    return 0;
}

int gpsc_la_chol(double *U, const double *A, int n)
{
    return chol_impl(U, A, n, true);
}

int gpsc_la_chol_lower(double *L, const double *A, int n)
{
    return chol_impl(L, A, n, false);
}

void gpsc_la_trsm(double *B, const double *T, int n, int nrhs, bool upper, bool trans)
{
    if (n == 0 || nrhs == 0)
        return;
    cblas_dtrsm(CblasRowMajor, CblasLeft, upper ? CblasUpper : CblasLower,
                trans ? CblasTrans : CblasNoTrans, CblasNonUnit, n, nrhs, 1.0, T, n, B, nrhs);
}

void gpsc_la_chol_solve(double *X, const double *U, const double *B, int n, int nrhs)
{
    if (X != B)
        memcpy(X, B, sizeof(double) * (size_t)n * (size_t)nrhs);
    /* A X = U^T (U X) = B: solve U^T Y = B, then U X = Y */
    gpsc_la_trsm(X, U, n, nrhs, true, true);
    gpsc_la_trsm(X, U, n, nrhs, true, false);
}

int gpsc_la_chol_inv(double *Ainv, const double *U, int n)
{
    if (Ainv != U)
        memcpy(Ainv, U, sizeof(double) * (size_t)n * (size_t)n);
    if (n == 0)
        return 0;
    /* row-major upper U is column-major lower: dpotri with 'L' */
    lapack_int info = LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'L', n, Ainv, n);
    if (info > 0)
        return GPSC_ESINGULAR;
    if (info < 0)
        return GPSC_ELAPACK;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            Ainv[i * n + j] = Ainv[j * n + i];
    return 0;
}

int gpsc_la_spd_inv(double *Ainv, const double *A, int n)
{
    int rc = gpsc_la_chol(Ainv, A, n);
    if (rc)
        return rc;
    return gpsc_la_chol_inv(Ainv, Ainv, n);
}

double gpsc_la_chol_logdet(const double *U, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += log(U[i * n + i]);
    return 2.0 * s;
}

size_t gpsc_la_syev_work(int n)
{
    /* dsyev's documented minimum is 3n-1; use a blocked-friendly size */
    return (size_t)(n < 1 ? 1 : 66 * n);
}

int gpsc_la_syev(double *w, double *V, const double *A, int n, double *work)
{
    if (n == 0)
        return 0;
    if (V != A)
        memcpy(V, A, sizeof(double) * (size_t)n * (size_t)n);
    if (!gpsc_la_all_finite(V, (size_t)n * (size_t)n))
        return GPSC_ENONFINITE;
    /* column-major view of a symmetric matrix is itself; eigenvectors come
     * back as columns in column-major order, i.e. as rows in our layout */
    lapack_int info = LAPACKE_dsyev_work(LAPACK_COL_MAJOR, 'V', 'U', n, V, n, w, work,
                                         (lapack_int)gpsc_la_syev_work(n));
    if (info > 0)
        return GPSC_ENOTCONV;
    if (info < 0)
        return GPSC_ELAPACK;
    return 0;
}

void gpsc_la_sym(double *A, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double v = 0.5 * (A[i * n + j] + A[j * n + i]);
            A[i * n + j] = v;
            A[j * n + i] = v;
        }
}

void gpsc_la_transpose(double *B, const double *A, int m, int n)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            B[j * m + i] = A[i * n + j];
}

double gpsc_la_dot(const double *x, const double *y, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i] * y[i];
    return s;
}

void gpsc_la_axpy(double *y, double alpha, const double *x, int n)
{
    for (int i = 0; i < n; i++)
        y[i] += alpha * x[i];
}

void gpsc_la_scale(double *x, double alpha, int n)
{
    for (int i = 0; i < n; i++)
        x[i] *= alpha;
}

void gpsc_la_copy(double *dst, const double *src, size_t n)
{
    if (n && dst != src)
        memmove(dst, src, n * sizeof(double));
}

void gpsc_la_zero(double *x, size_t n)
{
    if (n)
        memset(x, 0, n * sizeof(double));
}

void gpsc_la_eye(double *A, int n)
{
    gpsc_la_zero(A, (size_t)n * (size_t)n);
    for (int i = 0; i < n; i++)
        A[i * n + i] = 1.0;
}

void gpsc_la_add_diag(double *A, double v, int n)
{
    for (int i = 0; i < n; i++)
        A[i * n + i] += v;
}

bool gpsc_la_all_finite(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return false;
    return true;
}

void gpsc_la_set_threads(int n)
{
    openblas_set_num_threads(n);
}

void gpsc_la_trmm(double *B, const double *T, int n, int nrhs, bool upper, bool trans)
{
    if (n == 0 || nrhs == 0)
        return;
    cblas_dtrmm(CblasRowMajor, CblasLeft, upper ? CblasUpper : CblasLower,
                trans ? CblasTrans : CblasNoTrans, CblasNonUnit, n, nrhs, 1.0, T, n, B, nrhs);
}
