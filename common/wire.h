/* wire.h — the gpsc wire layer: envelopes to bytes and back, validation,
 * ZeroMQ sockets and CURVE security.
 *
 * This module is the only code that touches ZeroMQ or protobuf-c packing.
 * Everyone else builds a Gpsc__Envelope (proto/gpsc.proto, generated into
 * proto/gpsc.pb-c.h) with any memory they like, hands it to
 * gpsc_wire_send() or gpsc_wire_encode(), and reads what arrives through a
 * gpsc_wire_msg_t, whose decoded envelope is read-only and owned by the
 * message:
 *
 *     Gpsc__Envelope env;
 *     gpsc_wire_env_init(&env, GPSC__ROLE__ROLE_WORKER, "worker-1", ++seq);
 *     Gpsc__WorkRequest wr = GPSC__WORK_REQUEST__INIT;
 *     wr.credit = 2;
 *     env.body_case = GPSC__ENVELOPE__BODY_WORK_REQUEST;
 *     env.work_request = &wr;
 *     rc = gpsc_wire_send(dealer, NULL, &env, 0);
 *
 *     gpsc_wire_msg_t *m = NULL;
 *     gpsc_wire_head_t from;
 *     rc = gpsc_wire_recv(router, &m, &from, 0, err, sizeof err);
 *     if (rc == 0) use(gpsc_wire_msg_env(m)); else log(err);   // peer: from
 *     gpsc_wire_msg_destroy(&m);
 *
 * Everything that arrives is decoded defensively: a message that is empty,
 * truncated, malformed, of another protocol version, too large, without a
 * body, of an unknown body type, from an unknown role, with array lengths
 * that do not match its dimensions, or with NaN/Inf where finite numbers are
 * required is refused with a distinct negative GPSC_E* code and a human
 * reason in `err` — never a crash, never a leak. Messages are validated
 * before they are sent as well, so a bug shows at the sender.
 *
 * Frames: a ZeroMQ message is [head] payload, where the optional head frame
 * is a routing identity (ROUTER) or a topic (PUB/SUB) of at most 255 bytes
 * and the payload is one packed Envelope. docs/protocol.md has the details.
 *
 * Thread safety: functions on different sockets may run on different
 * threads; one socket belongs to one thread at a time (ZeroMQ's rule). */
#ifndef GPSC_WIRE_H
#define GPSC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/gpsc.pb-c.h"

/* ------------------------------------------------------------------ limits */

#define GPSC_WIRE_VERSION 1u              /* protocol version spoken */
#define GPSC_WIRE_MAX_DEFAULT (16u << 20) /* (bytes) default message limit */
#define GPSC_WIRE_MAX_T 100000u           /* time steps of a trajectory/policy */
#define GPSC_WIRE_MAX_DIM 65536u          /* any one dimension (dX, dU, ...) */
#define GPSC_WIRE_MAX_LAYERS 32u          /* entries of NetworkPolicy.layer_sizes */
#define GPSC_WIRE_MAX_CREDIT 4096u        /* WorkRequest.credit, max_inflight */
#define GPSC_WIRE_MAX_CLUSTERS 1024u      /* Gmm.K */
#define GPSC_WIRE_MAX_TENSOR_RANK 8u      /* Tensor.shape entries */
#define GPSC_WIRE_MAX_ID 255u             /* (bytes) identifiers, endpoints */
#define GPSC_WIRE_MAX_LOG (64u << 10)     /* (bytes) LogRecord.message, details */
#define GPSC_WIRE_MAX_TEXT (4u << 20)     /* (bytes) config YAML, metrics JSON */
#define GPSC_WIRE_HEAD_MAX 255u           /* (bytes) head frame */

/* Decoding never holds more than GPSC_WIRE_EXPANSION * len +
 * GPSC_WIRE_EXPANSION_SLACK bytes of heap for an input of len bytes; a
 * message that would expand further is refused with GPSC_ETOOBIG. */
