# gpsc-bench-coordinator: trajectories/s a real gpsc-coordinator ingests from
# synthetic workers with a learner sink, and its CPU per trajectory
if(TARGET gpsc-coordinator AND TARGET gpsc_peer AND TARGET gpsc_rollout)
  add_executable(gpsc-bench-coordinator ${CMAKE_CURRENT_LIST_DIR}/bench_coordinator.c)
  target_link_libraries(gpsc-bench-coordinator PRIVATE gpsc_peer gpsc_identity gpsc_rollout
    gpsc_wire gpsc_flags)
  target_compile_definitions(gpsc-bench-coordinator PRIVATE GPSC_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
  # it starts the coordinator from its own directory
  add_dependencies(gpsc-bench-coordinator gpsc-coordinator)
endif()
