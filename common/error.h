/* error.h — the one list of gpsc error codes.
 *
 * Every fallible gpsc function returns 0 on success or a negative GPSC_E*
 * code. gpsc_strerror() turns a code into a short English phrase; it never
 * returns NULL. Codes are stable within a protocol version (they travel in
 * log records), so add new ones at the end of the list. */
#ifndef GPSC_ERROR_H
#define GPSC_ERROR_H

/* X(name, value, message) */
#define GPSC_ERRNO_MAP(X)                                                      \
    X(EINVAL, -1, "invalid argument")                                          \
    X(ENOMEM, -2, "out of memory")                                             \
    X(EIO, -3, "input/output error")                                           \
    X(ENOENT, -4, "no such file")                                              \
    X(EPARSE, -5, "parse error")                                               \
    X(ECONFIG, -6, "invalid configuration")                                    \
    X(ENOTPD, -7, "matrix is not positive definite")                           \
    X(ESINGULAR, -8, "matrix is singular")                                     \
    X(ENONFINITE, -9, "non-finite value (NaN or Inf)")                         \
    X(EDIM, -10, "dimension mismatch")                                         \
    X(ERANGE, -11, "value out of range")                                       \
    X(ENOSPC, -12, "arena exhausted")                                          \
    X(ELAPACK, -13, "LAPACK argument error")                                   \
    X(ETRUNC, -14, "message truncated")                                        \
    X(EMALFORMED, -15, "malformed message")                                    \
    X(EVERSION, -16, "unsupported protocol version")                           \
    X(ETOOBIG, -17, "message too large")                                       \
    X(EEMPTY, -18, "message has no body")                                      \
    X(ETYPE, -19, "unexpected message type")                                   \
    X(EMAGIC, -20, "bad magic number")                                         \
    X(ECHECKSUM, -21, "checksum mismatch")                                     \
    X(EAGAIN, -22, "resource temporarily unavailable")                         \
    X(ETIMEDOUT, -23, "timed out")                                             \
    X(EDUP, -24, "duplicate")                                                  \
    X(EUNKNOWN_PEER, -25, "unknown peer")                                      \
    X(EAUTH, -26, "authentication failed")                                     \
    X(ESIM, -27, "simulation unstable")                                        \
    X(EMODEL, -28, "model load failed")                                        \
    X(ENOTCONV, -29, "did not converge")                                       \
    X(ESYS, -30, "system call failed")                                         \
    X(EINTR, -31, "interrupted")                                               \
    X(ESTATE, -32, "operation not valid in this state")                        \
    X(ENOTSUP, -33, "not supported")                                           \
    X(ENODATA, -34, "empty input")                                             \
    X(EROLE, -35, "unknown role")

typedef enum gpsc_err {
    GPSC_OK = 0,
#define GPSC_X_(name, val, msg) GPSC_##name = (val),
    GPSC_ERRNO_MAP(GPSC_X_)
#undef GPSC_X_
    GPSC_ERR_LAST_ = -36
} gpsc_err_t;

/* Short message for code `err` (0 gives "success"; unknown codes give
 * "unknown error"). The string is static. */
const char *gpsc_strerror(int err);

/* Symbolic name of `err` ("GPSC_ENOTPD"), or "GPSC_E?" when unknown. */
const char *gpsc_errname(int err);

#endif
