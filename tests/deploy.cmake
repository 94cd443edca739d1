# deploy/: CURVE keys of the cluster roles (unit), and system tests of the
# cluster deployments: CURVE end to end, a private Slurm cluster running
# deploy/slurm/gpsc.sbatch, the docker-compose file (validated, and its
# topology run in network namespaces). Tests that need root print
# "SKIP: why" and pass only when the host forbids daemons or namespaces.
gpsc_add_test(test_keys ${CMAKE_CURRENT_LIST_DIR}/test_keys.c LIBS gpsc_keys TIMEOUT 60)
add_dependencies(test_keys gpsc-keygen)

# gpsc_add_script_test(NAME SCRIPT TIMEOUT [ARGS...]): a bash script, label "system"
function(gpsc_add_script_test name script timeout)
  add_test(NAME ${name} COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${script} ${ARGN})
  set_tests_properties(${name} PROPERTIES TIMEOUT ${timeout} LABELS system
    ENVIRONMENT "GPSC_BIN_DIR=${CMAKE_BINARY_DIR}/bin;GPSC_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
endfunction()

# the harnesses alone
gpsc_add_script_test(test_slurm_harness slurm/smoke.sh 180)
gpsc_add_script_test(test_netns_harness netns/smoke.sh 120)
# CURVE: right key joins; unknown key, no key, wrong server key refused and
# logged; the run equals a local one
gpsc_add_script_test(test_curve curve/curve.sh 120)
# docker-compose config validates; the compose topology in namespaces
gpsc_add_script_test(test_compose_config docker/compose_config.sh 300)
gpsc_add_script_test(test_compose_topology netns/topology.sh 300)
# sbatch on a real Slurm: 3 srun workers, a killed worker, a requeue
gpsc_add_script_test(test_slurm slurm/gpsc_slurm.sh 600)
# one private Slurm cluster at a time (daemons, ports)
set_tests_properties(test_slurm_harness test_slurm PROPERTIES RESOURCE_LOCK gpsc_slurm)