#define GPSC_WIRE_EXPANSION 24u
#define GPSC_WIRE_EXPANSION_SLACK (1u << 20)

/* ------------------------------------------------------------------ envelopes */

/* Resets *env to an empty envelope of this protocol version with the given
 * sender role, id and sequence number, and no body. The envelope borrows
 * `sender_id` (it must outlive the envelope's use; NULL means ""). */
void gpsc_wire_env_init(Gpsc__Envelope *env, Gpsc__Role role, const char *sender_id, uint64_t seq);

/* Short lowercase names ("trajectory", "worker"); "unknown" when out of
 * range. Static strings. */
const char *gpsc_wire_body_name(int body_case);
const char *gpsc_wire_role_name(int role);

/* ------------------------------------------------------------------ validation
 *
 * Each validator checks one message (and what it contains) completely:
 * enum values, ranges, identifiers and UTF-8 text, every array length
 * against its dimensions, finiteness of every number. Returns 0 or a
 * negative code and writes the first problem, naming the field, into err
 * (may be NULL when errsz is 0):
 *   GPSC_EVERSION   protocol version is not GPSC_WIRE_VERSION
 *   GPSC_EROLE      role missing or not one of Role
 *   GPSC_EEMPTY     envelope without a body
 *   GPSC_EMALFORMED a required sub-message is missing, an identifier has
 *                   bytes outside printable ASCII, text is not UTF-8
 *   GPSC_ERANGE     an enum, dimension, count or value outside its range
 *   GPSC_EDIM       an array length or a shape that does not match
 *   GPSC_ENONFINITE NaN or Inf where finite numbers are required
 *   GPSC_ENOTPD     a Cholesky factor that is not upper triangular with a
 *                   positive diagonal
 *   GPSC_EDUP       a repeated key (checkpoint condition, tensor name)
 *   GPSC_EINVAL     NULL message */
int gpsc_wire_validate(const Gpsc__Envelope *env, char *err, size_t errsz);
int gpsc_wire_validate_hello(const Gpsc__Hello *m, char *err, size_t errsz);
int gpsc_wire_validate_welcome(const Gpsc__Welcome *m, char *err, size_t errsz);
int gpsc_wire_validate_refuse(const Gpsc__Refuse *m, char *err, size_t errsz);
int gpsc_wire_validate_heartbeat(const Gpsc__Heartbeat *m, char *err, size_t errsz);
int gpsc_wire_validate_work_request(const Gpsc__WorkRequest *m, char *err, size_t errsz);
int gpsc_wire_validate_rollout_task(const Gpsc__RolloutTask *m, char *err, size_t errsz);
int gpsc_wire_validate_trajectory(const Gpsc__Trajectory *m, char *err, size_t errsz);
int gpsc_wire_validate_trajectory_ack(const Gpsc__TrajectoryAck *m, char *err, size_t errsz);
int gpsc_wire_validate_lin_gauss_policy(const Gpsc__LinGaussPolicy *m, char *err, size_t errsz);
int gpsc_wire_validate_network_policy(const Gpsc__NetworkPolicy *m, char *err, size_t errsz);
int gpsc_wire_validate_policy_request(const Gpsc__PolicyRequest *m, char *err, size_t errsz);
int gpsc_wire_validate_iteration_control(const Gpsc__IterationControl *m, char *err, size_t errsz);
int gpsc_wire_validate_log_record(const Gpsc__LogRecord *m, char *err, size_t errsz);
int gpsc_wire_validate_metrics(const Gpsc__Metrics *m, char *err, size_t errsz);
int gpsc_wire_validate_checkpoint(const Gpsc__Checkpoint *m, char *err, size_t errsz);

/* ------------------------------------------------------------------ bytes */

/* A decoded message: the envelope (read-only, owned by the message) and the
 * head frame it arrived with. */
