/* la.h — dense linear algebra over OpenBLAS/LAPACKE.
 *
 * This is the only module that calls BLAS or LAPACKE. Every matrix is dense,
 * row-major, with leading dimension equal to its column count. Outputs come
 * first, then const inputs, then sizes. Nothing here allocates: the LAPACK
 * calls use the column-major *_work entry points on symmetric data (a
 * symmetric row-major matrix is its own column-major transpose), so no
 * hidden transposition buffers are made.
 *
 * Aliasing: unless a function says otherwise, outputs must not overlap
 * inputs. Functions documented "in place allowed" accept out == in.
 *
 * Cholesky convention (as in the reference vectors and scipy): the upper
 * factor U with A = U^T U. */
#ifndef GPSC_LA_H
#define GPSC_LA_H

#include <stdbool.h>
#include <stddef.h>

/* C (m x n) = alpha * op(A) * op(B) + beta * C, where op(A) is (m x k) and
 * op(B) is (k x n); op(X) = X^T when the matching flag is true. When beta is
 * 0, C need not be initialised. */
void gpsc_la_gemm(double *C, const double *A, const double *B, int m, int n, int k, bool transA,
                  bool transB, double alpha, double beta);

/* y = alpha * op(A) * x + beta * y, A is (m x n); y has m entries (n when
 * transA). When beta is 0, y need not be initialised. */
void gpsc_la_gemv(double *y, const double *A, const double *x, int m, int n, bool transA,
                  double alpha, double beta);

/* C (n x n) = alpha * A A^T + beta * C (transA false, A is n x k) or
 * alpha * A^T A + beta * C (transA true, A is k x n). Both triangles of C
 * are written and C is exactly symmetric. */
void gpsc_la_syrk(double *C, const double *A, int n, int k, bool transA, double alpha, double beta);

/* Upper Cholesky factor: U (n x n) with A = U^T U; the strictly lower part
 * of U is set to 0. Reads only the upper triangle of A. In place allowed.
 * Returns 0, GPSC_ENOTPD when A is not positive definite (U is then
 * unspecified), or GPSC_ENONFINITE when A holds NaN/Inf. */
int gpsc_la_chol(double *U, const double *A, int n);

/* Lower Cholesky factor: L with A = L L^T, strictly upper part set to 0.
 * Same contract as gpsc_la_chol. */
int gpsc_la_chol_lower(double *L, const double *A, int n);

/* Solves op(T) X = B in place for X (B is n x nrhs and is overwritten),
 * with T upper (upper = true) or lower triangular, op(T) = T^T when trans. */
void gpsc_la_trsm(double *B, const double *T, int n, int nrhs, bool upper, bool trans);

/* X = A^-1 B with A = U^T U given its upper factor U. B is (n x nrhs).
 * In place allowed (X == B). */
void gpsc_la_chol_solve(double *X, const double *U, const double *B, int n, int nrhs);

/* Ainv = A^-1 from the upper factor U of A; Ainv is exactly symmetric. */
int gpsc_la_chol_inv(double *Ainv, const double *U, int n);

/* Ainv = A^-1 for symmetric positive definite A (upper triangle read).
 * In place allowed. Returns 0 or GPSC_ENOTPD / GPSC_ENONFINITE. */
int gpsc_la_spd_inv(double *Ainv, const double *A, int n);

/* log det A = 2 sum_i log U_ii from the upper (or lower) factor. */
double gpsc_la_chol_logdet(const double *U, int n);

/* Workspace (in doubles) that gpsc_la_syev needs for size n. */
size_t gpsc_la_syev_work(int n);

/* Eigen-decomposition of symmetric A (n x n): eigenvalues w (ascending) and
 * eigenvectors as the ROWS of V (row i belongs to w[i]).
 * `work` holds gpsc_la_syev_work(n) doubles. V may alias A.
 * Returns 0, GPSC_ENOTCONV, or GPSC_ENONFINITE. */
int gpsc_la_syev(double *w, double *V, const double *A, int n, double *work);

/* A = 0.5 (A + A^T), exactly symmetric afterwards. */
void gpsc_la_sym(double *A, int n);

/* B = A^T, A is (m x n), B is (n x m). */
void gpsc_la_transpose(double *B, const double *A, int m, int n);

/* Small vector helpers. */
double gpsc_la_dot(const double *x, const double *y, int n);
void gpsc_la_axpy(double *y, double alpha, const double *x, int n); /* y += alpha x */
void gpsc_la_scale(double *x, double alpha, int n);                 /* x *= alpha */
void gpsc_la_copy(double *dst, const double *src, size_t n);
void gpsc_la_zero(double *x, size_t n);
void gpsc_la_eye(double *A, int n);                                 /* identity */
void gpsc_la_add_diag(double *A, double v, int n);                  /* A += v I */

/* True when all n values are finite. */
bool gpsc_la_all_finite(const double *x, size_t n);

/* B = op(T) B in place (B is n x nrhs), T upper (upper = true) or lower
 * triangular, op(T) = T^T when trans. Only T's triangle is read. */
void gpsc_la_trmm(double *B, const double *T, int n, int nrhs, bool upper, bool trans);

/* Threads OpenBLAS may use inside one call. gpsc runs with 1 (parallelism
 * is over conditions, and results must not depend on thread count). */
void gpsc_la_set_threads(int n);

#endif
