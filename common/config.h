/* config.h — YAML configuration documents with file:line:column errors.
 *
 * A document is parsed once (libyaml) into a tree of nodes that remember
 * where they came from. Typed getters read keys of mapping nodes and mark
 * them used; gpsc_cfg_check_unused() then reports the first key nobody
 * asked for, so a typo in an experiment file is an error, not a silently
 * ignored setting. The first error of any kind (syntax, type, range,
 * unknown key) is kept in the document as "file:line:column: message";
 * getters after an error still work, so loader code can read everything
 * and check once at the end:
 *
 *     gpsc_cfg_t *c = gpsc_cfg_load_file(path, err, sizeof err);
 *     const gpsc_cfg_node_t *root = gpsc_cfg_root(c);
 *     gpsc_cfg_int(c, root, "T", &T, GPSC_CFG_REQUIRED);
 *     gpsc_cfg_double(c, root, "dt", &dt, GPSC_CFG_OPTIONAL);
 *     if (T < 1) gpsc_cfg_fail(c, gpsc_cfg_get(root, "T"), "T must be >= 1");
 *     if (gpsc_cfg_check_unused(c) || gpsc_cfg_failed(c)) puts(gpsc_cfg_errmsg(c));
 *
 * Lines and columns are 1-based. Nodes belong to their document.
 *
 * Limits: 16 MiB per document, 64 levels of nesting, 2^20 nodes. Explicit
 * tags (!!str), anchors/aliases, non-scalar keys, NUL characters in
 * scalars and more than one document per file are refused. Only plain
 * (unquoted) scalars can be numbers, bools or null: a quoted "5" is a
 * string. Nothing here prints or logs; one document is not thread-safe. */
#ifndef GPSC_CONFIG_H
#define GPSC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gpsc_cfg gpsc_cfg_t;
typedef struct gpsc_cfg_node gpsc_cfg_node_t;

typedef enum gpsc_cfg_kind {
    GPSC_CFG_SCALAR = 1,
    GPSC_CFG_SEQ = 2,
    GPSC_CFG_MAP = 3
} gpsc_cfg_kind_t;

#define GPSC_CFG_OPTIONAL false
#define GPSC_CFG_REQUIRED true

/* Parses a YAML file / buffer (`name` is used in messages; NULL gives
 * "<string>"; `text` need not be NUL-terminated). Returns NULL and writes
 * "file:line:column: message" into err on a syntax error, aliases/anchors
 * (not supported), a duplicate key, a document whose root is not a
 * mapping (an empty file included) or a limit exceeded; "file: message"
 * for an unreadable or oversized file. On success err is set to "".
 * The caller owns the result; free it with gpsc_cfg_destroy (takes NULL,
 * nulls the pointer). */
gpsc_cfg_t *gpsc_cfg_load_file(const char *path, char *err, size_t errsz);
gpsc_cfg_t *gpsc_cfg_load_string(const char *text, size_t len, const char *name, char *err,
                                 size_t errsz);
void gpsc_cfg_destroy(gpsc_cfg_t **p);

const gpsc_cfg_node_t *gpsc_cfg_root(const gpsc_cfg_t *c);
const char *gpsc_cfg_name(const gpsc_cfg_t *c); /* the file name given */

/* Node inspection. All accept NULL (kind 0, line 0, text NULL, len 0). */
gpsc_cfg_kind_t gpsc_cfg_kind(const gpsc_cfg_node_t *n);
int gpsc_cfg_line(const gpsc_cfg_node_t *n);
int gpsc_cfg_column(const gpsc_cfg_node_t *n);
const char *gpsc_cfg_text(const gpsc_cfg_node_t *n); /* scalar text, NULL otherwise */
size_t gpsc_cfg_len(const gpsc_cfg_node_t *n);       /* entries of a seq or map */
const gpsc_cfg_node_t *gpsc_cfg_at(const gpsc_cfg_node_t *seq, size_t i);
/* i-th key (text) and value of a mapping; marks nothing. */
const char *gpsc_cfg_key_at(const gpsc_cfg_node_t *map, size_t i);
const gpsc_cfg_node_t *gpsc_cfg_value_at(const gpsc_cfg_node_t *map, size_t i);

