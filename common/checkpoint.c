/* checkpoint.c — checkpoint messages and files (see checkpoint.h). */
#include "common/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/wire.h"

/* one owned allocation; blocks form a singly linked list */
typedef struct block {
    struct block *next;
    max_align_t data[]; /* the memory handed out */
} block_t;

struct gpsc_checkpoint {
    Gpsc__Checkpoint msg; /* the message being built */
    block_t *blocks;      /* everything allocated for it */
    gpsc_wire_msg_t *decoded; /* when read: owns the decoded envelope */
};

static int fail(int rc, char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int rc, char *err, size_t errsz, const char *fmt, ...)
{
    if (err && errsz) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return rc;
}

gpsc_checkpoint_t *gpsc_checkpoint_new(void)
{
    gpsc_checkpoint_t *ck = calloc(1, sizeof *ck);
    if (!ck)
        return NULL;
    ck->msg = (Gpsc__Checkpoint)GPSC__CHECKPOINT__INIT;
    return ck;
}

void gpsc_checkpoint_destroy(gpsc_checkpoint_t **p)
{
    if (!p || !*p)
        return;
    gpsc_checkpoint_t *ck = *p;
    for (block_t *b = ck->blocks; b;) {
        block_t *n = b->next;
        free(b);
        b = n;
    }
    gpsc_wire_msg_destroy(&ck->decoded);
    free(ck);
    *p = NULL;
}

Gpsc__Checkpoint *gpsc_checkpoint_msg(gpsc_checkpoint_t *ck)
{
    if (!ck)
        return NULL;
    if (ck->decoded)
        return (Gpsc__Checkpoint *)gpsc_wire_msg_env(ck->decoded)->checkpoint;
    return &ck->msg;
}

const Gpsc__Checkpoint *gpsc_checkpoint_get(const gpsc_checkpoint_t *ck)
{
    return gpsc_checkpoint_msg((gpsc_checkpoint_t *)ck);
}

void *gpsc_checkpoint_alloc(gpsc_checkpoint_t *ck, size_t bytes)
{
    if (!ck || bytes > SIZE_MAX - sizeof(block_t))
        return NULL;
    block_t *b = calloc(1, sizeof(block_t) + (bytes ? bytes : 1));
    if (!b)
        return NULL;
    b->next = ck->blocks;
    ck->blocks = b;
    return b->data;
}

double *gpsc_checkpoint_doubles(gpsc_checkpoint_t *ck, const double *src, size_t n)
{
    if (n == 0 || n > SIZE_MAX / sizeof(double))
        return NULL;
    double *d = gpsc_checkpoint_alloc(ck, n * sizeof(double));
    if (d && src)
        memcpy(d, src, n * sizeof(double));
    return d;
}

char *gpsc_checkpoint_strdup(gpsc_checkpoint_t *ck, const char *s)
{
    if (!s)
        s = "";
    size_t n = strlen(s);
    char *d = gpsc_checkpoint_alloc(ck, n + 1);
    if (d)
        memcpy(d, s, n + 1);
    return d;
}

int gpsc_checkpoint_append(gpsc_checkpoint_t *ck, void ***list, size_t *n, void *item)
{
    void **nl = gpsc_checkpoint_alloc(ck, (*n + 1) * sizeof(void *));
    if (!nl)
        return GPSC_ENOMEM;
    if (*n)
        memcpy(nl, *list, *n * sizeof(void *));
    nl[(*n)++] = item;
    *list = nl;
    return 0;
}

/* ------------------------------------------------------------------ pieces out */

/* *dst = copy of n doubles; false when out of memory */
static bool put_arr(gpsc_checkpoint_t *ck, double **dst, size_t *ndst, const double *src, size_t n)
{
    *ndst = 0;
    *dst = NULL;
    if (n == 0)
        return true;
    *dst = gpsc_checkpoint_doubles(ck, src, n);
    if (!*dst)
        return false;
    *ndst = n;
    return true;
}

