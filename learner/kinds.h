/* kinds.h — the table gpsc-numerics dispatches on.
 *
 * A kind function computes every output of one reference-vector kind
 * (../shared/reference/README.md section 5) from its inputs. It reads the
 * inputs from `in`, takes all sizes from the array shapes (never from
 * "dims"), validates shapes and finiteness (a NaN/Inf input is refused
 * with GPSC_ENONFINITE), and adds each output to `out` under the name the
 * reference uses: float arrays with gpsc_vecset_put_array/new_array, float
 * scalars with gpsc_vecset_put_scalar, counts (iterations, n_bumps,
 * n_estep, n_mstep, stop_reason) with gpsc_vecset_put_int. On failure it
 * returns a negative GPSC_E* code and writes a human message into err. */
#ifndef GPSC_LEARNER_KINDS_H
#define GPSC_LEARNER_KINDS_H

#include <stddef.h>

#include "common/vecfile.h"

typedef int (*gpsc_kind_fn)(const gpsc_vecset_t *in, gpsc_vecset_t *out, char *err, size_t errsz);

typedef struct gpsc_kind_entry {
    const char *kind; /* "cost_fk", "cstep", ... */
    gpsc_kind_fn fn;
} gpsc_kind_entry_t;

/* Two tables, one per source file, each ended by {NULL, NULL}:
 *   kinds_model.c : cost_action cost_fk cost_sum cost_expand gmm_em
 *                   gmm_prior niw_regression dynamics_fit policy_linearize
 *                   sstep_targets
 *   kinds_traj.c  : lqr_backward traj_forward traj_kl cstep laplace_cost
 *                   step_adjust init_lqr */
extern const gpsc_kind_entry_t gpsc_kinds_model[];
extern const gpsc_kind_entry_t gpsc_kinds_traj[];

/* Looks `kind` up in both tables; NULL when unknown. */
gpsc_kind_fn gpsc_kind_lookup(const char *kind);

#endif
