# gpsc_eval: evaluation rollouts of a trained policy on a thread pool and
# the gpsc-eval/1 document (worker/eval.{h,c}); gpsc-eval: `gpsc eval
# RUN_DIR` (worker/eval_main.c). gpsc_identity (the run's config hash) is
# defined in coordinator/targets.cmake; names resolve at generate time.
add_library(gpsc_eval STATIC ${CMAKE_CURRENT_LIST_DIR}/eval.c)
target_include_directories(gpsc_eval PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_eval PUBLIC gpsc_rollout gpsc_env gpsc_learner_traj gpsc_experiment
  gpsc_core PkgConfig::CJSON gpsc_flags m)

add_executable(gpsc-eval ${CMAKE_CURRENT_LIST_DIR}/eval_main.c)
target_link_libraries(gpsc-eval PRIVATE gpsc_eval gpsc_checkpoint gpsc_identity gpsc_flags)