typedef struct gpsc_wire_msg gpsc_wire_msg_t;

/* Routing identity (ROUTER) or topic (PUB/SUB); len 0 = none. Plain data. */
typedef struct gpsc_wire_head {
    size_t len;                       /* bytes used in data */
    uint8_t data[GPSC_WIRE_HEAD_MAX]; /* not NUL-terminated */
} gpsc_wire_head_t;

/* Fills *h with the `len` bytes at `data` (len <= GPSC_WIRE_HEAD_MAX, else
 * GPSC_ERANGE), or with the NUL-terminated string `text` for the _str form. */
int gpsc_wire_head_set(gpsc_wire_head_t *h, const void *data, size_t len);
int gpsc_wire_head_str(gpsc_wire_head_t *h, const char *text);

/* Bytes that gpsc_wire_encode() would produce for env (no validation). */
size_t gpsc_wire_packed_size(const Gpsc__Envelope *env);

/* Validates env (gpsc_wire_validate, same codes) and packs it into a new
 * malloc'd buffer: *buf (caller frees with free()) of *len bytes. On error
 * *buf is NULL and *len 0. GPSC_ENOMEM when out of memory. env is not
 * modified or retained. */
int gpsc_wire_encode(uint8_t **buf, size_t *len, const Gpsc__Envelope *env, char *err,
                     size_t errsz);

/* Decodes `len` bytes at buf into a new message *out (destroy it with
 * gpsc_wire_msg_destroy). The bytes are copied; buf may go after return.
 * `max_size` (bytes) bounds the input; 0 means GPSC_WIRE_MAX_DEFAULT.
 * On error *out is NULL, nothing is leaked, and the code is one of:
 *   GPSC_ENODATA    len is 0
 *   GPSC_ETOOBIG    len > max_size, or the message expands beyond the
 *                   decoding budget (GPSC_WIRE_EXPANSION)
 *   GPSC_EVERSION   Envelope.version missing or not GPSC_WIRE_VERSION
 *                   (checked before anything else is interpreted)
 *   GPSC_ETRUNC     the input ends inside a field
 *   GPSC_EMALFORMED not a valid protobuf encoding of an Envelope
 *   GPSC_ETYPE      a body type this version does not know (a newer peer)
 *   GPSC_EEMPTY     no body
 *   any code of gpsc_wire_validate()
 *   GPSC_EINVAL     out or buf NULL (buf may be NULL when len is 0)
 *   GPSC_ENOMEM     out of memory for the message itself */
int gpsc_wire_decode(gpsc_wire_msg_t **out, const uint8_t *buf, size_t len, size_t max_size,
                     char *err, size_t errsz);

/* The decoded envelope; valid until the message is destroyed. */
const Gpsc__Envelope *gpsc_wire_msg_env(const gpsc_wire_msg_t *m);

/* The head frame the message arrived with (len 0 when none / decoded from
 * bytes). */
const gpsc_wire_head_t *gpsc_wire_msg_head(const gpsc_wire_msg_t *m);

/* Encoded size (bytes) of the message as it arrived. */
size_t gpsc_wire_msg_size(const gpsc_wire_msg_t *m);

/* Frees the message and its envelope; accepts NULL and *p == NULL; sets
 * *p to NULL. */
void gpsc_wire_msg_destroy(gpsc_wire_msg_t **p);

/* ------------------------------------------------------------------ sockets */

/* Socket types (mapped to ZeroMQ's inside wire.c). */
typedef enum gpsc_wire_type {
    GPSC_WIRE_PAIR = 0,
    GPSC_WIRE_PUB = 1,
    GPSC_WIRE_SUB = 2,
    GPSC_WIRE_DEALER = 3,
    GPSC_WIRE_ROUTER = 4,
    GPSC_WIRE_PUSH = 5,
    GPSC_WIRE_PULL = 6
} gpsc_wire_type_t;

