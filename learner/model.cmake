# gpsc_learner_model: the learner's "model" numerics — cost expansions,
# GMM (EM and NIW prior), dynamics fit, policy linearisation and S-step
# targets — plus their gpsc-numerics kinds (kinds_model.c).
add_library(gpsc_learner_model STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cost.c
  ${CMAKE_CURRENT_LIST_DIR}/gmm.c
  ${CMAKE_CURRENT_LIST_DIR}/dynamics.c
  ${CMAKE_CURRENT_LIST_DIR}/policy_prior.c
  ${CMAKE_CURRENT_LIST_DIR}/kinds_model.c)
target_include_directories(gpsc_learner_model PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(gpsc_learner_model PUBLIC gpsc_core gpsc_flags)
