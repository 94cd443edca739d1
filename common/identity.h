/* identity.h — the deterministic identity of a run: the experiment as it
 * enters the config hash, the hash, the run id, the model's fingerprint.
 *
 * The identity YAML is the resolved experiment printed with
 * gpsc_experiment_fprint and algorithm.iterations set to 0, so extending a
 * run (--iterations) keeps its identity while any other change (seed,
 * algorithm, conditions, costs, cluster settings) makes a new one. This is
 * what gpsc-solo computes (learner/solo.c), and the coordinator and the
 * learner service must compute the same bytes: checkpoints embed the hash,
 * the run id and the identity YAML. */
#ifndef GPSC_IDENTITY_H
#define GPSC_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "common/experiment.h"

/* The identity YAML of a resolved experiment (malloc'd, NUL-terminated,
 * *len bytes without the NUL; the caller frees), or NULL when out of
 * memory. exp is not modified. */
char *gpsc_identity_yaml(const gpsc_experiment_t *exp, size_t *len);

/* Fills hash ("fnv1a64:<16 hex>", >= 25 bytes) and run_id ("<name>-s<seed>-
 * <8 hex>", runsz >= 96 recommended) from the identity YAML; returns the
 * malloc'd YAML itself as gpsc_identity_yaml (NULL when out of memory; the
 * outputs are then ""). */
char *gpsc_identity(const gpsc_experiment_t *exp, char hash[25], char *run_id, size_t runsz,
                    size_t *len);

/* The model file's fingerprint: "fnv1a64:<16 hex>" of its bytes (the MJCF
 * file only, not files it includes). Returns 0, GPSC_ENOENT or GPSC_EIO
 * (err says why). out holds >= 25 bytes. */
int gpsc_identity_model_hash(char out[25], const char *path, char *err, size_t errsz);

#endif