Gpsc__LinGaussPolicy *gpsc_checkpoint_put_lgpolicy(gpsc_checkpoint_t *ck,
                                                   const gpsc_lgpolicy_t *p, uint32_t condition,
                                                   uint32_t version)
{
    Gpsc__LinGaussPolicy *m = gpsc_checkpoint_alloc(ck, sizeof *m);
    if (!m || !p)
        return NULL;
    *m = (Gpsc__LinGaussPolicy)GPSC__LIN_GAUSS_POLICY__INIT;
    size_t T = (size_t)p->T, dX = (size_t)p->dX, dU = (size_t)p->dU;
    m->condition = condition;
    m->version = version;
    m->t = (uint32_t)p->T;
    m->dx = (uint32_t)p->dX;
    m->du = (uint32_t)p->dU;
    if (!put_arr(ck, &m->k, &m->n_k, p->K, T * dU * dX) ||
        !put_arr(ck, &m->k_ff, &m->n_k_ff, p->k, T * dU) ||
        !put_arr(ck, &m->pol_covar, &m->n_pol_covar, p->pol_covar, T * dU * dU) ||
        !put_arr(ck, &m->chol_pol_covar, &m->n_chol_pol_covar, p->chol, T * dU * dU) ||
        !put_arr(ck, &m->inv_pol_covar, &m->n_inv_pol_covar, p->inv_pol_covar, T * dU * dU))
        return NULL;
    return m;
}

Gpsc__Gmm *gpsc_checkpoint_put_gmm(gpsc_checkpoint_t *ck, const double *logmass, const double *mu,
                                   const double *sigma, int K, int D)
{
    Gpsc__Gmm *g = gpsc_checkpoint_alloc(ck, sizeof *g);
    if (!g || K < 1 || D < 1)
        return NULL;
    *g = (Gpsc__Gmm)GPSC__GMM__INIT;
    g->k = (uint32_t)K;
    g->d = (uint32_t)D;
    if (!put_arr(ck, &g->weights, &g->n_weights, NULL, (size_t)K) ||
        !put_arr(ck, &g->means, &g->n_means, mu, (size_t)K * D) ||
        !put_arr(ck, &g->covars, &g->n_covars, sigma, (size_t)K * D * D))
        return NULL;
    for (int k = 0; k < K; k++)
        g->weights[k] = exp(logmass[k]);
    return g;
}

Gpsc__SampleBuffer *gpsc_checkpoint_put_samples(gpsc_checkpoint_t *ck, const double *X,
                                                const double *U, const double *O,
                                                const Gpsc__TaskKey *keys, int N, int T, int dX,
                                                int dU, int dO)
{
    Gpsc__SampleBuffer *s = gpsc_checkpoint_alloc(ck, sizeof *s);
    if (!s)
        return NULL;
    *s = (Gpsc__SampleBuffer)GPSC__SAMPLE_BUFFER__INIT;
    size_t NT = (size_t)N * T;
    s->n = (uint32_t)N;
    s->t = (uint32_t)T;
    s->dx = (uint32_t)dX;
    s->du = (uint32_t)dU;
    s->do_ = (uint32_t)(O ? dO : 0);
    if (!put_arr(ck, &s->x, &s->n_x, X, NT * dX) || !put_arr(ck, &s->u, &s->n_u, U, NT * dU) ||
        !put_arr(ck, &s->o, &s->n_o, O, O ? NT * dO : 0))
        return NULL;
    if (keys && N > 0) {
        s->keys = gpsc_checkpoint_alloc(ck, (size_t)N * sizeof(Gpsc__TaskKey *));
        Gpsc__TaskKey *kk = gpsc_checkpoint_alloc(ck, (size_t)N * sizeof(Gpsc__TaskKey));
        if (!s->keys || !kk)
            return NULL;
        for (int i = 0; i < N; i++) {
            kk[i] = (Gpsc__TaskKey)GPSC__TASK_KEY__INIT;
            kk[i].iteration = keys[i].iteration;
            kk[i].condition = keys[i].condition;
            kk[i].sample_index = keys[i].sample_index;
            s->keys[i] = &kk[i];
        }
        s->n_keys = (size_t)N;
    }
    return s;
}

