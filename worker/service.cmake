# gpsc-worker: the worker role (worker/service.c) — rollouts for a
# coordinator. gpsc_peer and gpsc_identity are defined in
# coordinator/targets.cmake.
add_executable(gpsc-worker ${CMAKE_CURRENT_LIST_DIR}/service.c)
target_link_libraries(gpsc-worker PRIVATE gpsc_rollout gpsc_peer gpsc_identity gpsc_log gpsc_flags
  Threads::Threads)
