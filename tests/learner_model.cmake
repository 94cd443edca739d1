# Unit tests of the learner's "model" numerics (learner/model.cmake):
# costs, GMM, dynamics, policy linearisation and S-step targets. Each runs
# the reference vectors of its kinds through learner/kinds_model.c.
if(TARGET gpsc_learner_model)
  gpsc_add_test(test_cost test_cost.c LIBS gpsc_learner_model TIMEOUT 60 LABELS unit)
  gpsc_add_test(test_gmm test_gmm.c LIBS gpsc_learner_model TIMEOUT 60 LABELS unit)
  gpsc_add_test(test_dynamics test_dynamics.c LIBS gpsc_learner_model TIMEOUT 60 LABELS unit)
  gpsc_add_test(test_policy_prior test_policy_prior.c LIBS gpsc_learner_model TIMEOUT 60
    LABELS unit)
endif()