Gpsc__NetworkPolicy *gpsc_checkpoint_put_network(gpsc_checkpoint_t *ck, const gpsc_mlp_t *net,
                                                 uint32_t version)
{
    Gpsc__NetworkPolicy *m = gpsc_checkpoint_alloc(ck, sizeof *m);
    if (!m || !net)
        return NULL;
    *m = (Gpsc__NetworkPolicy)GPSC__NETWORK_POLICY__INIT;
    m->version = version;
    m->do_ = (uint32_t)net->dO;
    m->du = (uint32_t)net->dU;
    m->activation = net->act == GPSC_MLP_TANH ? GPSC__ACTIVATION__ACT_TANH
                                               : GPSC__ACTIVATION__ACT_RELU;
    m->n_layer_sizes = (size_t)net->n_layers + 1;
    m->layer_sizes = gpsc_checkpoint_alloc(ck, m->n_layer_sizes * sizeof(uint32_t));
    if (!m->layer_sizes)
        return NULL;
    size_t nw = 0, nb = 0;
    for (int l = 0; l <= net->n_layers; l++)
        m->layer_sizes[l] = (uint32_t)net->width[l];
    for (int l = 0; l < net->n_layers; l++) {
        nw += (size_t)net->width[l] * net->width[l + 1];
        nb += (size_t)net->width[l + 1];
    }
    if (!put_arr(ck, &m->weights, &m->n_weights, NULL, nw) ||
        !put_arr(ck, &m->biases, &m->n_biases, NULL, nb) ||
        !put_arr(ck, &m->obs_mean, &m->n_obs_mean, net->obs_mean, (size_t)net->dO) ||
        !put_arr(ck, &m->obs_scale, &m->n_obs_scale, net->obs_scale, (size_t)net->dO) ||
        !put_arr(ck, &m->pol_var, &m->n_pol_var, net->var, (size_t)net->dU))
        return NULL;
    size_t ow = 0, ob = 0;
    for (int l = 0; l < net->n_layers; l++) {
        size_t w = (size_t)net->width[l] * net->width[l + 1], b = (size_t)net->width[l + 1];
        memcpy(m->weights + ow, net->W[l], w * sizeof(double));
        memcpy(m->biases + ob, net->b[l], b * sizeof(double));
        ow += w;
        ob += b;
    }
    return m;
}

Gpsc__Tensor *gpsc_checkpoint_put_tensor(gpsc_checkpoint_t *ck, const char *name,
                                         const uint32_t *shape, int rank, const double *data)
{
    if (rank < 1 || rank > 8)
        return NULL;
    Gpsc__Tensor *t = gpsc_checkpoint_alloc(ck, sizeof *t);
    if (!t)
        return NULL;
    *t = (Gpsc__Tensor)GPSC__TENSOR__INIT;
    t->name = gpsc_checkpoint_strdup(ck, name);
    t->shape = gpsc_checkpoint_alloc(ck, (size_t)rank * sizeof(uint32_t));
    if (!t->name || !t->shape)
        return NULL;
    size_t n = 1;
    for (int i = 0; i < rank; i++) {
        t->shape[i] = shape[i];
        n *= shape[i];
    }
    t->n_shape = (size_t)rank;
    if (!put_arr(ck, &t->data, &t->n_data, data, n))
        return NULL;
    return t;
}

/* ------------------------------------------------------------------ pieces in */

int gpsc_checkpoint_get_lgpolicy(gpsc_lgpolicy_t *p, const Gpsc__LinGaussPolicy *m, char *err,
                                 size_t errsz)
{
    if (!p || !m)
        return fail(GPSC_EINVAL, err, errsz, "lin_gauss_policy: NULL");
    if ((int)m->t != p->T || (int)m->dx != p->dX || (int)m->du != p->dU)
        return fail(GPSC_EDIM, err, errsz,
                    "lin_gauss_policy: (T, dX, dU) = (%u, %u, %u), expected (%d, %d, %d)", m->t,
                    m->dx, m->du, p->T, p->dX, p->dU);
    size_t T = (size_t)p->T, dX = (size_t)p->dX, dU = (size_t)p->dU;
    if (m->n_k != T * dU * dX || m->n_k_ff != T * dU || m->n_pol_covar != T * dU * dU ||
        m->n_chol_pol_covar != T * dU * dU || m->n_inv_pol_covar != T * dU * dU)
        return fail(GPSC_EDIM, err, errsz, "lin_gauss_policy: array lengths do not match");
    memcpy(p->K, m->k, m->n_k * sizeof(double));
    memcpy(p->k, m->k_ff, m->n_k_ff * sizeof(double));
    memcpy(p->pol_covar, m->pol_covar, m->n_pol_covar * sizeof(double));
    memcpy(p->chol, m->chol_pol_covar, m->n_chol_pol_covar * sizeof(double));
    memcpy(p->inv_pol_covar, m->inv_pol_covar, m->n_inv_pol_covar * sizeof(double));
    return 0;
}

