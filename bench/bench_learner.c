/* gpsc-bench-learner — the learner's per-iteration numerics at the
 * realistic size, with 1 thread and with N threads side by side.
 *
 * Problem: the peg7 shape (dX 26 = 7 joint angles, 7 velocities, two
 * end-effector points (6) and their velocities (6); dU 7; T 100; 5 samples
 * per condition; 4 conditions), on the synthetic arm of
 * ../shared/reference/README.md section 7: ee = c + A sin(q + phi) with the
 * exact Jacobian, qdot' = (1 - 0.5 dt) qdot + dt g u + 1e-3 noise,
 * q' = q + dt qdot', dt = 0.05. Each condition has its own start state and
 * FK target and is sampled with its init_lqr controller (learner/init.h),
 * so the cost expansion, the dynamics and the C-step see the conditioning of
 * a first MDGPS iteration. A first batch of samples (keyed iteration 0)
 * feeds the dynamics GMM, fitted once up front with gpsc_gmm_em (K from the
 * point count as the learner does: floor(M / 40) clamped to [2, 20]); the
 * timed batch is keyed iteration 1.
 *
 * Phases, each one gpsc_pool_run with one task per condition:
 *   cost      gpsc_cost_eval of every sample (action + logl2 FK + final-only
 *             FK, the peg7 cost) and gpsc_cost_expand;
 *   prior     the GMM-prior part of the fit alone, as the fit does it (the
 *             GMM factored once, batched E-steps, gpsc_gmm_prior_logobs at
 *             every step): a breakdown of `dyn`;
 *   dyn       gpsc_dynamics_fit (GMM prior + NIW regression per step,
 *             initial state);
 *   cstep     gpsc_cstep against the sampling controller (the trajectory-
 *             optimisation reference; MDGPS swaps in the linearised global
 *             policy, same kernel and sizes), eta_init 1, kl_step 2;
 *   dyn_cstep dynamics fit then C-step in one task (the acceptance number);
 *   em        EM_PASSES passes of the dynamics prior's EM (gpsc_gmm_em_run,
 *             no convergence test) on the condition's own points (both
 *             batches, 2 N (T-1) of them), warm-started from the GMM above:
 *             what the learner re-runs on every condition each iteration.
 * Every repeat runs all phases on the 1-thread pool and then on the
 * N-thread pool; medians over the repeats are printed with the ratio
 * t(1 thread) / t(N threads). The outputs of both pools are compared bit for
 * bit at the end (identical=1), and a checksum of the results is printed so
 * that two builds (before and after a kernel change) can be compared. */
#include <getopt.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_iteration.h"

#include "common/arena.h"
#include "common/error.h"
#include "common/la.h"
#include "common/rng.h"
#include "learner/cost.h"
#include "learner/cstep.h"
#include "learner/dynamics.h"
#include "learner/gmm.h"
#include "learner/init.h"
#include "learner/pool.h"
#include "learner/traj.h"

/* the peg7 shape */
#define DU 7          /* joints = actions */
#define NPT 2         /* end-effector points */
#define NEE (3 * NPT) /* end-effector coordinates */
#define DX (2 * DU + 2 * NEE)
#define DXU (DX + DU)
#define DG (2 * DX + DU) /* GMM point [x_t, u_t, x_{t+1}] */
#define DT 0.05
#define KMAX 20      /* peg7 dynamics prior: max_clusters */
#define MIN_SAMP 40  /* min_samples_per_cluster */
#define EM_ITERS 100 /* the learner's EM passes (GPSC_ALG_EM_ITERATIONS) */
#define EM_PASSES 10 /* passes of the timed EM phase */
#define SEED 1

enum { PH_COST, PH_PRIOR, PH_DYN, PH_CSTEP, PH_DYNCSTEP, PH_EM, PH_N };
static const char *const ph_key[PH_N] = {"cost", "prior", "dyn", "cstep", "dyn_cstep", "em"};
static const char *const ph_desc[PH_N] = {"cost eval + expand", "GMM prior only (in dyn)",
                                          "dynamics fit",       "C-step",
                                          "dyn fit + C-step",   "dynamics EM (10 passes)"};

/* peg7's init_gains (1 / the PR2 arm gains): the synthetic arm's
 * action-to-acceleration gains, and init_lqr's (exact) guess of them */
static const double gains[DU] = {0.32362459546925565, 0.9259259259259258, 2.544529262086514,
                                 1.4836795252225519,  9.00900900900901,   6.578947368421052,
                                 10.204081632653061};
/* peg7 torque weights wu = 5e-5 gains */
static const double wu[DU] = {
    1.6181229773462783e-05, 4.6296296296296294e-05, 0.00012722646310432569, 7.418397626112759e-05,
    0.0004504504504504505,  0.00032894736842105264, 0.0005102040816326531};
/* peg7 start pose */
static const double qpos0[DU] = {0.1, 0.1, -1.54, -1.7, 1.54, -0.2, 0.0};

/* the synthetic arm's kinematics: ee = c + A sin(q + phi) */
typedef struct arm {
    double A[NEE][DU];
    double c[NEE];
    double phi[DU];
} arm_t;