/* Flags of send/recv. */
#define GPSC_WIRE_DONTWAIT 1 /* fail with GPSC_EAGAIN instead of blocking */

/* Readiness bits of gpsc_wire_events() and gpsc_wire_poll(). */
#define GPSC_WIRE_IN 1  /* a message can be received */
#define GPSC_WIRE_OUT 2 /* a message can be sent */

typedef enum gpsc_wire_curve_mode {
    GPSC_WIRE_CURVE_NONE = 0,   /* plain TCP (NULL mechanism) */
    GPSC_WIRE_CURVE_SERVER = 1, /* accepts CURVE clients; the bind side */
    GPSC_WIRE_CURVE_CLIENT = 2  /* needs the server's public key */
} gpsc_wire_curve_mode_t;

/* A CURVE key pair in Z85 text (40 characters + NUL each). */
#define GPSC_WIRE_KEY_LEN 40
typedef struct gpsc_wire_keypair {
    char public_key[GPSC_WIRE_KEY_LEN + 1];
    char secret_key[GPSC_WIRE_KEY_LEN + 1]; /* "" when only the public key is known */
} gpsc_wire_keypair_t;

/* Socket options. Fill with gpsc_wire_opts_default() and change fields. */
typedef struct gpsc_wire_opts {
    size_t max_msg_size;                   /* (bytes) ZMQ_MAXMSGSIZE, and the limit of send
                                              and recv on this socket [GPSC_WIRE_MAX_DEFAULT] */
    int linger_ms;                         /* ZMQ_LINGER: how long close waits to flush [1000] */
    int sndhwm, rcvhwm;                    /* high-water marks (messages) [1000] */
    int sndtimeo_ms;                       /* blocking send timeout, -1 = forever [-1] */
    int rcvtimeo_ms;                       /* blocking recv timeout, -1 = forever [-1] */
    const char *routing_id;                /* ZMQ_ROUTING_ID (printable, 1..255 bytes) of a
                                              DEALER, so a ROUTER sees a stable id [NULL] */
    bool router_mandatory;                 /* ROUTER: sending to an unknown identity fails with
                                              GPSC_EUNKNOWN_PEER instead of vanishing [true] */
    gpsc_wire_curve_mode_t curve;          /* [GPSC_WIRE_CURVE_NONE] */
    const gpsc_wire_keypair_t *curve_keys; /* own keys: the server needs the
                                              secret key, a client both [NULL] */
    const char *curve_server_key;          /* client: server public key (Z85) [NULL] */
    const char *zap_domain;                /* server: ZAP domain ["gpsc"] */
} gpsc_wire_opts_t;

void gpsc_wire_opts_default(gpsc_wire_opts_t *o);

/* A ZeroMQ context (one per process); NULL when out of resources.
 * _destroy closes nothing: close every socket first (it waits for them,
 * and for each socket's linger). Accepts NULL; sets *ctx to NULL. */
void *gpsc_wire_ctx_new(void);
void gpsc_wire_ctx_destroy(void **ctx);

/* New socket of `type` in ctx with `opts` (NULL = defaults). Returns NULL
 * and writes why into err on failure (bad option, bad key, CURVE not built
 * into libzmq). The socket belongs to the caller: gpsc_wire_close(). */
void *gpsc_wire_socket(void *ctx, gpsc_wire_type_t type, const gpsc_wire_opts_t *opts, char *err,
                       size_t errsz);

/* Closes a socket; accepts NULL and *sock == NULL; sets *sock to NULL. */
void gpsc_wire_close(void **sock);

/* Binds to `endpoint` ("tcp://127.0.0.1:*" picks a free port) and writes the
 * endpoint actually bound into bound (when boundsz > 0; truncated to fit).
 * GPSC_ESYS (address in use, bad endpoint) or GPSC_EINVAL. */
int gpsc_wire_bind(void *sock, const char *endpoint, char *bound, size_t boundsz);

