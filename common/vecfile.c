#include "vecfile.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

struct gpsc_vecset {
    gpsc_value_t *v;
    size_t n, cap;
};

static void errf(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || !errsz)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

gpsc_vecset_t *gpsc_vecset_new(void)
{
    return calloc(1, sizeof(gpsc_vecset_t));
}

static void value_free(gpsc_value_t *v)
{
    free(v->name);
    free(v->data);
    free(v->ilist);
    free(v->str);
}

void gpsc_vecset_destroy(gpsc_vecset_t **p)
{
    if (!p || !*p)
        return;
    for (size_t i = 0; i < (*p)->n; i++)
        value_free(&(*p)->v[i]);
    free((*p)->v);
    free(*p);
    *p = NULL;
}

size_t gpsc_vecset_count(const gpsc_vecset_t *s)
{
    return s->n;
}

const gpsc_value_t *gpsc_vecset_at(const gpsc_vecset_t *s, size_t i)
{
    return i < s->n ? &s->v[i] : NULL;
}

const gpsc_value_t *gpsc_vecset_find(const gpsc_vecset_t *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0)
            return &s->v[i];
    return NULL;
}

/* Appends a zeroed value named `name`; NULL on OOM. Replaces an existing
 * value of the same name. */
static gpsc_value_t *set_add(gpsc_vecset_t *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].name, name) == 0) {
            value_free(&s->v[i]);
            memset(&s->v[i], 0, sizeof(s->v[i]));
            s->v[i].name = strdup(name);
            return s->v[i].name ? &s->v[i] : NULL;
        }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        gpsc_value_t *nv = realloc(s->v, cap * sizeof(*nv));
        if (!nv)
            return NULL;
        s->v = nv;
        s->cap = cap;
    }
    gpsc_value_t *v = &s->v[s->n];
    memset(v, 0, sizeof(*v));
    v->name = strdup(name);
    if (!v->name)
        return NULL;
    s->n++;
    return v;
}

/* ---- parsing ---- */

static bool is_integral_json(const cJSON *j)
{
    /* cJSON keeps no int/float distinction; inspect the value */
    double d = j->valuedouble;
    return isfinite(d) && d == floor(d) && fabs(d) < 9.007199254740992e15;
}

static int parse_value(gpsc_vecset_t *s, const cJSON *j, const char *ctx, char *err, size_t errsz)
{
    const char *name = j->string;
    gpsc_value_t *v;
    if (cJSON_IsObject(j)) {
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(j, "shape");
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(j, "data");
        if (!cJSON_IsArray(shape) || !cJSON_IsArray(data)) {
            errf(err, errsz, "%s.%s: an array needs \"shape\" and \"data\" lists", ctx, name);
            return GPSC_EPARSE;
        }
        int nd = cJSON_GetArraySize(shape);
        if (nd < 1 || nd > GPSC_VEC_MAXDIM) {
            errf(err, errsz, "%s.%s: shape must have 1..%d entries, has %d", ctx, name,
                 GPSC_VEC_MAXDIM, nd);
            return GPSC_EPARSE;
        }
        if (!(v = set_add(s, name)))
            return GPSC_ENOMEM;
        v->type = GPSC_V_ARRAY;
        v->ndim = nd;
        size_t total = 1;
        int i = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, shape)
        {
            if (!cJSON_IsNumber(e) || !is_integral_json(e) || e->valuedouble < 0 ||
                e->valuedouble > 1e8) {
                errf(err, errsz, "%s.%s: shape[%d] is not a non-negative integer", ctx, name, i);
                return GPSC_EPARSE;
            }
            v->shape[i++] = (int)e->valuedouble;
            total *= (size_t)e->valuedouble;
            if (total > (size_t)1 << 31) {
                errf(err, errsz, "%s.%s: array too large", ctx, name);
                return GPSC_EPARSE;
            }
        }
        size_t nd_ = (size_t)cJSON_GetArraySize(data);
        if (nd_ != total) {
            errf(err, errsz, "%s.%s: data has %zu values but shape says %zu", ctx, name, nd_,
                 total);
            return GPSC_EPARSE;
        }
        v->n = total;
        v->data = malloc((total ? total : 1) * sizeof(double));
        if (!v->data)
            return GPSC_ENOMEM;
        size_t k = 0;
        cJSON_ArrayForEach(e, data)
        {
            if (!cJSON_IsNumber(e)) {
                errf(err, errsz, "%s.%s: data[%zu] is not a number", ctx, name, k);
                return GPSC_EPARSE;
            }
            v->data[k++] = e->valuedouble;
        }
        return 0;
    }
    if (cJSON_IsArray(j)) {
        if (!(v = set_add(s, name)))
            return GPSC_ENOMEM;
        v->type = GPSC_V_INTLIST;
        v->n = (size_t)cJSON_GetArraySize(j);
        v->ilist = calloc(v->n ? v->n : 1, sizeof(long long));
        if (!v->ilist)
            return GPSC_ENOMEM;
        size_t k = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, j)
        {
            if (!cJSON_IsNumber(e) || !is_integral_json(e)) {
                errf(err, errsz, "%s.%s[%zu]: expected an integer", ctx, name, k);
                return GPSC_EPARSE;
            }
            v->ilist[k++] = (long long)e->valuedouble;
        }
        return 0;
    }
    if (cJSON_IsString(j)) {
        if (!(v = set_add(s, name)))
            return GPSC_ENOMEM;
        v->type = GPSC_V_STRING;
        v->str = strdup(j->valuestring);
        return v->str ? 0 : GPSC_ENOMEM;
    }
    if (cJSON_IsNumber(j)) {
        if (!(v = set_add(s, name)))
            return GPSC_ENOMEM;
        /* both views are kept: a count may be read as a float and vice versa */
        v->type = GPSC_V_SCALAR;
        v->data = malloc(sizeof(double));
        if (!v->data)
            return GPSC_ENOMEM;
        v->data[0] = j->valuedouble;
        v->n = 1;
        if (is_integral_json(j))
            v->ival = (long long)j->valuedouble;
        return 0;
    }
    if (cJSON_IsBool(j)) {
        if (!(v = set_add(s, name)))
            return GPSC_ENOMEM;
        v->type = GPSC_V_INT;
        v->ival = cJSON_IsTrue(j);
        return 0;
    }
    errf(err, errsz, "%s.%s: unsupported JSON value", ctx, name);
    return GPSC_EPARSE;
}