/* the output of one pool for one condition */
typedef struct result {
    double *exp_mem;       /* backing of exps */
    gpsc_cost_exp_t *exps; /* (N) */
    double *cc, *cv, *Cm;  /* (T), (T x dXU), (T x dXU x dXU) */
    double *mu0, *Phi;     /* prior phase: (DG), (DG x DG) of the last step */
    double *Fm, *fv, *dyn_covar, *x0mu, *x0sigma;
    double *K, *k, *pc, *ipc, *ch; /* the new controller */
    gpsc_cstep_result_t res;
    double *em_mu, *em_sigma, *em_logmass; /* em phase: (KMAX x DG), (KMAX x DG x DG), (KMAX) */
    int em_passes;
} result_t;

typedef struct cond {
    double x0[DX];
    gpsc_cost_term_t terms[3];
    double *K, *k, *pc, *ipc, *ch; /* init_lqr controller (samples and pi_ref) */
    double *X, *U, *ee, *jac;      /* timed batch: (N x T x dX / dU / NEE / NEE x DU) */
    double *X0p;                   /* (Np x dX) start states of the prior batch */
    double *emX;                   /* (emM x DG) both batches' points [x_t, u_t, x_{t+1}] */
    int emM;                       /* points in emX */
    result_t out[2];               /* per pool */
} cond_t;

typedef struct bench {
    int T, N, M; /* steps, samples, conditions */
    int set;     /* which result_t the running pool writes */
    double *cpu; /* (M) thread CPU ms of each task of the current run */
    gpsc_gmm_t gmm;
    int N_init;
    cond_t *c;
} bench_t;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* median of n values (sorts them) */
static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* start-up allocation: abort on failure (house rule for start-up OOM) */
static double *dalloc(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof(double));
    if (!p) {
        fprintf(stderr, "gpsc-bench-learner: out of memory\n");
        exit(1);
    }
    return p;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "gpsc-bench-learner: %s: %s\n", what, gpsc_strerror(rc));
    exit(1);
}

/* ---------------------------------------------------------------- synthetic arm */

static void arm_init(arm_t *a)
{
    gpsc_rng_t r;
    gpsc_rng_init5(&r, SEED, 0, 0, 0, GPSC_RNG_TEST);
    for (int p = 0; p < NEE; p++) {
        a->c[p] = 0.3 * gpsc_rng_normal(&r);
        for (int j = 0; j < DU; j++)
            a->A[p][j] = 0.2 * gpsc_rng_normal(&r);
    }
    for (int j = 0; j < DU; j++)
        a->phi[j] = 2.0 * M_PI * gpsc_rng_uniform(&r);
}

/* ee (NEE) and its Jacobian jac (NEE x DU) at joint angles q */
static void arm_fk(double *ee, double *jac, const arm_t *a, const double *q)
{
    for (int p = 0; p < NEE; p++) {
        ee[p] = a->c[p];
        for (int j = 0; j < DU; j++) {
            ee[p] += a->A[p][j] * sin(q[j] + a->phi[j]);
            jac[p * DU + j] = a->A[p][j] * cos(q[j] + a->phi[j]);
        }
    }
}

/* the state [q, qdot, ee, ee_vel] with ee_vel = J qdot */
static void arm_state(double *x, double *ee, double *jac, const arm_t *a, const double *q,
                      const double *qd)
{
    arm_fk(ee, jac, a, q);
    memcpy(x, q, sizeof(double) * DU);
    memcpy(x + DU, qd, sizeof(double) * DU);
    memcpy(x + 2 * DU, ee, sizeof(double) * NEE);
    for (int p = 0; p < NEE; p++) {
        double v = 0.0;
        for (int j = 0; j < DU; j++)
            v += jac[p * DU + j] * qd[j];
        x[2 * DU + NEE + p] = v;
    }
}

/* N rollouts of condition m's controller, keyed (SEED, iteration, m, n) */
static void rollouts(double *X, double *U, double *EE, double *JAC, const arm_t *a, const cond_t *c,
                     int m, int iteration, int N, int T)
{
    for (int n = 0; n < N; n++) {
        gpsc_rng_t r;
        gpsc_rng_init5(&r, SEED, (uint32_t)iteration, (uint32_t)m, (uint32_t)n,
                       GPSC_RNG_ROLLOUT_NOISE);
        double q[DU], qd[DU], z[DU], ee[NEE], jac[NEE * DU];
        memcpy(q, c->x0, sizeof q);
        memcpy(qd, c->x0 + DU, sizeof qd);
        for (int t = 0; t < T; t++) {
            size_t nt = (size_t)n * T + t;
            double *x = X + nt * DX, *u = U + nt * DU;
            arm_state(x, ee, jac, a, q, qd);
            if (EE) memcpy(EE + nt * NEE, ee, sizeof ee);
            if (JAC) memcpy(JAC + nt * NEE * DU, jac, sizeof jac);
            /* u = K x + k + U^T z, z ~ N(0, I): covariance U^T U = pol_covar */
            const double *K = c->K + (size_t)t * DU * DX, *Uc = c->ch + (size_t)t * DU * DU;
            gpsc_rng_normals(&r, z, DU);
            for (int i = 0; i < DU; i++) {
                double s = c->k[(size_t)t * DU + i];
                for (int j = 0; j < DX; j++)
                    s += K[i * DX + j] * x[j];
                for (int j = 0; j <= i; j++)
                    s += Uc[j * DU + i] * z[j];
                u[i] = s;
            }
            /* qdot' = (1 - 0.5 dt) qdot + dt g u + 1e-3 w, q' = q + dt qdot' */
            for (int i = 0; i < DU; i++) {
                qd[i] =
                    (1.0 - 0.5 * DT) * qd[i] + DT * gains[i] * u[i] + 1e-3 * gpsc_rng_normal(&r);
                q[i] += DT * qd[i];
            }
        }
    }
}

