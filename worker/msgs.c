/* msgs.c — samples and policies <-> wire messages (see msgs.h). */
#include "worker/msgs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

void gpsc_trajmsg_fill(gpsc_trajmsg_t *m, const gpsc_sample_t *s, const gpsc_experiment_t *exp,
                       const char *worker_id, bool with_timings)
{
    memset(m, 0, sizeof *m);
    m->traj = (Gpsc__Trajectory)GPSC__TRAJECTORY__INIT;
    m->key = (Gpsc__TaskKey)GPSC__TASK_KEY__INIT;
    m->timings = (Gpsc__Timings)GPSC__TIMINGS__INIT;
    Gpsc__Trajectory *t = &m->traj;
    m->key.iteration = s->key.iteration;
    m->key.condition = s->key.condition;
    m->key.sample_index = s->key.sample;
    t->key = &m->key;
    t->worker_id = (char *)worker_id;
    t->policy_kind = s->policy_kind == GPSC_POLICY_GLOBAL ? GPSC__POLICY_KIND__POLICY_GLOBAL
                                                          : GPSC__POLICY_KIND__POLICY_LOCAL;
    t->policy_version = s->policy_version;
    t->t = (uint32_t)s->T;
    t->dx = (uint32_t)s->dX;
    t->du = (uint32_t)s->dU;
    t->do_ = (uint32_t)s->dO;
    t->p = (uint32_t)s->P;
    t->dq = (uint32_t)s->dQ;
    int dC = s->dC;
    t->dc = (uint32_t)dC;
    if (with_timings) {
        m->timings.rollout_s = s->rollout_s;
        m->timings.sim_s = s->sim_s;
        m->timings.policy_s = s->policy_s;
        t->timings = &m->timings;
    }
    if (s->status != 0) {
        t->status = GPSC__TRAJECTORY_STATUS__TRAJ_FAILED;
        t->failed_reason = (char *)s->reason;
        t->error_code = s->status;
        return;
    }
    t->status = GPSC__TRAJECTORY_STATUS__TRAJ_OK;
    size_t T = (size_t)s->T;
    t->n_x = T * (size_t)s->dX;
    t->x = s->X;
    t->n_u = T * (size_t)s->dU;
    t->u = s->U;
    t->n_o = T * (size_t)s->dO;
    t->o = s->O;
    t->n_ee = T * (size_t)s->P;
    t->ee = s->ee;
    t->n_ee_jac = T * (size_t)s->P * (size_t)s->dQ;
    t->ee_jac = s->jac;
    t->n_costs = T * (size_t)dC;
    t->costs = s->costs;
    /* names for up to GPSC_MSGS_MAX_COSTS terms (the array is always whole) */
    if (exp && dC == exp->n_costs && dC <= GPSC_MSGS_MAX_COSTS) {
        for (int i = 0; i < dC; i++) {
            snprintf(m->name_buf[i], sizeof m->name_buf[i], "%d_%s", i,
                     gpsc_exp_cost_type_name(exp->costs[i].type));
            m->cost_names[i] = m->name_buf[i];
        }
        t->n_cost_names = (size_t)dC;
        t->cost_names = m->cost_names;
    }
}

int gpsc_trajmsg_encode(uint8_t **buf, size_t *len, const gpsc_sample_t *s,
                        const gpsc_experiment_t *exp, const char *worker_id, uint64_t seq,
                        bool with_timings, char *err, size_t errsz)
{
    gpsc_trajmsg_t *m = malloc(sizeof *m);
    if (!m) {
        snprintf(err, errsz, "out of memory");
        return GPSC_ENOMEM;
    }
    gpsc_trajmsg_fill(m, s, exp, worker_id, with_timings);
    Gpsc__Envelope env;
    gpsc_wire_env_init(&env, GPSC__ROLE__ROLE_WORKER, worker_id, seq);
    env.body_case = GPSC__ENVELOPE__BODY_TRAJECTORY;
    env.trajectory = &m->traj;
    int rc = gpsc_wire_encode(buf, len, &env, err, errsz);
    free(m);
    return rc;
}

static void copy_or_zero(double *dst, const double *src, size_t have, size_t n)
{
    if (src && have == n)
        memcpy(dst, src, n * sizeof(double));
    else
        memset(dst, 0, n * sizeof(double));
}

