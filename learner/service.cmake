# gpsc-learner: the learner role (learner/service.c) — the algorithm driven
# by a coordinator over the wire. gpsc_peer and gpsc_identity are defined in
# coordinator/targets.cmake, gpsc_rollout in worker/ (initial controllers,
# policy messages); names resolve at generate time.
add_executable(gpsc-learner ${CMAKE_CURRENT_LIST_DIR}/service.c)
target_link_libraries(gpsc-learner PRIVATE gpsc_learner_alg gpsc_rollout gpsc_peer gpsc_identity
  gpsc_checkpoint gpsc_log gpsc_flags Threads::Threads)
