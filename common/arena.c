#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 64

struct gpsc_arena {
    unsigned char *base; /* ALIGN-aligned block of `cap` bytes */
    size_t cap;          /* bytes */
    size_t used;         /* bytes currently allocated */
    size_t peak;         /* high-water mark of `used` */
    size_t failures;     /* allocations refused for lack of space */
};

size_t gpsc_arena_need(size_t bytes)
{
    return (bytes + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

gpsc_arena_t *gpsc_arena_new(size_t capacity)
{
    gpsc_arena_t *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->cap = gpsc_arena_need(capacity);
    if (a->cap > 0) {
        a->base = aligned_alloc(ALIGN, a->cap);
        if (!a->base) {
            free(a);
            return NULL;
        }
    }
    return a;
}

void gpsc_arena_destroy(gpsc_arena_t **p)
{
    if (!p || !*p)
        return;
    free((*p)->base);
    free(*p);
    *p = NULL;
}

void *gpsc_arena_alloc(gpsc_arena_t *a, size_t bytes)
{
    size_t need = gpsc_arena_need(bytes ? bytes : 1);
    if (need > a->cap - a->used) {
        a->failures++;
        return NULL;
    }
    void *p = a->base + a->used;
    a->used += need;
    if (a->used > a->peak)
        a->peak = a->used;
    return p;
}

double *gpsc_arena_zeros(gpsc_arena_t *a, size_t n)
{
    double *p = gpsc_arena_alloc(a, n * sizeof(double));
    if (p)
        memset(p, 0, n * sizeof(double));
    return p;
}

size_t gpsc_arena_mark(const gpsc_arena_t *a)
{
    return a->used;
}

void gpsc_arena_free_to(gpsc_arena_t *a, size_t mark)
{
    if (mark <= a->used)
        a->used = mark;
}

void gpsc_arena_reset(gpsc_arena_t *a)
{
    a->used = 0;
}

size_t gpsc_arena_used(const gpsc_arena_t *a)
{
    return a->used;
}
size_t gpsc_arena_peak(const gpsc_arena_t *a)
{
    return a->peak;
}
size_t gpsc_arena_capacity(const gpsc_arena_t *a)
{
    return a->cap;
}
size_t gpsc_arena_failures(const gpsc_arena_t *a)
{
    return a->failures;
}
