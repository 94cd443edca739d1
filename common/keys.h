/* keys.h — CURVE keys of the cluster roles: a process's own key pair, the
 * servers' public key, and allow-lists of client public keys, loaded from
 * the files `gpsc keygen` writes (common/wire.h, gpsc_wire_curve_save).
 *
 * A cluster with keys has one server key pair, held by the coordinator and
 * the learner (they bind every socket), and client key pairs for workers
 * (and for the learner's own connection to the coordinator it uses the
 * server pair). Every process gets three flags:
 *
 *   --curve-secret FILE       own key pair (a secret key file)
 *   --curve-server-key FILE   the servers' public key (clients: workers,
 *                             the learner's control connection)
 *   --allow-keys LIST         servers: client public keys allowed in
 *
 * and turns them into socket options with gpsc_keys_load() and
 * gpsc_keys_server_opts() / gpsc_keys_client_opts(); a server also starts
 * the ZAP allow-list with gpsc_keys_zap_new(). Without --curve-secret
 * everything stays plain TCP. */
#ifndef GPSC_KEYS_H
#define GPSC_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/wire.h"

/* A list of Z85 public keys, without duplicates, in the order read. */
typedef struct gpsc_keys_list {
    size_t n;                            /* keys */
    char (*keys)[GPSC_WIRE_KEY_LEN + 1]; /* (n) Z85 public keys, NUL-terminated */
    const char **ptrs;                   /* (n) keys[i], as gpsc_wire_zap_new() wants */
} gpsc_keys_list_t;

/* Reads an allow-list into *l (which is reset first; free it with
 * gpsc_keys_list_free). `list` is one or more comma-separated items, each
 * either
 *   - a directory: every "*.pub" file in it, in name order, or
 *   - a file of lines: blank, "# comment", `public-key = "Z85"` or a bare
 *     40-character Z85 key (so `cat *.pub > allow.txt` makes a list).
 * A `secret-key` line is refused (a secret key does not belong in an
 * allow-list). Returns 0, GPSC_ENOENT / GPSC_EIO (an item cannot be
 * read), GPSC_EPARSE ("file:line: message"), GPSC_ENODATA (no key at
 * all), GPSC_EINVAL (NULL), GPSC_ENOMEM. On error *l is empty. */
int gpsc_keys_list_load(gpsc_keys_list_t *l, const char *list, char *err, size_t errsz);

/* Adds one Z85 key unless it is already there. GPSC_EINVAL when the key is
 * malformed, GPSC_ENOMEM. */
int gpsc_keys_list_add(gpsc_keys_list_t *l, const char *z85);

/* True when z85 is on the list. */
bool gpsc_keys_list_has(const gpsc_keys_list_t *l, const char *z85);

/* Frees the arrays and empties *l; accepts NULL and an empty list. */
void gpsc_keys_list_free(gpsc_keys_list_t *l);

/* The keys of one process. Plain data; free with gpsc_keys_free(). */
typedef struct gpsc_keys {
    bool on;                                /* CURVE in use (own key pair loaded) */
    gpsc_wire_keypair_t own;                /* own key pair (secret_key set when on) */
    bool have_server;                       /* server_key is set */
    char server_key[GPSC_WIRE_KEY_LEN + 1]; /* servers' public key (Z85) */
    gpsc_keys_list_t allow;                 /* client keys allowed in (may be empty) */
} gpsc_keys_t;

/* Loads the keys named by the three flags (each may be NULL or ""):
 * `secret_path` the own key pair (must hold a secret key),
 * `server_path` a key file whose public key is the servers',
 * `allow` an allow-list (gpsc_keys_list_load).
 * Without secret_path, CURVE is off (k->on false) and giving either of the
 * others is GPSC_EINVAL ("--curve-server-key needs --curve-secret").
 * GPSC_ENOTSUP when libzmq has no CURVE; any code of gpsc_wire_curve_load
 * or gpsc_keys_list_load, with the file named in err. */
int gpsc_keys_load(gpsc_keys_t *k, const char *secret_path, const char *server_path,
                   const char *allow, char *err, size_t errsz);

/* Frees the allow-list and wipes the secret key; accepts NULL. */
void gpsc_keys_free(gpsc_keys_t *k);

/* Sets o's CURVE fields for a bind side (server) or a connect side
 * (client) when k->on; leaves o as it is when CURVE is off. o borrows
 * from k (k must outlive the socket's creation). A client without a
 * server key: GPSC_EINVAL. */
int gpsc_keys_server_opts(const gpsc_keys_t *k, gpsc_wire_opts_t *o);
int gpsc_keys_client_opts(const gpsc_keys_t *k, gpsc_wire_opts_t *o);

/* Starts the ZAP allow-list of ctx for a server when k->on: the allow-list
 * plus the process's own public key (so the learner, holding the server
 * pair, may connect to the coordinator). Returns NULL with *rc = 0 when
 * CURVE is off; NULL with *rc < 0 and err set on failure. */
gpsc_wire_zap_t *gpsc_keys_zap_new(const gpsc_keys_t *k, void *ctx, int *rc, char *err,
                                   size_t errsz);

#endif
