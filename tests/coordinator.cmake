# The cluster: the coordinator's task table (unit), and whole local runs
# (system: real processes on loopback, compared with gpsc-solo).
if(TARGET gpsc_tasks)
  gpsc_add_test(test_tasks test_tasks.c LIBS gpsc_tasks TIMEOUT 30 LABELS unit)
endif()
if(TARGET gpsc-run AND TARGET gpsc-solo)
  gpsc_add_test(test_cluster test_cluster.c LIBS PkgConfig::CJSON TIMEOUT 600 LABELS system)
  add_dependencies(test_cluster gpsc-run gpsc-coordinator gpsc-learner gpsc-worker gpsc-solo)
endif()
