# The cluster: the coordinator's task table (unit), and whole local runs
# (system: real processes on loopback, compared with gpsc-solo).
if(TARGET gpsc_tasks)
  gpsc_add_test(test_tasks test_tasks.c LIBS gpsc_tasks TIMEOUT 30 LABELS unit)
endif()
if(TARGET gpsc-run AND TARGET gpsc-solo)
  gpsc_add_test(test_cluster test_cluster.c cluster_util.c LIBS PkgConfig::CJSON TIMEOUT 600 LABELS system)
  add_dependencies(test_cluster gpsc-run gpsc-coordinator gpsc-learner gpsc-worker gpsc-solo)
endif()
# Faults, bad input and the peg7 acceptance run (system: real processes on
# loopback; helpers shared in cluster_util.c).
if(TARGET gpsc-run AND TARGET gpsc-solo)
  gpsc_add_test(test_fault test_fault.c cluster_util.c LIBS PkgConfig::CJSON TIMEOUT 600
    LABELS system)
  add_dependencies(test_fault gpsc-run gpsc-learner gpsc-worker gpsc-solo)
endif()
if(TARGET gpsc-run AND TARGET gpsc-solo AND TARGET gpsc_rollout)
  gpsc_add_test(test_badinput test_badinput.c cluster_util.c
    LIBS gpsc_rollout gpsc_identity gpsc_wire PkgConfig::CJSON TIMEOUT 600 LABELS system)
  add_dependencies(test_badinput gpsc-run gpsc-learner gpsc-worker gpsc-solo)
endif()
if(TARGET gpsc-run)
  gpsc_add_test(test_peg7 test_peg7.c cluster_util.c LIBS PkgConfig::CJSON m TIMEOUT 600
    LABELS system)
  add_dependencies(test_peg7 gpsc-run gpsc-learner gpsc-worker)
endif()