/* Value of `key` in mapping `map` WITHOUT marking it used; NULL if absent
 * or if map is not a mapping. */
const gpsc_cfg_node_t *gpsc_cfg_get(const gpsc_cfg_node_t *map, const char *key);

/* Marks `key` of `map` used and returns its value (NULL if absent; records
 * "missing key" when required). */
const gpsc_cfg_node_t *gpsc_cfg_take(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                                     bool required);

/* Typed getters on a key of `map`. Each returns 1 when the key was present
 * and *out was set, 0 when absent (*out untouched; an error is recorded if
 * required), and a negative GPSC_E* code when the value has the wrong type
 * (GPSC_ECONFIG), is out of range (GPSC_ERANGE) or is a list of the wrong
 * length (GPSC_EDIM); the error is recorded with the value's location and
 * *out is untouched. A `map` that is not a mapping records an error and
 * gives GPSC_ECONFIG; a NULL `map` (an absent optional section) gives 0
 * and records nothing.
 * Numbers accept the YAML 1.2 forms 3, -3, 0x1F, 0o17, 0.5, .5, 1e-6;
 * ".inf"/".nan", "1_000" and an ambiguous leading zero ("010") are refused.
 * Ints must be integral (3.0 and 1e3 are fine) and fit in int; u64 must
 * be >= 0; bools are true/false/yes/no/on/off (also capitalised). Strings
 * are any scalar except a plain null ("", "~", "null"). */
int gpsc_cfg_double(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, double *out,
                    bool required);
int gpsc_cfg_int(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, int *out,
                 bool required);
int gpsc_cfg_u64(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                 unsigned long long *out, bool required);
int gpsc_cfg_bool(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, bool *out,
                  bool required);
/* *out points into the document (valid until it is destroyed). */
int gpsc_cfg_string(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                    const char **out, bool required);
/* One of `choices` (NULL-terminated); *out is its index. */
int gpsc_cfg_enum(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                  const char *const *choices, int *out, bool required);
/* A sequence of numbers (or a single number, taken as a list of one) into
 * out[0..max-1]; *n gets the count (n may be NULL). More than `max`
 * entries is an error. When `expect` > 0 the count must equal it. Every
 * element is checked before anything is written: on error out and *n are
 * untouched. */
int gpsc_cfg_doubles(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, double *out,
                     int max, int *n, int expect, bool required);
int gpsc_cfg_ints(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key, int *out, int max,
                  int *n, int expect, bool required);
/* A nested mapping / sequence (marked used). NULL when absent or when the
 * value has the wrong kind (error recorded). */
const gpsc_cfg_node_t *gpsc_cfg_map(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                                    bool required);
const gpsc_cfg_node_t *gpsc_cfg_seq(gpsc_cfg_t *c, const gpsc_cfg_node_t *map, const char *key,
                                    bool required);

/* Scalar conversions of a node itself (for sequence elements). Return 0
 * and set *out, or a negative code with the error recorded at n
 * (GPSC_EINVAL without a record when n is NULL). */
int gpsc_cfg_node_double(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, double *out);
int gpsc_cfg_node_int(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, int *out);

/* Records an error at node n's location (or the document's start when n is
 * NULL) unless one is recorded already. Returns GPSC_ECONFIG. */
int gpsc_cfg_fail(gpsc_cfg_t *c, const gpsc_cfg_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Walks the whole tree and records an "unknown key 'k'" error for the
 * first mapping key never taken (in document order). Mappings that were
 * never taken themselves are reported by their own key, not by their
 * children. Returns 0 or GPSC_ECONFIG. */
int gpsc_cfg_check_unused(gpsc_cfg_t *c);

bool gpsc_cfg_failed(const gpsc_cfg_t *c);
/* The first error, "file:line:column: message", or "" when none. */
const char *gpsc_cfg_errmsg(const gpsc_cfg_t *c);

#endif