int gpsc_checkpoint_get_network(gpsc_mlp_t *net, const Gpsc__NetworkPolicy *m, char *err,
                                size_t errsz)
{
    if (!net || !m)
        return fail(GPSC_EINVAL, err, errsz, "network_policy: NULL");
    gpsc_mlp_act_t act = m->activation == GPSC__ACTIVATION__ACT_TANH ? GPSC_MLP_TANH
                                                                       : GPSC_MLP_RELU;
    if (m->n_layer_sizes != (size_t)net->n_layers + 1 || act != net->act ||
        (int)m->do_ != net->dO || (int)m->du != net->dU)
        return fail(GPSC_EDIM, err, errsz, "network_policy: shape or activation differs");
    size_t nw = 0, nb = 0;
    for (int l = 0; l <= net->n_layers; l++)
        if ((int)m->layer_sizes[l] != net->width[l])
            return fail(GPSC_EDIM, err, errsz, "network_policy: layer %d has %u units, expected %d",
                        l, m->layer_sizes[l], net->width[l]);
    for (int l = 0; l < net->n_layers; l++) {
        nw += (size_t)net->width[l] * net->width[l + 1];
        nb += (size_t)net->width[l + 1];
    }
    if (m->n_weights != nw || m->n_biases != nb || m->n_obs_mean != (size_t)net->dO ||
        m->n_obs_scale != (size_t)net->dO || m->n_pol_var != (size_t)net->dU)
        return fail(GPSC_EDIM, err, errsz, "network_policy: array lengths do not match");
    size_t ow = 0, ob = 0;
    for (int l = 0; l < net->n_layers; l++) {
        size_t w = (size_t)net->width[l] * net->width[l + 1], b = (size_t)net->width[l + 1];
        memcpy(net->W[l], m->weights + ow, w * sizeof(double));
        memcpy(net->b[l], m->biases + ob, b * sizeof(double));
        ow += w;
        ob += b;
    }
    memcpy(net->obs_mean, m->obs_mean, m->n_obs_mean * sizeof(double));
    memcpy(net->obs_scale, m->obs_scale, m->n_obs_scale * sizeof(double));
    memcpy(net->var, m->pol_var, m->n_pol_var * sizeof(double));
    return 0;
}

const Gpsc__Tensor *gpsc_checkpoint_find_tensor(Gpsc__Tensor *const *list, size_t n,
                                                const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && list[i]->name && strcmp(list[i]->name, name) == 0)
            return list[i];
    return NULL;
}

/* ------------------------------------------------------------------ identity */

uint64_t gpsc_checkpoint_fnv1a(const void *data, size_t len, uint64_t h)
{
    const unsigned char *p = data;
    if (h == 0)
        h = 0xcbf29ce484222325ULL; /* offset basis */
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL; /* FNV prime */
    }
    return h;
}

void gpsc_checkpoint_config_hash(char out[25], const char *text, size_t len)
{
    uint64_t h = gpsc_checkpoint_fnv1a(text, len, 0);
    snprintf(out, 25, "fnv1a64:%016llx", (unsigned long long)h);
}

void gpsc_checkpoint_run_id(char *out, size_t outsz, const char *name, const char *config_hash,
                            uint64_t seed)
{
    unsigned char sb[8];
    for (int i = 0; i < 8; i++)
        sb[i] = (unsigned char)(seed >> (8 * i));
    uint64_t h = gpsc_checkpoint_fnv1a(config_hash ? config_hash : "",
                                       config_hash ? strlen(config_hash) : 0, 0);
    h = gpsc_checkpoint_fnv1a(sb, sizeof sb, h);
    snprintf(out, outsz, "%.48s-s%llu-%08llx", name && *name ? name : "run",
             (unsigned long long)seed, (unsigned long long)(h & 0xffffffffULL));
}

/* ------------------------------------------------------------------ files */

