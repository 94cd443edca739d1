# gpsc-bench-learner: per-phase learner times (cost, GMM prior, dynamics fit,
# C-step) at the peg7 size, 1 thread vs N threads side by side
add_executable(gpsc-bench-learner ${CMAKE_CURRENT_LIST_DIR}/bench_learner.c
  ${CMAKE_CURRENT_LIST_DIR}/bench_iteration.c)
target_link_libraries(gpsc-bench-learner PRIVATE gpsc_learner_model gpsc_learner_traj PkgConfig::CJSON gpsc_flags m)
# --experiment runs these siblings
foreach(t gpsc-solo gpsc-run)
  if(TARGET ${t})
    add_dependencies(gpsc-bench-learner ${t})
  endif()
endforeach()
