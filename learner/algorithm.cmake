# gpsc_checkpoint: checkpoint messages and files (common/checkpoint.{h,c});
# gpsc_learner_alg: the algorithm layer (learner/algorithm.{h,c}: trajopt,
# MDGPS and GPS 2014 iterations over the numerics; learner/gps2014.{h,c}:
# GPS 2014's trajectory and dual steps); gpsc-solo: a whole experiment in
# one process (learner/solo.c), the reference the cluster is compared with.
if(NOT TARGET gpsc_learner_sstep)
  include(${CMAKE_CURRENT_LIST_DIR}/sstep.cmake)
endif()

add_library(gpsc_checkpoint STATIC ${CMAKE_SOURCE_DIR}/common/checkpoint.c)
target_include_directories(gpsc_checkpoint PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_checkpoint PUBLIC gpsc_wire gpsc_policy gpsc_core gpsc_flags m)

add_library(gpsc_learner_alg STATIC ${CMAKE_CURRENT_LIST_DIR}/algorithm.c
  ${CMAKE_CURRENT_LIST_DIR}/gps2014.c)
target_include_directories(gpsc_learner_alg PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_learner_alg PUBLIC gpsc_learner_sstep gpsc_learner_traj
  gpsc_learner_model gpsc_checkpoint gpsc_experiment gpsc_policy gpsc_core PkgConfig::CJSON
  gpsc_flags m)

# gpsc_rollout (worker/) is defined later in the tree; names resolve at generate time
add_executable(gpsc-solo ${CMAKE_CURRENT_LIST_DIR}/solo.c)
target_link_libraries(gpsc-solo PRIVATE gpsc_learner_alg gpsc_rollout gpsc_checkpoint
  PkgConfig::CJSON gpsc_flags)