/* the peg7 cost: torque + logl2 FK + final-only logl2 FK, weights 1 */
static void cost_terms(gpsc_cost_term_t *terms, const double *target)
{
    memset(terms, 0, 3 * sizeof *terms);
    terms[0].type = GPSC_COST_ACTION;
    terms[0].weight = 1.0;
    terms[0].n = DU;
    memcpy(terms[0].wu, wu, sizeof wu);
    for (int i = 1; i < 3; i++) {
        gpsc_cost_term_t *t = &terms[i];
        t->type = GPSC_COST_FK;
        t->weight = 1.0;
        t->n = NEE;
        t->nidx = DU;
        for (int p = 0; p < NEE; p++) {
            t->wp[p] = 1.0;
            t->target[p] = target[p];
        }
        for (int j = 0; j < DU; j++)
            t->idx[j] = j;
    }
    /* {norm, l1, l2, alpha, ramp, final multiplier} */
    terms[1].pen = (gpsc_penalty_t){GPSC_NORM_LOGL2, 0.1, 10.0, 1e-5, GPSC_RAMP_CONSTANT, 1.0};
    terms[2].pen = (gpsc_penalty_t){GPSC_NORM_LOGL2, 1.0, 0.0, 1e-5, GPSC_RAMP_FINAL_ONLY, 10.0};
}

static void result_alloc(result_t *o, int N, int T)
{
    size_t t = (size_t)T;
    size_t per = t * (1 + DX + DU + DX * DX + DU * DU + DU * DX);
    o->exp_mem = dalloc((size_t)N * per);
    o->exps = calloc((size_t)N, sizeof *o->exps);
    if (!o->exps) die("start-up", GPSC_ENOMEM);
    for (int n = 0; n < N; n++) {
        double *p = o->exp_mem + (size_t)n * per;
        gpsc_cost_exp_t *e = &o->exps[n];
        e->T = T;
        e->dX = DX;
        e->dU = DU;
        e->l = p;
        e->lx = e->l + t;
        e->lu = e->lx + t * DX;
        e->lxx = e->lu + t * DU;
        e->luu = e->lxx + t * DX * DX;
        e->lux = e->luu + t * DU * DU;
    }
    o->cc = dalloc(t);
    o->cv = dalloc(t * DXU);
    o->Cm = dalloc(t * DXU * DXU);
    o->mu0 = dalloc(DG);
    o->Phi = dalloc((size_t)DG * DG);
    o->Fm = dalloc(t * DX * DXU);
    o->fv = dalloc(t * DX);
    o->dyn_covar = dalloc(t * DX * DX);
    o->x0mu = dalloc(DX);
    o->x0sigma = dalloc((size_t)DX * DX);
    o->K = dalloc(t * DU * DX);
    o->k = dalloc(t * DU);
    o->pc = dalloc(t * DU * DU);
    o->ipc = dalloc(t * DU * DU);
    o->ch = dalloc(t * DU * DU);
    o->em_mu = dalloc((size_t)KMAX * DG);
    o->em_sigma = dalloc((size_t)KMAX * DG * DG);
    o->em_logmass = dalloc(KMAX);
}

static void result_free(result_t *o)
{
    double *a[] = {o->exp_mem, o->cc,        o->cv,    o->Cm,       o->mu0,       o->Phi, o->Fm,
                   o->fv,      o->dyn_covar, o->x0mu,  o->x0sigma,  o->K,         o->k,   o->pc,
                   o->ipc,     o->ch,        o->em_mu, o->em_sigma, o->em_logmass};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        free(a[i]);
    free(o->exps);
}

/* ---------------------------------------------------------------- tasks */

static int task_cost(void *ctx, int m, int w, gpsc_arena_t *ar)
{
    (void)w;
    bench_t *b = ctx;
    cond_t *c = &b->c[m];
    result_t *o = &c->out[b->set];
    int T = b->T;
    for (int n = 0; n < b->N; n++) {
        size_t nt = (size_t)n * T;
        gpsc_cost_sample_t s = {.T = T,
                                .dX = DX,
                                .dU = DU,
                                .P = NEE,
                                .dQ = DU,
                                .x = c->X + nt * DX,
                                .u = c->U + nt * DU,
                                .ee = c->ee + nt * NEE,
                                .jac = c->jac + nt * NEE * DU};
        int rc = gpsc_cost_eval(&o->exps[n], c->terms, 3, &s, ar);
        if (rc) return rc;
    }
    gpsc_cost_expand(o->cc, o->cv, o->Cm, o->exps, c->X, c->U, b->N);
    return 0;
}

/* the GMM-prior part of gpsc_dynamics_fit alone, done as the fit does it:
 * the GMM factored once, one E-step per chunk of 16 steps, then
 * gpsc_gmm_prior_logobs per step */
