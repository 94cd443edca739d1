/* gpsc-bench — benchmarks that print ratios measured side by side in one
 * run. Each benchmark is its own executable (gpsc-bench-NAME). */
#include <stddef.h>

#include "common/dispatch.h"

static const gpsc_subcmd_t cmds[] = {
    {"rollout", "gpsc-bench-rollout", "full rollout path vs bare mj_step loop (rollout_ratio)"},
    {"learner", "gpsc-bench-learner", "per-phase learner times at 1 and 2 threads"},
    {"coordinator", "gpsc-bench-coordinator", "trajectories/s ingested by the coordinator"},
    {NULL, NULL, NULL}};

int main(int argc, char **argv)
{
    return gpsc_dispatch("gpsc-bench", "gpsc benchmarks.", cmds, argc, argv);
}
