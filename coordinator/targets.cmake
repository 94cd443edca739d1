# coordinator/ — the cluster: the task table, the coordinator library and
# executables (gpsc-coordinator, gpsc-run), and the control-plane client
# shared by the learner and worker services (common/peer.c lives in common/
# because two processes use it; it is defined here with the rest of the
# cluster's targets).

# gpsc_tasks: the task table (no sockets; unit-tested alone)
add_library(gpsc_tasks STATIC ${CMAKE_CURRENT_LIST_DIR}/tasks.c)
target_include_directories(gpsc_tasks PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_tasks PUBLIC gpsc_core gpsc_flags)

# gpsc_identity: a run's config hash, run id and model fingerprint (common/)
add_library(gpsc_identity STATIC ${CMAKE_SOURCE_DIR}/common/identity.c)
target_include_directories(gpsc_identity PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_identity PUBLIC gpsc_checkpoint gpsc_experiment gpsc_core gpsc_flags)

# gpsc_peer: the control-plane client of the learner and worker services (common/)
add_library(gpsc_peer STATIC ${CMAKE_SOURCE_DIR}/common/peer.c)
target_include_directories(gpsc_peer PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_peer PUBLIC gpsc_wire gpsc_log gpsc_core gpsc_flags Threads::Threads)

# gpsc_coord: the coordinator (libuv loop, sockets, iterations, run directory)
# and local mode's child processes
add_library(gpsc_coord STATIC ${CMAKE_CURRENT_LIST_DIR}/coordinator.c
  ${CMAKE_CURRENT_LIST_DIR}/local.c)
target_include_directories(gpsc_coord PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_coord PUBLIC gpsc_tasks gpsc_identity gpsc_rollout gpsc_checkpoint
  gpsc_wire gpsc_log gpsc_experiment gpsc_core PkgConfig::UV PkgConfig::CJSON gpsc_flags m)

add_executable(gpsc-coordinator ${CMAKE_CURRENT_LIST_DIR}/coord_main.c)
target_link_libraries(gpsc-coordinator PRIVATE gpsc_coord gpsc_flags)

add_executable(gpsc-run ${CMAKE_CURRENT_LIST_DIR}/run_main.c)
target_link_libraries(gpsc-run PRIVATE gpsc_coord gpsc_flags)
# gpsc run starts these two from its own directory
if(TARGET gpsc-learner AND TARGET gpsc-worker)
  add_dependencies(gpsc-run gpsc-learner gpsc-worker)
endif()
