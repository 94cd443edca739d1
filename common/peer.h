/* peer.h — the client side of the coordinator's control plane, shared by
 * the worker and learner services.
 *
 * A peer is one DEALER socket connected to a coordinator ROUTER, with the
 * routing id equal to the envelope's sender id. It does what every client
 * of the coordinator does the same way:
 *   - Hello until welcomed (again every retry interval while no Welcome
 *     comes, and whenever the coordinator answers "unknown peer", e.g.
 *     after it restarted);
 *   - Heartbeat every interval the Welcome names, with the status the
 *     service sets; any message from the coordinator proves it alive, and
 *     silence longer than the Welcome's timeout makes the peer Hello again;
 *   - forwards the process's log records (a gpsc_log hook into a bounded
 *     queue, any thread; sent as LogRecord by the thread driving the peer);
 *   - fills every envelope header (role, id, seq, run id, time).
 * Everything else is the service's: gpsc_peer_recv hands it every message
 * but heartbeats and "unknown peer" refusals.
 *
 * A service loop:
 *
 *     while (!stop) {
 *         long ms = gpsc_peer_tick(p);               // due heartbeats, hellos, logs
 *         void *s[2] = {gpsc_peer_socket(p), other}; int ready[2];
 *         gpsc_wire_poll(s, ready, 2, ms);
 *         while ((rc = gpsc_peer_recv(p, &m, err, sizeof err)) != GPSC_EAGAIN)
 *             if (rc == 0) { handle(m); gpsc_wire_msg_destroy(&m); }
 *     }
 *
 * Threads: one thread drives the peer (every function but the log hook);
 * logging from any thread is safe. Library code: logs nothing itself. */
#ifndef GPSC_PEER_H
#define GPSC_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/wire.h"

typedef struct gpsc_peer gpsc_peer_t;

typedef struct gpsc_peer_cfg {
    Gpsc__Role role;          /* ROLE_WORKER or ROLE_LEARNER */
    const char *id;           /* sender id = routing id (identifier, <= 255 bytes) */
    const char *endpoint;     /* coordinator endpoint to connect to */
    size_t max_msg_size;      /* (bytes) socket limit; 0 = GPSC_WIRE_MAX_DEFAULT */
    const Gpsc__Hello *hello; /* the Hello body (copied by reference: must outlive the peer) */
    uint32_t hello_retry_ms;  /* (ms) Hello again this long without Welcome [1000] */
    size_t log_queue;         /* records the log queue holds [1024] */
    const gpsc_wire_keypair_t *curve_keys; /* CURVE client: own key pair (borrowed, must
                                              outlive the peer); NULL = plain TCP */
    const char *curve_server_key;          /* with curve_keys: the coordinator's public key */
} gpsc_peer_cfg_t;

/* A connected (in the background) peer; the first Hello goes out on the
 * first gpsc_peer_tick. NULL with err set on a bad endpoint or option. */
gpsc_peer_t *gpsc_peer_new(void *ctx, const gpsc_peer_cfg_t *cfg, char *err, size_t errsz);

/* Removes the log hook (when this peer set it), closes the socket, frees;
 * accepts NULL; sets *p to NULL. */
void gpsc_peer_destroy(gpsc_peer_t **p);

/* The DEALER, for gpsc_wire_poll. Do not receive from it directly. */
void *gpsc_peer_socket(gpsc_peer_t *p);

/* Sends one body (e.g. GPSC__ENVELOPE__BODY_TRAJECTORY and a
 * Gpsc__Trajectory *) with a filled header, without blocking. Returns 0 or
 * a gpsc_wire_send code (GPSC_EAGAIN when the queue to the coordinator is
 * full: the message is dropped). */
int gpsc_peer_send(gpsc_peer_t *p, Gpsc__Envelope__BodyCase body_case, const void *body);

/* Heartbeat contents: tasks held, finished so far, current iteration. */
void gpsc_peer_set_status(gpsc_peer_t *p, uint32_t inflight, uint64_t completed,
                          uint32_t iteration);

/* Installs (on) or removes (off) the log hook that queues every record for
 * the coordinator. One peer per process may forward. */
void gpsc_peer_forward_logs(gpsc_peer_t *p, bool on);

/* Does what is due now: Hello (not welcomed and the retry interval passed),
 * Heartbeat (welcomed and the interval passed), queued log records
 * (welcomed), and notices coordinator silence. Returns the milliseconds
 * until something is next due (>= 0, at most 1000): a poll timeout. */
long gpsc_peer_tick(gpsc_peer_t *p);

/* Receives one message without blocking. Heartbeats and Refuse{unknown
 * peer} are consumed here (0 is not returned for them; the next message is
 * tried). Returns 0 with *out a message for the caller (which destroys
 * it; a Welcome is also recorded first), GPSC_EAGAIN when nothing is
 * waiting, or a decode code with err saying why (the message is dropped).
 * Every message counts as a sign of life of the coordinator. */
int gpsc_peer_recv(gpsc_peer_t *p, gpsc_wire_msg_t **out, char *err, size_t errsz);

/* Welcomed and not since lost. */
bool gpsc_peer_welcomed(const gpsc_peer_t *p);

/* Fields of the last Welcome ("" and 0 before one): run id, run seed,
 * config hash, the run's resolved config (YAML), heartbeat interval and
 * timeout (ms). The strings are owned by the peer, valid until the next
 * Welcome or destroy. */
const char *gpsc_peer_run_id(const gpsc_peer_t *p);
uint64_t gpsc_peer_run_seed(const gpsc_peer_t *p);
const char *gpsc_peer_config_hash(const gpsc_peer_t *p);
const char *gpsc_peer_config_yaml(const gpsc_peer_t *p);
uint32_t gpsc_peer_heartbeat_ms(const gpsc_peer_t *p);
uint32_t gpsc_peer_timeout_ms(const gpsc_peer_t *p);

/* Welcomes received so far (a service reloads when this grows). */
unsigned gpsc_peer_welcomes(const gpsc_peer_t *p);

/* Milliseconds since the last message from the coordinator (since the
 * peer was made, before any). */
uint64_t gpsc_peer_silence_ms(const gpsc_peer_t *p);

/* Monotonic clock in milliseconds (the peer's time base). */
uint64_t gpsc_peer_now_ms(void);

#endif