int gpsc_checkpoint_encode(uint8_t **buf, size_t *len, const gpsc_checkpoint_t *ck, char *err,
                           size_t errsz)
{
    if (!buf || !len || !ck)
        return fail(GPSC_EINVAL, err, errsz, "checkpoint: NULL");
    const Gpsc__Checkpoint *m = gpsc_checkpoint_get(ck);
    Gpsc__Envelope env;
    gpsc_wire_env_init(&env, GPSC__ROLE__ROLE_LEARNER, GPSC_CHECKPOINT_SENDER, 1);
    env.run_id = m->run_id ? m->run_id : (char *)"";
    env.time_ns = 0; /* never a wall clock in a checkpoint */
    env.body_case = GPSC__ENVELOPE__BODY_CHECKPOINT;
    env.checkpoint = (Gpsc__Checkpoint *)m;
    return gpsc_wire_encode(buf, len, &env, err, errsz);
}

/* writes all of buf to fd; 0 or -1 (errno set) */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

int gpsc_checkpoint_write(const gpsc_checkpoint_t *ck, const char *path, char *err, size_t errsz)
{
    if (!path)
        return fail(GPSC_EINVAL, err, errsz, "checkpoint: NULL path");
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = gpsc_checkpoint_encode(&buf, &len, ck, err, errsz);
    if (rc)
        return rc;
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= sizeof tmp) {
        free(buf);
        return fail(GPSC_EINVAL, err, errsz, "%s: path too long", path);
    }
    /* temp file, data on disk, then the name */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = fail(GPSC_EIO, err, errsz, "%s: open: %s", tmp, strerror(errno));
        free(buf);
        return rc;
    }
    if (write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        rc = fail(GPSC_EIO, err, errsz, "%s: write: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        free(buf);
        return rc;
    }
    free(buf);
    if (close(fd) != 0) {
        rc = fail(GPSC_EIO, err, errsz, "%s: close: %s", tmp, strerror(errno));
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0) {
        rc = fail(GPSC_EIO, err, errsz, "%s: rename: %s", path, strerror(errno));
        unlink(tmp);
        return rc;
    }
    /* the directory entry too */
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

int gpsc_checkpoint_decode(gpsc_checkpoint_t **out, const uint8_t *buf, size_t len, char *err,
                           size_t errsz)
{
    if (!out)
        return fail(GPSC_EINVAL, err, errsz, "checkpoint: NULL");
    *out = NULL;
    gpsc_wire_msg_t *msg = NULL;
    int rc = gpsc_wire_decode(&msg, buf, len, GPSC_CHECKPOINT_MAX_BYTES, err, errsz);
    if (rc)
        return rc;
    const Gpsc__Envelope *env = gpsc_wire_msg_env(msg);
    if (env->body_case != GPSC__ENVELOPE__BODY_CHECKPOINT || !env->checkpoint) {
        int body = (int)env->body_case;
        gpsc_wire_msg_destroy(&msg);
        return fail(GPSC_ETYPE, err, errsz, "the envelope holds a %s, not a checkpoint",
                    gpsc_wire_body_name(body));
    }
    gpsc_checkpoint_t *ck = gpsc_checkpoint_new();
    if (!ck) {
        gpsc_wire_msg_destroy(&msg);
        return fail(GPSC_ENOMEM, err, errsz, "out of memory");
    }
    ck->decoded = msg;
    *out = ck;
    return 0;
}

int gpsc_checkpoint_read(gpsc_checkpoint_t **out, const char *path, char *err, size_t errsz)
{
    if (!out || !path)
        return fail(GPSC_EINVAL, err, errsz, "checkpoint: NULL");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(errno == ENOENT ? GPSC_ENOENT : GPSC_EIO, err, errsz, "%s: %s", path,
                    strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        return fail(GPSC_EIO, err, errsz, "%s: stat: %s", path, strerror(errno));
    }
    if ((uint64_t)st.st_size > GPSC_CHECKPOINT_MAX_BYTES) {
        fclose(f);
        return fail(GPSC_ETOOBIG, err, errsz, "%s: %lld bytes, more than %zu", path,
                    (long long)st.st_size, GPSC_CHECKPOINT_MAX_BYTES);
    }
    size_t len = (size_t)st.st_size;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        return fail(GPSC_ENOMEM, err, errsz, "%s: out of memory", path);
    }
    size_t got = len ? fread(buf, 1, len, f) : 0;
    fclose(f);
    if (got != len) {
        free(buf);
        return fail(GPSC_EIO, err, errsz, "%s: short read", path);
    }
    char sub[512] = "";
    int rc = gpsc_checkpoint_decode(out, buf, len, sub, sizeof sub);
    free(buf);
    if (rc)
        return fail(rc, err, errsz, "%s: %s", path, sub);
    return 0;
}
