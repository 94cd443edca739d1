# gpsc-bench-rollout: bare mj_step loop vs the full rollout path (rollout_ratio)
add_executable(gpsc-bench-rollout ${CMAKE_CURRENT_LIST_DIR}/bench_rollout.c)
target_link_libraries(gpsc-bench-rollout PRIVATE gpsc_rollout gpsc_flags)
