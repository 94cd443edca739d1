/* checkpoint.h — checkpoint messages and files.
 *
 * A checkpoint is one Envelope (proto/gpsc.proto) whose body is a
 * Checkpoint: enough to resume a run bit for bit after `iteration`
 * completed iterations. This module owns the memory of a Checkpoint being
 * built or read, converts the plain pieces the learner keeps (linear-
 * Gaussian controllers, GMMs, sample buffers, networks, named tensors) to
 * and from their messages, gives the run's deterministic identity (config
 * hash, run id) and writes/reads the files.
 *
 * Determinism: nothing time-, host- or process-dependent goes into a
 * checkpoint file. The envelope header is fixed (role LEARNER, sender
 * "gpsc-learner", seq 1, time 0, run_id = the checkpoint's run_id), so the
 * same state gives the same bytes in gpsc-solo and in the cluster's
 * learner. Files are written to "path.tmp.<pid>", fsync'ed, renamed over
 * `path` and the directory is fsync'ed: a crash leaves the old file or the
 * new one, never half a file.
 *
 * The algorithm decides which pieces form its state (learner/algorithm.h:
 * gpsc_alg_save / gpsc_alg_load); this module knows only the pieces. */
#ifndef GPSC_CHECKPOINT_H
#define GPSC_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "common/lgpolicy.h"
#include "common/mlp.h"
#include "proto/gpsc.pb-c.h"

/* Sender id of the envelope of every checkpoint file. */
#define GPSC_CHECKPOINT_SENDER "gpsc-learner"

/* Largest checkpoint file read (bytes). */
#define GPSC_CHECKPOINT_MAX_BYTES ((size_t)1 << 30)

typedef struct gpsc_checkpoint gpsc_checkpoint_t;

/* An empty checkpoint (GPSC__CHECKPOINT__INIT) to build. NULL when out of
 * memory. */
gpsc_checkpoint_t *gpsc_checkpoint_new(void);

/* Frees the checkpoint and everything it owns; accepts NULL; sets *p to
 * NULL. */
void gpsc_checkpoint_destroy(gpsc_checkpoint_t **p);

/* The message (mutable while building; owned by ck). For a checkpoint read
 * from a file the message is the decoded one: treat it as read-only. */
Gpsc__Checkpoint *gpsc_checkpoint_msg(gpsc_checkpoint_t *ck);
const Gpsc__Checkpoint *gpsc_checkpoint_get(const gpsc_checkpoint_t *ck);

/* ---- memory owned by the checkpoint (freed by _destroy) ---- */

/* `bytes` of zeroed memory, or NULL when out of memory. */
void *gpsc_checkpoint_alloc(gpsc_checkpoint_t *ck, size_t bytes);

/* Copies of n doubles / a string; NULL when out of memory (a copy of 0
 * doubles is NULL too: check n). */
double *gpsc_checkpoint_doubles(gpsc_checkpoint_t *ck, const double *src, size_t n);
char *gpsc_checkpoint_strdup(gpsc_checkpoint_t *ck, const char *s);

/* ---- pieces: plain data -> message (memory owned by ck; NULL when out of
 * memory) ---- */

/* The controller as a LinGaussPolicy (K, k, pol_covar, chol, inv_pol_covar
 * copied). */
Gpsc__LinGaussPolicy *gpsc_checkpoint_put_lgpolicy(gpsc_checkpoint_t *ck,
                                                   const gpsc_lgpolicy_t *p, uint32_t condition,
                                                   uint32_t version);

/* A Gmm of K clusters in D dimensions: weights = exp(logmass) (the exact
 * log weights are a separate tensor when a reader needs the bits), means
 * (K x D), covars (K x D x D). */
Gpsc__Gmm *gpsc_checkpoint_put_gmm(gpsc_checkpoint_t *ck, const double *logmass, const double *mu,
                                   const double *sigma, int K, int D);

/* A SampleBuffer of N trajectories: X (N x T x dX), U (N x T x dU), O
 * (N x T x dO, NULL when dO = 0); keys (N) may be NULL. */
Gpsc__SampleBuffer *gpsc_checkpoint_put_samples(gpsc_checkpoint_t *ck, const double *X,
                                                const double *U, const double *O,
                                                const Gpsc__TaskKey *keys, int N, int T, int dX,
                                                int dU, int dO);

