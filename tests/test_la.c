/* Every la wrapper against results computed by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "common/error.h"
#include "common/la.h"

#define EPS 1e-12

static void assert_mat(const double *got, const double *exp, int n)
{
    for (int i = 0; i < n; i++) {
        if (fabs(got[i] - exp[i]) > EPS * (1 + fabs(exp[i])))
            fail_msg("element %d: got %.17g expected %.17g", i, got[i], exp[i]);
    }
}

static void test_gemm(void **state)
{
    (void)state;
    const double A[] = {1, 2, 3, 4, 5, 6};       /* 2x3 */
    const double B[] = {7, 8, 9, 10, 11, 12};    /* 3x2 */
    double C[4] = {1, 1, 1, 1};
    gpsc_la_gemm(C, A, B, 2, 2, 3, false, false, 1.0, 0.0);
    const double AB[] = {58, 64, 139, 154};
    assert_mat(C, AB, 4);
    /* beta accumulates, alpha scales */
    gpsc_la_gemm(C, A, B, 2, 2, 3, false, false, 2.0, 1.0);
    const double AB3[] = {174, 192, 417, 462};
    assert_mat(C, AB3, 4);
    /* A^T A (3x3) */
    double D[9];
    gpsc_la_gemm(D, A, A, 3, 3, 2, true, false, 1.0, 0.0);
    const double AtA[] = {17, 22, 27, 22, 29, 36, 27, 36, 45};
    assert_mat(D, AtA, 9);
    /* A B^T with B given as 2x3 */
    double E[4];
    gpsc_la_gemm(E, A, A, 2, 2, 3, false, true, 1.0, 0.0);
    const double AAt[] = {14, 32, 32, 77};
    assert_mat(E, AAt, 4);
    /* both transposed: (B^T)(A^T) with B 3x2 -> B^T is 2x3, A^T is 3x2 */
    double F[4];
    gpsc_la_gemm(F, B, A, 2, 2, 3, true, true, 1.0, 0.0);
    const double BtAt[] = {58, 139, 64, 154};
    assert_mat(F, BtAt, 4);
    /* k = 0 clears C when beta = 0 */
    double G[2] = {NAN, NAN};
    gpsc_la_gemm(G, A, B, 1, 2, 0, false, false, 1.0, 0.0);
    assert_true(G[0] == 0.0 && G[1] == 0.0);
}

static void test_gemv_syrk(void **state)
{
    (void)state;
    const double A[] = {1, 2, 3, 4, 5, 6}; /* 2x3 */
    const double x3[] = {1, 0, -1};
    const double x2[] = {1, 2};
    double y[3] = {0};
    gpsc_la_gemv(y, A, x3, 2, 3, false, 1.0, 0.0);
    const double Ax[] = {-2, -2};
    assert_mat(y, Ax, 2);
    gpsc_la_gemv(y, A, x2, 2, 3, true, 1.0, 0.0);
    const double Atx[] = {9, 12, 15};
    assert_mat(y, Atx, 3);
    double C[9];
    gpsc_la_syrk(C, A, 3, 2, true, 1.0, 0.0); /* A^T A */
    const double AtA[] = {17, 22, 27, 22, 29, 36, 27, 36, 45};
    assert_mat(C, AtA, 9);
    double D[4];
    gpsc_la_syrk(D, A, 2, 3, false, 1.0, 0.0); /* A A^T */
    const double AAt[] = {14, 32, 32, 77};
    assert_mat(D, AAt, 4);
    assert_true(D[1] == D[2]);
}

static void test_cholesky(void **state)
{
    (void)state;
    /* A = U^T U with U = [[2,1,0],[0,3,1],[0,0,4]] */
    const double U[] = {2, 1, 0, 0, 3, 1, 0, 0, 4};
    const double A[] = {4, 2, 0, 2, 10, 3, 0, 3, 17};
    double R[9];
    assert_int_equal(gpsc_la_chol(R, A, 3), 0);
    assert_mat(R, U, 9);
    /* lower factor is the transpose */
    double L[9], Ut[9];
    assert_int_equal(gpsc_la_chol_lower(L, A, 3), 0);
    gpsc_la_transpose(Ut, U, 3, 3);
    assert_mat(L, Ut, 9);
    /* in place */
    double B[9];
    memcpy(B, A, sizeof B);
    assert_int_equal(gpsc_la_chol(B, B, 3), 0);
    assert_mat(B, U, 9);
    /* logdet = 2 log(2*3*4) */
    assert_true(fabs(gpsc_la_chol_logdet(U, 3) - 2 * log(24.0)) < EPS);
}

static void test_cholesky_not_pd(void **state)
{
    (void)state;
    const double A[] = {1, 2, 2, 1}; /* eigenvalues 3, -1 */
    double R[4];
    assert_int_equal(gpsc_la_chol(R, A, 2), GPSC_ENOTPD);
    const double Z[] = {0, 0, 0, 0};
    assert_int_equal(gpsc_la_chol(R, Z, 2), GPSC_ENOTPD);
    const double N[] = {1, NAN, NAN, 1};
    assert_int_equal(gpsc_la_chol(R, N, 2), GPSC_ENONFINITE);
    assert_int_equal(gpsc_la_spd_inv(R, A, 2), GPSC_ENOTPD);
}