#define PRIOR_CHUNK 16
static int task_prior(void *ctx, int m, int w, gpsc_arena_t *ar)
{
    (void)w;
    bench_t *b = ctx;
    cond_t *c = &b->c[m];
    result_t *o = &c->out[b->set];
    int T = b->T, N = b->N, K = b->gmm.K;
    size_t mark = gpsc_arena_mark(ar);
    double *pts = gpsc_arena_alloc(ar, sizeof(double) * (size_t)PRIOR_CHUNK * N * DG);
    double *lo = gpsc_arena_alloc(ar, sizeof(double) * (size_t)PRIOR_CHUNK * N * K);
    double *L = gpsc_arena_alloc(ar, sizeof(double) * gpsc_gmm_chol_doubles(K, DG));
    if (!pts || !lo || !L) {
        gpsc_arena_free_to(ar, mark);
        return GPSC_ENOSPC;
    }
    double *hl = L + (size_t)K * DG * DG;
    gpsc_niw_t niw = {.D = DG, .mu0 = o->mu0, .Phi = o->Phi};
    int rc = gpsc_gmm_chol(L, hl, &b->gmm);
    for (int t0 = 0; t0 + 1 < T && !rc; t0 += PRIOR_CHUNK) {
        int ns = T - 1 - t0 < PRIOR_CHUNK ? T - 1 - t0 : PRIOR_CHUNK;
        for (int s = 0; s < ns; s++)
            for (int n = 0; n < N; n++) {
                size_t xt = (size_t)n * T + t0 + s;
                double *p = pts + ((size_t)s * N + n) * DG;
                memcpy(p, c->X + xt * DX, sizeof(double) * DX);
                memcpy(p + DX, c->U + xt * DU, sizeof(double) * DU);
                memcpy(p + DXU, c->X + (xt + 1) * DX, sizeof(double) * DX);
            }
        rc = gpsc_gmm_estep_chol(lo, &b->gmm, L, hl, pts, ns * N, ar);
        for (int s = 0; s < ns && !rc; s++)
            rc = gpsc_gmm_prior_logobs(&niw, NULL, &b->gmm, lo + (size_t)s * N * K, N, b->N_init,
                                       1.0, ar);
    }
    gpsc_arena_free_to(ar, mark);
    return rc;
}

static int task_dyn(void *ctx, int m, int w, gpsc_arena_t *ar)
{
    (void)w;
    bench_t *b = ctx;
    cond_t *c = &b->c[m];
    result_t *o = &c->out[b->set];
    gpsc_dynamics_cfg_t cfg = {.sig_reg = 1e-6, .strength = 1.0, .initial_state_var = 1e-6};
    gpsc_dynamics_prior_t pr = {.gmm = &b->gmm, .N_init = b->N_init, .X0 = c->X0p, .Np = b->N};
    gpsc_dynamics_fit_out_t fo = {o->Fm, o->fv, o->dyn_covar, o->x0mu, o->x0sigma};
    return gpsc_dynamics_fit(&fo, &cfg, &pr, c->X, c->U, b->N, b->T, DX, DU, ar);
}

static int task_cstep(void *ctx, int m, int w, gpsc_arena_t *ar)
{
    (void)w;
    bench_t *b = ctx;
    cond_t *c = &b->c[m];
    result_t *o = &c->out[b->set];
    gpsc_traj_dims_t d = {b->T, DX, DU};
    /* the experiment defaults: eta_init 1, [1e-8, 1e16], del0 1e-4, 50 passes */
    gpsc_cstep_cfg_t cfg = {.base_kl_step = 2.0,
                            .step_mult = 1.0,
                            .eta_init = 1.0,
                            .min_eta = 1e-8,
                            .max_eta = 1e16,
                            .del0 = 1e-4,
                            .max_iterations = 50};
    gpsc_cstep_problem_t p;
    memset(&p, 0, sizeof p);
    p.dyn = (gpsc_traj_dyn_t){o->Fm, o->fv, o->dyn_covar, o->x0mu, o->x0sigma};
    p.Cm = o->Cm;
    p.cv = o->cv;
    p.pref = (gpsc_traj_lg_t){c->K, c->k, c->pc, NULL, c->ch};
    gpsc_traj_lg_t out = {o->K, o->k, o->pc, o->ipc, o->ch};
    memset(&o->res, 0, sizeof o->res);
    return gpsc_cstep(&out, &o->res, &cfg, &p, d, ar);
}

static int task_dyncstep(void *ctx, int m, int w, gpsc_arena_t *ar)
{
    int rc = task_dyn(ctx, m, w, ar);
    return rc ? rc : task_cstep(ctx, m, w, ar);
}

