#include "rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static inline uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t *hi)
{
    uint64_t p = (uint64_t)a * b;
    *hi = (uint32_t)(p >> 32);
    return (uint32_t)p;
}

void gpsc_philox4x32_10(uint32_t out[4], const uint32_t ctr[4], const uint32_t key[2])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint32_t hi0, hi1;
        uint32_t lo0 = mulhilo(PHILOX_M0, c0, &hi0);
        uint32_t lo1 = mulhilo(PHILOX_M1, c2, &hi1);
        uint32_t n0 = hi1 ^ c1 ^ k0;
        uint32_t n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* SplitMix64 finaliser: a bijective 64-bit mixer. */
static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void gpsc_rng_init(gpsc_rng_t *r, const gpsc_rng_key_t *key)
{
    /* the Philox key mixes every field; the counter's upper half mixes them
     * again in another order, so two keys collide only if both 64-bit
     * digests do */
    uint64_t a = mix64(key->seed);
    a = mix64(a ^ key->iteration);
    a = mix64(a ^ ((uint64_t)key->condition << 32 | key->sample));
    a = mix64(a ^ key->purpose);
    uint64_t b = mix64(key->seed ^ 0x5851F42D4C957F2Dull);
    b = mix64(b ^ ((uint64_t)key->purpose << 32 | key->sample));
    b = mix64(b ^ ((uint64_t)key->iteration << 32 | key->condition));
    r->k[0] = (uint32_t)a;
    r->k[1] = (uint32_t)(a >> 32);
    r->c[0] = 0;
    r->c[1] = 0;
    r->c[2] = (uint32_t)b;
    r->c[3] = (uint32_t)(b >> 32);
    r->used = 4;
    r->have_spare = 0;
    r->spare = 0.0;
}

void gpsc_rng_init5(gpsc_rng_t *r, uint64_t seed, uint32_t iteration, uint32_t condition,
                    uint32_t sample, uint32_t purpose)
{
    gpsc_rng_key_t k = {seed, iteration, condition, sample, purpose};
    gpsc_rng_init(r, &k);
}

uint32_t gpsc_rng_u32(gpsc_rng_t *r)
{
    if (r->used == 4) {
        gpsc_philox4x32_10(r->out, r->c, r->k);
        if (++r->c[0] == 0)
            ++r->c[1];
        r->used = 0;
    }
    return r->out[r->used++];
}

uint64_t gpsc_rng_u64(gpsc_rng_t *r)
{
    uint64_t hi = gpsc_rng_u32(r);
    return hi << 32 | gpsc_rng_u32(r);
}

double gpsc_rng_uniform(gpsc_rng_t *r)
{
    return (double)(gpsc_rng_u64(r) >> 11) * 0x1.0p-53;
}

uint32_t gpsc_rng_below(gpsc_rng_t *r, uint32_t n)
{
    /* rejection: accept x < floor(2^32 / n) * n */
    uint32_t lim = (uint32_t)(-n) % n; /* 2^32 mod n */
    for (;;) {
        uint32_t x = gpsc_rng_u32(r);
        if (x >= lim)
            return x % n;
    }
}

double gpsc_rng_normal(gpsc_rng_t *r)
{
    if (r->have_spare) {
        r->have_spare = 0;
        return r->spare;
    }
    /* Box-Muller; u1 in (0, 1] so log(u1) is finite */
    double u1 = 1.0 - gpsc_rng_uniform(r);
    double u2 = gpsc_rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1));
    double th = 6.283185307179586476925 * u2;
    r->spare = rad * sin(th);
    r->have_spare = 1;
    return rad * cos(th);
}

void gpsc_rng_normals(gpsc_rng_t *r, double *x, int n)
{
    for (int i = 0; i < n; i++)
        x[i] = gpsc_rng_normal(r);
}
