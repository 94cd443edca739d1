/* dispatch.h — git-style front ends: `gpsc run ...` executes `gpsc-run ...`
 * from the directory of the running executable. */
#ifndef GPSC_DISPATCH_H
#define GPSC_DISPATCH_H

typedef struct gpsc_subcmd {
    const char *name;    /* "run" */
    const char *program; /* "gpsc-run" */
    const char *summary; /* one line for --help */
} gpsc_subcmd_t;

/* Runs the subcommand named argv[1] from `cmds` (ended by a NULL name) by
 * exec'ing its program with argv[2..]. Handles --help/-h/help and
 * --version. Returns only on failure, with the exit status to use. */
int gpsc_dispatch(const char *tool, const char *blurb, const gpsc_subcmd_t *cmds, int argc,
                  char **argv);

#endif