/* Connects to `endpoint`; returns at once (ZeroMQ connects in the
 * background and reconnects). GPSC_ESYS on a malformed endpoint. */
int gpsc_wire_connect(void *sock, const char *endpoint);

/* SUB: receive messages whose head starts with `prefix` ("" = all). */
int gpsc_wire_subscribe(void *sock, const char *prefix);

/* Validates env, packs it straight into a ZeroMQ frame and sends
 * [head] payload. head may be NULL or empty (no head frame); a ROUTER
 * needs the peer's routing identity, a PUB a topic. The envelope stays the
 * caller's; the packed frame is handed to ZeroMQ. Returns 0, a validation
 * code, GPSC_ETOOBIG (larger than the socket's max_msg_size: the peer would
 * drop the connection), GPSC_EAGAIN (DONTWAIT and the queue is full, or
 * the send timeout passed), GPSC_EUNKNOWN_PEER (ROUTER, no such identity),
 * GPSC_EINTR, GPSC_ESYS. */
int gpsc_wire_send(void *sock, const gpsc_wire_head_t *head, const Gpsc__Envelope *env, int flags);

/* Sends the envelope of *p with `head` (NULL = none; pass
 * gpsc_wire_msg_head(m) to forward it as it came) and destroys the
 * message: ownership moves on send, *p is NULL afterwards whatever the
 * result. Same codes as gpsc_wire_send(). */
int gpsc_wire_msg_send(gpsc_wire_msg_t **p, void *sock, const gpsc_wire_head_t *head, int flags);

/* Receives one whole message (all its frames) and decodes it with the
 * socket's max_msg_size. On success *out is a new message (head included).
 * On a decode error (any code of gpsc_wire_decode, or GPSC_EMALFORMED for
 * a frame layout other than [head] payload) the message is consumed, *out
 * is NULL, err says why, and *from (when not NULL) still holds the head so
 * that a ROUTER can answer the sender. GPSC_EAGAIN when DONTWAIT and
 * nothing is waiting or the receive timeout passed; GPSC_EINTR; GPSC_ESYS. */
int gpsc_wire_recv(void *sock, gpsc_wire_msg_t **out, gpsc_wire_head_t *from, int flags, char *err,
                   size_t errsz);

/* The socket's file descriptor for an event loop (uv_poll). It signals
 * edge-triggered: after it fires, read gpsc_wire_events() and receive while
 * GPSC_WIRE_IN is set. Returns 0 or GPSC_ESYS. */
int gpsc_wire_fd(void *sock, int *fd);

/* Current readiness: GPSC_WIRE_IN | GPSC_WIRE_OUT bits, or a negative code. */
int gpsc_wire_events(void *sock);

/* Waits until one of the n sockets can receive, or timeout_ms passes
 * (-1 = forever, 0 = just look). ready[i] is set to GPSC_WIRE_IN or 0.
 * Returns the number of ready sockets (0 on timeout), GPSC_EINTR, or
 * GPSC_ESYS. */
int gpsc_wire_poll(void *const *socks, int *ready, int n, long timeout_ms);

/* ------------------------------------------------------------------ CURVE */

/* True when libzmq was built with CURVE (libsodium). */
bool gpsc_wire_curve_available(void);

/* A fresh key pair. GPSC_ENOTSUP without CURVE. */
int gpsc_wire_curve_keypair(gpsc_wire_keypair_t *kp);

/* True when `z85` is a well-formed 40-character Z85 key. */
bool gpsc_wire_curve_key_valid(const char *z85);

/* Writes a key file: text lines `public-key = "..."` and, when
 * with_secret, `secret-key = "..."`. A secret file is created with mode
 * 0600. Replaces an existing file. GPSC_EIO / GPSC_EINVAL with a message. */
int gpsc_wire_curve_save(const char *path, const gpsc_wire_keypair_t *kp, bool with_secret,
                         char *err, size_t errsz);