static int parse_set(gpsc_vecset_t **out, const cJSON *obj, const char *ctx, char *err,
                     size_t errsz)
{
    if (!cJSON_IsObject(obj)) {
        errf(err, errsz, "\"%s\" is missing or not an object", ctx);
        return GPSC_EPARSE;
    }
    gpsc_vecset_t *s = gpsc_vecset_new();
    if (!s)
        return GPSC_ENOMEM;
    const cJSON *e;
    cJSON_ArrayForEach(e, obj)
    {
        int rc = parse_value(s, e, ctx, err, errsz);
        if (rc) {
            gpsc_vecset_destroy(&s);
            return rc;
        }
    }
    *out = s;
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

gpsc_vecfile_t *gpsc_vecfile_load(const char *path, char *err, size_t errsz)
{
    char sub[512] = "";
    size_t len = 0;
    char *text = slurp(path, &len);
    if (!text) {
        errf(err, errsz, "%s: cannot read file", path);
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        /* report the line of the parse error */
        size_t off = end ? (size_t)(end - text) : 0, line = 1;
        for (size_t i = 0; i < off && i < len; i++)
            line += text[i] == '\n';
        errf(err, errsz, "%s:%zu: invalid JSON near byte %zu", path, line, off);
        free(text);
        return NULL;
    }
    free(text);
    gpsc_vecfile_t *f = calloc(1, sizeof(*f));
    if (!f) {
        cJSON_Delete(root);
        errf(err, errsz, "%s: out of memory", path);
        return NULL;
    }
    f->path = strdup(path);
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "kind");
    const cJSON *cas = cJSON_GetObjectItemCaseSensitive(root, "case");
    const cJSON *rtol = cJSON_GetObjectItemCaseSensitive(root, "rtol");
    const cJSON *atol = cJSON_GetObjectItemCaseSensitive(root, "atol");
    if (!cJSON_IsObject(root) || !cJSON_IsString(kind)) {
        errf(sub, sizeof sub, "top level must be an object with a string \"kind\"");
        goto fail;
    }
    if (!cJSON_IsNumber(rtol) || !cJSON_IsNumber(atol) || rtol->valuedouble < 0 ||
        atol->valuedouble < 0) {
        errf(sub, sizeof sub, "\"rtol\" and \"atol\" must be non-negative numbers");
        goto fail;
    }
    f->kind = strdup(kind->valuestring);
    f->casename = strdup(cJSON_IsString(cas) ? cas->valuestring : "");
    f->rtol = rtol->valuedouble;
    f->atol = atol->valuedouble;
    if (parse_set(&f->inputs, cJSON_GetObjectItemCaseSensitive(root, "inputs"), "inputs", sub,
                  sizeof sub))
        goto fail;
    if (parse_set(&f->outputs, cJSON_GetObjectItemCaseSensitive(root, "outputs"), "outputs", sub,
                  sizeof sub))
        goto fail;
    cJSON_Delete(root);
    return f;
fail:
    errf(err, errsz, "%s: %s", path, sub);
    cJSON_Delete(root);
    gpsc_vecfile_destroy(&f);
    return NULL;
}

