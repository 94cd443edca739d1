# worker/ and the shared policy code: experiment files, the MuJoCo
# environment, policies and noise, rollouts (and the gpsc-rollout tool).
gpsc_add_test(test_experiment test_experiment.c LIBS gpsc_env gpsc_experiment TIMEOUT 60)
gpsc_add_test(test_policy test_policy.c LIBS gpsc_policy TIMEOUT 60)
gpsc_add_test(test_env test_env.c LIBS gpsc_rollout TIMEOUT 60)
gpsc_add_test(test_rollout test_rollout.c LIBS gpsc_rollout TIMEOUT 120)
# test_rollout runs build/bin/gpsc-rollout as separate processes
add_dependencies(test_rollout gpsc-rollout)