/* EM_PASSES passes of EM on the condition's points from the common GMM */
static int task_em(void *ctx, int m, int w, gpsc_arena_t *ar)
{
    (void)w;
    bench_t *b = ctx;
    cond_t *c = &b->c[m];
    result_t *o = &c->out[b->set];
    int K = b->gmm.K;
    memcpy(o->em_mu, b->gmm.mu, sizeof(double) * (size_t)K * DG);
    memcpy(o->em_sigma, b->gmm.sigma, sizeof(double) * (size_t)K * DG * DG);
    memcpy(o->em_logmass, b->gmm.logmass, sizeof(double) * (size_t)K);
    gpsc_gmm_t g = {K, DG, o->em_mu, o->em_sigma, o->em_logmass};
    gpsc_gmm_em_cfg_t cfg = {EM_PASSES, 0.0, GPSC_GMM_RULE_RELATIVE};
    gpsc_gmm_em_info_t info;
    int rc = gpsc_gmm_em_run(&g, &info, NULL, &cfg, c->emX, c->emM, ar);
    o->em_passes = info.n_estep;
    return rc;
}

/* the pool hands out the worker index; the phases take its arena */
typedef struct run {
    bench_t *b;
    gpsc_pool_t *pool;
    int (*fn)(void *, int, int, gpsc_arena_t *);
} run_t;

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

static int pool_task(void *ctx, int task, int worker)
{
    run_t *r = ctx;
    double c0 = cpu_ms();
    int rc = r->fn(r->b, task, worker, gpsc_pool_arena(r->pool, worker));
    r->b->cpu[task] = cpu_ms() - c0;
    return rc;
}

/* one phase on one pool: wall time in ms; *cpu = CPU ms summed over the
 * tasks (what one core would need, insensitive to other processes) */
static double run_phase(bench_t *b, gpsc_pool_t *pool, int set, int ph, double *cpu)
{
    static int (*const fns[PH_N])(void *, int, int, gpsc_arena_t *) = {
        task_cost, task_prior, task_dyn, task_cstep, task_dyncstep, task_em};
    run_t r = {b, pool, fns[ph]};
    b->set = set;
    double t0 = now_ms();
    int rc = gpsc_pool_run(pool, b->M, pool_task, &r);
    double ms = now_ms() - t0;
    if (rc) die(ph_key[ph], rc);
    *cpu = 0.0;
    for (int m = 0; m < b->M; m++)
        *cpu += b->cpu[m];
    return ms;
}

/* ---------------------------------------------------------------- set-up */

static size_t maxz(size_t a, size_t b)
{
    return a > b ? a : b;
}

/* fits the dynamics GMM on the prior batch of every condition (points
 * [x_t, u_t, x_{t+1}]); returns the EM time in ms */
static double fit_gmm(bench_t *b, const double *Xp, const double *Up, int Np, int *n_estep)
{
    int T = b->T;
    int M = b->M * Np * (T - 1);
    int K = M / MIN_SAMP;
    K = K > KMAX ? KMAX : K < 2 ? 2 : K;
    double *data = dalloc((size_t)M * DG);
    int i = 0;
    for (int m = 0; m < b->M; m++)
        for (int n = 0; n < Np; n++)
            for (int t = 0; t + 1 < T; t++, i++) {
                size_t s = ((size_t)m * Np + n) * T + t;
                double *p = data + (size_t)i * DG;
                memcpy(p, Xp + s * DX, sizeof(double) * DX);
                memcpy(p + DX, Up + s * DU, sizeof(double) * DU);
                memcpy(p + DXU, Xp + (s + 1) * DX, sizeof(double) * DX);
            }
    b->gmm =
        (gpsc_gmm_t){K, DG, dalloc((size_t)K * DG), dalloc((size_t)K * DG * DG), dalloc((size_t)K)};
    b->N_init = M;
    size_t need = maxz(gpsc_gmm_em_scratch_size(M, K, DG), gpsc_gmm_init_scratch_size(M, K, DG));
    gpsc_arena_t *ar = gpsc_arena_new(need);
    if (!ar) die("start-up", GPSC_ENOMEM);
    gpsc_rng_t r;
    gpsc_rng_init5(&r, SEED, 0, 0, 0, GPSC_RNG_GMM_INIT);
    double t0 = now_ms();
    int rc = gpsc_gmm_init_random(&b->gmm, data, M, &r, ar);
    gpsc_gmm_em_info_t info;
    if (!rc) rc = gpsc_gmm_em(&b->gmm, &info, NULL, data, M, EM_ITERS, ar);
    double ms = now_ms() - t0;
    if (rc) die("dynamics GMM", rc);
    *n_estep = info.n_estep;
    gpsc_arena_destroy(&ar);
    free(data);
    return ms;
}