gpsc_sample_t *gpsc_trajmsg_to_sample(const Gpsc__Trajectory *m, char *err, size_t errsz)
{
    gpsc_exp_dims_t d = {0};
    d.dX = (int)m->dx;
    d.dU = (int)m->du;
    d.dO = (int)m->do_;
    d.P = (int)m->p;
    d.dQ = (int)m->dq;
    gpsc_sample_t *s = gpsc_sample_new(&d, (int)m->t, (int)m->dc);
    if (!s) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    if (m->key) {
        s->key.iteration = m->key->iteration;
        s->key.condition = m->key->condition;
        s->key.sample = m->key->sample_index;
    }
    s->policy_kind =
        m->policy_kind == GPSC__POLICY_KIND__POLICY_GLOBAL ? GPSC_POLICY_GLOBAL : GPSC_POLICY_LOCAL;
    s->policy_version = m->policy_version;
    if (m->status != GPSC__TRAJECTORY_STATUS__TRAJ_OK) {
        s->status = m->error_code ? m->error_code : GPSC_ESIM;
        snprintf(s->reason, sizeof s->reason, "%s", m->failed_reason ? m->failed_reason : "");
        return s;
    }
    size_t T = m->t;
    copy_or_zero(s->X, m->x, m->n_x, T * m->dx);
    copy_or_zero(s->U, m->u, m->n_u, T * m->du);
    copy_or_zero(s->O, m->o, m->n_o, T * m->do_);
    copy_or_zero(s->ee, m->ee, m->n_ee, T * m->p);
    copy_or_zero(s->jac, m->ee_jac, m->n_ee_jac, T * m->p * m->dq);
    copy_or_zero(s->costs, m->costs, m->n_costs, T * m->dc);
    if (m->timings) {
        s->rollout_s = m->timings->rollout_s;
        s->sim_s = m->timings->sim_s;
        s->policy_s = m->timings->policy_s;
    }
    return s;
}

void gpsc_lgmsg_fill(Gpsc__LinGaussPolicy *m, const gpsc_lgpolicy_t *p, uint32_t condition,
                     uint32_t version)
{
    *m = (Gpsc__LinGaussPolicy)GPSC__LIN_GAUSS_POLICY__INIT;
    size_t T = (size_t)p->T, dX = (size_t)p->dX, dU = (size_t)p->dU;
    m->condition = condition;
    m->version = version;
    m->t = (uint32_t)p->T;
    m->dx = (uint32_t)p->dX;
    m->du = (uint32_t)p->dU;
    m->n_k = T * dU * dX;
    m->k = p->K;
    m->n_k_ff = T * dU;
    m->k_ff = p->k;
    m->n_pol_covar = T * dU * dU;
    m->pol_covar = p->pol_covar;
    m->n_chol_pol_covar = T * dU * dU;
    m->chol_pol_covar = p->chol;
    m->n_inv_pol_covar = T * dU * dU;
    m->inv_pol_covar = p->inv_pol_covar;
}

gpsc_lgpolicy_t *gpsc_lgmsg_to_policy(const Gpsc__LinGaussPolicy *m)
{
    gpsc_lgpolicy_t *p = gpsc_lgpolicy_new((int)m->t, (int)m->dx, (int)m->du);
    if (!p) return NULL;
    size_t T = m->t, dX = m->dx, dU = m->du;
    copy_or_zero(p->K, m->k, m->n_k, T * dU * dX);
    copy_or_zero(p->k, m->k_ff, m->n_k_ff, T * dU);
    copy_or_zero(p->pol_covar, m->pol_covar, m->n_pol_covar, T * dU * dU);
    copy_or_zero(p->chol, m->chol_pol_covar, m->n_chol_pol_covar, T * dU * dU);
    copy_or_zero(p->inv_pol_covar, m->inv_pol_covar, m->n_inv_pol_covar, T * dU * dU);
    return p;
}

void gpsc_netmsg_counts(const gpsc_mlp_t *net, size_t *n_weights, size_t *n_biases)
{
    *n_weights = 0;
    *n_biases = 0;
    for (int l = 0; l < net->n_layers; l++) {
        *n_weights += (size_t)net->width[l] * (size_t)net->width[l + 1];
        *n_biases += (size_t)net->width[l + 1];
    }
}

void gpsc_netmsg_fill(Gpsc__NetworkPolicy *m, const gpsc_mlp_t *net, uint32_t version,
                      uint32_t *sizes, double *weights, double *biases)
{
    *m = (Gpsc__NetworkPolicy)GPSC__NETWORK_POLICY__INIT;
    m->version = version;
    m->do_ = (uint32_t)net->dO;
    m->du = (uint32_t)net->dU;
    for (int l = 0; l <= net->n_layers; l++)
        sizes[l] = (uint32_t)net->width[l];
    m->n_layer_sizes = (size_t)net->n_layers + 1;
    m->layer_sizes = sizes;
    m->activation =
        net->act == GPSC_MLP_TANH ? GPSC__ACTIVATION__ACT_TANH : GPSC__ACTIVATION__ACT_RELU;
    size_t w = 0, b = 0;
    for (int l = 0; l < net->n_layers; l++) {
        size_t nw = (size_t)net->width[l] * (size_t)net->width[l + 1];
        memcpy(weights + w, net->W[l], nw * sizeof(double));
        memcpy(biases + b, net->b[l], (size_t)net->width[l + 1] * sizeof(double));
        w += nw;
        b += (size_t)net->width[l + 1];
    }
    m->n_weights = w;
    m->weights = weights;
    m->n_biases = b;
    m->biases = biases;
    m->n_obs_mean = (size_t)net->dO;
    m->obs_mean = net->obs_mean;
    m->n_obs_scale = (size_t)net->dO;
    m->obs_scale = net->obs_scale;
    m->n_pol_var = (size_t)net->dU;
    m->pol_var = net->var;
}