/* The network as a NetworkPolicy (weights W_0, W_1, ... then biases, as the
 * message lays them out). */
Gpsc__NetworkPolicy *gpsc_checkpoint_put_network(gpsc_checkpoint_t *ck, const gpsc_mlp_t *net,
                                                 uint32_t version);

/* A tensor `name` of the given shape (rank 1..8) holding a copy of data. */
Gpsc__Tensor *gpsc_checkpoint_put_tensor(gpsc_checkpoint_t *ck, const char *name,
                                         const uint32_t *shape, int rank, const double *data);

/* Appends item to the pointer array *list of *n entries (memory owned by
 * ck). Returns 0 or GPSC_ENOMEM. */
int gpsc_checkpoint_append(gpsc_checkpoint_t *ck, void ***list, size_t *n, void *item);

/* ---- pieces: message -> plain data ---- */

/* Copies a LinGaussPolicy into p (whose T, dX, dU must match: GPSC_EDIM).
 * The covariance factors are taken as stored (no refactorisation), so a
 * round trip is exact. Returns 0, GPSC_EDIM or GPSC_EINVAL (NULL). */
int gpsc_checkpoint_get_lgpolicy(gpsc_lgpolicy_t *p, const Gpsc__LinGaussPolicy *m, char *err,
                                 size_t errsz);

/* Copies a NetworkPolicy into net, whose layer sizes and activation must
 * match (GPSC_EDIM otherwise). */
int gpsc_checkpoint_get_network(gpsc_mlp_t *net, const Gpsc__NetworkPolicy *m, char *err,
                                size_t errsz);

/* The tensor called `name` in list (n entries), or NULL. */
const Gpsc__Tensor *gpsc_checkpoint_find_tensor(Gpsc__Tensor *const *list, size_t n,
                                                const char *name);

/* ---- identity ---- */

/* 64-bit FNV-1a of `len` bytes (a fingerprint, not a cryptographic hash),
 * continuing from the running hash h of earlier bytes (0 to start). */
uint64_t gpsc_checkpoint_fnv1a(const void *data, size_t len, uint64_t h);

/* "fnv1a64:" + 16 lowercase hex digits of the FNV-1a hash of text; out
 * holds at least 25 bytes. */
void gpsc_checkpoint_config_hash(char out[25], const char *text, size_t len);

/* Run id "<name>-s<seed>-<8 hex digits of FNV-1a(config_hash, seed)>":
 * the same config and seed always give the same id. out holds outsz bytes
 * (>= 96 recommended); name is truncated to fit. */
void gpsc_checkpoint_run_id(char *out, size_t outsz, const char *name, const char *config_hash,
                            uint64_t seed);

/* ---- files ---- */

/* Packs the checkpoint into an Envelope (header as described above) into a
 * new malloc'd buffer (*buf, *len; the caller frees). The message is
 * validated first (common/wire.h codes, message in err). */
int gpsc_checkpoint_encode(uint8_t **buf, size_t *len, const gpsc_checkpoint_t *ck, char *err,
                           size_t errsz);

/* Encodes and writes the checkpoint to path atomically (temp file, fsync,
 * rename, fsync of the directory). Returns 0, a validation code or GPSC_EIO
 * (err says which system call failed). */
int gpsc_checkpoint_write(const gpsc_checkpoint_t *ck, const char *path, char *err, size_t errsz);

/* Reads, decodes and validates the checkpoint file at path into a new
 * *out (destroy it with gpsc_checkpoint_destroy). Returns 0, GPSC_ENOENT,
 * GPSC_EIO, GPSC_ETOOBIG (> GPSC_CHECKPOINT_MAX_BYTES), GPSC_ETYPE (the
 * envelope holds another body), or a decode/validation code of
 * common/wire.h; err says why (with the path). */
int gpsc_checkpoint_read(gpsc_checkpoint_t **out, const char *path, char *err, size_t errsz);

/* As gpsc_checkpoint_read from bytes in memory. */
int gpsc_checkpoint_decode(gpsc_checkpoint_t **out, const uint8_t *buf, size_t len, char *err,
                           size_t errsz);

#endif
