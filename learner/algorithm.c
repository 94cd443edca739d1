/* algorithm.c — the learner state and one iteration of trajectory
 * optimisation, MDGPS or GPS 2014 (see algorithm.h for the order of
 * operations). */
#include "learner/algorithm.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "common/la.h"
#include "learner/cstep.h"
#include "learner/dynamics.h"
#include "learner/gmm.h"
#include "learner/gps2014.h"
#include "learner/policy_prior.h"
#include "learner/pool.h"
#include "learner/stepsize.h"
#include "learner/traj.h"

#define ERRN 512

/* A GMM prior with its buffer of recent samples (the reference's
 * DynamicsPriorGMM / PolicyPriorGMM). Arrays sized once for `cap`
 * samples and Kmax clusters. */
typedef struct prior {
    int D;            /* point dimension: 2 dX + dU (dynamics) or dX + dU (policy) */
    int Kmax;         /* max_clusters */
    int cap;          /* max_samples: samples kept */
    int min_samp;     /* min_samples_per_cluster */
    double strength;  /* prior strength */
    int nbuf;         /* samples in the buffer, oldest first */
    double *X;        /* (cap x T x dX) */
    double *U;        /* (cap x T x dU) */
    double *O;        /* (cap x T x dO) or NULL (dynamics prior) */
    Gpsc__TaskKey *keys; /* (cap) where each buffered sample came from */
    int K;            /* clusters of the current GMM; 0 = none yet */
    int N_init;       /* points at the last initialisation (the reference's GMM.N) */
    double *mu;       /* (Kmax x D) */
    double *sigma;    /* (Kmax x D x D) */
    double *logmass;  /* (Kmax) */
    double *data;     /* (cap T x D) EM points, rebuilt each fit */
    int em_iters;     /* E-steps of the last fit (diagnostics) */
    bool reinit;      /* the last fit started from a fresh initialisation */
    gpsc_gmm_em_cfg_t em; /* EM pass limit and convergence test (experiment) */
} prior_t;

/* Everything about one training condition. The first block persists
 * between iterations (and is what a checkpoint holds); the rest is
 * per-iteration work memory. */
typedef struct cond {
    int m;                    /* condition index */
    gpsc_cost_term_t *terms;  /* (n_costs) with this condition's FK targets */
    const double *target;     /* (P) the condition's FK target (m), borrowed from exp */

    gpsc_lgpolicy_t *cur;     /* p_k: samples the next iteration */
    gpsc_lgpolicy_t *prev;    /* p_{k-1} (diagnostics and checkpoint) */
    double eta;               /* C-step dual variable */
    double step_mult;         /* KL step multiplier */
    double prev_laplace;      /* E[cost] of p_{k-1} (MDGPS: pi_bar_{k-1}) under (D_{k-1}, C_{k-1}) */
    double prev_predicted;    /* E[cost] of p_k under (D_{k-1}, C_{k-1}) */
    double prev_mc;           /* mean sample cost of iteration k-1 */
    prior_t dyn;              /* dynamics prior */
    prior_t pol;              /* policy prior (MDGPS, GPS 2014) */
    double *lambda;           /* GPS 2014: (T) lambda_t, cost units per nat (seed 003 A) */
    double *pol_kl_t;         /* GPS 2014: (T) KL_t(p_{k+1} || pi_bar) of the last dual step */

    /* work memory */
    gpsc_lgpolicy_t *next;    /* p_{k+1} from the C-step */
    double *X, *U, *O;        /* (N x T x dX / dU / dO) this iteration's samples */
    double *exp_mem;          /* backing of exps */
    gpsc_cost_exp_t *exps;    /* (N) per-sample cost expansions */
    double *scost;            /* (N) summed cost of each sample */
    double *cc, *cv, *Cm;     /* (T), (T x dXU), (T x dXU x dXU) the expansion C_k */
    double *Fm, *fv, *dyn_covar, *x0mu, *x0sigma; /* D_k */
    double *X0;               /* (cap x dX) initial states of the dynamics buffer */
    double *pol_K, *pol_k, *pol_S; /* MDGPS: pi_bar_k (T x dU x dX), (T x dU), (T x dU x dU) */
    double *pol_mu, *pol_sig; /* MDGPS: (N x T x dU), (N x T x dU x dU) network at the samples */
    double cur_laplace;       /* E[cost] of p_k (MDGPS: pi_bar_k) under (D_k, C_k); GPS 2014:
                                 plus sum_t lambda_t KL_t(p_k || pi_bar_k) */
    double pol_laplace;       /* E[cost] of pi_bar_k under (D_k, C_k) */
    double gps_prev_J;        /* GPS 2014: J(p_k) under (D_k, C_k), final pi_bar and lambda */
    double gps_pred_J;        /* GPS 2014: J(p_{k+1}) likewise */
    double *b_cost, *b_kl, *b_lmax; /* (T) each: E_p[l_t], eps_t, max_n |l_t| of the bound */
    double ms[8];             /* per-phase ms of this iteration (see T_* below) */
    int rc;                   /* result of this condition's last task */
    char err[ERRN];           /* and its message */
} cond_t;

enum { T_COST, T_PRIOR, T_DYN, T_POLFIT, T_CSTEP, T_N };

/* the iteration field of the S-step's minibatch key for GPS 2014's inner
 * iteration i of iteration k, I inner iterations (i = -1: the initial fit
 * of iteration 0): k (I + 1) + i + 1, distinct for every (k, i) */
#define GPS2014_SSTEP_KEY(k, I, i) ((uint32_t)(k) * (uint32_t)((I) + 1) + (uint32_t)((i) + 1))

struct gpsc_alg {
    const gpsc_experiment_t *exp; /* borrowed, resolved */
    gpsc_exp_algorithm_t type;    /* trajopt, mdgps or gps2014 */
    bool netalg;                  /* mdgps or gps2014: a global policy */
    int M, N, T, dX, dU, dO, P, dQ;
    int n_costs;
    uint64_t seed;
    int iteration;                /* iterations completed */
    int inner;                    /* GPS 2014: the running inner iteration */
    gpsc_pool_t *pool;
    cond_t *c;                    /* (M) */
    const gpsc_alg_sample_t *in;  /* the current iteration's samples (borrowed) */

    /* MDGPS and GPS 2014 */
    gpsc_mlp_t *net;
    gpsc_sstep_adam_t adam;
    gpsc_sstep_cfg_t scfg;
    gpsc_alg_sstep_fn sstep;
    void *sstep_ud;
    double *pol_wt;               /* MDGPS: (T) init_pol_wt */