/* Reads a key file written by gpsc_wire_curve_save (blank lines and
 * '#' comments allowed). A file with a secret key may omit the public key
 * (it is derived); when both are present they must belong together.
 * secret_key is "" for a public-only file. GPSC_ENOENT, GPSC_EIO,
 * GPSC_EPARSE ("path:line: message"), GPSC_EAUTH (keys do not match). */
int gpsc_wire_curve_load(gpsc_wire_keypair_t *kp, const char *path, char *err, size_t errsz);

/* ------------------------------------------------------------------ ZAP */

/* A ZAP handler (ZeroMQ RFC 27) serving inproc://zeromq.zap.01 of one
 * context from a background thread: a CURVE client whose public key is on
 * the allow-list is accepted, any other request (unknown key, NULL or
 * PLAIN mechanism) is denied. Without a ZAP handler a CURVE server accepts
 * every client that knows its public key. Create it before binding CURVE
 * server sockets; destroy it before closing the context. */
typedef struct gpsc_wire_zap gpsc_wire_zap_t;

/* Starts the handler with a copy of the n Z85 public keys. NULL with err
 * set on a malformed key or when the context already has a handler. */
gpsc_wire_zap_t *gpsc_wire_zap_new(void *ctx, const char *const *keys, size_t n, char *err,
                                   size_t errsz);

/* Stops the thread and frees; accepts NULL; sets *p to NULL. */
void gpsc_wire_zap_destroy(gpsc_wire_zap_t **p);

/* Requests accepted / denied so far. */
unsigned long gpsc_wire_zap_allowed(const gpsc_wire_zap_t *z);
unsigned long gpsc_wire_zap_denied(const gpsc_wire_zap_t *z);

/* The last denied request as "address mechanism key" text (key in Z85, "-"
 * when none), "" before any denial. Returns the denied count. */
unsigned long gpsc_wire_zap_last_denied(gpsc_wire_zap_t *z, char *buf, size_t bufsz);

/* ------------------------------------------------------------------ handshake monitor
 *
 * Peers that fail the security handshake never reach the application: a
 * CURVE client with the wrong server key, a peer without CURVE (or with
 * another mechanism), a client whose key ZAP denied. A monitor on a bind
 * socket reports each such failure so that a server can log it. It is
 * polled without blocking (from a timer); one monitor per socket. */
typedef struct gpsc_wire_monitor gpsc_wire_monitor_t;

/* Starts watching `sock` of ctx. NULL with err set on failure. Destroy the
 * monitor before closing sock. */
gpsc_wire_monitor_t *gpsc_wire_monitor_new(void *ctx, void *sock, char *err, size_t errsz);

/* Kinds of handshake failure (positive return values of _next). */
typedef enum gpsc_wire_hs_kind {
    GPSC_WIRE_HS_DENIED = 1,   /* a CURVE client whose key ZAP denied (not on the allow-list) */
    GPSC_WIRE_HS_NO_CURVE = 2, /* a peer without CURVE (another security mechanism) */
    GPSC_WIRE_HS_CRYPTO = 3,   /* a CURVE client with the wrong server key */
    GPSC_WIRE_HS_OTHER = 4     /* any other handshake failure */
} gpsc_wire_hs_kind_t;

/* Takes the next handshake failure without blocking: returns its kind
 * (> 0) with "<local endpoint>: <reason>" in buf (e.g. "tcp://0.0.0.0:5555:
 * security mechanism mismatch (a peer without CURVE keys?)"), 0 when none
 * is waiting, GPSC_EINVAL or GPSC_ESYS. */
int gpsc_wire_monitor_next(gpsc_wire_monitor_t *m, char *buf, size_t bufsz);

/* Stops watching and frees; accepts NULL; sets *p to NULL. */
void gpsc_wire_monitor_destroy(gpsc_wire_monitor_t **p);

#endif
