/* msgs.h — rollout data <-> wire messages (proto/gpsc.proto), and files
 * holding one encoded Envelope.
 *
 * Samples become Trajectory bodies, linear-Gaussian policies LinGaussPolicy
 * bodies and networks NetworkPolicy bodies; packing and validation are the
 * wire layer's (common/wire.h). The messages here borrow the caller's
 * arrays: nothing is copied until gpsc_wire_encode packs them.
 *
 * Determinism: an encoded trajectory is a pure function of the sample and
 * the arguments. Timings (wall clock) are included only when asked for, and
 * Envelope.time_ns is 0; so the same (model, condition, policy, key) gives
 * byte-identical files (gpsc-rollout writes them without timings). */
#ifndef GPSC_WORKER_MSGS_H
#define GPSC_WORKER_MSGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/experiment.h"
#include "common/lgpolicy.h"
#include "common/mlp.h"
#include "common/wire.h"
#include "worker/rollout.h"

#define GPSC_MSGS_MAX_COSTS 64

/* A Trajectory body and the small parts it points to. */
typedef struct gpsc_trajmsg {
    Gpsc__Trajectory traj;
    Gpsc__TaskKey key;
    Gpsc__Timings timings;
    char *cost_names[GPSC_MSGS_MAX_COSTS];
    char name_buf[GPSC_MSGS_MAX_COSTS][24]; /* "0_action", "1_fk", ... */
} gpsc_trajmsg_t;

/* Points m->traj at sample s (borrowed). Cost names come from the
 * experiment's terms ("<i>_<type>"; none when there are more than
 * GPSC_MSGS_MAX_COSTS terms). worker_id must be a non-empty identifier. A
 * failed sample carries no arrays. */
void gpsc_trajmsg_fill(gpsc_trajmsg_t *m, const gpsc_sample_t *s, const gpsc_experiment_t *exp,
                       const char *worker_id, bool with_timings);

/* Encodes sample s as one Envelope (sender role worker, sequence seq,
 * time_ns 0). *buf is malloc'd (caller frees). Returns 0 or a wire code
 * with err set. */
int gpsc_trajmsg_encode(uint8_t **buf, size_t *len, const gpsc_sample_t *s,
                        const gpsc_experiment_t *exp, const char *worker_id, uint64_t seq,
                        bool with_timings, char *err, size_t errsz);

/* A new sample holding a copy of a decoded Trajectory body (NULL with err
 * set when out of memory). A failed trajectory gives a sample with status
 * != 0 and zeroed arrays. */
gpsc_sample_t *gpsc_trajmsg_to_sample(const Gpsc__Trajectory *m, char *err, size_t errsz);

/* LinGaussPolicy body pointing at p's arrays (borrowed). */
void gpsc_lgmsg_fill(Gpsc__LinGaussPolicy *m, const gpsc_lgpolicy_t *p, uint32_t condition,
                     uint32_t version);

/* A new policy from a decoded (hence validated) LinGaussPolicy body;
 * NULL when out of memory. */
gpsc_lgpolicy_t *gpsc_lgmsg_to_policy(const Gpsc__LinGaussPolicy *m);

/* NetworkPolicy body for net. `sizes` (n_layers + 1), `weights` and
 * `biases` are caller buffers of at least gpsc_netmsg_counts() entries;
 * the weights/biases are copied into them (the wire stores all weights,
 * then all biases), the rest borrowed. */
void gpsc_netmsg_counts(const gpsc_mlp_t *net, size_t *n_weights, size_t *n_biases);
void gpsc_netmsg_fill(Gpsc__NetworkPolicy *m, const gpsc_mlp_t *net, uint32_t version,
                      uint32_t *sizes, double *weights, double *biases);

/* A new network from a decoded NetworkPolicy body; NULL with err set when
 * the layer count exceeds GPSC_MLP_MAX_LAYERS or out of memory. */
gpsc_mlp_t *gpsc_netmsg_to_mlp(const Gpsc__NetworkPolicy *m, char *err, size_t errsz);

/* Writes len bytes to path (atomically: a temporary file then rename).
 * Returns 0 or GPSC_EIO with err set. */
int gpsc_msgs_write_file(const char *path, const uint8_t *buf, size_t len, char *err, size_t errsz);

/* Reads and decodes a file holding one Envelope. Returns 0 or an I/O or
 * wire code with err "path: reason". */
int gpsc_msgs_read_file(const char *path, gpsc_wire_msg_t **out, char *err, size_t errsz);

#endif