static void test_solves_and_inverse(void **state)
{
    (void)state;
    const double U[] = {2, 1, 0, 0, 3, 1, 0, 0, 4};
    const double A[] = {4, 2, 0, 2, 10, 3, 0, 3, 17};
    /* triangular solve U x = b with b = U [1,2,3] = [4, 9, 12] */
    double b[3] = {4, 9, 12};
    gpsc_la_trsm(b, U, 3, 1, true, false);
    const double x[] = {1, 2, 3};
    assert_mat(b, x, 3);
    /* U^T x = b with b = U^T [1,2,3] = [2, 7, 14] */
    double c[3] = {2, 7, 14};
    gpsc_la_trsm(c, U, 3, 1, true, true);
    assert_mat(c, x, 3);
    /* lower: L = U^T, L x = [2, 7, 14] */
    double Lm[9];
    gpsc_la_transpose(Lm, U, 3, 3);
    double d[3] = {2, 7, 14};
    gpsc_la_trsm(d, Lm, 3, 1, false, false);
    assert_mat(d, x, 3);
    /* A x = b with b = A [1,2,3] = [8, 31, 57]; two right-hand sides */
    double B2[6] = {8, 4, 31, 2, 57, 0}; /* columns: A[1,2,3], A[1,0,0] */
    double X2[6];
    gpsc_la_chol_solve(X2, U, B2, 3, 2);
    const double Xe[] = {1, 1, 2, 0, 3, 0};
    assert_mat(X2, Xe, 6);
    /* inverse: A * inv(A) = I, exactly symmetric inverse */
    double Ai[9], P[9], I3[9];
    assert_int_equal(gpsc_la_spd_inv(Ai, A, 3), 0);
    gpsc_la_gemm(P, A, Ai, 3, 3, 3, false, false, 1.0, 0.0);
    gpsc_la_eye(I3, 3);
    assert_mat(P, I3, 9);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            assert_true(Ai[i * 3 + j] == Ai[j * 3 + i]);
    /* inverse of [[2,1],[1,2]] is [[2,-1],[-1,2]]/3 */
    double S[4] = {2, 1, 1, 2};
    assert_int_equal(gpsc_la_spd_inv(S, S, 2), 0);
    const double Si[] = {2.0 / 3, -1.0 / 3, -1.0 / 3, 2.0 / 3};
    assert_mat(S, Si, 4);
}

static void test_syev(void **state)
{
    (void)state;
    /* [[2,1],[1,2]]: eigenvalues 1, 3 with vectors (1,-1)/sqrt2, (1,1)/sqrt2 */
    const double A[] = {2, 1, 1, 2};
    double w[2], V[4], work[200];
    assert_true(gpsc_la_syev_work(2) <= 200);
    assert_int_equal(gpsc_la_syev(w, V, A, 2, work), 0);
    assert_true(fabs(w[0] - 1) < EPS && fabs(w[1] - 3) < EPS);
    /* row i is eigenvector i: A v = w v */
    for (int i = 0; i < 2; i++) {
        double Av[2];
        gpsc_la_gemv(Av, A, V + 2 * i, 2, 2, false, 1.0, 0.0);
        for (int k = 0; k < 2; k++)
            assert_true(fabs(Av[k] - w[i] * V[2 * i + k]) < EPS);
        assert_true(fabs(gpsc_la_dot(V + 2 * i, V + 2 * i, 2) - 1) < EPS);
    }
    const double N[] = {1, INFINITY, INFINITY, 1};
    assert_int_equal(gpsc_la_syev(w, V, N, 2, work), GPSC_ENONFINITE);
}

static void test_small_helpers(void **state)
{
    (void)state;
    double A[] = {1, 2, 4, 3};
    gpsc_la_sym(A, 2);
    assert_true(A[1] == 3 && A[2] == 3);
    double x[] = {1, 2, 3}, y[] = {1, 1, 1};
    assert_true(gpsc_la_dot(x, y, 3) == 6);
    gpsc_la_axpy(y, 2.0, x, 3);
    assert_true(y[0] == 3 && y[1] == 5 && y[2] == 7);
    gpsc_la_scale(y, 0.5, 3);
    assert_true(y[2] == 3.5);
    double I2[4];
    gpsc_la_eye(I2, 2);
    gpsc_la_add_diag(I2, 1.5, 2);
    assert_true(I2[0] == 2.5 && I2[1] == 0 && I2[3] == 2.5);
    double T[6];
    const double M[] = {1, 2, 3, 4, 5, 6};
    gpsc_la_transpose(T, M, 2, 3);
    const double Mt[] = {1, 4, 2, 5, 3, 6};
    assert_mat(T, Mt, 6);
    assert_true(gpsc_la_all_finite(M, 6));
    double bad[] = {0, NAN};
    assert_false(gpsc_la_all_finite(bad, 2));
    bad[1] = -INFINITY;
    assert_false(gpsc_la_all_finite(bad, 2));
}

int main(void)
{
    gpsc_la_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gemm),
        cmocka_unit_test(test_gemv_syrk),
        cmocka_unit_test(test_cholesky),
        cmocka_unit_test(test_cholesky_not_pd),
        cmocka_unit_test(test_solves_and_inverse),
        cmocka_unit_test(test_syev),
        cmocka_unit_test(test_small_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