gpsc_mlp_t *gpsc_netmsg_to_mlp(const Gpsc__NetworkPolicy *m, char *err, size_t errsz)
{
    int nl = (int)m->n_layer_sizes - 1;
    if (nl < 1 || nl > GPSC_MLP_MAX_LAYERS) {
        snprintf(err, errsz, "network has %d weight layers (at most %d supported)", nl,
                 GPSC_MLP_MAX_LAYERS);
        return NULL;
    }
    int hidden[GPSC_MLP_MAX_LAYERS];
    for (int l = 1; l < nl; l++)
        hidden[l - 1] = (int)m->layer_sizes[l];
    gpsc_mlp_t *net =
        gpsc_mlp_new((int)m->do_, (int)m->du, nl - 1, hidden,
                     m->activation == GPSC__ACTIVATION__ACT_TANH ? GPSC_MLP_TANH : GPSC_MLP_RELU);
    if (!net) {
        snprintf(err, errsz, "network sizes out of range or out of memory");
        return NULL;
    }
    size_t nw, nb;
    gpsc_netmsg_counts(net, &nw, &nb);
    if (m->n_weights != nw || m->n_biases != nb || m->n_obs_mean != (size_t)net->dO ||
        m->n_obs_scale != (size_t)net->dO || m->n_pol_var != (size_t)net->dU) {
        snprintf(err, errsz, "network arrays do not match its layer sizes");
        gpsc_mlp_destroy(&net);
        return NULL;
    }
    size_t w = 0, b = 0;
    for (int l = 0; l < net->n_layers; l++) {
        size_t n = (size_t)net->width[l] * (size_t)net->width[l + 1];
        memcpy(net->W[l], m->weights + w, n * sizeof(double));
        memcpy(net->b[l], m->biases + b, (size_t)net->width[l + 1] * sizeof(double));
        w += n;
        b += (size_t)net->width[l + 1];
    }
    memcpy(net->obs_mean, m->obs_mean, (size_t)net->dO * sizeof(double));
    memcpy(net->obs_scale, m->obs_scale, (size_t)net->dO * sizeof(double));
    memcpy(net->var, m->pol_var, (size_t)net->dU * sizeof(double));
    return net;
}

int gpsc_msgs_write_file(const char *path, const uint8_t *buf, size_t len, char *err, size_t errsz)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        snprintf(err, errsz, "out of memory");
        return GPSC_ENOMEM;
    }
    snprintf(tmp, n, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, errsz, "%s: %s", tmp, strerror(errno));
        free(tmp);
        return GPSC_EIO;
    }
    size_t w = fwrite(buf, 1, len, f);
    int bad = w != len;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        snprintf(err, errsz, "%s: write failed: %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return GPSC_EIO;
    }
    free(tmp);
    return 0;
}

int gpsc_msgs_read_file(const char *path, gpsc_wire_msg_t **out, char *err, size_t errsz)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errsz, "%s: %s", path, strerror(e));
        return e == ENOENT ? GPSC_ENOENT : GPSC_EIO;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (len < cap) break;
        if (cap >= GPSC_WIRE_MAX_DEFAULT * 4u) {
            free(buf);
            fclose(f);
            snprintf(err, errsz, "%s: file too large", path);
            return GPSC_ETOOBIG;
        }
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int ferr = ferror(f);
    fclose(f);
    if (!buf) {
        snprintf(err, errsz, "out of memory");
        return GPSC_ENOMEM;
    }
    if (ferr) {
        free(buf);
        snprintf(err, errsz, "%s: read error", path);
        return GPSC_EIO;
    }
    char sub[512] = "";
    int rc = gpsc_wire_decode(out, buf, len, GPSC_WIRE_MAX_DEFAULT * 4u, sub, sizeof sub);
    free(buf);
    if (rc) snprintf(err, errsz, "%s: %s", path, sub[0] ? sub : gpsc_strerror(rc));
    return rc;
}