static void setup(bench_t *b, const arm_t *arm)
{
    int T = b->T, N = b->N;
    gpsc_traj_dims_t d = {T, DX, DU};
    gpsc_arena_t *ar = gpsc_arena_new(gpsc_init_lqr_scratch_size(d));
    if (!ar) die("start-up", GPSC_ENOMEM);
    b->c = calloc((size_t)b->M, sizeof *b->c);
    if (!b->c) die("start-up", GPSC_ENOMEM);
    for (int m = 0; m < b->M; m++) {
        cond_t *c = &b->c[m];
        /* condition m: the start pose turned a little, the target at the
         * ee of a pose 0.3 rad away (different joints per condition) */
        gpsc_rng_t r;
        gpsc_rng_init5(&r, SEED, 0, (uint32_t)m, 0, GPSC_RNG_X0_NOISE);
        double q0[DU], qt[DU], zero[DU] = {0}, ee[NEE], jac[NEE * DU], target[NEE];
        for (int j = 0; j < DU; j++) {
            q0[j] = qpos0[j] + 0.05 * gpsc_rng_normal(&r);
            qt[j] = q0[j] + 0.3 * gpsc_rng_normal(&r);
        }
        arm_state(c->x0, ee, jac, arm, q0, zero);
        arm_fk(target, jac, arm, qt);
        cost_terms(c->terms, target);

        c->K = dalloc((size_t)T * DU * DX);
        c->k = dalloc((size_t)T * DU);
        c->pc = dalloc((size_t)T * DU * DU);
        c->ipc = dalloc((size_t)T * DU * DU);
        c->ch = dalloc((size_t)T * DU * DU);
        double acc[DU] = {0};
        gpsc_init_lqr_cfg_t ic = {.x0 = c->x0,
                                  .init_gains = gains,
                                  .init_acc = acc,
                                  .dt = DT,
                                  .init_var = 5.0,
                                  .stiffness = 1.0,
                                  .stiffness_vel = 0.5,
                                  .final_weight = 50.0};
        gpsc_traj_lg_t lg = {c->K, c->k, c->pc, c->ipc, c->ch};
        int rc = gpsc_init_lqr(&lg, &ic, d, ar);
        if (rc) die("init_lqr", rc);

        c->X = dalloc((size_t)N * T * DX);
        c->U = dalloc((size_t)N * T * DU);
        c->ee = dalloc((size_t)N * T * NEE);
        c->jac = dalloc((size_t)N * T * NEE * DU);
        rollouts(c->X, c->U, c->ee, c->jac, arm, c, m, 1, N, T);
        for (int s = 0; s < 2; s++)
            result_alloc(&c->out[s], N, T);
    }
    gpsc_arena_destroy(&ar);
}

/* worker arena: the largest phase (they run one after another in a task) */
static size_t arena_bytes(const bench_t *b)
{
    gpsc_traj_dims_t d = {b->T, DX, DU};
    gpsc_cost_sample_t s = {.T = b->T, .dX = DX, .dU = DU, .P = NEE, .dQ = DU};
    size_t need = gpsc_cost_eval_scratch_size(b->c[0].terms, 3, &s);
    size_t cm = (size_t)PRIOR_CHUNK * b->N;
    size_t est = gpsc_gmm_estep_scratch_size((int)cm, b->gmm.K, DG);
    need = maxz(need, gpsc_arena_need(sizeof(double) * cm * DG) +
                          gpsc_arena_need(sizeof(double) * cm * b->gmm.K) +
                          gpsc_arena_need(sizeof(double) * gpsc_gmm_chol_doubles(b->gmm.K, DG)) +
                          maxz(est, gpsc_gmm_prior_logobs_scratch_size(b->gmm.K, DG)));
    need = maxz(need, gpsc_dynamics_fit_scratch_size(b->N, DX, DU, b->gmm.K));
    need = maxz(need, gpsc_cstep_scratch_size(d));
    need = maxz(need, gpsc_gmm_em_scratch_size(b->c[0].emM, b->gmm.K, DG));
    return need;
}

static bool same(const double *a, const double *b, size_t n)
{
    return memcmp(a, b, n * sizeof(double)) == 0;
}

/* the two pools' results, bit for bit */
static bool identical(const bench_t *b)
{
    size_t t = (size_t)b->T;
    for (int m = 0; m < b->M; m++) {
        const result_t *x = &b->c[m].out[0], *y = &b->c[m].out[1];
        if (!same(x->cc, y->cc, t) || !same(x->cv, y->cv, t * DXU) ||
            !same(x->Cm, y->Cm, t * DXU * DXU) || !same(x->mu0, y->mu0, DG) ||
            !same(x->Phi, y->Phi, (size_t)DG * DG) || !same(x->Fm, y->Fm, t * DX * DXU) ||
            !same(x->fv, y->fv, t * DX) || !same(x->dyn_covar, y->dyn_covar, t * DX * DX) ||
            !same(x->x0mu, y->x0mu, DX) || !same(x->x0sigma, y->x0sigma, (size_t)DX * DX) ||
            !same(x->K, y->K, t * DU * DX) || !same(x->k, y->k, t * DU) ||
            !same(x->pc, y->pc, t * DU * DU) || !same(&x->res.eta, &y->res.eta, 1) ||
            !same(&x->res.kl, &y->res.kl, 1) || x->em_passes != y->em_passes ||
            !same(x->em_mu, y->em_mu, (size_t)KMAX * DG) ||
            !same(x->em_sigma, y->em_sigma, (size_t)KMAX * DG * DG) ||
            !same(x->em_logmass, y->em_logmass, KMAX))
            return false;
    }
    return true;
}