void gpsc_vecfile_destroy(gpsc_vecfile_t **p)
{
    if (!p || !*p)
        return;
    free((*p)->path);
    free((*p)->kind);
    free((*p)->casename);
    gpsc_vecset_destroy(&(*p)->inputs);
    gpsc_vecset_destroy(&(*p)->outputs);
    free(*p);
    *p = NULL;
}

/* ---- getters ---- */

static const gpsc_value_t *need(const gpsc_vecset_t *s, const char *name, char *err, size_t errsz)
{
    const gpsc_value_t *v = gpsc_vecset_find(s, name);
    if (!v)
        errf(err, errsz, "missing \"%s\"", name);
    return v;
}

int gpsc_vecset_array(const gpsc_vecset_t *s, const char *name, int ndim, const gpsc_value_t **out,
                      char *err, size_t errsz)
{
    const gpsc_value_t *v = need(s, name, err, errsz);
    if (!v)
        return GPSC_ENOENT;
    if (v->type != GPSC_V_ARRAY) {
        errf(err, errsz, "\"%s\" must be an array {shape, data}", name);
        return GPSC_EPARSE;
    }
    if (ndim >= 0 && v->ndim != ndim) {
        errf(err, errsz, "\"%s\" must have %d dimensions, has %d", name, ndim, v->ndim);
        return GPSC_EPARSE;
    }
    *out = v;
    return 0;
}

int gpsc_vecset_scalar(const gpsc_vecset_t *s, const char *name, double *out, char *err,
                       size_t errsz)
{
    const gpsc_value_t *v = need(s, name, err, errsz);
    if (!v)
        return GPSC_ENOENT;
    if (v->type != GPSC_V_SCALAR) {
        errf(err, errsz, "\"%s\" must be a number", name);
        return GPSC_EPARSE;
    }
    *out = v->data[0];
    return 0;
}

int gpsc_vecset_int(const gpsc_vecset_t *s, const char *name, long long *out, char *err,
                    size_t errsz)
{
    const gpsc_value_t *v = need(s, name, err, errsz);
    if (!v)
        return GPSC_ENOENT;
    if (v->type == GPSC_V_INT) {
        *out = v->ival;
        return 0;
    }
    if (v->type != GPSC_V_SCALAR || v->data[0] != (double)v->ival) {
        errf(err, errsz, "\"%s\" must be an integer", name);
        return GPSC_EPARSE;
    }
    *out = v->ival;
    return 0;
}

int gpsc_vecset_string(const gpsc_vecset_t *s, const char *name, const char **out, char *err,
                       size_t errsz)
{
    const gpsc_value_t *v = need(s, name, err, errsz);
    if (!v)
        return GPSC_ENOENT;
    if (v->type != GPSC_V_STRING) {
        errf(err, errsz, "\"%s\" must be a string", name);
        return GPSC_EPARSE;
    }
    *out = v->str;
    return 0;
}

int gpsc_vecset_intlist(const gpsc_vecset_t *s, const char *name, const long long **list,
                        size_t *n, char *err, size_t errsz)
{
    const gpsc_value_t *v = need(s, name, err, errsz);
    if (!v)
        return GPSC_ENOENT;
    if (v->type != GPSC_V_INTLIST) {
        errf(err, errsz, "\"%s\" must be a list of integers", name);
        return GPSC_EPARSE;
    }
    *list = v->ilist;
    *n = v->n;
    return 0;
}

/* ---- adders ---- */

int gpsc_vecset_new_array(gpsc_vecset_t *s, const char *name, int ndim, const int *shape,
                          double **data)
{
    if (ndim < 1 || ndim > GPSC_VEC_MAXDIM)
        return GPSC_EINVAL;
    gpsc_value_t *v = set_add(s, name);
    if (!v)
        return GPSC_ENOMEM;
    v->type = GPSC_V_ARRAY;
    v->ndim = ndim;
    v->n = 1;
    for (int i = 0; i < ndim; i++) {
        v->shape[i] = shape[i];
        v->n *= (size_t)shape[i];
    }
    v->data = calloc(v->n ? v->n : 1, sizeof(double));
    if (!v->data)
        return GPSC_ENOMEM;
    if (data)
        *data = v->data;
    return 0;
}