    gpsc_alg_metrics_t met;
    gpsc_alg_cond_metrics_t *cmet; /* (M) */
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

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static gpsc_traj_dims_t dims(const gpsc_alg_t *a)
{
    return (gpsc_traj_dims_t){a->T, a->dX, a->dU};
}

/* a controller as the traj kernels see it (arrays shared) */
static gpsc_traj_lg_t lg_view(const gpsc_lgpolicy_t *p)
{
    return (gpsc_traj_lg_t){p->K, p->k, p->pol_covar, p->inv_pol_covar, p->chol};
}

/* ------------------------------------------------------------------ cost terms */

int gpsc_alg_cost_terms(gpsc_cost_term_t *terms, const gpsc_experiment_t *exp, int c, char *err,
                        size_t errsz)
{
    if (!terms || !exp || !exp->resolved || c < 0 || c >= exp->n_train)
        return fail(GPSC_EINVAL, err, errsz, "cost terms: bad arguments");
    const gpsc_exp_dims_t *d = &exp->dims;
    const gpsc_exp_condition_t *cd = &exp->train[c];
    for (int i = 0; i < exp->n_costs; i++) {
        const gpsc_exp_cost_t *e = &exp->costs[i];
        gpsc_cost_term_t *t = &terms[i];
        memset(t, 0, sizeof *t);
        t->weight = e->weight;
        t->pen.l1 = e->l1;
        t->pen.l2 = e->l2;
        t->pen.alpha = e->alpha;
        t->pen.final_mult = e->wp_final_multiplier;
        switch (e->norm) {
        case GPSC_EXP_NORM_L1L2: t->pen.norm = GPSC_NORM_L1L2; break;
        case GPSC_EXP_NORM_LOGL2: t->pen.norm = GPSC_NORM_LOGL2; break;
        default: t->pen.norm = GPSC_NORM_L2; break;
        }
        switch (e->ramp) {
        case GPSC_EXP_RAMP_LINEAR: t->pen.ramp = GPSC_RAMP_LINEAR; break;
        case GPSC_EXP_RAMP_QUADRATIC: t->pen.ramp = GPSC_RAMP_QUADRATIC; break;
        case GPSC_EXP_RAMP_FINAL_ONLY: t->pen.ramp = GPSC_RAMP_FINAL_ONLY; break;
        default: t->pen.ramp = GPSC_RAMP_CONSTANT; break;
        }
        switch (e->type) {
        case GPSC_EXP_COST_ACTION:
            if (e->wu.n != d->dU || d->dU > GPSC_COST_MAXDIM)
                return fail(GPSC_EDIM, err, errsz, "cost %d: wu has %d entries, dU = %d", i,
                            e->wu.n, d->dU);
            t->type = GPSC_COST_ACTION;
            t->n = d->dU;
            memcpy(t->wu, e->wu.v, sizeof(double) * (size_t)d->dU);
            break;
        case GPSC_EXP_COST_FK:
            if (e->wp.n != d->P || cd->target.n != d->P || d->P > GPSC_COST_MAXDIM ||
                d->dQ > GPSC_COST_MAXDIM || d->P < 1)
                return fail(GPSC_EDIM, err, errsz,
                            "cost %d: fk needs P = %d weights and targets (have %d, %d)", i, d->P,
                            e->wp.n, cd->target.n);
            t->type = GPSC_COST_FK;
            t->n = d->P;
            t->nidx = d->dQ;
            memcpy(t->wp, e->wp.v, sizeof(double) * (size_t)d->P);
            memcpy(t->target, cd->target.v, sizeof(double) * (size_t)d->P);
            memcpy(t->idx, exp->joint_idx, sizeof(int) * (size_t)d->dQ);
            break;
        case GPSC_EXP_COST_STATE:
            if (e->n_indices < 1 || e->n_indices > GPSC_COST_MAXDIM || e->wp.n != e->n_indices ||
                e->target.n != e->n_indices)
                return fail(GPSC_EDIM, err, errsz, "cost %d: state term sizes do not match", i);
            t->type = GPSC_COST_STATE;
            t->n = e->n_indices;
            t->nidx = e->n_indices;
            memcpy(t->wp, e->wp.v, sizeof(double) * (size_t)t->n);
            memcpy(t->target, e->target.v, sizeof(double) * (size_t)t->n);
            memcpy(t->idx, e->indices, sizeof(int) * (size_t)t->n);
            break;
        default:
            return fail(GPSC_EINVAL, err, errsz, "cost %d: unknown type", i);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ create / destroy */

static void prior_free(prior_t *p)
{
    free(p->X);
    free(p->U);
    free(p->O);
    free(p->keys);
    free(p->mu);
    free(p->sigma);
    free(p->logmass);
    free(p->data);
    memset(p, 0, sizeof *p);
}

/* arrays of a prior; false when out of memory */
static bool prior_init(prior_t *p, const gpsc_exp_prior_t *cfg, int D, int T, int dX, int dU,
                       int dO)
{
    p->D = D;
    p->Kmax = cfg->max_clusters;
    p->cap = cfg->max_samples;
    p->min_samp = cfg->min_samples_per_cluster;
    p->strength = cfg->strength;
    p->em = (gpsc_gmm_em_cfg_t){cfg->em_iterations, cfg->em_tolerance,
                                cfg->em_stop == GPSC_EXP_EM_STOP_REFERENCE
                                    ? GPSC_GMM_RULE_REFERENCE
                                    : GPSC_GMM_RULE_RELATIVE};
    size_t cT = (size_t)p->cap * T;
    p->X = calloc(cT * dX, sizeof(double));
    p->U = calloc(cT * dU, sizeof(double));
    p->O = dO > 0 ? calloc(cT * dO, sizeof(double)) : NULL;
    p->keys = calloc((size_t)p->cap, sizeof(Gpsc__TaskKey));
    p->mu = calloc((size_t)p->Kmax * D, sizeof(double));
    p->sigma = calloc((size_t)p->Kmax * D * D, sizeof(double));
    p->logmass = calloc((size_t)p->Kmax, sizeof(double));
    p->data = calloc(cT * D, sizeof(double));
    return p->X && p->U && (dO == 0 || p->O) && p->keys && p->mu && p->sigma && p->logmass &&
           p->data;
}

static void cond_free(cond_t *c)
{
    free(c->terms);
    gpsc_lgpolicy_destroy(&c->cur);
    gpsc_lgpolicy_destroy(&c->prev);
    gpsc_lgpolicy_destroy(&c->next);
    prior_free(&c->dyn);
    prior_free(&c->pol);
    free(c->X);
    free(c->U);
    free(c->O);
    free(c->exp_mem);
    free(c->exps);
    free(c->scost);
    free(c->cc);
    free(c->cv);
    free(c->Cm);
    free(c->Fm);
    free(c->fv);
    free(c->dyn_covar);
    free(c->x0mu);
    free(c->x0sigma);
    free(c->X0);
    free(c->pol_K);
    free(c->pol_k);
    free(c->pol_S);
    free(c->pol_mu);
    free(c->pol_sig);
    free(c->lambda);
    free(c->pol_kl_t);
    free(c->b_cost);
    free(c->b_kl);
    free(c->b_lmax);
}

void gpsc_alg_destroy(gpsc_alg_t **p)
{
    if (!p || !*p)
        return;
    gpsc_alg_t *a = *p;
    if (a->c)
        for (int m = 0; m < a->M; m++)
            cond_free(&a->c[m]);
    free(a->c);
    free(a->cmet);
    free(a->pol_wt);
    gpsc_mlp_destroy(&a->net);
    gpsc_sstep_adam_free(&a->adam);
    gpsc_pool_destroy(&a->pool);
    free(a);
    *p = NULL;
}

/* per-condition arrays; false when out of memory */
static bool cond_init(gpsc_alg_t *a, cond_t *c, int m)
{
    const gpsc_experiment_t *e = a->exp;
    size_t T = (size_t)a->T, dX = (size_t)a->dX, dU = (size_t)a->dU, dO = (size_t)a->dO;
    size_t N = (size_t)a->N, dXU = dX + dU;
    c->m = m;
    c->eta = e->algo.cstep.eta_init;
    c->step_mult = 1.0;
    c->terms = calloc((size_t)(a->n_costs ? a->n_costs : 1), sizeof(gpsc_cost_term_t));
    c->cur = gpsc_lgpolicy_new(a->T, a->dX, a->dU);
    c->prev = gpsc_lgpolicy_new(a->T, a->dX, a->dU);
    c->next = gpsc_lgpolicy_new(a->T, a->dX, a->dU);
    c->X = calloc(N * T * dX, sizeof(double));
    c->U = calloc(N * T * dU, sizeof(double));
    c->O = dO ? calloc(N * T * dO, sizeof(double)) : NULL;
    size_t per = T * (1 + dX + dU + dX * dX + dU * dU + dU * dX);
    c->exp_mem = calloc(N * per, sizeof(double));
    c->exps = calloc(N, sizeof(gpsc_cost_exp_t));
    c->scost = calloc(N, sizeof(double));
    c->cc = calloc(T, sizeof(double));
    c->cv = calloc(T * dXU, sizeof(double));
    c->Cm = calloc(T * dXU * dXU, sizeof(double));
    c->Fm = calloc(T * dX * dXU, sizeof(double));
    c->fv = calloc(T * dX, sizeof(double));
    c->dyn_covar = calloc(T * dX * dX, sizeof(double));
    c->x0mu = calloc(dX, sizeof(double));
    c->x0sigma = calloc(dX * dX, sizeof(double));
    c->X0 = calloc((size_t)e->algo.dyn_prior.max_samples * dX, sizeof(double));
    bool ok = c->terms && c->cur && c->prev && c->next && c->X && c->U && (!dO || c->O) &&
              c->exp_mem && c->exps && c->scost && c->cc && c->cv && c->Cm && c->Fm && c->fv &&
              c->dyn_covar && c->x0mu && c->x0sigma && c->X0;
    ok = ok && prior_init(&c->dyn, &e->algo.dyn_prior, 2 * a->dX + a->dU, a->T, a->dX, a->dU, 0);
    if (a->netalg) {
        c->pol_K = calloc(T * dU * dX, sizeof(double));
        c->pol_k = calloc(T * dU, sizeof(double));
        c->pol_S = calloc(T * dU * dU, sizeof(double));
        c->pol_mu = calloc(N * T * dU, sizeof(double));
        c->pol_sig = calloc(N * T * dU * dU, sizeof(double));
        c->b_cost = calloc(T, sizeof(double));
        c->b_kl = calloc(T, sizeof(double));
        c->b_lmax = calloc(T, sizeof(double));
        ok = ok && c->pol_K && c->pol_k && c->pol_S && c->pol_mu && c->pol_sig && c->b_cost &&
             c->b_kl && c->b_lmax &&
             prior_init(&c->pol, &e->algo.pol_prior, a->dX + a->dU, a->T, a->dX, a->dU, a->dO);
    }
    if (a->type == GPSC_EXP_ALG_GPS2014) {
        c->lambda = malloc(T * sizeof(double));
        c->pol_kl_t = calloc(T, sizeof(double));
        ok = ok && c->lambda && c->pol_kl_t;
        for (size_t t = 0; ok && t < T; t++)
            c->lambda[t] = e->algo.init_pol_wt;
    }
    if (!ok)
        return false;
    for (size_t n = 0; n < N; n++) {
        double *b = c->exp_mem + n * per;
        gpsc_cost_exp_t *x = &c->exps[n];
        x->T = a->T, x->dX = a->dX, x->dU = a->dU;
        x->l = b, b += T;
        x->lx = b, b += T * dX;
        x->lu = b, b += T * dU;
        x->lxx = b, b += T * dX * dX;
        x->luu = b, b += T * dU * dU;
        x->lux = b;
    }
    return true;
}

static size_t maxz(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* arena bytes one per-condition task (and the serial S-step) may need */
static size_t arena_bytes(const gpsc_alg_t *a)
{
    const gpsc_experiment_t *e = a->exp;
    gpsc_traj_dims_t d = dims(a);
    int dX = a->dX, dU = a->dU, T = a->T, N = a->N;
    gpsc_cost_sample_t s = {.T = T, .dX = dX, .dU = dU, .P = a->P, .dQ = a->dQ};
    size_t need = gpsc_cost_eval_scratch_size(a->c[0].terms, a->n_costs, &s);
    int Kd = e->algo.dyn_prior.max_clusters, Md = e->algo.dyn_prior.max_samples * (T - 1);
    int Dd = 2 * dX + dU;
    need = maxz(need, gpsc_gmm_em_scratch_size(Md, Kd, Dd));
    need = maxz(need, gpsc_gmm_init_scratch_size(Md, Kd, Dd));
    need = maxz(need, gpsc_dynamics_fit_scratch_size(N, dX, dU, Kd));
    need = maxz(need, gpsc_traj_estimate_cost_scratch_size(d));
    need = maxz(need, gpsc_cstep_scratch_size(d));
    if (a->type == GPSC_EXP_ALG_GPS2014)
        need = maxz(need, gpsc_gps2014_cstep_scratch_size(d));
    if (a->netalg) {
        int Kp = e->algo.pol_prior.max_clusters, Mp = e->algo.pol_prior.max_samples * T;
        int Dp = dX + dU;
        need = maxz(need, gpsc_gmm_em_scratch_size(Mp, Kp, Dp));
        need = maxz(need, gpsc_gmm_init_scratch_size(Mp, Kp, Dp));
        need = maxz(need, gpsc_policy_prior_linearize_scratch_size(N, dX, dU, Kp));
        /* network means on the policy buffer + its work vector */
        need = maxz(need, gpsc_arena_need((size_t)Mp * dU * sizeof(double)) +
                              gpsc_arena_need(gpsc_mlp_work_size(a->net) * sizeof(double)));
        /* the bound (and GPS 2014's KL to pi_bar): marginals, a quad and a kernel */
        size_t dXU = (size_t)dX + (size_t)dU;
        size_t kern = maxz(gpsc_traj_forward_scratch_size(d), gpsc_traj_kl_scratch_size(d));
        kern = maxz(kern, gpsc_traj_quad_build_scratch_size(d));
        need = maxz(need, gpsc_arena_need((size_t)T * dXU * sizeof(double)) +
                              gpsc_arena_need((size_t)T * dXU * dXU * sizeof(double)) +
                              gpsc_arena_need(gpsc_traj_quad_doubles(d) * sizeof(double)) + kern);
        /* the serial S-step: training set + trainer scratch (GPS 2014 trains
         * on the policy prior's buffer: up to max_samples samples) */
        int Ns = N;
        if (a->type == GPSC_EXP_ALG_GPS2014 && e->algo.pol_prior.max_samples > Ns)
            Ns = e->algo.pol_prior.max_samples;
        gpsc_sstep_cond_t *sc = calloc((size_t)a->M, sizeof *sc);
        if (sc) {
            for (int m = 0; m < a->M; m++)
                sc[m].N = Ns;
            int rows = a->M * Ns * T;
            need = maxz(need, gpsc_sstep_build_size(sc, a->M, T, a->dO, dU) +
                                  gpsc_sstep_scratch_size(a->net, rows, e->net.batch_size));
            free(sc);
        }
    }
    return need + need / 8 + (1u << 20);
}

/* the S-step through learner/sstep.h */
static int default_sstep(void *ud, gpsc_mlp_t *net, gpsc_sstep_adam_t *adam,
                         const gpsc_sstep_data_t *data, const gpsc_sstep_cfg_t *cfg,
                         uint64_t seed, uint32_t iteration, gpsc_arena_t *arena, char *err,
                         size_t errsz)
{
    (void)ud;
    int rc = gpsc_sstep_train(net, adam, data, cfg, seed, iteration, arena, NULL);
    if (rc)
        return fail(rc, err, errsz, "S-step: %s", gpsc_strerror(rc));
    return 0;
}

gpsc_alg_t *gpsc_alg_new(const gpsc_experiment_t *exp, const gpsc_alg_opts_t *opts, char *err,
                         size_t errsz)
{
    if (!exp || !exp->resolved) {
        fail(GPSC_EINVAL, err, errsz, "algorithm: the experiment is not resolved");
        return NULL;
    }
    const gpsc_exp_algo_t *al = &exp->algo;
    if (al->type != GPSC_EXP_ALG_MDGPS && al->type != GPSC_EXP_ALG_GPS2014 &&
        al->type != GPSC_EXP_ALG_TRAJOPT) {
        fail(GPSC_ENOTSUP, err, errsz, "algorithm: unknown type %d", (int)al->type);
        return NULL;
    }
    if (al->type == GPSC_EXP_ALG_GPS2014 &&
        (!(al->init_pol_wt > 0) || !isfinite(al->init_pol_wt) || !(al->policy_dual_rate >= 0) ||
         !isfinite(al->policy_dual_rate) || al->inner_iterations < 1)) {
        fail(GPSC_ECONFIG, err, errsz, "algorithm: gps2014 needs init_pol_wt > 0, "
                                       "policy_dual_rate >= 0 and inner_iterations >= 1");
        return NULL;
    }
    if (exp->n_train < 1 || al->samples < 2 || exp->T < 2) {
        fail(GPSC_ECONFIG, err, errsz, "algorithm: needs >= 1 training condition, >= 2 samples "
                                       "per condition and T >= 2 (have %d, %d, %d)",
             exp->n_train, al->samples, exp->T);
        return NULL;
    }
    const gpsc_exp_prior_t *pr[2] = {&al->dyn_prior, &al->pol_prior};
    for (int i = 0; i < 2; i++)
        if (pr[i]->max_clusters < 2 || pr[i]->max_samples < 1 ||
            pr[i]->min_samples_per_cluster < 1 || !(pr[i]->strength > 0)) {
            fail(GPSC_ECONFIG, err, errsz, "algorithm: %s prior needs max_clusters >= 2, "
                                           "max_samples >= 1, min_samples_per_cluster >= 1, "
                                           "strength > 0",
                 i ? "policy" : "dynamics");
            return NULL;
        }
    if (!(al->kl_step > 0) || !(al->min_step_mult > 0) || al->max_step_mult < al->min_step_mult) {
        fail(GPSC_ECONFIG, err, errsz, "algorithm: needs kl_step > 0 and 0 < min_step_mult <= "
                                       "max_step_mult");
        return NULL;
    }
    int threads = opts && opts->threads > 0 ? opts->threads : 1;
    gpsc_alg_t *a = calloc(1, sizeof *a);
    if (!a) {
        fail(GPSC_ENOMEM, err, errsz, "algorithm: out of memory");
        return NULL;
    }
    const gpsc_exp_dims_t *d = &exp->dims;
    a->exp = exp;
    a->type = al->type;
    a->netalg = al->type == GPSC_EXP_ALG_MDGPS || al->type == GPSC_EXP_ALG_GPS2014;
    a->M = exp->n_train;
    a->N = al->samples;
    a->T = exp->T;
    a->dX = d->dX, a->dU = d->dU, a->dO = d->dO, a->P = d->P, a->dQ = d->dQ;
    a->n_costs = exp->n_costs;
    a->seed = al->seed;
    if (a->netalg && a->dO < 1) {
        fail(GPSC_ECONFIG, err, errsz, "algorithm: %s needs observations (dO >= 1)",
             a->type == GPSC_EXP_ALG_MDGPS ? "mdgps" : "gps2014");
        goto fail;
    }
    a->c = calloc((size_t)a->M, sizeof(cond_t));
    a->cmet = calloc((size_t)a->M, sizeof(gpsc_alg_cond_metrics_t));
    if (!a->c || !a->cmet) {
        fail(GPSC_ENOMEM, err, errsz, "algorithm: out of memory");
        goto fail;
    }
    if (a->netalg) {
        const gpsc_exp_network_t *nc = &exp->net;
        a->net = gpsc_mlp_new(a->dO, a->dU, nc->n_hidden, nc->hidden,
                              nc->activation == GPSC_EXP_ACT_TANH ? GPSC_MLP_TANH : GPSC_MLP_RELU);
        if (!a->net || gpsc_sstep_adam_init(&a->adam, a->net->n_params) != 0) {
            fail(GPSC_ENOMEM, err, errsz, "algorithm: cannot make the network");
            goto fail;
        }
        gpsc_sstep_cfg_default(&a->scfg);
        a->scfg.iterations = nc->iterations;
        a->scfg.batch_size = nc->batch_size;
        a->scfg.lr = nc->learning_rate;
        a->scfg.weight_decay = nc->weight_decay;
        a->scfg.ent_reg = nc->ent_reg;
        a->scfg.init_var = nc->init_var;
        if (gpsc_sstep_cfg_check(&a->scfg) != 0) {
            fail(GPSC_ECONFIG, err, errsz, "algorithm: network settings out of range");
            goto fail;
        }
        gpsc_sstep_init_net(a->net, &a->scfg, a->seed);
        a->sstep = opts && opts->sstep ? opts->sstep : default_sstep;
        a->sstep_ud = opts ? opts->sstep_ud : NULL;
        a->pol_wt = malloc(sizeof(double) * (size_t)a->T);
        if (!a->pol_wt) {
            fail(GPSC_ENOMEM, err, errsz, "algorithm: out of memory");
            goto fail;
        }
        for (int t = 0; t < a->T; t++)
            a->pol_wt[t] = al->init_pol_wt;
    }
    for (int m = 0; m < a->M; m++) {
        if (!cond_init(a, &a->c[m], m)) {
            fail(GPSC_ENOMEM, err, errsz, "algorithm: out of memory");
            goto fail;
        }
        if (gpsc_alg_cost_terms(a->c[m].terms, exp, m, err, errsz) != 0)
            goto fail;
        a->c[m].target = a->P > 0 ? exp->train[m].target.v : NULL;
    }
    a->pool = gpsc_pool_new(threads, arena_bytes(a));
    if (!a->pool) {
        fail(GPSC_ENOMEM, err, errsz, "algorithm: cannot start %d threads", threads);
        goto fail;
    }
    a->met.M = a->M;
    a->met.N = a->N;
    a->met.cond = a->cmet;
    a->met.iteration = -1;
    return a;
fail:
    gpsc_alg_destroy(&a);
    return NULL;
}

int gpsc_alg_set_initial_policy(gpsc_alg_t *a, int c, const gpsc_lgpolicy_t *pol, char *err,
                                size_t errsz)
{
    if (!a || !pol)
        return fail(GPSC_EINVAL, err, errsz, "initial policy: NULL");
    if (a->iteration > 0)
        return fail(GPSC_ESTATE, err, errsz, "initial policy: iteration %d already ran",
                    a->iteration);
    if (c < 0 || c >= a->M)
        return fail(GPSC_ERANGE, err, errsz, "initial policy: condition %d of %d", c, a->M);
    if (pol->T != a->T || pol->dX != a->dX || pol->dU != a->dU)
        return fail(GPSC_EDIM, err, errsz,
                    "initial policy: (T, dX, dU) = (%d, %d, %d), expected (%d, %d, %d)", pol->T,
                    pol->dX, pol->dU, a->T, a->dX, a->dU);
    int rc = gpsc_lgpolicy_check(pol, err, errsz);
    if (rc)
        return rc;
    gpsc_lgpolicy_t *d = a->c[c].cur;
    size_t T = (size_t)a->T, dX = (size_t)a->dX, dU = (size_t)a->dU;
    memcpy(d->K, pol->K, T * dU * dX * sizeof(double));
    memcpy(d->k, pol->k, T * dU * sizeof(double));
    memcpy(d->pol_covar, pol->pol_covar, T * dU * dU * sizeof(double));
    memcpy(d->chol, pol->chol, T * dU * dU * sizeof(double));
    memcpy(d->inv_pol_covar, pol->inv_pol_covar, T * dU * dU * sizeof(double));
    return 0;
}

/* ------------------------------------------------------------------ accessors */

int gpsc_alg_iteration_count(const gpsc_alg_t *a)
{
    return a ? a->iteration : 0;
}

int gpsc_alg_n_conditions(const gpsc_alg_t *a)
{
    return a ? a->M : 0;
}

int gpsc_alg_n_samples(const gpsc_alg_t *a)
{
    return a ? a->N : 0;
}

gpsc_exp_algorithm_t gpsc_alg_type(const gpsc_alg_t *a)
{
    return a->type;
}

const gpsc_lgpolicy_t *gpsc_alg_policy(const gpsc_alg_t *a, int c)
{
    return a && c >= 0 && c < a->M ? a->c[c].cur : NULL;
}

const gpsc_mlp_t *gpsc_alg_network(const gpsc_alg_t *a)
{
    return a ? a->net : NULL;
}

const double *gpsc_alg_lambda(const gpsc_alg_t *a, int c)
{
    return a && a->type == GPSC_EXP_ALG_GPS2014 && c >= 0 && c < a->M ? a->c[c].lambda : NULL;
}

const gpsc_alg_metrics_t *gpsc_alg_metrics(const gpsc_alg_t *a)
{
    return a ? &a->met : NULL;
}

/* ------------------------------------------------------------------ priors */

/* Appends the n samples (X, U, O: n x T x d) to the buffer, dropping the
 * oldest beyond cap. */
static void prior_append(prior_t *p, const double *X, const double *U, const double *O, int n,
                         int T, int dX, int dU, int dO, uint32_t iteration, uint32_t cond)
{
    size_t sx = (size_t)T * dX, su = (size_t)T * dU, so = (size_t)T * dO;
    int skip = n > p->cap ? n - p->cap : 0; /* new samples that do not fit at all */
    int add = n - skip;
    int drop = p->nbuf + add > p->cap ? p->nbuf + add - p->cap : 0;
    int keep = p->nbuf - drop;
    if (drop > 0 && keep > 0) {
        memmove(p->X, p->X + (size_t)drop * sx, (size_t)keep * sx * sizeof(double));
        memmove(p->U, p->U + (size_t)drop * su, (size_t)keep * su * sizeof(double));
        if (p->O)
            memmove(p->O, p->O + (size_t)drop * so, (size_t)keep * so * sizeof(double));
        memmove(p->keys, p->keys + drop, (size_t)keep * sizeof(Gpsc__TaskKey));
    }
    memcpy(p->X + (size_t)keep * sx, X + (size_t)skip * sx, (size_t)add * sx * sizeof(double));
    memcpy(p->U + (size_t)keep * su, U + (size_t)skip * su, (size_t)add * su * sizeof(double));
    if (p->O && O)
        memcpy(p->O + (size_t)keep * so, O + (size_t)skip * so, (size_t)add * so * sizeof(double));
    for (int i = 0; i < add; i++) {
        Gpsc__TaskKey *k = &p->keys[keep + i];
        *k = (Gpsc__TaskKey)GPSC__TASK_KEY__INIT;
        k->iteration = iteration;
        k->condition = cond;
        k->sample_index = (uint32_t)(skip + i);
    }
    p->nbuf = keep + add;
}

/* EM on the npts points in p->data: K from the point count, warm start
 * when K is unchanged, else the keyed random initialisation. */
static int prior_fit(prior_t *p, int npts, const gpsc_rng_key_t *key, int em_max, gpsc_arena_t *ar,
                     char *err, size_t errsz, const char *what)
{
    int K = (int)floor((double)npts / p->min_samp);
    if (K > p->Kmax)
        K = p->Kmax;
    if (K < 2)
        K = 2;
    gpsc_gmm_t g = {K, p->D, p->mu, p->sigma, p->logmass};
    p->reinit = K != p->K;
    int rc;
    if (p->reinit) {
        gpsc_rng_t r;
        gpsc_rng_init(&r, key);
        if ((rc = gpsc_gmm_init_random(&g, p->data, npts, &r, ar)) != 0)
            return fail(rc, err, errsz, "%s GMM init: %s", what, gpsc_strerror(rc));
        p->K = K;
        p->N_init = npts;
    }
    /* EM with the experiment's settings (em_max, when > 0, caps the passes
     * further). The default test is the corrected relative one, |ll -
     * prevll| < em_tolerance |prevll|: the reference's compares with the
     * signed prevll and so never stops EM while the log-likelihood is <= 0
     * (then all passes run); em_stop: reference restores it. See
     * docs/numerics.md, "GMM". */
    gpsc_gmm_em_cfg_t ec = p->em;
    if (em_max > 0 && em_max < ec.max_iterations)
        ec.max_iterations = em_max;
    gpsc_gmm_em_info_t info;
    rc = gpsc_gmm_em_run(&g, &info, NULL, &ec, p->data, npts, ar);
    p->em_iters = info.n_estep;
    if (rc)
        return fail(rc, err, errsz, "%s GMM EM (K = %d, %d points): %s", what, K, npts,
                    gpsc_strerror(rc));
    return 0;
}

/* ------------------------------------------------------------------ per-condition tasks */

/* success metric value of sample n of condition c; returns 1/0, -1 none */
static int success_of(const gpsc_alg_t *a, const cond_t *c, const gpsc_alg_sample_t *s,
                      double *value)
{
    const gpsc_exp_success_t *su = &a->exp->success;
    int T = a->T;
    *value = NAN;
    switch (su->metric) {
    case GPSC_EXP_METRIC_FINAL_EE_DISTANCE:
    case GPSC_EXP_METRIC_MIN_EE_DISTANCE: {
        if (a->P < 3 * (su->point + 1) || !c->target)
            return -1;
        double best = INFINITY;
        int t0 = su->metric == GPSC_EXP_METRIC_FINAL_EE_DISTANCE ? T - 1 : 0;
        for (int t = t0; t < T; t++) {
            double d2 = 0;
            for (int j = 0; j < 3; j++) {
                double dd = s->ee[(size_t)t * a->P + 3 * su->point + j] - c->target[3 * su->point + j];
                d2 += dd * dd;
            }
            if (sqrt(d2) < best)
                best = sqrt(d2);
        }
        *value = best;
        return best <= su->threshold;
    }
    case GPSC_EXP_METRIC_FINAL_STATE_ABOVE:
    case GPSC_EXP_METRIC_FINAL_STATE_BELOW:
    case GPSC_EXP_METRIC_MEAN_STATE_ABOVE: {
        if (su->index < 0 || su->index >= a->dX)
            return -1;
        if (su->metric == GPSC_EXP_METRIC_MEAN_STATE_ABOVE) {
            double sum = 0;
            for (int t = 0; t < T; t++)
                sum += s->X[(size_t)t * a->dX + su->index];
            *value = sum / T;
            return *value >= su->threshold;
        }
        *value = s->X[(size_t)(T - 1) * a->dX + su->index];
        return su->metric == GPSC_EXP_METRIC_FINAL_STATE_ABOVE ? *value >= su->threshold
                                                                : *value <= su->threshold;
    }
    default:
        return -1;
    }
}

/* cost expansion, dynamics prior and fit, the sampler's Laplace cost, and
 * the sample metrics of condition `task` */
static int task_model(void *ctx, int task, int worker)
{
    gpsc_alg_t *a = ctx;
    cond_t *c = &a->c[task];
    gpsc_alg_cond_metrics_t *cm = &a->cmet[task];
    gpsc_arena_t *ar = gpsc_pool_arena(a->pool, worker);
    gpsc_traj_dims_t d = dims(a);
    int T = a->T, dX = a->dX, dU = a->dU, dO = a->dO, N = a->N;
    size_t sx = (size_t)T * dX, su = (size_t)T * dU, so = (size_t)T * dO;
    const gpsc_alg_sample_t *in = a->in + (size_t)task * N;
    int rc;
    double t0 = now_ms();

    /* the samples, contiguous (N x T x d) */
    for (int n = 0; n < N; n++) {
        memcpy(c->X + n * sx, in[n].X, sx * sizeof(double));
        memcpy(c->U + n * su, in[n].U, su * sizeof(double));
        if (c->O && in[n].O)
            memcpy(c->O + n * so, in[n].O, so * sizeof(double));
    }

    /* 1. cost of every sample, then the expansion around y = 0 (README 5.4) */
    double csum = 0, csq = 0;
    for (int n = 0; n < N; n++) {
        gpsc_cost_sample_t s = {.T = T, .dX = dX, .dU = dU, .P = a->P, .dQ = a->dQ,
                                .x = in[n].X, .u = in[n].U, .ee = in[n].ee, .jac = in[n].jac};
        if ((rc = gpsc_cost_eval(&c->exps[n], c->terms, a->n_costs, &s, ar)) != 0)
            return c->rc = fail(rc, c->err, sizeof c->err, "sample %d: cost: %s", n,
                                rc == GPSC_ENOSPC ? gpsc_strerror(rc) : "invalid term");
        double l = 0;
        for (int t = 0; t < T; t++)
            l += c->exps[n].l[t];
        c->scost[n] = l;
        csum += l;
    }
    double mean = csum / N;
    for (int n = 0; n < N; n++)
        csq += (c->scost[n] - mean) * (c->scost[n] - mean);
    gpsc_cost_expand(c->cc, c->cv, c->Cm, c->exps, c->X, c->U, N);
    cm->sample_cost = mean;
    cm->sample_cost_std = sqrt(csq / N);
    double t1 = now_ms();

    /* 2. dynamics prior: buffer, points [x_t, u_t, x_{t+1}], EM */
    prior_t *p = &c->dyn;
    prior_append(p, c->X, c->U, NULL, N, T, dX, dU, 0, (uint32_t)a->iteration, (uint32_t)c->m);
    int D = p->D, npts = 0;
    for (int i = 0; i < p->nbuf; i++)
        for (int t = 0; t < T - 1; t++, npts++) {
            double *row = p->data + (size_t)npts * D;
            memcpy(row, p->X + i * sx + (size_t)t * dX, dX * sizeof(double));
            memcpy(row + dX, p->U + i * su + (size_t)t * dU, dU * sizeof(double));
            memcpy(row + dX + dU, p->X + i * sx + (size_t)(t + 1) * dX, dX * sizeof(double));
        }
    gpsc_rng_key_t key = {a->seed, (uint32_t)a->iteration, (uint32_t)c->m, 0, GPSC_RNG_GMM_INIT};
    if ((rc = prior_fit(p, npts, &key, p->em.max_iterations, ar, c->err, sizeof c->err,
                        "dynamics")) != 0)
        return c->rc = rc;
    cm->dyn_clusters = p->K;
    cm->dyn_em_iterations = p->em_iters;
    cm->dyn_reinit = p->reinit;
    double t2 = now_ms();

    /* 3. dynamics D_k (README 5.8) */
    for (int i = 0; i < p->nbuf; i++)
        memcpy(c->X0 + (size_t)i * dX, p->X + i * sx, dX * sizeof(double));
    gpsc_gmm_t g = {p->K, p->D, p->mu, p->sigma, p->logmass};
    gpsc_dynamics_cfg_t dc = {a->exp->algo.dyn_regularization, p->strength,
                              a->exp->algo.initial_state_var};
    gpsc_dynamics_prior_t dp = {&g, p->N_init, c->X0, p->nbuf};
    gpsc_dynamics_fit_out_t fo = {c->Fm, c->fv, c->dyn_covar, c->x0mu, c->x0sigma};
    if ((rc = gpsc_dynamics_fit(&fo, &dc, &dp, c->X, c->U, N, T, dX, dU, ar)) != 0)
        return c->rc = fail(rc, c->err, sizeof c->err, "dynamics fit: %s", gpsc_strerror(rc));

    /* E[cost] of the sampling controller p_k under (D_k, C_k) */
    gpsc_traj_dyn_t dyn = {c->Fm, c->fv, c->dyn_covar, c->x0mu, c->x0sigma};
    gpsc_traj_lg_t cur = lg_view(c->cur);
    if ((rc = gpsc_traj_estimate_cost(NULL, &cm->laplace_cost, &dyn, &cur, c->cc, c->cv, c->Cm,
                                      d, ar)) != 0)
        return c->rc = fail(rc, c->err, sizeof c->err, "laplace cost: %s", gpsc_strerror(rc));
    c->cur_laplace = cm->laplace_cost;
    double t3 = now_ms();

    /* success metric and final distance */
    int nsucc = 0, have = 0;
    double vsum = 0, dsum = 0;
    for (int n = 0; n < N; n++) {
        double v;
        int s = success_of(a, c, &in[n], &v);
        if (s >= 0) {
            have = 1;
            nsucc += s;
            vsum += v;
        }
        if (a->P >= 3) {
            int pt = a->exp->success.metric == GPSC_EXP_METRIC_FINAL_EE_DISTANCE ||
                             a->exp->success.metric == GPSC_EXP_METRIC_MIN_EE_DISTANCE
                         ? a->exp->success.point
                         : 0;
            if (3 * (pt + 1) > a->P)
                pt = 0;
            double d2 = 0;
            for (int j = 0; j < 3; j++) {
                double dd = in[n].ee[(size_t)(T - 1) * a->P + 3 * pt + j] - c->target[3 * pt + j];
                d2 += dd * dd;
            }
            dsum += sqrt(d2);
        }
    }
    cm->n_success = have ? nsucc : -1;
    cm->success_value = have ? vsum / N : NAN;
    cm->final_distance = a->P >= 3 ? dsum / N : NAN;
    c->ms[T_COST] = t1 - t0;
    c->ms[T_PRIOR] = t2 - t1;
    c->ms[T_DYN] = t3 - t2;
    return c->rc = 0;
}

/* KL_t(cn || pi_bar_k) per step (kl_t, T) under cn's marginals on the
 * dynamics D_k of condition c (GPS 2014's dual step and the bound's eps_t);
 * writes the marginals' per-step Laplace cost into cost_t when non-NULL */
static int kl_to_pibar(double *kl_t, double *cost_t, const gpsc_alg_t *a, const cond_t *c,
                       const gpsc_lgpolicy_t *cn, gpsc_arena_t *ar)
{
    gpsc_traj_dims_t d = dims(a);
    size_t T = (size_t)a->T, dXU = (size_t)a->dX + (size_t)a->dU;
    size_t mark = gpsc_arena_mark(ar);
    double *mu = gpsc_arena_alloc(ar, T * dXU * sizeof(double));
    double *sigma = gpsc_arena_alloc(ar, T * dXU * dXU * sizeof(double));
    double *qm = gpsc_arena_alloc(ar, gpsc_traj_quad_doubles(d) * sizeof(double));
    if (!mu || !sigma || !qm) {
        gpsc_arena_free_to(ar, mark);
        return GPSC_ENOSPC;
    }
    gpsc_traj_dyn_t dyn = {c->Fm, c->fv, c->dyn_covar, c->x0mu, c->x0sigma};
    gpsc_traj_lg_t p = lg_view(cn);
    gpsc_traj_lg_t pb = {c->pol_K, c->pol_k, c->pol_S, NULL, NULL};
    gpsc_traj_quad_t q;
    gpsc_traj_quad_layout(&q, qm, d);
    int rc = gpsc_traj_forward(mu, sigma, &dyn, &p, d, ar);
    if (!rc && cost_t)
        rc = gpsc_traj_laplace_cost(cost_t, NULL, mu, sigma, c->cc, c->cv, c->Cm, a->T,
                                    (int)dXU);
    if (!rc) rc = gpsc_traj_quad_build(&q, &pb, d, ar);
    if (!rc) rc = gpsc_traj_kl(kl_t, NULL, mu, sigma, &p, &q, d, ar);
    gpsc_arena_free_to(ar, mark);
    return rc;
}

double gpsc_alg_cost_bound(const double *cost_t, const double *kl_t, const double *lmax_t, int T)
{
    /* seed 000 C.2 (the last line of the proof of Lemma C.3):
     *   sum_t E_pi[l_t] <= sum_t [E_p[l_t] + sqrt(2 eps_t) max l_t
     *                             + 2 sqrt(2 eps_t) Q_max,t],
     *   Q_max,t = sum_{t' >= t} max l_t'.
     * One backward sweep: Q_max,t is the running sum of the later steps,
     * and the total is summed from t = T-1 down, a fixed order. */
    double q = 0.0, sum = 0.0;
    for (int t = T - 1; t >= 0; t--) {
        double e = kl_t[t] > 0.0 ? kl_t[t] : 0.0;
        double s = sqrt(2.0 * e);
        q += lmax_t[t];
        sum += cost_t[t] + s * lmax_t[t] + 2.0 * s * q;
    }
    return sum;
}

/* The global policy's cost bound of seed 000 C for condition `task`
 * (metrics only; nothing of the state changes): p = p_k, the controller
 * the samples came from; pi = the network theta_k they were linearised
 * against (pi_bar_k); E_p[l_t] the Laplace estimate under (D_k, C_k);
 * eps_t = KL_t(p_k || pi_bar_k) under p_k's marginals (Lemma C.1 takes the
 * max over x_t, which is infinite for different linear gains, so we take
 * the expectation under p(x_t) that the C-step constrains); max l_t =
 * max over this iteration's samples of |l_t(x, u)| (the true max over all
 * states is unbounded for quadratic costs; |.| because our costs may be
 * negative and the proof bounds <f, l> by ||f||_1 max |l|). */
static int bound_eval(gpsc_alg_t *a, cond_t *c, gpsc_alg_cond_metrics_t *cm, gpsc_arena_t *ar)
{
    int T = a->T, N = a->N;
    int rc = kl_to_pibar(c->b_kl, c->b_cost, a, c, c->cur, ar);
    if (rc) return rc;
    double sc = 0.0, sk = 0.0;
    for (int t = 0; t < T; t++) {
        double m = 0.0;
        for (int n = 0; n < N; n++) {
            double v = fabs(c->exps[n].l[t]);
            if (v > m) m = v;
        }
        c->b_lmax[t] = m;
        sc += c->b_cost[t];
        sk += c->b_kl[t];
    }
    cm->bound = gpsc_alg_cost_bound(c->b_cost, c->b_kl, c->b_lmax, T);
    cm->bound_cost = sc;
    cm->bound_kl = sk;
    cm->global_cost = c->pol_laplace;
    return 0;
}

/* MDGPS and GPS 2014: the network at the samples, the policy prior (with
 * `append`, this iteration's samples join its buffer first) and the
 * linearisation pi_bar_k of condition c (README 5.15), then E[cost] of
 * pi_bar_k under (D_k, C_k) into c->pol_laplace */
static int polfit(gpsc_alg_t *a, cond_t *c, gpsc_alg_cond_metrics_t *cm, bool append,
                  uint32_t gmm_sample, gpsc_arena_t *ar)
{
    int T = a->T, dX = a->dX, dU = a->dU, dO = a->dO, N = a->N;
    size_t sx = (size_t)T * dX;
    int rc;
    /* (work stays allocated until the task ends, as it always did: the
     * kernels after it see the same arena layout) */
    double *work = gpsc_arena_alloc(ar, gpsc_mlp_work_size(a->net) * sizeof(double));
    if (!work)
        return fail(GPSC_ENOSPC, c->err, sizeof c->err, "policy fit: arena");

    /* network means and covariance at this iteration's samples */
    gpsc_mlp_forward_batch(c->pol_mu, a->net, c->O, N * T, work);
    for (size_t i = 0; i < (size_t)N * T; i++) {
        double *S = c->pol_sig + i * dU * dU;
        memset(S, 0, sizeof(double) * (size_t)dU * dU);
        for (int j = 0; j < dU; j++)
            S[j * dU + j] = a->net->var[j];
    }

    /* policy prior: buffer (x, u, o), points [x_t, mu(o_t)] for every t */
    prior_t *p = &c->pol;
    if (append)
        prior_append(p, c->X, c->U, c->O, N, T, dX, dU, dO, (uint32_t)a->iteration,
                     (uint32_t)c->m);
    size_t mark = gpsc_arena_mark(ar);
    double *um = gpsc_arena_alloc(ar, (size_t)p->nbuf * T * dU * sizeof(double));
    if (!um)
        return fail(GPSC_ENOSPC, c->err, sizeof c->err, "policy fit: arena");
    gpsc_mlp_forward_batch(um, a->net, p->O, p->nbuf * T, work);
    int D = p->D, npts = 0;
    for (int i = 0; i < p->nbuf; i++)
        for (int t = 0; t < T; t++, npts++) {
            double *row = p->data + (size_t)npts * D;
            memcpy(row, p->X + i * sx + (size_t)t * dX, dX * sizeof(double));
            memcpy(row + dX, um + (size_t)npts * dU, dU * sizeof(double));
        }
    gpsc_arena_free_to(ar, mark);
    gpsc_rng_key_t key = {a->seed, (uint32_t)a->iteration, (uint32_t)c->m, gmm_sample,
                          GPSC_RNG_GMM_INIT};
    if ((rc = prior_fit(p, npts, &key, p->em.max_iterations, ar, c->err, sizeof c->err,
                        "policy")) != 0)
        return rc;
    cm->pol_clusters = p->K;

    /* linearisation */
    gpsc_gmm_t g = {p->K, p->D, p->mu, p->sigma, p->logmass};
    if ((rc = gpsc_policy_prior_linearize(c->pol_K, c->pol_k, c->pol_S, c->X, c->pol_mu,
                                          c->pol_sig, &g, p->N_init, p->strength,
                                          a->exp->algo.pol_prior.regularization, N, T, dX, dU,
                                          ar)) != 0)
        return fail(rc, c->err, sizeof c->err, "policy linearisation: %s", gpsc_strerror(rc));

    /* E[cost] of pi_bar_k under (D_k, C_k) */
    gpsc_traj_dyn_t dyn = {c->Fm, c->fv, c->dyn_covar, c->x0mu, c->x0sigma};
    gpsc_traj_lg_t pb = {c->pol_K, c->pol_k, c->pol_S, NULL, NULL};
    if ((rc = gpsc_traj_estimate_cost(NULL, &c->pol_laplace, &dyn, &pb, c->cc, c->cv, c->Cm,
                                      dims(a), ar)) != 0)
        return fail(rc, c->err, sizeof c->err, "laplace cost of pi_bar: %s", gpsc_strerror(rc));
    return 0;
}

/* MDGPS and GPS 2014, once per iteration: the samples join the policy
 * prior, pi_bar_k of condition `task`, the cost bound; MDGPS's step-size
 * rule compares pi_bar_k's cost ("actual"), GPS 2014's (trajopt's classic
 * rule on the GPS objective) E[cost] of p_k plus sum_t lambda_t eps_t */
static int task_polfit(void *ctx, int task, int worker)
{
    gpsc_alg_t *a = ctx;
    cond_t *c = &a->c[task];
    gpsc_alg_cond_metrics_t *cm = &a->cmet[task];
    gpsc_arena_t *ar = gpsc_pool_arena(a->pool, worker);
    double t0 = now_ms();
    int rc = polfit(a, c, cm, true, 1, ar);
    if (rc)
        return c->rc = rc;
    if (a->type == GPSC_EXP_ALG_MDGPS)
        c->cur_laplace = c->pol_laplace;
    if ((rc = bound_eval(a, c, cm, ar)) != 0)
        return c->rc = fail(rc, c->err, sizeof c->err, "cost bound: %s", gpsc_strerror(rc));
    if (a->type == GPSC_EXP_ALG_GPS2014) {
        double s = 0.0;
        for (int t = 0; t < a->T; t++)
            s += c->lambda[t] * c->b_kl[t];
        c->cur_laplace = cm->laplace_cost + s;
    }
    c->ms[T_POLFIT] = now_ms() - t0;
    return c->rc = 0;
}

/* the C-step of condition `task` (README 5.12) and the numbers the next
 * step-size rule needs */
static int task_cstep(void *ctx, int task, int worker)
{
    gpsc_alg_t *a = ctx;
    cond_t *c = &a->c[task];
    gpsc_alg_cond_metrics_t *cm = &a->cmet[task];
    gpsc_arena_t *ar = gpsc_pool_arena(a->pool, worker);
    const gpsc_exp_cstep_t *cs = &a->exp->algo.cstep;
    gpsc_traj_dims_t d = dims(a);
    double t0 = now_ms();
    int rc;

    gpsc_cstep_cfg_t cfg = {a->exp->algo.kl_step, c->step_mult, c->eta, cs->min_eta, cs->max_eta,
                            cs->del0, cs->max_iterations};
    gpsc_cstep_problem_t prob;
    memset(&prob, 0, sizeof prob);
    prob.dyn = (gpsc_traj_dyn_t){c->Fm, c->fv, c->dyn_covar, c->x0mu, c->x0sigma};
    prob.Cm = c->Cm;
    prob.cv = c->cv;
    if (a->type == GPSC_EXP_ALG_MDGPS)
        prob.pref = (gpsc_traj_lg_t){c->pol_K, c->pol_k, c->pol_S, NULL, NULL};
    else
        prob.pref = lg_view(c->cur);
    gpsc_cstep_result_t res;
    memset(&res, 0, sizeof res);
    gpsc_traj_lg_t out = lg_view(c->next);
    if (a->type == GPSC_EXP_ALG_GPS2014) {
        /* seed 003 A: KL to p_k constrained, lambda_t-weighted KL to pi_bar */
        gpsc_gps2014_problem_t gp = {prob.dyn, c->Cm, c->cv, lg_view(c->cur),
                                     {c->pol_K, c->pol_k, c->pol_S, NULL, NULL}, c->lambda};
        rc = gpsc_gps2014_cstep(&out, &res, &cfg, &gp, d, ar);
    } else {
        rc = gpsc_cstep(&out, &res, &cfg, &prob, d, ar);
    }
    cm->cstep_iterations = res.iterations;
    cm->cstep_bumps = res.n_bumps;
    if (rc)
        return c->rc = fail(rc, c->err, sizeof c->err, "C-step (eta %g, %d passes): %s", res.eta,
                            res.iterations, gpsc_strerror(rc));
    cm->kl = res.kl;
    cm->kl_target = res.kl_target;
    cm->cstep_converged = res.converged;
    cm->step_mult = c->step_mult;
    c->eta = res.eta;
    cm->eta = res.eta;

    /* E[cost] of p_{k+1} under (D_k, C_k): this iteration's prediction */
    if ((rc = gpsc_traj_estimate_cost(NULL, &cm->expected_cost, &prob.dyn, &out, c->cc, c->cv,
                                      c->Cm, d, ar)) != 0)
        return c->rc = fail(rc, c->err, sizeof c->err, "expected cost: %s", gpsc_strerror(rc));
    double ent = 0;
    for (int t = 0; t < a->T; t++)
        for (int i = 0; i < a->dU; i++)
            ent += log(c->next->chol[((size_t)t * a->dU + i) * a->dU + i]);
    cm->entropy = ent;
    c->ms[T_CSTEP] += now_ms() - t0;
    return c->rc = 0;
}

/* GPS 2014, after the S-step of inner iteration a->inner: pi_bar
 * re-linearised around the new network (the policy prior refitted on its
 * buffer, no new samples: the reference's _update_policy_fit). After the
 * last inner iteration also the per-step KL_t(p_{k+1} || pi_bar) under
 * p_{k+1}'s marginals on D_k, the dual step lambda_t += policy_dual_rate
 * KL_t (gps2014.h; once per iteration, after the alternation of C- and
 * S-steps has settled for the current lambda, as the reference's
 * AlgorithmBADMM steps pol_wt on its last inner iteration only), and the
 * step-size rule's numbers for the next iteration on the GPS objective
 * J(p) = E_p[sum_t l] + sum_t lambda_t KL_t(p || pi_bar) (the reference's
 * _stepadjust adds the same weighted KL): J of p_k (the "previous" of the
 * next iteration) and of p_{k+1} (its "predicted"), both under (D_k,
 * C_k), with the final pi_bar and the new lambda. */
static int task_refit(void *ctx, int task, int worker)
{
    gpsc_alg_t *a = ctx;
    cond_t *c = &a->c[task];
    gpsc_alg_cond_metrics_t *cm = &a->cmet[task];
    gpsc_arena_t *ar = gpsc_pool_arena(a->pool, worker);
    int T = a->T;
    double t0 = now_ms();
    int rc = polfit(a, c, cm, false, 1, ar);
    if (rc)
        return c->rc = rc;
    if (a->inner == a->exp->algo.inner_iterations - 1) {
        if ((rc = kl_to_pibar(c->pol_kl_t, NULL, a, c, c->next, ar)) != 0)
            return c->rc = fail(rc, c->err, sizeof c->err, "KL to pi_bar: %s",
                                gpsc_strerror(rc));
        if (gpsc_gps2014_dual_step(c->lambda, c->pol_kl_t, a->exp->algo.policy_dual_rate, T))
            return c->rc = fail(GPSC_ENONFINITE, c->err, sizeof c->err,
                                "dual step: non-finite KL to pi_bar");
        double *kc = gpsc_arena_alloc(ar, (size_t)T * sizeof(double));
        if (!kc)
            return c->rc = fail(GPSC_ENOSPC, c->err, sizeof c->err, "refit: arena");
        if ((rc = kl_to_pibar(kc, NULL, a, c, c->cur, ar)) != 0)
            return c->rc = fail(rc, c->err, sizeof c->err, "KL to pi_bar: %s",
                                gpsc_strerror(rc));
        double kl = 0.0, lsum = 0.0, lmax = 0.0, jc = 0.0, jn = 0.0;
        for (int t = 0; t < T; t++) {
            kl += c->pol_kl_t[t];
            lsum += c->lambda[t];
            if (c->lambda[t] > lmax) lmax = c->lambda[t];
            jc += c->lambda[t] * kc[t];
            jn += c->lambda[t] * c->pol_kl_t[t];
        }
        cm->pol_kl = kl;
        cm->lambda_mean = lsum / T;
        cm->lambda_max = lmax;
        c->gps_prev_J = cm->laplace_cost + jc;
        c->gps_pred_J = cm->expected_cost + jn;
    }
    c->ms[T_POLFIT] += now_ms() - t0;
    return c->rc = 0;
}

/* ------------------------------------------------------------------ the iteration */

/* runs fn on every condition; on failure the lowest failing condition's
 * message goes to err */
static int run_conds(gpsc_alg_t *a, gpsc_pool_fn fn, char *err, size_t errsz)
{
    int rc = gpsc_pool_run(a->pool, a->M, fn, a);
    if (rc == 0)
        return 0;
    for (int m = 0; m < a->M; m++)
        if (a->c[m].rc)
            return fail(a->c[m].rc, err, errsz, "iteration %d, condition %d: %s", a->iteration, m,
                        a->c[m].err);
    return fail(rc, err, errsz, "iteration %d: %s", a->iteration, gpsc_strerror(rc));
}

/* the samples must fit and be finite; nothing is changed before this */
static int check_samples(const gpsc_alg_t *a, const gpsc_alg_sample_t *s, int n, char *err,
                         size_t errsz)
{
    if (!s || n != a->M * a->N)
        return fail(GPSC_EINVAL, err, errsz, "iteration %d: %d samples, expected %d conditions "
                                             "x %d samples = %d",
                    a->iteration, s ? n : 0, a->M, a->N, a->M * a->N);
    size_t T = (size_t)a->T;
    bool need_o = a->netalg;
    for (int i = 0; i < n; i++) {
        const gpsc_alg_sample_t *x = &s[i];
        int m = i / a->N, k = i % a->N;
        if (x->T != a->T || x->dX != a->dX || x->dU != a->dU || x->dO != a->dO || x->P != a->P ||
            x->dQ != a->dQ)
            return fail(GPSC_EDIM, err, errsz,
                        "condition %d sample %d: (T, dX, dU, dO, P, dQ) = (%d, %d, %d, %d, %d, "
                        "%d), expected (%d, %d, %d, %d, %d, %d)",
                        m, k, x->T, x->dX, x->dU, x->dO, x->P, x->dQ, a->T, a->dX, a->dU, a->dO,
                        a->P, a->dQ);
        if (!x->X || !x->U || (a->P > 0 && (!x->ee || !x->jac)) || (need_o && !x->O))
            return fail(GPSC_EINVAL, err, errsz, "condition %d sample %d: missing array", m, k);
        struct {
            const char *name;
            const double *v;
            size_t n;
        } arr[5] = {{"X", x->X, T * a->dX},
                    {"U", x->U, T * a->dU},
                    {"O", x->O, x->O ? T * a->dO : 0},
                    {"ee", x->ee, a->P ? T * a->P : 0},
                    {"jac", x->jac, a->P ? T * a->P * a->dQ : 0}};
        for (int j = 0; j < 5; j++)
            if (arr[j].n && !gpsc_la_all_finite(arr[j].v, arr[j].n))
                return fail(GPSC_ENONFINITE, err, errsz,
                            "condition %d sample %d: %s holds NaN or Inf", m, k, arr[j].name);
    }
    return 0;
}

/* The S-step on the controllers pols[m]. MDGPS: at this iteration's
 * samples with the weights init_pol_wt. GPS 2014: with each condition's
 * lambda_t as the weights (seed 003 A's policy objective), at this
 * iteration's samples (`buffer` false: the initial fit) or at the states of
 * the policy prior's buffer (`buffer` true: this iteration's samples and up
 * to max_samples - N older ones, seed 003 A's augmentation, all with the
 * new controller's actions). key_iter is the S-step key's iteration. */
static int sstep(gpsc_alg_t *a, gpsc_lgpolicy_t *const *pols, bool buffer, bool fit_norm,
                 uint32_t key_iter, char *err, size_t errsz)
{
    gpsc_sstep_cond_t *sc = calloc((size_t)a->M, sizeof *sc);
    if (!sc)
        return fail(GPSC_ENOMEM, err, errsz, "S-step: out of memory");
    bool gps = a->type == GPSC_EXP_ALG_GPS2014;
    for (int m = 0; m < a->M; m++) {
        const cond_t *c = &a->c[m];
        const double *wt = gps ? c->lambda : a->pol_wt;
        if (buffer)
            sc[m] = (gpsc_sstep_cond_t){c->pol.nbuf, c->pol.X, c->pol.O, pols[m]->K, pols[m]->k,
                                        pols[m]->inv_pol_covar, wt};
        else
            sc[m] = (gpsc_sstep_cond_t){a->N, c->X, c->O, pols[m]->K, pols[m]->k,
                                        pols[m]->inv_pol_covar, wt};
    }
    gpsc_arena_t *ar = gpsc_pool_arena(a->pool, 0);
    gpsc_arena_reset(ar);
    gpsc_sstep_data_t data;
    int rc = gpsc_sstep_build(&data, sc, a->M, a->T, a->dX, a->dO, a->dU, ar);
    free(sc);
    if (rc) {
        gpsc_arena_reset(ar);
        return fail(rc, err, errsz, "iteration %d: S-step targets: %s", a->iteration,
                    gpsc_strerror(rc));
    }
    if (fit_norm && (rc = gpsc_sstep_fit_normalization(a->net, data.obs, data.N)) != 0) {
        gpsc_arena_reset(ar);
        return fail(rc, err, errsz, "iteration %d: observation normalisation: %s", a->iteration,
                    gpsc_strerror(rc));
    }
    char sub[ERRN] = "";
    rc = a->sstep(a->sstep_ud, a->net, &a->adam, &data, &a->scfg, a->seed, key_iter, ar, sub,
                  sizeof sub);
    gpsc_arena_reset(ar);
    if (rc)
        return fail(rc, err, errsz, "iteration %d: %s", a->iteration, sub);
    return 0;
}

int gpsc_alg_iteration(gpsc_alg_t *a, const gpsc_alg_sample_t *samples, int n_samples, char *err,
                       size_t errsz)
{
    if (!a)
        return fail(GPSC_EINVAL, err, errsz, "iteration: NULL");
    int rc = check_samples(a, samples, n_samples, err, errsz);
    if (rc)
        return rc;
    const gpsc_exp_algo_t *al = &a->exp->algo;
    bool mdgps = a->type == GPSC_EXP_ALG_MDGPS;
    bool gps = a->type == GPSC_EXP_ALG_GPS2014;
    int I = al->inner_iterations;
    double t_start = now_ms(), par = 0, t_step = 0, t_sstep = 0;
    memset(a->cmet, 0, sizeof(gpsc_alg_cond_metrics_t) * (size_t)a->M);
    for (int m = 0; m < a->M; m++) {
        memset(a->c[m].ms, 0, sizeof a->c[m].ms);
        a->c[m].rc = 0;
        a->c[m].err[0] = '\0';
        gpsc_alg_cond_metrics_t *cm = &a->cmet[m];
        cm->condition = m;
        cm->global_cost = cm->bound = cm->bound_cost = cm->bound_kl = NAN;
        cm->pol_kl = cm->lambda_mean = cm->lambda_max = NAN;
    }
    a->in = samples;
    gpsc_lgpolicy_t **pols = malloc(sizeof(*pols) * (size_t)a->M);
    if (!pols) {
        rc = fail(GPSC_ENOMEM, err, errsz, "out of memory");
        goto out;
    }

    /* costs, dynamics prior, dynamics (per condition) */
    double t0 = now_ms();
    rc = run_conds(a, task_model, err, errsz);
    par += now_ms() - t0;
    if (rc)
        goto out;

    if (a->netalg) {
        /* iteration 0: the network first catches up with the initial controllers */
        if (a->iteration == 0) {
            for (int m = 0; m < a->M; m++)
                pols[m] = a->c[m].cur;
            double ts = now_ms();
            uint32_t key = mdgps ? (uint32_t)a->iteration : GPS2014_SSTEP_KEY(0, I, -1);
            rc = sstep(a, pols, false, true, key, err, errsz);
            t_sstep += now_ms() - ts;
            if (rc)
                goto out;
        }
        /* the samples join the policy prior; pi_bar_k; the cost bound */
        t0 = now_ms();
        rc = run_conds(a, task_polfit, err, errsz);
        par += now_ms() - t0;
        if (rc)
            goto out;
    }

    /* step size (seed 000 B.3) from iteration 1 on */
    t0 = now_ms();
    if (a->iteration >= 1) {
        gpsc_stepsize_t ss;
        if (a->netalg && al->step_rule == GPSC_EXP_STEP_GLOBAL) {
            double *v = malloc(sizeof(double) * 3 * (size_t)a->M);
            if (!v) {
                rc = fail(GPSC_ENOMEM, err, errsz, "out of memory");
                goto out;
            }
            for (int m = 0; m < a->M; m++) {
                v[m] = a->c[m].prev_laplace;
                v[a->M + m] = a->c[m].prev_predicted;
                v[2 * a->M + m] = a->c[m].cur_laplace;
            }
            rc = gpsc_stepsize_global(&ss, GPSC_STEP_RULE_LAPLACE, v, v + a->M, v + 2 * a->M, NULL,
                                      NULL, a->M, a->c[0].step_mult, al->min_step_mult,
                                      al->max_step_mult);
            free(v);
            if (rc) {
                rc = fail(rc, err, errsz, "iteration %d: step size: %s", a->iteration,
                          gpsc_strerror(rc));
                goto out;
            }
            for (int m = 0; m < a->M; m++) {
                a->c[m].step_mult = ss.new_step_mult;
                a->cmet[m].predicted_impr = ss.predicted_impr;
                a->cmet[m].actual_impr = ss.actual_impr;
            }
        } else {
            for (int m = 0; m < a->M; m++) {
                cond_t *c = &a->c[m];
                rc = gpsc_stepsize_classic(&ss, c->prev_laplace, c->prev_predicted, c->cur_laplace,
                                           c->step_mult, al->min_step_mult, al->max_step_mult);
                if (rc) {
                    rc = fail(rc, err, errsz, "iteration %d, condition %d: step size: %s",
                              a->iteration, m, gpsc_strerror(rc));
                    goto out;
                }
                c->step_mult = ss.new_step_mult;
                a->cmet[m].predicted_impr = ss.predicted_impr;
                a->cmet[m].actual_impr = ss.actual_impr;
            }
        }
    }
    t_step = now_ms() - t0;

    if (gps) {
        /* GPS 2014 (seed 003 A): inner iterations of C-step (KL to p_k
         * constrained, lambda_t KL to pi_bar), S-step on the new
         * controllers, re-linearisation and the dual step on lambda_t */
        for (int m = 0; m < a->M; m++)
            pols[m] = a->c[m].next;
        for (int i = 0; i < I; i++) {
            a->inner = i;
            t0 = now_ms();
            rc = run_conds(a, task_cstep, err, errsz);
            par += now_ms() - t0;
            if (rc)
                goto out;
            double ts = now_ms();
            rc = sstep(a, pols, true, false, GPS2014_SSTEP_KEY(a->iteration, I, i), err, errsz);
            t_sstep += now_ms() - ts;
            if (rc)
                goto out;
            t0 = now_ms();
            rc = run_conds(a, task_refit, err, errsz);
            par += now_ms() - t0;
            if (rc)
                goto out;
        }
    } else {
        /* C-step (per condition) */
        t0 = now_ms();
        rc = run_conds(a, task_cstep, err, errsz);
        par += now_ms() - t0;
        if (rc)
            goto out;

        /* S-step on the new controllers */
        if (mdgps) {
            for (int m = 0; m < a->M; m++)
                pols[m] = a->c[m].next;
            double ts = now_ms();
            rc = sstep(a, pols, false, false, (uint32_t)a->iteration, err, errsz);
            t_sstep += now_ms() - ts;
            if (rc)
                goto out;
        }
    }

    /* advance: prev <- p_k, cur <- p_{k+1}; remember the step-size numbers */
    for (int m = 0; m < a->M; m++) {
        cond_t *c = &a->c[m];
        gpsc_lgpolicy_t *old = c->prev;
        c->prev = c->cur;
        c->cur = c->next;
        c->next = old;
        c->prev_laplace = gps ? c->gps_prev_J : c->cur_laplace;
        c->prev_predicted = gps ? c->gps_pred_J : a->cmet[m].expected_cost;
        c->prev_mc = a->cmet[m].sample_cost;
    }

    /* metrics, reduced in condition order */
    gpsc_alg_metrics_t *mt = &a->met;
    memset(&mt->ms, 0, sizeof mt->ms);
    mt->iteration = a->iteration;
    mt->sample_cost = 0;
    mt->n_success = -1;
    for (int m = 0; m < a->M; m++) {
        const cond_t *c = &a->c[m];
        mt->sample_cost += a->cmet[m].sample_cost / a->M;
        if (a->cmet[m].n_success >= 0)
            mt->n_success = (mt->n_success < 0 ? 0 : mt->n_success) + a->cmet[m].n_success;
        mt->ms.cost += c->ms[T_COST];
        mt->ms.prior += c->ms[T_PRIOR];
        mt->ms.dynamics += c->ms[T_DYN];
        mt->ms.policy_fit += c->ms[T_POLFIT];
        mt->ms.cstep += c->ms[T_CSTEP];
    }
    mt->ms.stepsize = t_step;
    mt->ms.sstep = t_sstep;
    mt->ms.parallel = par;
    mt->ms.total = now_ms() - t_start;
    a->iteration++;
out:
    free(pols);
    a->in = NULL;
    return rc;
}

/* ------------------------------------------------------------------ metrics JSON */

static void jnum(cJSON *o, const char *k, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, k, v);
    else
        cJSON_AddNullToObject(o, k);
}

char *gpsc_alg_metrics_json(const gpsc_alg_metrics_t *m, bool with_timings)
{
    if (!m)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "iteration", m->iteration);
    jnum(o, "sample_cost", m->sample_cost);
    if (m->n_success >= 0)
        cJSON_AddNumberToObject(o, "successes", m->n_success);
    cJSON_AddNumberToObject(o, "samples", m->N * m->M);
    cJSON *arr = cJSON_AddArrayToObject(o, "conditions");
    for (int i = 0; arr && i < m->M; i++) {
        const gpsc_alg_cond_metrics_t *c = &m->cond[i];
        cJSON *x = cJSON_CreateObject();
        if (!x)
            break;
        cJSON_AddNumberToObject(x, "condition", c->condition);
        jnum(x, "sample_cost", c->sample_cost);
        jnum(x, "sample_cost_std", c->sample_cost_std);
        jnum(x, "laplace_cost", c->laplace_cost);
        jnum(x, "expected_cost", c->expected_cost);
        jnum(x, "kl", c->kl);
        jnum(x, "kl_target", c->kl_target);
        jnum(x, "eta", c->eta);
        jnum(x, "step_mult", c->step_mult);
        jnum(x, "predicted_impr", c->predicted_impr);
        jnum(x, "actual_impr", c->actual_impr);
        jnum(x, "entropy", c->entropy);
        cJSON_AddNumberToObject(x, "cstep_iterations", c->cstep_iterations);
        cJSON_AddNumberToObject(x, "cstep_bumps", c->cstep_bumps);
        cJSON_AddBoolToObject(x, "cstep_converged", c->cstep_converged);
        cJSON_AddNumberToObject(x, "dyn_clusters", c->dyn_clusters);
        cJSON_AddNumberToObject(x, "dyn_em_iterations", c->dyn_em_iterations);
        if (c->pol_clusters)
            cJSON_AddNumberToObject(x, "pol_clusters", c->pol_clusters);
        if (c->n_success >= 0) {
            cJSON_AddNumberToObject(x, "successes", c->n_success);
            jnum(x, "success_value", c->success_value);
        }
        jnum(x, "final_distance", c->final_distance);
        /* the global policy (MDGPS, GPS 2014): absent for trajopt */
        if (!isnan(c->bound)) {
            jnum(x, "global_cost", c->global_cost);
            jnum(x, "global_cost_bound", c->bound);
            jnum(x, "bound_local_cost", c->bound_cost);
            jnum(x, "bound_kl", c->bound_kl);
        }
        if (!isnan(c->lambda_mean)) {
            jnum(x, "pol_kl", c->pol_kl);
            jnum(x, "lambda_mean", c->lambda_mean);
            jnum(x, "lambda_max", c->lambda_max);
        }
        cJSON_AddItemToArray(arr, x);
    }
    if (with_timings) {
        cJSON *t = cJSON_AddObjectToObject(o, "ms");
        if (t) {
            jnum(t, "cost", m->ms.cost);
            jnum(t, "prior", m->ms.prior);
            jnum(t, "dynamics", m->ms.dynamics);
            jnum(t, "policy_fit", m->ms.policy_fit);
            jnum(t, "stepsize", m->ms.stepsize);
            jnum(t, "cstep", m->ms.cstep);
            jnum(t, "sstep", m->ms.sstep);
            jnum(t, "parallel", m->ms.parallel);
            jnum(t, "total", m->ms.total);
        }
    }
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* ------------------------------------------------------------------ checkpoints */

static const char *alg_name(gpsc_exp_algorithm_t t)
{
    return t == GPSC_EXP_ALG_MDGPS ? "mdgps" : t == GPSC_EXP_ALG_GPS2014 ? "gps2014" : "trajopt";
}

/* appends tensor name = data (shape {n}) to the list; false when out of memory */
static bool put_vec(gpsc_checkpoint_t *ck, Gpsc__Tensor ***list, size_t *n, const char *name,
                    const double *data, uint32_t len)
{
    Gpsc__Tensor *t = gpsc_checkpoint_put_tensor(ck, name, &len, 1, data);
    return t && gpsc_checkpoint_append(ck, (void ***)list, n, t) == 0;
}

/* the prior as a GmmPrior plus its exact logmass / N_init tensors */
static bool put_prior(gpsc_checkpoint_t *ck, const gpsc_alg_t *a, const prior_t *p,
                      Gpsc__GmmPrior **out, Gpsc__ConditionState *cs, const char *pfx)
{
    Gpsc__GmmPrior *gp = gpsc_checkpoint_alloc(ck, sizeof *gp);
    if (!gp)
        return false;
    *gp = (Gpsc__GmmPrior)GPSC__GMM_PRIOR__INIT;
    gp->samples = gpsc_checkpoint_put_samples(ck, p->X, p->U, p->O, p->keys, p->nbuf, a->T, a->dX,
                                              a->dU, a->dO);
    if (!gp->samples)
        return false;
    if (p->K > 0) {
        gp->gmm = gpsc_checkpoint_put_gmm(ck, p->logmass, p->mu, p->sigma, p->K, p->D);
        char name[64];
        double ni = (double)p->N_init;
        snprintf(name, sizeof name, "%s_gmm_logmass", pfx);
        if (!gp->gmm || !put_vec(ck, &cs->extra, &cs->n_extra, name, p->logmass, (uint32_t)p->K))
            return false;
        snprintf(name, sizeof name, "%s_gmm_n_init", pfx);
        if (!put_vec(ck, &cs->extra, &cs->n_extra, name, &ni, 1))
            return false;
    }
    *out = gp;
    return true;
}

/* GPS 2014: the last pi_bar of condition c (pol_K, pol_k, pol_S and its
 * upper factor), lambda_t as pol_wt and the last dual step's per-step KL as
 * prev_kl (proto LinearizedPolicy) into *out. 0, GPSC_ENOMEM, or the
 * factorisation's error when a pol_S is not positive definite. */
static int put_pol_info(Gpsc__LinearizedPolicy **out, gpsc_checkpoint_t *ck, const gpsc_alg_t *a,
                        const cond_t *c)
{
    size_t T = (size_t)a->T, dX = (size_t)a->dX, dU = (size_t)a->dU;
    Gpsc__LinearizedPolicy *lp = gpsc_checkpoint_alloc(ck, sizeof *lp);
    if (!lp)
        return GPSC_ENOMEM;
    *lp = (Gpsc__LinearizedPolicy)GPSC__LINEARIZED_POLICY__INIT;
    lp->t = (uint32_t)T;
    lp->dx = (uint32_t)dX;
    lp->du = (uint32_t)dU;
    lp->pol_k = gpsc_checkpoint_doubles(ck, c->pol_K, T * dU * dX);
    lp->pol_k_ff = gpsc_checkpoint_doubles(ck, c->pol_k, T * dU);
    lp->pol_s = gpsc_checkpoint_doubles(ck, c->pol_S, T * dU * dU);
    lp->chol_pol_s = gpsc_checkpoint_doubles(ck, NULL, T * dU * dU);
    lp->pol_wt = gpsc_checkpoint_doubles(ck, c->lambda, T);
    lp->prev_kl = gpsc_checkpoint_doubles(ck, c->pol_kl_t, T);
    if (!lp->pol_k || !lp->pol_k_ff || !lp->pol_s || !lp->chol_pol_s || !lp->pol_wt ||
        !lp->prev_kl)
        return GPSC_ENOMEM;
    for (size_t t = 0; t < T; t++) {
        int rc = gpsc_la_chol(lp->chol_pol_s + t * dU * dU, c->pol_S + t * dU * dU, (int)dU);
        if (rc)
            return rc == GPSC_ESINGULAR ? GPSC_ENOTPD : rc;
    }
    lp->n_pol_k = T * dU * dX;
    lp->n_pol_k_ff = T * dU;
    lp->n_pol_s = lp->n_chol_pol_s = T * dU * dU;
    lp->n_pol_wt = lp->n_prev_kl = T;
    *out = lp;
    return 0;
}

int gpsc_alg_save(const gpsc_alg_t *a, gpsc_checkpoint_t *ck, const char *config_hash,
                  const char *run_id, const char *config_yaml, char *err, size_t errsz)
{
    if (!a || !ck)
        return fail(GPSC_EINVAL, err, errsz, "save: NULL");
    Gpsc__Checkpoint *m = gpsc_checkpoint_msg(ck);
    m->iteration = (uint32_t)a->iteration;
    m->run_seed = a->seed;
    m->config_hash = gpsc_checkpoint_strdup(ck, config_hash);
    m->run_id = gpsc_checkpoint_strdup(ck, run_id);
    m->algorithm = gpsc_checkpoint_strdup(ck, alg_name(a->type));
    m->config_yaml = gpsc_checkpoint_strdup(ck, config_yaml);
    m->condition_count = (uint32_t)a->M;
    if (!m->config_hash || !m->run_id || !m->algorithm || !m->config_yaml)
        goto oom;
    for (int i = 0; i < a->M; i++) {
        const cond_t *c = &a->c[i];
        Gpsc__ConditionState *cs = gpsc_checkpoint_alloc(ck, sizeof *cs);
        if (!cs)
            goto oom;
        *cs = (Gpsc__ConditionState)GPSC__CONDITION_STATE__INIT;
        cs->condition = (uint32_t)i;
        cs->traj_distr = gpsc_checkpoint_put_lgpolicy(ck, c->cur, (uint32_t)i,
                                                      (uint32_t)a->iteration);
        if (!cs->traj_distr)
            goto oom;
        if (a->iteration >= 1 &&
            !(cs->prev_traj_distr = gpsc_checkpoint_put_lgpolicy(ck, c->prev, (uint32_t)i,
                                                                 (uint32_t)a->iteration - 1)))
            goto oom;
        cs->eta = c->eta;
        cs->step_mult = c->step_mult;
        cs->kl_step = a->exp->algo.kl_step;
        cs->prev_expected_cost = c->prev_laplace;
        cs->prev_actual_cost = c->prev_mc;
        if (!put_vec(ck, &cs->extra, &cs->n_extra, "prev_predicted_cost", &c->prev_predicted, 1))
            goto oom;
        if (!put_prior(ck, a, &c->dyn, &cs->dynamics_prior, cs, "dyn"))
            goto oom;
        if (a->netalg && !put_prior(ck, a, &c->pol, &cs->policy_prior, cs, "pol"))
            goto oom;
        if (a->type == GPSC_EXP_ALG_GPS2014 && a->iteration >= 1) {
            int rc = put_pol_info(&cs->pol_info, ck, a, c);
            if (rc == GPSC_ENOMEM)
                goto oom;
            if (rc)
                return fail(rc, err, errsz, "save: condition %d: pi_bar's covariance: %s", i,
                            gpsc_strerror(rc));
        }
        if (gpsc_checkpoint_append(ck, (void ***)&m->conditions, &m->n_conditions, cs) != 0)
            goto oom;
        Gpsc__PolicyVersion *pv = gpsc_checkpoint_alloc(ck, sizeof *pv);
        if (!pv)
            goto oom;
        *pv = (Gpsc__PolicyVersion)GPSC__POLICY_VERSION__INIT;
        pv->kind = GPSC__POLICY_KIND__POLICY_LOCAL;
        pv->condition = (uint32_t)i;
        pv->version = (uint32_t)a->iteration;
        if (gpsc_checkpoint_append(ck, (void ***)&m->published, &m->n_published, pv) != 0)
            goto oom;
    }
    if (a->netalg) {
        const gpsc_mlp_t *net = a->net;
        m->network = gpsc_checkpoint_put_network(ck, net, (uint32_t)a->iteration);
        Gpsc__AdamState *as = gpsc_checkpoint_alloc(ck, sizeof *as);
        if (!m->network || !as)
            goto oom;
        *as = (Gpsc__AdamState)GPSC__ADAM_STATE__INIT;
        as->step = a->adam.step;
        size_t nw = m->network->n_weights, nb = m->network->n_biases;
        as->m = gpsc_checkpoint_doubles(ck, NULL, nw + nb);
        as->v = gpsc_checkpoint_doubles(ck, NULL, nw + nb);
        if (!as->m || !as->v)
            goto oom;
        as->n_m = as->n_v = nw + nb;
        /* the message's order: every W_l, then every b_l */
        size_t ow = 0, ob = nw;
        for (int l = 0; l < net->n_layers; l++) {
            size_t w = (size_t)net->width[l] * net->width[l + 1], b = (size_t)net->width[l + 1];
            size_t pw = (size_t)(net->W[l] - net->params), pb = (size_t)(net->b[l] - net->params);
            memcpy(as->m + ow, a->adam.m + pw, w * sizeof(double));
            memcpy(as->v + ow, a->adam.v + pw, w * sizeof(double));
            memcpy(as->m + ob, a->adam.m + pb, b * sizeof(double));
            memcpy(as->v + ob, a->adam.v + pb, b * sizeof(double));
            ow += w;
            ob += b;
        }
        m->optimizer = as;
        Gpsc__PolicyVersion *pv = gpsc_checkpoint_alloc(ck, sizeof *pv);
        if (!pv)
            goto oom;
        *pv = (Gpsc__PolicyVersion)GPSC__POLICY_VERSION__INIT;
        pv->kind = GPSC__POLICY_KIND__POLICY_GLOBAL;
        pv->version = (uint32_t)a->iteration;
        if (gpsc_checkpoint_append(ck, (void ***)&m->published, &m->n_published, pv) != 0)
            goto oom;
    }
    return 0;
oom:
    return fail(GPSC_ENOMEM, err, errsz, "save: out of memory");
}

/* the scalar of a 1-entry tensor, or NAN */
static double tensor_scalar(const Gpsc__ConditionState *cs, const char *name)
{
    const Gpsc__Tensor *t = gpsc_checkpoint_find_tensor(cs->extra, cs->n_extra, name);
    return t && t->n_data == 1 ? t->data[0] : NAN;
}

/* checks a GmmPrior against p; `apply` copies it in */
static int get_prior(prior_t *p, const gpsc_alg_t *a, const Gpsc__ConditionState *cs,
                     const Gpsc__GmmPrior *gp, const char *pfx, bool apply, char *err,
                     size_t errsz)
{
    int m = (int)cs->condition;
    if (!gp || !gp->samples)
        return fail(GPSC_ECONFIG, err, errsz, "condition %d: no %s prior", m, pfx);
    const Gpsc__SampleBuffer *s = gp->samples;
    size_t T = (size_t)a->T;
    bool want_o = p->O != NULL;
    if ((int)s->n > p->cap || (int)s->t != a->T || (int)s->dx != a->dX || (int)s->du != a->dU ||
        s->n_x != s->n * T * a->dX || s->n_u != s->n * T * a->dU ||
        (want_o && ((int)s->do_ != a->dO || s->n_o != s->n * T * a->dO)) ||
        (s->n_keys != 0 && s->n_keys != s->n))
        return fail(GPSC_EDIM, err, errsz, "condition %d: %s prior buffer does not fit (N = %u, "
                                           "max_samples %d)",
                    m, pfx, s->n, p->cap);
    char name[64];
    snprintf(name, sizeof name, "%s_gmm_logmass", pfx);
    const Gpsc__Tensor *lm = gpsc_checkpoint_find_tensor(cs->extra, cs->n_extra, name);
    snprintf(name, sizeof name, "%s_gmm_n_init", pfx);
    double ni = tensor_scalar(cs, name);
    const Gpsc__Gmm *g = gp->gmm;
    if (g) {
        if ((int)g->k > p->Kmax || (int)g->k < 1 || (int)g->d != p->D || !lm ||
            lm->n_data != g->k || !(ni >= 1) || g->n_means != (size_t)g->k * p->D ||
            g->n_covars != (size_t)g->k * p->D * p->D)
            return fail(GPSC_EDIM, err, errsz, "condition %d: %s GMM does not fit", m, pfx);
    }
    if (!apply)
        return 0;
    p->nbuf = (int)s->n;
    if (s->n) {
        memcpy(p->X, s->x, s->n_x * sizeof(double));
        memcpy(p->U, s->u, s->n_u * sizeof(double));
        if (want_o)
            memcpy(p->O, s->o, s->n_o * sizeof(double));
    }
    for (size_t i = 0; i < s->n; i++) {
        p->keys[i] = (Gpsc__TaskKey)GPSC__TASK_KEY__INIT;
        if (s->n_keys) {
            p->keys[i].iteration = s->keys[i]->iteration;
            p->keys[i].condition = s->keys[i]->condition;
            p->keys[i].sample_index = s->keys[i]->sample_index;
        }
    }
    if (g) {
        p->K = (int)g->k;
        p->N_init = (int)ni;
        memcpy(p->mu, g->means, g->n_means * sizeof(double));
        memcpy(p->sigma, g->covars, g->n_covars * sizeof(double));
        memcpy(p->logmass, lm->data, lm->n_data * sizeof(double));
    } else {
        p->K = 0;
        p->N_init = 0;
    }
    return 0;
}

/* GPS 2014: checks (and with `apply` restores) condition c's pol_info:
 * required from iteration 1 on (lambda_t lives there), optional at 0 */
static int get_pol_info(const gpsc_alg_t *a, cond_t *c, const Gpsc__LinearizedPolicy *lp,
                        int iteration, bool apply, char *err, size_t errsz)
{
    size_t T = (size_t)a->T, dX = (size_t)a->dX, dU = (size_t)a->dU;
    if (!lp) {
        if (iteration >= 1)
            return fail(GPSC_ECONFIG, err, errsz, "checkpoint: condition %d: gps2014 without "
                                                  "pol_info (lambda_t)", c->m);
        /* the initial state: lambda_t = init_pol_wt */
        for (size_t t = 0; apply && t < T; t++) {
            c->lambda[t] = a->exp->algo.init_pol_wt;
            c->pol_kl_t[t] = 0.0;
        }
        return 0;
    }
    if (lp->t != T || lp->dx != dX || lp->du != dU || lp->n_pol_k != T * dU * dX ||
        lp->n_pol_k_ff != T * dU || lp->n_pol_s != T * dU * dU || lp->n_pol_wt != T ||
        (lp->n_prev_kl != 0 && lp->n_prev_kl != T))
        return fail(GPSC_EDIM, err, errsz, "checkpoint: condition %d: pol_info dims differ",
                    c->m);
    for (size_t t = 0; t < T; t++)
        if (!(lp->pol_wt[t] >= 0) || !isfinite(lp->pol_wt[t]))
            return fail(GPSC_ECONFIG, err, errsz,
                        "checkpoint: condition %d: lambda[%zu] = %g is not >= 0 and finite", c->m,
                        t, lp->pol_wt[t]);
    if (!apply)
        return 0;
    memcpy(c->pol_K, lp->pol_k, T * dU * dX * sizeof(double));
    memcpy(c->pol_k, lp->pol_k_ff, T * dU * sizeof(double));
    memcpy(c->pol_S, lp->pol_s, T * dU * dU * sizeof(double));
    memcpy(c->lambda, lp->pol_wt, T * sizeof(double));
    if (lp->n_prev_kl)
        memcpy(c->pol_kl_t, lp->prev_kl, T * sizeof(double));
    else
        memset(c->pol_kl_t, 0, T * sizeof(double));
    return 0;
}

/* checks (apply false) or applies (apply true) the checkpoint */
static int load_pass(gpsc_alg_t *a, const Gpsc__Checkpoint *ck, bool apply, char *err,
                     size_t errsz)
{
    int rc;
    for (int i = 0; i < a->M; i++) {
        const Gpsc__ConditionState *cs = ck->conditions[i];
        cond_t *c = &a->c[i];
        if (!cs || (int)cs->condition != i)
            return fail(GPSC_ECONFIG, err, errsz, "checkpoint: condition %d missing", i);
        if (!cs->traj_distr || (ck->iteration >= 1 && !cs->prev_traj_distr))
            return fail(GPSC_ECONFIG, err, errsz, "checkpoint: condition %d: no local policy", i);
        const Gpsc__LinGaussPolicy *lp[2] = {cs->traj_distr, cs->prev_traj_distr};
        gpsc_lgpolicy_t *dst[2] = {c->cur, c->prev};
        for (int j = 0; j < 2; j++) {
            if (!lp[j])
                continue;
            const Gpsc__LinGaussPolicy *q = lp[j];
            size_t T = (size_t)a->T, dX = (size_t)a->dX, dU = (size_t)a->dU;
            if ((int)q->t != a->T || (int)q->dx != a->dX || (int)q->du != a->dU ||
                q->n_k != T * dU * dX || q->n_k_ff != T * dU || q->n_pol_covar != T * dU * dU ||
                q->n_chol_pol_covar != T * dU * dU || q->n_inv_pol_covar != T * dU * dU)
                return fail(GPSC_EDIM, err, errsz, "checkpoint: condition %d: policy dims differ",
                            i);
            if (apply && (rc = gpsc_checkpoint_get_lgpolicy(dst[j], q, err, errsz)) != 0)
                return rc;
        }
        double pp = tensor_scalar(cs, "prev_predicted_cost");
        if (!(cs->eta > 0) || !(cs->step_mult > 0) || !isfinite(pp))
            return fail(GPSC_ECONFIG, err, errsz,
                        "checkpoint: condition %d: bad eta, step_mult or prev_predicted_cost", i);
        if ((rc = get_prior(&c->dyn, a, cs, cs->dynamics_prior, "dyn", apply, err, errsz)) != 0)
            return rc;
        if (a->netalg &&
            (rc = get_prior(&c->pol, a, cs, cs->policy_prior, "pol", apply, err, errsz)) != 0)
            return rc;
        if (a->type == GPSC_EXP_ALG_GPS2014 &&
            (rc = get_pol_info(a, c, cs->pol_info, (int)ck->iteration, apply, err, errsz)) != 0)
            return rc;
        if (apply) {
            c->eta = cs->eta;
            c->step_mult = cs->step_mult;
            c->prev_laplace = cs->prev_expected_cost;
            c->prev_mc = cs->prev_actual_cost;
            c->prev_predicted = pp;
        }
    }
    if (a->netalg) {
        const Gpsc__NetworkPolicy *nm = ck->network;
        const Gpsc__AdamState *as = ck->optimizer;
        if (!nm || !as)
            return fail(GPSC_ECONFIG, err, errsz, "checkpoint: %s without network/optimizer",
                        alg_name(a->type));
        size_t nw = nm->n_weights, nb = nm->n_biases;
        size_t want = a->net->n_params - 2 * (size_t)a->dO - (size_t)a->dU;
        if (nw + nb != want || as->n_m != want || as->n_v != want)
            return fail(GPSC_EDIM, err, errsz, "checkpoint: network size differs");
        if (!apply) {
            gpsc_mlp_t *tmp = gpsc_mlp_clone(a->net);
            if (!tmp)
                return fail(GPSC_ENOMEM, err, errsz, "out of memory");
            rc = gpsc_checkpoint_get_network(tmp, nm, err, errsz);
            gpsc_mlp_destroy(&tmp);
            if (rc)
                return rc;
        } else {
            if ((rc = gpsc_checkpoint_get_network(a->net, nm, err, errsz)) != 0)
                return rc;
            gpsc_mlp_t *net = a->net;
            memset(a->adam.m, 0, a->adam.n * sizeof(double));
            memset(a->adam.v, 0, a->adam.n * sizeof(double));
            a->adam.step = as->step;
            size_t ow = 0, ob = nw;
            for (int l = 0; l < net->n_layers; l++) {
                size_t w = (size_t)net->width[l] * net->width[l + 1], b = (size_t)net->width[l + 1];
                size_t pw = (size_t)(net->W[l] - net->params),
                       pb = (size_t)(net->b[l] - net->params);
                memcpy(a->adam.m + pw, as->m + ow, w * sizeof(double));
                memcpy(a->adam.v + pw, as->v + ow, w * sizeof(double));
                memcpy(a->adam.m + pb, as->m + ob, b * sizeof(double));
                memcpy(a->adam.v + pb, as->v + ob, b * sizeof(double));
                ow += w;
                ob += b;
            }
        }
    }
    if (apply)
        a->iteration = (int)ck->iteration;
    return 0;
}

int gpsc_alg_load(gpsc_alg_t *a, const Gpsc__Checkpoint *ck, char *err, size_t errsz)
{
    if (!a || !ck)
        return fail(GPSC_EINVAL, err, errsz, "load: NULL");
    if (!ck->algorithm || strcmp(ck->algorithm, alg_name(a->type)) != 0)
        return fail(GPSC_ECONFIG, err, errsz, "checkpoint: algorithm '%s', this run is '%s'",
                    ck->algorithm ? ck->algorithm : "", alg_name(a->type));
    if ((int)ck->condition_count != a->M || (int)ck->n_conditions != a->M)
        return fail(GPSC_ECONFIG, err, errsz, "checkpoint: %u conditions, this run has %d",
                    ck->condition_count, a->M);
    if (ck->run_seed != a->seed)
        return fail(GPSC_ECONFIG, err, errsz, "checkpoint: seed %llu, this run's is %llu",
                    (unsigned long long)ck->run_seed, (unsigned long long)a->seed);
    if (ck->iteration > (uint32_t)INT32_MAX)
        return fail(GPSC_ERANGE, err, errsz, "checkpoint: iteration out of range");
    int rc = load_pass(a, ck, false, err, errsz);
    if (rc)
        return rc;
    return load_pass(a, ck, true, err, errsz);
}
