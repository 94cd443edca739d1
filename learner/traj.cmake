# gpsc_learner_traj: the trajectory half of the learner's numerics — LQR
# backward pass, forward pass / KL / Laplace cost, C-step, step size,
# initial controllers, the per-condition thread pool, and the
# gpsc-numerics glue for their reference vectors (kinds_traj.c).
add_library(gpsc_learner_traj STATIC
  ${CMAKE_CURRENT_LIST_DIR}/lqr.c
  ${CMAKE_CURRENT_LIST_DIR}/traj.c
  ${CMAKE_CURRENT_LIST_DIR}/cstep.c
  ${CMAKE_CURRENT_LIST_DIR}/stepsize.c
  ${CMAKE_CURRENT_LIST_DIR}/init.c
  ${CMAKE_CURRENT_LIST_DIR}/pool.c
  ${CMAKE_CURRENT_LIST_DIR}/kinds_traj.c)
target_include_directories(gpsc_learner_traj PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_learner_traj PUBLIC gpsc_core gpsc_flags Threads::Threads)
