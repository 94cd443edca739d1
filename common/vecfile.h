/* vecfile.h — reference test-vector files (JSON) and computed outputs.
 *
 * The format is fixed by ../shared/reference/README.md section 2:
 *   {"kind", "case", "description", "dims", "inputs": {...},
 *    "outputs": {...}, "rtol", "atol"}
 * where an array is {"shape": [...], "data": [...]} in row-major order,
 * scalars are plain numbers, options are strings and `joint_idx` is a list
 * of integers. Numbers are parsed with strtod (exact round trip).
 *
 * gpsc_vecset_t is a named collection of values (the "inputs" or "outputs"
 * object); the same type holds what a kernel computed, so it can be
 * compared with a file's outputs or printed in the file's format. */
#ifndef GPSC_VECFILE_H
#define GPSC_VECFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define GPSC_VEC_MAXDIM 6

typedef enum gpsc_vtype {
    GPSC_V_ARRAY = 1,  /* float array with a shape */
    GPSC_V_SCALAR = 2, /* float scalar */
    GPSC_V_INT = 3,    /* integer scalar */
    GPSC_V_STRING = 4, /* option string */
    GPSC_V_INTLIST = 5 /* plain list of integers (joint_idx) */
} gpsc_vtype_t;

typedef struct gpsc_value {
    char *name;
    gpsc_vtype_t type;
    int ndim;                    /* ARRAY: number of dimensions (>= 1) */
    int shape[GPSC_VEC_MAXDIM];  /* ARRAY: sizes */
    size_t n;                    /* ARRAY: elements; INTLIST: entries */
    double *data;                /* ARRAY: n values; SCALAR: 1 value */
    long long ival;              /* INT */
    long long *ilist;            /* INTLIST: n entries */
    char *str;                   /* STRING */
} gpsc_value_t;

typedef struct gpsc_vecset gpsc_vecset_t;

typedef struct gpsc_vecfile {
    char *path;
    char *kind;
    char *casename;
    double rtol, atol;
    gpsc_vecset_t *inputs;
    gpsc_vecset_t *outputs;
} gpsc_vecfile_t;

/* Loads and validates a vector file (every array has len(data) ==
 * prod(shape), required top-level fields present). Returns NULL and writes
 * "path: reason" into err on failure. */
gpsc_vecfile_t *gpsc_vecfile_load(const char *path, char *err, size_t errsz);
void gpsc_vecfile_destroy(gpsc_vecfile_t **p);

/* Empty set; NULL on OOM. */
gpsc_vecset_t *gpsc_vecset_new(void);
void gpsc_vecset_destroy(gpsc_vecset_t **p);
size_t gpsc_vecset_count(const gpsc_vecset_t *s);
const gpsc_value_t *gpsc_vecset_at(const gpsc_vecset_t *s, size_t i);
const gpsc_value_t *gpsc_vecset_find(const gpsc_vecset_t *s, const char *name);

/* Typed getters. Each returns 0, GPSC_ENOENT (missing; err says which) or
 * GPSC_EPARSE (wrong type or shape; err says what was expected).
 * `ndim` < 0 accepts any rank. The returned pointers belong to the set. */
int gpsc_vecset_array(const gpsc_vecset_t *s, const char *name, int ndim, const gpsc_value_t **out,
                      char *err, size_t errsz);
int gpsc_vecset_scalar(const gpsc_vecset_t *s, const char *name, double *out, char *err,
                       size_t errsz);
int gpsc_vecset_int(const gpsc_vecset_t *s, const char *name, long long *out, char *err,
                    size_t errsz);
int gpsc_vecset_string(const gpsc_vecset_t *s, const char *name, const char **out, char *err,
                       size_t errsz);
int gpsc_vecset_intlist(const gpsc_vecset_t *s, const char *name, const long long **list,
                        size_t *n, char *err, size_t errsz);

/* Adders for computed outputs. Arrays are copied unless noted. `shape` has
 * ndim entries. Return 0 or GPSC_ENOMEM. */
int gpsc_vecset_put_array(gpsc_vecset_t *s, const char *name, const double *data, int ndim,
                          const int *shape);
/* Adds a zero-filled array and returns its data pointer through *data. */
int gpsc_vecset_new_array(gpsc_vecset_t *s, const char *name, int ndim, const int *shape,
                          double **data);
int gpsc_vecset_put_scalar(gpsc_vecset_t *s, const char *name, double v);
int gpsc_vecset_put_int(gpsc_vecset_t *s, const char *name, long long v);

/* Comparison of one float array/scalar by |got - exp| <= atol + rtol |exp|.
 * Reports the worst absolute error and the worst relative error
 * (|got-exp|/|exp| over elements with exp != 0). */
typedef struct gpsc_cmp {
    bool pass;
    double worst_abs;
    double worst_rel;
    size_t worst_index; /* element with the largest excess over the bound */
    size_t n;
} gpsc_cmp_t;

void gpsc_vec_compare(gpsc_cmp_t *res, const double *got, const double *expected, size_t n,
                      double rtol, double atol);

/* Writes `set` as a JSON object body in the file format (arrays as
 * {"shape","data"}, doubles in shortest round-trip form). */
int gpsc_vecset_write_json(FILE *f, const gpsc_vecset_t *set, int indent);

/* Shortest "%.{15,16,17}g" text that strtod reads back to v exactly. */
void gpsc_fmt_double(char *buf, size_t bufsz, double v);

#endif
