# gpsc_learner_sstep: the S-step — minibatch Adam training of the global
# policy network (common/mlp.h) on the local policies' targets, and the
# closed-form policy variance (learner/sstep.h).
add_library(gpsc_learner_sstep STATIC ${CMAKE_CURRENT_LIST_DIR}/sstep.c)
target_include_directories(gpsc_learner_sstep PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_learner_sstep PUBLIC gpsc_policy gpsc_learner_model gpsc_core gpsc_flags)
# -fopenmp-simd: honour `omp simd` on elementwise loops (no OpenMP runtime);
# -fno-math-errno: sqrt need not set errno, so clang can vectorise the Adam
# update (values are unchanged: sqrt is correctly rounded either way)
target_compile_options(gpsc_learner_sstep PRIVATE -fopenmp-simd -fno-math-errno)
# clang reports an `omp simd` loop it chose not to vectorise (e.g. under
# ASan instrumentation) as a warning; that is an optimisation note, not a
# defect, so it must not fail -Werror builds
if(CMAKE_C_COMPILER_ID MATCHES "Clang")
  target_compile_options(gpsc_learner_sstep PRIVATE -Wno-pass-failed)
endif()
