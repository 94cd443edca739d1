/* gpsc — the one front end users see. Each command is a separate
 * executable in the same directory (gpsc-run, gpsc-worker, ...), so a
 * cluster node can run one role without the others' dependencies. */
#include <stddef.h>

#include "common/dispatch.h"

static const gpsc_subcmd_t cmds[] = {
    {"run", "gpsc-run", "run an experiment locally (coordinator + learner + workers)"},
    {"coordinator", "gpsc-coordinator", "run the coordinator role (clusters)"},
    {"learner", "gpsc-learner", "run the learner role (clusters)"},
    {"worker", "gpsc-worker", "run a worker role (clusters)"},
    {"watch", "gpsc-watch", "follow the live log stream of a run"},
    {"report", "gpsc-report", "write the HTML report of a run directory"},
    {"eval", "gpsc-eval", "roll out a trained policy on test conditions"},
    {"solo", "gpsc-solo", "run an experiment in one process (the determinism reference)"},
    {"rollout", "gpsc-rollout", "run one rollout of a task (debugging)"},
    {"numerics", "gpsc-numerics", "check the learner's kernels against reference vectors"},
    {"keygen", "gpsc-keygen", "write a CURVE key pair"},
    {"bench", "gpsc-bench", "benchmarks (rollout, learner, coordinator)"},
    {NULL, NULL, NULL}};

int main(int argc, char **argv)
{
    return gpsc_dispatch("gpsc",
                         "gpsc — guided policy search (MDGPS) as a cluster: MuJoCo workers, a "
                         "learner, a coordinator.",
                         cmds, argc, argv);
}
