/* rng.h — keyed, counter-based random numbers (Philox4x32-10).
 *
 * A stream is a pure function of its key: the same key gives the same
 * numbers on every machine and in every process, whatever the order in
 * which streams are created. gpsc keys every draw by where it is used:
 * (run seed, iteration, condition, sample index, purpose). Never key by
 * worker id, arrival order or wall clock.
 *
 * Philox4x32-10 is the generator of Salmon et al., "Parallel random numbers:
 * as easy as 1, 2, 3" (SC'11). The 64-bit Philox key and the upper 64 bits
 * of the 128-bit counter are derived from the gpsc key by SplitMix64
 * mixing; the lower 64 bits count blocks of four 32-bit outputs.
 *
 * Gaussian draws use Box-Muller on two 53-bit uniforms; the libm functions
 * it calls (log, sqrt, cos, sin) are correctly rounded enough in glibc that
 * machines with the same glibc agree bit for bit. */
#ifndef GPSC_RNG_H
#define GPSC_RNG_H

#include <stdint.h>

/* What a draw is for: part of every key. */
typedef enum gpsc_rng_purpose {
    GPSC_RNG_ROLLOUT_NOISE = 1, /* exploration noise of a rollout */
    GPSC_RNG_X0_NOISE = 2,      /* per-sample initial-state noise */
    GPSC_RNG_GMM_INIT = 3,      /* random cluster labels of a GMM */
    GPSC_RNG_NET_INIT = 4,      /* network weight initialisation */
    GPSC_RNG_MINIBATCH = 5,     /* S-step minibatch order */
    GPSC_RNG_TEST = 99          /* tests */
} gpsc_rng_purpose_t;

typedef struct gpsc_rng_key {
    uint64_t seed;      /* run seed */
    uint32_t iteration; /* iteration index */
    uint32_t condition; /* condition index */
    uint32_t sample;    /* sample index within (iteration, condition) */
    uint32_t purpose;   /* a gpsc_rng_purpose_t */
} gpsc_rng_key_t;

/* Plain data: copy it to fork a stream at its current position. */
typedef struct gpsc_rng {
    uint32_t k[2];     /* Philox key */
    uint32_t c[4];     /* counter: c[0..1] block index, c[2..3] from the key */
    uint32_t out[4];   /* current block of outputs */
    int used;          /* outputs of `out` consumed (4 = need a new block) */
    int have_spare;    /* Box-Muller produced a second normal */
    double spare;      /* that normal */
} gpsc_rng_t;

/* Starts the stream for `key` at position 0. */
void gpsc_rng_init(gpsc_rng_t *r, const gpsc_rng_key_t *key);

/* Convenience: gpsc_rng_init with the key's fields spelled out. */
void gpsc_rng_init5(gpsc_rng_t *r, uint64_t seed, uint32_t iteration, uint32_t condition,
                    uint32_t sample, uint32_t purpose);

uint32_t gpsc_rng_u32(gpsc_rng_t *r);
uint64_t gpsc_rng_u64(gpsc_rng_t *r);

/* Uniform in [0, 1) with 53 random bits. */
double gpsc_rng_uniform(gpsc_rng_t *r);

/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint32_t gpsc_rng_below(gpsc_rng_t *r, uint32_t n);

/* Standard normal. */
double gpsc_rng_normal(gpsc_rng_t *r);

/* n standard normals into x. */
void gpsc_rng_normals(gpsc_rng_t *r, double *x, int n);

/* The raw Philox4x32-10 block function, exposed for known-answer tests. */
void gpsc_philox4x32_10(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2]);

#endif
