# learner/ — the learner's numerics (no networking) and its service.
# model.cmake defines gpsc_learner_model (costs, GMM, dynamics, policy
# linearization, S-step targets); traj.cmake defines gpsc_learner_traj
# (LQR, forward pass, KL, C-step, Laplace cost, step size, init).
include(${CMAKE_CURRENT_LIST_DIR}/model.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/traj.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/sstep.cmake OPTIONAL)

add_executable(gpsc-numerics numerics_main.c kinds.c)
target_link_libraries(gpsc-numerics PRIVATE gpsc_core gpsc_flags)
if(TARGET gpsc_learner_model)
  target_link_libraries(gpsc-numerics PRIVATE gpsc_learner_model)
  target_compile_definitions(gpsc-numerics PRIVATE GPSC_HAVE_KINDS_MODEL)
endif()
if(TARGET gpsc_learner_traj)
  target_link_libraries(gpsc-numerics PRIVATE gpsc_learner_traj)
  target_compile_definitions(gpsc-numerics PRIVATE GPSC_HAVE_KINDS_TRAJ)
endif()
include(${CMAKE_CURRENT_LIST_DIR}/algorithm.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/service.cmake OPTIONAL)
