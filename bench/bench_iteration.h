/* bench_iteration.h — per-phase times of real learner iterations (see
 * bench_iteration.c). */
#ifndef GPSC_BENCH_ITERATION_H
#define GPSC_BENCH_ITERATION_H

/* Runs gpsc-solo (1 and 2 threads) and gpsc-run (2 workers) from `bindir`
 * on `experiment` for `iterations` iterations and prints the phases.
 * Returns the process exit status. */
int gpsc_bench_iteration(const char *experiment, int iterations, const char *bindir);

#endif
