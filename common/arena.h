/* arena.h — bump allocator with mark/free and peak-use tracking.
 *
 * Numeric kernels never allocate: a caller sizes one arena per problem size,
 * takes a mark before a kernel's scratch, and frees back to the mark after.
 * Allocations are 64-byte aligned (cache line, and enough for any SIMD).
 * Not thread-safe: one arena per thread. */
#ifndef GPSC_ARENA_H
#define GPSC_ARENA_H

#include <stddef.h>

typedef struct gpsc_arena gpsc_arena_t;

/* New arena able to hold `capacity` bytes (plus alignment padding).
 * Returns NULL when out of memory. */
gpsc_arena_t *gpsc_arena_new(size_t capacity);

/* Frees the arena and everything in it; accepts NULL; sets *p to NULL. */
void gpsc_arena_destroy(gpsc_arena_t **p);

/* `bytes` of uninitialised, 64-byte aligned memory, or NULL when the arena
 * is exhausted (the arena counts the failure; see gpsc_arena_failures). */
void *gpsc_arena_alloc(gpsc_arena_t *a, size_t bytes);

/* `n` doubles set to zero, or NULL when exhausted. */
double *gpsc_arena_zeros(gpsc_arena_t *a, size_t n);

/* The current fill level; pass it to gpsc_arena_free_to() to release
 * everything allocated after it. */
size_t gpsc_arena_mark(const gpsc_arena_t *a);
void gpsc_arena_free_to(gpsc_arena_t *a, size_t mark);

/* Releases everything (mark 0). Peak is kept. */
void gpsc_arena_reset(gpsc_arena_t *a);

size_t gpsc_arena_used(const gpsc_arena_t *a);     /* bytes in use now */
size_t gpsc_arena_peak(const gpsc_arena_t *a);     /* most bytes ever in use */
size_t gpsc_arena_capacity(const gpsc_arena_t *a); /* bytes available */
size_t gpsc_arena_failures(const gpsc_arena_t *a); /* allocations refused */

/* Bytes that gpsc_arena_alloc(bytes) consumes, padding included: use it to
 * size an arena ahead of time. */
size_t gpsc_arena_need(size_t bytes);

#endif
