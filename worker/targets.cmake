# gpsc_env: the MuJoCo side of a task (model, conditions, state assembly)
add_library(gpsc_env STATIC ${CMAKE_CURRENT_LIST_DIR}/env.c)
target_include_directories(gpsc_env PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_env PUBLIC gpsc_experiment gpsc_core mujoco::mujoco gpsc_flags m)

# gpsc_rollout: rollouts under local/global policies, task costs, initial
# controllers (through the learner's init_lqr/init_pd), wire messages
add_library(gpsc_rollout STATIC
  ${CMAKE_CURRENT_LIST_DIR}/rollout.c
  ${CMAKE_CURRENT_LIST_DIR}/taskcost.c
  ${CMAKE_CURRENT_LIST_DIR}/initctl.c
  ${CMAKE_CURRENT_LIST_DIR}/msgs.c)
target_include_directories(gpsc_rollout PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_rollout PUBLIC gpsc_env gpsc_policy gpsc_experiment
  gpsc_learner_traj gpsc_wire gpsc_core gpsc_flags m)

add_executable(gpsc-rollout ${CMAKE_CURRENT_LIST_DIR}/rollout_main.c)
target_link_libraries(gpsc-rollout PRIVATE gpsc_rollout gpsc_flags)
include(${CMAKE_CURRENT_LIST_DIR}/service.cmake OPTIONAL)
include(${CMAKE_CURRENT_LIST_DIR}/eval.cmake OPTIONAL)