int gpsc_vecset_put_array(gpsc_vecset_t *s, const char *name, const double *data, int ndim,
                          const int *shape)
{
    double *d;
    int rc = gpsc_vecset_new_array(s, name, ndim, shape, &d);
    if (rc)
        return rc;
    const gpsc_value_t *v = gpsc_vecset_find(s, name);
    if (v->n)
        memcpy(d, data, v->n * sizeof(double));
    return 0;
}

int gpsc_vecset_put_scalar(gpsc_vecset_t *s, const char *name, double x)
{
    gpsc_value_t *v = set_add(s, name);
    if (!v)
        return GPSC_ENOMEM;
    v->type = GPSC_V_SCALAR;
    v->data = malloc(sizeof(double));
    if (!v->data)
        return GPSC_ENOMEM;
    v->data[0] = x;
    v->n = 1;
    return 0;
}

int gpsc_vecset_put_int(gpsc_vecset_t *s, const char *name, long long x)
{
    gpsc_value_t *v = set_add(s, name);
    if (!v)
        return GPSC_ENOMEM;
    v->type = GPSC_V_INT;
    v->ival = x;
    return 0;
}

/* ---- comparison and output ---- */

void gpsc_vec_compare(gpsc_cmp_t *res, const double *got, const double *expected, size_t n,
                      double rtol, double atol)
{
    res->pass = true;
    res->worst_abs = 0.0;
    res->worst_rel = 0.0;
    res->worst_index = 0;
    res->n = n;
    double worst_excess = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double e = expected[i], g = got[i];
        double d = fabs(g - e);
        if (isnan(g) != isnan(e) || (isinf(e) && g != e) || (!isinf(e) && isinf(g)))
            d = INFINITY;
        else if (isnan(e) || (isinf(e) && g == e))
            d = 0.0;
        double bound = atol + rtol * fabs(e);
        if (!(d <= bound))
            res->pass = false;
        if (d > res->worst_abs)
            res->worst_abs = d;
        if (e != 0.0 && d / fabs(e) > res->worst_rel)
            res->worst_rel = d / fabs(e);
        if (d - bound > worst_excess) {
            worst_excess = d - bound;
            res->worst_index = i;
        }
    }
}

void gpsc_fmt_double(char *buf, size_t bufsz, double v)
{
    if (isnan(v)) {
        snprintf(buf, bufsz, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, bufsz, v > 0 ? "Infinity" : "-Infinity");
        return;
    }
    for (int p = 15; p <= 17; p++) {
        snprintf(buf, bufsz, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    /* JSON needs a digit after a bare integer-looking float? no: "1" is a
     * valid JSON number and reads back as 1.0 */
}

int gpsc_vecset_write_json(FILE *f, const gpsc_vecset_t *set, int indent)
{
    char num[40];
    fprintf(f, "{");
    for (size_t i = 0; i < set->n; i++) {
        const gpsc_value_t *v = &set->v[i];
        fprintf(f, "%s\n%*s\"%s\": ", i ? "," : "", indent + 2, "", v->name);
        switch (v->type) {
        case GPSC_V_ARRAY:
            fprintf(f, "{\"shape\": [");
            for (int d = 0; d < v->ndim; d++)
                fprintf(f, "%s%d", d ? ", " : "", v->shape[d]);
            fprintf(f, "], \"data\": [");
            for (size_t k = 0; k < v->n; k++) {
                gpsc_fmt_double(num, sizeof num, v->data[k]);
                fprintf(f, "%s%s", k ? ", " : "", num);
            }
            fprintf(f, "]}");
            break;
        case GPSC_V_SCALAR:
            gpsc_fmt_double(num, sizeof num, v->data[0]);
            fprintf(f, "%s", num);
            break;
        case GPSC_V_INT:
            fprintf(f, "%lld", v->ival);
            break;
        case GPSC_V_STRING: {
            cJSON *s = cJSON_CreateString(v->str);
            char *t = s ? cJSON_PrintUnformatted(s) : NULL;
            fprintf(f, "%s", t ? t : "\"\"");
            cJSON_free(t);
            cJSON_Delete(s);
            break;
        }
        case GPSC_V_INTLIST:
            fprintf(f, "[");
            for (size_t k = 0; k < v->n; k++)
                fprintf(f, "%s%lld", k ? ", " : "", v->ilist[k]);
            fprintf(f, "]");
            break;
        }
    }
    fprintf(f, "\n%*s}", indent, "");
    return ferror(f) ? GPSC_EIO : 0;
}