/* FNV-1a over the bytes of n doubles */
static uint64_t fnv(uint64_t h, const double *x, size_t n)
{
    const unsigned char *p = (const unsigned char *)x;
    for (size_t i = 0; i < n * sizeof(double); i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* fingerprint of the 1-thread pool's results (expansion, dynamics, new
 * controller), to compare builds: equal means bit-identical numerics */
static uint64_t checksum(const bench_t *b)
{
    size_t t = (size_t)b->T;
    uint64_t h = 14695981039346656037ull;
    for (int m = 0; m < b->M; m++) {
        const result_t *x = &b->c[m].out[0];
        h = fnv(h, x->cc, t);
        h = fnv(h, x->cv, t * DXU);
        h = fnv(h, x->Cm, t * DXU * DXU);
        h = fnv(h, x->Fm, t * DX * DXU);
        h = fnv(h, x->fv, t * DX);
        h = fnv(h, x->dyn_covar, t * DX * DX);
        h = fnv(h, x->x0mu, DX);
        h = fnv(h, x->x0sigma, (size_t)DX * DX);
        h = fnv(h, x->K, t * DU * DX);
        h = fnv(h, x->k, t * DU);
        h = fnv(h, x->pc, t * DU * DU);
    }
    return h;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: gpsc-bench-learner [options]\n"
               "\n"
               "Times the learner's per-condition numerics at the peg7 size (dX 26, dU 7)\n"
               "on a synthetic arm: cost expansion, GMM prior, dynamics fit, C-step,\n"
               "dynamics fit + C-step and 10 EM passes of the dynamics prior, with 1 thread\n"
               "and with N threads (one task per\n"
               "condition), interleaved in one run. Prints the median ms of each phase,\n"
               "the ratio t(1 thread) / t(N threads), and key=value lines.\n"
               "\n"
               "  -j, --threads N     threads of the second pool (default 2)\n"
               "  -r, --repeats N     timed repeats of every phase (default 20)\n"
               "  -T, --T N           time steps (default 100)\n"
               "  -c, --conditions N  conditions (default 4)\n"
               "  -n, --samples N     samples per condition (default 5, >= 2)\n"
               "  -e, --experiment F  instead: time real learner iterations of experiment F\n"
               "                      (gpsc-solo at 1 and 2 threads, then gpsc-run with 2\n"
               "                      workers) and print each phase side by side\n"
               "  -i, --iterations K  iterations of the --experiment runs (default 6)\n"
               "  -h, --help          this text\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    int threads = 2, repeats = 20, iterations = 6;
    const char *experiment = NULL;
    bench_t b = {.T = 100, .N = 5, .M = 4};
    static const struct option opts[] = {{"threads", required_argument, NULL, 'j'},
                                         {"repeats", required_argument, NULL, 'r'},
                                         {"T", required_argument, NULL, 'T'},
                                         {"conditions", required_argument, NULL, 'c'},
                                         {"samples", required_argument, NULL, 'n'},
                                         {"experiment", required_argument, NULL, 'e'},
                                         {"iterations", required_argument, NULL, 'i'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "j:r:T:c:n:e:i:h", opts, NULL)) != -1) {
        int bad = 0;
        switch (o) {
        case 'j':
            bad = parse_int(optarg, 1, 64, &threads);
            break;
        case 'r':
            bad = parse_int(optarg, 1, 100000, &repeats);
            break;
        case 'T':
            bad = parse_int(optarg, 2, 10000, &b.T);
            break;
        case 'c':
            bad = parse_int(optarg, 1, 1000, &b.M);
            break;
        case 'n':
            bad = parse_int(optarg, 2, 1000, &b.N);
            break;
        case 'e':
            experiment = optarg;
            break;
        case 'i':
            bad = parse_int(optarg, 2, 200, &iterations);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "gpsc-bench-learner: bad value '%s' for -%c\n", optarg, o);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    if (experiment) {
        /* the sibling executables gpsc-solo and gpsc-run */
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, "gpsc-bench-learner: cannot locate own directory\n");
            return 1;
        }
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = 0;
        return gpsc_bench_iteration(experiment, iterations, self);
    }
    gpsc_la_set_threads(1);

    arm_t arm;
    arm_init(&arm);
    setup(&b, &arm);

    /* the prior batch (iteration 0) and the GMM on it */
    double *Xp = dalloc((size_t)b.M * b.N * b.T * DX), *Up = dalloc((size_t)b.M * b.N * b.T * DU);
    for (int m = 0; m < b.M; m++) {
        size_t off = (size_t)m * b.N * b.T;
        rollouts(Xp + off * DX, Up + off * DU, NULL, NULL, &arm, &b.c[m], m, 0, b.N, b.T);
        b.c[m].X0p = dalloc((size_t)b.N * DX);
        for (int n = 0; n < b.N; n++)
            memcpy(b.c[m].X0p + (size_t)n * DX, Xp + (off + (size_t)n * b.T) * DX,
                   sizeof(double) * DX);
    }
    int n_estep = 0;
    double em_ms = fit_gmm(&b, Xp, Up, b.N, &n_estep);
    /* each condition's EM points: its prior batch, then its timed batch */
    for (int m = 0; m < b.M; m++) {
        cond_t *c = &b.c[m];
        c->emM = 2 * b.N * (b.T - 1);
        c->emX = dalloc((size_t)c->emM * DG);
        double *p = c->emX;
        for (int h = 0; h < 2; h++)
            for (int n = 0; n < b.N; n++)
                for (int t = 0; t + 1 < b.T; t++, p += DG) {
                    size_t s = ((size_t)(h ? 0 : m) * b.N + n) * b.T + t;
                    const double *X = h ? c->X : Xp, *U = h ? c->U : Up;
                    memcpy(p, X + s * DX, sizeof(double) * DX);
                    memcpy(p + DX, U + s * DU, sizeof(double) * DU);
                    memcpy(p + DXU, X + (s + 1) * DX, sizeof(double) * DX);
                }
    }
    free(Xp);
    free(Up);

    size_t abytes = arena_bytes(&b);
    gpsc_pool_t *pool[2] = {gpsc_pool_new(1, abytes), gpsc_pool_new(threads, abytes)};
    if (!pool[0] || !pool[1]) die("thread pool", GPSC_ENOMEM);

    /* a warm-up of every phase on both pools, then the interleaved repeats */
    b.cpu = dalloc((size_t)b.M);
    double cpu;
    for (int s = 0; s < 2; s++)
        for (int ph = 0; ph < PH_N; ph++)
            run_phase(&b, pool[s], s, ph, &cpu);
    double *ms = dalloc((size_t)2 * PH_N * repeats), *cms = dalloc((size_t)PH_N * repeats);
    for (int r = 0; r < repeats; r++)
        for (int s = 0; s < 2; s++)
            for (int ph = 0; ph < PH_N; ph++) {
                ms[((size_t)s * PH_N + ph) * repeats + r] = run_phase(&b, pool[s], s, ph, &cpu);
                if (s == 0) cms[(size_t)ph * repeats + r] = cpu;
            }
    double med[2][PH_N], cmed[PH_N];
    for (int s = 0; s < 2; s++)
        for (int ph = 0; ph < PH_N; ph++)
            med[s][ph] = median(ms + ((size_t)s * PH_N + ph) * repeats, repeats);
    for (int ph = 0; ph < PH_N; ph++)
        cmed[ph] = median(cms + (size_t)ph * repeats, repeats);
    bool ident = identical(&b);

    printf("gpsc-bench learner: dX %d, dU %d, T %d, N %d samples, %d conditions, dynamics GMM "
           "K %d (D %d, %d points, %d EM passes, %.0f ms), %d repeats\n",
           DX, DU, b.T, b.N, b.M, b.gmm.K, DG, b.N_init, n_estep, em_ms, repeats);
    printf("\nmedian wall ms over all conditions; cpu = thread CPU time of the 1-thread run\n");
    printf("%-26s %10s %10s %10s %8s\n", "phase", "1 thread", "", "1t cpu", "ratio");
    printf("%-26s %10s %7d th %10s %8s\n", "", "ms", threads, "ms", "1t/Nt");
    for (int ph = 0; ph < PH_N; ph++)
        printf("%-26s %10.2f %10.2f %10.2f %8.2f\n", ph_desc[ph], med[0][ph], med[1][ph], cmed[ph],
               med[0][ph] / med[1][ph]);
    printf("\nC-step per condition:");
    for (int m = 0; m < b.M; m++) {
        const gpsc_cstep_result_t *res = &b.c[m].out[0].res;
        printf(" [%d] %d passes, eta %.3g, kl %.1f/%.1f%s", m, res->iterations, res->eta, res->kl,
               res->kl_target, res->converged ? "" : " (not converged)");
    }
    printf("\n\n");
    printf("threads=%d\nrepeats=%d\nT=%d\nconditions=%d\nsamples=%d\n", threads, repeats, b.T, b.M,
           b.N);
    printf("gmm_K=%d\ngmm_points=%d\ngmm_em_passes=%d\ngmm_em_ms=%.1f\n", b.gmm.K, b.N_init,
           n_estep, em_ms);
    for (int ph = 0; ph < PH_N; ph++) {
        printf("%s_ms_1t=%.3f\n", ph_key[ph], med[0][ph]);
        printf("%s_cpu_ms_1t=%.3f\n", ph_key[ph], cmed[ph]);
        printf("%s_ms_%dt=%.3f\n", ph_key[ph], threads, med[1][ph]);
        printf("%s_ratio=%.3f\n", ph_key[ph], med[0][ph] / med[1][ph]);
    }
    int iters = 0;
    for (int m = 0; m < b.M; m++)
        iters += b.c[m].out[0].res.iterations;
    printf("cstep_passes=%d\n", iters);
    int em_passes = 0;
    for (int m = 0; m < b.M; m++)
        em_passes += b.c[m].out[0].em_passes;
    printf("em_points=%d\nem_passes=%d\nem_pass_ms_1t=%.3f\n", b.c[0].emM, em_passes,
           med[0][PH_EM] / em_passes);
    printf("identical=%d\n", ident ? 1 : 0);
    printf("checksum=%016llx\n", (unsigned long long)checksum(&b));

    free(ms);
    free(cms);
    free(b.cpu);
    gpsc_pool_destroy(&pool[0]);
    gpsc_pool_destroy(&pool[1]);
    for (int m = 0; m < b.M; m++) {
        cond_t *c = &b.c[m];
        double *a[] = {c->K, c->k, c->pc, c->ipc, c->ch, c->X, c->U, c->ee, c->jac, c->X0p, c->emX};
        for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
            free(a[i]);
        result_free(&c->out[0]);
        result_free(&c->out[1]);
    }
    free(b.c);
    free(b.gmm.mu);
    free(b.gmm.sigma);
    free(b.gmm.logmass);
    return ident ? 0 : 1;
}
